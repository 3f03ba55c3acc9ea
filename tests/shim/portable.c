/* SPDX-License-Identifier: ISC */
/* LD_PRELOAD shim for system tests: a kernel (or sandbox, or syscall-
 * interposing tool) with none of Linux's extras. setsockopt for
 * SO_TIMESTAMPING, SO_TIMESTAMPNS and SO_TIMESTAMP fails with ENOPROTOOPT,
 * and recvmmsg and sendmmsg fail with ENOSYS; every other call goes
 * through. It lets tests/system prove the portable path the issue asks to
 * keep: clock reads after recvmsg, one recvmsg and sendmsg per request. */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

typedef int (*portable_setsockopt_fn)(int, int, int, const void *, socklen_t);

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    static portable_setsockopt_fn next;

    if (level == SOL_SOCKET &&
        (name == SO_TIMESTAMPING || name == SO_TIMESTAMPNS || name == SO_TIMESTAMP)) {
        errno = ENOPROTOOPT;
        return -1;
    }
    if (!next) {
        void *sym = dlsym(RTLD_NEXT, "setsockopt");
        if (!sym) {
            errno = ENOSYS;
            return -1;
        }
        *(void **)&next = sym;
    }
    return next(fd, level, name, val, len);
}

int recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags, struct timespec *timeout)
{
    (void)fd, (void)vec, (void)n, (void)flags, (void)timeout;
    errno = ENOSYS;
    return -1;
}

int sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags)
{
    (void)fd, (void)vec, (void)n, (void)flags;
    errno = ENOSYS;
    return -1;
}
