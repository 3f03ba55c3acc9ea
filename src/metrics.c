/* SPDX-License-Identifier: ISC */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "select.h"

/* How a record field becomes a sample value. Prometheus wants base units:
 * ppm becomes a plain ratio (1 ppm = 1e-6) and poll exponents become
 * seconds. A field that is absent or not a number is skipped, and so are a
 * negative age (the daemon's "-1: never") and, with METRICS_MEASURED, a
 * measurement of a source with no samples (the record says 0 there), so no
 * sample lies. */
enum metrics_conv {
    METRICS_PLAIN,
    METRICS_PPM,      /* ppm -> ratio */
    METRICS_LOG2,     /* log2 seconds -> seconds */
    METRICS_AGE,      /* seconds, skipped when negative */
    METRICS_SELECTED, /* 1 if state is "selected", else 0 */
    METRICS_STATESET, /* one sample per known state, 1 for the current */
    METRICS_INFO,     /* constant 1 with string fields as labels */
    METRICS_CONV_MASK = 0xff,
    METRICS_MEASURED = 0x100, /* flag: skipped when the record has nsamples=0 */
};

struct metrics_family {
    const char *kind;  /* record kind */
    const char *field; /* record field read */
    const char *name;
    const char *type; /* "gauge" or "counter" */
    unsigned conv;    /* enum metrics_conv, maybe | METRICS_MEASURED */
    const char *help;
};

#define METRICS_SAMPLE (METRICS_PLAIN | METRICS_MEASURED)

