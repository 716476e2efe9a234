# SPDX-License-Identifier: MIT
"""Subscribers, packages, tokens, limits and revocation (issue 4), through the
admin API and what viewers fetch, on SQLite and on PostgreSQL.

Channels: `free` (in no package: anyone may watch it), `news` and `sport`
(file playouts). Packages: basic = [news], premium = [news, sport]."""

import calendar
import re
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest

from harness import (StreamClient, assert_ffmpeg_clean, assert_h264_aac, ffmpeg_decode, ffprobe_json, http_get,
                     run_parallel, vlc_play, wait_until)


def setup_catalogue(srv, media, subscribers=()):
    for name in ("free", "news", "sport"):
        srv.add_channel(name, f"file://{media['demo']}",
                        extra=("--title", name.title(), "--number", str({"free": 1, "news": 2, "sport": 3}[name]),
                               "--group", "Tests", "--tvg-id", f"{name}.test"))
    for name, channels in (("basic", ["news"]), ("premium", ["news", "sport"])):
        r = srv.api("POST", "/api/v1/packages", {"name": name, "title": name.title(), "channels": channels})
        assert r.status == 201, f"POST package {name}: {r.status} {r.body!r}"
    for sub in subscribers:
        body = {"password": "secret-" + sub["name"], **sub}
        r = srv.api("POST", "/api/v1/subscribers", body)
        assert r.status == 201, f"POST subscriber {sub['name']}: {r.status} {r.body!r}"
        assert "password" not in r.json() and "password_hash" not in r.json(), r.json()
    # the server applies it (it polls the database, and at once for API writes)
    wait_until(lambda: all(srv.channel(n) and srv.channel(n)["state"] == "up" for n in ("free", "news", "sport")),
               20, what="the three channels up")


def playlist_for(srv, name, output="ts"):
    r = srv.get(f"/get/playlist.m3u?username={name}&password=secret-{name}&output={output}")
    assert r.status == 200, f"personal playlist of {name}: {r.status} {r.body!r}"
    return r.text


def entries(m3u):
    """[(attrs dict, title, url)] of an extended M3U."""
    out = []
    lines = m3u.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#EXTINF:"):
            attrs = dict(re.findall(r'([a-z-]+)="([^"]*)"', line.split(",", 1)[0]))
            out.append((attrs, line.split(",", 1)[1], lines[i + 1]))
    return out


def token_of(m3u):
    m = re.search(r"/t/([A-Za-z0-9_-]+)/live/", m3u)
    assert m, f"no token in the playlist:\n{m3u}"
    return m.group(1)


def wait_ended(client, timeout):
    """Seconds until the stream's connection closes (reading what comes)."""
    t0 = time.monotonic()
    client.sock.settimeout(0.2)
    while time.monotonic() - t0 < timeout:
        try:
            if not client.recv(1 << 16):
                return time.monotonic() - t0
        except (socket.timeout, TimeoutError):
            pass
        except OSError:
            return time.monotonic() - t0
    raise AssertionError(f"{client.url}: still streaming {timeout} s later")


def open_stream(url, agent, **kw):
    c = StreamClient(url, user_agent=agent, **kw)
    return c


# ---------------------------------------------------------------------------------------------

def test_admin_api_needs_a_token(server):
    srv = server()
    r = srv.api("GET", "/api/v1/subscribers", token=False)
    assert r.status == 401 and "bearer" in r.headers.get("www-authenticate", "").lower(), r
    assert srv.api("GET", "/api/v1/subscribers", token="wrong").status == 401
    r = srv.api("GET", "/api/v1/subscribers")
    assert r.status == 200 and r.json() == {"subscribers": [], "total": 0}, r
    # the token was printed once, at the first start, and is stored hashed
    assert len(srv.log_lines("admin API token")) == 1
    assert srv.admin_token not in (srv.data_dir / "antenne.db").read_bytes().decode("latin-1")
    doc = srv.api("GET", "/api/v1/openapi.json", token=False)
    assert doc.status == 200 and doc.json()["openapi"].startswith("3."), doc
    assert "/api/v1/subscribers" in doc.json()["paths"]


