//! proxy_lua.c port: cron.

#![allow(unused_imports)]

use core::ffi::c_int;

use crate::ffi::lua::lua_State;
use crate::lua::{Error, LResult};

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_register_cron(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_register_cron: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_schedule_config_reload(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_schedule_config_reload: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_time_real_millis(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_time_real_millis: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_time_mono_millis(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_time_mono_millis: not yet ported to proxy-lua-rs"))
}
