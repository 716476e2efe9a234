# SPDX-License-Identifier: MIT
"""Failover between a channel's sources (issue 5): the primary UDP feed
stops, the backup takes over within 1.5 s of its last packet with the HTTP-TS
and HLS viewers still connected and decoding; when the primary is back and
stays healthy, the channel returns to it. The same when the primary turns
unfit (garbage, scrambled, continuity errors, no PCR) or is an HTTP origin
that starts answering 500. An HTTP source that answers an error or sends a web
page gives way at once; the slate plays while every source is down."""

import os
import socket
import threading
import time

import pytest

from harness import TS_PACKET, StreamClient, TsChecker, UdpFeeder, ffmpeg_decode, ffmpeg_feeder, free_port, wait_until
from hls_harness import PlaylistRules, PlaylistWatch


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
    hls = PlaylistWatch(srv.url("/live/tv/index.m3u8"), PlaylistRules("tv", independent=False), duration=14)
    hls.start()
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
    # the HLS viewer reloaded the playlist all along: the new source's
    # segments follow an EXT-X-DISCONTINUITY
    hls.join(30)
    assert not hls.problems and not hls.errors, (hls.problems + hls.errors)[:5]
    assert hls.discontinuity_msns, "no EXT-X-DISCONTINUITY at the switch"
    assert max(hls.segment_infos) > min(hls.discontinuity_msns), "no HLS segment from the backup"
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


def switch_events(srv, after):
    return [e for e in events(srv, after) if e["kind"] in ("failover", "failback")]


class Drain(threading.Thread):
    """Reads a viewer's stream all along into `checker` (which the test may
    swap for a new one)."""

    def __init__(self, client):
        super().__init__(daemon=True)
        self.client, self.checker, self.stop = client, TsChecker(), threading.Event()
        self.start()

    def run(self):
        while not self.stop.is_set():
            data = self.client.recv(65536)
            self.checker.feed(data)   # (the checker in place when they arrived)

    def finish(self):
        self.stop.set()
        self.join(5)


def test_unfit_source_gives_way(server, media):
    """Packets keep coming but the primary is unfit: garbage, scrambled, no
    PCR, a continuity error every 10 packets. Each time the backup takes over
    within 1.5 s, the HTTP-TS viewer goes on with continuous counters (but
    for the packets the primary itself lost), and the repaired primary gets
    the channel back."""
    pa, pb = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    primary = UdpFeeder(media["short"], pa)
    backup = UdpFeeder(media["short"], pb)
    try:
        srv = server()
        srv.add_channel("tv", f"udp://127.0.0.1:{pa}", f"udp://127.0.0.1:{pb}", extra=("--failback-s", "1"))
        wait_until(lambda: (srv.channel("tv") or {}).get("state") == "up", 15, what="tv up")
        ts = StreamClient(srv.url("/live/tv.ts"))
        ts.read_exact(188 * 500)
        drain = Drain(ts)
        checkers = [drain.checker]
        reasons = {"garbage": "no TS packets", "scrambled": "scrambled", "nopcr": "no PCR",
                   "cc": "continuity errors"}
        for mode, reason in reasons.items():
            last = events(srv)[0]["id"]
            if mode == "cc":
                drain.checker = TsChecker()   # what the primary loses reaches the viewer until the switch
            primary.mode = mode
            t0 = time.monotonic()
            ev = wait_until(lambda: switch_events(srv, last), 4, interval=0.05, what=f"a failover ({mode})")[0]
            took = time.monotonic() - t0
            print(f"{mode}: switched after {took:.3f} s: {ev['message']}")
            assert ev["kind"] == "failover" and reason in ev["message"] and str(pb) in ev["message"], ev
            assert took <= 1.5, f"{mode}: the backup took over {took:.3f} s after the primary turned bad"
            if mode == "cc":
                time.sleep(0.3)
                drain.checker = TsChecker()
                checkers.append(drain.checker)
            primary.mode = "good"
            back = wait_until(lambda: switch_events(srv, ev["id"]), 8, interval=0.1, what=f"failback after {mode}")
            assert back[0]["kind"] == "failback" and str(pa) in back[0]["message"], back
        time.sleep(1)
        drain.finish()
        for c in checkers:
            assert c.bytes > 100_000 and c.cc_error_count == 0 and not c.sync_errors, c.summary()
        assert checkers[0].discontinuities >= 6 and checkers[1].discontinuities >= 1, \
            [c.summary() for c in checkers]
        assert srv.channel("tv")["stats"]["source_switches"] == 8
    finally:
        primary.stop()
        backup.stop()


