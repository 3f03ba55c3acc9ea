/* SPDX-License-Identifier: ISC */
#include "ctl_render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leapfile.h"

/* A name column is as wide as its longest name within these bounds; a
 * longer name overflows its row rather than lose characters. */
#define CTL_RENDER_NAME_MIN 16
#define CTL_RENDER_NAME_MAX 40

static const char *ctl_render_str(const struct ctl_record *r, const char *key)
{
    const char *v = ctl_rec_get(r, key);
    return v ? v : "";
}

static double ctl_render_num(const struct ctl_record *r, const char *key)
{
    return ctl_rec_num(r, key, 0.0);
}

static int ctl_render_has(const struct ctl_record *r, const char *key)
{
    return ctl_rec_get(r, key) != NULL;
}

static int ctl_render_is(const struct ctl_record *r, const char *kind)
{
    return r->kind && strcmp(r->kind, kind) == 0;
}

static const struct ctl_record *ctl_render_find(const struct ctl_record *recs, size_t n,
                                                const char *kind)
{
    for (size_t i = 0; i < n; i++)
        if (ctl_render_is(&recs[i], kind))
            return &recs[i];
    return NULL;
}

/* Seconds with a unit, sign "+" or "" for positive values. */
static const char *ctl_render_scaled(double x, const char *sign, char *out, size_t size)
{
    static const struct {
        double below, scale;
        const char *unit;
    } units[] = {{1e-6, 1e9, "ns"}, {1e-3, 1e6, "us"}, {0.1, 1e3, "ms"}, {1e5, 1.0, "s"}};
    char num[32];

    if (!isfinite(x)) {
        snprintf(out, size, "-");
        return out;
    }
    /* round to four significant digits before choosing the unit, so that
     * 999.96us reads 1ms and not 1000us */
    snprintf(num, sizeof(num), "%.3e", fabs(x));
    double a = strtod(num, NULL);
    if (a == 0.0) {
        snprintf(out, size, "%s0s", sign);
        return out;
    }
    if (a >= units[3].below) {
        snprintf(out, size, "%s%ss", x < 0 ? "-" : sign, num);
        return out;
    }
    size_t u = 0;
    while (a >= units[u].below)
        u++;
    double v = fabs(x) * units[u].scale;
    snprintf(num, sizeof(num), "%.*f", v < 10 ? 3 : v < 100 ? 2 : v < 1000 ? 1 : 0, v);
    if (strchr(num, '.')) {
        size_t len = strlen(num);
        while (num[len - 1] == '0')
            num[--len] = '\0';
        if (num[len - 1] == '.')
            num[--len] = '\0';
    }
    snprintf(out, size, "%s%s%s", x < 0 ? "-" : sign, num, units[u].unit);
    return out;
}

const char *ctl_render_offset(double seconds, char *out, size_t size)
{
    return ctl_render_scaled(seconds, "+", out, size);
}

/* Records carry offsets as NTP does (RFC 5905 theta: source minus local);
 * people read them as chronyc prints them: local minus source, so that a
 * positive offset means the local clock is ahead. */
static const char *ctl_render_local_offset(double theta, char *out, size_t size)
{
    return ctl_render_offset(-theta, out, size);
}

const char *ctl_render_interval(double seconds, char *out, size_t size)
{
    return ctl_render_scaled(seconds, "", out, size);
}

const char *ctl_render_age(double seconds, char *out, size_t size)
{
    if (!(seconds >= 0) || seconds > 1e15)
        snprintf(out, size, "-");
    else if (seconds < 120)
        snprintf(out, size, "%.0fs", floor(seconds));
    else if (seconds < 120 * 60)
        snprintf(out, size, "%.0fm", floor(seconds / 60));
    else if (seconds < 48 * 3600)
        snprintf(out, size, "%.0fh", floor(seconds / 3600));
    else
        snprintf(out, size, "%.0fd", floor(seconds / 86400));
    return out;
}

/* A Unix time as UTC with milliseconds; "never" for 0. */
static const char *ctl_render_utc(double t, char *out, size_t size)
{
    char day[32];
    struct tm tm;

    if (!(t > 0) || t >= 253402300800.0) { /* after 9999-12-31: not a time */
        snprintf(out, size, "never");
        return out;
    }
    time_t sec = (time_t)floor(t);
    int ms = (int)((t - floor(t)) * 1000);
    if (!gmtime_r(&sec, &tm) || !strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm)) {
        snprintf(out, size, "-");
        return out;
    }
    snprintf(out, size, "%s.%03d UTC", day, ms > 999 ? 999 : ms);
    return out;
}

static void ctl_render_line(struct ctl_buf *out, const char *name, const char *value)
{
    ctl_buf_printf(out, "%-15s : %s\n", name, value);
}

static const char *ctl_render_leap(double leap)
{
    static const char *const names[] = {"normal", "insert second", "delete second",
                                        "not synchronised"};
    return leap >= 0 && leap <= 3 ? names[(int)leap] : "?";
}

