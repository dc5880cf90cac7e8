//! mcp.backend: both call forms, every option, every error string, and the
//! label object's __gc (proxy_lua.c:295-559).

use super::*;
use crate::mcplib::backend::_mcplib_backend_get_waittime;

fn label(vm: &Vm, expr: &str) -> *mut McpBackendLabel {
    vm.run(&format!("B = {expr}")).unwrap();
    vm.ud::<McpBackendLabel>("B")
}

#[test]
fn positional_form() {
    let _g = serial();
    let vm = Vm::config();
    let b = label(&vm, "mcp.backend('b1', '127.0.0.1', 11211)");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        assert_eq!(cstr_buf(&(*b).label), "b1");
        assert_eq!(cstr_buf(&(*b).name), "127.0.0.1");
        assert_eq!(cstr_buf(&(*b).port), "11211"); // numbers are converted
        assert_eq!((*b).llen, 2);
        assert_eq!((*b).conncount, 1);
        assert!(!(*b).use_logging);
        // tunables copied from the context defaults
        assert_eq!((*b).tunables.connect.tv_sec, 5);
        assert_eq!((*b).tunables.retry.tv_sec, 3);
        assert_eq!((*b).tunables.backend_failure_limit, 3);
        assert_eq!((*b).tunables.flap_backoff_max, 3600);
    }
    assert_eq!(vm.eval("return getmetatable(B).__name"), "mcp.backend");
    // (the new label object already sits at index 3, as upstream)
    assert_eq!(
        vm.argerr("mcp.backend('a', 'b')"),
        "bad argument #3 to 'backend' (string expected, got mcp.backend)"
    );
    assert_eq!(
        vm.argerr("mcp.backend('a', {}, 1)"),
        "bad argument #2 to 'backend' (string expected, got table)"
    );
}

#[test]
fn table_form_every_option() {
    let _g = serial();
    let vm = Vm::config();
    let b = label(
        &vm,
        "mcp.backend({ label = 'lbl', host = 'h', port = '99', tcpkeepalive = true, tls = true,
            failurelimit = 7, depthlimit = 9, connecttimeout = 1.25, retrytimeout = 2.5,
            readtimeout = 0.5, down = true, flaptime = 3.75, flapbackofframp = 2.5,
            flapbackoffmax = 77, connections = 8,
            log = { deadline = 25, rate = 4, errors = true, tag = 'tagged' } })",
    );
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        let t = &(*b).tunables;
        assert!(t.tcp_keepalive && t.use_tls && t.down);
        assert_eq!(t.backend_failure_limit, 7);
        assert_eq!(t.backend_depth_limit, 9);
        assert_eq!((t.connect.tv_sec, t.connect.tv_usec), (1, 250000));
        // retrytimeout's second pass wins: a full timeval.
        assert_eq!((t.retry.tv_sec, t.retry.tv_usec), (2, 500000));
        assert_eq!((t.read.tv_sec, t.read.tv_usec), (0, 500000));
        assert_eq!((t.flap.tv_sec, t.flap.tv_usec), (3, 750000));
        assert_eq!(t.flap_backoff_ramp, 2.5);
        assert_eq!(t.flap_backoff_max, 77);
        assert_eq!((*b).conncount, 8);
        assert!((*b).use_logging);
        assert_eq!((*b).logging.deadline, 25000); // ms to us
        assert_eq!((*b).logging.rate, 4);
        assert!((*b).logging.all_errors);
        assert_eq!(CStr::from_ptr((*b).logging.detail).to_str().unwrap(), "tagged");
    }
    // the table form leaves nothing else behind: one result.
    assert_eq!(
        vm.eval("return select('#', mcp.backend({label='a', host='b', port='1'}))"),
        "1"
    );
}

#[test]
fn retry_options_and_waittime_rounding() {
    let _g = serial();
    let vm = Vm::config();
    // retrywaittime alone: whole seconds, rounded from .5, at least 1, usec untouched
    let b = label(
        &vm,
        "mcp.backend({label='a', host='b', port='1', retrywaittime = 2.5})",
    );
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!(((*b).tunables.retry.tv_sec, (*b).tunables.retry.tv_usec), (3, 0)) };
    let b = label(
        &vm,
        "mcp.backend({label='a', host='b', port='1', retrywaittime = 0.2})",
    );
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*b).tunables.retry.tv_sec, 1) };
    assert_eq!(_mcplib_backend_get_waittime(2.4), 2);
    assert_eq!(_mcplib_backend_get_waittime(2.5), 3);
    assert_eq!(_mcplib_backend_get_waittime(-4.0), 1);
    assert_eq!(_mcplib_backend_get_waittime(0.0), 1);
}

#[test]
fn flap_backoff_edges() {
    let _g = serial();
    let vm = Vm::config();
    for (v, want) in [("0.5", 1.1f32), ("1.1", 1.1f32), ("1.2", 1.2f32), ("-3", 1.1f32)] {
        let b = label(
            &vm,
            &format!("mcp.backend({{label='a', host='b', port='1', flapbackofframp = {v}}})"),
        );
        // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
        unsafe { assert_eq!((*b).tunables.flap_backoff_ramp, want, "ramp {v}") };
    }
    // flapbackoffmax: a number; a non-integral float stores 0 (lua_tointeger)
    let b = label(
        &vm,
        "mcp.backend({label='a', host='b', port='1', flapbackoffmax = 1.5})",
    );
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*b).tunables.flap_backoff_max, 0) };
    assert_eq!(
        vm.argerr("mcp.backend({label='a', host='b', port='1', flapbackoffmax = 'x'})"),
        "bad argument #-1 to 'backend' (number expected, got string)"
    );
}

