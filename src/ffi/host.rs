//! memcached's side of the ABI: its functions and globals that proxy_lua.c
//! uses, and the struct mirrors generated from the configured headers.
//!
//! All memcached functions are declared `extern "C-unwind"`: several of them
//! (`proxy_lua_error`, the `mcplib_*` methods) raise Lua errors.

#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]

use core::ffi::{c_char, c_int, c_void};
use core::marker::PhantomData;

use super::lua::lua_State;

/// `STAILQ_HEAD` from memcached's queue.h.
#[repr(C)]
pub struct StailqHead<T> {
    pub stqh_first: *mut T,
    pub stqh_last: *mut *mut T,
}

/// `STAILQ_ENTRY` from memcached's queue.h.
#[repr(C)]
pub struct StailqEntry<T> {
    pub stqe_next: *mut T,
    _t: PhantomData<T>,
}

/// `key_hash_func`
pub type KeyHashFunc = unsafe extern "C" fn(key: *const c_void, len: usize, seed: u64) -> u64;
/// `key_hash_filter_func`
pub type KeyHashFilterFunc = unsafe extern "C" fn(
    conf: *const c_char,
    key: *const c_char,
    klen: usize,
    newlen: *mut usize,
) -> *const c_char;
/// `hash_selector_func`
pub type HashSelectorFunc = unsafe extern "C" fn(hash: u64, ctx: *mut c_void) -> u32;
/// `ADD_STAT`
pub type AddStat = unsafe extern "C-unwind" fn(
    key: *const c_char,
    klen: u16,
    val: *const c_char,
    vlen: u32,
    cookie: *const c_void,
);

/// Struct mirrors, constants and switches measured by build.rs in the
/// configured memcached tree (see build-support/layout_spec.rs).
pub mod layout {
    use super::*;
    #[allow(unused_imports)]
    use core::ffi::{c_long, c_uint};
    include!(concat!(env!("OUT_DIR"), "/layout.rs"));
}
pub use layout::*;

unsafe extern "C-unwind" {
    // proto_proxy.c
    pub fn proxy_lua_error(L: *mut lua_State, s: *const c_char) -> !;
    pub fn mcp_gobj_finalize(g: *mut McpGlobalObj);
    pub fn process_proxy_stats(arg: *mut c_void, add_stats: AddStat, c: *mut c_void);
    pub fn process_proxy_funcstats(arg: *mut c_void, add_stats: AddStat, c: *mut c_void);
    pub fn process_proxy_bestats(arg: *mut c_void, add_stats: AddStat, c: *mut c_void);

    // proxy_luafgen.c
    pub fn mcp_funcgen_reference(L: *mut lua_State);
    pub fn mcp_funcgen_dereference(L: *mut lua_State, fgen: *mut McpFuncgen);

    // memcached.c / thread.c
    pub fn get_worker_thread(id: c_int) -> *mut LibeventThread;
    pub fn server_stats(add_stats: AddStat, c: *mut c_void);
    pub fn get_stats(stat_type: *const c_char, nkey: c_int, add_stats: AddStat, c: *mut c_void) -> bool;
    pub fn process_stat_settings(add_stats: AddStat, c: *mut c_void);
    pub fn process_stats_conns(add_stats: AddStat, c: *mut c_void);
    #[cfg(mcp_extstore)]
    pub fn process_extstore_stats(add_stats: AddStat, c: *mut c_void);

    // logger.c (variadic: arguments follow C's default promotions)
    pub fn logger_log(l: *mut Logger, event: c_int, entry: *const c_void, ...) -> c_int;

    // vendor/mcmc
    pub fn mcmc_size(options: c_int) -> usize;

    #[cfg(mcp_proxy_tls)]
    pub fn mcp_tls_init(ctx: *mut ProxyCtx) -> c_int;
    #[cfg(mcp_proxy_tls)]
    pub fn mcp_tls_backend_init(ctx: *mut ProxyCtx, be: *mut McpBackendConn) -> c_int;
}

unsafe extern "C" {
    pub static mut settings: Settings;
    pub static logger_key: libc::pthread_key_t;
    /// C stdio's stderr (upstream writes its warnings there).
    pub static mut stderr: *mut libc::FILE;
}

