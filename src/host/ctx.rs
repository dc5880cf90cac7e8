//! The proxy context (`proxy_ctx_t`), seen from the config VM.
//!
//! Locking rules (proxy.h): the tunables, the global stats and the request
//! limit are shared with the worker and event threads under `stats_lock`
//! (`STAT_L`/`STAT_UL`); they are reachable here only inside
//! [`Ctx::with_stats`]. The cron table, the config generation and the
//! loading flag belong to the config thread, which runs the config VM with
//! `config_lock` held: plain field reads and writes.

use core::ffi::c_int;
use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::ffi::host::*;
use crate::host::backend::EventThread;

/// The proxy context of the config VM.
#[derive(Clone, Copy)]
pub struct Ctx {
    p: NonNull<ProxyCtx>,
}

/// The context with `stats_lock` held.
pub struct StatsLocked<'a> {
    p: NonNull<ProxyCtx>,
    _held: PhantomData<&'a mut ProxyCtx>,
}

impl Ctx {
    /// # Safety
    /// `p` is memcached's proxy context (lives for the process) and the
    /// caller runs on the config thread with `config_lock` held.
    #[inline(always)]
    pub unsafe fn from_raw(p: *mut ProxyCtx) -> Ctx {
        // SAFETY: caller contract; memcached never passes NULL.
        let p = unsafe { NonNull::new_unchecked(p) };
        Ctx { p }
    }

    /// For memcached functions that take the context.
    #[inline(always)]
    pub fn as_ptr(&self) -> *mut ProxyCtx {
        self.p.as_ptr()
    }

    /// Runs `f` with `stats_lock` held (`STAT_L(ctx)` ... `STAT_UL(ctx)`).
    #[inline]
    pub fn with_stats<R>(&self, f: impl FnOnce(&mut StatsLocked<'_>) -> R) -> R {
        let lock = field_ptr!(self.as_ptr(), ProxyCtx, stats_lock);
        // SAFETY: memcached initialised the mutex; unlocked below.
        unsafe { libc::pthread_mutex_lock(lock) };
        let r = f(&mut StatsLocked {
            p: self.p,
            _held: PhantomData,
        });
        // SAFETY: we hold it.
        unsafe { libc::pthread_mutex_unlock(lock) };
        r
    }

    /// `ctx->config_generation` (config thread).
    pub fn config_generation(&self) -> c_int {
        // SAFETY: written only by the config thread, which is us.
        unsafe { *field_ptr!(self.as_ptr(), ProxyCtx, config_generation) }
    }
    /// `ctx->cron_ref` (config thread).
    pub fn cron_ref(&self) -> c_int {
        // SAFETY: as above.
        unsafe { *field_ptr!(self.as_ptr(), ProxyCtx, cron_ref) }
    }
    /// `ctx->cron_next` (config thread).
    pub fn cron_next(&self) -> c_int {
        // SAFETY: as above.
        unsafe { *field_ptr!(self.as_ptr(), ProxyCtx, cron_next) }
    }
    pub fn set_cron_next(&self, v: c_int) {
        // SAFETY: as above.
        unsafe { *field_ptr!(self.as_ptr(), ProxyCtx, cron_next) = v }
    }
    /// `ctx->loading = true` (the config thread holds config_lock).
    pub fn set_loading(&self) {
        // SAFETY: as above.
        unsafe { *field_ptr!(self.as_ptr(), ProxyCtx, loading) = true }
    }
    /// `ctx->buffer_memory_limit = v`, without the lock, as upstream (one
    /// aligned 64-bit store).
    pub fn set_buffer_memory_limit(&self, v: u64) {
        // SAFETY: an aligned u64 member; upstream writes it the same way.
        unsafe { *field_ptr!(self.as_ptr(), ProxyCtx, buffer_memory_limit) = v }
    }
    /// The proxy's IO thread.
    pub fn io_thread(&self) -> EventThread {
        // SAFETY: set by memcached before any config runs, never changed;
        // a live event thread of this proxy.
        unsafe { EventThread::from_raw(*field_ptr!(self.as_ptr(), ProxyCtx, proxy_io_thread)) }
    }
    /// Whether `ctx->tls_ctx` is set (only with `--enable-proxy-tls`).
    #[cfg(mcp_proxy_tls)]
    pub fn tls_initialized(&self) -> bool {
        // SAFETY: written by the config thread (mcp.init_tls).
        !unsafe { *field_ptr!(self.as_ptr(), ProxyCtx, tls_ctx) }.is_null()
    }
}

impl StatsLocked<'_> {
    /// The global tunables.
    #[inline(always)]
    pub fn tunables(&mut self) -> &mut ProxyTunables {
        // SAFETY: covered by stats_lock, held for this value's life; unique
        // through &mut self.
        unsafe { &mut *field_ptr!(self.p.as_ptr(), ProxyCtx, tunables) }
    }
    /// `ctx->active_req_limit = v`
    #[inline(always)]
    pub fn set_active_req_limit(&mut self, v: ProxyCtx_active_req_limit_t) {
        // SAFETY: covered by stats_lock.
        unsafe { *field_ptr!(self.p.as_ptr(), ProxyCtx, active_req_limit) = v }
    }
    /// `STAT_INCR`/`STAT_DECR(ctx, backend_total, d)`
    #[inline(always)]
    pub fn add_backend_total(&mut self, d: i64) {
        let p = field_ptr!(self.p.as_ptr(), ProxyCtx, backend_total);
        // SAFETY: covered by stats_lock.
        unsafe { *p = (*p).wrapping_add(d as u64) }
    }
}

impl crate::vm::Vm {
    /// `(every, next)` of the cron entry (an `mcp_cron_t` userdata without
    /// metatable, made by mcp.register_cron) at `idx`; `None` for anything
    /// that is not a userdata of that size.
    pub fn cron_timing(&self, idx: c_int) -> Option<(u32, u32)> {
        if self.type_of(idx) != crate::ffi::lua::LUA_TUSERDATA || self.rawlen(idx) < McpCron::C_SIZE {
            return None;
        }
        let p = self.to_userdata_ptr(idx) as *mut McpCron;
        // SAFETY: a live userdata block of at least sizeof(mcp_cron_t)
        // bytes; two plain u32 reads (any bit pattern is a valid u32).
        unsafe { Some((*field_ptr!(p, McpCron, every), *field_ptr!(p, McpCron, next))) }
    }
}

/// `mcp_tls_init(ctx)` (`--enable-proxy-tls` builds).
#[cfg(mcp_proxy_tls)]
pub fn tls_init(ctx: Ctx) {
    // SAFETY: memcached's TLS set-up of the live context, on the config
    // thread.
    unsafe { mcp_tls_init(ctx.as_ptr()) };
}
