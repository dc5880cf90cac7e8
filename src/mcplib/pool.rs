//! Pools: `mcp.pool`, `mcp.pool.__gc`, `mcp.pool_proxy.__gc`, the key hash
//! filters, the default key hasher and the routing helper
//! (proxy_lua.c:697-1066).

use core::ffi::{c_char, c_int};
use core::ptr::{NonNull, fn_addr_eq};

use crate::ffi::host::*;
use crate::ffi::lua::*;
use crate::host::pool::{
    PoolProxy, call_filter, call_hasher, gobj_finalize, init_gobj_lock, mcp_key_hash_filter_stop,
    mcp_key_hash_filter_tag, mcp_key_hash_xxh3, release_pool_ref,
};
use crate::host::thread::{num_threads, worker};
use crate::host::{ConfigVm, EventThread, WorkerVm, sys};
use crate::mcplib::backend::{_mcplib_backend_checkcache, _mcplib_make_backendconn};
use crate::vm::{Fresh, LResult, LuaError, upto_nul};

/// proxy_lua.c:697 `mcplib_pool_gc` (`mcp.pool.__gc`).
pub fn mcplib_pool_gc(vm: &mut ConfigVm) -> LResult {
    let pool = vm.hold_block::<McpPool>(-1)?;
    gobj_finalize(pool.as_nonnull());
    let phc_ref = vm.fresh_ref(&pool)?.phc_ref;
    vm.registry_unref(phc_ref);
    let total = vm.pool_slots(&pool)?.len();
    for x in 0..total {
        let r = vm.pool_slots(&pool)?.get(x).map_or(0, |s| s.ref_);
        if r != 0 {
            vm.registry_unref(r);
        }
    }
    Ok(0)
}

/// proxy_lua.c:716 `mcp_key_hash_filter_stop`: hash only the part of the key
/// before the first occurrence of `conf` (C `strstr` semantics: both sides
/// end at their first NUL). Keys over KEY_MAX_LENGTH are hashed whole.
/// Returns the length to hash.
pub fn key_hash_filter_stop(conf: &[u8], key: &[u8]) -> usize {
    if key.len() > KEY_MAX_LENGTH {
        return key.len();
    }
    let hay = upto_nul(key);
    let needle = upto_nul(conf);
    if needle.is_empty() {
        return 0;
    }
    match hay.windows(needle.len()).position(|w| w == needle) {
        Some(pos) => pos,
        None => key.len(),
    }
}

/// proxy_lua.c:745 `mcp_key_hash_filter_tag`: hash only what lies between
/// the first `conf[0]` and the next `conf[1]` after it. Returns (start, len).
pub fn key_hash_filter_tag(conf: &[u8; 2], key: &[u8]) -> (usize, usize) {
    if let Some(t1) = key.iter().position(|&c| c == conf[0]) {
        let remain = key.len() - t1;
        // must be at least one character in between the tags to hash.
        if remain > 1 {
            if let Some(off) = key[t1 + 1..].iter().position(|&c| c == conf[1]) {
                return (t1 + 1, off);
            }
        }
    }
    (0, key.len())
}

/// `char` bytes as `u8` (a plain loop: `<[T; N]>::map` has drop glue).
#[inline(always)]
fn as_u8<const N: usize>(a: &[c_char; N]) -> [u8; N] {
    let mut out = [0u8; N];
    for (o, c) in out.iter_mut().zip(a) {
        *o = *c as u8;
    }
    out
}

