/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_SOURCE_H
#define TEMPUS_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth.h"

/* One upstream NTP server as we poll it: request construction with a random
 * transmit timestamp (the origin check defeats off-path spoofing), reply
 * validation, the reachability register, an adaptive poll interval, the
 * clock filter over recent samples, and kiss-o'-death handling. No I/O: the
 * caller sends the bytes and hands back what arrives, with times read from
 * the disciplined clock. All times are that clock's unless said otherwise. */

#define SOURCE_FILTER_LEN 8
#define SOURCE_MINPOLL_DEFAULT 6
#define SOURCE_MAXPOLL_DEFAULT 8
#define SOURCE_POLL_MIN (-4) /* fastest allowed (1/16 s), for tests */
#define SOURCE_POLL_MAX 17
/* RFC 5905 PHI: dispersion grows 15 ppm of the sample's age. */
#define SOURCE_PHI 15e-6

struct source_params {
    int minpoll; /* log2 s */
    int maxpoll; /* log2 s, >= minpoll */
    int iburst;  /* first polls in a quick burst to sync fast */
    int prefer;
    int noselect;
    int refclock; /* fed by source_ref_sample, never polled over the network;
                   * minpoll = maxpoll, and its stratum 0 is selectable */
};

/* A reference clock's reading, made into one filter sample by refclock.c. */
struct source_ref_sample {
    double offset;     /* reference - us, s */
    double delay;      /* s, from the refclock's `delay` */
    double dispersion; /* s: precision and the spread of the readings */
    struct timespec t; /* when it was measured, our clock */
    int stratum;       /* the refclock's (0 by default) */
    int leap;          /* NTP_LEAP_*; NTP_LEAP_UNSYNC gives no sample */
    uint32_t refid;    /* what the refclock calls itself */
};

enum source_reply {
    SOURCE_SAMPLE,     /* valid reply, a sample went into the filter */
    SOURCE_BOGUS,      /* ignored: not an answer to our outstanding request
                        * (origin mismatch, duplicate, wrong mode/length),
                        * or, with a key, without a valid MAC by that key */
    SOURCE_UNSYNCED,   /* genuine answer but the server is unsynchronised
                        * (leap 3 / stratum 0 without a kiss code, stratum
                        * > 15) or its numbers are absurd: no sample.
                        * Also a sample held back as a popcorn spike, and
                        * the answer to a request sent before a reset */
    SOURCE_KOD_RATE,   /* RATE kiss: poll interval increased */
    SOURCE_KOD_DENY,   /* DENY or RSTR kiss: the source is disabled */
};

/* The one definition of reachable: a source that answered at least one of
 * its last SOURCE_REACH_POLLS polls (the one in flight included). Source
 * selection, tempusctl sources and check, the metrics and the alert rules
 * all go by source_estimate.reachable. Three polls: a dead system peer is
 * replaced, and shown as unreachable, within three polls. */
#define SOURCE_REACH_POLLS 3
#define SOURCE_REACH_MASK ((1u << SOURCE_REACH_POLLS) - 1u)

/* What selection, the sync logic and operators see of a source. */
struct source_estimate {
    int valid;        /* at least one sample in the filter */
    double offset;    /* source - us, s (filter's pick) */
    double delay;     /* round trip, s */
    double dispersion; /* of the picked sample, grown to now */
    double jitter;    /* RMS offset differences in the filter, s */
    double root_delay;      /* the source's, s */
    double root_dispersion; /* the source's, s */
    int stratum;
    int leap;
    uint32_t refid;
    uint8_t reach;    /* reachability register, newest poll in bit 0 */
    int reachable;    /* (reach & SOURCE_REACH_MASK) != 0 */
    int poll;         /* current poll exponent */
    int denied;       /* stopped by a DENY/RSTR kiss */
    double age;       /* seconds since the picked sample, -1 if none */
    int nsamples;     /* samples in the filter */
    uint64_t sent, received, bogus, kods; /* counters */
    uint64_t auth_failed; /* of bogus: answers without a valid MAC by our key */
};

/* One sample in the clock filter, for operators (sourcestats). */
struct source_sample_view {
    double age;        /* seconds since it arrived */
    double offset;     /* source - us, s */
    double delay;      /* round trip, s */
    double dispersion; /* grown to now */
};

struct source;

/* New source; seed feeds the random transmit timestamps and poll jitter
 * (the daemon passes random bits, tests a fixed value). Never NULL. */
struct source *source_create(const struct source_params *params, uint64_t seed);
void source_destroy(struct source *src);
const struct source_params *source_params(const struct source *src);
/* Authenticate with key from now on (copied; NULL: no authentication).
 * With a key every request is NTPv4 and carries its MAC (the digest cut to
 * 20 bytes, RFC 7822), and only replies with a valid MAC by the same key
 * are believed, kiss codes included; a reply's MAC may be truncated or,
 * in an NTPv3 reply, hold the whole digest. */
void source_set_key(struct source *src, const struct auth_key *key);

/* Build the next client request into buf for sending at t1 (our clock,
 * read just before sending). Shifts the reachability register as a new
 * poll starts. Returns the request length (48, or 48 + the MAC with a key:
 * at most NTP_HEADER_LEN + NTP_MAC_MAX_LEN_V4), 0 if cap is too small, the
 * source is denied or the MAC cannot be computed. */
size_t source_make_request(struct source *src, const struct timespec *t1, uint8_t *buf,
                           size_t cap);
/* Process a datagram from the source received at t4 (our clock, from the
 * kernel timestamp). */
enum source_reply source_process_reply(struct source *src, const uint8_t *buf, size_t len,
                                       const struct timespec *t4);
/* A refclock's poll interval starts: ages the filter and shifts the
 * reachability register as a network poll does (counted as sent). */
void source_ref_poll(struct source *src);
/* A refclock's sample for the current poll: marks it reachable and puts the
 * sample through the spike gate into the filter. SOURCE_SAMPLE if it went
 * in, SOURCE_UNSYNCED if held back or the clock says it is unsynchronised. */
enum source_reply source_ref_sample(struct source *src, const struct source_ref_sample *s);
/* The system's word on the poll interval: dir > 0 one step longer, < 0
 * one step shorter, within [minpoll (or the RATE floor), maxpoll]; ignored
 * while bursting or backing off from silence. */
void source_poll_hint(struct source *src, int dir);
/* Seconds from the last request until the next one is due: the burst
 * spacing while bursting, else 2^poll with a little random spread. */
double source_poll_delay(struct source *src);
/* The current estimate, dispersion grown to now. */
void source_get_estimate(const struct source *src, const struct timespec *now,
                         struct source_estimate *out);
/* Copy up to max filter samples into out, newest first; returns how many. */
int source_get_samples(const struct source *src, const struct timespec *now,
                       struct source_sample_view *out, int max);
/* The clock was stepped by step seconds: stored sample times and offsets
 * no longer hold; flush the filter and burst again if iburst. */
void source_clock_stepped(struct source *src, double step);
/* UTC had a leap second of step seconds. stepped: our clock moved with
 * the sources' (samples keep their offsets; their times and the
 * outstanding request's send time move with the clock); otherwise our
 * clock stays and every sample's offset moves by step instead. */
void source_clock_leapt(struct source *src, double step, int stepped);
/* The clock may have jumped (suspend/resume): flush and re-burst. */
void source_reset(struct source *src);

#endif
