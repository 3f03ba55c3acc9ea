/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_LISTENER_H
#define TEMPUS_LISTENER_H

#include <stdio.h>

#include "clock.h"
#include "conf.h"
#include "server.h"

/* The server's sockets in the event loop: read each datagram, timestamp it,
 * let server_handle decide, stamp the transmit time as late as possible
 * (then sign, when the request was authenticated: server_finish) and send.
 * With a batch above 1, requests come and replies go in batches of up to
 * that many (recvmmsg/sendmmsg), each reply stamped just before the send;
 * where the kernel has no recvmmsg it falls back to one at a time. */
struct listener;

/* The sockets conf asks for (the bindaddress list, each of which must be
 * bound, or any IPv4 address and, if possible, any IPv6 address;
 * binddevice), not yet in the event loop. A socket old (NULL: none) has
 * for the same address, port and device is taken over instead of opened
 * again, so a reload can bind the rest while the old ones still serve.
 * Returns NULL if a socket cannot be opened, with one "path:line: message"
 * per failure written to errs (if not NULL) and errno EADDRINUSE when an
 * address was in use (perhaps by old's other sockets); old is untouched.
 * With port 0 it returns a listener with no sockets. */
struct listener *listener_prepare(const struct conf *conf, struct server *srv, struct clock *clk,
                                  const struct listener *old, FILE *errs);
/* Serve with l from now on in place of old (NULL: none): old's sockets that
 * l did not take over are closed, and old is freed. */
void listener_commit(struct listener *l, struct listener *old);
/* Drop a prepared listener that was not committed (NULL is fine): only the
 * sockets it opened itself are closed. */
void listener_abort(struct listener *l);
/* Unregister and close every socket of a committed listener. */
void listener_close(struct listener *l);
/* Datagrams per recvmmsg/sendmmsg from now on (serverbatch; 1..64): 1 is
 * the portable recvmsg/sendmsg path. */
void listener_set_batch(struct listener *l, unsigned batch);
/* Number of open sockets. */
unsigned listener_count(const struct listener *l);

#endif
