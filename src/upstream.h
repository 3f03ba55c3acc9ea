/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_UPSTREAM_H
#define TEMPUS_UPSTREAM_H

#include "clock.h"
#include "conf.h"
#include "keys.h"
#include "sync.h"

/* The upstream client in the event loop: resolves each `server`/`pool`
 * without blocking, gives every source its own UDP socket on a random
 * port, sends polls when source.c says they are due, hands replies (with
 * kernel receive timestamps) to source.c and new samples to sync.c, and
 * runs sync_tick once a second. Sources that stay unreachable are dropped
 * and their name resolved again, so retired addresses do not linger. */
struct upstream;

/* Start polling every source in conf (after sched_init and resolve_init).
 * keys (not owned, kept until the next reconfigure; NULL for none) must
 * hold every `key ID` conf names; a source whose key is missing is not
 * polled. Never NULL; names that do not resolve are retried later. */
struct upstream *upstream_create(const struct conf *conf, const struct keys *keys, struct sync *sy,
                                 struct clock *clk, uint64_t seed);
/* Apply a reloaded config and key store (same rules as upstream_create):
 * `server`/`pool` lines that did not change keep their sources and all
 * their state (with their key material refreshed from keys); removed lines
 * lose theirs; new lines start polling. */
void upstream_reconfigure(struct upstream *up, const struct conf *conf, const struct keys *keys);
/* A server or pool line that has no source yet because its name did not
 * resolve (or is being resolved for the first time). */
struct upstream_pending {
    const char *host; /* owned by up: valid until the next reconfigure */
    uint16_t port;
    int pool;
    int failed; /* 1: the lookup failed and is retried; 0: in flight */
    unsigned line;
};
/* Up to max such lines into out, in config order; returns how many. */
int upstream_pending(const struct upstream *up, struct upstream_pending *out, int max);
/* How a source is authenticated, for tempusctl authdata and the metrics. */
struct upstream_auth {
    int sync_idx;     /* the source's index in sync (tempusctl sources) */
    const char *name; /* owned by up: valid until the next change of sources */
    int nts;          /* 1: NTS; else key (0: none) says */
    uint32_t key;
    const char *key_type; /* the key's type name; NULL without a key */
    unsigned key_bits;    /* key length in bits (NTS: the AEAD's C2S key) */
    /* NTS only: */
    unsigned cookies, kes, ke_failures, ke_failing, naks, replies_ok, replies_bad;
    unsigned aead;      /* of the keys held, 0 without */
    int have_keys;
    int ke_inflight;
    double last_ke_age; /* s since the last good key exchange, -1: none */
    double next_ke_in;  /* s until a key exchange may run again (backoff), >= 0 */
    const char *ke_error; /* why the last key exchange failed, "" if it did not */
};
/* Up to max sources into out, in slot order; returns how many. */
int upstream_auth(const struct upstream *up, struct upstream_auth *out, int max);
/* Another source (a refclock) updated sync at now: arm the end of the
 * slew it started, and re-arm the polls if the clock was stepped. */
void upstream_clock_updated(struct upstream *up, const struct timespec *now);
/* Stop polling, close sockets, remove the sources from sync. */
void upstream_destroy(struct upstream *up);

#endif
