#!/usr/bin/env bash
# `make deb-check SUITE=sid|trixie`: installs the packages `make deb` built
# into a fresh chroot of SUITE with apt (runtime dependencies from the
# mirror), starts the installed /usr/bin/memcached as a proxy on
# examples/proxy-example.lua with two backends (two more instances of the
# installed memcached), does a set/get round trip through the proxy, and
# runs the installed proxy-lua-check on that config and on a broken one, and
# shows that the installed binary carries proxy-lua-rs: its identification
# string, a check that fails on Debian's stock package (the control run,
# MCP_DEB_CHECK_STOCK=1, installs Debian's own memcached and must fail it).
#
# Then the package's autopkgtest (debian/tests/proxy, added by our source
# change) as Debian's CI runs it: the `autopkgtest` runner with the .dsc
# and the built .debs in a throwaway container of SUITE (virt-unshare, from
# the cached chroot tarball). For another architecture (ARCH=, the packages
# of `make deb ARCH=`) the same checks run in that architecture's chroot
# under qemu-user, and the autopkgtest script runs there directly.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SUITE="${1:-sid}"
# shellcheck source=scripts/lib/chroot.sh
. "$ROOT/scripts/lib/chroot.sh"
ARCH="${2:-$(host_arch)}"
OUT=$(deb_out "$ROOT" "$SUITE" "$ARCH")
FOREIGN=0
[ "$ARCH" = "$(host_arch)" ] || FOREIGN=1
STOCK="${MCP_DEB_CHECK_STOCK:-0}"
SFX=""; [ "$STOCK" = 1 ] && SFX="-stock"
[ "$(id -u)" = 0 ] || { echo "deb-check: needs root (chroot, mounts)" >&2; exit 1; }
t0=$(date +%s)
step() { echo "== deb-check [$SUITE/$ARCH$SFX] +$(elapsed "$t0")s: $*" >&2; }

CH="$OUT/check-chroot$SFX"
chroot_new_arch "$SUITE" "$ARCH" "$CH" || exit 1
mkdir -p "$CH/pkgs"
if [ "$STOCK" = 1 ]; then
  step "installing Debian's own memcached (control)"
  chroot_run "$CH" "apt-get -qq update && apt-get -y -q --no-install-recommends install memcached" >"$OUT/check-install$SFX.log" 2>&1 \
    || { tail -20 "$OUT/check-install$SFX.log" >&2; exit 1; }
else
  ls "$OUT"/memcached_*+proxyrs*.deb >/dev/null 2>&1 || { echo "deb-check: no package in $OUT: run 'make deb SUITE=$SUITE${ARCH:+ ARCH=$ARCH}'" >&2; exit 1; }
  cp "$OUT"/memcached_*+proxyrs*.deb "$CH/pkgs/"
  step "installing $(basename "$OUT"/memcached_*+proxyrs*.deb) with apt"
  chroot_run "$CH" "apt-get -qq update && apt-get -y -q --no-install-recommends install /pkgs/memcached_*.deb" \
    >"$OUT/check-install$SFX.log" 2>&1 || { tail -20 "$OUT/check-install$SFX.log" >&2; exit 1; }
fi
chroot_run "$CH" "dpkg-query -W -f='\${Package} \${Version}\n' memcached" | sed 's/^/  installed: /' >&2
cp "$ROOT/examples/proxy-example.lua" "$CH/tmp/"

cat > "$CH/tmp/check.sh" <<'EOF'
set -u
B1=11312; B2=11313; P=11211
/usr/bin/memcached -u root -l 127.0.0.1 -p $B1 -U 0 -m 64 & b1=$!
/usr/bin/memcached -u root -l 127.0.0.1 -p $B2 -U 0 -m 64 & b2=$!
/usr/bin/memcached -u root -l 127.0.0.1 -p $P -U 0 -t 2 \
  -o proxy_config=/tmp/proxy-example.lua,proxy_arg=b1_$B1:b2_$B2 2>/tmp/proxy.err & pp=$!
