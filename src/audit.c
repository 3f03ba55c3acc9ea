/* SPDX-License-Identifier: ISC */
#include "audit.h"

#include <ctype.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_render.h"
#include "ntp_wire.h"

void audit_params_defaults(struct audit_params *p)
{
    memset(p, 0, sizeof(*p));
    p->outlier = 0.1;
    p->crit_outlier = 1.0;
}

static int audit_port(const char *s, uint16_t *port)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!isdigit((unsigned char)*s) || *end || v < 1 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

int audit_parse_target(const char *arg, struct audit_server *s)
{
    size_t len = strlen(arg);
    const char *colon = strrchr(arg, ':');
    size_t hlen = len;

    memset(s, 0, sizeof(*s));
    s->port = 123;
    if (len == 0 || len >= sizeof(s->name))
        return -1;
    memcpy(s->name, arg, len + 1);
    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (!close || close == arg + 1 || (close[1] && (close[1] != ':' || audit_port(close + 2, &s->port) < 0)))
            return -1;
        hlen = (size_t)(close - arg - 1);
        arg++;
    } else if (colon && colon == strchr(arg, ':')) {
        /* one colon: HOST:PORT; more: a bare IPv6 address */
        if (audit_port(colon + 1, &s->port) < 0)
            return -1;
        hlen = (size_t)(colon - arg);
    }
    if (hlen == 0 || hlen >= sizeof(s->host))
        return -1;
    memcpy(s->host, arg, hlen);
    s->host[hlen] = '\0';
    for (const char *p = s->host; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(".-_:%", *p))
            return -1;
    return 0;
}

int audit_parse_refid(const char *arg, uint32_t *out)
{
    struct netaddr a;
    size_t len = strlen(arg);

    if (addr_parse(arg, &a) == 0) {
        *out = addr_refid(&a);
        return 0;
    }
    if (len == 0 || len > 4)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (!isprint((unsigned char)arg[i]) || arg[i] == ' ')
            return -1;
    char code[5] = {0};
    memcpy(code, arg, len);
    *out = ntp_wire_refid_ascii(code);
    return 0;
}

void audit_request(uint8_t req[48], uint64_t cookie)
{
    struct ntp_header h = {.version = 4, .mode = NTP_MODE_CLIENT, .poll = 6, .tx_ts = cookie};
    ntp_wire_encode_header(&h, req, 48);
}

size_t audit_probe_mode6(uint8_t *buf)
{
    /* version 2, mode 6, opcode 1 (read status), sequence 1, no data */
    memset(buf, 0, 12);
    buf[0] = 2 << 3 | NTP_MODE_CONTROL;
    buf[1] = 1;
    buf[3] = 1;
    return 12;
}

size_t audit_probe_mode7(uint8_t *buf)
{
    /* version 2, mode 7, implementation 3 (xntpd), request 42 (monlist),
     * padded to the 48 bytes ntpdc sends */
    memset(buf, 0, AUDIT_PROBE_LEN);
    buf[0] = 2 << 3 | NTP_MODE_PRIVATE;
    buf[2] = 3;
    buf[3] = 42;
    return AUDIT_PROBE_LEN;
}

int audit_packet_mode(const uint8_t *buf, size_t len)
{
    return len ? buf[0] & 7 : -1;
}

