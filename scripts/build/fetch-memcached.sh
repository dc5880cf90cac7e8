#!/usr/bin/env bash
# Obtain memcached's Debian source tarballs, pinned by SHA-256.
#
# Order of preference:
#   1. an already-downloaded tarball given by MEMCACHED_ORIG_TARBALL
#      (and optionally MEMCACHED_DEBIAN_TARBALL) for offline builds; for a
#      release without a pinned hash here (anything but 1.6.45 and 1.6.38)
#      this is the only way, together with MEMCACHED_ORIG_SHA256;
#   2. the cache directory ($MCP_CACHE_DIR, default ~/.cache/mcp-rs);
#   3. apt, from the Debian mirror configured on this machine: a private
#      deb-src list for the suite carrying that version (sid or trixie) is derived at run time from the system's apt
#      sources, with private state/list directories so the system's apt state
#      is never touched.
#
# Prints nothing on success except progress on stderr; the verified tarballs
# are left in the cache directory.
set -euo pipefail

VERSION="${MEMCACHED_VERSION:-1.6.45}"
DEBREV="${MEMCACHED_DEBREV:-1}"
case "$VERSION" in
  # Debian's source packages: 1.6.45-1 is in sid, 1.6.38-1 in trixie.
  1.6.45)
    SUITE=sid
    ORIG_SHA=c383a2ad8f973b627c3de472702f46ee33b402750de4fd2d25cef65a00140110
    DEB_SHA=80452972d6bcd22777aa35b6f42068848054a1f5f74e4bdbec2eac9a0cc6e957 ;;
  1.6.38)
    SUITE=trixie
    ORIG_SHA=074076ab3e889e16e763c6a3e5cadacc6696979dbb8c473bbf871d498b19b1a0
    DEB_SHA=3a05bb2d29e33c2b5714d32ce53d5b7ca3b7e867e2846a16fd4f3c37bfd0506c ;;
  *)
    # Any other release: from a tarball given with its SHA-256 (nothing is
    # downloaded; Debian's mirror has only its two versions).
    SUITE=""
    DEB_SHA=""
    if [ -z "${MEMCACHED_ORIG_TARBALL:-}" ] || [ -z "${MEMCACHED_ORIG_SHA256:-}" ]; then
      {
        echo "fetch-memcached: memcached $VERSION has no pinned SHA-256 here (pinned: 1.6.45, 1.6.38)."
        echo "  Give its source tarball and the SHA-256 you trust for it:"
        echo "    MEMCACHED_VERSION=$VERSION MEMCACHED_ORIG_TARBALL=/path/memcached-$VERSION.tar.xz \\"
        echo "    MEMCACHED_ORIG_SHA256=<64 hex digits> make test"
      } >&2
      exit 2
    fi
    case "$MEMCACHED_ORIG_SHA256" in
      *[!0-9a-f]*|'') echo "fetch-memcached: MEMCACHED_ORIG_SHA256 must be 64 lowercase hex digits" >&2; exit 2 ;;
    esac
    [ ${#MEMCACHED_ORIG_SHA256} = 64 ] || { echo "fetch-memcached: MEMCACHED_ORIG_SHA256 must be 64 lowercase hex digits" >&2; exit 2; }
    ORIG_SHA=$MEMCACHED_ORIG_SHA256 ;;
esac
if [ -n "${MEMCACHED_ORIG_SHA256:-}" ] && [ "$MEMCACHED_ORIG_SHA256" != "$ORIG_SHA" ]; then
  echo "fetch-memcached: MEMCACHED_ORIG_SHA256 differs from the SHA-256 pinned here for memcached $VERSION ($ORIG_SHA)" >&2
  exit 1
fi
ORIG="memcached_${VERSION}.orig.tar.xz"
DEB="memcached_${VERSION}-${DEBREV}.debian.tar.xz"

CACHE="${MCP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-rs}"
mkdir -p "$CACHE"

log() { echo "fetch-memcached: $*" >&2; }

sha_ok() { # file expected
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

check_or_die() { # file expected what
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  if [ "$got" != "$2" ]; then
    echo "fetch-memcached: SHA-256 mismatch for $3 ($1)" >&2
    echo "  expected $2" >&2
    echo "  got      $got" >&2
    echo "  refusing to use it; delete it or point to the right file." >&2
    exit 1
  fi
}

# 1. Offline tarballs given explicitly.
if [ -n "${MEMCACHED_ORIG_TARBALL:-}" ]; then
  [ -f "$MEMCACHED_ORIG_TARBALL" ] || { log "MEMCACHED_ORIG_TARBALL=$MEMCACHED_ORIG_TARBALL does not exist"; exit 1; }
  check_or_die "$MEMCACHED_ORIG_TARBALL" "$ORIG_SHA" "$ORIG"
  cp -f "$MEMCACHED_ORIG_TARBALL" "$CACHE/$ORIG.tmp" && mv -f "$CACHE/$ORIG.tmp" "$CACHE/$ORIG"
fi
if [ -n "${MEMCACHED_DEBIAN_TARBALL:-}" ]; then
  [ -f "$MEMCACHED_DEBIAN_TARBALL" ] || { log "MEMCACHED_DEBIAN_TARBALL=$MEMCACHED_DEBIAN_TARBALL does not exist"; exit 1; }
  check_or_die "$MEMCACHED_DEBIAN_TARBALL" "$DEB_SHA" "$DEB"
  cp -f "$MEMCACHED_DEBIAN_TARBALL" "$CACHE/$DEB.tmp" && mv -f "$CACHE/$DEB.tmp" "$CACHE/$DEB"
fi

if [ -z "$SUITE" ]; then
  # an unpinned release: the tarball was given and checked above
  if [ "${MCP_REQUIRE_DEBIAN:-0}" = 1 ]; then log "memcached $VERSION has no Debian source package to build from"; exit 1; fi
  log "using $CACHE/$ORIG (memcached $VERSION, SHA-256 $ORIG_SHA as given)"
  exit 0
fi

# A cached file with a wrong hash is a hard error, not silently replaced:
# something wrote there that should not have.
for pair in "$ORIG:$ORIG_SHA" "$DEB:$DEB_SHA"; do
  f=${pair%%:*}; s=${pair#*:}
  if [ -f "$CACHE/$f" ]; then check_or_die "$CACHE/$f" "$s" "$f (cached)"; fi
done

need_orig=1; need_deb=1
sha_ok "$CACHE/$ORIG" "$ORIG_SHA" && need_orig=0
sha_ok "$CACHE/$DEB" "$DEB_SHA" && need_deb=0
# The debian tarball is only needed for packaging; an offline build with just
# the orig tarball is fine unless MCP_REQUIRE_DEBIAN=1.
if [ $need_orig = 0 ]; then
  if [ $need_deb = 0 ]; then log "using cached tarballs in $CACHE"; exit 0; fi
  if [ -n "${MEMCACHED_ORIG_TARBALL:-}" ] && [ "${MCP_REQUIRE_DEBIAN:-0}" != 1 ]; then
    log "using $CACHE/$ORIG (offline; no debian tarball)"; exit 0
  fi
fi

# 3. Fetch through apt from the machine's configured Debian mirror.
command -v apt-get >/dev/null || { log "apt-get not found and no cached tarball: set MEMCACHED_ORIG_TARBALL"; exit 1; }

uris=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  uris=$(awk 'tolower($1)=="uris:" {for(i=2;i<=NF;i++) print $i}' /etc/apt/sources.list.d/debian.sources \
         | grep -v -- '-security' | head -1)
fi
if [ -z "$uris" ]; then
  uris=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
         | awk '$1=="deb" || $1=="deb-src" {for(i=2;i<=NF;i++) if ($i ~ /^(https?|file|mirror):/) {print $i; exit}}' \
         | grep -v -- '-security' | head -1 || true)
fi
[ -n "$uris" ] || { log "cannot find a Debian mirror in the system's apt sources; set MEMCACHED_ORIG_TARBALL"; exit 1; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

work=$(mktemp -d "$CACHE/apt.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/parts" "$work/lists/partial" "$work/archives/partial" "$work/dl"
{
  echo "Types: deb-src"
  echo "URIs: $uris"
  echo "Suites: $SUITE"
  echo "Components: main"
  [ -f "$keyring" ] && echo "Signed-By: $keyring"
} > "$work/parts/$SUITE-src.sources"

APT_OPTS=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/parts"
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives"
          -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
          -o APT::Sandbox::User=root -o Debug::NoLocking=1)
# apt's own output goes to a log; on success only our lines are printed.
aptlog="$CACHE/fetch-memcached.log"
: > "$aptlog"
what_to_do() {
  log "  check the network and the mirror in /etc/apt/sources.list.d/, or download the file"
  log "  yourself and give it with MEMCACHED_ORIG_TARBALL=FILE (and MEMCACHED_DEBIAN_TARBALL=FILE);"
  log "  it must have the SHA-256 pinned here: $ORIG $ORIG_SHA, $DEB $DEB_SHA"
}
log "looking up memcached $VERSION-$DEBREV in $SUITE's sources on $uris"
if ! apt-get "${APT_OPTS[@]}" -q update >>"$aptlog" 2>&1 || grep -q '^\(E\|Err\):' "$aptlog"; then
  log "could not read $SUITE's source index from $uris (apt's messages: $aptlog)"
  what_to_do
  exit 1
fi
# Only the two tarballs are fetched (by URI, with apt's own downloader and
# hash check): `apt-get source` would also fetch the .dsc, which some
# mirrors do not serve.
list=$(apt-get "${APT_OPTS[@]}" -qq --print-uris source "memcached=$VERSION-$DEBREV" 2>>"$aptlog") || list=""
got_orig=0
for pair in "$ORIG:$ORIG_SHA" "$DEB:$DEB_SHA"; do
  f=${pair%%:*}; s=${pair#*:}
  sha_ok "$CACHE/$f" "$s" && { [ "$f" = "$ORIG" ] && got_orig=1; continue; }
  uri=$(awk -v f="$f" '$2 == f { gsub("\047", "", $1); print $1 }' <<< "$list")
  if [ -z "$uri" ]; then
    log "$SUITE's sources on $uris list no $f (apt's messages: $aptlog)"
    continue
  fi
  if /usr/lib/apt/apt-helper -o APT::Sandbox::User=root download-file "$uri" "$work/dl/$f" "SHA256:$s" >>"$aptlog" 2>&1; then
    check_or_die "$work/dl/$f" "$s" "$f (downloaded)"
    mv -f "$work/dl/$f" "$CACHE/$f"
    log "downloaded and verified $f"
    [ "$f" = "$ORIG" ] && got_orig=1
  else
    log "could not download $f from $uri (apt's messages: $aptlog)"
  fi
done
if [ $got_orig = 0 ]; then
  log "could not obtain $ORIG"
  what_to_do
  exit 1
fi
if ! sha_ok "$CACHE/$DEB" "$DEB_SHA"; then
  if [ "${MCP_REQUIRE_DEBIAN:-0}" = 1 ]; then log "could not obtain $DEB (needed for packaging)"; what_to_do; exit 1; fi
  log "note: $DEB not obtained (only needed for packaging)"
fi
exit 0
