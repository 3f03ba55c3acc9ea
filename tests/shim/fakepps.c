/* SPDX-License-Identifier: ISC */
/* LD_PRELOAD shim for system tests: a PPS device where there is none.
 * Opening /dev/fakeppsN opens /dev/null instead and remembers the
 * descriptor; the RFC 2783 ioctls on it are answered here: the device can
 * capture both edges, and its assert edge comes FAKEPPS_PHASE seconds
 * (default 0) after each second of CLOCK_REALTIME, which stands for true
 * time in the tests. PPS_FETCH is first made as the real system call (on
 * /dev/null it fails with ENOTTY), so that the daemon's seccomp filter
 * sees exactly the call a real device gets, and kills it if it is not
 * allowed. Every other call goes through. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/pps.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FAKE_FDS 8
static int fake_fds[FAKE_FDS] = {-1, -1, -1, -1, -1, -1, -1, -1};
static int fake_mode;

typedef int (*open_fn)(const char *, int, ...);

static int fake_is(int fd)
{
    for (int i = 0; i < FAKE_FDS; i++)
        if (fd >= 0 && fake_fds[i] == fd)
            return 1;
    return 0;
}

static int real_open(const char *name, const char *path, int flags, mode_t mode)
{
    open_fn next;
    void *sym = dlsym(RTLD_NEXT, name);
    if (!sym) {
        errno = ENOSYS;
        return -1;
    }
    *(void **)&next = sym;
    return next(path, flags, mode);
}

static int fake_open(const char *name, const char *path, int flags, mode_t mode)
{
    if (strncmp(path, "/dev/fakepps", 12) != 0)
        return real_open(name, path, flags, mode);
    int fd = real_open(name, "/dev/null", flags & ~O_CREAT, 0);
    for (int i = 0; fd >= 0 && i < FAKE_FDS; i++)
        if (fake_fds[i] < 0) {
            fake_fds[i] = fd;
            break;
        }
    return fd;
}

/* Built with _FILE_OFFSET_BITS=64 like the daemon, this is open64, the
 * symbol the daemon calls. */
int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return fake_open("open64", path, flags, mode);
}

static void fake_fetch(struct pps_fdata *fd)
{
    struct timespec now;
    const char *p = getenv("FAKEPPS_PHASE");
    double phase = p ? strtod(p, NULL) : 0.0;

    clock_gettime(CLOCK_REALTIME, &now);
    if ((double)now.tv_nsec * 1e-9 < phase)
        now.tv_sec--;
    memset(&fd->info, 0, sizeof(fd->info));
    fd->info.assert_sequence = (unsigned)now.tv_sec;
    fd->info.assert_tu.sec = now.tv_sec;
    fd->info.assert_tu.nsec = (int)(phase * 1e9);
    fd->info.current_mode = fake_mode;
}

int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);

    if (!fake_is(fd))
        return (int)syscall(SYS_ioctl, fd, req, arg);
    switch (req) {
    case PPS_GETCAP:
        *(int *)arg = PPS_CAPTUREBOTH | PPS_TSFMT_TSPEC | PPS_CANWAIT;
        return 0;
    case PPS_GETPARAMS:
        memset(arg, 0, sizeof(struct pps_kparams));
        ((struct pps_kparams *)arg)->api_version = PPS_API_VERS;
        ((struct pps_kparams *)arg)->mode = fake_mode;
        return 0;
    case PPS_SETPARAMS:
        fake_mode = ((struct pps_kparams *)arg)->mode;
        return 0;
    case PPS_FETCH:
        /* The real call first: the filter must let it through. */
        syscall(SYS_ioctl, fd, req, arg);
        fake_fetch(arg);
        return 0;
    default:
        errno = ENOTTY;
        return -1;
    }
}
