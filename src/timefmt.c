/* SPDX-License-Identifier: ISC */
#include "timefmt.h"

#include <math.h>

#define NS_PER_SEC 1000000000L
#define FRAC_SCALE 4294967296.0 /* 2^32 */
#define SHORT_SCALE 65536.0     /* 2^16 */
/* Beyond this a double no longer holds whole nanoseconds, and the cast to an
 * integer type could overflow; no real time offset is anywhere near it. */
#define ADD_LIMIT_SEC 9.0e15

/* Two's-complement reinterpretation without relying on the
 * implementation-defined unsigned-to-signed conversion. */
static int64_t u64_to_s64(uint64_t u)
{
    if (u <= (uint64_t)INT64_MAX)
        return (int64_t)u;
    return -(int64_t)(~u) - 1;
}

static int64_t u32_to_s32(uint32_t u)
{
    return u < 0x80000000u ? (int64_t)u : (int64_t)u - 0x100000000LL;
}

/* Bring tv_nsec into [0, 1e9) so callers may pass slightly denormalised
 * values (for example the result of a hand-made subtraction). */
static void normalise(int64_t *sec, long *nsec)
{
    *sec += *nsec / NS_PER_SEC;
    *nsec %= NS_PER_SEC;
    if (*nsec < 0) {
        *nsec += NS_PER_SEC;
        *sec -= 1;
    }
}

ntp_ts_t timefmt_ts_from_timespec(const struct timespec *ts)
{
    int64_t sec = ts->tv_sec;
    long nsec = ts->tv_nsec;

    normalise(&sec, &nsec);
    /* Unsigned arithmetic: the era is dropped by the mod 2^32 truncation, and
     * times before 1900 or far in the future cannot overflow. */
    uint32_t ntp_sec = (uint32_t)((uint64_t)sec + TIMEFMT_UNIX_TO_NTP);
    /* nsec < 2^30, so nsec << 32 fits; the rounded result stays below 2^32
     * because 999999999 ns maps to 0xfffffffc. */
    uint64_t frac = (((uint64_t)nsec << 32) + NS_PER_SEC / 2) / NS_PER_SEC;
    return ((uint64_t)ntp_sec << 32) | frac;
}

void timefmt_ts_to_timespec(ntp_ts_t ts, const struct timespec *pivot, struct timespec *out)
{
    uint32_t ntp_sec = (uint32_t)(ts >> 32);
    uint32_t pivot_ntp = (uint32_t)((uint64_t)pivot->tv_sec + TIMEFMT_UNIX_TO_NTP);
    /* The signed 32-bit distance from the pivot picks the era whose instance
     * of ntp_sec lies within +-2^31 s (68 years) of the pivot. */
    int64_t sec = (int64_t)pivot->tv_sec + u32_to_s32(ntp_sec - pivot_ntp);
    uint64_t frac = ts & 0xffffffffu;
    /* frac * 1e9 < 2^62; adding 2^31 before the shift rounds to nearest. */
    uint64_t nsec = (frac * (uint64_t)NS_PER_SEC + 0x80000000u) >> 32;

    if (nsec >= (uint64_t)NS_PER_SEC) {
        nsec -= NS_PER_SEC;
        sec += 1;
    }
    out->tv_sec = (time_t)sec;
    out->tv_nsec = (long)nsec;
}

double timefmt_ts_diff(ntp_ts_t a, ntp_ts_t b)
{
    return (double)u64_to_s64(a - b) / FRAC_SCALE;
}

uint32_t timefmt_short_from_double(double seconds)
{
    /* Written so that NaN falls into the first branch. */
    if (!(seconds > 0.0))
        return 0;
    double units = seconds * SHORT_SCALE + 0.5;
    if (units >= 4294967295.0)
        return 0xffffffffu;
    return (uint32_t)units;
}

double timefmt_short_to_double(uint32_t s)
{
    return (double)s / SHORT_SCALE;
}

double timefmt_timespec_diff(const struct timespec *a, const struct timespec *b)
{
    /* Subtract the parts separately so that large absolute times do not
     * cost precision in the result. */
    int64_t dsec = (int64_t)a->tv_sec - (int64_t)b->tv_sec;
    long dnsec = a->tv_nsec - b->tv_nsec;
    return (double)dsec + (double)dnsec / NS_PER_SEC;
}

void timefmt_timespec_add(struct timespec *ts, double seconds)
{
    if (!(fabs(seconds) < ADD_LIMIT_SEC))
        return;
    /* floor keeps the fractional part non-negative for negative inputs. */
    double whole = floor(seconds);
    int64_t sec = (int64_t)ts->tv_sec + (int64_t)whole;
    long nsec = ts->tv_nsec + (long)llround((seconds - whole) * NS_PER_SEC);

    normalise(&sec, &nsec);
    ts->tv_sec = (time_t)sec;
    ts->tv_nsec = nsec;
}

int64_t timefmt_timespec_to_ns(const struct timespec *ts)
{
    /* Unsigned so that an absurd tv_sec wraps instead of being undefined. */
    uint64_t ns = (uint64_t)(int64_t)ts->tv_sec * (uint64_t)NS_PER_SEC + (uint64_t)ts->tv_nsec;
    return u64_to_s64(ns);
}
