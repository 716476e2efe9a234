#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# web_ui.sh -- the web UI's speed and weight (issue 7): the operator dashboard with 200 channels and the
# subscriber list with 100,000 subscribers in headless Chromium, and the pages' bytes beside nginx.
#
# Usage: bench/web_ui.sh [BUILD_DIR]      (default build-release, set up as a release build if absent)
#
# 1. Builds antenne and the web UI (scripts/build-web.sh BUILD_DIR/web).
# 2. Runs the operator-UI browser test (tests/integration/test_71_admin_ui.py)
#    BENCH_ROUNDS times against this build; it fills SQLite with 205 channels
#    and 100,003 subscribers and times, in Chromium: the dashboard from
#    navigation to every row drawn, the subscriber list's first page, a
#    search, the next page, and one API write. Prints each round and the medians.
# 3. Serves the built files from antenne (--web-dir) and from nginx (root on
#    the same folder, gzip_static on) and fetches every file of each page
#    with gzip, BENCH_FETCHES times: compressed bytes per page (goal: under
#    300 KB, hls.js included) and the median time for the whole set.
# Goals: the dashboard and the subscriber list usable in under 1 s; the
# pages under 300 KB compressed.
#
# Environment: BENCH_ROUNDS=3, BENCH_FETCHES=20, NGINX=/usr/sbin/nginx
set -euo pipefail
prog=web_ui
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
ROUNDS=${BENCH_ROUNDS:-3}
FETCHES=${BENCH_FETCHES:-20}
NGINX=${NGINX:-/usr/sbin/nginx}
[[ -x "$NGINX" ]] || die "nginx not found at $NGINX (apt-get install nginx-light)"

bench_build "${1:-}" antenne
TMP=$(mktemp -d "${TMPDIR:-/tmp}/antenne-bench.XXXXXX")
trap bench_cleanup EXIT
WEB=$BUILD/web
"$REPO/scripts/build-web.sh" "$WEB" >&2
bash "$REPO/scripts/make-media.sh" "$BUILD/bench-media" >&2

py=python3
python3 -c 'import pytest' 2>/dev/null || py=/usr/bin/python3

# ---- 2. in the browser --------------------------------------------------------------------
note "browser: $ROUNDS rounds of test_71_admin_ui.py on $ANTENNE"
: >"$TMP/timings"
for ((r = 1; r <= ROUNDS; r++)); do
    ANTENNE_BIN=$ANTENNE ANTENNE_MEDIA=$BUILD/bench-media ANTENNE_WEB=$WEB \
        "$py" -m pytest -p no:cacheprovider -q -s "$REPO/tests/integration/test_71_admin_ui.py" \
        >"$TMP/round$r.log" 2>&1 || { tail -n 40 "$TMP/round$r.log" >&2; die "round $r: the browser test failed"; }
    sed -n 's/^admin UI timings: //p' "$TMP/round$r.log" >>"$TMP/timings"
done
python3 - "$TMP/timings" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
keys = [("dashboard_ms", "dashboard, all rows drawn"), ("dashboard_longest_task_ms", "  its longest browser task"),
        ("subscribers_first_page_ms", "subscribers, first page"), ("subscribers_search_ms", "subscribers, a search"),
        ("subscribers_next_page_ms", "subscribers, next page"), ("api_write_ms", "one API write (answered when applied)")]
print(f"\nweb UI in Chromium: {rows[0]['channels']} channels, {rows[0]['subscribers']:,} subscribers; ms per round, median")
for k, label in keys:
    vals = [r[k] for r in rows]
    print(f"  {label:40s} {'  '.join(f'{v:7.0f}' for v in vals)}   median {statistics.median(vals):7.0f}")
d = statistics.median(r["dashboard_ms"] for r in rows)
s = statistics.median(r["subscribers_first_page_ms"] for r in rows)
print(f"  goal: usable in under 1 s -> dashboard {d:.0f} ms {'PASS' if d < 1000 else 'MISS'}, "
      f"subscriber list {s:.0f} ms {'PASS' if s < 1000 else 'MISS'}")
EOF

# ---- 3. bytes, beside nginx -------------------------------------------------------------------
data=$TMP/data
mkdir -p "$data"
server_serve "$data" "$TMP/server.log" "" --web-dir "$WEB"
NGX_PORT=$(free_port)
mkdir -p "$TMP/nginx/logs"
cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    types { text/javascript mjs; }
    access_log off;
    sendfile on;
    gzip_static on;
    server { listen 127.0.0.1:$NGX_PORT; root $WEB; }
}
EOF
nginx_start "$TMP/nginx"

# The files each page loads: its folder and the shared ones (the portal loads no uPlot).
admin_files=$(cd "$WEB" && find admin static -type f ! -name '*.gz' ! -name '*.txt' | sort)
portal_files=$(cd "$WEB" && { echo index.html; find portal static -type f ! -name '*.gz' ! -name '*.txt' ! -name 'uPlot*'; } | sort)
fetch_all() { # BASE FILES... -> "bytes seconds" for one fetch of all (one connection)
    local base=$1
    shift
    local args=()
    for f in "$@"; do args+=(-o /dev/null "$base/$f"); done
    curl -s --compressed -w '%{size_download} %{time_total}\n' "${args[@]}" |
        awk '{b += $1; t += $2} END {printf "%d %.6f\n", b, t}'
}
printf '\npage files from antenne and from nginx (gzip, one connection; %d fetches, median)\n' "$FETCHES"
printf '  %-9s %-8s %10s %10s\n' page server "KB gz" "ms"
for page in admin portal; do
    files=$admin_files
    [[ $page == portal ]] && files=$portal_files
    # shellcheck disable=SC2086 # one word per file
    for who in antenne nginx; do
        port=$PORT
        [[ $who == nginx ]] && port=$NGX_PORT
        for ((i = 0; i < FETCHES; i++)); do fetch_all "http://127.0.0.1:$port" $files; done >"$TMP/$page.$who"
        sort -k2 -n "$TMP/$page.$who" | awk -v n="$FETCHES" -v p="$page" -v w="$who" \
            'NR == int((n + 1) / 2) {printf "  %-9s %-8s %10.1f %10.2f\n", p, w, $1 / 1000, $2 * 1000}'
    done
done
echo "  goal: under 300 KB compressed per page, hls.js included"
