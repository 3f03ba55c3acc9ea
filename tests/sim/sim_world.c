/* SPDX-License-Identifier: ISC */
/* The simulated world: upstream servers with their own clocks, the paths
 * to them, and the whole daemon (service_open, service_start and the real
 * event loop, as tempusd's main runs them) with `clock system` over the
 * simulated kernel of sim_kernel.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock_virtual.h"
#include "conf.h"
#include "mem.h"
#include "ntp_wire.h"
#include "sched.h"
#include "service.h"
#include "sim.h"
#include "timefmt.h"

struct sim_server {
    struct sim_server_cfg cfg;
    struct clock *clk; /* over true time */
    struct server *srv;
    struct ratelimit *rl;
    struct sim_path path;
};

static const uint8_t client_ip[16] = {127, 0, 0, 1};
static const uint8_t downstream_ip[16] = {127, 0, 3, 1};
#define DOWNSTREAM_PORT 50123

static double utc_true(const struct sim_world *w, double t);

static struct timespec sim_ts(double t)
{
    struct timespec ts = {(time_t)SIM_T0, 0};
    timefmt_timespec_add(&ts, t);
    return ts;
}

/* Time base of the servers' virtual clocks: true time. */
static void read_true(void *ctx, struct timespec *out)
{
    const struct sim_world *w = ctx;
    *out = sim_ts(w->now);
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

struct sim_world *sim_world_create(const struct sim_client_cfg *c, uint64_t seed)
{
    struct sim_world *w = mem_zalloc(sizeof(*w));
    struct sim_rng r;

    w->ccfg = *c;
    w->seed = seed;
    sim_queue_init(&w->q);
    sim_rng_seed(&r, seed, 1);
    sim_osc_init(&w->osc, c->offset, c->ppm, c->wander, r);
    sim_rng_seed(&w->rand, seed, 3);
    w->k = (struct sim_kclock){.tb = 0.0, .pb = sim_osc_phase(&w->osc, 0.0, 0), .mono_b = 1000.0,
                               .tick = 10000, .status = STA_UNSYNC};
    w->k.real_b = w->k.pb; /* the clock is off by the oscillator's phase */
    for (int i = 0; i < SIM_MAX_SOCKS; i++)
        w->socks[i].fd = -1;
    w->next_port = 40000;
    const char *trace = getenv("TEMPUS_SIM_TRACE");
    w->trace = trace ? strtod(trace, NULL) : 0.0;
    w->acl = acl_create();
    acl_add(w->acl, "all", 1);
    snprintf(w->dir, sizeof(w->dir), "/tmp/tempus-sim.XXXXXX");
    if (!mkdtemp(w->dir)) {
        perror("sim: mkdtemp");
        exit(2);
    }
    return w;
}

void sim_world_stop(struct sim_world *w)
{
    if (!w->sv)
        return;
    struct sync_state st;
    struct timespec now;

    sim_world_client_now(w, &now);
    sync_get_state(w->sync, &now, &st);
    /* As on SIGTERM: the loop has returned, the service closes. */
    service_close(w->sv);
    w->sv = NULL;
    w->sync = NULL;
    w->exit_freq_err = sim_world_kernel_freq(w) - st.disc.freq_ppm;
    w->exit_tick = w->k.tick;
    sim_kernel_install(NULL);
}

static void sim_world_files_remove(struct sim_world *w)
{
    static const char *const names[] = {"tempus.conf", "drift", "drift.tmp", "ctl.sock",
                                        "leap-seconds.list", "right-UTC"};
    char path[128];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", w->dir, names[i]);
        unlink(path);
    }
    rmdir(w->dir);
}

void sim_world_destroy(struct sim_world *w)
{
    if (!w)
        return;
    sim_world_stop(w);
    for (int i = 0; i < w->nsrv; i++) {
        struct sim_server *s = w->srv[i];
        server_destroy(s->srv);
        ratelimit_destroy(s->rl);
        clock_destroy(s->clk);
        free(s);
    }
    acl_destroy(w->acl);
    sim_queue_fini(&w->q);
    sim_world_files_remove(w);
    free(w);
}

/* A stratum-1 server whose reference is its own clock, fresh at every
 * request. */
static void server_refresh(struct sim_server *s, const struct timespec *now, int leap)
{
    struct server_ref ref = {.synced = 1,
                             .leap = leap > 0 ? NTP_LEAP_ADD : leap < 0 ? NTP_LEAP_DEL
                                                                      : NTP_LEAP_NONE,
                             .stratum = 1,
                             .root_delay = 0.0,
                             .root_dispersion = 1e-5,
                             .ref_time = *now};
    ref.refid = ntp_wire_refid_ascii("GPS");
    server_set_ref(s->srv, &ref);
}

