/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_FIREWALL_JSON_H
#define TEMPUS_FIREWALL_JSON_H

#include <stddef.h>

#include "ctl_proto.h"

/* What `tempusctl firewall --check` compares: two `nft -j list` outputs,
 * each reduced to its list of objects (table, chains, rules, in listing
 * order) in a canonical one-line form without what differs between two
 * loads of the same ruleset: handles, counter values and the metainfo
 * object. Pure: text in, text out. */

/* At most this many objects per listing and bytes per object. */
#define FWJSON_MAX_OBJECTS 1024
#define FWJSON_MAX_OBJECT 4096
/* Nesting deeper than this is refused (nft's listings nest about 8). */
#define FWJSON_MAX_DEPTH 32

struct fwjson_list {
    char **obj; /* canonical objects, each NUL-terminated */
    size_t n;
};

/* Parse the listing in text[0..len) into l (free with fwjson_free).
 * Returns 0, or -1 when it is not a {"nftables":[...]} document within the
 * limits above (l is then empty). */
int fwjson_parse(const char *text, size_t len, struct fwjson_list *l);
void fwjson_free(struct fwjson_list *l);

/* The difference from want to got, appended to out as lines "missing: OBJ"
 * (in want, not in got) and "unexpected: OBJ" (the other way), in listing
 * order, each object cut to about 300 bytes (out may be NULL). Returns the number of lines;
 * 0 when the listings are the same. *missing and *unexpected get the
 * counts of each kind (either may be NULL). */
size_t fwjson_diff(const struct fwjson_list *want, const struct fwjson_list *got,
                   struct ctl_buf *out, size_t *missing, size_t *unexpected);

#endif
