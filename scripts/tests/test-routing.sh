#!/usr/bin/env bash
# Keys through a real proxy, ours and the stock C build of the same tree
# side by side (scripts/tests/routing-probe.py: 216 pools, every dist, hash and
# filter; text get/set, meta mg/ms, base64 keys): every key must reach the
# same backend with both builds, and neither may crash.
#
#   scripts/tests/test-routing.sh TREE STOCK_TREE [KEYS_PER_POOL]
#
# On a tree whose proxy_lua.c is older than the release the library follows
# (its identification string says so), stock C has the key filter bugs
# upstream fixed since (1.6.38 crashes on a key with one '$' through
# filter_conf = "$$"; docs/RELIABILITY.md): there ours must survive and
# route every key, and stock C's outcome is reported, not compared.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TREE=${1:?usage: test-routing.sh TREE STOCK_TREE [KEYS_PER_POOL]}
STOCK=${2:?usage: test-routing.sh TREE STOCK_TREE [KEYS_PER_POOL]}
N=${3:-100}
OUT="$ROOT/target/routing"
mkdir -p "$OUT"
probe() { # tree name
  unshare -n sh -c 'ip link set lo up && exec "$@"' sh \
    python3 "$ROOT/scripts/tests/routing-probe.py" --bin "$1/memcached" --tree "$1" --keys-per-pool "$N" \
      --commands mg,mgb,ms,get,set --out "$OUT/$2.json" 2>&1 | grep -v "^routing-probe: leaving out"
  return "${PIPESTATUS[0]}"
}
ident=$(strings -a "$TREE/memcached" | grep -m1 -o 'behaviour of proxy_lua.c [0-9.]*; built for a tree whose proxy_lua.c is [0-9./a-z]*' || true)
behaviour=$(sed -n 's/^behaviour of proxy_lua.c \([0-9.]*\);.*/\1/p' <<< "$ident")
treerel=$(sed -n 's/.*proxy_lua.c is \(.*\)$/\1/p' <<< "$ident")
probe "$TREE" ours; rc_ours=$?
probe "$STOCK" stock; rc_stock=$?
case "/$treerel/" in
  */"$behaviour"/*)
    [ $rc_ours = 0 ] && [ $rc_stock = 0 ] || { echo "test-routing: FAIL (ours status $rc_ours, stock C status $rc_stock)"; exit 1; }
    python3 "$ROOT/scripts/tests/routing-probe.py" --compare "$OUT/stock.json" "$OUT/ours.json" ;;
  *)
    echo "test-routing: this tree's proxy_lua.c is $treerel's (the library follows $behaviour's): ours must survive and route every key; stock C's outcome above is upstream's"
    [ $rc_ours = 0 ] || { echo "test-routing: FAIL: ours (status $rc_ours)"; exit 1; }
    echo "test-routing: ours ok" ;;
esac
