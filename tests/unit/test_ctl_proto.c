/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"

/* Randomized tests take their seed from TEMPUS_SEED, else a fixed one; it
 * is printed so that a failure can be rerun. */
static uint64_t test_seed;

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static unsigned rnd(uint64_t *s, unsigned n)
{
    return (unsigned)(splitmix(s) % n);
}

/* Parse text (copied into a buffer of exactly its size, so ASan sees any
 * read past the end) into recs; returns the parse result. The copy is
 * handed back through keep when the caller wants to look at fields. */
static int parse_text(const char *text, size_t len, struct ctl_record *recs, size_t max,
                      char **keep)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    int n = ctl_records_parse(copy, len, recs, max);
    if (keep)
        *keep = copy;
    else
        free(copy);
    return n;
}

static int parse_str(const char *text)
{
    struct ctl_record recs[4];
    return parse_text(text, strlen(text), recs, 4, NULL);
}

static void test_header_round_trip(void **state)
{
    static const enum ctl_type types[] = {CTL_REQUEST, CTL_REPLY, CTL_REPLY_ERROR};
    static const uint32_t lens[] = {0, 1, 4096, CTL_MAX_REPLY};
    (void)state;

    for (size_t t = 0; t < 3; t++)
        for (size_t l = 0; l < 4; l++) {
            uint8_t h[CTL_HEADER_LEN];
            enum ctl_type type = 0;
            uint32_t len = 99;
            ctl_header_encode(h, types[t], lens[l]);
            assert_int_equal(ctl_header_decode(h, CTL_MAX_REPLY, &type, &len), 0);
            assert_int_equal(type, types[t]);
            assert_int_equal(len, lens[l]);
        }

    uint8_t h[CTL_HEADER_LEN];
    ctl_header_encode(h, CTL_REPLY, 0x01020304);
    const uint8_t want[CTL_HEADER_LEN] = {'T', 'P', 'C', 'L', 0, 1, 0, 2, 1, 2, 3, 4};
    assert_memory_equal(h, want, sizeof(want));
}

static void test_header_malformed(void **state)
{
    uint8_t good[CTL_HEADER_LEN], h[CTL_HEADER_LEN];
    enum ctl_type type = CTL_REPLY;
    uint32_t len = 7;
    (void)state;

    ctl_header_encode(good, CTL_REQUEST, 100);
    memcpy(h, good, sizeof(h));
    h[0] = 'X'; /* magic */
    assert_int_equal(ctl_header_decode(h, CTL_MAX_REQUEST, &type, &len), -1);
    memcpy(h, good, sizeof(h));
    h[3] = 'l';
    assert_int_equal(ctl_header_decode(h, CTL_MAX_REQUEST, &type, &len), -1);
    memcpy(h, good, sizeof(h));
    h[5] = 2; /* version */
    assert_int_equal(ctl_header_decode(h, CTL_MAX_REQUEST, &type, &len), -1);
    memcpy(h, good, sizeof(h));
    h[4] = 1; /* version 257 */
    assert_int_equal(ctl_header_decode(h, CTL_MAX_REQUEST, &type, &len), -1);
    memcpy(h, good, sizeof(h));
    h[5] = 0;
    assert_int_equal(ctl_header_decode(h, CTL_MAX_REQUEST, &type, &len), -1);
    static const uint8_t bad_types[][2] = {{0, 0}, {0, 4}, {0, 255}, {1, 1}, {255, 2}};
    for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
        memcpy(h, good, sizeof(h));
        h[6] = bad_types[i][0];
        h[7] = bad_types[i][1];
        assert_int_equal(ctl_header_decode(h, CTL_MAX_REQUEST, &type, &len), -1);
    }
    /* length: max is accepted, one more is not, nor the top bit */
    ctl_header_encode(h, CTL_REQUEST, CTL_MAX_REQUEST);
    assert_int_equal(ctl_header_decode(h, CTL_MAX_REQUEST, &type, &len), 0);
    ctl_header_encode(h, CTL_REQUEST, CTL_MAX_REQUEST + 1);
    assert_int_equal(ctl_header_decode(h, CTL_MAX_REQUEST, &type, &len), -1);
    ctl_header_encode(h, CTL_REPLY, 0xffffffffu);
    assert_int_equal(ctl_header_decode(h, CTL_MAX_REPLY, &type, &len), -1);
    /* nothing written on failure */
    assert_int_equal(type, CTL_REQUEST);
    assert_int_equal(len, CTL_MAX_REQUEST);
}

