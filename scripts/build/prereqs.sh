#!/usr/bin/env bash
# Checks, before anything is built, that every tool and package a target
# needs is present. Run as root it installs what is missing through apt;
# otherwise it stops with one message that prints the exact `apt-get install`
# line. Called first by `make run`, `make test`, `make deb`, ...
#
#   scripts/build/prereqs.sh run|test|deb|bench|fuzz|arch [--check-only]
#
# MCP_NO_INSTALL=1 (or --check-only): never install, only report.
set -euo pipefail
what="${1:-test}"
check_only=0
[ "${2:-}" = "--check-only" ] && check_only=1
[ "${MCP_NO_INSTALL:-0}" = 1 ] && check_only=1
export PATH="$PATH:$HOME/.cargo/bin"

# Oldest Rust the crate builds with (Cargo.toml rust-version; trixie's rustc).
MSRV=1.85

missing_pkgs=()
missing_what=()
need() { # <description> <debian package> <test command...>
  local desc=$1 pkg=$2; shift 2
  if ! "$@" >/dev/null 2>&1; then
    missing_what+=("$desc")
    local p; for p in $pkg; do
      case " ${missing_pkgs[*]:-} " in *" $p "*) ;; *) missing_pkgs+=("$p") ;; esac
    done
  fi
}
have() { command -v "$1"; }
header() { # <header path relative to /usr/include> [more dirs]
  local h=$1; shift
  local d; for d in /usr/include /usr/include/x86_64-linux-gnu /usr/include/"$(gcc -print-multiarch 2>/dev/null || echo none)" "$@"; do
    [ -f "$d/$h" ] && return 0
  done
  return 1
}

# A cargo/rustc of at least MSRV, with clippy and rustfmt for `make lint`.
# Debian 12 (bookworm) ships 1.63 as `cargo`/`rustc` and a current toolchain
# as `cargo-web`/`rustc-web` (which installs /usr/bin/cargo); Debian 13
# (trixie) and later ship >= 1.85 as `cargo`/`rustc`.
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }
rust_pkgs() {
  local cand
  cand=$(apt-cache policy cargo 2>/dev/null | awk '/Candidate:/ {print $2}' | sed 's/+.*//')
  if [ -n "$cand" ] && [ "$cand" != "(none)" ] && version_ge "$cand" "$MSRV"; then
    echo "cargo rustc rust-clippy rustfmt"
  else
    echo "cargo-web rustc-web rust-web-clippy rustfmt-web"
  fi
}
cargo_ok() {
  local v
  v=$(cargo --version 2>/dev/null | awk '{print $2}') || return 1
  [ -n "$v" ] && version_ge "${v%%-*}" "$MSRV"
}

need "C compiler (gcc)" "build-essential" have gcc
need "make" "build-essential" have make
need "autoreconf, automake" "autoconf automake" sh -c 'command -v autoreconf && command -v automake && command -v aclocal'
need "pkg-config" "pkgconf" have pkg-config
need "libevent headers" "libevent-dev" header event2/event.h
need "OpenSSL headers" "libssl-dev" header openssl/ssl.h
need "perl" "perl" have perl
need "xz" "xz-utils" have xz
need "patch" "patch" have patch
need "nm, objdump" "binutils" sh -c 'command -v nm && command -v objdump'
need "apt-get (fetches memcached's source)" "apt" have apt-get
need "Debian archive keyring" "debian-archive-keyring" test -f /usr/share/keyrings/debian-archive-keyring.gpg
need "CA certificates" "ca-certificates" test -d /etc/ssl/certs
# Which Rust packages depends on the release (resolved after apt-get
# update, when installing): a placeholder until then.
RUST_PKGS="@rust@"
need "cargo and rustc >= $MSRV" "$RUST_PKGS" cargo_ok

