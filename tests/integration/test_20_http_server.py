# SPDX-License-Identifier: MIT
"""test_20_http_server.py -- the HTTP/1.1 server under malformed and unusual
requests: clear 4xx/5xx with a short body, keep-alive, HEAD, and a stream
viewer that is not disturbed by any of it (the `good_channel` fixture checks
its viewer at the end of every test).

All the tests of this module use one server (they only send it requests):
`good_channel` here (harness.shared_good_channel_fixtures) starts a new viewer
of its channel for each test and checks it, the server and its stderr after
each test."""

import time

import pytest

from harness import make_socket, parse_status, random_bytes, shared_good_channel_fixtures

SHORT_BODY = 1024


_good_server, good_channel = shared_good_channel_fixtures("http-server")


def send(srv, payload, timeout=5):
    raw, note = srv.raw(payload, timeout=timeout)
    status, headers, body = parse_status(raw)
    return status, headers, body, f"{raw[:300]!r} ({note})"


def assert_answer(srv, payload, statuses, what):
    if isinstance(statuses, int):
        statuses = (statuses,)
    status, headers, body, desc = send(srv, payload)
    assert status in statuses, f"{what}: expected HTTP {statuses}, got {status}: {desc}"
    assert 0 < len(body) <= SHORT_BODY, \
        f"{what}: the error should have a short text body, got {len(body)} bytes: {desc}"
    r = srv.get("/healthz")
    assert r.status == 200, f"after {what} /healthz answers {r.status}"
    return status, headers, body


def headers_of_size(n):
    lines = []
    size = 0
    i = 0
    while size < n:
        line = f"X-Filler-{i}: {'a' * 1000}\r\n".encode()
        lines.append(line)
        size += len(line)
        i += 1
    return b"".join(lines)


@pytest.mark.parametrize("kind", ["many headers", "one huge header", "never-ending header"])
def test_headers_over_16k_are_431(good_channel, kind):
    srv, _ = good_channel
    start = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
    if kind == "many headers":
        payload = start + headers_of_size(20 * 1024) + b"\r\n"
    elif kind == "one huge header":
        payload = start + b"X-Huge: " + b"b" * (20 * 1024) + b"\r\n\r\n"
    else:
        payload = start + headers_of_size(256 * 1024)   # no blank line: the server must not wait for it
    assert_answer(srv, payload, 431, f"a request with {kind} (> 16 KiB)")


@pytest.mark.parametrize("line", [
    b"HELLO", b"GET", b"GET /healthz HTTP/1.1 trailing", b"GET /healthz HTTX/1.1", b"\x01\x02 /healthz HTTP/1.1",
    b"GET healthz-without-slash HTTP/1.1", b"GET /healthz HTTP/1.1\nHost x\n",
], ids=["word", "method-only", "trailing-junk", "bad-protocol", "control-chars", "no-slash", "header-without-colon"])
def test_bad_request_line_is_400(good_channel, line):
    srv, _ = good_channel
    assert_answer(srv, line + b"\r\nHost: x\r\n\r\n" if b"\n" not in line else line + b"\n",
                  400, f"request line {line!r}")


