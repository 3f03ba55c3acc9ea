/* SPDX-License-Identifier: ISC */
#include "leapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"

/* NTP seconds (era 0, from 1900) to Unix seconds. */
#define LEAP_NTP_UNIX 2208988800LL
#define LEAP_LINE_MAX 512
#define LEAP_DIGITS_MAX (LEAPFILE_MAX_ENTRIES * 24 + 64)

struct leap_entry {
    time_t when; /* Unix time the new offset takes effect (a day's start) */
    int tai;     /* TAI - UTC from then on */
};

struct leap_table {
    struct leap_entry e[LEAPFILE_MAX_ENTRIES];
    int n;
    time_t expiry, updated;
};

/* What parsing collects besides the entries. */
struct leap_parse {
    const char *name;
    FILE *errs;
    unsigned line;
    char digits[LEAP_DIGITS_MAX]; /* what the hash covers */
    size_t ndigits;
    uint32_t hash[5];
    int have_hash, have_expiry, have_updated, bad;
};

static void leap_err(struct leap_parse *p, const char *what)
{
    if (p->errs)
        fprintf(p->errs, "%s:%u: %s\n", p->name, p->line, what);
    p->bad = 1;
}

/* One unsigned decimal field at *s (white space first); *s moves past it.
 * Its digits join the hashed text when hashed. */
static int leap_number(struct leap_parse *p, const char **s, long long *out, int hashed)
{
    const char *q = *s;
    long long v = 0;

    while (*q == ' ' || *q == '\t')
        q++;
    const char *start = q;
    while (*q >= '0' && *q <= '9' && q - start < 18)
        v = v * 10 + (*q++ - '0');
    if (q == start || (*q >= '0' && *q <= '9'))
        return -1;
    if (hashed) {
        size_t k = (size_t)(q - start);
        if (p->ndigits + k >= sizeof(p->digits))
            return -1;
        memcpy(p->digits + p->ndigits, start, k);
        p->ndigits += k;
    }
    *s = q;
    *out = v;
    return 0;
}

static void leap_hash_line(struct leap_parse *p, const char *s)
{
    for (int i = 0; i < 5; i++) {
        char *end;
        while (*s == ' ' || *s == '\t')
            s++;
        unsigned long v = strtoul(s, &end, 16);
        if (end == s || v > 0xffffffffUL) {
            leap_err(p, "bad #h line: five 32-bit hexadecimal words expected");
            return;
        }
        p->hash[i] = (uint32_t)v;
        s = end;
    }
    p->have_hash = 1;
}

static void leap_entry_line(struct leap_parse *p, struct leap_table *t, const char *s)
{
    long long when, tai;

    if (leap_number(p, &s, &when, 1) < 0 || leap_number(p, &s, &tai, 1) < 0 || tai > 1000) {
        leap_err(p, "an entry is 'NTP-SECONDS TAI-OFFSET [# comment]'");
        return;
    }
    if (t->n == LEAPFILE_MAX_ENTRIES) {
        leap_err(p, "too many entries");
        return;
    }
    time_t unix_when = (time_t)(when - LEAP_NTP_UNIX);
    if (t->n > 0 && unix_when <= t->e[t->n - 1].when) {
        leap_err(p, "entries must be in increasing time");
        return;
    }
    t->e[t->n++] = (struct leap_entry){unix_when, (int)tai};
}

static void leap_line(struct leap_parse *p, struct leap_table *t, const char *s)
{
    long long v;

    if (s[0] == '#' && (s[1] == '$' || s[1] == '@')) {
        const char *q = s + 2;
        if (leap_number(p, &q, &v, 1) < 0) {
            leap_err(p, "bad #$ or #@ line: NTP seconds expected");
            return;
        }
        if (s[1] == '@')
            t->expiry = (time_t)(v - LEAP_NTP_UNIX), p->have_expiry = 1;
        else
            t->updated = (time_t)(v - LEAP_NTP_UNIX), p->have_updated = 1;
    } else if (s[0] == '#' && s[1] == 'h') {
        leap_hash_line(p, s + 2);
    } else if (s[0] != '#' && s[strspn(s, " \t\r")] != '\0') {
        leap_entry_line(p, t, s);
    }
}

