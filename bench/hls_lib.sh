# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# bench/hls_lib.sh -- shared by bench/hls_serve.sh and bench/hls_latency.sh, on top of bench/lib.sh.
#
# Sourced after lib.sh and bench_init. Functions:
#   hls_channel_opts          sets the array HLS_OPTS to the --hls-window/--hls-target options asked for
#                             (HLS_WINDOW, HLS_TARGET when set) that `antenne channel add` accepts, and
#                             HLS_WINDOW_OPT=1 if it accepts --hls-window
#   hls_server_start SOURCE [CHANNEL OPTIONS...]
#                             fresh data dir, channel "demo" with SOURCE, serve on a free loopback port;
#                             sets SERVER_PID, PORT, SERVER_LOG, DATA_DIR, HLS_BASE (http://127.0.0.1:PORT/live/demo)
#                             and returns once /healthz answers (the channel may still be starting)
#   hls_wait_up SECONDS       until the channel's state is "up"
#   hls_wait_window N SECONDS until index.m3u8 lists at least N segments
#   hls_get PATH              body of http://127.0.0.1:PORT/live/demo/PATH on stdout (fails on HTTP errors)
#   pids_cpu_ticks PID...     utime+stime of those processes (all threads), in clock ticks
#   busy_ticks                CPU time all processes of the machine spent (user, nice, system; not irq/softirq:
#                             loopback TCP's receive work lands there), in clock ticks
# Nothing here starts a process lib.sh's EXIT trap does not know about.

hls_get() { curl -sf --max-time 5 "$HLS_BASE/$1"; }

hls_server_start() {
    local source=$1 i
    shift
    DATA_DIR=$(mktemp -d "$TMP/data.XXXXXX")
    SERVER_LOG=$DATA_DIR/server.log
    "$ANTENNE" --data "$DATA_DIR" channel add demo --source "$source" "$@" >/dev/null ||
        die "antenne channel add demo --source $source $* failed"
    admin_token "$DATA_DIR"
    PORT=$(free_port)
    HLS_BASE=http://127.0.0.1:$PORT/live/demo
    "$ANTENNE" --data "$DATA_DIR" serve --listen "127.0.0.1:$PORT" --log-level warn >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    for ((i = 0; i < 100; i++)); do # 10 s
        http_get /healthz >/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$SERVER_LOG" >&2; die "antenne serve exited"; }
        sleep 0.1
    done
    die "antenne did not answer /healthz on port $PORT within 10 s"
}

hls_wait_up() {
    local i state=''
    for ((i = 0; i < $1 * 10; i++)); do
        state=$(http_get /api/v1/channels/demo |
            python3 -c 'import json, sys; print(json.load(sys.stdin).get("state", ""))' 2>/dev/null || true)
        [[ "$state" == up ]] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$SERVER_LOG" >&2; die "antenne serve exited"; }
        sleep 0.1
    done
    tail -n 20 "$SERVER_LOG" >&2
    die "channel demo is '$state', not up, $1 s after start"
}

# playlist_segments FILE -> "MSN DURATION URI" per segment of a media playlist, oldest first
playlist_segments() {
    awk '/^#EXT-X-MEDIA-SEQUENCE:/ { split($0, a, ":"); seq = a[2] + 0 }
         /^#EXTINF:/ { split($0, a, "[:,]"); dur = a[2] }
         /^[^#]/ && dur != "" { sub(/\r$/, ""); print seq, dur, $0; seq++; dur = "" }' "$1"
}

hls_wait_window() {
    local want=$1 i n=0 pl=$TMP/wait.m3u8
    for ((i = 0; i < $2 * 4; i++)); do
        if hls_get index.m3u8 >"$pl" 2>/dev/null; then
            n=$(grep -c '^#EXTINF:' "$pl" || true)
            ((n >= want)) && return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$SERVER_LOG" >&2; die "antenne serve exited"; }
        sleep 0.25
    done
    tail -n 20 "$SERVER_LOG" >&2
    die "index.m3u8 lists $n segments, not $want, $2 s after start"
}

hls_channel_opts() {
    local help
    help=$("$ANTENNE" channel add --help 2>&1 || true)
    HLS_OPTS=()
    HLS_WINDOW_OPT='' # read by the caller
    if grep -q -- '--hls-window' <<<"$help"; then
        # shellcheck disable=SC2034 # read by the caller
        HLS_WINDOW_OPT=1
        [[ -n "${HLS_WINDOW:-}" ]] && HLS_OPTS+=(--hls-window "$HLS_WINDOW")
    fi
    if grep -q -- '--hls-target' <<<"$help" && [[ -n "${HLS_TARGET:-}" ]]; then
        HLS_OPTS+=(--hls-target "$HLS_TARGET")
    fi
    return 0
}

pids_cpu_ticks() {
    local pid t sum=0
    for pid in "$@"; do
        # fields 14 and 15 (utime, stime) after the ") " that ends the command name
        t=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 }') || t=0
        sum=$((sum + ${t:-0}))
    done
    echo "$sum"
}

busy_ticks() {
    # cpu  user nice system idle iowait irq softirq steal ...
    awk '/^cpu / { print $2 + $3 + $4; exit }' /proc/stat
}