/// proxy_lua.c:765 `_mcplib_pool_dist`: the distribution object is at -1;
/// calls its `new(pooltable, opts)` and keeps the selector it returns.
fn _mcplib_pool_dist(vm: &mut ConfigVm, pool: &Fresh<McpPool>) -> LResult<()> {
    vm.check_type(-1, LUA_TTABLE)?;
    if vm.getfield(-1, c"new") != LUA_TFUNCTION {
        return Err(LuaError::Str(c"key distribution object missing 'new' function"));
    }

    // the copy pool table for the distribution's constructor.
    let pool_size = vm.fresh_ref(pool)?.pool_size;
    vm.createtable(pool_size, 0);
    for x in 1..=pool_size.max(0) {
        let mut name = [0 as c_char; MAX_NAMELEN + 1];
        let mut port = [0 as c_char; MAX_PORTLEN + 1];
        if let Some(be) = vm.pool_slot_backend(pool, (x - 1) as usize) {
            name = *be.name();
            port = *be.port();
        }
        vm.createtable(0, 4);
        vm.push_integer(x as lua_Integer);
        vm.setfield(-2, c"id");
        vm.push_cbuf(&name);
        vm.setfield(-2, c"addr");
        vm.push_cbuf(&port);
        vm.setfield(-2, c"port");
        vm.rawseti(-2, x as lua_Integer);
    }
    // the options argument: whatever is at index 2.
    vm.push_value(2);

    if vm.pcall(2, 2) != LUA_OK {
        return Err(LuaError::Pushed); // error is on the stack already.
    }

    // -1: lightuserdata to the proxy_hash_caller owned by the userdata at
    // -2, which we must keep referenced.
    vm.check_type(-1, LUA_TLIGHTUSERDATA)?;
    vm.check_type(-2, LUA_TUSERDATA)?;
    let phc = vm.hash_caller_at(-1);
    if let Some(phc) = phc {
        let p = vm.fresh(pool)?;
        p.phc.selector_func = phc.selector_func;
        p.phc.ctx = phc.ctx;
    }
    vm.pop(1);
    let r = vm.registry_ref();
    vm.fresh(pool)?.phc_ref = r;
    Ok(())
}

/// A backend cache key being assembled: room for the longest prefix and
/// label (each under MAX_LABELLEN) and the `:w<offset>:` between them.
struct KeyBuf {
    buf: [u8; 2 * MAX_LABELLEN + 32],
    len: usize,
}