/* The first half of tracking: where the time comes from. */
static void ctl_render_tracking_ref(const struct ctl_record *r, struct ctl_buf *out)
{
    char v[160], a[64], b[32];
    const char *name = ctl_render_str(r, "ref_name"), *id = ctl_render_str(r, "refid_str");

    if (ctl_render_num(r, "synced") != 0)
        snprintf(v, sizeof(v), "synchronised");
    else if (ctl_render_num(r, "local") != 0)
        snprintf(v, sizeof(v), "local reference");
    else
        snprintf(v, sizeof(v), "not synchronised (%s)", ctl_render_str(r, "outcome"));
    ctl_render_line(out, "Status", v);
    if (*name && strcmp(name, id) != 0)
        snprintf(v, sizeof(v), "%s (%s)", *id ? id : "-", name);
    else
        snprintf(v, sizeof(v), "%s", *id ? id : "-");
    ctl_render_line(out, "Reference ID", v);
    snprintf(v, sizeof(v), "%.0f", ctl_render_num(r, "stratum"));
    ctl_render_line(out, "Stratum", v);
    double ref = ctl_render_num(r, "ref_time");
    ctl_render_utc(ref, a, sizeof(a));
    if (ref > 0)
        snprintf(v, sizeof(v), "%s (%s ago)", a,
                 ctl_render_age(ctl_render_num(r, "since_update"), b, sizeof(b)));
    else
        snprintf(v, sizeof(v), "%s", a);
    ctl_render_line(out, "Reference time", v);
    double sys = ctl_render_num(r, "system_offset");
    if (sys == 0)
        snprintf(v, sizeof(v), "on NTP time");
    else
        snprintf(v, sizeof(v), "%s %s NTP time", ctl_render_interval(fabs(sys), a, sizeof(a)),
                 sys > 0 ? "ahead of" : "behind");
    ctl_render_line(out, "System time", v);
}

/* The second half: how well the clock follows. */
static void ctl_render_tracking_clock(const struct ctl_record *r, struct ctl_buf *out)
{
    char v[160], a[32];

    ctl_render_line(out, "Last offset",
                    ctl_render_local_offset(ctl_render_num(r, "offset"), a, 32));
    ctl_render_line(out, "RMS offset", ctl_render_interval(ctl_render_num(r, "rms_offset"), a, 32));
    snprintf(v, sizeof(v), "%+.3f ppm", ctl_render_num(r, "freq_ppm"));
    ctl_render_line(out, "Frequency", v);
    snprintf(v, sizeof(v), "%.3f ppm", ctl_render_num(r, "freq_err_ppm"));
    ctl_render_line(out, "Frequency error", v);
    ctl_render_line(out, "Root delay", ctl_render_interval(ctl_render_num(r, "root_delay"), a, 32));
    ctl_render_line(out, "Root dispersion",
                    ctl_render_interval(ctl_render_num(r, "root_dispersion"), a, 32));
    ctl_render_line(out, "Update interval",
                    ctl_render_interval(ctl_render_num(r, "update_interval"), a, 32));
    ctl_render_line(out, "Leap status", ctl_render_leap(ctl_render_num(r, "leap")));
    double pending = ctl_render_num(r, "leap_pending");
    if (pending != 0) {
        snprintf(v, sizeof(v), "%s at the end of the day (from the %s)",
                 pending > 0 ? "inserted" : "deleted", ctl_render_str(r, "leap_source"));
        ctl_render_line(out, "Leap second", v);
    }
    double smear = ctl_render_num(r, "leap_smear");
    if (smear != 0) {
        snprintf(v, sizeof(v), "served time %s %s the clock",
                 ctl_render_interval(fabs(smear), a, sizeof(a)), smear < 0 ? "behind" : "ahead of");
        ctl_render_line(out, "Leap smear", v);
    }
    if (ctl_render_has(r, "leaplist_expires_in")) {
        double days = ctl_render_num(r, "leaplist_expires_in") / 86400;
        if (days < 0)
            snprintf(v, sizeof(v), "expired %.0f days ago", -days);
        else
            snprintf(v, sizeof(v), "expires in %.0f days", days);
        ctl_render_line(out, "Leap list", v);
    }
    snprintf(v, sizeof(v), "%.0f in agreement of %.0f", ctl_render_num(r, "ntruechimers"),
             ctl_render_num(r, "nsources"));
    ctl_render_line(out, "Sources", v);
    double steps = ctl_render_num(r, "steps");
    if (steps > 0)
        snprintf(v, sizeof(v), "%.0f (last %s)", steps,
                 ctl_render_offset(ctl_render_num(r, "last_step"), a, sizeof(a)));
    else
        snprintf(v, sizeof(v), "0");
    ctl_render_line(out, "Clock steps", v);
    ctl_render_line(out, "Clock", ctl_render_str(r, "clock"));
}

void ctl_render_tracking(const struct ctl_record *recs, size_t n, struct ctl_buf *out)
{
    const struct ctl_record *r = ctl_render_find(recs, n, "tracking");
    if (!r)
        return;
    ctl_render_tracking_ref(r, out);
    ctl_render_tracking_clock(r, out);
}

static int ctl_render_name_width(const struct ctl_record *recs, size_t n, const char *kind,
                                 const char *key)
{
    size_t w = CTL_RENDER_NAME_MIN;
    for (size_t i = 0; i < n; i++)
        if (ctl_render_is(&recs[i], kind)) {
            size_t len = strlen(ctl_render_str(&recs[i], key));
            w = len > w ? len : w;
        }
    return (int)(w < CTL_RENDER_NAME_MAX ? w : CTL_RENDER_NAME_MAX);
}

static void ctl_render_rule(struct ctl_buf *out, int width)
{
    char line[256];
    if (width > (int)sizeof(line) - 2)
        width = (int)sizeof(line) - 2;
    memset(line, '=', (size_t)width);
    line[width] = '\n';
    ctl_buf_append(out, line, (size_t)width + 1);
}

