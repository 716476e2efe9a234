# SPDX-License-Identifier: MIT
"""The operator UI at /admin/ (issue 7) in a real browser: Debian's headless
Chromium driven by tests/browser/admin_ui.mjs (playwright-core).

One server with 100,000 subscribers (written straight into its SQLite
database before it starts) and a handful of realistic channels: file
playouts that are up, a UDP feed that loses packets (degraded), a UDP port
nobody sends to. The browser logs in (a wrong token first), adds a channel
through the form whose source is a live UDP feed and sees it come up, plays
its preview (and a packaged channel's: the admin token goes with hls.js's
requests) and sees the bitrate graph, edits and removes channels, shows
that a channel title and a subscriber note made of HTML stay text, keeps
the dashboard usable while the server does not answer, creates, disables
and re-passwords a subscriber, makes a playlist URL, kicks a session (the
stream really ends), edits a package, imports an EPG source, filters
events, works by keyboard and on a 360 px phone, and takes a screenshot of
every page. Then 200 more channels are added and the dashboard, the
subscriber list and a search are timed; the numbers go to ui-timings.json
beside the screenshots (and are printed). Only sanity bounds are asserted
on them. Last, every API call the pages make answers 401 without the token.
With ANTENNE_UPDATE_SCREENSHOTS=1 the dashboard and subscriber screenshots are
also copied to docs/ (a normal run leaves the source tree alone).
"""

import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import time
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape

import pytest

from harness import REPO, UdpFeeder, Viewer, free_port, http_get, wait_until
from hls_harness import BROWSER_DIR, ensure_browser_deps

SUBSCRIBERS = 100_000
EXTRA_CHANNELS = 200
FIRST = ["anna", "ben", "clara", "david", "elena", "felix", "greta", "hugo", "ines", "jonas", "katrin", "lukas",
         "maria", "nils", "olga", "paul", "rosa", "stefan", "tanja", "viktor"]
LAST = ["schmidt", "mueller", "weber", "wagner", "becker", "hoffmann", "koch", "richter", "klein", "wolf",
        "neumann", "schwarz", "braun", "zimmermann", "krueger", "hartmann", "lange", "werner", "krause", "meier"]
XSS_TITLE = "<script>alert(1)</script>"
XSS_NOTE = "<img src=x onerror=alert(1)>"
# The routes the admin pages call (all need the admin token).
ADMIN_CALLS = [
    ("GET", "/api/v1/channels"), ("GET", "/api/v1/channels/news"), ("GET", "/api/v1/channels/news/history"),
    ("POST", "/api/v1/channels"), ("PATCH", "/api/v1/channels/news"), ("DELETE", "/api/v1/channels/news"),
    ("GET", "/api/v1/subscribers?q=anna&offset=0&limit=50"), ("GET", "/api/v1/subscribers/mallory"),
    ("POST", "/api/v1/subscribers"), ("PATCH", "/api/v1/subscribers/mallory"),
    ("POST", "/api/v1/subscribers/mallory/tokens"), ("DELETE", "/api/v1/subscribers/mallory"),
    ("GET", "/api/v1/packages"), ("POST", "/api/v1/packages"), ("PATCH", "/api/v1/packages/basic"),
    ("GET", "/api/v1/sessions"), ("GET", "/api/v1/sessions?subscriber=anna"), ("DELETE", "/api/v1/sessions/1"),
    ("GET", "/api/v1/epg-sources"), ("POST", "/api/v1/epg-sources"), ("POST", "/api/v1/epg-sources/guide/import"),
    ("DELETE", "/api/v1/epg-sources/guide"), ("GET", "/api/v1/events?after=0&limit=200"),
]


# (notes of the generated subscribers)
NOTES = ["", "", "", "", "pays yearly", "hotel, room 12", "trial until the end of the month", "", "second home",
         "asked for the sports package", ""]


_rnd = random.Random(71)   # the same people every run
# subscriber i (1..SUBSCRIBERS): "maria-koch-4242", with settings that vary like real ones
PEOPLE = [None] + [(f"{_rnd.choice(FIRST)}-{_rnd.choice(LAST)}-{i}", _rnd.random() > 0.02,
                    _rnd.choice([None, None, "2027-06-30", "2026-01-31"]), _rnd.choice([1, 1, 2, 3]),
                    _rnd.choice(['["basic"]', '["basic"]', '["premium"]']), _rnd.choice(NOTES) or None)
                   for i in range(1, SUBSCRIBERS + 1)]


