# SPDX-License-Identifier: MIT
"""harness.py -- the pieces the integration tests drive antenne with.

Everything here talks to antenne the way a real deployment does: the `antenne`
binary started as a process, its CLI, HTTP over loopback (or inside a network
namespace the test created), and real clients (ffprobe, ffmpeg, VLC).

Every wait and every loop is bounded in count and time; a helper that gives up
raises AssertionError with what it was waiting for and what it saw last.
"""

import ctypes
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
ANTENNE_BIN = Path(os.environ.get("ANTENNE_BIN", REPO / "build" / "antenne"))
ANTENNE_MEDIA = Path(os.environ.get("ANTENNE_MEDIA", REPO / "build" / "media"))
MEDIA_FILES = ("demo.ts", "short.ts", "mpts.ts", "radio.ts", "hevc.ts")

# Markers of a sanitizer report in a process's stderr (ASan/LSan and UBSan).
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")
# Set by scripts/valgrind-integration.sh (ANTENNE_BIN is then scripts/valgrind-antenne):
# exit code 99 means memcheck found errors, reported in DIR/valgrind.PID.log.
VALGRIND_LOGDIR = os.environ.get("ANTENNE_VALGRIND_LOGDIR")

TS_PACKET = 188
NULL_PID = 0x1FFF
PCR_MODULO = (1 << 33) * 300  # PCR wraps: 33-bit base in 90 kHz, 9-bit extension
VIDEO_STREAM_TYPES = {0x01: "mpeg1video", 0x02: "mpeg2video", 0x1B: "h264", 0x24: "hevc"}


# --------------------------------------------------------------------------
# small utilities


def wait_until(predicate, timeout, interval=0.1, what="condition"):
    """Call predicate() until it returns something truthy; return that value.

    Raises AssertionError after `timeout` seconds, naming `what` and the last
    value (or exception) the predicate produced.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, ValueError, KeyError, http.client.HTTPException) as e:
            last = e
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; last value: {last!r}")
        time.sleep(interval)


def free_port(kind=socket.SOCK_STREAM, host="127.0.0.1"):
    """A port number nobody listens on right now (TCP or UDP) on loopback."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def check_sanitizer(text, who):
    """Return a problem string if `text` holds a sanitizer report, else None."""
    for marker in SANITIZER_MARKERS:
        idx = text.find(marker)
        if idx >= 0:
            start = max(0, text.rfind("\n", 0, max(0, idx - 2000)))
            return f"{who}: sanitizer report ({marker!r}):\n{text[start:start + 6000]}"
    return None


def check_valgrind(rc, pid, who):
    """Under scripts/valgrind-integration.sh: a problem string if memcheck found errors."""
    if not VALGRIND_LOGDIR or rc != 99:
        return None
    path = Path(VALGRIND_LOGDIR) / f"valgrind.{pid}.log"
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        text = f"({e})"
    return f"{who}: valgrind memcheck found errors (exit 99), {path}:\n{tail(text, 12000)}"


def tail(text, limit=20000):
    if len(text) <= limit:
        return text
    return f"[... {len(text) - limit} bytes cut ...]\n" + text[-limit:]


def run_parallel(**jobs):
    """Run the callables concurrently; return {name: result}.

    Every job runs to its end; then the first exception (if any) is raised
    with the names of all failed jobs.
    """
    results, errors = {}, {}
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {name: pool.submit(fn) for name, fn in jobs.items()}
        for name, fut in futures.items():
            try:
                results[name] = fut.result()
            except BaseException as e:  # noqa: BLE001 -- reported below
                errors[name] = e
    if errors:
        msgs = "\n\n".join(f"[{name}] {type(e).__name__}: {e}" for name, e in errors.items())
        raise AssertionError(f"{len(errors)} of {len(jobs)} parallel checks failed:\n{msgs}")
    return results


# --------------------------------------------------------------------------
# network namespaces

_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNET = 0x40000000


class NetNS:
    """A throw-away network namespace with loopback up and multicast routed on lo.

    Processes run inside it through `cmd()`; Python sockets are created inside it
    through `socket()` (setns on a short-lived thread: the socket stays in the
    namespace it was created in, whichever thread uses it later).
    """

    def __init__(self):
        self.name = f"antenne-test-{uuid.uuid4().hex[:10]}"
        self._run(["ip", "netns", "add", self.name])
        try:
            self._run(["ip", "netns", "exec", self.name, "ip", "link", "set", "lo", "up"])
            # src 127.0.0.1 so that senders have a real source address (SSM needs it).
            for net in ("239.0.0.0/8", "232.0.0.0/8"):
                self._run(["ip", "netns", "exec", self.name, "ip", "route", "add", net, "dev", "lo",
                           "src", "127.0.0.1"])
        except BaseException:
            self.delete()
            raise

    @staticmethod
    def _run(argv):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        assert r.returncode == 0, f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}"

    def cmd(self, argv):
        return ["ip", "netns", "exec", self.name, *argv]

    def socket(self, family=socket.AF_INET, kind=socket.SOCK_STREAM):
        out = {}

        def enter_and_create():
            try:
                fd = os.open(f"/var/run/netns/{self.name}", os.O_RDONLY)
                try:
                    if _libc.setns(fd, _CLONE_NEWNET) != 0:
                        err = ctypes.get_errno()
                        raise OSError(err, f"setns({self.name}): {os.strerror(err)}")
                finally:
                    os.close(fd)
                out["sock"] = socket.socket(family, kind)
            except BaseException as e:  # noqa: BLE001 -- handed to the caller
                out["err"] = e

        t = threading.Thread(target=enter_and_create, name=f"setns-{self.name}")
        t.start()
        t.join(10)
        if "err" in out:
            raise out["err"]
        return out["sock"]

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=20)


def make_socket(ns=None, kind=socket.SOCK_STREAM):
    if ns is None:
        return socket.socket(socket.AF_INET, kind)
    return ns.socket(socket.AF_INET, kind)


def wrap_cmd(argv, ns=None):
    return ns.cmd(argv) if ns is not None else list(argv)


# --------------------------------------------------------------------------
# HTTP client helpers


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # dict, lower-case names
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise AssertionError(f"response is not JSON ({e}): {self.body[:500]!r}") from None

    def __repr__(self):
        return f"<Response {self.status} {self.reason} {self.body[:200]!r}>"


class NoResponse(TimeoutError):
    """The server accepted the request but did not answer in time."""


class _NSConnection(http.client.HTTPConnection):
    def __init__(self, host, port, ns, timeout):
        super().__init__(host, port, timeout=timeout)
        self._ns = ns

    def connect(self):
        sock = make_socket(self._ns)
        sock.settimeout(self.timeout)
        sock.connect((self.host, self.port))
        self.sock = sock


