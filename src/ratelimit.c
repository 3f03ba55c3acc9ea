/* SPDX-License-Identifier: ISC */
#include "ratelimit.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* Entries per set. Eight keeps a lookup to a short scan while making it
 * unlikely that live clients who share a set push each other out. */
#define RL_WAYS 8
#define RL_NS_PER_SEC INT64_C(1000000000)

/* One client. Buckets hold "credit time": up to burst * 2^interval seconds,
 * each request costs 2^interval seconds and credit accrues at one second per
 * second, all in integer nanoseconds. kods is 32 bits so the entry fits one
 * 64-byte cache line; KoDs are themselves limited to one per 2^interval s
 * (at most 16 a second), so it would take years to saturate. */
struct rl_entry {
    int64_t last_ns;   /* last request; the stalest entry of a set is evicted */
    int64_t credit_ns; /* 0..cap_ns */
    int64_t kod_ns;    /* no KoD to this client before this time */
    uint64_t requests;
    uint64_t drops;
    uint32_t kods;
    uint8_t family; /* 0 marks a free slot */
    uint8_t pad[3];
    uint8_t bytes[16];
};

_Static_assert(sizeof(struct rl_entry) == 64, "rl_entry should fill one cache line");

struct ratelimit {
    struct rl_entry *table; /* nsets * RL_WAYS entries, set s at s * RL_WAYS */
    size_t nsets;           /* power of two; 0 when disabled */
    size_t count;
    uint64_t key[2]; /* SipHash key: where a client lands is secret */
    uint64_t rng;    /* splitmix64 state for leak decisions */
    int64_t cost_ns; /* 2^interval seconds */
    int64_t cap_ns;  /* burst * cost_ns */
    int leak, kod, enabled;
};

/* splitmix64 (Steele, Lea, Flood 2014): a tiny generator good enough for
 * coin flips, also used to stretch the seed into key material. */
static uint64_t rl_splitmix(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rl_rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

static void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rl_rotl(v[1], 13) ^ v[0];
    v[0] = rl_rotl(v[0], 32);
    v[2] += v[3];
    v[3] = rl_rotl(v[3], 16) ^ v[2];
    v[0] += v[3];
    v[3] = rl_rotl(v[3], 21) ^ v[0];
    v[2] += v[1];
    v[1] = rl_rotl(v[1], 17) ^ v[2];
    v[2] = rl_rotl(v[2], 32);
}

static void sip_absorb(uint64_t v[4], uint64_t m)
{
    v[3] ^= m;
    sip_round(v);
    sip_round(v);
    v[0] ^= m;
}

static uint64_t load_le(const uint8_t *p, size_t n)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x |= (uint64_t)p[i] << (8 * i);
    return x;
}

/* SipHash-2-4 (Aumasson, Bernstein 2012). A keyed PRF rather than a plain
 * mixer, so a spoofer who does not know the key cannot pick addresses that
 * all land in one set and flush a victim's bucket. */
