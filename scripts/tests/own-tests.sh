#!/usr/bin/env bash
# Our own tests that drive the built binaries with Lua configs (tests/*.t,
# tests/configs/), run like upstream's t/ (cwd = the built tree, upstream's
# t/lib harness) against memcached-debug or memcached.
#   scripts/tests/own-tests.sh [memcached-debug|memcached]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
which="${1:-memcached-debug}"
MCP_TEST_DIR="$ROOT/tests" MCP_XFAIL_FILE=/dev/null \
  MCP_CONFORMANCE_LOGS="$ROOT/target/own-tests/$which" \
  exec "$ROOT/scripts/tests/conformance.sh" "$which"
