//! proxy_lua.c port: tunables.

#![allow(unused_imports)]

use core::ffi::c_int;

use crate::ffi::lua::lua_State;
use crate::lua::{Error, LResult};

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_backend_use_iothread(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_backend_use_iothread: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_backend_use_tls(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_backend_use_tls: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_init_tls(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_init_tls: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_tcp_keepalive(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_tcp_keepalive: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_backend_failure_limit(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_backend_failure_limit: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_backend_depth_limit(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_backend_depth_limit: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_backend_connect_timeout(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_backend_connect_timeout: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_backend_retry_waittime(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_backend_retry_waittime: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_backend_retry_timeout(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_backend_retry_timeout: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_backend_read_timeout(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_backend_read_timeout: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_backend_flap_time(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_backend_flap_time: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_backend_flap_backoff_ramp(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_backend_flap_backoff_ramp: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_backend_flap_backoff_max(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_backend_flap_backoff_max: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_luagc_ratio(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_luagc_ratio: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_stat_limit(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_stat_limit: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_active_req_limit(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_active_req_limit: not yet ported to proxy-lua-rs"))
}

/// Not yet ported (tracked by the port issues): raises an error naming itself.
pub unsafe fn mcplib_buffer_memory_limit(_L: *mut lua_State) -> LResult {
    Err(Error::Str(c"mcplib_buffer_memory_limit: not yet ported to proxy-lua-rs"))
}
