# SPDX-License-Identifier: MIT
"""test_00_cli.py -- the `antenne` command line without a running server:
version, help, channel add/list/show/set/rm, and rejection of bad input
(exit 1 with a message naming the field)."""

import json
import os
import re
import subprocess

import pytest

from harness import ANTENNE_BIN


def run(*args, env=None, cwd=None):
    assert ANTENNE_BIN.exists(), f"antenne binary not found at {ANTENNE_BIN}"
    r = subprocess.run([str(ANTENNE_BIN), *args], capture_output=True, text=True, timeout=30,
                       env=env, cwd=cwd, stdin=subprocess.DEVNULL)
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert marker not in r.stderr, f"antenne {' '.join(args)}: sanitizer report:\n{r.stderr}"
    return r


@pytest.fixture
def cli(server):
    """A data folder with no server running; cli.cli(...) runs antenne --data DIR ..."""
    return server(start=False)


def channels_of(listing):
    """`channel list --json` -> list of channel objects ({"channels": [...]} or a bare list)."""
    data = json.loads(listing)
    if isinstance(data, dict):
        assert "channels" in data, f"channel list --json: no 'channels' key in {data}"
        data = data["channels"]
    assert isinstance(data, list), f"channel list --json: not a list: {data!r}"
    return data


def show(cli, name):
    r = cli.cli_ok("channel", "show", name, "--json")
    try:
        return json.loads(r.stdout)
    except ValueError:
        raise AssertionError(f"channel show {name} --json printed no JSON: {r.stdout!r}") from None


def assert_rejected(r, *needles, what):
    """Exit 1 and a stderr message containing every needle (case-insensitive)."""
    err = r.stderr.lower()
    assert r.returncode == 1, f"{what}: expected exit 1, got {r.returncode}; stderr {r.stderr!r} stdout {r.stdout!r}"
    missing = [n for n in needles if n.lower() not in err]
    assert not missing, f"{what}: the error message should name {missing}; stderr was {r.stderr!r}"


def test_version():
    r = run("--version")
    assert r.returncode == 0, f"--version exited {r.returncode}: {r.stderr}"
    assert re.fullmatch(r"antenne \d+\.\d+\.\d+\s*", r.stdout), f"--version printed {r.stdout!r}"


@pytest.mark.parametrize("args", [
    ["--help"], ["-h"], ["serve", "--help"], ["channel", "--help"], ["channel", "add", "--help"],
    ["channel", "list", "--help"], ["channel", "show", "--help"], ["channel", "set", "--help"],
    ["channel", "rm", "--help"],
], ids=lambda a: " ".join(a))
def test_help(args):
    r = run(*args)
    out = r.stdout + r.stderr
    assert r.returncode == 0, f"antenne {' '.join(args)} exited {r.returncode}: {out!r}"
    assert "usage" in out.lower(), f"antenne {' '.join(args)} printed no usage: {out!r}"
    if len(args) > 2:
        assert args[1] in out, f"help of `channel {args[1]}` does not mention {args[1]!r}: {out!r}"
    if args[:2] == ["channel", "add"]:
        for opt in ("--source", "--title", "--number", "--group", "--logo", "--tvg-id", "--on-demand",
                    "--idle-timeout", "--lag-policy"):
            assert opt in out, f"`channel add --help` does not document {opt}"


def test_unknown_subcommand_is_a_usage_error():
    r = run("frobnicate")
    assert_rejected(r, "frobnicate", what="antenne frobnicate")


def test_add_show_list_roundtrip(cli, media):
    src = f"file://{media['demo']}"
    cli.cli_ok("channel", "add", "demo", "--source", src, "--title", "Demo One", "--number", "7",
               "--group", "News", "--logo", "http://img.example/demo.png", "--tvg-id", "demo.one",
               "--on-demand", "--idle-timeout", "30", "--lag-policy", "close")
    cli.cli_ok("channel", "add", "plain", "--source", "udp://@239.1.1.1:5000")
    ch = show(cli, "demo")
    expected = {"name": "demo", "title": "Demo One", "number": 7, "group": "News",
                "logo": "http://img.example/demo.png", "tvg_id": "demo.one", "on_demand": True,
                "idle_timeout": 30, "lag_policy": "close", "sources": [src]}
    wrong = {k: (ch.get(k), v) for k, v in expected.items() if ch.get(k) != v}
    assert not wrong, f"channel show demo --json: fields differ (got, expected): {wrong}"
    plain = show(cli, "plain")
    defaults = {"on_demand": False, "idle_timeout": 10, "lag_policy": "skip",
                "sources": ["udp://@239.1.1.1:5000"]}
    wrong = {k: (plain.get(k), v) for k, v in defaults.items() if plain.get(k) != v}
    assert not wrong, f"defaults of a channel added with only --source differ (got, expected): {wrong}"
    listing = channels_of(cli.cli_ok("channel", "list", "--json").stdout)
    assert sorted(c["name"] for c in listing) == ["demo", "plain"], f"channel list --json: {listing}"
    text = cli.cli_ok("channel", "list").stdout
    assert "demo" in text and "plain" in text, f"channel list does not show both channels: {text!r}"


def test_set_changes_only_given_fields_and_replaces_sources(cli, media):
    cli.cli_ok("channel", "add", "demo", "--source", f"file://{media['demo']}", "--title", "Demo",
               "--number", "7", "--group", "News")
    cli.cli_ok("channel", "set", "demo", "--title", "Renamed", "--source", "udp://@239.1.1.1:5000",
               "--source", "rtp://127.0.0.1:6000")
    ch = show(cli, "demo")
    assert ch["title"] == "Renamed", f"set --title did not apply: {ch}"
    assert ch["sources"] == ["udp://@239.1.1.1:5000", "rtp://127.0.0.1:6000"], \
        f"set --source should replace the whole list, in order: {ch['sources']}"
    assert ch["number"] == 7 and ch["group"] == "News", f"set changed fields it was not given: {ch}"