impl KeyBuf {
    fn new() -> KeyBuf {
        KeyBuf {
            buf: [0; 2 * MAX_LABELLEN + 32],
            len: 0,
        }
    }
    /// Appends `b` (whatever fits; the limits above make it all fit).
    fn put(&mut self, b: &[u8]) {
        let room = self.buf.len() - self.len;
        let n = b.len().min(room);
        if let (Some(dst), Some(src)) = (self.buf.get_mut(self.len..self.len + n), b.get(..n)) {
            dst.copy_from_slice(src);
            self.len += n;
        }
    }
    /// Appends `char` bytes.
    fn put_c(&mut self, b: &[c_char]) {
        for &c in b {
            if self.len < self.buf.len() {
                self.buf[self.len] = c as u8;
                self.len += 1;
            }
        }
    }
    /// Appends `v` in decimal, as Lua's `lua_Integer` to string ("%lld").
    fn put_int(&mut self, v: i64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut u = v.unsigned_abs();
        loop {
            i -= 1;
            digits[i] = b'0' + (u % 10) as u8;
            u /= 10;
            if u == 0 {
                break;
            }
        }
        if v < 0 {
            self.put(b"-");
        }
        self.put(&digits[i..]);
    }
    fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// Pushes and drops the pieces upstream's `_mcplib_pool_make_be_loop`
/// pushes and `lua_concat`s into a backend cache key, in its order:
/// `[beprefix]`, `":io:"` or `":w"` and `":"`, the label, then (made by
/// `lua_concat` from the integer) the offset's digits. Lua creates each of
/// them, or finds it interned, exactly as for upstream's.
fn push_drop_key_pieces(
    vm: &mut ConfigVm,
    prefix: &[c_char],
    use_iothread: bool,
    label: &[u8],
    digits: &[u8],
) {
    let top = vm.gettop();
    if prefix.first().is_some_and(|&c| c != 0) {
        vm.push_cbuf(prefix);
    }
    if use_iothread {
        vm.push_cstr(c":io:");
    } else {
        vm.push_cstr(c":w");
        vm.push_cstr(c":");
    }
    vm.push_bytes(label);
    if !use_iothread {
        vm.push_bytes(digits);
    }
    vm.settop(top);
}

/// proxy_lua.c:823 `_mcplib_pool_make_be_loop`: find or create the backend
/// of every label for slot block `offset`, owned by event thread `e`.
fn _mcplib_pool_make_be_loop(
    vm: &mut ConfigVm,
    pool: &Fresh<McpPool>,
    offset: c_int,
    e: EventThread,
) -> LResult<()> {
    let (pool_size, use_iothread, prefix) = {
        let p = vm.fresh_ref(pool)?;
        (p.pool_size, p.use_iothread, p.beprefix)
    };
    // The cache key, [beprefix] .. (":io:" | ":w" .. offset .. ":") .. label.
    // Upstream pushes the pieces and lua_concat()s them; here the key is
    // assembled in a buffer (up to the label once per loop) and pushed as
    // one string, which saves the concatenation and the integer formatting.
    // The pieces are still pushed, in upstream's order, and dropped: so the
    // VM creates (or finds interned) the same strings in the same order as
    // upstream's, the collector is paced the same, and the heap is laid out
    // as upstream's (docs/BENCHMARKS.md, RSS).
    let mut key = KeyBuf::new();
    key.put(upto_nul(&as_u8(&prefix)));
    let mut digits = 0..0; // where the offset's digits are in the key
    if use_iothread {
        key.put(b":io:");
    } else {
        key.put(b":w");
        let start = key.len;
        key.put_int(offset as i64);
        digits = start..key.len;
        key.put(b":");
    }
    let head = key.len;
    for x in 1..=pool_size.max(0) {
        let slot = (x - 1) as usize + offset.wrapping_mul(pool_size) as usize;
        vm.geti(1, x as lua_Integer); // next server
        // on error, the pool's __gc releases the references made so far.
        let (bel, label) = vm.hold_ref::<McpBackendLabel>(-1)?;
        key.len = head;
        key.put_c(label.label.get(..label.llen).unwrap_or(&[]));
        let k = key.bytes();
        let (label, digits) = (k.get(head..).unwrap_or(&[]), k.get(digits.clone()).unwrap_or(&[]));
        push_drop_key_pieces(vm, &prefix, use_iothread, label, digits);
        vm.push_bytes(k);

        vm.push_value(-1); // copy the key for the create path.
        // (the backend also gets be->use_io_thread = p->use_iothread there)
        let be = match _mcplib_backend_checkcache(vm, &bel, use_iothread)? {
            Some(be) => be,
            None => _mcplib_make_backendconn(vm, &bel, e, use_iothread)?,
        };
        // the wrapper is on top: reference it (pops it).
        let r = vm.registry_ref();
        match vm.pool_slots(pool)?.get_mut(slot) {
            Some(s) => {
                s.be = be; // direct pointer to the backend.
                s.ref_ = r;
            }
            None => {
                return Err(LuaError::Str(
                    c"proxy-lua-rs: internal error: pool slot out of range",
                ));
            }
        }
        vm.pop(1); // the key
        vm.pop(1); // the mcp.backend label object
    }
    Ok(())
}

/// proxy_lua.c:871 `_mcplib_pool_make_be`.
fn _mcplib_pool_make_be(vm: &mut ConfigVm, pool: &Fresh<McpPool>) -> LResult<()> {
    if vm.fresh_ref(pool)?.use_iothread {
        let e = vm.ctx().io_thread();
        _mcplib_pool_make_be_loop(vm, pool, 0, e)
    } else {
        for n in 0..num_threads() {
            let Some((base, e)) = worker(n) else {
                return Err(LuaError::Str(c"proxy-lua-rs: internal error: no worker thread"));
            };
            _mcplib_pool_make_be_loop(vm, pool, base, e)?;
        }
        Ok(())
    }
}

/// The default distribution: `mcp.dist_jump_hash`, looked up when the pool
/// is made (a config may replace it).
fn default_dist(vm: &mut ConfigVm, pool: &Fresh<McpPool>) -> LResult<()> {
    vm.getglobal(c"mcp");
    if vm.getfield(-1, c"dist_jump_hash") != LUA_TNIL {
        _mcplib_pool_dist(vm, pool)?;
    }
    vm.pop(1); // "dist_jump_hash" value (or nil)
    vm.pop(1); // "mcp"
    Ok(())
}

/// proxy_lua.c:885 `mcplib_pool` (`mcp.pool(backends [, opts])`).
pub fn mcplib_pool(vm: &mut ConfigVm) -> LResult {
    let ctx = vm.ctx();
    let argc = vm.gettop();
    vm.check_type(1, LUA_TTABLE)?;
    let n = vm.len(1) as c_int; // length of the array table
    let workers = num_threads();

    // (upstream's size_t arithmetic; an impossible size makes Lua raise its
    // memory error instead of wrapping around)
    let plen = usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_mul(workers.max(0) as usize))
        .and_then(|k| k.checked_mul(McpPoolBe::C_SIZE))
        .and_then(|b| b.checked_add(McpPool::C_SIZE))
        .unwrap_or(usize::MAX);
    let fresh = vm.new_udata::<McpPool>(plen, 0, None);
    let use_iothread = ctx.with_stats(|s| s.tunables().use_iothread);
    {
        let p = vm.fresh(&fresh)?;
        p.pool_size = n;
        p.pool_be_total = n.wrapping_mul(workers);
        p.use_iothread = use_iothread;
        p.key_hasher = Some(mcp_key_hash_xxh3);
        init_gobj_lock(p);
        p.ctx = ctx.as_ptr();
    }
    vm.setmetatable_named(c"mcp.pool");

