# SPDX-License-Identifier: MIT
"""test_30_hls_http.py -- HLS over HTTP the way caches and web players need it
(issue 3, Build 4-7): Content-Type, Cache-Control, ETag / If-None-Match 304,
Last-Modified, Range 206 / 416 on segments, CORS on every answer, 404 for a
segment that slid out of the window, the multivariant playlist (BANDWIDTH,
AVERAGE-BANDWIDTH, CODECS from the stream, RESOLUTION, FRAME-RATE), the
channel JSON, /playlist.m3u?output=hls, and the blocking-request edge cases:
malformed _HLS_msn/_HLS_part -> 400, a request that would block too long -> 503.

The tests share one server (each reads its own channel; only the last one
stops a source, its own): its three channels start together, so that each
warms up while the tests before it run; the server is checked after each test
like the `server` fixture's."""

import email.utils
import http.client
import re
import socket
import time

import pytest

from harness import SharedServer, free_port, http_get, run_parallel, wait_until
from hls_harness import (FIXTURE_RATES, PLAYLIST_TYPE, PacedUdpSender, Playlist, get_playlist, make_fixture,
                         timed_get, wait_playlist)


@pytest.fixture(scope="module")
def _hls_server(tmp_path_factory, media):
    """The module's server: `demo` (file playout of demo.ts, HLS defaults),
    `small` (the same with --hls-window 3) and `live` (a UDP feed of the
    `long` fixture, sent by .live_sender, which the last test stops)."""
    shared = SharedServer(tmp_path_factory, "hls-http")
    shared.live_sender = None
    try:
        srv = shared.srv
        srv.start()
        srv.add_channel("demo", f"file://{media['demo']}")
        srv.add_channel("small", f"file://{media['demo']}", extra=("--hls-window", "3"))
        feed = make_fixture("long", tmp_path_factory.getbasetemp() / "hls-media")
        port = free_port(socket.SOCK_DGRAM)
        srv.add_channel("live", f"udp://127.0.0.1:{port}")
        shared.live_sender = PacedUdpSender(feed, [("127.0.0.1", port)], FIXTURE_RATES["long"], seconds=240)
        shared.live_sender.start()
        yield shared
    finally:
        if shared.live_sender:
            shared.live_sender.stop()
        problems = shared.close()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def hls_srv(request, _hls_server):
    """The module's server, checked after the test (alive, no sanitizer report)."""
    yield _hls_server.begin(request.node)
    problems = _hls_server.end()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def demo(srv):
    srv.wait_state("demo", "up", timeout=10)
    wait_playlist(srv, "demo", min_segments=3, timeout=30)
    return srv


def max_age(cc):
    m = re.search(r"max-age=(\d+)", cc or "")
    return int(m.group(1)) if m else None


def assert_cors(r, what):
    assert r.headers.get("access-control-allow-origin") == "*", \
        f"{what}: no 'Access-Control-Allow-Origin: *' ({r.status}, headers {r.headers})"


