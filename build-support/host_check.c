/* Start-up check helpers for proxy-lua-rs (compiled into the staticlib by
 * build.rs; stable Rust has no weak linkage).
 *
 * memcached's MEMCACHED_DEBUG builds (memcached-debug) define the globals
 * `is_paused` and `delta` (memcached.c); production builds do not. A weak
 * reference resolves to the definition when the binary has one, and to NULL
 * otherwise, so the library can tell which kind of binary it was linked into
 * and refuse to run with the other kind's struct layouts. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <stdbool.h>

extern volatile bool is_paused __attribute__((weak));

int proxy_lua_rs_host_is_memcached_debug(void);
long proxy_lua_rs_host_symbol_size(const void *addr);

int proxy_lua_rs_host_is_memcached_debug(void) {
    return &is_paused != NULL;
}

/* Size of the ELF object that contains `addr`, as recorded in the binary's
 * dynamic symbol table (memcached links with -rdynamic). -1 if unknown. */
long proxy_lua_rs_host_symbol_size(const void *addr) {
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) == 0 || sym == NULL) {
        return -1;
    }
    if (info.dli_saddr != addr) {
        return -1;
    }
    return (long)sym->st_size;
}
