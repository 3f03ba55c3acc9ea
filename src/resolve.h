/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_RESOLVE_H
#define TEMPUS_RESOLVE_H

#include "addr.h"

/* Name resolution off the event loop: each request runs getaddrinfo on a
 * short-lived thread, which posts a fixed-size answer through a pipe that
 * the loop reads. Numeric addresses are answered the same way. */

#define RESOLVE_MAX_ADDRS 16

typedef void (*resolve_fn)(void *arg, const struct netaddr *addrs, int n);

/* Set up the answer pipe and register it with sched (after sched_init). */
void resolve_init(void);
/* Stop delivering answers; threads still running finish on their own. */
void resolve_fini(void);
/* Resolve name (UDP addresses of both families, at most RESOLVE_MAX_ADDRS);
 * fn(arg, addrs, n) runs later in the loop, n = 0 when nothing was found.
 * Returns 0, or -1 if no thread could be started (fn is not called). */
int resolve_start(const char *name, resolve_fn fn, void *arg);
/* Cancel the callbacks still pending for arg (its owner is going away). */
void resolve_cancel(void *arg);

#endif
