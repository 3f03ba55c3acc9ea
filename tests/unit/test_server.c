/* SPDX-License-Identifier: ISC */
/* Unit tests for server.c: the request -> reply decision, with no I/O. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "acl.h"
#include "auth.h"
#include "keys.h"
#include "ntp_wire.h"
#include "ratelimit.h"
#include "server.h"
#include "timefmt.h"

struct fixture {
    struct acl *acl;
    struct ratelimit *rl;
    struct server *srv;
    struct netaddr v4, v6, other;
    struct timespec rx;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct ratelimit_params p = {.enabled = 0};

    f->acl = acl_create();
    assert_int_equal(acl_add(f->acl, "192.0.2.0/24", 1), 0);
    assert_int_equal(acl_add(f->acl, "2001:db8::/32", 1), 0);
    f->rl = ratelimit_create(&p, 1);
    f->srv = server_create(f->acl, f->rl, -20);
    addr_parse("192.0.2.10", &f->v4);
    addr_parse("2001:db8::10", &f->v6);
    addr_parse("198.51.100.1", &f->other);
    f->rx = (struct timespec){1800000000, 250000000};
    struct server_ref ref = {.synced = 1, .leap = 0, .stratum = 3, .root_delay = 0.0125,
                             .root_dispersion = 0.0625, .ref_time = {1799999990, 0}};
    ref.refid = ntp_wire_refid_ascii("GPS\0");
    server_set_ref(f->srv, &ref);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    server_destroy(f->srv);
    ratelimit_destroy(f->rl);
    acl_destroy(f->acl);
    free(f);
    return 0;
}

static size_t make_request(uint8_t *buf, int version, int mode, ntp_ts_t tx)
{
    struct ntp_header h = {.version = (uint8_t)version, .mode = (uint8_t)mode, .poll = 6,
                           .tx_ts = tx};
    return ntp_wire_encode_header(&h, buf, NTP_HEADER_LEN);
}

static enum server_verdict handle(struct fixture *f, const uint8_t *req, size_t len,
                                  const struct netaddr *from, uint8_t *reply, size_t *rlen)
{
    return server_handle(f->srv, req, len, from, &f->rx, 1000000000, reply, NTP_MAX_PACKET,
                         rlen);
}

static void test_reply_fields(void **state)
{
    struct fixture *f = *state;
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    size_t rlen;
    struct ntp_header h;
    ntp_ts_t tx = 0x0123456789abcdefULL;

    size_t len = make_request(req, 4, NTP_MODE_CLIENT, tx);
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_REPLY);
    assert_int_equal(rlen, NTP_HEADER_LEN);
    struct timespec txs = {1800000000, 500000000};
    server_stamp_tx(reply, rlen, &txs);
    assert_int_equal(ntp_wire_decode_header(reply, rlen, &h), 0);
    assert_int_equal(h.mode, NTP_MODE_SERVER);
    assert_int_equal(h.version, 4);
    assert_int_equal(h.leap, 0);
    assert_int_equal(h.stratum, 3);
    assert_int_equal(h.precision, -20);
    assert_int_equal(h.poll, 6);
    assert_int_equal(h.refid, ntp_wire_refid_ascii("GPS\0"));
    assert_true(h.org_ts == tx);
    assert_true(h.rx_ts == timefmt_ts_from_timespec(&f->rx));
    assert_true(h.tx_ts == timefmt_ts_from_timespec(&txs));
    assert_true(h.ref_ts == timefmt_ts_from_timespec(&(struct timespec){1799999990, 0}));
    assert_int_equal(h.root_delay, timefmt_short_from_double(0.0125));
    assert_int_equal(h.root_dispersion, timefmt_short_from_double(0.0625));
}

static void test_versions_and_modes(void **state)
{
    struct fixture *f = *state;
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    size_t rlen;
    struct ntp_header h;

    for (int v = 0; v < 8; v++) {
        for (int m = 0; m < 8; m++) {
            size_t len = make_request(req, v, m, 42);
            enum server_verdict verdict = handle(f, req, len, &f->v4, reply, &rlen);
            int want = m == NTP_MODE_CLIENT && v >= 1 && v <= 4;
            assert_int_equal(verdict, want ? SERVER_REPLY : SERVER_DROP);
            if (want) {
                ntp_wire_decode_header(reply, rlen, &h);
                assert_int_equal(h.version, v);
            } else {
                assert_int_equal(rlen, 0);
            }
        }
    }
    struct server_stats st;
    server_get_stats(f->srv, &st);
    assert_int_equal(st.received[SERVER_V4], 64);
    assert_int_equal(st.answered[SERVER_V4], 4);
    /* versions 0 and 5-7 of modes 0-5: malformed; modes 6/7 of any version: control */
    assert_int_equal(st.control[SERVER_V4], 16);
    assert_int_equal(st.malformed[SERVER_V4], 4 * 6);
    assert_int_equal(st.wrong_mode[SERVER_V4], 16 + 4 * 5);
}

