/* Shared helpers for the c-tests: each test program is linked against
 * libproxy_lua_rs.a, memcached's own vendored Lua (liblua.a from the built
 * tree) and test-support/c/standins.c. */
#ifndef MCP_CTEST_COMMON_H
#define MCP_CTEST_COMMON_H
#include "proxy.h"
#include "proxy_lua_rs.h"
#include <stdio.h>
#include <stdlib.h>

static int failures = 0;
#define CHECK(cond, ...) do { \
    if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); } \
} while (0)

/* fixtures from standins.c */
proxy_ctx_t *mcp_test_ctx_new(void);
void mcp_test_ctx_set_cron_table(proxy_ctx_t *ctx, lua_State *L);
LIBEVENT_THREAD *mcp_test_thread_new(proxy_ctx_t *ctx, int baseid, uint16_t eflags);
void mcp_test_set_threads(LIBEVENT_THREAD **threads, int n);
void mcp_test_set_startarg(const char *arg);

/* Runs `code`, which must return one value; returns it as a string (static
 * buffer) or "ERROR: <message>". */
static inline const char *run1(lua_State *L, const char *code) {
    static char buf[1024];
    int top = lua_gettop(L);
    if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
        snprintf(buf, sizeof(buf), "ERROR: %s", lua_tostring(L, -1));
    } else {
        snprintf(buf, sizeof(buf), "%s", luaL_tolstring(L, -1, NULL));
    }
    lua_settop(L, top);
    return buf;
}

#define CHECK_LUA(L, code, want) do { \
    const char *got_ = run1(L, code); \
    CHECK(strcmp(got_, want) == 0, "%s: got '%s', want '%s'", code, got_, want); \
} while (0)

static inline lua_State *new_config_vm(proxy_ctx_t *ctx) {
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    mcp_test_ctx_set_cron_table(ctx, L);
    proxy_register_libs(ctx, NULL, L);
    return L;
}

static inline lua_State *new_worker_vm(proxy_ctx_t *ctx, LIBEVENT_THREAD *t) {
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    t->L = L;
    proxy_register_libs(ctx, t, L);
    return L;
}

static inline int finish(const char *name) {
    if (failures) {
        fprintf(stderr, "%s: %d failure(s)\n", name, failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}
#endif
