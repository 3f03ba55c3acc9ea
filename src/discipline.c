/* SPDX-License-Identifier: ISC */
#include "discipline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "timefmt.h"

/* How it works. Every correction we make (steps, the part of a slew
 * applied so far, the frequency correction integrated over time) is added
 * up and logged with the time it was made. A measured offset plus the
 * corrections made up to the moment it was measured is the offset of the
 * clock as it would have run without any of them: that "free-running"
 * offset is a straight line in time (its slope is the oscillator's
 * frequency error) plus measurement noise and slow wander, and it does not
 * depend on what we did to the clock, nor on how late a sample reaches us.
 *
 * A weighted least-squares line through the newest free-running offsets
 * gives the frequency correction (its slope) and a smoothed estimate of
 * the present offset (its value now, less the corrections made), which is
 * slewed out, replacing any slew in progress. How many points the line
 * goes through is chosen at each update by how well lines of each length
 * predicted the newest points: white noise favours long windows, wander
 * short ones, and where they balance depends on the oscillator, the path
 * and the update interval. When short lines predict far better than long
 * ones, the old points belong to another regime and are forgotten.
 *
 * The errors we are given only rank the points (floored and capped, see
 * disc_weigh); the noise level itself comes from the residuals. While the
 * history is short, a prior on the frequency (the drift file, or the
 * estimate before a reset or a step) keeps a few noisy points from throwing
 * the frequency around, and a burst a few seconds long leaves the
 * frequency alone. */

/* Points in the regression at most; updates remembered to place late
 * samples. */
#define DISC_HIST_MAX 64
#define DISC_SEG_MAX 64
/* Window lengths are judged on the newest DISC_TARGETS points (at least
 * DISC_MIN_TARGETS), each older one weighing DISC_TARGET_DECAY times the
 * next newer one; a shorter window must predict better by DISC_Z standard
 * errors. Scores below (1 ns)^2 are all equal. */
#define DISC_TARGETS 32
#define DISC_MIN_TARGETS 6
#define DISC_TARGET_DECAY 0.9
#define DISC_Z 2.0
#define DISC_SCORE_FLOOR 1e-18
/* The longest window predicting this many times worse (rms) than the best
 * one: the old points are from another regime. */
#define DISC_BREAK 4.0
/* No network sample is better than DISC_ERR_MIN (s); errors count from
 * 1/DISC_ERR_SPREAD up to DISC_ERR_SPREAD times the window's median, no
 * more, so that neither one lucky sample nor one congested one decides. */
#define DISC_ERR_MIN 2e-6
#define DISC_ERR_SPREAD 10.0
#define DISC_ERR_LOW 3.0
/* A window shorter than this (s) leaves the frequency to the prior. */
#define DISC_MIN_SPAN 10.0
/* Standard deviation (ppm) of the frequency prior: never measured, from
 * the drift file, and the floor of what is kept over a reset or a step. */
#define DISC_PRIOR_NONE 100.0
#define DISC_PRIOR_DRIFT 2.0
#define DISC_PRIOR_RESET 0.5
/* Weight of "the errors are right" in the noise estimate, in degrees of
 * freedom. */
#define DISC_SCALE_DOF 3.0
/* Slews: an offset at the noise level is spread over the time until the
 * next update (DISC_CORR_RATIO intervals), a larger one is corrected
 * faster, in inverse proportion to its size over the noise (so the time
 * spent off by much is short), never in under DISC_CORR_MIN seconds and
 * never faster than max_slew_ppm. */
#define DISC_CORR_RATIO 1.0
#define DISC_CORR_MIN 1.0

/* Settled: skew below DISC_SETTLED_PPM with DISC_SETTLED_N points. */
#define DISC_SETTLED_PPM 1.0
#define DISC_SETTLED_N 8

struct disc_point {
    double t;      /* when measured, s, relative to the last update (<= 0) */
    double x;      /* free-running offset: measured offset + corrections */
    double err;    /* its error as given, s */
    double w;      /* weight, from err (see disc_weigh) */
    double offset; /* the measured offset itself */
};

/* What we did to the clock from time t on, so that an offset measured at
 * any recent time can be put in the free-running frame. */
