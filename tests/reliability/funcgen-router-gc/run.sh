#!/bin/bash
# Start a memcached(-debug) binary N times on this directory's config.lua
# (the upstream funcgen/router double cleanup; docs/RELIABILITY.md) and count
# the starts that die with SIGSEGV.
#
#   run.sh BINARY [N] [CONFIG]
#
# BINARY  memcached or memcached-debug built with the proxy (stock C or ours)
# N       number of starts, default 5
# CONFIG  proxy config, default config.lua next to this script
#         (relative names are looked up next to this script first)
# TIMEOUT seconds a start may run before it counts as "no crash" and is
#         killed (environment, default 20; config.lua crashes during the
#         load, minimal.lua too; without its collectgarbage() calls it takes
#         about 8 s)
#
# Each start listens only on a unix socket in its own temporary directory
# (-s, -U 0: no TCP or UDP port), and is killed and cleaned up afterwards.
# Exit status: 0 if at least one start died with SIGSEGV, 1 if none did,
# 2 on a usage error.

set -u

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-}
n=${2:-5}
cfg=${3:-config.lua}
timeout_s=${TIMEOUT:-20}

if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "usage: $0 MEMCACHED_BINARY [N] [CONFIG]" >&2
    exit 2
fi
case $n in ''|*[!0-9]*) echo "N must be a number: $n" >&2; exit 2 ;; esac
if [ "${cfg#/}" = "$cfg" ] && [ -f "$here/$cfg" ]; then
    cfg=$here/$cfg
fi
if [ ! -f "$cfg" ]; then
    echo "no such config: $cfg" >&2
    exit 2
fi
cfg=$(cd "$(dirname "$cfg")" && pwd)/$(basename "$cfg")

userarg=()
if [ "$(id -u)" = 0 ]; then
    userarg=(-u root)
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/funcgen-router-gc.XXXXXX")
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    pid=
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }

# bash reports a background job's fatal signal ("Segmentation fault") on its
# own stderr; the count below says it, so keep that line out of the output.
exec 3>&2 2>/dev/null

crashed=0
other=0
for i in $(seq 1 "$n"); do
    sock=$tmp/mc.sock
    log=$tmp/run$i.log
    rm -f "$sock"
    t0=$(now_ms)
    "$bin" "${userarg[@]}" -U 0 -s "$sock" -t 2 -m 64 \
        -o "proxy_config=$cfg" >"$log" 2>&1 &
    pid=$!
    deadline=$((t0 + timeout_s * 1000))
    while kill -0 "$pid" 2>/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        pid=
        echo "start $i: still running after ${timeout_s}s (killed): no crash"
    else
        wait "$pid" 2>/dev/null
        rc=$?
        pid=
        t=$(( $(now_ms) - t0 ))
        secs=$(printf '%d.%03d' $((t / 1000)) $((t % 1000)))
        if [ "$rc" -eq 139 ]; then
            crashed=$((crashed + 1))
            echo "start $i: SIGSEGV after ${secs}s"
        elif [ "$rc" -gt 128 ]; then
            other=$((other + 1))
            echo "start $i: killed by signal $((rc - 128)) after ${secs}s"
        else
            other=$((other + 1))
            echo "start $i: exited with status $rc after ${secs}s; last lines:"
            tail -n 5 "$log" | sed 's/^/    /'
        fi
    fi
    rm -f "$sock"
done

echo "$(basename "$cfg") on $bin: $crashed of $n starts crashed with SIGSEGV"
[ "$crashed" -gt 0 ]
