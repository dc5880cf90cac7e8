//! mcp.pool, the backend cache and handoff, the pool and wrapper __gc, the
//! pool proxy __gc, the default hasher, the key filters and the routing
//! helper (proxy_lua.c:562-1066).

use super::*;
use crate::exports::mcplib_pool_proxy_call_helper;
use crate::host::pool::mcp_key_hash_xxh3;
use crate::mcplib::pool::{key_hash_filter_stop, key_hash_filter_tag};

struct Setup {
    vm: Vm,
    threads: Vec<*mut LibeventThread>,
}

fn setup(nthreads: usize) -> Setup {
    let ctx = new_ctx();
    let threads = set_threads(ctx, nthreads, 0);
    let vm = Vm::config_for(ctx);
    Setup { vm, threads }
}

fn drain(e: *mut c_void) -> (i32, i32) {
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    let r = unsafe { ts::mcp_test_event_thread_drain(e) };
    (r >> 16, r & 0xffff)
}

unsafe fn pool_slots(p: *mut McpPool) -> *mut McpPoolBe {
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { (p as *mut u8).add(McpPool::POOL_OFFSET) as *mut McpPoolBe }
}

/// memcached's jump hash (proxy_jump_hash.c), to check selections.
fn jump(mut hash: u64, buckets: i64) -> u32 {
    let (mut b, mut j) = (-1i64, 0i64);
    while j < buckets {
        b = j;
        hash = hash.wrapping_mul(2862933555777941757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1i64 << 31) as f64 / ((hash >> 33) + 1) as f64)) as i64;
    }
    b as u32
}

#[test]
fn pool_per_worker_slots_and_handoff() {
    let _g = serial();
    let s = setup(3);
    let vm = &s.vm;
    vm.run("P = mcp.pool({ mcp.backend('b1', '127.0.0.1', '1'), mcp.backend('b2', '127.0.0.1', '2') })")
        .unwrap();
    let p = vm.ud::<McpPool>("P");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        assert_eq!((*p).pool_size, 2);
        assert_eq!((*p).pool_be_total, 6); // n * worker threads
        assert!(!(*p).use_iothread);
        assert_eq!((*p).ctx, vm.ctx);
        assert!((*p).phc.selector_func.is_some() && !(*p).phc.ctx.is_null()); // default jump hash
        assert!((*p).key_filter.is_none());
        assert_eq!((*p).hash_seed, 0);
        let slots = pool_slots(p);
        for (i, &t) in s.threads.iter().enumerate() {
            let e = (*t).proxy_event_thread;
            // each worker's event thread got its own two backends, signalled.
            assert_eq!(ts::mcp_test_event_thread_signals(e), 2, "thread {i}");
            assert_eq!(drain(e), (2, 0));
            for x in 0..2 {
                let slot = &*slots.add(i * 2 + x);
                assert_ne!(slot.ref_, 0);
                let be = slot.be;
                assert_eq!(cstr_buf(&(*be).name), "127.0.0.1");
                assert_eq!(cstr_buf(&(*be).label), if x == 0 { "b1" } else { "b2" });
                assert_eq!((*be).conncount, 1);
                assert!(!(*be).use_io_thread);
                let bec = (be as *mut u8).add(McpBackend::BE_OFFSET) as *mut McpBackendConn;
                assert_eq!((*bec).event_thread as *mut c_void, e);
                assert_eq!((*bec).be_parent, be);
                assert!(!(*bec).rbuf.is_null() && !(*bec).client.is_null());
                assert_eq!((*bec).connect_flags, MCMC_OPTION_NONBLOCK);
            }
        }
        assert_eq!((*vm.ctx).backend_total, 6);
    }
    assert_eq!(vm.eval("return getmetatable(P).__name"), "mcp.pool");
}

