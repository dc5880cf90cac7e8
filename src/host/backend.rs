//! Backends (`mcp_backend_t`) and their event threads.
//!
//! Ownership (proxy.h): a backend is allocated here with the C allocator,
//! handed to its event thread through `e->beconn_head_in` (under
//! `e->mutex`), set up by that thread, and freed by that thread
//! (`proxy_network.c:_cleanup_backend`) when the config VM queues it a
//! second time from `mcp.backendwrap.__gc`. The config thread only ever
//! reads what never changes after creation (name, port, label, conncount,
//! tunables, logging), through [`BackendRef`].

use core::ffi::{CStr, c_char, c_void};
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::ffi::host::*;
use crate::host::ctx::Ctx;
use crate::host::sys;
use crate::vm::Userdata;

// SAFETY: every userdata with metatable "mcp.backend" is created by
// mcplib_backend with size_of::<McpBackendLabel>() bytes.
unsafe impl Userdata for McpBackendLabel {
    const NAME: &'static CStr = c"mcp.backend";
}
// SAFETY: every "mcp.backendwrap" userdata is created by
// _mcplib_make_backendconn with size_of::<McpBackendWrap>() bytes.
unsafe impl Userdata for McpBackendWrap {
    const NAME: &'static CStr = c"mcp.backendwrap";
}

/// An event thread (`proxy_event_thread_t`): the IO thread or a worker's.
#[derive(Clone, Copy)]
pub struct EventThread {
    p: NonNull<ProxyEventThread>,
}

impl EventThread {
    /// # Safety
    /// `p` is a live event thread of this proxy (they live for the process).
    #[inline(always)]
    pub unsafe fn from_raw(p: *mut ProxyEventThread) -> EventThread {
        // SAFETY: caller contract.
        let p = unsafe { NonNull::new_unchecked(p) };
        EventThread { p }
    }

    /// Runs `f` on the incoming-backend queue with `e->mutex` held.
    fn with_queue<R>(&self, f: impl FnOnce(&mut StailqHead<McpBackend>) -> R) -> R {
        let m = field_ptr!(self.p.as_ptr(), ProxyEventThread, mutex);
        // SAFETY: memcached initialised the mutex; unlocked below.
        unsafe { libc::pthread_mutex_lock(m) };
        // SAFETY: beconn_head_in is covered by e->mutex, which we hold; the
        // reference ends with f.
        let r = f(unsafe { &mut *field_ptr!(self.p.as_ptr(), ProxyEventThread, beconn_head_in) });
        // SAFETY: we hold it.
        unsafe { libc::pthread_mutex_unlock(m) };
        r
    }

    /// `STAILQ_INSERT_TAIL(&e->beconn_head_in, be, beconn_next)` under the
    /// mutex, then wake the thread: it sets up a new backend, or frees one it
    /// set up before (`transferred`).
    pub fn queue(&self, be: NonNull<McpBackend>) {
        let next = field_ptr!(be.as_ptr(), McpBackend, beconn_next.stqe_next);
        self.with_queue(|q| {
            // SAFETY: `be` is on no queue (caller: a new backend, or one the
            // event thread has taken); next is its link member; q.stqh_last
            // points at the last link (or at stqh_first), per STAILQ.
            unsafe {
                *next = ptr::null_mut();
                *q.stqh_last = be.as_ptr();
            }
            q.stqh_last = next;
        });
        self.signal();
    }

    /// Unlinks `be` from `e->beconn_head_in` if it is still there (the event
    /// thread has not taken it yet). Returns whether it was.
    fn unqueue(&self, be: NonNull<McpBackend>) -> bool {
        self.with_queue(|q| {
            let mut link: *mut *mut McpBackend = &mut q.stqh_first;
            // SAFETY: walking STAILQ links under the mutex; every element is
            // a live backend queued by this library.
            unsafe {
                while !(*link).is_null() {
                    let cur = *link;
                    let cur_next = field_ptr!(cur, McpBackend, beconn_next.stqe_next);
                    if cur == be.as_ptr() {
                        *link = *cur_next;
                        if (*link).is_null() {
                            q.stqh_last = link;
                        }
                        return true;
                    }
                    link = cur_next;
                }
            }
            false
        })
    }

    /// Wakes the thread: an 8-byte 1 to its eventfd, or "w" to its pipe.
    fn signal(&self) {
        #[cfg(mcp_use_eventfd)]
        {
            // SAFETY: set up before any config runs.
            let fd = unsafe { *field_ptr!(self.p.as_ptr(), ProxyEventThread, be_event_fd) };
            let n = sys::write_fd(fd, &1u64.to_ne_bytes());
            sys::assert_c(n == 8, c"1 == 0");
        }
        #[cfg(not(mcp_use_eventfd))]
        {
            // SAFETY: set up before any config runs.
            let fd = unsafe { *field_ptr!(self.p.as_ptr(), ProxyEventThread, be_notify_send_fd) };
            let n = sys::write_fd(fd, b"w");
            sys::assert_c(n > 0, c"1 == 0");
        }
    }
}