static void leap_check_hash(struct leap_parse *p)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (!p->have_hash || !p->have_expiry || !p->have_updated) {
        leap_err(p, "no #h, #@ or #$ line: not a complete leap-seconds.list");
        return;
    }
    if (EVP_Digest(p->digits, p->ndigits, md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20) {
        leap_err(p, "cannot compute SHA-1");
        return;
    }
    for (int i = 0; i < 5; i++) {
        const unsigned char *q = md + 4 * (size_t)i;
        uint32_t w = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
        if (w != p->hash[i]) {
            leap_err(p, "the #h hash does not match the contents: damaged or edited");
            return;
        }
    }
}

int leapfile_parse(const char *name, const char *buf, size_t len, FILE *errs,
                   struct leap_table **out)
{
    struct leap_parse *p = mem_zalloc(sizeof(*p));
    struct leap_table *t = mem_zalloc(sizeof(*t));
    char line[LEAP_LINE_MAX];
    size_t at = 0;

    p->name = name;
    p->errs = errs;
    while (at < len && !p->bad) {
        const char *nl = memchr(buf + at, '\n', len - at);
        size_t k = nl ? (size_t)(nl - (buf + at)) : len - at;
        p->line++;
        if (k >= sizeof(line) || memchr(buf + at, '\0', k)) {
            leap_err(p, "line too long or not text");
            break;
        }
        memcpy(line, buf + at, k);
        line[k] = '\0';
        leap_line(p, t, line);
        at += k + 1;
    }
    if (!p->bad)
        leap_check_hash(p);
    int bad = p->bad;
    free(p);
    if (bad) {
        free(t);
        return -1;
    }
    *out = t;
    return 0;
}

int leapfile_load(const char *path, FILE *errs, struct leap_table **out)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > LEAPFILE_MAX_BYTES) {
        if (errs)
            fprintf(errs, "%s: %s\n", path,
                    fd < 0 ? strerror(errno) : "not a regular file of at most 256 KiB");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char *buf = mem_alloc((size_t)st.st_size + 1);
    ssize_t got = read(fd, buf, (size_t)st.st_size);
    close(fd);
    int rc = -1;
    if (got != st.st_size) {
        if (errs)
            fprintf(errs, "%s: short read\n", path);
    } else {
        rc = leapfile_parse(path, buf, (size_t)got, errs, out);
    }
    free(buf);
    return rc;
}

struct leap_table *leapfile_build(const time_t *when, const int *tai, int n, time_t expiry)
{
    if (n < 1 || n > LEAPFILE_MAX_ENTRIES)
        return NULL;
    for (int i = 1; i < n; i++)
        if (when[i] <= when[i - 1])
            return NULL;
    struct leap_table *t = mem_zalloc(sizeof(*t));
    for (int i = 0; i < n; i++)
        t->e[i] = (struct leap_entry){.when = when[i], .tai = tai[i]};
    t->n = n;
    t->expiry = expiry;
    return t;
}

void leapfile_free(struct leap_table *t)
{
    free(t);
}

time_t leapfile_expiry(const struct leap_table *t)
{
    return t->expiry;
}

int leapfile_count(const struct leap_table *t)
{
    return t->n;
}

int leapfile_tai_offset(const struct leap_table *t, time_t now)
{
    int tai = 0;
    for (int i = 0; i < t->n && t->e[i].when <= now; i++)
        tai = t->e[i].tai;
    return tai;
}

int leapfile_leap_today(const struct leap_table *t, time_t now)
{
    time_t tomorrow = now - (now % 86400) + 86400;

    for (int i = 1; i < t->n; i++) {
        if (t->e[i].when != tomorrow)
            continue;
        int d = t->e[i].tai - t->e[i - 1].tai;
        return d > 0 ? 1 : d < 0 ? -1 : 0;
    }
    return 0;
}

int leapfile_month_end(time_t now)
{
    struct tm tm;
    time_t tomorrow = now + 86400;

    if (!gmtime_r(&tomorrow, &tm))
        return 0;
    return tm.tm_mday == 1;
}
