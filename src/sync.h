/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_SYNC_H
#define TEMPUS_SYNC_H

#include <stdint.h>
#include <time.h>

#include "clock.h"
#include "discipline.h"
#include "select.h"
#include "server.h"
#include "source.h"

/* The system's view of time: after each new sample it runs selection over
 * every source, feeds the discipline, and sets what the server advertises
 * (stratum, refid, root delay/dispersion, leap). Between samples it lets
 * root dispersion grow (holdover) and falls back to the local reference
 * after the configured delay. Detects clock jumps by comparing the clock
 * with the monotonic clock. No I/O: upstream.c (the daemon) and the
 * simulator drive it the same way. */

#define SYNC_MAX_SOURCES SELECT_MAX_SOURCES

/* What the local clock does at a leap second: the kernel inserts or
 * deletes it (falling back to a step where the clock cannot, or where the
 * kernel did not), the daemon steps the clock, slews the second out, or
 * leaves it to the discipline. */
enum sync_leapmode { SYNC_LEAP_SYSTEM, SYNC_LEAP_STEP, SYNC_LEAP_SLEW, SYNC_LEAP_IGNORE };

struct leap_table;

struct sync_params {
    struct select_params select;
    struct discipline_params disc;
    int local_stratum;   /* 0: no local fallback */
    double local_delay;  /* seconds without a selectable source before the
                          * local reference takes over (0: at once) */
    int local_orphan;    /* orphan mode: sources at local_stratum or above
                          * are peers serving their own clocks (or following
                          * one); only one at local_stratum with a smaller
                          * id than ours is followed, and only when nothing
                          * else is selectable */
    double jump_threshold; /* clock-vs-monotonic disagreement that counts as
                            * a jump, s */
    enum sync_leapmode leapmode;
    double smear_window;  /* leapsmear: served smear window, s (0: none) */
};

/* A source as the system sees it, for tracking and sources output. */
struct sync_source_info {
    const char *name;
    uint32_t refid_of_source; /* what a downstream sees as our refid */
    struct source_estimate est;
    enum select_status status;
    double distance;
};

/* Everything `tempusctl tracking` shows. */
struct sync_state {
    int synced;               /* a system peer is selected and disciplining */
    int local;                /* serving the local reference */
    int orphan;               /* synced, but to an orphan peer: no upstream */
    int system_peer;          /* index, -1 if none */
    enum select_outcome outcome;
    int stratum;
    uint32_t refid;
    int leap;
    double offset;            /* last combined offset, s */
    double jitter;
    double root_delay, root_dispersion;
    struct timespec ref_time; /* last update */
    double since_update;      /* seconds */
    double update_interval;   /* s between the last two updates of ref_time, 0 before */
    int ntruechimers;
    unsigned peer_changes;    /* times the system peer changed to another source */
    unsigned resets;          /* steps and detected jumps: sources start afresh */
    int leap_pending;         /* +1/-1: a leap second ends this UTC day */
    const char *leap_source;  /* "upstream" (the sources' vote), "leapfile",
                               * "leapsectz", "refclock" or "" */
    double smear_offset;      /* leapsmear: served time - our clock now, s */
    time_t leaplist_expiry;   /* the earliest expiry of the leap file and the
                               * leapsectz zone (Unix time); 0: none loaded,
                               * or none that expires */
    unsigned leaps;           /* leap seconds the clock went through */
    struct discipline_state disc;
};

struct sync;

/* New system state disciplining clk and advertising through srv (either may
 * be shared with others; sync owns neither). Never NULL. */
struct sync *sync_create(const struct sync_params *params, struct clock *clk,
                         struct server *srv, double initial_freq_ppm);
void sync_destroy(struct sync *sy);
void sync_params_default(struct sync_params *p);
/* Take new parameters (reload) without losing sources or clock state. */
void sync_set_params(struct sync *sy, const struct sync_params *params);
/* Register a source under name; refid is what we advertise when it is our
 * system peer (its IPv4 address, or a hash of the IPv6 one). Returns its
 * index, or -1 if the table is full. sync does not own src. */
int sync_add_source(struct sync *sy, struct source *src, const char *name, uint32_t refid);
/* Our own reference id as the source at index sees us (the address we
 * send it requests from; 0: unknown). A source that advertises it as its
 * refid is synchronised to us, a loop, and is never followed; in orphan
 * mode it is what a peer's id is compared with. */
void sync_set_source_own_id(struct sync *sy, int index, uint32_t own_id);
/* Remove a source (it is no longer polled); indexes of others stay. */
void sync_remove_source(struct sync *sy, int index);
/* A source produced a new sample: select, discipline, update the server.
 * now is our clock, mono_ns the monotonic clock. */
void sync_update(struct sync *sy, const struct timespec *now, int64_t mono_ns);
/* Called about once a second: holdover dispersion growth, local fallback,
 * jump detection. */
void sync_tick(struct sync *sy, const struct timespec *now, int64_t mono_ns);
/* Current state and per-source view. */
void sync_get_state(const struct sync *sy, const struct timespec *now, struct sync_state *out);
int sync_source_count(const struct sync *sy);
void sync_get_source(const struct sync *sy, int index, const struct timespec *now,
                     struct sync_source_info *out);
/* The source at index, or NULL for a free slot. */
struct source *sync_source(const struct sync *sy, int index);
/* The leap second list to consult besides the sources' vote (not owned,
 * kept until replaced; NULL: none). */
void sync_set_leaps(struct sync *sy, const struct leap_table *t);
/* The same for the tz database's leap records (leapsectz), consulted
 * after the leap file. */
void sync_set_leaps_tz(struct sync *sy, const struct leap_table *t);
/* The discipline, for the drift file. */
struct discipline *sync_discipline(struct sync *sy);

#endif
