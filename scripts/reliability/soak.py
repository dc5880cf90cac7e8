#!/usr/bin/env python3
"""`make test-soak`: config reloads under load.

A proxy (4 worker threads) in front of three backend memcached instances
serves a bounded pipelined load (sets, gets, 5-key multigets; 4 client
processes, 16 requests in flight each) while the config is reloaded RELOADS
times (SIGHUP), cycling through configs that add, drop and change
backends, pools, filters and tunables (tests/reliability/soak-*.lua, copied
in turn over the file the proxy loads).

Checked and reported:
  - failed or wrong responses: any reply that is not the right kind for its
    request (STORED for a set, VALUE/END for a get), and any value that is
    not the one the client stored under that key (a miss is allowed: a
    reload may route a key to another backend);
  - RSS after warm-up vs after the last reload (the same config loaded);
  - proxy_backend_total: sampled every 25 reloads (a previous config's
    backends go only once every worker VM has collected its pool proxies,
    which its incremental GC does at its own pace under load, in the C build
    too: a sample may still count them), and after the last reload, still
    under load, it must come back to config A's own within 60 s (a leaked
    backend never does);
  - open file descriptors (/proc/PID/fd) after warm-up vs at the end.
The same soak on the stock C build gives the figures to compare with.

RSS is measured after a warm-up of WARMUP reloads (default: a tenth of
RELOADS, at least 9): glibc's per-thread arenas and Lua's heaps reach their
working size over the first reloads; RSS is printed every 100 reloads so a
leak shows as a trend.

Usage: scripts/reliability/soak.py --bin MEMCACHED [--reloads N] [--warmup N] [--backend-bin BIN]
"""
import argparse
import multiprocessing
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from mctest import Reader, free_port, nfds, rss_kib  # noqa: E402
from mctest import wait_port as mc_wait_port  # noqa: E402
from mctest import stats as mc_stats  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CONFIGS = ["soak-a.lua", "soak-b.lua", "soak-c.lua"]
# proxy_backend_total each config settles on with 4 worker threads:
# A: 2 backends per worker; B: 5 labels (b2, b3 twice: "f" prefix) per
# worker; C: 2 on the IO thread.
EXPECTED_TOTAL = {"soak-a.lua": 8, "soak-b.lua": 20, "soak-c.lua": 2}
USER = ["-u", "root"] if os.geteuid() == 0 else []


def wait_port(port, proc, timeout=30):
    """mctest.wait_port, raising instead of returning False."""
    if not mc_wait_port(port, proc, timeout):
        raise RuntimeError("exited before listening" if proc.poll() is not None else "not listening")


def stats(port, group=""):
    """`stats [group]` as a dict; OSError when the proxy does not answer."""
    r = mc_stats(port, group, timeout=10)
    if r is None:
        raise OSError(f"no answer to stats {group}")
    return r


def vm_kib(port):
    """Lua memory of the worker VMs (`stats proxy` vm_memory_kb)."""
    return int(stats(port, "proxy").get("vm_memory_kb", "-1"))


