# SPDX-License-Identifier: MIT
"""test_20_http_ts.py -- live channels over HTTP MPEG-TS: the stream response,
instant start, the playlist, the JSON API and its live state, on-demand
channels, CLI changes reaching a running server, and slow viewers."""

import os
import re
import socket
import tempfile
import time

import pytest

from harness import (StreamClient, TsChecker, analyze_start, assert_ffmpeg_clean, ffmpeg_decode, ffmpeg_feeder,
                     ffprobe_json, free_port, run_parallel, wait_until)


def demo_server(server, media, name="demo", extra=(), env=None):
    srv = server(env=env)
    srv.add_channel(name, f"file://{media['demo']}", extra=extra)
    srv.wait_state(name, "up", timeout=10)
    return srv


# --------------------------------------------------------------------------
# the stream response

def test_stream_response_and_head(server, media):
    srv = demo_server(server, media)
    c = StreamClient(srv.live_url("demo"))
    try:
        assert c.status == 200, f"GET /live/demo.ts: {c.status_line}"
        assert c.status_line.startswith("HTTP/1.1 "), f"status line {c.status_line!r}"
        assert c.headers.get("content-type") == "video/mp2t", f"Content-Type: {c.headers}"
        assert "content-length" not in c.headers, f"an endless stream has no Content-Length: {c.headers}"
        assert c.headers.get("connection", "").lower() == "close", f"Connection: close expected: {c.headers}"
        data = c.read_exact(188 * 200)
        assert all(data[i] == 0x47 for i in range(0, len(data), 188)), "the body is not 188-byte aligned TS"
    finally:
        c.close()
    r = srv.get("/live/demo.ts", method="HEAD")
    assert r.status == 200 and r.headers.get("content-type") == "video/mp2t" and r.body == b"", \
        f"HEAD /live/demo.ts: {r.status} {r.headers} {r.body[:100]!r}"


def test_unknown_channel_is_404(server):
    srv = server()
    r = srv.get("/live/nosuch.ts")
    assert r.status == 404, f"GET /live/nosuch.ts: {r}"
    assert r.headers.get("content-type", "").startswith("text/plain"), f"404 Content-Type: {r.headers}"
    assert "channel 'nosuch' not found" in r.text, f"404 body: {r.text!r}"
    r = srv.get("/api/v1/channels/nosuch")
    assert r.status == 404 and r.json() == {"error": "channel 'nosuch' not found"}, f"API 404: {r} {r.body!r}"
    srv.assert_alive()


@pytest.mark.time_limit(60)
def test_channel_that_lost_its_signal_is_503(server, procs, media):
    """The UDP sender stops: the channel goes down with a reason, and a new
    viewer gets 503 naming the channel."""
    srv = server()
    port = free_port(socket.SOCK_DGRAM)
    srv.add_channel("silent", f"udp://127.0.0.1:{port}")
    feeder = ffmpeg_feeder(procs, media["short"], "127.0.0.1", port, "udp")
    srv.wait_state("silent", "up", timeout=10)
    procs.stop(feeder)
    ch = srv.wait_state("silent", "down", timeout=15)
    assert ch["state_reason"], f"a down channel should say why: {ch}"
    r = srv.get("/live/silent.ts", timeout=8)   # a short wait for the signal to return is fine
    assert r.status == 503, f"GET /live/silent.ts with no signal: {r}"
    assert "channel 'silent' is down" in r.text, f"503 body: {r.text!r}"


@pytest.mark.time_limit(60)
def test_channel_down_with_data_flowing_is_503_not_old_pictures(server, media):
    """Bytes still arrive but they are no TS: the channel is down, and a new
    viewer gets 503, not the last pictures from before the outage."""
    from harness import UdpFeeder
    srv = server()
    port = free_port(socket.SOCK_DGRAM)
    srv.add_channel("junk", f"udp://127.0.0.1:{port}")
    feeder = UdpFeeder(media["demo"], port, max_seconds=50)
    try:
        srv.wait_state("junk", "up", timeout=10)
        feeder.mode = "garbage"
        srv.wait_state("junk", "down", timeout=10)
        r = srv.get("/live/junk.ts", timeout=10)
        assert r.status == 503, f"GET /live/junk.ts of a channel that is down: {r.status}, {len(r.body)} bytes"
        assert "channel 'junk' is down" in r.text, f"503 body: {r.text!r}"
    finally:
        feeder.stop()