struct disc_seg {
    double t;    /* s, relative to the last update */
    double corr; /* corrections made up to t, s */
    double freq; /* ppm in force from t */
    double slew; /* slew started at t, s */
    double rate; /* its rate, s/s */
};

struct disc_fit {
    double tbar, xbar; /* weighted centroid */
    double sxx, sxy;   /* weighted centred sums */
    double b;          /* slope, s/s (0 if sxx is 0) */
    double ssr;        /* weighted sum of squared residuals */
};

struct discipline {
    struct discipline_params p;
    struct clock *clk;
    struct disc_point hist[DISC_HIST_MAX]; /* oldest first */
    int n;
    int win;                           /* newest points the line uses */
    struct disc_seg seg[DISC_SEG_MAX]; /* oldest first */
    int nseg;
    struct timespec origin;      /* our clock at the last update (t = 0) */
    double t_floor;              /* last step or reset: older samples do not
                                  * belong to the present time frame */
    double corr;                 /* corrections made up to t = 0 */
    double slew_req;             /* slew asked for at the last update */
    double slew_rate;            /* its rate, s/s */
    double noise;                /* typical error of a point, s */
    double freq;                 /* ppm in force */
    double prior_freq, prior_sd; /* ppm; the prior holds until the history
                                  * overflows */
    int prior_live;
    double skew; /* ppm */
    unsigned updates, steps, since_reset;
    int step_armed; /* one step allowed again after a reset */
    double last_offset, last_step, interval, rms;
};

void discipline_params_default(struct discipline_params *p)
{
    p->makestep_threshold = 1.0;
    p->makestep_limit = 3;
    p->maxchange = 0.0;
    p->max_slew_ppm = 20000.0;
    p->max_freq_ppm = 500.0;
}

static double disc_clamp_freq(const struct discipline *d, double ppm)
{
    double m = d->p.max_freq_ppm;
    return ppm > m ? m : ppm < -m ? -m : ppm;
}

/* Correction a frequency offset of ppm makes over dt seconds of our clock:
 * the clock applies it to the oscillator's time, which is dt / (1 + f). */
static double disc_freq_corr(double ppm, double dt)
{
    double f = ppm * 1e-6;
    return f / (1.0 + f) * dt;
}

/* Slew done e seconds after a slew of s at rate r started. */
static double disc_slew_done(double s, double r, double e)
{
    double m = r * e;
    if (e <= 0.0)
        return 0.0;
    return fabs(s) <= m ? s : copysign(m, s);
}

/* Remember what is in force from now (t = 0) on. */
static void disc_log(struct discipline *d)
{
    if (d->nseg == DISC_SEG_MAX) {
        memmove(d->seg, d->seg + 1, (DISC_SEG_MAX - 1) * sizeof(d->seg[0]));
        d->nseg--;
    }
    d->seg[d->nseg++] = (struct disc_seg){.t = 0.0,
                                          .corr = d->corr,
                                          .freq = d->freq,
                                          .slew = d->slew_req,
                                          .rate = d->slew_rate};
}

static void disc_take_params(struct discipline *d, const struct discipline_params *params)
{
    struct discipline_params def;

    discipline_params_default(&def);
    d->p = *params;
    if (!(d->p.max_slew_ppm > 0.0))
        d->p.max_slew_ppm = def.max_slew_ppm;
    if (!(d->p.max_freq_ppm > 0.0))
        d->p.max_freq_ppm = def.max_freq_ppm;
}

struct discipline *discipline_create(const struct discipline_params *params, struct clock *clk,
                                     double initial_freq_ppm)
{
    struct discipline *d = mem_zalloc(sizeof(*d));

    disc_take_params(d, params);
    d->clk = clk;
    if (!isfinite(initial_freq_ppm))
        initial_freq_ppm = 0.0;
    d->freq = disc_clamp_freq(d, initial_freq_ppm);
    if (clock_set_freq(clk, d->freq) < 0)
        log_warnx("discipline: cannot set the initial frequency %+.3f ppm", d->freq);
    d->freq = clock_get_freq(clk);
    d->prior_freq = d->freq;
    d->prior_sd = d->freq != 0.0 ? DISC_PRIOR_DRIFT : DISC_PRIOR_NONE;
    d->prior_live = 1;
    d->skew = d->prior_sd;
    clock_now(clk, &d->origin);
    disc_log(d);
    return d;
}