static void test_buf_limit(void **state)
{
    struct ctl_buf b;
    (void)state;

    ctl_buf_init(&b, 10);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    ctl_buf_append(&b, "abcdef", 6);
    ctl_buf_printf(&b, "%d", 1234);
    assert_int_equal(b.len, 10);
    assert_false(b.overflow);
    assert_string_equal(b.data, "abcdef1234");
    ctl_buf_append(&b, "x", 1);
    assert_true(b.overflow);
    assert_int_equal(b.len, 10);
    /* once overflowed, even what would fit is refused */
    ctl_buf_append(&b, "", 0);
    ctl_buf_printf(&b, "%s", "");
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "abcdef1234");
    assert_true(b.cap <= 11);
    ctl_buf_free(&b);
    assert_null(b.data);
    ctl_buf_free(&b); /* twice is harmless */

    /* a printf that does not fit leaves the buffer as it was */
    ctl_buf_init(&b, 8);
    ctl_buf_printf(&b, "%s", "abc");
    ctl_buf_printf(&b, "%s", "defghij");
    assert_true(b.overflow);
    assert_string_equal(b.data, "abc");
    ctl_buf_free(&b);
}

static void test_buf_growth(void **state)
{
    struct ctl_buf b;
    char chunk[1000];
    (void)state;

    memset(chunk, 'q', sizeof(chunk));
    ctl_buf_init(&b, 100000);
    for (int i = 0; i < 100; i++)
        ctl_buf_append(&b, chunk, sizeof(chunk));
    assert_false(b.overflow);
    assert_int_equal(b.len, 100000);
    assert_true(b.cap <= 100001);
    assert_int_equal(b.data[b.len], '\0');
    ctl_buf_append(&b, chunk, 1);
    assert_true(b.overflow);
    ctl_buf_free(&b);

    /* printf longer than the first allocation */
    ctl_buf_init(&b, CTL_MAX_REPLY);
    ctl_buf_printf(&b, "%.*s|%s", 900, chunk, "end");
    assert_int_equal(b.len, 904);
    assert_string_equal(b.data + 900, "|end");
    ctl_buf_free(&b);

    /* a zeroed buffer (never initialised) takes nothing and frees fine */
    memset(&b, 0, sizeof(b));
    ctl_buf_append(&b, "a", 1);
    assert_true(b.overflow);
    ctl_buf_free(&b);
}

static void test_writer_text(void **state)
{
    struct ctl_buf b;
    (void)state;

    ctl_buf_init(&b, CTL_MAX_REPLY);
    ctl_rec_begin(&b, "source");
    ctl_rec_str(&b, "name", "a \"b\" \\c");
    ctl_rec_str(&b, "ctl", "x\ny\tz\r\x7f!");
    ctl_rec_int(&b, "reach", 255);
    ctl_rec_int(&b, "neg", -9223372036854775807LL - 1);
    ctl_rec_double(&b, "offset", 1.5e-5);
    ctl_rec_double(&b, "third", 1.0 / 3.0);
    ctl_rec_double(&b, "nan", NAN);
    ctl_rec_double(&b, "inf", -INFINITY);
    ctl_rec_double(&b, "ref_time", 1712345678.25);
    ctl_rec_str(&b, "null", NULL);
    ctl_rec_str(&b, "Bad", "skipped");
    ctl_rec_int(&b, "bad-key", 1);
    ctl_rec_double(&b, "", 1);
    ctl_rec_end(&b);
    assert_false(b.overflow);
    assert_string_equal(b.data, "record=\"source\"\n"
                                "name=\"a \\\"b\\\" \\\\c\"\n"
                                "ctl=\"xyz!\"\n"
                                "reach=255\n"
                                "neg=-9223372036854775808\n"
                                "offset=1.5e-05\n"
                                "third=0.333333333\n"
                                "nan=0\n"
                                "inf=0\n"
                                "ref_time=1712345678.25\n"
                                "null=\"\"\n"
                                "\n");
    ctl_buf_free(&b);
}

