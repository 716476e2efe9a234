#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""hls_latency.py -- helper of bench/hls_latency.sh: source-to-player latency of HLS and LL-HLS on loopback.

Usage: hls_latency.py --base http://127.0.0.1:PORT/live/demo --tap-port PORT [--seconds 20]
                      [--players ll-hint,ll-playlist,plain] [--poll 0.1] [--ready FILE] [--json OUT]

Three things run at once, each in its own thread, all on the same wall clock (time.time()):

  tap      receives a copy of the UDP feed the source sends to antenne (the sender writes the same
           MPEG-TS to both ports, through ffmpeg's tee muxer) and records, for every PES start, the
           moment its first datagram arrived: t_send[(pid, DTS or PTS)].  On loopback that is the
           moment the source sent it, to some microseconds.

  players  model clients that fetch as early as the server lets them:
    ll-hint      LL-HLS with preload hints: GET the part named by EXT-X-PRELOAD-HINT (the request blocks
                 until the part exists and is answered when it is complete), then
                 GET index.ll.m3u8?_HLS_msn=M&_HLS_part=P for that part (answered at once: it exists)
                 to learn the next hint; parts listed there that it has not fetched yet are fetched too.
    ll-playlist  LL-HLS without hints, as hls.js does: GET index.ll.m3u8?_HLS_msn=M&_HLS_part=P for the
                 part after the newest it has, which blocks until that part exists, then GET the new
                 part(s) named by EXT-X-PART.
    plain        RFC 8216 HLS: GET index.m3u8 every --poll seconds; each new segment is fetched at once.

For each part (or segment) fetched, with t_done the moment its last byte arrived at the client and
t_first the earliest t_send of the PES starts it carries (its first content the source sent):
    LL-HLS     latency = t_done - t_first + D_part       D_part: the part's EXT-X-PART DURATION, the
                                                          player's buffer of one part before it renders
    plain HLS  latency = t_done - t_first                 a player rendering a segment the moment it is
                                                          complete; the goal compares this with the
                                                          segment's duration + 0.5 s
and the server's share, delay = t_done - (t_first + duration): how long after the source finished
sending the part's (segment's) content the client had all of it.

Also checked: EXT-X-PROGRAM-DATE-TIME of each segment against t_send of its first PES (pdt_offset), and
the model of the brief, wall_send(ts) = t0 + (ts - ts0) / 90000 with t0, ts0 the first PES start the
tap saw, against the tap (model_error): how well `ffmpeg -re` paces the sender.

Prints one line per player:
  RESULT player=ll-hint n=N median=S p95=S min=S max=S delay_median=S delay_p95=S unmatched=N errors=N
(seconds) and writes every sample to --json.
"""

import argparse
import collections
import http.client
import json
import os
import re
import socket
import sys
import threading
import time
import urllib.parse
from datetime import datetime

TS = 188


def pes_starts(data):
    """[(pid, ts, has_dts)] for every PES start with a PTS in MPEG-TS bytes (DTS when present)."""
    out = []
    n = len(data) - len(data) % TS
    for off in range(0, n, TS):
        if data[off] != 0x47:
            continue
        b1 = data[off + 1]
        if not b1 & 0x40:  # payload_unit_start_indicator
            continue
        pid = (b1 & 0x1F) << 8 | data[off + 2]
        afc = (data[off + 3] >> 4) & 3
        p = off + 4
        if afc & 2:
            p += 1 + data[off + 4]
        if not afc & 1 or p + 14 > off + TS:
            continue
        if data[p] != 0 or data[p + 1] != 0 or data[p + 2] != 1:
            continue
        sid = data[p + 3]
        if not (0xC0 <= sid <= 0xEF or sid == 0xBD):
            continue
        flags = data[p + 7] >> 6
        if not flags & 2:
            continue

        def ts_at(q):
            return ((data[q] >> 1) & 7) << 30 | data[q + 1] << 22 | (data[q + 2] >> 1) << 15 | \
                data[q + 3] << 7 | data[q + 4] >> 1

        if flags == 3 and p + 19 <= off + TS:
            out.append((pid, ts_at(p + 14), True))
        else:
            out.append((pid, ts_at(p + 9), False))
    return out


class Tap(threading.Thread):
    """Records when each PES start of the source's feed went out."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.2)
        self.t_send = {}
        self.first = None  # (t0, ts0) of the first PES start seen on the first PID that carried one
        self.model_err = []
        self.datagrams = 0
        self.stop = False
        self.lock = threading.Lock()

    def run(self):
        while not self.stop:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            t = time.time()
            self.datagrams += 1
            starts = pes_starts(data)
            if not starts:
                continue
            with self.lock:
                for pid, ts, _ in starts:
                    self.t_send.setdefault((pid, ts), t)
                    if self.first is None:
                        self.first = (t, ts, pid)
                    elif pid == self.first[2]:
                        self.model_err.append(t - (self.first[0] + ((ts - self.first[1]) % (1 << 33)) / 90000))

    def lookup(self, key):
        with self.lock:
            return self.t_send.get(key)