void discipline_destroy(struct discipline *d)
{
    free(d);
}

static void disc_fit(const struct disc_point *pt, int n, struct disc_fit *f)
{
    double sw = 0.0, st = 0.0, sx = 0.0;

    memset(f, 0, sizeof(*f));
    for (int i = 0; i < n; i++) {
        sw += pt[i].w;
        st += pt[i].w * pt[i].t;
        sx += pt[i].w * pt[i].x;
    }
    if (sw <= 0.0)
        return;
    f->tbar = st / sw;
    f->xbar = sx / sw;
    for (int i = 0; i < n; i++) {
        double dt = pt[i].t - f->tbar;
        f->sxx += pt[i].w * dt * dt;
        f->sxy += pt[i].w * dt * (pt[i].x - f->xbar);
    }
    f->b = f->sxx > 0.0 ? f->sxy / f->sxx : 0.0;
    for (int i = 0; i < n; i++) {
        double r = pt[i].x - f->xbar - f->b * (pt[i].t - f->tbar);
        f->ssr += pt[i].w * r * r;
    }
}

static int disc_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Weights from the errors we were given, which only rank the points: a
 * sample's dispersion grows with its age whether or not it was measured
 * well, and a filter holding one sample claims the clock's precision. So
 * errors are floored at what a network sample can achieve and capped at a
 * few times the window's median. */
static void disc_weigh(struct discipline *d)
{
    double e[DISC_HIST_MAX];

    if (d->n <= 0)
        return;
    for (int i = 0; i < d->n; i++)
        e[i] = fmax(d->hist[i].err, DISC_ERR_MIN);
    qsort(e, (size_t)d->n, sizeof(e[0]), disc_cmp);
    double cap = DISC_ERR_SPREAD * e[d->n / 2];
    double lo = fmax(DISC_ERR_MIN, e[d->n / 2] / DISC_ERR_LOW);
    for (int i = 0; i < d->n; i++) {
        double x = fmin(fmax(d->hist[i].err, lo), cap);
        d->hist[i].w = 1.0 / (x * x);
    }
}

/* Drop the oldest k points; the frequency in force becomes the prior. */
static void disc_forget(struct discipline *d, int k)
{
    if (k <= 0)
        return;
    if (k > d->n)
        k = d->n;
    memmove(d->hist, d->hist + k, (size_t)(d->n - k) * sizeof(d->hist[0]));
    d->n -= k;
    d->prior_freq = d->freq;
    d->prior_sd = fmax(d->skew, DISC_PRIOR_RESET);
    d->prior_live = 1;
}

static const int disc_lens[] = {3, 4, 6, 8, 11, 16, 23, 32, 45};
#define DISC_NLENS ((int)(sizeof(disc_lens) / sizeof(disc_lens[0])))

/* How lines through the len points before each of the newest targets
 * predicted it: squared errors into e[], newest target first, and the
 * targets' weights into a[] (newer ones count more, so that after a change
 * the lengths that fit the new regime win as soon as points show it).
 * Returns the number of targets, 0 if fewer than DISC_MIN_TARGETS. */
static int disc_errors(const struct disc_point *pt, int n, int len, double *e, double *a)
{
    int first = n - DISC_TARGETS > len ? n - DISC_TARGETS : len;
    int m = 0;
    double age = 1.0;

    if (n - first < DISC_MIN_TARGETS)
        return 0;
    for (int k = n - 1; k >= first; k--, m++) {
        struct disc_fit f;
        disc_fit(pt + k - len, len, &f);
        double r = pt[k].x - f.xbar - f.b * (pt[k].t - f.tbar);
        e[m] = r * r;
        a[m] = age * pt[k].w;
        age *= DISC_TARGET_DECAY;
    }
    return m;
}

