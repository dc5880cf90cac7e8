//! Dev-only support for proxy-lua-rs's `cargo test`: links a Lua (memcached's
//! vendored 5.4.3 sources) and C stand-ins for memcached (see
//! c/standins.c). Declarations use `c_void` for memcached structs; the tests
//! cast to the library's generated mirrors.

#![allow(non_upper_case_globals)]

use core::ffi::{c_char, c_int, c_long, c_uint, c_void};

#[repr(C)]
pub struct LogEntry {
    pub event: c_int,
    pub msg: [c_char; 512],
    pub detail: [c_char; 256],
    pub rname: [c_char; 64],
    pub rport: [c_char; 16],
    pub reqlen: c_uint,
    pub elapsed: c_long,
    pub rtype: c_int,
    pub rcode: c_int,
    pub rstatus: c_int,
    pub flag: c_int,
    pub cfd: c_int,
    pub dlen: usize,
    pub has_detail: bool,
    pub has_rname: bool,
    pub has_rport: bool,
}

unsafe extern "C" {
    pub static mut mcp_test_log: [LogEntry; 64];
    pub static mut mcp_test_log_count: c_int;
    pub static mut mcp_test_funcgen_derefs: c_int;
    pub fn mcp_test_ctx_new() -> *mut c_void;
    pub fn mcp_test_ctx_set_cron_table(ctx: *mut c_void, L: *mut c_void);
    pub fn mcp_test_thread_new(ctx: *mut c_void, baseid: c_int, eflags: u16) -> *mut c_void;
    pub fn mcp_test_set_threads(threads: *mut *mut c_void, n: c_int);
    pub fn mcp_test_set_startarg(arg: *const c_char);
    pub fn mcp_test_event_thread_new(ctx: *mut c_void) -> *mut c_void;
    pub fn mcp_test_event_thread_signals(e: *mut c_void) -> u64;
    pub fn mcp_test_event_thread_drain(e: *mut c_void) -> c_int;
}

unsafe extern "C" {
    pub fn mcp_test_ref_nextrand(s: *mut u32) -> u32;
    pub fn mcp_test_ref_filter_stop(
        conf: *const c_char,
        key: *const c_char,
        klen: usize,
        newlen: *mut usize,
    ) -> *const c_char;
    pub fn mcp_test_ref_filter_tag(
        conf: *const c_char,
        key: *const c_char,
        klen: usize,
        newlen: *mut usize,
    ) -> *const c_char;
    pub fn mcp_test_ref_xxh3(key: *const c_void, len: usize, seed: u64) -> u64;
    pub fn mcp_test_ref_xxh3_noseed(key: *const c_void, len: usize) -> u64;
}

unsafe extern "C" {
    pub fn mcp_test_set_thread_logger(eflags: u16);
}

unsafe extern "C" {
    pub fn mcp_test_drain_all(ctx: *mut c_void);
}
