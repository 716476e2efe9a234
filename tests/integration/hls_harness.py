# SPDX-License-Identifier: MIT
"""hls_harness.py -- what the HLS tests (test_30_hls_*.py) add to harness.py.

  * an M3U8 parser and the RFC 8216 / RFC 8216bis server rules as checks, for
    one playlist (PlaylistRules.check) and for successive reloads of the same
    playlist (PlaylistRules.check_reload);
  * PlaylistWatch: a thread that polls a playlist, checks every reload and
    fetches every new segment once;
  * segment inspection (PAT/PMT first, keyframe, PTS of the first video PES,
    the bytes after the leading PSI);
  * media made in the test session with ffmpeg lavfi (GOP 10 s, timestamps
    jumping back, PCR about to wrap, a long feed);
  * PacedUdpSender: one sender of a TS file over UDP, at its mux rate, to one
    or several destinations (the same datagrams to each);
  * real HLS players: ffmpeg (decoded duration via -progress), streamlink, and
    hls.js in Debian's headless Chromium (tests/browser/play.mjs).

Every wait and loop is bounded in count and time, like harness.py.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

from harness import (REPO, TS_PACKET, VIDEO_STREAM_TYPES, analyze_start, http_get, parse_pmt, parse_section,
                     split_packets, tail, wait_until)

BROWSER_DIR = REPO / "tests" / "browser"
CHROMIUM = "/usr/bin/chromium"
PTS_MODULO = 1 << 33

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"


# --------------------------------------------------------------------------
# M3U8 parsing

_ATTR_RE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^",]*)')


def parse_attrs(value):
    """EXT-X attribute list -> dict (quoted strings unquoted)."""
    out = {}
    pos = 0
    for m in _ATTR_RE.finditer(value):
        if value[pos:m.start()].strip(", ") != "":
            raise ValueError(f"malformed attribute list {value!r}")
        v = m.group(2)
        out[m.group(1)] = v[1:-1] if v.startswith('"') else v
        pos = m.end()
    if value[pos:].strip(", ") != "":
        raise ValueError(f"malformed attribute list {value!r}")
    return out


def parse_pdt(value):
    """EXT-X-PROGRAM-DATE-TIME (ISO 8601 with time zone) -> epoch seconds."""
    v = value.strip()
    if v.endswith("Z"):
        v = v[:-1] + "+00:00"
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d:?\d\d)$", v)
    if not m:
        raise ValueError(f"PROGRAM-DATE-TIME {value!r} is not ISO 8601 with a time zone")
    frac = m.group(2) or ""
    tz = m.group(3) if ":" in m.group(3) else m.group(3)[:3] + ":" + m.group(3)[3:]
    base = datetime.fromisoformat(m.group(1) + tz)
    return base.timestamp() + (float(frac) if frac else 0.0)


class Playlist:
    """A parsed media or multivariant playlist."""

    def __init__(self, text, fetched_at=None):
        self.text = text
        self.fetched_at = fetched_at if fetched_at is not None else time.time()
        self.problems = []            # syntax problems found while parsing
        self.version = None
        self.target = None
        self.media_sequence = None
        self.dsn = None
        self.independent = False
        self.endlist = False
        self.server_control = None
        self.part_inf = None
        self.segments = []            # dicts: msn uri duration pdt discontinuity parts
        self.trailing_parts = []      # parts of the segment in progress (after the last EXTINF segment)
        self.preload_hints = []
        self.rendition_reports = []
        self.variants = []            # multivariant: (attrs, uri)
        self.tag_counts = {}
        self._parse()

    def _bad(self, msg):
        self.problems.append(msg)

    def _parse(self):
        lines = self.text.splitlines()
        if not lines or lines[0].strip() != "#EXTM3U":
            self._bad(f"first line is not #EXTM3U: {lines[:1]!r}")
        pending = {"duration": None, "pdt": None, "discontinuity": False, "parts": []}
        stream_inf = None
        for raw in lines[1:]:
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#EXT"):
                name, _, value = line[1:].partition(":")
                self.tag_counts[name] = self.tag_counts.get(name, 0) + 1
                try:
                    self._tag(name, value, pending)
                    if name == "EXT-X-STREAM-INF":
                        stream_inf = parse_attrs(value)
                except ValueError as e:
                    self._bad(f"{line!r}: {e}")
                continue
            if line.startswith("#"):
                continue
            # a URI line
            if stream_inf is not None:
                self.variants.append((stream_inf, line))
                stream_inf = None
                continue
            if pending["duration"] is None:
                self._bad(f"URI {line!r} without a preceding #EXTINF")
            if self.media_sequence is None and not self.segments:
                self._bad("#EXT-X-MEDIA-SEQUENCE missing before the first segment")
            msn = (self.media_sequence or 0) + len(self.segments)
            self.segments.append({"msn": msn, "uri": line, "duration": pending["duration"],
                                  "duration_text": pending.get("duration_text"), "pdt": pending["pdt"],
                                  "discontinuity": pending["discontinuity"], "parts": pending["parts"]})
            pending = {"duration": None, "pdt": None, "discontinuity": False, "parts": []}
        self.trailing_parts = pending["parts"]
        if pending["duration"] is not None:
            self._bad("#EXTINF at the end without a URI")

    def _tag(self, name, value, pending):
        if name == "EXT-X-VERSION":
            self.version = int(value)
        elif name == "EXT-X-TARGETDURATION":
            if not re.fullmatch(r"\d+", value):
                raise ValueError("EXT-X-TARGETDURATION must be a decimal integer")
            self.target = int(value)
        elif name == "EXT-X-MEDIA-SEQUENCE":
            if not re.fullmatch(r"\d+", value):
                raise ValueError("EXT-X-MEDIA-SEQUENCE must be a decimal integer")
            if self.segments:
                raise ValueError("EXT-X-MEDIA-SEQUENCE after the first segment")
            self.media_sequence = int(value)
        elif name == "EXT-X-DISCONTINUITY-SEQUENCE":
            if not re.fullmatch(r"\d+", value):
                raise ValueError("EXT-X-DISCONTINUITY-SEQUENCE must be a decimal integer")
            if self.segments:
                raise ValueError("EXT-X-DISCONTINUITY-SEQUENCE after the first segment")
            self.dsn = int(value)
        elif name == "EXT-X-INDEPENDENT-SEGMENTS":
            self.independent = True
        elif name == "EXT-X-ENDLIST":
            self.endlist = True
        elif name == "EXTINF":
            dur, _, _title = value.partition(",")
            if not re.fullmatch(r"\d+(\.\d+)?", dur):
                raise ValueError("EXTINF duration must be a decimal number")
            pending["duration"] = float(dur)
            pending["duration_text"] = dur
        elif name == "EXT-X-PROGRAM-DATE-TIME":
            pending["pdt"] = parse_pdt(value)
        elif name == "EXT-X-DISCONTINUITY":
            pending["discontinuity"] = True
        elif name == "EXT-X-SERVER-CONTROL":
            self.server_control = parse_attrs(value)
        elif name == "EXT-X-PART-INF":
            self.part_inf = parse_attrs(value)
        elif name == "EXT-X-PART":
            a = parse_attrs(value)
            if "DURATION" not in a or "URI" not in a:
                raise ValueError("EXT-X-PART needs DURATION and URI")
            pending["parts"].append({"duration": float(a["DURATION"]), "uri": a["URI"],
                                     "independent": a.get("INDEPENDENT") == "YES", "attrs": a})
        elif name == "EXT-X-PRELOAD-HINT":
            self.preload_hints.append(parse_attrs(value))
        elif name == "EXT-X-RENDITION-REPORT":
            self.rendition_reports.append(parse_attrs(value))

    # -- conveniences
    @property
    def part_target(self):
        return float(self.part_inf["PART-TARGET"]) if self.part_inf and "PART-TARGET" in self.part_inf else None

    @property
    def last_msn(self):
        return self.segments[-1]["msn"] if self.segments else None

    @property
    def next_msn(self):
        return (self.media_sequence or 0) + len(self.segments)

    def by_msn(self):
        return {s["msn"]: s for s in self.segments}

    def duration(self):
        return sum(s["duration"] or 0 for s in self.segments)

    def parts_available(self):
        """{(msn, part_index): part} of every part listed (full segments and the open one)."""
        out = {}
        for s in self.segments:
            for i, p in enumerate(s["parts"]):
                out[(s["msn"], i)] = p
        for i, p in enumerate(self.trailing_parts):
            out[(self.next_msn, i)] = p
        return out

    def newest_part(self):
        """(msn, index) of the newest part listed, or None."""
        if self.trailing_parts:
            return (self.next_msn, len(self.trailing_parts) - 1)
        for s in reversed(self.segments):
            if s["parts"]:
                return (s["msn"], len(s["parts"]) - 1)
        return None

    def hint(self):
        """(msn, part) of the preload hint (TYPE=PART), or None."""
        for h in self.preload_hints:
            if h.get("TYPE") == "PART":
                m = re.fullmatch(r"(\d+)\.(\d+)\.ts", h.get("URI", ""))
                if m:
                    return int(m.group(1)), int(m.group(2))
        return None


def round_half_up(x):
    return int(x + 0.5)


class PlaylistRules:
    """The server rules of RFC 8216 (and RFC 8216bis for LL) that issue 3 lists,
    for one media playlist and for successive reloads of it.

    check(pl) -> list of problems of one playlist;
    check_reload(prev, cur) -> problems of `cur` given the previous reload `prev`.
    Keeps state across reloads (first target duration, window filling).
    """

    def __init__(self, what, ll=False, window=6, independent=True, require_dsn=True, pdt_slack=0.5):
        self.what = what
        self.ll = ll
        self.window = window
        self.independent = independent
        self.require_dsn = require_dsn
        self.pdt_slack = pdt_slack
        self.target = None
        self.part_target = None
        self.window_filled = False
        self.max_msn = None
        self.segments_seen = {}       # msn -> segment dict (first seen)
        self.discontinuities_seen = set()
        self.reloads = 0

    def check(self, pl):
        p = [f"{self.what}: {x}" for x in pl.problems]
        w = self.what
        if pl.version is None or pl.version < 3:
            p.append(f"{w}: EXT-X-VERSION {pl.version} (decimal EXTINF durations need >= 3)")
        if pl.target is None:
            p.append(f"{w}: no EXT-X-TARGETDURATION")
            return p
        if pl.media_sequence is None:
            p.append(f"{w}: no EXT-X-MEDIA-SEQUENCE")
        if self.require_dsn and pl.dsn is None:
            p.append(f"{w}: no EXT-X-DISCONTINUITY-SEQUENCE")
        if self.independent and not pl.independent:
            p.append(f"{w}: no EXT-X-INDEPENDENT-SEGMENTS")
        if pl.endlist:
            p.append(f"{w}: EXT-X-ENDLIST in a live playlist")
        if len(pl.segments) > self.window:
            p.append(f"{w}: {len(pl.segments)} segments, more than the window of {self.window}")
        prev_pdt_end = None
        for s in pl.segments:
            d = s["duration"]
            if d is None or d <= 0:
                p.append(f"{w}: segment {s['msn']} has EXTINF {d}")
                continue
            if round_half_up(d) > pl.target:
                p.append(f"{w}: segment {s['msn']} EXTINF {d} rounds to {round_half_up(d)} > "
                         f"TARGETDURATION {pl.target} (RFC 8216 4.3.3.1)")
            if s["uri"] != f"{s['msn']}.ts":
                p.append(f"{w}: segment {s['msn']} (MEDIA-SEQUENCE + position) has URI {s['uri']!r}, "
                         f"expected '{s['msn']}.ts'")
            if s["pdt"] is None:
                p.append(f"{w}: segment {s['msn']} has no EXT-X-PROGRAM-DATE-TIME")
            elif prev_pdt_end is not None and not s["discontinuity"] and \
                    abs(s["pdt"] - prev_pdt_end) > self.pdt_slack:
                p.append(f"{w}: segment {s['msn']} PROGRAM-DATE-TIME is {s['pdt'] - prev_pdt_end:+.3f} s off "
                         f"the previous segment's date + duration (no discontinuity between them)")
            prev_pdt_end = (s["pdt"] + d) if s["pdt"] is not None else None
        if pl.segments and pl.segments[-1]["pdt"] is not None and pl.fetched_at:
            end = pl.segments[-1]["pdt"] + (pl.segments[-1]["duration"] or 0)
            lag = pl.fetched_at - end
            if lag > pl.target + 3 or lag < -1.0:
                p.append(f"{w}: the newest segment ends at PROGRAM-DATE-TIME {lag:+.2f} s from now "
                         f"(expected within [-1, target + 3] s of the wall clock)")
        if self.ll:
            p += self._check_ll(pl)
        return p

    def _check_ll(self, pl):
        w = self.what
        p = []
        sc = pl.server_control
        pt = pl.part_target
        if sc is None:
            p.append(f"{w}: no EXT-X-SERVER-CONTROL")
        elif sc.get("CAN-BLOCK-RELOAD") != "YES":
            p.append(f"{w}: EXT-X-SERVER-CONTROL without CAN-BLOCK-RELOAD=YES: {sc}")
        if pt is None:
            p.append(f"{w}: no EXT-X-PART-INF:PART-TARGET")
            return p
        if sc is not None:
            phb = sc.get("PART-HOLD-BACK")
            if phb is None:
                p.append(f"{w}: EXT-X-SERVER-CONTROL has no PART-HOLD-BACK: {sc}")
            elif float(phb) < 3 * pt - 1e-6:
                p.append(f"{w}: PART-HOLD-BACK {phb} < 3 x PART-TARGET {pt}")
            hb = sc.get("HOLD-BACK")
            if hb is not None and float(hb) < 3 * pl.target - 1e-6:
                p.append(f"{w}: HOLD-BACK {hb} < 3 x TARGETDURATION {pl.target}")
        any_parts = False
        for msn, parts in [(s["msn"], s["parts"]) for s in pl.segments] + [(pl.next_msn, pl.trailing_parts)]:
            for i, part in enumerate(parts):
                any_parts = True
                if part["duration"] > pt + 1e-6:
                    p.append(f"{w}: part {msn}.{i} DURATION {part['duration']} > PART-TARGET {pt}")
                if part["duration"] <= 0:
                    p.append(f"{w}: part {msn}.{i} DURATION {part['duration']}")
                if part["uri"] != f"{msn}.{i}.ts":
                    p.append(f"{w}: part {i} of segment {msn} has URI {part['uri']!r}, expected '{msn}.{i}.ts'")
        for s in pl.segments:
            if s["parts"] and s["duration"]:
                total = sum(x["duration"] for x in s["parts"])
                if abs(total - s["duration"]) > 0.15:
                    p.append(f"{w}: the parts of segment {s['msn']} last {total:.3f} s, the segment "
                             f"{s['duration']:.3f} s")
        if not any_parts:
            p.append(f"{w}: no EXT-X-PART at all")
        if pl.segments and not pl.segments[-1]["parts"] and pl.trailing_parts == []:
            p.append(f"{w}: the newest segment has no parts listed")
        hints = [h for h in pl.preload_hints if h.get("TYPE") == "PART"]
        if len(hints) != 1:
            p.append(f"{w}: {len(hints)} EXT-X-PRELOAD-HINT:TYPE=PART (expected 1): {pl.preload_hints}")
        else:
            want = f"{pl.next_msn}.{len(pl.trailing_parts)}.ts"
            if hints[0].get("URI") != want:
                p.append(f"{w}: EXT-X-PRELOAD-HINT URI {hints[0].get('URI')!r}, expected the next part {want!r}")
        return p

    def check_reload(self, prev, cur):
        """Rules between two successive reloads of the same playlist."""
        w = self.what
        p = []
        self.reloads += 1
        if cur.target is not None:
            if self.target is None:
                self.target = cur.target
            elif cur.target != self.target:
                p.append(f"{w}: EXT-X-TARGETDURATION changed from {self.target} to {cur.target}")
        if self.ll and cur.part_target is not None:
            if self.part_target is None:
                self.part_target = cur.part_target
            elif cur.part_target != self.part_target:
                p.append(f"{w}: PART-TARGET changed from {self.part_target} to {cur.part_target}")
        # window: once full, it stays full
        if len(cur.segments) >= self.window:
            self.window_filled = True
        elif self.window_filled:
            p.append(f"{w}: the window shrank to {len(cur.segments)} segments (window {self.window})")
        if self.window_filled and cur.target and cur.duration() < 3 * cur.target - 0.5:
            p.append(f"{w}: the playlist lasts {cur.duration():.2f} s, less than 3 target durations "
                     f"(RFC 8216 6.2.2)")
        for s in cur.segments:
            old = self.segments_seen.get(s["msn"])
            if old is None:
                if self.max_msn is not None and s["msn"] <= self.max_msn:
                    p.append(f"{w}: segment {s['msn']} appeared after newer ones had been published "
                             f"(newest seen {self.max_msn})")
                self.segments_seen[s["msn"]] = s
                if s["discontinuity"]:
                    self.discontinuities_seen.add(s["msn"])
            else:
                for k in ("uri", "duration_text", "pdt"):
                    if old[k] != s[k]:
                        p.append(f"{w}: segment {s['msn']} changed its {k} from {old[k]!r} to {s[k]!r}")
                # a tag may be dropped (and counted in the DISCONTINUITY-SEQUENCE), never added later
                if s["discontinuity"] and not old["discontinuity"]:
                    p.append(f"{w}: segment {s['msn']} got an EXT-X-DISCONTINUITY after it was published")
            if self.max_msn is None or s["msn"] > self.max_msn:
                self.max_msn = s["msn"]
        if prev is None:
            return p
        if cur.media_sequence is not None and prev.media_sequence is not None:
            if cur.media_sequence < prev.media_sequence:
                p.append(f"{w}: EXT-X-MEDIA-SEQUENCE decreased from {prev.media_sequence} to {cur.media_sequence}")
            if cur.last_msn is not None and prev.last_msn is not None and cur.last_msn < prev.last_msn:
                p.append(f"{w}: the newest segment went back from {prev.last_msn} to {cur.last_msn}")
        if cur.dsn is not None and prev.dsn is not None:
            if cur.dsn < prev.dsn:
                p.append(f"{w}: EXT-X-DISCONTINUITY-SEQUENCE decreased from {prev.dsn} to {cur.dsn}")
            elif cur.media_sequence is not None and prev.media_sequence is not None and \
                    cur.media_sequence <= prev.next_msn:
                # RFC 8216 6.2.2: the sequence goes up by one for each EXT-X-DISCONTINUITY tag
                # removed from the playlist (with its segment, or from the first segment).
                cur_tags = {s["msn"] for s in cur.segments if s["discontinuity"]}
                gone = [s["msn"] for s in prev.segments if s["discontinuity"] and s["msn"] not in cur_tags]
                if cur.dsn - prev.dsn != len(gone):
                    p.append(f"{w}: EXT-X-DISCONTINUITY-SEQUENCE went {prev.dsn} -> {cur.dsn} while "
                             f"{len(gone)} EXT-X-DISCONTINUITY tag(s) left the playlist (segments {gone}) "
                             f"(RFC 8216 6.2.2)")
        if self.ll and cur.hint() and prev.hint() and cur.hint() < prev.hint():
            p.append(f"{w}: the preload hint went back from {prev.hint()} to {cur.hint()}")
        # the parts of a segment only grow, and do not change
        prev_parts = prev.parts_available()
        cur_parts = cur.parts_available()
        for key, part in cur_parts.items():
            old = prev_parts.get(key)
            if old is not None and (old["duration"] != part["duration"] or old["independent"] != part["independent"]):
                p.append(f"{w}: part {key} changed from {old['attrs']} to {part['attrs']}")
        return p


# --------------------------------------------------------------------------
# timed HTTP


def timed_get(url, timeout=10, headers=None, method="GET"):
    """(Response, seconds from request to complete response, wall time of the answer)."""
    t0 = time.monotonic()
    r = http_get(url, timeout=timeout, headers=headers, method=method, max_body=64 << 20)
    t1 = time.monotonic()
    return r, t1 - t0, t1


def get_playlist(url, timeout=10):
    r = http_get(url, timeout=timeout)
    assert r.status == 200, f"GET {url}: {r.status} {r.body[:300]!r}"
    return Playlist(r.text, time.time())


def wait_playlist(srv, name, ll=False, min_segments=3, timeout=30):
    """Wait until the channel's media playlist lists >= min_segments segments."""
    url = srv.url(f"/live/{name}/index{'.ll' if ll else ''}.m3u8")
    last = {}

    def ready():
        r = http_get(url, timeout=5)
        last["r"] = r
        if r.status != 200:
            return None
        pl = Playlist(r.text)
        return pl if len(pl.segments) >= min_segments else None

    try:
        return wait_until(ready, timeout, interval=0.25, what=f"{url} with >= {min_segments} segments")
    except AssertionError as e:
        r = last.get("r")
        raise AssertionError(f"{e}\nlast answer: {r.status if r else None} "
                             f"{(r.text if r else '')[:1500]}\nchannel: {json.dumps(srv.channel(name))}\n"
                             f"log:\n{tail(srv.log(), 4000)}") from None


