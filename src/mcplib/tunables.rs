//! Config-VM tunables and limits (proxy_lua.c:1068-1311). Every setter reads
//! the top of the stack (index -1), as upstream, and writes the context
//! under `stats_lock` (except `buffer_memory_limit`, as upstream).

use core::ffi::c_int;

use crate::ffi::host::*;
use crate::ffi::lua::*;
use crate::host::thread::num_threads;
use crate::host::{ConfigVm, sys};
use crate::mcplib::backend::{_mcplib_backend_get_waittime, clamp_ramp, seconds_to_timeval};
use crate::vm::{LResult, LuaError};

/// proxy_lua.c:1068 `mcplib_backend_use_iothread`.
pub fn mcplib_backend_use_iothread(vm: &mut ConfigVm) -> LResult {
    vm.check_type(-1, LUA_TBOOLEAN)?;
    let state = vm.to_boolean(-1);
    vm.ctx().with_stats(|s| s.tunables().use_iothread = state);
    Ok(0)
}

/// proxy_lua.c:1080 `mcplib_backend_use_tls`.
pub fn mcplib_backend_use_tls(vm: &mut ConfigVm) -> LResult {
    vm.check_type(-1, LUA_TBOOLEAN)?;
    let state = vm.to_boolean(-1);
    if !HAVE_PROXY_TLS && state {
        return Err(LuaError::Str(
            c"cannot set mcp.backend_use_tls: TLS support not compiled",
        ));
    }
    vm.ctx().with_stats(|s| s.tunables().use_tls = state);
    Ok(0)
}

/// proxy_lua.c:1097 `mcplib_init_tls`.
pub fn mcplib_init_tls(vm: &mut ConfigVm) -> LResult {
    #[cfg(not(mcp_proxy_tls))]
    {
        let _ = vm;
        Err(LuaError::Str(
            c"cannot run mcp.init_tls: TLS support not compiled",
        ))
    }
    #[cfg(mcp_proxy_tls)]
    {
        crate::host::ctx::tls_init(vm.ctx());
        Ok(0)
    }
}

/// proxy_lua.c:1108 `mcplib_tcp_keepalive`.
pub fn mcplib_tcp_keepalive(vm: &mut ConfigVm) -> LResult {
    vm.check_type(-1, LUA_TBOOLEAN)?;
    let state = vm.to_boolean(-1);
    vm.ctx().with_stats(|s| s.tunables().tcp_keepalive = state);
    Ok(0)
}

/// proxy_lua.c:1120 `mcplib_backend_failure_limit`.
pub fn mcplib_backend_failure_limit(vm: &mut ConfigVm) -> LResult {
    let limit = vm.check_integer(-1)? as c_int;
    if limit < 0 {
        return Err(LuaError::Str(c"backend_failure_limit must be >= 0"));
    }
    vm.ctx()
        .with_stats(|s| s.tunables().backend_failure_limit = limit);
    Ok(0)
}

/// proxy_lua.c:1136 `mcplib_backend_depth_limit`.
pub fn mcplib_backend_depth_limit(vm: &mut ConfigVm) -> LResult {
    let limit = vm.check_integer(-1)? as c_int;
    if limit < 0 {
        return Err(LuaError::Str(c"backend_depth_limit must be >= 0"));
    }
    vm.ctx().with_stats(|s| s.tunables().backend_depth_limit = limit);
    Ok(0)
}

/// proxy_lua.c:1152 `mcplib_backend_connect_timeout`.
pub fn mcplib_backend_connect_timeout(vm: &mut ConfigVm) -> LResult {
    let tv = seconds_to_timeval(vm.check_number(-1)?);
    vm.ctx().with_stats(|s| s.tunables().connect = tv);
    Ok(0)
}

/// proxy_lua.c:1166 `mcplib_backend_retry_waittime`.
pub fn mcplib_backend_retry_waittime(vm: &mut ConfigVm) -> LResult {
    let secondsi = _mcplib_backend_get_waittime(vm.check_number(-1)?);
    vm.ctx().with_stats(|s| {
        s.tunables().retry.tv_sec = secondsi as Timeval_tv_sec_t;
        s.tunables().retry.tv_usec = 0;
    });
    Ok(0)
}

/// proxy_lua.c:1180 `mcplib_backend_retry_timeout`: alias of
/// `backend_retry_waittime`.
pub fn mcplib_backend_retry_timeout(vm: &mut ConfigVm) -> LResult {
    mcplib_backend_retry_waittime(vm)
}

