//! Pools (`mcp_pool_t`) and their per-worker proxies (`mcp_pool_proxy_t`).
//!
//! A pool is a config-VM userdata built by `mcp.pool`; after that it is
//! read-only except for its global-object refcount (`p->g`, under
//! `p->g.lock`). Worker threads reach it through their pool proxy
//! (`pp->main`) for every routed request.

use core::ffi::{CStr, c_char, c_int, c_void};
use core::ptr::NonNull;

use crate::ffi::host::*;
use crate::host::backend::BackendRef;
use crate::mcplib::pool::{key_hash_filter_stop, key_hash_filter_tag};
use crate::vm::{Fresh, LResult, Userdata, Vm};

// SAFETY: every "mcp.pool" userdata is created by mcplib_pool with at least
// size_of::<McpPool>() bytes (plus its slot array).
unsafe impl Userdata for McpPool {
    const NAME: &'static CStr = c"mcp.pool";
}
// SAFETY: every "mcp.pool_proxy" userdata is created by memcached
// (proto_proxy.c) as an mcp_pool_proxy_t.
unsafe impl Userdata for McpPoolProxy {
    const NAME: &'static CStr = c"mcp.pool_proxy";
}
// SAFETY: memcached's proxy_request.c creates "mcp.request" userdata as
// mcp_request_t.
unsafe impl Userdata for McpRequest {
    const NAME: &'static CStr = c"mcp.request";
}
// SAFETY: memcached's proxy_result.c creates "mcp.response" userdata as
// mcp_resp_t.
unsafe impl Userdata for McpResp {
    const NAME: &'static CStr = c"mcp.response";
}
// SAFETY: memcached's proxy_luafgen.c creates "mcp.funcgen" userdata as
// mcp_funcgen_t.
unsafe impl Userdata for McpFuncgen {
    const NAME: &'static CStr = c"mcp.funcgen";
}

impl Vm {
    /// The slot array (`p->pool[]`) of the pool `pool` names: its
    /// `pool_be_total` entries, never more than the userdata block holds.
    pub fn pool_slots(&mut self, pool: &Fresh<McpPool>) -> LResult<&mut [McpPoolBe]> {
        let room = pool.size().saturating_sub(McpPool::POOL_OFFSET) / McpPoolBe::C_SIZE;
        let n = (self.fresh_ref(pool)?.pool_be_total.max(0) as usize).min(room);
        // SAFETY: n entries fit in the block (pool.size() bytes, the size
        // Lua allocated; fresh_ref confirmed it is still on the stack) after POOL_OFFSET; the pool is only written by this
        // (config) thread, and the slice borrows &mut self, so no Lua call
        // (or other view of it) runs meanwhile.
        Ok(unsafe {
            core::slice::from_raw_parts_mut(
                (pool.as_ptr() as *mut u8).add(McpPool::POOL_OFFSET) as *mut McpPoolBe,
                n,
            )
        })
    }

    /// The backend in slot `i` of the pool `pool` names.
    pub fn pool_slot_backend(&mut self, pool: &Fresh<McpPool>, i: usize) -> Option<BackendRef<'_>> {
        let be = NonNull::new(self.pool_slots(pool).ok()?.get(i)?.be)?;
        // SAFETY: a slot's backend is kept alive by the slot's registry
        // reference to its wrapper; borrowed from &mut self, so no Lua call
        // can release it meanwhile.
        Some(unsafe { BackendRef::from_raw(be) })
    }

    /// `lua_touserdata` of a light userdata the distribution's `new`
    /// returned: memcached's `struct proxy_hash_caller` (upstream trusts the
    /// distribution module the same way).
    pub fn hash_caller_at(&self, idx: c_int) -> Option<ProxyHashCaller> {
        let p = self.to_userdata_ptr(idx) as *const ProxyHashCaller;
        if p.is_null() {
            return None;
        }
        // SAFETY: the distribution keeps it alive in the userdata returned
        // with it (referenced by the pool); a plain copy of two pointers.
        Some(unsafe { p.read() })
    }

    /// `((struct proxy_hash_func *)lua_touserdata(L, idx))->func`
    pub fn hash_func_at(&self, idx: c_int) -> Option<Option<KeyHashFunc>> {
        let p = self.to_userdata_ptr(idx) as *const ProxyHashFunc;
        if p.is_null() {
            return None;
        }
        // SAFETY: a `hash` option is a proxy_hash_func light userdata
        // (mcp.hash_xxhash or a C module's), as upstream assumes.
        Some(unsafe { (*p).func })
    }
}

