/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_SERVICE_H
#define TEMPUS_SERVICE_H

#include <stdio.h>

#include "conf.h"
#include "ctl_proto.h"

/* The running daemon: every module started in a fixed order from a config,
 * the control commands, and reload. tempusd_main.c only parses options,
 * daemonizes and runs the loop. */
struct service;
struct sync;

/* What service_open would refuse in conf short of opening sockets (access
 * rules, key file and key ids, `user`): 0 if nothing, else -1 with every
 * reason on errs as file:line: message. tempusd -n runs exactly this. */
int service_check(const struct conf *conf, FILE *errs);
/* First phase: clock, server, sockets, control socket, metrics endpoint.
 * Fatal (with a message) if something the config asks for cannot be set up.
 * Takes ownership of conf. Creates no thread, so the caller may fork next. */
struct service *service_open(struct conf *conf, int foreground);
/* Second phase, after any fork: upstream sources (resolver threads). */
void service_start(struct service *sv);
/* Stop everything in reverse order; saves the drift file. */
void service_close(struct service *sv);
/* Re-read the config file. Any error keeps the running configuration and
 * is written to out as error records; returns 0 if applied, -1 if not. */
int service_reload(struct service *sv, struct ctl_buf *out);
/* The system state the daemon keeps (not owned): for the whole-daemon
 * simulator, which checks it against true time. */
struct sync *service_sync(struct service *sv);

#endif
