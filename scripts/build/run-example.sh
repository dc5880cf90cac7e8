#!/usr/bin/env bash
# `make run`: start two backend memcached instances on loopback and
# memcached-with-proxy-lua-rs as a proxy in front of them
# (examples/proxy-example.lua), do a set/get round trip through the proxy and
# print it, then serve until interrupted (ONESHOT=1: exit after the round
# trip). Ports: PROXY_PORT (11211), BACKEND_PORTS ("11312 11313").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TREE="${MCP_TREE:-$ROOT/build/memcached-${MEMCACHED_VERSION:-1.6.45}}"
BIN="${MCP_RUN_BINARY:-$TREE/memcached}"
PROXY_PORT="${PROXY_PORT:-11211}"
read -r B1 B2 <<< "${BACKEND_PORTS:-11312 11313}"
CONFIG="${PROXY_CONFIG:-$ROOT/examples/proxy-example.lua}"
user=(); [ "$(id -u)" = 0 ] && user=(-u root)

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'echo; echo "run: interrupted, stopping"; exit 0' INT TERM

# Ports are probed with bash's /dev/tcp (no client needed).
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# wait_port PORT PID: until PORT accepts, as long as PID (the process meant
# to listen there) lives.
wait_port() {
  for _ in $(seq 100); do
    listening "$1" && return 0
    kill -0 "$2" 2>/dev/null || { echo "run: the process meant to listen on port $1 exited" >&2; return 1; }
    sleep 0.1
  done
  echo "run: nothing listens on port $1" >&2; return 1
}
for p in "$B1" "$B2" "$PROXY_PORT"; do
  if listening "$p"; then echo "run: port $p is already in use (set PROXY_PORT / BACKEND_PORTS)" >&2; exit 1; fi
done

# The backends listen before the proxy starts: the proxy connects to them
# as it loads its config, and a refused first connect would mark a backend
# bad for its retry timeout.
for p in "$B1" "$B2"; do
  "$BIN" "${user[@]}" -l 127.0.0.1 -p "$p" -U 0 -m 64 & pids+=($!)
  wait_port "$p" "$!" || exit 1
done
"$BIN" "${user[@]}" -l 127.0.0.1 -p "$PROXY_PORT" -U 0 -t 2 \
  -o "proxy_config=$CONFIG,proxy_arg=b1_$B1:b2_$B2" & pids+=($!)
wait_port "$PROXY_PORT" "$!" || exit 1

# Round trip through the proxy.
value="hello-from-proxy-lua-rs-$$"
exec 3<>"/dev/tcp/127.0.0.1/$PROXY_PORT"
printf 'set example_key 0 0 %d\r\n%s\r\n' "${#value}" "$value" >&3
IFS= read -r -t 5 set_reply <&3 || true
printf 'get example_key\r\n' >&3
IFS= read -r -t 5 l1 <&3 || true
IFS= read -r -t 5 l2 <&3 || true
IFS= read -r -t 5 l3 <&3 || true
exec 3>&-
echo "proxy on 127.0.0.1:$PROXY_PORT (config $(basename "$CONFIG"), backends :$B1 :$B2)"
echo "  set example_key -> ${set_reply%$'\r'}"
echo "  get example_key -> ${l1%$'\r'} / ${l2%$'\r'} / ${l3%$'\r'}"
if [ "${set_reply%$'\r'}" != "STORED" ] || [ "${l2%$'\r'}" != "$value" ]; then
  echo "run: round trip through the proxy FAILED" >&2
  exit 1
fi
echo "round trip ok"
echo "check a config before deploying it: tools/proxy-lua-check/proxy-lua-check --arg b1_$B1:b2_$B2 $CONFIG"
if [ -n "${ONESHOT:-}" ] && [ "${ONESHOT:-0}" != 0 ]; then exit 0; fi
echo "serving on 127.0.0.1:$PROXY_PORT until interrupted (Ctrl-C)"
wait "${pids[2]}"
