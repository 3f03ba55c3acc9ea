/* SPDX-License-Identifier: ISC */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "sort.h"

#define KEYS_LINE_MAX 2047          /* as chrony: longer lines are errors */
#define KEYS_FILE_MAX (1 << 20)     /* 1 MiB: far more than any sane key file */
#define KEYS_ERRORS_MAX 50
#define KEYS_SHORT_WARN 16 /* hash keys under 128 bits are warned about */
#define KEYS_SPACE " \t\r\v\f"

struct keys {
    struct auth_key *v; /* sorted by id */
    unsigned n;
};

struct keys_entry {
    struct auth_key k;
    unsigned line;
};

struct keys_parser {
    const char *name;
    FILE *errs;
    unsigned line, nerr;
    struct keys_entry *v;
    unsigned n, cap;
};

static void keys_err(struct keys_parser *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void keys_err(struct keys_parser *p, unsigned line, const char *fmt, ...)
{
    va_list ap;

    if (p->nerr++ >= KEYS_ERRORS_MAX || !p->errs)
        return;
    if (line)
        fprintf(p->errs, "%s:%u: ", p->name, line);
    else
        fprintf(p->errs, "%s: ", p->name);
    va_start(ap, fmt);
    vfprintf(p->errs, fmt, ap);
    va_end(ap);
    fputc('\n', p->errs);
}

static int keys_parse_id(struct keys_parser *p, const char *tok, uint32_t *id)
{
    uint64_t v = 0;

    for (const char *c = tok; *c; c++) {
        if (*c < '0' || *c > '9' || (v = v * 10 + (uint64_t)(*c - '0')) > UINT32_MAX) {
            keys_err(p, p->line, "key id '%s' is not a number from 1 to 4294967295", tok);
            return -1;
        }
    }
    if (v == 0) {
        keys_err(p, p->line, "key id 0 is reserved (ids are 1 to 4294967295)");
        return -1;
    }
    *id = (uint32_t)v;
    return 0;
}

static int keys_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int keys_hex_byte(const char *s)
{
    int hi = keys_nibble(s[0]), lo = hi < 0 ? -1 : keys_nibble(s[1]);

    return lo < 0 ? -1 : hi << 4 | lo;
}

/* KEY: HEX:digits, ASCII:text or bare text, into k->key. */
static int keys_decode(struct keys_parser *p, const char *tok, struct auth_key *k)
{
    if (strncmp(tok, "HEX:", 4) == 0) {
        size_t nd = strlen(tok + 4);
        if (nd == 0 || nd % 2 || nd / 2 > AUTH_KEY_MAX) {
            keys_err(p, p->line, "key %u: HEX key needs an even number of digits, 2 to %d", k->id,
                     2 * AUTH_KEY_MAX);
            return -1;
        }
        for (size_t i = 0; i < nd / 2; i++) {
            int b = keys_hex_byte(tok + 4 + 2 * i);
            if (b < 0) {
                keys_err(p, p->line, "key %u: '%.2s' is not a hex digit pair", k->id,
                         tok + 4 + 2 * i);
                return -1;
            }
            k->key[i] = (uint8_t)b;
        }
        k->len = nd / 2;
        return 0;
    }
    if (strncmp(tok, "ASCII:", 6) == 0)
        tok += 6;
    k->len = strlen(tok);
    if (k->len == 0 || k->len > AUTH_KEY_MAX) {
        keys_err(p, p->line, "key %u: ASCII key must be 1 to %d characters", k->id, AUTH_KEY_MAX);
        return -1;
    }
    memcpy(k->key, tok, k->len);
    return 0;
}

static int keys_check(struct keys_parser *p, const struct auth_key *k, int typed)
{
    size_t need = auth_cipher_key_len(k->type);

    if (need && k->len != need) {
        keys_err(p, p->line, "key %u: an %s key is %zu bytes (%zu hex digits), not %zu", k->id,
                 auth_type_name(k->type), need, 2 * need, k->len);
        return -1;
    }
    if (!typed)
        log_warnx("%s:%u: key %u has no type and is taken as MD5, as chrony does; MD5 is "
                  "broken: use AES128 (RFC 8573) instead",
                  p->name, p->line, k->id);
    else if (auth_type_weak(k->type))
        log_warnx("%s:%u: key %u is an MD5 key; MD5 is broken: use AES128 (RFC 8573) instead",
                  p->name, p->line, k->id);
    if (!need && k->len < KEYS_SHORT_WARN)
        log_warnx("%s:%u: key %u is only %zu bits long; use at least 128 random bits", p->name,
                  p->line, k->id, 8 * k->len);
    return 0;
}

static void keys_add(struct keys_parser *p, const struct auth_key *k)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        struct keys_entry *v = mem_calloc(p->cap, sizeof(*v));
        if (p->n)
            memcpy(v, p->v, p->n * sizeof(*v));
        OPENSSL_cleanse(p->v, p->n * sizeof(*p->v));
        free(p->v);
        p->v = v;
    }
    p->v[p->n].k = *k;
    p->v[p->n++].line = p->line;
}

