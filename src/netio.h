/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_NETIO_H
#define TEMPUS_NETIO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"

/* UDP sockets with kernel receive timestamps, through plain POSIX calls
 * (socket, fcntl, recvmsg, sendmsg) so it runs on any kernel and under
 * syscall-interposing tools. The socket calls go through sysio, which the
 * whole-daemon simulator replaces with its simulated network. */

/* One datagram in or out. */
struct netio_msg {
    uint8_t *buf;
    size_t cap; /* bytes available in buf */
    size_t len; /* bytes received; 0 also for a truncated datagram */
    int truncated; /* longer than cap: cut short by the kernel (len 0) */
    struct netaddr peer;
    uint16_t peer_port;
    struct netaddr local; /* destination address of a received datagram */
    int have_local;
    int ifindex;
    struct timespec rx_kernel; /* CLOCK_REALTIME kernel timestamp */
    int have_ts;               /* 0: the kernel sent none; use clock_now */
};

/* Open a non-blocking UDP socket of family (AF_INET/AF_INET6) bound to addr
 * (NULL: any address) and port, restricted to device if device is non-empty,
 * IPv6 sockets v6-only, asking for receive timestamps (and, when addr is
 * NULL, for destination addresses). Returns the fd, or -1 (logged). */
int netio_open_udp(int family, const struct netaddr *addr, uint16_t port, const char *device);
/* Close a socket netio_open_udp opened. */
void netio_close(int fd);
/* The address the kernel would send from to reach peer:port (a routing
 * lookup through a connected throwaway socket; no packet is sent). Returns
 * 0 with *out set, or -1. */
int netio_source_addr(const struct netaddr *peer, uint16_t port, struct netaddr *out);
/* Ask for a receive buffer of bytes (past rmem_max when privileged), so
 * bursts are queued rather than dropped. Returns the size the kernel set. */
int netio_set_rcvbuf(int fd, int bytes);
/* Receive one datagram into m (m->buf, m->cap set by the caller). Returns 1
 * with m filled, 0 if nothing is waiting, -1 on an error (logged at debug). */
int netio_recv(int fd, struct netio_msg *m);
/* Send len bytes of buf to m->peer:m->peer_port, from m->local when
 * m->have_local. Returns 0 or -1. */
int netio_send(int fd, const struct netio_msg *m, const uint8_t *buf, size_t len);
/* Batched I/O with Linux recvmmsg/sendmmsg: the fast path the server uses
 * with `serverbatch` above 1. The single calls above are the portable path,
 * and what a caller falls back to when these fail with ENOSYS. */
#define NETIO_BATCH_MAX 64
/* Receive up to n (<= NETIO_BATCH_MAX) datagrams into m[0..n) (buf and cap
 * of each set by the caller) in one call. Returns how many, each filled as
 * netio_recv fills one; 0 if nothing is waiting; -1 on an error (errno
 * kept). */
int netio_recv_batch(int fd, struct netio_msg *m, unsigned n);
/* One datagram to send: len bytes of buf to to->peer, from to->local when
 * to->have_local. */
struct netio_out {
    const struct netio_msg *to;
    const uint8_t *buf;
    size_t len;
};
/* Send out[0..n) (n <= NETIO_BATCH_MAX) in as few calls as the kernel
 * allows; a datagram it refuses is dropped and the rest still go. Returns
 * how many were sent, or -1 if the call itself failed (errno kept). */
int netio_send_batch(int fd, const struct netio_out *out, unsigned n);
/* Which kind of receive timestamp the socket got: "SO_TIMESTAMPING",
 * "SO_TIMESTAMPNS", "SO_TIMESTAMP" or "none". */
const char *netio_ts_kind(int fd);

#endif
