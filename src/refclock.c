/* SPDX-License-Identifier: ISC */
#include "refclock.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "maxima.h"
#include "mem.h"
#include "ntp_wire.h"
#include "refclock_drv.h"
#include "sched.h"
#include "sort.h"
#include "source.h"
#include "timefmt.h"

/* Drivers without a descriptor are read this often (SHM, PPS): twice a
 * second, so no second's sample is missed. */
#define RC_READ_INTERVAL 0.5
/* Readings kept between two polls: the newest win. */
#define RC_READINGS_MAX 64
/* A lock refclock's reading numbers an edge only if this fresh (s)... */
#define RC_LOCK_AGE_MAX 4.0
/* ... and if it puts the edge no further than this from a whole second:
 * beyond, which second it is would be a guess. */
#define RC_LOCK_WINDOW 0.4
/* Without a lock, our own clock numbers the seconds only while it is
 * synchronised and its last offset is this small. */
#define RC_OWN_CLOCK_MAX 0.1

struct rc_reading {
    struct timespec t; /* our clock */
    double offset;     /* reference - us, s */
    int leap;
};

struct refclock {
    struct refclock_set *set;
    struct conf_refclock cf;
    const struct refclock_driver *drv;
    void *state;
    int fd;
    char name[CONF_REFCLOCK_PATH_MAX + 8];
    struct source *src;
    int sync_idx;
    struct refclock *lock; /* NULL: none, or our own clock */
    unsigned resets;       /* sync's count of steps and jumps at the last poll */
    uint64_t read_timer, poll_timer;
    struct rc_reading r[RC_READINGS_MAX];
    int nr;
    struct rc_reading last; /* newest reading with its second known */
    int have_last;
    struct refclock_info info;
};

struct refclock_set {
    struct refclock rc[MAXIMA_REFCLOCKS];
    int n;
    struct sync *sy;
    struct clock *clk;
    refclock_update_fn fn;
    void *fn_arg;
};

static const struct refclock_driver *rc_driver_of(enum conf_refclock_driver d)
{
    switch (d) {
    case CONF_REFCLOCK_SHM:
        return &refclock_shm_driver;
    case CONF_REFCLOCK_SOCK:
        return &refclock_sock_driver;
    case CONF_REFCLOCK_PPS:
        return &refclock_pps_driver;
    }
    return NULL;
}

struct refclock_set *refclock_open(const struct conf *conf, FILE *errs)
{
    struct refclock_set *set = mem_zalloc(sizeof(*set));
    int bad = 0;

    for (unsigned i = 0; i < conf->n_refclocks && i < MAXIMA_REFCLOCKS; i++) {
        struct refclock *rc = &set->rc[set->n];
        char where[300];
        rc->set = set;
        rc->cf = conf->refclocks[i];
        rc->drv = rc_driver_of(rc->cf.driver);
        rc->sync_idx = -1;
        rc->fd = -1;
        snprintf(where, sizeof(where), "%s:%u", conf->path ? conf->path : "?", rc->cf.line);
        if (rc->cf.driver == CONF_REFCLOCK_SHM)
            snprintf(rc->name, sizeof(rc->name), "SHM %d", rc->cf.unit);
        else
            snprintf(rc->name, sizeof(rc->name), "%s %s", rc->drv->name, conf->refclocks[i].path);
        if (rc->drv->open(&rc->cf, where, errs, &rc->state) < 0) {
            bad = 1;
            continue;
        }
        rc->fd = rc->drv->fd(rc->state);
        rc->info = (struct refclock_info){
            .name = rc->name, .refid = rc->cf.refid, .driver = rc->drv->name, .sync_index = -1};
        set->n++;
    }
    if (bad) {
        refclock_close(set);
        return NULL;
    }
    return set;
}

/* Our clock for a CLOCK_REALTIME reading, and the offset against it. */
static void rc_convert(struct refclock *rc, const struct refclock_reading *in,
                       struct rc_reading *out)
{
    clock_from_kernel(rc->set->clk, &in->sys, &out->t);
    out->offset = in->offset + timefmt_timespec_diff(&in->sys, &out->t) + rc->cf.offset;
    out->leap = in->leap;
}

int refclock_edge_offset(double off, double ref, double *out)
{
    double whole = off - round(off - ref);

    if (!isfinite(whole) || !(fabs(whole - ref) <= RC_LOCK_WINDOW))
        return -1;
    *out = whole;
    return 0;
}

/* Which second an edge belongs to: the lock refclock's newest reading (or
 * our synchronised clock) says roughly what the time was. 0 with r->offset
 * made whole, -1 if no reference is fit to tell. */
