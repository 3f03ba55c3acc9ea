/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_AUTH_H
#define TEMPUS_AUTH_H

#include <stddef.h>
#include <stdint.h>

/* Symmetric-key MACs of NTP packets (RFC 5905 section 7.3, RFC 8573). A
 * MAC follows the header and extension fields: a 32-bit key id, then the
 * digest of everything before the key id.
 *   AES128, AES256 (RFC 8573): AES-CMAC(key, packet), 16 bytes.
 *   MD5, SHA1, SHA2, SHA3 (the legacy scheme): H(key || packet), in one of
 *   two lengths. Truncated: digests longer than 20 bytes cut to their first
 *   20, the largest an NTPv4 MAC may carry (RFC 7822), as chrony and ntpd
 *   do for NTPv4. Full: the whole digest (28 to 64 bytes), which chrony
 *   sends in NTPv3 packets, its default for keys of hashes over 160 bits.
 *   For MD5, SHA1 and the ciphers both lengths are the same.
 * Digests are compared in constant time. No I/O and no global state but
 * OpenSSL's own. */

#define AUTH_KEY_MAX 128     /* bytes of key material we accept */
#define AUTH_DIGEST_MAX 64   /* bytes of the longest digest in a MAC (SHA512) */
#define AUTH_DIGEST_TRUNC 20 /* bytes an NTPv4 MAC keeps of a longer digest */
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
/* Bytes of digest an NTPv4 (truncated) MAC of this type carries: 16 or 20. */
size_t auth_digest_len(enum auth_type type);
/* Bytes of this type's whole digest: 16 (AES, MD5), 20 (SHA1), 28 to 64
 * (SHA2, SHA3); 0 for an unknown type. */
size_t auth_digest_full_len(enum auth_type type);
/* 1 if a MAC of this type may carry dlen bytes of digest (its truncated or
 * its full length), else 0. */
int auth_digest_len_ok(enum auth_type type, size_t dlen);
/* 1 if a MAC of some type carries dlen bytes of digest (16, 20, 28, 32,
 * 48 or 64), else 0: a cheap test of a MAC's shape before any key. */
int auth_digest_len_known(size_t dlen);
/* Key length a cipher type requires (16 or 32 bytes); 0 for hash types,
 * which take keys of any length. */
size_t auth_cipher_key_len(enum auth_type type);
/* 1 for types kept only for interoperability and unfit for new keys (MD5). */
int auth_type_weak(enum auth_type type);

/* Digest of data[0..len) under key, dlen bytes of it (auth_digest_len or
 * auth_digest_full_len of its type), written to out (cap bytes); returns
 * dlen, or 0 if dlen does not fit the type, cap is too small or the crypto
 * library fails. */
size_t auth_digest(const struct auth_key *key, const uint8_t *data, size_t len, size_t dlen,
                   uint8_t *out, size_t cap);
/* Append the MAC (key id and dlen bytes of digest of pkt[0..len), dlen as
 * for auth_digest) at pkt + len; returns the new packet length, or 0 (pkt
 * unchanged past len) if dlen does not fit the type, cap is too small or
 * the crypto library fails. */
size_t auth_sign_len(const struct auth_key *key, uint8_t *pkt, size_t len, size_t cap, size_t dlen);
/* auth_sign_len with the NTPv4 (truncated) length, auth_digest_len. */
size_t auth_sign(const struct auth_key *key, uint8_t *pkt, size_t len, size_t cap);
/* 1 if pkt[mac_off .. mac_off + mac_len) is a MAC by key over pkt[0..
 * mac_off): its key id matches key's, its digest length is one key's type
 * makes (truncated or full, taken from mac_len) and its digest is right
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
