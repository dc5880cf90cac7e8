//! The C ABI: thin exported entry points, under upstream's names.
//!
//! Besides the three functions memcached calls (`proxy_register_libs`,
//! `mcplib_pool_proxy_call_helper`, `mcplib_rqu_log`), every `mcplib_*`
//! `lua_CFunction` of proxy_lua.c is exported with the signature
//! `int f(lua_State *L)` so C programs can drive each one directly. Each
//! export borrows the state once (its VM kind fixed by where
//! `proxy_register_libs` registers it), runs the safe body in
//! `crate::mcplib`, and raises the body's error afterwards: the exports are
//! the only place that raises.
//!
//! # Safety (all `lua_CFunction` exports)
//! `L` must be a live Lua state set up by `proxy_register_libs` (the config
//! VM for config functions, a worker VM for worker functions), called the way
//! Lua calls C functions (arguments on the stack).

use core::ffi::{c_char, c_int, c_void};
use core::ptr::NonNull;

use crate::ffi::host::{LibeventThread, McpBackend, McpPoolProxy, McpRequest, McpResp};
use crate::ffi::lua::lua_State;
use crate::host::backend::BackendRef;
use crate::host::pool::PoolProxy;
use crate::host::{ConfigVm, Thread, WorkerVm};
use crate::mcplib::*;
use crate::vm::{LResult, Vm};

/// Runs a config-VM body and raises its error, if any: the only place
/// (with [`worker_call`]) where this library raises a Lua error.
///
/// # Safety
/// `L` is the config VM running the calling C function (see
/// [`ConfigVm::from_raw`]).
#[inline(always)]
unsafe fn config_call(L: *mut lua_State, body: fn(&mut ConfigVm) -> LResult) -> c_int {
    // SAFETY: caller contract.
    let mut vm = unsafe { ConfigVm::from_raw(L) };
    match body(&mut vm) {
        Ok(n) => n,
        // SAFETY: the body returned; nothing of ours is left to unwind.
        Err(e) => unsafe { e.raise(L) },
    }
}

/// As [`config_call`], for a worker-VM body.
///
/// # Safety
/// `L` is a worker VM running the calling C function (see
/// [`WorkerVm::from_raw`]).
#[inline(always)]
unsafe fn worker_call(L: *mut lua_State, body: fn(&mut WorkerVm) -> LResult) -> c_int {
    // SAFETY: caller contract.
    let mut vm = unsafe { WorkerVm::from_raw(L) };
    match body(&mut vm) {
        Ok(n) => n,
        // SAFETY: as in config_call.
        Err(e) => unsafe { e.raise(L) },
    }
}

/// Creates the `mcp` module in a config VM (`t == NULL`, `ctx` is the proxy
/// context) or a worker VM (`t` is its thread). Returns 1. Exits the process
/// with a message if the library was built for a different memcached layout
/// than the running binary.
///
/// # Safety
/// `state` is a fresh `lua_State *` owned by the caller's thread; `t` is
/// NULL or the worker thread owning it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn proxy_register_libs(
    ctx: *mut c_void,
    t: *mut LibeventThread,
    state: *mut c_void,
) -> c_int {
    // SAFETY: memcached passes a fresh lua_State of the calling thread as
    // `void *state`.
    let mut vm = unsafe { Vm::from_raw(state as *mut lua_State) };
    register::proxy_register_libs(&mut vm, ctx, t)
}

/// Routing helper: filters and hashes `key`, selects the backend of pool
/// proxy `pp` for this worker. NULL if the selector returns an out-of-range
/// index.
///
/// # Safety
/// `pp` is a live `mcp.pool_proxy` of the calling worker; `key` points to
/// `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcplib_pool_proxy_call_helper(
    pp: *mut McpPoolProxy,
    key: *const c_char,
    len: usize,
) -> *mut McpBackend {
    // SAFETY: memcached passes a live pool proxy of the calling worker and
    // `len` readable key bytes.
    // (the key points into the request buffer: never NULL)
    let (pp, key) = unsafe {
        (
            PoolProxy::from_raw(pp),
            core::slice::from_raw_parts(key as *const u8, len),
        )
    };
    pool::mcplib_pool_proxy_call_helper(pp, key)
}

/// Automatic backend request logging (the backend's `log` options).
///
/// # Safety
/// `rq` and `rs` are live; `rs->be` and `rs->thread` are set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcplib_rqu_log(rq: *mut McpRequest, rs: *mut McpResp, flag: c_int, cfd: c_int) {
    // SAFETY: memcached passes a live request and response of the calling
    // worker thread, with rs->thread and rs->be set (it calls only when
    // be->use_logging).
    let (rq, rs, t, be) = unsafe {
        (
            &*rq,
            &*rs,
            Thread::from_raw((*rs).thread),
            BackendRef::from_raw(NonNull::new_unchecked((*rs).be)),
        )
    };
    logging::mcplib_rqu_log(rq, rs, t, be, flag, cfd)
}

/// `mcp.server_stats([cmd]) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_server_stats(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, stats::mcplib_server_stats) }
}