int sim_world_add_server(struct sim_world *w, const struct sim_server_cfg *cfg)
{
    struct sim_server *s;
    struct ratelimit_params rp = {.enabled = cfg->kod,
                                  .interval = 4,
                                  .burst = 2,
                                  .leak = 0,
                                  .kod = cfg->kod,
                                  .memory_limit = 65536};
    struct sim_rng r;
    struct timespec now;
    int i = w->nsrv;

    if (i == SIM_MAX_SERVERS || w->sv)
        return -1;
    s = mem_zalloc(sizeof(*s));
    s->cfg = *cfg;
    s->clk = clock_virtual_create_on(read_true, w, cfg->offset, cfg->ppm);
    sim_rng_seed(&r, w->seed, 10 + (uint64_t)i);
    s->rl = ratelimit_create(&rp, sim_rng_next(&r));
    s->srv = server_create(w->acl, s->rl, -20);
    clock_now(s->clk, &now);
    server_refresh(s, &now, 0);
    sim_rng_seed(&r, w->seed, 20 + (uint64_t)i);
    sim_path_lan(&s->path, cfg->jitter, r);
    w->srv[w->nsrv++] = s;
    return i;
}

struct sim_path *sim_world_path(struct sim_world *w, int i)
{
    return &w->srv[i]->path;
}

struct source *sim_world_source(struct sim_world *w, int i)
{
    return w->sync ? sync_source(w->sync, i) : NULL;
}

void sim_world_client_now(struct sim_world *w, struct timespec *out)
{
    *out = sim_ts(sim_kernel_real(w));
}

void sim_world_server_step(struct sim_world *w, int i, double s)
{
    clock_step(w->srv[i]->clk, s);
}

void sim_world_jump(struct sim_world *w, double s)
{
    sim_kernel_rebase(w);
    w->k.real_b += s;
}

double sim_world_kernel_freq(const struct sim_world *w)
{
    return ((double)w->k.tick / 10000.0 - 1.0) * 1e6 + (double)w->k.freq / 65536.0;
}

double sim_world_ideal_freq(const struct sim_world *w)
{
    double e = sim_osc_freq(&w->osc) * 1e-6;
    return -e / (1.0 + e) * 1e6;
}

/* ---- the network ---- */

enum { EV_AT_SERVER, EV_AT_CLIENT };

static void push(struct sim_world *w, double t, sim_event_fn fn, int arg, uint16_t port,
                 const uint8_t *buf, size_t len)
{
    struct sim_event ev = {.t = t, .fn = fn, .arg = arg, .gen = port, .len = len};
    if (buf && len)
        memcpy(ev.buf, buf, len);
    sim_queue_push(&w->q, &ev);
}

static void ev_at_client(struct sim_world *w, const struct sim_event *ev)
{
    uint8_t from[16] = {127, 0, 1, (uint8_t)(ev->arg + 1)};
    if (w->now >= w->pause_from && w->now < w->pause_to) {
        /* the host holds it until the VM runs again */
        push(w, w->pause_to, ev_at_client, ev->arg, (uint16_t)ev->gen, ev->buf, ev->len);
        return;
    }
    sim_kernel_deliver(w, (uint16_t)ev->gen, from, 123, ev->buf, ev->len);
}

static void ev_at_server(struct sim_world *w, const struct sim_event *ev)
{
    struct sim_server *s = w->srv[ev->arg];
    struct timespec rx, tx;
    struct netaddr from = {.family = AF_INET};
    uint8_t reply[SIM_PKT_MAX];
    size_t rlen = 0;
    const double turnaround = 1e-5;

    memcpy(from.bytes, client_ip, 4);
    clock_now(s->clk, &rx);
    server_refresh(s, &rx, w->leap_announce && w->now < SIM_MIDNIGHT ? w->utc_leap : 0);
    if (server_handle(s->srv, ev->buf, ev->len, &from, &rx, (int64_t)llround(w->now * 1e9), reply,
                      sizeof(reply), &rlen) == SERVER_DROP)
        return;
    tx = rx;
    timefmt_timespec_add(&tx, turnaround);
    server_stamp_tx(reply, rlen, &tx);
    double d = sim_path_delay(&s->path, w->now + turnaround, 1);
    if (d >= 0.0)
        push(w, w->now + turnaround + d, ev_at_client, ev->arg, (uint16_t)ev->gen, reply, rlen);
}

/* ---- the downstream client ---- */

static double ts_rel(ntp_ts_t ts)
{
    struct timespec pivot = {(time_t)SIM_T0, 0}, out;
    timefmt_ts_to_timespec(ts, &pivot, &out);
    return timefmt_timespec_diff(&out, &pivot);
}

/* A client request with true UTC as its transmit time, straight into the
 * daemon's listening socket. */
