#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# playlist.sh -- personal playlist generation: a subscriber with 2,000 channels, GET /get/playlist.m3u?token=T,
# beside nginx serving the same bytes from a file. Goal: at most 5 ms per playlist.
#
# Usage: bench/playlist.sh [BUILD_DIR]      (default build-release, set up as a release build if absent)
#
# Builds only the antenne binary in BUILD_DIR, adds 2,000 on-demand channels
# (none runs) with `antenne channel add` to a fresh data folder (on /dev/shm
# when there: one SQLite commit each), starts `antenne serve` on a free
# loopback port, and through the admin API (bench/playlist_setup.py, admin
# token taken from the server log) creates a package "all" with all of them,
# a subscriber "u" (password "p", max_streams 0) and a token. It checks the
# playlist (200, 1 + 2 x 2,000 lines, 2,000 #EXTINF), copies it into an
# nginx root (Debian's nginx, config written here: worker_processes 1,
# sendfile, no access log) and measures:
#   curl      BENCH_CURL_N single requests, token form, then username/password
#             form (the first runs argon2id, the rest are cached): time_total
#   wrk       -t1 -cN -d10s --latency, N in BENCH_CONNS, against antenne and nginx
#             in turn (the order alternating), BENCH_ROUNDS rounds; plus the
#             username/password form against antenne at the first N
# Prints a table of medians over the rounds: requests/s, p50 and p99 latency,
# errors, server CPU ms per request and its kernel share (/proc/PID/stat over the run), other CPU%
# (the rest of the machine), the antenne/nginx ratios, and the goal line.
#
# antenne limits /playlist.m3u and /get/ to 10 requests a second per client
# address (bursts of 40), so one wrk from 127.0.0.1 would mostly measure 429s.
# wrk therefore runs with `Connection: close` and an LD_PRELOAD shim (compiled
# here with cc) that binds each new connection to the next of BENCH_SRC_ADDRS
# loopback addresses 127.1.x.y: each address then makes well under 10 requests
# a second. nginx gets the same (new connection per request, same shim), so
# both sides pay the same connection set-up; wrk's latency is from the request
# write to the last byte of the answer, without the connect.
#
# Environment (all optional):
#   BENCH_CHANNELS=2000        channels in the subscriber's package
#   BENCH_CONNS="1 10"         wrk connection counts
#   BENCH_DURATION=10          each wrk run, seconds
#   BENCH_ROUNDS=3             every pair of runs this many times (order alternating); the table shows medians
#   BENCH_CURL_N=5             single curl requests per form (at most 30)
#   BENCH_SRC_ADDRS=4096       loopback source addresses the shim rotates over
#   BENCH_GOAL_MS=5            the goal, ms per playlist (wrk p50 at the first connection count)
#   BENCH_SETUP=cli            cli: channels with `antenne channel add` before the server starts (linear);
#                              api: POST /api/v1/channels (each write re-applies the whole list: minutes)
#   BENCH_PERF=1               also `perf record -g` antenne for one more 10 s run; top symbols printed
#   BENCH_OUT=DIR              keep wrk output, playlists, config and logs (default BUILD_DIR/bench-results/playlist-DATE)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

prog=playlist
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
    awk 'NR > 2 && /^#/ { if (!/shellcheck/) { sub(/^# ?/, ""); print } next } NR > 2 { exit }' "$0"
    exit 0
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=hls_lib.sh
source "$here/hls_lib.sh" # pids_cpu_ticks, busy_ticks

channels=${BENCH_CHANNELS:-2000}
conns=${BENCH_CONNS:-1 10}
duration=${BENCH_DURATION:-10}
rounds=${BENCH_ROUNDS:-3}
curl_n=${BENCH_CURL_N:-5}
src_addrs=${BENCH_SRC_ADDRS:-4096}
goal_ms=${BENCH_GOAL_MS:-5}
perf_on=${BENCH_PERF:-}
setup=${BENCH_SETUP:-cli}
[[ $setup == cli || $setup == api ]] || die "BENCH_SETUP must be cli or api"
((curl_n >= 1 && curl_n <= 30)) || die "BENCH_CURL_N must be 1..30 (the rate limit's burst is 40)"
((src_addrs >= 1 && src_addrs <= 60000)) || die "BENCH_SRC_ADDRS must be 1..60000"

