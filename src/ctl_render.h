/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_CTL_RENDER_H
#define TEMPUS_CTL_RENDER_H

#include <stddef.h>

#include "ctl_proto.h"

/* What tempusctl prints, made from control records (ctl_proto.h): tables
 * for people, JSON for programs, and the health check. Pure functions:
 * records in, text appended to a caller's ctl_buf; no I/O, no clock.
 * Each view reads the record kinds it shows and skips the others. */

/* Signed seconds with a unit chosen by size, about four significant
 * digits: "+12us", "-1.234ms", "+0.5s". Fills out (size bytes), returns it. */
const char *ctl_render_offset(double seconds, char *out, size_t size);
/* The same without a forced sign, for delays and jitter: "1.234ms". */
const char *ctl_render_interval(double seconds, char *out, size_t size);
/* A coarse age: "45s", "17m", "5h", "3d"; "-" when negative (never). */
const char *ctl_render_age(double seconds, char *out, size_t size);

/* The tracking record as "Name : value" lines; nothing if there is none. */
void ctl_render_tracking(const struct ctl_record *recs, size_t n, struct ctl_buf *out);
/* The source records as a table; verbose puts a legend of the state
 * symbols and columns first. */
void ctl_render_sources(const struct ctl_record *recs, size_t n, int verbose, struct ctl_buf *out);
/* The authdata records as a table (chronyc authdata's columns): mode NTS,
 * key or none, key id, type (the AEAD for NTS), key bits, and for NTS the
 * age of the last key exchange, exchanges, failures, NAKs, cookies held,
 * replies authenticated and refused; then the last key exchange error of
 * each source that has one. */
void ctl_render_authdata(const struct ctl_record *recs, size_t n, struct ctl_buf *out);
/* The sourcestats records as a table. */
void ctl_render_sourcestats(const struct ctl_record *recs, size_t n, struct ctl_buf *out);
/* Keep only client records, most requests first, at most max of them, at
 * the front of recs (reordered in place). Returns how many were kept. */
size_t ctl_render_top_clients(struct ctl_record *recs, size_t n, size_t max);
/* The client records as a table, in the order given. */
void ctl_render_clients(const struct ctl_record *recs, size_t n, struct ctl_buf *out);
/* The serverstats records as one table with a column per family, then
 * the serverinfo record. */
void ctl_render_serverstats(const struct ctl_record *recs, size_t n, struct ctl_buf *out);
/* The result and error records of a reload, one error per line. Returns 1
 * if the result record says ok=1, else 0. */
int ctl_render_reload(const struct ctl_record *recs, size_t n, struct ctl_buf *out);

/* s as a JSON string, quotes included: escapes per RFC 8259, and any byte
 * that is not valid UTF-8 becomes U+FFFD. */
void ctl_render_json_string(struct ctl_buf *out, const char *s);
/* The records a command shows as one line of JSON: an object of the
 * tracking fields for "tracking"; {"sources":[...]}, {"sourcestats":[...]},
 * {"clients":[...]}; {"serverstats":[...],"serverinfo":{...}} and
 * {"result":{...},"errors":[...]} for "reload". Keys are the record field
 * names (the record field itself left out). Returns -1 for an unknown
 * command or a missing tracking record, 0 otherwise. */
int ctl_render_json(const char *command, const struct ctl_record *recs, size_t n,
                    struct ctl_buf *out);

/* Exit codes of `tempusctl check`, as monitoring plugins use them. */
enum ctl_render_status {
    CTL_RENDER_OK = 0,
    CTL_RENDER_WARNING = 1,
    CTL_RENDER_CRITICAL = 2,
    CTL_RENDER_UNKNOWN = 3,
};

struct ctl_render_check {
    double warn_offset; /* |offset| above this (s): WARNING */
    double crit_offset; /* |offset| above this (s): CRITICAL */
    int min_sources;    /* fewer reachable sources: CRITICAL */
    int max_stratum;    /* a higher stratum: CRITICAL */
    /* The state for time that does not come from an upstream source:
     * following an orphan peer, serving the local reference, holdover. */
    enum ctl_render_status on_orphan, on_local, on_holdover;
};

/* Defaults: 0.1 s, 1 s, 1 source, stratum 15; orphan, local and holdover
 * WARNING. */
void ctl_render_check_defaults(struct ctl_render_check *c);
/* "ok", "warning" or "critical" into *out; -1 for anything else. */
int ctl_render_check_level(const char *s, enum ctl_render_status *out);
/* Judge the records of a "status" reply against c; append one line
 * "TEMPUS STATE: ..." and return the state. No tracking record: UNKNOWN. */
enum ctl_render_status ctl_render_check_eval(const struct ctl_record *recs, size_t n,
                                             const struct ctl_render_check *c, struct ctl_buf *out);

/* tempusctl waitsync: whether the tracking record in recs says the clock
 * is synchronised (to an upstream source or an orphan peer; or a primary
 * server on its local reference with no upstream configured) with the last
 * offset and the correction still being slewed both within max_offset
 * seconds (0: any). Appends one line saying so, or what is missing; returns
 * 1 when synchronised, else 0. */
int ctl_render_waitsync(const struct ctl_record *recs, size_t n, double max_offset,
                        struct ctl_buf *out);

#endif
