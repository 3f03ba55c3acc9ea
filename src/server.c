/* SPDX-License-Identifier: ISC */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "log.h"
#include "mem.h"
#include "netio.h"
#include "ntp_wire.h"
#include "nts_ef.h"
#include "timefmt.h"

/* NTS replies made by server_handle and waiting for server_finish to seal
 * them: as many as one batch of the listener. */
#define SERVER_NTS_PENDING NETIO_BATCH_MAX

struct server_nts_pending {
    const uint8_t *reply; /* NULL: free */
    size_t auth_off;
    uint8_t s2c[NTS_AEAD_KEY_LEN];
};

/* The NTS server's part. */
struct server_nts {
    int on;
    struct nts_cookie_ring ring;
    enum server_ntsplain plain;
    server_rand_fn rnd;
    struct server_nts_pending pend[SERVER_NTS_PENDING];
    unsigned next;
};

/* Refused traffic since the last summary line, so abuse is visible in the
 * log without one line per packet. */
struct server_abuse {
    uint64_t denied, limited, control, unusable;
    struct netaddr last_denied, last_limited, last_control, last_unusable;
};

/* What a request's MAC made of it. */
enum server_auth {
    SRV_AUTH_NONE,   /* no MAC */
    SRV_AUTH_IGNORE, /* a MAC we do not answer at all */
    SRV_AUTH_CHECK,  /* a MAC worth verifying */
    SRV_AUTH_OK,     /* verified with a trusted key */
    SRV_AUTH_FAILED, /* did not verify: crypto-NAK */
};

struct server {
    struct acl *acl;
    struct ratelimit *rl;
    const struct keys *keys;
    uint32_t *trusted;
    unsigned n_trusted;
    int precision;
    struct server_ref ref;
    struct server_smear smear;
    int smear_after; /* the request being answered came at or after the leap */
    struct server_stats stats;
    struct server_abuse abuse;
    struct server_nts nts;
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
    if (!srv)
        return;
    free(srv->trusted);
    nts_cookie_ring_clear(&srv->nts.ring);
    OPENSSL_cleanse(srv->nts.pend, sizeof(srv->nts.pend));
    free(srv);
}

void server_set_nts(struct server *srv, const struct nts_cookie_ring *ring,
                    enum server_ntsplain policy, server_rand_fn rnd)
{
    nts_cookie_ring_clear(&srv->nts.ring);
    srv->nts.on = ring != NULL && rnd != NULL;
    if (srv->nts.on)
        srv->nts.ring = *ring;
    srv->nts.plain = policy;
    srv->nts.rnd = rnd;
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

void server_set_smear(struct server *srv, const struct server_smear *sm)
{
    srv->smear = *sm;
}

/* A time of our clock as served: smeared while a smear is in progress.
 * Times after the leap whose clock has not taken it yet (a step to come)
 * are first brought onto the count after the leap. */
static struct timespec server_smeared(const struct server *srv, const struct timespec *ts)
{
    const struct server_smear *sm = &srv->smear;
    struct timespec out = *ts;

