/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_TIMEFMT_H
#define TEMPUS_TIMEFMT_H

#include <stdint.h>
#include <time.h>

/* NTP timestamp: seconds since 1900 (mod 2^32, the era is implicit) in the
 * high 32 bits, binary fraction in the low 32 bits (RFC 5905 section 6). */
typedef uint64_t ntp_ts_t;

/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch). */
#define TIMEFMT_UNIX_TO_NTP 2208988800u

/* Convert a Unix timespec (any era) to an NTP timestamp. */
ntp_ts_t timefmt_ts_from_timespec(const struct timespec *ts);
/* Convert an NTP timestamp to a Unix timespec, choosing the era that puts
 * the result within 68 years of pivot (RFC 5905 era handling across 2036). */
void timefmt_ts_to_timespec(ntp_ts_t ts, const struct timespec *pivot, struct timespec *out);
/* a - b in seconds, modulo 2^32 s: correct while |a - b| < 68 years, so it
 * works across an era rollover. */
double timefmt_ts_diff(ntp_ts_t a, ntp_ts_t b);
/* NTP short format (16.16 unsigned seconds) from seconds; clamps to
 * [0, 65535.99998]. */
uint32_t timefmt_short_from_double(double seconds);
double timefmt_short_to_double(uint32_t s);
/* Timespec arithmetic: a - b in seconds; *ts += seconds (normalised). */
double timefmt_timespec_diff(const struct timespec *a, const struct timespec *b);
void timefmt_timespec_add(struct timespec *ts, double seconds);
/* Nanoseconds since an arbitrary origin, from a timespec (for monotonic times). */
int64_t timefmt_timespec_to_ns(const struct timespec *ts);

#endif