#[test]
fn iothread_pool_and_options() {
    let _g = serial();
    let s = setup(2);
    let vm = &s.vm;
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { (*vm.ctx).tunables.tcp_keepalive = true };
    vm.run("P = mcp.pool({ mcp.backend({label='b1', host='h', port='1', connections = 3}) }, { iothread = true })")
        .unwrap();
    let p = vm.ud::<McpPool>("P");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        assert!((*p).use_iothread);
        assert_eq!((*p).pool_be_total, 2);
        let slots = pool_slots(p);
        let be = (*slots).be;
        assert!((*be).use_io_thread);
        assert_eq!((*slots.add(1)).ref_, 0); // unused slot
        let io = (*vm.ctx).proxy_io_thread as *mut c_void;
        assert_eq!(drain(io), (1, 0));
        assert_eq!((*be).conncount, 3);
        for x in 0..3 {
            let bec = (be as *mut u8).add(McpBackend::BE_OFFSET + x * McpBackendConn::C_SIZE)
                as *mut McpBackendConn;
            assert_eq!((*bec).event_thread as *mut c_void, io);
            // keepalive comes from the global tunables
            assert_eq!(
                (*bec).connect_flags,
                MCMC_OPTION_NONBLOCK | MCMC_OPTION_TCP_KEEPALIVE
            );
        }
    }
    assert_eq!(
        vm.argerr("mcp.pool({}, { iothread = 1 })"),
        "bad argument #-1 to 'pool' (boolean expected, got number)"
    );
    // backend_use_iothread sets the default
    vm.run("mcp.backend_use_iothread(true) P2 = mcp.pool({ mcp.backend('b9', 'h', '1') })")
        .unwrap();
    let p2 = vm.ud::<McpPool>("P2");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert!((*p2).use_iothread) };
}

#[test]
fn backend_cache_reuse_rules() {
    let _g = serial();
    let s = setup(1);
    let vm = &s.vm;
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    let e = unsafe { (*s.threads[0]).proxy_event_thread };
    vm.run("B = mcp.backend('b1', 'h', '1') P1 = mcp.pool({B}) P2 = mcp.pool({B})")
        .unwrap();
    let (p1, p2) = (vm.ud::<McpPool>("P1"), vm.ud::<McpPool>("P2"));
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        assert_eq!(
            (*pool_slots(p1)).be,
            (*pool_slots(p2)).be,
            "same label, same settings: reused"
        );
        assert_eq!(drain(e), (1, 0));
        assert_eq!((*vm.ctx).backend_total, 1);
    }
    // same label, different port / connections / tunables / logging: new backends
    for other in [
        "mcp.backend('b1', 'h', '2')",
        "mcp.backend({label='b1', host='h', port='1', connections=2})",
        "mcp.backend({label='b1', host='h', port='1', readtimeout=9})",
        "mcp.backend({label='b1', host='h', port='1', log={rate=5}})",
    ] {
        vm.run(&format!("P3 = mcp.pool({{ {other} }})")).unwrap();
        let p3 = vm.ud::<McpPool>("P3");
        // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
        unsafe { assert_ne!((*pool_slots(p3)).be, (*pool_slots(p1)).be, "{other}") };
        assert_eq!(drain(e), (1, 0), "{other}");
    }
    // a log tag is a pointer: never equal, never reused (as upstream)
    vm.run("BT = mcp.backend({label='t', host='h', port='1', log={tag='x'}}) P4 = mcp.pool({BT}) P5 = mcp.pool({BT})")
        .unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        let (a, b) = (
            (*pool_slots(vm.ud::<McpPool>("P4"))).be,
            (*pool_slots(vm.ud::<McpPool>("P5"))).be,
        );
        assert_ne!(a, b);
        assert_eq!(CStr::from_ptr((*a).logging.detail).to_str().unwrap(), "x");
        assert_ne!(
            (*a).logging.detail,
            (*b).logging.detail,
            "the tag is strdup'ed per backend"
        );
        assert!((*a).use_logging);
    }
    assert_eq!(drain(e), (2, 0));
    // beprefix separates otherwise identical backends
    vm.run("P6 = mcp.pool({B}, { beprefix = 'pfx' })").unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_ne!((*pool_slots(vm.ud::<McpPool>("P6"))).be, (*pool_slots(p1)).be) };
    assert_eq!(drain(e), (1, 0));
    // the cache key is beprefix .. ":w" .. threadid .. ":" .. label
    assert_eq!(
        vm.eval("local _, c = debug.getupvalue(mcp.pool, 1) local k = {} for key in pairs(c) do k[#k+1] = key end \
                 table.sort(k) return table.concat(k, ' ')"),
        ":w0:b1 :w0:t pfx:w0:b1"
    );
}

#[test]
fn gc_ships_backends_back_and_counts() {
    let _g = serial();
    let s = setup(2);
    let vm = &s.vm;
    vm.run("P = mcp.pool({ mcp.backend({label='b1', host='h', port='1', log={tag='t'}}), mcp.backend('b2', 'h', '2') })")
        .unwrap();
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    let es: Vec<_> = s
        .threads
        .iter()
        .map(|&t| unsafe { (*t).proxy_event_thread })
        .collect();
    for &e in &es {
        assert_eq!(drain(e), (2, 0)); // now transferred
    }
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).backend_total, 4) };
    vm.run("P = nil").unwrap();
    vm.gc();
    // pool __gc unref'ed the wrappers; their __gc queued the backends back
    // to their event threads, which free them.
    for &e in &es {
        assert_eq!(drain(e), (0, 2));
    }
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!((*vm.ctx).backend_total, 0) };
}

