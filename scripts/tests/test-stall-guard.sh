#!/usr/bin/env bash
# scripts/lib/stall-guard.sh (around every emulated test-arch step and
# package build): a command whose processes use no CPU for the stall window
# is killed with all its processes and reported as 125; one that works
# keeps its own status, also when its busy part runs under coreutils'
# timeout (its own process group, the same session). A few seconds.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/lib/stall-guard.sh
. "$ROOT/scripts/lib/stall-guard.sh"
STALL_SECS=3; STALL_POLL=1
fail=0
check() { # what expected got
  if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: expected $2, got $3"; fail=1; fi
}

# a hang: a parent waiting on a child, neither using CPU (20 s: a guard
# that does not kill it returns 0 then, and the test fails)
hang() { sleep 20.017 & wait; }
export -f hang
t=$(date +%s)
guarded hang 2>/dev/null; rc=$?
check "a hung command is killed and reported" 125 $rc
secs=$(( $(date +%s) - t ))
if [ $secs -le 10 ]; then check "killed within the window (3 s, polled each 1 s)" yes yes
else check "killed within the window (3 s, polled each 1 s)" "<= 10 s" "$secs s"; fi
check "none of its processes is left" 0 "$(pgrep -fxc 'sleep 20.017')"

# work that ends: its own status, not killed
guarded sh -c 'exit 7'; check "a command's own status" 7 $?

# busy in a child under timeout (own process group, same session) for longer
# than the window, then done: not a stall
guarded sh -c 'timeout 10 sh -c "end=\$((\$(date +%s) + 5)); while [ \$(date +%s) -lt \$end ]; do :; done"; exit 3' 2>/dev/null
check "busy for longer than the window (under timeout): not killed" 3 $?

# guarded_log: a step that hangs once is run again, its first log kept
d=$(mktemp -d)
once() { [ -e "$1/ran" ] && { echo second; exit 5; }; touch "$1/ran"; echo first; sleep 20.017 & wait; }
export -f once
guarded_log "$d/step.log" once "$d" 2>/dev/null; rc=$?
check "a step that stalled once: the second run's status" "5 1" "$rc $STALLED"
check "its logs: the stalled run's and the second's" "first second" "$(head -1 "$d/step.stalled.log") $(cat "$d/step.log")"
rm -rf "$d"

[ $fail = 0 ] && echo "stall-guard: all passed" || { echo "stall-guard: FAILED"; exit 1; }
