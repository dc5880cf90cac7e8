#!/usr/bin/env bash
# Builds the Debian source package of memcached with proxy-lua-rs:
#
#   scripts/packaging/deb-source.sh sid|trixie [OUTDIR]
#
# sid: memcached 1.6.45-1 -> 1.6.45-1+proxyrs1; trixie: 1.6.38-1 ->
# 1.6.38-1+proxyrs1. From Debian's own orig and debian tarballs (pinned by
# SHA-256, scripts/build/fetch-memcached.sh) plus:
#   - memcached_VERSION.orig-proxy-lua-rs.tar.xz: the crate (the files the
#     library build needs), a component tarball dpkg-source unpacks into
#     proxy-lua-rs/ (configure's default --with-proxy-lua-rs);
#   - debian/patches/proxy-lua-rs.patch, appended to the series (for sid
#     after Debian's 0006-Don-t-use-embedded-Lua.patch);
#   - packaging/debian/SUITE.diff: Build-Depends, debian/rules (offline
#     build through Debian's cargo wrapper, the proxy tests no longer
#     deleted and run alone where Debian skips the rest of the suite, a
#     one-Lua check), debian/clean, debian/tests/control;
#   - packaging/debian/tests/proxy: the autopkgtest of the proxy;
#   - a changelog entry.
# Then dpkg-source -b. Output (default build/deb/SUITE/): the .dsc, the
# tarballs, and the unpacked source tree in src/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SUITE="${1:-sid}"
OUT="${2:-$ROOT/build/deb/$SUITE}"
case "$SUITE" in
  sid) VERSION=1.6.45; DIST=unstable; PATCH="$ROOT/patches/debian-system-lua/0001-link-proxy-lua-rs-in-place-of-proxy_lua.c.patch" ;;
  trixie) VERSION=1.6.38; DIST=trixie; PATCH="$ROOT/patches/0001-link-proxy-lua-rs-in-place-of-proxy_lua.c.patch" ;;
  *) echo "deb-source: SUITE must be sid or trixie" >&2; exit 2 ;;
esac
DEBREV=1
LOCALREV=proxyrs1
NEWVER="$VERSION-$DEBREV+$LOCALREV"
CACHE="${MCP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-rs}"
log() { echo "deb-source: $*" >&2; }

MEMCACHED_VERSION=$VERSION MCP_REQUIRE_DEBIAN=1 "$ROOT/scripts/build/fetch-memcached.sh"
ORIG="$CACHE/memcached_$VERSION.orig.tar.xz"
DEBT="$CACHE/memcached_$VERSION-$DEBREV.debian.tar.xz"
[ -f "$DEBT" ] || { log "missing $DEBT"; exit 1; }

SRC="$OUT/src"
rm -rf "$SRC"; mkdir -p "$SRC"
cp "$ORIG" "$SRC/"

# The crate, reproducibly: fixed order, owner and mtime (the last commit's).
comp="$SRC/memcached_$VERSION.orig-proxy-lua-rs.tar.xz"
mtime=$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)
( cd "$ROOT"
  files=(Cargo.toml Cargo.lock build.rs build-support src test-support include README.md docs tools/proxy-lua-check)
  for f in "${files[@]}"; do [ -e "$f" ] || { echo "deb-source: $f missing" >&2; exit 1; }; done
  # only what git tracks (no build products), plus uncommitted edits of it
  git ls-files -z -- "${files[@]}" | LC_ALL=C sort -z \
    | tar --null -T - --transform 's,^,proxy-lua-rs/,' --sort=name --mtime="@$mtime" \
        --owner=0 --group=0 --numeric-owner --mode='u+rwX,go+rX,go-w' -cf - \
    | xz -6 -T1 > "$comp" )
log "component tarball $(basename "$comp") ($(stat -c %s "$comp") bytes)"

T="$SRC/memcached-$VERSION"
tar -xf "$ORIG" -C "$SRC"
tar -xf "$DEBT" -C "$T"
tar -xf "$comp" -C "$T"

# The quilt patch, with a DEP-3 header.
{
  echo "Description: Build the proxy's Lua binding layer from proxy-lua-rs"
  echo " proxy_lua.c is replaced by proxy-lua-rs, a Rust static library with the"
  echo " same C ABI (shipped as the orig-proxy-lua-rs component, unpacked into"
  echo " proxy-lua-rs/). memcached's make builds it once per binary through"
  echo " \$(CARGO), with that binary's compile flags, and links it in place of"
  echo " proxy_lua.c. PROXY_LUA_RS_TARGET names the target triple when the cargo"
  echo " command builds for one (Debian's cargo wrapper does)."
  echo "Author: proxy-lua-rs"
  echo "Forwarded: not-needed"
  echo "Last-Update: $(date -u -d "@$mtime" +%Y-%m-%d)"
  echo "---"
  cat "$PATCH"
} > "$T/debian/patches/proxy-lua-rs.patch"
echo "proxy-lua-rs.patch" >> "$T/debian/patches/series"

( cd "$T" && patch -p1 --quiet --no-backup-if-mismatch < "$ROOT/packaging/debian/$SUITE.diff" )
# the autopkgtest the diff adds to debian/tests/control (one script for
# both suites; executable, as autopkgtest runs it)
install -m 755 "$ROOT/packaging/debian/tests/proxy" "$T/debian/tests/proxy"

# Changelog entry (dated like the crate snapshot, for reproducibility).
{
  echo "memcached ($NEWVER) $DIST; urgency=medium"
  echo
  echo "  * Build the proxy's Lua binding layer (proxy_lua.c) from proxy-lua-rs,"
  echo "    a Rust drop-in replacement, shipped as the orig-proxy-lua-rs"
  echo "    component tarball and built offline from Debian's Rust packages."
  echo "  * Run the upstream proxy tests (t/proxy*.t) in dh_auto_test again."
  echo "  * Ship proxy-lua-check, which checks a proxy config with the installed"
  echo "    memcached before it is deployed (like nginx -t)."
  echo
  echo " -- ${DEBFULLNAME:-proxy-lua-rs} <${DEBEMAIL:-proxy-lua-rs@example.org}>  $(LC_ALL=C date -u -R -d "@$mtime")"
  echo
  cat "$T/debian/changelog"
} > "$T/debian/changelog.new"
mv "$T/debian/changelog.new" "$T/debian/changelog"

# dpkg-source applies the series itself: check it applies cleanly here.
( cd "$T" && QUILT_PATCHES=debian/patches quilt push -a -q >/dev/null && QUILT_PATCHES=debian/patches quilt pop -a -q >/dev/null ) \
  || { log "the quilt series does not apply"; exit 1; }
rm -rf "$T/.pc"

( cd "$SRC" && dpkg-source -b "memcached-$VERSION" >&2 )
log "built $SRC/memcached_$NEWVER.dsc"
echo "$SRC/memcached_$NEWVER.dsc"
