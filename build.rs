//! Build script: takes every memcached struct layout the library touches from
//! the *configured* memcached tree, compiled with the *exact* flags of the
//! binary the library is linked into.
//!
//! 1. `build-support/layout_spec.rs` lists, per C struct, the members the Rust
//!    code reads, writes or allocates, with the Rust type it assumes for each.
//! 2. From it we write `probe.c`, compile it with memcached's compiler and
//!    flags (`MCP_PROBE_CC`, `MCP_PROBE_CFLAGS`, run from memcached's build
//!    directory because configure adds relative `-I` paths), run it, and read
//!    back `sizeof`, `_Alignof`, `offsetof`, member sizes and signedness, the
//!    configure switches (`PROXY_TLS`, `MEMCACHED_DEBUG`, ...) and constants.
//! 3. We generate `#[repr(C)]` mirrors in `$OUT_DIR/layout.rs` that place each
//!    listed member at the probed offset (explicit padding elsewhere), plus
//!    compile-time assertions of every size, alignment, offset, member size and
//!    signedness. A wrong Rust type assumption therefore fails the build with
//!    `layout mismatch: <struct>.<member> ...`.
//!
//! Inputs (environment):
//! - `MCP_MEMCACHED_BUILD_DIR`: configured memcached build dir (has config.h).
//!   Default: `build/memcached-1.6.45` next to this file.
//! - `MCP_MEMCACHED_SRC_DIR`: memcached source dir (default: the build dir).
//! - `MCP_PROBE_CFLAGS`: the compile flags of the target binary, exactly as
//!   memcached's Makefile compiles its objects (`memcached` or
//!   `memcached-debug`). Required.
//! - `MCP_PROBE_CC`: the C compiler (default: `cc`).
//! - `MCP_LAYOUT_WRONG_TYPE=<c struct>.<member>=<rust type>`: test hook that
//!   replaces one Rust type assumption, to prove that a mismatch fails the
//!   build.

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "build-support/drift.rs"]
mod drift;
#[path = "build-support/layout_spec.rs"]
mod layout_spec;
#[path = "build-support/lua_api_check.rs"]
mod lua_api_check;
use layout_spec::{CONSTS, DEFINE_GROUPS, STRUCTS, SWITCHES, StructSpec, VALUE_STRUCTS};

