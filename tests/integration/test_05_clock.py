# SPDX-License-Identifier: MIT
"""test_05_clock.py -- self-test of clock.py, the test media whose every frame
carries the moment it stands for (for the catch-up/timeshift tests of issue 6).

No antenne here: these tests prove that the generator writes the moments it
should, and that the reader reads them back exactly (after H.264, seeking,
HTTP, HLS, scaling and level changes), refuses frames without a valid clock,
and that the live generator's clock is the wall clock.
"""

import functools
import http.server
import socket
import statistics
import subprocess
import threading
import time

import pytest

import clock
from harness import free_port

START = 1_700_000_000          # 2023-11-14 22:13:20 UTC
FPS = 25


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory):
    """A 20 s clock file starting at START, and how long making it took."""
    d = tmp_path_factory.mktemp("clock")
    t0 = time.monotonic()
    path = clock.make_clock_ts(d / "clock.ts", START, 20)
    return path, time.monotonic() - t0


def _probe(path, *args):
    r = subprocess.run(["ffprobe", "-v", "error", *args, "-of", "csv=p=0", str(path)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, f"ffprobe {path}: {r.stderr[-1000:]}"
    return [l for l in r.stdout.splitlines() if l.strip()]


def _frame(path, seek):
    """(width, height, grey bytes) of the frame at `seek` s, decoded by ffmpeg."""
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ss", str(seek), "-frames:v", "1",
                        "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True, timeout=30)
    assert r.returncode == 0 and len(r.stdout) == 320 * 180, f"ffmpeg: {r.stderr[-1000:]!r}"
    return r.stdout


@pytest.mark.time_limit(60)
def test_file_is_h264_aac_with_fixed_gop_and_constant_rate(clock_file):
    path, took = clock_file
    assert took < 15, f"making 20 s of clock video took {took:.1f} s"
    streams = sorted(set(_probe(path, "-show_entries", "stream=codec_name,width,height")))
    assert streams == ["aac", "h264,320,180"], streams
    keys = [float(t.strip(",")) for t in
            _probe(path, "-select_streams", "v", "-skip_frame", "nokey", "-show_entries", "frame=pts_time")]
    gaps = [round(b - a, 3) for a, b in zip(keys, keys[1:])]
    assert len(keys) == 10 and set(gaps) == {2.0}, f"keyframes at {keys}"
    dur, rate = (float(v) for v in _probe(path, "-show_entries", "format=duration,bit_rate")[0].split(","))
    assert abs(dur - 20) < 0.1, dur
    # constant mux rate: 1.35 x (400k + 64k) + 20k
    assert abs(rate - 646_000) / 646_000 < 0.03, rate


@pytest.mark.time_limit(60)
def test_read_first_frames_and_seek_exactly(clock_file):
    path, _ = clock_file
    assert clock.read_clock_info(path, frames=3) == [(START, 0, FPS), (START, 1, FPS), (START, 2, FPS)]
    assert clock.read_clock(path, frames=3) == pytest.approx([START, START + 0.04, START + 0.08], abs=1e-6)
    got = clock.read_clock_info(path, seek=12.4)
    assert got == [(START + 12, 10, FPS)], [str(f) for f in got]
    assert clock.read_clock(path, seek=12.4) == pytest.approx([START + 12.4], abs=1e-6)
    # a seek onto a keyframe, and the last frame
    assert clock.read_clock_info(path, seek=10) == [(START + 10, 0, FPS)]
    assert clock.read_clock_info(path, seek=19.96) == [(START + 19, 24, FPS)]


@pytest.mark.time_limit(60)
def test_every_frame_reads_back(clock_file):
    """All 500 frames, decoded as raw grey by ffmpeg, read back as exactly the
    moment they stand for (second wraps, every frame number, P-frames at the
    end of a GOP)."""
    path, _ = clock_file
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "gray",
                        "-"], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr[-1000:]
    frames = clock.decode_clock_frames(r.stdout, 320, 180)
    want = [(START + n // FPS, n % FPS, FPS) for n in range(20 * FPS)]
    wrong = [(n, str(f)) for n, (f, w) in enumerate(zip(frames, want)) if f != w]
    assert len(frames) == len(want) and not wrong, f"{len(frames)} frames, wrong: {wrong[:5]}"
    assert clock.read_clock_frames(r.stdout[:3 * 320 * 180], 320, 180) == \
        pytest.approx([START, START + 0.04, START + 0.08], abs=1e-6)


@pytest.mark.time_limit(60)
@pytest.mark.parametrize("what,vf", [
    ("upscaled to 1280x720", "scale=1280:720"),
    ("downscaled to 200x112", "scale=200:112"),
    ("stretched to 400x180", "scale=400:180"),
    ("letterboxed in black", "pad=480:360:80:90:black"),
    ("on a white page", "scale=427:240,pad=800:600:187:180:white"),
    ("with less contrast", "eq=contrast=0.45:brightness=0.15"),
    ("darker, gamma", "eq=gamma=0.6:brightness=-0.1"),
    ("blurred, noisy", "gblur=sigma=1.2,noise=alls=20"),
])
def test_reader_tolerates_scaling_and_levels(clock_file, what, vf):
    path, _ = clock_file
    got = clock.read_clock_info(path, seek=7.48, vf=vf)
    assert got == [(START + 7, 12, FPS)], f"{what}: {[str(f) for f in got]}"


@pytest.mark.time_limit(60)
def test_reader_refuses_what_it_cannot_read(clock_file):
    path, _ = clock_file
    w, h = 320, 180
    frame = bytearray(_frame(path, 3.0))
    assert clock.decode_clock(frame, w, h) == (START + 3, 0, FPS)
    cw, ch = w / clock.COLS, 8

    def invert(row, col):
        bad = bytearray(frame)
        for y in range(row * ch + 2, (row + 1) * ch - 2):
            for x in range(int(col * cw) + 2, int((col + 1) * cw) - 2):
                bad[y * w + x] = 255 - bad[y * w + x]
        return bad

    # one data bit flipped (a bit of the seconds, of the frame number): the check value refuses it
    for row, col in ((1, 20), (2, 6)):
        with pytest.raises(clock.ClockError, match=r"check=\d+ \(want check \d+"):
            clock.decode_clock(invert(row, col), w, h)
    with pytest.raises(clock.ClockError, match="marker cell"):
        clock.decode_clock(invert(1, 0), w, h)
    # a picture without a band says what it saw
    r = subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180", "-frames:v", "1",
                        "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True, timeout=30)
    with pytest.raises(clock.ClockError, match=r"no clock band readable in the 320x180 frame \(mean level \d+"):
        clock.read_clock_frames(r.stdout, w, h)
    with pytest.raises(clock.ClockError, match="not a whole number"):
        clock.read_clock_frames(bytes(frame[:-1]), w, h)
    with pytest.raises(clock.ClockError, match="gave 0 of 1 frames"):
        clock.read_clock(path, seek=25)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.time_limit(60)
def test_read_over_http_ts_and_hls(clock_file):
    path, _ = clock_file
    d = path.parent
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(path), "-c", "copy", "-f", "hls",
                        "-hls_time", "2", "-hls_playlist_type", "vod", "-hls_segment_filename", str(d / "seg%03d.ts"),
                        str(d / "index.m3u8")], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr[-1000:]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(d)))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        assert clock.read_clock_info(f"{base}/clock.ts", seek=12.4) == [(START + 12, 10, FPS)]
        assert clock.read_clock_info(f"{base}/index.m3u8", frames=2) == [(START, 0, FPS), (START, 1, FPS)]
        assert clock.read_clock_info(f"{base}/index.m3u8", seek=12.4) == [(START + 12, 10, FPS)]
    finally:
        httpd.shutdown()
        httpd.server_close()
        t.join(5)


