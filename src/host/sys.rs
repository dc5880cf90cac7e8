//! The few C library services the behaviour needs, behind safe functions.

use core::ffi::{CStr, c_int, c_void};

use crate::ffi::host::HAVE_NDEBUG;
use crate::ffi::lua::lua_Integer;

/// Writes `parts` to standard error (fd 2, unbuffered like C's `stderr`).
pub fn eprint(parts: &[&[u8]]) {
    for p in parts {
        // SAFETY: writes p.len() bytes from a live slice; a short or failed
        // write of a diagnostic is ignored, as fprintf's would be.
        unsafe { libc::write(2, p.as_ptr() as *const c_void, p.len()) };
    }
}

/// `exit(EXIT_FAILURE)`: start-up refusals, before any Lua runs.
pub fn exit_failure() -> ! {
    // SAFETY: exit has no preconditions.
    unsafe { libc::exit(libc::EXIT_FAILURE) }
}

/// `abort()`
pub fn abort() -> ! {
    // SAFETY: abort has no preconditions.
    unsafe { libc::abort() }
}

/// `clock_gettime(clock)`, as (seconds, nanoseconds): 64-bit even where
/// `time_t` is 32-bit (i386). Called through build-support/host_libc.c, so
/// the symbol and `struct timespec` are the ones memcached's flags select
/// (`__clock_gettime64` and 16 bytes with `-D_TIME_BITS=64` on armhf).
#[allow(clippy::unnecessary_cast)]
pub fn clock(clock: libc::clockid_t) -> (i64, i64) {
    let mut now = crate::ffi::host::Timespec::new(0, 0);
    // SAFETY: writes the local timespec, whose layout is the probed C one.
    unsafe { crate::ffi::host::proxy_lua_rs_clock_gettime(clock, &mut now) };
    (now.tv_sec as i64, now.tv_nsec as i64)
}

/// Milliseconds of `clock`, computed in `lua_Integer` (64-bit) as upstream
/// does from 1.6.45 on (no 32-bit `time_t` overflow).
pub fn clock_millis(c: libc::clockid_t) -> lua_Integer {
    let (s, ns) = clock(c);
    ns / 1_000_000 + s * 1000
}

/// C `assert()` as compiled into the binary: active unless the binary's
/// flags define `NDEBUG` (memcached-debug has it on, memcached off).
#[inline(always)]
pub fn assert_c(cond: bool, what: &CStr) {
    if !HAVE_NDEBUG && !cond {
        eprint(&[b"proxy-lua-rs: assertion failed: ", what.to_bytes(), b"\n"]);
        abort();
    }
}

/// `write(fd, buf)`; returns what write returns.
pub fn write_fd(fd: c_int, buf: &[u8]) -> isize {
    // SAFETY: writes buf.len() bytes from a live slice.
    unsafe { libc::write(fd, buf.as_ptr() as *const c_void, buf.len()) as isize }
}

/// Whether the running binary is `memcached-debug` (it defines `is_paused`;
/// build-support/host_check.c looks it up through a weak reference).
pub fn host_is_memcached_debug() -> bool {
    // SAFETY: a plain C function without preconditions.
    unsafe { crate::ffi::host::proxy_lua_rs_host_is_memcached_debug() != 0 }
}

/// `sizeof(struct settings)` of the running binary, from its dynamic symbol
/// table (`None` when the binary does not export it: no `-rdynamic`).
pub fn host_settings_size() -> Option<usize> {
    // SAFETY: only the address of the extern static is taken; the C helper
    // looks it up with dladdr1.
    let sz = unsafe {
        crate::ffi::host::proxy_lua_rs_host_symbol_size(
            &raw const crate::ffi::host::settings as *const c_void,
        )
    };
    if sz >= 0 { Some(sz as usize) } else { None }
}
