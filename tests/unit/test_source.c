/* SPDX-License-Identifier: ISC */
/* Unit tests for source.c: requests, reply validation, kiss codes, the clock
 * filter, reachability and the poll interval, against a fake server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>
#include <unistd.h>

#include <cmocka.h>

#include "acl.h"
#include "auth.h"
#include "keys.h"
#include "ntp_wire.h"
#include "ratelimit.h"
#include "server.h"
#include "source.h"
#include "timefmt.h"

/* Equal within eps; shows both values when not. */
static int near(double a, double b, double eps)
{
    if (fabs(a - b) <= eps)
        return 1;
    print_error("%.15g != %.15g (eps %g)\n", a, b, eps);
    return 0;
}
#define assert_near(a, b, eps) assert_true(near((a), (b), (eps)))

/* Unix time at which NTP era 0 ends (2036-02-07 06:28:16 UTC). */
#define ERA1_UNIX 2085978496LL

/* What the fake server does with a request. */
struct fake {
    double offset;        /* server clock - our clock, s */
    double d_out, d_back; /* one-way delays, s */
    double hold;          /* time between the server's receive and transmit */
    int leap, version, mode, stratum, precision;
    const char *kiss; /* refid as 4 ASCII characters, or NULL */
    double root_delay, root_disp;
    int zero_rx; /* send a zero receive timestamp */
};

static struct fake fake_default(void)
{
    struct fake f = {.offset = 0.1,
                     .d_out = 0.01,
                     .d_back = 0.01,
                     .hold = 0.0005,
                     .leap = 0,
                     .version = 4,
                     .mode = NTP_MODE_SERVER,
                     .stratum = 2,
                     .precision = -20,
                     .kiss = "GPS",
                     .root_delay = 0.002,
                     .root_disp = 0.003};
    return f;
}

static struct source *new_source(int minpoll, int maxpoll, int iburst, uint64_t seed)
{
    struct source_params p = {.minpoll = minpoll, .maxpoll = maxpoll, .iburst = iburst};
    return source_create(&p, seed);
}

static ntp_ts_t ts_at(const struct timespec *base, double plus)
{
    struct timespec t = *base;
    timefmt_timespec_add(&t, plus);
    return timefmt_ts_from_timespec(&t);
}

/* The server's answer to a request with transmit timestamp org, sent at t1
 * on our clock; *t4 is when it arrives on our clock. */
static size_t fake_reply(const struct fake *f, ntp_ts_t org, const struct timespec *t1,
                         uint8_t *buf, size_t cap, struct timespec *t4)
{
    struct ntp_header h = {.leap = (uint8_t)f->leap,
                           .version = (uint8_t)f->version,
                           .mode = (uint8_t)f->mode,
                           .stratum = (uint8_t)f->stratum,
                           .poll = 6,
                           .precision = (int8_t)f->precision};
    char code[5] = {0};
    if (f->kiss)
        memcpy(code, f->kiss, strnlen(f->kiss, 4));
    h.refid = ntp_wire_refid_ascii(code);
    h.root_delay = timefmt_short_from_double(f->root_delay);
    h.root_dispersion = timefmt_short_from_double(f->root_disp);
    h.org_ts = org;
    h.rx_ts = f->zero_rx ? 0 : ts_at(t1, f->d_out + f->offset);
    h.tx_ts = ts_at(t1, f->d_out + f->hold + f->offset);
    h.ref_ts = ts_at(t1, f->offset - 10.0);
    *t4 = *t1;
    timefmt_timespec_add(t4, f->d_out + f->hold + f->d_back);
    return ntp_wire_encode_header(&h, buf, cap);
}

static ntp_ts_t request(struct source *src, const struct timespec *t1)
{
    uint8_t req[NTP_MAX_PACKET];
    struct ntp_header h;
    assert_int_equal(source_make_request(src, t1, req, sizeof(req)), NTP_HEADER_LEN);
    assert_int_equal(ntp_wire_decode_header(req, NTP_HEADER_LEN, &h), 0);
    return h.tx_ts;
}

/* One poll answered by f; *t advances to the reply's arrival. */
static enum source_reply exchange(struct source *src, const struct fake *f, struct timespec *t)
{
    uint8_t rep[NTP_MAX_PACKET];
    struct timespec t4;
    ntp_ts_t tx = request(src, t);
    size_t n = fake_reply(f, tx, t, rep, sizeof(rep), &t4);
    enum source_reply r = source_process_reply(src, rep, n, &t4);
    *t = t4;
    return r;
}

static struct source_estimate estimate(const struct source *src, const struct timespec *now)
{
    struct source_estimate e;
    source_get_estimate(src, now, &e);
    return e;
}

static void test_request_format(void **state)
{
    (void)state;
    struct source *src = new_source(6, 10, 0, 42);
    uint8_t req[NTP_MAX_PACKET];
    struct ntp_header h;
    struct timespec t1 = {1700000000, 123456789};

    assert_int_equal(source_make_request(src, &t1, req, NTP_HEADER_LEN - 1), 0);
    assert_int_equal(source_make_request(src, &t1, req, sizeof(req)), NTP_HEADER_LEN);
    assert_int_equal(ntp_wire_decode_header(req, NTP_HEADER_LEN, &h), 0);
    assert_int_equal(h.mode, NTP_MODE_CLIENT);
    assert_int_equal(h.version, 4);
    assert_int_equal(h.poll, 6);
    assert_int_equal(h.leap, 0);
    assert_int_equal(h.stratum, 0);
    assert_true(h.org_ts == 0 && h.rx_ts == 0 && h.ref_ts == 0);
    assert_true(h.tx_ts != 0);
    /* random, not our time (not even its seconds) */
    assert_true((h.tx_ts >> 32) != (timefmt_ts_from_timespec(&t1) >> 32));
    ntp_ts_t first = h.tx_ts;
    assert_true(request(src, &t1) != first);
    struct source_estimate e = estimate(src, &t1);
    assert_int_equal(e.sent, 2);
    assert_int_equal(e.valid, 0);
    assert_true(e.age < 0);

    /* same seed, same sequence; another seed, another */
    struct source *a = new_source(6, 10, 0, 7), *b = new_source(6, 10, 0, 7);
    struct source *c = new_source(6, 10, 0, 8);
    ntp_ts_t ta = request(a, &t1);
    assert_true(ta == request(b, &t1));
    assert_true(ta != request(c, &t1));
    source_destroy(a);
    source_destroy(b);
    source_destroy(c);
    source_destroy(src);
}

