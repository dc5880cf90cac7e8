#!/usr/bin/env python3
"""What a reload (SIGHUP) with a broken config does to a running proxy.

For each kind of mistake, a proxy is started on a good config "A", the file
is replaced by a broken one, memcached is sent SIGHUP, and the test records:
whether the process is alive or exited (and its status), which config
serves a request afterwards (A, the new B, or an error), what memcached
printed, and the reload and failure counters of `stats`. Every case runs on
each binary given (ours and the stock C build of the same tarball); the
rows must be equal (the message compared without the file's path).

Cases: a plain config file (-o proxy_config=FILE) with a syntax error, a
runtime error at top level, an error in mcp_config_pools, an error in
mcp_config_routes, an error in a route handler (raised by a request), a file
that no longer defines mcp_config_pools; routelib (-o
proxy_config=routelib,proxy_arg=FILE) with a syntax error and a runtime error
in the user's file; and a good config B for each style (the control).

Usage: reload-failures.py --bin NAME=MEMCACHED [--bin NAME=MEMCACHED ...]
                          [--markdown FILE] [--backend-bin MEMCACHED]
Exit status 0 when every binary gives the same table, and the controls
reload.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from mctest import free_port, stats, wait_port  # noqa: E402

USER = ["-u", "root"] if os.geteuid() == 0 else []

PLAIN_A = """
function mcp_config_pools() return {} end
function mcp_config_routes(p)
    mcp.attach(mcp.CMD_MG, function(r) return "HD cfg=A\\r\\n" end)
