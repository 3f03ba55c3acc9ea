/* SPDX-License-Identifier: ISC */
#include "sync.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leapfile.h"
#include "log.h"
#include "mem.h"
#include "ntp_wire.h"
#include "timefmt.h"

/* Before the first sync (and after a jump), selection waits this long for
 * every source to answer, so that a liar that happens to answer first is
 * outvoted before it can step the clock. */
#define SYNC_STARTUP_WAIT_NS 10000000000LL

/* Poll policy (chrony's polltarget idea over our own window choice): the
 * discipline keeps the newest points that still predict the clock; fewer
 * than SYNC_POLL_LOW means wander (or a change) shows within that many
 * polls, so poll faster; at least SYNC_POLL_HIGH on SYNC_POLL_RUN updates
 * in a row means the clock's own wander stays below the measurement noise
 * over that span, so a longer poll costs little. History is never dropped
 * for a change of poll. */
#define SYNC_POLL_LOW 16
#define SYNC_POLL_HIGH 32
#define SYNC_POLL_RUN 4

/* A sample is confirmed within this many root distances of its source
 * (plus a floor) from the combined offset, see sync_confirmed. */
#define SYNC_CONFIRM_DISTANCES 2.0
#define SYNC_CONFIRM_FLOOR 50e-6

/* Below this, a root dispersion is not worth advertising as smaller. */
#define SYNC_MIN_DISPERSION 1e-6

/* Why a source is held out of the normal selection. */
enum sync_hold {
    SYNC_USE,    /* not held */
    SYNC_LOOPED, /* its refid is our own id: it follows us */
    SYNC_ORPHAN, /* orphan mode: a peer at or above our local stratum */
};

struct sync_src {
    struct source *src; /* NULL: free slot */
    char name[64];
    uint32_t refid;
    uint32_t own_id; /* our refid as this source sees us, 0: unknown */
    enum sync_hold hold;
    struct timespec last_fed; /* measurement time of the last sample fed on */
    enum select_status status;
    enum select_status logged; /* last status written to the log */
    double distance;
};

struct sync {
    struct sync_params p;
    struct clock *clk;
    struct server *srv;
    struct discipline *disc;
    struct sync_src srcs[SYNC_MAX_SOURCES];
    int n; /* slots in use or freed, high-water mark */
    int peer; /* slot of the system peer, -1 if none */
    enum select_outcome outcome;
    int ntruechimers;
    unsigned peer_changes;
    unsigned resets;
    int synced, local, ever_synced;
    double offset, jitter;
    int stratum, leap;
    uint32_t refid;
    double root_delay, root_disp; /* at ref_time */
    struct timespec ref_time;
    double update_interval; /* between the last two ref_time updates */
    int orphan; /* the peer was chosen by orphan selection */
    int64_t lost_mono;  /* when selection last stopped giving a peer */
    int64_t start_mono; /* first tick */
    int64_t wait_from;  /* start of the startup wait (creation or jump) */
    int64_t tick_mono;  /* jump detection: last tick on both clocks */
    struct timespec tick_clock;
    double stepped_since_tick;
    int poll_run; /* updates in a row with a long window */
    int regather; /* after a step: wait for a majority before selecting */
    const struct leap_table *leaps; /* leapfile, NULL: none */
    const struct leap_table *leaps_tz; /* leapsectz, NULL: none */
    struct server_smear smear; /* what the server serves for it (leapsmear) */
    int leap_pending;      /* +1/-1: a leap second ends this UTC day */
    const char *leap_source;
    int leap_armed;        /* what the clock was told to do at midnight */
    int leap_due, leap_due_kernel; /* the leap and the arming at the last tick */
    int64_t leap_due_mono; /* the coming UTC midnight on the monotonic clock */
    struct timespec leap_pre_clock; /* both clocks at the last tick before it */
    int64_t leap_pre_mono;
    int64_t leap_quiet_mono; /* no new leap scheduled before this */
    unsigned nleaps;
    int wait_logged;
};

void sync_params_default(struct sync_params *p)
{
    memset(p, 0, sizeof(*p));
    select_params_default(&p->select);
    discipline_params_default(&p->disc);
    p->local_stratum = 0;
    p->local_delay = 0.0;
    p->jump_threshold = 1.0;
}

struct sync *sync_create(const struct sync_params *params, struct clock *clk,
                         struct server *srv, double initial_freq_ppm)
{
    struct sync *sy = mem_zalloc(sizeof(*sy));
    sy->p = *params;
    sy->clk = clk;
    sy->srv = srv;
    sy->disc = discipline_create(&params->disc, clk, initial_freq_ppm);
    sy->peer = -1;
    sy->outcome = SELECT_RES_NO_CANDIDATES;
    sy->leap = NTP_LEAP_UNSYNC;
    sy->lost_mono = INT64_MIN;
    sy->wait_from = INT64_MIN;
    return sy;
}

