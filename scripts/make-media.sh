#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make-media.sh -- generate the MPEG-TS test media antenne's tests and ./start use.
#
# Usage: scripts/make-media.sh DIR
#
# Everything is synthesised with ffmpeg's lavfi sources (testsrc2 + sine), so
# no media is downloaded or committed. Files that already exist and pass the
# ffprobe check are kept; each new file is written to a temporary name in DIR
# and renamed into place, so a reader never sees a half-written file.
#
#   demo.ts   30 s 1280x720 25 fps H.264 (2 s GOP, ~3 Mbit/s) + AAC 1 kHz, constant 4 Mbit/s mux
#   short.ts  10 s  640x360 25 fps H.264 (2 s GOP)             + AAC 1 kHz, constant 2 Mbit/s mux
#   mpts.ts   10 s, two programs (numbers 1 and 2), each 640x360 H.264 + AAC, constant 3 Mbit/s mux
#   radio.ts  10 s AAC only, constant 256 kbit/s mux
#   hevc.ts   10 s  640x360 25 fps H.265 (2 s closed GOP)      + AAC, constant 1.5 Mbit/s mux
#
# The video carries its own timestamp and frame number (drawtext), so a test
# can tell which moment of the file it is looking at.
set -euo pipefail

prog=make-media
die() { echo "$prog: $*" >&2; exit 1; }

