//! Lua-stack helpers above the raw FFI.
//!
//! # Errors and `longjmp`
//! memcached's Lua is C: `lua_error` (and every `luaL_check*` that fails)
//! `longjmp`s over our frames. Jumping over a frame that still owns a value
//! with a destructor skips the destructor, so the rule in this crate is:
//!
//! - a `lua_CFunction` body returns [`LResult`] and keeps only `Copy` data
//!   (raw pointers, integers, `&'static CStr`) alive while it calls the Lua
//!   API; [`Error`] itself is `Copy`;
//! - the only places that raise are [`raise`] and the `luaL_check*` calls of
//!   the bodies, all in frames with nothing to drop;
//! - [`cfunction`] is the thin wrapper every exported `lua_CFunction` goes
//!   through: it runs the body and raises its error afterwards.
//!
//! # Pointer vocabulary
//! `L` is always a live `lua_State` owned by the calling proxy thread.
//! Userdata pointers come from `luaL_checkudata`/`lua_newuserdatauv` and live
//! at least as long as the value is on the stack or referenced.

use core::ffi::{CStr, c_char, c_int};

use crate::ffi::host::{LibeventThread, ProxyCtx, proxy_lua_error};
use crate::ffi::lua::*;

/// Why a `lua_CFunction` body failed; raised by [`cfunction`].
#[derive(Clone, Copy, Debug)]
pub enum Error {
    /// Raise this string through memcached's `proxy_lua_error` (upstream's
    /// path for every fixed message): a plain string error value.
    Str(&'static CStr),
    /// The error value is already on top of the stack (for example pushed by
    /// `lua_pushfstring`, or returned by a failed `lua_pcall`).
    Pushed,
}

pub type LResult<T = c_int> = Result<T, Error>;

/// Run a `lua_CFunction` body and raise its error, if any.
///
/// # Safety
/// `L` is a live Lua state; `body` follows the module's no-drop rule.
#[inline(always)]
pub unsafe fn cfunction(L: *mut lua_State, body: unsafe fn(*mut lua_State) -> LResult) -> c_int {
    // SAFETY: forwarded caller contract.
    let r = unsafe { body(L) };
    match r {
        Ok(n) => n,
        // SAFETY: nothing with a destructor is alive in this frame.
        Err(e) => unsafe { raise(L, e) },
    }
}

/// Raise `e` as a Lua error. Never returns.
///
/// # Safety
/// `L` is a live Lua state and no frame between here and the Lua call owns
/// a value with a destructor.
pub unsafe fn raise(L: *mut lua_State, e: Error) -> ! {
    match e {
        // SAFETY: caller contract; the string is 'static and NUL-terminated.
        Error::Str(s) => unsafe { proxy_lua_error(L, s.as_ptr()) },
        // SAFETY: caller contract; the error value is on the stack.
        Error::Pushed => unsafe { lua_error(L) },
    }
}

/// `PROXY_GET_CTX(L)`: the config VM's context pointer from the extra space.
///
/// # Safety
/// `L` is a live state (or thread of one) set up by `proxy_register_libs`.
#[inline(always)]
pub unsafe fn proxy_get_ctx(L: *mut lua_State) -> *mut ProxyCtx {
    // SAFETY: LUA_EXTRASPACE is one pointer (checked by the layout probe) and
    // proxy_register_libs stored the context there before any thread exists.
    unsafe { *(lua_getextraspace(L) as *mut *mut ProxyCtx) }
}

/// `PROXY_GET_THR(L)`: the worker thread pointer from the extra space.
///
/// # Safety
/// As [`proxy_get_ctx`], for a worker VM.
#[inline(always)]
pub unsafe fn proxy_get_thr(L: *mut lua_State) -> *mut LibeventThread {
    // SAFETY: as in proxy_get_ctx.
    unsafe { *(lua_getextraspace(L) as *mut *mut LibeventThread) }
}

/// `lua_getfield` with a C string literal; returns the value's type.
///
/// # Safety
/// `L` live, `idx` valid. Uses 1 stack slot. May raise (metamethods).
#[inline(always)]
pub unsafe fn getfield(L: *mut lua_State, idx: c_int, k: &CStr) -> c_int {
    // SAFETY: caller contract.
    unsafe { lua_getfield(L, idx, k.as_ptr()) }
}

/// `lua_setfield` with a C string literal.
///
/// # Safety
/// `L` live, `idx` valid, a value on top. May raise.
#[inline(always)]
pub unsafe fn setfield(L: *mut lua_State, idx: c_int, k: &CStr) {
    // SAFETY: caller contract.
    unsafe { lua_setfield(L, idx, k.as_ptr()) }
}

/// `luaL_checkudata` with a C string literal, typed.
///
/// # Safety
/// `L` live; `T` is the C type of userdata with metatable `tname`.
/// Raises the standard argument error on mismatch.
#[inline(always)]
pub unsafe fn checkudata<T>(L: *mut lua_State, idx: c_int, tname: &CStr) -> *mut T {
    // SAFETY: caller contract.
    unsafe { luaL_checkudata(L, idx, tname.as_ptr()) as *mut T }
}

/// `luaL_testudata` with a C string literal, typed (NULL when not a match).
///
/// # Safety
/// As [`checkudata`]; never raises for a type mismatch.
#[inline(always)]
pub unsafe fn testudata<T>(L: *mut lua_State, idx: c_int, tname: &CStr) -> *mut T {
    // SAFETY: caller contract.
    unsafe { luaL_testudata(L, idx, tname.as_ptr()) as *mut T }
}

/// `luaL_checklstring` returning the bytes (borrowed from the Lua string,
/// valid while the value stays on the stack).
///
/// # Safety
/// `L` live; the returned slice must not outlive the stack value.
#[inline(always)]
pub unsafe fn checklstring<'a>(L: *mut lua_State, idx: c_int) -> &'a [u8] {
    let mut len = 0usize;
    // SAFETY: caller contract; Lua returns a pointer to `len` bytes (plus NUL).
    unsafe {
        let p = luaL_checklstring(L, idx, &mut len);
        core::slice::from_raw_parts(p as *const u8, len)
    }
}

/// `lua_tolstring` returning the bytes, or `None` if not a string/number.
///
/// # Safety
/// As [`checklstring`].
#[inline(always)]
pub unsafe fn tolstring<'a>(L: *mut lua_State, idx: c_int) -> Option<&'a [u8]> {
    let mut len = 0usize;
    // SAFETY: caller contract.
    unsafe {
        let p = lua_tolstring(L, idx, &mut len);
        if p.is_null() {
            None
        } else {
            Some(core::slice::from_raw_parts(p as *const u8, len))
        }
    }
}

/// Push a byte string.
///
/// # Safety
/// `L` live with a free slot. May raise on OOM.
#[inline(always)]
pub unsafe fn pushbytes(L: *mut lua_State, b: &[u8]) {
    // SAFETY: caller contract; Lua copies the bytes.
    unsafe {
        lua_pushlstring(L, b.as_ptr() as *const c_char, b.len());
    }
}

/// Raw pointer to a userdata block.
///
/// # Safety
/// `L` live, `idx` valid.
#[inline(always)]
pub unsafe fn touserdata<T>(L: *mut lua_State, idx: c_int) -> *mut T {
    // SAFETY: caller contract.
    unsafe { lua_touserdata(L, idx) as *mut T }
}

/// `lua_newuserdatauv` typed, zeroed (`memset(p, 0, size)` as upstream).
///
/// # Safety
/// `L` live; `size >= size_of::<T>()`. May raise on OOM.
#[inline(always)]
pub unsafe fn newuserdata_zeroed<T>(L: *mut lua_State, size: usize, nuv: c_int) -> *mut T {
    // SAFETY: caller contract; Lua returns `size` writable bytes aligned for
    // any C object (LUAI_MAXALIGN).
    unsafe {
        let p = lua_newuserdatauv(L, size, nuv);
        core::ptr::write_bytes(p as *mut u8, 0, size);
        p as *mut T
    }
}