command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"
command -v cc >/dev/null || die "cc not found (needed for the source-address shim)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x "$NGINX" ]] || die "nginx not found (apt-get install nginx-light)"

# ---- build and temp dir (bench_init's, but only the antenne binary: the benchmark needs no other) --
playlist_init() {
    bench_build "${1:-}" antenne
    local base=${TMPDIR:-/tmp}
    [[ -z "${TMPDIR:-}" && -d /dev/shm && -w /dev/shm ]] && base=/dev/shm
    TMP=$(mktemp -d "$base/antenne-bench.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}

playlist_init "${1:-}"
out=${BENCH_OUT:-$BUILD/bench-results/playlist-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
hz=$(getconf CLK_TCK)

# ---- the source-address shim -----------------------------------------------------------------------------
cat >"$TMP/srcaddr.c" <<'EOF'
/* LD_PRELOAD for wrk (bench/playlist.sh): bind every connection to 127.0.0.0/8 to the next of
 * SRCADDR_COUNT addresses 127.1.x.y (y = 1..250), so that no address exceeds a per-address rate limit. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>

static atomic_uint counter;

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    static int (*real_connect)(int, const struct sockaddr *, socklen_t);
    static unsigned count;
    if (!real_connect) {
        real_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
        const char *env = getenv("SRCADDR_COUNT");
        count = env ? (unsigned)strtoul(env, NULL, 10) : 4096;
        if (count == 0 || count > 60000)
            count = 4096;
    }
    if (sa && sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in) &&
        ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24 == 127) {
        unsigned n = atomic_fetch_add(&counter, 1) % count;
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl(0x7f010000u | (n / 250) << 8 | (n % 250 + 1));
        int one = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        bind(fd, (const struct sockaddr *)&src, sizeof(src)); /* on failure: the kernel's choice */
    }
    return real_connect(fd, sa, len);
}
EOF
SHIM=$TMP/srcaddr.so
cc -O2 -shared -fPIC -o "$SHIM" "$TMP/srcaddr.c" -ldl || die "compiling the source-address shim failed"

# wrk's end-of-run figures as one line (requests, bytes, duration, errors, p50/p99/max in microseconds)
cat >"$TMP/result.lua" <<'EOF'
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d bytes=%d duration_us=%d errors=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
      summary.requests, summary.bytes, summary.duration,
      e.connect + e.read + e.write + e.status + e.timeout,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(99), latency.max))
end
EOF

# ---- antenne: channels from the command line, the rest through the admin API ----------------------------
DATA_DIR=$TMP/data
mkdir -p "$DATA_DIR"
SERVER_LOG=$TMP/server.log
t0=$(date +%s.%N)
ch_opts=()
if [[ $setup == cli ]]; then
    # Before the server starts: one process and one commit per channel, linear. (Through the API every write
    # makes the server re-apply the whole stored list, so 2,000 adds take minutes.)
    note "adding $channels on-demand channels with antenne channel add"
    for ((i = 1; i <= channels; i++)); do
        "$ANTENNE" --data "$DATA_DIR" channel add "$(printf 'ch%04d' "$i")" --source udp://@239.1.1.1:1234 \
            --on-demand --title "Channel $i" --number "$i" --group "G$(((i - 1) % 20 + 1))" --tvg-id "ch$i.tv" \
            --logo "http://logo.example/$i.png" >/dev/null || die "antenne channel add ch$i failed"
    done
    ch_opts=(--channels-exist)
fi
PORT=$(free_port)
# The default log level: the admin token is an info line.
"$ANTENNE" --data "$DATA_DIR" serve --listen "127.0.0.1:$PORT" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
for ((i = 0; i < 100; i++)); do # 10 s
    http_get /healthz >/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$SERVER_LOG" >&2; die "antenne serve exited"; }
    sleep 0.1
done
((i < 100)) || die "antenne did not answer /healthz on port $PORT within 10 s"
admin_token=$(sed -n 's/.*admin API token (shown once, keep it): *\([^ ]*\).*/\1/p' "$SERVER_LOG" | head -n 1)
[[ -n "$admin_token" ]] || { tail -n 20 "$SERVER_LOG" >&2; die "no admin API token in the server log"; }