/* Output order; within a family, records keep the order they came in. */
static const struct metrics_family metrics_families[] = {
    {"tracking", "synced", "tempus_synchronized", "gauge", METRICS_PLAIN,
     "1 if a system peer is selected and disciplines the clock."},
    {"tracking", "local", "tempus_local_reference", "gauge", METRICS_PLAIN,
     "1 while serving the local reference (no upstream)."},
    {"tracking", "orphan", "tempus_orphan", "gauge", METRICS_PLAIN,
     "1 while following an orphan peer: no upstream source reaches the group."},
    {"tracking", "holdover", "tempus_holdover", "gauge", METRICS_PLAIN,
     "1 in holdover: synchronised once, no source now, running on the last frequency."},
    {"tracking", "outcome", "tempus_tracking_info", "gauge", METRICS_INFO,
     "Selection outcome, reference and clock backend as labels; always 1."},
    {"tracking", "stratum", "tempus_stratum", "gauge", METRICS_PLAIN, "Stratum served to clients."},
    {"tracking", "leap", "tempus_leap_status", "gauge", METRICS_PLAIN,
     "Leap indicator of the system: 0 none, 1 insert, 2 delete, 3 unsynchronized."},
    {"tracking", "leap_pending", "tempus_leap_pending", "gauge", METRICS_PLAIN,
     "Leap second at the end of this UTC day: 1 inserted, -1 deleted, 0 none."},
    {"tracking", "leaps", "tempus_leap_seconds_total", "counter", METRICS_PLAIN,
     "Leap seconds the clock went through since start."},
    {"tracking", "leap_smear", "tempus_leap_smear_seconds", "gauge", METRICS_PLAIN,
     "leapsmear: served time minus the local clock now (0 outside a smear)."},
    {"tracking", "leaplist_expires_in", "tempus_leaplist_expiry_seconds", "gauge",
     METRICS_PLAIN, "Seconds until the leap second list (leapfile, leapsectz) expires; "
     "negative: expired."},
    {"tracking", "offset", "tempus_offset_seconds", "gauge", METRICS_PLAIN,
     "Last combined offset of the sources against the local clock."},
    {"tracking", "rms_offset", "tempus_rms_offset_seconds", "gauge", METRICS_PLAIN,
     "Long-term RMS of the measured offsets."},
    {"tracking", "system_offset", "tempus_system_offset_seconds", "gauge", METRICS_PLAIN,
     "Correction still to be slewed into the clock."},
    {"tracking", "freq_ppm", "tempus_frequency_correction_ratio", "gauge", METRICS_PPM,
     "Frequency correction applied to the clock (1e-6 = 1 ppm)."},
    {"tracking", "freq_err_ppm", "tempus_frequency_skew_ratio", "gauge", METRICS_PPM,
     "Estimated error bound of the frequency correction (1e-6 = 1 ppm)."},
    {"tracking", "root_delay", "tempus_root_delay_seconds", "gauge", METRICS_PLAIN,
     "Root delay served to clients."},
    {"tracking", "root_dispersion", "tempus_root_dispersion_seconds", "gauge", METRICS_PLAIN,
     "Root dispersion served to clients."},
    {"tracking", "since_update", "tempus_last_update_age_seconds", "gauge", METRICS_AGE,
     "Seconds since the clock was last updated from the sources."},
    {"tracking", "update_interval", "tempus_update_interval_seconds", "gauge", METRICS_PLAIN,
     "Interval between the last two clock updates."},
    {"tracking", "ntruechimers", "tempus_sources_truechimers", "gauge", METRICS_PLAIN,
     "Sources in the majority agreement of the last selection."},
    {"tracking", "nsources", "tempus_sources", "gauge", METRICS_PLAIN,
     "Configured upstream sources."},
    {"tracking", "steps", "tempus_clock_steps_total", "counter", METRICS_PLAIN,
     "Times the clock was stepped."},
    {"tracking", "last_step", "tempus_last_step_seconds", "gauge", METRICS_PLAIN,
     "Size of the last clock step."},

    {"refclock", "readings", "tempus_refclock_readings_total", "counter", METRICS_PLAIN,
     "Readings taken from the reference clock's driver."},
    {"refclock", "bad", "tempus_refclock_bad_total", "counter", METRICS_PLAIN,
     "Malformed readings thrown away (wrong size or magic, fields out of range)."},
    {"refclock", "unsynced", "tempus_refclock_unsynced_total", "counter", METRICS_PLAIN,
     "Readings in which the reference said it has no time (leap 3: no fix)."},
    {"refclock", "unlocked", "tempus_refclock_unlocked_total", "counter", METRICS_PLAIN,
     "Pulse edges dropped: no lock reading (or synchronised clock) to number the second."},
    {"refclock", "samples", "tempus_refclock_samples_total", "counter", METRICS_PLAIN,
     "Samples the reference clock gave its filter (one a poll at most)."},
    {"source", "state", "tempus_source_state", "gauge", METRICS_STATESET,
     "Selection state of the source: 1 for the current state, 0 for the others."},
    {"source", "state", "tempus_source_selected", "gauge", METRICS_SELECTED,
     "1 if the source is the system peer."},
    {"source", "reachable", "tempus_source_reachable", "gauge", METRICS_PLAIN,
     "1 if the source answered one of the last 3 polls (tempusctl(8), REACHABILITY)."},
    {"source", "reach", "tempus_source_reach_register", "gauge", METRICS_PLAIN,
     "Reachability register of the last 8 polls (newest in bit 0)."},
    {"source", "stratum", "tempus_source_stratum", "gauge", METRICS_PLAIN,
     "Stratum of the source."},
    {"source", "leap", "tempus_source_leap_status", "gauge", METRICS_PLAIN,
     "Leap indicator of the source."},
    {"source", "poll", "tempus_source_poll_seconds", "gauge", METRICS_LOG2,
     "Current poll interval."},
    {"source", "age", "tempus_source_last_sample_age_seconds", "gauge", METRICS_AGE,
     "Age of the sample the filter picked."},
    {"source", "offset", "tempus_source_offset_seconds", "gauge", METRICS_SAMPLE,
     "Offset of the source against the local clock (positive: the source is ahead)."},
    {"source", "delay", "tempus_source_delay_seconds", "gauge", METRICS_SAMPLE,
     "Round-trip delay to the source."},
    {"source", "dispersion", "tempus_source_dispersion_seconds", "gauge", METRICS_SAMPLE,
     "Dispersion of the picked sample, grown to now."},
    {"source", "jitter", "tempus_source_jitter_seconds", "gauge", METRICS_SAMPLE,
     "RMS of offset differences in the clock filter."},
    {"source", "root_delay", "tempus_source_root_delay_seconds", "gauge", METRICS_SAMPLE,
     "Root delay the source reports."},
    {"source", "root_dispersion", "tempus_source_root_dispersion_seconds", "gauge", METRICS_SAMPLE,
     "Root dispersion the source reports."},
    {"source", "distance", "tempus_source_distance_seconds", "gauge", METRICS_SAMPLE,
     "Root distance of the source as selection sees it."},
    {"source", "nsamples", "tempus_source_samples", "gauge", METRICS_PLAIN,
     "Samples in the clock filter."},
    {"source", "sent", "tempus_source_sent_total", "counter", METRICS_PLAIN,
     "Requests sent to the source."},
    {"source", "received", "tempus_source_received_total", "counter", METRICS_PLAIN,
     "Valid replies received from the source."},
    {"source", "bogus", "tempus_source_bogus_total", "counter", METRICS_PLAIN,
     "Packets from the source that did not answer an outstanding request."},
    {"source", "kods", "tempus_source_kod_total", "counter", METRICS_PLAIN,
     "Kiss-o'-death packets received from the source."},

    {"authdata", "nts", "tempus_source_nts", "gauge", METRICS_PLAIN,
     "1 if the source is authenticated with NTS (RFC 8915)."},
    {"authdata", "cookies", "tempus_source_nts_cookies", "gauge", METRICS_PLAIN,
     "NTS cookies held for the source (up to 8)."},
    {"authdata", "kes", "tempus_source_nts_key_exchanges_total", "counter", METRICS_PLAIN,
     "Good NTS key exchanges with the source."},
    {"authdata", "ke_failures", "tempus_source_nts_key_exchange_failures_total", "counter",
     METRICS_PLAIN, "Failed NTS key exchanges with the source."},
    {"authdata", "last_ke", "tempus_source_nts_last_key_exchange_age_seconds", "gauge", METRICS_AGE,
     "Seconds since the last good NTS key exchange."},
    {"authdata", "naks", "tempus_source_nts_naks_total", "counter", METRICS_PLAIN,
     "NTS NAKs received from the source (each starts a new key exchange)."},
    {"authdata", "replies_ok", "tempus_source_nts_replies_ok_total", "counter", METRICS_PLAIN,
     "NTS replies authenticated."},
    {"authdata", "replies_bad", "tempus_source_nts_replies_bad_total", "counter", METRICS_PLAIN,
     "NTS replies refused (unique identifier, authenticator or shape), never used."},

    {"sourcestats", "offset", "tempus_source_estimated_offset_seconds", "gauge", METRICS_SAMPLE,
     "Offset of the source now, from a line fitted through its samples."},
    {"sourcestats", "stddev", "tempus_source_offset_stddev_seconds", "gauge", METRICS_SAMPLE,
     "Standard deviation of the samples around the fitted line."},
    {"sourcestats", "freq_ppm", "tempus_source_frequency_ratio", "gauge",
     METRICS_PPM | METRICS_MEASURED, "Drift of the source against the local clock (1e-6 = 1 ppm)."},
    {"sourcestats", "skew_ppm", "tempus_source_skew_ratio", "gauge", METRICS_PPM | METRICS_MEASURED,
     "Error bound of the drift estimate (1e-6 = 1 ppm)."},
    {"sourcestats", "span", "tempus_source_sample_span_seconds", "gauge", METRICS_PLAIN,
     "Time covered by the samples in the fit."},

    {"serverstats", "received", "tempus_server_requests_received_total", "counter", METRICS_PLAIN,
     "NTP requests received."},
    {"serverstats", "answered", "tempus_server_requests_answered_total", "counter", METRICS_PLAIN,
     "NTP requests answered with time."},
    {"serverstats", "denied", "tempus_server_requests_denied_total", "counter", METRICS_PLAIN,
     "NTP requests dropped by the access list."},
    {"serverstats", "ratelimited", "tempus_server_requests_ratelimited_total", "counter",
     METRICS_PLAIN, "NTP requests dropped by rate limiting."},
    {"serverstats", "kod", "tempus_server_requests_kod_total", "counter", METRICS_PLAIN,
     "NTP requests answered with a RATE kiss-o'-death."},
    {"serverstats", "malformed", "tempus_server_requests_malformed_total", "counter", METRICS_PLAIN,
     "NTP requests dropped as malformed."},
    {"serverstats", "wrong_mode", "tempus_server_requests_wrong_mode_total", "counter",
     METRICS_PLAIN, "NTP packets dropped for a mode other than client."},
    {"serverstats", "control", "tempus_server_requests_control_total", "counter", METRICS_PLAIN,
     "NTP mode 6/7 control packets dropped."},
    {"serverstats", "auth_dropped", "tempus_server_requests_auth_dropped_total", "counter",
     METRICS_PLAIN, "NTP requests with a MAC no key can check, ignored."},
    {"serverstats", "auth_failed", "tempus_server_requests_auth_failed_total", "counter",
     METRICS_PLAIN, "NTP requests whose MAC failed, answered with a crypto-NAK."},
    {"serverstats", "auth_ok", "tempus_server_requests_auth_ok_total", "counter",
     METRICS_PLAIN, "Authenticated NTP requests answered with a signed reply."},
    {"serverstats", "empty", "tempus_server_datagrams_empty_total", "counter", METRICS_PLAIN,
     "Empty datagrams received on the server port."},
    {"serverstats", "oversized", "tempus_server_datagrams_oversized_total", "counter",
     METRICS_PLAIN, "Datagrams longer than any NTP packet (1500 bytes), dropped."},

    {"serverstats", "nts_ok", "tempus_server_nts_requests_answered_total", "counter",
     METRICS_PLAIN, "NTS requests answered with an authenticated reply."},
    {"serverstats", "nts_nak", "tempus_server_nts_naks_total", "counter", METRICS_PLAIN,
     "NTS NAKs sent (the cookie did not open or the authenticator did not verify)."},
    {"serverstats", "nts_bad_cookie", "tempus_server_nts_bad_cookie_total", "counter",
     METRICS_PLAIN, "NTS requests whose cookie did not open (an old or foreign key)."},
    {"serverstats", "nts_auth_failed", "tempus_server_nts_auth_failed_total", "counter",
     METRICS_PLAIN, "NTS requests whose authenticator did not verify."},
    {"serverstats", "nts_malformed", "tempus_server_nts_malformed_total", "counter",
     METRICS_PLAIN, "NTS requests with missing, repeated or misplaced fields, dropped."},
    {"serverstats", "plain_refused", "tempus_server_plain_refused_total", "counter",
     METRICS_PLAIN, "Unauthenticated requests refused by ntsplain drop or nak."},
    {"ntsserver", "ke_accepted", "tempus_nts_ke_connections_accepted_total", "counter",
     METRICS_PLAIN, "NTS-KE connections given to a worker."},
    {"ntsserver", "ke_shed", "tempus_nts_ke_connections_shed_total", "counter", METRICS_PLAIN,
     "NTS-KE connections closed at once (workers busy, or the address held its share)."},
    {"ntsserver", "ke_served", "tempus_nts_ke_served_total", "counter", METRICS_PLAIN,
     "NTS key exchanges that ended with cookies."},
    {"ntsserver", "ke_failed", "tempus_nts_ke_failed_total", "counter", METRICS_PLAIN,
     "NTS-KE sessions that failed (handshake, request or timeout)."},
    {"ntsserver", "rotations", "tempus_nts_cookie_key_rotations_total", "counter",
     METRICS_PLAIN, "Cookie key rotations since the start."},
    {"serverinfo", "clients", "tempus_server_clients", "gauge", METRICS_PLAIN,
     "Clients in the rate limiting table."},
    {"serverinfo", "clients_capacity", "tempus_server_clients_capacity", "gauge", METRICS_PLAIN,
     "Capacity of the rate limiting table."},
    {"serverinfo", "table_bytes", "tempus_server_client_table_bytes", "gauge", METRICS_PLAIN,
     "Memory of the rate limiting table."},
    {"serverinfo", "ratelimit", "tempus_server_ratelimit_enabled", "gauge", METRICS_PLAIN,
     "1 if rate limiting is on."},

    {"recent", "uptime", "tempus_uptime_seconds", "gauge", METRICS_PLAIN,
     "Seconds since the daemon started (a drop is a restart)."},
};

