/* SPDX-License-Identifier: ISC */
#include "source.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "ntp_wire.h"
#include "timefmt.h"

/* Precision we assume for reading our own clock, log2 s (about 1 us). It is
 * the floor for delay and jitter and part of every sample's dispersion. */
#define LOCAL_PRECISION (-20)
/* RFC 5905 MAXDISP: dispersion of an empty filter, and the root distance at
 * or beyond which a server's numbers are useless. */
#define MAXDISP 16.0
#define STRATUM_MAX 15

/* Burst (iburst): requests this far apart, ending after BURST_GOOD samples
 * or BURST_SENT requests, whichever comes first. */
#define BURST_SPACING 2.0
#define BURST_SENT 10
#define BURST_GOOD 8

/* Backing off from a server that stopped answering, and the spread of the
 * poll interval. The interval itself follows the system's hint
 * (source_poll_hint). */
#define UNREACH_POLLS 4
#define POLL_SPREAD 0.05

/* Popcorn spike suppressor, see is_spike(). */
#define SPIKE_GATE 3.0
#define SPIKE_MIN_SAMPLES 4

/* Sanity bounds on a reply's timestamps. The server's transmit time may
 * precede its receive time by this much (servers that stamp reception in
 * hardware and transmission in software read two clocks that can disagree
 * slightly); a negative delay is allowed up to this plus what a 500 ppm
 * frequency error makes of our own interval. */
#define TURNAROUND_SLACK 1e-3
#define MAX_FREQ_ERROR 500e-6

struct sample {
    double offset, delay, disp; /* disp as measured, grown on use */
    struct timespec t;          /* arrival (t4) on our clock */
    int valid;
};

struct source {
    struct source_params p;
    uint64_t rng[4];

    /* the one outstanding request */
    uint64_t xmt;       /* random transmit timestamp we sent, 0 if none */
    struct timespec t1; /* when we sent it */
    int t1_stale;       /* our clock jumped by an unknown amount since */
    int answered;       /* the latest request got a genuine answer */

    /* poll process */
    int poll, poll_floor; /* floor: minpoll, raised by RATE kisses */
    int rate_limited, denied, backed_off;
    int bursting, burst_sent, burst_good;
    unsigned unanswered;
    uint8_t reach;

    /* clock filter: filt[0] newest */
    struct sample filt[SOURCE_FILTER_LEN];
    int pick; /* index of the sample handed out, -1 if none */
    double jitter;
    double last_offset; /* last accepted sample, for the spike gate */
    int have_last, spike_held;

    /* from the latest genuine reply */
    int stratum, leap;
    uint32_t refid;
    double root_delay, root_disp;

    uint64_t sent, received, bogus, kods, auth_failed;

    int have_key;
    struct auth_key key;
};

/* xoshiro256** seeded through splitmix64 (both public-domain designs by
 * Vigna). Not a CSPRNG: the daemon seeds each source from getrandom(), and
 * an off-path attacker never sees an output to start from. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct source *src)
{
    uint64_t *s = src->rng;
    uint64_t r = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* Uniform in [-1, 1). */
static double rng_signed_unit(struct source *src)
{
    return (double)(rng_next(src) >> 11) * 0x1p-52 - 1.0;
}

