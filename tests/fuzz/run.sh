#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh -- builds the fuzz targets with clang + libFuzzer (ASan, UBSan) and
# fuzzes each for a while, then merges inputs that reach new code into the
# seed corpus under tests/fuzz/corpus/<target>/.
#
# Usage: tests/fuzz/run.sh [-s SECONDS] [-j JOBS] [-n] [TARGET...]
#   -s SECONDS  how long to fuzz each target (default 60)
#   -j JOBS     parallel fuzzing jobs per target (default 1)
#   -n          do not merge new inputs into the seed corpus
#   TARGET      ts, psi, http, url, token, xmltv, body, m3u (default: all)
#
# Builds into build-fuzz/ at the top of the repository (ignored by git): the
# sources are compiled directly (src/**/*.c except src/app/main.c), so this
# needs no meson option. Crashes are written to build-fuzz/crashes/<target>/;
# replay one with build-fuzz/fuzz-<target> FILE, or add it to the corpus and
# run `meson test --suite fuzz`.
set -euo pipefail

prog=run.sh
die() { echo "$prog: $*" >&2; exit 1; }

seconds=60 jobs=1 merge=1
while getopts "s:j:nh" opt; do
    case $opt in
    s) seconds=$OPTARG ;;
    j) jobs=$OPTARG ;;
    n) merge=0 ;;
    *) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; [[ $opt == h ]] && exit 0 || exit 1 ;;
    esac
done
shift $((OPTIND - 1))
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(ts psi http url token xmltv body m3u)

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$top/build-fuzz
command -v clang >/dev/null || die "clang not found (apt-get install clang libclang-rt-dev)"
pkg-config --exists libuv sqlite3 jansson libpq libsodium expat zlib || die "development files of libuv, sqlite3, jansson, libpq, libsodium, expat and zlib are needed"

mkdir -p "$out/obj"
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
    (cd "$crashes" && "$exe" -max_total_time="$seconds" "${parallel[@]}" \
        -dict="$here/$t.dict" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$work" "$here/corpus/$t") || rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "$prog: $t: crash or leak; inputs in $crashes" >&2
        exit "$rc"
    fi
    if [[ $merge -eq 1 ]]; then
        "$exe" -merge=1 -use_counters=0 -max_len=8192 "$here/corpus/$t" "$work" 2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new files' || true
    fi
done
