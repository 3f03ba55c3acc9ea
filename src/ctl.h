/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_CTL_H
#define TEMPUS_CTL_H

#include "ctl_proto.h"
#include "maxima.h"

/* The control socket: a Unix stream socket served by the event loop. One
 * request per connection; the reply is written without ever blocking the
 * loop; a connection that sends anything malformed or oversize, or takes
 * longer than CTL_DEADLINE seconds, is closed and nothing else happens. */

#define CTL_DEADLINE 5.0
#define CTL_MAX_CONNECTIONS MAXIMA_CTL_CONNECTIONS
#define CTL_MAX_ARGS 8

/* Answer one command (argv[0]) into out; set *error for a CTL_REPLY_ERROR. */
typedef void (*ctl_command_fn)(void *arg, int argc, char **argv, struct ctl_buf *out,
                               int *error);

struct ctl_server;

/* Create the socket at path (replacing a stale one), mode 0660, group
 * group if not NULL, and serve it. Returns NULL (logged) on failure. */
struct ctl_server *ctl_create(const char *path, const char *group, ctl_command_fn fn, void *arg);
/* Close every connection, the socket, and unlink the path. */
void ctl_destroy(struct ctl_server *cs);

#endif