/// A live backend, borrowed for as long as the wrapper that owns it.
#[derive(Clone, Copy)]
pub struct BackendRef<'a> {
    p: NonNull<McpBackend>,
    _w: PhantomData<&'a McpBackendWrap>,
}

impl McpBackendWrap {
    /// The backend this wrapper owns (NULL only when its creation failed).
    #[inline]
    pub fn backend(&self) -> Option<BackendRef<'_>> {
        NonNull::new(self.be).map(|p| BackendRef { p, _w: PhantomData })
    }
}

impl<'a> BackendRef<'a> {
    /// # Safety
    /// `p` is a live backend that stays alive for `'a`.
    #[inline(always)]
    pub unsafe fn from_raw(p: NonNull<McpBackend>) -> BackendRef<'a> {
        BackendRef { p, _w: PhantomData }
    }
    #[inline(always)]
    pub fn as_ptr(&self) -> *mut McpBackend {
        self.p.as_ptr()
    }
    /// `be->name` (written once, before the backend is queued).
    pub fn name(&self) -> &'a [c_char; MAX_NAMELEN + 1] {
        // SAFETY: immutable after creation; alive while the wrapper is.
        unsafe { &*field_ptr!(self.p.as_ptr(), McpBackend, name) }
    }
    /// `be->name` as a C string (NUL-terminated: created by strncpy from a
    /// label whose length mcp.backend checked).
    #[inline(always)]
    pub fn name_cstr(&self) -> crate::host::log::CStrRef<'a> {
        // SAFETY: as name(); the array's last byte is always NUL.
        unsafe { crate::host::log::CStrRef::from_raw(NonNull::from(self.name()).cast()) }
    }
    /// `be->port` as a C string (as name_cstr).
    #[inline(always)]
    pub fn port_cstr(&self) -> crate::host::log::CStrRef<'a> {
        // SAFETY: as name_cstr.
        unsafe { crate::host::log::CStrRef::from_raw(NonNull::from(self.port()).cast()) }
    }
    /// `be->port`
    pub fn port(&self) -> &'a [c_char; MAX_PORTLEN + 1] {
        // SAFETY: as name.
        unsafe { &*field_ptr!(self.p.as_ptr(), McpBackend, port) }
    }
    /// `be->conncount`
    pub fn conncount(&self) -> core::ffi::c_int {
        // SAFETY: as name.
        unsafe { *field_ptr!(self.p.as_ptr(), McpBackend, conncount) }
    }
    /// `be->tunables`
    pub fn tunables(&self) -> &'a ProxyTunables {
        // SAFETY: as name.
        unsafe { &*field_ptr!(self.p.as_ptr(), McpBackend, tunables) }
    }
    /// `be->logging`
    pub fn logging(&self) -> &'a ProxyLogging {
        // SAFETY: as name.
        unsafe { &*field_ptr!(self.p.as_ptr(), McpBackend, logging) }
    }
    /// `be->logging.detail` (a C string the backend owns), as bytes.
    pub fn detail(&self) -> Option<&'a [u8]> {
        let d = self.logging().detail;
        if d.is_null() {
            return None;
        }
        // SAFETY: a NUL-terminated strdup'd copy, freed only with the
        // backend (libc's strlen: the tag is measured per logged request).
        Some(unsafe { core::slice::from_raw_parts(d as *const u8, libc::strlen(d)) })
    }
    /// `be->use_io_thread = v` (upstream sets it after queueing, too).
    pub fn set_use_io_thread(&self, v: bool) {
        // SAFETY: a bool member the event thread reads only when it routes
        // requests, which starts after this config load completes.
        unsafe { *field_ptr!(self.p.as_ptr(), McpBackend, use_io_thread) = v }
    }
}

/// `memcmp(a, b, sizeof(T)) == 0` (padding included, as upstream).
pub fn bytes_equal<T>(a: &T, b: &T) -> bool {
    // SAFETY: two live objects of size_of::<T>() bytes; memcmp reads bytes.
    unsafe {
        libc::memcmp(
            (a as *const T).cast(),
            (b as *const T).cast(),
            core::mem::size_of::<T>(),
        ) == 0
    }
}

/// `memcpy(dst, src, sizeof(T))` (padding included, as upstream).
pub fn copy_bytes<T>(dst: &mut T, src: &T) {
    // SAFETY: two distinct live objects (one &mut, one &) of T.
    unsafe { ptr::copy_nonoverlapping(src as *const T, dst as *mut T, 1) }
}

