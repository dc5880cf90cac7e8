//! `make drift-table DIR=...`: writes the drift guard's table
//! (build-support/proxy_lua_releases.txt) from memcached release tarballs:
//! for every C function of each release's proxy_lua.c, its normalised hash
//! (build-support/drift.rs, the same code build.rs uses) and the releases
//! that have that version of it.
//!
//!   drift-table BEHAVIOUR OUT TARBALL...
//!
//! BEHAVIOUR is the release whose proxy_lua.c the library's code follows
//! (written into the table; the library's identification string names it).
//! Each TARBALL is memcached-VERSION.tar.* or memcached_VERSION.orig.tar.*,
//! holding memcached-VERSION/proxy_lua.c.

#[allow(dead_code)] // compare() is build.rs's
#[path = "../../../build-support/drift.rs"]
mod drift;

use std::collections::BTreeMap;
use std::process::Command;

fn version_of(path: &str) -> String {
    let f = path.rsplit('/').next().unwrap_or(path);
    let v = f
        .trim_start_matches("memcached-")
        .trim_start_matches("memcached_");
    let v = v.split(".orig").next().unwrap_or(v);
    let v = v.split(".tar").next().unwrap_or(v);
    v.to_string()
}

fn vkey(v: &str) -> Vec<u64> {
    v.split('.').map(|x| x.parse().unwrap_or(0)).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: drift-table BEHAVIOUR OUT TARBALL...");
        std::process::exit(2);
    }
    let behaviour = &args[1];
    let out = &args[2];
    let mut releases: Vec<(String, Vec<(String, u64)>)> = Vec::new();
    for tb in &args[3..] {
        let v = version_of(tb);
        let o = Command::new("tar")
            .args(["-xOf", tb, &format!("memcached-{v}/proxy_lua.c")])
            .output()
            .expect("tar");
        if !o.status.success() || o.stdout.is_empty() {
            eprintln!("drift-table: {tb}: no memcached-{v}/proxy_lua.c");
            std::process::exit(1);
        }
        let src = String::from_utf8_lossy(&o.stdout);
        let f = drift::functions(&src);
        eprintln!("drift-table: {v}: {} functions", f.len());
        releases.push((v, f));
    }
    releases.sort_by_key(|r| vkey(&r.0));
    if !releases.iter().any(|r| &r.0 == behaviour) {
        eprintln!("drift-table: the behaviour release {behaviour} is not among the tarballs");
        std::process::exit(1);
    }
    // (name, hash) -> releases; names in the order of the newest release
    let mut map: BTreeMap<(String, u64), Vec<String>> = BTreeMap::new();
    for (v, f) in &releases {
        for (n, h) in f {
            map.entry((n.clone(), *h)).or_default().push(v.clone());
        }
    }
    let mut text = String::new();
    text.push_str("# proxy_lua.c of the upstream releases the library has been checked against:\n");
    text.push_str("# per C function, a hash of its normalised text (build-support/drift.rs) and the\n");
    text.push_str("# releases that have that version of it. Made by `make drift-table DIR=...`\n");
    text.push_str("# (tools/drift-table); read by build.rs, which refuses a tree whose proxy_lua.c\n");
    text.push_str("# has a function not in this table (docs/debian.md, \"Refreshing it\").\n");
    text.push_str(&format!("behaviour {behaviour}\n"));
    text.push_str("releases");
    for (v, _) in &releases {
        text.push_str(&format!(" {v}"));
    }
    text.push('\n');
    for ((n, h), vs) in &map {
        text.push_str(&format!("{n} {h:016x} {}\n", vs.join(" ")));
    }
    std::fs::write(out, text).expect("write the table");
    eprintln!(
        "drift-table: {} function versions of {} releases in {out}",
        map.len(),
        releases.len()
    );
}