static int rc_number_edge(struct refclock *rc, struct rc_reading *r)
{
    double ref;

    if (rc->lock) {
        const struct refclock *l = rc->lock;
        if (!l->have_last || fabs(timefmt_timespec_diff(&r->t, &l->last.t)) > RC_LOCK_AGE_MAX)
            return -1;
        ref = l->last.offset;
        r->leap = l->last.leap;
    } else {
        struct sync_state st;
        sync_get_state(rc->set->sy, &r->t, &st);
        if (!st.synced || fabs(st.offset) > RC_OWN_CLOCK_MAX)
            return -1;
        ref = 0.0;
        r->leap = st.leap;
    }
    return refclock_edge_offset(r->offset, ref, &r->offset);
}

static void rc_keep(struct refclock *rc, const struct rc_reading *r)
{
    if (rc->nr == RC_READINGS_MAX) {
        memmove(&rc->r[0], &rc->r[1], sizeof(rc->r[0]) * (RC_READINGS_MAX - 1));
        rc->nr--;
    }
    rc->r[rc->nr++] = *r;
    rc->last = *r;
    rc->have_last = 1;
}

static void rc_take(struct refclock *rc, const struct refclock_reading *in)
{
    struct rc_reading r;

    rc->info.readings++;
    rc_convert(rc, in, &r);
    if (!isfinite(r.offset)) {
        rc->info.bad++;
        return;
    }
    if (in->leap == NTP_LEAP_UNSYNC) {
        rc->info.unsynced++;
        return;
    }
    if (in->pulse && rc_number_edge(rc, &r) < 0) {
        rc->info.unlocked++;
        log_debug("%s: edge at %+.6f s dropped: no lock to number its second", rc->name, r.offset);
        return;
    }
    rc_keep(rc, &r);
}

static void rc_read(struct refclock *rc)
{
    struct refclock_reading in[16];
    int n = rc->drv->read(rc->state, in, 16, &rc->info.bad);

    for (int i = 0; i < n; i++)
        rc_take(rc, &in[i]);
}

static void rc_readable(int fd, void *arg)
{
    (void)fd;
    rc_read(arg);
}

static void rc_read_timer(void *arg)
{
    struct refclock *rc = arg;
    rc->read_timer = sched_add_timer(RC_READ_INTERVAL, rc_read_timer, rc);
    rc_read(rc);
}

static int rc_cmp_offset(const void *a, const void *b)
{
    double x = ((const struct rc_reading *)a)->offset, y = ((const struct rc_reading *)b)->offset;
    return (x > y) - (x < y);
}

/* The poll's sample: the middle of the readings by offset (a fifth cut
 * from each end once there are five), averaged with their times so a
 * slewing clock is measured where it was; the dispersion adds their RMS
 * spread to the precision. */
static void rc_make_sample(struct refclock *rc, struct source_ref_sample *s)
{
    struct rc_reading *r = rc->r;
    int n = rc->nr, cut = n >= 5 ? n / 5 : 0;
    double off = 0.0, dt = 0.0, var = 0.0;

    /* after the sandbox: sort_heap, which needs no system call (sort.h) */
    sort_heap(r, (size_t)n, sizeof(r[0]), rc_cmp_offset);
    for (int i = cut; i < n - cut; i++) {
        off += r[i].offset;
        dt += timefmt_timespec_diff(&r[i].t, &r[cut].t);
    }
    off /= n - 2 * cut;
    dt /= n - 2 * cut;
    for (int i = cut; i < n - cut; i++)
        var += (r[i].offset - off) * (r[i].offset - off);
    s->t = r[cut].t;
    timefmt_timespec_add(&s->t, dt);
    s->offset = off;
    s->delay = rc->cf.delay;
    s->dispersion = rc->cf.precision + sqrt(var / (n - 2 * cut));
    s->stratum = rc->cf.stratum;
    s->leap = rc->last.leap;
    s->refid = ntp_wire_refid_ascii(rc->cf.refid);
}

/* The clock was stepped (or jumped) since the last poll: readings taken
 * before are against the old clock; drop them, and let an edge wait for a
 * lock reading taken since. Returns 1 if so. */
static int rc_clock_moved(struct refclock *rc, const struct timespec *now)
{
    struct sync_state st;

    sync_get_state(rc->set->sy, now, &st);
    if (st.resets == rc->resets)
        return 0;
    rc->resets = st.resets;
    rc->nr = 0;
    rc->have_last = 0;
    return 1;
}