trap 'kill $b1 $b2 $pp 2>/dev/null' EXIT
up() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
for p in $B1 $B2 $P; do up $p || { echo "nothing listens on $p"; cat /tmp/proxy.err; exit 1; }; done
v="deb-check-$$"
# The proxy listens before its backend connections are up: a first request
# may get SERVER_ERROR; retry the set for up to 10 s. Every read has a
# timeout, so a silent proxy fails the check instead of hanging it.
exec 3<>/dev/tcp/127.0.0.1/$P
s=""
for _ in $(seq 50); do
  printf 'set k 0 0 %d\r\n%s\r\n' ${#v} "$v" >&3; IFS= read -t 10 -r s <&3 || s="(no answer in 10 s)"
  [ "${s%$'\r'}" = STORED ] && break
  echo "set k -> ${s%$'\r'} (backends not up yet?); retrying"; sleep 0.2
done
l1= l2= l3=
printf 'get k\r\n' >&3; IFS= read -t 10 -r l1 <&3
case "$l1" in VALUE*) IFS= read -t 10 -r l2 <&3; IFS= read -t 10 -r l3 <&3 ;; esac
exec 3>&-
echo "set k -> ${s%$'\r'}; get k -> ${l1%$'\r'} / ${l2%$'\r'} / ${l3%$'\r'}"
[ "${s%$'\r'}" = STORED ] && [ "${l2%$'\r'}" = "$v" ] || { echo "round trip FAILED"; cat /tmp/proxy.err; exit 1; }
# the value landed on exactly one backend
n=0
for b in $B1 $B2; do
  exec 4<>/dev/tcp/127.0.0.1/$b; printf 'get k\r\n' >&4; IFS= read -t 10 -r x <&4; exec 4>&-
  case "$x" in VALUE*) n=$((n+1)) ;; esac
done
echo "value stored on $n of 2 backends"
[ $n = 1 ] || exit 1
if [ -x /usr/bin/proxy-lua-check ]; then
  r=$(proxy-lua-check --arg b1_$B1:b2_$B2 /tmp/proxy-example.lua | tail -1) || { echo "proxy-lua-check FAILED"; exit 1; }
  echo "$r"
  printf 'function mcp_config_pools() return mcp.pool({}, { filter = "stop" }) end\n' > /tmp/broken.lua
  e=$(proxy-lua-check /tmp/broken.lua 2>&1); rc=$?
  echo "proxy-lua-check on a broken config: status $rc: $e"
  [ $rc = 1 ] || exit 1
  # a known upstream bug the checker warns about where it applies: the
  # default ring hash omode before 1.6.45 (docs/config-check.md)
  printf 'function mcp_config_pools() return mcp.pool({ mcp.backend("b", "127.0.0.1", 1) }, { dist = mcp.dist_ring_hash }) end\nfunction mcp_config_routes(p) end\n' > /tmp/ring.lua
  w=$(proxy-lua-check /tmp/ring.lua | tail -1) || { echo "proxy-lua-check FAILED on the ring hash config"; exit 1; }
  ver=$(memcached -V | sed -n 's/^memcached //p')
  echo "proxy-lua-check on a default-omode ring hash pool (memcached $ver): $w"
  if [ "$(printf '%s\n' "$ver" 1.6.45 | sort -V | head -1)" != 1.6.45 ]; then
    case "$w" in *"with 1 warning") ;; *) echo "  expected the ring hash warning"; exit 1 ;; esac
  else
    case "$w" in *": ok") ;; *) echo "  expected no warning"; exit 1 ;; esac
  fi
fi
if [ -x /usr/bin/proxy-lua-check ]; then
  # systemctl reload: the unit's ExecReload, run as systemd would (no systemd
  # in a chroot) on the proxy started above: a good config reloads, a broken
  # one is refused and the proxy keeps running
  unit=$(ls /usr/lib/systemd/system/memcached.service /lib/systemd/system/memcached.service 2>/dev/null | head -1)
  er=$(sed -n 's/^ExecReload=//p' "$unit")
  echo "$unit: ExecReload=$er"
  [ "$er" = '/usr/bin/proxy-lua-check --reload $MAINPID' ] || { echo "  expected ExecReload=/usr/bin/proxy-lua-check --reload \$MAINPID"; exit 1; }
  MAINPID=$pp
  r=$(eval "$er" 2>&1) || { echo "ExecReload of a good config FAILED: $r"; exit 1; }
  echo "ExecReload, good config: $(echo "$r" | tail -1)"
  cp /tmp/proxy-example.lua /tmp/proxy-example.lua.good
  printf 'function mcp_config_pools( return end\n' > /tmp/proxy-example.lua
  r=$(eval "$er" 2>&1); rc=$?
  cp /tmp/proxy-example.lua.good /tmp/proxy-example.lua
  echo "ExecReload, broken config: status $rc: $(echo "$r" | tail -1)"
  [ $rc = 1 ] && kill -0 $pp || { echo "  expected a refusal with the proxy still running"; exit 1; }
