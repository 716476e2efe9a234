# SPDX-License-Identifier: MIT
"""Catch-up and timeshift with real players (issue 6): the archive holds
video whose every frame carries the moment it stands for (clock.py), so each
test proves that the right moment plays, not just some video.

A recording made ten minutes ago is imported (`channel archive-import`), the
channel also records a live clock; then ffmpeg, VLC and hls.js play a
two-minute range from ten minutes ago, timeshift streams start where asked and
are paced in real time, ?utc= works on the live URLs, personal playlists carry
catch-up attributes and EPG programmes link to their recording."""

import re
import socket
import subprocess
import time

import pytest

from clock import make_clock_live, make_clock_ts, read_clock
from harness import StreamClient, TsChecker, free_port, run_parallel, vlc_play, wait_until
from hls_harness import HlsJsPlayer
from test_40_subscribers import playlist_for, token_of

AGO = 600           # the range starts ten minutes ago
LENGTH = 120        # and lasts two minutes


@pytest.fixture(scope="module")
def old_recording(tmp_path_factory):
    """150 s of clock video standing for the time from AGO + 10 s ago on."""
    start = int(time.time()) - AGO - 10
    path = tmp_path_factory.mktemp("clock") / "old.ts"
    make_clock_ts(path, start, 150)
    return path, start


@pytest.fixture
def archive(server, procs, old_recording):
    """A server whose channel `tv` records a live clock and holds the old recording."""
    path, start = old_recording
    port = free_port(socket.SOCK_DGRAM)
    srv = server(start=False)
    srv.cli_ok("channel", "add", "tv", "--source", f"udp://127.0.0.1:{port}", "--archive", "--title", "TV",
               "--tvg-id", "tv.test")
    r = srv.cli_ok("channel", "archive-import", "tv", str(path), "--start", str(start))
    assert "imported" in r.stdout, r.stdout
    srv.start()
    procs.start(make_clock_live(f"udp://127.0.0.1:{port}?pkt_size=1316"), "clock-live")
    srv.wait_state("tv", "up", timeout=15)
    srv.live_since = time.time()
    return srv, start


