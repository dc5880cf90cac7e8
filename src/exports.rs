//! The C ABI: thin exported entry points, under upstream's names.
//!
//! Besides the three functions memcached calls (`proxy_register_libs`,
//! `mcplib_pool_proxy_call_helper`, `mcplib_rqu_log`), every `mcplib_*`
//! `lua_CFunction` of proxy_lua.c is exported with the signature
//! `int f(lua_State *L)` so C programs can drive each one directly. Each
//! export only forwards to the body in `crate::mcplib`, through
//! [`crate::lua::cfunction`], which raises the body's error afterwards.
//!
//! # Safety (all `lua_CFunction` exports)
//! `L` must be a live Lua state set up by `proxy_register_libs` (the config
//! VM for config functions, a worker VM for worker functions), called the way
//! Lua calls C functions (arguments on the stack).

use core::ffi::{c_char, c_int, c_void};

use crate::ffi::host::{LibeventThread, McpBackend, McpPoolProxy, McpRequest, McpResp};
use crate::ffi::lua::lua_State;
use crate::lua::cfunction;
use crate::mcplib::*;

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
    // SAFETY: memcached passes its lua_State as `void *state`.
    unsafe { register::proxy_register_libs(ctx, t, state as *mut lua_State) }
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
    // SAFETY: forwarded caller contract.
    unsafe { pool::mcplib_pool_proxy_call_helper(pp, key, len) }
}

/// Automatic backend request logging (the backend's `log` options).
///
/// # Safety
/// `rq` and `rs` are live; `rs->be` and `rs->thread` are set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcplib_rqu_log(rq: *mut McpRequest, rs: *mut McpResp, flag: c_int, cfd: c_int) {
    // SAFETY: forwarded caller contract.
    unsafe { logging::mcplib_rqu_log(rq, rs, flag, cfd) }
}

/// `mcp.server_stats([cmd]) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_server_stats(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, stats::mcplib_server_stats) }
}

/// `mcp.register_cron(name, {func=, every=, rerun=}) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_register_cron(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, cron::mcplib_register_cron) }
}

/// `mcp.schedule_config_reload() (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_schedule_config_reload(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, cron::mcplib_schedule_config_reload) }
}

/// `mcp.time_real_millis() (worker VMs)`
///
/// # Safety
/// `L` is a worker VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_time_real_millis(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, cron::mcplib_time_real_millis) }
}

/// `mcp.time_mono_millis() (worker VMs)`
///
/// # Safety
/// `L` is a worker VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_time_mono_millis(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, cron::mcplib_time_mono_millis) }
}

/// `__gc of mcp.backendwrap (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_wrap_gc(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, backend::mcplib_backend_wrap_gc) }
}

/// `__gc of mcp.backend (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_gc(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, backend::mcplib_backend_gc) }
}

/// `mcp.backend(label, host, port) or mcp.backend{...} (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, backend::mcplib_backend) }
}

/// `__gc of mcp.pool (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_pool_gc(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, pool::mcplib_pool_gc) }
}

/// `mcp.pool(backends [, opts]) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_pool(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, pool::mcplib_pool) }
}

/// `__gc of mcp.pool_proxy (worker VMs)`
///
/// # Safety
/// `L` is a worker VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_pool_proxy_gc(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, pool::mcplib_pool_proxy_gc) }
}

/// `mcp.backend_use_iothread(bool) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_use_iothread(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_backend_use_iothread) }
}

/// `mcp.backend_use_tls(bool) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_use_tls(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_backend_use_tls) }
}

/// `mcp.init_tls() (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_init_tls(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_init_tls) }
}

/// `mcp.tcp_keepalive(bool) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_tcp_keepalive(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_tcp_keepalive) }
}

/// `mcp.backend_failure_limit(n) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_failure_limit(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_backend_failure_limit) }
}

/// `mcp.backend_depth_limit(n) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_depth_limit(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_backend_depth_limit) }
}

/// `mcp.backend_connect_timeout(seconds) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_connect_timeout(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_backend_connect_timeout) }
}

/// `mcp.backend_retry_waittime(seconds) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_retry_waittime(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_backend_retry_waittime) }
}

/// `mcp.backend_retry_timeout(seconds), alias of backend_retry_waittime (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_retry_timeout(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_backend_retry_timeout) }
}

/// `mcp.backend_read_timeout(seconds) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_read_timeout(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_backend_read_timeout) }
}

/// `mcp.backend_flap_time(seconds) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_flap_time(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_backend_flap_time) }
}

/// `mcp.backend_flap_backoff_ramp(factor) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_flap_backoff_ramp(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_backend_flap_backoff_ramp) }
}

/// `mcp.backend_flap_backoff_max(seconds) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_backend_flap_backoff_max(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_backend_flap_backoff_max) }
}

/// `mcp.luagc_ratio(ratio) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_luagc_ratio(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_luagc_ratio) }
}

/// `mcp.stat_limit(n) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_stat_limit(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_stat_limit) }
}

/// `mcp.active_req_limit(n) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_active_req_limit(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_active_req_limit) }
}

/// `mcp.buffer_memory_limit(kilobytes) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_buffer_memory_limit(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, tunables::mcplib_buffer_memory_limit) }
}

/// `mcp.attach(cmd, func_or_funcgen [, tag]) (worker VMs)`
///
/// # Safety
/// `L` is a worker VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_attach(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, attach::mcplib_attach) }
}

/// `mcp.log(msg) (config VM)`
///
/// # Safety
/// `L` is the config VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_ct_log(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, logging::mcplib_ct_log) }
}

/// `mcp.log(msg) (worker VMs)`
///
/// # Safety
/// `L` is a worker VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_log(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, logging::mcplib_log) }
}

/// `mcp.log_req(req, res, detail, cfd) (worker VMs)`
///
/// # Safety
/// `L` is a worker VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_log_req(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, logging::mcplib_log_req) }
}

/// `mcp.log_reqsample(ms, rate, allerr, req, res, detail, cfd) (worker VMs)`
///
/// # Safety
/// `L` is a worker VM set up by `proxy_register_libs`; call it as Lua calls a
/// `lua_CFunction` (arguments on the stack). Raises Lua errors like upstream.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mcplib_log_reqsample(L: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a live state.
    unsafe { cfunction(L, logging::mcplib_log_reqsample) }
}
