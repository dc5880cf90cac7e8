//! Backends: `mcp.backend`, its `__gc`, `mcp.backendwrap.__gc`, the
//! per-config backend cache and the construction/handoff of backend
//! connections (proxy_lua.c:118-131, 248-695).
//!
//! Memory ownership is memcached's: the `mcp_backend_t` block, every
//! connection's `rbuf` and `client`, and `logging.detail` come from the C
//! allocator (crate::host::backend), because
//! `proxy_network.c:_cleanup_backend` frees them.

use core::ffi::{CStr, c_char, c_int};
use core::ptr::NonNull;

use crate::ffi::host::*;
use crate::ffi::lua::*;
use crate::host::backend::{bytes_equal, copy_bytes, new_backend, release_backend, start_backend};
use crate::host::{ConfigVm, EventThread};
use crate::vm::{Fresh, LResult, LuaError};

/// `MICROSECONDS(x)` of proxy.h: `(x) * 1E6 + 0.5`, truncated into a long.
#[inline]
pub fn microseconds(x: f64) -> Timeval_tv_usec_t {
    (x * 1e6 + 0.5) as Timeval_tv_usec_t
}

/// `{(lua_Integer) s, MICROSECONDS(s - (lua_Integer) s)}`: the split every
/// timeout option and setter uses.
#[inline]
pub fn seconds_to_timeval(secondsf: f64) -> Timeval {
    let secondsi = secondsf as lua_Integer;
    let subseconds = secondsf - secondsi as f64;
    Timeval::new(secondsi as Timeval_tv_sec_t, microseconds(subseconds))
}

/// proxy_lua.c:118 `_mcplib_backend_get_waittime`: round to whole seconds
/// (up from .5), at least 1.
pub fn _mcplib_backend_get_waittime(secondsf: lua_Number) -> lua_Integer {
    let mut secondsi = secondsf as lua_Integer;
    let subseconds = secondsf - secondsi as f64;
    if subseconds >= 0.5 {
        secondsi = secondsi.wrapping_add(1);
    }
    if secondsi < 1 {
        secondsi = 1;
    }
    secondsi
}

/// `float f = luaL_checknumber(...); if (f <= 1.1) f = 1.1;`
#[inline]
pub fn clamp_ramp(n: f64) -> f32 {
    let f = n as f32;
    if (f as f64) <= 1.1 { 1.1f64 as f32 } else { f }
}

/// proxy_lua.c:248 `mcplib_backend_wrap_gc` (`mcp.backendwrap.__gc`): ship
/// the backend back to its owning event thread, which frees it (or free it
/// here if that thread never took it: see `release_backend`).
pub fn mcplib_backend_wrap_gc(vm: &mut ConfigVm) -> LResult {
    let ctx = vm.ctx();
    let bew = vm.check_udata::<McpBackendWrap>(-1)?;
    if let Some(be) = NonNull::new(bew.be) {
        // Cleared so that a second __gc call (reachable from Lua through
        // getmetatable) cannot release it twice.
        bew.be = core::ptr::null_mut();
        release_backend(be);
        ctx.with_stats(|s| s.add_backend_total(-1));
    }
    Ok(0)
}

/// proxy_lua.c:287 `mcplib_backend_gc` (`mcp.backend.__gc`).
pub fn mcplib_backend_gc(vm: &mut ConfigVm) -> LResult {
    if let Some(be) = vm.test_udata::<McpBackendLabel>(1) {
        be.free_detail();
    }
    Ok(0)
}

/// proxy_lua.c:295 `_mcplib_backend_log`: the `log = {...}` table at -1,
/// for the label at `be`.
fn _mcplib_backend_log(vm: &mut ConfigVm, be: &Fresh<McpBackendLabel>) -> LResult<()> {
    vm.fresh(be)?.use_logging = true;

    if vm.getfield(-1, c"deadline") != LUA_TNIL {
        let deadline = vm.check_integer(-1)? as c_int;
        if deadline < 0 {
            return Err(LuaError::Str(c"backend log deadline must be >= 0"));
        }
        // convert to milliseconds.
        vm.fresh(be)?.logging.deadline = deadline.wrapping_mul(1000) as u32;
    }
    vm.pop(1);

    if vm.getfield(-1, c"rate") != LUA_TNIL {
        let rate = vm.check_integer(-1)? as c_int;
        if rate < 0 {
            return Err(LuaError::Str(c"backend log sample rate must be >= 0"));
        }
        vm.fresh(be)?.logging.rate = rate as u32;
    }
    vm.pop(1);

    if vm.getfield(-1, c"errors") != LUA_TNIL {
        vm.check_type(-1, LUA_TBOOLEAN)?;
        let b = vm.to_boolean(-1);
        vm.fresh(be)?.logging.all_errors = b;
    }
    vm.pop(1);

    if vm.getfield(-1, c"tag") != LUA_TNIL {
        // a C-allocated copy (the backend gets its own strdup).
        vm.label_set_detail(be, -1)?;
    }
    vm.pop(1);

    // If nothing was chosen we would log nothing: default to rate 1.
    let l = &mut vm.fresh(be)?.logging;
    if l.deadline == 0 && !l.all_errors && l.rate == 0 {
        l.rate = 1;
    }
    Ok(())
}

