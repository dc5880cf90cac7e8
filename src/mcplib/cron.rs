//! Cron, reload and time (proxy_lua.c:136-237).

use core::ffi::c_int;

use crate::ffi::host::*;
use crate::ffi::lua::*;
use crate::host::{ConfigVm, WorkerVm, sys};
use crate::vm::{LResult, LuaError};

/// proxy_lua.c:136 `mcplib_register_cron`
/// (`mcp.register_cron(name, { func =, every =, rerun = })`).
pub fn mcplib_register_cron(vm: &mut ConfigVm) -> LResult {
    let ctx = vm.ctx();
    vm.check_cbytes(1)?; // the name, at 1 (used through lua_tostring, as C)
    vm.check_type(2, LUA_TTABLE)?;

    // one user value for the function. (Upstream addresses the entry as
    // stack index 3, which is only where it is when exactly two arguments
    // were passed: with more, lua_setiuservalue(L, 3, 1) hits an argument,
    // a crash on nil. We use where it really is.)
    let ce = vm.new_udata::<McpCron>(McpCron::C_SIZE, 1, None);
    let ce_idx = ce.index();
    let mut repeat = true; // default repeat.

    if vm.getfield(2, c"func") != LUA_TNIL {
        vm.check_type(-1, LUA_TFUNCTION)?;
        vm.setiuservalue(ce_idx, 1); // pops the function
    } else {
        return Err(LuaError::Str(c"proxy cron entry missing 'func' field"));
    }

    if vm.getfield(2, c"rerun") != LUA_TNIL && !vm.to_boolean(-1) {
        repeat = false;
    }
    vm.pop(1); // value or nil

    if vm.getfield(2, c"every") == LUA_TNIL {
        return Err(LuaError::Str(c"proxy cron entry missing 'every' field"));
    }
    vm.check_type(-1, LUA_TNUMBER)?;
    let every = vm.to_integer(-1) as c_int;
    if every < 1 {
        return Err(LuaError::Str(c"proxy cron entry 'every' must be > 0"));
    }
    let every = every as u32;
    vm.pop(1);

    // schedule the next run
    let (now, _) = sys::clock(libc::CLOCK_REALTIME);
    let mut next = now.wrapping_add(every as i64) as u32;

    // into the cron table; an entry of the same name and the same `every`
    // keeps its schedule.
    vm.rawgeti(LUA_REGISTRYINDEX, ctx.cron_ref() as lua_Integer);
    if vm.getfield_key_at(-1, 1) != LUA_TNIL {
        if let Some((old_every, old_next)) = vm.cron_timing(-1) {
            if every == old_every {
                next = old_next;
            }
        }
    }
    vm.pop(1); // value or nil

    {
        let c = vm.fresh(&ce)?;
        c.repeat = repeat;
        c.gen_ = ctx.config_generation() as u32;
        c.every = every;
        c.next = next;
    }
    vm.push_value(ce_idx); // the cron entry
    vm.setfield_key_at(-2, 1);
    vm.pop(1); // the cron table

    // central cron sleep (int compared with uint32_t, as in C)
    if (ctx.cron_next() as u32) > next {
        ctx.set_cron_next(next as c_int);
    }
    Ok(0)
}

/// proxy_lua.c:217 `mcplib_schedule_config_reload`: `ctx->loading = true`
/// (the config thread holds config_lock).
pub fn mcplib_schedule_config_reload(vm: &mut ConfigVm) -> LResult {
    vm.ctx().set_loading();
    Ok(0)
}

/// proxy_lua.c:223 `mcplib_time_real_millis`.
pub fn mcplib_time_real_millis(vm: &mut WorkerVm) -> LResult {
    vm.push_integer(sys::clock_millis(libc::CLOCK_REALTIME));
    Ok(1)
}

/// proxy_lua.c:231 `mcplib_time_mono_millis`.
pub fn mcplib_time_mono_millis(vm: &mut WorkerVm) -> LResult {
    vm.push_integer(sys::clock_millis(libc::CLOCK_MONOTONIC));
    Ok(1)
}