def test_personal_playlist_lists_only_entitled_channels(server, media, backend):
    srv = server(db=backend)
    setup_catalogue(srv, media, [{"name": "alice", "packages": ["basic"]},
                                 {"name": "bob", "packages": ["premium"], "max_streams": 2}])
    public = entries(srv.get("/playlist.m3u").text)
    assert [e[0]["tvg-id"] for e in public] == ["free.test"], public
    for name, want in (("alice", ["news"]), ("bob", ["news", "sport"])):
        m3u = playlist_for(srv, name)
        head = m3u.splitlines()[0]
        assert re.fullmatch(r'#EXTM3U x-tvg-url="http://127\.0\.0\.1:\d+/get/epg\.xml\.gz\?token=[\w-]+"', head), head
        got = entries(m3u)
        assert [e[2].rsplit("/", 1)[1] for e in got] == [f"{w}.ts" for w in want], m3u
        for attrs, title, url in got:
            ch = url.rsplit("/", 1)[1][:-3]
            # Kodi PVR IPTV Simple reads these attributes
            assert attrs == {"tvg-id": f"{ch}.test", "tvg-name": ch.title(), "tvg-logo": "",
                             "tvg-chno": {"news": "2", "sport": "3"}[ch], "group-title": "Tests"}, attrs
            assert title == ch.title()
            assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/t/[\w-]+/live/{ch}\.ts", url), url
        hls = entries(playlist_for(srv, name, "hls"))
        assert all(e[2].endswith("/index.m3u8") for e in hls), hls
    assert srv.get("/get/playlist.m3u?username=alice&password=nope").status == 403
    assert srv.get("/get/playlist.m3u?username=nobody&password=x").status == 403
    assert srv.get("/get/playlist.m3u").status == 403
    # the token from the API gives the same playlist
    t = srv.api("POST", "/api/v1/subscribers/alice/tokens")
    assert t.status == 201, t
    r = http_get(t.json()["playlist_url"])
    assert r.status == 200 and [e[2].rsplit("/", 1)[1] for e in entries(r.text)] == ["news.ts"], r


def test_entitlement_holds_for_every_url(server, media):
    srv = server(serve_args=["--token-ttl", "4"])
    setup_catalogue(srv, media, [{"name": "alice", "packages": ["basic"]},
                                 {"name": "carol", "packages": ["basic"], "bind_ip": True}])
    token = token_of(playlist_for(srv, "alice"))
    # entitled: TS and HLS (a segment by its relative URL carries the token in the path)
    c = open_stream(srv.url(f"/t/{token}/live/news.ts"), "box-1")
    assert c.status == 200, c.status_line
    c.read_exact(188 * 100)
    c.close()
    pl = srv.get(f"/t/{token}/live/news/index.m3u8")
    assert pl.status == 200, pl
    seg = [l for l in pl.text.splitlines() if l.endswith(".ts")][0]
    assert srv.get(f"/t/{token}/live/news/{seg}").status == 200
    # not entitled, or no token: neither the stream nor a segment nor a playlist
    for path in (f"/t/{token}/live/sport.ts", f"/t/{token}/live/sport/index.m3u8", f"/t/{token}/live/sport/{seg}"):
        assert srv.get(path).status == 404, path
    for path in ("/live/news.ts", "/live/sport/index.m3u8", f"/live/news/{seg}"):
        assert srv.get(path).status == 403, path
    assert srv.get("/live/free/index.m3u8").status == 200  # free to air
    # tampered: every character changed in turn (a sample) is refused
    for i in range(0, len(token), 7):
        bad = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]
        r = srv.get(f"/t/{bad}/live/news/index.m3u8")
        assert r.status == 403, (i, r)
    # bound to the address it was issued to: carol's token from 127.0.0.2 fails
    carol = token_of(playlist_for(srv, "carol"))
    assert srv.get(f"/t/{carol}/live/news/index.m3u8").status == 200
    other = open_stream(srv.url(f"/t/{carol}/live/news.ts"), "box-2", source="127.0.0.2")
    assert other.status == 403, other.status_line
    assert b"signature" in other.read_answer(), "the refusal says the token does not match"
    other.close()
    # expired (tokens of this server live 4 s): refused at the latest 4.5 s from now
    last = {}

    def expired():
        last["r"] = r = srv.get(f"/t/{token}/live/news/index.m3u8")
        return r.status == 403 and b"expired" in r.body

    try:
        wait_until(expired, 4.5, interval=0.5, what="the token to be refused as expired")
    except AssertionError:
        raise AssertionError(f"{last.get('r')}") from None


