#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# make-analyze-seeds.py -- writes corpus/analyze/evict-pid-slots and pmt-lists-70-pids:
# TS with more PIDs than the analyzer tracks (64), so that fuzz_analyze reaches
# the eviction of PID slots. Usage: tests/fuzz/make-analyze-seeds.py tests/fuzz/corpus/analyze
"""Seeds for fuzz_analyze with more PIDs than TS_ANALYZE_MAX_PIDS (64), so
that PAT/PMT references make the analyzer give up a PID's entry."""
import sys

def crc32(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc

def section(table_id, ext, body):
    length = 5 + len(body) + 4
    head = bytes([table_id, 0xB0 | (length >> 8), length & 0xFF, ext >> 8, ext & 0xFF, 0xC1, 0, 0])
    s = head + body
    return s + crc32(s).to_bytes(4, "big")

def pat(programs):
    return section(0x00, 1, b"".join(n.to_bytes(2, "big") + (0xE000 | pid).to_bytes(2, "big") for n, pid in programs))

def pmt(number, pcr_pid, streams):
    body = (0xE000 | pcr_pid).to_bytes(2, "big") + b"\xf0\x00"
    body += b"".join(bytes([t]) + (0xE000 | pid).to_bytes(2, "big") + b"\xf0\x00" for t, pid in streams)
    return section(0x02, number, body)

cc = {}
def packet(pid, payload, pusi=False, af=b"", step=1):
    """One packet; its last byte is fuzz_analyze's time step (ms)."""
    c = cc.get(pid, 0)
    cc[pid] = (c + 1) & 15
    afc = 0x30 if af else 0x10
    head = bytes([0x47, (0x40 if pusi else 0) | pid >> 8, pid & 0xFF, afc | c])
    if af:
        head += bytes([len(af)]) + af
    room = 188 - len(head)
    body = payload[:room]
    pkt = head + body + b"\xff" * (room - len(body))
    if len(body) < room:  # (else the last byte is data, and the step what it is)
        pkt = pkt[:-1] + bytes([step])
    return pkt, payload[room:]

def section_packets(pid, sec, step):
    out, data, first = [], b"\x00" + sec, True
    while data:
        pkt, data = packet(pid, data, pusi=first, step=step)
        out.append(pkt)
        first = False
    return out

def pes_start(pid, stream_id, pcr=None):
    af = b""
    if pcr is not None:
        af = bytes([0x50]) + (pcr << 15 | 0x7E00).to_bytes(6, "big")
    pes = bytes([0, 0, 1, stream_id, 0, 0, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1])
    return packet(pid, pes, pusi=True, af=af, step=20)[0]

def evict():
    """63 PIDs fill the table (the PAT has the 64th entry), one more goes to
    "others"; then the PAT lists that one as a PMT PID and the PMT lists new
    streams: each takes the entry of the least used unlisted PID."""
    out = []
    for i in range(63):
        for _ in range(2 if i < 60 else 1):  # the least used come last
            out.append(packet(0x20 + i, bytes([i]) * 8)[0])
    out.append(packet(0x70, b"\x00" * 8)[0])  # beyond the table: "others"
    out += section_packets(0, pat([(1, 0x70), (2, 0x71)]), 1)
    out += section_packets(0x70, pmt(1, 0x200, [(0x1B, 0x200), (0x0F, 0x201), (0x06, 0x20)]), 1)
    for k in range(6):
        out.append(pes_start(0x200, 0xE0, pcr=k * 3600))
        out.append(pes_start(0x201, 0xC0))
        out.append(packet(0x200, b"\x00" * 180)[0])
    out += section_packets(0, pat([(1, 0x70)]), 1)   # program 2 gone
    out += section_packets(0x70, pmt(1, 0x201, [(0x0F, 0x201), (0x1B, 0x202)]), 1)
    return b"".join(out)

def full():
    """A PMT listing 70 streams: once every entry is listed, the rest get
    none (slot_for_reference() returns NULL)."""
    out = section_packets(0, pat([(1, 0x100)]), 1)
    out += section_packets(0x100, pmt(1, 0x300, [(0x06, 0x300 + i) for i in range(70)]), 1)
    for i in range(70):
        out.append(packet(0x300 + i, b"\x00" * 8)[0])
    out += section_packets(0, pat([(1, 0x100)]), 1)
    return b"".join(out)

for name, data in (("evict-pid-slots", evict()), ("pmt-lists-70-pids", full())):
    assert len(data) % 188 == 0 and len(data) <= 32768, (name, len(data))
    open(f"{sys.argv[1]}/{name}", "wb").write(data)
    print(name, len(data), len(data) // 188)
