#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/epg_import.sh -- how fast antenne reads XMLTV guides (src/epg/): on a
# ~100 MB guide of 500 channels made by bench/make_xmltv.py, measures
#   (a) parsing alone (bench/epg_import --parse-only), MB/s;
#   (b) a full import into a fresh SQLite store, MB/s and peak RSS
#       (/usr/bin/time -v), from the plain file and from its gzip;
#   (c) writing one subscriber's guide (100 channels, 8 days) from the store,
#       plain and gzip;
# and, on the same file in the same run, the references: xmllint --stream
# --noout (libxml2) and xmlwf -t (expat alone, if installed: Debian expat).
#
# Usage: bench/epg_import.sh [BUILD_DIR]   (default build-release/, set up as
#        a release build if missing)
# Knobs: BENCH_EPG_MB (100), BENCH_EPG_CHANNELS (500), BENCH_EPG_RUNS (3).
# Goals: import >= 50 MB/s, peak RSS <= 64 MiB.
set -euo pipefail

prog=epg_import.sh
die() { echo "$prog: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build-release}
if [[ -n "${1:-}" && -d "$build" ]]; then
    build=$(cd "$build" && pwd)
elif [[ "$build" != /* ]]; then
    build="$REPO/$build"
fi
if [[ ! -f "$build/build.ninja" ]]; then
    note "setting up a release build in $build"
    meson setup "$build" "$REPO" --buildtype=release -Db_sanitize=none >/dev/null || die "meson setup $build failed"
fi
grep -q -- '-fsanitize' "$build/build.ninja" && note "warning: $build is a sanitizer build; figures measure the sanitizer"
ninja -C "$build" bench/epg_import >/dev/null || die "ninja -C $build bench/epg_import failed"
DRIVER=$build/bench/epg_import
[[ -x /usr/bin/time ]] || die "/usr/bin/time is needed (apt-get install time)"

mb=${BENCH_EPG_MB:-100}
channels=${BENCH_EPG_CHANNELS:-500}
runs=${BENCH_EPG_RUNS:-3}
# A fixed first day, so the file is made once and kept; "now" is put in its
# second day, so the import keeps what a live guide would keep.
start=1795737600 # 2026-11-27 00:00 UTC
now=$((start + 86400 + 12 * 3600))
media=$build/bench-media
mkdir -p "$media"
guide=$media/guide-${mb}mb-${channels}ch.xml
if [[ ! -s $guide ]]; then
    note "writing $guide"
    "$REPO/bench/make_xmltv.py" --size-mb "$mb" --channels "$channels" --start "$start" "$guide.tmp"
    mv "$guide.tmp" "$guide"
fi
if [[ ! -s $guide.gz || $guide.gz -ot $guide ]]; then
    gzip -c "$guide" >"$guide.gz.tmp" && mv "$guide.gz.tmp" "$guide.gz"
fi
size=$(stat -c %s "$guide")
gzsize=$(stat -c %s "$guide.gz")

TMP=$(mktemp -d /tmp/antenne-bench-epg.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# Runs a command under /usr/bin/time; prints "seconds peak_kb".
timed() {
    /usr/bin/time -f '%e %M' -o "$TMP/time" "$@" >"$TMP/out" 2>"$TMP/err" || {
        cat "$TMP/err" >&2
        die "failed: $*"
    }
    cat "$TMP/time"
}

# The median of numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { grep -o "$1=[0-9.]*" "$TMP/out" | head -1 | cut -d= -f2; }

note "file: $guide ($size bytes; gzip $gzsize bytes), $runs runs each"
echo
echo "| what | MB/s median | MB/s best | peak RSS MiB | notes |"
echo "| --- | ---: | ---: | ---: | --- |"

row() { # name, then "seconds rss_kb [mbps]" lines on stdin; bytes for MB/s in $bytes
    local name=$1 notes=$2
    local rates=() rss=0 s k r
    while read -r s k r; do
        [[ -n ${r:-} ]] || r=$(awk -v b="$bytes" -v s="$s" 'BEGIN { printf "%.1f", b / 1e6 / (s > 0 ? s : 0.001) }')
        rates+=("$r")
        ((k > rss)) && rss=$k
    done
    local med best
    med=$(printf '%s\n' "${rates[@]}" | median)
    best=$(printf '%s\n' "${rates[@]}" | sort -g | tail -1)
    printf '| %s | %.1f | %.1f | %.1f | %s |\n' "$name" "$med" "$best" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$notes"
}

bytes=$size
for _ in $(seq "$runs"); do timed xmllint --stream --noout "$guide"; done | row "xmllint --stream --noout (reference)" "libxml2 reader, well-formedness only"
if command -v xmlwf >/dev/null; then
    for _ in $(seq "$runs"); do timed xmlwf -t -r "$guide"; done | row "xmlwf -t -r (reference)" "expat alone, read(2), no output"
fi
for _ in $(seq "$runs"); do
    read -r s k < <(timed "$DRIVER" --parse-only "$guide")
    echo "$s $k $(field mb_per_s)"
done | row "antenne parse only" "expat + field capture, no store"

import_notes=""
for _ in $(seq "$runs"); do
    read -r s k < <(timed "$DRIVER" --channels "$channels" --now "$now" --days 14 --guide-channels 100 --data "$TMP/db.$RANDOM" "$guide")
    echo "$s $k $(field mb_per_s)"
    grep '^phase=' "$TMP/out" >"$TMP/phases"
done | row "antenne import (plain)" "into SQLite, whole import incl. commit"
stored=$(grep -o 'stored=[0-9]*' "$TMP/phases" | cut -d= -f2)
seen=$(grep -o 'programmes_seen=[0-9]*' "$TMP/phases" | cut -d= -f2)
guide_plain=$(grep 'phase=guide gzip=0' "$TMP/phases")
guide_gz=$(grep 'phase=guide gzip=1' "$TMP/phases")

bytes=$gzsize
: >"$TMP/gzrates"
for _ in $(seq "$runs"); do
    read -r s k < <(timed "$DRIVER" --channels "$channels" --now "$now" --days 14 --guide-channels 0 --data "$TMP/db.$RANDOM" "$guide.gz")
    echo "$s $k $(field mb_per_s)"
    awk -v b="$size" -v s="$(field seconds)" 'BEGIN { printf "%.1f\n", b / 1e6 / s }' >>"$TMP/gzrates"
done >"$TMP/gzruns"
row "antenne import (gzip)" "MB/s of the .gz file; of the XML in it: median $(median <"$TMP/gzrates")" <"$TMP/gzruns"

echo
echo "Import: $seen programmes read, $stored rows stored (500 channels mapped by tvg_id, 14-day window)."
gb() { echo "$1" | grep -o "$2=[0-9.]*" | cut -d= -f2; }
echo "Guide for 100 channels x 8 days from the store: plain $(gb "$guide_plain" bytes) bytes in $(gb "$guide_plain" seconds) s;" \
    "gzip $(gb "$guide_gz" bytes) bytes in $(gb "$guide_gz" seconds) s."
