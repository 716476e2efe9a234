# SPDX-License-Identifier: MIT
"""The programme guide (issue 4): XMLTV imported from a file or an http URL,
on request and on its schedule; each subscriber's guide with only their
channels, valid for the XMLTV project's validator and the DTD; atomic imports
that name the line of what was wrong."""

import functools
import gzip
import http.server
import os
import shutil
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from harness import http_get, wait_until
from test_40_subscribers import playlist_for, setup_catalogue, token_of

DTD = "/usr/share/xmltv/xmltv.dtd"


def xmltv_time(t, offset_hours=0):
    tz = timezone(timedelta(hours=offset_hours))
    return t.astimezone(tz).strftime("%Y%m%d%H%M%S ") + ("+" if offset_hours >= 0 else "-") + \
        f"{abs(offset_hours):02d}00"


def make_guide(path, title_prefix="", extra=""):
    """news.test and sport.test (our tvg-ids) and other.test (not ours): an hour
    programmes from 3 h ago to 12 h ahead, times in +0100 and -0500."""
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<!DOCTYPE tv SYSTEM "xmltv.dtd">',
           '<tv generator-info-name="tests">']
    for ch in ("news", "sport", "other"):
        out.append(f'<channel id="{ch}.test"><display-name lang="en">{ch.title()}</display-name></channel>')
    for ch, off in (("news", 1), ("sport", -5), ("other", 0)):
        for h in range(-3, 12):
            start, stop = now + timedelta(hours=h), now + timedelta(hours=h + 1)
            out.append(f'<programme start="{xmltv_time(start, off)}" stop="{xmltv_time(stop, off)}" '
                       f'channel="{ch}.test"><title lang="en">{title_prefix}{ch} at {start:%H}:00 &amp; more'
                       f'</title><desc>About {ch}.</desc><category>News</category></programme>')
    out.append(extra)
    out.append("</tv>")
    path.write_text("\n".join(out), encoding="utf-8")
    return now


