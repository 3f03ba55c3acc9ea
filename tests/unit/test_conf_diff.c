/* SPDX-License-Identifier: ISC */
/* Unit tests for conf_diff: what a reload logs as added, removed and
 * altered directive lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

/* Each change as one line: "+7 text", "-3 text", "~5 text <3 was". */
static void collect(void *arg, enum conf_change kind, const struct conf_line *was,
                    const struct conf_line *now)
{
    char *out = arg;
    size_t len = strlen(out);
    if (kind == CONF_ADDED)
        snprintf(out + len, 4096 - len, "+%u %s\n", now->line, now->text);
    else if (kind == CONF_REMOVED)
        snprintf(out + len, 4096 - len, "-%u %s\n", was->line, was->text);
    else
        snprintf(out + len, 4096 - len, "~%u %s <%u %s\n", now->line, now->text, was->line,
                 was->text);
}

static void expect_diff(const char *a, const char *b, const char *want, unsigned n)
{
    struct conf *o = conf_parse_string("old.conf", a, stderr);
    struct conf *c = conf_parse_string("new.conf", b, stderr);
    char got[4096] = "";
    assert_non_null(o);
    assert_non_null(c);
    assert_int_equal(conf_diff(o, c, collect, got), n);
    assert_string_equal(got, want);
    conf_free(o);
    conf_free(c);
}

static void test_same(void **state)
{
    (void)state;
    /* comments, blank lines, spacing and order are not changes */
    expect_diff("port 123\nallow 10.0.0.0/8   # office\nmakestep 1 3\n",
                "# new comment\n\nmakestep  1\t3\nport 123\nallow 10.0.0.0/8\n", "", 0);
}

static void test_added_removed_altered(void **state)
{
    (void)state;
    expect_diff(
        "port 123\nallow 10.0.0.0/8\nserver a.example iburst\nmakestep 0.5 3\n",
        "port 123\nallow 10.0.0.0/8\nallow 192.0.2.0/24\nserver a.example iburst prefer\n"
        "makestep 1 3\n",
        "+3 allow 192.0.2.0/24\n~4 server a.example iburst prefer <3 server a.example iburst\n"
        "~5 makestep 1 3 <4 makestep 0.5 3\n",
        3);
    expect_diff("port 123\nallow 10.0.0.0/8\ndeny 10.9.0.0/16\nserver a.example\n",
                "port 123\nserver a.example\n", "-2 allow 10.0.0.0/8\n-3 deny 10.9.0.0/16\n", 2);
}

static void test_ambiguous_not_paired(void **state)
{
    (void)state;
    /* two servers replaced by two others: added and removed, not guessed
     * pairs */
    expect_diff("server a.example\nserver b.example\n", "server c.example\nserver d.example\n",
                "+1 server c.example\n+2 server d.example\n-1 server a.example\n"
                "-2 server b.example\n",
                4);
    /* one allow changed among several: the one left over pairs */
    expect_diff("allow 10.0.0.0/8\nallow 10.1.0.0/16\n", "allow 10.0.0.0/8\nallow 10.2.0.0/16\n",
                "~2 allow 10.2.0.0/16 <2 allow 10.1.0.0/16\n", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same),
        cmocka_unit_test(test_added_removed_altered),
        cmocka_unit_test(test_ambiguous_not_paired),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
