/* SPDX-License-Identifier: ISC */
#include "firewall_json.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* A reader over JSON text that writes what it reads, compacted, to out;
 * while mute > 0 it only reads. */
struct fwj {
    const char *p, *end;
    struct ctl_buf *out;
    int mute, depth;
};

static int fwj_value(struct fwj *j);

static void fwj_put(struct fwj *j, const char *s, size_t n)
{
    if (!j->mute)
        ctl_buf_append(j->out, s, n);
}

static void fwj_ws(struct fwj *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int fwj_peek(struct fwj *j)
{
    fwj_ws(j);
    return j->p < j->end ? (unsigned char)*j->p : -1;
}

/* A string, copied with its quotes; its raw contents (escapes as written)
 * into key when key is not NULL (cut to keysize - 1). */
static int fwj_string(struct fwj *j, char *key, size_t keysize)
{
    const char *start = j->p;

    if (fwj_peek(j) != '"')
        return -1;
    start = j->p++;
    while (j->p < j->end && *j->p != '"') {
        if ((unsigned char)*j->p < 0x20)
            return -1;
        if (*j->p == '\\') {
            if (j->end - j->p < 2)
                return -1;
            j->p++;
        }
        j->p++;
    }
    if (j->p >= j->end)
        return -1;
    j->p++;
    if (key) {
        size_t n = (size_t)(j->p - start) - 2;
        n = n < keysize - 1 ? n : keysize - 1;
        memcpy(key, start + 1, n);
        key[n] = '\0';
    }
    fwj_put(j, start, (size_t)(j->p - start));
    return 0;
}

/* A number or true/false/null, copied as written. */
static int fwj_scalar(struct fwj *j)
{
    const char *start = j->p;
    static const char *const words[] = {"true", "false", "null"};

    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(j->end - j->p) >= n && memcmp(j->p, words[i], n) == 0) {
            j->p += n;
            fwj_put(j, start, n);
            return 0;
        }
    }
    int digits = 0;
    while (j->p < j->end && strchr("+-.eE0123456789", *j->p) && *j->p) {
        digits += *j->p >= '0' && *j->p <= '9';
        j->p++;
    }
    if (!digits)
        return -1;
    fwj_put(j, start, (size_t)(j->p - start));
    return 0;
}

/* One "key": value member. Handles are dropped, counter values zeroed. */
static int fwj_member(struct fwj *j, int *first)
{
    char key[32];
    struct ctl_buf scratch;
    struct ctl_buf *keep = j->out;

    /* the key goes to a scratch buffer until we know the member stays */
    ctl_buf_init(&scratch, 1024);
    j->out = &scratch;
    int r = fwj_string(j, key, sizeof(key));
    j->out = keep;
    if (r < 0 || fwj_peek(j) != ':') {
        ctl_buf_free(&scratch);
        return -1;
    }
    j->p++;
    int drop = strcmp(key, "handle") == 0;
    int zero = strcmp(key, "packets") == 0 || strcmp(key, "bytes") == 0;
    if (!drop) {
        fwj_put(j, *first ? "" : ",", *first ? 0 : 1);
        fwj_put(j, scratch.data, scratch.len);
        fwj_put(j, ":", 1);
        *first = 0;
    }
    ctl_buf_free(&scratch);
    if (drop || zero)
        j->mute++;
    r = fwj_value(j);
    if (drop || zero)
        j->mute--;
    if (zero)
        fwj_put(j, "0", 1);
    return r;
}

/* An object or an array (open is '{' or '['). */
static int fwj_container(struct fwj *j, char open)
{
    char close = open == '{' ? '}' : ']';
    int first = 1;

    if (++j->depth > FWJSON_MAX_DEPTH)
        return -1;
    j->p++;
    fwj_put(j, &open, 1);
    if (fwj_peek(j) == close) {
        j->p++;
    } else {
        for (;;) {
            int r;
            if (open == '{') {
                r = fwj_member(j, &first);
            } else {
                fwj_put(j, first ? "" : ",", first ? 0 : 1);
                first = 0;
                r = fwj_value(j);
            }
            int c = fwj_peek(j);
            if (r < 0 || (c != ',' && c != close))
                return -1;
            j->p++;
            if (c == close)
                break;
        }
    }
    fwj_put(j, &close, 1);
    j->depth--;
    return 0;
}

