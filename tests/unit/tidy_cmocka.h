/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_TIDY_CMOCKA_H
#define TEMPUS_TIDY_CMOCKA_H

/* For clang-tidy only (scripts/tidy.sh force-includes it into the unit
 * tests; the build never sees it). cmocka's assertions are calls that return
 * as far as clang's analyzer can tell, so it walks on past a failed
 * assert_non_null(p) and reports the NULL dereference after it. Here the
 * common assertions end in cmocka's _fail, which longjmps out of the test
 * and is marked noreturn for the analyzer. Each argument is still evaluated
 * exactly once. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

void _fail(const char *const file, const int line) /* NOLINT(bugprone-reserved-identifier) */
    __attribute__((analyzer_noreturn));

#define TIDY_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            _fail(__FILE__, __LINE__);                                                             \
    } while (0)

#undef assert_true
#define assert_true(c) TIDY_ASSERT(c)
#undef assert_false
#define assert_false(c) TIDY_ASSERT(!(c))
#undef assert_non_null
#define assert_non_null(p) TIDY_ASSERT((p) != NULL)
#undef assert_null
#define assert_null(p) TIDY_ASSERT((p) == NULL)
#undef assert_ptr_equal
#define assert_ptr_equal(a, b) TIDY_ASSERT((const void *)(a) == (const void *)(b))
#undef assert_int_equal
#define assert_int_equal(a, b)                                                                     \
    TIDY_ASSERT(cast_to_largest_integral_type(a) == cast_to_largest_integral_type(b))
#undef assert_int_not_equal
#define assert_int_not_equal(a, b)                                                                 \
    TIDY_ASSERT(cast_to_largest_integral_type(a) != cast_to_largest_integral_type(b))

#endif
