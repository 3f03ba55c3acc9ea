/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_SELECT_H
#define TEMPUS_SELECT_H

#include <stddef.h>

/* Source selection for the upstream client (RFC 5905 section 11.2): the
 * intersection algorithm casts off falsetickers, clustering discards
 * outliers among the truechimers, combining averages the survivors and
 * names a system peer. No I/O, no clock, no allocation: one call over a
 * caller-supplied array of candidates fills a caller-supplied result. The
 * result depends only on the set of candidates, not on their order in the
 * array, as long as ids are unique. */

#define SELECT_MAX_SOURCES 72 /* MAXIMA_SOURCES + MAXIMA_REFCLOCKS (maxima.h) */
/* Defaults of struct select_params. MAXDIST is 1.5 s like RFC 5905's. */
#define SELECT_MAX_DISTANCE_DEFAULT 1.5
#define SELECT_MIN_SURVIVORS_DEFAULT 3
#define SELECT_MIN_SOURCES_DEFAULT 1
/* Floor of the path delay term in the root distance (RFC 5905 MINDISP), so
 * no correctness interval is narrower than +-5 ms. */
#define SELECT_MINDISP 0.01
/* The current system peer argument when there is none. */
#define SELECT_ID_NONE (-1)

/* One upstream source as the source module sees it now. Times in seconds. */
struct select_candidate {
    int id;                 /* caller's handle, >= 0, unique in the array */
    double offset;          /* source time - our time */
    double delay;           /* round trip to the source */
    double dispersion;      /* filter dispersion, grown up to now by the caller */
    double jitter;          /* filter jitter */
    double root_delay;      /* from the source's packets */
    double root_dispersion; /* from the source's packets */
    int stratum;            /* the source's stratum, 1..15 to be fit */
    int leap;               /* the source's leap indicator, NTP_LEAP_* */
    int prefer;             /* preferred among survivors */
    int noselect;           /* shown, never used */
    int reachable;          /* answered recently */
};

struct select_params {
    int min_sources;     /* truechimers needed to discipline the clock, >= 1 */
    int min_survivors;   /* clustering stops at this many survivors, >= 1 */
    double max_distance; /* root distance above this is too distant, > 0 */
};

/* What became of each candidate, from least to most useful. */
enum select_status {
    SELECT_UNREACHABLE, /* not reachable: takes no part */
    SELECT_NOSELECT,    /* configured noselect: takes no part */
    SELECT_LOOP,        /* (set by sync) synchronised to us: takes no part */
    SELECT_ORPHAN,      /* (set by sync) orphan mode: a peer at or above the
                         * local stratum, held back: takes no part */
    SELECT_UNSYNCED,    /* leap 3 or stratum outside 1..15: takes no part */
    SELECT_TOO_DISTANT, /* root distance above max_distance (or not finite) */
    SELECT_FALSETICKER, /* outside the majority clique */
    SELECT_TOO_FEW,     /* fit, but no usable agreement: no majority clique
                         * exists (every fit candidate), or the clique has
                         * fewer than min_sources members (its members;
                         * falsetickers stay SELECT_FALSETICKER) */
    SELECT_CANDIDATE,   /* truechimer discarded by clustering */
    SELECT_COMBINED,    /* survivor, used in the combined offset */
    SELECT_SELECTED,    /* the system peer (also used in the combination) */
    SELECT_NSTATUS
};

enum select_outcome {
    SELECT_RES_OK,            /* system peer chosen: the clock may be disciplined */
    SELECT_RES_NO_CANDIDATES, /* no fit candidate at all */
    SELECT_RES_NO_MAJORITY,   /* fit candidates but no majority clique */
    SELECT_RES_TOO_FEW,       /* a clique, but fewer than min_sources truechimers */
    SELECT_RES_BADARG,        /* n > SELECT_MAX_SOURCES or bad params: nothing done */
};

/* Everything one selection round produced. Per-candidate arrays are
 * indexed like the input array. Unless outcome is SELECT_RES_OK, system_peer
 * is -1, offset, jitter and peer_distance are 0 and leap is NTP_LEAP_UNSYNC. */
struct select_result {
    enum select_outcome outcome;
    enum select_status status[SELECT_MAX_SOURCES];
    double distance[SELECT_MAX_SOURCES]; /* root distance of each candidate */
    int system_peer;                     /* index into the candidates, -1 if none */
    int system_peer_id;                  /* its id, SELECT_ID_NONE if none */
    double offset;                       /* combined offset, s (weights 1/root distance) */
    double jitter;                       /* combined jitter, s (survivors spread + peer jitter) */
    double peer_distance;                /* root distance of the system peer, s */
    int leap;                            /* leap announced by a strict majority of survivors */
    int ntruechimers;                    /* members of the majority clique (0 if none) */
    int nsurvivors;                      /* survivors of clustering (0 unless OK) */
    double low, high;                    /* intersection interval (0, 0 if no clique) */
};

/* Fill p with the defaults above. */
void select_params_default(struct select_params *p);
/* Root distance of c (RFC 5905 root_dist without the age term, which the
 * caller has folded into c->dispersion): max(MINDISP, root_delay + delay)/2
 * + root_dispersion + dispersion + jitter. */
double select_root_distance(const struct select_candidate *c);
/* Run selection, clustering and combining over the n candidates in cand;
 * current_id is the id of the present system peer (SELECT_ID_NONE if none),
 * kept while it survives unless a prefer source survives. Fills *res (which
 * the caller owns) and returns res->outcome. */
enum select_outcome select_run(const struct select_candidate *cand, size_t n,
                               const struct select_params *params, int current_id,
                               struct select_result *res);
/* Short lowercase name of a status for logs and tempusctl ("falseticker");
 * "?" for values out of range. */
const char *select_status_name(enum select_status st);
/* Same for an outcome ("no majority"). */
const char *select_outcome_name(enum select_outcome oc);

#endif