static double disc_mean(const double *e, const double *a, int m)
{
    double s = 0.0, sa = 0.0;
    for (int k = 0; k < m; k++) {
        s += a[k] * e[k];
        sa += a[k];
    }
    return s / sa;
}

/* Whether errors e1 are smaller than e2 beyond chance, over their first m
 * (common) targets: a paired test on the differences. */
static int disc_better(const double *e1, const double *e2, const double *a, int m)
{
    double d[DISC_TARGETS], sa = 0.0, var = 0.0;

    for (int k = 0; k < m; k++) {
        d[k] = e2[k] - e1[k];
        sa += a[k];
    }
    double mean = disc_mean(d, a, m);
    for (int k = 0; k < m; k++)
        var += a[k] * a[k] * (d[k] - mean) * (d[k] - mean);
    return mean > DISC_SCORE_FLOOR && mean * sa > DISC_Z * sqrt(var);
}

/* Seconds spanned by the newest len points. */
static double disc_span(const struct discipline *d, int len)
{
    return len <= d->n && len > 0 ? d->hist[d->n - 1].t - d->hist[d->n - len].t : 0.0;
}

/* How many of the newest points the line goes through. Noise favours long
 * windows, wander short ones; where the two balance depends on the
 * oscillator, the path and the update interval, so it is measured: each
 * length is judged by how well its lines predicted the newest points, and
 * a shorter one is taken only if it did better beyond chance. While the
 * longest length that can be judged is the best, all points. */
static int disc_window(struct discipline *d)
{
    double e[DISC_NLENS][DISC_TARGETS], a[DISC_TARGETS];
    int m[DISC_NLENS], nl = 0, best;

    disc_weigh(d);
    while (nl < DISC_NLENS && (m[nl] = disc_errors(d->hist, d->n, disc_lens[nl], e[nl], a)))
        nl++;
    if (nl == 0)
        return d->n;
    /* The longest windows predicting far worse than the best means the
     * older points belong to another regime (the oscillator changed, or
     * the reference did): forget them, or they would keep weighing on
     * the scores of every longer window until they leave the history. */
    int top = nl - 1, low = -1;
    double worst = disc_mean(e[top], a, m[top]), good = INFINITY;
    for (int i = 0; i < top; i++) {
        double sc = disc_mean(e[i], a, m[top]);
        if (disc_span(d, disc_lens[i]) >= DISC_MIN_SPAN && sc < good)
            good = sc, low = i;
    }
    if (low >= 0 && worst > DISC_BREAK * DISC_BREAK * fmax(good, DISC_SCORE_FLOOR)) {
        disc_forget(d, d->n - disc_lens[low]);
        return d->n;
    }
    /* Seconds of points (a burst) say little about a trend: a window
     * shorter than DISC_MIN_SPAN is never preferred. */
    best = top;
    for (int i = top - 1; i >= 0; i--)
        if (disc_span(d, disc_lens[i]) >= DISC_MIN_SPAN && disc_better(e[i], e[best], a, m[best]))
            best = i;
    return best == top ? d->n : disc_lens[best];
}

static double disc_sum_w(const struct disc_point *pt, int n)
{
    double sw = 0.0;
    for (int i = 0; i < n; i++)
        sw += pt[i].w;
    return sw;
}

/* Frequency (ppm) and the free-running offset at t = 0 from the window
 * and, while it lasts, the prior; sets d->skew. */