void sync_set_params(struct sync *sy, const struct sync_params *params)
{
    if (sy->p.local_stratum != params->local_stratum && sy->local && !params->local_stratum)
        sy->local = 0;
    if (sy->smear.s.leap && params->smear_window != sy->p.smear_window) {
        /* Off now, it ends at once; the window of a smear begun stays. */
        log_warnx("leapsmear changed during a leap smear: %s", params->smear_window > 0.0
                      ? "the smear in progress keeps its window"
                      : "clients see the time served jump back to the clock");
        if (!(params->smear_window > 0.0))
            sy->smear.s.leap = 0;
    }
    sy->p = *params;
    discipline_set_params(sy->disc, &params->disc);
}

void sync_destroy(struct sync *sy)
{
    if (!sy)
        return;
    discipline_destroy(sy->disc);
    free(sy);
}

int sync_add_source(struct sync *sy, struct source *src, const char *name, uint32_t refid)
{
    int slot = -1;
    for (int i = 0; i < sy->n && slot < 0; i++)
        if (!sy->srcs[i].src)
            slot = i;
    if (slot < 0) {
        if (sy->n == SYNC_MAX_SOURCES)
            return -1;
        slot = sy->n++;
    }
    struct sync_src *s = &sy->srcs[slot];
    memset(s, 0, sizeof(*s));
    s->src = src;
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->refid = refid;
    s->last_fed = (struct timespec){0, 0};
    s->status = s->logged = SELECT_UNREACHABLE;
    return slot;
}

void sync_set_source_own_id(struct sync *sy, int index, uint32_t own_id)
{
    if (index >= 0 && index < sy->n && sy->srcs[index].src)
        sy->srcs[index].own_id = own_id;
}

void sync_remove_source(struct sync *sy, int index)
{
    if (index < 0 || index >= sy->n)
        return;
    sy->srcs[index].src = NULL;
    if (sy->peer == index)
        sy->peer = -1;
}

int sync_source_count(const struct sync *sy)
{
    return sy->n;
}

struct source *sync_source(const struct sync *sy, int index)
{
    return index >= 0 && index < sy->n ? sy->srcs[index].src : NULL;
}

struct discipline *sync_discipline(struct sync *sy)
{
    return sy->disc;
}


/* The leap second at the end of this UTC day, if any: what the sources
 * voted, else what the leap file says (unexpired), and only on the last
 * day of a month. Remembers when that midnight comes on the monotonic
 * clock. */
static int sync_leap_pending(struct sync *sy, const struct timespec *now)
{
    time_t t = now->tv_sec;
    int vote = 0, file = 0, tz = 0;

    if (sy->synced || (sy->ever_synced && !sy->local))
        vote = sy->leap == NTP_LEAP_ADD ? 1 : sy->leap == NTP_LEAP_DEL ? -1 : 0;
    if (sy->leaps && leapfile_expiry(sy->leaps) > t)
        file = leapfile_leap_today(sy->leaps, t);
    if (sy->leaps_tz && leapfile_expiry(sy->leaps_tz) > t)
        tz = leapfile_leap_today(sy->leaps_tz, t);
    /* The vote is a reference clock's own announcement (the GPS
     * navigation message, passed on by gpsd) when the system peer is one. */
    const struct source *peer = sy->peer >= 0 ? sy->srcs[sy->peer].src : NULL;
    const char *voted = peer && source_params(peer)->refclock ? "refclock" : "upstream";
    int p = !leapfile_month_end(t) ? 0 : vote ? vote : file ? file : tz;
    sy->leap_source = !p ? "" : vote ? voted : file ? "leapfile" : "leapsectz";
    if (p && sy->leap_pending != p)
        log_notice("leap second %s at the end of the day (from the %s)",
                   p > 0 ? "inserted" : "deleted", sy->leap_source);
    sy->leap_pending = p;
    return p;
}

/* leapsmear: the smear of the leap due at midnight (Unix time) as the
 * server is to serve it. A deleted second goes at 23:59:59. Until our
 * clock takes the leap it reads the old count, except where the kernel
 * takes it at that very instant. */
static void sync_smear_plan(struct sync *sy, time_t midnight)
{
    if (!(sy->p.smear_window > 0.0))
        return;
    /* The window is the one the smear began with (a reload that changes
     * it must not make the served time jump). */
    int same = sy->smear.s.leap == sy->leap_due && sy->smear.s.leap_time == (double)midnight;
    sy->smear.s = (struct smear){.leap = sy->leap_due,
                                 .leap_time = (double)midnight,
                                 .window = same ? sy->smear.s.window : sy->p.smear_window};
    sy->smear.leap_mono = sy->leap_due_mono;
    sy->smear.debt = sy->leap_due_kernel ? 0.0 : (double)sy->leap_due;
}

/* After the leap: the smear goes on until the end of its window. */
static void sync_smear_tick(struct sync *sy, const struct timespec *now, int64_t mono_ns)
{
    if (!sy->smear.s.leap || mono_ns < sy->smear.leap_mono)
        return;
    double utc = (double)now->tv_sec + (double)now->tv_nsec * 1e-9 - sy->smear.debt;
    if (!smear_active(&sy->smear.s, utc, 1)) {
        log_notice("leap smear over: serving UTC again");
        sy->smear.s.leap = 0;
    }
}

