/* SPDX-License-Identifier: ISC */
/* Unit tests for log.c: RFC 3339 UTC timestamps on the daemon's stderr
 * lines, none under journald. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static void test_format_time(void **state)
{
    (void)state;
    char buf[40];
    struct timespec ts = {1700000000, 123456789};
    assert_int_equal(log_format_time(&ts, buf, sizeof(buf)), 24);
    assert_string_equal(buf, "2023-11-14T22:13:20.123Z");
    ts = (struct timespec){0, 999999999};
    log_format_time(&ts, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:00.999Z");
    assert_int_equal(log_format_time(&ts, buf, 24), 0); /* no room for the NUL */
}

/* stderr of a log call into a string. */
static char *captured(void (*fn)(void))
{
    static char out[1024];
    FILE *f = tmpfile();
    int saved = dup(STDERR_FILENO);
    assert_non_null(f);
    fflush(stderr);
    assert_true(saved >= 0 && dup2(fileno(f), STDERR_FILENO) == STDERR_FILENO);
    fn();
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) == STDERR_FILENO);
    close(saved);
    rewind(f);
    size_t n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    fclose(f);
    return out;
}

static void say_hello(void)
{
    log_info("hello %d", 42);
}

static void test_stamped_lines(void **state)
{
    (void)state;
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]"
                             "\\.[0-9]{3}Z tempusd: info: hello 42\n$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    unsetenv("JOURNAL_STREAM");
    log_init("tempusd", LOG_TO_STDERR, LOG_LVL_INFO);
    assert_string_equal(captured(say_hello), "tempusd: info: hello 42\n"); /* off at start */
    log_set_timestamps(1);
    assert_int_equal(regexec(&re, captured(say_hello), 0, NULL, 0), 0);
    setenv("JOURNAL_STREAM", "8:1234", 1);
    log_init("tempusd", LOG_TO_STDERR, LOG_LVL_INFO);
    assert_string_equal(captured(say_hello), "<6>tempusd: info: hello 42\n"); /* journald stamps */
    unsetenv("JOURNAL_STREAM");
    log_set_timestamps(0);
    regfree(&re);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_time),
        cmocka_unit_test(test_stamped_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
