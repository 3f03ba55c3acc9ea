/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_NTS_CLIENT_H
#define TEMPUS_NTS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "nts_ef.h"
#include "nts_tls.h"

/* The NTS state of one upstream source, without I/O: the keys and cookie
 * jar of the last key exchange, the one outstanding request's UID, and
 * when the next key exchange may run. The driver runs the key exchange
 * (nts_tls, outside the NTP loop) when nts_client_need_ke says so, and
 * passes every request and reply through here. Times are seconds on any
 * monotonic scale; random bytes come from the caller. */

#define NTS_CLIENT_BACKOFF_MIN 16.0   /* seconds after a first failed KE */
#define NTS_CLIENT_BACKOFF_MAX 3600.0 /* doubling stops here */

struct nts_client;

/* What the client holds, for views and tests. */
struct nts_client_info {
    int have_keys;
    unsigned cookies;      /* in the jar */
    uint16_t aead;         /* of the keys held; 0 without keys */
    unsigned kes;          /* successful key exchanges */
    unsigned ke_failures;  /* failed ones, in a row */
    unsigned naks;         /* NTS NAKs received */
    unsigned replies_ok;   /* authenticated replies */
    unsigned replies_bad;  /* replies refused (UID, authenticator, shape) */
    double next_ke;        /* earliest time of the next key exchange */
};

/* A client with no keys; never NULL (allocation failure is fatal). */
struct nts_client *nts_client_new(void);
/* Wipe the keys and free. NULL is fine. */
void nts_client_free(struct nts_client *c);
/* Take the result of a successful key exchange at now: its keys and
 * cookies replace whatever was held, the failure count and backoff reset. */
void nts_client_ke_done(struct nts_client *c, const struct nts_ke_result *ke, double now);
/* A key exchange failed at now: the next one waits NTS_CLIENT_BACKOFF_MIN
 * seconds, doubling with each failure in a row up to
 * NTS_CLIENT_BACKOFF_MAX. */
void nts_client_ke_failed(struct nts_client *c, double now);
/* 1 if a key exchange should run now: no keys (never had any, or a NAK
 * dropped them), no cookie left, or a NAK not followed by an authenticated
 * reply, and the backoff has passed. */
int nts_client_need_ke(const struct nts_client *c, double now);
/* Add the NTS fields to the request header in pkt[0..len): the oldest
 * cookie (spent whatever happens), placeholders to refill the jar to
 * NTS_COOKIES_MAX, uid and nonce from the caller's random bytes. The uid
 * is remembered as the one outstanding request (a new request replaces
 * it). A NAK still standing (no authenticated reply since) drops the keys
 * and cookies first. Returns the new length, or 0 without keys or cookies
 * or room. */
size_t nts_client_request(struct nts_client *c, uint8_t *pkt, size_t len, size_t cap,
                          const uint8_t uid[NTS_UID_LEN], const uint8_t nonce[NTS_NONCE_LEN]);
/* Check a reply to the outstanding request (nts_ef_client_reply). On
 * NTS_EF_OK the new cookies go into the jar and the request is no longer
 * outstanding, so a replayed copy fails with NTS_EF_E_UID. On NTS_EF_NAK
 * (unauthenticated, so possibly forged) the request stays outstanding: an
 * authenticated reply to it cancels the NAK; otherwise the next request
 * drops keys and cookies and nts_client_need_ke asks for a new exchange
 * (RFC 8915 section 5.7). Returns the nts_ef status; without an
 * outstanding request, NTS_EF_E_UID. */
int nts_client_reply(struct nts_client *c, const uint8_t *pkt, size_t len);
/* The counters and state above. */
void nts_client_get_info(const struct nts_client *c, struct nts_client_info *out);

#endif
