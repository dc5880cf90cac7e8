#!/usr/bin/env bash
# The no-destructor rule (docs/design.md): memcached's Lua raises errors with
# longjmp, which jumps over our frames without running destructors. The
# library is #![no_std] without alloc, and no value it handles may have drop
# glue, so every frame a longjmp can cross is a plain old frame. Checked two
# ways:
#  1. no `impl Drop` in src/ (outside the crate's own tests);
#  2. the compiled library itself: an unoptimised build (no inlining hides
#     anything) must contain no `core::ptr::drop_in_place::<T>` at all,
#     neither defined nor called: rustc emits one for every type with drop
#     glue that is ever dropped, whoever implements its Drop (ours, core's).
# A failure names the type. A control run (a scratch copy of the crate with a
# function that drops a core::array::IntoIter, which has drop glue but no
# Drop impl of ours) must fail, so this check can fail.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRCROOT="${NODROP_SRC:-$ROOT}"
cd "$SRCROOT"
fail=0
if grep -rn -E 'impl(<[^>]*>)?\s+(core::ops::)?Drop\s+for' src --include='*.rs' | grep -v '^src/tests/'; then
  echo "check-no-drop: FAIL: a type in the library implements Drop (above)" >&2
  fail=1
fi
eval "$("$ROOT/scripts/build/tree-env.sh" "${1:-memcached-debug}")"
TD="$ROOT/target/no-drop${NODROP_SRC:+-control}"
cargo clean --quiet -p proxy-lua-rs --target-dir "$TD" 2>/dev/null || true
cargo rustc --locked --quiet --lib --target-dir "$TD" -- --emit=llvm-ir -C debug-assertions=on
ll=$(ls "$TD"/debug/deps/proxy_lua_rs-*.ll)
n_fns=$(grep -c '^define' $ll || true)
found=$(grep -o 'drop_in_place<[^">]*>*' $ll | sort -u || true)
if [ -n "$found" ]; then
  echo "check-no-drop: FAIL: the library drops values with drop glue:" >&2
  printf '  %s\n' $found >&2
  fail=1
fi
[ $fail = 0 ] && echo "check-no-drop: no Drop impl in src/; no drop glue in the compiled library ($n_fns functions checked, unoptimised LLVM IR)"
if [ -z "${NODROP_SRC:-}" ] && [ $fail = 0 ]; then
  ctl="$ROOT/target/no-drop-control-src"
  rm -rf "$ctl"; mkdir -p "$ctl"
  cp -a Cargo.toml Cargo.lock build.rs build-support src test-support "$ctl/"
  printf '\n/// control: drops a value with drop glue.\n#[unsafe(no_mangle)]\npub extern "C" fn no_drop_control() -> u8 {\n    let mut it = [1u8].into_iter();\n    it.next().unwrap_or(0)\n}\n' >> "$ctl/src/vm.rs"
  if NODROP_SRC="$ctl" "$0" "${1:-memcached-debug}" >/dev/null 2>"$ctl.err"; then
    echo "check-no-drop: FAIL: the control (a dropped core::array::IntoIter) was not detected" >&2; fail=1
  else
    echo "check-no-drop: control detected: $(grep -o 'drop_in_place<[^ ]*' "$ctl.err" | head -1)"
  fi
fi
exit $fail
