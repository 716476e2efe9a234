#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# soak.sh -- soak benchmark (issue 5): 20 channels whose primaries fail and return, churning viewers, leaks checked.
#
# Usage: bench/soak.sh [--minutes N | --seconds N] [BUILD_DIR]     (default 30 minutes, build-release)
#
# One antenne (release build) serves 20 channels, each with a primary and a
# backup UDP source on 127.0.0.1 (--failover-ms 1000, --failback-s 5).
# bench/soak feeds all 40 sources in real time from short.ts (2 Mbit/s
# constant mux, 7 TS packets per datagram, continuity counters and
# timestamps continuous across the file's loops), silences one channel's
# primary for 3 s every 60 s (every run/30 s, at least 15, in runs shorter
# than 30 min), and keeps 60 HTTP-TS viewers on random channels, each
# staying 3-20 s, checking TS sync and continuity on every byte.
#
# The run is a warm-up (10 % of it, at least 60 s) and the main phase. After
# each, with no viewer connected and every channel back on its primary, the
# server's RSS (VmRSS) and open descriptors (/proc/PID/fd) are read. Pass:
# RSS at the end within 10 % of the warm-up's, the same descriptors, no
# viewer CC or sync error except CC errors that follow a loss the server saw
# on its input, no session failed or cut by the server. Exit 1 on a failure.
#
# Environment (all optional):
#   BENCH_SOAK_CHANNELS=20 BENCH_SOAK_VIEWERS=60      channels, viewers at once
#   BENCH_SOAK_STAY_MIN=3 BENCH_SOAK_STAY_MAX=20      each viewer's stay, seconds
#   BENCH_SOAK_OUTAGE_EVERY=60 BENCH_SOAK_OUTAGE_S=3  a primary goes silent this often, this long
#   BENCH_SOAK_FAILBACK_S=5                           the channels' --failback-s
#   BENCH_SOAK_SEED=1                                 viewers' random choices
#   BENCH_OUT=DIR        keep the logs there (default BUILD_DIR/bench-results/soak-DATE)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

