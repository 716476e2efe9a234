#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install-deps.sh -- install the Debian packages antenne needs to build, run and test.
#
# Usage: scripts/install-deps.sh [--test]
#   (no option)  build and run dependencies
#   --test       also the test tools (sanitizer runtime, cmocka, pytest, real clients)
#
# Idempotent: only packages that are not installed yet are installed, and
# `apt-get update` runs only when something is missing.
set -euo pipefail

build_pkgs=(
    meson ninja-build pkg-config gcc
    libuv1-dev libbitstream-dev libsqlite3-dev libjansson-dev libsodium-dev
    libpq-dev libexpat1-dev zlib1g-dev
    ffmpeg sqlite3 curl
    fontconfig fonts-dejavu-core   # font for ffmpeg drawtext in scripts/make-media.sh
    nodejs   # scripts/build-web.sh: the web UI's hls.js and uPlot come from npm
    $(command -v npm >/dev/null 2>&1 || echo npm)   # (NodeSource's nodejs bundles npm and conflicts with Debian's)
)
test_pkgs=(
    clang libclang-rt-14-dev libcmocka-dev python3-pytest
    vlc-bin vlc-plugin-base streamlink iperf3 wrk nginx-light
    iproute2 procps
    postgresql    # the store's second backend, started privately by scripts/pg-test.sh
    xmltv-util libxmltv-perl libxml2-utils   # tv_validate_file, the XMLTV DTD and xmllint for EPG tests
    python3-prometheus-client   # its parser reads /metrics in the tests
    chromium   # hls.js and the web UI in headless Chromium (tests/browser, playwright-core from npm)
)

want=("${build_pkgs[@]}")
for arg in "$@"; do
    case "$arg" in
        --test) want+=("${test_pkgs[@]}") ;;
        -h|--help) sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install-deps: unknown option '$arg' (try --help)" >&2; exit 1 ;;
    esac
done

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: this script needs Debian/Ubuntu (dpkg-query, apt-get)." >&2
    echo "install-deps: install these packages by other means: ${want[*]}" >&2
    exit 1
fi

missing=()
for pkg in "${want[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == installed ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: all ${#want[@]} packages already installed"
    exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-deps: not root and no sudo; as root run: apt-get install ${missing[*]}" >&2
        exit 1
    fi
    sudo=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