static int fwj_value(struct fwj *j)
{
    int c = fwj_peek(j);
    if (c == '{' || c == '[')
        return fwj_container(j, (char)c);
    if (c == '"')
        return fwj_string(j, NULL, 0);
    return c < 0 ? -1 : fwj_scalar(j);
}

/* The elements of the "nftables" array, j->p just past its '['. */
static int fwj_elements(struct fwj *j, struct fwjson_list *l)
{
    if (fwj_peek(j) == ']') {
        j->p++;
        return 0;
    }
    for (;;) {
        struct ctl_buf b;
        ctl_buf_init(&b, FWJSON_MAX_OBJECT);
        j->out = &b;
        int r = fwj_value(j);
        ctl_buf_append(&b, "", 1);
        if (r < 0 || b.overflow || l->n == FWJSON_MAX_OBJECTS) {
            ctl_buf_free(&b);
            return -1;
        }
        if (strncmp(b.data, "{\"metainfo\":", 12) == 0)
            ctl_buf_free(&b);
        else
            l->obj[l->n++] = b.data;
        int c = fwj_peek(j);
        if (c != ',' && c != ']')
            return -1;
        j->p++;
        if (c == ']')
            return 0;
    }
}

int fwjson_parse(const char *text, size_t len, struct fwjson_list *l)
{
    struct fwj j = {.p = text, .end = text + len, .mute = 1};
    char key[32];
    int first = 1, found = 0;

    memset(l, 0, sizeof(*l));
    l->obj = mem_calloc(FWJSON_MAX_OBJECTS, sizeof(*l->obj));
    if (fwj_peek(&j) != '{')
        goto bad;
    j.p++;
    while (fwj_peek(&j) != '}') {
        if (!first && *j.p++ != ',')
            goto bad;
        first = 0;
        if (fwj_string(&j, key, sizeof(key)) < 0 || fwj_peek(&j) != ':')
            goto bad;
        j.p++;
        if (strcmp(key, "nftables") == 0 && !found && fwj_peek(&j) == '[') {
            j.p++;
            j.mute = 0;
            found = 1;
            if (fwj_elements(&j, l) < 0)
                goto bad;
            j.mute = 1;
        } else if (fwj_value(&j) < 0) {
            goto bad;
        }
        if (fwj_peek(&j) < 0)
            goto bad;
    }
    j.p++;
    if (found && fwj_peek(&j) < 0)
        return 0;
bad:
    fwjson_free(l);
    return -1;
}

void fwjson_free(struct fwjson_list *l)
{
    for (size_t i = 0; l->obj && i < l->n; i++)
        free(l->obj[i]);
    free(l->obj);
    memset(l, 0, sizeof(*l));
}

static void fwjson_line(struct ctl_buf *out, const char *what, const char *obj)
{
    size_t n = strlen(obj);
    if (!out)
        return;
    ctl_buf_printf(out, "%s: %.*s%s\n", what, (int)(n > 300 ? 300 : n), obj, n > 300 ? "..." : "");
}

size_t fwjson_diff(const struct fwjson_list *want, const struct fwjson_list *got,
                   struct ctl_buf *out, size_t *missing, size_t *unexpected)
{
    size_t n = want->n, m = got->n, lines = 0, miss = 0, extra = 0;
    /* longest common subsequence, so that one moved or changed rule shows
     * as one line each way instead of everything after it */
    size_t *t = mem_calloc((n + 1) * (m + 1), sizeof(*t));
#define FWJ_T(a, b) t[(a) * (m + 1) + (b)]
    for (size_t a = n; a-- > 0;)
        for (size_t b = m; b-- > 0;)
            FWJ_T(a, b) = strcmp(want->obj[a], got->obj[b]) == 0
                              ? FWJ_T(a + 1, b + 1) + 1
                              : (FWJ_T(a + 1, b) > FWJ_T(a, b + 1) ? FWJ_T(a + 1, b) : FWJ_T(a, b + 1));
    size_t a = 0, b = 0;
    while (a < n || b < m) {
        if (a < n && b < m && strcmp(want->obj[a], got->obj[b]) == 0) {
            a++, b++;
        } else if (b == m || (a < n && FWJ_T(a + 1, b) >= FWJ_T(a, b + 1))) {
            fwjson_line(out, "missing", want->obj[a++]);
            miss++;
        } else {
            fwjson_line(out, "unexpected", got->obj[b++]);
            extra++;
        }
    }
#undef FWJ_T
    free(t);
    lines = miss + extra;
    if (missing)
        *missing = miss;
    if (unexpected)
        *unexpected = extra;
    return lines;
}
