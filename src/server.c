/* SPDX-License-Identifier: ISC */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "ntp_wire.h"
#include "timefmt.h"

/* Refused traffic since the last summary line, so abuse is visible in the
 * log without one line per packet. */
struct server_abuse {
    uint64_t denied, limited, control;
    struct netaddr last_denied, last_limited, last_control;
};

struct server {
    struct acl *acl;
    struct ratelimit *rl;
    int precision;
    struct server_ref ref;
    struct server_stats stats;
    struct server_abuse abuse;
};

struct server *server_create(struct acl *acl, struct ratelimit *rl, int precision)
{
    struct server *srv = mem_zalloc(sizeof(*srv));
    srv->acl = acl;
    srv->rl = rl;
    srv->precision = precision;
    srv->ref.synced = 0;
    return srv;
}

void server_destroy(struct server *srv)
{
    free(srv);
}

void server_set_acl(struct server *srv, struct acl *acl)
{
    srv->acl = acl;
}

void server_set_ratelimit(struct server *srv, struct ratelimit *rl)
{
    srv->rl = rl;
}

void server_set_ref(struct server *srv, const struct server_ref *ref)
{
    srv->ref = *ref;
}

const struct server_ref *server_get_ref(const struct server *srv)
{
    return &srv->ref;
}

void server_get_stats(const struct server *srv, struct server_stats *out)
{
    *out = srv->stats;
}

/* Poll exponent echoed back, kept inside the range RFC 5905 allows. */
static int8_t server_poll(int8_t req)
{
    return req < 4 ? 4 : req > 17 ? 17 : req;
}

static void server_fill_ref(const struct server *srv, struct ntp_header *h)
{
    const struct server_ref *r = &srv->ref;
    if (!r->synced) {
        h->leap = NTP_LEAP_UNSYNC;
        h->stratum = 0;
        h->refid = 0;
        return;
    }
    h->leap = (uint8_t)r->leap;
    h->stratum = (uint8_t)r->stratum;
    h->refid = r->refid;
    h->root_delay = timefmt_short_from_double(r->root_delay);
    h->root_dispersion = timefmt_short_from_double(r->root_dispersion);
    h->ref_ts = timefmt_ts_from_timespec(&r->ref_time);
}

/* A normal answer: our reference, the client's transmit time as origin, our
 * receive time; the transmit time is stamped later, just before sendmsg. */
static size_t server_build_reply(const struct server *srv, const struct ntp_header *req,
                                 const struct timespec *rx, uint8_t *out, size_t cap)
{
    struct ntp_header h = {0};
    h.version = req->version;
    h.mode = NTP_MODE_SERVER;
    h.poll = server_poll(req->poll);
    h.precision = (int8_t)srv->precision;
    server_fill_ref(srv, &h);
    h.org_ts = req->tx_ts;
    h.rx_ts = timefmt_ts_from_timespec(rx);
    return ntp_wire_encode_header(&h, out, cap);
}

/* RATE kiss-o'-death: no usable time in it, only the client's own
 * timestamp echoed so that the client can tell it is genuine. */
static size_t server_build_kod(const struct ntp_header *req, uint8_t *out, size_t cap)
{
    struct ntp_header h = {0};
    h.leap = NTP_LEAP_UNSYNC;
    h.version = req->version;
    h.mode = NTP_MODE_SERVER;
    h.stratum = 0;
    h.poll = server_poll(req->poll);
    h.refid = ntp_wire_refid_ascii("RATE");
    h.org_ts = req->tx_ts;
    h.rx_ts = req->tx_ts;
    h.tx_ts = req->tx_ts;
    return ntp_wire_encode_header(&h, out, cap);
}

static void server_note(uint64_t *count, struct netaddr *last, const struct netaddr *client)
{
    (*count)++;
    *last = *client;
}

/* Mode 6/7 queries are often shorter than an NTP header (a readvar request
 * is 12 bytes); the mode bits in the first byte are enough to count them as
 * what they are, so scans for them show up in the counters and the log. */
static int server_is_control(const uint8_t *req, size_t len)
{
    unsigned mode = len > 0 ? req[0] & 7u : 0;
    return mode == NTP_MODE_CONTROL || mode == NTP_MODE_PRIVATE;
}

