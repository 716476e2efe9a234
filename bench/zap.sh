#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# zap.sh -- zap-time benchmark: 100 new viewers of a 2 s GOP channel, time to a whole first keyframe.
#
# Usage: bench/zap.sh [BUILD_DIR]      (default build-release, set up as a release build if absent)
#
# Starts antenne on a free loopback port with channel "demo" (file playout of
# demo.ts, keyframe every 2 s), waits 3 s so the ring holds a keyframe, then
# runs bench/zap: each viewer is a fresh connection, timed from its request
# to the read that completes the first keyframe.
#
# Environment (all optional):
#   BENCH_ZAP_VIEWERS=100      viewers, one after another
#   BENCH_ZAP_PAUSE_MS=50      pause between them
#   BENCH_ZAP_VERBOSE=1        print every sample
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

prog=zap
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
    # the header comment, without the shebang, SPDX and shellcheck lines
    awk 'NR > 2 && /^#/ { if (!/shellcheck/) { sub(/^# ?/, ""); print } next } NR > 2 { exit }' "$0"
    exit 0
fi
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

viewers=${BENCH_ZAP_VIEWERS:-100}
pause=${BENCH_ZAP_PAUSE_MS:-50}
verbose=()
[[ -n "${BENCH_ZAP_VERBOSE:-}" ]] && verbose=(-v)

bench_init "${1:-}"
bench_media
server_start
sleep 3 # let the ring fill: a viewer must find a keyframe in it

echo "antenne zap time ($(nproc) CPUs; $("$ANTENNE" --version 2>/dev/null || echo antenne)), demo.ts: 2 s GOP, 4 Mbit/s"
rc=0
# 10 s per viewer at most, so the whole run is bounded too.
timeout $((viewers * 11 + 30)) "$ZAP" "${verbose[@]}" -n "$viewers" -p "$pause" -t 10 "$URL" || rc=$?
kill -0 "$SERVER_PID" 2>/dev/null || { note "antenne exited during the run"; tail -n 20 "$SERVER_LOG" >&2; rc=1; }
exit "$rc"