# --------------------------------------------------------------------------
# segments


def pes_pts(payload):
    """PTS (90 kHz) of a PES header at the start of `payload`, or None."""
    if len(payload) < 14 or payload[:3] != b"\x00\x00\x01":
        return None
    if not (payload[7] & 0x80):
        return None
    b = payload[9:14]
    return (((b[0] >> 1) & 7) << 30) | (b[1] << 22) | ((b[2] >> 1) << 15) | (b[3] << 7) | (b[4] >> 1)


def segment_info(data):
    """What a segment (or part) holds: PSI first?, video PID, first video PTS,
    keyframe at the start, whether it contains any keyframe, the bytes after the
    leading PAT/PMT packets."""
    info = {"size": len(data), "aligned": len(data) % TS_PACKET == 0 and len(data) > 0}
    start = analyze_start(data[:TS_PACKET * 4000])
    info.update(start=start, pat_first=bool(start.get("pat")), pmt_second=bool(start.get("pmt")),
                keyframe_first=bool(start.get("keyframe")))
    pkts = split_packets(data)
    pmt_pids = set((start.get("pat") or {}).values())
    video_pid = audio_pid = None
    lead = 0
    for i, p in enumerate(pkts):
        if p.pid == 0 or p.pid in pmt_pids:
            if i == lead:
                lead += 1
            if p.pid in pmt_pids and p.pusi and video_pid is None:
                sec = parse_section(p.payload)
                if sec and sec[0] == 2:
                    for st, pid in parse_pmt(sec[1])[2]:
                        if st in VIDEO_STREAM_TYPES and video_pid is None:
                            video_pid = pid
                        elif st in (0x0F, 0x11, 0x03, 0x04, 0x81) and audio_pid is None:
                            audio_pid = pid
        elif i == lead and p.pid == 0x1FFF:
            lead += 1
    info["video_pid"] = video_pid
    info["audio_pid"] = audio_pid
    info["after_psi"] = data[lead * TS_PACKET:]
    first_pts = None
    first_audio_pts = None
    keyframes = 0
    for p in pkts:
        if p.pusi and video_pid is not None and p.pid == video_pid:
            pts = pes_pts(p.payload)
            if first_pts is None:
                first_pts = pts
            if p.random_access or _pes_has_idr(p.payload):
                keyframes += 1
        elif p.pusi and audio_pid is not None and p.pid == audio_pid and first_audio_pts is None:
            first_audio_pts = pes_pts(p.payload)
    info["first_video_pts"] = first_pts
    info["first_audio_pts"] = first_audio_pts
    info["keyframes"] = keyframes
    return info