def http_get(url, method="GET", headers=None, body=None, ns=None, timeout=5, max_body=1 << 20):
    """One HTTP request with http.client; returns Response.

    For a response without length (an endless stream) at most `max_body` bytes
    are read, or what arrives before `timeout`.
    """
    u = urlsplit(url)
    conn = _NSConnection(u.hostname, u.port or 80, ns, timeout)
    try:
        path = u.path or "/"
        if u.query:
            path += "?" + u.query
        conn.request(method, path, body=body, headers=headers or {})
        try:
            r = conn.getresponse()
        except (socket.timeout, TimeoutError):
            raise NoResponse(f"{method} {url}: no response within {timeout} s") from None
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        if method == "HEAD":
            data = b""
        elif "content-length" in hdrs or hdrs.get("transfer-encoding", "").lower() == "chunked":
            data = r.read()
        else:
            data = b""
            try:
                while len(data) < max_body:
                    chunk = r.read1(min(65536, max_body - len(data)))
                    if not chunk:
                        break
                    data += chunk
            except (socket.timeout, TimeoutError):
                pass
        return Response(r.status, r.reason, hdrs, data)
    finally:
        conn.close()


def raw_request(host, port, payload, ns=None, timeout=5, read_limit=1 << 16):
    """Send raw bytes, then read what the server answers until it closes,
    resets, goes quiet for `timeout` s, or `read_limit` bytes arrived.

    Returns (response_bytes, note) where note says how the read ended.
    """
    s = make_socket(ns)
    s.settimeout(timeout)
    got = bytearray()
    note = ""
    try:
        s.connect((host, port))
        try:
            view = memoryview(payload)
            while view:
                n = s.send(view[:65536])
                view = view[n:]
        except OSError as e:
            note = f"send stopped: {e}; "
        try:
            while len(got) < read_limit:
                d = s.recv(65536)
                if not d:
                    note += "closed by server"
                    break
                got += d
        except (socket.timeout, TimeoutError):
            note += f"no more data for {timeout} s (connection still open)"
        except OSError as e:
            note += f"recv stopped: {e}"
    finally:
        s.close()
    return bytes(got), note


def parse_status(raw):
    """(status, headers dict, body) from raw response bytes; status None if none."""
    m = re.match(rb"HTTP/1\.[01] (\d{3})[^\r\n]*\r\n", raw)
    if not m:
        return None, {}, raw
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    return int(m.group(1)), headers, body


