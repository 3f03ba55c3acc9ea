/* SPDX-License-Identifier: ISC */
/* Unit tests for nts_client.c against the server side of nts_ef with a
 * real cookie ring: the jar spent one cookie per request and refilled to 8
 * through placeholders (also after lost replies), replays and replies to
 * superseded requests refused, key exchange asked for when the jar runs
 * dry or a NAK drops the keys (at the next request, unless an
 * authenticated reply came: a forged NAK costs nothing), and the backoff
 * after failed exchanges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nts_client.h"
#include "ntp_wire.h"

static struct nts_cookie_ring ring;
static struct nts_ke_result ke;
static uint8_t counter;

static int setup(void **state)
{
    uint8_t key[32], cn[16];

    (void)state;
    if (nts_aead_init() < 0)
        return -1;
    memset(key, 0x5e, sizeof(key));
    if (nts_cookie_rotate(&ring, 1, key) < 0)
        return -1;
    struct nts_cookie_data d = {.aead = NTS_AEAD_AES_SIV_CMAC_256};
    memset(d.c2s, 0x0c, sizeof(d.c2s));
    memset(d.s2c, 0x5c, sizeof(d.s2c));
    memcpy(ke.c2s, d.c2s, 32);
    memcpy(ke.s2c, d.s2c, 32);
    ke.resp.aead = d.aead;
    ke.resp.n_cookies = NTS_COOKIES_MAX;
    for (int i = 0; i < NTS_COOKIES_MAX; i++) {
        memset(cn, i, sizeof(cn));
        if (nts_cookie_make(&ring, &d, cn, ke.resp.cookies[i], NTS_COOKIE_MAX) != NTS_COOKIE_LEN)
            return -1;
        ke.resp.cookie_len[i] = NTS_COOKIE_LEN;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nts_aead_fini();
    return 0;
}

static size_t request(struct nts_client *c, uint8_t *pkt, size_t cap)
{
    struct ntp_header h = {.version = 4, .mode = 3};
    uint8_t uid[NTS_UID_LEN], nonce[NTS_NONCE_LEN];

    memset(uid, ++counter, sizeof(uid));
    memset(nonce, counter ^ 0xff, sizeof(nonce));
    return nts_client_request(c, pkt, ntp_wire_encode_header(&h, pkt, cap), cap, uid, nonce);
}

/* The server's answer to q: as many fresh cookies as asked for, or a NAK
 * when the cookie does not open. */
static size_t answer(const uint8_t *q, size_t qlen, uint8_t *r, size_t cap, unsigned *asked)
{
    static uint8_t fresh[NTS_COOKIES_MAX][NTS_COOKIE_LEN];
    struct ntp_header h = {.version = 4, .mode = 4, .stratum = 1};
    const uint8_t *cp[NTS_COOKIES_MAX];
    size_t lens[NTS_COOKIES_MAX];
    uint8_t nonce[NTS_NONCE_LEN] = {7}, cn[16] = {9};
    struct nts_ef_server_req sr;

    int st = nts_ef_server_request(q, qlen, &ring, &sr);
    size_t hl = ntp_wire_encode_header(&h, r, cap);
    if (st == NTS_EF_E_COOKIE)
        return nts_ef_nak(r, hl, cap, sr.uid, sr.uid_len);
    assert_int_equal(st, NTS_EF_OK);
    *asked = 1 + sr.n_placeholders;
    for (unsigned i = 0; i < *asked; i++) {
        cn[0] = (uint8_t)i;
        assert_int_equal(nts_cookie_make(&ring, &sr.keys, cn, fresh[i], NTS_COOKIE_LEN),
                         NTS_COOKIE_LEN);
        cp[i] = fresh[i];
        lens[i] = NTS_COOKIE_LEN;
    }
    return nts_ef_server_reply(r, hl, cap, &sr, cp, lens, *asked, nonce);
}

static unsigned cookies(const struct nts_client *c)
{
    struct nts_client_info i;
    nts_client_get_info(c, &i);
    return i.cookies;
}

