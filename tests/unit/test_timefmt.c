/* SPDX-License-Identifier: ISC */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "timefmt.h"

#define ERA1_START 2085978496LL /* 2036-02-07T06:28:16Z, NTP era 1 second 0 */
#define Y1950 (-631152000LL)
#define Y2020 1577836800LL
#define Y2030 1893456000LL
#define Y2040 2208988800LL
#define Y2060 2840140800LL
#define Y2100 4102444800LL

static uint64_t rng_state;

/* xorshift64*: our own generator so a seed reproduces on any libc. */
static uint64_t rng_next(void)
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

    if (s != NULL && *s != '\0')
        seed = strtoull(s, NULL, 0);
    else
        seed = 20240601; /* fixed, so that CI runs are repeatable; printed */
    return seed != 0 ? seed : 1;
}

static struct timespec mkts(int64_t sec, long nsec)
{
    struct timespec ts = {.tv_sec = (time_t)sec, .tv_nsec = nsec};
    return ts;
}

static void assert_ts(const struct timespec *ts, int64_t sec, long nsec)
{
    assert_int_equal((int64_t)ts->tv_sec, sec);
    assert_int_equal(ts->tv_nsec, nsec);
}

static void test_unix_epoch(void **state)
{
    (void)state;
    struct timespec ts = mkts(0, 0);
    struct timespec back;

    assert_int_equal(TIMEFMT_UNIX_TO_NTP, 2208988800u);
    assert_int_equal(timefmt_ts_from_timespec(&ts), (uint64_t)2208988800u << 32);
    timefmt_ts_to_timespec((uint64_t)2208988800u << 32, &ts, &back);
    assert_ts(&back, 0, 0);
}

static void test_era1_start(void **state)
{
    (void)state;
    struct timespec ts = mkts(ERA1_START, 0);
    struct timespec before = mkts(Y2030, 0);
    struct timespec after = mkts(Y2040, 0);
    struct timespec out;

    assert_int_equal(timefmt_ts_from_timespec(&ts), 0);
    timefmt_ts_to_timespec(0, &before, &out);
    assert_ts(&out, ERA1_START, 0);
    timefmt_ts_to_timespec(0, &after, &out);
    assert_ts(&out, ERA1_START, 0);

    /* One second earlier is the last second of era 0. */
    ts.tv_sec = ERA1_START - 1;
    assert_int_equal(timefmt_ts_from_timespec(&ts), (uint64_t)0xffffffffu << 32);
}

static void test_era_pivots(void **state)
{
    (void)state;
    struct timespec pivot, out;

    /* Last second of era 0 seen from after the rollover stays in era 0. */
    pivot = mkts(Y2040, 0);
    timefmt_ts_to_timespec((uint64_t)0xffffffffu << 32, &pivot, &out);
    assert_ts(&out, ERA1_START - 1, 0);

    /* NTP second 5 from before the rollover lands in era 1, not 1900. */
    pivot = mkts(Y2030, 0);
    timefmt_ts_to_timespec((uint64_t)5 << 32, &pivot, &out);
    assert_ts(&out, ERA1_START + 5, 0);

    /* ...but from 1950 it is 1900. */
    pivot = mkts(Y1950, 0);
    timefmt_ts_to_timespec((uint64_t)5 << 32, &pivot, &out);
    assert_ts(&out, -(int64_t)TIMEFMT_UNIX_TO_NTP + 5, 0);

    /* 2020 seen from 2060 (40 years) stays 2020; from 2100 (80 years) the
     * nearer instance is one era later, in 2156. */
    uint64_t ntp2020 = (uint64_t)(Y2020 + TIMEFMT_UNIX_TO_NTP) << 32;
    pivot = mkts(Y2060, 0);
    timefmt_ts_to_timespec(ntp2020, &pivot, &out);
    assert_ts(&out, Y2020, 0);
    pivot = mkts(Y2100, 0);
    timefmt_ts_to_timespec(ntp2020, &pivot, &out);
    assert_ts(&out, Y2020 + 4294967296LL, 0);
}

static void test_from_timespec_eras(void **state)
{
    (void)state;
    struct timespec ts;

    /* Before 1970: 1960-01-01. */
    ts = mkts(-315619200LL, 0);
    assert_int_equal(timefmt_ts_from_timespec(&ts) >> 32, 1893369600u);
    /* 2040 is in era 1: the seconds wrap. */
    ts = mkts(Y2040, 0);
    assert_int_equal(timefmt_ts_from_timespec(&ts) >> 32,
                     (uint64_t)(Y2040 + TIMEFMT_UNIX_TO_NTP - 4294967296LL));
    /* A denormalised nanosecond field is carried into the seconds. */
    ts = mkts(0, 1500000000L);
    assert_int_equal(timefmt_ts_from_timespec(&ts), ((uint64_t)2208988801u << 32) | 0x80000000u);
    ts = mkts(0, -500000000L);
    assert_int_equal(timefmt_ts_from_timespec(&ts), ((uint64_t)2208988799u << 32) | 0x80000000u);
}

