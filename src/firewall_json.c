/* SPDX-License-Identifier: ISC */
#include "firewall_json.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* A reader over JSON text that writes what it reads, compacted, to out;
 * while mute > 0 it only reads. */
struct fwj {
    const char *p, *end;
    struct ctl_buf out;
    int mute, depth;
};

static void fwj_put(struct fwj *j, const char *s, size_t n)
{
    if (!j->mute)
        ctl_buf_append(&j->out, s, n);
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
    if (fwj_peek(j) != '"')
        return -1;
    const char *start = j->p++;
    while (j->p < j->end && *j->p != '"') {
        if ((unsigned char)*j->p < 0x20)
            return -1;
        if (*j->p == '\\') {
            /* only JSON's escapes; \uXXXX with four hex digits */
            if (j->end - j->p < 2 || !strchr("\"\\/bfnrtu", j->p[1]) || !j->p[1])
                return -1;
            if (j->p[1] == 'u') {
                if (j->end - j->p < 6)
                    return -1;
                for (int i = 2; i < 6; i++)
                    if (!isxdigit((unsigned char)j->p[i]))
                        return -1;
                j->p += 4;
            }
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

/* An open object or array while a value is read. */
struct fwj_frame {
    char close; /* '}' or ']' */
    int first;  /* nothing written inside yet */
    int muted;  /* the current member's value is muted (dropped or zeroed) */
    int zero;   /* ... and "0" is written in its place */
};

/* The key of the next member and its ':'. Handles are dropped, counter
 * values zeroed: both mute the value that follows. */
static int fwj_key(struct fwj *j, struct fwj_frame *f)
{
    char key[32];

    /* read the key silently; it is copied from the input if it stays */
    fwj_ws(j);
    const char *kstart = j->p;
    j->mute++;
    int r = fwj_string(j, key, sizeof(key));
    j->mute--;
    const char *kend = j->p;
    if (r < 0 || fwj_peek(j) != ':')
        return -1;
    j->p++;
    int drop = strcmp(key, "handle") == 0;
    f->zero = strcmp(key, "packets") == 0 || strcmp(key, "bytes") == 0;
    if (!drop) {
        fwj_put(j, ",", f->first ? 0 : 1);
        fwj_put(j, kstart, (size_t)(kend - kstart));
        fwj_put(j, ":", 1);
        f->first = 0;
    }
    f->muted = drop || f->zero;
    j->mute += f->muted;
    return 0;
}

/* Open a container at j->p ('{' or '['); 1 if it was empty (and is closed
 * again), 0 if a value (after a key in an object) comes next, -1 error. */
static int fwj_open(struct fwj *j, struct fwj_frame *f)
{
    char open = *j->p++;
    f->close = open == '{' ? '}' : ']';
    f->first = 1;
    f->muted = f->zero = 0;
    fwj_put(j, &open, 1);
    if (fwj_peek(j) == f->close) {
        j->p++;
        fwj_put(j, &f->close, 1);
        return 1;
    }
    if (f->close == '}')
        return fwj_key(j, f);
    f->first = 0;
    return 0;
}

/* After a value inside f: ',' and the next key (0: a value comes next), or
 * the close (1), or -1. */
static int fwj_next(struct fwj *j, struct fwj_frame *f)
{
    if (f->muted) {
        j->mute--;
        f->muted = 0;
        fwj_put(j, "0", f->zero ? 1 : 0);
    }
    int c = fwj_peek(j);
    j->p++;
    if (c == f->close) {
        fwj_put(j, &f->close, 1);
        return 1;
    }
    if (c != ',')
        return -1;
    if (f->close == '}')
        return fwj_key(j, f);
    fwj_put(j, ",", 1);
    return 0;
}

/* One whole value, iteratively (an explicit stack of open containers, at
 * most FWJSON_MAX_DEPTH deep). */
static int fwj_value(struct fwj *j)
{
    struct fwj_frame st[FWJSON_MAX_DEPTH];
    int depth = 0;

    for (;;) {
        int c = fwj_peek(j), r = 0;
        if (c == '{' || c == '[') {
            if (depth == FWJSON_MAX_DEPTH)
                return -1;
            r = fwj_open(j, &st[depth++]);
            if (r < 0)
                return -1;
            if (r == 0)
                continue;
            depth--; /* empty: a complete value */
        } else if ((c == '"' ? fwj_string(j, NULL, 0) : c < 0 ? -1 : fwj_scalar(j)) < 0) {
            return -1;
        }
        /* a value is complete: close every container it completes */
        while (depth > 0 && (r = fwj_next(j, &st[depth - 1])) == 1)
            depth--;
        if (r < 0)
            return -1;
        if (depth == 0)
            return 0;
    }
}

/* The elements of the "nftables" array, j->p just past its '['. */
static int fwj_elements(struct fwj *j, struct fwjson_list *l)
{
    if (fwj_peek(j) == ']') {
        j->p++;
        return 0;
    }
    for (;;) {
        ctl_buf_init(&j->out, FWJSON_MAX_OBJECT);
        int r = fwj_value(j);
        ctl_buf_append(&j->out, "", 1);
        if (r < 0 || j->out.overflow || l->n == FWJSON_MAX_OBJECTS) {
            ctl_buf_free(&j->out);
            return -1;
        }
        if (strncmp(j->out.data, "{\"metainfo\":", 12) == 0)
            ctl_buf_free(&j->out);
        else
            l->obj[l->n++] = j->out.data;
        memset(&j->out, 0, sizeof(j->out));
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