@pytest.mark.time_limit(90)
def test_headers_for_caches_and_web_players(hls_srv):
    srv = demo(hls_srv)
    base = srv.url("/live/demo")

    # playlists: type, short cache life (LL: not cached), CORS
    for path, ll in (("master.m3u8", False), ("master.ll.m3u8", False), ("index.m3u8", False),
                     ("index.ll.m3u8", True)):
        r = http_get(f"{base}/{path}")
        assert r.status == 200, f"GET {path}: {r}"
        assert r.headers.get("content-type", "").split(";")[0] == PLAYLIST_TYPE, f"{path}: {r.headers}"
        assert_cors(r, path)
        cc = r.headers.get("cache-control", "")
        if ll:
            assert "no-cache" in cc or "no-store" in cc or max_age(cc) == 0, \
                f"{path}: an LL-HLS playlist changes every part: Cache-Control {cc!r}"
        else:
            assert "no-cache" in cc or (max_age(cc) is not None and max_age(cc) <= 2), \
                f"{path}: a live playlist must have a short cache life: Cache-Control {cc!r}"
        assert r.body.startswith(b"#EXTM3U"), f"{path}: {r.body[:100]!r}"
        assert r.headers.get("content-length") == str(len(r.body)), f"{path}: Content-Length {r.headers}"

    pl = get_playlist(f"{base}/index.m3u8")
    seg = pl.segments[-2]
    url = f"{base}/{seg['uri']}"
    full = http_get(url, max_body=64 << 20)
    assert full.status == 200, f"GET {url}: {full}"
    h = full.headers
    assert h.get("content-type") == "video/mp2t", f"segment Content-Type: {h}"
    assert_cors(full, "segment")
    cc = h.get("cache-control", "")
    assert (max_age(cc) or 0) >= 3600 and "immutable" in cc, \
        f"a segment never changes: Cache-Control should be long and immutable, got {cc!r}"
    etag = h.get("etag")
    assert etag and re.fullmatch(r'(W/)?"[^"]+"', etag), f"segment ETag: {etag!r}"
    lm = h.get("last-modified")
    assert lm and email.utils.parsedate_to_datetime(lm), f"segment Last-Modified: {lm!r}"
    assert abs(email.utils.parsedate_to_datetime(lm).timestamp() - time.time()) < 60, f"Last-Modified {lm}"
    n = len(full.body)
    assert h.get("content-length") == str(n) and n % 188 == 0 and n > 10000, f"segment of {n} bytes, {h}"

    # the same bytes again, with the same validator
    again = http_get(url, max_body=64 << 20)
    assert again.status == 200 and again.body == full.body and again.headers.get("etag") == etag, \
        "a segment answered twice must give the same bytes and ETag"
    # If-None-Match
    r = http_get(url, headers={"If-None-Match": etag})
    assert r.status == 304 and r.body == b"", f"If-None-Match {etag}: {r.status} {r.body[:50]!r}"
    assert r.headers.get("etag") == etag, f"304 must repeat the ETag: {r.headers}"
    assert_cors(r, "304")
    r = http_get(url, headers={"If-None-Match": '"not-this-one"'}, max_body=64 << 20)
    assert r.status == 200 and r.body == full.body, f"If-None-Match with another ETag: {r.status}"
    # HEAD
    r = http_get(url, method="HEAD")
    assert r.status == 200 and r.headers.get("content-length") == str(n) and r.body == b"", f"HEAD: {r} {r.headers}"

    # Range
    for rng, lo, hi in (("bytes=0-187", 0, 187), ("bytes=1000-5999", 1000, 5999), (f"bytes={n - 188}-", n - 188, n - 1),
                        ("bytes=-376", n - 376, n - 1), (f"bytes=100-{n + 5000}", 100, n - 1)):
        r = http_get(url, headers={"Range": rng}, max_body=64 << 20)
        assert r.status == 206, f"Range {rng}: {r.status} {r.headers}"
        assert r.headers.get("content-range") == f"bytes {lo}-{hi}/{n}", f"Range {rng}: {r.headers}"
        assert r.body == full.body[lo:hi + 1], f"Range {rng}: wrong bytes ({len(r.body)} bytes)"
        assert r.headers.get("content-length") == str(hi - lo + 1), f"Range {rng}: {r.headers}"
        assert_cors(r, f"206 for {rng}")
    r = http_get(url, headers={"Range": f"bytes={n}-"})
    assert r.status == 416 and r.headers.get("content-range") == f"bytes */{n}", \
        f"Range beyond the end: {r.status} {r.headers}"

    # a part: a segment's little sibling, cached the same way
    llpl = get_playlist(f"{base}/index.ll.m3u8")
    key = min(k for k in llpl.parts_available() if k[0] == llpl.segments[-1]["msn"])
    r = http_get(f"{base}/{key[0]}.{key[1]}.ts", max_body=16 << 20)
    assert r.status == 200 and r.headers.get("content-type") == "video/mp2t" and len(r.body) % 188 == 0, \
        f"part {key}: {r.status} {r.headers}"
    assert (max_age(r.headers.get("cache-control")) or 0) >= 3600 and r.headers.get("etag"), \
        f"part {key} headers: {r.headers}"
    assert_cors(r, "part")
    r2 = http_get(f"{base}/{key[0]}.{key[1]}.ts", headers={"If-None-Match": r.headers["etag"]})
    assert r2.status == 304, f"part If-None-Match: {r2.status}"

    # keep-alive: a player reloads playlists and fetches segments on one connection
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=5)
    try:
        for path in ("index.m3u8", seg["uri"], "index.ll.m3u8", seg["uri"]):
            conn.request("GET", f"/live/demo/{path}")
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200 and body, f"keep-alive GET {path}: {resp.status}"
    finally:
        conn.close()

    # unknown segments and parts, malformed names: 404 (or 400) at once, with CORS
    first = pl.segments[0]["msn"]
    for path in (f"{pl.last_msn + 1000}.ts", f"{first}.99.ts", f"{pl.last_msn + 1000}.0.ts", "nosuch.m3u8",
                 "index.m3u9", "../demo.ts", "12x.ts"):
        r, took, _ = timed_get(f"{base}/{path}", timeout=5)
        assert r.status in (400, 404) and took < 1.0, f"GET /live/demo/{path}: {r.status} after {took:.2f} s"
        assert_cors(r, f"GET {path}")
    r = http_get(srv.url("/live/nosuch/index.m3u8"))
    assert r.status == 404, f"unknown channel's playlist: {r.status}"
    assert_cors(r, "unknown channel")

    # If-None-Match may carry a list of entity tags (RFC 9110 13.1.2); caches send them
    seg = get_playlist(f"{base}/index.m3u8").segments[-1]
    url = f"{base}/{seg['uri']}"
    etag = http_get(url, method="HEAD").headers.get("etag")
    r = http_get(url, headers={"If-None-Match": f'"some-other-tag", {etag}'})
    assert r.status == 304, f"If-None-Match: \"some-other-tag\", {etag} (a list holding the ETag): {r.status}"
    r = http_get(url, headers={"If-None-Match": "*"})
    assert r.status == 304, f"If-None-Match: * on an existing segment: {r.status}"
    srv.assert_alive()


