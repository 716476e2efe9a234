#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# valgrind-integration.sh -- run the integration suite with every antenne process under valgrind memcheck.
#
# Usage: scripts/valgrind-integration.sh [pytest options...]     e.g. -k playlist -x
#        scripts/valgrind-integration.sh --summary                only re-print the summary of the last run's logs
#
# 1. builds a debug build without sanitizers in build-valgrind/ (valgrind and
#    ASan cannot be combined);
# 2. makes the test media in build-valgrind/media when missing (or uses $ANTENNE_MEDIA);
# 3. starts a private PostgreSQL (scripts/pg-test.sh), stopped at exit;
# 4. runs pytest on tests/integration with ANTENNE_BIN=scripts/valgrind-antenne,
#    so every server and CLI call runs under memcheck; a process with a memory
#    error or a definite leak exits 99 and fails its test. Tests whose timing
#    assertions cannot hold at valgrind's speed are deselected (list below);
# 5. scans every valgrind log (build-valgrind/valgrind-logs/valgrind.PID.log)
#    and prints a summary: processes run, logs with errors, errors per kind,
#    each distinct error with its stack.
# Exits non-zero if a valgrind log has an error or a test failed.
# docs/valgrind.md has the details and the result of the last recorded run.
#
# Environment: ANTENNE_VALGRIND_TIMEOUT (s, default 7200) bounds the pytest run;
# ANTENNE_VALGRIND_OPTS adds valgrind options (e.g. --track-origins=yes).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
build="build-valgrind"
logdir=$repo/$build/valgrind-logs

# --- the summary of the valgrind logs -------------------------------------------
# Prints the summary; exits 1 if any log holds an error (memcheck's own count,
# "ERROR SUMMARY: N errors", with N > 0), else 0.
summary() {
    python3 - "$logdir" <<'EOF'
import collections, glob, os, re, sys

logdir = sys.argv[1]
logs = sorted(glob.glob(os.path.join(logdir, "valgrind.*.log")), key=os.path.getmtime)
if not logs:
    print(f"valgrind: no logs in {logdir}")
    sys.exit(1)

PFX = re.compile(r"^==\d+== ?")
# Error headers of memcheck, by kind (a header line is followed by "   at ...").
KINDS = [
    (r"^Invalid read of size", "InvalidRead"),
    (r"^Invalid write of size", "InvalidWrite"),
    (r"^Invalid (free|delete|realloc)", "InvalidFree"),
    (r"^Mismatched (free|delete)", "MismatchedFree"),
    (r"^Conditional jump or move depends on uninitialised", "UninitCondition"),
    (r"^Use of uninitialised value", "UninitValue"),
    (r"^Syscall param .* uninitialised", "SyscallParamUninit"),
    (r"^Syscall param .* unaddressable", "SyscallParamUnaddressable"),
    (r"^Source and destination overlap", "Overlap"),
    (r"^Argument '.*' of function .* has a fishy", "FishyValue"),
    (r"^Jump to the invalid address", "InvalidJump"),
    (r"^Invalid (alignment|size) value", "InvalidAlignment"),
    (r"^.*bytes in [\d,]+ blocks are definitely lost", "Leak_DefinitelyLost"),
    (r"^Process terminating with default action of signal (?!9\b|15\b)", "FatalSignal"),
]
KINDS = [(re.compile(rx), k) for rx, k in KINDS]

servers = cli = complete = killed = 0
bad_logs = []
per_kind = collections.Counter()
distinct = collections.OrderedDict()   # (kind, stack) -> [count of logs, first log, header, stack lines]
for path in logs:
    lines = [PFX.sub("", l.rstrip("\n")) for l in open(path, errors="replace")]
    cmd = next((l[len("Command: "):] for l in lines if l.startswith("Command: ")), "")
    if " serve " in f" {cmd} ":
        servers += 1
    else:
        cli += 1
    summ = [l for l in lines if l.startswith("ERROR SUMMARY:")]
    if summ:
        complete += 1
    else:
        killed += 1   # SIGKILL (or still running): no leak check, but errors so far are in the log
    m = re.match(r"ERROR SUMMARY: ([\d,]+) errors from ([\d,]+) contexts", summ[-1]) if summ else None
    n_errors, n_contexts = (int(g.replace(",", "")) for g in m.groups()) if m else (0, 0)
    found = []
    for i, l in enumerate(lines):
        for rx, kind in KINDS:
            if rx.search(l):
                stack = []
                for s in lines[i + 1:]:
                    if not re.match(r"^\s+(at|by) 0x", s):
                        if stack:
                            break
                        continue
                    stack.append(re.sub(r"0x[0-9A-F]+: ", "", s.strip()))
                found.append((kind, l, stack))
                break
    if n_errors or found:
        bad_logs.append((path, cmd, n_errors))
    if n_contexts > len(found):   # errors of a kind not listed above (or leak kinds made errors by options)
        per_kind["Unclassified (see the log)"] += n_contexts - len(found)
    for kind, header, stack in found:
        per_kind[kind] += 1
        key = (kind, tuple(stack[:12]))
        d = distinct.setdefault(key, [0, path, header, stack])
        d[0] += 1

print(f"valgrind: {len(logs)} processes under memcheck: {servers} `antenne serve`, {cli} CLI calls")
print(f"valgrind: {complete} ran to their exit (leak check done), {killed} were killed (SIGKILL) before it")
print(f"valgrind: {len(bad_logs)} logs with errors")
for kind, n in per_kind.most_common():
    print(f"valgrind:   {kind}: {n} (error contexts, over all logs)")
for (kind, _), (n, path, header, stack) in distinct.items():
    print(f"\n--- {kind} in {n} log(s), e.g. {path}\n    {header}")
    for s in stack[:25]:
        print(f"      {s}")
for path, cmd, n in bad_logs:
    print(f"valgrind: {os.path.basename(path)}: {n} errors: {cmd[:200]}")
sys.exit(1 if bad_logs else 0)
EOF
}

