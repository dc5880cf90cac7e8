#!/usr/bin/env bash
# Exactness tests of proxy-lua-check (docs/config-check.md):
#  1. it accepts every proxy config upstream's t/proxy*.t load (t/*.lua of
#     the tree, with the proxy_arg a test passes where it needs one) and
#     every config in examples/;
#  2. for every config in tests/check-configs/ (one per error site of
#     proxy_lua.c a config can reach, plus Lua syntax and runtime errors) it
#     fails with status 1 and its message equals the first error line the
#     real memcached prints when started with that config (and, where it
#     matches ours, the stock C build's);
#  3. --json parses, --all reports more than one error;
#  4. the warnings about known upstream bugs appear where they apply.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TREE="$(cd "${MCP_TREE:-$ROOT/build/memcached-${MEMCACHED_VERSION:-1.6.45}}" && pwd)"
STOCK="${MCP_STOCK_TREE:-$ROOT/build/stock/memcached-${MEMCACHED_VERSION:-1.6.45}}"
CHECK="$ROOT/tools/proxy-lua-check/proxy-lua-check"
cc -shared -fPIC -O2 -o "$ROOT/tools/proxy-lua-check/noconnect.so" "$ROOT/tools/proxy-lua-check/noconnect.c" || exit 1
user=(); [ "$(id -u)" = 0 ] && user=(-u root)
fail=0; n_ok=0; n_bad=0

memcached_error() { # bin config -> the first error line memcached prints
  local out
  out=$(LD_PRELOAD="$ROOT/tools/proxy-lua-check/noconnect.so" timeout 20 "$1" "${user[@]}" -p 0 -U 0 -t 1 \
        -o "proxy_config=$2" 2>&1 >/dev/null)
  grep -a -m1 -E '^(ERROR|Failed)' <<< "$out" || echo "(no error: $(head -c 200 <<< "$out"))"
}