static void rc_poll_timer(void *arg)
{
    struct refclock *rc = arg;
    struct refclock_set *set = rc->set;
    struct source_ref_sample s;
    struct timespec now;

    rc->poll_timer = sched_add_timer(ldexp(1.0, rc->cf.poll), rc_poll_timer, rc);
    source_ref_poll(rc->src);
    clock_now(set->clk, &now);
    if (rc_clock_moved(rc, &now) || rc->nr == 0)
        return;
    rc_make_sample(rc, &s);
    rc->nr = 0;
    if (source_ref_sample(rc->src, &s) != SOURCE_SAMPLE)
        return;
    rc->info.samples++;
    sync_update(set->sy, &now, sched_mono_ns());
    if (set->fn)
        set->fn(set->fn_arg, &now);
}

static struct refclock *rc_find(struct refclock_set *set, const char *refid)
{
    for (int i = 0; i < set->n; i++)
        if (strcmp(set->rc[i].cf.refid, refid) == 0)
            return &set->rc[i];
    return NULL;
}

static void rc_start_one(struct refclock *rc)
{
    struct refclock_set *set = rc->set;
    struct source_params sp = {.minpoll = rc->cf.poll,
                               .maxpoll = rc->cf.poll,
                               .prefer = rc->cf.prefer,
                               .noselect = rc->cf.noselect,
                               .refclock = 1};

    rc->src = source_create(&sp, (uint64_t)(rc - set->rc) + 1);
    rc->sync_idx = sync_add_source(set->sy, rc->src, rc->name, ntp_wire_refid_ascii(rc->cf.refid));
    if (rc->sync_idx < 0)
        fatalx("no room for refclock %s in the source table", rc->name);
    rc->info.sync_index = rc->sync_idx;
    if (rc->cf.lock[0])
        rc->lock = rc_find(set, rc->cf.lock);
    if (rc->fd >= 0) {
        if (sched_add_fd(rc->fd, rc_readable, rc) < 0)
            fatalx("no room for refclock %s in the event loop", rc->name);
    } else {
        rc->read_timer = sched_add_timer(RC_READ_INTERVAL, rc_read_timer, rc);
    }
    rc->poll_timer = sched_add_timer(ldexp(1.0, rc->cf.poll), rc_poll_timer, rc);
    log_info("refclock %s added (refid %s, poll %d%s%s)", rc->name, rc->cf.refid, rc->cf.poll,
             rc->cf.lock[0] ? ", lock " : "", rc->cf.lock);
}

void refclock_start(struct refclock_set *set, struct sync *sy, struct clock *clk,
                    refclock_update_fn fn, void *arg)
{
    set->sy = sy;
    set->clk = clk;
    set->fn = fn;
    set->fn_arg = arg;
    for (int i = 0; i < set->n; i++)
        rc_start_one(&set->rc[i]);
}

void refclock_close(struct refclock_set *set)
{
    if (!set)
        return;
    for (int i = 0; i < set->n; i++) {
        struct refclock *rc = &set->rc[i];
        sched_cancel_timer(rc->read_timer);
        sched_cancel_timer(rc->poll_timer);
        if (rc->src) {
            if (rc->fd >= 0)
                sched_remove_fd(rc->fd);
            sync_remove_source(set->sy, rc->sync_idx);
            source_destroy(rc->src);
        }
        rc->drv->close(rc->state);
    }
    free(set);
}

int refclock_count(const struct refclock_set *set)
{
    return set ? set->n : 0;
}

void refclock_report(const struct refclock_set *set, struct ctl_buf *b)
{
    for (int i = 0; set && i < set->n; i++) {
        const struct refclock_info *in = &set->rc[i].info;
        ctl_rec_begin(b, "refclock");
        ctl_rec_str(b, "name", in->name);
        ctl_rec_str(b, "refid", in->refid);
        ctl_rec_str(b, "driver", in->driver);
        ctl_rec_int(b, "line", set->rc[i].cf.line);
        ctl_rec_int(b, "readings", (long long)in->readings);
        ctl_rec_int(b, "bad", (long long)in->bad);
        ctl_rec_int(b, "unsynced", (long long)in->unsynced);
        ctl_rec_int(b, "unlocked", (long long)in->unlocked);
        ctl_rec_int(b, "samples", (long long)in->samples);
        ctl_rec_end(b);
    }
}

int refclock_get_info(const struct refclock_set *set, int i, struct refclock_info *out)
{
    if (!set || i < 0 || i >= set->n)
        return -1;
    *out = set->rc[i].info;
    return 0;
}
