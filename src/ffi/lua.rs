//! Lua 5.4 C API: our own declarations of exactly the functions, types and
//! constants this crate uses, and the C macros it needs, as inline functions.
//!
//! Why not `mlua-sys`: it is packaged in no Debian suite (Debian builds Rust
//! only from packaged crates), it needs `std`, and its current version needs
//! rustc 1.88 while Debian 13 ships 1.85. What we use of it is ~60
//! declarations.
//!
//! **Checked at build time.** `build.rs` parses the `extern` blocks, `type`
//! aliases and `const`s of this file (see `build-support/lua_api_check.rs`)
//! and compiles, with the compiler, flags and include path of the memcached
//! binary being linked, a C file that asserts each declaration against the
//! `lua.h`/`lauxlib.h` memcached is built with (memcached's bundled 5.4.3 or
//! Debian's `liblua5.4`): every function's type with
//! `__builtin_types_compatible_p`, every constant's value, every type alias'
//! size, signedness and kind, and `luaL_Reg`'s layout. A declaration that
//! disagrees fails the build naming it (`scripts/checks/test-lua-api-mismatch.sh`
//! proves it). Declarations are kept one per line (`rustfmt::skip`) so they read as a table.
//!
//! Every function is declared `extern "C-unwind"`: with a C-built Lua an
//! error is a `longjmp`, which is not an unwind, so the ABI string changes
//! nothing for memcached's Lua; it matters only for a C++-built Lua, which
//! this library does not support (see README).

#![allow(non_camel_case_types, non_snake_case, clippy::missing_safety_doc)]

use core::ffi::{c_char, c_int, c_void};

/// `lua_State` (opaque).
#[repr(C)]
pub struct lua_State {
    _opaque: [u8; 0],
}

// lua-api: types
pub type lua_Integer = i64;
pub type lua_Unsigned = u64;
pub type lua_Number = f64;
pub type lua_KContext = isize;
pub type lua_CFunction = unsafe extern "C-unwind" fn(L: *mut lua_State) -> c_int;
pub type lua_KFunction =
    unsafe extern "C-unwind" fn(L: *mut lua_State, status: c_int, ctx: lua_KContext) -> c_int;

// lua-api: constants
pub const LUA_OK: c_int = 0;
pub const LUA_ERRRUN: c_int = 2;
pub const LUA_MULTRET: c_int = -1;
pub const LUA_TNONE: c_int = -1;
pub const LUA_TNIL: c_int = 0;
pub const LUA_TBOOLEAN: c_int = 1;
pub const LUA_TLIGHTUSERDATA: c_int = 2;
pub const LUA_TNUMBER: c_int = 3;
pub const LUA_TSTRING: c_int = 4;
pub const LUA_TTABLE: c_int = 5;
pub const LUA_TFUNCTION: c_int = 6;
pub const LUA_TUSERDATA: c_int = 7;
pub const LUA_TTHREAD: c_int = 8;
pub const LUA_REGISTRYINDEX: c_int = -1001000;
pub const LUA_EXTRASPACE: usize = core::mem::size_of::<*mut c_void>();
pub const LUA_NOREF: c_int = -2;
pub const LUA_REFNIL: c_int = -1;
pub const LUA_GCSTOP: c_int = 0;
pub const LUA_GCRESTART: c_int = 1;
pub const LUA_GCISRUNNING: c_int = 9;

/// `luaL_Reg`, with a nullable function as in C: `luaL_setfuncs` turns a
/// NULL function into the placeholder `false` (upstream registers
/// `{"__tostring", NULL}` for `mcp.request`). Layout checked by build.rs.
#[repr(C)]
pub struct luaL_Reg {
    pub name: *const c_char,
    pub func: Option<lua_CFunction>,
}

// SAFETY: only ever built from `'static` C string literals and function
// pointers; never mutated.
unsafe impl Sync for luaL_Reg {}