# 1. accepted
# (as their .t files run them: some read a file the test writes first;
# proxyroutelib.lua is routelib's argument, not a config of its own)
printf 'return "start"' > /tmp/proxytagmode.lua
printf 'return "a 1 0"' > /tmp/proxyustats.lua
printf 'return "none"' > /tmp/proxyconfigmode.lua
for f in "$TREE"/t/*.lua "$ROOT"/examples/*.lua; do
  case "$(basename "$f")" in
    proxyconfigmulti2.lua) continue ;; # with multi1, below
    proxyconfigmulti1.lua)
      # proxyconfigmulti.t loads the two files as one config
      out=$("$CHECK" --memcached "$TREE/memcached" "$f" "${f%1.lua}2.lua" 2>&1); rc=$?
      if [ $rc = 0 ]; then n_ok=$((n_ok+2)); echo "ok    proxyconfigmulti1.lua + proxyconfigmulti2.lua ($(grep -m1 '^pools:' <<< "$out"), $(grep -m1 '^routes:' <<< "$out"))"
      else echo "FAIL  proxyconfigmulti1.lua + proxyconfigmulti2.lua rejected ($rc): $(tail -2 <<< "$out")"; fail=1; fi
      continue ;;
  esac
  if [ "$(basename "$f")" = proxyroutelib.lua ]; then
    out=$("$CHECK" --memcached "$TREE/memcached" --arg "$f" routelib 2>&1); rc=$?
    if [ $rc = 0 ]; then n_ok=$((n_ok+1)); echo "ok    routelib with proxyroutelib.lua ($(grep -m1 '^pools:' <<< "$out"), $(grep -m1 '^routes:' <<< "$out"))"
    else echo "FAIL  routelib with proxyroutelib.lua rejected ($rc): $(tail -3 <<< "$out")"; fail=1; fi
    continue
  fi
  arg=""
  case "$(basename "$f")" in
    proxy-example.lua) arg="b1_11312:b2_11313" ;;
  esac
  # upstream's configs read mcp.start_arg only where its .t passes one
  if grep -q 'proxy_arg=' "$TREE"/t/*.t 2>/dev/null && grep -l "$(basename "$f")" "$TREE"/t/*.t >/dev/null 2>&1; then
    a=$(grep -h -o "$(basename "$f" .lua)[^ \"']*,proxy_arg=[^ \"']*" "$TREE"/t/*.t | head -1 | sed 's/.*proxy_arg=//')
    [ -n "$a" ] && arg=$a
  fi
  out=$("$CHECK" --memcached "$TREE/memcached" ${arg:+--arg "$arg"} "$f" 2>&1); rc=$?
  if [ $rc = 0 ]; then
    n_ok=$((n_ok+1)); echo "ok    $(basename "$f") ($(grep -m1 '^pools:' <<< "$out"), $(grep -m1 '^routes:' <<< "$out"))"
  else
    # only right if memcached refuses it too, with the same message
    mc=$(memcached_error "$TREE/memcached" "$f${arg:+,proxy_arg=$arg}")
    echo "FAIL  $(basename "$f") rejected ($rc): $(tail -1 <<< "$out") (memcached: $mc)"; fail=1
  fi
done

# 2. refused, with memcached's message
for f in "$ROOT"/tests/check-configs/*.lua; do
  want=$(memcached_error "$TREE/memcached" "$f")
  got=$("$CHECK" --memcached "$TREE/memcached" "$f" 2>&1 >/dev/null); rc=$?
  stock=""
  [ -x "$STOCK/memcached" ] && stock=$(memcached_error "$STOCK/memcached" "$f")
  if [ $rc = 1 ] && [ "$got" = "$want" ]; then
    n_bad=$((n_bad+1))
    note=""; [ -n "$stock" ] && [ "$stock" != "$want" ] && note=" (stock C prints: $stock)"
    echo "same  $(basename "$f"): $got$note"
  else
    echo "FAIL  $(basename "$f"): memcached: '$want'; checker ($rc): '$got'"; fail=1
  fi
done

# 3. --json and --all
j=$("$CHECK" --memcached "$TREE/memcached" --json --arg b1_1:b2_2 "$ROOT/examples/proxy-example.lua")
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["ok"] and d["config"]["pools"] and d["routes"]' "$j" \
  && echo "ok    --json parses (pools and routes present)" || { echo "FAIL  --json"; fail=1; }
multi=$(mktemp --suffix=.lua); cat "$ROOT/tests/check-configs/tunable-failure-limit.lua" > "$multi"
sed -i 's|^    mcp.backend_failure_limit(-1)|    mcp.backend_failure_limit(-1)\n    mcp.backend_depth_limit(-1)\n    mcp.register_cron("c", {})|' "$multi"
nerr=$("$CHECK" --memcached "$TREE/memcached" --all "$multi" 2>&1 >/dev/null | grep -c '^ERROR')
rm -f "$multi"
[ "$nerr" = 3 ] && echo "ok    --all reports the 3 errors of one config" || { echo "FAIL  --all reported $nerr errors (want 3)"; fail=1; }

# 4. warnings: a ring hash pool in its default omode, on a memcached whose
# proxy_ring_hash.c predates upstream's fix (1.6.45) (the omode ketama and
# jump hash pools of the same config: none)
w="$ROOT/tests/check-warnings/ring-default.lua"
ver=$("$TREE/memcached" -V | sed -n 's/^memcached //p')
out=$("$CHECK" --memcached "$TREE/memcached" "$w" 2>&1); rc=$?
got=$(sed -n '/^warnings: /,$p' <<< "$out" | sed -n 's/^  pool \([a-z_]*\):.*/\1/p' | tr '\n' ' ')
jw=$("$CHECK" --memcached "$TREE/memcached" --json "$w" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["warnings"]))')
if [ "$(printf '%s\n' "$ver" 1.6.45 | sort -V | head -1)" != 1.6.45 ]; then
  want="ring ring_default "; wantn=2
else
  want=""; wantn=0
fi
if [ $rc = 0 ] && [ "$got" = "$want" ] && [ "$jw" = "$wantn" ]; then
  echo "ok    warnings on memcached $ver: ${want:-none} (--json: $jw)"
