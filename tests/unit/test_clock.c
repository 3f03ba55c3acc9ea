/* SPDX-License-Identifier: ISC */
/* Unit tests for the clock backends. The system backend runs only through
 * fake hooks here: nothing in this file can touch the machine's clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "clock_system.h"
#include "clock_virtual.h"
#include "timefmt.h"
#include "log.h"

static struct timespec base = {1800000000, 0};
static struct timespec mono = {1000, 0};

static void base_read(void *ctx, struct timespec *out)
{
    (void)ctx;
    *out = base;
}

static void pass(double s)
{
    timefmt_timespec_add(&base, s);
    timefmt_timespec_add(&mono, s);
}

static double vnow(struct clock *c)
{
    struct timespec t;
    clock_now(c, &t);
    return timefmt_timespec_diff(&t, &base);
}

static void test_virtual_offset_and_freq(void **state)
{
    (void)state;
    struct clock *c = clock_virtual_create_on(base_read, NULL, 0.25, 100.0);
    assert_string_equal(clock_name(c), "virtual");
    assert_true(fabs(vnow(c) - 0.25) < 1e-9);
    pass(1000.0); /* 100 ppm fast: +0.1 s over 1000 s */
    assert_true(fabs(vnow(c) - 0.35) < 1e-9);
    assert_true(fabs(clock_virtual_error(c) - 0.35) < 1e-9);
    /* correcting -100 ppm stops the drift, without a jump */
    assert_int_equal(clock_set_freq(c, -100.0), 0);
    assert_true(fabs(vnow(c) - 0.35) < 1e-9);
    pass(1000.0);
    assert_true(fabs(vnow(c) - 0.35) < 1e-9);
    assert_true(clock_get_freq(c) == -100.0);
    clock_destroy(c);
}

static void test_virtual_step_and_slew(void **state)
{
    (void)state;
    struct clock *c = clock_virtual_create_on(base_read, NULL, 0.0, 0.0);
    assert_int_equal(clock_step(c, -2.5), 0);
    assert_true(fabs(vnow(c) + 2.5) < 1e-9);
    /* slew +10 ms at 500 ppm: 20 s to apply, never faster */
    assert_int_equal(clock_slew(c, 0.010, 500.0), 0);
    pass(10.0);
    assert_true(fabs(vnow(c) - (-2.5 + 0.005)) < 1e-9);
    assert_true(fabs(clock_slew_remaining(c) - 0.005) < 1e-9);
    pass(100.0);
    assert_true(fabs(vnow(c) - (-2.5 + 0.010)) < 1e-9);
    assert_true(fabs(clock_slew_remaining(c)) < 1e-12);
    /* a new slew replaces the rest of an old one */
    assert_int_equal(clock_slew(c, 1.0, 1000.0), 0);
    pass(1.0);
    assert_int_equal(clock_slew(c, -0.001, 1000.0), 0);
    pass(10.0);
    assert_true(fabs(vnow(c) - (-2.5 + 0.010 + 0.001 - 0.001)) < 1e-9);
    assert_int_equal(clock_slew(c, 1.0, 0.0), -1); /* rate must be positive */
    /* kernel timestamps convert through the same line */
    struct timespec k = base, out;
    timefmt_timespec_add(&k, -1.0);
    clock_from_kernel(c, &k, &out);
    assert_true(fabs(timefmt_timespec_diff(&out, &k) - (-2.5 + 0.010)) < 1e-6);
    clock_destroy(c);
}

/* Fake kernel for the system backend: records what it was asked. */
static struct timex last_tx[8];
static int n_tx;
static long fake_freq; /* scaled ppm in force */

static int fake_gettime(clockid_t id, struct timespec *out)
{
    *out = id == CLOCK_MONOTONIC ? mono : base;
    return 0;
}

static long fake_tick = 10000;

static int fake_adjtime(clockid_t id, struct timex *tx)
{
    assert_int_equal(id, CLOCK_REALTIME);
    last_tx[n_tx++ % 8] = *tx;
    if (tx->modes & ADJ_FREQUENCY)
        fake_freq = tx->freq;
    if (tx->modes & ADJ_TICK)
        fake_tick = tx->tick;
    return 0;
}

static const struct clock_system_hooks fake = {fake_gettime, fake_adjtime};

static void test_system_through_hooks(void **state)
{
    (void)state;
    clock_system_set_hooks(&fake);
    n_tx = 0;
    struct clock *c = clock_system_create();
    assert_string_equal(clock_name(c), "system");
    assert_int_equal(n_tx, 0); /* creating it changes nothing */

    assert_int_equal(clock_step(c, -1.25), 0);
    assert_int_equal(last_tx[0].modes, ADJ_SETOFFSET | ADJ_NANO);
    assert_int_equal(last_tx[0].time.tv_sec, -2); /* -1.25 = -2 + 0.75 */
    assert_int_equal(last_tx[0].time.tv_usec, 750000000);

    assert_int_equal(clock_set_freq(c, 12.5), 0);
    assert_int_equal(fake_freq, 12.5 * 65536);
    assert_int_equal(clock_set_freq(c, 900.0), 0); /* kernel limit */
    assert_int_equal(fake_freq, 500 * 65536);
    assert_int_equal(clock_set_freq(c, 10.0), 0);

    /* slew +1 ms at 100 ppm: frequency raised by 100 ppm for 10 s (by a
     * hair more, since the monotonic clock timing it runs faster too) */
    assert_int_equal(clock_slew(c, 0.001, 100.0), 0);
    assert_true(fabs(fake_freq / 65536.0 - (10.0 + 100.0 * (1 + 10e-6) / (1 - 100e-6))) < 1e-4);
    double next = clock_tick(c);
    assert_true(fabs(next - 10.0) < 1e-6);
    pass(4.0);
    assert_true(fabs(clock_slew_remaining(c) - 0.0006) < 1e-9);
    pass(6.0);
    assert_true(clock_tick(c) < 0.0); /* done: back to the plain frequency */
    assert_int_equal(fake_freq, 10 * 65536);

    assert_int_equal(clock_set_sync(c, 0, 0.5, 0), 0);
    struct timex *t = &last_tx[(n_tx - 1) % 8];
    assert_true(t->modes & ADJ_STATUS);
    assert_true(t->status & STA_UNSYNC);
    assert_false(t->status & (STA_PLL | STA_FLL));
    assert_int_equal(t->maxerror, 500000);
    assert_int_equal(clock_set_sync(c, 1, 0.001, 0), 0);
    t = &last_tx[(n_tx - 1) % 8];
    assert_false(t->status & STA_UNSYNC);
    assert_false(t->status & (STA_INS | STA_DEL));
    /* a leap second at the end of the day: armed in the kernel */
    assert_int_equal(clock_set_sync(c, 1, 0.001, 1), 0);
    assert_true(last_tx[(n_tx - 1) % 8].status & STA_INS);
    assert_int_equal(clock_set_sync(c, 1, 0.001, -1), 0);
    assert_true(last_tx[(n_tx - 1) % 8].status & STA_DEL);
    assert_true(clock_applies_leap(c));
    clock_destroy(c);
    clock_system_set_hooks(NULL);
}

