//! Lua 5.4 C API.
//!
//! Every function is declared `extern "C-unwind"` (as mlua-sys does): with a
//! C-built Lua an error is a `longjmp`, which is not an unwind, so the ABI
//! string changes nothing for memcached's Lua; it only matters for a C++-built
//! Lua, which this library does not support (see README).

pub use mlua_sys::{
    LUA_OK, LUA_REGISTRYINDEX, LUA_TBOOLEAN, LUA_TFUNCTION, LUA_TLIGHTUSERDATA, LUA_TNIL, LUA_TNUMBER,
    LUA_TSTRING, LUA_TTABLE, LUA_TUSERDATA, lua_CFunction, lua_Integer, lua_Number, lua_State, lua_absindex,
    lua_concat, lua_createtable, lua_error, lua_getextraspace, lua_getfield, lua_getglobal, lua_geti,
    lua_gettable, lua_gettop, lua_isfunction, lua_isnil, lua_isstring, lua_istable, lua_newtable,
    lua_newuserdatauv, lua_pcall, lua_pop, lua_pushboolean, lua_pushfstring, lua_pushinteger,
    lua_pushlightuserdata, lua_pushlstring, lua_pushstring, lua_pushvalue, lua_rawget, lua_rawgeti,
    lua_rawlen, lua_rawset, lua_rawseti, lua_replace, lua_setfield, lua_setglobal, lua_setiuservalue,
    lua_setmetatable, lua_settable, lua_settop, lua_toboolean, lua_tointeger, lua_tointegerx, lua_tolstring,
    lua_tostring, lua_touserdata, lua_type, lua_upvalueindex, luaL_checkinteger, luaL_checklstring,
    luaL_checknumber, luaL_checkstring, luaL_checktype, luaL_checkudata, luaL_getmetatable, luaL_len,
    luaL_newmetatable, luaL_optinteger, luaL_optlstring, luaL_ref, luaL_setmetatable, luaL_testudata,
    luaL_unref,
};

use core::ffi::{c_char, c_int};

/// `luaL_Reg` with a nullable function, as in C: `luaL_setfuncs` turns a
/// NULL function into the placeholder `false` (upstream registers
/// `{"__tostring", NULL}` for `mcp.request`).
#[repr(C)]
pub struct LuaReg {
    pub name: *const c_char,
    pub func: Option<lua_CFunction>,
}

// SAFETY: only ever built from `'static` C string literals and function
// pointers; never mutated.
unsafe impl Sync for LuaReg {}

unsafe extern "C-unwind" {
    /// `luaL_setfuncs` declared with our nullable-entry `LuaReg`.
    #[link_name = "luaL_setfuncs"]
    pub fn luaL_setfuncs_nullable(L: *mut lua_State, l: *const LuaReg, nup: c_int);
}

/// C macro `luaL_newlibtable(L, l)`: a table pre-sized for the entries of
/// `l` (upstream passes the array, whose size counts the sentinel).
///
/// # Safety
/// `L` is a live Lua state with one free stack slot.
pub unsafe fn lual_newlibtable(L: *mut lua_State, l: &[LuaReg]) {
    // SAFETY: caller guarantees L; lua_createtable only pushes a table.
    unsafe { lua_createtable(L, 0, (l.len() - 1) as c_int) }
}
