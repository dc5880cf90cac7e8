#!/usr/bin/env bash
# `make deb SUITE=sid|trixie`: builds memcached with proxy-lua-rs as a Debian
# package, the way a Debian builder would:
#   1. the source package (scripts/packaging/deb-source.sh);
#   2. a clean chroot of SUITE (mmdebstrap --variant=buildd, cached as a
#      tarball in ~/.cache/mcp-rs/chroots/), with only the Build-Depends
#      installed from Debian (apt-get build-dep on the .dsc);
#   3. dpkg-buildpackage -us -uc (source and binaries) inside it, with the
#      network unshared (only `lo`: the tests use loopback ports);
#   4. lintian (the suite's own) on the .changes: no errors.
# Leaves the .dsc, tarballs, .debs, .changes, .buildinfo, build.log and
# lintian.txt in build/deb/SUITE/ (build/deb/SUITE-ARCH/ for another
# architecture).
#
# `make deb SUITE=... ARCH=armhf|arm64|s390x|...`: the same build, natively
# in a chroot of that architecture run by qemu-user (the cached chroot of
# `make test-arch`, which has the Build-Depends preinstalled, because apt
# and dpkg under emulation take tens of minutes): Debian's buildds build
# natively too, the library's build script runs its layout probe (a
# program for the target), and dh_auto_test runs the tests on the target.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SUITE="${1:-sid}"
# shellcheck source=scripts/lib/chroot.sh
. "$ROOT/scripts/lib/chroot.sh"
ARCH="${2:-$(host_arch)}"
OUT=$(deb_out "$ROOT" "$SUITE" "$ARCH")
[ "$(id -u)" = 0 ] || { echo "deb-build: needs root (chroot, mounts, unshare)" >&2; exit 1; }
t0=$(date +%s)
step() { echo "== deb-build [$SUITE/$ARCH] +$(elapsed "$t0")s: $*" >&2; }

step "source package"
mkdir -p "$OUT"
rm -f "$OUT"/*.deb "$OUT"/*.changes "$OUT"/*.buildinfo "$OUT"/*.dsc "$OUT"/*.tar.xz "$OUT"/build.log "$OUT"/build.stalled.log "$OUT"/lintian.txt
dsc=$("$ROOT/scripts/packaging/deb-source.sh" "$SUITE" "$OUT" 2>"$OUT/source.log") || { cat "$OUT/source.log" >&2; exit 1; }
base=$(basename "$dsc" .dsc)

CH="$OUT/chroot"
step "chroot ($SUITE $ARCH)"
chroot_new_arch "$SUITE" "$ARCH" "$CH" || exit 1
mkdir -p "$CH/build"
cp "$OUT"/src/*.dsc "$OUT"/src/*.tar.xz "$CH/build/"

step "Build-Depends from Debian (apt-get build-dep)"
chroot_run "$CH" "apt-get -qq update && apt-get -y -q --no-install-recommends build-dep /build/$base.dsc" \
  > "$OUT/build-deps.log" 2>&1 || { tail -30 "$OUT/build-deps.log" >&2; exit 1; }
chroot_run "$CH" "dpkg-query -W -f='\${Package} \${Version}\n' cargo rustc librust-libc-dev librust-xxhash-rust-dev librust-cc-dev liblua5.4-dev 2>/dev/null" \
  | sed 's/^/  /' >&2 || true

if [ "$ARCH" = "$(host_arch)" ]; then
  step "dpkg-buildpackage (network unshared; the full test suite runs, ~10 min)"
else
  step "dpkg-buildpackage under emulation (network unshared; the tests run on $ARCH: an hour or more)"
fi
# guarded: a build whose processes use no CPU for 10 minutes (a qemu-user
# fork deadlock, scripts/lib/stall-guard.sh) is killed and run once more
# shellcheck source=scripts/lib/stall-guard.sh
. "$ROOT/scripts/lib/stall-guard.sh"
export -f chroot_run_offline
build="cd /build && rm -rf src && dpkg-source -x $base.dsc src >/dev/null && cd src && \
  DEB_BUILD_OPTIONS=parallel=$(nproc) dpkg-buildpackage -us -uc"
set +e
STALL_CLEANUP="chroot_kill $CH" guarded_log "$OUT/build.log" chroot_run_offline "$CH" "$build"
rc=$?
set -e
if [ $rc -ne 0 ]; then
  tail -60 "$OUT/build.log" >&2
  echo "deb-build: dpkg-buildpackage failed (full log: $OUT/build.log)" >&2
  exit 1
fi
n_proxy=$(grep -c -E '^t/proxy[a-z0-9]*\.t \.+ ok' "$OUT/build.log" || true)
step "built; $n_proxy proxy test files passed in dh_auto_test"
grep -E '^t/proxy[a-z0-9]*\.t ' "$OUT/build.log" | sed 's/^/  /' >&2 || true
grep -E '^(All tests successful|Files=)' "$OUT/build.log" | sed 's/^/  /' >&2 || true

cp "$CH"/build/*.deb "$CH"/build/*.changes "$CH"/build/*.buildinfo "$CH"/build/*.dsc "$CH"/build/*.tar.xz "$OUT/"

step "lintian ($SUITE's)"
chroot_run "$CH" "apt-get -y -q --no-install-recommends install lintian >/dev/null 2>&1; \
  cd /build && lintian --info --display-info --pedantic *.changes" > "$OUT/lintian.txt" 2>&1 || true
sed 's/^/  /' "$OUT/lintian.txt" | grep -E '^  [EWIP]: ' | sort | uniq -c | sort -rn | head -40 >&2 || true
errors=$(grep -c '^E: ' "$OUT/lintian.txt" || true)
chroot_cleanup "$CH"
step "done: $(ls "$OUT"/*.deb | wc -l) .deb(s) in $OUT; lintian: $errors error(s)"
[ "$errors" = 0 ] || { echo "deb-build: lintian reports errors (see $OUT/lintian.txt)" >&2; exit 1; }