static void test_params_clamped(void **state)
{
    (void)state;
    struct source *a = new_source(-10, 40, 0, 1), *b = new_source(8, 3, 0, 1);
    assert_int_equal(source_params(a)->minpoll, SOURCE_POLL_MIN);
    assert_int_equal(source_params(a)->maxpoll, SOURCE_POLL_MAX);
    assert_int_equal(source_params(b)->minpoll, 8);
    assert_int_equal(source_params(b)->maxpoll, 8);
    source_destroy(a);
    source_destroy(b);
}

static void test_sample_offset_delay(void **state)
{
    (void)state;
    struct source *src = new_source(6, 10, 0, 1);
    struct fake f = fake_default();
    struct timespec t = {1700000000, 0};

    assert_int_equal(exchange(src, &f, &t), SOURCE_SAMPLE);
    struct source_estimate e = estimate(src, &t);
    assert_true(e.valid);
    assert_near(e.offset, 0.1, 1e-9);
    assert_near(e.delay, 0.02, 1e-9);
    double disp = ldexp(1, -20) + ldexp(1, -20) + SOURCE_PHI * 0.0205;
    assert_near(e.dispersion, disp, 1e-12);
    assert_near(e.jitter, ldexp(1, -20), 1e-15);
    assert_near(e.root_delay, 0.002, 1e-4);
    assert_near(e.root_dispersion, 0.003, 1e-4);
    assert_int_equal(e.stratum, 2);
    assert_int_equal(e.leap, 0);
    assert_int_equal(e.refid, ntp_wire_refid_ascii("GPS\0"));
    assert_int_equal(e.reach, 1);
    assert_true(e.reachable);
    assert_int_equal(e.nsamples, 1);
    assert_near(e.age, 0.0, 1e-12);
    assert_int_equal(e.received, 1);
    assert_int_equal(e.bogus, 0);

    /* the dispersion grows with age */
    struct timespec later = t;
    later.tv_sec += 100;
    e = estimate(src, &later);
    assert_near(e.age, 100.0, 1e-9);
    assert_near(e.dispersion, disp + 100 * SOURCE_PHI, 1e-12);

    /* asymmetric path and a server behind us: offset carries half the
     * asymmetry, as it must */
    struct source *s2 = new_source(6, 10, 0, 2);
    f.offset = -2.5;
    f.d_out = 0.030;
    f.d_back = 0.010;
    assert_int_equal(exchange(s2, &f, &t), SOURCE_SAMPLE);
    e = estimate(s2, &t);
    assert_near(e.offset, -2.5 + 0.010, 1e-9);
    assert_near(e.delay, 0.040, 1e-9);
    source_destroy(s2);
    source_destroy(src);
}

static void test_bogus_replies(void **state)
{
    (void)state;
    struct source *src = new_source(6, 10, 0, 3);
    struct fake f = fake_default();
    struct timespec t1 = {1700000000, 0}, t4;
    uint8_t rep[NTP_MAX_PACKET];
    size_t n;

    /* nothing outstanding yet: even origin 0 is not an answer */
    n = fake_reply(&f, 0, &t1, rep, sizeof(rep), &t4);
    assert_int_equal(source_process_reply(src, rep, n, &t4), SOURCE_BOGUS);

    ntp_ts_t tx = request(src, &t1);
    n = fake_reply(&f, tx ^ 1, &t1, rep, sizeof(rep), &t4);
    assert_int_equal(source_process_reply(src, rep, n, &t4), SOURCE_BOGUS);
    n = fake_reply(&f, 0, &t1, rep, sizeof(rep), &t4);
    assert_int_equal(source_process_reply(src, rep, n, &t4), SOURCE_BOGUS);

    static const int bad_modes[] = {0, 1, 2, 3, 5, 6, 7};
    for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
        struct fake g = f;
        g.mode = bad_modes[i];
        n = fake_reply(&g, tx, &t1, rep, sizeof(rep), &t4);
        assert_int_equal(source_process_reply(src, rep, n, &t4), SOURCE_BOGUS);
    }
    static const int bad_versions[] = {0, 5, 7};
    for (size_t i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++) {
        struct fake g = f;
        g.version = bad_versions[i];
        n = fake_reply(&g, tx, &t1, rep, sizeof(rep), &t4);
        assert_int_equal(source_process_reply(src, rep, n, &t4), SOURCE_BOGUS);
    }
    n = fake_reply(&f, tx, &t1, rep, sizeof(rep), &t4);
    assert_int_equal(source_process_reply(src, rep, 0, &t4), SOURCE_BOGUS);
    assert_int_equal(source_process_reply(src, rep, 47, &t4), SOURCE_BOGUS);
    /* 2 stray bytes after the header are neither extension nor MAC */
    assert_int_equal(source_process_reply(src, rep, 50, &t4), SOURCE_BOGUS);

    struct source_estimate e = estimate(src, &t4);
    assert_int_equal(e.bogus, 16);
    assert_int_equal(e.received, 0);
    assert_int_equal(e.reach, 0);

    /* the genuine answer still gets through after all that; a trailing MAC
     * is ignored until authentication exists */
    memset(rep + NTP_HEADER_LEN, 0, 20);
    assert_int_equal(source_process_reply(src, rep, n + 20, &t4), SOURCE_SAMPLE);
    /* and only once */
    assert_int_equal(source_process_reply(src, rep, n, &t4), SOURCE_BOGUS);
    e = estimate(src, &t4);
    assert_int_equal(e.received, 1);
    assert_int_equal(e.bogus, 17);
    assert_int_equal(e.nsamples, 1);

    /* an answer to an older request, after a new one went out, is stale */
    ntp_ts_t old = request(src, &t1);
    (void)request(src, &t1);
    n = fake_reply(&f, old, &t1, rep, sizeof(rep), &t4);
    assert_int_equal(source_process_reply(src, rep, n, &t4), SOURCE_BOGUS);
    source_destroy(src);
}

/* A genuine answer that is no use for time: UNSYNCED, reachable, no sample. */
static void expect_unsynced(const struct fake *f)
{
    struct source *src = new_source(6, 10, 0, 4);
    struct timespec t = {1700000000, 0};

    assert_int_equal(exchange(src, f, &t), SOURCE_UNSYNCED);
    struct source_estimate e = estimate(src, &t);
    assert_int_equal(e.reach, 1);
    assert_true(e.reachable);
    assert_int_equal(e.nsamples, 0);
    assert_false(e.valid);
    assert_int_equal(e.received, 1);
    assert_int_equal(e.kods, 0);
    assert_false(e.denied);
    source_destroy(src);
}

