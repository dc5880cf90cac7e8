//! proxy-lua-rs: a C-ABI drop-in replacement for memcached 1.6.45's
//! `proxy_lua.c`, the Lua 5.4 binding layer of memcached's proxy.
//!
//! Layers, one direction only:
//! - [`ffi`]: raw declarations (Lua C API, memcached functions, struct
//!   mirrors generated from the configured memcached headers);
//! - [`lua`]: Lua-stack helpers and the error-raising discipline;
//! - [`mcplib`]: the behaviour, one function per C function;
//! - [`exports`]: the thin C entry points under upstream's names.
//!
//! # Safety vocabulary
//! `L` is a live `lua_State` owned by the calling proxy thread. Userdata
//! pointers come from `luaL_checkudata`/`lua_newuserdatauv` with the named
//! metatable and live while the value is on the stack or referenced.
//! Memory that memcached frees comes from the C allocator (`libc::malloc`).

#![allow(non_snake_case)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

// A panic must never unwind into memcached: the staticlib is built with
// panic = "abort" (Cargo.toml [profile.*]). `cargo test` needs unwinding and
// ignores the profile setting, hence the `test` exception.
#[cfg(not(any(panic = "abort", test)))]
compile_error!("proxy-lua-rs must be built with panic = \"abort\" (see [profile.*] in Cargo.toml)");

/// Identification string kept in every binary linked with this library:
/// `strings -a memcached | grep proxy-lua-rs` tells a memcached built with it
/// from one built with upstream's C `proxy_lua.c` (`make deb-check` relies
/// on it).
///
/// cbindgen:ignore
#[used]
pub static PROXY_LUA_RS_IDENT: [u8; IDENT_LEN] = ident();

const IDENT_TEXT: &str = concat!(
    "proxy-lua-rs ",
    env!("CARGO_PKG_VERSION"),
    ": memcached proxy_lua.c in Rust\0"
);
const IDENT_LEN: usize = IDENT_TEXT.len();
const fn ident() -> [u8; IDENT_LEN] {
    let b = IDENT_TEXT.as_bytes();
    let mut out = [0u8; IDENT_LEN];
    let mut i = 0;
    while i < IDENT_LEN {
        out[i] = b[i];
        i += 1;
    }
    out
}

pub mod exports;
/// cbindgen:ignore
pub mod ffi;
/// cbindgen:ignore
pub mod lua;
/// cbindgen:ignore
pub mod mcplib;

#[cfg(test)]
mod tests;