@pytest.mark.time_limit(60)
def test_segment_that_slid_out_is_404_after_the_rfc_grace(hls_srv):
    """RFC 8216 6.2.2: a segment removed from the playlist stays available for
    its duration plus the playlist's duration; after that (no archive yet) it
    answers 404. A channel with --hls-window 3: 2 s + 6 s."""
    srv = hls_srv
    srv.wait_state("small", "up", timeout=10)
    base = srv.url("/live/small")
    pl = wait_playlist(srv, "small", min_segments=3, timeout=30)
    first = pl.segments[0]
    grace = first["duration"] + pl.duration()
    t_slide = wait_until(lambda: get_playlist(f"{base}/index.m3u8").media_sequence > first["msn"] and time.monotonic(),
                         10, interval=0.1, what=f"segment {first['msn']} to leave the window")
    statuses = []
    deadline = t_slide + grace + 6
    while time.monotonic() < deadline:
        r = http_get(f"{base}/{first['uri']}", method="HEAD")
        statuses.append((round(time.monotonic() - t_slide, 2), r.status))
        if r.status == 404:
            assert_cors(r, "404 of a slid-out segment")
            break
        assert r.status == 200, f"slid-out segment {first['uri']}: {statuses}"
        time.sleep(0.25)
    gone = [t for t, st in statuses if st == 404]
    assert gone, f"segment {first['uri']} still served {grace + 6:.1f} s after it left the window " \
                 f"(expected 404 after {grace:.1f} s): {statuses[-5:]}"
    assert gone[0] >= grace - 1.0, \
        f"segment {first['uri']} answered 404 {gone[0]:.1f} s after leaving the window; RFC 8216 6.2.2 wants it " \
        f"available for {grace:.1f} s (its duration + the playlist's): {statuses}"
    r = http_get(f"{base}/{first['uri']}")
    assert r.status == 404, f"GET of the slid-out segment: {r.status}"