static void test_unsynced(void **state)
{
    (void)state;
    struct fake f = fake_default();
    f.leap = NTP_LEAP_UNSYNC;
    expect_unsynced(&f);
    f = fake_default();
    f.stratum = 16;
    expect_unsynced(&f);
    f.stratum = 0;
    f.kiss = "INIT";
    expect_unsynced(&f);
    f.kiss = "XFOO"; /* experimental kiss codes are ignored */
    expect_unsynced(&f);
    f = fake_default();
    f.zero_rx = 1;
    expect_unsynced(&f);
    f = fake_default();
    f.hold = -0.01; /* transmitted before it received */
    expect_unsynced(&f);
    f = fake_default();
    f.root_disp = 20.0;
    expect_unsynced(&f);
    f = fake_default();
    f.d_back = -0.5; /* arrives before it was sent */
    expect_unsynced(&f);
    f = fake_default();
    f.hold = 3.0; /* claims to have held it far longer than the round trip */
    f.d_out = 0.001;
    f.d_back = -2.9;
    expect_unsynced(&f);

    /* the source's advertised state is what selection should see */
    struct source *src = new_source(6, 10, 0, 5);
    struct timespec t = {1700000000, 0};
    f = fake_default();
    assert_int_equal(exchange(src, &f, &t), SOURCE_SAMPLE);
    f.leap = NTP_LEAP_UNSYNC;
    assert_int_equal(exchange(src, &f, &t), SOURCE_UNSYNCED);
    struct source_estimate e = estimate(src, &t);
    assert_int_equal(e.leap, NTP_LEAP_UNSYNC);
    assert_int_equal(e.nsamples, 1);
    assert_int_equal(e.reach, 3);
    source_destroy(src);
}

static void test_tiny_negative_turnaround(void **state)
{
    (void)state;
    struct source *src = new_source(6, 10, 0, 6);
    struct fake f = fake_default();
    struct timespec t = {1700000000, 0};

    /* 20 us of disagreement between the server's receive and transmit
     * clocks is tolerated (the fake's packet also comes back 20 us sooner,
     * so the measured delay is the path's) */
    f.hold = -20e-6;
    assert_int_equal(exchange(src, &f, &t), SOURCE_SAMPLE);
    struct source_estimate e = estimate(src, &t);
    assert_near(e.delay, 0.02, 1e-9);
    assert_near(e.offset, 0.1, 1e-9);
    source_destroy(src);
}

static void test_kod_rate(void **state)
{
    (void)state;
    struct source *src = new_source(6, 10, 1, 7);
    struct fake f = fake_default(), kod = fake_default();
    struct timespec t1 = {1700000000, 0}, t4;
    uint8_t rep[NTP_MAX_PACKET];

    kod.stratum = 0;
    kod.leap = NTP_LEAP_UNSYNC;
    kod.kiss = "RATE";
    /* a spoofed kiss (wrong origin) changes nothing */
    ntp_ts_t tx = request(src, &t1);
    size_t n = fake_reply(&kod, tx + 1, &t1, rep, sizeof(rep), &t4);
    assert_int_equal(source_process_reply(src, rep, n, &t4), SOURCE_BOGUS);
    assert_int_equal(estimate(src, &t4).poll, 6);
    assert_near(source_poll_delay(src), 2.0, 0);

    n = fake_reply(&kod, tx, &t1, rep, sizeof(rep), &t4);
    assert_int_equal(source_process_reply(src, rep, n, &t4), SOURCE_KOD_RATE);
    struct source_estimate e = estimate(src, &t4);
    assert_int_equal(e.poll, 7);
    assert_int_equal(e.kods, 1);
    assert_int_equal(e.nsamples, 0);
    /* the burst is over */
    double d = source_poll_delay(src);
    assert_true(d >= 128 * 0.95 && d <= 128 * 1.05);

    t1 = t4;
    assert_int_equal(exchange(src, &kod, &t1), SOURCE_KOD_RATE);
    assert_int_equal(estimate(src, &t1).poll, 8);
    /* good answers do not take the poll back below what the server asked */
    f.offset = 0.0;
    for (int i = 0; i < 8; i++)
        assert_int_equal(exchange(src, &f, &t1), SOURCE_SAMPLE);
    f.offset = 0.5; /* a jump: would poll faster if it could */
    (void)exchange(src, &f, &t1);
    (void)exchange(src, &f, &t1);
    assert_int_equal(estimate(src, &t1).poll, 8);
    /* no burst at a rate-limiting server after a reset */
    source_reset(src);
    d = source_poll_delay(src);
    assert_true(d >= 256 * 0.95 && d <= 256 * 1.05);
    for (int i = 0; i < 5; i++)
        (void)exchange(src, &kod, &t1);
    assert_int_equal(estimate(src, &t1).poll, 10);
    source_destroy(src);
}

static void test_kod_deny(void **state)
{
    (void)state;
    static const char *const codes[] = {"DENY", "RSTR"};
    for (int i = 0; i < 2; i++) {
        struct source *src = new_source(6, 10, 1, 8);
        struct fake f = fake_default(), kod = fake_default();
        struct timespec t = {1700000000, 0};
        uint8_t req[NTP_MAX_PACKET];

        kod.stratum = 0;
        kod.kiss = codes[i];
        assert_int_equal(exchange(src, &f, &t), SOURCE_SAMPLE);
        assert_int_equal(exchange(src, &kod, &t), SOURCE_KOD_DENY);
        struct source_estimate e = estimate(src, &t);
        assert_true(e.denied);
        assert_int_equal(e.kods, 1);
        assert_false(e.valid);
        assert_int_equal(source_make_request(src, &t, req, sizeof(req)), 0);
        source_clock_stepped(src, 1.0);
        source_reset(src);
        assert_int_equal(source_make_request(src, &t, req, sizeof(req)), 0);
        assert_int_equal(estimate(src, &t).sent, 2);
        source_destroy(src);
    }
}

/* Drive one exchange with the given offset and symmetric delay. */
static enum source_reply sample_with(struct source *src, struct timespec *t, double offset,
                                     double delay)
{
    struct fake f = fake_default();
    f.offset = offset;
    f.d_out = f.d_back = delay / 2;
    f.hold = 0.0;
    enum source_reply r = exchange(src, &f, t);
    t->tv_sec += 64;
    return r;
}

