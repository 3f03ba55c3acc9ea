/* SPDX-License-Identifier: ISC */
/* Unit tests for nts_ef.c: a whole exchange (client request, server check
 * with its cookie ring, reply with fresh cookies, client check), the
 * request's exact layout, every single-byte change and every truncation of
 * a request and a reply refused, NAKs, rotation, and the placement rules
 * (authenticator last, one UID, one cookie, placeholders as long as it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nts_ef.h"
#include "ntp_wire.h"

static uint8_t uid[NTS_UID_LEN], nonce[NTS_NONCE_LEN], snonce[NTS_NONCE_LEN];
static struct nts_cookie_ring ring;
static struct nts_cookie_data assoc;
static uint8_t cookie[NTS_COOKIE_LEN];

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + 13 * i);
}

static int setup(void **state)
{
    uint8_t key[32], cn[16];

    (void)state;
    if (nts_aead_init() < 0)
        return -1;
    fill(uid, sizeof(uid), 0x31);
    fill(nonce, sizeof(nonce), 0x41);
    fill(snonce, sizeof(snonce), 0x51);
    fill(key, sizeof(key), 0x61);
    fill(cn, sizeof(cn), 0x71);
    assoc.aead = NTS_AEAD_AES_SIV_CMAC_256;
    fill(assoc.c2s, 32, 0x81);
    fill(assoc.s2c, 32, 0x91);
    if (nts_cookie_rotate(&ring, 5, key) < 0 ||
        nts_cookie_make(&ring, &assoc, cn, cookie, sizeof(cookie)) != NTS_COOKIE_LEN)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nts_aead_fini();
    return 0;
}

static size_t header(uint8_t *pkt, uint8_t mode)
{
    struct ntp_header h = {.version = 4, .mode = mode, .stratum = mode == 4 ? 2 : 0,
                           .tx_ts = 0x0123456789abcdefULL};
    return ntp_wire_encode_header(&h, pkt, NTP_HEADER_LEN);
}

static size_t make_request(uint8_t *pkt, size_t cap, unsigned n_ph)
{
    struct nts_ef_client_req r = {uid, cookie, sizeof(cookie), n_ph, assoc.c2s, nonce};
    return nts_ef_client_request(pkt, header(pkt, 3), cap, &r);
}

/* The reply a server makes to req: n fresh cookies, each a fill pattern. */
static size_t make_reply(uint8_t *pkt, size_t cap, const struct nts_ef_server_req *req, unsigned n,
                         uint8_t fresh[][NTS_COOKIE_LEN])
{
    const uint8_t *cs[NTS_COOKIES_MAX];
    size_t lens[NTS_COOKIES_MAX];

    for (unsigned i = 0; i < n; i++) {
        fill(fresh[i], NTS_COOKIE_LEN, (uint8_t)(0xa0 + i));
        cs[i] = fresh[i];
        lens[i] = NTS_COOKIE_LEN;
    }
    return nts_ef_server_reply(pkt, header(pkt, 4), cap, req, cs, lens, n, snonce);
}

static void test_request_layout(void **state)
{
    (void)state;
    uint8_t pkt[1024];
    size_t n = make_request(pkt, sizeof(pkt), 2);

    /* 48 + UID 36 + cookie 104 + 2 placeholders + authenticator of a
     * 16-byte nonce and a bare 16-byte tag (4 + 4 + 16 + 16). */
    assert_int_equal(n, 48 + 36 + 3 * 104 + 40);
    assert_int_equal(pkt[48], 0x01);
    assert_int_equal(pkt[49], 0x04);
    assert_int_equal(pkt[51], 36);
    assert_memory_equal(pkt + 52, uid, 32);
    assert_int_equal(pkt[84], 0x02);
    assert_int_equal(pkt[87], 104);
    assert_memory_equal(pkt + 88, cookie, sizeof(cookie));
    assert_int_equal(pkt[188], 0x03);
    assert_int_equal(pkt[292], 0x03);
    size_t a = 48 + 36 + 3 * 104;
    static const uint8_t auth_hdr[] = {0x04, 0x04, 0x00, 40, 0x00, 16, 0x00, 16};
    assert_memory_equal(pkt + a, auth_hdr, sizeof(auth_hdr));
    assert_memory_equal(pkt + a + 8, nonce, 16);
    /* The tag covers {packet up to the authenticator, nonce} with C2S. */
    uint8_t tag[16];
    const struct nts_aead_ad ad[] = {{pkt, a}, {nonce, 16}};
    assert_int_equal(nts_aead_seal(assoc.c2s, ad, 2, NULL, 0, tag, sizeof(tag)), 16);
    assert_memory_equal(pkt + a + 24, tag, 16);
    /* Does not fit one byte less; 8 placeholders is too many. */
    assert_int_equal(make_request(pkt, n - 1, 2), 0);
    assert_int_equal(make_request(pkt, sizeof(pkt), NTS_COOKIES_MAX), 0);
}