static void test_acl_denies_silently(void **state)
{
    struct fixture *f = *state;
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    size_t rlen = 99;
    size_t len = make_request(req, 4, NTP_MODE_CLIENT, 7);
    struct server_stats st;

    assert_int_equal(handle(f, req, len, &f->other, reply, &rlen), SERVER_DROP);
    assert_int_equal(rlen, 0);
    assert_int_equal(handle(f, req, len, &f->v6, reply, &rlen), SERVER_REPLY);
    server_get_stats(f->srv, &st);
    assert_int_equal(st.denied[SERVER_V4], 1);
    assert_int_equal(st.answered[SERVER_V6], 1);
    assert_int_equal(st.denied[SERVER_V6], 0);
}

static void test_unsynchronised(void **state)
{
    struct fixture *f = *state;
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    size_t rlen;
    struct ntp_header h;
    struct server_ref ref = {.synced = 0, .stratum = 3};

    server_set_ref(f->srv, &ref);
    size_t len = make_request(req, 3, NTP_MODE_CLIENT, 7);
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_REPLY);
    ntp_wire_decode_header(reply, rlen, &h);
    assert_int_equal(h.leap, NTP_LEAP_UNSYNC);
    assert_int_equal(h.stratum, 0);
    assert_int_equal(h.refid, 0);
}

static void test_kod_and_drop(void **state)
{
    struct fixture *f = *state;
    struct ratelimit_params p = {.enabled = 1, .interval = 3, .burst = 2, .leak = 0, .kod = 1,
                                 .memory_limit = 65536};
    struct ratelimit *rl = ratelimit_create(&p, 7);
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    size_t rlen;
    struct ntp_header h;
    ntp_ts_t tx = 0xdeadbeef00000001ULL;
    size_t len = make_request(req, 4, NTP_MODE_CLIENT, tx);

    server_set_ratelimit(f->srv, rl);
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_REPLY);
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_REPLY);
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_REPLY_KOD);
    ntp_wire_decode_header(reply, rlen, &h);
    assert_int_equal(h.stratum, 0);
    assert_int_equal(h.leap, NTP_LEAP_UNSYNC);
    assert_int_equal(h.refid, ntp_wire_refid_ascii("RATE"));
    assert_true(h.org_ts == tx);
    assert_true(h.tx_ts == tx); /* no usable time in a KoD */
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_DROP);
    /* another client is not affected */
    assert_int_equal(handle(f, req, len, &f->v6, reply, &rlen), SERVER_REPLY);
    struct server_stats st;
    server_get_stats(f->srv, &st);
    assert_int_equal(st.kod_sent[SERVER_V4], 1);
    assert_int_equal(st.ratelimited[SERVER_V4], 2);
    server_set_ratelimit(f->srv, f->rl);
    ratelimit_destroy(rl);
}

static void test_extensions_and_mac(void **state)
{
    struct fixture *f = *state;
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET], val[40] = {0};
    size_t rlen, off;
    size_t len = make_request(req, 4, NTP_MODE_CLIENT, 9);

    /* unknown extension field (>= 28 bytes as the last field): answered,
     * reply is a plain 48-byte header, never larger than the request */
    off = len;
    assert_int_equal(ntp_wire_ext_append(req, sizeof(req), &off, 0x0f00, val, 24), 0);
    assert_int_equal(handle(f, req, off, &f->v4, reply, &rlen), SERVER_REPLY);
    assert_int_equal(rlen, NTP_HEADER_LEN);
    /* a 20-byte MAC while no key is trusted: nothing, as before
     * authentication existed (test_auth_* cover a server with keys) */
    memset(req + len, 0, 20);
    req[len + 3] = 1;
    assert_int_equal(handle(f, req, len + 20, &f->v4, reply, &rlen), SERVER_DROP);
    /* lying extension length: malformed, nothing */
    req[len + 2] = 0xff;
    req[len + 3] = 0xfc;
    assert_int_equal(handle(f, req, len + 20, &f->v4, reply, &rlen), SERVER_DROP);
}

