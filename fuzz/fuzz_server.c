/* SPDX-License-Identifier: ISC */
/* server: a sequence of datagrams from a few clients through server_handle
 * and server_finish, the whole request -> reply path (ACL, parse, rate
 * limiter with KoD, symmetric-key authentication, reply construction). The
 * input may have the harness sign a request with one of the server's keys
 * (trusted or not), with a key it does not have, or with a spoilt digest,
 * since the fuzzer cannot compute a MAC itself. Asserts, for every request:
 *   - no amplification: a reply is never longer than its request, nor than
 *     the buffer it was written into; nothing is written on a drop;
 *   - a reply only for a client-mode (3) NTP v1-4 request of >= 48 bytes from
 *     an address the ACL allows;
 *   - every reply is server mode, the request's version, and echoes the
 *     request's transmit timestamp as origin; a KoD is stratum 0 "RATE" and
 *     only comes with kod enabled;
 *   - a request without a MAC gets a bare 48-byte reply; one with a MAC gets
 *     either a reply MAC'd by the same trusted key (only if the request's MAC
 *     verifies with it; the finished reply then verifies too) or a
 *     crypto-NAK (52 bytes, "CRYP", key id 0, never for a MAC that verifies);
 *   - the counters account for every request exactly once.
 * Input: 5 bytes of set-up, then records [ctl][host][auth][len16][bytes]. */
#include "fuzz.h"

#include <netinet/in.h>
#include <time.h>

#include "acl.h"
#include "auth.h"
#include "keys.h"
#include "ntp_wire.h"
#include "ratelimit.h"
#include "server.h"

#define MAX_REQUESTS 32
#define REPLY_CAP NTP_MAX_PACKET
#define NKEYS 6

/* Ids 1..NKEYS; the set-up picks which are trusted. */
static const char key_file[] =
    "1 AES128 HEX:7EA62AE64D190114D46D5A082F948EC1\n"
    "2 SHA1 HEX:1F2E3D4C5B6A798897A6B5C4D3E2F10112233445\n"
    "3 MD5 ASCII:correcthorsebatterystaple\n"
    "4 SHA256 HEX:00112233445566778899AABBCCDDEEFF\n"
    "5 AES256 HEX:000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F\n"
    "6 SHA3-512 this-is-a-long-enough-ascii-key\n";

/* A key the server does not have. */
static const struct auth_key stranger = {
    .id = 77, .type = AUTH_SHA1, .len = 16, .key = "0123456789abcdef"};

static struct keys *keys;

struct world {
    struct acl *acl;
    struct ratelimit *rl;
    struct server *srv;
    int kod;
    uint32_t trusted[NKEYS];
    unsigned n_trusted;
    struct server_ref ref;
    struct timespec rx;
    int64_t now_ns;
};

struct request {
    uint8_t *buf;
    size_t len;
    const struct auth_key *signer; /* key the harness signed with, or NULL */
    size_t signed_at;              /* where the harness put the MAC */
    int spoilt;                    /* digest flipped after signing */
    struct ntp_packet_info info;   /* parse of the request, if parse_ok */
    int parse_ok;
};

