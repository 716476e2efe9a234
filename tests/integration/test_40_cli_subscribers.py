# SPDX-License-Identifier: MIT
"""test_40_cli_subscribers.py -- the `antenne` command line for subscribers,
packages, EPG sources and admin API tokens: add/list/show/set/rm, passwords
never shown, bad input rejected (exit 1, a message naming the flag, nothing
stored), admin tokens printed once, and a subscriber's token and playlist URL
(checked against a running server)."""

import json
import re
import sqlite3
import subprocess

import pytest

from harness import ANTENNE_BIN, wait_until

PASSWORD = "s3cret-Pass-9"


def run(*args):
    assert ANTENNE_BIN.exists(), f"antenne binary not found at {ANTENNE_BIN}"
    r = subprocess.run([str(ANTENNE_BIN), *args], capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert marker not in r.stderr, f"antenne {' '.join(args)}: sanitizer report:\n{r.stderr}"
    return r


@pytest.fixture
def cli(server):
    """A data folder with no server running; cli.cli(...) runs antenne --data DIR ..."""
    return server(start=False)


def assert_rejected(r, *needles, what):
    """Exit 1 and a stderr message containing every needle (case-insensitive)."""
    err = r.stderr.lower()
    assert r.returncode == 1, f"{what}: expected exit 1, got {r.returncode}; stderr {r.stderr!r} stdout {r.stdout!r}"
    missing = [n for n in needles if n.lower() not in err]
    assert not missing, f"{what}: the error message should name {missing}; stderr was {r.stderr!r}"


def listing(cli, command, key):
    """`<command> list --json` -> the list of objects under `key`."""
    data = json.loads(cli.cli_ok(command, "list", "--json").stdout)
    assert isinstance(data, dict) and isinstance(data.get(key), list), \
        f"{command} list --json: expected {{{key!r}: [...]}}, got {data!r}"
    return data[key]


def names(cli, command, key):
    return [o["name"] for o in listing(cli, command, key)]


def show(cli, command, name):
    r = cli.cli_ok(command, "show", name, "--json")
    try:
        return json.loads(r.stdout)
    except ValueError:
        raise AssertionError(f"{command} show {name} --json printed no JSON: {r.stdout!r}") from None


def db_row(cli, sql, *params):
    with sqlite3.connect(cli.data_dir / "antenne.db") as db:
        return db.execute(sql, params).fetchone()


def assert_no_secret(text, what):
    for secret in (PASSWORD, "$argon2", "password_hash"):
        assert secret not in text, f"{what} shows {secret!r}:\n{text}"


@pytest.mark.parametrize("args", [
    ["subscriber", "--help"], ["subscriber", "add", "--help"], ["subscriber", "token", "--help"],
    ["package", "--help"], ["package", "set", "--help"], ["epg", "--help"], ["epg", "add", "--help"],
    ["admin-token", "--help"], ["admin-token", "create", "--help"],
], ids=lambda a: " ".join(a))
def test_help(args):
    r = run(*args)
    out = r.stdout + r.stderr
    assert r.returncode == 0, f"antenne {' '.join(args)} exited {r.returncode}: {out!r}"
    assert "usage" in out.lower() and f"{args[0]} " in out, f"antenne {' '.join(args)} printed no usage: {out!r}"
    if args[0] == "subscriber":
        for opt in ("--password", "--max-streams", "--limit-policy", "--package", "--expires", "--allowed-ip",
                    "--bind-ip", "--notes", "--no-enabled", "token", "--base-url"):
            assert opt in out, f"`subscriber --help` does not document {opt}: {out}"
        for hidden in ("--token-id", "--password-hash", "--created-at"):
            assert hidden not in out, f"`subscriber --help` offers {hidden}, which is not settable"
    if args[0] == "epg":
        for opt in ("--url", "--refresh-hours", "--days"):
            assert opt in out, f"`epg --help` does not document {opt}"
        assert "--last-import" not in out, "`epg --help` offers --last-import, which the importer writes"


def test_top_level_usage_names_the_new_commands():
    out = run("--help").stdout
    for cmd in ("channel", "subscriber", "package", "epg", "admin-token"):
        assert re.search(rf"^\s+{cmd}\b", out, re.M), f"`antenne --help` does not list {cmd}: {out}"


@pytest.mark.parametrize("args", [["subscriber"], ["package", "frob"], ["admin-token", "set", "x"]],
                         ids=lambda a: " ".join(a))
def test_missing_or_unknown_subcommand(args):
    r = run(*args)
    assert r.returncode == 1, f"antenne {' '.join(args)}: expected exit 1, got {r.returncode}"
    if len(args) > 1:
        assert args[1] in r.stderr, f"antenne {' '.join(args)}: the message should name {args[1]!r}: {r.stderr!r}"


# ---- subscribers ------------------------------------------------------------------------------


def test_subscriber_roundtrip_never_shows_the_password(cli):
    cli.cli_ok("package", "add", "basic")
    cli.cli_ok("subscriber", "add", "alice", "--password", PASSWORD, "--max-streams", "3", "--limit-policy",
               "end-oldest", "--package", "basic", "--package", "sports", "--expires", "2031-12-31",
               "--allowed-ip", "192.0.2.0/24", "--allowed-ip", "2001:db8::/32", "--bind-ip", "--notes",
               "paid until 2031")
    cli.cli_ok("subscriber", "add", "bob", "--password", "other-password", "--no-enabled")
    alice = show(cli, "subscriber", "alice")
    expected = {"name": "alice", "enabled": True, "max_streams": 3, "limit_policy": "end-oldest",
                "packages": ["basic", "sports"], "expires": "2031-12-31",
                "allowed_ips": ["192.0.2.0/24", "2001:db8::/32"], "bind_ip": True, "notes": "paid until 2031"}
    wrong = {k: (alice.get(k), v) for k, v in expected.items() if alice.get(k) != v}
    assert not wrong, f"subscriber show alice --json: fields differ (got, expected): {wrong}"
    assert isinstance(alice.get("token_id"), int) and alice["token_id"] > 0, \
        f"a new subscriber should get a random positive token_id: {alice.get('token_id')!r}"
    assert alice.get("created_at") and alice.get("updated_at"), f"timestamps missing: {alice}"
    bob = show(cli, "subscriber", "bob")
    defaults = {"enabled": False, "max_streams": 1, "limit_policy": "refuse-new", "packages": [],
                "allowed_ips": [], "bind_ip": False}
    wrong = {k: (bob.get(k), v) for k, v in defaults.items() if bob.get(k) != v}
    assert not wrong, f"defaults of bob differ (got, expected): {wrong}"
    assert bob["token_id"] != alice["token_id"], "two subscribers got the same token_id"

    # stored as an argon2id hash, shown nowhere
    (stored,) = db_row(cli, "SELECT password_hash FROM subscribers WHERE name = ?", "alice")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored, f"password stored as {stored!r}"
    for args in (["show", "alice"], ["show", "alice", "--json"], ["list"], ["list", "--json"]):
        r = cli.cli_ok("subscriber", *args)
        assert_no_secret(r.stdout + r.stderr, f"subscriber {' '.join(args)}")
    text = cli.cli_ok("subscriber", "show", "alice").stdout
    for field in ("token_id", "created_at", "packages", "sports", "2001:db8::/32"):
        assert field in text, f"subscriber show alice does not show {field!r}:\n{text}"
    table = cli.cli_ok("subscriber", "list").stdout
    assert "alice" in table and "bob" in table and "basic" in table, f"subscriber list:\n{table}"
    assert names(cli, "subscriber", "subscribers") == ["alice", "bob"]


def test_subscriber_set_changes_only_given_fields(cli):
    cli.cli_ok("subscriber", "add", "alice", "--password", PASSWORD, "--package", "basic", "--max-streams", "2",
               "--notes", "keep me")
    before = show(cli, "subscriber", "alice")
    (hash_before,) = db_row(cli, "SELECT password_hash FROM subscribers WHERE name = ?", "alice")
    r = cli.cli_ok("subscriber", "set", "alice", "--package", "sports", "--package", "news", "--no-enabled",
                   "--expires", "2030-01-01T12:00:00Z")
    assert "alice" in r.stdout, f"subscriber set printed {r.stdout!r}"
    after = show(cli, "subscriber", "alice")
    assert after["packages"] == ["sports", "news"], f"--package should replace the list: {after['packages']}"
    assert after["enabled"] is False and after["expires"] == "2030-01-01T12:00:00Z", f"set did not apply: {after}"
    for k in ("max_streams", "notes", "token_id", "created_at"):
        assert after[k] == before[k], f"set changed {k} it was not given: {before[k]!r} -> {after[k]!r}"
    (hash_same,) = db_row(cli, "SELECT password_hash FROM subscribers WHERE name = ?", "alice")
    assert hash_same == hash_before, "set without --password changed the password hash"
    cli.cli_ok("subscriber", "set", "alice", "--password", "a-new-one", "--expires", "")
    (hash_after,) = db_row(cli, "SELECT password_hash FROM subscribers WHERE name = ?", "alice")
    assert hash_after != hash_before and hash_after.startswith("$argon2id$"), "--password did not re-hash"
    assert show(cli, "subscriber", "alice")["expires"] == "", "--expires '' should clear the expiry"


def test_subscriber_rm_and_not_found(cli):
    cli.cli_ok("subscriber", "add", "alice", "--password", PASSWORD)
    cli.cli_ok("subscriber", "add", "bob", "--password", PASSWORD)
    r = cli.cli_ok("subscriber", "rm", "alice")
    assert "alice" in r.stdout, f"subscriber rm printed {r.stdout!r}"
    assert names(cli, "subscriber", "subscribers") == ["bob"]
    for args in (["show", "alice"], ["rm", "alice"], ["set", "alice", "--notes", "x"], ["token", "alice"]):
        assert_rejected(cli.cli("subscriber", *args), "subscriber 'alice' not found",
                        what=f"subscriber {' '.join(args)} of a removed subscriber")


def test_duplicate_subscriber_is_rejected(cli):
    cli.cli_ok("subscriber", "add", "alice", "--password", PASSWORD, "--notes", "first")
    r = cli.cli("subscriber", "add", "alice", "--password", "x-other", "--notes", "second")
    assert_rejected(r, "subscriber 'alice' already exists", what="adding subscriber 'alice' twice")
    assert show(cli, "subscriber", "alice")["notes"] == "first", "the failed duplicate add changed alice"


@pytest.mark.parametrize("args,needles", [
    (["--expires", "2026-02-30"], ["--expires", "2026-02-30"]),
    (["--expires", "tomorrow"], ["--expires"]),
    (["--allowed-ip", "10.0.0.1/33"], ["--allowed-ip"]),
    (["--allowed-ip", "not-an-address"], ["--allowed-ip"]),
    (["--allowed-ip", "192.0.2.7/24"], ["--allowed-ip", "192.0.2.0/24"]),
    (["--max-streams", "5000"], ["--max-streams", "5000"]),
    (["--max-streams", "-1"], ["--max-streams"]),
    (["--max-streams", "two"], ["--max-streams"]),
    (["--limit-policy", "kick"], ["--limit-policy"]),
    (["--package", "Bad Name"], ["--package", "Bad Name"]),
    (["--package", "a/b"], ["--package"]),
    (["--colour", "red"], ["unknown option", "--colour"]),
    (["--token-id", "5"], ["--token-id"]),
    (["--password-hash", "x"], ["--password-hash"]),
    (["--created-at", "2020-01-01"], ["--created-at"]),
    (["--max-streams"], ["--max-streams"]),
], ids=lambda v: " ".join(v) if isinstance(v, list) and v and v[0].startswith("--") else None)
def test_bad_subscriber_values_are_rejected_and_nothing_stored(cli, args, needles):
    r = cli.cli("subscriber", "add", "alice", "--password", PASSWORD, *args)
    assert_rejected(r, *needles, what=f"subscriber add alice {' '.join(args)}")
    assert names(cli, "subscriber", "subscribers") == [], "a rejected add still stored a subscriber"
    cli.cli_ok("subscriber", "add", "alice", "--password", PASSWORD, "--notes", "before")
    before = show(cli, "subscriber", "alice")
    r = cli.cli("subscriber", "set", "alice", "--notes", "after", *args)
    assert_rejected(r, *needles, what=f"subscriber set alice {' '.join(args)}")
    assert show(cli, "subscriber", "alice") == before, "a rejected set changed the subscriber"


def test_subscriber_needs_a_password_and_a_good_name(cli):
    assert_rejected(cli.cli("subscriber", "add", "alice"), "--password", what="subscriber add without --password")
    assert_rejected(cli.cli("subscriber", "add", "alice", "--password", ""), "--password",
                    what="subscriber add --password ''")
    assert_rejected(cli.cli("subscriber", "add", "Alice", "--password", PASSWORD), "name",
                    what="subscriber add Alice")
    assert names(cli, "subscriber", "subscribers") == []


# ---- packages and EPG sources --------------------------------------------------------------------


def test_package_roundtrip(cli):
    cli.cli_ok("package", "add", "basic", "--title", "Basic TV", "--channel", "news", "--channel", "music")
    cli.cli_ok("package", "add", "empty")
    pkg = show(cli, "package", "basic")
    assert (pkg["title"], pkg["channels"]) == ("Basic TV", ["news", "music"]), f"package show basic: {pkg}"
    assert show(cli, "package", "empty")["channels"] == []
    cli.cli_ok("package", "set", "basic", "--channel", "sports")
    pkg = show(cli, "package", "basic")
    assert (pkg["title"], pkg["channels"]) == ("Basic TV", ["sports"]), f"set --channel should replace: {pkg}"
    text = cli.cli_ok("package", "list").stdout
    assert "basic" in text and "Basic TV" in text and "sports" in text, f"package list:\n{text}"
    assert "Basic TV" in cli.cli_ok("package", "show", "basic").stdout
    assert_rejected(cli.cli("package", "add", "basic"), "package 'basic' already exists",
                    what="adding package 'basic' twice")
    assert_rejected(cli.cli("package", "add", "bad", "--channel", "No Good"), "--channel",
                    what="package add --channel 'No Good'")
    assert_rejected(cli.cli("package", "add", "bad", "--password", "x"), "--password",
                    what="package add --password")
    cli.cli_ok("package", "rm", "basic")
    assert names(cli, "package", "packages") == ["empty"]
    assert_rejected(cli.cli("package", "show", "basic"), "package 'basic' not found", what="show a removed package")


def test_epg_source_roundtrip(cli):
    cli.cli_ok("epg", "add", "main", "--url", "http://epg.example/guide.xml.gz")
    cli.cli_ok("epg", "add", "local", "--url", "/srv/epg/guide.xml", "--refresh-hours", "0", "--days", "3")
    main = show(cli, "epg", "main")
    expected = {"url": "http://epg.example/guide.xml.gz", "refresh_hours": 12, "days": 7}
    wrong = {k: (main.get(k), v) for k, v in expected.items() if main.get(k) != v}
    assert not wrong, f"epg show main --json (got, expected): {wrong}"
    assert "last_import" in main, f"epg show should include the read-only last_import: {main}"
    cli.cli_ok("epg", "set", "main", "--days", "14")
    main = show(cli, "epg", "main")
    assert (main["days"], main["refresh_hours"]) == (14, 12), f"epg set --days: {main}"
    text = cli.cli_ok("epg", "list").stdout
    assert "main" in text and "local" in text and "/srv/epg/guide.xml" in text, f"epg list:\n{text}"
    assert "last_import" in cli.cli_ok("epg", "show", "main").stdout
    cli.cli_ok("epg", "rm", "local")
    assert names(cli, "epg", "epg_sources") == ["main"]
    assert_rejected(cli.cli("epg", "rm", "local"), "EPG source 'local' not found", what="rm a removed EPG source")
    assert_rejected(cli.cli("epg", "add", "main", "--url", "http://x.example/"), "'main' already exists",
                    what="adding EPG source 'main' twice")


@pytest.mark.parametrize("args,needle", [
    ([], "--url"), (["--url", "ftp://x.example/g.xml"], "--url"), (["--url", "relative/path.xml"], "--url"),
    (["--url", "http://x/", "--days", "0"], "--days"), (["--url", "http://x/", "--days", "61"], "--days"),
    (["--url", "http://x/", "--refresh-hours", "soon"], "--refresh-hours"),
    (["--url", "http://x/", "--last-import", "now"], "--last-import"),
    (["--url", "http://x/", "--frequency", "2"], "--frequency"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_bad_epg_values_are_rejected(cli, args, needle):
    assert_rejected(cli.cli("epg", "add", "guide", *args), needle, what=f"epg add guide {' '.join(args)}")
    assert names(cli, "epg", "epg_sources") == [], "a rejected add still stored an EPG source"


# ---- admin API tokens ---------------------------------------------------------------------------------


def test_admin_token_create_list_rm(cli):
    r = cli.cli_ok("admin-token", "create", "ops")
    token = r.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token) and r.stdout == token + "\n", \
        f"admin-token create should print only the token (32 base64url characters): {r.stdout!r}"
    (stored,) = db_row(cli, "SELECT hash FROM admin_tokens WHERE name = ?", "ops")
    assert token not in stored and re.fullmatch(r"[0-9a-f]{64}", stored), f"stored {stored!r}, not a SHA-256"
    second = cli.cli_ok("admin-token", "create", "backup").stdout.strip()
    assert second != token, "two admin tokens are the same"
    for args in (["list"], ["list", "--json"]):
        out = cli.cli_ok("admin-token", *args).stdout
        assert "ops" in out and "backup" in out, f"admin-token {' '.join(args)} does not name the tokens:\n{out}"
        for secret in (token, second, stored, "hash"):
            assert secret not in out, f"admin-token {' '.join(args)} shows {secret!r}:\n{out}"
    assert names(cli, "admin-token", "admin_tokens") == ["backup", "ops"]
    assert_rejected(cli.cli("admin-token", "create", "ops"), "'ops' already exists", what="admin-token create twice")
    assert_rejected(cli.cli("admin-token", "create", "Not Valid"), "name", what="admin-token create 'Not Valid'")
    assert_rejected(cli.cli("admin-token", "create", "x", "--ttl", "5"), "--ttl", what="admin-token create --ttl")
    cli.cli_ok("admin-token", "rm", "ops")
    assert names(cli, "admin-token", "admin_tokens") == ["backup"]
    assert_rejected(cli.cli("admin-token", "rm", "ops"), "'ops' not found", what="admin-token rm twice")


def test_admin_token_works_against_the_api_until_removed(server):
    srv = server()
    token = srv.cli_ok("admin-token", "create", "ops").stdout.strip()
    wait_until(lambda: srv.api("GET", "/api/v1/subscribers", token=token).status == 200, 5,
               what="the API to accept the new admin token")
    srv.cli_ok("admin-token", "rm", "ops")
    wait_until(lambda: srv.api("GET", "/api/v1/subscribers", token=token).status in (401, 403), 5,
               what="the API to refuse the removed admin token")


# ---- a subscriber's token ------------------------------------------------------------------------------


def test_subscriber_token_before_the_first_start_makes_the_key(server):
    """The CLI makes the signing key when no server has yet; the server then
    uses that key, so the token printed before its start works."""
    srv = server(start=False)
    srv.cli_ok("channel", "add", "news", "--source", "udp://@239.1.1.1:5000", "--on-demand")
    srv.cli_ok("package", "add", "basic", "--channel", "news")
    srv.cli_ok("subscriber", "add", "alice", "--password", PASSWORD, "--package", "basic")
    r = srv.cli_ok("subscriber", "token", "alice")
    assert "signing key k1" in r.stderr, r.stderr
    m = re.search(r"/get/playlist\.m3u\?token=[A-Za-z0-9_-]+", r.stdout)
    assert m, r.stdout
    srv.start()
    p = srv.get(m.group(0))
    assert p.status == 200 and "/live/news.ts" in p.text, p
    assert not srv.log_lines("created token signing key"), "the server made a second key"


def test_subscriber_token_gives_a_working_playlist_url(server):
    srv = server()  # the first start makes the signing key
    srv.cli_ok("channel", "add", "news", "--source", "udp://@239.1.1.1:5000", "--on-demand")
    srv.cli_ok("channel", "add", "secret", "--source", "udp://@239.1.1.2:5000", "--on-demand")
    srv.cli_ok("package", "add", "basic", "--channel", "news")
    srv.cli_ok("package", "add", "premium", "--channel", "secret")
    srv.cli_ok("subscriber", "add", "alice", "--password", PASSWORD, "--package", "basic")

    r = srv.cli_ok("subscriber", "token", "alice", "--base-url", "http://tv.example:9000/")
    m = re.search(r"(http://tv\.example:9000/get/playlist\.m3u\?token=)([A-Za-z0-9_-]+)", r.stdout)
    assert m, f"subscriber token should print the playlist URL on the given base: {r.stdout!r}"
    assert m.group(2) in r.stdout.replace(m.group(0), ""), f"the token itself is not printed: {r.stdout!r}"
    assert_no_secret(r.stdout + r.stderr, "subscriber token")

    r = srv.cli_ok("subscriber", "token", "alice", "--base-url", f"http://{srv.host}:{srv.port}")
    m = re.search(r"http://[^/\s]+(/get/playlist\.m3u\?token=[A-Za-z0-9_-]+)", r.stdout)
    assert m, f"subscriber token printed no playlist URL: {r.stdout!r}"

    def playlist():
        p = srv.get(m.group(1))
        return p if p.status == 200 and "news" in p.text else None

    body = wait_until(playlist, 5, what="the personal playlist to list alice's channel").text
    assert body.startswith("#EXTM3U") and "secret" not in body, f"alice's playlist:\n{body}"
    bad = srv.get(m.group(1)[:-2] + ("AA" if not m.group(1).endswith("AA") else "BB"))
    assert bad.status == 403, f"a tampered token got {bad.status}"

    assert_rejected(srv.cli("subscriber", "token", "alice", "--base-url", "ftp://x"), "--base-url",
                    what="subscriber token --base-url ftp://x")
    assert_rejected(srv.cli("subscriber", "token", "alice", "--ttl", "3"), "--ttl",
                    what="subscriber token --ttl")
    assert_rejected(srv.cli("subscriber", "token", "nobody"), "subscriber 'nobody' not found",
                    what="subscriber token nobody")
