/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_NTS_KE_SERVER_H
#define TEMPUS_NTS_KE_SERVER_H

#include <stdint.h>

#include "maxima.h"
#include "nts_cookie.h"

/* An NTS-KE server that never stalls its caller: one acceptor thread and
 * a fixed pool of worker threads, each serving one connection at a time
 * through nts_tls_serve with an overall deadline. Connections are shed at
 * once (closed without a handshake) when every worker is busy and the
 * queue is full, or when their source address already holds its share of
 * connections, so a slowloris from one address cannot take the pool. The
 * cookie ring is copied under a lock at the start of each session, so it
 * can rotate while the server runs. The acceptor serves every listening
 * socket it is given (one per bindaddress). */

#define NTS_KE_SERVER_LISTEN_MAX MAXIMA_BINDADDRS

struct nts_ke_server;

struct nts_ke_server_conf {
    int listen_fd[NTS_KE_SERVER_LISTEN_MAX]; /* listening TCP sockets; closed at stop */
    unsigned nlisten;                        /* 1..NTS_KE_SERVER_LISTEN_MAX */
    void *tls;              /* from nts_tls_server_new; stays the caller's */
    unsigned workers;       /* 1..64 */
    unsigned queue;         /* accepted connections waiting for a worker, 1..1024 */
    unsigned per_address;   /* connections one address may hold (active + queued) */
    int timeout_ms;         /* per connection, handshake to last byte */
    const char *ntp_server; /* server record, NULL for none */
    uint16_t ntp_port;      /* port record, 0 for none */
};

struct nts_ke_server_stats {
    unsigned long accepted;     /* connections given to a worker or queued */
    unsigned long shed_busy;    /* closed at once: workers and queue full */
    unsigned long shed_address; /* closed at once: the address held its share */
    unsigned long served;       /* key exchanges that ended with cookies */
    unsigned long failed;       /* handshakes, requests or timeouts that failed */
};

/* Start the threads serving conf->listen_fd[] with ring's keys. Returns the
 * server, or NULL if a value is out of range or a thread cannot start. */
struct nts_ke_server *nts_ke_server_start(const struct nts_ke_server_conf *conf,
                                          const struct nts_cookie_ring *ring);
/* Serve sessions that start from now on with tls (from nts_tls_server_new:
 * a renewed certificate). The caller keeps its references to both the new
 * and the old context and may free the old one at once: a running session
 * holds a reference of its own. */
void nts_ke_server_set_tls(struct nts_ke_server *s, void *tls);
/* Replace the cookie ring used by sessions that start from now on. */
void nts_ke_server_set_ring(struct nts_ke_server *s, const struct nts_cookie_ring *ring);
/* A snapshot of the counters. */
void nts_ke_server_get_stats(struct nts_ke_server *s, struct nts_ke_server_stats *out);
/* Stop accepting, let running sessions end (each within its timeout),
 * close queued connections and the listening socket, join the threads and
 * free. NULL is fine. */
void nts_ke_server_stop(struct nts_ke_server *s);

#endif
