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
Each test runs under a wall-clock limit (marker `time_limit(seconds)`, default 120).
"""

import os
import signal
import subprocess
import sys
import time

import pytest

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

    def make(ns=None, data_dir=None, start=True, label=None, env=None):
        n = len(servers)
        srv = Server(data_dir or (tmp_path / f"data{n}"), tmp_path, ns=ns, label=label or f"antenne{n}", env=env)
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
