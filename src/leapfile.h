/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_LEAPFILE_H
#define TEMPUS_LEAPFILE_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* The IERS/IETF leap second list (leap-seconds.list, as Debian's tzdata
 * ships it in /usr/share/zoneinfo): when TAI - UTC changed, until when the
 * list is valid (#@), and its SHA-1 (#h) over the update time, the expiry
 * and every entry, which must match. Pure parsing plus lookups; no clock. */

#define LEAPFILE_MAX_ENTRIES 256
#define LEAPFILE_MAX_BYTES (256L * 1024)
/* A list that expires within this many days is worth a warning (lint,
 * check): IERS bulletins come every six months, tzdata updates follow. */
#define LEAPFILE_WARN_DAYS 28

struct leap_table;

/* Read path. Errors go to errs as "path:line: what is wrong" (a file
 * whose hash does not match, that has none, or is not a regular file of at
 * most LEAPFILE_MAX_BYTES is refused). Returns 0 with *out (free with
 * leapfile_free), or -1. */
int leapfile_load(const char *path, FILE *errs, struct leap_table **out);
/* The same from a buffer of len bytes; name is used in messages. */
int leapfile_parse(const char *name, const char *buf, size_t len, FILE *errs,
                   struct leap_table **out);
void leapfile_free(struct leap_table *t);
/* An expiry that never comes (a list that carries none, like most tz
 * database builds). */
#define LEAPFILE_NO_EXPIRY ((time_t)INT64_MAX)
/* A table from n entries of another origin (tzleap.c): when[i] (Unix time,
 * strictly ascending) TAI - UTC becomes tai[i]; valid until expiry. NULL
 * if n is outside 1..LEAPFILE_MAX_ENTRIES or when is not ascending. */
struct leap_table *leapfile_build(const time_t *when, const int *tai, int n, time_t expiry);
/* Unix time after which the list must not be trusted. */
time_t leapfile_expiry(const struct leap_table *t);
/* Number of entries. */
int leapfile_count(const struct leap_table *t);
/* The leap second at the end of the UTC day holding now (Unix time): +1
 * one is inserted (23:59:60), -1 one is deleted, 0 none. */
int leapfile_leap_today(const struct leap_table *t, time_t now);
/* TAI - UTC at now, s (0 before the first entry). */
int leapfile_tai_offset(const struct leap_table *t, time_t now);
/* Whether now (Unix time) is in the last UTC day of a month: the only
 * days that end with a leap second (RFC 5905 leaves it to the month's end). */
int leapfile_month_end(time_t now);

#endif
