/* SPDX-License-Identifier: ISC */
/* Unit tests for sched.c timers: a delay that is NaN or negative fires at
 * once, an infinite one is held at the cap (never cast to an integer out
 * of range: the SAN=1 build checks float casts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "sched.h"

static int fired, timed_out;

static void on_fire(void *arg)
{
    (void)arg;
    fired++;
    if (fired == 2)
        sched_quit();
}

static void on_timeout(void *arg)
{
    (void)arg;
    timed_out = 1;
    sched_quit();
}

static void test_nan_and_negative_fire_at_once(void **state)
{
    (void)state;
    sched_init();
    int64_t start = sched_mono_ns();
    sched_add_timer(NAN, on_fire, NULL);
    sched_add_timer(-INFINITY, on_fire, NULL);
    uint64_t never = sched_add_timer(INFINITY, on_timeout, NULL);
    sched_add_timer(2.0, on_timeout, NULL);
    assert_int_equal(sched_run(), 0);
    assert_int_equal(fired, 2);
    assert_int_equal(timed_out, 0);
    assert_true(sched_mono_ns() - start < 1000000000);
    sched_cancel_timer(never);
    sched_fini();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nan_and_negative_fire_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
