//! A worker thread (`LIBEVENT_THREAD`), seen from its own worker VM, and the
//! other threads' entries that pool construction needs.
//!
//! Everything reached here belongs to the calling worker thread (its logger
//! pointer, its random state, its hook array): no lock, but no reference
//! outlives the call that made it.

use core::ffi::{c_int, c_void};
use core::ptr::NonNull;

use crate::ffi::host::*;
use crate::host::backend::EventThread;
use crate::host::log::Log;

/// The worker thread running the current worker VM.
#[derive(Clone, Copy)]
pub struct Thread {
    p: NonNull<LibeventThread>,
}

impl Thread {
    /// # Safety
    /// `p` is a live worker thread (they live for the process) and the
    /// caller runs on it.
    #[inline(always)]
    pub unsafe fn from_raw(p: *mut LibeventThread) -> Thread {
        // SAFETY: caller contract.
        let p = unsafe { NonNull::new_unchecked(p) };
        Thread { p }
    }

    /// `t->l`, the thread's logger (NULL before the logger is set up).
    #[inline(always)]
    pub fn logger(&self) -> Option<Log> {
        // SAFETY: the thread's own member; the logger lives for the thread.
        Log::from_raw(unsafe { *field_ptr!(self.p.as_ptr(), LibeventThread, l) })
    }

    /// `t->l` of a worker thread that is serving requests: memcached sets a
    /// worker's logger before its event loop runs, and upstream's request
    /// logging dereferences it unconditionally. (`None` only if that were
    /// ever not so.)
    #[inline(always)]
    pub fn request_logger(&self) -> Log {
        // SAFETY: as above: set at thread start, never NULL while serving.
        unsafe {
            Log::from_nonnull(NonNull::new_unchecked(*field_ptr!(
                self.p.as_ptr(),
                LibeventThread,
                l
            )))
        }
    }

    /// Runs `f` on the thread's `proxy_rng` state.
    #[inline(always)]
    pub fn with_rng<R>(&self, f: impl FnOnce(&mut [u32; 4]) -> R) -> R {
        // SAFETY: only this thread touches its rng; the reference ends with f.
        f(unsafe { &mut *field_ptr!(self.p.as_ptr(), LibeventThread, proxy_rng) })
    }

    /// Runs `f` on hook `cmd` of the thread's hook array (`t->proxy_hooks`,
    /// `CMD_SIZE` entries). `None` for an index outside the array.
    #[inline]
    pub fn with_hook<R>(&self, cmd: usize, f: impl FnOnce(&mut ProxyHook) -> R) -> Option<R> {
        if cmd >= CMD_SIZE as usize {
            return None;
        }
        // SAFETY: memcached allocates CMD_SIZE hooks per worker thread before
        // its VM runs; only this thread uses them; the reference ends with f.
        let hooks = unsafe { *field_ptr!(self.p.as_ptr(), LibeventThread, proxy_hooks) } as *mut ProxyHook;
        if hooks.is_null() {
            return None;
        }
        // SAFETY: as above, cmd < CMD_SIZE.
        Some(f(unsafe { &mut *hooks.add(cmd) }))
    }
}

/// `settings.num_threads`
#[inline]
pub fn num_threads() -> c_int {
    // SAFETY: set by memcached before any VM exists, never changed after.
    unsafe { *field_ptr!(&raw mut settings, Settings, num_threads) }
}

/// `settings.proxy_startarg` as bytes (up to its NUL), if set.
pub fn proxy_startarg() -> Option<&'static [u8]> {
    // SAFETY: set once by memcached's option parsing, before any VM exists.
    let p = unsafe { *field_ptr!(&raw mut settings, Settings, proxy_startarg) };
    if p.is_null() {
        return None;
    }
    // SAFETY: a NUL-terminated string memcached keeps for the process.
    Some(unsafe { core::ffi::CStr::from_ptr(p) }.to_bytes())
}

/// Worker `n` (0-based) as pool construction needs it: its base id and its
/// event thread.
pub fn worker(n: c_int) -> Option<(c_int, EventThread)> {
    if n < 0 || n >= num_threads() {
        return None;
    }
    // SAFETY: 0 <= n < num_threads: memcached's thread array.
    let t = unsafe { get_worker_thread(n) };
    if t.is_null() {
        return None;
    }
    // SAFETY: set up before any config runs; read-only afterwards.
    let (base, e) = unsafe {
        (
            *field_ptr!(t, LibeventThread, thread_baseid),
            *field_ptr!(t, LibeventThread, proxy_event_thread) as *mut ProxyEventThread,
        )
    };
    // SAFETY: the worker's live event thread.
    Some((base, unsafe { EventThread::from_raw(e) }))
}

/// A pointer to pass to C that never needs dereferencing here.
pub fn opaque<T>(p: *mut T) -> *mut c_void {
    p.cast()
}

/// A route function generator (`mcp.funcgen` userdata) as a hook stores it.
#[derive(Clone, Copy)]
pub struct Funcgen(NonNull<McpFuncgen>);