def _pes_has_idr(payload):
    if len(payload) < 9 or payload[:3] != b"\x00\x00\x01":
        return False
    es = payload[9 + payload[8]:]
    i = 0
    while True:
        i = es.find(b"\x00\x00\x01", i)
        if i < 0 or i + 3 >= len(es):
            return False
        if es[i + 3] & 0x1F == 5:
            return True
        i += 3


def pts_diff(a, b):
    """b - a in seconds, modulo 2^33 (the shorter way round)."""
    d = (b - a) % PTS_MODULO
    if d > PTS_MODULO // 2:
        d -= PTS_MODULO
    return d / 90000.0


# --------------------------------------------------------------------------
# watching a playlist


class PlaylistWatch(threading.Thread):
    """Poll a media playlist every `interval` s for `duration` s; check every
    reload with PlaylistRules; optionally fetch every new segment once and
    check it (PAT, PMT, keyframe first; PTS advance equals EXTINF)."""

    def __init__(self, url, rules, duration=30.0, interval=0.5, fetch_segments=True, keyframe_first=True,
                 pts_tolerance=0.06, stop_event=None):
        super().__init__(daemon=True, name=f"watch {url}")
        self.url = url
        self.base = url.rsplit("/", 1)[0]
        self.rules = rules
        self.duration = min(duration, 200.0)
        self.interval = interval
        self.fetch_segments = fetch_segments
        self.keyframe_first = keyframe_first
        self.pts_tolerance = pts_tolerance
        self.stop_event = stop_event or threading.Event()
        self.problems = []
        self.playlists = 0
        self.errors = []
        self.first = None
        self.last = None
        self.media_sequences = []     # (monotonic, MEDIA-SEQUENCE, DSN)
        self.segment_infos = {}       # msn -> info (without the bytes)
        self.segment_bytes = {}       # msn -> bytes after PSI (when keep_bytes)
        self.keep_bytes = False
        self.discontinuity_msns = set()
        self.all_segments = {}        # msn -> segment dict
        self.parts = {}               # (msn, index) -> part dict (LL playlists)
        self.max_problems = 60

    def _problem(self, msg):
        if len(self.problems) < self.max_problems:
            self.problems.append(msg)

    def run(self):
        prev = None
        t_end = time.monotonic() + self.duration
        while not self.stop_event.is_set() and time.monotonic() < t_end:
            t0 = time.monotonic()
            try:
                r = http_get(self.url, timeout=5)
            except OSError as e:
                self.errors.append(f"{type(e).__name__}: {e}")
                if len(self.errors) > 20:
                    self._problem(f"{self.url}: more than 20 failed reloads: {self.errors[-3:]}")
                    return
                time.sleep(self.interval)
                continue
            if r.status != 200:
                self._problem(f"{self.url}: status {r.status} {r.body[:200]!r}")
                time.sleep(self.interval)
                continue
            ctype = r.headers.get("content-type", "")
            if not ctype.startswith(PLAYLIST_TYPE):
                self._problem(f"{self.url}: Content-Type {ctype!r}")
            pl = Playlist(r.text, time.time())
            self.playlists += 1
            if self.first is None:
                self.first = pl
            for x in self.rules.check(pl) + self.rules.check_reload(prev, pl):
                self._problem(f"{x}\n--- playlist:\n{pl.text[-1500:]}")
            self.media_sequences.append((time.monotonic(), pl.media_sequence, pl.dsn))
            for s in pl.segments:
                if s["discontinuity"]:
                    self.discontinuity_msns.add(s["msn"])
                self.all_segments.setdefault(s["msn"], s)
            for key, part in pl.parts_available().items():
                self.parts.setdefault(key, part)
            if self.fetch_segments:
                for s in pl.segments:
                    if s["msn"] not in self.segment_infos:
                        self._fetch(s)
            prev = pl
            self.last = pl
            time.sleep(max(0.0, self.interval - (time.monotonic() - t0)))

    def _fetch(self, seg):
        url = f"{self.base}/{seg['uri']}"
        try:
            r = http_get(url, timeout=10, max_body=64 << 20)
        except OSError as e:
            self._problem(f"GET {url}: {type(e).__name__}: {e}")
            self.segment_infos[seg["msn"]] = {"error": str(e)}
            return
        if r.status != 200:
            # it may have slid out between the reload and now: only the newest ones must answer
            self._problem(f"GET {url} (listed in the playlist just now): status {r.status}")
            self.segment_infos[seg["msn"]] = {"status": r.status}
            return
        info = segment_info(r.body)
        after = info.pop("after_psi")
        if self.keep_bytes:
            self.segment_bytes[seg["msn"]] = after
        info["duration"] = seg["duration"]
        info["discontinuity"] = seg["discontinuity"]
        self.segment_infos[seg["msn"]] = info
        w = f"segment {url}"
        if r.headers.get("content-type") != "video/mp2t":
            self._problem(f"{w}: Content-Type {r.headers.get('content-type')!r}")
        if not info["aligned"] or r.body[0] != 0x47:
            self._problem(f"{w}: {len(r.body)} bytes, not whole TS packets")
        if not info["pat_first"] or not info["pmt_second"]:
            self._problem(f"{w}: does not start with PAT then PMT (first PIDs {info['start'].get('first_pids')})")
        if self.keyframe_first and info["video_pid"] is not None and not info["keyframe_first"]:
            st = info["start"]
            self._problem(f"{w}: the first video PES is not a keyframe (random_access_indicator "
                          f"{st.get('first_video_rai')}, NAL types {st.get('first_video_nals')})")
        # PTS advance of the previous segment equals its EXTINF
        prev = self.segment_infos.get(seg["msn"] - 1)
        key = "first_video_pts" if info.get("video_pid") is not None else "first_audio_pts"
        if prev and prev.get(key) is not None and info.get(key) is not None and not seg["discontinuity"]:
            d = pts_diff(prev[key], info[key])
            if abs(d - prev["duration"]) > self.pts_tolerance:
                self._problem(f"segment {seg['msn'] - 1}: EXTINF {prev['duration']} but the next segment "
                              f"starts {d:.3f} s later (PTS)")


