#!/usr/bin/env bash
# Benchmark (not a test): instructions that proxy_lua.c's replacement owns
# per proxied request, counted with valgrind --tool=callgrind (repeatable,
# unlike timings on shared 2-core machines):
#   - routing: mcplib_pool_proxy_call_helper (filter, hash, select) and
#     everything it calls;
#   - logging: mcplib_rqu_log for a backend with log = { rate = 1 }.
# Usage: scripts/bench/bench.sh [tree ...]   (default: build/memcached-1.6.45;
# pass a stock upstream tree as well to compare). N requests: BENCH_N.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N="${BENCH_N:-2000}"
[ $# -gt 0 ] || set -- "$ROOT/build/memcached-${MEMCACHED_VERSION:-1.6.45}"
command -v valgrind >/dev/null || { echo "bench: valgrind is required" >&2; exit 1; }
OUT="$ROOT/target/bench"; mkdir -p "$OUT"
user=(); [ "$(id -u)" = 0 ] && user=(-u root)
BPORT="${BENCH_BACKEND_PORT:-11511}"; PPORT="${BENCH_PROXY_PORT:-11512}"
# memcached sets its file limit to exactly -c; valgrind refuses changes of
# the hard limit, so ask for the limit valgrind leaves to its client.
MAXC=$(valgrind --tool=none bash -c 'ulimit -Hn' 2>/dev/null)

run_one() { # tree function keyprefix
  local tree=$1 fn=$2 pfx=$3
  local cg="$OUT/callgrind.$fn.$$"
  "$tree/memcached" "${user[@]}" -l 127.0.0.1 -p "$BPORT" -U 0 & local bpid=$!
  valgrind --tool=callgrind --toggle-collect="$fn" --callgrind-out-file="$cg" \
    "$tree/memcached" "${user[@]}" -l 127.0.0.1 -p "$PPORT" -U 0 -t 1 -c "$MAXC" \
    -o "proxy_config=$ROOT/bench/bench.lua,proxy_arg=b_$BPORT:x" 2>/dev/null & local ppid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PPORT") 2>/dev/null && break; sleep 0.2; done
  perl -MIO::Socket::INET -e '
    my ($port, $n, $pfx) = @ARGV;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or die;
    for my $i (1 .. $n) { print $s "mg $pfx/key$i v\r\n"; my $l = <$s>; }' "$PPORT" "$N" "$pfx"
  kill "$ppid"; wait "$ppid" 2>/dev/null || true
  kill "$bpid"; wait "$bpid" 2>/dev/null || true
  local ir
  ir=$(grep -m1 '^summary:' "$cg" | awk '{print $2}')
  echo "$ir"
  rm -f "$cg"
}

printf '%-45s %12s %12s\n' "tree" "route Ir/req" "log Ir/req"
for tree in "$@"; do
  r=$(run_one "$tree" mcplib_pool_proxy_call_helper r)
  l=$(run_one "$tree" mcplib_rqu_log l)
  printf '%-45s %12s %12s\n' "$(basename "$(dirname "$tree")")/$(basename "$tree")" \
    "$(awk -v a="$r" -v n="$N" 'BEGIN{printf "%.1f", a/n}')" "$(awk -v a="$l" -v n="$N" 'BEGIN{printf "%.1f", a/n}')"
done
