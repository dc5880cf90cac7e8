#!/usr/bin/env bash
# Conformance runner: runs every upstream t/proxy*.t of the built tree
# against one binary, prints one line per file and a closing
# "N passed, N failed" line.
#
#   scripts/tests/conformance.sh [memcached-debug|memcached] [proxyfoo.t ...]
#
# Files that do not pass yet are listed, with the reason, in
# conformance/<memcached version>/expected-failures-<binary>.txt (format:
# "<file> <reason>"), holding only what upstream's C build fails too.
# The run fails when an unlisted file fails AND when a listed file passes
# (the list may only shrink). Upstream's t/ is never modified: the
# production binary is run through a shadow build dir whose
# `memcached-debug` is a wrapper that drops `-o relaxed_privileges` (an option
# only debug builds accept; the harness always adds it).
#
# Environment: MCP_TREE (the built tree), MCP_CONFORMANCE_TIMEOUT (seconds
# per file, default 240), MCP_CONFORMANCE_LOGS (log dir).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VERSION="${MEMCACHED_VERSION:-1.6.45}"
TREE="${MCP_TREE:-$ROOT/build/memcached-$VERSION}"
which="${1:-memcached-debug}"
shift || true
TIMEOUT="${MCP_CONFORMANCE_TIMEOUT:-240}"
LOGS="${MCP_CONFORMANCE_LOGS:-$ROOT/target/conformance/$VERSION/$which}"
# Per upstream version: each version's t/ is judged against its own list.
XFAIL_FILE="${MCP_XFAIL_FILE:-$ROOT/conformance/$VERSION/expected-failures-$which.txt}"

[ -x "$TREE/$which" ] || { echo "conformance: $TREE/$which not built (run 'make tree')" >&2; exit 2; }
TREE=$(cd "$TREE" && pwd)
mkdir -p "$LOGS"

case "$which" in
  memcached-debug) RUNDIR="$TREE" ;;
  memcached)
    # Shadow build dir: upstream's harness runs "$builddir/memcached-debug"
    # with cwd == builddir; here that name is a wrapper around `memcached`.
    RUNDIR="$ROOT/target/conformance/prod-harness-$$"
    trap 'rm -rf "$RUNDIR"' EXIT
    rm -rf "$RUNDIR"; mkdir -p "$RUNDIR"
    for f in "$TREE"/*; do
      case "$(basename "$f")" in memcached-debug) ;; *) ln -s "$f" "$RUNDIR/" ;; esac
    done
    cat > "$RUNDIR/memcached-debug" <<EOF
#!/usr/bin/env bash
# Wrapper: upstream's harness always adds "-o relaxed_privileges", which only
# memcached-debug accepts; drop it and run the production binary.
args=()
while [ \$# -gt 0 ]; do
  if [ "\$1" = "-o" ] && [ "\${2:-}" = "relaxed_privileges" ]; then shift 2; continue; fi
  args+=("\$1"); shift
done
exec "$TREE/memcached" "\${args[@]}"
EOF
    chmod +x "$RUNDIR/memcached-debug"
    ;;
  *) echo "usage: $0 [memcached-debug|memcached] [files...]" >&2; exit 2 ;;
esac

declare -A XFAIL=()
if [ -f "$XFAIL_FILE" ]; then
  while read -r f reason; do
    case "$f" in ''|'#'*) continue ;; esac
    XFAIL[$f]="$reason"
  done < "$XFAIL_FILE"
fi

# MCP_TEST_DIR: run another directory's tests the same way (our own tests/);
# default: upstream's t/proxy*.t, run as "t/<file>" like upstream does.
TESTDIR="${MCP_TEST_DIR:-}"
if [ $# -gt 0 ]; then files=("$@"); else
  files=()
  if [ -n "$TESTDIR" ]; then
    for f in "$TESTDIR"/*.t; do files+=("$(basename "$f")"); done
  else
    for f in "$TREE"/t/proxy*.t; do files+=("$(basename "$f")"); done
  fi
fi

passed=0; failed=0; skipped=0; xfailed=0; asserts=0; bad=0
for f in "${files[@]}"; do
  log="$LOGS/${f%.t}.log"
  start=$(date +%s)
  if [ -n "$TESTDIR" ]; then path="$TESTDIR/$f"; else path="t/$f"; fi
  ( cd "$RUNDIR" && timeout --kill-after=10 "$TIMEOUT" perl "$path" ) > "$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  n_ok=$(grep -c '^ok ' "$log")
  n_notok=$(grep -c '^not ok ' "$log")
  if grep -q '^1\.\.0 # SKIP' "$log"; then
    status=SKIP
  elif [ $rc -eq 0 ] && [ "$n_notok" -eq 0 ]; then
    status=PASS
  else
    status=FAIL
  fi
  reason="${XFAIL[$f]:-}"
  case "$status" in
    PASS)
      passed=$((passed+1)); asserts=$((asserts+n_ok))
      if [ -n "$reason" ]; then
        echo "XPASS $f ($n_ok assertions, ${secs}s): listed in $(basename "$XFAIL_FILE") but passes; remove it"
        bad=1
      else
        echo "PASS  $f ($n_ok assertions, ${secs}s)"
      fi ;;
    SKIP)
      skipped=$((skipped+1))
      echo "SKIP  $f ($(grep -m1 '^1\.\.0 # SKIP' "$log" | sed 's/^1\.\.0 # SKIP *//'))" ;;
    FAIL)
      failed=$((failed+1))
      if [ -n "$reason" ]; then
        xfailed=$((xfailed+1))
        echo "XFAIL $f ($n_ok ok, $n_notok not ok, exit $rc, ${secs}s): expected: $reason"
      else
        echo "FAIL  $f ($n_ok ok, $n_notok not ok, exit $rc, ${secs}s): see $log"
        bad=1
      fi ;;
  esac
done
# Listed files that were not run (e.g. removed upstream) also break the list.
for f in "${!XFAIL[@]}"; do
  found=0; for g in "${files[@]}"; do [ "$g" = "$f" ] && found=1; done
  if [ $found = 0 ] && [ $# -eq 0 ]; then echo "STALE $f is listed in $(basename "$XFAIL_FILE") but does not exist"; bad=1; fi
done
if [ -f "$XFAIL_FILE" ]; then listed="$xfailed expected failures listed in $(basename "$XFAIL_FILE")"; else listed="no expected-failures list"; fi
echo "$which: $passed passed, $failed failed ($listed), $skipped skipped; $asserts assertions in passing files"
exit $bad
