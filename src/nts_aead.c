/* SPDX-License-Identifier: ISC */
#include "nts_aead.h"

#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define BLK 16

/* Fetched once: the lookup costs more than sealing a short message.
 * AES-SIV (RFC 5297) is composed here from CMAC (S2V) and AES-128-CTR:
 * OpenSSL 3.0's own AES-128-SIV looks up its two ciphers by name at every
 * key change (a lock and string compares per message: more than the AES
 * work of an NTS packet), and computes no tag for an empty plaintext. */
static EVP_CIPHER *nts_siv; /* AES-128-CTR */
static EVP_MAC *nts_cmac;

/* Contexts kept per thread: creating them (and looking up the CMAC
 * cipher by name) costs more than the AES work of a short NTS message.
 * Freed when the thread ends, or by nts_aead_fini for the caller's. */
struct nts_tl {
    EVP_CIPHER_CTX *cipher;
    EVP_MAC_CTX *mac; /* CMAC with AES-128-CBC set */
};
static pthread_once_t tl_once = PTHREAD_ONCE_INIT;
static pthread_key_t tl_key;

static void tl_free(void *p)
{
    struct nts_tl *t = p;

    if (!t)
        return;
    EVP_CIPHER_CTX_free(t->cipher);
    EVP_MAC_CTX_free(t->mac);
    free(t);
}

static void tl_make_key(void)
{
    if (pthread_key_create(&tl_key, tl_free) != 0)
        abort();
}

/* This thread's contexts, made on first use; NULL if OpenSSL fails. */
static struct nts_tl *tl_get(void)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0),
        OSSL_PARAM_construct_end(),
    };

    pthread_once(&tl_once, tl_make_key);
    struct nts_tl *t = pthread_getspecific(tl_key);
    if (t)
        return t;
    if (!nts_cmac || !(t = calloc(1, sizeof(*t))))
        return NULL;
    t->cipher = EVP_CIPHER_CTX_new();
    t->mac = EVP_MAC_CTX_new(nts_cmac);
    if (!t->cipher || !t->mac || EVP_MAC_CTX_set_params(t->mac, params) != 1 ||
        pthread_setspecific(tl_key, t) != 0) {
        tl_free(t);
        return NULL;
    }
    return t;
}

/* S2V (RFC 5297 section 2.4) with CMAC under the first half of the key;
 * the self-test checks it against the published A.2 tag. */
/* CMAC of p[0..len) then q[0..qlen) (q may be NULL). */
static int cmac2(EVP_MAC_CTX *ctx, const uint8_t *key, const uint8_t *p, size_t len,
                 const uint8_t *q, size_t qlen, uint8_t out[BLK])
{
    size_t n = 0;

    /* A NULL key restarts the MAC with the key already set. */
    return EVP_MAC_init(ctx, key, key ? BLK : 0, NULL) == 1 && EVP_MAC_update(ctx, p, len) == 1 &&
                   (qlen == 0 || EVP_MAC_update(ctx, q, qlen) == 1) &&
                   EVP_MAC_final(ctx, out, &n, BLK) == 1 && n == BLK
               ? 0
               : -1;
}

static int cmac(EVP_MAC_CTX *ctx, const uint8_t *key, const uint8_t *p, size_t len,
                uint8_t out[BLK])
{
    return cmac2(ctx, key, p, len, NULL, 0, out);
}

static void dbl(uint8_t d[BLK])
{
    uint8_t carry = d[0] >> 7;

    for (int i = 0; i < BLK - 1; i++)
        d[i] = (uint8_t)(d[i] << 1 | d[i + 1] >> 7);
    d[BLK - 1] = (uint8_t)(d[BLK - 1] << 1 ^ (carry ? 0x87 : 0));
}

