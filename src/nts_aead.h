/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_NTS_AEAD_H
#define TEMPUS_NTS_AEAD_H

#include <stddef.h>
#include <stdint.h>

/* AEAD_AES_SIV_CMAC_256 (RFC 5297, IANA AEAD 15), the algorithm every NTS
 * server has: S2V (CMAC) and CTR written here over OpenSSL's AES-128 block
 * cipher (AES-128 for both halves, so a 32-byte key). A sealed message is the 16-byte synthetic IV
 * (the tag) followed by the ciphertext, as RFC 5297 writes it and RFC 8915
 * sends it. The associated data is a vector of components; in NTS it is
 * {the packet up to the authenticator, the nonce}, the nonce last as RFC
 * 5297 section 3 puts it. No I/O and no global state but OpenSSL's own,
 * the fetched cipher and a context per thread. */

#define NTS_AEAD_KEY_LEN 32
#define NTS_AEAD_TAG_LEN 16
#define NTS_AEAD_AD_MAX 4 /* components of associated data accepted */

/* Direction of an NTS key (RFC 8915 section 5.1). */
enum nts_dir { NTS_DIR_C2S = 0, NTS_DIR_S2C = 1 };

/* One component of associated data; len may not be 0. */
struct nts_aead_ad {
    const uint8_t *p;
    size_t len;
};

/* Fetch the cipher from OpenSSL and run the RFC 5297 known-answer tests.
 * Returns 0, or -1 (logged: the library lacks AES-SIV or computes it
 * wrongly). Calling it again after success costs nothing. */
int nts_aead_init(void);
/* Release the fetched cipher. */
void nts_aead_fini(void);
/* Seal pt[0..pt_len) (pt_len may be 0) under key with the n_ad components
 * of associated data: writes tag || ciphertext to out (cap bytes) and
 * returns NTS_AEAD_TAG_LEN + pt_len, or 0 if cap is too small, n_ad is out
 * of range, a component is empty or the library fails. */
size_t nts_aead_seal(const uint8_t key[NTS_AEAD_KEY_LEN], const struct nts_aead_ad *ad,
                     unsigned n_ad, const uint8_t *pt, size_t pt_len, uint8_t *out, size_t cap);
/* Open a sealed message ct[0..ct_len): checks the tag (in constant time,
 * inside OpenSSL) and writes the plaintext to out (cap bytes). Returns the
 * plaintext length (0 or more), or -1 if the message is shorter than a
 * tag, does not fit cap, or does not authenticate; out is then wiped. */
long nts_aead_open(const uint8_t key[NTS_AEAD_KEY_LEN], const struct nts_aead_ad *ad,
                   unsigned n_ad, const uint8_t *ct, size_t ct_len, uint8_t *out, size_t cap);
/* The 5-byte TLS exporter context of RFC 8915 section 5.1 for NTPv4:
 * protocol id 0, the AEAD id, then 0 (C2S) or 1 (S2C). */
void nts_aead_exporter_context(uint16_t aead, enum nts_dir dir, uint8_t out[5]);

#define NTS_EXPORTER_LABEL "EXPORTER-network-time-security"

#endif