@pytest.mark.time_limit(60)
def test_multivariant_playlist_channel_json_and_m3u(hls_srv):
    srv = demo(hls_srv)
    base = srv.url("/live/demo")
    for name, media_uri in (("master.m3u8", "index.m3u8"), ("master.ll.m3u8", "index.ll.m3u8")):
        mv = Playlist(http_get(f"{base}/{name}").text)
        assert not mv.problems and len(mv.variants) == 1, f"{name}: {mv.problems}\n{mv.text}"
        a, uri = mv.variants[0]
        assert uri == media_uri, f"{name} points at {uri!r}, expected {media_uri!r}"
        # demo.ts: H.264 High profile level 3.1 (x264 picks it for 1280x720 25 fps) + AAC LC
        assert a.get("CODECS") == "avc1.64001f,mp4a.40.2", f"{name} CODECS: {a}"
        assert a.get("RESOLUTION") == "1280x720", f"{name} RESOLUTION: {a}"
        assert a.get("FRAME-RATE") and abs(float(a["FRAME-RATE"]) - 25.0) < 0.01, f"{name} FRAME-RATE: {a}"
        bw, avg = int(a.get("BANDWIDTH", 0)), int(a.get("AVERAGE-BANDWIDTH", 0))
        # the stream is a constant 4 Mbit/s mux (~3.5 Mbit/s of audio and video)
        assert 2_500_000 <= avg <= bw <= 6_000_000, f"{name}: BANDWIDTH {bw}, AVERAGE-BANDWIDTH {avg}"
    # channel JSON
    pl = get_playlist(f"{base}/index.m3u8")
    ch = srv.channel("demo")
    hls = ch.get("hls")
    assert isinstance(hls, dict), f"channel JSON has no 'hls' object: {ch}"
    assert hls.get("target_duration") == 2 and abs(hls.get("segments", -99) - len(pl.segments)) <= 1, \
        f"'hls': {hls} vs playlist\n{pl.text}"
    assert abs(hls.get("media_sequence", -99) - pl.media_sequence) <= 1, f"'hls': {hls} vs MEDIA-SEQUENCE " \
                                                                         f"{pl.media_sequence}"
    assert isinstance(hls.get("discontinuity_sequence"), int), f"'hls': {hls}"
    assert ch.get("warnings") == [], f"a clean channel has no warnings: {ch.get('warnings')}"
    # /playlist.m3u
    host = f"{srv.host}:{srv.port}"
    r = http_get(srv.url("/playlist.m3u?output=hls"))
    assert r.status == 200 and f"http://{host}/live/demo/index.m3u8" in r.text and "/live/demo.ts" not in r.text, \
        f"/playlist.m3u?output=hls:\n{r.text}"
    for q in ("", "?output=ts"):
        r = http_get(srv.url(f"/playlist.m3u{q}"))
        assert r.status == 200 and f"http://{host}/live/demo.ts" in r.text and "index.m3u8" not in r.text, \
            f"/playlist.m3u{q}:\n{r.text}"


