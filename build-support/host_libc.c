/* The C library calls of proxy-lua-rs whose symbol or argument layout
 * memcached's compile flags can change. build.rs compiles this file with the
 * exact compiler and flags of the binary the library is linked into (the
 * flags of the layout probe), and in the same context as proxy_lua.c (after
 * proxy.h, hence config.h), so each call binds to the symbol memcached's own
 * objects use: with -D_TIME_BITS=64 on 32-bit glibc (Debian's armhf and
 * armel), `clock_gettime` is `__clock_gettime64` and `struct timespec` is 16
 * bytes, while the libc crate's declaration would be the 32-bit one. The Rust
 * side passes the probe's mirror of the struct (`Timespec`). */
#include "proxy.h"
#include <time.h>

int proxy_lua_rs_clock_gettime(clockid_t clock, struct timespec *ts);

int proxy_lua_rs_clock_gettime(clockid_t clock, struct timespec *ts) {
    return clock_gettime(clock, ts);
}
