/* SPDX-License-Identifier: ISC */
/* Unit tests for discipline.c against a virtual clock over a time base the
 * test controls: a free-running oscillator whose frequency error the test
 * sets, read at a true time the test advances. The offsets fed in are the
 * exact true - clock differences, plus seeded noise where said. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

#include "clock.h"
#include "clock_system.h"
#include "clock_virtual.h"
#include "discipline.h"
#include "timefmt.h"

#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

#define T0 1800000000.0

static uint64_t seed;

/* The oscillator: true time t plus a constant offset plus its frequency
 * error integrated piecewise. */
struct osc {
    double t;   /* true time since T0, s */
    double off; /* oscillator - true at t = 0, s */
    double ppm; /* present frequency error */
    double acc; /* error accumulated up to t_seg, s */
    double t_seg;
    uint64_t rng;
};

static void osc_read(void *ctx, struct timespec *out)
{
    const struct osc *o = ctx;
    double v = o->t + o->off + o->acc + o->ppm * 1e-6 * (o->t - o->t_seg);
    out->tv_sec = (time_t)T0;
    out->tv_nsec = 0;
    timefmt_timespec_add(out, v);
}

static void osc_set_ppm(struct osc *o, double ppm)
{
    o->acc += o->ppm * 1e-6 * (o->t - o->t_seg);
    o->t_seg = o->t;
    o->ppm = ppm;
}

static double osc_gauss(struct osc *o)
{
    double u[2];
    for (int i = 0; i < 2; i++) {
        o->rng ^= o->rng << 13;
        o->rng ^= o->rng >> 7;
        o->rng ^= o->rng << 17;
        u[i] = ((double)(o->rng >> 11) + 0.5) / 9007199254740992.0;
    }
    return sqrt(-2.0 * log(u[0])) * cos(2.0 * M_PI * u[1]);
}

/* True - clock: what a perfect measurement reports. */
static double true_offset(struct osc *o, struct clock *clk)
{
    struct timespec now, truth = {(time_t)T0, 0};
    clock_now(clk, &now);
    timefmt_timespec_add(&truth, o->t);
    return timefmt_timespec_diff(&truth, &now);
}

struct fx {
    struct osc osc;
    struct clock *clk;
    struct discipline *d;
    struct discipline_params p;
};

static void fx_open(struct fx *f, double off, double ppm, double initial_freq,
                    const struct discipline_params *p)
{
    memset(f, 0, sizeof(*f));
    f->osc.off = off;
    f->osc.ppm = ppm;
    f->osc.rng = seed | 1;
    f->clk = clock_virtual_create_on(osc_read, &f->osc, 0.0, 0.0);
    if (p)
        f->p = *p;
    else
        discipline_params_default(&f->p);
    f->d = discipline_create(&f->p, f->clk, initial_freq);
}

static void fx_close(struct fx *f)
{
    discipline_destroy(f->d);
    clock_destroy(f->clk);
}

/* Advance by interval, then feed one measurement with Gaussian noise of sd
 * noise, claimed error err. */
static enum discipline_action fx_update(struct fx *f, double interval, double noise, double err,
                                        double *stepped)
{
    struct timespec now;

    f->osc.t += interval;
    double off = true_offset(&f->osc, f->clk) + noise * osc_gauss(&f->osc);
    clock_now(f->clk, &now);
    return discipline_update(f->d, off, err, &now, stepped);
}

/* The correction that cancels an oscillator ppm fast: -e / (1 + e). */
static double ideal(double ppm)
{
    return -ppm / (1.0 + ppm * 1e-6);
}

/* The frequency in force is within 6 of its own standard errors (plus
 * slack) of the ideal, and that standard error is below max_skew. (Not 3:
 * the window is chosen for predicting the newest points well, which now
 * and then picks a short one whose slope fits their noise.) */
