/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_LINT_H
#define TEMPUS_LINT_H

#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "ctl_proto.h"

/* The deployment audit behind `tempusctl lint` and `tempusd -n`: a parsed
 * config (and, for a running daemon, its status records) in, findings out.
 * Nothing is sent and nothing is written; the only I/O is a stat and a read
 * of the key file the config names, a read of the leap second lists it
 * names, and for an NTS server a read of its certificate and a stat of its
 * key and keys file. Every finding has a stable code, a severity, the
 * config line it points at and a one-line fix; doc/tempusctl.8
 * lists the codes and the thresholds below. */

enum lint_severity { LINT_INFO, LINT_WARNING, LINT_ERROR };

/* Live thresholds. Counted in polls, not seconds, so that they mean the
 * same at any poll interval. */
#define LINT_UNREACH_POLLS 8  /* sent at least this many, reach register empty (<= 8) */
#define LINT_FLAP_MIN 4       /* peer changes before flapping is judged */
#define LINT_FLAP_POLLS 8     /* flapping: a change every this many polls or more often */
#define LINT_DENIED_MIN 100   /* requests per family before the ratio counts */
#define LINT_DENIED_PCT 20    /* denied share that is a finding, percent */
#define LINT_STEPS_MAX 3      /* steps since start beyond which it is a finding */
#define LINT_RECENT_MIN 600.0 /* seconds of recent history before it is judged instead */
#define LINT_KEY_MIN_BYTES 16 /* hash keys shorter than this are findings */

struct lint_finding {
    enum lint_severity severity;
    unsigned line;    /* config line; 0: the whole file (or the daemon) */
    const char *code; /* stable short id, static storage */
    char message[256];
    char fix[192];
};

/* Findings about one file (or one daemon). file is borrowed and printed as
 * the location; the findings belong to the report. */
struct lint_report {
    const char *file;
    struct lint_finding *f;
    size_t n, cap;
};

/* An empty report about file (borrowed; must outlive the report). */
void lint_report_init(struct lint_report *r, const char *file);
/* Free the findings (the report is empty afterwards). */
void lint_report_free(struct lint_report *r);

/* Audit conf: sources, access rules, listening, rate limiting, stepping,
 * drift file, key file (stat and key types), leap second lists (read:
 * expired, or expiring within LEAPFILE_WARN_DAYS) and leap smears mixed
 * with true UTC. Appends to r, sorted by line (whole-file findings first,
 * then in the order found). */
void lint_conf(const struct conf *conf, struct lint_report *r);
/* The same with now (Unix time) as the present, for the leap lists. */
void lint_conf_at(const struct conf *conf, time_t now, struct lint_report *r);
/* Audit the records of a `status` reply: unreachable or refusing sources,
 * a system peer that keeps changing, repeated steps, denied traffic.
 * Appends to r (every finding on line 0). */
void lint_live(const struct ctl_record *recs, size_t n, struct lint_report *r);

/* The live firewall (table inet tempus, compared by firewall_live.h) has
 * missing rules the config implies and unexpected ones it does not: a
 * warning on line 0 unless both are 0. The comparison is the caller's,
 * so that this module stays free of I/O. */
void lint_firewall_drift(struct lint_report *r, size_t missing, size_t unexpected);

/* Remove the findings with code; returns how many were removed. */
size_t lint_drop(struct lint_report *r, const char *code);
/* Every known code, in table order: the i-th, or NULL past the end. */
const char *lint_code_at(size_t i);
/* "info", "warning" or "error". */
const char *lint_severity_name(enum lint_severity s);
/* Exit status for the worst finding: 0 none or info only, 1 warnings,
 * 2 errors. */
int lint_exit_status(const struct lint_report *r);

/* Append "FILE:LINE: SEVERITY: [code] message (fix: ...)" per finding (no
 * ":LINE" for line 0) to out. */
void lint_format(const struct lint_report *r, struct ctl_buf *out);
/* Append {"findings":[{"file","line","severity","code","message","fix"},..]}
 * and a newline for the n reports together. */
void lint_format_json(const struct lint_report *reps, size_t n, struct ctl_buf *out);

#endif
