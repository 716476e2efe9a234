#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# coverage.sh -- how much of each parser its saved inputs reach: builds the
# replay of each fuzz target with clang's source-based coverage, replays
# tests/fuzz/corpus/<target>/ and prints the line and branch coverage of the
# files that target is for (llvm-cov; no libFuzzer needed).
#
# Usage: tests/fuzz/coverage.sh [-o DIR] [TARGET...]
#   -o DIR   build folder (default build-fuzz-cov at the top of the repository)
#   TARGET   as for run.sh (default: all)
set -euo pipefail

prog=coverage.sh
die() { echo "$prog: $*" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$top/build-fuzz-cov
while getopts "o:h" opt; do
    case $opt in
    o) out=$(mkdir -p "$OPTARG" && cd "$OPTARG" && pwd) ;;
    *) sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//'; [[ $opt == h ]] && exit 0 || exit 1 ;;
    esac
done
shift $((OPTIND - 1))
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(ts psi http url token xmltv body m3u analyze rtp pes config)

# The parser files of each target (what docs/fuzzing.md lists).
declare -A files=(
    [ts]="ts/sync.c ts/demux.c" [psi]="ts/psi.c" [analyze]="ts/analyze.c"
    [pes]="ts/demux.c ts/es.c hls/probe.c" [rtp]="ingest/rtp.c" [url]="ingest/url.c"
    [http]="http/parser.c" [body]="admin/body.c" [token]="auth/token.c auth/cidr.c"
    [xmltv]="epg/xmltv.c epg/write.c" [m3u]="admin/playlist.c"
    [config]="core/fields.c core/parse.c auth/cidr.c auth/objects.c channel/config.c"
)

command -v clang >/dev/null || die "clang not found"
command -v llvm-cov >/dev/null && command -v llvm-profdata >/dev/null || die "llvm-cov and llvm-profdata not found (apt-get install llvm)"
deps=(libuv sqlite3 jansson libpq libsodium expat zlib)
cflags=(-std=c17 -g -O0 -D_GNU_SOURCE '-DANTENNE_VERSION="coverage"' -I"$top/src"
        -fprofile-instr-generate -fcoverage-mapping -Wno-missing-field-initializers $(pkg-config --cflags "${deps[@]}"))
libs=($(pkg-config --libs "${deps[@]}") -lpthread -lm)

mkdir -p "$out/obj"
objs=()
while IFS= read -r src; do
    obj=$out/obj/$(echo "${src#"$top"/src/}" | tr / _).o
    if [[ ! -e $obj || $src -nt $obj ]]; then
        clang "${cflags[@]}" -c "$src" -o "$obj"
    fi
    objs+=("$obj")
done < <(find "$top/src" -name '*.c' ! -path "$top/src/app/main.c" | sort)

printf '%-8s %-20s %6s %8s %9s\n' target file lines "line %" "branch %"
for t in "${targets[@]}"; do
    [[ -f $here/fuzz_$t.c ]] || die "no target '$t' (tests/fuzz/fuzz_$t.c)"
    exe=$out/cov-$t
    clang "${cflags[@]}" "$here/replay.c" "$here/fuzz_$t.c" "${objs[@]}" "${libs[@]}" -o "$exe"
    rm -f "$out/$t".profraw
    LLVM_PROFILE_FILE=$out/$t.profraw "$exe" "$here/corpus/$t" >/dev/null
    llvm-profdata merge -sparse "$out/$t.profraw" -o "$out/$t.profdata"
    # llvm-cov's table: Filename Regions Missed Cover Functions Missed Cover
    # Lines Missed Cover Branches Missed Cover
    for f in ${files[$t]}; do
        llvm-cov report "$exe" -instr-profile="$out/$t.profdata" "$top/src/$f" |
            awk -v t="$t" -v f="$f" '$1 ~ /\.c$/ { printf "%-8s %-20s %6s %8s %9s\n", t, f, $8, $10, $13 }'
    done
done