/* The state symbol of a source, by its state name. */
static char ctl_render_symbol(const char *state)
{
    static const struct {
        const char *state;
        char sym;
    } map[] = {
        {"selected", '*'},    {"combined", '+'},    {"candidate", '-'},   {"too few", '-'},
        {"falseticker", 'x'}, {"too distant", '~'}, {"unreachable", '?'}, {"unsynced", '?'},
        {"noselect", '!'},    {"denied", '#'},      {"loop", '&'},        {"orphan", '='},
        {"waiting", '.'},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].state, state) == 0)
            return map[i].sym;
    return '?';
}

static const char ctl_render_legend[] =
    "State: * selected (system peer)   + combined   - candidate, not combined\n"
    "       x falseticker   ~ too distant   ? unreachable or unsynchronised\n"
    "       ! noselect   # denied by the server (kiss-o'-death)\n"
    "       & loop (synchronised to us)   = orphan peer held back\n"
    "       . waiting for the first selection after start\n"
    "St stratum, Poll log2 of the poll interval in seconds, Reach the last 8\n"
    "polls in octal (377: all answered; reachable: one of the last 3), LastRx\n"
    "time since the last good reply, Offset local time minus source time in\n"
    "the sample in use (the filter's pick; + local clock ahead, as chronyc),\n"
    "Delay round trip, Jitter sample spread.\n"
    "\n";

#define CTL_RENDER_SOURCE_FMT "%s %-*s %2s %4s %5s %6s %9s %9s %9s\n"

static void ctl_render_source_row(const struct ctl_record *r, const char *name, int w,
                                  struct ctl_buf *out)
{
    char sym[2], st[16], poll[16], reach[16], age[16], off[32], del[32], jit[32];
    int have = ctl_rec_num(r, "nsamples", 1) > 0;
    double stratum = ctl_render_num(r, "stratum"), reg = ctl_render_num(r, "reach");

    sym[0] = ctl_render_symbol(ctl_render_str(r, "state"));
    sym[1] = '\0';
    /* a refclock is stratum 0, the one source where 0 is not "unknown" */
    int known = stratum > 0 || (stratum == 0 && ctl_rec_num(r, "refclock", 0) == 1);
    snprintf(st, sizeof(st), known && stratum < 100 ? "%.0f" : "-", stratum);
    snprintf(poll, sizeof(poll), "%.0f", ctl_render_num(r, "poll"));
    snprintf(reach, sizeof(reach), "%o", reg >= 0 && reg <= 0xffff ? (unsigned)reg : 0u);
    /* a daemon without last_rx: the age of the sample in use */
    ctl_render_age(ctl_rec_num(r, "last_rx", ctl_rec_num(r, "age", -1)), age, sizeof(age));
    if (have) {
        ctl_render_local_offset(ctl_render_num(r, "offset"), off, sizeof(off));
        ctl_render_interval(ctl_render_num(r, "delay"), del, sizeof(del));
        ctl_render_interval(ctl_render_num(r, "jitter"), jit, sizeof(jit));
    } else {
        strcpy(off, "-");
        strcpy(del, "-");
        strcpy(jit, "-");
    }
    ctl_buf_printf(out, CTL_RENDER_SOURCE_FMT, sym, w, name, st, poll, reach, age, off, del, jit);
}

/* 1 if the reply's authdata record for the source at index says NTS. */
static int ctl_render_is_nts(const struct ctl_record *recs, size_t n, double index)
{
    for (size_t i = 0; i < n; i++)
        if (ctl_render_is(&recs[i], "authdata") && ctl_render_num(&recs[i], "index") == index)
            return strcmp(ctl_render_str(&recs[i], "mode"), "NTS") == 0;
    return 0;
}

#define CTL_RENDER_NTS_MARK " [NTS]"

void ctl_render_sources(const struct ctl_record *recs, size_t n, int verbose, struct ctl_buf *out)
{
    int w = ctl_render_name_width(recs, n, "source", "name");
    char name[320];

    /* NTS sources carry a mark after the name: room for it. */
    for (size_t i = 0; i < n; i++) {
        if (!ctl_render_is(&recs[i], "source") ||
            !ctl_render_is_nts(recs, n, ctl_render_num(&recs[i], "index")))
            continue;
        int len = (int)(strlen(ctl_render_str(&recs[i], "name")) + strlen(CTL_RENDER_NTS_MARK));
        w = len > w && len < CTL_RENDER_NAME_MAX ? len : w;
    }

    if (verbose)
        ctl_buf_append(out, ctl_render_legend, sizeof(ctl_render_legend) - 1);
    ctl_buf_printf(out, CTL_RENDER_SOURCE_FMT, "S", w, "Name/IP address", "St", "Poll", "Reach",
                   "LastRx", "Offset", "Delay", "Jitter");
    ctl_render_rule(out, w + 53);
    for (size_t i = 0; i < n; i++) {
        if (!ctl_render_is(&recs[i], "source"))
            continue;
        int nts = ctl_render_is_nts(recs, n, ctl_render_num(&recs[i], "index"));
        snprintf(name, sizeof(name), "%s%s", ctl_render_str(&recs[i], "name"),
                 nts ? CTL_RENDER_NTS_MARK : "");
        ctl_render_source_row(&recs[i], name, w, out);
    }
}

#define CTL_RENDER_AUTH_FMT "%-*s %4s %5s %6s %4s %6s %4s %6s %4s %4s %7s %6s\n"