prog=soak
usage() {
    # the header comment, without the shebang, SPDX and shellcheck lines
    awk 'NR > 2 && /^#/ { if (!/shellcheck/) { sub(/^# ?/, ""); print } next } NR > 2 { exit }' "$0"
}
seconds=1800
build=''
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --minutes) [[ "${2:-}" =~ ^[0-9]+$ ]] || { usage >&2; exit 1; }; seconds=$((10#$2 * 60)); shift 2 ;;
    --seconds) [[ "${2:-}" =~ ^[0-9]+$ ]] || { usage >&2; exit 1; }; seconds=$((10#$2)); shift 2 ;;
    -*) usage >&2; exit 1 ;;
    *) [[ -z "$build" ]] || { usage >&2; exit 1; }; build=$1; shift ;;
    esac
done
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

channels=${BENCH_SOAK_CHANNELS:-20}
viewers=${BENCH_SOAK_VIEWERS:-60}
stay_min=${BENCH_SOAK_STAY_MIN:-3}
stay_max=${BENCH_SOAK_STAY_MAX:-20}
outage_s=${BENCH_SOAK_OUTAGE_S:-3}
failback_s=${BENCH_SOAK_FAILBACK_S:-5}
seed=${BENCH_SOAK_SEED:-1}
# Each channel's ring (8 MiB) fills in about 40 s at this rate, and RSS
# grows until it is full: the warm-up lasts at least 60 s.
warmup=$((seconds / 10 > 60 ? seconds / 10 : 60))
main=$((seconds - warmup))
((main >= 30)) || die "--seconds $seconds: at least $((warmup + 30)) (a warm-up of $warmup s and 30 s more)"
every=${BENCH_SOAK_OUTAGE_EVERY:-$((seconds >= 1800 ? 60 : (seconds / 30 > 15 ? seconds / 30 : 15)))}

bench_init "$build"
SOAK=$BUILD/bench/soak
[[ -x "$SOAK" ]] || die "$SOAK not built"
bench_media
media=$(dirname "$DEMO_TS")/short.ts
[[ -s "$media" ]] || die "$media missing (scripts/make-media.sh makes it)"
out=${BENCH_OUT:-$BUILD/bench-results/soak-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
schedule="a primary silent ${outage_s} s every ${every} s"
[[ "$every" != 0 ]] || schedule="no outages"
note "$((seconds / 60)) min $((seconds % 60)) s: warm-up $warmup s + $main s; $channels channels, $viewers viewers, $schedule; output in $out"

# 2N distinct free UDP ports: primary, backup, primary, backup, ...
ports=$(python3 -c '
import socket, sys
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2 * int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(",".join(str(s.getsockname()[1]) for s in socks))' "$channels")
IFS=, read -r -a port_list <<<"$ports"

data=$TMP/data
mkdir -p "$data"
for ((i = 0; i < channels; i++)); do
    name=$(printf 'soak%02d' $((i + 1)))
    "$ANTENNE" --data "$data" channel add "$name" --number $((i + 1)) \
        --source "udp://127.0.0.1:${port_list[2 * i]}" --source "udp://127.0.0.1:${port_list[2 * i + 1]}" \
        --failover-ms 1000 --failback-s "$failback_s" >/dev/null || die "antenne channel add $name failed"
done
admin_token "$data"

# The feeder first, so that the server finds every primary sending and does
# not fail over while it starts. bench/soak feeds from the start and waits at
# checkpoint 0 until it is told to begin (SIGUSR1). It stands in for the
# network, which a busy machine does not slow down: as root it runs at a
# higher priority than the rest (the server keeps the default), so that
# other work on the machine does not starve the sources into failovers.
server_port=$(free_port)
feeder_nice=()
[[ $(id -u) == 0 ]] && feeder_nice=(nice -n -10)
"${feeder_nice[@]}" "$SOAK" --server "http://127.0.0.1:$server_port/" --media "$media" --channels "$channels" --ports "$ports" \
    --viewers "$viewers" --stay-min "$stay_min" --stay-max "$stay_max" --phase "$warmup" --phase "$main" \
    --outage-every "$every" --outage-s "$outage_s" --failback-s "$failback_s" --seed "$seed" \
    --checkpoint-timeout 300 --error-log "$out/viewer-errors.log" >"$out/soak.txt" 2>"$out/soak.err" &
SOAK_PID=$!
BG_PIDS+=("$SOAK_PID")

# wait_line PATTERN SECONDS: until soak printed a line matching PATTERN
wait_line() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        grep -q "$1" "$out/soak.txt" 2>/dev/null && return 0
        if ! kill -0 "$SOAK_PID" 2>/dev/null; then
            grep -q "$1" "$out/soak.txt" && return 0 # (it printed the line and ended)
            cat "$out/soak.err" >&2
            die "bench/soak exited"
        fi
        sleep 0.1
    done
    die "bench/soak printed no '$1' within $2 s"
}
wait_line '^CHECKPOINT 0$' 10

server_serve "$data" "$out/server.log" "$server_port" --log-level info

# on_primary -> how many channels are up on their first source
on_primary() {
    http_get /api/v1/channels | python3 -c '
import json, sys
print(sum(c["state"] == "up" and c.get("source_index") == 0 for c in json.load(sys.stdin)["channels"]))' 2>/dev/null ||
        echo 0
}
# wait_primaries SECONDS: until every channel is up on its primary
wait_primaries() {
    local i n=0
    for ((i = 0; i < $1 * 2; i++)); do
        n=$(on_primary)
        ((n == channels)) && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$SERVER_LOG" >&2; die "antenne exited"; }
        sleep 0.5
    done
    die "only $n of $channels channels up on their primary after $1 s"
}
wait_primaries 30
sleep 3 # every ring holds a keyframe before the first viewer comes

# The poller: once a second, every channel's input counters and source, new
# events, and the server's RSS, descriptors and CPU time. It pauses while
# $out/pause exists (so its own connection is not counted among the
# server's descriptors) and stops when $out/stop exists, the server is gone
# or its time is up.
python3 - "$PORT" "$ADMIN_TOKEN" "$SERVER_PID" "$out" $((seconds + 900)) "$ports" >"$out/poller.txt" 2>&1 <<'EOF' &
import json, os, sys, time, urllib.request

port, token, pid, out, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
udp_ports = {int(p) for p in sys.argv[6].split(",")}
deadline = time.time() + limit
clk = os.sysconf("SC_CLK_TCK")


def get(path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=2) as r:
        return json.load(r)


def proc():
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    with open(f"/proc/{pid}/stat") as f:
        st = f.read().rsplit(")", 1)[1].split()
    return rss, len(os.listdir(f"/proc/{pid}/fd")), (int(st[11]) + int(st[12])) / clk


drops = {}  # socket inode -> datagrams it dropped (its receive buffer was full)


def udp_drops():
    """Drops of the sockets bound to the sources' ports, over every socket ever seen."""
    with open("/proc/net/udp") as f:
        for line in list(f)[1:]:
            w = line.split()
            if int(w[1].split(":")[1], 16) in udp_ports:
                drops[w[9]] = max(drops.get(w[9], 0), int(w[-1]))
    return sum(drops.values())


samples = open(f"{out}/samples.csv", "w")
print("t_ms,rss_kib,fds,cpu_s,viewers,up,on_primary,udp_drops", file=samples)
inputs = open(f"{out}/input-errors.jsonl", "w")
events = open(f"{out}/events.jsonl", "w")
prev, last_event = {}, 0
while time.time() < deadline and not os.path.exists(f"{out}/stop"):
    began = time.time()
    if not os.path.exists(f"{out}/pause"):
        try:
            chans = get("/api/v1/channels")["channels"]
            evs = get(f"/api/v1/events?after={last_event}&limit=1000")["events"]
            rss, fds, cpu = proc()
        except (OSError, ValueError, StopIteration) as e:
            print(f"poll failed: {e}", flush=True)
            if not os.path.exists(f"/proc/{pid}"):
                break
            time.sleep(1)
            continue
        now = int(time.time() * 1000)
        for e in sorted(evs, key=lambda e: e["id"]):
            events.write(json.dumps(e) + "\n")
            last_event = max(last_event, e["id"])
        for c in chans:
            # The analysis and the counters start again with each source:
            # a new source index or fewer packets than before is a restart.
            errs, src, packets = c["analysis"]["errors"], c.get("source_index"), c["stats"]["packets_in"]
            p = prev.get(c["name"])
            restart = p is None or p["src"] != src or packets < p["packets"]
            delta = {k: v - (0 if restart else p["errs"].get(k, 0)) for k, v in errs.items()}
            delta = {k: v for k, v in delta.items() if v > 0}
            if delta and p is not None:
                inputs.write(json.dumps({"t": now, "t_prev": p["t"], "channel": c["name"], "source": src,
                                         "errors": delta}) + "\n")
            prev[c["name"]] = {"t": now, "src": src, "packets": packets, "errs": errs}
        print(f"{now},{rss},{fds},{cpu:.2f},{sum(c['viewers'] for c in chans)},"
              f"{sum(c['state'] == 'up' for c in chans)},{sum(c.get('source_index') == 0 for c in chans)},{udp_drops()}",
              file=samples)
        for f in (samples, inputs, events):
            f.flush()
    time.sleep(max(0.0, 1.0 - (time.time() - began)))
EOF
POLLER_PID=$!
BG_PIDS+=("$POLLER_PID")

# proc_figures -> "RSS_KIB FDS CPU_S" of the server now
proc_figures() {
    local rss fds cpu
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")
    fds=$(find "/proc/$SERVER_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$SERVER_PID/stat")
    echo "$rss $fds $cpu"
}
# measure NAME: with no viewers and every channel on its primary, the server's
# RSS (median of 5 readings 0.5 s apart), descriptors (listed in fds-NAME.txt)
# and CPU time, appended to checkpoints.txt
measure() {
    local i rss=() fig
    wait_primaries 90
    touch "$out/pause"
    sleep 3 # the server closes the last viewers' sockets; the poller finishes its request
    for ((i = 0; i < 5; i++)); do
        read -r -a fig <<<"$(proc_figures)"
        rss+=("${fig[0]}")
        sleep 0.5
    done
    ls -l "/proc/$SERVER_PID/fd" >"$out/fds-$1.txt" 2>&1 || true
    read -r -a fig <<<"$(proc_figures)"
    echo "$1 $(printf '%s\n' "${rss[@]}" | sort -n | sed -n 3p) ${fig[1]} ${fig[2]} $(date +%s%3N)" >>"$out/checkpoints.txt"
    rm -f "$out/pause"
}
udp_drops() { awk '/^Udp:/ { if (!h) { h = 1; next } print $4, $6 }' /proc/net/snmp; } # InErrors RcvbufErrors

: >"$out/checkpoints.txt"
ev0=$(http_get '/api/v1/events?limit=1' | python3 -c 'import json, sys; e = json.load(sys.stdin)["events"]; print(e[0]["id"] if e else 0)')
udp0=$(udp_drops)
read -r -a fig <<<"$(proc_figures)"
echo "start ${fig[0]} ${fig[1]} ${fig[2]} $(date +%s%3N)" >>"$out/checkpoints.txt"
kill -USR1 "$SOAK_PID"
note "warm-up: $warmup s"
wait_line '^CHECKPOINT 1$' $((warmup + 120))
measure warmup
note "warm-up done: $(tail -n 1 "$out/checkpoints.txt" | awk '{ print "RSS " $2 " KiB, " $3 " descriptors" }'); main phase: $main s"
kill -USR1 "$SOAK_PID"
wait_line '^CHECKPOINT 2$' $((main + 120))
measure end
udp1=$(udp_drops)
kill -USR1 "$SOAK_PID"
wait_line '^RESULT' 30
wait "$SOAK_PID" || die "bench/soak failed (see $out/soak.err)"
touch "$out/stop"
wait "$POLLER_PID" || true
alive=1
kill -0 "$SERVER_PID" 2>/dev/null || alive=0
server_stop

rc=0
python3 - "$out" "$ev0" "$udp0" "$udp1" "$alive" "$seconds" "$warmup" "$main" "$channels" "$viewers" \
    "$stay_min" "$stay_max" "$every" "$outage_s" "$failback_s" "$(basename "$media")" \
    "$("$ANTENNE" --version 2>/dev/null || echo antenne)" <<'EOF' || rc=$?
import json, statistics, sys
from datetime import datetime, timezone

(out, ev0, udp0, udp1, alive, seconds, warmup, main, channels, viewers, stay_min, stay_max, every, outage_s,
 failback_s, media, version) = sys.argv[1:]
ev0, alive = int(ev0), alive == "1"


def ms(iso):
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000)


def fields(line):
    return {k: v for k, v in (w.split("=", 1) for w in line.split()[1:] if "=" in w)}


soak_lines = open(f"{out}/soak.txt").read().splitlines()
stalls = [fields(l) for l in soak_lines if l.startswith("STALL ")]
stalls = [(int(f["at_ms"]) - int(f["late_ms"]), int(f["at_ms"])) for f in stalls]
res = fields(next(l for l in soak_lines if l.startswith("RESULT ")))
num = {k: float(v) for k, v in res.items()}
outages = [fields(l) for l in soak_lines if l.startswith("OUTAGE ")]
cps = {l.split()[0]: l.split()[1:] for l in open(f"{out}/checkpoints.txt") if l.strip()}
events = [json.loads(l) for l in open(f"{out}/events.jsonl")]
events = [e for e in events if e["id"] > ev0]
inputs = [json.loads(l) for l in open(f"{out}/input-errors.jsonl")]
samples = [l.split(",") for l in open(f"{out}/samples.csv").read().splitlines()[1:]]

# Switches: each outage should give one failover, then one failback.
delays_over, delays_back, unmatched = [], [], 0
kinds = {}
for e in events:
    kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
for o in outages:
    silent, back = int(o["silent_ms"]), int(o["back_ms"])
    over = [ms(e["time"]) for e in events if e["channel"] == o["channel"] and e["kind"] == "failover"
            and ms(e["time"]) >= silent]
    fb = [ms(e["time"]) for e in events if e["channel"] == o["channel"] and e["kind"] == "failback"
          and ms(e["time"]) >= back]
    if over and over[0] <= back:
        delays_over.append((min(over) - silent) / 1e3)
    else:
        unmatched += 1
    if fb:
        delays_back.append((min(fb) - back) / 1e3)
failovers, failbacks = kinds.get("failover", 0), kinds.get("failback", 0)
# Failovers off the schedule, and how many fell in a stall of the feeder
# (the sources were silent because the feeder did not get the CPU).
unplanned = [e for e in events if e["kind"] == "failover" and not any(
    o["channel"] == e["channel"] and int(o["silent_ms"]) <= ms(e["time"]) <= int(o["back_ms"]) for o in outages)]
in_stall = sum(any(a - 1500 <= ms(e["time"]) <= b + 500 for a, b in stalls) for e in unplanned)

# Input errors the server saw: those of a channel whose primary is silent
# (PAT and PMT missing until the failover) are the schedule's, the others
# are losses on the way in. The counters restart with each source and are
# read once a second, so errors in a source's last second can be missed.
windows = {}
for o in outages:
    windows.setdefault(o["channel"], []).append((int(o["silent_ms"]), int(o["back_ms"]) + 1000 * (int(failback_s) + 3)))
input_outage, input_other = {}, {}
for i in inputs:
    during = any(a <= i["t"] and i["t_prev"] <= b for a, b in windows.get(i["channel"], []))
    for k, v in i["errors"].items():
        (input_outage if during else input_other)[k] = (input_outage if during else input_other).get(k, 0) + v


def counts(d):
    return ", ".join(f"{k} {v}" for k, v in sorted(d.items())) or "none"


# Viewer CC errors that follow a loss on the input: a packet lost on the way
# in reaches every viewer of that channel as a gap.
cc_windows = {}
for i in inputs:
    if i["errors"].get("Continuity_count_error"):
        cc_windows.setdefault(i["channel"], []).append((i["t_prev"] - 1000, i["t"] + 3000))
excused = unexcused_cc = 0
logged_cc = logged_sync = 0
for line in open(f"{out}/viewer-errors.log"):
    t, chan, _, kind = line.split()[:4]
    if kind == "cc":
        logged_cc += 1
        if any(a <= int(t) <= b for a, b in cc_windows.get(chan, [])):
            excused += 1
        else:
            unexcused_cc += 1
    else:
        logged_sync += 1
unexcused_cc += int(num["cc_errors"]) - logged_cc  # errors beyond the log's cap count against
udp_in = [int(b) - int(a) for a, b in zip(udp0.split(), udp1.split())]

w, e = cps["warmup"], cps["end"]
rss_w, fds_w, cpu_w, t_w = int(w[0]), int(w[1]), float(w[2]), int(w[3])
rss_e, fds_e, cpu_e, t_e = int(e[0]), int(e[1]), float(e[2]), int(e[3])
main_samples = [s for s in samples if t_w <= int(s[0]) <= t_e]
run_samples = [s for s in samples if int(s[0]) <= t_e]
sock_drops = int(run_samples[-1][7]) if run_samples and len(run_samples[-1]) > 7 else 0
rss_main = [int(s[1]) for s in main_samples] or [rss_w]
fds_main = [int(s[2]) for s in main_samples] or [fds_w]
rss_change = 100.0 * (rss_e - rss_w) / rss_w
# Least-squares slope of RSS over the main phase, KiB per minute: a leak
# shows as a steady climb even when the end is within 10 %.
ts = [(int(s[0]) - t_w) / 60e3 for s in main_samples]
slope = (statistics.linear_regression(ts, rss_main).slope if len(ts) > 2 and max(ts) > min(ts) else 0.0)


def mmx(v):
    return f"median {statistics.median(v):.2f} s, max {max(v):.2f} s" if v else "none"


sessions = int(num["sessions"])
failed = int(num["failed_connect"] + num["failed_http"] + num["dropped"] + num["empty"])
print()
print(f"antenne soak ({version}, release build): {int(seconds) // 60} min {int(seconds) % 60} s = warm-up {warmup} s"
      f" + {main} s; {channels} channels x (primary + backup) UDP on 127.0.0.1, {media} in real time")
schedule = f"a primary silent {outage_s} s every {every} s" if float(every) > 0 else "no outages"
print(f"  {viewers} viewers at once (HTTP-TS, {stay_min}-{stay_max} s each); {schedule}"
      f" (--failover-ms 1000, --failback-s {failback_s})")
print(f"sessions: {sessions} ({int(num['completed'])} completed, {int(num['failed_connect'])} connect failed,"
      f" {int(num['failed_http'])} without 200, {int(num['dropped'])} cut by the server,"
      f" {int(num['empty'])} without bytes); {num['bytes'] / 1e9:.2f} GB received")
print(f"viewer errors: CC {int(num['cc_errors'])} ({excused} after a loss on the input, {unexcused_cc} not),"
      f" sync {int(num['sync_errors'])}; discontinuity indicators {int(num['discontinuities'])}"
      f" in {int(num['with_discontinuity'])} sessions")
print(f"  first byte max {num['ttfb_max_ms']:.0f} ms; longest gap between reads {num['max_gap_s']:.2f} s;"
      f" sessions with a gap >= 2 s: {int(num['long_gaps'])}")
print(f"outages: {len(outages)}; switches (events): {failovers} failover, {failbacks} failback;"
      f" failovers off the schedule: {len(unplanned)} ({in_stall} while the feeder was stalled)")
print(f"  other events: {counts({k: v for k, v in kinds.items() if k not in ('failover', 'failback')})}")
print(f"  failover after the primary's last datagram: {mmx(delays_over)}; failback after it returned:"
      f" {mmx(delays_back)}{f'; {unmatched} outages without a failover' if unmatched else ''}")
print(f"input errors (server's analysis): while a primary was silent: {counts(input_outage)}; otherwise: "
      f"{counts(input_other)}")
print(f"  the server's UDP sockets dropped {sock_drops} datagrams (/proc/net/udp);"
      f" kernel Udp InErrors +{udp_in[0]}, RcvbufErrors +{udp_in[1]} (whole machine, other programs too)")
print(f"feeder: {int(num['datagrams'])} datagrams, {int(num['withheld'])} withheld in outages,"
      f" latest {num['max_lateness_ms']:.0f} ms after due ({int(num['late_datagrams'])} > 100 ms,"
      f" {len(stalls)} stalls > 200 ms)")
print(f"server: RSS {rss_w} KiB after warm-up -> {rss_e} KiB at the end ({rss_change:+.1f} %),"
      f" during the main phase {min(rss_main)}-{max(rss_main)} KiB (trend {slope:+.0f} KiB/min);"
      f" descriptors {fds_w} -> {fds_e} (up to {max(fds_main)} with viewers);"
      f" CPU {cpu_e - cpu_w:.1f} s in the main phase ({100 * (cpu_e - cpu_w) / max(1, (t_e - t_w) / 1e3):.1f} % of a core)")
checks = [
    (abs(rss_change) <= 10, f"RSS at the end within 10 % of warm-up ({rss_change:+.1f} %)"),
    (fds_e == fds_w, f"descriptors at the end equal to warm-up ({fds_w} -> {fds_e})"),
    (unexcused_cc == 0 and num["sync_errors"] == 0,
     f"no viewer CC or sync error the input does not explain (CC {unexcused_cc}, sync {int(num['sync_errors'])})"),
    (failed == 0 and sessions > 0, f"every session got 200 and bytes, and lasted until the viewer left ({failed} did not)"),
    (alive, "the server ran to the end"),
]
for ok, what in checks:
    print(f"  {'PASS' if ok else 'FAIL'}  {what}")
passed = all(ok for ok, _ in checks)
print(f"soak: {'PASS' if passed else 'FAIL'}; logs in {out}")
sys.exit(0 if passed else 1)
EOF
exit "$rc"
