/* SPDX-License-Identifier: ISC */
#include "sysio.h"

#include <sys/random.h>
#include <unistd.h>

static int real_adjtime(clockid_t id, struct timex *tx)
{
    return clock_adjtime(id, tx);
}

static int real_recvmmsg(int fd, struct mmsghdr *mm, unsigned n, int flags, struct timespec *tmo)
{
    return recvmmsg(fd, mm, n, flags, tmo);
}

static int real_sendmmsg(int fd, struct mmsghdr *mm, unsigned n, int flags)
{
    return sendmmsg(fd, mm, n, flags);
}

static ssize_t real_getrandom(void *buf, size_t len, unsigned flags)
{
    return getrandom(buf, len, flags);
}

static const struct sysio_ops real_ops = {
    .clock_gettime = clock_gettime,
    .clock_adjtime = real_adjtime,
    .poll = poll,
    .socket = socket,
    .close = close,
    .bind = bind,
    .connect = connect,
    .getsockname = getsockname,
    .setsockopt = setsockopt,
    .getsockopt = getsockopt,
    .recvmsg = recvmsg,
    .sendmsg = sendmsg,
    .recvmmsg = real_recvmmsg,
    .sendmmsg = real_sendmmsg,
    .getrandom = real_getrandom,
};

static struct sysio_ops replaced;
static const struct sysio_ops *ops = &real_ops;

void sysio_set(const struct sysio_ops *o)
{
    if (o)
        replaced = *o;
    ops = o ? &replaced : &real_ops;
}

int sysio_clock_gettime(clockid_t id, struct timespec *out)
{
    return ops->clock_gettime(id, out);
}

int sysio_clock_adjtime(clockid_t id, struct timex *tx)
{
    return ops->clock_adjtime(id, tx);
}

int sysio_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
    return ops->poll(fds, n, timeout_ms);
}

int sysio_socket(int domain, int type, int protocol)
{
    return ops->socket(domain, type, protocol);
}

int sysio_close(int fd)
{
    return ops->close(fd);
}

int sysio_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    return ops->bind(fd, sa, len);
}

int sysio_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    return ops->connect(fd, sa, len);
}

int sysio_getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
    return ops->getsockname(fd, sa, len);
}

int sysio_setsockopt(int fd, int level, int opt, const void *val, socklen_t len)
{
    return ops->setsockopt(fd, level, opt, val, len);
}

int sysio_getsockopt(int fd, int level, int opt, void *val, socklen_t *len)
{
    return ops->getsockopt(fd, level, opt, val, len);
}

ssize_t sysio_recvmsg(int fd, struct msghdr *mh, int flags)
{
    return ops->recvmsg(fd, mh, flags);
}

ssize_t sysio_sendmsg(int fd, const struct msghdr *mh, int flags)
{
    return ops->sendmsg(fd, mh, flags);
}

int sysio_recvmmsg(int fd, struct mmsghdr *mm, unsigned n, int flags, struct timespec *tmo)
{
    return ops->recvmmsg(fd, mm, n, flags, tmo);
}

int sysio_sendmmsg(int fd, struct mmsghdr *mm, unsigned n, int flags)
{
    return ops->sendmmsg(fd, mm, n, flags);
}

ssize_t sysio_getrandom(void *buf, size_t len, unsigned flags)
{
    return ops->getrandom(buf, len, flags);
}
