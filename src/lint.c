/* SPDX-License-Identifier: ISC */
#include "lint.h"
#include "lint_impl.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "ctl_render.h"
#include "mem.h"

/* "Beyond one subnet": allowed addresses spread over more than one /24
 * (IPv4) or /64 (IPv6). "Wide": a public range shorter than /16 or /32. */
#define LINT_SUBNET_V4 24
#define LINT_SUBNET_V6 64
#define LINT_WIDE_V4 16
#define LINT_WIDE_V6 32

static const char *const lint_codes[L_NCODES] = {
    [L_NO_SOURCES] = "no-sources",
    [L_SINGLE_SOURCE] = "single-source",
    [L_SINGLE_SERVER] = "single-server",
    [L_FEW_SOURCES] = "few-sources",
    [L_MINSOURCES] = "minsources-too-high",
    [L_DUPLICATE_SOURCE] = "duplicate-source",
    [L_NTS_IP_LITERAL] = "nts-ip-literal",
    [L_NTS_TRUST_INVALID] = "ntstrustedcerts-invalid",
    [L_ALLOW_ALL] = "allow-all",
    [L_IPV4_OPEN] = "ipv4-open",
    [L_IPV6_OPEN] = "ipv6-open",
    [L_ALLOW_WIDE] = "allow-wide",
    [L_LISTEN_ALL] = "listen-all",
    [L_RATELIMIT_OFF] = "ratelimit-off",
    [L_MAKESTEP] = "makestep-forever",
    [L_NO_DRIFTFILE] = "no-driftfile",
    [L_KEYFILE_MISSING] = "keyfile-missing",
    [L_KEYFILE_UNREADABLE] = "keyfile-unreadable",
    [L_KEYFILE_PERMS] = "keyfile-perms",
    [L_KEYFILE_INVALID] = "keyfile-invalid",
    [L_KEY_MD5] = "key-md5",
    [L_KEY_SHORT] = "key-short",
    [L_KEY_UNKNOWN] = "key-unknown",
    [L_SOURCE_UNREACHABLE] = "source-unreachable",
    [L_SOURCE_DENIED] = "source-denied",
    [L_SOURCE_UNRESOLVED] = "source-unresolved",
    [L_PEER_FLAPPING] = "peer-flapping",
    [L_CLOCK_STEPS] = "clock-steps",
    [L_DENIED_TRAFFIC] = "denied-traffic",
    [L_FIREWALL_DRIFT] = "firewall-drift",
    [L_LEAPFILE_EXPIRED] = "leapfile-expired",
    [L_LEAPFILE_EXPIRING] = "leapfile-expiring",
    [L_LEAPFILE_UNUSABLE] = "leapfile-unusable",
    [L_SMEAR_MIXED] = "smear-mixed",
    [L_NTS_FILE] = "nts-file-unreadable",
    [L_NTS_KEY_PERMS] = "nts-key-perms",
    [L_NTS_CERT_EXPIRY] = "nts-cert-expiry",
    [L_REFCLOCK_ALONE] = "refclock-alone",
    [L_PPS_NO_LOCK] = "pps-no-lock",
    [L_SHM_ROOT_UNIT] = "shm-root-unit",
    [L_SHM_WORLD] = "shm-world-writable",
};

static const char *const lint_family[2] = {"IPv4", "IPv6"};

/* What the access rules add up to, per family (0 IPv4, 1 IPv6). */
struct lint_acl {
    int serving;  /* a port and at least one allow rule */
    int exposed;  /* serving on more than loopback */
    int rules[2]; /* any allow or deny rule of the family */
    int open[2];  /* the rule in force for the whole family allows */
    unsigned open_line[2];
    int beyond[2]; /* allowed addresses span more than one /24 (/64) */
    int wide;      /* an allow rule reaches into wide public space */
};

void lint_add(struct lint_report *r, enum lint_severity sev, unsigned line,
                     enum lint_code_id code, const char *fix, const char *fmt, ...)
{
    va_list ap;

    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->f = mem_realloc(r->f, r->cap, sizeof(*r->f));
    }
    struct lint_finding *f = &r->f[r->n++];
    f->severity = sev;
    f->line = line;
    f->code = lint_codes[code];
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof(f->message), fmt, ap);
    va_end(ap);
    snprintf(f->fix, sizeof(f->fix), "%s", fix);
}

