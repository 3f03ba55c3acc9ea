/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_SANDBOX_H
#define TEMPUS_SANDBOX_H

#include "conf.h"

/* A seccomp allow-list of the system calls tempusd makes once it runs
 * (event loop, sockets, resolver threads, reload, drift file, logging,
 * shutdown). Any other call kills the whole process with SIGSYS. */

#define SANDBOX_CLOCK_ADJUST 0x1u /* also allow clock_adjtime (clock system) */
/* Test mode: a call off the list is not made; it fails with ENOSYS, its
 * name goes to stderr once ("seccomp trap: system call NAME (N) is not
 * allowed") and its number is recorded (sandbox_trapped), so that a test
 * fails naming the missing call instead of finding a dead daemon. tempusd
 * uses it when the environment has TEMPUS_SECCOMP_TRAP=1. */
#define SANDBOX_TRAP 0x2u

/* Confine the calling process and every thread it starts later (flags:
 * SANDBOX_*). Returns the number of system calls allowed, or -1 (logged)
 * if the kernel cannot kill a process on a forbidden call; any other
 * failure is fatal. Irreversible. */
int sandbox_install(unsigned flags);
/* Under SANDBOX_TRAP: the distinct calls trapped so far, in the order first
 * seen; their numbers go to nrs[0..max). Returns how many there are (0
 * without the test mode). Async-signal-safe. */
unsigned sandbox_trapped(int *nrs, unsigned max);
/* tempusd after start-up: nothing under `seccomp off`; else sandbox_install
 * for conf's clock (in the test mode when TEMPUS_SECCOMP_TRAP=1). A kernel without seccomp is a warning when the config
 * leaves seccomp at its default, fatal when it says `seccomp on`. */
void sandbox_apply(const struct conf *conf);

#endif
