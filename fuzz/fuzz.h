/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_FUZZ_H
#define TEMPUS_FUZZ_H

/* Shared by the libFuzzer targets in fuzz/: the entry points, a check that
 * aborts (so libFuzzer saves the input), and a reader that takes structured
 * values off the front of the input. Targets do no I/O; the log is set to
 * errors only so the modules' warnings cost nothing. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the code under test: on violation name it and abort, which
 * libFuzzer reports as a crash and saves the input for. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A key store from key-file text that must hold exactly n keys. */
static inline struct keys *fuzz_load_keys(const char *text, size_t n)
{
    struct keys *ks = NULL;
    FUZZ_CHECK(keys_parse_string("fuzz", text, NULL, &ks) == 0);
    FUZZ_CHECK(keys_count(ks) == n);
    return ks;
}

/* Input consumed front to back; past the end every value reads as zero. */
struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
    uint16_t hi = fuzz_u8(in);
    return (uint16_t)(hi << 8 | fuzz_u8(in));
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
    uint32_t hi = fuzz_u16(in);
    return hi << 16 | fuzz_u16(in);
}

/* Up to max bytes off the front; *len says how many there were. */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t max, size_t *len)
{
    const uint8_t *p = in->p;
    *len = max < in->n ? max : in->n;
    in->p += *len;
    in->n -= *len;
    return p;
}

/* A heap copy of exactly len bytes (at least one byte allocated), so that
 * AddressSanitizer sees any read past the end of a sub-message. */
static inline uint8_t *fuzz_dup(const uint8_t *p, size_t len)
{
    uint8_t *d = malloc(len ? len : 1);
    if (!d)
        abort();
    if (len)
        memcpy(d, p, len);
    return d;
}

/* An exactly sized output buffer filled with a pattern (never zero bytes,
 * so nothing passes for cleared memory by accident). */
static inline uint8_t *fuzz_alloc(size_t len)
{
    uint8_t *d = malloc(len ? len : 1);
    if (!d)
        abort();
    memset(d, 0xa5, len ? len : 1);
    return d;
}

static inline uint64_t fuzz_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Every target logs errors only, set before libFuzzer runs anything, so no
 * target needs an LLVMFuzzerInitialize for it. */
__attribute__((constructor)) static void fuzz_quiet_log(void)
{
    log_init("fuzz", LOG_TO_STDERR, LOG_LVL_ERR);
}

#endif