def validate(xml_path):
    """tv_validate_file and xmllint --dtdvalid, both from Debian."""
    assert shutil.which("tv_validate_file"), "tv_validate_file missing (apt install xmltv-util)"
    # XMLTV_SUPPLEMENT: the DTD from the package, not from xmltv.org (no network here)
    env = dict(os.environ, XMLTV_SUPPLEMENT="/usr/share/xmltv")
    r = subprocess.run(["tv_validate_file", str(xml_path)], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, f"tv_validate_file: {r.stdout}{r.stderr}"
    r = subprocess.run(["xmllint", "--noout", "--dtdvalid", DTD, str(xml_path)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, f"xmllint --dtdvalid: {r.stderr}"


def add_source(srv, name, url, **kw):
    r = srv.api("POST", "/api/v1/epg-sources", {"name": name, "url": url, "refresh_hours": 0, **kw})
    assert r.status == 201, r
    return r.json()


def import_source(srv, name):
    return srv.api("POST", f"/api/v1/epg-sources/{name}/import", timeout=60)


def test_guide_imported_and_served_per_subscriber(server, media, tmp_path, backend):
    srv = server(db=backend)
    setup_catalogue(srv, media, [{"name": "alice", "packages": ["basic"]}])
    make_guide(tmp_path / "guide.xml")
    add_source(srv, "main", str(tmp_path / "guide.xml"))
    r = import_source(srv, "main")
    assert r.status == 200, r
    rep = r.json()
    assert rep["channels_seen"] == 3 and rep["channels_mapped"] == 2, rep
    assert rep["programmes_stored"] == 30 and rep["skipped_unmapped"] == 15, rep
    src = srv.api("GET", "/api/v1/epg-sources/main").json()
    assert src["last_result"].startswith("ok: 30 programmes"), src
    # the API: a channel's programmes, with times in UTC
    progs = srv.api("GET", "/api/v1/channels/news/epg").json()["programmes"]
    assert progs and all(p["title"].startswith("news at ") and p["start"].endswith("Z") for p in progs), progs
    assert progs[0]["start_unix"] <= time.time() < progs[0]["stop_unix"], progs[0]
    # now and next in the channel's JSON
    epg = wait_until(lambda: (srv.channel("news") or {}).get("epg", {}).get("now"), 5, what="now/next of news")
    assert epg["title"] == progs[0]["title"], epg
    nxt = srv.channel("news")["epg"]["next"]
    assert nxt and nxt["start"] == progs[0]["stop"], nxt
    assert srv.channel("free")["epg"] == {"now": None, "next": None}
    # alice's guide: news only (her package), valid XMLTV, times with their offset
    token = token_of(playlist_for(srv, "alice"))
    r = srv.get(f"/get/epg.xml?token={token}")
    assert r.status == 200 and r.headers["content-type"].startswith("application/xml"), r
    xml = r.text
    assert 'channel="news.test"' in xml and "sport" not in xml and "other" not in xml, xml[:2000]
    assert "+0000" in xml and "&amp; more" in xml
    (tmp_path / "alice.xml").write_bytes(r.body)
    validate(tmp_path / "alice.xml")
    gz = srv.get(f"/get/epg.xml.gz?token={token}")
    assert gz.status == 200 and gzip.decompress(gz.body) == r.body, gz
    # username and password work too; a wrong token does not
    assert srv.get("/get/epg.xml?username=alice&password=secret-alice").status == 200
    assert srv.get("/get/epg.xml?token=AAAA").status == 403


@pytest.mark.parametrize("bad, line, what", [
    ('<programme start="20261301000000 +0000" stop="20261301010000 +0000" channel="news.test"><title>x</title>'
     '</programme>', None, "start"),
    ('<programme start="20260101000000 +0000" channel="news.test"><title>unclosed</programme>', None, "mismatched"),
    ('<programme channel="news.test"><title>no start</title></programme>', None, "start"),
])
def test_bad_guide_is_refused_whole_and_names_the_line(server, media, tmp_path, bad, line, what):
    srv = server()
    setup_catalogue(srv, media)
    good = tmp_path / "guide.xml"
    make_guide(good)
    add_source(srv, "main", str(good))
    assert import_source(srv, "main").status == 200
    before = srv.api("GET", "/api/v1/channels/news/epg").json()["programmes"]
    # the same file with one broken programme near its end
    make_guide(good, title_prefix="NEW ", extra=bad)
    n_lines = good.read_text().count("\n")
    r = import_source(srv, "main")
    assert r.status == 400, r
    err = r.json()["error"]
    assert f"line {n_lines}" in err and what in err.lower(), err
    # nothing of the new file was stored: the old guide stands
    after = srv.api("GET", "/api/v1/channels/news/epg").json()["programmes"]
    assert after == before
    assert srv.api("GET", "/api/v1/epg-sources/main").json()["last_result"].startswith("failed: line"), err


def test_billion_laughs_is_refused(server, media, tmp_path):
    srv = server()
    setup_catalogue(srv, media)
    evil = tmp_path / "evil.xml"
    lol = "".join(f'<!ENTITY lol{i} "{"&lol%d;" % (i - 1) * 10 if i else "lol"}">' for i in range(10))
    evil.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE tv [{lol}]>\n<tv><channel id="news.test">'
                    f'<display-name>&lol9;</display-name></channel></tv>\n')
    add_source(srv, "evil", str(evil))
    t0 = time.monotonic()
    r = import_source(srv, "evil")
    assert r.status == 400 and "entit" in r.json()["error"].lower(), r
    assert time.monotonic() - t0 < 5
    srv.assert_alive()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def test_guide_from_an_http_url_and_on_schedule(server, media, tmp_path):
    srv = server()
    setup_catalogue(srv, media)
    make_guide(tmp_path / "guide.xml")
    with open(tmp_path / "guide.xml", "rb") as f, gzip.open(tmp_path / "guide.xml.gz", "wb") as g:
        g.write(f.read())
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(_Quiet, directory=str(tmp_path)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/guide.xml.gz"
        add_source(srv, "web", url)
        r = import_source(srv, "web")
        assert r.status == 200 and r.json()["programmes_stored"] == 30, r
        # a source with a schedule and no import yet is imported by itself
        add_source(srv, "sched", url.replace(".gz", ""), refresh_hours=6)
        src = wait_until(lambda: (srv.api("GET", "/api/v1/epg-sources/sched").json().get("last_result") or "")
                         .startswith("ok") and srv.api("GET", "/api/v1/epg-sources/sched").json(), 15,
                         what="the scheduled import")
        assert src["last_import"], src
        # an unreachable URL: a clear failure, kept with the source
        add_source(srv, "down", "http://127.0.0.1:1/guide.xml")
        r = import_source(srv, "down")
        assert r.status == 400 and "127.0.0.1:1" in r.json()["error"], r
    finally:
        httpd.shutdown()