int audit_answer(struct audit_server *s, const uint8_t *buf, size_t len, uint64_t cookie,
                 const struct timespec *t1, const struct timespec *t4)
{
    struct ntp_header h;

    if (ntp_wire_decode_header(buf, len, &h) < 0 || h.mode != NTP_MODE_SERVER || h.org_ts != cookie ||
        h.tx_ts == 0)
        return -1;
    /* A kiss is stratum 0 with an ASCII code; stratum 0 with another refid
     * (tempusd: 0, leap 3) is an unsynchronised server's answer. */
    int kiss = h.stratum == 0;
    for (int i = 0; i < 4; i++) {
        char c = (char)(h.refid >> (24 - 8 * i));
        kiss &= c >= 'A' && c <= 'Z';
        s->kod[i] = c;
    }
    s->kod[4] = '\0';
    if (kiss)
        return 0;
    s->kod[0] = '\0';
    ntp_ts_t t1n = timefmt_ts_from_timespec(t1), t4n = timefmt_ts_from_timespec(t4);
    double offset = (timefmt_ts_diff(h.rx_ts, t1n) + timefmt_ts_diff(h.tx_ts, t4n)) / 2;
    double delay = timefmt_ts_diff(t4n, t1n) - timefmt_ts_diff(h.tx_ts, h.rx_ts);
    if (delay < 0)
        delay = 0;
    if (s->answers++ == 0 || delay < s->delay) {
        s->stratum = h.stratum;
        s->leap = h.leap;
        s->refid = h.refid;
        s->root_delay = timefmt_short_to_double(h.root_delay);
        s->root_dispersion = timefmt_short_to_double(h.root_dispersion);
        s->offset = offset;
        s->delay = delay;
    }
    return 1;
}

/* A server whose time counts for the median. */
static int audit_usable(const struct audit_server *s)
{
    return s->answers > 0 && s->leap != NTP_LEAP_UNSYNC && s->stratum > 0 && s->stratum < 16;
}

static int audit_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median offset of the usable servers; 0 (none) if fewer than 3, where
 * no one of them can be called the odd one out. */
static int audit_median(const struct audit_server *s, size_t n, double *median)
{
    double v[AUDIT_MAX_SERVERS];
    size_t k = 0;

    for (size_t i = 0; i < n && k < AUDIT_MAX_SERVERS; i++)
        if (audit_usable(&s[i]))
            v[k++] = s[i].offset;
    if (k < 3)
        return 0;
    qsort(v, k, sizeof(v[0]), audit_cmp_double);
    *median = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
    return 1;
}

/* Whether refid of server i names a source another server follows or is. */
static int audit_refid_known(const struct audit_server *s, size_t n, size_t i)
{
    for (size_t k = 0; k < n; k++) {
        if (k == i)
            continue;
        if ((audit_usable(&s[k]) && s[k].refid == s[i].refid) ||
            (s[k].addr.family && addr_refid(&s[k].addr) == s[i].refid))
            return 1;
    }
    return 0;
}

static int audit_refid_expected(const struct audit_server *s, size_t n, size_t i,
                                const struct audit_params *p)
{
    for (size_t k = 0; k < p->n_expect; k++)
        if (p->expect[k] == s[i].refid)
            return 1;
    /* following another server of the fleet (a pair that peers) is fine */
    for (size_t k = 0; k < n; k++)
        if (k != i && s[k].addr.family && addr_refid(&s[k].addr) == s[i].refid)
            return 1;
    return 0;
}

int audit_evaluate(struct audit_server *s, size_t n, const struct audit_params *p)
{
    double median = 0;
    int have = audit_median(s, n, &median), status = 0;

    for (size_t i = 0; i < n; i++) {
        struct audit_server *v = &s[i];
        v->flags = 0;
        v->vs_median = 0;
        if (v->answers == 0 && !v->kod[0])
            v->flags |= AUDIT_UNREACHABLE;
        if (!strcmp(v->kod, "DENY") || !strcmp(v->kod, "RSTR"))
            v->flags |= AUDIT_KOD_DENY;
        if (!strcmp(v->kod, "RATE"))
            v->flags |= AUDIT_KOD_RATE;
        if (v->answers > 0 && !audit_usable(v))
            v->flags |= AUDIT_UNSYNCED;
        if (audit_usable(v)) {
            v->lone = v->stratum > 1 && !audit_refid_known(s, n, i);
            if (have) {
                v->vs_median = v->offset - median;
                if (fabs(v->vs_median) > p->outlier)
                    v->flags |= AUDIT_OUTLIER;
                if (fabs(v->vs_median) > p->crit_outlier)
                    v->flags |= AUDIT_OUTLIER_CRIT;
            }
            if (p->n_expect && !audit_refid_expected(s, n, i, p))
                v->flags |= AUDIT_REFID;
        }
        v->flags |= (v->mode6_bytes ? AUDIT_MODE6 : 0) | (v->mode7_bytes ? AUDIT_MODE7 : 0);
        unsigned crit = AUDIT_UNREACHABLE | AUDIT_UNSYNCED | AUDIT_KOD_DENY | AUDIT_OUTLIER_CRIT |
                        AUDIT_MODE7;
        int st = v->flags & crit ? 2 : v->flags ? 1 : 0;
        status = st > status ? st : status;
    }
    return status;
}

