/* SPDX-License-Identifier: ISC */
/* Simulator building blocks with no tempus module behind them: random
 * numbers, the event queue, the oscillator model and the path model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "sim.h"

void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream)
{
    r->s = seed ^ (stream * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);
    (void)sim_rng_next(r);
}

uint64_t sim_rng_next(struct sim_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double sim_rng_unit(struct sim_rng *r)
{
    return ((double)(sim_rng_next(r) >> 11) + 0.5) * 0x1p-53;
}

double sim_rng_gauss(struct sim_rng *r)
{
    /* Box-Muller, one of the pair: simple and reproducible. */
    double u = sim_rng_unit(r), v = sim_rng_unit(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

double sim_rng_exp(struct sim_rng *r, double mean)
{
    return -mean * log(sim_rng_unit(r));
}

void sim_queue_init(struct sim_queue *q)
{
    memset(q, 0, sizeof(*q));
}

void sim_queue_fini(struct sim_queue *q)
{
    free(q->heap);
    memset(q, 0, sizeof(*q));
}

static int ev_before(const struct sim_event *a, const struct sim_event *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void ev_swap(struct sim_event *a, struct sim_event *b)
{
    struct sim_event t = *a;
    *a = *b;
    *b = t;
}

void sim_queue_push(struct sim_queue *q, const struct sim_event *ev)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 64;
        q->heap = mem_realloc(q->heap, q->cap, sizeof(q->heap[0]));
    }
    size_t i = q->n++;
    q->heap[i] = *ev;
    q->heap[i].seq = q->seq++;
    while (i > 0 && ev_before(&q->heap[i], &q->heap[(i - 1) / 2])) {
        ev_swap(&q->heap[i], &q->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
}

int sim_queue_pop(struct sim_queue *q, struct sim_event *out)
{
    if (q->n == 0)
        return 0;
    *out = q->heap[0];
    q->heap[0] = q->heap[--q->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->n && ev_before(&q->heap[l], &q->heap[m]))
            m = l;
        if (r < q->n && ev_before(&q->heap[r], &q->heap[m]))
            m = r;
        if (m == i)
            break;
        ev_swap(&q->heap[i], &q->heap[m]);
        i = m;
    }
    return 1;
}

void sim_osc_init(struct sim_osc *o, double offset, double ppm, double wander, struct sim_rng rng)
{
    memset(o, 0, sizeof(*o));
    o->phase = offset;
    o->ppm = ppm;
    o->wander = wander;
    o->grid = 16.0;
    o->rng = rng;
}

double sim_osc_phase(struct sim_osc *o, double t, int with_jumps)
{
    /* Walk the grid lazily: the frequency is constant between grid points,
     * so the phase is exact whatever the times it is read at. */
    while (t >= o->t_grid + o->grid) {
        o->phase += (o->ppm + o->walk) * 1e-6 * o->grid;
        o->walk += o->wander * sqrt(o->grid) * sim_rng_gauss(&o->rng);
        o->t_grid += o->grid;
    }
    double p = o->phase + (o->ppm + o->walk) * 1e-6 * (t - o->t_grid);
    return with_jumps ? p + o->jumps : p;
}

double sim_osc_freq(const struct sim_osc *o)
{
    return o->ppm + o->walk;
}

void sim_path_lan(struct sim_path *p, double jitter, struct sim_rng rng)
{
    memset(p, 0, sizeof(*p));
    p->out = p->back = 250e-6;
    p->kind = SIM_JIT_EXP;
    p->jitter = jitter;
    p->rng = rng;
}

int sim_path_down(const struct sim_path *p, double t)
{
    for (int i = 0; i < p->noutages; i++)
        if (t >= p->outage[i].from && t < p->outage[i].to)
            return 1;
    return 0;
}

double sim_path_delay(struct sim_path *p, double t, int back)
{
    /* Draw everything first so the stream does not depend on outages. */
    double lost = sim_rng_unit(&p->rng);
    double j = p->kind == SIM_JIT_EXP ? sim_rng_exp(&p->rng, p->jitter)
                                      : fabs(sim_rng_gauss(&p->rng)) * p->jitter;
    double spike =
        sim_rng_unit(&p->rng) < p->spike_prob ? sim_rng_exp(&p->rng, p->spike_mean) : 0.0;

    if (lost < p->loss || sim_path_down(p, t))
        return -1.0;
    return (back ? p->back : p->out) + j + spike;
}
