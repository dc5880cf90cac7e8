#!/usr/bin/env bash
# The drift guard (build.rs, build-support/drift.rs): a tree whose
# proxy_lua.c has a function the library has not been checked against must
# fail the build, naming the function; a real release's must build.
#   1. control: the built tree's own proxy_lua.c builds, and the library's
#      identification names its release;
#   2. the other Debian release's proxy_lua.c (1.6.38 / 1.6.45) builds too;
#   3. edited on purpose: a changed function body, an added function, a
#      removed function: each fails, naming it; a comment and whitespace
#      edit builds (normalised away);
#   4. MCP_ALLOW_DRIFT=1 turns the refusal into a warning.
# Each case builds against a copy of the tree's source directory whose
# proxy_lua.c is replaced (the other files are symlinks).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
eval "$("$ROOT/scripts/build/tree-env.sh" memcached-debug)"
SRC="$MCP_MEMCACHED_SRC_DIR"
TD="$ROOT/target/drift"
CACHE="${MCP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-rs}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0

mirror() { # proxy_lua.c content on stdin -> a source dir
  local d="$tmp/src$1"; rm -rf "$d"; mkdir -p "$d"
  for f in "$SRC"/* "$SRC"/.[!.]*; do [ -e "$f" ] && ln -s "$f" "$d/"; done
  rm -f "$d/proxy_lua.c"; cat > "$d/proxy_lua.c"
  echo "$d"
}
build() { # src dir [env...] -> output; status
  local d=$1; shift
  env "$@" MCP_MEMCACHED_SRC_DIR="$d" cargo build --locked --target-dir "$TD" 2>&1
}
ident() { strings -a "$TD/debug/libproxy_lua_rs.a" | grep -m1 -o 'proxy-lua-rs [0-9.]*: memcached proxy_lua.c in Rust ([^)]*)'; }
expect_ok() { # name srcdir
  local out; out=$(build "$2"); local rc=$?
  if [ $rc = 0 ]; then echo "ok    $1: builds; $(ident)"; else
    echo "FAIL  $1: the build failed:"; grep -m3 'proxy_lua.c' <<< "$out"; fail=1; fi
}
expect_fail() { # name srcdir message
  local out; out=$(build "$2"); local rc=$?
  if [ $rc != 0 ] && grep -q -F "$3" <<< "$out"; then echo "ok    $1: refused: $3"; else
    echo "FAIL  $1: status $rc, wanted '$3'"; grep -m5 'proxy_lua\|error' <<< "$out"; fail=1; fi
}

d=$(mirror own < "$SRC/proxy_lua.c"); expect_ok "the tree's own proxy_lua.c" "$d"
for v in 1.6.38 1.6.45; do
  tb="$CACHE/memcached_$v.orig.tar.xz"
  [ -f "$tb" ] || { echo "skip  $v: no $tb"; continue; }
  d=$(tar -xOf "$tb" "memcached-$v/proxy_lua.c" | mirror "$v"); expect_ok "release $v's proxy_lua.c" "$d"
done
d=$(sed 's/hash filter requires .filter_conf. string/hash filter wants a filter_conf string/' "$SRC/proxy_lua.c" | mirror body)
expect_fail "an error string changed in mcplib_pool" "$d" "proxy_lua.c: mcplib_pool differs from every checked release; port it, then record it"
d=$( { cat "$SRC/proxy_lua.c"; printf '\nint mcplib_brand_new(lua_State *L) {\n    return 0;\n}\n'; } | mirror added)
expect_fail "a function added" "$d" "proxy_lua.c: mcplib_brand_new is new (in no checked release)"
d=$(python3 - "$SRC/proxy_lua.c" <<'PY' | mirror removed
import re, sys
s = open(sys.argv[1]).read()
m = re.search(r"\nstatic int mcplib_time_mono_millis\(lua_State \*L\) \{.*?\n\}\n", s, re.S)
if not m:
    sys.exit("test-drift: mcplib_time_mono_millis not found")
print(s[:m.start()] + "\n" + s[m.end():], end="")
PY
)
expect_fail "a function removed" "$d" "proxy_lua.c: mcplib_time_mono_millis was removed"
d=$(sed 's|^\(static int mcplib_pool(lua_State \*L) {\)$|/* a comment */\n\1\n    |' "$SRC/proxy_lua.c" | mirror ws)
grep -q "a comment" "$d/proxy_lua.c" || { echo "FAIL  the whitespace edit did not apply"; fail=1; }
expect_ok "a comment and whitespace added" "$d"
d=$(sed 's/hash filter requires .filter_conf. string/hash filter wants a filter_conf string/' "$SRC/proxy_lua.c" | mirror allow)
out=$(build "$d" MCP_ALLOW_DRIFT=1); rc=$?
id=$(ident)
if [ $rc = 0 ] && grep -q "mcplib_pool differs from every checked release" <<< "$out" && grep -q "is unchecked)" <<< "$id"; then
  echo "ok    MCP_ALLOW_DRIFT=1: builds with the warning; $(ident)"
else echo "FAIL  MCP_ALLOW_DRIFT=1 (status $rc)"; fail=1; fi
exit $fail
