/* SPDX-License-Identifier: ISC */
#include "nts_aead.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define BLK 16

/* Fetched once: the lookup costs more than sealing a short message.
 * AES-SIV (RFC 5297) is composed here from AES-128 block encryptions:
 * CMAC for S2V and CTR for the encryption, each over an ECB context keyed
 * once per message. OpenSSL 3.0's own AES-128-SIV, and its CMAC, set up
 * contexts through name lookups and parameter lists at every key (string
 * compares and a lock per message: more than the AES work of an NTS
 * packet), and its SIV computes no tag for an empty plaintext. */
static EVP_CIPHER *nts_ecb; /* AES-128-ECB */

/* Contexts kept per thread, keyed per message; freed when the thread
 * ends, or by nts_aead_fini for the caller's. */
struct nts_tl {
    EVP_CIPHER_CTX *mac; /* S2V's key (the first half) */
    EVP_CIPHER_CTX *ctr; /* CTR's key (the second half) */
};
static pthread_once_t tl_once = PTHREAD_ONCE_INIT;
static pthread_key_t tl_key;

static void tl_free(void *p)
{
    struct nts_tl *t = p;

    if (!t)
        return;
    EVP_CIPHER_CTX_free(t->mac);
    EVP_CIPHER_CTX_free(t->ctr);
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
    pthread_once(&tl_once, tl_make_key);
    struct nts_tl *t = pthread_getspecific(tl_key);
    if (t)
        return t;
    if (!nts_ecb || !(t = calloc(1, sizeof(*t))))
        return NULL;
    t->mac = EVP_CIPHER_CTX_new();
    t->ctr = EVP_CIPHER_CTX_new();
    if (!t->mac || !t->ctr || pthread_setspecific(tl_key, t) != 0) {
        tl_free(t);
        return NULL;
    }
    return t;
}

/* Key an ECB context: the cipher is set at its first use only (setting it
 * again would drop and fetch it anyway). EVP_Cipher below works on whole
 * blocks and knows no padding. */
static int ecb_key(EVP_CIPHER_CTX *c, const uint8_t key[BLK])
{
    const EVP_CIPHER *set = EVP_CIPHER_CTX_get0_cipher(c) ? NULL : nts_ecb;
    return EVP_CipherInit_ex2(c, set, key, NULL, 1, NULL) == 1 ? 0 : -1;
}

/* n whole blocks of in encrypted to out. */
static int ecb(EVP_CIPHER_CTX *c, const uint8_t *in, uint8_t *out, size_t n)
{
    return n <= INT_MAX / BLK && EVP_Cipher(c, out, in, (unsigned)(n * BLK)) > 0 ? 0 : -1;
}

static void dbl(uint8_t d[BLK])
{
    uint8_t carry = d[0] >> 7;

    for (int i = 0; i < BLK - 1; i++)
        d[i] = (uint8_t)(d[i] << 1 | d[i + 1] >> 7);
    d[BLK - 1] = (uint8_t)(d[BLK - 1] << 1 ^ (carry ? 0x87 : 0));
}

static void xor_blk(uint8_t *d, const uint8_t *s)
{
    for (int i = 0; i < BLK; i++)
        d[i] ^= s[i];
}

/* CMAC (RFC 4493) as a stream over a keyed ECB context: the chaining
 * value x, and up to one block held back, since the last block is
 * treated apart. */
struct cmac {
    EVP_CIPHER_CTX *c;
    uint8_t k1[BLK], k2[BLK]; /* the subkeys */
    uint8_t x[BLK], buf[BLK];
    size_t n; /* bytes in buf */
    int err;
};

static void cmac_start(struct cmac *m)
{
    memset(m->x, 0, BLK);
    m->n = 0;
}

static int cmac_setup(struct cmac *m, EVP_CIPHER_CTX *c, const uint8_t key[BLK])
{
    static const uint8_t zero[BLK];

    m->c = c;
    m->err = ecb_key(c, key) < 0 || ecb(c, zero, m->k1, 1) < 0;
    dbl(m->k1);
    memcpy(m->k2, m->k1, BLK);
    dbl(m->k2);
    cmac_start(m);
    return m->err ? -1 : 0;
}