static void test_filter_min_delay(void **state)
{
    (void)state;
    static const double delay[8] = {0.050, 0.030, 0.040, 0.012, 0.060, 0.020, 0.070, 0.035};
    static const double offset[8] = {0.0105, 0.0102, 0.0104, 0.0101,
                                     0.0106, 0.0100, 0.0107, 0.0103};
    struct source *src = new_source(6, 10, 0, 9);
    struct timespec t = {1700000000, 0}, t_pick = {0, 0};

    for (int i = 0; i < 8; i++) {
        if (i == 3)
            t_pick = t;
        assert_int_equal(sample_with(src, &t, offset[i], delay[i]), SOURCE_SAMPLE);
    }
    struct source_estimate e = estimate(src, &t);
    assert_int_equal(e.nsamples, 8);
    assert_near(e.delay, 0.012, 1e-9);
    assert_near(e.offset, 0.0101, 1e-9);
    /* age from the picked sample's arrival */
    timefmt_timespec_add(&t_pick, 0.012);
    assert_near(e.age, timefmt_timespec_diff(&t, &t_pick), 1e-9);
    double sum = 0;
    for (int i = 0; i < 8; i++)
        sum += (offset[i] - 0.0101) * (offset[i] - 0.0101);
    assert_near(e.jitter, sqrt(sum / 7), 1e-9);

    /* the register as operators see it: newest first */
    struct source_sample_view sv[SOURCE_FILTER_LEN + 2];
    assert_int_equal(source_get_samples(src, &t, sv, SOURCE_FILTER_LEN + 2), 8);
    double age = 64.0; /* each exchange takes its delay, then 64 s pass */
    for (int i = 0; i < 8; i++) {
        assert_near(sv[i].offset, offset[7 - i], 1e-9);
        assert_near(sv[i].delay, delay[7 - i], 1e-9);
        assert_near(sv[i].age, age, 1e-9);
        assert_true(sv[i].dispersion > SOURCE_PHI * age);
        age += 64.0 + delay[7 - i];
    }
    assert_int_equal(source_get_samples(src, &t, sv, 3), 3);
    source_destroy(src);
}

static void test_filter_never_older(void **state)
{
    (void)state;
    struct source *src = new_source(6, 10, 0, 10);
    struct timespec t = {1700000000, 0};

    /* a low-delay sample stays the pick while worse ones arrive ... */
    assert_int_equal(sample_with(src, &t, 0.001, 0.010), SOURCE_SAMPLE);
    for (int i = 0; i < 7; i++)
        assert_int_equal(sample_with(src, &t, 0.0011, 0.030), SOURCE_SAMPLE);
    struct source_estimate e = estimate(src, &t);
    assert_near(e.offset, 0.001, 1e-9);
    assert_true(e.age > 7 * 64);
    /* ... until it falls out of the register; then the newest of equals */
    assert_int_equal(sample_with(src, &t, 0.0012, 0.030), SOURCE_SAMPLE);
    e = estimate(src, &t);
    assert_near(e.offset, 0.0012, 1e-9);
    assert_near(e.delay, 0.030, 1e-9);
    /* a lower-delay sample takes over at once */
    assert_int_equal(sample_with(src, &t, 0.0013, 0.020), SOURCE_SAMPLE);
    e = estimate(src, &t);
    assert_near(e.offset, 0.0013, 1e-9);
    assert_near(e.age, 64.0, 1e-6);
    source_destroy(src);
}

/* A server that changes stratum has changed its reference and maybe its
 * clock: what it said before is never picked against what it says now. */
static void test_stratum_change_empties_filter(void **state)
{
    (void)state;
    struct source *src = new_source(6, 10, 0, 11);
    struct timespec t = {1700000000, 0};
    struct fake f = fake_default();

    f.stratum = 10; /* serving its own clock, 70 ms ahead of ours */
    f.offset = 0.070;
    f.d_out = f.d_back = 0.0005;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(exchange(src, &f, &t), SOURCE_SAMPLE);
        t.tv_sec += 64;
    }
    assert_int_equal(estimate(src, &t).nsamples, 3);
    /* it steps to true time and follows a stratum 1 server, over a slower
     * path: the old low-delay samples would otherwise stay the pick */
    f.stratum = 2;
    f.offset = 0.0;
    f.d_out = f.d_back = 0.005;
    assert_int_equal(exchange(src, &f, &t), SOURCE_SAMPLE);
    struct source_estimate e = estimate(src, &t);
    assert_int_equal(e.nsamples, 1);
    assert_int_equal(e.stratum, 2);
    assert_near(e.offset, 0.0, 1e-6);
    struct source_sample_view sv[SOURCE_FILTER_LEN];
    assert_int_equal(source_get_samples(src, &t, sv, SOURCE_FILTER_LEN), 1);
    /* the same stratum with another refid keeps the history */
    t.tv_sec += 64;
    f.kiss = "PPS";
    assert_int_equal(exchange(src, &f, &t), SOURCE_SAMPLE);
    assert_int_equal(estimate(src, &t).nsamples, 2);
    source_destroy(src);
}

static void test_jitter(void **state)
{
    (void)state;
    struct source *src = new_source(6, 10, 0, 11);
    struct timespec t = {1700000000, 0};

    /* equal delays: the newest is the pick */
    assert_int_equal(sample_with(src, &t, 0.000, 0.02), SOURCE_SAMPLE);
    assert_int_equal(sample_with(src, &t, 0.002, 0.02), SOURCE_SAMPLE);
    assert_int_equal(sample_with(src, &t, 0.001, 0.02), SOURCE_SAMPLE);
    struct source_estimate e = estimate(src, &t);
    assert_near(e.offset, 0.001, 1e-9);
    assert_near(e.jitter, sqrt((1e-6 + 1e-6) / 2), 1e-9);
    source_destroy(src);
}

static void test_spike_suppressed_once(void **state)
{
    (void)state;
    struct source *src = new_source(6, 10, 0, 12);
    struct timespec t = {1700000000, 0};

    for (int i = 0; i < 8; i++)
        assert_int_equal(sample_with(src, &t, 0.1 + (i & 1 ? 10e-6 : -10e-6), 0.02), SOURCE_SAMPLE);
    struct source_estimate before = estimate(src, &t);
    /* a lone glitch is dropped ... */
    assert_int_equal(sample_with(src, &t, 0.105, 0.02), SOURCE_UNSYNCED);
    struct source_estimate e = estimate(src, &t);
    assert_near(e.offset, before.offset, 0);
    assert_int_equal(e.reach, 0xff);
    assert_int_equal(e.received, 9);
    assert_int_equal(sample_with(src, &t, 0.1, 0.02), SOURCE_SAMPLE);
    assert_near(estimate(src, &t).offset, 0.1, 1e-9);
    /* ... but a real change gets through on the second sample */
    assert_int_equal(sample_with(src, &t, 0.105, 0.02), SOURCE_UNSYNCED);
    assert_int_equal(sample_with(src, &t, 0.105, 0.02), SOURCE_SAMPLE);
    assert_near(estimate(src, &t).offset, 0.105, 1e-9);
    source_destroy(src);
}