void lint_report_init(struct lint_report *r, const char *file)
{
    memset(r, 0, sizeof(*r));
    r->file = file;
}

void lint_report_free(struct lint_report *r)
{
    free(r->f);
    r->f = NULL;
    r->n = r->cap = 0;
}

const char *lint_code_at(size_t i)
{
    return i < L_NCODES ? lint_codes[i] : NULL;
}

const char *lint_severity_name(enum lint_severity s)
{
    return s == LINT_ERROR ? "error" : s == LINT_WARNING ? "warning" : "info";
}

size_t lint_drop(struct lint_report *r, const char *code)
{
    size_t kept = 0, n = r->n;

    for (size_t i = 0; i < n; i++)
        if (strcmp(r->f[i].code, code) != 0)
            r->f[kept++] = r->f[i];
    r->n = kept;
    return n - kept;
}

int lint_exit_status(const struct lint_report *r)
{
    int worst = 0;

    for (size_t i = 0; i < r->n; i++) {
        int s = r->f[i].severity == LINT_ERROR ? 2 : r->f[i].severity == LINT_WARNING;
        worst = s > worst ? s : worst;
    }
    return worst;
}

/* Stable sort by line from index from on: whole-file findings first, the
 * order found within a line. Reports are short; insertion sort will do. */
static void lint_sort(struct lint_report *r, size_t from)
{
    for (size_t i = from + 1; i < r->n; i++) {
        struct lint_finding t = r->f[i];
        size_t j = i;
        for (; j > from && r->f[j - 1].line > t.line; j--)
            r->f[j] = r->f[j - 1];
        r->f[j] = t;
    }
}

/* Whether server i repeats an earlier one (same host and port): its line
 * number, else 0. */
static unsigned lint_repeat_of(const struct conf *c, unsigned i)
{
    for (unsigned j = 0; j < i; j++)
        if (c->servers[j].port == c->servers[i].port &&
            strcasecmp(c->servers[j].host, c->servers[i].host) == 0)
            return c->servers[j].line;
    return 0;
}

/* Usable upstream addresses: a server counts one, a pool its maxsources;
 * noselect and repeated lines do not count. *last: the last counted one. */
static unsigned lint_count_sources(const struct conf *c, struct lint_report *r,
                                   const struct conf_server **last)
{
    unsigned usable = 0;

    *last = NULL;
    for (unsigned i = 0; i < c->n_servers; i++) {
        const struct conf_server *s = &c->servers[i];
        unsigned first = lint_repeat_of(c, i);
        if (first) {
            lint_add(r, LINT_WARNING, s->line, L_DUPLICATE_SOURCE, "remove this line",
                     "%s port %u is already a source at line %u; it counts once", s->host,
                     (unsigned)s->port, first);
            continue;
        }
        if (s->noselect)
            continue;
        usable += s->pool ? (unsigned)s->maxsources : 1;
        *last = s;
    }
    return usable;
}

/* Reference clocks: who may feed them, how a PPS numbers its seconds,
 * and whether anything outside the receiver checks it. n: usable network
 * sources. Returns 1 if there are refclocks (the network source count
 * rules then do not apply: the receiver is the primary reference). */
static int lint_refclocks(const struct conf *c, unsigned n, struct lint_report *r)
{
    for (unsigned i = 0; i < c->n_refclocks; i++) {
        const struct conf_refclock *rc = &c->refclocks[i];
        if (rc->driver == CONF_REFCLOCK_PPS && !rc->lock[0])
            lint_add(r, LINT_WARNING, rc->line, L_PPS_NO_LOCK,
                     "add lock REFID naming the receiver's SHM or SOCK refclock",
                     "PPS %s without lock: its seconds are numbered by the clock only while "
                     "other sources keep it synchronised; alone it is never used", rc->path);
        if (rc->driver == CONF_REFCLOCK_SHM && rc->unit < 2 && c->user)
            lint_add(r, LINT_INFO, rc->line, L_SHM_ROOT_UNIT,
                     "restart tempusd after the segment is removed or made anew",
                     "SHM unit %d is attached as root before the drop to user %s and read "
                     "from then on; a segment removed and made again is not seen until restart",
                     rc->unit, c->user);
        if (rc->driver == CONF_REFCLOCK_SHM && (rc->perm & 0002))
            lint_add(r, LINT_WARNING, rc->line, L_SHM_WORLD,
                     "use unit 0 or 1, or perm 0600 (0660 with the writer in the group)",
                     "SHM unit %d is world-writable (perm %04o): any local user can feed this "
                     "daemon time", rc->unit, (unsigned)rc->perm);
    }
    if (c->n_refclocks > 0 && n == 0)
        lint_add(r, LINT_WARNING, c->refclocks[0].line, L_REFCLOCK_ALONE,
                 "add server lines as a cross-check (at least 3, so a receiver fault is outvoted)",
                 "reference clocks with no network source: a receiver fault (a bad fix, a "
                 "spoofed or jammed signal, a week-number rollover) is served as the truth");
    return c->n_refclocks > 0;
}

