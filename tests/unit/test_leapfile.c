/* SPDX-License-Identifier: ISC */
/* Unit tests for leapfile.c: the real list tzdata ships, a hash that does
 * not match, a negative leap second, month ends, and errors by line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "leapfile.h"

#define SYSTEM_LIST "/usr/share/zoneinfo/leap-seconds.list"
#define NTP_UNIX 2208988800LL

/* 2016-12-31 12:00 UTC and a day later, Unix time. */
#define DEC31_2016 1483185600
#define JAN01_2017 (DEC31_2016 + 86400)

static void test_system_list(void **state)
{
    struct leap_table *t = NULL;
    (void)state;
    /* tzdata is installed by scripts/deps.sh: its absence fails here */
    assert_int_equal(leapfile_load(SYSTEM_LIST, stderr, &t), 0);
    assert_true(leapfile_count(t) >= 28);
    assert_int_equal(leapfile_tai_offset(t, JAN01_2017), 37);
    assert_int_equal(leapfile_tai_offset(t, DEC31_2016), 36);
    assert_int_equal(leapfile_leap_today(t, DEC31_2016), 1);
    assert_int_equal(leapfile_leap_today(t, JAN01_2017), 0);
    assert_int_equal(leapfile_leap_today(t, DEC31_2016 - 86400), 0);
    assert_true(leapfile_expiry(t) > JAN01_2017);
    leapfile_free(t);
}

/* A list whose entries are given, with a correct or broken hash. */
static size_t make_list(char *buf, size_t cap, const long long (*e)[2], int n, int break_hash)
{
    char digits[1024];
    size_t nd = 0, len = 0;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    const long long updated = 3900000000LL, expiry = 3990000000LL;

    nd += (size_t)snprintf(digits + nd, sizeof(digits) - nd, "%lld%lld", updated, expiry);
    len += (size_t)snprintf(buf + len, cap - len, "# test list\n#$\t%lld\n#@\t%lld\n", updated,
                            expiry);
    for (int i = 0; i < n; i++) {
        nd += (size_t)snprintf(digits + nd, sizeof(digits) - nd, "%lld%lld", e[i][0], e[i][1]);
        len += (size_t)snprintf(buf + len, cap - len, "%lld\t%lld\t# entry\n", e[i][0], e[i][1]);
    }
    assert_int_equal(EVP_Digest(digits, nd, md, &mdlen, EVP_sha1(), NULL), 1);
    if (break_hash)
        md[7] ^= 1;
    len += (size_t)snprintf(buf + len, cap - len, "#h\t");
    for (size_t i = 0; i < 5; i++) {
        const unsigned char *q = md + 4 * i;
        len += (size_t)snprintf(buf + len, cap - len, "%x ",
                                (unsigned)q[0] << 24 | (unsigned)q[1] << 16 |
                                    (unsigned)q[2] << 8 | q[3]);
    }
    len += (size_t)snprintf(buf + len, cap - len, "\n");
    return len;
}

static void test_negative_leap(void **state)
{
    /* a deletion at the end of 2030-06-30: TAI - UTC goes 37 -> 36 */
    const long long jul2030 = 1909094400LL + NTP_UNIX; /* 2030-07-01 00:00 UTC */
    const long long e[][2] = {{3692217600LL, 37}, {jul2030, 36}};
    char buf[2048];
    struct leap_table *t = NULL;
    (void)state;
    size_t len = make_list(buf, sizeof(buf), e, 2, 0);
    assert_int_equal(leapfile_parse("t.list", buf, len, stderr, &t), 0);
    assert_int_equal(leapfile_leap_today(t, (time_t)(jul2030 - NTP_UNIX) - 3600), -1);
    assert_int_equal(leapfile_tai_offset(t, (time_t)(jul2030 - NTP_UNIX)), 36);
    assert_int_equal(leapfile_expiry(t), (time_t)(3990000000LL - NTP_UNIX));
    leapfile_free(t);
}

static void expect_refused(const char *buf, size_t len, const char *msg)
{
    struct leap_table *t = NULL;
    char *out = NULL;
    size_t outlen = 0;
    FILE *errs = open_memstream(&out, &outlen);
    assert_non_null(errs);
    assert_int_equal(leapfile_parse("t.list", buf, len, errs, &t), -1);
    fclose(errs);
    assert_non_null(strstr(out, msg));
    free(out);
}

static void test_refused(void **state)
{
    const long long e[][2] = {{3692217600LL, 37}};
    char buf[2048];
    (void)state;
    size_t len = make_list(buf, sizeof(buf), e, 1, 1);
    expect_refused(buf, len, "t.list:5: the #h hash does not match");
    expect_refused("#$ 1\n#@ 2\n3692217600 37\n", 24, "t.list:3: no #h, #@ or #$ line");
    expect_refused("3692217600\n", 11, "t.list:1: an entry is");
    expect_refused("3692217600 37\n3550089600 36\n", 28, "t.list:2: entries must be in");
    expect_refused("#h zz\n", 6, "t.list:1: bad #h line");
}

static void test_month_end(void **state)
{
    (void)state;
    assert_true(leapfile_month_end(DEC31_2016));
    assert_false(leapfile_month_end(DEC31_2016 - 86400));
    assert_false(leapfile_month_end(JAN01_2017));
    assert_true(leapfile_month_end(1488283200)); /* 2017-02-28 12:00 */
    assert_true(leapfile_month_end(1593518400)); /* 2020-06-30 12:00 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_system_list),
        cmocka_unit_test(test_negative_leap),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_month_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
