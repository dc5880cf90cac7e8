//! Build-time check of our Lua C API declarations (`src/ffi/lua.rs`) against
//! the `lua.h`/`lauxlib.h`/`lualib.h` that memcached compiles with.
//!
//! We read the Rust source (not a separate list), so what is checked is what
//! rustc compiles:
//! - every `pub fn NAME(ARGS) -> RET;` (only in `extern` blocks: a `pub fn`
//!   with a body is refused) becomes
//!   `_Static_assert(__builtin_types_compatible_p(__typeof__(NAME), C-TYPE), ...)`;
//!   functions that never return (`-> !`) are `int` in C;
//! - every `pub type NAME = T;` of a Lua type: integer aliases must match in
//!   size, signedness and integer-ness, `f64` must be `double`, function
//!   pointer aliases must be compatible function pointer types;
//! - every `pub const NAME: T = VALUE;` must equal the C macro `NAME`;
//! - `luaL_Reg` must be two pointers (`name`, `func`).
//!
//! A Rust type this checker cannot map is itself a build error: nothing in
//! the file goes unchecked.

use std::fmt::Write as _;

pub struct Checked {
    pub c_source: String,
    pub functions: usize,
    pub types: usize,
    pub consts: usize,
}

fn strip_comments(src: &str) -> String {
    let mut out = String::new();
    for line in src.lines() {
        let l = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// Rust type (as written in src/ffi/lua.rs) -> C type.
fn c_type(rust: &str) -> Result<String, String> {
    let t: String = rust.split_whitespace().collect::<Vec<_>>().join(" ");
    let c = match t.as_str() {
        "*mut lua_State" => "lua_State *",
        "c_int" => "int",
        "usize" => "size_t",
        "*mut usize" => "size_t *",
        "*mut c_int" => "int *",
        "*const c_char" => "const char *",
        "*mut c_void" => "void *",
        "*const c_void" => "const void *",
        "lua_Integer" => "lua_Integer",
        "lua_Unsigned" => "lua_Unsigned",
        "lua_Number" => "lua_Number",
        "lua_KContext" => "lua_KContext",
        "lua_CFunction" | "Option<lua_CFunction>" => "lua_CFunction",
        "lua_KFunction" | "Option<lua_KFunction>" => "lua_KFunction",
        "*const luaL_Reg" => "const luaL_Reg *",
        "()" | "" => "void",
        // A C function declared `int` that never returns (lua_error,
        // luaL_error, luaL_argerror, luaL_typeerror).
        "!" => "int",
        _ => return Err(format!("no C mapping for the Rust type `{t}`")),
    };
    Ok(c.to_string())
}

/// Splits `a: T, b: U, ...` at top-level commas.
fn split_params(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for ch in s.chars() {
        match ch {
            '<' | '(' => depth += 1,
            '>' | ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// `(a: T, b: U, ...) -> R` (the text after the name) -> C function type
/// `R (T, U, ...)` (or `R (*)(...)` when `ptr`).
fn c_fn_type(sig: &str, ptr: bool) -> Result<String, String> {
    let sig = sig.trim();
    if !sig.starts_with('(') {
        return Err(format!("cannot parse the signature `{sig}`"));
    }
    // matching ')'
    let mut depth = 0;
    let mut close = None;
    for (i, ch) in sig.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close.ok_or_else(|| format!("unbalanced parentheses in `{sig}`"))?;
    let params = &sig[1..close];
    let rest = sig[close + 1..].trim();
    let ret = match rest.strip_prefix("->") {
        Some(r) => c_type(r.trim())?,
        None if rest.is_empty() => "void".to_string(),
        None => return Err(format!("cannot parse the return type in `{sig}`")),
    };
    let mut cparams = Vec::new();
    for p in split_params(params) {
        if p == "..." {
            cparams.push("...".to_string());
            continue;
        }
        let (_, ty) = p
            .split_once(':')
            .ok_or_else(|| format!("cannot parse the parameter `{p}`"))?;
        cparams.push(c_type(ty.trim())?);
    }
    if cparams.is_empty() {
        cparams.push("void".to_string());
    }
    Ok(if ptr {
        format!("{ret} (*)({})", cparams.join(", "))
    } else {
        format!("{ret} ({})", cparams.join(", "))
    })
}

fn c_string(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Items `pub <kw> ...;` of the file (text up to the next `;`).
fn items<'a>(src: &'a str, kw: &str) -> Vec<&'a str> {
    let mut v = Vec::new();
    let pat = format!("pub {kw} ");
    let mut from = 0;
    while let Some(i) = src[from..].find(&pat) {
        let start = from + i;
        // `pub unsafe fn`/`pub const fn` (inline macro helpers) do not
        // match `pub fn `; a preceding identifier char means a longer word.
        let end = match src[start..].find(';') {
            Some(e) => start + e,
            None => src.len(),
        };
        v.push(&src[start + pat.len()..end]);
        from = end.min(src.len() - 1) + 1;
        if from >= src.len() {
            break;
        }
    }
    v
}

pub fn check_source(rust_src: &str) -> Result<Checked, String> {
    let src = strip_comments(rust_src);
    let mut c = String::new();
    c.push_str(
        "/* Generated by proxy-lua-rs build.rs from src/ffi/lua.rs: every Lua\n\
         * declaration of the crate checked against the Lua headers memcached\n\
         * compiles with. */\n\
         #include <stddef.h>\n\
         #include \"lua.h\"\n\
         #include \"lauxlib.h\"\n\
         #include \"lualib.h\"\n\
         #define MCP_INTEGER_P(T) ((T)0.5 == 0)\n\
         #define MCP_SIGNED_P(T) ((T)-1 < 0)\n",
    );

    let mut functions = 0;
    for item in items(&src, "fn") {
        if item.contains('{') {
            return Err(format!(
                "`pub fn {}` has a body: only declarations belong in src/ffi/lua.rs",
                item.split('(').next().unwrap_or("").trim()
            ));
        }
        let name_end = item
            .find('(')
            .ok_or_else(|| format!("cannot parse `pub fn {item}`"))?;
        let name = item[..name_end].trim();
        let cty = c_fn_type(&item[name_end..], false).map_err(|e| format!("{name}: {e}"))?;
        writeln!(
            c,
            "_Static_assert(__builtin_types_compatible_p(__typeof__({name}), {cty}), \
             \"Lua API mismatch: {name}: src/ffi/lua.rs declares `{}` but lua.h/lauxlib.h differ\");",
            c_string(&cty)
        )
        .unwrap();
        functions += 1;
    }

    let mut types = 0;
    for item in items(&src, "type") {
        let (name, ty) = item
            .split_once('=')
            .ok_or_else(|| format!("cannot parse `pub type {item}`"))?;
        let name = name.trim();
        let ty: String = ty.split_whitespace().collect::<Vec<_>>().join(" ");
        let msg = format!("Lua API mismatch: type {name} = {ty} in src/ffi/lua.rs differs from lua.h");
        let assert = match ty.as_str() {
            "i64" | "u64" | "i32" | "u32" | "isize" | "usize" => {
                let signed = ty.starts_with('i');
                let size = match ty.as_str() {
                    "i64" | "u64" => "8",
                    "i32" | "u32" => "4",
                    _ => "sizeof(void *)",
                };
                format!(
                    "sizeof({name}) == {size} && MCP_INTEGER_P({name}) && {}MCP_SIGNED_P({name})",
                    if signed { "" } else { "!" }
                )
            }
            "f64" => format!("__builtin_types_compatible_p({name}, double)"),
            "luaL_Reg" => continue, // an alias of our own struct (checked below)
            t if t.starts_with("unsafe extern \"C-unwind\" fn")
                || t.starts_with("unsafe extern \"C\" fn") =>
            {
                let sig = &t[t.find("fn").unwrap() + 2..];
                let cty = c_fn_type(sig, true).map_err(|e| format!("type {name}: {e}"))?;
                format!("__builtin_types_compatible_p({name}, {cty})")
            }
            _ => return Err(format!("type {name}: no check for the Rust type `{ty}`")),
        };
        writeln!(c, "_Static_assert({assert}, \"{}\");", c_string(&msg)).unwrap();
        types += 1;
    }

    let mut consts = 0;
    for item in items(&src, "const") {
        if item.starts_with("fn ") {
            continue; // `pub const fn` helper (a macro's definition)
        }
        let (lhs, value) = item
            .split_once('=')
            .ok_or_else(|| format!("cannot parse `pub const {item}`"))?;
        let name = lhs.split(':').next().unwrap().trim();
        let value = value.trim();
        let cval = if value.parse::<i64>().is_ok() {
            value.to_string()
        } else if value == "core::mem::size_of::<*mut c_void>()" {
            "sizeof(void *)".to_string()
        } else {
            return Err(format!("const {name}: cannot translate the value `{value}` to C"));
        };
        writeln!(
            c,
            "_Static_assert(({name}) == ({cval}), \"Lua API mismatch: {name} is {} in src/ffi/lua.rs but not in lua.h/lauxlib.h\");",
            c_string(value)
        )
        .unwrap();
        consts += 1;
    }

    c.push_str(
        "_Static_assert(sizeof(luaL_Reg) == 2 * sizeof(void *) && offsetof(luaL_Reg, name) == 0 \
         && offsetof(luaL_Reg, func) == sizeof(void *), \"Lua API mismatch: luaL_Reg layout\");\n\
         _Static_assert(__builtin_types_compatible_p(__typeof__(((luaL_Reg *)0)->func), lua_CFunction), \
         \"Lua API mismatch: luaL_Reg.func is not a lua_CFunction\");\n",
    );
    if functions == 0 || consts == 0 || types == 0 {
        return Err("found no declarations in src/ffi/lua.rs".to_string());
    }
    Ok(Checked {
        c_source: c,
        functions,
        types,
        consts,
    })
}
