#!/usr/bin/env bash
# scripts/lib/conformance-status.sh, the rule test-arch and test-versions
# judge by: a file counts its retries, and a conformance run of ours whose
# nonzero status came only from files that then passed on a retry counts as
# passed (conf_ok_after_retries); anything else it failed still fails it.
# Fixture logs in the format of scripts/tests/conformance.sh. Under a second.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/lib/conformance-status.sh
. "$ROOT/scripts/lib/conformance-status.sh"
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
fail=0
check() { # what expected got
  if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: expected $2, got $3"; fail=1; fi
}
ok_after() { conf_ok_after_retries "$1" && echo yes || echo no; }
run() { # name: a first run with proxyustats.t failing, the rest passing
  {
    echo "PASS  proxyunits.t (288 assertions, 9s)"
    echo "FAIL  proxyustats.t (8 ok, 2 not ok, exit 2, 14s): see x.log"
    echo "memcached-debug: 1 passed, 1 failed (0 expected failures listed in xfail-memcached-debug.txt), 0 skipped; 288 assertions in passing files"
  } > "$D/$1.log"
}
retry() { # name try status
  echo "$3  proxyustats.t (10 assertions, 15s)" > "$D/$1.retry-$2-proxyustats.t.log"
}

run a; retry a 1 PASS
check "a failure that passed on its retry: the file passes" PASS "$(conf_status_of "$D/a.log" proxyustats.t)"
check "a failure that passed on its retry: the run passes" yes "$(ok_after "$D/a.log")"
check "the retry's assertions count" 10 "$(conf_asserts_of "$D/a.log" proxyustats.t)"

run b; retry b 1 FAIL; retry b 2 FAIL
check "failed on both retries: the file fails" FAIL "$(conf_status_of "$D/b.log" proxyustats.t)"
check "failed on both retries: the run fails" no "$(ok_after "$D/b.log")"

run c; retry c 1 FAIL; retry c 2 PASS
check "passed on the second retry: the run passes" yes "$(ok_after "$D/c.log")"

run d
check "no retry: the run fails" no "$(ok_after "$D/d.log")"

run e; retry e 1 PASS; sed -i '1i XPASS proxyfoo.t (3 assertions, 1s): listed in xfail-memcached-debug.txt but passes; remove it' "$D/e.log"
check "an XPASS besides a retried failure: the run fails" no "$(ok_after "$D/e.log")"

run f; retry f 1 PASS; sed -i '$i STALE proxygone.t is listed in xfail-memcached-debug.txt but does not exist' "$D/f.log"
check "a stale expected failure besides: the run fails" no "$(ok_after "$D/f.log")"

run g; retry g 1 PASS; sed -i '$d' "$D/g.log"
check "a run cut short (no summary line): the run fails" no "$(ok_after "$D/g.log")"

printf 'PASS  proxyunits.t (288 assertions, 9s)\nmemcached-debug: 1 passed, 0 failed (no expected-failures list), 0 skipped; 288 assertions in passing files\n' > "$D/h.log"
check "a nonzero status with no failed file (not the retries' to clear): fails" no "$(ok_after "$D/h.log")"

exit $fail