end
"""
PLAIN_B = PLAIN_A.replace("cfg=A", "cfg=B")
PLAIN_CASES = [
    ("plain: good config B (control)", PLAIN_B),
    ("plain: syntax error", PLAIN_B.replace("function mcp_config_pools()", "function mcp_config_pools(", 1)),
    ("plain: runtime error at top level", 'error("boom at top level")\n' + PLAIN_B),
    ("plain: error in mcp_config_pools",
     PLAIN_B.replace("function mcp_config_pools() return {} end",
                     'function mcp_config_pools() error("boom in pools") end')),
    ("plain: error in mcp_config_routes",
     PLAIN_B.replace("function mcp_config_routes(p)", 'function mcp_config_routes(p)\n    error("boom in routes")')),
    ("plain: error in a route handler",
     PLAIN_B.replace('return "HD cfg=B\\r\\n"', 'error("boom in handler")')),
    ("plain: mcp_config_pools removed",
     PLAIN_B.replace("function mcp_config_pools() return {} end", "")),
]

ROUTELIB = """
pools{{
    main = {{ backends = {{ "127.0.0.1:{port}" }} }}
}}
routes{{
    default = route_direct{{ child = "main" }}
}}
"""
ROUTELIB_CASES = [
    ("routelib: good config B (control)", "B"),
    ("routelib: syntax error in the user file", "B-syntax"),
    ("routelib: runtime error in the user file", "B-runtime"),
    ("routelib: unknown route handler in the user file", "B-unknown"),
]


def request(port, line, timeout=5):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(line)
            buf = b""
            while not (buf.endswith(b"\r\n") and (not buf.startswith(b"VA ") or buf.count(b"\r\n") >= 2)):
                d = s.recv(4096)
                if not d:
                    break
                buf += d
            return buf.decode(errors="replace")
    except OSError as e:
        return f"(no answer: {e.__class__.__name__})"


def served(reply):
    m = re.match(r"HD cfg=(\w)", reply)
    if m:
        return m.group(1)
    m = re.match(r"VA \d+.*\r\n(\w)", reply)
    if m:
        return m.group(1)
    return reply.strip().split("\r\n")[0][:60]


def run_case(binary, name, style, good, bad, tmp, backends):
    """Start on `good`, reload into `bad`; return the observed row."""
    cfg = os.path.join(tmp, "user.lua" if style == "routelib" else "config.lua")
    with open(cfg, "w") as f:
        f.write(good)
    port = free_port()
    errp = os.path.join(tmp, "stderr")
    opt = f"proxy_config={cfg}" if style == "plain" else f"proxy_config=routelib,proxy_arg={cfg}"
    err = open(errp, "w")
    proc = subprocess.Popen([binary, *USER, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-t", "2", "-o", opt],
                            stdout=subprocess.DEVNULL, stderr=err)
    try:
        if not wait_port(port, proc):
            return {"error": f"did not start: {open(errp).read()[-300:]}"}
        before = served(request(port, b"mg which v\r\n"))
        if style == "routelib":
            # the backend connection comes up after the listener: wait for A
            for _ in range(100):
                if before == "A":
                    break
                time.sleep(0.05)
                before = served(request(port, b"mg which v\r\n"))
        if before != "A":
            return {"error": f"config A does not serve: {before}"}
        st0 = (stats(port) or {})
        mark = os.path.getsize(errp)
        with open(cfg + ".new", "w") as f:
            f.write(bad)
        os.replace(cfg + ".new", cfg)
        proc.send_signal(signal.SIGHUP)
        # wait for the reload to end: the process exits, or the reload
        # counter moves and the config thread is done
        end = time.time() + 20
        st = {}
        while time.time() < end:
            if proc.poll() is not None:
                break
            st = (stats(port) or {})
            if int(st.get("proxy_config_reloads", 0)) > int(st0.get("proxy_config_reloads", 0)):
                time.sleep(0.3)
                st = (stats(port) or {})
                break
            time.sleep(0.05)
        time.sleep(0.2)
        alive = proc.poll() is None
        after = ""
        after_raw = ""
        if alive:
            if style == "routelib":
                for _ in range(40):
                    after_raw = request(port, b"mg which v\r\n")
                    after = served(after_raw)
                    if after in ("A", "B"):
                        break
                    time.sleep(0.05)
            else:
                after_raw = request(port, b"mg which v\r\n")
                after = served(after_raw)
            st = (stats(port) or {})
        err.flush()
        with open(errp, errors="replace") as f:
            f.seek(mark)
            msg = f.read().strip()
        msg = msg.replace(cfg, "FILE").replace(tmp, "TMP")
        msg = "\n".join(l for l in msg.splitlines() if l.strip())
        row = {
            "alive": alive,
            "status": None if alive else proc.returncode,
            "serves": after if alive else "-",
            "reloads": f"{int(st.get('proxy_config_reloads', 0)) - int(st0.get('proxy_config_reloads', 0))}"
                       if alive else "-",
            "fails": f"{int(st.get('proxy_config_reload_fails', 0)) - int(st0.get('proxy_config_reload_fails', 0))}"
                     if alive else "-",
            "message": msg,
        }
        return row
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        err.close()


def routelib_config(kind, backends):
    if kind == "A":
        return ROUTELIB.format(port=backends["A"])
    good_b = ROUTELIB.format(port=backends["B"])
    if kind == "B":
        return good_b
    if kind == "B-syntax":
        return good_b.replace("routes{", "routes{{", 1)
    if kind == "B-runtime":
        return 'error("boom in the user file")\n' + good_b
    if kind == "B-unknown":
        return good_b.replace("route_direct{", "route_nosuchthing{", 1)
    raise ValueError(kind)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", action="append", required=True, help="NAME=PATH")
    ap.add_argument("--backend-bin", help="memcached for the routelib backends (default: the first --bin)")
    ap.add_argument("--markdown", help="write the table (of the first binary) as Markdown here")
    ap.add_argument("--check-doc", help="the table between <!-- reload-table:begin --> and "
                    "<!-- reload-table:end --> in this file must be the one this run produces")
    a = ap.parse_args()
    bins = [b.split("=", 1) for b in a.bin]
    tmp = tempfile.mkdtemp(prefix="mcp-reload-")
    backend_bin = a.backend_bin or bins[0][1]
    # two backends for routelib: key "which" holds A on one, B on the other
    backends, bprocs = {}, []
    for tag in ("A", "B"):
        p = free_port()
        bp = subprocess.Popen([backend_bin, *USER, "-l", "127.0.0.1", "-p", str(p), "-U", "0", "-m", "16"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bprocs.append(bp)
        if not wait_port(p, bp):
            sys.exit(f"reload-failures: backend {tag} did not start")
        r = request(p, f"set which 0 0 1\r\n{tag}\r\n".encode())
        if not r.startswith("STORED"):
            sys.exit(f"reload-failures: backend {tag}: {r!r}")
        backends[tag] = p
    cases = [(n, "plain", PLAIN_A, bad) for n, bad in PLAIN_CASES]
    cases += [(n, "routelib", routelib_config("A", backends), routelib_config(k, backends)) for n, k in ROUTELIB_CASES]
    results = {}
    try:
        # the binaries side by side (each case has its own port and file)
        def one_binary(bp):
            bname, path = bp
            d = os.path.join(tmp, bname)
            os.makedirs(d, exist_ok=True)
            for n, style, good, bad in cases:
                results[(bname, n)] = run_case(path, n, style, good, bad, d, backends)
        with concurrent.futures.ThreadPoolExecutor(len(bins)) as ex:
            list(ex.map(one_binary, bins))
    finally:
        for bp in bprocs:
            bp.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    ok = True
    ref = bins[0][0]
    print(f"reload with a broken config: {', '.join(b for b, _ in bins)}")
    for n, *_ in cases:
        r = results[(ref, n)]
        if "error" in r:
            print(f"  {n}: {ref}: TEST ERROR: {r['error']}")
            ok = False
            continue
        state = "alive" if r["alive"] else f"EXITED (status {r['status']})"
        print(f"  {n}:")
        print(f"    {state}; serves: {r['serves']}; reloads +{r['reloads']}, reload fails +{r['fails']}")
        for l in (r["message"] or "(nothing)").splitlines()[:3]:
            print(f"    printed: {l}")
        for bname, _ in bins[1:]:
            o = results[(bname, n)]
            if o != r:
                ok = False
                print(f"    DIFFERS on {bname}: {o}")
        if "control" in n and not (r["alive"] and r["serves"] == "B" and r["fails"] == "0"):
            ok = False
            print("    the control did not reload into B")
    md = ["| broken reload | process | then serves | `proxy_config_reloads` / `_reload_fails` | memcached prints |\n",
          "|---|---|---|---|---|\n"]
    for n, *_ in cases:
        r = results[(ref, n)]
        if "error" in r:
            continue
        state = "keeps running" if r["alive"] else f"**exits** (status {r['status']})"
        serves = {"A": "the old config", "B": "the new config"}.get(r["serves"], f"`{r['serves']}`")
        counters = f"+{r['reloads']} / +{r['fails']}" if r["alive"] else "-"
        msg = "<br>".join(f"`{l}`" for l in (r["message"] or "").splitlines()[:1]) or "nothing"
        md.append(f"| {n} | {state} | {serves} | {counters} | {msg} |\n")
    table = "".join(md)
    if a.markdown:
        with open(a.markdown, "w") as fh:
            fh.write(table)
    if a.check_doc:
        doc = open(a.check_doc).read()
        m = re.search(r"<!-- reload-table:begin -->\n(.*?)<!-- reload-table:end -->", doc, re.S)
        if not m:
            ok = False
            print(f"reload-failures: no reload table in {a.check_doc}")
        elif m.group(1) != table:
            ok = False
            print(f"reload-failures: the table in {a.check_doc} is not what memcached does; this run gives:")
            print(table)
        else:
            print(f"reload-failures: the table in {a.check_doc} matches this run")
    print(f"reload-failures: {'same on every binary' if ok else 'FAILED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
