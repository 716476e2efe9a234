# SPDX-License-Identifier: MIT
"""The web UI's files (issue 7, in part): `serve --web-dir DIR` serves them
from memory with a Content-Security-Policy on every answer, gzip when the
client takes it, ETag revalidation; nothing outside the folder, nothing but
its listed files, and the viewer routes stay as they were."""

import gzip

from harness import http_get


def test_web_dir_is_served_safely(server, tmp_path):
    web = tmp_path / "web"
    (web / "admin").mkdir(parents=True)
    (web / "assets").mkdir()
    (web / "index.html").write_text("<!doctype html><title>portal</title>")
    (web / "admin" / "index.html").write_text("<!doctype html><title>admin</title>")
    js = "export const x = 1;\n" * 200
    (web / "assets" / "app.js").write_text(js)
    (web / "assets" / "app.js.gz").write_bytes(gzip.compress(js.encode()))
    (web / "assets" / "secret.key").write_text("not a web file")
    (tmp_path / "outside.html").write_text("outside")
    srv = server(serve_args=("--web-dir", str(web)))
    r = srv.get("/")
    assert r.status == 200 and "portal" in r.text and r.headers["content-type"].startswith("text/html"), r
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-cache"
    r = srv.get("/admin")
    assert r.status == 301 and r.headers["location"] == "/admin/", r
    assert "admin" in srv.get("/admin/").text
    plain = srv.get("/assets/app.js")
    assert plain.text == js and plain.headers["content-type"].startswith("text/javascript")
    assert "content-encoding" not in plain.headers
    zipped = srv.get("/assets/app.js", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["content-encoding"] == "gzip" and gzip.decompress(zipped.body).decode() == js
    assert "content-security-policy" in zipped.headers
    again = srv.get("/assets/app.js", headers={"If-None-Match": plain.headers["etag"]})
    assert again.status == 304 and not again.body
    for path in ("/assets/secret.key", "/../outside.html", "/assets/%2e%2e/%2e%2e/outside.html", "/assets/",
                 "/nothing.html"):
        assert srv.get(path).status == 404, path
    # the viewer routes are untouched
    assert srv.get("/playlist.m3u").status == 200
    assert srv.get("/healthz").text == "ok\n"


def test_a_missing_web_dir_stops_the_start(server, tmp_path):
    srv = server(start=False, serve_args=("--web-dir", str(tmp_path / "nope")))
    try:
        srv.start(timeout=5)
    except AssertionError:
        pass
    assert srv.proc.wait(10) != 0
    assert "web UI: cannot open" in srv.log()
    srv.expected_exit = True
