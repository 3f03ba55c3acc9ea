/* SPDX-License-Identifier: ISC */
#include "auth.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>
#include <strings.h>

#include "log.h"

struct auth_type_info {
    const char *name;
    const char *cipher;        /* CMAC types: OpenSSL cipher name */
    const EVP_MD *(*md)(void); /* hash types */
    size_t key_len;            /* ciphers only */
    size_t full_len;           /* bytes of the whole digest */
};

static const struct auth_type_info auth_types[AUTH_NTYPES] = {
    [AUTH_AES128] = {"AES128", "AES-128-CBC", NULL, 16, 16},
    [AUTH_AES256] = {"AES256", "AES-256-CBC", NULL, 32, 16},
    [AUTH_SHA1] = {"SHA1", NULL, EVP_sha1, 0, 20},
    [AUTH_SHA256] = {"SHA256", NULL, EVP_sha256, 0, 32},
    [AUTH_SHA384] = {"SHA384", NULL, EVP_sha384, 0, 48},
    [AUTH_SHA512] = {"SHA512", NULL, EVP_sha512, 0, 64},
    [AUTH_SHA3_224] = {"SHA3-224", NULL, EVP_sha3_224, 0, 28},
    [AUTH_SHA3_256] = {"SHA3-256", NULL, EVP_sha3_256, 0, 32},
    [AUTH_SHA3_384] = {"SHA3-384", NULL, EVP_sha3_384, 0, 48},
    [AUTH_SHA3_512] = {"SHA3-512", NULL, EVP_sha3_512, 0, 64},
    [AUTH_MD5] = {"MD5", NULL, EVP_md5, 0, 16},
};

/* Fetched once: looking the algorithm up costs more than a short MAC. */
static EVP_MAC *auth_cmac;

int auth_type_from_name(const char *name, enum auth_type *out)
{
    for (int t = 0; t < AUTH_NTYPES; t++) {
        if (strcasecmp(name, auth_types[t].name) == 0) {
            *out = (enum auth_type)t;
            return 0;
        }
    }
    return -1;
}

const char *auth_type_name(enum auth_type type)
{
    return (unsigned)type < AUTH_NTYPES ? auth_types[type].name : "?";
}

size_t auth_digest_len(enum auth_type type)
{
    return type == AUTH_AES128 || type == AUTH_AES256 || type == AUTH_MD5 ? 16 : AUTH_DIGEST_TRUNC;
}

size_t auth_digest_full_len(enum auth_type type)
{
    return (unsigned)type < AUTH_NTYPES ? auth_types[type].full_len : 0;
}

int auth_digest_len_ok(enum auth_type type, size_t dlen)
{
    return (unsigned)type < AUTH_NTYPES &&
           (dlen == auth_digest_len(type) || dlen == auth_digest_full_len(type));
}

int auth_digest_len_known(size_t dlen)
{
    for (int t = 0; t < AUTH_NTYPES; t++)
        if (auth_digest_len_ok((enum auth_type)t, dlen))
            return 1;
    return 0;
}

size_t auth_cipher_key_len(enum auth_type type)
{
    return (unsigned)type < AUTH_NTYPES ? auth_types[type].key_len : 0;
}

int auth_type_weak(enum auth_type type)
{
    return type == AUTH_MD5;
}

static size_t auth_cmac_digest(const struct auth_key *key, const char *cipher, const uint8_t *data,
                               size_t len, uint8_t *out)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)cipher, 0),
        OSSL_PARAM_construct_end(),
    };
    size_t n = 0;

    if (!auth_cmac && !(auth_cmac = EVP_MAC_fetch(NULL, "CMAC", NULL)))
        return 0;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(auth_cmac);
    if (!ctx)
        return 0;
    if (EVP_MAC_init(ctx, key->key, key->len, params) != 1 || EVP_MAC_update(ctx, data, len) != 1 ||
        EVP_MAC_final(ctx, out, &n, 16) != 1 || n != 16)
        n = 0;
    EVP_MAC_CTX_free(ctx);
    return n;
}

/* The legacy NTP MAC: the hash of key then packet, cut to want bytes (the
 * whole digest when want is its full length). */
static size_t auth_hash_digest(const struct auth_key *key, const EVP_MD *md, const uint8_t *data,
                               size_t len, uint8_t *out, size_t want)
{
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (!ctx)
        return 0;
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, key->key, key->len) != 1 ||
        EVP_DigestUpdate(ctx, data, len) != 1 || EVP_DigestFinal_ex(ctx, full, &n) != 1 || n < want)
        n = 0;
    EVP_MD_CTX_free(ctx);
    if (n == 0)
        return 0;
    memcpy(out, full, want);
    OPENSSL_cleanse(full, sizeof(full));
    return want;
}

