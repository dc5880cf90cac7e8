/* Test stand-ins for the parts of memcached that proxy-lua-rs links against,
 * used only by `cargo test` (never linked into memcached).
 *
 * - Functions whose upstream body is tiny and pure are copied verbatim
 *   (proxy_lua_error, mcp_gobj_finalize, mcp_funcgen_reference).
 * - Stats producers emit fixed, recognisable stats so the Lua-side table
 *   building can be checked.
 * - logger_log records its arguments for the tests to inspect.
 * - Everything else raises "stand-in: <name>" so a test that reaches it
 *   fails loudly.
 * - mcp_test_* helpers build contexts, threads and event threads with the
 *   real struct layouts (this file is compiled with the binary's flags). */
#include "proxy.h"
#include <stdarg.h>
#include <sys/eventfd.h>

struct settings settings;
pthread_key_t logger_key;
#ifdef MEMCACHED_DEBUG
volatile bool is_paused;
#endif

/* ---- verbatim from proto_proxy.c ---- */
void proxy_lua_error(lua_State *L, const char *s) {
    lua_pushstring(L, s);
    lua_error(L);
}

void mcp_gobj_finalize(struct mcp_globalobj_s *g) {
    pthread_mutex_destroy(&g->lock);
}

/* ---- proxy_luafgen.c, reduced to what mcp.attach relies on ---- */
void mcp_funcgen_reference(lua_State *L) {
    mcp_funcgen_t *fgen = luaL_checkudata(L, -1, "mcp.funcgen");
    if (fgen->self_ref) {
        fgen->refcount++;
        lua_pop(L, 1);
    } else {
        fgen->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        fgen->refcount = 1;
    }
}

int mcp_test_funcgen_derefs = 0;
void mcp_funcgen_dereference(lua_State *L, mcp_funcgen_t *fgen) {
    (void)L;
    mcp_test_funcgen_derefs++;
    fgen->refcount--;
    if (fgen->refcount == 0) {
        fgen->closed = true;
    }
}

/* Same stack effect as upstream: [func] -> [generator, fgen]. */
int mcplib_funcgenbare_new(lua_State *L) {
    if (!lua_isfunction(L, -1)) {
        proxy_lua_error(L, "Must pass a function to mcp.funcgenbare_new");
        return 0;
    }
    mcp_funcgen_t *fgen = lua_newuserdatauv(L, sizeof(mcp_funcgen_t), 0);
    memset(fgen, 0, sizeof(*fgen));
    luaL_setmetatable(L, "mcp.funcgen");
    strncpy(fgen->name, "anonymous", FGEN_NAME_MAXLEN);
    fgen->ready = true;
    return 1;
}

/* A test-only constructor for a named funcgen (mcp.funcgen_new stand-in). */
int mcplib_funcgen_new(lua_State *L) {
    mcp_funcgen_t *fgen = lua_newuserdatauv(L, sizeof(mcp_funcgen_t), 0);
    memset(fgen, 0, sizeof(*fgen));
    luaL_setmetatable(L, "mcp.funcgen");
    return 1;
}

/* ---- worker threads ---- */
static LIBEVENT_THREAD **test_threads = NULL;
LIBEVENT_THREAD *get_worker_thread(int id) {
    return test_threads[id];
}

/* ---- logger ---- */
#define TEST_LOG_MAX 64
struct mcp_test_log_entry {
    int event;
    char msg[512];
    char detail[256];
    char rname[64];
    char rport[16];
    unsigned int reqlen;
    long elapsed;
    int rtype, rcode, rstatus, flag, cfd;
    size_t dlen;
    bool has_detail, has_rname, has_rport;
};
struct mcp_test_log_entry mcp_test_log[TEST_LOG_MAX];
int mcp_test_log_count = 0;