/* When the coming UTC midnight is on the monotonic clock, while a leap
 * second is pending (the clock itself is stepped back at it). */
static void sync_leap_schedule(struct sync *sy, const struct timespec *now, int64_t mono_ns)
{
    time_t t = now->tv_sec;
    double left = (double)(86400 - t % 86400) - (double)now->tv_nsec * 1e-9;

    /* Past the midnight (on the monotonic clock) the leap is handled at
     * the next tick; the second just repeated still reads as the old day. */
    if (mono_ns < sy->leap_quiet_mono || (sy->leap_due_mono && mono_ns >= sy->leap_due_mono))
        return;
    if (sy->leap_pending) {
        sy->leap_due = sy->leap_pending;
        sy->leap_due_kernel = sy->leap_armed;
        /* A deleted second goes when 23:59:59 would begin, not at a
         * midnight that our clock, still counting it, reaches late. */
        if (sy->leap_pending < 0)
            left -= 1.0;
        sy->leap_due_mono = mono_ns + (int64_t)(left * 1e9);
        sy->leap_pre_clock = *now; /* the last look before midnight */
        sy->leap_pre_mono = mono_ns;
        sync_smear_plan(sy, t - t % 86400 + 86400);
    } else if (sy->leap_due_mono && mono_ns < sy->leap_due_mono - 1000000000) {
        sy->leap_due = 0; /* withdrawn before midnight */
        sy->leap_due_mono = 0;
        sy->smear.s.leap = 0;
    }
}

/* UTC had a leap second of step: the sources and the discipline follow,
 * with our clock moved by it (stepped) or not (to be slewed). */
static void sync_leapt(struct sync *sy, double step, int stepped)
{
    for (int i = 0; i < sy->n; i++) {
        if (!sy->srcs[i].src)
            continue;
        source_clock_leapt(sy->srcs[i].src, step, stepped);
        if (stepped)
            timefmt_timespec_add(&sy->srcs[i].last_fed, step);
    }
    discipline_leap(sy->disc, step, stepped);
    if (stepped) {
        sy->stepped_since_tick += step;
        timefmt_timespec_add(&sy->ref_time, step);
    }
    sy->nleaps++;
}

/* At the first tick past a midnight that ended with a leap second: the
 * kernel did it (checked against the monotonic clock; if it did not, the
 * clock is stepped), or the daemon steps, slews or leaves it. */
static void sync_leap_passed(struct sync *sy, const struct timespec *now, int64_t mono_ns)
{
    int leap = sy->leap_due;
    double step = -(double)leap;

    if (!leap || !sy->leap_due_mono || mono_ns < sy->leap_due_mono + 500000000)
        return;
    sy->leap_due_mono = 0;
    sy->leap_due = 0;
    sy->leap_quiet_mono = mono_ns + 3000000000LL;
    enum sync_leapmode mode = sy->p.leapmode;
    if (mode == SYNC_LEAP_SYSTEM && sy->leap_due_kernel) {
        double dm = (double)(mono_ns - sy->leap_pre_mono) * 1e-9;
        double dc = timefmt_timespec_diff(now, &sy->leap_pre_clock);
        if (fabs(dc - dm - step) < 0.5) {
            log_notice("leap second %s by the kernel", leap > 0 ? "inserted" : "deleted");
            sync_leapt(sy, step, 1);
            sy->smear.debt = 0.0;
            return;
        }
        log_warnx("the kernel did not apply the leap second: stepping the clock instead");
    }
    if (mode == SYNC_LEAP_IGNORE) {
        log_notice("leap second ignored (leapmode ignore): the discipline corrects it");
        return;
    }
    if (mode == SYNC_LEAP_SLEW) {
        log_notice("leap second: slewing the clock by %+.0f s", step);
        sync_leapt(sy, step, 0);
        return;
    }
    if (clock_step(sy->clk, step) < 0) {
        log_warnx("leap second: the clock refused the step");
        return;
    }
    log_notice("leap second: clock stepped by %+.0f s", step);
    sync_leapt(sy, step, 1);
    sy->smear.debt = 0.0;
}

/* What the server advertises, from the system variables. Root dispersion
 * grows with PHI from the last update, so a client sees our holdover. */