    // an ignored nil second argument is allowed.
    if argc == 1 || vm.is_nil(2) {
        _mcplib_pool_make_be(vm, &fresh)?;
        default_dist(vm, &fresh)?;
        return Ok(1);
    }

    // an options table decorates the pool and goes to the dist's new().
    vm.check_type(2, LUA_TTABLE)?;

    if vm.getfield(2, c"iothread") != LUA_TNIL {
        vm.check_type(-1, LUA_TBOOLEAN)?;
        let b = vm.to_boolean(-1);
        vm.fresh(&fresh)?.use_iothread = b;
    }
    vm.pop(1);

    if vm.getfield(2, c"beprefix") != LUA_TNIL {
        vm.check_type(-1, LUA_TSTRING)?;
        let mut pfx = [0 as c_char; MAX_LABELLEN + 1];
        let b = vm.to_bytes(-1).unwrap_or(&[]);
        let len = b.len().min(MAX_LABELLEN - 1);
        for (d, s) in pfx.iter_mut().zip(&b[..len]) {
            *d = *s as c_char;
        }
        vm.fresh(&fresh)?.beprefix = pfx;
    }
    vm.pop(1);

    _mcplib_pool_make_be(vm, &fresh)?;

    // stack: backends, options, mcp.pool
    if vm.getfield(2, c"dist") != LUA_TNIL {
        // overriding the distribution function.
        _mcplib_pool_dist(vm, &fresh)?;
        vm.pop(1); // the dist table
    } else {
        vm.pop(1); // the nil
        default_dist(vm, &fresh)?;
    }

    if vm.getfield(2, c"filter") != LUA_TNIL {
        vm.check_type(-1, LUA_TSTRING)?;
        let filter: KeyHashFilterFunc = match vm.to_cbytes(-1).unwrap_or(&[]) {
            b"stop" => mcp_key_hash_filter_stop,
            b"tags" => mcp_key_hash_filter_tag,
            _ => {
                vm.push_fstring_str(c"unknown hash filter specified: %s\n", -1);
                return Err(LuaError::Pushed);
            }
        };
        vm.fresh(&fresh)?.key_filter = Some(filter);
        vm.pop(1); // "filter" value

        if vm.getfield(2, c"filter_conf") == LUA_TSTRING {
            let mut conf = [0 as c_char; KEY_HASH_FILTER_MAX + 1];
            let c = vm.to_bytes(-1).unwrap_or(&[]);
            if c.len() < 2 || c.len() > KEY_HASH_FILTER_MAX {
                vm.push_fstring_int(
                    c"hash filter conf must be between 2 and %d characters",
                    KEY_HASH_FILTER_MAX as c_int,
                );
                return Err(LuaError::Pushed);
            }
            for (d, s) in conf.iter_mut().zip(c) {
                *d = *s as c_char;
            }
            vm.fresh(&fresh)?.key_filter_conf = conf;
        } else {
            return Err(LuaError::Str(c"hash filter requires 'filter_conf' string"));
        }
        vm.pop(1); // "filter_conf" value
    } else {
        vm.pop(1);
    }

