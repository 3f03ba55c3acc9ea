/* SPDX-License-Identifier: ISC */
/* Unit tests for sort.c and mem_append: sort_heap agrees with qsort on
 * random arrays of many sizes and element sizes (seed from TEMPUS_SEED or
 * a fixed one, printed), and mem_append keeps every element it was given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mem.h"
#include "sort.h"

static uint64_t test_seed, rng;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

struct wide {
    uint32_t key;
    uint32_t tag;
    char pad[16]; /* no padding: memcmp compares every byte */
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Key, then tag: a total order, so the result is unique. */
static int cmp_wide(const void *a, const void *b)
{
    const struct wide *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->tag < y->tag ? -1 : x->tag > y->tag;
}

static void test_sort_matches_qsort(void **state)
{
    (void)state;
    rng = test_seed | 1;
    for (size_t n = 0; n < 3000; n = n < 20 ? n + 1 : n * 3 / 2) {
        uint32_t *a = mem_calloc(n + 1, sizeof(*a)), *b = mem_calloc(n + 1, sizeof(*b));
        struct wide *w = mem_calloc(n + 1, sizeof(*w)), *v = mem_calloc(n + 1, sizeof(*v));
        for (size_t i = 0; i < n; i++) {
            a[i] = b[i] = (uint32_t)(next() % (n / 2 + 1)); /* with repeats */
            w[i].key = a[i];
            w[i].tag = (uint32_t)i;
            memset(w[i].pad, (int)i, sizeof(w[i].pad));
            v[i] = w[i];
        }
        sort_heap(a, n, sizeof(*a), cmp_u32);
        qsort(b, n, sizeof(*b), cmp_u32);
        sort_heap(w, n, sizeof(*w), cmp_wide);
        qsort(v, n, sizeof(*v), cmp_wide);
        if (memcmp(a, b, n * sizeof(*a)) != 0 || memcmp(w, v, n * sizeof(*w)) != 0)
            fail_msg("seed %llu: n %zu sorts differently from qsort",
                     (unsigned long long)test_seed, n);
        free(a);
        free(b);
        free(w);
        free(v);
    }
}

static void test_append_keeps_elements(void **state)
{
    uint64_t *v = NULL;
    (void)state;
    for (size_t i = 0; i < 100000; i++) {
        v = mem_append(v, i, sizeof(*v));
        v[i] = i * 7 + 1;
    }
    for (size_t i = 0; i < 100000; i++)
        assert_int_equal(v[i], i * 7 + 1);
    free(v);
}

int main(void)
{
    const char *env = getenv("TEMPUS_SEED");
    test_seed = env ? strtoull(env, NULL, 0) : 20240601;
    printf("test_sort: seed %llu (set TEMPUS_SEED to reproduce)\n", (unsigned long long)test_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_matches_qsort),
        cmocka_unit_test(test_append_keeps_elements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
