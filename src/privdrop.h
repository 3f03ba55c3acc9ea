/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_PRIVDROP_H
#define TEMPUS_PRIVDROP_H

#include <stdio.h>

#include "conf.h"

/* Dropping privileges once the sockets and files are open. tempusd is one
 * process that keeps only the capabilities it uses: the one root-only thing
 * it does while running is clock_adjtime on CLOCK_REALTIME, which the
 * kernel allows with CAP_SYS_TIME alone (see tempusd(8), PRIVILEGES). */

/* Capabilities the daemon may keep (privdrop_to's keep argument). */
#define PRIVDROP_SYS_TIME 0x1u /* clock system: clock_adjtime that sets the clock */
#define PRIVDROP_NET_BIND 0x2u /* a port below 1024 that a reload may bind again */

/* 0 if conf's `user` (if any) exists and is not root; otherwise -1 with a
 * file:line message on errs. Part of service_check (tempusd -n). */
int privdrop_check_user(const struct conf *conf, FILE *errs);
/* The PRIVDROP_* capabilities conf needs. */
unsigned privdrop_needs(const struct conf *conf);
/* Become user (NULL: keep the current uid), its primary group as the only
 * group, with exactly the keep capabilities permitted and effective (fewer
 * if an unprivileged caller never had them), none inheritable or ambient,
 * the bounding set cut down to keep when allowed, and no_new_privs set.
 * Exits with a message (fatal) on any failure. */
void privdrop_to(const char *user, unsigned keep);
/* The daemon's drop: privdrop_to(conf->user, privdrop_needs(conf)), then a
 * warning for each file the daemon will need later but can no longer reach
 * (config and key file for reload, the drift file's directory). Fatal on
 * failure. */
void privdrop_apply(const struct conf *conf);

#endif
