/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_SANDBOX_H
#define TEMPUS_SANDBOX_H

#include "conf.h"

/* A seccomp allow-list of the system calls tempusd makes once it runs
 * (event loop, sockets, resolver threads, reload, drift file, logging,
 * shutdown). Any other call kills the whole process with SIGSYS. */

#define SANDBOX_CLOCK_ADJUST 0x1u /* also allow clock_adjtime (clock system) */

/* Confine the calling process and every thread it starts later (flags:
 * SANDBOX_*). Returns the number of system calls allowed, or -1 (logged)
 * if the kernel cannot kill a process on a forbidden call; any other
 * failure is fatal. Irreversible. */
int sandbox_install(unsigned flags);
/* tempusd after start-up: nothing under `seccomp off`; else sandbox_install
 * for conf's clock. A kernel without seccomp is a warning when the config
 * leaves seccomp at its default, fatal when it says `seccomp on`. */
void sandbox_apply(const struct conf *conf);

#endif