class StreamClient:
    """A raw-socket HTTP client for /live/<ch>.ts: exact timing, rate control,
    and the bytes exactly as the server sent them."""

    def __init__(self, url, ns=None, rcvbuf=None, timeout=10, headers=None, user_agent="antenne-tests", source=None):
        u = urlsplit(url)
        self.url = url
        self.sock = make_socket(ns)
        if source:
            self.sock.bind((source, 0))  # another loopback address: another client
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        path = (u.path or "/") + (("?" + u.query) if u.query else "")
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        req = (f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\nUser-Agent: {user_agent}\r\n{extra}\r\n").encode()
        self.t_request = time.monotonic()
        self.sock.connect((u.hostname, u.port or 80))
        self.t_request = time.monotonic()
        self.sock.sendall(req)
        head = b""
        while b"\r\n\r\n" not in head:
            d = self.sock.recv(65536)
            if not d:
                raise AssertionError(f"GET {url}: connection closed before response headers ({head[:300]!r})")
            head += d
            if len(head) > 65536:
                raise AssertionError(f"GET {url}: response headers larger than 64 KiB")
        self.t_headers = time.monotonic()
        raw_head, _, rest = head.partition(b"\r\n\r\n")
        self.status, self.headers, _ = parse_status(raw_head + b"\r\n\r\n")
        self.status_line = raw_head.split(b"\r\n", 1)[0].decode("latin-1")
        self.pending = rest
        self.t_first_byte = time.monotonic() if rest else None
        self.eof = False

    def recv(self, n=65536):
        """Next bytes of the body; b'' at EOF. Raises socket.timeout on a stall."""
        if self.pending:
            d, self.pending = self.pending[:n], self.pending[n:]
            return d
        d = self.sock.recv(n)
        if not d:
            self.eof = True
        elif self.t_first_byte is None:
            self.t_first_byte = time.monotonic()
        return d

    def read_exact(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        out = bytearray()
        while len(out) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"GET {self.url}: only {len(out)} of {n} bytes within {timeout} s")
            d = self.recv(n - len(out))
            if not d:
                raise AssertionError(f"GET {self.url}: connection closed after {len(out)} of {n} bytes")
            out += d
        return bytes(out)

    def read_body(self, limit=1 << 16):
        """For a non-stream answer: read until close or limit."""
        out = bytearray(self.pending)
        self.pending = b""
        try:
            while len(out) < limit:
                d = self.sock.recv(65536)
                if not d:
                    break
                out += d
        except OSError:
            pass
        return bytes(out)

    def read_answer(self, limit=1 << 16):
        """For a non-stream answer: its body, by Content-Length when it has one
        (a kept-alive connection does not close after it), else until close
        or limit (as read_body)."""
        n = self.headers.get("content-length")
        if n is None or not n.isdigit():
            return self.read_body(limit)
        n = min(int(n), limit)
        out = bytearray(self.pending[:n])
        self.pending = self.pending[n:]
        try:
            while len(out) < n:
                d = self.sock.recv(min(65536, n - len(out)))
                if not d:
                    break
                out += d
        except OSError:
            pass
        return bytes(out)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# --------------------------------------------------------------------------
# MPEG-TS reading (ISO/IEC 13818-1)

def _crc32_table():
    table = []
    for i in range(256):
        c = i << 24
        for _ in range(8):
            c = ((c << 1) ^ 0x04C11DB7) if c & 0x80000000 else (c << 1)
        table.append(c & 0xFFFFFFFF)
    return table


_CRC_TABLE = _crc32_table()


def crc32_mpeg(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC_TABLE[((crc >> 24) ^ b) & 0xFF]
    return crc


class Packet:
    __slots__ = ("raw", "pid", "pusi", "tei", "afc", "cc", "af", "payload")

    def __init__(self, raw):
        self.raw = raw
        self.pid = ((raw[1] & 0x1F) << 8) | raw[2]
        self.pusi = bool(raw[1] & 0x40)
        self.tei = bool(raw[1] & 0x80)
        self.afc = (raw[3] >> 4) & 3
        self.cc = raw[3] & 0x0F
        off = 4
        self.af = b""
        if self.afc & 2:
            alen = raw[4]
            self.af = raw[5:5 + alen]
            off = 5 + alen
        self.payload = raw[off:] if (self.afc & 1) and off < TS_PACKET else b""

    @property
    def discontinuity(self):
        return bool(self.af) and bool(self.af[0] & 0x80)

    @property
    def random_access(self):
        return bool(self.af) and bool(self.af[0] & 0x40)

    @property
    def pcr(self):
        """PCR in 27 MHz units, or None."""
        if len(self.af) >= 7 and self.af[0] & 0x10:
            b = self.af
            base = (b[1] << 25) | (b[2] << 17) | (b[3] << 9) | (b[4] << 1) | (b[5] >> 7)
            ext = ((b[5] & 1) << 8) | b[6]
            return base * 300 + ext
        return None


def parse_section(payload):
    """First PSI section of a PUSI payload: (table_id, body_without_crc, crc_ok) or None."""
    if not payload:
        return None
    ptr = payload[0]
    sec = payload[1 + ptr:]
    if len(sec) < 3 or sec[0] == 0xFF:
        return None
    length = ((sec[1] & 0x0F) << 8) | sec[2]
    if len(sec) < 3 + length or length < 9:
        return None  # spans packets: not produced by the media these tests use
    full = sec[:3 + length]
    return sec[0], full[3:-4], crc32_mpeg(full) == 0


def parse_pat(body):
    """{program_number: pmt_pid} (program 0 / NIT excluded)."""
    progs = {}
    for i in range(5, len(body) - 3, 4):
        num = (body[i] << 8) | body[i + 1]
        pid = ((body[i + 2] & 0x1F) << 8) | body[i + 3]
        if num != 0:
            progs[num] = pid
    return progs


def parse_pmt(body):
    """(program_number, pcr_pid, [(stream_type, pid), ...])."""
    num = (body[0] << 8) | body[1]
    pcr_pid = ((body[5] & 0x1F) << 8) | body[6]
    pil = ((body[7] & 0x0F) << 8) | body[8]
    i = 9 + pil
    streams = []
    while i + 5 <= len(body):
        st = body[i]
        pid = ((body[i + 1] & 0x1F) << 8) | body[i + 2]
        eil = ((body[i + 3] & 0x0F) << 8) | body[i + 4]
        streams.append((st, pid))
        i += 5 + eil
    return num, pcr_pid, streams


class TsChecker:
    """Feed it a TS byte stream in any chunking; it checks sync and continuity.

    Continuity follows 13818-1 2.4.3.3: the counter increments per packet with
    payload, a single duplicate is allowed, packets without payload and packets
    with discontinuity_indicator set are not errors, null packets are ignored.
    """

    MAX_RECORDED = 50

    def __init__(self, keep_first=0):
        self._buf = bytearray()
        self.offset = 0            # stream offset of _buf[0]
        self.bytes = 0
        self.packets = 0
        self.sync_errors = []      # stream offsets where a packet did not start with 0x47
        self.cc_errors = []        # (pid, expected, got, offset)
        self.cc_error_count = 0
        self.discontinuities = 0
        self.psi_crc_errors = 0
        self._last_cc = {}
        self._dups = {}
        self.pids = set()          # every PID seen
        self.pat = None            # last PAT {program: pmt_pid}
        self.pat_versions = []     # distinct program sets seen, in order
        self.pmts = {}             # pmt_pid -> (program, pcr_pid, streams)
        self.pcr_pid = None
        self.pcrs = []             # (pcr 27 MHz, byte offset) on pcr_pid, capped
        self.pcr_time = 0.0        # seconds of stream time covered (sum of sane PCR deltas)
        self.pcr_jumps = []        # (delta seconds, offset, discontinuity flag)
        self._last_pcr = None
        self.keep_first = keep_first
        self.first_packets = []

    def feed(self, data):
        self._buf += data
        self.bytes += len(data)
        buf = self._buf
        pos = 0
        n = len(buf)
        while n - pos >= TS_PACKET:
            if buf[pos] != 0x47:
                if len(self.sync_errors) < self.MAX_RECORDED:
                    self.sync_errors.append(self.offset + pos)
                elif len(self.sync_errors) == self.MAX_RECORDED:
                    self.sync_errors.append(-1)  # "and more"
                # resync: next 0x47 followed by 0x47 one packet later
                nxt = pos + 1
                while nxt + TS_PACKET < n and not (buf[nxt] == 0x47 and buf[nxt + TS_PACKET] == 0x47):
                    nxt += 1
                if nxt + TS_PACKET >= n:
                    pos = max(pos + 1, n - TS_PACKET)
                    break
                pos = nxt
                self._last_cc.clear()
                continue
            self._packet(bytes(buf[pos:pos + TS_PACKET]), self.offset + pos)
            pos += TS_PACKET
        del buf[:pos]
        self.offset += pos

    def _packet(self, raw, offset):
        p = Packet(raw)
        self.packets += 1
        if len(self.first_packets) < self.keep_first:
            self.first_packets.append(p)
        pid = p.pid
        self.pids.add(pid)
        if pid == NULL_PID:
            return
        if p.discontinuity:
            self.discontinuities += 1
            self._last_cc.pop(pid, None)
        if p.afc & 1:
            last = self._last_cc.get(pid)
            if last is not None:
                if p.cc == (last + 1) & 0xF:
                    self._dups[pid] = 0
                elif p.cc == last and self._dups.get(pid, 0) == 0:
                    self._dups[pid] = 1
                else:
                    self.cc_error_count += 1
                    if len(self.cc_errors) < self.MAX_RECORDED:
                        self.cc_errors.append((pid, (last + 1) & 0xF, p.cc, offset))
                    self._dups[pid] = 0
            self._last_cc[pid] = p.cc
        if p.pusi and (pid == 0 or (self.pat and pid in self.pat.values())):
            sec = parse_section(p.payload)
            if sec:
                table_id, body, crc_ok = sec
                if not crc_ok:
                    self.psi_crc_errors += 1
                elif pid == 0 and table_id == 0x00:
                    self.pat = parse_pat(body)
                    progs = sorted(self.pat)
                    if not self.pat_versions or self.pat_versions[-1] != progs:
                        self.pat_versions.append(progs)
                elif table_id == 0x02:
                    pmt = parse_pmt(body)
                    self.pmts[pid] = pmt
                    if self.pcr_pid is None:
                        self.pcr_pid = pmt[1]
        if pid == self.pcr_pid:
            pcr = p.pcr
            if pcr is not None:
                if len(self.pcrs) < 100000:
                    self.pcrs.append((pcr, offset))
                if self._last_pcr is not None:
                    d = (pcr - self._last_pcr) % PCR_MODULO
                    if d > PCR_MODULO // 2:
                        d -= PCR_MODULO
                    delta = d / 27e6
                    if 0 < delta <= 1.0:
                        self.pcr_time += delta
                    elif len(self.pcr_jumps) < self.MAX_RECORDED:
                        self.pcr_jumps.append((round(delta, 3), offset, p.discontinuity))
                self._last_pcr = pcr

    def summary(self):
        return (f"{self.bytes} bytes, {self.packets} packets, sync errors at {self.sync_errors[:5]}"
                f"{'...' if len(self.sync_errors) > 5 else ''}, {self.cc_error_count} CC errors "
                f"(first: {self.cc_errors[:5]}), {self.discontinuities} discontinuity flags, "
                f"PSI CRC errors {self.psi_crc_errors}, PAT programs {self.pat_versions}, "
                f"PCR-covered stream time {self.pcr_time:.2f} s, PCR jumps {self.pcr_jumps[:5]}")


def split_packets(data):
    return [Packet(bytes(data[i:i + TS_PACKET])) for i in range(0, len(data) - TS_PACKET + 1, TS_PACKET)]


def _nal_types(es, codec):
    """NAL unit types in an Annex B elementary-stream chunk."""
    types = []
    i = 0
    n = len(es)
    while True:
        i = es.find(b"\x00\x00\x01", i)
        if i < 0 or i + 3 >= n:
            return types
        b = es[i + 3]
        types.append((b >> 1) & 0x3F if codec == "hevc" else b & 0x1F)
        i += 3


def _is_keyframe_nals(types, codec):
    if codec == "h264":
        slices = [t for t in types if t in (1, 5)]
        return bool(slices) and slices[0] == 5
    if codec == "hevc":
        slices = [t for t in types if t <= 31]
        return bool(slices) and 16 <= slices[0] <= 23
    return None  # MPEG-2: rely on random_access_indicator


def analyze_start(data):
    """What a new viewer got first. Returns a dict describing the first packets
    and the first video PES (is it a keyframe? how do we know?)."""
    pkts = split_packets(data)
    info = {"packets": len(pkts), "first_pids": [p.pid for p in pkts[:8]],
            "sync_ok": all(p.raw[0] == 0x47 for p in pkts)}
    if not pkts:
        return info
    pat = None
    if pkts[0].pid == 0 and pkts[0].pusi:
        sec = parse_section(pkts[0].payload)
        if sec and sec[0] == 0 and sec[2]:
            pat = parse_pat(sec[1])
    info["pat"] = pat
    pmt = None
    if pat and len(pkts) > 1 and pkts[1].pid in pat.values() and pkts[1].pusi:
        sec = parse_section(pkts[1].payload)
        if sec and sec[0] == 2 and sec[2]:
            pmt = parse_pmt(sec[1])
    info["pmt"] = pmt
    if not pmt:
        return info
    video = [(st, pid) for st, pid in pmt[2] if st in VIDEO_STREAM_TYPES]
    info["video"] = video
    if not video:
        return info
    vtype, vpid = video[0]
    codec = VIDEO_STREAM_TYPES[vtype]
    info["codec"] = codec
    vpkts = [(i, p) for i, p in enumerate(pkts) if p.pid == vpid]
    if not vpkts:
        return info
    first_i, first = vpkts[0]
    info["first_video_index"] = first_i
    info["first_video_pusi"] = first.pusi
    info["first_video_rai"] = first.random_access
    # the first PES: this packet's payload and the following ones until the next PUSI
    pes = bytearray(first.payload)
    for _, p in vpkts[1:]:
        if p.pusi or len(pes) > 200000:
            break
        pes += p.payload
    es = b""
    if len(pes) >= 9 and pes[:3] == b"\x00\x00\x01":
        es = bytes(pes[9 + pes[8]:])
    nals = _nal_types(es[:200000], codec)
    info["first_video_nals"] = nals[:16]
    idr = _is_keyframe_nals(nals, codec)
    info["first_video_idr"] = idr
    info["keyframe"] = bool(first.pusi and (first.random_access or idr))
    return info


# --------------------------------------------------------------------------
# viewers


class Viewer(threading.Thread):
    """One HTTP-TS viewer on its own thread: reads (optionally at a fixed rate)
    for `duration` s or until stop(), checking every byte with a TsChecker."""

    def __init__(self, url, ns=None, duration=30.0, rate=None, rcvbuf=None, keep_first=0, stall_timeout=10,
                 record=False):
        super().__init__(daemon=True, name=f"viewer {url}")
        self.recorded = bytearray() if record else None
        self.arrivals = []  # (monotonic time, total bytes) about every 0.1 s
        self.url = url
        self.ns = ns
        self.duration = min(float(duration), 300.0)
        self.rate = rate
        self.rcvbuf = rcvbuf
        self.stall_timeout = stall_timeout
        self.checker = TsChecker(keep_first=keep_first)
        self.status = None
        self.status_line = None
        self.error = None
        self.eof = False
        self.eof_at = None
        self.t_start = None
        self.t_end = None
        self.ttfb = None
        self.max_gap = 0.0
        self.connected = threading.Event()
        self._stop_ev = threading.Event()
        self.client = None

    def run(self):
        try:
            self.client = c = StreamClient(self.url, ns=self.ns, rcvbuf=self.rcvbuf, timeout=self.stall_timeout)
            self.status, self.status_line = c.status, c.status_line
            self.t_start = c.t_request
            self.connected.set()
            if c.status != 200:
                return
            deadline = self.t_start + self.duration
            last = time.monotonic()
            while not self._stop_ev.is_set():
                now = time.monotonic()
                if now >= deadline:
                    break
                want = 65536
                if self.rate:
                    allowed = int(self.rate * (now - self.t_start)) - self.checker.bytes
                    if allowed < 1316:
                        time.sleep(0.02)
                        continue
                    want = min(want, allowed)
                d = c.recv(want)
                now = time.monotonic()
                if not d:
                    if not self._stop_ev.is_set():   # not our own shutdown() in stop()
                        self.eof = True
                        self.eof_at = now
                    break
                if self.ttfb is None:
                    self.ttfb = (c.t_first_byte or now) - c.t_request
                self.max_gap = max(self.max_gap, now - last)
                last = now
                self.checker.feed(d)
                if self.recorded is not None and len(self.recorded) < (64 << 20):
                    self.recorded += d
                if not self.arrivals or now - self.arrivals[-1][0] >= 0.1:
                    self.arrivals.append((now, self.checker.bytes))
        except BaseException as e:  # noqa: BLE001 -- reported by the test
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.t_end = time.monotonic()
            self.connected.set()
            if self.client:
                self.client.close()

    def stop(self, join_timeout=10):
        self._stop_ev.set()
        self.join(1)
        if self.is_alive() and self.client:
            try:   # unblock a recv() that waits for data
                self.client.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.join(join_timeout)

    @property
    def elapsed(self):
        return (self.t_end or time.monotonic()) - (self.t_start or time.monotonic())

    def describe(self):
        return (f"viewer {self.url}: status {self.status_line!r}, error {self.error}, eof {self.eof}, "
                f"{self.elapsed:.1f} s, max gap {self.max_gap:.2f} s, {self.checker.summary()}")

    def assert_clean(self, min_seconds=None):
        """No error, no EOF, TS sync and continuity intact, data kept flowing."""
        assert self.status == 200, f"expected 200: {self.describe()}"
        assert self.error is None, f"viewer failed: {self.describe()}"
        assert not self.eof, f"the server closed the stream: {self.describe()}"
        assert not self.checker.sync_errors, f"TS sync lost: {self.describe()}"
        assert self.checker.cc_error_count == 0, f"continuity errors: {self.describe()}"
        assert self.max_gap < 2.0, f"the stream stalled for {self.max_gap:.2f} s: {self.describe()}"
        if min_seconds is not None:
            assert self.checker.pcr_time >= min_seconds, \
                f"received only {self.checker.pcr_time:.2f} s of stream, expected >= {min_seconds}: {self.describe()}"


# --------------------------------------------------------------------------
# real clients

def _run(argv, timeout, ns=None):
    argv = wrap_cmd(argv, ns)
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{' '.join(argv)} did not finish within {timeout} s; stderr: "
                             f"{(e.stderr or b'')[-2000:]!r}") from None


def _need(tool):
    assert shutil.which(tool), f"{tool} is not installed (run ./scripts/install-deps.sh)"


def ffprobe_json(url, ns=None, timeout=30):
    """ffprobe's view of a URL (streams and programs), as a dict."""
    _need("ffprobe")
    argv = ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_programs"]
    if url.startswith("http"):
        argv += ["-rw_timeout", "10000000"]
    r = _run(argv + [url], timeout, ns)
    assert r.returncode == 0, f"ffprobe {url} failed ({r.returncode}): {r.stderr[-3000:]}"
    try:
        return json.loads(r.stdout)
    except ValueError:
        raise AssertionError(f"ffprobe {url} printed no JSON: {r.stdout[:500]!r} {r.stderr[-1000:]}") from None


def codecs_of(probe):
    return sorted((s.get("codec_type"), s.get("codec_name")) for s in probe.get("streams", []))


def assert_h264_aac(probe, what):
    codecs = codecs_of(probe)
    assert ("video", "h264") in codecs and ("audio", "aac") in codecs, \
        f"{what}: ffprobe should see h264 video and aac audio, saw {codecs}"


def ffmpeg_decode(url, seconds=10, ns=None):
    """Decode `seconds` of the URL; returns the CompletedProcess (stderr is what matters)."""
    _need("ffmpeg")
    argv = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error"]
    if url.startswith("http"):
        argv += ["-rw_timeout", "10000000"]
    argv += ["-i", url, "-t", str(seconds), "-f", "null", "-"]
    return _run(argv, seconds + 40, ns)


def assert_ffmpeg_clean(r, url):
    assert r.returncode == 0 and r.stderr.strip() == "", \
        f"ffmpeg decoding {url}: exit {r.returncode}, error output:\n{r.stderr[-4000:]}"


def vlc_play(url, seconds=10, ns=None, min_bytes=1_000_000):
    """Play the URL in VLC (as `nobody`, dummy outputs) while VLC also records
    what it demuxed to a TS file. Asserts VLC decoded video (its dummy video
    output was opened with a picture size) and recorded >= min_bytes of TS with
    h264 and aac in it. Returns a dict with what VLC did."""
    _need("cvlc")
    _need("runuser")
    tmp = tempfile.mkdtemp(prefix="antenne-vlc-")
    try:
        os.chmod(tmp, 0o777)
        out = os.path.join(tmp, "recorded.ts")
        sout = f"#duplicate{{dst=display,dst=std{{access=file,mux=ts,dst={out}}}}}"
        argv = ["runuser", "-u", "nobody", "--", "env", f"HOME={tmp}", "cvlc", "-vv", "--intf", "dummy",
                "--vout", "dummy", "--aout", "dummy", "--no-video-title-show", "--play-and-exit",
                "--run-time", str(seconds), "--sout", sout, url]
        r = _run(argv, seconds + 40, ns)
        log = r.stdout + r.stderr
        size = os.path.getsize(out) if os.path.exists(out) else 0
        sizes = re.findall(r"VoutDisplayEvent 'resize' (\d+)x(\d+)", log)
        interesting = "\n".join(l for l in log.splitlines()
                                if re.search(r"error|http stream|ts demux debug: new P|resize", l))[-3000:]
        assert sizes, f"VLC did not output any decoded picture from {url} (exit {r.returncode}); log:\n{interesting}"
        assert size >= min_bytes, \
            f"VLC recorded only {size} bytes from {url} in {seconds} s (expected >= {min_bytes}); log:\n{interesting}"
        with open(out, "rb") as f:
            head = f.read(TS_PACKET * 4)
        assert all(head[i] == 0x47 for i in range(0, len(head), TS_PACKET)), "VLC's recording is not TS"
        probe = ffprobe_json(out)
        assert_h264_aac(probe, f"VLC's recording of {url}")
        return {"bytes": size, "picture_sizes": sorted(set(sizes)), "exit": r.returncode}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_real_clients(url, ns=None, seconds=10, vlc_min_bytes=1_000_000):
    """The 'real clients play it' check: ffprobe, ffmpeg decode and VLC, in parallel."""

    def probe():
        p = ffprobe_json(url, ns=ns)
        assert_h264_aac(p, url)
        return p

    def decode():
        r = ffmpeg_decode(url, seconds, ns=ns)
        assert_ffmpeg_clean(r, url)
        return r

    return run_parallel(
        ffprobe=probe,
        ffmpeg=decode,
        vlc=lambda: vlc_play(url, seconds, ns=ns, min_bytes=vlc_min_bytes),
    )


# --------------------------------------------------------------------------
# processes


class Procs:
    """Background processes of one test (feeders, clients); all stopped at teardown."""

    def __init__(self, logdir):
        self.logdir = Path(logdir)
        self.items = []

    def start(self, argv, name, ns=None):
        argv = wrap_cmd(argv, ns)
        log = self.logdir / f"{name}-{len(self.items)}.log"
        f = open(log, "wb")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                             start_new_session=True)
        f.close()
        self.items.append((p, name, log))
        return p

    def stop(self, p, timeout=5):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout)

    def stop_all(self):
        for p, _, _ in self.items:
            self.stop(p)

    def log_of(self, p):
        for q, _, log in self.items:
            if q is p:
                return log.read_text(errors="replace")
        return ""


