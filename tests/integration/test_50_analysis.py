# SPDX-License-Identifier: MIT
"""TR 101 290 analysis of a channel's input (issue 5): a clean source counts
nothing; a UDP source with known faults (5 video packets dropped, the PAT left
out for a second, a 200 ms PCR gap, a PAT with a bad CRC, damaged sync bytes)
counts exactly those, in the channel's JSON and in /metrics, and the channel
goes degraded and back up, with events."""

import socket
import time

from harness import NULL_PID, free_port, strip_pcr, ts_pid, wait_until
from test_50_metrics import scrape, value


def send_paced(path, port, seconds, change=lambda i, pkt, t: pkt):
    """Sends the TS file's packets over UDP at its own rate (7 a datagram);
    change(i, packet, t) returns the packet to send instead, or None."""
    data = path.read_bytes()
    packets = [data[i:i + 188] for i in range(0, len(data) - 187, 188)]
    rate = len(packets) / 10.0          # short.ts lasts 10 s
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < seconds:
        batch = []
        while len(batch) < 7:
            k = i % len(packets)
            pkt = change(i, packets[k], i / rate)
            if pkt is not None:
                batch.append(pkt)
            i += 1
        s.sendto(b"".join(batch), ("127.0.0.1", port))
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    s.close()


def bad_crc(pkt):
    """The PAT packet with the last byte of its section's CRC_32 flipped."""
    out = bytearray(pkt)
    start = 5 + pkt[4]
    length = ((pkt[start + 1] & 0x0F) << 8) | pkt[start + 2]
    out[start + 3 + length - 1] ^= 0xFF
    return bytes(out)


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
    drops = {100, 200, 300, 400, 500}   # the n-th video packets, one each: 5 gaps
    done = set()
    data = media["short"].read_bytes()
    nulls = {k for k in range(len(data) // 188) if data[k * 188 + 1:k * 188 + 3] == b"\x1f\xff"}

    def change(i, pkt, t):
        pid = ts_pid(pkt)
        if pid == 256:
            video_seen[0] += 1
            if video_seen[0] in drops:
                return None
        if pid == 0 and 2.5 <= t < 3.5:                  # no PAT for a second
            return None
        if 1.0 <= t < 1.2:                                # no PCR for 200 ms
            pkt = strip_pcr(pkt)
        if pid == 0 and t >= 1.5 and "crc" not in done:   # one PAT with a bad CRC
            done.add("crc")
            return bad_crc(pkt)
        if pid == NULL_PID and t >= 2.0 and "sync1" not in done:   # one damaged sync byte
            done.add("sync1")
            return b"\x00" + pkt[1:]
        # two in a row (null packets, so that no continuity is lost): sync lost
        if pid == NULL_PID and t >= 4.0 and "sync2" not in done and (i + 1) in nulls:
            done.add("sync2")
            return b"\x00" + pkt[1:]
        if "sync2" in done and "sync2b" not in done:
            done.add("sync2b")
            return b"\x46" + pkt[1:]
        return pkt

    last = srv.api("GET", "/api/v1/events?channel=lossy").json()["events"][0]["id"]
    send_paced(media["short"], port, 9.8, change)   # (clean after 4 s)
    assert done == {"crc", "sync1", "sync2", "sync2b"}, done
    a = wait_until(lambda: srv.channel("lossy")["analysis"], 5, what="the analysis")
    pids = {p["pid"]: p for p in a["pids"]}
    assert pids[256]["cc_errors"] == 5, pids[256]
    assert pids[0]["cc_errors"] == 1, pids[0]            # the PAT's own gap
    want = {"PAT_error": 1, "Continuity_count_error": 6, "PCR_repetition_error": 1, "CRC_error": 1,
            "Sync_byte_error": 3, "TS_sync_loss": 1}
    assert {k: v for k, v in a["errors"].items() if v} == want, a["errors"]
    m = scrape(srv)
    assert value(m, "antenne_channel_tr101290_errors_total", channel="lossy", error="PAT_error", priority="1") == 1
    assert value(m, "antenne_channel_tr101290_errors_total", channel="lossy", error="Continuity_count_error",
                 priority="1") == 6
    # the channel went degraded (saying why) and came back up
    kinds = [(e["kind"], e["message"]) for e in
             reversed(srv.api("GET", f"/api/v1/events?channel=lossy&after={last}").json()["events"])]
    assert ("degraded" in [k for k, _ in kinds]), kinds
    assert any(k == "degraded" and ("CC errors" in m or "PAT" in m) for k, m in kinds), kinds
    first = [k for k, _ in kinds].index("degraded")
    assert "up" in [k for k, _ in kinds[first:]], kinds
