/* SPDX-License-Identifier: ISC */
/* Unit tests for nts_aead.c: RFC 5297 appendix A.1 and A.2 vectors through
 * seal and open, an empty plaintext (what an NTS client request carries)
 * against a tag computed independently with Python's cryptography AESSIV,
 * tampering with every part, order of the associated data, bounds, and the
 * exporter context bytes of RFC 8915 section 5.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nts_aead.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        char byte[3] = {hex[2 * i], hex[2 * i + 1], '\0'}, *end;
        unsigned long v = strtoul(byte, &end, 16);
        assert_true(end == byte + 2);
        out[i] = (uint8_t)v;
    }
    return n;
}

static int setup(void **state)
{
    (void)state;
    return nts_aead_init();
}

static int teardown(void **state)
{
    (void)state;
    nts_aead_fini();
    return 0;
}

/* RFC 5297 A.1: deterministic, one component of associated data. */
static void test_rfc5297_a1(void **state)
{
    (void)state;
    uint8_t key[32], ad[24], pt[14], want[30], got[64], back[64];

    unhex("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", key, 32);
    unhex("101112131415161718191a1b1c1d1e1f2021222324252627", ad, sizeof(ad));
    unhex("112233445566778899aabbccddee", pt, sizeof(pt));
    unhex("85632d07c6e8f37f950acd320a2ecc9340c02b9690c4dc04daef7f6afe5c", want, sizeof(want));
    const struct nts_aead_ad a[] = {{ad, sizeof(ad)}};

    assert_int_equal(nts_aead_seal(key, a, 1, pt, sizeof(pt), got, sizeof(got)), 30);
    assert_memory_equal(got, want, 30);
    assert_int_equal(nts_aead_open(key, a, 1, want, 30, back, sizeof(back)), 14);
    assert_memory_equal(back, pt, 14);
}

/* RFC 5297 A.2: two components of associated data, then the nonce. */
static void test_rfc5297_a2(void **state)
{
    (void)state;
    uint8_t key[32], ad1[40], ad2[10], nonce[16], pt[47], want[63], got[63], back[47];

    unhex("7f7e7d7c7b7a79787776757473727170404142434445464748494a4b4c4d4e4f", key, 32);
    unhex("00112233445566778899aabbccddeeffdeaddadadeaddadaffeeddccbbaa99887766554433221100",
          ad1, sizeof(ad1));
    unhex("102030405060708090a0", ad2, sizeof(ad2));
    unhex("09f911029d74e35bd84156c5635688c0", nonce, sizeof(nonce));
    unhex("7468697320697320736f6d6520706c61696e7465787420746f20656e6372797074207573696e67205349"
          "562d414553",
          pt, sizeof(pt));
    unhex("7bdb6e3b432667eb06f4d14bff2fbd0fcb900f2fddbe404326601965c889bf17dba77ceb094fa663b7a3f7"
          "48ba8af829ea64ad544a272e9c485b62a3fd5c0d",
          want, sizeof(want));
    const struct nts_aead_ad a[] = {{ad1, 40}, {ad2, 10}, {nonce, 16}};

    assert_int_equal(nts_aead_seal(key, a, 3, pt, sizeof(pt), got, sizeof(got)), 63);
    assert_memory_equal(got, want, 63);
    assert_int_equal(nts_aead_open(key, a, 3, want, 63, back, sizeof(back)), 47);
    assert_memory_equal(back, pt, 47);
    /* One bit anywhere (tag, ciphertext, each component, key) fails, and
     * the output is wiped. */
    for (size_t i = 0; i < 63; i++) {
        want[i] ^= 0x80;
        memset(back, 0x5a, sizeof(back));
        assert_int_equal(nts_aead_open(key, a, 3, want, 63, back, sizeof(back)), -1);
        assert_int_equal(back[0], 0);
        want[i] ^= 0x80;
    }
    ad2[9] ^= 1;
    assert_int_equal(nts_aead_open(key, a, 3, want, 63, back, sizeof(back)), -1);
    ad2[9] ^= 1;
    nonce[0] ^= 1;
    assert_int_equal(nts_aead_open(key, a, 3, want, 63, back, sizeof(back)), -1);
    nonce[0] ^= 1;
    key[31] ^= 1;
    assert_int_equal(nts_aead_open(key, a, 3, want, 63, back, sizeof(back)), -1);
    key[31] ^= 1;
    /* The components are a vector, not a concatenation: swapped, or the
     * nonce left out, the tag no longer matches. */
    const struct nts_aead_ad swapped[] = {{ad2, 10}, {ad1, 40}, {nonce, 16}};
    assert_int_equal(nts_aead_open(key, swapped, 3, want, 63, back, sizeof(back)), -1);
    assert_int_equal(nts_aead_open(key, a, 2, want, 63, back, sizeof(back)), -1);
    assert_int_equal(nts_aead_open(key, a, 3, want, 63, back, sizeof(back)), 47);
}

