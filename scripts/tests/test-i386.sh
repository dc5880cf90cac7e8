#!/usr/bin/env bash
# `make test-i386`: the whole `make test` in a Debian i386 chroot (bookworm:
# 32-bit userland, 32-bit time_t), from a clean copy of this checkout.
# `make test` there installs what it needs itself (scripts/build/prereqs.sh), the
# Rust toolchain included; crates come from the public registry, memcached's
# source through apt. Our tests/time.t checks mcp.time_real_millis past
# 2^32 (the 32-bit overflow upstream fixed in 1.6.45), which matters here.
# Needs root.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# bookworm (with its security suite, which carries rustc-web 1.96: the
# crate's dev tools want a current rustc; trixie's 1.85 builds the library,
# which the trixie package build proves). i386 keeps a 32-bit time_t.
SUITE="${I386_SUITE:-bookworm}"
[ "$(id -u)" = 0 ] || { echo "test-i386: needs root" >&2; exit 1; }
# shellcheck source=scripts/lib/chroot.sh
. "$ROOT/scripts/lib/chroot.sh"
t0=$(date +%s)
tb="$CACHE/chroots/$SUITE-i386.tar"
if [ ! -s "$tb" ]; then
  echo "test-i386: creating the i386 $SUITE chroot tarball (once)" >&2
  m=$(mirror_uri)
  sec=$(awk 'tolower($1)=="uris:" {for(i=2;i<=NF;i++) print $i}' /etc/apt/sources.list.d/debian.sources 2>/dev/null \
        | grep -- '-security' | head -1 || true)
  srcs=("deb $m $SUITE main")
  [ "$SUITE" = bookworm ] && [ -n "$sec" ] && srcs+=("deb $sec $SUITE-security main")
  mmdebstrap --quiet --arch=i386 --variant=buildd --components=main \
    --include=ca-certificates,git,iproute2,sudo --aptopt='Acquire::Check-Valid-Until "false"' \
    "$SUITE" "$tb.tmp.tar" "${srcs[@]}" >&2
  mv "$tb.tmp.tar" "$tb"
fi
CH="$ROOT/build/i386/chroot"
[ -e "$CH" ] && chroot_cleanup "$CH"
mkdir -p "$CH"; tar -xf "$tb" -C "$CH"; _CHROOTS+=("$CH")
mount -t proc proc "$CH/proc"; mount --rbind /dev "$CH/dev"; mount --make-rslave "$CH/dev"
mount -t sysfs sysfs "$CH/sys"; mount -t tmpfs tmpfs "$CH/tmp"
cp /etc/resolv.conf "$CH/etc/resolv.conf" 2>/dev/null || true
# the host's local CAs (an egress proxy's, where there is one), so that
# cargo reaches the crate registry from inside as it does outside
if [ -d /usr/local/share/ca-certificates ] && ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  mkdir -p "$CH/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$CH/usr/local/share/ca-certificates/"
  chroot "$CH" update-ca-certificates >/dev/null 2>&1 || true
fi
# a clean clone of this checkout (committed state) plus the cached tarballs
git clone -q "$ROOT" "$CH/root/proxy-lua-rs"
mkdir -p "$CH/root/.cache/mcp-rs"; cp "$CACHE"/memcached_*.tar.xz "$CH/root/.cache/mcp-rs/" 2>/dev/null || true
echo "test-i386: $(chroot "$CH" dpkg --print-architecture) chroot ready (+$(elapsed "$t0")s); running make test" >&2
set +e
chroot "$CH" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  DEBIAN_FRONTEND=noninteractive /bin/bash -c \
  'cd /root/proxy-lua-rs && make test MEMCACHED_VERSION='"${MEMCACHED_VERSION:-1.6.45}"'' \
  2>&1 | tee "$ROOT/build/i386/make-test.log"
rc=${PIPESTATUS[0]}
# keep the test logs; on a failure, run upstream's proxy tests on the stock
# C build of the same tarball in the same chroot: a failure both builds
# share is i386's (or upstream's), not ours
mkdir -p "$ROOT/build/i386/logs"
cp -r "$CH/root/proxy-lua-rs/target/conformance" "$ROOT/build/i386/logs/" 2>/dev/null || true
if [ "$rc" != 0 ]; then
  echo "test-i386: make test failed; upstream's proxy tests on the stock C build, for comparison" >&2
  chroot "$CH" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 /bin/bash -c \
    'cd /root/proxy-lua-rs && MCP_STOCK=1 scripts/build/build-tree.sh >/dev/null && \
     MCP_TREE=build/stock/memcached-'"${MEMCACHED_VERSION:-1.6.45}"' MCP_XFAIL_FILE=/dev/null \
     MCP_CONFORMANCE_LOGS=/root/stock-logs scripts/tests/conformance.sh memcached-debug' \
    2>&1 | tee "$ROOT/build/i386/stock-conformance.log" || true
  cp -r "$CH/root/stock-logs" "$ROOT/build/i386/logs/stock" 2>/dev/null || true
fi
set -e
# memcached processes a test left behind would keep writing into the tree
chroot_kill "$CH"; sleep 1
chroot_cleanup "$CH"
echo "test-i386: make test in i386 $SUITE: status $rc (+$(elapsed "$t0")s; log build/i386/make-test.log)" >&2
exit $rc
