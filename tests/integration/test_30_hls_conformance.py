# SPDX-License-Identifier: MIT
"""test_30_hls_conformance.py -- 60 s of polling the playlists of live
channels, checking every RFC 8216 / RFC 8216bis server rule issue 3 lists:

  * EXTINF (rounded) <= EXT-X-TARGETDURATION, which never changes;
  * EXT-X-MEDIA-SEQUENCE and EXT-X-DISCONTINUITY-SEQUENCE never decrease (and
    the latter counts the EXT-X-DISCONTINUITY tags that left the playlist);
  * the window: the configured number of segments, never shorter than three
    target durations; published segments never change;
  * EXT-X-PROGRAM-DATE-TIME on every segment, EXT-X-INDEPENDENT-SEGMENTS;
  * segments start with PAT, PMT and a keyframe, and their EXTINF equals the
    PTS advance to the next segment;
  * LL-HLS: part durations <= PART-TARGET, PART-HOLD-BACK >= 3 x PART-TARGET,
    CAN-BLOCK-RELOAD=YES, a preload hint naming the next part, independent
    parts marked, a new part within about one part target, and a blocking
    reload (and the hinted part request) answered within part target + 50 ms
    of the part's availability;
  * --hls-target / --hls-window / --hls-part-ms are honoured.
"""

import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import http_get
from hls_harness import Playlist, PlaylistRules, PlaylistWatch, segment_info, wait_playlist

POLL_SECONDS = 60


class FastPoller(threading.Thread):
    """Non-blocking reloads of index.ll.m3u8 every 40 ms: when was each part
    (and segment) first listed."""

    def __init__(self, url, seconds, stop, rules):
        super().__init__(daemon=True, name="fast-poller")
        self.url, self.seconds, self.stop_ev = url, seconds, stop
        self.rules = rules          # static rules only (the slower watch checks reloads)
        self.rule_problems = {}     # first line of a problem -> count
        self.first_seen = {}        # (msn, part) -> monotonic
        self.segment_seen = {}      # msn -> monotonic
        self.problems = []
        self.polls = 0

    def run(self):
        t_end = time.monotonic() + self.seconds
        newest = None
        while not self.stop_ev.is_set() and time.monotonic() < t_end:
            try:
                r = http_get(self.url, timeout=5)
            except OSError as e:
                self.problems.append(f"fast poll: {e}")
                time.sleep(0.04)
                continue
            now = time.monotonic()
            self.polls += 1
            if r.status != 200:
                self.problems.append(f"fast poll: status {r.status}")
                continue
            pl = Playlist(r.text, time.time())
            for x in self.rules.check(pl):
                if x not in self.rule_problems and len(self.rule_problems) < 10:
                    self.problems.append(f"(40 ms polling) {x}\n--- playlist:\n{pl.text[-800:]}")
                self.rule_problems[x] = self.rule_problems.get(x, 0) + 1
            for key in pl.parts_available():
                self.first_seen.setdefault(key, now)
            for s in pl.segments:
                self.segment_seen.setdefault(s["msn"], now)
            n = pl.newest_part()
            if n is not None:
                if newest is not None and n < newest and len(self.problems) < 20:
                    self.problems.append(f"the newest part went back from {newest} to {n}")
                newest = max(newest or n, n)
            time.sleep(0.04)