/// proxy_lua.c:1184 `mcplib_backend_read_timeout`.
pub fn mcplib_backend_read_timeout(vm: &mut ConfigVm) -> LResult {
    let tv = seconds_to_timeval(vm.check_number(-1)?);
    vm.ctx().with_stats(|s| s.tunables().read = tv);
    Ok(0)
}

/// proxy_lua.c:1198 `mcplib_backend_flap_time`.
pub fn mcplib_backend_flap_time(vm: &mut ConfigVm) -> LResult {
    let tv = seconds_to_timeval(vm.check_number(-1)?);
    vm.ctx().with_stats(|s| s.tunables().flap = tv);
    Ok(0)
}

/// proxy_lua.c:1212 `mcplib_backend_flap_backoff_ramp`.
pub fn mcplib_backend_flap_backoff_ramp(vm: &mut ConfigVm) -> LResult {
    let factor = clamp_ramp(vm.check_number(-1)?);
    vm.ctx().with_stats(|s| s.tunables().flap_backoff_ramp = factor);
    Ok(0)
}

/// proxy_lua.c:1226 `mcplib_backend_flap_backoff_max`.
pub fn mcplib_backend_flap_backoff_max(vm: &mut ConfigVm) -> LResult {
    vm.check_number(-1)?;
    let max = vm.to_integer(-1) as u32;
    vm.ctx().with_stats(|s| s.tunables().flap_backoff_max = max);
    Ok(0)
}

/// proxy_lua.c:1238 `mcplib_luagc_ratio`.
pub fn mcplib_luagc_ratio(vm: &mut ConfigVm) -> LResult {
    let mut ratio = vm.check_number(-1)? as f32;
    if (ratio as f64) < 1.1 {
        ratio = 1.1f64 as f32;
    }
    vm.ctx().with_stats(|s| s.tunables().gc_ratio = ratio);
    Ok(0)
}

/// proxy_lua.c:1252 `mcplib_stat_limit`.
pub fn mcplib_stat_limit(vm: &mut ConfigVm) -> LResult {
    let mut limit = vm.check_integer(-1)? as c_int;
    if limit == 0 {
        limit = MAX_USTATS_DEFAULT;
    }
    if limit > MAX_USTATS_DEFAULT {
        sys::eprint(&[b"PROXY WARNING: setting ustats limit above default may cause performance problems\n"]);
    }
    vm.ctx().with_stats(|s| s.tunables().max_ustats = limit);
    Ok(0)
}

/// proxy_lua.c:1271 `mcplib_active_req_limit`: a total, divided over the
/// worker threads.
pub fn mcplib_active_req_limit(vm: &mut ConfigVm) -> LResult {
    let mut limit: i64 = vm.check_integer(-1)?;
    // The member is int64_t from 1.6.45 on, uint64_t before (the tree
    // decides, see build-support/layout_spec.rs). "No limit" is the maximum
    // of that type, as memcached's own default and its stats output expect
    // (INT64_MAX or UINT64_MAX); 1.6.45's signed computation of a set limit
    // is kept for both.
    let stored: ProxyCtx_active_req_limit_t = if limit == 0 {
        ProxyCtx_active_req_limit_t::MAX
    } else {
        let tcount = num_threads();
        // the limit is per worker thread: divide it up.
        if limit > tcount.wrapping_mul(2) as i64 && tcount > 0 {
            limit /= tcount as i64;
        }
        limit as ProxyCtx_active_req_limit_t
    };
    vm.ctx().with_stats(|s| s.set_active_req_limit(stored));
    Ok(0)
}

/// proxy_lua.c:1294 `mcplib_buffer_memory_limit` (kilobytes; no lock, as
/// upstream).
pub fn mcplib_buffer_memory_limit(vm: &mut ConfigVm) -> LResult {
    let mut limit: u64 = vm.check_integer(-1)? as u64;
    if limit == 0 {
        limit = u64::MAX;
    } else {
        limit = limit.wrapping_mul(1024);
        let tcount = num_threads();
        if limit > tcount.wrapping_mul(2) as u64 && tcount > 0 {
            limit /= tcount as u64;
        }
    }
    vm.ctx().set_buffer_memory_limit(limit);
    Ok(0)
}
