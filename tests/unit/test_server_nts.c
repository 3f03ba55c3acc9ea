/* SPDX-License-Identifier: ISC */
/* Unit tests for server.c's NTS path (RFC 8915), in memory: requests made
 * with nts_ef as a client makes them, replies checked with the client's
 * check, NAKs for a foreign cookie and an altered request, malformed
 * requests dropped, rate limiting, the ntsplain policies. */
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
#include "nts_aead.h"
#include "nts_cookie.h"
#include "nts_ef.h"
#include "ntp_wire.h"
#include "ratelimit.h"
#include "server.h"
#include "timefmt.h"

struct fixture {
    struct acl *acl;
    struct ratelimit *rl;
    struct server *srv;
    struct nts_cookie_ring ring;
    struct nts_cookie_data keys; /* the client's, inside its cookie */
    uint8_t cookie[NTS_COOKIE_LEN];
    struct netaddr from;
    struct timespec rx;
};

/* Deterministic "random" bytes (xorshift64*), enough for nonces here. */
static uint64_t rand_state = 0x9e3779b97f4a7c15ull;
static int test_rand(void *buf, size_t len)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        rand_state ^= rand_state >> 12;
        rand_state ^= rand_state << 25;
        rand_state ^= rand_state >> 27;
        p[i] = (uint8_t)((rand_state * 0x2545f4914f6cdd1dull) >> 56);
    }
    return 0;
}

static void fill(uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v + i);
}

static struct fixture *make_fixture(const struct ratelimit_params *rp)
{
    struct fixture *f = calloc(1, sizeof(*f));
    uint8_t key[NTS_AEAD_KEY_LEN], nonce[NTS_COOKIE_NONCE_LEN];

    assert_int_equal(nts_aead_init(), 0);
    f->acl = acl_create();
    assert_int_equal(acl_add(f->acl, "192.0.2.0/24", 1), 0);
    f->rl = ratelimit_create(rp, 1);
    f->srv = server_create(f->acl, f->rl, -20);
    addr_parse("192.0.2.10", &f->from);
    f->rx = (struct timespec){1800000000, 250000000};
    struct server_ref ref = {.synced = 1, .stratum = 2, .ref_time = {1799999990, 0}};
    server_set_ref(f->srv, &ref);
    fill(key, sizeof(key), 0x40);
    assert_int_equal(nts_cookie_rotate(&f->ring, 7, key), 0);
    f->keys.aead = NTS_AEAD_AES_SIV_CMAC_256;
    fill(f->keys.c2s, sizeof(f->keys.c2s), 0x10);
    fill(f->keys.s2c, sizeof(f->keys.s2c), 0x90);
    fill(nonce, sizeof(nonce), 0xa0);
    assert_int_equal(nts_cookie_make(&f->ring, &f->keys, nonce, f->cookie, sizeof(f->cookie)),
                     NTS_COOKIE_LEN);
    server_set_nts(f->srv, &f->ring, SERVER_PLAIN_SERVE, test_rand);
    return f;
}