/* Which requests deserve an answer at all; counts the reason for refusal. */
static int server_acceptable(struct server *srv, const uint8_t *req, size_t len,
                             const struct netaddr *client, enum server_family fam,
                             struct ntp_packet_info *info)
{
    if (server_is_control(req, len)) {
        srv->stats.wrong_mode[fam]++;
        srv->stats.control[fam]++;
        server_note(&srv->abuse.control, &srv->abuse.last_control, client);
        return 0;
    }
    if (ntp_wire_parse(req, len, info) < 0 || info->hdr.version < 1 || info->hdr.version > 4) {
        srv->stats.malformed[fam]++;
        return 0;
    }
    if (info->hdr.mode != NTP_MODE_CLIENT) {
        srv->stats.wrong_mode[fam]++;
        return 0;
    }
    /* Symmetric-key authentication arrives with the hardening work; until
     * then a request we cannot verify gets nothing rather than unsigned time. */
    if (info->mac_len > 0) {
        srv->stats.auth_dropped[fam]++;
        return 0;
    }
    return 1;
}

enum server_verdict server_handle(struct server *srv, const uint8_t *req, size_t len,
                                  const struct netaddr *client, const struct timespec *rx,
                                  int64_t now_ns, uint8_t *reply, size_t cap,
                                  size_t *reply_len)
{
    enum server_family fam = client->family == AF_INET6 ? SERVER_V6 : SERVER_V4;
    struct ntp_packet_info info;

    *reply_len = 0;
    srv->stats.received[fam]++;
    if (!acl_check(srv->acl, client)) {
        srv->stats.denied[fam]++;
        server_note(&srv->abuse.denied, &srv->abuse.last_denied, client);
        return SERVER_DROP;
    }
    if (!server_acceptable(srv, req, len, client, fam, &info))
        return SERVER_DROP;

    enum ratelimit_verdict rv = ratelimit_charge(srv->rl, client, now_ns);
    size_t n;
    if (rv == RATELIMIT_DROP) {
        srv->stats.ratelimited[fam]++;
        server_note(&srv->abuse.limited, &srv->abuse.last_limited, client);
        return SERVER_DROP;
    }
    n = rv == RATELIMIT_KOD ? server_build_kod(&info.hdr, reply, cap)
                            : server_build_reply(srv, &info.hdr, rx, reply, cap);
    /* The invariant that makes us useless for amplification, enforced here
     * whatever the builders above ever grow into. */
    if (n == 0 || n > len)
        return SERVER_DROP;
    *reply_len = n;
    if (rv == RATELIMIT_KOD) {
        srv->stats.ratelimited[fam]++;
        srv->stats.kod_sent[fam]++;
        server_note(&srv->abuse.limited, &srv->abuse.last_limited, client);
        return SERVER_REPLY_KOD;
    }
    srv->stats.answered[fam]++;
    return SERVER_REPLY;
}

void server_stamp_tx(uint8_t *reply, size_t len, const struct timespec *tx)
{
    if (len >= NTP_HEADER_LEN)
        ntp_wire_set_tx(reply, timefmt_ts_from_timespec(tx));
}

void server_log_stats(const struct server *srv)
{
    const struct server_stats *st = &srv->stats;
    const struct {
        const char *name;
        const uint64_t *v;
    } f[] = {
        {"received", st->received},       {"answered", st->answered},
        {"denied", st->denied},           {"ratelimited", st->ratelimited},
        {"kod", st->kod_sent},            {"malformed", st->malformed},
        {"wrong_mode", st->wrong_mode},   {"control", st->control},
        {"auth_dropped", st->auth_dropped},
    };
    char line[1024];
    size_t off = 0;

    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]) && off < sizeof(line); i++)
        off += (size_t)snprintf(line + off, sizeof(line) - off, " %s_v4=%llu %s_v6=%llu",
                                f[i].name, (unsigned long long)f[i].v[SERVER_V4], f[i].name,
                                (unsigned long long)f[i].v[SERVER_V6]);
    log_info("stats:%s", line);
}

void server_log_abuse(struct server *srv)
{
    struct server_abuse *a = &srv->abuse;
    char buf[ADDR_STRLEN];

    if (a->denied)
        log_notice("refused %llu request(s) from addresses not allowed (last from %s)",
                   (unsigned long long)a->denied, addr_format(&a->last_denied, buf, sizeof(buf)));
    if (a->limited)
        log_notice("rate-limited %llu request(s) (last from %s)", (unsigned long long)a->limited,
                   addr_format(&a->last_limited, buf, sizeof(buf)));
    if (a->control)
        log_notice("ignored %llu mode 6/7 control query(ies) (last from %s)",
                   (unsigned long long)a->control,
                   addr_format(&a->last_control, buf, sizeof(buf)));
    memset(a, 0, sizeof(*a));
}
