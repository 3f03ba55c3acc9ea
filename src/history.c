/* SPDX-License-Identifier: ISC */
#include "history.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct history_snap {
    double t;
    uint64_t v[HISTORY_VALUES_MAX];
};

struct history {
    unsigned slots, nvals;
    unsigned next;  /* where the next snapshot goes */
    unsigned count; /* snapshots held, <= slots */
    struct history_snap snap[];
};

struct history *history_create(unsigned slots, unsigned nvals)
{
    if (slots == 0 || nvals == 0 || nvals > HISTORY_VALUES_MAX)
        return NULL;
    struct history *h = mem_zalloc(sizeof(*h) + (size_t)slots * sizeof(h->snap[0]));
    h->slots = slots;
    h->nvals = nvals;
    return h;
}

void history_destroy(struct history *h)
{
    free(h);
}

void history_record(struct history *h, double t, const uint64_t *vals)
{
    struct history_snap *s = &h->snap[h->next];

    s->t = t;
    memset(s->v, 0, sizeof(s->v));
    memcpy(s->v, vals, h->nvals * sizeof(vals[0]));
    h->next = (h->next + 1) % h->slots;
    if (h->count < h->slots)
        h->count++;
}

/* The i-th snapshot, oldest first. */
static const struct history_snap *history_at(const struct history *h, unsigned i)
{
    return &h->snap[(h->next + h->slots - h->count + i) % h->slots];
}

int history_delta(const struct history *h, double now, const uint64_t *cur, double window,
                  uint64_t *delta, double *span)
{
    memset(delta, 0, h->nvals * sizeof(delta[0]));
    *span = 0.0;
    for (unsigned i = 0; i < h->count; i++) {
        const struct history_snap *s = history_at(h, i);
        if (s->t < now - window || s->t > now)
            continue;
        for (unsigned k = 0; k < h->nvals; k++)
            delta[k] = cur[k] >= s->v[k] ? cur[k] - s->v[k] : cur[k];
        *span = now - s->t;
        return 0;
    }
    return -1;
}
