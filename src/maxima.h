/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_MAXIMA_H
#define TEMPUS_MAXIMA_H

/* Every fixed-size table of the daemon, in one place, so that the ones
 * sized from others add up (tempus.conf(5) and tempusctl(8) give the same
 * figures; system test 290-limits runs at all of them at once). */

/* `bindaddress` lines (conf.c), and the server sockets they give: one per
 * address, or the IPv4 and IPv6 wildcards without any (listener.c). */
#define MAXIMA_BINDADDRS 16
#define MAXIMA_SERVER_SOCKS (MAXIMA_BINDADDRS + 2)
/* `server` and `pool` lines (conf_upstream.c, upstream.c). */
#define MAXIMA_SERVER_LINES 32
/* Upstream sources, a pool counting as each of its addresses: one socket
 * each (upstream.c), and the selection's table (select.h). */
#define MAXIMA_SOURCES 64
/* `refclock` lines (conf_refclock.c, refclock.c): each a source in the
 * selection's table besides MAXIMA_SOURCES, and at most one descriptor. */
#define MAXIMA_REFCLOCKS 8
/* Control connections at once (ctl.c), each with its own socket. */
#define MAXIMA_CTL_CONNECTIONS 8
/* Metrics connections at once (http.c). */
#define MAXIMA_HTTP_CONNECTIONS 16

/* The event loop's descriptors (sched.c): the signal pipe, the resolver's
 * pipe, every server socket, every source, every refclock, the control socket and its
 * connections, and the metrics socket and its connections, with a second
 * metrics socket: a reload binds the new endpoint before the old one
 * closes. New server sockets enter the loop only after the old ones left
 * it (listener_commit), and sources are removed before others are added
 * (upstream_reconfigure), so neither needs room twice. */
#define MAXIMA_SCHED_FDS                                                                           \
    (2 + MAXIMA_SERVER_SOCKS + MAXIMA_SOURCES + MAXIMA_REFCLOCKS +                               \
     (1 + MAXIMA_CTL_CONNECTIONS) + (2 + MAXIMA_HTTP_CONNECTIONS))

#endif