#define METRICS_NFAMILIES (sizeof(metrics_families) / sizeof(metrics_families[0]))

/* Record kinds we know, and the label that tells records of a kind apart
 * (NULL: only the first record of the kind is used). Client records are
 * left out on purpose: per-address series would grow without bound. */
static const struct {
    const char *kind, *label, *field;
} metrics_kinds[] = {
    {"tracking", NULL, NULL},          {"source", "source", "name"},
    {"sourcestats", "source", "name"}, {"serverstats", "family", "family"},
    {"authdata", "source", "name"},    {"serverinfo", NULL, NULL},
    {"recent", NULL, NULL},            {"ntsserver", NULL, NULL},
    {"refclock", "source", "name"},
};

#define METRICS_NKINDS (sizeof(metrics_kinds) / sizeof(metrics_kinds[0]))

/* States a source record can be in besides select_status_name's. */
static const char *const metrics_extra_states[] = {"denied"};

static int metrics_kind(const char *kind)
{
    for (unsigned i = 0; i < METRICS_NKINDS; i++)
        if (kind && strcmp(kind, metrics_kinds[i].kind) == 0)
            return (int)i;
    return -1;
}

/* The label value of r, or NULL for a kind without labels. */
static const char *metrics_label(const struct ctl_record *r, int kind)
{
    return metrics_kinds[kind].field ? ctl_rec_get(r, metrics_kinds[kind].field) : NULL;
}