// build-support/host_check.c
unsafe extern "C" {
    pub fn proxy_lua_rs_host_is_memcached_debug() -> c_int;
    pub fn proxy_lua_rs_host_symbol_size(addr: *const c_void) -> core::ffi::c_long;
}

// build-support/host_libc.c (compiled with memcached's flags: the symbols
// and struct layouts memcached's own objects use)
unsafe extern "C" {
    pub fn proxy_lua_rs_clock_gettime(clock: libc::clockid_t, ts: *mut Timespec) -> c_int;
}

// Methods only some upstream versions have (build.rs detects them in proxy.h).
unsafe extern "C-unwind" {
    #[cfg(mcp_request_raw_line)]
    pub fn mcplib_request_raw_line(L: *mut lua_State) -> c_int;
    #[cfg(mcp_request_raw_value)]
    pub fn mcplib_request_raw_value(L: *mut lua_State) -> c_int;
    #[cfg(mcp_response_raw_string)]
    pub fn mcplib_response_raw_string(L: *mut lua_State) -> c_int;
}

/// Declares memcached `lua_CFunction`s defined in its other C files
/// (registered in the metatables and `mcp` tables, as upstream does).
macro_rules! host_cfunctions {
    ($($name:ident),* $(,)?) => {
        unsafe extern "C-unwind" {
            $(pub fn $name(L: *mut lua_State) -> c_int;)*
        }
    };
}

host_cfunctions!(
    // proxy_request.c
    mcplib_request,
    mcplib_request_command,
    mcplib_request_key,
    mcplib_request_ltrimkey,
    mcplib_request_rtrimkey,
    mcplib_request_token,
    mcplib_request_token_int,
    mcplib_request_ntokens,
    mcplib_request_has_flag,
    mcplib_request_flag_token,
    mcplib_request_flag_token_int,
    mcplib_request_flag_add,
    mcplib_request_flag_set,
    mcplib_request_flag_replace,
    mcplib_request_flag_del,
    mcplib_request_match_res,
    mcplib_request_gc,
    // proxy_result.c
    mcplib_response_ok,
    mcplib_response_hit,
    mcplib_response_vlen,
    mcplib_response_code,
    mcplib_response_line,
    mcplib_response_flag_blank,
    mcplib_response_elapsed,
    mcplib_response_gc,
    mcplib_response_close,
    // proxy_ratelim.c
    mcplib_ratelim_tbf,
    mcplib_ratelim_tbf_call,
    mcplib_ratelim_global_tbf,
    mcplib_ratelim_global_tbf_gc,
    mcplib_ratelim_proxy_tbf_call,
    mcplib_ratelim_proxy_tbf_gc,
    // proxy_luafgen.c
    mcplib_rcontext_handle_set_cb,
    mcplib_rcontext_enqueue,
    mcplib_rcontext_wait_cond,
    mcplib_rcontext_enqueue_and_wait,
    mcplib_rcontext_wait_handle,
    mcplib_rcontext_res_good,
    mcplib_rcontext_res_ok,
    mcplib_rcontext_res_any,
    mcplib_rcontext_result,
    mcplib_rcontext_best_result,
    mcplib_rcontext_worst_result,
    mcplib_rcontext_cfd,
    mcplib_rcontext_tls_peer_cn,
    mcplib_rcontext_request_new,
    mcplib_rcontext_response_new,
    mcplib_rcontext_sleep,
    mcplib_funcgen_gc,
    mcplib_funcgen_new_handle,
    mcplib_funcgen_ready,
    mcplib_funcgen_new,
    mcplib_funcgenbare_new,
    mcplib_router_new,
    // proxy_inspector.c
    mcplib_inspector_gc,
    mcplib_inspector_call,
    mcplib_req_inspector_new,
    mcplib_res_inspector_new,
    // proxy_mutator.c
    mcplib_mutator_gc,
    mcplib_mutator_call,
    mcplib_req_mutator_new,
    mcplib_res_mutator_new,
    // proxy_internal.c
    mcplib_internal,
    // proxy_ustats.c
    mcplib_add_stat,
    mcplib_stat,
    // proxy_xxhash.c, proxy_jump_hash.c, proxy_ring_hash.c
    mcplib_open_hash_xxhash,
    mcplib_open_dist_jump_hash,
    mcplib_open_dist_ring_hash,
);
