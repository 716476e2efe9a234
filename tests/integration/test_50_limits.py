# SPDX-License-Identifier: MIT
"""Connection limits (issue 5, in part): over the limit, in all or from one
address, a connection gets a clear 503 at once; others are served. SIGHUP
reloads what the database holds."""

import signal
import socket
import time

from harness import parse_status, wait_until


def idle(srv, source="127.0.0.1"):
    s = socket.socket()
    s.bind((source, 0))
    s.connect((srv.host, srv.port))
    return s


def answer(s):
    s.settimeout(5)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(4096)
        if not d:
            break
        data += d
    status, _, body = parse_status(data)
    return status, data


def test_per_address_limit(server):
    srv = server(serve_args=["--max-connections-per-ip", "3"])
    held = [idle(srv) for _ in range(3)]
    extra = idle(srv)
    status, raw = answer(extra)
    assert status == 503 and b"too many connections from this address" in raw, raw
    other = idle(srv, "127.0.0.2")
    assert answer(other)[0] == 200, "another address is served"
    for s in held:
        s.close()
    assert srv.log_lines("refused: too many connections from this address", levels=("warn",))


def test_total_limit(server):
    srv = server(serve_args=["--max-connections", "4"])
    held = [idle(srv, f"127.0.0.{i + 1}") for i in range(4)]
    status, raw = answer(idle(srv, "127.0.0.9"))
    assert status == 503 and b"the server is full" in raw, raw
    held.pop().close()
    time.sleep(0.2)
    assert answer(idle(srv, "127.0.0.9"))[0] == 200
    for s in held:
        s.close()


def test_sighup_reloads(server, media):
    srv = server()
    srv.add_channel("demo", f"file://{media['demo']}")
    srv.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: srv.log_lines("SIGHUP: reloading", levels=("info",)), 5, what="the reload logged")
    wait_until(lambda: (srv.channel("demo") or {}).get("state") == "up", 15, what="demo up after the reload")
    srv.assert_alive()
    assert srv.get("/healthz").status == 200
