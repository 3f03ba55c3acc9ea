/* SPDX-License-Identifier: ISC */
/* Unit tests for nts_cookie.c: the cookie's layout, round trips, key
 * rotation with the previous key kept for exactly one rotation, and
 * refusal of tampered, truncated and foreign cookies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nts_cookie.h"
#include "nts_ke.h"

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

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + 7 * i);
}

static struct nts_cookie_data sample_data(void)
{
    struct nts_cookie_data d = {.aead = NTS_AEAD_AES_SIV_CMAC_256};
    fill(d.c2s, sizeof(d.c2s), 0x10);
    fill(d.s2c, sizeof(d.s2c), 0x80);
    return d;
}

static void test_layout_roundtrip(void **state)
{
    (void)state;
    struct nts_cookie_ring ring = {0};
    struct nts_cookie_data d = sample_data(), back;
    uint8_t key[32], nonce[16], c[NTS_COOKIE_LEN + 4];

    fill(key, 32, 1);
    fill(nonce, 16, 0xa0);
    assert_int_equal(nts_cookie_make(&ring, &d, nonce, c, sizeof(c)), 0); /* no key yet */
    assert_int_equal(nts_cookie_rotate(&ring, 0x01020304, key), 0);
    assert_int_equal(nts_cookie_make(&ring, &d, nonce, c, NTS_COOKIE_LEN - 1), 0);
    assert_int_equal(nts_cookie_make(&ring, &d, nonce, c, sizeof(c)), NTS_COOKIE_LEN);
    assert_int_equal(NTS_COOKIE_LEN % 4, 0);
    assert_true(NTS_COOKIE_LEN <= NTS_COOKIE_MAX);
    static const uint8_t id[] = {1, 2, 3, 4};
    assert_memory_equal(c, id, 4);
    assert_memory_equal(c + 4, nonce, NTS_COOKIE_NONCE_LEN);
    /* The keys are not in the clear. */
    for (size_t i = 0; i + 8 <= NTS_COOKIE_LEN; i++) {
        assert_true(memcmp(c + i, d.c2s, 8) != 0);
        assert_true(memcmp(c + i, d.s2c, 8) != 0);
    }
    assert_int_equal(nts_cookie_open(&ring, c, NTS_COOKIE_LEN, &back), 0);
    assert_int_equal(back.aead, 15);
    assert_memory_equal(back.c2s, d.c2s, 32);
    assert_memory_equal(back.s2c, d.s2c, 32);
    /* Another nonce, another cookie for the same keys. */
    uint8_t c2[NTS_COOKIE_LEN];
    nonce[0] ^= 1;
    assert_int_equal(nts_cookie_make(&ring, &d, nonce, c2, sizeof(c2)), NTS_COOKIE_LEN);
    assert_true(memcmp(c + 16, c2 + 16, NTS_COOKIE_LEN - 16) != 0);
    nts_cookie_ring_clear(&ring);
    assert_int_equal(ring.keys[0].id, 0);
    assert_int_equal(nts_cookie_open(&ring, c, NTS_COOKIE_LEN, &back), -1);
}

static void test_tamper(void **state)
{
    (void)state;
    struct nts_cookie_ring ring = {0};
    struct nts_cookie_data d = sample_data(), back;
    uint8_t key[32], nonce[16], c[NTS_COOKIE_LEN];

    fill(key, 32, 2);
    fill(nonce, 16, 3);
    assert_int_equal(nts_cookie_rotate(&ring, 9, key), 0);
    assert_int_equal(nts_cookie_make(&ring, &d, nonce, c, sizeof(c)), NTS_COOKIE_LEN);
    for (size_t i = 0; i < NTS_COOKIE_LEN; i++) {
        c[i] ^= 0x04;
        assert_int_equal(nts_cookie_open(&ring, c, NTS_COOKIE_LEN, &back), -1);
        assert_int_equal(back.aead, 0);
        c[i] ^= 0x04;
    }
    assert_int_equal(nts_cookie_open(&ring, c, NTS_COOKIE_LEN - 4, &back), -1);
    assert_int_equal(nts_cookie_open(&ring, c, NTS_COOKIE_LEN, &back), 0);
    /* Same id, another key: a cookie of another server pair. */
    struct nts_cookie_ring other = {0};
    key[0] ^= 1;
    assert_int_equal(nts_cookie_rotate(&other, 9, key), 0);
    assert_int_equal(nts_cookie_open(&other, c, NTS_COOKIE_LEN, &back), -1);
}

static void test_rotation(void **state)
{
    (void)state;
    struct nts_cookie_ring ring = {0};
    struct nts_cookie_data d = sample_data(), back;
    uint8_t k1[32], k2[32], k3[32], nonce[16] = {0}, c1[NTS_COOKIE_LEN], c2[NTS_COOKIE_LEN];

    fill(k1, 32, 11);
    fill(k2, 32, 22);
    fill(k3, 32, 33);
    assert_int_equal(nts_cookie_rotate(&ring, 1, k1), 0);
    assert_int_equal(nts_cookie_make(&ring, &d, nonce, c1, sizeof(c1)), NTS_COOKIE_LEN);
    assert_int_equal(nts_cookie_rotate(&ring, 1, k2), -1); /* id in use */
    assert_int_equal(nts_cookie_rotate(&ring, 0, k2), -1);
    assert_int_equal(nts_cookie_rotate(&ring, 2, k2), 0);
    assert_int_equal(ring.keys[0].id, 2);
    assert_int_equal(ring.keys[1].id, 1);
    assert_int_equal(nts_cookie_make(&ring, &d, nonce, c2, sizeof(c2)), NTS_COOKIE_LEN);
    assert_int_equal(c2[3], 2);
    /* The previous key still opens its cookies... */
    assert_int_equal(nts_cookie_open(&ring, c1, NTS_COOKIE_LEN, &back), 0);
    assert_memory_equal(back.s2c, d.s2c, 32);
    assert_int_equal(nts_cookie_rotate(&ring, 1, k3), -1); /* still in the ring */
    assert_int_equal(nts_cookie_rotate(&ring, 3, k3), 0);
    /* ...for one rotation only. */
    assert_int_equal(nts_cookie_open(&ring, c1, NTS_COOKIE_LEN, &back), -1);
    assert_int_equal(nts_cookie_open(&ring, c2, NTS_COOKIE_LEN, &back), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_roundtrip),
        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_rotation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