static void lint_sources(const struct conf *c, int serving, struct lint_report *r)
{
    static const char more[] = "use at least 4 independent sources, server lines or a pool, so "
                               "that one wrong source is outvoted even with another one down";
    const struct conf_server *s;
    unsigned n = lint_count_sources(c, r, &s);

    if (lint_refclocks(c, n, r))
        return;

    /* A primary server (`local stratum 1`, its clock disciplined by a
     * reference clock outside tempusd) needs no upstream. */
    if (n == 0 && c->local_stratum == 1 && !c->local_orphan)
        return;
    if (n == 0) {
        lint_add(r, c->local_stratum ? LINT_WARNING : LINT_ERROR, 0, L_NO_SOURCES,
                 "add at least 4 server lines or a pool",
                 c->local_stratum ? "no usable upstream source: clients get the free-running "
                                    "local clock"
                                  : "no usable upstream source: the clock is never synchronised");
        return;
    }
    if (n == 1 && serving)
        lint_add(r, LINT_ERROR, s->line, L_SINGLE_SOURCE, more,
                 "a server with one upstream source: its clients follow it even when it is "
                 "wrong, and lose time when it fails");
    else if (n == 1 && !s->pool)
        lint_add(r, LINT_WARNING, s->line, L_SINGLE_SERVER, "add 3 more server lines, or a pool",
                 "a single server: no fallback when it fails, no way to tell when it is wrong");
    else if (n == 1)
        lint_add(r, LINT_WARNING, s->line, L_SINGLE_SOURCE, "raise maxsources to 4",
                 "a pool that keeps one address: no fallback, no way to tell when it is wrong");
    /* A client that serves no one and follows two or three internal
     * servers is the standard design: those servers vote among many
     * sources; the client only needs one of them up. */
    else if (n == 2 && serving)
        lint_add(r, LINT_WARNING, 0, L_FEW_SOURCES, more,
                 "only 2 upstream sources: when they disagree, nothing tells which is wrong");
    else if (n == 3 && serving)
        lint_add(r, LINT_INFO, 0, L_FEW_SOURCES, more,
                 "only 3 upstream sources: a wrong one is outvoted, but not while another is "
                 "unreachable");
    if (c->minsources > 0 && (unsigned)c->minsources > n)
        lint_add(r, LINT_ERROR, c->minsources_line, L_MINSOURCES, "lower minsources or add sources",
                 "minsources %d but only %u usable sources: the clock is never set", c->minsources,
                 n);
}

/* The subnets of a rule: "all" is both whole families. Returns 0..2. */
static int lint_rule_subnets(const struct conf_acl_rule *rule, struct netsubnet out[2])
{
    memset(out, 0, 2 * sizeof(*out));
    if (strcmp(rule->spec, "all") == 0) {
        out[0].addr.family = AF_INET;
        out[1].addr.family = AF_INET6;
        return 2;
    }
    return addr_parse_subnet(rule->spec, &out[0]) == 0;
}

static int lint_fam(const struct netsubnet *sn)
{
    return sn->addr.family == AF_INET6;
}