#[test]
fn connections_bounds() {
    let _g = serial();
    let vm = Vm::config();
    let t = |c: &str| format!("mcp.backend({{label='a', host='b', port='1', connections = {c}}})");
    assert_eq!(vm.err(&t("0")), "backend connections argument must be >= 0");
    assert_eq!(vm.err(&t("-1")), "backend connections argument must be >= 0");
    assert_eq!(vm.err(&t("9")), "backend connections argument must be <= 8");
    for c in 1..=8 {
        let b = label(&vm, &t(&c.to_string()));
        // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
        unsafe { assert_eq!((*b).conncount, c) };
    }
    assert_eq!(
        vm.argerr(&t("1.5")),
        "bad argument #-1 to 'backend' (number has no integer representation)"
    );
}

#[test]
fn every_error_string() {
    let _g = serial();
    let vm = Vm::config();
    assert_eq!(
        vm.err("mcp.backend({host='h', port='1'})"),
        "backend must have a label argument"
    );
    assert_eq!(
        vm.err("mcp.backend({label='l', port='1'})"),
        "backend must have a host argument"
    );
    assert_eq!(
        vm.err("mcp.backend({label='l', host='h'})"),
        "backend must have a port argument"
    );
    let t = |o: &str| format!("mcp.backend({{label='a', host='b', port='1', {o}}})");
    assert_eq!(vm.err(&t("failurelimit = -1")), "failurelimit must be >= 0");
    assert_eq!(vm.err(&t("depthlimit = -1")), "depthlimit must be >= 0");
    assert_eq!(vm.err(&t("log = true")), "backend log option must be a table");
    assert_eq!(
        vm.err(&t("log = { deadline = -1 }")),
        "backend log deadline must be >= 0"
    );
    assert_eq!(
        vm.err(&t("log = { rate = -1 }")),
        "backend log sample rate must be >= 0"
    );
    assert_eq!(
        vm.argerr(&t("log = { errors = 1 }")),
        "bad argument #-1 to 'backend' (boolean expected, got number)"
    );
    assert_eq!(
        vm.argerr(&t("log = { tag = {} }")),
        "bad argument #-1 to 'backend' (string expected, got table)"
    );
    assert_eq!(
        vm.argerr("mcp.backend({label={}, host='h', port='1'})"),
        "bad argument #-1 to 'backend' (string expected, got table)"
    );
    // errors are plain strings (proxy_lua_error), no position prefix
    assert_eq!(
        vm.eval("local ok, e = pcall(mcp.backend, {}) return type(e)"),
        "string"
    );
}

#[test]
fn length_limits() {
    let _g = serial();
    let vm = Vm::config();
    // label: up to MAX_LABELLEN-1 = 511 bytes
    let b = label(&vm, "mcp.backend(string.rep('l', 511), 'h', '1')");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*b).llen, 511) };
    assert_eq!(
        vm.err("mcp.backend(string.rep('l', 512), 'h', '1')"),
        "backend label too long"
    );
    // name: up to MAX_NAMELEN-1 = 254
    label(&vm, "mcp.backend('l', string.rep('h', 254), '1')");
    assert_eq!(
        vm.err("mcp.backend('l', string.rep('h', 255), '1')"),
        "backend name too long"
    );
    // port: up to MAX_PORTLEN-1 = 5
    label(&vm, "mcp.backend('l', 'h', '65535')");
    assert_eq!(vm.err("mcp.backend('l', 'h', '123456')"), "backend port too long");
    assert_eq!(vm.err("mcp.backend('l', 'h', 1234567)"), "backend port too long");
    assert_eq!(
        vm.err("mcp.backend({label=string.rep('l', 512), host='h', port='1'})"),
        "backend label too long"
    );
}

#[test]
fn log_defaults() {
    let _g = serial();
    let vm = Vm::config();
    // nothing chosen: rate 1
    let b = label(&vm, "mcp.backend({label='a', host='b', port='1', log = {}})");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        assert!((*b).use_logging);
        assert_eq!(
            ((*b).logging.rate, (*b).logging.deadline, (*b).logging.all_errors),
            (1, 0, false)
        );
        assert!((*b).logging.detail.is_null());
    }
    let b = label(
        &vm,
        "mcp.backend({label='a', host='b', port='1', log = { errors = true }})",
    );
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!(((*b).logging.rate, (*b).logging.all_errors), (0, true)) };
    let b = label(
        &vm,
        "mcp.backend({label='a', host='b', port='1', log = { errors = false }})",
    );
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!(((*b).logging.rate, (*b).logging.all_errors), (1, false)) };
}

#[test]
fn label_gc_frees_detail() {
    let _g = serial();
    let vm = Vm::config();
    // many labels with tags collected: no crash, no leak reported by the
    // sanitizer build; the __gc is the registered one.
    vm.run("for i = 1, 200 do mcp.backend({label='a', host='b', port='1', log = { tag = string.rep('x', i) }}) end")
        .unwrap();
    vm.gc();
    assert_eq!(
        vm.eval("return debug.getregistry()['mcp.backend'].__gc == nil"),
        "false"
    );
}