note "antenne pid $SERVER_PID on port $PORT (data in $DATA_DIR); API: $([[ $setup == api ]] && echo "$channels channels, ")package, subscriber, token"
python3 "$here/playlist_setup.py" --port "$PORT" --admin-token "$admin_token" --channels "$channels" \
    "${ch_opts[@]}" --subscriber u --password p >"$TMP/setup.out" || die "bench/playlist_setup.py failed"
setup_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
playlist_url=$(sed -n 's/^playlist_url=//p' "$TMP/setup.out")
token=$(sed -n 's/^token=//p' "$TMP/setup.out")
[[ -n "$playlist_url" && -n "$token" ]] || die "playlist_setup.py printed no playlist_url or token"
note "set up in $setup_s s ($setup); playlist URL $playlist_url"
token_path="/get/playlist.m3u?token=$token"
login_path="/get/playlist.m3u?username=u&password=p"
[[ "$playlist_url" == *"$token_path" ]] || note "warning: playlist_url is not .../get/playlist.m3u?token=T (using $token_path)"

# check_playlist FILE LABEL -> dies unless FILE is the whole personal playlist
check_playlist() {
    local lines extinf urls
    lines=$(wc -l <"$1")
    extinf=$(grep -c '^#EXTINF:' "$1" || true)
    urls=$(grep -c "^http://.*/t/.*/live/ch[0-9]*\.ts$" "$1" || true)
    [[ "$(head -c 7 "$1")" == '#EXTM3U' ]] || die "$2: the body does not start with #EXTM3U"
    ((lines == 2 * channels + 1 && extinf == channels && urls == channels)) ||
        die "$2: $lines lines, $extinf #EXTINF, $urls stream URLs; expected $((2 * channels + 1)), $channels, $channels"
}

# curl_get ADDR PATH FILE -> "code connect_s starttransfer_s total_s" (one fresh connection from ADDR)
curl_get() {
    curl -s --max-time 30 --interface "$1" -o "$3" \
        -w '%{http_code} %{time_connect} %{time_starttransfer} %{time_total}\n' "http://127.0.0.1:$PORT$2"
}

# The curl requests come from 127.3.0.x, never used by the shim, a few each: under the burst of 40.
read -r code _ _ _ < <(curl_get 127.3.0.1 "$token_path" "$out/playlist-token.m3u")
[[ $code == 200 ]] || die "GET $token_path: HTTP $code"
check_playlist "$out/playlist-token.m3u" "token form"
body_bytes=$(stat -c %s "$out/playlist-token.m3u")
note "body: $(wc -l <"$out/playlist-token.m3u") lines, $channels entries, $body_bytes bytes"

curl_token=()
for ((i = 0; i < curl_n; i++)); do
    read -r code _ _ t < <(curl_get 127.3.0.2 "$token_path" /dev/null)
    [[ $code == 200 ]] || die "curl token form: HTTP $code"
    curl_token+=("$t")
done
read -r code _ _ login_first < <(curl_get 127.3.0.3 "$login_path" "$out/playlist-login.m3u")
[[ $code == 200 ]] || die "GET $login_path: HTTP $code"
check_playlist "$out/playlist-login.m3u" "username/password form"
curl_login=()
for ((i = 0; i < curl_n; i++)); do
    read -r code _ _ t < <(curl_get 127.3.0.3 "$login_path" /dev/null)
    [[ $code == 200 ]] || die "curl username/password form: HTTP $code"
    curl_login+=("$t")
done

