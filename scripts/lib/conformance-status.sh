# shellcheck shell=bash
# A file's result in a conformance log (scripts/tests/conformance.sh output),
# counting its retries: LOG's siblings LOG-without-.log.retry-N-FILE.log.
# Timing-sensitive upstream files (proxylimits.t's mock backend, the reload
# watchers of proxyustats.t) can fail on a loaded or emulated machine with
# either build; test-versions and test-arch rerun a file the two builds
# disagree on, up to twice, on the build that failed it (conf_retry_disagreeing),
# and a file that then passes counts as passed. Both builds get the same rule,
# and every retry is listed in the run's differences.txt.

conf_status_of() { # LOG FILE -> PASS|FAIL|SKIP|-  (an expected failure is a FAIL)
  local l
  l=$(cat "$1" "${1%.log}".retry-*-"$2".log 2>/dev/null | grep -E "^(PASS|FAIL|XFAIL|XPASS|SKIP) +$2 " | awk '{print $1}' | sort -u | tr '\n' ' ')
  case " $l" in *" PASS "*|*" XPASS "*) echo PASS ;; *" SKIP "*) echo SKIP ;; *FAIL*) echo FAIL ;; *) echo "-" ;; esac
}

# conf_ok_after_retries LOG: LOG's run went to its end, has no XPASS or STALE
# line, and each file it FAILed passed on a retry: its nonzero status is then
# the first try's and the file counts as passed, as in the per-file table
conf_ok_after_retries() {
  local f
  tail -1 "$1" 2>/dev/null | grep -qE '^memcached(-debug)?: [0-9]+ passed' || return 1
  grep -qE '^(XPASS|STALE) ' "$1" && return 1
  grep -qE '^FAIL ' "$1" || return 1
  for f in $(grep -E '^FAIL ' "$1" | awk '{print $2}'); do
    [ "$(conf_status_of "$1" "$f")" = PASS ] || return 1
  done
}

conf_files() { # LOG... -> the upstream files they report on, one per line
  grep -hoE '^(PASS|FAIL|XFAIL|XPASS|SKIP) +proxy[a-z0-9_]*\.t' "$@" 2>/dev/null | awk '{print $2}' | sort -u
}

conf_asserts_of() { # LOG FILE -> assertions of its passing run
  cat "$1" "${1%.log}".retry-*-"$2".log 2>/dev/null | grep -E "^(PASS|XPASS) +$2 " | head -1 | sed -n 's/.*(\([0-9]*\) assertions.*/\1/p'
}

# conf_retry_disagreeing DIR WHICH LABEL RUN: DIR holds conformance-ours-WHICH.log
# and conformance-stock-WHICH.log; for each file whose results differ, calls
# `RUN BUILD FILE TRY` (which must write DIR/conformance-BUILD-WHICH.retry-TRY-FILE.log)
# for the build that failed it, at most twice, and appends one line per retry
# to DIR/differences.txt, prefixed with LABEL.
conf_retry_disagreeing() {
  local d=$1 which=$2 label=$3 run=$4 f try o s b st
  for f in $(conf_files "$d"/conformance-*-"$which".log); do
    for try in 1 2; do
      o=$(conf_status_of "$d/conformance-ours-$which.log" "$f"); s=$(conf_status_of "$d/conformance-stock-$which.log" "$f")
      [ "$o" = "$s" ] && break
      for b in ours stock; do
        st=$o; [ $b = stock ] && st=$s
        [ "$st" = FAIL ] || continue
        "$run" "$b" "$f" "$try"
        echo "$label $which $f: $b retry $try: $(grep -m1 -oE "^(PASS|FAIL|XFAIL|XPASS)" "$d/conformance-$b-$which.retry-$try-$f.log")" >> "$d/differences.txt"
      done
    done
  done
}
