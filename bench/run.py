#!/usr/bin/env python3
"""`make bench`: memcached with proxy-lua-rs beside the stock C build of the
same tarball and flags, same load (a benchmark, not a test: it fails only
when it cannot measure).

Primary figures are instruction counts (valgrind --tool=callgrind), which
repeat exactly for the same binary and input whatever the machine does;
wall times, RSS, ops/s and p99 are secondary (shared 2-core machines vary
by 5-20%).

  - size: `.text` of memcached and memcached-debug (`size`);
  - per request, in the replaced code (proxy_lua.c's routing helper and
    backend logging, with everything they call) and for the whole proxy
    process (every thread; the difference of two runs of N1 and N2
    requests, so start-up cancels out): routing, routing + logging,
    multiget (10 keys per request), each with 1 and 4 worker threads;
  - config load and reload of bench/large.lua (8 pools x 256 backends):
    instructions inside proxy_config_reload/proxy_worker_reload, wall time
    and RSS;
  - ops/s and p99 latency through the proxy (4 client processes, one
    request in flight each, 4 worker threads).

Usage: bench/run.py --ours TREE --stock TREE [--out DIR] [--docs FILE]
       [--quick]
"""
import argparse
import json
import multiprocessing
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
USER = ["-u", "root"] if os.geteuid() == 0 else []


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc=None, timeout=120.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise RuntimeError("connection closed")
            self.buf += d
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def req(self, data, until=None):
        self.s.sendall(data)
        while True:
            l = self.line()
            if until is None or l == until:
                return l

    def close(self):
        self.s.close()


def request(kind, i):
    """(bytes to send, the line that ends the reply)."""
    if kind == "route":
        return (b"mg r/key%d v\r\n" % i, None)
    if kind == "log":
        return (b"mg l/key%d v\r\n" % i, None)
    if kind == "multiget":
        keys = b" ".join(b"r/m%d_%d" % (i, k) for k in range(10))
        return (b"get " + keys + b"\r\n", b"END")
    raise ValueError(kind)


def drive(port, kind, n, start=0):
    c = Conn(port)
    for i in range(start, start + n):
        data, until = request(kind, i)
        c.req(data, until)
    c.close()


def proxy_cmd(tree, port, cfg, bport, threads):
    return [os.path.join(tree, "memcached"), *USER, "-l", "127.0.0.1", "-p", str(port), "-U", "0",
            "-t", str(threads), "-o", f"proxy_config={cfg},proxy_arg=b_{bport}:x"]


