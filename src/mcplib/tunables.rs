//! Config-VM tunables and limits (proxy_lua.c:1068-1311). Every setter reads
//! the top of the stack (index -1), as upstream, and writes `ctx` under
//! `ctx->stats_lock` (except `buffer_memory_limit`, as upstream).

use core::ffi::c_int;

use crate::ffi::host::*;
use crate::ffi::lua::*;
use crate::lua::*;
use crate::mcplib::backend::{_mcplib_backend_get_waittime, clamp_ramp, seconds_to_timeval};

/// Runs `f` on the context under `STAT_L(ctx)` / `STAT_UL(ctx)`.
///
/// # Safety
/// `ctx` is live.
#[inline]
unsafe fn with_stats_lock(ctx: *mut ProxyCtx, f: impl FnOnce(&mut ProxyCtx)) {
    // SAFETY: caller contract; the tunables are covered by stats_lock.
    unsafe {
        libc::pthread_mutex_lock(&mut (*ctx).stats_lock);
        f(&mut *ctx);
        libc::pthread_mutex_unlock(&mut (*ctx).stats_lock);
    }
}

/// proxy_lua.c:1068 `mcplib_backend_use_iothread`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_backend_use_iothread(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM (module contract).
    unsafe {
        luaL_checktype(L, -1, LUA_TBOOLEAN);
        let state = lua_toboolean(L, -1);
        with_stats_lock(proxy_get_ctx(L), |c| c.tunables.use_iothread = state != 0);
    }
    Ok(0)
}

/// proxy_lua.c:1080 `mcplib_backend_use_tls`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_backend_use_tls(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM.
    unsafe {
        luaL_checktype(L, -1, LUA_TBOOLEAN);
        let state = lua_toboolean(L, -1);
        if !HAVE_PROXY_TLS && state == 1 {
            return Err(Error::Str(
                c"cannot set mcp.backend_use_tls: TLS support not compiled",
            ));
        }
        with_stats_lock(proxy_get_ctx(L), |c| c.tunables.use_tls = state != 0);
    }
    Ok(0)
}

/// proxy_lua.c:1097 `mcplib_init_tls`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_init_tls(L: *mut lua_State) -> LResult {
    #[cfg(not(mcp_proxy_tls))]
    {
        let _ = L;
        Err(Error::Str(c"cannot run mcp.init_tls: TLS support not compiled"))
    }
    #[cfg(mcp_proxy_tls)]
    {
        // SAFETY: L is the config VM; memcached initialises ctx->tls_ctx.
        unsafe { mcp_tls_init(proxy_get_ctx(L)) };
        Ok(0)
    }
}

/// proxy_lua.c:1108 `mcplib_tcp_keepalive`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_tcp_keepalive(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM.
    unsafe {
        luaL_checktype(L, -1, LUA_TBOOLEAN);
        let state = lua_toboolean(L, -1);
        with_stats_lock(proxy_get_ctx(L), |c| c.tunables.tcp_keepalive = state != 0);
    }
    Ok(0)
}

/// proxy_lua.c:1120 `mcplib_backend_failure_limit`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_backend_failure_limit(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM.
    unsafe {
        let limit = luaL_checkinteger(L, -1) as c_int;
        if limit < 0 {
            return Err(Error::Str(c"backend_failure_limit must be >= 0"));
        }
        with_stats_lock(proxy_get_ctx(L), |c| c.tunables.backend_failure_limit = limit);
    }
    Ok(0)
}

/// proxy_lua.c:1136 `mcplib_backend_depth_limit`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_backend_depth_limit(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM.
    unsafe {
        let limit = luaL_checkinteger(L, -1) as c_int;
        if limit < 0 {
            return Err(Error::Str(c"backend_depth_limit must be >= 0"));
        }
        with_stats_lock(proxy_get_ctx(L), |c| c.tunables.backend_depth_limit = limit);
    }
    Ok(0)
}

/// proxy_lua.c:1152 `mcplib_backend_connect_timeout`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_backend_connect_timeout(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM.
    unsafe {
        let tv = seconds_to_timeval(luaL_checknumber(L, -1));
        with_stats_lock(proxy_get_ctx(L), |c| c.tunables.connect = tv);
    }
    Ok(0)
}

/// proxy_lua.c:1166 `mcplib_backend_retry_waittime`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_backend_retry_waittime(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM.
    unsafe {
        let secondsi = _mcplib_backend_get_waittime(luaL_checknumber(L, -1));
        with_stats_lock(proxy_get_ctx(L), |c| {
            c.tunables.retry.tv_sec = secondsi as libc::time_t;
            c.tunables.retry.tv_usec = 0;
        });
    }
    Ok(0)
}