/* One line with comments already ruled out: ID [TYPE] KEY. */
static void keys_parse_line(struct keys_parser *p, char *line)
{
    char *save = NULL, *tok[4];
    int n = 0;
    struct auth_key k = {.type = AUTH_MD5};

    for (char *t = strtok_r(line, KEYS_SPACE, &save); t; t = strtok_r(NULL, KEYS_SPACE, &save))
        tok[n < 4 ? n++ : 3] = t;
    if (n == 0)
        return;
    if (n == 1 || n > 3) {
        keys_err(p, p->line, "expected 'ID TYPE KEY' (or 'ID KEY' for MD5)");
        return;
    }
    if (keys_parse_id(p, tok[0], &k.id) < 0)
        return;
    if (n == 2 && auth_type_from_name(tok[1], &k.type) == 0) {
        keys_err(p, p->line, "key %u: type %s but no key", k.id, tok[1]);
        return;
    }
    if (n == 3 && auth_type_from_name(tok[1], &k.type) < 0) {
        keys_err(p, p->line,
                 "key %u: unknown type '%s' (AES128 AES256 SHA1 SHA256 SHA384 SHA512 "
                 "SHA3-224 SHA3-256 SHA3-384 SHA3-512 MD5)",
                 k.id, tok[1]);
        return;
    }
    if (keys_decode(p, tok[n - 1], &k) == 0 && keys_check(p, &k, n == 3) == 0)
        keys_add(p, &k);
    auth_key_clear(&k);
}

static int keys_bad_chars(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !strchr(KEYS_SPACE, c)) || c == 0x7f)
            return 1;
    }
    return 0;
}

static void keys_parse_text(struct keys_parser *p, const char *text)
{
    char buf[KEYS_LINE_MAX + 1];

    for (const char *s = text; *s;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        p->line++;
        if (len > KEYS_LINE_MAX) {
            keys_err(p, p->line, "line too long (more than %d characters)", KEYS_LINE_MAX);
        } else if (keys_bad_chars(s, len)) {
            keys_err(p, p->line, "control character in line");
        } else {
            memcpy(buf, s, len);
            buf[len] = '\0';
            char first = buf[strspn(buf, KEYS_SPACE)];
            if (first == '\0' || !strchr("#;!%", first))
                keys_parse_line(p, buf);
        }
        s += len + (nl != NULL);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
}

static int keys_entry_cmp(const void *a, const void *b)
{
    const struct keys_entry *x = a, *y = b;
    if (x->k.id != y->k.id)
        return x->k.id < y->k.id ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Sort, refuse duplicate ids, and hand the keys over. */
static int keys_finish(struct keys_parser *p, struct keys **out)
{
    struct keys *ks = NULL;

    if (p->n)
        sort_heap(p->v, p->n, sizeof(*p->v), keys_entry_cmp);
    for (unsigned i = 1; i < p->n; i++)
        if (p->v[i].k.id == p->v[i - 1].k.id)
            keys_err(p, p->v[i].line, "key %u defined twice (first on line %u)", p->v[i].k.id,
                     p->v[i - 1].line);
    if (!p->nerr) {
        ks = mem_zalloc(sizeof(*ks));
        ks->v = mem_calloc(p->n ? p->n : 1, sizeof(*ks->v));
        for (unsigned i = 0; i < p->n; i++)
            ks->v[i] = p->v[i].k;
        ks->n = p->n;
    }
    OPENSSL_cleanse(p->v, p->n * sizeof(*p->v));
    free(p->v);
    *out = ks;
    return ks ? 0 : -1;
}

int keys_parse_string(const char *name, const char *text, FILE *errs, struct keys **out)
{
    struct keys_parser p = {.name = name, .errs = errs};

    keys_parse_text(&p, text);
    return keys_finish(&p, out);
}

/* Whole file into a NUL-terminated buffer, after the ownership checks. */
static char *keys_read(struct keys_parser *p, int fd, size_t *len)
{
    struct stat st;

    if (fstat(fd, &st) < 0) {
        keys_err(p, 0, "cannot stat: %s", strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        keys_err(p, 0, "not a regular file");
        return NULL;
    }
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        keys_err(p, 0,
                 "readable or writable by other users (mode %04o): refusing to use it; "
                 "chmod o-rwx it",
                 (unsigned)(st.st_mode & 07777));
        return NULL;
    }
    if (st.st_size > KEYS_FILE_MAX) {
        keys_err(p, 0, "larger than %d bytes", KEYS_FILE_MAX);
        return NULL;
    }
    size_t size = (size_t)st.st_size, n = 0;
    char *text = mem_alloc(size + 1);
    while (n < size) {
        ssize_t r = read(fd, text + n, size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r < 0)
                keys_err(p, 0, "cannot read: %s", strerror(errno));
            break;
        }
        n += (size_t)r;
    }
    text[n] = '\0';
    *len = n;
    if (!p->nerr && memchr(text, '\0', n))
        keys_err(p, 0, "NUL byte in file");
    return text;
}

int keys_load(const char *path, FILE *errs, struct keys **out)
{
    struct keys_parser p = {.name = path, .errs = errs};
    /* O_NONBLOCK: opening a FIFO must not hang start-up; it is refused next. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    *out = NULL;
    if (fd < 0) {
        keys_err(&p, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    size_t len = 0;
    char *text = keys_read(&p, fd, &len);
    close(fd);
    if (text && !p.nerr)
        keys_parse_text(&p, text);
    if (text) {
        OPENSSL_cleanse(text, len);
        free(text);
    }
    return keys_finish(&p, out);
}

const struct auth_key *keys_find(const struct keys *keys, uint32_t id)
{
    if (!keys)
        return NULL;
    unsigned lo = 0, hi = keys->n;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (keys->v[mid].id == id)
            return &keys->v[mid];
        if (keys->v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

unsigned keys_count(const struct keys *keys)
{
    return keys ? keys->n : 0;
}

void keys_destroy(struct keys *keys)
{
    if (!keys)
        return;
    OPENSSL_cleanse(keys->v, keys->n * sizeof(*keys->v));
    free(keys->v);
    free(keys);
}