/* Whether sn lies inside private, shared, link-local or loopback space. */
static int lint_private(const struct netsubnet *sn)
{
    static const char *const ranges[] = {"10.0.0.0/8",    "172.16.0.0/12",  "192.168.0.0/16",
                                         "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8",
                                         "fc00::/7",      "fe80::/10"};
    struct netsubnet r;

    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        if (addr_parse_subnet(ranges[i], &r) == 0 && r.addr.family == sn->addr.family &&
            sn->prefix >= r.prefix && addr_in_subnet(&sn->addr, &r))
            return 1;
    return 0;
}

static int lint_wide(const struct netsubnet *sn)
{
    int limit = lint_fam(sn) ? LINT_WIDE_V6 : LINT_WIDE_V4;
    return sn->prefix > 0 && sn->prefix < limit && !lint_private(sn);
}

/* Whether every address the daemon listens on is loopback. */
static int lint_loopback_only(const struct conf *c)
{
    struct netaddr a;

    if (strcmp(c->binddevice, "lo") == 0)
        return 1;
    if (c->n_bindaddrs == 0)
        return 0;
    for (unsigned i = 0; i < c->n_bindaddrs; i++)
        if (addr_parse(c->bindaddrs[i].addr, &a) < 0 || !addr_is_loopback(&a))
            return 0;
    return 1;
}

/* Fold one subnet of an allow rule into the family's spread: beyond one
 * /24 (/64) when shorter, or when it lies in another one than the first. */
static void lint_spread(struct lint_acl *a, const struct netsubnet *sn, struct netsubnet *first)
{
    int f = lint_fam(sn);
    int limit = f ? LINT_SUBNET_V6 : LINT_SUBNET_V4;

    if (sn->prefix == 0)
        return; /* the whole family: judged by open[] */
    if (sn->prefix >= limit && first[f].addr.family == 0) {
        first[f].addr = sn->addr;
        first[f].prefix = (uint8_t)limit;
    } else if (sn->prefix < limit || !addr_in_subnet(&sn->addr, &first[f])) {
        a->beyond[f] = 1;
    }
    a->wide |= lint_wide(sn);
}

static void lint_acl_analyse(const struct conf *c, struct lint_acl *a)
{
    struct netsubnet first[2], sn[2];
    int has_allow = 0;

    memset(a, 0, sizeof(*a));
    memset(first, 0, sizeof(first));
    for (unsigned i = 0; i < c->n_acl; i++) {
        const struct conf_acl_rule *rule = &c->acl[i];
        int k = lint_rule_subnets(rule, sn);
        has_allow |= rule->allow;
        for (int j = 0; j < k; j++) {
            int f = lint_fam(&sn[j]);
            a->rules[f] = 1;
            /* for the same subnet the later rule wins (acl.h) */
            if (sn[j].prefix == 0) {
                a->open[f] = rule->allow;
                a->open_line[f] = rule->line;
            }
            if (rule->allow)
                lint_spread(a, &sn[j], first);
        }
    }
    for (int f = 0; f < 2; f++)
        a->beyond[f] |= a->open[f];
    a->serving = c->port != 0 && has_allow;
    a->exposed = a->serving && !lint_loopback_only(c);
}

/* A whole family allowed: allow-all, or ipvN-open when the other family
 * is restricted, which is the sign of an oversight. */
static void lint_open(const struct lint_acl *a, struct lint_report *r)
{
    if (a->open[0] && a->open[1] && a->open_line[0] == a->open_line[1]) {
        lint_add(r, LINT_ERROR, a->open_line[0], L_ALLOW_ALL,
                 "allow only your clients' subnets; a deliberately public server keeps "
                 "ratelimit on and can --ignore allow-all",
                 "every IPv4 and IPv6 address may use this server");
        return;
    }
    for (int f = 0; f < 2; f++) {
        int o = !f;
        if (!a->open[f])
            continue;
        if (a->rules[o] && !a->open[o])
            lint_add(r, LINT_ERROR, a->open_line[f], f ? L_IPV6_OPEN : L_IPV4_OPEN,
                     f ? "allow only your IPv6 clients' subnets, as for IPv4"
                       : "allow only your IPv4 clients' subnets, as for IPv6",
                     "%s clients are restricted, but every %s address may use this server",
                     lint_family[o], lint_family[f]);
        else
            lint_add(r, LINT_ERROR, a->open_line[f], L_ALLOW_ALL,
                     "allow only your clients' subnets", "every %s address may use this server",
                     lint_family[f]);
    }
}

