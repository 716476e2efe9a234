# SPDX-License-Identifier: MIT
"""The viewer portal at / (issue 7) in a real browser: Debian's headless
Chromium, driven by tests/browser/portal_ui.mjs as a viewer with a mouse and
a TV remote's keys would use it.

A server with real channels (file playouts), a guide, an archive and
subscribers in packages: alice (basic: `news`, recorded, and a channel whose
title is a script tag), bob (premium: `sport`), carol (disabled), dave
(expired) and `demo` (a fuller line-up for the screenshot in the docs). In
the browser: the login refuses in words (disabled, expired, wrong password,
then "too many attempts" with a countdown); alice sees only her channels
with now/next from the guide, names render as text; catch-up lists the
recorded programme and plays it from the archive; the live channel plays;
the operator kicks her session on /admin/#/sessions and the portal's player
visibly stops with the server's reason. Outside the browser, her token
opens nothing else. Screenshots of each step are kept with the test's
temporary folder; ANTENNE_UPDATE_SCREENSHOTS=1 also writes
docs/screenshot-portal.png."""

import functools
import http.server
import json
import os
import re
import shutil
import struct
import subprocess
import threading
import time
from xml.sax.saxutils import escape

import pytest

from harness import REPO, free_port, http_get, tail
from hls_harness import BROWSER_DIR, CHROMIUM, ensure_browser_deps

XSS_TITLE = "<script>alert(1)</script>"
XSS_PROGRAMME = "<img src=x onerror=alert(1)>"
USERS = {"alice": "alice-pw-1", "bob": "bob-pw-2", "carol": "carol-pw-3", "dave": "dave-pw-4", "demo": "demo-pw-5"}
DOCS_SHOT = REPO / "docs" / "screenshot-portal.png"

# name: (number, title, group, on demand, packages, logo colour or None)
CHANNELS = {
    "news": (1, "News 24", "News", False, ["basic", "showcase"], "#c62828"),
    "sport": (2, "Sport Arena", "Sport", False, ["premium", "showcase"], "#2e7d32"),
    "xss": (3, XSS_TITLE, "", True, ["basic"], None),
    "cinema": (4, "Cinema Classics", "Movies", True, ["showcase"], "#4a148c"),
    "kids": (5, "Kids Club", "Kids", True, ["showcase"], "#f9a825"),
    "music": (6, "Music Hits", "Music", True, ["showcase"], "#ad1457"),
    "planet": (7, "Planet Docs", "Documentary", True, ["showcase"], "#00695c"),
    # no signal (its file is missing), and a logo URL that answers 404
    "weather": (9, "Weather Now", "Weather", False, ["basic"], "broken"),
}

# name: [(minutes from now to start, minutes long, title)] -- now and next
SCHEDULE = {
    "news": [(-2, 28, "Midday News"), (26, 30, "Weather & Traffic")],
    "sport": [(-50, 95, "Champions Night: Live"), (45, 60, "Goals of the Week")],
    "xss": [(-10, 30, XSS_PROGRAMME), (20, 30, "Late Show")],
    "cinema": [(-70, 112, "The Long Goodbye (1973)"), (42, 102, "Casablanca (1942)")],
    "kids": [(-12, 25, "Moon Patrol Adventures"), (13, 25, "The Science Lab")],
    "music": [(-33, 60, "Top 40 Countdown"), (27, 45, "Unplugged Sessions")],
    "planet": [(-25, 60, "Oceans: The Deep Blue"), (35, 50, "Wild Alps")],
    "weather": [(-15, 30, "Weather Outlook"), (15, 15, "Marine Forecast")],
}
MINE = {"news", "xss", "weather"}     # alice's channels (package basic)
CATCHUP_TITLE = "Morning Briefing"
NOT_RECORDED = "Night News"


def xmltv_time(t):
    return time.strftime("%Y%m%d%H%M%S +0000", time.gmtime(t))


