//! memcached's logger (`logger.h`): the calling thread's logger and the two
//! proxy log entry types this library writes.

use core::ffi::{CStr, c_char, c_int, c_long, c_uint, c_void};
use core::ptr::{self, NonNull};

use crate::ffi::host::*;

/// A logger owned by the calling thread.
#[derive(Clone, Copy)]
pub struct Log {
    p: NonNull<Logger>,
}

/// A C string to hand to memcached: a `char[N]` member that holds a NUL, or
/// a literal.
#[derive(Clone, Copy)]
pub struct CStrRef<'a>(NonNull<c_char>, core::marker::PhantomData<&'a [c_char]>);

impl<'a> CStrRef<'a> {
    /// A NUL-terminated `char[N]` member (its last byte is NUL, as for every
    /// name memcached and this library store); `None` otherwise.
    #[inline(always)]
    pub fn from_array(a: &'a [c_char]) -> Option<CStrRef<'a>> {
        if *a.last()? != 0 {
            return None;
        }
        Some(CStrRef(NonNull::from(a).cast(), core::marker::PhantomData))
    }
    /// A pointer memcached or this library guarantees to be a C string
    /// alive for `'a`.
    ///
    /// # Safety
    /// `p` points to a NUL-terminated string that lives for `'a`.
    #[inline(always)]
    pub unsafe fn from_raw(p: NonNull<c_char>) -> CStrRef<'a> {
        CStrRef(p, core::marker::PhantomData)
    }
    #[inline(always)]
    pub fn lit(s: &'static CStr) -> CStrRef<'static> {
        CStrRef(NonNull::from(s).cast(), core::marker::PhantomData)
    }
}

/// A request being logged: the request line memcached parsed.
#[derive(Clone, Copy)]
pub struct ReqLine<'a> {
    request: *const c_char,
    reqlen: u32,
    _rq: core::marker::PhantomData<&'a McpRequest>,
}

impl<'a> ReqLine<'a> {
    /// `rq->pr.request` and `rq->pr.reqlen` of a live request.
    #[inline(always)]
    pub fn of(rq: &'a McpRequest) -> ReqLine<'a> {
        ReqLine {
            request: rq.request,
            reqlen: rq.reqlen,
            _rq: core::marker::PhantomData,
        }
    }
}

/// What the response of a logged request says (upstream's locals in
/// `mcplib_log_req`).
#[derive(Clone, Copy)]
pub struct ResInfo<'a> {
    pub rtype: c_int,
    pub rcode: c_int,
    pub rstatus: c_int,
    pub elapsed: c_long,
    pub rname: Option<CStrRef<'a>>,
    pub rport: Option<CStrRef<'a>>,
}

impl Log {
    /// A thread's logger pointer (`t->l`); `None` when NULL.
    #[inline(always)]
    pub fn from_raw(p: *mut Logger) -> Option<Log> {
        NonNull::new(p).map(|p| Log { p })
    }

    #[inline(always)]
    pub fn from_nonnull(p: NonNull<Logger>) -> Log {
        Log { p }
    }

    /// `GET_LOGGER()`: the calling thread's logger (thread-specific data).
    #[inline]
    pub fn current() -> Option<Log> {
        // SAFETY: logger_key is created by memcached before any thread runs.
        Log::from_raw(unsafe { libc::pthread_getspecific(logger_key) } as *mut Logger)
    }

    /// `l->eflags`: which event types are being watched.
    #[inline(always)]
    pub fn eflags(&self) -> u16 {
        // SAFETY: the logger lives for its thread; eflags is an aligned u16
        // that the logger thread may update concurrently (upstream reads it
        // unlocked too).
        unsafe { ptr::read_volatile(field_ptr!(self.p.as_ptr(), Logger, eflags)) }
    }

    /// `LOGGER_LOG(l, LOG_PROXYUSER, LOGGER_PROXY_USER, NULL, msg)`.
    pub fn log_user(&self, msg: &CStr) {
        if self.eflags() & LOG_PROXYUSER != 0 {
            // SAFETY: live logger of this thread; the entry's argument list is
            // one `const char *`.
            unsafe {
                logger_log(
                    self.p.as_ptr(),
                    LOGGER_PROXY_USER,
                    ptr::null::<c_void>(),
                    msg.as_ptr(),
                )
            };
        }
    }

    /// `logger_log(l, LOGGER_PROXY_REQ, NULL, ...)` with upstream's argument
    /// list (and C's default argument promotions).
    #[inline(always)]
    pub fn log_req(&self, rq: ReqLine<'_>, ri: &ResInfo<'_>, flag: c_int, cfd: c_int, detail: Option<&[u8]>) {
        let (d, dlen) = match detail {
            Some(d) => (d.as_ptr() as *const c_char, d.len()),
            None => (ptr::null(), 0),
        };
        let rname = ri.rname.map_or(ptr::null(), |s| s.0.as_ptr() as *const c_char);
        let rport = ri.rport.map_or(ptr::null(), |s| s.0.as_ptr() as *const c_char);
        // SAFETY: live logger of this thread; the arguments match the
        // LOGGER_PROXY_REQ entry's va_arg list in logger.c; every pointer is
        // NULL or alive for the call (ReqLine, CStrRef, the detail slice).
        unsafe {
            logger_log(
                self.p.as_ptr(),
                LOGGER_PROXY_REQ,
                ptr::null::<c_void>(),
                rq.request,
                rq.reqlen as c_uint,
                ri.elapsed,
                ri.rtype,
                ri.rcode,
                ri.rstatus,
                flag,
                cfd,
                d,
                dlen,
                rname,
                rport,
            )
        };
    }
}