else
  echo "FAIL  warnings on memcached $ver: got '$got' (rc $rc, --json $jw), want '$want'"; fail=1
fi

# 5. --reload PID against a running proxy: a good reload goes through; a
# broken config on disk is refused with memcached's message and the process
# is untouched (same pid, the old config serves, no reload counted); a pid
# that is not memcached, and a memcached that is no proxy, get nothing.
rdir=$(mktemp -d); rport=$((20000 + $$ % 5000))
user=(); [ "$(id -u)" = 0 ] && user=(-u root)
cat > "$rdir/proxy.lua" <<'LUA'
function mcp_config_pools() return {} end
function mcp_config_routes(p) mcp.attach(mcp.CMD_MG, function(r) return "HD cfg=A\r\n" end) end
LUA
( cd "$rdir" && exec "$TREE/memcached" "${user[@]}" -l 127.0.0.1 -p $rport -U 0 -t 2 -o proxy_config=proxy.lua ) 2>"$rdir/err" &
rpid=$!
sleep 0.2
ask() { local l; exec 5<>"/dev/tcp/127.0.0.1/$rport" || return 1; printf '%s\r\n' "$1" >&5; IFS= read -t 5 -r l <&5; exec 5>&-; echo "${l%$'\r'}"; }
for _ in $(seq 100); do [ "$(ask 'mg x' 2>/dev/null)" = "HD cfg=A" ] && break; sleep 0.1; done
reloads() { local l v=""; exec 5<>"/dev/tcp/127.0.0.1/$rport"; printf 'stats\r\n' >&5
  while IFS= read -t 5 -r l <&5; do l=${l%$'\r'}; [ "$l" = END ] && break; case "$l" in "STAT proxy_config_reloads "*) v=${l##* } ;; esac; done; exec 5>&-; echo "$v"; }
sed -i 's/cfg=A/cfg=B/' "$rdir/proxy.lua"
out=$("$CHECK" --reload $rpid 2>&1); rc=$?
if [ $rc = 0 ] && [ "$(ask 'mg x')" = "HD cfg=B" ] && grep -q "reloaded (proxy_config_reloads 1 -> 2" <<< "$out"; then
  echo "ok    --reload: a good config is reloaded ($(tail -1 <<< "$out"))"
else echo "FAIL  --reload of a good config: status $rc: $out"; fail=1; fi
n0=$(reloads)
printf 'function mcp_config_pools( return {} end\n' > "$rdir/proxy.lua"
out=$("$CHECK" --reload $rpid 2>&1); rc=$?
if [ $rc = 1 ] && grep -q "^ERROR: Failed to load proxy_startfile: " <<< "$out" && grep -q "NOT reloaded (nothing sent)" <<< "$out" \
   && kill -0 $rpid && [ "$(ask 'mg x')" = "HD cfg=B" ] && [ "$(reloads)" = "$n0" ]; then
  echo "ok    --reload: a broken config is refused, memcached untouched: $(head -1 <<< "$out")"
else echo "FAIL  --reload of a broken config: status $rc: $out"; fail=1; fi
sleep 60 & spid=$!
out=$("$CHECK" --reload $spid 2>&1); rc=$?
kill $spid 2>/dev/null
if [ $rc = 1 ] && grep -q "is not memcached: nothing sent" <<< "$out"; then echo "ok    --reload: $out"
else echo "FAIL  --reload of a pid that is not memcached: status $rc: $out"; fail=1; fi
"$TREE/memcached" "${user[@]}" -l 127.0.0.1 -p $((rport + 1)) -U 0 & npid=$!
sleep 0.3
out=$("$CHECK" --reload $npid 2>&1); rc=$?
if [ $rc = 1 ] && grep -q "runs no proxy" <<< "$out" && kill -0 $npid; then echo "ok    --reload: $out"
else echo "FAIL  --reload of a memcached without a proxy: status $rc: $out"; fail=1; fi
kill $rpid $npid 2>/dev/null; wait $rpid $npid 2>/dev/null
rm -rf "$rdir"

echo "test-check: $n_ok configs accepted, $n_bad broken configs refused with memcached's own message"
exit $fail