/* Keys for the authentication tests: 1 AES128, 2 SHA1, 3 MD5, 5 AES256,
 * 6 SHA256, 7 SHA512 trusted; 4 (AES128) in the file but not trusted. */
static const char auth_keys_text[] = "1 AES128 HEX:000102030405060708090a0b0c0d0e0f\n"
                                     "2 SHA1 HEX:00112233445566778899aabbccddeeff00112233\n"
                                     "3 MD5 HEX:0f0e0d0c0b0a09080706050403020100\n"
                                     "4 AES128 HEX:ffeeddccbbaa99887766554433221100\n"
                                     "5 AES256 HEX:000102030405060708090a0b0c0d0e0f"
                                     "101112131415161718191a1b1c1d1e1f\n"
                                     "6 SHA256 HEX:37ddcbc67bb902bcb8e995977fab4d2b\n"
                                     "7 SHA512 HEX:5642f5b32ebceee421921d97e5cbfe39\n";
static const uint32_t auth_trusted[] = {1, 2, 3, 5, 6, 7};

static struct keys *auth_setup(struct fixture *f)
{
    struct keys *ks = NULL;
    assert_int_equal(keys_parse_string("t.keys", auth_keys_text, NULL, &ks), 0);
    server_set_auth(f->srv, ks, auth_trusted, sizeof(auth_trusted) / sizeof(auth_trusted[0]));
    return ks;
}

/* A client request of the given version signed with key id (NULL: not
 * signed), after ext_len bytes of extension field. */
static size_t signed_request(uint8_t *req, int version, ntp_ts_t tx, const struct auth_key *k,
                             size_t ext_len)
{
    size_t len = make_request(req, version, NTP_MODE_CLIENT, tx);
    uint8_t val[64] = {0};
    if (ext_len) {
        assert_int_equal(ntp_wire_ext_append(req, NTP_MAX_PACKET, &len, 0x0f00, val, ext_len - 4),
                         0);
    }
    if (k)
        len = auth_sign(k, req, len, NTP_MAX_PACKET);
    assert_true(len > 0);
    return len;
}

/* A good MAC by each trusted key: a normal reply with the same key's MAC
 * over the transmit time written last; never longer than the request. */
static void test_auth_reply(void **state)
{
    struct fixture *f = *state;
    struct keys *ks = auth_setup(f);
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    size_t rlen;
    struct ntp_header h;
    struct timespec txs = {1800000000, 750000000};

    for (unsigned i = 0; i < 4; i++) {
        const struct auth_key *k = keys_find(ks, auth_trusted[i]);
        for (int version = 3; version <= 4; version++) {
            ntp_ts_t tx = 0x1122334455667700ULL + i;
            size_t ext = version == 4 && i == 0 ? 28 : 0;
            size_t len = signed_request(req, version, tx, k, ext);
            assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_REPLY);
            size_t maclen = AUTH_KEYID_LEN + auth_digest_len(k->type);
            assert_int_equal(rlen, NTP_HEADER_LEN + maclen);
            assert_true(rlen <= len);
            assert_int_equal(server_finish(f->srv, SERVER_REPLY, reply, rlen, &txs), 0);
            assert_true(auth_verify(k, reply, NTP_HEADER_LEN, maclen));
            assert_int_equal(ntp_wire_decode_header(reply, rlen, &h), 0);
            assert_int_equal(h.version, version);
            assert_int_equal(h.stratum, 3);
            assert_true(h.org_ts == tx);
            assert_true(h.tx_ts == timefmt_ts_from_timespec(&txs));
            /* the MAC covers the transmit time: changing it breaks the MAC */
            server_stamp_tx(reply, rlen, &f->rx);
            assert_false(auth_verify(k, reply, NTP_HEADER_LEN, maclen));
        }
    }
    /* requests without a MAC are still answered, without one */
    size_t len = make_request(req, 4, NTP_MODE_CLIENT, 5);
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_REPLY);
    assert_int_equal(rlen, NTP_HEADER_LEN);
    assert_int_equal(server_finish(f->srv, SERVER_REPLY, reply, rlen, &txs), 0);
    struct server_stats st;
    server_get_stats(f->srv, &st);
    assert_int_equal(st.auth_ok[SERVER_V4], 8);
    assert_int_equal(st.answered[SERVER_V4], 9);
    assert_int_equal(st.auth_failed[SERVER_V4], 0);
    server_set_auth(f->srv, NULL, NULL, 0);
    keys_destroy(ks);
}