static void assert_freq(struct fx *f, double osc_ppm, double slack, double max_skew)
{
    struct discipline_state st;
    discipline_get_state(f->d, &st);
    assert_near(st.freq_ppm, clock_get_freq(f->clk), 0);
    assert_true(st.freq_err_ppm < max_skew);
    assert_near(st.freq_ppm, ideal(osc_ppm), 6.0 * st.freq_err_ppm + slack);
}

static void fx_run(struct fx *f, int n, double interval, double noise, double err)
{
    for (int i = 0; i < n; i++)
        assert_int_equal(fx_update(f, interval, noise, err, NULL), DISCIPLINE_SLEW);
}

static void test_defaults(void **state)
{
    struct discipline_params p;
    (void)state;
    memset(&p, 0xff, sizeof(p));
    discipline_params_default(&p);
    assert_near(p.makestep_threshold, 1.0, 0);
    assert_int_equal(p.makestep_limit, 3);
    assert_near(p.maxchange, 0.0, 0);
    assert_near(p.max_slew_ppm, 20000.0, 0);
    assert_near(p.max_freq_ppm, 500.0, 0);
}

static void test_initial_freq_applied(void **state)
{
    struct fx f;
    struct discipline_state st;
    (void)state;
    fx_open(&f, 0.0, 0.0, -12.5, NULL);
    assert_near(clock_get_freq(f.clk), -12.5, 1e-12);
    discipline_get_state(f.d, &st);
    assert_near(st.freq_ppm, -12.5, 1e-12);
    assert_int_equal(st.updates, 0);
    fx_close(&f);
    /* Beyond max_freq it is clamped. */
    fx_open(&f, 0.0, 0.0, 900.0, NULL);
    assert_near(clock_get_freq(f.clk), 500.0, 1e-12);
    fx_close(&f);
}

/* Exact offsets of a +35 ppm oscillator: the frequency is found to within
 * 0.001 ppm and the clock ends within a microsecond. */
static void test_learns_frequency_exact(void **state)
{
    struct fx f;
    struct discipline_state st;
    (void)state;
    fx_open(&f, 0.0, 35.0, 0.0, NULL);
    fx_run(&f, 20, 64.0, 0.0, 1e-5);
    discipline_get_state(f.d, &st);
    /* The correction multiplies the oscillator's rate: -e/(1+e) exactly. */
    assert_near(st.freq_ppm, -35.0 / (1.0 + 35e-6), 1e-5);
    assert_near(clock_get_freq(f.clk), st.freq_ppm, 0);
    f.osc.t += 10.0; /* let the last slew finish */
    assert_true(fabs(true_offset(&f.osc, f.clk)) < 1e-6);
    assert_int_equal(st.updates, 20);
    assert_int_equal(st.steps, 0);
    assert_near(st.update_interval, 64.0, 1e-3);
    fx_close(&f);
}

/* Noisy offsets (100 us sd): within 0.1 ppm after an hour of 64 s polls,
 * the clock within a few sd of true time, skew an honest estimate. */
static void test_learns_frequency_noisy(void **state)
{
    struct fx f;
    struct discipline_state st;
    (void)state;
    fx_open(&f, 0.002, -80.0, 0.0, NULL);
    fx_run(&f, 64, 64.0, 1e-4, 1e-4);
    assert_freq(&f, -80.0, 0.01, 0.2);
    fx_run(&f, 64, 64.0, 1e-4, 1e-4); /* startup points out of the history */
    assert_freq(&f, -80.0, 0.01, 0.2);
    discipline_get_state(f.d, &st);
    assert_true(st.freq_err_ppm > 0.001);
    f.osc.t += 10.0;
    assert_true(fabs(true_offset(&f.osc, f.clk)) < 2e-4);
    assert_true(st.rms_offset > 2e-5 && st.rms_offset < 3e-4);
    fx_close(&f);
}

/* A big slew still in progress when the next measurements come (50 ms at
 * 500 ppm takes 100 s, updates every 8 s): the offsets seen mid-slew are
 * read consistently, so the frequency still comes out right. */
