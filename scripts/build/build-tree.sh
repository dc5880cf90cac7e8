#!/usr/bin/env bash
# Build build/memcached-<version>/: the pristine upstream tree with our patch
# applied, configured (--enable-proxy --enable-tls, extstore on as upstream
# defaults) and built: memcached and memcached-debug link proxy-lua-rs in
# place of proxy_lua.c. Re-extracts only when the tarball, the patches or the
# configure options change; otherwise just runs make (cargo rebuilds the
# library when its sources change).
#
# Environment: MEMCACHED_VERSION (1.6.45), MCP_CONFIGURE_EXTRA (extra
# ./configure arguments), MCP_CFLAGS/MCP_LDFLAGS, MCP_BUILD_DIR (default:
# <repo>/build), JOBS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VERSION="${MEMCACHED_VERSION:-1.6.45}"
# MCP_LUA=system: link Debian's system liblua5.4 instead of memcached's
# vendored Lua, as Debian's package does (its debian/patches/
# 0006-Don-t-use-embedded-Lua.patch, then patches/debian-system-lua/).
LUA_MODE="${MCP_LUA:-vendored}"
# MCP_STOCK=1: upstream's own C proxy_lua.c, unpatched (the reference for
# expected failures, benchmarks, fuzzing and the config checker's tests), in
# build/stock/ (build/stock-system-lua/ with MCP_LUA=system).
STOCK="${MCP_STOCK:-0}"
case "$LUA_MODE" in
  vendored) PATCHDIR="$ROOT/patches"; DEFAULT_BUILD="$ROOT/build" ;;
  system) PATCHDIR="$ROOT/patches/debian-system-lua"; DEFAULT_BUILD="$ROOT/build/system-lua" ;;
  *) echo "build-tree: MCP_LUA must be 'vendored' or 'system'" >&2; exit 2 ;;
esac
if [ "$STOCK" = 1 ]; then
  PATCHDIR=""
  if [ "$LUA_MODE" = system ]; then DEFAULT_BUILD="$ROOT/build/stock-system-lua"; else DEFAULT_BUILD="$ROOT/build/stock"; fi
fi
BUILD="${MCP_BUILD_DIR:-$DEFAULT_BUILD}"
TREE="$BUILD/memcached-$VERSION"
CACHE="${MCP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-rs}"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
CONFIGURE_ARGS=(--enable-proxy --enable-tls ${MCP_CONFIGURE_EXTRA:-})
[ "$STOCK" = 1 ] || CONFIGURE_ARGS+=("--with-proxy-lua-rs=$ROOT")
# MCP_CFLAGS / MCP_LDFLAGS: passed to configure as CFLAGS= / LDFLAGS= (used
# by the sanitizer build).
[ -n "${MCP_CFLAGS:-}" ] && CONFIGURE_ARGS+=("CFLAGS=$MCP_CFLAGS")
[ -n "${MCP_LDFLAGS:-}" ] && CONFIGURE_ARGS+=("LDFLAGS=$MCP_LDFLAGS")

export PATH="$PATH:$HOME/.cargo/bin"
"$ROOT/scripts/build/fetch-memcached.sh"
TARBALL="$CACHE/memcached_${VERSION}.orig.tar.xz"
DEBTARBALL="$CACHE/memcached_${VERSION}-${MEMCACHED_DEBREV:-1}.debian.tar.xz"
if [ "$LUA_MODE" = system ]; then
  [ -f "$DEBTARBALL" ] || { echo "build-tree: MCP_LUA=system needs $DEBTARBALL" >&2; exit 1; }
  [ -f /usr/include/lua5.4/lua.h ] || { echo "build-tree: MCP_LUA=system needs liblua5.4-dev" >&2; exit 1; }
fi

patches=(); [ -n "$PATCHDIR" ] && patches=("$PATCHDIR"/*.patch)
stamp_now=$( { sha256sum "$TARBALL" | cut -d' ' -f1; cat "${patches[@]}" /dev/null | sha256sum | cut -d' ' -f1; echo "$LUA_MODE $STOCK ${CONFIGURE_ARGS[*]}"; } | sha256sum | cut -d' ' -f1)
stamp_file="$TREE/.proxy-lua-rs-stamp"
if [ ! -f "$stamp_file" ] || [ "$(cat "$stamp_file")" != "$stamp_now" ]; then
  echo "build-tree: preparing $TREE" >&2
  rm -rf "$TREE"
  mkdir -p "$BUILD"
  tar -xf "$TARBALL" -C "$BUILD"
  ( cd "$TREE"
    if [ "$LUA_MODE" = system ]; then
      tar -xf "$DEBTARBALL" debian/patches/0006-Don-t-use-embedded-Lua.patch 2>/dev/null || {
        echo "build-tree: MCP_LUA=system: Debian's memcached $VERSION has no 0006-Don-t-use-embedded-Lua.patch (only sid's 1.6.45-1 links the system Lua)" >&2; exit 1; }
      echo "build-tree: applying Debian's 0006-Don-t-use-embedded-Lua.patch" >&2
      patch -p1 --quiet < debian/patches/0006-Don-t-use-embedded-Lua.patch
      rm -rf debian
    fi
    for p in "${patches[@]}"; do
      echo "build-tree: applying $(basename "$p")" >&2
      patch -p1 --quiet < "$p"
    done
    # The tarball was generated with automake 1.17; regenerate with ours.
    autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi; exit 1; }
    ./configure "${CONFIGURE_ARGS[@]}" > config.out 2>&1 || { tail -30 config.out; exit 1; }
  )
  echo "$stamp_now" > "$stamp_file"
fi
echo "build-tree: make -j$JOBS in $TREE" >&2
make -C "$TREE" -j"$JOBS" >"$TREE/make.out" 2>&1 || { tail -60 "$TREE/make.out"; echo "build-tree: make failed (full log: $TREE/make.out)" >&2; exit 1; }
echo "build-tree: built $TREE/memcached and $TREE/memcached-debug" >&2
