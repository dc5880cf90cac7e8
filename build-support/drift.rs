//! Drift guard: identifies a tree's `proxy_lua.c` per C function, so the
//! build notices an upstream `proxy_lua.c` the library has never been
//! compared with. Used by build.rs (against the table in
//! `build-support/proxy_lua_releases.txt`) and by `tools/drift-table`
//! (which makes that table from release tarballs); both must hash alike,
//! so both include this file.
//!
//! A function is a top-level definition `... name(...) { ... }`. Its
//! identity is a 64-bit FNV-1a hash of its normalised text (signature and
//! body): comments and preprocessor-free whitespace removed outside string
//! and character literals, which are kept byte for byte (error strings are
//! behaviour).

/// (function name, hash of its normalised text), in file order.
pub fn functions(src: &str) -> Vec<(String, u64)> {
    // a leading newline: a directive on the first line is one like any other
    let code = format!("\n{}", strip_comments(src));
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize; // start of the current top-level item
    let mut i = 0usize;
    let mut item_open = 0usize; // index of the '{' that opened a top-level block
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' | b'\'' => {
                i = skip_literal(b, i);
                continue;
            }
            b'{' => {
                if depth == 0 {
                    item_open = i;
                }
                depth += 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    let header = &code[start..item_open];
                    if let Some(name) = function_name(header) {
                        let text = normalise(&code[start..=i]);
                        out.push((name, fnv1a(text.as_bytes())));
                    }
                    start = i + 1;
                }
            }
            b';' if depth == 0 => start = i + 1,
            b'\n' if depth == 0 => {
                // a preprocessor line at top level ends the previous item
                let mut j = i + 1;
                while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                    j += 1;
                }
                if j < b.len() && b[j] == b'#' {
                    while j < b.len() && b[j] != b'\n' {
                        j += if b[j] == b'\\' { 2 } else { 1 };
                    }
                    start = j.min(b.len());
                    i = j;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The name of the function a top-level header defines, if it is one: an
/// identifier directly before the first '(' and no '=' before it (an
/// initialiser such as `static const luaL_Reg x[] = {`).
fn function_name(header: &str) -> Option<String> {
    let h = header.trim();
    let paren = h.find('(')?;
    if h[..paren].contains('=') {
        return None;
    }
    let before = h[..paren].trim_end();
    let name: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if name.is_empty() || name.chars().next().unwrap().is_ascii_digit() {
        return None;
    }
    // the body of a function follows its parameter list's ')'
    if !h.trim_end().ends_with(')') {
        return None;
    }
    Some(name)
}

fn skip_literal(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() && b[j] != q {
        j += if b[j] == b'\\' { 2 } else { 1 };
    }
    (j + 1).min(b.len())
}

/// Rewrites `code`, keeping string and character literals byte for byte and
/// passing everything else through `other`, which consumes from `b[i..]`
/// and returns how far it got.
fn outside_literals(code: &str, mut other: impl FnMut(&[u8], usize, &mut Vec<u8>) -> usize) -> String {
    let b = code.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' || b[i] == b'\'' {
            let j = skip_literal(b, i);
            out.extend_from_slice(&b[i..j]);
            i = j;
        } else {
            i = other(b, i, &mut out);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Comments replaced by a space; literals kept.
fn strip_comments(src: &str) -> String {
    outside_literals(src, |b, mut i, out| {
        if b[i] == b'/' && i + 1 < b.len() && b[i + 1] == b'/' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            out.push(b' ');
            i
        } else if b[i] == b'/' && i + 1 < b.len() && b[i + 1] == b'*' {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            out.push(b' ');
            i + 2
        } else {
            out.push(b[i]);
            i + 1
        }
    })
}

/// Whitespace removed outside literals.
fn normalise(code: &str) -> String {
    outside_literals(code, |b, i, out| {
        if !b[i].is_ascii_whitespace() {
            out.push(b[i]);
        }
        i + 1
    })
}

fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in data {
        h ^= x as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The table of checked releases: `behaviour RELEASE` (the release whose
/// proxy_lua.c the library's code follows) and one line per function
/// version: `NAME HASH RELEASE...`.
pub struct Table {
    pub behaviour: String,
    pub releases: Vec<String>,
    /// (name, hash, releases)
    pub entries: Vec<(String, u64, Vec<String>)>,
}

pub fn parse_table(text: &str) -> Result<Table, String> {
    let mut t = Table {
        behaviour: String::new(),
        releases: Vec::new(),
        entries: Vec::new(),
    };
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let w: Vec<&str> = line.split_whitespace().collect();
        match w[0] {
            "behaviour" if w.len() == 2 => t.behaviour = w[1].to_string(),
            "releases" => t.releases = w[1..].iter().map(|s| s.to_string()).collect(),
            _ if w.len() >= 3 => {
                let h = u64::from_str_radix(w[1], 16).map_err(|e| format!("line {}: {e}", n + 1))?;
                t.entries.push((
                    w[0].to_string(),
                    h,
                    w[2..].iter().map(|s| s.to_string()).collect(),
                ));
            }
            _ => return Err(format!("line {}: cannot read `{line}`", n + 1)),
        }
    }
    if t.behaviour.is_empty() || t.releases.is_empty() {
        return Err("missing `behaviour` or `releases` line".into());
    }
    Ok(t)
}

/// What the tree's functions are, against the table.
pub struct Verdict {
    /// Releases whose proxy_lua.c the tree's is, function for function.
    pub identical_to: Vec<String>,
    /// One line per problem (empty: every function is one a checked
    /// release has, and the set of functions is one a release has).
    pub problems: Vec<String>,
}

pub fn compare(tree: &[(String, u64)], t: &Table) -> Verdict {
    let mut identical_to = Vec::new();
    for r in &t.releases {
        let mut rel: Vec<(&str, u64)> = t
            .entries
            .iter()
            .filter(|e| e.2.iter().any(|x| x == r))
            .map(|e| (e.0.as_str(), e.1))
            .collect();
        let mut tr: Vec<(&str, u64)> = tree.iter().map(|(n, h)| (n.as_str(), *h)).collect();
        rel.sort();
        tr.sort();
        if rel == tr {
            identical_to.push(r.clone());
        }
    }
    let mut problems = Vec::new();
    if identical_to.is_empty() {
        for (name, h) in tree {
            let known: Vec<&(String, u64, Vec<String>)> = t.entries.iter().filter(|e| &e.0 == name).collect();
            if known.is_empty() {
                problems.push(format!(
                    "proxy_lua.c: {name} is new (in no checked release); port it, then record it"
                ));
            } else if !known.iter().any(|e| e.1 == *h) {
                problems.push(format!(
                    "proxy_lua.c: {name} differs from every checked release; port it, then record it"
                ));
            }
        }
        if problems.is_empty() {
            // every function is a known one: a function some release with
            // them all has, missing here?
            let names: Vec<&str> = tree.iter().map(|(n, _)| n.as_str()).collect();
            for r in &t.releases {
                let rel: Vec<&str> = t
                    .entries
                    .iter()
                    .filter(|e| e.2.iter().any(|x| x == r))
                    .map(|e| e.0.as_str())
                    .collect();
                if names.iter().all(|n| rel.contains(n)) {
                    for m in rel.iter().filter(|m| !names.contains(m)) {
                        problems.push(format!(
                            "proxy_lua.c: {m} was removed (release {r} has it); port the removal, then record it"
                        ));
                    }
                    break;
                }
            }
            if problems.is_empty() {
                problems.push(
                    "proxy_lua.c: its set of functions is no checked release's; port it, then record it"
                        .into(),
                );
            }
        }
    }
    Verdict {
        identical_to,
        problems,
    }
}
