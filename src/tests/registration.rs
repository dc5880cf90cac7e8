//! proxy_register_libs: the tables, metatables, constants and start_arg of
//! both VM kinds (proxy_lua.c:1642-2034).

use super::*;

const CONFIG_FUNCS: &[&str] = &[
    "pool",
    "backend",
    "add_stat",
    "ratelim_global_tbf",
    "luagc_ratio",
    "stat_limit",
    "backend_connect_timeout",
    "backend_retry_timeout",
    "backend_retry_waittime",
    "backend_read_timeout",
    "backend_failure_limit",
    "backend_depth_limit",
    "backend_flap_time",
    "backend_flap_backoff_ramp",
    "backend_flap_backoff_max",
    "backend_use_iothread",
    "backend_use_tls",
    "init_tls",
    "tcp_keepalive",
    "active_req_limit",
    "buffer_memory_limit",
    "schedule_config_reload",
    "register_cron",
    "server_stats",
    "log",
];

const ROUTE_FUNCS: &[&str] = &[
    "internal",
    "attach",
    "funcgen_new",
    "router_new",
    "log",
    "log_req",
    "log_reqsample",
    "stat",
    "request",
    "ratelim_tbf",
    "req_inspector_new",
    "res_inspector_new",
    "req_mutator_new",
    "res_mutator_new",
    "time_real_millis",
    "time_mono_millis",
];

/// Every integer constant upstream registers, with its 1.6.45 value
/// (inventory §3; mcmc.h, proto_parser.h, proxy.h).
const CONSTANTS: &[(&str, i64)] = &[
    ("MCMC_CODE_STORED", 8),
    ("MCMC_CODE_EXISTS", 9),
    ("MCMC_CODE_DELETED", 10),
    ("MCMC_CODE_TOUCHED", 11),
    ("MCMC_CODE_VERSION", 12),
    ("MCMC_CODE_NOT_FOUND", 13),
    ("MCMC_CODE_NOT_STORED", 14),
    ("MCMC_CODE_OK", 15),
    ("MCMC_CODE_NOP", 16),
    ("MCMC_CODE_END", 17),
    ("MCMC_CODE_ERROR", 21),
    ("MCMC_CODE_CLIENT_ERROR", 22),
    ("MCMC_CODE_SERVER_ERROR", 23),
    ("MCMC_ERR", -1),
    ("P_OK", 0),
    ("CMD_ANY", 36),
    ("CMD_ANY_STORAGE", 37),
    ("WAIT_ANY", 1),
    ("WAIT_OK", 2),
    ("WAIT_GOOD", 3),
    ("WAIT_FASTGOOD", 4),
    ("RES_GOOD", 8),
    ("RES_OK", 16),
    ("RES_ANY", 32),
    ("CMD_MG", 1),
    ("CMD_MS", 2),
    ("CMD_MD", 3),
    ("CMD_MN", 4),
    ("CMD_MA", 5),
    ("CMD_ME", 6),
    ("CMD_GET", 7),
    ("CMD_GAT", 8),
    ("CMD_SET", 9),
    ("CMD_ADD", 10),
    ("CMD_CAS", 11),
    ("CMD_GETS", 12),
    ("CMD_GATS", 13),
    ("CMD_INCR", 14),
    ("CMD_DECR", 15),
    ("CMD_TOUCH", 16),
    ("CMD_APPEND", 17),
    ("CMD_DELETE", 18),
    ("CMD_REPLACE", 19),
    ("CMD_PREPEND", 20),
    ("CMD_END_STORAGE", 21),
    ("CMD_QUIT", 22),
    ("CMD_STATS", 23),
    ("CMD_SLABS", 24),
    ("CMD_WATCH", 25),
    ("CMD_LRU", 26),
    ("CMD_VERSION", 27),
    ("CMD_SHUTDOWN", 28),
    ("CMD_EXTSTORE", 29),
    ("CMD_FLUSH_ALL", 30),
    ("CMD_VERBOSITY", 31),
    ("CMD_LRU_CRAWLER", 32),
    ("CMD_REFRESH_CERTS", 33),
    ("CMD_CACHE_MEMLIMIT", 34),
];