# --------------------------------------------------------------------------
# instant start

@pytest.mark.time_limit(60)
def test_instant_start(server, media):
    """Each new viewer's first bytes are PAT, PMT, then a keyframe, at once.
    Five viewers at different moments of the 2 s GOP."""
    src = TsChecker()
    src.feed(media["demo"].read_bytes()[:188 * 5000])
    src_pmt_pid = next(iter(src.pat.values()))
    srv = demo_server(server, media)
    time.sleep(2.5)   # the ring holds at least one full GOP
    problems, ttfbs = [], []
    for i in range(5):
        c = StreamClient(srv.live_url("demo"))
        try:
            assert c.status == 200, f"GET /live/demo.ts: {c.status_line}"
            head = c.read_exact(188 * 2000, timeout=10)
            ttfb = c.t_first_byte - c.t_request
        finally:
            c.close()
        ttfbs.append(round(ttfb * 1000, 1))
        info = analyze_start(head)
        desc = f"viewer {i}: {info}"
        if info["first_pids"][:1] != [0] or not info.get("pat"):
            problems.append(f"{desc}: first packet is not a PAT")
        elif info["pat"] != src.pat:
            problems.append(f"{desc}: PAT {info['pat']} differs from the source's {src.pat}")
        elif not info.get("pmt") or info["first_pids"][1] != src_pmt_pid:
            problems.append(f"{desc}: second packet is not the PMT (PID {src_pmt_pid})")
        elif not info.get("keyframe"):
            problems.append(f"{desc}: the first video PES is not a keyframe (PUSI {info.get('first_video_pusi')}, "
                            f"RAI {info.get('first_video_rai')}, NAL types {info.get('first_video_nals')})")
        if ttfb > 0.2:
            problems.append(f"viewer {i}: first byte after {ttfb * 1000:.0f} ms (want < 200 ms)")
        time.sleep(0.45)
    assert not problems, "instant start failed:\n" + "\n".join(problems) + f"\ntime to first byte (ms): {ttfbs}"


@pytest.mark.time_limit(60)
def test_instant_start_hevc(server, media):
    """Keyframe detection for H.265: a new viewer starts on an IRAP picture."""
    srv = server()
    srv.add_channel("hevc", f"file://{media['hevc']}")
    srv.wait_state("hevc", "up", timeout=10)
    time.sleep(2.5)

    def viewers():
        for i in range(3):
            c = StreamClient(srv.live_url("hevc"))
            try:
                assert c.status == 200, f"GET /live/hevc.ts: {c.status_line}"
                head = c.read_exact(188 * 1500, timeout=10)
            finally:
                c.close()
            info = analyze_start(head)
            assert info["first_pids"][:1] == [0] and info.get("pmt") and info.get("codec") == "hevc" \
                and info.get("keyframe"), f"viewer {i} of an HEVC channel: {info}"
            time.sleep(0.6)

    # ffmpeg decodes while the viewers come, from now on: hevc.ts is 10 s long and
    # the loop point is another test's business
    res = run_parallel(decode=lambda: ffmpeg_decode(srv.live_url("hevc"), 4), viewers=viewers)
    assert_ffmpeg_clean(res["decode"], srv.live_url("hevc"))


@pytest.mark.time_limit(60)
def test_audio_only_channel(server, media):
    """A radio channel (no video, so no keyframes) still starts at once and plays."""
    srv = server()
    srv.add_channel("radio", f"file://{media['radio']}")
    srv.wait_state("radio", "up", timeout=10)
    time.sleep(1)
    c = StreamClient(srv.live_url("radio"))
    try:
        assert c.status == 200, f"GET /live/radio.ts: {c.status_line}"
        head = c.read_exact(188 * 20, timeout=3)
    finally:
        c.close()
    info = analyze_start(head)
    assert info["first_pids"][:1] == [0] and info.get("pmt"), f"an audio-only stream should start with PAT, PMT: {info}"
    url = srv.live_url("radio")
    res = run_parallel(probe=lambda: ffprobe_json(url), decode=lambda: ffmpeg_decode(url, 4))
    codecs = [(s.get("codec_type"), s.get("codec_name")) for s in res["probe"]["streams"]]
    assert codecs == [("audio", "aac")], f"ffprobe of the radio channel: {codecs}"
    assert_ffmpeg_clean(res["decode"], url)


