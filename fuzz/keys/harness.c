/* In-process differential fuzzing of the key-routing helper
 * (`mcplib_pool_proxy_call_helper`), "Untrusted input", part 1.
 *
 * One program holds both implementations:
 *   - ours: libproxy_lua_rs.a (proxy_register_libs,
 *     mcplib_pool_proxy_call_helper);
 *   - upstream: memcached's own proxy_lua.c from the built tree, compiled
 *     with memcached's flags, every symbol it defines renamed with a `c_`
 *     prefix (objcopy --redefine-syms; its undefined references keep their
 *     names, so both share memcached's C: Lua, proxy_xxhash.c,
 *     proxy_jump_hash.c, proxy_ring_hash.c, md5.c, and the stand-ins of
 *     test-support/c/standins.c).
 *
 * For each case the SAME pool is made in both, each in its own config VM
 * through its own `mcp` library: mcp.pool(backends) / mcp.pool(backends,
 * nil) / mcp.pool(backends, { dist, omode, obuckets, filter, filter_conf,
 * hash, seed, iothread, beprefix }) with 1..64 backends (mcp.backend(label,
 * host, port); rarely 0, jump hash only), 1..4 worker threads; dist: jump
 * (default or given), ring hash (omode default/ketama/twemproxy/evcache or
 * none, obuckets), or a dist written in Lua that hands jump or ring hash
 * more or fewer buckets than the pool has (selections past the pool: NULL).
 * Not generated, because memcached's proxy_ring_hash.c (the same C for
 * both) is undefined there: a ring over 0 backends (reads continuum[0] of
 * an empty array) and md5 omodes with obuckets not a multiple of 4 (the
 * continuum's tail is uninitialised memory). A worker's mcp_pool_proxy_t
 * is built as proxy_config.c:_copy_pool does, and both helpers are called
 * with the same key (an exactly-sized heap block, so a sanitizer sees any
 * read past it). Compared: the index of the chosen backend in the worker's
 * slots (or NULL), and, once per pool, the pool's routing members.
 *
 * Modes (scripts/reliability/fuzz-keys.sh builds and runs them):
 *   harness --seed S --keys N [--corpus DIR]... [--keep-going] [--quiet]
 *       deterministic generator: pools and keys from seed S until N keys
 *       were compared; then replays every file of each DIR (libFuzzer
 *       inputs) through the same entry point the coverage-guided mode uses.
 *   harness [libFuzzer options] [DIR...]   (builds with -DKEYS_LIBFUZZER)
 *       coverage-guided; one input = one pool (its options from the first
 *       bytes) and the keys that follow (length-prefixed).
 *   harness --replay FILE|DIR...   run inputs once.
 *   harness [--seed S] --make-seeds DIR COUNT   write starting inputs for
 *       the coverage-guided mode (spec bytes + generated keys).
 *   --control: upstream's helper gets each key with its last byte flipped;
 *       the run must then report differences (proves the comparison bites).
 *   harness --oob-control ours|c   one call with a key block 1 byte shorter
 *       than the length passed: under ASan it must be reported.
 *
 * Any difference prints the pool (as the Lua that makes it), the worker, the
 * key (hex) and both indices, and exits 1 (libFuzzer mode: abort(), so the
 * input is saved). */
#include "proxy.h"
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ours (libproxy_lua_rs.a); the call helper is declared by proxy.h */
int proxy_register_libs(void *ctx, LIBEVENT_THREAD *t, void *state);
/* upstream proxy_lua.c, renamed */
int c_proxy_register_libs(void *ctx, LIBEVENT_THREAD *t, void *state);
mcp_backend_t *c_mcplib_pool_proxy_call_helper(mcp_pool_proxy_t *pp, const char *key, size_t len);

/* fixtures (test-support/c/standins.c) */
proxy_ctx_t *mcp_test_ctx_new(void);
void mcp_test_ctx_set_cron_table(proxy_ctx_t *ctx, lua_State *L);
LIBEVENT_THREAD *mcp_test_thread_new(proxy_ctx_t *ctx, int baseid, uint16_t eflags);
void mcp_test_set_threads(LIBEVENT_THREAD **threads, int n);
int mcp_test_event_thread_drain(proxy_event_thread_t *e);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXBE 64
#define MAXTHREADS 4
#define MAXHOST (MAX_NAMELEN - 1) /* mcp.backend's limit: 254 */
#define MAXPORT (MAX_PORTLEN - 1) /* 5 */
#define MAXKEY 4096

/* ---------------------------------------------------------------------
 * byte source: a libFuzzer input (then zeros), or a seeded generator
 * --------------------------------------------------------------------- */
typedef struct {
    const uint8_t *d;
    size_t n, pos;
    uint64_t s;  /* splitmix64 state when d == NULL */
} src_t;

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static unsigned src_byte(src_t *s) {
    if (s->d == NULL) return (unsigned)(splitmix(&s->s) >> 56);
    return s->pos < s->n ? s->d[s->pos++] : 0;
}
/* uniform-ish in [0, n) */
static unsigned src_below(src_t *s, unsigned n) {
    if (n <= 1) return 0;
    if (s->d == NULL) return (unsigned)(((splitmix(&s->s) >> 32) * n) >> 32);
    unsigned v = src_byte(s);
    if (n > 256) v = (v << 8) | src_byte(s);
    return v % n;
}

/* ---------------------------------------------------------------------
 * the pool spec
 * --------------------------------------------------------------------- */
/* CJUMP/CRING: a dist written in Lua, { new = function(pool, opts) ... }, that
 * hands jump (or ring) hash `m` buckets instead of the pool's n: selections
 * past the pool (NULL) and pools that use only some backends */
enum { DIST_DEFAULT, DIST_JUMP, DIST_RING, DIST_CJUMP, DIST_CRING };
enum { FORM_NOOPTS, FORM_NIL, FORM_OPTS };
enum { OM_NONE, OM_DEFAULT, OM_KETAMA, OM_TWEMPROXY, OM_EVCACHE };
enum { F_NONE, F_STOP, F_TAGS };
enum { H_NONE, H_XXHASH, H_RINGMD5 };
static const char *omode_names[] = { NULL, "default", "ketama", "twemproxy", "evcache" };

