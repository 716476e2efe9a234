#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# build-web.sh -- build the web UI (operator UI at /admin/, viewer portal at /)
# into a directory that `antenne serve --web-dir DIR` serves.
#
# Usage: scripts/build-web.sh OUT_DIR
#
# Installs web/'s npm dependencies (hls.js, uPlot) with `npm ci` from the lock
# file when they are missing or older than the lock, copies web/src/ and the
# two libraries (web/src/static/vendor/), writes a .gz beside every text file
# (antenne sends it to clients that accept gzip) and prints the compressed size
# a browser downloads for each page. OUT_DIR is replaced as a whole, so a
# server never reads a half-built UI.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/build-web.sh OUT_DIR}

if [[ ! -f web/node_modules/.package-lock.json || web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then
    command -v npm >/dev/null || { echo "build-web: npm is not installed (scripts/install-deps.sh)" >&2; exit 1; }
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
    touch web/node_modules/.package-lock.json
fi

tmp=$out.tmp.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mkdir -p "$tmp"
cp -R web/src/. "$tmp/"
vendor=$tmp/static/vendor
mkdir -p "$vendor"
# (the source map is not shipped: drop the comment that points to it)
sed '/^\/\/# sourceMappingURL=/d' web/node_modules/hls.js/dist/hls.light.min.mjs >"$vendor/hls.mjs"
cp web/node_modules/hls.js/LICENSE "$vendor/hls.js-LICENSE.txt"
sed '/^\/\/# sourceMappingURL=/d' web/node_modules/uplot/dist/uPlot.iife.min.js >"$vendor/uPlot.js"
cp web/node_modules/uplot/dist/uPlot.min.css "$vendor/uPlot.css"
cp web/node_modules/uplot/LICENSE "$vendor/uPlot-LICENSE.txt"
find "$tmp" -type f \( -name '*.html' -o -name '*.js' -o -name '*.mjs' -o -name '*.css' -o -name '*.svg' \
    -o -name '*.json' -o -name '*.txt' \) -exec gzip -9 -k -n {} +

rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
# What a browser transfers (gzip where there is a .gz) for everything under a page's folder plus static/.
size_of() { find "$@" -type f ! -name '*.gz' ! -name '*-LICENSE.txt' -print0 |
    while IFS= read -r -d '' f; do if [[ -f $f.gz ]]; then stat -c %s "$f.gz"; else stat -c %s "$f"; fi; done |
    awk '{s += $1} END {print s + 0}'; }
echo "build-web: $out: operator UI $(($(size_of "$out/admin" "$out/static") / 1024)) KiB," \
     "portal $(($(size_of "$out/index.html" "$out/portal" "$out/static") / 1024)) KiB compressed (hls.js and uPlot included)"
