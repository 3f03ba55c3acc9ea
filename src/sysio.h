/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_SYSIO_H
#define TEMPUS_SYSIO_H

#include <poll.h>
#include <sys/socket.h>
#include <sys/timex.h>
#include <sys/types.h>
#include <time.h>

/* The system calls through which the daemon meets time and the network:
 * the clocks (read and adjusted), the event loop's wait, the UDP sockets of
 * the server and the upstream client, and the random seeds. In production
 * they are the real calls. The whole-daemon simulator (tests/sim) replaces
 * them all with a simulated kernel, so that the event loop, the upstream
 * driver, the listener, netio and the `clock system` backend run unchanged
 * over simulated time and network. The control socket, the metrics
 * endpoint, files and signals stay real. */
struct sysio_ops {
    int (*clock_gettime)(clockid_t id, struct timespec *out);
    int (*clock_adjtime)(clockid_t id, struct timex *tx);
    int (*poll)(struct pollfd *fds, nfds_t n, int timeout_ms);
    int (*socket)(int domain, int type, int protocol);
    int (*close)(int fd);
    int (*bind)(int fd, const struct sockaddr *sa, socklen_t len);
    int (*connect)(int fd, const struct sockaddr *sa, socklen_t len);
    int (*getsockname)(int fd, struct sockaddr *sa, socklen_t *len);
    int (*setsockopt)(int fd, int level, int opt, const void *val, socklen_t len);
    int (*getsockopt)(int fd, int level, int opt, void *val, socklen_t *len);
    ssize_t (*recvmsg)(int fd, struct msghdr *mh, int flags);
    ssize_t (*sendmsg)(int fd, const struct msghdr *mh, int flags);
    int (*recvmmsg)(int fd, struct mmsghdr *mm, unsigned n, int flags, struct timespec *tmo);
    int (*sendmmsg)(int fd, struct mmsghdr *mm, unsigned n, int flags);
    ssize_t (*getrandom)(void *buf, size_t len, unsigned flags);
};

/* Replace the calls (NULL restores the real ones). Every member must be
 * set. Only for tests: call before anything opens a socket or a clock. */
void sysio_set(const struct sysio_ops *ops);

int sysio_clock_gettime(clockid_t id, struct timespec *out);
int sysio_clock_adjtime(clockid_t id, struct timex *tx);
int sysio_poll(struct pollfd *fds, nfds_t n, int timeout_ms);
int sysio_socket(int domain, int type, int protocol);
int sysio_close(int fd);
int sysio_bind(int fd, const struct sockaddr *sa, socklen_t len);
int sysio_connect(int fd, const struct sockaddr *sa, socklen_t len);
int sysio_getsockname(int fd, struct sockaddr *sa, socklen_t *len);
int sysio_setsockopt(int fd, int level, int opt, const void *val, socklen_t len);
int sysio_getsockopt(int fd, int level, int opt, void *val, socklen_t *len);
ssize_t sysio_recvmsg(int fd, struct msghdr *mh, int flags);
ssize_t sysio_sendmsg(int fd, const struct msghdr *mh, int flags);
int sysio_recvmmsg(int fd, struct mmsghdr *mm, unsigned n, int flags, struct timespec *tmo);
int sysio_sendmmsg(int fd, struct mmsghdr *mm, unsigned n, int flags);
ssize_t sysio_getrandom(void *buf, size_t len, unsigned flags);

#endif