def test_real_clients_play_from_the_personal_playlist(server, media):
    srv = server()
    setup_catalogue(srv, media, [{"name": "alice", "packages": ["basic"], "max_streams": 3}])
    url = entries(playlist_for(srv, "alice"))[0][2]
    # ffprobe and ffmpeg one after the other: the same address and player
    # software is one device, whose newer stream replaces the older (that is
    # how zapping works). VLC is other software, so another device (alice may
    # watch 3 streams): it plays at the same time.

    def lavf():
        assert_h264_aac(ffprobe_json(url), url)
        assert_ffmpeg_clean(ffmpeg_decode(url, 6), url)

    run_parallel(lavf=lavf, vlc=lambda: vlc_play(url, 6))
    hls = entries(playlist_for(srv, "alice", "hls"))[0][2]
    probe = ffprobe_json(hls)
    assert {s["codec_name"] for s in probe["streams"]} >= {"h264", "aac"}, probe


def test_limit_refuses_a_second_device_but_zapping_never_trips_it(server, media, backend):
    srv = server(db=backend)
    setup_catalogue(srv, media, [{"name": "alice", "packages": ["premium"], "max_streams": 1}])
    token = token_of(playlist_for(srv, "alice"))
    first = open_stream(srv.url(f"/t/{token}/live/news.ts"), "box-A")
    assert first.status == 200
    first.read_exact(188 * 50)
    second = open_stream(srv.url(f"/t/{token}/live/news.ts"), "box-B")
    assert second.status == 403, second.status_line
    assert b"already watches 1 streams" in second.read_answer(), "the refusal says why"
    second.close()
    # 20 rapid channel switches on box-A: each replaces the last, none is refused
    current = first
    for i in range(20):
        ch = ("sport", "news")[i % 2]
        nxt = open_stream(srv.url(f"/t/{token}/live/{ch}.ts"), "box-A")
        assert nxt.status == 200, f"switch {i} to {ch}: {nxt.status_line} {nxt.read_body()[:200]!r}"
        nxt.read_exact(188 * 10)
        current.close()
        current = nxt
    current.close()
    running = srv.api("GET", "/api/v1/sessions?subscriber=alice").json()["sessions"]
    assert len(running) <= 1, running


def test_end_oldest_policy(server, media):
    srv = server()
    setup_catalogue(srv, media, [{"name": "bob", "packages": ["premium"], "max_streams": 1,
                                  "limit_policy": "end-oldest"}])
    token = token_of(playlist_for(srv, "bob"))
    old = open_stream(srv.url(f"/t/{token}/live/news.ts"), "tv-1")
    old.read_exact(188 * 50)
    new = open_stream(srv.url(f"/t/{token}/live/sport.ts"), "tv-2")
    assert new.status == 200, new.status_line
    took = wait_ended(old, 3)
    new.read_exact(188 * 50)
    audit = srv.api("GET", "/api/v1/audit?subscriber=bob").json()["sessions"]
    assert any(s["end_reason"] == "ended by a newer stream" for s in audit), audit
    print(f"oldest stream ended {took:.3f} s after the newer one started")
    new.close()


def test_revocation_ends_streams_within_a_second(server, media, backend):
    srv = server(db=backend)
    setup_catalogue(srv, media, [{"name": "alice", "packages": ["basic"], "max_streams": 2}])
    token = token_of(playlist_for(srv, "alice"))
    ts = open_stream(srv.url(f"/t/{token}/live/news.ts"), "stb")
    ts.read_exact(188 * 100)
    hls_path = f"/t/{token}/live/news/index.m3u8"
    headers = {"User-Agent": "phone"}
    assert http_get(srv.url(hls_path), headers=headers).status == 200
    wait_until(lambda: len(srv.api("GET", "/api/v1/sessions?subscriber=alice").json()["sessions"]) == 2, 5,
               what="two running sessions")
    t0 = time.monotonic()
    r = srv.api("PATCH", "/api/v1/subscribers/alice", {"enabled": False})
    assert r.status == 200 and r.json()["enabled"] is False, r
    hls_done = {}

    def poll_hls():
        while time.monotonic() - t0 < 3:
            if http_get(srv.url(hls_path), headers=headers).status == 403:
                hls_done["t"] = time.monotonic() - t0
                return
            time.sleep(0.02)

    th = threading.Thread(target=poll_hls)
    th.start()
    wait_ended(ts, 3)
    ts_end = time.monotonic() - t0  # from the API call
    th.join()
    print(f"revocation: HTTP-TS closed after {ts_end:.3f} s, HLS refused after {hls_done.get('t', -1):.3f} s")
    assert ts_end <= 1.0, f"the HTTP-TS stream ended {ts_end:.3f} s after the subscriber was disabled"
    assert "t" in hls_done and hls_done["t"] <= 1.0, f"HLS still served: {hls_done}"
    # the token is dead, and so are username and password
    assert srv.get(f"/t/{token}/live/news.ts").status == 403
    assert srv.get("/get/playlist.m3u?username=alice&password=secret-alice").status == 403
    # the sessions ended with the reason
    audit = srv.api("GET", "/api/v1/audit?subscriber=alice").json()["sessions"]
    assert audit and all(s["ended_at"] for s in audit), audit
    assert any("revoked" in (s["end_reason"] or "") for s in audit), audit


