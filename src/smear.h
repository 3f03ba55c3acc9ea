/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_SMEAR_H
#define TEMPUS_SMEAR_H

/* The leap smear a server may serve its clients instead of a leap second
 * (leapsmear): a linear smear over a window centred on the leap, noon to
 * noon UTC for the default 86400 s, as Google's public servers do it. The
 * served time runs slow (a second inserted) or fast (deleted) by
 * 1/(window + leap) and never jumps; at the leap it is half a second off
 * UTC, at both ends of the window it is UTC. Pure arithmetic, no clock. */

#define SMEAR_WINDOW_DEFAULT 86400.0
#define SMEAR_WINDOW_MIN 600.0
#define SMEAR_WINDOW_MAX 86400.0

/* A leap second to smear: leap +1 (inserted) or -1 (deleted) at the end of
 * the UTC day that ends at leap_time (Unix time of the following
 * midnight), over window seconds (SMEAR_WINDOW_MIN..SMEAR_WINDOW_MAX). */
struct smear {
    int leap;
    double leap_time;
    double window;
};

/* Seconds to add to the UTC reading utc (Unix time, the leap second not
 * counted) to get the smeared time. after: utc is already on the count
 * after the leap (a second inserted reads 23:59:59 twice; after tells the
 * two apart). 0 outside the window and for leap 0. */
double smear_offset(const struct smear *s, double utc, int after);
/* Whether utc (read on the count after the leap if after) is still before
 * the end of the window: the smear (and its state) is needed until then. */
int smear_active(const struct smear *s, double utc, int after);

#endif
