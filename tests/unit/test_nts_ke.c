/* SPDX-License-Identifier: ISC */
/* Unit tests for nts_ke.c: record framing at every bound, the exact bytes
 * of a request (the three records chrony's client sends too), and each of
 * RFC 8915's rules that make a response or a request fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nts_ke.h"

static const uint16_t aead15[] = {NTS_AEAD_AES_SIV_CMAC_256};

/* A message assembled record by record in a test's own buffer. */
struct msg {
    uint8_t b[NTS_KE_MSG_MAX];
    size_t n;
};

static void rec(struct msg *m, uint16_t type, int crit, const void *body, size_t len)
{
    assert_int_equal(nts_ke_record_put(m->b, sizeof(m->b), &m->n, type, crit, body, len), 0);
}

static void rec16(struct msg *m, uint16_t type, int crit, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    rec(m, type, crit, b, 2);
}

/* The usual good response up to (not including) its cookies. */
static void good_head(struct msg *m)
{
    m->n = 0;
    rec16(m, NTS_KE_REC_NEXT_PROTO, 1, NTS_NEXT_PROTO_NTPV4);
    rec16(m, NTS_KE_REC_AEAD, 1, NTS_AEAD_AES_SIV_CMAC_256);
}

static void cookie(struct msg *m, size_t len, uint8_t fill)
{
    uint8_t c[NTS_COOKIE_MAX + 8];
    assert_true(len <= sizeof(c));
    memset(c, fill, len);
    rec(m, NTS_KE_REC_COOKIE, 0, c, len);
}

static void end(struct msg *m)
{
    rec(m, NTS_KE_REC_END, 1, NULL, 0);
}

static int parse(const struct msg *m, struct nts_ke_response *r)
{
    return nts_ke_parse_response(m->b, m->n, aead15, 1, r);
}

static void test_request_bytes(void **state)
{
    (void)state;
    static const uint8_t want[] = {0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x80, 0x04,
                                   0x00, 0x02, 0x00, 0x0f, 0x80, 0x00, 0x00, 0x00};
    uint8_t buf[64];

    assert_int_equal(nts_ke_build_request(aead15, 1, NULL, 0, buf, sizeof(buf)), sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));
    /* Exactly the size fits; one byte less does not. */
    assert_int_equal(nts_ke_build_request(aead15, 1, NULL, 0, buf, sizeof(want)), sizeof(want));
    assert_int_equal(nts_ke_build_request(aead15, 1, NULL, 0, buf, sizeof(want) - 1), 0);
    assert_int_equal(nts_ke_build_request(aead15, 0, NULL, 0, buf, sizeof(buf)), 0);

    static const uint8_t hints[] = {0x00, 0x06, 0x00, 0x03, 'a', '.', 'b',
                                    0x00, 0x07, 0x00, 0x02, 0x11, 0x70};
    size_t n = nts_ke_build_request(aead15, 1, "a.b", 4464, buf, sizeof(buf));
    assert_int_equal(n, 12 + sizeof(hints) + 4);
    assert_memory_equal(buf + 12, hints, sizeof(hints));
}

static void test_record_bounds(void **state)
{
    (void)state;
    static const uint8_t m[] = {0x80, 0x05, 0x00, 0x03, 'x', 'y', 'z', 0x00, 0x00, 0x00};
    struct nts_ke_record r;
    size_t off = 0;

    assert_int_equal(nts_ke_record_next(m, 7, &off, &r), 1);
    assert_int_equal(off, 7);
    assert_int_equal(r.type, 5);
    assert_int_equal(r.critical, 1);
    assert_int_equal(r.body_len, 3);
    assert_ptr_equal(r.body, m + 4);
    assert_int_equal(nts_ke_record_next(m, 7, &off, &r), 0);
    /* Body one byte past the end; header cut short. */
    off = 0;
    assert_int_equal(nts_ke_record_next(m, 6, &off, &r), -1);
    assert_int_equal(off, 0);
    off = 7;
    assert_int_equal(nts_ke_record_next(m, 10, &off, &r), -1);
    off = 11;
    assert_int_equal(nts_ke_record_next(m, 10, &off, &r), -1);

    uint8_t buf[8];
    size_t n = 0;
    assert_int_equal(nts_ke_record_put(buf, sizeof(buf), &n, 1, 0, m, 5), -1);
    assert_int_equal(n, 0);
    assert_int_equal(nts_ke_record_put(buf, sizeof(buf), &n, 0x8001, 0, m, 0), -1);
    assert_int_equal(nts_ke_record_put(buf, sizeof(buf), &n, 0x7fff, 0, m, 4), 0);
    assert_int_equal(n, 8);
    assert_int_equal(buf[0], 0x7f);
    assert_int_equal(buf[1], 0xff);
}