#[test]
fn dist_options() {
    let _g = serial();
    let s = setup(1);
    let vm = &s.vm;
    vm.run("P = mcp.pool({ mcp.backend('b1', 'h', '1'), mcp.backend('b2', 'h', '2') }, { dist = mcp.dist_ring_hash })")
        .unwrap();
    let p = vm.ud::<McpPool>("P");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert!((*p).phc.selector_func.is_some()) };
    // a custom distribution gets the pool table and the options
    vm.run(
        "SEEN = nil JUMP = mcp.dist_jump_hash
         D = { new = function(pool, opts) SEEN = #pool .. ':' .. pool[2].id .. ':' .. pool[2].addr .. ':' .. pool[2].port .. ':' .. tostring(opts.marker)
               return JUMP.new(pool, opts) end }
         P = mcp.pool({ mcp.backend('b1', 'h1', '1'), mcp.backend('b2', 'h2', '2') }, { dist = D, marker = 'm' })",
    )
    .unwrap();
    assert_eq!(vm.eval("return SEEN"), "2:2:h2:2:m");
    // the default is mcp.dist_jump_hash looked up at call time; without it
    // and without a dist there is no selector
    assert_eq!(
        vm.err("mcp.dist_jump_hash = nil return mcp.pool({}, {})"),
        "cannot create pool missing 'dist' argument"
    );
    vm.run("mcp.dist_jump_hash = D; SEEN = nil; P = mcp.pool({ mcp.backend('b1', 'h1', '1'), mcp.backend('b2', 'h2', '2') })")
        .unwrap();
    // the no-options form passes the pool userdata itself as `opts`
    // (upstream's lua_pushvalue(L, 2)); mcp.pool's metatable has
    // __index = mt, so opts.marker is nil.
    assert_eq!(vm.eval("return SEEN"), "2:2:h2:2:nil");
    assert_eq!(
        vm.err("mcp.pool({}, { dist = { } })"),
        "key distribution object missing 'new' function"
    );
    assert_eq!(
        vm.argerr("mcp.pool({}, { dist = 5 })"),
        "bad argument #-1 to 'pool' (table expected, got number)"
    );
    assert_eq!(
        vm.err("mcp.pool({}, { dist = { new = function() error('boom', 0) end } })"),
        "boom"
    );
    assert_eq!(
        vm.argerr("mcp.pool({}, { dist = { new = function() return 1, 2 end } })"),
        "bad argument #-1 to 'pool' (userdata expected, got number)"
    );
}

#[test]
fn filter_hash_seed_options() {
    let _g = serial();
    let s = setup(1);
    let vm = &s.vm;
    assert_eq!(
        vm.err("mcp.pool({}, { filter = 'bogus' })"),
        "unknown hash filter specified: bogus\n"
    );
    assert_eq!(
        vm.argerr("mcp.pool({}, { filter = 5 })"),
        "bad argument #-1 to 'pool' (string expected, got number)"
    );
    assert_eq!(
        vm.err("mcp.pool({}, { filter = 'stop' })"),
        "hash filter requires 'filter_conf' string"
    );
    assert_eq!(
        vm.err("mcp.pool({}, { filter = 'stop', filter_conf = 12 })"),
        "hash filter requires 'filter_conf' string"
    );
    assert_eq!(
        vm.err("mcp.pool({}, { filter = 'tags', filter_conf = '{' })"),
        "hash filter conf must be between 2 and 5 characters"
    );
    assert_eq!(
        vm.err("mcp.pool({}, { filter = 'stop', filter_conf = '123456' })"),
        "hash filter conf must be between 2 and 5 characters"
    );
    for conf in ["{}", "12345", "|#|"] {
        vm.run(&format!(
            "P = mcp.pool({{}}, {{ filter = 'stop', filter_conf = '{conf}' }})"
        ))
        .unwrap();
        let p = vm.ud::<McpPool>("P");
        // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
        unsafe {
            assert_eq!(cstr_buf(&(*p).key_filter_conf), conf);
            assert!((*p).key_filter.is_some());
        }
    }
    vm.run("P = mcp.pool({}, { seed = 'abc', hash = mcp.hash_xxhash })")
        .unwrap();
    let p = vm.ud::<McpPool>("P");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        assert_eq!(
            (*p).hash_seed,
            ts::mcp_test_ref_xxh3_noseed(b"abc".as_ptr() as *const c_void, 3)
        );
        assert_eq!((*p).hash_seed, xxhash_rust::xxh3::xxh3_64(b"abc"));
        // mcp.hash_xxhash is memcached's own C function
        let h = (*p).key_hasher.unwrap();
        assert_eq!(
            h(b"key".as_ptr() as *const c_void, 3, 7),
            mcp_key_hash_xxh3(b"key".as_ptr() as *const c_void, 3, 7)
        );
    }
    assert_eq!(
        vm.argerr("mcp.pool({}, { seed = 5 })"),
        "bad argument #-1 to 'pool' (string expected, got number)"
    );
    assert_eq!(
        vm.argerr("mcp.pool({}, { hash = 5 })"),
        "bad argument #-1 to 'pool' (userdata expected, got number)"
    );
    assert_eq!(
        vm.argerr("mcp.pool({}, 5)"),
        "bad argument #2 to 'pool' (table expected, got number)"
    );
    assert_eq!(
        vm.argerr("mcp.pool(5)"),
        "bad argument #1 to 'pool' (table expected, got number)"
    );
    assert_eq!(
        vm.argerr("mcp.pool({ 5 })"),
        "bad argument #-1 to 'pool' (mcp.backend expected, got number)"
    );
    // an explicit nil second argument is the no-options form
    vm.run("P = mcp.pool({ mcp.backend('b', 'h', '1') }, nil)")
        .unwrap();
}

