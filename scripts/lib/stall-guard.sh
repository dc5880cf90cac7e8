# Sourced by scripts/tests/arch-inside.sh (inside an emulated chroot) and
# scripts/packaging/deb-build.sh (around an emulated package build).
#
# qemu-user can deadlock a multithreaded program's forked child before it
# execs (the child waits forever on a lock another thread held at fork;
# seen here: cargo test's second compile on arm64, both processes asleep
# on a futex, no CPU used for 20 minutes). `guarded CMD...` runs CMD in its
# own session; when the session's processes use no CPU at all for
# MCP_STALL_SECS (600) seconds, it kills them and returns 125. Nothing run
# through it idles that long when it works: builds and tests keep some
# process busy, and upstream's waits are seconds. (A session, not a
# process group: coreutils' timeout makes its own group, not its own
# session.)
#
#   guarded CMD...   CMD's status, or 125 after a stall (CMD may be an
#                    exported shell function)
#   guarded_log LOG CMD...  guarded, output to LOG; after a stall LOG
#                    becomes LOG's .stalled.log, it says so on stderr and
#                    runs CMD once more (after STALL_CLEANUP, a command,
#                    if set); STALLED=1 then
STALL_SECS="${MCP_STALL_SECS:-600}"
STALL_POLL="${MCP_STALL_POLL:-30}"   # seconds between two looks at its CPU time
session_stat() { # SID -> "PID TICKS" for each process of session SID
  local f line rest
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null < "$f" || continue
    rest=${line##*) }
    # shellcheck disable=SC2086
    set -- $rest
    [ "$4" = "$SID_WANT" ] && echo "${f//[!0-9]/} $(( ${12} + ${13} ))"
  done
  return 0
}
session_cpu() { session_stat | awk '{s += $2} END {print s + 0}'; }
guarded() {
  local pid last now idle=0 p i
  setsid bash -c '"$@"' guarded "$@" &
  pid=$!
  SID_WANT=$pid; last=$(session_cpu)
  while :; do
    for ((i = 0; i < STALL_POLL; i++)); do   # returns as soon as it ends
      kill -0 "$pid" 2>/dev/null || { wait "$pid"; return; }
      sleep 1
    done
    now=$(session_cpu)
    if [ "$now" = "$last" ]; then idle=$(( idle + STALL_POLL )); else idle=0; last=$now; fi
    if [ "$idle" -ge "$STALL_SECS" ]; then
      echo "== stalled: no CPU used for ${idle}s by the step's processes; killing them" >&2
      for p in $(session_stat | awk '{print $1}'); do kill -KILL "$p" 2>/dev/null; done
      wait "$pid" 2>/dev/null
      return 125
    fi
  done
}

guarded_log() {
  local log=$1 rc; shift
  STALLED=0
  guarded "$@" > "$log" 2>&1; rc=$?
  [ $rc = 125 ] || return $rc
  STALLED=1
  mv "$log" "${log%.log}.stalled.log"
  echo "== stalled (no CPU for ${STALL_SECS}s: a qemu-user fork deadlock); killed, running it again (stalled log: ${log%.log}.stalled.log)" >&2
  ${STALL_CLEANUP:-}
  guarded "$@" > "$log" 2>&1
}
