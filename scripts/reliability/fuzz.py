#!/usr/bin/env python3
"""`make fuzz`: differential fuzzing of the mcp.* API.

Runs tests/fuzz/fuzz.lua as the proxy config of a real memcached with
proxy-lua-rs and of the stock C build of the same tarball, for the same
seeds: each start makes CALLS random calls in the config VM and CALLS/4 in
the worker VM, each in pcall, and writes every outcome. The outcomes are
compared line by line. Reported: calls, outcomes identical, outcomes
differing (each matched to a known explanation, or listed as unexplained),
crashes per side with the seed that reproduces them, sanitizer reports
(ASan build). Exits 1 on a crash or sanitizer report of ours, or on an
unexplained difference.

Usage: scripts/reliability/fuzz.py --ours BIN --stock BIN [--seeds N] [--calls N]
       [--first S] [--asan] [--safe] [--out DIR]
--safe leaves out the calls known to crash the stock build (proxy_arg
safe_1), so that every outcome can be compared.
Reproduce one seed: memcached -o proxy_config=tests/fuzz/fuzz.lua,
proxy_arg=seed_S:calls_N:out_DIR (DIR without '_' or ':').
"""
import argparse
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CFG = os.path.join(ROOT, "tests", "fuzz", "fuzz.lua")

# Known, explained differences: (function, our outcome regex, stock outcome
# regex, explanation). Outcomes are "ok <type>" or "err <message>".
EXPLAINED = [
    ("register_cron", r"^(ok|err).*", r"^$",
     "mcp.register_cron with more than two arguments: upstream addresses the new entry "
     "as stack index 3 (lua_setiuservalue(L, 3, 1)), which is then an argument: a crash "
     "on nil; ours uses the entry's real index"),
    ("attach", r"^err mcp\.attach: invalid command$", r".*",
     "mcp.attach with a command outside the hook array: upstream writes outside "
     "t->proxy_hooks (no range check); ours raises (docs/design.md)"),
]


# Differences above where the stock build writes out of bounds: from then
# on its memory is corrupted and its later outcomes in the run (garbled
# error strings, other errors) are no longer upstream's behaviour.
CORRUPTING = {e[3] for e in EXPLAINED if e[0] in ("register_cron", "attach")}
CORRUPTED = ("after the stock build wrote out of bounds earlier in the same run (one of the "
             "upstream bugs above): its memory is corrupted from there on")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_one(binary, seed, calls, outdir, timeout, env, offline, safe=False):
    os.makedirs(outdir, exist_ok=True)
    for f in glob.glob(os.path.join(outdir, "*")):
        os.unlink(f)
    port = free_port()
    user = ["-u", "root"] if os.geteuid() == 0 else []
    cmd = [binary, *user, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-t", "1",
           "-o", f"proxy_config={CFG},proxy_arg=seed_{seed}:calls_{calls}:out_{outdir}" + (":safe_1" if safe else "")]
    if offline:
        cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"] + cmd
    err = open(os.path.join(outdir, "stderr"), "w")
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
    end = time.time() + timeout
    worker = os.path.join(outdir, "worker.out")
    status = "timeout"
    while time.time() < end:
        if p.poll() is not None:
            status = f"exited {p.returncode}"
            break
        try:
            with open(worker, "rb") as f:
                if f.read().endswith(b"DONE\n"):
                    status = "done"
                    break
        except OSError:
            pass
        time.sleep(0.02)
    if status == "done":
        time.sleep(0.1)
        if p.poll() is not None:
            status = f"exited {p.returncode}"
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        rc = p.returncode
        # a crash at shutdown counts too (memcached exits 0 on SIGTERM)
        if status == "done" and rc not in (0, -15, 143):
            status = f"crashed at exit ({rc})"
    err.close()
    return status


def read_outcomes(path):
    res = {}
    try:
        with open(path, "rb") as f:
            for line in f:
                line = line.decode("utf-8", "replace").rstrip("\n")
                if line == "DONE":
                    continue
                parts = line.split(" ", 2)
                if len(parts) < 3 or not parts[0].isdigit():
                    continue  # a line cut short by a crash
                res[int(parts[0])] = (parts[1], parts[2])
    except OSError:
        pass
    return res


def label_room(stock_bin):
    """The beprefix room of the stock build's pool when its proxy_lua.c copies
    a beprefix unclamped (upstream clamps it to MAX_LABELLEN-1 since 1.6.40),
    else None: detected from the tree the binary was built in."""
    tree = os.path.dirname(os.path.abspath(stock_bin))
    try:
        src = open(os.path.join(tree, "proxy_lua.c"), errors="replace").read()
        hdr = open(os.path.join(tree, "proxy.h"), errors="replace").read()
    except OSError:
        return None
    m = re.search(r"#define MAX_LABELLEN (\d+)", hdr)
    if not m or "bepfx" not in src or re.search(r"len = MAX_LABELLEN\s*-\s*1;", src):
        return None
    return int(m.group(1))


def first_overrun(d, room):
    """The first config call whose beprefix overran the stock pool's field."""
    if room is None:
        return None
    try:
        with open(os.path.join(d, "config.notes")) as f:
            for line in f:
                p = line.split()
                if len(p) == 3 and p[1] == "beprefix" and int(p[2]) >= room:
                    return int(p[0])
    except OSError:
        pass
    return None


