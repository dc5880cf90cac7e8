//! Backends: `mcp.backend`, its `__gc`, `mcp.backendwrap.__gc`, the
//! per-config backend cache and the construction/handoff of backend
//! connections (proxy_lua.c:118-131, 248-695).
//!
//! Memory ownership is memcached's: the `mcp_backend_t` block, every
//! connection's `rbuf` and `client`, and `logging.detail` come from the C
//! allocator, because `proxy_network.c:_cleanup_backend` frees them.

use core::ffi::{c_char, c_int, c_void};
use core::ptr;

use crate::ffi::host::*;
use crate::ffi::lua::*;
use crate::lua::*;

/// `MICROSECONDS(x)` of proxy.h: `(x) * 1E6 + 0.5`, truncated into a long.
#[inline]
pub fn microseconds(x: f64) -> libc::suseconds_t {
    (x * 1e6 + 0.5) as libc::suseconds_t
}

/// `{(lua_Integer) s, MICROSECONDS(s - (lua_Integer) s)}`: the split every
/// timeout option and setter uses.
#[inline]
pub fn seconds_to_timeval(secondsf: f64) -> libc::timeval {
    let secondsi = secondsf as lua_Integer;
    let subseconds = secondsf - secondsi as f64;
    libc::timeval {
        tv_sec: secondsi as libc::time_t,
        tv_usec: microseconds(subseconds),
    }
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

/// Signals an event thread that its backend queue has work, exactly as
/// upstream: an 8-byte 1 to the eventfd (or "w" to the pipe).
///
/// # Safety
/// `e` is a live event thread.
unsafe fn signal_event_thread(e: *mut ProxyEventThread) {
    #[cfg(mcp_use_eventfd)]
    {
        let u: u64 = 1;
        // SAFETY: writing 8 bytes from a local to the thread's eventfd.
        let n = unsafe { libc::write((*e).be_event_fd, &u as *const u64 as *const c_void, 8) };
        if n != 8 {
            debug_assert_c(false, c"1 == 0");
        }
    }
    #[cfg(not(mcp_use_eventfd))]
    {
        // SAFETY: writing one byte to the thread's notify pipe.
        let n = unsafe { libc::write((*e).be_notify_send_fd, c"w".as_ptr() as *const c_void, 1) };
        if n <= 0 {
            debug_assert_c(false, c"1 == 0");
        }
    }
}

/// C `assert()` as compiled into the binary: active unless the binary's
/// flags define `NDEBUG` (memcached-debug has it on, memcached off).
#[inline(always)]
pub fn debug_assert_c(cond: bool, what: &core::ffi::CStr) {
    if !HAVE_NDEBUG && !cond {
        // SAFETY: writes a message and aborts, as glibc's assert does.
        unsafe {
            let prefix = c"proxy-lua-rs: assertion failed: ";
            libc::write(2, prefix.as_ptr() as *const c_void, prefix.to_bytes().len());
            libc::write(2, what.as_ptr() as *const c_void, what.to_bytes().len());
            libc::write(2, c"\n".as_ptr() as *const c_void, 1);
            libc::abort();
        }
    }
}

/// `STAILQ_INSERT_TAIL(&e->beconn_head_in, be, beconn_next)` under
/// `e->mutex`, then wake the thread.
///
/// # Safety
/// `e` and `be` are live; `be` is not on any queue.
pub unsafe fn queue_backend(e: *mut ProxyEventThread, be: *mut McpBackend) {
    // SAFETY: caller contract; the queue is protected by e->mutex.
    unsafe {
        libc::pthread_mutex_lock(&mut (*e).mutex);
        (*be).beconn_next.stqe_next = ptr::null_mut();
        *(*e).beconn_head_in.stqh_last = be;
        (*e).beconn_head_in.stqh_last = &mut (*be).beconn_next.stqe_next;
        libc::pthread_mutex_unlock(&mut (*e).mutex);
        signal_event_thread(e);
    }
}

/// `STAT_INCR`/`STAT_DECR(ctx, backend_total, d)`.
///
/// # Safety
/// `ctx` is live.
pub unsafe fn stat_backend_total(ctx: *mut ProxyCtx, delta: i64) {
    // SAFETY: caller contract; the counter is covered by stats_lock.
    unsafe {
        libc::pthread_mutex_lock(&mut (*ctx).stats_lock);
        (*ctx).backend_total = (*ctx).backend_total.wrapping_add(delta as u64);
        libc::pthread_mutex_unlock(&mut (*ctx).stats_lock);
    }
}

/// proxy_lua.c:248 `mcplib_backend_wrap_gc` (`mcp.backendwrap.__gc`): ship
/// the backend back to its owning event thread, which frees it.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_backend_wrap_gc(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM (module contract).
    unsafe {
        let bew: *mut McpBackendWrap = checkudata(L, -1, c"mcp.backendwrap");
        let ctx = proxy_get_ctx(L);
        let be = (*bew).be;
        if !be.is_null() {
            debug_assert_c((*be).transferred, c"be->transferred");
            // There has to be at least one connection, and the event_thread
            // is the same for all of them.
            let bec = (be as *mut u8).add(McpBackend::BE_OFFSET) as *mut McpBackendConn;
            let e = (*bec).event_thread;
            queue_backend(e, be);
        }
        stat_backend_total(ctx, -1);
    }
    Ok(0)
}