/// `_mcplib_make_backendconn`'s allocation: the backend and its
/// connections, all from the C allocator (memcached frees them), set up from
/// the label `bel` for event thread `e`. On failure everything allocated so
/// far is freed and upstream's message returned.
pub fn new_backend(
    bel: &McpBackendLabel,
    ctx: Ctx,
    e: EventThread,
) -> Result<NonNull<McpBackend>, &'static CStr> {
    let conncount = bel.conncount.max(0) as usize;
    let size = McpBackend::BE_OFFSET + McpBackendConn::C_SIZE * conncount;
    // SAFETY: calloc has no preconditions.
    let Some(be) = NonNull::new(unsafe { libc::calloc(1, size) } as *mut McpBackend) else {
        return Err(c"out of memory allocating backend connection");
    };
    // SAFETY: a fresh, zeroed, exclusively owned block of `size` bytes:
    // the backend followed by `conncount` connections.
    let b = unsafe { &mut *be.as_ptr() };
    b.name = bel.name;
    b.port = bel.port;
    b.label = bel.label;
    copy_bytes(&mut b.tunables, &bel.tunables);
    copy_bytes(&mut b.logging, &bel.logging);
    b.use_logging = bel.use_logging;
    if !bel.logging.detail.is_null() {
        // SAFETY: the label's detail is a NUL-terminated malloc'd copy.
        b.logging.detail = unsafe { libc::strdup(bel.logging.detail) };
    }
    b.conncount = conncount as core::ffi::c_int;
    // STAILQ_INIT(&be->iop_head)
    b.iop_head.stqh_first = ptr::null_mut();
    b.iop_head.stqh_last = &mut b.iop_head.stqh_first;

    // TCP keepalive comes from the *global* tunables, as upstream.
    let keepalive = ctx.with_stats(|s| s.tunables().tcp_keepalive);
    let mut flags = MCMC_OPTION_NONBLOCK;
    if keepalive {
        flags |= MCMC_OPTION_TCP_KEEPALIVE;
    }
    for x in 0..conncount {
        let bec = conn_mut(be, x);
        bec.be_parent = be.as_ptr();
        copy_bytes(&mut bec.tunables, &bel.tunables);
        bec.iop_write.stqh_first = ptr::null_mut();
        bec.iop_write.stqh_last = &mut bec.iop_write.stqh_first;
        bec.iop_read.stqh_first = ptr::null_mut();
        bec.iop_read.stqh_last = &mut bec.iop_read.stqh_first;
        bec.state = MCP_BACKEND_READ;
        // a permanent read buffer per connection, and the mcmc client.
        // SAFETY: malloc/mcmc_size have no preconditions.
        bec.rbuf = unsafe { libc::malloc(READ_BUFFER_SIZE) } as *mut c_char;
        // SAFETY: as above.
        bec.client = unsafe { libc::malloc(mcmc_size(MCMC_OPTION_BLANK)) };
        bec.connect_flags = flags;
        bec.event_thread = e.p.as_ptr();
        if bec.rbuf.is_null() || bec.client.is_null() {
            free_unstarted(be);
            return Err(c"out of memory allocating backend");
        }
        #[cfg(mcp_proxy_tls)]
        {
            if b_tunables_use_tls(be) && !ctx.tls_initialized() {
                free_unstarted(be);
                return Err(c"TLS requested but not initialized: call mcp.init_tls()");
            }
            // SAFETY: memcached's TLS set-up of a new connection.
            unsafe { mcp_tls_backend_init(ctx.as_ptr(), bec) };
        }
    }
    Ok(be)
}

#[cfg(mcp_proxy_tls)]
fn b_tunables_use_tls(be: NonNull<McpBackend>) -> bool {
    // SAFETY: a backend being built by this thread.
    unsafe { (*field_ptr!(be.as_ptr(), McpBackend, tunables)).use_tls }
}

/// Connection `x` of a backend this thread owns exclusively (being built,
/// or never seen by its event thread).
fn conn_mut<'a>(be: NonNull<McpBackend>, x: usize) -> &'a mut McpBackendConn {
    // SAFETY: the block holds conncount connections after BE_OFFSET (callers
    // pass x < conncount) and no one else references it yet.
    unsafe { &mut *((be.as_ptr() as *mut u8).add(McpBackend::BE_OFFSET) as *mut McpBackendConn).add(x) }
}

