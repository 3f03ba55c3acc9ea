/* SPDX-License-Identifier: ISC */
/* http: the metrics endpoint's request parser. The daemon calls
 * http_parse_request on a growing buffer as bytes arrive, so this target
 * parses the whole input and several of its prefixes, each from an exactly
 * sized copy. Asserts that
 *   - the status is 0 (need more) or one of 200 400 404 405 414 431;
 *   - the answer never changes once given: a prefix that got a status gets
 *     the same status with more bytes after it;
 *   - 8192 bytes or more always get an answer;
 *   - 200 only for "GET /metrics" (optionally ?query) over HTTP/1.x, and 405
 *     only for another method on that path. */
#include "fuzz.h"

#include "http.h"

#define HTTP_MAX_REQUEST 8192 /* the parser's limit, see http.c */

static int parse_copy(const uint8_t *data, size_t len)
{
    char *p = (char *)fuzz_dup(data, len);
    int st = http_parse_request(p, len);
    free(p);
    FUZZ_CHECK(st == 0 || st == 200 || st == 400 || st == 404 || st == 405 || st == 414 ||
               st == 431);
    return st;
}

static int starts(const uint8_t *data, size_t len, const char *s)
{
    size_t n = strlen(s);
    return len >= n && memcmp(data, s, n) == 0;
}

/* The request target ends at the first space after the method. */
static void check_route(const uint8_t *data, size_t len, int st)
{
    const uint8_t *sp = memchr(data, ' ', len);
    FUZZ_CHECK(sp != NULL);
    const uint8_t *t = sp + 1;
    size_t rest = len - (size_t)(t - data);
    int metrics = rest > 8 && memcmp(t, "/metrics", 8) == 0 && (t[8] == ' ' || t[8] == '?');

    FUZZ_CHECK(metrics);
    if (st == 200)
        FUZZ_CHECK(starts(data, len, "GET /metrics"));
    else
        FUZZ_CHECK(!starts(data, len, "GET "));
    FUZZ_CHECK(memmem(t, rest, " HTTP/1.", 8) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int st = parse_copy(data, size);

    if (size >= HTTP_MAX_REQUEST)
        FUZZ_CHECK(st != 0);
    if (st == 200 || st == 405)
        check_route(data, size, st);
    /* Prefixes as a reader might see them: a few cut points spread over the
     * input (all of them would make long inputs quadratic). */
    size_t cuts[] = {size / 4, size / 2, size - size / 8, size ? size - 1 : 0};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        int pst = parse_copy(data, cuts[i]);
        FUZZ_CHECK(pst == 0 || pst == st);
    }
    return 0;
}