/// proxy_lua.c:287 `mcplib_backend_gc` (`mcp.backend.__gc`).
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_backend_gc(L: *mut lua_State) -> LResult {
    // SAFETY: called as __gc of an mcp.backend userdata.
    unsafe {
        let be: *mut McpBackendLabel = touserdata(L, 1);
        if !(*be).logging.detail.is_null() {
            libc::free((*be).logging.detail as *mut c_void);
        }
    }
    Ok(0)
}

/// proxy_lua.c:295 `_mcplib_backend_log`: the `log = {...}` table at -1.
///
/// # Safety
/// `L` live, the log table at -1, `be` a live label userdata.
unsafe fn _mcplib_backend_log(L: *mut lua_State, be: *mut McpBackendLabel) -> LResult<()> {
    // SAFETY: caller contract.
    unsafe {
        (*be).use_logging = true;

        if getfield(L, -1, c"deadline") != LUA_TNIL {
            let deadline = luaL_checkinteger(L, -1) as c_int;
            if deadline < 0 {
                return Err(Error::Str(c"backend log deadline must be >= 0"));
            }
            // convert to milliseconds.
            (*be).logging.deadline = deadline.wrapping_mul(1000) as u32;
        }
        lua_pop(L, 1);

        if getfield(L, -1, c"rate") != LUA_TNIL {
            let rate = luaL_checkinteger(L, -1) as c_int;
            if rate < 0 {
                return Err(Error::Str(c"backend log sample rate must be >= 0"));
            }
            (*be).logging.rate = rate as u32;
        }
        lua_pop(L, 1);

        if getfield(L, -1, c"errors") != LUA_TNIL {
            luaL_checktype(L, -1, LUA_TBOOLEAN);
            (*be).logging.all_errors = lua_toboolean(L, -1) != 0;
        }
        lua_pop(L, 1);

        if getfield(L, -1, c"tag") != LUA_TNIL {
            let tag = checklstring(L, -1);
            let d = libc::malloc(tag.len() + 1) as *mut u8;
            if !d.is_null() {
                ptr::copy_nonoverlapping(tag.as_ptr(), d, tag.len());
                *d.add(tag.len()) = 0;
            }
            (*be).logging.detail = d as *mut c_char;
        }
        lua_pop(L, 1);

        // If nothing was chosen we would log nothing: default to rate 1.
        if (*be).logging.deadline == 0 && !(*be).logging.all_errors && (*be).logging.rate == 0 {
            (*be).logging.rate = 1;
        }
    }
    Ok(())
}

/// Reads an optional timeval option `name` of the table at 1.
///
/// # Safety
/// `L` live, table at 1.
unsafe fn opt_timeval(L: *mut lua_State, name: &core::ffi::CStr, out: *mut libc::timeval) {
    // SAFETY: caller contract.
    unsafe {
        if getfield(L, 1, name) != LUA_TNIL {
            *out = seconds_to_timeval(luaL_checknumber(L, -1));
        }
        lua_pop(L, 1);
    }
}

