#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hls_latency.sh -- HLS and LL-HLS latency on loopback: from the moment the source sends a picture to the
# moment a player holds it (bench/hls_latency.py), and hls.js's own latency figure in headless Chromium.
#
# Usage: bench/hls_latency.sh [BUILD_DIR]      (default build-release, set up as a release build if absent)
#
# Starts antenne on a free loopback port with channel "demo" whose source is
# udp://127.0.0.1:PORT, and a live sender: `ffmpeg -re` reading a long file
# (demo.ts concatenated, so no loop glitch) in real time and writing the same
# MPEG-TS to two UDP ports through its tee muxer, antenne's and a tap's. Once
# the channel is up and index.m3u8 lists 2 segments, bench/hls_latency.py
# runs three model players for BENCH_LATENCY_SECONDS at once:
#   ll-hint      LL-HLS, fetches each preload-hinted part (blocks until it exists)
#   ll-playlist  LL-HLS, blocking playlist reload, then fetches the new EXT-X-PART
#   plain        index.m3u8 polled every 100 ms, each new segment fetched at once
# and, per part or segment, latency = last byte at the player - the source
# sending its first PES (from the tap), + one part of player buffer for LL-HLS.
# Then, if tests/browser/node_modules (hls.js, playwright-core: the browser
# test harness installs them) and Chromium are there, bench/hls_hlsjs.mjs has
# hls.js play index.ll.m3u8 (lowLatencyMode) and index.m3u8 until currentTime
# advanced BENCH_LATENCY_SECONDS each, sampling every 0.25 s how far behind
# the source the picture on screen is (wall clock - hls.playingDate, through
# EXT-X-PROGRAM-DATE-TIME) and hls.latency (hls.js's distance to the live edge).
# Prints median/p95 per player and the goals: LL-HLS <= 2 s (0.33 s parts);
# plain HLS <= one segment + 0.5 s behind the source.
#
# Environment (all optional):
#   BENCH_LATENCY_SECONDS=20     each measurement
#   BENCH_LATENCY_PLAYERS=ll-hint,ll-playlist,plain
#   BENCH_LATENCY_POLL=0.1       plain player's playlist interval, seconds
#   BENCH_HLSJS=auto             0: skip hls.js; 1: fail without it
#   CHROMIUM=/usr/bin/chromium   the browser hls.js runs in
#   BENCH_HLS_TARGET=            --hls-target for the channel (antenne's default when unset)
#   BENCH_OUT=DIR                keep samples (JSON), logs, screenshots (default BUILD_DIR/bench-results/hls-latency-DATE)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

prog=hls_latency
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
    awk 'NR > 2 && /^#/ { if (!/shellcheck/) { sub(/^# ?/, ""); print } next } NR > 2 { exit }' "$0"
    exit 0
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=hls_lib.sh
source "$here/hls_lib.sh"

seconds=${BENCH_LATENCY_SECONDS:-20}
players=${BENCH_LATENCY_PLAYERS:-ll-hint,ll-playlist,plain}
poll=${BENCH_LATENCY_POLL:-0.1}
hlsjs=${BENCH_HLSJS:-auto}
browser_dir=$REPO/tests/browser
chromium=${CHROMIUM:-/usr/bin/chromium}

