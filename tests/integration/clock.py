# SPDX-License-Identifier: MIT
"""clock.py -- test video that carries, in every frame, the wall-clock moment it
stands for, and a reader for it.

Catch-up and timeshift tests must prove that the archive plays *the right
moment*, not just some video. The picture of every frame made here carries
that moment twice:

* machine-readable: a band of large black/white blocks across the top of the
  picture (29 columns x 4 rows of cells, cells >= 8x8 px):

      row 0   timing row   W B W B ... W   (29 cells, starts and ends white)
      row 1   data row     B + 28 bits
      row 2   data row     B + 28 bits
      row 3   timing row   W B W B ... W

  The 56 data bits (most significant bit first) are: the Unix time in seconds
  (32 bits), the frame number within that second (6), the frame rate (6) and a
  check value (12) = (seconds*37 + frame*101 + fps*7 + 11) mod 4093.
  The reader finds the band by its timing rows wherever it is (so scaling,
  stretching, letterboxing, a page around the video do not matter, as long as
  the whole band is visible and cells stay >= 3 px wide), takes black and white
  levels from them (so contrast, brightness and gamma changes do not matter),
  and refuses a reading whose check value, marker cells or ranges are wrong or
  whose cells are neither clearly black nor white.
* human-readable: the same moment as text (UTC date and time; frame/fps and
  the Unix time in files) under the band.

API (all bounded in time; ffmpeg must be installed)
  make_clock_ts(path, start_unix, seconds, size="320x180", fps=25, gop_s=2,
                bitrate="400k", muxrate=None, audio=True) -> Path
      an MPEG-TS file; frame n stands for second start_unix + n // fps,
      frame n % fps within that second.
  make_clock_live(url, size="320x180", fps=25, gop_s=2, bitrate="400k",
                  muxrate=None, audio=True, seconds=600) -> argv
      ffmpeg sending the same picture live (-re) to e.g. a UDP URL; every
      frame stands for the wall clock at the moment it is drawn and sent.
  read_clock(url_or_path, seek=None, frames=1, extra_input_args=(), timeout=30,
             vf=None, ns_cmd=None) -> [float]
      the moments (unix seconds + frame/fps) of the first decoded frame(s)
      (at or after `seek` s), of a file, HTTP TS, HLS playlist, PNG, ...
  read_clock_info(...same...) -> [ClockFrame]
  watch_clock(url, seconds, ...) -> [(arrival, ClockFrame)]
      decode a live stream for a while: when each frame came out of the
      decoder (time.time()) and the moment it stands for.
  read_clock_frames(data, width, height) -> [float]
  decode_clock_frames(data, width, height) -> [ClockFrame]
      the same for raw 8-bit grey frames a test decoded itself (e.g. a browser
      screenshot converted to grey).
  decode_clock(frame, width, height) -> ClockFrame
ClockFrame is (second, frame, fps) with .unix = second + frame / fps.
All readers raise ClockError (an AssertionError) saying what they saw when the
pattern cannot be read; with ANTENNE_CLOCK_DUMP=DIR unreadable frames are also
saved there as PGM pictures.
"""

import os
import re
import shutil
import subprocess
import threading
import time
from collections import namedtuple
from pathlib import Path

COLS = 29              # cells per row (odd: timing rows start and end white)
ROWS = 4               # timing, data, data, timing
DATA_BITS = (COLS - 1) * 2   # 56: column 0 of a data row is a black marker
SEC_BITS, FRAME_BITS, FPS_BITS, CHECK_BITS = 32, 6, 6, 12
CHECK_MOD = 4093       # prime < 2^12
MIN_WIDTH = 240        # cells at least 8 px wide

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


class ClockError(AssertionError):
    """The clock pattern could not be read; the message says what was seen."""


class ClockFrame(namedtuple("ClockFrame", "second frame fps")):
    """One decoded frame: the Unix second it stands for, the frame number within
    that second, and the frame rate."""

    @property
    def unix(self):
        return self.second + self.frame / self.fps

    def __str__(self):
        return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(self.second))} UTC +{self.frame}/{self.fps}" \
               f" ({self.unix:.3f})"


def check_value(second, frame, fps):
    return (second * 37 + frame * 101 + fps * 7 + 11) % CHECK_MOD


# --------------------------------------------------------------------------
# making the picture


def _font():
    if os.path.exists(DEJAVU):
        return f"fontfile={DEJAVU}"
    return "font=sans"