static int setup(void **state)
{
    struct ratelimit_params p = {.enabled = 0};
    *state = make_fixture(&p);
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

/* An NTS request with cookie and n placeholders; returns its length. */
static size_t nts_request(const struct fixture *f, const uint8_t *cookie, unsigned n,
                          const uint8_t uid[NTS_UID_LEN], uint8_t *buf, size_t cap)
{
    struct ntp_header h = {.version = 4, .mode = 3, .poll = 6, .tx_ts = 0x1122334455667788ull};
    uint8_t nonce[NTS_NONCE_LEN];
    fill(nonce, sizeof(nonce), 0x33);
    struct nts_ef_client_req q = {.uid = uid, .cookie = cookie, .cookie_len = NTS_COOKIE_LEN,
                                  .n_placeholders = n, .c2s = f->keys.c2s, .nonce = nonce};
    size_t len = ntp_wire_encode_header(&h, buf, cap);
    return nts_ef_client_request(buf, len, cap, &q);
}

static enum server_verdict handle(struct fixture *f, const uint8_t *req, size_t len,
                                  uint8_t *reply, size_t *rlen)
{
    return server_handle(f->srv, req, len, &f->from, &f->rx, 1000000000, reply, NTP_MAX_PACKET,
                         rlen);
}

static void test_answer(void **state)
{
    struct fixture *f = *state;
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET], uid[NTS_UID_LEN];
    struct timespec tx = {1800000000, 500000000};
    struct nts_ef_cookies got;
    struct server_stats st;
    size_t rlen;

    fill(uid, sizeof(uid), 1);
    for (unsigned n = 0; n < NTS_COOKIES_MAX; n++) {
        size_t len = nts_request(f, f->cookie, n, uid, req, sizeof(req));
        assert_true(len > NTP_HEADER_LEN);
        assert_int_equal(handle(f, req, len, reply, &rlen), SERVER_REPLY_NTS);
        /* not sealed yet: the client cannot take it */
        assert_int_not_equal(nts_ef_client_reply(reply, rlen, uid, f->keys.s2c, &got),
                             NTS_EF_OK);
        assert_int_equal(server_finish(f->srv, SERVER_REPLY_NTS, reply, rlen, &tx), 0);
        assert_int_equal(rlen, len); /* our cookies are as long as the client's */
        assert_int_equal(nts_ef_client_reply(reply, rlen, uid, f->keys.s2c, &got), NTS_EF_OK);
        assert_int_equal(got.n, 1 + n);
        struct ntp_header h;
        assert_int_equal(ntp_wire_decode_header(reply, rlen, &h), 0);
        assert_true(h.tx_ts == timefmt_ts_from_timespec(&tx)); /* stamped, then sealed */
        assert_true(h.org_ts == 0x1122334455667788ull);
        assert_int_equal(h.stratum, 2);
        for (unsigned i = 0; i < got.n; i++) { /* fresh cookies holding the same keys */
            struct nts_cookie_data d;
            assert_int_equal(got.len[i], NTS_COOKIE_LEN);
            assert_int_equal(nts_cookie_open(&f->ring, got.cookie[i], got.len[i], &d), 0);
            assert_memory_equal(d.s2c, f->keys.s2c, sizeof(d.s2c));
            assert_memory_not_equal(got.cookie[i], f->cookie, NTS_COOKIE_LEN);
        }
    }
    server_get_stats(f->srv, &st);
    assert_int_equal(st.nts_ok[SERVER_V4], NTS_COOKIES_MAX);
    assert_int_equal(st.answered[SERVER_V4], NTS_COOKIES_MAX);
    assert_int_equal(st.nts_nak[SERVER_V4], 0);
}

/* A cookie under a key we do not have (another server, or two rotations
 * ago) gets a NAK: stratum 0, NTSN, the UID, no time. */
static void test_nak_foreign_cookie(void **state)
{
    struct fixture *f = *state;
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET], uid[NTS_UID_LEN], key[NTS_AEAD_KEY_LEN];
    uint8_t foreign[NTS_COOKIE_LEN], nonce[NTS_COOKIE_NONCE_LEN] = {0};
    struct nts_cookie_ring other = {0};
    struct nts_ef_cookies got;
    struct server_stats st;
    size_t rlen;

    fill(key, sizeof(key), 0x77);
    assert_int_equal(nts_cookie_rotate(&other, 9, key), 0);
    assert_int_equal(nts_cookie_make(&other, &f->keys, nonce, foreign, sizeof(foreign)),
                     NTS_COOKIE_LEN);
    fill(uid, sizeof(uid), 5);
    size_t len = nts_request(f, foreign, 3, uid, req, sizeof(req));
    assert_int_equal(handle(f, req, len, reply, &rlen), SERVER_REPLY_NTSN);
    assert_int_equal(server_finish(f->srv, SERVER_REPLY_NTSN, reply, rlen, NULL), 0);
    assert_true(rlen < len);
    assert_int_equal(nts_ef_client_reply(reply, rlen, uid, f->keys.s2c, &got), NTS_EF_NAK);
    struct ntp_header h;
    assert_int_equal(ntp_wire_decode_header(reply, rlen, &h), 0);
    assert_int_equal(h.stratum, 0);
    assert_true(h.rx_ts == h.org_ts && h.tx_ts == h.org_ts); /* no time of ours */

    /* After two rotations our own old cookie is foreign too. */
    fill(key, sizeof(key), 0x01);
    assert_int_equal(nts_cookie_rotate(&f->ring, 8, key), 0);
    server_set_nts(f->srv, &f->ring, SERVER_PLAIN_SERVE, test_rand);
    len = nts_request(f, f->cookie, 0, uid, req, sizeof(req));
    assert_int_equal(handle(f, req, len, reply, &rlen), SERVER_REPLY_NTS); /* one: fine */
    assert_int_equal(server_finish(f->srv, SERVER_REPLY_NTS, reply, rlen, &f->rx), 0);
    fill(key, sizeof(key), 0x02);
    assert_int_equal(nts_cookie_rotate(&f->ring, 10, key), 0);
    server_set_nts(f->srv, &f->ring, SERVER_PLAIN_SERVE, test_rand);
    assert_int_equal(handle(f, req, len, reply, &rlen), SERVER_REPLY_NTSN);
    server_get_stats(f->srv, &st);
    assert_int_equal(st.nts_bad_cookie[SERVER_V4], 2);
    assert_int_equal(st.nts_nak[SERVER_V4], 2);
    assert_int_equal(st.nts_ok[SERVER_V4], 1);
}