static void test_writer_cuts_long_strings(void **state)
{
    char big[3 * CTL_MAX_STRING];
    struct ctl_buf b;
    struct ctl_record r;
    (void)state;

    /* quotes count once towards the limit even though written twice */
    memset(big, '"', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ctl_buf_init(&b, CTL_MAX_REPLY);
    ctl_rec_begin(&b, "k");
    ctl_rec_str(&b, "s", big);
    ctl_rec_end(&b);
    assert_int_equal(ctl_records_parse(b.data, b.len, &r, 1), 1);
    assert_int_equal(strlen(ctl_rec_get(&r, "s")), CTL_MAX_STRING);
    assert_int_equal(ctl_rec_get(&r, "s")[0], '"');
    ctl_buf_free(&b);

    /* a two-byte UTF-8 sequence that would straddle the cut is dropped whole */
    memset(big, 'a', CTL_MAX_STRING - 1);
    big[CTL_MAX_STRING - 1] = (char)0xc3;
    big[CTL_MAX_STRING] = (char)0xa9;
    big[CTL_MAX_STRING + 1] = '\0';
    ctl_buf_init(&b, CTL_MAX_REPLY);
    ctl_rec_begin(&b, "k");
    ctl_rec_str(&b, "s", big);
    ctl_rec_end(&b);
    assert_int_equal(ctl_records_parse(b.data, b.len, &r, 1), 1);
    assert_int_equal(strlen(ctl_rec_get(&r, "s")), CTL_MAX_STRING - 1);
    ctl_buf_free(&b);

    /* exactly CTL_MAX_STRING with an ending sequence is kept */
    big[CTL_MAX_STRING - 2] = (char)0xc3;
    big[CTL_MAX_STRING - 1] = (char)0xa9;
    big[CTL_MAX_STRING] = '\0';
    ctl_buf_init(&b, CTL_MAX_REPLY);
    ctl_rec_begin(&b, "k");
    ctl_rec_str(&b, "s", big);
    ctl_rec_end(&b);
    assert_int_equal(ctl_records_parse(b.data, b.len, &r, 1), 1);
    assert_string_equal(ctl_rec_get(&r, "s"), big);
    ctl_buf_free(&b);
}

static void test_round_trip(void **state)
{
    struct ctl_buf b;
    struct ctl_record recs[3];
    (void)state;

    ctl_buf_init(&b, CTL_MAX_REPLY);
    ctl_rec_begin(&b, "tracking");
    ctl_rec_int(&b, "synced", 1);
    ctl_rec_str(&b, "ref_name", "ntp \"one\" \\ example");
    ctl_rec_double(&b, "offset", -0.000123456789);
    ctl_rec_end(&b);
    ctl_rec_begin(&b, "source");
    ctl_rec_str(&b, "refid", "192.0.2.1");
    ctl_rec_str(&b, "empty", "");
    ctl_rec_end(&b);
    ctl_rec_begin(&b, "serverinfo");
    ctl_rec_end(&b);

    assert_int_equal(ctl_records_parse(b.data, b.len, recs, 3), 3);
    assert_string_equal(recs[0].kind, "tracking");
    assert_int_equal(recs[0].n, 4);
    assert_string_equal(recs[0].f[0].key, "record");
    assert_string_equal(recs[0].f[0].value, "tracking");
    assert_true(recs[0].f[0].is_string);
    assert_string_equal(ctl_rec_get(&recs[0], "ref_name"), "ntp \"one\" \\ example");
    assert_false(recs[0].f[1].is_string);
    assert_true(ctl_rec_num(&recs[0], "synced", -1) == 1.0);
    assert_true(fabs(ctl_rec_num(&recs[0], "offset", 0) + 0.000123456789) < 1e-15);
    assert_true(ctl_rec_num(&recs[0], "ref_name", 42) == 42); /* a string */
    assert_true(ctl_rec_num(&recs[0], "missing", -7) == -7);
    assert_null(ctl_rec_get(&recs[0], "missing"));
    assert_string_equal(recs[1].kind, "source");
    assert_string_equal(ctl_rec_get(&recs[1], "refid"), "192.0.2.1");
    assert_true(ctl_rec_num(&recs[1], "refid", -1) == -1);
    assert_string_equal(ctl_rec_get(&recs[1], "empty"), "");
    assert_string_equal(recs[2].kind, "serverinfo");
    assert_int_equal(recs[2].n, 1);
    ctl_buf_free(&b);

    /* an empty reply holds no records; more records than room is an error */
    assert_int_equal(ctl_records_parse(NULL, 0, recs, 3), 0);
    assert_int_equal(parse_str("record=\"a\"\n\nrecord=\"b\"\n\n"), 2);
    struct ctl_record one;
    const char *two = "record=\"a\"\n\nrecord=\"b\"\n\n";
    assert_int_equal(parse_text(two, strlen(two), &one, 1, NULL), -1);
    assert_int_equal(parse_text(two, strlen(two), &one, 0, NULL), -1);
}

static void test_numbers(void **state)
{
    static const char *const good[] = {"0",
                                       "-0",
                                       "7",
                                       "-12",
                                       "1.5",
                                       "1e+20",
                                       "1E-07",
                                       "-1.5e-05",
                                       "0.001",
                                       "123456789",
                                       "9223372036854775807"};
    static const char *const bad[] = {
        "",    "+1",   "01",   "1.",  ".5",  "1e",    "1e+",
        "nan", "inf",  "0x10", "1 ",  " 1",  "1,5",   "--1",
        "-",   "1.5.", "1e5e", "abc", "1_0", "1e+5x", "12345678901234567890123456789012345678901"};
    char text[128];
    (void)state;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(text, sizeof(text), "record=\"n\"\nv=%s\n\n", good[i]);
        assert_int_equal(parse_str(text), 1);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "record=\"n\"\nv=%s\n\n", bad[i]);
        if (parse_str(text) != -1)
            fail_msg("number '%s' accepted", bad[i]);
    }
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {
        "record=\"a\"\n",                 /* no blank line */
        "record=\"a\"\nx=1\n",            /* no blank line after fields */
        "record=\"a\"",                   /* no newline at all */
        "record=\"a\"\n\nrecord=\"b\"\n", /* second record unterminated */
        "\n",                             /* empty record */
        "record=\"a\"\n\n\n",             /* extra blank line */
        "x=1\nrecord=\"a\"\n\n",          /* record not first */
        "record=1\n\n",                   /* record is a number */
        "record=\"\"\n\n",                /* empty kind */
        "record=\"a\"\nrecord=\"b\"\n\n", /* record twice */
        "record=\"a\"\nx=1\nx=2\n\n",     /* duplicate key */
        "record=\"a\"\n=1\n\n",           /* empty key */
        "record=\"a\"\nX=1\n\n",          /* upper case key */
        "record=\"a\"\nx-y=1\n\n",        /* bad key char */
        "record=\"a\"\nx y=1\n\n",        /* space in key */
        "record=\"a\"\nx\n\n",            /* no = */
        "record=\"a\"\nx=\n\n",           /* empty value */
        "record=\"a\"\nx=\"abc\n\n",      /* unterminated quote */
        "record=\"a\"\nx=\"abc",          /* unterminated at the end */
        "record=\"a\"\nx=\"",             /* lone quote */
        "record=\"a\"\nx=\"a\\n\"\n\n",   /* bad escape */
        "record=\"a\"\nx=\"a\\\"\n\n",    /* escaped closing quote */
        "record=\"a\"\nx=\"a\\",          /* backslash at the end */
        "record=\"a\"\nx=\"a\"b\n\n",     /* text after the quote */
        "record=\"a\"\nx=\"a\"",          /* no newline after the quote */
        "record=\"a\"\nx=\"a\tb\"\n\n",   /* control char in a string */
        "record=\"a\"\nx=\"a\x7f\"\n\n",  /* DEL in a string */
        "record=\"a\"\nx=12abc\n\n",      /* number garbage */
        "record=\"a\"\nx=bare\n\n",       /* unquoted word */
        "record=\"a\"\r\n\r\n",           /* CRLF */
        " record=\"a\"\n\n",              /* leading space */
        "record =\"a\"\n\n",              /* space before = */
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (parse_str(bad[i]) != -1)
            fail_msg("malformed payload %zu accepted: %s", i, bad[i]);

    /* a NUL inside the payload is neither a key nor string character */
    const char nul_key[] = "record=\"a\"\nx\0=1\n\n";
    const char nul_str[] = "record=\"a\"\nx=\"a\0b\"\n\n";
    struct ctl_record r;
    assert_int_equal(parse_text(nul_key, sizeof(nul_key) - 1, &r, 1, NULL), -1);
    assert_int_equal(parse_text(nul_str, sizeof(nul_str) - 1, &r, 1, NULL), -1);
}

