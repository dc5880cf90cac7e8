//! The safe Lua-state handle.
//!
//! A [`Vm`] is made once per call, by the exported `lua_CFunction` that Lua
//! called (`Vm::from_raw`, the one `unsafe` step), and handed to the
//! behaviour in `crate::mcplib` as `&mut Vm`. Every method is safe:
//!
//! - **Stack access** mirrors the Lua C API one to one (same names without
//!   the `lua_` prefix), so the behaviour reads like the C it replaces.
//! - **Nothing here raises.** Argument checks (`check_*`, `opt_*`,
//!   `check_udata`) return `Err(LuaError::Check(..))` instead of calling
//!   `luaL_check*`; the export then repeats the same `luaL_check*` call on
//!   the unchanged stack, which raises Lua's own message byte for byte
//!   (`bad argument #1 to 'backend' (string expected, got nil)`). Only
//!   [`LuaError::raise`] raises, and only the exports call it. (Any Lua call
//!   may still raise an out-of-memory error in place; that is sound because
//!   no frame of this crate holds a value with a destructor, see
//!   docs/design.md.)
//! - **Borrowed strings.** `check_bytes`/`to_bytes` return slices into Lua's
//!   string objects, borrowed from `&self`. Lua never moves a string's bytes
//!   and never collects a string that sits on the stack, so the slice is
//!   valid while the value stays on the stack; every method that can remove
//!   a value from the stack (`pop`, `settop`, `set*`, `rawset*`, `concat`,
//!   `replace`, `pcall`, ...) takes `&mut self`, so the borrow checker ends
//!   every slice before its value can go.
//! - **Typed userdata.** [`Userdata`] ties a memcached struct mirror to its
//!   metatable name; `check_udata`/`udata_mut` hand out `&mut T` only after
//!   `luaL_testudata` confirmed that metatable, and only borrowed from
//!   `&mut self` (one at a time, re-fetched after every Lua call). A
//!   [`Fresh`] handle (from `new_udata` or `hold`) re-fetches it by address
//!   instead of by metatable name, which is what keeps config loading as
//!   cheap as upstream's single `luaL_checkudata` per object.

use core::ffi::{CStr, c_char, c_int, c_void};
use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::ffi::host::proxy_lua_error;
use crate::ffi::lua::*;

/// What went wrong in a `lua_CFunction` body: enough for the export to
/// raise exactly the error upstream raises. `Copy`, with no destructor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LuaError {
    /// Raise this string through memcached's `proxy_lua_error` (upstream's
    /// path for every fixed message): a plain string error value.
    Str(&'static CStr),
    /// The error value is already on top of the stack (pushed by
    /// `push_fstring_*`, or returned by a failed `pcall`): `lua_error`.
    Pushed,
    /// A failed argument check: the export repeats the `luaL_check*` call,
    /// which raises Lua's standard message.
    Check(Check),
}

/// The `luaL_check*` call that failed, with its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    Integer(c_int),
    Number(c_int),
    LString(c_int),
    Type(c_int, c_int),
    Udata(c_int, &'static CStr),
}

/// The result of a `lua_CFunction` body (the number of results on success).
pub type LResult<T = c_int> = Result<T, LuaError>;

/// A memcached struct stored as a Lua userdata with a named metatable.
///
/// # Safety
/// `Self` must be the mirror of the C type that memcached (or this crate)
/// allocates, at least `size_of::<Self>()` bytes, in every userdata whose
/// metatable is the registry entry `NAME`.
pub unsafe trait Userdata {
    const NAME: &'static CStr;
}

/// A userdata this call created ([`Vm::new_udata`]) or checked once
/// ([`Vm::hold`]): its address, absolute stack index and block size. Not
/// `Copy`; reached again through [`Vm::fresh`]/[`Vm::fresh_ref`], which
/// only confirm that the same block still sits at that index (one
/// `lua_touserdata`, instead of `luaL_testudata`'s metatable lookup by
/// name on every access).
pub struct Fresh<T> {
    p: NonNull<T>,
    idx: c_int,
    size: usize,
}

impl<T> Fresh<T> {
    /// Its absolute stack index.
    #[inline(always)]
    pub fn index(&self) -> c_int {
        self.idx
    }
    /// Its block size in bytes (from `new_udata` or `hold_block`; at least
    /// `size_of::<T>()`).
    #[inline(always)]
    pub fn size(&self) -> usize {
        self.size
    }
    /// Its address, for identity and for memcached functions that take it.
    #[inline(always)]
    pub fn as_ptr(&self) -> *mut T {
        self.p.as_ptr()
    }
    /// Its address, non-null.
    #[inline(always)]
    pub fn as_nonnull(&self) -> NonNull<T> {
        self.p
    }
}