/// A pool proxy that memcached hands to the routing helper.
#[derive(Clone, Copy)]
pub struct PoolProxy {
    main: NonNull<McpPool>,
    slots: *mut McpPoolBe,
}

impl PoolProxy {
    /// # Safety
    /// `pp` is a live `mcp.pool_proxy` of the calling worker: `pp->main` is
    /// a constructed pool kept alive by the proxy's reference and
    /// `pp->pool` points at this worker's `pool_size` slots of it.
    #[inline(always)]
    pub unsafe fn from_raw(pp: *mut McpPoolProxy) -> PoolProxy {
        // SAFETY: caller contract.
        unsafe {
            PoolProxy {
                main: NonNull::new_unchecked((*pp).main),
                slots: (*pp).pool,
            }
        }
    }

    /// The backend in this worker's slot `i` (NULL when `i >= pool_size`).
    #[inline(always)]
    pub fn backend(&self, i: u32) -> *mut McpBackend {
        if i >= self.pool_size() as u32 {
            return core::ptr::null_mut();
        }
        // SAFETY: i < pool_size slots for this worker (from_raw contract);
        // `be` never changes after construction.
        unsafe { (*self.slots.add(i as usize)).be }
    }
}

/// Read-only members of a constructed pool, read one by one (other threads
/// write its refcount members concurrently, so no reference to the whole
/// pool is made).
macro_rules! pool_getters {
    ($($(#[$m:meta])* $name:ident = $($f:ident).+ : $t:ty;)*) => {
        impl PoolProxy {
            $(
                $(#[$m])*
                #[inline(always)]
                pub fn $name(&self) -> $t {
                    // SAFETY: written only while mcp.pool built the pool,
                    // before any worker could reach it; alive (from_raw).
                    unsafe { *field_ptr!(self.main.as_ptr(), McpPool, $($f).+) }
                }
            )*
        }
    };
}
pool_getters! {
    /// `p->pool_size`
    pool_size = pool_size: c_int;
    /// `p->hash_seed`
    hash_seed = hash_seed: u64;
    /// `p->key_filter`
    key_filter = key_filter: Option<KeyHashFilterFunc>;
    /// `p->key_hasher`
    key_hasher = key_hasher: Option<KeyHashFunc>;
    /// `p->phc.selector_func`
    selector = phc.selector_func: Option<HashSelectorFunc>;
    /// `p->phc.ctx`
    selector_ctx = phc.ctx: *mut c_void;
}

impl PoolProxy {
    /// Calls the distribution's `hash_selector_func` with its context
    /// (`p->phc`); `None` when the pool has no selector.
    #[inline(always)]
    pub fn select(&self, hash: u64) -> u32 {
        // SAFETY: mcp.pool fails (the pool is never handed to a worker)
        // unless the distribution set a selector; the selector contract:
        // its ctx is the distribution's own context returned with it (kept
        // alive through p->phc_ref).
        unsafe {
            let f = self.selector().unwrap_unchecked();
            f(hash, self.selector_ctx())
        }
    }

    /// `p->key_hasher` as an address (0 when unset), for a cheap identity
    /// test on the hot path.
    #[inline(always)]
    pub fn key_hasher_addr(&self) -> usize {
        self.key_hasher().map_or(0, |f| f as usize)
    }

    /// `p->key_filter_conf`
    #[inline(always)]
    pub fn key_filter_conf(&self) -> &[c_char; KEY_HASH_FILTER_MAX + 1] {
        // SAFETY: as the getters: immutable after construction.
        unsafe { &*field_ptr!(self.main.as_ptr(), McpPool, key_filter_conf) }
    }
}

/// Calls a `key_hash_filter_func` another module installed.
#[inline(always)]
pub fn call_filter<'a>(f: KeyHashFilterFunc, conf: &[c_char], key: &'a [u8]) -> &'a [u8] {
    let mut newlen = key.len();
    // SAFETY: the filter contract: conf is NUL-terminated (pool's
    // key_filter_conf), key points to klen bytes; it returns a pointer into
    // key with newlen bytes remaining from it.
    unsafe {
        let p = f(
            conf.as_ptr(),
            key.as_ptr() as *const c_char,
            key.len(),
            &mut newlen,
        );
        core::slice::from_raw_parts(p as *const u8, newlen)
    }
}

/// Calls a `key_hash_func`.
#[inline(always)]
pub fn call_hasher(f: KeyHashFunc, key: &[u8], seed: u64) -> u64 {
    // SAFETY: the hasher contract: `len` readable bytes at key.
    unsafe { f(key.as_ptr() as *const c_void, key.len(), seed) }
}

/// A key handed to us by C as (pointer, length).
///
/// # Safety
/// `key` points to `len` readable bytes that outlive `'a` (any pointer when
/// `len` is 0).
#[inline(always)]
pub unsafe fn key_slice<'a>(key: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        // SAFETY: caller contract.
        unsafe { core::slice::from_raw_parts(key, len) }
    }
}

