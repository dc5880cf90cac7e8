# Sourced by scripts/packaging/deb-build.sh and scripts/packaging/deb-check.sh: clean Debian
# chroots from the machine's configured mirror, cached as tarballs outside
# the checkout, mounted and unmounted safely.
#
#   chroot_tarball SUITE      -> path of the cached buildd tarball (made once)
#   chroot_new SUITE DIR      -> unpack a fresh chroot into DIR, mount it
#   chroot_unpack TARBALL DIR -> the same from a given tarball
#   chroot_tarball_foreign SUITE ARCH -> a cached tarball of a chroot of
#                                another architecture (qemu-user), with the
#                                toolchain and build dependencies
#   ensure_qemu ARCH          -> qemu-user registered for ARCH, or one
#                                message saying why not
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

# Foreign architectures (qemu-user): Debian's architecture name of this
# machine, and whether ARCH runs here (through binfmt_misc), with one
# message naming what is missing otherwise.
host_arch() { dpkg --print-architecture; }

# Every package a foreign-architecture chroot needs, for both `make
# test-arch` (memcached's and the crate's build, upstream's tests, the
# crate's tests) and `make deb ARCH=` (our source package's Build-Depends),
# plus lintian: installed when the tarball is made, because dpkg and apt
# under emulation take tens of minutes, and a cached tarball pays that once.
FOREIGN_PKGS="ca-certificates,iproute2,git,python3,adduser,autoconf,automake,pkgconf,patch,xz-utils,\
perl,libevent-dev,libssl-dev,libsasl2-dev,liburing-dev,liblua5.4-dev,libio-socket-ssl-perl,\
cargo,rustc,librust-libc-dev,librust-xxhash-rust-dev,librust-cc-dev,debhelper,dh-cargo,lintian"

# qemu_cpu ARCH: the CPU model qemu-user emulates for ARCH, exported as
# QEMU_CPU (chroot_run passes it through its `env -i`); MCP_QEMU_CPU
# chooses another. Only arm64 gets one by default: Debian builds arm64 with
# -mbranch-protection=standard (dpkg-buildflags), so every function of
# libc and perl (and of memcached in `make deb`) signs and checks its
# return address, and qemu's default CPU ("max") computes those
# pointer-authentication codes with the QARMA5 cipher, emulated in
# software: a Perl loop ran 19.3 s here that way and 1.6 s with
# "max,pauth-impdef=on", which keeps every feature of "max" and pointer
# authentication itself (a wrong signature still fails) with qemu's cheap
# implementation-defined hash.
qemu_cpu() {
  local m="${MCP_QEMU_CPU:-}"
  [ -z "$m" ] && case "$1" in arm64) m="max,pauth-impdef=on" ;; esac
  if [ -z "$m" ]; then unset QEMU_CPU; return 0; fi
  export QEMU_CPU="$m"
  echo "qemu: $1 binaries run on the emulated CPU model QEMU_CPU=$QEMU_CPU" >&2
}

ensure_qemu() { # ARCH: make ARCH's binaries runnable here, or say exactly why not
  local arch=$1 probe
  [ "$arch" = "$(host_arch)" ] && return 0
  qemu_cpu "$arch"
  if command -v arch-test >/dev/null 2>&1 && arch-test "$arch" >/dev/null 2>&1; then return 0; fi
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || {
      echo "qemu: cannot run $arch binaries here: /proc/sys/fs/binfmt_misc is not mounted and mounting it failed (needs root on a kernel with binfmt_misc)" >&2
      return 1; }
  fi
  if ! dpkg -s qemu-user-static >/dev/null 2>&1 || ! dpkg -s binfmt-support >/dev/null 2>&1 || ! command -v arch-test >/dev/null; then
    echo "qemu: installing qemu-user-static binfmt-support arch-test (once)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support arch-test >&2 || {
      echo "qemu: cannot run $arch binaries here: installing qemu-user-static/binfmt-support failed" >&2; return 1; }
  fi
  update-binfmts --enable >/dev/null 2>&1 || true
  if ! arch-test "$arch" >/dev/null 2>&1; then
    probe=$(arch-test "$arch" 2>&1 | tail -1)
    echo "qemu: cannot run $arch binaries here (arch-test: $probe; binfmt handlers: $(ls /proc/sys/fs/binfmt_misc | grep -c qemu-) registered)" >&2
    return 1
  fi
}

