/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_REPORT_H
#define TEMPUS_REPORT_H

#include <stdint.h>
#include <time.h>

#include "clock.h"
#include "ctl_proto.h"
#include "ratelimit.h"
#include "server.h"
#include "sync.h"
#include "upstream.h"

/* The daemon's state as control records (see ctl_proto.h for the kinds and
 * fields). Read-only over the modules; the control socket and the metrics
 * endpoint both answer from these. now is the served clock, mono_ns the
 * monotonic clock. */

void report_tracking(struct ctl_buf *b, const struct sync *sy, struct clock *clk,
                     const struct timespec *now);
void report_sources(struct ctl_buf *b, const struct sync *sy, const struct timespec *now);
/* Server and pool lines with no source yet (upstream_pending), as source
 * records in state "unresolved" (the lookup failed; retried) or
 * "resolving" (first lookup in flight), never reachable. */
void report_pending(struct ctl_buf *b, const struct upstream *up);
/* One "authdata" record per source: how it is authenticated (NTS, key or
 * none) and, for NTS, cookies, key exchanges, NAKs, replies ok and bad. */
void report_authdata(struct ctl_buf *b, const struct upstream *up);
void report_sourcestats(struct ctl_buf *b, const struct sync *sy, const struct timespec *now);
void report_serverstats(struct ctl_buf *b, const struct server *srv, const struct ratelimit *rl);
/* How counters grew over the recent past (about the last hour): what the
 * live lint judges spikes and flapping by, where totals since the start
 * would hide them. */
struct report_recent {
    double uptime;  /* seconds since the daemon started */
    double window;  /* seconds the deltas cover; 0 before the first snapshot */
    uint64_t received[SERVER_NFAMILIES], denied[SERVER_NFAMILIES];
    uint64_t peer_changes, steps;
};
void report_recent(struct ctl_buf *b, const struct report_recent *r);
/* At most max clients, most requests first. */
void report_clients(struct ctl_buf *b, const struct ratelimit *rl, int64_t mono_ns, unsigned max);
/* Reference id as operators read it: ASCII for stratum 0/1 and local
 * references ("GPS", "LOCL"), a dotted quad otherwise. buf >= 16 bytes. */
const char *report_refid(uint32_t refid, int ascii, char *buf, size_t size);

#endif
