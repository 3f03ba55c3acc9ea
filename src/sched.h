/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_SCHED_H
#define TEMPUS_SCHED_H

#include <stdint.h>

/* The single-threaded event loop: poll() over registered descriptors,
 * one-shot timers on CLOCK_MONOTONIC, and signals turned into callbacks via
 * a self-pipe so handlers run in the loop, never in signal context. */

typedef void (*sched_fd_fn)(int fd, void *arg);
typedef void (*sched_timer_fn)(void *arg);
typedef void (*sched_signal_fn)(int signo, void *arg);

/* Set up the loop (self-pipe included). Fatal on failure. */
void sched_init(void);
/* Remove every handler and timer and close the self-pipe. */
void sched_fini(void);
/* Call fn(fd, arg) whenever fd is readable. Returns 0, -1 if the table is full. */
int sched_add_fd(int fd, sched_fd_fn fn, void *arg);
/* Also call fd's handler when fd is writable (on = 1), or stop (on = 0):
 * for connections with output waiting. */
void sched_want_write(int fd, int on);
/* Stop watching fd (safe to call from inside that fd's handler). */
void sched_remove_fd(int fd);
/* Call fn(arg) once, delay seconds from now; returns a timer id (never 0). */
uint64_t sched_add_timer(double delay, sched_timer_fn fn, void *arg);
/* Cancel a pending timer; unknown or fired ids are ignored. */
void sched_cancel_timer(uint64_t id);
/* Run fn in the loop whenever signo arrives (SIGTERM, SIGINT, SIGHUP...). */
void sched_on_signal(int signo, sched_signal_fn fn, void *arg);
/* Run until sched_quit; returns 0, or -1 if poll failed fatally. May be
 * called again after it returned (the simulator runs the loop in stretches). */
int sched_run(void);
/* Make sched_run return after the current iteration. */
void sched_quit(void);
/* CLOCK_MONOTONIC nanoseconds at the last wake-up of the loop. */
int64_t sched_wake_ns(void);
/* CLOCK_MONOTONIC nanoseconds now. */
int64_t sched_mono_ns(void);

#endif