static void test_mid_slew_measurements(void **state)
{
    struct fx f;
    struct discipline_params p;
    (void)state;
    discipline_params_default(&p);
    p.max_slew_ppm = 500.0; /* 100 s to slew out: measured in the middle */
    fx_open(&f, -0.05, 20.0, 0.0, &p);
    fx_run(&f, 1, 0.0, 0.0, 1e-5);
    assert_near(clock_slew_remaining(f.clk), 0.05, 1e-9);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(fx_update(&f, 8.0, 0.0, 1e-5, NULL), DISCIPLINE_SLEW);
        if (i == 4)
            assert_true(clock_slew_remaining(f.clk) > 0.005); /* still slewing */
    }
    assert_near(clock_get_freq(f.clk), -20.0, 0.01);
    f.osc.t += 10.0;
    assert_true(fabs(true_offset(&f.osc, f.clk)) < 2e-6);
    fx_close(&f);
}

static void test_makestep_first_updates(void **state)
{
    struct fx f;
    struct discipline_params p;
    struct discipline_state st;
    double stepped = 0.0;
    (void)state;
    discipline_params_default(&p);
    p.makestep_threshold = 0.1;
    p.makestep_limit = 2;
    fx_open(&f, -0.5, 0.0, 0.0, &p);
    assert_true(discipline_is_drastic(f.d, 0.5));
    assert_true(discipline_is_drastic(f.d, -0.11));
    assert_false(discipline_is_drastic(f.d, 0.1));
    assert_int_equal(fx_update(&f, 1.0, 0.0, 1e-5, &stepped), DISCIPLINE_STEP);
    assert_near(stepped, 0.5, 1e-9);
    assert_near(true_offset(&f.osc, f.clk), 0.0, 1e-9);
    discipline_get_state(f.d, &st);
    assert_int_equal(st.steps, 1);
    assert_near(st.last_step, 0.5, 1e-9);
    assert_near(st.last_offset, 0.5, 1e-9);
    /* Second update: still in the window, but nothing to step. */
    assert_int_equal(fx_update(&f, 16.0, 0.0, 1e-5, NULL), DISCIPLINE_SLEW);
    /* Past the window a big offset is slewed, not stepped. */
    assert_false(discipline_is_drastic(f.d, 0.3));
    f.osc.off += 0.3;
    assert_int_equal(fx_update(&f, 16.0, 0.0, 1e-5, NULL), DISCIPLINE_SLEW);
    assert_true(clock_slew_remaining(f.clk) < -0.05);
    discipline_get_state(f.d, &st);
    assert_int_equal(st.steps, 1);
    assert_int_equal(st.updates, 3);
    fx_close(&f);
}

static void test_makestep_always_and_never(void **state)
{
    struct fx f;
    struct discipline_params p;
    (void)state;
    discipline_params_default(&p);
    p.makestep_threshold = 0.1;
    p.makestep_limit = -1;
    fx_open(&f, 0.0, 0.0, 0.0, &p);
    fx_run(&f, 10, 16.0, 0.0, 1e-5);
    f.osc.off += 0.25;
    double stepped = 0.0;
    assert_int_equal(fx_update(&f, 16.0, 0.0, 1e-5, &stepped), DISCIPLINE_STEP);
    assert_near(stepped, -0.25, 1e-9);
    /* Offset at the threshold itself is not above it. */
    f.osc.off -= 0.09;
    assert_int_equal(fx_update(&f, 16.0, 0.0, 1e-5, NULL), DISCIPLINE_SLEW);
    fx_close(&f);

    p.makestep_threshold = 0.0; /* never */
    fx_open(&f, 5.0, 0.0, 0.0, &p);
    assert_false(discipline_is_drastic(f.d, 5.0));
    assert_int_equal(fx_update(&f, 1.0, 0.0, 1e-5, NULL), DISCIPLINE_SLEW);
    assert_near(clock_slew_remaining(f.clk), -5.0, 1e-6);
    fx_close(&f);
}

/* The step is interpreted consistently: the frequency learned before it is
 * kept and refined after it. */
