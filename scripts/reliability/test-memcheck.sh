#!/usr/bin/env bash
# valgrind memcheck on our own tests (tests/*.t) and a subset of upstream's
# proxy suite, with memcached-debug: no invalid access, no definite leak
# attributable to proxy-lua-rs. Runs the harness with a shadow build dir
# whose memcached-debug starts the real one under valgrind.
#   scripts/reliability/test-memcheck.sh [upstream test files...]
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VERSION="${MEMCACHED_VERSION:-1.6.45}"
TREE="$(cd "${MCP_TREE:-$ROOT/build/memcached-$VERSION}" && pwd)"
W="$ROOT/target/memcheck"; rm -rf "$W"; mkdir -p "$W/logs/own" "$W/logs/upstream" "$W/vg"
RUN="$W/harness"; mkdir -p "$RUN"
for f in "$TREE"/*; do case "$(basename "$f")" in memcached-debug) ;; *) ln -s "$f" "$RUN/" ;; esac; done
cat > "$RUN/memcached-debug" <<EOS
#!/usr/bin/env bash
exec valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
  --track-origins=no --num-callers=30 --log-file="$W/vg/vg.%p" "$TREE/memcached-debug" "\$@"
EOS
chmod +x "$RUN/memcached-debug"
upstream=("$@")
[ ${#upstream[@]} -gt 0 ] || upstream=(proxyconfig.t proxyunits.t proxyfuncgen.t proxyinternal.t proxyrequest.t proxyustats.t proxytags.t)
pass=0; failn=0
run() { # path label
  local log="$W/logs/$2.log"
  ( cd "$RUN" && timeout --kill-after=10 900 perl "$1" ) >"$log" 2>&1
  local rc=$?
  if [ $rc = 0 ] && ! grep -q '^not ok' "$log"; then pass=$((pass+1)); echo "PASS  $2 ($(grep -c '^ok' "$log") assertions)"
  else failn=$((failn+1)); echo "FAIL  $2 (exit $rc; under valgrind timing-sensitive tests may fail: see $log)"; fi
}
for t in "$ROOT"/tests/*.t; do run "$t" "own/$(basename "$t")"; done
for t in "${upstream[@]}"; do run "t/$t" "upstream/$t"; done
errs=0; leaks=0; ours=0; n=0
for f in "$W"/vg/vg.*; do
  [ -f "$f" ] || continue
  n=$((n+1))
  e=$(grep -m1 -o 'ERROR SUMMARY: [0-9]*' "$f" | awk '{print $3}')
  errs=$((errs + ${e:-0}))
  if grep -q 'definitely lost' "$f"; then
    l=$(grep -o 'definitely lost: [0-9,]* bytes' "$f" | head -1 | tr -dc 0-9); leaks=$((leaks + ${l:-0})); fi
  # a report of ours: an error or leak record with a frame of the library
  if awk '/^==[0-9]+== (Invalid|Conditional|Use of|Mismatched|Source and|.*definitely lost)/{rec=1} rec && /proxy_lua_rs|src\/mcplib|src\/host|src\/vm\.rs|src\/exports/{print; exit 1} /^==[0-9]+== $/{rec=0}' "$f"; then :; else ours=$((ours+1)); echo "  report involving proxy-lua-rs: $f"; fi
done
echo "memcheck: $pass test files passed, $failn failed under valgrind; $n processes checked, $errs errors, $leaks bytes definitely lost, $ours reports involving proxy-lua-rs (logs: $W/vg)"
# nothing checked is a failure, not a pass
[ "$n" -gt 0 ] || { echo "memcheck: no memcached process ran under valgrind" >&2; exit 1; }
[ $ours = 0 ]