class BlockingChain(threading.Thread):
    """What an LL-HLS player does: a blocking reload for the next part
    (_HLS_msn/_HLS_part from the preload hint) and, at the same time, a GET of
    the preload-hinted part; then again from the new playlist."""

    def __init__(self, base, seconds, stop, rules):
        super().__init__(daemon=True, name="blocking-chain")
        self.base, self.seconds, self.stop_ev = base, seconds, stop
        self.rules = rules          # static rules on every blocking answer
        self.rule_problems = {}
        self.steps = []      # dicts: key, t_req, t_reload, reload_status, listed, t_part, part_status, part_info
        self.problems = []

    def _reload(self, msn, part):
        url = f"{self.base}/index.ll.m3u8?_HLS_msn={msn}&_HLS_part={part}"
        r = http_get(url, timeout=10)
        return r, time.monotonic()

    def _part(self, msn, part):
        r = http_get(f"{self.base}/{msn}.{part}.ts", timeout=10, max_body=16 << 20)
        return r, time.monotonic()

    def run(self):
        t_end = time.monotonic() + self.seconds
        pl = Playlist(http_get(f"{self.base}/index.ll.m3u8", timeout=5).text)
        with ThreadPoolExecutor(max_workers=2) as pool:
            while not self.stop_ev.is_set() and time.monotonic() < t_end:
                key = pl.hint() or (pl.next_msn, 0)
                t_req = time.monotonic()
                fr = pool.submit(self._reload, *key)
                fp = pool.submit(self._part, *key)
                try:
                    (r, t_reload), (rp, t_part) = fr.result(), fp.result()
                except OSError as e:
                    self.problems.append(f"{key}: {type(e).__name__}: {e}")
                    return
                step = {"key": key, "t_req": t_req, "t_reload": t_reload, "reload_status": r.status,
                        "t_part": t_part, "part_status": rp.status,
                        "part_type": rp.headers.get("content-type")}
                if rp.status == 200:
                    info = segment_info(rp.body)
                    info.pop("after_psi")
                    step["part_info"] = {"aligned": info["aligned"], "keyframes": info["keyframes"],
                                         "size": info["size"]}
                self.steps.append(step)
                if r.status != 200:
                    self.problems.append(f"blocking reload for {key}: status {r.status} {r.body[:200]!r}")
                    return
                new = Playlist(r.text, time.time())
                for x in self.rules.check(new):
                    if x not in self.rule_problems and len(self.rule_problems) < 10:
                        self.problems.append(f"(blocking reload for part {key}) {x}\n--- playlist:\n"
                                             f"{new.text[-800:]}")
                    self.rule_problems[x] = self.rule_problems.get(x, 0) + 1
                step["listed"] = key in new.parts_available() or key[0] < new.next_msn and key[1] == 0
                pl = new


def _percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else None


