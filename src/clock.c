/* SPDX-License-Identifier: ISC */
#include "clock_impl.h"

#include <math.h>
#include <stdlib.h>

#include "mem.h"
#include "timefmt.h"

void clock_destroy(struct clock *clk)
{
    if (!clk)
        return;
    clk->ops->destroy(clk);
    free(clk);
}

void clock_now(struct clock *clk, struct timespec *out)
{
    clk->ops->now(clk, out);
}

void clock_from_kernel(struct clock *clk, const struct timespec *kernel, struct timespec *out)
{
    clk->ops->from_kernel(clk, kernel, out);
}

int clock_precision(const struct clock *clk)
{
    return clk->precision;
}

const char *clock_name(const struct clock *clk)
{
    return clk->ops->name;
}

int clock_step(struct clock *clk, double offset)
{
    return clk->ops->step(clk, offset);
}

int clock_set_freq(struct clock *clk, double ppm)
{
    if (clk->ops->set_freq(clk, ppm) < 0)
        return -1;
    clk->freq_ppm = ppm;
    return 0;
}

double clock_get_freq(const struct clock *clk)
{
    return clk->freq_ppm;
}

int clock_slew(struct clock *clk, double offset, double max_rate_ppm)
{
    if (!(max_rate_ppm > 0.0))
        return -1;
    return clk->ops->slew(clk, offset, max_rate_ppm);
}

double clock_slew_remaining(struct clock *clk)
{
    return clk->ops->slew_remaining(clk);
}

double clock_tick(struct clock *clk)
{
    return clk->ops->tick ? clk->ops->tick(clk) : -1.0;
}

int clock_set_sync(struct clock *clk, int synced, double max_error, int leap)
{
    return clk->ops->set_sync(clk, synced, max_error, leap);
}

int clock_applies_leap(const struct clock *clk)
{
    return clk->ops->applies_leap;
}

/* The smallest nonzero difference between consecutive reads bounds what a
 * timestamp can resolve; advertise it rounded up to a power of two. */
int clock_measure_precision(struct clock *clk)
{
    double best = 1.0;
    struct timespec a, b;

    clock_now(clk, &a);
    for (int i = 0; i < 200; i++) {
        clock_now(clk, &b);
        double d = timefmt_timespec_diff(&b, &a);
        if (d > 0.0 && d < best)
            best = d;
        a = b;
    }
    if (best >= 1.0)
        return -20; /* a base that never advanced (simulated time) */
    int p = (int)ceil(log2(best));
    return p < -30 ? -30 : p > 0 ? 0 : p;
}
