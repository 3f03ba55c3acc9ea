/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_CLOCK_VIRTUAL_H
#define TEMPUS_CLOCK_VIRTUAL_H

#include <time.h>

#include "clock.h"

/* A virtual clock over any time base: the simulator passes its notion of
 * true time here; clock_virtual_create uses the kernel's CLOCK_REALTIME.
 * read(ctx, out) must be monotonic non-decreasing between steps of the base. */
typedef void (*clock_virtual_base_fn)(void *ctx, struct timespec *out);

/* Virtual clock over base, starting offset seconds ahead of it and running
 * freq_ppm fast. Never NULL. */
struct clock *clock_virtual_create_on(clock_virtual_base_fn read, void *ctx, double offset,
                                      double freq_ppm);
/* The virtual clock's error against its base right now (seconds; positive:
 * the virtual clock is ahead). For tests and the simulator. */
double clock_virtual_error(struct clock *clk);

#endif