class Backend:
    def __init__(self, tree):
        self.port = free_port()
        self.p = subprocess.Popen([os.path.join(tree, "memcached"), *USER, "-l", "127.0.0.1",
                                   "-p", str(self.port), "-U", "0", "-m", "64"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.p)

    def stop(self):
        self.p.terminate()
        self.p.wait()


def valgrind_hard_nofile():
    # memcached sets its file limit to exactly -c; valgrind refuses changes
    # of the hard limit, so ask for the limit valgrind leaves its client.
    out = subprocess.run(["valgrind", "--tool=none", "bash", "-c", "ulimit -Hn"],
                         capture_output=True, text=True).stdout.strip()
    return out or "1024"


def cg_dump(pid, name):
    subprocess.run(["callgrind_control", "-d", name, str(pid)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def callgrind(tree, cfg, bport, threads, toggles, action, tries=3, window=False):
    """Runs the proxy under callgrind, calls action(port, proc) once it
    listens, stops it and returns the total instruction count collected
    inside the `toggles` functions: over the whole run, or (window=True)
    only between the two dumps action makes with cg_dump(pid, "start") and
    cg_dump(pid, "window") (a dump zeroes the counters)."""
    for attempt in range(tries):
        port = free_port()
        with tempfile.TemporaryDirectory() as td:
            out = os.path.join(td, "cg.out")
            cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
            for t in toggles:
                cmd.append(f"--toggle-collect={t}")
            cmd += proxy_cmd(tree, port, cfg, bport, threads) + ["-c", valgrind_hard_nofile()]
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_port(port, p)
                action(port, p)
            except Exception as e:  # retried: ports, slow start
                log(f"callgrind run failed ({e}); retrying")
                p.kill()
                p.wait()
                continue
            p.send_signal(signal.SIGTERM)
            p.wait()
            total = 0
            for f in os.listdir(td):
                if f.startswith("cg.out"):
                    trig, part = None, 0
                    with open(os.path.join(td, f)) as fh:
                        for line in fh:
                            if line.startswith("desc: Trigger:"):
                                trig = line
                            if line.startswith("summary:"):
                                part += int(line.split()[1])
                    if not window or (trig and "window" in trig):
                        total += part
            if total > 0:
                return total
            log("callgrind collected nothing; retrying")
    raise RuntimeError("callgrind measurement failed")


REPLACED = ["mcplib_pool_proxy_call_helper", "mcplib_rqu_log"]
THREADS = ["worker_libevent", "proxy_event_thread", "logger_thread"]


def per_request(tree, kind, threads, n, reps, backend):
    """(replaced code per request, [whole proxy per request, one per rep])"""
    cfg = os.path.join(ROOT, "bench", "bench.lua")
    rep = callgrind(tree, cfg, backend.port, threads, REPLACED,
                    lambda port, p: drive(port, kind, n)) / n
    # Everything the threads that serve requests execute (workers, proxy
    # event threads, the logger) while n requests run, after a warm-up
    # (backend connections made, routes compiled): the counters are dumped
    # before and after the n requests, so start-up, config load and
    # shutdown are not counted. This repeats within about +-0.2%: how
    # often the event loop finds a backend reply already there depends on
    # timing. Hence several runs, reported as median and range.
    def window(port, p):
        drive(port, kind, 100, start=10_000_000)
        cg_dump(p.pid, "start")
        drive(port, kind, n)
        cg_dump(p.pid, "window")
    wholes = [callgrind(tree, cfg, backend.port, threads, THREADS, window, window=True) / n
              for _ in range(reps)]
    return rep, wholes


def stat_proxy(port, name):
    c = Conn(port)
    c.s.sendall(b"stats\r\n")
    val = None
    while True:
        l = c.line()
        if l == b"END":
            break
        parts = l.split()
        if len(parts) == 3 and parts[1] == name.encode():
            val = int(parts[2])
    c.close()
    return val


def cpu_ticks(pid):
    """utime + stime of the whole process, in clock ticks"""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def reload_and_wait(port, p, timeout=600.0, quiet=0.5):
    """SIGHUP, then waits until the reload has finished. memcached counts
    proxy_config_reloads when a reload starts (proxy_config.c), so after
    that it waits until the process has used no CPU for `quiet` seconds
    (the config thread and the workers' reloads done; an idle proxy uses
    none). Returns the seconds from SIGHUP to its last CPU tick."""
    before = stat_proxy(port, "proxy_config_reloads") or 0
    t0 = time.monotonic()
    p.send_signal(signal.SIGHUP)
    end = time.monotonic() + timeout
    while (stat_proxy(port, "proxy_config_reloads") or 0) <= before:
        if time.monotonic() > end:
            raise RuntimeError("reload did not start")
        time.sleep(0.002)
    ticks, changed = cpu_ticks(p.pid), time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.01)
        now = cpu_ticks(p.pid)
        if now != ticks:
            ticks, changed = now, time.monotonic()
        elif time.monotonic() - changed >= quiet:
            return changed - t0
    raise RuntimeError("reload did not complete")


def rss_kib(pid):
    """(VmRSS, RssAnon, RssFile) in KiB"""
    v = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k = line.split(":")[0]
            if k in ("VmRSS", "RssAnon", "RssFile"):
                v[k] = int(line.split()[1])
    return v.get("VmRSS", 0), v.get("RssAnon", 0), v.get("RssFile", 0)


def memory(builds, threads, reps):
    """RSS after the config load and after a reload, each build started in
    turn (ours, stock, ours, ...) so drift on the machine hits both alike;
    medians. RSS = RssAnon (heap: what the load allocated, and what of it
    was touched) + RssFile (file pages mapped: the binary, libraries; the
    kernel maps cached pages around each fault, so it moves with the page
    cache)."""
    cfg = os.path.join(ROOT, "bench", "large.lua")
    bport = free_port()
    got = {b: {"load": [], "reload": []} for b in builds}
    for _ in range(reps):
        for b, tree in builds.items():
            port = free_port()
            p = subprocess.Popen(proxy_cmd(tree, port, cfg, bport, threads),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_port(port, p)
                got[b]["load"].append(rss_kib(p.pid))
                reload_and_wait(port, p)
                got[b]["reload"].append(rss_kib(p.pid))
            finally:
                p.terminate()
                p.wait()
    res = {}
    for b in builds:
        r = {}
        for when in ("load", "reload"):
            for i, name in enumerate(("rss", "anon", "file")):
                vals = [x[i] for x in got[b][when]]
                r[f"{name}_{when}_kib"] = statistics.median(vals)
                r[f"{name}_{when}_range"] = [min(vals), max(vals)]
        res[b] = r
    return res


def config_load(tree, threads, reps):
    cfg = os.path.join(ROOT, "bench", "large.lua")
    bport = free_port()  # nothing listens: the backends are `down` anyway
    toggles = ["_proxy_config_thread", "proxy_worker_reload"]
    ir_load = callgrind(tree, cfg, bport, threads, toggles, lambda port, p: None)
    ir_both = callgrind(tree, cfg, bport, threads, toggles, lambda port, p: reload_and_wait(port, p))
    walls, rwalls = [], []
    for _ in range(reps):
        port = free_port()
        t0 = time.monotonic()
        p = subprocess.Popen(proxy_cmd(tree, port, cfg, bport, threads),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port, p)
            walls.append(time.monotonic() - t0)
            rwalls.append(reload_and_wait(port, p))
        finally:
            p.terminate()
            p.wait()
    return {
        "load_ir": ir_load,
        "reload_ir": ir_both - ir_load,
        "load_wall_ms": statistics.median(walls) * 1000,
        "reload_wall_ms": statistics.median(rwalls) * 1000,
    }


def _client(args):
    port, seconds, idx = args
    c = Conn(port)
    lat = []
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        data, until = request("route", idx * 10_000_000 + i)
        t = time.perf_counter()
        c.req(data, until)
        lat.append(time.perf_counter() - t)
        i += 1
    c.close()
    return lat


def throughput(tree, backend, seconds, clients=4):
    port = free_port()
    p = subprocess.Popen(proxy_cmd(tree, port, os.path.join(ROOT, "bench", "bench.lua"), backend.port, 4),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, p)
        drive(port, "route", 200)  # warm up
        with multiprocessing.Pool(clients) as pool:
            lats = pool.map(_client, [(port, seconds, i) for i in range(clients)])
    finally:
        p.terminate()
        p.wait()
    allv = sorted(x for l in lats for x in l)
    p99 = allv[int(len(allv) * 0.99)] if allv else 0
    return {"ops_per_s": len(allv) / seconds, "p99_us": p99 * 1e6}


def text_size(path):
    out = subprocess.run(["size", path], capture_output=True, text=True, check=True).stdout.splitlines()
    return int(out[1].split()[0])


SCENARIOS = [("route", 1), ("route", 4), ("log", 1), ("log", 4), ("multiget", 1), ("multiget", 4)]
TITLES = {"route": "routing", "log": "routing + logging", "multiget": "multiget (10 keys)"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--stock", required=True)
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "bench"))
    ap.add_argument("--docs", default=None, help="rewrite the results section of this markdown file")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    builds = {"ours": a.ours, "stock": a.stock}
    n = 300 if a.quick else 2000
    reps, wreps, mreps, secs = (1, 1, 3, 2) if a.quick else (3, 3, 9, 5)
    res = {"version": os.path.basename(a.ours.rstrip("/")), "quick": a.quick, "size": {}, "requests": {},
           "config": {}, "throughput": {}}
    for b, tree in builds.items():
        res["size"][b] = {x: text_size(os.path.join(tree, x)) for x in ("memcached", "memcached-debug")}
    log(f"sizes: {res['size']}")
    for b, tree in builds.items():
        backend = Backend(tree)
        try:
            for kind, threads in SCENARIOS:
                key = f"{kind}-t{threads}"
                log(f"{b}: {TITLES[kind]}, {threads} worker thread(s): callgrind ...")
                rep, wholes = per_request(tree, kind, threads, n, wreps, backend)
                res["requests"].setdefault(key, {})[b] = {
                    "replaced": rep, "whole": statistics.median(wholes), "whole_runs": wholes}
                log(f"{b}: {key}: {rep:.1f} Ir/request in the replaced code, "
                    f"{', '.join(f'{w:.0f}' for w in wholes)} for the whole proxy")
            log(f"{b}: throughput ({secs} s) ...")
            res["throughput"][b] = throughput(tree, backend, secs)
        finally:
            backend.stop()
        log(f"{b}: config load/reload of bench/large.lua ...")
        res["config"][b] = config_load(tree, 4, reps)
        log(f"{b}: config: {res['config'][b]}")
    res["memory_reps"] = mreps
    log(f"RSS after config load and reload, {mreps} starts each, alternating ...")
    for b, m in memory(builds, 4, mreps).items():
        res["config"][b].update(m)
        log(f"{b}: memory: {m}")
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(res, f, indent=2)
    md = render(res)
    print(md)
    plot(res, a.out)
    if a.docs:
        with open(a.docs) as f:
            doc = f.read()
        begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
        if begin in doc and end in doc:
            doc = doc[: doc.index(begin) + len(begin)] + "\n" + md + "\n" + doc[doc.index(end):]
            with open(a.docs, "w") as f:
                f.write(doc)
            png = os.path.join(os.path.dirname(a.docs), "benchmarks.png")
            subprocess.run(["cp", os.path.join(a.out, "benchmarks.png"), png], check=True)
            log(f"updated {a.docs} and {png}")
    return 0


def pct(a, b):
    return f"{(a - b) / b * 100:+.1f}%" if b else "n/a"


def render(r):
    s, q, c, t = r["size"], r["requests"], r["config"], r["throughput"]
    out = []
    out.append(f"Measured with `make bench` ({'quick' if r['quick'] else 'full'} run), "
               f"memcached {r['version'].replace('memcached-', '')}: proxy-lua-rs vs the stock C build "
               "of the same tarball and configure flags.\n")
    out.append("**Size** (`size`, `.text` bytes):\n")
    out.append("| binary | proxy-lua-rs | stock C | difference |")
    out.append("|---|---:|---:|---:|")
    for x in ("memcached", "memcached-debug"):
        out.append(f"| `{x}` | {s['ours'][x]:,} | {s['stock'][x]:,} | {s['ours'][x] - s['stock'][x]:+,} |")
    nw = len(q[f"{SCENARIOS[0][0]}-t{SCENARIOS[0][1]}"]["ours"]["whole_runs"])
    out.append("\n**Instructions per request** (callgrind; replaced code = the routing helper and "
               "backend logging with everything they call, exact; whole proxy = every instruction of "
               "the threads that serve requests (workers, proxy event threads, logger) while the "
               f"requests run, median of {nw} runs with their range):\n")
    out.append("| scenario | worker threads | replaced code: proxy-lua-rs | stock C | | whole proxy: proxy-lua-rs | stock C | |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")

    def whole(x):
        runs = x["whole_runs"]
        if len(runs) < 2:
            return f"{x['whole']:,.0f}"
        return f"{x['whole']:,.0f} ({min(runs):,.0f}-{max(runs):,.0f})"

    def level(o, st):
        d = pct(o["whole"], st["whole"])
        if len(o["whole_runs"]) > 1 and o["whole"] > st["whole"] and min(o["whole_runs"]) <= max(st["whole_runs"]):
            d += " (within the run-to-run range)"
        return d
    for kind, th in SCENARIOS:
        k = f"{kind}-t{th}"
        o, st = q[k]["ours"], q[k]["stock"]
        out.append(f"| {TITLES[kind]} | {th} | {o['replaced']:.1f} | {st['replaced']:.1f} | "
                   f"{pct(o['replaced'], st['replaced'])} | {whole(o)} | {whole(st)} | {level(o, st)} |")
    out.append("\n**Config load and reload** of `bench/large.lua` (8 pools x 256 backends, 4 worker "
               "threads; instructions in the config thread and in `proxy_worker_reload`):\n")
    out.append("| | proxy-lua-rs | stock C | |")
    out.append("|---|---:|---:|---:|")
    rows = [("load, instructions", "load_ir", "{:,.0f}"), ("reload, instructions", "reload_ir", "{:,.0f}"),
            ("load, wall ms (incl. start-up)", "load_wall_ms", "{:.1f}"),
            ("reload, wall ms", "reload_wall_ms", "{:.1f}"),
            ("RSS after load, KiB", "rss_load_kib", "{:,.0f}"),
            ("- of it anonymous (heap), KiB", "anon_load_kib", "{:,.0f}"),
            ("- of it file pages (binary, libraries), KiB", "file_load_kib", "{:,.0f}"),
            ("RSS after reload, KiB", "rss_reload_kib", "{:,.0f}"),
            ("- of it anonymous (heap), KiB", "anon_reload_kib", "{:,.0f}"),
            ("- of it file pages (binary, libraries), KiB", "file_reload_kib", "{:,.0f}")]
    for name, key, fmt in rows:
        out.append(f"| {name} | {fmt.format(c['ours'][key])} | {fmt.format(c['stock'][key])} | "
                   f"{pct(c['ours'][key], c['stock'][key])} |")
    ro, rs = c["ours"]["rss_load_range"], c["stock"]["rss_load_range"]
    out.append(f"\nRSS: medians of {r['memory_reps']} starts of each build, alternating; "
               f"after load, proxy-lua-rs ranged {ro[0]:,}-{ro[1]:,} KiB and stock C "
               f"{rs[0]:,}-{rs[1]:,} KiB.")
    out.append("\n**Secondary** (wall clock, 4 client processes with one request in flight each, "
               "4 worker threads; varies by 5-20% here):\n")
    out.append("| | proxy-lua-rs | stock C |")
    out.append("|---|---:|---:|")
    out.append(f"| ops/s | {t['ours']['ops_per_s']:,.0f} | {t['stock']['ops_per_s']:,.0f} |")
    out.append(f"| p99 latency, us | {t['ours']['p99_us']:.0f} | {t['stock']['p99_us']:.0f} |")
    out.append("\n![instructions per request](benchmarks.png)")
    return "\n".join(out)


def plot(r, outdir):
    """docs/benchmarks.png: per scenario, the replaced code's instructions
    per request, ours beside stock C, each bar labelled with its number and
    each scenario with the difference. Labels are literal text (gnuplot's
    enhanced mode would take `_` for a subscript) and set on two lines so
    that they do not overlap."""
    dat = os.path.join(outdir, "bench.dat")
    with open(dat, "w") as f:
        for kind, th in SCENARIOS:
            k = f"{kind}-t{th}"
            ours = r["requests"][k]["ours"]["replaced"]
            stock = r["requests"][k]["stock"]["replaced"]
            diff = 100.0 * (ours - stock) / stock if stock else 0.0
            threads = "1 thread" if th == 1 else f"{th} threads"
            label = f"{TITLES[kind]}\\n{threads}\\n{diff:+.1f}%"
            f.write(f"\"{label}\" {ours:.1f} {stock:.1f}\n")
    png = os.path.join(outdir, "benchmarks.png")
    script = f"""
set terminal pngcairo size 1000,520 font ",10" noenhanced
set output "{png}"
set title "Instructions per request in the replaced code (callgrind, exact; lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9 relative
set ylabel "instructions per request"
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set grid ytics
set key top left
set bmargin 5
set xtics scale 0
plot "{dat}" using 2:xtic(1) title "proxy-lua-rs" lc rgb "#1f77b4", \\
     "" using 3 title "stock C (proxy_lua.c)" lc rgb "#ff7f0e", \\
     "" using ($0 - 1.0/6):2:(sprintf("%.1f", $2)) with labels offset 0,0.6 notitle, \\
     "" using ($0 + 1.0/6):3:(sprintf("%.1f", $3)) with labels offset 0,0.6 notitle
"""
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        log(f"no plot ({e}); install gnuplot-nox")


if __name__ == "__main__":
    sys.exit(main())