static void world_init(struct world *w, struct fuzz_in *in)
{
    uint8_t flags = fuzz_u8(in), rlb = fuzz_u8(in), prec = fuzz_u8(in), stratum = fuzz_u8(in);
    uint8_t trust = fuzz_u8(in);
    struct ratelimit_params rp = {
        .enabled = flags & 2,
        .interval = (rlb & 15) - 4,
        .burst = ((rlb >> 4) & 3) + 1,
        .leak = rlb >> 6,
        .kod = (flags & 4) != 0,
        .memory_limit = 4096, /* small: the table evicts within one input */
    };

    memset(w, 0, sizeof(*w));
    w->acl = acl_create();
    FUZZ_CHECK(acl_add(w->acl, "192.0.2.0/24", 1) == 0);
    FUZZ_CHECK(acl_add(w->acl, "192.0.2.128/25", 0) == 0);
    FUZZ_CHECK(acl_add(w->acl, "2001:db8::/32", 1) == 0);
    w->rl = ratelimit_create(&rp, 42);
    w->kod = rp.enabled && rp.kod;
    w->srv = server_create(w->acl, w->rl, (int8_t)prec);
    if (flags & 8) {
        for (uint32_t id = 1; id <= NKEYS; id++)
            if (trust & (1u << (id - 1)))
                w->trusted[w->n_trusted++] = id;
        /* bit 7: trust an id the store lacks as well */
        if (trust & 0x80 && w->n_trusted < NKEYS)
            w->trusted[w->n_trusted++] = stranger.id;
        server_set_auth(w->srv, keys, w->trusted, w->n_trusted);
    }
    w->ref = (struct server_ref){
        .synced = flags & 1,
        .leap = (flags >> 4) & 3,
        .stratum = 1 + stratum % 15,
        .refid = 0x47505300, /* "GPS" */
        .root_delay = (double)(flags >> 6) * 0.01,
        .root_dispersion = (double)stratum * 0.001,
        .ref_time = {1800000000, 0},
    };
    server_set_ref(w->srv, &w->ref);
    w->rx = (struct timespec){1800000000, 250000000};
    w->now_ns = 1000000000000LL;
}

static void world_fini(struct world *w)
{
    server_destroy(w->srv);
    ratelimit_destroy(w->rl);
    acl_destroy(w->acl);
}

static int world_trusts(const struct world *w, uint32_t id)
{
    for (unsigned i = 0; i < w->n_trusted; i++)
        if (w->trusted[i] == id)
            return 1;
    return 0;
}

/* One of four address groups; returns whether the ACL above allows it. */
static int pick_client(uint8_t kind, uint8_t host, struct netaddr *a)
{
    memset(a, 0, sizeof(*a));
    if (kind < 2) {
        static const uint8_t net[2][3] = {{192, 0, 2}, {198, 51, 100}};
        a->family = AF_INET;
        memcpy(a->bytes, net[kind], 3);
        a->bytes[3] = host;
        return kind == 0 && host < 128;
    }
    static const uint8_t net6[2][4] = {{0x20, 0x01, 0x0d, 0xb8}, {0x20, 0x01, 0x0d, 0xb9}};
    a->family = AF_INET6;
    memcpy(a->bytes, net6[kind - 2], 4);
    a->bytes[15] = host;
    return kind == 2;
}

/* The request as the input describes it, signed if asked:
 * auth bits 0-2: 0 unsigned, 1..6 key id, 7 a key the server lacks;
 * bit 3: spoil the digest; bit 4: sign the first 48 bytes only. */
static void make_request(struct request *rq, uint8_t auth, const uint8_t *raw, size_t len)
{
    unsigned which = auth & 7;

    memset(rq, 0, sizeof(*rq));
    rq->buf = fuzz_alloc(len + AUTH_KEYID_LEN + AUTH_DIGEST_MAX);
    memcpy(rq->buf, raw, len);
    rq->len = len;
    if (which) {
        rq->signer = which == 7 ? &stranger : keys_find(keys, which);
        FUZZ_CHECK(rq->signer != NULL);
        size_t at = auth & 0x10 && len > NTP_HEADER_LEN ? NTP_HEADER_LEN : len;
        /* bit 5: the whole digest, as chrony sends in NTPv3 with long hashes */
        size_t dlen = auth & 0x20 ? auth_digest_full_len(rq->signer->type)
                                  : auth_digest_len(rq->signer->type);
        size_t n = auth_sign_len(rq->signer, rq->buf, at, at + AUTH_KEYID_LEN + AUTH_DIGEST_MAX,
                                 dlen);
        FUZZ_CHECK(n == at + AUTH_KEYID_LEN + dlen);
        rq->len = n;
        rq->signed_at = at;
        if (auth & 8) {
            rq->buf[n - 1] ^= 0x80;
            rq->spoilt = 1;
        }
    }
    /* The real request goes in an exactly sized copy for ASan. */
    uint8_t *exact = fuzz_dup(rq->buf, rq->len);
    free(rq->buf);
    rq->buf = exact;
    /* Parsed into a local: a pointer into *rq passed out would make clang's
     * analyzer lose track of rq->buf and report it leaked. */
    struct ntp_packet_info info;
    rq->parse_ok = ntp_wire_parse(rq->buf, rq->len, &info) == 0;
    rq->info = info;
    /* The oracle below leans on auth_verify: it must know our own MAC. */
    if (rq->signer && rq->parse_ok && rq->info.mac_off == rq->signed_at)
        FUZZ_CHECK(auth_verify(rq->signer, rq->buf, rq->info.mac_off, rq->info.mac_len) ==
                   !rq->spoilt);
}

