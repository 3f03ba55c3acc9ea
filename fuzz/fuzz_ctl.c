/* SPDX-License-Identifier: ISC */
/* ctl_proto: a control-socket frame. The first 12 bytes go through
 * ctl_header_decode (against the request and the reply limit), the rest is
 * the payload for ctl_records_parse and ctl_request_valid (a shorter input
 * is all payload). Asserts that
 *   - an accepted header re-encodes to the same 12 bytes, with a known type
 *     and a length within the limit;
 *   - parsed records are well formed (record= first, keys [a-z0-9_]+ and
 *     unique, strings short, no control characters) and that writing them
 *     back with the record writer reproduces the payload byte for byte,
 *     which parses again to the same records;
 *   - ctl_request_valid agrees with its contract, checked byte by byte here. */
#include "fuzz.h"

#include <math.h>

#include "ctl_proto.h"

#define MAX_RECORDS 64

static struct ctl_record recs[MAX_RECORDS], recs2[MAX_RECORDS];

static void check_header(const uint8_t *hdr)
{
    static const size_t limits[] = {CTL_MAX_REQUEST, CTL_MAX_REPLY};
    uint8_t re[CTL_HEADER_LEN];

    for (size_t i = 0; i < 2; i++) {
        enum ctl_type type;
        uint32_t len;
        if (ctl_header_decode(hdr, limits[i], &type, &len) < 0)
            continue;
        FUZZ_CHECK(type == CTL_REQUEST || type == CTL_REPLY || type == CTL_REPLY_ERROR);
        FUZZ_CHECK(len <= limits[i]);
        ctl_header_encode(re, type, len);
        FUZZ_CHECK(memcmp(re, hdr, CTL_HEADER_LEN) == 0);
    }
}

static int key_ok(const char *k)
{
    size_t n = strlen(k);
    return n > 0 && strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static void check_record(const struct ctl_record *r)
{
    FUZZ_CHECK(r->n >= 1 && r->n <= CTL_MAX_FIELDS);
    FUZZ_CHECK(strcmp(r->f[0].key, "record") == 0 && r->f[0].is_string);
    FUZZ_CHECK(r->kind == r->f[0].value && r->kind[0] != '\0');
    for (unsigned i = 0; i < r->n; i++) {
        const struct ctl_field *f = &r->f[i];
        FUZZ_CHECK(key_ok(f->key));
        FUZZ_CHECK(ctl_rec_get(r, f->key) == f->value);
        if (f->is_string)
            FUZZ_CHECK(strlen(f->value) <= CTL_MAX_STRING);
        for (const char *c = f->value; *c; c++)
            FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
        for (unsigned j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(r->f[j].key, f->key) != 0);
        /* A quoted value is never a number, whatever it reads like. */
        if (f->is_string)
            FUZZ_CHECK(ctl_rec_num(r, f->key, -7.5) == -7.5);
        else
            FUZZ_CHECK(!isnan(ctl_rec_num(r, f->key, 0.0)));
    }
}

/* Write the records back the way the daemon writes them. */
static void render(struct ctl_buf *b, const struct ctl_record *r, int n)
{
    for (int i = 0; i < n; i++) {
        ctl_rec_begin(b, r[i].kind);
        for (unsigned j = 1; j < r[i].n; j++) {
            const struct ctl_field *f = &r[i].f[j];
            if (f->is_string)
                ctl_rec_str(b, f->key, f->value);
            else /* as parsed: ctl_rec_double would reformat it */
                ctl_buf_printf(b, "%s=%s\n", f->key, f->value);
        }
        ctl_rec_end(b);
    }
}

static void check_payload(const uint8_t *data, size_t len)
{
    char *p = (char *)fuzz_dup(data, len);
    int n = ctl_records_parse(p, len, recs, MAX_RECORDS);

    FUZZ_CHECK(n >= -1 && n <= MAX_RECORDS);
    FUZZ_CHECK(n != 0 || len == 0);
    if (n > 0) {
        struct ctl_buf b;
        for (int i = 0; i < n; i++)
            check_record(&recs[i]);
        ctl_buf_init(&b, CTL_MAX_REPLY);
        render(&b, recs, n);
        FUZZ_CHECK(!b.overflow);
        FUZZ_CHECK(b.len == len && memcmp(b.data, data, len) == 0);
        FUZZ_CHECK(ctl_records_parse(b.data, b.len, recs2, MAX_RECORDS) == n);
        for (int i = 0; i < n; i++) {
            FUZZ_CHECK(recs2[i].n == recs[i].n);
            for (unsigned j = 0; j < recs[i].n; j++) {
                FUZZ_CHECK(strcmp(recs2[i].f[j].key, recs[i].f[j].key) == 0);
                FUZZ_CHECK(strcmp(recs2[i].f[j].value, recs[i].f[j].value) == 0);
                FUZZ_CHECK(recs2[i].f[j].is_string == recs[i].f[j].is_string);
            }
        }
        ctl_buf_free(&b);
    }
    free(p);
}

static void check_request(const uint8_t *data, size_t len)
{
    char *p = (char *)fuzz_dup(data, len);
    int want = len >= 1 && len <= CTL_MAX_REQUEST && data[0] != ' ';

    for (size_t i = 0; i < len && want; i++)
        want = data[i] >= 0x20 && data[i] <= 0x7e;
    FUZZ_CHECK(ctl_request_valid(p, len) == want);
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= CTL_HEADER_LEN) {
        check_header(data);
        data += CTL_HEADER_LEN;
        size -= CTL_HEADER_LEN;
    }
    check_payload(data, size);
    check_request(data, size);
    return 0;
}