/// Frees a backend its event thread never set up: what
/// `_cleanup_backend` frees, without the events and sockets it never had.
fn free_unstarted(be: NonNull<McpBackend>) {
    // SAFETY: exclusively ours (never queued, or just unlinked under the
    // mutex before the event thread took it).
    let b = unsafe { &mut *be.as_ptr() };
    let detail = b.logging.detail;
    let n = b.conncount.max(0) as usize;
    for x in 0..n {
        let bec = conn_mut(be, x);
        // SAFETY: malloc'd above (or NULL).
        unsafe {
            libc::free(bec.client);
            libc::free(bec.rbuf as *mut c_void);
        }
    }
    // SAFETY: strdup'd above (or NULL); the block itself came from calloc.
    unsafe {
        libc::free(detail as *mut c_void);
        libc::free(be.as_ptr() as *mut c_void);
    }
}

/// The event thread of a backend (every connection has the same one).
fn event_thread_of(be: NonNull<McpBackend>) -> EventThread {
    let bec = (be.as_ptr() as *mut u8).wrapping_add(McpBackend::BE_OFFSET) as *mut McpBackendConn;
    // SAFETY: every backend has at least one connection, whose event_thread
    // was set before the backend was queued and never changes.
    unsafe { EventThread::from_raw(*field_ptr!(bec, McpBackendConn, event_thread)) }
}

/// Hands a new backend to its event thread, which sets it up.
pub fn start_backend(be: NonNull<McpBackend>) {
    event_thread_of(be).queue(be);
}

/// `mcplib_backend_wrap_gc`'s release of a collected backend, without
/// upstream's race (docs/RELIABILITY.md): a backend the event thread has not
/// taken yet is unlinked from its queue and freed here; one it has taken is
/// queued again once the thread has marked it `transferred`, and the thread
/// frees it. Upstream queues it again unconditionally, which links it into
/// the queue a second time when it is still there (a corrupted STAILQ and a
/// double free).
pub fn release_backend(be: NonNull<McpBackend>) {
    let e = event_thread_of(be);
    if e.unqueue(be) {
        free_unstarted(be);
        return;
    }
    // The thread took it (STAILQ_CONCAT under the mutex) and sets
    // `transferred` right after, outside the lock; wait for that before
    // linking it again.
    let transferred = field_ptr!(be.as_ptr(), McpBackend, transferred);
    // SAFETY: a bool member of a live backend that the event thread writes
    // once (false -> true); read atomically here.
    let flag = unsafe { AtomicBool::from_ptr(transferred) };
    while !flag.load(Ordering::Acquire) {
        // SAFETY: sched_yield has no preconditions.
        unsafe { libc::sched_yield() };
    }
    e.queue(be);
}

impl McpBackendLabel {
    /// Frees `logging.detail` (malloc'd by [`Vm::label_set_detail`]) and
    /// clears it.
    pub fn free_detail(&mut self) {
        let d = core::mem::replace(&mut self.logging.detail, ptr::null_mut());
        // SAFETY: NULL or the label's own malloc'd copy (see
        // label_set_detail); cleared above, so freed once.
        unsafe { libc::free(d as *mut c_void) };
    }
}

impl crate::vm::Vm {
    /// `be->logging.detail = <copy of the string at idx>` for the label at
    /// `be`, with the C allocator (memcached frees the backend's copy).
    pub fn label_set_detail(
        &mut self,
        be: &crate::vm::Fresh<McpBackendLabel>,
        idx: core::ffi::c_int,
    ) -> crate::vm::LResult<()> {
        let tag = self.check_bytes(idx)?;
        // SAFETY: malloc has no preconditions.
        let d = unsafe { libc::malloc(tag.len() + 1) } as *mut u8;
        if d.is_null() {
            return Err(crate::vm::LuaError::Str(
                c"out of memory allocating backend log tag",
            ));
        }
        // SAFETY: d has tag.len() + 1 bytes; tag is a live slice.
        unsafe {
            ptr::copy_nonoverlapping(tag.as_ptr(), d, tag.len());
            *d.add(tag.len()) = 0;
        }
        let bel = match self.fresh(be) {
            Ok(bel) => bel,
            Err(e) => {
                // SAFETY: d came from malloc above and is not kept.
                unsafe { libc::free(d as *mut core::ffi::c_void) };
                return Err(e);
            }
        };
        bel.free_detail();
        bel.logging.detail = d as *mut c_char;
        Ok(())
    }
}

impl McpResp {
    /// The backend a response came from (`rs->be`), NULL for internal ones.
    #[inline(always)]
    pub fn backend(&self) -> Option<BackendRef<'_>> {
        // SAFETY: memcached keeps a response's backend alive while the
        // response exists (it holds the pool proxy, which holds the pool);
        // upstream reads rs->be->name the same way.
        NonNull::new(self.be).map(|p| unsafe { BackendRef::from_raw(p) })
    }
}
