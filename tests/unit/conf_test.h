/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_CONF_TEST_H
#define TEMPUS_CONF_TEST_H

/* Config parsing helpers shared by the config unit tests. Include after
 * <cmocka.h> (and its prerequisites) and "conf.h". */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse text as "t.conf"; *err gets everything written to the error
 * stream (caller frees). */
static inline struct conf *parse(const char *text, char **err)
{
    size_t len;
    FILE *f = open_memstream(err, &len);

    assert_non_null(f);
    struct conf *c = conf_parse_string("t.conf", text, f);
    fclose(f);
    return c;
}

/* Parse text that must be valid. */
static inline struct conf *parse_ok(const char *text)
{
    char *err;
    struct conf *c = parse(text, &err);

    if (!c || err[0])
        print_error("unexpected errors for:\n%s\n---\n%s", text, err);
    assert_non_null(c);
    assert_string_equal(err, "");
    free(err);
    return c;
}

/* Parse text that must fail with exactly the message want. */
static inline void parse_bad(const char *text, const char *want)
{
    char *err;
    struct conf *c = parse(text, &err);

    if (c || strcmp(err, want) != 0)
        print_error("input:\n%s\n--- want:\n%s--- got:\n%s", text, want, err);
    assert_null(c);
    assert_string_equal(err, want);
    free(err);
}

#endif
