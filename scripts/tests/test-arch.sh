#!/usr/bin/env bash
# `make test-arch ARCH=arm64|armhf|ppc64el|riscv64|s390x|... [SUITE=sid|trixie]`
#
# The library on another Debian architecture, under qemu-user emulation
# (or natively, for this machine's own architecture):
#   1. registers qemu-user for ARCH if needed (or says in one message why it
#      cannot);
#   2. a chroot of SUITE for ARCH with the toolchain and memcached's build
#      dependencies (mmdebstrap, made once under emulation and cached in
#      ~/.cache/mcp-rs/chroots/SUITE-ARCH-dev.tar);
#   3. inside it, from a clean clone of this checkout (committed state):
#      memcached SUITE's version (sid 1.6.45, trixie 1.6.38) built with our
#      library and the stock C build of the same tarball; then, with only
#      loopback (own network namespace): the crate's cargo tests (both
#      layouts), the C tests, the layout-mismatch test, our tests/*.t, and
#      upstream's t/proxy*.t on both binaries of both builds; the routing
#      probe on both builds (scripts/tests/arch-inside.sh);
#   4. here: the per-file table, ours next to stock C; the routing probe of
#      both builds there against both builds on this machine; the layout
#      probe's sizes against the DWARF of the built binaries.
# Passes when ours equals stock C file for file (a file ours fails passes
# only if it is in the version's or the architecture's expected-failures
# list and stock fails it too), every other step passes, and the routing is
# identical across the four builds.
#
# Logs and results: build/arch/SUITE-ARCH/ (summary.txt, logs/). The chroot
# is deleted at the end (MCP_ARCH_KEEP=1 keeps it). Needs root.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ARCH="${1:?usage: test-arch.sh ARCH [SUITE]}"
SUITE="${2:-sid}"
case "$SUITE" in
  sid) DEFV=1.6.45 ;;
  trixie) DEFV=1.6.38 ;;
  *) echo "test-arch: SUITE must be sid or trixie" >&2; exit 2 ;;
esac
VERSION="${MEMCACHED_VERSION:-$DEFV}"
[ "$(id -u)" = 0 ] || { echo "test-arch: needs root (chroot, mounts, binfmt_misc, unshare)" >&2; exit 1; }
# shellcheck source=scripts/lib/chroot.sh
. "$ROOT/scripts/lib/chroot.sh"
OUT="$ROOT/build/arch/$SUITE-$ARCH"
mkdir -p "$OUT"
rm -rf "$OUT/logs" "$OUT/summary.txt"
t0=$(date +%s)
step() { echo "== test-arch [$SUITE/$ARCH] +$(elapsed "$t0")s: $*" >&2; }

ensure_qemu "$ARCH" || exit 1
step "memcached $VERSION source (pinned SHA-256)"
MEMCACHED_VERSION="$VERSION" "$ROOT/scripts/build/fetch-memcached.sh"

# The reference on this machine: both builds of the same version, routed.
HOSTARCH=$(host_arch)
step "reference on $HOSTARCH: ours and stock C $VERSION (native), routing probe"
# (one host build at a time: several test-arch runs may start together)
mkdir -p "$ROOT/build"
( flock 9
  MEMCACHED_VERSION="$VERSION" "$ROOT/scripts/build/build-tree.sh" && \
  MEMCACHED_VERSION="$VERSION" MCP_STOCK=1 "$ROOT/scripts/build/build-tree.sh" ) 9>"$ROOT/build/.host-build.lock" \
  >"$OUT/host-build.log" 2>&1 || { tail -20 "$OUT/host-build.log" >&2; exit 1; }
for b in ours stock; do
  t="$ROOT/build/memcached-$VERSION"; [ $b = stock ] && t="$ROOT/build/stock/memcached-$VERSION"
  # its own network namespace: the probe's fixed ports cannot collide
  unshare -n sh -c 'ip link set lo up && exec "$@"' sh python3 "$ROOT/scripts/tests/routing-probe.py" \
    --bin "$t/memcached" --tree "$t" --keys-per-pool "${MCP_ROUTING_KEYS:-100}" \
    --out "$OUT/routing-$HOSTARCH-$b.json" >"$OUT/host-routing-$b.log" 2>&1 \
    || { cat "$OUT/host-routing-$b.log" >&2; exit 1; }
done

