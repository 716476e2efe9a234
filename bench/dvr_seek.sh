#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# dvr_seek.sh -- seek latency in a 24-hour archive (issue 6): time to first byte and total time of
# index-FROM-60.m3u8 for 1000 random FROM across the 24 h, and of the first segment each lists, beside nginx.
#
# Usage: bench/dvr_seek.sh [--seeks N] [--hours H] [--dur S] [--data sparse|real] [--seed N] [BUILD_DIR]
#        (BUILD_DIR: default build-release, set up as a release build if absent)
#
# 1. bench/dvr_fill writes a HOURS-long archive of channel "seek" (2 s segments of 999,972 bytes, i.e.
#    4 Mbit/s; chunks of one hour, as the recorder makes them) into a fresh data folder: the .idx records
#    are real, the .ts files sparse (ftruncate) except the first 3,760 bytes (20 TS packets of demo.ts) of
#    every segment. With --data real, the segments the run will ask for are written whole (about 2 GB
#    for 1000 seeks). Everything is synced and dropped from the page cache, so real bytes come from the
#    disk on first read; holes are zero pages the kernel makes without any disk I/O.
#    The archive ends 2 minutes before now.
# 2. antenne serves it: channel "seek" --archive (its folder is that archive), source file://demo.ts, so
#    the channel records live meanwhile, as a production channel would.
# 3. nginx (Debian's, worker_processes 1, sendfile, open_file_cache, no access log) serves, from files:
#    a copy of one antenne playlist (index-FROM-60.m3u8, same size) and of one antenne segment (same
#    bytes), and the archive's own chunk files, for Range requests of one segment's bytes each.
# 4. bench/dvr_seek, for each of N FROM (uniform over the archive, seeded): antenne's playlist, then the
#    first segment it lists; nginx's static playlist, static segment and one Range request on a random
#    segment of the chunk files (another random set, so it is as cold as antenne's).
# Prints min / median / p90 / p99 / max of both times per kind of request, the goal's verdict (median
# time to first byte <= 10 ms for the playlist and for the segment), and the load of the machine.
#
# Environment: BENCH_SEEK_PAUSE_MS (20, between seeks), BENCH_OUT (kept: the dvr_seek output, the lists,
# nginx.conf, server log; default BUILD_DIR/bench-results/dvr-seek-DATE).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

prog=dvr_seek
usage() { awk 'NR > 2 && /^#/ { if (!/shellcheck/) { sub(/^# ?/, ""); print } next } NR > 2 { exit }' "$0"; }
seeks=1000 hours=24 dur=60 data_kind=sparse seed=1 build=''
while (($#)); do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --seeks) seeks=${2:?}; shift 2 ;;
    --hours) hours=${2:?}; shift 2 ;;
    --dur) dur=${2:?}; shift 2 ;;
    --data) data_kind=${2:?}; shift 2 ;;
    --seed) seed=${2:?}; shift 2 ;;
    -*) echo "$prog: unknown option $1" >&2; usage >&2; exit 1 ;;
    *) build=$1; shift ;;
    esac
