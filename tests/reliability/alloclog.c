/* Allocation logger (LD_PRELOAD), for scripts/alloc-sequence.py.
 *
 * Writes one line per malloc/calloc/realloc/free made on the threads whose
 * name (pthread_setname_np: memcached names its config thread
 * "mc-prx-config") starts with $ALLOCLOG_THREAD to $ALLOCLOG_FILE:
 * "m SIZE", "c SIZE", "r SIZE" (realloc of a block), "n SIZE" (realloc of
 * NULL: a new block, how Lua allocates) or "f". Sizes and order only, no
 * addresses: two builds that make the same calls write the same file.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

static const char *want;
static int fd = -1;
static int ready, initializing;
static __thread int in_hook;

/* dlsym may call calloc before real_calloc is known */
static char boot[4096];
static size_t boot_used;

static void init(void) {
    if (ready)
        return;
    initializing = 1;
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_free = dlsym(RTLD_NEXT, "free");
    want = getenv("ALLOCLOG_THREAD");
    const char *f = getenv("ALLOCLOG_FILE");
    if (f)
        fd = open(f, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    initializing = 0;
    ready = 1;
}

static void note(char op, size_t n) {
    if (in_hook || fd < 0 || !want)
        return;
    in_hook = 1;
    char name[16] = "";
    pthread_getname_np(pthread_self(), name, sizeof name);
    if (strncmp(name, want, strlen(want)) == 0) {
        char line[40];
        int len = op == 'f' ? snprintf(line, sizeof line, "f\n")
                            : snprintf(line, sizeof line, "%c %zu\n", op, n);
        if (write(fd, line, len) != len) {
            /* nothing to do: the comparison reports a short log */
        }
    }
    in_hook = 0;
}

void *malloc(size_t n) {
    init();
    void *p = real_malloc(n);
    note('m', n);
    return p;
}

void *calloc(size_t a, size_t b) {
    if (initializing) {
        size_t n = (a * b + 15) & ~(size_t)15;
        if (boot_used + n > sizeof boot)
            return NULL;
        void *p = boot + boot_used;
        boot_used += n;
        return p; /* static storage is already zero */
    }
    init();
    void *p = real_calloc(a, b);
    note('c', a * b);
    return p;
}

void *realloc(void *o, size_t n) {
    init();
    void *p = real_realloc(o, n);
    note(o ? 'r' : 'n', n);
    return p;
}

void free(void *p) {
    if ((char *)p >= boot && (char *)p < boot + sizeof boot)
        return;
    init();
    if (p)
        note('f', 0);
    real_free(p);
}