def explain(name, ours, stock):
    for fn, ro, rs, why in EXPLAINED:
        if fn == name and re.match(ro, ours) and re.match(rs, stock):
            return why
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--stock", required=True)
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--first", type=int, default=1)
    ap.add_argument("--calls", type=int, default=8000)
    ap.add_argument("--asan", action="store_true", help="ours is a sanitizer build: collect its reports")
    ap.add_argument("--out", default=os.path.join("/tmp", "mcpfuzz"))
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--safe", action="store_true",
                    help="leave out the calls known to crash the stock build, to compare every outcome")
    a = ap.parse_args()
    if "_" in a.out or ":" in a.out:
        sys.exit("fuzz: --out must contain no '_' or ':' (it travels in proxy_arg)")
    offline = os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip")
    shutil.rmtree(a.out, ignore_errors=True)
    san_dir = os.path.join(a.out, "san")
    os.makedirs(san_dir, exist_ok=True)
    env_ours = dict(os.environ)
    if a.asan:
        env_ours["ASAN_OPTIONS"] = f"log_path={san_dir}/asan:detect_leaks=0:abort_on_error=0"
        env_ours["UBSAN_OPTIONS"] = f"log_path={san_dir}/ubsan:print_stacktrace=1"
    calls = same = 0
    diffs = {}
    unexplained = []
    crashes = {"ours": [], "stock": []}
    t0 = time.time()
    room = label_room(a.stock)
    overrun_why = ("after the stock build copied a beprefix longer than its pool's field "
                   f"({room} bytes) unclamped (upstream's copy before its 1.6.40 clamp; ours "
                   "clamps): its memory is corrupted from that call on (docs/RELIABILITY.md)")
    for i, seed in enumerate(range(a.first, a.first + a.seeds)):
        d_ours = os.path.join(a.out, f"s{seed}", "ours")
        d_stock = os.path.join(a.out, f"s{seed}", "stock")
        st_o = run_one(a.ours, seed, a.calls, d_ours, a.timeout, env_ours, offline, a.safe)
        st_s = run_one(a.stock, seed, a.calls, d_stock, a.timeout, dict(os.environ), offline, a.safe)
        for side, st, d, other in (("ours", st_o, d_ours, d_stock), ("stock", st_s, d_stock, d_ours)):
            if st != "done":
                with open(os.path.join(d, "stderr"), errors="replace") as f:
                    last = [l.strip() for l in f if l.strip()][-1:] or [""]
                # the call it died in: the first one it did not finish, as
                # the other side recorded it
                where = ""
                for part in ("config", "worker"):
                    mine = read_outcomes(os.path.join(d, f"{part}.out"))
                    theirs = read_outcomes(os.path.join(other, f"{part}.out"))
                    missing = sorted(set(theirs) - set(mine))
                    if missing:
                        n = missing[0]
                        where = f"in {part} call {n} (mcp.{theirs[n][0]}; the other side: {theirs[n][1][:80]})"
                        break
                if side == "stock" and first_overrun(d_ours, room) and where:
                    where += f", {overrun_why.split(':')[0]} (call {first_overrun(d_ours, room)})"
                crashes[side].append((seed, st, (where + " " + last[0][:120]).strip()))
        k = first_overrun(d_ours, room)
        corrupt_at = None  # the stock build's first out-of-bounds write in this run
        for part in ("config", "worker"):
            o = read_outcomes(os.path.join(d_ours, f"{part}.out"))
            s = read_outcomes(os.path.join(d_stock, f"{part}.out"))
            for n in sorted(set(o) & set(s)):
                calls += 1
                if o[n] == s[n]:
                    same += 1
                    continue
                name = o[n][0]
                why = explain(name, o[n][1], s[n][1]) if name == s[n][0] else None
                if not why and k is not None and (part == "worker" or n >= k):
                    why = overrun_why
                elif not why and corrupt_at is not None:
                    why = CORRUPTED
                if why in CORRUPTING and corrupt_at is None:
                    corrupt_at = (part, n)
                if why:
                    diffs[why] = diffs.get(why, 0) + 1
                else:
                    unexplained.append((seed, part, n, o[n], s[n]))
            # calls only one side made (the other crashed first)
            calls += len(set(o) - set(s))
        if (i + 1) % 10 == 0 or i + 1 == a.seeds:
            print(f"fuzz: {i + 1}/{a.seeds} seeds, {calls:,} calls compared, {same:,} identical, "
                  f"{sum(diffs.values()) + len(unexplained)} differing, crashes ours {len(crashes['ours'])} "
                  f"stock {len(crashes['stock'])}, {time.time() - t0:.0f}s", flush=True)
    san = sorted(glob.glob(os.path.join(san_dir, "*")))
    compared = same + sum(diffs.values()) + len(unexplained)
    print(f"\nfuzz: {calls:,} calls made by ours (seeds {a.first}..{a.first + a.seeds - 1}, {a.calls} config-VM and "
          f"{max(1, a.calls // 4)} worker-VM calls per start" + (", upstream's known crashers left out" if a.safe else "") + ")")
    print(f"fuzz: {compared:,} compared with the stock build (the rest came after it crashed): "
          f"{same:,} outcomes identical, {sum(diffs.values()) + len(unexplained):,} differing")
    for why, n in diffs.items():
        print(f"  explained ({n:,}): {why}")
    for seed, part, n, o, s in unexplained[:20]:
        print(f"  UNEXPLAINED seed {seed} {part} call {n} {o[0]}: ours '{o[1]}' stock '{s[1]}'")
    if len(unexplained) > 20:
        print(f"  ... {len(unexplained) - 20} more unexplained")
    for side in ("ours", "stock"):
        print(f"fuzz: crashes of {side}: {len(crashes[side])}")
        for seed, st, last in crashes[side][:20]:
            print(f"  seed {seed}: {st}: {last}")
    print(f"fuzz: sanitizer reports (ours): {len(san)}" + (" (ASan build)" if a.asan else ""))
    for f in san[:5]:
        print(f"  {f}")
    bad = bool(crashes["ours"] or unexplained or san)
    print("fuzz: " + ("FAIL" if bad else "ok: no crash of ours, every difference explained"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
