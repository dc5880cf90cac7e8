#!/usr/bin/env python3
"""Routing probe: which backend a real proxy sends each key to.

Starts BIN as a proxy (-t 2) on a generated config with one pool per
combination of dist (jump hash; ring hash in each omode, and with
obuckets), hash option (none, a seed, mcp.hash_xxhash named) and key filter
(none; stop with 2- to 5-character confs; tags), over 1 to 64 backends. The
backends are fake: one thread listens on 64 fixed loopback ports (the ring
hash places its points by "host:port"; --port-base), answers
memcached's validation (`version`) and every request, and records which port
received which key. Each key goes to one pool: meta commands name it in the request's opaque
flag (`mg KEY v O<pool>`, so the key is exactly what the client chose; `mg
B64 b v O<pool>` with a base64 key; `ms KEY 1 O<pool>`), text commands (`get
pN/KEY`, `set pN/KEY ...`) through a prefix router (--commands).

The keys are the same on every machine (a SHA-256 counter stream, not
Python's random): 1 to 250 printable bytes, with the filters' stop strings
and tag characters mixed in, unbalanced braces, only delimiters, and keys of
exactly 250 bytes.

Writes a JSON report: per pool its options and a SHA-256 digest of the
backend index of every key in order (plus counts per backend); compare two
reports with --compare A B [C ...]: every pool's digest must be equal.

Usage:
  routing-probe.py --bin MEMCACHED --out REPORT.json [--keys-per-pool N]
                   [--skip-omode default] [--tree TREE [--skip-broken-filters]]
  routing-probe.py --compare A.json B.json ...
"""
import argparse
import base64
import hashlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

NB_MAX = 64
NBACKENDS = [1, 2, 3, 4, 5, 7, 8, 16, 31, 64]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from mctest import wait_port  # noqa: E402

USER = ["-u", "root"] if os.geteuid() == 0 else []


def dists(skip_omodes):
    out = [("jump", None), ("jump-named", "dist = mcp.dist_jump_hash")]
    for om in ("default", "ketama", "twemproxy", "evcache"):
        if om in skip_omodes:
            continue
        out.append((f"ring-{om}", f"dist = mcp.dist_ring_hash, omode = '{om}'"))
    if "ketama" not in skip_omodes:
        out.append(("ring-ketama-b40", "dist = mcp.dist_ring_hash, omode = 'ketama', obuckets = 40"))
    return out


HASHES = [("nohash", None), ("seed", "seed = 'probe-seed'"), ("xxhash", "hash = mcp.hash_xxhash"),
          ("xxhash-seed", "hash = mcp.hash_xxhash, seed = 'x'")]
FILTERS = [("nofilter", None, b""),
           ("stop2", "filter = 'stop', filter_conf = '::'", b"::"),
           ("stop3", "filter = 'stop', filter_conf = '|#|'", b"|#|"),
           ("stop5", "filter = 'stop', filter_conf = 'abcde'", b"abcde"),
           ("tags", "filter = 'tags', filter_conf = '{}'", b"{}"),
           ("tags-same", "filter = 'tags', filter_conf = '$$'", b"$$"),
           ("tags-rev", "filter = 'tags', filter_conf = '}{'", b"}{")]


def pools(skip_omodes, skip_filters=frozenset()):
    """(name, lua options or '', number of backends, filter delimiter bytes)."""
    out = []
    i = 0
    for dn, dopt in dists(skip_omodes):
        for hn, hopt in HASHES:
            for fn, fopt, delim in FILTERS:
                if fn in skip_filters:
                    continue
                nb = NBACKENDS[i % len(NBACKENDS)]
                i += 1
                opts = ", ".join(o for o in (dopt, hopt, fopt) if o)
                out.append((f"{dn}.{hn}.{fn}.{nb}", opts, nb, delim))
    # every backend count on the default pool and on ketama with tags
    for nb in NBACKENDS:
        out.append((f"jump.nohash.nofilter.all{nb}", "", nb, b""))
        if "ketama" not in skip_omodes:
            out.append((f"ring-ketama.nohash.tags.all{nb}",
                        "dist = mcp.dist_ring_hash, omode = 'ketama', filter = 'tags', filter_conf = '{}'", nb, b"{}"))
    return out