static void test_field_and_string_limits(void **state)
{
    struct ctl_buf b;
    struct ctl_record r;
    char key[16];
    (void)state;

    ctl_buf_init(&b, CTL_MAX_REPLY);
    ctl_rec_begin(&b, "many");
    for (int i = 1; i < CTL_MAX_FIELDS; i++) {
        snprintf(key, sizeof(key), "f%d", i);
        ctl_rec_int(&b, key, i);
    }
    ctl_rec_end(&b);
    char *copy = malloc(b.len);
    memcpy(copy, b.data, b.len);
    assert_int_equal(ctl_records_parse(copy, b.len, &r, 1), 1);
    assert_int_equal(r.n, CTL_MAX_FIELDS);
    assert_true(ctl_rec_num(&r, "f47", 0) == 47);
    free(copy);

    /* one field more is too many */
    b.len--; /* drop the blank line */
    ctl_rec_int(&b, "extra", 1);
    ctl_rec_end(&b);
    assert_int_equal(parse_text(b.data, b.len, &r, 1, NULL), -1);
    ctl_buf_free(&b);

    /* a string longer than the writer would ever send */
    char text[CTL_MAX_STRING + 64];
    int n = snprintf(text, sizeof(text), "record=\"a\"\ns=\"%0*d\"\n\n", CTL_MAX_STRING, 0);
    assert_int_equal(parse_text(text, (size_t)n, &r, 1, NULL), 1);
    n = snprintf(text, sizeof(text), "record=\"a\"\ns=\"%0*d\"\n\n", CTL_MAX_STRING + 1, 0);
    assert_int_equal(parse_text(text, (size_t)n, &r, 1, NULL), -1);
}

