//! Logging through memcached's logger (proxy_lua.c:1442-1635): `mcp.log` in
//! both VMs, `mcp.log_req`, `mcp.log_reqsample`, and the exported
//! `mcplib_rqu_log` used for automatic backend logging.

use core::ffi::{c_int, c_long};

use crate::ffi::host::*;
use crate::ffi::lua::*;
use crate::host::log::{CStrRef, Log, ReqLine, ResInfo};
use crate::host::{BackendRef, ConfigVm, Thread, WorkerVm};
use crate::vm::{LResult, Vm};

/// proxy_lua.c:1442 `mcplib_ct_log`: `mcp.log(msg)` in the config VM, via
/// the config thread's own logger.
pub fn mcplib_ct_log(vm: &mut ConfigVm) -> LResult {
    vm.check_bytes(-1)?;
    // (upstream dereferences a missing logger; skip instead)
    if let (Some(l), Some(msg)) = (Log::current(), vm.to_cstr(-1)) {
        l.log_user(msg);
    }
    Ok(0)
}

/// proxy_lua.c:1449 `mcplib_log`: `mcp.log(msg)` in a worker VM.
pub fn mcplib_log(vm: &mut WorkerVm) -> LResult {
    let t = vm.thread();
    vm.check_bytes(-1)?;
    if let (Some(l), Some(msg)) = (t.logger(), vm.to_cstr(-1)) {
        l.log_user(msg);
    }
    Ok(0)
}

/// The name and port a request log entry names for a backend.
fn be_names<'a>(be: &BackendRef<'a>) -> (Option<CStrRef<'a>>, Option<CStrRef<'a>>) {
    (Some(be.name_cstr()), Some(be.port_cstr()))
}

/// Reads the optional `mcp.response` at `idx` as upstream does.
fn response_info(vm: &Vm, idx: c_int) -> LResult<ResInfo<'_>> {
    let mut ri = ResInfo {
        rtype: 0,
        rcode: 0,
        rstatus: 0,
        elapsed: 0,
        rname: None,
        rport: None,
    };
    if vm.type_of(idx) == LUA_TUSERDATA {
        let rs = vm.udata_ref::<McpResp>(idx)?;
        ri.rtype = rs.resp_type as c_int;
        ri.rcode = rs.resp_code as c_int;
        ri.rstatus = rs.status;
        (ri.rname, ri.rport) = match rs.backend() {
            Some(be) => be_names(&be),
            None => (Some(CStrRef::lit(c"internal")), Some(CStrRef::lit(c"0"))),
        };
        ri.elapsed = rs.elapsed;
    }
    Ok(ri)
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

/// proxy_lua.c:1457 `mcplib_log_req` (`mcp.log_req(req, res, detail, cfd)`).
pub fn mcplib_log_req(vm: &mut WorkerVm) -> LResult {
    let Some(l) = vm.thread().logger() else {
        return Ok(0);
    };
    // cheapest possible exit when request logging is off.
    if l.eflags() & LOG_PROXYREQS == 0 {
        return Ok(0);
    }
    let rq = ReqLine::of(vm.udata_ref::<McpRequest>(1)?);
    let ri = response_info(vm, 2)?;
    let detail = vm.opt_bytes(3)?;
    let cfd = vm.opt_integer(4, 0)? as c_int;
    let flag = result_flag(ri.rstatus, ri.rcode);
    l.log_req(rq, &ri, flag, cfd, detail);
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
fn sample_hit(t: Thread, rate: u64) -> bool {
    let rnd = ((t.with_rng(_mcp_nextrand) as u64).wrapping_mul(rate) >> 32) as u32;
    rnd == 0
}

/// proxy_lua.c:1527 `mcplib_rqu_log`: automatic logging of a backend
/// request with the backend's `log` options (memcached calls it only when
/// `be->use_logging`).
#[inline]
pub fn mcplib_rqu_log(rq: &McpRequest, rs: &McpResp, t: Thread, be: BackendRef<'_>, flag: c_int, cfd: c_int) {
    let pl = be.logging();
    // the same decision chain as upstream, branch for branch
    #[allow(clippy::if_same_then_else)]
    let do_log = if pl.rate == 1 {
        true
    } else if pl.all_errors && rs.status != MCMC_OK {
        true
    } else if pl.deadline > 0 && rs.elapsed > pl.deadline as c_long {
        true
    } else if pl.rate > 0 {
        sample_hit(t, pl.rate as u64)
    } else {
        false
    };
    if !do_log {
        return;
    }
    // (the tag is measured before the entry's fields are read: fewer values
    // live across strlen)
    let detail = be.detail();
    let ri = ResInfo {
        rtype: rs.resp_type as c_int,
        rcode: rs.resp_code as c_int,
        rstatus: rs.status,
        elapsed: rs.elapsed,
        rname: Some(be.name_cstr()),
        rport: Some(be.port_cstr()),
    };
    t.request_logger()
        .log_req(ReqLine::of(rq), &ri, flag, cfd, detail);
}

/// proxy_lua.c:1570 `mcplib_log_reqsample`
/// (`mcp.log_reqsample(ms, rate, allerr, req, res, detail, cfd)`).
pub fn mcplib_log_reqsample(vm: &mut WorkerVm) -> LResult {
    let t = vm.thread();
    let Some(l) = t.logger() else { return Ok(0) };
    if l.eflags() & LOG_PROXYREQS == 0 {
        return Ok(0);
    }
    let ms = vm.check_integer(1)? as c_int;
    let rate = vm.check_integer(2)? as c_int;
    let allerr = vm.to_boolean(3);
    let rq = ReqLine::of(vm.udata_ref::<McpRequest>(4)?);
    let ri = response_info(vm, 5)?;
    let detail = vm.opt_bytes(6)?;
    let cfd = vm.opt_integer(7, 0)? as c_int;

    // the same decision chain as upstream, branch for branch
    #[allow(clippy::if_same_then_else)]
    let do_log = if allerr && ri.rstatus != MCMC_OK {
        true
    } else if ms > 0 && ri.elapsed > ms.wrapping_mul(1000) as c_long {
        true
    } else if rate > 0 {
        sample_hit(t, rate as u64)
    } else {
        false
    };
    let flag = result_flag(ri.rstatus, ri.rcode);
    if do_log {
        l.log_req(rq, &ri, flag, cfd, detail);
    }
    Ok(0)
}
