# SPDX-License-Identifier: MIT
"""test_10_ingest_multicast.py -- multicast UDP sources, inside a network
namespace the test creates (no packet leaves the machine): real clients play
them, and source-specific joins on a named interface filter by source."""

import time

import pytest

from harness import check_real_clients, ffmpeg_feeder


@pytest.mark.time_limit(90)
def test_multicast_source_plays_in_real_clients(server, netns, procs, media):
    srv = server(ns=netns)
    srv.add_channel("mcast", "udp://@239.10.1.1:5000")
    ffmpeg_feeder(procs, media["demo"], "239.10.1.1", 5000, "udp", ns=netns, extra_url="&ttl=0")
    srv.wait_state("mcast", "up", timeout=10)
    check_real_clients(srv.live_url("mcast"), ns=netns)


@pytest.mark.time_limit(60)
def test_multicast_rtp_source_specific_join_on_interface(server, netns, procs, media):
    """Two SSM channels on lo: the one joined with the sender's address comes
    up; the one joined with another source address receives nothing."""
    srv = server(ns=netns)
    srv.add_channel("ssm-right", "rtp://@232.1.1.1:5002?iface=lo&source=127.0.0.1")
    srv.add_channel("ssm-wrong", "rtp://@232.1.1.2:5004?iface=lo&source=127.0.0.2")
    ffmpeg_feeder(procs, media["short"], "232.1.1.1", 5002, "rtp", ns=netns, extra_url="&ttl=0")
    ffmpeg_feeder(procs, media["short"], "232.1.1.2", 5004, "rtp", ns=netns, extra_url="&ttl=0")
    srv.wait_state("ssm-right", "up", timeout=10)
    time.sleep(3)
    wrong = srv.channel("ssm-wrong")
    assert wrong["state"] != "up" and wrong["stats"]["bytes_in"] == 0, \
        f"a source-specific join for 127.0.0.2 received the stream sent from 127.0.0.1: {wrong}"
    v = srv.viewer("ssm-right", duration=3)
    v.join(10)
    v.assert_clean(min_seconds=2.5)