static void test_jar(void **state)
{
    (void)state;
    uint8_t q[4][1500], r[1500];
    size_t ql[4];
    unsigned asked = 0;
    struct nts_client_info info;
    struct nts_client *c = nts_client_new();

    assert_int_equal(nts_client_need_ke(c, 0), 1);
    assert_int_equal(request(c, q[0], sizeof(q[0])), 0);
    nts_client_ke_done(c, &ke, 100);
    assert_int_equal(nts_client_need_ke(c, 100), 0);
    assert_int_equal(cookies(c), 8);

    ql[0] = request(c, q[0], sizeof(q[0]));
    assert_true(ql[0] > 0);
    assert_int_equal(cookies(c), 7);
    size_t rl = answer(q[0], ql[0], r, sizeof(r), &asked);
    assert_int_equal(asked, 1);
    assert_int_equal(nts_client_reply(c, r, rl), NTS_EF_OK);
    assert_int_equal(cookies(c), 8);
    /* The same reply again is a replay. */
    assert_int_equal(nts_client_reply(c, r, rl), NTS_EF_E_UID);
    assert_int_equal(cookies(c), 8);

    /* Three requests lost; the fourth asks for 3 more, and a late reply
     * to the third (superseded) is refused. */
    for (int i = 0; i < 4; i++)
        ql[i] = request(c, q[i], sizeof(q[i]));
    assert_int_equal(cookies(c), 4);
    rl = answer(q[2], ql[2], r, sizeof(r), &asked);
    assert_int_equal(nts_client_reply(c, r, rl), NTS_EF_E_UID);
    rl = answer(q[3], ql[3], r, sizeof(r), &asked);
    assert_int_equal(asked, 4);
    assert_int_equal(nts_client_reply(c, r, rl), NTS_EF_OK);
    assert_int_equal(cookies(c), 8);
    nts_client_get_info(c, &info);
    assert_int_equal(info.replies_ok, 2);
    assert_int_equal(info.replies_bad, 2);
    assert_int_equal(info.aead, 15);

    /* Eight unanswered requests empty the jar: time for a key exchange. */
    for (int i = 0; i < 8; i++)
        assert_true(request(c, q[0], sizeof(q[0])) > 0);
    assert_int_equal(cookies(c), 0);
    assert_int_equal(request(c, q[0], sizeof(q[0])), 0);
    assert_int_equal(nts_client_need_ke(c, 200), 1);
    nts_client_free(c);
}

static void test_nak(void **state)
{
    (void)state;
    uint8_t q[1500], r[1500], k[32];
    unsigned asked;
    struct nts_client_info info;
    struct nts_client *c = nts_client_new();
    struct nts_cookie_ring saved = ring;

    nts_client_ke_done(c, &ke, 0);
    memset(k, 1, sizeof(k));
    assert_int_equal(nts_cookie_rotate(&ring, 2, k), 0);
    memset(k, 2, sizeof(k));
    assert_int_equal(nts_cookie_rotate(&ring, 3, k), 0);
    size_t ql = request(c, q, sizeof(q));
    size_t rl = answer(q, ql, r, sizeof(r), &asked);
    assert_int_equal(rl, 48 + 36);
    assert_int_equal(nts_client_reply(c, r, rl), NTS_EF_NAK);
    /* Counted, but the keys stay until the next request (RFC 8915 5.7):
     * an authenticated reply may still come. */
    nts_client_get_info(c, &info);
    assert_int_equal(info.naks, 1);
    assert_int_equal(info.have_keys, 1);
    assert_int_equal(info.cookies, 7);
    assert_int_equal(nts_client_need_ke(c, 0), 1);
    /* A second copy of the NAK is one more NAK for the same request. */
    assert_int_equal(nts_client_reply(c, r, rl), NTS_EF_NAK);
    /* None came: the next request drops keys and cookies and sends nothing. */
    assert_int_equal(request(c, q, sizeof(q)), 0);
    nts_client_get_info(c, &info);
    assert_int_equal(info.naks, 2);
    assert_int_equal(info.have_keys, 0);
    assert_int_equal(info.cookies, 0);
    assert_int_equal(nts_client_need_ke(c, 0), 1);
    assert_int_equal(nts_client_reply(c, r, rl), NTS_EF_E_UID);
    /* A key exchange clears it all. */
    nts_client_ke_done(c, &ke, 1);
    assert_int_equal(nts_client_need_ke(c, 1), 0);
    ring = saved;
    nts_client_free(c);
}