static void test_reach_register(void **state)
{
    (void)state;
    static const int answered[] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0};
    struct source *src = new_source(6, 10, 0, 13);
    struct fake f = fake_default();
    struct timespec t = {1700000000, 0};
    unsigned reach = 0;

    for (size_t i = 0; i < sizeof(answered) / sizeof(answered[0]); i++) {
        if (answered[i]) {
            assert_int_equal(exchange(src, &f, &t), SOURCE_SAMPLE);
        } else {
            (void)request(src, &t);
        }
        t.tv_sec += 64;
        reach = ((reach << 1) | (unsigned)answered[i]) & 0xffu;
        struct source_estimate e = estimate(src, &t);
        assert_int_equal(e.reach, reach);
        assert_int_equal(e.reachable, (reach & 7u) != 0);
        /* answered 4 polls ago, not since: no longer reachable */
        if (i == 6)
            assert_true(e.reach == 0x58 && !e.reachable);
    }
    source_destroy(src);
}

static void test_stale_filter_emptied(void **state)
{
    (void)state;
    struct source *src = new_source(6, 10, 0, 14);
    struct fake f = fake_default();
    struct timespec t = {1700000000, 0};

    for (int i = 0; i < 4; i++)
        assert_int_equal(exchange(src, &f, &t), SOURCE_SAMPLE);
    /* polls after three silent ones push an empty stage in each */
    int polls = 0;
    while (estimate(src, &t).valid && polls < 20) {
        (void)request(src, &t);
        polls++;
    }
    assert_int_equal(polls, 3 + 8);
    assert_int_equal(estimate(src, &t).nsamples, 0);
    source_destroy(src);
}

static void test_iburst(void **state)
{
    (void)state;
    struct source *src = new_source(6, 10, 1, 15);
    struct fake f = fake_default();
    struct timespec t = {1700000000, 0};

    /* eight good answers 2 s apart (enough span for a first frequency) */
    for (int i = 0; i < 8; i++) {
        assert_int_equal(exchange(src, &f, &t), SOURCE_SAMPLE);
        double d = source_poll_delay(src);
        if (i < 7)
            assert_near(d, 2.0, 0);
        else
            assert_true(d >= 64 * 0.95 && d <= 64 * 1.05);
    }
    assert_int_equal(estimate(src, &t).poll, 6);

    /* nobody answers: ten requests 2 s apart, then the regular poll */
    struct source *dead = new_source(6, 10, 1, 16);
    for (int i = 0; i < 10; i++) {
        (void)request(dead, &t);
        double d = source_poll_delay(dead);
        if (i < 9)
            assert_near(d, 2.0, 0);
        else
            assert_true(d >= 64 * 0.95 && d <= 64 * 1.05);
    }
    source_destroy(dead);

    /* a source without iburst starts at minpoll */
    struct source *plain = new_source(5, 10, 0, 17);
    (void)request(plain, &t);
    double d = source_poll_delay(plain);
    assert_true(d >= 32 * 0.95 && d <= 32 * 1.05);
    source_destroy(plain);

    /* a burst never waits longer than the regular poll */
    struct source *fast = new_source(-2, 3, 1, 18);
    (void)request(fast, &t);
    assert_near(source_poll_delay(fast), 0.25, 0);
    source_destroy(fast);
    source_destroy(src);
}

static void test_poll_spread(void **state)
{
    (void)state;
    struct source *src = new_source(10, 10, 0, 19);
    double lo = 1e9, hi = 0, sum = 0;

    for (int i = 0; i < 2000; i++) {
        double d = source_poll_delay(src);
        assert_true(d >= 1024 * 0.95 && d <= 1024 * 1.05);
        lo = fmin(lo, d);
        hi = fmax(hi, d);
        sum += d;
    }
    assert_true(lo < 1024 * 0.96);
    assert_true(hi > 1024 * 1.04);
    assert_near(sum / 2000, 1024, 1024 * 0.005);
    source_destroy(src);
}

static void test_backoff_unreachable(void **state)
{
    (void)state;
    static const int expect[] = {6, 6, 6, 6, 7, 8, 9, 10, 10, 10};
    struct source *src = new_source(6, 10, 0, 20);
    struct fake f = fake_default();
    struct timespec t = {1700000000, 0};
    uint8_t req[NTP_MAX_PACKET];
    struct ntp_header h;

    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        assert_int_equal(source_make_request(src, &t, req, sizeof(req)), NTP_HEADER_LEN);
        assert_int_equal(ntp_wire_decode_header(req, NTP_HEADER_LEN, &h), 0);
        assert_int_equal(h.poll, expect[i]);
        assert_int_equal(estimate(src, &t).poll, expect[i]);
        double d = source_poll_delay(src);
        assert_true(d >= ldexp(0.95, expect[i]) && d <= ldexp(1.05, expect[i]));
        t.tv_sec += (time_t)d;
    }
    assert_int_equal(estimate(src, &t).reach, 0);
    /* back again: poll from minpoll */
    assert_int_equal(exchange(src, &f, &t), SOURCE_SAMPLE);
    assert_int_equal(estimate(src, &t).poll, 6);
    assert_int_equal(estimate(src, &t).reach, 1);
    source_destroy(src);
}

/* The poll follows the system's hint, one step at a time, within
 * [minpoll, maxpoll]; a burst ignores it. */
static void test_poll_hint(void **state)
{
    (void)state;
    struct source *src = new_source(4, 8, 1, 21);
    struct timespec t = {1700000000, 0};

    source_poll_hint(src, 1); /* bursting: no effect */
    assert_int_equal(estimate(src, &t).poll, 4);
    for (int i = 0; i < 8; i++)
        assert_int_equal(sample_with(src, &t, 0.05, 0.02), SOURCE_SAMPLE);
    for (int i = 0; i < 10; i++)
        source_poll_hint(src, 1);
    assert_int_equal(estimate(src, &t).poll, 8);
    source_poll_hint(src, -1);
    assert_int_equal(estimate(src, &t).poll, 7);
    source_poll_hint(src, 0);
    assert_int_equal(estimate(src, &t).poll, 7);
    for (int i = 0; i < 10; i++)
        source_poll_hint(src, -1);
    assert_int_equal(estimate(src, &t).poll, 4);
    /* samples alone, however steady, leave the poll where it is */
    for (int i = 0; i < 40; i++)
        assert_int_equal(sample_with(src, &t, 0.05 + (i % 3) * 2e-6, 0.02), SOURCE_SAMPLE);
    assert_int_equal(estimate(src, &t).poll, 4);
    source_destroy(src);
}

