#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# dvr_record.sh -- CPU cost of recording channels into the archive (issue 6), against the CPU of dd writing
# the same bytes with the same syncs.
#
# Usage: bench/dvr_record.sh [--channels N] [--seconds S] [--warmup W] [--rounds R] [BUILD_DIR]
#        (defaults 20 channels, 60 s, 10 s, 1 round; BUILD_DIR: default build-release, set up as a release
#        build if absent)
#
# Each round runs three windows of S seconds, one after another:
#   off   antenne (release) with N channels rec01..recNN, each playing demo.ts (H.264 720p25, constant
#         4 Mbit/s mux) from a file:// source, no archive;
#   on    the same with --archive (fresh data folder each time; the archive syncs every segment's bytes
#         and then its index record with fdatasync);
#   ref   N dd processes, `dd bs=SEG iflag=fullblock oflag=dsync,append`, each writing to its own file
#         one segment every segment-duration: the bytes per channel and second, and the segment size,
#         that the "on" window recorded. A Python feeder (not counted) paces them through FIFOs.
# and measures, over the window (after all channels are up and W seconds more): the server's CPU
# (utime + stime of all its threads, /proc/PID/stat), of its event-loop thread alone
# (/proc/PID/task/PID/stat), the bytes it had written to storage (/proc/PID/io write_bytes), the
# archive's growth (file sizes, records), and for the whole machine the CPU of kernel threads
# (writeback, the ext4 journal: what a sync costs outside the process; other work on the machine counts
# in it too) and of everything (/proc/stat).
#
# Prints a table per window, then: the server's CPU in % of one core off and on, recording's cost per
# channel ((on - off) / N), the extrapolation to 200 recorded channels against the goal (< 50 % of one
# core), counting recording alone and counting the whole server, and dd's cost for the same job.
# Everything it writes is in a temporary folder, removed at the end (also on Ctrl-C).
#
# Environment: BENCH_OUT (kept: per-window figures, server logs; default
# BUILD_DIR/bench-results/dvr-record-DATE).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

prog=dvr_record
usage() { awk 'NR > 2 && /^#/ { if (!/shellcheck/) { sub(/^# ?/, ""); print } next } NR > 2 { exit }' "$0"; }
channels=20 seconds=60 warmup=10 rounds=1 build=''
while (($#)); do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --channels) channels=${2:?}; shift 2 ;;
    --seconds) seconds=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    -*) echo "$prog: unknown option $1" >&2; usage >&2; exit 1 ;;
    *) build=$1; shift ;;
    esac
