//! Registration: `proxy_register_defines`, `proxy_register_startarg` and
//! `proxy_register_libs` (proxy_lua.c:1642-2034).

use core::ffi::{CStr, c_int, c_void};
use core::ptr;

use crate::exports::*;
use crate::ffi::host::*;
use crate::ffi::lua::*;
use crate::host::sys;
use crate::host::thread::proxy_startarg;
use crate::vm::{LResult, LuaError, Vm};

macro_rules! reg {
    ($($name:literal => $f:expr),* $(,)?) => {
        [
            $(LuaReg { name: $name.as_ptr(), func: Some($f) },)*
            LuaReg { name: ptr::null(), func: None },
        ]
    };
}

static MCPLIB_BACKEND_M: [LuaReg; 2] = reg!(c"__gc" => mcplib_backend_gc);
static MCPLIB_BACKEND_WRAP_M: [LuaReg; 2] = reg!(c"__gc" => mcplib_backend_wrap_gc);

static MCPLIB_REQUEST_M: &[LuaReg] = &[
    LuaReg {
        name: c"command".as_ptr(),
        func: Some(mcplib_request_command),
    },
    LuaReg {
        name: c"key".as_ptr(),
        func: Some(mcplib_request_key),
    },
    LuaReg {
        name: c"ltrimkey".as_ptr(),
        func: Some(mcplib_request_ltrimkey),
    },
    LuaReg {
        name: c"rtrimkey".as_ptr(),
        func: Some(mcplib_request_rtrimkey),
    },
    #[cfg(mcp_request_raw_line)]
    LuaReg {
        name: c"raw_line".as_ptr(),
        func: Some(mcplib_request_raw_line),
    },
    #[cfg(mcp_request_raw_value)]
    LuaReg {
        name: c"raw_value".as_ptr(),
        func: Some(mcplib_request_raw_value),
    },
    LuaReg {
        name: c"token".as_ptr(),
        func: Some(mcplib_request_token),
    },
    LuaReg {
        name: c"token_int".as_ptr(),
        func: Some(mcplib_request_token_int),
    },
    LuaReg {
        name: c"ntokens".as_ptr(),
        func: Some(mcplib_request_ntokens),
    },
    LuaReg {
        name: c"has_flag".as_ptr(),
        func: Some(mcplib_request_has_flag),
    },
    LuaReg {
        name: c"flag_token".as_ptr(),
        func: Some(mcplib_request_flag_token),
    },
    LuaReg {
        name: c"flag_token_int".as_ptr(),
        func: Some(mcplib_request_flag_token_int),
    },
    LuaReg {
        name: c"flag_add".as_ptr(),
        func: Some(mcplib_request_flag_add),
    },
    LuaReg {
        name: c"flag_set".as_ptr(),
        func: Some(mcplib_request_flag_set),
    },
    LuaReg {
        name: c"flag_replace".as_ptr(),
        func: Some(mcplib_request_flag_replace),
    },
    LuaReg {
        name: c"flag_del".as_ptr(),
        func: Some(mcplib_request_flag_del),
    },
    LuaReg {
        name: c"match_res".as_ptr(),
        func: Some(mcplib_request_match_res),
    },
    // upstream registers a NULL function: luaL_setfuncs stores `false`.
    LuaReg {
        name: c"__tostring".as_ptr(),
        func: None,
    },
    LuaReg {
        name: c"__gc".as_ptr(),
        func: Some(mcplib_request_gc),
    },
    LuaReg {
        name: ptr::null(),
        func: None,
    },
];

