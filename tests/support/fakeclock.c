/* LD_PRELOAD shim for tests/time2038.t: every clock memcached and the
 * library read through clock_gettime is moved forward by
 * MCP_FAKECLOCK_OFFSET seconds, so that mcp.time_real_millis and
 * mcp.time_mono_millis can be checked past 2^31 seconds (the year-2038
 * boundary of a 32-bit time_t) on any machine today.
 *
 * Both entry points a program can bind to are covered: `clock_gettime`
 * (64-bit targets, and 32-bit targets built without -D_TIME_BITS=64, where a
 * time past 2^31 s cannot be represented: as glibc, it then fails with
 * EOVERFLOW) and `__clock_gettime64` (what -D_TIME_BITS=64 binds to on
 * 32-bit glibc: Debian's armhf and armel). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
/* No <time.h>: with -D_TIME_BITS=64 (Debian's armhf gcc default) it would
 * rename this file's clock_gettime to __clock_gettime64. The two entry
 * points are defined with their own layouts instead: `long` seconds and
 * nanoseconds for plain clock_gettime (the native time_t everywhere glibc
 * has one), 64-bit seconds for __clock_gettime64. */

struct ts_native { long tv_sec; long tv_nsec; };
struct ts64 { int64_t tv_sec; int64_t tv_nsec_and_pad; };

static int64_t offset(void) {
    const char *o = getenv("MCP_FAKECLOCK_OFFSET");
    return o ? strtoll(o, NULL, 10) : 0;
}

int clock_gettime(int clk, struct ts_native *ts);
int clock_gettime(int clk, struct ts_native *ts) {
    static int (*real)(int, struct ts_native *);
    if (!real) real = (int (*)(int, struct ts_native *))dlsym(RTLD_NEXT, "clock_gettime");
    int r = real(clk, ts);
    if (r != 0) return r;
    int64_t s = (int64_t)ts->tv_sec + offset();
    if ((int64_t)(long)s != s) { errno = EOVERFLOW; return -1; }
    ts->tv_sec = (long)s;
    return 0;
}

int __clock_gettime64(int clk, struct ts64 *ts);
int __clock_gettime64(int clk, struct ts64 *ts) {
    static int (*real)(int, struct ts64 *);
    if (!real) real = (int (*)(int, struct ts64 *))dlsym(RTLD_NEXT, "__clock_gettime64");
    if (!real) { errno = ENOSYS; return -1; }
    int r = real(clk, ts);
    if (r == 0) ts->tv_sec += offset();
    return r;
}
