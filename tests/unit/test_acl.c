/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "acl.h"

static int allowed(const struct acl *acl, const char *s)
{
    struct netaddr a;
    if (addr_parse(s, &a) != 0)
        fail_msg("test address \"%s\" does not parse", s);
    return acl_check(acl, &a);
}

static void add_ok(struct acl *acl, const char *spec, int allow)
{
    if (acl_add(acl, spec, allow) != 0)
        fail_msg("acl_add rejected \"%s\"", spec);
}

static void test_empty_denies(void **state)
{
    (void)state;
    struct acl *acl = acl_create();

    assert_int_equal(acl_count(acl), 0);
    assert_false(allowed(acl, "127.0.0.1"));
    assert_false(allowed(acl, "0.0.0.0"));
    assert_false(allowed(acl, "::1"));
    assert_false(allowed(acl, "::"));
    acl_destroy(acl);
}

static void test_allow_all(void **state)
{
    (void)state;
    struct acl *acl = acl_create();

    add_ok(acl, "all", 1);
    assert_int_equal(acl_count(acl), 2);
    assert_true(allowed(acl, "192.0.2.1"));
    assert_true(allowed(acl, "255.255.255.255"));
    assert_true(allowed(acl, "2001:db8::1"));
    assert_true(allowed(acl, "::"));
    /* "deny all" later replaces both rules rather than adding two more */
    add_ok(acl, "all", 0);
    assert_int_equal(acl_count(acl), 2);
    assert_false(allowed(acl, "192.0.2.1"));
    assert_false(allowed(acl, "2001:db8::1"));
    acl_destroy(acl);
}

static void test_v4_never_opens_v6(void **state)
{
    (void)state;
    struct acl *acl = acl_create();

    add_ok(acl, "0.0.0.0/0", 1);
    assert_true(allowed(acl, "10.0.0.1"));
    assert_false(allowed(acl, "::1"));
    assert_false(allowed(acl, "::a00:1")); /* v4-compatible is IPv6 */
    assert_false(allowed(acl, "a00:1::")); /* same leading bytes as 10.0.0.1 */
    acl_destroy(acl);

    acl = acl_create();
    add_ok(acl, "::/0", 1);
    assert_true(allowed(acl, "2001:db8::1"));
    assert_false(allowed(acl, "10.0.0.1"));
    assert_false(allowed(acl, "::ffff:10.0.0.1")); /* mapped is IPv4 */
    acl_destroy(acl);
}

static void test_mapped_is_v4(void **state)
{
    (void)state;
    struct acl *acl = acl_create();

    add_ok(acl, "10.1.0.0/16", 1);
    assert_true(allowed(acl, "::ffff:10.1.2.3"));
    assert_false(allowed(acl, "::ffff:10.2.2.3"));
    /* a rule written in mapped form is an IPv4 rule */
    add_ok(acl, "::ffff:192.0.2.0/120", 1);
    assert_true(allowed(acl, "192.0.2.200"));
    assert_false(allowed(acl, "192.0.3.1"));
    assert_int_equal(acl_count(acl), 2);
    acl_destroy(acl);
}

static void test_overlapping_v4(void **state)
{
    (void)state;
    struct acl *acl = acl_create();

    /* added in an order that is not the specificity order on purpose */
    add_ok(acl, "10.1.2.0/24", 1);
    add_ok(acl, "10.0.0.0/8", 1);
    add_ok(acl, "10.1.2.3", 0);
    add_ok(acl, "10.1.0.0/16", 0);
    assert_int_equal(acl_count(acl), 4);

    assert_false(allowed(acl, "9.255.255.255"));
    assert_true(allowed(acl, "10.0.0.1"));     /* /8 */
    assert_true(allowed(acl, "10.255.1.2"));   /* /8 */
    assert_true(allowed(acl, "10.0.255.255")); /* /8, just below the /16 */
    assert_false(allowed(acl, "10.1.0.0"));    /* /16 */
    assert_false(allowed(acl, "10.1.1.255"));  /* /16 */
    assert_false(allowed(acl, "10.1.3.0"));    /* /16 */
    assert_true(allowed(acl, "10.1.2.0"));     /* /24 */
    assert_true(allowed(acl, "10.1.2.2"));     /* /24 */
    assert_true(allowed(acl, "10.1.2.4"));     /* /24 */
    assert_true(allowed(acl, "10.1.2.255"));   /* /24 */
    assert_false(allowed(acl, "10.1.2.3"));    /* /32 */
    assert_false(allowed(acl, "::ffff:10.1.2.3"));
    assert_true(allowed(acl, "::ffff:10.1.2.4"));
    assert_false(allowed(acl, "11.0.0.0"));
    acl_destroy(acl);
}

static void test_same_subnet_later_wins(void **state)
{
    (void)state;
    struct acl *acl = acl_create();

    add_ok(acl, "192.0.2.0/24", 1);
    add_ok(acl, "192.0.2.77/24", 0); /* same subnet once host bits are cleared */
    assert_int_equal(acl_count(acl), 1);
    assert_false(allowed(acl, "192.0.2.1"));
    add_ok(acl, "192.0.2.0/24", 1);
    assert_int_equal(acl_count(acl), 1);
    assert_true(allowed(acl, "192.0.2.1"));
    /* same address, different prefix: two distinct rules */
    add_ok(acl, "192.0.2.0/25", 0);
    assert_int_equal(acl_count(acl), 2);
    assert_false(allowed(acl, "192.0.2.1"));
    assert_true(allowed(acl, "192.0.2.129"));
    acl_destroy(acl);
}