/* Which records to render: a known kind, its label present, and the first
 * record with that label (or the first of a kind without labels), since two
 * samples of one series would make Prometheus reject the whole scrape. */
static void metrics_select(const struct ctl_record *recs, size_t n, int *use)
{
    for (size_t i = 0; i < n; i++) {
        int k = metrics_kind(recs[i].kind);
        const char *li = k >= 0 ? metrics_label(&recs[i], k) : NULL;
        use[i] = k >= 0 && (!metrics_kinds[k].field || li != NULL);
        for (size_t j = 0; use[i] && j < i; j++) {
            if (!use[j] || strcmp(recs[j].kind, recs[i].kind) != 0)
                continue;
            const char *lj = metrics_label(&recs[j], k);
            if (!li || strcmp(li, lj) == 0)
                use[i] = 0;
        }
    }
}

static void metrics_escape(struct ctl_buf *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\\')
            ctl_buf_append(out, "\\\\", 2);
        else if (*s == '"')
            ctl_buf_append(out, "\\\"", 2);
        else if (*s == '\n')
            ctl_buf_append(out, "\\n", 2);
        else
            ctl_buf_append(out, s, 1);
    }
}

/* Integers print exactly as integers; the rest with the 9 significant
 * digits the control records carry; non-finite values as the exposition
 * format spells them. */
