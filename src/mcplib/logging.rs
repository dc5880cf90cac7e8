//! Logging through memcached's logger (proxy_lua.c:1442-1635): `mcp.log` in
//! both VMs, `mcp.log_req`, `mcp.log_reqsample`, and the exported
//! `mcplib_rqu_log` used for automatic backend logging.

use core::ffi::{c_char, c_int, c_long, c_uint, c_void};
use core::ptr;

use crate::ffi::host::*;
use crate::ffi::lua::*;
use crate::lua::*;

/// `GET_LOGGER()`: the calling thread's logger.
#[inline]
unsafe fn get_logger() -> *mut Logger {
    // SAFETY: logger_key is created by memcached before any thread runs.
    unsafe { libc::pthread_getspecific(logger_key) as *mut Logger }
}

/// `LOGGER_LOG(l, LOG_PROXYUSER, LOGGER_PROXY_USER, NULL, msg)`.
///
/// # Safety
/// `l` is NULL or a live logger; `msg` a C string.
unsafe fn logger_log_user(l: *mut Logger, msg: *const c_char) {
    // SAFETY: caller contract.
    unsafe {
        let myl = if l.is_null() { get_logger() } else { l };
        // (upstream dereferences a missing logger; skip instead)
        if !myl.is_null() && (*myl).eflags & LOG_PROXYUSER != 0 {
            logger_log(myl, LOGGER_PROXY_USER, ptr::null(), msg);
        }
    }
}

/// proxy_lua.c:1442 `mcplib_ct_log`: `mcp.log(msg)` in the config VM, via
/// the config thread's own logger.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_ct_log(L: *mut lua_State) -> LResult {
    // SAFETY: L live (module contract).
    unsafe {
        let msg = luaL_checkstring(L, -1);
        logger_log_user(ptr::null_mut(), msg);
    }
    Ok(0)
}

/// proxy_lua.c:1449 `mcplib_log`: `mcp.log(msg)` in a worker VM.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_log(L: *mut lua_State) -> LResult {
    // SAFETY: L is a worker VM.
    unsafe {
        let t = proxy_get_thr(L);
        let msg = luaL_checkstring(L, -1);
        logger_log_user((*t).l, msg);
    }
    Ok(0)
}

/// What a request log entry says about the response.
struct ResInfo {
    rtype: c_int,
    rcode: c_int,
    rstatus: c_int,
    elapsed: c_long,
    rname: *const c_char,
    rport: *const c_char,
}

/// Reads the optional `mcp.response` at `idx` as upstream does.
///
/// # Safety
/// `L` a worker VM.
unsafe fn response_info(L: *mut lua_State, idx: c_int) -> ResInfo {
    let mut ri = ResInfo {
        rtype: 0,
        rcode: 0,
        rstatus: 0,
        elapsed: 0,
        rname: ptr::null(),
        rport: ptr::null(),
    };
    // SAFETY: caller contract; the response userdata is on the stack.
    unsafe {
        if lua_type(L, idx) == LUA_TUSERDATA {
            let rs: *mut McpResp = checkudata(L, idx, c"mcp.response");
            ri.rtype = (*rs).resp_type as c_int;
            ri.rcode = (*rs).resp_code as c_int;
            ri.rstatus = (*rs).status;
            if !(*rs).be.is_null() {
                ri.rname = (*(*rs).be).name.as_ptr();
                ri.rport = (*(*rs).be).port.as_ptr();
            } else {
                ri.rname = c"internal".as_ptr();
                ri.rport = c"0".as_ptr();
            }
            ri.elapsed = (*rs).elapsed;
        }
    }
    ri
}

/// The result flag of a logged request.
fn result_flag(rstatus: c_int, rcode: c_int) -> c_int {
    if rstatus == MCMC_OK {
        if rcode != MCMC_CODE_END {
            RQUEUE_R_GOOD
        } else {
            RQUEUE_R_OK
        }
    } else {
        RQUEUE_R_ANY
    }
}

/// `logger_log(l, LOGGER_PROXY_REQ, NULL, ...)` with upstream's argument
/// list and C's default argument promotions.
///
/// # Safety
/// `l` live; `rq` live; strings NULL or NUL-terminated.
#[allow(clippy::too_many_arguments)]
unsafe fn log_proxy_req(
    l: *mut Logger,
    rq: *mut McpRequest,
    ri: &ResInfo,
    flag: c_int,
    cfd: c_int,
    detail: *const c_char,
    dlen: usize,
) {
    // SAFETY: caller contract.
    unsafe {
        logger_log(
            l,
            LOGGER_PROXY_REQ,
            ptr::null::<c_void>(),
            (*rq).request,
            (*rq).reqlen as c_uint,
            ri.elapsed,
            ri.rtype,
            ri.rcode,
            ri.rstatus,
            flag,
            cfd,
            detail,
            dlen,
            ri.rname,
            ri.rport,
        );
    }
}

