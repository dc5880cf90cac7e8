//! Cron, reload and time (proxy_lua.c:136-237).

use core::ffi::c_int;

use crate::ffi::host::*;
use crate::ffi::lua::*;
use crate::lua::*;

/// proxy_lua.c:136 `mcplib_register_cron`
/// (`mcp.register_cron(name, { func =, every =, rerun = })`).
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_register_cron(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM, run with config_lock held (module
    // contract), so ctx's cron fields may be touched without stats_lock.
    unsafe {
        let ctx = proxy_get_ctx(L);
        let name = luaL_checkstring(L, 1);
        luaL_checktype(L, 2, LUA_TTABLE);

        // one user value for the function.
        let ce: *mut McpCron = newuserdata_zeroed(L, McpCron::C_SIZE, 1);
        (*ce).repeat = true; // default repeat.
        (*ce).gen_ = (*ctx).config_generation as u32;

        if getfield(L, 2, c"func") != LUA_TNIL {
            luaL_checktype(L, -1, LUA_TFUNCTION);
            lua_setiuservalue(L, 3, 1); // pops the function
        } else {
            return Err(Error::Str(c"proxy cron entry missing 'func' field"));
        }

        if getfield(L, 2, c"rerun") != LUA_TNIL && lua_toboolean(L, -1) == 0 {
            (*ce).repeat = false;
        }
        lua_pop(L, 1); // value or nil

        if getfield(L, 2, c"every") != LUA_TNIL {
            luaL_checktype(L, -1, LUA_TNUMBER);
            let every = lua_tointeger(L, -1) as c_int;
            if every < 1 {
                return Err(Error::Str(c"proxy cron entry 'every' must be > 0"));
            }
            (*ce).every = every as u32;
        } else {
            return Err(Error::Str(c"proxy cron entry missing 'every' field"));
        }
        lua_pop(L, 1);

        // schedule the next run
        let mut now: libc::timespec = core::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_REALTIME, &mut now);
        (*ce).next = (now.tv_sec as i64).wrapping_add((*ce).every as i64) as u32;

        // into the cron table; an entry of the same name and the same
        // `every` keeps its schedule.
        lua_rawgeti(L, LUA_REGISTRYINDEX, (*ctx).cron_ref as lua_Integer);
        if lua_getfield(L, -1, name) != LUA_TNIL {
            let oldce: *mut McpCron = touserdata(L, -1);
            if (*ce).every == (*oldce).every {
                (*ce).next = (*oldce).next;
            }
        }
        lua_pop(L, 1); // value or nil

        lua_pushvalue(L, 3); // the cron entry
        lua_setfield(L, -2, name);
        lua_pop(L, 1); // the cron table

        // central cron sleep (int compared with uint32_t, as in C)
        if ((*ctx).cron_next as u32) > (*ce).next {
            (*ctx).cron_next = (*ce).next as c_int;
        }
    }
    Ok(0)
}

/// proxy_lua.c:217 `mcplib_schedule_config_reload`: `ctx->loading = true`
/// (the config thread holds config_lock).
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_schedule_config_reload(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM, config_lock held.
    unsafe { (*proxy_get_ctx(L)).loading = true };
    Ok(0)
}

fn millis(clock: libc::clockid_t) -> lua_Integer {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the local timespec.
    unsafe { libc::clock_gettime(clock, &mut now) };
    now.tv_nsec as lua_Integer / 1_000_000 + now.tv_sec as lua_Integer * 1000
}

/// proxy_lua.c:223 `mcplib_time_real_millis`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_time_real_millis(L: *mut lua_State) -> LResult {
    // SAFETY: L live with a free slot.
    unsafe { lua_pushinteger(L, millis(libc::CLOCK_REALTIME)) };
    Ok(1)
}

/// proxy_lua.c:231 `mcplib_time_mono_millis`.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_time_mono_millis(L: *mut lua_State) -> LResult {
    // SAFETY: L live with a free slot.
    unsafe { lua_pushinteger(L, millis(libc::CLOCK_MONOTONIC)) };
    Ok(1)
}