static void test_step_keeps_frequency_line(void **state)
{
    struct fx f;
    struct discipline_params p;
    (void)state;
    discipline_params_default(&p);
    p.makestep_limit = -1;
    fx_open(&f, 0.0, 10.0, 0.0, &p);
    fx_run(&f, 20, 64.0, 0.0, 1e-5);
    f.osc.off += 3.0;
    assert_int_equal(fx_update(&f, 64.0, 0.0, 1e-5, NULL), DISCIPLINE_STEP);
    fx_run(&f, 3, 64.0, 0.0, 1e-5);
    assert_near(clock_get_freq(f.clk), -10.0, 0.01);
    f.osc.t += 1.0;
    assert_true(fabs(true_offset(&f.osc, f.clk)) < 1e-6);
    fx_close(&f);
}

static void test_maxchange(void **state)
{
    struct fx f;
    struct discipline_params p;
    struct discipline_state before, after;
    (void)state;
    discipline_params_default(&p);
    p.makestep_threshold = 0.0;
    p.maxchange = 0.1;
    fx_open(&f, -0.4, 0.0, 0.0, &p);
    /* The first update is exempt. */
    assert_false(discipline_is_drastic(f.d, -0.4));
    assert_int_equal(fx_update(&f, 1.0, 0.0, 1e-5, NULL), DISCIPLINE_SLEW);
    f.osc.t += 2000.0; /* slewed */
    fx_run(&f, 3, 16.0, 0.0, 1e-5);
    discipline_get_state(f.d, &before);
    assert_true(discipline_is_drastic(f.d, -0.2));
    assert_false(discipline_is_drastic(f.d, 0.05));
    double freq = clock_get_freq(f.clk), slew = clock_slew_remaining(f.clk);
    f.osc.off += 0.2;
    assert_int_equal(fx_update(&f, 16.0, 0.0, 1e-5, NULL), DISCIPLINE_REFUSED);
    discipline_get_state(f.d, &after);
    assert_int_equal(after.updates, before.updates);
    assert_near(clock_get_freq(f.clk), freq, 0);
    assert_near(clock_slew_remaining(f.clk), slew, 0);
    /* Within the limit it is accepted again. */
    f.osc.off -= 0.15;
    assert_int_equal(fx_update(&f, 16.0, 0.0, 1e-5, NULL), DISCIPLINE_SLEW);
    /* Not a number is refused too. */
    struct timespec now;
    clock_now(f.clk, &now);
    assert_int_equal(discipline_update(f.d, NAN, 1e-5, &now, NULL), DISCIPLINE_REFUSED);
    fx_close(&f);
}

static void test_max_freq_clamp(void **state)
{
    struct fx f;
    struct discipline_params p;
    struct discipline_state st;
    (void)state;
    discipline_params_default(&p);
    p.max_freq_ppm = 100.0;
    fx_open(&f, 0.0, 250.0, 0.0, &p);
    fx_run(&f, 10, 16.0, 0.0, 1e-5);
    discipline_get_state(f.d, &st);
    assert_near(st.freq_ppm, -100.0, 1e-9);
    assert_near(clock_get_freq(f.clk), -100.0, 1e-9);
    fx_close(&f);
    fx_open(&f, 0.0, -250.0, 0.0, &p);
    fx_run(&f, 10, 16.0, 0.0, 1e-5);
    assert_near(clock_get_freq(f.clk), 100.0, 1e-9);
    fx_close(&f);
}

/* After a reset the frequency stays, the history goes, and one step is
 * allowed again although the makestep window is long over. */