fi
id=$(grep -aoE 'proxy-lua-rs [0-9.]*: memcached proxy_lua.c in Rust( \([^)]*\))?' /usr/bin/memcached | head -1)
if [ -z "$id" ]; then echo "/usr/bin/memcached does not carry proxy-lua-rs"; exit 2; fi
echo "/usr/bin/memcached carries: $id"
EOF
step "proxy round trip through the installed /usr/bin/memcached (network unshared)"
set +e
chroot_run_offline "$CH" "bash /tmp/check.sh" 2>&1 | tee "$OUT/check$SFX.log" | sed 's/^/  /' >&2
rc=${PIPESTATUS[0]}
set -e
if [ "$STOCK" = 1 ]; then
  chroot_cleanup "$CH"
  if [ $rc = 2 ]; then step "control ok: Debian's stock memcached works as a proxy but fails the proxy-lua-rs check"; exit 0; fi
  step "control FAILED: expected the proxy-lua-rs check to fail on the stock package (status $rc)"; exit 1
fi
[ $rc = 0 ] || { chroot_cleanup "$CH"; step "FAILED (status $rc)"; exit 1; }
step "ok: installed, proxied a set/get round trip, carries proxy-lua-rs"

# The autopkgtest: the script the source package carries (debian/tests/proxy).
tsrc=$(ls -d "$OUT"/src/memcached-*/debian/tests 2>/dev/null | head -1)
[ -n "$tsrc" ] && [ -x "$tsrc/proxy" ] || { chroot_cleanup "$CH"; echo "deb-check: no debian/tests/proxy in $OUT/src (run 'make deb')" >&2; exit 1; }
if [ $FOREIGN = 1 ]; then
  step "autopkgtest debian/tests/proxy, run directly in the $ARCH chroot (network unshared)"
  cp "$tsrc/proxy" "$CH/tmp/autopkgtest-proxy"
  set +e
  chroot_run_offline "$CH" "mkdir -p /tmp/adt && AUTOPKGTEST_TMP=/tmp/adt bash /tmp/autopkgtest-proxy" 2>&1 \
    | tee "$OUT/autopkgtest.log" | sed 's/^/  /' >&2
  rc=${PIPESTATUS[0]}
  set -e
  chroot_cleanup "$CH"
  [ $rc = 0 ] || { step "autopkgtest proxy FAILED (status $rc)"; exit 1; }
  step "ok: autopkgtest proxy passed on $ARCH"
  exit 0
fi
chroot_cleanup "$CH"
step "autopkgtest (Debian's runner, virt-unshare on the $SUITE tarball): the .dsc's test 'proxy' against the built .debs"
command -v autopkgtest >/dev/null || { echo "deb-check: autopkgtest is not installed (scripts/build/prereqs.sh deb installs it)" >&2; exit 1; }
tb=$(chroot_tarball_adt "$SUITE") || exit 1
# virt-unshare maps root to a range of subordinate ids: give root one if it
# has none (a fresh machine's /etc/subuid lists only regular users)
for f in /etc/subuid /etc/subgid; do
  if ! grep -q '^root:' "$f" 2>/dev/null; then
    echo "root:100000:65536" >> "$f"
    echo "deb-check: added root:100000:65536 to $f (autopkgtest-virt-unshare needs subordinate ids)" >&2
  fi
done
rm -rf "$OUT/autopkgtest"
set +e
autopkgtest --output-dir "$OUT/autopkgtest" --test-name=proxy \
  "$OUT"/memcached_*+proxyrs*.dsc "$OUT"/memcached_*+proxyrs*.deb \
  -- unshare --release "$SUITE" --arch "$ARCH" --tarball "$tb" > "$OUT/autopkgtest.log" 2>&1
rc=$?
set -e
grep -E '^(proxy|daemon|client)' "$OUT/autopkgtest/summary" 2>/dev/null | sed 's/^/  summary: /' >&2 || true
if [ $rc != 0 ] || ! grep -qE '^proxy +PASS' "$OUT/autopkgtest/summary" 2>/dev/null; then
  tail -30 "$OUT/autopkgtest.log" >&2
  step "autopkgtest FAILED (status $rc; log: $OUT/autopkgtest.log)"; exit 1
fi
step "ok: autopkgtest proxy PASS ($OUT/autopkgtest/summary)"