    if vm.getfield(2, c"hash") != LUA_TNIL {
        vm.check_type(-1, LUA_TLIGHTUSERDATA)?;
        if let Some(f) = vm.hash_func_at(-1) {
            vm.fresh(&fresh)?.key_hasher = f;
        }
    }
    vm.pop(1);

    if vm.getfield(2, c"seed") != LUA_TNIL {
        vm.check_type(-1, LUA_TSTRING)?;
        // a standard hash for the seed, whatever the key hasher.
        let seed = xxhash_rust::xxh3::xxh3_64(vm.to_bytes(-1).unwrap_or(&[]));
        vm.fresh(&fresh)?.hash_seed = seed;
    }
    vm.pop(1);

    if vm.fresh(&fresh)?.phc.selector_func.is_none() {
        return Err(LuaError::Str(c"cannot create pool missing 'dist' argument"));
    }
    Ok(1)
}

/// proxy_lua.c:1034 `mcplib_pool_proxy_gc` (`mcp.pool_proxy.__gc`, worker
/// thread): drop this worker's reference; the last one hands the pool to the
/// manager thread.
pub fn mcplib_pool_proxy_gc(vm: &mut WorkerVm) -> LResult {
    let main = vm.udata_ref::<McpPoolProxy>(-1)?.main;
    if let Some(p) = NonNull::new(main) {
        release_pool_ref(p);
    }
    Ok(0)
}

/// proxy_lua.c:1051 `mcplib_pool_proxy_call_helper`: filter, hash, select.
/// The per-request hot path: no allocation, no Lua. Our own hasher is
/// called directly (inlined), any other through its pointer; a key filter
/// is applied out of line (rare, and it keeps this path's register use
/// low).
#[inline(always)]
pub fn mcplib_pool_proxy_call_helper(pp: PoolProxy, key: &[u8]) -> *mut McpBackend {
    let key = match pp.key_filter() {
        None => key,
        Some(f) => apply_filter(pp, f, key),
    };
    // Both are set when the pool is made (mcp.pool refuses a pool without a
    // selector; the hasher is ours or from `hash`).
    let hash = if pp.key_hasher_addr() == mcp_key_hash_xxh3 as KeyHashFunc as usize {
        xxhash_rust::xxh3::xxh3_64_with_seed(key, pp.hash_seed())
    } else {
        match pp.key_hasher() {
            Some(h) => call_hasher(h, key, pp.hash_seed()),
            None => return core::ptr::null_mut(),
        }
    };
    let lookup = pp.select(hash);
    sys::assert_c(!pp.selector_ctx().is_null(), c"p->phc.ctx != NULL");
    pp.backend(lookup)
}

/// The pool's key filter: ours inline, another module's through its pointer.
#[inline(never)]
fn apply_filter(pp: PoolProxy, f: KeyHashFilterFunc, key: &[u8]) -> &[u8] {
    if fn_addr_eq(f, mcp_key_hash_filter_stop as KeyHashFilterFunc) {
        &key[..key_hash_filter_stop(&as_u8(pp.key_filter_conf()), key)]
    } else if fn_addr_eq(f, mcp_key_hash_filter_tag as KeyHashFilterFunc) {
        let c = pp.key_filter_conf();
        let (start, len) = key_hash_filter_tag(&[c[0] as u8, c[1] as u8], key);
        &key[start..start + len]
    } else {
        call_filter(f, pp.key_filter_conf(), key)
    }
}