def ffmpeg_feeder(procs, media, host, port, proto="udp", ns=None, loop=True, extra_url=""):
    """ffmpeg sending a TS file in real time to udp:// (raw TS) or rtp:// (RTP/MP2T)."""
    _need("ffmpeg")
    argv = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-re"]
    if loop:
        argv += ["-stream_loop", "-1"]
    argv += ["-i", str(media), "-map", "0", "-c", "copy"]
    if proto == "udp":
        argv += ["-f", "mpegts", f"udp://{host}:{port}?pkt_size=1316{extra_url}"]
    elif proto == "rtp":
        sep = "?" if extra_url else ""
        argv += ["-f", "rtp_mpegts", f"rtp://{host}:{port}{sep}{extra_url.lstrip('&')}"]
    else:
        raise ValueError(proto)
    return procs.start(argv, f"ffmpeg-{proto}-{port}", ns=ns)


def ts_pid(pkt):
    return ((pkt[1] & 0x1F) << 8) | pkt[2]


def strip_pcr(pkt):
    """The packet without its PCR (the adaptation field keeps its length: the
    six bytes become stuffing)."""
    if not (pkt[3] & 0x20) or pkt[4] < 7 or not (pkt[5] & 0x10):
        return pkt
    end = 5 + pkt[4]
    out = bytearray(pkt)
    out[5] &= ~0x10 & 0xFF
    out[6:end] = pkt[12:end] + b"\xff" * 6
    return bytes(out)


