/* The default key hasher against memcached's own xxhash.h (XXH_INLINE_ALL
 * through proxy.h, compiled from the fetched tree) on keys of length 0..300
 * and several seeds, and the key filters against upstream 1.6.45's C
 * (verbatim copies in test-support/c/standins.c), all reached through the
 * function pointers mcp.pool stores in mcp_pool_t. */
#include "common.h"

void mcp_test_drain_all(proxy_ctx_t *ctx);
const char *mcp_test_ref_filter_stop(const char *conf, const char *key, size_t klen, size_t *newlen);
const char *mcp_test_ref_filter_tag(const char *conf, const char *key, size_t klen, size_t *newlen);

static mcp_pool_t *pool(lua_State *L, const char *opts) {
    char code[512];
    snprintf(code, sizeof(code), "return mcp.pool({ mcp.backend('b', 'h', '1') }%s%s)", opts ? ", " : "", opts ? opts : "");
    if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
        fprintf(stderr, "%s: %s\n", code, lua_tostring(L, -1));
        exit(1);
    }
    mcp_pool_t *p = lua_touserdata(L, -1);
    luaL_ref(L, LUA_REGISTRYINDEX); /* keep it */
    return p;
}

int main(void) {
    proxy_ctx_t *ctx = mcp_test_ctx_new();
    LIBEVENT_THREAD *t = mcp_test_thread_new(ctx, 0, 0);
    mcp_test_set_threads(&t, 1);
    lua_State *L = new_config_vm(ctx);

    /* hasher */
    mcp_pool_t *p = pool(L, NULL);
    unsigned char buf[600];
    for (int i = 0; i < 600; i++) buf[i] = (unsigned char)((i * 2654435761u) >> 13);
    const uint64_t seeds[] = { 0, 1, 42, 0x9E3779B97F4A7C15ULL, UINT64_MAX, 1ULL << 63,
                               XXH3_64bits("seed", 4) };
    int n = 0;
    for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
        for (size_t len = 0; len <= 300; len++) {
            for (int off = 0; off < 3; off++) {
                uint64_t a = p->key_hasher(buf + off, len, seeds[s]);
                uint64_t b = XXH3_64bits_withSeed(buf + off, len, seeds[s]);
                CHECK(a == b, "len %zu seed %llu off %d", len, (unsigned long long)seeds[s], off);
                n++;
            }
        }
    }
    /* the `seed` option hashes the seed string with XXH3_64bits */
    mcp_pool_t *ps = pool(L, "{ seed = 'seed' }");
    CHECK(ps->hash_seed == XXH3_64bits("seed", 4), "seed option");

    /* filters */
    const char *stop_confs[] = { "|#|", "{}", "12345", "ab", "kk" };
    const char *tag_confs[] = { "{}", "$$", "kk", "||", "ab" };
    const char *keys[] = { "foo|#|bar", "|#|", "abc", "", "a{b}c", "{}", "}{", "{", "{x", "$$key$$",
                           "$$", "$x$", "abc$", "a$$b", "kkkk", "12345", "1234", "xx12345yy" };
    char big[300];
    int m = 0;
    for (size_t c = 0; c < 5; c++) {
        char opts[128];
        snprintf(opts, sizeof(opts), "{ filter = 'stop', filter_conf = '%s' }", stop_confs[c]);
        mcp_pool_t *pf = pool(L, opts);
        snprintf(opts, sizeof(opts), "{ filter = 'tags', filter_conf = '%s' }", tag_confs[c]);
        mcp_pool_t *pt = pool(L, opts);
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]) + 3; k++) {
            const char *key; size_t klen;
            if (k < sizeof(keys) / sizeof(keys[0])) { key = keys[k]; klen = strlen(key); }
            else { /* around KEY_MAX_LENGTH, with the conf at the end */
                klen = 249 + (k - sizeof(keys) / sizeof(keys[0]));
                memset(big, 'z', sizeof(big));
                memcpy(big + klen - 2, stop_confs[c], 2);
                key = big;
            }
            size_t a = 0, b = 0;
            const char *ra = pf->key_filter(pf->key_filter_conf, key, klen, &a);
            const char *rb = mcp_test_ref_filter_stop(pf->key_filter_conf, key, klen, &b);
            CHECK(ra == rb && a == b, "stop '%s' key %zu: (%td,%zu) vs (%td,%zu)", stop_confs[c], k, ra - key, a, rb - key, b);
            ra = pt->key_filter(pt->key_filter_conf, key, klen, &a);
            rb = mcp_test_ref_filter_tag(pt->key_filter_conf, key, klen, &b);
            CHECK(ra == rb && a == b, "tags '%s' key %zu: (%td,%zu) vs (%td,%zu)", tag_confs[c], k, ra - key, a, rb - key, b);
            m += 2;
        }
    }
    mcp_test_drain_all(ctx);
    lua_close(L);
    printf("test_hash: %d hashes and %d filter results compared\n", n, m);
    return finish("test_hash");
}
