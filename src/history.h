/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_HISTORY_H
#define TEMPUS_HISTORY_H

/* Recent change of cumulative counters (requests received, denied, system
 * peer changes...): snapshots taken at regular times in a fixed ring, so
 * "how many in about the last hour" is the newest value minus the oldest
 * snapshot still inside the window. Pure code: the caller supplies the
 * (monotonic) time in seconds. Memory is fixed at creation. */

#include <stddef.h>
#include <stdint.h>

#define HISTORY_VALUES_MAX 8

struct history;

/* A ring of slots snapshots of nvals counters (1..HISTORY_VALUES_MAX). */
struct history *history_create(unsigned slots, unsigned nvals);
void history_destroy(struct history *h);
/* Record the counters' values at time t (seconds, never decreasing). When
 * the ring is full the oldest snapshot goes. */
void history_record(struct history *h, double t, const uint64_t *vals);
/* How much each counter grew from the oldest snapshot taken at or after
 * now - window to the values cur at time now: delta[0..nvals) and the
 * seconds that covers. Returns 0, or -1 when no snapshot is in the window
 * (nothing to compare with; delta and span are then 0). A counter that
 * went down (a reset) counts from 0. */
int history_delta(const struct history *h, double now, const uint64_t *cur, double window,
                  uint64_t *delta, double *span);

#endif