/* A slew ends when its timer fires: fired late, the overshoot is what
 * slew_remaining reports (negative), so the discipline accounts what the
 * kernel really did, not what was asked. */
static void test_system_slew_end_accounted(void **state)
{
    (void)state;
    clock_system_set_hooks(&fake);
    struct clock *c = clock_system_create();
    assert_int_equal(clock_set_freq(c, -20.0), 0);
    assert_int_equal(clock_slew(c, 0.002, 1000.0), 0); /* 2 s at 1000 ppm */
    assert_true(fabs(clock_tick(c) - 2.0) < 1e-9);     /* the end: a timer in 2 s */
    /* past the frequency limit the tick carries the slew */
    assert_int_equal(fake_tick, 10000 + 7);
    double extra = 1000.0 * (1 - 20e-6) / (1 - 1000e-6);
    assert_true(fabs(fake_freq / 65536.0 - (extra - 20.0 - 700.0)) < 1e-4);
    pass(2.5); /* the timer fired 0.5 s late */
    assert_true(clock_tick(c) < 0.0);
    assert_int_equal(fake_tick, 10000);
    assert_true(fabs(fake_freq / 65536.0 + 20.0) < 1e-4);
    assert_true(fabs(clock_slew_remaining(c) + 0.0005) < 1e-9); /* 0.5 ms over */
    /* a new slew starts a new account */
    assert_int_equal(clock_slew(c, -0.001, 100.0), 0);
    assert_true(fabs(clock_slew_remaining(c) + 0.001) < 1e-9);
    clock_destroy(c);
    clock_system_set_hooks(NULL);
}

/* No slew outlives the clock: destroyed mid-slew, the kernel is back at the
 * base frequency with the nominal tick. */
static void test_system_destroy_ends_slew(void **state)
{
    (void)state;
    clock_system_set_hooks(&fake);
    struct clock *c = clock_system_create();
    assert_int_equal(clock_set_freq(c, 7.0), 0);
    assert_int_equal(clock_slew(c, 0.5, 50000.0), 0);
    assert_true(fake_tick > 10000);
    pass(1.0);
    clock_destroy(c);
    assert_int_equal(fake_tick, 10000);
    assert_int_equal(fake_freq, 7 * 65536);
    clock_system_set_hooks(NULL);
}

/* A fatal error exits without reaching clock_destroy: the exit handler
 * ends the slew all the same. The child's fake kernel reports every
 * adjustment through a pipe; the last one must be the release. */
static int report_fd = -1;

static int report_adjtime(clockid_t id, struct timex *tx)
{
    (void)id;
    long rec[2] = {tx->freq, tx->tick};
    if ((tx->modes & ADJ_FREQUENCY) && write(report_fd, rec, sizeof(rec)) != sizeof(rec))
        _exit(3);
    return 0;
}

static void test_system_fatal_ends_slew(void **state)
{
    static const struct clock_system_hooks h = {fake_gettime, report_adjtime};
    int p[2];
    (void)state;
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        report_fd = p[1];
        clock_system_set_hooks(&h);
        struct clock *c = clock_system_create();
        clock_set_freq(c, -3.0);
        clock_slew(c, 0.2, 20000.0);
        fatalx("test: dying mid-slew");
    }
    close(p[1]);
    long rec[2], last[2] = {0, 0};
    int n = 0;
    while (read(p[0], rec, sizeof(rec)) == (ssize_t)sizeof(rec)) {
        last[0] = rec[0], last[1] = rec[1];
        n++;
    }
    close(p[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    assert_int_equal(n, 3); /* base, slew, release at exit */
    assert_int_equal(last[0], -3 * 65536);
    assert_int_equal(last[1], 10000);
}

static void test_precision_measured(void **state)
{
    (void)state;
    struct clock *c = clock_virtual_create(0.0, 0.0); /* real time base, read only */
    int p = clock_precision(c);
    assert_true(p <= -10 && p >= -30);
    clock_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_virtual_offset_and_freq),
        cmocka_unit_test(test_virtual_step_and_slew),
        cmocka_unit_test(test_system_through_hooks),
        cmocka_unit_test(test_system_slew_end_accounted),
        cmocka_unit_test(test_system_destroy_ends_slew),
        cmocka_unit_test(test_system_fatal_ends_slew),
        cmocka_unit_test(test_precision_measured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