/* Offsets come out right when the exchange straddles the end of NTP era 0. */
static void era_case(time_t t1_sec, long t1_nsec, double offset)
{
    struct source *src = new_source(6, 10, 0, 22);
    struct fake f = fake_default();
    struct timespec t = {t1_sec, t1_nsec};

    f.offset = offset;
    assert_int_equal(exchange(src, &f, &t), SOURCE_SAMPLE);
    struct source_estimate e = estimate(src, &t);
    assert_near(e.offset, offset, 1e-9);
    assert_near(e.delay, 0.02, 1e-9);
    source_destroy(src);
}

static void test_era_rollover(void **state)
{
    (void)state;
    /* us before, server after */
    era_case(ERA1_UNIX - 1, 900000000, 0.5);
    /* us after, server before */
    era_case(ERA1_UNIX, 100000000, -0.5);
    /* the round trip itself crosses */
    era_case(ERA1_UNIX - 1, 995000000, 0.0);
    /* larger offsets both ways, both sides in era 1 */
    era_case(ERA1_UNIX - 100, 0, 1000.25);
    era_case(ERA1_UNIX + 100, 0, -1000.25);
    era_case(ERA1_UNIX + 86400, 0, 0.1);
}

static void test_clock_stepped(void **state)
{
    (void)state;
    struct source *src = new_source(6, 10, 1, 23);
    struct fake f = fake_default();
    struct timespec t = {1700000000, 0}, t4;
    uint8_t rep[NTP_MAX_PACKET];

    for (int i = 0; i < 8; i++)
        assert_int_equal(exchange(src, &f, &t), SOURCE_SAMPLE);
    assert_true(source_poll_delay(src) > 2.0);
    /* a request goes out, then we step our clock forward by 1 s */
    ntp_ts_t tx = request(src, &t);
    size_t n = fake_reply(&f, tx, &t, rep, sizeof(rep), &t4);
    source_clock_stepped(src, 1.0);
    struct source_estimate e = estimate(src, &t4);
    assert_false(e.valid);
    assert_int_equal(e.nsamples, 0);
    assert_int_equal(e.reach, 0xfe); /* kept, current poll not answered yet */
    assert_int_equal(e.received, 8);
    assert_int_equal(e.sent, 9);
    assert_near(source_poll_delay(src), 2.0, 0); /* bursting again */
    /* the answer in flight is measured on the new timescale */
    t4.tv_sec += 1;
    assert_int_equal(source_process_reply(src, rep, n, &t4), SOURCE_SAMPLE);
    e = estimate(src, &t4);
    assert_near(e.offset, 0.1 - 1.0, 1e-9);
    assert_near(e.delay, 0.02, 1e-9);
    source_destroy(src);
}

static void test_reset(void **state)
{
    (void)state;
    struct source *src = new_source(6, 10, 1, 24);
    struct fake f = fake_default();
    struct timespec t = {1700000000, 0}, t4;
    uint8_t rep[NTP_MAX_PACKET];

    for (int i = 0; i < 6; i++)
        assert_int_equal(exchange(src, &f, &t), SOURCE_SAMPLE);
    ntp_ts_t tx = request(src, &t);
    size_t n = fake_reply(&f, tx, &t, rep, sizeof(rep), &t4);
    source_reset(src);
    assert_near(source_poll_delay(src), 2.0, 0);
    /* the server answered, but T1 no longer means anything */
    assert_int_equal(source_process_reply(src, rep, n, &t4), SOURCE_UNSYNCED);
    struct source_estimate e = estimate(src, &t4);
    assert_false(e.valid);
    assert_int_equal(e.reach, 0x7f);
    assert_int_equal(e.received, 7);
    t = t4;
    assert_int_equal(exchange(src, &f, &t), SOURCE_SAMPLE);
    assert_near(estimate(src, &t).offset, 0.1, 1e-9);
    source_destroy(src);
}

/* xorshift64*: our own generator so a seed reproduces on any libc. */
static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t seed_from_env(void)
{
    const char *s = getenv("TEMPUS_SEED");
    uint64_t seed;
    if (s && *s)
        seed = strtoull(s, NULL, 0);
    else
        seed = 20240601; /* fixed, so that CI runs are repeatable; printed */
    return seed != 0 ? seed : 1;
}

/* Random datagram: pure noise, or a real answer with random corruption. */
static size_t garbage(uint8_t *buf, size_t cap, ntp_ts_t tx, const struct timespec *t1,
                      struct timespec *t4)
{
    size_t n;
    if (rng() % 3 == 0) {
        n = (size_t)(rng() % 120);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)rng();
        if (n >= NTP_HEADER_LEN && rng() % 2) {
            buf[0] = (uint8_t)((buf[0] & 0xf8) | NTP_MODE_SERVER);
            for (int i = 0; i < 8; i++) /* sometimes the right origin */
                buf[24 + i] = (uint8_t)(tx >> (56 - 8 * i));
        }
    } else {
        struct fake f = fake_default();
        f.offset = (double)(rng() % 2000) / 1000.0 - 1.0;
        n = fake_reply(&f, tx, t1, buf, cap, t4);
        int flips = (int)(rng() % 4);
        for (int i = 0; i < flips; i++) {
            /* one rng() call per statement: the same seed gives the same
             * sequence whatever order a compiler evaluates operands in */
            size_t at = (size_t)(rng() % n);
            buf[at] ^= (uint8_t)(1u << (rng() % 8));
        }
        if (rng() % 4 == 0)
            n = (size_t)(rng() % (n + 30));
    }
    return n;
}

static ntp_ts_t packet_origin(const uint8_t *buf, size_t len)
{
    struct ntp_header h;
    if (ntp_wire_decode_header(buf, len, &h) < 0)
        return 0;
    return h.org_ts;
}