# --------------------------------------------------------------------------
# media made in the test session

_media_lock = threading.Lock()


def _ffmpeg(argv, timeout=120):
    assert shutil.which("ffmpeg"), "ffmpeg is not installed (run ./scripts/install-deps.sh)"
    r = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *argv],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"ffmpeg {' '.join(argv)} failed: {r.stderr[-2000:]}"


def _av(duration, size="320x180", gop=50, vbit="300k", extra=()):
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={duration}",
            "-f", "lavfi", "-i", f"sine=frequency=1000:sample_rate=48000:duration={duration}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
            "-b:v", vbit, "-maxrate", vbit, "-bufsize", vbit, "-c:a", "aac", "-b:a", "64k", *extra]


# name -> (mux rate bit/s, maker(path, dir))
FIXTURE_RATES = {"gop10": 600_000, "jumpback": 600_000, "pcrwrap": 600_000, "long": 1_500_000}


def make_fixture(name, directory):
    """Make (once per directory) a small TS fixture with ffmpeg lavfi; returns its path.

    gop10     20 s 320x180, one keyframe every 10 s
    jumpback  16 s: 8 s whose timestamps start at 20 s, then 8 s starting at 0 (a jump back of ~28 s)
    pcrwrap   30 s 320x180 whose PCR/PTS start 5 s before the 33-bit wrap (95443.7 s)
    long      60 s 480x270, 2 s GOP (a live feed long enough not to loop during a test)
    All with a constant mux rate (FIXTURE_RATES) so that byte pacing is real time.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / f"{name}.ts"
    with _media_lock:
        if out.exists():
            return out
        tmp = directory / f".{name}.tmp.ts"
        rate = str(FIXTURE_RATES[name])
        if name == "gop10":
            _ffmpeg([*_av(20, gop=250), "-muxrate", rate, "-f", "mpegts", str(tmp)])
        elif name == "pcrwrap":
            _ffmpeg([*_av(30), "-output_ts_offset", "95438", "-muxrate", rate, "-f", "mpegts", str(tmp)])
        elif name == "long":
            _ffmpeg([*_av(60, size="480x270", vbit="900k"), "-muxrate", rate, "-f", "mpegts", str(tmp)])
        elif name == "jumpback":
            a, b = directory / ".jump_a.ts", directory / ".jump_b.ts"
            _ffmpeg([*_av(8), "-output_ts_offset", "20", "-muxrate", rate, "-f", "mpegts", str(a)])
            _ffmpeg([*_av(8), "-muxrate", rate, "-f", "mpegts", str(b)])
            tmp.write_bytes(a.read_bytes() + b.read_bytes())
            a.unlink()
            b.unlink()
        else:
            raise ValueError(name)
        tmp.rename(out)
        return out


# --------------------------------------------------------------------------
# one UDP sender, one or several destinations


class PacedUdpSender(threading.Thread):
    """Send a TS file over UDP in 7-packet datagrams at `bitrate` (its constant
    mux rate: byte pacing is then real time), looping, for at most `seconds`.
    Every datagram goes to each destination in turn: several servers get the
    same bytes from one sender."""

    def __init__(self, path, destinations, bitrate, seconds=120.0, loop=True):
        super().__init__(daemon=True, name=f"udp-sender {path}")
        self.data = Path(path).read_bytes()
        self.destinations = list(destinations)
        self.rate = bitrate / 8.0
        self.seconds = min(seconds, 300.0)
        self.loop = loop
        self.sent = 0
        self._stop_ev = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)

    def run(self):
        chunk = TS_PACKET * 7
        t0 = time.monotonic()
        pos = 0
        total = 0
        try:
            while not self._stop_ev.is_set() and time.monotonic() - t0 < self.seconds:
                due = t0 + total / self.rate
                now = time.monotonic()
                if due > now:
                    time.sleep(min(due - now, 0.02))
                    continue
                if pos >= len(self.data):
                    if not self.loop:
                        return
                    pos = 0
                d = self.data[pos:pos + chunk]
                pos += len(d)
                total += len(d)
                for dst in self.destinations:
                    try:
                        self.sock.sendto(d, dst)
                    except OSError:
                        pass
                self.sent += 1
        finally:
            self.sock.close()

    def stop(self):
        self._stop_ev.set()
        self.join(5)


# --------------------------------------------------------------------------
# real players


def ffmpeg_hls_decode(url, seconds=20, timeout=None, extra_in=()):
    """Decode `seconds` of an HLS URL with ffmpeg -v error; returns
    (CompletedProcess, decoded seconds from -progress)."""
    assert shutil.which("ffmpeg"), "ffmpeg is not installed"
    argv = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-nostats", "-progress", "pipe:1",
            "-rw_timeout", "10000000", *extra_in, "-i", url, "-t", str(seconds), "-f", "null", "-"]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout or seconds + 40,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"ffmpeg on {url} did not finish in {timeout or seconds + 40} s: "
                             f"{(e.stderr or b'')[-2000:]!r}") from None
    times = [int(v) for v in re.findall(r"^out_time_us=(\d+)$", r.stdout, re.M)]
    return r, (max(times) / 1e6 if times else 0.0)


def assert_ffmpeg_hls_clean(url, seconds=20, min_decoded=None, extra_in=(), allow=()):
    """ffmpeg decodes `seconds` of the URL with nothing on stderr at -v error
    (except lines matching one of the `allow` patterns)."""
    r, decoded = ffmpeg_hls_decode(url, seconds, extra_in=extra_in)
    errors = [l for l in r.stderr.splitlines() if l.strip() and not any(re.search(a, l) for a in allow)]
    assert r.returncode == 0 and not errors, \
        f"ffmpeg -v error -i {url} -t {seconds}: exit {r.returncode}, error output:\n{r.stderr[-4000:]}"
    want = min_decoded if min_decoded is not None else seconds - 0.5
    assert decoded >= want, f"ffmpeg decoded only {decoded:.2f} s of {url} (wanted {want} s)"
    return decoded


def streamlink_capture(url, out_path, seconds=12, min_bytes=200_000):
    """`streamlink --stdout URL best` for `seconds`; returns the bytes it wrote."""
    assert shutil.which("streamlink"), "streamlink is not installed (run ./scripts/install-deps.sh)"
    argv = ["streamlink", "--stdout", "--loglevel", "warning", url, "best"]
    with open(out_path, "wb") as out, open(str(out_path) + ".log", "wb") as err:
        p = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            p.wait(seconds)
            early = True
        except subprocess.TimeoutExpired:
            early = False
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
    log = Path(str(out_path) + ".log").read_text(errors="replace")
    size = os.path.getsize(out_path)
    assert not early, f"streamlink exited by itself (code {p.returncode}) after < {seconds} s; log:\n{log[-3000:]}"
    assert size >= min_bytes, f"streamlink wrote only {size} bytes of {url} in {seconds} s; log:\n{log[-3000:]}"
    return size, log


_npm_lock = threading.Lock()


def ensure_browser_deps():
    """tests/browser/node_modules (playwright-core, hls.js) via `npm ci`, and Chromium."""
    assert shutil.which("node"), "node is not installed (apt-get install nodejs npm)"
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing (apt-get install chromium)"
    with _npm_lock:
        need = [BROWSER_DIR / "node_modules" / "playwright-core" / "package.json",
                BROWSER_DIR / "node_modules" / "hls.js" / "dist" / "hls.js"]
        if all(p.exists() for p in need):
            return
        assert shutil.which("npm"), "npm is not installed (apt-get install npm)"
        cmd = ["npm", "ci"] if (BROWSER_DIR / "package-lock.json").exists() else ["npm", "install"]
        r = subprocess.run(cmd + ["--no-audit", "--no-fund"], cwd=BROWSER_DIR, capture_output=True, text=True,
                           timeout=600)
        assert r.returncode == 0, f"{' '.join(cmd)} in {BROWSER_DIR} failed ({r.returncode}):\n{r.stderr[-3000:]}"
        missing = [str(p) for p in need if not p.exists()]
        assert not missing, f"{' '.join(cmd)} did not install {missing}"


class HlsJsPlayer:
    """tests/browser/play.mjs in the background: hls.js in headless Chromium.

    Without control=True it stops by itself once currentTime advanced `seconds`;
    with control=True it plays until stop(). progress holds its samples
    (dicts: t epoch ms, ct currentTime, cc, errors, ...)."""

    def __init__(self, url, screenshot, seconds=10, timeout=60, low_latency=True, control=False):
        ensure_browser_deps()
        self.url = url
        self.screenshot = Path(screenshot)
        self.timeout = timeout
        argv = ["node", str(BROWSER_DIR / "play.mjs"), "--url", url, "--screenshot", str(screenshot),
                "--seconds", str(seconds), "--timeout", str(timeout), "--low-latency", "1" if low_latency else "0"]
        if control:
            argv.append("--control")
        self.argv = argv
        self.progress = []
        self.stderr_lines = []
        self.stdout = ""
        self.proc = subprocess.Popen(argv, cwd=BROWSER_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        self._threads = [threading.Thread(target=self._read_err, daemon=True),
                         threading.Thread(target=self._read_out, daemon=True)]
        for t in self._threads:
            t.start()

    def _read_err(self):
        for line in self.proc.stderr:
            if line.startswith("progress "):
                try:
                    self.progress.append(json.loads(line[9:]))
                except ValueError:
                    pass
            elif len(self.stderr_lines) < 200:
                self.stderr_lines.append(line.rstrip())

    def _read_out(self):
        self.stdout = self.proc.stdout.read()

    def latest(self):
        return self.progress[-1] if self.progress else None

    def wait(self, predicate, timeout, what):
        def check():
            if self.proc.poll() is not None:
                raise AssertionError(f"play.mjs ended ({self.proc.returncode}) while waiting for {what}: "
                                     f"{self.stdout[-3000:]} {self.stderr_lines[-20:]}")
            s = self.latest()
            return s if s and predicate(s) else None
        return wait_until(check, timeout, interval=0.2, what=f"hls.js: {what} (last: {self.latest()})")

    def stop(self):
        try:
            self.proc.stdin.write("stop\n")
            self.proc.stdin.flush()
            self.proc.stdin.close()
        except (OSError, ValueError):
            pass

    def result(self, timeout=None):
        timeout = timeout or self.timeout + 45
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"play.mjs did not finish within {timeout} s; progress {self.progress[-3:]}")
        for t in self._threads:
            t.join(10)
        lines = [l for l in self.stdout.strip().splitlines() if l.startswith("{")]
        assert lines, f"play.mjs printed no JSON (exit {self.proc.returncode}); stdout {self.stdout[-2000:]!r}; " \
                      f"stderr {self.stderr_lines[-30:]}"
        res = json.loads(lines[-1])
        res["exit"] = self.proc.returncode
        try:   # the whole report beside the screenshot, as a test artefact
            Path(str(self.screenshot) + ".json").write_text(json.dumps(res, indent=1))
        except OSError:
            pass
        return res

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
            self.proc.wait(10)


def describe_hlsjs(res):
    keep = {k: res.get(k) for k in ("ok", "reason", "url", "advanced", "startCt", "currentTime", "errors", "ccs",
                                     "level", "frame", "hlsVersion", "browserVersion", "elapsed", "exit",
                                     "console")}
    keep["events"] = (res.get("events") or [])[-25:]
    return json.dumps(keep, indent=1)[:6000]


def assert_hlsjs_played(res, seconds):
    """hls.js played: currentTime advanced `seconds`, no hls.js error, a real
    picture (not black/uniform) on screen, and a PNG screenshot was written."""
    assert res.get("ok") and res.get("advanced", 0) >= seconds, f"hls.js did not play:\n{describe_hlsjs(res)}"
    assert not res.get("errors"), f"hls.js reported errors:\n{describe_hlsjs(res)}"
    frame = res.get("frame") or {}
    assert frame.get("width") and frame.get("stddev", 0) > 10, \
        f"the video element shows no picture (frame stats {frame}):\n{describe_hlsjs(res)}"
    shot = res.get("screenshot")
    assert shot and os.path.getsize(shot) > 5000, f"no screenshot written: {shot}"
    with open(shot, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n", f"{shot} is not a PNG"
