/* SPDX-License-Identifier: ISC */
#include "clock_virtual.h"

#include <math.h>
#include <stdlib.h>

#include "clock_impl.h"
#include "mem.h"
#include "timefmt.h"
#include "sysio.h"

/* Served time is piecewise linear in base time. Every change (step, new
 * frequency, new slew) re-bases the line at the current instant, so the
 * clock never jumps except on a step. */
struct vclock {
    clock_virtual_base_fn read;
    void *ctx;
    struct timespec base_kernel; /* base time at the last re-base */
    struct timespec base_served; /* served time at that instant */
    double err_ppm;              /* built-in frequency error (test setup) */
    double slew_left;            /* slew still to apply at base_kernel, s */
    double slew_rate;            /* |rate| of the slew, s/s */
};

static struct vclock *vc_of(struct clock *clk)
{
    return clk->backend;
}

static void vc_read_kernel(void *ctx, struct timespec *out)
{
    (void)ctx;
    sysio_clock_gettime(CLOCK_REALTIME, out);
}

/* Slew applied after elapsed seconds since the base. */
static double vc_slew_done(const struct vclock *vc, double elapsed)
{
    double mag = vc->slew_rate * elapsed;
    double left = fabs(vc->slew_left);
    if (elapsed <= 0.0)
        return 0.0;
    if (mag > left)
        mag = left;
    return vc->slew_left < 0 ? -mag : mag;
}

static void vc_at(struct clock *clk, const struct timespec *kernel, struct timespec *out)
{
    struct vclock *vc = vc_of(clk);
    double elapsed = timefmt_timespec_diff(kernel, &vc->base_kernel);
    double rate = (vc->err_ppm + clk->freq_ppm) * 1e-6;

    *out = vc->base_served;
    timefmt_timespec_add(out, elapsed * (1.0 + rate) + vc_slew_done(vc, elapsed));
}

static void vc_rebase(struct clock *clk)
{
    struct vclock *vc = vc_of(clk);
    struct timespec k, s;

    vc->read(vc->ctx, &k);
    vc_at(clk, &k, &s);
    vc->slew_left -= vc_slew_done(vc, timefmt_timespec_diff(&k, &vc->base_kernel));
    vc->base_kernel = k;
    vc->base_served = s;
}

static void vc_now(struct clock *clk, struct timespec *out)
{
    struct vclock *vc = vc_of(clk);
    struct timespec k;

    vc->read(vc->ctx, &k);
    vc_at(clk, &k, out);
}

static int vc_step(struct clock *clk, double offset)
{
    vc_rebase(clk);
    timefmt_timespec_add(&vc_of(clk)->base_served, offset);
    return 0;
}

static int vc_set_freq(struct clock *clk, double ppm)
{
    /* Re-base under the old frequency before clock.c stores the new one. */
    (void)ppm;
    vc_rebase(clk);
    return 0;
}

static int vc_slew(struct clock *clk, double offset, double max_rate_ppm)
{
    struct vclock *vc = vc_of(clk);
    vc_rebase(clk);
    vc->slew_left = offset;
    vc->slew_rate = max_rate_ppm * 1e-6;
    return 0;
}

static double vc_slew_remaining(struct clock *clk)
{
    struct vclock *vc = vc_of(clk);
    struct timespec k;

    vc->read(vc->ctx, &k);
    return vc->slew_left - vc_slew_done(vc, timefmt_timespec_diff(&k, &vc->base_kernel));
}

static int vc_set_sync(struct clock *clk, int synced, double max_error, int leap)
{
    (void)leap; /* no kernel: the daemon applies a leap itself */
    /* Nothing outside tempus reads a virtual clock's state. */
    (void)clk, (void)synced, (void)max_error;
    return 0;
}

static void vc_destroy(struct clock *clk)
{
    free(clk->backend);
}

static const struct clock_ops vc_ops = {
    .name = "virtual",
    .now = vc_now,
    .from_kernel = vc_at,
    .step = vc_step,
    .set_freq = vc_set_freq,
    .slew = vc_slew,
    .slew_remaining = vc_slew_remaining,
    .set_sync = vc_set_sync,
    .destroy = vc_destroy,
};

struct clock *clock_virtual_create_on(clock_virtual_base_fn read, void *ctx, double offset,
                                      double freq_ppm)
{
    struct clock *clk = mem_zalloc(sizeof(*clk));
    struct vclock *vc = mem_zalloc(sizeof(*vc));

    vc->read = read;
    vc->ctx = ctx;
    vc->err_ppm = freq_ppm;
    read(ctx, &vc->base_kernel);
    vc->base_served = vc->base_kernel;
    timefmt_timespec_add(&vc->base_served, offset);
    clk->ops = &vc_ops;
    clk->backend = vc;
    clk->precision = clock_measure_precision(clk);
    return clk;
}

struct clock *clock_virtual_create(double offset, double freq_ppm)
{
    return clock_virtual_create_on(vc_read_kernel, NULL, offset, freq_ppm);
}

double clock_virtual_error(struct clock *clk)
{
    struct vclock *vc = vc_of(clk);
    struct timespec k, s;

    vc->read(vc->ctx, &k);
    vc_at(clk, &k, &s);
    return timefmt_timespec_diff(&s, &k);
}
