/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_FIREWALL_H
#define TEMPUS_FIREWALL_H

#include "conf.h"
#include "ctl_proto.h"

/* The host firewall a config implies, as an nftables ruleset that `nft -f`
 * loads: one `table inet tempus`, replaced whole on every load, that judges
 * NTP traffic only (its base chain's policy is accept, so the host's other
 * rules still decide everything else). A pure function of the parsed
 * config: no I/O, no name is resolved, the same config gives the same text.
 *
 * What it says: clients reach the NTP port on the bound addresses (and the
 * bound device) when tempusd's ACL allows them, decided as acl.h does (the
 * longest matching prefix wins, default deny); every other packet to that
 * port is dropped and logged under a rate limit with the prefix
 * FIREWALL_LOG_REFUSED "v4: " or "v6: "; replies from the configured
 * upstreams' ports are accepted when connection tracking knows them as
 * replies (from the listed addresses when every upstream is numeric), and
 * other traffic from those ports is dropped and logged (reflection). A
 * family without an allow rule, or without a bound address when some are
 * bound, is closed, and a comment says why. */

#define FIREWALL_TABLE "tempus"
#define FIREWALL_LOG_REFUSED "tempus-refused-"
#define FIREWALL_LOG_UNSOLICITED "tempus-unsolicited: "
/* Log at most this many dropped packets per second per rule (burst twice). */
#define FIREWALL_LOG_RATE 10

/* Append the ruleset for conf to out; source names the config in the
 * header comment (borrowed). */
void firewall_render(const struct conf *conf, const char *source, struct ctl_buf *out);

#endif