#[cfg(mcp_response_raw_string)]
static MCPLIB_RESPONSE_M: [LuaReg; 12] = reg!(
    c"ok" => mcplib_response_ok,
    c"hit" => mcplib_response_hit,
    c"vlen" => mcplib_response_vlen,
    c"code" => mcplib_response_code,
    c"line" => mcplib_response_line,
    c"flag_blank" => mcplib_response_flag_blank,
    c"elapsed" => mcplib_response_elapsed,
    c"raw_string" => mcplib_response_raw_string,
    c"__gc" => mcplib_response_gc,
    c"__close" => mcplib_response_close,
    c"close" => mcplib_response_close,
);
#[cfg(not(mcp_response_raw_string))]
static MCPLIB_RESPONSE_M: [LuaReg; 11] = reg!(
    c"ok" => mcplib_response_ok,
    c"hit" => mcplib_response_hit,
    c"vlen" => mcplib_response_vlen,
    c"code" => mcplib_response_code,
    c"line" => mcplib_response_line,
    c"flag_blank" => mcplib_response_flag_blank,
    c"elapsed" => mcplib_response_elapsed,
    c"__gc" => mcplib_response_gc,
    c"__close" => mcplib_response_close,
    c"close" => mcplib_response_close,
);

static MCPLIB_POOL_M: [LuaReg; 2] = reg!(c"__gc" => mcplib_pool_gc);
static MCPLIB_POOL_PROXY_M: [LuaReg; 2] = reg!(c"__gc" => mcplib_pool_proxy_gc);
static MCPLIB_RATELIM_TBF_M: [LuaReg; 2] = reg!(c"__call" => mcplib_ratelim_tbf_call);
static MCPLIB_RATELIM_GLOBAL_TBF_M: [LuaReg; 2] = reg!(c"__gc" => mcplib_ratelim_global_tbf_gc);
static MCPLIB_RATELIM_PROXY_TBF_M: [LuaReg; 3] = reg!(
    c"__call" => mcplib_ratelim_proxy_tbf_call,
    c"__gc" => mcplib_ratelim_proxy_tbf_gc,
);

static MCPLIB_RCONTEXT_M: [LuaReg; 17] = reg!(
    c"handle_set_cb" => mcplib_rcontext_handle_set_cb,
    c"enqueue" => mcplib_rcontext_enqueue,
    c"wait_cond" => mcplib_rcontext_wait_cond,
    c"enqueue_and_wait" => mcplib_rcontext_enqueue_and_wait,
    c"wait_handle" => mcplib_rcontext_wait_handle,
    c"res_good" => mcplib_rcontext_res_good,
    c"res_ok" => mcplib_rcontext_res_ok,
    c"res_any" => mcplib_rcontext_res_any,
    c"result" => mcplib_rcontext_result,
    c"best_result" => mcplib_rcontext_best_result,
    c"worst_result" => mcplib_rcontext_worst_result,
    c"cfd" => mcplib_rcontext_cfd,
    c"tls_peer_cn" => mcplib_rcontext_tls_peer_cn,
    c"request_new" => mcplib_rcontext_request_new,
    c"response_new" => mcplib_rcontext_response_new,
    c"sleep" => mcplib_rcontext_sleep,
);

static MCPLIB_FUNCGEN_M: [LuaReg; 4] = reg!(
    c"__gc" => mcplib_funcgen_gc,
    c"new_handle" => mcplib_funcgen_new_handle,
    c"ready" => mcplib_funcgen_ready,
);

static MCPLIB_INSPECTOR_M: [LuaReg; 3] = reg!(
    c"__gc" => mcplib_inspector_gc,
    c"__call" => mcplib_inspector_call,
);

static MCPLIB_MUTATOR_M: [LuaReg; 3] = reg!(
    c"__gc" => mcplib_mutator_gc,
    c"__call" => mcplib_mutator_call,
);

