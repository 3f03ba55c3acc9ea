/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_REFCLOCK_DRV_H
#define TEMPUS_REFCLOCK_DRV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "conf.h"

/* What the refclock drivers (refclock_shm.c, refclock_sock.c,
 * refclock_pps.c) share with refclock.c and the unit tests. A driver opens
 * its device with privileges, then turns what it reads into readings;
 * refclock.c does the rest (our clock, offsets, lock, filter, source). */

/* One reading of a reference clock against the kernel's CLOCK_REALTIME. */
struct refclock_reading {
    struct timespec sys; /* CLOCK_REALTIME when the reference was read */
    double offset;       /* reference - sys, s; with pulse, known modulo 1 s */
    int leap;            /* NTP_LEAP_*: NTP_LEAP_UNSYNC, the reference has no time */
    int pulse;           /* an edge on a second: the reference's second is not known */
};

/* A driver. open runs before the privilege drop and writes why it failed
 * to errs ("file:line: refclock ...: what"); read runs in the event loop
 * when fd is readable, or twice a second if fd is -1, and returns how many
 * readings it put into out (at most max), adding what it threw away as
 * malformed to *bad. */
struct refclock_driver {
    const char *name;
    int (*open)(const struct conf_refclock *cf, const char *where, FILE *errs, void **state);
    int (*fd)(void *state);
    int (*read)(void *state, struct refclock_reading *out, int max, uint64_t *bad);
    void (*close)(void *state);
};

extern const struct refclock_driver refclock_shm_driver;
extern const struct refclock_driver refclock_sock_driver;
extern const struct refclock_driver refclock_pps_driver;

/* The SHM segment as ntpd defined it and gpsd writes it (the public
 * layout; time_t is the build's). */
struct refclock_shm_time {
    int mode; /* 0: valid alone; 1: count must not change while read */
    volatile int count;
    time_t clock_sec; /* the reference's time */
    int clock_usec;
    time_t receive_sec; /* CLOCK_REALTIME when it was taken */
    int receive_usec;
    int leap;
    int precision;
    int nsamples;
    volatile int valid;
    unsigned clock_nsec;
    unsigned receive_nsec;
    int dummy[8];
};
#define REFCLOCK_SHM_KEY 0x4e545030 /* "NTP0" */

/* Take the sample in seg if there is a new, consistent one (mode 0 or 1
 * handshake; clears valid): 1 with *out set, 0 if none, -1 if the segment
 * holds nonsense (unknown mode, fields out of range, a torn read). */
int refclock_shm_take(volatile struct refclock_shm_time *seg, struct refclock_reading *out);
/* Attach the segment of key (created with perm if missing); NULL after
 * writing why to errs. */
volatile struct refclock_shm_time *refclock_shm_attach(int key, int perm, const char *where,
                                                       FILE *errs);
void refclock_shm_detach(volatile struct refclock_shm_time *seg);

/* The datagram gpsd sends to a chrony-style SOCK refclock. */
#define REFCLOCK_SOCK_MAGIC 0x534f434b /* "SOCK" */
/* Decode one datagram of len bytes: 0 with *out set, -1 if it is not a
 * sample (wrong size or magic, a time out of range, a leap out of 0..3). */
int refclock_sock_decode(const void *buf, size_t len, struct refclock_reading *out);
/* The datagram's size on this build (what gpsplay sends). */
size_t refclock_sock_size(void);
/* Encode a sample into buf (at least refclock_sock_size() bytes): for
 * tests and gpsplay. Returns the size. */
size_t refclock_sock_encode(const struct timespec *sys, double offset, int pulse, int leap,
                            void *buf);

/* The PPS device's calls, replaceable for tests and the simulator (RFC
 * 2783 through Linux's ioctls; NULL restores the real open/ioctl/close). */
struct refclock_pps_ops {
    int (*open)(const char *path, int flags);
    int (*ioctl)(int fd, unsigned long req, void *arg);
    int (*close)(int fd);
};
void refclock_pps_set_ops(const struct refclock_pps_ops *ops);

#endif