fn die(msg: &str) -> ! {
    eprintln!("\nerror: proxy-lua-rs build: {msg}\n");
    // A build-script panic prints the message and stops the build.
    panic!("proxy-lua-rs build: {msg}");
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());

    for v in [
        "MCP_MEMCACHED_BUILD_DIR",
        "MCP_MEMCACHED_SRC_DIR",
        "MCP_PROBE_CFLAGS",
        "MCP_PROBE_CC",
        "MCP_LAYOUT_WRONG_TYPE",
        "MCP_ALLOW_DRIFT",
    ] {
        println!("cargo::rerun-if-env-changed={v}");
    }
    println!("cargo::rerun-if-changed=build-support/drift.rs");
    println!("cargo::rerun-if-changed=build-support/proxy_lua_releases.txt");
    println!("cargo::rerun-if-changed=build-support/layout_spec.rs");
    println!("cargo::rerun-if-changed=build-support/host_check.c");
    println!("cargo::rerun-if-changed=build-support/host_libc.c");
    println!("cargo::rerun-if-changed=build-support/lua_api_check.rs");
    println!("cargo::rerun-if-changed=src/ffi/lua.rs");
    for c in [
        "mcp_request_raw_line",
        "mcp_request_raw_value",
        "mcp_response_raw_string",
        "mcp_proxy_tls",
        "mcp_memcached_debug",
        "mcp_use_eventfd",
        "mcp_extstore",
    ] {
        println!("cargo::rustc-check-cfg=cfg({c})");
    }

    let build_dir = match env::var_os("MCP_MEMCACHED_BUILD_DIR") {
        Some(d) => PathBuf::from(d),
        None => manifest.join("build").join("memcached-1.6.45"),
    };
    let build_dir = build_dir.canonicalize().unwrap_or_else(|_| {
        die(&format!(
            "memcached build directory {} not found. Build the tree first (`make tree` at the \
             top of the repository) or set MCP_MEMCACHED_BUILD_DIR to a configured memcached tree.",
            build_dir.display()
        ))
    });
    let src_dir = env::var_os("MCP_MEMCACHED_SRC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| build_dir.clone());
    if !build_dir.join("config.h").exists() {
        die(&format!(
            "{} has no config.h: run memcached's ./configure --enable-proxy there first",
            build_dir.display()
        ));
    }
    let cflags = env::var("MCP_PROBE_CFLAGS").unwrap_or_else(|_| {
        die(
            "MCP_PROBE_CFLAGS is not set. It must hold the exact flags memcached compiles \
             its objects with; build through memcached's make (the patch passes them) or \
             through the top-level Makefile (`make cargo-test`).",
        )
    });
    let cc = env::var("MCP_PROBE_CC").unwrap_or_else(|_| "cc".to_string());

    for h in [
        "config.h",
        "proxy.h",
        "memcached.h",
        "logger.h",
        "proto_proxy.h",
        "proto_parser.h",
        "proto_parser_type.h",
        "queue.h",
        "vendor/mcmc/mcmc.h",
        "extstore.h",
    ] {
        for d in [&build_dir, &src_dir] {
            let p = d.join(h);
            if p.exists() {
                println!("cargo::rerun-if-changed={}", p.display());
            }
        }
    }

    // ---- 0. drift guard: is this tree's proxy_lua.c one the library has
    // been checked against? (build-support/drift.rs; the table is made by
    // `make drift-table`.) MCP_ALLOW_DRIFT=1 turns the refusal into
    // warnings, for the work of porting a new release.
    let table_text = fs::read_to_string(manifest.join("build-support/proxy_lua_releases.txt"))
        .unwrap_or_else(|e| die(&format!("cannot read build-support/proxy_lua_releases.txt: {e}")));
    let table = drift::parse_table(&table_text)
        .unwrap_or_else(|e| die(&format!("build-support/proxy_lua_releases.txt: {e}")));
    let plc = src_dir.join("proxy_lua.c");
    println!("cargo::rerun-if-changed={}", plc.display());
    let allow_drift = env::var("MCP_ALLOW_DRIFT").map(|v| v == "1").unwrap_or(false);
    let tree_release = match fs::read_to_string(&plc) {
        Ok(src) => {
            let v = drift::compare(&drift::functions(&src), &table);
            if v.problems.is_empty() {
                v.identical_to.join("/")
            } else if allow_drift {
                for p in &v.problems {
                    println!("cargo::warning={p} (MCP_ALLOW_DRIFT=1)");
                }
                "unchecked".to_string()
            } else {
                die(&format!(
                    "this tree's proxy_lua.c ({}) is not one the library has been checked against:\n  {}\n\
                     The library replaces proxy_lua.c; a change there is behaviour it does not have yet. \
                     Port it (src/mcplib/), then record the release: `make drift-table DIR=...` \
                     (docs/debian.md, \"Refreshing it\"). MCP_ALLOW_DRIFT=1 builds anyway, with warnings.",
                    plc.display(),
                    v.problems.join("\n  ")
                ))
            }
        }
        Err(e) if allow_drift => {
            println!(
                "cargo::warning=no proxy_lua.c in {} ({e}) (MCP_ALLOW_DRIFT=1)",
                src_dir.display()
            );
            "unchecked".to_string()
        }
        Err(e) => die(&format!(
            "cannot read {} ({e}): the drift guard needs the tree's proxy_lua.c to know which upstream \
             release the library replaces. MCP_ALLOW_DRIFT=1 builds anyway.",
            plc.display()
        )),
    };
    println!("cargo::rustc-env=MCP_PROXY_LUA_BEHAVIOUR={}", table.behaviour);
    println!("cargo::rustc-env=MCP_PROXY_LUA_TREE={tree_release}");

    // Methods upstream added over time and registers in the request and
    // response metatables (1.6.40: raw_line, raw_value, raw_string): we
    // register exactly those this tree's proxy.h declares, never by version.
    let proxy_h = fs::read_to_string(src_dir.join("proxy.h"))
        .unwrap_or_else(|e| die(&format!("cannot read {}/proxy.h: {e}", src_dir.display())));
    for (func, cfg) in [
        ("mcplib_request_raw_line", "mcp_request_raw_line"),
        ("mcplib_request_raw_value", "mcp_request_raw_value"),
        ("mcplib_response_raw_string", "mcp_response_raw_string"),
    ] {
        if declares_function(&proxy_h, func) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }

    // Test hook: replace one Rust type assumption.
    let wrong = env::var("MCP_LAYOUT_WRONG_TYPE").ok().map(|s| {
        let (lhs, ty) = s
            .split_once('=')
            .unwrap_or_else(|| die("MCP_LAYOUT_WRONG_TYPE must be <struct>.<member>=<rust type>"));
        let (st, f) = lhs
            .split_once('.')
            .unwrap_or_else(|| die("MCP_LAYOUT_WRONG_TYPE must be <struct>.<member>=<rust type>"));
        (st.to_string(), f.to_string(), ty.to_string())
    });

    // ---- 1. probe.c ----
    let probe_c = out.join("mcp_layout_probe.c");
    fs::write(&probe_c, gen_probe()).unwrap();
    let probe_bin = out.join("mcp_layout_probe");
    let mut cmd = Command::new("sh");
    // The flags are a shell word list exactly as make passes them.
    cmd.arg("-c")
        .arg(format!(
            "exec {cc} {cflags} -I{src} -I{src}/vendor/lua/src -o {bin} {probe}",
            src = sh_quote(&src_dir),
            bin = sh_quote(&probe_bin),
            probe = sh_quote(&probe_c)
        ))
        .current_dir(&build_dir);
    let o = cmd
        .output()
        .unwrap_or_else(|e| die(&format!("cannot run {cc}: {e}")));
    if !o.status.success() {
        die(&format!(
            "the layout probe did not compile against {} with flags `{cflags}`:\n{}",
            build_dir.display(),
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    let o = Command::new(&probe_bin)
        .output()
        .unwrap_or_else(|e| die(&format!("cannot run the layout probe: {e}")));
    if !o.status.success() {
        die("the layout probe failed to run");
    }
    let probe_out = String::from_utf8(o.stdout).unwrap();

    // ---- 1b. our Lua API declarations against the Lua headers of this build ----
    let lua_rs = fs::read_to_string(manifest.join("src/ffi/lua.rs")).unwrap();
    let checked =
        lua_api_check::check_source(&lua_rs).unwrap_or_else(|e| die(&format!("src/ffi/lua.rs: {e}")));
    let check_c = out.join("mcp_lua_api_check.c");
    fs::write(&check_c, &checked.c_source).unwrap();
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec {cc} {cflags} -I{src} -I{src}/vendor/lua/src -fsyntax-only {check}",
            src = sh_quote(&src_dir),
            check = sh_quote(&check_c)
        ))
        .current_dir(&build_dir)
        .output()
        .unwrap_or_else(|e| die(&format!("cannot run {cc}: {e}")));
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        let mism: Vec<&str> = err.lines().filter(|l| l.contains("Lua API mismatch")).collect();
        die(&format!(
            "our Lua API declarations (src/ffi/lua.rs) disagree with the Lua headers memcached \
             is built with (flags `{cflags}`):\n{}\n(full compiler output:)\n{err}",
            mism.join("\n")
        ));
    }
    fs::write(
        out.join("mcp_lua_api_check.txt"),
        format!(
            "checked {} Lua functions, {} types and {} constants of src/ffi/lua.rs against the Lua headers\n",
            checked.functions, checked.types, checked.consts
        ),
    )
    .unwrap();
    fs::write(out.join("mcp_layout_probe.txt"), &probe_out).unwrap();

    // ---- 2. parse ----
    let mut switches = BTreeMap::new();
    let mut consts = BTreeMap::new();
    let mut defines: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    let mut sizes = BTreeMap::new();
    let mut fields: BTreeMap<(String, String), (usize, usize, i32)> = BTreeMap::new();
    for line in probe_out.lines() {
        let w: Vec<&str> = line.split('\t').collect();
        match w[0] {
            "switch" => {
                switches.insert(w[1].to_string(), w[2] == "1");
            }
            "const" => {
                consts.insert(w[1].to_string(), w[2].parse::<i128>().unwrap());
            }
            "define" => defines
                .entry(w[1].to_string())
                .or_default()
                .push((w[2].to_string(), w[3].parse().unwrap())),
            "struct" => {
                sizes.insert(
                    w[1].to_string(),
                    (w[2].parse::<usize>().unwrap(), w[3].parse::<usize>().unwrap()),
                );
            }
            "field" => {
                fields.insert(
                    (w[1].to_string(), w[2].to_string()),
                    (
                        w[3].parse().unwrap(),
                        w[4].parse().unwrap(),
                        w[5].parse().unwrap(),
                    ),
                );
            }
            _ => die(&format!("unexpected probe output line: {line}")),
        }
    }

    // ---- 3. generate ----
    let mut rs = String::new();
    writeln!(rs, "// Generated by build.rs from the layout probe. Do not edit.").unwrap();
    writeln!(rs, "// memcached build dir: {}", build_dir.display()).unwrap();
    writeln!(rs, "// probe flags: {}", cflags.replace('\n', " ")).unwrap();
    writeln!(rs, "pub const PROBE_CFLAGS: &str = {:?};", cflags).unwrap();
    for (name, on) in &switches {
        writeln!(rs, "pub const HAVE_{name}: bool = {on};").unwrap();
        let cfg = match name.as_str() {
            "PROXY_TLS" => Some("mcp_proxy_tls"),
            "MEMCACHED_DEBUG" => Some("mcp_memcached_debug"),
            "USE_EVENTFD" => Some("mcp_use_eventfd"),
            "EXTSTORE" => Some("mcp_extstore"),
            _ => None,
        };
        if let (Some(c), true) = (cfg, *on) {
            println!("cargo::rustc-cfg={c}");
        }
    }
    for c in CONSTS {
        let v = consts[c.name];
        writeln!(rs, "pub const {}: {} = {};", c.name, c.rust_type, v).unwrap();
    }
    for g in DEFINE_GROUPS {
        let list = defines.get(g.name).cloned().unwrap_or_default();
        // Names as one NUL-separated byte string and values as a plain
        // array, not a table of (&CStr, i64): a table of pointers needs a
        // load-time relocation per entry in a PIE and dirties a page of
        // RELRO in every process; this needs none.
        let names: String = list.iter().map(|(n, _)| format!("{n}\\0")).collect();
        writeln!(rs, "pub const {}_NAMES: &[u8] = b\"{names}\";", g.name).unwrap();
        writeln!(rs, "pub static {}_VALUES: [i64; {}] = [", g.name, list.len()).unwrap();
        for (_, v) in list {
            writeln!(rs, "    {v},").unwrap();
        }
        writeln!(rs, "];").unwrap();
    }
    for s in STRUCTS {
        gen_struct(&mut rs, s, &sizes, &fields, wrong.as_ref());
    }
    fs::write(out.join("layout.rs"), rs).unwrap();

    // ---- 4. the C library calls memcached's flags can redirect (see
    // host_libc.c), compiled like the probe: memcached's compiler and flags,
    // in its build directory. Coverage instrumentation (memcached-debug's
    // -fprofile-arcs -ftest-coverage) is switched off for this one object:
    // it changes neither types nor symbol bindings, and it would need
    // libgcov in every program the archive is linked into (cargo's tests).
    let libc_o = out.join("mcp_host_libc.o");
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec {cc} {cflags} -fno-profile-arcs -fno-test-coverage -I{src} -I{src}/vendor/lua/src -c -o {obj} {file}",
            src = sh_quote(&src_dir),
            obj = sh_quote(&libc_o),
            file = sh_quote(&manifest.join("build-support/host_libc.c"))
        ))
        .current_dir(&build_dir)
        .output()
        .unwrap_or_else(|e| die(&format!("cannot run {cc}: {e}")));
    if !o.status.success() {
        die(&format!(
            "build-support/host_libc.c did not compile with memcached's flags `{cflags}`:\n{}",
            String::from_utf8_lossy(&o.stderr)
        ));
    }

    // ---- 5. the start-up host check (weak references; see host_check.c) ----
    cc::Build::new()
        .file("build-support/host_check.c")
        .object(&libc_o)
        .warnings(true)
        .compile("proxy_lua_rs_host_check");
}

