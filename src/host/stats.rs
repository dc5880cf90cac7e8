//! memcached's stats functions, which report through an `ADD_STAT`
//! callback with a cookie: here the callback is a generic trampoline and the
//! cookie a [`StatSink`], so the behaviour that consumes the stats is safe
//! code.

use core::ffi::{CStr, c_char, c_void};

use crate::ffi::host::*;
use crate::host::Ctx;

/// Receives `(key, value)` pairs (never the empty END pair).
pub trait StatSink {
    fn add(&mut self, key: &[u8], val: &[u8]);
}

/// The `ADD_STAT` callback for sink type `S`.
///
/// # Safety
/// Called by memcached with `cookie` the `&mut S` given to it for this call
/// and `klen`/`vlen` readable bytes at `key`/`val`.
unsafe extern "C-unwind" fn trampoline<S: StatSink>(
    key: *const c_char,
    klen: u16,
    val: *const c_char,
    vlen: u32,
    cookie: *const c_void,
) {
    // k + v == 0 means END, which this API does not use.
    if klen == 0 {
        return;
    }
    // SAFETY: caller contract.
    let (sink, k, v) = unsafe {
        (
            &mut *(cookie as *mut S),
            crate::host::pool::key_slice(key as *const u8, klen as usize),
            crate::host::pool::key_slice(val as *const u8, vlen as usize),
        )
    };
    sink.add(k, v);
}

fn cookie<S: StatSink>(sink: &mut S) -> *mut c_void {
    (sink as *mut S).cast()
}

/// `server_stats(add, c); get_stats(NULL, 0, add, c);`
pub fn general<S: StatSink>(sink: &mut S) {
    // SAFETY: the trampoline matches S and the cookie lives for the calls.
    unsafe {
        server_stats(trampoline::<S>, cookie(sink));
        get_stats(core::ptr::null(), 0, trampoline::<S>, cookie(sink));
    }
}

/// `process_stat_settings`
pub fn settings_stats<S: StatSink>(sink: &mut S) {
    // SAFETY: as above.
    unsafe { process_stat_settings(trampoline::<S>, cookie(sink)) }
}

/// `process_stats_conns`
pub fn conns<S: StatSink>(sink: &mut S) {
    // SAFETY: as above.
    unsafe { process_stats_conns(trampoline::<S>, cookie(sink)) }
}

/// `process_extstore_stats` (with extstore compiled in).
#[cfg(mcp_extstore)]
pub fn extstore<S: StatSink>(sink: &mut S) {
    // SAFETY: as above.
    unsafe { process_extstore_stats(trampoline::<S>, cookie(sink)) }
}

/// Which proxy stats (`process_proxy_*stats`).
#[derive(Clone, Copy)]
pub enum ProxyStats {
    Proxy,
    Funcs,
    Backends,
}

/// `process_proxy_stats` / `_funcstats` / `_bestats`
pub fn proxy<S: StatSink>(ctx: Ctx, which: ProxyStats, sink: &mut S) {
    let c = ctx.as_ptr().cast();
    // SAFETY: as above; ctx is the live proxy context.
    unsafe {
        match which {
            ProxyStats::Proxy => process_proxy_stats(c, trampoline::<S>, cookie(sink)),
            ProxyStats::Funcs => process_proxy_funcstats(c, trampoline::<S>, cookie(sink)),
            ProxyStats::Backends => process_proxy_bestats(c, trampoline::<S>, cookie(sink)),
        }
    }
}

/// `get_stats(name, strlen(name), add, c)`: false for an unknown name.
pub fn named<S: StatSink>(name: &CStr, sink: &mut S) -> bool {
    let len = name.to_bytes().len() as core::ffi::c_int;
    // SAFETY: as above; name is NUL-terminated.
    unsafe { get_stats(name.as_ptr(), len, trampoline::<S>, cookie(sink)) }
}