/// proxy_lua.c:354 `mcplib_backend` (`mcp.backend`): a backend label
/// object, from `(label, host, port)` or a table of options.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_backend(L: *mut lua_State) -> LResult {
    let label: &[u8];
    let name: &[u8];
    let port: &[u8];
    // SAFETY: L is the config VM; the label/host/port strings stay on the
    // stack (table form) or are arguments (positional form) until copied.
    unsafe {
        let ctx = proxy_get_ctx(L);
        let be: *mut McpBackendLabel = newuserdata_zeroed(L, McpBackendLabel::C_SIZE, 0);
        // copy global defaults for tunables.
        ptr::copy_nonoverlapping(&(*ctx).tunables, &mut (*be).tunables, 1);
        (*be).conncount = 1; // one connection per backend as default.
        // set the metatable early so __gc frees partial allocations
        luaL_getmetatable(L, c"mcp.backend".as_ptr());
        lua_setmetatable(L, -2);

        if lua_istable(L, 1) != 0 {
            // label/host/port are kept on the stack until copied.
            if getfield(L, 1, c"label") != LUA_TNIL {
                label = checklstring(L, -1);
            } else {
                return Err(Error::Str(c"backend must have a label argument"));
            }
            if getfield(L, 1, c"host") != LUA_TNIL {
                name = checklstring(L, -1);
            } else {
                return Err(Error::Str(c"backend must have a host argument"));
            }
            if getfield(L, 1, c"port") != LUA_TNIL {
                port = checklstring(L, -1);
            } else {
                return Err(Error::Str(c"backend must have a port argument"));
            }

            if getfield(L, 1, c"tcpkeepalive") != LUA_TNIL {
                (*be).tunables.tcp_keepalive = lua_toboolean(L, -1) != 0;
            }
            lua_pop(L, 1);

            if getfield(L, 1, c"tls") != LUA_TNIL {
                (*be).tunables.use_tls = lua_toboolean(L, -1) != 0;
            }
            lua_pop(L, 1);

            if getfield(L, 1, c"failurelimit") != LUA_TNIL {
                let limit = luaL_checkinteger(L, -1) as c_int;
                if limit < 0 {
                    return Err(Error::Str(c"failurelimit must be >= 0"));
                }
                (*be).tunables.backend_failure_limit = limit;
            }
            lua_pop(L, 1);

            if getfield(L, 1, c"depthlimit") != LUA_TNIL {
                let limit = luaL_checkinteger(L, -1) as c_int;
                if limit < 0 {
                    return Err(Error::Str(c"depthlimit must be >= 0"));
                }
                (*be).tunables.backend_depth_limit = limit;
            }
            lua_pop(L, 1);

            opt_timeval(L, c"connecttimeout", &mut (*be).tunables.connect);

            // (deprecated) retrytimeout as a wait time, then retrywaittime,
            // then retrytimeout again as a full timeval: upstream's order.
            if getfield(L, 1, c"retrytimeout") != LUA_TNIL {
                (*be).tunables.retry.tv_sec =
                    _mcplib_backend_get_waittime(luaL_checknumber(L, -1)) as libc::time_t;
            }
            lua_pop(L, 1);

            if getfield(L, 1, c"retrywaittime") != LUA_TNIL {
                (*be).tunables.retry.tv_sec =
                    _mcplib_backend_get_waittime(luaL_checknumber(L, -1)) as libc::time_t;
            }
            lua_pop(L, 1);

            opt_timeval(L, c"retrytimeout", &mut (*be).tunables.retry);
            opt_timeval(L, c"readtimeout", &mut (*be).tunables.read);

            if getfield(L, 1, c"down") != LUA_TNIL {
                (*be).tunables.down = lua_toboolean(L, -1) != 0;
            }
            lua_pop(L, 1);

            opt_timeval(L, c"flaptime", &mut (*be).tunables.flap);

            if getfield(L, 1, c"flapbackofframp") != LUA_TNIL {
                (*be).tunables.flap_backoff_ramp = clamp_ramp(luaL_checknumber(L, -1));
            }
            lua_pop(L, 1);

            if getfield(L, 1, c"flapbackoffmax") != LUA_TNIL {
                luaL_checknumber(L, -1);
                (*be).tunables.flap_backoff_max = lua_tointeger(L, -1) as u32;
            }
            lua_pop(L, 1);

            if getfield(L, 1, c"connections") != LUA_TNIL {
                let c = luaL_checkinteger(L, -1) as c_int;
                if c <= 0 {
                    return Err(Error::Str(c"backend connections argument must be >= 0"));
                } else if c > 8 {
                    return Err(Error::Str(c"backend connections argument must be <= 8"));
                }
                (*be).conncount = c;
            }
            lua_pop(L, 1);

            if getfield(L, 1, c"log") != LUA_TNIL {
                if lua_istable(L, -1) != 0 {
                    _mcplib_backend_log(L, be)?;
                } else {
                    return Err(Error::Str(c"backend log option must be a table"));
                }
            }
            lua_pop(L, 1);
        } else {
            label = checklstring(L, 1);
            name = checklstring(L, 2);
            port = checklstring(L, 3);
        }

        if label.len() > MAX_LABELLEN - 1 {
            return Err(Error::Str(c"backend label too long"));
        }
        if name.len() > MAX_NAMELEN - 1 {
            return Err(Error::Str(c"backend name too long"));
        }
        if port.len() > MAX_PORTLEN - 1 {
            return Err(Error::Str(c"backend port too long"));
        }

        copy_cstr(&mut (*be).label, label);
        copy_cstr(&mut (*be).name, name);
        copy_cstr(&mut (*be).port, port);
        (*be).llen = label.len();
        if lua_istable(L, 1) != 0 {
            lua_pop(L, 3); // drop label, name, port.
        }
    }
    Ok(1) // return be object.
}