static void test_message_length(void **state)
{
    (void)state;
    struct msg m = {.n = 0};

    good_head(&m);
    assert_int_equal(nts_ke_message_length(m.b, m.n), 0);
    end(&m);
    assert_int_equal(nts_ke_message_length(m.b, m.n), 12 + 4);
    assert_int_equal(nts_ke_message_length(m.b, m.n - 1), 0);
    /* Bytes after End belong to whatever comes next. */
    assert_int_equal(nts_ke_message_length(m.b, m.n + 5), 16);

    struct msg bad = {.n = 0};
    rec16(&bad, NTS_KE_REC_END, 1, 0);
    assert_int_equal(nts_ke_message_length(bad.b, bad.n), -1);
    /* No End within the limit. */
    struct msg big = {.n = 0};
    while (big.n + 4 + 200 <= sizeof(big.b))
        cookie(&big, 200, 1);
    memset(big.b + big.n, 0xff, sizeof(big.b) - big.n);
    assert_int_equal(nts_ke_message_length(big.b, sizeof(big.b)), -1);
}

static void test_response_good(void **state)
{
    (void)state;
    static struct nts_ke_response r;
    const uint8_t *cookies[2];
    size_t lens[2] = {100, 4};
    uint8_t c1[100], c2[4] = {1, 2, 3, 4};
    struct msg m = {.n = 0};

    memset(c1, 0xc1, sizeof(c1));
    cookies[0] = c1;
    cookies[1] = c2;
    struct nts_ke_reply rep = {.aead = NTS_AEAD_AES_SIV_CMAC_256, .n_cookies = 2,
                               .cookies = cookies, .cookie_len = lens,
                               .server = "127.0.0.1", .port = 11123};
    m.n = nts_ke_build_response(&rep, m.b, sizeof(m.b));
    assert_int_equal(m.n, 6 + 6 + 104 + 8 + 13 + 6 + 4);
    assert_int_equal(parse(&m, &r), NTS_KE_OK);
    assert_int_equal(r.aead, 15);
    assert_int_equal(r.n_cookies, 2);
    assert_int_equal(r.cookie_len[0], 100);
    assert_memory_equal(r.cookies[0], c1, 100);
    assert_int_equal(r.cookie_len[1], 4);
    assert_memory_equal(r.cookies[1], c2, 4);
    assert_string_equal(r.server, "127.0.0.1");
    assert_int_equal(r.port, 11123);

    /* A cookie of more than NTS_COOKIE_MAX is not built. */
    lens[1] = NTS_COOKIE_MAX + 4;
    assert_int_equal(nts_ke_build_response(&rep, m.b, sizeof(m.b)), 0);
}

static void test_response_cookie_counts(void **state)
{
    (void)state;
    static struct nts_ke_response r;
    struct msg m;

    good_head(&m);
    end(&m);
    assert_int_equal(parse(&m, &r), NTS_KE_E_NO_COOKIES);
    good_head(&m);
    for (int i = 0; i < 10; i++)
        cookie(&m, 8 + 4 * (size_t)i, (uint8_t)i);
    end(&m);
    assert_int_equal(parse(&m, &r), NTS_KE_OK);
    assert_int_equal(r.n_cookies, NTS_COOKIES_MAX);
    assert_int_equal(r.cookie_len[7], 36);
    assert_int_equal(r.cookies[7][35], 7);

    static const size_t bad_len[] = {0, 2, 5, 102, NTS_COOKIE_MAX + 4};
    for (size_t i = 0; i < sizeof(bad_len) / sizeof(bad_len[0]); i++) {
        good_head(&m);
        cookie(&m, 100, 1);
        cookie(&m, bad_len[i], 2);
        end(&m);
        assert_int_equal(parse(&m, &r), NTS_KE_E_BAD_RECORD);
        assert_int_equal(r.n_cookies, 0);
    }
    good_head(&m);
    cookie(&m, NTS_COOKIE_MAX, 3);
    end(&m);
    assert_int_equal(parse(&m, &r), NTS_KE_OK);
}

