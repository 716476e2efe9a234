# SPDX-License-Identifier: MIT
"""The whole story of issue 7 through the pages, end to end, in one run of
Debian's headless Chromium (tests/browser/ui_flow.mjs, playwright-core):

1. the operator opens /admin/ and logs in with the admin token;
2. adds a channel with the "Add channel" form (a file playout of demo.ts) and
   sees its row come up on the dashboard;
3. adds an EPG source on the EPG page (an XMLTV file written here with now and
   next for that channel, matched by its title, and a guide channel that
   matches nothing), presses "Refresh now" and sees the import's result;
4. creates a package with the channel, and a subscriber with a password and
   that package;
5. a viewer, in a second browser context, logs into / as that subscriber, sees
   exactly that channel (the server has another one, in another package) with
   the guide's now/next titles, and plays it: currentTime advances 2 s;
6. the operator kicks the viewer's session on the Sessions page; the viewer's
   player stops within 15 s, says why, and stays still.
7. Screenshots of every step go to TMP/ui-flow/ (NN-step.png), with the
   browser's observations (observations.json).

The API is used only for what a user cannot see: what the server stored, and
that the session is gone on the server too.
"""

import json
import os
import subprocess
import time
from xml.sax.saxutils import escape

import pytest

from harness import tail
from hls_harness import BROWSER_DIR, CHROMIUM, ensure_browser_deps

CHANNEL = {"name": "lokal", "title": "Lokal TV", "number": 7, "group": "Regional"}
OTHER = {"name": "sport", "title": "Sport Arena", "package": "premium"}   # on the server, not for this viewer
NOW_TITLE = "Regional News at Noon"
NEXT_TITLE = "Weather & Traffic"
EPG_SOURCE = "lokal-guide"
PACKAGE = {"name": "regional", "title": "Regional"}
VIEWER = {"name": "vera", "password": "vera-pw-74"}
SHOTS = ["01-admin-login", "02-dashboard-channel-up", "03-epg-imported", "04-package", "05-subscriber-form",
         "06-subscriber", "07-portal-channels", "08-portal-playing", "09-admin-sessions", "10-portal-stopped",
         "11-admin-after-kick"]


def xmltv_time(t):
    return time.strftime("%Y%m%d%H%M%S +0000", time.gmtime(t))


def write_guide(path, now):
    """Now (started 10 min ago) and next for the channel, matched by display
    name (the "Add channel" form sets no tvg-id); and one guide channel that
    matches none of ours, whose programme must not be stored."""
    progs = [("lokal.example", now - 600, now + 1200, NOW_TITLE), ("lokal.example", now + 1200, now + 3000, NEXT_TITLE),
             ("elsewhere.example", now - 600, now + 1200, "Somebody Else's Show")]
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<tv generator-info-name="antenne tests">',
           f'<channel id="lokal.example"><display-name>{escape(CHANNEL["title"])}</display-name></channel>',
           '<channel id="elsewhere.example"><display-name>Elsewhere TV</display-name></channel>']
    for ch, start, stop, title in progs:
        out.append(f'<programme start="{xmltv_time(start)}" stop="{xmltv_time(stop)}" channel="{ch}">'
                   f'<title lang="en">{escape(title)}</title></programme>')
    out.append("</tv>")
    path.write_text("\n".join(out), encoding="utf-8")


def step(obs, name):
    """A step's facts; one that failed (or was never reached) fails the test with what the browser saw."""
    s = obs["steps"].get(name)
    assert s is not None, f"the story did not get to step {name!r} (it failed at {obs.get('failed')!r}: " \
                          f"{(obs['steps'].get(obs.get('failed')) or {}).get('error')})"
    assert "error" not in s, f"step {name!r} failed in the browser: {s['error']}\nfacts: {json.dumps(s)[:3000]}\n" \
                             f"page errors: {obs['pageErrors']}\nconsole: {obs['console'][-10:]}"
    return s


