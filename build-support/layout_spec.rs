//! Which memcached structs, members, constants and configure switches the
//! Rust code depends on, with the Rust type it assumes for each member.
//! Read by build.rs; the probe measures every entry in the configured tree.
//!
//! Conventions for Rust types: libc/core names as they appear in
//! `src/ffi/host.rs` (which imports `core::ffi::*` and `libc`), and the names
//! of the other generated mirrors.

pub struct Field {
    /// C member designator (may be nested: `global_stats.backend_total`).
    pub c: &'static str,
    /// Rust field name in the mirror.
    pub name: &'static str,
    /// Rust type assumed for the member.
    pub rust: &'static str,
    /// Only present `#ifdef` this symbol (`!SYM` for `#ifndef`).
    pub cond: Option<&'static str>,
}

pub struct StructSpec {
    pub c_type: &'static str,
    pub rust: &'static str,
    pub fields: &'static [Field],
    /// Flexible array member, if the Rust code indexes it.
    pub flex: Option<Field>,
}

pub struct Const {
    pub name: &'static str,
    pub c_expr: &'static str,
    pub rust_type: &'static str,
}

pub struct DefineGroup {
    pub name: &'static str,
    /// (Lua name, C expression), in upstream registration order.
    pub entries: &'static [(&'static str, &'static str)],
    /// An X-macro list appended after `entries` (`CMD_FIELDS`).
    pub xmacro: Option<&'static str>,
}

const fn f(c: &'static str, name: &'static str, rust: &'static str) -> Field {
    Field {
        c,
        name,
        rust,
        cond: None,
    }
}
const fn fc(c: &'static str, name: &'static str, rust: &'static str, cond: &'static str) -> Field {
    Field {
        c,
        name,
        rust,
        cond: Some(cond),
    }
}

/// Configure/compile switches that change layouts or code paths.
pub const SWITCHES: &[&str] = &[
    "PROXY",
    "PROXY_TLS",
    "MEMCACHED_DEBUG",
    "USE_EVENTFD",
    "EXTSTORE",
    "TLS",
    "HAVE_LIBURING",
    "NDEBUG",
];

