#!/usr/bin/env bash
# The verdict of `make test-arch` (scripts/tests/test-arch.sh), from the
# logs it collected; rerunnable on them:
#   scripts/tests/arch-report.sh OUT VERSION SUITE ARCH [CHROOT]
# OUT is build/arch/SUITE-ARCH (logs/ inside); CHROOT, while it still holds
# the built trees, measures the layout probe against the binaries' DWARF
# (kept in logs/layout-vs-dwarf.txt; without CHROOT that record is read).
# Writes OUT/summary.txt; exit status 0 when ours equals stock C file for
# file, every other step passed and the routing is identical.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:?usage: arch-report.sh OUT VERSION SUITE ARCH [CHROOT]}
VERSION=${2:?}; SUITE=${3:?}; ARCH=${4:?}; CH=${5:-}
R="$OUT/logs"
HOSTARCH=$(dpkg --print-architecture)
: > "$OUT/summary.txt"
fail=0
sum() { echo "$*" | tee -a "$OUT/summary.txt"; }
sum "test-arch: memcached $VERSION on $SUITE/$ARCH"
sum ""
# a file's result counts its retries (scripts/lib/conformance-status.sh)
# shellcheck source=scripts/lib/conformance-status.sh
. "$ROOT/scripts/lib/conformance-status.sh"
sum "steps (status, seconds):"
while read -r name rc secs; do
  st=ok; [ "$rc" = 0 ] || st="FAILED($rc)"
  case "$name" in
    conformance-stock-*) ;;   # stock's own failures are the reference, not a verdict
    conformance-ours-*)       # the per-file table below judges; a retry's pass counts
      if [ "$rc" != 0 ]; then
        if conf_ok_after_retries "$R/$name.log"; then st="ok on retry"; else fail=1; fi
      fi ;;
    *) [ "$rc" = 0 ] || fail=1 ;;
  esac
  sum "  $(printf '%-32s %s %6ss' "$name" "$st" "$secs")"
done < "$R/steps.txt"
if [ -s "$R/stalls.txt" ]; then
  sum "  stalled (its processes used no CPU: a qemu-user fork deadlock), killed and run again; the status above is the second run's:"
  sum "$(awk '{printf "    %s after %ss\n", $1, $3}' "$R/stalls.txt")"
fi

# per-file table: ours next to stock, both binaries
sum ""
sum "upstream t/proxy*.t ($VERSION), $SUITE/$ARCH: ours | stock C"
sum "$(printf '  %-26s %-22s %-22s' file memcached-debug memcached)"
files=$(conf_files "$R"/conformance-*.log)
declare -A np=()
for f in $files; do
  row=""
  for which in memcached-debug memcached; do
    o=$(conf_status_of "$R/conformance-ours-$which.log" "$f"); s=$(conf_status_of "$R/conformance-stock-$which.log" "$f")
    oa=$(conf_asserts_of "$R/conformance-ours-$which.log" "$f"); sa=$(conf_asserts_of "$R/conformance-stock-$which.log" "$f")
    cell="$o${oa:+($oa)} | $s${sa:+($sa)}"
    [ "$o" = PASS ] && np[ours-$which]=$(( ${np[ours-$which]:-0} + 1 ))
    [ "$s" = PASS ] && np[stock-$which]=$(( ${np[stock-$which]:-0} + 1 ))
    if [ "$o" != "$s" ] || { [ "$o" = PASS ] && [ "$oa" != "$sa" ]; }; then cell="$cell  <- DIFFERS"; fail=1; fi
    row="$row$(printf '%-22s ' "$cell")"
  done
  sum "$(printf '  %-26s %s' "$f" "$row")"
done
if [ -s "$R/differences.txt" ]; then
  sum "  run again because the builds disagreed (at most twice, on the build that failed it):"
  sum "$(sed 's/^/    /' "$R/differences.txt")"
fi
for which in memcached-debug memcached; do
  sum "  $which: ours passed ${np[ours-$which]:-0}, stock C passed ${np[stock-$which]:-0}"