typedef struct {
    int n, nthreads, worker, form, iothread;
    int dist, omode, obuckets; /* obuckets 0: not given */
    int m;                     /* buckets of a custom dist */
    int prefixlen;             /* beprefix (0: not given) */
    uint8_t prefix[600];
    int filter;
    uint8_t conf[KEY_HASH_FILTER_MAX];
    int conflen;
    int hash;
    int has_seed;
    uint8_t seed[40];
    int seedlen;
    uint8_t host[MAXBE][MAXHOST];
    uint8_t hostlen[MAXBE];
    uint8_t port[MAXBE][MAXPORT];
    uint8_t portlen[MAXBE];
} spec_t;

static const char DELIMS[] = "{}|#$:/-_.,;[]()<>~!@%^&*+= \t";

static void put_str(uint8_t *dst, uint8_t *len, const char *s) {
    size_t l = strlen(s);
    memcpy(dst, s, l);
    *len = (uint8_t)l;
}

/* Draws a spec. Every spec is a valid pool for both implementations. */
static void spec_gen(src_t *s, spec_t *sp) {
    memset(sp, 0, sizeof(*sp));
    unsigned b = src_byte(s);
    /* half the pools small (1..8 backends), the rest 1..64 */
    sp->n = (b & 0x80) ? 1 + (int)((b & 0x7f) % MAXBE) : 1 + (int)(b % 8);
    if (b == 0x7f) sp->n = 0; /* an empty pool (jump hash only, below) */
    sp->nthreads = 1 + (int)src_below(s, MAXTHREADS);
    sp->worker = (int)src_below(s, (unsigned)sp->nthreads);
    b = src_byte(s);
    sp->form = (b % 8 == 0) ? FORM_NOOPTS : (b % 8 == 1) ? FORM_NIL : FORM_OPTS;
    if (sp->form == FORM_OPTS) {
        sp->iothread = (src_byte(s) % 8) == 0;
        b = src_byte(s);
        sp->dist = b < 64 ? DIST_DEFAULT : b < 128 ? DIST_JUMP : b < 224 ? DIST_RING : b < 240 ? DIST_CJUMP : DIST_CRING;
        if (sp->n == 0 && (sp->dist == DIST_RING || sp->dist == DIST_CRING)) {
            /* memcached's ring hash reads continuum[0] of an empty ring
             * (out of bounds, proxy_ring_hash.c), the same C for both */
            sp->dist = DIST_JUMP;
        }
        if (sp->dist == DIST_CJUMP || sp->dist == DIST_CRING) {
            /* 0..2n+2 buckets (ring: at least 1, see above) */
            sp->m = (int)src_below(s, (unsigned)(2 * sp->n + 3));
            if (sp->dist == DIST_CRING && sp->m == 0) sp->m = 1;
        }
        if (sp->dist != DIST_DEFAULT) {
            /* a jump hash ignores these */
            sp->omode = (int)src_below(s, 5);
        }
        b = src_byte(s);
        if (b >= 160 && sp->dist != DIST_DEFAULT) {
            if (sp->omode >= OM_KETAMA) {
                /* md5 modes make bucket_size/4 * 4 points but search
                 * bucket_size: only multiples of 4 are defined (upstream
                 * proxy_ring_hash.c; the same C runs for both) */
                sp->obuckets = 4 * (1 + (int)((b - 160) % 48));
            } else {
                sp->obuckets = 1 + (int)((b - 160) % 96) * 2;
            }
        }
        sp->filter = (int)src_below(s, 3);
        sp->conflen = 2 + (int)src_below(s, KEY_HASH_FILTER_MAX - 1);
        for (int i = 0; i < sp->conflen; i++) {
            unsigned c = src_byte(s);
            if (c < 200) {
                sp->conf[i] = (uint8_t)DELIMS[c % (sizeof(DELIMS) - 1)];
            } else if (c < 225) {
                sp->conf[i] = (uint8_t)('a' + c % 26);
            } else if (c < 235) {
                sp->conf[i] = 0; /* C's strstr ends the conf here */
            } else {
                sp->conf[i] = (uint8_t)src_byte(s); /* any byte, NUL too */
            }
        }
        sp->hash = (int)src_below(s, 3);
        sp->has_seed = src_byte(s) & 1;
        if (sp->has_seed) {
            sp->seedlen = (int)src_below(s, sizeof(sp->seed) + 1);
            for (int i = 0; i < sp->seedlen; i++) sp->seed[i] = (uint8_t)src_byte(s);
        }
        b = src_byte(s);
        if (b >= 240) {
            sp->prefixlen = b == 255 ? 600 : 1 + (int)(b % 12);
            for (int i = 0; i < sp->prefixlen; i++) sp->prefix[i] = (uint8_t)('p' + i % 5);
        }
    }
    int hostmode = (int)src_below(s, 7);
    unsigned salt = src_byte(s);
    for (int i = 0; i < sp->n; i++) {
        char tmp[300];
        switch (hostmode) {
        case 0:
            put_str(sp->host[i], &sp->hostlen[i], "127.0.0.1");
            snprintf(tmp, sizeof(tmp), "%d", 11211 + i);
            put_str(sp->port[i], &sp->portlen[i], tmp);
            break;
        case 1:
            snprintf(tmp, sizeof(tmp), "10.%u.%d.%d", salt, i / 256, i % 256);
            put_str(sp->host[i], &sp->hostlen[i], tmp);
            put_str(sp->port[i], &sp->portlen[i], "11211");
            break;
        case 2:
            snprintf(tmp, sizeof(tmp), "cache-%u-%u.example.net", salt, src_byte(s));
            put_str(sp->host[i], &sp->hostlen[i], tmp);
            snprintf(tmp, sizeof(tmp), "%u", src_below(s, 65536));
            put_str(sp->port[i], &sp->portlen[i], tmp);
            break;
        case 3: /* every backend at the same address: colliding points */
            snprintf(tmp, sizeof(tmp), "h%u", salt);
            put_str(sp->host[i], &sp->hostlen[i], tmp);
            put_str(sp->port[i], &sp->portlen[i], (salt & 1) ? "11211" : "1");
            break;
        case 4: /* raw bytes, NULs included, empty included */
            sp->hostlen[i] = (uint8_t)src_below(s, 24);
            for (int k = 0; k < sp->hostlen[i]; k++) sp->host[i][k] = (uint8_t)src_byte(s);
            sp->portlen[i] = (uint8_t)src_below(s, MAXPORT + 1);
            for (int k = 0; k < sp->portlen[i]; k++) sp->port[i][k] = (uint8_t)src_byte(s);
            break;
        case 5: /* long names, up to mcp.backend's limit */
            sp->hostlen[i] = (uint8_t)(MAXHOST - src_below(s, 64));
            for (int k = 0; k < sp->hostlen[i]; k++) sp->host[i][k] = (uint8_t)('a' + (k * 7 + i + (int)salt) % 26);
            snprintf(tmp, sizeof(tmp), "%d", 10000 + i);
            put_str(sp->port[i], &sp->portlen[i], tmp);
            break;
        default: /* mixed: some hosts repeated, some ports 11211 */
            snprintf(tmp, sizeof(tmp), "192.168.%u.%u", salt % 4, src_below(s, 8));
            put_str(sp->host[i], &sp->hostlen[i], tmp);
            put_str(sp->port[i], &sp->portlen[i], (src_byte(s) & 1) ? "11211" : "11212");
            break;
        }
    }
}

