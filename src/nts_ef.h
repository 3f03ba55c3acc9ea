/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_NTS_EF_H
#define TEMPUS_NTS_EF_H

#include <stddef.h>
#include <stdint.h>

#include "nts_aead.h"
#include "nts_cookie.h"
#include "nts_ke.h"

/* The NTS extension fields of NTPv4 packets (RFC 8915 section 5): Unique
 * Identifier, NTS Cookie, Cookie Placeholder, and the Authenticator and
 * Encrypted Extension Fields, which must come last. The authenticator's
 * body is nonce length (2), ciphertext length (2), the nonce and the
 * ciphertext each padded to 4 bytes; the ciphertext is AES-SIV(key,
 * AD = {packet up to the authenticator, nonce}, extension fields to
 * hide). Pure code over caller-supplied buffers: the header (48 bytes,
 * ntp_wire) is the caller's, these functions add and check the fields
 * after it. Random UIDs and nonces come from the caller. */

#define NTS_EF_UID 0x0104
#define NTS_EF_COOKIE 0x0204
#define NTS_EF_PLACEHOLDER 0x0304
#define NTS_EF_AUTH 0x0404
#define NTS_UID_LEN 32   /* bytes of unique identifier we send */
#define NTS_NONCE_LEN 16 /* bytes of nonce we send */
#define NTS_EF_PLAIN_MAX 4096 /* bytes of encrypted fields we open */
#define NTS_NAK_REFID 0x4e54534eu /* "NTSN" */

enum nts_ef_status {
    NTS_EF_OK = 0,
    NTS_EF_NAK = 1,            /* client: an NTS NAK for our request */
    NTS_EF_E_MALFORMED = -1,   /* fields missing, repeated, misplaced or of bad length */
    NTS_EF_E_UID = -2,         /* client: not our unique identifier */
    NTS_EF_E_AUTH = -3,        /* the authenticator does not verify */
    NTS_EF_E_COOKIE = -4,      /* server: the cookie does not open */
};

/* A client request's NTS part. */
struct nts_ef_client_req {
    const uint8_t *uid; /* NTS_UID_LEN bytes */
    const uint8_t *cookie;
    size_t cookie_len;       /* 4..NTS_COOKIE_MAX, a multiple of 4 */
    unsigned n_placeholders; /* 0..NTS_COOKIES_MAX-1: asks for that many more cookies */
    const uint8_t *c2s;      /* NTS_AEAD_KEY_LEN bytes */
    const uint8_t *nonce;    /* NTS_NONCE_LEN bytes */
};

/* Cookies a reply brought, copied out of the decrypted fields. */
struct nts_ef_cookies {
    unsigned n;
    uint16_t len[NTS_COOKIES_MAX];
    uint8_t cookie[NTS_COOKIES_MAX][NTS_COOKIE_MAX];
};

/* A server's view of a request; pointers into the request packet. */
struct nts_ef_server_req {
    const uint8_t *uid;
    size_t uid_len;
    const uint8_t *cookie;
    size_t cookie_len;
    unsigned n_placeholders;
    size_t req_len;              /* the request's length: the most a reply may take */
    struct nts_cookie_data keys; /* from the cookie, valid for NTS_EF_OK and NTS_EF_E_AUTH */
};

/* Append UID, cookie, placeholders (bodies of cookie_len zero bytes) and
 * the authenticator (sealing nothing) to pkt[0..len), len >= 48. Returns
 * the new length, or 0 if it does not fit cap or an argument is out of
 * range. */
size_t nts_ef_client_request(uint8_t *pkt, size_t len, size_t cap,
                             const struct nts_ef_client_req *req);
/* Check a reply to a request sent with uid and s2c: an NTPv4 packet with
 * no MAC, exactly one UID field equal to uid, and either exactly one
 * authenticator, last, that verifies (NTS_EF_OK, the cookies inside it
 * copied to *out, at most NTS_COOKIES_MAX, of 4..NTS_COOKIE_MAX bytes) or,
 * for a stratum 0 NTSN kiss without authenticator, NTS_EF_NAK. Cookies
 * outside the encrypted part are ignored. Any other status: *out empty. */
int nts_ef_client_reply(const uint8_t *pkt, size_t len, const uint8_t uid[NTS_UID_LEN],
                        const uint8_t s2c[NTS_AEAD_KEY_LEN], struct nts_ef_cookies *out);
/* Check a request: NTPv4, no MAC, exactly one UID (32 bytes or more),
 * exactly one cookie, placeholders each as long as the cookie (at most
 * NTS_COOKIES_MAX - 1 counted), exactly one authenticator, last, its nonce
 * 16 bytes or more. Then open the cookie with ring (NTS_EF_E_COOKIE) and
 * verify the authenticator with its C2S key (NTS_EF_E_AUTH). Returns
 * NTS_EF_OK with *out filled; for NTS_EF_E_COOKIE and NTS_EF_E_AUTH out->uid
 * is set so that a NAK can be sent; for NTS_EF_E_MALFORMED nothing is. */
int nts_ef_server_request(const uint8_t *pkt, size_t len, const struct nts_cookie_ring *ring,
                          struct nts_ef_server_req *out);
/* Append to the reply header in pkt[0..len) the request's UID and an
 * authenticator under req->keys.s2c with nonce, whose encrypted part holds
 * the first of the n cookies (n at most 1 + req->n_placeholders) that fit
 * in req->req_len bytes: a reply is never longer than its request, even
 * when our cookies are longer than the client's. Returns the new length,
 * or 0 (n too large, a cookie of a bad length, or no room even for no
 * cookie). */
size_t nts_ef_server_reply(uint8_t *pkt, size_t len, size_t cap, const struct nts_ef_server_req *req,
                           const uint8_t *const *cookies, const size_t *cookie_len, unsigned n,
                           const uint8_t nonce[NTS_NONCE_LEN]);
/* nts_ef_server_reply in two steps, so that the header's transmit time
 * can be written after the cookies are made: the fields laid out with the
 * cookies in clear where their ciphertext goes (same rules and result
 * length; *auth_off is where the authenticator starts), then, once the
 * header is final, nts_ef_server_seal encrypts them in place under s2c
 * with the packet before the authenticator as AD. The unsealed packet
 * must not be sent. Seal returns 0, or -1 if pkt is not such a packet. */
size_t nts_ef_server_reply_open(uint8_t *pkt, size_t len, size_t cap,
                                const struct nts_ef_server_req *req,
                                const uint8_t *const *cookies, const size_t *cookie_len,
                                unsigned n, const uint8_t nonce[NTS_NONCE_LEN], size_t *auth_off);
int nts_ef_server_seal(uint8_t *pkt, size_t len, size_t auth_off,
                       const uint8_t s2c[NTS_AEAD_KEY_LEN]);
/* Turn the reply header in pkt[0..48) into an NTS NAK (stratum 0, refid
 * NTSN) and append the request's UID. Returns the new length, or 0. */
size_t nts_ef_nak(uint8_t *pkt, size_t len, size_t cap, const uint8_t *uid, size_t uid_len);

#endif
