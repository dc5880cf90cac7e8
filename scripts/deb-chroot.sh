# Sourced by scripts/deb-build.sh and scripts/deb-check.sh: clean Debian
# chroots from the machine's configured mirror, cached as tarballs outside
# the checkout, mounted and unmounted safely.
#
#   chroot_tarball SUITE      -> path of the cached buildd tarball (made once)
#   chroot_new SUITE DIR      -> unpack a fresh chroot into DIR, mount it
#   chroot_run DIR CMD...     -> run CMD (a shell string) in it, network on
#   chroot_run_offline DIR CMD... -> the same in a new network namespace
#                                with only `lo`, brought up
#   chroot_cleanup DIR        -> unmount (on exit as well) and delete
# Needs root, mmdebstrap, unshare, ip.

CACHE="${MCP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-rs}"
declare -a _CHROOTS=()

mirror_uri() {
  local u=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    u=$(awk 'tolower($1)=="uris:" {for(i=2;i<=NF;i++) print $i}' /etc/apt/sources.list.d/debian.sources \
        | grep -v -- '-security' | head -1)
  fi
  if [ -z "$u" ]; then
    u=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | awk '$1=="deb" {for(i=2;i<=NF;i++) if ($i ~ /^(https?|file):/) {print $i; exit}}' | head -1 || true)
  fi
  [ -n "$u" ] || { echo "deb: no Debian mirror in the system's apt sources" >&2; return 1; }
  echo "$u"
}

chroot_tarball() {
  local suite=$1 tb="$CACHE/chroots/$1-buildd.tar"
  mkdir -p "$CACHE/chroots"
  if [ ! -s "$tb" ]; then
    echo "deb: creating the $suite chroot tarball (mmdebstrap, once; cached in $tb)" >&2
    local m
    m=$(mirror_uri) || return 1
    rm -rf "$tb.tmp.tar"
    # Check-Valid-Until off: a mirror that is a dated snapshot serves
    # Release files past their Valid-Until (kept in the chroot's apt config).
    mmdebstrap --quiet --variant=buildd --components=main --include=ca-certificates,iproute2 \
      --aptopt='Acquire::Check-Valid-Until "false"' \
      "$suite" "$tb.tmp.tar" "$m" >&2 || { rm -rf "$tb.tmp.tar"; echo "deb: mmdebstrap failed" >&2; return 1; }
    mv "$tb.tmp.tar" "$tb"
  fi
  echo "$tb"
}

chroot_umount() {
  local d=$1 m
  # deepest first
  for m in $(awk -v d="$d" '$2 ~ "^"d"/" {print $2}' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}

chroot_cleanup() {
  local d=$1
  chroot_umount "$d"
  if awk -v d="$d" '$2 ~ "^"d"/" {found=1} END {exit !found}' /proc/mounts; then
    echo "deb: $d still has mounts; not deleting it" >&2
    return 1
  fi
  rm -rf --one-file-system "$d"
}

_chroot_cleanup_all() {
  local d
  for d in "${_CHROOTS[@]}"; do chroot_umount "$d"; done
}
trap _chroot_cleanup_all EXIT

chroot_new() {
  local suite=$1 d=$2 tb
  tb=$(chroot_tarball "$suite") || return 1
  [ -e "$d" ] && chroot_cleanup "$d"
  mkdir -p "$d"
  tar -xf "$tb" -C "$d"
  _CHROOTS+=("$d")
  mount -t proc proc "$d/proc"
  mount --rbind /dev "$d/dev"; mount --make-rslave "$d/dev"
  mount -t sysfs sysfs "$d/sys"
  mount -t tmpfs tmpfs "$d/tmp"
  cp /etc/resolv.conf "$d/etc/resolv.conf" 2>/dev/null || true
}

chroot_run() {
  local d=$1; shift
  chroot "$d" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive /bin/sh -c "$*"
}

chroot_run_offline() {
  local d=$1; shift
  unshare -n /bin/sh -c 'ip link set lo up && exec chroot "$0" /usr/bin/env -i HOME=/root \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive /bin/sh -c "$1"' "$d" "$*"
}

elapsed() { # seconds since $1
  echo $(( $(date +%s) - $1 ))
}