static void sync_publish(struct sync *sy, const struct timespec *now)
{
    struct server_ref ref = {0};

    if (sy->synced || (sy->ever_synced && !sy->local)) {
        double age = fmax(0.0, timefmt_timespec_diff(now, &sy->ref_time));
        ref.synced = 1;
        ref.leap = sy->leap == NTP_LEAP_UNSYNC ? NTP_LEAP_NONE : sy->leap;
        ref.stratum = sy->stratum;
        ref.refid = sy->refid;
        ref.root_delay = sy->root_delay;
        ref.root_dispersion = sy->root_disp + SOURCE_PHI * age;
        ref.ref_time = sy->ref_time;
    } else if (sy->local) {
        ref.synced = 1;
        ref.leap = NTP_LEAP_NONE;
        ref.stratum = sy->p.local_stratum;
        ref.refid = ntp_wire_refid_ascii("LOCL");
        ref.ref_time = *now;
    }
    /* Clients are told of a leap only on its day: the sources' vote of
     * before midnight lingers until their next samples. */
    int pending = sync_leap_pending(sy, now);
    if (ref.synced)
        ref.leap = pending > 0 ? NTP_LEAP_ADD : pending < 0 ? NTP_LEAP_DEL : NTP_LEAP_NONE;
    if (sy->srv) {
        server_set_ref(sy->srv, &ref);
        sy->smear.on = sy->p.smear_window > 0.0;
        server_set_smear(sy->srv, &sy->smear);
    }
    int synced = ref.synced && !sy->local;
    sy->leap_armed = sy->p.leapmode == SYNC_LEAP_SYSTEM && clock_applies_leap(sy->clk) ? pending : 0;
    clock_set_sync(sy->clk, synced, ref.root_delay / 2 + ref.root_dispersion, sy->leap_armed);
}

/* Log a source's change of standing once, not at every update. */
static void sync_set_status(struct sync_src *s, enum select_status st, double distance)
{
    s->distance = distance;
    s->status = st;
    if (st == s->logged)
        return;
    if (st == SELECT_FALSETICKER || st == SELECT_TOO_DISTANT || st == SELECT_UNSYNCED)
        log_notice("source %s is now %s", s->name, select_status_name(st));
    else
        log_info("source %s is now %s", s->name, select_status_name(st));
    s->logged = st;
}

/* A source advertising our own id follows us (RFC 5905's loop check; a
 * stratum 1 refid is ASCII, not an address). In orphan mode a source at
 * the local stratum or above is a peer serving its own clock, or one that
 * follows such a peer (perhaps through us: a loop the refid check cannot
 * see): not real time. */
static enum sync_hold sync_hold_of(const struct sync *sy, const struct sync_src *s,
                                   const struct source_estimate *e)
{
    if (s->own_id && e->stratum > 1 && e->refid == s->own_id)
        return SYNC_LOOPED;
    if (sy->p.local_orphan && sy->p.local_stratum && e->stratum >= sy->p.local_stratum)
        return SYNC_ORPHAN;
    return SYNC_USE;
}

static int sync_candidates(struct sync *sy, const struct timespec *now,
                           struct select_candidate *cand, struct source_estimate *est)
{
    int n = 0;
    for (int i = 0; i < sy->n; i++) {
        struct sync_src *s = &sy->srcs[i];
        if (!s->src)
            continue;
        s->status = SELECT_UNREACHABLE;
        source_get_estimate(s->src, now, &est[n]);
        if (!est[n].valid)
            continue;
        const struct source_params *sp = source_params(s->src);
        struct timespec at = *now;
        timefmt_timespec_add(&at, -est[n].age);
        /* Picks of different ages compare only once projected to now
         * through the corrections made since each was measured. A source
         * counts as reachable while one of its last three polls was
         * answered (SOURCE_REACH_POLLS), so a dead system peer is replaced
         * within three polls. A refclock (stratum 0) ranks as stratum 1. */
        cand[n] = (struct select_candidate){
            .id = i, .offset = discipline_project(sy->disc, est[n].offset, &at),
            .delay = est[n].delay, .dispersion = est[n].dispersion, .jitter = est[n].jitter,
            .root_delay = est[n].root_delay, .root_dispersion = est[n].root_dispersion,
            .stratum = est[n].stratum + (sp->refclock && est[n].stratum == 0),
            .leap = est[n].leap, .prefer = sp->prefer,
            .noselect = sp->noselect, .reachable = est[n].reachable};
        s->hold = sync_hold_of(sy, s, &est[n]);
        cand[n].noselect |= s->hold != SYNC_USE;
        n++;
    }
    return n;
}

/* Take over the system variables from the new selection (RFC 5905 11.2.3
 * and 11.3): our stratum is one below the peer's, root delay and dispersion
 * add our path to the peer's own. */
static void sync_adopt(struct sync *sy, const struct select_result *res,
                       const struct source_estimate *pe, const struct timespec *now)
{
    sy->peer = res->system_peer_id;
    sy->stratum = pe->stratum + 1 > 15 ? 15 : pe->stratum + 1;
    sy->refid = sy->srcs[sy->peer].refid;
    sy->leap = res->leap;
    sy->offset = res->offset;
    sy->jitter = res->jitter;
    sy->root_delay = pe->root_delay + pe->delay;
    sy->root_disp = fmax(SYNC_MIN_DISPERSION, pe->root_dispersion + pe->dispersion +
                                                  res->jitter + fabs(res->offset));
    if (sy->ever_synced)
        sy->update_interval = timefmt_timespec_diff(now, &sy->ref_time);
    sy->ref_time = *now;
    sy->synced = sy->ever_synced = 1;
    sy->local = 0;
}