#[test]
fn beprefix_is_clamped() {
    let _g = serial();
    let s = setup(1);
    let vm = &s.vm;
    vm.run("P = mcp.pool({}, { beprefix = string.rep('p', 600) })")
        .unwrap();
    let p = vm.ud::<McpPool>("P");
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { assert_eq!(cstr_buf(&(*p).beprefix).len(), 511) };
    assert_eq!(
        vm.argerr("mcp.pool({}, { beprefix = 1 })"),
        "bad argument #-1 to 'pool' (string expected, got number)"
    );
}

#[test]
fn default_hasher_matches_memcached_xxhash() {
    let data: Vec<u8> = (0..600u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    for seed in [0u64, 1, 0x9E3779B97F4A7C15, u64::MAX, 1 << 63] {
        for len in 0..=300 {
            for off in [0usize, 1, 3] {
                let k = data[off..off + len].as_ptr() as *const c_void;
                // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
                unsafe {
                    assert_eq!(
                        mcp_key_hash_xxh3(k, len, seed),
                        ts::mcp_test_ref_xxh3(k, len, seed),
                        "len {len} seed {seed}"
                    )
                };
            }
        }
    }
}

fn ref_stop(conf: &[u8], key: &[u8]) -> usize {
    let c = CString::new(conf).unwrap();
    let mut n = 0usize;
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe { ts::mcp_test_ref_filter_stop(c.as_ptr(), key.as_ptr() as *const _, key.len(), &mut n) };
    n
}

fn ref_tag(conf: &[u8; 2], key: &[u8]) -> (usize, usize) {
    let mut n = 0usize;
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    let r = unsafe {
        ts::mcp_test_ref_filter_tag(
            conf.as_ptr() as *const _,
            key.as_ptr() as *const _,
            key.len(),
            &mut n,
        )
    };
    (r as usize - key.as_ptr() as usize, n)
}

#[test]
fn key_filters_match_1_6_45_c() {
    let keys: Vec<Vec<u8>> = vec![
        b"foo|#|bar".to_vec(),
        b"|#|".to_vec(),
        b"abc".to_vec(),
        b"".to_vec(),
        b"a{b}c".to_vec(),
        b"{}".to_vec(),
        b"}{".to_vec(),
        b"{".to_vec(),
        b"{x".to_vec(),
        b"ab\0|#|c".to_vec(),
        b"$$key$$".to_vec(),
        b"$$".to_vec(),
        b"$x$".to_vec(),
        vec![b'k'; 250],
        vec![b'k'; 251],
        [vec![b'k'; 249], b"|#".to_vec()].concat(),
        [vec![b'k'; 248], b"|#|".to_vec()].concat(),
    ];
    for conf in [&b"|#|"[..], b"{}", b"12345", b"$$", b"k"] {
        for k in &keys {
            assert_eq!(
                key_hash_filter_stop(conf, k),
                ref_stop(conf, k),
                "stop {conf:?} {k:?}"
            );
        }
    }
    for conf in [b"{}", b"$$", b"kk", b"||"] {
        for k in &keys {
            assert_eq!(
                key_hash_filter_tag(conf, k),
                ref_tag(conf, k),
                "tag {conf:?} {k:?}"
            );
        }
    }
    // 1.6.45's fix: identical tag characters with nothing after the first
    // one no longer underflow
    assert_eq!(key_hash_filter_tag(b"$$", b"abc$"), (0, 4));
    assert_eq!(key_hash_filter_tag(b"$$", b"a$$b"), (2, 0));
}

/// The routing helper end to end: a pool built by mcp.pool, a per-worker
/// proxy over its slots (as proxy_config.c:_copy_pool makes it).
#[test]
fn call_helper_selects_like_memcached() {
    let _g = serial();
    let s = setup(2);
    let vm = &s.vm;
    vm.run(
        "local b = {} for i = 1, 5 do b[i] = mcp.backend('b' .. i, 'h', tostring(i)) end
         P = mcp.pool(b)
         PS = mcp.pool(b, { seed = 'sss' })
         PF = mcp.pool(b, { filter = 'stop', filter_conf = '|#|' })
         PT = mcp.pool(b, { filter = 'tags', filter_conf = '{}' })",
    )
    .unwrap();
    for (name, seed_str, filter) in [
        ("P", None, 0),
        ("PS", Some(&b"sss"[..]), 0),
        ("PF", None, 1),
        ("PT", None, 2),
    ] {
        let p = vm.ud::<McpPool>(name);
        let seed = seed_str.map(xxhash_rust::xxh3::xxh3_64).unwrap_or(0);
        for (ti, &t) in s.threads.iter().enumerate() {
            // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
            let base = unsafe { (*t).thread_baseid } as usize;
            assert_eq!(base, ti);
            // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
            let mut pp = McpPoolProxy {
                main: p,
                pool: unsafe { pool_slots(p).add(base * 5) },
            };
            for i in 0..200 {
                let key = match i % 3 {
                    0 => format!("key{i}"),
                    1 => format!("pre{}|#|post{i}", i % 7),
                    _ => format!("x{{tag{}}}y{i}", i % 5),
                };
                let kb = key.as_bytes();
                let hashed: &[u8] = match filter {
                    1 => &kb[..key_hash_filter_stop(b"|#|", kb)],
                    2 => {
                        let (st, n) = key_hash_filter_tag(b"{}", kb);
                        &kb[st..st + n]
                    }
                    _ => kb,
                };
                let want_idx = jump(xxhash_rust::xxh3::xxh3_64_with_seed(hashed, seed), 5) as usize;
                // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
                let got =
                    unsafe { mcplib_pool_proxy_call_helper(&mut pp, kb.as_ptr() as *const _, kb.len()) };
                // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
                let want = unsafe { (*pool_slots(p).add(base * 5 + want_idx)).be };
                assert_eq!(got, want, "{name} thread {ti} key {key}");
            }
        }
    }
}

#[test]
fn pool_proxy_gc_hands_pool_to_manager() {
    let _g = serial();
    let ctx = new_ctx();
    let threads = set_threads(ctx, 1, 0);
    let cfg = Vm::config_for(ctx);
    cfg.run("P = mcp.pool({ mcp.backend('b', 'h', '1') })").unwrap();
    let p = cfg.ud::<McpPool>("P");
    let w = Vm::worker_for(ctx, threads[0]);
    // SAFETY: test fixtures: VM, context, thread and userdata pointers are live (values kept referenced), one test at a time.
    unsafe {
        (*p).g.refcount = 2;
        // two proxies, as proxy_config.c:_copy_pool makes them
        for name in [c"PP1", c"PP2"] {
            let pp = lua_newuserdatauv(w.L, McpPoolProxy::C_SIZE, 0) as *mut McpPoolProxy;
            (*pp).main = p;
            (*pp).pool = pool_slots(p);
            luaL_setmetatable(w.L, c"mcp.pool_proxy".as_ptr());
            lua_setglobal(w.L, name.as_ptr());
        }
        w.run("PP1 = nil").unwrap();
        w.gc();
        assert_eq!((*p).g.refcount, 1);
        assert!((*ctx).manager_head.stqh_first.is_null());
        w.run("PP2 = nil").unwrap();
        w.gc();
        assert_eq!((*p).g.refcount, 0);
        assert_eq!((*ctx).manager_head.stqh_first, &mut (*p).g as *mut McpGlobalObj);
        assert_eq!(
            (*ctx).manager_head.stqh_last,
            &mut (*p).g.next.stqe_next as *mut *mut McpGlobalObj
        );
    }
}
