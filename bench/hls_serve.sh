#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hls_serve.sh -- HLS serving speed: wrk against antenne's live segments and playlists, and against nginx
# serving the same bytes from files, 100 and 1000 connections, in one run.
#
# Usage: bench/hls_serve.sh [BUILD_DIR]      (default build-release, set up as a release build if absent)
#
# Starts antenne on a free loopback port with channel "demo" (file playout of
# demo.ts, 2 s GOP, --hls-window 30 when antenne has that option), waits until
# index.m3u8 lists a full window, then, in each of BENCH_HLS_ROUNDS rounds,
# for segments and playlists at each connection count runs wrk
# (bench/hls_wrk.lua: each request takes the next path of a list) twice,
# against antenne and against nginx (Debian's, with a config written here:
# worker_processes 1 like antenne's one loop thread, sendfile, tcp_nopush,
# open_file_cache, no access log), alternating which goes first:
#   segments   the URIs (/live/demo/<msn>.ts) of the live window's segments
#              that stay in the window for the pair's two runs; nginx serves
#              the same bytes, fetched from antenne into files just before
#   playlists  /live/demo/index.m3u8; nginx serves a copy taken just before
# Prints one table of medians over the rounds: requests/s, Gbit/s (wrk's
# bytes read, heads included, like its Transfer/sec), p99 latency, errors,
# server, wrk and other CPU, and antenne/nginx ratios; every run in runs.txt.
#
# Environment (all optional):
#   BENCH_HLS_CONNS="100 1000"       connection counts
#   BENCH_DURATION=10                each wrk run, seconds (8 at most if antenne has no --hls-window)
#   BENCH_WRK_THREADS=1              wrk threads (the machine's other core runs the server)
#   BENCH_NGINX_WORKERS=1            nginx worker_processes (antenne serves from one thread)
#   BENCH_HLS_WINDOW=30              --hls-window for the channel, segments
#   BENCH_HLS_PLAYLISTS=index.m3u8   playlists to measure (e.g. "index.m3u8 index.ll.m3u8")
#   BENCH_HLS_KINDS="segments playlists"
#   BENCH_HLS_ROUNDS=3               every pair of runs this many times (order alternating); the table shows medians
#   BENCH_HLS_NGINX_ONLY=1           no antenne: nginx serves segments cut from demo.ts by ffmpeg (tests this script)
#   BENCH_OUT=DIR                    keep wrk output, configs and logs (default BUILD_DIR/bench-results/hls-serve-DATE)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

prog=hls_serve
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
    awk 'NR > 2 && /^#/ { if (!/shellcheck/) { sub(/^# ?/, ""); print } next } NR > 2 { exit }' "$0"
    exit 0
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=hls_lib.sh
source "$here/hls_lib.sh"

conns=${BENCH_HLS_CONNS:-100 1000}
duration=${BENCH_DURATION:-10}
threads=${BENCH_WRK_THREADS:-1}
workers=${BENCH_NGINX_WORKERS:-1}
window=${BENCH_HLS_WINDOW:-30}
playlists=${BENCH_HLS_PLAYLISTS:-index.m3u8}
kinds=${BENCH_HLS_KINDS:-segments playlists}
rounds=${BENCH_HLS_ROUNDS:-3}
nginx_only=${BENCH_HLS_NGINX_ONLY:-}