@pytest.mark.time_limit(100)
def test_operator_and_viewer_story(server, media, web_dir, tmp_path):
    ensure_browser_deps()
    t_start = time.monotonic()
    srv = server(start=False, serve_args=["--web-dir", str(web_dir)])
    # another channel, in a package the viewer will not have: the portal must not show it
    srv.add_channel(OTHER["name"], f"file://{media['demo']}",
                    extra=["--title", OTHER["title"], "--number", "2", "--on-demand"])
    srv.cli_ok("package", "add", OTHER["package"], "--title", "Premium", "--channel", OTHER["name"])
    srv.start()
    source = f"file://{media['demo']}"
    guide = tmp_path / "guide.xml"
    write_guide(guide, int(time.time()))

    out = tmp_path / "ui-flow"
    cfg = {"base": srv.url(""), "adminToken": srv.admin_token, "out": str(out), "chromium": CHROMIUM,
           "channel": {**CHANNEL, "source": source}, "epg": {"name": EPG_SOURCE, "url": f"file://{guide}"},
           "package": PACKAGE, "subscriber": VIEWER}
    (tmp_path / "ui-flow.json").write_text(json.dumps(cfg))
    t_browser = time.monotonic()
    try:
        r = subprocess.run(["node", str(BROWSER_DIR / "ui_flow.mjs"), str(tmp_path / "ui-flow.json")],
                           cwd=BROWSER_DIR, capture_output=True, text=True, timeout=80, env=dict(os.environ, TZ="UTC"))
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"ui_flow.mjs did not finish in 80 s; stderr: {tail(e.stderr or '', 4000)}") from None
    lines = [line for line in r.stdout.splitlines() if line.startswith("{")]
    assert lines, f"ui_flow.mjs printed no JSON (exit {r.returncode}):\n{tail(r.stdout, 3000)}\n{tail(r.stderr, 5000)}"
    obs = json.loads(lines[-1])
    out.mkdir(exist_ok=True)
    (out / "observations.json").write_text(json.dumps(obs, indent=1))
    print(f"\nui_flow.mjs: {time.monotonic() - t_browser:.1f} s in the browser, "
          f"{time.monotonic() - t_start:.1f} s in all; artefacts in {out}")
    assert r.returncode == 0 and "harness" not in obs, \
        f"ui_flow.mjs failed ({r.returncode}): {obs.get('harness')}\nstderr:\n{tail(r.stderr, 5000)}"

    # 1. logged in with the token: the navigation appears, the dashboard is the landing page
    s = step(obs, "adminLogin")
    assert s["navHiddenBefore"] and s["navVisible"], s

    # 2. the channel from the form, stored as typed, and up on the dashboard
    s = step(obs, "addChannel")
    assert s["message"] == f"Channel {CHANNEL['name']} added.", s
    assert s["state"] == "up" and s["rowTitle"] == CHANNEL["title"] and s["rowSource"] == source, s
    ch = srv.channel(CHANNEL["name"])
    assert ch is not None, "the channel added in the form is not on the server"
    assert (ch["title"], ch["number"], ch["group"], ch["sources"]) == \
        (CHANNEL["title"], CHANNEL["number"], CHANNEL["group"], [source]), ch

    # 3. the EPG source: nothing imported until "Refresh now", then the result of the import
    s = step(obs, "epg")
    assert s["added"].startswith(f"Source {EPG_SOURCE} added"), s
    assert s["resultBefore"] == "" and s["lastBefore"] == "never", f"imported before Refresh now was pressed: {s}"
    assert s["message"].startswith("Imported at"), s
    assert s["result"].startswith("ok: 2 programmes for 1 of 2 guide channels"), \
        f"the import should store now+next of {CHANNEL['title']} only: {s}"
    src = srv.api("GET", f"/api/v1/epg-sources/{EPG_SOURCE}").json()
    assert src["url"] == f"file://{guide}" and src["refresh_hours"] == 0 and src["last_result"] == s["result"], src

    # 4. the package holds the channel; the subscriber has the password and the package
    s = step(obs, "package")
    assert set(s["offered"]) == {CHANNEL["name"], OTHER["name"]}, s
    assert s["saved"] == "Saved: 1 channels." and s["ticked"] == [CHANNEL["name"]], s
    assert srv.api("GET", f"/api/v1/packages/{PACKAGE['name']}").json()["channels"] == [CHANNEL["name"]]
    s = step(obs, "subscriber")
    assert s["badge"] == "enabled" and s["packages"] == [PACKAGE["name"]], s
    sub = srv.api("GET", f"/api/v1/subscribers/{VIEWER['name']}").json()
    assert sub["enabled"] is True and sub["packages"] == [PACKAGE["name"]], sub

    # 5. the viewer: exactly that one channel, with now/next from the guide; it plays
    s = step(obs, "viewerLogin")
    assert s["loginError"] == "" and VIEWER["name"] in s["who"], s
    assert [t["channel"] for t in s["tiles"]] == [CHANNEL["name"]], f"the viewer should see {CHANNEL['name']} only: {s}"
    tile = s["tiles"][0]
    assert tile["title"] == CHANNEL["title"] and tile["now"] == NOW_TITLE and tile["next"] == NEXT_TITLE, tile
    s = step(obs, "play")
    assert s["hash"] == f"#/watch/{CHANNEL['name']}" and CHANNEL["title"] in s["heading"], s
    assert s["advanced"] >= 2 and s["player"]["state"] == "playing", f"the channel did not play 2 s: {s}"
    assert NOW_TITLE in s["info"], s

    # 6. the operator sees the session and kicks it; the viewer's player stops, says why, stays still
    s = step(obs, "sessions")
    mine = [row for row in s["rows"] if row["cells"][0] == VIEWER["name"]]
    assert len(mine) == 1 and mine[0]["cells"][1] == CHANNEL["name"], f"the viewer's session on the page: {s['rows']}"
    assert s["adminMessage"] == f"Session {s['id']} kicked." and s["viewerRowsLeft"] == 0, s
    before = s["playerBeforeKick"]
    assert before["state"] == "playing" and before["ct"] > obs["steps"]["play"]["ct1"], \
        f"the player was not playing any more when the operator kicked: {before}"
    s = step(obs, "kick")
    stop = s["atStop"]
    assert stop["state"] == "stopped" and s["stoppedAfterMs"] <= 15000, f"the player did not stop in 15 s: {s}"
    assert stop["message"].startswith("Playback stopped: ") and "operator" in stop["message"] and s["messageVisible"], s
    assert s["retryVisible"], s
    assert not s["movedAgain"], f"the stopped player moved again: {s}"
    later = s["later"]
    assert later["state"] == "stopped" and later["ct"] <= stop["ct"] + 0.05 and later["paused"] \
        and later["readyState"] == 0, f"the stopped player still has media: {(stop, later)}"
    assert s["viewerRowsAfter"] == 0, f"the kicked session came back on the Sessions page: {s}"
    left = srv.api("GET", f"/api/v1/sessions?subscriber={VIEWER['name']}").json()["sessions"]
    assert left == [], f"the server still has the viewer's session: {left}"

    # the pages ran clean; 7. a screenshot of every step
    assert not obs["pageErrors"] and not obs["dialogs"], (obs["pageErrors"], obs["dialogs"])
    assert not [c for c in obs["console"] if "Content Security Policy" in c], obs["console"]
    for name in SHOTS:
        p = out / f"{name}.png"
        assert p.is_file() and p.stat().st_size > 5000 and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", p
    srv.assert_alive()
