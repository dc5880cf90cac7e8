#!/usr/bin/env bash
# Print `export` lines that let the crate's build script (and the test
# support crate) measure the layouts of one of the two binaries of the built
# tree: `memcached` (production) or `memcached-debug` (MEMCACHED_DEBUG).
# Usage: eval "$(scripts/build/tree-env.sh memcached-debug)"
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TREE="${MCP_TREE:-$ROOT/build/memcached-${MEMCACHED_VERSION:-1.6.45}}"
which="${1:-memcached-debug}"
[ -f "$TREE/Makefile" ] || { echo "tree-env: $TREE is not configured; run 'make tree'" >&2; exit 1; }
env_out=$(make -s -C "$TREE" proxy-lua-rs-env)
get() { printf '%s\n' "$env_out" | sed -n "s/^$1=//p"; }
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
echo "export MCP_MEMCACHED_BUILD_DIR=$(q "$(get MCP_MEMCACHED_BUILD_DIR)")"
echo "export MCP_MEMCACHED_SRC_DIR=$(q "$(get MCP_MEMCACHED_SRC_DIR)")"
echo "export MCP_PROBE_CC=$(q "$(get MCP_PROBE_CC)")"
case "$which" in
  memcached) echo "export MCP_PROBE_CFLAGS=$(q "$(get MCP_PROBE_CFLAGS_MEMCACHED)")" ;;
  memcached-debug) echo "export MCP_PROBE_CFLAGS=$(q "$(get MCP_PROBE_CFLAGS_MEMCACHED_DEBUG)")" ;;
  *) echo "tree-env: unknown binary '$which' (memcached or memcached-debug)" >&2; exit 1 ;;
esac
echo "export MCP_LIBS=$(q "$(get MCP_LIBS)")"
