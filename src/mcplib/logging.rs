//! proxy_lua.c port: logging.

#![allow(unused_imports)]

use core::ffi::c_int;

use crate::ffi::lua::lua_State;
use crate::lua::{Error, LResult};

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_ct_log(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_ct_log: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_log(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_log: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_log_req(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_log_req: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_log_reqsample(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_log_reqsample: not yet ported to proxy-lua-rs"))
}

/// Not yet ported: no backend with logging can exist yet.
pub unsafe fn mcplib_rqu_log(
    _rq: *mut crate::ffi::host::McpRequest,
    _rs: *mut crate::ffi::host::McpResp,
    _flag: c_int,
    _cfd: c_int,
) {
}
