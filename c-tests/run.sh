#!/usr/bin/env bash
# Build and run the C tests against one binary's layout:
#   c-tests/run.sh memcached-debug | memcached
# Each program links libproxy_lua_rs.a built for that binary (from the built
# tree), memcached's vendored liblua.a and test-support/c/standins.c.
# Test programs are compiled with memcached's flags plus -Wall -Werror.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
which="${1:-memcached-debug}"
case "$which" in
  memcached) other=memcached-debug ;;
  memcached-debug) other=memcached ;;
  *) echo "usage: $0 memcached|memcached-debug" >&2; exit 2 ;;
esac
eval "$("$ROOT/scripts/build/tree-env.sh" "$which")"
TREE="$MCP_MEMCACHED_BUILD_DIR"
SRC="$MCP_MEMCACHED_SRC_DIR"
ARCHIVE="$TREE/proxy-lua-rs-build/$which/release/libproxy_lua_rs.a"
OTHER_ARCHIVE="$TREE/proxy-lua-rs-build/$other/release/libproxy_lua_rs.a"
LIBLUA="$TREE/vendor/lua/src/liblua.a"
OUT="$ROOT/target/c-tests/$which"
mkdir -p "$OUT"
for f in "$ARCHIVE" "$OTHER_ARCHIVE" "$LIBLUA"; do
  [ -f "$f" ] || { echo "c-tests: missing $f (run 'make tree')" >&2; exit 1; }
done

# memcached's compile flags (FLAGS)
# shellcheck source=scripts/lib/cflags.sh
. "$ROOT/scripts/lib/cflags.sh"
CC="${MCP_PROBE_CC:-cc}"

# memcached sources the tests link (pure parts) and the stand-ins.
SUPPORT=()
for s in proxy_xxhash.c proxy_jump_hash.c proxy_ring_hash.c md5.c vendor/mcmc/mcmc.c; do
  o="$OUT/$(basename "$s" .c).o"
  $CC "${FLAGS[@]}" -w -c "$SRC/$s" -o "$o"
  SUPPORT+=("$o")
done
$CC "${FLAGS[@]}" -w -c "$ROOT/test-support/c/standins.c" -o "$OUT/standins.o"
SUPPORT+=("$OUT/standins.o")
LIBS=($MCP_LIBS -lpthread)

TFLAGS=("${FLAGS[@]}" -Wall -Wextra -Werror -Wno-unused-parameter -Wno-redundant-decls "-I$ROOT/include" "-I$ROOT/c-tests" "-I$OUT")

# 1. The header compiles with memcached's own prototypes.
grep -o '^int mcplib_[a-z_]*(lua_State \*L);' "$ROOT/include/proxy_lua_rs.h" \
  | sed 's/^int \(mcplib_[a-z_]*\)(.*/\1,/' > "$OUT/cfunctions.inc"
n=$(wc -l < "$OUT/cfunctions.inc")
$CC "${TFLAGS[@]}" -c "$ROOT/c-tests/test_header.c" -o "$OUT/test_header.o"
echo "test_header: ok ($n lua_CFunction exports match lua_CFunction; header compiles with proxy.h and proto_proxy.h)"

fail=0
# 2. Programs that must pass.
for t in "$ROOT"/c-tests/test_*.c; do
  name=$(basename "$t" .c)
  case "$name" in test_header|test_layout_guard) continue ;; esac
  $CC "${TFLAGS[@]}" "$t" "${SUPPORT[@]}" "$ARCHIVE" "$LIBLUA" "${LIBS[@]}" -o "$OUT/$name"
  if ! "$OUT/$name"; then fail=1; fi
done

# 3. The layout guard: link the other binary's archive; must refuse to run.
$CC "${TFLAGS[@]}" "$ROOT/c-tests/test_layout_guard.c" "${SUPPORT[@]}" "$OTHER_ARCHIVE" "$LIBLUA" "${LIBS[@]}" -o "$OUT/test_layout_guard"
set +e
msg=$("$OUT/test_layout_guard" 2>&1)
rc=$?
set -e
if [ $rc -eq 1 ] && printf '%s' "$msg" | grep -q 'Refusing to run'; then
  echo "test_layout_guard: ok ($other archive in a $which-layout program refused: $(printf '%s' "$msg" | head -c 100)...)"
else
  echo "test_layout_guard: FAIL (status $rc): $msg" >&2
  fail=1
fi
exit $fail
