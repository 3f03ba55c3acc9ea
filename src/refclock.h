/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_REFCLOCK_H
#define TEMPUS_REFCLOCK_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "clock.h"
#include "conf.h"
#include "ctl_proto.h"
#include "sync.h"

/* The `refclock` sources: each configured reference clock is a source
 * (source.c) in the selection like a network server, fed from its driver
 * (refclock_shm.c, refclock_sock.c, refclock_pps.c) instead of by replies.
 * Readings are collected as they come; every 2^poll s the middle of them
 * becomes one filter sample (offset, the configured delay, a dispersion
 * of the precision and the readings' spread). A PPS edge only tells where
 * a second begins: its `lock` refclock, or our own synchronised clock
 * without one, says which second it is. */
struct refclock_set;

/* Called after a refclock sample reached the system (sync_update ran). */
typedef void (*refclock_update_fn)(void *arg, const struct timespec *now);

/* Open every refclock in conf: attach the SHM segments, bind the SOCK
 * sockets, open the PPS devices. Runs with the privileges the daemon starts
 * with, before the drop. NULL after writing each failure to errs as
 * "file:line: ..."; a config without refclocks gives an empty set. */
struct refclock_set *refclock_open(const struct conf *conf, FILE *errs);
/* Make each refclock a source of sy and start reading (in the event loop,
 * after sched_init); fn (may be NULL) runs after each update. */
void refclock_start(struct refclock_set *set, struct sync *sy, struct clock *clk,
                    refclock_update_fn fn, void *arg);
/* Stop, remove the sources from sync, close (removes SOCK sockets). */
void refclock_close(struct refclock_set *set);
/* Refclocks in the set. */
int refclock_count(const struct refclock_set *set);

/* An edge's offset off is known modulo 1 s; ref is roughly the offset (the
 * lock's reading). Sets *out to the off + k (k whole) nearest ref and
 * returns 0, or -1 if that is more than 0.4 s from ref (which second it
 * is would be a guess). */
int refclock_edge_offset(double off, double ref, double *out);

/* A refclock's counters, for views and metrics. */
struct refclock_info {
    const char *name; /* "SHM 2", "SOCK /run/x.sock", "PPS /dev/pps0" */
    const char *refid;
    const char *driver; /* "SHM", "SOCK", "PPS" */
    int sync_index;     /* its index in sync (sync_get_source), -1 before start */
    uint64_t readings;  /* taken from the driver */
    uint64_t bad;       /* malformed or refused by the driver's checks */
    uint64_t unsynced;  /* the reference said it has no time (leap 3) */
    uint64_t unlocked;  /* edges dropped: no lock (or clock) to number the second */
    uint64_t samples;   /* filter samples made */
};
/* One "refclock" control record per refclock (name, refid, driver and
 * the counters above): in `status`, and the tempus_refclock_* metrics. */
void refclock_report(const struct refclock_set *set, struct ctl_buf *b);
/* Fill out for refclock i (0 <= i < refclock_count); -1 if out of range. */
int refclock_get_info(const struct refclock_set *set, int i, struct refclock_info *out);

#endif