case "$what" in
  run) ;;
  test)
    need "Lua 5.4 headers (the Debian system-Lua build)" "liblua5.4-dev" test -f /usr/include/lua5.4/lua.h
    need "cargo clippy" "$RUST_PKGS" cargo clippy --version
    need "cargo fmt" "$RUST_PKGS" cargo fmt --version
    need "valgrind (benchmarks, memcheck)" "valgrind" have valgrind
    need "python3 (unsafe report, fuzzing)" "python3" have python3
    need "pgrep (procps; the stall-guard test)" "procps" have pgrep
    need "clang with libFuzzer (key routing fuzzer)" "@clangrt@" sh -c \
      'printf "int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n" > /tmp/prereqs-fz.c && clang -fsanitize=fuzzer,address /tmp/prereqs-fz.c -o /tmp/prereqs-fz'
    ;;
  bench)
    need "valgrind" "valgrind" have valgrind
    need "python3 (report and plot)" "python3" have python3
    need "gnuplot (plot)" "gnuplot-nox" have gnuplot
    ;;
  fuzz)
    need "python3" "python3" have python3
    ;;
  deb)
    need "mmdebstrap" "mmdebstrap" have mmdebstrap
    need "arch-test (i386 chroots)" "arch-test" have arch-test
    need "unshare" "util-linux" have unshare
    need "ip (iproute2)" "iproute2" have ip
    need "dpkg-source" "dpkg-dev" have dpkg-source
    need "quilt" "quilt" have quilt
    need "dch" "devscripts" have dch
    need "autopkgtest (Debian's test runner)" "autopkgtest" have autopkgtest
    need "newuidmap (autopkgtest's unshare testbed)" "uidmap" have newuidmap
    ;;
  arch)
    need "mmdebstrap" "mmdebstrap" have mmdebstrap
    need "arch-test" "arch-test" have arch-test
    need "qemu-user (static, for chroots)" "qemu-user-static" test -d /usr/libexec/qemu-binfmt
    need "binfmt-support" "binfmt-support" have update-binfmts
    need "unshare" "util-linux" have unshare
    need "ip (iproute2)" "iproute2" have ip
    need "gdb-multiarch (reads the foreign binaries' DWARF)" "gdb-multiarch" have gdb-multiarch
    need "python3" "python3" have python3
    ;;
  *) echo "prereqs: unknown target '$what'" >&2; exit 2 ;;
esac

[ ${#missing_pkgs[@]} -eq 0 ] && exit 0

resolve() { # the package list with the Rust placeholder resolved
  local out=() p
  for p in "${missing_pkgs[@]}"; do
    if [ "$p" = "@rust@" ]; then
      for r in $(rust_pkgs); do case " ${out[*]:-} " in *" $r "*) ;; *) out+=("$r") ;; esac; done
    elif [ "$p" = "@clangrt@" ]; then
      # clang and the runtime (libFuzzer, sanitizers) of its major version
      local cv
      cv=$(apt-cache depends clang 2>/dev/null | sed -n 's/.*Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -1)
      out+=(clang "libclang-rt-${cv:-14}-dev")
    else
      out+=("$p")
    fi
  done
  echo "${out[*]}"
}
if [ "$(id -u)" = 0 ] && [ $check_only = 0 ] && command -v apt-get >/dev/null; then
  list=""; for w in "${missing_what[@]}"; do list="${list:+$list; }$w"; done
  echo "prereqs: missing for 'make $what': $list" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  read -r -a missing_pkgs <<< "$(resolve)"
  echo "prereqs: installing: apt-get install -y --no-install-recommends ${missing_pkgs[*]}" >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >&2
  exec "$0" "$what" --check-only
fi
line="apt-get install -y --no-install-recommends $(resolve)"
{
  echo "prereqs: 'make $what' needs what this machine lacks:"
  for w in "${missing_what[@]}"; do echo "  - $w"; done
  echo "Install it with (as root):"
  echo "  $line"
} >&2
exit 1
