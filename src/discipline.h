/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_DISCIPLINE_H
#define TEMPUS_DISCIPLINE_H

#include <time.h>

#include "clock.h"

/* The clock discipline: from the combined offset that selection produces at
 * each update, estimate the clock's frequency error and correct offset and
 * frequency through the clock interface (it does not know which backend
 * it drives). Steps only as makestep allows; refuses absurd corrections
 * beyond maxchange. No I/O besides the clock calls. */

struct discipline_params {
    double makestep_threshold; /* step if |offset| > this ... (s; 0 = never) */
    int makestep_limit;        /* ... during the first N updates; -1 = always */
    double maxchange;          /* refuse |offset| above this after the first
                                * update (s; 0 = no limit) */
    double max_slew_ppm;       /* fastest slew, ppm (> 0) */
    double max_freq_ppm;       /* frequency correction bound, ppm (> 0) */
};

enum discipline_action {
    DISCIPLINE_SLEW,    /* offset being slewed, frequency updated */
    DISCIPLINE_STEP,    /* the clock was stepped by the offset */
    DISCIPLINE_REFUSED, /* |offset| above maxchange: nothing done */
    DISCIPLINE_FAILED,  /* the clock refused the adjustment */
};

/* Observable state for tracking output. */
struct discipline_state {
    unsigned updates;        /* accepted updates so far */
    double freq_ppm;         /* frequency correction in force */
    double freq_err_ppm;     /* estimated error of freq_ppm (skew) */
    double last_offset;      /* offset of the last update, s */
    double rms_offset;       /* RMS of recent offsets, s */
    double update_interval;  /* seconds between the last two updates */
    int window;              /* newest points the estimate uses */
    int points;              /* points in the history */
    unsigned steps;          /* steps made */
    double last_step;        /* size of the last step, s */
    int settled;             /* the frequency is known well enough to be saved
                              * to the drift file (discipline_drift) */
};

struct discipline;

/* New discipline over clk, starting from initial_freq_ppm (from the drift
 * file; 0 if none), which it applies to the clock. Never NULL. */
struct discipline *discipline_create(const struct discipline_params *params, struct clock *clk,
                                     double initial_freq_ppm);
void discipline_destroy(struct discipline *d);
void discipline_params_default(struct discipline_params *p);
/* Take new parameters (reload), keeping the history and the frequency,
 * which is clamped to the new max_freq_ppm. */
void discipline_set_params(struct discipline *d, const struct discipline_params *params);
/* One update: offset (s, reference - our clock, positive: we are behind)
 * measured at now (our clock when the sample was taken, which may be
 * earlier than the present: corrections made since are accounted for),
 * with error (s) its uncertainty (the sample's jitter; used to weigh it
 * against others). Returns what was done; on STEP *stepped (if not NULL)
 * receives the step, so callers can tell the sources. */
enum discipline_action discipline_update(struct discipline *d, double offset, double error,
                                         const struct timespec *now, double *stepped);
/* Whether an update finding the clock off by offset now (a projected
 * offset, see discipline_project) would step the clock or be refused by
 * maxchange rather than slew: for callers that let only some samples make
 * such a decision. */
int discipline_is_drastic(const struct discipline *d, double offset);
/* Forget the offset history but keep the frequency (after a clock jump or a
 * long outage), and allow one step again if makestep allows any step; the
 * next update is exempt from maxchange, like the first. */
void discipline_reset(struct discipline *d);
/* UTC had a leap second of step seconds (-1: one inserted). stepped: our
 * clock already moved with it (the kernel or a step did it), so only the
 * bookkeeping follows; otherwise the clock is now off by step against
 * every source, and the discipline slews it out (history kept). */
void discipline_leap(struct discipline *d, double step, int stepped);
/* Current state. */
void discipline_get_state(const struct discipline *d, struct discipline_state *out);
/* Frequency worth saving to the drift file (ppm), and whether it has
 * settled enough to be worth saving. */
double discipline_drift(const struct discipline *d, int *settled);
/* The offset (s) that a measurement of offset taken at when (our clock)
 * would show now: less the corrections made since, plus the drift the
 * frequency in force expects. For comparing samples of different ages
 * (selection); never feed a projected offset to discipline_update, which
 * would take it as confirming the frequency in force. */
double discipline_project(const struct discipline *d, double offset, const struct timespec *when);

#endif