static void expect_nak(const uint8_t *reply, size_t rlen, size_t len, ntp_ts_t tx)
{
    struct ntp_header h;
    assert_int_equal(rlen, NTP_HEADER_LEN + AUTH_KEYID_LEN);
    assert_true(rlen <= len);
    assert_int_equal(ntp_wire_decode_header(reply, rlen, &h), 0);
    assert_int_equal(h.mode, NTP_MODE_SERVER);
    assert_int_equal(h.leap, NTP_LEAP_UNSYNC);
    assert_int_equal(h.stratum, 0);
    assert_int_equal(h.refid, ntp_wire_refid_ascii("CRYP"));
    /* nothing of the server's time: only the client's own timestamp */
    assert_true(h.org_ts == tx && h.rx_ts == tx && h.tx_ts == tx);
    assert_true(h.ref_ts == 0 && h.root_delay == 0 && h.root_dispersion == 0);
    assert_memory_equal(reply + NTP_HEADER_LEN, "\0\0\0\0", 4);
}

/* Bad MAC, unknown key, untrusted key, wrong MAC size for the key: a
 * crypto-NAK with no time, never longer than the request. */
static void test_auth_failures(void **state)
{
    struct fixture *f = *state;
    struct keys *ks = auth_setup(f);
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    size_t rlen, len;
    ntp_ts_t tx = 0x5555aaaa12345678ULL;
    const struct auth_key *k1 = keys_find(ks, 1), *k4 = keys_find(ks, 4);
    struct auth_key unknown = *k1, sha_as_1 = *keys_find(ks, 2);
    unknown.id = 99;
    sha_as_1.id = 1;

    const struct auth_key *bad[] = {&unknown, k4, &sha_as_1};
    for (size_t i = 0; i < 3; i++) {
        len = signed_request(req, 4, tx, bad[i], 0);
        assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_REPLY_NAK);
        expect_nak(reply, rlen, len, tx);
        assert_int_equal(server_finish(f->srv, SERVER_REPLY_NAK, reply, rlen, NULL), 0);
        expect_nak(reply, rlen, len, tx);
    }
    /* a good MAC on a changed packet, a changed digest */
    len = signed_request(req, 4, tx, k1, 0);
    req[41] ^= 1;
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_REPLY_NAK);
    expect_nak(reply, rlen, len, tx ^ (1ULL << 48));
    req[41] ^= 1;
    req[len - 1] ^= 0x80;
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_REPLY_NAK);
    expect_nak(reply, rlen, len, tx);
    /* key id 0 (a crypto-NAK itself) and MACs of no algorithm's size:
     * silence */
    memset(req + NTP_HEADER_LEN, 0, 20);
    assert_int_equal(handle(f, req, NTP_HEADER_LEN + 20, &f->v4, reply, &rlen), SERVER_DROP);
    assert_int_equal(handle(f, req, NTP_HEADER_LEN + 4, &f->v4, reply, &rlen), SERVER_DROP);
    req[NTP_HEADER_LEN + 3] = 1;
    for (size_t n = 4; n <= 24; n += 4) {
        if (n == 20 || n == 24)
            continue;
        assert_int_equal(handle(f, req, NTP_HEADER_LEN + n, &f->v4, reply, &rlen), SERVER_DROP);
        assert_int_equal(rlen, 0);
    }
    struct server_stats st;
    server_get_stats(f->srv, &st);
    assert_int_equal(st.auth_failed[SERVER_V4], 5);
    assert_int_equal(st.auth_dropped[SERVER_V4], 2 + 4);
    assert_int_equal(st.auth_ok[SERVER_V4], 0);
    assert_int_equal(st.answered[SERVER_V4], 0);
    server_set_auth(f->srv, NULL, NULL, 0);
    keys_destroy(ks);
}