/* S2V over the components and a final string last[0..len). */
static int s2v(const uint8_t *key, const struct nts_aead_ad *ad, unsigned n_ad,
               const uint8_t *last, size_t len, uint8_t v[BLK])
{
    static const uint8_t zero[BLK];
    uint8_t d[BLK], t[BLK];
    int r = -1;

    struct nts_tl *tl = tl_get();
    EVP_MAC_CTX *ctx = tl ? tl->mac : NULL;
    if (!ctx || cmac(ctx, key, zero, BLK, d) < 0)
        goto out;
    for (unsigned i = 0; i < n_ad; i++) {
        if (cmac(ctx, NULL, ad[i].p, ad[i].len, t) < 0)
            goto out;
        dbl(d);
        for (int j = 0; j < BLK; j++)
            d[j] ^= t[j];
    }
    if (len >= BLK) {
        /* xorend: D into the last 16 bytes, then a MAC of the whole. */
        for (int j = 0; j < BLK; j++)
            t[j] = last[len - BLK + (size_t)j] ^ d[j];
        r = cmac2(ctx, NULL, last, len - BLK, t, BLK, v);
        goto out;
    }
    dbl(d);
    memset(t, 0, BLK);
    if (len > 0)
        memcpy(t, last, len);
    t[len] = 0x80;
    for (int j = 0; j < BLK; j++)
        t[j] ^= d[j];
    r = cmac(ctx, NULL, t, BLK, v);
out:
    OPENSSL_cleanse(d, sizeof(d));
    return r;
}

/* The associated data NTS may pass: 1..NTS_AEAD_AD_MAX components, none
 * empty (RFC 5297 allows empty ones; NTS never has them, so they are
 * refused rather than special-cased). */
static int siv_ad_ok(const struct nts_aead_ad *ad, unsigned n_ad)
{
    if (n_ad > NTS_AEAD_AD_MAX)
        return 0;
    for (unsigned i = 0; i < n_ad; i++)
        if (ad[i].p == NULL || ad[i].len == 0)
            return 0;
    return 1;
}

/* AES-128-CTR under the second half of the key from the synthetic IV v
 * with bits 63 and 31 cleared (RFC 5297 section 2.5): in[0..len) to out. */
static int siv_ctr(const uint8_t *key, const uint8_t v[BLK], const uint8_t *in, size_t len,
                   uint8_t *out)
{
    uint8_t q[BLK];
    int outl = 0;

    struct nts_tl *tl = tl_get();
    EVP_CIPHER_CTX *ctx = tl ? tl->cipher : NULL;
    memcpy(q, v, BLK);
    q[8] &= 0x7f;
    q[12] &= 0x7f;
    if (!ctx || !nts_siv || len > INT_MAX ||
        EVP_CipherInit_ex2(ctx, nts_siv, key + BLK, q, 1, NULL) != 1 ||
        EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1 || (size_t)outl != len)
        return -1;
    return 0;
}

size_t nts_aead_seal(const uint8_t key[NTS_AEAD_KEY_LEN], const struct nts_aead_ad *ad,
                     unsigned n_ad, const uint8_t *pt, size_t pt_len, uint8_t *out, size_t cap)
{
    uint8_t v[BLK];

    if (cap < NTS_AEAD_TAG_LEN || pt_len > cap - NTS_AEAD_TAG_LEN || pt_len > INT_MAX - 16 ||
        !siv_ad_ok(ad, n_ad) || (pt_len && !pt))
        return 0;
    if (s2v(key, ad, n_ad, pt, pt_len, v) < 0 ||
        (pt_len && siv_ctr(key, v, pt, pt_len, out + NTS_AEAD_TAG_LEN) < 0)) {
        log_warnx("nts: AES-SIV seal failed");
        return 0;
    }
    memcpy(out, v, BLK);
    return NTS_AEAD_TAG_LEN + pt_len;
}

long nts_aead_open(const uint8_t key[NTS_AEAD_KEY_LEN], const struct nts_aead_ad *ad,
                   unsigned n_ad, const uint8_t *ct, size_t ct_len, uint8_t *out, size_t cap)
{
    uint8_t tag[NTS_AEAD_TAG_LEN];

    if (ct_len < NTS_AEAD_TAG_LEN || ct_len - NTS_AEAD_TAG_LEN > cap ||
        ct_len > (size_t)INT_MAX || !siv_ad_ok(ad, n_ad))
        return -1;
    size_t len = ct_len - NTS_AEAD_TAG_LEN;
    /* Decrypt first (CTR needs only the IV), then check the tag over the
     * plaintext; nothing is given out unless it holds. */
    if ((len && siv_ctr(key, ct, ct + NTS_AEAD_TAG_LEN, len, out) < 0) ||
        s2v(key, ad, n_ad, out, len, tag) < 0 || CRYPTO_memcmp(tag, ct, sizeof(tag)) != 0) {
        if (len)
            OPENSSL_cleanse(out, len);
        return -1;
    }
    return (long)len;
}