/* The request's MAC verifies with a key the server both trusts and has. */
static int request_authentic(const struct world *w, const struct request *rq)
{
    if (!rq->parse_ok || rq->info.mac_len == 0 || !world_trusts(w, rq->info.key_id))
        return 0;
    const struct auth_key *k = keys_find(keys, rq->info.key_id);
    return k && auth_verify(k, rq->buf, rq->info.mac_off, rq->info.mac_len);
}

static void check_header(const struct world *w, enum server_verdict v, const struct request *rq,
                         const struct ntp_header *rp)
{
    struct ntp_header h;

    FUZZ_CHECK(ntp_wire_decode_header(rq->buf, rq->len, &h) == 0);
    FUZZ_CHECK(rp->mode == NTP_MODE_SERVER);
    FUZZ_CHECK(rp->version == h.version);
    FUZZ_CHECK(rp->org_ts == h.tx_ts);
    FUZZ_CHECK(rp->poll >= 4 && rp->poll <= 17);
    if (v == SERVER_REPLY_NAK) {
        FUZZ_CHECK(rp->stratum == 0 && rp->leap == NTP_LEAP_UNSYNC);
        FUZZ_CHECK(rp->refid == ntp_wire_refid_ascii("CRYP"));
    } else if (v == SERVER_REPLY_KOD) {
        FUZZ_CHECK(w->kod);
        FUZZ_CHECK(rp->stratum == 0 && rp->leap == NTP_LEAP_UNSYNC);
        FUZZ_CHECK(rp->refid == ntp_wire_refid_ascii("RATE"));
    } else if (w->ref.synced) {
        FUZZ_CHECK(rp->stratum == w->ref.stratum && rp->leap == w->ref.leap);
        FUZZ_CHECK(rp->refid == w->ref.refid);
    } else {
        FUZZ_CHECK(rp->stratum == 0 && rp->leap == NTP_LEAP_UNSYNC && rp->refid == 0);
    }
}

/* The MAC part of a reply, and the reply once finished. */
static void check_mac(const struct world *w, enum server_verdict v, const struct request *rq,
                      uint8_t *reply, size_t rlen)
{
    if (v == SERVER_REPLY_NAK) {
        static const uint8_t zero[AUTH_KEYID_LEN];
        FUZZ_CHECK(rq->info.mac_len > 0 && rq->info.key_id != 0 && w->n_trusted > 0);
        FUZZ_CHECK(!request_authentic(w, rq));
        FUZZ_CHECK(rlen == NTP_HEADER_LEN + AUTH_KEYID_LEN);
        FUZZ_CHECK(memcmp(reply + NTP_HEADER_LEN, zero, AUTH_KEYID_LEN) == 0);
        FUZZ_CHECK(server_finish(w->srv, v, reply, rlen, NULL) == 0);
        return;
    }
    if (rq->info.mac_len == 0) {
        FUZZ_CHECK(rlen == NTP_HEADER_LEN);
        FUZZ_CHECK(server_finish(w->srv, v, reply, rlen, &w->rx) == 0);
        return;
    }
    /* Time (or a kiss) for a MAC'd request only if the MAC holds. */
    FUZZ_CHECK(request_authentic(w, rq));
    const struct auth_key *k = keys_find(keys, rq->info.key_id);
    /* the reply's MAC is as long as the request's: never an amplification */
    FUZZ_CHECK(rlen == NTP_HEADER_LEN + rq->info.mac_len);
    FUZZ_CHECK(memcmp(reply + NTP_HEADER_LEN, rq->buf + rq->info.mac_off, AUTH_KEYID_LEN) == 0);
    FUZZ_CHECK(server_finish(w->srv, v, reply, rlen, &w->rx) == 0);
    FUZZ_CHECK(auth_verify(k, reply, NTP_HEADER_LEN, rlen - NTP_HEADER_LEN) == 1);
}

