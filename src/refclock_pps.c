/* SPDX-License-Identifier: ISC */
/* refclock PPS: a pulse per second through the RFC 2783 API as Linux
 * offers it (the ioctls of linux/pps.h on /dev/ppsN). An edge says where a
 * second begins, not which second: refclock.c numbers it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/pps.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "ntp_wire.h"
#include "refclock_drv.h"

static int pps_real_ioctl(int fd, unsigned long req, void *arg)
{
    return ioctl(fd, req, arg);
}

static int pps_real_open(const char *path, int flags)
{
    return open(path, flags);
}

static const struct refclock_pps_ops pps_real = {pps_real_open, pps_real_ioctl, close};
static const struct refclock_pps_ops *pps_ops = &pps_real;

void refclock_pps_set_ops(const struct refclock_pps_ops *ops)
{
    pps_ops = ops ? ops : &pps_real;
}

struct pps_state {
    int fd;
    int clear;    /* the clear edge */
    unsigned seq; /* the last edge's sequence number */
    int have_seq;
    char path[CONF_REFCLOCK_PATH_MAX];
};

/* Capture the edge we want, in timespec format; -1 after saying why. */
static int pps_setup(struct pps_state *s, const char *where, FILE *errs)
{
    int want = s->clear ? PPS_CAPTURECLEAR : PPS_CAPTUREASSERT, caps = 0;
    struct pps_kparams kp;

    if (pps_ops->ioctl(s->fd, PPS_GETCAP, &caps) < 0) {
        fprintf(errs, "%s: refclock PPS: %s is not a PPS device (PPS_GETCAP: %s)\n", where, s->path,
                strerror(errno));
        return -1;
    }
    if (!(caps & want) || !(caps & PPS_TSFMT_TSPEC)) {
        fprintf(errs, "%s: refclock PPS: %s cannot capture the %s edge (capabilities 0x%x)\n",
                where, s->path, s->clear ? "clear" : "assert", (unsigned)caps);
        return -1;
    }
    if (pps_ops->ioctl(s->fd, PPS_GETPARAMS, &kp) < 0) {
        fprintf(errs, "%s: refclock PPS: %s: PPS_GETPARAMS: %s\n", where, s->path, strerror(errno));
        return -1;
    }
    kp.mode = (kp.mode & ~(PPS_CAPTUREBOTH | PPS_TSFMT_NTPFP)) | want | PPS_TSFMT_TSPEC;
    if (pps_ops->ioctl(s->fd, PPS_SETPARAMS, &kp) < 0) {
        fprintf(errs, "%s: refclock PPS: %s: PPS_SETPARAMS: %s\n", where, s->path, strerror(errno));
        return -1;
    }
    return 0;
}

static int pps_open(const struct conf_refclock *cf, const char *where, FILE *errs, void **state)
{
    struct pps_state *s = mem_zalloc(sizeof(*s));

    s->clear = cf->clear;
    snprintf(s->path, sizeof(s->path), "%s", cf->path);
    s->fd = pps_ops->open(cf->path, O_RDWR | O_CLOEXEC);
    if (s->fd < 0) {
        fprintf(errs, "%s: refclock PPS: cannot open %s: %s\n", where, cf->path, strerror(errno));
        free(s);
        return -1;
    }
    if (pps_setup(s, where, errs) < 0) {
        pps_ops->close(s->fd);
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int pps_fd(void *state)
{
    (void)state;
    return -1; /* fetched on a timer: the device is not pollable */
}

/* The newest edge if it is new: PPS_FETCH without waiting. */
static int pps_read(void *state, struct refclock_reading *out, int max, uint64_t *bad)
{
    struct pps_state *s = state;
    struct pps_fdata fd;

    memset(&fd, 0, sizeof(fd)); /* timeout 0, flags 0: do not wait */
    if (max < 1)
        return 0;
    if (pps_ops->ioctl(s->fd, PPS_FETCH, &fd) < 0) {
        ++*bad;
        return 0;
    }
    unsigned seq = s->clear ? fd.info.clear_sequence : fd.info.assert_sequence;
    const struct pps_ktime *kt = s->clear ? &fd.info.clear_tu : &fd.info.assert_tu;
    if (seq == 0 || (s->have_seq && seq == s->seq))
        return 0;
    s->seq = seq;
    s->have_seq = 1;
    if (kt->nsec < 0 || kt->nsec > 999999999 || kt->sec < 0) {
        ++*bad;
        return 0;
    }
    out->sys = (struct timespec){.tv_sec = (time_t)kt->sec, .tv_nsec = kt->nsec};
    /* The edge is a whole second of the reference: the offset is what it
     * takes to get there, modulo a second. */
    out->offset = -(double)kt->nsec * 1e-9;
    out->pulse = 1;
    out->leap = NTP_LEAP_NONE;
    return 1;
}

static void pps_close(void *state)
{
    struct pps_state *s = state;
    if (!s)
        return;
    pps_ops->close(s->fd);
    free(s);
}

const struct refclock_driver refclock_pps_driver = {"PPS", pps_open, pps_fd, pps_read, pps_close};