done
# an architecture's expected failure must be one stock C fails here too
for which in memcached-debug memcached; do
  af="$ROOT/conformance/$VERSION/arch/$ARCH/expected-failures-$which.txt"
  [ -f "$af" ] || continue
  while read -r f _; do
    case "$f" in ''|'#'*) continue ;; esac
    if [ "$(conf_status_of "$R/conformance-stock-$which.log" "$f")" = PASS ]; then
      sum "  $f is listed in $af but stock C passes it here: remove it"; fail=1
    fi
  done < "$af"
done

# own tests
sum ""
for which in memcached-debug memcached; do
  sum "our tests/*.t on $which: $(tail -1 "$R/own-tests-$which.log" 2>/dev/null)"
done
sum "cargo tests: $(grep -h '^test result' "$R/cargo-test.log" 2>/dev/null | tr '\n' ' ')"

# routing: both builds there, both builds here
sum ""
if [ -s "$R/routing-ours.json" ] && [ -s "$R/routing-stock.json" ]; then
  r=$(python3 "$ROOT/scripts/tests/routing-probe.py" --compare "$OUT/routing-$HOSTARCH-stock.json" \
      "$OUT/routing-$HOSTARCH-ours.json" "$R/routing-stock.json" "$R/routing-ours.json" 2>&1) || fail=1
  sum "routing probe (stock C and ours on $HOSTARCH, stock C and ours on $ARCH):"
  sum "$(echo "$r" | sed 's/^/  /')"
else
  sum "routing probe: no report from $ARCH"; fail=1
fi

# layout: what the probe measured against the DWARF of the built binaries;
# measured while CHROOT holds the trees, kept in logs/layout-vs-dwarf.txt
# (binary, struct, probe, DWARF) for a rerun on the logs alone
sum ""
sum "layout probe vs DWARF of the built binaries (sizeof, bytes):"
LAY="$R/layout-vs-dwarf.txt"
if [ -n "$CH" ]; then
  : > "$LAY"
  for which in memcached-debug memcached; do
    pf=$(ls "$CH/root/proxy-lua-rs/build/memcached-$VERSION/proxy-lua-rs-build/$which"/*/release/build/proxy-lua-rs-*/out/mcp_layout_probe.txt \
            "$CH/root/proxy-lua-rs/build/memcached-$VERSION/proxy-lua-rs-build/$which"/release/build/proxy-lua-rs-*/out/mcp_layout_probe.txt 2>/dev/null | head -1)
    bin="$CH/root/proxy-lua-rs/build/memcached-$VERSION/$which"
    [ -n "$pf" ] && [ -x "$bin" ] || continue
    for st in "struct timeval" "struct timespec" "struct proxy_tunables" "mcp_pool_t" "mcp_backend_t" "struct proxy_logging"; do
      p=$(awk -F'\t' -v s="$st" '$1=="struct" && $2==s {print $3}' "$pf")
      d=$(gdb-multiarch -batch -ex "print sizeof($st)" "$bin" 2>/dev/null | sed -n 's/^\$[0-9]* = //p')
      printf '%s\t%s\t%s\t%s\n' "$which" "$st" "$p" "$d" >> "$LAY"
    done
  done
fi
for which in memcached-debug memcached; do
  if ! grep -q "^$which	" "$LAY" 2>/dev/null; then sum "  $which: no probe output or binary"; fail=1; continue; fi
  line="  $which:"
  while IFS=$'\t' read -r w st p d; do
    [ "$w" = "$which" ] || continue
    line="$line $st=$p"
    if [ -z "$d" ]; then line="$line(DWARF ?)"; elif [ "$p" != "$d" ]; then line="$line(DWARF $d: DIFFERS)"; fail=1; fi
  done < "$LAY"
  sum "$line"
done
sum ""
grep -h "libc crate's time_t" "$R/layout-mismatch.log" 2>/dev/null | sed 's/^/  /' | tee -a "$OUT/summary.txt" >&2 || true

exit $fail
