//! proxy_lua.c port: pool.

#![allow(unused_imports)]

use core::ffi::c_int;

use crate::ffi::lua::lua_State;
use crate::lua::{Error, LResult};

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_pool_gc(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_pool_gc: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_pool(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_pool: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_pool_proxy_gc(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_pool_proxy_gc: not yet ported to proxy-lua-rs"))
}

/// Not yet ported: no pool can exist yet, so this is unreachable.
pub unsafe fn mcplib_pool_proxy_call_helper(
    _pp: *mut crate::ffi::host::McpPoolProxy,
    _key: *const core::ffi::c_char,
    _len: usize,
) -> *mut crate::ffi::host::McpBackend {
    core::ptr::null_mut()
}