static void test_fraction_rounding(void **state)
{
    (void)state;
    struct timespec ts = mkts(0, 0);
    struct timespec out;
    const uint64_t base = (uint64_t)TIMEFMT_UNIX_TO_NTP << 32;

    ts.tv_nsec = 500000000L;
    assert_int_equal(timefmt_ts_from_timespec(&ts) - base, 0x80000000u);
    ts.tv_nsec = 1; /* 4.29 units */
    assert_int_equal(timefmt_ts_from_timespec(&ts) - base, 4);
    ts.tv_nsec = 999999999L; /* 4294967291.7 units */
    assert_int_equal(timefmt_ts_from_timespec(&ts) - base, 4294967292u);

    ts.tv_nsec = 0;
    timefmt_ts_to_timespec(base | 0x80000000u, &ts, &out);
    assert_ts(&out, 0, 500000000L);
    timefmt_ts_to_timespec(base | 2, &ts, &out); /* 0.47 ns */
    assert_ts(&out, 0, 0);
    timefmt_ts_to_timespec(base | 3, &ts, &out); /* 0.70 ns */
    assert_ts(&out, 0, 1);
    /* 999999999.77 ns rounds up into the next second. */
    timefmt_ts_to_timespec(base | 0xffffffffu, &ts, &out);
    assert_ts(&out, 1, 0);
}

/* The NTP fraction (0.23 ns) is finer than 0.5 ns, so timespec -> NTP ->
 * timespec must be exact for any time within 68 years of the pivot. */
static void test_roundtrip_random(void **state)
{
    (void)state;
    uint64_t seed = seed_from_env();
    rng_state = seed;
    printf("test_roundtrip_random: TEMPUS_SEED=%llu\n", (unsigned long long)seed);

    for (int i = 0; i < 200000; i++) {
        /* Times between 1900 and 2200, pivots up to 2^31 - 1 s away. */
        int64_t sec = -(int64_t)TIMEFMT_UNIX_TO_NTP + (int64_t)(rng_next() % 9467280000ULL);
        long nsec = (long)(rng_next() % 1000000000ULL);
        int64_t away = (int64_t)(rng_next() % 0xffffffffULL) - 0x7fffffffLL;
        struct timespec ts = mkts(sec, nsec);
        struct timespec pivot = mkts(sec + away, 0);
        struct timespec out;

        timefmt_ts_to_timespec(timefmt_ts_from_timespec(&ts), &pivot, &out);
        if ((int64_t)out.tv_sec != sec || out.tv_nsec != nsec)
            fail_msg("seed %llu: %lld.%09ld pivot %lld -> %lld.%09ld", (unsigned long long)seed,
                     (long long)sec, nsec, (long long)pivot.tv_sec, (long long)out.tv_sec,
                     out.tv_nsec);
    }
}

static void test_ts_diff(void **state)
{
    (void)state;
    ntp_ts_t late0 = (uint64_t)0xfffffffbu << 32; /* 5 s before the rollover */
    ntp_ts_t early1 = (uint64_t)5 << 32;          /* 5 s after it */

    assert_true(timefmt_ts_diff(early1, late0) == 10.0);
    assert_true(timefmt_ts_diff(late0, early1) == -10.0);
    assert_true(timefmt_ts_diff(early1 | 0x80000000u, early1) == 0.5);
    assert_true(timefmt_ts_diff(early1, early1 | 0x80000000u) == -0.5);
    assert_true(timefmt_ts_diff(early1, early1) == 0.0);
    /* One unit is 2^-32 s. */
    assert_true(timefmt_ts_diff(early1 + 1, early1) == ldexp(1.0, -32));
    /* 57 years apart, straddling the rollover. */
    assert_true(timefmt_ts_diff((uint64_t)1000000000u << 32, (uint64_t)3500000000u << 32) ==
                1794967296.0);
}