static void print_lstr(FILE *f, const uint8_t *p, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') {
            fputc(p[i], f);
        } else {
            fprintf(f, "\\x%02x", p[i]);
        }
    }
    fputc('"', f);
}

static void print_spec(FILE *f, const spec_t *sp) {
    fprintf(f, "pool (%d worker thread%s, slots of worker %d):\n  mcp.pool({", sp->nthreads,
            sp->nthreads > 1 ? "s" : "", sp->worker);
    for (int i = 0; i < sp->n; i++) {
        fprintf(f, "%s\n    mcp.backend(\"b%d\", ", i ? "," : "", i + 1);
        print_lstr(f, sp->host[i], sp->hostlen[i]);
        fputs(", ", f);
        print_lstr(f, sp->port[i], sp->portlen[i]);
        fputc(')', f);
    }
    fputs(" }", f);
    if (sp->form == FORM_NIL) fputs(", nil", f);
    if (sp->form == FORM_OPTS) {
        fputs(", {", f);
        if (sp->iothread) fputs(" iothread = true,", f);
        if (sp->dist == DIST_JUMP) fputs(" dist = mcp.dist_jump_hash,", f);
        if (sp->dist == DIST_RING) fputs(" dist = mcp.dist_ring_hash,", f);
        if (sp->dist == DIST_CJUMP)
            fprintf(f, " dist = { new = function(pool, opts) local t = {} for i = 1, %d do t[i] = { id = i } end"
                       " return mcp.dist_jump_hash.new(t, opts) end },", sp->m);
        if (sp->dist == DIST_CRING)
            fprintf(f, " dist = { new = function(pool, opts) local t = {} for i = 1, %d do"
                       " t[i] = { id = i, addr = 'r' .. i, port = '11211' } end"
                       " return mcp.dist_ring_hash.new(t, opts) end },", sp->m);
        if (sp->omode) fprintf(f, " omode = \"%s\",", omode_names[sp->omode]);
        if (sp->obuckets) fprintf(f, " obuckets = %d,", sp->obuckets);
        if (sp->filter) {
            fprintf(f, " filter = \"%s\", filter_conf = ", sp->filter == F_STOP ? "stop" : "tags");
            print_lstr(f, sp->conf, (size_t)sp->conflen);
            fputc(',', f);
        }
        if (sp->hash == H_XXHASH) fputs(" hash = mcp.hash_xxhash,", f);
        if (sp->hash == H_RINGMD5) fputs(" hash = mcp.dist_ring_hash.hash,", f);
        if (sp->has_seed) {
            fputs(" seed = ", f);
            print_lstr(f, sp->seed, (size_t)sp->seedlen);
            fputc(',', f);
        }
        if (sp->prefixlen) {
            fputs(" beprefix = ", f);
            print_lstr(f, sp->prefix, (size_t)sp->prefixlen);
            fputc(',', f);
        }
        fputs(" }", f);
    }
    fputs(")\n", f);
}

/* ---------------------------------------------------------------------
 * the two implementations
 * --------------------------------------------------------------------- */
typedef struct {
    const char *name;
    int (*register_libs)(void *, LIBEVENT_THREAD *, void *);
    mcp_backend_t *(*helper)(mcp_pool_proxy_t *, const char *, size_t);
    proxy_ctx_t *ctx;
    lua_State *L;
    int chunk_ref, pool_ref;
    mcp_pool_t *pool;
    mcp_pool_proxy_t pp;
    char err[512];
} impl_t;

static impl_t impls[2] = {
    { .name = "ours", .register_libs = proxy_register_libs, .helper = mcplib_pool_proxy_call_helper },
    { .name = "upstream C", .register_libs = c_proxy_register_libs, .helper = c_mcplib_pool_proxy_call_helper },
};
static LIBEVENT_THREAD *threads[MAXTHREADS];

