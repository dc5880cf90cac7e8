#!/usr/bin/env python3
"""`make unsafe-report`: how much of the library is `unsafe`, per module.

Counted on src/ without src/tests/ (the crate's own tests):
- code lines: lines that are neither blank nor comments;
- unsafe lines: code lines inside an `unsafe { ... }` block (from the line
  that opens it to the line that closes it; a one-line block is one line);
  `unsafe fn`/`unsafe impl`/`unsafe trait`/`unsafe extern` items are not
  blocks and are counted separately;
- `unsafe fn`: functions declared unsafe (including `unsafe extern "C" fn`);
- every `unsafe {` block must have a `// SAFETY:` comment on the lines just
  above it (attributes and other comment lines may sit between).

Targets (issue: a safe core): at most 15% of the crate's code lines inside
unsafe blocks, at most 5% in src/mcplib, no `unsafe fn` in src/mcplib, no
unsafe block without its SAFETY comment. Exits 1 when a target is missed.

Usage: scripts/checks/unsafe-report.py [--markdown]
"""
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SRC = os.path.join(ROOT, "src")
TARGET_CRATE = 15.0
TARGET_MCPLIB = 5.0


def strip_strings(line):
    """Blank out string and char literal contents so braces in them do not
    count (c"..", b"..", r".." without hashes, '{')."""
    out = []
    i = 0
    in_str = False
    while i < len(line):
        c = line[i]
        if in_str:
            if c == "\\":
                out.append("  ")
                i += 2
                continue
            if c == '"':
                in_str = False
                out.append(c)
            else:
                out.append(" ")
            i += 1
            continue
        if c == '"':
            in_str = True
            out.append(c)
            i += 1
            continue
        if c == "'" and i + 2 < len(line) and line[i + 2] == "'":
            out.append("' '")
            i += 3
            continue
        if c == "'" and i + 3 < len(line) and line[i + 1] == "\\" and line[i + 3] == "'":
            out.append("'  '")
            i += 4
            continue
        if line.startswith("//", i):
            break
        out.append(c)
        i += 1
    return "".join(out)


def analyse(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    code = 0
    unsafe_lines = 0
    unsafe_fns = 0
    blocks = 0
    undocumented = []
    depth = None  # brace depth inside the current unsafe block
    for n, raw in enumerate(lines):
        s = raw.strip()
        is_code = bool(s) and not s.startswith("//")
        if is_code:
            code += 1
        text = strip_strings(raw)
        if re.search(r"\bunsafe\s+(extern\s+\"[^\"]*\"\s+)?fn\b", text):
            unsafe_fns += 1
        if depth is not None:
            if is_code:
                unsafe_lines += 1
            depth += text.count("{") - text.count("}")
            if depth <= 0:
                depth = None
            continue
        m = re.search(r"\bunsafe\s*\{", text)
        if m:
            blocks += 1
            # SAFETY comment: on this line, or above (skipping attributes,
            # other comments, and the `let x =`/call line it continues).
            documented = "SAFETY:" in raw
            k = n - 1
            while not documented and k >= 0 and n - k <= 6:
                t = lines[k].strip()
                if "SAFETY:" in t:
                    documented = True
                    break
                if t.startswith("//") or t.startswith("#[") or t == "":
                    k -= 1
                    continue
                # the same statement continues above (`let x =`, a call's
                # opening line): keep looking; a finished statement stops.
                if t.endswith((";", "{", "}", "},")):
                    break
                k -= 1
            if not documented:
                undocumented.append(f"{os.path.relpath(path, ROOT)}:{n + 1}")
            rest = text[m.end() - 1:]
            d = rest.count("{") - rest.count("}")
            unsafe_lines += 1
            if d > 0:
                depth = d
    return code, unsafe_lines, unsafe_fns, blocks, undocumented


def module_of(rel):
    parts = rel.split(os.sep)
    if parts[0] == "src" and len(parts) > 2:
        return "src/" + parts[1]
    return rel


def main():
    md = "--markdown" in sys.argv
    files = []
    for d, _, fs in os.walk(SRC):
        if os.path.relpath(d, SRC).split(os.sep)[0] == "tests":
            continue
        for f in sorted(fs):
            if f.endswith(".rs"):
                files.append(os.path.join(d, f))
    files.sort()
    per_file = {}
    per_mod = {}
    total = [0, 0, 0, 0]
    undocumented = []
    for p in files:
        rel = os.path.relpath(p, ROOT)
        c, u, fn, b, und = analyse(p)
        undocumented += und
        per_file[rel] = (c, u, fn, b)
        m = module_of(rel)
        acc = per_mod.setdefault(m, [0, 0, 0, 0])
        for i, v in enumerate((c, u, fn, b)):
            acc[i] += v
            total[i] += v

    def pct(u, c):
        return 100.0 * u / c if c else 0.0

    print("unsafe-report: lines inside `unsafe { }` blocks, per file (src/ without src/tests/)")
    if md:
        print("\n| file | code lines | unsafe lines | % | unsafe blocks | unsafe fn |")
        print("|---|---:|---:|---:|---:|---:|")
        for rel, (c, u, fn, b) in per_file.items():
            print(f"| `{rel}` | {c} | {u} | {pct(u, c):.1f}% | {b} | {fn} |")
        print()
    else:
        print(f"  {'file':34} {'code':>6} {'unsafe':>7} {'%':>6} {'blocks':>7} {'unsafe fn':>9}")
        for rel, (c, u, fn, b) in per_file.items():
            print(f"  {rel:34} {c:6} {u:7} {pct(u, c):5.1f}% {b:7} {fn:9}")
    print("per module:")
    for m, (c, u, fn, b) in sorted(per_mod.items()):
        print(f"  {m:34} {c:6} {u:7} {pct(u, c):5.1f}% {b:7} {fn:9}")
    c, u, fn, b = total
    mc, mu, mfn, _ = per_mod.get("src/mcplib", [0, 0, 0, 0])
    print(f"crate: {u} of {c} code lines inside unsafe blocks ({pct(u, c):.1f}%, target <= {TARGET_CRATE:.0f}%), "
          f"{b} unsafe blocks, {fn} unsafe fn")
    print(f"src/mcplib: {mu} of {mc} code lines inside unsafe blocks ({pct(mu, mc):.1f}%, target <= {TARGET_MCPLIB:.0f}%), "
          f"{mfn} unsafe fn (target 0)")
    ok = True
    if pct(u, c) > TARGET_CRATE:
        print("unsafe-report: FAIL: crate over target", file=sys.stderr)
        ok = False
    if pct(mu, mc) > TARGET_MCPLIB:
        print("unsafe-report: FAIL: src/mcplib over target", file=sys.stderr)
        ok = False
    if mfn:
        print("unsafe-report: FAIL: unsafe fn in src/mcplib", file=sys.stderr)
        ok = False
    for loc in undocumented:
        print(f"unsafe-report: FAIL: unsafe block without a // SAFETY: comment at {loc}", file=sys.stderr)
        ok = False
    if ok:
        print("unsafe-report: all targets met; every unsafe block has its SAFETY comment")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
