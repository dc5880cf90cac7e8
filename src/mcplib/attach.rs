//! `mcp.attach` (proxy_lua.c:1315-1437): route hooks per command, and per
//! listener tag, stored exactly as `proto_proxy.c` reads them.

use core::ffi::c_int;

use crate::ffi::host::*;
use crate::host::thread::{Funcgen, funcgen_dereference, funcgen_reference};
use crate::host::{WorkerVm, sys};
use crate::vm::{LResult, LuaError};

/// proxy_lua.c:1315 `mcplib_attach` (`mcp.attach(cmd, func_or_funcgen [, tag])`).
pub fn mcplib_attach(vm: &mut WorkerVm) -> LResult {
    let t = vm.thread();

    let hook = vm.check_integer(1)? as c_int;
    let (loop_start, loop_end): (c_int, c_int) = if hook as i64 == CMD_ANY {
        // all commands, individually
        (1, CMD_SIZE as c_int)
    } else if hook as i64 == CMD_ANY_STORAGE {
        // only get/set/etc.
        (1, CMD_END_STORAGE as c_int)
    } else {
        // Upstream has no range check and would write outside the hook
        // array; refuse instead.
        if hook < 0 || hook as i64 >= CMD_SIZE {
            return Err(LuaError::Str(c"mcp.attach: invalid command"));
        }
        (hook, hook + 1)
    };

    let fgen = if vm.is_function(2) {
        // wrap a plain function into a function generator
        vm.push_value(2); // function at the top
        vm.call_host(mcplib_funcgenbare_new);
        let f = Funcgen::at(vm, -1)?;
        vm.replace(2); // the generator replaces the function
        vm.pop(1); // drop the extra generator function reference
        f
    } else {
        Funcgen::test(vm, 2).ok_or(LuaError::Str(c"mcp.attach: must pass a function"))?
    };

    if vm.udata_ref::<McpFuncgen>(2)?.closed {
        return Err(LuaError::Str(
            c"mcp.attach: cannot use a previously replaced function",
        ));
    }

    let mut tag: u64 = 0; // listener socket tag
    if vm.is_string(3) {
        let stag = vm.to_bytes(3).unwrap_or(&[]);
        if stag.is_empty() || stag.len() > 8 {
            return Err(LuaError::Str(c"mcp.attach: tag must be 1 to 8 characters"));
        }
        // same packing as listener tags (memcached.c): raw bytes.
        let mut b = [0u8; 8];
        b[..stag.len()].copy_from_slice(stag);
        tag = u64::from_ne_bytes(b);
    }

    for x in loop_start..loop_end {
        if x as i64 == CMD_MN {
            // MN must not be overridden so client pipeline flushes work.
            continue;
        }
        let cmd = x as usize;
        vm.push_value(2); // duplicate the ref.
        let old = t.hook_ref(cmd, tag).map_err(LuaError::Str)?;
        if old.lua_ref != 0 {
            // replacing an existing hook
            vm.registry_unref(old.lua_ref);
            funcgen_dereference(vm, old);
        }
        vm.push_value(-1); // duplicate the funcgen
        funcgen_reference(vm); // (pops the duplicate)
        let r = vm.registry_ref(); // (pops the other one)
        t.set_hook_ref(cmd, tag, r, fgen).map_err(LuaError::Str)?;
        sys::assert_c(r != 0, c"href->lua_ref != 0");
    }
    Ok(0)
}
