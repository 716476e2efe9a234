# SPDX-License-Identifier: MIT
"""test_10_ingest_http.py -- HTTP MPEG-TS pull sources: real clients play them,
the source reconnects, and an origin that answers 404, hangs, or sends a web
page gets a clear state and log line while the server keeps serving."""

import time

import pytest

from harness import check_real_clients, wait_until


@pytest.mark.time_limit(90)
def test_http_source_plays_in_real_clients(server, http_source, media):
    origin = http_source("ts", media["demo"])
    srv = server()
    srv.add_channel("pull", origin.url())
    srv.wait_state("pull", "up", timeout=10)
    check_real_clients(srv.live_url("pull"))
    assert len(origin.requests) == 1, f"one stable connection expected, origin saw {origin.requests}"


@pytest.mark.time_limit(60)
def test_http_source_reconnects_and_viewer_stays(server, http_source, media):
    """The origin closes every connection after 3 s: antenne reconnects, the
    channel is up again, and a viewer stays connected throughout."""
    origin = http_source("ts", media["demo"], close_after=3)
    srv = server()
    srv.add_channel("flaky", origin.url())
    srv.wait_state("flaky", "up", timeout=10)
    v = srv.viewer("flaky", duration=10, stall_timeout=15)
    wait_until(lambda: len(origin.requests) >= 3, 15, what="antenne to reconnect to the origin twice")
    srv.wait_state("flaky", "up", timeout=5)
    v.join(20)
    assert v.status == 200 and v.error is None and not v.eof, f"the viewer should stay connected: {v.describe()}"
    assert not v.checker.sync_errors, f"TS sync lost across reconnects: {v.describe()}"
    assert v.checker.pcr_time > 6, f"the viewer got too little across reconnects: {v.describe()}"
    gaps = [b[0] - a[0] for a, b in zip(origin.requests, origin.requests[1:])]
    assert all(g < 6 for g in gaps), f"reconnects took too long (s between requests): {gaps}"


@pytest.mark.time_limit(60)
def test_http_source_404(good_channel, http_source):
    srv, _ = good_channel
    origin = http_source("404")
    url = origin.url("/missing.ts")
    srv.add_channel("gone", url)
    srv.wait_log(r"\b404\b", where=["gone", url], timeout=10)
    ch = srv.wait_state("gone", "down", timeout=10)
    assert "404" in (ch.get("state_reason") or ""), f"state_reason should say 404: {ch}"
    t0 = time.monotonic()
    n0 = len(origin.requests)
    time.sleep(6)
    n = len(origin.requests) - n0
    # back-off 0.5 s doubling to 10 s: it retries, but does not hammer the origin
    assert 1 <= n <= 8, f"{n} requests to the 404 origin in {time.monotonic() - t0:.1f} s (want retries with back-off)"


@pytest.mark.time_limit(60)
def test_http_source_that_hangs(good_channel, http_source):
    srv, _ = good_channel
    origin = http_source("hang")
    srv.add_channel("stuck", origin.url())
    wait_until(lambda: origin.requests, 5, what="antenne to connect to the origin")
    srv.wait_log(r"time[ds]? ?out|no (response|answer|data|reply)|hang|stall|silent|not respond",
                 where=["stuck", origin.url()],
                 timeout=30)
    ch = srv.wait_state("stuck", "down", timeout=10)
    assert ch["state_reason"], f"a down channel should say why: {ch}"


@pytest.mark.time_limit(60)
def test_http_source_sending_html(good_channel, http_source):
    srv, _ = good_channel
    origin = http_source("html")
    url = origin.url("/index.html")
    srv.add_channel("webpage", url)
    srv.wait_log(r"html|content-type|sync|mpeg-?ts|transport stream|invalid", where=["webpage", url],
                 timeout=10)
    ch = srv.wait_state("webpage", "down", timeout=10)
    assert ch["state_reason"], f"a down channel should say why: {ch}"