/* The same Lua for both VMs: each resolves `mcp` to its own library. */
static const char CHUNK[] =
    "local n, hosts, ports, form, dist, omode, obuckets, filter, conf, hash, seed, iothread, m, beprefix = ...\n"
    "local b = {}\n"
    "for i = 1, n do b[i] = mcp.backend('b' .. i, hosts[i], ports[i]) end\n"
    "if form == 0 then return mcp.pool(b) end\n"
    "if form == 1 then return mcp.pool(b, nil) end\n"
    "local o = {}\n"
    "if dist == 1 then o.dist = mcp.dist_jump_hash elseif dist == 2 then o.dist = mcp.dist_ring_hash\n"
    "elseif dist == 3 then o.dist = { new = function(pool, opts) local t = {}\n"
    "    for i = 1, m do t[i] = { id = i } end return mcp.dist_jump_hash.new(t, opts) end }\n"
    "elseif dist == 4 then o.dist = { new = function(pool, opts) local t = {}\n"
    "    for i = 1, m do t[i] = { id = i, addr = 'r' .. i, port = '11211' } end\n"
    "    return mcp.dist_ring_hash.new(t, opts) end }\n"
    "end\n"
    "o.omode = omode\n"
    "o.obuckets = obuckets\n"
    "if filter then o.filter = filter o.filter_conf = conf end\n"
    "if hash == 1 then o.hash = mcp.hash_xxhash elseif hash == 2 then o.hash = mcp.dist_ring_hash.hash end\n"
    "o.seed = seed\n"
    "o.iothread = iothread\n"
    "o.beprefix = beprefix\n"
    "return mcp.pool(b, o)\n";

static int fuzz_mode = 0;   /* libFuzzer driving: abort() on a difference */
static int keep_going = 0;
static int control = 0;     /* --control: upstream gets the key with its last byte flipped */
static uint64_t n_reports = 0;
/* what the compared keys covered */
static uint64_t st_filter[3], st_dist[5], st_hash[3], st_long, st_nul, st_empty, st_multi;
static int quiet = 0;
static uint64_t n_keys = 0, n_pools = 0, n_pool_errors = 0, n_diffs = 0, n_null = 0;
static uint64_t n_inputs = 0;

static void drain_all(void) {
    for (int i = 0; i < MAXTHREADS; i++) mcp_test_event_thread_drain(threads[i]->proxy_event_thread);
    for (int i = 0; i < 2; i++) mcp_test_event_thread_drain(impls[i].ctx->proxy_io_thread);
}

static void setup(void) {
    static int done = 0;
    if (done) return;
    done = 1;
    for (int i = 0; i < 2; i++) {
        impl_t *im = &impls[i];
        im->ctx = mcp_test_ctx_new();
        im->L = luaL_newstate();
        luaL_openlibs(im->L);
        mcp_test_ctx_set_cron_table(im->ctx, im->L);
        im->register_libs(im->ctx, NULL, im->L);
        if (luaL_loadbuffer(im->L, CHUNK, sizeof(CHUNK) - 1, "=pool") != LUA_OK) {
            fprintf(stderr, "fuzz-keys: chunk: %s\n", lua_tostring(im->L, -1));
            exit(2);
        }
        im->chunk_ref = luaL_ref(im->L, LUA_REGISTRYINDEX);
        im->pool_ref = LUA_NOREF;
    }
    for (int i = 0; i < MAXTHREADS; i++) threads[i] = mcp_test_thread_new(impls[0].ctx, i, 0);
    mcp_test_set_threads(threads, 1);
}

static void release_pools(void) {
    for (int i = 0; i < 2; i++) {
        impl_t *im = &impls[i];
        if (im->pool_ref != LUA_NOREF) {
            luaL_unref(im->L, LUA_REGISTRYINDEX, im->pool_ref);
            im->pool_ref = LUA_NOREF;
        }
        im->pool = NULL;
        lua_gc(im->L, LUA_GCCOLLECT, 0);
    }
    drain_all(); /* frees the backends the wrappers' __gc queued */
}

static void teardown(void) {
    release_pools();
    for (int i = 0; i < 2; i++) {
        lua_close(impls[i].L);
        impls[i].L = NULL;
    }
    drain_all();
}

static void push_lstr(lua_State *L, const uint8_t *p, size_t n) {
    lua_pushlstring(L, (const char *)p, n);
}

static const spec_t *cur_spec;

static int reporting(void) {
    return !keep_going || n_reports < 3;
}

static void report_header(const char *what) {
    if (!reporting()) return;
    fprintf(stderr, "\n=== fuzz-keys DIFFERENCE: %s\n", what);
    print_spec(stderr, cur_spec);
}

static void difference_done(void) {
    n_diffs++;
    n_reports++;
    fflush(stderr);
    if (fuzz_mode) abort();
    if (!keep_going) exit(1);
}

