#!/usr/bin/env python3
"""Compares the config thread's allocations, ours against the stock C build.

Starts each build with bench/large.lua (8 pools x 256 backends) under the
allocation injector in logging mode (tests/reliability/failalloc.c,
FAILALLOC_LOG; nothing is failed), reloads it once (SIGHUP),
stops it, and compares the sequence of malloc/calloc/realloc/free calls the
config thread ("mc-prx-config") made: operation and size, in order. The
config thread runs the config VM (mcp_config_pools: mcp.backend, mcp.pool,
...) and loads the routes into every worker VM, so this is everything the
library does at config time, through Lua's allocator and memcached's.

Why it must match: the collector is paced by the bytes allocated, and
glibc places each block by the sequence before it. The same sequence gives
the same heap as upstream's, page for page (docs/BENCHMARKS.md, RSS); a
different one moves table growth and string placement, and with them the
resident pages. Exit 1 and the first difference when the sequences differ.

Usage: alloc-sequence.py --ours TREE/memcached --stock STOCK/memcached
"""
import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import run  # noqa: E402  (bench/run.py: ports, the proxy command line, reload)


def log_calls(binary, so, out):
    """Runs binary under the logger: load, one reload; returns the config
    thread's calls. Every thread is logged with its id, and the config
    thread is picked by its name at the end: filtering by name while it
    runs would race with memcached naming the thread after it has started
    (and its first allocations, logger_create's, with it)."""
    tree = os.path.dirname(binary)
    cfg = os.path.join(ROOT, "bench", "large.lua")
    port = run.free_port()
    env = dict(os.environ, LD_PRELOAD=so, FAILALLOC_THREAD="", FAILALLOC_LOG=out)
    p = subprocess.Popen(run.proxy_cmd(tree, port, cfg, run.free_port(), 4),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        run.wait_port(port, p)
        run.reload_and_wait(port, p)  # returns once the process is idle
        tids = set()
        for t in os.listdir(f"/proc/{p.pid}/task"):
            with open(f"/proc/{p.pid}/task/{t}/comm") as f:
                if f.read().strip() == "mc-prx-config":
                    tids.add(t)
    finally:
        p.terminate()
        _, err = p.communicate()
    if p.returncode not in (0, -15):
        sys.stderr.write(err.decode(errors="replace"))
        raise SystemExit(f"alloc-sequence: {binary} exited with {p.returncode}")
    if len(tids) != 1:
        raise SystemExit(f"alloc-sequence: {binary}: {len(tids)} threads named mc-prx-config")
    with open(out) as f:
        return [line.split(" ", 1)[1] for line in f.read().splitlines() if line.split(" ", 1)[0] in tids]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--stock", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as td:
        so = os.path.join(td, "failalloc.so")
        subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", so,
                        os.path.join(ROOT, "tests", "reliability", "failalloc.c"), "-ldl", "-lpthread"],
                       check=True)
        ours = log_calls(a.ours, so, os.path.join(td, "ours.log"))
        stock = log_calls(a.stock, so, os.path.join(td, "stock.log"))
    if not ours or not stock:
        print(f"alloc-sequence: nothing logged (ours {len(ours)}, stock {len(stock)} calls)")
        return 1
    if ours == stock:
        print(f"alloc-sequence: the config thread made the same {len(ours):,} allocation calls "
              f"as the stock C build, in the same order (load and reload of bench/large.lua)")
        return 0
    i = next((k for k, (x, y) in enumerate(zip(ours, stock)) if x != y), min(len(ours), len(stock)))
    print(f"alloc-sequence: the config thread's allocations differ from the stock C build's at call {i:,} "
          f"(ours {len(ours):,} calls, stock {len(stock):,}):")
    lo = max(0, i - 5)
    print(f"  ours  [{lo}..]: {ours[lo:i + 6]}")
    print(f"  stock [{lo}..]: {stock[lo:i + 6]}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
