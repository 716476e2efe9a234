#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# token_verify.sh -- signed-token verifications per second on one core, with references.
#
# Usage: bench/token_verify.sh [BUILD_DIR]   (default build-release, set up as a release build if absent)
#
# Runs BUILD_DIR/bench/token_verify pinned to one CPU (taskset, when there):
# valid, address-bound, tampered, malformed and unknown-key tokens, then raw
# libsodium HMAC-SHA256 over the same 19 payload bytes. Then, as a second
# reference, `openssl speed -evp sha256` on 64-byte blocks (OpenSSL uses the
# CPU's SHA extensions where it has them; libsodium's SHA-256 is portable C).
#
# Environment (all optional):
#   BENCH_SECONDS=2     seconds per case, all rounds together
#   BENCH_ROUNDS=8      rounds the cases take turns in (figures: median of them)
#   BENCH_TOKENS=1024   distinct tokens cycled through
#   BENCH_CPU=1         CPU to pin to (default: the last one)
set -euo pipefail

prog=token_verify
die() { echo "$prog: $*" >&2; exit 1; }
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
    awk 'NR > 2 && /^#/ { sub(/^# ?/, ""); print; next } NR > 2 { exit }' "$0"
    exit 0
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build-release}
if [[ -n "${1:-}" && -d "$build" ]]; then
    build=$(cd "$build" && pwd)
elif [[ "$build" != /* ]]; then
    build="$repo/$build"
fi
if [[ ! -f "$build/build.ninja" ]]; then
    echo "$prog: setting up a release build in $build" >&2
    meson setup "$build" "$repo" --buildtype=release -Db_sanitize=none >/dev/null || die "meson setup $build failed"
fi
ninja -C "$build" bench/token_verify >/dev/null || die "ninja -C $build bench/token_verify failed"
exe=$build/bench/token_verify
[[ -x $exe ]] || die "$exe not built"
if ldd "$exe" 2>/dev/null | grep -q libasan; then
    echo "$prog: warning: $exe is built with AddressSanitizer; figures will be far below a release build's" >&2
fi

seconds=${BENCH_SECONDS:-2}
rounds=${BENCH_ROUNDS:-8}
tokens=${BENCH_TOKENS:-1024}
cpus=$(nproc)
cpu=${BENCH_CPU:-$((cpus - 1))}
pin=()
command -v taskset >/dev/null && pin=(taskset -c "$cpu")

echo "$prog: $(uname -m), $cpus CPUs, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //')," \
     "libsodium $(pkg-config --modversion libsodium 2>/dev/null || echo '?'), load $(cut -d' ' -f1-3 /proc/loadavg)"
[[ ${#pin[@]} -gt 0 ]] && echo "$prog: pinned to CPU $cpu"
"${pin[@]}" "$exe" --seconds "$seconds" --rounds "$rounds" --tokens "$tokens"

if command -v openssl >/dev/null; then
    # "sha256  273920.83k" is thousands of bytes a second over 64-byte inputs.
    line=$("${pin[@]}" openssl speed -evp sha256 -bytes 64 -seconds "$seconds" 2>/dev/null | grep -E '^sha256 ' | tail -1 || true)
    if [[ -n $line ]]; then
        kbytes=$(awk '{ sub(/k$/, "", $2); print $2 }' <<<"$line")
        awk -v k="$kbytes" -v v="$(openssl version)" \
            'BEGIN { printf "ref: openssl speed -evp sha256, 64-byte inputs: %.0f hashes/s (%.0f MB/s; %s)\n", k * 1000 / 64, k / 1000, v }'
    else
        echo "$prog: openssl speed gave no sha256 line" >&2
    fi
fi
