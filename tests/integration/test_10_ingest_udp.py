# SPDX-License-Identifier: MIT
"""test_10_ingest_udp.py -- UDP unicast sources: real clients play them; random
bytes and truncated datagrams are reported while the server keeps serving, and
the channel recovers when real TS arrives again."""

import socket

import pytest

from harness import check_real_clients, ffmpeg_feeder, free_port, random_bytes, udp_send, TS_PACKET

NOT_TS = r"sync|mpeg-?ts|transport stream|not (an? )?ts|neither|invalid|garbage"
TRUNCATED = r"trunc|short|size|length|partial|incomplete|188|sync|mpeg-?ts|neither|invalid"


@pytest.mark.time_limit(90)
def test_udp_source_plays_in_real_clients(server, procs, media):
    port = free_port(socket.SOCK_DGRAM)
    srv = server()
    srv.add_channel("udp", f"udp://127.0.0.1:{port}")
    ffmpeg_feeder(procs, media["demo"], "127.0.0.1", port, "udp")
    srv.wait_state("udp", "up", timeout=10)
    check_real_clients(srv.live_url("udp"))


def _errors(ch):
    st = ch.get("stats", {})
    return st.get("sync_losses", 0) + st.get("source_errors", 0)


@pytest.mark.time_limit(60)
def test_random_bytes_on_udp_source(good_channel, procs, media):
    srv, _ = good_channel
    port = free_port(socket.SOCK_DGRAM)
    url = f"udp://127.0.0.1:{port}"
    srv.add_channel("junk", url)
    srv.wait_state("junk", ("starting", "down"), timeout=5)
    junk = [random_bytes(1316, seed=i) for i in range(64)]
    udp_send("127.0.0.1", port, junk, rate_pps=400, seconds=4)
    srv.wait_log(NOT_TS, where=["junk", url], timeout=5)
    ch = srv.channel("junk")
    assert ch["state"] != "up", f"a channel fed only random bytes must not be up: {ch}"
    assert _errors(ch) > 0, f"random input should show in stats.sync_losses / source_errors: {ch['stats']}"
    # real TS on the same port brings the channel up (resync after garbage)
    ffmpeg_feeder(procs, media["short"], "127.0.0.1", port, "udp")
    srv.wait_state("junk", "up", timeout=10)
    v = srv.viewer("junk", duration=3)
    v.join(10)
    assert v.status == 200 and v.error is None and not v.checker.sync_errors and v.checker.bytes > 100000, \
        f"after resync the channel should play: {v.describe()}"


@pytest.mark.time_limit(60)
def test_truncated_datagrams_on_udp_source(good_channel, media):
    """Datagrams of 100 bytes: each the head of a real TS packet."""
    srv, _ = good_channel
    port = free_port(socket.SOCK_DGRAM)
    url = f"udp://127.0.0.1:{port}"
    srv.add_channel("chopped", url)
    data = media["demo"].read_bytes()[:TS_PACKET * 4000]
    cut = [data[i:i + 100] for i in range(0, len(data), TS_PACKET)]
    udp_send("127.0.0.1", port, cut, rate_pps=1000, seconds=4)
    srv.wait_log(TRUNCATED, where=["chopped", url], timeout=5)
    ch = srv.channel("chopped")
    assert ch["state"] != "up", f"a channel fed only truncated packets must not be up: {ch}"
    assert _errors(ch) > 0, f"truncated input should show in stats.sync_losses / source_errors: {ch['stats']}"