/* Every byte of a request changed: never an answer with time. Bytes of
 * the NTS part make a NAK (bad cookie or authenticator) or a drop
 * (malformed); the header's bytes fail the authenticator, or the parser. */
static void test_altered_requests(void **state)
{
    struct fixture *f = *state;
    uint8_t req[NTP_MAX_PACKET], bad[NTP_MAX_PACKET], reply[NTP_MAX_PACKET], uid[NTS_UID_LEN];
    struct server_stats st;
    size_t rlen;
    unsigned naks = 0, drops = 0;

    fill(uid, sizeof(uid), 9);
    size_t len = nts_request(f, f->cookie, 1, uid, req, sizeof(req));
    for (size_t i = 0; i < len; i++) {
        memcpy(bad, req, len);
        bad[i] ^= 0x01;
        enum server_verdict v = handle(f, bad, len, reply, &rlen);
        if (i >= 40 && i < 48) { /* the transmit timestamp: also under the AEAD */
            assert_int_equal(v, SERVER_REPLY_NTSN);
        }
        assert_true(v == SERVER_REPLY_NTSN || v == SERVER_DROP);
        naks += v == SERVER_REPLY_NTSN;
        drops += v == SERVER_DROP;
    }
    /* Every truncation is dropped, but the header alone and the header
     * with the UID field alone (48 + 36 bytes): those hold no cookie and
     * no authenticator, so they are plain requests, served as such
     * (ntsplain serve) with a plain 48-byte answer and no NTS in it. */
    for (size_t cut = 0; cut < len; cut += 4) {
        int plain = cut == NTP_HEADER_LEN || cut == NTP_HEADER_LEN + 4 + NTS_UID_LEN;
        assert_int_equal(handle(f, req, cut, reply, &rlen), plain ? SERVER_REPLY : SERVER_DROP);
        if (plain)
            assert_int_equal(rlen, NTP_HEADER_LEN);
    }
    server_get_stats(f->srv, &st);
    assert_int_equal(st.nts_ok[SERVER_V4], 0);
    assert_int_equal(st.answered[SERVER_V4], 2);
    assert_int_equal(st.nts_nak[SERVER_V4], naks);
    assert_true(st.nts_auth_failed[SERVER_V4] > 0 && st.nts_bad_cookie[SERVER_V4] > 0);
    assert_true(naks + drops == len);
    /* the request as made is still fine */
    assert_int_equal(handle(f, req, len, reply, &rlen), SERVER_REPLY_NTS);
    assert_int_equal(server_finish(f->srv, SERVER_REPLY_NTS, reply, rlen, &f->rx), 0);
}

/* NTS requests are charged like any other: over the limit, nothing (and
 * no unauthenticated RATE kiss), counted as rate-limited. */