class UdpFeeder:
    """A TS file sent over UDP at its own rate (7 packets a datagram), looped
    with continuity counters running on, from a thread; its `mode` can turn it
    bad while it runs:

    "good"       the file as it is;
    "silent"     nothing;
    "garbage"    random bytes at the same rate;
    "scrambled"  transport_scrambling_control 10 on the elementary streams;
    "cc"         every 10th packet dropped (continuity errors);
    "nopcr"      every PCR removed.
    `extra` (bytes/s, with mode "good") adds datagrams of random bytes on top
    (a flood). Stops after max_seconds whatever happens.
    Only packets with payload get the running counter: a packet without keeps
    the file's, which after the first loop is no longer its PID's last one
    (as in some real sources; continuity is judged on packets with payload)."""

    def __init__(self, path, port, host="127.0.0.1", max_seconds=120, es_pids=None):
        data = Path(path).read_bytes()
        self.packets = [data[i:i + TS_PACKET] for i in range(0, len(data) - TS_PACKET + 1, TS_PACKET)]
        self.rate = media_bitrate(path) / 8 / TS_PACKET      # packets per second
        self.es_pids = es_pids or {0x100, 0x101}
        self.port, self.host = port, host
        self.mode = "good"
        self.extra = 0
        self.datagrams = 0
        self.max_seconds = max_seconds
        self._stop = threading.Event()
        self._cc = {}
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"udpfeeder-{port}")
        self._thread.start()

    def _next(self, i):
        pkt = self.packets[i % len(self.packets)]
        pid = ts_pid(pkt)
        if pid != NULL_PID and pkt[3] & 0x10:        # continuity on across the loop
            cc = (self._cc.get(pid, (pkt[3] & 0x0F) - 1) + 1) & 0x0F
            self._cc[pid] = cc
            pkt = pkt[:3] + bytes([(pkt[3] & 0xF0) | cc]) + pkt[4:]
        mode = self.mode
        if mode == "scrambled" and pid in self.es_pids:
            pkt = pkt[:3] + bytes([pkt[3] | 0x80]) + pkt[4:]
        elif mode == "nopcr":
            pkt = strip_pcr(pkt)
        elif mode == "cc" and i % 10 == 9:
            return b""
        return pkt

    def _run(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        junk = [os.urandom(1316) for _ in range(64)]
        t0 = time.monotonic()
        i = 0
        junk_t0, junk_sent = None, 0
        while not self._stop.is_set() and time.monotonic() - t0 < self.max_seconds:
            batch = b"".join(self._next(i + k) for k in range(7))
            i += 7
            if self.mode == "garbage":
                batch = self._garbage(7 * TS_PACKET)
            if self.mode != "silent" and batch:
                s.sendto(batch, (self.host, self.port))
                self.datagrams += 1
            if self.extra and junk_t0 is None:
                junk_t0 = time.monotonic()
            while self.extra and junk_sent < self.extra * (time.monotonic() - junk_t0):
                s.sendto(junk[junk_sent // 1316 % len(junk)], (self.host, self.port))
                junk_sent += 1316
            delay = t0 + i / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        s.close()

    def _garbage(self, size):
        """The bytes of a datagram in mode "garbage"."""
        return os.urandom(size)

    def stop(self):
        self._stop.set()
        self._thread.join(5)


def media_bitrate(path):
    """Bits per second of a TS file, from its size and its duration."""
    r = _run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)], 30)
    return os.path.getsize(path) * 8 / float(r.stdout.strip())