static void sync_stepped(struct sync *sy, double step)
{
    log_notice("clock stepped by %+.6f s", step);
    for (int i = 0; i < sy->n; i++) {
        if (sy->srcs[i].src) {
            source_clock_stepped(sy->srcs[i].src, step);
            sy->srcs[i].last_fed = (struct timespec){0, 0};
        }
    }
    sy->stepped_since_tick += step;
    sy->resets++;
    /* Every filter is empty now: the first source to answer must not
     * decide alone, so selection waits for a majority again. */
    sy->regather = 1;
    sy->wait_from = INT64_MIN;
}

static int sync_active_sources(const struct sync *sy);

/* What selection said of a survivor whose samples are being fed. */
struct sync_sel {
    double center;   /* the combined offset, projected to now */
    double distance; /* the others' spread, see sync_others_spread */
    int may_step;    /* the system peer with a majority behind it */
};

/* Whether a sample (measured at `at`) lies where selection found the
 * time to be: within twice the others' spread (sync_others_spread) and a
 * floor of the combined offset. A sample that jumps away from the
 * others is held until its source is confirmed there: until its filter
 * pick moves and selection accepts it against the others. An upstream
 * restarted with a wrong clock is a falseticker by then, and none of its
 * new time was used. */
static int sync_confirmed(struct sync *sy, const struct sync_sel *sel, double offset,
                          const struct timespec *at)
{
    double d = discipline_project(sy->disc, offset, at) - sel->center;
    return fabs(d) <= SYNC_CONFIRM_DISTANCES * sel->distance + SYNC_CONFIRM_FLOOR;
}

/* Feed one source's samples that the discipline has not seen, oldest first,
 * each at the time it was measured and weighted by its own error bound
 * (half its delay beyond the least in the filter, plus its dispersion), so
 * a congested sample counts less. Samples not confirmed by the source's
 * pick are held (sync_confirmed). Only the system peer's samples may step
 * the clock (or meet maxchange), and only with a majority behind it
 * (may_step): a combined survivor's sample that far off is left out, since
 * one sample of a source that merely overlaps the peer is no reason to
 * jump. Returns 1 if anything was fed, -1 after a step (stop feeding then). */
static int sync_feed_source(struct sync *sy, struct sync_src *ss, const struct sync_sel *sel,
                            const struct timespec *now, double *step)
{
    struct source_sample_view sv[SOURCE_FILTER_LEN];
    int n = source_get_samples(ss->src, now, sv, SOURCE_FILTER_LEN), fed = 0;
    double min_delay = INFINITY;

    for (int k = 0; k < n; k++)
        min_delay = fmin(min_delay, sv[k].delay);
    for (int k = n - 1; k >= 0; k--) {
        struct timespec at = *now;
        timefmt_timespec_add(&at, -sv[k].age);
        /* 1 us margin: the same sample recomputed from another "now" */
        if (timefmt_timespec_diff(&at, &ss->last_fed) <= 1e-6)
            continue;
        ss->last_fed = at;
        if (!sync_confirmed(sy, sel, sv[k].offset, &at)) {
            log_info("sync: %+.6f s from %s held: not where its other samples are", sv[k].offset,
                     ss->name);
            continue;
        }
        if (!sel->may_step &&
            discipline_is_drastic(sy->disc, discipline_project(sy->disc, sv[k].offset, &at))) {
            log_info("sync: %+.6f s from %s left out: only the system peer with a majority "
                     "behind it steps", sv[k].offset, ss->name);
            continue;
        }
        /* A sample's error is bounded by half the delay it met beyond the
         * path's least (queueing is what makes offsets wrong; the fixed
         * part of the delay is shared by every sample), plus the part of
         * its dispersion that is not the age we fed it at. */
        double err = (sv[k].delay - min_delay) / 2 + sv[k].dispersion - SOURCE_PHI * sv[k].age;
        switch (discipline_update(sy->disc, sv[k].offset, err, &at, step)) {
        case DISCIPLINE_STEP:
            sync_stepped(sy, *step);
            return -1;
        case DISCIPLINE_REFUSED:
            log_warnx("offset %+.3f s from %s exceeds maxchange: clock left alone",
                      sv[k].offset, ss->name);
            break;
        case DISCIPLINE_FAILED:
            log_warnx("the clock refused an adjustment");
            break;
        case DISCIPLINE_SLEW:
            fed = 1;
            break;
        }
    }
    return fed;
}

/* A source that takes no part in this update has its samples so far
 * consumed unfed: should it survive later, only what it measures from then
 * on reaches the discipline, never what it said as a falseticker. */
static void sync_pass_source(struct sync_src *ss, const struct timespec *now)
{
    struct source_sample_view newest;

    if (source_get_samples(ss->src, now, &newest, 1) == 1) {
        struct timespec at = *now;
        timefmt_timespec_add(&at, -newest.age);
        ss->last_fed = at;
    }
}