/// The Lua state of the current C call.
pub struct Vm {
    l: NonNull<lua_State>,
    // Neither Send nor Sync: a Lua state belongs to its thread.
    _not_send: PhantomData<*mut lua_State>,
}

// The no-destructor rule (see docs/design.md): checked for every type here.
const _: () = assert!(!core::mem::needs_drop::<Vm>());
const _: () = assert!(!core::mem::needs_drop::<LuaError>());

impl Vm {
    /// Borrows the state Lua passed to a C function.
    ///
    /// # Safety
    /// `L` is a live `lua_State` running the calling C function (or set up
    /// by memcached for `proxy_register_libs`), used only on this thread for
    /// the duration of the call.
    #[inline(always)]
    pub unsafe fn from_raw(L: *mut lua_State) -> Vm {
        Vm {
            // SAFETY: caller contract (Lua never passes NULL).
            l: unsafe { NonNull::new_unchecked(L) },
            _not_send: PhantomData,
        }
    }

    /// The raw state, for memcached functions that take it.
    #[inline(always)]
    pub fn as_ptr(&self) -> *mut lua_State {
        self.l.as_ptr()
    }

    /// The extra-space pointer (`PROXY_GET_CTX`/`PROXY_GET_THR`).
    #[inline(always)]
    pub fn extraspace(&self) -> *mut c_void {
        // SAFETY: LUA_EXTRASPACE (checked against lua.h) is one pointer,
        // initialised by proxy_register_libs before any function runs.
        unsafe { *(lua_getextraspace(self.as_ptr()) as *mut *mut c_void) }
    }

    /// Sets the extra-space pointer (`proxy_register_libs` only).
    #[inline(always)]
    pub fn set_extraspace(&mut self, p: *mut c_void) {
        // SAFETY: as above; the slot is ours to write.
        unsafe { *(lua_getextraspace(self.as_ptr()) as *mut *mut c_void) = p }
    }

    // ---- stack ----

    #[inline(always)]
    pub fn gettop(&self) -> c_int {
        // SAFETY: live state (from_raw).
        unsafe { lua_gettop(self.as_ptr()) }
    }
    #[inline(always)]
    pub fn absindex(&self, idx: c_int) -> c_int {
        // SAFETY: live state.
        unsafe { lua_absindex(self.as_ptr(), idx) }
    }
    #[inline(always)]
    pub fn settop(&mut self, idx: c_int) {
        // SAFETY: live state; Lua checks the index with LUA_USE_APICHECK
        // only, so keep idx within the frame (all callers do).
        unsafe { lua_settop(self.as_ptr(), idx) }
    }
    #[inline(always)]
    pub fn pop(&mut self, n: c_int) {
        self.settop(-n - 1)
    }
    #[inline(always)]
    pub fn type_of(&self, idx: c_int) -> c_int {
        // SAFETY: live state; any index is acceptable to lua_type.
        unsafe { lua_type(self.as_ptr(), idx) }
    }
    #[inline(always)]
    pub fn is_nil(&self, idx: c_int) -> bool {
        self.type_of(idx) == LUA_TNIL
    }
    #[inline(always)]
    pub fn is_none_or_nil(&self, idx: c_int) -> bool {
        self.type_of(idx) <= LUA_TNIL
    }
    #[inline(always)]
    pub fn is_table(&self, idx: c_int) -> bool {
        self.type_of(idx) == LUA_TTABLE
    }
    #[inline(always)]
    pub fn is_function(&self, idx: c_int) -> bool {
        self.type_of(idx) == LUA_TFUNCTION
    }
    /// `lua_isstring`: a string or a number.
    #[inline(always)]
    pub fn is_string(&self, idx: c_int) -> bool {
        // SAFETY: live state.
        unsafe { lua_isstring(self.as_ptr(), idx) != 0 }
    }
    #[inline(always)]
    pub fn to_boolean(&self, idx: c_int) -> bool {
        // SAFETY: live state.
        unsafe { lua_toboolean(self.as_ptr(), idx) != 0 }
    }
    #[inline(always)]
    pub fn to_integer(&self, idx: c_int) -> lua_Integer {
        // SAFETY: live state; a NULL isnum is allowed.
        unsafe { lua_tointegerx(self.as_ptr(), idx, core::ptr::null_mut()) }
    }
    /// `lua_tolstring`: the bytes of a string (a number is converted in
    /// place, as in C), `None` for other types.
    #[inline(always)]
    pub fn to_bytes(&self, idx: c_int) -> Option<&[u8]> {
        let mut len = 0usize;
        // SAFETY: live state; Lua returns `len` bytes (plus a NUL) owned by
        // a string that stays on the stack while &self is borrowed (see the
        // module documentation).
        unsafe {
            let p = lua_tolstring(self.as_ptr(), idx, &mut len);
            if p.is_null() {
                None
            } else {
                Some(core::slice::from_raw_parts(p as *const u8, len))
            }
        }
    }
    /// The string at `idx` as C sees it through `lua_tostring`: up to its
    /// first NUL.
    #[inline]
    pub fn to_cbytes(&self, idx: c_int) -> Option<&[u8]> {
        self.to_bytes(idx).map(upto_nul)
    }
    /// `lua_touserdata` without a type check: only for identity or for
    /// passing back to C.
    #[inline(always)]
    pub fn to_userdata_ptr(&self, idx: c_int) -> *mut c_void {
        // SAFETY: live state.
        unsafe { lua_touserdata(self.as_ptr(), idx) }
    }