static void test_exchange(void **state)
{
    (void)state;
    uint8_t req_pkt[1024], rep[1024], fresh[NTS_COOKIES_MAX][NTS_COOKIE_LEN];
    struct nts_ef_server_req sreq;
    static struct nts_ef_cookies got;

    size_t qlen = make_request(req_pkt, sizeof(req_pkt), 2);
    assert_int_equal(nts_ef_server_request(req_pkt, qlen, &ring, &sreq), NTS_EF_OK);
    assert_int_equal(sreq.uid_len, 32);
    assert_ptr_equal(sreq.uid, req_pkt + 52);
    assert_int_equal(sreq.n_placeholders, 2);
    assert_memory_equal(sreq.keys.c2s, assoc.c2s, 32);
    assert_memory_equal(sreq.keys.s2c, assoc.s2c, 32);

    assert_int_equal(make_reply(rep, sizeof(rep), &sreq, 4, fresh), 0); /* asked for 3 */
    size_t rlen = make_reply(rep, sizeof(rep), &sreq, 3, fresh);
    assert_true(rlen > 0);
    /* No amplification: the placeholders paid for the cookies. */
    assert_true(rlen <= qlen);
    assert_int_equal(nts_ef_client_reply(rep, rlen, uid, assoc.s2c, &got), NTS_EF_OK);
    assert_int_equal(got.n, 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(got.len[i], NTS_COOKIE_LEN);
        assert_memory_equal(got.cookie[i], fresh[i], NTS_COOKIE_LEN);
    }
    /* Cookies longer than the client's: only as many as keep the reply
     * within the request's length (2 of 3 here). */
    static uint8_t longer[3][NTS_COOKIE_LEN + 8];
    const uint8_t *lp[3] = {longer[0], longer[1], longer[2]};
    size_t ll[3] = {NTS_COOKIE_LEN + 8, NTS_COOKIE_LEN + 8, NTS_COOKIE_LEN + 8};
    memset(longer, 0x77, sizeof(longer));
    uint8_t rep2[1024];
    size_t r2 = nts_ef_server_reply(rep2, header(rep2, 4), sizeof(rep2), &sreq, lp, ll, 3, snonce);
    assert_true(r2 > 0 && r2 <= qlen);
    assert_int_equal(nts_ef_client_reply(rep2, r2, uid, assoc.s2c, &got), NTS_EF_OK);
    assert_int_equal(got.n, 2);
    assert_int_equal(got.len[1], NTS_COOKIE_LEN + 8);
    /* A request too short to hold even the bare reply gets none. */
    struct nts_ef_server_req tiny = sreq;
    tiny.req_len = 48 + 36 + 39;
    assert_int_equal(nts_ef_server_reply(rep2, header(rep2, 4), sizeof(rep2), &tiny, lp, ll, 0,
                                         snonce),
                     0);
    tiny.req_len = 48 + 36 + 40;
    assert_int_equal(nts_ef_server_reply(rep2, header(rep2, 4), sizeof(rep2), &tiny, lp, ll, 3,
                                         snonce),
                     48 + 36 + 40);
    assert_int_equal(nts_ef_client_reply(rep2, 48 + 36 + 40, uid, assoc.s2c, &got), NTS_EF_OK);
    assert_int_equal(got.n, 0);
    assert_int_equal(nts_ef_client_reply(rep, rlen, uid, assoc.s2c, &got), NTS_EF_OK);
    /* The cookies travel encrypted. */
    for (size_t i = 0; i + 16 <= rlen; i++)
        assert_true(memcmp(rep + i, fresh[1], 16) != 0);
    /* Another UID, the C2S key in place of S2C. */
    uint8_t other[NTS_UID_LEN];
    memcpy(other, uid, sizeof(other));
    other[31] ^= 1;
    assert_int_equal(nts_ef_client_reply(rep, rlen, other, assoc.s2c, &got), NTS_EF_E_UID);
    assert_int_equal(nts_ef_client_reply(rep, rlen, uid, assoc.c2s, &got), NTS_EF_E_AUTH);
    assert_int_equal(got.n, 0);
}

