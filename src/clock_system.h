/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_CLOCK_SYSTEM_H
#define TEMPUS_CLOCK_SYSTEM_H

#include <sys/timex.h>
#include <time.h>

/* The only way clock_system.c reaches the kernel clock. Production uses
 * clock_gettime and clock_adjtime on CLOCK_REALTIME; tests install fakes so
 * that no test ever adjusts the machine's clock. */
struct clock_system_hooks {
    int (*gettime)(clockid_t id, struct timespec *out);
    int (*adjtime)(clockid_t id, struct timex *tx);
};

/* Replace the hooks (NULL restores the real syscalls). Call before
 * clock_system_create. */
void clock_system_set_hooks(const struct clock_system_hooks *hooks);

/* Kernel frequency limit, ppm: the kernel refuses more than 500 ppm. */
#define CLOCK_SYSTEM_MAX_FREQ 500.0
/* Fastest slew with the tick length (+-10 %) and the frequency, ppm. */
#define CLOCK_SYSTEM_MAX_RATE 100000.0

#endif