static uint64_t siphash24(const uint64_t key[2], const uint8_t *m, size_t len)
{
    uint64_t v[4] = {
        key[0] ^ UINT64_C(0x736f6d6570736575),
        key[1] ^ UINT64_C(0x646f72616e646f6d),
        key[0] ^ UINT64_C(0x6c7967656e657261),
        key[1] ^ UINT64_C(0x7465646279746573),
    };
    size_t i;

    for (i = 0; i + 8 <= len; i += 8)
        sip_absorb(v, load_le(m + i, 8));
    sip_absorb(v, load_le(m + i, len - i) | (uint64_t)(len & 0xff) << 56);
    v[2] ^= 0xff;
    for (int r = 0; r < 4; r++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static int rl_clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Largest power-of-two number of full sets that fits memory_limit, at least
 * one so that a tiny limit still limits. */
static size_t rl_sets_for(size_t memory_limit)
{
    size_t fit = memory_limit / (sizeof(struct rl_entry) * RL_WAYS);
    size_t sets = 1;

    while (sets <= fit / 2)
        sets *= 2;
    return sets;
}

int ratelimit_params_equal(const struct ratelimit_params *a, const struct ratelimit_params *b)
{
    return a->enabled == b->enabled && a->interval == b->interval && a->burst == b->burst &&
           a->leak == b->leak && a->kod == b->kod && a->memory_limit == b->memory_limit;
}

struct ratelimit *ratelimit_create(const struct ratelimit_params *params, uint64_t seed)
{
    struct ratelimit *rl = mem_zalloc(sizeof(*rl));
    uint64_t state = seed;

    rl->key[0] = rl_splitmix(&state);
    rl->key[1] = rl_splitmix(&state);
    rl->rng = rl_splitmix(&state);
    rl->enabled = params->enabled != 0;
    rl->kod = params->kod != 0;
    /* conf.c reports out-of-range values; clamping here only keeps the
     * arithmetic below inside int64 whatever the caller passes. */
    rl->leak = rl_clamp(params->leak, 0, 4);
    int interval = rl_clamp(params->interval, -4, 12);
    rl->cost_ns = interval >= 0 ? RL_NS_PER_SEC << interval : RL_NS_PER_SEC >> -interval;
    rl->cap_ns = rl->cost_ns * rl_clamp(params->burst, 1, 255);
    if (rl->enabled) {
        rl->nsets = rl_sets_for(params->memory_limit);
        rl->table = mem_calloc(rl->nsets * RL_WAYS, sizeof(struct rl_entry));
    }
    return rl;
}

void ratelimit_destroy(struct ratelimit *rl)
{
    if (!rl)
        return;
    free(rl->table);
    free(rl);
}

static int rl_match(const struct rl_entry *e, const struct netaddr *addr, size_t alen)
{
    return e->family == addr->family && memcmp(e->bytes, addr->bytes, alen) == 0;
}

/* The client's entry, created if need be in a free way of its set or else in
 * place of the way seen least recently. */
static struct rl_entry *rl_lookup(struct ratelimit *rl, const struct netaddr *addr, int64_t now_ns)
{
    uint8_t key[17];
    size_t alen = addr_len(addr);

    key[0] = addr->family;
    memcpy(key + 1, addr->bytes, alen);
    uint64_t h = siphash24(rl->key, key, 1 + alen);
    struct rl_entry *set = &rl->table[(h & (rl->nsets - 1)) * RL_WAYS];
    struct rl_entry *victim = NULL;

    for (int i = 0; i < RL_WAYS; i++) {
        struct rl_entry *e = &set[i];
        if (e->family == 0) {
            if (!victim || victim->family != 0)
                victim = e;
        } else if (rl_match(e, addr, alen)) {
            return e;
        } else if (!victim || (victim->family != 0 && e->last_ns < victim->last_ns)) {
            victim = e;
        }
    }
    if (victim->family == 0)
        rl->count++;
    memset(victim, 0, sizeof(*victim));
    victim->family = addr->family;
    memcpy(victim->bytes, addr->bytes, alen);
    victim->last_ns = now_ns;
    victim->credit_ns = rl->cap_ns; /* a new client starts with a full burst */
    victim->kod_ns = INT64_MIN;
    return victim;
}

/* Credit accrues with the time since the last request, up to the cap. A
 * clock that steps back gives nothing (and takes nothing). */
static void rl_refill(const struct ratelimit *rl, struct rl_entry *e, int64_t now_ns)
{
    if (now_ns <= e->last_ns)
        return;
    /* Unsigned: the difference of two int64 may not fit an int64. */
    uint64_t elapsed = (uint64_t)now_ns - (uint64_t)e->last_ns;
    uint64_t room = (uint64_t)(rl->cap_ns - e->credit_ns);
    e->credit_ns = elapsed >= room ? rl->cap_ns : e->credit_ns + (int64_t)elapsed;
    e->last_ns = now_ns;
}

static enum ratelimit_verdict rl_limited(struct ratelimit *rl, struct rl_entry *e, int64_t now_ns)
{
    /* The top leak bits are all zero with probability 1/2^leak. */
    if (rl->leak > 0 && rl_splitmix(&rl->rng) >> (64 - rl->leak) == 0)
        return RATELIMIT_PASS;
    if (rl->kod && now_ns >= e->kod_ns) {
        e->kod_ns = now_ns <= INT64_MAX - rl->cost_ns ? now_ns + rl->cost_ns : INT64_MAX;
        if (e->kods < UINT32_MAX)
            e->kods++;
        return RATELIMIT_KOD;
    }
    e->drops++;
    return RATELIMIT_DROP;
}

enum ratelimit_verdict ratelimit_charge(struct ratelimit *rl, const struct netaddr *addr,
                                        int64_t now_ns)
{
    /* Only INET/INET6 come off the wire; anything else has no bucket. */
    if (!rl->enabled || (addr->family != AF_INET && addr->family != AF_INET6))
        return RATELIMIT_PASS;
    struct rl_entry *e = rl_lookup(rl, addr, now_ns);
    e->requests++;
    rl_refill(rl, e, now_ns);
    if (e->credit_ns >= rl->cost_ns) {
        e->credit_ns -= rl->cost_ns;
        return RATELIMIT_PASS;
    }
    return rl_limited(rl, e, now_ns);
}

void ratelimit_kod_not_sent(struct ratelimit *rl, const struct netaddr *addr)
{
    if (!rl->enabled || (addr->family != AF_INET && addr->family != AF_INET6))
        return;
    /* The entry exists: ratelimit_charge just made or found it. */
    struct rl_entry *e = rl_lookup(rl, addr, 0);
    if (e->kods > 0)
        e->kods--;
    e->drops++;
}

size_t ratelimit_capacity(const struct ratelimit *rl)
{
    return rl->nsets * RL_WAYS;
}

size_t ratelimit_count(const struct ratelimit *rl)
{
    return rl->count;
}

size_t ratelimit_memory(const struct ratelimit *rl)
{
    return rl->nsets * RL_WAYS * sizeof(struct rl_entry);
}

void ratelimit_foreach(const struct ratelimit *rl,
                       void (*fn)(const struct ratelimit_client *c, void *arg), void *arg)
{
    for (size_t i = 0; i < rl->nsets * RL_WAYS; i++) {
        const struct rl_entry *e = &rl->table[i];
        struct ratelimit_client c;

        if (e->family == 0)
            continue;
        memset(&c, 0, sizeof(c));
        c.addr.family = e->family;
        memcpy(c.addr.bytes, e->bytes, sizeof(e->bytes));
        c.requests = e->requests;
        c.drops = e->drops;
        c.kods = e->kods;
        c.last_ns = e->last_ns;
        fn(&c, arg);
    }
}