size_t auth_digest(const struct auth_key *key, const uint8_t *data, size_t len, size_t dlen,
                   uint8_t *out, size_t cap)
{
    if (!auth_digest_len_ok(key->type, dlen) || key->len == 0 || key->len > AUTH_KEY_MAX)
        return 0;
    const struct auth_type_info *ti = &auth_types[key->type];
    size_t n;

    if (cap < dlen)
        return 0;
    if (ti->cipher)
        n = key->len == ti->key_len ? auth_cmac_digest(key, ti->cipher, data, len, out) : 0;
    else
        n = auth_hash_digest(key, ti->md(), data, len, out, dlen);
    if (n != dlen) {
        log_warnx("auth: %s digest failed for key %u", ti->name, key->id);
        return 0;
    }
    return n;
}

size_t auth_sign_len(const struct auth_key *key, uint8_t *pkt, size_t len, size_t cap, size_t dlen)
{
    uint8_t digest[AUTH_DIGEST_MAX];

    if (!auth_digest_len_ok(key->type, dlen) || len > cap || cap - len < AUTH_KEYID_LEN + dlen)
        return 0;
    if (auth_digest(key, pkt, len, dlen, digest, sizeof(digest)) != dlen)
        return 0;
    pkt[len] = (uint8_t)(key->id >> 24);
    pkt[len + 1] = (uint8_t)(key->id >> 16);
    pkt[len + 2] = (uint8_t)(key->id >> 8);
    pkt[len + 3] = (uint8_t)key->id;
    memcpy(pkt + len + AUTH_KEYID_LEN, digest, dlen);
    OPENSSL_cleanse(digest, sizeof(digest));
    return len + AUTH_KEYID_LEN + dlen;
}

size_t auth_sign(const struct auth_key *key, uint8_t *pkt, size_t len, size_t cap)
{
    return auth_sign_len(key, pkt, len, cap, auth_digest_len(key->type));
}

int auth_verify(const struct auth_key *key, const uint8_t *pkt, size_t mac_off, size_t mac_len)
{
    uint8_t digest[AUTH_DIGEST_MAX];

    /* The length is no secret: it says which of the two digests to make. */
    if (mac_len < AUTH_KEYID_LEN || !auth_digest_len_ok(key->type, mac_len - AUTH_KEYID_LEN))
        return 0;
    size_t dlen = mac_len - AUTH_KEYID_LEN;
    uint32_t id = (uint32_t)pkt[mac_off] << 24 | (uint32_t)pkt[mac_off + 1] << 16 |
                  (uint32_t)pkt[mac_off + 2] << 8 | pkt[mac_off + 3];
    if (id != key->id)
        return 0;
    if (auth_digest(key, pkt, mac_off, dlen, digest, sizeof(digest)) != dlen)
        return 0;
    int ok = auth_equal(digest, pkt + mac_off + AUTH_KEYID_LEN, dlen);
    OPENSSL_cleanse(digest, sizeof(digest));
    return ok;
}

int auth_selftest(void)
{
    static const uint8_t k[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                  0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
    static const uint8_t m[16] = {0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96,
                                  0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a};
    static const uint8_t want[16] = {0x07, 0x0a, 0x16, 0xb4, 0x6b, 0x4d, 0x41, 0x44,
                                     0xf7, 0x9b, 0xdd, 0x9d, 0xd0, 0x4a, 0x28, 0x7c};
    struct auth_key key = {.id = 1, .len = 32};
    uint8_t out[AUTH_DIGEST_MAX];
    int ok = 1;

    for (int t = 0; t < AUTH_NTYPES; t++) {
        key.type = (enum auth_type)t;
        key.len = auth_types[t].key_len ? auth_types[t].key_len : 20;
        memcpy(key.key, k, sizeof(k));
        /* The full length: the truncated one is a prefix of it. */
        size_t dlen = auth_digest_full_len(key.type);
        if (auth_digest(&key, m, sizeof(m), dlen, out, sizeof(out)) != dlen)
            ok = 0;
        if (t == AUTH_AES128 && ok && !auth_equal(out, want, sizeof(want)))
            ok = 0;
    }
    auth_key_clear(&key);
    if (!ok)
        log_warnx("auth: self-test failed: the crypto library does not compute MACs right");
    return ok ? 0 : -1;
}

int auth_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void auth_key_clear(struct auth_key *key)
{
    OPENSSL_cleanse(key, sizeof(*key));
}
