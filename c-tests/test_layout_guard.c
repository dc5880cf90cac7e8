/* Linked on purpose with the archive built for the *other* binary (debug
 * layout into a production program, or the reverse): proxy_register_libs
 * must refuse to run, with a clear message and exit status 1, instead of
 * using wrong struct layouts. run.sh checks the status and the message. */
#include "common.h"

int main(void) {
    proxy_ctx_t *ctx = mcp_test_ctx_new();
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    mcp_test_ctx_set_cron_table(ctx, L);
    proxy_register_libs(ctx, NULL, L);
    printf("proxy_register_libs returned: the layout guard did not fire\n");
    return 0;
}