def subscriber_name(i):
    return PEOPLE[i][0]


def fill_database(srv, channels, packages, people):
    """The line-up, the packages and 100,000 (+ a few) subscribers, straight
    into the SQLite file the CLI made before the server starts: a second
    instead of a minute of API calls (each write waits for the server to
    reload what it changed)."""
    srv.cli_ok("package", "list")
    db = srv.data_dir / "antenne.db"
    assert db.is_file(), f"the CLI made no database at {db}"
    con = sqlite3.connect(db)
    try:
        cols = {r[1] for r in con.execute("PRAGMA table_info(subscribers)")}
        need = {"name", "enabled", "expires", "max_streams", "limit_policy", "packages", "allowed_ips", "notes",
                "token_id"}
        assert need <= cols, f"subscribers table lacks {need - cols} (schema changed? src/store/schema.c)"
        rows = [(*PEOPLE[i], 1_000_003 + i) for i in range(1, SUBSCRIBERS + 1)]
        rows += [(name, 1, None, 2, json.dumps(pk), notes, 10 + k) for k, (name, pk, notes) in enumerate(people)]
        with con:
            con.executemany("INSERT INTO subscribers (name, enabled, expires, max_streams, packages, notes, token_id)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            con.executemany('INSERT INTO channels (name, title, number, "group", sources) VALUES (?, ?, ?, ?, ?)',
                            [(n, t, num, g, json.dumps(src)) for n, t, num, g, src in channels])
            con.executemany("INSERT INTO packages (name, title, channels) VALUES (?, ?, ?)",
                            [(n, t, json.dumps(c)) for n, t, c in packages])
        assert con.execute("SELECT count(*) FROM subscribers").fetchone()[0] == SUBSCRIBERS + len(people)
    finally:
        con.close()


def add_channels_fast(srv, count):
    """`count` channels with UDP ports nobody sends to, written into the
    database in one transaction with the revision bumped, as another server
    of a fleet would: the running server loads them at its next poll. (Through
    the API each write waits for that reload, a second each with 100,000
    subscribers under the sanitizers.)"""
    con = sqlite3.connect(srv.data_dir / "antenne.db", timeout=30)
    try:
        with con:
            con.executemany('INSERT INTO channels (name, title, number, "group", sources) VALUES (?, ?, ?, ?, ?)',
                            ((f"ch-{i:03d}", f"Channel {i}", 100 + i, "Bulk",
                              json.dumps([f"udp://127.0.0.1:{30000 + i}"])) for i in range(count)))
            con.execute("UPDATE meta SET value = value + 1 WHERE key = 'revision'")
    finally:
        con.close()


def make_guide(path, channels):
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    shows = ["Morning News", "Weather", "Talk at Noon", "Documentary: The Alps", "Evening News", "Late Film"]
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<tv generator-info-name="tests">']
    for ch, title in channels.items():   # matched by display name: our channels have no tvg-id
        out.append(f'<channel id="{ch}.example"><display-name>{escape(title)}</display-name></channel>')
        for h in range(-2, 10):
            start, stop = now + timedelta(hours=h), now + timedelta(hours=h + 1)
            out.append(f'<programme start="{start:%Y%m%d%H%M%S} +0000" stop="{stop:%Y%m%d%H%M%S} +0000" '
                       f'channel="{ch}.example"><title>{shows[h % len(shows)]}</title></programme>')
    out.append("</tv>")
    path.write_text("\n".join(out), encoding="utf-8")


def run_browser(tmp_path, config, timeout):
    """admin_ui.mjs with a config file; its JSON result (also kept beside the screenshots)."""
    cfg = tmp_path / f"admin-ui-{config['phase']}.json"
    cfg.write_text(json.dumps(config))
    try:
        r = subprocess.run(["node", str(BROWSER_DIR / "admin_ui.mjs"), str(cfg)], cwd=BROWSER_DIR,
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"admin_ui.mjs ({config['phase']}) did not finish in {timeout} s; "
                             f"stderr: {(e.stderr or b'')[-3000:]!r}") from None
    lines = [line for line in r.stdout.splitlines() if line.startswith("{")]
    assert lines, f"admin_ui.mjs printed no result (exit {r.returncode}): {r.stdout[-2000:]} {r.stderr[-3000:]}"
    res = json.loads(lines[-1])
    (tmp_path / f"admin-ui-{config['phase']}-result.json").write_text(json.dumps(res, indent=1))
    assert "harness" not in res, f"admin_ui.mjs failed: {res['harness']}\n{r.stderr[-3000:]}"
    return res


