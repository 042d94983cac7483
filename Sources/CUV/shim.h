#ifndef PRESIGND_CUV_SHIM_H
#define PRESIGND_CUV_SHIM_H
#include <uv.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* Typed wrappers for libuv's variadic and macro APIs. */
static inline int presignd_uv_loop_configure_block_signal(uv_loop_t *loop, int signum) {
    return uv_loop_configure(loop, UV_LOOP_BLOCK_SIGNAL, signum);
}

/* Enables SO_REUSEPORT on a TCP handle created with uv_tcp_init_ex, before bind. */
static inline int presignd_uv_tcp_reuseport(uv_tcp_t *handle) {
    uv_os_fd_t fd;
    int rc = uv_fileno((uv_handle_t *)handle, &fd);
    if (rc != 0) return rc;
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0) return -1;
    return 0;
}
#endif
