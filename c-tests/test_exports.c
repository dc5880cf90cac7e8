/* Direct calls of the exported mcplib_* functions from C, the way a C
 * program (or memcached) pushes a lua_CFunction: no `mcp` table involved. */
#include "common.h"

int mcp_test_event_thread_drain(proxy_event_thread_t *e);
void mcp_test_drain_all(proxy_ctx_t *ctx);

/* pcall `f` with the values already pushed; returns the error or NULL. */
static const char *call(lua_State *L, lua_CFunction f, int nargs, int nres, int nup) {
    static char err[512];
    if (nup) {
        lua_pushcclosure(L, f, nup);
    } else {
        lua_pushcfunction(L, f);
    }
    lua_insert(L, -(nargs + 1));
    if (lua_pcall(L, nargs, nres, 0) != LUA_OK) {
        snprintf(err, sizeof(err), "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return err;
    }
    return NULL;
}

int main(void) {
    proxy_ctx_t *ctx = mcp_test_ctx_new();
    LIBEVENT_THREAD *t = mcp_test_thread_new(ctx, 0, LOG_PROXYUSER);
    mcp_test_set_threads(&t, 1);
    mcp_test_set_startarg(NULL);
    lua_State *C = new_config_vm(ctx);
    const char *e;

    /* tunables: setters read the top of the stack */
    lua_pushnumber(C, 2.5);
    CHECK(call(C, mcplib_backend_connect_timeout, 1, 0, 0) == NULL, "connect_timeout");
    CHECK(ctx->tunables.connect.tv_sec == 2 && ctx->tunables.connect.tv_usec == 500000, "connect %ld.%ld",
          (long)ctx->tunables.connect.tv_sec, (long)ctx->tunables.connect.tv_usec);
    lua_pushinteger(C, -1);
    e = call(C, mcplib_backend_failure_limit, 1, 0, 0);
    CHECK(e && strcmp(e, "backend_failure_limit must be >= 0") == 0, "failure_limit error: %s", e ? e : "(none)");
    lua_pushinteger(C, 100);
    CHECK(call(C, mcplib_active_req_limit, 1, 0, 0) == NULL, "active_req_limit");
    CHECK(ctx->active_req_limit == 100, "active_req_limit %lld", (long long)ctx->active_req_limit);
    CHECK(call(C, mcplib_schedule_config_reload, 0, 0, 0) == NULL && ctx->loading, "schedule_config_reload");

    /* mcp.backend directly: returns the label object */
    lua_pushstring(C, "b1");
    lua_pushstring(C, "127.0.0.1");
    lua_pushstring(C, "11211");
    CHECK(call(C, mcplib_backend, 3, 1, 0) == NULL, "backend");
    CHECK(luaL_testudata(C, -1, "mcp.backend") != NULL, "backend returns an mcp.backend");
    /* mcp.pool directly: it needs its backend-cache upvalue, as upstream */
    lua_newtable(C);
    lua_pushvalue(C, -2);
    lua_rawseti(C, -2, 1);
    lua_newtable(C); /* the upvalue: the backend cache */
    lua_pushcclosure(C, mcplib_pool, 1);
    lua_insert(C, -2);
    CHECK(lua_pcall(C, 1, 1, 0) == LUA_OK, "pool: %s", lua_tostring(C, -1));
    mcp_pool_t *p = luaL_testudata(C, -1, "mcp.pool");
    CHECK(p != NULL && p->pool_size == 1 && p->pool[0].be != NULL, "pool built");
    mcp_test_drain_all(ctx);
    if (p) {
        mcp_pool_proxy_t pp = { p, p->pool };
        CHECK(mcplib_pool_proxy_call_helper(&pp, "foo", 3) == p->pool[0].be, "call helper");
    }
    lua_pop(C, 2);

    /* mcp.server_stats() returns a table */
    CHECK(call(C, mcplib_server_stats, 0, 1, 0) == NULL && lua_istable(C, -1), "server_stats");
    lua_pop(C, 1);
    lua_pushstring(C, "nope");
    e = call(C, mcplib_server_stats, 1, 1, 0);
    CHECK(e && strcmp(e, "unknown subcommand passed to server_stats") == 0, "server_stats error: %s", e ? e : "(none)");

    /* register_cron: missing every */
    lua_pushstring(C, "c");
    lua_newtable(C);
    lua_pushcfunction(C, mcplib_time_mono_millis);
    lua_setfield(C, -2, "func");
    e = call(C, mcplib_register_cron, 2, 0, 0);
    CHECK(e && strcmp(e, "proxy cron entry missing 'every' field") == 0, "register_cron error: %s", e ? e : "(none)");

    /* worker VM functions */
    lua_State *W = new_worker_vm(ctx, t);
    CHECK(call(W, mcplib_time_real_millis, 0, 1, 0) == NULL && lua_isinteger(W, -1), "time_real_millis");
    CHECK(call(W, mcplib_time_mono_millis, 0, 1, 0) == NULL && lua_isinteger(W, -1), "time_mono_millis");
    lua_pop(W, 2);
    lua_pushinteger(W, CMD_GET);
    lua_pushcfunction(W, mcplib_time_mono_millis); /* any function */
    CHECK(call(W, mcplib_attach, 2, 0, 0) == NULL, "attach");
    struct proxy_hook *hooks = t->proxy_hooks;
    CHECK(hooks[CMD_GET].ref.lua_ref != 0 && hooks[CMD_GET].ref.ctx != NULL, "attach stored the hook");
    lua_pushinteger(W, CMD_GET);
    lua_pushinteger(W, 5);
    e = call(W, mcplib_attach, 2, 0, 0);
    CHECK(e && strcmp(e, "mcp.attach: must pass a function") == 0, "attach error: %s", e ? e : "(none)");
    lua_pushinteger(W, 5); /* request logging is off: no argument checks */
    CHECK(call(W, mcplib_log_req, 1, 0, 0) == NULL, "log_req with logging off");

    lua_close(W);
    mcp_test_drain_all(ctx);
    lua_close(C);
    return finish("test_exports");
}
