#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pg-test.sh -- a private, throw-away PostgreSQL cluster for the tests.
#
# Usage: scripts/pg-test.sh start DIR   prints postgresql://USER@127.0.0.1:PORT/antenne
#        scripts/pg-test.sh stop DIR    stops it and removes DIR
#        scripts/pg-test.sh url DIR     prints the URL of a running one
#
# The cluster lives in DIR (data, log, unix socket), listens on 127.0.0.1 on a
# free port with trust authentication, and holds an empty database `antenne`.
# It uses Debian's `postgresql` package (initdb and pg_ctl are not on PATH).
# As root the server runs as the `postgres` user (PostgreSQL refuses root);
# DIR and its parents must then be reachable by that user (/tmp is).
# Durability is switched off (fsync, synchronous_commit): a test cluster
# trades crash safety for speed.
#
# Idempotent: `start` on a DIR whose cluster runs prints its URL again;
# `stop` on a missing DIR does nothing. Only a DIR this script made (it holds
# a marker file) is ever removed.
#
#   url=$(scripts/pg-test.sh start /tmp/antenne-pg)
#   ANTENNE_TEST_PG_URL=$url meson test -C build --suite unit
#   scripts/pg-test.sh stop /tmp/antenne-pg
set -euo pipefail

prog=pg-test
die() { echo "$prog: $*" >&2; exit 1; }
say() { echo "$prog: $*" >&2; }
marker=antenne-pg-test

usage() { sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit "${1:-1}"; }
[[ $# -ge 1 && ( "$1" == -h || "$1" == --help ) ]] && usage 0
[[ $# -eq 2 ]] || usage 1
cmd=$1
dir=$2
[[ -n "$dir" && "$dir" != / ]] || die "refusing directory '$dir'"

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[[ -n "$bindir" && -x "$bindir/initdb" && -x "$bindir/pg_ctl" ]] ||
    die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)"

# As root, the server and its tools run as `postgres`; otherwise as ourselves.
if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user"
    pguser=postgres
    as_pg() { runuser -u postgres -- "$@"; }
else
    pguser=$(id -un)
    as_pg() { "$@"; }
fi

port_of() { sed -n 's/^port = \([0-9]*\)$/\1/p' "$dir/data/postgresql.auto.conf" 2>/dev/null | tail -n 1; }
# Running means answering: a killed postmaster may linger as a zombie that
# `pg_ctl status` still counts.
running() {
    [[ -f "$dir/data/postmaster.pid" ]] && as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 &&
        "$bindir/pg_isready" -q -h 127.0.0.1 -p "$(port_of)" -t 5
}
print_url() { echo "postgresql://$pguser@127.0.0.1:$(port_of)/antenne"; }

# Whether something listens on 127.0.0.1:$1.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
    if [[ -f "$dir/$marker" ]] && running; then
        say "already running in $dir"
        print_url
        return
    fi
    if [[ -e "$dir" ]]; then
        if [[ -f "$dir/$marker" ]]; then
            say "removing the stopped cluster left in $dir"
            rm -rf -- "$dir"
        elif [[ -d "$dir" && -z "$(ls -A -- "$dir")" ]]; then
            rmdir -- "$dir"
        else
            die "$dir exists and was not made by this script; choose another directory"
        fi
    fi
    mkdir -p -- "$dir"
    dir=$(cd -- "$dir" && pwd)
    : >"$dir/$marker"
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$dir"
        runuser -u postgres -- test -w "$dir" ||
            die "the postgres user cannot reach $dir (a parent folder is closed to it); use a folder under /tmp"
    fi
    # Unix sockets have a path limit of about 107 bytes.
    (( ${#dir} < 90 )) || die "$dir is too long a path for the server's unix socket"

    as_pg "$bindir/initdb" -D "$dir/data" -U "$pguser" --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }

    local tries port
    for tries in 1 2 3 4 5 6 7 8; do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        port_busy "$port" && continue
        as_pg tee "$dir/data/postgresql.auto.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 100
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
EOF
        if as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
            as_pg "$bindir/createdb" -h "$dir" -p "$port" -U "$pguser" antenne ||
                die "createdb failed (see $dir/server.log)"
            say "running in $dir on 127.0.0.1:$port"
            print_url
            return
        fi
        say "could not start on port $port, trying another"
        tail -n 3 "$dir/server.log" >&2 || true
    done
    die "the server did not start (see $dir/server.log)"
}

stop() {
    [[ -e "$dir" ]] || return 0
    [[ -f "$dir/$marker" ]] || die "$dir was not made by this script; not touching it"
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        if ! as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 && running; then
            die "could not stop the server in $dir"
        fi
    fi
    rm -rf -- "$dir"
    say "stopped and removed $dir"
}

case $cmd in
start) start ;;
stop) stop ;;
url)
    [[ -f "$dir/$marker" ]] && running || die "no cluster runs in $dir"
    print_url
    ;;
*) usage 1 ;;
esac
