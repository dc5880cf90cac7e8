#!/usr/bin/env bash
# `make test-versions DIR=...`: every upstream release in DIR
# (memcached-VERSION.tar.*, e.g. 1.6.36 to 1.6.44) plus Debian's two
# (1.6.38, 1.6.45, pinned), each built twice from its own tarball, with our
# library and stock C (its own proxy_lua.c); that version's own
# t/proxy*.t on both binaries of both builds. One table: version ×
# (files passed by ours and by stock C, assertions of each), both binaries.
# Passes when, for every release, ours equals stock C file for file
# (pass/fail/skip) with equal assertion counts in every passing file.
#
# A tarball's SHA-256 is taken from DIR/SHA256SUMS when there is one (and
# must match it); otherwise from the file itself, said so. Logs:
# build/versions/VERSION/; the table: build/versions/table.md.
# VERSIONS="1.6.40 1.6.45" limits the run to those. MCP_RESUME=1 completes
# a run that was cut short: per binary, only the files missing from its log
# are run (appended to it); complete logs are kept as they are.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR="${1:?usage: test-versions.sh DIR}"
OUT="$ROOT/build/versions"
CACHE="${MCP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-rs}"
mkdir -p "$OUT"
t0=$(date +%s)
say() { echo "== test-versions +$(( $(date +%s) - t0 ))s: $*" >&2; }