    // ---- argument checks (never raise; see LuaError::Check) ----

    /// `luaL_checkinteger`
    #[inline]
    pub fn check_integer(&self, arg: c_int) -> LResult<lua_Integer> {
        let mut isnum = 0;
        // SAFETY: live state; exactly what luaL_checkinteger does first.
        let v = unsafe { lua_tointegerx(self.as_ptr(), arg, &mut isnum) };
        if isnum != 0 {
            Ok(v)
        } else {
            Err(LuaError::Check(Check::Integer(arg)))
        }
    }
    /// `luaL_checknumber`
    #[inline]
    pub fn check_number(&self, arg: c_int) -> LResult<lua_Number> {
        let mut isnum = 0;
        // SAFETY: live state; exactly what luaL_checknumber does first.
        let v = unsafe { lua_tonumberx(self.as_ptr(), arg, &mut isnum) };
        if isnum != 0 {
            Ok(v)
        } else {
            Err(LuaError::Check(Check::Number(arg)))
        }
    }
    /// `luaL_checklstring`
    #[inline]
    pub fn check_bytes(&self, arg: c_int) -> LResult<&[u8]> {
        self.to_bytes(arg).ok_or(LuaError::Check(Check::LString(arg)))
    }
    /// `luaL_checkstring` as C code sees the result (up to the first NUL).
    #[inline]
    pub fn check_cbytes(&self, arg: c_int) -> LResult<&[u8]> {
        self.check_bytes(arg).map(upto_nul)
    }
    /// `luaL_checktype`
    #[inline]
    pub fn check_type(&self, arg: c_int, t: c_int) -> LResult<()> {
        if self.type_of(arg) == t {
            Ok(())
        } else {
            Err(LuaError::Check(Check::Type(arg, t)))
        }
    }
    /// `luaL_optinteger`
    #[inline]
    pub fn opt_integer(&self, arg: c_int, def: lua_Integer) -> LResult<lua_Integer> {
        if self.is_none_or_nil(arg) {
            Ok(def)
        } else {
            self.check_integer(arg)
        }
    }
    /// `luaL_optlstring` with a NULL default: `None` for none or nil.
    #[inline]
    pub fn opt_bytes(&self, arg: c_int) -> LResult<Option<&[u8]>> {
        if self.is_none_or_nil(arg) {
            Ok(None)
        } else {
            self.check_bytes(arg).map(Some)
        }
    }

    // ---- typed userdata ----

