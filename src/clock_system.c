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
 * frequency the discipline asked for (the base), for a computed time, with
 * the kernel PLL left off. Rates past the kernel's 500 ppm frequency limit
 * go through the tick length as well (ADJ_TICK: 100 ppm a microsecond,
 * +-10 %). The slew's end is a timer the caller arms from clock_tick the
 * moment the slew starts; whatever the lateness of that timer, what was
 * really applied (an overshoot included) is what slew_remaining reports.
 * The kernel is put back to the base frequency and the nominal tick when
 * the clock is destroyed and at exit, so no slew outlives the daemon. */
struct sysclock {
    struct timespec slew_start; /* CLOCK_MONOTONIC */
    double slew_total;          /* offset being slewed, s */
    double slew_rate;           /* signed extra frequency, s/s; 0: none */
    double left;                /* after a slew ended: what it missed, s
                                 * (negative: overshoot) */
};

#define SYS_TICK_NOMINAL 10000 /* us per 1/USER_HZ tick */
#define SYS_TICK_STEP_PPM 100.0
#define SYS_TICK_SPAN 1000 /* +-10 % */

static struct clock_system_hooks hooks = {sysio_clock_gettime, sysio_clock_adjtime};
static const struct clock_system_hooks real_hooks = {sysio_clock_gettime, sysio_clock_adjtime};
/* The one system clock in use, for the exit handler. */
static struct clock *sys_live;

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

/* Run the kernel clock at ppm (base and slew together): the tick takes the
 * whole hundreds beyond the frequency limit, the frequency the rest. */