    if (!sm->on || sm->s.leap == 0)
        return out;
    int after = srv->smear_after;
    if (after)
        timefmt_timespec_add(&out, -sm->debt);
    double utc = (double)out.tv_sec + (double)out.tv_nsec * 1e-9;
    timefmt_timespec_add(&out, smear_offset(&sm->s, utc, after));
    return out;
}

void server_set_auth(struct server *srv, const struct keys *keys, const uint32_t *trusted,
                     unsigned n_trusted)
{
    free(srv->trusted);
    srv->trusted = NULL;
    srv->keys = keys;
    srv->n_trusted = n_trusted;
    if (n_trusted) {
        srv->trusted = mem_calloc(n_trusted, sizeof(*trusted));
        memcpy(srv->trusted, trusted, n_trusted * sizeof(*trusted));
    }
}

void server_get_stats(const struct server *srv, struct server_stats *out)
{
    *out = srv->stats;
}

/* Poll exponent echoed back, kept inside the range RFC 5905 allows. */
static int8_t server_poll(int8_t req)
{
    /* Spelt out: a conditional expression would make it an int first. */
    if (req < 4)
        return 4;
    if (req > 17)
        return 17;
    return req;
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
    /* A smearing server's clients must never apply a leap themselves. */
    h->leap = srv->smear.on && r->leap != NTP_LEAP_UNSYNC ? NTP_LEAP_NONE : (uint8_t)r->leap;
    h->stratum = (uint8_t)r->stratum;
    h->refid = r->refid;
    h->root_delay = timefmt_short_from_double(r->root_delay);
    h->root_dispersion = timefmt_short_from_double(r->root_dispersion);
    struct timespec ref = server_smeared(srv, &r->ref_time);
    h->ref_ts = timefmt_ts_from_timespec(&ref);
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
    struct timespec served = server_smeared(srv, rx);
    h.rx_ts = timefmt_ts_from_timespec(&served);
    return ntp_wire_encode_header(&h, out, cap);
}

/* Kiss-o'-death (RATE) or crypto-NAK (CRYP): no usable time in it, only
 * the client's own timestamp echoed so that the client can tell it answers
 * its request. */
static size_t server_build_kiss(const struct ntp_header *req, const char *code, uint8_t *out,
                                size_t cap)
{
    struct ntp_header h = {0};
    h.leap = NTP_LEAP_UNSYNC;
    h.version = req->version;
    h.mode = NTP_MODE_SERVER;
    h.stratum = 0;
    h.poll = server_poll(req->poll);
    h.refid = ntp_wire_refid_ascii(code);
    h.org_ts = req->tx_ts;
    h.rx_ts = req->tx_ts;
    h.tx_ts = req->tx_ts;
    return ntp_wire_encode_header(&h, out, cap);
}

/* RFC 5905 crypto-NAK: a kiss (CRYP) followed by a MAC of key id 0 alone.
 * Unlike the reference implementation's it carries no time at all, so a
 * client that fails to check it cannot be misled by it. */
static size_t server_build_nak(const struct ntp_header *req, uint8_t *out, size_t cap)
{
    size_t n = server_build_kiss(req, "CRYP", out, cap);
    if (n == 0 || cap - n < AUTH_KEYID_LEN)
        return 0;
    memset(out + n, 0, AUTH_KEYID_LEN);
    return n + AUTH_KEYID_LEN;
}

/* Room for the MAC of key after the header: the key id now, the digest
 * (zero until server_finish) once the transmit time is in. dlen is the
 * request's own digest length, truncated or full, which the request's MAC
 * verified with: the reply is what the client expects, and no longer. */
static size_t server_add_mac_slot(const struct auth_key *key, size_t dlen, uint8_t *out, size_t n,
                                  size_t cap)
{
    if (n != NTP_HEADER_LEN || cap - n < AUTH_KEYID_LEN + dlen)
        return 0;
    out[n] = (uint8_t)(key->id >> 24);
    out[n + 1] = (uint8_t)(key->id >> 16);
    out[n + 2] = (uint8_t)(key->id >> 8);
    out[n + 3] = (uint8_t)key->id;
    memset(out + n + AUTH_KEYID_LEN, 0, dlen);
    return n + AUTH_KEYID_LEN + dlen;
}

static int server_trusts(const struct server *srv, uint32_t id)
{
    for (unsigned i = 0; i < srv->n_trusted; i++)
        if (srv->trusted[i] == id)
            return 1;
    return 0;
}

/* Cheap first look at a request's MAC, before the rate limiter. A server
 * without trustedkeys authenticates nobody and stays silent, as it did
 * before authentication existed, rather than NAK every scanner; so does a
 * MAC that is no authentication attempt at all (key id 0, which is itself
 * a crypto-NAK, or a size no algorithm makes, truncated or full: the
 * parser already keeps full digests out of NTPv4). */
static enum server_auth server_mac_shape(const struct server *srv,
                                         const struct ntp_packet_info *info)
{
    if (info->mac_len == 0)
        return SRV_AUTH_NONE;
    if (srv->n_trusted == 0 || info->key_id == 0 ||
        !auth_digest_len_known(info->mac_len - AUTH_KEYID_LEN))
        return SRV_AUTH_IGNORE;
    return SRV_AUTH_CHECK;
}

/* Verify a MAC that passed server_mac_shape; *key is set when it holds. */
static enum server_auth server_verify(const struct server *srv, const uint8_t *req,
                                      const struct ntp_packet_info *info,
                                      const struct auth_key **key)
{
    const struct auth_key *k =
        server_trusts(srv, info->key_id) ? keys_find(srv->keys, info->key_id) : NULL;
    if (!k || !auth_verify(k, req, info->mac_off, info->mac_len))
        return SRV_AUTH_FAILED;
    *key = k;
    return SRV_AUTH_OK;
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

/* Which requests deserve an answer at all; counts the reason for refusal.
 * *auth says whether the MAC, if any, is to be verified. */
static int server_acceptable(struct server *srv, const uint8_t *req, size_t len,
                             const struct netaddr *client, enum server_family fam,
                             struct ntp_packet_info *info, enum server_auth *auth)
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
    *auth = server_mac_shape(srv, info);
    if (*auth == SRV_AUTH_IGNORE) {
        srv->stats.auth_dropped[fam]++;
        return 0;
    }
    return 1;
}

/* The reply bytes for verdict v to the request req; with key (whose MAC
 * on req verified), room for a MAC as long as req's. 0 if they do not fit. */
static size_t server_build(const struct server *srv, enum server_verdict v,
                           const struct ntp_packet_info *req, const struct timespec *rx,
                           const struct auth_key *key, uint8_t *out, size_t cap)
{
    size_t n;
    if (v == SERVER_REPLY_NAK)
        return server_build_nak(&req->hdr, out, cap);
    n = v == SERVER_REPLY_KOD ? server_build_kiss(&req->hdr, "RATE", out, cap)
                              : server_build_reply(srv, &req->hdr, rx, out, cap);
    return key ? server_add_mac_slot(key, req->mac_len - AUTH_KEYID_LEN, out, n, cap) : n;
}

static void server_count(struct server *srv, enum server_verdict v, enum server_family fam,
                         const struct netaddr *client, int authenticated)
{
    if (v == SERVER_REPLY_NAK) {
        srv->stats.auth_failed[fam]++;
        return;
    }
    srv->stats.auth_ok[fam] += authenticated != 0;
    if (v == SERVER_REPLY_KOD) {
        srv->stats.ratelimited[fam]++;
        srv->stats.kod_sent[fam]++;
        server_note(&srv->abuse.limited, &srv->abuse.last_limited, client);
        return;
    }
    srv->stats.answered[fam]++;
}

/* A client request with an NTS cookie or authenticator among its
 * extension fields: one for the NTS path (which checks the rest). */
static int server_is_nts(const uint8_t *req, const struct ntp_packet_info *info)
{
    struct ntp_ext ext;
    size_t off = info->ext_off;

    if (info->n_ext == 0 || info->hdr.version != 4)
        return 0;
    while (ntp_wire_ext_next(req, info, &off, &ext) == 1)
        if (ext.type == NTS_EF_COOKIE || ext.type == NTS_EF_AUTH)
            return 1;
    return 0;
}

/* An NTS NAK for a request whose cookie or authenticator failed. */
static size_t server_build_ntsn(const struct ntp_header *req, const struct nts_ef_server_req *sr,
                                uint8_t *out, size_t cap)
{
    size_t n = server_build_kiss(req, "NTSN", out, cap);
    return n ? nts_ef_nak(out, n, cap, sr->uid, sr->uid_len) : 0;
}

/* The answer to a request that verified: our time, the UID, fresh cookies
 * (one per cookie and placeholder it brought) and an authenticator left
 * for server_finish to seal once the transmit time is in. */
static size_t server_build_nts(struct server *srv, const struct ntp_packet_info *info,
                               const struct nts_ef_server_req *sr, const struct timespec *rx,
                               uint8_t *out, size_t cap)
{
    uint8_t cookies[NTS_COOKIES_MAX][NTS_COOKIE_LEN], nonce[NTS_NONCE_LEN];
    uint8_t cnonce[NTS_COOKIE_NONCE_LEN];
    const uint8_t *ptr[NTS_COOKIES_MAX];
    size_t lens[NTS_COOKIES_MAX], auth_off = 0;
    unsigned n = 1 + sr->n_placeholders;

    if (n > NTS_COOKIES_MAX || srv->nts.rnd(nonce, sizeof(nonce)) < 0)
        return 0;
    for (unsigned i = 0; i < n; i++) {
        if (srv->nts.rnd(cnonce, sizeof(cnonce)) < 0 ||
            nts_cookie_make(&srv->nts.ring, &sr->keys, cnonce, cookies[i], NTS_COOKIE_LEN) !=
                NTS_COOKIE_LEN)
            return 0;
        ptr[i] = cookies[i];
        lens[i] = NTS_COOKIE_LEN;
    }
    size_t len = server_build_reply(srv, &info->hdr, rx, out, cap);
    if (len)
        len = nts_ef_server_reply_open(out, len, cap, sr, ptr, lens, n, nonce, &auth_off);
    if (len) {
        struct server_nts_pending *p = &srv->nts.pend[srv->nts.next++ % SERVER_NTS_PENDING];
        p->reply = out;
        p->auth_off = auth_off;
        memcpy(p->s2c, sr->keys.s2c, sizeof(p->s2c));
    }
    return len;
}

/* The NTS path of server_handle, after the ACL and the parser. The
 * limiter first, so that a flood costs no cryptography. */
static enum server_verdict server_nts(struct server *srv, const uint8_t *req, size_t len,
                                      const struct ntp_packet_info *info,
                                      const struct netaddr *client, enum server_family fam,
                                      const struct timespec *rx, int64_t now_ns,
                                      uint8_t *reply, size_t cap, size_t *reply_len)
{
    struct nts_ef_server_req sr;
    enum server_verdict v = SERVER_REPLY_NTSN;
    size_t n = 0;

    enum ratelimit_verdict rv = ratelimit_charge(srv->rl, client, now_ns);
    if (rv != RATELIMIT_PASS) {
        if (rv == RATELIMIT_KOD)
            ratelimit_kod_not_sent(srv->rl, client);
        srv->stats.ratelimited[fam]++;
        server_note(&srv->abuse.limited, &srv->abuse.last_limited, client);
        return SERVER_DROP;
    }
    int st = nts_ef_server_request(req, len, &srv->nts.ring, &sr);
    if (st == NTS_EF_E_MALFORMED) {
        srv->stats.nts_malformed[fam]++;
        return SERVER_DROP;
    }
    if (st == NTS_EF_OK) {
        v = SERVER_REPLY_NTS;
        n = server_build_nts(srv, info, &sr, rx, reply, cap);
    } else {
        (st == NTS_EF_E_COOKIE ? srv->stats.nts_bad_cookie : srv->stats.nts_auth_failed)[fam]++;
        n = server_build_ntsn(&info->hdr, &sr, reply, cap);
    }
    OPENSSL_cleanse(&sr.keys, sizeof(sr.keys));
    if (n == 0 || n > len) /* never: the builders keep within the request */
        return SERVER_DROP;
    *reply_len = n;
    if (v == SERVER_REPLY_NTS) {
        srv->stats.answered[fam]++;
        srv->stats.nts_ok[fam]++;
    } else {
        srv->stats.nts_nak[fam]++;
    }
    return v;
}

/* ntsplain drop|nak for a request with neither NTS nor a MAC. A NAK is
 * the kiss NTSN with no time, within the client's rate. */
static enum server_verdict server_plain_refused(struct server *srv,
                                                const struct ntp_packet_info *info,
                                                const struct netaddr *client,
                                                enum server_family fam, int64_t now_ns,
                                                uint8_t *reply, size_t cap, size_t *reply_len)
{
    srv->stats.plain_refused[fam]++;
    if (srv->nts.plain != SERVER_PLAIN_NAK)
        return SERVER_DROP;
    enum ratelimit_verdict rv = ratelimit_charge(srv->rl, client, now_ns);
    if (rv != RATELIMIT_PASS) {
        if (rv == RATELIMIT_KOD)
            ratelimit_kod_not_sent(srv->rl, client);
        srv->stats.ratelimited[fam]++;
        return SERVER_DROP;
    }
    *reply_len = server_build_kiss(&info->hdr, "NTSN", reply, cap);
    return *reply_len ? SERVER_REPLY_NTSN : SERVER_DROP;
}

enum server_verdict server_handle(struct server *srv, const uint8_t *req, size_t len,
                                  const struct netaddr *client, const struct timespec *rx,
                                  int64_t now_ns, uint8_t *reply, size_t cap,
                                  size_t *reply_len)
{
    enum server_family fam = client->family == AF_INET6 ? SERVER_V6 : SERVER_V4;
    struct ntp_packet_info info;
    enum server_auth auth;
    const struct auth_key *key = NULL;

    *reply_len = 0;
    srv->stats.received[fam]++;
    /* Which side of the leap: the monotonic clock tells the second read
     * twice apart. The same for the transmit time (server_finish): now_ns
     * is the wake-up's time, shared by a batch. */
    srv->smear_after = srv->smear.s.leap != 0 && now_ns >= srv->smear.leap_mono;
    if (!acl_check(srv->acl, client)) {
        srv->stats.denied[fam]++;
        server_note(&srv->abuse.denied, &srv->abuse.last_denied, client);
        return SERVER_DROP;
    }
    if (!server_acceptable(srv, req, len, client, fam, &info, &auth))
        return SERVER_DROP;
    if (srv->nts.on && auth == SRV_AUTH_NONE) {
        if (server_is_nts(req, &info))
            return server_nts(srv, req, len, &info, client, fam, rx, now_ns, reply, cap,
                              reply_len);
        if (srv->nts.plain != SERVER_PLAIN_SERVE)
            return server_plain_refused(srv, &info, client, fam, now_ns, reply, cap, reply_len);
    }

    /* The limiter first, so that a flood costs no cryptography; a request
     * that fails authentication gets its NAK only while within its rate. */
    enum ratelimit_verdict rv = ratelimit_charge(srv->rl, client, now_ns);
    if (rv != RATELIMIT_DROP && auth == SRV_AUTH_CHECK)
        auth = server_verify(srv, req, &info, &key);
    if (rv == RATELIMIT_DROP || (auth == SRV_AUTH_FAILED && rv != RATELIMIT_PASS)) {
        /* A bad MAC over the limit gets nothing, not even the KoD the
         * limiter granted: the client's record says so. */
        if (rv == RATELIMIT_KOD)
            ratelimit_kod_not_sent(srv->rl, client);
        srv->stats.ratelimited[fam]++;
        server_note(&srv->abuse.limited, &srv->abuse.last_limited, client);
        return SERVER_DROP;
    }
    enum server_verdict v = auth == SRV_AUTH_FAILED ? SERVER_REPLY_NAK
                            : rv == RATELIMIT_KOD   ? SERVER_REPLY_KOD
                                                    : SERVER_REPLY;
    size_t n = server_build(srv, v, &info, rx, key, reply, cap);
    /* The invariant that makes us useless for amplification, enforced here
     * whatever the builders above ever grow into. A MAC'd reply is 48 bytes
     * plus a MAC of the request's own size, a NAK 52 bytes: both fit. */
    if (n == 0 || n > len) {
        if (v == SERVER_REPLY_KOD)
            ratelimit_kod_not_sent(srv->rl, client);
        return SERVER_DROP;
    }
    *reply_len = n;
    server_count(srv, v, fam, client, key != NULL);
    return v;
}

void server_count_unusable(struct server *srv, const struct netaddr *client, int oversized)
{
    enum server_family fam = client->family == AF_INET6 ? SERVER_V6 : SERVER_V4;

    srv->stats.received[fam]++;
    if (oversized)
        srv->stats.oversized[fam]++;
    else
        srv->stats.empty[fam]++;
    server_note(&srv->abuse.unusable, &srv->abuse.last_unusable, client);
}

/* Seal the NTS reply in reply, whose key server_handle kept. */
static int server_seal_nts(struct server *srv, uint8_t *reply, size_t len)
{
    for (unsigned i = 0; i < SERVER_NTS_PENDING; i++) {
        struct server_nts_pending *p = &srv->nts.pend[i];
        if (p->reply != reply)
            continue;
        int rc = nts_ef_server_seal(reply, len, p->auth_off, p->s2c);
        OPENSSL_cleanse(p, sizeof(*p));
        if (rc < 0)
            log_warnx("cannot seal an NTS reply: not sent");
        return rc;
    }
    log_warnx("an NTS reply without its key: not sent");
    return -1;
}

int server_finish(struct server *srv, enum server_verdict v, uint8_t *reply, size_t len,
                  const struct timespec *tx)
{
    if ((v == SERVER_REPLY || v == SERVER_REPLY_NTS) && tx) {
        struct timespec served = server_smeared(srv, tx);
        server_stamp_tx(reply, len, &served);
    }
    if (v == SERVER_REPLY_NTS)
        return server_seal_nts(srv, reply, len);
    /* Only an authenticated reply is longer than a header plus a key id. */
    if (v == SERVER_REPLY_NAK || v == SERVER_REPLY_NTSN || len <= NTP_HEADER_LEN + AUTH_KEYID_LEN)
        return 0;
    uint32_t id = (uint32_t)reply[NTP_HEADER_LEN] << 24 |
                  (uint32_t)reply[NTP_HEADER_LEN + 1] << 16 |
                  (uint32_t)reply[NTP_HEADER_LEN + 2] << 8 | reply[NTP_HEADER_LEN + 3];
    const struct auth_key *key = keys_find(srv->keys, id);
    /* The slot server_handle left says how long the digest is to be. */
    size_t dlen = len - NTP_HEADER_LEN - AUTH_KEYID_LEN;
    if (!key || auth_sign_len(key, reply, NTP_HEADER_LEN, len, dlen) != len) {
        log_warnx("cannot sign a reply with key %u: not sent", id);
        return -1;
    }
    return 0;
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
        {"auth_failed", st->auth_failed},  {"auth_ok", st->auth_ok},
        {"empty", st->empty},              {"oversized", st->oversized},
        {"nts_ok", st->nts_ok},            {"nts_nak", st->nts_nak},
        {"nts_bad_cookie", st->nts_bad_cookie},
        {"nts_auth_failed", st->nts_auth_failed},
        {"nts_malformed", st->nts_malformed}, {"plain_refused", st->plain_refused},
    };
    char line[2048];
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
    if (a->unusable)
        log_notice("ignored %llu empty or oversized datagram(s) (last from %s)",
                   (unsigned long long)a->unusable,
                   addr_format(&a->last_unusable, buf, sizeof(buf)));
    memset(a, 0, sizeof(*a));
}
