/* SPDX-License-Identifier: ISC */
/* Unit tests for smear.c: the offset at the window's edges and at the
 * leap, and the smeared time walked second by second (and in tenths
 * through the leap) across whole windows, inserted and deleted: it never
 * jumps and runs at window/(window + leap) within the window, at 1
 * outside it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "smear.h"

/* 2016-12-31 24:00 UTC, Unix time. */
#define LEAP_2016 1483228800.0

static void assert_near(double got, double want, double tol)
{
    if (fabs(got - want) > tol)
        fail_msg("got %.12f, want %.12f (+-%g)", got, want, tol);
}

static void test_edges(void **state)
{
    const struct smear s = {.leap = 1, .leap_time = LEAP_2016, .window = 86400.0};
    (void)state;
    assert_near(smear_offset(&s, LEAP_2016 - 43200.0 - 1.0, 0), 0.0, 0.0);
    assert_near(smear_offset(&s, LEAP_2016 - 43200.0, 0), 0.0, 1e-12);
    /* a quarter of the way: a quarter of the second, behind UTC */
    assert_near(smear_offset(&s, LEAP_2016 - 21600.0, 0), -21600.0 / 86401.0, 1e-9);
    /* just before the leap: half a second behind */
    assert_near(smear_offset(&s, LEAP_2016 - 1e-6, 0), -0.5, 1e-5);
    /* just after it (the count after the leap): half a second ahead */
    assert_near(smear_offset(&s, LEAP_2016, 1), 43200.0 / 86401.0, 1e-9);
    assert_near(smear_offset(&s, LEAP_2016 + 43200.0 - 1.0, 1), 1.0 / 86401.0, 1e-9);
    assert_near(smear_offset(&s, LEAP_2016 + 43200.0, 1), 0.0, 1e-12);
    assert_near(smear_offset(&s, LEAP_2016 + 50000.0, 1), 0.0, 0.0);
    assert_true(smear_active(&s, LEAP_2016 + 43199.0, 1));
    assert_false(smear_active(&s, LEAP_2016 + 43200.0, 1));
    assert_true(smear_active(&s, LEAP_2016 - 50000.0, 0)); /* not begun, not over */

    const struct smear none = {.leap = 0, .leap_time = LEAP_2016, .window = 86400.0};
    assert_near(smear_offset(&none, LEAP_2016 - 1.0, 0), 0.0, 0.0);
    assert_false(smear_active(&none, LEAP_2016 - 1.0, 0));

    const struct smear del = {.leap = -1, .leap_time = LEAP_2016, .window = 86400.0};
    assert_near(smear_offset(&del, LEAP_2016 - 1.0 - 1e-6, 0), 43199.0 / 86399.0, 1e-9);
    assert_near(smear_offset(&del, LEAP_2016, 1), -43200.0 / 86399.0, 1e-9);
}

/* The UTC reading, relative to the leap time, and whether it is on the
 * count after the leap, of a clock that follows UTC, c elapsed seconds
 * from the leap time on a continuous count: an inserted second reads the
 * last second of the day twice, a deleted one never reads it. Relative,
 * so that the steps keep the precision Unix times as doubles lack. */
static double utc_of(const struct smear *s, double c, int *after)
{
    *after = c >= (s->leap > 0 ? 0.0 : -1.0);
    return *after ? c - s->leap : c;
}

/* Walk from before the window to after it in steps of 1 s (0.1 s around
 * the leap): every step of the smeared time is the step of the count
 * times the rate in force. Returns the largest |offset| seen. */
static double walk(const struct smear *s)
{
    double half = s->window / 2, rate = s->window / (s->window + s->leap);
    double c0 = -half - 10.0, c1 = s->leap + half + 10.0;
    int after;
    double u = utc_of(s, c0, &after);
    double prev = u + smear_offset(s, s->leap_time + u, after), maxoff = 0.0;

    /* in tenths of a second, an integer count: no float loop counter */
    long k0 = lround(c0 * 10), k1 = lround(c1 * 10);
    for (long k = k0; k < k1;) {
        long dk = labs(k) < 30 ? 1 : 10;
        double c = (double)k / 10, cn = (double)(k + dk) / 10, dt = cn - c;
        u = utc_of(s, cn, &after);
        double off = smear_offset(s, s->leap_time + u, after), now = u + off;
        /* inside the window both ends of the step: the smeared rate */
        int inside = c >= -half && cn <= s->leap + half;
        int outside = cn <= -half || c >= s->leap + half;
        if (inside)
            assert_near(now - prev, dt * rate, 1e-6);
        else if (outside)
            assert_near(now - prev, dt, 1e-6);
        else
            assert_true(now - prev > dt * rate - 1e-6 && now - prev < dt + 1e-6);
        maxoff = fmax(maxoff, fabs(off));
        prev = now;
        k += dk;
    }
    /* back on UTC at the end */
    assert_true(fabs(smear_offset(s, s->leap_time + u, after)) < 1e-12);
    return maxoff;
}

static void test_walk_insert(void **state)
{
    const struct smear s = {.leap = 1, .leap_time = LEAP_2016, .window = 86400.0};
    (void)state;
    assert_near(walk(&s), 0.5, 1e-4);
}

static void test_walk_delete(void **state)
{
    const struct smear s = {.leap = -1, .leap_time = LEAP_2016, .window = 86400.0};
    (void)state;
    assert_near(walk(&s), 0.5, 1e-4);
}

static void test_walk_short_window(void **state)
{
    const struct smear s = {.leap = 1, .leap_time = LEAP_2016, .window = 3600.0};
    const struct smear d = {.leap = -1, .leap_time = LEAP_2016, .window = 600.0};
    (void)state;
    assert_near(walk(&s), 0.5, 1e-3);
    assert_near(walk(&d), 0.5, 1e-2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_walk_insert),
        cmocka_unit_test(test_walk_delete),
        cmocka_unit_test(test_walk_short_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