static void disc_estimate(struct discipline *d, double *freq_ppm, double *x_now)
{
    struct disc_fit f;
    double k2 = 1.0, prec, sxy;
    int len = disc_window(d);
    const struct disc_point *pt = d->hist + d->n - len;

    d->win = len;
    disc_fit(pt, len, &f);
    /* How noisy the points really are comes from the residuals, once
     * there are enough of them to say. */
    if (len > 2)
        k2 = (f.ssr + DISC_SCALE_DOF) / (len - 2 + DISC_SCALE_DOF);
    d->noise = sqrt(k2 * len / fmax(disc_sum_w(pt, len), 1e-300));
    prec = f.sxx / k2;
    sxy = f.sxy / k2;
    /* A few seconds of points (a burst) say little about frequency. */
    if (len < 2 || pt[len - 1].t - pt[0].t < DISC_MIN_SPAN)
        prec = sxy = 0.0;
    if (d->prior_live || prec <= 0.0) {
        double psd = d->prior_live ? d->prior_sd : DISC_PRIOR_NONE;
        double pf = (d->prior_live ? d->prior_freq : d->freq) * 1e-6;
        double pw = 1.0 / (psd * 1e-6 * psd * 1e-6);
        prec += pw;
        sxy += pw * pf / (1.0 + pf);
    }
    /* The line falls behind the reference at b; the correction that
     * cancels it acts on the oscillator's time: f = b / (1 - b). */
    double b = sxy / prec;
    *freq_ppm = b / (1.0 - b) * 1e6;
    *x_now = f.xbar - b * f.tbar;
    d->skew = sqrt(1.0 / prec) * 1e6;
}

/* Add a point, keeping the window in time order (a late sample may be
 * older than the newest point). */
static void disc_insert(struct discipline *d, double t, double x, double err, double offset)
{
    if (d->n == DISC_HIST_MAX) {
        memmove(d->hist, d->hist + 1, (DISC_HIST_MAX - 1) * sizeof(d->hist[0]));
        d->n--;
        d->prior_live = 0;
    }
    int i = d->n;
    while (i > 0 && d->hist[i - 1].t > t)
        i--;
    memmove(d->hist + i + 1, d->hist + i, (size_t)(d->n - i) * sizeof(d->hist[0]));
    d->hist[i] = (struct disc_point){.t = t, .x = x, .err = err, .offset = offset};
    d->n++;
}

/* Start a new window, the frequency in force becoming its prior. */
static void disc_restart(struct discipline *d)
{
    d->n = 0;
    d->prior_freq = d->freq;
    d->prior_sd = fmax(d->skew, DISC_PRIOR_RESET);
    d->prior_live = 1;
    d->t_floor = 0.0;
}

/* Bring the bookkeeping to the present, which becomes t = 0: shift every
 * time, and add what the frequency correction and the slew did since the
 * last update. */
static void disc_advance(struct discipline *d)
{
    struct timespec present;
    clock_now(d->clk, &present);
    double dt = timefmt_timespec_diff(&present, &d->origin);
    double applied = d->slew_req - clock_slew_remaining(d->clk);
    struct disc_seg *last = &d->seg[d->nseg - 1];

    if (dt < 0.0) {
        /* Our clock went back behind our back: the old points are in
         * another time frame. */
        log_warnx("discipline: clock went back %.6f s: history dropped", -dt);
        dt = 0.0;
        disc_restart(d);
    }
    /* A backend may slew slower than asked: what it really did counts. */
    if (fabs(applied) < fabs(last->slew) && dt > 0.0)
        last->rate = fmin(last->rate, fabs(applied) / dt);
    for (int i = 0; i < d->n; i++)
        d->hist[i].t -= dt;
    for (int i = 0; i < d->nseg; i++)
        d->seg[i].t -= dt;
    d->t_floor -= dt;
    d->corr += disc_freq_corr(d->freq, dt) + applied;
    d->slew_req -= applied;
    d->origin = present;
    d->interval = dt;
}

/* Corrections made up to time t, from the log (t > 0: the present, past
 * the last update, by what is in force since). */
static double disc_corr_at(const struct discipline *d, double t)
{
    int k = d->nseg - 1;

    if (t == 0.0)
        return d->corr;
    while (k > 0 && d->seg[k].t > t)
        k--;
    const struct disc_seg *s = &d->seg[k];
    double e = fmax(0.0, t - s->t);
    return s->corr + disc_freq_corr(s->freq, e) + disc_slew_done(s->slew, s->rate, e);
}

/* Re-express the window relative to the corrections made so far, so the
 * numbers stay small however long the daemon runs. */
static void disc_rebase(struct discipline *d)
{
    for (int i = 0; i < d->n; i++)
        d->hist[i].x -= d->corr;
    for (int i = 0; i < d->nseg; i++)
        d->seg[i].corr -= d->corr;
    d->corr = 0.0;
}