@pytest.mark.parametrize("method", [b"BREW", b"PROPFIND", b"FOO"])
def test_unknown_method_is_501(good_channel, method):
    srv, _ = good_channel
    assert_answer(srv, method + b" /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 501, f"method {method!r}")


@pytest.mark.parametrize("path", [b"/live/" + b"a" * 10000 + b".ts", b"/api/v1/channels/" + b"b" * 10000,
                                  b"/" + b"%41" * 3400])
def test_10000_byte_url(good_channel, path):
    srv, _ = good_channel
    assert_answer(srv, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n", (404, 414), f"a {len(path)}-byte URL")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_binary_garbage_is_400(good_channel, seed):
    srv, _ = good_channel
    garbage = random_bytes(4096, seed=seed).replace(b"\n", b"\xff") + b"\r\n\r\n"
    assert_answer(srv, garbage, 400, f"4 KiB of binary garbage (seed {seed})")


def test_binary_garbage_without_line_end(good_channel):
    srv, _ = good_channel
    garbage = random_bytes(64 * 1024, seed=9).replace(b"\n", b"\xff")
    assert_answer(srv, garbage, (400, 431), "64 KiB of garbage without a line end")


def test_unknown_path_is_404(good_channel):
    srv, _ = good_channel
    for path in ("/nope", "/live/", "/live/good", "/live/good.mp4", "/api/v1/nothing", "/playlist.m3u/x"):
        r = srv.get(path)
        assert r.status == 404 and 0 < len(r.body) <= SHORT_BODY, f"GET {path}: {r}"


def test_keep_alive_and_head(good_channel):
    srv, _ = good_channel
    s = make_socket(srv.ns)
    s.settimeout(5)
    try:
        s.connect((srv.host, srv.port))
        for path in ("/healthz", "/api/v1/channels", "/playlist.m3u", "/healthz"):
            auth = f"Authorization: Bearer {srv.admin_token}\r\n" if path.startswith("/api/") else ""
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{auth}\r\n".encode())
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = s.recv(65536)
                assert d, f"the server closed the keep-alive connection before answering GET {path}"
                buf += d
            status, headers, body = parse_status(buf)
            assert status == 200, f"GET {path} on a kept-alive connection: {buf[:300]!r}"
            assert "content-length" in headers, f"GET {path}: keep-alive needs Content-Length: {headers}"
            need = int(headers["content-length"])
            while len(body) < need:
                d = s.recv(65536)
                assert d, f"connection closed in the middle of GET {path}'s body"
                body += d
            assert headers.get("connection", "").lower() != "close", f"GET {path} closed the connection: {headers}"
    finally:
        s.close()
    for path, ctype in (("/healthz", "text/plain"), ("/playlist.m3u", "audio/x-mpegurl"),
                        ("/api/v1/channels", "application/json")):
        g = srv.get(path)
        h = srv.get(path, method="HEAD")
        assert h.status == 200 and h.body == b"" and h.headers.get("content-type", "").startswith(ctype), \
            f"HEAD {path}: {h.status} {h.headers}"
        assert h.headers.get("content-length") == g.headers.get("content-length"), \
            f"HEAD {path} Content-Length {h.headers.get('content-length')} != GET's {g.headers.get('content-length')}"


def test_http_10_request(good_channel):
    srv, _ = good_channel
    status, headers, body, desc = send(srv, b"GET /healthz HTTP/1.0\r\n\r\n")
    assert status == 200 and body == b"ok\n", f"HTTP/1.0 GET /healthz: {desc}"


@pytest.mark.time_limit(60)
def test_idle_half_open_requests_do_not_block_others(good_channel):
    """200 connections that send half a request line and stop: a normal request
    is still answered at once."""
    srv, _ = good_channel
    idle = []
    try:
        for i in range(200):
            s = make_socket(srv.ns)
            s.settimeout(5)
            s.connect((srv.host, srv.port))
            s.sendall(b"GET /healthz HT")
            idle.append(s)
        t0 = time.monotonic()
        r = srv.get("/healthz", timeout=5)
        took = time.monotonic() - t0
        assert r.status == 200 and took < 1.0, f"/healthz with 200 idle connections: {r.status} after {took:.2f} s"
    finally:
        for s in idle:
            try:
                s.close()
            except OSError:
                pass


def test_all_malformed_requests_in_a_row_server_survives(good_channel):
    """Everything above, back to back, then the channel still serves new viewers."""
    srv, _ = good_channel
    payloads = [b"GET /healthz HTTP/1.1\r\n" + headers_of_size(40000) + b"\r\n", b"HELLO\r\n\r\n",
                b"BREW / HTTP/1.1\r\n\r\n", b"GET /" + b"x" * 10000 + b" HTTP/1.1\r\n\r\n",
                random_bytes(8192, seed=5), b"\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                b"GET /live/good.ts HTTP/1.1\r\nHost: x\r\nRange: bytes=99999999999999999999-\r\n\r\n"]
    for p in payloads:
        send(srv, p, timeout=2)
    srv.assert_alive()
    r = srv.get("/live/good.ts", timeout=5, max_body=188 * 100)
    assert r.status == 200 and len(r.body) >= 188 * 50 and r.body[0] == 0x47, f"GET /live/good.ts afterwards: {r}"
