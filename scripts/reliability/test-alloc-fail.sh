#!/usr/bin/env bash
# Allocation-failure sweep (docs/RELIABILITY.md): with an LD_PRELOAD
# injector (tests/reliability/failalloc.c) that fails the N-th
# malloc/calloc/realloc of one thread (Lua allocates through realloc, so the
# N-th Lua allocation is among them):
#   1. config load: N over every allocation of the config thread
#      ("mc-prx-config") while it loads tests/reliability/alloc-config.lua;
#   2. requests: N over the allocations of the worker thread ("mc-worker")
#      while it serves one request through each route shape of that config.
# Each outcome is classified: ok (the failure was absorbed), refused (the
# config load failed with an error and memcached exited), lua-error
# (a request answered with an error), closed (memcached closed the client
# connection, its answer to an allocation failure in its own connection
# code), hang (not listening after two start-up waits of 4 s each, or no
# answer in 5 s; under valgrind 40 s), ok-slow-start (listening only in the
# second wait: a stalled machine; each thread's wait channel at the end of
# the first is kept in slow-*.threads), crash (a signal). A crash is
# attributed by the crashing stack the injector writes: with one of our
# frames innermost it is ours, otherwise it is a crash in upstream's C
# (memcached, libevent, Lua) that the stock C build shares, reported with
# its site.
# The same sweep runs on the stock C build for comparison. Fails on a crash
# in our code or a hang.
# With MEMCHECK=1 every sampled run is under valgrind memcheck (the leak and
# invalid-access half: an allocation failure must not leave a leak or a bad
# access behind); scripts/reliability/vg-attribute.py attributes each report, and a
# report of ours fails the sweep.
#
#   [MEMCHECK=1] scripts/reliability/test-alloc-fail.sh [STEP] [TREE] [STOCK_TREE]
# STEP samples every STEP-th N (default 1: all of them).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STEP="${1:-1}"
TREE="${2:-$ROOT/build/memcached-${MEMCACHED_VERSION:-1.6.45}}"
STOCK="${3:-}"
W="$ROOT/target/alloc-fail"; mkdir -p "$W"
SO="$W/failalloc.so"
cc -shared -fPIC -O1 -o "$SO" "$ROOT/tests/reliability/failalloc.c" -ldl -lpthread || exit 1
CFG="$ROOT/tests/reliability/alloc-config.lua"
user=(); [ "$(id -u)" = 0 ] && user=(-u root)
# ports below the kernel's ephemeral range (32768 up by default), so no
# client connection of another test can hold the one a start listens on
port=$(( 21000 + RANDOM % 11000 ))
MEMCHECK="${MEMCHECK:-0}"
UPN=200 RT=5 # start-up polls (of 20 ms) and request timeout, longer under valgrind
VGLOGS="$W/vg"; rm -rf "$VGLOGS"; mkdir -p "$VGLOGS"
vg=()
if [ "$MEMCHECK" = 1 ]; then
  UPN=2000 RT=40
  VGNOFILE=$(valgrind --tool=none bash -c 'ulimit -Hn' 2>/dev/null)
  case "$VGNOFILE" in ''|*[!0-9]*) echo "alloc-fail: cannot read valgrind's file limit" >&2; exit 1 ;; esac
  # nouserintercepts: memcheck must not replace the injector's malloc too
  vg=(valgrind --tool=memcheck --soname-synonyms=somalloc=nouserintercepts --leak-check=full
      --show-leak-kinds=definite --errors-for-leak-kinds=definite --num-callers=40)
fi