@pytest.mark.time_limit(150)
def test_playlists_conform_for_60_seconds(server, media):
    srv = server()
    srv.add_channel("demo", f"file://{media['demo']}")
    srv.add_channel("t4", f"file://{media['demo']}", extra=("--hls-target", "4", "--hls-window", "3",
                                                            "--hls-part-ms", "500"))
    w2 = srv.cli("channel", "add", "w2", "--source", f"file://{media['demo']}", "--hls-window", "2")
    w2_accepted = w2.returncode == 0
    if not w2_accepted:
        assert w2.returncode == 1 and "window" in w2.stderr, \
            f"--hls-window 2 (< 3 target durations) must be refused naming the option, or accepted and " \
            f"raised: exit {w2.returncode} {w2.stderr!r}"
    names = ["demo", "t4"] + (["w2"] if w2_accepted else [])
    for n in names:
        srv.wait_state(n, "up", timeout=10)
    for n in names:
        wait_playlist(srv, n, min_segments=2, timeout=20)
    base = srv.url("/live/demo")

    stop = threading.Event()
    watches = {
        "demo": PlaylistWatch(f"{base}/index.m3u8", PlaylistRules("demo index.m3u8"), duration=POLL_SECONDS,
                              interval=0.5, stop_event=stop),
        "demo-ll": PlaylistWatch(f"{base}/index.ll.m3u8", PlaylistRules("demo index.ll.m3u8", ll=True),
                                 duration=POLL_SECONDS, interval=0.5, fetch_segments=False, stop_event=stop),
        "t4": PlaylistWatch(srv.url("/live/t4/index.m3u8"), PlaylistRules("t4 index.m3u8", window=3),
                            duration=POLL_SECONDS, interval=1.0, stop_event=stop),
        "t4-ll": PlaylistWatch(srv.url("/live/t4/index.ll.m3u8"), PlaylistRules("t4 index.ll.m3u8", ll=True, window=3),
                               duration=POLL_SECONDS, interval=1.0, fetch_segments=False, stop_event=stop),
    }
    if w2_accepted:
        # the window is raised to >= 3 target durations: 3 segments of 2 s
        watches["w2"] = PlaylistWatch(srv.url("/live/w2/index.m3u8"), PlaylistRules("w2 index.m3u8", window=3),
                                      duration=POLL_SECONDS, interval=1.0, fetch_segments=False, stop_event=stop)
    fast = FastPoller(f"{base}/index.ll.m3u8", POLL_SECONDS, stop, PlaylistRules("demo index.ll.m3u8", ll=True))
    chain = BlockingChain(base, POLL_SECONDS, stop, PlaylistRules("demo index.ll.m3u8?_HLS_msn=..", ll=True))
    threads = list(watches.values()) + [fast, chain]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join(POLL_SECONDS + 30)
    finally:
        stop.set()
    elapsed = time.monotonic() - t0
    srv.assert_alive()

    # Every check runs; the test fails at the end with all that went wrong.
    fails = []

    def check(ok, msg):
        if not ok:
            fails.append(msg)

    # --- playlist rules, reload after reload
    problems = []
    for name, w in watches.items():
        problems += w.problems
        check(w.playlists >= POLL_SECONDS / w.interval * 0.5, f"{name}: only {w.playlists} reloads")
    problems += fast.problems + chain.problems
    check(not problems, f"{len(problems)} playlist/segment problems:\n\n" + "\n\n".join(problems[:25]))

    # --- the segments themselves were all fetched and checked
    d = watches["demo"]
    seen = sorted(d.segment_infos)
    check(len(seen) >= POLL_SECONDS / 2 - 3, f"only {len(seen)} segments in {POLL_SECONDS} s: {seen}")
    check(seen and seen == list(range(seen[0], seen[-1] + 1)), f"segment numbers not consecutive: {seen}")
    ms = [m for _, m, _ in d.media_sequences if m is not None]
    check(ms and ms[-1] - ms[0] >= POLL_SECONDS / 2 - 4, f"MEDIA-SEQUENCE moved only {ms[:1]} -> {ms[-1:]}")

    # --- plain and LL playlists publish the same segments
    ll = watches["demo-ll"]
    for msn, s in d.all_segments.items():
        o = ll.all_segments.get(msn)
        if o is not None:
            check((o["duration_text"], o["pdt"], o["discontinuity"]) ==
                  (s["duration_text"], s["pdt"], s["discontinuity"]),
                  f"segment {msn} differs between index.m3u8 {s} and index.ll.m3u8 {o}")

    # --- configured channels
    t4 = watches["t4"].last
    check(t4 and t4.target == 4 and len(t4.segments) == 3,
          f"t4 (--hls-target 4 --hls-window 3):\n{t4.text if t4 else None}")
    t4ll = watches["t4-ll"].last
    check(t4ll and t4ll.part_target == 0.5, f"t4 --hls-part-ms 500:\n{t4ll.text if t4ll else None}")
    check(d.last.target == 2 and len(d.last.segments) == 6, f"defaults: target 2, 6 segments:\n{d.last.text}")
    if w2_accepted:
        w = watches["w2"].last
        check(w.duration() >= 3 * w.target - 0.5,
              f"--hls-window 2 gives a playlist of {w.duration():.2f} s < 3 target durations:\n{w.text}")

    # --- independent parts are marked: part 0 of a segment starts with its keyframe,
    # a part holding a keyframe says INDEPENDENT=YES
    parts = ll.parts
    checked = 0
    part_fails = []
    for st in chain.steps:
        key, info = st["key"], st.get("part_info")
        if not info or key not in parts:
            continue
        checked += 1
        if not info["aligned"]:
            part_fails.append(f"part {key}: not whole TS packets ({info})")
        if st["part_type"] != "video/mp2t":
            part_fails.append(f"part {key}: Content-Type {st['part_type']!r}")
        if key[1] == 0 and not (parts[key]["independent"] and info["keyframes"] >= 1):
            part_fails.append(f"part {key} (first of its segment) should hold the keyframe and say "
                              f"INDEPENDENT=YES: {parts[key]['attrs']} {info}")
        if info["keyframes"] and not parts[key]["independent"]:
            part_fails.append(f"part {key} holds a keyframe but lacks INDEPENDENT=YES")
    check(not part_fails, f"{len(part_fails)} part problems: {part_fails[:10]}")
    check(checked >= POLL_SECONDS * 2, f"only {checked} parts checked via the preload hint in {POLL_SECONDS} s")

    # --- part timing
    pt = ll.last.part_target
    steps = [s for s in chain.steps if s["reload_status"] == 200 and s["part_status"] == 200]
    bad_status = [s for s in chain.steps if s["reload_status"] != 200 or s["part_status"] != 200]
    check(not bad_status, f"blocking requests not answered 200: {bad_status[:5]}")
    not_listed = [s["key"] for s in steps if not s.get("listed")]
    check(not not_listed, f"blocking reloads answered without the part asked for: {not_listed[:10]}")
    avail = {}
    for s in steps:
        k = s["key"]
        avail[k] = min(s["t_reload"], s["t_part"], fast.first_seen.get(k, float("inf")))
    late_reload = [(s["key"], round(s["t_reload"] - avail[s["key"]], 3)) for s in steps
                   if s["t_reload"] - avail[s["key"]] > pt + 0.05]
    late_part = [(s["key"], round(s["t_part"] - avail[s["key"]], 3)) for s in steps
                 if s["t_part"] - avail[s["key"]] > pt + 0.05]
    # cadence: the time between two consecutive parts becoming available
    keys = sorted(k for k in fast.first_seen if fast.first_seen[k] > t0 + 1)  # not the first poll's backlog
    times = [min(fast.first_seen[k], avail.get(k, float("inf"))) for k in keys]
    gaps = [(keys[i], round(times[i] - times[i - 1], 3)) for i in range(1, len(keys))]
    stats = {"parts": len(keys), "chain_steps": len(steps), "elapsed": round(elapsed, 1),
             "gap_median": statistics.median([g for _, g in gaps]) if gaps else None,
             "gap_p95": _percentile([g for _, g in gaps], 0.95), "gap_max": max((g for _, g in gaps), default=None),
             "reload_after_avail_p95": _percentile([s["t_reload"] - avail[s["key"]] for s in steps], 0.95),
             "fast_polls": fast.polls, "rule_problems_40ms_polls": fast.rule_problems,
             "rule_problems_blocking": chain.rule_problems}
    print("part timing:", json.dumps(stats, default=str))
    check(not late_reload, f"blocking reloads answered later than PART-TARGET + 50 ms after the part was "
                           f"available: {late_reload[:10]} ({stats})")
    check(not late_part, f"preload-hinted part requests answered later than PART-TARGET + 50 ms after the "
                         f"part was available: {late_part[:10]} ({stats})")
    slow = [(k, g) for k, g in gaps if g > pt + 0.1]
    check(not slow, f"no new part for longer than PART-TARGET {pt} s (+0.1 s polling slack): {slow[:10]} ({stats})")
    covered = sum(parts[k]["duration"] for k in keys if k in parts)
    check(covered >= 0.8 * (elapsed - 2),
          f"the parts that appeared in {elapsed:.0f} s cover only {covered:.1f} s of media ({stats})")
    assert not fails, f"{len(fails)} conformance checks failed:\n\n" + "\n\n".join(fails)
