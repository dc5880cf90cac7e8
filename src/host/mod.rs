//! Typed views of memcached's side: its structs, reached through safe
//! methods that encode who may touch what (the locking rules of proxy.h).
//!
//! Each view holds a pointer that memcached guarantees for the life of the
//! process (the proxy context, a worker thread, an event thread) or for the
//! life of the Lua value it came from (a backend, a pool). Views never hand
//! out a reference that can outlive the borrow it was made from, and never
//! a reference to memory another thread writes: fields shared with other
//! threads are reached only inside a closure that holds their lock
//! (`Ctx::with_stats`), or read and written field by field.

use core::ops::{Deref, DerefMut};

use crate::ffi::lua::lua_State;
use crate::vm::Vm;

/// `field_ptr!(p, Struct, member)`: a raw pointer to `member` of the
/// `Struct` that `p: *mut Struct` points to, by pointer arithmetic
/// (`offset_of!`) alone: no dereference, no reference to the struct (other
/// threads may write its other members), so no `unsafe`.
macro_rules! field_ptr {
    ($p:expr, $T:ty, $($f:tt).+) => {{
        let p: *mut $T = $p;
        $crate::host::field_cast(p, ::core::mem::offset_of!($T, $($f).+), |s: &$T| &s.$($f).+)
    }};
}

/// The typed arithmetic behind [`field_ptr!`] (`_ty` only names the
/// member's type; it is never called).
#[inline(always)]
pub fn field_cast<S, F>(p: *mut S, off: usize, _ty: impl FnOnce(&S) -> &F) -> *mut F {
    p.wrapping_byte_add(off).cast()
}

pub mod backend;
pub mod ctx;
pub mod log;
pub mod pool;
pub mod stats;
pub mod sys;
pub mod thread;

pub use backend::{BackendRef, EventThread};
pub use ctx::Ctx;
pub use thread::Thread;

/// The configuration VM (one per proxy; runs on memcached's config thread
/// with `config_lock` held). Its extra space holds the proxy context.
pub struct ConfigVm {
    vm: Vm,
    ctx: Ctx,
}

/// A worker VM (one per worker thread, plus the coroutines memcached runs
/// requests in). Its extra space holds the worker thread.
pub struct WorkerVm {
    vm: Vm,
    thread: Thread,
}

impl ConfigVm {
    /// # Safety
    /// `L` is the config VM (or a coroutine of it) set up by
    /// `proxy_register_libs(ctx, NULL, L)`, running a C function on
    /// memcached's config thread: only functions registered in
    /// `mcplib_f_config` and the config VM's metatables call this.
    #[inline(always)]
    pub unsafe fn from_raw(L: *mut lua_State) -> ConfigVm {
        // SAFETY: caller contract.
        let vm = unsafe { Vm::from_raw(L) };
        // SAFETY: proxy_register_libs stored the context in the extra space
        // of the config VM; the context lives as long as the process.
        let ctx = unsafe { Ctx::from_raw(vm.extraspace().cast()) };
        ConfigVm { vm, ctx }
    }

    #[inline(always)]
    pub fn ctx(&self) -> Ctx {
        self.ctx
    }
}

impl WorkerVm {
    /// # Safety
    /// `L` is a worker VM (or a coroutine of it) set up by
    /// `proxy_register_libs(ctx, t, L)`, running a C function on thread `t`:
    /// only functions registered in `mcplib_f_routes` and the worker VMs'
    /// metatables call this.
    #[inline(always)]
    pub unsafe fn from_raw(L: *mut lua_State) -> WorkerVm {
        // SAFETY: caller contract.
        let vm = unsafe { Vm::from_raw(L) };
        // SAFETY: proxy_register_libs stored the thread in the extra space
        // (copied into every coroutine by lua_newthread); the thread lives as
        // long as the process and this code runs on it.
        let thread = unsafe { Thread::from_raw(vm.extraspace().cast()) };
        WorkerVm { vm, thread }
    }

    #[inline(always)]
    pub fn thread(&self) -> Thread {
        self.thread
    }
}

impl Deref for ConfigVm {
    type Target = Vm;
    fn deref(&self) -> &Vm {
        &self.vm
    }
}
impl DerefMut for ConfigVm {
    fn deref_mut(&mut self) -> &mut Vm {
        &mut self.vm
    }
}
impl Deref for WorkerVm {
    type Target = Vm;
    fn deref(&self) -> &Vm {
        &self.vm
    }
}
impl DerefMut for WorkerVm {
    fn deref_mut(&mut self) -> &mut Vm {
        &mut self.vm
    }
}

const _: () = assert!(!core::mem::needs_drop::<ConfigVm>());
const _: () = assert!(!core::mem::needs_drop::<WorkerVm>());
