#!/usr/bin/env bash
# What a newcomer sees from `make run`, and the fetch's failures:
#   1. fetch-memcached.sh into an empty cache: succeeds, prints only its
#      own lines (no apt `E:`/`W:`/`Err:` line, nothing that reads as an
#      error);
#   2. without network (a network namespace with nothing in it) and an
#      empty cache: fails (status 1) with its own message saying what to do;
#   3. a tarball with the wrong SHA-256 given as MEMCACHED_ORIG_TARBALL:
#      fails, naming the mismatch;
#   4. `make run ONESHOT=1` (the tree already built): its whole output has
#      no error-looking line, and it ends with the round trip.
# Needs root for 2 (unshare -n).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VERSION="${MEMCACHED_VERSION:-1.6.45}"
fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bad_lines() { grep -E -i '^(E|W|Err):|error|fail|warning|denied|not found' || true; }

out=$(MCP_CACHE_DIR="$tmp/c1" MEMCACHED_VERSION=$VERSION "$ROOT/scripts/build/fetch-memcached.sh" 2>&1); rc=$?
b=$(bad_lines <<< "$out")
if [ $rc = 0 ] && [ -z "$b" ] && ls "$tmp"/c1/memcached_"$VERSION".orig.tar.xz >/dev/null 2>&1; then
  echo "ok    fetch into an empty cache: $(wc -l <<< "$out") lines, none error-looking"
else echo "FAIL  fetch into an empty cache (status $rc): ${b:-$out}"; fail=1; fi

if [ "$(id -u)" = 0 ]; then
  out=$(MCP_CACHE_DIR="$tmp/c2" MEMCACHED_VERSION=$VERSION unshare -n "$ROOT/scripts/build/fetch-memcached.sh" 2>&1); rc=$?
  if [ $rc = 1 ] && grep -q "could not" <<< "$out" && grep -q "MEMCACHED_ORIG_TARBALL" <<< "$out" && ! grep -q '^E:' <<< "$out"; then
    echo "ok    fetch without network fails clearly: $(grep -m1 'could not' <<< "$out")"
  else echo "FAIL  fetch without network (status $rc): $out"; fail=1; fi
else
  echo "skip  fetch without network (needs root for unshare -n)"
fi

cp "$tmp"/c1/memcached_"$VERSION".orig.tar.xz "$tmp/bad.tar.xz" && printf 'x' >> "$tmp/bad.tar.xz"
out=$(MCP_CACHE_DIR="$tmp/c3" MEMCACHED_VERSION=$VERSION MEMCACHED_ORIG_TARBALL="$tmp/bad.tar.xz" "$ROOT/scripts/build/fetch-memcached.sh" 2>&1); rc=$?
if [ $rc = 1 ] && grep -q "SHA-256 mismatch" <<< "$out"; then
  echo "ok    a tarball with the wrong hash is refused: $(grep -m1 'mismatch' <<< "$out")"
else echo "FAIL  wrong hash (status $rc): $out"; fail=1; fi

out=$(cd "$ROOT" && make --no-print-directory run ONESHOT=1 2>&1); rc=$?
b=$(bad_lines <<< "$out")
if [ $rc = 0 ] && [ -z "$b" ] && grep -q '^round trip ok' <<< "$out"; then
  echo "ok    make run ONESHOT=1: round trip ok, no error-looking line in $(wc -l <<< "$out") lines"
else echo "FAIL  make run ONESHOT=1 (status $rc): ${b:-$out}"; fail=1; fi
exit $fail