static void test_response_next_proto(void **state)
{
    (void)state;
    static struct nts_ke_response r;
    static const uint8_t two[] = {0, 0, 0, 1};
    struct msg m = {.n = 0};

    /* missing */
    rec16(&m, NTS_KE_REC_AEAD, 1, 15);
    cookie(&m, 100, 1);
    end(&m);
    assert_int_equal(parse(&m, &r), NTS_KE_E_NEXT_PROTO);
    /* twice */
    good_head(&m);
    rec16(&m, NTS_KE_REC_NEXT_PROTO, 1, 0);
    cookie(&m, 100, 1);
    end(&m);
    assert_int_equal(parse(&m, &r), NTS_KE_E_NEXT_PROTO);
    /* not critical, another protocol, two protocols */
    const struct {
        int crit;
        const uint8_t *body;
        size_t len;
    } cases[] = {{0, two, 2}, {1, two + 2, 2}, {1, two, 4}, {1, two, 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        m.n = 0;
        rec(&m, NTS_KE_REC_NEXT_PROTO, cases[i].crit, cases[i].body, cases[i].len);
        rec16(&m, NTS_KE_REC_AEAD, 1, 15);
        cookie(&m, 100, 1);
        end(&m);
        assert_int_equal(parse(&m, &r), NTS_KE_E_NEXT_PROTO);
    }
}

static void test_response_aead(void **state)
{
    (void)state;
    static struct nts_ke_response r;
    static const uint16_t offered[] = {NTS_AEAD_AES_128_GCM_SIV, NTS_AEAD_AES_SIV_CMAC_256};
    struct msg m = {.n = 0};

    /* The algorithm chrony's server answers an offer of 30 alone with:
     * an empty AEAD record, no cookies. */
    rec16(&m, NTS_KE_REC_NEXT_PROTO, 1, 0);
    rec(&m, NTS_KE_REC_AEAD, 1, NULL, 0);
    end(&m);
    assert_int_equal(parse(&m, &r), NTS_KE_E_AEAD);
    /* Not offered. */
    m.n = 0;
    rec16(&m, NTS_KE_REC_NEXT_PROTO, 1, 0);
    rec16(&m, NTS_KE_REC_AEAD, 1, 30);
    cookie(&m, 100, 1);
    end(&m);
    assert_int_equal(parse(&m, &r), NTS_KE_E_AEAD);
    assert_int_equal(nts_ke_parse_response(m.b, m.n, offered, 2, &r), NTS_KE_OK);
    assert_int_equal(r.aead, 30);
    /* Missing. */
    m.n = 0;
    rec16(&m, NTS_KE_REC_NEXT_PROTO, 1, 0);
    cookie(&m, 100, 1);
    end(&m);
    assert_int_equal(parse(&m, &r), NTS_KE_E_AEAD);
}

static void test_response_error_warning(void **state)
{
    (void)state;
    static struct nts_ke_response r;
    struct msg m = {.n = 0};

    rec16(&m, NTS_KE_REC_ERROR, 1, NTS_KE_ERROR_BAD_REQUEST);
    end(&m);
    assert_int_equal(parse(&m, &r), NTS_KE_E_SERVER_ERROR);
    assert_int_equal(r.error_code, 1);
    good_head(&m);
    cookie(&m, 100, 1);
    rec16(&m, NTS_KE_REC_WARNING, 1, 0x1234);
    end(&m);
    assert_int_equal(parse(&m, &r), NTS_KE_E_WARNING);
    assert_int_equal(r.warning_code, 0x1234);
    assert_int_equal(r.n_cookies, 0);
    m.n = 0;
    rec(&m, NTS_KE_REC_ERROR, 1, "abc", 3);
    end(&m);
    assert_int_equal(parse(&m, &r), NTS_KE_E_BAD_RECORD);
}

static void test_response_unknown_and_framing(void **state)
{
    (void)state;
    static struct nts_ke_response r;
    struct msg m;

    good_head(&m);
    cookie(&m, 100, 1);
    rec(&m, 0x4000, 0, "private", 7);
    end(&m);
    assert_int_equal(parse(&m, &r), NTS_KE_OK);
    good_head(&m);
    cookie(&m, 100, 1);
    rec(&m, 0x4000, 1, "private", 7);
    end(&m);
    assert_int_equal(parse(&m, &r), NTS_KE_E_CRITICAL);
    /* No End; End with a body; a byte after End; a record cut short. */
    good_head(&m);
    cookie(&m, 100, 1);
    assert_int_equal(parse(&m, &r), NTS_KE_E_TRUNCATED);
    size_t n = m.n;
    rec16(&m, NTS_KE_REC_END, 1, 0);
    assert_int_equal(parse(&m, &r), NTS_KE_E_BAD_RECORD);
    m.n = n;
    end(&m);
    m.b[m.n++] = 0;
    assert_int_equal(parse(&m, &r), NTS_KE_E_MALFORMED);
    m.n = n - 1;
    assert_int_equal(parse(&m, &r), NTS_KE_E_MALFORMED);
}

static void test_response_server_port(void **state)
{
    (void)state;
    static struct nts_ke_response r;
    char name[NTS_KE_SERVER_MAX + 2];
    struct msg m;

    memset(name, 'a', sizeof(name));
    good_head(&m);
    cookie(&m, 100, 1);
    rec(&m, NTS_KE_REC_SERVER, 1, name, NTS_KE_SERVER_MAX);
    rec16(&m, NTS_KE_REC_PORT, 1, 123);
    end(&m);
    assert_int_equal(parse(&m, &r), NTS_KE_OK);
    assert_int_equal(strlen(r.server), NTS_KE_SERVER_MAX);
    assert_int_equal(r.port, 123);

    const struct {
        uint16_t type;
        const char *body;
        size_t len;
    } bad[] = {{NTS_KE_REC_SERVER, name, NTS_KE_SERVER_MAX + 1},
               {NTS_KE_REC_SERVER, "", 0},
               {NTS_KE_REC_SERVER, "a b", 3},
               {NTS_KE_REC_SERVER, "a\0b", 3},
               {NTS_KE_REC_PORT, "\1", 1},
               {NTS_KE_REC_PORT, "\1\2\3", 3}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        good_head(&m);
        cookie(&m, 100, 1);
        rec(&m, bad[i].type, 0, bad[i].body, bad[i].len);
        end(&m);
        assert_int_equal(parse(&m, &r), NTS_KE_E_BAD_RECORD);
    }
    good_head(&m);
    cookie(&m, 100, 1);
    rec16(&m, NTS_KE_REC_PORT, 1, 123);
    rec16(&m, NTS_KE_REC_PORT, 1, 124);
    end(&m);
    assert_int_equal(parse(&m, &r), NTS_KE_E_DUPLICATE);
}

static void test_request_parse(void **state)
{
    (void)state;
    static const uint16_t offer[] = {30, 15, 17};
    static const uint16_t ours[] = {15};
    static const uint8_t protos[] = {0x80, 0x00, 0x00, 0x00};
    struct nts_ke_request q;
    struct msg m = {.n = 0};

    m.n = nts_ke_build_request(offer, 3, "ntp.example", 123, m.b, sizeof(m.b));
    assert_int_equal(nts_ke_parse_request(m.b, m.n, &q), NTS_KE_OK);
    assert_int_equal(q.n_aeads, 3);
    assert_int_equal(q.aeads[0], 30);
    assert_int_equal(q.aeads[2], 17);
    assert_string_equal(q.server, "ntp.example");
    assert_int_equal(q.port, 123);
    assert_int_equal(nts_ke_choose_aead(&q, ours, 1), 15);
    assert_int_equal(nts_ke_choose_aead(&q, ours, 0), NTS_KE_AEAD_NONE);

    /* NTPv4 may be one of several protocols offered. */
    m.n = 0;
    rec(&m, NTS_KE_REC_NEXT_PROTO, 1, protos, 4);
    rec16(&m, NTS_KE_REC_AEAD, 1, 15);
    end(&m);
    assert_int_equal(nts_ke_parse_request(m.b, m.n, &q), NTS_KE_OK);
    m.n = 0;
    rec(&m, NTS_KE_REC_NEXT_PROTO, 1, protos, 2);
    rec16(&m, NTS_KE_REC_AEAD, 1, 15);
    end(&m);
    assert_int_equal(nts_ke_parse_request(m.b, m.n, &q), NTS_KE_E_NEXT_PROTO);
    m.n = 0;
    rec(&m, NTS_KE_REC_NEXT_PROTO, 1, protos + 2, 2);
    rec(&m, NTS_KE_REC_AEAD, 1, NULL, 0);
    end(&m);
    assert_int_equal(nts_ke_parse_request(m.b, m.n, &q), NTS_KE_E_AEAD);
    assert_int_equal(nts_ke_error_for(NTS_KE_E_AEAD), NTS_KE_ERROR_BAD_REQUEST);

    m.n = 0;
    rec16(&m, NTS_KE_REC_NEXT_PROTO, 1, 0);
    rec16(&m, NTS_KE_REC_AEAD, 1, 15);
    rec(&m, 0x1234, 1, "x", 1);
    end(&m);
    int st = nts_ke_parse_request(m.b, m.n, &q);
    assert_int_equal(st, NTS_KE_E_CRITICAL);
    assert_int_equal(nts_ke_error_for(st), NTS_KE_ERROR_UNRECOGNIZED_CRITICAL);
    assert_int_equal(q.n_aeads, 0);

    /* A client sends no cookies, errors or warnings. */
    m.n = 0;
    rec16(&m, NTS_KE_REC_NEXT_PROTO, 1, 0);
    rec16(&m, NTS_KE_REC_AEAD, 1, 15);
    cookie(&m, 100, 1);
    end(&m);
    assert_int_equal(nts_ke_parse_request(m.b, m.n, &q), NTS_KE_E_BAD_RECORD);
}

/* A client offering only AEAD 30 to a server with only 15: the server's
 * answer is an empty AEAD record and no cookies, as chrony's is. */
static void test_no_common_aead(void **state)
{
    (void)state;
    static const uint16_t only30[] = {NTS_AEAD_AES_128_GCM_SIV};
    static const uint8_t want[] = {0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x80,
                                   0x04, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00};
    static struct nts_ke_response r;
    struct nts_ke_request q;
    uint8_t buf[64];

    size_t n = nts_ke_build_request(only30, 1, NULL, 0, buf, sizeof(buf));
    assert_int_equal(nts_ke_parse_request(buf, n, &q), NTS_KE_OK);
    uint16_t chosen = nts_ke_choose_aead(&q, aead15, 1);
    assert_int_equal(chosen, NTS_KE_AEAD_NONE);
    struct nts_ke_reply rep = {.aead = chosen};
    n = nts_ke_build_response(&rep, buf, sizeof(buf));
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));
    assert_int_equal(nts_ke_parse_response(buf, n, only30, 1, &r), NTS_KE_E_AEAD);
}

