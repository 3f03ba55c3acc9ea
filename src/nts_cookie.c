/* SPDX-License-Identifier: ISC */
#include "nts_cookie.h"

#include <openssl/crypto.h>
#include <string.h>

#define ID_LEN 4
#define PLAIN_LEN (2 + 2 + 2 * NTS_AEAD_KEY_LEN)

_Static_assert(ID_LEN + NTS_COOKIE_NONCE_LEN + NTS_AEAD_TAG_LEN + PLAIN_LEN == NTS_COOKIE_LEN,
               "cookie layout");

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int nts_cookie_rotate(struct nts_cookie_ring *ring, uint32_t id,
                      const uint8_t key[NTS_AEAD_KEY_LEN])
{
    if (id == 0 || id == ring->keys[0].id || id == ring->keys[1].id)
        return -1;
    ring->keys[1] = ring->keys[0];
    ring->keys[0].id = id;
    memcpy(ring->keys[0].key, key, NTS_AEAD_KEY_LEN);
    return 0;
}

size_t nts_cookie_make(const struct nts_cookie_ring *ring, const struct nts_cookie_data *d,
                       const uint8_t nonce[NTS_COOKIE_NONCE_LEN], uint8_t *out, size_t cap)
{
    const struct nts_cookie_key *k = &ring->keys[0];
    uint8_t plain[PLAIN_LEN];

    if (k->id == 0 || cap < NTS_COOKIE_LEN)
        return 0;
    put_be32(out, k->id);
    memcpy(out + ID_LEN, nonce, NTS_COOKIE_NONCE_LEN);
    plain[0] = (uint8_t)(d->aead >> 8);
    plain[1] = (uint8_t)d->aead;
    plain[2] = plain[3] = 0;
    memcpy(plain + 4, d->c2s, NTS_AEAD_KEY_LEN);
    memcpy(plain + 4 + NTS_AEAD_KEY_LEN, d->s2c, NTS_AEAD_KEY_LEN);
    const struct nts_aead_ad ad[] = {{out, ID_LEN}, {out + ID_LEN, NTS_COOKIE_NONCE_LEN}};
    size_t n = nts_aead_seal(k->key, ad, 2, plain, sizeof(plain), out + ID_LEN + NTS_COOKIE_NONCE_LEN,
                             cap - ID_LEN - NTS_COOKIE_NONCE_LEN);
    OPENSSL_cleanse(plain, sizeof(plain));
    return n == NTS_AEAD_TAG_LEN + PLAIN_LEN ? NTS_COOKIE_LEN : 0;
}

int nts_cookie_open(const struct nts_cookie_ring *ring, const uint8_t *cookie, size_t len,
                    struct nts_cookie_data *d)
{
    const struct nts_cookie_key *k = NULL;
    uint8_t plain[PLAIN_LEN];

    memset(d, 0, sizeof(*d));
    if (len != NTS_COOKIE_LEN)
        return -1;
    uint32_t id = get_be32(cookie);
    for (int i = 0; i < NTS_COOKIE_RING && id != 0; i++)
        if (ring->keys[i].id == id)
            k = &ring->keys[i];
    if (!k)
        return -1;
    const struct nts_aead_ad ad[] = {{cookie, ID_LEN}, {cookie + ID_LEN, NTS_COOKIE_NONCE_LEN}};
    long n = nts_aead_open(k->key, ad, 2, cookie + ID_LEN + NTS_COOKIE_NONCE_LEN,
                           NTS_AEAD_TAG_LEN + PLAIN_LEN, plain, sizeof(plain));
    int ok = n == PLAIN_LEN && plain[2] == 0 && plain[3] == 0;
    if (ok) {
        d->aead = (uint16_t)(plain[0] << 8 | plain[1]);
        memcpy(d->c2s, plain + 4, NTS_AEAD_KEY_LEN);
        memcpy(d->s2c, plain + 4 + NTS_AEAD_KEY_LEN, NTS_AEAD_KEY_LEN);
    }
    OPENSSL_cleanse(plain, sizeof(plain));
    return ok ? 0 : -1;
}

void nts_cookie_ring_clear(struct nts_cookie_ring *ring)
{
    OPENSSL_cleanse(ring, sizeof(*ring));
}