static void test_ratelimit(void **state)
{
    (void)state;
    struct ratelimit_params p = {.enabled = 1, .interval = 3, .burst = 4, .leak = 0, .kod = 1,
                                 .memory_limit = 65536};
    struct fixture *f = make_fixture(&p);
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET], uid[NTS_UID_LEN];
    struct server_stats st;
    size_t rlen;
    unsigned answered = 0;

    fill(uid, sizeof(uid), 3);
    size_t len = nts_request(f, f->cookie, 0, uid, req, sizeof(req));
    for (int i = 0; i < 20; i++) {
        enum server_verdict v = handle(f, req, len, reply, &rlen);
        assert_true(v == SERVER_REPLY_NTS || v == SERVER_DROP);
        if (v == SERVER_REPLY_NTS) {
            answered++;
            assert_int_equal(server_finish(f->srv, v, reply, rlen, &f->rx), 0);
        }
    }
    server_get_stats(f->srv, &st);
    assert_true(answered >= 1 && answered <= 5);
    assert_int_equal(st.ratelimited[SERVER_V4], 20 - answered);
    assert_int_equal(st.kod_sent[SERVER_V4], 0);
    assert_int_equal(st.nts_ok[SERVER_V4], answered);
    void *s = f;
    teardown(&s);
}

static void test_plain_policies(void **state)
{
    struct fixture *f = *state;
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    struct ntp_header h = {.version = 4, .mode = 3, .tx_ts = 42};
    struct server_stats st;
    size_t rlen, len = ntp_wire_encode_header(&h, req, sizeof(req));

    assert_int_equal(handle(f, req, len, reply, &rlen), SERVER_REPLY);
    server_set_nts(f->srv, &f->ring, SERVER_PLAIN_DROP, test_rand);
    assert_int_equal(handle(f, req, len, reply, &rlen), SERVER_DROP);
    server_set_nts(f->srv, &f->ring, SERVER_PLAIN_NAK, test_rand);
    assert_int_equal(handle(f, req, len, reply, &rlen), SERVER_REPLY_NTSN);
    assert_int_equal(rlen, NTP_HEADER_LEN);
    assert_int_equal(ntp_wire_decode_header(reply, rlen, &h), 0);
    assert_int_equal(h.stratum, 0);
    assert_int_equal(h.refid, NTS_NAK_REFID);
    server_get_stats(f->srv, &st);
    assert_int_equal(st.plain_refused[SERVER_V4], 2);
    assert_int_equal(st.answered[SERVER_V4], 1);
    /* NTS still answered under nak */
    uint8_t uid[NTS_UID_LEN];
    fill(uid, sizeof(uid), 2);
    len = nts_request(f, f->cookie, 0, uid, req, sizeof(req));
    assert_int_equal(handle(f, req, len, reply, &rlen), SERVER_REPLY_NTS);
    assert_int_equal(server_finish(f->srv, SERVER_REPLY_NTS, reply, rlen, &f->rx), 0);
    /* Without an NTS server, an NTS request is a plain one, as before. */
    server_set_nts(f->srv, NULL, SERVER_PLAIN_SERVE, NULL);
    assert_int_equal(handle(f, req, len, reply, &rlen), SERVER_REPLY);
    assert_int_equal(rlen, NTP_HEADER_LEN);
}

/* A reply buffer server_handle did not fill for NTS is not sealed. */
static void test_finish_unknown_buffer(void **state)
{
    struct fixture *f = *state;
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET], other[NTP_MAX_PACKET], uid[NTS_UID_LEN];
    size_t rlen;

    fill(uid, sizeof(uid), 4);
    size_t len = nts_request(f, f->cookie, 0, uid, req, sizeof(req));
    assert_int_equal(handle(f, req, len, reply, &rlen), SERVER_REPLY_NTS);
    memcpy(other, reply, rlen);
    assert_int_equal(server_finish(f->srv, SERVER_REPLY_NTS, other, rlen, &f->rx), -1);
    assert_int_equal(server_finish(f->srv, SERVER_REPLY_NTS, reply, rlen, &f->rx), 0);
    /* and only once */
    assert_int_equal(server_finish(f->srv, SERVER_REPLY_NTS, reply, rlen, &f->rx), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nak_foreign_cookie, setup, teardown),
        cmocka_unit_test_setup_teardown(test_altered_requests, setup, teardown),
        cmocka_unit_test(test_ratelimit),
        cmocka_unit_test_setup_teardown(test_plain_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finish_unknown_buffer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