static void test_request_valid(void **state)
{
    char big[CTL_MAX_REQUEST + 1];
    (void)state;

    assert_true(ctl_request_valid("sources", 7));
    assert_true(ctl_request_valid("clients 50", 10));
    assert_true(ctl_request_valid("~", 1));
    assert_false(ctl_request_valid("", 0));
    assert_false(ctl_request_valid(NULL, 0));
    assert_false(ctl_request_valid(" sources", 8));
    assert_false(ctl_request_valid("sources\n", 8));
    assert_false(ctl_request_valid("a\tb", 3));
    assert_false(ctl_request_valid("a\x7f", 2));
    assert_false(ctl_request_valid("caf\xc3\xa9", 5));
    assert_false(ctl_request_valid("a\0b", 3));
    memset(big, 'a', sizeof(big));
    assert_true(ctl_request_valid(big, CTL_MAX_REQUEST));
    assert_false(ctl_request_valid(big, CTL_MAX_REQUEST + 1));
}

/* A random, valid payload as the daemon would write it. */
static void random_payload(uint64_t *s, struct ctl_buf *b)
{
    static const char *const kinds[] = {"tracking", "source", "client", "x"};
    static const char alphabet[] = "az09_\"\\ \n\t\x7f\xc3\xa9=.-";
    char key[16], str[40];
    unsigned nrec = rnd(s, 4);

    for (unsigned i = 0; i < nrec; i++) {
        ctl_rec_begin(b, kinds[rnd(s, 4)]);
        unsigned nf = rnd(s, 8);
        for (unsigned j = 0; j < nf; j++) {
            snprintf(key, sizeof(key), "k%u", j);
            switch (rnd(s, 3)) {
            case 0:
                ctl_rec_int(b, key, (long long)splitmix(s));
                break;
            case 1:
                ctl_rec_double(b, key, ((double)splitmix(s) - 9.2e18) * pow(10, rnd(s, 40) - 30.0));
                break;
            default: {
                unsigned len = rnd(s, sizeof(str));
                for (unsigned k = 0; k < len; k++)
                    str[k] = alphabet[rnd(s, sizeof(alphabet) - 1)];
                str[len] = '\0';
                if (len && rnd(s, 2))
                    str[len - 1] = '\0';
                ctl_rec_str(b, key, str);
            }
            }
        }
        ctl_rec_end(b);
    }
}

