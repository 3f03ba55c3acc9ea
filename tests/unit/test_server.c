/* SPDX-License-Identifier: ISC */
/* Unit tests for server.c: the request -> reply decision, with no I/O. */
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
    /* a 20-byte MAC we cannot verify: nothing */
    memset(req + len, 0, 20);
    req[len + 3] = 1;
    assert_int_equal(handle(f, req, len + 20, &f->v4, reply, &rlen), SERVER_DROP);
    /* lying extension length: malformed, nothing */
    req[len + 2] = 0xff;
    req[len + 3] = 0xfc;
    assert_int_equal(handle(f, req, len + 20, &f->v4, reply, &rlen), SERVER_DROP);
}

/* For any input at all, the reply is never longer than the request. */
static void test_never_amplifies(void **state)
{
    struct fixture *f = *state;
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    const char *env = getenv("TEMPUS_SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    unsigned replies = 0;

    printf("test_never_amplifies: seed %u (set TEMPUS_SEED to repeat)\n", seed);
    srand(seed);
    for (int i = 0; i < 200000; i++) {
        size_t len = (size_t)rand() % (i % 2 ? 64 : NTP_MAX_PACKET + 1);
        for (size_t k = 0; k < len; k++)
            req[k] = (uint8_t)rand();
        if (len > 0 && i % 3 == 0)
            req[0] = (uint8_t)((req[0] & 0xc0) | ((1 + rand() % 4) << 3) | NTP_MODE_CLIENT);
        size_t rlen = 0;
        enum server_verdict v = handle(f, req, len, &f->v4, reply, &rlen);
        if (v != SERVER_DROP) {
            replies++;
            assert_true(rlen <= len);
            assert_true(rlen == NTP_HEADER_LEN);
        } else {
            assert_int_equal(rlen, 0);
        }
    }
    assert_true(replies > 0);
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
        cmocka_unit_test_setup_teardown(test_never_amplifies, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