static void lint_access(const struct conf *c, const struct lint_acl *a, struct lint_report *r)
{
    struct netsubnet sn[2];
    int beyond = a->beyond[0] || a->beyond[1];

    if (!a->exposed)
        return;
    lint_open(a, r);
    for (unsigned i = 0; i < c->n_acl; i++) {
        if (!c->acl[i].allow || lint_rule_subnets(&c->acl[i], sn) != 1 || !lint_wide(&sn[0]))
            continue;
        lint_add(r, LINT_WARNING, c->acl[i].line, L_ALLOW_WIDE,
                 "narrow it to the subnets your clients use",
                 "allow %s covers a /%u of public %s addresses", c->acl[i].spec,
                 (unsigned)sn[0].prefix, lint_family[lint_fam(&sn[0])]);
    }
    if (beyond && c->n_bindaddrs == 0 && c->binddevice[0] == '\0')
        lint_add(r, LINT_WARNING, 0, L_LISTEN_ALL,
                 "add bindaddress lines for the addresses that should serve",
                 "no bindaddress or binddevice: the server answers on every interface, and its "
                 "allow rules reach beyond one subnet");
    if (beyond && !c->ratelimit.enabled)
        lint_add(r, a->open[0] || a->open[1] || a->wide ? LINT_ERROR : LINT_WARNING,
                 c->ratelimit_line, L_RATELIMIT_OFF,
                 "remove 'ratelimit off': the default lets a client burst 8 requests, then 1 "
                 "every 8 s",
                 "rate limiting is off on a server that answers more than one subnet");
}

static void lint_clock(const struct conf *c, const struct lint_acl *a, struct lint_report *r)
{
    char fix[96];

    if (a->serving && c->makestep_threshold > 0 && c->makestep_limit < 0) {
        snprintf(fix, sizeof(fix), "step only at start: makestep %g 3", c->makestep_threshold);
        lint_add(r, LINT_WARNING, c->makestep_line, L_MAKESTEP, fix,
                 "makestep %g -1 steps the clock at any time, and every client of this server "
                 "jumps with it",
                 c->makestep_threshold);
    }
    if (!c->driftfile)
        lint_add(r, a->serving ? LINT_WARNING : LINT_INFO, 0, L_NO_DRIFTFILE,
                 "add driftfile /var/lib/tempus/drift",
                 "no driftfile: after every restart the frequency is learnt again, with larger "
                 "offsets meanwhile");
}

void lint_conf_at(const struct conf *conf, time_t now, struct lint_report *r)
{
    struct lint_acl a;
    size_t from = r->n;

    lint_acl_analyse(conf, &a);
    lint_sources(conf, a.serving, r);
    lint_nts_client(conf, r);
    lint_access(conf, &a, r);
    lint_clock(conf, &a, r);
    lint_keys(conf, r);
    lint_leap(conf, now, r);
    lint_nts_server(conf, r);
    lint_sort(r, from);
}

void lint_conf(const struct conf *conf, struct lint_report *r)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    lint_conf_at(conf, now.tv_sec, r);
}

static int lint_is(const struct ctl_record *rec, const char *kind)
{
    return rec->kind && strcmp(rec->kind, kind) == 0;
}

static const char *lint_name(const struct ctl_record *rec)
{
    const char *s = ctl_rec_get(rec, "name");
    return s ? s : "?";
}

/* Sources that refuse us or stopped answering. Returns the most requests
 * any source was sent, the daemon's age in polls. */