fn check_common(vm: &Vm) {
    assert_eq!(CONSTANTS.len(), 58);
    for (name, v) in CONSTANTS {
        assert_eq!(
            vm.eval(&format!("return math.type(mcp.{name})")),
            "integer",
            "{name}"
        );
        assert_eq!(vm.eval(&format!("return mcp.{name}")), v.to_string(), "{name}");
    }
    // exactly 58 integers: nothing more, nothing less.
    assert_eq!(
        vm.eval("local n = 0 for k, v in pairs(mcp) do if math.type(v) == 'integer' then n = n + 1 end end return n"),
        "58"
    );
    assert_eq!(vm.eval("return mcp.WAIT_RESUME"), "true");
    assert_eq!(vm.eval("return type(mcp.hash_xxhash)"), "userdata");
    assert_eq!(vm.eval("return type(mcp.dist_jump_hash.new)"), "function");
    assert_eq!(vm.eval("return type(mcp.dist_ring_hash.new)"), "function");
    assert_eq!(vm.eval("return type(mcp.dist_ring_hash.hash)"), "userdata");
    assert_eq!(vm.eval("return type(mcp.internal_handler)"), "userdata");
    assert_eq!(vm.eval("return mcp.start_arg"), "false");
}

fn function_names(vm: &Vm) -> Vec<String> {
    let s = vm.eval(
        "local t = {} for k, v in pairs(mcp) do if type(v) == 'function' then t[#t+1] = k end end \
         table.sort(t) return table.concat(t, ',')",
    );
    s.split(',').map(str::to_string).collect()
}

#[test]
fn config_vm_tables() {
    let _g = serial();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { ts::mcp_test_set_startarg(core::ptr::null()) };
    let vm = Vm::config();
    check_common(&vm);
    let mut want: Vec<String> = CONFIG_FUNCS.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(function_names(&vm), want);
    // the config VM has no "mcp.internal_be" metatable: the handler has none.
    assert_eq!(vm.eval("return getmetatable(mcp.internal_handler)"), "nil");
    for mt in [
        "mcp.backend",
        "mcp.backendwrap",
        "mcp.pool",
        "mcp.ratelim_global_tbf",
    ] {
        assert_eq!(
            vm.eval(&format!("local r = debug.getregistry()['{mt}'] return r.__name")),
            mt
        );
        assert_eq!(
            vm.eval(&format!(
                "local r = debug.getregistry()['{mt}'] return r.__index == r and type(r.__gc)"
            )),
            "function"
        );
    }
    for mt in [
        "mcp.request",
        "mcp.response",
        "mcp.pool_proxy",
        "mcp.funcgen",
        "mcp.rcontext",
        "mcp.internal_be",
    ] {
        assert_eq!(
            vm.eval(&format!("return debug.getregistry()['{mt}']")),
            "nil",
            "{mt}"
        );
    }
    // the extra space holds ctx
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    assert_eq!(
        unsafe { crate::vm::Vm::from_raw(vm.L) }.extraspace(),
        vm.ctx as *mut c_void
    );
    // every function shares one weak-valued upvalue (the backend cache)
    assert_eq!(
        vm.eval(
            "local _, a = debug.getupvalue(mcp.pool, 1) local _, b = debug.getupvalue(mcp.backend, 1) \
                 return a == b and getmetatable(a).__mode"
        ),
        "v"
    );
}

