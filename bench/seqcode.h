/* SPDX-License-Identifier: ISC */
/* Shared by loadgen and ntsprep: a keyed bijection on 64 bits (a 4-round
 * Feistel network) that turns a request's sequence number into its
 * transmit timestamp and back, so that loadgen can tell which request a
 * reply answers from the origin timestamp alone, and ntsprep can write
 * requests that loadgen recognises. Not cryptography: only a permutation
 * that spreads consecutive numbers apart. */
#ifndef TEMPUS_BENCH_SEQCODE_H
#define TEMPUS_BENCH_SEQCODE_H

#include <stdint.h>

static inline uint32_t feistel_round(uint32_t x, uint32_t k)
{
    uint64_t v = (uint64_t)(x ^ k) * 0x9E3779B97F4A7C15ULL;

    return (uint32_t)(v >> 32) ^ (uint32_t)v;
}

static inline uint64_t seq_encode(const uint32_t key[4], uint64_t seq)
{
    uint32_t l = (uint32_t)(seq >> 32), r = (uint32_t)seq;

    for (int i = 0; i < 4; i++) {
        uint32_t t = r;
        r = l ^ feistel_round(r, key[i]);
        l = t;
    }
    return (uint64_t)l << 32 | r;
}

static inline uint64_t seq_decode(const uint32_t key[4], uint64_t ts)
{
    uint32_t l = (uint32_t)(ts >> 32), r = (uint32_t)ts;

    for (int i = 3; i >= 0; i--) {
        uint32_t t = l;
        l = r ^ feistel_round(l, key[i]);
        r = t;
    }
    return (uint64_t)l << 32 | r;
}

#endif
