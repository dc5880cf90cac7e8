//! Builds, for `cargo test` only: memcached's own vendored Lua 5.4.3, the
//! pure memcached C files proxy_lua.c's registration uses (xxhash, jump and
//! ring hash, md5, mcmc), and C stand-ins (c/standins.c) for the rest of
//! memcached. Everything is compiled with the layout flags of the binary
//! under test (MCP_PROBE_CFLAGS), so the stand-ins see the same structs.

use std::env;
use std::path::PathBuf;

fn main() {
    for v in [
        "MCP_MEMCACHED_BUILD_DIR",
        "MCP_MEMCACHED_SRC_DIR",
        "MCP_PROBE_CFLAGS",
        "MCP_PROBE_CC",
    ] {
        println!("cargo::rerun-if-env-changed={v}");
    }
    println!("cargo::rerun-if-changed=c/standins.c");
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let build_dir = env::var_os("MCP_MEMCACHED_BUILD_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../build/memcached-1.6.45"));
    let build_dir = build_dir.canonicalize().unwrap_or_else(|_| {
        panic!(
            "mcp-test-support: memcached build dir {} not found (run `make tree`)",
            build_dir.display()
        )
    });
    let src_dir = env::var_os("MCP_MEMCACHED_SRC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| build_dir.clone());
    let cflags = env::var("MCP_PROBE_CFLAGS")
        .expect("mcp-test-support: MCP_PROBE_CFLAGS is not set (use `make cargo-test`)");

    // Lua exactly as memcached's vendor/Makefile builds it (C, not C++).
    let lua_src = src_dir.join("vendor/lua/src");
    let mut lua = cc::Build::new();
    for f in std::fs::read_dir(&lua_src).unwrap() {
        let p = f.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if name.ends_with(".c") && name != "lua.c" && name != "luac.c" {
            println!("cargo::rerun-if-changed={}", p.display());
            lua.file(&p);
        }
    }
    lua.define("LUA_COMPAT_5_3", None)
        .define("LUA_USE_APICHECK", None)
        .warnings(false)
        .opt_level(2)
        .compile("mcp_test_lua");

    // memcached files + stand-ins, with the binary's flags. Relative -I paths
    // are relative to memcached's build dir; coverage flags are dropped (they
    // do not change layouts and would need libgcov).
    let mut c = cc::Build::new();
    for fl in cflags.split_whitespace() {
        if fl == "-fprofile-arcs" || fl == "-ftest-coverage" || fl.starts_with("-W") || fl == "-pedantic" {
            continue;
        }
        if let Some(inc) = fl.strip_prefix("-I") {
            let p = PathBuf::from(inc);
            let p = if p.is_absolute() { p } else { build_dir.join(p) };
            c.include(p);
        } else {
            c.flag(fl);
        }
    }
    c.include(&src_dir).include(src_dir.join("vendor/lua/src"));
    for f in [
        "proxy_xxhash.c",
        "proxy_jump_hash.c",
        "proxy_ring_hash.c",
        "md5.c",
        "vendor/mcmc/mcmc.c",
    ] {
        println!("cargo::rerun-if-changed={}", src_dir.join(f).display());
        c.file(src_dir.join(f));
    }
    c.file("c/standins.c")
        .warnings(false)
        .compile("mcp_test_standins");
}