static void disc_stats(struct discipline *d, double offset)
{
    double s = 0.0;

    d->last_offset = offset;
    int from = d->n - d->win > 0 ? d->n - d->win : 0;
    for (int i = from; i < d->n; i++)
        s += d->hist[i].offset * d->hist[i].offset;
    d->rms = d->n > from ? sqrt(s / (d->n - from)) : fabs(offset);
    d->updates++;
    d->since_reset++;
    d->step_armed = 0;
}

static int disc_may_step(const struct discipline *d, double offset)
{
    if (!(d->p.makestep_threshold > 0.0) || !(fabs(offset) > d->p.makestep_threshold))
        return 0;
    if (d->p.makestep_limit < 0 || d->step_armed)
        return 1;
    return d->updates < (unsigned)d->p.makestep_limit;
}

int discipline_is_drastic(const struct discipline *d, double offset)
{
    if (d->p.maxchange > 0.0 && d->since_reset > 0 && fabs(offset) > d->p.maxchange)
        return 1;
    return disc_may_step(d, offset);
}

/* Set the frequency from the window; 0 or -1 if the clock refused. */
static int disc_set_freq(struct discipline *d, double *x_now)
{
    double f;
    int rc = 0;

    disc_estimate(d, &f, x_now);
    f = disc_clamp_freq(d, f);
    if (clock_set_freq(d->clk, f) < 0)
        rc = -1;
    d->freq = clock_get_freq(d->clk);
    return rc;
}

/* A step means the clock was off far beyond anything the window predicts
 * (a bad start or a jump): the window starts again after it, keeping the
 * frequency, with the step's own measurement as its first point. */
static enum discipline_action disc_step(struct discipline *d, const struct disc_point *pt,
                                        double step, double *stepped)
{
    double x_now;

    disc_restart(d);
    d->hist[d->n++] = *pt;
    /* The step replaces whatever was still being slewed. */
    if (clock_step(d->clk, step) < 0)
        return DISCIPLINE_FAILED;
    timefmt_timespec_add(&d->origin, step);
    clock_slew(d->clk, 0.0, d->p.max_slew_ppm);
    d->slew_req = 0.0;
    d->slew_rate = 0.0;
    d->corr += step;
    d->steps++;
    d->last_step = step;
    if (stepped)
        *stepped = step;
    return disc_set_freq(d, &x_now) < 0 ? DISCIPLINE_FAILED : DISCIPLINE_STEP;
}

/* Rate (ppm) to slew off at: see DISC_CORR_RATIO. */
static double disc_slew_rate(const struct discipline *d, double off)
{
    double t = fmax(d->interval, DISC_CORR_MIN) * DISC_CORR_RATIO;
    double noise = fmax(d->noise, DISC_ERR_MIN);
    double dur = t * fmin(1.0, noise / fmax(fabs(off), 1e-12));
    dur = fmax(dur, DISC_CORR_MIN);
    return fmin(fabs(off) / dur * 1e6, d->p.max_slew_ppm);
}

static enum discipline_action disc_slew(struct discipline *d)
{
    double x_now;
    int rc = disc_set_freq(d, &x_now);

    /* The line's value now, less what we already corrected, is what the
     * clock is still off by; the new slew replaces the one in progress. */
    double off = x_now - d->corr;
    double rate = disc_slew_rate(d, off);
    if (rate <= 0.0 || clock_slew(d->clk, off, rate) < 0) {
        rc = rate <= 0.0 ? rc : -1;
        off = 0.0;
        rate = 0.0;
        clock_slew(d->clk, 0.0, d->p.max_slew_ppm);
    }
    d->slew_req = off;
    d->slew_rate = rate * 1e-6;
    return rc < 0 ? DISCIPLINE_FAILED : DISCIPLINE_SLEW;
}