/// Reads the optional timeval option `name` of the table at 1 into the
/// label's tunables member chosen by `field`.
fn opt_timeval(
    vm: &mut ConfigVm,
    be: &Fresh<McpBackendLabel>,
    name: &CStr,
    field: fn(&mut ProxyTunables) -> &mut Timeval,
) -> LResult<()> {
    if vm.getfield(1, name) != LUA_TNIL {
        let tv = seconds_to_timeval(vm.check_number(-1)?);
        *field(&mut vm.fresh(be)?.tunables) = tv;
    }
    vm.pop(1);
    Ok(())
}

/// Reads the optional option `name` of the table at 1 (any value: `apply`
/// checks it) into the label at `be`.
fn opt(
    vm: &mut ConfigVm,
    be: &Fresh<McpBackendLabel>,
    name: &CStr,
    apply: impl FnOnce(&mut ConfigVm, &Fresh<McpBackendLabel>) -> LResult<()>,
) -> LResult<()> {
    if vm.getfield(1, name) != LUA_TNIL {
        apply(vm, be)?;
    }
    vm.pop(1);
    Ok(())
}

/// proxy_lua.c:354 `mcplib_backend` (`mcp.backend`): a backend label
/// object, from `(label, host, port)` or a table of options.
pub fn mcplib_backend(vm: &mut ConfigVm) -> LResult {
    let ctx = vm.ctx();
    let fresh = vm.new_udata::<McpBackendLabel>(0, 0, Some(c"mcp.backend"));
    let be = &fresh;
    {
        let bel = vm.fresh(&fresh)?;
        // copy global defaults for tunables.
        ctx.with_stats(|s| copy_bytes(&mut bel.tunables, s.tunables()));
        bel.conncount = 1; // one connection per backend as default.
    }

    // Where label, host and port are (kept on the stack until copied).
    let (label, name, port);
    if vm.is_table(1) {
        if vm.getfield(1, c"label") != LUA_TNIL {
            vm.check_bytes(-1)?;
            label = vm.gettop();
        } else {
            return Err(LuaError::Str(c"backend must have a label argument"));
        }
        if vm.getfield(1, c"host") != LUA_TNIL {
            vm.check_bytes(-1)?;
            name = vm.gettop();
        } else {
            return Err(LuaError::Str(c"backend must have a host argument"));
        }
        if vm.getfield(1, c"port") != LUA_TNIL {
            vm.check_bytes(-1)?;
            port = vm.gettop();
        } else {
            return Err(LuaError::Str(c"backend must have a port argument"));
        }

        opt(vm, be, c"tcpkeepalive", |vm, be| {
            let b = vm.to_boolean(-1);
            vm.fresh(be)?.tunables.tcp_keepalive = b;
            Ok(())
        })?;
        opt(vm, be, c"tls", |vm, be| {
            let b = vm.to_boolean(-1);
            vm.fresh(be)?.tunables.use_tls = b;
            Ok(())
        })?;
        opt(vm, be, c"failurelimit", |vm, be| {
            let limit = vm.check_integer(-1)? as c_int;
            if limit < 0 {
                return Err(LuaError::Str(c"failurelimit must be >= 0"));
            }
            vm.fresh(be)?.tunables.backend_failure_limit = limit;
            Ok(())
        })?;
        opt(vm, be, c"depthlimit", |vm, be| {
            let limit = vm.check_integer(-1)? as c_int;
            if limit < 0 {
                return Err(LuaError::Str(c"depthlimit must be >= 0"));
            }
            vm.fresh(be)?.tunables.backend_depth_limit = limit;
            Ok(())
        })?;
        opt_timeval(vm, be, c"connecttimeout", |t| &mut t.connect)?;
        // (deprecated) retrytimeout as a wait time, then retrywaittime,
        // then retrytimeout again as a full timeval: upstream's order.
        opt(vm, be, c"retrytimeout", |vm, be| {
            let w = _mcplib_backend_get_waittime(vm.check_number(-1)?);
            vm.fresh(be)?.tunables.retry.tv_sec = w as Timeval_tv_sec_t;
            Ok(())
        })?;
        opt(vm, be, c"retrywaittime", |vm, be| {
            let w = _mcplib_backend_get_waittime(vm.check_number(-1)?);
            vm.fresh(be)?.tunables.retry.tv_sec = w as Timeval_tv_sec_t;
            Ok(())
        })?;
        opt_timeval(vm, be, c"retrytimeout", |t| &mut t.retry)?;
        opt_timeval(vm, be, c"readtimeout", |t| &mut t.read)?;
        opt(vm, be, c"down", |vm, be| {
            let b = vm.to_boolean(-1);
            vm.fresh(be)?.tunables.down = b;
            Ok(())
        })?;
        opt_timeval(vm, be, c"flaptime", |t| &mut t.flap)?;
        opt(vm, be, c"flapbackofframp", |vm, be| {
            let r = clamp_ramp(vm.check_number(-1)?);
            vm.fresh(be)?.tunables.flap_backoff_ramp = r;
            Ok(())
        })?;
        opt(vm, be, c"flapbackoffmax", |vm, be| {
            vm.check_number(-1)?;
            let m = vm.to_integer(-1) as u32;
            vm.fresh(be)?.tunables.flap_backoff_max = m;
            Ok(())
        })?;
        opt(vm, be, c"connections", |vm, be| {
            let c = vm.check_integer(-1)? as c_int;
            if c <= 0 {
                return Err(LuaError::Str(c"backend connections argument must be >= 0"));
            } else if c > 8 {
                return Err(LuaError::Str(c"backend connections argument must be <= 8"));
            }
            vm.fresh(be)?.conncount = c;
            Ok(())
        })?;
        opt(vm, be, c"log", |vm, be| {
            if vm.is_table(-1) {
                _mcplib_backend_log(vm, be)
            } else {
                Err(LuaError::Str(c"backend log option must be a table"))
            }
        })?;
    } else {
        vm.check_bytes(1)?;
        vm.check_bytes(2)?;
        vm.check_bytes(3)?;
        (label, name, port) = (1, 2, 3);
    }

    let llen = vm
        .copy_str_into(label, be, MAX_LABELLEN - 1, |b| &mut b.label)?
        .ok_or(LuaError::Str(c"backend label too long"))?;
    vm.copy_str_into(name, be, MAX_NAMELEN - 1, |b| &mut b.name)?
        .ok_or(LuaError::Str(c"backend name too long"))?;
    vm.copy_str_into(port, be, MAX_PORTLEN - 1, |b| &mut b.port)?
        .ok_or(LuaError::Str(c"backend port too long"))?;
    vm.fresh(be)?.llen = llen;
    if vm.is_table(1) {
        vm.pop(3); // drop label, name, port.
    }
    Ok(1) // return be object.
}