if [[ $# -ne 1 || "$1" == -h || "$1" == --help ]]; then
    sed -n '3,19p' "$0" | sed 's/^# \{0,1\}//'
    [[ $# -eq 1 ]] && exit 0 || exit 1
fi
dir=$1

command -v ffmpeg >/dev/null 2>&1 || die "ffmpeg not found; run scripts/install-deps.sh"
command -v ffprobe >/dev/null 2>&1 || die "ffprobe not found; run scripts/install-deps.sh"
mkdir -p "$dir"

# drawtext needs a font: prefer DejaVu's file (package fonts-dejavu-core),
# else whatever fontconfig offers.
dejavu=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
if [[ -r "$dejavu" ]]; then
    font="fontfile=$dejavu"
elif command -v fc-match >/dev/null 2>&1 && [[ -n "$(fc-match -f '%{file}' sans 2>/dev/null)" ]]; then
    font="font=sans"
else
    die "no font for ffmpeg's drawtext; run scripts/install-deps.sh (installs fonts-dejavu-core)"
fi

# label TEXT SIZE -> a drawtext filter burning TEXT, the media time and the frame number in.
label() {
    printf "drawtext=%s:text='%s %%{pts\\\\:hms} frame %%{n}':fontsize=%s:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8:x=24:y=24" \
        "$font" "$1" "$2"
}

# Shared encoder settings: fixed 2 s GOP (50 frames at 25 fps) with no
# scene-cut keyframes, so keyframe positions are predictable.
x264=(-c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p
      -g 50 -keyint_min 50 -sc_threshold 0)
aac=(-c:a aac -ac 2)

tmpfiles=()
cleanup() { [[ ${#tmpfiles[@]} -eq 0 ]] || rm -f "${tmpfiles[@]}"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ffmpeg_to OUT ARGS... -> run ffmpeg writing an MPEG-TS to a temporary file
# next to OUT; the caller renames it after the check.
ffmpeg_to() {
    local out=$1; shift
    ffmpeg -nostdin -hide_banner -loglevel error -y "$@" \
        -metadata service_provider=antenne -f mpegts "$out"
}

# probe FILE ENTRIES [ffprobe args...] -> csv values, one line per item
probe() {
    local file=$1 entries=$2; shift 2
    ffprobe -v error "$@" -show_entries "$entries" -of csv=p=0 "$file"
}

# check FILE DURATION MUXRATE PROGRAMS VIDEO(codec:WxH or none) AUDIO(aac or none)
# Prints a reason and returns 1 if FILE is not what it should be.
check() {
    local file=$1 want_dur=$2 want_rate=$3 want_progs=$4 want_video=$5 want_audio=$6
    local fmt dur rate progs video audio keys

    fmt=$(probe "$file" format=duration,bit_rate) || { echo "ffprobe cannot read it"; return 1; }
    IFS=, read -r dur rate <<<"$fmt"
    awk -v d="$dur" -v w="$want_dur" 'BEGIN { exit !(d + 0 > w - 0.5 && d + 0 < w + 0.5) }' ||
        { echo "duration $dur s, want $want_dur s"; return 1; }
    # A constant mux rate shows as an overall bit rate within a few percent of it.
    awk -v r="$rate" -v w="$want_rate" 'BEGIN { exit !(r + 0 > w * 0.97 && r + 0 < w * 1.03) }' ||
        { echo "bit rate $rate bit/s, want constant $want_rate"; return 1; }

    progs=$(probe "$file" program=program_num | grep -c . || true)
    [[ "$progs" == "$want_progs" ]] || { echo "$progs programs, want $want_progs"; return 1; }

    # ffprobe lists a stream once per program it is in and once on its own: dedupe.
    video=$(probe "$file" stream=index,codec_name,width,height -select_streams v | grep . | sort -u)
    if [[ "$want_video" == none ]]; then
        [[ -z "$video" ]] || { echo "has video ($video), want none"; return 1; }
    else
        [[ -n "$video" ]] || { echo "no video, want $want_video"; return 1; }
        local idx codec w h
        while IFS=, read -r idx codec w h; do
            [[ "$codec:${w}x$h" == "$want_video" ]] ||
                { echo "stream $idx is $codec:${w}x$h, want $want_video"; return 1; }
            # Keyframes every 2.00 s (skip_frame decodes only keyframes: fast).
            keys=$(probe "$file" frame=pts_time -select_streams "$idx" -skip_frame nokey | grep . | tr -d , | tr '\n' ' ')
            awk -v k="$keys" -v d="$want_dur" 'BEGIN {
                    n = split(k, t, " "); if (n < int(d / 2)) exit 1
                    for (i = 2; i <= n; i++) { g = t[i] - t[i-1]; if (g < 1.99 || g > 2.01) exit 1 }
                }' || { echo "stream $idx keyframes at [$keys], want one every 2.00 s"; return 1; }
        done <<<"$video"
    fi

    audio=$(probe "$file" stream=codec_name -select_streams a | grep . | sort -u | tr '\n' ' ')
    if [[ "$want_audio" == none ]]; then
        [[ -z "$audio" ]] || { echo "has audio ($audio), want none"; return 1; }
    else
        [[ "$audio" == "$want_audio " ]] || { echo "audio '$audio', want $want_audio"; return 1; }
    fi
    return 0
}

# make NAME "CHECK ARGS" GENERATOR -> keep DIR/NAME if it passes check, else
# run GENERATOR TMPFILE, check the result and rename it into place.
made=0 kept=0
make() {
    local name=$1 expect=$2 gen=$3
    local out="$dir/$name" tmp reason
    if [[ -e "$out" ]]; then
        # shellcheck disable=SC2086
        if reason=$(check "$out" $expect); then
            kept=$((kept + 1))
            return 0
        fi
        echo "$prog: $out: $reason; making it again"
    fi
    tmp="$dir/.$name.tmp.$$"
    tmpfiles+=("$tmp")
    local t0=$SECONDS
    echo "$prog: making $out"
    "$gen" "$tmp" || die "ffmpeg failed making $out"
    # shellcheck disable=SC2086
    reason=$(check "$tmp" $expect) || die "$out: $reason"
    mv -f "$tmp" "$out"
    echo "$prog: $out ok ($((SECONDS - t0)) s, $(du -h "$out" | cut -f1))"
    made=$((made + 1))
}

gen_demo() {
    ffmpeg_to "$1" \
        -f lavfi -i "testsrc2=size=1280x720:rate=25:duration=30" \
        -f lavfi -i "sine=frequency=1000:sample_rate=48000:duration=30" \
        -vf "$(label demo 48)" \
        "${x264[@]}" -b:v 3M -maxrate 3M -bufsize 3M \
        "${aac[@]}" -b:a 128k \
        -metadata service_name=demo -muxrate 4000000
}

gen_short() {
    ffmpeg_to "$1" \
        -f lavfi -i "testsrc2=size=640x360:rate=25:duration=10" \
        -f lavfi -i "sine=frequency=1000:sample_rate=48000:duration=10" \
        -vf "$(label short 28)" \
        "${x264[@]}" -b:v 1500k -maxrate 1500k -bufsize 1500k \
        "${aac[@]}" -b:a 128k \
        -metadata service_name=short -muxrate 2000000
}

gen_mpts() {
    # Program 1: testsrc2 + 1 kHz; program 2: testsrc + 440 Hz, so the two are
    # easy to tell apart by picture and by sound.
    ffmpeg_to "$1" \
        -f lavfi -i "testsrc2=size=640x360:rate=25:duration=10" \
        -f lavfi -i "sine=frequency=1000:sample_rate=48000:duration=10" \
        -f lavfi -i "testsrc=size=640x360:rate=25:duration=10" \
        -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=10" \
        -filter_complex "[0:v]$(label 'program 1' 28)[v1];[2:v]$(label 'program 2' 28)[v2]" \
        -map "[v1]" -map 1:a -map "[v2]" -map 3:a \
        "${x264[@]}" -b:v 1M -maxrate 1M -bufsize 1M \
        "${aac[@]}" -b:a 96k \
        -program program_num=1:title=one:st=0:st=1 \
        -program program_num=2:title=two:st=2:st=3 \
        -muxrate 3000000
}

gen_radio() {
    ffmpeg_to "$1" \
        -f lavfi -i "sine=frequency=1000:sample_rate=48000:duration=10" \
        "${aac[@]}" -b:a 128k \
        -metadata service_name=radio -muxrate 256000
}

gen_hevc() {
    # Closed GOP so every keyframe is an IDR picture, headers repeated before each.
    ffmpeg_to "$1" \
        -f lavfi -i "testsrc2=size=640x360:rate=25:duration=10" \
        -f lavfi -i "sine=frequency=1000:sample_rate=48000:duration=10" \
        -vf "$(label hevc 28)" \
        -c:v libx265 -preset veryfast -pix_fmt yuv420p -g 50 -keyint_min 50 \
        -x265-params "keyint=50:min-keyint=50:scenecut=0:open-gop=0:repeat-headers=1:log-level=error" \
        -b:v 1M -maxrate 1M -bufsize 1M \
        "${aac[@]}" -b:a 96k \
        -metadata service_name=hevc -muxrate 1500000
}

#    name      duration mux rate programs video          audio
make demo.ts  "30 4000000 1 h264:1280x720 aac" gen_demo
make short.ts "10 2000000 1 h264:640x360  aac" gen_short
make mpts.ts  "10 3000000 2 h264:640x360  aac" gen_mpts
make radio.ts "10 256000  1 none          aac" gen_radio
# (no grep -q on ffmpeg's output: with pipefail its early exit would fail the pipe)
if [[ "$(ffmpeg -hide_banner -encoders 2>/dev/null)" == *libx265* ]]; then
    make hevc.ts "10 1500000 1 hevc:640x360 aac" gen_hevc
else
    echo "$prog: ffmpeg has no libx265; skipping hevc.ts" >&2
fi

echo "$prog: $dir: $made made, $kept already there"