/// `memcpy(dst, src, len); dst[len] = '\0';` (len checked by the caller).
fn copy_cstr(dst: &mut [c_char], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s as c_char;
    }
    dst[src.len()] = 0;
}

/// proxy_lua.c:562 `_mcplib_backend_checkcache`: the cache key is at the
/// top of the stack. On a hit the wrapper is left on the stack.
///
/// # Safety
/// `L` is the config VM running a function whose upvalue 1 is the backend
/// cache (mcp.pool); `bel` is live.
pub unsafe fn _mcplib_backend_checkcache(
    L: *mut lua_State,
    bel: *mut McpBackendLabel,
) -> *mut McpBackendWrap {
    // SAFETY: caller contract.
    unsafe {
        let ret = lua_gettable(L, lua_upvalueindex(MCP_BACKEND_UPVALUE));
        if ret != LUA_TNIL {
            let be_orig: *mut McpBackendWrap = checkudata(L, -1, c"mcp.backendwrap");
            let b = (*be_orig).be;
            if libc::strncmp((*b).name.as_ptr(), (*bel).name.as_ptr(), MAX_NAMELEN) == 0
                && libc::strncmp((*b).port.as_ptr(), (*bel).port.as_ptr(), MAX_PORTLEN) == 0
                && (*b).conncount == (*bel).conncount
                && libc::memcmp(
                    &(*b).tunables as *const _ as *const c_void,
                    &(*bel).tunables as *const _ as *const c_void,
                    ProxyTunables::C_SIZE,
                ) == 0
                && libc::memcmp(
                    &(*b).logging as *const _ as *const c_void,
                    &(*bel).logging as *const _ as *const c_void,
                    ProxyLogging::C_SIZE,
                ) == 0
            {
                // backend is the same, return it.
                return be_orig;
            }
            // not the same: pop it and make a new one.
            lua_pop(L, 1);
        } else {
            lua_pop(L, 1); // pop the nil.
        }
    }
    ptr::null_mut()
}