static void mutate(uint64_t *s, char *p, size_t *len, size_t cap)
{
    static const char special[] = "\"\\=\n\0a0_-+.eE ";
    unsigned times = 1 + rnd(s, 4);

    for (unsigned t = 0; t<times && * len> 0; t++) {
        size_t at = rnd(s, (unsigned)*len);
        switch (rnd(s, 5)) {
        case 0: /* flip a bit */
            p[at] = (char)((unsigned char)p[at] ^ (1u << rnd(s, 8)));
            break;
        case 1: /* a special byte */
            p[at] = special[rnd(s, sizeof(special) - 1)];
            break;
        case 2: /* delete */
            memmove(p + at, p + at + 1, *len - at - 1);
            (*len)--;
            break;
        case 3: /* insert */
            if (*len < cap) {
                memmove(p + at + 1, p + at, *len - at);
                p[at] = special[rnd(s, sizeof(special) - 1)];
                (*len)++;
            }
            break;
        default: /* truncate */
            *len = at;
        }
    }
}

/* Everything a successful parse promises, checked over the records. */
static void check_consistent(const struct ctl_record *recs, int n, const char *buf, size_t len)
{
    for (int i = 0; i < n; i++) {
        const struct ctl_record *r = &recs[i];
        assert_in_range(r->n, 1, CTL_MAX_FIELDS);
        assert_string_equal(r->f[0].key, "record");
        assert_ptr_equal(r->kind, r->f[0].value);
        assert_true(r->kind[0] != '\0');
        for (unsigned j = 0; j < r->n; j++) {
            const struct ctl_field *f = &r->f[j];
            assert_true(f->key >= buf && f->key < buf + len);
            assert_true(f->value >= buf && f->value < buf + len);
            assert_true(strlen(f->key) > 0);
            assert_true(strspn(f->key, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(f->key));
            for (const char *c = f->value; *c; c++)
                assert_false((unsigned char)*c < 0x20 || *c == 0x7f);
            if (f->is_string) {
                assert_true(strlen(f->value) <= CTL_MAX_STRING);
            } else {
                char *end;
                double v = strtod(f->value, &end);
                assert_true(*end == '\0' && end != f->value);
                assert_true(isfinite(v) || fabs(v) == HUGE_VAL);
            }
            for (unsigned k = 0; k < j; k++)
                assert_string_not_equal(r->f[k].key, f->key);
            assert_ptr_equal(ctl_rec_get(r, f->key), f->value);
        }
    }
}

static void test_random_mutations(void **state)
{
    struct ctl_record recs[8];
    uint64_t s = test_seed;
    int ok = 0, rejected = 0;
    (void)state;

    for (int iter = 0; iter < 50000; iter++) {
        struct ctl_buf b;
        ctl_buf_init(&b, 4096);
        random_payload(&s, &b);
        assert_false(b.overflow);
        size_t len = b.len, cap = b.len + 8;
        char *p = malloc(cap);
        memcpy(p, b.data, len);

        /* unmutated: always parses, to the same number of records */
        char *q = malloc(len ? len : 1);
        memcpy(q, p, len);
        int want = 0;
        for (size_t i = 0; i + 1 < len; i++)
            want += p[i] == '\n' && p[i + 1] == '\n';
        int n = ctl_records_parse(q, len, recs, 8);
        if (n != want)
            fail_msg("valid payload rejected (n %d, want %d) iteration %d seed %llu", n, want, iter,
                     (unsigned long long)test_seed);
        check_consistent(recs, n, q, len);
        free(q);

        mutate(&s, p, &len, cap);
        q = malloc(len ? len : 1); /* exact size: ASan catches overreads */
        memcpy(q, p, len);
        n = ctl_records_parse(q, len, recs, 8);
        if (n >= 0) {
            check_consistent(recs, n, q, len);
            ok++;
        } else {
            assert_int_equal(n, -1);
            rejected++;
        }
        free(q);
        free(p);
        ctl_buf_free(&b);
    }
    /* the mutations must exercise both outcomes */
    assert_true(ok > 100);
    assert_true(rejected > 100);
}

int main(void)
{
    const char *env = getenv("TEMPUS_SEED");
    test_seed = env ? strtoull(env, NULL, 0) : 20240601;
    printf("test_ctl_proto: seed %llu (set TEMPUS_SEED to reproduce)\n",
           (unsigned long long)test_seed);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_round_trip), cmocka_unit_test(test_header_malformed),
        cmocka_unit_test(test_buf_limit),         cmocka_unit_test(test_buf_growth),
        cmocka_unit_test(test_writer_text),       cmocka_unit_test(test_writer_cuts_long_strings),
        cmocka_unit_test(test_round_trip),        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_malformed),         cmocka_unit_test(test_field_and_string_limits),
        cmocka_unit_test(test_request_valid),     cmocka_unit_test(test_random_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
