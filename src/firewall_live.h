/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_FIREWALL_LIVE_H
#define TEMPUS_FIREWALL_LIVE_H

#include <stddef.h>

/* `tempusctl firewall [--check] [FILE]`: print the nftables ruleset that
 * FILE implies (firewall.h), or with --check compare it with the table
 * loaded in this network namespace. The comparison asks nft itself for
 * both sides: the live table with `nft -j list table inet tempus`, the
 * expected one by loading the generated ruleset into a scratch network
 * namespace (unshare, which needs CAP_SYS_ADMIN) that vanishes with the
 * process, and listing it the same way; the host's own ruleset is only
 * read. FILE defaults to config (the -f option) or TEMPUS_DEFAULT_CONF.
 * argv[0] is the command name. Returns the exit status: without --check 0,
 * or 1 on errors (printed to stderr); with --check as `tempusctl check`:
 * 0 the table matches, 2 it is missing or differs (each difference
 * printed), 3 no verdict. json: --check prints one JSON object. */
int firewall_live_command(int argc, char **argv, const char *config, int json);

struct conf;
/* For lint: compare the live table inet tempus with the one conf (read
 * from file) implies, the way --check does, without printing. Returns 0
 * they match, 1 they differ (*missing rules the config implies are absent,
 * *unexpected ones are present), 2 no such table is loaded, -1 no verdict
 * (nft missing, not permitted, no scratch namespace). */
int firewall_live_compare(const struct conf *conf, const char *file, size_t *missing,
                          size_t *unexpected);

#endif