static void check_reply(const struct world *w, enum server_verdict v, const struct request *rq,
                        uint8_t *reply, size_t rlen)
{
    struct ntp_header rp;

    /* What deserves an answer, judged from the raw bytes, not the parser. */
    FUZZ_CHECK(rq->len >= NTP_HEADER_LEN);
    unsigned mode = rq->buf[0] & 7, version = (rq->buf[0] >> 3) & 7;
    FUZZ_CHECK(mode == NTP_MODE_CLIENT);
    FUZZ_CHECK(version >= 1 && version <= 4);
    FUZZ_CHECK(rq->parse_ok);

    FUZZ_CHECK(ntp_wire_decode_header(reply, rlen, &rp) == 0);
    check_header(w, v, rq, &rp);
    check_mac(w, v, rq, reply, rlen);
}

/* One request; returns 0 when the input has run out. */
static int one_request(struct world *w, struct fuzz_in *in)
{
    uint8_t ctl = fuzz_u8(in), host = fuzz_u8(in), auth = fuzz_u8(in);
    size_t want = fuzz_u16(in) % (NTP_MAX_PACKET + 1), len, rlen = 12345;
    const uint8_t *raw = fuzz_bytes(in, want, &len);
    struct netaddr client;
    struct request rq;
    int allowed = pick_client(ctl & 3, host, &client);
    unsigned step = (ctl >> 2) & 15;

    make_request(&rq, auth, raw, len);
    /* An exactly sized reply buffer: one as long as the request tests the
     * cap, and ASan sees any write past it. */
    size_t cap = ctl & 0x40 ? rq.len : REPLY_CAP;
    uint8_t *reply = fuzz_alloc(cap);
    if (step) {
        int64_t dt = (int64_t)1 << (step + 20);
        w->now_ns += dt;
        w->rx.tv_sec += (time_t)(dt / 1000000000);
    }
    enum server_verdict v =
        server_handle(w->srv, rq.buf, rq.len, &client, &w->rx, w->now_ns, reply, cap, &rlen);
    FUZZ_CHECK(v == SERVER_REPLY || v == SERVER_REPLY_KOD || v == SERVER_REPLY_NAK ||
               v == SERVER_DROP);
    if (v == SERVER_DROP) {
        FUZZ_CHECK(rlen == 0);
    } else {
        FUZZ_CHECK(allowed);
        FUZZ_CHECK(rlen <= rq.len); /* the no-amplification invariant */
        FUZZ_CHECK(rlen <= cap);
        check_reply(w, v, &rq, reply, rlen);
    }
    free(reply);
    free(rq.buf);
    return in->n > 0;
}

static void check_stats(const struct world *w, unsigned nreq)
{
    struct server_stats st;
    uint64_t recv = 0, sum = 0;

    server_get_stats(w->srv, &st);
    for (int f = 0; f < SERVER_NFAMILIES; f++) {
        FUZZ_CHECK(st.kod_sent[f] <= st.ratelimited[f]);
        FUZZ_CHECK(st.control[f] <= st.wrong_mode[f]);
        FUZZ_CHECK(st.auth_ok[f] <= st.answered[f] + st.kod_sent[f]);
        recv += st.received[f];
        sum += st.answered[f] + st.denied[f] + st.ratelimited[f] + st.malformed[f] +
               st.wrong_mode[f] + st.auth_dropped[f] + st.auth_failed[f];
    }
    /* Every reply fits its buffer here (cap is the request's length or
     * more), so no request can fall through uncounted. */
    FUZZ_CHECK(recv == nreq);
    FUZZ_CHECK(sum == recv);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    keys = fuzz_load_keys(key_file, NKEYS);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    struct world w;
    unsigned n = 0;

    world_init(&w, &in);
    while (n < MAX_REQUESTS) {
        n++;
        if (!one_request(&w, &in))
            break;
    }
    check_stats(&w, n);
    server_log_stats(w.srv);
    server_log_abuse(w.srv);
    world_fini(&w);
    return 0;
}