def client(args):
    """Pipelined load until `stop` exists; returns (requests, failures,
    examples)."""
    port, idx, stopfile, depth = args
    rnd = random.Random(idx)
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    r = Reader(s)
    values = {}
    pending = []
    n = fails = 0
    examples = []

    def fail(msg):
        nonlocal fails
        fails += 1
        if len(examples) < 5:
            examples.append(msg)

    while not os.path.exists(stopfile) or pending:
        while len(pending) < depth and not os.path.exists(stopfile):
            k = rnd.randrange(200)
            key = f"c{idx}/k{k}".encode()
            op = rnd.random()
            if op < 0.3:
                v = f"v{rnd.randrange(10**9)}".encode()
                s.sendall(b"set %s 0 0 %d\r\n%s\r\n" % (key, len(v), v))
                pending.append(("set", [key], v))
            elif op < 0.8:
                s.sendall(b"get %s\r\n" % key)
                pending.append(("get", [key], None))
            else:
                keys = [f"c{idx}/k{rnd.randrange(200)}".encode() for _ in range(5)]
                s.sendall(b"get " + b" ".join(keys) + b"\r\n")
                pending.append(("get", keys, None))
        if not pending:
            break
        kind, keys, v = pending.pop(0)
        n += 1
        try:
            if kind == "set":
                l = r.line()
                if l != b"STORED":
                    fail(f"set {keys[0]!r}: {l!r}")
                else:
                    values[keys[0]] = v
            else:
                while True:
                    l = r.line()
                    if l == b"END":
                        break
                    p = l.split()
                    if len(p) >= 4 and p[0] == b"VALUE":
                        data = r.data(int(p[3]))
                        if p[1] not in keys:
                            fail(f"get: unexpected key {p[1]!r}")
                        elif p[1] in values and data != values[p[1]] and not data.startswith(b"v"):
                            fail(f"get {p[1]!r}: wrong value {data!r}")
                        elif p[1] not in values and not data.startswith(b"v"):
                            fail(f"get {p[1]!r}: bad value {data!r}")
                    else:
                        fail(f"get {keys}: {l!r}")
                        if not l.startswith(b"VALUE"):
                            break
        except (EOFError, OSError) as e:
            fail(f"connection: {e}")
            break
    s.close()
    return n, fails, examples


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--backend-bin", default=None)
    ap.add_argument("--reloads", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--depth", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=None)
    a = ap.parse_args()
    bbin = a.backend_bin or a.bin
    td = tempfile.mkdtemp(prefix="mcp-soak-")
    procs = []
    prx = pool = None
    i = -1
    try:
        bports = [free_port() for _ in range(3)]
        for p in bports:
            procs.append(subprocess.Popen([bbin, *USER, "-l", "127.0.0.1", "-p", str(p), "-U", "0", "-m", "64"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for p, pr in zip(bports, procs):
            wait_port(p, pr)
        cfg = os.path.join(td, "config.lua")
        shutil.copy(os.path.join(ROOT, "tests", "reliability", CONFIGS[0]), cfg)
        port = free_port()
        arg = ":".join(f"b{i + 1}_{p}" for i, p in enumerate(bports))
        prx = subprocess.Popen([a.bin, *USER, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-t", "4",
                                "-c", "4096", "-o", f"proxy_config={cfg},proxy_arg={arg}"],
                               stdout=subprocess.DEVNULL, stderr=open(os.path.join(td, "proxy.err"), "w"))
        procs.append(prx)
        wait_port(port, prx)
        stopfile = os.path.join(td, "stop")
        pool = multiprocessing.Pool(a.clients)
        res = pool.map_async(client, [(port, i, stopfile, a.depth) for i in range(a.clients)])
        totals = {}
        bad_totals = []
        t0 = time.time()
        reloads_done = int(stats(port).get("proxy_config_reloads", "0"))
        # Warm-up: load, then three full cycles of the configs (the
        # allocator's arenas and Lua's memory reach their working size);
        # RSS and fds are measured on config A after it and after the last
        # reload (extra reloads bring the config back to A, uncounted).
        warm = a.warmup if a.warmup is not None else max(3 * len(CONFIGS), a.reloads // 10)
        warm += (-warm) % len(CONFIGS)
        extra = (-(warm + a.reloads)) % len(CONFIGS)
        total = warm + a.reloads + extra
        base_rss = base_fds = None
        for i in range(total):
            if i == warm:
                time.sleep(1)
                base_rss = rss_kib(prx.pid)
                base_fds = nfds(prx.pid)
                base_vm = vm_kib(port)
            name = CONFIGS[(i + 1) % len(CONFIGS)]
            shutil.copy(os.path.join(ROOT, "tests", "reliability", name), cfg + ".new")
            os.replace(cfg + ".new", cfg)
            prx.send_signal(signal.SIGHUP)
            end = time.time() + 60
            while True:
                st = stats(port)
                if int(st.get("proxy_config_reloads", "0")) > reloads_done:
                    reloads_done = int(st["proxy_config_reloads"])
                    break
                if prx.poll() is not None or time.time() > end:
                    raise RuntimeError(f"reload {i + 1} did not complete (proxy {'died' if prx.poll() is not None else 'stuck'})")
                time.sleep(0.005)
            if int(st.get("proxy_config_reload_fails", "0")):
                raise RuntimeError(f"reload {i + 1} failed ({name})")
            if i % 25 == 0 or i == total - 1:
                # the previous config's backends go when the config VM
                # collects them (its cron runs a GC every second): the count
                # must settle on this config's own
                want = EXPECTED_TOTAL[name]
                end = time.time() + 5
                bt = -1
                while time.time() < end:
                    bt = int(stats(port).get("proxy_backend_total", "-1"))
                    if bt == want:
                        break
                    time.sleep(0.1)
                totals.setdefault(name, []).append(bt)
            if (i + 1 - warm) % 100 == 0 and i >= warm:
                print(f"soak: {i + 1 - warm}/{a.reloads} reloads, {time.time() - t0:.0f}s, RSS {rss_kib(prx.pid)} KiB, "
                      f"Lua {vm_kib(port)} KiB, fds {nfds(prx.pid)}", flush=True)
        # back to the warm-up config: under load (the worker VMs collect
        # as they allocate), the backend count must return to its own
        want = EXPECTED_TOTAL[CONFIGS[0]]
        end = time.time() + 60
        t_settle = time.time()
        while True:
            final_bt = int(stats(port).get("proxy_backend_total", "-1"))
            if final_bt == want or time.time() > end:
                break
            time.sleep(0.2)
        t_settle = time.time() - t_settle
        if final_bt != want:
            bad_totals.append((total, CONFIGS[0], want, final_bt))
        time.sleep(1)
        open(stopfile, "w").close()
        results = res.get(timeout=60)
        pool.close()
        time.sleep(0.5)
        end_rss = rss_kib(prx.pid)
        end_fds = nfds(prx.pid)
        end_vm = vm_kib(port)
        reqs = sum(r[0] for r in results)
        fails = sum(r[1] for r in results)
        alive = prx.poll() is None
        print(f"soak: {a.reloads} reloads (after {warm} warm-up reloads, plus {extra} back to config A) "
              f"in {time.time() - t0:.0f}s; {reqs:,} requests, {fails} failed or wrong")
        for r in results:
            for e in r[2]:
                print(f"  {e}")
        print(f"soak: RSS after warm-up {base_rss} KiB, after the last reload {end_rss} KiB (config A both) "
              f"(growth {end_rss - base_rss} KiB)")
        print(f"soak: proxy_backend_total per config, sampled every 25 reloads (up to 5 s each): "
              f"{ {k: sorted(set(v)) for k, v in totals.items()} }; each config's own {EXPECTED_TOTAL}")
        print(f"soak: proxy_backend_total after the last reload: {final_bt} "
              f"({'back to config A' + chr(39) + 's own' if final_bt == want else 'NOT back to ' + str(want)}"
              f" in {t_settle:.1f}s)")
        print(f"soak: fds after warm-up {base_fds}, at the end {end_fds}")
        print(f"soak: Lua memory of the worker VMs (vm_memory_kb) after warm-up {base_vm} KiB, at the end {end_vm} KiB")
        print(f"soak: proxy {'alive' if alive else 'DIED'}")
        ok = alive and not bad_totals and end_fds <= base_fds and (end_rss - base_rss) < 1024
        print("soak: " + ("ok" if ok else "FAIL") + f" (failed requests: {fails}; compare with the C build)")
        return 0 if ok and fails == 0 else 1
    except (OSError, EOFError, RuntimeError) as e:
        # the proxy died or stopped answering: say which, with its stderr,
        # instead of a traceback from the stats connection
        if pool is not None:
            pool.terminate()
        rc = None
        for _ in range(50):  # a reset connection may come just before the exit
            rc = prx.poll() if prx is not None else None
            if rc is not None:
                break
            time.sleep(0.1)
        if rc is not None and rc < 0:
            how = f"killed by {signal.Signals(-rc).name}"
        elif rc is not None:
            how = f"exited with status {rc}"
        else:
            how = "alive but not answering"
        print(f"soak: FAIL: proxy {how} at reload {i + 1} ({e})")
        try:
            with open(os.path.join(td, "proxy.err"), errors="replace") as f:
                tail = f.read().splitlines()[-20:]
        except OSError:
            tail = []
        for line in tail:
            print(f"  proxy stderr: {line}")
        return 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait()
        shutil.rmtree(td, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