static void ctl_render_auth_row(const struct ctl_record *r, int w, struct ctl_buf *out)
{
    char keyid[16], klen[16], last[16], kes[16], kef[16], naks[16], cook[16], okc[24], bad[16];
    int nts = strcmp(ctl_render_str(r, "mode"), "NTS") == 0;

    snprintf(keyid, sizeof(keyid), "%.0f", ctl_render_num(r, "keyid"));
    snprintf(klen, sizeof(klen), "%.0f", ctl_render_num(r, "keybits"));
    if (nts) {
        ctl_render_age(ctl_rec_num(r, "last_ke", -1), last, sizeof(last));
        snprintf(kes, sizeof(kes), "%.0f", ctl_render_num(r, "kes"));
        snprintf(kef, sizeof(kef), "%.0f", ctl_render_num(r, "ke_failures"));
        snprintf(naks, sizeof(naks), "%.0f", ctl_render_num(r, "naks"));
        snprintf(cook, sizeof(cook), "%.0f", ctl_render_num(r, "cookies"));
        snprintf(okc, sizeof(okc), "%.0f", ctl_render_num(r, "replies_ok"));
        snprintf(bad, sizeof(bad), "%.0f", ctl_render_num(r, "replies_bad"));
    } else {
        strcpy(last, "-");
        strcpy(kes, "-");
        strcpy(kef, "-");
        strcpy(naks, "-");
        strcpy(cook, "-");
        strcpy(okc, "-");
        strcpy(bad, "-");
    }
    char aead[16];
    snprintf(aead, sizeof(aead), ctl_render_num(r, "aead") > 0 ? "%.0f" : "-",
             ctl_render_num(r, "aead"));
    const char *type = nts ? aead : ctl_render_str(r, "keytype");
    ctl_buf_printf(out, CTL_RENDER_AUTH_FMT, w, ctl_render_str(r, "name"),
                   ctl_render_str(r, "mode"), nts ? "-" : keyid, type, klen, last, kes, kef, naks,
                   cook, okc, bad);
}

void ctl_render_authdata(const struct ctl_record *recs, size_t n, struct ctl_buf *out)
{
    int w = ctl_render_name_width(recs, n, "authdata", "name");

    ctl_buf_printf(out, CTL_RENDER_AUTH_FMT, w, "Name/IP address", "Mode", "KeyID", "Type", "KLen",
                   "LastKE", "KEs", "KEfail", "NAK", "Cook", "RepOK", "RepBad");
    ctl_render_rule(out, w + 69);
    for (size_t i = 0; i < n; i++)
        if (ctl_render_is(&recs[i], "authdata"))
            ctl_render_auth_row(&recs[i], w, out);
    for (size_t i = 0; i < n; i++) {
        const char *e =
            ctl_render_is(&recs[i], "authdata") ? ctl_render_str(&recs[i], "ke_error") : "";
        if (e[0])
            ctl_buf_printf(out, "%s: last key exchange failed: %s\n",
                           ctl_render_str(&recs[i], "name"), e);
    }
}

#define CTL_RENDER_STATS_FMT "%-*s %3s %6s %11s %10s %9s %9s\n"

void ctl_render_sourcestats(const struct ctl_record *recs, size_t n, struct ctl_buf *out)
{
    int w = ctl_render_name_width(recs, n, "sourcestats", "name");
    char np[16], span[16], freq[32], skew[32], off[32], dev[32];

    ctl_buf_printf(out, CTL_RENDER_STATS_FMT, w, "Name/IP address", "NP", "Span", "Frequency",
                   "Skew", "Offset", "Std Dev");
    ctl_render_rule(out, w + 54);
    for (size_t i = 0; i < n; i++) {
        const struct ctl_record *r = &recs[i];
        if (!ctl_render_is(r, "sourcestats"))
            continue;
        double ns = ctl_render_num(r, "nsamples");
        snprintf(np, sizeof(np), "%.0f", ns);
        if (ns > 0) {
            ctl_render_age(ctl_render_num(r, "span"), span, sizeof(span));
            snprintf(freq, sizeof(freq), "%+.3fppm", ctl_render_num(r, "freq_ppm"));
            snprintf(skew, sizeof(skew), "%.3fppm", ctl_render_num(r, "skew_ppm"));
            ctl_render_local_offset(ctl_render_num(r, "offset"), off, sizeof(off));
            ctl_render_interval(ctl_render_num(r, "stddev"), dev, sizeof(dev));
        } else {
            strcpy(span, "-");
            strcpy(freq, "-");
            strcpy(skew, "-");
            strcpy(off, "-");
            strcpy(dev, "-");
        }
        ctl_buf_printf(out, CTL_RENDER_STATS_FMT, w, ctl_render_str(r, "name"), np, span, freq,
                       skew, off, dev);
    }
}

/* Most requests first; ties by address so the order is always the same. */
static int ctl_render_by_requests(const void *a, const void *b)
{
    const struct ctl_record *x = a, *y = b;
    double rx = ctl_render_num(x, "requests"), ry = ctl_render_num(y, "requests");
    if (rx != ry)
        return rx < ry ? 1 : -1;
    return strcmp(ctl_render_str(x, "address"), ctl_render_str(y, "address"));
}

size_t ctl_render_top_clients(struct ctl_record *recs, size_t n, size_t max)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        if (ctl_render_is(&recs[i], "client")) {
            if (k != i)
                recs[k] = recs[i];
            k++;
        }
    qsort(recs, k, sizeof(*recs), ctl_render_by_requests);
    return k < max ? k : max;
}

