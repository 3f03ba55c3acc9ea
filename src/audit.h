/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_AUDIT_H
#define TEMPUS_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "ctl_proto.h"
#include "timefmt.h"

/* The fleet audit behind `tempusctl audit`: what each server answered to a
 * few mode 3 requests, judged against the others. Pure: targets, packets
 * and timestamps in, verdicts and text out; the sockets are in
 * audit_net.c. */

#define AUDIT_MAX_SERVERS 256
#define AUDIT_MAX_EXPECT 32

/* Per-server findings, a bit each. */
enum audit_flag {
    AUDIT_UNREACHABLE = 1 << 0,  /* no answer at all (critical) */
    AUDIT_UNSYNCED = 1 << 1,     /* leap 3 or stratum 0/16 (critical) */
    AUDIT_KOD_DENY = 1 << 2,     /* a DENY or RSTR kiss (critical) */
    AUDIT_KOD_RATE = 1 << 3,     /* a RATE kiss: we stopped asking (warning) */
    AUDIT_OUTLIER = 1 << 4,      /* offset from the fleet median beyond --outlier (warning) */
    AUDIT_OUTLIER_CRIT = 1 << 5, /* ... beyond --crit-outlier (critical) */
    AUDIT_REFID = 1 << 6,        /* refid not among --expect-refid (warning) */
    AUDIT_MODE6 = 1 << 7,        /* answered a mode 6 probe (warning) */
    AUDIT_MODE7 = 1 << 8,        /* answered a mode 7 probe: monlist amplification (critical) */
};

struct audit_server {
    char name[300]; /* as given: HOST, HOST:PORT, [ADDR]:PORT */
    char host[256]; /* without brackets and port */
    uint16_t port;
    struct netaddr addr; /* family 0: not resolved */
    unsigned sent, answers;
    /* from the answer with the smallest delay */
    int stratum, leap;
    uint32_t refid;
    double root_delay, root_dispersion; /* s */
    double offset, delay;               /* s; offset > 0: the server is ahead */
    char kod[5];                        /* kiss code of the last KoD, "" none */
    int probed;                         /* --probe-control: the two below are set */
    size_t mode6_bytes, mode7_bytes;    /* bytes answered to the one-packet probes */
    /* from audit_evaluate */
    double vs_median; /* offset - fleet median (0 without a median) */
    int lone;         /* refid known to no other server of the fleet */
    unsigned flags;   /* enum audit_flag */
};

struct audit_params {
    double outlier, crit_outlier; /* s from the fleet median (0.1, 1.0) */
    uint32_t expect[AUDIT_MAX_EXPECT]; /* --expect-refid values */
    size_t n_expect;
};

/* Defaults: outlier 0.1 s, critical 1 s, no expected refid. */
void audit_params_defaults(struct audit_params *p);
/* Parse a target: HOST, HOST:PORT, ADDR (IPv6 without port), [ADDR] or
 * [ADDR]:PORT; port 123 by default. Fills name, host, port of s (zeroed
 * first). 0, or -1 if it does not parse. */
int audit_parse_target(const char *arg, struct audit_server *s);
/* A refid for --expect-refid: an IPv4 address, an IPv6 address (its MD5
 * refid, RFC 5905), or 1-4 printable characters ("GPS", "LOCL"). 0, or -1. */
int audit_parse_refid(const char *arg, uint32_t *out);
/* Fill req (48 bytes) with a client request whose transmit timestamp is
 * cookie (a random value, not the clock: RFC 9109 section 5). */
void audit_request(uint8_t req[48], uint64_t cookie);
/* The one-packet probes of --probe-control: a mode 6 READSTAT and a mode 7
 * MON_GETLIST_1 request into buf (at least AUDIT_PROBE_LEN bytes); each
 * returns its length. */
#define AUDIT_PROBE_LEN 48
size_t audit_probe_mode6(uint8_t *buf);
size_t audit_probe_mode7(uint8_t *buf);
/* The mode (0-7) of a datagram, or -1 if it is empty. */
int audit_packet_mode(const uint8_t *buf, size_t len);
/* Take an answer from s: buf[0..len) arrived at t4 to the request with
 * cookie sent at t1. 1 if it was a usable answer (kept when its delay is
 * the smallest so far), 0 a kiss-o'-death (kod set), -1 not an answer to
 * that request (ignored). */
int audit_answer(struct audit_server *s, const uint8_t *buf, size_t len, uint64_t cookie,
                 const struct timespec *t1, const struct timespec *t4);
/* Judge the fleet: median, outliers, lone and unexpected refids, flags.
 * Returns the exit status: 0 OK, 1 warning, 2 critical. */
int audit_evaluate(struct audit_server *s, size_t n, const struct audit_params *p);
/* The refid as text: ASCII for stratum 0-1, else dotted quad. */
const char *audit_refid_text(const struct audit_server *s, char *buf, size_t size);
/* First line "TEMPUS OK|WARNING|CRITICAL: audit: ..." then a table, one row
 * per server. */
void audit_render_table(const struct audit_server *s, size_t n, int status, struct ctl_buf *out);
/* {"status":..,"median_offset":..,"servers":[{...}]} and a newline. */
void audit_render_json(const struct audit_server *s, size_t n, int status, struct ctl_buf *out);

#endif
