//! Logging: mcp.log (both VMs), mcp.log_req, mcp.log_reqsample and the
//! exported mcplib_rqu_log (proxy_lua.c:1442-1635), against the recording
//! logger stand-in.

use super::*;
use crate::exports::mcplib_rqu_log;
use crate::mcplib::logging::_mcp_nextrand;

fn log_count() -> i32 {
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { ts::mcp_test_log_count }
}

fn last_log() -> &'static ts::LogEntry {
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        let n = ts::mcp_test_log_count;
        assert!(n > 0);
        &*core::ptr::addr_of!(ts::mcp_test_log[((n - 1) % 64) as usize])
    }
}

fn s(b: &[core::ffi::c_char]) -> String {
    cstr_buf(b)
}

/// A backend block as memcached's would be (C allocator), for responses.
fn fake_backend(name: &str, port: &str) -> *mut McpBackend {
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        let be = libc::calloc(1, McpBackend::BE_OFFSET + McpBackendConn::C_SIZE) as *mut McpBackend;
        for (d, c) in (*be).name.iter_mut().zip(name.bytes()) {
            *d = c as core::ffi::c_char;
        }
        for (d, c) in (*be).port.iter_mut().zip(port.bytes()) {
            *d = c as core::ffi::c_char;
        }
        be
    }
}

/// Sets global `name` to an mcp.request userdata holding `line`.
unsafe fn set_request(vm: &Vm, name: &CStr, line: &str) -> *mut McpRequest {
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        let rq = lua_newuserdatauv(vm.L, McpRequest::C_SIZE + line.len() + 1, 0) as *mut McpRequest;
        core::ptr::write_bytes(rq as *mut u8, 0, McpRequest::C_SIZE);
        let buf = (rq as *mut u8).add(McpRequest::C_SIZE);
        core::ptr::copy_nonoverlapping(line.as_ptr(), buf, line.len());
        (*rq).request = buf as *const core::ffi::c_char;
        (*rq).reqlen = line.len() as u32;
        luaL_setmetatable(vm.L, c"mcp.request".as_ptr());
        lua_setglobal(vm.L, name.as_ptr());
        rq
    }
}

/// Sets global `name` to an mcp.response userdata.
unsafe fn set_response(
    vm: &Vm,
    name: &CStr,
    be: *mut McpBackend,
    status: i32,
    code: i16,
    elapsed: i64,
) -> *mut McpResp {
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        let rs = lua_newuserdatauv(vm.L, McpResp::C_SIZE, 0) as *mut McpResp;
        core::ptr::write_bytes(rs as *mut u8, 0, McpResp::C_SIZE);
        (*rs).resp_type = 3;
        (*rs).resp_code = code;
        (*rs).status = status;
        (*rs).elapsed = elapsed as core::ffi::c_long;
        (*rs).be = be;
        (*rs).thread = vm.thread;
        luaL_setmetatable(vm.L, c"mcp.response".as_ptr());
        lua_setglobal(vm.L, name.as_ptr());
        rs
    }
}

#[test]
fn user_log_both_vms() {
    let _g = serial();
    let vm = Vm::worker(LOG_PROXYUSER);
    let n = log_count();
    vm.run("mcp.log('hello worker')").unwrap();
    assert_eq!(log_count(), n + 1);
    assert_eq!(last_log().event, LOGGER_PROXY_USER);
    assert_eq!(s(&last_log().msg), "hello worker");
    // not enabled: nothing
    let quiet = Vm::worker(0);
    quiet.run("mcp.log('dropped')").unwrap();
    assert_eq!(log_count(), n + 1);
    assert_eq!(
        quiet.argerr("mcp.log({})"),
        "bad argument #-1 to 'log' (string expected, got table)"
    );

    // config VM: the calling thread's logger
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { ts::mcp_test_set_thread_logger(LOG_PROXYUSER) };
    let cfg = Vm::config();
    cfg.run("mcp.log('hello config')").unwrap();
    assert_eq!(log_count(), n + 2);
    assert_eq!(s(&last_log().msg), "hello config");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { ts::mcp_test_set_thread_logger(0) };
    cfg.run("mcp.log('dropped')").unwrap();
    assert_eq!(log_count(), n + 2);
}