done
num_ok() { [[ "$1" =~ ^[0-9]+$ ]] && (($1 >= $2 && $1 <= $3)); }
num_ok "$channels" 1 500 || { echo "$prog: --channels 1..500" >&2; exit 1; }
num_ok "$seconds" 5 3600 || { echo "$prog: --seconds 5..3600" >&2; exit 1; }
num_ok "$warmup" 4 600 || { echo "$prog: --warmup 4..600" >&2; exit 1; }
num_ok "$rounds" 1 20 || { echo "$prog: --rounds 1..20" >&2; exit 1; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

command -v dd >/dev/null || die "dd not found"
# load_now -> "L1, L5, L15 (tasks waiting, last minute: cpu X %, io Y %)": load averages, and the share of the
# last minute in which some task waited for a CPU / for I/O (/proc/pressure, when the kernel has it)
load_now() {
    local psi=''
    [[ -r /proc/pressure/cpu ]] && psi=$(awk '/^some/ { sub("avg60=", "", $3); printf "%s%s %s %%", (n++ ? ", " : ""), FILENAME ~ /cpu/ ? "cpu" : "io", $3 }' \
        /proc/pressure/cpu /proc/pressure/io 2>/dev/null)
    echo "$(uptime | sed 's/.*load average: //')${psi:+ (tasks waiting, last minute: $psi)}"
}
bench_init "$build"
out=${BENCH_OUT:-$BUILD/bench-results/dvr-record-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
bench_media
hz=$(getconf CLK_TCK)
load_start=$(load_now)

# sample PID_LIST DIR -> one line: CPU ns of those processes (all their threads, /proc/PID/task/*/schedstat),
# CPU ns of the first one's main thread, their utime + stime ticks (/proc/PID/stat), their write_bytes, bytes of
# *.ts under DIR, records of *.idx under DIR, kernel threads' ticks since the map in KFILE was written (0 when
# it was not: kernel threads come and go, so their ticks are compared thread by thread), machine busy ticks,
# monotonic seconds. Writes the kernel threads' ticks into KFILE.
sample() {
    python3 - "$1" "$2" "$3" <<'EOF'
import glob, json, os, sys, time
pids = [p for p in sys.argv[1].split() if p]
d, kfile = sys.argv[2], sys.argv[3]
def stat(path):
    try:
        with open(path) as f:
            s = f.read()
    except OSError:
        return None
    return s[s.rindex(")") + 2:].split()  # fields from the 3rd (state) on
def run_ns(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
ns = main = ticks = wbytes = 0
for i, p in enumerate(pids):
    for t in glob.glob(f"/proc/{p}/task/*/schedstat"):
        ns += run_ns(t)
    if i == 0:
        main = run_ns(f"/proc/{p}/task/{p}/schedstat")
    f = stat(f"/proc/{p}/stat")
    if f:
        ticks += int(f[11]) + int(f[12])
    try:
        with open(f"/proc/{p}/io") as io:
            for line in io:
                if line.startswith("write_bytes:"):
                    wbytes += int(line.split()[1])
    except OSError:
        pass
ts = idx = 0
for path in glob.glob(f"{d}/**/*", recursive=True):
    try:
        size = os.stat(path).st_size
    except OSError:
        continue
    if path.endswith(".ts"):
        ts += size
    elif path.endswith(".idx"):
        idx += size // 48
kmap = {}
for p in os.listdir("/proc"):
    if p.isdigit():
        f = stat(f"/proc/{p}/stat")
        if f and (f[1] == "2" or p == "2"):  # kthreadd and its children
            kmap[p] = int(f[11]) + int(f[12])
try:
    with open(kfile) as f:
        before = json.load(f)
    kthreads = sum(t - before.get(p, 0) for p, t in kmap.items())  # (a new thread counts from 0)
except (OSError, ValueError):
    kthreads = 0
with open(kfile, "w") as f:
    json.dump(kmap, f)
with open("/proc/stat") as f:
    c = f.readline().split()
busy = sum(int(x) for x in c[1:4]) + int(c[6]) + int(c[7])  # user nice system irq softirq
print(ns, main, ticks, wbytes, ts, idx, kthreads, busy, f"{time.monotonic():.3f}")
EOF
}

# window NAME PIDS DIR -> sleeps the window and keeps its figures in FIG[NAME/...]
declare -A FIG
window() {
    local name=$1 pids=$2 dir=$3 a b
    rm -f "$TMP/kthreads.json"
    a=$(sample "$pids" "$dir" "$TMP/kthreads.json")
    sleep "$seconds"
    b=$(sample "$pids" "$dir" "$TMP/kthreads.json")
    local line
    line=$(awk -v a="$a" -v b="$b" -v hz="$hz" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        s = y[9] - x[9]
        cpu = 100 * (y[1] - x[1]) / 1e9 / s; loop = 100 * (y[2] - x[2]) / 1e9 / s; st = 100 * (y[3] - x[3]) / hz / s
        io = (y[4] - x[4]) / s / 1e6; grow = (y[5] - x[5]) / s / 1e6; segs = y[6] - x[6]
        kt = 100 * y[7] / hz / s; busy = 100 * (y[8] - x[8]) / hz / s
        printf "%.3f %.3f %.3f %.2f %.3f %.3f %d %.2f %.1f %.2f\n", cpu, loop, cpu - loop, st, io, grow, segs, kt, busy, s
    }')
    local -a f
    read -r -a f <<<"$line"
    local i=0 k
    for k in cpu loop other stat io grow segs kt busy secs; do
        FIG[$name/$k]=${f[i]}
        i=$((i + 1))
    done
}

# channels_state -> "UP RECORDING DROPPED SEGMENTS": channels up, archives recording, segments dropped, segments held
channels_state() {
    http_get /api/v1/channels | python3 -c '
import json, sys
cs = json.load(sys.stdin)["channels"]
up = sum(c.get("state") == "up" for c in cs)
rec = [c["recording"] for c in cs if c.get("recording")]
print(up, sum(r["state"] == "recording" for r in rec), sum(r["dropped"] for r in rec), sum(r["segments"] for r in rec))'
}

# run_server MODE ROUND: off or on
run_server() {
    local mode=$1 round=$2 data i st='' archive=()
    [[ $mode == on ]] && archive=(--archive)
    data=$(mktemp -d "$TMP/data-$mode.XXXXXX")
    for ((i = 1; i <= channels; i++)); do
        "$ANTENNE" --data "$data" channel add "$(printf 'rec%02d' "$i")" --source "file://$DEMO_TS" "${archive[@]}" \
            >/dev/null || die "antenne channel add failed"
    done
    admin_token "$data"
    server_serve "$data" "$data/server.log" "" --log-level warn
    for ((i = 0; i < 300; i++)); do # 30 s
        st=$(channels_state 2>/dev/null || true)
        [[ "${st%% *}" == "$channels" ]] && break
        sleep 0.1
    done
    [[ "${st%% *}" == "$channels" ]] || { tail -n 20 "$SERVER_LOG" >&2; die "only '${st%% *}' of $channels channels up after 30 s"; }
    note "round $round, archive $mode: antenne pid $SERVER_PID, $channels channels up; ${warmup} s warm-up, then ${seconds} s"
    sleep "$warmup"
    window "$round/$mode" "$SERVER_PID" "$data/archive"
    if [[ $mode == on ]]; then
        # The recorded segments' mean length and duration, from the index records (see src/dvr/index.c).
        read -r "FIG[$round/on/seglen]" "FIG[$round/on/segdur]" < <(python3 - "$data/archive" <<'EOF'
import glob, struct, sys
n = length = duration = 0
for path in glob.glob(f"{sys.argv[1]}/*/*.idx"):
    with open(path, "rb") as f:
        b = f.read()
    for i in range(0, len(b) - 47, 48):
        magic, flags, start, dur, ln = struct.unpack_from("<IIQII", b, i)
        if magic == 0x52564441:
            n += 1; length += ln; duration += dur
print(length // n if n else 0, f"{duration / n:.1f}" if n else 0)
EOF
        )
    fi
    st=$(channels_state) || die "GET /api/v1/channels failed"
    read -r up rec dropped held <<<"$st"
    FIG[$round/$mode/up]=$up
    FIG[$round/$mode/rec]=$rec
    FIG[$round/$mode/dropped]=$dropped
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$SERVER_LOG" >&2; die "antenne exited during the window"; }
    cp "$SERVER_LOG" "$out/server-$round-$mode.log"
    grep -E ' (warn|error) ' "$SERVER_LOG" | head -n 5 | sed "s/^/$prog: server ($mode): /" >&2 || true
    server_stop
    rm -rf "$data"
    if [[ $mode == on ]]; then
        ((rec == channels)) || note "warning: $rec of $channels archives recording at the end"
        ((dropped == 0)) || note "warning: $dropped segments dropped (the disk did not keep up)"
        : "$held"
    fi
}

# run_ref ROUND: dd per channel, the bytes and segment size of that round's "on" window
run_ref() {
    local round=$1
    local seg=${FIG[$round/on/seglen]:-0} dir i pids=()
    ((seg > 0)) || die "the archive recorded no segment in round $round: no reference"
    local interval
    interval=$(awk -v d="${FIG[$round/on/segdur]}" 'BEGIN { printf "%.4f", d / 1000 }')
    dir=$(mktemp -d "$TMP/ref.XXXXXX")
    for ((i = 1; i <= channels; i++)); do
        mkfifo "$dir/in$i"
        dd if="$dir/in$i" of="$dir/ch$i.ts" bs="$seg" iflag=fullblock oflag=dsync,append conv=notrunc status=none &
        pids+=($!)
        BG_PIDS+=($!)
    done
    local run_s=$((warmup + seconds + 3))
    python3 - "$dir" "$channels" "$seg" "$interval" "$run_s" "$DEMO_TS" <<'EOF' &
import os, sys, threading, time
d, n, seg, interval, run_s, media = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
with open(media, "rb") as f:
    data = f.read(seg)
data = (data * (seg // len(data) + 1))[:seg]
t0 = time.monotonic()
def feed(i):
    fd = os.open(f"{d}/in{i + 1}", os.O_WRONLY)
    k = 0
    while True:
        at = t0 + (i / n + k) * interval  # channels spread over the interval
        if at - t0 > run_s:
            break
        time.sleep(max(0.0, at - time.monotonic()))
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        k += 1
    os.close(fd)
ts = [threading.Thread(target=feed, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
EOF
    local feeder=$!
    BG_PIDS+=("$feeder")
    note "round $round, reference: $channels x dd, $seg-byte segments every $interval s (oflag=dsync); ${warmup} s warm-up, then ${seconds} s"
    sleep "$warmup"
    window "$round/ref" "${pids[*]}" "$dir"
    FIG[$round/ref/interval]=$interval
    wait "$feeder" 2>/dev/null || true
    for i in "${pids[@]}"; do wait "$i" 2>/dev/null || true; done
    rm -rf "$dir"
}

for ((round = 1; round <= rounds; round++)); do
    run_server off "$round"
    run_server on "$round"
    run_ref "$round"
done
load_end=$(load_now)

# ---- report ------------------------------------------------------------------------------------------------
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
{
    echo "antenne archive recording cost ($(nproc) CPUs; $("$ANTENNE" --version 2>/dev/null || echo antenne)), $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "$channels channels, each file://$(basename "$DEMO_TS") (H.264 720p25, constant 4 Mbit/s mux) in real time;"
    echo "windows of $seconds s after all channels are up and $warmup s more; data in $TMP ($(df -PT "$TMP" | awk 'NR == 2 { print $1 ", " $2 }'))"
    echo "load: before: $load_start; after: $load_end"
    echo
    printf "%-5s %-12s %8s %8s %8s %8s %10s %10s %8s %8s %8s %9s\n" round window "CPU %" "loop %" "other %" \
        "stat %" "MB/s files" "MB/s disk" segments dropped "kthr. %" "machine %"
    for ((round = 1; round <= rounds; round++)); do
        for mode in off on ref; do
            k=$round/$mode
            label=$mode
            [[ $mode == off ]] && label="antenne off"
            [[ $mode == on ]] && label="antenne on"
            [[ $mode == ref ]] && label="dd x $channels"
            loop=${FIG[$k/loop]} other=${FIG[$k/other]} dropped=${FIG[$k/dropped]:--}
            [[ $mode == ref ]] && loop=- other=-
            printf "%-5s %-12s %8s %8s %8s %8s %10s %10s %8s %8s %8s %9s\n" "$round" "$label" "${FIG[$k/cpu]}" "$loop" \
                "$other" "${FIG[$k/stat]}" "${FIG[$k/grow]}" "${FIG[$k/io]}" "${FIG[$k/segs]}" "$dropped" "${FIG[$k/kt]}" \
                "${FIG[$k/busy]}"
        done
    done
    echo
    echo "CPU %: of one core, time on a CPU of the process(es) over the window, summed over their threads"
    echo "(/proc/PID/task/*/schedstat, in ns); loop: antenne's event-loop thread; other: its other threads (file"
    echo "readers, and libuv's pool, which writes the archive). stat %: the same from utime + stime (/proc/PID/stat,"
    echo "whole clock ticks, truncated per process: 20 dd processes lose up to 20 ticks). MB/s files: growth of"
    echo "the files; MB/s disk: the processes' write_bytes (what they sent to storage). kthr.: CPU of all kernel"
    echo "threads of the machine (writeback, journal; other work's too). machine: every CPU, of $(($(nproc) * 100)) %."
    [[ -n "${FIG[1/on/seglen]:-}" ]] && echo "Recorded segments (round 1): ${FIG[1/on/seglen]} bytes, ${FIG[1/on/segdur]} ms on average."
    echo
    offs=() ons=() refs=() recs=() recloops=() recothers=() grows=() ios=() rios=()
    for ((round = 1; round <= rounds; round++)); do
        offs+=("${FIG[$round/off/cpu]}") ons+=("${FIG[$round/on/cpu]}") refs+=("${FIG[$round/ref/cpu]}")
        # recording's cost: the difference within each round (the machine's load drifts between rounds)
        recs+=("$(awk -v a="${FIG[$round/on/cpu]}" -v b="${FIG[$round/off/cpu]}" 'BEGIN { printf "%.3f", a - b }')")
        recloops+=("$(awk -v a="${FIG[$round/on/loop]}" -v b="${FIG[$round/off/loop]}" 'BEGIN { printf "%.3f", a - b }')")
        recothers+=("$(awk -v a="${FIG[$round/on/other]}" -v b="${FIG[$round/off/other]}" 'BEGIN { printf "%.3f", a - b }')")
        ios+=("${FIG[$round/on/io]}") rios+=("${FIG[$round/ref/io]}")
        # the archive's rate from its records (the window's growth counts whole segments)
        grows+=("$(awk -v l="${FIG[$round/on/seglen]}" -v d="${FIG[$round/on/segdur]}" -v n="$channels" \
            'BEGIN { printf "%.4f", n * l / d / 1000 }')")
    done
    what="over $rounds rounds (medians; on - off is the median of the rounds' differences: ${recs[*]})"
    ((rounds == 1)) && what="one round"
    awk -v off="$(median "${offs[@]}")" -v on="$(median "${ons[@]}")" -v ref="$(median "${refs[@]}")" \
        -v rec="$(median "${recs[@]}")" -v rloop="$(median "${recloops[@]}")" -v rother="$(median "${recothers[@]}")" \
        -v grow="$(median "${grows[@]}")" -v io="$(median "${ios[@]}")" -v rio="$(median "${rios[@]}")" \
        -v n="$channels" -v what="$what" 'BEGIN {
        printf "summary, %s:\n", what
        printf "  antenne, archive off: %6.2f %% of one core (%.3f %% per channel)\n", off, off / n
        printf "  antenne, archive on:  %6.2f %% of one core (%.3f %% per channel)\n", on, on / n
        printf "  recording alone (on - off): %.2f %% for %d channels = %.4f %% of one core per channel\n", rec, n, rec / n
        printf "    of which the event-loop thread %.2f %%, the other threads (the writes, on the pool) %.2f %%\n", rloop, rother
        printf "  reference, dd writing the same bytes (oflag=dsync, one write + sync per segment): %.2f %% = %.4f %% per channel\n", ref, ref / n
        if (ref > 0)
            printf "  recording / reference: %.2f\n", rec / ref
        printf "  disk: the archive records %.2f MB/s (%.3f MB/s = %.2f Mbit/s per channel, from its index records);\n", grow, grow / n, grow / n * 8
        printf "        written to storage in the window (write_bytes): antenne %.2f MB/s, dd %.2f MB/s\n", io, rio
        printf "\n200 recorded channels, extrapolated linearly (goal: < 50 %% of one core):\n"
        r200 = rec / n * 200; w200 = on / n * 200; d200 = ref / n * 200
        printf "  recording alone:                   %6.1f %% -> goal %s\n", r200, r200 < 50 ? "MET" : "NOT MET"
        printf "  whole server (input, segmenting,\n"
        printf "  live ring and recording):          %6.1f %% -> goal %s\n", w200, w200 < 50 ? "MET" : "NOT MET"
        printf "  reference dd:                      %6.1f %%\n", d200
        printf "RESULT channels=%d off_cpu=%.2f on_cpu=%.2f rec_per_channel=%.4f rec_200=%.1f whole_200=%.1f ref_cpu=%.2f ref_per_channel=%.4f archive_mbps=%.3f goal_recording=%d goal_whole=%d\n",
            n, off, on, rec / n, r200, w200, ref, ref / n, grow, r200 < 50, w200 < 50
    }'
    echo
    echo "kept in $out"
} | tee "$out/summary.txt"