# --------------------------------------------------------------------------
# playlist and API

EXTINF = re.compile(r'^#EXTINF:(-?\d+)((?:\s+[\w-]+="[^"]*")*)\s*,(.*)$')


def parse_m3u(text):
    lines = [l.rstrip("\r") for l in text.split("\n") if l.strip()]
    assert lines and lines[0].startswith("#EXTM3U"), f"playlist does not start with #EXTM3U: {text[:200]!r}"
    entries = []
    i = 1
    while i < len(lines):
        m = EXTINF.match(lines[i])
        assert m, f"playlist line {i + 1} is not a valid #EXTINF: {lines[i]!r}"
        assert i + 1 < len(lines) and not lines[i + 1].startswith("#"), f"#EXTINF without URL: {lines[i]!r}"
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(2)))
        entries.append({"duration": m.group(1), "attrs": attrs, "title": m.group(3), "url": lines[i + 1]})
        i += 2
    return entries


CHANNELS = [
    # name, title, number, group, logo, tvg-id
    ("beta", "Beta News", 7, "News", "http://img.example/beta.png", "beta.tv"),
    ("zeta", "Zeta Sport", 3, "Sport", "http://img.example/zeta.png", "zeta.tv"),
    ("alpha", "Alpha One", 7, "News", "http://img.example/alpha.png", "alpha.tv"),
]


def test_playlist(server, media):
    srv = server()
    for name, title, number, group, logo, tvg in CHANNELS:
        srv.add_channel(name, f"file://{media['short']}", extra=[
            "--title", title, "--number", number, "--group", group, "--logo", logo, "--tvg-id", tvg])
    wait_until(lambda: len(srv.get("/api/v1/channels").json().get("channels", [])) == 3, 5,
               what="the server to see the 3 channels")
    r = srv.get("/playlist.m3u")
    assert r.status == 200, f"GET /playlist.m3u: {r}"
    assert r.headers.get("content-type", "").startswith("audio/x-mpegurl"), f"Content-Type: {r.headers}"
    entries = parse_m3u(r.text)
    order = [e["url"].rsplit("/", 1)[-1] for e in entries]
    assert order == ["zeta.ts", "alpha.ts", "beta.ts"], f"playlist order (by number, then name): {order}"
    by_name = {e["url"].rsplit("/", 1)[-1][:-3]: e for e in entries}
    for name, title, number, group, logo, tvg in CHANNELS:
        e = by_name[name]
        want = {"tvg-id": tvg, "tvg-logo": logo, "tvg-chno": str(number), "group-title": group}
        got = {k: e["attrs"].get(k) for k in want}
        assert got == want, f"playlist attributes of {name}: got {got}, want {want} (line attrs {e['attrs']})"
        assert e["attrs"].get("tvg-name") in (title, name), f"tvg-name of {name}: {e['attrs'].get('tvg-name')!r}"
        assert e["title"] == title, f"display title of {name}: {e['title']!r}"
        assert e["url"] == srv.url(f"/live/{name}.ts"), f"URL of {name}: {e['url']!r}"
    # the URL host follows the request's Host header
    r = srv.get("/playlist.m3u", headers={"Host": "tv.example.net:8090"})
    urls = [e["url"] for e in parse_m3u(r.text)]
    assert urls[0] == "http://tv.example.net:8090/live/zeta.ts", f"URLs with Host tv.example.net:8090: {urls}"


API_TYPES = {"name": str, "title": str, "number": int, "group": str, "logo": str, "tvg_id": str,
             "on_demand": bool, "idle_timeout": int, "lag_policy": str, "sources": list, "state": str,
             "state_reason": (str, type(None)), "source": (str, type(None)), "input_bitrate": (int, float),
             "viewers": int, "stats": dict}
STATS = ("bytes_in", "packets_in", "cc_errors", "sync_losses", "rtp_lost", "source_errors", "keyframes",
         "viewers_skipped", "viewers_dropped")