static void ev_downstream(struct sim_world *w, const struct sim_event *ev)
{
    struct ntp_header h = {.version = 4, .mode = NTP_MODE_CLIENT, .poll = 6};
    struct timespec now = {(time_t)SIM_T0, 0};
    uint8_t buf[NTP_HEADER_LEN];

    (void)ev;
    timefmt_timespec_add(&now, utc_true(w, w->now));
    h.tx_ts = timefmt_ts_from_timespec(&now);
    if (ntp_wire_encode_header(&h, buf, sizeof(buf)) == sizeof(buf) &&
        sim_kernel_deliver(w, w->down_port, downstream_ip, DOWNSTREAM_PORT, buf, sizeof(buf)) == 0)
        w->down_sent++;
    /* Finely around a leap second: what happens within its second, at
     * times off the whole seconds (where UTC's own steps are). */
    double next = w->now + w->down_every, lo = SIM_MIDNIGHT - 2.95, hi = SIM_MIDNIGHT + 3.0;
    if (w->utc_leap && w->now < lo && next > lo)
        next = lo;
    else if (w->utc_leap && w->now >= lo - 1e-9 && w->now + 0.1 <= hi)
        next = w->now + 0.1;
    push(w, next, ev_downstream, 0, 0, NULL, 0);
}

static void downstream_reply(struct sim_world *w, const uint8_t *buf, size_t len)
{
    struct ntp_packet_info info;

    if (ntp_wire_parse(buf, len, &info) < 0 || info.hdr.mode != NTP_MODE_SERVER)
        return;
    w->down_answered++;
    struct sim_served s = {.t = w->now,
                           .utc = utc_true(w, w->now),
                           .rx = ts_rel(info.hdr.rx_ts),
                           .tx = ts_rel(info.hdr.tx_ts),
                           .leap = info.hdr.leap,
                           .stratum = info.hdr.stratum};
    if (w->on_served)
        w->on_served(w, &s, w->served_arg);
}

void sim_world_downstream(struct sim_world *w, uint16_t port, double from, double every,
                          void (*fn)(struct sim_world *w, const struct sim_served *s, void *arg),
                          void *arg)
{
    w->down_port = port;
    w->down_from = from;
    w->down_every = every;
    w->on_served = fn;
    w->served_arg = arg;
}

void sim_world_route(struct sim_world *w, uint16_t src_port, const uint8_t *to, uint16_t port,
                     const uint8_t *buf, size_t len)
{
    int i = to[0] == 127 && to[1] == 0 && to[2] == 1 ? to[3] - 1 : -1;

    if (!memcmp(to, downstream_ip, 4) && port == DOWNSTREAM_PORT) {
        downstream_reply(w, buf, len);
        return;
    }
    if (i < 0 || i >= w->nsrv || port != 123 || len > SIM_PKT_MAX) {
        w->unknown_dst++;
        return;
    }
    double d = sim_path_delay(&w->srv[i]->path, w->now, 0);
    if (d >= 0.0)
        push(w, w->now + d, ev_at_server, i, src_port, buf, len);
}

/* ---- figures ---- */

/* True UTC at true time t, relative to SIM_T0: one second repeated at
 * SIM_MIDNIGHT (insertion) or skipped (deletion). */
double sim_world_utc(const struct sim_world *w, double t)
{
    return utc_true(w, t);
}

static double utc_true(const struct sim_world *w, double t)
{
    if (w->utc_leap > 0 && t >= SIM_MIDNIGHT)
        return t - 1.0;
    if (w->utc_leap < 0 && t >= SIM_MIDNIGHT - 1.0)
        return t + 1.0;
    return t;
}

