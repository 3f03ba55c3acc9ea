/* SPDX-License-Identifier: ISC */
/* Unit tests for history.c: windows over a ring of counter snapshots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "history.h"

static void test_create_bounds(void **state)
{
    (void)state;
    assert_null(history_create(0, 1));
    assert_null(history_create(4, 0));
    assert_null(history_create(4, HISTORY_VALUES_MAX + 1));
    struct history *h = history_create(1, HISTORY_VALUES_MAX);
    assert_non_null(h);
    history_destroy(h);
}

static void test_empty_has_no_window(void **state)
{
    struct history *h = history_create(4, 2);
    uint64_t cur[2] = {5, 6}, d[2] = {9, 9};
    double span = 9;
    (void)state;

    assert_int_equal(history_delta(h, 100, cur, 3600, d, &span), -1);
    assert_true(d[0] == 0 && d[1] == 0 && span == 0.0);
    history_destroy(h);
}

/* One snapshot a minute; the window picks the oldest one inside it. */
static void test_window_picks_oldest_inside(void **state)
{
    struct history *h = history_create(61, 2);
    uint64_t v[2], d[2];
    double span;
    (void)state;

    for (int m = 0; m <= 120; m++) { /* counter 0 grows 10 a minute, 1 by 1 */
        v[0] = (uint64_t)m * 10;
        v[1] = (uint64_t)m;
        history_record(h, m * 60.0, v);
    }
    uint64_t cur[2] = {1205, 121};
    assert_int_equal(history_delta(h, 7230, cur, 3600, d, &span), 0);
    /* oldest inside [3630, 7230] is minute 61 (3660 s): 610 and 61 */
    assert_true(d[0] == 1205 - 610 && d[1] == 121 - 61);
    assert_true(span == 7230 - 3660);
    /* a 10-minute window: minute 111 (6660 s) */
    assert_int_equal(history_delta(h, 7230, cur, 600, d, &span), 0);
    assert_true(d[0] == 1205 - 1110 && span == 7230 - 6660);
    history_destroy(h);
}

/* The ring holds only the newest slots: older snapshots are gone even if
 * the window would reach them. */
static void test_ring_forgets(void **state)
{
    struct history *h = history_create(3, 1);
    uint64_t v, d, cur = 100;
    double span;
    (void)state;

    for (int i = 0; i < 10; i++) {
        v = (uint64_t)i * 10;
        history_record(h, i, &v);
    }
    assert_int_equal(history_delta(h, 10, &cur, 1e9, &d, &span), 0);
    assert_true(d == 100 - 70 && span == 3.0); /* snapshots 7, 8, 9 remain */
    history_destroy(h);
}

/* A window with only snapshots older than it, or a counter reset. */
static void test_stale_and_reset(void **state)
{
    struct history *h = history_create(8, 1);
    uint64_t v = 500, d, cur = 20;
    double span;
    (void)state;

    history_record(h, 0, &v);
    assert_int_equal(history_delta(h, 7200, &cur, 3600, &d, &span), -1);
    assert_int_equal(history_delta(h, 60, &cur, 3600, &d, &span), 0);
    assert_true(d == 20 && span == 60.0); /* went down: counted from 0 */
    history_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_bounds),
        cmocka_unit_test(test_empty_has_no_window),
        cmocka_unit_test(test_window_picks_oldest_inside),
        cmocka_unit_test(test_ring_forgets),
        cmocka_unit_test(test_stale_and_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