/* A v3 request with a MAC of dlen digest bytes by k: its reply (verdict
 * want) has a MAC of the same length by k over the reply, and is exactly as
 * long as the request. */
static void expect_same_mac_len(struct fixture *f, const struct auth_key *k, size_t dlen,
                                enum server_verdict want)
{
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    size_t rlen, len = make_request(req, 3, NTP_MODE_CLIENT, 0x0badcafe00000000ULL + dlen);
    struct timespec txs = {1800000000, 750000000};
    struct ntp_packet_info info;

    len = auth_sign_len(k, req, len, sizeof(req), dlen);
    assert_int_equal(len, NTP_HEADER_LEN + AUTH_KEYID_LEN + dlen);
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), want);
    assert_int_equal(rlen, len);
    assert_int_equal(server_finish(f->srv, want, reply, rlen, &txs), 0);
    assert_int_equal(ntp_wire_parse(reply, rlen, &info), 0);
    assert_int_equal(info.hdr.version, 3);
    assert_int_equal(info.hdr.mode, NTP_MODE_SERVER);
    assert_true(info.hdr.org_ts == 0x0badcafe00000000ULL + dlen);
    assert_int_equal(info.mac_off, NTP_HEADER_LEN);
    assert_int_equal(info.mac_len, AUTH_KEYID_LEN + dlen);
    assert_int_equal(info.key_id, k->id);
    assert_true(auth_verify(k, reply, info.mac_off, info.mac_len));
    /* the whole digest is checked, not just the truncated part */
    reply[rlen - 1] ^= 1;
    assert_false(auth_verify(k, reply, info.mac_off, info.mac_len));
}

/* chrony's default with a SHA256 or longer key: NTPv3 requests carrying
 * the whole digest. Each gets a v3 reply with a full MAC of the same
 * length (truncated requests get truncated replies); a full MAC in v4, a
 * wrong digest and a length the key's type does not make are refused. */
static void test_auth_v3_full_mac(void **state)
{
    struct fixture *f = *state;
    struct keys *ks = auth_setup(f);
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    size_t rlen, len;
    const struct auth_key *k6 = keys_find(ks, 6), *k7 = keys_find(ks, 7), *k1 = keys_find(ks, 1);

    expect_same_mac_len(f, k6, 32, SERVER_REPLY);
    expect_same_mac_len(f, k7, 64, SERVER_REPLY);
    expect_same_mac_len(f, k6, 20, SERVER_REPLY);
    expect_same_mac_len(f, k1, 16, SERVER_REPLY);
    /* a reply buffer of the request's size is enough, one byte less not */
    len = signed_request(req, 3, 11, NULL, 0);
    len = auth_sign_len(k6, req, len, sizeof(req), 32);
    assert_int_equal(server_handle(f->srv, req, len, &f->v4, &f->rx, 1000000000, reply, len, &rlen),
                     SERVER_REPLY);
    assert_int_equal(rlen, len);
    assert_int_equal(
        server_handle(f->srv, req, len, &f->v4, &f->rx, 1000000000, reply, len - 1, &rlen),
        SERVER_DROP);
    /* a wrong digest at full length: crypto-NAK, 52 bytes */
    req[len - 1] ^= 0x40;
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_REPLY_NAK);
    expect_nak(reply, rlen, len, 11);
    /* a 36-byte MAC by key 1 (AES-CMAC makes 16): NAK */
    memcpy(req + NTP_HEADER_LEN, "\0\0\0\1", 4);
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_REPLY_NAK);
    /* 40 bytes: no algorithm's size, silence */
    assert_int_equal(handle(f, req, len + 4, &f->v4, reply, &rlen), SERVER_DROP);
    /* the genuine full MAC after a v4 header: malformed (RFC 7822) */
    len = signed_request(req, 4, 12, NULL, 0);
    len = auth_sign_len(k6, req, len, sizeof(req), 32);
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_DROP);
    struct server_stats st;
    server_get_stats(f->srv, &st);
    assert_int_equal(st.auth_ok[SERVER_V4], 5);
    assert_int_equal(st.answered[SERVER_V4], 5);
    assert_int_equal(st.auth_failed[SERVER_V4], 2);
    assert_int_equal(st.auth_dropped[SERVER_V4], 1);
    assert_int_equal(st.malformed[SERVER_V4], 1);
    server_set_auth(f->srv, NULL, NULL, 0);
    keys_destroy(ks);
}

