#!/usr/bin/env bash
# In-process differential fuzzing of the key-routing helper
# (mcplib_pool_proxy_call_helper): ours (libproxy_lua_rs.a) against
# upstream's proxy_lua.c from the same built tree, in one program
# (fuzz/keys/harness.c explains what is compared).
#
#   scripts/reliability/fuzz-keys.sh [TREE] [options]
#
# TREE: a built memcached tree (default build/memcached-1.6.45); nothing in
# it is rebuilt, only read. Outputs go to target/fuzz-keys/<layout>/.
#
# Builds (each only when its inputs changed):
#   plain  gcc, memcached's compile flags (the binary's layout), the tree's
#          archive and liblua.a: the fast seeded mode.
#   asan   clang, -fsanitize=address,undefined -fno-sanitize-recover=all on
#          every C part (harness, upstream proxy_lua.c, memcached's hash and
#          dist files, md5, mcmc, the stand-ins, and Lua compiled from the
#          tree's sources), -fsanitize=fuzzer-no-link on all but Lua, linked
#          with libFuzzer (no_main): the seeded mode AND the coverage-guided
#          mode. Our archive in it is the tree's (not instrumented), or with
#          --sancov a separate cargo build of it with rustc's SanitizerCoverage
#          (inline 8-bit counters, pc table, compare tracing), so libFuzzer
#          also gets feedback from our Rust code.
#   cov    (--coverage) gcc like plain, with our archive built with
#          -C instrument-coverage; runs the seeded mode and the corpus and
#          prints llvm-cov's figures for our routing code.
#
# Options:
#   --layout memcached|memcached-debug   which binary's layout (default memcached)
#   --seed S          seed of the seeded mode (default 1)
#   --keys N          keys for the plain seeded run (default 10000000; 0: skip)
#   --asan-keys N     keys for the ASan+UBSan seeded run (default 1000000; 0: skip)
#   --fuzz SECONDS    run libFuzzer (ASan+UBSan build) for SECONDS (default 0: no)
#   --sancov          fuzz with the SanitizerCoverage-instrumented archive
#   --rust-asan       also build our archive with AddressSanitizer (nightly
#                     rustc, -Zsanitizer=address; `rustup toolchain install
#                     nightly`), so reads and writes in our Rust code are
#                     checked too (the ASan runtime is clang's); not with
#                     --sancov
#   --merge           after --fuzz, merge the inputs that reached new coverage
#                     (minimised) into tests/fuzz/keys-corpus/
#   --coverage        the coverage build and report (llvm-cov of rustc's LLVM)
#   --short           what `make test` runs: 1,000,000 plain keys, 500,000
#                     ASan+UBSan keys, the corpus on both (about 30 s)
#   --build-only      build, run nothing
#   --if-behaviour-tree  on a tree whose proxy_lua.c is not the release the
#                     library follows, say so and exit 0 (make test on 1.6.38)
# Every seeded run also replays tests/fuzz/keys-corpus/. Exit status 1 on any
# difference or sanitizer report.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TREE="$ROOT/build/memcached-${MEMCACHED_VERSION:-1.6.45}"
LAYOUT=memcached
SEED=1
KEYS=10000000
ASAN_KEYS=1000000
FUZZ=0
SANCOV=0
RUST_ASAN=0
MERGE=0
COVERAGE=0
BUILD_ONLY=0
ONLY_BEHAVIOUR_TREE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --layout) LAYOUT="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --keys) KEYS="$2"; shift 2 ;;
    --asan-keys) ASAN_KEYS="$2"; shift 2 ;;
    --fuzz) FUZZ="$2"; shift 2 ;;
    --sancov) SANCOV=1; shift ;;
    --rust-asan) RUST_ASAN=1; shift ;;
    --merge) MERGE=1; shift ;;
    --coverage) COVERAGE=1; shift ;;
    --short) KEYS=1000000; ASAN_KEYS=500000; shift ;;
    --build-only) BUILD_ONLY=1; shift ;;
    --if-behaviour-tree) ONLY_BEHAVIOUR_TREE=1; shift ;;
    -h|--help) sed -n '2,48p' "$0"; exit 0 ;;
    -*) echo "fuzz-keys: unknown option $1" >&2; exit 2 ;;
    *) TREE=$(cd "$1" && pwd); shift ;;
  esac