def test_removing_a_channel_from_the_package_revokes_it(server, media):
    srv = server()
    setup_catalogue(srv, media, [{"name": "alice", "packages": ["premium"]}])
    # sport stays in another package: a channel in none would be free to air
    assert srv.api("POST", "/api/v1/packages", {"name": "sports", "channels": ["sport"]}).status == 201
    token = token_of(playlist_for(srv, "alice"))
    ts = open_stream(srv.url(f"/t/{token}/live/sport.ts"), "stb")
    ts.read_exact(188 * 100)
    t0 = time.monotonic()
    assert srv.api("PATCH", "/api/v1/packages/premium", {"channels": ["news"]}).status == 200
    took = wait_ended(ts, 3)
    assert took <= 1.0, f"sport went on {took:.3f} s after it left the package"
    assert srv.get(f"/t/{token}/live/sport.ts").status == 404
    assert "sport" not in playlist_for(srv, "alice")
    print(f"channel removed from the package: stream ended after {time.monotonic() - t0:.3f} s")


@pytest.mark.time_limit(180)
def test_limits_hold_across_a_fleet(server, media, pg_url):
    a = server(db=pg_url, label="origin-a")
    setup_catalogue(a, media, [{"name": "bob", "packages": ["premium"], "max_streams": 2},
                               {"name": "zed", "packages": ["premium"], "max_streams": 1}])
    b = server(db=pg_url, label="origin-b")
    wait_until(lambda: b.channel("news") and b.channel("news")["state"] == "up", 20, what="news up on b")
    token = token_of(playlist_for(a, "bob"))
    s1 = open_stream(a.url(f"/t/{token}/live/news.ts"), "tv-1")
    s2 = open_stream(a.url(f"/t/{token}/live/sport.ts"), "tv-2")
    assert (s1.status, s2.status) == (200, 200)
    s3 = open_stream(b.url(f"/t/{token}/live/news.ts"), "tv-3")
    assert s3.status == 403, f"a third stream on the other server: {s3.status_line}"
    s3.close()
    # once one ends, the other server lets a new one in
    s1.close()
    wait_until(lambda: open_stream(b.url(f"/t/{token}/live/news.ts"), "tv-3").status == 200, 5,
               what="a stream on b once bob has a free slot")
    s2.close()
    # 20 rapid switches on one device, alternating servers, never trip a limit of 1
    zt = token_of(playlist_for(a, "zed"))
    cur = None
    for i in range(20):
        srv = (a, b)[i % 2]
        nxt = open_stream(srv.url(f"/t/{zt}/live/{('news', 'sport')[i % 2]}.ts"), "living-room")
        assert nxt.status == 200, f"switch {i} on {srv.label}: {nxt.status_line} {nxt.read_body()[:200]!r}"
        nxt.read_exact(188 * 10)
        if cur:
            cur.close()
        cur = nxt
    # revocation on one server ends the stream on the other within a second
    t0 = time.monotonic()
    assert a.api("PATCH", "/api/v1/subscribers/zed", {"enabled": False}).status == 200
    wait_ended(cur, 3)
    took = time.monotonic() - t0
    print(f"fleet revocation: the stream on {('origin-a', 'origin-b')[19 % 2]} ended {took:.3f} s after the change")
    assert took <= 1.0, f"disabled on one server, the stream on the other ended only after {took:.3f} s"
    cur.close()


