//! mcp.register_cron, mcp.schedule_config_reload, mcp.time_*_millis
//! (proxy_lua.c:136-237).

use super::*;

fn cron(vm: &Vm, name: &str) -> *mut McpCron {
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    vm.run(&format!("C = debug.getregistry()[{}]['{name}']", unsafe {
        (*vm.ctx).cron_ref
    }))
    .unwrap();
    vm.ud::<McpCron>("C")
}

fn now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

#[test]
fn register_and_schedule() {
    let _g = serial();
    let vm = Vm::config();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { (*vm.ctx).config_generation = 7 };
    let t0 = now();
    vm.run("mcp.register_cron('a', { every = 10, func = function() end })")
        .unwrap();
    let a = cron(&vm, "a");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        assert_eq!((*a).every, 10);
        assert!((*a).repeat);
        assert_eq!((*a).gen_, 7);
        assert!((*a).next >= t0 + 10 && (*a).next <= now() + 10);
        assert_eq!((*vm.ctx).cron_next as u32, (*a).next);
    }
    // the function is the entry's user value
    assert_eq!(vm.eval("return type(debug.getuservalue(C, 1))"), "function");
    // a shorter cron moves the central wake-up earlier; a longer one does not
    vm.run("mcp.register_cron('b', { every = 5, func = function() end, rerun = false })")
        .unwrap();
    let b = cron(&vm, "b");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        assert!(!(*b).repeat);
        assert_eq!((*vm.ctx).cron_next as u32, (*b).next);
    }
    vm.run("mcp.register_cron('c', { every = 100, func = function() end, rerun = true })")
        .unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).cron_next as u32, (*b).next) };
    // re-registering with the same `every` keeps the old schedule
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { (*a).next = 12345 };
    vm.run("mcp.register_cron('a', { every = 10, func = function() end })")
        .unwrap();
    let a2 = cron(&vm, "a");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*a2).next, 12345) };
    // a different `every` reschedules
    vm.run("mcp.register_cron('a', { every = 11, func = function() end })")
        .unwrap();
    let a3 = cron(&vm, "a");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert!((*a3).next >= t0 + 11) };
}

#[test]
fn every_error_string() {
    let _g = serial();
    let vm = Vm::config();
    assert_eq!(
        vm.err("mcp.register_cron('a', { every = 1 })"),
        "proxy cron entry missing 'func' field"
    );
    assert_eq!(
        vm.err("mcp.register_cron('a', { func = function() end })"),
        "proxy cron entry missing 'every' field"
    );
    assert_eq!(
        vm.err("mcp.register_cron('a', { func = function() end, every = 0 })"),
        "proxy cron entry 'every' must be > 0"
    );
    assert_eq!(
        vm.err("mcp.register_cron('a', { func = function() end, every = 1.5 })"),
        "proxy cron entry 'every' must be > 0"
    );
    assert_eq!(
        vm.argerr("mcp.register_cron('a', { func = function() end, every = '5' })"),
        "bad argument #-1 to 'register_cron' (number expected, got string)"
    );
    assert_eq!(
        vm.argerr("mcp.register_cron('a', { func = 5, every = 5 })"),
        "bad argument #-1 to 'register_cron' (function expected, got number)"
    );
    assert_eq!(
        vm.argerr("mcp.register_cron('a', 5)"),
        "bad argument #2 to 'register_cron' (table expected, got number)"
    );
    assert_eq!(
        vm.argerr("mcp.register_cron({}, {})"),
        "bad argument #1 to 'register_cron' (string expected, got table)"
    );
}

#[test]
fn schedule_config_reload() {
    let _g = serial();
    let vm = Vm::config();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert!(!(*vm.ctx).loading) };
    vm.run("mcp.schedule_config_reload()").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert!((*vm.ctx).loading) };
}

#[test]
fn time_functions() {
    let _g = serial();
    let vm = Vm::worker(0);
    let real: i64 = vm.eval("return mcp.time_real_millis()").parse().unwrap();
    let sys = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!((real - sys).abs() < 5000, "{real} vs {sys}");
    assert_eq!(vm.eval("return math.type(mcp.time_mono_millis())"), "integer");
    assert_eq!(
        vm.eval("local a = mcp.time_mono_millis() local b = mcp.time_mono_millis() return b >= a"),
        "true"
    );
    // config VM: not registered
    let c = Vm::config();
    assert_eq!(
        c.eval("return tostring(mcp.time_real_millis) .. tostring(mcp.time_mono_millis)"),
        "nilnil"
    );
}