#define CTL_RENDER_CLIENT_FMT "%-*s %10s %8s %8s %6s\n"

void ctl_render_clients(const struct ctl_record *recs, size_t n, struct ctl_buf *out)
{
    int w = ctl_render_name_width(recs, n, "client", "address");
    char req[32], drops[32], kods[32], last[16];

    ctl_buf_printf(out, CTL_RENDER_CLIENT_FMT, w, "Address", "Requests", "Drops", "KoDs", "Last");
    ctl_render_rule(out, w + 36);
    for (size_t i = 0; i < n; i++) {
        const struct ctl_record *r = &recs[i];
        if (!ctl_render_is(r, "client"))
            continue;
        snprintf(req, sizeof(req), "%.0f", ctl_render_num(r, "requests"));
        snprintf(drops, sizeof(drops), "%.0f", ctl_render_num(r, "drops"));
        snprintf(kods, sizeof(kods), "%.0f", ctl_render_num(r, "kods"));
        ctl_render_age(ctl_rec_num(r, "last_seen", -1), last, sizeof(last));
        ctl_buf_printf(out, CTL_RENDER_CLIENT_FMT, w, ctl_render_str(r, "address"), req, drops,
                       kods, last);
    }
}

static const struct ctl_record *ctl_render_family(const struct ctl_record *recs, size_t n,
                                                  const char *family)
{
    for (size_t i = 0; i < n; i++)
        if (ctl_render_is(&recs[i], "serverstats") &&
            strcmp(ctl_render_str(&recs[i], "family"), family) == 0)
            return &recs[i];
    return NULL;
}

static void ctl_render_serverinfo(const struct ctl_record *r, struct ctl_buf *out)
{
    char v[128];

    snprintf(v, sizeof(v), "%.0f of %.0f (%.0f bytes)", ctl_render_num(r, "clients"),
             ctl_render_num(r, "clients_capacity"), ctl_render_num(r, "table_bytes"));
    ctl_render_line(out, "Clients tracked", v);
    ctl_render_line(out, "Rate limiting", ctl_render_num(r, "ratelimit") != 0 ? "on" : "off");
}

static void ctl_render_ntsserver(const struct ctl_record *r, struct ctl_buf *out)
{
    char v[160];

    snprintf(v, sizeof(v), "%.0f accepted, %.0f shed (%.0f by address), %.0f served, %.0f failed",
             ctl_render_num(r, "ke_accepted"), ctl_render_num(r, "ke_shed"),
             ctl_render_num(r, "ke_shed_address"), ctl_render_num(r, "ke_served"),
             ctl_render_num(r, "ke_failed"));
    ctl_render_line(out, "NTS-KE", v);
    snprintf(v, sizeof(v), "id %.0f, %.0f rotation(s), %.0f KE worker(s)",
             ctl_render_num(r, "key_id"), ctl_render_num(r, "rotations"),
             ctl_render_num(r, "workers"));
    ctl_render_line(out, "NTS cookie key", v);
}

/* Uptime and how the busiest counters grew over the recent window. */
static void ctl_render_recent(const struct ctl_record *r, struct ctl_buf *out)
{
    char v[160], age[16];
    double window = ctl_render_num(r, "window");

    ctl_render_line(out, "Uptime", ctl_render_age(ctl_render_num(r, "uptime"), age, sizeof(age)));
    if (!(window > 0))
        return;
    snprintf(v, sizeof(v), "%.0f received, %.0f denied, %.0f peer changes",
             ctl_render_num(r, "received_ipv4") + ctl_render_num(r, "received_ipv6"),
             ctl_render_num(r, "denied_ipv4") + ctl_render_num(r, "denied_ipv6"),
             ctl_render_num(r, "peer_changes"));
    char label[32];
    snprintf(label, sizeof(label), "Last %s", ctl_render_age(window, age, sizeof(age)));
    ctl_render_line(out, label, v);
}

void ctl_render_serverstats(const struct ctl_record *recs, size_t n, struct ctl_buf *out)
{
    static const struct {
        const char *key, *label;
    } rows[] = {
        {"received", "Received"},        {"answered", "Answered"}, {"denied", "Denied"},
        {"ratelimited", "Rate limited"}, {"kod", "KoD sent"},      {"malformed", "Malformed"},
        {"wrong_mode", "Wrong mode"},    {"control", "Control"},   {"auth_dropped", "Auth dropped"},
        {"auth_failed", "Auth failed"},  {"auth_ok", "Auth OK"},   {"empty", "Empty"},
        {"oversized", "Oversized"},
        /* With an NTS server (an ntsserver record) only. */
        {"nts_ok", "NTS OK"},           {"nts_nak", "NTS NAK sent"},
        {"nts_bad_cookie", "NTS bad cookie"}, {"nts_auth_failed", "NTS auth fail"},
        {"nts_malformed", "NTS malformed"},   {"plain_refused", "Plain refused"},
    };
    const struct ctl_record *nts = ctl_render_find(recs, n, "ntsserver");
    size_t nrows = sizeof(rows) / sizeof(rows[0]) - (nts ? 0 : 6);
    const struct ctl_record *v4 = ctl_render_family(recs, n, "ipv4");
    const struct ctl_record *v6 = ctl_render_family(recs, n, "ipv6");
    const struct ctl_record *info = ctl_render_find(recs, n, "serverinfo");
    char a[32], b[32], t[32];

    if (v4 || v6) {
        ctl_buf_printf(out, "%-15s %12s %12s %12s\n", "", "IPv4", "IPv6", "Total");
        ctl_render_rule(out, 54);
    }
    for (size_t i = 0; (v4 || v6) && i < nrows; i++) {
        double x = v4 ? ctl_render_num(v4, rows[i].key) : 0;
        double y = v6 ? ctl_render_num(v6, rows[i].key) : 0;
        snprintf(a, sizeof(a), v4 ? "%.0f" : "-", x);
        snprintf(b, sizeof(b), v6 ? "%.0f" : "-", y);
        snprintf(t, sizeof(t), "%.0f", x + y);
        ctl_buf_printf(out, "%-15s %12s %12s %12s\n", rows[i].label, a, b, t);
    }
    if (info) {
        if (v4 || v6)
            ctl_buf_append(out, "\n", 1);
        ctl_render_serverinfo(info, out);
    }
    if (nts)
        ctl_render_ntsserver(nts, out);
    const struct ctl_record *recent = ctl_render_find(recs, n, "recent");
    if (recent)
        ctl_render_recent(recent, out);
}