static void cmac_update(struct cmac *m, const uint8_t *p, size_t len)
{
    while (len > 0) {
        if (m->n == BLK) { /* more follows: the held block is not the last */
            xor_blk(m->x, m->buf);
            m->err |= ecb(m->c, m->x, m->x, 1) < 0;
            m->n = 0;
        }
        size_t k = BLK - m->n < len ? BLK - m->n : len;
        memcpy(m->buf + m->n, p, k);
        m->n += k;
        p += k;
        len -= k;
    }
}

static int cmac_final(struct cmac *m, uint8_t out[BLK])
{
    if (m->n == BLK) {
        xor_blk(m->buf, m->k1);
    } else {
        memset(m->buf + m->n, 0, BLK - m->n);
        m->buf[m->n] = 0x80;
        xor_blk(m->buf, m->k2);
    }
    xor_blk(m->x, m->buf);
    m->err |= ecb(m->c, m->x, out, 1) < 0;
    return m->err ? -1 : 0;
}

/* S2V (RFC 5297 section 2.4) over the components and a final string
 * last[0..len), under the first half of key; the self-test checks it
 * against the published A.2 tag. */
static int s2v(const uint8_t *key, const struct nts_aead_ad *ad, unsigned n_ad,
               const uint8_t *last, size_t len, uint8_t v[BLK])
{
    static const uint8_t zero[BLK];
    struct nts_tl *tl = tl_get();
    struct cmac m;
    uint8_t d[BLK], t[BLK];
    int r = -1;

    if (!tl || cmac_setup(&m, tl->mac, key) < 0)
        goto out;
    cmac_update(&m, zero, BLK);
    if (cmac_final(&m, d) < 0)
        goto out;
    for (unsigned i = 0; i < n_ad; i++) {
        cmac_start(&m);
        cmac_update(&m, ad[i].p, ad[i].len);
        if (cmac_final(&m, t) < 0)
            goto out;
        dbl(d);
        xor_blk(d, t);
    }
    cmac_start(&m);
    if (len >= BLK) {
        /* xorend: D into the last 16 bytes, then a MAC of the whole. */
        for (int j = 0; j < BLK; j++)
            t[j] = last[len - BLK + (size_t)j] ^ d[j];
        cmac_update(&m, last, len - BLK);
        cmac_update(&m, t, BLK);
    } else {
        dbl(d);
        memset(t, 0, BLK);
        if (len > 0)
            memcpy(t, last, len);
        t[len] = 0x80;
        xor_blk(t, d);
        cmac_update(&m, t, BLK);
    }
    r = cmac_final(&m, v);
out:
    OPENSSL_cleanse(d, sizeof(d));
    OPENSSL_cleanse(&m, sizeof(m));
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
 * with bits 63 and 31 cleared (RFC 5297 section 2.5), the counter a
 * 128-bit big-endian number: in[0..len) to out (which may be in). */
static int siv_ctr(const uint8_t *key, const uint8_t v[BLK], const uint8_t *in, size_t len,
                   uint8_t *out)
{
    enum { CHUNK = 32 };
    uint8_t q[BLK], ks[CHUNK * BLK];
    int r = -1;

    struct nts_tl *tl = tl_get();
    memcpy(q, v, BLK);
    q[8] &= 0x7f;
    q[12] &= 0x7f;
    if (!tl || ecb_key(tl->ctr, key + BLK) < 0)
        return -1;
    for (size_t off = 0; off < len;) {
        size_t nb = (len - off + BLK - 1) / BLK;
        if (nb > CHUNK)
            nb = CHUNK;
        for (size_t b = 0; b < nb; b++) {
            memcpy(ks + b * BLK, q, BLK);
            for (int i = BLK - 1; i >= 0 && ++q[i] == 0; i--)
                ;
        }
        if (ecb(tl->ctr, ks, ks, nb) < 0)
            goto out;
        for (size_t i = 0; i < nb * BLK && off < len; i++, off++)
            out[off] = in[off] ^ ks[i];
    }
    r = 0;
out:
    OPENSSL_cleanse(ks, len < sizeof(ks) ? (len + BLK - 1) / BLK * BLK : sizeof(ks));
    return r;
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
    if (nts_ecb)
        return 0;
    nts_ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
    if (!nts_ecb) {
        log_warnx("nts: the crypto library has no AES-128 (needed for "
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
    if (nts_ecb) {
        pthread_once(&tl_once, tl_make_key);
        tl_free(pthread_getspecific(tl_key));
        pthread_setspecific(tl_key, NULL);
    }
    EVP_CIPHER_free(nts_ecb);
    nts_ecb = NULL;
}
