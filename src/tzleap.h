/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_TZLEAP_H
#define TEMPUS_TZLEAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "leapfile.h"

/* Leap seconds from the tz database (leapsectz): the leap-second records of
 * a TZif file (RFC 8536 and its version 4), such as the right/UTC zone
 * Debian's tzdata installs. Versions 1 to 4; the 64-bit block of version 2
 * and later is used where present. Every count and record is checked
 * against the file's length before it is read. The result is a leap table
 * like leapfile's; it expires only where a version 4 file says so. */

#define TZLEAP_MAX_BYTES (256L * 1024)
#define TZLEAP_DIR "/usr/share/zoneinfo"

/* Parse the len bytes of a TZif file; name is used in messages, which go
 * to errs as "name: what is wrong". Returns 0 with *out (free with
 * leapfile_free), or -1: not TZif, damaged, truncated, no leap records, or
 * records that are no leap seconds at the ends of UTC days. */
int tzleap_parse(const char *name, const uint8_t *buf, size_t len, FILE *errs,
                 struct leap_table **out);
/* Read zone: a zone name (right/UTC) under TZLEAP_DIR or an absolute path.
 * As tzleap_parse; also -1 if it is no regular file of at most
 * TZLEAP_MAX_BYTES. */
int tzleap_load(const char *zone, FILE *errs, struct leap_table **out);

#endif