    /// `luaL_testudata(L, idx, T::NAME)`: the userdata's address if it is a
    /// `T`.
    #[inline]
    pub fn test_udata_ptr<T: Userdata>(&self, idx: c_int) -> Option<NonNull<T>> {
        // SAFETY: live state; NAME is a NUL-terminated literal.
        NonNull::new(unsafe { luaL_testudata(self.as_ptr(), idx, T::NAME.as_ptr()) } as *mut T)
    }
    /// `luaL_checkudata(L, idx, T::NAME)`, as a pointer (for identity and
    /// for memcached functions that take it).
    #[inline]
    pub fn check_udata_ptr<T: Userdata>(&self, idx: c_int) -> LResult<NonNull<T>> {
        self.test_udata_ptr(idx)
            .ok_or(LuaError::Check(Check::Udata(idx, T::NAME)))
    }
    /// `luaL_checkudata(L, idx, T::NAME)`, borrowed mutably.
    #[inline]
    pub fn check_udata<T: Userdata>(&mut self, idx: c_int) -> LResult<&mut T> {
        let mut p = self.check_udata_ptr::<T>(idx)?;
        // SAFETY: a userdata with T's metatable holds a T (Userdata
        // contract); it stays alive while on the stack, and the only way to
        // reach it from Rust is through &mut self, so the borrow is unique.
        Ok(unsafe { p.as_mut() })
    }
    /// `luaL_testudata`, borrowed mutably.
    #[inline]
    pub fn test_udata<T: Userdata>(&mut self, idx: c_int) -> Option<&mut T> {
        let mut p = self.test_udata_ptr::<T>(idx)?;
        // SAFETY: as in check_udata.
        Some(unsafe { p.as_mut() })
    }
    /// The userdata at `idx` (checked as [`Vm::check_udata`]), borrowed
    /// mutably until the next Lua call.
    #[inline]
    pub fn udata_mut<T: Userdata>(&mut self, idx: c_int) -> LResult<&mut T> {
        self.check_udata(idx)
    }
    /// `luaL_checkudata(L, idx, T::NAME)`, borrowed shared (several may be
    /// held at once; no `&mut` to any userdata can exist meanwhile, since
    /// that needs `&mut self`).
    #[inline]
    pub fn udata_ref<T: Userdata>(&self, idx: c_int) -> LResult<&T> {
        let p = self.check_udata_ptr::<T>(idx)?;
        // SAFETY: as in check_udata; shared while &self is.
        Ok(unsafe { p.as_ref() })
    }
    /// A new zeroed userdata of `size` bytes (upstream `memset`s every object
    /// it creates) with `nuv` user values, on top of the stack. Returns its
    /// address (for identity only).
    pub fn new_blob(&mut self, size: usize, nuv: c_int) -> NonNull<c_void> {
        // SAFETY: live state; Lua returns `size` writable bytes aligned for
        // any C object (LUAI_MAXALIGN) or raises a memory error.
        unsafe {
            let p = lua_newuserdatauv(self.as_ptr(), size, nuv) as *mut u8;
            core::ptr::write_bytes(p, 0, size);
            NonNull::new_unchecked(p as *mut c_void)
        }
    }
    /// A new zeroed userdata holding a `T` (at least `size` bytes: room for
    /// a trailing array), with `nuv` user values, and the metatable `T::NAME`
    /// when `set_mt` (upstream sets it early so `__gc` frees partial work).
    /// Returns a [`Fresh`] handle to reach it while it stays where it is.
    pub fn new_udata<T>(&mut self, size: usize, nuv: c_int, mt: Option<&CStr>) -> Fresh<T> {
        let size = size.max(core::mem::size_of::<T>());
        let p = self.new_blob(size, nuv).cast::<T>();
        let idx = self.gettop();
        if let Some(name) = mt {
            self.getmetatable_named(name);
            self.setmetatable(-2);
        }
        Fresh { p, idx, size }
    }
    /// `luaL_checkudata(L, idx, T::NAME)` once, kept as a handle to reach
    /// the userdata again cheaply while it stays at `idx`.
    #[inline]
    pub fn hold<T: Userdata>(&self, idx: c_int) -> LResult<Fresh<T>> {
        let p = self.check_udata_ptr::<T>(idx)?;
        Ok(Fresh {
            p,
            idx: self.absindex(idx),
            size: core::mem::size_of::<T>(),
        })
    }
    /// [`Vm::hold`], and the userdata borrowed shared right away (saving
    /// the handle's re-check for the first access).
    #[inline]
    pub fn hold_ref<T: Userdata>(&self, idx: c_int) -> LResult<(Fresh<T>, &T)> {
        let f = self.hold::<T>(idx)?;
        // SAFETY: hold just confirmed a T at idx (Userdata contract); shared
        // while &self is.
        let r = unsafe { &*f.p.as_ptr() };
        Ok((f, r))
    }
    /// [`Vm::hold`], with the handle's size the whole userdata block (for
    /// objects with a trailing array).
    #[inline]
    pub fn hold_block<T: Userdata>(&self, idx: c_int) -> LResult<Fresh<T>> {
        let mut f = self.hold::<T>(idx)?;
        f.size = self.rawlen(idx);
        Ok(f)
    }
    /// The userdata `f` names, if it is still at its stack index (always,
    /// unless the caller removed it), borrowed shared.
    #[inline]
    pub fn fresh_ref<T>(&self, f: &Fresh<T>) -> LResult<&T> {
        if self.to_userdata_ptr(f.idx) != f.p.as_ptr().cast() {
            return Err(LuaError::Str(
                c"proxy-lua-rs: internal error: object moved on the stack",
            ));
        }
        // SAFETY: the userdata at f.idx is the one new_udata made (or hold
        // checked) for a T (same address), alive on the stack; shared while
        // &self is, so no &mut to it can exist.
        Ok(unsafe { &*f.p.as_ptr() })
    }
    /// The userdata `f` names, if it is still at its stack index (always,
    /// unless the caller removed it), borrowed mutably.
    #[inline]
    pub fn fresh<T>(&mut self, f: &Fresh<T>) -> LResult<&mut T> {
        if self.to_userdata_ptr(f.idx) != f.p.as_ptr().cast() {
            return Err(LuaError::Str(
                c"proxy-lua-rs: internal error: object moved on the stack",
            ));
        }
        // SAFETY: the userdata at f.idx is the one new_udata made (or hold
        // checked) for a T (same address), alive on the stack; unique
        // through &mut self.
        Ok(unsafe { &mut *f.p.as_ptr() })
    }
    /// `lua_tostring` as a C string (up to its first NUL).
    #[inline]
    pub fn to_cstr(&self, idx: c_int) -> Option<&CStr> {
        // SAFETY: live state; Lua strings are NUL-terminated; alive while on
        // the stack (module documentation).
        unsafe {
            let p = lua_tolstring(self.as_ptr(), idx, core::ptr::null_mut());
            if p.is_null() {
                None
            } else {
                Some(CStr::from_ptr(p))
            }
        }
    }
    /// `lua_rawlen`: a userdata's block size, a string's or table's length.
    #[inline(always)]
    pub fn rawlen(&self, idx: c_int) -> usize {
        // SAFETY: live state.
        unsafe { lua_rawlen(self.as_ptr(), idx) as usize }
    }

