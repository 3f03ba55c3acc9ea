/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_RATELIMIT_H
#define TEMPUS_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* Per-client token buckets in a table of fixed size chosen at creation.
 * Configured like chrony's ratelimit: a client may send on average one
 * request per 2^interval seconds with bursts of up to `burst` requests; of
 * the requests over the limit, one in 2^leak is let through anyway, so a
 * legitimate client behind a spoofer still gets some answers. With kod, a
 * limited request is answered by a RATE kiss-o'-death at most once per
 * 2^interval seconds per client; all other limited requests are dropped.
 * The table never grows: when full it evicts the least recently seen entry
 * of the set the new client hashes to (keyed hash, so an attacker cannot
 * aim at one set). */
struct ratelimit_params {
    int enabled;        /* 0: every request passes, nothing is stored */
    int interval;       /* log2 seconds, -4..12 */
    int burst;          /* 1..255 */
    int leak;           /* 0..4 ; 0 = nothing leaks */
    int kod;            /* send RATE KoD on some limited requests */
    size_t memory_limit; /* bytes for the client table (>= a few KiB) */
};

enum ratelimit_verdict { RATELIMIT_PASS, RATELIMIT_DROP, RATELIMIT_KOD };

/* Per-client record as shown to operators. */
struct ratelimit_client {
    struct netaddr addr;
    uint64_t requests; /* all requests seen from addr */
    uint64_t drops;    /* limited and dropped */
    uint64_t kods;     /* limited and answered with KoD */
    int64_t last_ns;   /* monotonic time of the last request */
};

struct ratelimit;

/* 1 if a and b set the same limits (field by field: the struct has padding,
 * so memcmp could call two equal settings different), else 0. */
int ratelimit_params_equal(const struct ratelimit_params *a, const struct ratelimit_params *b);

/* New limiter; seed keys the hash and the leak generator (tests pass a fixed
 * seed, the daemon a random one). Never NULL. */
struct ratelimit *ratelimit_create(const struct ratelimit_params *params, uint64_t seed);
void ratelimit_destroy(struct ratelimit *rl);
/* Charge one request from addr at monotonic time now_ns; returns the verdict
 * and updates the client's record. */
enum ratelimit_verdict ratelimit_charge(struct ratelimit *rl, const struct netaddr *addr,
                                        int64_t now_ns);
/* The RATELIMIT_KOD just returned for addr was not sent after all (the
 * request was dropped): count it as a drop in the client's record. */
void ratelimit_kod_not_sent(struct ratelimit *rl, const struct netaddr *addr);
/* Capacity (max clients) and current number of clients in the table. */
size_t ratelimit_capacity(const struct ratelimit *rl);
size_t ratelimit_count(const struct ratelimit *rl);
/* Bytes allocated for the table (constant after create). */
size_t ratelimit_memory(const struct ratelimit *rl);
/* Call fn for every stored client (order unspecified). */
void ratelimit_foreach(const struct ratelimit *rl,
                       void (*fn)(const struct ratelimit_client *c, void *arg), void *arg);

#endif