if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
    sed -n '3,23p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
if [[ "${1:-}" == --summary ]]; then
    summary
    exit $?
fi

command -v valgrind >/dev/null 2>&1 || { echo "valgrind-integration: valgrind not found (apt-get install valgrind)" >&2; exit 1; }

# --- build: debug, no sanitizers, its own folder ---------------------------------
opts=(-Db_sanitize=none --buildtype=debug)
if [[ ! -f "$build/build.ninja" ]]; then
    meson setup "$build" "${opts[@]}"
else
    meson configure "$build" "${opts[@]}"
fi
ninja -C "$build" antenne

# --- media ----------------------------------------------------------------------
export ANTENNE_MEDIA=${ANTENNE_MEDIA:-$repo/$build/media}
./scripts/make-media.sh "$ANTENNE_MEDIA"

# --- PostgreSQL (the store's second backend), stopped whatever happens -----------
pg_dir=/tmp/antenne-valgrind-pg-$$
trap './scripts/pg-test.sh stop "$pg_dir" >/dev/null 2>&1 || true' EXIT
ANTENNE_TEST_PG_URL=$(./scripts/pg-test.sh start "$pg_dir")
export ANTENNE_TEST_PG_URL
echo "valgrind-integration: PostgreSQL at $ANTENNE_TEST_PG_URL"

# --- what cannot run under valgrind ----------------------------------------------
# memcheck runs antenne 10-50x slower (and serialises its threads); these tests
# assert a time or a rate that failed under it for that reason alone. Each
# entry is "node id (prefix)|reason"; everything else runs, including the
# timing tests that held with a margin under memcheck (failover within 1.5 s,
# a viewer starting beside 10,000 idle connections, revocation within 1 s,
# rate limits): docs/valgrind.md lists both, with the measured margins.
deselect=(
    "test_30_hls_play.py::test_hlsjs_plays_hls_and_ll_hls_in_chromium|hls.js on the low-latency playlist keeps about one part of buffer; with Chromium and memcheck sharing 2 cores a late part stalls it (non-fatal bufferStalledError, which the test counts)"
    "test_30_persistence.py::test_kill9_while_cli_writes_keeps_database_readable|wants >= 20 CLI writes in ~7.5 s; a CLI call under memcheck takes ~1 s"
    "test_40_subscribers.py::test_expiry_ends_a_running_stream|the subscription expires 4 s after the test starts, before its catalogue (3 CLI calls + API) is set up under memcheck"
    "test_50_metrics.py::test_lag_watchdog_says_what_held_the_loop|with --lag-warn-ms 2 the loop under memcheck is late all the time, so the last 'no step took long' line is not the SIGSTOP's 500 ms"
)

# --- run ------------------------------------------------------------------------
rm -rf "$logdir"
mkdir -p "$logdir"
export ANTENNE_BIN=$repo/scripts/valgrind-antenne
export ANTENNE_VALGRIND_REAL_BIN=$repo/$build/antenne
export ANTENNE_VALGRIND_LOGDIR=$logdir
# (junit_logging: the timings the tests print stay in the XML, to see the margins)
args=(-p no:cacheprovider -ra --junitxml="$build/pytest-junit.xml" -o junit_logging=system-out --durations=25)
for d in "${deselect[@]}"; do
    echo "valgrind-integration: deselected ${d%%|*} (${d#*|})"
    args+=(--deselect "${d%%|*}")   # node ids are relative to tests/integration (pytest.ini's rootdir)
done
start=$(date +%s)
rc=0
timeout --signal=INT --kill-after=60 "${ANTENNE_VALGRIND_TIMEOUT:-7200}" \
    /usr/bin/python3 -m pytest "${args[@]}" tests/integration "$@" || rc=$?
echo "valgrind-integration: pytest exited $rc after $(( $(date +%s) - start )) s"

vrc=0
summary || vrc=$?
if [[ $rc -ne 0 || $vrc -ne 0 ]]; then
    echo "valgrind-integration: FAILED (pytest $rc, valgrind logs with errors: $([[ $vrc -eq 0 ]] && echo no || echo yes))"
    exit 1
fi
echo "valgrind-integration: clean"