class HttpSource:
    """A scripted HTTP origin on loopback for antenne's http:// source.

    mode "ts":   200 video/mp2t, the file in real time (byte pacing at the file's
                 bitrate), closing after `close_after` s if given, or at EOF.
    mode "404":  404 Not Found.
    mode "500":  500 Internal Server Error.
    mode "hang": accepts, reads the request, never answers.
    mode "html": 200 text/html with a web page.
    Every request is recorded in `requests` (monotonic time, request line).
    """

    def __init__(self, mode="ts", media=None, close_after=None, ns=None, max_seconds=120):
        self.mode = mode
        self.media = media
        self.close_after = close_after
        self.max_seconds = max_seconds
        self.requests = []
        self.bytes_sent = 0
        self._stop = threading.Event()
        self._conns = []
        self._lock = threading.Lock()
        self.bitrate = media_bitrate(media) if media else None
        self.data = Path(media).read_bytes() if media else b""
        self.sock = make_socket(ns)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept_loop, daemon=True, name="httpsource")]
        self._threads[0].start()

    def url(self, path="/stream.ts"):
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept_loop(self):
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return
            with self._lock:
                self._conns.append(c)
            t = threading.Thread(target=self._serve, args=(c,), daemon=True, name="httpsource-conn")
            self._threads.append(t)
            t.start()

    def _serve(self, c):
        try:
            c.settimeout(5)
            req = b""
            while b"\r\n\r\n" not in req and len(req) < 65536:
                d = c.recv(4096)
                if not d:
                    return
                req += d
            self.requests.append((time.monotonic(), req.split(b"\r\n", 1)[0].decode("latin-1")))
            if self.mode in ("404", "500"):
                status, body = ((b"404 Not Found", b"no such stream\n") if self.mode == "404"
                                else (b"500 Internal Server Error", b"encoder crashed\n"))
                c.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain\r\nContent-Length: "
                          + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            elif self.mode == "hang":
                self._stop.wait(self.max_seconds)
            elif self.mode == "html":
                body = (b"<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body>"
                        + b"<p>This is a web page, not a video stream.</p>" * 60 + b"</body></html>\n")
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
                          + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
                self._stop.wait(2)
            elif self.mode == "ts":
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: video/mp2t\r\nConnection: close\r\n\r\n")
                self._stream(c)
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def _stream(self, c):
        chunk = TS_PACKET * 70
        rate = self.bitrate / 8.0
        t0 = time.monotonic()
        limit = t0 + (self.close_after if self.close_after else self.max_seconds)
        sent = 0
        while not self._stop.is_set() and sent < len(self.data):
            now = time.monotonic()
            if now >= limit:
                return
            due = t0 + sent / rate
            if due > now:
                time.sleep(min(due - now, 0.05))
                continue
            piece = self.data[sent:sent + chunk]
            c.sendall(piece)
            sent += len(piece)
            self.bytes_sent += len(piece)

    def drop_connections(self):
        """Cuts every connection open now (the origin keeps accepting)."""
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self._stop.set()
        try:
            self.sock.close()
        except OSError:
            pass
        self.drop_connections()
        for t in self._threads:
            t.join(5)


def udp_send(host, port, datagrams, rate_pps=500, seconds=3.0, ns=None):
    """Send the given datagrams round-robin at rate_pps for `seconds` (bounded)."""
    s = make_socket(ns, socket.SOCK_DGRAM)
    try:
        t0 = time.monotonic()
        n = 0
        limit = int(rate_pps * seconds)
        while n < limit and time.monotonic() - t0 < seconds + 5:
            due = t0 + n / rate_pps
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            s.sendto(datagrams[n % len(datagrams)], (host, port))
            n += 1
        return n
    finally:
        s.close()


