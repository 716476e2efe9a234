# SPDX-License-Identifier: MIT
"""test_30_hls_identical.py -- sequence numbers derived from time (issue 3,
Build 3, "Identical output"): two antenne instances fed the same UDP source by
ONE sender (every datagram goes to both) publish the same media sequence
numbers for the same segments -- same first video PTS, same EXTINF, same bytes
after the PAT/PMT -- and so does one of them after a restart."""

import socket
import time

import pytest

from harness import free_port, http_get, run_parallel
from hls_harness import FIXTURE_RATES, PacedUdpSender, get_playlist, make_fixture, segment_info, wait_playlist


def snapshot(srv, name):
    """The playlist and, for each listed segment, its info and bytes after the PSI."""
    pl = get_playlist(srv.url(f"/live/{name}/index.m3u8"))
    segs = {}
    for s in pl.segments:
        r = http_get(srv.url(f"/live/{name}/{s['uri']}"), max_body=64 << 20)
        if r.status != 200:
            continue
        info = segment_info(r.body)
        segs[s["msn"]] = {"duration": s["duration_text"], "pts": info["first_video_pts"],
                          "bytes": info["after_psi"], "keyframe": info["keyframe_first"], "size": len(r.body)}
    return pl, segs


def compare(a, b, what, exclude=()):
    """Segments with the same number on both servers hold the same content."""
    pa, sa = a
    pb, sb = b
    common = sorted(set(sa) & set(sb) - set(exclude))
    problems = []
    for msn in common:
        x, y = sa[msn], sb[msn]
        if x["pts"] != y["pts"]:
            problems.append(f"segment {msn}: first video PTS {x['pts']} vs {y['pts']} "
                            f"({(y['pts'] - x['pts']) / 90000:+.3f} s)")
        elif x["duration"] != y["duration"]:
            problems.append(f"segment {msn}: EXTINF {x['duration']} vs {y['duration']}")
        elif x["bytes"] != y["bytes"]:
            problems.append(f"segment {msn}: same start, different bytes after PAT/PMT "
                            f"({len(x['bytes'])} vs {len(y['bytes'])} bytes)")
    # the same content under other numbers?
    pts_a = {v["pts"]: k for k, v in sa.items()}
    shifted = [(pts_a[v["pts"]], k) for k, v in sb.items() if v["pts"] in pts_a and pts_a[v["pts"]] != k]
    if shifted:
        problems.append(f"the same segment content has different numbers (A, B): {shifted}")
    assert not problems, f"{what}: A and B differ:\n" + "\n".join(problems) + \
        f"\n--- A:\n{pa.text}\n--- B:\n{pb.text}"
    return common


@pytest.mark.time_limit(120)
def test_two_servers_one_source_same_sequence_numbers(server, tmp_path_factory):
    feed = make_fixture("long", tmp_path_factory.getbasetemp() / "hls-media")
    a, b = server(label="A"), server(label="B")
    pa, pb = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    a.add_channel("same", f"udp://127.0.0.1:{pa}")
    b.add_channel("same", f"udp://127.0.0.1:{pb}")
    for srv in (a, b):   # both servers picked their channel up and listen
        srv.wait_state("same", ("starting", "down", "up"), timeout=10)
    sender = PacedUdpSender(feed, [("127.0.0.1", pa), ("127.0.0.1", pb)], FIXTURE_RATES["long"], seconds=100)
    sender.start()
    try:
        for srv in (a, b):
            wait_playlist(srv, "same", min_segments=5, timeout=30)
        snaps = run_parallel(a=lambda: snapshot(a, "same"), b=lambda: snapshot(b, "same"))
        common = compare(snaps["a"], snaps["b"], "two servers, one source")
        assert len(common) >= 4, f"only {len(common)} segments in common: A {sorted(snaps['a'][1])} " \
                                 f"B {sorted(snaps['b'][1])}"
        ms_a, ms_b = snaps["a"][0].media_sequence, snaps["b"][0].media_sequence
        assert abs(ms_a - ms_b) <= 1, f"MEDIA-SEQUENCE A {ms_a} B {ms_b}"

        # B restarts in the middle of the stream: the numbers it publishes then are A's
        before = max(snaps["b"][1])
        b.restart()
        t_restart = time.monotonic()
        b.wait_state("same", "up", timeout=10)
        wait_playlist(b, "same", min_segments=4, timeout=30)
        snaps = run_parallel(a=lambda: snapshot(a, "same"), b=lambda: snapshot(b, "same"))
        after = [m for m in snaps["b"][1] if m > before]
        assert after, f"B published no new segment after its restart: {sorted(snaps['b'][1])} (before: {before})"
        # (B's first segment after the restart too: a segment starts at a keyframe)
        common = compare(snaps["a"], snaps["b"], f"after B restarted ({time.monotonic() - t_restart:.1f} s ago)")
        assert len(common) >= 3, f"only {len(common)} segments in common after the restart: " \
                                 f"A {sorted(snaps['a'][1])} B {sorted(snaps['b'][1])}"
        assert snaps["b"][1][max(common)]["keyframe"], "segments start with a keyframe"
    finally:
        sender.stop()
    a.assert_alive()
    b.assert_alive()