start() { # bin thread n skip report logtag -> sets PID, PORT
  PORT=$((port++)); [ $port -gt 32000 ] && port=21000
  local pre=() conns=()
  if [ ${#vg[@]} -gt 0 ]; then
    pre=("${vg[@]}" "--log-file=$VGLOGS/$6.%p")
    # memcached sets its fd limits (soft and hard) to -c; valgrind refuses
    # any hard limit but the one it leaves its client: ask for exactly that
    conns=(-c "$VGNOFILE")
  fi
  FAILALLOC_THREAD=$2 FAILALLOC_N=$3 FAILALLOC_SKIP=$4 FAILALLOC_REPORT=$5 LD_PRELOAD="$SO" \
    "${pre[@]}" "$1" "${user[@]}" -l 127.0.0.1 -p $PORT -U 0 -t 1 "${conns[@]}" \
    -o "proxy_config=$CFG,proxy_arg=b_$BPORT:alloc" >"$W/out" 2>&1 &
  PID=$!
}
up() { for _ in $(seq $UPN); do kill -0 $PID 2>/dev/null || return 1; (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && return 0; sleep 0.02; done; return 2; }
stop() { kill $PID 2>/dev/null; wait $PID 2>/dev/null; RC=$?; }
# whose code crashed: the injector writes the crashing thread's stack
# (FAILALLOC-FRAME object offset), resolved here with addr2line. Walking out
# from the fault past libc and the Lua VM, the first frame is the code at
# fault: Rust source (our library, or core/xxhash code linked into it) makes
# the crash ours; C makes it upstream's (memcached's proxy_*.c, libevent),
# which the stock C build shares even with our frames further out (ours
# calls e.g. a ring hash's constructor as proxy_lua.c does).
who() { # bin -> prints "ours: <frame>" or "upstream C: <frames>"
  local frames=() obj off fn loc
  while read -r _ obj off; do
    [ "$obj" = - ] && obj=$1
    case "$obj" in */failalloc.so) continue ;; esac
    { read -r fn; read -r loc; } < <(addr2line -f -C -e "$obj" "$(printf '%x' $((0x$off - 1)))" 2>/dev/null)
    case "$fn" in '??'|raise|abort|__GI_*|__libc_*|__pthread_kill*|__restore_rt|malloc_printerr) continue ;; esac
    case "$loc" in ./*|'??:'*|':?'*) continue ;; esac
    frames+=("$fn ${loc##*/}")
    case "$loc" in
      *.rs:*) echo "ours: $fn ${loc##*/}"; return ;;
      */vendor/lua/*|*/lua*/src/*) continue ;;
    esac
    # memcached's raise helpers: whoever called them raised
    case "$fn" in proxy_lua_error|proxy_lua_ferror) continue ;; esac
    break
  done < <(sed -n "/^FAILALLOC-CRASH/,\$p" "$W/out" | grep -a "^FAILALLOC-FRAME ")
  if [ ${#frames[@]} = 0 ]; then echo "upstream C: (no stack)"; else
    echo "upstream C: ${frames[-1]}"; fi
}
requests() { # one request per route shape; prints the replies
  timeout $RT bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT
    printf 'mg plain/k v\r\nmg log/k v\r\nget multi/a multi/b\r\nset stop/x|#|1 0 0 1\r\nv\r\nmg tags/{t}1 v\r\nmg internal/k v\r\nmn\r\n' >&3
    while IFS= read -r l <&3; do echo \"\$l\"; [ \"\${l%\$'\r'}\" = MN ] && break; done" 2>/dev/null
}

# a backend for the routes
BPORT=$((port++))
"$TREE/memcached" "${user[@]}" -l 127.0.0.1 -p $BPORT -U 0 -m 64 & BPID=$!
trap 'kill $BPID 2>/dev/null' EXIT
sleep 0.3

sweep() { # label bin phase
  local label=$1 bin=$2 phase=$3 thread skip=0 total n
  declare -A cnt=()
  if [ "$phase" = config ]; then thread=mc-prx-config; else thread=mc-worker; fi
  local tag=${label// /-}-$phase
  # how many allocations: config load, and worker start-up + load (under
  # valgrind when sweeping under it: the counts are of the same run shape)
  start "$bin" "$thread" 0 0 "$W/report" "$tag-count"; up; r=$?
  if [ "$phase" = requests ]; then
    stop; skip=$(cut -d' ' -f1 "$W/report")
    start "$bin" "$thread" 0 0 "$W/report" "$tag-count"; up; requests >/dev/null
  fi
  stop
  total=$(( $(cut -d' ' -f1 "$W/report") - skip ))
  [ $r = 0 ] || { echo "alloc-fail: $label: did not start without injection"; cat "$W/out"; return 1; }
  local crashes=() upstream=()
  for n in $(seq 1 "$STEP" "$total"); do
    start "$bin" "$thread" "$n" "$skip" "$W/report" "$tag-N$n"
    up; r=$?
    local slow=0
    if [ $r = 2 ]; then
      # not listening yet: note what each thread waits in, then give it as
      # long again (a stalled machine is not a hang)
      for t in /proc/$PID/task/*; do echo "$(cat $t/comm 2>/dev/null) $(cat $t/wchan 2>/dev/null)"; done \
        > "$W/slow-$tag-N$n.threads" 2>/dev/null
      up; r=$?; [ $r = 0 ] && slow=1
    fi
    local o
    if [ "$phase" = config ]; then
      if [ $r = 0 ]; then o=ok; stop; [ $RC -ge 128 ] && [ $RC -ne 143 ] && o=crash
      elif [ $r = 1 ]; then wait $PID 2>/dev/null; RC=$?; if [ $RC -ge 128 ]; then o=crash; else o=refused; fi
      else o=hang; stop; fi
    else
      if [ $r != 0 ]; then o="startup-failed"; stop
      else
        rep=$(requests); rr=$?
        if ! kill -0 $PID 2>/dev/null; then o=crash; wait $PID 2>/dev/null
        elif grep -q 'MN' <<< "$rep"; then
          if grep -q -E 'SERVER_ERROR|ERROR' <<< "$rep"; then o=lua-error; else o=ok; fi
          stop; [ $RC -ge 128 ] && [ $RC -ne 143 ] && o=crash
        elif [ $rr = 124 ]; then o=hang; stop
        else o=closed; stop; fi
      fi
    fi
    [ $slow = 1 ] && [ "$o" = ok ] && o=ok-slow-start
    if [ "$o" = crash ]; then
      local w; w=$(who "$bin")
      case "$w" in
        ours:*) crashes+=("N=$n: crash in $w") ;;
        *) o=crash-in-upstream-C; upstream+=("N=$n: $w") ;;
      esac
    elif [ "$o" = hang ]; then
      crashes+=("N=$n: hang: $(grep -m1 -a -E 'Assert|ERROR|error' "$W/out" | cut -c1-120) (threads: $W/slow-$tag-N$n.threads)")
    fi
    cnt[$o]=$(( ${cnt[$o]:-0} + 1 ))
  done
  local summary=""
  for k in "${!cnt[@]}"; do summary="$summary $k=${cnt[$k]}"; done
  echo "alloc-fail: $label, $phase: $total allocations on $thread, $(( (total + STEP - 1) / STEP )) sampled:$summary"
  for c in "${crashes[@]:0:8}"; do echo "  $c"; done
  # upstream's crash sites, each once
  printf '%s\n' "${upstream[@]}" | sed -E 's/^N=([0-9]+): upstream C: /\1 /' | sort -k2 -u | sort -n | head -8 \
    | while read -r n f; do [ -n "$n" ] && echo "  upstream C (first at N=$n): $f"; done
  [ ${#crashes[@]} = 0 ]
}

fail=0
[ "$MEMCHECK" = 1 ] && echo "alloc-fail: every sampled run under valgrind memcheck (logs: $VGLOGS)"
for b in memcached memcached-debug; do
  sweep "ours $b" "$TREE/$b" config || fail=1
  sweep "ours $b" "$TREE/$b" requests || fail=1
done
if [ -n "$STOCK" ]; then
  for b in memcached; do
    sweep "stock C $b" "$STOCK/$b" config || true
    sweep "stock C $b" "$STOCK/$b" requests || true
  done
fi
vg_summary() { # out logs... -> the records, counted; exit status of vg-attribute
  python3 "$ROOT/scripts/reliability/vg-attribute.py" "${@:2}" > "$1"; local vr=$?
  grep -v '^vg-attribute' "$1" | sed -E 's/  \[.*\]$//' | sort | uniq -c | sort -rn | head -20
  tail -1 "$1"
  return $vr
}
if [ "$MEMCHECK" = 1 ]; then
  # ours: fails on a report of ours; the stock build's are for comparison
  ours=$(ls -d "$VGLOGS"/* 2>/dev/null | grep -v '/stock')
  if [ -z "$ours" ]; then echo "alloc-fail: no run under valgrind" >&2; fail=1
  else vg_summary "$W/vg-ours.txt" $ours || fail=1; fi
  if ls "$VGLOGS" | grep -q '^stock'; then
    echo "stock C build under the same sweep:"
    vg_summary "$W/vg-stock.txt" "$VGLOGS"/stock* || true
  fi
fi
exit $fail