/* Sources that have a say in a step: every source in use, less those that
 * take no part by configuration (noselect) or by what they are (a loop,
 * an orphan peer). One that has not answered yet counts: it may. */
static int sync_voters(const struct sync *sy, const struct select_candidate *cand, int n)
{
    int v = sync_active_sources(sy);
    for (int k = 0; k < n; k++)
        v -= cand[k].noselect != 0;
    return v;
}

/* How far from the combined offset the survivors other than k lie, plus
 * the smallest root distance among all survivors: not k's own distance,
 * which a jump in k's filter inflates (its jitter grows with the jump, and
 * a sticky system peer may be that very source). */
static double sync_others_spread(const struct select_result *res,
                                 const struct select_candidate *cand, int n, int k)
{
    double spread = 0.0, dist = INFINITY;

    for (int j = 0; j < n; j++) {
        if (res->status[j] < SELECT_COMBINED)
            continue;
        dist = fmin(dist, res->distance[j]);
        if (j != k)
            spread = fmax(spread, fabs(cand[j].offset - res->offset));
    }
    return spread + (isfinite(dist) ? dist : 0.0);
}

/* Every survivor of selection feeds the discipline with its new samples;
 * falsetickers and discarded candidates never do. Returns 1 if the clock
 * was updated. */
static int sync_feed_survivors(struct sync *sy, const struct select_result *res,
                               const struct select_candidate *cand, int n,
                               const struct timespec *now, double *step)
{
    int fed = 0;

    *step = 0.0;
    for (int k = 0; k < n; k++) {
        struct sync_src *ss = &sy->srcs[cand[k].id];
        if (res->status[k] < SELECT_COMBINED) {
            sync_pass_source(ss, now);
            continue;
        }
        struct sync_sel sel = {
            .center = res->offset,
            .distance = sync_others_spread(res, cand, n, k),
            .may_step = k == res->system_peer &&
                        (res->ntruechimers * 2 > sync_voters(sy, cand, n) || sy->wait_logged)};
        int r = sync_feed_source(sy, ss, &sel, now, step);
        if (r < 0)
            return 1;
        fed |= r;
    }
    return fed;
}

/* After an update that fed the discipline: every source polls as the
 * window the discipline chose says (see SYNC_POLL_LOW). */
static void sync_adapt_polls(struct sync *sy)
{
    struct discipline_state ds;
    int dir = 0;

    discipline_get_state(sy->disc, &ds);
    if (ds.window < SYNC_POLL_LOW) {
        dir = -1;
        sy->poll_run = 0;
    } else if (ds.window >= SYNC_POLL_HIGH && ++sy->poll_run >= SYNC_POLL_RUN) {
        dir = 1;
        sy->poll_run = 0;
    } else if (ds.window < SYNC_POLL_HIGH) {
        sy->poll_run = 0;
    }
    for (int i = 0; dir && i < sy->n; i++)
        if (sy->srcs[i].src)
            source_poll_hint(sy->srcs[i].src, dir);
}

static void sync_note_outcome(struct sync *sy, enum select_outcome oc, int64_t mono_ns)
{
    if (oc == sy->outcome)
        return;
    if (oc == SELECT_RES_OK)
        log_info("selection: a system peer is chosen");
    else
        log_notice("selection: %s; clock left alone", select_outcome_name(oc));
    if (sy->outcome == SELECT_RES_OK)
        sy->lost_mono = mono_ns;
    sy->outcome = oc;
}


/* Whether to hold selection back: before the first sync (and after a
 * jump) until every source has a sample, after a step until a majority
 * has, in either case for SYNC_STARTUP_WAIT_NS at most (logged), so that
 * a liar that happens to answer first is outvoted before it can step or
 * pull the clock. */
static int sync_waiting(struct sync *sy, int with_samples, int64_t mono_ns)
{
    int active = sync_active_sources(sy);

    if (sy->ever_synced && !sy->regather)
        return 0;
    if (sy->wait_from == INT64_MIN) {
        sy->wait_from = mono_ns;
        sy->wait_logged = 0;
    }
    int need = sy->ever_synced ? active / 2 + 1 : active;
    if (with_samples >= need) {
        sy->regather = 0;
        return 0;
    }
    if (mono_ns - sy->wait_from < SYNC_STARTUP_WAIT_NS)
        return 1;
    if (!sy->wait_logged && with_samples > 0)
        log_notice("selection: %d of %d sources answered in %lld s; going on without the rest",
                   with_samples, active, (long long)(SYNC_STARTUP_WAIT_NS / 1000000000LL));
    sy->wait_logged = 1;
    sy->regather = 0;
    return 0;
}

/* Orphan mode, when nothing else is selectable: follow a peer serving its
 * own clock at the local stratum whose id is smaller than ours (a single
 * one is enough; never one that follows another peer, so every peer
 * follows the elected one directly); the peer with the smallest id of all
 * follows none and serves its own clock.
 * Replaces *res only if such a peer is selected; the other sources keep
 * the standing the first selection gave them. */