class Keys:
    """Deterministic key stream: the same bytes on every machine."""

    PRINTABLE = bytes(range(33, 127))

    def __init__(self, seed):
        self.seed = seed.encode()
        self.n = 0
        self.buf = b""

    def _bytes(self, k):
        while len(self.buf) < k:
            self.buf += hashlib.sha256(self.seed + self.n.to_bytes(8, "little")).digest()
            self.n += 1
        out, self.buf = self.buf[:k], self.buf[k:]
        return out

    def _int(self, m):
        return int.from_bytes(self._bytes(4), "little") % m

    def key(self, delim):
        shape = self._int(10)
        if shape == 0:
            ln = 250
        elif shape == 1:
            ln = 1 + self._int(4)
        else:
            ln = 1 + self._int(250)
        k = bytearray(self.PRINTABLE[b % len(self.PRINTABLE)] for b in self._bytes(ln))
        # mix in the filter's delimiters: stop strings, tag characters,
        # unbalanced ones, keys made only of delimiters
        if delim and shape in (3, 4, 5, 6):
            for _ in range(1 + self._int(3)):
                at = self._int(len(k) + 1)
                piece = delim if shape != 5 else delim[: 1 + self._int(len(delim))]
                k[at:at] = piece
        elif delim and shape == 7:
            k = bytearray((delim * 250)[: 1 + self._int(250)])
        for special in (b"{", b"}", b"|", b":"):
            if self._int(8) == 0:
                at = self._int(len(k) + 1)
                k[at:at] = special
        return bytes(k[:250])


class FakeBackends(threading.Thread):
    """64 loopback listeners: answer every request, record (pool, key) -> port index."""

    def __init__(self, base):
        super().__init__(daemon=True)
        self.sel = selectors.DefaultSelector()
        self.ports = []
        self.lock = threading.Lock()
        self.where = {}
        self.other = 0
        for i in range(NB_MAX):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", base + i))
            s.listen(64)
            s.setblocking(False)
            self.ports.append(s.getsockname()[1])
            self.sel.register(s, selectors.EVENT_READ, ("listen", i))
        self.stop = False

    def run(self):
        bufs = {}
        while not self.stop:
            for key, _ in self.sel.select(timeout=0.2):
                kind, idx = key.data
                if kind == "listen":
                    c, _ = key.fileobj.accept()
                    c.setblocking(False)
                    bufs[c] = b""
                    self.sel.register(c, selectors.EVENT_READ, ("conn", idx))
                    continue
                c = key.fileobj
                try:
                    d = c.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    d = b""
                if not d:
                    self.sel.unregister(c)
                    c.close()
                    bufs.pop(c, None)
                    continue
                buf = bufs[c] + d
                out = []
                while b"\r\n" in buf:
                    line, rest = buf.split(b"\r\n", 1)
                    w = line.split(b" ")
                    # a storage command's data block must be there whole
                    if w[0] in (b"set", b"ms"):
                        n = int(w[4] if w[0] == b"set" else w[2])
                        if len(rest) < n + 2:
                            break
                        rest = rest[n + 2:]
                    buf = rest
                    if w[0] == b"version":
                        out.append(b"VERSION 1.6.99\r\n")
                    elif w[0] in (b"mg", b"ms") and len(w) >= 2:
                        pool = next((t[1:] for t in w[2:] if t.startswith(b"O")), b"")
                        with self.lock:
                            self.where[(pool, w[0] + b" " + w[1])] = idx
                        out.append(b"EN\r\n" if w[0] == b"mg" else b"HD\r\n")
                    elif w[0] in (b"get", b"set") and len(w) >= 2:
                        # routed by the key's prefix "pN/": the pool is N
                        pool = w[1].split(b"/", 1)[0]
                        with self.lock:
                            self.where[(pool, w[0] + b" " + w[1])] = idx
                        out.append(b"END\r\n" if w[0] == b"get" else b"STORED\r\n")
                    elif w[0] == b"mn":
                        out.append(b"MN\r\n")
                    else:
                        with self.lock:
                            self.other += 1
                        out.append(b"SERVER_ERROR probe backend: unexpected request\r\n")
                bufs[c] = buf
                if out:
                    try:
                        c.setblocking(True)
                        c.sendall(b"".join(out))
                        c.setblocking(False)
                    except OSError:
                        pass