/// `strncmp(a, b, n) == 0` over two NUL-terminated `char` arrays.
fn strn_eq(a: &[c_char], b: &[c_char], n: usize) -> bool {
    for i in 0..n {
        let (x, y) = (a.get(i).copied().unwrap_or(0), b.get(i).copied().unwrap_or(0));
        if x != y {
            return false;
        }
        if x == 0 {
            return true;
        }
    }
    true
}

/// proxy_lua.c:562 `_mcplib_backend_checkcache`: the cache key is at the
/// top of the stack. On a hit the wrapper is left on the stack and its
/// backend returned (the wrapper checked once, as upstream does); on a miss
/// nothing is left. The hit backend gets `use_io_thread` here, where it is
/// at hand (upstream sets it right after, in the pool loop).
pub fn _mcplib_backend_checkcache(
    vm: &mut ConfigVm,
    bel: &Fresh<McpBackendLabel>,
    use_io_thread: bool,
) -> LResult<Option<*mut McpBackend>> {
    let ret = vm.gettable(lua_upvalueindex(MCP_BACKEND_UPVALUE));
    if ret != LUA_TNIL {
        let (_, be_orig) = vm.hold_ref::<McpBackendWrap>(-1)?;
        let label = vm.fresh_ref(bel)?;
        if let Some(b) = be_orig.backend() {
            if strn_eq(b.name(), &label.name, MAX_NAMELEN)
                && strn_eq(b.port(), &label.port, MAX_PORTLEN)
                && b.conncount() == label.conncount
                && bytes_equal(b.tunables(), &label.tunables)
                && bytes_equal(b.logging(), &label.logging)
            {
                // backend is the same, return it.
                b.set_use_io_thread(use_io_thread);
                return Ok(Some(be_orig.be));
            }
        }
    }
    // not the same (or absent): pop it (or the nil).
    vm.pop(1);
    Ok(None)
}

/// proxy_lua.c:587 `_mcplib_make_backendconn`: allocate the backend and its
/// connections with the C allocator, hand it to event thread `e`, and cache
/// the wrapper under the key at -1. Leaves the wrapper on the stack and
/// returns the backend (given `use_io_thread` before the event thread sees
/// it; upstream sets it right after).
pub fn _mcplib_make_backendconn(
    vm: &mut ConfigVm,
    bel: &Fresh<McpBackendLabel>,
    e: EventThread,
    use_io_thread: bool,
) -> LResult<*mut McpBackend> {
    let ctx = vm.ctx();
    let fresh = vm.new_udata::<McpBackendWrap>(0, 0, Some(c"mcp.backendwrap"));
    let be = new_backend(vm.fresh_ref(bel)?, ctx, e).map_err(LuaError::Str)?;
    {
        let w = vm.fresh(&fresh)?;
        w.be = be.as_ptr();
        if let Some(b) = w.backend() {
            b.set_use_io_thread(use_io_thread);
        }
    }
    start_backend(be);

    vm.push_value(-2); // push the label string back to the top.
    vm.push_value(-2); // copy the backend reference to the top.
    // set our new backend wrapper object into the reference table.
    vm.settable(lua_upvalueindex(MCP_BACKEND_UPVALUE));
    // stack is back to having backend on the top.

    ctx.with_stats(|s| s.add_backend_total(1));
    Ok(be.as_ptr())
}