# ---- nginx: the same bytes from a file -------------------------------------------------------------------
ngx_dir=$TMP/nginx
mkdir -p "$ngx_dir/root/get" "$ngx_dir/tmp"
cp "$out/playlist-token.m3u" "$ngx_dir/root/get/playlist.m3u"
NGX_PORT=$(free_port)
user_line=''
((EUID == 0)) && user_line='user root root;' # the files are in a private temp folder
cat >"$ngx_dir/nginx.conf" <<EOF
# written by bench/playlist.sh
$user_line
daemon off;
worker_processes 1;
worker_rlimit_nofile 65536;
pid $ngx_dir/nginx.pid;
error_log $ngx_dir/error.log warn;
events {
    worker_connections 16384;
}
http {
    types {
        audio/x-mpegurl m3u;
    }
    default_type application/octet-stream;
    charset utf-8;
    charset_types audio/x-mpegurl;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    open_file_cache max=100 inactive=300s;
    open_file_cache_valid 300s;
    client_body_temp_path $ngx_dir/tmp/body;
    proxy_temp_path $ngx_dir/tmp/proxy;
    fastcgi_temp_path $ngx_dir/tmp/fastcgi;
    uwsgi_temp_path $ngx_dir/tmp/uwsgi;
    scgi_temp_path $ngx_dir/tmp/scgi;
    server {
        # the same backlog as antenne's listen socket
        listen 127.0.0.1:$NGX_PORT backlog=4096;
        root $ngx_dir/root;
        # the query string (?token=...) is ignored: a static file; antenne's Cache-Control header
        location /get/ {
            add_header Cache-Control "private, no-cache";
        }
    }
}
EOF
cp "$ngx_dir/nginx.conf" "$out/nginx.conf"
nginx_start "$ngx_dir"
curl -sf --max-time 5 -o "$TMP/ngx.m3u" "http://127.0.0.1:$NGX_PORT$token_path" || die "nginx: GET $token_path failed"
cmp -s "$TMP/ngx.m3u" "$out/playlist-token.m3u" || die "nginx serves other bytes than antenne's playlist"
note "nginx $("$NGINX" -v 2>&1 | sed 's/.*\///') pid $NGX_PID on port $NGX_PORT"

# pids_sys_ticks PID... -> stime of those processes (all threads), in clock ticks: the kernel's share (the socket
# writes, for antenne; sendfile, for nginx)
pids_sys_ticks() {
    local pid t sum=0
    for pid in "$@"; do
        t=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $13 }') || t=0
        sum=$((sum + ${t:-0}))
    done
    echo "$sum"
}

# ---- wrk runs --------------------------------------------------------------------------------------------
declare -A R # R[CELL/TARGET/ROUND/FIELD]; CELL = FORM/CONNS

server_pids() {
    if [[ $1 == nginx ]]; then
        echo "$NGX_PID" "$(pgrep -P "$NGX_PID" | tr '\n' ' ')"
    else
        echo "$SERVER_PID"
    fi
}