static void test_random_garbage(void **state)
{
    (void)state;
    uint64_t seed = seed_from_env();
    rng_state = seed;
    printf("test_random_garbage: TEMPUS_SEED=%llu\n", (unsigned long long)seed);

    struct source *src = new_source(4, 10, 1, seed);
    struct timespec t1 = {1700000000, 0}, t4;
    uint8_t buf[NTP_MAX_PACKET];
    ntp_ts_t outstanding = 0, tx = 0;
    int samples = 0;

    for (int i = 0; i < 20000; i++) {
        if (rng() % 4 == 0) {
            tx = request(src, &t1);
            outstanding = tx;
        }
        memset(buf, 0, sizeof(buf));
        t4 = t1;
        ntp_ts_t org_sent = tx;
        if (rng() % 8 == 0)
            org_sent = rng();
        size_t n = garbage(buf, sizeof(buf), org_sent, &t1, &t4);
        if (rng() % 8 == 0)
            timefmt_timespec_add(&t4, (double)(rng() % 1000) / 100.0 - 5.0);
        enum source_reply r = source_process_reply(src, buf, n, &t4);
        ntp_ts_t org = packet_origin(buf, n);
        if (outstanding == 0 || org != outstanding) {
            assert_int_equal(r, SOURCE_BOGUS);
        } else if (r != SOURCE_BOGUS) {
            outstanding = 0; /* answered: a replay must be bogus now */
        }
        samples += r == SOURCE_SAMPLE;
        if (rng() % 500 == 0)
            source_reset(src);
        if (rng() % 500 == 0)
            source_clock_stepped(src, 0.5);
        struct source_estimate e = estimate(src, &t4);
        if (e.valid)
            assert_true(isfinite(e.offset) && isfinite(e.delay) && e.delay > 0 &&
                        isfinite(e.dispersion) && isfinite(e.jitter) && e.jitter > 0);
        assert_true(e.poll >= 4 && e.poll <= 10);
        if (e.denied)
            break;
        t1.tv_sec += 1 + (time_t)(rng() % 100);
    }
    /* the corrupted real answers must produce some samples, or the test is
     * not exercising the accepting path */
    struct source_estimate e = estimate(src, &t1);
    printf("test_random_garbage: %d samples, %llu bogus of %llu datagrams\n", samples,
           (unsigned long long)e.bogus, (unsigned long long)e.bogus + e.received);
    assert_true(samples > 0 || e.denied);
    source_destroy(src);
}

static struct auth_key test_key(enum auth_type type, uint32_t id, uint8_t fill)
{
    struct auth_key k = {.id = id, .type = type};
    k.len = auth_cipher_key_len(type) ? auth_cipher_key_len(type) : 20;
    memset(k.key, fill, k.len);
    return k;
}

/* With a key, every request carries its MAC; without room for it, no
 * request and no poll counted. */
static void test_auth_request(void **state)
{
    (void)state;
    struct timespec t1 = {1700000000, 0};
    uint8_t req[NTP_MAX_PACKET];
    struct ntp_packet_info info;
    const enum auth_type types[] = {AUTH_AES128, AUTH_SHA1,   AUTH_AES256,
                                    AUTH_MD5,    AUTH_SHA256, AUTH_SHA512};

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        struct source *src = new_source(6, 10, 0, 11);
        struct auth_key k = test_key(types[i], 40 + (uint32_t)i, 0x5a);
        size_t want = NTP_HEADER_LEN + AUTH_KEYID_LEN + auth_digest_len(k.type);
        source_set_key(src, &k);
        assert_int_equal(source_make_request(src, &t1, req, want - 1), 0);
        assert_int_equal(estimate(src, &t1).sent, 0);
        assert_int_equal(source_make_request(src, &t1, req, sizeof(req)), want);
        assert_int_equal(ntp_wire_parse(req, want, &info), 0);
        assert_int_equal(info.key_id, k.id);
        assert_int_equal(info.hdr.mode, NTP_MODE_CLIENT);
        /* NTPv4 with the digest cut to 20 bytes, whatever the hash */
        assert_int_equal(info.hdr.version, 4);
        assert_true(info.mac_len <= NTP_MAC_MAX_LEN_V4);
        assert_true(auth_verify(&k, req, info.mac_off, info.mac_len));
        /* the key can be taken away again */
        source_set_key(src, NULL);
        assert_int_equal(source_make_request(src, &t1, req, sizeof(req)), NTP_HEADER_LEN);
        source_destroy(src);
    }
}

/* request() for a source with a key: the request is longer than 48. */
static ntp_ts_t keyed_request(struct source *src, const struct timespec *t1)
{
    uint8_t req[NTP_MAX_PACKET];
    struct ntp_header h;
    assert_true(source_make_request(src, t1, req, sizeof(req)) > NTP_HEADER_LEN);
    assert_int_equal(ntp_wire_decode_header(req, NTP_HEADER_LEN, &h), 0);
    return h.tx_ts;
}

/* With a key, only replies with a valid MAC by that key count: unsigned
 * ones, other keys, crypto-NAKs and unsigned kisses are BOGUS and leave the
 * request outstanding for the genuine reply. */
static void test_auth_reply(void **state)
{
    (void)state;
    struct source *src = new_source(6, 10, 0, 12);
    struct fake f = fake_default();
    struct timespec t1 = {1700000000, 0}, t4;
    uint8_t rep[NTP_MAX_PACKET], forged[NTP_MAX_PACKET];
    struct auth_key k = test_key(AUTH_AES128, 7, 0x11);
    struct auth_key other_material = test_key(AUTH_AES128, 7, 0x12);
    struct auth_key other_id = test_key(AUTH_AES128, 8, 0x11);

    source_set_key(src, &k);
    ntp_ts_t tx = keyed_request(src, &t1);
    size_t n = fake_reply(&f, tx, &t1, rep, sizeof(rep), &t4);
    /* unsigned, and unsigned with stray MAC-sized bytes */
    assert_int_equal(source_process_reply(src, rep, n, &t4), SOURCE_BOGUS);
    memset(rep + n, 0, 20);
    assert_int_equal(source_process_reply(src, rep, n + 20, &t4), SOURCE_BOGUS);
    /* a crypto-NAK: key id 0 alone */
    assert_int_equal(source_process_reply(src, rep, n + 4, &t4), SOURCE_BOGUS);
    /* signed by another key with the same id, by our key under another id */
    memcpy(forged, rep, n);
    assert_int_equal(source_process_reply(
                         src, forged, auth_sign(&other_material, forged, n, sizeof(forged)), &t4),
                     SOURCE_BOGUS);
    assert_int_equal(
        source_process_reply(src, forged, auth_sign(&other_id, forged, n, sizeof(forged)), &t4),
        SOURCE_BOGUS);
    /* unsigned kisses change nothing */
    struct fake deny = f;
    deny.stratum = 0;
    deny.kiss = "DENY";
    size_t dn = fake_reply(&deny, tx, &t1, forged, sizeof(forged), &t4);
    assert_int_equal(source_process_reply(src, forged, dn, &t4), SOURCE_BOGUS);
    struct source_estimate e = estimate(src, &t4);
    assert_int_equal(e.denied, 0);
    assert_int_equal(e.auth_failed, 6);
    assert_int_equal(e.bogus, 6);
    assert_int_equal(e.received, 0);
    /* the genuine signed reply still answers the request, once */
    size_t sn = auth_sign(&k, rep, n, sizeof(rep));
    assert_int_equal(sn, n + 20);
    assert_int_equal(source_process_reply(src, rep, sn, &t4), SOURCE_SAMPLE);
    assert_int_equal(source_process_reply(src, rep, sn, &t4), SOURCE_BOGUS);
    e = estimate(src, &t4);
    assert_int_equal(e.received, 1);
    assert_int_equal(e.auth_failed, 6);
    /* a signed RATE kiss is believed */
    struct fake rate = f;
    rate.stratum = 0;
    rate.kiss = "RATE";
    tx = keyed_request(src, &t1);
    n = fake_reply(&rate, tx, &t1, rep, sizeof(rep), &t4);
    n = auth_sign(&k, rep, n, sizeof(rep));
    assert_int_equal(source_process_reply(src, rep, n, &t4), SOURCE_KOD_RATE);
    source_destroy(src);
}

