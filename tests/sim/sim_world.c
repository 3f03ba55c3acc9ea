/* SPDX-License-Identifier: ISC */
/* The simulated world: upstream servers with their own clocks, the paths
 * to them, and one client running the real source, sync and discipline
 * code over a clock that rides on the modelled oscillator. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock_virtual.h"
#include "mem.h"
#include "ntp_wire.h"
#include "sim.h"
#include "timefmt.h"

struct sim_server {
    struct sim_server_cfg cfg;
    struct clock *clk; /* over true time */
    struct server *srv;
    struct ratelimit *rl;
    struct sim_path path;
    struct source *src; /* the client's view of this server */
    int idx;            /* in the client's sync */
    double next_poll;   /* true time of the pending poll */
    uint64_t poll_gen;  /* bumped when the pending poll is replaced */
};

static struct timespec sim_ts(double t)
{
    struct timespec ts = {(time_t)SIM_T0, 0};
    timefmt_timespec_add(&ts, t);
    return ts;
}

/* Time bases of the virtual clocks: true time for servers, the oscillator
 * for the client. */
static void read_true(void *ctx, struct timespec *out)
{
    const struct sim_world *w = ctx;
    *out = sim_ts(w->now);
}

static void read_osc(void *ctx, struct timespec *out)
{
    struct sim_world *w = ctx;
    *out = sim_ts(w->now + sim_osc_phase(&w->osc, w->now, 1));
}

void sim_client_defaults(struct sim_client_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->wander = 2e-4;
    c->iburst = 1;
    c->minpoll = SOURCE_MINPOLL_DEFAULT;
    c->maxpoll = SOURCE_MAXPOLL_DEFAULT;
    c->makestep_threshold = 1.0;
    c->makestep_limit = 3;
}

static void client_addr(struct netaddr *a)
{
    addr_parse("192.0.2.1", a);
}

struct sim_world *sim_world_create(const struct sim_client_cfg *c, uint64_t seed)
{
    struct sim_world *w = mem_zalloc(sizeof(*w));
    struct sim_rng r;
    struct sync_params sp;
    struct ratelimit_params rp = {.enabled = 0};

    w->ccfg = *c;
    w->seed = seed;
    sim_queue_init(&w->q);
    sim_rng_seed(&r, seed, 1);
    sim_osc_init(&w->osc, c->offset, c->ppm, c->wander, r);
    w->clk = clock_virtual_create_on(read_osc, w, 0.0, 0.0);
    w->acl = acl_create();
    acl_add(w->acl, "all", 1);
    w->own_rl = ratelimit_create(&rp, seed);
    w->own = server_create(w->acl, w->own_rl, clock_precision(w->clk));
    sync_params_default(&sp);
    sp.disc.makestep_threshold = c->makestep_threshold;
    sp.disc.makestep_limit = c->makestep_limit;
    w->sync = sync_create(&sp, w->clk, w->own, c->initial_freq);
    return w;
}

void sim_world_destroy(struct sim_world *w)
{
    if (!w)
        return;
    sync_destroy(w->sync);
    for (int i = 0; i < w->nsrv; i++) {
        struct sim_server *s = w->srv[i];
        source_destroy(s->src);
        server_destroy(s->srv);
        ratelimit_destroy(s->rl);
        clock_destroy(s->clk);
        free(s);
    }
    server_destroy(w->own);
    ratelimit_destroy(w->own_rl);
    acl_destroy(w->acl);
    clock_destroy(w->clk);
    sim_queue_fini(&w->q);
    free(w);
}

/* A stratum-1 server whose reference is its own clock, fresh at every
 * request. */
static void server_refresh(struct sim_server *s, const struct timespec *now)
{
    struct server_ref ref = {.synced = 1,
                             .leap = NTP_LEAP_NONE,
                             .stratum = 1,
                             .root_delay = 0.0,
                             .root_dispersion = 1e-5,
                             .ref_time = *now};
    ref.refid = ntp_wire_refid_ascii("GPS");
    server_set_ref(s->srv, &ref);
}