step "chroot ($SUITE $ARCH)"
tb=$(chroot_tarball_foreign "$SUITE" "$ARCH") || exit 1
CH="$OUT/chroot"
chroot_unpack "$tb" "$CH" || exit 1
# the host's local CAs (an egress proxy's, where there is one), so that
# cargo reaches the crate registry from inside as it does outside
if [ -d /usr/local/share/ca-certificates ] && ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  mkdir -p "$CH/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$CH/usr/local/share/ca-certificates/"
  chroot "$CH" update-ca-certificates >/dev/null 2>&1 || true
fi
git clone -q "$ROOT" "$CH/root/proxy-lua-rs"
mkdir -p "$CH/root/.cache/mcp-rs"; cp "$CACHE"/memcached_"$VERSION"*.tar.xz "$CH/root/.cache/mcp-rs/"
inside() { # build|test
  local run=chroot_run
  [ "$1" = test ] && run=chroot_run_offline
  $run "$CH" "cd /root/proxy-lua-rs && MEMCACHED_VERSION=$VERSION \
    ${MCP_CONFORMANCE_TIMEOUT:+MCP_CONFORMANCE_TIMEOUT=$MCP_CONFORMANCE_TIMEOUT} \
    ${MCP_ROUTING_KEYS:+MCP_ROUTING_KEYS=$MCP_ROUTING_KEYS} scripts/tests/arch-inside.sh $1" 2>&1 \
    | while IFS= read -r l; do echo "$l"; echo "  +$(elapsed "$t0")s $l" >&2; done >> "$OUT/progress.log"
}
: > "$OUT/progress.log"
step "build inside (with the network): ours and stock C"
inside build
step "tests inside (loopback only; upstream's files take many times their native time)"
inside test
step "collecting results"
mkdir -p "$OUT/logs"
cp -r "$CH/root/proxy-lua-rs/target/arch/." "$OUT/logs/"
R="$OUT/logs"

# ---- the verdict ----
fail=0
sum() { echo "$*" | tee -a "$OUT/summary.txt"; }
sum "test-arch: memcached $VERSION on $SUITE/$ARCH ($(elapsed "$t0")s so far)"
sum ""
sum "steps (status, seconds):"
while read -r name rc secs; do
  sum "  $(printf '%-32s %s %6ss' "$name" "$([ "$rc" = 0 ] && echo ok || echo "FAILED($rc)")" "$secs")"
  case "$name" in
    conformance-stock-*) ;;   # stock's own failures are the reference, not a verdict
    *) [ "$rc" = 0 ] || fail=1 ;;
  esac
done < "$R/steps.txt"

# per-file table: ours next to stock, both binaries
status_of() { # conformance log, file -> PASS|FAIL|SKIP|-
  local l
  l=$(grep -E "^(PASS|FAIL|XFAIL|XPASS|SKIP) +$2 " "$1" 2>/dev/null | head -1 | awk '{print $1}')
  case "$l" in XFAIL) echo FAIL ;; XPASS) echo PASS ;; '') echo "-" ;; *) echo "$l" ;; esac
}
asserts_of() { grep -E "^(PASS|XPASS) +$2 " "$1" 2>/dev/null | head -1 | sed -n 's/.*(\([0-9]*\) assertions.*/\1/p'; }
sum ""
sum "upstream t/proxy*.t ($VERSION), $SUITE/$ARCH: ours | stock C"
sum "$(printf '  %-26s %-22s %-22s' file memcached-debug memcached)"
files=$(grep -hoE '^(PASS|FAIL|XFAIL|XPASS|SKIP) +proxy[a-z0-9_]*\.t' "$R"/conformance-*.log 2>/dev/null | awk '{print $2}' | sort -u)
declare -A np=()
for f in $files; do
  row=""
  for which in memcached-debug memcached; do
    o=$(status_of "$R/conformance-ours-$which.log" "$f"); s=$(status_of "$R/conformance-stock-$which.log" "$f")
    oa=$(asserts_of "$R/conformance-ours-$which.log" "$f"); sa=$(asserts_of "$R/conformance-stock-$which.log" "$f")
    cell="$o${oa:+($oa)} | $s${sa:+($sa)}"
    [ "$o" = PASS ] && np[ours-$which]=$(( ${np[ours-$which]:-0} + 1 ))
    [ "$s" = PASS ] && np[stock-$which]=$(( ${np[stock-$which]:-0} + 1 ))
    if [ "$o" != "$s" ] || { [ "$o" = PASS ] && [ "$oa" != "$sa" ]; }; then cell="$cell  <- DIFFERS"; fail=1; fi
    row="$row$(printf '%-22s ' "$cell")"
  done
  sum "$(printf '  %-26s %s' "$f" "$row")"