pub const CONSTS: &[Const] = &[
    Const {
        name: "KEY_MAX_LENGTH",
        c_expr: "KEY_MAX_LENGTH",
        rust_type: "usize",
    },
    Const {
        name: "READ_BUFFER_SIZE",
        c_expr: "READ_BUFFER_SIZE",
        rust_type: "usize",
    },
    Const {
        name: "STAT_KEY_LEN",
        c_expr: "STAT_KEY_LEN",
        rust_type: "usize",
    },
    Const {
        name: "MAX_LABELLEN",
        c_expr: "MAX_LABELLEN",
        rust_type: "usize",
    },
    Const {
        name: "MAX_NAMELEN",
        c_expr: "MAX_NAMELEN",
        rust_type: "usize",
    },
    Const {
        name: "MAX_PORTLEN",
        c_expr: "MAX_PORTLEN",
        rust_type: "usize",
    },
    Const {
        name: "KEY_HASH_FILTER_MAX",
        c_expr: "KEY_HASH_FILTER_MAX",
        rust_type: "usize",
    },
    Const {
        name: "MAX_USTATS_DEFAULT",
        c_expr: "MAX_USTATS_DEFAULT",
        rust_type: "i32",
    },
    Const {
        name: "BE_IOV_MAX",
        c_expr: "BE_IOV_MAX",
        rust_type: "usize",
    },
    Const {
        name: "LOG_PROXYREQS",
        c_expr: "LOG_PROXYREQS",
        rust_type: "u16",
    },
    Const {
        name: "LOG_PROXYUSER",
        c_expr: "LOG_PROXYUSER",
        rust_type: "u16",
    },
    Const {
        name: "LOGGER_PROXY_USER",
        c_expr: "LOGGER_PROXY_USER",
        rust_type: "i32",
    },
    Const {
        name: "LOGGER_PROXY_REQ",
        c_expr: "LOGGER_PROXY_REQ",
        rust_type: "i32",
    },
    Const {
        name: "MCMC_OK",
        c_expr: "MCMC_OK",
        rust_type: "i32",
    },
    Const {
        name: "MCMC_CODE_END",
        c_expr: "MCMC_CODE_END",
        rust_type: "i32",
    },
    Const {
        name: "MCMC_OPTION_BLANK",
        c_expr: "MCMC_OPTION_BLANK",
        rust_type: "i32",
    },
    Const {
        name: "MCMC_OPTION_NONBLOCK",
        c_expr: "MCMC_OPTION_NONBLOCK",
        rust_type: "i32",
    },
    Const {
        name: "MCMC_OPTION_TCP_KEEPALIVE",
        c_expr: "MCMC_OPTION_TCP_KEEPALIVE",
        rust_type: "i32",
    },
    Const {
        name: "RQUEUE_R_GOOD",
        c_expr: "RQUEUE_R_GOOD",
        rust_type: "i32",
    },
    Const {
        name: "RQUEUE_R_OK",
        c_expr: "RQUEUE_R_OK",
        rust_type: "i32",
    },
    Const {
        name: "RQUEUE_R_ANY",
        c_expr: "RQUEUE_R_ANY",
        rust_type: "i32",
    },
    Const {
        name: "CMD_MN",
        c_expr: "CMD_MN",
        rust_type: "i64",
    },
    Const {
        name: "CMD_SIZE",
        c_expr: "CMD_SIZE",
        rust_type: "i64",
    },
    Const {
        name: "CMD_ANY",
        c_expr: "CMD_ANY",
        rust_type: "i64",
    },
    Const {
        name: "CMD_ANY_STORAGE",
        c_expr: "CMD_ANY_STORAGE",
        rust_type: "i64",
    },
    Const {
        name: "CMD_END_STORAGE",
        c_expr: "CMD_END_STORAGE",
        rust_type: "i64",
    },
    Const {
        name: "MCP_BACKEND_UPVALUE",
        c_expr: "MCP_BACKEND_UPVALUE",
        rust_type: "i32",
    },
    Const {
        name: "MCP_BACKEND_READ",
        c_expr: "mcp_backend_read",
        rust_type: "u32",
    },
    Const {
        name: "LUA_EXTRASPACE",
        c_expr: "LUA_EXTRASPACE",
        rust_type: "usize",
    },
];

/// `proxy_register_defines()`: the integer constants put into `mcp`, in
/// upstream order (proxy_lua.c:1642-1680).
pub const DEFINE_GROUPS: &[DefineGroup] = &[DefineGroup {
    name: "PROXY_DEFINES",
    entries: &[
        ("MCMC_CODE_STORED", "MCMC_CODE_STORED"),
        ("MCMC_CODE_EXISTS", "MCMC_CODE_EXISTS"),
        ("MCMC_CODE_DELETED", "MCMC_CODE_DELETED"),
        ("MCMC_CODE_TOUCHED", "MCMC_CODE_TOUCHED"),
        ("MCMC_CODE_VERSION", "MCMC_CODE_VERSION"),
        ("MCMC_CODE_NOT_FOUND", "MCMC_CODE_NOT_FOUND"),
        ("MCMC_CODE_NOT_STORED", "MCMC_CODE_NOT_STORED"),
        ("MCMC_CODE_OK", "MCMC_CODE_OK"),
        ("MCMC_CODE_NOP", "MCMC_CODE_NOP"),
        ("MCMC_CODE_END", "MCMC_CODE_END"),
        ("MCMC_CODE_ERROR", "MCMC_CODE_ERROR"),
        ("MCMC_CODE_CLIENT_ERROR", "MCMC_CODE_CLIENT_ERROR"),
        ("MCMC_CODE_SERVER_ERROR", "MCMC_CODE_SERVER_ERROR"),
        ("MCMC_ERR", "MCMC_ERR"),
        ("P_OK", "P_OK"),
        ("CMD_ANY", "CMD_ANY"),
        ("CMD_ANY_STORAGE", "CMD_ANY_STORAGE"),
        ("WAIT_ANY", "QWAIT_ANY"),
        ("WAIT_OK", "QWAIT_OK"),
        ("WAIT_GOOD", "QWAIT_GOOD"),
        ("WAIT_FASTGOOD", "QWAIT_FASTGOOD"),
        ("RES_GOOD", "RQUEUE_R_GOOD"),
        ("RES_OK", "RQUEUE_R_OK"),
        ("RES_ANY", "RQUEUE_R_ANY"),
    ],
    xmacro: Some("CMD_FIELDS"),
}];