/// The global-object part of a pool: `mcp_gobj_finalize(&p->g)`.
pub fn gobj_finalize(p: NonNull<McpPool>) {
    // SAFETY: memcached's finalizer for a live pool's global object.
    unsafe { mcp_gobj_finalize(field_ptr!(p.as_ptr(), McpPool, g)) }
}

/// `mcplib_pool_proxy_gc`'s release of one worker's reference to a pool:
/// the last one hands the pool to the manager thread.
pub fn release_pool_ref(p: NonNull<McpPool>) {
    let g = field_ptr!(p.as_ptr(), McpPool, g);
    let lock = field_ptr!(g, McpGlobalObj, lock);
    let refcount = field_ptr!(g, McpGlobalObj, refcount);
    // SAFETY: p is alive while any proxy references it (refcount); the
    // refcount is covered by g.lock, the manager queue by manager_lock.
    unsafe {
        libc::pthread_mutex_lock(lock);
        *refcount -= 1;
        if *refcount == 0 {
            let ctx = *field_ptr!(p.as_ptr(), McpPool, ctx);
            libc::pthread_mutex_lock(field_ptr!(ctx, ProxyCtx, manager_lock));
            let head = field_ptr!(ctx, ProxyCtx, manager_head);
            let next = field_ptr!(g, McpGlobalObj, next.stqe_next);
            *next = core::ptr::null_mut();
            *(*head).stqh_last = g;
            (*head).stqh_last = next;
            libc::pthread_cond_signal(field_ptr!(ctx, ProxyCtx, manager_cond));
            libc::pthread_mutex_unlock(field_ptr!(ctx, ProxyCtx, manager_lock));
        }
        libc::pthread_mutex_unlock(lock);
    }
}

/// `pthread_mutex_init(&p->g.lock, NULL)` for a pool being built.
pub fn init_gobj_lock(p: &mut McpPool) {
    // SAFETY: a mutex in memory we own exclusively, not yet initialised.
    unsafe { libc::pthread_mutex_init(&mut p.g.lock, core::ptr::null()) };
}

/// The default `key_hash_func`: XXH3-64 with seed, bit-identical to
/// memcached's (inlined) `XXH3_64bits_withSeed` from its xxhash.h 0.8.0.
///
/// # Safety
/// `key` points to `len` readable bytes (any pointer when `len` is 0).
pub unsafe extern "C" fn mcp_key_hash_xxh3(key: *const c_void, len: usize, seed: u64) -> u64 {
    // SAFETY: key_hash_func contract.
    let k = unsafe { key_slice(key as *const u8, len) };
    xxhash_rust::xxh3::xxh3_64_with_seed(k, seed)
}

/// `key_hash_filter_func` ABI of [`key_hash_filter_stop`].
///
/// # Safety
/// `conf` is the pool's NUL-terminated `key_filter_conf`, `key` points to
/// `klen` bytes, `newlen` is writable.
pub unsafe extern "C" fn mcp_key_hash_filter_stop(
    conf: *const c_char,
    key: *const c_char,
    klen: usize,
    newlen: *mut usize,
) -> *const c_char {
    // SAFETY: caller contract.
    unsafe {
        let conf = CStr::from_ptr(conf).to_bytes();
        *newlen = key_hash_filter_stop(conf, key_slice(key as *const u8, klen));
    }
    key
}

/// `key_hash_filter_func` ABI of [`key_hash_filter_tag`].
///
/// # Safety
/// As [`mcp_key_hash_filter_stop`]; `conf` has at least 2 bytes (mcp.pool
/// checks 2..=KEY_HASH_FILTER_MAX).
pub unsafe extern "C" fn mcp_key_hash_filter_tag(
    conf: *const c_char,
    key: *const c_char,
    klen: usize,
    newlen: *mut usize,
) -> *const c_char {
    // SAFETY: caller contract.
    unsafe {
        let c = [*conf as u8, *conf.add(1) as u8];
        let (start, len) = key_hash_filter_tag(&c, key_slice(key as *const u8, klen));
        *newlen = len;
        key.add(start)
    }
}
