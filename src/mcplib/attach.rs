//! `mcp.attach` (proxy_lua.c:1315-1437): route hooks per command, and per
//! listener tag, stored exactly as `proto_proxy.c` reads them.

use core::ffi::{c_int, c_void};
use core::ptr;

use crate::ffi::host::*;
use crate::ffi::lua::*;
use crate::lua::*;
use crate::mcplib::backend::debug_assert_c;

/// proxy_lua.c:1315 `mcplib_attach` (`mcp.attach(cmd, func_or_funcgen [, tag])`).
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_attach(L: *mut lua_State) -> LResult {
    // SAFETY: L is a worker VM (module contract); the hook array
    // (calloc(CMD_SIZE, sizeof(struct proxy_hook))) belongs to this thread.
    unsafe {
        let t = proxy_get_thr(L);

        let hook = luaL_checkinteger(L, 1) as c_int;
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
                return Err(Error::Str(c"mcp.attach: invalid command"));
            }
            (hook, hook + 1)
        };

        let fgen: *mut McpFuncgen;
        if lua_isfunction(L, 2) != 0 {
            // wrap a plain function into a function generator
            lua_pushvalue(L, 2); // function at the top
            mcplib_funcgenbare_new(L);
            fgen = checkudata(L, -1, c"mcp.funcgen");
            lua_replace(L, 2); // the generator replaces the function
            lua_pop(L, 1); // drop the extra generator function reference
        } else {
            fgen = testudata(L, 2, c"mcp.funcgen");
            if fgen.is_null() {
                return Err(Error::Str(c"mcp.attach: must pass a function"));
            }
        }

        if (*fgen).closed {
            return Err(Error::Str(
                c"mcp.attach: cannot use a previously replaced function",
            ));
        }

        let hooks = (*t).proxy_hooks as *mut ProxyHook;
        let mut tag: u64 = 0; // listener socket tag
        if lua_isstring(L, 3) != 0 {
            let stag = tolstring(L, 3).unwrap_or(&[]);
            if stag.is_empty() || stag.len() > 8 {
                return Err(Error::Str(c"mcp.attach: tag must be 1 to 8 characters"));
            }
            // same packing as listener tags (memcached.c): raw bytes.
            ptr::copy_nonoverlapping(stag.as_ptr(), &mut tag as *mut u64 as *mut u8, stag.len());
        }

        for x in loop_start..loop_end {
            if x as i64 == CMD_MN {
                // MN must not be overridden so client pipeline flushes work.
                continue;
            }
            let h = hooks.add(x as usize);
            lua_pushvalue(L, 2); // duplicate the ref.
            let mut href: *mut ProxyHookRef = &mut (*h).ref_;

            if tag != 0 {
                // tagged listener: the extended hook structure.
                let mut pht = (*h).tagged;
                if (*h).tagcount == 0 {
                    pht = libc::calloc(1, ProxyHookTagged::C_SIZE) as *mut ProxyHookTagged;
                    if pht.is_null() {
                        return Err(Error::Str(c"mcp.attach: failure allocating tagged hooks"));
                    }
                    (*h).tagcount = 1;
                    (*h).tagged = pht;
                }

                let mut found = false;
                for _ in 0..(*h).tagcount {
                    if (*pht).tag == tag || (*pht).tag == 0 {
                        found = true;
                        break;
                    }
                    pht = pht.add(1);
                }

                // grow the array to fit the new tag (no sentinel: upstream's
                // reader stops at the first empty entry or tagcount).
                if !found {
                    let n = (*h).tagcount as usize;
                    let temp = libc::realloc((*h).tagged as *mut c_void, ProxyHookTagged::C_SIZE * (n + 1))
                        as *mut ProxyHookTagged;
                    if temp.is_null() {
                        return Err(Error::Str(c"mcp.attach: failure to resize tagged hooks"));
                    }
                    pht = temp.add(n);
                    ptr::write_bytes(pht as *mut u8, 0, ProxyHookTagged::C_SIZE);
                    (*h).tagcount += 1;
                    (*h).tagged = temp;
                }

                href = &mut (*pht).ref_;
                (*pht).tag = tag;
            }

            // now assign our hook reference.
            if (*href).lua_ref != 0 {
                // replacing an existing hook
                luaL_unref(L, LUA_REGISTRYINDEX, (*href).lua_ref);
                mcp_funcgen_dereference(L, (*href).ctx as *mut McpFuncgen);
            }

            lua_pushvalue(L, -1); // duplicate the funcgen
            mcp_funcgen_reference(L);
            (*href).lua_ref = luaL_ref(L, LUA_REGISTRYINDEX);
            (*href).ctx = fgen as *mut c_void;
            debug_assert_c((*href).lua_ref != 0, c"href->lua_ref != 0");
        }
    }
    Ok(0)
}
