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
#      probe on both builds; a file the two builds disagree on runs again,
#      up to twice, on the build that failed it, as in test-versions
#      (scripts/tests/arch-inside.sh, scripts/lib/conformance-status.sh);
#   4. here: the per-file table, ours next to stock C; the routing probe of
#      both builds there against both builds on this machine; the layout
#      probe's sizes against the DWARF of the built binaries.
# Passes when ours equals stock C file for file (a file ours fails passes
# only if it is in the version's or the architecture's expected-failures
# list and stock fails it too), every other step passes, and the routing is
# identical across the four builds.
#
# Logs and results: build/arch/SUITE-ARCH/ (summary.txt, logs/). The chroot
# is deleted at the end (MCP_ARCH_KEEP=1 keeps it). On arm64 qemu emulates
# the CPU model max,pauth-impdef=on, many times faster than its default
# (qemu_cpu in scripts/lib/chroot.sh says why; MCP_QEMU_CPU picks another).
# Needs root.
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
    --bin "$t/memcached" --tree "$t" --skip-broken-filters --keys-per-pool "${MCP_ROUTING_KEYS:-100}" \
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
  local run=chroot_run_offline
  [ "$1" = build ] && run=chroot_run
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
step "files the two builds disagree on, again (at most twice, on the build that failed)"
inside retry
step "collecting results"
mkdir -p "$OUT/logs"
cp -r "$CH/root/proxy-lua-rs/target/arch/." "$OUT/logs/"
R="$OUT/logs"

# ---- the verdict (scripts/tests/arch-report.sh; rerunnable on the logs) ----
set +e
"$ROOT/scripts/tests/arch-report.sh" "$OUT" "$VERSION" "$SUITE" "$ARCH" "$CH"
fail=$?
set -e

if [ "${MCP_ARCH_KEEP:-0}" != 1 ]; then
  chroot_kill "$CH"
  chroot_cleanup "$CH"
fi
echo "test-arch [$SUITE/$ARCH]: $([ $fail = 0 ] && echo PASSED || echo FAILED) in $(elapsed "$t0")s (summary: $OUT/summary.txt, logs: $OUT/logs/)" | tee -a "$OUT/summary.txt"
exit $fail
