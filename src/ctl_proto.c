/* SPDX-License-Identifier: ISC */
#include "ctl_proto.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"

/* First allocation of a ctl_buf; it doubles from there up to max + 1. */
#define CTL_BUF_MIN 256
/* Longest number the parser accepts ("%.15g" of a negative double with a
 * three-digit exponent is 22 bytes). */
#define CTL_MAX_NUMBER 40
/* From this magnitude on doubles are written with 15 significant digits:
 * %.9g would cut a Unix timestamp (ref_time) to ten-second steps. */
#define CTL_WIDE_DOUBLE 1e6

static void ctl_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void ctl_header_encode(uint8_t out[CTL_HEADER_LEN], enum ctl_type type, uint32_t len)
{
    memcpy(out, CTL_MAGIC, 4);
    out[4] = (uint8_t)(CTL_VERSION >> 8);
    out[5] = (uint8_t)CTL_VERSION;
    out[6] = (uint8_t)((unsigned)type >> 8);
    out[7] = (uint8_t)type;
    ctl_put32(out + 8, len);
}

int ctl_header_decode(const uint8_t in[CTL_HEADER_LEN], size_t max, enum ctl_type *type,
                      uint32_t *len)
{
    unsigned version = (unsigned)in[4] << 8 | in[5];
    unsigned t = (unsigned)in[6] << 8 | in[7];
    uint32_t l = (uint32_t)in[8] << 24 | (uint32_t)in[9] << 16 | (uint32_t)in[10] << 8 | in[11];

    if (memcmp(in, CTL_MAGIC, 4) != 0 || version != CTL_VERSION)
        return -1;
    if (t != CTL_REQUEST && t != CTL_REPLY && t != CTL_REPLY_ERROR)
        return -1;
    if (l > max)
        return -1;
    *type = (enum ctl_type)t;
    *len = l;
    return 0;
}

/* The data is always NUL-terminated (so a rendered text can be printed
 * as is), hence the + 1 on every capacity. */
void ctl_buf_init(struct ctl_buf *b, size_t max)
{
    if (max > SIZE_MAX / 4)
        max = SIZE_MAX / 4;
    b->max = max;
    b->len = 0;
    b->overflow = 0;
    b->cap = max + 1 < CTL_BUF_MIN ? max + 1 : CTL_BUF_MIN;
    b->data = mem_alloc(b->cap);
    b->data[0] = '\0';
}

void ctl_buf_free(struct ctl_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->overflow = 0;
}

/* Room for n more bytes and the NUL: 0, or -1 with overflow set when that
 * would pass max. Once overflowed a buffer takes nothing more, so it never
 * holds a record with a hole in the middle. */