/// `mcplib_f_config`: the config VM's `mcp` functions, upstream order.
pub static MCPLIB_F_CONFIG: [LuaReg; 26] = reg!(
    c"pool" => mcplib_pool,
    c"backend" => mcplib_backend,
    c"add_stat" => mcplib_add_stat,
    c"ratelim_global_tbf" => mcplib_ratelim_global_tbf,
    c"luagc_ratio" => mcplib_luagc_ratio,
    c"stat_limit" => mcplib_stat_limit,
    c"backend_connect_timeout" => mcplib_backend_connect_timeout,
    c"backend_retry_timeout" => mcplib_backend_retry_timeout,
    c"backend_retry_waittime" => mcplib_backend_retry_waittime,
    c"backend_read_timeout" => mcplib_backend_read_timeout,
    c"backend_failure_limit" => mcplib_backend_failure_limit,
    c"backend_depth_limit" => mcplib_backend_depth_limit,
    c"backend_flap_time" => mcplib_backend_flap_time,
    c"backend_flap_backoff_ramp" => mcplib_backend_flap_backoff_ramp,
    c"backend_flap_backoff_max" => mcplib_backend_flap_backoff_max,
    c"backend_use_iothread" => mcplib_backend_use_iothread,
    c"backend_use_tls" => mcplib_backend_use_tls,
    c"init_tls" => mcplib_init_tls,
    c"tcp_keepalive" => mcplib_tcp_keepalive,
    c"active_req_limit" => mcplib_active_req_limit,
    c"buffer_memory_limit" => mcplib_buffer_memory_limit,
    c"schedule_config_reload" => mcplib_schedule_config_reload,
    c"register_cron" => mcplib_register_cron,
    c"server_stats" => mcplib_server_stats,
    c"log" => mcplib_ct_log,
);

/// `mcplib_f_routes`: the worker VMs' `mcp` functions, upstream order.
pub static MCPLIB_F_ROUTES: [LuaReg; 17] = reg!(
    c"internal" => mcplib_internal,
    c"attach" => mcplib_attach,
    c"funcgen_new" => mcplib_funcgen_new,
    c"router_new" => mcplib_router_new,
    c"log" => mcplib_log,
    c"log_req" => mcplib_log_req,
    c"log_reqsample" => mcplib_log_reqsample,
    c"stat" => mcplib_stat,
    c"request" => mcplib_request,
    c"ratelim_tbf" => mcplib_ratelim_tbf,
    c"req_inspector_new" => mcplib_req_inspector_new,
    c"res_inspector_new" => mcplib_res_inspector_new,
    c"req_mutator_new" => mcplib_req_mutator_new,
    c"res_mutator_new" => mcplib_res_mutator_new,
    c"time_real_millis" => mcplib_time_real_millis,
    c"time_mono_millis" => mcplib_time_mono_millis,
);

/// `luaL_newmetatable(L, name)`, `mt.__index = mt`, register `methods`, pop.
fn metatable_with_methods(vm: &mut Vm, name: &CStr, methods: &'static [LuaReg]) {
    vm.newmetatable(name);
    vm.push_value(-1); // duplicate metatable.
    vm.setfield(-2, c"__index"); // mt.__index = mt
    vm.setfuncs(methods, 0); // register methods
    vm.pop(1);
}

/// `luaL_newmetatable(L, name)` then pop: a metatable with only `__name`.
fn bare_metatable(vm: &mut Vm, name: &CStr) {
    vm.newmetatable(name);
    vm.pop(1);
}

/// proxy_lua.c:1642 `proxy_register_defines`: the integer constants (taken
/// from the configured headers by the layout probe) and `WAIT_RESUME`.
pub fn proxy_register_defines(vm: &mut Vm) {
    // PROXY_DEFINES_NAMES: "NAME\0NAME\0...", one per value, in order.
    let mut names = PROXY_DEFINES_NAMES;
    for value in PROXY_DEFINES_VALUES.iter() {
        let Ok(name) = CStr::from_bytes_until_nul(names) else {
            break;
        };
        names = names.get(name.to_bytes_with_nul().len()..).unwrap_or(&[]);
        vm.push_integer(*value);
        vm.setfield(-2, name);
    }
    vm.push_boolean(true);
    vm.setfield(-2, c"WAIT_RESUME");
}

