/* proxy_register_libs from C: a config VM and a worker VM get exactly
 * upstream's tables, names and constants. */
#include "common.h"

int main(void) {
    proxy_ctx_t *ctx = mcp_test_ctx_new();
    LIBEVENT_THREAD *t = mcp_test_thread_new(ctx, 0, 0);
    mcp_test_set_threads(&t, 1);
    mcp_test_set_startarg("a_1:b:c_2_3::_d");

    lua_State *C = new_config_vm(ctx);
    CHECK(lua_gettop(C) == 0, "config VM stack not balanced");
    CHECK(*(proxy_ctx_t **)lua_getextraspace(C) == ctx, "config VM extra space");
    CHECK_LUA(C, "local n = 0 for k, v in pairs(mcp) do if type(v) == 'function' then n = n + 1 end end return n", "25");
    CHECK_LUA(C, "local n = 0 for k, v in pairs(mcp) do if math.type(v) == 'integer' then n = n + 1 end end return n", "58");
    CHECK_LUA(C, "return mcp.CMD_MG .. ',' .. mcp.CMD_CACHE_MEMLIMIT .. ',' .. mcp.MCMC_ERR .. ',' .. mcp.RES_ANY", "1,34,-1,32");
    CHECK_LUA(C, "return mcp.WAIT_RESUME", "true");
    CHECK_LUA(C, "return type(mcp.pool) .. type(mcp.backend) .. type(mcp.register_cron) .. type(mcp.attach)", "functionfunctionfunctionnil");
    CHECK_LUA(C, "return getmetatable(mcp.internal_handler)", "nil");
    CHECK_LUA(C, "return mcp.start_arg.a .. tostring(mcp.start_arg.b) .. mcp.start_arg.c .. tostring(mcp.start_arg.d)", "1true2true");
    CHECK_LUA(C, "return debug.getregistry()['mcp.pool'].__name", "mcp.pool");
    CHECK_LUA(C, "return mcp.time_mono_millis", "nil");

    lua_State *W = new_worker_vm(ctx, t);
    CHECK(lua_gettop(W) == 0, "worker VM stack not balanced");
    CHECK(*(LIBEVENT_THREAD **)lua_getextraspace(W) == t, "worker VM extra space");
    CHECK_LUA(W, "local n = 0 for k, v in pairs(mcp) do if type(v) == 'function' then n = n + 1 end end return n", "16");
    CHECK_LUA(W, "local n = 0 for k, v in pairs(mcp) do if math.type(v) == 'integer' then n = n + 1 end end return n", "58");
    CHECK_LUA(W, "return getmetatable(mcp.internal_handler).__name", "mcp.internal_be");
    CHECK_LUA(W, "return debug.getregistry()['mcp.request'].__tostring", "false");
    CHECK_LUA(W, "return type(mcp.attach) .. type(mcp.pool)", "functionnil");
    CHECK_LUA(W, "return type(mcp.time_real_millis) .. type(mcp.time_mono_millis)", "functionfunction");

    lua_close(C);
    lua_close(W);
    return finish("test_register");
}