class LookalikeGarbage(UdpFeeder):
    """Mode "garbage" with, in every 10th datagram, four sync bytes 188 bytes
    apart: enough for the aligner to lock on now and then (random bytes do
    that about once a minute), not for TS sync (TR 101 290: five in a row)."""

    def __init__(self, *args, **kwargs):
        self.garbage_datagrams = 0
        super().__init__(*args, **kwargs)

    def _garbage(self, size):
        data = bytearray(os.urandom(size).replace(b"\x47", b"\x48"))
        self.garbage_datagrams += 1
        if self.garbage_datagrams % 10 == 0:
            for k in range(4):
                data[100 + k * TS_PACKET] = 0x47
        return bytes(data)


def test_garbage_that_locks_now_and_then_is_no_ts(server, media):
    """A few packets' worth of garbage that passes for TS does not make a
    source that sends garbage live again: it gives way for want of TS packets,
    as garbage without them does, and as fast."""
    pa, pb = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    primary = LookalikeGarbage(media["short"], pa)
    backup = UdpFeeder(media["short"], pb)
    try:
        srv = server()
        srv.add_channel("tv", f"udp://127.0.0.1:{pa}", f"udp://127.0.0.1:{pb}")
        wait_until(lambda: (srv.channel("tv") or {}).get("state") == "up", 15, what="tv up")
        last = events(srv)[0]["id"]
        primary.mode = "garbage"
        t0 = time.monotonic()
        ev = wait_until(lambda: switch_events(srv, last), 4, interval=0.05, what="a failover")[0]
        took = time.monotonic() - t0
        print(f"switched after {took:.3f} s: {ev['message']}")
        assert ev["kind"] == "failover" and "no TS packets" in ev["message"] and str(pb) in ev["message"], ev
        assert took <= 1.5, took
    finally:
        primary.stop()
        backup.stop()


class AdaptationOnlyTail(UdpFeeder):
    """Each datagram ends with an adaptation-only packet on PID 256 whose
    continuity counter is 5 ahead: a packet without payload does not advance
    the counter (13818-1 2.4.3.3), and what it carries there does not count."""

    def _next(self, i):
        pkt = super()._next(i)
        if i % 7 == 6:
            cc = (self._cc.get(0x100, 0) + 5) & 0x0F
            pkt += bytes([0x47, 0x01, 0x00, 0x20 | cc, 183, 0x00]) + b"\xff" * 182
        return pkt


def test_counters_go_on_after_an_adaptation_only_packet(server, media):
    """The backup's last packet of the video PID before the failback has no
    payload: the primary's counters go on from the last packet with one."""
    pa, pb = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    primary = UdpFeeder(media["short"], pa)
    backup = AdaptationOnlyTail(media["short"], pb)
    try:
        srv = server()
        srv.add_channel("tv", f"udp://127.0.0.1:{pa}", f"udp://127.0.0.1:{pb}", extra=("--failback-s", "1"))
        wait_until(lambda: (srv.channel("tv") or {}).get("state") == "up", 15, what="tv up")
        ts = StreamClient(srv.url("/live/tv.ts"))
        ts.read_exact(188 * 500)
        drain = Drain(ts)
        last = events(srv)[0]["id"]
        primary.mode = "silent"
        ev = wait_until(lambda: switch_events(srv, last), 4, interval=0.05, what="a failover")[0]
        assert ev["kind"] == "failover", ev
        time.sleep(0.5)
        primary.mode = "good"
        back = wait_until(lambda: switch_events(srv, ev["id"]), 8, interval=0.1, what="a failback")[0]
        assert back["kind"] == "failback", back
        time.sleep(1)
        drain.finish()
        c = drain.checker
        assert c.bytes > 100_000 and c.cc_error_count == 0 and not c.sync_errors, c.summary()
        assert c.discontinuities >= 2, c.summary()
    finally:
        primary.stop()
        backup.stop()


