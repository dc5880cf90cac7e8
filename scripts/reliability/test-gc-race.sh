#!/usr/bin/env bash
# Reproductions of the backend release race (docs/RELIABILITY.md): starts
# each binary N times with each config in tests/reliability/gc-race-*.lua
# and counts starts that crash (the process dies, or does not answer
# `version` and `stats`). Checks the backend count memcached reports
# against what the config keeps. Ours must never crash; the stock C build's
# crashes are reported (a finding, not a failure).
#
#   scripts/reliability/test-gc-race.sh [N] [BIN...]   (default: 20 starts; our
#   memcached and memcached-debug; MCP_GC_RACE_STOCK=DIR adds a stock tree)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N="${1:-20}"; shift || true
TREE="${MCP_TREE:-$ROOT/build/memcached-${MEMCACHED_VERSION:-1.6.45}}"
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=("$TREE/memcached" "$TREE/memcached-debug")
stock=()
if [ -n "${MCP_GC_RACE_STOCK:-}" ]; then stock=("$MCP_GC_RACE_STOCK/memcached" "$MCP_GC_RACE_STOCK/memcached-debug"); fi
user=(); [ "$(id -u)" = 0 ] && user=(-u root)
# below the kernel's ephemeral range (32768 up by default): no client
# connection can hold the port a start listens on
port=$(( 20000 + RANDOM % 12000 ))
fail=0

one() { # bin config port -> prints "ok" or the reason (runs in a subshell)
  local bin=$1 cfg=$2 p=$3 out
  out=$(mktemp)
  "$bin" "${user[@]}" -l 127.0.0.1 -p "$p" -U 0 -t 4 -o "proxy_config=$cfg" >"$out" 2>&1 &
  local pid=$!
  local up=0
  for _ in $(seq 150); do
    if ! kill -0 $pid 2>/dev/null; then break; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then up=1; break; fi
    sleep 0.05
  done
  local res="ok"
  if [ $up = 1 ]; then
    sleep 0.3   # let the event threads take (and free) the backends
    local st
    st=$(exec 3<>"/dev/tcp/127.0.0.1/$p"; printf 'stats\r\nquit\r\n' >&3; timeout 5 cat <&3)
    case "$st" in *"STAT proxy_backend_total"*) res="ok $(grep -o 'proxy_backend_total [0-9]*' <<< "$st" | tr -d '\r')";; *) res="no stats";; esac
    kill -0 $pid 2>/dev/null || res="died"
  else
    res="died before listening"
  fi
  kill $pid 2>/dev/null; wait $pid 2>/dev/null
  local rc=$?
  if [ "$res" != "${res#ok}" ] && [ $rc -ge 128 ] && [ $rc -ne 143 ]; then res="crashed at exit (status $rc)"; fi
  case "$res" in ok*) ;; *) res="$res: $(grep -m1 -E 'double free|Assertion|corrupt|invalid pointer|Segmentation|ERROR|AddressSanitizer' "$out" || tail -1 "$out")";; esac
  rm -f "$out"
  echo "$res"
}

for cfg in "$ROOT"/tests/reliability/gc-race-*.lua; do
  for bin in "${bins[@]}" "${stock[@]}"; do
    crashes=0; totals=""
    for i in $(seq "$N"); do
      port=$((port + 1)); [ $port -gt 32000 ] && port=20000
      r=$(one "$bin" "$cfg" $port)
      case "$r" in
        ok*) totals="$totals ${r#ok proxy_backend_total }" ;;
        *) crashes=$((crashes+1)); [ $crashes -le 2 ] && echo "  $(basename "$cfg") $bin start $i: $r" ;;
      esac
    done
    t=$(tr ' ' '\n' <<< "$totals" | sort -u | grep -v '^$' | tr '\n' ' ')
    is_stock=0; for s in "${stock[@]}"; do [ "$s" = "$bin" ] && is_stock=1; done
    label="ours"; [ $is_stock = 1 ] && label="stock C"
    echo "gc-race: $(basename "$cfg"): $label $bin: $crashes crashes in $N starts; backend_total after load: ${t:-n/a}"
    if [ $is_stock = 0 ] && [ $crashes -gt 0 ]; then fail=1; fi
  done
done
exit $fail
