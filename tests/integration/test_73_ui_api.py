# SPDX-License-Identifier: MIT
"""The API under the web UI (issue 7), over plain HTTP: the viewers' portal
API (login, lockout, their account, their channels, their guide), subscriber
search and paging, a channel's bitrate history, the operator's preview of any
channel, and a kick that really stops an HLS player. The browser tests
(test_71, test_72) drive the pages; this file pins what they rely on."""

import time

import pytest

from harness import http_get, wait_until
from test_40_subscribers import setup_catalogue


def portal(srv, method, path, token=None, body=None):
    return srv.api(method, f"/api/v1/portal/{path}", body, token=token or False)


def login(srv, name, password=None):
    r = portal(srv, "POST", "login", body={"username": name, "password": password or f"secret-{name}"})
    assert r.status == 200, f"portal login of {name}: {r.status} {r.body!r}"
    j = r.json()
    assert j["subscriber"] == name and j["expires"] > time.time() + 60, j
    return j["token"]


@pytest.mark.time_limit(90)
def test_portal_shows_a_subscriber_only_their_own(server, media):
    srv = server()
    setup_catalogue(srv, media, [{"name": "alice", "packages": ["basic"]},
                                 {"name": "bob", "packages": ["premium"]}])
    alice = login(srv, "alice")

    me = portal(srv, "GET", "me", alice)
    assert me.status == 200, me
    j = me.json()
    assert j["name"] == "alice" and j["playlist_url"].endswith(f"/get/playlist.m3u?token={alice}"), j
    assert http_get(j["playlist_url"]).status == 200

    r = portal(srv, "GET", "channels", alice)
    assert r.status == 200, r
    chans = r.json()["channels"]
    assert [c["name"] for c in chans] == ["news"], chans      # not free (no package), not sport (bob's)
    c = chans[0]
    assert c["title"] == "News" and c["number"] == 2 and c["group"] == "Tests" and c["state"] == "up", c
    assert c["hls"] == f"/t/{alice}/live/news/index.m3u8" and set(c["epg"]) == {"now", "next"}, c
    assert srv.get(c["hls"]).status == 200

    # guessing: bob's channel, bob's data, the admin API, unknown names
    assert portal(srv, "GET", "channels/sport/epg", alice).status == 404
    assert portal(srv, "GET", "channels/nothere/epg", alice).status == 404
    assert portal(srv, "GET", "channels/news/epg", alice).status == 200
    assert srv.get(f"/t/{alice}/live/sport/index.m3u8").status in (403, 404)
    assert srv.api("GET", "/api/v1/subscribers/bob", token=alice).status == 401
    assert srv.api("GET", "/api/v1/sessions", token=alice).status == 401
    bob = login(srv, "bob")
    assert [c["name"] for c in portal(srv, "GET", "channels", bob).json()["channels"]] == ["news", "sport"]
    assert portal(srv, "GET", "me", bob).json()["name"] == "bob"

    # no token, a broken one, the admin's: 401 with a reason
    for token in (None, "garbage", alice[:-2] + "xx", srv.admin_token):
        r = portal(srv, "GET", "channels", token)
        assert r.status == 401 and r.json()["error"], (token, r.status, r.body)
    # only POST logs in; the body must be what it says
    assert portal(srv, "GET", "login").status == 405
    for body in ("{", '{"username": "alice"}', '{"username": 1, "password": "x"}', "[]"):
        r = portal(srv, "POST", "login", body=body)
        assert r.status == 400 and r.json()["error"], (body, r.status, r.body)

    # a disabled subscriber cannot log in, and the token they had stops working
    assert srv.api("PATCH", "/api/v1/subscribers/alice", {"enabled": False}).status == 200
    r = portal(srv, "POST", "login", body={"username": "alice", "password": "secret-alice"})
    assert r.status == 403 and "disabled" in r.json()["error"], r
    assert portal(srv, "GET", "channels", alice).status == 401


@pytest.mark.time_limit(60)
def test_portal_login_is_rate_limited(server):
    srv = server()
    assert srv.api("POST", "/api/v1/subscribers", {"name": "carol", "password": "right-one"}).status == 201
    codes = []
    for _ in range(8):
        r = portal(srv, "POST", "login", body={"username": "carol", "password": "wrong"})
        codes.append(r.status)
        if r.status == 429:
            break
    assert codes[0] == 401 and codes[-1] == 429, codes
    assert int(r.headers["retry-after"]) >= 1 and "try again in" in r.json()["error"], (r.headers, r.body)
    # while locked, even the right password is refused; afterwards it works
    r = portal(srv, "POST", "login", body={"username": "carol", "password": "right-one"})
    assert r.status == 429, r
    time.sleep(int(r.headers["retry-after"]) + 0.2)
    assert login(srv, "carol", "right-one")