@pytest.mark.time_limit(60)
def test_api_fields_and_live_state(server, media):
    src = f"file://{media['demo']}"
    srv = server()
    srv.add_channel("demo", src, extra=["--title", "Demo", "--number", "1", "--group", "Test",
                                        "--logo", "http://img.example/demo.png", "--tvg-id", "demo.tv"])
    srv.wait_state("demo", "up", timeout=10)
    r = srv.get("/api/v1/channels")
    assert r.status == 200 and r.headers.get("content-type", "").startswith("application/json"), f"{r} {r.headers}"
    listing = r.json()["channels"]
    assert [c["name"] for c in listing] == ["demo"], f"/api/v1/channels: {listing}"
    ch = srv.channel("demo")
    wrong = {k: (type(ch.get(k)).__name__, t) for k, t in API_TYPES.items() if not isinstance(ch.get(k), t)}
    assert not wrong, f"channel JSON fields missing or of the wrong type: {wrong}\n{ch}"
    missing = [k for k in STATS if not isinstance(ch["stats"].get(k), int)]
    assert not missing, f"stats fields missing: {missing}\n{ch['stats']}"
    expect = {"title": "Demo", "number": 1, "group": "Test", "logo": "http://img.example/demo.png",
              "tvg_id": "demo.tv", "sources": [src], "source": src, "state": "up"}
    diff = {k: (ch[k], v) for k, v in expect.items() if ch[k] != v}
    assert not diff, f"channel JSON (got, want): {diff}"
    # input bitrate of demo.ts: a constant 4 Mbit/s mux
    ch = wait_until(lambda: (lambda c: c if 3.4e6 <= c["input_bitrate"] <= 4.6e6 else None)(srv.channel("demo")),
                    8, what="input_bitrate within 15 % of demo.ts's 4 Mbit/s")
    st = ch["stats"]
    assert st["bytes_in"] > 500_000 and st["packets_in"] > 2500 and st["keyframes"] >= 1, f"stats: {st}"
    assert st["cc_errors"] == 0 and st["sync_losses"] == 0, f"clean file playout reports errors: {st}"
    wait_until(lambda: srv.channel("demo")["stats"]["bytes_in"] > st["bytes_in"], 3,
               what="stats.bytes_in to grow")
    # viewers come and go
    assert ch["viewers"] == 0, f"no viewer yet, API says {ch['viewers']}"
    a = StreamClient(srv.live_url("demo"))
    b = StreamClient(srv.live_url("demo"))
    try:
        a.read_exact(188 * 100)
        b.read_exact(188 * 100)
        wait_until(lambda: srv.channel("demo")["viewers"] == 2, 3, what="viewers == 2 with two clients")
        a.close()
        wait_until(lambda: srv.channel("demo")["viewers"] == 1, 3, what="viewers == 1 after one client left")
    finally:
        a.close()
        b.close()
    wait_until(lambda: srv.channel("demo")["viewers"] == 0, 3, what="viewers == 0 after both left")


# --------------------------------------------------------------------------
# on-demand channels

@pytest.mark.time_limit(60)
def test_on_demand_channel(server, media):
    srv = server()
    srv.add_channel("lazy", f"file://{media['demo']}", extra=["--on-demand", "--idle-timeout", "3"])
    time.sleep(2)
    ch = srv.channel("lazy")
    assert ch["state"] == "idle" and ch["stats"]["bytes_in"] == 0 and ch["on_demand"] is True, \
        f"an on-demand channel with no viewer should be idle and read nothing: {ch}"
    c = StreamClient(srv.live_url("lazy"), timeout=10)
    try:
        assert c.status == 200, f"the first viewer of an on-demand channel got {c.status_line}"
        data = c.read_exact(188 * 1000, timeout=5)
        assert data[0] == 0x47, "not TS"
        assert srv.channel("lazy")["state"] == "up", "the first viewer should have started the channel"
        t_end = time.monotonic() + 2
        while time.monotonic() < t_end:
            c.recv()
    finally:
        c.close()
    t_close = time.monotonic()
    wait_until(lambda: srv.channel("lazy")["state"] == "idle", 10, interval=0.1,
               what="the on-demand channel to stop after its idle timeout")
    idle_after = time.monotonic() - t_close
    assert 2.0 <= idle_after <= 6.0, \
        f"idle_timeout is 3 s, the channel stopped {idle_after:.1f} s after the last viewer"
    # and a new viewer starts it again
    c = StreamClient(srv.live_url("lazy"), timeout=10)
    try:
        assert c.status == 200, f"restarting the on-demand channel: {c.status_line}"
        c.read_exact(188 * 1000, timeout=5)
    finally:
        c.close()


