# SPDX-License-Identifier: MIT
"""test_10_ingest_file.py -- file playout: real clients play it, the loop is
seamless, folders play, and a file that is not TS is reported while the server
keeps serving."""

import os

import pytest

from harness import check_real_clients, ffmpeg_decode, ffprobe_json, assert_h264_aac, assert_ffmpeg_clean, \
    run_parallel, random_bytes

NOT_TS = r"sync|mpeg-?ts|transport stream|not (an? )?ts|neither|invalid|garbage"


@pytest.mark.time_limit(90)
def test_file_playout_plays_in_real_clients(server, media):
    srv = server()
    srv.add_channel("demo", f"file://{media['demo']}")
    srv.wait_state("demo", "up", timeout=10)
    check_real_clients(srv.live_url("demo"))


@pytest.mark.time_limit(90)
def test_file_playout_loops_seamlessly(server, media):
    """short.ts is 10 s long; 14 s of viewing crosses the loop point: no
    continuity error (unless flagged with discontinuity_indicator), PCR keeps
    going forward, and ffmpeg decodes across the loop without an error."""
    srv = server()
    srv.add_channel("short", f"file://{media['short']}")
    srv.wait_state("short", "up", timeout=10)
    v = srv.viewer("short", duration=14)
    url = srv.live_url("short")
    res = run_parallel(decode=lambda: ffmpeg_decode(url, 14))
    v.join(30)
    assert_ffmpeg_clean(res["decode"], url + " (across the loop point)")
    assert v.status == 200 and v.error is None and not v.eof, v.describe()
    assert not v.checker.sync_errors, f"TS sync lost: {v.describe()}"
    assert v.checker.cc_error_count == 0, f"continuity error at the loop point: {v.describe()}"
    assert v.checker.pcr_jumps == [], \
        f"PCR jumped (delta s, offset, discontinuity flag) instead of continuing across the loop: {v.describe()}"
    assert v.checker.pcr_time >= 12.5, f"the viewer got only {v.checker.pcr_time:.1f} s of stream: {v.describe()}"


@pytest.mark.time_limit(60)
def test_file_playout_of_a_folder(server, media, tmp_path):
    folder = tmp_path / "playlist"
    folder.mkdir()
    os.symlink(media["short"], folder / "a.ts")
    os.symlink(media["short"], folder / "b.ts")
    (folder / "notes.txt").write_text("not a video\n")
    srv = server()
    srv.add_channel("folder", f"file://{folder}/")
    srv.wait_state("folder", "up", timeout=10)
    url = srv.live_url("folder")
    v = srv.viewer("folder", duration=4)
    probe = ffprobe_json(url)
    assert_h264_aac(probe, url)
    v.join(15)
    assert v.status == 200 and v.error is None and not v.eof and not v.checker.sync_errors, v.describe()
    assert v.checker.pcr_time >= 3.0, f"folder playout delivered too little: {v.describe()}"


@pytest.mark.time_limit(60)
def test_file_that_is_not_ts_is_reported(good_channel, tmp_path):
    srv, _ = good_channel
    bogus = tmp_path / "holiday.ts"
    bogus.write_bytes((b"<html><body>this is not a transport stream</body></html>\n" * 2000)
                      + random_bytes(200000, seed=1))
    url = f"file://{bogus}"
    srv.add_channel("bogus", url)
    srv.wait_log(NOT_TS, where=["bogus", url], timeout=10)
    ch = srv.wait_state("bogus", "down", timeout=10)
    assert ch["state_reason"], f"a down channel should say why: {ch}"
    r = srv.get("/live/bogus.ts", timeout=8)   # a short wait for a signal is fine
    assert r.status == 503, f"/live/bogus.ts of a channel with no signal should be 503, got {r}"
    assert "bogus" in r.text, f"the 503 body should name the channel: {r.text!r}"


@pytest.mark.time_limit(60)
def test_missing_file_is_reported(good_channel, tmp_path):
    srv, _ = good_channel
    path = tmp_path / "nowhere" / "gone.ts"
    r = srv.cli("channel", "add", "gone", "--source", f"file://{path}")
    if r.returncode != 0:
        # rejecting it up front is fine, as long as it is a clear usage error
        assert r.returncode == 1 and "--source" in r.stderr and str(path) in r.stderr, \
            f"rejecting a missing file: exit {r.returncode}, stderr {r.stderr!r}"
        return
    srv.wait_log(r"no such file|not found|cannot open|can't open|enoent|does not exist", where=[str(path)],
                 timeout=10)
    srv.wait_state("gone", "down", timeout=10)