const char *audit_refid_text(const struct audit_server *s, char *buf, size_t size)
{
    uint32_t r = s->refid;
    if (s->answers == 0) {
        snprintf(buf, size, "-");
    } else if (s->stratum <= 1) {
        char c[5];
        for (int i = 0; i < 4; i++) {
            c[i] = (char)(r >> (24 - 8 * i));
            if (!isprint((unsigned char)c[i]))
                c[i] = c[i] ? '?' : '\0';
        }
        c[4] = '\0';
        snprintf(buf, size, "%s", c[0] ? c : "-");
    } else {
        snprintf(buf, size, "%u.%u.%u.%u", r >> 24, (r >> 16) & 255, (r >> 8) & 255, r & 255);
    }
    return buf;
}

static const char *const audit_flag_names[] = {"unreachable", "unsynchronised", "denied",
                                               "rate-kod", "outlier", "outlier-critical",
                                               "unexpected-refid", "mode6", "mode7"};
#define AUDIT_NFLAGS (sizeof(audit_flag_names) / sizeof(audit_flag_names[0]))

static void audit_flags_text(unsigned flags, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < AUDIT_NFLAGS; i++)
        if (flags & (1u << i) && len < size)
            len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "," : "",
                                    audit_flag_names[i]);
    if (!len)
        snprintf(buf, size, "-");
}

static const char *const audit_status_names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
static const char *const audit_leap_names[] = {"none", "insert", "delete", "unsync"};

static void audit_summary(const struct audit_server *s, size_t n, int status, struct ctl_buf *out)
{
    size_t count[AUDIT_NFLAGS] = {0}, reach = 0;
    double median;
    char buf[32];

    for (size_t i = 0; i < n; i++) {
        reach += s[i].answers > 0;
        for (size_t k = 0; k < AUDIT_NFLAGS; k++)
            count[k] += (s[i].flags >> k) & 1;
    }
    ctl_buf_printf(out, "TEMPUS %s: audit: %zu servers, %zu answered", audit_status_names[status & 3],
                   n, reach);
    if (audit_median(s, n, &median))
        ctl_buf_printf(out, ", median offset %s", ctl_render_offset(median, buf, sizeof(buf)));
    for (size_t k = 0; k < AUDIT_NFLAGS; k++)
        if (count[k])
            ctl_buf_printf(out, ", %zu %s", count[k], audit_flag_names[k]);
    ctl_buf_printf(out, "\n");
}