static void sync_select_orphans(const struct sync *sy, const struct select_candidate *cand,
                                int n, struct select_result *res)
{
    struct select_candidate c2[SYNC_MAX_SOURCES];
    struct select_params sp = sy->p.select;
    struct select_result r2;
    int any = 0;

    for (int k = 0; k < n; k++) {
        const struct sync_src *s = &sy->srcs[cand[k].id];
        int ok = s->hold == SYNC_ORPHAN && cand[k].stratum == sy->p.local_stratum &&
                 s->own_id && s->refid < s->own_id && !source_params(s->src)->noselect;
        c2[k] = cand[k];
        c2[k].noselect = !ok;
        any |= ok;
    }
    if (!any)
        return;
    sp.min_sources = 1;
    select_run(c2, (size_t)n, &sp, sy->peer < 0 ? SELECT_ID_NONE : sy->peer, &r2);
    if (r2.outcome != SELECT_RES_OK)
        return;
    for (int k = 0; k < n; k++) {
        if (c2[k].noselect) {
            r2.status[k] = res->status[k];
            r2.distance[k] = res->distance[k];
        }
    }
    *res = r2;
}

/* A held source shows why it takes no part. */
static enum select_status sync_shown_status(const struct sync_src *s, enum select_status st)
{
    if (st != SELECT_NOSELECT || source_params(s->src)->noselect)
        return st;
    return s->hold == SYNC_LOOPED ? SELECT_LOOP : s->hold == SYNC_ORPHAN ? SELECT_ORPHAN : st;
}

void sync_update(struct sync *sy, const struct timespec *now, int64_t mono_ns)
{
    struct select_candidate cand[SYNC_MAX_SOURCES] = {{0}};
    struct source_estimate est[SYNC_MAX_SOURCES];
    struct select_result res;
    int n = sync_candidates(sy, now, cand, est);

    if (sync_waiting(sy, n, mono_ns)) {
        sync_publish(sy, now);
        return;
    }
    select_run(cand, (size_t)n, &sy->p.select, sy->peer < 0 ? SELECT_ID_NONE : sy->peer, &res);
    sy->orphan = 0;
    if (res.outcome != SELECT_RES_OK && sy->p.local_orphan) {
        sync_select_orphans(sy, cand, n, &res);
        sy->orphan = res.outcome == SELECT_RES_OK;
    }
    for (int k = 0; k < n; k++) {
        struct sync_src *s = &sy->srcs[cand[k].id];
        sync_set_status(s, sync_shown_status(s, res.status[k]), res.distance[k]);
    }
    sync_note_outcome(sy, res.outcome, mono_ns);
    sy->ntruechimers = res.ntruechimers;
    if (res.outcome != SELECT_RES_OK) {
        if (sy->synced && sy->lost_mono == INT64_MIN)
            sy->lost_mono = mono_ns;
        sy->synced = 0;
        sy->peer = -1;
        sync_publish(sy, now);
        return;
    }
    int changed = sy->peer != res.system_peer_id || !sy->synced;
    if (sy->peer != res.system_peer_id) {
        log_info("system peer is now %s", sy->srcs[res.system_peer_id].name);
        sy->peer_changes += sy->peer >= 0;
    }
    const struct source_estimate *pe = &est[res.system_peer];
    struct timespec after = *now;
    double step;
    /* The system variables move only with a new sample of the peer (or a new
     * peer); in between, root dispersion keeps growing from the last one. */
    int fed = sync_feed_survivors(sy, &res, cand, n, now, &step);
    if (fed && step == 0.0)
        sync_adapt_polls(sy);
    if (fed || changed) {
        timefmt_timespec_add(&after, step);
        sync_adopt(sy, &res, pe, &after);
    }
    sync_publish(sy, &after);
}

static int sync_active_sources(const struct sync *sy)
{
    int n = 0;
    for (int i = 0; i < sy->n; i++)
        n += sy->srcs[i].src != NULL;
    return n;
}

/* The clock and the monotonic clock advance together except for our own
 * steps and slews; anything beyond that is a jump from outside (suspend and
 * resume, VM migration, someone setting the time). */
static int sync_detect_jump(struct sync *sy, const struct timespec *now, int64_t mono_ns)
{
    int jumped = 0;
    if (sy->tick_mono != 0) {
        double dm = (double)(mono_ns - sy->tick_mono) * 1e-9;
        double dc = timefmt_timespec_diff(now, &sy->tick_clock) - sy->stepped_since_tick;
        double allowed = sy->p.jump_threshold + dm * (sy->p.disc.max_slew_ppm +
                                                      sy->p.disc.max_freq_ppm) * 1e-6;
        if (fabs(dc - dm) > allowed) {
            log_warnx("clock jumped by %+.3f s against the monotonic clock: "
                      "resetting sources", dc - dm);
            for (int i = 0; i < sy->n; i++)
                if (sy->srcs[i].src)
                    source_reset(sy->srcs[i].src);
            discipline_reset(sy->disc);
            sy->resets++;
            jumped = 1;
        }
    }
    sy->tick_mono = mono_ns;
    sy->tick_clock = *now;
    sy->stepped_since_tick = 0.0;
    return jumped;
}