/// Whether a C header declares `int NAME(` (a prototype at the start of a
/// line, as memcached's headers write them).
fn declares_function(header: &str, name: &str) -> bool {
    header.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("int ") && l[4..].trim_start().starts_with(name) && {
            let rest = l[4..].trim_start()[name.len()..].trim_start();
            rest.starts_with('(')
        }
    })
}

fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

fn gen_probe() -> String {
    let mut c = String::new();
    c.push_str(
        "/* Generated by proxy-lua-rs build.rs. */\n\
         #include \"proxy.h\"\n\
         #include <stdio.h>\n\
         #include <stddef.h>\n\
         #define SIGNED_OF(T, m) ((int)(((__typeof__(((T *)0)->m))-1) < 0))\n\
         int main(void) {\n",
    );
    for s in SWITCHES {
        writeln!(
            c,
            "#ifdef {s}\n    printf(\"switch\\t{s}\\t1\\n\");\n#else\n    printf(\"switch\\t{s}\\t0\\n\");\n#endif"
        )
        .unwrap();
    }
    for k in CONSTS {
        writeln!(
            c,
            "    printf(\"const\\t{}\\t%lld\\n\", (long long)({}));",
            k.name, k.c_expr
        )
        .unwrap();
    }
    for g in DEFINE_GROUPS {
        for (name, expr) in g.entries {
            writeln!(
                c,
                "    printf(\"define\\t{}\\t{}\\t%lld\\n\", (long long)({}));",
                g.name, name, expr
            )
            .unwrap();
        }
        if let Some(xm) = g.xmacro {
            writeln!(
                c,
                "#define X(x) printf(\"define\\t{}\\t%s\\t%lld\\n\", #x, (long long)(x));\n    {xm}\n#undef X",
                g.name
            )
            .unwrap();
        }
    }
    for s in STRUCTS {
        writeln!(
            c,
            "    printf(\"struct\\t{0}\\t%zu\\t%zu\\n\", sizeof({0}), _Alignof({0}));",
            s.c_type
        )
        .unwrap();
        for f in s.fields.iter().chain(s.flex.iter()) {
            if let Some(cond) = f.cond {
                let (neg, sym) = match cond.strip_prefix('!') {
                    Some(x) => (true, x),
                    None => (false, cond),
                };
                writeln!(c, "#if{} {sym}", if neg { "ndef" } else { "def" }).unwrap();
            }
            let is_flex = s.flex.as_ref().map(|x| x.c == f.c).unwrap_or(false);
            let size = if is_flex {
                "(size_t)0".to_string()
            } else {
                format!("sizeof((({} *)0)->{})", s.c_type, f.c)
            };
            let signed = if f.rust.split('|').all(|t| t == "int" || is_int_type(t)) && !is_flex {
                format!("SIGNED_OF({}, {})", s.c_type, f.c)
            } else {
                "-1".to_string()
            };
            writeln!(
                c,
                "    printf(\"field\\t{0}\\t{1}\\t%zu\\t%zu\\t%d\\n\", offsetof({0}, {1}), {2}, {3});",
                s.c_type, f.c, size, signed
            )
            .unwrap();
            if f.cond.is_some() {
                c.push_str("#endif\n");
            }
        }
    }
    c.push_str("    return 0;\n}\n");
    c
}