    // ---- push ----

    #[inline(always)]
    pub fn push_nil(&mut self) {
        self.settop(self.gettop() + 1)
    }
    #[inline(always)]
    pub fn push_integer(&mut self, n: lua_Integer) {
        // SAFETY: live state.
        unsafe { lua_pushinteger(self.as_ptr(), n) }
    }
    #[inline(always)]
    pub fn push_boolean(&mut self, b: bool) {
        // SAFETY: live state.
        unsafe { lua_pushboolean(self.as_ptr(), b as c_int) }
    }
    #[inline(always)]
    pub fn push_bytes(&mut self, b: &[u8]) {
        // SAFETY: live state; Lua copies the bytes.
        unsafe { lua_pushlstring(self.as_ptr(), b.as_ptr() as *const c_char, b.len()) };
    }
    /// `lua_pushstring` of a C string (up to its NUL).
    #[inline(always)]
    pub fn push_cstr(&mut self, s: &CStr) {
        // SAFETY: live state; NUL-terminated.
        unsafe { lua_pushstring(self.as_ptr(), s.as_ptr()) };
    }
    /// `lua_pushstring` of a NUL-terminated C array (a memcached `char[N]`
    /// member): up to the first NUL, or the whole array if it has none.
    #[inline]
    pub fn push_cbuf(&mut self, b: &[c_char]) {
        push_cbuf_raw(self.as_ptr(), b)
    }
    /// Copies the string at `idx` (`lua_tolstring`; nothing if it is not
    /// one) into the `char[N]` member of the userdata `f` names that `get`
    /// picks, NUL-terminated, in place: upstream's `if (len > max) error;
    /// memcpy(dst, src, len); dst[len] = '\0';`. Returns the length, or
    /// `None` (nothing copied) when it is over `max` or leaves no room for
    /// the NUL.
    pub fn copy_str_into<T>(
        &mut self,
        idx: c_int,
        f: &Fresh<T>,
        max: usize,
        get: impl FnOnce(&mut T) -> &mut [c_char],
    ) -> LResult<Option<usize>> {
        let src = self.to_bytes(idx).unwrap_or(&[]);
        let (sp, n) = (src.as_ptr(), src.len());
        let dst = get(self.fresh(f)?);
        if n > max || n >= dst.len() {
            return Ok(None);
        }
        // SAFETY: sp..sp+n is the Lua string at idx, still on the stack
        // (only fresh's check ran since), and never inside a userdata
        // block; dst has room for n bytes and the NUL (checked above).
        unsafe { core::ptr::copy_nonoverlapping(sp as *const c_char, dst.as_mut_ptr(), n) };
        dst[n] = 0;
        Ok(Some(n))
    }
    #[inline(always)]
    pub fn push_value(&mut self, idx: c_int) {
        // SAFETY: live state.
        unsafe { lua_pushvalue(self.as_ptr(), idx) }
    }
    /// `lua_pushfstring(L, fmt, s)` where `s` is the string at `idx` (as C's
    /// `lua_tostring` sees it). `fmt` has exactly one `%s`.
    pub fn push_fstring_str(&mut self, fmt: &'static CStr, idx: c_int) {
        // SAFETY: live state; the argument is the NUL-terminated string at
        // idx, alive on the stack during the call; `fmt` takes one `%s`.
        unsafe {
            let s = lua_tolstring(self.as_ptr(), idx, core::ptr::null_mut());
            let s = if s.is_null() { c"(null)".as_ptr() } else { s };
            lua_pushfstring(self.as_ptr(), fmt.as_ptr(), s);
        }
    }
    /// `lua_pushfstring(L, fmt, d)`: `fmt` has exactly one `%d`.
    pub fn push_fstring_int(&mut self, fmt: &'static CStr, d: c_int) {
        // SAFETY: live state; `fmt` takes one `%d` (an int, as promoted).
        unsafe { lua_pushfstring(self.as_ptr(), fmt.as_ptr(), d) };
    }