def lua_config(path, plist, ports):
    with open(path, "w") as f:
        f.write("-- generated by scripts/tests/routing-probe.py\n")
        f.write("function mcp_config_pools()\n")
        f.write("    mcp.backend_read_timeout(30)\n    mcp.backend_connect_timeout(30)\n")
        f.write("    local b = {}\n")
        for i, p in enumerate(ports):
            f.write(f"    b[{i + 1}] = mcp.backend('b{i + 1}', '127.0.0.1', {p})\n")
        f.write("    local function first(n) local t = {} for i = 1, n do t[i] = b[i] end return t end\n")
        f.write("    return {\n")
        for name, opts, nb, _ in plist:
            f.write(f"        ['{name}'] = mcp.pool(first({nb}){', { ' + opts + ' }' if opts else ''}),\n")
        f.write("    }\nend\n")
        f.write("PREFIX = {\n")
        for i, (name, _, _, _) in enumerate(plist):
            f.write(f"    ['{name}'] = 'p{i}',\n")
        f.write("}\n")
        f.write("""
function mcp_config_routes(pools)
    local fg = mcp.funcgen_new()
    local h = {}
    for name, p in pairs(pools) do
        h[name] = fg:new_handle(p)
    end
    fg:ready({ n = "probe", f = function(rctx)
        return function(r)
            local found, name = r:flag_token("O")
            local handle = h[name]
            if handle == nil then
                return "SERVER_ERROR no such pool\\r\\n"
            end
            return rctx:enqueue_and_wait(r, handle)
        end
    end })
    mcp.attach(mcp.CMD_MG, fg)
    mcp.attach(mcp.CMD_MS, fg)
    -- text commands carry no opaque: their key's prefix "pN/" names pool N
    local map = {}
    for name, p in pairs(pools) do
        local f = mcp.funcgen_new()
        local hp = f:new_handle(p)
        f:ready({ n = "text", f = function(rctx)
            return function(r) return rctx:enqueue_and_wait(r, hp) end
        end })
        map[PREFIX[name]] = f
    end
    local router = mcp.router_new({ map = map, mode = "prefix", stop = "/" })
    mcp.attach(mcp.CMD_GET, router)
    mcp.attach(mcp.CMD_SET, router)
end
""")


def _function_body(tree, fname, signature):
    """The text of the C function starting at SIGNATURE in TREE/FNAME, or ''."""
    try:
        src = open(os.path.join(tree, fname)).read()
    except OSError:
        return ""
    at = src.find(signature)
    if at < 0:
        return ""
    end = src.find("\nstatic ", at + 1)
    return src[at:end]


def broken_default_omode(tree):
    """Upstream's ring hash before 9dcfdef76 (1.6.45): _add_server_default
    never advances its index, so the default omode reads an uninitialised
    continuum (docs/RELIABILITY.md); detected from the tree's source."""
    body = _function_body(tree, "proxy_ring_hash.c", "static void _add_server_default(")
    return bool(body) and "(*cont)++" not in body


def broken_filters(tree):
    """Upstream's key filters before 1.6.45 (docs/RELIABILITY.md, "memcached
    1.6.38"), detected from the tree's proxy_lua.c: {filter name: why}.
    The stop filter copies the key and terminates it one byte too far
    (`temp[klen+1]`), so strstr reads an uninitialised byte past the key;
    the tags filter looks for the closing character from the opening one
    itself, so with one character at both ends ("$$") it hashes a length of
    -1 and the stock proxy dies of SIGSEGV on the first key holding one."""
    out = {}
    stop = _function_body(tree, "proxy_lua.c", "static const char *mcp_key_hash_filter_stop(")
    if "temp[klen+1] = '\\0'" in stop:
        why = ("its stop filter reads one uninitialised byte past the key (upstream's bug, fixed in 1.6.45): "
               "the stock placement is not defined")
        for fn, _, _ in FILTERS:
            if fn.startswith("stop"):
                out[fn] = why
    tag = _function_body(tree, "proxy_lua.c", "static const char *mcp_key_hash_filter_tag(")
    if "memchr(t1, conf[1]" in tag:
        out["tags-same"] = ("its tags filter hashes a length of -1 with one character at both ends "
                            "(upstream's bug, fixed in 1.6.45): the stock proxy crashes")
    return out