fn is_int_type(t: &str) -> bool {
    matches!(
        t,
        "i8" | "i16"
            | "i32"
            | "i64"
            | "u8"
            | "u16"
            | "u32"
            | "u64"
            | "isize"
            | "usize"
            | "c_int"
            | "c_uint"
            | "c_long"
            | "c_ulong"
            | "c_short"
            | "c_ushort"
            | "libc::time_t"
            | "libc::suseconds_t"
            | "libc::c_long"
    )
}

fn is_signed_type(t: &str) -> bool {
    matches!(
        t,
        "i8" | "i16"
            | "i32"
            | "i64"
            | "isize"
            | "c_int"
            | "c_long"
            | "c_short"
            | "libc::time_t"
            | "libc::suseconds_t"
            | "libc::c_long"
    )
}

fn gen_struct(
    rs: &mut String,
    s: &StructSpec,
    sizes: &BTreeMap<String, (usize, usize)>,
    fields: &BTreeMap<(String, String), (usize, usize, i32)>,
    wrong: Option<&(String, String, String)>,
) {
    let (size, align) = sizes[s.c_type];
    // Members present in this configuration, sorted by offset.
    let mut present = Vec::new();
    for f in s.fields {
        if let Some(&(off, fsz, signed)) = fields.get(&(s.c_type.to_string(), f.c.to_string())) {
            let mut ty = f.rust.to_string();
            // `i64|u64`: the member's signedness differs between upstream
            // versions (e.g. active_req_limit, unsigned in 1.6.38, signed in
            // 1.6.45): take the alternative whose signedness C has.
            if ty.contains('|') {
                ty = ty
                    .split('|')
                    .find(|t| is_signed_type(t) == (signed == 1))
                    .unwrap_or_else(|| die(&format!("{}.{}: no alternative of `{ty}` fits", s.c_type, f.c)))
                    .to_string();
            }
            // `int`: the integer type of the size and signedness C has
            // (the C library's time_t, suseconds_t, ...: their width follows
            // memcached's flags, e.g. -D_TIME_BITS=64).
            if ty == "int" {
                ty = match (fsz, signed == 1) {
                    (1, true) => "i8",
                    (2, true) => "i16",
                    (4, true) => "i32",
                    (8, true) => "i64",
                    (1, false) => "u8",
                    (2, false) => "u16",
                    (4, false) => "u32",
                    (8, false) => "u64",
                    _ => die(&format!(
                        "{}.{}: no Rust integer type of {fsz} bytes",
                        s.c_type, f.c
                    )),
                }
                .to_string();
            }
            if let Some((ws, wf, wt)) = wrong {
                if ws == s.c_type && wf == f.c {
                    ty = wt.clone();
                }
            }
            present.push((f, off, fsz, signed, ty));
        }
    }
    present.sort_by_key(|p| p.1);

    // The type chosen for a member whose Rust type follows C (`i64|u64`),
    // named <Struct>_<member>_t so code can use its MAX etc.
    for (f, _, _, _, ty) in &present {
        if f.rust.contains('|') || f.rust == "int" {
            writeln!(
                rs,
                "#[allow(non_camel_case_types)]\npub type {}_{}_t = {ty};",
                s.rust, f.name
            )
            .unwrap();
        }
    }
    writeln!(
        rs,
        "\n/// Mirror of `{}` ({} bytes, align {}): only the members proxy-lua-rs uses,",
        s.c_type, size, align
    )
    .unwrap();
    writeln!(
        rs,
        "/// each at the offset the layout probe measured; the rest is opaque padding."
    )
    .unwrap();
    if VALUE_STRUCTS.contains(&s.rust) {
        writeln!(rs, "#[derive(Clone, Copy)]").unwrap();
    }
    writeln!(rs, "#[repr(C, align({align}))]").unwrap();
    writeln!(rs, "pub struct {} {{", s.rust).unwrap();
    let mut cur = 0usize;
    let mut npad = 0;
    let mut pads: Vec<String> = Vec::new();
    for (f, off, fsz, _, ty) in &present {
        if *off < cur {
            die(&format!(
                "layout spec error: {}.{} (offset {off}) overlaps the previous member",
                s.c_type, f.c
            ));
        }
        if *off > cur {
            writeln!(rs, "    _pad{npad}: [u8; {}],", off - cur).unwrap();
            pads.push(format!("_pad{npad}: [0; {}]", off - cur));
            npad += 1;
        }
        writeln!(rs, "    /// C member `{}`", f.c).unwrap();
        writeln!(rs, "    pub {}: {},", f.name, ty).unwrap();
        cur = off + fsz;
    }
    // Tail padding up to sizeof; a flexible array member starts at its offset
    // (<= sizeof) and is reached through `*_OFFSET` below.
    if size > cur {
        writeln!(rs, "    _pad{npad}: [u8; {}],", size - cur).unwrap();
        pads.push(format!("_pad{npad}: [0; {}]", size - cur));
    }
    writeln!(rs, "}}").unwrap();
    let n = s.rust;
    let c = s.c_type;
    if VALUE_STRUCTS.contains(&n) {
        // A value from its members, in offset order; padding zeroed.
        let params: Vec<String> = present.iter().map(|p| format!("{}: {}", p.0.name, p.4)).collect();
        let mut inits: Vec<String> = present.iter().map(|p| p.0.name.to_string()).collect();
        inits.extend(pads.iter().cloned());
        writeln!(
            rs,
            "impl {n} {{ pub const fn new({}) -> Self {{ Self {{ {} }} }} }}",
            params.join(", "),
            inits.join(", ")
        )
        .unwrap();
    }
    writeln!(rs, "const _: () = assert!(::core::mem::size_of::<{n}>() == {size}, \"layout mismatch: {c}: Rust mirror size differs from C sizeof ({size})\");").unwrap();
    writeln!(rs, "const _: () = assert!(::core::mem::align_of::<{n}>() == {align}, \"layout mismatch: {c}: Rust mirror alignment differs from C _Alignof ({align})\");").unwrap();
    writeln!(rs, "impl {n} {{ pub const C_SIZE: usize = {size}; }}").unwrap();
    for (f, off, fsz, signed, ty) in &present {
        let fname = f.name;
        let cm = f.c;
        writeln!(rs, "const _: () = assert!(::core::mem::offset_of!({n}, {fname}) == {off}, \"layout mismatch: {c}.{cm}: offset differs from C offsetof ({off})\");").unwrap();
        writeln!(rs, "const _: () = assert!(::core::mem::size_of::<{ty}>() == {fsz}, \"layout mismatch: {c}.{cm}: C member is {fsz} bytes but the Rust type `{ty}` is not\");").unwrap();
        if *signed >= 0 {
            if !is_int_type(ty) {
                die(&format!(
                    "layout mismatch: {c}.{cm}: C member is an integer but the Rust type `{ty}` is not"
                ));
            }
            let want = *signed == 1;
            if want != is_signed_type(ty) {
                // Emitted as a compile error so the message shows up like the others.
                writeln!(rs, "const _: () = assert!(false, \"layout mismatch: {c}.{cm}: C member is {} but the Rust type `{ty}` is not\");", if want { "signed" } else { "unsigned" }).unwrap();
            }
        }
    }
    if let Some(flex) = &s.flex {
        let (off, _, _) = fields[&(c.to_string(), flex.c.to_string())];
        writeln!(rs, "impl {n} {{").unwrap();
        writeln!(
            rs,
            "    /// Offset of the flexible array member `{}[]` (element type `{}`).",
            flex.c, flex.rust
        )
        .unwrap();
        writeln!(
            rs,
            "    pub const {}_OFFSET: usize = {off};",
            flex.name.to_uppercase()
        )
        .unwrap();
        writeln!(rs, "}}").unwrap();
    }
}