/* The limiter applies first: an authenticated client over its rate gets a
 * RATE kiss signed with its key; a failing one gets nothing at all. */
static void test_auth_ratelimit(void **state)
{
    struct fixture *f = *state;
    struct keys *ks = auth_setup(f);
    struct ratelimit_params p = {
        .enabled = 1, .interval = 3, .burst = 2, .leak = 0, .kod = 1, .memory_limit = 65536};
    struct ratelimit *rl = ratelimit_create(&p, 7);
    uint8_t req[NTP_MAX_PACKET], bad[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    size_t rlen;
    struct ntp_header h;
    const struct auth_key *k = keys_find(ks, 2);
    size_t len = signed_request(req, 4, 77, k, 0);
    memcpy(bad, req, len);
    bad[len - 1] ^= 1;

    server_set_ratelimit(f->srv, rl);
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_REPLY);
    assert_int_equal(handle(f, bad, len, &f->v4, reply, &rlen), SERVER_REPLY_NAK);
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_REPLY_KOD);
    assert_int_equal(rlen, len);
    assert_int_equal(server_finish(f->srv, SERVER_REPLY_KOD, reply, rlen, NULL), 0);
    assert_true(auth_verify(k, reply, NTP_HEADER_LEN, rlen - NTP_HEADER_LEN));
    ntp_wire_decode_header(reply, rlen, &h);
    assert_int_equal(h.refid, ntp_wire_refid_ascii("RATE"));
    assert_true(h.tx_ts == 77);
    /* over the limit: no NAK for a bad MAC, KoD or not */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(handle(f, bad, len, &f->v4, reply, &rlen), SERVER_DROP);
        assert_int_equal(rlen, 0);
    }
    server_set_ratelimit(f->srv, f->rl);
    ratelimit_destroy(rl);
    server_set_auth(f->srv, NULL, NULL, 0);
    keys_destroy(ks);
}

static void sum_client(const struct ratelimit_client *c, void *arg)
{
    struct ratelimit_client *sum = arg;
    sum->requests += c->requests;
    sum->drops += c->drops;
    sum->kods += c->kods;
}

/* The clients table's KoD column counts KoDs sent: a bad MAC over the
 * limit, for which the limiter granted a KoD, gets nothing and counts as a
 * drop (main counted it as a KoD). */
static void test_kod_column_counts_sent(void **state)
{
    struct fixture *f = *state;
    struct keys *ks = auth_setup(f);
    struct ratelimit_params p = {
        .enabled = 1, .interval = 3, .burst = 1, .leak = 0, .kod = 1, .memory_limit = 65536};
    struct ratelimit *rl = ratelimit_create(&p, 7);
    uint8_t req[NTP_MAX_PACKET], bad[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    size_t rlen;
    struct server_stats st;
    struct ratelimit_client sum = {0};
    size_t len = signed_request(req, 4, 77, keys_find(ks, 2), 0);
    memcpy(bad, req, len);
    bad[len - 1] ^= 1;

    server_set_ratelimit(f->srv, rl);
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_REPLY);
    /* over the limit with a bad MAC: the limiter says KoD, nothing is sent */
    assert_int_equal(handle(f, bad, len, &f->v4, reply, &rlen), SERVER_DROP);
    /* 16 s later, over the limit again with a good MAC: a KoD is sent */
    assert_int_equal(handle(f, req, len, &f->v4, reply, &rlen), SERVER_DROP);
    assert_int_equal(server_handle(f->srv, req, len, &f->v4, &f->rx, 17000000000, reply,
                                   NTP_MAX_PACKET, &rlen), SERVER_REPLY);
    assert_int_equal(server_handle(f->srv, req, len, &f->v4, &f->rx, 17000000000, reply,
                                   NTP_MAX_PACKET, &rlen), SERVER_REPLY_KOD);
    server_get_stats(f->srv, &st);
    ratelimit_foreach(rl, sum_client, &sum);
    assert_int_equal(st.kod_sent[SERVER_V4], 1);
    assert_int_equal(sum.kods, 1);
    assert_int_equal(sum.requests, 5);
    assert_int_equal(sum.drops, 2);
    server_set_ratelimit(f->srv, f->rl);
    ratelimit_destroy(rl);
    server_set_auth(f->srv, NULL, NULL, 0);
    keys_destroy(ks);
}