command -v ffmpeg >/dev/null || die "ffmpeg not found"
bench_init "${1:-}"
out=${BENCH_OUT:-$BUILD/bench-results/hls-latency-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
bench_media

use_hlsjs=''
if [[ "$hlsjs" != 0 ]]; then
    missing=''
    for f in node_modules/hls.js node_modules/playwright-core; do
        [[ -e "$browser_dir/$f" ]] || missing+=" tests/browser/$f"
    done
    [[ -x "$chromium" ]] || missing+=" $chromium"
    command -v node >/dev/null || missing+=" node"
    if [[ -z "$missing" ]]; then
        use_hlsjs=1
    elif [[ "$hlsjs" == 1 ]]; then
        die "hls.js run asked for, but missing:$missing"
    else
        note "no hls.js run, missing:$missing"
    fi
fi

# The source must outlast everything: the model players, and two hls.js runs with their start-up.
need=$((seconds + 30))
[[ -n "$use_hlsjs" ]] && need=$((need + 2 * (seconds + 40)))
loops=$(((need + 29) / 30))
src=$BUILD/bench-media/demo-x$loops.ts
if [[ ! -s "$src" ]]; then
    note "making $src: demo.ts $loops times over (the concat demuxer keeps the timestamps running)"
    list=$TMP/concat.txt
    for ((i = 0; i < loops; i++)); do echo "file '$DEMO_TS'"; done >"$list"
    ffmpeg -nostdin -hide_banner -loglevel error -y -f concat -safe 0 -i "$list" -map 0 -c copy \
        -f mpegts "$src.tmp" || die "ffmpeg concat failed"
    mv "$src.tmp" "$src"
fi

udp_port() {
    python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
in_port=$(udp_port)
tap_port=$(udp_port)
[[ "$in_port" != "$tap_port" ]] || tap_port=$(udp_port)

HLS_TARGET=${BENCH_HLS_TARGET:-}
hls_channel_opts
hls_server_start "udp://127.0.0.1:$in_port" "${HLS_OPTS[@]}"
note "antenne pid $SERVER_PID on port $PORT, source udp://127.0.0.1:$in_port, tap on $tap_port"

# The helper's tap listens before the first datagram goes out.
ready=$TMP/ready
go=$TMP/go
python3 "$here/hls_latency.py" --base "$HLS_BASE" --tap-port "$tap_port" --seconds "$seconds" \
    --players "$players" --poll "$poll" --ready "$ready" --go "$go" --json "$out/latency.json" \
    >"$out/latency.txt" 2>"$out/latency.err" &
helper=$!
BG_PIDS+=("$helper")
for ((i = 0; i < 100; i++)); do
    [[ -e "$ready" ]] && break
    kill -0 "$helper" 2>/dev/null || { cat "$out/latency.err" >&2; die "hls_latency.py exited"; }
    sleep 0.1
done
[[ -e "$ready" ]] || die "hls_latency.py not ready within 10 s"

ffmpeg -nostdin -hide_banner -loglevel error -re -i "$src" -map 0 -c copy -f tee \
    "[f=mpegts]udp://127.0.0.1:$in_port?pkt_size=1316|[f=mpegts]udp://127.0.0.1:$tap_port?pkt_size=1316" \
    >"$out/sender.log" 2>&1 &
sender=$!
BG_PIDS+=("$sender")
note "sender: ffmpeg -re $src -> udp $in_port + tap $tap_port (pid $sender)"

hls_wait_up 15
note "waiting for index.m3u8 to list 2 segments"
hls_wait_window 2 30
hls_get index.m3u8 >"$out/index.m3u8" || true
hls_get index.ll.m3u8 >"$out/index.ll.m3u8" || true
grep -q '^#EXT-X-PART:' "$out/index.ll.m3u8" || note "warning: index.ll.m3u8 lists no EXT-X-PART"
part_target=$(sed -n 's/^#EXT-X-PART-INF:.*PART-TARGET=\([0-9.]*\).*/\1/p' "$out/index.ll.m3u8")
target=$(sed -n 's/^#EXT-X-TARGETDURATION:\([0-9]*\).*/\1/p' "$out/index.m3u8")

note "model players ($players) for $seconds s"
touch "$go"
rc=0
for ((i = 0; i < (seconds + 60) * 10; i++)); do
    kill -0 "$helper" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$helper" 2>/dev/null && { note "hls_latency.py did not finish; stopping it"; kill "$helper"; }
wait "$helper" || rc=$?
cat "$out/latency.err" >&2
kill -0 "$sender" 2>/dev/null || note "warning: the sender stopped before the end (see $out/sender.log)"
kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$SERVER_LOG" >&2; die "antenne exited during the run"; }

# ---- hls.js ----------------------------------------------------------------------------------------------
# hlsjs NAME LOW_LATENCY -> hls.js in Chromium plays NAME until currentTime advanced $seconds s (bench/hls_hlsjs.mjs);
# summary of its samples after the first 2 s of play in $out/hlsjs-NAME.txt
hlsjs_rows=()
hlsjs() {
    local name=$1 ll=$2 log=$out/hlsjs-$1
    note "hls.js: $name (lowLatencyMode $ll) until currentTime advanced $seconds s"
    timeout $((seconds + 120)) node "$here/hls_hlsjs.mjs" --url "$HLS_BASE/$name" --seconds "$seconds" \
        --timeout $((seconds + 60)) --low-latency "$ll" --browser-dir "$browser_dir" --chromium "$chromium" \
        --screenshot "$log.png" >"$log.json" 2>"$log.err" || note "hls.js on $name: not ok (see $log.json)"
    python3 - "$log.json" "$name" <<'EOF' >"$log.txt" || true
import json, sys
try:
    res = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
except Exception as e:
    res = {"reason": "no output: %s" % e}
play = [s for s in res.get("samples", []) if not s.get("warmup")]
def pct(v, q):
    v = sorted(v)
    return v[max(0, min(len(v) - 1, int(round(q / 100 * len(v) + 0.4999)) - 1))] if v else float("nan")
behind = [s["behind"] for s in play if s.get("behind") is not None]
lat = [s["latency"] for s in play if s.get("latency") is not None]
print("RESULT playlist=%s n=%d behind_median=%.3f behind_p95=%.3f behind_min=%.3f behind_max=%.3f "
      "latency_median=%.3f latency_p95=%.3f latency_min=%.3f latency_max=%.3f stalls=%d errors=%d ok=%s hlsjs=%s" % (
    sys.argv[2], len(play), pct(behind, 50), pct(behind, 95), pct(behind, 0), pct(behind, 100),
    pct(lat, 50), pct(lat, 95), pct(lat, 0), pct(lat, 100), res.get("stalls") or 0, len(res.get("errors") or []),
    res.get("ok"), res.get("hlsVersion")))
if not res.get("ok"):
    print("reason: %s" % res.get("reason"))
EOF
    cat "$log.txt" >&2
    hlsjs_rows+=("$name $(sed -n 's/^RESULT //p' "$log.txt")")
}
if [[ -n "$use_hlsjs" ]]; then
    hlsjs index.ll.m3u8 1
    hlsjs index.m3u8 0
fi
kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$SERVER_LOG" >&2; die "antenne exited during the run"; }
cp "$SERVER_LOG" "$out/server.log"

# ---- report ----------------------------------------------------------------------------------------------
field() { sed -n 's/.* '"$1"'=\([^ ]*\).*/\1/p' <<<"$2"; }
echo
echo "HLS latency over loopback ($(nproc) CPUs; $("$ANTENNE" --version 2>/dev/null || echo antenne)); source ffmpeg -re, UDP;"
echo "target duration ${target:-?} s, part target ${part_target:-?} s; $seconds s per measurement; samples in $out"
sed -n 's/^MODEL /sender pacing: /p' "$out/latency.txt"
echo
printf "%-12s %6s %8s %8s %8s %8s %10s %10s %8s  %s\n" player n "median s" "p95 s" "min s" "max s" "delay med" "delay p95" \
    "PDT off" goal
while read -r line; do
    [[ $line == RESULT* ]] || continue
    p=$(field player "$line")
    n=$(field n "$line")
    med=$(field median "$line")
    p95=$(field p95 "$line")
    case $p in
        ll-*) goal=$(awk -v m="$p95" 'BEGIN { print (m <= 2.0 ? "p95 <= 2 s: met" : "p95 <= 2 s: NOT met") }') ;;
        plain) goal=$(awk -v o="$(field over_dur_p95 "$line")" -v d="$(field dur_median "$line")" \
            'BEGIN { printf "p95 - segment (%.2f s) = %.3f s <= 0.5 s: %s", d, o, (o <= 0.5 ? "met" : "NOT met") }') ;;
        *) goal='' ;;
    esac
    printf "%-12s %6s %8s %8s %8s %8s %10s %10s %8s  %s\n" "$p" "$n" "$med" "$p95" "$(field min "$line")" \
        "$(field max "$line")" "$(field delay_median "$line")" "$(field delay_p95 "$line")" \
        "$(field pdt_offset_median "$line" | sed 's/^nan$/-/')" "$goal"
    extra=''
    [[ "$(field unmatched "$line")" != 0 ]] && extra+=" unmatched=$(field unmatched "$line")"
    [[ "$(field hint_misses "$line")" != 0 ]] && extra+=" hint_misses=$(field hint_misses "$line")"
    [[ "$(field errors "$line")" != 0 ]] && extra+=" errors=$(field errors "$line")"
    [[ -n "$extra" ]] && echo "             ($p:$extra)"
done <"$out/latency.txt"
if ((${#hlsjs_rows[@]})); then
    echo
    echo "hls.js $(field hlsjs " ${hlsjs_rows[0]}") in Chromium, sampled every 0.25 s after the first 2 s of play:"
    echo "  behind  = wall clock - hls.playingDate (EXT-X-PROGRAM-DATE-TIME of the picture on screen): glass-to-glass"
    echo "  latency = hls.latency (hls.js's own distance to the live edge of its last playlist)"
    printf "%-14s %5s %10s %10s %10s %11s %11s %7s %7s %6s\n" playlist n "behind med" "behind p95" "behind max" \
        "latency med" "latency p95" stalls errors ok
    for r in "${hlsjs_rows[@]}"; do
        line=" $r"
        printf "%-14s %5s %10s %10s %10s %11s %11s %7s %7s %6s\n" "${r%% *}" "$(field n "$line")" \
            "$(field behind_median "$line")" "$(field behind_p95 "$line")" "$(field behind_max "$line")" \
            "$(field latency_median "$line")" "$(field latency_p95 "$line")" "$(field stalls "$line")" \
            "$(field errors "$line")" "$(field ok "$line")"
    done
fi
exit "$rc"
