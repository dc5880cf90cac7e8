#!/usr/bin/env bash
# Checks, on both built binaries, that proxy-lua-rs is what they link:
# - our proxy_register_libs (and every mcplib_* export) is defined, and the
#   library's identification string is in the binary;
# - nothing compiled from proxy_lua.c is in the binary (its static helper
#   symbols, its object file name, its source file name in the debug info);
# - exactly one Lua: one lua_newstate, and it is memcached's 5.4.3;
# - the archive exports nothing unprefixed besides upstream's names, our
#   proxy_lua_rs_* helpers and Rust's own rust_eh_personality;
# - the archive was built with LTO and panic=abort.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TREE="${MCP_TREE:-$ROOT/build/memcached-${MEMCACHED_VERSION:-1.6.45}}"
# MCP_LUA=system: the binaries must use Debian's liblua5.4 (dynamic) and
# define no Lua themselves.
LUA_MODE="${MCP_LUA:-vendored}"
fail=0
err() { echo "check-link: FAIL: $*" >&2; fail=1; }

expected_exports=$( { echo proxy_register_libs; echo mcplib_pool_proxy_call_helper; echo mcplib_rqu_log;
  grep -o '^int mcplib_[a-z_]*(lua_State \*L);' "$ROOT/include/proxy_lua_rs.h" | sed 's/^int \(mcplib_[a-z_]*\)(.*/\1/'; } | sort)
n_expected=$(echo "$expected_exports" | wc -l)

for bin in memcached memcached-debug; do
  fail_before=$fail
  exe="$TREE/$bin"
  archive="$TREE/proxy-lua-rs-build/$bin/release/libproxy_lua_rs.a"
  [ -x "$exe" ] || { err "$exe missing"; continue; }
  syms=$(nm "$exe")
  for s in $expected_exports; do
    grep -q " T $s\$" <<< "$syms" || err "$bin: $s not defined"
  done
  # proxy_lua.c's own static functions would appear as local text symbols.
  for s in _mcplib_pool_dist _mcplib_backend_checkcache _mcplib_make_backendconn \
           mcp_key_hash_filter_stop mcp_key_hash_filter_tag _mcplib_append_stats proxy_register_startarg; do
    if grep -q " [tT] $s\(\.part\.[0-9]*\)\?\$" <<< "$syms"; then err "$bin: $s from proxy_lua.c is linked"; fi
  done
  strs=$(strings -a "$exe")
  grep -q '^proxy-lua-rs [0-9.]*: memcached proxy_lua.c in Rust (behaviour of proxy_lua.c [0-9.]*; built for a tree whose proxy_lua.c is [0-9./]*)$' <<< "$strs" \
    || err "$bin: the proxy-lua-rs identification string is missing"
  if strings -a "$exe" | grep -q -E '(^|/)proxy_lua\.c$|memcached(_debug)?-proxy_lua\.o'; then
    err "$bin: debug info names proxy_lua.c"
  fi
  [ ! -e "$TREE/memcached-proxy_lua.o" ] && [ ! -e "$TREE/memcached_debug-proxy_lua.o" ] || err "proxy_lua.c was compiled"
  n_lua=$(grep -c " T lua_newstate$" <<< "$syms" || true)
  versions=$(strings -a "$exe" | { grep -o -E 'Lua 5\.[0-9]+\.[0-9]+' || true; } | sort -u | tr '\n' ' ')
  if [ "$LUA_MODE" = system ]; then
    [ "$n_lua" = 0 ] || err "$bin: defines lua_newstate itself (want only the system liblua5.4)"
    [ -z "$versions" ] || err "$bin: carries Lua version strings '$versions'"
    n_so=$(ldd "$exe" | grep -c 'liblua5\.4\.so' || true)
    [ "$n_so" = 1 ] || err "$bin: not linked against liblua5.4.so"
    versions="system liblua5.4 $(dpkg-query -W -f='${Version}' liblua5.4-0 2>/dev/null || true) "
  else
    [ "$n_lua" = 1 ] || err "$bin: $n_lua definitions of lua_newstate (want exactly 1)"
    [ "$versions" = "Lua 5.4.3 " ] || err "$bin: Lua version strings '$versions' (want only memcached's Lua 5.4.3)"
  fi
  # our archive's unprefixed exports
  # (anon.*.llvm.*: LLVM's anonymous constants, promoted by LTO; seen on i386)
  extra=$(nm -g --defined-only "$archive" 2>/dev/null | awk 'NF==3 && $2 != "W" && $2 != "V" {print $3}' \
    | grep -v -E '^(_ZN|_R|__|DW\.ref\.|anon\.[0-9a-f]+\.[0-9]+\.llvm\.)' | sort -u \
    | grep -v -x -F -f <(echo "$expected_exports"; echo proxy_lua_rs_host_is_memcached_debug; \
                         echo proxy_lua_rs_host_symbol_size; echo proxy_lua_rs_clock_gettime; \
                         echo rust_eh_personality) || true)
  [ -z "$extra" ] || err "$bin archive exports unexpected symbols: $(echo $extra)"
  # LTO: the whole crate graph is one object (plus the C helper and
  # compiler-builtins); without LTO std's objects are separate members.
  if ar t "$archive" | grep -q -E '^std-[0-9a-f]+\.'; then err "$bin archive was not built with LTO"; fi
  if ar t "$archive" | grep -q -E '^panic_unwind-'; then err "$bin archive contains panic_unwind (panic=abort required)"; fi
  [ $fail = $fail_before ] && echo "check-link: $bin links proxy-lua-rs ($n_expected exports), no proxy_lua.c object, one Lua ($versions)"
done
# End to end: relink each binary with the *other* binary's archive (this
# links without any error) and check that it refuses to start.
swapdir="$ROOT/target/check-link"; mkdir -p "$swapdir"
for bin in memcached memcached-debug; do
  case $bin in memcached) other=memcached-debug; obj=memcached-memcached.o ;;
               memcached-debug) other=memcached; obj=memcached_debug-memcached.o ;; esac
  cmd=$(make -s -n -C "$TREE" -W "$obj" "$bin" 2>/dev/null | grep -E "^[^ ]*(gcc|cc|clang)[^ ]* .* -o $bin " | tail -1)
  [ -n "$cmd" ] || { err "$bin: cannot find its link command"; continue; }
  cmd=${cmd//"proxy-lua-rs-build/$bin/release/libproxy_lua_rs.a"/"proxy-lua-rs-build/$other/release/libproxy_lua_rs.a"}
  cmd=${cmd/" -o $bin "/" -o $swapdir/$bin-with-$other-archive "}
  ( cd "$TREE" && eval "$cmd" ) >/dev/null 2>&1 || { err "$bin: relinking with the $other archive failed"; continue; }
  user=(); [ "$(id -u)" = 0 ] && user=(-u root)
  set +e
  out=$(timeout 20 "$swapdir/$bin-with-$other-archive" "${user[@]}" -p 0 -U 0 -l 127.0.0.1 \
        -o "proxy_config=$ROOT/examples/proxy-example.lua" 2>&1)
  rc=$?
  set -e
  if [ $rc -eq 1 ] && grep -q 'Refusing to run' <<< "$out"; then
    echo "check-link: $bin relinked with the $other archive links, then refuses to start: $(head -c 90 <<< "$out")..."
  else
    err "$bin relinked with the $other archive did not refuse to start (status $rc): $out"
  fi
done
exit $fail