done
for which in memcached-debug memcached; do
  sum "  $which: ours passed ${np[ours-$which]:-0}, stock C passed ${np[stock-$which]:-0}"
done
# an architecture's expected failure must be one stock C fails here too
for which in memcached-debug memcached; do
  af="$ROOT/conformance/$VERSION/arch/$ARCH/expected-failures-$which.txt"
  [ -f "$af" ] || continue
  while read -r f _; do
    case "$f" in ''|'#'*) continue ;; esac
    if [ "$(status_of "$R/conformance-stock-$which.log" "$f")" = PASS ]; then
      sum "  $f is listed in $af but stock C passes it here: remove it"; fail=1
    fi
  done < "$af"
done

# own tests
sum ""
for which in memcached-debug memcached; do
  sum "our tests/*.t on $which: $(tail -1 "$R/own-tests-$which.log" 2>/dev/null)"
done
sum "cargo tests: $(grep -h '^test result' "$R/cargo-test.log" 2>/dev/null | tr '\n' ' ')"

# routing: both builds there, both builds here
sum ""
if [ -s "$R/routing-ours.json" ] && [ -s "$R/routing-stock.json" ]; then
  r=$(python3 "$ROOT/scripts/tests/routing-probe.py" --compare "$OUT/routing-$HOSTARCH-stock.json" \
      "$OUT/routing-$HOSTARCH-ours.json" "$R/routing-stock.json" "$R/routing-ours.json" 2>&1) || fail=1
  sum "routing probe (stock C and ours on $HOSTARCH, stock C and ours on $ARCH):"
  sum "$(echo "$r" | sed 's/^/  /')"
else
  sum "routing probe: no report from $ARCH"; fail=1
fi

# layout: what the probe measured against the DWARF of the built binaries
sum ""
sum "layout probe vs DWARF of the built binaries (sizeof, bytes):"
for which in memcached-debug memcached; do
  pf=$(ls "$CH/root/proxy-lua-rs/build/memcached-$VERSION/proxy-lua-rs-build/$which"/*/release/build/proxy-lua-rs-*/out/mcp_layout_probe.txt \
          "$CH/root/proxy-lua-rs/build/memcached-$VERSION/proxy-lua-rs-build/$which"/release/build/proxy-lua-rs-*/out/mcp_layout_probe.txt 2>/dev/null | head -1)
  bin="$CH/root/proxy-lua-rs/build/memcached-$VERSION/$which"
  [ -n "$pf" ] && [ -x "$bin" ] || { sum "  $which: no probe output or binary"; fail=1; continue; }
  line="  $which:"
  for st in "struct timeval" "struct timespec" "struct proxy_tunables" "mcp_pool_t" "mcp_backend_t" "struct proxy_logging"; do
    p=$(awk -F'\t' -v s="$st" '$1=="struct" && $2==s {print $3}' "$pf")
    d=$(gdb-multiarch -batch -ex "print sizeof($st)" "$bin" 2>/dev/null | sed -n 's/^\$[0-9]* = //p')
    line="$line $st=$p"
    if [ -z "$d" ]; then line="$line(DWARF ?)"; elif [ "$p" != "$d" ]; then line="$line(DWARF $d: DIFFERS)"; fail=1; fi
  done
  sum "$line"
done
sum ""
grep -h "libc crate's time_t" "$R/layout-mismatch.log" 2>/dev/null | sed 's/^/  /' | tee -a "$OUT/summary.txt" >&2 || true

if [ "${MCP_ARCH_KEEP:-0}" != 1 ]; then
  chroot_run "$CH" "pkill -f memcached" 2>/dev/null || true
  chroot_cleanup "$CH"
fi
sum ""
sum "test-arch [$SUITE/$ARCH]: $([ $fail = 0 ] && echo PASSED || echo FAILED) in $(elapsed "$t0")s (summary: $OUT/summary.txt, logs: $OUT/logs/)"
exit $fail