def write_guide(path, now, recorded_from):
    """Now and next of every channel, and for `news` two past programmes: one
    inside the recording imported at `recorded_from` (30 s), one before it."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<tv generator-info-name="antenne tests">']
    for name, (_, title, *_rest) in CHANNELS.items():
        out.append(f'<channel id="{name}.test"><display-name>{escape(title)}</display-name></channel>')
    progs = {name: [(now + a * 60, now + (a + b) * 60, t) for a, b, t in slots] for name, slots in SCHEDULE.items()}
    progs["news"] += [(now - 3 * 3600, recorded_from - 120, NOT_RECORDED),
                      (recorded_from + 2, recorded_from + 22, CATCHUP_TITLE),
                      (recorded_from + 22, now - 120, "Market Report")]
    for name, items in progs.items():
        for start, stop, title in sorted(items):
            out.append(f'<programme start="{xmltv_time(start)}" stop="{xmltv_time(stop)}" channel="{name}.test">'
                       f'<title lang="en">{escape(title)}</title><desc>{escape(title)}: the programme.</desc>'
                       f'</programme>')
    out.append("</tv>")
    path.write_text("\n".join(out), encoding="utf-8")


def write_logos(folder):
    """A logo for every channel with a colour: its initials on a rounded square (SVG)."""
    folder.mkdir()
    for name, spec in CHANNELS.items():
        colour = spec[5]
        if colour and colour.startswith("#"):
            initials = "".join(w[0] for w in spec[1].split()[:2]).upper()
            (folder / f"{name}.svg").write_text(
                f'<svg xmlns="http://www.w3.org/2000/svg" width="160" height="110" viewBox="0 0 160 110">'
                f'<rect width="160" height="110" rx="18" fill="{colour}"/><text x="80" y="72" font-family="sans-serif" '
                f'font-size="52" font-weight="700" fill="#fff" text-anchor="middle">{initials}</text></svg>')


@pytest.fixture
def logo_server(tmp_path):
    """Channel logos on another origin (as a provider's CDN would hold them)."""
    write_logos(tmp_path / "logos")
    handler = functools.partial(QuietFiles, directory=str(tmp_path / "logos"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


@pytest.fixture
def portal(server, media, web_dir, tmp_path, logo_server):
    """The server, set up through the CLI before it starts (the archive import needs it stopped)."""
    now = int(time.time())
    recorded_from = now - 600
    srv = server(start=False, serve_args=["--web-dir", str(web_dir)])
    for name, (number, title, group, on_demand, _, logo) in CHANNELS.items():
        extra = ["--title", title, "--number", str(number), "--tvg-id", f"{name}.test"]
        if group:
            extra += ["--group", group]
        if on_demand:
            extra.append("--on-demand")
        if name == "news":
            extra.append("--archive")
        if logo:
            extra += ["--logo", f"{logo_server}/{name}.svg"]
        source = tmp_path / "missing.ts" if name == "weather" else media["demo"]
        srv.add_channel(name, f"file://{source}", extra=extra)
    r = srv.cli_ok("channel", "archive-import", "news", str(media["demo"]), "--start", str(recorded_from))
    assert "imported" in r.stdout, r.stdout
    write_guide(tmp_path / "guide.xml", now, recorded_from)
    srv.cli_ok("epg", "add", "main", "--url", f"file://{tmp_path / 'guide.xml'}")
    srv.cli_ok("epg", "import", "main")
    for package in ("basic", "premium", "showcase"):
        args = ["package", "add", package, "--title", package.title()]
        for name, spec in CHANNELS.items():
            if package in spec[4]:
                args += ["--channel", name]
        srv.cli_ok(*args)
    subs = {"alice": ["--package", "basic"], "bob": ["--package", "premium"],
            "carol": ["--package", "basic", "--no-enabled"], "dave": ["--package", "basic", "--expires", "2020-01-31"],
            "demo": ["--package", "showcase", "--max-streams", "0"]}
    for name, extra in subs.items():
        srv.cli_ok("subscriber", "add", name, "--password", USERS[name], *extra)
    srv.start()
    for name in ("news", "sport"):
        srv.wait_state(name, "up", timeout=20)
    srv.wait_state("weather", "down", timeout=20)
    return srv, recorded_from


def run_portal_ui(srv, tmp_path, recorded_from):
    ensure_browser_deps()
    out = tmp_path / "portal"
    cfg = {
        "base": srv.url(""), "adminToken": srv.admin_token, "outDir": str(out), "chromium": CHROMIUM,
        "docsShot": str(out / "screenshot-portal.png"),
        "users": {n: {"name": n, "password": p} for n, p in USERS.items()},
        "channels": {"mine": "news", "other": "sport", "xss": "xss"},
        "texts": {"mineTitle": "News 24", "now": "Midday News", "next": "Weather & Traffic", "xssTitle": XSS_TITLE,
                  "xssProgramme": XSS_PROGRAMME, "catchup": CATCHUP_TITLE, "notRecorded": NOT_RECORDED},
        "catchupStart": recorded_from + 2,
        "demoTitles": [SCHEDULE[n][0][2] for n in ("news", "sport", "cinema", "kids", "music", "planet")],
    }
    (tmp_path / "portal.json").write_text(json.dumps(cfg))
    t0 = time.monotonic()
    r = subprocess.run(["node", str(BROWSER_DIR / "portal_ui.mjs"), str(tmp_path / "portal.json")], cwd=BROWSER_DIR,
                       capture_output=True, text=True, timeout=150, env=dict(os.environ, TZ="UTC"))
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    assert lines, f"portal_ui.mjs printed no JSON (exit {r.returncode}):\n{tail(r.stdout, 3000)}\n{tail(r.stderr, 5000)}"
    obs = json.loads(lines[-1])
    (out / "observations.json").write_text(json.dumps(obs, indent=1))
    print(f"portal_ui.mjs: {time.monotonic() - t0:.1f} s; steps {obs.get('steps')}; artefacts in {out}")
    assert r.returncode == 0 and not obs.get("failure"), \
        f"portal_ui.mjs failed ({r.returncode}): {obs.get('failure')}\nstderr:\n{tail(r.stderr, 5000)}\n" \
        f"observations: {json.dumps(obs)[:6000]}"
    return obs, out


@pytest.mark.time_limit(150)
def test_portal_in_a_browser(portal, tmp_path):
    srv, recorded_from = portal
    obs, out = run_portal_ui(srv, tmp_path, recorded_from)
    brief = json.dumps({k: v for k, v in obs.items() if k not in ("console", "steps")})[:4000]

    # the page ran without script errors and without breaking its Content-Security-Policy
    assert not obs["pageErrors"], obs["pageErrors"]
    assert not [c for c in obs["console"] if "Content Security Policy" in c], obs["console"]

    # 1. refusals in words; too many wrong passwords: the rate limit with its countdown
    assert "disabled" in obs["disabled"]["error"] and not obs["disabled"]["loggedIn"], obs["disabled"]
    assert "expired" in obs["expired"]["error"] and not obs["expired"]["loggedIn"], obs["expired"]
    wrong = obs["wrong"]
    assert wrong[0]["error"] == "Wrong username or password.", wrong
    assert re.fullmatch(r"Too many attempts\. Try again in \d+ s\.", wrong[-1]["error"]) and wrong[-1]["submitDisabled"], \
        wrong
    assert len(wrong) <= 7, f"no rate limit after {len(wrong)} wrong passwords: {wrong}"
    assert obs["afterCountdown"] == "You can try again now.", obs["afterCountdown"]

    # 2. alice sees only her channels, with now/next from the guide and names as text
    assert obs["aliceLogin"]["loggedIn"], obs["aliceLogin"]
    tiles = {t["channel"]: t for t in obs["tiles"]}
    assert set(tiles) == MINE, f"alice's grid shows {sorted(tiles)}, expected {sorted(MINE)} only"
    news = tiles["news"]
    assert "News 24" in news["text"] and "Midday News" in news["text"] and "Weather & Traffic" in news["text"], news
    assert news["bar"] is not None and 0 <= news["bar"] <= 100 and news["catchup"], news
    assert news["logo"] == "img" and news["logoWidth"] == 160, news
    # off air in words; its logo does not load: the number instead; no logo at all: the number too
    weather = tiles["weather"]
    assert "Off air" in weather["text"] and "Weather Outlook" in weather["text"] and not weather["catchup"], weather
    assert weather["logo"] == "span" and tiles["xss"]["logo"] == "span", (weather, tiles["xss"])
    assert XSS_TITLE in tiles["xss"]["text"] and XSS_PROGRAMME in tiles["xss"]["text"], tiles["xss"]
    assert obs["xss"] == {"textShown": True, "imgX": 0, "scripts": 0, "onerrorAttrs": 0}, obs["xss"]
    assert not obs["dialogs"], f"a script from the data ran: {obs['dialogs']}"
    token = obs["aliceToken"]
    assert token and "antenne.portal" not in obs["storage"]["local"], obs["storage"]
    for view, seen in obs["phone"].items():
        assert seen["scrollWidth"] <= 360, f"{view} is wider than a 360 px phone: {seen}"
    assert obs["tv"]["fontSize"] == 20 and obs["tv"]["tileWidth"] >= 400 and obs["tv"]["scrollWidth"] <= 1920, obs["tv"]

    # 5. catch-up, reached with the arrow keys: the recorded programme plays from the archive
    assert obs["keys"][-1] == "a.tile-catchup@news", f"arrow keys went {obs['keys']}"
    progs = obs["programmes"]
    rec = [p for p in progs if CATCHUP_TITLE in p["text"]]
    old = [p for p in progs if NOT_RECORDED in p["text"]]
    assert rec and rec[0]["playable"], progs
    assert old and not old[0]["playable"] and "Not recorded" in old[0]["text"], progs
    assert obs.get("catchupPlay", {}).get("advanced", 0) >= 2, f"the recording did not play: {obs.get('catchupPlay')}"
    assert CATCHUP_TITLE in obs["catchupPlaying"], obs["catchupPlaying"]

    # 2. live: Escape goes back with the focus on the channel, Enter plays it
    assert obs["focusAfterBack"] == "button.tile-play@news", obs["focusAfterBack"]
    assert obs["watchHash"] == "#/watch/news", obs["watchHash"]
    assert set(obs["phone"]) == {"grid", "catchup", "watch"}, obs["phone"]
    assert obs["live"]["advanced"] >= 2 and not obs["live"].get("stopped"), f"live did not play: {obs['live']}"
    assert "Midday News" in obs["watchInfo"], obs["watchInfo"]

    # 3. kicked on /admin/#/sessions: the player stops, says why, and stays stopped
    kick = obs["kick"]
    assert kick["via"] == "admin-ui" and kick["kicked"], f"kick in the operator UI failed: {obs.get('adminUiKick')}"
    after = obs["afterKick"]
    assert after["state"] == "stopped" and after["seconds"] <= 15, f"the player did not stop: {after}"
    assert after["message"].startswith("Playback stopped: ") and "operator" in after["message"], after
    later = obs["threeSecondsLater"]
    assert later["state"] == "stopped" and later["ct"] <= after["ct"] + 0.05, (after, later)
    assert obs["retryVisible"], brief
    # zapping down: the channel before (by number) is off air, said at once instead of spinning ...
    off = obs["offAir"]
    assert off["hash"] == "#/watch/weather" and "Weather Now" in off["heading"] and "Off air" in off["info"], off
    assert off.get("player") and off["player"]["message"].startswith("Off air: Weather Now has no signal"), off
    assert off["seconds"] <= 5, off
    # ... and the one before that plays: the kick held only the kicked channel
    zap = obs["zap"]
    assert zap["hash"] == "#/watch/xss" and XSS_TITLE in zap["heading"], zap
    assert zap["play"]["advanced"] >= 1, f"after zapping nothing played: {zap['play']}"
    # disabled by the operator: the portal drops the login and says why
    rev = obs["revoke"]
    assert rev["status"] == 200 and rev["note"] and "disabled" in rev["note"] and rev["seconds"] <= 20, rev
    assert rev["storage"] is None, rev
    assert srv.api("PATCH", "/api/v1/subscribers/alice", {"enabled": True}).status == 200

    # 4. her token opens nothing but her own things
    auth = {"Authorization": f"Bearer {token}"}
    r = http_get(srv.url("/api/v1/portal/channels"), headers=auth)
    assert r.status == 200 and {c["name"] for c in r.json()["channels"]} == MINE, r
    assert http_get(srv.url("/api/v1/portal/channels/news/epg"), headers=auth).status == 200
    for name in ("sport", "nosuch"):
        r = http_get(srv.url(f"/api/v1/portal/channels/{name}/epg"), headers=auth)
        assert r.status == 404 and r.json()["error"] == f"channel '{name}' not found", (name, r)
    r = http_get(srv.url(f"/t/{token}/live/sport/index.m3u8"))
    assert r.status in (403, 404) and b"#EXTM3U" not in r.body, r
    r = http_get(srv.url(f"/t/{token}/live/sport.ts"), timeout=3, max_body=4096)
    assert r.status in (403, 404) and not r.body.startswith(b"\x47"), r
    for path in ("/api/v1/channels", "/api/v1/subscribers", "/api/v1/sessions"):
        assert http_get(srv.url(path), headers=auth).status == 401, path
    for headers in ({}, {"Authorization": "Bearer AAAAgarbage"}, {"Authorization": f"Bearer {token[:-4]}AAAA"}):
        for path in ("/api/v1/portal/channels", "/api/v1/portal/me", "/api/v1/portal/channels/news/epg"):
            assert http_get(srv.url(path), headers=headers).status == 401, (path, headers)

    # 6. screenshots, and the one for the docs: 1280x800, the line-up with what is on
    for name in ("01-login.png", "02-login-too-many.png", "03-grid.png", "04-grid-phone.png",
                 "05-catchup-list.png", "06-catchup-player.png", "07-player.png", "08-player-stopped.png",
                 "09-player-off-air.png", "10-logged-out.png", "12-my-playlist.png"):
        assert (out / name).stat().st_size > 5000, name
    assert png_size(obs["docsShot"]) == (1280, 800)
    assert obs["demoLogin"]["loggedIn"] and not obs["demoMissing"], (obs["demoLogin"], obs["demoMissing"])
    assert obs["rename"] == {"status": 200, "after5s": False, "after61s": True}, \
        f"now/next and titles are not refreshed every 60 s: {obs['rename']}"
    assert "/get/playlist.m3u?token=" in obs["me"]["playlist"] and "/get/epg.xml" in obs["me"]["epg"], obs["me"]
    if os.environ.get("ANTENNE_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(obs["docsShot"], DOCS_SHOT)
