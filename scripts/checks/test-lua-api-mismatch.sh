#!/usr/bin/env bash
# Proves that a Lua C API declaration of ours (src/ffi/lua.rs) that disagrees
# with the lua.h memcached compiles with fails the build, naming it. Each case
# edits one declaration in a scratch copy of the crate; a control build of the
# unedited copy must succeed (so this test can fail).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
which="${1:-memcached-debug}"
eval "$("$ROOT/scripts/build/tree-env.sh" "$which")"
W="$ROOT/target/lua-api-mismatch"
TD="$W/target"
rm -rf "$W/crate"; mkdir -p "$W/crate"
( cd "$ROOT" && cp -a Cargo.toml Cargo.lock build.rs build-support src test-support "$W/crate/" )
cd "$W/crate"
cp src/ffi/lua.rs "$W/lua.rs.orig"
fail=0

cargo check --locked --quiet --target-dir "$TD" || { echo "lua-api-mismatch: the control build failed" >&2; exit 1; }
echo "lua-api-mismatch: control build ($which flags) ok"

# <sed expression on src/ffi/lua.rs>|<message the build must print>
cases=(
  's/fn lua_settop(L: \*mut lua_State, idx: c_int);/fn lua_settop(L: *mut lua_State, idx: lua_Integer);/|Lua API mismatch: lua_settop'
  's/fn lua_tolstring(\(.*\)) -> \*const c_char;/fn lua_tolstring(\1) -> *mut c_void;/|Lua API mismatch: lua_tolstring'
  's/fn lua_getfield(\(.*\)) -> c_int;/fn lua_getfield(\1);/|Lua API mismatch: lua_getfield'
  's/fmt: \*const c_char, ...) -> \*const c_char;/fmt: *const c_char) -> *const c_char;/|Lua API mismatch: lua_pushfstring'
  's/pub const LUA_TTABLE: c_int = 5;/pub const LUA_TTABLE: c_int = 6;/|Lua API mismatch: LUA_TTABLE'
  's/pub const LUA_REGISTRYINDEX: c_int = -1001000;/pub const LUA_REGISTRYINDEX: c_int = -1000000;/|Lua API mismatch: LUA_REGISTRYINDEX'
  's/pub type lua_Integer = i64;/pub type lua_Integer = i32;/|Lua API mismatch: type lua_Integer'
  's/pub type lua_Number = f64;/pub type lua_Number = i64;/|Lua API mismatch: type lua_Number'
)
for c in "${cases[@]}"; do
  expr=${c%%|*}; want=${c#*|}
  cp "$W/lua.rs.orig" src/ffi/lua.rs
  sed -i "$expr" src/ffi/lua.rs
  if cmp -s "$W/lua.rs.orig" src/ffi/lua.rs; then
    echo "lua-api-mismatch: FAIL: '$expr' changed nothing (test out of date)" >&2; fail=1; continue
  fi
  set +e
  out=$(cargo check --locked --target-dir "$TD" 2>&1)
  rc=$?
  set -e
  if [ $rc -ne 0 ] && grep -q -F "$want" <<< "$out"; then
    echo "lua-api-mismatch: '$expr' fails the build: $want"
  else
    echo "lua-api-mismatch: FAIL: '$expr' (status $rc) did not fail with '$want'" >&2
    printf '%s\n' "$out" | tail -20 >&2
    fail=1
  fi
done
cp "$W/lua.rs.orig" src/ffi/lua.rs
exit $fail
