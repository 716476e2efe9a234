# SPDX-License-Identifier: MIT
"""conftest.py -- fixtures of the antenne integration suite.

Environment:
  ANTENNE_BIN    the binary under test (default <repo>/build/antenne)
  ANTENNE_MEDIA  test media folder (default <repo>/build/media; made with
                 scripts/make-media.sh when files are missing)

Fixtures:
  server   factory: server(ns=None, data_dir=None, start=True) -> harness.Server;
           every server is stopped at teardown (SIGTERM, SIGKILL after 5 s) and the
           test FAILS if one died unexpectedly or printed a sanitizer report.
  media    dict of test media paths (demo, short, mpts).
  procs    background processes (feeders), stopped at teardown.
  netns    a fresh network namespace, deleted at teardown.
  http_source  factory of scripted HTTP origins (harness.HttpSource).
  web_dir  the web UI built by scripts/build-web.sh (once a session) into
           $ANTENNE_WEB (default <repo>/build/web), for `serve --web-dir`.
Each test runs under a wall-clock limit (marker `time_limit(seconds)`, default 120).
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

import harness  # noqa: E402
from harness import ANTENNE_MEDIA, MEDIA_FILES, REPO, NetNS, Procs, Server, tail  # noqa: E402

DEFAULT_TIME_LIMIT = 120


class TestTimeLimit(Exception):
    pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Every test body is bounded in time: SIGALRM raises in the main thread.
    (Set-up and teardown are bounded by their own timeouts, and must run to the
    end so that no server or feeder outlives its test.)"""
    marker = item.get_closest_marker("time_limit")
    limit = int(marker.args[0]) if marker else DEFAULT_TIME_LIMIT

    def expired(signum, frame):
        raise TestTimeLimit(f"test exceeded its time limit of {limit} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(limit)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="session")
def media():
    """The media files of scripts/make-media.sh; generated when missing."""
    missing = [f for f in MEDIA_FILES if not (ANTENNE_MEDIA / f).is_file()]
    if missing:
        script = REPO / "scripts" / "make-media.sh"
        assert script.exists(), f"test media {missing} missing in {ANTENNE_MEDIA} and {script} does not exist"
        ANTENNE_MEDIA.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["bash", str(script), str(ANTENNE_MEDIA)], capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, f"{script} {ANTENNE_MEDIA} failed ({r.returncode}):\n{r.stderr[-3000:]}"
        missing = [f for f in MEDIA_FILES if not (ANTENNE_MEDIA / f).is_file()]
        assert not missing, f"{script} did not make {missing} in {ANTENNE_MEDIA}"
    return {f.rsplit(".", 1)[0]: ANTENNE_MEDIA / f for f in MEDIA_FILES}


@pytest.fixture(scope="session")
def web_dir():
    """The web UI, built from web/ at the start of the session (so it is never stale)."""
    out = Path(os.environ.get("ANTENNE_WEB", REPO / "build" / "web"))
    r = subprocess.run(["bash", str(REPO / "scripts" / "build-web.sh"), str(out)], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, f"scripts/build-web.sh {out} failed ({r.returncode}):\n{r.stderr[-3000:]}"
    assert (out / "index.html").is_file() and (out / "admin" / "index.html").is_file(), f"{out} lacks the pages"
    return out


@pytest.fixture
def procs(tmp_path):
    p = Procs(tmp_path)
    yield p
    p.stop_all()


@pytest.fixture
def netns():
    ns = NetNS()
    yield ns
    ns.delete()


@pytest.fixture
def http_source():
    made = []

    def make(mode="ts", media=None, **kw):
        src = harness.HttpSource(mode=mode, media=media, **kw)
        made.append(src)
        return src

    yield make
    for s in made:
        s.stop()


@pytest.fixture
def server(request, tmp_path):
    """Factory of antenne servers; checks each one at teardown."""
    servers = []
    request.node._antenne_servers = servers

    def make(ns=None, data_dir=None, start=True, label=None, env=None, db=None, serve_args=()):
        n = len(servers)
        srv = Server(data_dir or (tmp_path / f"data{n}"), tmp_path, ns=ns, label=label or f"antenne{n}", env=env,
                     db=db)
        srv.serve_args = list(serve_args)
        servers.append(srv)
        if start:
            srv.start()
        return srv

    yield make
    problems = []
    for srv in servers:
        problems += srv.shutdown_and_check()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the stderr of every antenne server of a failed test to its report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for srv in getattr(item, "_antenne_servers", []):
            rep.sections.append((f"{srv.label} stderr ({srv.stderr_path})", tail(srv.log(), 30000)))
            if srv.cli_log:
                lines = "\n".join(f"antenne {' '.join(a)} -> {rc} {e.strip()[:300]}" for a, rc, e in srv.cli_log)
                rep.sections.append((f"{srv.label} CLI calls", tail(lines, 10000)))


@pytest.fixture
def good_channel(server, media):
    """A server with channel `good` (file playout of demo.ts) up and one viewer
    watching it for the whole test; the test ends by checking the viewer saw a
    clean, uninterrupted stream (the server kept serving through the test)."""
    srv = server()
    srv.add_channel("good", f"file://{media['demo']}")
    srv.wait_state("good", "up", timeout=10)
    v = srv.viewer("good", duration=110)
    assert v.connected.wait(5) and v.status == 200, f"viewer of 'good' did not start: {v.describe()}"
    t0 = time.monotonic()
    yield srv, v
    v.stop()
    srv.assert_alive()
    v.assert_clean(min_seconds=0.9 * (time.monotonic() - t0) - 1)
    r = srv.get("/healthz")
    assert r.status == 200, f"/healthz answered {r.status} after the bad input"


# --------------------------------------------------------------------------
# PostgreSQL: a private cluster for the session (scripts/pg-test.sh), a fresh
# database for each test that asks for one.

@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory):
    """URL of a running PostgreSQL: $ANTENNE_TEST_PG_URL (./test starts one),
    else a cluster started here for the session. Never skipped: a missing
    PostgreSQL fails the tests that need it."""
    url = os.environ.get("ANTENNE_TEST_PG_URL")
    if url:
        yield url
        return
    script = REPO / "scripts" / "pg-test.sh"
    d = Path("/tmp") / f"antenne-pytest-pg-{os.getpid()}"
    r = subprocess.run(["bash", str(script), "start", str(d)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"{script} start failed ({r.returncode}):\n{r.stderr[-3000:]}"
    yield r.stdout.strip().splitlines()[-1]
    subprocess.run(["bash", str(script), "stop", str(d)], capture_output=True, text=True, timeout=60)


_pg_databases = [0]


@pytest.fixture
def pg_url(pg_cluster):
    """A new, empty database on the cluster; dropped afterwards."""
    _pg_databases[0] += 1
    name = f"t{os.getpid()}_{_pg_databases[0]}"
    base = pg_cluster.rsplit("/", 1)[0]
    r = subprocess.run(["psql", pg_cluster, "-v", "ON_ERROR_STOP=1", "-qc", f"CREATE DATABASE {name}"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, f"CREATE DATABASE {name}: {r.stderr}"
    yield f"{base}/{name}"
    subprocess.run(["psql", pg_cluster, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
                   capture_output=True, text=True, timeout=30)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    """Runs a test once on each store backend: None (SQLite in the data
    folder) or the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg_url")
