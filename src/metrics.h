/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_METRICS_H
#define TEMPUS_METRICS_H

#include <stddef.h>

#include "ctl_proto.h"

/* Prometheus text exposition (format 0.0.4) of control records: tracking,
 * source, sourcestats, serverstats and serverinfo records become tempus_*
 * metrics in base units (seconds, ppm as a ratio where Prometheus wants
 * one), counters named *_total, one HELP and TYPE line per family. Used by
 * the daemon's HTTP endpoint and by `tempusctl metrics` alike, so both show
 * the same thing. Record kinds it does not know are ignored. */
void metrics_render(const struct ctl_record *recs, size_t n, struct ctl_buf *out);

#endif
