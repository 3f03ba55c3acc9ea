/* SPDX-License-Identifier: ISC */
/* refclock SOCK: the datagram socket that gpsd (and other programs) send
 * chrony-style samples to. tempusd creates it, owner-only, and reads it
 * in the event loop. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "ntp_wire.h"
#include "refclock_drv.h"

/* The sample as the sender lays it out on this machine. */
struct sock_sample {
    struct timeval tv; /* CLOCK_REALTIME when the reference was read */
    double offset;     /* reference - tv, s */
    int pulse;         /* tv is a pulse's edge: offset known modulo 1 s */
    int leap;          /* 0 none, 1 insert, 2 delete (3: no time) */
    int pad;
    int magic; /* REFCLOCK_SOCK_MAGIC */
};

size_t refclock_sock_size(void)
{
    return sizeof(struct sock_sample);
}

size_t refclock_sock_encode(const struct timespec *sys, double offset, int pulse, int leap,
                            void *buf)
{
    struct sock_sample s = {.tv = {.tv_sec = sys->tv_sec, .tv_usec = sys->tv_nsec / 1000},
                            .offset = offset,
                            .pulse = pulse,
                            .leap = leap,
                            .magic = REFCLOCK_SOCK_MAGIC};
    memcpy(buf, &s, sizeof(s));
    return sizeof(s);
}

int refclock_sock_decode(const void *buf, size_t len, struct refclock_reading *out)
{
    struct sock_sample s;

    if (len != sizeof(s))
        return -1;
    memcpy(&s, buf, sizeof(s));
    if (s.magic != REFCLOCK_SOCK_MAGIC || s.tv.tv_usec < 0 || s.tv.tv_usec > 999999 ||
        s.tv.tv_sec < 0 || !isfinite(s.offset) || fabs(s.offset) > 1e9 || s.leap < 0 || s.leap > 3)
        return -1;
    out->sys = (struct timespec){.tv_sec = s.tv.tv_sec, .tv_nsec = s.tv.tv_usec * 1000};
    out->offset = s.offset;
    out->pulse = s.pulse != 0;
    out->leap = s.leap;
    return 0;
}

struct sock_state {
    int fd;
    int warned; /* a bad datagram is logged once: a flood must not fill the log */
    char path[CONF_REFCLOCK_PATH_MAX];
};

/* Bind a fresh socket at path, only for our user: an old socket there (a
 * daemon that died) is replaced, anything else is left alone. */
static int sock_bind(const char *path, const char *where, FILE *errs)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct stat st;
    int fd;

    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            fprintf(errs, "%s: refclock SOCK: %s exists and is not a socket\n", where, path);
            return -1;
        }
        unlink(path);
    }
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
        fprintf(errs, "%s: refclock SOCK: socket: %s\n", where, strerror(errno));
        return -1;
    }
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    if (rc < 0 || chmod(path, 0600) < 0) {
        fprintf(errs, "%s: refclock SOCK: cannot bind %s: %s\n", where, path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int sock_open(const struct conf_refclock *cf, const char *where, FILE *errs, void **state)
{
    int fd = sock_bind(cf->path, where, errs);

    if (fd < 0)
        return -1;
    struct sock_state *s = mem_zalloc(sizeof(*s));
    s->fd = fd;
    snprintf(s->path, sizeof(s->path), "%s", cf->path);
    *state = s;
    return 0;
}

static int sock_fd(void *state)
{
    return ((struct sock_state *)state)->fd;
}

/* Every datagram waiting (up to max samples), malformed ones counted. */
static int sock_read(void *state, struct refclock_reading *out, int max, uint64_t *bad)
{
    struct sock_state *s = state;
    unsigned char buf[sizeof(struct sock_sample) + 1];
    int n = 0;

    /* Bounded: a flood of junk must not hold up the loop. */
    for (int i = 0; i < 4 * max && n < max; i++) {
        ssize_t len = recv(s->fd, buf, sizeof(buf), MSG_TRUNC);
        if (len < 0)
            break;
        if (refclock_sock_decode(buf, (size_t)len, &out[n]) == 0)
            n++;
        else if (++*bad && !s->warned++)
            log_warnx("refclock SOCK %s: a datagram of %zd bytes that is not a sample ignored",
                      s->path, len);
    }
    return n;
}

static void sock_close(void *state)
{
    struct sock_state *s = state;
    if (!s)
        return;
    close(s->fd);
    unlink(s->path); /* may fail after the privilege drop: harmless */
    free(s);
}

const struct refclock_driver refclock_sock_driver = {"SOCK", sock_open, sock_fd, sock_read,
                                                     sock_close};