def _parse_rate(rate):
    s = str(rate).strip().lower()
    mult = {"k": 1000, "m": 1000_000}.get(s[-1:], 1)
    return int(float(s.rstrip("km")) * mult)


def _band_geometry(width, height):
    assert width >= MIN_WIDTH, f"clock video must be at least {MIN_WIDTH} px wide (got {width})"
    cw = width / COLS
    ch = max(8, 2 * round(cw * 0.375))     # even, about 3/4 of the cell width
    assert ROWS * ch <= height // 2, f"clock band ({ROWS * ch} px) does not fit in a {width}x{height} picture"
    return ch


def _geq(second, frame, fps):
    """geq luma expression drawing the band on a COLS x ROWS canvas (one pixel a
    cell); `second` and `frame` are expressions, fps a number."""
    i = f"((Y-1)*{COLS - 1}+X-1)"
    chk = f"mod(({second})*37+({frame})*101+{fps * 7 + 11},{CHECK_MOD})"

    def bit(v, shift):
        return f"mod(floor(({v})/pow(2,{shift})),2)"

    o1, o2, o3 = SEC_BITS, SEC_BITS + FRAME_BITS, SEC_BITS + FRAME_BITS + FPS_BITS
    data = (f"if(lt({i},{o1}),{bit(second, f'{o1 - 1}-{i}')},"
            f"if(lt({i},{o2}),{bit(frame, f'{o2 - 1}-{i}')},"
            f"if(lt({i},{o3}),{bit(fps, f'{o3 - 1}-{i}')},"
            f"{bit(chk, f'{DATA_BITS - 1}-{i}')})))")
    return f"if(eq(Y,0)+eq(Y,{ROWS - 1}),255*(1-mod(X,2)),if(eq(X,0),0,255*{data}))"


