/* SPDX-License-Identifier: ISC */
#include "tzleap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"

#define TZ_HEADER_LEN 44
#define TZ_MAX_TIMES 1200000L /* more than any zone has transitions */
#define TZ_MAX_TYPES 256
#define TZ_MAX_CHARS 65536
#define TZ_MAX_LEAPS (LEAPFILE_MAX_ENTRIES - 1) /* one entry before the first */
/* 1972-01-01, when UTC began to have leap seconds, TAI - UTC 10 s. */
#define TZ_UTC_1972 63072000
#define TZ_TAI_1972 10
/* Occurrences beyond this are nonsense (year 36812), and keep the
 * arithmetic on them far from overflow. */
#define TZ_TIME_MAX (1LL << 40)

/* The counts of one TZif header (RFC 8536 3.1). */
struct tz_header {
    int version; /* 1, 2, 3, 4 (or later: read as 4) */
    uint32_t isut, isstd, leap, time, type, chars;
};

static int tz_err(const char *name, FILE *errs, const char *what)
{
    if (errs)
        fprintf(errs, "%s: %s\n", name, what);
    return -1;
}

static uint32_t tz_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t tz_i64(const uint8_t *p)
{
    uint64_t v = (uint64_t)tz_u32(p) << 32 | tz_u32(p + 4);
    return (int64_t)v;
}

/* The header at off: magic, version and counts within the limits the RFC
 * sets (at least one type and one character; the indicator counts 0 or
 * the type count). */
static int tz_read_header(const uint8_t *buf, size_t len, size_t off, struct tz_header *h)
{
    if (len < TZ_HEADER_LEN || off > len - TZ_HEADER_LEN || memcmp(buf + off, "TZif", 4) != 0)
        return -1;
    uint8_t v = buf[off + 4];
    if (v == 0)
        h->version = 1;
    else if (v >= '2' && v <= '9')
        h->version = v - '0' > 4 ? 4 : v - '0';
    else
        return -1;
    const uint8_t *c = buf + off + 20;
    h->isut = tz_u32(c);
    h->isstd = tz_u32(c + 4);
    h->leap = tz_u32(c + 8);
    h->time = tz_u32(c + 12);
    h->type = tz_u32(c + 16);
    h->chars = tz_u32(c + 20);
    if (h->type == 0 || h->type > TZ_MAX_TYPES || h->chars == 0 || h->chars > TZ_MAX_CHARS ||
        h->time > TZ_MAX_TIMES || (h->isut != 0 && h->isut != h->type) ||
        (h->isstd != 0 && h->isstd != h->type))
        return -1;
    return 0;
}

/* Bytes of the data block after a header, with times of tsize bytes. */
static uint64_t tz_block_len(const struct tz_header *h, unsigned tsize)
{
    return (uint64_t)h->time * (tsize + 1) + (uint64_t)h->type * 6 + h->chars +
           (uint64_t)h->leap * (tsize + 4) + h->isstd + h->isut;
}

/* Where the leap records of the block at off start, if the block fits. */
static int tz_leap_records(const struct tz_header *h, size_t len, size_t off, unsigned tsize,
                           size_t *at)
{
    uint64_t need = tz_block_len(h, tsize);
    if (off > len || need > (uint64_t)(len - off))
        return -1;
    *at = off + (size_t)((uint64_t)h->time * (tsize + 1) + (uint64_t)h->type * 6 + h->chars);
    return 0;
}

/* The table being built from the records. */
struct tz_build {
    time_t when[LEAPFILE_MAX_ENTRIES];
    int tai[LEAPFILE_MAX_ENTRIES];
    int n;
    time_t expiry;
};

/* One record: the occurrence (on the zone's scale, which counts the leap
 * seconds before it) and the correction from then on. prev is the
 * correction before it. Returns 0, or -1 with *why set. */
static int tz_record(struct tz_build *b, int64_t occ, int64_t corr, int64_t prev, int last,
                     const char **why)
{
    if (occ < 0 || occ > TZ_TIME_MAX || corr < -1000 || corr > 1000) {
        *why = "a leap record out of range";
        return -1;
    }
    if (corr == prev && last && b->n > 1) {
        b->expiry = (time_t)(occ - corr); /* version 4: when the table expires */
        return 0;
    }
    if (corr - prev != 1 && corr - prev != -1) {
        *why = "leap records that do not change the correction by one second";
        return -1;
    }
    /* The midnight (Unix time) after the day the second ends or skips:
     * within a second of the occurrence less the earlier leaps. */
    int64_t m = occ - prev, day = (m + 43200) / 86400 * 86400;
    if (m - day > 1 || day - m > 1 || day <= b->when[b->n - 1]) {
        *why = "a leap record not at the end of a UTC day after the one before";
        return -1;
    }
    b->when[b->n] = (time_t)day;
    b->tai[b->n] = TZ_TAI_1972 + (int)corr;
    b->n++;
    return 0;
}