def test_http_500_mid_stream_and_back(server, media, http_source):
    """The primary is an HTTP origin that drops the stream and answers 500:
    the backup takes over at once; once the origin serves again, the
    channel returns to it."""
    pb = free_port(socket.SOCK_DGRAM)
    backup = UdpFeeder(media["short"], pb)
    origin = http_source(mode="ts", media=media["demo"])
    try:
        srv = server()
        srv.add_channel("tv", origin.url(), f"udp://127.0.0.1:{pb}", extra=("--failback-s", "2"))
        wait_until(lambda: (srv.channel("tv") or {}).get("state") == "up", 15, what="tv up")
        ts = StreamClient(srv.url("/live/tv.ts"))
        ts.read_exact(188 * 500)
        last = events(srv)[0]["id"]
        origin.mode = "500"
        origin.drop_connections()
        t0 = time.monotonic()
        ev = wait_until(lambda: switch_events(srv, last), 5, interval=0.05, what="a failover")[0]
        took = time.monotonic() - t0
        print(f"500: switched after {took:.3f} s: {ev['message']}")
        assert ev["kind"] == "failover" and str(pb) in ev["message"], ev
        assert took <= 1.5, took
        checker = TsChecker()
        t_end = time.monotonic() + 2
        while time.monotonic() < t_end:
            checker.feed(ts.recv(65536))
        assert checker.bytes > 200_000 and checker.cc_error_count == 0, checker.summary()
        origin.mode = "ts"
        back = wait_until(lambda: switch_events(srv, ev["id"]), 10, interval=0.1, what="a failback")[0]
        assert back["kind"] == "failback" and origin.url() in back["message"], back
        wait_until(lambda: srv.channel("tv")["state"] == "up", 5, what="up on the origin")
        ts.read_exact(188 * 1000)
    finally:
        backup.stop()


def test_slate_while_every_source_is_down(server, media):
    """The only source stops: the slate plays (viewers stay, the stream goes
    on); the source returns and takes over again within about a second."""
    pa = free_port(socket.SOCK_DGRAM)
    feeder = UdpFeeder(media["short"], pa)
    try:
        srv = server()
        srv.add_channel("tv", f"udp://127.0.0.1:{pa}", extra=("--slate", f"file://{media['radio']}"))
        wait_until(lambda: (srv.channel("tv") or {}).get("state") == "up", 15, what="tv up")
        ts = StreamClient(srv.url("/live/tv.ts"))
        ts.read_exact(188 * 500)
        last = events(srv)[0]["id"]
        feeder.mode = "silent"
        ev = wait_until(lambda: switch_events(srv, last), 4, interval=0.05, what="the slate")[0]
        assert "slate" in ev["message"] and media["radio"].name in ev["message"], ev
        ch = wait_until(lambda: (lambda c: c if c["state"] == "up" else None)(srv.channel("tv")), 5,
                        what="up on the slate")
        assert ch["on_slate"] and ch["source_index"] == 1, ch
        checker = TsChecker()
        t_end = time.monotonic() + 2
        while time.monotonic() < t_end:
            checker.feed(ts.recv(65536))
        assert checker.cc_error_count == 0 and checker.discontinuities >= 1, checker.summary()
        assert checker.bytes > 20_000, checker.summary()   # the slate is a 256 kbit/s radio stream
        feeder.mode = "good"
        t0 = time.monotonic()
        back = wait_until(lambda: switch_events(srv, ev["id"]), 8, interval=0.05, what="back from the slate")[0]
        print(f"back from the slate {time.monotonic() - t0:.3f} s after the source returned: {back['message']}")
        assert back["kind"] == "failback" and str(pa) in back["message"], back
        assert not srv.channel("tv")["on_slate"]
        ts.read_exact(188 * 1000)
    finally:
        feeder.stop()
