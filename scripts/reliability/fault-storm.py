#!/usr/bin/env python3
"""`make test-faults`: a proxy under pipelined load while its config is
reloaded every fraction of a second, its backends fail, and connections
drop, all at once; the same storm (same seed) on each binary given.

The proxy (-t 4) runs routelib (-o proxy_config=routelib,proxy_arg=FILE)
on a generated user file with route_failover, route_allsync,
route_allfastest, route_zfailover over a zoned pool set, route_ttl, a
default route, and a cron (tests/reliability/storm.lua.in). Six backend
memcached instances, three zones.

Concurrently, for DURATION seconds:
  - clients (processes) send pipelined batches of get, set, delete, 3-key
    multiget, and meta mg/ms/md, over every route prefix; a client now and
    then drops its own connection (RST) and reconnects;
  - the config is reloaded (SIGHUP) every RELOAD seconds (signals that arrive while a
    reload runs coalesce into one: both numbers are reported), alternating
    between variants with changed pools (backends moved between pools,
    pools added and dropped, other timeouts);
  - a backend is stopped (SIGSTOP) and resumed, killed (SIGKILL) and
    restarted on its port, or made slow (stopped and resumed every few
    milliseconds for a while), one fault after another.
Then the faults stop, every backend comes back, and after a recovery period
the run measures what it reports.

Reported per binary: whether the proxy survived (alive, answering);
requests; responses by class (hit, miss, stored, not_stored, deleted,
not_found, meta HD/VA/EN/NF/NS, SERVER_ERROR <first words>, CLIENT_ERROR,
ERROR, other); client connections the proxy broke (reset, closed, or
silent for 10 s) apart from the ones the clients dropped themselves;
reloads and reload failures; the backends as the proxy counts them after
recovery (`stats`: proxy_backend_total, _marked_bad, _failed, cron runs and
failures; `stats proxy`: routelib's retry counters); RSS and fds after warm-up and at the end; and the latency of
requests, measured by the client over the whole storm (every request runs
while reloads run): p50, p99, max.

Checked: the proxy survives every storm the first binary (the reference,
stock C) survives; no response class appears that the reference does not
show; with --check-rss (long storms), RSS growth after warm-up < 1 MiB and
fds at the end <= after warm-up; with --sanitizer-logs, no ASan/UBSan
report. Latency is reported, not checked
(a benchmark figure; docs/BENCHMARKS.md).

Usage: fault-storm.py --bin NAME=MEMCACHED [--bin NAME=MEMCACHED ...]
                      [--duration S] [--reload S] [--seed N] [--json FILE]
                      [--backend-bin MEMCACHED]
The first --bin is the reference.
"""
import argparse
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from mctest import Reader, nfds, rss_kib, stats, wait_port  # noqa: E402

USER = ["-u", "root"] if os.geteuid() == 0 else []
PREFIXES = ["fo/", "as/", "af/", "zf/", "tt/", ""]
NBACKENDS = 6


def free_ports(n, start):
    """n consecutive free ports from `start` (below the ephemeral range,
    so a restarted backend gets its port back)."""
    p = start
    out = []
    while len(out) < n:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                out.append(p)
            except OSError:
                out = []
        p += 1
    return out


def user_config(variant, ports, cron_file):
    with open(os.path.join(ROOT, "tests", "reliability", "storm.lua.in")) as f:
        t = f.read()
    b = [f"127.0.0.1:{p}" for p in ports]
    # the variants move backends between pools, add and drop a pool, change
    # timeouts: every reload changes what the workers route to
    if variant == 0:
        p1, p2, p3 = [b[0], b[1]], [b[2], b[3]], [b[4], b[5]]
        extra, rt = "", "0.5"
    elif variant == 1:
        p1, p2, p3 = [b[1], b[2]], [b[3], b[4]], [b[5], b[0]]
        extra, rt = f'    px = {{ backends = {{ "{b[0]}", "{b[3]}" }} }},\n', "0.3"
    else:
        p1, p2, p3 = [b[0], b[2], b[4]], [b[1]], [b[3], b[5]]
        extra, rt = "", "0.8"

    def lst(x):
        return ", ".join(f'"{v}"' for v in x)

    return (t.replace("@P1@", lst(p1)).replace("@P2@", lst(p2)).replace("@P3@", lst(p3))
            .replace("@Z1@", lst([b[0], b[1]])).replace("@Z2@", lst([b[2], b[3]])).replace("@Z3@", lst([b[4], b[5]]))
            .replace("@EXTRA@", extra).replace("@READ_TIMEOUT@", rt).replace("@VARIANT@", str(variant))
            .replace("@CRON_FILE@", cron_file))