/// proxy_lua.c:587 `_mcplib_make_backendconn`: allocate the backend and its
/// connections with the C allocator, hand it to event thread `e`, and cache
/// the wrapper under the key at -1. Leaves the wrapper on the stack.
///
/// # Safety
/// As [`_mcplib_backend_checkcache`]; `e` is a live event thread.
pub unsafe fn _mcplib_make_backendconn(
    L: *mut lua_State,
    bel: *mut McpBackendLabel,
    e: *mut ProxyEventThread,
) -> LResult<*mut McpBackendWrap> {
    // SAFETY: caller contract; all memory below is C-allocated and handed to
    // memcached, which frees it (_cleanup_backend).
    unsafe {
        let ctx = proxy_get_ctx(L);

        let bew: *mut McpBackendWrap = newuserdata_zeroed(L, McpBackendWrap::C_SIZE, 0);
        luaL_getmetatable(L, c"mcp.backendwrap".as_ptr());
        lua_setmetatable(L, -2);

        let conncount = (*bel).conncount;
        let size = McpBackend::BE_OFFSET + McpBackendConn::C_SIZE * conncount as usize;
        let be = libc::calloc(1, size) as *mut McpBackend;
        if be.is_null() {
            return Err(Error::Str(c"out of memory allocating backend connection"));
        }
        (*bew).be = be;

        libc::strncpy((*be).name.as_mut_ptr(), (*bel).name.as_ptr(), MAX_NAMELEN + 1);
        libc::strncpy((*be).port.as_mut_ptr(), (*bel).port.as_ptr(), MAX_PORTLEN + 1);
        libc::strncpy((*be).label.as_mut_ptr(), (*bel).label.as_ptr(), MAX_LABELLEN + 1);
        ptr::copy_nonoverlapping(&(*bel).tunables, &mut (*be).tunables, 1);
        ptr::copy_nonoverlapping(&(*bel).logging, &mut (*be).logging, 1);
        (*be).use_logging = (*bel).use_logging;
        if !(*bel).logging.detail.is_null() {
            (*be).logging.detail = libc::strdup((*bel).logging.detail);
        }
        (*be).conncount = conncount;
        // STAILQ_INIT(&be->iop_head)
        (*be).iop_head.stqh_first = ptr::null_mut();
        (*be).iop_head.stqh_last = &mut (*be).iop_head.stqh_first;

        let conns = (be as *mut u8).add(McpBackend::BE_OFFSET) as *mut McpBackendConn;
        for x in 0..conncount as usize {
            let bec = conns.add(x);
            (*bec).be_parent = be;
            ptr::copy_nonoverlapping(&(*bel).tunables, &mut (*bec).tunables, 1);
            (*bec).iop_write.stqh_first = ptr::null_mut();
            (*bec).iop_write.stqh_last = &mut (*bec).iop_write.stqh_first;
            (*bec).iop_read.stqh_first = ptr::null_mut();
            (*bec).iop_read.stqh_last = &mut (*bec).iop_read.stqh_first;
            (*bec).state = MCP_BACKEND_READ;

            // a permanent read buffer per connection.
            (*bec).rbuf = libc::malloc(READ_BUFFER_SIZE) as *mut c_char;
            if (*bec).rbuf.is_null() {
                return Err(Error::Str(c"out of memory allocating backend"));
            }
            // the mcmc client
            (*bec).client = libc::malloc(mcmc_size(MCMC_OPTION_BLANK));
            if (*bec).client.is_null() {
                return Err(Error::Str(c"out of memory allocating backend"));
            }
            // TCP keepalive comes from the *global* tunables, as upstream.
            let mut flags = MCMC_OPTION_NONBLOCK;
            libc::pthread_mutex_lock(&mut (*ctx).stats_lock);
            if (*ctx).tunables.tcp_keepalive {
                flags |= MCMC_OPTION_TCP_KEEPALIVE;
            }
            libc::pthread_mutex_unlock(&mut (*ctx).stats_lock);
            (*bec).connect_flags = flags;

            #[cfg(mcp_proxy_tls)]
            {
                if (*be).tunables.use_tls && (*ctx).tls_ctx.is_null() {
                    return Err(Error::Str(
                        c"TLS requested but not initialized: call mcp.init_tls()",
                    ));
                }
                mcp_tls_backend_init(ctx, bec);
            }

            (*bec).event_thread = e;
        }
        queue_backend(e, be);

        lua_pushvalue(L, -2); // push the label string back to the top.
        lua_pushvalue(L, -2); // copy the backend reference to the top.
        // set our new backend wrapper object into the reference table.
        lua_settable(L, lua_upvalueindex(MCP_BACKEND_UPVALUE));
        // stack is back to having backend on the top.

        stat_backend_total(ctx, 1);
        Ok(bew)
    }
}
