# SPDX-License-Identifier: MIT
"""test_30_hls_bad_input.py -- awkward sources still give valid playlists and a
clear channel warning (issue 3, "Bad input"): a 10 s GOP with a 2 s target,
audio only (no keyframes at all), timestamps jumping back, and a PCR that
wraps (33 bits, ~26.5 h) a few seconds in. All four channels run on one server
at the same time; their playlists are polled and checked with the same rules
as the conformance test, and ffmpeg plays them. (Malformed _HLS_msn/_HLS_part
queries: test_30_hls_http.py.)"""

import json
import re
import socket
import threading
import time

import pytest

from harness import free_port, run_parallel
from harness import assert_h264_aac, ffprobe_json
from hls_harness import (FIXTURE_RATES, PacedUdpSender, PlaylistRules, PlaylistWatch, assert_ffmpeg_hls_clean,
                         make_fixture, wait_playlist)

WATCH_SECONDS = 26


@pytest.mark.time_limit(150)
def test_bad_sources_give_valid_playlists_and_warnings(server, media, tmp_path_factory):
    d = tmp_path_factory.getbasetemp() / "hls-media"
    fixtures = run_parallel(gop10=lambda: make_fixture("gop10", d), jumpback=lambda: make_fixture("jumpback", d),
                            pcrwrap=lambda: make_fixture("pcrwrap", d))
    srv = server()
    ports = {k: free_port(socket.SOCK_DGRAM) for k in ("jumpback", "pcrwrap")}
    srv.add_channel("gop10", f"file://{fixtures['gop10']}")
    srv.add_channel("radio", f"file://{media['radio']}")
    srv.add_channel("jumpback", f"udp://127.0.0.1:{ports['jumpback']}")
    srv.add_channel("pcrwrap", f"udp://127.0.0.1:{ports['pcrwrap']}")
    for n in ("jumpback", "pcrwrap"):
        srv.wait_state(n, ("starting", "down", "up"), timeout=10)
    senders = [PacedUdpSender(fixtures[n], [("127.0.0.1", ports[n])], FIXTURE_RATES[n], seconds=WATCH_SECONDS + 40)
               for n in ("jumpback", "pcrwrap")]
    for s in senders:
        s.start()
    stop = threading.Event()
    try:
        # first playlists; the 10 s GOP needs up to two GOPs before anything is published
        run_parallel(**{n: (lambda n=n: wait_playlist(srv, n, min_segments=1, timeout=35))
                        for n in ("gop10", "radio", "jumpback", "pcrwrap")})
        watches = {}
        for n in ("gop10", "radio", "jumpback", "pcrwrap"):
            video_keyframes = n not in ("gop10", "radio")
            # the GOP-10 channel cannot promise independent segments; radio has no video
            watches[n] = PlaylistWatch(srv.url(f"/live/{n}/index.m3u8"),
                                       PlaylistRules(f"{n} index.m3u8", independent=n != "gop10"),
                                       duration=WATCH_SECONDS, interval=0.5, stop_event=stop,
                                       keyframe_first=video_keyframes)
            watches[n + "-ll"] = PlaylistWatch(srv.url(f"/live/{n}/index.ll.m3u8"),
                                               PlaylistRules(f"{n} index.ll.m3u8", ll=True, independent=n != "gop10"),
                                               duration=WATCH_SECONDS, interval=0.5, stop_event=stop,
                                               fetch_segments=False)
        t0 = time.monotonic()
        for w in watches.values():
            w.start()
        base = srv.url("/live")
        # players, meanwhile: radio and the PCR wrap must decode cleanly; the jump back
        # must not break ffmpeg either; the GOP-10 channel must at least be readable
        player_error = None
        try:
            run_parallel(
                radio=lambda: assert_ffmpeg_hls_clean(f"{base}/radio/index.m3u8", 12),
                pcrwrap=lambda: assert_ffmpeg_hls_clean(f"{base}/pcrwrap/index.m3u8", 16),
                # (ffmpeg says this of the fixture file itself at the jump: not antenne's doing)
                jumpback=lambda: assert_ffmpeg_hls_clean(f"{base}/jumpback/index.m3u8", 16,
                                                         allow=(r"non monotonically increasing dts to muxer",)),
                gop10=lambda: assert_h264_aac(ffprobe_json(f"{base}/gop10/index.m3u8"), "gop10 index.m3u8"),
            )
        except AssertionError as e:
            player_error = str(e)
        for w in watches.values():
            w.join(WATCH_SECONDS + 20)
        elapsed = time.monotonic() - t0
    finally:
        stop.set()
        for s in senders:
            s.stop()
    srv.assert_alive()
    channels = {n: srv.channel(n) for n in ("gop10", "radio", "jumpback", "pcrwrap")}

    fails = [f"players: {player_error}"] if player_error else []
    for name, w in watches.items():
        if w.problems:
            fails.append(f"{name}: {len(w.problems)} problems:\n" + "\n\n".join(w.problems[:8]))
        if w.playlists < WATCH_SECONDS:
            fails.append(f"{name}: only {w.playlists} playlists in {WATCH_SECONDS} s")

    def warned(n, pattern):
        ws = channels[n].get("warnings")
        if not isinstance(ws, list) or not any(re.search(pattern, str(x), re.I) for x in ws):
            fails.append(f"{n}: expected a channel warning matching /{pattern}/, got {json.dumps(ws)}")

    warned("gop10", r"GOP|keyframe|key frame|target")
    warned("radio", r"keyframe|key frame|audio|no video")
    warned("jumpback", r"timestamp|jump|discontinu|PTS|PCR")

    # timestamps jumping back: an EXT-X-DISCONTINUITY, numbers that go on
    jb = watches["jumpback"]
    if not jb.discontinuity_msns and not any(dsn for _, _, dsn in jb.media_sequences):
        fails.append(f"jumpback: no EXT-X-DISCONTINUITY in {WATCH_SECONDS} s although the timestamps jumped "
                     f"back (every 16 s):\n{jb.last.text if jb.last else None}")
    # the PCR wrap is not a reason to renumber: about one segment per target duration
    pw = watches["pcrwrap"]
    ms = [m for _, m, _ in pw.media_sequences if m is not None]
    if ms and ms[-1] - ms[0] > elapsed / 2 + 3:
        fails.append(f"pcrwrap: MEDIA-SEQUENCE jumped {ms[0]} -> {ms[-1]} in {elapsed:.0f} s across the wrap")
    # every channel kept publishing
    for n in ("gop10", "radio", "jumpback", "pcrwrap"):
        w = watches[n]
        if not w.last or w.last.last_msn is None or w.first.last_msn is None or \
                w.last.last_msn <= w.first.last_msn:
            fails.append(f"{n}: no new segment in {WATCH_SECONDS} s")
    assert not fails, f"{len(fails)} checks failed:\n\n" + "\n\n".join(fails) + \
        "\n\nchannels:\n" + json.dumps(channels, indent=1)[:4000]