    // ---- tables ----

    #[inline(always)]
    pub fn createtable(&mut self, narr: c_int, nrec: c_int) {
        // SAFETY: live state.
        unsafe { lua_createtable(self.as_ptr(), narr, nrec) }
    }
    #[inline(always)]
    pub fn newtable(&mut self) {
        self.createtable(0, 0)
    }
    /// `lua_getfield`: pushes `t[k]`, returns its type.
    #[inline(always)]
    pub fn getfield(&mut self, idx: c_int, k: &CStr) -> c_int {
        // SAFETY: live state; k NUL-terminated. (May run metamethods.)
        unsafe { lua_getfield(self.as_ptr(), idx, k.as_ptr()) }
    }
    /// `lua_getfield(L, idx, lua_tostring(L, key_idx))`: the key is the
    /// string at `key_idx`, up to its first NUL, as C passes it.
    pub fn getfield_key_at(&mut self, idx: c_int, key_idx: c_int) -> c_int {
        let key_idx = self.absindex(key_idx);
        // SAFETY: live state; the key string stays at key_idx (below the
        // top) for the duration of the call.
        unsafe {
            let k = lua_tolstring(self.as_ptr(), key_idx, core::ptr::null_mut());
            if k.is_null() {
                return self.push_nil_type();
            }
            lua_getfield(self.as_ptr(), idx, k)
        }
    }
    fn push_nil_type(&mut self) -> c_int {
        self.push_nil();
        LUA_TNIL
    }
    /// `lua_setfield`: `t[k] = top`, pops the value.
    #[inline(always)]
    pub fn setfield(&mut self, idx: c_int, k: &CStr) {
        // SAFETY: live state; k NUL-terminated; a value is on top.
        unsafe { lua_setfield(self.as_ptr(), idx, k.as_ptr()) }
    }
    /// `lua_setfield(L, idx, lua_tostring(L, key_idx))`; `key_idx` must not
    /// be the top (the value). Does nothing but pop when it is not a string.
    pub fn setfield_key_at(&mut self, idx: c_int, key_idx: c_int) {
        let key_idx = self.absindex(key_idx);
        if key_idx >= self.gettop() {
            self.pop(1);
            return;
        }
        // SAFETY: live state; the key string at key_idx lies below the value
        // being popped, so it stays alive during the call.
        unsafe {
            let k = lua_tolstring(self.as_ptr(), key_idx, core::ptr::null_mut());
            if k.is_null() {
                lua_settop(self.as_ptr(), -2);
                return;
            }
            lua_setfield(self.as_ptr(), idx, k)
        }
    }
    #[inline(always)]
    pub fn getglobal(&mut self, name: &CStr) -> c_int {
        // SAFETY: live state.
        unsafe { lua_getglobal(self.as_ptr(), name.as_ptr()) }
    }
    #[inline(always)]
    pub fn setglobal(&mut self, name: &CStr) {
        // SAFETY: live state; a value is on top.
        unsafe { lua_setglobal(self.as_ptr(), name.as_ptr()) }
    }
    #[inline(always)]
    pub fn gettable(&mut self, idx: c_int) -> c_int {
        // SAFETY: live state; the key is on top.
        unsafe { lua_gettable(self.as_ptr(), idx) }
    }
    #[inline(always)]
    pub fn settable(&mut self, idx: c_int) {
        // SAFETY: live state; key and value on top.
        unsafe { lua_settable(self.as_ptr(), idx) }
    }
    #[inline(always)]
    pub fn geti(&mut self, idx: c_int, n: lua_Integer) -> c_int {
        // SAFETY: live state.
        unsafe { lua_geti(self.as_ptr(), idx, n) }
    }
    #[inline(always)]
    pub fn rawget(&mut self, idx: c_int) -> c_int {
        // SAFETY: live state; the key is on top.
        unsafe { lua_rawget(self.as_ptr(), idx) }
    }
    #[inline(always)]
    pub fn rawgeti(&mut self, idx: c_int, n: lua_Integer) -> c_int {
        // SAFETY: live state.
        unsafe { lua_rawgeti(self.as_ptr(), idx, n) }
    }
    #[inline(always)]
    pub fn rawset(&mut self, idx: c_int) {
        // SAFETY: live state; key and value on top.
        unsafe { lua_rawset(self.as_ptr(), idx) }
    }
    #[inline(always)]
    pub fn rawseti(&mut self, idx: c_int, n: lua_Integer) {
        // SAFETY: live state; a value on top.
        unsafe { lua_rawseti(self.as_ptr(), idx, n) }
    }
    /// `luaL_len`
    #[inline(always)]
    pub fn len(&mut self, idx: c_int) -> lua_Integer {
        // SAFETY: live state. (May run __len; raises if not a number.)
        unsafe { luaL_len(self.as_ptr(), idx) }
    }
    #[inline(always)]
    pub fn concat(&mut self, n: c_int) {
        // SAFETY: live state; n values on top.
        unsafe { lua_concat(self.as_ptr(), n) }
    }
    /// `lua_replace`
    #[inline(always)]
    pub fn replace(&mut self, idx: c_int) {
        // SAFETY: live state.
        unsafe {
            lua_copy(self.as_ptr(), -1, idx);
            lua_settop(self.as_ptr(), -2);
        }
    }
    #[inline(always)]
    pub fn setmetatable(&mut self, idx: c_int) {
        // SAFETY: live state; a table (or nil) on top.
        unsafe { lua_setmetatable(self.as_ptr(), idx) };
    }
    /// `luaL_getmetatable`
    #[inline(always)]
    pub fn getmetatable_named(&mut self, name: &CStr) -> c_int {
        // SAFETY: live state.
        unsafe { lua_getfield(self.as_ptr(), LUA_REGISTRYINDEX, name.as_ptr()) }
    }
    /// `luaL_setmetatable`
    #[inline(always)]
    pub fn setmetatable_named(&mut self, name: &CStr) {
        // SAFETY: live state.
        unsafe { luaL_setmetatable(self.as_ptr(), name.as_ptr()) }
    }
    /// `luaL_newmetatable`
    #[inline(always)]
    pub fn newmetatable(&mut self, name: &CStr) -> bool {
        // SAFETY: live state.
        unsafe { luaL_newmetatable(self.as_ptr(), name.as_ptr()) != 0 }
    }
    /// `luaL_setfuncs(L, l, nup)`; `l` ends with a `{NULL, NULL}` entry.
    pub fn setfuncs(&mut self, l: &'static [luaL_Reg], nup: c_int) {
        debug_assert!(l.last().is_some_and(|r| r.name.is_null()));
        // SAFETY: live state; a sentinel-terminated static table.
        unsafe { luaL_setfuncs(self.as_ptr(), l.as_ptr(), nup) }
    }
    /// `lua_setiuservalue`
    #[inline(always)]
    pub fn setiuservalue(&mut self, idx: c_int, n: c_int) -> bool {
        // SAFETY: live state; a value on top.
        unsafe { lua_setiuservalue(self.as_ptr(), idx, n) != 0 }
    }
    /// `lua_pcall(L, nargs, nresults, 0)`.
    #[inline(always)]
    pub fn pcall(&mut self, nargs: c_int, nresults: c_int) -> c_int {
        // SAFETY: live state; the function and arguments are on top.
        unsafe { lua_pcallk(self.as_ptr(), nargs, nresults, 0, 0, None) }
    }
    /// Stops the garbage collector (`lua_gc(L, LUA_GCSTOP)`) and returns
    /// whether it was running, for [`Vm::gc_resume`]: no finalizer runs
    /// until then.
    #[inline(always)]
    pub fn gc_pause(&mut self) -> bool {
        // SAFETY: live state; LUA_GCISRUNNING and LUA_GCSTOP take no extra
        // arguments.
        unsafe {
            let running = lua_gc(self.as_ptr(), LUA_GCISRUNNING) != 0;
            lua_gc(self.as_ptr(), LUA_GCSTOP);
            running
        }
    }
    /// Restarts the collector if [`Vm::gc_pause`] found it running.
    #[inline(always)]
    pub fn gc_resume(&mut self, was_running: bool) {
        if was_running {
            // SAFETY: live state; LUA_GCRESTART takes no extra arguments.
            unsafe { lua_gc(self.as_ptr(), LUA_GCRESTART) };
        }
    }
    /// `luaL_ref(L, LUA_REGISTRYINDEX)`: pops the value.
    #[inline(always)]
    pub fn registry_ref(&mut self) -> c_int {
        // SAFETY: live state; a value on top.
        unsafe { luaL_ref(self.as_ptr(), LUA_REGISTRYINDEX) }
    }
    /// `luaL_unref(L, LUA_REGISTRYINDEX, r)`
    #[inline(always)]
    pub fn registry_unref(&mut self, r: c_int) {
        // SAFETY: live state.
        unsafe { luaL_unref(self.as_ptr(), LUA_REGISTRYINDEX, r) }
    }
    /// Calls a memcached `lua_CFunction` directly, as C code does
    /// (`mcplib_funcgenbare_new(L)`).
    #[inline(always)]
    pub fn call_host(&mut self, f: lua_CFunction) -> c_int {
        // SAFETY: live state; memcached's functions follow the Lua C-function
        // protocol and raise their own errors.
        unsafe { f(self.as_ptr()) }
    }
}

