# SPDX-License-Identifier: MIT
"""test_30_persistence.py -- channels live in the SQLite database: they survive
a restart, and `kill -9` of the server while the CLI writes never leaves the
database unreadable."""

import subprocess
import threading
import time

import pytest

from harness import wait_until

CONFIG_FIELDS = ("name", "title", "number", "group", "logo", "tvg_id", "on_demand", "idle_timeout", "lag_policy",
                 "sources")


def config_of(srv):
    r = srv.get("/api/v1/channels")
    assert r.status == 200, f"/api/v1/channels: {r}"
    return {c["name"]: {k: c.get(k) for k in CONFIG_FIELDS} for c in r.json()["channels"]}


def integrity(db):
    # .timeout: the CLI writer may hold the write lock at this moment
    r = subprocess.run(["sqlite3", "-cmd", ".timeout 10000", str(db), "PRAGMA integrity_check;"],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, (r.stdout + r.stderr).strip()


@pytest.mark.time_limit(90)
def test_channels_survive_restart(server, media):
    srv = server()
    srv.add_channel("demo", f"file://{media['demo']}", extra=["--title", "Demo", "--number", "1", "--group", "G",
                                                                "--logo", "http://img.example/d.png",
                                                                "--tvg-id", "demo.tv"])
    srv.add_channel("lazy", f"file://{media['short']}", extra=["--on-demand", "--idle-timeout", "5",
                                                                 "--lag-policy", "close", "--number", "2"])
    srv.add_channel("two", f"file://{media['short']}", "udp://@239.1.1.1:5000", extra=["--number", "3"])
    srv.wait_state("demo", "up", timeout=10)
    before = wait_until(lambda: (lambda c: c if len(c) == 3 else None)(config_of(srv)), 5,
                        what="the server to list the 3 channels")
    rc = srv.stop()
    assert rc == 0, f"antenne serve exited {rc} on SIGTERM"
    srv.start()
    after = config_of(srv)
    assert after == before, f"channels changed across a restart:\nbefore {before}\nafter  {after}"
    srv.wait_state("demo", "up", timeout=10)
    assert srv.channel("lazy")["state"] == "idle", "an on-demand channel should be idle after a restart"
    c = srv.get("/live/demo.ts", max_body=188 * 100, timeout=5)
    assert c.status == 200 and c.body[:1] == b"\x47", f"after restart /live/demo.ts: {c}"


class CliWriter(threading.Thread):
    """Adds, changes and removes channels with the CLI in a loop (bounded)."""

    def __init__(self, srv, source, max_ops=20000, max_seconds=25):
        super().__init__(daemon=True, name="cli-writer")
        self.srv = srv
        self.source = source
        self.max_ops = max_ops
        self.max_seconds = max_seconds
        self.stop_ev = threading.Event()
        self.ops = 0
        self.failures = []
        self.crash = None
        self.lock = threading.Lock()
        self.expected = set()   # channels that exist after the last successful command

    def run(self):
        try:
            self._loop()
        except BaseException as e:  # noqa: BLE001 -- reported by the test
            self.crash = f"{type(e).__name__}: {e}"

    def _loop(self):
        deadline = time.monotonic() + self.max_seconds
        i = 0
        while not self.stop_ev.is_set() and self.ops < self.max_ops and time.monotonic() < deadline:
            name = f"w{i % 12}"
            if name in self.expected and i % 3 == 0:
                args = ("channel", "rm", name)
            elif name in self.expected:
                args = ("channel", "set", name, "--title", f"title {i}", "--number", str(i))
            else:
                args = ("channel", "add", name, "--source", self.source, "--number", str(i))
            try:
                r = self.srv.cli(*args)
            except AssertionError as e:   # timeout or sanitizer report
                self.failures.append((args, -1, str(e)[:2000]))
                self.ops += 1
                i += 1
                continue
            self.ops += 1
            if r.returncode == 0:
                if args[1] == "rm":
                    self.expected.discard(name)
                elif args[1] == "add":
                    self.expected.add(name)
            else:
                self.failures.append((args, r.returncode, r.stderr.strip()))
            i += 1

    def stop(self):
        self.stop_ev.set()
        self.join(40)


@pytest.mark.time_limit(120)
def test_kill9_while_cli_writes_keeps_database_readable(server, media):
    srv = server()
    srv.add_channel("keep", f"file://{media['short']}", extra=["--number", "1"])
    db = srv.data_dir / "antenne.db"
    writer = CliWriter(srv, f"file://{media['short']}")
    writer.start()
    try:
        for round_ in range(3):
            time.sleep(2.5)
            assert writer.is_alive(), f"the CLI writer stopped early after {writer.ops} commands: {writer.crash}"
            srv.kill9()
            time.sleep(0.3)
            rc, out = integrity(db)
            assert rc == 0 and out == "ok", f"round {round_}: integrity_check after kill -9 said {out!r}"
            srv.start()
    finally:
        writer.stop()
    # the CLI may report a busy database while the server holds a lock, but not crash
    crashes = [f for f in writer.failures if f[1] not in (1, 2)]
    assert not crashes, f"CLI crashed while the server was killed: {crashes[:5]}"
    assert writer.ops >= 20, f"the CLI wrote only {writer.ops} times"
    ok_ratio = 1 - len(writer.failures) / max(1, writer.ops)
    assert ok_ratio > 0.9, f"{len(writer.failures)} of {writer.ops} CLI writes failed: {writer.failures[:5]}"
    srv.kill9()
    rc, out = integrity(db)
    assert rc == 0 and out == "ok", f"integrity_check after the last kill -9 said {out!r}"
    srv.start()
    expected = writer.expected | {"keep"}
    names = wait_until(lambda: (lambda n: n if n == expected else None)(set(config_of(srv))), 5,
                       what=f"the restarted server to list exactly the channels the CLI left: {sorted(expected)}")
    listed = srv.cli_ok("channel", "list", "--json").stdout
    for n in names:
        assert n in listed, f"`channel list` lacks {n} after the crashes"
    srv.wait_state("keep", "up", timeout=10)