/* Empty and oversized datagrams are counted as received and on their own. */
static void test_unusable_counted(void **state)
{
    struct fixture *f = *state;
    struct server_stats st;

    server_count_unusable(f->srv, &f->v4, 0);
    server_count_unusable(f->srv, &f->v4, 1);
    server_count_unusable(f->srv, &f->v6, 1);
    server_get_stats(f->srv, &st);
    assert_int_equal(st.received[SERVER_V4], 2);
    assert_int_equal(st.empty[SERVER_V4], 1);
    assert_int_equal(st.oversized[SERVER_V4], 1);
    assert_int_equal(st.received[SERVER_V6], 1);
    assert_int_equal(st.oversized[SERVER_V6], 1);
    assert_int_equal(st.empty[SERVER_V6], 0);
}

/* For any input at all, the reply is never longer than the request; with
 * keys trusted, some random requests carry a MAC with a known key id. */
static void never_amplifies(struct fixture *f, int with_auth)
{
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    const char *env = getenv("TEMPUS_SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : 20240601u; /* fixed: CI runs repeat */
    unsigned replies = 0, naks = 0;
    struct keys *ks = NULL;

    printf("test_never_amplifies%s: seed %u (set TEMPUS_SEED to repeat)\n",
           with_auth ? "_auth" : "", seed);
    if (with_auth)
        ks = auth_setup(f);
    srand(seed);
    for (int i = 0; i < 200000; i++) {
        size_t len = (size_t)rand() % (i % 2 ? 64 : NTP_MAX_PACKET + 1);
        /* now and then a header and a MAC of 20/24 bytes, or of a whole
         * SHA256/SHA512 digest, with a key id we know */
        static const size_t mac_lens[] = {20, 24, 36, 68};
        int mac = with_auth && i % 5 == 0;
        if (mac)
            len = NTP_HEADER_LEN + mac_lens[(i / 5) % 4];
        for (size_t k = 0; k < len; k++)
            req[k] = (uint8_t)rand();
        if (len > 0 && (i % 3 == 0 || mac))
            req[0] = (uint8_t)((req[0] & 0xc0) | ((1 + rand() % 4) << 3) | NTP_MODE_CLIENT);
        if (mac) {
            memset(req + NTP_HEADER_LEN, 0, 3);
            req[NTP_HEADER_LEN + 3] = (uint8_t)(1 + rand() % 7);
        }
        size_t rlen = 0;
        enum server_verdict v = handle(f, req, len, &f->v4, reply, &rlen);
        if (v != SERVER_DROP) {
            replies++;
            naks += v == SERVER_REPLY_NAK;
            assert_true(rlen <= len);
            assert_true(rlen == NTP_HEADER_LEN ||
                        (with_auth && v == SERVER_REPLY_NAK && rlen == NTP_HEADER_LEN + 4));
            assert_int_equal(server_finish(f->srv, v, reply, rlen, &f->rx), 0);
        } else {
            assert_int_equal(rlen, 0);
        }
    }
    assert_true(replies > 0);
    assert_true(with_auth ? naks > 0 : naks == 0);
    if (with_auth)
        server_set_auth(f->srv, NULL, NULL, 0);
    keys_destroy(ks);
}

static void test_never_amplifies(void **state)
{
    never_amplifies(*state, 0);
}

static void test_never_amplifies_auth(void **state)
{
    never_amplifies(*state, 1);
}


/* The served time, s after Unix time sec (the wire times are NTP). */
static double served_at(ntp_ts_t ts, time_t sec)
{
    struct timespec base = {sec, 0};
    return timefmt_ts_diff(ts, timefmt_ts_from_timespec(&base));
}

/* One request at rx (our clock) and monotonic now_ns, finished at tx. */
static void smeared_reply(struct fixture *f, const struct timespec *rx, int64_t now_ns,
                          const struct timespec *tx, struct ntp_header *h)
{
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    size_t rlen;
    size_t len = make_request(req, 4, NTP_MODE_CLIENT, 1);
    assert_int_equal(server_handle(f->srv, req, len, &f->v4, rx, now_ns, reply, sizeof(reply),
                                   &rlen),
                     SERVER_REPLY);
    assert_int_equal(server_finish(f->srv, SERVER_REPLY, reply, rlen, tx), 0);
    assert_int_equal(ntp_wire_decode_header(reply, rlen, h), 0);
}

/* leapsmear: the leap indicator is never served, and receive, transmit
 * and reference times are smeared (before the leap, and after it while
 * the clock has not yet taken it); without leapsmear nothing changes. */
static void test_smear(void **state)
{
    struct fixture *f = *state;
    const time_t lt = 1800000000 + 21600; /* the leap, 6 h after rx */
    struct ntp_header h;
    struct server_ref ref = *server_get_ref(f->srv);

    ref.leap = NTP_LEAP_ADD;
    server_set_ref(f->srv, &ref);
    struct timespec tx = f->rx;
    timefmt_timespec_add(&tx, 0.25);
    smeared_reply(f, &f->rx, 1000000000, &tx, &h);
    assert_int_equal(h.leap, NTP_LEAP_ADD); /* no leapsmear: announced */
    assert_true(fabs(served_at(h.rx_ts, 1800000000) - 0.25) < 1e-9);

    struct server_smear sm = {.on = 1, .s = {.leap = 1, .leap_time = (double)lt, .window = 86400},
                              .leap_mono = 2000000000, .debt = 1.0};
    server_set_smear(f->srv, &sm);
    smeared_reply(f, &f->rx, 1000000000, &tx, &h);
    assert_int_equal(h.leap, NTP_LEAP_NONE);
    /* 21600.25 s into the window: that many 86401ths of a second behind */
    double off = -21600.25 / 86401.0;
    assert_true(fabs(served_at(h.rx_ts, 1800000000) - (0.25 + off)) < 1e-8);
    assert_true(fabs(served_at(h.tx_ts, 1800000000) - (0.5 + off - 0.25 / 86401.0)) < 1e-8);
    double ref_off = -(21600.0 - 10.0) / 86401.0; /* ref_time 10 s before rx */
    assert_true(fabs(served_at(h.ref_ts, 1799999990) - ref_off) < 1e-8);

    /* Half a second into the leap second (monotonic time past the leap),
     * the clock still on the old count, a second ahead: served just under
     * the midnight, continuous with the half second behind before it. */
    struct timespec rx2 = {lt, 500000000}, tx2 = rx2;
    smeared_reply(f, &rx2, 3000000000LL, &tx2, &h);
    double want = -0.5 + 43200.5 / 86401.0;
    assert_true(fabs(served_at(h.rx_ts, lt) - want) < 1e-8);
    assert_true(fabs(served_at(h.tx_ts, lt) - want) < 1e-8);
    /* the clock took the leap: the same instant reads half a second into
     * the repeated 23:59:59 */
    sm.debt = 0.0;
    server_set_smear(f->srv, &sm);
    struct timespec rx3 = {lt - 1, 500000000};
    smeared_reply(f, &rx3, 3000000000LL, &rx3, &h);
    assert_true(fabs(served_at(h.rx_ts, lt) - want) < 1e-8);

    /* on, no leap in progress: times as they are, no leap indicator */
    sm.s.leap = 0;
    server_set_smear(f->srv, &sm);
    smeared_reply(f, &f->rx, 1000000000, &tx, &h);
    assert_int_equal(h.leap, NTP_LEAP_NONE);
    assert_true(fabs(served_at(h.rx_ts, 1800000000) - 0.25) < 1e-9);
    assert_true(fabs(served_at(h.tx_ts, 1800000000) - 0.5) < 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reply_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions_and_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acl_denies_silently, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsynchronised, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kod_and_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extensions_and_mac, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_v3_full_mac, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_ratelimit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kod_column_counts_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unusable_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_amplifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_amplifies_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smear, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