enum logger_ret_type logger_log(logger *l, const enum log_entry_type event, const void *entry, ...) {
    (void)l; (void)entry;
    va_list ap;
    va_start(ap, entry);
    struct mcp_test_log_entry *e = &mcp_test_log[mcp_test_log_count % TEST_LOG_MAX];
    memset(e, 0, sizeof(*e));
    e->event = event;
    if (event == LOGGER_PROXY_USER) {
        const char *msg = va_arg(ap, const char *);
        snprintf(e->msg, sizeof(e->msg), "%s", msg);
    } else if (event == LOGGER_PROXY_REQ) {
        /* Same va_arg sequence as logger.c's _logger_log_proxy_req. */
        const char *req = va_arg(ap, const char *);
        e->reqlen = va_arg(ap, uint32_t);
        e->elapsed = va_arg(ap, long);
        e->rtype = va_arg(ap, int);
        e->rcode = va_arg(ap, int);
        e->rstatus = va_arg(ap, int);
        e->flag = va_arg(ap, int);
        e->cfd = va_arg(ap, int);
        const char *detail = va_arg(ap, const char *);
        e->dlen = va_arg(ap, size_t);
        const char *rname = va_arg(ap, const char *);
        const char *rport = va_arg(ap, const char *);
        snprintf(e->msg, sizeof(e->msg), "%.*s", (int)e->reqlen, req);
        if (detail) { e->has_detail = true; snprintf(e->detail, sizeof(e->detail), "%.*s", (int)e->dlen, detail); }
        if (rname) { e->has_rname = true; snprintf(e->rname, sizeof(e->rname), "%s", rname); }
        if (rport) { e->has_rport = true; snprintf(e->rport, sizeof(e->rport), "%s", rport); }
    }
    va_end(ap);
    mcp_test_log_count++;
    return LOGGER_RET_OK;
}

/* ---- stats producers: fixed stats named after the producer ---- */
static void emit(ADD_STAT f, void *c, const char *k, const char *v) {
    f(k, strlen(k), v, strlen(v), c);
}
void server_stats(ADD_STAT f, void *c) { emit(f, c, "pid", "42"); emit(f, c, "uptime", "7"); }
bool get_stats(const char *stat_type, int nkey, ADD_STAT f, void *c) {
    if (stat_type == NULL) { emit(f, c, "cmd_get", "3"); f(NULL, 0, NULL, 0, c); return true; }
    if (nkey == 5 && strncmp(stat_type, "items", 5) == 0) {
        emit(f, c, "items:1:number", "5");
        emit(f, c, "items:1:age", "10");
        emit(f, c, "items:12:number", "1");
        return true;
    }
    if (nkey == 5 && strncmp(stat_type, "slabs", 5) == 0) {
        emit(f, c, "1:chunk_size", "96");
        emit(f, c, "active_slabs", "1");
        return true;
    }
    if (nkey == 5 && strncmp(stat_type, "sizes", 5) == 0) {
        emit(f, c, "sizes_status", "disabled");
        return true;
    }
    return false;
}
void process_stat_settings(ADD_STAT f, void *c) { emit(f, c, "maxbytes", "67108864"); }
void process_stats_conns(ADD_STAT f, void *c) { emit(f, c, "17:state", "conn_listening"); emit(f, c, "17:addr", "tcp:0"); }
#ifdef EXTSTORE
void process_extstore_stats(ADD_STAT f, void *c) { emit(f, c, "extstore_page_count", "0"); }
#endif
void process_proxy_stats(void *arg, ADD_STAT f, void *c) { (void)arg; emit(f, c, "proxy_backend_total", "0"); }
void process_proxy_funcstats(void *arg, ADD_STAT f, void *c) { (void)arg; emit(f, c, "funcgen_anonymous", "1"); }
void process_proxy_bestats(void *arg, ADD_STAT f, void *c) { (void)arg; emit(f, c, "bad_127.0.0.1:11211", "0"); }

