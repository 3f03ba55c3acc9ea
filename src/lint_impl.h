/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_LINT_IMPL_H
#define TEMPUS_LINT_IMPL_H

#include <time.h>

#include "lint.h"

/* Shared by lint.c (the report, the config's own findings, the live ones)
 * and lint_files.c (the findings that read the files a config names).
 * Not for other modules. */

enum lint_code_id {
    L_NO_SOURCES,
    L_SINGLE_SOURCE,
    L_SINGLE_SERVER,
    L_FEW_SOURCES,
    L_MINSOURCES,
    L_DUPLICATE_SOURCE,
    L_NTS_IP_LITERAL,
    L_NTS_TRUST_INVALID,
    L_ALLOW_ALL,
    L_IPV4_OPEN,
    L_IPV6_OPEN,
    L_ALLOW_WIDE,
    L_LISTEN_ALL,
    L_RATELIMIT_OFF,
    L_MAKESTEP,
    L_NO_DRIFTFILE,
    L_KEYFILE_MISSING,
    L_KEYFILE_UNREADABLE,
    L_KEYFILE_PERMS,
    L_KEYFILE_INVALID,
    L_KEY_MD5,
    L_KEY_SHORT,
    L_KEY_UNKNOWN,
    L_SOURCE_UNREACHABLE,
    L_SOURCE_DENIED,
    L_SOURCE_UNRESOLVED,
    L_PEER_FLAPPING,
    L_CLOCK_STEPS,
    L_DENIED_TRAFFIC,
    L_FIREWALL_DRIFT,
    L_LEAPFILE_EXPIRED,
    L_LEAPFILE_EXPIRING,
    L_LEAPFILE_UNUSABLE,
    L_SMEAR_MIXED,
    L_NTS_FILE,
    L_NTS_KEY_PERMS,
    L_NTS_CERT_EXPIRY,
    L_REFCLOCK_ALONE,
    L_PPS_NO_LOCK,
    L_SHM_ROOT_UNIT,
    L_SHM_WORLD,
    L_NCODES
};

/* Append a finding with code (its stable name) to r. */
void lint_add(struct lint_report *r, enum lint_severity sev, unsigned line, enum lint_code_id code,
              const char *fix, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* lint_files.c, called by lint_conf_at in this order (findings of one
 * line keep it): the NTS client's trust store and server names, the key
 * file, the leap second lists and smearing, the NTS server's files. */
void lint_nts_client(const struct conf *c, struct lint_report *r);
void lint_keys(const struct conf *c, struct lint_report *r);
void lint_leap(const struct conf *c, time_t now, struct lint_report *r);
void lint_nts_server(const struct conf *c, struct lint_report *r);

#endif