static void track(struct sim_world *w)
{
    w->err = sim_kernel_real(w) - utc_true(w, w->now);
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

/* Once a simulated second: the error is sampled and the scenario's
 * watcher runs (between two wake-ups of the daemon). */
static void ev_tick(struct sim_world *w, const struct sim_event *ev)
{
    (void)ev;
    track(w);
    if (w->trace && fmod(w->now, w->trace) < 0.5)
        fprintf(stderr, "sim: t=%.0f error=%+.9f\n", w->now, w->err);
    if (w->on_tick)
        w->on_tick(w, w->tick_arg);
    push(w, w->now + 1.0, ev_tick, 0, 0, NULL, 0);
}

/* UTC's leap second reaches the servers: their clocks repeat (or skip)
 * a second, as every clock that follows UTC does. */
static void ev_utc_leap(struct sim_world *w, const struct sim_event *ev)
{
    (void)ev;
    for (int i = 0; i < w->nsrv; i++)
        clock_step(w->srv[i]->clk, -(double)w->utc_leap);
}

/* Linux's leap second: with STA_INS, CLOCK_REALTIME reads 23:59:59 again
 * at midnight; with STA_DEL it goes from 23:59:59 to midnight. Timed on
 * the simulated clock, re-aimed if its rate changed meanwhile. */
static void ev_kernel_leap(struct sim_world *w, const struct sim_event *ev)
{
    struct sim_kclock *k = &w->k;
    int sign = (k->status & STA_INS) ? 1 : (k->status & STA_DEL) ? -1 : 0;
    (void)ev;

    if (!sign || k->leap_target <= 0.0)
        return;
    double real = sim_kernel_real(w);
    double rate = (double)k->tick / 10000.0 + (double)k->freq / 65536e6;
    /* halfway each time while far: the rate may change (a slew) meanwhile */
    double d = (k->leap_target - real) / rate;
    double at = w->now + (d > 0.01 ? d / 2 : d);
    if (d > 1e-7 && at > w->now) {
        push(w, at, ev_kernel_leap, 0, 0, NULL, 0);
        return;
    }
    sim_kernel_rebase(w);
    k->real_b -= (double)sign;
    k->leaps++;
    k->leap_target = 0.0;
}

void sim_world_kernel_leap(struct sim_world *w)
{
    struct sim_kclock *k = &w->k;
    int sign = (k->status & STA_INS) ? 1 : (k->status & STA_DEL) ? -1 : 0;

    k->leap_target = 0.0;
    if (!sign)
        return;
    double abs_now = SIM_T0 + sim_kernel_real(w);
    double midnight = floor(abs_now / 86400.0 + 1.0) * 86400.0;
    k->leap_target = midnight - SIM_T0 - (sign < 0 ? 1.0 : 0.0);
    push(w, w->now, ev_kernel_leap, 0, 0, NULL, 0);
}

int sim_world_advance(struct sim_world *w, double t)
{
    struct sim_event ev;

    while (w->q.n > 0 && w->q.heap[0].t <= t) {
        sim_queue_pop(&w->q, &ev);
        if (ev.t > w->now)
            w->now = ev.t;
        ev.fn(w, &ev);
        if ((ev.fn == ev_at_client || ev.fn == ev_downstream) &&
            !(w->now >= w->pause_from && w->now < w->pause_to))
            return 1;
    }
    if (t > w->now)
        w->now = t;
    return 0;
}

/* ---- the daemon ---- */

static void write_config(struct sim_world *w, const char *path)
{
    const struct sim_client_cfg *c = &w->ccfg;
    FILE *f = fopen(path, "w");

    if (!f) {
        perror(path);
        exit(2);
    }
    fprintf(f, "clock system\nloglevel %s\ncontrolsocket %s/ctl.sock\n",
            getenv("TEMPUS_SIM_LOG") ? "debug" : "error", w->dir);
    fprintf(f, "makestep %g %d\n", c->makestep_threshold, c->makestep_limit);
    if (c->initial_freq != 0.0)
        fprintf(f, "driftfile %s/drift\n", w->dir);
    for (int i = 0; i < w->nsrv; i++)
        fprintf(f, "server 127.0.1.%d%s minpoll %d maxpoll %d %s\n", i + 1,
                c->iburst ? " iburst" : "", c->minpoll, c->maxpoll,
                w->srv[i]->cfg.opts ? w->srv[i]->cfg.opts : "");
    if (c->extra)
        fprintf(f, "%s\n", c->extra);
    fclose(f);
}

static void write_drift(struct sim_world *w)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/drift", w->dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fprintf(f, "%.6f 0.1\n", w->ccfg.initial_freq);
    fclose(f);
}

void sim_world_start(struct sim_world *w)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/tempus.conf", w->dir);
    write_config(w, path);
    if (w->ccfg.initial_freq != 0.0)
        write_drift(w);
    struct conf *conf = conf_load(path, stderr);
    if (!conf) {
        fprintf(stderr, "sim: the daemon's config %s is refused\n", path);
        exit(2);
    }
    sim_kernel_install(w);
    w->sv = service_open(conf, 1);
    service_start(w->sv);
    w->sync = service_sync(w->sv);
    push(w, 1.0, ev_tick, 0, 0, NULL, 0);
    if (w->down_every > 0.0)
        push(w, w->down_from, ev_downstream, 0, 0, NULL, 0);
    if (w->utc_leap)
        push(w, SIM_MIDNIGHT - (w->utc_leap < 0 ? 1.0 : 0.0), ev_utc_leap, 0, 0, NULL, 0);
}

void sim_world_run(struct sim_world *w, double t)
{
    if (!w->sv || t <= w->now)
        return;
    w->run_until = t;
    if (sched_run() < 0) {
        fprintf(stderr, "sim: the daemon's event loop failed\n");
        exit(2);
    }
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