# ---- clients ----

def classify(line):
    w = line.split(b" ")
    head = w[0]
    if head in (b"STORED", b"NOT_STORED", b"EXISTS", b"NOT_FOUND", b"DELETED", b"END",
                b"HD", b"VA", b"EN", b"NF", b"NS", b"EX", b"ERROR"):
        return head.decode()
    if head in (b"SERVER_ERROR", b"CLIENT_ERROR"):
        return (b" ".join(w[:3])).decode(errors="replace")
    return "other"


class Conn(Reader):
    def __init__(self, port, timeout):
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().__init__(s)

    def drop(self):
        # RST, as a client that goes away does
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.s.close()


def client(args):
    port, idx, seed, stopfile, depth, drop_p = args
    rnd = random.Random(seed * 1000 + idx)
    classes = {}
    lat = []
    n = broken = dropped = 0
    broken_how = {}
    c = None

    def count(k):
        classes[k] = classes.get(k, 0) + 1

    while not os.path.exists(stopfile):
        if c is None:
            try:
                c = Conn(port, 10)
            except OSError as e:
                broken += 1
                broken_how["connect: " + e.__class__.__name__] = broken_how.get("connect: " + e.__class__.__name__, 0) + 1
                time.sleep(0.1)
                continue
        batch = []
        out = []
        for _ in range(depth):
            pre = rnd.choice(PREFIXES)
            op = rnd.random()
            if pre == "tt/" and not (op < 0.25 or 0.85 <= op < 0.95):
                pre = ""  # route_ttl serves sets only (set, ms)
            key = f"{pre}c{idx}k{rnd.randrange(300)}".encode()
            if op < 0.25:
                v = b"v%d" % rnd.randrange(10 ** 9)
                out.append(b"set %s 0 0 %d\r\n%s\r\n" % (key, len(v), v))
                batch.append("one")
            elif op < 0.5:
                out.append(b"get %s\r\n" % key)
                batch.append(("get", 1))
            elif op < 0.55:
                out.append(b"delete %s\r\n" % key)
                batch.append("one")
            elif op < 0.65:
                keys = [key] + [f"{pre}c{idx}k{rnd.randrange(300)}".encode() for _ in range(2)]
                out.append(b"get " + b" ".join(keys) + b"\r\n")
                batch.append(("get", len(keys)))
            elif op < 0.85:
                out.append(b"mg %s v t\r\n" % key)
                batch.append("meta")
            elif op < 0.95:
                v = b"m%d" % rnd.randrange(10 ** 9)
                out.append(b"ms %s %d T60\r\n%s\r\n" % (key, len(v), v))
                batch.append("meta")
            else:
                out.append(b"md %s\r\n" % key)
                batch.append("meta")
        t0 = time.monotonic()
        try:
            c.s.sendall(b"".join(out))
            for kind in batch:
                if isinstance(kind, tuple):
                    # a text get: VALUE/data per hit, an error line per
                    # failed key, then END; a one-key get that fails gets
                    # the error line alone
                    nkeys = kind[1]
                    hits = errs = 0
                    while True:
                        l = c.line()
                        if l.startswith(b"VALUE "):
                            c.data(int(l.split(b" ")[3]))
                            hits += 1
                            continue
                        if l == b"END":
                            count("hit" if hits else ("miss" if not errs else "END after errors"))
                            break
                        count(classify(l))
                        errs += 1
                        if nkeys == 1:
                            break
                elif kind == "meta":
                    l = c.line()
                    k = classify(l)
                    if k == "VA":
                        c.data(int(l.split(b" ")[1]))
                    count(k)
                else:
                    count(classify(c.line()))
                lat.append(time.monotonic() - t0)
                n += 1
        except (OSError, EOFError) as e:
            broken += 1
            how = str(e) if isinstance(e, EOFError) else e.__class__.__name__
            broken_how[how] = broken_how.get(how, 0) + 1
            try:
                c.s.close()
            except OSError:
                pass
            c = None
            continue
        if rnd.random() < drop_p:
            c.drop()
            dropped += 1
            c = None
    if c is not None:
        c.s.close()
    return n, classes, broken, broken_how, dropped, lat


# ---- the storm ----

