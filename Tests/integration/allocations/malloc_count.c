/* An LD_PRELOAD library for the allocation test (test_allocations.py): it counts every call into the C allocator's
 * entry points (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign, valloc) on every thread of the
 * process, and forwards each call to the next definition (glibc's). The count is written, as a decimal line, to the
 * file descriptor named by PRESIGND_MALLOC_COUNT_FD each time the process receives SIGRTMAX-3: the test reads it
 * before and after a run of requests. Calls made while dlsym resolves the real functions are served from a small
 * static arena (dlsym may allocate); free and realloc recognise that arena. Built by the test with `cc -shared`. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Atomic unsigned long long allocations;
static int report_fd = -1;

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);

static _Alignas(64) unsigned char arena[64 * 1024];
static _Atomic size_t arena_used;
static _Atomic int resolving;

static int in_arena(const void *pointer) {
    return (const unsigned char *)pointer >= arena && (const unsigned char *)pointer < arena + sizeof arena;
}

static void *arena_alloc(size_t size) {
    size_t rounded = (size + 63) & ~(size_t)63;
    size_t offset = atomic_fetch_add(&arena_used, rounded);
    if (offset + rounded > sizeof arena) abort();
    return arena + offset;
}

static void resolve(void) {
    if (real_malloc) return;
    atomic_store(&resolving, 1);
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_free = dlsym(RTLD_NEXT, "free");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = dlsym(RTLD_NEXT, "memalign");
    real_valloc = dlsym(RTLD_NEXT, "valloc");
    void *(*found)(size_t) = dlsym(RTLD_NEXT, "malloc");
    atomic_store(&resolving, 0);
    real_malloc = found;
}

static void count(void) { atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed); }

void *malloc(size_t size) {
    if (!real_malloc) {
        if (atomic_load(&resolving)) return arena_alloc(size);
        resolve();
    }
    count();
    return real_malloc(size);
}

void *calloc(size_t n, size_t size) {
    if (!real_malloc) {
        if (atomic_load(&resolving)) return arena_alloc(n * size); /* the arena is zeroed static memory */
        resolve();
    }
    count();
    return real_calloc(n, size);
}

void *realloc(void *pointer, size_t size) {
    if (!real_malloc) resolve();
    count();
    if (in_arena(pointer)) {
        void *moved = real_malloc(size);
        if (moved) memcpy(moved, pointer, size);
        return moved;
    }
    return real_realloc(pointer, size);
}

void free(void *pointer) {
    if (!pointer || in_arena(pointer)) return;
    if (!real_malloc) resolve();
    real_free(pointer);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (!real_malloc) resolve();
    count();
    return real_posix_memalign(out, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    if (!real_malloc) resolve();
    count();
    return real_aligned_alloc(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    if (!real_malloc) resolve();
    count();
    return real_memalign(alignment, size);
}

void *valloc(size_t size) {
    if (!real_malloc) resolve();
    count();
    return real_valloc(size);
}

/* Async-signal-safe: an atomic load, digits by hand, one write(2). */
static void report(int signal_number) {
    (void)signal_number;
    int saved = errno;
    char line[32];
    int at = (int)sizeof line;
    line[--at] = '\n';
    unsigned long long value = atomic_load(&allocations);
    do {
        line[--at] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    if (report_fd >= 0) (void)!write(report_fd, line + at, sizeof line - (size_t)at);
    errno = saved;
}

__attribute__((constructor)) static void start(void) {
    resolve();
    const char *fd = getenv("PRESIGND_MALLOC_COUNT_FD");
    if (!fd) return;
    report_fd = atoi(fd);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = report;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGRTMAX - 3, &action, NULL);
}