class Client:
    """One keep-alive HTTP/1.1 connection; reconnects when the server closed it."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80
        self.prefix = u.path.rstrip("/") + "/"
        self.conn = None

    def get(self, rel, timeout=15):
        path = rel if rel.startswith("/") else self.prefix + rel
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            try:
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                body = r.read()
                t = time.time()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, body, t
            except (http.client.HTTPException, OSError):
                try:
                    self.conn.close()
                except Exception:
                    pass
                self.conn = None
                if attempt:
                    raise


ATTR_RE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


def attrs(s):
    return {k: v.strip('"') for k, v in ATTR_RE.findall(s)}


def parse_playlist(text):
    """{'msn0', 'segments': [(msn, dur, uri, pdt)], 'parts': [(msn, idx, dur, uri, indep)], 'hint': uri|None,
    'part_target', 'target'}"""
    pl = {"msn0": 0, "segments": [], "parts": [], "hint": None, "part_target": None, "target": None}
    msn = None
    idx = 0
    dur = None
    pdt = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            pl["msn0"] = int(line.split(":", 1)[1])
            msn = pl["msn0"]
        elif line.startswith("#EXT-X-TARGETDURATION:"):
            pl["target"] = float(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-PART-INF:"):
            pl["part_target"] = float(attrs(line.split(":", 1)[1]).get("PART-TARGET", "0"))
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            try:
                pdt = datetime.fromisoformat(line.split(":", 1)[1].replace("Z", "+00:00")).timestamp()
            except ValueError:
                pdt = None
        elif line.startswith("#EXTINF:"):
            dur = float(line.split(":", 1)[1].split(",")[0])
        elif line.startswith("#EXT-X-PART:"):
            a = attrs(line.split(":", 1)[1])
            if msn is None:
                msn = pl["msn0"]
            pl["parts"].append((msn, idx, float(a.get("DURATION", "0")), a.get("URI"),
                                a.get("INDEPENDENT") == "YES"))
            idx += 1
        elif line.startswith("#EXT-X-PRELOAD-HINT:"):
            a = attrs(line.split(":", 1)[1])
            if a.get("TYPE") == "PART":
                pl["hint"] = a.get("URI")
        elif line and not line.startswith("#"):
            if msn is None:
                msn = pl["msn0"]
            pl["segments"].append((msn, dur, line, pdt))
            msn += 1
            idx = 0
            dur = None
            pdt = None
    return pl


def hint_position(uri, pl):
    """(msn, part) of the preload hint: from its URI "<msn>.<part>.ts", else after the last part listed."""
    m = re.search(r"(\d+)\.(\d+)\.ts", uri or "")
    if m:
        return int(m.group(1)), int(m.group(2))
    if pl["parts"]:
        msn, idx = pl["parts"][-1][:2]
        last_seg = pl["segments"][-1][0] if pl["segments"] else -1
        return (msn + 1, 0) if msn <= last_seg else (msn, idx + 1)
    return None


class Player(threading.Thread):
    def __init__(self, kind, args, tap, deadline):
        super().__init__(daemon=True)
        self.kind, self.args, self.tap, self.deadline = kind, args, tap, deadline
        self.client = Client(args.base)
        self.samples = []
        self.unmatched = 0
        self.errors = []
        self.pdt = []  # (msn, pdt - t_send of its first PES)
        self.hint_misses = 0

    def record(self, what, key, dur, body, t_done, via):
        starts = pes_starts(body)
        times = [self.tap.lookup((pid, ts)) for pid, ts, _ in starts]
        times = [t for t in times if t is not None]
        if not times:
            self.unmatched += 1
            return None
        t_first = min(times)
        buf = dur if self.kind.startswith("ll") else 0.0
        s = {"what": what, "key": key, "dur": dur, "bytes": len(body), "t_first": t_first, "t_done": t_done,
             "latency": t_done - t_first + buf, "delay": t_done - (t_first + dur), "via": via}
        self.samples.append(s)
        return s

    def fetch_listed(self, uri):
        """A part or segment the playlist lists: an error is counted, not fatal. (body, t) or None."""
        try:
            return self.fetch(uri)
        except Exception as e:  # noqa: BLE001
            self.errors.append(f"{type(e).__name__}: {e}")
            if len(self.errors) > 50:
                raise
            return None

    def fetch(self, uri):
        st, body, t = self.client.get(uri)
        if st != 200:
            raise RuntimeError(f"GET {uri}: {st} {body[:200].decode('utf-8', 'replace').strip()}")
        return body, t

    def playlist(self, name, query=""):
        st, body, t = self.client.get(name + query)
        if st != 200:
            raise RuntimeError(f"GET {name}{query}: {st} {body[:200].decode('utf-8', 'replace').strip()}")
        return parse_playlist(body.decode("utf-8", "replace")), t

    def run(self):
        try:
            getattr(self, "run_" + self.kind.replace("-", "_"))()
        except Exception as e:  # noqa: BLE001 -- reported, not fatal to the other players
            self.errors.append(f"{type(e).__name__}: {e}")

    # --- LL-HLS ---------------------------------------------------------------------------------------
    def new_parts(self, pl, after):
        return [p for p in pl["parts"] if after is None or (p[0], p[1]) > after]

    def run_ll_hint(self):
        pl, _ = self.playlist("index.ll.m3u8")
        last = None  # (msn, idx) of the newest part fetched
        # start at the live edge: the parts listed now are old; the hinted one is the first we time
        if pl["parts"]:
            last = pl["parts"][-1][:2]
        while time.time() < self.deadline:
            for msn, idx, dur, uri, _ind in self.new_parts(pl, last):
                got = self.fetch_listed(uri)
                if got:
                    self.record("part", (msn, idx), dur, got[0], got[1], "playlist")
                last = (msn, idx)
            pos = hint_position(pl["hint"], pl)
            if pl["hint"] is None or pos is None or (last is not None and pos <= last):
                # no usable hint: block on the next part through the playlist instead
                q = self.next_query(last, pl)
                pl, _ = self.playlist("index.ll.m3u8", q)
                continue
            st, body, t = self.client.get(pl["hint"])
            # the hint's duration is only known from the next playlist
            q = f"?_HLS_msn={pos[0]}&_HLS_part={pos[1]}"
            pl, _ = self.playlist("index.ll.m3u8", q)
            if st != 200:
                # a hinted part may never come to exist (RFC 8216bis 4.4.5.3): the segment was cut first
                self.hint_misses += 1
                continue
            part = next((p for p in pl["parts"] if p[:2] == pos), None)
            if part is None:  # answered, but not listed where its name says: count it, keep it
                self.hint_misses += 1
            dur = part[2] if part else (pl["part_target"] or 0.0)
            self.record("part", pos, dur, body, t, "hint")
            last = pos

    def next_query(self, last, pl):
        if last is None:
            return ""
        msn, idx = last
        # the next part is (msn, idx+1) unless msn is complete in the playlist
        done = any(s[0] == msn for s in pl["segments"])
        return f"?_HLS_msn={msn + 1}&_HLS_part=0" if done else f"?_HLS_msn={msn}&_HLS_part={idx + 1}"

    def run_ll_playlist(self):
        pl, _ = self.playlist("index.ll.m3u8")
        last = pl["parts"][-1][:2] if pl["parts"] else None
        while time.time() < self.deadline:
            pl, _ = self.playlist("index.ll.m3u8", self.next_query(last, pl))
            for msn, idx, dur, uri, _ind in self.new_parts(pl, last):
                got = self.fetch_listed(uri)
                if got:
                    self.record("part", (msn, idx), dur, got[0], got[1], "playlist")
                last = (msn, idx)

    # --- plain HLS ------------------------------------------------------------------------------------
    def run_plain(self):
        pl, _ = self.playlist("index.m3u8")
        last = pl["segments"][-1][0] if pl["segments"] else -1
        while time.time() < self.deadline:
            time.sleep(self.args.poll)
            pl, _ = self.playlist("index.m3u8")
            for msn, dur, uri, pdt in pl["segments"]:
                if msn <= last:
                    continue
                got = self.fetch_listed(uri)
                s = got and self.record("segment", msn, dur or 0.0, got[0], got[1], "poll")
                if s and pdt is not None:
                    self.pdt.append((msn, pdt - s["t_first"]))
                last = msn


def pct(v, q):
    if not v:
        return float("nan")
    v = sorted(v)
    k = max(0, min(len(v) - 1, int(round(q / 100 * len(v) + 0.4999)) - 1))
    return v[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True, help="http://127.0.0.1:PORT/live/CHANNEL")
    ap.add_argument("--tap-port", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=0, help="seconds of tap before the players start")
    ap.add_argument("--players", default="ll-hint,ll-playlist,plain")
    ap.add_argument("--poll", type=float, default=0.1, help="plain player's playlist interval")
    ap.add_argument("--ready", help="file to create once the tap listens")
    ap.add_argument("--go", help="file to wait for (at most 120 s) before the players start")
    ap.add_argument("--json")
    args = ap.parse_args()

    tap = Tap(args.tap_port)
    tap.start()
    if args.ready:
        open(args.ready, "w").close()
    if args.go:
        end = time.time() + 120
        while not os.path.exists(args.go) and time.time() < end:
            time.sleep(0.05)
    time.sleep(args.warmup)
    deadline = time.time() + args.seconds
    players = [Player(k.strip(), args, tap, deadline) for k in args.players.split(",") if k.strip()]
    for p in players:
        p.start()
    for p in players:
        p.join(args.seconds + 30)
    while not players and time.time() < deadline:  # tap only (a test of the sender)
        time.sleep(0.1)
    tap.stop = True

    errs = collections.Counter()
    out = {"tap_datagrams": tap.datagrams, "tap_pes": len(tap.t_send), "players": {}}
    me = tap.model_err
    if me:
        out["model_error"] = {"median": pct(me, 50), "p5": pct(me, 5), "p95": pct(me, 95), "n": len(me)}
        print("MODEL wall_send(ts) = t0 + (ts - ts0)/90000 vs tap: median %+.4f s, p5 %+.4f, p95 %+.4f (%d PES)" %
              (pct(me, 50), pct(me, 5), pct(me, 95), len(me)))
    for p in players:
        lat = [s["latency"] for s in p.samples]
        dl = [s["delay"] for s in p.samples]
        over = [s["latency"] - s["dur"] for s in p.samples]
        durs = [s["dur"] for s in p.samples]
        pdt = [d for _, d in p.pdt]
        r = {"n": len(lat), "median": pct(lat, 50), "p95": pct(lat, 95), "min": min(lat, default=float("nan")),
             "max": max(lat, default=float("nan")), "delay_median": pct(dl, 50), "delay_p95": pct(dl, 95),
             "over_dur_median": pct(over, 50), "over_dur_p95": pct(over, 95), "dur_median": pct(durs, 50),
             "pdt_offset_median": pct(pdt, 50), "unmatched": p.unmatched, "hint_misses": p.hint_misses, "errors": p.errors,
             "samples": p.samples}
        out["players"][p.kind] = r
        errs[p.kind] = len(p.errors)
        print(("RESULT player=%s n=%d median=%.3f p95=%.3f min=%.3f max=%.3f delay_median=%.3f delay_p95=%.3f "
               "over_dur_median=%.3f over_dur_p95=%.3f dur_median=%.3f pdt_offset_median=%.3f unmatched=%d hint_misses=%d "
               "errors=%d") %
              (p.kind, r["n"], r["median"], r["p95"], r["min"], r["max"], r["delay_median"], r["delay_p95"],
               r["over_dur_median"], r["over_dur_p95"], r["dur_median"], r["pdt_offset_median"], p.unmatched,
               p.hint_misses, len(p.errors)))
        for e in p.errors:
            print(f"ERROR player={p.kind} {e}", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0 if all(out["players"][k]["n"] > 0 for k in out["players"]) else 1


if __name__ == "__main__":
    sys.exit(main())