int ctl_render_reload(const struct ctl_record *recs, size_t n, struct ctl_buf *out)
{
    const struct ctl_record *res = ctl_render_find(recs, n, "result");
    int ok = res && ctl_render_num(res, "ok") == 1;
    const char *msg = res ? ctl_render_str(res, "message") : "";

    for (size_t i = 0; i < n; i++)
        if (ctl_render_is(&recs[i], "error"))
            ctl_buf_printf(out, "%s\n", ctl_render_str(&recs[i], "message"));
    if (*msg)
        ctl_buf_printf(out, "%s\n", msg);
    else
        ctl_buf_printf(out, "%s\n", ok ? "configuration reloaded" : "reload failed");
    return ok;
}

/* Length of the valid UTF-8 sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF) at p, or 0. p is NUL-terminated, and
 * a NUL fails every test below before the byte after it is read. */
static size_t ctl_render_utf8_len(const unsigned char *p)
{
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        return (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (p[0] >= 0xe0 && p[0] <= 0xef) {
        unsigned lo = p[0] == 0xe0 ? 0xa0 : 0x80, hi = p[0] == 0xed ? 0x9f : 0xbf;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        unsigned lo = p[0] == 0xf0 ? 0x90 : 0x80, hi = p[0] == 0xf4 ? 0x8f : 0xbf;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4 : 0;
    }
    return 0;
}

void ctl_render_json_string(struct ctl_buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");

    ctl_buf_append(out, "\"", 1);
    while (*p) {
        size_t run = 0;
        while (p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
            run++;
        ctl_buf_append(out, p, run);
        p += run;
        if (!*p)
            break;
        size_t k = *p >= 0x80 ? ctl_render_utf8_len(p) : 0;
        if (k) {
            ctl_buf_append(out, p, k);
            p += k;
            continue;
        }
        if (*p == '"' || *p == '\\')
            ctl_buf_printf(out, "\\%c", *p);
        else if (*p == '\n')
            ctl_buf_append(out, "\\n", 2);
        else if (*p == '\t')
            ctl_buf_append(out, "\\t", 2);
        else if (*p == '\r')
            ctl_buf_append(out, "\\r", 2);
        else if (*p < 0x80)
            ctl_buf_printf(out, "\\u%04x", *p);
        else
            ctl_buf_append(out, "\\ufffd", 6);
        p++;
    }
    ctl_buf_append(out, "\"", 1);
}

/* One record as an object; numbers go out as they came, since the parser
 * only lets through what is also a JSON number. */
static void ctl_render_json_object(struct ctl_buf *out, const struct ctl_record *r)
{
    int first = 1;

    ctl_buf_append(out, "{", 1);
    for (unsigned i = 0; i < r->n && i < CTL_MAX_FIELDS; i++) {
        const struct ctl_field *f = &r->f[i];
        if (strcmp(f->key, "record") == 0)
            continue;
        if (!first)
            ctl_buf_append(out, ",", 1);
        first = 0;
        ctl_render_json_string(out, f->key);
        ctl_buf_append(out, ":", 1);
        if (f->is_string)
            ctl_render_json_string(out, f->value);
        else
            ctl_buf_append(out, f->value, strlen(f->value));
    }
    ctl_buf_append(out, "}", 1);
}

static void ctl_render_json_array(struct ctl_buf *out, const struct ctl_record *recs, size_t n,
                                  const char *kind)
{
    int first = 1;

    ctl_buf_append(out, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (!ctl_render_is(&recs[i], kind))
            continue;
        if (!first)
            ctl_buf_append(out, ",", 1);
        first = 0;
        ctl_render_json_object(out, &recs[i]);
    }
    ctl_buf_append(out, "]", 1);
}

/* What each command shows: up to three members of the top object (a list
 * of all records of a kind, or the first of them); key NULL makes the one
 * record the top object itself. */
struct ctl_render_view {
    const char *command;
    struct {
        const char *kind, *key;
        int single; /* 1: one record (null if none); 2: one, left out if none */
    } part[4];
};

static const struct ctl_render_view ctl_render_views[] = {
    {"tracking", {{"tracking", NULL, 1}, {NULL, NULL, 0}}},
    {"sources", {{"source", "sources", 0}, {NULL, NULL, 0}}},
    {"sourcestats", {{"sourcestats", "sourcestats", 0}, {NULL, NULL, 0}}},
    {"authdata", {{"authdata", "authdata", 0}, {NULL, NULL, 0}}},
    {"clients", {{"client", "clients", 0}, {NULL, NULL, 0}}},
    {"serverstats",
     {{"serverstats", "serverstats", 0},
      {"serverinfo", "serverinfo", 1},
      {"recent", "recent", 1},
      {"ntsserver", "ntsserver", 2}}},
    {"reload", {{"result", "result", 1}, {"error", "errors", 0}}},
};

int ctl_render_json(const char *command, const struct ctl_record *recs, size_t n,
                    struct ctl_buf *out)
{
    const struct ctl_render_view *v = NULL;

    for (size_t i = 0; i < sizeof(ctl_render_views) / sizeof(ctl_render_views[0]); i++)
        if (strcmp(ctl_render_views[i].command, command) == 0)
            v = &ctl_render_views[i];
    if (!v)
        return -1;
    if (!v->part[0].key) {
        const struct ctl_record *r = ctl_render_find(recs, n, v->part[0].kind);
        if (!r)
            return -1;
        ctl_render_json_object(out, r);
        ctl_buf_append(out, "\n", 1);
        return 0;
    }
    ctl_buf_append(out, "{", 1);
    for (size_t p = 0; p < 4 && v->part[p].kind; p++) {
        const struct ctl_record *r = ctl_render_find(recs, n, v->part[p].kind);
        if (v->part[p].single == 2 && !r)
            continue;
        if (p > 0)
            ctl_buf_append(out, ",", 1);
        ctl_render_json_string(out, v->part[p].key);
        ctl_buf_append(out, ":", 1);
        if (!v->part[p].single)
            ctl_render_json_array(out, recs, n, v->part[p].kind);
        else if (r)
            ctl_render_json_object(out, r);
        else
            ctl_buf_append(out, "null", 4);
    }
    ctl_buf_append(out, "}\n", 2);
    return 0;
}

void ctl_render_check_defaults(struct ctl_render_check *c)
{
    c->warn_offset = 0.1;
    c->crit_offset = 1.0;
    c->min_sources = 1;
    c->max_stratum = 15;
    c->on_orphan = c->on_local = c->on_holdover = CTL_RENDER_WARNING;
}

int ctl_render_check_level(const char *s, enum ctl_render_status *out)
{
    static const char *const names[] = {"ok", "warning", "critical"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum ctl_render_status)i;
            return 0;
        }
    return -1;
}

/* Where the served time comes from (tracking's timesource; from synced and
 * local for a daemon that does not say). */
static const char *ctl_render_timesource(const struct ctl_record *t)
{
    const char *s = ctl_rec_get(t, "timesource");
    if (s)
        return s;
    if (ctl_render_num(t, "synced") != 0)
        return "upstream";
    return ctl_render_num(t, "local") != 0 ? "local" : "none";
}

/* The summary of where the time comes from, and the state that alone
 * gives. */
static enum ctl_render_status ctl_render_check_source(const struct ctl_record *t,
                                                      const struct ctl_render_check *c,
                                                      char *summary, size_t size)
{
    const char *src = ctl_render_timesource(t), *name = ctl_render_str(t, "ref_name");
    double stratum = ctl_render_num(t, "stratum");
    char a[32];

    if (!*name)
        name = *ctl_render_str(t, "refid_str") ? ctl_render_str(t, "refid_str") : "?";
    ctl_render_local_offset(ctl_render_num(t, "offset"), a, sizeof(a));
    if (strcmp(src, "upstream") == 0) {
        snprintf(summary, size, "synced to %s stratum %.0f offset %s", name, stratum, a);
        return CTL_RENDER_OK;
    }
    if (strcmp(src, "orphan") == 0) {
        snprintf(summary, size, "following orphan peer %s stratum %.0f offset %s, no upstream",
                 name, stratum, a);
        return c->on_orphan;
    }
    if (strcmp(src, "local") == 0) {
        snprintf(summary, size, "serving the local reference only, stratum %.0f", stratum);
        return c->on_local;
    }
    if (strcmp(src, "holdover") == 0) {
        char b[16];
        snprintf(summary, size, "holdover, no source for %s, stratum %.0f",
                 ctl_render_age(ctl_render_num(t, "since_update"), b, sizeof(b)), stratum);
        return c->on_holdover;
    }
    snprintf(summary, size, "not synchronised (%s)", ctl_render_str(t, "outcome"));
    return CTL_RENDER_CRITICAL;
}

/* Add a reason to reasons (joined by "; ") and raise *st to level. */
static void ctl_render_reason(struct ctl_buf *reasons, enum ctl_render_status *st,
                              enum ctl_render_status level, const char *text)
{
    ctl_buf_printf(reasons, "%s; ", text);
    if (level > *st)
        *st = level;
}

/* NTS sources that cannot re-key (their last key exchanges failed) or
 * hold no cookie (their polls cannot be sent): WARNING each. */
static void ctl_render_check_nts(const struct ctl_record *recs, size_t n, struct ctl_buf *reasons,
                                 enum ctl_render_status *st)
{
    char text[200];

    for (size_t i = 0; i < n; i++) {
        const struct ctl_record *r = &recs[i];
        if (!ctl_render_is(r, "authdata") || strcmp(ctl_render_str(r, "mode"), "NTS") != 0)
            continue;
        double failing = ctl_render_num(r, "ke_failing"), cookies = ctl_render_num(r, "cookies");
        if (failing > 0)
            snprintf(text, sizeof(text), "NTS source %s cannot re-key (%.0f failures in a row: %s)",
                     ctl_render_str(r, "name"), failing, ctl_render_str(r, "ke_error"));
        else if (cookies < 1 && ctl_render_num(r, "ke_inflight") == 0)
            snprintf(text, sizeof(text), "NTS source %s has no cookies", ctl_render_str(r, "name"));
        else
            continue;
        ctl_render_reason(reasons, st, CTL_RENDER_WARNING, text);
    }
}

/* An expired leap second list, or one about to expire: a WARNING. */
static void ctl_render_check_leaplist(const struct ctl_record *t, struct ctl_buf *reasons,
                                      enum ctl_render_status *st)
{
    char text[96];
    if (!ctl_render_has(t, "leaplist_expires_in"))
        return;
    double days = ctl_render_num(t, "leaplist_expires_in") / 86400;
    if (days >= LEAPFILE_WARN_DAYS)
        return;
    if (days < 0)
        snprintf(text, sizeof(text), "leap second list expired %.0f days ago", -days);
    else
        snprintf(text, sizeof(text), "leap second list expires in %.0f days", days);
    ctl_render_reason(reasons, st, CTL_RENDER_WARNING, text);
}

enum ctl_render_status ctl_render_check_eval(const struct ctl_record *recs, size_t n,
                                             const struct ctl_render_check *c, struct ctl_buf *out)
{
    static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
    const struct ctl_record *t = ctl_render_find(recs, n, "tracking");
    char summary[200], text[160], a[32], b[32];
    int total = 0, reach = 0;

    if (!t) {
        ctl_buf_printf(out, "TEMPUS UNKNOWN: no tracking record in the reply\n");
        return CTL_RENDER_UNKNOWN;
    }
    for (size_t i = 0; i < n; i++)
        if (ctl_render_is(&recs[i], "source")) {
            total++;
            reach += ctl_render_num(&recs[i], "reachable") != 0;
        }
    int synced = ctl_render_num(t, "synced") != 0, local = ctl_render_num(t, "local") != 0;
    double stratum = ctl_render_num(t, "stratum"), off = ctl_render_num(t, "offset");
    enum ctl_render_status st = ctl_render_check_source(t, c, summary, sizeof(summary));

    struct ctl_buf reasons;
    ctl_buf_init(&reasons, 1024);
    if (reach < c->min_sources) {
        snprintf(text, sizeof(text), "%d sources reachable, need %d", reach, c->min_sources);
        ctl_render_reason(&reasons, &st, CTL_RENDER_CRITICAL, text);
    }
    if ((synced || local) && stratum > c->max_stratum) {
        snprintf(text, sizeof(text), "stratum %.0f above %d", stratum, c->max_stratum);
        ctl_render_reason(&reasons, &st, CTL_RENDER_CRITICAL, text);
    }
    ctl_render_check_leaplist(t, &reasons, &st);
    if (synced && (fabs(off) > c->crit_offset || fabs(off) > c->warn_offset)) {
        int crit = fabs(off) > c->crit_offset;
        snprintf(text, sizeof(text), "offset %s beyond %s",
                 ctl_render_local_offset(off, a, sizeof(a)),
                 ctl_render_interval(crit ? c->crit_offset : c->warn_offset, b, sizeof(b)));
        ctl_render_reason(&reasons, &st, crit ? CTL_RENDER_CRITICAL : CTL_RENDER_WARNING, text);
    }
    ctl_render_check_nts(recs, n, &reasons, &st);
    ctl_buf_printf(out, "TEMPUS %s: %s%s, %d/%d sources reachable\n", names[st], reasons.data,
                   summary, reach, total);
    ctl_buf_free(&reasons);
    return st;
}

int ctl_render_waitsync(const struct ctl_record *recs, size_t n, double max_offset,
                        struct ctl_buf *out)
{
    const struct ctl_record *t = ctl_render_find(recs, n, "tracking");
    char a[32], b[32];

    if (!t) {
        ctl_buf_printf(out, "no tracking record in the reply\n");
        return 0;
    }
    const char *src = ctl_render_timesource(t), *name = ctl_render_str(t, "ref_name");
    double off = ctl_render_num(t, "offset"), corr = ctl_render_num(t, "system_offset");
    int primary = strcmp(src, "local") == 0 && ctl_render_num(t, "nsources") == 0;
    if (strcmp(src, "upstream") != 0 && strcmp(src, "orphan") != 0 && !primary) {
        ctl_buf_printf(out, "not synchronised (%s)\n",
                       strcmp(src, "none") == 0 ? ctl_render_str(t, "outcome") : src);
        return 0;
    }
    ctl_render_local_offset(off, a, sizeof(a));
    ctl_render_interval(fabs(corr), b, sizeof(b));
    if (max_offset > 0 && (fabs(off) > max_offset || fabs(corr) > max_offset)) {
        ctl_buf_printf(out, "synchronised, but offset %s, correction %s: above %g s\n", a, b,
                       max_offset);
        return 0;
    }
    ctl_buf_printf(out, "synchronised to %s stratum %.0f, offset %s, correction %s\n",
                   primary ? "the local reference" : *name ? name : "?",
                   ctl_render_num(t, "stratum"), a, b);
    return 1;
}
