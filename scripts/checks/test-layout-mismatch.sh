#!/usr/bin/env bash
# Proves that a wrong layout assumption fails the build, naming the struct
# and member. build.rs honours MCP_LAYOUT_WRONG_TYPE=<struct>.<member>=<type>,
# which replaces the Rust type the code assumes for one member; the
# generated compile-time checks must then reject the build. A control build
# without the injection must succeed (so this test can fail).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
which="${1:-memcached-debug}"
eval "$("$ROOT/scripts/build/tree-env.sh" "$which")"
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
  "struct timeval.tv_sec=i16|layout mismatch: struct timeval.tv_sec: C member is"
  "struct timespec.tv_nsec=[u8; 3]|layout mismatch: struct timespec.tv_nsec"
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

# The trap of 32-bit ARM with a 64-bit time_t (Debian's armhf/armel): the
# libc crate's `time_t` need not be the one memcached's flags give C. Put it
# back in place of the probed type of `struct timeval.tv_sec`: the build must
# fail, naming the member, exactly where the two sizes differ, and build
# where they agree.
probe=$(ls -t "$TD"/debug/build/proxy-lua-rs-*/out/mcp_layout_probe.txt | head -1)
c_size=$(awk -F'\t' '$1=="field" && $2=="struct timeval" && $3=="tv_sec" {print $5}' "$probe")
sz="$TD/libc-size"; mkdir -p "$sz/src"
printf '[package]\nname = "libc-size"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nlibc = "0.2"\n[workspace]\n' > "$sz/Cargo.toml"
printf 'fn main() { print!("{}", core::mem::size_of::<libc::time_t>()); }\n' > "$sz/src/main.rs"
rs_size=$(cd "$sz" && cargo run --offline --quiet --target-dir "$TD/libc-size-target" 2>/dev/null) || rs_size=""
if [ -z "$c_size" ] || [ -z "$rs_size" ]; then
  echo "layout-mismatch: FAIL: could not measure time_t (C: '${c_size}', libc crate: '${rs_size}')" >&2; fail=1
else
  set +e
  out=$(MCP_LAYOUT_WRONG_TYPE="struct timeval.tv_sec=libc::time_t" cargo check --locked --target-dir "$TD" 2>&1)
  rc=$?
  set -e
  want="layout mismatch: struct timeval.tv_sec: C member is $c_size bytes but the Rust type \`libc::time_t\` is not"
  if [ "$c_size" != "$rs_size" ]; then
    if [ $rc -ne 0 ] && grep -q -F "$want" <<< "$out"; then
      echo "layout-mismatch: the libc crate's time_t ($rs_size bytes) in place of C's ($c_size bytes) fails the build: $want"
    else
      echo "layout-mismatch: FAIL: the libc crate's time_t ($rs_size bytes, C $c_size) did not fail with '$want' (status $rc)" >&2
      printf '%s\n' "$out" | tail -20 >&2; fail=1
    fi
  elif [ $rc -eq 0 ]; then
    echo "layout-mismatch: the libc crate's time_t is C's size here ($c_size bytes): it builds"
  else
    echo "layout-mismatch: FAIL: the libc crate's time_t is C's size ($c_size bytes) but the build failed" >&2
    printf '%s\n' "$out" | tail -20 >&2; fail=1
  fi
fi
exit $fail