# --------------------------------------------------------------------------
# CLI changes reach a running server

@pytest.mark.time_limit(60)
def test_cli_add_reaches_running_server(server, media):
    srv = server()
    t0 = time.monotonic()
    srv.add_channel("late", f"file://{media['demo']}")
    srv.wait_state("late", "up", timeout=5)
    c = StreamClient(srv.live_url("late"))
    try:
        assert c.status == 200, f"GET /live/late.ts: {c.status_line}"
        c.read_exact(188 * 1000, timeout=5)
    finally:
        c.close()
    took = time.monotonic() - t0
    assert took < 5, f"a channel added with the CLI took {took:.1f} s to play"
    assert "late.ts" in srv.get("/playlist.m3u").text, "the new channel is missing from the playlist"


def _assert_removed(srv, v, name, t0):
    v.join(10)
    assert v.eof or v.error, f"the viewer of removed channel {name!r} is still connected: {v.describe()}"
    assert v.eof_at is None or v.eof_at - t0 < 5, f"the viewer was closed {v.eof_at - t0:.1f} s after rm"
    assert srv.get(f"/live/{name}.ts").status == 404, f"removed channel {name!r} still answers"
    assert srv.channel(name) is None, f"removed channel {name!r} is still in the API"
    assert f"/live/{name}.ts" not in srv.get("/playlist.m3u").text, f"removed {name!r} is still in the playlist"


@pytest.mark.time_limit(60)
def test_cli_rm_disconnects_viewers(server, media):
    """rm of one channel closes its viewers and leaves the other alone; rm of
    the last channel too."""
    srv = demo_server(server, media, name="doomed")
    srv.add_channel("survivor", f"file://{media['short']}")
    srv.wait_state("survivor", "up", timeout=10)
    v = srv.viewer("doomed", duration=40)
    other = srv.viewer("survivor", duration=40)
    wait_until(lambda: v.checker.bytes > 100000 and other.checker.bytes > 50000, 5,
               what="both viewers to receive data")
    t0 = time.monotonic()
    srv.cli_ok("channel", "rm", "doomed")
    _assert_removed(srv, v, "doomed", t0)
    assert other.is_alive() and not other.eof and other.error is None, \
        f"removing 'doomed' disturbed the viewer of 'survivor': {other.describe()}"
    t0 = time.monotonic()
    srv.cli_ok("channel", "rm", "survivor")   # the last channel
    _assert_removed(srv, other, "survivor", t0)
    assert srv.get("/api/v1/channels").json() == {"channels": []}, "the API still lists channels after rm of all"


@pytest.mark.time_limit(60)
def test_cli_set_source_restarts_input_viewer_stays(server, media):
    srv = demo_server(server, media, name="switch")
    v = srv.viewer("switch", duration=40, record=True)
    wait_until(lambda: v.checker.bytes > 200000, 5, what="the viewer to receive data")
    new = f"file://{media['short']}"
    srv.cli_ok("channel", "set", "switch", "--source", new)
    wait_until(lambda: srv.channel("switch")["source"] == new, 5, what="the channel to use the new source")
    srv.wait_state("switch", "up", timeout=5)
    b0 = v.checker.bytes
    time.sleep(5)
    v.stop()
    assert v.error is None and not v.eof, f"the viewer was disconnected by the source change: {v.describe()}"
    assert not v.checker.sync_errors, f"TS sync broke at the source change: {v.describe()}"
    got = v.checker.bytes - b0
    assert got > 5 * 2_000_000 / 8 * 0.7, f"only {got} bytes in the 5 s after the change: {v.describe()}"
    # the last 3 s the viewer received are the new source (short.ts: 640x360)
    tmp = tempfile.NamedTemporaryFile(suffix=".ts", delete=False)
    try:
        cut = len(v.recorded) - 3 * 2_000_000 // 8
        cut -= cut % 188
        tmp.write(bytes(v.recorded[cut:]))
        tmp.close()
        probe = ffprobe_json(tmp.name)
        sizes = {(s.get("width"), s.get("height")) for s in probe["streams"] if s.get("codec_type") == "video"}
        assert sizes == {(640, 360)}, \
            f"after the change the viewer should get short.ts (640x360), its last 3 s show video {sizes}"
    finally:
        os.unlink(tmp.name)