/// proxy_lua.c:1457 `mcplib_log_req` (`mcp.log_req(req, res, detail, cfd)`).
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_log_req(L: *mut lua_State) -> LResult {
    // SAFETY: L is a worker VM.
    unsafe {
        let t = proxy_get_thr(L);
        let l = (*t).l;
        // cheapest possible exit when request logging is off.
        if (*l).eflags & LOG_PROXYREQS == 0 {
            return Ok(0);
        }
        let rq: *mut McpRequest = checkudata(L, 1, c"mcp.request");
        let ri = response_info(L, 2);
        let mut dlen = 0usize;
        let detail = luaL_optlstring(L, 3, ptr::null(), &mut dlen);
        let cfd = luaL_optinteger(L, 4, 0) as c_int;
        let flag = result_flag(ri.rstatus, ri.rcode);
        log_proxy_req(l, rq, &ri, flag, cfd, detail, dlen);
    }
    Ok(0)
}

/// proxy_lua.c:1505 `_mcp_rotl`.
#[inline(always)]
fn _mcp_rotl(x: u32, k: u32) -> u32 {
    x.rotate_left(k)
}

/// proxy_lua.c:1510 `_mcp_nextrand`: 32-bit xoroshiro128++ on the thread's
/// `proxy_rng`.
pub fn _mcp_nextrand(s: &mut [u32; 4]) -> u32 {
    let result = _mcp_rotl(s[0].wrapping_add(s[3]), 7).wrapping_add(s[0]);
    let t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = _mcp_rotl(s[3], 11);
    result
}

/// `(uint64_t)rnd * rate >> 32 == 0`: log one in `rate` (slightly biased).
#[inline]
fn sample_hit(rng: &mut [u32; 4], rate: u64) -> bool {
    let rnd = ((_mcp_nextrand(rng) as u64).wrapping_mul(rate) >> 32) as u32;
    rnd == 0
}

/// proxy_lua.c:1527 `mcplib_rqu_log`: automatic logging of a backend
/// request with the backend's `log` options. The caller guarantees
/// `rs->be` (it only calls when `be->use_logging`).
///
/// # Safety
/// `rq`, `rs`, `rs->be`, `rs->thread` live; on that thread.
pub unsafe fn mcplib_rqu_log(rq: *mut McpRequest, rs: *mut McpResp, flag: c_int, cfd: c_int) {
    // SAFETY: caller contract.
    unsafe {
        let t = (*rs).thread;
        let l = (*t).l;
        let be = (*rs).be;
        let ri = ResInfo {
            rtype: (*rs).resp_type as c_int,
            rcode: (*rs).resp_code as c_int,
            rstatus: (*rs).status,
            elapsed: (*rs).elapsed,
            rname: (*be).name.as_ptr(),
            rport: (*be).port.as_ptr(),
        };
        let pl = &(*be).logging;
        // the same decision chain as upstream, branch for branch
        #[allow(clippy::if_same_then_else)]
        let do_log = if pl.rate == 1 {
            true
        } else if pl.all_errors && ri.rstatus != MCMC_OK {
            true
        } else if pl.deadline > 0 && ri.elapsed > pl.deadline as c_long {
            true
        } else if pl.rate > 0 {
            sample_hit(&mut (*t).proxy_rng, pl.rate as u64)
        } else {
            false
        };

        if do_log {
            let detail = pl.detail as *const c_char;
            let dlen = if detail.is_null() { 0 } else { libc::strlen(detail) };
            log_proxy_req(l, rq, &ri, flag, cfd, detail, dlen);
        }
    }
}

/// proxy_lua.c:1570 `mcplib_log_reqsample`
/// (`mcp.log_reqsample(ms, rate, allerr, req, res, detail, cfd)`).
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_log_reqsample(L: *mut lua_State) -> LResult {
    // SAFETY: L is a worker VM.
    unsafe {
        let t = proxy_get_thr(L);
        let l = (*t).l;
        if (*l).eflags & LOG_PROXYREQS == 0 {
            return Ok(0);
        }
        let ms = luaL_checkinteger(L, 1) as c_int;
        let rate = luaL_checkinteger(L, 2) as c_int;
        let allerr = lua_toboolean(L, 3);
        let rq: *mut McpRequest = checkudata(L, 4, c"mcp.request");
        let ri = response_info(L, 5);
        let mut dlen = 0usize;
        let detail = luaL_optlstring(L, 6, ptr::null(), &mut dlen);
        let cfd = luaL_optinteger(L, 7, 0) as c_int;

        // the same decision chain as upstream, branch for branch
        #[allow(clippy::if_same_then_else)]
        let do_log = if allerr != 0 && ri.rstatus != MCMC_OK {
            true
        } else if ms > 0 && ri.elapsed > ms.wrapping_mul(1000) as c_long {
            true
        } else if rate > 0 {
            sample_hit(&mut (*t).proxy_rng, rate as u64)
        } else {
            false
        };
        let flag = result_flag(ri.rstatus, ri.rcode);
        if do_log {
            log_proxy_req(l, rq, &ri, flag, cfd, detail, dlen);
        }
    }
    Ok(0)
}