done
case "$LAYOUT" in memcached|memcached-debug) ;; *) echo "fuzz-keys: --layout memcached|memcached-debug" >&2; exit 2 ;; esac
if [ "$SANCOV" = 1 ] && [ "$RUST_ASAN" = 1 ]; then
  # rustc's ASan module destructor then refers to SanitizerCoverage arrays
  # that LTO dropped: the link fails (rustc 1.97 nightly)
  echo "fuzz-keys: --sancov and --rust-asan cannot be combined" >&2
  exit 2
fi

eval "$(MCP_TREE="$TREE" "$ROOT/scripts/build/tree-env.sh" "$LAYOUT")"
SRC="$MCP_MEMCACHED_SRC_DIR"
ARCHIVE="$TREE/proxy-lua-rs-build/$LAYOUT/release/libproxy_lua_rs.a"
LIBLUA="$TREE/vendor/lua/src/liblua.a"
CORPUS="$ROOT/tests/fuzz/keys-corpus"
OUT="$ROOT/target/fuzz-keys/$LAYOUT"
HARNESS="$ROOT/fuzz/keys/harness.c"
STANDINS="$ROOT/test-support/c/standins.c"
for f in "$ARCHIVE" "$LIBLUA" "$SRC/proxy_lua.c"; do
  [ -f "$f" ] || { echo "fuzz-keys: missing $f (run 'make tree')" >&2; exit 1; }
done
mkdir -p "$OUT" "$CORPUS"