impl Funcgen {
    /// The funcgen at `idx` (`luaL_checkudata(L, idx, "mcp.funcgen")`).
    pub fn at(vm: &crate::vm::Vm, idx: c_int) -> crate::vm::LResult<Funcgen> {
        vm.check_udata_ptr::<McpFuncgen>(idx).map(Funcgen)
    }
    /// As [`Funcgen::at`], `None` when it is not one (`luaL_testudata`).
    pub fn test(vm: &crate::vm::Vm, idx: c_int) -> Option<Funcgen> {
        vm.test_udata_ptr::<McpFuncgen>(idx).map(Funcgen)
    }
}

/// What a hook slot holds: its registry reference and its funcgen.
#[derive(Clone, Copy)]
pub struct HookRef {
    pub lua_ref: c_int,
    fgen: *mut c_void,
}

impl Thread {
    /// The hook reference for command `cmd` and listener `tag` (0: untagged,
    /// `h->ref`), creating the tagged entry as upstream does when needed
    /// (`h->tagged`, C allocator: memcached reads it). Returns its value.
    pub fn hook_ref(&self, cmd: usize, tag: u64) -> Result<HookRef, &'static core::ffi::CStr> {
        self.with_hook_ref(cmd, tag, |r| HookRef {
            lua_ref: r.lua_ref,
            fgen: r.ctx,
        })
    }

    /// Stores `(lua_ref, fgen)` in the hook reference `hook_ref` returned
    /// for the same `(cmd, tag)`.
    pub fn set_hook_ref(
        &self,
        cmd: usize,
        tag: u64,
        lua_ref: c_int,
        fgen: Funcgen,
    ) -> Result<(), &'static core::ffi::CStr> {
        self.with_hook_ref(cmd, tag, |r| {
            r.lua_ref = lua_ref;
            r.ctx = fgen.0.as_ptr().cast();
        })
    }

    fn with_hook_ref<R>(
        &self,
        cmd: usize,
        tag: u64,
        f: impl FnOnce(&mut ProxyHookRef) -> R,
    ) -> Result<R, &'static core::ffi::CStr> {
        self.with_hook(cmd, |h| {
            if tag == 0 {
                return Ok(f(&mut h.ref_));
            }
            // tagged listener: the extended hook structure.
            if h.tagcount == 0 {
                // SAFETY: calloc has no preconditions.
                let pht = unsafe { libc::calloc(1, ProxyHookTagged::C_SIZE) } as *mut ProxyHookTagged;
                if pht.is_null() {
                    return Err(c"mcp.attach: failure allocating tagged hooks");
                }
                h.tagcount = 1;
                h.tagged = pht;
            }
            let n = h.tagcount.max(0) as usize;
            // SAFETY: h->tagged holds h->tagcount entries (allocated here,
            // by calloc/realloc, and only grown); this thread owns them.
            let tags = unsafe { core::slice::from_raw_parts_mut(h.tagged, n) };
            let found = tags.iter().position(|t| t.tag == tag || t.tag == 0);
            let i = match found {
                Some(i) => i,
                None => {
                    // grow the array to fit the new tag (no sentinel:
                    // memcached stops at the first empty entry or tagcount).
                    // SAFETY: h->tagged came from calloc/realloc.
                    let temp =
                        unsafe { libc::realloc(h.tagged as *mut c_void, ProxyHookTagged::C_SIZE * (n + 1)) }
                            as *mut ProxyHookTagged;
                    if temp.is_null() {
                        return Err(c"mcp.attach: failure to resize tagged hooks");
                    }
                    // SAFETY: the new last entry of the grown array.
                    unsafe { core::ptr::write_bytes(temp.add(n), 0, 1) };
                    h.tagcount += 1;
                    h.tagged = temp;
                    n
                }
            };
            // SAFETY: i < tagcount entries at h->tagged.
            let pht = unsafe { &mut *h.tagged.add(i) };
            pht.tag = tag;
            Ok(f(&mut pht.ref_))
        })
        .unwrap_or(Err(c"mcp.attach: invalid command"))
    }
}

/// `mcp_funcgen_reference(L)`: the funcgen on top of the stack gains a
/// reference (memcached's proxy_luafgen.c), and is popped. Nothing when the
/// top is not a funcgen.
pub fn funcgen_reference(vm: &mut crate::vm::Vm) {
    if Funcgen::test(vm, -1).is_some() {
        // SAFETY: a funcgen is on top, as the function requires.
        unsafe { mcp_funcgen_reference(vm.as_ptr()) };
    }
}

/// `mcp_funcgen_dereference(L, href->ctx)` for a hook's previous funcgen.
pub fn funcgen_dereference(vm: &mut crate::vm::Vm, old: HookRef) {
    if !old.fgen.is_null() {
        // SAFETY: the funcgen a hook referenced (set by set_hook_ref from a
        // checked funcgen, kept alive by that reference until now).
        unsafe { mcp_funcgen_dereference(vm.as_ptr(), old.fgen.cast()) };
    }
}
