#ifndef PRESIGND_CHIREDIS_SHIM_H
#define PRESIGND_CHIREDIS_SHIM_H
#include <stdlib.h>
#include <uv.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>

/* hiredis's event hooks on a libuv poll handle. Written here instead of using hiredis 0.14's adapters/libuv.h, whose
   poll callback drops any callback with an error status: libuv reports a refused connect or a reset socket that
   way (and stops the poll), so hiredis never heard of it and the connection hung until a timeout. */
typedef struct presignd__redis_poll {
    redisAsyncContext *context; /* NULL once hiredis let go of it */
    uv_poll_t handle;
    int events;
} presignd__redis_poll;

static inline void presignd__redis_on_poll(uv_poll_t *handle, int status, int events) {
    presignd__redis_poll *p = (presignd__redis_poll *)handle->data;
    /* On an error, run what hiredis waits for: its read or write then finds the socket's error. */
    int ready = status < 0 ? p->events : events;
    if (p->context != NULL && (ready & UV_READABLE)) redisAsyncHandleRead(p->context);
    if (p->context != NULL && (ready & UV_WRITABLE)) redisAsyncHandleWrite(p->context);
}

static inline void presignd__redis_update(presignd__redis_poll *p) {
    if (p->events) {
        uv_poll_start(&p->handle, p->events, presignd__redis_on_poll);
    } else {
        uv_poll_stop(&p->handle);
    }
}

static inline void presignd__redis_add_read(void *data) {
    presignd__redis_poll *p = (presignd__redis_poll *)data;
    p->events |= UV_READABLE;
    presignd__redis_update(p);
}

static inline void presignd__redis_del_read(void *data) {
    presignd__redis_poll *p = (presignd__redis_poll *)data;
    p->events &= ~UV_READABLE;
    presignd__redis_update(p);
}

static inline void presignd__redis_add_write(void *data) {
    presignd__redis_poll *p = (presignd__redis_poll *)data;
    p->events |= UV_WRITABLE;
    presignd__redis_update(p);
}

static inline void presignd__redis_del_write(void *data) {
    presignd__redis_poll *p = (presignd__redis_poll *)data;
    p->events &= ~UV_WRITABLE;
    presignd__redis_update(p);
}

static inline void presignd__redis_on_close(uv_handle_t *handle) { free(handle->data); }

/* hiredis is freeing the context: the handle's memory lives until libuv has closed it. */
static inline void presignd__redis_cleanup(void *data) {
    presignd__redis_poll *p = (presignd__redis_poll *)data;
    p->context = NULL;
    uv_close((uv_handle_t *)&p->handle, presignd__redis_on_close);
}

/* Attaches a context to a libuv loop (passed as void * so that Swift need not match this module's uv_loop_t with
   CUV's). REDIS_ERR leaves the context unattached; free it with redisAsyncFree. */
static inline int presignd_redis_libuv_attach(redisAsyncContext *ac, void *loop) {
    if (ac->ev.data != NULL) return REDIS_ERR;
    presignd__redis_poll *p = (presignd__redis_poll *)calloc(1, sizeof(*p));
    if (p == NULL) return REDIS_ERR;
    if (uv_poll_init_socket((uv_loop_t *)loop, &p->handle, ac->c.fd) != 0) {
        free(p);
        return REDIS_ERR;
    }
    p->handle.data = p;
    p->context = ac;
    ac->ev.addRead = presignd__redis_add_read;
    ac->ev.delRead = presignd__redis_del_read;
    ac->ev.addWrite = presignd__redis_add_write;
    ac->ev.delWrite = presignd__redis_del_write;
    ac->ev.cleanup = presignd__redis_cleanup;
    ac->ev.data = p;
    return REDIS_OK;
}

#endif
