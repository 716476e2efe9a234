#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh -- builds the fuzz targets with clang + libFuzzer (ASan, UBSan) and
# fuzzes each for a while, then merges inputs that reach new code into the
# seed corpus under tests/fuzz/corpus/<target>/.
#
# Usage: tests/fuzz/run.sh [-s SECONDS] [-j JOBS] [-o DIR] [-n] [TARGET...]
#   -s SECONDS  how long to fuzz each target (default 60)
#   -j JOBS     parallel fuzzing jobs per target (default 1)
#   -o DIR      build folder (default build-fuzz at the top of the repository)
#   -n          do not merge new inputs into the seed corpus
#   TARGET      ts, psi, http, url, token, xmltv, body, m3u, analyze, rtp,
#               pes, config (default: all)
#
# Builds into build-fuzz/ at the top of the repository (ignored by git): the
# sources are compiled directly (src/**/*.c except src/app/main.c), so this
# needs no meson option. Crashes are written to build-fuzz/crashes/<target>/;
# replay one with build-fuzz/fuzz-<target> FILE, or add it to the corpus and
# run `meson test --suite fuzz`. Each run's output, every line led by the
# seconds since it started, is kept in build-fuzz/logs/<target>.log, and a
# line per target (seconds run, executions, exec/s, final cov and ft,
# seconds to the last cov increase and to the last new input) is added to
# build-fuzz/logs/summary.tsv. Inputs are at most 8192 bytes, 32768 for
# analyze (see max_len_of).
set -euo pipefail

prog=run.sh
die() { echo "$prog: $*" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
seconds=60 jobs=1 merge=1 out=$top/build-fuzz
while getopts "s:j:o:nh" opt; do
    case $opt in
    s) seconds=$OPTARG ;;
    j) jobs=$OPTARG ;;
    o) out=$(mkdir -p "$OPTARG" && cd "$OPTARG" && pwd) ;;
    n) merge=0 ;;
    *) sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; [[ $opt == h ]] && exit 0 || exit 1 ;;
    esac
done
shift $((OPTIND - 1))
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(ts psi http url token xmltv body m3u analyze rtp pes config dvr)
command -v clang >/dev/null || die "clang not found (apt-get install clang libclang-rt-dev)"
pkg-config --exists libuv sqlite3 jansson libpq libsodium expat zlib || die "development files of libuv, sqlite3, jansson, libpq, libsodium, expat and zlib are needed"

# The longest input of a target: 8192 bytes, but fuzz_analyze needs more
# than 64 packets (TS_ANALYZE_MAX_PIDS PIDs) before the analyzer ever gives
# up a PID's entry for one the PAT or a PMT lists.
max_len_of() {
    case $1 in
    analyze) echo 32768 ;;
    *) echo 8192 ;;
    esac
}

mkdir -p "$out/obj" "$out/logs"
cflags=(-std=c17 -g -O1 -D_GNU_SOURCE '-DANTENNE_VERSION="fuzz"' -I"$top/src"
        -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
        -Wall -Wextra -Wno-missing-field-initializers $(pkg-config --cflags libuv sqlite3 jansson libpq libsodium expat zlib))
libs=($(pkg-config --libs libuv sqlite3 jansson libpq libsodium expat zlib) -lpthread -lm)

# The library, once for all targets.
objs=()
while IFS= read -r src; do
    obj=$out/obj/$(echo "${src#"$top"/src/}" | tr / _).o
    if [[ ! -e $obj || $src -nt $obj ]]; then
        clang "${cflags[@]}" -c "$src" -o "$obj"
    fi
    objs+=("$obj")
done < <(find "$top/src" -name '*.c' ! -path "$top/src/app/main.c" | sort)

for t in "${targets[@]}"; do
    [[ -f $here/fuzz_$t.c ]] || die "no target '$t' (tests/fuzz/fuzz_$t.c)"
    exe=$out/fuzz-$t
    max_len=$(max_len_of "$t")
    clang "${cflags[@]/fuzzer-no-link/fuzzer}" "$here/fuzz_$t.c" "${objs[@]}" "${libs[@]}" -o "$exe"

    # Fuzz in a scratch corpus seeded from the committed one, so the
    # committed corpus only grows by what the merge below finds new.
    work=$out/corpus/$t
    crashes=$out/crashes/$t
    mkdir -p "$work" "$crashes"
    echo "$prog: fuzzing $t for ${seconds}s ($jobs job(s))"
    parallel=()
    [[ $jobs -gt 1 ]] && parallel=(-jobs="$jobs" -workers="$jobs") # logs go to fuzz-N.log then
    rc=0
    log=$out/logs/$t.log
    printf -v started '%(%s)T' -1
    (cd "$crashes" && "$exe" -max_total_time="$seconds" "${parallel[@]}" \
        -dict="$here/$t.dict" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$work" "$here/corpus/$t" 2>&1) |
        while IFS= read -r line; do printf -v now '%(%s)T' -1; printf '%d %s\n' $((now - started)) "$line"; done |
        tee "$log" ||
        rc=${PIPESTATUS[0]}
    # seconds run, executions, exec/s, cov, ft, seconds to the last cov increase and to the last NEW
    awk -v t="$t" '
        $3 ~ /^(INITED|NEW|REDUCE|pulse|DONE)$/ {
            for (i = 4; i < NF; i++) { if ($i == "cov:") c = $(i + 1); if ($i == "ft:") ft = $(i + 1) }
            if (c + 0 > cov + 0) { cov = c; last_cov = $1 } }
        $3 == "NEW" { last_new = $1 }
        { end = $1 }
        /stat::number_of_executed_units:/ { execs = $NF }
        /stat::average_exec_per_sec:/ { rate = $NF }
        END { printf "%s\t%d\t%s\t%s\t%s\t%s\t%d\t%d\n", t, end, execs, rate, cov, ft, last_cov, last_new }' "$log" |
        tee -a "$out/logs/summary.tsv"
    if [[ $rc -ne 0 ]]; then
        echo "$prog: $t: crash or leak; inputs in $crashes" >&2
        exit "$rc"
    fi
    if [[ $merge -eq 1 ]]; then
        "$exe" -merge=1 -use_counters=0 -max_len="$max_len" "$here/corpus/$t" "$work" 2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new files' || true
    fi
done