/* Every byte changed and every prefix: never accepted. */
static void test_tamper_truncate(void **state)
{
    (void)state;
    uint8_t q[1024], r[1024], fresh[NTS_COOKIES_MAX][NTS_COOKIE_LEN];
    struct nts_ef_server_req sreq;
    static struct nts_ef_cookies got;

    size_t qlen = make_request(q, sizeof(q), 1);
    assert_int_equal(nts_ef_server_request(q, qlen, &ring, &sreq), NTS_EF_OK);
    size_t rlen = make_reply(r, sizeof(r), &sreq, 2, fresh);
    assert_int_equal(nts_ef_client_reply(r, rlen, uid, assoc.s2c, &got), NTS_EF_OK);
    for (size_t i = 0; i < qlen; i++) {
        q[i] ^= 0x20;
        assert_int_not_equal(nts_ef_server_request(q, qlen, &ring, &sreq), NTS_EF_OK);
        q[i] ^= 0x20;
    }
    for (size_t i = 0; i < rlen; i++) {
        r[i] ^= 0x20;
        int st = nts_ef_client_reply(r, rlen, uid, assoc.s2c, &got);
        assert_true(st < 0);
        r[i] ^= 0x20;
    }
    for (size_t n = 0; n < qlen; n++)
        assert_int_not_equal(nts_ef_server_request(q, n, &ring, &sreq), NTS_EF_OK);
    for (size_t n = 0; n < rlen; n++)
        assert_true(nts_ef_client_reply(r, n, uid, assoc.s2c, &got) < 0);
    assert_int_equal(nts_ef_server_request(q, qlen, &ring, &sreq), NTS_EF_OK);
}

static void test_nak(void **state)
{
    (void)state;
    uint8_t q[1024], r[256], key[32];
    struct nts_ef_server_req sreq;
    static struct nts_ef_cookies got;
    struct nts_cookie_ring rotated = ring;

    size_t qlen = make_request(q, sizeof(q), 0);
    fill(key, 32, 0xee);
    assert_int_equal(nts_cookie_rotate(&rotated, 6, key), 0);
    assert_int_equal(nts_ef_server_request(q, qlen, &rotated, &sreq), NTS_EF_OK);
    fill(key, 32, 0xef);
    assert_int_equal(nts_cookie_rotate(&rotated, 7, key), 0);
    /* Two rotations later the cookie is gone: NAK, with the UID known. */
    assert_int_equal(nts_ef_server_request(q, qlen, &rotated, &sreq), NTS_EF_E_COOKIE);
    assert_ptr_equal(sreq.uid, q + 52);
    size_t rlen = nts_ef_nak(r, header(r, 4), sizeof(r), sreq.uid, sreq.uid_len);
    assert_int_equal(rlen, 48 + 36);
    assert_int_equal(r[1], 0);
    assert_memory_equal(r + 12, "NTSN", 4);
    assert_int_equal(nts_ef_client_reply(r, rlen, uid, assoc.s2c, &got), NTS_EF_NAK);
    /* Somebody else's NAK; a stratum 0 packet with another kiss code. */
    uid[0] ^= 1;
    assert_int_equal(nts_ef_client_reply(r, rlen, uid, assoc.s2c, &got), NTS_EF_E_UID);
    uid[0] ^= 1;
    memcpy(r + 12, "RATE", 4);
    assert_int_equal(nts_ef_client_reply(r, rlen, uid, assoc.s2c, &got), NTS_EF_E_MALFORMED);

    /* A good cookie but a wrong tag: authentication failure, NAK-able. */
    q[qlen - 1] ^= 1;
    assert_int_equal(nts_ef_server_request(q, qlen, &ring, &sreq), NTS_EF_E_AUTH);
    assert_ptr_equal(sreq.uid, q + 52);
}

