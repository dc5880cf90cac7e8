#!/usr/bin/env python3
"""Upstream crashes outside proxy_lua.c that the Lua API reaches
(docs/RELIABILITY.md): start memcached on each reproduction config
(tests/reliability/upstream-*.lua, and upstream-*.lua.in with its
marker expanded) N times per build and report how each
start ended. These are findings about upstream code the library does not
replace, so the same outcome is expected with both libraries: this is a
report, not a pass/fail test.

Usage: scripts/reliability/upstream-repros.py [--starts N] BIN...
"""
import argparse
import glob
import os
import socket
import subprocess
import tempfile
import time
import collections

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
USER = ["-u", "root"] if os.geteuid() == 0 else []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one(binary, cfg, wait):
    port = free_port()
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen([binary, *USER, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-t", "4",
                              "-o", f"proxy_config={cfg}"], stdout=subprocess.DEVNULL, stderr=err)
        end = time.time() + wait
        answered = None
        while time.time() < end and p.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    s.sendall(b"get foo\r\n")
                    answered = s.recv(200).decode(errors="replace").strip()
                break
            except OSError:
                time.sleep(0.05)
        time.sleep(0.3)
        rc = p.poll()
        if rc is None:
            p.terminate()
            p.wait()
        err.seek(0)
        lines = [l for l in err.read().decode(errors="replace").splitlines()
                 if l.strip() and "PROXY WARNING" not in l]
    if rc is None:
        return f"running, get answered {answered!r}"
    sig = f"signal {-rc}" if rc < 0 else f"exit {rc}"
    return f"died ({sig}): {lines[-1][:120] if lines else '(no message)'}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--starts", type=int, default=10)
    ap.add_argument("--wait", type=float, default=5)
    ap.add_argument("bins", nargs="+")
    a = ap.parse_args()
    td = tempfile.mkdtemp(prefix="mcp-upstream-")
    cfgs = sorted(glob.glob(os.path.join(ROOT, "tests", "reliability", "upstream-*.lua")))
    for t in sorted(glob.glob(os.path.join(ROOT, "tests", "reliability", "upstream-*.lua.in"))):
        out = os.path.join(td, os.path.basename(t)[:-3])
        with open(t) as f, open(out, "w") as o:
            o.write(f.read().replace("@BIG@", "x" * 40000))
        cfgs.insert(0, out)
    for cfg in cfgs:
        print(f"== {os.path.basename(cfg)}")
        for b in a.bins:
            c = collections.Counter(one(b, cfg, a.wait) for _ in range(a.starts))
            print(f"  {b}:")
            for k, n in c.most_common():
                print(f"    {n}/{a.starts} {k}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
