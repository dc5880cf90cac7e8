#!/usr/bin/env bash
# `make test-asan`: build memcached's C code with -fsanitize=address,undefined
# (in build/asan/, our library linked in; stable Rust itself is not
# instrumented), run the whole upstream proxy suite against its
# memcached-debug, and fail on any sanitizer report attributable to
# proxy-lua-rs (a stack frame in the library) or on any conformance failure.
# Reports in memcached's own code are listed but do not fail the run.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD="$ROOT/build/asan"
TREE="$BUILD/memcached-${MEMCACHED_VERSION:-1.6.45}"
REPORTS="$ROOT/target/asan/reports"
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"

MCP_BUILD_DIR="$BUILD" MCP_CFLAGS="-g -O1 $SAN" MCP_LDFLAGS="$SAN" "$ROOT/scripts/build/build-tree.sh" || exit 1
[ "${1:-}" = "--build-only" ] && exit 0

rm -rf "$REPORTS"; mkdir -p "$REPORTS"
export ASAN_OPTIONS="log_path=$REPORTS/asan:detect_leaks=0:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$REPORTS/ubsan:print_stacktrace=1"
MCP_TREE="$TREE" MCP_CONFORMANCE_LOGS="$ROOT/target/asan/conformance" \
  MCP_CONFORMANCE_TIMEOUT="${MCP_CONFORMANCE_TIMEOUT:-400}" \
  "$ROOT/scripts/tests/conformance.sh" memcached-debug
rc=$?

ours=0; theirs=0
for r in "$REPORTS"/*; do
  [ -f "$r" ] || continue
  # a frame of ours: a Rust symbol of the crate, our exports, our sources
  if grep -q -E 'proxy_lua_rs|mcplib_pool_proxy_call_helper|mcplib_rqu_log|proxy_register_libs|/src/mcplib/|/src/lua\.rs' "$r"; then
    ours=$((ours+1)); echo "test-asan: report involving proxy-lua-rs: $r"; sed -n '1,40p' "$r"
  else
    theirs=$((theirs+1))
  fi
done
echo "test-asan: $ours sanitizer reports involving proxy-lua-rs, $theirs elsewhere (kept in $REPORTS)"
[ $ours -eq 0 ] && [ $rc -eq 0 ]