/* Append one raw extension field. */
static void ef(uint8_t *pkt, size_t *off, uint16_t type, const uint8_t *v, size_t len)
{
    assert_int_equal(ntp_wire_ext_append(pkt, 2048, off, type, v, len), 0);
}

static void auth(uint8_t *pkt, size_t *off)
{
    /* Sealed correctly, so only the placement rules can refuse it. */
    uint8_t tag[16];
    const struct nts_aead_ad ad[] = {{pkt, *off}, {nonce, 16}};
    uint8_t body[4 + 16 + 16] = {0, 16, 0, 16};
    assert_int_equal(nts_aead_seal(assoc.c2s, ad, 2, NULL, 0, tag, sizeof(tag)), 16);
    memcpy(body + 4, nonce, 16);
    memcpy(body + 20, tag, 16);
    ef(pkt, off, NTS_EF_AUTH, body, sizeof(body));
}

static void test_placement(void **state)
{
    (void)state;
    static uint8_t p[2048];
    static const uint8_t zeros[NTS_COOKIE_LEN + 4];
    struct nts_ef_server_req sreq;
    size_t off;

    /* The reference: built by hand, accepted. */
    off = header(p, 3);
    ef(p, &off, NTS_EF_COOKIE, cookie, sizeof(cookie));
    ef(p, &off, NTS_EF_UID, uid, 32);
    ef(p, &off, 0x1234, zeros, 20); /* an unknown field inside the AD */
    auth(p, &off);
    assert_int_equal(nts_ef_server_request(p, off, &ring, &sreq), NTS_EF_OK);
    assert_int_equal(sreq.n_placeholders, 0);
    /* A field after the authenticator. */
    ef(p, &off, 0x1234, zeros, 20);
    assert_int_equal(nts_ef_server_request(p, off, &ring, &sreq), NTS_EF_E_MALFORMED);

    const struct {
        unsigned uids, cookies, ph;
        size_t ph_len, uid_len;
    } bad[] = {{0, 1, 0, 0, 32}, {2, 1, 0, 0, 32}, {1, 0, 0, 0, 32},
               {1, 2, 0, 0, 32}, {1, 1, 1, 96, 32}, {1, 1, 1, 104, 32},
               {1, 1, 0, 0, 28}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        off = header(p, 3);
        for (unsigned k = 0; k < bad[i].uids; k++)
            ef(p, &off, NTS_EF_UID, uid, bad[i].uid_len);
        for (unsigned k = 0; k < bad[i].cookies; k++)
            ef(p, &off, NTS_EF_COOKIE, cookie, sizeof(cookie));
        for (unsigned k = 0; k < bad[i].ph; k++)
            ef(p, &off, NTS_EF_PLACEHOLDER, zeros, bad[i].ph_len);
        auth(p, &off);
        assert_int_equal(nts_ef_server_request(p, off, &ring, &sreq), NTS_EF_E_MALFORMED);
    }
    /* Placeholders of the cookie's length, ahead of it, are fine; more
     * than 7 count as 7. */
    off = header(p, 3);
    ef(p, &off, NTS_EF_UID, uid, 32);
    for (unsigned k = 0; k < 9; k++)
        ef(p, &off, NTS_EF_PLACEHOLDER, zeros, NTS_COOKIE_LEN);
    ef(p, &off, NTS_EF_COOKIE, cookie, sizeof(cookie));
    auth(p, &off);
    assert_int_equal(nts_ef_server_request(p, off, &ring, &sreq), NTS_EF_OK);
    assert_int_equal(sreq.n_placeholders, NTS_COOKIES_MAX - 1);
    /* NTPv3, or a legacy MAC after the fields. */
    p[0] = (uint8_t)(p[0] & ~0x38) | 3 << 3;
    assert_int_equal(nts_ef_server_request(p, off, &ring, &sreq), NTS_EF_E_MALFORMED);
    p[0] = (uint8_t)(p[0] & ~0x38) | 4 << 3;
    memset(p + off, 0, 20);
    assert_int_equal(nts_ef_server_request(p, off + 20, &ring, &sreq), NTS_EF_E_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_layout), cmocka_unit_test(test_exchange),
        cmocka_unit_test(test_tamper_truncate), cmocka_unit_test(test_nak),
        cmocka_unit_test(test_placement),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