/// `lua_pushstring` of a `char[N]` array that holds a NUL (Lua's
/// short-string cache, keyed by address, makes repeated pushes of the same
/// member cheap, as in upstream), else `lua_pushlstring` of all of it.
#[inline]
fn push_cbuf_raw(l: *mut lua_State, b: &[c_char]) {
    if b.contains(&0) {
        // SAFETY: live state; b holds a NUL, so the C string ends inside
        // it; Lua copies the bytes.
        unsafe { lua_pushstring(l, b.as_ptr()) };
    } else {
        // SAFETY: live state; Lua copies b.len() bytes of a live slice.
        unsafe { lua_pushlstring(l, b.as_ptr(), b.len()) };
    }
}

/// The bytes C's string functions see: up to the first NUL.
#[inline]
pub fn upto_nul(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => &b[..n],
        None => b,
    }
}

impl LuaError {
    /// Raises this error in `L`. Never returns. Only the exports call it,
    /// after the body returned (so no frame of ours remains but theirs).
    ///
    /// # Safety
    /// `L` is the live state of the current C call with the stack as the
    /// body left it.
    pub unsafe fn raise(self, L: *mut lua_State) -> ! {
        // SAFETY: caller contract; each luaL_check* below fails again on the
        // same stack slot (the body returned immediately after its check
        // failed) and raises Lua's own message.
        unsafe {
            match self {
                LuaError::Str(s) => proxy_lua_error(L, s.as_ptr()),
                LuaError::Pushed => lua_error(L),
                LuaError::Check(c) => {
                    match c {
                        Check::Integer(a) => {
                            luaL_checkinteger(L, a);
                        }
                        Check::Number(a) => {
                            luaL_checknumber(L, a);
                        }
                        Check::LString(a) => {
                            luaL_checklstring(L, a, core::ptr::null_mut());
                        }
                        Check::Type(a, t) => luaL_checktype(L, a, t),
                        Check::Udata(a, n) => {
                            luaL_checkudata(L, a, n.as_ptr());
                        }
                    }
                    // Unreachable unless the stack changed after the check:
                    // still raise, never return into Lua with a bogus result.
                    proxy_lua_error(
                        L,
                        c"proxy-lua-rs: internal error: argument check passed on retry".as_ptr(),
                    )
                }
            }
        }
    }
}