static void test_short_format(void **state)
{
    (void)state;

    assert_int_equal(timefmt_short_from_double(1.5), 0x00018000u);
    assert_int_equal(timefmt_short_from_double(0.0), 0);
    assert_int_equal(timefmt_short_from_double(-1.0), 0);
    assert_int_equal(timefmt_short_from_double(-0.0), 0);
    assert_int_equal(timefmt_short_from_double(NAN), 0);
    assert_int_equal(timefmt_short_from_double(70000.0), 0xffffffffu);
    assert_int_equal(timefmt_short_from_double(65536.0), 0xffffffffu);
    assert_int_equal(timefmt_short_from_double(INFINITY), 0xffffffffu);
    assert_int_equal(timefmt_short_from_double(-INFINITY), 0);
    assert_int_equal(timefmt_short_from_double(65535.99998), 0xffffffffu);
    assert_int_equal(timefmt_short_from_double(65535.0), 0xffff0000u);
    /* Round to nearest unit of 2^-16 s. */
    assert_int_equal(timefmt_short_from_double(0.6 / 65536.0), 1);
    assert_int_equal(timefmt_short_from_double(0.4 / 65536.0), 0);
    assert_int_equal(timefmt_short_from_double(0.015625), 0x00000400u);

    assert_true(timefmt_short_to_double(0x00018000u) == 1.5);
    assert_true(timefmt_short_to_double(0) == 0.0);
    assert_true(timefmt_short_to_double(1) == ldexp(1.0, -16));
    assert_true(timefmt_short_to_double(0xffffffffu) == 65536.0 - ldexp(1.0, -16));
}

static void test_timespec_diff(void **state)
{
    (void)state;
    struct timespec a = mkts(10, 100);
    struct timespec b = mkts(9, 900000000L);

    assert_true(fabs(timefmt_timespec_diff(&a, &b) - 0.1000001) < 1e-12);
    assert_true(fabs(timefmt_timespec_diff(&b, &a) + 0.1000001) < 1e-12);
    a = mkts(9, 0);
    b = mkts(10, 500000000L);
    assert_true(timefmt_timespec_diff(&a, &b) == -1.5);
    a = mkts(-3, 250000000L);
    b = mkts(-5, 750000000L);
    assert_true(timefmt_timespec_diff(&a, &b) == 1.5);
    /* Large absolute times keep nanosecond precision. */
    a = mkts(Y2100, 1);
    b = mkts(Y2100, 0);
    assert_true(timefmt_timespec_diff(&a, &b) == 1e-9);
}

static void test_timespec_add(void **state)
{
    (void)state;
    struct timespec ts;

    ts = mkts(5, 100);
    timefmt_timespec_add(&ts, -0.3);
    assert_ts(&ts, 4, 700000100L);
    ts = mkts(5, 900000000L);
    timefmt_timespec_add(&ts, 0.2);
    assert_ts(&ts, 6, 100000000L);
    ts = mkts(0, 0);
    timefmt_timespec_add(&ts, -1.5);
    assert_ts(&ts, -2, 500000000L);
    ts = mkts(0, 0);
    timefmt_timespec_add(&ts, -1.0);
    assert_ts(&ts, -1, 0);
    ts = mkts(7, 999999999L);
    timefmt_timespec_add(&ts, 1e-9);
    assert_ts(&ts, 8, 0);
    ts = mkts(7, 123);
    timefmt_timespec_add(&ts, 0.0);
    assert_ts(&ts, 7, 123);
    ts = mkts(Y2020, 0);
    timefmt_timespec_add(&ts, 86400.25);
    assert_ts(&ts, Y2020 + 86400, 250000000L);
    /* A fraction that rounds to a whole second is carried. */
    ts = mkts(1, 0);
    timefmt_timespec_add(&ts, 0.9999999999);
    assert_ts(&ts, 2, 0);
    /* Non-finite offsets leave the time alone rather than corrupt it. */
    ts = mkts(3, 4);
    timefmt_timespec_add(&ts, NAN);
    assert_ts(&ts, 3, 4);
    timefmt_timespec_add(&ts, INFINITY);
    assert_ts(&ts, 3, 4);
    timefmt_timespec_add(&ts, -1e300);
    assert_ts(&ts, 3, 4);
}

static void test_timespec_to_ns(void **state)
{
    (void)state;
    struct timespec ts;

    ts = mkts(1, 5);
    assert_int_equal(timefmt_timespec_to_ns(&ts), 1000000005LL);
    ts = mkts(0, 0);
    assert_int_equal(timefmt_timespec_to_ns(&ts), 0);
    ts = mkts(-1, 500000000L);
    assert_int_equal(timefmt_timespec_to_ns(&ts), -500000000LL);
    ts = mkts(Y2100, 999999999L);
    assert_int_equal(timefmt_timespec_to_ns(&ts), 4102444800999999999LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unix_epoch),        cmocka_unit_test(test_era1_start),
        cmocka_unit_test(test_era_pivots),        cmocka_unit_test(test_from_timespec_eras),
        cmocka_unit_test(test_fraction_rounding), cmocka_unit_test(test_roundtrip_random),
        cmocka_unit_test(test_ts_diff),           cmocka_unit_test(test_short_format),
        cmocka_unit_test(test_timespec_diff),     cmocka_unit_test(test_timespec_add),
        cmocka_unit_test(test_timespec_to_ns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