/* The records at at (count n, times of tsize bytes): the table starts
 * with 1972 (or, for a table cut short at its start, which version 4
 * allows, one second less than the first correction). */
static int tz_records(const uint8_t *rec, uint32_t n, unsigned tsize, int version,
                      struct tz_build *b, const char **why)
{
    int64_t prev = 0;
    unsigned step = tsize + 4;

    b->n = 1;
    b->when[0] = TZ_UTC_1972;
    b->expiry = LEAPFILE_NO_EXPIRY;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *r = rec + (size_t)i * step;
        int64_t occ = tsize == 8 ? tz_i64(r) : (int64_t)(int32_t)tz_u32(r);
        int64_t corr = (int32_t)tz_u32(r + tsize);
        if (i == 0 && version >= 4 && corr != 1 && corr != -1)
            prev = corr - 1;
        if (i == 0)
            b->tai[0] = TZ_TAI_1972 + (int)prev;
        if (tz_record(b, occ, corr, prev, i + 1 == n, why) < 0)
            return -1;
        prev = corr;
    }
    return 0;
}

int tzleap_parse(const char *name, const uint8_t *buf, size_t len, FILE *errs,
                 struct leap_table **out)
{
    struct tz_header h1, h2;
    const struct tz_header *h = &h1;
    size_t at, off = TZ_HEADER_LEN;
    unsigned tsize = 4;
    const char *why = NULL;

    if (tz_read_header(buf, len, 0, &h1) < 0)
        return tz_err(name, errs, "not a TZif file, or a header with impossible counts");
    if (tz_leap_records(&h1, len, off, 4, &at) < 0)
        return tz_err(name, errs, "truncated: the version 1 data block is cut short");
    if (h1.version >= 2) {
        /* The 64-bit block follows the 32-bit one, with its own header. */
        off += (size_t)tz_block_len(&h1, 4);
        if (tz_read_header(buf, len, off, &h2) < 0 || h2.version != h1.version)
            return tz_err(name, errs, "the second (64-bit) header is missing or damaged");
        off += TZ_HEADER_LEN;
        h = &h2;
        tsize = 8;
        if (tz_leap_records(&h2, len, off, 8, &at) < 0)
            return tz_err(name, errs, "truncated: the 64-bit data block is cut short");
    }
    if (h->leap == 0)
        return tz_err(name, errs, "no leap second records (a right/ zone has them: right/UTC)");
    if (h->leap > TZ_MAX_LEAPS)
        return tz_err(name, errs, "too many leap second records");
    struct tz_build *b = mem_zalloc(sizeof(*b));
    int rc = tz_records(buf + at, h->leap, tsize, h->version, b, &why);
    if (rc == 0 && b->n < 2)
        rc = -1, why = "no leap second records, only an expiry";
    if (rc == 0)
        *out = leapfile_build(b->when, b->tai, b->n, b->expiry);
    free(b);
    if (rc < 0)
        return tz_err(name, errs, why);
    return 0;
}

int tzleap_load(const char *zone, FILE *errs, struct leap_table **out)
{
    char path[512];
    struct stat st;

    if (zone[0] == '/')
        snprintf(path, sizeof(path), "%s", zone);
    else if ((size_t)snprintf(path, sizeof(path), "%s/%s", TZLEAP_DIR, zone) >= sizeof(path))
        return tz_err(zone, errs, "zone name too long");
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TZLEAP_MAX_BYTES) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return tz_err(path, errs, fd < 0 ? strerror(e) : "not a regular file of at most 256 KiB");
    }
    uint8_t *buf = mem_alloc((size_t)st.st_size + 1);
    ssize_t got = read(fd, buf, (size_t)st.st_size);
    close(fd);
    int rc = got == st.st_size ? tzleap_parse(path, buf, (size_t)got, errs, out)
                               : tz_err(path, errs, "short read");
    free(buf);
    return rc;
}
