/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define SEC INT64_C(1000000000)
#define MS INT64_C(1000000)

/* Randomized tests take their seed from TEMPUS_SEED, else a fixed one; it
 * is printed so that a failure can be rerun. */
static uint64_t test_seed;

static struct ratelimit_params params(int interval, int burst, int leak, int kod, size_t mem)
{
    struct ratelimit_params p = {
        .enabled = 1,
        .interval = interval,
        .burst = burst,
        .leak = leak,
        .kod = kod,
        .memory_limit = mem,
    };
    return p;
}

static struct netaddr v4(uint32_t x)
{
    struct netaddr a;
    memset(&a, 0, sizeof(a));
    a.family = AF_INET;
    a.bytes[0] = (uint8_t)(x >> 24);
    a.bytes[1] = (uint8_t)(x >> 16);
    a.bytes[2] = (uint8_t)(x >> 8);
    a.bytes[3] = (uint8_t)x;
    return a;
}

static struct netaddr v6(uint64_t hi, uint64_t lo)
{
    struct netaddr a;
    a.family = AF_INET6;
    for (int i = 0; i < 8; i++) {
        a.bytes[i] = (uint8_t)(hi >> (56 - 8 * i));
        a.bytes[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
    }
    return a;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static enum ratelimit_verdict charge(struct ratelimit *rl, const struct netaddr *a, int64_t t)
{
    return ratelimit_charge(rl, a, t);
}

/* Collects what ratelimit_foreach reports. */
struct seen {
    struct ratelimit_client c[64];
    size_t n;
};

static void collect(const struct ratelimit_client *c, void *arg)
{
    struct seen *s = arg;
    assert_true(s->n < 64);
    s->c[s->n++] = *c;
}

static const struct ratelimit_client *find(const struct seen *s, const struct netaddr *a)
{
    for (size_t i = 0; i < s->n; i++)
        if (addr_equal(&s->c[i].addr, a))
            return &s->c[i];
    return NULL;
}

static struct ratelimit_client client_of(const struct ratelimit *rl, const struct netaddr *a)
{
    struct seen s = {.n = 0};
    ratelimit_foreach(rl, collect, &s);
    const struct ratelimit_client *c = find(&s, a);
    assert_non_null(c);
    return *c;
}

static void test_burst_then_limit(void **state)
{
    (void)state;
    struct ratelimit_params p = params(0, 4, 0, 0, 65536);
    struct ratelimit *rl = ratelimit_create(&p, test_seed);
    struct netaddr a = v4(0xc0000201);
    const int64_t t0 = 1000 * SEC;

    for (int i = 0; i < 4; i++)
        assert_int_equal(charge(rl, &a, t0), RATELIMIT_PASS);
    assert_int_equal(charge(rl, &a, t0), RATELIMIT_DROP);
    /* one nanosecond short of a full request's worth of credit */
    assert_int_equal(charge(rl, &a, t0 + SEC - 1), RATELIMIT_DROP);
    assert_int_equal(charge(rl, &a, t0 + SEC), RATELIMIT_PASS);
    assert_int_equal(charge(rl, &a, t0 + SEC), RATELIMIT_DROP);
    /* a long pause refills the bucket to the burst, not beyond */
    const int64_t t1 = t0 + 3600 * SEC;
    for (int i = 0; i < 4; i++)
        assert_int_equal(charge(rl, &a, t1), RATELIMIT_PASS);
    assert_int_equal(charge(rl, &a, t1), RATELIMIT_DROP);

    struct ratelimit_client c = client_of(rl, &a);
    assert_int_equal(c.requests, 13);
    assert_int_equal(c.drops, 4);
    assert_int_equal(c.kods, 0);
    assert_int_equal(c.last_ns, t1);
    assert_int_equal(ratelimit_count(rl), 1);
    ratelimit_destroy(rl);
}

static void test_interval_log2(void **state)
{
    (void)state;
    struct ratelimit_params p = params(3, 1, 0, 0, 65536);
    struct ratelimit *rl = ratelimit_create(&p, test_seed);
    struct netaddr a = v6(UINT64_C(0x20010db800000000), 1);

    assert_int_equal(charge(rl, &a, 0), RATELIMIT_PASS);
    assert_int_equal(charge(rl, &a, 8 * SEC - 1), RATELIMIT_DROP);
    assert_int_equal(charge(rl, &a, 8 * SEC), RATELIMIT_PASS);
    /* partial credit accumulates across limited requests */
    assert_int_equal(charge(rl, &a, 12 * SEC), RATELIMIT_DROP);
    assert_int_equal(charge(rl, &a, 16 * SEC), RATELIMIT_PASS);
    ratelimit_destroy(rl);
}

static void test_negative_interval(void **state)
{
    (void)state;
    struct ratelimit_params p = params(-2, 2, 0, 0, 65536);
    struct ratelimit *rl = ratelimit_create(&p, test_seed);
    struct netaddr a = v4(0x0a000001);

    assert_int_equal(charge(rl, &a, 0), RATELIMIT_PASS);
    assert_int_equal(charge(rl, &a, 0), RATELIMIT_PASS);
    assert_int_equal(charge(rl, &a, 0), RATELIMIT_DROP);
    assert_int_equal(charge(rl, &a, 250 * MS - 1), RATELIMIT_DROP);
    assert_int_equal(charge(rl, &a, 250 * MS), RATELIMIT_PASS);
    assert_int_equal(charge(rl, &a, 250 * MS), RATELIMIT_DROP);
    ratelimit_destroy(rl);

    /* interval -4: a steady 16 requests a second is exactly the limit */
    p = params(-4, 1, 0, 0, 65536);
    rl = ratelimit_create(&p, test_seed);
    for (int i = 0; i < 160; i++)
        assert_int_equal(charge(rl, &a, i * (SEC / 16)), RATELIMIT_PASS);
    assert_int_equal(charge(rl, &a, 159 * (SEC / 16) + 1), RATELIMIT_DROP);
    ratelimit_destroy(rl);
}

static void test_leak_zero_never_leaks(void **state)
{
    (void)state;
    struct ratelimit_params p = params(4, 1, 0, 0, 65536);
    struct ratelimit *rl = ratelimit_create(&p, test_seed);
    struct netaddr a = v4(0x0a000002);

    assert_int_equal(charge(rl, &a, 0), RATELIMIT_PASS);
    for (int i = 0; i < 10000; i++)
        if (charge(rl, &a, i * MS) != RATELIMIT_DROP)
            fail_msg("limited request %d passed with leak 0", i);
    assert_int_equal(client_of(rl, &a).drops, 10000);
    ratelimit_destroy(rl);
}

static int leaked_of(int leak, int n)
{
    struct ratelimit_params p = params(4, 1, leak, 0, 65536);
    struct ratelimit *rl = ratelimit_create(&p, test_seed);
    struct netaddr a = v4(0x0a000003);
    int passed = 0;

    assert_int_equal(charge(rl, &a, 0), RATELIMIT_PASS);
    for (int i = 0; i < n; i++)
        passed += charge(rl, &a, 0) == RATELIMIT_PASS;
    struct ratelimit_client c = client_of(rl, &a);
    assert_int_equal(c.drops, (uint64_t)(n - passed));
    assert_int_equal(c.requests, (uint64_t)n + 1);
    ratelimit_destroy(rl);
    return passed;
}

static void test_leak_statistics(void **state)
{
    (void)state;
    /* binomial sd is about 0.5% of n; the bounds are ten of them wide */
    int l1 = leaked_of(1, 10000), l2 = leaked_of(2, 10000), l4 = leaked_of(4, 10000);
    printf("leak: 1 -> %d, 2 -> %d, 4 -> %d of 10000 (seed %llu)\n", l1, l2, l4,
           (unsigned long long)test_seed);
    assert_in_range(l1, 4500, 5500);
    assert_in_range(l2, 2000, 3000);
    assert_in_range(l4, 400, 850);
}

static void test_kod_once_per_interval(void **state)
{
    (void)state;
    struct ratelimit_params p = params(1, 1, 0, 1, 65536);
    struct ratelimit *rl = ratelimit_create(&p, test_seed);
    struct netaddr a = v4(0x0a000004);
    int64_t last_kod = INT64_MIN;
    int pass = 0, drop = 0, kod = 0;

    /* 100 requests a second for 20 s against one per 2 s */
    for (int64_t t = 0; t < 20 * SEC; t += 10 * MS) {
        enum ratelimit_verdict v = charge(rl, &a, t);
        if (v == RATELIMIT_KOD) {
            if (last_kod != INT64_MIN && t - last_kod < 2 * SEC)
                fail_msg("KoD at %lld ns, previous at %lld ns", (long long)t, (long long)last_kod);
            last_kod = t;
            kod++;
        }
        pass += v == RATELIMIT_PASS;
        drop += v == RATELIMIT_DROP;
    }
    /* the first limited request (the second one) gets a KoD straight away */
    assert_int_equal(pass, 10);
    assert_int_equal(kod, 10);
    assert_int_equal(drop, 2000 - 20);
    struct ratelimit_client c = client_of(rl, &a);
    assert_int_equal(c.requests, 2000);
    assert_int_equal(c.kods, 10);
    assert_int_equal(c.drops, 2000 - 20);
    ratelimit_destroy(rl);
}

static void test_disabled(void **state)
{
    (void)state;
    struct ratelimit_params p = params(4, 1, 0, 1, 65536);
    p.enabled = 0;
    struct ratelimit *rl = ratelimit_create(&p, test_seed);
    struct netaddr a = v4(0x0a000005);
    struct seen s = {.n = 0};

    for (int i = 0; i < 1000; i++) {
        assert_int_equal(charge(rl, &a, 0), RATELIMIT_PASS);
        struct netaddr b = v4((uint32_t)i);
        assert_int_equal(charge(rl, &b, i), RATELIMIT_PASS);
    }
    assert_int_equal(ratelimit_count(rl), 0);
    ratelimit_foreach(rl, collect, &s);
    assert_int_equal(s.n, 0);
    ratelimit_destroy(rl);
}

static void check_geometry(size_t limit, size_t want_capacity)
{
    struct ratelimit_params p = params(0, 8, 0, 0, limit);
    struct ratelimit *rl = ratelimit_create(&p, test_seed);
    size_t cap = ratelimit_capacity(rl), mem = ratelimit_memory(rl);

    assert_int_equal(cap, want_capacity);
    assert_int_equal(mem % cap, 0);
    assert_true(mem / cap <= 64); /* one cache line per client */
    size_t sets = cap / 8;
    assert_int_equal(sets & (sets - 1), 0);
    if (sets > 1 || limit >= mem) {
        assert_true(mem <= limit);
        assert_true(2 * mem > limit); /* twice the sets would not fit */
    }
    ratelimit_destroy(rl);
}

static void test_capacity_from_memory(void **state)
{
    (void)state;
    check_geometry(524288, 8192); /* the default */
    check_geometry(524287, 4096);
    check_geometry(100000, 1024);
    check_geometry(65536, 1024);
    check_geometry(1024, 16);
    check_geometry(512, 8);
    check_geometry(100, 8); /* at least one set, even below its size */
    check_geometry(0, 8);
}

static void test_table_bound(void **state)
{
    (void)state;
    struct ratelimit_params p = params(0, 4, 1, 1, 65536);
    struct ratelimit *rl = ratelimit_create(&p, test_seed);
    size_t cap = ratelimit_capacity(rl), mem = ratelimit_memory(rl);
    uint64_t s = test_seed;

    for (int i = 0; i < 1000000; i++) {
        uint64_t r = splitmix(&s);
        struct netaddr a = (r & 1) ? v4((uint32_t)(r >> 32)) : v6(splitmix(&s), r);
        charge(rl, &a, (int64_t)i * MS);
        if (ratelimit_count(rl) > cap)
            fail_msg("count %zu > capacity %zu after %d (seed %llu)", ratelimit_count(rl), cap, i,
                     (unsigned long long)test_seed);
    }
    assert_int_equal(ratelimit_count(rl), cap); /* a million clients fill every way */
    assert_int_equal(ratelimit_capacity(rl), cap);
    assert_int_equal(ratelimit_memory(rl), mem);
    ratelimit_destroy(rl);
}

/* A limit below one set gives a single set, so every client shares it and
 * eviction order is fully determined by last_ns. */
static void test_evicts_stalest(void **state)
{
    (void)state;
    struct ratelimit_params p = params(0, 4, 0, 0, 1);
    struct ratelimit *rl = ratelimit_create(&p, test_seed);
    struct netaddr a[13];
    struct seen s = {.n = 0};

    assert_int_equal(ratelimit_capacity(rl), 8);
    for (int i = 0; i < 13; i++)
        a[i] = v4(0xc6336400u + (uint32_t)i);
    for (int i = 0; i < 8; i++)
        charge(rl, &a[i], (1 + i) * SEC);
    for (int i = 0; i < 4; i++) /* 0..3 are now the most recent */
        charge(rl, &a[i], (100 + i) * SEC);
    for (int i = 8; i < 12; i++) /* replace 4..7, seen at 5..8 s */
        charge(rl, &a[i], (200 + i) * SEC);
    assert_int_equal(ratelimit_count(rl), 8);
    ratelimit_foreach(rl, collect, &s);
    assert_int_equal(s.n, 8);
    for (int i = 0; i < 12; i++) {
        if ((find(&s, &a[i]) != NULL) != (i < 4 || i >= 8))
            fail_msg("client %d %s", i, i < 4 || i >= 8 ? "was evicted" : "survived");
    }
    assert_int_equal(find(&s, &a[0])->requests, 2);

    /* next victim is a[0] (100 s); a returning a[4] starts afresh */
    charge(rl, &a[12], 300 * SEC);
    charge(rl, &a[4], 301 * SEC);
    s.n = 0;
    ratelimit_foreach(rl, collect, &s);
    assert_null(find(&s, &a[0]));
    assert_null(find(&s, &a[1]));
    assert_non_null(find(&s, &a[12]));
    assert_int_equal(find(&s, &a[4])->requests, 1);
    assert_int_equal(ratelimit_count(rl), 8);
    ratelimit_destroy(rl);
}

static void test_flood_isolation(void **state)
{
    (void)state;
    struct ratelimit_params p = params(0, 8, 2, 1, 1); /* one set of 8 */
    struct ratelimit *rl = ratelimit_create(&p, test_seed);
    struct netaddr flood = v4(0xcb007101), quiet = v4(0xcb007102);
    struct netaddr quiet6 = v6(UINT64_C(0x20010db800000000), 0xcb007101);
    int flood_pass = 0;

    assert_int_equal(charge(rl, &quiet, 0), RATELIMIT_PASS);
    for (int i = 0; i < 100000; i++)
        flood_pass += charge(rl, &flood, (int64_t)i * 100000) == RATELIMIT_PASS;
    /* 10 s at 10k/s: 8 + 10 from the bucket, about a quarter leaked */
    assert_in_range(flood_pass, 18 + 20000, 18 + 30000);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(charge(rl, &quiet, 10 * SEC), RATELIMIT_PASS);
        assert_int_equal(charge(rl, &quiet6, 10 * SEC), RATELIMIT_PASS);
    }
    struct ratelimit_client c = client_of(rl, &quiet);
    assert_int_equal(c.requests, 9);
    assert_int_equal(c.drops + c.kods, 0);
    assert_int_equal(ratelimit_count(rl), 3);
    ratelimit_destroy(rl);
}

/* An IPv4 address and IPv6 addresses that share its bytes are not one
 * client, even in the same set (a table of one set). */
static void test_families_distinct(void **state)
{
    (void)state;
    struct ratelimit_params p = params(4, 1, 0, 0, 1);
    struct ratelimit *rl = ratelimit_create(&p, test_seed);
    struct netaddr a = v4(0x0a000001);
    struct netaddr b = v6(UINT64_C(0x0a00000100000000), 0);
    struct netaddr c = v6(0, 0x0a000001);

    assert_int_equal(charge(rl, &a, 0), RATELIMIT_PASS);
    assert_int_equal(charge(rl, &a, 0), RATELIMIT_DROP);
    assert_int_equal(charge(rl, &b, 0), RATELIMIT_PASS);
    assert_int_equal(charge(rl, &c, 0), RATELIMIT_PASS);
    assert_int_equal(ratelimit_count(rl), 3);
    ratelimit_destroy(rl);
}

static void test_clock_steps_back(void **state)
{
    (void)state;
    struct ratelimit_params p = params(0, 1, 0, 1, 65536);
    struct ratelimit *rl = ratelimit_create(&p, test_seed);
    struct netaddr a = v4(0x0a000006);

    assert_int_equal(charge(rl, &a, 100 * SEC), RATELIMIT_PASS);
    assert_int_equal(charge(rl, &a, 100 * SEC), RATELIMIT_KOD);
    assert_int_equal(charge(rl, &a, 50 * SEC), RATELIMIT_DROP); /* no credit, no KoD */
    assert_int_equal(charge(rl, &a, 101 * SEC), RATELIMIT_PASS);
    ratelimit_destroy(rl);
}

/* Times at the ends of int64 must not overflow (UBSan watches this). */
static void test_extreme_times(void **state)
{
    (void)state;
    struct ratelimit_params p = params(12, 255, 0, 1, 65536);
    struct ratelimit *rl = ratelimit_create(&p, test_seed);
    struct netaddr a = v4(0x0a000007);

    for (int i = 0; i < 255; i++)
        assert_int_equal(charge(rl, &a, INT64_MIN), RATELIMIT_PASS);
    assert_int_equal(charge(rl, &a, INT64_MIN), RATELIMIT_KOD);
    assert_int_equal(charge(rl, &a, INT64_MIN + 1), RATELIMIT_DROP);
    for (int i = 0; i < 255; i++)
        assert_int_equal(charge(rl, &a, INT64_MAX - 1), RATELIMIT_PASS);
    assert_int_equal(charge(rl, &a, INT64_MAX - 1), RATELIMIT_KOD);
    assert_int_equal(charge(rl, &a, INT64_MAX - 1), RATELIMIT_DROP);
    ratelimit_destroy(rl);
}

/* Out-of-range parameters (conf.c rejects them) are clamped, not trusted. */
static void test_params_clamped(void **state)
{
    (void)state;
    struct ratelimit_params p = params(-60, 0, -3, 0, 65536);
    struct ratelimit *rl = ratelimit_create(&p, test_seed);
    struct netaddr a = v4(0x0a000008);

    /* burst 1, interval -4 (62.5 ms), leak 0 */
    assert_int_equal(charge(rl, &a, 0), RATELIMIT_PASS);
    assert_int_equal(charge(rl, &a, SEC / 16 - 1), RATELIMIT_DROP);
    assert_int_equal(charge(rl, &a, SEC / 16), RATELIMIT_PASS);
    ratelimit_destroy(rl);
}

/* Which clients survive in an overfull table depends on the key, so another
 * seed keeps another subset. */
static void survivors(uint64_t seed, uint8_t *alive, int n)
{
    struct ratelimit_params p = params(0, 1, 0, 0, (size_t)64 * 8 * 8); /* 8 sets */
    struct ratelimit *rl = ratelimit_create(&p, seed);
    struct seen s = {.n = 0};

    assert_int_equal(ratelimit_capacity(rl), 64);
    for (int i = 0; i < n; i++) {
        struct netaddr a = v4(0x0a000000u + (uint32_t)i);
        charge(rl, &a, i);
    }
    ratelimit_foreach(rl, collect, &s);
    for (int i = 0; i < n; i++) {
        struct netaddr a = v4(0x0a000000u + (uint32_t)i);
        alive[i] = find(&s, &a) != NULL;
    }
    ratelimit_destroy(rl);
}

static void test_hash_is_keyed(void **state)
{
    (void)state;
    uint8_t a[100], b[100];
    int kept = 0;

    survivors(test_seed, a, 100);
    survivors(test_seed ^ 0x5555, b, 100);
    for (int i = 0; i < 100; i++)
        kept += a[i];
    /* 100 clients for 64 ways: at most 64 stay, so 36 or more went */
    assert_in_range(kept, 1, 64);
    assert_memory_not_equal(a, b, sizeof(a));
}

/* The same settings over padding bytes that differ. */
static void fill_params(struct ratelimit_params *d, int pad)
{
    memset(d, pad, sizeof(*d));
    d->enabled = 1;
    d->interval = 3;
    d->burst = 8;
    d->leak = 2;
    d->kod = 1;
    d->memory_limit = 65536;
}

/* Equal settings compare equal whatever their padding holds; a change to any
 * field makes them differ (a reload then builds a new table). */
static void test_params_equal(void **state)
{
    (void)state;
    struct ratelimit_params a, b;

    fill_params(&a, 0x00);
    fill_params(&b, 0xff);
    assert_true(ratelimit_params_equal(&a, &b));
    for (int field = 0; field < 6; field++) {
        fill_params(&b, 0xff);
        int *ints[] = {&b.enabled, &b.interval, &b.burst, &b.leak, &b.kod};
        if (field < 5)
            *ints[field] ^= 1;
        else
            b.memory_limit++;
        assert_false(ratelimit_params_equal(&a, &b));
    }
}

int main(void)
{
    const char *env = getenv("TEMPUS_SEED");
    test_seed = env ? strtoull(env, NULL, 0) : 20240601;
    printf("test_ratelimit: seed %llu (set TEMPUS_SEED to reproduce)\n",
           (unsigned long long)test_seed);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_limit),  cmocka_unit_test(test_interval_log2),
        cmocka_unit_test(test_negative_interval), cmocka_unit_test(test_leak_zero_never_leaks),
        cmocka_unit_test(test_leak_statistics),   cmocka_unit_test(test_kod_once_per_interval),
        cmocka_unit_test(test_disabled),          cmocka_unit_test(test_capacity_from_memory),
        cmocka_unit_test(test_table_bound),       cmocka_unit_test(test_evicts_stalest),
        cmocka_unit_test(test_flood_isolation),   cmocka_unit_test(test_families_distinct),
        cmocka_unit_test(test_clock_steps_back),  cmocka_unit_test(test_extreme_times),
        cmocka_unit_test(test_params_clamped),    cmocka_unit_test(test_hash_is_keyed),
        cmocka_unit_test(test_params_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