static void test_reset(void **state)
{
    struct fx f;
    struct discipline_params p;
    struct discipline_state st;
    int settled = 0;
    (void)state;
    discipline_params_default(&p);
    p.makestep_threshold = 1.0;
    p.makestep_limit = 1;
    p.maxchange = 5.0;
    fx_open(&f, 0.0, -15.0, 0.0, &p);
    fx_run(&f, 30, 64.0, 0.0, 1e-5);
    discipline_drift(f.d, &settled);
    assert_true(settled);
    discipline_get_state(f.d, &st);
    assert_true(st.settled); /* tracking's freq_settled says the same */
    discipline_reset(f.d);
    discipline_drift(f.d, &settled);
    assert_false(settled);
    discipline_get_state(f.d, &st);
    assert_false(st.settled);
    assert_near(clock_get_freq(f.clk), 15.0, 1e-3);
    f.osc.off += 10.0; /* a VM resume: beyond maxchange, yet exempt */
    double stepped = 0.0;
    assert_int_equal(fx_update(&f, 1.0, 0.0, 1e-5, &stepped), DISCIPLINE_STEP);
    assert_near(stepped, -10.0, 1e-3); /* the jump runs at the corrected rate */
    /* The frequency survives the fresh start even with a noisy point. */
    fx_run(&f, 2, 2.0, 1e-4, 1e-4);
    assert_near(clock_get_freq(f.clk), 15.0, 1.0);
    f.osc.off += 2.0;
    assert_int_equal(fx_update(&f, 2.0, 0.0, 1e-5, NULL), DISCIPLINE_SLEW);
    discipline_get_state(f.d, &st);
    assert_int_equal(st.steps, 1);
    fx_close(&f);
}

static void test_drift_settles(void **state)
{
    struct fx f;
    int settled = 1;
    (void)state;
    fx_open(&f, 0.0, 42.0, 0.0, NULL);
    assert_near(discipline_drift(f.d, &settled), 0.0, 0);
    assert_false(settled);
    fx_run(&f, 3, 64.0, 1e-4, 1e-4);
    discipline_drift(f.d, &settled);
    assert_false(settled);
    fx_run(&f, 40, 64.0, 1e-4, 1e-4);
    assert_freq(&f, 42.0, 0.02, 0.5);
    discipline_drift(f.d, &settled);
    assert_true(settled);
    assert_near(discipline_drift(f.d, NULL), clock_get_freq(f.clk), 0);
    fx_close(&f);
}

/* A drift-file frequency is a prior: a few noisy points do not throw it
 * around, but a real difference wins over it as evidence grows. */
static void test_drift_prior(void **state)
{
    struct fx f;
    (void)state;
    fx_open(&f, 0.0, -7.0, 7.0, NULL);
    fx_run(&f, 3, 2.0, 5e-4, 5e-4);
    assert_near(clock_get_freq(f.clk), 7.0, 2.0);
    fx_close(&f);
    fx_open(&f, 0.0, -12.0, 7.0, NULL);
    fx_run(&f, 40, 64.0, 1e-4, 1e-4);
    assert_freq(&f, -12.0, 0.02, 0.5);
    fx_close(&f);
}

/* When the oscillator changes frequency the old points stop fitting a
 * line; the runs test drops them and the new frequency is learned. */
static void test_frequency_change_tracked(void **state)
{
    struct fx f;
    (void)state;
    fx_open(&f, 0.0, 10.0, 0.0, NULL);
    fx_run(&f, 64, 64.0, 2e-5, 2e-5);
    assert_freq(&f, 10.0, 0.005, 0.05);
    osc_set_ppm(&f.osc, 13.0);
    fx_run(&f, 24, 64.0, 2e-5, 2e-5);
    assert_freq(&f, 13.0, 0.02, 0.3);
    f.osc.t += 1.0;
    assert_true(fabs(true_offset(&f.osc, f.clk)) < 1e-4);
    fx_close(&f);
}

/* Our clock set back behind the discipline's back: history dropped, no
 * crash, the clock keeps being corrected. */
