/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_NTS_COOKIE_H
#define TEMPUS_NTS_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "nts_aead.h"

/* NTS cookies of an NTS server (RFC 8915 section 6 leaves the format to
 * the server). Ours is 100 bytes, as long as chrony's, so that a reply to
 * a chrony client is never longer than its request:
 *   key id (4) | nonce (12) | AES-SIV(server key, AD = {key id, nonce},
 *       AEAD id (2) | zero (2) | C2S key (32) | S2C key (32))   (16 + 68)
 * SIV needs no unique nonce for its security (a repeated one only shows
 * that two cookies hold the same keys), so 96 random bits are plenty.
 * A keyring holds the current server key and the one before it, so a
 * client's cookies survive one rotation. Keys and nonces come from the
 * caller (pure code: the daemon draws them from getrandom, tests choose
 * them). A keyring is a plain value: copy it, wipe it with
 * nts_cookie_ring_clear. */

#define NTS_COOKIE_LEN 100
#define NTS_COOKIE_NONCE_LEN 12
#define NTS_COOKIE_RING 2 /* the current key and the previous one */

struct nts_cookie_key {
    uint32_t id; /* 0: slot empty */
    uint8_t key[NTS_AEAD_KEY_LEN];
};

struct nts_cookie_ring {
    struct nts_cookie_key keys[NTS_COOKIE_RING]; /* [0] current, [1] previous */
};

/* What a cookie carries: the keys of one client's association. */
struct nts_cookie_data {
    uint16_t aead;
    uint8_t c2s[NTS_AEAD_KEY_LEN];
    uint8_t s2c[NTS_AEAD_KEY_LEN];
};

/* Make key the current one (id != 0 and different from the current id);
 * the current key becomes the previous one and the previous is wiped.
 * Returns 0, or -1 if id is 0 or already in the ring. */
int nts_cookie_rotate(struct nts_cookie_ring *ring, uint32_t id,
                      const uint8_t key[NTS_AEAD_KEY_LEN]);
/* Seal d into a cookie under the current key with nonce; writes
 * NTS_COOKIE_LEN bytes to out (cap bytes) and returns that length, or 0 if
 * the ring has no key, cap is too small or the crypto library fails. */
size_t nts_cookie_make(const struct nts_cookie_ring *ring, const struct nts_cookie_data *d,
                       const uint8_t nonce[NTS_COOKIE_NONCE_LEN], uint8_t *out, size_t cap);
/* Open a cookie from the wire: the right length, a key id in the ring, a
 * tag that verifies and zero reserved bytes. Returns 0 with *d filled, or
 * -1 (*d wiped). */
int nts_cookie_open(const struct nts_cookie_ring *ring, const uint8_t *cookie, size_t len,
                    struct nts_cookie_data *d);
/* Wipe every key of the ring (not optimised away). */
void nts_cookie_ring_clear(struct nts_cookie_ring *ring);

#endif
