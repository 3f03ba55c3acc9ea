/* SPDX-License-Identifier: ISC */
/* Checks of the simulator's own parts, run before the scenarios: if the
 * event queue, the oscillator or the paths were wrong, every scenario's
 * figures would be too. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "timefmt.h"

static int fail_at(struct sim_result *res, const char *what)
{
    if (res->pass)
        snprintf(res->text, sizeof(res->text), "%s ", what);
    res->pass = 0;
    return 0;
}

#define CHECK(res, cond) ((cond) ? 1 : fail_at((res), #cond))

static void noop(struct sim_world *w, const struct sim_event *ev)
{
    (void)w, (void)ev;
}

/* Random times come out sorted; equal times in insertion order. */
static void check_queue(struct sim_result *res, struct sim_rng *r)
{
    struct sim_queue q;
    struct sim_event ev = {.fn = noop}, out;
    double last = -1.0;
    int n = 0, lastarg = -1;

    sim_queue_init(&q);
    for (int i = 0; i < 2000; i++) {
        ev.t = i % 3 == 0 ? 5.0 : floor(sim_rng_unit(r) * 100.0);
        ev.arg = i;
        sim_queue_push(&q, &ev);
    }
    while (sim_queue_pop(&q, &out)) {
        CHECK(res, out.t >= last);
        if (out.t == last)
            CHECK(res, out.arg > lastarg);
        last = out.t;
        lastarg = out.arg;
        n++;
    }
    CHECK(res, n == 2000);
    sim_queue_fini(&q);
}

static void check_rng(struct sim_result *res, struct sim_rng *r)
{
    double s = 0.0, s2 = 0.0, e = 0.0, lo = 1.0, hi = 0.0;
    const int n = 40000;

    for (int i = 0; i < n; i++) {
        double g = sim_rng_gauss(r), u = sim_rng_unit(r);
        s += g;
        s2 += g * g;
        e += sim_rng_exp(r, 2.0);
        lo = fmin(lo, u);
        hi = fmax(hi, u);
    }
    CHECK(res, fabs(s / n) < 0.03 && fabs(s2 / n - 1.0) < 0.05);
    CHECK(res, fabs(e / n - 2.0) < 0.06);
    CHECK(res, lo > 0.0 && hi < 1.0);
}

/* Without wander the phase is exact; with it, the phase does not depend on
 * when it was read, and the wander has the size it was given. */
static void check_osc(struct sim_result *res, uint64_t seed)
{
    struct sim_osc a, b;
    struct sim_rng r;
    double sum2 = 0.0;

    sim_rng_seed(&r, seed, 100);
    sim_osc_init(&a, 0.25, 35.0, 0.0, r);
    CHECK(res, fabs(sim_osc_phase(&a, 10000.0, 1) - (0.25 + 35e-6 * 10000.0)) < 1e-12);
    for (int k = 0; k < 1000; k++) {
        sim_rng_seed(&r, seed, 200 + (uint64_t)k);
        sim_osc_init(&a, 0.0, 0.0, 1e-3, r);
        sim_osc_init(&b, 0.0, 0.0, 1e-3, r);
        for (int i = 0; i * 0.7 < 3600.0; i++)
            (void)sim_osc_phase(&a, i * 0.7, 1);
        CHECK(res, fabs(sim_osc_phase(&a, 3600.0, 1) - sim_osc_phase(&b, 3600.0, 1)) < 1e-12);
        sum2 += sim_osc_freq(&a) * sim_osc_freq(&a);
    }
    /* Random walk: the frequency's variance grows as wander^2 * t. */
    double ratio = sum2 / 1000.0 / (1e-3 * 1e-3 * 3600.0);
    CHECK(res, ratio > 0.8 && ratio < 1.2);
}

static void check_path(struct sim_result *res, uint64_t seed)
{
    struct sim_path p;
    struct sim_rng r;
    double sum = 0.0;
    int lost = 0, n = 20000;

    sim_rng_seed(&r, seed, 300);
    sim_path_lan(&p, 100e-6, r);
    p.loss = 0.1;
    p.outage[p.noutages++] = (struct sim_outage){100.0, 200.0};
    for (int i = 0; i < n; i++) {
        double d = sim_path_delay(&p, 50.0, i & 1);
        if (d < 0.0)
            lost++;
        else
            sum += d;
    }
    CHECK(res, fabs((double)lost / n - 0.1) < 0.01);
    CHECK(res, fabs(sum / (n - lost) - 350e-6) < 5e-6);
    CHECK(res, sim_path_delay(&p, 150.0, 0) < 0.0 && sim_path_down(&p, 199.9));
}

/* One server, one source: the first samples measure the clock's error. */
static void check_wiring(struct sim_result *res, uint64_t seed)
{
    struct sim_client_cfg c;
    struct sim_server_cfg sc = {.jitter = 1e-6};
    struct source_estimate e;
    struct timespec now;

    sim_client_defaults(&c);
    c.offset = 0.3; /* below makestep: slewed, so it is still there */
    c.makestep_threshold = 0.0;
    struct sim_world *w = sim_world_create(&c, seed);
    sim_world_add_server(w, &sc);
    sim_world_start(w);
    sim_world_run(w, 1.0);
    sim_world_client_now(w, &now);
    source_get_estimate(sim_world_source(w, 0), &now, &e);
    CHECK(res, e.valid && e.received >= 1);
    CHECK(res, fabs(e.offset + 0.3) < 1e-4);
    CHECK(res, fabs(e.delay - 510e-6) < 5e-5);
    sim_world_run(w, 10.0);
    CHECK(res, w->err < 0.29 && w->err > 0.05); /* slewing, not stepped */
    sim_world_destroy(w);
}

void sim_selftest(uint64_t seed, struct sim_result *res)
{
    struct sim_rng r;

    res->pass = 1;
    sim_rng_seed(&r, seed, 99);
    check_queue(res, &r);
    check_rng(res, &r);
    check_osc(res, seed);
    check_path(res, seed);
    check_wiring(res, seed);
    if (res->pass)
        snprintf(res->text, sizeof(res->text), "queue rng oscillator paths wiring ");
}