def test_failed_logins_lock_out(server, media):
    srv = server()
    setup_catalogue(srv, media, [{"name": "alice", "packages": ["basic"]}])
    for i in range(5):
        assert srv.get("/get/playlist.m3u?username=alice&password=wrong").status == 403, i
    r = srv.get("/get/playlist.m3u?username=alice&password=secret-alice")
    assert r.status == 429 and int(r.headers["retry-after"]) >= 1, r
    assert srv.log_lines("too many failures", ["alice"]), "the lock-out is logged"
    time.sleep(int(r.headers["retry-after"]) + 0.2)
    assert srv.get("/get/playlist.m3u?username=alice&password=secret-alice").status == 200


def test_sessions_can_be_listed_kicked_and_audited(server, media):
    srv = server()
    setup_catalogue(srv, media, [{"name": "alice", "packages": ["basic"]}])
    token = token_of(playlist_for(srv, "alice"))
    ts = open_stream(srv.url(f"/t/{token}/live/news.ts"), "stb-kick")
    ts.read_exact(188 * 2000)
    running = srv.api("GET", "/api/v1/sessions").json()["sessions"]
    assert len(running) == 1 and running[0]["subscriber"] == "alice" and running[0]["channel"] == "news", running
    s = running[0]
    assert s["client_ip"] == "127.0.0.1" and s["user_agent"] == "stb-kick" and s["kind"] == "ts", s
    r = srv.api("DELETE", f"/api/v1/sessions/{s['id']}")
    assert r.status == 204, r
    assert wait_ended(ts, 2) <= 1.0
    row = wait_until(lambda: [x for x in srv.api("GET", "/api/v1/audit?subscriber=alice").json()["sessions"]
                              if x["id"] == s["id"] and x["ended_at"]], 5, what="the ended session in the audit")[0]
    assert row["end_reason"] == "kicked by the operator" and row["bytes"] >= 188 * 2000, row
    assert srv.api("GET", "/api/v1/sessions").json()["sessions"] == []
    assert srv.api("GET", "/api/v1/audit?from=abc").status == 400


@pytest.mark.parametrize("body, field", [
    (b'{"name": "x", "packages": [', "line"),
    (b'[1, 2]', "object"),
    (b'{"name": "x", "colour": "red"}', "colour"),
    (b'{"name": "x\'; DROP TABLE subscribers; --"}', "name"),
    (b'{"name": "x", "notes": "' + b"n" * 5000 + b'"}', "notes"),
    (b'{"name": "x", "max_streams": "abc"}', "max_streams"),
    (b'{"name": "x", "max_streams": 100000}', "max_streams"),
    (b'{"name": "x", "expires": "2026-02-30"}', "expires"),
    (b'{"name": "x", "allowed_ips": ["10.0.0.0/33"]}', "allowed_ips"),
    (b'{"name": "x", "token_id": 5}', "token_id"),
    (b'{"name": "x", "name": "y"}', "name"),
])
def test_bad_api_input_is_refused_and_nothing_stored(server, body, field):
    srv = server()
    r = srv.api("POST", "/api/v1/subscribers", body)
    assert r.status == 400, r
    err = r.json()["error"]
    assert field in err, f"the error should name {field!r}: {err!r}"
    assert srv.api("GET", "/api/v1/subscribers").json() == {"subscribers": [], "total": 0}


def test_key_rotation(server, media):
    srv = server()
    setup_catalogue(srv, media, [{"name": "alice", "packages": ["basic"], "max_streams": 0}])
    old = token_of(playlist_for(srv, "alice"))
    r = srv.api("POST", "/api/v1/token-keys", {"name": "k2"})
    assert r.status == 201 and "secret" not in r.json(), r
    new = token_of(playlist_for(srv, "alice"))
    assert new != old and new[:4] != old[:4], "the newest key signs"   # the key id is in the token's head
    for t in (old, new):
        assert srv.get(f"/t/{t}/live/news/index.m3u8").status == 200
    assert srv.api("PATCH", "/api/v1/token-keys/k1", {"retired": True}).status == 200
    r = srv.get(f"/t/{old}/live/news/index.m3u8")
    assert r.status == 403 and b"retired" in r.body, r
    assert srv.get(f"/t/{new}/live/news/index.m3u8").status == 200
    keys = srv.api("GET", "/api/v1/token-keys").json()["token_keys"]
    assert {k["name"]: k["retired"] for k in keys} == {"k1": True, "k2": False}
    assert all("secret" not in k for k in keys), keys