def probe(a):
    skip_filters = set()
    if a.tree and broken_default_omode(a.tree):
        print("routing-probe: leaving out ring hash omode 'default': this tree's proxy_ring_hash.c never advances "
              "its index there (upstream's bug, fixed in 9dcfdef76): its placement is uninitialised memory",
              file=sys.stderr)
        a.skip_omode.append("default")
    # only for a comparison with stock C (test-arch): ours has 1.6.45's filters
    # on every tree, and test-routing.sh runs them all there (ours must survive)
    for fn, why in (broken_filters(a.tree) if a.tree and a.skip_broken_filters else {}).items():
        print(f"routing-probe: leaving out filter {fn}: this tree's proxy_lua.c: {why}", file=sys.stderr)
        skip_filters.add(fn)
    plist = pools(set(a.skip_omode), skip_filters)
    # Fixed ports: the ring hash places its points by "host:port", so the
    # same ports everywhere give the same rings.
    try:
        fb = FakeBackends(a.port_base + 1)
    except OSError as e:
        sys.exit(f"routing-probe: cannot listen on 127.0.0.1:{a.port_base + 1}..{a.port_base + NB_MAX}: {e}")
    fb.start()
    tmp = tempfile.mkdtemp(prefix="mcp-routing-")
    cfg = os.path.join(tmp, "probe.lua")
    lua_config(cfg, plist, fb.ports)
    port = a.port_base
    err = open(os.path.join(tmp, "proxy.err"), "w")
    proc = subprocess.Popen([a.bin, *USER, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-t", "2",
                             "-o", f"proxy_config={cfg}"], stdout=subprocess.DEVNULL, stderr=err)
    if not wait_port(port, proc, a.start_timeout):
        proc.kill()
        sys.exit(f"routing-probe: {a.bin} did not start (see {tmp}/proxy.err)")
    keys = Keys("proxy-lua-rs routing probe")
    cmds = a.commands.split(",")
    prefix = {name: f"p{i}".encode() for i, (name, _, _, _) in enumerate(plist)}
    plan = []  # (pool, command, key as sent) in order
    for name, _, nb, delim in plist:
        for j in range(a.keys_per_pool):
            cmd = cmds[(j + len(plan)) % len(cmds)]
            k = keys.key(delim)
            if cmd == "mgb":
                k = base64.b64encode(k[:186])
            elif cmd in ("get", "set"):
                k = (prefix[name] + b"/" + k)[:250]
            plan.append((name, cmd, k))
    sock = socket.create_connection(("127.0.0.1", port), timeout=a.io_timeout)
    rf = sock.makefile("rb")
    bad = 0
    t0 = time.time()
    batch = 64
    want = {"mg": b"EN\r\n", "mgb": b"EN\r\n", "ms": b"HD\r\n", "get": b"END\r\n", "set": b"STORED\r\n"}

    def request(n, cmd, k):
        if cmd == "mg":
            return b"mg " + k + b" v O" + n.encode() + b"\r\n"
        if cmd == "mgb":
            return b"mg " + k + b" b v O" + n.encode() + b"\r\n"
        if cmd == "ms":
            return b"ms " + k + b" 1 O" + n.encode() + b"\r\nx\r\n"
        if cmd == "get":
            return b"get " + k + b"\r\n"
        return b"set " + k + b" 0 0 1\r\nx\r\n"

    for i in range(0, len(plan), batch):
        chunk = plan[i:i + batch]
        sock.sendall(b"".join(request(n, c, k) for n, c, k in chunk))
        for n, c, k in chunk:
            line = rf.readline()
            if not line:
                time.sleep(0.5)
                rc = proc.poll()
                how = (f"killed by {signal.Signals(-rc).name}" if rc is not None and rc < 0
                       else f"exit status {rc}" if rc is not None else "still running")
                unanswered = plan[i:i + batch][[x[2] for x in chunk].index(k):]
                print(f"routing-probe: the proxy closed the connection ({how}) after {i} keys; "
                      f"the requests in flight (pool, command, key):", file=sys.stderr)
                for un, uc, uk in unanswered[:8]:
                    print(f"  {un} {uc} {uk!r} ({len(uk)} bytes)", file=sys.stderr)
                with open(os.path.join(tmp, "proxy.err"), errors="replace") as fe:
                    for l in fe.read().splitlines()[-5:]:
                        print(f"  proxy stderr: {l}", file=sys.stderr)
                with open(a.out, "w") as f:
                    json.dump({"bin": a.bin, "crashed": how, "after_keys": i}, f)
                sys.exit(1)
            if line != want[c]:
                bad += 1
                if bad <= 5:
                    print(f"routing-probe: unexpected reply {line!r}", file=sys.stderr)
        if a.progress and (i // batch) % 200 == 0:
            print(f"routing-probe: {i}/{len(plan)} keys ({time.time() - t0:.0f}s)", file=sys.stderr)
    sock.close()
    alive = proc.poll() is None
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    fb.stop = True
    report = {"bin": a.bin, "keys": len(plan), "unexpected_replies": bad, "unexpected_requests": fb.other,
              "proxy_alive_at_end": alive, "pools": {}}
    missing = 0
    for name, opts, nb, _ in plist:
        h = hashlib.sha256()
        counts = [0] * nb
        pkey = prefix[name]
        for n, c, k in plan:
            if n != name:
                continue
            wire = {"mg": b"mg", "mgb": b"mg", "ms": b"ms", "get": b"get", "set": b"set"}[c]
            idx = fb.where.get((pkey if c in ("get", "set") else name.encode(), wire + b" " + k))
            if idx is None:
                missing += 1
                h.update(b"-,")
                continue
            counts[idx] += 1
            h.update(f"{idx},".encode())
        report["pools"][name] = {"options": opts, "backends": nb, "digest": h.hexdigest(), "counts": counts}
    report["keys_not_seen_by_a_backend"] = missing
    with open(a.out, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
    ok = bad == 0 and missing == 0 and fb.other == 0 and alive
    print(f"routing-probe: {len(plan)} keys through {len(plist)} pools in {time.time() - t0:.0f}s; "
          f"unexpected replies {bad}, keys no backend saw {missing}; proxy alive: {alive}; report {a.out}")
    return 0 if ok else 1


def compare(files):
    reps = []
    for f in files:
        try:
            with open(f) as fh:
                reps.append(json.load(fh))
        except (OSError, ValueError) as e:
            print(f"routing-probe: cannot read the report {f}: {e}")
            return 1
        if "crashed" in reps[-1]:
            print(f"routing-probe: {f}: the proxy was {reps[-1]['crashed']} after {reps[-1]['after_keys']} keys")
            return 1
    ref = reps[0]
    diffs = 0
    for f, r in zip(files[1:], reps[1:]):
        if r["keys"] != ref["keys"] or set(r["pools"]) != set(ref["pools"]):
            print(f"routing-probe: {f}: different key set or pools than {files[0]}")
            diffs += 1
            continue
        for name, p in ref["pools"].items():
            if r["pools"][name]["digest"] != p["digest"]:
                diffs += 1
                if diffs <= 20:
                    print(f"routing-probe: pool {name} ({p['options'] or 'defaults'}, {p['backends']} backends): "
                      f"{f} places keys differently from {files[0]}")
    n = len(ref["pools"])
    if diffs > 20:
        print(f"routing-probe: ... {diffs} pools differ in all")
    if diffs == 0:
        print(f"routing-probe: identical placement of {ref['keys']} keys in {n} pools across {len(files)} reports")
    return 1 if diffs else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin")
    ap.add_argument("--out")
    ap.add_argument("--keys-per-pool", type=int, default=200)
    ap.add_argument("--commands", default="mg",
                    help="comma-separated, taken in turn: mg, mgb (mg with a base64 key, flag b), ms, get, set "
                    "(text commands are routed by a key prefix pN/ naming the pool)")
    ap.add_argument("--skip-omode", action="append", default=[])
    ap.add_argument("--skip-broken-filters", action="store_true",
                    help="leave out the key filters whose placement this tree's stock proxy_lua.c "
                         "does not define (see broken_filters)")
    ap.add_argument("--tree", help="the memcached source tree BIN was built from (detects upstream's broken "
                    "default ring omode and, with --skip-broken-filters, key filters)")
    ap.add_argument("--port-base", type=int, default=23100,
                    help="the proxy listens here, the fake backends on the next 64 ports")
    ap.add_argument("--start-timeout", type=float, default=120)
    ap.add_argument("--io-timeout", type=float, default=120)
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--compare", nargs="+")
    a = ap.parse_args()
    if a.compare:
        sys.exit(compare(a.compare))
    if not a.bin or not a.out:
        ap.error("--bin and --out (or --compare)")
    sys.exit(probe(a))


if __name__ == "__main__":
    main()