#[test]
fn worker_vm_tables() {
    let _g = serial();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { ts::mcp_test_set_startarg(core::ptr::null()) };
    let vm = Vm::worker(0);
    check_common(&vm);
    let mut want: Vec<String> = ROUTE_FUNCS.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(function_names(&vm), want);
    assert_eq!(
        vm.eval("return getmetatable(mcp.internal_handler).__name"),
        "mcp.internal_be"
    );
    let methods: &[(&str, &[&str])] = &[
        (
            "mcp.request",
            &[
                "command",
                "key",
                "ltrimkey",
                "rtrimkey",
                "raw_line",
                "raw_value",
                "token",
                "token_int",
                "ntokens",
                "has_flag",
                "flag_token",
                "flag_token_int",
                "flag_add",
                "flag_set",
                "flag_replace",
                "flag_del",
                "match_res",
                "__gc",
            ],
        ),
        (
            "mcp.response",
            &[
                "ok",
                "hit",
                "vlen",
                "code",
                "line",
                "flag_blank",
                "elapsed",
                "raw_string",
                "__gc",
                "__close",
                "close",
            ],
        ),
        ("mcp.pool_proxy", &["__gc"]),
        ("mcp.ratelim_tbf", &["__call"]),
        ("mcp.ratelim_proxy_tbf", &["__call", "__gc"]),
        ("mcp.inspector", &["__gc", "__call"]),
        ("mcp.mutator", &["__gc", "__call"]),
        (
            "mcp.rcontext",
            &[
                "handle_set_cb",
                "enqueue",
                "wait_cond",
                "enqueue_and_wait",
                "wait_handle",
                "res_good",
                "res_ok",
                "res_any",
                "result",
                "best_result",
                "worst_result",
                "cfd",
                "tls_peer_cn",
                "request_new",
                "response_new",
                "sleep",
            ],
        ),
        ("mcp.funcgen", &["__gc", "new_handle", "ready"]),
    ];
    // Methods only some upstream versions declare (1.6.40+), registered
    // exactly when the tree's proxy.h declares them.
    let optional = [
        ("raw_line", cfg!(mcp_request_raw_line)),
        ("raw_value", cfg!(mcp_request_raw_value)),
        ("raw_string", cfg!(mcp_response_raw_string)),
    ];
    let present = |m: &str| optional.iter().all(|&(name, on)| name != m || on);
    for (mt, ms) in methods {
        let ms: Vec<&str> = ms.iter().copied().filter(|m| present(m)).collect();
        assert_eq!(
            vm.eval(&format!(
                "local r = debug.getregistry()['{mt}'] return r.__index == r"
            )),
            "true",
            "{mt}"
        );
        for m in &ms {
            assert_eq!(
                vm.eval(&format!("return type(debug.getregistry()['{mt}'].{m})")),
                "function",
                "{mt}.{m}"
            );
        }
        // nothing else besides __name and __index
        assert_eq!(
            vm.eval(&format!(
                "local n = 0 for k in pairs(debug.getregistry()['{mt}']) do n = n + 1 end return n"
            )),
            (ms.len() + 2 + usize::from(*mt == "mcp.request")).to_string(),
            "{mt}"
        );
    }
    // upstream registers {"__tostring", NULL}: luaL_setfuncs stores false.
    assert_eq!(
        vm.eval("return debug.getregistry()['mcp.request'].__tostring"),
        "false"
    );
    for mt in ["mcp.rfunc", "mcp.internal_be"] {
        assert_eq!(
            vm.eval(&format!(
                "local n = 0 for k in pairs(debug.getregistry()['{mt}']) do n = n + 1 end return n"
            )),
            "1",
            "{mt} has only __name"
        );
    }
    for mt in ["mcp.backend", "mcp.backendwrap", "mcp.pool"] {
        assert_eq!(
            vm.eval(&format!("return debug.getregistry()['{mt}']")),
            "nil",
            "{mt}"
        );
    }
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    assert_eq!(
        unsafe { crate::vm::Vm::from_raw(vm.L) }.extraspace(),
        vm.thread as *mut c_void
    );
}

#[test]
fn start_arg_string_and_table_forms() {
    let _g = serial();
    let arg = CString::new("./t/proxyroutelib.lua").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { ts::mcp_test_set_startarg(arg.as_ptr()) };
    let vm = Vm::config();
    assert_eq!(vm.eval("return mcp.start_arg"), "./t/proxyroutelib.lua");
    drop(vm);

    let arg = CString::new("a_1:b:c_2_3::_d").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { ts::mcp_test_set_startarg(arg.as_ptr()) };
    for vm in [Vm::config(), Vm::worker(0)] {
        assert_eq!(vm.eval("return type(mcp.start_arg)"), "table");
        assert_eq!(
            vm.eval(
                "local t = {} for k, v in pairs(mcp.start_arg) do t[#t+1] = k .. '=' .. tostring(v) end \
                     table.sort(t) return table.concat(t, ',')"
            ),
            "a=1,b=true,c=2,d=true"
        );
    }
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { ts::mcp_test_set_startarg(core::ptr::null()) };
}

#[test]
fn start_arg_field_splitting() {
    use crate::mcplib::register::startarg_field;
    assert_eq!(startarg_field(b"a_1"), (Some(&b"a"[..]), Some(&b"1"[..])));
    assert_eq!(startarg_field(b"b"), (Some(&b"b"[..]), None));
    assert_eq!(startarg_field(b"c_2_3"), (Some(&b"c"[..]), Some(&b"2"[..])));
    assert_eq!(startarg_field(b"__d__e"), (Some(&b"d"[..]), Some(&b"e"[..])));
    assert_eq!(startarg_field(b"___"), (None, None));
}

#[test]
fn host_layout_check_in_test_binary() {
    // The stand-ins define `is_paused` exactly when compiled with
    // MEMCACHED_DEBUG, as memcached-debug does: the check passes.
    assert_eq!(crate::mcplib::register::check_host_layout(), Ok(()));
}