static void metrics_value(struct ctl_buf *out, double v)
{
    if (isnan(v))
        ctl_buf_printf(out, "NaN");
    else if (isinf(v))
        ctl_buf_printf(out, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 9007199254740992.0)
        ctl_buf_printf(out, "%.0f", v + 0.0); /* + 0.0: no "-0" */
    else
        ctl_buf_printf(out, "%.9g", v);
}

/* name{label="value"[,extra="value"]} v */
static void metrics_sample(struct ctl_buf *out, const char *name, const char *label,
                           const char *lvalue, const char *extra, const char *evalue, double v)
{
    ctl_buf_printf(out, "%s", name);
    if (label || extra) {
        ctl_buf_append(out, "{", 1);
        if (label) {
            ctl_buf_printf(out, "%s=\"", label);
            metrics_escape(out, lvalue);
            ctl_buf_append(out, "\"", 1);
        }
        if (extra) {
            ctl_buf_printf(out, "%s%s=\"", label ? "," : "", extra);
            metrics_escape(out, evalue);
            ctl_buf_append(out, "\"", 1);
        }
        ctl_buf_append(out, "}", 1);
    }
    ctl_buf_append(out, " ", 1);
    metrics_value(out, v);
    ctl_buf_append(out, "\n", 1);
}

static void metrics_stateset(struct ctl_buf *out, const char *name, const char *src,
                             const char *state)
{
    int known = 0;

    for (int i = 0; i < SELECT_NSTATUS; i++) {
        const char *s = select_status_name((enum select_status)i);
        known |= strcmp(s, state) == 0;
        metrics_sample(out, name, "source", src, "state", s, strcmp(s, state) == 0);
    }
    for (size_t i = 0; i < sizeof(metrics_extra_states) / sizeof(metrics_extra_states[0]); i++) {
        const char *s = metrics_extra_states[i];
        known |= strcmp(s, state) == 0;
        metrics_sample(out, name, "source", src, "state", s, strcmp(s, state) == 0);
    }
    if (!known)
        metrics_sample(out, name, "source", src, "state", state, 1);
}