/* Makes the pool in one implementation; 0 ok, -1 Lua error (in im->err). */
static int make_pool(impl_t *im, const spec_t *sp) {
    lua_State *L = im->L;
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, im->chunk_ref);
    lua_pushinteger(L, sp->n);
    lua_createtable(L, sp->n, 0);
    for (int i = 0; i < sp->n; i++) {
        push_lstr(L, sp->host[i], sp->hostlen[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_createtable(L, sp->n, 0);
    for (int i = 0; i < sp->n; i++) {
        push_lstr(L, sp->port[i], sp->portlen[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushinteger(L, sp->form);
    lua_pushinteger(L, sp->dist);
    if (sp->omode) lua_pushstring(L, omode_names[sp->omode]); else lua_pushnil(L);
    if (sp->obuckets) lua_pushinteger(L, sp->obuckets); else lua_pushnil(L);
    if (sp->filter) lua_pushstring(L, sp->filter == F_STOP ? "stop" : "tags"); else lua_pushnil(L);
    push_lstr(L, sp->conf, (size_t)sp->conflen);
    lua_pushinteger(L, sp->hash);
    if (sp->has_seed) push_lstr(L, sp->seed, (size_t)sp->seedlen); else lua_pushnil(L);
    if (sp->iothread) lua_pushboolean(L, 1); else lua_pushnil(L);
    lua_pushinteger(L, sp->m);
    if (sp->prefixlen) push_lstr(L, sp->prefix, (size_t)sp->prefixlen); else lua_pushnil(L);
    if (lua_pcall(L, 14, 1, 0) != LUA_OK) {
        snprintf(im->err, sizeof(im->err), "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "(non-string error)");
        lua_settop(L, top);
        return -1;
    }
    im->pool = luaL_testudata(L, -1, "mcp.pool");
    if (im->pool == NULL) {
        snprintf(im->err, sizeof(im->err), "mcp.pool returned a %s", luaL_typename(L, -1));
        lua_settop(L, top);
        return -1;
    }
    im->pool_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_settop(L, top);
    mcp_pool_t *p = im->pool;
    /* proxy_config.c:_copy_pool */
    im->pp.main = p;
    if (p->use_iothread) {
        im->pp.pool = p->pool;
    } else {
        im->pp.pool = &p->pool[threads[sp->worker]->thread_baseid * p->pool_size];
    }
    return 0;
}

/* a function pointer's bits, for printing (ISO C has no cast to void *) */
static unsigned long long fp_bits(const void *storage, size_t n) {
    unsigned long long u = 0;
    memcpy(&u, storage, n < sizeof(u) ? n : sizeof(u));
    return u;
}
#define FP(x) fp_bits(&(x), sizeof(x))

#define POOL_CHECK(cond, ...) do { if (!(cond)) { \
    report_header("pool members differ"); \
    if (reporting()) { fprintf(stderr, "  %s: ", #cond); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
    difference_done(); return -1; } } while (0)

/* Once per pool: the members the helper reads, and each slot's backend. */
static int compare_pools(const spec_t *sp) {
    mcp_pool_t *a = impls[0].pool, *c = impls[1].pool;
    POOL_CHECK(a->pool_size == c->pool_size && a->pool_size == sp->n, "%d vs %d", a->pool_size, c->pool_size);
    POOL_CHECK(a->pool_be_total == c->pool_be_total, "%d vs %d", a->pool_be_total, c->pool_be_total);
    POOL_CHECK(a->use_iothread == c->use_iothread, "%d vs %d", a->use_iothread, c->use_iothread);
    POOL_CHECK(a->hash_seed == c->hash_seed, "%016llx vs %016llx", (unsigned long long)a->hash_seed,
               (unsigned long long)c->hash_seed);
    POOL_CHECK((a->key_filter == NULL) == (c->key_filter == NULL), "%llx vs %llx", FP(a->key_filter),
               FP(c->key_filter));
    POOL_CHECK(memcmp(a->key_filter_conf, c->key_filter_conf, sizeof(a->key_filter_conf)) == 0, "conf");
    POOL_CHECK(a->key_hasher != NULL && c->key_hasher != NULL, "NULL hasher");
    if (sp->form == FORM_OPTS && sp->hash != H_NONE) {
        /* both are memcached's own C function (proxy_xxhash.c / proxy_ring_hash.c) */
        POOL_CHECK(a->key_hasher == c->key_hasher, "%llx vs %llx", FP(a->key_hasher), FP(c->key_hasher));
    }
    POOL_CHECK(a->phc.selector_func == c->phc.selector_func, "%llx vs %llx", FP(a->phc.selector_func),
               FP(c->phc.selector_func));
    POOL_CHECK(a->phc.ctx != NULL && c->phc.ctx != NULL, "NULL selector ctx");
    for (int i = 0; i < sp->n; i++) {
        mcp_backend_t *x = impls[0].pp.pool[i].be, *y = impls[1].pp.pool[i].be;
        POOL_CHECK(x != NULL && y != NULL, "slot %d: %p vs %p", i, (void *)x, (void *)y);
        POOL_CHECK(strcmp(x->name, y->name) == 0 && strcmp(x->port, y->port) == 0 &&
                   strcmp(x->label, y->label) == 0 && x->conncount == y->conncount &&
                   x->use_io_thread == y->use_io_thread,
                   "slot %d: %s:%s (%s) vs %s:%s (%s)", i, x->name, x->port, x->label, y->name, y->port, y->label);
    }
    return 0;
}

static spec_t live_spec;   /* the spec of the pools now alive */
static int live = 0;       /* pools alive for live_spec (0: none; -1: both errored) */

/* Makes the pools for `sp` in both (reusing the live ones if the spec is
 * the same). Returns 1 if keys can be compared. */
static int ensure_pools(const spec_t *sp) {
    cur_spec = sp;
    if (live && memcmp(&live_spec, sp, sizeof(*sp)) == 0) return live > 0;
    if (live) release_pools();
    live = 0;
    mcp_test_set_threads(threads, sp->nthreads);
    int ra = make_pool(&impls[0], sp);
    int rc = make_pool(&impls[1], sp);
    drain_all(); /* the event threads take the new backends (transferred) */
    memcpy(&live_spec, sp, sizeof(*sp));
    n_pools++;
    if (ra != rc || (ra < 0 && strcmp(impls[0].err, impls[1].err) != 0)) {
        report_header("mcp.pool outcome differs");
        if (reporting()) fprintf(stderr, "  ours: %s\n  upstream C: %s\n", ra ? impls[0].err : "ok", rc ? impls[1].err : "ok");
        difference_done();
        live = -1;
        return 0;
    }
    if (ra < 0) {
        n_pool_errors++;
        live = -1;
        return 0;
    }
    if (compare_pools(sp) < 0) {
        live = -1;
        return 0;
    }
    live = 1;
    return 1;
}

static int slot_index(const impl_t *im, const mcp_backend_t *be) {
    if (be == NULL) return -1;
    for (int i = 0; i < im->pool->pool_size; i++) {
        if (im->pp.pool[i].be == be) return i;
    }
    return -2; /* not a slot of this worker */
}

static void print_hex(FILE *f, const uint8_t *k, size_t len) {
    for (size_t i = 0; i < len; i++) fprintf(f, "%02x", k[i]);
}

/* Compares both helpers on one key (copied into an exactly-sized block). */
static void check_key(const uint8_t *key, size_t len) {
    char *k = malloc(len ? len : 1);
    if (!k) { perror("malloc"); exit(2); }
    /* len 0: a 1-byte block, so the pointer is valid; its byte is poison-ish */
    if (len) memcpy(k, key, len); else k[0] = (char)0xA5;
    mcp_backend_t *ba = impls[0].helper(&impls[0].pp, k, len);
    if (control && len) k[len - 1] ^= 1;
    mcp_backend_t *bc = impls[1].helper(&impls[1].pp, k, len);
    int ia = slot_index(&impls[0], ba), ic = slot_index(&impls[1], bc);
    const spec_t *sp = cur_spec;
    n_keys++;
    if (ia == -1) n_null++;
    st_filter[sp->form == FORM_OPTS ? sp->filter : 0]++;
    st_dist[sp->form == FORM_OPTS ? sp->dist : 0]++;
    st_hash[sp->form == FORM_OPTS ? sp->hash : 0]++;
    if (len > KEY_MAX_LENGTH) st_long++;
    if (len == 0) st_empty++;
    if (len && memchr(key, 0, len)) st_nul++;
    if (sp->n > 1) st_multi++;
    if ((ia != ic || ia == -2) && reporting()) {
        report_header("backend chosen differs");
        fprintf(stderr, "  key (%zu bytes, hex): ", len);
        print_hex(stderr, key, len);
        fprintf(stderr, "\n  key (Lua): ");
        print_lstr(stderr, key, len);
        fprintf(stderr, "\n  index chosen (0-based slot of the worker; -1 NULL, -2 not a slot): ours %d, upstream C %d\n", ia, ic);
    }
    if (ia != ic || ia == -2) difference_done();
    free(k);
}

/* ---------------------------------------------------------------------
 * seeded key generator
 * --------------------------------------------------------------------- */
static size_t pick_len(src_t *s) {
    unsigned r = src_below(s, 100);
    if (r < 35) return src_below(s, 64);
    if (r < 65) return src_below(s, 301);
    if (r < 88) return 240 + src_below(s, 21);           /* around KEY_MAX_LENGTH */
    if (r < 97) return 250 + src_below(s, 51);           /* 250..300 */
    return 301 + src_below(s, MAXKEY - 301);             /* longer than memcached lets through */
}

static uint8_t alnum(src_t *s) {
    static const char A[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    return (uint8_t)A[src_below(s, sizeof(A) - 1)];
}

static size_t gen_key(src_t *s, const spec_t *sp, uint8_t *k, uint8_t *prev, size_t prevlen) {
    const uint8_t *conf = sp->conf;
    int cl = sp->conflen;
    size_t len;
    unsigned kind = src_below(s, 12);
    switch (kind) {
    case 0: /* random bytes */
        len = pick_len(s);
        for (size_t i = 0; i < len; i++) k[i] = (uint8_t)src_byte(s);
        return len;
    case 1: /* printable */
        len = pick_len(s);
        for (size_t i = 0; i < len; i++) k[i] = alnum(s);
        return len;
    case 2: case 3: { /* printable with the whole conf at 1..3 places, maybe NULs near it */
        len = pick_len(s);
        for (size_t i = 0; i < len; i++) k[i] = alnum(s);
        int times = 1 + (int)src_below(s, 3);
        for (int t = 0; t < times && len >= (size_t)cl; t++) {
            size_t at = src_below(s, (unsigned)(len - (size_t)cl + 1));
            memcpy(k + at, conf, (size_t)cl);
            unsigned nul = src_below(s, 6);
            if (nul == 0 && at > 0) k[src_below(s, (unsigned)at)] = 0;          /* NUL before it */
            if (nul == 1 && at + (size_t)cl < len) k[at + (size_t)cl + src_below(s, (unsigned)(len - at - (size_t)cl))] = 0;
        }
        return len;
    }
    case 4: /* only delimiters: the conf's bytes in any order */
        len = pick_len(s);
        for (size_t i = 0; i < len; i++) k[i] = conf[src_below(s, (unsigned)cl)];
        return len;
    case 5: { /* tag soup: conf[0], conf[1], NUL, letters; short and long */
        len = src_below(s, 4) ? src_below(s, 24) : pick_len(s);
        for (size_t i = 0; i < len; i++) {
            unsigned r = src_below(s, 8);
            k[i] = r < 2 ? conf[0] : r < 4 ? conf[1] : r == 4 ? 0 : r == 5 ? conf[src_below(s, (unsigned)cl)] : alnum(s);
        }
        return len;
    }
    case 6: { /* a prefix of the conf at the very end, or the conf split */
        len = pick_len(s);
        for (size_t i = 0; i < len; i++) k[i] = alnum(s);
        int part = 1 + (int)src_below(s, (unsigned)cl);
        if (len >= (size_t)part) memcpy(k + len - (size_t)part, conf, (size_t)part);
        return len;
    }
    case 7: { /* exact boundary lengths with the conf near the end */
        static const size_t L[] = { 0, 1, 2, 5, 6, 249, 250, 251, 252, 255, 256, 299, 300, 301 };
        len = L[src_below(s, sizeof(L) / sizeof(L[0]))];
        for (size_t i = 0; i < len; i++) k[i] = alnum(s);
        if (len >= (size_t)cl && src_below(s, 2)) {
            size_t back = src_below(s, 8);
            size_t at = len - (size_t)cl >= back ? len - (size_t)cl - back : 0;
            memcpy(k + at, conf, (size_t)cl);
        }
        return len;
    }
    case 8: /* only NULs, or NUL-led */
        len = pick_len(s);
        memset(k, 0, len);
        if (len && src_below(s, 2)) for (size_t i = 1; i < len; i++) k[i] = alnum(s);
        return len;
    case 9: { /* memcached-looking keys: prefix/segments */
        len = 0;
        int segs = 1 + (int)src_below(s, 5);
        for (int g = 0; g < segs && len < 280; g++) {
            int sl = (int)src_below(s, 20);
            for (int i = 0; i < sl; i++) k[len++] = alnum(s);
            if (g + 1 < segs) {
                if (src_below(s, 2)) { memcpy(k + len, conf, (size_t)cl); len += (size_t)cl; }
                else k[len++] = (uint8_t)DELIMS[src_below(s, sizeof(DELIMS) - 1)];
            }
        }
        return len;
    }
    default: { /* mutate the previous key: flip, cut, extend, insert conf */
        len = prevlen;
        memcpy(k, prev, len);
        int muts = 1 + (int)src_below(s, 3);
        for (int m = 0; m < muts; m++) {
            unsigned op = src_below(s, 5);
            if (op == 0 && len) k[src_below(s, (unsigned)len)] ^= (uint8_t)(1u << src_below(s, 8));
            else if (op == 1 && len) len = src_below(s, (unsigned)len + 1);
            else if (op == 2 && len + 1 < MAXKEY) k[len++] = (uint8_t)src_byte(s);
            else if (op == 3 && len + (size_t)cl < MAXKEY) {
                size_t at = src_below(s, (unsigned)len + 1);
                memmove(k + at + cl, k + at, len - at);
                memcpy(k + at, conf, (size_t)cl);
                len += (size_t)cl;
            } else if (op == 4 && len) k[src_below(s, (unsigned)len)] = conf[src_below(s, (unsigned)cl)];
        }
        return len;
    }
    }
}

/* ---------------------------------------------------------------------
 * coverage-guided entry: input = pool spec bytes, then keys
 * (each: a length byte L; L == 255: two more bytes give 255 + (v % 3842);
 * then L bytes, cut at the end of the input)
 * --------------------------------------------------------------------- */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    setup();
    n_inputs++;
    static spec_t sp;
    src_t s = { .d = data, .n = size };
    spec_gen(&s, &sp);
    if (!ensure_pools(&sp)) return 0;
    size_t pos = s.pos > size ? size : s.pos;
    while (pos < size) {
        size_t len = data[pos++];
        if (len == 255) {
            unsigned v = 0;
            if (pos < size) v = data[pos++];
            if (pos < size) v = (v << 8) | data[pos++];
            len = 255 + v % (MAXKEY - 255 + 1);
        }
        if (len > size - pos) len = size - pos;
        check_key(data + pos, len);
        pos += len;
    }
    return 0;
}

/* Writes `count` starting inputs for the coverage-guided mode into `dir`:
 * random spec bytes (as many as spec_gen reads), then 4..24 keys from the
 * seeded key generator, length-prefixed as LLVMFuzzerTestOneInput reads
 * them. */
static int make_seeds(const char *dir, unsigned count, uint64_t seed) {
    static uint8_t buf[1 << 16], key[MAXKEY], prev[MAXKEY];
    static spec_t sp;
    src_t r = { .d = NULL, .s = seed };
    for (unsigned i = 0; i < count; i++) {
        uint8_t pre[2048];
        for (size_t k = 0; k < sizeof(pre); k++) pre[k] = (uint8_t)src_byte(&r);
        src_t ps = { .d = pre, .n = sizeof(pre) };
        spec_gen(&ps, &sp);
        size_t len = ps.pos;
        memcpy(buf, pre, len);
        size_t prevlen = 0;
        unsigned nk = 4 + src_below(&r, 21);
        for (unsigned j = 0; j < nk; j++) {
            size_t kl = gen_key(&r, &sp, key, prev, prevlen);
            if (kl > 600) kl = 600; /* keep the inputs small */
            if (len + kl + 3 > 2048) break; /* the fuzzing runs' -max_len */
            if (kl < 255) {
                buf[len++] = (uint8_t)kl;
            } else {
                unsigned v = (unsigned)(kl - 255);
                buf[len++] = 255;
                buf[len++] = (uint8_t)(v >> 8);
                buf[len++] = (uint8_t)v;
            }
            memcpy(buf + len, key, kl);
            len += kl;
            memcpy(prev, key, kl);
            prevlen = kl;
        }
        char path[4096];
        snprintf(path, sizeof(path), "%s/seed-%llu-%04u", dir, (unsigned long long)seed, i);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, len, f) != len) {
            fprintf(stderr, "fuzz-keys: %s: %s\n", path, strerror(errno));
            return 1;
        }
        fclose(f);
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * driver
 * --------------------------------------------------------------------- */
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
            if (!buf) { perror("realloc"); exit(2); }
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0) break;
    }
    fclose(f);
    *n = len;
    return buf;
}

static int cmpstr(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every file of `path` (or the file itself), in name order. */
static int replay(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "fuzz-keys: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t nn = 0;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') continue;
            names = realloc(names, (nn + 1) * sizeof(*names));
            size_t l = strlen(path) + strlen(e->d_name) + 2;
            names[nn] = malloc(l);
            snprintf(names[nn], l, "%s/%s", path, e->d_name);
            nn++;
        }
        if (d) closedir(d);
        if (nn) qsort(names, nn, sizeof(*names), cmpstr);
    } else {
        names = malloc(sizeof(*names));
        names[0] = strdup(path);
        nn = 1;
    }
    int files = 0;
    for (size_t i = 0; i < nn; i++) {
        size_t n = 0;
        uint8_t *buf = read_file(names[i], &n);
        if (buf) {
            /* an exactly-sized copy: the entry point reads only `n` bytes */
            uint8_t *exact = malloc(n ? n : 1);
            if (n) memcpy(exact, buf, n);
            LLVMFuzzerTestOneInput(exact, n);
            free(exact);
            free(buf);
            files++;
        }
        free(names[i]);
    }
    free(names);
    return files;
}

static void usage(void) {
    fprintf(stderr,
            "usage: harness --seed S --keys N [--corpus DIR]... [--keep-going] [--quiet] [--control]\n"
            "       harness --replay FILE|DIR...\n"
#ifdef KEYS_LIBFUZZER
            "       harness [libFuzzer options] [CORPUS_DIR...]\n"
#endif
    );
    exit(2);
}

static void summary(const char *mode, double secs) {
    printf("fuzz-keys %s: %llu pools tested (%llu made with the same error in both), "
           "%llu keys compared (%llu executions: each key through both helpers), "
           "%llu NULL results, %llu differences, %.1f s, %.0f keys/s\n",
           mode, (unsigned long long)n_pools, (unsigned long long)n_pool_errors,
           (unsigned long long)n_keys, (unsigned long long)(2 * n_keys),
           (unsigned long long)n_null, (unsigned long long)n_diffs, secs,
           secs > 0 ? (double)n_keys / secs : 0.0);
    printf("  keys by pool: no filter %llu, stop %llu, tags %llu; jump (default) %llu, jump %llu, ring %llu, "
           "Lua dist over jump %llu, Lua dist over ring %llu; "
           "default hasher %llu, mcp.hash_xxhash %llu, ring md5 %llu; more than one backend %llu\n"
           "  keys: empty %llu, with a NUL %llu, longer than KEY_MAX_LENGTH (%d) %llu\n",
           (unsigned long long)st_filter[0], (unsigned long long)st_filter[1], (unsigned long long)st_filter[2],
           (unsigned long long)st_dist[0], (unsigned long long)st_dist[1], (unsigned long long)st_dist[2],
           (unsigned long long)st_dist[3], (unsigned long long)st_dist[4],
           (unsigned long long)st_hash[0], (unsigned long long)st_hash[1], (unsigned long long)st_hash[2],
           (unsigned long long)st_multi, (unsigned long long)st_empty, (unsigned long long)st_nul,
           KEY_MAX_LENGTH, (unsigned long long)st_long);
}

#ifdef KEYS_LIBFUZZER
static double fuzz_t0;
static void fuzz_summary(void) {
    if (n_inputs == 0) return; /* the outer process of a -merge=1 */
    char mode[64];
    snprintf(mode, sizeof(mode), "libFuzzer (%llu inputs)", (unsigned long long)n_inputs);
    summary(mode, now() - fuzz_t0);
    fflush(stdout);
}
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *data, size_t size));
#endif