static void test_clock_went_back(void **state)
{
    struct fx f;
    struct discipline_params p;
    (void)state;
    discipline_params_default(&p);
    p.makestep_limit = -1;
    fx_open(&f, 0.0, 5.0, 0.0, &p);
    fx_run(&f, 10, 16.0, 0.0, 1e-5);
    clock_step(f.clk, -100.0); /* someone else set it back */
    double stepped = 0.0;
    assert_int_equal(fx_update(&f, 16.0, 0.0, 1e-5, &stepped), DISCIPLINE_STEP);
    assert_near(stepped, 100.0, 1e-6);
    fx_run(&f, 5, 16.0, 0.0, 1e-5);
    assert_near(clock_get_freq(f.clk), -5.0, 0.05);
    assert_true(fabs(true_offset(&f.osc, f.clk)) < 1e-6);
    fx_close(&f);
}

/* A sample measured while a big slew was under way and handed in only
 * after the slew ended is placed at its own time: it asks for nothing more
 * (taken as measured now, it would ask for 25 ms again). And
 * discipline_project says what it would read now. */
static void test_late_sample(void **state)
{
    struct fx f;
    struct discipline_params p;
    struct timespec when, now;
    (void)state;
    discipline_params_default(&p);
    p.makestep_threshold = 0.0;
    p.max_slew_ppm = 500.0;
    fx_open(&f, -0.05, 0.0, 0.0, &p);
    fx_run(&f, 1, 1.0, 0.0, 1e-5);
    f.osc.t = 51.0; /* half way through the 100 s slew */
    double late = true_offset(&f.osc, f.clk);
    clock_now(f.clk, &when);
    assert_near(late, 0.025, 1e-3);
    f.osc.t = 60.0;
    fx_run(&f, 1, 0.0, 0.0, 1e-5);
    f.osc.t = 200.0; /* slewed out */
    assert_true(fabs(true_offset(&f.osc, f.clk)) < 1e-6);
    assert_near(discipline_project(f.d, late, &when), 0.0, 1e-6);
    clock_now(f.clk, &now);
    assert_near(discipline_project(f.d, 0.001, &now), 0.001, 1e-9);
    assert_int_equal(discipline_update(f.d, late, 1e-5, &when, NULL), DISCIPLINE_SLEW);
    f.osc.t = 300.0;
    assert_true(fabs(true_offset(&f.osc, f.clk)) < 1e-6);
    fx_close(&f);
}

/* Slews are proportional: an offset at the noise level is spread over
 * about the time to the next update, a large one goes at maxslewrate. */
static void test_slew_proportional(void **state)
{
    struct fx f;
    (void)state;
    fx_open(&f, 0.0, 0.0, 0.0, NULL);
    for (int i = 0; i < 20; i++)
        fx_update(&f, 64.0, 20e-6, 20e-6, NULL);
    /* 20 us off, about the noise: slewed over tens of seconds, not in a
     * fraction of a second at full rate */
    f.osc.off += 20e-6;
    fx_update(&f, 64.0, 0.0, 20e-6, NULL);
    double left = clock_slew_remaining(f.clk);
    f.osc.t += 10.0;
    double left10 = clock_slew_remaining(f.clk);
    assert_true(fabs(left) > 1e-7);
    assert_true(left10 / left > 0.3); /* not at full rate: that takes 1 ms */
    fx_close(&f);

    fx_open(&f, -0.5, 0.0, 0.0, NULL);
    fx_update(&f, 1.0, 0.0, 1e-5, NULL);
    /* 0.5 s off: at the default 20000 ppm, 25 s */
    f.osc.t += 20.0;
    assert_near(clock_slew_remaining(f.clk), 0.1, 1e-3);
    f.osc.t += 10.0;
    assert_near(true_offset(&f.osc, f.clk), 0.0, 1e-6);
    fx_close(&f);
}

