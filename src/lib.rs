//! proxy-lua-rs: a C-ABI drop-in replacement for memcached 1.6.45's
//! `proxy_lua.c`, the Lua 5.4 binding layer of memcached's proxy.
//!
//! Layers, one direction only (docs/design.md):
//! - [`ffi`]: raw declarations (the Lua C API, checked against lua.h at
//!   build time; memcached's functions; struct mirrors generated from the
//!   configured memcached headers). No code.
//! - [`vm`]: the safe Lua-state handle (stack access, typed userdata,
//!   argument checks that return errors instead of raising).
//! - [`host`]: typed views of memcached's structs with their locking rules.
//! - [`mcplib`]: the behaviour, one safe function per C function.
//! - [`exports`]: the thin C entry points under upstream's names; the only
//!   place that raises Lua errors.
//!
//! `#![no_std]` without `alloc`: no type in this crate has a destructor
//! (checked by scripts/checks/check-no-drop.sh), which is what makes a Lua error's
//! `longjmp` over our frames sound everywhere.
//!
//! # Safety vocabulary
//! `L` is a live `lua_State` owned by the calling proxy thread. Userdata
//! pointers come from `luaL_checkudata`/`lua_newuserdatauv` with the named
//! metatable and live while the value is on the stack or referenced.
//! Memory that memcached frees comes from the C allocator (`libc::malloc`).

#![cfg_attr(not(test), no_std)]
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

/// It also names the upstream `proxy_lua.c` release whose behaviour the
/// library follows, and the release(s) the built tree's `proxy_lua.c` is
/// (build.rs's drift guard, build-support/proxy_lua_releases.txt).
const IDENT_TEXT: &str = concat!(
    "proxy-lua-rs ",
    env!("CARGO_PKG_VERSION"),
    ": memcached proxy_lua.c in Rust (behaviour of proxy_lua.c ",
    env!("MCP_PROXY_LUA_BEHAVIOUR"),
    "; built for a tree whose proxy_lua.c is ",
    env!("MCP_PROXY_LUA_TREE"),
    ")\0"
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
pub mod host;
/// cbindgen:ignore
pub mod mcplib;
/// cbindgen:ignore
pub mod vm;

/// A panic (an index out of bounds, which the code avoids) aborts: it must
/// never unwind into memcached, and there is nothing to report it with.
#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    host::sys::eprint(&[b"proxy-lua-rs: internal error (panic); aborting\n"]);
    host::sys::abort()
}

/// The precompiled `core` (built with unwinding) references Rust's
/// personality routine from its unwind tables. Nothing here unwinds
/// (`panic = "abort"`, and Lua errors are `longjmp`s, which never consult
/// it), so it is never called.
///
/// cbindgen:ignore
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}

#[cfg(test)]
mod tests;