done
num_ok() { [[ "$1" =~ ^[0-9]+$ ]] && (($1 >= $2 && $1 <= $3)); }
num_ok "$seeks" 1 100000 || { echo "$prog: --seeks 1..100000" >&2; exit 1; }
num_ok "$hours" 1 720 || { echo "$prog: --hours 1..720" >&2; exit 1; }
num_ok "$dur" 1 $((hours * 3600 - 1 < 43200 ? hours * 3600 - 1 : 43200)) || { echo "$prog: --dur 1..43200, shorter than the archive" >&2; exit 1; }
[[ "$data_kind" == sparse || "$data_kind" == real ]] || { echo "$prog: --data sparse or real" >&2; exit 1; }
[[ "$seed" =~ ^[0-9]+$ ]] || { echo "$prog: --seed N" >&2; exit 1; }
pause=${BENCH_SEEK_PAUSE_MS:-20}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x "$NGINX" ]] || die "nginx not found (apt-get install nginx-light)"
# load_now -> "L1, L5, L15 (tasks waiting, last minute: cpu X %, io Y %)": load averages, and the share of the
# last minute in which some task waited for a CPU / for I/O (/proc/pressure, when the kernel has it)
load_now() {
    local psi=''
    [[ -r /proc/pressure/cpu ]] && psi=$(awk '/^some/ { sub("avg60=", "", $3); printf "%s%s %s %%", (n++ ? ", " : ""), FILENAME ~ /cpu/ ? "cpu" : "io", $3 }' \
        /proc/pressure/cpu /proc/pressure/io 2>/dev/null)
    echo "$(uptime | sed 's/.*load average: //')${psi:+ (tasks waiting, last minute: $psi)}"
}
bench_init "$build"
FILL=$BUILD/bench/dvr_fill
SEEK=$BUILD/bench/dvr_seek
[[ -x "$FILL" && -x "$SEEK" ]] || die "$FILL or $SEEK not built"
out=${BENCH_OUT:-$BUILD/bench-results/dvr-seek-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
bench_media
load_start=$(load_now)

# ---- the archive -------------------------------------------------------------------------------------------
seg_ms=2000
seg_bytes=999972 # 5319 TS packets: 4 Mbit/s x 2 s
chunk_s=3600
end_s=$(($(date +%s) - 120))
start_s=$((end_s - hours * 3600))
data=$TMP/data
archive=$data/archive/seek
mkdir -p "$data"
# FROM values (antenne), the segments nginx reads by Range, and (--data real) the segments written whole.
python3 - "$seed" "$seeks" "$start_s" "$end_s" "$dur" "$seg_ms" "$seg_bytes" "$chunk_s" "$data_kind" "$TMP" <<'EOF'
import random, sys
seed, n, start_s, end_s, dur, seg_ms, seg_bytes, chunk_s = map(int, sys.argv[1:9])
kind, tmp = sys.argv[9], sys.argv[10]
rnd = random.Random(seed)
start_ms, per_chunk = start_s * 1000, chunk_s * 1000 // seg_ms
total = (end_s - start_s) * 1000 // seg_ms
froms = [rnd.randint(start_s, end_s - dur) for _ in range(n)]
ranges = [rnd.randrange(total) for _ in range(n)]
with open(f"{tmp}/froms.txt", "w") as f:
    f.writelines(f"{x}\n" for x in froms)
with open(f"{tmp}/ranges.txt", "w") as f:
    for k in ranges:
        chunk = start_ms + (k // per_chunk) * per_chunk * seg_ms
        first = (k % per_chunk) * seg_bytes
        f.write(f"/archive/{chunk:016d}.ts {first} {first + seg_bytes - 1}\n")
with open(f"{tmp}/full.txt", "w") as f:
    if kind == "real":
        for x in froms:
            f.write(f"{start_ms + (x * 1000 - start_ms) // seg_ms * seg_ms}\n")
        for k in ranges:
            f.write(f"{start_ms + k * seg_ms}\n")
EOF
cp "$TMP/froms.txt" "$TMP/ranges.txt" "$out/"
full=()
[[ $data_kind == real ]] && full=(--full-list "$TMP/full.txt")
note "writing a ${hours} h archive ($data_kind) into $archive"
"$FILL" --dir "$archive" --start "$start_s" --hours "$hours" --segment-ms "$seg_ms" --segment-bytes "$seg_bytes" \
    --chunk-s "$chunk_s" --head "$DEMO_TS" "${full[@]}" >"$TMP/fill.txt" || die "dvr_fill failed"
cat "$TMP/fill.txt" >"$out/fill.txt"
fill_field() { sed -n 's/^RESULT.* '"$1"'=\([^ ]*\).*/\1/p' "$TMP/fill.txt"; }
segments=$(fill_field segments)
disk_kib=$(du -sk "$archive" | cut -f1)

# ---- antenne -----------------------------------------------------------------------------------------------
"$ANTENNE" --data "$data" channel add seek --source "file://$DEMO_TS" --archive >/dev/null ||
    die "antenne channel add seek failed"
admin_token "$data"
t0=$(date +%s.%N)
server_serve "$data" "$data/server.log" "" --log-level info
t1=$(date +%s.%N)
base=http://127.0.0.1:$PORT/live/seek
loaded=$(http_get /api/v1/channels/seek | python3 -c 'import json, sys; r = json.load(sys.stdin)["recording"] or {}
print(r.get("segments", 0))')
((loaded >= segments)) || die "the server loaded $loaded segments, not $segments"
note "antenne pid $SERVER_PID on port $PORT: $loaded segments loaded, /healthz after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"

# ---- nginx -------------------------------------------------------------------------------------------------
ngx_dir=$TMP/nginx
mkdir -p "$ngx_dir/root/live/seek" "$ngx_dir/tmp"
mid=$(((start_s + end_s) / 2))
curl -sf --max-time 5 -o "$ngx_dir/root/live/seek/index.m3u8" "$base/index-$mid-$dur.m3u8" || die "GET index-$mid-$dur.m3u8 failed"
seg_uri=$(grep -m1 '^dvr-' "$ngx_dir/root/live/seek/index.m3u8")
curl -sf --max-time 5 -o "$ngx_dir/root/live/seek/seg.ts" "$base/$seg_uri" || die "GET $seg_uri failed"
NGX_PORT=$(free_port)
user_line=''
((EUID == 0)) && user_line='user root root;' # the files are in a private temp folder
cat >"$ngx_dir/nginx.conf" <<EOF
# written by bench/dvr_seek.sh
$user_line
daemon off;
worker_processes 1;
pid $ngx_dir/nginx.pid;
error_log $ngx_dir/error.log warn;
events {
    worker_connections 1024;
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
    client_body_temp_path $ngx_dir/tmp/body;
    proxy_temp_path $ngx_dir/tmp/proxy;
    fastcgi_temp_path $ngx_dir/tmp/fastcgi;
    uwsgi_temp_path $ngx_dir/tmp/uwsgi;
    scgi_temp_path $ngx_dir/tmp/scgi;
    server {
        listen 127.0.0.1:$NGX_PORT;
        root $ngx_dir/root;
        location /archive/ {
            alias $archive/;
        }
    }
}
EOF
cp "$ngx_dir/nginx.conf" "$out/nginx.conf"
nginx_start "$ngx_dir"
note "nginx pid $NGX_PID on port $NGX_PORT"

# ---- the seeks ---------------------------------------------------------------------------------------------
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
ngx_worker=$(pgrep -P "$NGX_PID" | head -n 1)
a0=$(cpu_ticks "$SERVER_PID") n0=$(cpu_ticks "$ngx_worker") b0=$(busy_ticks) w0=$(date +%s.%N)
rc=0
timeout $((seeks * 3 + 60)) "$SEEK" --antenne "$base" --from-file "$TMP/froms.txt" --dur "$dur" \
    --nginx "http://127.0.0.1:$NGX_PORT" --static-playlist /live/seek/index.m3u8 --static-segment /live/seek/seg.ts \
    --range-file "$TMP/ranges.txt" --pause-ms "$pause" >"$out/dvr_seek.txt" 2>"$out/dvr_seek.err" || rc=$?
a1=$(cpu_ticks "$SERVER_PID") n1=$(cpu_ticks "$ngx_worker") b1=$(busy_ticks) w1=$(date +%s.%N)
kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$SERVER_LOG" >&2; die "antenne exited during the run"; }
cp "$SERVER_LOG" "$out/server.log"
load_end=$(load_now)

echo "antenne archive seek latency ($(nproc) CPUs; $("$ANTENNE" --version 2>/dev/null || echo antenne) vs nginx $("$NGINX" -v 2>&1 | sed 's/.*\///'))"
echo "archive: $hours h of channel 'seek', $segments segments of $seg_ms ms and $seg_bytes bytes in $((hours * 3600 / chunk_s)) chunks;"
echo "  $(awk -v b="$(fill_field apparent_bytes)" 'BEGIN { printf "%.1f GB", b / 1e9 }') apparent, $((disk_kib / 1024)) MiB on disk ($data_kind: $(fill_field full_segments) segments written whole), written in $(fill_field seconds) s, then dropped from the page cache"
echo "$seeks seeks: index-FROM-$dur.m3u8 (FROM uniform over the archive, seed $seed) and its first segment; nginx: static copies"
echo "  of one playlist and one segment, and one Range request of a random segment of the chunk files per seek; $pause ms between seeks"
awk -v a0="$a0" -v a1="$a1" -v n0="$n0" -v n1="$n1" -v b0="$b0" -v b1="$b1" -v w0="$w0" -v w1="$w1" -v hz="$hz" 'BEGIN {
    s = w1 - w0
    printf "CPU over the %.1f s run, %% of one core: antenne %.1f, nginx %.1f, whole machine %.0f (of 200)\n",
        s, 100 * (a1 - a0) / hz / s, 100 * (n1 - n0) / hz / s, 100 * (b1 - b0) / hz / s }'
echo "load: before: $load_start; after: $load_end"
echo
cat "$out/dvr_seek.txt"
if [[ -s "$out/dvr_seek.err" ]]; then
    echo
    echo "errors (first 10 of $(wc -l <"$out/dvr_seek.err"); all in $out/dvr_seek.err):"
    head -n 10 "$out/dvr_seek.err"
fi
echo
echo "kept in $out"
exit "$rc"