/* A SHA256-keyed source takes an NTPv3 reply with the whole digest as
 * readily as a truncated one; the same full MAC after a v4 header is no
 * packet at all (RFC 7822), and a full MAC cut short by a word is bogus. */
static void test_auth_full_mac_reply(void **state)
{
    (void)state;
    struct source *src = new_source(6, 10, 0, 14);
    struct fake f = fake_default();
    struct timespec t1 = {1700000000, 0}, t4;
    uint8_t rep[NTP_MAX_PACKET];
    struct auth_key k = test_key(AUTH_SHA256, 9, 0x33);

    source_set_key(src, &k);
    for (int version = 4; version >= 3; version--) {
        ntp_ts_t tx = keyed_request(src, &t1);
        f.version = version;
        size_t n = fake_reply(&f, tx, &t1, rep, sizeof(rep), &t4);
        size_t sn = auth_sign_len(&k, rep, n, sizeof(rep), 32);
        assert_int_equal(sn, NTP_HEADER_LEN + 36);
        enum source_reply want = version == 3 ? SOURCE_SAMPLE : SOURCE_BOGUS;
        assert_int_equal(source_process_reply(src, rep, sn - 4, &t4), SOURCE_BOGUS);
        assert_int_equal(source_process_reply(src, rep, sn, &t4), want);
        t1.tv_sec += 64;
    }
    struct source_estimate e = estimate(src, &t4);
    assert_int_equal(e.received, 1);
    assert_int_equal(e.bogus, 3);
    source_destroy(src);
    auth_key_clear(&k);
}

/* Client and server ends together: a keyed source against tempus's own
 * server with the key trusted gets samples; with the key not trusted, or a
 * different key under the same id, it gets nothing. */
static void test_auth_with_server(void **state)
{
    (void)state;
    struct ratelimit_params rp = {.enabled = 0};
    struct acl *acl = acl_create();
    struct ratelimit *rl = ratelimit_create(&rp, 1);
    struct server *srv = server_create(acl, rl, -20);
    struct keys *ks = NULL;
    struct netaddr client;
    struct server_ref ref = {.synced = 1, .stratum = 2, .ref_time = {1700000000, 0}};
    const uint32_t trusted[] = {3}, untrusted[] = {4};

    assert_int_equal(acl_add(acl, "192.0.2.0/24", 1), 0);
    addr_parse("192.0.2.1", &client);
    server_set_ref(srv, &ref);
    assert_int_equal(keys_parse_string("s.keys",
                                       "3 SHA1 HEX:0102030405060708090a0b0c0d0e0f1011121314\n"
                                       "4 AES128 HEX:0102030405060708090a0b0c0d0e0f10\n",
                                       NULL, &ks),
                     0);
    for (int round = 0; round < 3; round++) {
        struct auth_key k = *keys_find(ks, 3);
        if (round == 2)
            k.key[0] ^= 1; /* the client has another key under the same id */
        server_set_auth(srv, ks, round == 1 ? untrusted : trusted, 1);
        struct source *src = new_source(6, 10, 0, 13);
        source_set_key(src, &k);
        struct timespec t1 = {1700000000, 0}, t4 = {1700000000, 2000000};
        uint8_t req[NTP_MAX_PACKET], rep[NTP_MAX_PACKET];
        size_t rlen, len = source_make_request(src, &t1, req, sizeof(req));
        enum server_verdict v =
            server_handle(srv, req, len, &client, &t1, 1, rep, sizeof(rep), &rlen);
        assert_int_equal(v, round == 0 ? SERVER_REPLY : SERVER_REPLY_NAK);
        assert_true(rlen <= len);
        struct timespec tx = {1700000000, 1000000};
        assert_int_equal(server_finish(srv, v, rep, rlen, &tx), 0);
        assert_int_equal(source_process_reply(src, rep, rlen, &t4),
                         round == 0 ? SOURCE_SAMPLE : SOURCE_BOGUS);
        source_destroy(src);
        auth_key_clear(&k);
    }
    server_destroy(srv);
    keys_destroy(ks);
    ratelimit_destroy(rl);
    acl_destroy(acl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_format),
        cmocka_unit_test(test_params_clamped),
        cmocka_unit_test(test_sample_offset_delay),
        cmocka_unit_test(test_bogus_replies),
        cmocka_unit_test(test_unsynced),
        cmocka_unit_test(test_tiny_negative_turnaround),
        cmocka_unit_test(test_kod_rate),
        cmocka_unit_test(test_kod_deny),
        cmocka_unit_test(test_filter_min_delay),
        cmocka_unit_test(test_filter_never_older),
        cmocka_unit_test(test_stratum_change_empties_filter),
        cmocka_unit_test(test_jitter),
        cmocka_unit_test(test_spike_suppressed_once),
        cmocka_unit_test(test_reach_register),
        cmocka_unit_test(test_stale_filter_emptied),
        cmocka_unit_test(test_iburst),
        cmocka_unit_test(test_poll_spread),
        cmocka_unit_test(test_backoff_unreachable),
        cmocka_unit_test(test_poll_hint),
        cmocka_unit_test(test_era_rollover),
        cmocka_unit_test(test_clock_stepped),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_random_garbage),
        cmocka_unit_test(test_auth_request),
        cmocka_unit_test(test_auth_reply),
        cmocka_unit_test(test_auth_full_mac_reply),
        cmocka_unit_test(test_auth_with_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