/// One `name[_value]` field of a `proxy_arg` with ':' in it, split as
/// upstream's `strtok_r(p, "_")` does: the first run of non-'_' bytes is
/// the name, the second the value, the rest is dropped.
pub fn startarg_field(field: &[u8]) -> (Option<&[u8]>, Option<&[u8]>) {
    let mut toks = field.split(|&b| b == b'_').filter(|t| !t.is_empty());
    let name = toks.next();
    let value = toks.next();
    (name, value)
}

/// proxy_lua.c:1683 `proxy_register_startarg`: `mcp.start_arg` from
/// `-o proxy_arg=...`; the `mcp` table is at -1.
pub fn proxy_register_startarg(vm: &mut Vm) -> LResult<()> {
    let idx = vm.absindex(-1); // remember 'mcp' table.
    let Some(arg) = proxy_startarg() else {
        // no argument given.
        vm.push_boolean(false);
        vm.setfield(idx, c"start_arg");
        return Ok(());
    };
    if !arg.contains(&b':') {
        // just upload the string
        vm.push_bytes(arg);
    } else {
        // split into a table and set that instead (strtok_r(":") skips
        // empty fields).
        vm.newtable();
        let nidx = vm.absindex(-1);
        for field in arg.split(|&b| b == b':').filter(|f| !f.is_empty()) {
            let (name, value) = startarg_field(field);
            let Some(name) = name else {
                // Upstream pushes a nil key here and lua_settable raises
                // outside any protected call, which aborts memcached with
                // "PANIC: unprotected error". Refuse with a clear message
                // instead.
                vm.pop(1);
                return Err(LuaError::Str(c"proxy_arg: a ':'-separated field has no name"));
            };
            vm.push_bytes(name); // table -> key
            match value {
                None => vm.push_boolean(true), // table -> key -> True
                Some(v) => vm.push_bytes(v),   // table -> key -> value
            }
            vm.settable(nidx);
        }
    }
    vm.setfield(idx, c"start_arg");
    Ok(())
}

/// The start-up layout check: refuse to run in a binary whose layout is not
/// the one this archive was built for (a debug-layout archive in the
/// production binary links without any error).
pub fn check_host_layout() -> Result<(), &'static str> {
    let host_debug = crate::host::sys::host_is_memcached_debug();
    if host_debug != HAVE_MEMCACHED_DEBUG {
        return Err(if HAVE_MEMCACHED_DEBUG {
            "proxy-lua-rs: this library was built with the MEMCACHED_DEBUG layout \
             (for memcached-debug) but the running binary was built without \
             MEMCACHED_DEBUG; rebuild the library with this binary's compile flags"
        } else {
            "proxy-lua-rs: this library was built for a binary without MEMCACHED_DEBUG \
             (memcached) but the running binary was built with MEMCACHED_DEBUG \
             (memcached-debug); rebuild the library with this binary's compile flags"
        });
    }
    if let Some(sz) = crate::host::sys::host_settings_size() {
        if sz != Settings::C_SIZE {
            return Err(
                "proxy-lua-rs: `struct settings` in the running binary differs in size from \
                 the configured memcached headers this library was built against; rebuild \
                 the library with this binary's configure options and compile flags",
            );
        }
    }
    Ok(())
}