void audit_render_table(const struct audit_server *s, size_t n, int status, struct ctl_buf *out)
{
    double median;
    int have = audit_median(s, n, &median);

    audit_summary(s, n, status, out);
    ctl_buf_printf(out, "%-28s %-20s %2s %-15s %-6s %9s %9s %9s %9s %s\n", "SERVER", "ADDRESS", "ST",
                   "REFID", "LEAP", "ROOTDIST", "OFFSET", "VSMEDIAN", "DELAY", "FLAGS");
    for (size_t i = 0; i < n; i++) {
        const struct audit_server *v = &s[i];
        char addr[ADDR_STRLEN] = "-", refid[16], rd[16], off[16], med[16], dl[16], flags[160];
        if (v->addr.family)
            addr_format(&v->addr, addr, sizeof(addr));
        audit_refid_text(v, refid, sizeof(refid));
        audit_flags_text(v->flags, flags, sizeof(flags));
        if (v->answers == 0) {
            ctl_buf_printf(out, "%-28s %-20s %2s %-15s %-6s %9s %9s %9s %9s %s%s%s\n", v->name, addr,
                           "-", refid, "-", "-", "-", "-", "-", flags, v->kod[0] ? " kod=" : "", v->kod);
            continue;
        }
        ctl_render_interval(v->root_delay / 2 + v->root_dispersion, rd, sizeof(rd));
        ctl_render_offset(v->offset, off, sizeof(off));
        if (have && audit_usable(v))
            ctl_render_offset(v->vs_median, med, sizeof(med));
        else
            snprintf(med, sizeof(med), "-");
        ctl_render_interval(v->delay, dl, sizeof(dl));
        ctl_buf_printf(out, "%-28s %-20s %2d %-15s %-6s %9s %9s %9s %9s %s%s", v->name, addr,
                       v->stratum, refid, audit_leap_names[v->leap & 3], rd, off, med, dl, flags,
                       v->lone ? " (refid known to no other server)" : "");
        if (v->mode6_bytes || v->mode7_bytes)
            ctl_buf_printf(out, " (mode 6: %zu bytes for 12, mode 7: %zu bytes for %d)",
                           v->mode6_bytes, v->mode7_bytes, AUDIT_PROBE_LEN);
        ctl_buf_printf(out, "\n");
    }
}

static void audit_json_server(const struct audit_server *v, struct ctl_buf *out)
{
    char addr[ADDR_STRLEN] = "", refid[16];

    if (v->addr.family)
        addr_format(&v->addr, addr, sizeof(addr));
    ctl_buf_printf(out, "{\"server\":");
    ctl_render_json_string(out, v->name);
    ctl_buf_printf(out, ",\"address\":");
    ctl_render_json_string(out, addr);
    ctl_buf_printf(out, ",\"port\":%u,\"sent\":%u,\"answers\":%u,\"reachable\":%s", v->port, v->sent,
                   v->answers, v->answers ? "true" : "false");
    if (v->answers)
        ctl_buf_printf(out,
                       ",\"stratum\":%d,\"refid\":\"%s\",\"leap\":\"%s\",\"root_distance\":%.9f,"
                       "\"offset\":%.9f,\"offset_vs_median\":%.9f,\"delay\":%.9f,\"lone_refid\":%s",
                       v->stratum, audit_refid_text(v, refid, sizeof(refid)),
                       audit_leap_names[v->leap & 3], v->root_delay / 2 + v->root_dispersion,
                       v->offset, v->vs_median, v->delay, v->lone ? "true" : "false");
    if (v->probed)
        ctl_buf_printf(out, ",\"mode6_bytes\":%zu,\"mode7_bytes\":%zu", v->mode6_bytes,
                       v->mode7_bytes);
    ctl_buf_printf(out, ",\"kod\":");
    ctl_render_json_string(out, v->kod);
    ctl_buf_printf(out, ",\"flags\":[");
    for (size_t k = 0, first = 1; k < AUDIT_NFLAGS; k++)
        if (v->flags & (1u << k)) {
            ctl_buf_printf(out, "%s\"%s\"", first ? "" : ",", audit_flag_names[k]);
            first = 0;
        }
    ctl_buf_printf(out, "]}");
}

void audit_render_json(const struct audit_server *s, size_t n, int status, struct ctl_buf *out)
{
    double median;

    ctl_buf_printf(out, "{\"status\":\"%s\",\"median_offset\":", audit_status_names[status & 3]);
    if (audit_median(s, n, &median))
        ctl_buf_printf(out, "%.9f", median);
    else
        ctl_buf_printf(out, "null");
    ctl_buf_printf(out, ",\"servers\":[");
    for (size_t i = 0; i < n; i++) {
        ctl_buf_printf(out, "%s", i ? "," : "");
        audit_json_server(&s[i], out);
    }
    ctl_buf_printf(out, "]}\n");
}