def first_pdt(playlist):
    m = re.search(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)", playlist)
    assert m, playlist
    return time.mktime(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone + float(
        "0" + m.group(1)[19:-1])


def test_players_play_the_right_moment(archive, tmp_path):
    srv, start = archive
    frm = int(time.time()) - AGO
    path = f"/live/tv/index-{frm}-{LENGTH}.m3u8"
    text = srv.get(path).text
    assert "#EXT-X-ENDLIST" in text, text
    pdt = first_pdt(text)
    # the first segment is the one playing at `from`: it starts at most a GOP before
    assert frm - 2.1 <= pdt <= frm, (pdt, frm)
    url = srv.url(path)
    total = sum(float(d) for d in re.findall(r"#EXTINF:([\d.]+),", text))
    assert LENGTH <= total <= LENGTH + 4.5, total

    # ffmpeg, VLC and hls.js play the range at the same time (each is checked on its own)
    def ffmpeg():
        # the first decoded frame stands for the playlist's first moment
        shown = read_clock(url)[0]
        print(f"ffmpeg: asked {frm}, first frame {shown:.2f}")
        assert abs(shown - pdt) < 0.05, (shown, pdt)
        # and its last frame is two minutes on
        end = read_clock(url, seek=total - 0.5)[0]
        assert abs(end - (pdt + total - 0.5)) < 0.5, (end, pdt + total)

    def vlc():
        # VLC plays it (and records what it demuxed: the same moment)
        vlc = vlc_play(url, seconds=6, min_bytes=100_000)
        assert vlc["picture_sizes"], vlc

    def hlsjs():
        # hls.js in Chromium: after playing 4 s, the picture on screen stands for pdt + currentTime
        shot = tmp_path / "hlsjs.png"
        player = HlsJsPlayer(url, shot, seconds=4, timeout=60, low_latency=False)
        try:
            res = player.result()
        finally:
            player.kill()
        # A recording cut at a keyframe may begin with a few hundred ms of video
        # before its first audio frame: hls.js steps over that hole once, at the
        # start (non-fatal); nothing else is allowed.
        errors = [e for e in res.get("errors") or []
                  if not (e.get("details") == "bufferSeekOverHole" and not e.get("fatal") and e.get("ct", 9) < 1)]
        assert res.get("advanced", 0) >= 4 and not errors, (res.get("reason"), res.get("errors"), res)
        on_screen = read_clock(str(shot))[0]
        print(f"hls.js: currentTime {res['currentTime']:.2f}, on screen {on_screen:.2f}, "
              f"expected {pdt + res['currentTime']:.2f}")
        assert abs(on_screen - (pdt + res["currentTime"])) < 1.0, (on_screen, pdt, res["currentTime"])

    run_parallel(ffmpeg=ffmpeg, vlc=vlc, hlsjs=hlsjs)


def test_timeshift_starts_where_asked_and_live_is_the_wall_clock(archive):
    srv, _ = archive
    frm = int(time.time()) - AGO + 30

    def first_frames():
        for path in (f"/live/tv/timeshift_abs-{frm}.ts", f"/live/tv.ts?utc={frm}", "/live/tv/timeshift_rel-{}.ts"):
            path = path.format(int(time.time()) - frm)   # (relative: from the moment of the request)
            shown = read_clock(srv.url(path))[0]
            print(f"{path}: first frame {shown:.2f} (asked {frm})")
            assert frm - 2.1 <= shown <= frm + 1.1, (path, shown, frm)

    def paced():
        # paced in real time: after 3 s lead, as much stream time as wall time
        c = StreamClient(srv.url(f"/live/tv/timeshift_abs-{frm}.ts"))
        checker = TsChecker()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 8:
            checker.feed(c.recv(65536))
        c.close()
        assert not checker.sync_errors and checker.cc_error_count <= 4, checker.summary()
        assert 8 + 1 <= checker.pcr_time <= 8 + 3 + 2.5, checker.summary()

    # (at the same time: each viewer is a stream of its own)
    run_parallel(first_frames=first_frames, paced=paced)
    # the live playlists with ?utc= start there too, and grow
    text = srv.get(f"/live/tv/index.m3u8?utc={frm}").text
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in text and frm - 2.1 <= first_pdt(text) <= frm, text[:400]
    # what is recorded live stands for the wall clock it was recorded at
    time.sleep(max(0.0, srv.live_since + 10 - time.time()))   # 10 s of live recorded
    frm = int(time.time()) - 6
    text = srv.get(f"/live/tv/index-{frm}-4.m3u8").text
    shown = read_clock(srv.url(f"/live/tv/index-{frm}-4.m3u8"))[0]
    pdt = first_pdt(text)
    # a segment's time is when its first byte arrived: the picture is a little older
    assert pdt - 1.0 <= shown <= pdt + 0.1, (shown, pdt)
    assert frm - 2.5 <= shown <= frm + 0.5, (shown, frm)


def test_catch_up_in_playlists_and_guide(archive, tmp_path):
    srv, start = archive
    assert srv.api("POST", "/api/v1/packages", {"name": "basic", "channels": ["tv"]}).status == 201
    assert srv.api("POST", "/api/v1/subscribers", {"name": "alice", "password": "secret-alice",
                                                   "packages": ["basic"]}).status == 201
    m3u = playlist_for(srv, "alice")
    line = next((l for l in m3u.splitlines() if 'tvg-id="tv.test"' in l), m3u)
    assert 'catchup="append"' in line and 'catchup-days="7"' in line and \
        'catchup-source="?utc={utc}&lutc={lutc}"' in line, line
    # what Kodi does with it: the stream URL plus the programme's start
    token = token_of(m3u)
    frm = int(time.time()) - AGO + 60
    url = srv.url(f"/t/{token}/live/tv.ts?utc={frm}&lutc={int(time.time())}")
    shown = read_clock(url)[0]
    assert frm - 2.1 <= shown <= frm + 1.1, (shown, frm)
    # a guide whose programme aired in the archived range links to it
    guide = tmp_path / "guide.xml"
    fmt = lambda t: time.strftime("%Y%m%d%H%M%S +0000", time.gmtime(t))
    guide.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<tv><channel id="tv.test"><display-name>TV</display-name></channel>
<programme start="{fmt(frm)}" stop="{fmt(frm + 60)}" channel="tv.test"><title>The match</title></programme>
<programme start="{fmt(frm - 3600)}" stop="{fmt(frm - 3600 + 60)}" channel="tv.test"><title>Earlier</title></programme>
</tv>""")
    srv.cli_ok("epg", "add", "main", "--url", f"file://{guide}")
    srv.cli_ok("epg", "import", "main")
    progs = srv.api("GET", f"/api/v1/channels/tv/epg?from={frm - 90000}&to={frm + 3600}").json()["programmes"]
    match = next(p for p in progs if p["title"] == "The match")
    earlier = next(p for p in progs if p["title"] == "Earlier")
    assert "catchup" not in earlier, earlier
    assert match["catchup"] == {"hls": f"/live/tv/archive-{frm}-60.m3u8", "ts": f"/live/tv/timeshift_abs-{frm}.ts"}
    shown = read_clock(srv.url(f"/t/{token}{match['catchup']['hls']}"))[0]
    assert frm - 2.1 <= shown <= frm, (shown, frm)