/// proxy_lua.c:1721 `proxy_register_libs`: builds the `mcp` table of a
/// config VM (`t` NULL) or a worker VM. Exits the process on a start-up
/// refusal (wrong library layout, unusable `proxy_arg`), before any Lua runs.
pub fn proxy_register_libs(vm: &mut Vm, ctx: *mut c_void, t: *mut LibeventThread) -> c_int {
    if let Err(msg) = check_host_layout() {
        sys::eprint(&[msg.as_bytes(), b". Refusing to run.\n"]);
        sys::exit_failure();
    }
    // VM's have void* extra space in the VM by default for fast-access to a
    // context pointer like this.
    if !t.is_null() {
        // If thread VM, extra is the libevent thread
        vm.set_extraspace(t.cast());
        metatable_with_methods(vm, c"mcp.request", MCPLIB_REQUEST_M);
        metatable_with_methods(vm, c"mcp.response", &MCPLIB_RESPONSE_M);
        metatable_with_methods(vm, c"mcp.pool_proxy", &MCPLIB_POOL_PROXY_M);
        metatable_with_methods(vm, c"mcp.ratelim_tbf", &MCPLIB_RATELIM_TBF_M);
        metatable_with_methods(vm, c"mcp.ratelim_proxy_tbf", &MCPLIB_RATELIM_PROXY_TBF_M);
        metatable_with_methods(vm, c"mcp.inspector", &MCPLIB_INSPECTOR_M);
        metatable_with_methods(vm, c"mcp.mutator", &MCPLIB_MUTATOR_M);
        metatable_with_methods(vm, c"mcp.rcontext", &MCPLIB_RCONTEXT_M);
        metatable_with_methods(vm, c"mcp.funcgen", &MCPLIB_FUNCGEN_M);
        // marks a special C-compatible route function.
        bare_metatable(vm, c"mcp.rfunc");
        // function generator userdata (a no-op: it exists already).
        bare_metatable(vm, c"mcp.funcgen");
        // mt for magical null wrapper for using internal cache as backend
        bare_metatable(vm, c"mcp.internal_be");
        vm.createtable(0, MCPLIB_F_ROUTES.len() as c_int - 1);
    } else {
        // the configuration VM's extra space points straight to ctx.
        vm.set_extraspace(ctx);
        metatable_with_methods(vm, c"mcp.backend", &MCPLIB_BACKEND_M);
        metatable_with_methods(vm, c"mcp.backendwrap", &MCPLIB_BACKEND_WRAP_M);
        metatable_with_methods(vm, c"mcp.pool", &MCPLIB_POOL_M);
        metatable_with_methods(vm, c"mcp.ratelim_global_tbf", &MCPLIB_RATELIM_GLOBAL_TBF_M);
        vm.createtable(0, MCPLIB_F_CONFIG.len() as c_int - 1);
    }

    // Create magic empty value to pass as an internal backend. (In the
    // config VM "mcp.internal_be" does not exist: no metatable is set.)
    vm.new_blob(1, 0);
    vm.getmetatable_named(c"mcp.internal_be");
    vm.setmetatable(-2);
    vm.setfield(-2, c"internal_handler");

    proxy_register_defines(vm);

    vm.call_host(mcplib_open_hash_xxhash);
    vm.setfield(-2, c"hash_xxhash");
    vm.call_host(mcplib_open_dist_jump_hash);
    vm.setfield(-2, c"dist_jump_hash");
    vm.call_host(mcplib_open_dist_ring_hash);
    vm.setfield(-2, c"dist_ring_hash");

    // create weak table for storing backends by label: upvalue
    // MCP_BACKEND_UPVALUE of every mcp function.
    vm.newtable(); // {}
    vm.newtable(); // {}, {} for metatable
    vm.push_cstr(c"v"); // {}, {}, "v" for weak values.
    vm.setfield(-2, c"__mode"); // {}, {__mode = "v"}
    vm.setmetatable(-2); // {__mt = {__mode = "v"} }

    if !t.is_null() {
        vm.setfuncs(&MCPLIB_F_ROUTES, 1); // store upvalues.
    } else {
        vm.setfuncs(&MCPLIB_F_CONFIG, 1); // store upvalues.
    }

    // every VM gets a copy of the start arguments to work with.
    if let Err(e) = proxy_register_startarg(vm) {
        match e {
            LuaError::Str(msg) => sys::eprint(&[b"ERROR: ", msg.to_bytes(), b"\n"]),
            _ => sys::eprint(&[b"ERROR: proxy_arg could not be parsed\n"]),
        }
        sys::exit_failure();
    }

    vm.setglobal(c"mcp"); // set the lib table to mcp global.
    1
}