/// Mirrors the Rust code creates as values: `Clone, Copy`, and
/// `new(member, ...)` with the members in offset order, padding zeroed.
pub const VALUE_STRUCTS: &[&str] = &["Timeval", "Timespec"];

pub const STRUCTS: &[StructSpec] = &[
    // The C library's time types as memcached's compiler sees them: their
    // size follows the flags (`-D_TIME_BITS=64` on Debian's 32-bit ARM makes
    // both 16 bytes, where i386 keeps 8), not the libc crate's defaults.
    // "int": the integer type of the member's probed size and signedness.
    StructSpec {
        c_type: "struct timeval",
        rust: "Timeval",
        fields: &[f("tv_sec", "tv_sec", "int"), f("tv_usec", "tv_usec", "int")],
        flex: None,
    },
    StructSpec {
        c_type: "struct timespec",
        rust: "Timespec",
        fields: &[f("tv_sec", "tv_sec", "int"), f("tv_nsec", "tv_nsec", "int")],
        flex: None,
    },
    StructSpec {
        c_type: "struct proxy_tunables",
        rust: "ProxyTunables",
        fields: &[
            f("connect", "connect", "Timeval"),
            f("retry", "retry", "Timeval"),
            f("read", "read", "Timeval"),
            f("flap", "flap", "Timeval"),
            f("flap_backoff_ramp", "flap_backoff_ramp", "f32"),
            f("gc_ratio", "gc_ratio", "f32"),
            f("flap_backoff_max", "flap_backoff_max", "u32"),
            f("backend_depth_limit", "backend_depth_limit", "c_int"),
            f("backend_failure_limit", "backend_failure_limit", "c_int"),
            f("max_ustats", "max_ustats", "c_int"),
            f("tcp_keepalive", "tcp_keepalive", "bool"),
            f("use_iothread", "use_iothread", "bool"),
            f("use_tls", "use_tls", "bool"),
            f("down", "down", "bool"),
        ],
        flex: None,
    },
    StructSpec {
        c_type: "struct proxy_logging",
        rust: "ProxyLogging",
        fields: &[
            f("deadline", "deadline", "c_uint"),
            f("rate", "rate", "c_uint"),
            f("all_errors", "all_errors", "bool"),
            f("detail", "detail", "*mut c_char"),
        ],
        flex: None,
    },
    StructSpec {
        c_type: "proxy_ctx_t",
        rust: "ProxyCtx",
        fields: &[
            f("proxy_io_thread", "proxy_io_thread", "*mut ProxyEventThread"),
            f("active_req_limit", "active_req_limit", "i64|u64"),
            f("buffer_memory_limit", "buffer_memory_limit", "u64"),
            fc("tls_ctx", "tls_ctx", "*mut c_void", "PROXY_TLS"),
            f("tunables", "tunables", "ProxyTunables"),
            f("global_stats.backend_total", "backend_total", "u64"),
            f("stats_lock", "stats_lock", "libc::pthread_mutex_t"),
            f("manager_lock", "manager_lock", "libc::pthread_mutex_t"),
            f("manager_cond", "manager_cond", "libc::pthread_cond_t"),
            f("manager_head", "manager_head", "StailqHead<McpGlobalObj>"),
            f("config_generation", "config_generation", "c_int"),
            f("cron_ref", "cron_ref", "c_int"),
            f("cron_next", "cron_next", "c_int"),
            f("loading", "loading", "bool"),
        ],
        flex: None,
    },
    StructSpec {
        c_type: "mcp_cron_t",
        rust: "McpCron",
        fields: &[
            f("gen", "gen_", "u32"),
            f("next", "next", "u32"),
            f("every", "every", "u32"),
            f("repeat", "repeat", "bool"),
        ],
        flex: None,
    },
    StructSpec {
        c_type: "mcp_backend_label_t",
        rust: "McpBackendLabel",
        fields: &[
            f("name", "name", "[c_char; 256]"),
            f("port", "port", "[c_char; 7]"),
            f("label", "label", "[c_char; 513]"),
            f("llen", "llen", "usize"),
            f("conncount", "conncount", "c_int"),
            f("use_logging", "use_logging", "bool"),
            f("tunables", "tunables", "ProxyTunables"),
            f("logging", "logging", "ProxyLogging"),
        ],
        flex: None,
    },
    StructSpec {
        c_type: "mcp_backend_wrap_t",
        rust: "McpBackendWrap",
        fields: &[f("be", "be", "*mut McpBackend")],
        flex: None,
    },
    StructSpec {
        c_type: "struct mcp_backendconn_s",
        rust: "McpBackendConn",
        fields: &[
            f("be_parent", "be_parent", "*mut McpBackend"),
            f("event_thread", "event_thread", "*mut ProxyEventThread"),
            f("client", "client", "*mut c_void"),
            f("iop_write", "iop_write", "StailqHead<c_void>"),
            f("iop_read", "iop_read", "StailqHead<c_void>"),
            f("rbuf", "rbuf", "*mut c_char"),
            f("tunables", "tunables", "ProxyTunables"),
            f("state", "state", "c_uint"),
            f("connect_flags", "connect_flags", "c_int"),
        ],
        flex: None,
    },
    StructSpec {
        c_type: "mcp_backend_t",
        rust: "McpBackend",
        fields: &[
            f("conncount", "conncount", "c_int"),
            f("transferred", "transferred", "bool"),
            f("use_io_thread", "use_io_thread", "bool"),
            f("use_logging", "use_logging", "bool"),
            f("beconn_next", "beconn_next", "StailqEntry<McpBackend>"),
            f("iop_head", "iop_head", "StailqHead<c_void>"),
            f("logging", "logging", "ProxyLogging"),
            f("tunables", "tunables", "ProxyTunables"),
            f("name", "name", "[c_char; 256]"),
            f("port", "port", "[c_char; 7]"),
            f("label", "label", "[c_char; 513]"),
        ],
        flex: Some(f("be", "be", "McpBackendConn")),
    },
    StructSpec {
        c_type: "proxy_event_thread_t",
        rust: "ProxyEventThread",
        fields: &[
            f("mutex", "mutex", "libc::pthread_mutex_t"),
            f("beconn_head_in", "beconn_head_in", "StailqHead<McpBackend>"),
            fc("be_event_fd", "be_event_fd", "c_int", "USE_EVENTFD"),
            fc("be_notify_send_fd", "be_notify_send_fd", "c_int", "!USE_EVENTFD"),
            f("ctx", "ctx", "*mut ProxyCtx"),
        ],
        flex: None,
    },
    StructSpec {
        c_type: "struct mcp_globalobj_s",
        rust: "McpGlobalObj",
        fields: &[
            f("lock", "lock", "libc::pthread_mutex_t"),
            f("next", "next", "StailqEntry<McpGlobalObj>"),
            f("refcount", "refcount", "c_int"),
            f("self_ref", "self_ref", "c_int"),
        ],
        flex: None,
    },
    StructSpec {
        c_type: "struct proxy_hash_caller",
        rust: "ProxyHashCaller",
        fields: &[
            f("selector_func", "selector_func", "Option<HashSelectorFunc>"),
            f("ctx", "ctx", "*mut c_void"),
        ],
        flex: None,
    },
    StructSpec {
        c_type: "struct proxy_hash_func",
        rust: "ProxyHashFunc",
        fields: &[f("func", "func", "Option<KeyHashFunc>")],
        flex: None,
    },
    StructSpec {
        c_type: "mcp_pool_be_t",
        rust: "McpPoolBe",
        fields: &[f("ref", "ref_", "c_int"), f("be", "be", "*mut McpBackend")],
        flex: None,
    },
    StructSpec {
        c_type: "mcp_pool_t",
        rust: "McpPool",
        fields: &[
            f("phc", "phc", "ProxyHashCaller"),
            f("key_filter", "key_filter", "Option<KeyHashFilterFunc>"),
            f("key_hasher", "key_hasher", "Option<KeyHashFunc>"),
            f("ctx", "ctx", "*mut ProxyCtx"),
            f("key_filter_conf", "key_filter_conf", "[c_char; 6]"),
            f("g", "g", "McpGlobalObj"),
            f("beprefix", "beprefix", "[c_char; 513]"),
            f("hash_seed", "hash_seed", "u64"),
            f("pool_size", "pool_size", "c_int"),
            f("pool_be_total", "pool_be_total", "c_int"),
            f("phc_ref", "phc_ref", "c_int"),
            f("use_iothread", "use_iothread", "bool"),
        ],
        flex: Some(f("pool", "pool", "McpPoolBe")),
    },
    StructSpec {
        c_type: "mcp_pool_proxy_t",
        rust: "McpPoolProxy",
        fields: &[
            f("main", "main", "*mut McpPool"),
            f("pool", "pool", "*mut McpPoolBe"),
        ],
        flex: None,
    },
    StructSpec {
        c_type: "struct proxy_hook_ref",
        rust: "ProxyHookRef",
        fields: &[f("lua_ref", "lua_ref", "c_int"), f("ctx", "ctx", "*mut c_void")],
        flex: None,
    },
    StructSpec {
        c_type: "struct proxy_hook_tagged",
        rust: "ProxyHookTagged",
        fields: &[f("tag", "tag", "u64"), f("ref", "ref_", "ProxyHookRef")],
        flex: None,
    },
    StructSpec {
        c_type: "struct proxy_hook",
        rust: "ProxyHook",
        fields: &[
            f("ref", "ref_", "ProxyHookRef"),
            f("tagcount", "tagcount", "c_int"),
            f("tagged", "tagged", "*mut ProxyHookTagged"),
        ],
        flex: None,
    },
    StructSpec {
        c_type: "mcp_funcgen_t",
        rust: "McpFuncgen",
        fields: &[f("closed", "closed", "bool")],
        flex: None,
    },
    StructSpec {
        c_type: "mcp_request_t",
        rust: "McpRequest",
        fields: &[
            f("pr.request", "request", "*const c_char"),
            f("pr.reqlen", "reqlen", "u32"),
        ],
        flex: None,
    },
    StructSpec {
        c_type: "mcp_resp_t",
        rust: "McpResp",
        fields: &[
            f("resp.type", "resp_type", "i16"),
            f("resp.code", "resp_code", "i16"),
            f("thread", "thread", "*mut LibeventThread"),
            f("be", "be", "*mut McpBackend"),
            f("elapsed", "elapsed", "c_long"),
            f("status", "status", "c_int"),
        ],
        flex: None,
    },
    StructSpec {
        c_type: "LIBEVENT_THREAD",
        rust: "LibeventThread",
        fields: &[
            f("thread_baseid", "thread_baseid", "c_int"),
            f("l", "l", "*mut Logger"),
            f("proxy_ctx", "proxy_ctx", "*mut c_void"),
            f("L", "lua", "*mut c_void"),
            f("proxy_hooks", "proxy_hooks", "*mut c_void"),
            f("proxy_event_thread", "proxy_event_thread", "*mut c_void"),
            f("proxy_rng", "proxy_rng", "[u32; 4]"),
        ],
        flex: None,
    },
    StructSpec {
        c_type: "logger",
        rust: "Logger",
        fields: &[f("eflags", "eflags", "u16")],
        flex: None,
    },
    StructSpec {
        c_type: "struct settings",
        rust: "Settings",
        fields: &[
            f("num_threads", "num_threads", "c_int"),
            f("proxy_startarg", "proxy_startarg", "*mut c_char"),
        ],
        flex: None,
    },
];
