/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_CLOCK_IMPL_H
#define TEMPUS_CLOCK_IMPL_H

/* Private to clock.c and its backends: the operations a backend provides. */

#include "clock.h"

struct clock_ops {
    const char *name;
    void (*now)(struct clock *clk, struct timespec *out);
    void (*from_kernel)(struct clock *clk, const struct timespec *kernel, struct timespec *out);
    int (*step)(struct clock *clk, double offset);
    int (*set_freq)(struct clock *clk, double ppm);
    int (*slew)(struct clock *clk, double offset, double max_rate_ppm);
    double (*slew_remaining)(struct clock *clk);
    double (*tick)(struct clock *clk);
    int (*set_sync)(struct clock *clk, int synced, double max_error, int leap);
    int applies_leap; /* the backend inserts/deletes an armed leap second */
    void (*destroy)(struct clock *clk);
};

struct clock {
    const struct clock_ops *ops;
    int precision;
    double freq_ppm; /* correction currently applied */
    void *backend;   /* backend state */
};

/* Measure the read precision of a clock (log2 seconds). */
int clock_measure_precision(struct clock *clk);

#endif
