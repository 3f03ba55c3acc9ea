/* SPDX-License-Identifier: ISC */
/* Unit tests for auth.c: known-answer vectors (RFC 4493 and NIST SP 800-38B
 * for AES-CMAC; H(key || packet) computed independently with Python's
 * hashlib for the hash types), sign/verify round trips, tampering, and the
 * constant-time comparison on the verify path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/crypto.h>

#include "auth.h"
#include "ntp_wire.h"

/* Interposed on OpenSSL's: counts the calls that auth.c makes, so a test
 * can tell that verification goes through the constant-time comparison.
 * The comparison itself is constant-time too (no early exit). */
static unsigned memcmp_calls;

int CRYPTO_memcmp(const void *in_a, const void *in_b, size_t len)
{
    const unsigned char *a = in_a, *b = in_b;
    unsigned char acc = 0;
    memcmp_calls++;
    for (size_t i = 0; i < len; i++)
        acc |= (unsigned char)(a[i] ^ b[i]);
    return acc != 0;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static struct auth_key make_key(enum auth_type type, uint32_t id, const char *hex)
{
    struct auth_key k = {.id = id, .type = type};
    k.len = unhex(hex, k.key, sizeof(k.key));
    return k;
}

static void expect_digest(const struct auth_key *k, const uint8_t *msg, size_t len,
                          const char *want_hex)
{
    uint8_t want[AUTH_DIGEST_MAX], got[AUTH_DIGEST_MAX];
    size_t wn = unhex(want_hex, want, sizeof(want));
    assert_int_equal(auth_digest(k, msg, len, got, sizeof(got)), wn);
    assert_memory_equal(got, want, wn);
}

static const char *const cmac_msg_hex =
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

/* RFC 4493 section 4, examples 1-4 (AES-128), and NIST SP 800-38B
 * appendix D.3 (AES-256) on the same messages. */
static void test_cmac_vectors(void **state)
{
    (void)state;
    static const char *const want128[] = {
        "bb1d6929e95937287fa37d129b756746", "070a16b46b4d4144f79bdd9dd04a287c",
        "dfa66747de9ae63030ca32611497c827", "51f0bebf7e3b9d92fc49741779363cfe"};
    static const char *const want256[] = {
        "028962f61b7bf89efc6b551f4667d983", "28a7023f452e8f82bd4bf28d8c37c35c",
        "aaf3d8f1de5640c232f5b169b9c911e6", "e1992190549f6ed5696a2c056c315410"};
    static const size_t lens[] = {0, 16, 40, 64};
    uint8_t msg[64];
    struct auth_key k128 = make_key(AUTH_AES128, 1, "2b7e151628aed2a6abf7158809cf4f3c");
    struct auth_key k256 = make_key(
        AUTH_AES256, 2, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");

    unhex(cmac_msg_hex, msg, sizeof(msg));
    for (int i = 0; i < 4; i++) {
        expect_digest(&k128, msg, lens[i], want128[i]);
        expect_digest(&k256, msg, lens[i], want256[i]);
    }
    assert_int_equal(auth_selftest(), 0);
}

/* A fixed NTPv4 client request: the MACs tempus puts on it. The hash
 * digests are H(key || packet) cut to 20 bytes (16 for MD5), as computed
 * by Python's hashlib; the CMACs by `openssl mac`. */
static void test_packet_vectors(void **state)
{
    (void)state;
    static const struct {
        enum auth_type type;
        const char *digest;
    } v[] = {
        {AUTH_MD5, "d9ef84588318afa8ce88d10269768d50"},
        {AUTH_SHA1, "ebb4a8d39417bf3374bb3bae96300a6ad2a7ae55"},
        {AUTH_SHA256, "06a49641ce60a1f9590f38d7064852bc0a9d1134"},
        {AUTH_SHA384, "ca72290a597bc4d61ae2054d5660a8b63d24072b"},
        {AUTH_SHA512, "eca0a387a90f222f415bdcf5ae0635e772370d5c"},
        {AUTH_SHA3_224, "f872c0583dd518772c5d794e22deee4fe1fa3ef3"},
        {AUTH_SHA3_256, "14ac2844164c16067ea18a9526741cd6dff05a31"},
        {AUTH_SHA3_384, "200830ac53523dd2c235f4e1b2264551b1d8ac8b"},
        {AUTH_SHA3_512, "a9da7d4e8fbf034aa288b55ee54b6c9834248075"},
    };
    uint8_t pkt[NTP_HEADER_LEN] = {0x23, 0, 6, 0xec};
    static const uint8_t tx[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
    memcpy(pkt + 40, tx, sizeof(tx));

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct auth_key k = {.id = 7, .type = v[i].type, .len = 16};
        memcpy(k.key, "tempus-kat-key-1", 16);
        expect_digest(&k, pkt, sizeof(pkt), v[i].digest);
    }
    struct auth_key a128 = make_key(AUTH_AES128, 1, "2b7e151628aed2a6abf7158809cf4f3c");
    struct auth_key a256 = make_key(
        AUTH_AES256, 1, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
    expect_digest(&a128, pkt, sizeof(pkt), "6a871118743eacd4ddc2dbfe5a762435");
    expect_digest(&a256, pkt, sizeof(pkt), "7193697b96c70c03b384a1694f33c6fe");
}

static void test_types(void **state)
{
    (void)state;
    enum auth_type t;
    assert_int_equal(auth_type_from_name("aes128", &t), 0);
    assert_int_equal(t, AUTH_AES128);
    assert_int_equal(auth_type_from_name("SHA3-256", &t), 0);
    assert_int_equal(t, AUTH_SHA3_256);
    assert_int_equal(auth_type_from_name("AES-128", &t), -1);
    assert_int_equal(auth_type_from_name("", &t), -1);
    for (int i = 0; i < AUTH_NTYPES; i++) {
        assert_int_equal(auth_type_from_name(auth_type_name((enum auth_type)i), &t), 0);
        assert_int_equal(t, i);
    }
    assert_int_equal(auth_digest_len(AUTH_AES128), 16);
    assert_int_equal(auth_digest_len(AUTH_AES256), 16);
    assert_int_equal(auth_digest_len(AUTH_MD5), 16);
    assert_int_equal(auth_digest_len(AUTH_SHA1), 20);
    assert_int_equal(auth_digest_len(AUTH_SHA512), 20);
    assert_int_equal(auth_cipher_key_len(AUTH_AES128), 16);
    assert_int_equal(auth_cipher_key_len(AUTH_AES256), 32);
    assert_int_equal(auth_cipher_key_len(AUTH_SHA1), 0);
    assert_true(auth_type_weak(AUTH_MD5));
    assert_false(auth_type_weak(AUTH_SHA1));
    assert_false(auth_type_weak(AUTH_AES128));
}

/* A key of each type signs, verifies, and rejects every kind of tampering. */
static void test_sign_verify_tamper(void **state)
{
    (void)state;
    for (int t = 0; t < AUTH_NTYPES; t++) {
        struct auth_key k = {.id = 0x01020304, .type = (enum auth_type)t};
        size_t klen = auth_cipher_key_len(k.type) ? auth_cipher_key_len(k.type) : 20;
        for (size_t i = 0; i < klen; i++)
            k.key[i] = (uint8_t)(i * 7 + (size_t)t);
        k.len = klen;

        uint8_t pkt[NTP_MAX_PACKET] = {0x23, 0, 6};
        size_t dlen = auth_digest_len(k.type);
        size_t n = auth_sign(&k, pkt, NTP_HEADER_LEN, sizeof(pkt));
        assert_int_equal(n, NTP_HEADER_LEN + AUTH_KEYID_LEN + dlen);
        assert_memory_equal(pkt + NTP_HEADER_LEN, "\x01\x02\x03\x04", 4);

        /* ntp_wire finds the same MAC the signer wrote */
        struct ntp_packet_info info;
        assert_int_equal(ntp_wire_parse(pkt, n, &info), 0);
        assert_int_equal(info.mac_off, NTP_HEADER_LEN);
        assert_int_equal(info.mac_len, AUTH_KEYID_LEN + dlen);
        assert_int_equal(info.key_id, 0x01020304);

        memcmp_calls = 0;
        assert_true(auth_verify(&k, pkt, NTP_HEADER_LEN, n - NTP_HEADER_LEN));
        assert_int_equal(memcmp_calls, 1);

        /* one flipped bit anywhere (packet, key id, digest) breaks it */
        size_t spots[] = {
            0, 40, 47, NTP_HEADER_LEN, NTP_HEADER_LEN + 3, NTP_HEADER_LEN + AUTH_KEYID_LEN, n - 1};
        for (size_t s = 0; s < sizeof(spots) / sizeof(spots[0]); s++) {
            pkt[spots[s]] ^= 0x01;
            assert_false(auth_verify(&k, pkt, NTP_HEADER_LEN, n - NTP_HEADER_LEN));
            pkt[spots[s]] ^= 0x01;
        }
        /* a shorter or longer MAC field */
        assert_false(auth_verify(&k, pkt, NTP_HEADER_LEN, n - NTP_HEADER_LEN - 4));
        assert_false(auth_verify(&k, pkt, NTP_HEADER_LEN, 0));
        /* another key with the same id, or the same key under another id */
        struct auth_key other = k;
        other.key[0] ^= 0x80;
        assert_false(auth_verify(&other, pkt, NTP_HEADER_LEN, n - NTP_HEADER_LEN));
        other = k;
        other.id = 0x01020305;
        assert_false(auth_verify(&other, pkt, NTP_HEADER_LEN, n - NTP_HEADER_LEN));
        /* still good after all that */
        assert_true(auth_verify(&k, pkt, NTP_HEADER_LEN, n - NTP_HEADER_LEN));
        auth_key_clear(&k);
        assert_int_equal(k.len, 0);
        assert_int_equal(k.id, 0);
    }
}

static void test_bad_keys_and_caps(void **state)
{
    (void)state;
    uint8_t pkt[NTP_HEADER_LEN + NTP_MAC_MAX_LEN] = {0x23}, out[AUTH_DIGEST_MAX];
    struct auth_key k = make_key(AUTH_AES128, 9, "000102030405060708090a0b0c0d0e0f");

    /* too little room: nothing written past the packet */
    memset(pkt + NTP_HEADER_LEN, 0xaa, NTP_MAC_MAX_LEN);
    assert_int_equal(auth_sign(&k, pkt, NTP_HEADER_LEN, NTP_HEADER_LEN + 19), 0);
    for (size_t i = NTP_HEADER_LEN; i < sizeof(pkt); i++)
        assert_int_equal(pkt[i], 0xaa);
    assert_int_equal(auth_sign(&k, pkt, NTP_HEADER_LEN, NTP_HEADER_LEN + 20), 68);
    assert_int_equal(auth_digest(&k, pkt, 48, out, 15), 0);
    /* a cipher key of the wrong length, an empty hash key */
    struct auth_key bad = make_key(AUTH_AES256, 9, "000102030405060708090a0b0c0d0e0f");
    assert_int_equal(auth_digest(&bad, pkt, 48, out, sizeof(out)), 0);
    assert_int_equal(auth_sign(&bad, pkt, NTP_HEADER_LEN, sizeof(pkt)), 0);
    bad = (struct auth_key){.id = 1, .type = AUTH_SHA1, .len = 0};
    assert_int_equal(auth_digest(&bad, pkt, 48, out, sizeof(out)), 0);
}

static void test_equal(void **state)
{
    (void)state;
    memcmp_calls = 0;
    assert_true(auth_equal("abcd", "abcd", 4));
    assert_false(auth_equal("abcd", "abce", 4));
    assert_false(auth_equal("xbcd", "abcd", 4));
    assert_true(auth_equal("", "", 0));
    assert_int_equal(memcmp_calls, 4);
}

/* Random keys and packets: whatever the content, sign then verify holds
 * and any single changed byte before the MAC is caught. */
static void test_random_roundtrip(void **state)
{
    (void)state;
    const char *env = getenv("TEMPUS_SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    printf("test_random_roundtrip: seed %u (set TEMPUS_SEED to repeat)\n", seed);
    srand(seed);
    for (int i = 0; i < 2000; i++) {
        struct auth_key k = {.id = (uint32_t)rand() | 1u,
                             .type = (enum auth_type)(i % AUTH_NTYPES)};
        size_t need = auth_cipher_key_len(k.type);
        k.len = need ? need : 1 + (size_t)rand() % AUTH_KEY_MAX;
        for (size_t j = 0; j < k.len; j++)
            k.key[j] = (uint8_t)rand();
        uint8_t pkt[NTP_MAX_PACKET];
        size_t len = NTP_HEADER_LEN + 4 * ((size_t)rand() % 64);
        for (size_t j = 0; j < len; j++)
            pkt[j] = (uint8_t)rand();
        size_t n = auth_sign(&k, pkt, len, sizeof(pkt));
        assert_int_equal(n, len + AUTH_KEYID_LEN + auth_digest_len(k.type));
        assert_true(auth_verify(&k, pkt, len, n - len));
        size_t at = (size_t)rand() % len;
        pkt[at] = (uint8_t)(pkt[at] + 1 + rand() % 255);
        assert_false(auth_verify(&k, pkt, len, n - len));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmac_vectors),
        cmocka_unit_test(test_packet_vectors),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_sign_verify_tamper),
        cmocka_unit_test(test_bad_keys_and_caps),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_random_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
