#ifndef PRESIGND_CUV_SHIM_H
#define PRESIGND_CUV_SHIM_H
#include <uv.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>

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

/* Whether the peer of a TCP handle has sent its FIN or reset (read or not): for a connection whose reading is
   stopped, the only way to learn that its client left. A socket that cannot be asked counts as left. */
static inline int presignd_uv_tcp_peer_left(uv_tcp_t *handle) {
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)handle, &fd) != 0) return 1;
    struct tcp_info info;
    socklen_t length = sizeof(info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return 1;
    return info.tcpi_state == TCP_CLOSE_WAIT || info.tcpi_state == TCP_CLOSE || info.tcpi_state == TCP_LAST_ACK
        || info.tcpi_state == TCP_CLOSING;
}

/* A write to a socket whose client left must fail with EPIPE, not end the process with SIGPIPE. */
static inline void presignd_ignore_sigpipe(void) {
    signal(SIGPIPE, SIG_IGN);
}
#endif