static void test_error_response(void **state)
{
    (void)state;
    static const uint8_t want[] = {0x80, 0x02, 0x00, 0x02, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00};
    static struct nts_ke_response r;
    uint8_t buf[16];

    assert_int_equal(nts_ke_build_error(0, buf, sizeof(buf)), sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));
    assert_int_equal(nts_ke_build_error(0, buf, sizeof(want) - 1), 0);
    assert_int_equal(nts_ke_parse_response(buf, sizeof(want), aead15, 1, &r),
                     NTS_KE_E_SERVER_ERROR);
    assert_int_equal(r.error_code, 0);
    assert_string_equal(nts_ke_status_str(NTS_KE_E_NO_COOKIES), "no cookies");
    assert_string_equal(nts_ke_status_str(NTS_KE_OK), "ok");
    assert_string_equal(nts_ke_status_str(-11), "unknown status");
    assert_string_equal(nts_ke_status_str(1), "unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_bytes),
        cmocka_unit_test(test_record_bounds),
        cmocka_unit_test(test_message_length),
        cmocka_unit_test(test_response_good),
        cmocka_unit_test(test_response_cookie_counts),
        cmocka_unit_test(test_response_next_proto),
        cmocka_unit_test(test_response_aead),
        cmocka_unit_test(test_response_error_warning),
        cmocka_unit_test(test_response_unknown_and_framing),
        cmocka_unit_test(test_response_server_port),
        cmocka_unit_test(test_request_parse),
        cmocka_unit_test(test_no_common_aead),
        cmocka_unit_test(test_error_response),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
