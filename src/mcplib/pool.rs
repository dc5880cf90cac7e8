//! Pools: `mcp.pool`, `mcp.pool.__gc`, `mcp.pool_proxy.__gc`, the key hash
//! filters, the default key hasher and the routing helper
//! (proxy_lua.c:697-1066).

use core::ffi::{CStr, c_char, c_int, c_void};
use core::ptr;

use crate::ffi::host::*;
use crate::ffi::lua::*;
use crate::lua::*;
use crate::mcplib::backend::{_mcplib_backend_checkcache, _mcplib_make_backendconn, debug_assert_c};

/// A key as a slice (a zero length may come with any pointer).
///
/// # Safety
/// `key` points to `len` readable bytes that outlive the slice.
#[inline(always)]
unsafe fn key_bytes<'a>(key: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        // SAFETY: caller contract.
        unsafe { core::slice::from_raw_parts(key, len) }
    }
}

/// The default `key_hash_func`: XXH3-64 with seed, bit-identical to
/// memcached's (inlined) `XXH3_64bits_withSeed` from its xxhash.h 0.8.0.
///
/// # Safety
/// `key` points to `len` readable bytes (any pointer when `len` is 0).
pub unsafe extern "C" fn mcp_key_hash_xxh3(key: *const c_void, len: usize, seed: u64) -> u64 {
    // SAFETY: key_hash_func contract.
    let k = unsafe { key_bytes(key as *const u8, len) };
    xxhash_rust::xxh3::xxh3_64_with_seed(k, seed)
}

/// proxy_lua.c:697 `mcplib_pool_gc` (`mcp.pool.__gc`).
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_pool_gc(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM; the pool userdata is live during __gc.
    unsafe {
        let p: *mut McpPool = checkudata(L, -1, c"mcp.pool");
        mcp_gobj_finalize(&mut (*p).g);
        luaL_unref(L, LUA_REGISTRYINDEX, (*p).phc_ref);
        let pool = (p as *mut u8).add(McpPool::POOL_OFFSET) as *mut McpPoolBe;
        for x in 0..(*p).pool_be_total.max(0) as usize {
            let r = (*pool.add(x)).ref_;
            if r != 0 {
                luaL_unref(L, LUA_REGISTRYINDEX, r);
            }
        }
    }
    Ok(0)
}

/// The part of `key` a C `strstr` on a NUL-terminated copy sees.
#[inline]
fn upto_nul(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => &b[..n],
        None => b,
    }
}

/// proxy_lua.c:716 `mcp_key_hash_filter_stop`: hash only the part of the key
/// before the first occurrence of `conf` (C `strstr` semantics: both sides
/// end at their first NUL). Keys over KEY_MAX_LENGTH are hashed whole.
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

/// `key_hash_filter_func` ABI wrapper of [`key_hash_filter_stop`].
unsafe extern "C" fn mcp_key_hash_filter_stop(
    conf: *const c_char,
    key: *const c_char,
    klen: usize,
    newlen: *mut usize,
) -> *const c_char {
    // SAFETY: key_hash_filter_func contract: conf is the pool's
    // NUL-terminated key_filter_conf, key points to klen bytes.
    unsafe {
        let conf = CStr::from_ptr(conf).to_bytes();
        let k = key_bytes(key as *const u8, klen);
        *newlen = key_hash_filter_stop(conf, k);
    }
    key
}

/// `key_hash_filter_func` ABI wrapper of [`key_hash_filter_tag`].
unsafe extern "C" fn mcp_key_hash_filter_tag(
    conf: *const c_char,
    key: *const c_char,
    klen: usize,
    newlen: *mut usize,
) -> *const c_char {
    // SAFETY: as above; conf has at least 2 bytes (length checked 2..5).
    unsafe {
        let c = [*conf as u8, *conf.add(1) as u8];
        let k = key_bytes(key as *const u8, klen);
        let (start, len) = key_hash_filter_tag(&c, k);
        *newlen = len;
        key.add(start)
    }
}

