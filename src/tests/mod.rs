//! Tests in a real Lua state (memcached's vendored Lua 5.4.3, built by the
//! dev-only `mcp-test-support` crate together with C stand-ins for the rest
//! of memcached; see test-support/c/standins.c).

#![allow(clippy::undocumented_unsafe_blocks)]

use core::ffi::{CStr, c_int, c_void};
use std::ffi::CString;
use std::sync::{Mutex, MutexGuard};

use mcp_test_support as ts;

use crate::exports::proxy_register_libs;
use crate::ffi::host::*;
use crate::ffi::lua::*;

mod attach;
mod backend;
mod cron;
mod logging;
mod pool;
mod registration;
mod stats;
mod tunables;

/// The stand-ins keep process-wide state (settings, threads, the log):
/// tests that touch it run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A Lua VM set up as memcached sets up its config VM or a worker VM.
pub struct Vm {
    pub L: *mut lua_State,
    pub ctx: *mut ProxyCtx,
    pub thread: *mut LibeventThread,
}

unsafe extern "C-unwind" {
    fn luaL_newstate() -> *mut lua_State;
    fn luaL_openlibs(L: *mut lua_State);
    fn luaL_loadstring(L: *mut lua_State, s: *const core::ffi::c_char) -> c_int;
    fn luaL_tolstring(L: *mut lua_State, idx: c_int, len: *mut usize) -> *const core::ffi::c_char;
    fn lua_close(L: *mut lua_State);
}

pub fn new_ctx() -> *mut ProxyCtx {
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { ts::mcp_test_ctx_new() as *mut ProxyCtx }
}

/// Installs `n` worker threads (get_worker_thread / settings.num_threads).
pub fn set_threads(ctx: *mut ProxyCtx, n: usize, eflags: u16) -> Vec<*mut LibeventThread> {
    let mut v: Vec<*mut c_void> =
        // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
        (0..n).map(|i| unsafe { ts::mcp_test_thread_new(ctx as *mut c_void, i as c_int, eflags) }).collect();
    let out = v.iter().map(|&p| p as *mut LibeventThread).collect();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { ts::mcp_test_set_threads(v.as_mut_ptr(), n as c_int) };
    std::mem::forget(v);
    out
}

impl Vm {
    /// A config VM with a fresh context and `threads` worker threads.
    pub fn config_with_threads(threads: usize) -> Vm {
        let ctx = new_ctx();
        set_threads(ctx, threads, 0);
        Self::config_for(ctx)
    }

    pub fn config() -> Vm {
        Self::config_with_threads(1)
    }

    pub fn config_for(ctx: *mut ProxyCtx) -> Vm {
        // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
        unsafe {
            let L = luaL_newstate();
            luaL_openlibs(L);
            ts::mcp_test_ctx_set_cron_table(ctx as *mut c_void, L as *mut c_void);
            assert_eq!(
                proxy_register_libs(ctx as *mut c_void, core::ptr::null_mut(), L as *mut c_void),
                1
            );
            assert_eq!(
                lua_gettop(L),
                0,
                "proxy_register_libs must leave the stack balanced"
            );
            Vm {
                L,
                ctx,
                thread: core::ptr::null_mut(),
            }
        }
    }

    /// A worker VM for thread `t`.
    pub fn worker_for(ctx: *mut ProxyCtx, t: *mut LibeventThread) -> Vm {
        // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
        unsafe {
            let L = luaL_newstate();
            luaL_openlibs(L);
            (*t).lua = L as *mut c_void;
            assert_eq!(proxy_register_libs(ctx as *mut c_void, t, L as *mut c_void), 1);
            assert_eq!(
                lua_gettop(L),
                0,
                "proxy_register_libs must leave the stack balanced"
            );
            Vm { L, ctx, thread: t }
        }
    }

    pub fn worker(eflags: u16) -> Vm {
        let ctx = new_ctx();
        let t = set_threads(ctx, 1, eflags)[0];
        Self::worker_for(ctx, t)
    }

    /// Runs a chunk; returns its results through `tostring`, or the error
    /// value through `tostring`.
    pub fn run(&self, code: &str) -> Result<Vec<String>, String> {
        let c = CString::new(code).unwrap();
        // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
        unsafe {
            let L = self.L;
            let base = lua_gettop(L);
            if luaL_loadstring(L, c.as_ptr()) != LUA_OK {
                let e = tostr(L, -1);
                lua_settop(L, base);
                return Err(format!("syntax: {e}"));
            }
            let rc = lua_pcall(L, 0, -1, 0);
            let top = lua_gettop(L);
            let mut out = Vec::new();
            for i in base + 1..=top {
                out.push(tostr(L, i));
            }
            lua_settop(L, base);
            if rc != LUA_OK {
                Err(out.pop().unwrap_or_default())
            } else {
                Ok(out)
            }
        }
    }

    /// Runs a chunk that must succeed and return one value.
    pub fn eval(&self, code: &str) -> String {
        match self.run(code) {
            Ok(mut v) => {
                assert_eq!(v.len(), 1, "expected one result from {code:?}, got {v:?}");
                v.pop().unwrap()
            }
            Err(e) => panic!("{code:?} failed: {e}"),
        }
    }

    /// Runs a chunk that must fail; returns the error message.
    pub fn err(&self, code: &str) -> String {
        match self.run(code) {
            Ok(v) => panic!("{code:?} should have failed, returned {v:?}"),
            Err(e) => e,
        }
    }

    /// Evaluates `expr` (keep the value referenced, e.g. in a global) and
    /// returns its userdata pointer.
    pub fn ud<T>(&self, expr: &str) -> *mut T {
        let c = CString::new(format!("return {expr}")).unwrap();
        // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
        unsafe {
            let L = self.L;
            assert_eq!(luaL_loadstring(L, c.as_ptr()), LUA_OK);
            assert_eq!(lua_pcall(L, 0, 1, 0), LUA_OK, "{expr}: {}", tostr(L, -1));
            let p = lua_touserdata(L, -1) as *mut T;
            lua_pop(L, 1);
            assert!(!p.is_null(), "{expr} is not a userdata");
            p
        }
    }

    /// Runs a chunk that must fail with a `luaL_argerror`-style message
    /// (which Lua prefixes with the chunk position); returns it without the
    /// prefix.
    pub fn argerr(&self, code: &str) -> String {
        let e = self.err(code);
        let rest = e
            .strip_prefix("[string \"")
            .unwrap_or_else(|| panic!("{code:?}: no position prefix in {e:?}"));
        let i = rest
            .find("\"]:1: ")
            .unwrap_or_else(|| panic!("{code:?}: no position prefix in {e:?}"));
        rest[i + 6..].to_string()
    }

    pub fn gc(&self) {
        self.run("collectgarbage('collect'); collectgarbage('collect')")
            .unwrap();
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
        unsafe {
            // backends must have reached their event thread before their
            // wrappers are collected (upstream asserts it in debug builds).
            ts::mcp_test_drain_all(self.ctx as *mut c_void);
            lua_close(self.L);
            ts::mcp_test_drain_all(self.ctx as *mut c_void);
        }
    }
}

unsafe fn tostr(L: *mut lua_State, idx: c_int) -> String {
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        let mut len = 0usize;
        let p = luaL_tolstring(L, idx, &mut len);
        let s = String::from_utf8_lossy(core::slice::from_raw_parts(p as *const u8, len)).into_owned();
        lua_pop(L, 1);
        s
    }
}

pub fn cstr_buf(b: &[core::ffi::c_char]) -> String {
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { CStr::from_ptr(b.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}