void sync_tick(struct sync *sy, const struct timespec *now, int64_t mono_ns)
{
    sync_leap_passed(sy, now, mono_ns);
    sync_smear_tick(sy, now, mono_ns);
    /* Reachability changes without any new sample (a source goes silent):
     * select again every tick so that loss of all sources is noticed. */
    if (sy->n)
        sync_update(sy, now, mono_ns);
    if (sync_detect_jump(sy, now, mono_ns) && sy->synced) {
        /* Our time is unknown until the sources answer again. */
        sy->synced = 0;
        sy->peer = -1;
        sy->outcome = SELECT_RES_NO_CANDIDATES;
        sy->lost_mono = mono_ns;
        sy->ever_synced = 0;
        sy->wait_from = mono_ns;
    }
    if (sy->start_mono == 0)
        sy->start_mono = mono_ns;
    if (!sy->synced && !sy->local && sy->p.local_stratum > 0) {
        /* Wait local_delay from start or from the loss of the last source
         * before serving our own clock; with no source at all, at once. */
        int64_t since = sy->lost_mono == INT64_MIN ? sy->start_mono : sy->lost_mono;
        if (!sync_active_sources(sy) || (double)(mono_ns - since) * 1e-9 >= sy->p.local_delay) {
            log_notice("no selectable source: serving the local clock at stratum %d",
                       sy->p.local_stratum);
            sy->local = 1;
        }
    }
    sync_publish(sy, now);
    sync_leap_schedule(sy, now, mono_ns);
}

void sync_set_leaps(struct sync *sy, const struct leap_table *t)
{
    sy->leaps = t;
}

void sync_set_leaps_tz(struct sync *sy, const struct leap_table *t)
{
    sy->leaps_tz = t;
}

void sync_get_state(const struct sync *sy, const struct timespec *now, struct sync_state *out)
{
    memset(out, 0, sizeof(*out));
    out->synced = sy->synced;
    out->local = sy->local;
    out->orphan = sy->synced && sy->orphan;
    out->system_peer = sy->peer;
    out->outcome = sy->outcome;
    out->stratum = sy->local ? sy->p.local_stratum : sy->ever_synced ? sy->stratum : 0;
    out->refid = sy->local ? ntp_wire_refid_ascii("LOCL") : sy->refid;
    /* What clients are told: see sync_publish. */
    out->leap = sy->local ? NTP_LEAP_NONE
                : sy->synced || sy->ever_synced
                    ? (sy->leap == NTP_LEAP_UNSYNC ? NTP_LEAP_NONE : sy->leap)
                    : NTP_LEAP_UNSYNC;
    out->offset = sy->offset;
    out->jitter = sy->jitter;
    out->root_delay = sy->root_delay;
    out->ref_time = sy->ref_time;
    out->update_interval = sy->update_interval;
    out->since_update = sy->ever_synced ? timefmt_timespec_diff(now, &sy->ref_time) : -1.0;
    out->root_dispersion = sy->root_disp + SOURCE_PHI * fmax(0.0, out->since_update);
    out->ntruechimers = sy->ntruechimers;
    out->peer_changes = sy->peer_changes;
    out->resets = sy->resets;
    out->leap_pending = sy->leap_pending;
    out->leap_source = sy->leap_source ? sy->leap_source : "";
    out->leaps = sy->nleaps;
    const struct leap_table *lists[2] = {sy->leaps, sy->leaps_tz};
    for (int i = 0; i < 2; i++) {
        time_t e = lists[i] ? leapfile_expiry(lists[i]) : LEAPFILE_NO_EXPIRY;
        if (e != LEAPFILE_NO_EXPIRY && (!out->leaplist_expiry || e < out->leaplist_expiry))
            out->leaplist_expiry = e;
    }
    if (sy->smear.s.leap) {
        int after = sy->tick_mono >= sy->smear.leap_mono;
        double utc = (double)now->tv_sec + (double)now->tv_nsec * 1e-9;
        utc -= after ? sy->smear.debt : 0.0;
        out->smear_offset = smear_offset(&sy->smear.s, utc, after) - (after ? sy->smear.debt : 0.0);
    }
    discipline_get_state(sy->disc, &out->disc);
}

void sync_get_source(const struct sync *sy, int index, const struct timespec *now,
                     struct sync_source_info *out)
{
    memset(out, 0, sizeof(*out));
    if (index < 0 || index >= sy->n || !sy->srcs[index].src)
        return;
    const struct sync_src *s = &sy->srcs[index];
    out->name = s->name;
    out->refid_of_source = s->refid;
    source_get_estimate(s->src, now, &out->est);
    out->status = s->status;
    out->distance = s->distance;
}