command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x "$NGINX" ]] || die "nginx not found (apt-get install nginx-light)"
bench_init "${1:-}"
out=${BENCH_OUT:-$BUILD/bench-results/hls-serve-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
bench_media
hz=$(getconf CLK_TCK)

ngx_dir=$TMP/nginx
ngx_root=$ngx_dir/root
ngx_live=$ngx_root/live/demo
mkdir -p "$ngx_live" "$ngx_dir/tmp"

# ---- antenne ---------------------------------------------------------------------------------------------
target=2
if [[ -z "$nginx_only" ]]; then
    HLS_WINDOW=$window
    hls_channel_opts
    if [[ -z "$HLS_WINDOW_OPT" ]]; then
        window=6
        ((duration > 8)) && duration=8
        note "antenne has no --hls-window: default window of 6 segments, wrk runs of $duration s"
    fi
    hls_server_start "file://$DEMO_TS" "${HLS_OPTS[@]}"
    hls_wait_up 15
    note "waiting for index.m3u8 to list $window segments"
    hls_wait_window "$window" $((window * 3 + 30))
    hls_get index.m3u8 >"$out/index.m3u8" || die "GET index.m3u8 failed"
    target=$(sed -n 's/^#EXT-X-TARGETDURATION:\([0-9]*\).*/\1/p' "$out/index.m3u8")
    [[ -n "$target" ]] || die "index.m3u8 has no EXT-X-TARGETDURATION"
    note "antenne pid $SERVER_PID, $(find "/proc/$SERVER_PID/task" -mindepth 1 -maxdepth 1 | wc -l) threads; target duration $target s"
else
    note "BENCH_HLS_NGINX_ONLY: segments cut from $DEMO_TS by ffmpeg's hls muxer, nginx only"
    mkdir -p "$TMP/ff"
    ffmpeg -nostdin -hide_banner -loglevel error -y -i "$DEMO_TS" -map 0 -c copy -f hls -hls_time 2 \
        -hls_list_size 0 -hls_segment_filename "$TMP/ff/%d.ts" "$TMP/ff/index.m3u8" || die "ffmpeg -f hls failed"
fi

# select_segments SECONDS -> SEL: the URIs (relative, as "<msn>.ts") of the live window's segments that stay
# in it for SECONDS more, and their
# bytes copied into nginx's root (replacing the previous set), plus a copy of the playlist
SEL=()
select_segments() {
    local need=$1 pl=$TMP/select.m3u8 skip n uri
    local -a all=()
    SEL=()
    rm -f "$ngx_live"/*.ts
    if [[ -n "$nginx_only" ]]; then
        cp "$TMP/ff/index.m3u8" "$ngx_live/index.m3u8"
        mapfile -t SEL < <(playlist_segments "$TMP/ff/index.m3u8" | awk '{ print $3 }')
        for uri in "${SEL[@]}"; do cp "$TMP/ff/$uri" "$ngx_live/"; done
        return 0
    fi
    hls_get index.m3u8 >"$pl" || die "GET index.m3u8 failed"
    mapfile -t all < <(playlist_segments "$pl" | awk '{ print $3 }')
    n=${#all[@]}
    ((n > 0)) || die "index.m3u8 lists no segment"
    # The oldest segment leaves the window within one target duration, the next within two, ...
    skip=$(((need + target - 1) / target))
    ((skip < n)) || return 1
    SEL=("${all[@]:skip}")
    for uri in "${SEL[@]}"; do
        [[ "$uri" =~ ^[A-Za-z0-9._-]+$ ]] || die "segment URI '$uri' is not a plain relative name"
        curl -sf --max-time 5 -o "$ngx_live/$uri" "$HLS_BASE/$uri" || die "GET $uri failed"
    done
    for f in $playlists; do
        hls_get "$f" >"$ngx_live/$f" || die "GET $f failed"
    done
    return 0
}

# ---- nginx -----------------------------------------------------------------------------------------------
NGX_PORT=$(free_port)
user_line=''
((EUID == 0)) && user_line='user root root;' # the files are in a private temp folder
cat >"$ngx_dir/nginx.conf" <<EOF
# written by bench/hls_serve.sh
$user_line
daemon off;
worker_processes $workers;
worker_rlimit_nofile 65536;
pid $ngx_dir/nginx.pid;
error_log $ngx_dir/error.log warn;
events {
    worker_connections 16384;
}
http {
    types {
        video/mp2t ts;
        application/vnd.apple.mpegurl m3u8;
    }
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    open_file_cache max=10000 inactive=300s;
    open_file_cache_valid 300s;
    open_file_cache_errors on;
    client_body_temp_path $ngx_dir/tmp/body;
    proxy_temp_path $ngx_dir/tmp/proxy;
    fastcgi_temp_path $ngx_dir/tmp/fastcgi;
    uwsgi_temp_path $ngx_dir/tmp/uwsgi;
    scgi_temp_path $ngx_dir/tmp/scgi;
    server {
        # the same backlog as antenne's listen socket
        listen 127.0.0.1:$NGX_PORT backlog=4096;
        root $ngx_root;
        # the headers antenne sends, so the heads are about the same size
        location ~ \.ts\$ {
            add_header Cache-Control "max-age=3600, immutable";
            add_header Access-Control-Allow-Origin "*";
        }
        location ~ \.m3u8\$ {
            add_header Cache-Control "max-age=1";
            add_header Access-Control-Allow-Origin "*";
        }
    }
}
EOF
cp "$ngx_dir/nginx.conf" "$out/nginx.conf"
nginx_start "$ngx_dir"
note "nginx $("$NGINX" -v 2>&1 | sed 's/.*\///') pid $NGX_PID on port $NGX_PORT, $workers worker(s)"

# ---- runs ------------------------------------------------------------------------------------------------
declare -A R # R[CELL/TARGET/ROUND/FIELD], CELL = WHAT/CONNS with WHAT "segments" or a playlist name
cells=()     # in the order of the table
declare -A LABEL

# server_pids TARGET -> the pids whose CPU time counts as that server's
server_pids() {
    if [[ $1 == antenne ]]; then
        echo "$SERVER_PID"
    else
        echo "$NGX_PID" "$(pgrep -P "$NGX_PID" | tr '\n' ' ')"
    fi
}

# run_wrk CELL TARGET ROUND PATHS... -> one wrk run, its figures in R
run_wrk() {
    local cell=$1 tgt=$2 round=$3 port log cpu0 cpu1 busy0 busy1 pids c=${1##*/}
    shift 3
    if [[ $tgt == antenne ]]; then port=$PORT; else port=$NGX_PORT; fi
    log=$out/wrk-${cell//\//-}-$tgt-$round.txt
    pids=$(server_pids "$tgt")
    # shellcheck disable=SC2086
    cpu0=$(pids_cpu_ticks $pids)
    busy0=$(busy_ticks)
    note "round $round: ${cell%/*}, $c connections, $tgt: wrk -t$threads -c$c -d${duration}s over $# path(s)"
    timeout $((duration + 40)) /usr/bin/time -f '%U %S' -o "$log.time" \
        wrk -t"$threads" -c"$c" -d"${duration}s" --timeout 10s -s "$here/hls_wrk.lua" \
        "http://127.0.0.1:$port" -- "$@" >"$log" 2>&1 || note "wrk exited with an error (see $log)"
    # shellcheck disable=SC2086
    cpu1=$(pids_cpu_ticks $pids)
    busy1=$(busy_ticks)
    grep -q '^RESULT' "$log" || { cat "$log" >&2; die "wrk printed no RESULT line"; }
    local line
    line=$(awk -v t0="$cpu0" -v t1="$cpu1" -v b0="$busy0" -v b1="$busy1" -v hz="$hz" \
        -v wt="$(tail -n 1 "$log.time" 2>/dev/null)" '
        /^RESULT/ {
            for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            s = v["duration_us"] / 1e6
            split(wt, w, " ")
            srv = (t1 - t0) / hz
            other = (b1 - b0) / hz - srv - (w[1] + w[2])
            printf "%.1f %.3f %.2f %d %.0f %.0f %.0f\n", v["requests"] / s, v["bytes"] * 8 / s / 1e9, v["p99_us"] / 1000,
                v["errors"], 100 * srv / s, 100 * (w[1] + w[2]) / s, (other > 0 ? 100 * other / s : 0)
        }' "$log")
    local -a f
    local i k=$cell/$tgt/$round
    read -r -a f <<<"$line"
    i=0
    for field in rps gbps p99 err scpu wcpu ocpu; do
        R[$k/$field]=${f[i]}
        i=$((i + 1))
    done
    if [[ $tgt == antenne ]]; then
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$SERVER_LOG" >&2; die "antenne exited during the run"; }
    fi
}

# median VALUES... -> the median (mean of the middle two for an even count)
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-";
        else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# cell_row CELL TARGET -> one line of the summary: medians over the rounds, ratios of the same round's pair
cell_row() {
    local cell=$1 tgt=$2 field r v a b
    local -A m
    local -a vals ratios gratios
    for field in rps gbps p99 scpu wcpu ocpu; do
        vals=()
        for ((r = 1; r <= rounds; r++)); do
            v=${R[$cell/$tgt/$r/$field]:-}
            [[ -n "$v" ]] && vals+=("$v")
        done
        m[$field]=$(median "${vals[@]}")
    done
    m[err]=0
    for ((r = 1; r <= rounds; r++)); do m[err]=$((m[err] + ${R[$cell/$tgt/$r/err]:-0})); done
    local rr='-' rg='-' range='-'
    if [[ $tgt == antenne && -z "$nginx_only" ]]; then
        ratios=()
        gratios=()
        for ((r = 1; r <= rounds; r++)); do
            a=${R[$cell/antenne/$r/rps]:-}
            b=${R[$cell/nginx/$r/rps]:-}
            [[ -n "$a" && -n "$b" ]] || continue
            ratios+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')")
            gratios+=("$(awk -v a="${R[$cell/antenne/$r/gbps]}" -v b="${R[$cell/nginx/$r/gbps]}" \
                'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')")
        done
        if ((${#ratios[@]})); then
            rr=$(median "${ratios[@]}" | awk '{ printf "%.2f", $1 }')
            rg=$(median "${gratios[@]}" | awk '{ printf "%.2f", $1 }')
            range=$(printf '%s\n' "${ratios[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }')
        fi
    fi
    printf "%-22s %-8s %6s %11.1f %8.3f %8.2f %7s %8.0f %8.0f %10.0f %9s %11s %10s\n" "${LABEL[$cell]}" "$tgt" \
        "${cell##*/}" "${m[rps]}" "${m[gbps]}" "${m[p99]}" "${m[err]}" "${m[scpu]}" "${m[wcpu]}" "${m[ocpu]}" \
        "$rr" "$range" "$rg"
}

raw=$out/runs.txt
printf "%-5s %-26s %-8s %6s %11s %8s %8s %7s %8s %8s %10s\n" round what target conns "requests/s" Gbit/s "p99 ms" \
    errors "srv CPU%" "wrk CPU%" "other CPU%" >"$raw"
pair=0
for ((round = 1; round <= rounds; round++)); do
    for kind in $kinds; do
        for c in $conns; do
            if [[ $kind == segments ]]; then
                what=(segments)
            else
                read -r -a what <<<"$playlists"
            fi
            for w in "${what[@]}"; do
                cell=$w/$c
                ((round == 1)) && cells+=("$cell")
                first=antenne
                # Alternate which target goes first; when nginx goes first the segments must outlive two runs.
                if [[ -n "$nginx_only" ]]; then
                    select_segments 0
                    first=nginx
                elif ((pair % 2 == 1)) && select_segments $((2 * duration + 6)); then
                    first=nginx
                else
                    select_segments $((duration + 3)) ||
                        die "the window is too short to keep any segment for a ${duration} s run; lower BENCH_DURATION"
                fi
                pair=$((pair + 1))
                paths=()
                if [[ $kind == segments ]]; then
                    for uri in "${SEL[@]}"; do paths+=("/live/demo/$uri"); done
                    bytes=0
                    for uri in "${SEL[@]}"; do bytes=$((bytes + $(stat -c %s "$ngx_live/$uri"))); done
                    label="segments ${SEL[0]%.ts}..${SEL[-1]%.ts}"
                    LABEL[$cell]="segments (${#SEL[@]})"
                    note "$label: ${#SEL[@]} files, $bytes bytes, the same on both sides"
                else
                    paths=("/live/demo/$w")
                    label=$w
                    LABEL[$cell]=$w
                fi
                targets=(antenne nginx)
                [[ $first == nginx ]] && targets=(nginx antenne)
                [[ -n "$nginx_only" ]] && targets=(nginx)
                for tgt in "${targets[@]}"; do
                    run_wrk "$cell" "$tgt" "$round" "${paths[@]}"
                    k=$cell/$tgt/$round
                    printf "%-5s %-26s %-8s %6s %11s %8s %8s %7s %8s %8s %10s\n" "$round" "$label" "$tgt" "$c" \
                        "${R[$k/rps]}" "${R[$k/gbps]}" "${R[$k/p99]}" "${R[$k/err]}" "${R[$k/scpu]}" "${R[$k/wcpu]}" \
                        "${R[$k/ocpu]}" >>"$raw"
                done
            done
        done
    done
done

[[ -n "$nginx_only" ]] || cp "$SERVER_LOG" "$out/server.log"
cp "$ngx_dir/error.log" "$out/nginx-error.log" 2>/dev/null || true

echo
echo "HLS serving speed over loopback ($(nproc) CPUs; $("$ANTENNE" --version 2>/dev/null || echo antenne) vs nginx $("$NGINX" -v 2>&1 | sed 's/.*\///'))"
echo "wrk -t$threads -d${duration}s --timeout 10s, keep-alive, $rounds round(s) (medians); nginx worker_processes $workers,"
echo "sendfile, tcp_nopush, open_file_cache. Gbit/s counts heads and bodies (wrk's Transfer/sec). CPU % is of one core"
echo "over a run; other = every other process on the machine (/proc/stat), high means a disturbed run. Ratios are"
echo "antenne / nginx of the same round's pair (median, and range of requests/s over the rounds)."
echo "every run: $raw"
echo
printf "%-22s %-8s %6s %11s %8s %8s %7s %8s %8s %10s %9s %11s %10s\n" what target conns "requests/s" Gbit/s "p99 ms" \
    errors "srv CPU%" "wrk CPU%" "other CPU%" "ratio r/s" "r/s range" "ratio Gb/s"
for cell in "${cells[@]}"; do
    [[ -n "$nginx_only" ]] || cell_row "$cell" antenne
    cell_row "$cell" nginx
done