# chroot_tarball_foreign SUITE ARCH -> path of the cached tarball of a
# foreign-architecture chroot with FOREIGN_PKGS installed (made once).
chroot_tarball_foreign() {
  local suite=$1 arch=$2 tb="$CACHE/chroots/$1-$2-dev.tar" m t
  mkdir -p "$CACHE/chroots"
  if [ ! -s "$tb" ]; then
    ensure_qemu "$arch" || return 1
    m=$(mirror_uri) || return 1
    t=$(date +%s)
    echo "chroot: creating the $suite $arch chroot tarball under emulation (mmdebstrap, once; tens of minutes; cached in $tb)" >&2
    rm -rf "$tb.tmp.tar"
    mmdebstrap --quiet --arch="$arch" --variant=buildd --components=main --include="$FOREIGN_PKGS" \
      --aptopt='Acquire::Check-Valid-Until "false"' \
      "$suite" "$tb.tmp.tar" "$m" >&2 || { rm -rf "$tb.tmp.tar"; echo "chroot: mmdebstrap $suite $arch failed" >&2; return 1; }
    mv "$tb.tmp.tar" "$tb"
    echo "chroot: $suite $arch tarball made in $(elapsed "$t") s" >&2
  fi
  echo "$tb"
}

# chroot_tarball_adt SUITE -> a tarball for autopkgtest's unshare testbed:
# apt's package lists kept (the runner installs the tests' Depends and
# makes a local repository of the .debs with apt-ftparchive, from
# apt-utils).
chroot_tarball_adt() {
  local suite=$1 tb="$CACHE/chroots/$1-autopkgtest.tar" m
  mkdir -p "$CACHE/chroots"
  if [ ! -s "$tb" ]; then
    echo "deb: creating the $suite autopkgtest tarball (mmdebstrap, once; cached in $tb)" >&2
    m=$(mirror_uri) || return 1
    rm -rf "$tb.tmp.tar"
    mmdebstrap --quiet --variant=apt --components=main --include=apt-utils,ca-certificates \
      --skip=cleanup/apt/lists --aptopt='Acquire::Check-Valid-Until "false"' \
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

# chroot_kill DIR: kill the processes whose root is DIR, and only those. A
# `pkill` run inside the chroot sees the whole machine's processes (one PID
# namespace) and would kill the host's memcached runs too.
chroot_kill() {
  local want p
  want=$(stat -L -c %d:%i "$1") || return 0
  for p in /proc/[0-9]*; do
    [ "$(stat -L -c %d:%i "$p/root" 2>/dev/null)" = "$want" ] && kill -9 "${p#/proc/}" 2>/dev/null
  done
  return 0
}

_chroot_cleanup_all() {
  local d
  for d in "${_CHROOTS[@]}"; do chroot_umount "$d"; done
}
trap _chroot_cleanup_all EXIT

chroot_new() {
  local suite=$1 d=$2 tb
  tb=$(chroot_tarball "$suite") || return 1
  chroot_unpack "$tb" "$d"
}

# deb_out ROOT SUITE ARCH -> where `make deb`'s results for SUITE/ARCH go
deb_out() {
  if [ "$3" = "$(host_arch)" ]; then echo "$1/build/deb/$2"; else echo "$1/build/deb/$2-$3"; fi
}

# chroot_new_arch SUITE ARCH DIR: a fresh chroot for building or checking
# packages: the buildd chroot of this machine's architecture, or another
# architecture's (qemu-user) cached one
chroot_new_arch() {
  local suite=$1 arch=$2 d=$3 tb
  if [ "$arch" = "$(host_arch)" ]; then
    chroot_new "$suite" "$d"
  else
    ensure_qemu "$arch" || return 1
    tb=$(chroot_tarball_foreign "$suite" "$arch") || return 1
    chroot_unpack "$tb" "$d"
  fi
}

chroot_unpack() { # TARBALL DIR: a fresh chroot from TARBALL, mounted
  local tb=$1 d=$2
  [ -e "$d" ] && { chroot_cleanup "$d" || return 1; }
  mkdir -p "$d"
  tar -xf "$tb" -C "$d"
  _CHROOTS+=("$d")
  mount -t proc proc "$d/proc"
  mount --rbind /dev "$d/dev"; mount --make-rslave "$d/dev"
  mount -t sysfs sysfs "$d/sys"
  mount -t tmpfs tmpfs "$d/tmp"
  cp /etc/resolv.conf "$d/etc/resolv.conf" 2>/dev/null || true
}

# Both pass QEMU_CPU (qemu_cpu) through `env -i`: each foreign binary is
# its own qemu process, which reads the model from its environment.
chroot_run() {
  local d=$1; shift
  chroot "$d" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive ${QEMU_CPU:+QEMU_CPU=$QEMU_CPU} /bin/sh -c "$*"
}

chroot_run_offline() {
  local d=$1; shift
  unshare -n /bin/sh -c 'ip link set lo up && exec chroot "$0" /usr/bin/env -i HOME=/root \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive ${QEMU_CPU:+QEMU_CPU=$QEMU_CPU} \
    /bin/sh -c "$1"' "$d" "$*"
}

elapsed() { # seconds since $1
  echo $(( $(date +%s) - $1 ))
}