// lua-api: functions (lua.h)
#[rustfmt::skip]
unsafe extern "C-unwind" {
    pub fn lua_absindex(L: *mut lua_State, idx: c_int) -> c_int;
    pub fn lua_gettop(L: *mut lua_State) -> c_int;
    pub fn lua_settop(L: *mut lua_State, idx: c_int);
    pub fn lua_pushvalue(L: *mut lua_State, idx: c_int);
    pub fn lua_copy(L: *mut lua_State, fromidx: c_int, toidx: c_int);
    pub fn lua_isstring(L: *mut lua_State, idx: c_int) -> c_int;
    pub fn lua_type(L: *mut lua_State, idx: c_int) -> c_int;
    pub fn lua_tointegerx(L: *mut lua_State, idx: c_int, isnum: *mut c_int) -> lua_Integer;
    pub fn lua_tonumberx(L: *mut lua_State, idx: c_int, isnum: *mut c_int) -> lua_Number;
    pub fn lua_toboolean(L: *mut lua_State, idx: c_int) -> c_int;
    pub fn lua_tolstring(L: *mut lua_State, idx: c_int, len: *mut usize) -> *const c_char;
    pub fn lua_rawlen(L: *mut lua_State, idx: c_int) -> lua_Unsigned;
    pub fn lua_touserdata(L: *mut lua_State, idx: c_int) -> *mut c_void;
    pub fn lua_pushinteger(L: *mut lua_State, n: lua_Integer);
    pub fn lua_pushlstring(L: *mut lua_State, s: *const c_char, len: usize) -> *const c_char;
    pub fn lua_pushstring(L: *mut lua_State, s: *const c_char) -> *const c_char;
    pub fn lua_pushfstring(L: *mut lua_State, fmt: *const c_char, ...) -> *const c_char;
    pub fn lua_pushboolean(L: *mut lua_State, b: c_int);
    pub fn lua_gc(L: *mut lua_State, what: c_int, ...) -> c_int;
    pub fn lua_pushlightuserdata(L: *mut lua_State, p: *mut c_void);
    pub fn lua_getglobal(L: *mut lua_State, name: *const c_char) -> c_int;
    pub fn lua_gettable(L: *mut lua_State, idx: c_int) -> c_int;
    pub fn lua_getfield(L: *mut lua_State, idx: c_int, k: *const c_char) -> c_int;
    pub fn lua_geti(L: *mut lua_State, idx: c_int, n: lua_Integer) -> c_int;
    pub fn lua_rawget(L: *mut lua_State, idx: c_int) -> c_int;
    pub fn lua_rawgeti(L: *mut lua_State, idx: c_int, n: lua_Integer) -> c_int;
    pub fn lua_createtable(L: *mut lua_State, narr: c_int, nrec: c_int);
    pub fn lua_newuserdatauv(L: *mut lua_State, sz: usize, nuvalue: c_int) -> *mut c_void;
    pub fn lua_setglobal(L: *mut lua_State, name: *const c_char);
    pub fn lua_settable(L: *mut lua_State, idx: c_int);
    pub fn lua_setfield(L: *mut lua_State, idx: c_int, k: *const c_char);
    pub fn lua_rawset(L: *mut lua_State, idx: c_int);
    pub fn lua_rawseti(L: *mut lua_State, idx: c_int, n: lua_Integer);
    pub fn lua_setmetatable(L: *mut lua_State, objindex: c_int) -> c_int;
    pub fn lua_setiuservalue(L: *mut lua_State, idx: c_int, n: c_int) -> c_int;
    pub fn lua_pcallk(L: *mut lua_State, nargs: c_int, nresults: c_int, errfunc: c_int, ctx: lua_KContext, k: Option<lua_KFunction>) -> c_int;
    pub fn lua_error(L: *mut lua_State) -> !;
    pub fn lua_concat(L: *mut lua_State, n: c_int);
}

// lua-api: functions (lauxlib.h)
#[rustfmt::skip]
unsafe extern "C-unwind" {
    pub fn luaL_newmetatable(L: *mut lua_State, tname: *const c_char) -> c_int;
    pub fn luaL_setmetatable(L: *mut lua_State, tname: *const c_char);
    pub fn luaL_testudata(L: *mut lua_State, ud: c_int, tname: *const c_char) -> *mut c_void;
    pub fn luaL_checkudata(L: *mut lua_State, ud: c_int, tname: *const c_char) -> *mut c_void;
    pub fn luaL_checklstring(L: *mut lua_State, arg: c_int, l: *mut usize) -> *const c_char;
    pub fn luaL_optlstring(L: *mut lua_State, arg: c_int, def: *const c_char, l: *mut usize) -> *const c_char;
    pub fn luaL_checknumber(L: *mut lua_State, arg: c_int) -> lua_Number;
    pub fn luaL_checkinteger(L: *mut lua_State, arg: c_int) -> lua_Integer;
    pub fn luaL_optinteger(L: *mut lua_State, arg: c_int, def: lua_Integer) -> lua_Integer;
    pub fn luaL_checktype(L: *mut lua_State, arg: c_int, t: c_int);
    pub fn luaL_argerror(L: *mut lua_State, arg: c_int, extramsg: *const c_char) -> !;
    pub fn luaL_typeerror(L: *mut lua_State, arg: c_int, tname: *const c_char) -> !;
    pub fn luaL_error(L: *mut lua_State, fmt: *const c_char, ...) -> !;
    pub fn luaL_ref(L: *mut lua_State, t: c_int) -> c_int;
    pub fn luaL_unref(L: *mut lua_State, t: c_int, r: c_int);
    pub fn luaL_len(L: *mut lua_State, idx: c_int) -> lua_Integer;
    pub fn luaL_setfuncs(L: *mut lua_State, l: *const luaL_Reg, nup: c_int);
    pub fn luaL_tolstring(L: *mut lua_State, idx: c_int, len: *mut usize) -> *const c_char;
}

// lua-api: functions (lauxlib.h, lualib.h), used by the crate's own tests.
#[cfg(test)]
unsafe extern "C-unwind" {
    pub fn luaL_newstate() -> *mut lua_State;
    pub fn luaL_openlibs(L: *mut lua_State);
    pub fn luaL_loadstring(L: *mut lua_State, s: *const c_char) -> c_int;
    pub fn lua_close(L: *mut lua_State);
}