# run_wrk CELL TARGET ROUND PATH -> one wrk run, its figures in R
run_wrk() {
    local cell=$1 tgt=$2 round=$3 path=$4 port=$PORT c=${1##*/} log cpu0 cpu1 sys0 sys1 busy0 busy1 pids line
    [[ $tgt == nginx ]] && port=$NGX_PORT
    log=$out/wrk-${cell//\//-}-$tgt-$round.txt
    pids=$(server_pids "$tgt")
    note "round $round: ${cell%/*}, $c connection(s), $tgt: wrk -t1 -c$c -d${duration}s --latency"
    # shellcheck disable=SC2086
    cpu0=$(pids_cpu_ticks $pids)
    # shellcheck disable=SC2086
    sys0=$(pids_sys_ticks $pids)
    busy0=$(busy_ticks)
    timeout $((duration + 40)) /usr/bin/time -f '%U %S' -o "$log.time" \
        env LD_PRELOAD="$SHIM" SRCADDR_COUNT="$src_addrs" \
        wrk -t1 -c"$c" -d"${duration}s" --timeout 10s --latency -H 'Connection: close' -s "$TMP/result.lua" \
        "http://127.0.0.1:$port$path" >"$log" 2>&1 || note "wrk exited with an error (see $log)"
    # shellcheck disable=SC2086
    cpu1=$(pids_cpu_ticks $pids)
    # shellcheck disable=SC2086
    sys1=$(pids_sys_ticks $pids)
    busy1=$(busy_ticks)
    grep -q '^RESULT' "$log" || { cat "$log" >&2; die "wrk printed no RESULT line"; }
    line=$(awk -v t0="$cpu0" -v t1="$cpu1" -v s0="$sys0" -v s1="$sys1" -v b0="$busy0" -v b1="$busy1" -v hz="$hz" \
        -v wt="$(tail -n 1 "$log.time" 2>/dev/null)" '
        /^RESULT/ {
            for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            s = v["duration_us"] / 1e6
            split(wt, w, " ")
            srv = (t1 - t0) / hz
            other = (b1 - b0) / hz - srv - (w[1] + w[2])
            n = v["requests"]
            printf "%.1f %.3f %.3f %d %.3f %.3f %.0f %.0f %d\n", n / s, v["p50_us"] / 1000, v["p99_us"] / 1000,
                v["errors"], (n > 0 ? 1000 * srv / n : 0), (n > 0 ? 1000 * (s1 - s0) / hz / n : 0),
                100 * (w[1] + w[2]) / s,
                (other > 0 ? 100 * other / s : 0), (n > 0 ? v["bytes"] / n : 0)
        }' "$log")
    local -a f
    local i=0 field k=$cell/$tgt/$round
    read -r -a f <<<"$line"
    for field in rps p50 p99 err cpu sys wcpu ocpu size; do
        R[$k/$field]=${f[i]}
        i=$((i + 1))
    done
    if [[ $tgt == antenne ]]; then
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$SERVER_LOG" >&2; die "antenne exited during the run"; }
    fi
    printf "%-5s %-8s %-8s %5s %11s %8s %8s %7s %10s %10s %8s %10s %9s\n" "$round" "${cell%/*}" "$tgt" "$c" \
        "${R[$k/rps]}" "${R[$k/p50]}" "${R[$k/p99]}" "${R[$k/err]}" "${R[$k/cpu]}" "${R[$k/sys]}" "${R[$k/wcpu]}" \
        "${R[$k/ocpu]}" "${R[$k/size]}" >>"$raw"
}

# median VALUES... -> the median (mean of the middle two for an even count)
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-";
        else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# med CELL TARGET FIELD -> median over the rounds
med() {
    local r v
    local -a vals=()
    for ((r = 1; r <= rounds; r++)); do
        v=${R[$1/$2/$r/$3]:-}
        [[ -n "$v" ]] && vals+=("$v")
    done
    median "${vals[@]}"
}

raw=$out/runs.txt
printf "%-5s %-8s %-8s %5s %11s %8s %8s %7s %10s %10s %8s %10s %9s\n" round form target conns "requests/s" "p50 ms" \
    "p99 ms" errors "CPU ms/req" "sys ms/req" "wrk CPU%" "other CPU%" "bytes/req" >"$raw"

# The server's CPU while nothing is asked of it (2,000 idle channels' timers): subtracted from nothing, shown.
idle0=$(pids_cpu_ticks "$SERVER_PID")
sleep 3
idle_pct=$(awk -v a="$idle0" -v b="$(pids_cpu_ticks "$SERVER_PID")" -v hz="$hz" 'BEGIN { printf "%.1f", 100 * (b - a) / hz / 3 }')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

read -r -a conn_list <<<"$conns"
cells=()
pair=0
for ((round = 1; round <= rounds; round++)); do
    for c in "${conn_list[@]}"; do
        ((round == 1)) && cells+=("token/$c")
        targets=(antenne nginx)
        ((pair % 2 == 1)) && targets=(nginx antenne)
        pair=$((pair + 1))
        for tgt in "${targets[@]}"; do
            run_wrk "token/$c" "$tgt" "$round" "$token_path"
        done
    done
    c=${conn_list[0]}
    ((round == 1)) && cells+=("login/$c")
    run_wrk "login/$c" antenne "$round" "$login_path"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

perf_top=''
if [[ -n "$perf_on" ]] && command -v perf >/dev/null; then
    note "perf record -g on antenne during one more ${duration} s run (token form, ${conn_list[0]} connection(s))"
    perf record -q -g -o "$out/perf.data" -p "$SERVER_PID" -- sleep $((duration + 1)) >/dev/null 2>&1 &
    perf_pid=$!
    BG_PIDS+=("$perf_pid")
    sleep 0.5
    env LD_PRELOAD="$SHIM" SRCADDR_COUNT="$src_addrs" timeout $((duration + 40)) \
        wrk -t1 -c"${conn_list[0]}" -d"${duration}s" -H 'Connection: close' "http://127.0.0.1:$PORT$token_path" \
        >"$out/wrk-perf.txt" 2>&1 || true
    wait "$perf_pid" 2>/dev/null || true
    perf report -i "$out/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
        grep -E '^ +[0-9.]+%' | awk '{ printf "%8s  %-20s %s\n", $1, $2, $4 }' | head -n 20 >"$out/perf-top.txt" || true
    perf_top=$out/perf-top.txt
fi

cp "$SERVER_LOG" "$out/server.log"
cp "$ngx_dir/error.log" "$out/nginx-error.log" 2>/dev/null || true

# ---- the table -------------------------------------------------------------------------------------------
fmt_list() { printf '%s\n' "$@" | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 * 1000 }'; }
echo
echo "Personal playlist, $channels channels ($body_bytes bytes, $((2 * channels + 1)) lines), over loopback"
echo "($(nproc) CPUs; $("$ANTENNE" --version 2>/dev/null || echo antenne) vs nginx $("$NGINX" -v 2>&1 | sed 's/.*\///') serving the same bytes from a file;"
echo "load average $load_start at the start of the runs, $load_end at the end; antenne idle CPU $idle_pct % of a core;"
echo "set up in $setup_s s ($setup))"
echo "wrk -t1 -d${duration}s --latency, Connection: close from $src_addrs rotating 127.1.x.y source addresses (antenne's"
echo "playlist rate limit is per address), $rounds round(s), medians. CPU ms/req: the server's CPU time over the run /"
echo "requests (sys: its kernel share, the socket writes). other CPU%: every other process on the machine (high means"
echo "a disturbed run). p50 a/n: antenne's p50 / nginx's; r/s n/a: nginx's requests/s / antenne's. every run: $raw"
echo
echo "curl, one request per connection (time_total, ms):"
echo "  token form:              $(fmt_list "${curl_token[@]}")  (median $(median "${curl_token[@]}" | awk '{ printf "%.2f", $1 * 1000 }'))"
echo "  username/password, 1st:  $(awk -v t="$login_first" 'BEGIN { printf "%.2f", t * 1000 }')  (argon2id)"
echo "  username/password, then: $(fmt_list "${curl_login[@]}")  (median $(median "${curl_login[@]}" | awk '{ printf "%.2f", $1 * 1000 }'))"
echo
printf "%-8s %-8s %5s %11s %8s %8s %7s %11s %11s %10s %9s %9s\n" form target conns "requests/s" "p50 ms" "p99 ms" \
    errors "CPU ms/req" "sys ms/req" "other CPU%" "p50 a/n" "r/s n/a"
for cell in "${cells[@]}"; do
    form=${cell%/*}
    c=${cell##*/}
    tg=(antenne)
    [[ $form == token ]] && tg=(antenne nginx)
    for tgt in "${tg[@]}"; do
        r1='' r2=''
        if [[ $form == token && $tgt == antenne ]]; then
            r1=$(awk -v a="$(med "$cell" antenne p50)" -v b="$(med "$cell" nginx p50)" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')
            r2=$(awk -v a="$(med "$cell" antenne rps)" -v b="$(med "$cell" nginx rps)" 'BEGIN { printf "%.1fx", (a > 0 ? b / a : 0) }')
        fi
        errs=0
        for ((r = 1; r <= rounds; r++)); do errs=$((errs + ${R[$cell/$tgt/$r/err]:-0})); done
        printf "%-8s %-8s %5s %11.1f %8.2f %8.2f %7s %11.2f %11.2f %10.0f %9s %9s\n" "$form" "$tgt" "$c" \
            "$(med "$cell" "$tgt" rps)" "$(med "$cell" "$tgt" p50)" "$(med "$cell" "$tgt" p99)" "$errs" \
            "$(med "$cell" "$tgt" cpu)" "$(med "$cell" "$tgt" sys)" "$(med "$cell" "$tgt" ocpu)" "$r1" "$r2"
    done
done
c=${conn_list[0]}
p50=$(med "token/$c" antenne p50)
p99=$(med "token/$c" antenne p99)
verdict=$(awk -v p="$p50" -v g="$goal_ms" 'BEGIN { print (p <= g ? "met" : "NOT met") }')
echo
echo "goal: <= $goal_ms ms per playlist ($channels channels; wrk p50, token form, $c connection(s)): $p50 ms (p99 $p99 ms): $verdict"
if [[ -n "$perf_top" && -s "$perf_top" ]]; then
    echo
    echo "where antenne's time goes (perf, self time, top symbols; $out/perf.data):"
    cat "$perf_top"
fi