def test_rm(cli, media):
    cli.cli_ok("channel", "add", "demo", "--source", f"file://{media['demo']}")
    cli.cli_ok("channel", "add", "other", "--source", f"file://{media['short']}")
    cli.cli_ok("channel", "rm", "demo")
    names = [c["name"] for c in channels_of(cli.cli_ok("channel", "list", "--json").stdout)]
    assert names == ["other"], f"after rm demo, channel list shows {names}"
    assert_rejected(cli.cli("channel", "show", "demo"), "demo", what="show of a removed channel")


def test_duplicate_channel_is_rejected(cli, media):
    first = f"file://{media['demo']}"
    cli.cli_ok("channel", "add", "demo", "--source", first)
    r = cli.cli("channel", "add", "demo", "--source", f"file://{media['short']}")
    assert_rejected(r, "'demo'", "exist", what="adding channel 'demo' twice")
    assert show(cli, "demo")["sources"] == [first], "the failed duplicate add changed the existing channel"


@pytest.mark.parametrize("url", [
    "foo://bar", "not a url", "udp://", "http://", "udp://127.0.0.1:notaport", "udp://127.0.0.1:70000",
    "rtp://:5000x", "file://",
])
def test_unparseable_source_is_rejected(cli, url):
    r = cli.cli("channel", "add", "bad", "--source", url)
    assert_rejected(r, "--source", what=f"channel add --source {url!r}")
    listing = channels_of(cli.cli_ok("channel", "list", "--json").stdout)
    assert listing == [], f"a rejected add still created a channel: {listing}"


def test_missing_source_is_rejected(cli):
    assert_rejected(cli.cli("channel", "add", "nosrc"), "--source", what="channel add without --source")


@pytest.mark.parametrize("name", ["Demo", "has space", "x" * 65, "dot.name", "slash/x", "ümlaut", "", "-"])
def test_bad_channel_name_is_rejected(cli, media, name):
    r = cli.cli("channel", "add", name, "--source", f"file://{media['demo']}")
    assert r.returncode == 1, f"channel name {name!r}: expected exit 1, got {r.returncode} ({r.stderr!r})"
    assert "name" in r.stderr.lower() or (name and name in r.stderr), \
        f"channel name {name!r}: the message should say the name is wrong: {r.stderr!r}"


@pytest.mark.parametrize("name", ["a", "x" * 64, "a-b_c9", "0"])
def test_good_channel_names_are_accepted(cli, media, name):
    cli.cli_ok("channel", "add", name, "--source", f"file://{media['demo']}")
    assert show(cli, name)["name"] == name


@pytest.mark.parametrize("value", ["abc", "1x", "1.5", "", "99999999999999999999"])
def test_non_numeric_number_is_rejected(cli, media, value):
    r = cli.cli("channel", "add", "demo", "--source", f"file://{media['demo']}", "--number", value)
    assert_rejected(r, "--number", what=f"--number {value!r}")


@pytest.mark.parametrize("opt,value", [("--idle-timeout", "soon"), ("--idle-timeout", "-5"),
                                       ("--lag-policy", "drop")])
def test_bad_option_values_are_rejected(cli, media, opt, value):
    r = cli.cli("channel", "add", "demo", "--source", f"file://{media['demo']}", opt, value)
    assert_rejected(r, opt, what=f"{opt} {value!r}")


def test_unknown_option_is_rejected(cli, media):
    r = cli.cli("channel", "add", "demo", "--source", f"file://{media['demo']}", "--colour", "red")
    assert_rejected(r, "--colour", what="channel add --colour")


@pytest.mark.parametrize("cmd", [["show"], ["rm"], ["set", "--title", "x"]], ids=lambda c: c[0])
def test_unknown_channel_is_named(cli, cmd):
    r = cli.cli("channel", cmd[0], "nosuch", *cmd[1:])
    assert_rejected(r, "nosuch", what=f"channel {cmd[0]} nosuch")


def test_database_is_sqlite_wal_and_data_dir_options(cli, media, tmp_path):
    cli.cli_ok("channel", "add", "demo", "--source", f"file://{media['demo']}")
    db = cli.data_dir / "antenne.db"
    assert db.is_file(), f"no database at {db}; data folder holds {os.listdir(cli.data_dir)}"
    r = subprocess.run(["sqlite3", str(db), "PRAGMA journal_mode; PRAGMA integrity_check;"],
                       capture_output=True, text=True, timeout=30)
    assert r.stdout.split() == ["wal", "ok"], f"journal mode / integrity: {r.stdout!r} {r.stderr!r}"
    # --data after the subcommand, and ANTENNE_DATA from the environment
    r = run("channel", "list", "--json", "--data", str(cli.data_dir))
    assert r.returncode == 0 and [c["name"] for c in channels_of(r.stdout)] == ["demo"], \
        f"--data after the subcommand: {r.returncode} {r.stdout!r} {r.stderr!r}"
    env = dict(os.environ, ANTENNE_DATA=str(cli.data_dir))
    r = run("channel", "list", "--json", env=env)
    assert r.returncode == 0 and [c["name"] for c in channels_of(r.stdout)] == ["demo"], \
        f"ANTENNE_DATA: {r.returncode} {r.stdout!r} {r.stderr!r}"
    # the default data folder is ./var
    r = run("channel", "add", "x", "--source", f"file://{media['demo']}", env={
        k: v for k, v in os.environ.items() if k != "ANTENNE_DATA"}, cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "var" / "antenne.db").is_file(), \
        f"without --data the database should be ./var/antenne.db: {r.returncode} {r.stderr!r}"