# --------------------------------------------------------------------------
# the antenne server


class Server:
    """One `antenne serve` process on a data folder, listening on loopback
    (inside `ns` if given). Its stderr goes to a file the test report shows."""

    def __init__(self, data_dir, logdir, ns=None, port=None, label="antenne", env=None, db=None):
        self.env = env
        self.db = db              # database URL (--db), None for SQLite in data_dir
        self._admin_token = None
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.ns = ns
        self.port = port or (free_port() if ns is None else 8080)
        self.host = "127.0.0.1"
        self.stderr_path = Path(logdir) / f"{label}-{self.port}.stderr"
        self.stdout_path = Path(logdir) / f"{label}-{self.port}.stdout"
        self.label = label
        self.proc = None
        self.expected_exit = True
        self.starts = 0
        self.problems = []
        self.cli_log = []  # (argv, rc, stderr) of every CLI call, for the report
        self.serve_args = []  # extra `serve` options

    def db_args(self):
        return ["--db", self.db] if self.db else []

    @property
    def admin_token(self):
        """The admin API token: the one the first start printed, else a new one
        made with the CLI (a second server on a shared database prints none)."""
        if self._admin_token is None:
            m = re.search(r"admin API token \(shown once, keep it\): (\S+)", self.log())
            if m:
                self._admin_token = m.group(1)
            else:
                r = self.cli_ok("admin-token", "create", f"tests-{self.label}-{self.port}")
                self._admin_token = r.stdout.strip().splitlines()[-1]
                if self.alive():  # a running server learns of it at its next poll
                    wait_until(lambda: self.api("GET", "/api/v1/packages").status == 200, 5,
                               what="the new admin token accepted")
        return self._admin_token

    def api(self, method, path, body=None, token=True, **kw):
        """An admin API call; body (dict/list) is sent as JSON, str/bytes as is."""
        headers = dict(kw.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {self.admin_token if token is True else token}"
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
        return http_get(self.url(path), method=method, headers=headers, body=body, ns=self.ns, **kw)

    # -- process
    def start(self, timeout=10):
        assert ANTENNE_BIN.exists(), f"antenne binary not found at {ANTENNE_BIN} (build it: ninja -C build)"
        assert self.proc is None or self.proc.poll() is not None, "server already running"
        self.starts += 1
        if VALGRIND_LOGDIR:  # memcheck: start-up and exit are 10-50x slower
            timeout = max(timeout, 60)
        with open(self.stderr_path, "ab") as err, open(self.stdout_path, "ab") as out:
            marker = f"---- [tests] antenne serve start #{self.starts} ----\n".encode()
            err.write(marker)
            err.flush()
            argv = wrap_cmd([str(ANTENNE_BIN), *self.db_args(), "serve", "--data", str(self.data_dir),
                             "--listen", f"{self.host}:{self.port}", *self.serve_args], self.ns)
            env = dict(os.environ, **self.env) if self.env else None
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        self.expected_exit = False
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.expected_exit = True
                raise AssertionError(f"antenne serve exited with code {self.proc.returncode} during start-up;"
                                     f" stderr:\n{tail(self.log(), 5000)}")
            try:
                r = http_get(self.url("/healthz"), ns=self.ns, timeout=1)
                if r.status == 200 and r.body == b"ok\n":
                    return self
                last = r
            except OSError as e:
                last = e
            time.sleep(0.05)
        raise AssertionError(f"antenne serve did not answer /healthz with 200 'ok\\n' within {timeout} s "
                             f"(last: {last!r}); stderr:\n{tail(self.log(), 5000)}")

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def assert_alive(self):
        if not self.alive():
            raise AssertionError(f"antenne serve died (exit {self.proc.returncode}); stderr:\n{tail(self.log(), 8000)}")

    def stop(self, timeout=5):
        """SIGTERM; SIGKILL after `timeout` s (recorded as a problem). Returns the exit code."""
        if self.proc is None:
            return None
        self.expected_exit = True
        if VALGRIND_LOGDIR:  # memcheck: start-up and exit are 10-50x slower
            timeout = max(timeout, 30)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.problems.append(f"{self.label}: did not exit within {timeout} s of SIGTERM; killed")
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def kill9(self):
        self.expected_exit = True
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self, timeout=10):
        rc = self.stop()
        assert rc == 0, f"antenne serve exited with {rc} on SIGTERM (expected 0); stderr:\n{tail(self.log(), 4000)}"
        return self.start(timeout)

    def shutdown_and_check(self):
        """Teardown: stop, and report unexpected death or sanitizer output."""
        problems = list(self.problems)
        if self.proc is not None:
            if self.proc.poll() is not None and not self.expected_exit:
                problems.append(f"{self.label}: antenne serve died unexpectedly (exit {self.proc.returncode})")
            found = check_valgrind(self.stop(), self.proc.pid, f"{self.label}")
            if found:
                problems.append(found)
        found = check_sanitizer(self.log(), f"{self.label} stderr")
        if found:
            problems.append(found)
        return problems

    def log(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_lines(self, pattern, where=(), levels=None):
        """Log lines matching `pattern` (case-insensitive) that contain at least
        one of the strings in `where` (e.g. the channel name or the source URL),
        and, if `levels` is given, are logged at one of those levels."""
        rx = re.compile(pattern, re.I)
        lv = re.compile(r"^\S+\s+(%s)\s" % "|".join(levels)) if levels else None
        return [l for l in self.log().splitlines()
                if rx.search(l) and (not where or any(w.lower() in l.lower() for w in where))
                and (lv is None or lv.search(l)) and not l.startswith("---- [tests]")]

    def wait_log(self, pattern, where=(), timeout=10, levels=("warn", "error")):
        """Wait for a warn/error log line matching `pattern` that names one of `where`."""
        try:
            return wait_until(lambda: self.log_lines(pattern, where, levels), timeout, interval=0.2,
                              what=f"a {'/'.join(levels or ('any',))} log line matching /{pattern}/ "
                                   f"naming one of {list(where)}")
        except AssertionError as e:
            raise AssertionError(f"{e}\nlog:\n{tail(self.log(), 6000)}") from None

    def rss_kib(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("VmRSS missing")

    # -- CLI
    def cli(self, *args, timeout=30):
        """Run `antenne --data DIR ARGS...`; returns CompletedProcess (text)."""
        assert ANTENNE_BIN.exists(), f"antenne binary not found at {ANTENNE_BIN}"
        argv = [str(ANTENNE_BIN), "--data", str(self.data_dir), *self.db_args(), *map(str, args)]
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"`antenne {' '.join(map(str, args))}` did not finish in {timeout} s") from None
        self.cli_log.append((list(map(str, args)), r.returncode, r.stderr))
        found = check_sanitizer(r.stderr, f"CLI antenne {' '.join(map(str, args))}")
        assert not found, found
        return r

    def cli_ok(self, *args, timeout=30):
        r = self.cli(*args, timeout=timeout)
        assert r.returncode == 0, \
            f"`antenne {' '.join(map(str, args))}` exited {r.returncode}; stderr: {r.stderr.strip()!r}"
        return r

    def add_channel(self, name, *sources, extra=()):
        args = ["channel", "add", name]
        for s in sources:
            args += ["--source", s]
        return self.cli_ok(*args, *extra)

    # -- HTTP
    def url(self, path):
        return f"http://{self.host}:{self.port}{path}"

    def live_url(self, name):
        return self.url(f"/live/{name}.ts")

    def get(self, path, **kw):
        if path.startswith("/api/v1/") and "headers" not in kw:
            kw["headers"] = {"Authorization": f"Bearer {self.admin_token}"}
        try:
            return http_get(self.url(path), ns=self.ns, **kw)
        except OSError:
            if self.proc is not None and self.proc.poll() is not None and not self.expected_exit:
                self.assert_alive()   # say that the server died, not "connection refused"
            raise

    def raw(self, payload, **kw):
        return raw_request(self.host, self.port, payload, ns=self.ns, **kw)

    def channel(self, name):
        """The API's channel object, or None for 404."""
        r = self.get(f"/api/v1/channels/{name}")
        if r.status == 404:
            return None
        assert r.status == 200, f"GET /api/v1/channels/{name}: {r.status} {r.body[:300]!r}"
        return r.json()

    def wait_state(self, name, states, timeout=10):
        if isinstance(states, str):
            states = (states,)
        last = {}

        def check():
            ch = self.channel(name)
            last["ch"] = ch
            return ch if ch and ch.get("state") in states else None

        try:
            return wait_until(check, timeout, interval=0.1, what=f"channel {name!r} state in {states}")
        except AssertionError as e:
            raise AssertionError(f"{e}\nchannel: {json.dumps(last.get('ch'))}\nlog:\n{tail(self.log(), 4000)}") \
                from None

    def viewer(self, name, **kw):
        v = Viewer(self.live_url(name), ns=self.ns, **kw)
        v.start()
        return v


class SharedServer:
    """One `antenne serve` for several tests of a module, for tests that only
    watch it (each on its own channels, or only reading): a module-scoped
    fixture makes it, a function-scoped one calls begin()/end() around each
    test. It is checked like the `server` fixture's servers, but after every
    test (still running; no sanitizer report in what it logged during that
    test) and once more at the end of the module by close() (exit code, and
    what the sanitizers report at exit, e.g. leaks)."""

    def __init__(self, tmp_path_factory, label, env=None, serve_args=()):
        d = tmp_path_factory.mktemp(label)
        self.srv = Server(d / "data", d, label=label, env=env)
        self.srv.serve_args = list(serve_args)
        self._mark = 0

    def begin(self, node):
        """Before a test: the server must be up; its stderr goes into the
        report of this test if it fails (conftest attaches it)."""
        node._antenne_servers = [self.srv]
        self.srv.assert_alive()
        self._mark = len(self.srv.log())
        return self.srv

    def end(self):
        """After a test: problems the server had during it."""
        srv = self.srv
        problems = list(srv.problems)
        srv.problems.clear()
        if srv.proc is not None and srv.proc.poll() is not None and not srv.expected_exit:
            problems.append(f"{srv.label}: antenne serve died unexpectedly (exit {srv.proc.returncode})")
            srv.expected_exit = True   # reported once
        found = check_sanitizer(srv.log()[self._mark:], f"{srv.label} stderr")
        if found:
            problems.append(found)
        self._mark = len(srv.log())
        return problems

    def close(self):
        """At the end of the module: stop it and report what the tests did not
        see (its exit, sanitizer output since the last test)."""
        srv = self.srv
        problems = list(srv.problems)
        if srv.proc is not None:
            if srv.proc.poll() is not None and not srv.expected_exit:
                problems.append(f"{srv.label}: antenne serve died unexpectedly (exit {srv.proc.returncode})")
            found = check_valgrind(srv.stop(), srv.proc.pid, srv.label)
            if found:
                problems.append(found)
        found = check_sanitizer(srv.log()[self._mark:], f"{srv.label} stderr (at exit)")
        if found:
            problems.append(found)
        return problems


def shared_good_channel_fixtures(label):
    """conftest.py's `good_channel` fixture, but on one server for all the
    tests of a module (a server and its channel `good` start once, not once a
    test). Returns two fixtures, which the module binds to the names
    `_good_server` (module scope) and `good_channel`:

        _good_server, good_channel = shared_good_channel_fixtures("label")

    Each test gets (server, viewer): a new viewer of `good` that must see a
    clean, uninterrupted stream for the whole test, as with conftest's. After
    each test the server must be alive with no sanitizer report in its log
    (SharedServer), and the channels the test added are removed, so that the
    next test finds the server as this one did."""
    import pytest

    @pytest.fixture(scope="module", name="_good_server")
    def good_server(tmp_path_factory, media):
        shared = SharedServer(tmp_path_factory, label)
        try:
            shared.srv.start()
            shared.srv.add_channel("good", f"file://{media['demo']}")
            shared.srv.wait_state("good", "up", timeout=10)
            yield shared
        finally:
            problems = shared.close()
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)

    @pytest.fixture(name="good_channel")
    def good_channel(request, _good_server):
        srv = _good_server.begin(request.node)
        problems = []
        try:
            watch = watch_good_channel(srv)
            v = next(watch)
            yield srv, v
            next(watch, None)   # the checks after the test
            added = [c["name"] for c in srv.get("/api/v1/channels").json()["channels"] if c["name"] != "good"]
            for name in added:
                srv.cli_ok("channel", "rm", name)
            if added:
                wait_until(lambda: [c["name"] for c in srv.get("/api/v1/channels").json()["channels"]] == ["good"],
                           10, what=f"the server to drop the channels the test added: {added}")
        except AssertionError as e:
            problems.append(str(e))
        finally:
            problems += _good_server.end()
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)

    return good_server, good_channel


def watch_good_channel(srv, name="good"):
    """What the `good_channel` fixture (conftest.py) does around a test, on a
    server that is already up with channel `name`: one viewer watches it for
    the whole test (a generator: run it to its yield before the test, to its
    end after); at the end the viewer must have seen a clean, uninterrupted
    stream, the server must be alive and answer /healthz."""
    v = srv.viewer(name, duration=110)
    assert v.connected.wait(5) and v.status == 200, f"viewer of {name!r} did not start: {v.describe()}"
    t0 = time.monotonic()
    yield v
    v.stop()
    srv.assert_alive()
    v.assert_clean(min_seconds=0.9 * (time.monotonic() - t0) - 1)
    r = srv.get("/healthz")
    assert r.status == 200, f"/healthz answered {r.status} after the bad input"


def random_bytes(n, seed=None):
    rnd = random.Random(seed)
    return bytes(rnd.getrandbits(8) for _ in range(n))
