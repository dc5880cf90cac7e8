#!/usr/bin/env bash
# Proves that a wrong layout assumption fails the build, naming the struct
# and member. build.rs honours MCP_LAYOUT_WRONG_TYPE=<struct>.<member>=<type>,
# which replaces the Rust type the code assumes for one member; the
# generated compile-time checks must then reject the build. A control build
# without the injection must succeed (so this test can fail).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
which="${1:-memcached-debug}"
eval "$("$ROOT/scripts/tree-env.sh" "$which")"
TD="$ROOT/target/layout-mismatch"
cd "$ROOT"
fail=0

cargo check --locked --quiet --target-dir "$TD" || { echo "layout-mismatch: the control build failed" >&2; exit 1; }
echo "layout-mismatch: control build ($which flags) ok"

# <injection>|<message the build must print>
cases=(
  "mcp_pool_t.pool_size=i64|layout mismatch: mcp_pool_t.pool_size"
  "struct proxy_logging.deadline=i32|layout mismatch: struct proxy_logging.deadline: C member is unsigned"
  "mcp_backend_t.name=[c_char; 255]|layout mismatch: mcp_backend_t.name"
  "LIBEVENT_THREAD.proxy_rng=[u32; 2]|layout mismatch: LIBEVENT_THREAD.proxy_rng"
  "struct proxy_tunables.use_tls=u32|layout mismatch: struct proxy_tunables.use_tls"
)
for c in "${cases[@]}"; do
  inj=${c%%|*}; want=${c#*|}
  set +e
  out=$(MCP_LAYOUT_WRONG_TYPE="$inj" cargo check --locked --target-dir "$TD" 2>&1)
  rc=$?
  set -e
  if [ $rc -ne 0 ] && grep -q -F "$want" <<< "$out"; then
    echo "layout-mismatch: '$inj' fails the build: $(grep -m1 -o -F "$want" <<< "$out")..."
  else
    echo "layout-mismatch: FAIL: '$inj' (status $rc) did not fail with '$want'" >&2
    printf '%s\n' "$out" | tail -20 >&2
    fail=1
  fi
done
exit $fail