int main(int argc, char **argv) {
    int seeded = 0, replay_only = 0;
    unsigned long long seed = 1, nkeys = 1000000;
    const char *dirs[64];
    int ndirs = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) { seed = strtoull(argv[++i], NULL, 0); seeded = 1; }
        else if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc) { nkeys = strtoull(argv[++i], NULL, 0); seeded = 1; }
        else if (strcmp(argv[i], "--corpus") == 0 && i + 1 < argc && ndirs < 64) dirs[ndirs++] = argv[++i];
        else if (strcmp(argv[i], "--keep-going") == 0) keep_going = 1;
        else if (strcmp(argv[i], "--control") == 0) { control = 1; keep_going = 1; }
        else if (strcmp(argv[i], "--oob-control") == 0 && i + 1 < argc) {
            /* a sanitizer control: hand one helper a key block 1 byte
             * shorter than the length passed. Under ASan the read past the
             * block must be reported (exit status != 0) where that code is
             * instrumented: upstream's C always, ours with --rust-asan. */
            int which = strcmp(argv[i + 1], "ours") == 0 ? 0 : 1;
            setup();
            static spec_t sp;
            memset(&sp, 0, sizeof(sp));
            sp.n = 2; sp.nthreads = 1; sp.form = FORM_NOOPTS;
            for (int b = 0; b < 2; b++) {
                put_str(sp.host[b], &sp.hostlen[b], "127.0.0.1");
                put_str(sp.port[b], &sp.portlen[b], b ? "2" : "1");
            }
            if (!ensure_pools(&sp)) return 2;
            char *k = malloc(40);
            memset(k, 'k', 40);
            mcp_backend_t *be = impls[which].helper(&impls[which].pp, k, 41);
            printf("fuzz-keys oob-control: %s read 1 byte past a 40-byte key block: not detected (%p)\n",
                   impls[which].name, (void *)be);
            free(k);
            return 0;
        }
        else if (strcmp(argv[i], "--make-seeds") == 0 && i + 2 < argc) {
            return make_seeds(argv[i + 1], (unsigned)strtoul(argv[i + 2], NULL, 0), seed);
        }
        else if (strcmp(argv[i], "--quiet") == 0) quiet = 1;
        else if (strcmp(argv[i], "--replay") == 0) {
            replay_only = 1;
            for (i++; i < argc && ndirs < 64; i++) dirs[ndirs++] = argv[i];
        } else if (!seeded && !replay_only) {
#ifdef KEYS_LIBFUZZER
            break; /* libFuzzer's own arguments */
#else
            usage();
#endif
        } else usage();
    }
    if (!seeded && !replay_only) {
#ifdef KEYS_LIBFUZZER
        fuzz_mode = 1;
        setup();
        fuzz_t0 = now();
        atexit(fuzz_summary);
        return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
#else
        usage();
#endif
    }
    setup();
    double t0 = now();
    if (seeded) {
        src_t s = { .d = NULL, .s = seed };
        static spec_t sp;
        static uint8_t key[MAXKEY], prev[MAXKEY];
        size_t prevlen = 0;
        uint64_t next_report = nkeys / 10;
        while (n_keys < nkeys) {
            spec_gen(&s, &sp);
            if (!ensure_pools(&sp)) continue;
            unsigned per = 200 + src_below(&s, 2800);
            for (unsigned j = 0; j < per && n_keys < nkeys; j++) {
                size_t len = gen_key(&s, &sp, key, prev, prevlen);
                check_key(key, len);
                memcpy(prev, key, len);
                prevlen = len;
            }
            if (!quiet && n_keys >= next_report && next_report) {
                printf("  ... %llu keys, %llu pools, %.0f keys/s\n", (unsigned long long)n_keys,
                        (unsigned long long)n_pools, (double)n_keys / (now() - t0));
                fflush(stdout);
                next_report += nkeys / 10;
            }
        }
        summary("seeded", now() - t0);
        printf("fuzz-keys seeded: seed %llu\n", seed);
    }
    if (ndirs) {
        uint64_t k0 = n_keys, p0 = n_pools, i0 = n_inputs;
        double t1 = now();
        int files = 0;
        for (int d = 0; d < ndirs; d++) {
            int r = replay(dirs[d]);
            if (r < 0) return 2;
            files += r;
        }
        printf("fuzz-keys corpus: %d inputs replayed (%llu pools made, %llu keys compared), %llu differences total, %.2f s\n",
               files, (unsigned long long)(n_pools - p0), (unsigned long long)(n_keys - k0),
               (unsigned long long)n_diffs, now() - t1);
        (void)i0;
    }
    teardown();
    if (control) {
        /* the control must be caught: upstream saw a different key */
        printf("fuzz-keys control: %llu of %llu keys differ with upstream's key perturbed (must be > 0)\n",
               (unsigned long long)n_diffs, (unsigned long long)n_keys);
        return n_diffs > 0 ? 0 : 1;
    }
    return n_diffs ? 1 : 0;
}
