/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_SERVER_H
#define TEMPUS_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "acl.h"
#include "addr.h"
#include "keys.h"
#include "nts_cookie.h"
#include "ratelimit.h"
#include "smear.h"

/* The server's request -> reply decision and construction. No I/O: netio
 * hands it a datagram and gets back bytes to send (or nothing). */

/* What the server advertises about its own time. */
struct server_ref {
    int synced;        /* 0: leap 3, stratum 0, refid 0 ("unsynchronised") */
    int leap;          /* NTP_LEAP_* while synced */
    int stratum;       /* 1..15 while synced */
    uint32_t refid;
    double root_delay; /* seconds */
    double root_dispersion;
    struct timespec ref_time; /* last update of the reference */
};

/* leapsmear: what the server serves instead of a leap second. */
struct server_smear {
    int on;             /* leapsmear configured: the leap indicator is never
                         * served (clients must not apply the leap) */
    struct smear s;     /* s.leap 0: no smear in progress */
    int64_t leap_mono;  /* the leap on the monotonic clock, ns: at and after
                         * it the clock is read on the count after the leap */
    double debt;        /* s the clock still reads on the old count after the
                         * leap (leap, until a step takes it; 0: it did) */
};

enum server_family { SERVER_V4, SERVER_V6, SERVER_NFAMILIES };

/* Counters of what happened to requests, per address family. */
struct server_stats {
    uint64_t received[SERVER_NFAMILIES];
    uint64_t answered[SERVER_NFAMILIES];
    uint64_t denied[SERVER_NFAMILIES];      /* no allow rule */
    uint64_t ratelimited[SERVER_NFAMILIES]; /* dropped by the limiter */
    uint64_t kod_sent[SERVER_NFAMILIES];    /* RATE kiss-o'-death sent */
    uint64_t malformed[SERVER_NFAMILIES];   /* short, bad lengths, bad version */
    uint64_t wrong_mode[SERVER_NFAMILIES];  /* not client mode (incl. 6/7) */
    uint64_t control[SERVER_NFAMILIES];     /* mode 6/7 of any length (subset of wrong_mode) */
    uint64_t auth_dropped[SERVER_NFAMILIES]; /* MAC ignored: no trustedkeys, key id 0
                                              * or no supported size; no reply */
    uint64_t auth_failed[SERVER_NFAMILIES];  /* MAC did not verify (unknown or
                                              * untrusted key, wrong digest): crypto-NAK */
    uint64_t auth_ok[SERVER_NFAMILIES];      /* answered with a MAC (subset of answered
                                              * and kod) */
    uint64_t empty[SERVER_NFAMILIES];        /* datagrams of 0 bytes */
    uint64_t oversized[SERVER_NFAMILIES];    /* longer than NTP_MAX_PACKET (the kernel
                                              * cut them short) */
    /* NTS (RFC 8915), while an NTS server is configured. */
    uint64_t nts_ok[SERVER_NFAMILIES];         /* answered with NTS (subset of answered) */
    uint64_t nts_nak[SERVER_NFAMILIES];        /* NTS NAK sent (cookie or authenticator bad) */
    uint64_t nts_bad_cookie[SERVER_NFAMILIES]; /* the cookie did not open (old or foreign key) */
    uint64_t nts_auth_failed[SERVER_NFAMILIES]; /* the cookie opened, the authenticator
                                                 * did not verify (altered, wrong key) */
    uint64_t nts_malformed[SERVER_NFAMILIES];  /* NTS fields missing, repeated or misplaced:
                                                * dropped */
    uint64_t plain_refused[SERVER_NFAMILIES];  /* plain requests refused by ntsplain */
};

enum server_verdict {
    SERVER_REPLY,      /* reply holds a normal answer */
    SERVER_REPLY_KOD,  /* reply holds a RATE kiss-o'-death */
    SERVER_REPLY_NAK,  /* reply holds a crypto-NAK: no time, key id 0 */
    SERVER_REPLY_NTS,  /* reply holds an NTS answer, sealed by server_finish */
    SERVER_REPLY_NTSN, /* reply holds an NTS NAK (kiss NTSN): no time */
    SERVER_DROP,       /* send nothing */
};

/* ntsplain: what an NTS server does with requests that carry neither NTS
 * nor a MAC (same order as conf's). */