static void test_bad_specs(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",        "ALL",         "all ",        "1.2.3.4/33",       "1.2.3",
        "::1/129", "/8",          "1.2.3.4/",    "1.2.3.4/-1",       "1.2.3.4/ 8",
        "abc",     "example.org", "10.0.0.0/8,", "::ffff:10.0.0.0/8"};
    struct acl *acl = acl_create();

    add_ok(acl, "10.0.0.0/8", 1);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (acl_add(acl, bad[i], 0) != -1)
            fail_msg("acl_add accepted \"%s\"", bad[i]);
        if (acl_add(acl, bad[i], 1) != -1)
            fail_msg("acl_add accepted \"%s\"", bad[i]);
    }
    assert_int_equal(acl_count(acl), 1);
    assert_true(allowed(acl, "10.1.2.3"));
    assert_false(allowed(acl, "11.1.2.3"));
    assert_false(allowed(acl, "::1"));
    acl_destroy(acl);
}

static void test_overlapping_v6(void **state)
{
    (void)state;
    struct acl *acl = acl_create();

    add_ok(acl, "2001:db8::/32", 1);
    add_ok(acl, "2001:db8:1::/48", 0);
    add_ok(acl, "2001:db8:1:2::/64", 1);
    add_ok(acl, "2001:db8:1:2::/65", 0); /* lower half of the /64 */
    add_ok(acl, "2001:db8:1:2::1", 1);
    add_ok(acl, "all", 0);

    assert_false(allowed(acl, "2001:db9::1"));
    assert_true(allowed(acl, "2001:db8::1"));
    assert_true(allowed(acl, "2001:db8:ffff::1"));
    assert_false(allowed(acl, "2001:db8:1::1"));
    assert_false(allowed(acl, "2001:db8:1:3::1"));
    assert_true(allowed(acl, "2001:db8:1:2:8000::"));
    assert_true(allowed(acl, "2001:db8:1:2:ffff:ffff:ffff:ffff"));
    assert_false(allowed(acl, "2001:db8:1:2::2"));
    assert_false(allowed(acl, "2001:db8:1:2:7fff:ffff:ffff:ffff"));
    assert_true(allowed(acl, "2001:db8:1:2::1"));
    assert_false(allowed(acl, "10.0.0.1"));
    acl_destroy(acl);
}

/* Many rules in shuffled order against a brute-force "longest match" model;
 * the seed comes from TEMPUS_SEED or is fixed, and is printed either way. */
static uint64_t test_seed;

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_random_model(void **state)
{
    (void)state;
    enum { NRULES = 200, NPROBE = 20000 };
    struct netsubnet nets[NRULES];
    int allow[NRULES];
    uint64_t s = test_seed | 1;
    struct acl *acl = acl_create();
    char spec[ADDR_STRLEN + 8], buf[ADDR_STRLEN];

    for (int i = 0; i < NRULES; i++) {
        uint64_t r = rnd(&s);
        /* a narrow 10.0.0.0/12 space so that rules overlap a lot */
        snprintf(spec, sizeof(spec), "10.%u.%u.%u/%u", (unsigned)(r & 15), (unsigned)(r >> 8 & 255),
                 (unsigned)(r >> 16 & 255), (unsigned)(r >> 24) % 33);
        assert_int_equal(addr_parse_subnet(spec, &nets[i]), 0);
        allow[i] = (int)(r >> 40 & 1);
        add_ok(acl, spec, allow[i]);
    }
    for (int p = 0; p < NPROBE; p++) {
        uint64_t r = rnd(&s);
        struct netaddr a = {.family = AF_INET};
        a.bytes[0] = 10;
        a.bytes[1] = (uint8_t)(r & 15);
        a.bytes[2] = (uint8_t)(r >> 8);
        a.bytes[3] = (uint8_t)(r >> 16);
        int want = 0, best = -1;
        for (int i = 0; i < NRULES; i++) /* last of the longest wins */
            if (addr_in_subnet(&a, &nets[i]) && nets[i].prefix >= best) {
                best = nets[i].prefix;
                want = allow[i];
            }
        if (acl_check(acl, &a) != want)
            fail_msg("seed %llu: %s expected %d", (unsigned long long)test_seed,
                     addr_format(&a, buf, sizeof(buf)), want);
    }
    acl_destroy(acl);
}

int main(void)
{
    const char *env = getenv("TEMPUS_SEED");
    test_seed = env ? strtoull(env, NULL, 0) : 20240601;
    printf("test_acl: seed %llu (set TEMPUS_SEED to reproduce)\n", (unsigned long long)test_seed);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_denies),      cmocka_unit_test(test_allow_all),
        cmocka_unit_test(test_v4_never_opens_v6), cmocka_unit_test(test_mapped_is_v4),
        cmocka_unit_test(test_overlapping_v4),    cmocka_unit_test(test_same_subnet_later_wins),
        cmocka_unit_test(test_bad_specs),         cmocka_unit_test(test_overlapping_v6),
        cmocka_unit_test(test_random_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