def step(res, name):
    """A step's facts; a step that threw fails the test with what it was doing."""
    s = res["steps"].get(name)
    assert s is not None, f"the browser did not get to step {name!r}; steps: {list(res['steps'])}; " \
                          f"errors: {res.get('pageErrors')}"
    assert "error" not in s, f"step {name!r} failed in the browser: {s['error']}\n" \
                             f"page errors: {res.get('pageErrors')}\nconsole: {res.get('console', [])[-10:]}"
    return s


def assert_png(path, min_bytes=5000):
    assert path.is_file() and path.stat().st_size >= min_bytes, f"screenshot {path} missing or empty"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"


@pytest.mark.time_limit(150)
def test_admin_ui_in_a_browser(request, server, media, web_dir, tmp_path):
    ensure_browser_deps()
    t_start = time.monotonic()
    srv = server(start=False, serve_args=["--web-dir", str(web_dir)])
    feeds = []
    request.addfinalizer(lambda: [f.stop() for f in feeds])
    lossy = UdpFeeder(media["demo"], free_port(socket.SOCK_DGRAM), max_seconds=140)   # loses packets: degraded
    feeds.append(lossy)
    lossy.mode = "cc"
    demo = f"file://{media['demo']}"
    fill_database(srv, channels=[
        ("sport", "Sport Live", 2, "Sport", [demo]),
        ("movies", "Movies 24", 3, "Film", [f"udp://127.0.0.1:{lossy.port}"]),
        ("kids", "Kids & Family", 4, "Family", [demo]),
        ("weather", "Weather Radar", 5, "News", [f"udp://127.0.0.1:{free_port(socket.SOCK_DGRAM)}"]),   # silent
        ("xss", XSS_TITLE, 9, "Tests", [demo]),
    ], packages=[
        ("basic", "Basic", ["sport", "kids", "weather"]),
        ("premium", "Premium", ["sport", "kids", "weather", "movies"]),
    ], people=[("anna", ["premium"], "Flat 4, pays yearly"), ("mallory", ["premium"], XSS_NOTE)])
    srv.start(timeout=30)
    token = srv.admin_token
    n_subscribers = SUBSCRIBERS + 2

    guide = tmp_path / "guide.xml"
    make_guide(guide, {"news": "News 24", "sport": "Sport Live", "kids": "Kids & Family", "movies": "Movies 24",
                       "weather": "Weather Radar"})
    r = srv.api("POST", "/api/v1/epg-sources", {"name": "guide", "url": f"file://{guide}", "refresh_hours": 12})
    assert r.status == 201, r
    # a new source with a refresh period is imported at once
    wait_until(lambda: (srv.api("GET", "/api/v1/epg-sources/guide").json().get("last_result") or "").startswith("ok"),
               20, what="the guide imported (log: epg: guide: ...)")
    srv.wait_state("sport", "up", timeout=20)
    srv.wait_state("movies", "degraded", timeout=20)

    # the feed of the channel the browser adds, and a subscriber watching sport (a session to kick)
    news_port = free_port(socket.SOCK_DGRAM)
    feeds.append(UdpFeeder(media["demo"], news_port, max_seconds=140))
    t = srv.api("POST", "/api/v1/subscribers/anna/tokens")
    assert t.status == 201, t
    watcher = Viewer(t.json()["stream_prefix"] + "sport.ts", duration=120, stall_timeout=60)
    watcher.start()
    request.addfinalizer(watcher.stop)
    assert watcher.connected.wait(10) and watcher.status == 200, f"anna's stream: {watcher.describe()}"
    wait_until(lambda: srv.api("GET", "/api/v1/sessions").json()["sessions"], 10, what="anna's session listed")

    shots = tmp_path / "screenshots"
    main = run_browser(tmp_path, {
        "phase": "main", "base": srv.url(""), "token": token, "wrongToken": "not-" + token[4:], "out": str(shots),
        "add": {"name": "news", "title": "News 24", "number": 1, "group": "News",
                "source": f"udp://127.0.0.1:{news_port}"},
        "xss": {"channel": "xss", "title": XSS_TITLE, "subscriber": "mallory", "note": XSS_NOTE},
        "subscriber": "anna", "epgSource": "guide", "degraded": "movies", "packaged": "sport",
        "edit": {"group": "News & Weather"},
        "newSubscriber": {"name": "zoe", "password": "first-pass", "newPassword": "second-pass", "maxStreams": 3,
                          "package": "basic", "notes": "added in the UI"},
        "newPackage": {"name": "sports-pack", "title": "Sports", "channel": "sport"},
    }, timeout=110)
    watcher_after_kick = watcher.eof or watcher.error
    watcher.stop()

    # 1. login
    s = step(main, "login")
    assert "401" in s["wrongMessage"] and "wrong" in s["wrongMessage"].lower(), s
    assert s["wrongStayed"] and s["loggedIn"], s
    # 2. the channel added through the form comes up
    s = step(main, "add")
    assert s["row"] and s["state"] == "up", s
    ch = s["stored"]
    assert ch and ch["title"] == "News 24" and ch["sources"] == [f"udp://127.0.0.1:{news_port}"] \
        and ch["number"] == 1 and ch["group"] == "News", ch
    # 3. preview and graph
    s = step(main, "channel")
    assert s["advanced"] >= 2, f"the preview did not play 2 s: {s}"
    assert s["canvas"]["width"] > 100 and s["canvas"]["height"] > 50, s
    assert s["graphPoints"] >= 2, s
    assert s["trRows"] == 11 and s["sourceInUse"], s
    s = step(main, "previewPackaged")
    assert s["advanced"] >= 1, s
    # (sport is in packages: without the admin token that preview gets nothing)
    for headers in ({}, {"Authorization": "Bearer wrong-" + token}):
        r = http_get(srv.url("/live/sport/index.m3u8"), headers=headers)
        assert r.status in (401, 403), f"/live/sport/index.m3u8 with {headers}: {r.status}"
    r = http_get(srv.url("/live/sport/index.m3u8"), headers={"Authorization": f"Bearer {token}"})
    assert r.status == 200 and r.text.startswith("#EXTM3U"), r
    s = step(main, "edit")
    assert s["message"].startswith("Saved"), s
    assert srv.channel("news")["group"] == "News & Weather", srv.channel("news")
    s = step(main, "offline")
    assert s["message"].startswith("Server not answering") and s["rows"] >= 6 and s["shown"] == 1, s
    assert s["recovered"].startswith("Live"), s
    # 4. XSS: text, never markup
    s = step(main, "xss")
    assert s["rowText"] == XSS_TITLE and s["pageTitle"] == XSS_TITLE, s
    assert s["noteValue"] == XSS_NOTE and XSS_NOTE in s["noteInList"], s
    assert s["injected"] == 0, f"markup from the data became elements: {s}"
    assert not main["dialogs"], f"a dialog fired: {main['dialogs']}"
    s = step(main, "remove")
    assert s["cancelled"] and s["rowLeft"] == 0 and srv.channel("xss") is None, s
    # sessions: the kick ends anna's stream and her row goes
    s = step(main, "sessions")
    assert s["rowsBefore"] >= 1 and s["gone"], s
    assert watcher_after_kick, f"anna's stream still runs after the kick: {watcher.describe()}"
    s = step(main, "newSubscriber")
    assert s["badge"] == "disabled" and s["password"] == "Password changed.", s
    zoe = srv.api("GET", "/api/v1/subscribers/zoe").json()
    assert zoe["enabled"] is False and zoe["packages"] == ["basic"] and zoe["max_streams"] == 3 \
        and zoe["notes"] == "added in the UI", zoe
    # the password reset took: the new one is right (403: but she is disabled), the old one wrong
    r = srv.api("POST", "/api/v1/portal/login", {"username": "zoe", "password": "second-pass"}, token=False)
    assert r.status == 403 and "disabled" in r.text, f"zoe's new password: {r.status} {r.body!r}"
    r = srv.api("POST", "/api/v1/portal/login", {"username": "zoe", "password": "first-pass"}, token=False)
    assert r.status == 401, f"zoe's old password: {r.status} {r.body!r}"
    s = step(main, "subscriber")
    assert "/get/playlist.m3u?token=" in s["playlistUrl"] and s["packages"] >= 2, s
    s = step(main, "epg")
    assert s["result"].startswith("ok"), s
    s = step(main, "packages")
    assert s["rows"] == 2 and s["saved"].startswith("Saved") and s["inPackage"] == ["sport"], s
    assert s["leftAfterDelete"] == 0 and srv.api("GET", "/api/v1/packages/sports-pack").status == 404, s
    s = step(main, "events")
    assert s["rows"] >= 1 and s["filtered"] >= 1 and "degraded" in s["kinds"], s
    s = step(main, "phone")
    assert s["pageWidth"] <= 360 + 1, f"the page is wider than a 360 px phone: {s}"
    s = step(main, "keyboard")
    assert s["reachedNav"] and s["hash"] == "#/packages" and s["next"]["inMain"], f"keyboard only: {s}"
    for page in ("dashboard", "channel", "subscribers", "subscriber", "packages", "sessions", "epg", "events",
                 "dashboard-phone"):
        assert_png(shots / f"{page}.png")
    assert not main["pageErrors"], f"uncaught errors in the page: {main['pageErrors']}"

    n_subscribers += 1   # zoe

    # -- 5. speed: 200 more channels (UDP ports nobody sends to)
    t0 = time.monotonic()   # what one API write costs with 100,000 subscribers (reported)
    assert srv.api("PATCH", "/api/v1/channels/weather", {"group": "Weather"}).status == 200
    write_ms = round((time.monotonic() - t0) * 1000)
    before = len(srv.api("GET", "/api/v1/channels").json()["channels"])
    add_channels_fast(srv, EXTRA_CHANNELS)
    total_channels = wait_until(lambda: (n := len(srv.api("GET", "/api/v1/channels").json()["channels"]))
                                >= before + EXTRA_CHANNELS and n, 20, what=f"{EXTRA_CHANNELS} more channels loaded")
    term = subscriber_name(42420).split("-", 1)[1][:-1]    # e.g. "weber-4242": a dozen of them
    matches = sorted(n for n in (subscriber_name(i) for i in range(1, SUBSCRIBERS + 1)) if term in n)
    speed = run_browser(tmp_path, {"phase": "speed", "base": srv.url(""), "token": token, "out": str(shots),
                                   "channels": total_channels, "subscribers": n_subscribers, "term": term,
                                   "matches": len(matches), "firstMatch": matches[0] if matches else ""},
                        timeout=90)
    for feed in feeds:
        feed.stop()
    d = step(speed, "dashboard")
    sub = step(speed, "subscribers")
    timings = {"channels": total_channels, "dashboard_ms": d["ms"], "dashboard_split": d["split"],
               "dashboard_filter_ms": d["filterMs"],
               "dashboard_longest_task_ms": d["longestTaskMs"], "subscribers": n_subscribers,
               "subscribers_first_page_ms": sub["firstPageMs"], "subscribers_search_ms": sub["searchMs"],
               "subscribers_search_after_typing_ms": sub["searchAfterInputMs"], "subscribers_next_page_ms": sub["nextMs"],
               "api_write_ms": write_ms, "seconds_so_far": round(time.monotonic() - t_start, 1)}
    (shots / "ui-timings.json").write_text(json.dumps(timings, indent=1))
    print("\nadmin UI timings:", json.dumps(timings))
    assert d["rows"] == total_channels, d
    assert d["ms"] < 10_000 and sub["firstPageMs"] < 10_000 and sub["searchMs"] < 10_000, timings
    assert sub["range"] == f"1–50 of {n_subscribers:,}", sub
    assert sub["searchRange"] == f"1–{min(50, len(matches))} of {len(matches):,}" and sub["firstRow"] == matches[0], \
        (sub, matches[:3])

    # -- 7. the admin pages' API calls without a token or with a wrong one: 401
    for method, path in ADMIN_CALLS:
        for tok in (False, "wrong-" + token):
            r = srv.api(method, path, body={} if method in ("POST", "PATCH") else None, token=tok)
            assert r.status == 401, f"{method} {path} with {'a wrong' if tok else 'no'} token: {r.status} {r.body!r}"
    assert srv.api("GET", "/api/v1/subscribers/mallory").status == 200   # nothing was deleted by the 401 calls

    if os.environ.get("ANTENNE_UPDATE_SCREENSHOTS") == "1":
        for page in ("dashboard", "subscribers"):
            shutil.copyfile(shots / f"{page}.png", REPO / "docs" / f"screenshot-{page}.png")