enum discipline_action discipline_update(struct discipline *d, double offset, double error,
                                         const struct timespec *when, double *stepped)
{
    enum discipline_action act;

    if (!isfinite(offset))
        return DISCIPLINE_REFUSED;
    if (d->p.maxchange > 0.0 && d->since_reset > 0 && fabs(offset) > d->p.maxchange)
        return DISCIPLINE_REFUSED;
    disc_advance(d);
    /* Place the sample at the time it was measured, in the free-running
     * frame of that time; samples from before a step or a reset would be
     * in another frame and are taken as measured right after it. */
    double t = fmin(0.0, fmax(timefmt_timespec_diff(when, &d->origin), d->t_floor));
    double err = isfinite(error) ? fabs(error) : 0.0;
    struct disc_point pt = {.t = t, .x = offset + disc_corr_at(d, t), .err = err, .offset = offset};
    /* What the clock is off by now if it kept the frequency in force. */
    double now_off = pt.x - d->freq * 1e-6 * t - d->corr;
    if (disc_may_step(d, now_off)) {
        act = disc_step(d, &pt, now_off, stepped);
    } else {
        disc_insert(d, pt.t, pt.x, err, offset);
        act = disc_slew(d);
    }
    disc_rebase(d);
    disc_log(d);
    disc_stats(d, offset);
    log_debug("discipline: offset %+.9f at %+.3f s err %.9f: %s, freq %+.4f ppm skew %.4f, "
              "slewing %+.9f, window %d of %d",
              offset, t, err,
              act == DISCIPLINE_STEP   ? "step"
              : act == DISCIPLINE_SLEW ? "slew"
                                       : "failed",
              d->freq, d->skew, d->slew_req, d->win, d->n);
    return act;
}

void discipline_set_params(struct discipline *d, const struct discipline_params *params)
{
    disc_take_params(d, params);
    double f = disc_clamp_freq(d, d->freq);
    if (f == d->freq)
        return;
    /* Account for the old frequency up to now, then start the new one. */
    double interval = d->interval;
    disc_advance(d);
    d->interval = interval;
    if (clock_set_freq(d->clk, f) < 0)
        log_warnx("discipline: cannot set the frequency %+.3f ppm", f);
    d->freq = clock_get_freq(d->clk);
    disc_rebase(d);
    disc_log(d);
}

void discipline_reset(struct discipline *d)
{
    struct timespec present;

    disc_restart(d);
    clock_now(d->clk, &present);
    d->t_floor = timefmt_timespec_diff(&present, &d->origin);
    d->since_reset = 0;
    d->step_armed = d->p.makestep_threshold > 0.0 && d->p.makestep_limit != 0;
}

void discipline_leap(struct discipline *d, double step, int stepped)
{
    if (stepped) {
        timefmt_timespec_add(&d->origin, step);
        return;
    }
    /* As if the reference had always read step more: the line now says
     * the clock is off by step, and the slew starts at once. */
    disc_advance(d);
    for (int i = 0; i < d->n; i++)
        d->hist[i].x += step;
    disc_slew(d);
    disc_rebase(d);
    disc_log(d);
}

void discipline_get_state(const struct discipline *d, struct discipline_state *out)
{
    memset(out, 0, sizeof(*out));
    out->updates = d->updates;
    out->freq_ppm = d->freq;
    out->freq_err_ppm = d->skew;
    out->last_offset = d->last_offset;
    out->rms_offset = d->rms;
    out->update_interval = d->interval;
    out->window = d->win;
    out->points = d->n;
    out->steps = d->steps;
    out->last_step = d->last_step;
    discipline_drift(d, &out->settled);
}

double discipline_drift(const struct discipline *d, int *settled)
{
    if (settled)
        *settled = d->n >= DISC_SETTLED_N && d->skew < DISC_SETTLED_PPM;
    return d->freq;
}

double discipline_project(const struct discipline *d, double offset, const struct timespec *when)
{
    struct timespec present;

    clock_now(d->clk, &present);
    double now = timefmt_timespec_diff(&present, &d->origin);
    double then = fmax(fmin(timefmt_timespec_diff(when, &d->origin), now), d->t_floor);
    /* Less what we corrected since, plus what the oscillator drifted by
     * meanwhile at the rate we believe it drifts (the frequency in force
     * is that belief: the two cancel where they agree). */
    double f = d->freq * 1e-6;
    double drift = f / (1.0 + f) * (now - then);
    return offset - (disc_corr_at(d, now) - disc_corr_at(d, then)) + drift;
}
