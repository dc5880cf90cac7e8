#!/usr/bin/env bash
# `make test-system-lua`: the Debian linkage. Build build/system-lua/ with
# Debian's 0006-Don-t-use-embedded-Lua.patch (system liblua5.4, no -rdynamic)
# plus patches/debian-system-lua/, check both binaries link proxy-lua-rs and
# only the system Lua, and run upstream's proxy suite on both binaries.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TREE="$ROOT/build/system-lua/memcached-${MEMCACHED_VERSION:-1.6.45}"
MCP_LUA=system "$ROOT/scripts/build/build-tree.sh" || exit 1
rc=0
MCP_LUA=system MCP_TREE="$TREE" "$ROOT/scripts/checks/check-link.sh" || rc=1
for b in memcached-debug memcached; do
  MCP_TREE="$TREE" MCP_CONFORMANCE_LOGS="$ROOT/target/conformance-system-lua/$b" \
    "$ROOT/scripts/tests/conformance.sh" "$b" || rc=1
done
exit $rc