/// proxy_lua.c:1180 `mcplib_backend_retry_timeout`: alias of
/// `backend_retry_waittime`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_backend_retry_timeout(L: *mut lua_State) -> LResult {
    // SAFETY: forwarded.
    unsafe { mcplib_backend_retry_waittime(L) }
}

/// proxy_lua.c:1184 `mcplib_backend_read_timeout`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_backend_read_timeout(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM.
    unsafe {
        let tv = seconds_to_timeval(luaL_checknumber(L, -1));
        with_stats_lock(proxy_get_ctx(L), |c| c.tunables.read = tv);
    }
    Ok(0)
}

/// proxy_lua.c:1198 `mcplib_backend_flap_time`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_backend_flap_time(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM.
    unsafe {
        let tv = seconds_to_timeval(luaL_checknumber(L, -1));
        with_stats_lock(proxy_get_ctx(L), |c| c.tunables.flap = tv);
    }
    Ok(0)
}

/// proxy_lua.c:1212 `mcplib_backend_flap_backoff_ramp`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_backend_flap_backoff_ramp(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM.
    unsafe {
        let factor = clamp_ramp(luaL_checknumber(L, -1));
        with_stats_lock(proxy_get_ctx(L), |c| c.tunables.flap_backoff_ramp = factor);
    }
    Ok(0)
}

/// proxy_lua.c:1226 `mcplib_backend_flap_backoff_max`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_backend_flap_backoff_max(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM.
    unsafe {
        luaL_checknumber(L, -1);
        let max = lua_tointeger(L, -1) as u32;
        with_stats_lock(proxy_get_ctx(L), |c| c.tunables.flap_backoff_max = max);
    }
    Ok(0)
}

/// proxy_lua.c:1238 `mcplib_luagc_ratio`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_luagc_ratio(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM.
    unsafe {
        let mut ratio = luaL_checknumber(L, -1) as f32;
        if (ratio as f64) < 1.1 {
            ratio = 1.1f64 as f32;
        }
        with_stats_lock(proxy_get_ctx(L), |c| c.tunables.gc_ratio = ratio);
    }
    Ok(0)
}

/// proxy_lua.c:1252 `mcplib_stat_limit`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_stat_limit(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM.
    unsafe {
        let ctx = proxy_get_ctx(L);
        let mut limit = luaL_checkinteger(L, -1) as c_int;
        if limit == 0 {
            limit = MAX_USTATS_DEFAULT;
        }
        if limit > MAX_USTATS_DEFAULT {
            let msg = c"PROXY WARNING: setting ustats limit above default may cause performance problems\n";
            libc::fputs(msg.as_ptr(), stderr);
        }
        with_stats_lock(ctx, |c| c.tunables.max_ustats = limit);
    }
    Ok(0)
}

/// proxy_lua.c:1271 `mcplib_active_req_limit`: a total, divided over the
/// worker threads.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_active_req_limit(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM.
    unsafe {
        let ctx = proxy_get_ctx(L);
        let mut limit: i64 = luaL_checkinteger(L, -1);
        // The member is int64_t from 1.6.45 on, uint64_t before (the tree
        // decides, see build-support/layout_spec.rs). "No limit" is the
        // maximum of that type, as memcached's own default and its stats
        // output expect (INT64_MAX or UINT64_MAX); 1.6.45's signed
        // computation of a set limit is kept for both.
        let stored: ProxyCtx_active_req_limit_t = if limit == 0 {
            ProxyCtx_active_req_limit_t::MAX
        } else {
            let tcount = settings.num_threads;
            // the limit is per worker thread: divide it up.
            if limit > tcount.wrapping_mul(2) as i64 {
                limit /= tcount as i64;
            }
            limit as ProxyCtx_active_req_limit_t
        };
        with_stats_lock(ctx, |c| c.active_req_limit = stored);
    }
    Ok(0)
}

/// proxy_lua.c:1294 `mcplib_buffer_memory_limit` (kilobytes; no lock, as
/// upstream).
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_buffer_memory_limit(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM.
    unsafe {
        let ctx = proxy_get_ctx(L);
        let mut limit: u64 = luaL_checkinteger(L, -1) as u64;
        if limit == 0 {
            limit = u64::MAX;
        } else {
            limit = limit.wrapping_mul(1024);
            let tcount = settings.num_threads;
            if limit > tcount.wrapping_mul(2) as u64 {
                limit /= tcount as u64;
            }
        }
        (*ctx).buffer_memory_limit = limit;
    }
    Ok(0)
}
