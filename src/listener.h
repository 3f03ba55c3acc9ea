/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_LISTENER_H
#define TEMPUS_LISTENER_H

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

/* Open the sockets conf asks for (bindaddress list, or any IPv4 and IPv6
 * address; binddevice) and register them with sched. Returns NULL (logged)
 * if conf->port is nonzero and no socket could be opened. With port 0 it
 * returns a listener with no sockets. */
struct listener *listener_open(const struct conf *conf, struct server *srv, struct clock *clk);
/* Unregister and close every socket. */
void listener_close(struct listener *l);
/* Datagrams per recvmmsg/sendmmsg from now on (serverbatch; 1..64): 1 is
 * the portable recvmsg/sendmsg path. */
void listener_set_batch(struct listener *l, unsigned batch);
/* Number of open sockets. */
unsigned listener_count(const struct listener *l);

#endif
