//! proxy_lua.c port: stats.

#![allow(unused_imports)]

use core::ffi::c_int;

use crate::ffi::lua::lua_State;
use crate::lua::{Error, LResult};

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_server_stats(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_server_stats: not yet ported to proxy-lua-rs"))
}
