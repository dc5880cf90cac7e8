//! mcp.attach: hooks per command and per tag (proxy_lua.c:1315-1437).

use super::*;
use core::ptr;

unsafe fn hook(t: *mut LibeventThread, cmd: usize) -> *mut ProxyHook {
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { ((*t).proxy_hooks as *mut ProxyHook).add(cmd) }
}

#[test]
fn hooks_per_command() {
    let _g = serial();
    let vm = Vm::worker(0);
    let t = vm.thread;
    vm.run("mcp.attach(mcp.CMD_GET, function(r) end)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        assert_ne!((*hook(t, 7)).ref_.lua_ref, 0);
        assert!(!(*hook(t, 7)).ref_.ctx.is_null());
        assert_eq!((*hook(t, 9)).ref_.lua_ref, 0);
    }
    // the stored reference is the funcgen the plain function was wrapped in
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        let r = (*hook(t, 7)).ref_.lua_ref;
        lua_rawgeti(vm.L, LUA_REGISTRYINDEX, r as lua_Integer);
        assert_eq!(lua_touserdata(vm.L, -1), (*hook(t, 7)).ref_.ctx);
        lua_pop(vm.L, 1);
    }
    // CMD_ANY_STORAGE: 1..20 except MN (4)
    vm.run("mcp.attach(mcp.CMD_ANY_STORAGE, function(r) end)")
        .unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        for c in 1..21 {
            assert_eq!((*hook(t, c)).ref_.lua_ref != 0, c != 4, "cmd {c}");
        }
        assert_eq!((*hook(t, 22)).ref_.lua_ref, 0);
    }
    // CMD_ANY: 1..34 except MN
    vm.run("mcp.attach(mcp.CMD_ANY, function(r) end)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        for c in 1..35 {
            assert_eq!((*hook(t, c)).ref_.lua_ref != 0, c != 4, "cmd {c}");
        }
    }
    // attaching MN does nothing
    vm.run("mcp.attach(mcp.CMD_MN, function(r) end)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*hook(t, 4)).ref_.lua_ref, 0) };
    // the stack stays balanced even for CMD_ANY
    assert_eq!(
        vm.eval("return select('#', mcp.attach(mcp.CMD_ANY, function() end))"),
        "0"
    );
}

#[test]
fn replacing_a_hook_dereferences_the_old_one() {
    let _g = serial();
    let vm = Vm::worker(0);
    let t = vm.thread;
    vm.run("F1 = mcp.funcgen_new() mcp.attach(mcp.CMD_SET, F1)")
        .unwrap();
    let f1 = vm.ud::<McpFuncgen>("F1");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*hook(t, 9)).ref_.ctx, f1 as *mut c_void) };
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    let before = unsafe { ts::mcp_test_funcgen_derefs };
    vm.run("F2 = mcp.funcgen_new() mcp.attach(mcp.CMD_SET, F2)")
        .unwrap();
    let f2 = vm.ud::<McpFuncgen>("F2");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        assert_eq!({ ts::mcp_test_funcgen_derefs }, before + 1);
        assert_eq!((*hook(t, 9)).ref_.ctx, f2 as *mut c_void);
        assert!((*f1).closed, "the replaced funcgen is closed (refcount 0)");
    }
    assert_eq!(
        vm.err("mcp.attach(mcp.CMD_GET, F1)"),
        "mcp.attach: cannot use a previously replaced function"
    );
}

#[test]
fn tagged_hooks() {
    let _g = serial();
    let vm = Vm::worker(0);
    let t = vm.thread;
    let tag = |s: &str| {
        let mut v = 0u64;
        // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
        unsafe { ptr::copy_nonoverlapping(s.as_ptr(), &mut v as *mut u64 as *mut u8, s.len()) };
        v
    };
    vm.run("mcp.attach(mcp.CMD_GET, function() end, 'a')").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        let h = hook(t, 7);
        assert_eq!(
            (*h).ref_.lua_ref,
            0,
            "a tagged hook does not set the untagged one"
        );
        assert_eq!((*h).tagcount, 1);
        assert_eq!((*(*h).tagged).tag, tag("a"));
        assert_ne!((*(*h).tagged).ref_.lua_ref, 0);
    }
    vm.run("mcp.attach(mcp.CMD_GET, function() end, 'bbbbbbbb')")
        .unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        let h = hook(t, 7);
        assert_eq!((*h).tagcount, 2);
        assert_eq!((*(*h).tagged.add(1)).tag, tag("bbbbbbbb"));
    }
    // same tag again: replaced in place
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    let before = unsafe { ts::mcp_test_funcgen_derefs };
    vm.run("mcp.attach(mcp.CMD_GET, function() end, 'a')").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        assert_eq!((*hook(t, 7)).tagcount, 2);
        assert_eq!({ ts::mcp_test_funcgen_derefs }, before + 1);
    }
    // numbers are strings for the tag (lua_isstring)
    vm.run("mcp.attach(mcp.CMD_SET, function() end, 42)").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*(*hook(t, 9)).tagged).tag, tag("42")) };
}

#[test]
fn every_error_string() {
    let _g = serial();
    let vm = Vm::worker(0);
    assert_eq!(
        vm.err("mcp.attach(mcp.CMD_GET, 5)"),
        "mcp.attach: must pass a function"
    );
    assert_eq!(
        vm.err("mcp.attach(mcp.CMD_GET, {})"),
        "mcp.attach: must pass a function"
    );
    assert_eq!(
        vm.err("mcp.attach(mcp.CMD_GET, function() end, '')"),
        "mcp.attach: tag must be 1 to 8 characters"
    );
    assert_eq!(
        vm.err("mcp.attach(mcp.CMD_GET, function() end, '123456789')"),
        "mcp.attach: tag must be 1 to 8 characters"
    );
    assert_eq!(
        vm.argerr("mcp.attach('x', function() end)"),
        "bad argument #1 to 'attach' (number expected, got string)"
    );
    // out-of-range commands would write outside the hook array upstream
    assert_eq!(
        vm.err("mcp.attach(35, function() end)"),
        "mcp.attach: invalid command"
    );
    assert_eq!(
        vm.err("mcp.attach(-1, function() end)"),
        "mcp.attach: invalid command"
    );
    assert_eq!(
        vm.err("mcp.attach(1000, function() end)"),
        "mcp.attach: invalid command"
    );
    vm.run("mcp.attach(0, function() end)").unwrap(); // CMD_BASE: inside the array
}