// ---- C macros of lua.h / lauxlib.h (their definitions follow the constants
// above, which build.rs checks) ----

/// `lua_upvalueindex(i)`
#[inline(always)]
pub const fn lua_upvalueindex(i: c_int) -> c_int {
    LUA_REGISTRYINDEX - i
}

/// `lua_getextraspace(L)`: the `LUA_EXTRASPACE` bytes before the state.
#[inline(always)]
pub unsafe fn lua_getextraspace(L: *mut lua_State) -> *mut c_void {
    // SAFETY: caller passes a live state; Lua allocates LUA_EXTRASPACE bytes
    // in front of every lua_State (lstate.c, LX).
    unsafe { (L as *mut u8).sub(LUA_EXTRASPACE) as *mut c_void }
}

/// `lua_pop(L, n)`
#[inline(always)]
pub unsafe fn lua_pop(L: *mut lua_State, n: c_int) {
    // SAFETY: caller contract.
    unsafe { lua_settop(L, -n - 1) }
}

/// `lua_newtable(L)`
#[inline(always)]
pub unsafe fn lua_newtable(L: *mut lua_State) {
    // SAFETY: caller contract.
    unsafe { lua_createtable(L, 0, 0) }
}

/// `lua_pcall(L, n, r, f)`
#[inline(always)]
pub unsafe fn lua_pcall(L: *mut lua_State, nargs: c_int, nresults: c_int, errfunc: c_int) -> c_int {
    // SAFETY: caller contract.
    unsafe { lua_pcallk(L, nargs, nresults, errfunc, 0, None) }
}

/// `lua_tointeger(L, i)`
#[inline(always)]
pub unsafe fn lua_tointeger(L: *mut lua_State, idx: c_int) -> lua_Integer {
    // SAFETY: caller contract.
    unsafe { lua_tointegerx(L, idx, core::ptr::null_mut()) }
}

/// `lua_tostring(L, i)`
#[inline(always)]
pub unsafe fn lua_tostring(L: *mut lua_State, idx: c_int) -> *const c_char {
    // SAFETY: caller contract.
    unsafe { lua_tolstring(L, idx, core::ptr::null_mut()) }
}

/// `lua_isnil(L, n)`
#[inline(always)]
pub unsafe fn lua_isnil(L: *mut lua_State, idx: c_int) -> c_int {
    // SAFETY: caller contract.
    (unsafe { lua_type(L, idx) } == LUA_TNIL) as c_int
}

/// `lua_istable(L, n)`
#[inline(always)]
pub unsafe fn lua_istable(L: *mut lua_State, idx: c_int) -> c_int {
    // SAFETY: caller contract.
    (unsafe { lua_type(L, idx) } == LUA_TTABLE) as c_int
}

/// `lua_isfunction(L, n)`
#[inline(always)]
pub unsafe fn lua_isfunction(L: *mut lua_State, idx: c_int) -> c_int {
    // SAFETY: caller contract.
    (unsafe { lua_type(L, idx) } == LUA_TFUNCTION) as c_int
}

/// `lua_replace(L, idx)`
#[inline(always)]
pub unsafe fn lua_replace(L: *mut lua_State, idx: c_int) {
    // SAFETY: caller contract.
    unsafe {
        lua_copy(L, -1, idx);
        lua_pop(L, 1);
    }
}

/// `luaL_checkstring(L, n)`
#[inline(always)]
pub unsafe fn luaL_checkstring(L: *mut lua_State, arg: c_int) -> *const c_char {
    // SAFETY: caller contract.
    unsafe { luaL_checklstring(L, arg, core::ptr::null_mut()) }
}

/// `luaL_getmetatable(L, n)`
#[inline(always)]
pub unsafe fn luaL_getmetatable(L: *mut lua_State, tname: *const c_char) -> c_int {
    // SAFETY: caller contract.
    unsafe { lua_getfield(L, LUA_REGISTRYINDEX, tname) }
}

/// `luaL_newlibtable(L, l)`: a table pre-sized for the entries of `l`
/// (upstream passes the array, whose size counts the sentinel).
#[inline(always)]
pub unsafe fn lual_newlibtable(L: *mut lua_State, l: &[luaL_Reg]) {
    // SAFETY: caller contract; lua_createtable only pushes a table.
    unsafe { lua_createtable(L, 0, (l.len() - 1) as c_int) }
}

/// Old name of [`luaL_Reg`] kept for the registration tables.
pub type LuaReg = luaL_Reg;

/// `luaL_setfuncs` with our nullable-entry `luaL_Reg`.
#[inline(always)]
pub unsafe fn luaL_setfuncs_nullable(L: *mut lua_State, l: *const luaL_Reg, nup: c_int) {
    // SAFETY: caller contract.
    unsafe { luaL_setfuncs(L, l, nup) }
}
