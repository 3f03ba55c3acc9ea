/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_CLOCK_H
#define TEMPUS_CLOCK_H

#include <time.h>

/* The clock that tempus serves and disciplines. Two backends behind one
 * interface: clock_system.c (the kernel clock, the only one that is ever
 * adjusted for real, through replaceable syscall hooks) and clock_virtual.c
 * (a software clock layered on the kernel clock, never touching it). The
 * discipline and the server only see struct clock. */
struct clock;

/* Kernel clock backend. Reads CLOCK_REALTIME; adjustments go through the
 * hooks in clock_system.h, which tests replace. Never NULL. */
struct clock *clock_system_create(void);
/* Virtual backend: serves kernel time + offset seconds, running fast by
 * freq_ppm. Never adjusts the kernel clock. Never NULL. */
struct clock *clock_virtual_create(double offset, double freq_ppm);
void clock_destroy(struct clock *clk);

/* Current time of this clock. */
void clock_now(struct clock *clk, struct timespec *out);
/* Convert a kernel CLOCK_REALTIME timestamp (e.g. SO_TIMESTAMPING of a
 * datagram) into this clock's time. */
void clock_from_kernel(struct clock *clk, const struct timespec *kernel, struct timespec *out);
/* Precision: log2 seconds of the read resolution/overhead measured at create. */
int clock_precision(const struct clock *clk);
/* Backend name: "system" or "virtual". */
const char *clock_name(const struct clock *clk);

/* Discipline interface (used by the upstream client). Each returns 0 or -1. */
/* Step the clock by offset seconds (positive: forward). */
int clock_step(struct clock *clk, double offset);
/* Set the frequency correction to ppm (positive: the clock runs faster). */
int clock_set_freq(struct clock *clk, double ppm);
/* Current frequency correction, ppm. */
double clock_get_freq(const struct clock *clk);
/* Start slewing by offset seconds at most max_rate_ppm; replaces any slew
 * in progress. */
int clock_slew(struct clock *clk, double offset, double max_rate_ppm);
/* Part of the last requested slew not yet applied, seconds. */
double clock_slew_remaining(struct clock *clk);
/* Let the backend finish timed work (the end of a slew); returns seconds
 * until it wants to be called again, or a negative value for never. */
double clock_tick(struct clock *clk);
/* Tell the clock whether it is synchronised and its maximum error, so other
 * programs can see it (kernel STA_UNSYNC/maxerror for the system clock),
 * and the leap second at the end of the current UTC day (+1 insert, -1
 * delete, 0 none). Returns 0, or -1 if the clock could not take it. */
int clock_set_sync(struct clock *clk, int synced, double max_error, int leap);
/* Whether the backend applies an armed leap second itself at midnight
 * (the kernel does, with STA_INS/STA_DEL); if not, the caller must. */
int clock_applies_leap(const struct clock *clk);

#endif