/* ---- metatable methods and constructors from memcached's other files ---- */
#define STANDIN(name) \
    int name(lua_State *L) { proxy_lua_error(L, "stand-in: " #name " is memcached's"); return 0; }
STANDIN(mcplib_request)
STANDIN(mcplib_request_command)
STANDIN(mcplib_request_key)
STANDIN(mcplib_request_ltrimkey)
STANDIN(mcplib_request_rtrimkey)
STANDIN(mcplib_request_raw_line)
STANDIN(mcplib_request_raw_value)
STANDIN(mcplib_request_token)
STANDIN(mcplib_request_token_int)
STANDIN(mcplib_request_ntokens)
STANDIN(mcplib_request_has_flag)
STANDIN(mcplib_request_flag_token)
STANDIN(mcplib_request_flag_token_int)
STANDIN(mcplib_request_flag_add)
STANDIN(mcplib_request_flag_set)
STANDIN(mcplib_request_flag_replace)
STANDIN(mcplib_request_flag_del)
STANDIN(mcplib_request_match_res)
STANDIN(mcplib_request_gc)
STANDIN(mcplib_response_ok)
STANDIN(mcplib_response_hit)
STANDIN(mcplib_response_vlen)
STANDIN(mcplib_response_code)
STANDIN(mcplib_response_line)
STANDIN(mcplib_response_flag_blank)
STANDIN(mcplib_response_elapsed)
STANDIN(mcplib_response_raw_string)
STANDIN(mcplib_response_gc)
STANDIN(mcplib_response_close)
STANDIN(mcplib_ratelim_tbf)
STANDIN(mcplib_ratelim_tbf_call)
STANDIN(mcplib_ratelim_global_tbf)
STANDIN(mcplib_ratelim_global_tbf_gc)
STANDIN(mcplib_ratelim_proxy_tbf_call)
STANDIN(mcplib_ratelim_proxy_tbf_gc)
STANDIN(mcplib_rcontext_handle_set_cb)
STANDIN(mcplib_rcontext_enqueue)
STANDIN(mcplib_rcontext_wait_cond)
STANDIN(mcplib_rcontext_enqueue_and_wait)
STANDIN(mcplib_rcontext_wait_handle)
STANDIN(mcplib_rcontext_res_good)
STANDIN(mcplib_rcontext_res_ok)
STANDIN(mcplib_rcontext_res_any)
STANDIN(mcplib_rcontext_result)
STANDIN(mcplib_rcontext_best_result)
STANDIN(mcplib_rcontext_worst_result)
STANDIN(mcplib_rcontext_cfd)
STANDIN(mcplib_rcontext_tls_peer_cn)
STANDIN(mcplib_rcontext_request_new)
STANDIN(mcplib_rcontext_response_new)
STANDIN(mcplib_rcontext_sleep)
STANDIN(mcplib_funcgen_gc)
STANDIN(mcplib_funcgen_new_handle)
STANDIN(mcplib_funcgen_ready)
STANDIN(mcplib_router_new)
STANDIN(mcplib_inspector_gc)
STANDIN(mcplib_inspector_call)
STANDIN(mcplib_req_inspector_new)
STANDIN(mcplib_res_inspector_new)
STANDIN(mcplib_mutator_gc)
STANDIN(mcplib_mutator_call)
STANDIN(mcplib_req_mutator_new)
STANDIN(mcplib_res_mutator_new)
STANDIN(mcplib_internal)
STANDIN(mcplib_add_stat)
STANDIN(mcplib_stat)

/* ---- fixtures ---- */
proxy_event_thread_t *mcp_test_event_thread_new(proxy_ctx_t *ctx) {
    proxy_event_thread_t *e = calloc(1, sizeof(*e));
    pthread_mutex_init(&e->mutex, NULL);
    pthread_cond_init(&e->cond, NULL);
    STAILQ_INIT(&e->beconn_head_in);
    STAILQ_INIT(&e->be_head);
    STAILQ_INIT(&e->iop_head_in);
#ifdef USE_EVENTFD
    e->be_event_fd = eventfd(0, EFD_NONBLOCK);
    e->event_fd = eventfd(0, EFD_NONBLOCK);
#endif
    e->ctx = ctx;
    return e;
}

/* Reads the eventfd counter: how many times the thread was signalled. */
uint64_t mcp_test_event_thread_signals(proxy_event_thread_t *e) {
    uint64_t u = 0;
#ifdef USE_EVENTFD
    if (read(e->be_event_fd, &u, sizeof(u)) != sizeof(u)) u = 0;
#endif
    return u;
}

/* Pops queued backends like proxy_event_beconn(): new ones become
 * `transferred`; already-transferred ones are freed like _cleanup_backend.
 * Returns (new << 16) | freed. */
int mcp_test_event_thread_drain(proxy_event_thread_t *e) {
    int news = 0, freed = 0;
    pthread_mutex_lock(&e->mutex);
    mcp_backend_t *be;
    while ((be = STAILQ_FIRST(&e->beconn_head_in)) != NULL) {
        STAILQ_REMOVE_HEAD(&e->beconn_head_in, beconn_next);
        if (be->transferred) {
            for (int x = 0; x < be->conncount; x++) {
                free(be->be[x].client);
                free(be->be[x].rbuf);
            }
            if (be->logging.detail) free(be->logging.detail);
            free(be);
            freed++;
        } else {
            be->transferred = true;
            news++;
        }
    }
    pthread_mutex_unlock(&e->mutex);
    return (news << 16) | freed;
}

proxy_ctx_t *mcp_test_ctx_new(void) {
    proxy_ctx_t *ctx = calloc(1, sizeof(*ctx));
    pthread_mutex_init(&ctx->stats_lock, NULL);
    pthread_mutex_init(&ctx->config_lock, NULL);
    pthread_mutex_init(&ctx->manager_lock, NULL);
    pthread_cond_init(&ctx->manager_cond, NULL);
    STAILQ_INIT(&ctx->manager_head);
    /* defaults as proto_proxy.c:proxy_init */
    ctx->active_req_limit = INT64_MAX;
    ctx->buffer_memory_limit = UINT64_MAX;
    ctx->tunables.backend_failure_limit = 3;
    ctx->tunables.connect.tv_sec = 5;
    ctx->tunables.retry.tv_sec = 3;
    ctx->tunables.read.tv_sec = 3;
    ctx->tunables.flap_backoff_ramp = 1.5;
    ctx->tunables.flap_backoff_max = 3600;
    ctx->tunables.gc_ratio = 2.0;
    ctx->tunables.max_ustats = MAX_USTATS_DEFAULT;
    ctx->proxy_io_thread = mcp_test_event_thread_new(ctx);
    ctx->cron_next = INT_MAX;
    return ctx;
}

/* The cron table lives in the config VM's registry. */
void mcp_test_ctx_set_cron_table(proxy_ctx_t *ctx, lua_State *L) {
    lua_newtable(L);
    ctx->cron_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

LIBEVENT_THREAD *mcp_test_thread_new(proxy_ctx_t *ctx, int baseid, uint16_t eflags) {
    LIBEVENT_THREAD *t = calloc(1, sizeof(*t));
    t->thread_baseid = baseid;
    t->proxy_ctx = ctx;
    t->proxy_hooks = calloc(CMD_SIZE, sizeof(struct proxy_hook));
    t->proxy_event_thread = mcp_test_event_thread_new(ctx);
    logger *l = calloc(1, sizeof(logger));
    l->eflags = eflags;
    t->l = l;
    t->proxy_rng[0] = 0x12345678;
    t->proxy_rng[1] = 0x9abcdef0;
    t->proxy_rng[2] = 0x0fedcba9;
    return t;
}

/* Install `n` worker threads for get_worker_thread() and settings. */
void mcp_test_set_threads(LIBEVENT_THREAD **threads, int n) {
    test_threads = threads;
    settings.num_threads = n;
}

void mcp_test_set_startarg(const char *arg) {
    settings.proxy_startarg = arg ? strdup(arg) : NULL;
}

/* ---- verbatim copies of upstream 1.6.45 proxy_lua.c helpers, as the
 * reference the Rust port is compared with ---- */
static inline uint32_t ref_rotl(const uint32_t x, int k) {
    return (x << k) | (x >> (32 - k));
}
uint32_t mcp_test_ref_nextrand(uint32_t *s) {
    const uint32_t result = ref_rotl(s[0] + s[3], 7) + s[0];
    const uint32_t t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ref_rotl(s[3], 11);
    return result;
}
const char *mcp_test_ref_filter_stop(const char *conf, const char *key, size_t klen, size_t *newlen) {
    char temp[KEY_MAX_LENGTH+1];
    *newlen = klen;
    if (klen > KEY_MAX_LENGTH) {
        return key;
    }
    memcpy(temp, key, klen);
    temp[klen] = '\0';
    char *found = strstr(temp, conf);
    if (found) {
        *newlen = found - temp;
    }
    return key;
}
const char *mcp_test_ref_filter_tag(const char *conf, const char *key, size_t klen, size_t *newlen) {
    *newlen = klen;
    const char *t1 = memchr(key, conf[0], klen);
    if (t1) {
        size_t remain = klen - (t1 - key);
        if (remain > 1) {
            const char *t2 = memchr(t1+1, conf[1], remain-1);
            if (t2) {
                *newlen = t2 - t1 - 1;
                return t1+1;
            }
        }
    }
    return key;
}
uint64_t mcp_test_ref_xxh3(const void *key, size_t len, uint64_t seed) {
    return XXH3_64bits_withSeed(key, len, seed);
}
uint64_t mcp_test_ref_xxh3_noseed(const void *key, size_t len) {
    return XXH3_64bits(key, len);
}

/* Give the calling thread a logger (GET_LOGGER()), as memcached does for
 * its config thread. */
void mcp_test_set_thread_logger(uint16_t eflags) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    extern void mk(void);
    pthread_once(&once, mk);
    logger *l = calloc(1, sizeof(logger));
    l->eflags = eflags;
    pthread_setspecific(logger_key, l);
}
void mk(void) { pthread_key_create(&logger_key, NULL); }

/* Hand every queued backend to its (pretend) event thread: what the real
 * event threads do before a config VM can collect them. */
void mcp_test_drain_all(proxy_ctx_t *ctx) {
    if (ctx && ctx->proxy_io_thread) mcp_test_event_thread_drain(ctx->proxy_io_thread);
    for (int i = 0; test_threads && i < settings.num_threads; i++) {
        mcp_test_event_thread_drain(test_threads[i]->proxy_event_thread);
    }
}
