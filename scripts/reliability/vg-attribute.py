#!/usr/bin/env python3
"""Attribute valgrind memcheck reports to our library or to upstream's C.

    scripts/reliability/vg-attribute.py LOG...

Reads memcheck log files (--log-file) and prints one line per error or
definite-leak record: its kind, whose code it is, and the frame that decided.
Walking the stack from the innermost frame out, valgrind's allocator,
libc, the allocation-failure injector and the Lua VM are skipped (memcached's
proxy_lua_error raise helpers too: whoever called them raised); the first
frame left decides: Rust source (our library, or core/xxhash code linked into
it) is ours, C is upstream's (memcached, libevent). A record whose stack has
a frame of ours further out is marked "via ours" so it can be read, but is
upstream's.

Prints a summary line last; exits 1 when any record is ours.
"""
import re
import sys

LUA = {
    "lapi.c", "lauxlib.c", "lbaselib.c", "lcode.c", "lcorolib.c", "lctype.c",
    "ldblib.c", "ldebug.c", "ldo.c", "ldump.c", "lfunc.c", "lgc.c", "linit.c",
    "liolib.c", "llex.c", "lmathlib.c", "lmem.c", "loadlib.c", "lobject.c",
    "lopcodes.c", "loslib.c", "lparser.c", "lstate.c", "lstring.c",
    "lstrlib.c", "ltable.c", "ltablib.c", "ltm.c", "lundump.c", "lutf8lib.c",
    "lvm.c", "lzio.c",
}
SKIP_FN = {"proxy_lua_error", "proxy_lua_ferror"}
HEAD = re.compile(
    r"^==\d+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised"
    r"|Mismatched free|Source and destination overlap|Syscall param"
    r"|Argument .* of function .* has a fishy"
    r"|[\d,]+ (\([\d,]+ direct, [\d,]+ indirect\) )?bytes in [\d,]+ blocks are definitely lost)"
)
FRAME = re.compile(r"^==\d+==    (?:at|by) 0x[0-9A-F]+: (.*?) \((.*)\)$")


def decide(frames):
    """frames: [(function, location)] innermost first -> (whose, frame, via)"""
    via = any(loc.split(":")[0].endswith(".rs") for _, loc in frames)
    for fn, loc in frames:
        if loc.startswith("in "):  # no debug info: a shared object
            continue
        f = loc.split(":")[0]
        if f in LUA or f == "failalloc.c" or fn in SKIP_FN:
            continue
        if f.endswith(".rs"):
            return "ours", f"{fn} ({loc})", via
        return "upstream", f"{fn} ({loc})", via
    return "upstream", "(no frame with source)", via


def records(path):
    cur = None
    with open(path, errors="replace") as fh:
        for line in fh:
            line = line.rstrip("\n")
            m = HEAD.match(line)
            if m:
                if cur:
                    yield cur
                head = line.split("== ", 1)[1]
                cur = [re.sub(r" in loss record [\d,]+ of [\d,]+", "", head), []]
                continue
            if cur is None:
                continue
            fm = FRAME.match(line)
            if fm:
                cur[1].append((fm.group(1), fm.group(2)))
            elif re.match(r"^==\d+== ?$", line) or " Address 0x" in line or "Block was" in line:
                if cur[1]:
                    yield cur
                    cur = None
    if cur:
        yield cur


def main(paths):
    ours = upstream = 0
    for p in paths:
        for head, frames in records(p):
            whose, frame, via = decide(frames)
            if whose == "ours":
                ours += 1
            else:
                upstream += 1
            extra = " (via ours)" if whose == "upstream" and via else ""
            print(f"{whose}{extra}: {head} at {frame}  [{p}]")
    print(f"vg-attribute: {len(paths)} logs, {ours} records of ours, {upstream} of upstream's C")
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
