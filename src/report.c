/* SPDX-License-Identifier: ISC */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "ntp_wire.h"
#include "sort.h"

const char *report_refid(uint32_t refid, int ascii, char *buf, size_t size)
{
    unsigned char b[4] = {refid >> 24, refid >> 16 & 0xff, refid >> 8 & 0xff, refid & 0xff};
    if (!ascii) {
        snprintf(buf, size, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
        return buf;
    }
    size_t n = 0;
    for (int i = 0; i < 4 && n + 1 < size; i++)
        if (b[i] >= 0x20 && b[i] < 0x7f)
            buf[n++] = (char)b[i];
    buf[n] = '\0';
    return buf;
}

static void report_tracking_peer(struct ctl_buf *b, const struct sync *sy,
                                 const struct sync_state *st, const struct timespec *now)
{
    struct sync_source_info si;
    char rb[16];

    if (st->system_peer >= 0) {
        sync_get_source(sy, st->system_peer, now, &si);
        ctl_rec_str(b, "ref_name", si.name ? si.name : "");
    } else {
        ctl_rec_str(b, "ref_name", st->local ? "local" : "");
    }
    ctl_rec_int(b, "refid", st->refid);
    ctl_rec_str(b, "refid_str", report_refid(st->refid, st->local || st->stratum <= 1, rb,
                                             sizeof(rb)));
}

/* Where the time served comes from: an upstream source; an orphan peer
 * (no upstream reaches the group); the local reference; holdover (synced
 * once, no source now, the clock runs on its last frequency, still served
 * as synchronised); none (clients are told leap 3). */
static const char *report_reference(const struct sync_state *st)
{
    if (st->synced)
        return st->orphan ? "orphan" : "upstream";
    if (st->local)
        return "local";
    return st->since_update >= 0 ? "holdover" : "none";
}

void report_tracking(struct ctl_buf *b, const struct sync *sy, struct clock *clk,
                     const struct timespec *now)
{
    struct sync_state st;

    sync_get_state(sy, now, &st);
    const char *ref = report_reference(&st);
    ctl_rec_begin(b, "tracking");
    ctl_rec_int(b, "synced", st.synced);
    ctl_rec_int(b, "local", st.local);
    ctl_rec_str(b, "timesource", ref);
    ctl_rec_int(b, "orphan", strcmp(ref, "orphan") == 0);
    ctl_rec_int(b, "holdover", strcmp(ref, "holdover") == 0);
    ctl_rec_str(b, "outcome", select_outcome_name(st.outcome));
    report_tracking_peer(b, sy, &st, now);
    ctl_rec_int(b, "stratum", st.stratum);
    ctl_rec_int(b, "leap", st.leap);
    ctl_rec_int(b, "leap_pending", st.leap_pending);
    ctl_rec_str(b, "leap_source", st.leap_source);
    ctl_rec_int(b, "leaps", st.leaps);
    ctl_rec_double(b, "leap_smear", st.smear_offset);
    if (st.leaplist_expiry)
        ctl_rec_double(b, "leaplist_expires_in",
                       (double)st.leaplist_expiry - (double)now->tv_sec);
    ctl_rec_double(b, "offset", st.offset);
    ctl_rec_double(b, "rms_offset", st.disc.rms_offset);
    ctl_rec_double(b, "freq_ppm", st.disc.freq_ppm);
    ctl_rec_double(b, "freq_err_ppm", st.disc.freq_err_ppm);
    ctl_rec_int(b, "freq_settled", st.disc.settled);
    ctl_rec_double(b, "system_offset", -clock_slew_remaining(clk));
    ctl_rec_double(b, "root_delay", st.root_delay);
    ctl_rec_double(b, "root_dispersion", st.root_dispersion);
    /* ctl_rec_double keeps 15 digits for large values: milliseconds and
     * more of an epoch time (chronyc shows them too). */
    ctl_rec_double(b, "ref_time", (double)st.ref_time.tv_sec + (double)st.ref_time.tv_nsec * 1e-9);
    ctl_rec_double(b, "since_update", st.since_update);
    /* Between clock updates (samples that reached the clock), as chronyc's
     * Update interval; not the discipline's internal bookkeeping steps. */
    ctl_rec_double(b, "update_interval", st.update_interval);
    ctl_rec_int(b, "ntruechimers", st.ntruechimers);
    ctl_rec_int(b, "peer_changes", st.peer_changes);
    int n = 0;
    for (int i = 0; i < sync_source_count(sy); i++) {
        struct sync_source_info si;
        sync_get_source(sy, i, now, &si);
        n += si.name != NULL;
    }
    ctl_rec_int(b, "nsources", n);
    ctl_rec_int(b, "steps", st.disc.steps);
    ctl_rec_double(b, "last_step", st.disc.last_step);
    ctl_rec_str(b, "clock", clock_name(clk));
    ctl_rec_end(b);
}

/* "unreachable" exactly when not reachable (the one definition), so that
 * state and the reachable field never disagree. */
static const char *report_state(const struct sync_source_info *si, const struct source_params *sp)
{
    if (si->est.denied)
        return "denied";
    if (!si->est.reachable)
        return "unreachable";
    if (!si->est.valid)
        return "unsynced";
    /* Reachable with a sample, but selection has not judged it: it waits
     * at start until every source has a sample (at most 10 s). */
    if (si->status == SELECT_UNREACHABLE)
        return sp && sp->noselect ? "noselect" : "waiting";
    return select_status_name(si->status);
}

/* Seconds since the newest sample in src's filter arrived (the last good
 * reply), -1 if none: chronyc's LastRx. The estimate's age is that of the
 * filter's pick, which may be older. */
static double report_last_rx(const struct source *src, const struct timespec *now)
{
    struct source_sample_view newest;
    return src && source_get_samples(src, now, &newest, 1) == 1 ? newest.age : -1.0;
}

static void report_source(struct ctl_buf *b, int index, const struct sync_source_info *si,
                          const struct source_params *sp, double last_rx)
{
    const struct source_estimate *e = &si->est;
    char rb[16];

    ctl_rec_begin(b, "source");
    ctl_rec_int(b, "index", index);
    ctl_rec_str(b, "name", si->name);
    ctl_rec_str(b, "state", report_state(si, sp));
    ctl_rec_int(b, "stratum", e->stratum);
    ctl_rec_int(b, "poll", e->poll);
    ctl_rec_int(b, "reach", e->reach);
    ctl_rec_int(b, "reachable", e->reachable);
    ctl_rec_double(b, "age", e->age);
    ctl_rec_double(b, "last_rx", last_rx);
    ctl_rec_double(b, "offset", e->offset);
    ctl_rec_double(b, "delay", e->delay);
    ctl_rec_double(b, "dispersion", e->dispersion);
    ctl_rec_double(b, "jitter", e->jitter);
    ctl_rec_double(b, "root_delay", e->root_delay);
    ctl_rec_double(b, "root_dispersion", e->root_dispersion);
    ctl_rec_double(b, "distance", si->distance);
    ctl_rec_int(b, "leap", e->leap);
    ctl_rec_str(b, "refid", report_refid(e->refid, e->stratum <= 1, rb, sizeof(rb)));
    ctl_rec_int(b, "nsamples", e->nsamples);
    ctl_rec_int(b, "sent", (long long)e->sent);
    ctl_rec_int(b, "received", (long long)e->received);
    ctl_rec_int(b, "bogus", (long long)e->bogus);
    ctl_rec_int(b, "kods", (long long)e->kods);
    ctl_rec_int(b, "prefer", sp ? sp->prefer : 0);
    ctl_rec_int(b, "noselect", sp ? sp->noselect : 0);
    ctl_rec_int(b, "refclock", sp ? sp->refclock : 0);
    ctl_rec_end(b);
}

void report_sources(struct ctl_buf *b, const struct sync *sy, const struct timespec *now)
{
    for (int i = 0; i < sync_source_count(sy); i++) {
        struct sync_source_info si;
        sync_get_source(sy, i, now, &si);
        if (!si.name)
            continue;
        struct source *src = sync_source(sy, i);
        report_source(b, i, &si, src ? source_params(src) : NULL, report_last_rx(src, now));
    }
}

void report_pending(struct ctl_buf *b, const struct upstream *up)
{
    struct upstream_pending p[SYNC_MAX_SOURCES];
    int n = upstream_pending(up, p, SYNC_MAX_SOURCES);
    char name[300];

    for (int i = 0; i < n; i++) {
        if (p[i].port != 123)
            snprintf(name, sizeof(name), "%s port %u", p[i].host, (unsigned)p[i].port);
        else
            snprintf(name, sizeof(name), "%s", p[i].host);
        ctl_rec_begin(b, "source");
        ctl_rec_int(b, "index", -1);
        ctl_rec_str(b, "name", name);
        ctl_rec_str(b, "state", p[i].failed ? "unresolved" : "resolving");
        ctl_rec_int(b, "stratum", 16);
        ctl_rec_int(b, "poll", 0);
        ctl_rec_int(b, "reach", 0);
        ctl_rec_int(b, "reachable", 0);
        ctl_rec_double(b, "age", -1);
        ctl_rec_double(b, "last_rx", -1);
        ctl_rec_int(b, "nsamples", 0);
        ctl_rec_int(b, "sent", 0);
        ctl_rec_int(b, "received", 0);
        ctl_rec_int(b, "line", p[i].line);
        ctl_rec_int(b, "pool", p[i].pool);
        ctl_rec_end(b);
    }
}

void report_authdata(struct ctl_buf *b, const struct upstream *up)
{
    struct upstream_auth a[SYNC_MAX_SOURCES];
    int n = upstream_auth(up, a, SYNC_MAX_SOURCES);

    for (int i = 0; i < n; i++) {
        ctl_rec_begin(b, "authdata");
        ctl_rec_int(b, "index", a[i].sync_idx);
        ctl_rec_str(b, "name", a[i].name);
        ctl_rec_str(b, "mode", a[i].nts ? "NTS" : a[i].key ? "key" : "none");
        ctl_rec_int(b, "nts", a[i].nts);
        ctl_rec_int(b, "keyid", a[i].key);
        ctl_rec_str(b, "keytype", a[i].nts ? "AEAD" : a[i].key_type ? a[i].key_type : "-");
        ctl_rec_int(b, "keybits", a[i].key_bits);
        ctl_rec_int(b, "aead", a[i].aead);
        ctl_rec_int(b, "have_keys", a[i].have_keys);
        ctl_rec_int(b, "cookies", a[i].cookies);
        ctl_rec_int(b, "kes", a[i].kes);
        ctl_rec_int(b, "ke_failures", a[i].ke_failures);
        ctl_rec_int(b, "ke_failing", a[i].ke_failing);
        ctl_rec_int(b, "ke_inflight", a[i].ke_inflight);
        ctl_rec_double(b, "last_ke", a[i].last_ke_age);
        ctl_rec_double(b, "next_ke", a[i].next_ke_in);
        ctl_rec_int(b, "naks", a[i].naks);
        ctl_rec_int(b, "replies_ok", a[i].replies_ok);
        ctl_rec_int(b, "replies_bad", a[i].replies_bad);
        ctl_rec_str(b, "ke_error", a[i].ke_error);
        ctl_rec_end(b);
    }
}

/* Least-squares line through a source's filter samples: the slope is how
 * fast the source drifts against our clock (its frequency), the standard
 * error of the slope its skew, the residuals' spread its noise. */
struct report_fit {
    int n;
    double span, freq_ppm, skew_ppm, offset, stddev;
};

static void report_fit(const struct source_sample_view *s, int n, struct report_fit *out)
{
    double mt = 0, mo = 0, stt = 0, sto = 0, rss = 0;

    memset(out, 0, sizeof(*out));
    out->n = n;
    if (n == 0)
        return;
    for (int i = 0; i < n; i++) {
        mt += s[i].age;
        mo += s[i].offset;
    }
    mt /= n;
    mo /= n;
    for (int i = 0; i < n; i++) {
        stt += (s[i].age - mt) * (s[i].age - mt);
        sto += (s[i].age - mt) * (s[i].offset - mo);
    }
    /* age grows into the past, so the drift per second is -slope */
    double slope = stt > 0 ? sto / stt : 0.0;
    for (int i = 0; i < n; i++) {
        double r = s[i].offset - (mo + slope * (s[i].age - mt));
        rss += r * r;
        if (s[i].age > out->span)
            out->span = s[i].age;
    }
    out->freq_ppm = -slope * 1e6;
    out->offset = mo - slope * mt; /* the line at age 0: now */
    out->stddev = n > 2 ? sqrt(rss / (n - 2)) : 0.0;
    out->skew_ppm = n > 2 && stt > 0 ? out->stddev / sqrt(stt) * 1e6 : 0.0;
}

void report_sourcestats(struct ctl_buf *b, const struct sync *sy, const struct timespec *now)
{
    struct source_sample_view sv[SOURCE_FILTER_LEN];
    struct report_fit fit;

    for (int i = 0; i < sync_source_count(sy); i++) {
        struct source *src = sync_source(sy, i);
        struct sync_source_info si;
        if (!src)
            continue;
        sync_get_source(sy, i, now, &si);
        report_fit(sv, source_get_samples(src, now, sv, SOURCE_FILTER_LEN), &fit);
        ctl_rec_begin(b, "sourcestats");
        ctl_rec_int(b, "index", i);
        ctl_rec_str(b, "name", si.name);
        ctl_rec_int(b, "nsamples", fit.n);
        ctl_rec_double(b, "span", fit.span);
        ctl_rec_double(b, "freq_ppm", fit.freq_ppm);
        ctl_rec_double(b, "skew_ppm", fit.skew_ppm);
        ctl_rec_double(b, "offset", fit.offset);
        ctl_rec_double(b, "stddev", fit.stddev);
        ctl_rec_end(b);
    }
}

void report_serverstats(struct ctl_buf *b, const struct server *srv, const struct ratelimit *rl)
{
    static const char *const fam[SERVER_NFAMILIES] = {"ipv4", "ipv6"};
    struct server_stats st;

    server_get_stats(srv, &st);
    for (int f = 0; f < SERVER_NFAMILIES; f++) {
        ctl_rec_begin(b, "serverstats");
        ctl_rec_str(b, "family", fam[f]);
        ctl_rec_int(b, "received", (long long)st.received[f]);
        ctl_rec_int(b, "answered", (long long)st.answered[f]);
        ctl_rec_int(b, "denied", (long long)st.denied[f]);
        ctl_rec_int(b, "ratelimited", (long long)st.ratelimited[f]);
        ctl_rec_int(b, "kod", (long long)st.kod_sent[f]);
        ctl_rec_int(b, "malformed", (long long)st.malformed[f]);
        ctl_rec_int(b, "wrong_mode", (long long)st.wrong_mode[f]);
        ctl_rec_int(b, "control", (long long)st.control[f]);
        ctl_rec_int(b, "auth_dropped", (long long)st.auth_dropped[f]);
        ctl_rec_int(b, "auth_failed", (long long)st.auth_failed[f]);
        ctl_rec_int(b, "auth_ok", (long long)st.auth_ok[f]);
        ctl_rec_int(b, "empty", (long long)st.empty[f]);
        ctl_rec_int(b, "oversized", (long long)st.oversized[f]);
        ctl_rec_int(b, "nts_ok", (long long)st.nts_ok[f]);
        ctl_rec_int(b, "nts_nak", (long long)st.nts_nak[f]);
        ctl_rec_int(b, "nts_bad_cookie", (long long)st.nts_bad_cookie[f]);
        ctl_rec_int(b, "nts_auth_failed", (long long)st.nts_auth_failed[f]);
        ctl_rec_int(b, "nts_malformed", (long long)st.nts_malformed[f]);
        ctl_rec_int(b, "plain_refused", (long long)st.plain_refused[f]);
        ctl_rec_end(b);
    }
    ctl_rec_begin(b, "serverinfo");
    ctl_rec_int(b, "clients", (long long)ratelimit_count(rl));
    ctl_rec_int(b, "clients_capacity", (long long)ratelimit_capacity(rl));
    ctl_rec_int(b, "table_bytes", (long long)ratelimit_memory(rl));
    ctl_rec_int(b, "ratelimit", ratelimit_capacity(rl) > 0);
    ctl_rec_end(b);
}

void report_recent(struct ctl_buf *b, const struct report_recent *r)
{
    ctl_rec_begin(b, "recent");
    ctl_rec_double(b, "uptime", r->uptime);
    ctl_rec_double(b, "window", r->window);
    ctl_rec_int(b, "received_ipv4", (long long)r->received[SERVER_V4]);
    ctl_rec_int(b, "denied_ipv4", (long long)r->denied[SERVER_V4]);
    ctl_rec_int(b, "received_ipv6", (long long)r->received[SERVER_V6]);
    ctl_rec_int(b, "denied_ipv6", (long long)r->denied[SERVER_V6]);
    ctl_rec_int(b, "peer_changes", (long long)r->peer_changes);
    ctl_rec_int(b, "steps", (long long)r->steps);
    ctl_rec_end(b);
}

struct report_clients {
    struct ratelimit_client *c;
    size_t n, cap;
};

static void report_collect(const struct ratelimit_client *c, void *arg)
{
    struct report_clients *rc = arg;
    if (rc->n < rc->cap)
        rc->c[rc->n++] = *c;
}

/* Busiest first; ties by address, so that the order is one order. */
static int report_by_requests(const void *a, const void *b)
{
    const struct ratelimit_client *x = a, *y = b;
    if (x->requests != y->requests)
        return x->requests < y->requests ? 1 : -1;
    if (x->addr.family != y->addr.family)
        return x->addr.family < y->addr.family ? -1 : 1;
    return memcmp(x->addr.bytes, y->addr.bytes, sizeof(x->addr.bytes));
}

void report_clients(struct ctl_buf *b, const struct ratelimit *rl, int64_t mono_ns, unsigned max)
{
    struct report_clients rc = {.cap = ratelimit_count(rl)};
    char ab[ADDR_STRLEN];

    rc.c = mem_calloc(rc.cap ? rc.cap : 1, sizeof(*rc.c));
    ratelimit_foreach(rl, report_collect, &rc);
    sort_heap(rc.c, rc.n, sizeof(*rc.c), report_by_requests);
    for (size_t i = 0; i < rc.n && i < max; i++) {
        ctl_rec_begin(b, "client");
        ctl_rec_str(b, "address", addr_format(&rc.c[i].addr, ab, sizeof(ab)));
        ctl_rec_int(b, "requests", (long long)rc.c[i].requests);
        ctl_rec_int(b, "drops", (long long)rc.c[i].drops);
        ctl_rec_int(b, "kods", (long long)rc.c[i].kods);
        ctl_rec_double(b, "last_seen", (double)(mono_ns - rc.c[i].last_ns) * 1e-9);
        ctl_rec_end(b);
    }
    free(rc.c);
}