#[test]
fn log_req() {
    let _g = serial();
    // disabled: returns before looking at its arguments
    let off = Vm::worker(0);
    off.run("mcp.log_req(5)").unwrap();

    let vm = Vm::worker(LOG_PROXYREQS);
    assert_eq!(
        vm.argerr("mcp.log_req(5)"),
        "bad argument #1 to 'log_req' (mcp.request expected, got number)"
    );
    let be = fake_backend("10.0.0.1", "11211");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        set_request(&vm, c"REQ", "get foo\r\n");
        set_response(&vm, c"RES", be, MCMC_OK, 13, 1500);
        set_response(&vm, c"RESEND", be, MCMC_OK, MCMC_CODE_END as i16, 10);
        set_response(&vm, c"RESERR", be, 1, 0, 10);
        set_response(&vm, c"RESINT", core::ptr::null_mut(), MCMC_OK, 13, 10);
    }
    let n = log_count();
    vm.run("mcp.log_req(REQ, RES, 'some detail', 17)").unwrap();
    assert_eq!(log_count(), n + 1);
    let e = last_log();
    assert_eq!(e.event, LOGGER_PROXY_REQ);
    assert_eq!(s(&e.msg), "get foo\r\n");
    assert_eq!(
        (e.reqlen, e.elapsed, e.rtype, e.rcode, e.rstatus),
        (9, 1500, 3, 13, 0)
    );
    assert_eq!((e.flag, e.cfd), (RQUEUE_R_GOOD, 17));
    assert!(e.has_detail);
    assert_eq!((s(&e.detail), e.dlen), ("some detail".to_string(), 11));
    assert_eq!(
        (s(&e.rname), s(&e.rport)),
        ("10.0.0.1".to_string(), "11211".to_string())
    );

    vm.run("mcp.log_req(REQ, RESEND)").unwrap();
    let e = last_log();
    assert_eq!((e.flag, e.cfd, e.has_detail, e.dlen), (RQUEUE_R_OK, 0, false, 0));
    vm.run("mcp.log_req(REQ, RESERR)").unwrap();
    assert_eq!(last_log().flag, RQUEUE_R_ANY);
    vm.run("mcp.log_req(REQ, RESINT)").unwrap();
    assert_eq!(
        (s(&last_log().rname), s(&last_log().rport)),
        ("internal".to_string(), "0".to_string())
    );
    // no response: status 0, flag GOOD, no backend name
    vm.run("mcp.log_req(REQ)").unwrap();
    let e = last_log();
    assert_eq!(
        (e.flag, e.has_rname, e.has_rport, e.elapsed),
        (RQUEUE_R_GOOD, false, false, 0)
    );
    assert_eq!(
        vm.argerr("mcp.log_req(REQ, REQ)"),
        "bad argument #2 to 'log_req' (mcp.response expected, got mcp.request)"
    );
    assert_eq!(
        vm.argerr("mcp.log_req(REQ, nil, {})"),
        "bad argument #3 to 'log_req' (string expected, got table)"
    );
    assert_eq!(
        vm.argerr("mcp.log_req(REQ, nil, nil, 'x')"),
        "bad argument #4 to 'log_req' (number expected, got string)"
    );
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { libc::free(be as *mut c_void) };
}

#[test]
fn log_reqsample() {
    let _g = serial();
    let off = Vm::worker(0);
    off.run("mcp.log_reqsample()").unwrap();

    let vm = Vm::worker(LOG_PROXYREQS);
    let be = fake_backend("h", "1");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        set_request(&vm, c"REQ", "mg foo v\r\n");
        set_response(&vm, c"OK", be, MCMC_OK, 13, 1000);
        set_response(&vm, c"SLOW", be, MCMC_OK, 13, 150_001);
        set_response(&vm, c"ERR", be, 2, 0, 10);
    }
    let n = log_count();
    // nothing selects it: not logged
    vm.run("mcp.log_reqsample(150, 0, true, REQ, OK)").unwrap();
    assert_eq!(log_count(), n);
    // slower than 150 ms
    vm.run("mcp.log_reqsample(150, 0, false, REQ, SLOW, 'slow', 3)")
        .unwrap();
    assert_eq!(log_count(), n + 1);
    assert_eq!(
        (s(&last_log().detail), last_log().cfd, last_log().elapsed),
        ("slow".to_string(), 3, 150_001)
    );
    // errors
    vm.run("mcp.log_reqsample(0, 0, true, REQ, ERR)").unwrap();
    assert_eq!((log_count(), last_log().flag), (n + 2, RQUEUE_R_ANY));
    vm.run("mcp.log_reqsample(0, 0, false, REQ, ERR)").unwrap();
    assert_eq!(log_count(), n + 2);
    // rate 1: always; the draw uses the thread's rng exactly as upstream
    vm.run("mcp.log_reqsample(0, 1, false, REQ, OK)").unwrap();
    assert_eq!(log_count(), n + 3);
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    let mut rng = unsafe { (*vm.thread).proxy_rng };
    let mut expect = 0;
    for _ in 0..1000 {
        // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
        let r = unsafe { ts::mcp_test_ref_nextrand(rng.as_mut_ptr()) };
        if ((r as u64 * 10) >> 32) == 0 {
            expect += 1;
        }
    }
    let before = log_count();
    vm.run("for i = 1, 1000 do mcp.log_reqsample(0, 10, false, REQ, OK) end")
        .unwrap();
    assert_eq!(log_count() - before, expect);
    assert!(expect > 50 && expect < 160, "about one in ten: {expect}");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    assert_eq!(unsafe { (*vm.thread).proxy_rng }, rng);
    assert_eq!(
        vm.argerr("mcp.log_reqsample('x')"),
        "bad argument #1 to 'log_reqsample' (number expected, got string)"
    );
    assert_eq!(
        vm.argerr("mcp.log_reqsample(1, 1, true, 5)"),
        "bad argument #4 to 'log_reqsample' (mcp.request expected, got number)"
    );
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { libc::free(be as *mut c_void) };
}

