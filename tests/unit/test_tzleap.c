/* SPDX-License-Identifier: ISC */
/* Unit tests for tzleap.c: the right/UTC zone tzdata installs, the same
 * records in version 1 (32-bit only) and version 4 files built here (an
 * expiry record, a deleted second, a table cut short at its start), files
 * the parser must refuse, every truncation of the real file and random
 * damage to it (seeded: TEMPUS_SEED repeats a run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tzleap.h"

#define RIGHT_UTC "/usr/share/zoneinfo/right/UTC"
/* 2016-12-31 12:00 UTC and a day later; 2027-06-30 12:00 UTC. */
#define DEC31_2016 1483185600
#define JAN01_2017 (DEC31_2016 + 86400)
#define JUN30_2027 1814356800

static size_t read_all(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f); /* tzdata is installed by scripts/deps.sh */
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void test_right_utc(void **state)
{
    struct leap_table *t = NULL;
    (void)state;
    assert_int_equal(tzleap_load("right/UTC", stderr, &t), 0);
    assert_true(leapfile_count(t) >= 28); /* 1972 and 27 leap seconds */
    assert_int_equal(leapfile_tai_offset(t, JAN01_2017), 37);
    assert_int_equal(leapfile_tai_offset(t, DEC31_2016), 36);
    assert_int_equal(leapfile_tai_offset(t, 78796800 - 1), 10);
    assert_int_equal(leapfile_tai_offset(t, 78796800), 11);
    assert_int_equal(leapfile_leap_today(t, DEC31_2016), 1);
    assert_int_equal(leapfile_leap_today(t, JAN01_2017), 0);
    assert_int_equal(leapfile_leap_today(t, 78796800 - 3600), 1); /* 1972-06-30 */
    assert_true(leapfile_expiry(t) > JAN01_2017);
    leapfile_free(t);
    t = NULL;
    assert_int_equal(tzleap_load(RIGHT_UTC, stderr, &t), 0); /* an absolute path too */
    leapfile_free(t);
}

/* The same with the file's own bytes made a version 1 file: the 32-bit
 * block alone. */
static void test_version1(void **state)
{
    static uint8_t buf[TZLEAP_MAX_BYTES];
    struct leap_table *t = NULL;
    (void)state;
    size_t n = read_all(RIGHT_UTC, buf, sizeof(buf));
    assert_true(n > 44);
    buf[4] = 0;
    assert_int_equal(tzleap_parse("v1", buf, n, stderr, &t), 0);
    assert_int_equal(leapfile_tai_offset(t, JAN01_2017), 37);
    assert_int_equal(leapfile_leap_today(t, DEC31_2016), 1);
    leapfile_free(t);
}

/* A TZif file of the given version with one type ("UTC") and leap records
 * recs[i] = {occurrence, correction} in both blocks (the 64-bit one for
 * version 2 and later). Returns its length. */
static size_t put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
    return 4;
}

static size_t block(uint8_t *p, char version, const long long (*recs)[2], int n, int tsize)
{
    size_t k = 0;
    memcpy(p, "TZif", 4);
    p[4] = (uint8_t)version;
    memset(p + 5, 0, 15);
    k = 20;
    k += put32(p + k, 0);
    k += put32(p + k, 0);
    k += put32(p + k, (uint32_t)n);
    k += put32(p + k, 0);
    k += put32(p + k, 1);
    k += put32(p + k, 4);
    /* one type: utoff 0, isdst 0, abbreviation index 0 */
    memset(p + k, 0, 6);
    k += 6;
    memcpy(p + k, "UTC", 4);
    k += 4;
    for (int i = 0; i < n; i++) {
        if (tsize == 8)
            k += put32(p + k, (uint32_t)((unsigned long long)recs[i][0] >> 32));
        k += put32(p + k, (uint32_t)recs[i][0]);
        k += put32(p + k, (uint32_t)recs[i][1]);
    }
    return k;
}

static size_t make_tzif(uint8_t *p, char version, const long long (*recs)[2], int n)
{
    size_t k = block(p, version, recs, n, 4);
    if (version)
        k += block(p + k, version, recs, n, 8);
    memcpy(p + k, "\nUTC0\n", 6);
    return k + 6;
}

/* 2027-06-30 ends with a second deleted, after the real 27 (the last
 * at the end of 2016); a version 4 expiry record follows. */
static void test_v4_expiry_and_deletion(void **state)
{
    static uint8_t buf[4096];
    long long recs[3][2] = {{78796800, 1}, {1814400000LL + 1 - 1, 0}, {1900000000, 0}};
    struct leap_table *t = NULL;
    (void)state;
    /* the deleted second's occurrence: that midnight plus the one leap before */
    recs[1][0] = 1814400000LL + 1;
    size_t n = make_tzif(buf, '4', (const long long(*)[2])recs, 3);
    assert_int_equal(tzleap_parse("v4", buf, n, stderr, &t), 0);
    assert_int_equal(leapfile_count(t), 3);
    assert_int_equal(leapfile_leap_today(t, JUN30_2027), -1);
    assert_int_equal(leapfile_tai_offset(t, JUN30_2027 + 86400), 10);
    assert_int_equal((long long)leapfile_expiry(t), 1900000000LL);
    leapfile_free(t);

    /* the same file as version 2: no expiry records there, but the parser
     * takes a repeated last correction as one whatever the version */
    buf[4] = '2';
    buf[n - 6 - (size_t)(44 + 10 + 3 * 12) + 4] = '2';
    assert_int_equal(tzleap_parse("v2", buf, n, stderr, &t), 0);
    leapfile_free(t);
}