void nts_aead_exporter_context(uint16_t aead, enum nts_dir dir, uint8_t out[5])
{
    out[0] = 0; /* next protocol: NTPv4 */
    out[1] = 0;
    out[2] = (uint8_t)(aead >> 8);
    out[3] = (uint8_t)aead;
    out[4] = dir == NTS_DIR_S2C ? 1 : 0;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;

    for (size_t i = 0; i < n && i < cap; i++) {
        unsigned hi = (unsigned)(hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10);
        unsigned lo =
            (unsigned)(hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0' : hex[2 * i + 1] - 'a' + 10);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return n < cap ? n : cap;
}

/* RFC 5297 appendix A.2 (nonce-based, two components of associated data
 * and a nonce): seal gives the published output, open gives the
 * plaintext back, and one flipped bit fails. */
static int siv_known_answer(void)
{
    uint8_t key[32], ad1[40], ad2[10], nonce[16], pt[47], want[63], got[63], back[47];
    unhex("7f7e7d7c7b7a79787776757473727170404142434445464748494a4b4c4d4e4f", key, 32);
    unhex("00112233445566778899aabbccddeeffdeaddadadeaddadaffeeddccbbaa99887766554433221100",
          ad1, 40);
    unhex("102030405060708090a0", ad2, 10);
    unhex("09f911029d74e35bd84156c5635688c0", nonce, 16);
    unhex("7468697320697320736f6d6520706c61696e7465787420746f20656e6372797074207573696e67205349"
          "562d414553",
          pt, 47);
    unhex("7bdb6e3b432667eb06f4d14bff2fbd0fcb900f2fddbe404326601965c889bf17dba77ceb094fa663b7a3f7"
          "48ba8af829ea64ad544a272e9c485b62a3fd5c0d",
          want, 63);
    const struct nts_aead_ad ad[] = {{ad1, 40}, {ad2, 10}, {nonce, 16}};

    if (nts_aead_seal(key, ad, 3, pt, sizeof(pt), got, sizeof(got)) != sizeof(want) ||
        memcmp(got, want, sizeof(want)) != 0)
        return -1;
    /* Our own S2V, used for empty plaintexts, gives the published tag. */
    if (s2v(key, ad, 3, pt, sizeof(pt), got) < 0 || memcmp(got, want, BLK) != 0)
        return -1;
    if (nts_aead_open(key, ad, 3, want, sizeof(want), back, sizeof(back)) != (long)sizeof(pt) ||
        memcmp(back, pt, sizeof(pt)) != 0)
        return -1;
    want[20] ^= 1;
    return nts_aead_open(key, ad, 3, want, sizeof(want), back, sizeof(back)) == -1 ? 0 : -1;
}

int nts_aead_init(void)
{
    if (nts_siv)
        return 0;
    nts_siv = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
    nts_cmac = EVP_MAC_fetch(NULL, "CMAC", NULL);
    if (!nts_siv || !nts_cmac) {
        log_warnx("nts: the crypto library has no AES-128-CTR or CMAC (needed for "
                  "AEAD_AES_SIV_CMAC_256): OpenSSL 3.0 or later is needed for NTS");
        nts_aead_fini();
        return -1;
    }
    if (siv_known_answer() < 0) {
        log_warnx("nts: AES-SIV gives wrong answers to RFC 5297's test vector");
        nts_aead_fini();
        return -1;
    }
    return 0;
}

void nts_aead_fini(void)
{
    if (nts_siv) {
        pthread_once(&tl_once, tl_make_key);
        tl_free(pthread_getspecific(tl_key));
        pthread_setspecific(tl_key, NULL);
    }
    EVP_CIPHER_free(nts_siv);
    nts_siv = NULL;
    EVP_MAC_free(nts_cmac);
    nts_cmac = NULL;
}