class Backends:
    def __init__(self, bin_, ports, td):
        self.bin, self.ports, self.td = bin_, ports, td
        self.procs = [None] * len(ports)
        self.lock = threading.Lock()
        for i in range(len(ports)):
            self.start(i)
        for i, p in enumerate(ports):
            if not wait_port(p, self.procs[i]):
                raise RuntimeError(f"backend {i} did not start")

    def start(self, i):
        self.procs[i] = subprocess.Popen([self.bin, *USER, "-l", "127.0.0.1", "-p", str(self.ports[i]), "-U", "0",
                                          "-m", "64", "-t", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def signal(self, i, sig):
        with self.lock:
            p = self.procs[i]
            if p is not None and p.poll() is None:
                try:
                    p.send_signal(sig)
                except OSError:
                    pass

    def kill(self, i):
        with self.lock:
            p = self.procs[i]
            if p is not None:
                p.kill()
                p.wait()
                self.procs[i] = None

    def restart(self, i):
        with self.lock:
            if self.procs[i] is None:
                self.start(i)

    def heal(self):
        for i in range(len(self.ports)):
            self.signal(i, signal.SIGCONT)
            self.restart(i)
        for i, p in enumerate(self.ports):
            wait_port(p, self.procs[i], timeout=10)

    def stop_all(self):
        for p in self.procs:
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGCONT)
                p.kill()
                p.wait()


def faults(be, rnd, stop_evt, log):
    """One fault after another until stop_evt."""
    while not stop_evt.is_set():
        i = rnd.randrange(len(be.ports))
        kind = rnd.choice(["stop", "kill", "slow"])
        log.append((time.monotonic(), kind, i))
        if kind == "stop":
            be.signal(i, signal.SIGSTOP)
            stop_evt.wait(rnd.uniform(0.2, 1.5))
            be.signal(i, signal.SIGCONT)
        elif kind == "kill":
            be.kill(i)
            stop_evt.wait(rnd.uniform(0.3, 2.0))
            be.restart(i)
        else:
            end = time.monotonic() + rnd.uniform(1.0, 3.0)
            while time.monotonic() < end and not stop_evt.is_set():
                be.signal(i, signal.SIGSTOP)
                time.sleep(0.02)
                be.signal(i, signal.SIGCONT)
                time.sleep(0.02)
        stop_evt.wait(rnd.uniform(0.05, 0.5))


def percentile(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def storm(name, binary, a, backend_bin):
    td = tempfile.mkdtemp(prefix="mcp-storm-")
    rnd = random.Random(a.seed)
    ports = free_ports(NBACKENDS + 1, a.port_base)
    pport, bports = ports[0], ports[1:]
    res = {"name": name, "bin": binary}
    be = prx = pool = None
    stop_evt = threading.Event()
    try:
        be = Backends(backend_bin, bports, td)
        cfg = os.path.join(td, "user.lua")
        cron_file = os.path.join(td, "cron.count")
        with open(cfg, "w") as f:
            f.write(user_config(0, bports, cron_file))
        errp = os.path.join(td, "proxy.err")
        env = dict(os.environ)
        san_dir = None
        if a.sanitizer_logs:
            san_dir = os.path.join(a.sanitizer_logs, name)
            shutil.rmtree(san_dir, ignore_errors=True)
            os.makedirs(san_dir)
            env["ASAN_OPTIONS"] = f"log_path={san_dir}/asan:detect_leaks=0:abort_on_error=0"
            env["UBSAN_OPTIONS"] = f"log_path={san_dir}/ubsan:print_stacktrace=1"
        prx = subprocess.Popen([binary, *USER, "-l", "127.0.0.1", "-p", str(pport), "-U", "0", "-t", "4",
                                "-c", "4096", "-o", f"proxy_config=routelib,proxy_arg={cfg}"],
                               stdout=subprocess.DEVNULL, stderr=open(errp, "w"), env=env)
        if not wait_port(pport, prx):
            raise RuntimeError("the proxy did not start: " + open(errp).read()[-400:])
        time.sleep(0.5)
        stopfile = os.path.join(td, "stop")
        pool = multiprocessing.Pool(a.clients)
        cres = pool.map_async(client, [(pport, i, a.seed, stopfile, a.depth, a.drop) for i in range(a.clients)])
        flog = []
        ft = threading.Thread(target=faults, args=(be, random.Random(a.seed + 1), stop_evt, flog), daemon=True)
        t0 = time.monotonic()
        warm_at = t0 + a.duration * a.warmup
        base_rss = base_fds = None
        ft.start()
        reloads = 0
        variant = 0
        next_reload = t0 + a.reload
        died = None
        while time.monotonic() < t0 + a.duration:
            now = time.monotonic()
            if base_rss is None and now >= warm_at:
                base_rss, base_fds = rss_kib(prx.pid), nfds(prx.pid)
            if now >= next_reload:
                variant = (variant + 1) % 3
                with open(cfg + ".new", "w") as f:
                    f.write(user_config(variant, bports, cron_file))
                os.replace(cfg + ".new", cfg)
                try:
                    prx.send_signal(signal.SIGHUP)
                    reloads += 1
                except OSError:
                    pass
                next_reload = now + a.reload
            if prx.poll() is not None:
                died = prx.returncode
                break
            time.sleep(0.01)
        stop_evt.set()
        ft.join()
        # recovery: every backend back; the config of warm-up's variant
        be.heal()
        if died is None:
            time.sleep(a.recovery)
        open(stopfile, "w").close()
        try:
            results = cres.get(timeout=60)
        except multiprocessing.TimeoutError:
            results = []
            res["clients_stuck"] = True
        pool.close()
        alive = prx.poll() is None
        st = stats(pport) if alive else None
        answering = st is not None
        be_health = {}
        if answering:
            # the proxy's own view of its backends: the global counters of
            # `stats` and routelib's retry counters of `stats proxy`
            for k in ("proxy_backend_total", "proxy_backend_marked_bad", "proxy_backend_failed",
                      "proxy_request_failed_depth", "proxy_config_cron_runs", "proxy_config_cron_fails"):
                if k in st:
                    be_health[k] = st[k]
            for k, v in (stats(pport, "proxy") or {}).items():
                if k.startswith("user_"):
                    be_health[k] = v
        res.update({
            "survived": alive and answering,
            "exit": None if alive else prx.returncode,
            "requests": sum(r[0] for r in results),
            "classes": {},
            "broken_connections": sum(r[2] for r in results),
            "broken_how": {},
            "client_drops": sum(r[4] for r in results),
            "reloads_sent": reloads,
            "proxy_config_reloads": int(st.get("proxy_config_reloads", -1)) if st else None,
            "proxy_config_reload_fails": int(st.get("proxy_config_reload_fails", -1)) if st else None,
            "backend_health": be_health,
            "faults": {k: sum(1 for x in flog if x[1] == k) for k in ("stop", "kill", "slow")},
            "rss_warm_kib": base_rss, "rss_end_kib": rss_kib(prx.pid) if alive else None,
            "fds_warm": base_fds, "fds_end": nfds(prx.pid) if alive else None,
        })
        for r in results:
            for k, v in r[1].items():
                res["classes"][k] = res["classes"].get(k, 0) + v
            for k, v in r[3].items():
                res["broken_how"][k] = res["broken_how"].get(k, 0) + v
        lat = [x for r in results for x in r[5]]
        res["latency_ms"] = {"p50": round(1000 * (percentile(lat, 0.50) or 0), 2),
                             "p99": round(1000 * (percentile(lat, 0.99) or 0), 2),
                             "max": round(1000 * (max(lat) if lat else 0), 2)}
        if not alive:
            with open(errp, errors="replace") as f:
                res["stderr_tail"] = f.read().splitlines()[-10:]
        if san_dir:
            prx.terminate()
            try:
                prx.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            res["sanitizer_reports"] = sorted(os.listdir(san_dir))
        return res
    finally:
        stop_evt.set()
        if pool is not None:
            pool.terminate()
        if prx is not None and prx.poll() is None:
            prx.kill()
            prx.wait()
        if be is not None:
            be.stop_all()
        shutil.rmtree(td, ignore_errors=True)


def shared_errors(tree):
    """The error replies upstream's own C produces outside proxy_lua.c
    (proto_proxy.c's proxy_out_errstring calls: "backend failure", "bad
    response", ...): the same code serves both builds, and which of them a
    storm hits depends on timing."""
    out = set()
    for f in sorted(os.listdir(tree)):
        if not f.endswith(".c") or f == "proxy_lua.c":
            continue
        with open(os.path.join(tree, f), errors="replace") as fh:
            for m in re.finditer(r'proxy_out_errstring\([^,]+,\s*PROXY_(SERVER|CLIENT)_ERROR,\s*"([^"]+)"', fh.read()):
                if "lua" not in m.group(2):  # a Lua error could come from our library
                    out.add(f"{m.group(1)}_ERROR " + " ".join(m.group(2).split(" ")[:2]))
    return out


def show(r):
    print(f"== {r['name']} ({r['bin']})")
    state = "survived" if r.get("survived") else f"DID NOT SURVIVE (exit {r.get('exit')})"
    print(f"  {state}; {r['requests']:,} requests; reloads sent {r['reloads_sent']}, counted "
          f"{r['proxy_config_reloads']}, failed {r['proxy_config_reload_fails']}; faults {r['faults']}")
    print(f"  responses: " + ", ".join(f"{k} {v:,}" for k, v in sorted(r["classes"].items(), key=lambda x: -x[1])))
    print(f"  client connections broken by the proxy: {r['broken_connections']} {r['broken_how'] or ''}; "
          f"dropped by the clients themselves: {r['client_drops']}")
    if r.get("sanitizer_reports") is not None:
        print(f"  sanitizer reports: {len(r['sanitizer_reports'])}")
    if r.get("rss_warm_kib") is not None and r.get("rss_end_kib") is not None:
        print(f"  RSS after warm-up {r['rss_warm_kib']} KiB, at the end {r['rss_end_kib']} KiB "
              f"({r['rss_end_kib'] - r['rss_warm_kib']:+d}); fds {r['fds_warm']} -> {r['fds_end']}")
    l = r["latency_ms"]
    print(f"  latency (client, whole storm): p50 {l['p50']} ms, p99 {l['p99']} ms, max {l['max']} ms")
    h = r.get("backend_health") or {}
    if h:
        print("  backends as the proxy counts them, after recovery: " + "; ".join(f"{k} {v}" for k, v in sorted(h.items())))
    for line in r.get("stderr_tail", []):
        print(f"  proxy stderr: {line}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", action="append", required=True, help="NAME=PATH; the first is the reference")
    ap.add_argument("--backend-bin")
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--reload", type=float, default=0.3)
    ap.add_argument("--recovery", type=float, default=4)
    ap.add_argument("--warmup", type=float, default=0.5, help="RSS and fds are taken after this part of the storm")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--depth", type=int, default=16)
    ap.add_argument("--drop", type=float, default=0.01, help="chance a client drops its connection after a batch")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--port-base", type=int, default=24100)
    ap.add_argument("--json")
    ap.add_argument("--tree", help="the memcached source tree (whose own network code's error replies are "
                    "timing-dependent, not a difference between the builds)")
    ap.add_argument("--check-rss", action="store_true",
                    help="fail on RSS growth >= 1 MiB after warm-up or fds growth (long storms; not under ASan)")
    ap.add_argument("--sanitizer-logs", help="ASan/UBSan report directory (per binary); any report fails")
    a = ap.parse_args()
    bins = [b.split("=", 1) for b in a.bin]
    backend_bin = a.backend_bin or bins[0][1]
    out = []
    for name, path in bins:
        print(f"fault-storm: {name}: {a.duration:.0f}s storm (reload every {a.reload}s, seed {a.seed})", flush=True)
        r = storm(name, path, a, backend_bin)
        show(r)
        out.append(r)
    ref = out[0]
    ok = True
    shared = shared_errors(a.tree) if a.tree else set()
    for r in out[1:]:
        if ref["survived"] and not r["survived"]:
            ok = False
            print(f"fault-storm: FAIL: {r['name']} did not survive a storm {ref['name']} survived")
        new = sorted(set(r["classes"]) - set(ref["classes"]))
        timing = [c for c in new if c in shared]
        new = [c for c in new if c not in shared]
        if timing:
            print(f"fault-storm: {r['name']} answered with {timing}, which {ref['name']} did not hit in this run: "
                  f"messages of upstream's own network code (not proxy_lua.c), raised by backend faults whose "
                  f"timing differs between runs")
        if new:
            ok = False
            print(f"fault-storm: FAIL: {r['name']} answered with classes {ref['name']} never showed: {new}")
    for r in out:
        if r.get("sanitizer_reports"):
            ok = False
            print(f"fault-storm: FAIL: {r['name']}: sanitizer reports in {a.sanitizer_logs}/{r['name']}: "
                  f"{r['sanitizer_reports']}")
        if not a.check_rss:
            continue
        if r["survived"] and r.get("rss_warm_kib") and r["rss_end_kib"] - r["rss_warm_kib"] >= 1024:
            ok = False
            print(f"fault-storm: FAIL: {r['name']}: RSS grew {r['rss_end_kib'] - r['rss_warm_kib']} KiB after warm-up")
        if r["survived"] and r.get("fds_warm") is not None and r["fds_end"] > r["fds_warm"]:
            ok = False
            print(f"fault-storm: FAIL: {r['name']}: fds {r['fds_warm']} after warm-up, {r['fds_end']} at the end")
        if r["survived"] and r["requests"] == 0:
            ok = False
            print(f"fault-storm: FAIL: {r['name']}: no request answered")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    print("fault-storm: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