/* Version 4 lets a table start with a correction other than +-1. */
static void test_v4_truncated_start(void **state)
{
    static uint8_t buf[4096];
    const long long recs[2][2] = {{1435708800LL + 25, 26}, {1483228800LL + 26, 27}};
    struct leap_table *t = NULL;
    (void)state;
    size_t n = make_tzif(buf, '4', recs, 2);
    assert_int_equal(tzleap_parse("cut", buf, n, stderr, &t), 0);
    assert_int_equal(leapfile_tai_offset(t, JAN01_2017), 37);
    assert_int_equal(leapfile_leap_today(t, DEC31_2016), 1);
    leapfile_free(t);
    /* not in version 3 */
    n = make_tzif(buf, '3', recs, 2);
    assert_int_equal(tzleap_parse("cut3", buf, n, NULL, &t), -1);
}

static void test_refused(void **state)
{
    static uint8_t buf[4096];
    struct leap_table *t = NULL;
    const long long off_day[1][2] = {{78796800 + 3600, 1}};
    const long long jump[2][2] = {{78796800, 1}, {94694401, 3}};
    const long long back[2][2] = {{94694401, 1}, {78796800, 2}};
    const long long huge[1][2] = {{-5, 1}};
    (void)state;
    assert_int_equal(tzleap_parse("empty", buf, 0, NULL, &t), -1);
    assert_int_equal(tzleap_parse("text", (const uint8_t *)"leap seconds\n", 13, NULL, &t), -1);
    size_t n = make_tzif(buf, '2', off_day, 1);
    assert_int_equal(tzleap_parse("offday", buf, n, NULL, &t), -1);
    n = make_tzif(buf, '2', jump, 2);
    assert_int_equal(tzleap_parse("jump", buf, n, NULL, &t), -1);
    n = make_tzif(buf, '2', back, 2);
    assert_int_equal(tzleap_parse("back", buf, n, NULL, &t), -1);
    n = make_tzif(buf, '2', huge, 1);
    assert_int_equal(tzleap_parse("huge", buf, n, NULL, &t), -1);
    n = make_tzif(buf, '2', NULL, 0);
    assert_int_equal(tzleap_parse("none", buf, n, NULL, &t), -1);
    /* a zone without leap records, a directory, nothing */
    assert_int_equal(tzleap_load("UTC", NULL, &t), -1);
    assert_int_equal(tzleap_load("right", NULL, &t), -1);
    assert_int_equal(tzleap_load("right/Nowhere", NULL, &t), -1);
    /* counts that would overflow a naive length computation */
    n = make_tzif(buf, '2', jump, 2);
    memset(buf + 20 + 12, 0xff, 4); /* timecnt */
    assert_int_equal(tzleap_parse("count", buf, n, NULL, &t), -1);
    n = make_tzif(buf, '2', jump, 2);
    memset(buf + 20 + 8, 0x7f, 4); /* leapcnt */
    assert_int_equal(tzleap_parse("leapcnt", buf, n, NULL, &t), -1);
}

/* Every prefix of the real file: refused until the 64-bit leap records
 * are whole, then the same table (the footer is not needed). */
static void test_truncations(void **state)
{
    static uint8_t buf[TZLEAP_MAX_BYTES];
    (void)state;
    size_t n = read_all(RIGHT_UTC, buf, sizeof(buf));
    size_t first_ok = 0;
    for (size_t len = 0; len <= n; len++) {
        uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees overreads */
        memcpy(copy, buf, len);
        struct leap_table *t = NULL;
        int rc = tzleap_parse("cut", copy, len, NULL, &t);
        if (rc == 0) {
            if (!first_ok)
                first_ok = len;
            assert_int_equal(leapfile_tai_offset(t, JAN01_2017), 37);
            leapfile_free(t);
        } else {
            assert_int_equal(first_ok, 0); /* once whole, always whole */
        }
        free(copy);
    }
    assert_true(first_ok > n / 2 && first_ok <= n);
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Random damage: a few bytes changed, never a crash, and whatever is
 * accepted is a table of leap seconds of one second each. */
static void test_random_damage(void **state)
{
    static uint8_t orig[TZLEAP_MAX_BYTES];
    const char *env = getenv("TEMPUS_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : 1, r = seed;
    (void)state;
    printf("test_random_damage: seed %llu (set TEMPUS_SEED to repeat)\n",
           (unsigned long long)seed);
    size_t n = read_all(RIGHT_UTC, orig, sizeof(orig));
    for (int round = 0; round < 20000; round++) {
        uint8_t *copy = malloc(n);
        memcpy(copy, orig, n);
        int k = 1 + (int)(splitmix(&r) % 4);
        for (int i = 0; i < k; i++)
            copy[splitmix(&r) % n] = (uint8_t)splitmix(&r);
        size_t len = splitmix(&r) % 8 ? n : (size_t)(splitmix(&r) % (n + 1));
        struct leap_table *t = NULL;
        if (tzleap_parse("damaged", copy, len, NULL, &t) == 0) {
            assert_true(leapfile_count(t) >= 2);
            for (time_t d = 63072000; d < 1900000000; d += 86400L * 30) {
                int l = leapfile_leap_today(t, d);
                assert_true(l >= -1 && l <= 1);
            }
            leapfile_free(t);
        }
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_right_utc),
        cmocka_unit_test(test_version1),
        cmocka_unit_test(test_v4_expiry_and_deletion),
        cmocka_unit_test(test_v4_truncated_start),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_random_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
