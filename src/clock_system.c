/* SPDX-License-Identifier: ISC */
#include "clock_system.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock_impl.h"
#include "log.h"
#include "mem.h"
#include "timefmt.h"
#include "sysio.h"

/* Offsets are slewed by running the kernel clock faster or slower than the
 * frequency the discipline asked for, for a computed time, with the kernel
 * PLL left off; the event loop calls clock_tick to end the slew on time. */
struct sysclock {
    struct timespec slew_start; /* CLOCK_MONOTONIC */
    double slew_total;          /* offset being slewed, s */
    double slew_rate;           /* signed extra frequency, s/s */
};

/* By default through sysio, which is the real kernel clock in production
 * and the simulated one in the whole-daemon simulator. */
static const struct clock_system_hooks real_hooks = {sysio_clock_gettime, sysio_clock_adjtime};
static struct clock_system_hooks hooks = {sysio_clock_gettime, sysio_clock_adjtime};

void clock_system_set_hooks(const struct clock_system_hooks *h)
{
    hooks = h ? *h : real_hooks;
}

static struct sysclock *sc_of(struct clock *clk)
{
    return clk->backend;
}

static void sys_now(struct clock *clk, struct timespec *out)
{
    (void)clk;
    hooks.gettime(CLOCK_REALTIME, out);
}

static void sys_from_kernel(struct clock *clk, const struct timespec *kernel,
                            struct timespec *out)
{
    (void)clk;
    *out = *kernel;
}

static int sys_kernel_freq(double ppm)
{
    struct timex tx = {0};

    if (ppm > CLOCK_SYSTEM_MAX_FREQ)
        ppm = CLOCK_SYSTEM_MAX_FREQ;
    if (ppm < -CLOCK_SYSTEM_MAX_FREQ)
        ppm = -CLOCK_SYSTEM_MAX_FREQ;
    tx.modes = ADJ_FREQUENCY;
    tx.freq = (long)llround(ppm * 65536.0); /* scaled ppm, 16-bit fraction */
    if (hooks.adjtime(CLOCK_REALTIME, &tx) < 0) {
        log_warn("clock_adjtime(ADJ_FREQUENCY)");
        return -1;
    }
    return 0;
}

static double sys_slew_elapsed(struct sysclock *sc)
{
    struct timespec now;
    hooks.gettime(CLOCK_MONOTONIC, &now);
    return timefmt_timespec_diff(&now, &sc->slew_start);
}

static double sys_slew_remaining(struct clock *clk)
{
    struct sysclock *sc = sc_of(clk);
    if (sc->slew_rate == 0.0)
        return 0.0;
    double done = sc->slew_rate * sys_slew_elapsed(sc);
    if (fabs(done) >= fabs(sc->slew_total))
        return 0.0;
    return sc->slew_total - done;
}

/* End or restart the slew: bank what was applied, return the rest. */
static double sys_slew_stop(struct clock *clk)
{
    struct sysclock *sc = sc_of(clk);
    double left = sc->slew_rate == 0.0 ? 0.0 : sc->slew_total - sc->slew_rate * sys_slew_elapsed(sc);
    sc->slew_rate = 0.0;
    sc->slew_total = 0.0;
    return left;
}

static int sys_slew(struct clock *clk, double offset, double max_rate_ppm)
{
    struct sysclock *sc = sc_of(clk);
    double room = CLOCK_SYSTEM_MAX_FREQ - fabs(clk->freq_ppm);

    sys_slew_stop(clk);
    if (max_rate_ppm > room)
        max_rate_ppm = room;
    if (offset == 0.0 || max_rate_ppm <= 0.0)
        return sys_kernel_freq(clk->freq_ppm);
    sc->slew_total = offset;
    sc->slew_rate = copysign(max_rate_ppm * 1e-6, offset);
    hooks.gettime(CLOCK_MONOTONIC, &sc->slew_start);
    return sys_kernel_freq(clk->freq_ppm + sc->slew_rate * 1e6);
}

static double sys_tick(struct clock *clk)
{
    struct sysclock *sc = sc_of(clk);
    if (sc->slew_rate == 0.0)
        return -1.0;
    double left = sc->slew_total - sc->slew_rate * sys_slew_elapsed(sc);
    if (left * sc->slew_total > 0.0)
        return left / sc->slew_rate; /* both signs agree: still going */
    /* Overshoot by a late tick is at most rate x lateness; carried over as a
     * tiny opposite offset that the next update measures and corrects. */
    sys_slew_stop(clk);
    sys_kernel_freq(clk->freq_ppm);
    return -1.0;
}

static int sys_set_freq(struct clock *clk, double ppm)
{
    struct sysclock *sc = sc_of(clk);
    double extra = sc->slew_rate * 1e6;
    return sys_kernel_freq(ppm + extra);
}

static int sys_step(struct clock *clk, double offset)
{
    struct timex tx = {0};
    struct timespec d = {0, 0};

    timefmt_timespec_add(&d, offset); /* normalised: 0 <= tv_nsec < 1e9 */
    tx.modes = ADJ_SETOFFSET | ADJ_NANO;
    tx.time.tv_sec = d.tv_sec;
    tx.time.tv_usec = d.tv_nsec; /* nanoseconds under ADJ_NANO */
    if (hooks.adjtime(CLOCK_REALTIME, &tx) < 0) {
        log_warn("clock_adjtime(ADJ_SETOFFSET)");
        return -1;
    }
    (void)clk;
    return 0;
}

static int sys_set_sync(struct clock *clk, int synced, double max_error)
{
    struct timex tx = {0};
    (void)clk;
    tx.modes = ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR;
    tx.status = synced ? 0 : STA_UNSYNC; /* PLL/FLL stay off: we discipline */
    tx.maxerror = (long)fmin(max_error * 1e6, 16000000.0);
    tx.esterror = tx.maxerror;
    if (hooks.adjtime(CLOCK_REALTIME, &tx) < 0) {
        log_warn("clock_adjtime(ADJ_STATUS)");
        return -1;
    }
    return 0;
}

static void sys_destroy(struct clock *clk)
{
    free(clk->backend);
}

static const struct clock_ops sys_ops = {
    .name = "system",
    .now = sys_now,
    .from_kernel = sys_from_kernel,
    .step = sys_step,
    .set_freq = sys_set_freq,
    .slew = sys_slew,
    .slew_remaining = sys_slew_remaining,
    .tick = sys_tick,
    .set_sync = sys_set_sync,
    .destroy = sys_destroy,
};

struct clock *clock_system_create(void)
{
    struct clock *clk = mem_zalloc(sizeof(*clk));
    clk->ops = &sys_ops;
    clk->backend = mem_zalloc(sizeof(struct sysclock));
    clk->precision = clock_measure_precision(clk);
    return clk;
}