static int clamp_int(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void set_poll(struct source *src, int poll)
{
    int old = src->poll;
    src->poll = clamp_int(poll, src->poll_floor, src->p.maxpoll);
    if (src->poll != old)
        log_debug("source: poll %d -> %d", old, src->poll);
}

static void start_burst(struct source *src)
{
    src->poll = src->poll_floor;
    /* Never burst at a server that has told us to slow down. */
    src->bursting = src->p.iburst && !src->rate_limited;
    src->burst_sent = 0;
    src->burst_good = 0;
}

static void end_burst(struct source *src)
{
    src->bursting = 0;
}

static void flush_filter(struct source *src)
{
    memset(src->filt, 0, sizeof(src->filt));
    src->pick = -1;
    src->jitter = 0.0;
    src->have_last = 0;
    src->spike_held = 0;
}

struct source *source_create(const struct source_params *params, uint64_t seed)
{
    struct source *src = mem_zalloc(sizeof(*src));

    src->p = *params;
    src->p.minpoll = clamp_int(params->minpoll, SOURCE_POLL_MIN, SOURCE_POLL_MAX);
    src->p.maxpoll = clamp_int(params->maxpoll, src->p.minpoll, SOURCE_POLL_MAX);
    for (int i = 0; i < 4; i++)
        src->rng[i] = splitmix64(&seed);
    src->poll_floor = src->p.minpoll;
    src->pick = -1;
    src->answered = 1; /* no earlier request to count as lost */
    src->stratum = STRATUM_MAX + 1;
    src->leap = NTP_LEAP_UNSYNC;
    start_burst(src);
    return src;
}

void source_destroy(struct source *src)
{
    if (!src)
        return;
    auth_key_clear(&src->key);
    free(src);
}

void source_set_key(struct source *src, const struct auth_key *key)
{
    auth_key_clear(&src->key);
    src->have_key = key != NULL;
    if (key)
        src->key = *key;
}

const struct source_params *source_params(const struct source *src)
{
    return &src->p;
}

static int ts_later(const struct timespec *a, const struct timespec *b)
{
    return timefmt_timespec_diff(a, b) > 0.0;
}

/* RFC 5905 section 10: the lowest-delay sample in the register is the
 * candidate (ties go to the newest). It replaces the current pick only if
 * it is newer than the pick, so that no sample is handed out twice and the
 * estimate never moves back in time; once the pick is shifted out, the best
 * of the rest takes over whatever its age.
 * The jitter is the RMS of the other samples' offsets around the pick, at
 * least the precision. Unlike RFC 5905 it is recomputed at every shift, not
 * only when the pick changes, so that it describes what the register holds
 * now (a pick kept for its low delay would otherwise freeze it). */
static void filter_update(struct source *src)
{
    int best = -1, n = 0;
    double sum = 0.0, floor_s = ldexp(1.0, LOCAL_PRECISION);

    for (int i = 0; i < SOURCE_FILTER_LEN; i++)
        if (src->filt[i].valid && (best < 0 || src->filt[i].delay < src->filt[best].delay))
            best = i;
    if (best < 0) {
        src->pick = -1;
        src->jitter = 0.0;
        return;
    }
    if (src->pick < 0 || ts_later(&src->filt[best].t, &src->filt[src->pick].t))
        src->pick = best;
    double pick_offset = src->filt[src->pick].offset;
    for (int i = 0; i < SOURCE_FILTER_LEN; i++) {
        if (!src->filt[i].valid)
            continue;
        /* the pick itself adds 0 and is not counted */
        double d = src->filt[i].offset - pick_offset;
        sum += d * d;
        n++;
    }
    src->jitter = n > 1 ? fmax(sqrt(sum / (n - 1)), floor_s) : floor_s;
}

/* Shift a sample (or, with s == NULL, an empty stage that pushes stale data
 * out) into the register and re-run the filter. */
static void filter_shift(struct source *src, const struct sample *s)
{
    memmove(&src->filt[1], &src->filt[0], sizeof(src->filt[0]) * (SOURCE_FILTER_LEN - 1));
    if (src->pick >= 0 && ++src->pick >= SOURCE_FILTER_LEN)
        src->pick = -1;
    if (s)
        src->filt[0] = *s;
    else
        memset(&src->filt[0], 0, sizeof(src->filt[0]));
    filter_update(src);
}

static int filter_count(const struct source *src)
{
    int n = 0;
    for (int i = 0; i < SOURCE_FILTER_LEN; i++)
        n += src->filt[i].valid;
    return n;
}

/* Bookkeeping as a new poll starts: account for the previous request,
 * age the filter, shift the reachability register, advance the burst and
 * back off from a server that stopped answering. */
static void start_poll(struct source *src)
{
    if (!src->answered)
        src->unanswered++;
    src->answered = 0;
    /* RFC 5905 section 10: three polls without an answer push an empty
     * stage in, so that eight such polls empty the filter. */
    if ((src->reach & 7u) == 0 && filter_count(src) > 0)
        filter_shift(src, NULL);
    src->reach = (uint8_t)(src->reach << 1);
    if (src->bursting) {
        if (++src->burst_sent >= BURST_SENT)
            end_burst(src);
    } else if (src->unanswered >= UNREACH_POLLS) {
        set_poll(src, src->poll + 1);
        src->backed_off = 1;
    }
}

size_t source_make_request(struct source *src, const struct timespec *t1, uint8_t *buf, size_t cap)
{
    size_t need = NTP_HEADER_LEN;
    if (src->have_key)
        need += AUTH_KEYID_LEN + auth_digest_len(src->key.type);
    if (cap < need || src->denied)
        return 0;
    start_poll(src);

    /* Data minimisation: nothing about us but version, mode and poll. The
     * transmit timestamp is random, not our time: the server echoes it as
     * the origin, and an off-path attacker cannot guess it. */
    uint64_t tx;
    do
        tx = rng_next(src);
    while (tx == 0);
    struct ntp_header h = {
        .version = 4, .mode = NTP_MODE_CLIENT, .poll = (int8_t)src->poll, .tx_ts = tx};
    size_t n = ntp_wire_encode_header(&h, buf, cap);
    if (src->have_key && (n = auth_sign(&src->key, buf, n, cap)) == 0)
        return 0;
    src->xmt = tx;
    src->t1 = *t1;
    src->t1_stale = 0;
    src->sent++;
    return n;
}

/* A datagram answers our outstanding request: well formed, a server reply,
 * and echoing the random transmit timestamp we have not seen answered yet. */
static int reply_is_ours(const struct source *src, const uint8_t *buf, size_t len,
                         struct ntp_packet_info *info)
{
    if (ntp_wire_parse(buf, len, info) < 0)
        return 0;
    if (info->hdr.mode != NTP_MODE_SERVER || info->hdr.version < 1 || info->hdr.version > 4)
        return 0;
    return src->xmt != 0 && info->hdr.org_ts == src->xmt;
}

static void note_answer(struct source *src)
{
    src->reach |= 1u;
    src->answered = 1;
    src->unanswered = 0;
}

/* RFC 5905 7.4: poll less often, more so at every further RATE kiss. The
 * interval at least doubles from whatever it was (a backed-off poll is not
 * undone), never below the new floor again, within maxpoll. */
static enum source_reply kod_rate(struct source *src)
{
    note_answer(src);
    src->kods++;
    src->rate_limited = 1;
    src->backed_off = 0;
    end_burst(src);
    int poll = (src->poll > src->poll_floor ? src->poll : src->poll_floor) + 1;
    src->poll_floor = clamp_int(poll, src->p.minpoll, src->p.maxpoll);
    src->poll = src->poll_floor;
    log_debug("source: RATE kiss, poll now %d", src->poll);
    return SOURCE_KOD_RATE;
}

/* RFC 5905 7.4: stop sending. The samples we hold will never be refreshed,
 * so they go too and selection no longer sees the source. */
static enum source_reply kod_deny(struct source *src)
{
    src->kods++;
    src->denied = 1;
    src->xmt = 0;
    end_burst(src);
    flush_filter(src);
    log_debug("source: DENY/RSTR kiss, polling stopped");
    return SOURCE_KOD_DENY;
}

static void copy_packet_vars(struct source *src, const struct ntp_header *h)
{
    src->stratum = h->stratum;
    src->leap = h->leap;
    src->refid = h->refid;
    src->root_delay = timefmt_short_to_double(h->root_delay);
    src->root_disp = timefmt_short_to_double(h->root_dispersion);
}

/* Offset, delay and dispersion from the four timestamps (RFC 5905 section
 * 8). First-order differences are taken on NTP timestamps modulo 2^32 s, so
 * they are right across an era boundary; our own interval T4 - T1 comes
 * from the timespecs directly. Returns -1 if the numbers are absurd. */
static int make_sample(const struct source *src, const struct ntp_header *h,
                       const struct timespec *t4, struct sample *s)
{
    if (h->rx_ts == 0 || h->tx_ts == 0)
        return -1;
    double d21 = timefmt_ts_diff(h->rx_ts, timefmt_ts_from_timespec(&src->t1));
    double d34 = timefmt_ts_diff(h->tx_ts, timefmt_ts_from_timespec(t4));
    double d32 = timefmt_ts_diff(h->tx_ts, h->rx_ts);
    double d41 = timefmt_timespec_diff(t4, &src->t1);

    if (!(d41 >= 0.0) || d32 < -TURNAROUND_SLACK)
        return -1;
    double delay = d41 - d32;
    if (delay < -(TURNAROUND_SLACK + MAX_FREQ_ERROR * d41))
        return -1;
    /* A small negative delay comes from frequency error over the interval;
     * RFC 5905 section 8 clamps it to the precision. */
    double floor_s = ldexp(1.0, LOCAL_PRECISION);
    s->offset = (d21 + d34) / 2.0;
    s->delay = delay > floor_s ? delay : floor_s;
    s->disp = ldexp(1.0, h->precision) + floor_s + SOURCE_PHI * d41;
    s->t = *t4;
    s->valid = 1;
    return isfinite(s->offset) ? 0 : -1;
}

/* Popcorn spike: a sample whose offset jumps from the last accepted one by
 * more than SPIKE_GATE times the jitter is held back once. A lone glitch is
 * thereby dropped; a real change (ours or the server's) shows up again in
 * the next sample, which is never held, so it costs one poll at most. Only
 * applied once the filter holds enough samples for the jitter to mean
 * something, and not during a burst, whose job is to fill the filter. */
static int is_spike(const struct source *src, const struct sample *s)
{
    if (src->bursting || src->spike_held || !src->have_last ||
        filter_count(src) < SPIKE_MIN_SAMPLES)
        return 0;
    double j = fmax(src->jitter, ldexp(1.0, LOCAL_PRECISION));
    return fabs(s->offset - src->last_offset) > SPIKE_GATE * j;
}

void source_poll_hint(struct source *src, int dir)
{
    if (src->bursting || src->backed_off || dir == 0)
        return;
    set_poll(src, src->poll + (dir > 0 ? 1 : -1));
}

static enum source_reply accept_sample(struct source *src, const struct sample *s)
{
    if (is_spike(src, s)) {
        src->spike_held = 1;
        log_debug("source: spike of %+.6f s held back", s->offset - src->last_offset);
        return SOURCE_UNSYNCED;
    }
    src->spike_held = 0;

    filter_shift(src, s);
    if (src->bursting && ++src->burst_good >= BURST_GOOD)
        end_burst(src);
    src->last_offset = s->offset;
    src->have_last = 1;
    return SOURCE_SAMPLE;
}

enum source_reply source_process_reply(struct source *src, const uint8_t *buf, size_t len,
                                       const struct timespec *t4)
{
    struct ntp_packet_info info;

    if (!reply_is_ours(src, buf, len, &info)) {
        src->bogus++;
        return SOURCE_BOGUS;
    }
    /* With a key, nothing unauthenticated counts: not a kiss, not even as
     * the answer, so a forgery from the path cannot use up the request
     * that the genuine reply will answer. A crypto-NAK is unauthenticated. */
    if (src->have_key && !auth_verify(&src->key, buf, info.mac_off, info.mac_len)) {
        src->bogus++;
        src->auth_failed++;
        return SOURCE_BOGUS;
    }
    /* One answer per request: a duplicate or replay of this reply is bogus
     * from now on (RFC 5905 section 8). */
    src->xmt = 0;
    src->received++;

    /* Kiss codes are believed only now that the origin matched, so an
     * off-path attacker cannot make us stop or slow down. */
    const struct ntp_header *h = &info.hdr;
    if (h->stratum == 0 && h->refid == ntp_wire_refid_ascii("RATE"))
        return kod_rate(src);
    if (h->stratum == 0 &&
        (h->refid == ntp_wire_refid_ascii("DENY") || h->refid == ntp_wire_refid_ascii("RSTR")))
        return kod_deny(src);

    note_answer(src);
    if (src->backed_off) {
        src->backed_off = 0;
        src->poll = src->poll_floor;
    }
    /* A server whose stratum changed follows another reference now (an
     * upstream came or went, or it fell back to its local clock), and its
     * clock may have been stepped on the way: samples from before are on
     * another timescale and must not be picked or fed against new ones. */
    if (h->stratum != src->stratum && src->pick >= 0) {
        log_debug("source: stratum %d -> %d, filter emptied", src->stratum, h->stratum);
        flush_filter(src);
    }
    copy_packet_vars(src, h);
    if (h->stratum == 0 || h->stratum > STRATUM_MAX || h->leap == NTP_LEAP_UNSYNC ||
        src->root_delay / 2.0 + src->root_disp >= MAXDISP)
        return SOURCE_UNSYNCED;

    struct sample s;
    if (src->t1_stale || make_sample(src, h, t4, &s) < 0)
        return SOURCE_UNSYNCED;
    return accept_sample(src, &s);
}

void source_ref_poll(struct source *src)
{
    start_poll(src);
    src->sent++;
}

enum source_reply source_ref_sample(struct source *src, const struct source_ref_sample *rs)
{
    src->received++;
    note_answer(src);
    if (rs->stratum != src->stratum && src->pick >= 0)
        flush_filter(src);
    src->stratum = rs->stratum;
    src->leap = rs->leap;
    src->refid = rs->refid;
    src->root_delay = 0.0;
    src->root_disp = 0.0;
    if (rs->leap == NTP_LEAP_UNSYNC || !isfinite(rs->offset) || !(rs->delay > 0.0) ||
        !(rs->dispersion >= 0.0))
        return SOURCE_UNSYNCED;
    struct sample s = {.offset = rs->offset, .delay = rs->delay,
                       .disp = rs->dispersion + ldexp(1.0, LOCAL_PRECISION), .t = rs->t,
                       .valid = 1};
    return accept_sample(src, &s);
}

double source_poll_delay(struct source *src)
{
    double interval = ldexp(1.0, src->poll);

    if (src->bursting)
        return interval < BURST_SPACING ? interval : BURST_SPACING;
    /* Spread so that clients started together do not stay in step. */
    return interval * (1.0 + POLL_SPREAD * rng_signed_unit(src));
}

void source_get_estimate(const struct source *src, const struct timespec *now,
                         struct source_estimate *out)
{
    memset(out, 0, sizeof(*out));
    out->valid = src->pick >= 0;
    if (src->pick >= 0) {
        const struct sample *p = &src->filt[src->pick];
        double age = fmax(0.0, timefmt_timespec_diff(now, &p->t));
        out->offset = p->offset;
        out->delay = p->delay;
        out->dispersion = p->disp + SOURCE_PHI * age;
        out->jitter = src->jitter;
        out->age = age;
    } else {
        out->dispersion = MAXDISP;
        out->age = -1.0;
    }
    out->root_delay = src->root_delay;
    out->root_dispersion = src->root_disp;
    out->stratum = src->stratum;
    out->leap = src->leap;
    out->refid = src->refid;
    out->reach = src->reach;
    out->reachable = (src->reach & SOURCE_REACH_MASK) != 0;
    out->poll = src->poll;
    out->denied = src->denied;
    out->nsamples = filter_count(src);
    out->sent = src->sent;
    out->received = src->received;
    out->bogus = src->bogus;
    out->kods = src->kods;
    out->auth_failed = src->auth_failed;
}

int source_get_samples(const struct source *src, const struct timespec *now,
                       struct source_sample_view *out, int max)
{
    int n = 0;

    for (int i = 0; i < SOURCE_FILTER_LEN && n < max; i++) {
        const struct sample *s = &src->filt[i];
        if (!s->valid)
            continue;
        double age = fmax(0.0, timefmt_timespec_diff(now, &s->t));
        out[n].age = age;
        out[n].offset = s->offset;
        out[n].delay = s->delay;
        out[n].dispersion = s->disp + SOURCE_PHI * age;
        n++;
    }
    return n;
}

void source_clock_stepped(struct source *src, double step)
{
    flush_filter(src);
    /* The outstanding request's send time moves with the clock, so its
     * answer still measures correctly on the new timescale. */
    if (src->xmt != 0)
        timefmt_timespec_add(&src->t1, step);
    if (!src->denied)
        start_burst(src);
}

void source_clock_leapt(struct source *src, double step, int stepped)
{
    for (int i = 0; i < SOURCE_FILTER_LEN; i++) {
        if (!src->filt[i].valid)
            continue;
        if (stepped)
            timefmt_timespec_add(&src->filt[i].t, step);
        else
            src->filt[i].offset += step;
    }
    if (!stepped)
        src->last_offset += step;
    else if (src->xmt != 0)
        timefmt_timespec_add(&src->t1, step);
}

void source_reset(struct source *src)
{
    flush_filter(src);
    /* By how much the clock moved is unknown: an answer to the request in
     * flight still shows the server is there but gives no sample. */
    if (src->xmt != 0)
        src->t1_stale = 1;
    if (!src->denied)
        start_burst(src);
}