def _lavfi_graph(width, height, fps, duration, live, start_unix=0, audio=True):
    """lavfi graph: [out0] testsrc2 with the clock band and text, [out1] a 1 kHz
    tone. One input for both: ffmpeg reads a second input in a thread of its
    own, ahead of -re by its queue (~0.3 s), which would make live frames late."""
    ch = _band_geometry(width, height)
    band_h = ROWS * ch
    dur = f":duration={duration}" if duration else ""
    if live:
        # The wall clock (ms) becomes the pts while the picture is drawn; the
        # pts is made regular again (n/fps) before the encoder.
        head = f"testsrc2=size={width}x{height}:rate={fps}{dur},settb=1/1000,setpts='round(time(0)*1000)',"
        ms = "round(T*1000)"
        second, frame = f"floor({ms}/1000)", f"floor(mod({ms},1000)*{fps}/1000)"
        text_pts_offset = 0
        tail = f",settb=1/{fps},setpts=N"
    else:
        head = f"testsrc2=size={width}x{height}:rate={fps}{dur},"
        second, frame = f"{int(start_unix)}+floor(N/{fps})", f"mod(N,{fps})"
        text_pts_offset = int(start_unix)
        tail = ""
    fs = max(10, height // 14)
    font = _font()
    text = (f"drawtext={font}:text='%{{pts\\:gmtime\\:{text_pts_offset}}} UTC':fontsize={fs}:fontcolor=white:"
            f"box=1:boxcolor=black@0.7:boxborderw=3:x=4:y={band_h + 4}")
    if live:
        ftext = f"drawtext={font}:text='live, wall clock':fontsize={fs}:fontcolor=white:" \
                f"box=1:boxcolor=black@0.7:boxborderw=3:x=4:y={band_h + 4 + fs + 8}"
    else:
        ftext = (f"drawtext={font}:text='frame %{{eif\\:mod(n\\,{fps})\\:d\\:2}}/{fps}  "
                 f"unix %{{eif\\:{int(start_unix)}+floor(n/{fps})\\:d}}':fontsize={fs}:fontcolor=white:"
                 f"box=1:boxcolor=black@0.7:boxborderw=3:x=4:y={band_h + 4 + fs + 8}")
    return (f"{head}split[bg][c];"
            f"[c]scale={COLS}:{ROWS},format=gray,geq=lum='{_geq(second, frame, fps)}',"
            f"scale={width}:{band_h}:flags=neighbor,format=yuv420p[band];"
            f"[bg][band]overlay=0:0,{text},{ftext}{tail}[out0]"
            + (f";sine=frequency=1000:sample_rate=48000{dur}[out1]" if audio else ""))


def _encode_args(fps, gop_s, bitrate, muxrate, live, audio):
    vbr = _parse_rate(bitrate)
    abr = 64_000 if audio else 0
    if muxrate is None:
        muxrate = int((vbr + abr) * 1.35 + 20_000) // 1000 * 1000
    g = int(round(fps * gop_s))
    assert g >= 1, f"gop_s={gop_s} at {fps} fps is no GOP"
    args = ["-map", "0:v", *(["-map", "0:a"] if audio else []), "-r", str(fps),
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-g", str(g), "-keyint_min", str(g), "-sc_threshold", "0", "-flags", "+cgop",
            "-b:v", str(vbr), "-maxrate", str(vbr), "-bufsize", str(vbr)]
    if live:
        args += ["-tune", "zerolatency"]
    if audio:
        args += ["-c:a", "aac", "-ac", "2", "-b:a", str(abr)]
    args += ["-metadata", "service_provider=antenne", "-metadata", "service_name=clock",
             "-muxrate", str(muxrate), "-f", "mpegts"]
    return args


def _parse_size(size):
    w, h = (int(v) for v in str(size).lower().split("x"))
    return w, h


def _check_fps(fps):
    assert 1 <= fps < (1 << FPS_BITS) and float(fps) == int(fps), f"fps must be a whole number 1..63, got {fps}"
    return int(fps)


def make_clock_ts(path, start_unix, seconds, size="320x180", fps=25, gop_s=2, bitrate="400k", muxrate=None,
                  audio=True, timeout=None):
    """Write an MPEG-TS file of `seconds` seconds (H.264 from x264 ultrafast at
    `bitrate` + AAC 64 kbit/s 1 kHz tone, constant mux rate `muxrate` (default
    1.35 x (video + audio) + 20 kbit/s), closed GOPs with an IDR keyframe every
    gop_s seconds, no scene-cut keyframes) whose frame n stands for
    start_unix + n // fps (whole seconds; a float is truncated), frame n % fps
    of that second. Returns the Path.

    Written to a temporary name and renamed, so a reader never sees half a file.
    Speed: 12 minutes of 320x180 take about 28 s of CPU (15-25 s on 2 cores)."""
    assert shutil.which("ffmpeg"), "ffmpeg is not installed (run ./scripts/install-deps.sh)"
    fps = _check_fps(fps)
    assert 0 <= int(start_unix) < (1 << SEC_BITS), f"start_unix {start_unix} does not fit in 32 bits"
    width, height = _parse_size(size)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp.{os.getpid()}")
    if timeout is None:
        timeout = 30 + seconds * width * height / (320 * 180) / 10
    argv = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
            "-f", "lavfi", "-i", _lavfi_graph(width, height, fps, seconds, False, start_unix, audio),
            *_encode_args(fps, gop_s, bitrate, muxrate, False, audio), "-t", str(seconds), str(tmp)]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        tmp.unlink(missing_ok=True)
        raise AssertionError(f"making clock video {path} ({seconds} s {size}) took more than {timeout:g} s") \
            from None
    if r.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise AssertionError(f"ffmpeg failed making clock video {path} ({r.returncode}): {r.stderr[-3000:]}")
    tmp.replace(path)
    return path


def make_clock_live(url, size="320x180", fps=25, gop_s=2, bitrate="400k", muxrate=None, audio=True,
                    seconds=600):
    """argv (list) of an ffmpeg that sends the clock picture live, in real time
    (-re), as MPEG-TS (same encoding as make_clock_ts, x264 with zerolatency)
    to `url` (e.g. udp://127.0.0.1:PORT?pkt_size=1316), and stops after
    `seconds` seconds. Start it with e.g. Procs.start(argv, "clock").

    Each frame stands for the wall clock (ms) at the moment it is drawn, so no
    start time needs agreeing: start_unix is the moment ffmpeg starts. A frame
    leaves ffmpeg about 0.13 s after that moment (0.05 s with audio=False:
    ffmpeg holds video until the AAC encoder catches up); the first frame or
    two, drawn while ffmpeg probes its input, may carry the same moment. The
    frame number within the second is floor(ms * fps / 1000), so it may skip or
    repeat a number when ffmpeg is late."""
    assert shutil.which("ffmpeg"), "ffmpeg is not installed (run ./scripts/install-deps.sh)"
    fps = _check_fps(fps)
    width, height = _parse_size(size)
    return ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-re",
            "-f", "lavfi", "-i", _lavfi_graph(width, height, fps, None, True, 0, audio),
            *_encode_args(fps, gop_s, bitrate, muxrate, True, audio), "-t", str(seconds), str(url)]