int sim_world_add_server(struct sim_world *w, const struct sim_server_cfg *cfg)
{
    struct sim_server *s = mem_zalloc(sizeof(*s));
    struct ratelimit_params rp = {.enabled = cfg->kod,
                                  .interval = 4,
                                  .burst = 2,
                                  .leak = 0,
                                  .kod = cfg->kod,
                                  .memory_limit = 65536};
    struct source_params pp = {
        .minpoll = w->ccfg.minpoll, .maxpoll = w->ccfg.maxpoll, .iburst = w->ccfg.iburst};
    struct sim_rng r;
    struct timespec now;
    char name[32];
    int i = w->nsrv;

    if (i == SIM_MAX_SERVERS)
        return -1;
    s->cfg = *cfg;
    s->clk = clock_virtual_create_on(read_true, w, cfg->offset, cfg->ppm);
    sim_rng_seed(&r, w->seed, 10 + (uint64_t)i);
    s->rl = ratelimit_create(&rp, sim_rng_next(&r));
    s->srv = server_create(w->acl, s->rl, -20);
    clock_now(s->clk, &now);
    server_refresh(s, &now);
    sim_rng_seed(&r, w->seed, 20 + (uint64_t)i);
    sim_path_lan(&s->path, cfg->jitter, r);
    sim_rng_seed(&r, w->seed, 30 + (uint64_t)i);
    s->src = source_create(&pp, sim_rng_next(&r));
    snprintf(name, sizeof(name), "server%d", i);
    s->idx = sync_add_source(w->sync, s->src, name, 0x0a000001u + (uint32_t)i);
    w->srv[w->nsrv++] = s;
    return i;
}

struct sim_path *sim_world_path(struct sim_world *w, int i)
{
    return &w->srv[i]->path;
}

struct source *sim_world_source(struct sim_world *w, int i)
{
    return w->srv[i]->src;
}

void sim_world_client_now(struct sim_world *w, struct timespec *out)
{
    clock_now(w->clk, out);
}

int64_t sim_world_mono_ns(struct sim_world *w)
{
    double m = w->now + sim_osc_phase(&w->osc, w->now, 0);
    return (int64_t)llround(m * 1e9);
}

void sim_world_server_step(struct sim_world *w, int i, double s)
{
    clock_step(w->srv[i]->clk, s);
}

void sim_world_jump(struct sim_world *w, double s)
{
    (void)sim_osc_phase(&w->osc, w->now, 1);
    w->osc.jumps += s;
}

double sim_world_ideal_freq(const struct sim_world *w)
{
    double e = sim_osc_freq(&w->osc) * 1e-6;
    return -e / (1.0 + e) * 1e6;
}

static void push(struct sim_world *w, double t, sim_event_fn fn, int arg, const uint8_t *buf,
                 size_t len)
{
    struct sim_event ev = {.t = t, .fn = fn, .arg = arg, .len = len};
    if (buf && len)
        memcpy(ev.buf, buf, len);
    sim_queue_push(&w->q, &ev);
}

static void ev_poll(struct sim_world *w, const struct sim_event *ev);

static void schedule_poll(struct sim_world *w, int i, double t)
{
    struct sim_server *s = w->srv[i];
    struct sim_event ev = {.t = t, .fn = ev_poll, .arg = i, .gen = ++s->poll_gen};
    s->next_poll = t;
    sim_queue_push(&w->q, &ev);
}

/* After a step or a reset every source starts a burst, but its timer still
 * points at the old poll interval: poll again within the burst spacing, as
 * the daemon's upstream loop must. */
static void rearm_polls(struct sim_world *w)
{
    for (int i = 0; i < w->nsrv; i++)
        if (w->srv[i]->next_poll > w->now + 2.0)
            schedule_poll(w, i, w->now + 0.5);
}

static unsigned steps_of(struct sim_world *w)
{
    struct sync_state st;
    struct timespec now;
    clock_now(w->clk, &now);
    sync_get_state(w->sync, &now, &st);
    return st.disc.steps;
}

static int samples_held(struct sim_world *w)
{
    struct source_estimate e;
    struct timespec now;
    int n = 0;
    clock_now(w->clk, &now);
    for (int i = 0; i < w->nsrv; i++) {
        source_get_estimate(w->srv[i]->src, &now, &e);
        n += e.nsamples;
    }
    return n;
}

static void ev_at_client(struct sim_world *w, const struct sim_event *ev)
{
    struct sim_server *s = w->srv[ev->arg];
    struct timespec t4;

    clock_now(w->clk, &t4);
    switch (source_process_reply(s->src, ev->buf, ev->len, &t4)) {
    case SOURCE_SAMPLE: {
        unsigned steps = steps_of(w);
        sync_update(w->sync, &t4, sim_world_mono_ns(w));
        if (steps_of(w) != steps)
            rearm_polls(w);
        break;
    }
    case SOURCE_KOD_RATE:
    case SOURCE_KOD_DENY:
        w->kods_seen++;
        break;
    default:
        break;
    }
}

