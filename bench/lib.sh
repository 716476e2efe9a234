# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# bench/lib.sh -- shared by bench/fanout.sh and bench/zap.sh: build, media, one antenne server on loopback.
#
# Sourced, not run. The caller sets prog and calls, in order:
#   bench_init [BUILD_DIR]   build (a release build in build-release/ unless told), temp dir, cleanup trap
#   bench_media              sets DEMO_TS (4 Mbit/s constant mux, 2 s GOP)
#   server_start             fresh data dir, channel "demo", serve on a free loopback port;
#                            sets SERVER_PID, PORT, URL and waits until the channel is up
#   server_stop
# Everything started here is killed by the EXIT trap, whatever happens.

: "${prog:=bench}"
die() { echo "$prog: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVER_PID=''
BG_PIDS=()

bench_cleanup() {
    local pid
    for pid in $SERVER_PID "${BG_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $SERVER_PID "${BG_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    [[ -n "${TMP:-}" ]] && rm -rf "$TMP"
}

# bench_build [BUILD_DIR] [TARGET...]: resolves the build folder (a release
# build in build-release/ unless told), sets it up if needed, builds the
# targets (all when none) and sets BUILD and ANTENNE.
bench_build() {
    local given=${1:-}
    local build=${given:-build-release}
    shift || true
    # A folder given on the command line is relative to where the user is;
    # the default lives in the repository.
    if [[ -n "$given" && -d "$build" ]]; then
        build=$(cd "$build" && pwd)
    elif [[ "$build" != /* ]]; then
        build="$REPO/$build"
    fi
    if [[ ! -f "$build/build.ninja" ]]; then
        # Figures from a sanitizer build measure the sanitizer: default to release.
        note "setting up a release build in $build"
        meson setup "$build" "$REPO" --buildtype=release -Db_sanitize=none >/dev/null ||
            die "meson setup $build failed"
    fi
    ninja -C "$build" "$@" >/dev/null || die "ninja -C $build $* failed"
    BUILD=$build
    ANTENNE=$build/antenne
    [[ -x "$ANTENNE" ]] || die "$ANTENNE not built"
    if ldd "$ANTENNE" 2>/dev/null | grep -q libasan; then
        note "warning: $ANTENNE is built with AddressSanitizer; figures will be far below a release build's"
    fi
}

bench_init() {
    bench_build "${1:-}"
    LOADGEN=$BUILD/bench/loadgen
    ZAP=$BUILD/bench/zap
    local exe
    for exe in "$LOADGEN" "$ZAP"; do
        [[ -x "$exe" ]] || die "$exe not built"
    done

    TMP=$(mktemp -d "${TMPDIR:-/tmp}/antenne-bench.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
    # Every viewer is a descriptor, in the server and in loadgen alike.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}

bench_media() {
    local dir=$BUILD/bench-media
    if [[ -f "$REPO/scripts/make-media.sh" ]]; then
        bash "$REPO/scripts/make-media.sh" "$dir" >&2 || die "scripts/make-media.sh $dir failed"
    else
        # Same recipe as the contract's demo.ts, without the burnt-in clock.
        dir=$TMP/media
        mkdir -p "$dir"
        note "scripts/make-media.sh not found; generating $dir/demo.ts with ffmpeg"
        ffmpeg -nostdin -hide_banner -loglevel error -y \
            -f lavfi -i "testsrc2=size=1280x720:rate=25:duration=30" \
            -f lavfi -i "sine=frequency=1000:sample_rate=48000:duration=30" \
            -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 50 -keyint_min 50 -sc_threshold 0 \
            -b:v 3M -maxrate 3M -bufsize 3M -c:a aac -b:a 128k \
            -muxrate 4000000 -f mpegts "$dir/demo.ts" || die "ffmpeg failed"
    fi
    DEMO_TS=$dir/demo.ts
    [[ -s "$DEMO_TS" ]] || die "$DEMO_TS missing"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# http_get PATH -> body on stdout; fails on HTTP errors
http_get() { curl -sf --max-time 2 -H "Authorization: Bearer ${ADMIN_TOKEN:-}" "http://127.0.0.1:$PORT$1"; }
# admin_token DATA_DIR: an admin API token for the server on that data folder, in ADMIN_TOKEN
admin_token() {
    ADMIN_TOKEN=$("$ANTENNE" --data "$1" admin-token create bench) || die "antenne admin-token create failed"
}

server_start() {
    local data log i state=''
    data=$(mktemp -d "$TMP/data.XXXXXX")
    log=$data/server.log
    "$ANTENNE" --data "$data" channel add demo --source "file://$DEMO_TS" >/dev/null ||
        die "antenne channel add demo failed"
    admin_token "$data"
    PORT=$(free_port)
    # shellcheck disable=SC2034 # URL and SERVER_LOG are for the calling script
    URL=http://127.0.0.1:$PORT/live/demo.ts
    "$ANTENNE" --data "$data" serve --listen "127.0.0.1:$PORT" --log-level warn >"$log" 2>&1 &
    SERVER_PID=$!
    # shellcheck disable=SC2034
    SERVER_LOG=$log
    for ((i = 0; i < 100; i++)); do # 10 s
        http_get /healthz >/dev/null && break
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$log" >&2; die "antenne serve exited"; }
        sleep 0.1
    done
    ((i < 100)) || die "antenne did not answer /healthz on port $PORT within 10 s"
    for ((i = 0; i < 150; i++)); do # 15 s
        state=$(http_get /api/v1/channels/demo |
            python3 -c 'import json, sys; print(json.load(sys.stdin).get("state", ""))' 2>/dev/null || true)
        [[ "$state" == up ]] && return 0
        sleep 0.1
    done
    tail -n 20 "$log" >&2
    die "channel demo is '$state', not up, 15 s after start"
}

server_stop() {
    [[ -n "$SERVER_PID" ]] || return 0
    kill "$SERVER_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do # 5 s, then no more asking
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=''
}

# result_field KEY FILE -> value of KEY=... on the RESULT line of FILE
result_field() {
    sed -n 's/^RESULT.* '"$1"'=\([^ ]*\).*/\1/p' "$2" | head -n 1
}

# nginx_start CONF_DIR: runs $NGINX on CONF_DIR/nginx.conf (which listens on
# $NGX_PORT) in the background, sets NGX_PID (killed by the EXIT trap) and
# waits until it answers.
nginx_start() {
    local dir=$1 i
    "$NGINX" -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" ||
        { cat "$dir/error.log" >&2; die "nginx -t failed"; }
    "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
    NGX_PID=$!
    BG_PIDS+=("$NGX_PID")
    for ((i = 0; i < 50; i++)); do
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$NGX_PORT/" && return 0
        kill -0 "$NGX_PID" 2>/dev/null || { cat "$dir/error.log" >&2; die "nginx exited"; }
        sleep 0.1
    done
    die "nginx did not answer on port $NGX_PORT within 5 s"
}

# server_serve DATA_DIR LOG PORT [SERVE_OPTION...]: runs antenne serve on a
# data folder the caller has filled (channels, admin token), listening on
# 127.0.0.1:PORT (a free port when PORT is empty) and logging to LOG; sets
# SERVER_PID, PORT and SERVER_LOG (the EXIT trap kills it) and waits until it
# answers /healthz. Unlike server_start it waits for no channel.
server_serve() {
    local data=$1 log=$2 i
    PORT=${3:-$(free_port)}
    shift 3
    "$ANTENNE" --data "$data" serve --listen "127.0.0.1:$PORT" "$@" >"$log" 2>&1 &
    SERVER_PID=$!
    # shellcheck disable=SC2034 # for the calling script
    SERVER_LOG=$log
    for ((i = 0; i < 100; i++)); do # 10 s
        http_get /healthz >/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$log" >&2; die "antenne serve exited"; }
        sleep 0.1
    done
    die "antenne did not answer /healthz on port $PORT within 10 s"
}
