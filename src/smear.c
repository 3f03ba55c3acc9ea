/* SPDX-License-Identifier: ISC */
#include "smear.h"

/* On a continuous count c of elapsed seconds (c = utc before the leap,
 * utc + leap after it), the window runs from c_s = leap_time - window/2 to
 * c_e = leap_time + leap + window/2: window + leap elapsed seconds in which
 * the smeared time advances exactly window seconds,
 *     S(c) = c_s + (c - c_s) * window / (window + leap),
 * so S meets UTC at both ends and is continuous through the leap. */
static double smear_count(const struct smear *s, double utc, int after)
{
    return after ? utc + s->leap : utc;
}

int smear_active(const struct smear *s, double utc, int after)
{
    if (s->leap == 0 || !(s->window > 0.0))
        return 0;
    double c = smear_count(s, utc, after);
    return c < s->leap_time + s->leap + s->window / 2;
}

double smear_offset(const struct smear *s, double utc, int after)
{
    if (s->leap == 0 || !(s->window > 0.0))
        return 0.0;
    double half = s->window / 2;
    double c = smear_count(s, utc, after);
    double c_s = s->leap_time - half, c_e = s->leap_time + s->leap + half;
    double span = s->window + s->leap;

    if (!after) {
        /* Before the leap: behind UTC (or ahead for a deleted second) by
         * the share of the leap smeared so far, at most half of it. */
        if (c <= c_s)
            return 0.0;
        if (c > s->leap_time)
            c = s->leap_time; /* only on a clock late to take the leap */
        return -(double)s->leap * (c - c_s) / span;
    }
    /* After: the other half, shrinking to nothing at the window's end. */
    if (c >= c_e)
        return 0.0;
    if (c < c_s)
        c = c_s; /* a clock far behind: never more than the whole leap */
    return (double)s->leap * (c_e - c) / span;
}