enum server_ntsplain { SERVER_PLAIN_SERVE, SERVER_PLAIN_DROP, SERVER_PLAIN_NAK };
/* Fill buf with len unpredictable bytes; 0, or -1 if none can be had. */
typedef int (*server_rand_fn)(void *buf, size_t len);

struct server;

/* New server over an ACL and a rate limiter it does not own. precision is
 * the log2-seconds value to advertise. Never NULL. */
struct server *server_create(struct acl *acl, struct ratelimit *rl, int precision);
void server_destroy(struct server *srv);
/* Replace the ACL / limiter / reference (reload, upstream updates). */
void server_set_acl(struct server *srv, struct acl *acl);
void server_set_ratelimit(struct server *srv, struct ratelimit *rl);
void server_set_ref(struct server *srv, const struct server_ref *ref);
const struct server_ref *server_get_ref(const struct server *srv);
/* Replace the leap smear (copied). Receive, transmit and reference times
 * are served smeared, and the leap indicator hidden, while it is on. */
void server_set_smear(struct server *srv, const struct server_smear *sm);
/* Symmetric-key authentication: keys (not owned, NULL for none) and the ids
 * clients may use (copied). Only a key both listed and present is used. */
void server_set_auth(struct server *srv, const struct keys *keys, const uint32_t *trusted,
                     unsigned n_trusted);

/* Serve NTS with ring's cookie keys (copied; NULL: serve no NTS, as
 * before), plain requests as policy says, nonces for cookies and replies
 * from rnd. A request with NTS fields whose cookie does not open, or whose
 * authenticator does not verify, gets an NTS NAK; one whose fields are
 * malformed is dropped. NTS requests pass the ACL and the rate limiter
 * like any other; over the limit they get nothing (an unauthenticated
 * RATE kiss is one an NTS client must ignore). */
void server_set_nts(struct server *srv, const struct nts_cookie_ring *ring,
                    enum server_ntsplain policy, server_rand_fn rnd);

/* Decide on one request of len bytes from client, received at rx (served
 * clock) and monotonic now_ns. On SERVER_REPLY*, *reply_len bytes of reply
 * are in reply (cap bytes available); the transmit timestamp and the MAC of
 * an authenticated reply are left for server_finish. A request with a MAC
 * that verifies with a trusted key gets a reply (or RATE kiss) with a MAC by
 * the same key and of the same length (truncated, or an NTPv3 request's
 * whole digest); one whose MAC does not verify gets a crypto-NAK carrying
 * no time. A reply is never longer than the request. */
enum server_verdict server_handle(struct server *srv, const uint8_t *req, size_t len,
                                  const struct netaddr *client, const struct timespec *rx,
                                  int64_t now_ns, uint8_t *reply, size_t cap,
                                  size_t *reply_len);
/* Count a datagram that never reaches server_handle: an empty one, or
 * (oversized) one longer than any NTP packet, cut short by the kernel.
 * Counted in received, in its own counter and in the abuse summary. */
void server_count_unusable(struct server *srv, const struct netaddr *client, int oversized);
/* Complete a reply of verdict v just before it is sent: stamp tx (for
 * SERVER_REPLY and SERVER_REPLY_NTS; tx may be NULL for the others), then
 * compute its MAC if it has one, or seal its NTS authenticator (with the
 * key server_handle kept for this reply buffer: at most NETIO_BATCH_MAX
 * NTS replies may wait between the two calls). Returns 0, or -1 (logged) if the MAC could not be computed and
 * nothing must be sent. */
int server_finish(struct server *srv, enum server_verdict v, uint8_t *reply, size_t len,
                  const struct timespec *tx);
/* Write the transmit timestamp into a reply (no MAC) just before it is sent. */
void server_stamp_tx(uint8_t *reply, size_t len, const struct timespec *tx);
/* Copy the counters. */
void server_get_stats(const struct server *srv, struct server_stats *out);
/* Log every counter on one line: "stats: received_v4=N received_v6=N ...". */
void server_log_stats(const struct server *srv);
/* Log one summary line per kind of refused traffic seen since the last call
 * (denied, rate-limited, control queries), then reset those interval counts. */
void server_log_abuse(struct server *srv);

#endif
