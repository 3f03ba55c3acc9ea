/* SPDX-License-Identifier: ISC */
/* LD_PRELOAD shim for system tests: a kernel (or sandbox) that gives no
 * receive timestamps. setsockopt for SO_TIMESTAMPING, SO_TIMESTAMPNS and
 * SO_TIMESTAMP fails with ENOPROTOOPT; every other call goes through. It
 * lets tests/system prove the clock_gettime fallback that the issue asks
 * to keep for such kernels, sandboxes and syscall-interposing tools. */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

typedef int (*nostamp_setsockopt_fn)(int, int, int, const void *, socklen_t);

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    static nostamp_setsockopt_fn next;

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