def test_expiry_ends_a_running_stream(server, media):
    srv = server()
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 4))
    setup_catalogue(srv, media, [{"name": "alice", "packages": ["basic"], "expires": expires}])
    token = token_of(playlist_for(srv, "alice"))
    ts = open_stream(srv.url(f"/t/{token}/live/news.ts"), "stb")
    assert ts.status == 200
    wait_ended(ts, 10)
    late = time.time() - calendar.timegm(time.strptime(expires, "%Y-%m-%dT%H:%M:%SZ"))
    assert late <= 1.5, f"the stream ended {late:.2f} s after the subscription expired"
    r = srv.get(f"/t/{token}/live/news.ts")
    assert r.status == 403 and b"expired" in r.body, r


def test_hls_sessions_are_audited_with_their_bytes(server, media):
    srv = server()
    setup_catalogue(srv, media, [{"name": "alice", "packages": ["basic"]}])
    token = token_of(playlist_for(srv, "alice"))
    headers = {"User-Agent": "phone"}
    pl = http_get(srv.url(f"/t/{token}/live/news/index.m3u8"), headers=headers)
    assert pl.status == 200, pl
    sizes = 0
    for seg in [l for l in pl.text.splitlines() if l.endswith(".ts")][:3]:
        r = http_get(srv.url(f"/t/{token}/live/news/{seg}"), headers=headers)
        assert r.status == 200
        sizes += len(r.body)
    running = srv.api("GET", "/api/v1/sessions?subscriber=alice").json()["sessions"]
    assert len(running) == 1 and running[0]["kind"] == "hls", running
    assert srv.api("DELETE", f"/api/v1/sessions/{running[0]['id']}").status == 204
    row = [s for s in srv.api("GET", "/api/v1/audit?subscriber=alice").json()["sessions"]
           if s["id"] == running[0]["id"]][0]
    # (the first playlist may have waited for the channel's first segment: an
    # answer that comes after its request, on a connection that then closes,
    # is not counted)
    assert row["end_reason"] == "kicked by the operator" and row["bytes"] >= sizes, (row, sizes)
    # a kick ends the session and keeps that player off the channel for a while (or an HLS
    # player would simply start again); another device of hers may watch
    r = http_get(srv.url(f"/t/{token}/live/news/index.m3u8"), headers=headers)
    assert r.status == 403 and b"ended by the operator" in r.body, r
    assert http_get(srv.url(f"/t/{token}/live/news/index.m3u8"), headers={"User-Agent": "tv"}).status == 200


def test_deleting_a_subscriber_ends_their_stream(server, media):
    srv = server()
    setup_catalogue(srv, media, [{"name": "alice", "packages": ["basic"]}])
    token = token_of(playlist_for(srv, "alice"))
    ts = open_stream(srv.url(f"/t/{token}/live/news.ts"), "stb")
    ts.read_exact(188 * 100)
    t0 = time.monotonic()
    assert srv.api("DELETE", "/api/v1/subscribers/alice").status == 204
    wait_ended(ts, 3)
    took = time.monotonic() - t0
    assert took <= 1.0, f"the stream outlived its subscriber by {took:.3f} s"
    r = srv.get(f"/t/{token}/live/news.ts")
    assert r.status == 403 and b"revoked" in r.body, r
    audit = srv.api("GET", "/api/v1/audit?subscriber=alice").json()["sessions"]
    assert audit and all(s["ended_at"] for s in audit) and "revoked" in audit[0]["end_reason"], audit


def test_playlist_requests_are_rate_limited_per_address(server):
    srv = server()
    statuses = [srv.get("/playlist.m3u").status for _ in range(60)]
    assert statuses[:40] == [200] * 40, statuses        # a burst of 40 passes
    assert 429 in statuses[40:], statuses               # then 10 a second
    r = srv.get("/playlist.m3u")
    assert r.status == 429 and r.headers.get("retry-after") == "1", r
    # another address is not held back, and streams are not rate-limited
    other = StreamClient(srv.url("/playlist.m3u"), source="127.0.0.2")
    assert other.status == 200, other.status_line
    other.close()
    assert srv.get("/healthz").status == 200