/* A reload keeps what was learned; a tighter max_freq clamps at once. */
static void test_set_params(void **state)
{
    struct fx f;
    struct discipline_params p;
    struct discipline_state st;
    (void)state;
    fx_open(&f, 0.0, 30.0, 0.0, NULL);
    fx_run(&f, 10, 64.0, 0.0, 1e-5);
    discipline_params_default(&p);
    p.max_freq_ppm = 400.0;
    discipline_set_params(f.d, &p);
    assert_near(clock_get_freq(f.clk), ideal(30.0), 1e-3);
    p.max_freq_ppm = 20.0;
    discipline_set_params(f.d, &p);
    assert_near(clock_get_freq(f.clk), -20.0, 0);
    fx_run(&f, 3, 64.0, 0.0, 1e-5);
    discipline_get_state(f.d, &st);
    assert_near(st.freq_ppm, -20.0, 0);
    assert_int_equal(st.updates, 13);
    assert_int_equal(st.steps, 0);
    fx_close(&f);
}

/* Errors claimed far below the real noise (a filter holding one sample
 * claims the clock's precision) do not make the estimate overconfident:
 * the skew follows the residuals. */
static void test_claimed_errors_not_trusted(void **state)
{
    struct fx f;
    (void)state;
    fx_open(&f, 0.0, -5.0, 0.0, NULL);
    fx_run(&f, 40, 64.0, 1e-4, 1e-9);
    assert_freq(&f, -5.0, 0.01, 0.5);
    struct discipline_state st;
    discipline_get_state(f.d, &st);
    assert_true(st.freq_err_ppm > 0.005);
    fx_close(&f);
}

static struct timespec fake_now;

static int fake_gettime(clockid_t id, struct timespec *out)
{
    (void)id;
    *out = fake_now;
    return 0;
}

static int fake_adjtime_fail(clockid_t id, struct timex *tx)
{
    (void)id, (void)tx;
    errno = EPERM;
    return -1;
}

/* A clock that refuses every adjustment: FAILED, and the state says what
 * is really in force. */
static void test_clock_refuses(void **state)
{
    struct clock_system_hooks h = {fake_gettime, fake_adjtime_fail};
    struct discipline_params p;
    (void)state;
    fake_now = (struct timespec){1800000000, 0};
    clock_system_set_hooks(&h);
    struct clock *clk = clock_system_create();
    discipline_params_default(&p);
    struct discipline *d = discipline_create(&p, clk, 3.0);
    assert_near(clock_get_freq(clk), 0.0, 0);
    assert_int_equal(discipline_update(d, 0.01, 1e-4, &fake_now, NULL), DISCIPLINE_FAILED);
    fake_now.tv_sec += 64;
    assert_int_equal(discipline_update(d, 2.0, 1e-4, &fake_now, NULL), DISCIPLINE_FAILED);
    struct discipline_state st;
    discipline_get_state(d, &st);
    assert_near(st.freq_ppm, 0.0, 0);
    assert_int_equal(st.steps, 0);
    discipline_destroy(d);
    clock_destroy(clk);
    clock_system_set_hooks(NULL);
}

static void setup_seed(void)
{
    const char *env = getenv("TEMPUS_SEED");
    seed = env && *env ? strtoull(env, NULL, 0) : 20240601; /* fixed: CI runs repeat */
    printf("test_discipline: seed %" PRIu64 " (set TEMPUS_SEED to repeat)\n", seed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_initial_freq_applied),
        cmocka_unit_test(test_learns_frequency_exact),
        cmocka_unit_test(test_learns_frequency_noisy),
        cmocka_unit_test(test_slew_proportional),
        cmocka_unit_test(test_mid_slew_measurements),
        cmocka_unit_test(test_makestep_first_updates),
        cmocka_unit_test(test_makestep_always_and_never),
        cmocka_unit_test(test_step_keeps_frequency_line),
        cmocka_unit_test(test_maxchange),
        cmocka_unit_test(test_max_freq_clamp),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_drift_settles),
        cmocka_unit_test(test_drift_prior),
        cmocka_unit_test(test_frequency_change_tracked),
        cmocka_unit_test(test_clock_went_back),
        cmocka_unit_test(test_late_sample),
        cmocka_unit_test(test_set_params),
        cmocka_unit_test(test_claimed_errors_not_trusted),
        cmocka_unit_test(test_clock_refuses),
    };
    setup_seed();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
