//! proxy_lua.c port: backend.

#![allow(unused_imports)]

use core::ffi::c_int;

use crate::ffi::lua::lua_State;
use crate::lua::{Error, LResult};

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_backend_wrap_gc(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_backend_wrap_gc: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_backend_gc(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_backend_gc: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_backend(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_backend: not yet ported to proxy-lua-rs"))
}
