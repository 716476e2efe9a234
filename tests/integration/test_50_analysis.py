# SPDX-License-Identifier: MIT
"""TR 101 290 analysis of a channel's input (issue 5, in part): a clean
source counts nothing; a UDP source with known faults (5 video packets
dropped, the PAT left out for a second) counts exactly those, in the
channel's JSON and in /metrics."""

import socket
import time

from harness import free_port, wait_until
from test_50_metrics import scrape, value


def send_paced(path, port, seconds, drop=lambda i, pkt, t: False):
    """Sends the TS file's packets over UDP at its own rate (7 a datagram)."""
    data = path.read_bytes()
    packets = [data[i:i + 188] for i in range(0, len(data) - 187, 188)]
    rate = len(packets) / 10.0          # short.ts lasts 10 s
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t0 = time.monotonic()
    i = sent = 0
    while time.monotonic() - t0 < seconds:
        batch = []
        while len(batch) < 7:
            k = i % len(packets)
            pkt = packets[k]
            t = i / rate
            if not drop(i, pkt, t):
                batch.append(pkt)
            i += 1
        s.sendto(b"".join(batch), ("127.0.0.1", port))
        sent += 1
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    s.close()


def pid_of(pkt):
    return ((pkt[1] & 0x1f) << 8) | pkt[2]


def test_clean_source_counts_nothing(server, media):
    srv = server()
    srv.add_channel("demo", f"file://{media['short']}")
    wait_until(lambda: (srv.channel("demo") or {}).get("state") == "up", 15, what="demo up")
    time.sleep(3)
    a = srv.channel("demo")["analysis"]
    assert a["state"] == "ok" and a["packets"] > 1000, a
    assert set(a["errors"].values()) == {0}, a["errors"]
    assert {p["pid"] for p in a["pids"]} >= {0, 256, 257}, a["pids"]


def test_injected_faults_counted_exactly(server, media):
    port = free_port(socket.SOCK_DGRAM)
    srv = server()
    srv.add_channel("lossy", f"udp://127.0.0.1:{port}")
    # the server takes up the new channel within a poll: send once it listens
    srv.wait_log("listening", where=[str(port)], levels=("info",))
    video_seen = [0]
    drops = {300, 600, 900, 1200, 1500}   # the n-th video packets, one each: 5 gaps

    def drop(i, pkt, t):
        if pid_of(pkt) == 256:
            video_seen[0] += 1
            if video_seen[0] in drops:
                return True
        return pid_of(pkt) == 0 and 5.0 <= t < 6.0   # no PAT for a second

    send_paced(media["short"], port, 8.5, drop)
    a = wait_until(lambda: srv.channel("lossy")["analysis"], 5, what="the analysis")
    pids = {p["pid"]: p for p in a["pids"]}
    assert pids[256]["cc_errors"] == 5, pids[256]
    assert pids[0]["cc_errors"] == 1, pids[0]            # the PAT's own gap
    assert a["errors"]["PAT_error"] == 1, a["errors"]
    assert a["errors"]["Continuity_count_error"] == 6, a["errors"]
    for name in ("TS_sync_loss", "Sync_byte_error", "Transport_error", "CRC_error", "PMT_error"):
        assert a["errors"][name] == 0, (name, a["errors"])
    m = scrape(srv)
    assert value(m, "antenne_channel_tr101290_errors_total", channel="lossy", error="PAT_error", priority="1") == 1
    assert value(m, "antenne_channel_tr101290_errors_total", channel="lossy", error="Continuity_count_error",
                 priority="1") == 6