# --------------------------------------------------------------------------
# slow viewers

SLOW_RATE = 4_000_000 / 8 / 10     # a tenth of demo.ts's 4 Mbit/s


@pytest.mark.time_limit(150)
def test_slow_viewers_skip_and_close(server, media):
    """Two channels of demo.ts, lag policy skip and close. On each, one viewer
    reads at a tenth of the bitrate while three read normally for 15 s: the
    normal ones get the full stream without a continuity error; the slow one is
    moved to the newest keyframe (skip) or closed (close); the server's memory
    stays bounded. (Both policies at once; a 2 MiB ring, 4 s of this channel,
    so that the lag builds up through the socket buffers and the ring in
    seconds rather than the ~45 s of the default 8 MiB.)"""
    # a small ASan quarantine: measure antenne's memory, not ASan's free-list
    asan = os.environ.get("ASAN_OPTIONS", "")
    srv = server(env={"ASAN_OPTIONS": (asan + ":" if asan else "") + "quarantine_size_mb=16"},
                 serve_args=("--ring-mb", "2"))
    src = f"file://{media['demo']}"
    srv.add_channel("skipper", src, extra=["--lag-policy", "skip"])
    srv.add_channel("closer", src, extra=["--lag-policy", "close"])
    srv.wait_state("skipper", "up", timeout=10)
    srv.wait_state("closer", "up", timeout=10)
    time.sleep(2)
    rss0 = rss_max = srv.rss_kib()
    slow = {ch: srv.viewer(ch, duration=140, rate=SLOW_RATE, rcvbuf=8192, stall_timeout=60)
            for ch in ("skipper", "closer")}
    normal = [(ch, srv.viewer(ch, duration=15)) for ch in ("skipper", "closer") for _ in range(3)]
    deadline = time.monotonic() + 30
    while any(v.is_alive() for _, v in normal) and time.monotonic() < deadline:
        rss_max = max(rss_max, srv.rss_kib())
        time.sleep(0.5)
    for ch, v in normal:
        v.join(5)
        try:
            v.assert_clean(min_seconds=0.95 * 15)
        except AssertionError as e:
            raise AssertionError(f"a normal viewer of {ch!r} next to a slow viewer: {e}") from None

    handled = {}

    def lag_handled():
        nonlocal rss_max
        rss_max = max(rss_max, srv.rss_kib())
        for ch, field in (("skipper", "viewers_skipped"), ("closer", "viewers_dropped")):
            if ch not in handled:
                st = srv.channel(ch)["stats"]
                if st[field] >= 1:
                    handled[ch] = st
        return len(handled) == 2

    try:
        wait_until(lag_handled, 100, interval=0.5, what="both slow viewers to be handled by their lag policy")
    except AssertionError as e:
        raise AssertionError(f"{e}\nhandled so far: {handled}\n"
                             + "\n".join(f"{ch}: {srv.channel(ch)}\nslow {v.describe()}" for ch, v in slow.items())) \
            from None
    # skip: still connected, still aligned, and nobody was dropped
    s = slow["skipper"]
    time.sleep(1)
    assert s.is_alive() and not s.eof and s.error is None, \
        f"with lag policy skip the slow viewer must stay connected: {s.describe()}"
    assert not s.checker.sync_errors, f"skipping broke TS packet alignment: {s.describe()}"
    assert handled["skipper"]["viewers_dropped"] == 0, f"skip policy dropped a viewer: {handled['skipper']}"
    # close: the connection ends once the kernel's buffer is drained (read it fast now)
    c = slow["closer"]
    c.rate = None
    try:
        wait_until(lambda: c.eof or c.error, 20, what="the closed slow viewer to see the end of its stream")
    except AssertionError as e:
        raise AssertionError(f"{e}: {c.describe()}") from None
    assert not c.checker.sync_errors, f"TS sync broke before close: {c.describe()}"
    s.stop()
    growth = (rss_max - rss0) / 1024
    assert growth < 64, f"server RSS grew by {growth:.1f} MiB (from {rss0 / 1024:.1f} MiB) with slow viewers"
    for ch in ("skipper", "closer"):
        wait_until(lambda: srv.channel(ch)["viewers"] == 0, 5, what=f"{ch}: viewers == 0 after all viewers left")