@pytest.mark.time_limit(60)
def test_subscriber_search_and_paging(server):
    srv = server()
    names = [f"user{i:03d}" for i in range(1, 13)] + ["someone", "other_1"]
    for n in names:
        assert srv.api("POST", "/api/v1/subscribers", {"name": n, "password": "pw-" + n}).status == 201
    j = srv.api("GET", "/api/v1/subscribers?q=USER&offset=5&limit=4").json()
    assert j["total"] == 12 and [s["name"] for s in j["subscribers"]] == [f"user{i:03d}" for i in range(6, 10)], j
    j = srv.api("GET", "/api/v1/subscribers?q=_1").json()      # "_" is a letter, not a wildcard
    assert j["total"] == 1 and j["subscribers"][0]["name"] == "other_1", j
    j = srv.api("GET", "/api/v1/subscribers?limit=1&offset=13").json()
    assert j["total"] == 14 and [s["name"] for s in j["subscribers"]] == ["user012"], j
    assert srv.api("GET", "/api/v1/subscribers").json()["total"] == 14
    for bad in ("limit=0x", "offset=-1", "limit=10001", "q=" + "x" * 200):
        r = srv.api("GET", f"/api/v1/subscribers?{bad}")
        assert r.status == 400 and r.json()["error"], (bad, r.status, r.body)
    # packages page the same way
    j = srv.api("GET", "/api/v1/packages?limit=5").json()
    assert j == {"packages": [], "total": 0}, j


@pytest.mark.time_limit(60)
def test_channel_history_feeds_the_graph(server, media):
    srv = server()
    srv.add_channel("hist", f"file://{media['demo']}")
    srv.wait_state("hist", "up", timeout=10)
    # a sample every 5 s: the second one sees the input
    h = wait_until(lambda: (lambda j: j if len(j["input_bitrate"]) >= 2 else None)(
        srv.api("GET", "/api/v1/channels/hist/history").json()), 15, what="two history samples")
    assert h["interval_s"] == 5 and len(h["viewers"]) == len(h["input_bitrate"]), h
    assert abs(h["end"] - time.time()) < 7, h
    assert 500_000 < h["input_bitrate"][-1] < 20_000_000, h
    assert srv.api("GET", "/api/v1/channels/nope/history").status == 404
    assert srv.api("GET", "/api/v1/channels/hist/history", token=False).status == 401


@pytest.mark.time_limit(90)
def test_operator_preview_and_kick(server, media):
    srv = server()
    setup_catalogue(srv, media, [{"name": "dave", "packages": ["basic"]}])
    # the preview: a packaged channel plays with the admin token in a header, not without
    assert srv.get("/live/news/index.m3u8").status == 403
    r = srv.get("/live/news/index.m3u8", headers={"Authorization": f"Bearer {srv.admin_token}"})
    assert r.status == 200 and r.text.startswith("#EXTM3U"), r
    assert srv.get("/live/news/index.m3u8", headers={"Authorization": "Bearer nope"}).status == 403
    assert srv.api("GET", "/api/v1/sessions").json()["sessions"] == []   # a preview is no session

    # dave's player: an HLS session; the operator kicks it; it is refused, another device is not
    token = login(srv, "dave")
    tv = {"User-Agent": "test-tv/1.0"}
    assert srv.get(f"/t/{token}/live/news/index.m3u8", headers=tv).status == 200
    sessions = wait_until(lambda: srv.api("GET", "/api/v1/sessions?subscriber=dave").json()["sessions"], 10,
                          what="dave's session")
    assert len(sessions) == 1 and sessions[0]["kind"] == "hls", sessions
    assert srv.api("DELETE", f"/api/v1/sessions/{sessions[0]['id']}").status == 204
    r = srv.get(f"/t/{token}/live/news/index.m3u8", headers=tv)
    assert r.status == 403 and "ended by the operator" in r.text, r
    assert srv.get(f"/t/{token}/live/news.ts", headers=tv, timeout=5).status == 403
    phone = {"User-Agent": "test-phone/2.0"}
    assert srv.get(f"/t/{token}/live/news/index.m3u8", headers=phone).status == 200


@pytest.mark.time_limit(60)
def test_hls_of_a_channel_down_from_the_start_says_why_at_once(server, media):
    """The portal (and any HLS player) hears why at once, not after a blocking wait."""
    import socket
    from harness import UdpFeeder, free_port
    srv = server()
    port = free_port(socket.SOCK_DGRAM)
    srv.add_channel("noise", f"udp://127.0.0.1:{port}")
    feeder = UdpFeeder(media["demo"], port, max_seconds=40)
    feeder.mode = "garbage"
    try:
        srv.wait_state("noise", "down", timeout=15)
        t0 = time.monotonic()
        r = srv.get("/live/noise/index.m3u8", timeout=10)
        assert r.status == 503 and "channel 'noise' is down" in r.text, r
        assert time.monotonic() - t0 < 2, "the answer waited"
    finally:
        feeder.stop()