static int sys_kernel_rate(double ppm)
{
    struct timex tx = {0};
    long tick = 0;

    ppm = fmax(fmin(ppm, CLOCK_SYSTEM_MAX_RATE), -CLOCK_SYSTEM_MAX_RATE);
    if (fabs(ppm) > CLOCK_SYSTEM_MAX_FREQ)
        tick = lround((ppm - copysign(CLOCK_SYSTEM_MAX_FREQ / 2, ppm)) / SYS_TICK_STEP_PPM);
    if (tick > SYS_TICK_SPAN || tick < -SYS_TICK_SPAN)
        tick = tick > 0 ? SYS_TICK_SPAN : -SYS_TICK_SPAN;
    double freq = ppm - (double)tick * SYS_TICK_STEP_PPM;
    freq = fmax(fmin(freq, CLOCK_SYSTEM_MAX_FREQ), -CLOCK_SYSTEM_MAX_FREQ);
    tx.modes = ADJ_FREQUENCY | ADJ_TICK;
    tx.freq = (long)llround(freq * 65536.0); /* scaled ppm, 16-bit fraction */
    tx.tick = SYS_TICK_NOMINAL + tick;
    if (hooks.adjtime(CLOCK_REALTIME, &tx) < 0) {
        log_warn("clock_adjtime(ADJ_FREQUENCY|ADJ_TICK)");
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
        return sc->left;
    double done = sc->slew_rate * sys_slew_elapsed(sc);
    if (fabs(done) >= fabs(sc->slew_total))
        return 0.0; /* due to end: the timer is about to say by how much */
    return sc->slew_total - done;
}

/* End the slew now: what it really applied is rate x elapsed, whatever
 * was asked; the rest (or the overshoot) is kept for slew_remaining. */
static void sys_slew_end(struct clock *clk)
{
    struct sysclock *sc = sc_of(clk);
    if (sc->slew_rate != 0.0)
        sc->left = sc->slew_total - sc->slew_rate * sys_slew_elapsed(sc);
    sc->slew_rate = 0.0;
    sc->slew_total = 0.0;
}

/* The kernel's extra frequency (ppm) that gains rate seconds a second of
 * the clock itself over running at the base: the clock and the monotonic
 * clock that times the slew both run faster by the extra, so it is
 * rate (1 + base) / (1 - rate), not rate (2 % more at a 2 % slew). */
static double sys_extra_ppm(double base_ppm, double rate)
{
    return rate * (1.0 + base_ppm * 1e-6) / (1.0 - rate) * 1e6;
}

static int sys_slew(struct clock *clk, double offset, double rate_ppm)
{
    struct sysclock *sc = sc_of(clk);
    double room = CLOCK_SYSTEM_MAX_RATE - fabs(clk->freq_ppm);

    sys_slew_end(clk);
    sc->left = 0.0; /* the caller has taken the old slew's account */
    rate_ppm = fmin(rate_ppm, room);
    if (offset == 0.0 || rate_ppm <= 0.0)
        return sys_kernel_rate(clk->freq_ppm);
    sc->slew_total = offset;
    sc->slew_rate = copysign(rate_ppm * 1e-6, offset);
    hooks.gettime(CLOCK_MONOTONIC, &sc->slew_start);
    return sys_kernel_rate(clk->freq_ppm + sys_extra_ppm(clk->freq_ppm, sc->slew_rate));
}

static double sys_tick(struct clock *clk)
{
    struct sysclock *sc = sc_of(clk);
    if (sc->slew_rate == 0.0)
        return -1.0;
    double left = sc->slew_total - sc->slew_rate * sys_slew_elapsed(sc);
    /* Both signs agree: still going, unless less than a nanosecond is to
     * go: no timer can wait that little, and on a clock that reads the same
     * twice (the simulator's, within one wake-up) it would fire forever. */
    if (left * sc->slew_total > 0.0 && left / sc->slew_rate >= 1e-9)
        return left / sc->slew_rate;
    sys_slew_end(clk);
    sys_kernel_rate(clk->freq_ppm);
    return -1.0;
}

static int sys_set_freq(struct clock *clk, double ppm)
{
    struct sysclock *sc = sc_of(clk);
    double extra = sc->slew_rate != 0.0 ? sys_extra_ppm(ppm, sc->slew_rate) : 0.0;
    if (ppm > CLOCK_SYSTEM_MAX_FREQ)
        ppm = CLOCK_SYSTEM_MAX_FREQ;
    if (ppm < -CLOCK_SYSTEM_MAX_FREQ)
        ppm = -CLOCK_SYSTEM_MAX_FREQ;
    return sys_kernel_rate(ppm + extra);
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

static int sys_set_sync(struct clock *clk, int synced, double max_error, int leap)
{
    struct timex tx = {0};
    (void)clk;
    tx.modes = ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR;
    tx.status = synced ? 0 : STA_UNSYNC; /* PLL/FLL stay off: we discipline */
    /* The kernel inserts (23:59:60) or deletes a second at the next UTC
     * midnight while these are set; the caller sets them on that day only. */
    tx.status |= leap > 0 ? STA_INS : leap < 0 ? STA_DEL : 0;
    tx.maxerror = (long)fmin(max_error * 1e6, 16000000.0);
    tx.esterror = tx.maxerror;
    if (hooks.adjtime(CLOCK_REALTIME, &tx) < 0) {
        log_warn("clock_adjtime(ADJ_STATUS)");
        return -1;
    }
    return 0;
}

/* Stop any slew: the kernel runs at the base frequency, tick nominal. */
static void sys_release(struct clock *clk)
{
    sys_slew_end(clk);
    sys_kernel_rate(clk->freq_ppm);
}

static void sys_destroy(struct clock *clk)
{
    sys_release(clk);
    if (sys_live == clk)
        sys_live = NULL;
    free(clk->backend);
}

/* exit() on a fatal error never reaches clock_destroy. */
static void sys_at_exit(void)
{
    if (sys_live)
        sys_release(sys_live);
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
    .applies_leap = 1,
    .destroy = sys_destroy,
};

struct clock *clock_system_create(void)
{
    struct clock *clk = mem_zalloc(sizeof(*clk));
    clk->ops = &sys_ops;
    clk->backend = mem_zalloc(sizeof(struct sysclock));
    clk->precision = clock_measure_precision(clk);
    static int registered;
    if (!registered && atexit(sys_at_exit) == 0)
        registered = 1;
    sys_live = clk;
    return clk;
}