#[test]
fn nextrand_matches_upstream() {
    let mut a = [0x12345678u32, 0x9abcdef0, 0x0fedcba9, 0];
    let mut b = a;
    for _ in 0..100_000 {
        // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
        assert_eq!(_mcp_nextrand(&mut a), unsafe {
            ts::mcp_test_ref_nextrand(b.as_mut_ptr())
        });
    }
    assert_eq!(a, b);
}

#[test]
fn rqu_log_decisions() {
    let _g = serial();
    let vm = Vm::worker(0); // rqu_log does not look at eflags
    let be = fake_backend("b", "2");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        let rq = set_request(&vm, c"REQ", "ms k 1\r\n");
        let rs = set_response(&vm, c"RES", be, MCMC_OK, 13, 100);
        let n = log_count();
        // rate 1: always, with the caller's flag and the backend's tag
        (*be).logging.rate = 1;
        (*be).logging.detail = libc::strdup(c"tag1".as_ptr());
        mcplib_rqu_log(rq, rs, 99, 5);
        assert_eq!(log_count(), n + 1);
        let e = last_log();
        assert_eq!(
            (e.flag, e.cfd, s(&e.detail), e.dlen),
            (99, 5, "tag1".to_string(), 4)
        );
        assert_eq!(
            (s(&e.rname), s(&e.rport), s(&e.msg)),
            ("b".to_string(), "2".to_string(), "ms k 1\r\n".to_string())
        );
        libc::free((*be).logging.detail as *mut c_void);
        (*be).logging.detail = core::ptr::null_mut();
        // errors only
        (*be).logging.rate = 0;
        (*be).logging.all_errors = true;
        mcplib_rqu_log(rq, rs, 8, 0);
        assert_eq!(log_count(), n + 1);
        (*rs).status = 3;
        mcplib_rqu_log(rq, rs, 8, 0);
        assert_eq!(log_count(), n + 2);
        assert!(!last_log().has_detail);
        // deadline in microseconds
        (*rs).status = MCMC_OK;
        (*be).logging.all_errors = false;
        (*be).logging.deadline = 100;
        mcplib_rqu_log(rq, rs, 8, 0);
        assert_eq!(log_count(), n + 2);
        (*rs).elapsed = 101;
        mcplib_rqu_log(rq, rs, 8, 0);
        assert_eq!(log_count(), n + 3);
        // sampling with the thread's rng
        (*be).logging.deadline = 0;
        (*be).logging.rate = 4;
        let mut rng = (*vm.thread).proxy_rng;
        let mut expect = 0;
        for _ in 0..500 {
            if ((ts::mcp_test_ref_nextrand(rng.as_mut_ptr()) as u64 * 4) >> 32) == 0 {
                expect += 1;
            }
        }
        let before = log_count();
        for _ in 0..500 {
            mcplib_rqu_log(rq, rs, 8, 0);
        }
        assert_eq!(log_count() - before, expect);
        assert_eq!((*vm.thread).proxy_rng, rng);
        libc::free(be as *mut c_void);
    }
}