declare -A TB=() SHA=()
for f in "$DIR"/memcached-*.tar.*; do
  [ -f "$f" ] || continue
  v=$(basename "$f"); v=${v#memcached-}; v=${v%%.tar.*}
  TB[$v]=$f
  got=$(sha256sum "$f" | cut -d' ' -f1)
  if [ -f "$DIR/SHA256SUMS" ]; then
    want=$(awk -v n="$(basename "$f")" '$2 == n || $2 == "*"n {print $1}' "$DIR/SHA256SUMS")
    if [ -n "$want" ] && [ "$want" != "$got" ]; then
      echo "test-versions: $(basename "$f"): SHA-256 $got, but $DIR/SHA256SUMS says $want" >&2; exit 1
    fi
    [ -n "$want" ] || say "$(basename "$f") is not in $DIR/SHA256SUMS: using its own hash"
  fi
  SHA[$v]=$got
done
# Debian's two, pinned (fetched through apt if not cached)
for v in 1.6.38 1.6.45; do
  MEMCACHED_VERSION=$v "$ROOT/scripts/build/fetch-memcached.sh" || exit 1
  TB[$v]="$CACHE/memcached_$v.orig.tar.xz"; SHA[$v]=""
done
versions=$(printf '%s\n' "${!TB[@]}" | sort -V)
[ -n "${VERSIONS:-}" ] && versions=$(printf '%s\n' $VERSIONS | sort -V)
say "releases: $(echo $versions)"

# shellcheck source=scripts/lib/conformance-status.sh
. "$ROOT/scripts/lib/conformance-status.sh"

fail=0
rows=()
for v in $versions; do
  [ -n "${TB[$v]:-}" ] || { echo "test-versions: no tarball for $v" >&2; fail=1; continue; }
  L="$OUT/$v"; mkdir -p "$L"
  [ "${MCP_RESUME:-0}" = 1 ] || rm -f "$L"/*.retry-*.log "$L/differences.txt"
  envs=(MEMCACHED_VERSION=$v)
  [ -n "${SHA[$v]}" ] && envs+=(MEMCACHED_ORIG_TARBALL="${TB[$v]}" MEMCACHED_ORIG_SHA256="${SHA[$v]}")
  say "$v: building ours and stock C"
  if ! env "${envs[@]}" "$ROOT/scripts/build/build-tree.sh" > "$L/build-ours.log" 2>&1; then
    tail -20 "$L/build-ours.log" >&2; rows+=("| $v | build of ours FAILED | | | | |"); fail=1; continue
  fi
  if ! env "${envs[@]}" MCP_STOCK=1 "$ROOT/scripts/build/build-tree.sh" > "$L/build-stock.log" 2>&1; then
    tail -20 "$L/build-stock.log" >&2; rows+=("| $v | build of stock C FAILED | | | | |"); fail=1; continue
  fi
  ident=$(strings -a "$ROOT/build/memcached-$v/memcached" | grep -m1 -o 'proxy-lua-rs [0-9.]*: memcached proxy_lua.c in Rust ([^)]*)')
  echo "$ident" > "$L/ident.txt"
  tree_of() { if [ "$1" = stock ]; then echo "$ROOT/build/stock/memcached-$v"; else echo "$ROOT/build/memcached-$v"; fi; }
  for b in ours stock; do
    tree=$(tree_of $b)
    for which in memcached-debug memcached; do
      log="$L/conformance-$b-$which.log"
      conf() { env MEMCACHED_VERSION=$v MCP_TREE="$tree" MCP_XFAIL_FILE=/dev/null MCP_CONFORMANCE_LOGS="$L/logs-$b-$which" \
        "$ROOT/scripts/tests/conformance.sh" "$which" "$@"; }
      if [ "${MCP_RESUME:-0}" = 1 ] && [ -s "$log" ]; then
        # a run cut short (killed): run only the files its log lacks
        missing=()
        for f in "$tree"/t/proxy*.t; do
          f=$(basename "$f"); grep -qE "^(PASS|FAIL|XFAIL|XPASS|SKIP) +$f " "$log" || missing+=("$f")
        done
        [ ${#missing[@]} = 0 ] && { say "$v: $b $which: complete in $log"; continue; }
        say "$v: t/proxy*.t, $b $which: resuming with ${missing[*]}"
        conf "${missing[@]}" >> "$log" 2>&1
      else
        say "$v: t/proxy*.t, $b $which"
        conf > "$log" 2>&1
      fi
      tail -1 "$log" | sed 's/^/    /' >&2
    done
  done
  # a file the builds disagree on runs again (scripts/lib/conformance-status.sh)
  retry_file() { # build file try
    local tree; tree=$(tree_of "$1")
    say "$v: $2 failed on $1 $which only: again ($3)"
    env MEMCACHED_VERSION=$v MCP_TREE="$tree" MCP_XFAIL_FILE=/dev/null MCP_CONFORMANCE_LOGS="$L/logs-$1-$which-retry$3" \
      "$ROOT/scripts/tests/conformance.sh" "$which" "$2" > "$L/conformance-$1-$which.retry-$3-$2.log" 2>&1
  }
  for which in memcached-debug memcached; do
    conf_retry_disagreeing "$L" "$which" "$v" retry_file
  done
  cells=()
  same=1
  for which in memcached-debug memcached; do
    po=0; ps=0; ao=0; as=0
    files=$(conf_files "$L"/conformance-*-"$which".log)
    for f in $files; do
      o=$(conf_status_of "$L/conformance-ours-$which.log" "$f"); s=$(conf_status_of "$L/conformance-stock-$which.log" "$f")
      oa=$(conf_asserts_of "$L/conformance-ours-$which.log" "$f"); sa=$(conf_asserts_of "$L/conformance-stock-$which.log" "$f")
      [ "$o" = PASS ] && { po=$((po+1)); ao=$((ao+oa)); }
      [ "$s" = PASS ] && { ps=$((ps+1)); as=$((as+sa)); }
      if [ "$o" != "$s" ] || [ "${oa:-}" != "${sa:-}" ]; then
        same=0
        echo "test-versions: $v $which $f: ours $o${oa:+ ($oa)}, stock C $s${sa:+ ($sa)}" | tee -a "$L/differences.txt" >&2
      fi
    done
    n=$(wc -w <<< "$files")
    cells+=("$po/$n, $ps/$n" "$ao, $as")
  done
  [ $same = 1 ] || fail=1
  rows+=("| $v | ${cells[0]} | ${cells[1]} | ${cells[2]} | ${cells[3]} | $([ $same = 1 ] && echo yes || echo "**no**") |")
  # the trees take room; keep the logs
  [ "${MCP_KEEP_TREES:-1}" = 1 ] || case "$v" in 1.6.38|1.6.45) ;; *) rm -rf "$ROOT/build/memcached-$v" "$ROOT/build/stock/memcached-$v" ;; esac
done

{
  echo "| release | memcached-debug: files passed, ours / stock C | assertions, ours / stock C | memcached: files passed, ours / stock C | assertions, ours / stock C | equal, file for file |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} > "$OUT/table.md"
cat "$OUT/table.md"
say "$([ $fail = 0 ] && echo "ours equals stock C on every release" || echo FAILED) (logs: $OUT/VERSION/)"
exit $fail
