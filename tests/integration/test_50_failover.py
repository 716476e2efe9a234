# SPDX-License-Identifier: MIT
"""Failover between a channel's sources (issue 5, in part): the primary UDP
feed stops, the backup takes over within 1.5 s of its last packet with the
viewers still connected and decoding; when the primary is back and stays
healthy, the channel returns to it. An HTTP source that answers an error or
sends garbage gives way too."""

import socket
import threading
import time

import pytest

from harness import StreamClient, TsChecker, ffmpeg_decode, ffmpeg_feeder, free_port, wait_until


def events(srv, after=0):
    return srv.api("GET", f"/api/v1/events?channel=tv&after={after}").json()["events"]


def test_udp_failover_and_return(server, media, procs):
    pa, pb = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    feed_a = ffmpeg_feeder(procs, media["demo"], "127.0.0.1", pa)
    ffmpeg_feeder(procs, media["demo"], "127.0.0.1", pb)
    srv = server()
    srv.add_channel("tv", f"udp://127.0.0.1:{pa}", f"udp://127.0.0.1:{pb}", extra=("--failback-s", "3"))
    wait_until(lambda: (srv.channel("tv") or {}).get("state") == "up", 15, what="tv up")
    assert srv.channel("tv")["source"] == f"udp://127.0.0.1:{pa}"
    ts = StreamClient(srv.url("/live/tv.ts"))
    ts.read_exact(188 * 1000)
    decoded = {}
    th = threading.Thread(target=lambda: decoded.setdefault("r", ffmpeg_decode(srv.url("/live/tv.ts"), 12)))
    th.start()
    time.sleep(3)
    last = events(srv)[0]["id"]
    procs.stop(feed_a)
    t_stop = time.monotonic()
    ev = wait_until(lambda: [e for e in events(srv, last) if e["kind"] == "failover"], 5, interval=0.05,
                    what="a failover event")[0]
    took = time.monotonic() - t_stop
    print(f"failover: {took:.3f} s after the primary's last packet: {ev['message']}")
    assert took <= 1.5, f"the backup took over {took:.3f} s after the primary stopped"
    assert str(pb) in ev["message"], ev
    # the viewer stays and keeps getting the stream: one stream, continuity
    # counters going on across the switch, the new timeline flagged
    checker = TsChecker()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3:
        checker.feed(ts.recv(65536))
    assert checker.bytes > 500_000, f"the HTTP-TS viewer got only {checker.bytes} bytes in the 3 s after the switch"
    assert checker.cc_error_count == 0 and not checker.sync_errors, checker.summary()
    assert checker.discontinuities >= 1, f"no discontinuity indicator at the switch: {checker.summary()}"
    th.join(60)
    r = decoded["r"]
    assert r.returncode == 0, f"ffmpeg decoding across the switch: {r.stderr[-2000:]}"
    assert srv.channel("tv")["source"] == f"udp://127.0.0.1:{pb}"
    # the primary comes back; after 3 healthy seconds the channel returns to it
    last = events(srv)[0]["id"]
    ffmpeg_feeder(procs, media["demo"], "127.0.0.1", pa)
    back = wait_until(lambda: [e for e in events(srv, last) if e["kind"] == "failback"], 15, interval=0.2,
                      what="a return to the first source")[0]
    assert str(pa) in back["message"], back
    wait_until(lambda: srv.channel("tv")["state"] == "up" and srv.channel("tv")["source"] == f"udp://127.0.0.1:{pa}",
               5, what="tv up on the primary again")
    assert srv.channel("tv")["stats"]["source_switches"] == 2
    ts.read_exact(188 * 1000)
    ts.close()


@pytest.mark.parametrize("mode", ["404", "html"])
def test_http_error_or_garbage_gives_way(server, media, procs, http_source, mode):
    """An HTTP source that answers an error, or sends bytes that are not TS."""
    pb = free_port(socket.SOCK_DGRAM)
    ffmpeg_feeder(procs, media["demo"], "127.0.0.1", pb)
    bad = http_source(mode=mode)
    srv = server()
    t0 = time.monotonic()
    srv.add_channel("tv", bad.url(), f"udp://127.0.0.1:{pb}")
    ev = wait_until(lambda: [e for e in events(srv) if e["kind"] == "failover"], 5, interval=0.05,
                    what="a failover event")[0]
    assert str(pb) in ev["message"], ev
    wait_until(lambda: srv.channel("tv")["state"] == "up", 10, what="tv up on the backup")
    print(f"{mode}: on the backup {time.monotonic() - t0:.3f} s after the channel was added: {ev['message']}")