static long long lint_live_sources(const struct ctl_record *recs, size_t n, struct lint_report *r)
{
    long long max_sent = 0;
    int any_reach = 0;

    for (size_t i = 0; i < n; i++) {
        if (!lint_is(&recs[i], "source"))
            continue;
        long long sent = (long long)ctl_rec_num(&recs[i], "sent", 0);
        max_sent = sent > max_sent ? sent : max_sent;
        /* reachable: the one definition (tempusctl(8), REACHABILITY) */
        any_reach |= ctl_rec_num(&recs[i], "reachable", ctl_rec_num(&recs[i], "reach", 0)) != 0;
    }
    for (size_t i = 0; i < n; i++) {
        const struct ctl_record *s = &recs[i];
        const char *state = ctl_rec_get(s, "state");
        long long sent = (long long)ctl_rec_num(s, "sent", 0);
        long long got = (long long)ctl_rec_num(s, "received", 0);
        if (!lint_is(s, "source"))
            continue;
        if (state && strcmp(state, "unresolved") == 0)
            lint_add(r, any_reach ? LINT_WARNING : LINT_ERROR, 0, L_SOURCE_UNRESOLVED,
                     "correct the name, or the resolver configuration",
                     "%s (line %.0f) does not resolve: it is no source, and the daemon keeps "
                     "trying",
                     lint_name(s), ctl_rec_num(s, "line", 0));
        else if (state && strcmp(state, "denied") == 0)
            lint_add(r, LINT_WARNING, 0, L_SOURCE_DENIED,
                     "ask its operator for access, or remove it",
                     "%s refuses to serve this host (DENY or RSTR kiss-o'-death)", lint_name(s));
        else if (ctl_rec_num(s, "reach", 0) == 0 && sent >= LINT_UNREACH_POLLS &&
                 ctl_rec_num(s, "refclock", 0) == 1)
            lint_add(r, any_reach ? LINT_WARNING : LINT_ERROR, 0, L_SOURCE_UNREACHABLE,
                     "check that gpsd (or the device) runs and writes where the line says",
                     "refclock %s gave nothing usable in its last %d polls (%lld of %lld "
                     "since start)",
                     lint_name(s), LINT_UNREACH_POLLS, got, sent);
        else if (ctl_rec_num(s, "reach", 0) == 0 && sent >= LINT_UNREACH_POLLS && got == 0)
            lint_add(r, any_reach ? LINT_WARNING : LINT_ERROR, 0, L_SOURCE_UNREACHABLE,
                     "replace or remove its server line",
                     "%s never answered (%lld requests sent): a retired server left in the "
                     "config?",
                     lint_name(s), sent);
        else if (ctl_rec_num(s, "reach", 0) == 0 && sent >= LINT_UNREACH_POLLS)
            lint_add(r, any_reach ? LINT_WARNING : LINT_ERROR, 0, L_SOURCE_UNREACHABLE,
                     "check the path to it, or replace its server line",
                     "%s answered none of the last %d polls (%lld of %lld since start)",
                     lint_name(s), LINT_UNREACH_POLLS, got, sent);
    }
    return max_sent;
}

/* The daemon's recent record when it covers enough time to judge by, so
 * that a spike or flapping now is not diluted by a long quiet past (and an
 * old one does not linger); NULL: judge by the totals since start. */
static const struct ctl_record *lint_recent(const struct ctl_record *recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lint_is(&recs[i], "recent") && ctl_rec_num(&recs[i], "window", 0) >= LINT_RECENT_MIN)
            return &recs[i];
    return NULL;
}

static void lint_flapping(double changes, const char *when, struct lint_report *r)
{
    lint_add(r, LINT_WARNING, 0, L_PEER_FLAPPING,
             "look for falsetickers and jitter in 'tempusctl sources'; mark a trusted source "
             "prefer",
             "the system peer changed %.0f times %s: the sources disagree or are noisy", changes,
             when);
}

static void lint_live_tracking(const struct ctl_record *t, const struct ctl_record *recent,
                               long long polls, struct lint_report *r)
{
    double changes = ctl_rec_num(t, "peer_changes", -1);
    double steps = ctl_rec_num(t, "steps", 0);
    char when[64];

    if (recent) {
        changes = ctl_rec_num(recent, "peer_changes", 0);
        snprintf(when, sizeof(when), "in the last %.0f minutes",
                 ctl_rec_num(recent, "window", 0) / 60);
        if (changes >= LINT_FLAP_MIN)
            lint_flapping(changes, when, r);
    } else if (changes >= LINT_FLAP_MIN && changes * LINT_FLAP_POLLS >= (double)polls) {
        /* absent in daemons older than the field: nothing to judge */
        snprintf(when, sizeof(when), "in about %lld polls", polls);
        lint_flapping(changes, when, r);
    }
    if (steps > LINT_STEPS_MAX)
        lint_add(r, LINT_WARNING, 0, L_CLOCK_STEPS,
                 "look for another program setting the clock, such as VM tools or a second NTP "
                 "client; limit makestep to the start",
                 "the clock was stepped %.0f times since start (last %+.3f s)", steps,
                 ctl_rec_num(t, "last_step", 0));
}