/// `mcp.register_cron(name, {func=, every=, rerun=}) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_register_cron(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, cron::mcplib_register_cron) }
}

/// `mcp.schedule_config_reload() (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_schedule_config_reload(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, cron::mcplib_schedule_config_reload) }
}

/// `mcp.time_real_millis() (worker VMs)`
///
/// # Safety
/// `L` is a worker VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_time_real_millis(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in worker VMs by proxy_register_libs; Lua calls it with a live state.
    unsafe { worker_call(L, cron::mcplib_time_real_millis) }
}

/// `mcp.time_mono_millis() (worker VMs)`
///
/// # Safety
/// `L` is a worker VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_time_mono_millis(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in worker VMs by proxy_register_libs; Lua calls it with a live state.
    unsafe { worker_call(L, cron::mcplib_time_mono_millis) }
}

/// `__gc of mcp.backendwrap (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_wrap_gc(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, backend::mcplib_backend_wrap_gc) }
}

/// `__gc of mcp.backend (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_gc(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, backend::mcplib_backend_gc) }
}

/// `mcp.backend(label, host, port) or mcp.backend{...} (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, backend::mcplib_backend) }
}

/// `__gc of mcp.pool (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_pool_gc(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, pool::mcplib_pool_gc) }
}

/// `mcp.pool(backends [, opts]) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_pool(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, pool::mcplib_pool) }
}

/// `__gc of mcp.pool_proxy (worker VMs)`
///
/// # Safety
/// `L` is a worker VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_pool_proxy_gc(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in worker VMs by proxy_register_libs; Lua calls it with a live state.
    unsafe { worker_call(L, pool::mcplib_pool_proxy_gc) }
}

/// `mcp.backend_use_iothread(bool) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_use_iothread(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_backend_use_iothread) }
}

/// `mcp.backend_use_tls(bool) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_use_tls(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_backend_use_tls) }
}

/// `mcp.init_tls() (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_init_tls(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_init_tls) }
}

/// `mcp.tcp_keepalive(bool) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_tcp_keepalive(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_tcp_keepalive) }
}

/// `mcp.backend_failure_limit(n) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_failure_limit(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_backend_failure_limit) }
}

/// `mcp.backend_depth_limit(n) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_depth_limit(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_backend_depth_limit) }
}

/// `mcp.backend_connect_timeout(seconds) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_connect_timeout(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_backend_connect_timeout) }
}

/// `mcp.backend_retry_waittime(seconds) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_retry_waittime(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_backend_retry_waittime) }
}

/// `mcp.backend_retry_timeout(seconds), alias of backend_retry_waittime (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_retry_timeout(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_backend_retry_timeout) }
}

/// `mcp.backend_read_timeout(seconds) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_read_timeout(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_backend_read_timeout) }
}

/// `mcp.backend_flap_time(seconds) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_flap_time(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_backend_flap_time) }
}

/// `mcp.backend_flap_backoff_ramp(factor) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_flap_backoff_ramp(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_backend_flap_backoff_ramp) }
}

/// `mcp.backend_flap_backoff_max(seconds) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_flap_backoff_max(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_backend_flap_backoff_max) }
}

/// `mcp.luagc_ratio(ratio) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_luagc_ratio(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_luagc_ratio) }
}

/// `mcp.stat_limit(n) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_stat_limit(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_stat_limit) }
}

/// `mcp.active_req_limit(n) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_active_req_limit(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_active_req_limit) }
}

/// `mcp.buffer_memory_limit(kilobytes) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_buffer_memory_limit(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, tunables::mcplib_buffer_memory_limit) }
}

/// `mcp.attach(cmd, func_or_funcgen [, tag]) (worker VMs)`
///
/// # Safety
/// `L` is a worker VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_attach(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in worker VMs by proxy_register_libs; Lua calls it with a live state.
    unsafe { worker_call(L, attach::mcplib_attach) }
}

/// `mcp.log(msg) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_ct_log(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in the config VM by proxy_register_libs; Lua calls it with a live state.
    unsafe { config_call(L, logging::mcplib_ct_log) }
}

/// `mcp.log(msg) (worker VMs)`
///
/// # Safety
/// `L` is a worker VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_log(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in worker VMs by proxy_register_libs; Lua calls it with a live state.
    unsafe { worker_call(L, logging::mcplib_log) }
}

/// `mcp.log_req(req, res, detail, cfd) (worker VMs)`
///
/// # Safety
/// `L` is a worker VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_log_req(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in worker VMs by proxy_register_libs; Lua calls it with a live state.
    unsafe { worker_call(L, logging::mcplib_log_req) }
}

/// `mcp.log_reqsample(ms, rate, allerr, req, res, detail, cfd) (worker VMs)`
///
/// # Safety
/// `L` is a worker VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_log_reqsample(L: *mut lua_State) -> c_int {
    // SAFETY: registered only in worker VMs by proxy_register_libs; Lua calls it with a live state.
    unsafe { worker_call(L, logging::mcplib_log_reqsample) }
}