# --------------------------------------------------------------------------
# reading the picture

_BIN = [bytes(0x31 if v > t else 0x30 for v in range(256)) for t in range(256)]
_RUNS = re.compile(rb"1+|0+")
MIN_CONTRAST = 40      # grey levels between the band's black and white


def _timing_runs(row):
    """(x0, x1) of every stretch of the row that looks like a timing row: COLS
    alternating light/dark runs of equal length, starting and ending light.
    The cell width comes from the inner runs: the outer light cells may merge
    with a light page or picture around the video."""
    lo, hi = min(row), max(row)
    if hi - lo < MIN_CONTRAST:
        return []
    s = row.translate(_BIN[(lo + hi) // 2])
    runs = [m.span() for m in _RUNS.finditer(s)]
    found = []
    first_light = 0 if s[:1] == b"1" else 1
    for i in range(first_light, len(runs) - COLS + 1, 2):
        xa, xb = runs[i + 1][0], runs[i + COLS - 2][1]
        cw = (xb - xa) / (COLS - 2)
        if cw < 3:
            continue
        tol = 0.34 * cw
        if runs[i][1] - runs[i][0] < 0.6 * cw or runs[i + COLS - 1][1] - runs[i + COLS - 1][0] < 0.6 * cw:
            continue
        if all(abs(runs[i + 1 + j][0] - (xa + j * cw)) <= tol for j in range(1, COLS - 2)):
            found.append((xa - cw, xb + cw))
    return found


class _Grid:
    def __init__(self, frame, w, h, x0, x1):
        self.frame, self.w, self.h = frame, w, h
        self.cw = (x1 - x0) / COLS
        self.x0, self.x1 = x0, x1
        hw = max(0, int(self.cw * 0.2))
        self.spans = []
        for c in range(COLS):
            cx = int(x0 + (c + 0.5) * self.cw)
            if not 0 <= cx < w:
                raise ValueError(f"band at x={x0:.0f}..{x1:.0f} reaches out of the {w} px wide picture")
            self.spans.append((max(0, cx - hw), min(w, cx + hw + 1)))

    def cells(self, y):
        """Mean level at the centre of each column, on picture row y."""
        base = y * self.w
        f = self.frame
        return [sum(f[base + a:base + b]) / (b - a) for a, b in self.spans]

    def cells_band(self, yc, half):
        """Mean level of each cell centre over rows yc-half..yc+half."""
        ys = range(max(0, int(round(yc - half))), min(self.h, int(round(yc + half)) + 1))
        rows = [self.cells(y) for y in ys]
        return [sum(r[c] for r in rows) / len(rows) for c in range(COLS)]


def _is_timing(cells):
    light, dark = cells[0::2], cells[1::2]
    return min(light) - max(dark) >= MIN_CONTRAST * 0.5


def _clusters(ys):
    """Group sorted row numbers into runs (gaps of one row allowed)."""
    out = []
    for y in ys:
        if out and y - out[-1][1] <= 2:
            out[-1][1] = y
        else:
            out.append([y, y])
    return out


class _Tried(Exception):
    pass


def _decode_at(frame, w, h, y, x0, x1, tried):
    """Decode the band whose top timing row was found on picture row y.
    Returns ClockFrame or raises ValueError(reason) (_Tried if that band was
    tried already)."""
    g = _Grid(frame, w, h, x0, x1)
    # the whole top timing row, whichever of its picture rows y is
    a = y
    while a > 0 and _is_timing(g.cells(a - 1)):
        a -= 1
    if (a, round(x0)) in tried:
        raise _Tried()
    tried.add((a, round(x0)))
    last = min(h, a + int(ROWS * 3 * g.cw) + 2)
    timing = [yy for yy in range(a, last) if _is_timing(g.cells(yy))]
    cl = _clusters(timing)
    top = cl[0]
    top_c = (top[0] + top[1]) / 2
    ch = None
    for c in cl[1:]:
        cand = ((c[0] + c[1]) / 2 - top_c) / (ROWS - 1)
        if 0.3 * g.cw <= cand <= 3 * g.cw:
            ch = cand
            break
    if ch is None:   # no bottom timing row (cut off?): the top row's own height
        ch = top[1] - top[0] + 1
        if not 0.3 * g.cw <= ch <= 3 * g.cw:
            raise ValueError(f"timing row at y={a} x={x0:.0f}..{x1:.0f} (cell {g.cw:.1f} px) but no second timing "
                             f"row below it (timing-like rows: {cl})")
    half = max(0.0, ch * 0.2)
    t_top = g.cells_band(top_c, half)
    t_bot = g.cells_band(top_c + (ROWS - 1) * ch, half)
    light = t_top[0::2] + t_bot[0::2]
    dark = t_top[1::2] + t_bot[1::2]
    white, black = sum(light) / len(light), sum(dark) / len(dark)
    if white - black < MIN_CONTRAST:
        raise ValueError(f"band at y={a}: white {white:.0f} and black {black:.0f} too close")
    thr = (white + black) / 2
    bits, doubtful = [], []
    for r in range(1, ROWS - 1):
        cells = g.cells_band(top_c + r * ch, half)
        if cells[0] > thr:
            raise ValueError(f"band at y={a}: marker cell of data row {r} is light ({cells[0]:.0f}, "
                             f"black {black:.0f}, white {white:.0f})")
        for c in range(1, COLS):
            v = cells[c]
            if abs(v - thr) < 0.15 * (white - black):
                doubtful.append((r, c, round(v)))
            bits.append(1 if v > thr else 0)
    if doubtful:
        raise ValueError(f"band at y={a}: cells neither black ({black:.0f}) nor white ({white:.0f}): "
                         f"(row, column, level) {doubtful[:8]}")

    def take(n):
        v = 0
        for _ in range(n):
            v = (v << 1) | bits.pop(0)
        return v

    bitstr = "".join(map(str, bits))
    second, fr, fps, chk = take(SEC_BITS), take(FRAME_BITS), take(FPS_BITS), take(CHECK_BITS)
    want = check_value(second, fr, fps)
    if chk != want or fps == 0 or fr >= fps:
        raise ValueError(f"band at y={a} read as second={second} frame={fr} fps={fps} check={chk} "
                         f"(want check {want}, frame < fps > 0): bits {bitstr}")
    return ClockFrame(second, fr, fps)


def decode_clock(frame, width, height):
    """Decode one 8-bit grey frame (width*height bytes, rows top to bottom).

    Returns ClockFrame(second, frame, fps) (.unix = second + frame/fps); raises
    ClockError describing the picture if no valid band is found."""
    frame = bytes(frame)
    w, h = int(width), int(height)
    if len(frame) < w * h:
        raise ClockError(f"frame has {len(frame)} bytes, want {w}x{h} = {w * h}")
    reasons = []
    tried = set()
    for y in range(h):
        for x0, x1 in _timing_runs(frame[y * w:(y + 1) * w]):
            try:
                return ClockFrame(*_decode_at(frame, w, h, y, x0, x1, tried))
            except _Tried:
                pass
            except ValueError as e:
                if str(e) not in reasons:
                    reasons.append(str(e))
    mean = sum(frame[:w * h]) / (w * h)
    rows_contrast = sum(1 for yy in range(h) if max(frame[yy * w:(yy + 1) * w]) - min(frame[yy * w:(yy + 1) * w])
                        >= MIN_CONTRAST)
    seen = "; ".join(reasons[:4]) if reasons else "no row looks like a timing row (29 alternating light/dark cells)"
    dump = _dump(frame[:w * h], w, h)
    raise ClockError(f"no clock band readable in the {w}x{h} frame (mean level {mean:.0f}, min {min(frame[:w * h])},"
                     f" max {max(frame[:w * h])}, {rows_contrast} rows with contrast): {seen}{dump}")


_dumped = [0]


def _dump(frame, w, h):
    """With ANTENNE_CLOCK_DUMP=DIR, an unreadable frame is saved there (PGM)."""
    d = os.environ.get("ANTENNE_CLOCK_DUMP")
    if not d or _dumped[0] >= 20:
        return ""
    _dumped[0] += 1
    path = Path(d) / f"clock-unreadable-{os.getpid()}-{_dumped[0]}.pgm"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"P5\n%d %d\n255\n" % (w, h) + frame)
    except OSError as e:
        return f" (could not save it: {e})"
    return f" (frame saved as {path})"


def decode_clock_frames(data, width, height):
    """ClockFrame of each frame in `data` (consecutive width*height grey frames)."""
    size = int(width) * int(height)
    if not data or len(data) % size:
        raise ClockError(f"{len(data)} bytes are not a whole number of {width}x{height} grey frames")
    out = []
    for i in range(0, len(data), size):
        try:
            out.append(decode_clock(data[i:i + size], width, height))
        except ClockError as e:
            raise ClockError(f"frame {i // size}: {e}") from None
    return out


def read_clock_frames(data, width, height):
    """The moment (unix seconds + frame/fps, float) of each raw 8-bit grey frame
    in `data` (consecutive width*height frames)."""
    return [f.unix for f in decode_clock_frames(data, width, height)]


_PGM = re.compile(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s")


def _split_pgm(data, consumed=None):
    """[(width, height, grey bytes)] of concatenated binary PGM images (an
    incomplete last one is left out; consumed[0] is set to where it begins)."""
    out, pos = [], 0
    while pos < len(data):
        m = _PGM.match(data, pos)
        if not m:
            if len(data) - pos < 64 and data[pos:pos + 2] in (b"P", b"P5"):
                break  # header not complete yet
            raise ClockError(f"ffmpeg's output is not PGM at byte {pos}: {data[pos:pos + 40]!r}")
        w, h, maxval = (int(v) for v in m.groups())
        if maxval != 255:
            raise ClockError(f"PGM with maxval {maxval}, want 255")
        end = m.end() + w * h
        if end > len(data):
            break  # incomplete last frame
        out.append((w, h, data[m.end():end]))
        pos = end
    if consumed is not None:
        consumed[:] = [pos]
    return out


def _decoder_argv(url, seek, frames, extra_input_args, low_delay=False, seconds=None, seek_margin=5.0, vf=None):
    url = str(url)
    argv = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error"]
    if url.startswith(("http://", "https://")):
        argv += ["-rw_timeout", "10000000"]
    if low_delay:
        # (no -fflags nobuffer: it drops what the probe read, the first GOP)
        argv += ["-flags", "low_delay", "-threads", "1", "-probesize", "200000", "-analyzeduration", "500000"]
    argv += [str(a) for a in extra_input_args]
    out_seek = None
    if seek is not None:
        # Input seeking in MPEG-TS lands on the first keyframe at or after the
        # position it finds, which may be after `seek`: seek the input to
        # seek_margin s before, then decode and drop frames up to `seek`.
        seek = float(seek)
        pre = max(0.0, seek - seek_margin)
        argv += ["-ss", f"{pre:.6f}"]
        out_seek = f"{seek - pre:.6f}"
    argv += ["-i", url, "-map", "0:v:0", "-an", "-sn", "-dn"]
    if out_seek is not None:
        argv += ["-ss", out_seek]
    if frames is not None:
        argv += ["-frames:v", str(frames)]
    if seconds is not None:
        argv += ["-t", str(seconds)]
    if vf:
        argv += ["-vf", vf]
    # passthrough: every decoded frame once (no frames duplicated to fill gaps)
    argv += ["-fps_mode", "passthrough", "-f", "image2pipe", "-c:v", "pgm", "-pix_fmt", "gray",
             "-flush_packets", "1", "pipe:1"]
    return argv


def read_clock_info(url_or_path, seek=None, frames=1, extra_input_args=(), timeout=30, vf=None, ns_cmd=None,
                    seek_margin=5.0):
    """Like read_clock, but ClockFrame objects."""
    assert shutil.which("ffmpeg"), "ffmpeg is not installed (run ./scripts/install-deps.sh)"
    argv = _decoder_argv(url_or_path, seek, frames, extra_input_args, seek_margin=seek_margin, vf=vf)
    if ns_cmd is not None:
        argv = ns_cmd(argv)
    try:
        r = subprocess.run(argv, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        got = len(_split_pgm(e.stdout or b""))
        raise ClockError(f"decoding {url_or_path} (seek {seek}) did not finish within {timeout} s "
                         f"({got} of {frames} frames); stderr: {(e.stderr or b'')[-2000:].decode(errors='replace')}") \
            from None
    pics = _split_pgm(r.stdout)
    err = r.stderr.decode(errors="replace")[-2000:]
    if len(pics) < frames:
        raise ClockError(f"decoding {url_or_path} (seek {seek}) gave {len(pics)} of {frames} frames "
                         f"(ffmpeg exit {r.returncode}); stderr: {err}")
    out = []
    for i, (w, h, grey) in enumerate(pics[:frames]):
        try:
            out.append(decode_clock(grey, w, h))
        except ClockError as e:
            raise ClockError(f"{url_or_path} (seek {seek}) frame {i}: {e}") from None
    return out


def read_clock(url_or_path, seek=None, frames=1, extra_input_args=(), timeout=30, vf=None, ns_cmd=None,
               seek_margin=5.0):
    """Decode the first `frames` video frames of a file or URL (TS file, HTTP TS,
    HLS .m3u8, or a picture such as a PNG screenshot) with ffmpeg, and return
    the moment each stands for: [unix seconds + frame/fps, ...].

    `seek` (seconds from the start of the input) starts at the first frame at or
    after it: the input is seeked to seek - seek_margin and the frames up to
    `seek` are decoded and dropped, so the answer is exact as long as there is
    a keyframe in that margin (GOP <= seek_margin).

    extra_input_args go before -i (e.g. ("-protocol_whitelist", "file,http,tcp")
    or ("-live_start_index", "0")); vf is an ffmpeg filter applied before
    reading (e.g. "scale=1280:720" to read what a bigger player shows); ns_cmd
    wraps the argv (e.g. NetNS.cmd).
    Raises ClockError (AssertionError) if ffmpeg gives fewer frames, does not
    finish within `timeout` s, or a frame has no readable clock."""
    return [f.unix for f in read_clock_info(url_or_path, seek, frames, extra_input_args, timeout, vf, ns_cmd,
                                            seek_margin)]


def watch_clock(url, seconds, extra_input_args=(), timeout=None, vf=None, ns_cmd=None, low_delay=True,
                min_frames=1):
    """Decode `url` (a live stream: UDP, HTTP TS, HLS) for `seconds` seconds of
    its video; return [(arrival, ClockFrame)], arrival being the wall clock
    (time.time()) when ffmpeg handed the decoded frame over.

    With low_delay ffmpeg probes at most 0.5 s and decodes without frame
    threads: the frames read while probing come out together (up to ~1 s
    late); after them, arrival - moment is the end-to-end latency (about
    0.2 s from make_clock_live over UDP on loopback). ffmpeg waits for ever on
    a silent UDP port unless the URL has ?timeout=MICROSECONDS: it is killed
    after `timeout` s (default seconds + 15). Raises ClockError if fewer than
    min_frames frames arrive or one has no readable clock."""
    assert shutil.which("ffmpeg"), "ffmpeg is not installed (run ./scripts/install-deps.sh)"
    if timeout is None:
        timeout = seconds + 15
    argv = _decoder_argv(url, None, None, extra_input_args, low_delay=low_delay, seconds=seconds, vf=vf)
    if ns_cmd is not None:
        argv = ns_cmd(argv)
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    got, err = [], []

    def read_frames():
        buf = b""
        try:
            while True:
                d = p.stdout.read1(1 << 20)
                if not d:
                    break
                now = time.time()
                buf += d
                used = [0]
                for w, h, grey in _split_pgm(buf, used):
                    got.append((now, w, h, grey))
                buf = buf[used[0]:]
        except ClockError as e:
            err.append(str(e).encode())
            p.kill()

    t_out = threading.Thread(target=read_frames, daemon=True)
    t_err = threading.Thread(target=lambda: err.append(p.stderr.read()), daemon=True)
    t_out.start()
    t_err.start()
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
    finally:   # also when the test is interrupted (time limit)
        if p.poll() is None:
            p.kill()
            p.wait(10)
    t_out.join(5)
    t_err.join(5)
    stderr = b" ".join(err).decode(errors="replace")[-2000:]
    if len(got) < min_frames:
        raise ClockError(f"watching {url} for {seconds} s gave {len(got)} frames (want >= {min_frames}, "
                         f"ffmpeg exit {p.returncode}); stderr: {stderr}")
    out = []
    for i, (arrival, w, h, grey) in enumerate(got):
        try:
            out.append((arrival, decode_clock(grey, w, h)))
        except ClockError as e:
            raise ClockError(f"{url} frame {i} (arrived {arrival:.3f}): {e}") from None
    return out
