#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fanout.sh -- fan-out benchmark: one 4 Mbit/s channel to 1000, 5000, 10000 viewers on loopback.
#
# Usage: bench/fanout.sh [BUILD_DIR]      (default build-release, set up as a release build if absent)
#
# Measures loopback TCP with iperf3 (1 and 4 streams) as the ceiling, then for
# each viewer count starts a fresh antenne with one channel (file playout of
# demo.ts) and runs bench/loadgen against it, which also samples the server's
# CPU time and RSS from /proc around its measurement window. Prints one table.
#
# Environment (all optional):
#   BENCH_CLIENTS="1000 5000 10000"  viewer counts, one run each
#   BENCH_DURATION=20                measurement window per run, seconds
#   BENCH_RAMP=5 BENCH_SETTLE=2      connect spread and settle time before the window
#   BENCH_THREADS=1                  loadgen worker threads
#   BENCH_IPERF_SECONDS=5            each iperf3 run
#   BENCH_SLOW=0 BENCH_SLOW_RATE=1000000   slow readers per run and their bit/s
#   BENCH_OUT=DIR                    keep loadgen's full output there (default BUILD_DIR/bench-results/...)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

prog=fanout
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
    # the header comment, without the shebang, SPDX and shellcheck lines
    awk 'NR > 2 && /^#/ { if (!/shellcheck/) { sub(/^# ?/, ""); print } next } NR > 2 { exit }' "$0"
    exit 0
fi
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

clients=${BENCH_CLIENTS:-1000 5000 10000}
duration=${BENCH_DURATION:-20}
ramp=${BENCH_RAMP:-5}
settle=${BENCH_SETTLE:-2}
threads=${BENCH_THREADS:-1}
iperf_s=${BENCH_IPERF_SECONDS:-5}
slow=${BENCH_SLOW:-0}
slow_rate=${BENCH_SLOW_RATE:-1000000}

command -v iperf3 >/dev/null || die "iperf3 not found (apt-get install iperf3)"
bench_init "${1:-}"
out=${BENCH_OUT:-$BUILD/bench-results/fanout-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
bench_media

# iperf STREAMS -> sets gbps to the Gbit/s received over loopback (no subshell: BG_PIDS must see the server)
iperf() {
    local port json
    port=$(free_port)
    iperf3 -s -1 -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
    BG_PIDS+=($!)
    sleep 0.5
    json=$out/iperf3-P$1.json
    timeout $((iperf_s + 20)) iperf3 -c 127.0.0.1 -p "$port" -t "$iperf_s" -P "$1" -J >"$json" ||
        die "iperf3 -P $1 failed (see $json)"
    gbps=$(python3 -c 'import json, sys; print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' "$json")
}
note "iperf3 over loopback, ${iperf_s} s each"
iperf 1
iperf1=$gbps
iperf 4
iperf4=$gbps

# field KEY -> its value on the RESULT line of the current run's log
field() { result_field "$1" "$log"; }

rows=()
for n in $clients; do
    server_start
    sleep 3 # the ring holds a keyframe before the first viewer comes
    note "$n viewers: ramp $ramp s + settle $settle s + window $duration s"
    log=$out/loadgen-$n.txt
    timeout $((ramp + settle + duration + 60)) "$LOADGEN" --url "$URL" --clients "$n" --threads "$threads" \
        --ramp "$ramp" --settle "$settle" --duration "$duration" \
        --slow-readers "$slow" --slow-reader-rate "$slow_rate" --server-pid "$SERVER_PID" >"$log" || true
    sed 's/^/    /' "$log" >&2
    kill -0 "$SERVER_PID" 2>/dev/null || note "warning: antenne exited during the $n-viewer run"
    cp "$SERVER_LOG" "$out/server-$n.log"
    server_stop
    [[ -n "$(result_field clients "$log")" ]] || die "loadgen printed no RESULT line for $n viewers (see $log)"

    rows+=("$(awk -v n="$n" -v conn="$(field connected)" -v gbps="$(field gbps)" -v cpu="$(field server_cpu_s_per_gbit)" \
        -v rss0="$(field server_rss0_kib)" -v rss="$(field server_rss_kib)" -v share="$(field kept_up_share)" -v clock="$(field clock_min)" \
        -v cc="$(field cc_errors)" -v sync="$(field sync_errors)" -v lg="$(field loadgen_cpu_s)" -v win="$(field window_s)" -v top="$iperf4" \
        'BEGIN {
            per = conn > 0 && rss != "" ? sprintf("%.1f", (rss - rss0) / conn) : "-"
            pct = top > 0 ? 100 * gbps / top : 0
            printf "%8d %9d %8.3f %10.1f %10s %14s %8.2f %9.4f %8d %8d %12.0f\n", n, conn, gbps, pct,
                (cpu == "" ? "-" : cpu), per, 100 * share, clock, cc, sync, (win > 0 ? 100 * lg / win : 0)
        }')")
done

echo
echo "antenne fan-out of one 4 Mbit/s channel over loopback ($(nproc) CPUs; $("$ANTENNE" --version 2>/dev/null || echo antenne))"
echo "loopback iperf3: 1 stream $iperf1 Gbit/s, 4 streams $iperf4 Gbit/s"
echo "window ${duration} s after a ${ramp} s ramp and ${settle} s settle; kept up: the stream clock (PCR) advanced"
echo ">= 99 % of the window, no CC or sync error; loadgen threads $threads; full output in $out"
echo
printf "%8s %9s %8s %10s %10s %14s %8s %9s %8s %8s %12s\n" viewers connected Gbit/s "% iperf3-4" "CPU-s/Gbit" \
    "RSS KiB/viewer" "kept up%" "clock min" "CC err" "sync err" "loadgen CPU%"
printf '%s\n' "${rows[@]}"
