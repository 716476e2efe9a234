# SPDX-License-Identifier: MIT
"""test_10_ingest_mpts.py -- one program out of a multi-program TS (?program=N):
the channel's PAT lists only that program, only its PIDs are sent, and ffprobe
sees one program with h264 + aac."""

import pytest

from harness import StreamClient, TsChecker, assert_h264_aac, ffprobe_json, run_parallel


def programs_of(path):
    """{program_number: {pmt_pid, es pids}} of a TS file."""
    c = TsChecker()
    c.feed(path.read_bytes()[:188 * 20000])
    progs = {}
    for num, pmt_pid in (c.pat or {}).items():
        pmt = c.pmts.get(pmt_pid)
        assert pmt, f"{path}: no PMT for program {num}"
        progs[num] = {pmt_pid, pmt[1]} | {pid for _, pid in pmt[2]}
    assert sorted(progs) == [1, 2], f"{path} should carry programs 1 and 2: {progs}"
    return progs


@pytest.mark.parametrize("program", [2, 1])
@pytest.mark.time_limit(60)
def test_program_selection(server, media, program):
    progs = programs_of(media["mpts"])
    other = (progs[3 - program] - progs[program])
    srv = server()
    name = f"prog{program}"
    srv.add_channel(name, f"file://{media['mpts']}?program={program}")
    srv.wait_state(name, "up", timeout=10)

    def read():
        c = StreamClient(srv.live_url(name))
        try:
            assert c.status == 200, f"GET /live/{name}.ts: {c.status_line}"
            checker = TsChecker()
            checker.feed(c.read_exact(188 * 4000, timeout=15))   # ~2 s at 3 Mbit/s
        finally:
            c.close()
        return checker

    # a viewer reads the stream while ffprobe looks at it
    res = run_parallel(read=read, probe=lambda: ffprobe_json(srv.live_url(name)))
    checker, probe = res["read"], res["probe"]
    assert checker.pat_versions == [[program]], \
        f"every PAT should list only program {program}; saw program lists {checker.pat_versions}"
    assert checker.psi_crc_errors == 0, f"rewritten PAT/PMT with a bad CRC: {checker.summary()}"
    seen = checker.pids - {0x1FFF}
    leaked = seen & other
    assert not leaked, f"PIDs {sorted(leaked)} of the other program leaked into program {program}'s stream"
    assert seen & progs[program], f"none of program {program}'s PIDs {sorted(progs[program])} arrived: {sorted(seen)}"
    nums = [p.get("program_num") for p in probe.get("programs", [])]
    assert nums == [program], f"ffprobe should see exactly program {program}, saw programs {nums}"
    assert_h264_aac(probe, srv.live_url(name))