static void ev_at_server(struct sim_world *w, const struct sim_event *ev)
{
    struct sim_server *s = w->srv[ev->arg];
    struct timespec rx, tx;
    struct netaddr from;
    uint8_t reply[SIM_PKT_MAX];
    size_t rlen = 0;
    const double turnaround = 1e-5;

    client_addr(&from);
    clock_now(s->clk, &rx);
    server_refresh(s, &rx);
    if (server_handle(s->srv, ev->buf, ev->len, &from, &rx, (int64_t)llround(w->now * 1e9), reply,
                      sizeof(reply), &rlen) == SERVER_DROP)
        return;
    tx = rx;
    timefmt_timespec_add(&tx, turnaround);
    server_stamp_tx(reply, rlen, &tx);
    double d = sim_path_delay(&s->path, w->now + turnaround, 1);
    if (d >= 0.0)
        push(w, w->now + turnaround + d, ev_at_client, ev->arg, reply, rlen);
}

static void ev_poll(struct sim_world *w, const struct sim_event *ev)
{
    struct sim_server *s = w->srv[ev->arg];
    struct timespec t1;
    uint8_t buf[SIM_PKT_MAX];

    if (ev->gen != s->poll_gen)
        return; /* replaced by rearm_polls() */
    clock_now(w->clk, &t1);
    size_t len = source_make_request(s->src, &t1, buf, sizeof(buf));
    if (len == 0)
        return; /* denied: polling stops */
    double d = sim_path_delay(&s->path, w->now, 0);
    if (d >= 0.0)
        push(w, w->now + d, ev_at_server, ev->arg, buf, len);
    schedule_poll(w, ev->arg, w->now + source_poll_delay(s->src));
}

static void track(struct sim_world *w)
{
    struct timespec c, truth = sim_ts(w->now);

    clock_now(w->clk, &c);
    w->err = timefmt_timespec_diff(&c, &truth);
    w->samples++;
    if (fabs(w->err) > w->max_err_all)
        w->max_err_all = fabs(w->err);
    for (int i = 0; i < w->nwin; i++) {
        struct sim_window *win = &w->win[i];
        if (w->now < win->from || w->now >= win->to)
            continue;
        win->n++;
        win->sum2 += w->err * w->err;
        if (fabs(w->err) > win->maxabs)
            win->maxabs = fabs(w->err);
        if (fabs(w->err) > win->thr)
            win->last_out = w->now;
    }
}

static void ev_tick(struct sim_world *w, const struct sim_event *ev)
{
    struct timespec now;

    (void)ev;
    clock_now(w->clk, &now);
    int held = samples_held(w);
    sync_tick(w->sync, &now, sim_world_mono_ns(w));
    if (held > 0 && samples_held(w) == 0)
        rearm_polls(w); /* a jump was detected and every source reset */
    track(w);
    if (w->on_tick)
        w->on_tick(w, w->tick_arg);
    push(w, w->now + 1.0, ev_tick, 0, NULL, 0);
}

void sim_world_start(struct sim_world *w)
{
    struct sim_rng r;

    sim_rng_seed(&r, w->seed, 2);
    /* The daemon starts polling every source at once, give or take the
     * time it takes to resolve names and open sockets. */
    for (int i = 0; i < w->nsrv; i++)
        schedule_poll(w, i, 0.1 + 0.4 * sim_rng_unit(&r));
    push(w, 1.0, ev_tick, 0, NULL, 0);
}

void sim_world_run(struct sim_world *w, double t)
{
    struct sim_event ev;

    while (w->q.n > 0 && w->q.heap[0].t <= t) {
        sim_queue_pop(&w->q, &ev);
        w->now = ev.t;
        ev.fn(w, &ev);
    }
    w->now = t;
}

int sim_world_window(struct sim_world *w, double from, double to, double thr)
{
    if (w->nwin == SIM_MAX_WINDOWS)
        return -1;
    w->win[w->nwin] = (struct sim_window){.from = from, .to = to, .thr = thr, .last_out = -1.0};
    return w->nwin++;
}

double sim_window_rms(const struct sim_window *win)
{
    return win->n ? sqrt(win->sum2 / win->n) : 0.0;
}

double sim_window_settle(const struct sim_window *win)
{
    return win->last_out < 0.0 ? 0.0 : win->last_out - win->from;
}
