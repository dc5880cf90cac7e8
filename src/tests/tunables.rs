//! Config-VM tunables and limits (proxy_lua.c:1068-1311).

use super::*;

fn cfg(threads: usize) -> Vm {
    Vm::config_with_threads(threads)
}

#[test]
fn boolean_setters() {
    let _g = serial();
    let vm = cfg(1);
    vm.run("mcp.backend_use_iothread(true) mcp.tcp_keepalive(true) mcp.backend_use_tls(false)")
        .unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        assert!((*vm.ctx).tunables.use_iothread);
        assert!((*vm.ctx).tunables.tcp_keepalive);
        assert!(!(*vm.ctx).tunables.use_tls);
    }
    vm.run("mcp.backend_use_iothread(false) mcp.tcp_keepalive(false)")
        .unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert!(!(*vm.ctx).tunables.use_iothread && !(*vm.ctx).tunables.tcp_keepalive) };
    for f in ["backend_use_iothread", "tcp_keepalive", "backend_use_tls"] {
        assert_eq!(
            vm.argerr(&format!("mcp.{f}(1)")),
            format!("bad argument #-1 to '{f}' (boolean expected, got number)")
        );
    }
    // setters read the top of the stack, not argument 1
    vm.run("mcp.tcp_keepalive(1, true)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert!((*vm.ctx).tunables.tcp_keepalive) };
}

#[test]
fn tls_without_proxy_tls() {
    let _g = serial();
    let vm = cfg(1);
    if !HAVE_PROXY_TLS {
        assert_eq!(
            vm.err("mcp.backend_use_tls(true)"),
            "cannot set mcp.backend_use_tls: TLS support not compiled"
        );
        assert_eq!(
            vm.err("mcp.init_tls()"),
            "cannot run mcp.init_tls: TLS support not compiled"
        );
    }
}

#[test]
fn limits_and_timeouts() {
    let _g = serial();
    let vm = cfg(1);
    vm.run("mcp.backend_failure_limit(11) mcp.backend_depth_limit(12)")
        .unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        assert_eq!((*vm.ctx).tunables.backend_failure_limit, 11);
        assert_eq!((*vm.ctx).tunables.backend_depth_limit, 12);
    }
    assert_eq!(
        vm.err("mcp.backend_failure_limit(-1)"),
        "backend_failure_limit must be >= 0"
    );
    assert_eq!(
        vm.err("mcp.backend_depth_limit(-1)"),
        "backend_depth_limit must be >= 0"
    );
    assert_eq!(
        vm.argerr("mcp.backend_depth_limit(1.5)"),
        "bad argument #-1 to 'backend_depth_limit' (number has no integer representation)"
    );

    vm.run(
        "mcp.backend_connect_timeout(1.5) mcp.backend_read_timeout(0.25) mcp.backend_flap_time(30.000001)",
    )
    .unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        let t = &(*vm.ctx).tunables;
        assert_eq!((t.connect.tv_sec, t.connect.tv_usec), (1, 500000));
        assert_eq!((t.read.tv_sec, t.read.tv_usec), (0, 250000));
        assert_eq!((t.flap.tv_sec, t.flap.tv_usec), (30, 1));
    }
    vm.run("mcp.backend_retry_waittime(2.6)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        assert_eq!(
            ((*vm.ctx).tunables.retry.tv_sec, (*vm.ctx).tunables.retry.tv_usec),
            (3, 0)
        )
    };
    vm.run("mcp.backend_retry_timeout(0.1)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).tunables.retry.tv_sec, 1) };
    assert_eq!(
        vm.argerr("mcp.backend_read_timeout('x')"),
        "bad argument #-1 to 'backend_read_timeout' (number expected, got string)"
    );

    vm.run("mcp.backend_flap_backoff_ramp(1.05)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).tunables.flap_backoff_ramp, 1.1f32) };
    vm.run("mcp.backend_flap_backoff_ramp(3)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).tunables.flap_backoff_ramp, 3.0) };
    vm.run("mcp.backend_flap_backoff_max(120)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).tunables.flap_backoff_max, 120) };
    vm.run("mcp.backend_flap_backoff_max(2.5)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).tunables.flap_backoff_max, 0) };

    vm.run("mcp.luagc_ratio(1.0)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).tunables.gc_ratio, 1.1f32) };
    vm.run("mcp.luagc_ratio(4)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).tunables.gc_ratio, 4.0) };
}

#[test]
fn stat_limit() {
    let _g = serial();
    let vm = cfg(1);
    vm.run("mcp.stat_limit(0)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).tunables.max_ustats, 1024) };
    vm.run("mcp.stat_limit(10)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).tunables.max_ustats, 10) };
    // above the default: accepted, with a warning on stderr
    vm.run("mcp.stat_limit(2000)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).tunables.max_ustats, 2000) };
    vm.run("mcp.stat_limit(-5)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).tunables.max_ustats, -5) };
}

#[test]
fn request_and_buffer_limits() {
    let _g = serial();
    let vm = cfg(4);
    vm.run("mcp.active_req_limit(0)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).active_req_limit, ProxyCtx_active_req_limit_t::MAX) };
    vm.run("mcp.active_req_limit(100)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).active_req_limit, 25) }; // per worker
    vm.run("mcp.active_req_limit(8)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).active_req_limit, 8) }; // not > threads*2
    vm.run("mcp.active_req_limit(9)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).active_req_limit, 2) };
    vm.run("mcp.buffer_memory_limit(0)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).buffer_memory_limit, u64::MAX) };
    vm.run("mcp.buffer_memory_limit(10)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).buffer_memory_limit, 10 * 1024 / 4) };
    assert_eq!(
        vm.argerr("mcp.active_req_limit('x')"),
        "bad argument #-1 to 'active_req_limit' (number expected, got string)"
    );
}
