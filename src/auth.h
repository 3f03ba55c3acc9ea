/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_AUTH_H
#define TEMPUS_AUTH_H

#include <stddef.h>
#include <stdint.h>

/* Symmetric-key MACs of NTP packets (RFC 5905 section 7.3, RFC 8573). A
 * MAC follows the header and extension fields: a 32-bit key id, then the
 * digest of everything before the key id.
 *   AES128, AES256 (RFC 8573): AES-CMAC(key, packet), 16 bytes.
 *   MD5, SHA1, SHA2, SHA3 (the legacy scheme): H(key || packet); digests
 *   longer than 20 bytes are cut to their first 20, the largest an NTPv4
 *   MAC may carry (RFC 7822), as chrony and ntpd do for NTPv4.
 * Digests are compared in constant time. No I/O and no global state but
 * OpenSSL's own. */

#define AUTH_KEY_MAX 128   /* bytes of key material we accept */
#define AUTH_DIGEST_MAX 20 /* bytes of digest in a MAC */
#define AUTH_KEYID_LEN 4

enum auth_type {
    AUTH_AES128,
    AUTH_AES256,
    AUTH_SHA1,
    AUTH_SHA256,
    AUTH_SHA384,
    AUTH_SHA512,
    AUTH_SHA3_224,
    AUTH_SHA3_256,
    AUTH_SHA3_384,
    AUTH_SHA3_512,
    AUTH_MD5,
    AUTH_NTYPES
};

/* One key as the key file gives it. Callers may copy it by value; wipe
 * copies with auth_key_clear when done. */
struct auth_key {
    uint32_t id; /* 1..2^32-1 */
    enum auth_type type;
    size_t len; /* bytes used in key */
    uint8_t key[AUTH_KEY_MAX];
};

/* Type from its key-file name, case-insensitive ("AES128", "SHA1", ...);
 * returns 0, or -1 if the name is not a supported type. */
int auth_type_from_name(const char *name, enum auth_type *out);
/* Key-file name of a type ("AES128", ...); never NULL. */
const char *auth_type_name(enum auth_type type);
/* Bytes of digest a MAC of this type carries: 16 or 20. */
size_t auth_digest_len(enum auth_type type);
/* Key length a cipher type requires (16 or 32 bytes); 0 for hash types,
 * which take keys of any length. */
size_t auth_cipher_key_len(enum auth_type type);
/* 1 for types kept only for interoperability and unfit for new keys (MD5). */
int auth_type_weak(enum auth_type type);

/* Digest of data[0..len) under key, written to out (cap bytes); returns the
 * digest length (auth_digest_len), or 0 if cap is too small or the crypto
 * library fails. */
size_t auth_digest(const struct auth_key *key, const uint8_t *data, size_t len, uint8_t *out,
                   size_t cap);
/* Append the MAC (key id and digest of pkt[0..len)) at pkt + len; returns
 * the new packet length, or 0 (pkt unchanged past len) if cap is too small
 * or the crypto library fails. */
size_t auth_sign(const struct auth_key *key, uint8_t *pkt, size_t len, size_t cap);
/* 1 if pkt[mac_off .. mac_off + mac_len) is a MAC by key over pkt[0..
 * mac_off): its key id and length match key's and its digest is right
 * (compared in constant time); else 0. */
int auth_verify(const struct auth_key *key, const uint8_t *pkt, size_t mac_off, size_t mac_len);
/* Constant-time comparison of n bytes; 1 if equal. */
int auth_equal(const void *a, const void *b, size_t n);
/* Known-answer test of AES-CMAC (RFC 4493 example 2) plus one digest of
 * every type, which also loads what OpenSSL needs while the process may
 * still open files. Returns 0, or -1 (logged) if anything is wrong. */
int auth_selftest(void);
/* Wipe key material (not optimised away). */
void auth_key_clear(struct auth_key *key);

#endif
