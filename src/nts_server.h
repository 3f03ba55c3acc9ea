/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_NTS_SERVER_H
#define TEMPUS_NTS_SERVER_H

#include <stdio.h>

#include "conf.h"
#include "ctl_proto.h"
#include "nts_cookie.h"
#include "server.h"

/* The daemon's NTS serving state (RFC 8915): the TLS context and the
 * NTS-KE listening socket, made before privileges are dropped; the KE
 * threads (nts_ke_server), started under the sandbox; the cookie keys,
 * drawn from getrandom and rotated every ntsrotate seconds by an event
 * loop timer, or read from the ntskeysfile that the servers of a pair
 * share; and what the NTP server (server.c) is given to serve NTS with.
 * Only the event loop's thread calls these. */

struct nts_server;

/* tempusd -n: the certificate and key load and match, the keys file reads.
 * Nothing without an NTS server in conf. Errors on errs as file:line;
 * returns 0 or -1. */
int nts_server_check(const struct conf *conf, FILE *errs);
/* Read the certificate and key, bind and listen on the NTS-KE port, make
 * or read the first cookie keys: all before the privilege drop. Returns
 * NULL when conf has no NTS server; exits (fatal, file:line) when it has
 * one that cannot be set up. */
struct nts_server *nts_server_open(const struct conf *conf);
/* Start serving: the KE threads (after the sandbox, so that they run
 * under it), srv given the keys and policy, the rotation timer armed.
 * ns NULL is fine (srv serves no NTS). */
void nts_server_start(struct nts_server *ns, struct server *srv);
/* Stop the threads, close the socket, wipe the keys, free. NULL is fine. */
void nts_server_close(struct nts_server *ns);

/* Reload, in two steps like the rest of the service: check what nc asks
 * against what runs (the KE port, workers, server record and NTP port are
 * fixed at start: a change is refused, file:line on errs), read the
 * certificate and key again into a staged TLS context and the keys file
 * into a staged ring; returns 0 or -1 (nothing changed). Then commit
 * (certificate, policy, rotation period, staged keys take effect; KE
 * sessions already running finish with the old certificate) or abort. ns
 * may be NULL (no NTS server runs). */
int nts_server_reload_prepare(struct nts_server *ns, const struct conf *oc, const struct conf *nc,
                              FILE *errs);
void nts_server_reload_commit(struct nts_server *ns, const struct conf *nc);
void nts_server_reload_abort(struct nts_server *ns);

/* An "ntsserver" record: KE connections accepted, shed, served, failed;
 * the current key id and rotations. Nothing for ns NULL. */
void nts_server_report(struct ctl_buf *b, struct nts_server *ns);

/* Read a keys file: one or two lines "ID HEX", the current key first
 * (ID 1..4294967295, HEX 64 hex digits), '#' comments. Returns 0 with
 * *ring set, or -1 with "path:line: message" on errs. */
int nts_server_read_keys(const char *path, FILE *errs, struct nts_cookie_ring *ring);

#endif
