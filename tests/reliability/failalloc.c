/* Allocation-failure injector (LD_PRELOAD), for scripts/test-alloc-fail.sh.
 *
 * Counts malloc/calloc/realloc calls made on the threads whose name
 * (pthread_setname_np, as memcached names them: "mc-prx-config" for the
 * config thread, "mc-worker" for workers) starts with $FAILALLOC_THREAD,
 * skips the first $FAILALLOC_SKIP of them, and makes the $FAILALLOC_N-th
 * after that return NULL (once). Lua allocates through realloc, so this
 * covers the library's own allocations and the Lua VM's alike.
 * FAILALLOC_N=0 only counts; the count is written to $FAILALLOC_REPORT at
 * exit. Returns ENOMEM like the real allocator.
 *
 * Under valgrind it needs --soname-synonyms=somalloc=nouserintercepts:
 * otherwise memcheck redirects this library's malloc/calloc/realloc to its
 * own as well, and nothing is ever failed.
 *
 * With FAILALLOC_TRACE set, the failing allocation's stack is written the
 * same way (after a "FAILALLOC-FAILED" line).
 * With FAILALLOC_LOG set, every malloc/calloc/realloc/free the watched
 * threads make (all of them when FAILALLOC_THREAD is empty) is written to
 * that file, in order, as "TID m SIZE", "TID c SIZE", "TID r SIZE" (realloc
 * of a block), "TID n SIZE" (realloc of NULL: a new block, as Lua
 * allocates) or "TID f": thread, sizes and order, no addresses, so two
 * builds that make the same calls write the same lines
 * (scripts/reliability/alloc-sequence.py).
 * On SIGSEGV, SIGBUS, SIGILL, SIGFPE or SIGABRT it writes the crashing
 * thread's stack to stderr as "FAILALLOC-FRAME <object> <offset>" lines
 * (offsets into each loaded object), which the sweep resolves with
 * addr2line to tell a crash in our code from one in upstream's C.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);

static const char *want;
static long skip, nth;
static atomic_long count;
static atomic_int fired;
static int ready;
static int log_fd = -1;
static __thread int in_hook;

/* dlsym may call calloc before real_calloc is known */
static char boot[4096];
static size_t boot_used;

static void init(void) {
    if (ready)
        return;
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    want = getenv("FAILALLOC_THREAD");
    skip = getenv("FAILALLOC_SKIP") ? atol(getenv("FAILALLOC_SKIP")) : 0;
    nth = getenv("FAILALLOC_N") ? atol(getenv("FAILALLOC_N")) : 0;
    if (getenv("FAILALLOC_LOG"))
        log_fd = open(getenv("FAILALLOC_LOG"), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    ready = 1;
}

static void dump_stack(const char *what);

/* whether the calling thread is one of those $FAILALLOC_THREAD names */
static int watched(void) {
    if (!want || in_hook)
        return 0;
    char name[16] = {0};
    in_hook = 1;
    pthread_getname_np(pthread_self(), name, sizeof(name));
    in_hook = 0;
    return strncmp(name, want, strlen(want)) == 0;
}

/* a line of the FAILALLOC_LOG */
static void note(char op, size_t n) {
    if (log_fd < 0)
        return;
    char line[64];
    long tid = syscall(SYS_gettid);
    int l = op == 'f' ? snprintf(line, sizeof(line), "%ld f\n", tid)
                      : snprintf(line, sizeof(line), "%ld %c %zu\n", tid, op, n);
    if (write(log_fd, line, l) < 0) {}
}

static int should_fail(char op, size_t n) {
    if (!watched())
        return 0;
    note(op, n);
    long c = atomic_fetch_add(&count, 1) + 1;
    if (nth > 0 && c == skip + nth && !atomic_exchange(&fired, 1)) {
        if (getenv("FAILALLOC_TRACE")) {
            in_hook = 1;
            dump_stack("FAILALLOC-FAILED");
            in_hook = 0;
        }
        return 1;
    }
    return 0;
}

void *malloc(size_t n) {
    init();
    if (should_fail('m', n)) { errno = ENOMEM; return NULL; }
    return real_malloc(n);
}

void *calloc(size_t a, size_t b) {
    if (!real_calloc) {
        /* during dlsym: serve from a static buffer */
        size_t n = (a * b + 15) & ~(size_t)15;
        if (boot_used + n > sizeof(boot)) return NULL;
        void *p = boot + boot_used;
        boot_used += n;
        return p;
    }
    init();
    if (should_fail('c', a * b)) { errno = ENOMEM; return NULL; }
    return real_calloc(a, b);
}

void *realloc(void *p, size_t n) {
    init();
    if (n > 0 && should_fail(p ? 'r' : 'n', n)) { errno = ENOMEM; return NULL; }
    return real_realloc(p, n);
}

void free(void *p) {
    static void (*real_free)(void *);
    if ((char *)p >= boot && (char *)p < boot + sizeof(boot))
        return;
    if (!real_free)
        real_free = dlsym(RTLD_NEXT, "free");
    if (p && log_fd >= 0 && watched())
        note('f', 0);
    real_free(p);
}

__attribute__((destructor)) static void report(void) {
    const char *f = getenv("FAILALLOC_REPORT");
    if (!f)
        return;
    FILE *o = fopen(f, "w");
    if (o) {
        fprintf(o, "%ld %d\n", (long)atomic_load(&count), atomic_load(&fired));
        fclose(o);
    }
}

/* the calling thread's stack as "FAILALLOC-FRAME object offset" lines */
static void dump_stack(const char *what) {
    void *f[64];
    int n = backtrace(f, 64);
    char line[512];
    int l = snprintf(line, sizeof(line), "%s\n", what);
    if (write(2, line, l) < 0) {}
    for (int i = 0; i < n; i++) {
        Dl_info di;
        if (dladdr(f[i], &di) && di.dli_fbase) {
            l = snprintf(line, sizeof(line), "FAILALLOC-FRAME %s %lx\n",
                         di.dli_fname && di.dli_fname[0] ? di.dli_fname : "-",
                         (unsigned long)((uintptr_t)f[i] - (uintptr_t)di.dli_fbase));
            if (write(2, line, l) < 0) {}
        }
    }
}

static void on_fatal(int sig) {
    char what[64];
    snprintf(what, sizeof(what), "FAILALLOC-CRASH signal %d", sig);
    dump_stack(what);
    signal(sig, SIG_DFL);
    raise(sig);
}

__attribute__((constructor)) static void setup(void) {
    void *f[1];
    backtrace(f, 1); /* loads libgcc's unwinder now, not in the handler */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_fatal;
    sa.sa_flags = SA_RESETHAND;
    int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
}