@pytest.mark.time_limit(60)
def test_blocking_reload_and_malformed_queries(hls_srv):
    srv = demo(hls_srv)
    base = srv.url("/live/demo")
    pl = get_playlist(f"{base}/index.ll.m3u8")
    msn = pl.last_msn

    # malformed or absurd: 400 at once
    bad = ["_HLS_msn=abc", "_HLS_msn=", "_HLS_msn=-1", "_HLS_msn=1.5", "_HLS_msn=0x10", "_HLS_msn=1e3",
           "_HLS_msn=99999999999999999999999", "_HLS_msn=18446744073709551616",
           "_HLS_msn=18446744073709551615", "_HLS_part=1", "_HLS_part=0&_HLS_skip=YES",
           f"_HLS_msn={msn}&_HLS_part=abc", f"_HLS_msn={msn}&_HLS_part=-1",
           f"_HLS_msn={msn}&_HLS_part=99999999999999999999999"]
    for q in bad:
        r, took, _ = timed_get(f"{base}/index.ll.m3u8?{q}", timeout=5)
        assert r.status == 400 and took < 1.0, f"index.ll.m3u8?{q}: expected 400 at once, got {r.status} " \
                                               f"after {took:.2f} s: {r.body[:200]!r}"
        assert_cors(r, f"400 for {q}")

    # an existing part, an existing segment: at once
    old = min(pl.parts_available())
    for q in (f"_HLS_msn={old[0]}&_HLS_part={old[1]}", f"_HLS_msn={msn}", f"_HLS_msn={pl.media_sequence}"):
        r, took, _ = timed_get(f"{base}/index.ll.m3u8?{q}", timeout=5)
        assert r.status == 200 and took < 0.3, f"index.ll.m3u8?{q} (available): {r.status} after {took:.2f} s"

    # the next segment: blocks until it is complete (<= one target duration away)
    cur = get_playlist(f"{base}/index.ll.m3u8")
    nxt = cur.next_msn
    r, took, _ = timed_get(f"{base}/index.ll.m3u8?_HLS_msn={nxt}", timeout=10)
    assert r.status == 200, f"_HLS_msn={nxt}: {r.status}"
    got = Playlist(r.text)
    assert got.last_msn is not None and got.last_msn >= nxt, f"_HLS_msn={nxt} answered without segment {nxt}:\n{r.text}"
    assert took <= cur.target + 0.5, f"_HLS_msn={nxt} took {took:.2f} s (target {cur.target} s)"

    # far ahead: refused at once (RFC 8216bis: more than two segments ahead -> 400) or 503
    # after at most 3 target durations -- never a hang
    far = cur.next_msn + 50
    r, took, _ = timed_get(f"{base}/index.ll.m3u8?_HLS_msn={far}", timeout=20)
    assert (r.status == 400 and took < 1.0) or (r.status == 503 and took <= 3 * cur.target + 1.5), \
        f"_HLS_msn={far} (50 segments ahead): {r.status} after {took:.2f} s"
    r, took, _ = timed_get(f"{base}/{far}.0.ts", timeout=20)
    assert r.status in (400, 404, 503) and took <= 3 * cur.target + 1.5, \
        f"part {far}.0 (50 segments ahead): {r.status} after {took:.2f} s"
    srv.assert_alive()


@pytest.mark.time_limit(60)
def test_blocking_request_gets_503_when_the_source_stops(hls_srv, _hls_server):
    """A UDP source stops: a blocking reload for the next part and the request
    for the preload-hinted part do not hang: 503 after at most 3 target
    durations."""
    srv = hls_srv
    sender = _hls_server.live_sender
    try:
        wait_playlist(srv, "live", ll=True, min_segments=2, timeout=20)
    finally:
        sender.stop()
    time.sleep(0.5)
    pl = get_playlist(srv.url("/live/live/index.ll.m3u8"))
    msn, part = pl.hint() or (pl.next_msn, 0)
    target = pl.target
    # ask for the part after the hinted one: it cannot come any more
    part += 1
    res = run_parallel(
        reload=lambda: timed_get(srv.url(f"/live/live/index.ll.m3u8?_HLS_msn={msn}&_HLS_part={part}"), timeout=30),
        hinted=lambda: timed_get(srv.url(f"/live/live/{msn}.{part}.ts"), timeout=30),
    )
    r, took, _ = res["reload"]
    assert r.status == 503 and took <= 3 * target + 1.5, \
        f"blocking reload for {msn}.{part} after the source stopped: {r.status} after {took:.2f} s " \
        f"(expected 503 within 3 target durations = {3 * target} s)"
    assert_cors(r, "503")
    r, took, _ = res["hinted"]
    assert r.status in (503, 404) and took <= 3 * target + 1.5, \
        f"part {msn}.{part} after the source stopped: {r.status} after {took:.2f} s"
    srv.assert_alive()