/* An NTS client request seals nothing: the ciphertext is the tag alone.
 * Expected value from Python: AESSIV(bytes(range(32))).encrypt(b"",
 * [bytes(range(48)), bytes(16)]). */
static void test_empty_plaintext(void **state)
{
    (void)state;
    uint8_t key[32], ad[48], nonce[16] = {0}, want[16], got[16], back[1];

    for (int i = 0; i < 48; i++)
        ad[i] = (uint8_t)i;
    memcpy(key, ad, 32);
    unhex("eba16772c6b7bc7c08113ab8059efaad", want, sizeof(want));
    const struct nts_aead_ad a[] = {{ad, 48}, {nonce, 16}};
    assert_int_equal(nts_aead_seal(key, a, 2, NULL, 0, got, sizeof(got)), 16);
    assert_memory_equal(got, want, 16);
    assert_int_equal(nts_aead_open(key, a, 2, got, 16, back, 0), 0);
    got[15] ^= 1;
    assert_int_equal(nts_aead_open(key, a, 2, got, 16, back, sizeof(back)), -1);
}

static void test_bounds(void **state)
{
    (void)state;
    uint8_t key[32] = {1}, ad[8] = {2}, pt[40] = {3}, out[56], back[40];
    const struct nts_aead_ad a[] = {{ad, 8}}, none[] = {{ad, 0}};
    const struct nts_aead_ad many[NTS_AEAD_AD_MAX + 1] = {{ad, 8}, {ad, 8}, {ad, 8}, {ad, 8},
                                                          {ad, 8}};

    assert_int_equal(nts_aead_seal(key, a, 1, pt, 40, out, 55), 0);
    assert_int_equal(nts_aead_seal(key, none, 1, pt, 40, out, 56), 0);
    assert_int_equal(nts_aead_seal(key, many, NTS_AEAD_AD_MAX + 1, pt, 40, out, 56), 0);
    assert_int_equal(nts_aead_seal(key, many, NTS_AEAD_AD_MAX, pt, 40, out, 56), 56);
    assert_int_equal(nts_aead_seal(key, a, 1, pt, 40, out, 56), 56);
    assert_int_equal(nts_aead_open(key, a, 1, out, 56, back, 39), -1);
    assert_int_equal(nts_aead_open(key, a, 1, out, 15, back, 40), -1);
    assert_int_equal(nts_aead_open(key, a, 1, out, 56, back, 40), 40);
    assert_memory_equal(back, pt, 40);
}

static void test_exporter_context(void **state)
{
    (void)state;
    static const uint8_t c2s[5] = {0x00, 0x00, 0x00, 0x0f, 0x00};
    static const uint8_t s2c[5] = {0x00, 0x00, 0x00, 0x0f, 0x01};
    uint8_t out[5];

    nts_aead_exporter_context(15, NTS_DIR_C2S, out);
    assert_memory_equal(out, c2s, 5);
    nts_aead_exporter_context(15, NTS_DIR_S2C, out);
    assert_memory_equal(out, s2c, 5);
    nts_aead_exporter_context(0x1e, NTS_DIR_S2C, out);
    assert_int_equal(out[3], 0x1e);
    assert_string_equal(NTS_EXPORTER_LABEL, "EXPORTER-network-time-security");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5297_a1),       cmocka_unit_test(test_rfc5297_a2),
        cmocka_unit_test(test_empty_plaintext),  cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_exporter_context),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
