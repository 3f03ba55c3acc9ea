/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_NTS_KE_WORKER_H
#define TEMPUS_NTS_KE_WORKER_H

#include <stdio.h>

#include "addr.h"
#include "conf.h"
#include "nts_tls.h"

/* NTS-KE client exchanges off the event loop. The trust store is read once
 * at start (before the privilege drop and the sandbox); each exchange runs
 * nts_tls_client_run (TCP, TLS 1.3, bounded by one deadline) on a
 * short-lived thread of its own, so a slow or silent KE server delays
 * nothing but its own source, and the result comes back through a pipe
 * that the loop (sched) reads: the callback runs in the loop. */

#define NTS_KE_WORKER_MAX 16          /* exchanges in flight at once */
#define NTS_KE_WORKER_TIMEOUT_MS 8000 /* each, connect to keys */

/* status: NTS_KE_OK (r holds keys and cookies, valid during the call) or
 * an nts_ke / nts_tls status with a one-line reason in err. */
typedef void (*nts_ke_worker_fn)(void *arg, int status, const struct nts_ke_result *r,
                                 const char *err);

/* 1 if conf needs an NTS-KE client (a source with nts). */
int nts_ke_worker_needed(const struct conf *conf);
/* Read the trust store conf names (ntstrustedcerts, else the system's) if
 * conf needs it, without keeping it: for tempusd -n. Returns 0, or -1 with
 * a file:line message on errs. */
int nts_ke_worker_check(const struct conf *conf, FILE *errs);
/* Read the trust store (if conf needs it) and register the answer pipe
 * with sched (after sched_init). Fatal (file:line) if the store cannot be
 * read. Starts no thread. */
void nts_ke_worker_init(const struct conf *conf);
/* What a reload cannot take over (the trust store is read only at start):
 * changed ntstrustedcerts, or a first NTS source when none had a store
 * loaded. Returns 0, or -1 with a file:line message on errs. */
int nts_ke_worker_reload_check(const struct conf *old, const struct conf *next, FILE *errs);
/* Stop delivering answers and free the trust store; exchanges still
 * running finish on their own. */
void nts_ke_worker_fini(void);
/* Run a key exchange with the NTS-KE server at a:port whose certificate
 * must name name; fn(arg, ...) runs later in the loop. Returns 0, or -1
 * (logged) without a trust store, with NTS_KE_WORKER_MAX exchanges in
 * flight, or if no thread could start: fn is then not called. */
int nts_ke_worker_start(const char *name, const struct netaddr *a, uint16_t port,
                        nts_ke_worker_fn fn, void *arg);
/* Cancel the callbacks still pending for arg (its owner is going away). */
void nts_ke_worker_cancel(void *arg);

#endif