static int ctl_buf_reserve(struct ctl_buf *b, size_t n)
{
    if (b->overflow)
        return -1;
    if (b->len > b->max || n > b->max - b->len) {
        b->overflow = 1;
        return -1;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : CTL_BUF_MIN;
    while (cap < need)
        cap = cap > (b->max + 1) / 2 ? b->max + 1 : cap * 2;
    b->data = mem_realloc(b->data, cap, 1);
    b->cap = cap;
    return 0;
}

void ctl_buf_append(struct ctl_buf *b, const void *p, size_t n)
{
    if (ctl_buf_reserve(b, n) < 0)
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void ctl_buf_printf(struct ctl_buf *b, const char *fmt, ...)
{
    va_list ap, aq;
    char empty[1];
    char *dst = b->data ? b->data + b->len : empty;
    size_t room = b->data ? b->cap - b->len : sizeof(empty);

    if (b->overflow)
        return;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int n = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < room) {
        b->len += (size_t)n;
    } else {
        if (b->data)
            b->data[b->len] = '\0'; /* undo the truncated attempt */
        if (n < 0)
            b->overflow = 1; /* an encoding error: nothing sensible to keep */
        else if (ctl_buf_reserve(b, (size_t)n) == 0) {
            vsnprintf(b->data + b->len, (size_t)n + 1, fmt, aq);
            b->len += (size_t)n;
        }
    }
    va_end(aq);
}

static int ctl_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Keys come from the program, not the peer: a bad one is a bug, reported
 * and skipped rather than sent as a record the other side must reject. */
static int ctl_key_valid(const char *key)
{
    if (!key || !*key) {
        log_warnx("control record: empty key");
        return 0;
    }
    for (const char *k = key; *k; k++)
        if (!ctl_key_char(*k)) {
            log_warnx("control record: invalid key '%s'", key);
            return 0;
        }
    return 1;
}

static int ctl_is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* Escape value into out (room for 2 * CTL_MAX_STRING bytes), dropping
 * control characters and cutting after CTL_MAX_STRING kept bytes, never in
 * the middle of a UTF-8 sequence. Returns the length written. */
static size_t ctl_escape(const char *value, char *out)
{
    const unsigned char *s = (const unsigned char *)value;
    size_t kept = 0, w = 0;

    for (; *s; s++) {
        if (ctl_is_control(*s))
            continue;
        if (kept == CTL_MAX_STRING) {
            if ((*s & 0xc0) == 0x80) { /* cut inside a sequence: drop its start */
                while (w > 0 && ((unsigned char)out[w - 1] & 0xc0) == 0x80)
                    w--;
                if (w > 0 && (unsigned char)out[w - 1] >= 0xc0)
                    w--;
            }
            break;
        }
        if (*s == '"' || *s == '\\')
            out[w++] = '\\';
        out[w++] = (char)*s;
        kept++;
    }
    return w;
}

void ctl_rec_str(struct ctl_buf *b, const char *key, const char *value)
{
    char esc[2 * CTL_MAX_STRING];

    if (!ctl_key_valid(key))
        return;
    size_t n = ctl_escape(value ? value : "", esc);
    ctl_buf_printf(b, "%s=\"%.*s\"\n", key, (int)n, esc);
}

void ctl_rec_begin(struct ctl_buf *b, const char *kind)
{
    ctl_rec_str(b, "record", kind);
}

void ctl_rec_int(struct ctl_buf *b, const char *key, long long value)
{
    if (ctl_key_valid(key))
        ctl_buf_printf(b, "%s=%lld\n", key, value);
}

void ctl_rec_double(struct ctl_buf *b, const char *key, double value)
{
    if (!ctl_key_valid(key))
        return;
    if (!isfinite(value))
        value = 0.0;
    ctl_buf_printf(b, "%s=%.*g\n", key, fabs(value) >= CTL_WIDE_DOUBLE ? 15 : 9, value);
}

void ctl_rec_end(struct ctl_buf *b)
{
    ctl_buf_append(b, "\n", 1);
}

/* A number as %lld or %.Ng print one; it is also exactly a JSON number:
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int ctl_number_valid(const char *s, size_t n)
{
    size_t i = 0, d;

    if (n == 0 || n > CTL_MAX_NUMBER)
        return 0;
    if (s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return 0;
    if (i < n && s[i] == '.') {
        for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == d)
            return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == d)
            return 0;
    }
    return i == n;
}

/* A quoted value starting at p[*pos] == '"', unescaped in place over
 * itself (the writer index w never passes the reader index i). */
static int ctl_parse_string(char *p, size_t len, size_t *pos, struct ctl_field *f)
{
    size_t start = *pos, w = start, i = start + 1;

    for (;;) {
        if (i >= len)
            return -1; /* unterminated */
        unsigned char c = (unsigned char)p[i];
        if (c == '"')
            break;
        if (ctl_is_control(c))
            return -1;
        if (c == '\\') {
            if (i + 1 >= len || (p[i + 1] != '"' && p[i + 1] != '\\'))
                return -1;
            c = (unsigned char)p[++i];
        }
        if (w - start >= CTL_MAX_STRING)
            return -1;
        p[w++] = (char)c;
        i++;
    }
    if (i + 1 >= len || p[i + 1] != '\n')
        return -1;
    p[w] = '\0';
    f->value = p + start;
    f->is_string = 1;
    *pos = i + 2;
    return 0;
}

static int ctl_parse_number(char *p, size_t len, size_t *pos, struct ctl_field *f)
{
    size_t start = *pos, i = start;

    while (i < len && p[i] != '\n')
        i++;
    if (i >= len || !ctl_number_valid(p + start, i - start))
        return -1;
    p[i] = '\0';
    f->value = p + start;
    f->is_string = 0;
    *pos = i + 1;
    return 0;
}

/* One "key=value\n" line at p[*pos]. */
static int ctl_parse_field(char *p, size_t len, size_t *pos, struct ctl_field *f)
{
    size_t i = *pos;

    while (i < len && ctl_key_char(p[i]))
        i++;
    if (i == *pos || i >= len || p[i] != '=')
        return -1;
    p[i] = '\0';
    f->key = p + *pos;
    *pos = i + 1;
    if (*pos < len && p[*pos] == '"')
        return ctl_parse_string(p, len, pos, f);
    return ctl_parse_number(p, len, pos, f);
}

/* One record at p[*pos], up to and including its blank line. Keys must be
 * unique in a record, so a lookup and a JSON object are never ambiguous. */
static int ctl_parse_record(char *p, size_t len, size_t *pos, struct ctl_record *r)
{
    r->n = 0;
    r->kind = NULL;
    for (;;) {
        if (*pos >= len)
            return -1; /* no blank line at the end */
        if (p[*pos] == '\n')
            break;
        if (r->n == CTL_MAX_FIELDS)
            return -1;
        struct ctl_field *f = &r->f[r->n];
        if (ctl_parse_field(p, len, pos, f) < 0)
            return -1;
        if (r->n == 0 && (strcmp(f->key, "record") != 0 || !f->is_string || !*f->value))
            return -1;
        for (unsigned j = 0; j < r->n; j++)
            if (strcmp(r->f[j].key, f->key) == 0)
                return -1;
        r->n++;
    }
    if (r->n == 0)
        return -1; /* a blank line where a record should start */
    (*pos)++;
    r->kind = r->f[0].value;
    return 0;
}

/* The record field is kept as f[0], so a record reads back exactly as it
 * was written. More records than max is an error, not a silent cut. */
int ctl_records_parse(char *payload, size_t len, struct ctl_record *out, size_t max)
{
    size_t pos = 0;
    int n = 0;

    while (pos < len) {
        if ((size_t)n >= max || n == INT_MAX)
            return -1;
        if (ctl_parse_record(payload, len, &pos, &out[n]) < 0)
            return -1;
        n++;
    }
    return n;
}

static const struct ctl_field *ctl_rec_field(const struct ctl_record *r, const char *key)
{
    for (unsigned i = 0; i < r->n && i < CTL_MAX_FIELDS; i++)
        if (strcmp(r->f[i].key, key) == 0)
            return &r->f[i];
    return NULL;
}

const char *ctl_rec_get(const struct ctl_record *r, const char *key)
{
    const struct ctl_field *f = ctl_rec_field(r, key);
    return f ? f->value : NULL;
}

/* A quoted value is a string even if it reads like a number. */
double ctl_rec_num(const struct ctl_record *r, const char *key, double dflt)
{
    const struct ctl_field *f = ctl_rec_field(r, key);
    if (!f || f->is_string)
        return dflt;
    return strtod(f->value, NULL);
}

int ctl_request_valid(const char *line, size_t len)
{
    if (!line || len == 0 || len > CTL_MAX_REQUEST || line[0] == ' ')
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
            return 0;
    return 1;
}
