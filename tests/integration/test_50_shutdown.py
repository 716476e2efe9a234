# SPDX-License-Identifier: MIT
"""Graceful shutdown (issue 5): on SIGTERM antenne stops accepting, ends every
stream cleanly (whole TS packets, then the connection closes), writes the
sessions' ends to the database and exits 0 at once. After a restart the
audit says why each session ended, and a subscriber limited to one stream
can start again at once (no stale session holds the limit)."""

import socket
import time

from harness import TsChecker, wait_until
from test_40_subscribers import open_stream, playlist_for, setup_catalogue, token_of


def drain_until_closed(client, checker, timeout):
    """Feeds what comes to checker until the connection closes; the seconds taken."""
    t0 = time.monotonic()
    client.sock.settimeout(0.2)
    while time.monotonic() - t0 < timeout:
        try:
            data = client.recv(1 << 16)
        except (socket.timeout, TimeoutError):
            continue
        except OSError:
            break
        if not data:
            break
        checker.feed(data)
    else:
        raise AssertionError(f"{client.url}: still open {timeout} s after SIGTERM")
    return time.monotonic() - t0


def test_sigterm_ends_streams_cleanly_and_flushes_sessions(server, media):
    srv = server()
    setup_catalogue(srv, media, [{"name": "alice", "packages": ["basic"], "max_streams": 1}])
    token = token_of(playlist_for(srv, "alice"))
    paid = open_stream(srv.url(f"/t/{token}/live/news.ts"), "stb-1")
    free = open_stream(srv.url("/live/free.ts"), "stb-2")
    checkers = {"paid": TsChecker(), "free": TsChecker()}
    for name, c in (("paid", paid), ("free", free)):
        checkers[name].feed(c.read_exact(188 * 1000))
    running = srv.api("GET", "/api/v1/sessions").json()["sessions"]
    assert [s["subscriber"] for s in running] == ["alice"], running
    session_id = running[0]["id"]
    t0 = time.monotonic()
    srv.proc.send_signal(15)
    took = {name: drain_until_closed(c, checkers[name], 5) for name, c in (("paid", paid), ("free", free))}
    rc = srv.proc.wait(10)
    exited = time.monotonic() - t0
    print(f"streams closed after {took}, exit {rc} after {exited:.3f} s")
    assert rc == 0
    assert exited < 3, f"antenne took {exited:.1f} s to stop"
    for name, checker in checkers.items():
        # every byte sent belongs to a whole packet: the stream ended between packets
        assert checker.bytes % 188 == 0 and not checker.sync_errors and checker.cc_error_count == 0, \
            (name, checker.summary())
    # nothing listens any more
    probe = socket.socket()
    assert probe.connect_ex((srv.host, srv.port)) != 0
    probe.close()
    srv.expected_exit = True
    srv.start()
    row = wait_until(lambda: [x for x in srv.api("GET", "/api/v1/audit?subscriber=alice").json()["sessions"]
                              if x["id"] == session_id], 5, what="the session in the audit")[0]
    assert row["ended_at"] and row["end_reason"] == "server stopped" and row["bytes"] >= 188 * 1000, row
    assert srv.api("GET", "/api/v1/sessions").json()["sessions"] == []
    wait_until(lambda: srv.channel("news") and srv.channel("news")["state"] == "up", 15, what="news up again")
    again = open_stream(srv.url(f"/t/{token}/live/news.ts"), "stb-1")
    again.read_exact(188 * 100)
    again.close()