/// proxy_lua.c:765 `_mcplib_pool_dist`: the distribution object is at -1;
/// calls its `new(pooltable, opts)` and keeps the selector it returns.
///
/// # Safety
/// `L` is the config VM inside `mcp.pool`; `p` the pool being built.
unsafe fn _mcplib_pool_dist(L: *mut lua_State, p: *mut McpPool) -> LResult<()> {
    // SAFETY: caller contract.
    unsafe {
        luaL_checktype(L, -1, LUA_TTABLE);
        if getfield(L, -1, c"new") != LUA_TFUNCTION {
            return Err(Error::Str(c"key distribution object missing 'new' function"));
        }

        // the copy pool table for the distribution's constructor.
        let pool_size = (*p).pool_size;
        lua_createtable(L, pool_size, 0);
        let pool = (p as *mut u8).add(McpPool::POOL_OFFSET) as *mut McpPoolBe;
        for x in 1..=pool_size.max(0) {
            let be = (*pool.add(x as usize - 1)).be;
            lua_createtable(L, 0, 4);
            lua_pushinteger(L, x as lua_Integer);
            setfield(L, -2, c"id");
            lua_pushstring(L, (*be).name.as_ptr());
            setfield(L, -2, c"addr");
            lua_pushstring(L, (*be).port.as_ptr());
            setfield(L, -2, c"port");
            lua_rawseti(L, -2, x as lua_Integer);
        }
        // the options argument: whatever is at index 2.
        lua_pushvalue(L, 2);

        if lua_pcall(L, 2, 2, 0) != LUA_OK {
            return Err(Error::Pushed); // error is on the stack already.
        }

        // -1: lightuserdata to the proxy_hash_caller owned by the userdata
        // at -2, which we must keep referenced.
        luaL_checktype(L, -1, LUA_TLIGHTUSERDATA);
        luaL_checktype(L, -2, LUA_TUSERDATA);
        let phc: *mut ProxyHashCaller = touserdata(L, -1);
        ptr::copy_nonoverlapping(phc, &mut (*p).phc, 1);
        lua_pop(L, 1);
        (*p).phc_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    Ok(())
}

/// proxy_lua.c:823 `_mcplib_pool_make_be_loop`: find or create the backend
/// of every label for slot block `offset`, owned by event thread `e`.
///
/// # Safety
/// `L` is the config VM inside `mcp.pool` (backends table at 1).
unsafe fn _mcplib_pool_make_be_loop(
    L: *mut lua_State,
    p: *mut McpPool,
    offset: c_int,
    e: *mut ProxyEventThread,
) -> LResult<()> {
    // SAFETY: caller contract.
    unsafe {
        let pool = (p as *mut u8).add(McpPool::POOL_OFFSET) as *mut McpPoolBe;
        let pool_size = (*p).pool_size;
        for x in 1..=pool_size.max(0) {
            let s = pool.add((x - 1 + offset.wrapping_mul(pool_size)) as usize);
            lua_geti(L, 1, x as lua_Integer); // next server
            // on error, the pool's __gc releases the references made so far.
            let bel: *mut McpBackendLabel = checkudata(L, -1, c"mcp.backend");

            // the cache key: [beprefix] .. (":io:" | ":w" .. offset .. ":") .. label
            let mut toconcat = 1;
            if (*p).beprefix[0] != 0 {
                lua_pushstring(L, (*p).beprefix.as_ptr());
                toconcat += 1;
            }
            if (*p).use_iothread {
                lua_pushstring(L, c":io:".as_ptr());
                toconcat += 1;
            } else {
                lua_pushstring(L, c":w".as_ptr());
                lua_pushinteger(L, offset as lua_Integer);
                lua_pushstring(L, c":".as_ptr());
                toconcat += 3;
            }
            lua_pushlstring(L, (*bel).label.as_ptr(), (*bel).llen);
            lua_concat(L, toconcat);

            lua_pushvalue(L, -1); // copy the key for the create path.
            let mut bew = _mcplib_backend_checkcache(L, bel);
            if bew.is_null() {
                bew = _mcplib_make_backendconn(L, bel, e)?;
            }
            (*s).be = (*bew).be; // direct pointer to the backend.
            (*(*bew).be).use_io_thread = (*p).use_iothread;

            // the wrapper is on top: reference it (pops it).
            (*s).ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
            lua_pop(L, 1); // the key
            lua_pop(L, 1); // the mcp.backend label object
        }
    }
    Ok(())
}

/// proxy_lua.c:871 `_mcplib_pool_make_be`.
///
/// # Safety
/// As [`_mcplib_pool_make_be_loop`].
unsafe fn _mcplib_pool_make_be(L: *mut lua_State, p: *mut McpPool) -> LResult<()> {
    // SAFETY: caller contract; worker threads exist before any config runs.
    unsafe {
        if (*p).use_iothread {
            let ctx = proxy_get_ctx(L);
            _mcplib_pool_make_be_loop(L, p, 0, (*ctx).proxy_io_thread)
        } else {
            for n in 0..settings.num_threads {
                let t = get_worker_thread(n);
                _mcplib_pool_make_be_loop(
                    L,
                    p,
                    (*t).thread_baseid,
                    (*t).proxy_event_thread as *mut ProxyEventThread,
                )?;
            }
            Ok(())
        }
    }
}

/// The default distribution: `mcp.dist_jump_hash`, looked up when the pool
/// is made (a config may replace it).
///
/// # Safety
/// As [`_mcplib_pool_dist`].
unsafe fn default_dist(L: *mut lua_State, p: *mut McpPool) -> LResult<()> {
    // SAFETY: caller contract.
    unsafe {
        lua_getglobal(L, c"mcp".as_ptr());
        if getfield(L, -1, c"dist_jump_hash") != LUA_TNIL {
            _mcplib_pool_dist(L, p)?;
        }
        lua_pop(L, 1); // "dist_jump_hash" value (or nil)
        lua_pop(L, 1); // "mcp"
    }
    Ok(())
}

/// proxy_lua.c:885 `mcplib_pool` (`mcp.pool(backends [, opts])`).
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_pool(L: *mut lua_State) -> LResult {
    // SAFETY: L is the config VM (module contract); the pool userdata stays
    // on the stack (index 2 or 3) while its pointer is used.
    unsafe {
        let ctx = proxy_get_ctx(L);
        let argc = lua_gettop(L);
        luaL_checktype(L, 1, LUA_TTABLE);
        let n = luaL_len(L, 1) as c_int; // length of the array table
        let workers = settings.num_threads;

        let plen = McpPool::POOL_OFFSET.wrapping_add(
            McpPoolBe::C_SIZE
                .wrapping_mul(n as usize)
                .wrapping_mul(workers as usize),
        );
        let p: *mut McpPool = newuserdata_zeroed(L, plen, 0);
        (*p).pool_size = n;
        (*p).pool_be_total = n.wrapping_mul(workers);
        (*p).use_iothread = (*ctx).tunables.use_iothread;
        (*p).key_hasher = Some(mcp_key_hash_xxh3);
        libc::pthread_mutex_init(&mut (*p).g.lock, ptr::null());
        (*p).ctx = ctx;

        luaL_setmetatable(L, c"mcp.pool".as_ptr());

        // an ignored nil second argument is allowed.
        let ty = lua_type(L, 2);
        if argc == 1 || ty == LUA_TNIL {
            _mcplib_pool_make_be(L, p)?;
            default_dist(L, p)?;
            return Ok(1);
        }

        // an options table decorates the pool and goes to the dist's new().
        luaL_checktype(L, 2, LUA_TTABLE);

        if getfield(L, 2, c"iothread") != LUA_TNIL {
            luaL_checktype(L, -1, LUA_TBOOLEAN);
            (*p).use_iothread = lua_toboolean(L, -1) != 0;
        }
        lua_pop(L, 1);

        if getfield(L, 2, c"beprefix") != LUA_TNIL {
            luaL_checktype(L, -1, LUA_TSTRING);
            let mut pfx = tolstring(L, -1).unwrap_or(&[]);
            if pfx.len() > MAX_LABELLEN - 1 {
                pfx = &pfx[..MAX_LABELLEN - 1];
            }
            for (d, s) in (*p).beprefix.iter_mut().zip(pfx) {
                *d = *s as c_char;
            }
            (*p).beprefix[pfx.len()] = 0;
        }
        lua_pop(L, 1);

        _mcplib_pool_make_be(L, p)?;

        // stack: backends, options, mcp.pool
        if getfield(L, 2, c"dist") != LUA_TNIL {
            // overriding the distribution function.
            _mcplib_pool_dist(L, p)?;
            lua_pop(L, 1); // the dist table
        } else {
            lua_pop(L, 1); // the nil
            default_dist(L, p)?;
        }

        if getfield(L, 2, c"filter") != LUA_TNIL {
            luaL_checktype(L, -1, LUA_TSTRING);
            let f_type = lua_tostring(L, -1);
            let f = CStr::from_ptr(f_type).to_bytes();
            if f == b"stop" {
                (*p).key_filter = Some(mcp_key_hash_filter_stop);
            } else if f == b"tags" {
                (*p).key_filter = Some(mcp_key_hash_filter_tag);
            } else {
                lua_pushfstring(L, c"unknown hash filter specified: %s\n".as_ptr(), f_type);
                return Err(Error::Pushed);
            }
            lua_pop(L, 1); // "filter" value

            if getfield(L, 2, c"filter_conf") == LUA_TSTRING {
                let conf = tolstring(L, -1).unwrap_or(&[]);
                if conf.len() < 2 || conf.len() > KEY_HASH_FILTER_MAX {
                    lua_pushfstring(
                        L,
                        c"hash filter conf must be between 2 and %d characters".as_ptr(),
                        KEY_HASH_FILTER_MAX as c_int,
                    );
                    return Err(Error::Pushed);
                }
                for (d, s) in (*p).key_filter_conf.iter_mut().zip(conf) {
                    *d = *s as c_char;
                }
                (*p).key_filter_conf[conf.len()] = 0;
            } else {
                return Err(Error::Str(c"hash filter requires 'filter_conf' string"));
            }
            lua_pop(L, 1); // "filter_conf" value
        } else {
            lua_pop(L, 1);
        }

        if getfield(L, 2, c"hash") != LUA_TNIL {
            luaL_checktype(L, -1, LUA_TLIGHTUSERDATA);
            let phf: *mut ProxyHashFunc = touserdata(L, -1);
            (*p).key_hasher = (*phf).func;
        }
        lua_pop(L, 1);

        if getfield(L, 2, c"seed") != LUA_TNIL {
            luaL_checktype(L, -1, LUA_TSTRING);
            let seed = tolstring(L, -1).unwrap_or(&[]);
            // a standard hash for the seed, whatever the key hasher.
            (*p).hash_seed = xxhash_rust::xxh3::xxh3_64(seed);
        }
        lua_pop(L, 1);

        if (*p).phc.selector_func.is_none() {
            return Err(Error::Str(c"cannot create pool missing 'dist' argument"));
        }
    }
    Ok(1)
}

/// proxy_lua.c:1034 `mcplib_pool_proxy_gc` (`mcp.pool_proxy.__gc`, worker
/// thread): drop this worker's reference; the last one hands the pool to the
/// manager thread.
///
/// # Safety
/// `L` is a live Lua state set up by `proxy_register_libs` (the VM kind
/// the function is registered in), called as a `lua_CFunction`.
pub unsafe fn mcplib_pool_proxy_gc(L: *mut lua_State) -> LResult {
    // SAFETY: a worker VM; the pool outlives its proxies (refcount).
    unsafe {
        let pp: *mut McpPoolProxy = checkudata(L, -1, c"mcp.pool_proxy");
        let p = (*pp).main;
        libc::pthread_mutex_lock(&mut (*p).g.lock);
        (*p).g.refcount -= 1;
        if (*p).g.refcount == 0 {
            let ctx = (*p).ctx;
            libc::pthread_mutex_lock(&mut (*ctx).manager_lock);
            let g: *mut McpGlobalObj = &mut (*p).g;
            (*g).next.stqe_next = ptr::null_mut();
            *(*ctx).manager_head.stqh_last = g;
            (*ctx).manager_head.stqh_last = &mut (*g).next.stqe_next;
            libc::pthread_cond_signal(&mut (*ctx).manager_cond);
            libc::pthread_mutex_unlock(&mut (*ctx).manager_lock);
        }
        libc::pthread_mutex_unlock(&mut (*p).g.lock);
    }
    Ok(0)
}

/// proxy_lua.c:1051 `mcplib_pool_proxy_call_helper`: filter, hash, select.
/// The per-request hot path: no allocation, no Lua.
///
/// # Safety
/// `pp` is a live pool proxy; `key` points to `len` bytes.
#[inline]
pub unsafe fn mcplib_pool_proxy_call_helper(
    pp: *mut McpPoolProxy,
    key: *const c_char,
    len: usize,
) -> *mut McpBackend {
    // SAFETY: caller contract; the pool is kept alive by the proxy's
    // reference and never changes after construction.
    unsafe {
        let p = (*pp).main;
        let mut key = key;
        let mut len = len;
        if let Some(filter) = (*p).key_filter {
            key = filter((*p).key_filter_conf.as_ptr(), key, len, &mut len);
        }
        // Both are set when the pool is made (mcp.pool refuses a pool
        // without a selector; the hasher is ours or from `hash`).
        let Some(hasher) = (*p).key_hasher else {
            return ptr::null_mut();
        };
        let hash = hasher(key as *const c_void, len, (*p).hash_seed);
        let Some(selector) = (*p).phc.selector_func else {
            return ptr::null_mut();
        };
        let lookup = selector(hash, (*p).phc.ctx);

        debug_assert_c(!(*p).phc.ctx.is_null(), c"p->phc.ctx != NULL");
        if lookup >= (*p).pool_size as u32 {
            return ptr::null_mut();
        }
        (*(*pp).pool.add(lookup as usize)).be
    }
}
