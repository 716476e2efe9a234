# SPDX-License-Identifier: MIT
"""test_10_ingest_rtp.py -- RTP/MP2T sources: real clients play them, RTP is
detected on a udp:// URL too, and lost RTP packets are counted."""

import socket
import threading
import time

import pytest

from harness import check_real_clients, ffmpeg_feeder, free_port


@pytest.mark.time_limit(90)
def test_rtp_source_plays_in_real_clients(server, procs, media):
    port = free_port(socket.SOCK_DGRAM)
    srv = server()
    srv.add_channel("rtp", f"rtp://127.0.0.1:{port}")
    ffmpeg_feeder(procs, media["demo"], "127.0.0.1", port, "rtp")
    srv.wait_state("rtp", "up", timeout=10)
    check_real_clients(srv.live_url("rtp"))


@pytest.mark.time_limit(60)
def test_rtp_is_detected_on_a_udp_url(server, procs, media):
    port = free_port(socket.SOCK_DGRAM)
    srv = server()
    srv.add_channel("auto", f"udp://127.0.0.1:{port}")
    ffmpeg_feeder(procs, media["short"], "127.0.0.1", port, "rtp")
    srv.wait_state("auto", "up", timeout=10)
    time.sleep(2.5)   # a full GOP in the ring: this test is about RTP, not about start-up
    v = srv.viewer("auto", duration=4)
    v.join(15)
    # RTP headers left in the stream would break TS sync on every datagram
    v.assert_clean(min_seconds=3.0)


class LossyRelay(threading.Thread):
    """Forwards datagrams from one loopback port to another, dropping every Nth."""

    def __init__(self, dst_port, drop_every=50, max_seconds=60):
        super().__init__(daemon=True, name="lossy-relay")
        self.rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rx.bind(("127.0.0.1", 0))
        self.rx.settimeout(0.2)
        self.port = self.rx.getsockname()[1]
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.dst = ("127.0.0.1", dst_port)
        self.drop_every = drop_every
        self.max_seconds = max_seconds
        self.received = 0
        self.dropped = 0
        self.stop_ev = threading.Event()

    def run(self):
        deadline = time.monotonic() + self.max_seconds
        while not self.stop_ev.is_set() and time.monotonic() < deadline:
            try:
                d = self.rx.recv(65536)
            except (socket.timeout, TimeoutError):
                continue
            self.received += 1
            if self.received % self.drop_every == 0:
                self.dropped += 1
                continue
            self.tx.sendto(d, self.dst)

    def stop(self):
        self.stop_ev.set()
        self.join(5)
        self.rx.close()
        self.tx.close()


@pytest.mark.time_limit(60)
def test_rtp_losses_are_counted(server, procs, media):
    port = free_port(socket.SOCK_DGRAM)
    srv = server()
    srv.add_channel("lossy", f"rtp://127.0.0.1:{port}")
    relay = LossyRelay(port, drop_every=50)
    relay.start()
    try:
        ffmpeg_feeder(procs, media["demo"], "127.0.0.1", relay.port, "rtp")
        # 2 % datagram loss is continuity errors on every PID: the channel plays, degraded
        srv.wait_state("lossy", ("up", "degraded"), timeout=10)
        time.sleep(3)
        d0 = relay.dropped
        ch = srv.channel("lossy")
        lost = ch["stats"]["rtp_lost"]
        d1 = relay.dropped
        assert ch["state"] == "degraded" and "CC errors" in ch["state_reason"], ch
        assert d0 > 10, f"the relay dropped only {d0} datagrams"
        # datagrams dropped before antenne listened are not its to count: hence the 0.5
        assert 0.5 * d0 <= lost <= d1 + 2, \
            f"stats.rtp_lost is {lost}, the relay dropped {d0}..{d1} of {relay.received} RTP datagrams"
    finally:
        relay.stop()