/* A NAK forged by someone who saw the request (it needs only the unique
 * identifier) and then the server's genuine reply: the reply is taken, the
 * NAK cancelled, the keys kept, no key exchange. */
static void test_forged_nak(void **state)
{
    (void)state;
    uint8_t q[1500], r[1500], nak[1500];
    unsigned asked;
    struct nts_client_info info;
    struct ntp_header h = {.version = 4, .mode = 4, .stratum = 0, .refid = NTS_NAK_REFID};
    struct nts_client *c = nts_client_new();

    nts_client_ke_done(c, &ke, 0);
    size_t ql = request(c, q, sizeof(q));
    struct nts_ef_server_req sr;
    assert_int_equal(nts_ef_server_request(q, ql, &ring, &sr), NTS_EF_OK);
    size_t nl = nts_ef_nak(nak, ntp_wire_encode_header(&h, nak, sizeof(nak)), sizeof(nak), sr.uid,
                           sr.uid_len);
    assert_true(nl > 48);
    size_t rl = answer(q, ql, r, sizeof(r), &asked);
    assert_int_equal(nts_client_reply(c, nak, nl), NTS_EF_NAK);
    assert_int_equal(nts_client_reply(c, r, rl), NTS_EF_OK);
    nts_client_get_info(c, &info);
    assert_int_equal(info.naks, 1);
    assert_int_equal(info.replies_ok, 1);
    assert_int_equal(info.have_keys, 1);
    assert_int_equal(info.cookies, 8);
    assert_int_equal(nts_client_need_ke(c, 0), 0);
    assert_true(request(c, q, sizeof(q)) > 0);
    /* After the reply, a NAK for it finds nothing outstanding. */
    assert_int_equal(nts_client_reply(c, nak, nl), NTS_EF_E_UID);
    nts_client_get_info(c, &info);
    assert_int_equal(info.naks, 1);
    assert_int_equal(info.have_keys, 1);
    nts_client_free(c);
}

static void test_backoff(void **state)
{
    (void)state;
    struct nts_client_info info;
    struct nts_client *c = nts_client_new();
    double t = 1000, want = NTS_CLIENT_BACKOFF_MIN;

    for (int i = 0; i < 12; i++) {
        nts_client_ke_failed(c, t);
        nts_client_get_info(c, &info);
        assert_int_equal(info.ke_failures, (unsigned)i + 1);
        assert_true(info.next_ke == t + want);
        assert_int_equal(nts_client_need_ke(c, t + want - 0.5), 0);
        assert_int_equal(nts_client_need_ke(c, t + want), 1);
        t += want;
        want = want * 2 > NTS_CLIENT_BACKOFF_MAX ? NTS_CLIENT_BACKOFF_MAX : want * 2;
    }
    assert_true(want == NTS_CLIENT_BACKOFF_MAX);
    /* Success resets it. */
    nts_client_ke_done(c, &ke, t);
    nts_client_get_info(c, &info);
    assert_int_equal(info.ke_failures, 0);
    assert_int_equal(info.kes, 1);
    nts_client_ke_failed(c, t);
    nts_client_get_info(c, &info);
    assert_true(info.next_ke == t + NTS_CLIENT_BACKOFF_MIN);
    /* Keys and cookies held: no exchange needed even past the backoff. */
    assert_int_equal(nts_client_need_ke(c, t + 1e6), 0);
    nts_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jar),
        cmocka_unit_test(test_nak),
        cmocka_unit_test(test_forged_nak),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