@pytest.mark.time_limit(60)
def test_live_generator_shows_the_wall_clock(procs):
    port = free_port(socket.SOCK_DGRAM)
    out = {}

    def watch():
        try:
            out["frames"] = clock.watch_clock(
                f"udp://127.0.0.1:{port}?timeout=5000000&overrun_nonfatal=1&fifo_size=100000", 3, timeout=15)
        except AssertionError as e:
            out["error"] = e

    watcher = threading.Thread(target=watch)
    watcher.start()
    time.sleep(0.5)     # let ffmpeg bind the port
    t_start = time.time()
    gen = procs.start(clock.make_clock_live(f"udp://127.0.0.1:{port}?pkt_size=1316", seconds=15), "clock-live")
    watcher.join(20)
    assert not watcher.is_alive(), "watch_clock did not return"
    assert gen.poll() is None, f"live clock ffmpeg exited ({gen.returncode}): {procs.log_of(gen)[-1000:]}"
    if "error" in out:
        raise AssertionError(f"{out['error']}\nlive clock ffmpeg: {procs.log_of(gen)[-1000:]}")
    frames = out["frames"]
    assert len(frames) >= 40, f"{len(frames)} frames in 3 s"
    moments = [f.unix for _, f in frames]
    arrivals = [a for a, _ in frames]
    steps = [round(b - a, 3) for a, b in zip(moments, moments[1:])]
    assert all(0 <= s <= 0.2 for s in steps), f"moments do not advance frame by frame: {steps}"
    assert moments[0] > t_start - 0.5, f"first frame stands for {moments[0] - t_start:+.3f} s from the start"
    future = [(round(a - t_start, 3), round(m - t_start, 3)) for a, m in zip(arrivals, moments) if m > a + 0.01]
    assert not future, f"frames standing for a moment after they arrived (arrival, moment): {future[:5]}"
    # after the frames read while ffmpeg probed (they come out together), the
    # moment is the wall clock less the end-to-end latency
    steady = [a - m for a, m in zip(arrivals, moments) if a > arrivals[0] + 1.0]
    assert len(steady) >= 20, f"only {len(steady)} frames after the first second"
    assert max(steady) < 1.0 and statistics.median(steady) < 0.5, \
        f"latency (wall clock - moment) {min(steady):.3f}..{max(steady):.3f} s, median {statistics.median(steady):.3f}"
    span_m, span_a = moments[-1] - moments[0], arrivals[-1] - arrivals[0]
    assert abs(span_m - span_a) < 1.0, f"moments span {span_m:.2f} s, arrivals {span_a:.2f} s"
