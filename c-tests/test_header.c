/* Drop-in check: our generated header compiles together with memcached's
 * proto_proxy.h and proxy.h (a prototype drift is a compile error), and
 * every exported mcplib_* has the lua_CFunction type. Compile-only. */
#include "proxy.h"
#include "proto_proxy.h"
#include "proxy_lua_rs.h"

int (*const exported_register)(void *, LIBEVENT_THREAD *, void *) = proxy_register_libs;
mcp_backend_t *(*const exported_helper)(mcp_pool_proxy_t *, const char *, size_t) = mcplib_pool_proxy_call_helper;
void (*const exported_rqu_log)(mcp_request_t *, mcp_resp_t *, int, int) = mcplib_rqu_log;

const lua_CFunction exported_cfunctions[] = {
#include "cfunctions.inc"
};