/* The info sample: every string field of the tracking record an operator
 * reads, as labels; absent fields become empty labels. */
static void metrics_info(struct ctl_buf *out, const char *name, const struct ctl_record *r)
{
    static const char *const keys[][2] = {{"outcome", "outcome"},
                                          {"reference", "ref_name"},
                                          {"refid", "refid_str"},
                                          {"clock", "clock"}};

    ctl_buf_printf(out, "%s{", name);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = ctl_rec_get(r, keys[i][1]);
        ctl_buf_printf(out, "%s%s=\"", i ? "," : "", keys[i][0]);
        metrics_escape(out, v ? v : "");
        ctl_buf_append(out, "\"", 1);
    }
    ctl_buf_append(out, "} 1\n", 4);
}

/* Emit f's samples for record r; returns 1 if anything was written. */
static int metrics_emit(struct ctl_buf *out, const struct metrics_family *f,
                        const struct ctl_record *r, int hdr)
{
    int k = metrics_kind(r->kind);
    const char *label = metrics_kinds[k].label, *lvalue = metrics_label(r, k);
    const char *s = ctl_rec_get(r, f->field);
    double v = ctl_rec_num(r, f->field, NAN);
    unsigned conv = f->conv & METRICS_CONV_MASK;

    if (!s || (conv <= METRICS_AGE && isnan(v)) || (conv == METRICS_AGE && v < 0))
        return 0;
    if ((f->conv & METRICS_MEASURED) && ctl_rec_num(r, "nsamples", 1) == 0)
        return 0;
    if (!hdr)
        ctl_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
    switch (conv) {
    case METRICS_STATESET:
        metrics_stateset(out, f->name, lvalue, s);
        return 1;
    case METRICS_INFO:
        metrics_info(out, f->name, r);
        return 1;
    case METRICS_SELECTED:
        v = strcmp(s, "selected") == 0;
        break;
    case METRICS_PPM:
        v *= 1e-6;
        break;
    case METRICS_LOG2:
        v = ldexp(1.0, (int)fmax(-1000.0, fmin(1000.0, v)));
        break;
    default:
        break;
    }
    metrics_sample(out, f->name, label, lvalue, NULL, NULL, v);
    return 1;
}

void metrics_render(const struct ctl_record *recs, size_t n, struct ctl_buf *out)
{
    int *use = mem_calloc(n ? n : 1, sizeof(*use));

    metrics_select(recs, n, use);
    for (size_t fi = 0; fi < METRICS_NFAMILIES; fi++) {
        const struct metrics_family *f = &metrics_families[fi];
        int hdr = 0;
        for (size_t i = 0; i < n; i++)
            if (use[i] && strcmp(recs[i].kind, f->kind) == 0)
                hdr |= metrics_emit(out, f, &recs[i], hdr);
    }
    free(use);
}
