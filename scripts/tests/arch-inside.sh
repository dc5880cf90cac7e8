#!/usr/bin/env bash
# Run by scripts/tests/test-arch.sh inside a chroot of the architecture under test
# (from a clean clone of this checkout); not meant to be run by hand.
#
#   scripts/tests/arch-inside.sh build   with the network: ours and the stock C
#                                  build of the same tarball, crates fetched
#   scripts/tests/arch-inside.sh test    with only loopback (its own network
#                                  namespace): cargo tests, C tests, the
#                                  layout-mismatch test, our tests/*.t on
#                                  both binaries, upstream's t/proxy*.t on
#                                  both binaries of both builds, the routing
#                                  probe on both builds
#   scripts/tests/arch-inside.sh retry   loopback only, after `test`: a file
#                                  the two builds disagree on runs again, up
#                                  to twice, on the build that failed it
#                                  (scripts/lib/conformance-status.sh)
#
# Every step logs to target/arch/<step>.log and appends "<step> <status>
# <seconds>" to target/arch/steps.txt; one progress line per step.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
VERSION="${MEMCACHED_VERSION:?}"
export MEMCACHED_VERSION="$VERSION"
R="$ROOT/target/arch"
mkdir -p "$R"
ARCH=$(dpkg --print-architecture)
T0=$(date +%s)
# Under emulation a test file takes many times its native time.
export MCP_CONFORMANCE_TIMEOUT="${MCP_CONFORMANCE_TIMEOUT:-2400}"
TREE="build/memcached-$VERSION"
STOCK="build/stock/memcached-$VERSION"

# a step that stalls (a qemu-user fork deadlock) is killed and run once more
# shellcheck source=scripts/lib/stall-guard.sh
. "$ROOT/scripts/lib/stall-guard.sh"

timed() { # name cmd...: run, log, record
  local name=$1; shift
  local t=$(date +%s) rc
  echo "== arch [$ARCH] +$(( t - T0 ))s: $name ..."
  guarded_log "$R/$name.log" "$@"
  rc=$?
  [ "$STALLED" = 1 ] && echo "$name stalled $(( $(date +%s) - t ))" >> "$R/stalls.txt"
  local secs=$(( $(date +%s) - t ))
  echo "$name $rc $secs" >> "$R/steps.txt"
  if [ $rc = 0 ]; then
    echo "== arch [$ARCH] $name: ok (${secs}s)"
  else
    echo "== arch [$ARCH] $name: FAILED, status $rc (${secs}s); last lines of $name.log:"
    tail -15 "$R/$name.log" | sed 's/^/   | /'
  fi
  return 0
}

# Expected failures for ours: the version's list plus this architecture's
# own (conformance/VERSION/arch/ARCH/), which may only hold files the stock
# C build fails here too (test-arch.sh checks that).
xfail_for() { # which -> path of the merged list
  local which=$1 out="$R/xfail-$1.txt"
  : > "$out"
  for f in "conformance/$VERSION/expected-failures-$which.txt" "conformance/$VERSION/arch/$ARCH/expected-failures-$which.txt"; do
    [ -f "$f" ] && cat "$f" >> "$out"
  done
  echo "$out"
}

case "${1:-}" in
  build)
    rm -f "$R/steps.txt"
    echo "== arch [$ARCH]: $(uname -m) userland, $(rustc --version), $(gcc --version | head -1), perl $(perl -e 'print $^V')"
    timed build-ours scripts/build/build-tree.sh
    timed build-stock env MCP_STOCK=1 scripts/build/build-tree.sh
    # crates for the offline test phase (cargo tests, layout-mismatch)
    timed cargo-fetch cargo fetch --locked
    ;;
  test)
    timed cargo-test make --no-print-directory cargo-test
    timed c-tests make --no-print-directory c-tests
    timed layout-mismatch scripts/checks/test-layout-mismatch.sh memcached-debug
    for which in memcached-debug memcached; do
      timed "own-tests-$which" scripts/tests/own-tests.sh "$which"
    done
    for which in memcached-debug memcached; do
      timed "conformance-ours-$which" env MCP_XFAIL_FILE="$(xfail_for "$which")" \
        MCP_CONFORMANCE_LOGS="$R/logs/ours-$which" scripts/tests/conformance.sh "$which"
      timed "conformance-stock-$which" env MCP_TREE="$STOCK" MCP_XFAIL_FILE=/dev/null \
        MCP_CONFORMANCE_LOGS="$R/logs/stock-$which" scripts/tests/conformance.sh "$which"
    done
    for b in ours stock; do
      t="$TREE"; [ $b = stock ] && t="$STOCK"
      timed "routing-$b" python3 scripts/tests/routing-probe.py --bin "$t/memcached" --tree "$t" --skip-broken-filters \
        --keys-per-pool "${MCP_ROUTING_KEYS:-100}" --out "$R/routing-$b.json"
    done
    ;;
  retry)
    # shellcheck source=scripts/lib/conformance-status.sh
    . scripts/lib/conformance-status.sh
    rm -f "$R"/conformance-*.retry-*.log "$R/differences.txt"
    retry_file() { # build file try (of $which); the same expected failures as the first run
      local t="$TREE" x
      x=$(xfail_for "$which")
      [ "$1" = stock ] && { t="$STOCK"; x=/dev/null; }
      echo "== arch [$ARCH] +$(( $(date +%s) - T0 ))s: $2 failed on $1 $which only: again ($3)"
      env MCP_TREE="$t" MCP_XFAIL_FILE="$x" MCP_CONFORMANCE_LOGS="$R/logs/$1-$which-retry$3" \
        scripts/tests/conformance.sh "$which" "$2" > "$R/conformance-$1-$which.retry-$3-$2.log" 2>&1
      tail -2 "$R/conformance-$1-$which.retry-$3-$2.log" | sed 's/^/   | /'
    }
    for which in memcached-debug memcached; do
      conf_retry_disagreeing "$R" "$which" "$ARCH" retry_file
    done
    ;;
  *) echo "usage: $0 build|test|retry" >&2; exit 2 ;;
esac