static void lint_denied(const char *fam, double rx, double denied, const char *when,
                        struct lint_report *r)
{
    if (rx < LINT_DENIED_MIN || denied * 100 < rx * LINT_DENIED_PCT)
        return;
    lint_add(r, LINT_WARNING, 0, L_DENIED_TRAFFIC,
             "if they are your clients, allow their subnet; if not, drop them at the firewall",
             "%s: %.0f of %.0f requests (%.0f%%)%s were denied by the allow rules", fam, denied,
             rx, 100 * denied / rx, when);
}

static void lint_live_denied(const struct ctl_record *s, const struct ctl_record *recent,
                             struct lint_report *r)
{
    const char *fam = ctl_rec_get(s, "family");
    char key[32], when[64];

    if (!fam || (strcmp(fam, "ipv4") != 0 && strcmp(fam, "ipv6") != 0))
        return;
    if (!recent) {
        lint_denied(fam, ctl_rec_num(s, "received", 0), ctl_rec_num(s, "denied", 0), "", r);
        return;
    }
    snprintf(when, sizeof(when), " in the last %.0f minutes",
             ctl_rec_num(recent, "window", 0) / 60);
    snprintf(key, sizeof(key), "received_%s", fam);
    double rx = ctl_rec_num(recent, key, 0);
    snprintf(key, sizeof(key), "denied_%s", fam);
    lint_denied(fam, rx, ctl_rec_num(recent, key, 0), when, r);
}

void lint_live(const struct ctl_record *recs, size_t n, struct lint_report *r)
{
    long long polls = lint_live_sources(recs, n, r);
    const struct ctl_record *recent = lint_recent(recs, n);

    for (size_t i = 0; i < n; i++) {
        if (lint_is(&recs[i], "tracking"))
            lint_live_tracking(&recs[i], recent, polls, r);
        else if (lint_is(&recs[i], "serverstats"))
            lint_live_denied(&recs[i], recent, r);
    }
}

void lint_format(const struct lint_report *r, struct ctl_buf *out)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct lint_finding *f = &r->f[i];
        if (f->line)
            ctl_buf_printf(out, "%s:%u: ", r->file, f->line);
        else
            ctl_buf_printf(out, "%s: ", r->file);
        ctl_buf_printf(out, "%s: [%s] %s (fix: %s)\n", lint_severity_name(f->severity), f->code,
                       f->message, f->fix);
    }
}

static void lint_json_member(struct ctl_buf *out, const char *key, const char *value)
{
    ctl_buf_printf(out, ",\"%s\":", key);
    ctl_render_json_string(out, value);
}

void lint_format_json(const struct lint_report *reps, size_t n, struct ctl_buf *out)
{
    int first = 1;

    ctl_buf_append(out, "{\"findings\":[", 13);
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < reps[k].n; i++) {
            const struct lint_finding *f = &reps[k].f[i];
            ctl_buf_append(out, first ? "{\"file\":" : ",{\"file\":", first ? 8 : 9);
            ctl_render_json_string(out, reps[k].file);
            ctl_buf_printf(out, ",\"line\":%u", f->line);
            lint_json_member(out, "severity", lint_severity_name(f->severity));
            lint_json_member(out, "code", f->code);
            lint_json_member(out, "message", f->message);
            lint_json_member(out, "fix", f->fix);
            ctl_buf_append(out, "}", 1);
            first = 0;
        }
    }
    ctl_buf_append(out, "]}\n", 3);
}

void lint_firewall_drift(struct lint_report *r, size_t missing, size_t unexpected)
{
    if (missing + unexpected == 0)
        return;
    lint_add(r, LINT_WARNING, 0, L_FIREWALL_DRIFT,
             "tempusctl firewall --check FILE names each difference; reload the table with "
             "tempusctl firewall FILE > F && nft -f F",
             "the live nftables table inet tempus disagrees with this configuration: "
             "%zu rule(s) missing, %zu unexpected",
             missing, unexpected);
    lint_sort(r, 0);
}