# The reference is upstream's proxy_lua.c of the release whose behaviour the
# library follows (its identification string names both that release and
# the one the tree's proxy_lua.c is, from the drift guard). An older tree's
# proxy_lua.c has the key filter bugs upstream fixed since (1.6.38's stop
# filter writes temp[klen + 1]), which ours does not copy: comparing with it
# would report those fixes.
ident=$(strings -a "$ARCHIVE" | grep -m1 -o 'behaviour of proxy_lua.c [0-9.]*; built for a tree whose proxy_lua.c is [0-9./a-z]*' || true)
behaviour=$(sed -n 's/^behaviour of proxy_lua.c \([0-9.]*\);.*/\1/p' <<< "$ident")
treerel=$(sed -n 's/.*proxy_lua.c is \(.*\)$/\1/p' <<< "$ident")
case "/$treerel/" in
  */"$behaviour"/*) ;;
  *)
    echo "fuzz-keys: this tree's proxy_lua.c is ${treerel:-unknown}'s, not $behaviour's (the release the library follows):"
    echo "  the differential reference must be $behaviour's proxy_lua.c; run it on a $behaviour tree"
    echo "  (make fuzz-keys, or scripts/reliability/fuzz-keys.sh build/memcached-$behaviour)."
    [ "${ONLY_BEHAVIOUR_TREE:-0}" = 1 ] && exit 0
    exit 2 ;;
esac

# memcached's compile flags (FLAGS)
# shellcheck source=scripts/lib/cflags.sh
. "$ROOT/scripts/lib/cflags.sh"
LIBS=($MCP_LIBS -lpthread)
SUPPORT_SRC=(proxy_xxhash.c proxy_jump_hash.c proxy_ring_hash.c md5.c vendor/mcmc/mcmc.c)

# Builds one variant into $1: CC, C flags for the instrumented parts, flags
# for Lua (empty: use the tree's liblua.a), the archive, extra link flags.
build_variant() {
  local dir="$1" cc="$2" cflags="$3" luaflags="$4" archive="$5" ldextra="$6"
  mkdir -p "$dir"
  local stamp="$dir/.stamp" want
  want=$(printf '%s\n' "$cc" "$cflags" "$luaflags" "$ldextra" "${FLAGS[*]}" | cat - "$0" "$HARNESS" "$STANDINS" "$SRC/proxy_lua.c" | sha256sum | cut -c1-16)
  want="$want $(stat -c %Y "$archive")"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$dir/harness" ]; then
    return 0
  fi
  local objs=()
  # upstream proxy_lua.c with every symbol it defines renamed c_*
  $cc "${FLAGS[@]}" $cflags -w -c "$SRC/proxy_lua.c" -o "$dir/proxy_lua_c.o"
  nm --defined-only -g "$dir/proxy_lua_c.o" | awk 'NF==3 {print $3" c_"$3}' > "$dir/redefine.syms"
  objcopy --redefine-syms="$dir/redefine.syms" "$dir/proxy_lua_c.o" "$dir/proxy_lua_c_renamed.o"
  objs+=("$dir/proxy_lua_c_renamed.o")
  for s in "${SUPPORT_SRC[@]}"; do
    local o="$dir/$(basename "$s" .c).o" extra=""
    # memcached's proxy_ring_hash.c builds ring points and md5 key hashes
    # with `digest[3] << 24` (an int shift of a byte >= 128 into the sign
    # bit: UB). The same C runs for both implementations; its result is the
    # intended one with gcc and clang. Exempt that one check in that file.
    case "$s" in proxy_ring_hash.c) [ -n "$cflags" ] && extra="-fno-sanitize=shift-base" ;; esac
    $cc "${FLAGS[@]}" $cflags $extra -w -c "$SRC/$s" -o "$o"
    objs+=("$o")
  done
  $cc "${FLAGS[@]}" $cflags -w -c "$STANDINS" -o "$dir/standins.o"
  objs+=("$dir/standins.o")
  $cc "${FLAGS[@]}" $cflags -Wall -Wextra -Werror -Wno-unused-parameter -Wno-redundant-decls \
    -c "$HARNESS" -o "$dir/harness.o"
  local lua="$LIBLUA"
  if [ -n "$luaflags" ]; then
    mkdir -p "$dir/lua"
    local luaobjs=()
    for c in "$SRC"/vendor/lua/src/*.c; do
      case "$(basename "$c")" in lua.c|luac.c) continue ;; esac
      local o="$dir/lua/$(basename "$c" .c).o"
      $cc -std=gnu99 -O2 -g -DLUA_COMPAT_5_3 -DLUA_USE_LINUX $luaflags -w -c "$c" -o "$o"
      luaobjs+=("$o")
    done
    rm -f "$dir/liblua.a"
    ar rcs "$dir/liblua.a" "${luaobjs[@]}"
    lua="$dir/liblua.a"
  fi
  $cc $cflags "$dir/harness.o" "${objs[@]}" "$archive" "$lua" $ldextra "${LIBS[@]}" -o "$dir/harness"
  # the harness must contain exactly one of each: ours under upstream's
  # names, upstream's under c_*
  for sym in proxy_register_libs mcplib_pool_proxy_call_helper c_proxy_register_libs c_mcplib_pool_proxy_call_helper; do
    [ "$(nm "$dir/harness" | awk -v s="$sym" '$3==s && $2=="T"' | wc -l)" = 1 ] \
      || { echo "fuzz-keys: $dir/harness: $sym is not defined exactly once" >&2; exit 1; }
  done
  echo "$want" > "$stamp"
  echo "fuzz-keys: built $dir/harness"
}

SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
RESDIR=$(clang -print-resource-dir 2>/dev/null || true)
FUZZLIB="$RESDIR/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a"
if ! command -v clang >/dev/null || [ ! -f "$FUZZLIB" ]; then
  echo "fuzz-keys: needs clang and libFuzzer: apt-get install clang libclang-rt-14-dev" >&2
  exit 1
fi

# Our archive built separately with rustc flags, same env as the tree's
# build (Makefile.am's PROXY_LUA_RS_CARGO). --target keeps RUSTFLAGS off the
# build scripts (a sancov build.rs would not link).
HOST=$(rustc -vV | sed -n 's/^host: //p')
cargo_archive() {
  local dir="$1" rustflags="$2" toolchain="${3:-}"
  ( cd "$TREE" && MCP_MEMCACHED_BUILD_DIR="$TREE" MCP_MEMCACHED_SRC_DIR="$SRC" MCP_PROBE_CC="$MCP_PROBE_CC" \
      MCP_PROBE_CFLAGS="$MCP_PROBE_CFLAGS" RUSTFLAGS="$rustflags" \
      cargo ${toolchain:+"$toolchain"} build --release --locked --quiet --manifest-path "$ROOT/Cargo.toml" --target "$HOST" \
      --target-dir "$dir" >&2 )
  echo "$dir/$HOST/release/libproxy_lua_rs.a"
}

PLAIN="$OUT/plain"
ASAN="$OUT/asan"
build_variant "$PLAIN" "${MCP_PROBE_CC:-cc}" "" "" "$ARCHIVE" ""
ASAN_ARCHIVE="$ARCHIVE"
RFLAGS="" RSUFFIX="" RTOOLCHAIN=""
if [ "$SANCOV" = 1 ]; then
  RFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=3 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares"
  RSUFFIX="-sancov"
fi
if [ "$RUST_ASAN" = 1 ]; then
  # core is precompiled without it: allow the mismatch (no std types cross)
  RFLAGS="$RFLAGS -Zsanitizer=address -Cunsafe-allow-abi-mismatch=sanitizer"
  RSUFFIX="$RSUFFIX-rustasan"
  RTOOLCHAIN="+nightly"
fi
if [ -n "$RSUFFIX" ]; then
  ASAN_ARCHIVE=$(cargo_archive "$OUT/rust$RSUFFIX" "$RFLAGS" "$RTOOLCHAIN")
  ASAN="$OUT/asan$RSUFFIX"
fi
build_variant "$ASAN" clang "$SANFLAGS -fsanitize=fuzzer-no-link -DKEYS_LIBFUZZER" "$SANFLAGS" "$ASAN_ARCHIVE" \
  "$FUZZLIB -lstdc++"
if [ "$SANCOV" = 1 ]; then
  n=$(nm "$ASAN/harness" | grep -c '__sancov_gen_' || true)
  echo "fuzz-keys: SanitizerCoverage counters sections in the harness: $(readelf -S "$ASAN/harness" | grep -c __sancov_cntrs) ($n local counter arrays)"
fi
[ "$BUILD_ONLY" = 1 ] && exit 0

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:allocator_may_return_null=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
run() { echo "+ $*"; "$@" || status=1; }

if [ "$KEYS" != 0 ]; then
  # the control first: upstream's helper gets every key with its last byte
  # flipped, and the comparison must notice
  run "$PLAIN/harness" --control --quiet --seed "$SEED" --keys 20000 2>/dev/null
  run "$PLAIN/harness" --seed "$SEED" --keys "$KEYS" --corpus "$CORPUS"
fi
# The sanitizer control: a helper handed a key block 1 byte shorter than
# the length must be reported (upstream's C is instrumented; ours with
# --rust-asan).
oob_control() {
  local who="$1" out
  if out=$("$ASAN/harness" --oob-control "$who" 2>&1); then
    echo "fuzz-keys: FAIL: ASan did not report $who reading past the key block: $out" >&2
    status=1
  elif printf '%s' "$out" | grep -q 'ERROR: AddressSanitizer: heap-buffer-overflow'; then
    echo "fuzz-keys: sanitizer control: $who reading 1 byte past the key is reported ($(printf '%s' "$out" | grep -m1 -o ' in [A-Za-z0-9_:]* [^ ]*' | head -1))"
  else
    echo "fuzz-keys: FAIL: $who control ended without an ASan report: $out" >&2
    status=1
  fi
}
if [ "$ASAN_KEYS" != 0 ]; then
  oob_control c
  [ "$RUST_ASAN" = 1 ] && oob_control ours
  run "$ASAN/harness" --seed "$SEED" --keys "$ASAN_KEYS" --corpus "$CORPUS"
fi

if [ "$FUZZ" != 0 ]; then
  WORK="$OUT/corpus-work"
  ART="$OUT/artifacts"
  SEEDS="$OUT/seeds"
  mkdir -p "$WORK" "$ART"
  # starting inputs: spec bytes + keys of the seeded generator (delimiters,
  # NULs, boundary lengths), so the fuzzer starts from structured keys
  rm -rf "$SEEDS"; mkdir -p "$SEEDS"
  "$ASAN/harness" --seed "$SEED" --make-seeds "$SEEDS" 200
  # -use_value_profile: compare operands as features (the filters compare
  # bytes); -max_len: a pool spec plus a few keys. New inputs go to $WORK.
  run "$ASAN/harness" -max_total_time="$FUZZ" -max_len=2048 -use_value_profile=1 \
    -print_final_stats=1 -artifact_prefix="$ART/" "$WORK" "$CORPUS" "$SEEDS"
  if [ "$MERGE" = 1 ]; then
    # keep only inputs that add edge coverage (no hit counters, no value
    # profile: a small set), smallest first; the merge writes the new ones
    # into $CORPUS
    run "$ASAN/harness" -merge=1 -use_counters=0 -max_len=2048 "$CORPUS" "$WORK" "$SEEDS"
  fi
fi

if [ "$COVERAGE" = 1 ]; then
  TOOLS="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin"
  if [ ! -x "$TOOLS/llvm-cov" ]; then
    echo "fuzz-keys: --coverage needs llvm-tools of rustc's own LLVM: rustup component add llvm-tools" >&2
    exit 1
  fi
  COVA=$(cargo_archive "$OUT/rust-cov" "-Cinstrument-coverage")
  COV="$OUT/cov"
  # -u: pull in the profile runtime's writer (rustc and clang add it when
  # they link; gcc linking a staticlib does not)
  build_variant "$COV" "${MCP_PROBE_CC:-cc}" "" "" "$COVA" "-Wl,-u,__llvm_profile_runtime"
  rm -f "$COV"/*.profraw
  LLVM_PROFILE_FILE="$COV/seeded-%p.profraw" run "$COV/harness" --seed "$SEED" --keys "${COV_KEYS:-2000000}" --quiet
  LLVM_PROFILE_FILE="$COV/corpus-%p.profraw" run "$COV/harness" --replay "$CORPUS"
  "$TOOLS/llvm-profdata" merge -sparse "$COV"/*.profraw -o "$COV/all.profdata"
  "$TOOLS/llvm-profdata" merge -sparse "$COV"/corpus-*.profraw -o "$COV/corpus.profdata"
  for which in all corpus; do
    echo "== coverage of our routing code ($which: $([ $which = all ] && echo "seeded run + corpus" || echo "corpus only"))"
    "$TOOLS/llvm-cov" report "$COV/harness" -instr-profile="$COV/$which.profdata" \
      "$ROOT/src/mcplib/pool.rs" "$ROOT/src/host/pool.rs" "$ROOT/src/exports.rs"
  done
  # the functions of the routing path, by group (region coverage; the
  # regions of a function inlined into several callers are merged)
  for which in all corpus; do
    "$TOOLS/llvm-cov" export -format=text "$COV/harness" -instr-profile="$COV/$which.profdata" > "$COV/$which.json"
    python3 - "$COV/$which.json" "$which" "$ROOT/" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))["data"][0]["functions"]
groups = [
    ("per-key path (mcplib_pool_proxy_call_helper and what it calls)",
     ["mcplib_pool_proxy_call_helper", "12apply_filter", "20key_hash_filter_stop", "19key_hash_filter_tag",
      "8upto_nul", "5as_u8", "9PoolProxy", "11call_hasher", "11call_filter"]),
    ("pool construction (mcp.pool and its helpers)",
     ["mcplib_pool", "_mcplib_pool_dist", "12default_dist", "_mcplib_pool_make_be", "20push_drop_key_pieces",
      "6KeyBuf", "14hash_caller_at", "12hash_func_at", "10pool_slots", "17pool_slot_backend"]),
]
def wanted(name, keys):
    if name == "mcplib_pool" or name.endswith("11mcplib_pool") or "11mcplib_pool0" in name or "11mcplib_pools" in name:
        return "mcplib_pool" in keys
    return any(k in name for k in keys if k != "mcplib_pool")
print(f"== routing functions ({'seeded run + corpus' if sys.argv[2] == 'all' else 'corpus only'})")
for title, keys in groups:
    regions = {}
    names = set()
    for f in data:
        if not wanted(f["name"], keys):
            continue
        names.add(f["name"])
        fn = f["filenames"]
        for r in f["regions"]:
            l0, c0, l1, c1, count, fid, _, kind = r
            if kind != 0:
                continue
            k = (fn[fid], l0, c0, l1, c1)
            regions[k] = max(regions.get(k, 0), count)
    cov = sum(1 for v in regions.values() if v > 0)
    print(f"  {title}: {len(names)} functions, regions {cov}/{len(regions)} covered"
          f" ({100.0 * cov / max(len(regions), 1):.1f}%)")
    missed = sorted(k for k, v in regions.items() if v == 0)
    lines = sorted({(k[0], k[1]) for k in missed})
    if not title.startswith("per-key"):
        print(f"    {len(missed)} regions not reached on {len(lines)} lines: the error returns (`?` after"
              " each Lua call, invalid options); see routing.txt")
        continue
    for fn, l in lines:
        src = open(fn).read().splitlines()[l - 1].strip()
        print(f"    not reached: {fn[len(sys.argv[3]):] if fn.startswith(sys.argv[3]) else fn}:{l}: {src}")
PY
  done
  "$TOOLS/llvm-cov" show "$COV/harness" -instr-profile="$COV/all.profdata" -show-branches=count \
    -show-line-counts-or-regions "$ROOT/src/mcplib/pool.rs" "$ROOT/src/host/pool.rs" > "$COV/routing.txt"
  echo "fuzz-keys: annotated source in $COV/routing.txt"
fi
exit $status
