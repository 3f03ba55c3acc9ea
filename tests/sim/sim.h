/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_SIM_H
#define TEMPUS_SIM_H

/* The simulator: real servers (server.c), real sources (source.c) and the
 * real sync and discipline (sync.c, discipline.c) exchanging real NTP
 * packets over modelled network paths, on simulated time driven by an event
 * queue. True time is the simulation time; every clock is a virtual clock
 * over it (servers) or over a modelled free-running oscillator (the client).
 * Nothing sleeps and nothing touches the machine's clock. */

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "acl.h"
#include "clock.h"
#include "ntp_wire.h"
#include "ratelimit.h"
#include "server.h"
#include "source.h"
#include "sync.h"

/* Unix time at simulation time 0: 2027-06-30 12:00 UTC, the last day of a
 * month, so that a leap second can end it (12 hours in, at true time
 * SIM_MIDNIGHT). */
#define SIM_T0 1814356800.0
#define SIM_MIDNIGHT 43200.0
#define SIM_PKT_MAX (NTP_HEADER_LEN + NTP_MAC_MAX_LEN)
#define SIM_MAX_SERVERS 8
#define SIM_MAX_OUTAGES 4
#define SIM_MAX_WINDOWS 4

/* ---- sim_core.c: random numbers, event queue, oscillator, paths ---- */

/* splitmix64 stream: small, fast, reproducible from (seed, stream). */
struct sim_rng {
    uint64_t s;
};

/* Seed r from a run seed and a stream number (distinct streams never
 * share a sequence in practice). */
void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream);
/* Next 64 random bits. */
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in (0, 1). */
double sim_rng_unit(struct sim_rng *r);
/* Standard normal. */
double sim_rng_gauss(struct sim_rng *r);
/* Exponential with the given mean. */
double sim_rng_exp(struct sim_rng *r, double mean);

struct sim_world;
struct sim_event;
typedef void (*sim_event_fn)(struct sim_world *w, const struct sim_event *ev);

struct sim_event {
    double t;     /* true time it fires */
    uint64_t seq; /* insertion order: ties fire first-in first-out */
    sim_event_fn fn;
    int arg;      /* e.g. server index */
    uint64_t gen; /* poll timers: stale if the server's generation moved */
    size_t len;   /* packet bytes in buf */
    uint8_t buf[SIM_PKT_MAX];
};

/* Min-heap of events on (t, seq). */
struct sim_queue {
    struct sim_event *heap;
    size_t n, cap;
    uint64_t seq;
};

/* Empty queue; sim_queue_fini frees what it holds. */
void sim_queue_init(struct sim_queue *q);
void sim_queue_fini(struct sim_queue *q);
/* Insert a copy of ev (its seq is assigned here). */
void sim_queue_push(struct sim_queue *q, const struct sim_event *ev);
/* Remove the earliest event into *out; 0 if the queue was empty. */
int sim_queue_pop(struct sim_queue *q, struct sim_event *out);

/* The client's free-running oscillator: its phase against true time is a
 * constant offset, plus a frequency error integrated over time, the error
 * itself a random walk (wander) stepped on a fixed grid, plus jumps. */
struct sim_osc {
    double ppm;    /* frequency error without wander */
    double wander; /* random-walk sd, ppm per sqrt(s) */
    double grid;   /* s between wander steps */
    double t_grid; /* true time of the last grid point reached */
    double phase;  /* osc - true at t_grid, without jumps, s */
    double walk;   /* wander part of the frequency, ppm */
    double jumps;  /* sum of jumps so far, s */
    struct sim_rng rng;
};

/* Start at phase offset (s) with frequency error ppm and wander. */
void sim_osc_init(struct sim_osc *o, double offset, double ppm, double wander, struct sim_rng rng);
/* Oscillator - true time at t (s); t must not go back by more than a grid
 * step. with_jumps 0 gives the monotonic clock (jumps never reach it). */
double sim_osc_phase(struct sim_osc *o, double t, int with_jumps);
/* Present frequency error, ppm. */
double sim_osc_freq(const struct sim_osc *o);

enum sim_jitter { SIM_JIT_EXP, SIM_JIT_GAUSS };

struct sim_outage {
    double from, to; /* true time, every packet lost within */
};

/* A network path between the client and one server. */
struct sim_path {
    double out, back; /* one-way base delays, s (asymmetry: they differ) */
    enum sim_jitter kind;
    double jitter;     /* mean (EXP) or sd of |N| (GAUSS), s, each way */
    double spike_prob; /* chance a packet meets a queue */
    double spike_mean; /* extra delay then, exponential mean, s */
    double loss;       /* chance a packet is lost */
    struct sim_outage outage[SIM_MAX_OUTAGES];
    int noutages;
    struct sim_rng rng;
};

/* A LAN-like path: 0.25 ms each way, exponential jitter of mean jitter. */
void sim_path_lan(struct sim_path *p, double jitter, struct sim_rng rng);
/* Delay of a packet sent at t one way (back: server to client); negative
 * if the packet is lost. */
double sim_path_delay(struct sim_path *p, double t, int back);
/* Whether t falls in an outage. */
int sim_path_down(const struct sim_path *p, double t);

/* ---- sim_world.c: servers, the daemon, the event loop, figures ---- */

struct sim_server_cfg {
    double offset; /* the server clock's error, s (a falseticker's lie) */
    double ppm;    /* its frequency error (a drifting falseticker) */
    int kod;       /* rate-limit the client with RATE kisses */
    double jitter; /* LAN path jitter (sim_path_lan); the path may be
                    * edited afterwards through sim_world_path() */
    const char *opts; /* extra options on its `server` line, or NULL */
};

struct sim_client_cfg {
    double offset; /* oscillator phase at start, s (client ahead: > 0) */
    double ppm;    /* oscillator frequency error */
    double wander; /* ppm/sqrt(s) */
    int iburst;
    int minpoll, maxpoll;
    double initial_freq; /* the drift file, ppm (0: no drift file) */
    double makestep_threshold;
    int makestep_limit;
    const char *extra; /* more config lines for the daemon, or NULL */
};

/* Tracking of the client's error (clock - true time, sampled every
 * simulated second) over [from, to). */
struct sim_window {
    double from, to;
    double thr; /* "in sync": |error| <= thr */
    double sum2, maxabs;
    unsigned n;
    double last_out; /* last time |error| > thr, -1 if never */
};

/* The simulated kernel's clock (Linux semantics): CLOCK_MONOTONIC and
 * CLOCK_REALTIME both run at the oscillator's rate times tick/10000 +
 * freq (ADJ_TICK, ADJ_FREQUENCY); ADJ_SETOFFSET steps CLOCK_REALTIME only.
 * Times are kept relative to SIM_T0 so doubles keep sub-ns resolution. */
struct sim_kclock {
    double tb;      /* true time of the last re-base */
    double pb;      /* oscillator phase at tb */
    double mono_b;  /* CLOCK_MONOTONIC at tb, s */
    double real_b;  /* CLOCK_REALTIME - SIM_T0 at tb, s */
    long tick;      /* us per 1/100 s tick, 10000 nominal */
    long freq;      /* scaled ppm (16-bit fraction) */
    int status;     /* STA_* */
    long maxerror, esterror;
    unsigned steps; /* ADJ_SETOFFSET calls */
    unsigned leaps; /* leap seconds the kernel inserted or deleted */
    double leap_target; /* CLOCK_REALTIME (rel.) at which an armed leap acts */
    double max_step; /* the largest forward step, s (0: none) */
    unsigned adjusts; /* clock_adjtime calls that changed something */
};

#define SIM_MAX_SOCKS 48
#define SIM_SOCK_QUEUE 64

struct sim_dgram {
    uint8_t buf[SIM_PKT_MAX];
    size_t len;
    uint8_t from[16];
    uint16_t from_port;
    int family;
    struct timespec rx; /* CLOCK_REALTIME at arrival */
};

/* A UDP socket of the daemon in the simulated network. Its fd is a real
 * descriptor (of /dev/null) so that numbers never clash with the real
 * files and sockets the daemon also has. */
struct sim_sock {
    int fd; /* -1: free */
    int family;
    uint16_t port;
    int ts_flags; /* SO_TIMESTAMPING as set */
    struct sim_dgram q[SIM_SOCK_QUEUE];
    unsigned head, n;
};

struct sim_server;
struct service;

/* One answer the daemon served a downstream client (sim_world_downstream):
 * its times relative to SIM_T0 as the client reads them. */
struct sim_served {
    double t;        /* true time of the request (and of the answer: the
                      * client's path takes no time) */
    double utc;      /* true UTC then, relative to SIM_T0 (a leap second
                      * repeats or skips a second of it) */
    double rx, tx;   /* the reply's receive and transmit times */
    int leap;        /* its leap indicator */
    int stratum;
};

struct sim_world {
    double now; /* true time, s */
    struct sim_queue q;
    struct sim_osc osc;
    struct sim_kclock k;
    struct sim_sock socks[SIM_MAX_SOCKS];
    uint16_t next_port;
    struct sim_rng rand; /* getrandom() */
    double run_until;
    struct acl *acl;    /* allows everyone (shared by all servers) */
    struct service *sv; /* the daemon */
    struct sync *sync;  /* its system state, once started */
    char dir[64];       /* its config, drift file and control socket */
    struct sim_server *srv[SIM_MAX_SERVERS];
    int nsrv;
    struct sim_client_cfg ccfg;
    uint64_t seed;
    struct sim_window win[SIM_MAX_WINDOWS];
    int nwin;
    double err;         /* the client's error at the last tick */
    double max_err_all; /* over the whole run */
    unsigned samples, unknown_dst;
    double trace; /* TEMPUS_SIM_TRACE: print the error every so many s */
    double pause_from, pause_to; /* the VM is paused: the daemon does not
                                  * run, datagrams wait in the host */
    int utc_leap;       /* UTC has a leap second (+1 inserted, -1 deleted) at
                         * SIM_MIDNIGHT: servers step with it, the error is
                         * measured against UTC */
    int leap_announce;  /* servers announce it (leap indicator) that day */
    double exit_freq_err; /* kernel frequency left on exit - the base, ppm */
    long exit_tick;       /* kernel tick left on exit */
    void (*on_tick)(struct sim_world *w, void *arg);
    void *tick_arg;
    /* the downstream client (sim_world_downstream) */
    double down_from, down_every;
    uint16_t down_port;
    unsigned down_sent, down_answered;
    void (*on_served)(struct sim_world *w, const struct sim_served *s, void *arg);
    void *served_arg;
};

/* Defaults: no offset, no frequency error, quiet wander, iburst, poll
 * 6..10, no drift file, makestep 1 s in the first 3 updates. */
void sim_client_defaults(struct sim_client_cfg *c);
/* New world with the client configured; seed drives everything random. */
struct sim_world *sim_world_create(const struct sim_client_cfg *c, uint64_t seed);
/* Stop the daemon as on SIGTERM (service_close); the kernel state it
 * leaves is kept in exit_freq_err and exit_tick. */
void sim_world_stop(struct sim_world *w);
/* Stop the daemon if it runs, free the world, its servers and events. */
void sim_world_destroy(struct sim_world *w);
/* Add an upstream server at 127.0.1.(i+1) port 123 and a `server` line for
 * it in the daemon's config; returns its index i, which is also the
 * index of its source in the daemon's sync. */
int sim_world_add_server(struct sim_world *w, const struct sim_server_cfg *cfg);
/* The path to server i, to set delays, loss and outages. */
struct sim_path *sim_world_path(struct sim_world *w, int i);
/* The daemon's source for server i (after start). */
struct source *sim_world_source(struct sim_world *w, int i);
/* Start the daemon: write its config (`clock system`), install the
 * simulated kernel under sysio, and run service_open and service_start as
 * tempusd's main does. Call once after adding servers. */
void sim_world_start(struct sim_world *w);
/* A downstream client at 127.0.3.1 asks the daemon's server (its listener
 * on port, through its real socket path: netio, listener, server) for the
 * time every `every` true seconds from true time from (every 0.1 s within
 * 3 s of SIM_MIDNIGHT while a leap second is simulated), reading true UTC
 * as its own clock; fn gets every answer. The daemon's config must allow
 * 127.0.3.1 and serve on port. Call before sim_world_start. */
void sim_world_downstream(struct sim_world *w, uint16_t port, double from, double every,
                          void (*fn)(struct sim_world *w, const struct sim_served *s, void *arg),
                          void *arg);
/* True UTC at true time t, relative to SIM_T0 (with utc_leap, a second
 * repeated or skipped at SIM_MIDNIGHT). */
double sim_world_utc(const struct sim_world *w, double t);
/* Run the daemon's real event loop until true time t. */
void sim_world_run(struct sim_world *w, double t);
/* Track the error over [from, to) with sync threshold thr; returns the
 * window's index. */
int sim_world_window(struct sim_world *w, double from, double to, double thr);
/* RMS of the error over a window. */
double sim_window_rms(const struct sim_window *win);
/* Seconds from the window's start until the error stayed within thr. */
double sim_window_settle(const struct sim_window *win);
/* The daemon's clock reading (CLOCK_REALTIME) as a timespec. */
void sim_world_client_now(struct sim_world *w, struct timespec *out);
/* Server i's clock is stepped by s seconds now (its operator fixed it). */
void sim_world_server_step(struct sim_world *w, int i, double s);
/* CLOCK_REALTIME jumps by s seconds now (a VM resumed); the monotonic
 * clock does not. */
void sim_world_jump(struct sim_world *w, double s);
/* Kernel frequency (ppm, tick included) that exactly cancels the
 * oscillator now. */
double sim_world_ideal_freq(const struct sim_world *w);
/* Kernel frequency now, ppm (tick included). */
double sim_world_kernel_freq(const struct sim_world *w);

/* ---- sim_kernel.c: the simulated kernel under sysio ---- */

/* Install w's simulated kernel as the daemon's system calls (NULL: the
 * real ones again). */
void sim_kernel_install(struct sim_world *w);
/* The kernel clocks at true time w->now, relative to SIM_T0 (realtime). */
double sim_kernel_real(struct sim_world *w);
double sim_kernel_mono(struct sim_world *w);
/* Re-base the kernel clock at w->now (before any change of its rate). */
void sim_kernel_rebase(struct sim_world *w);
/* Deliver a datagram from addr:port (16 bytes, IPv4 in the first 4) to the
 * daemon's socket bound to dst_port; 0, or -1 if no socket takes it. */
int sim_kernel_deliver(struct sim_world *w, uint16_t dst_port, const uint8_t *from, uint16_t port,
                       const uint8_t *buf, size_t len);
/* A datagram the daemon sent to addr:port (server side); the world routes
 * it. Provided by sim_world.c. */
void sim_world_route(struct sim_world *w, uint16_t src_port, const uint8_t *to, uint16_t port,
                     const uint8_t *buf, size_t len);
/* An ADJ_STATUS call armed (or disarmed) a leap second: the world times
 * the kernel's insertion or deletion at the coming midnight of the
 * simulated CLOCK_REALTIME. Provided by sim_world.c. */
void sim_world_kernel_leap(struct sim_world *w);
/* Run the world's events up to true time t, stopping early (returning 1)
 * when a datagram reaches one of the daemon's sockets. Provided by
 * sim_world.c. */
int sim_world_advance(struct sim_world *w, double t);

/* ---- sim_scenarios.c ---- */

struct sim_result {
    char text[320]; /* figures and bounds */
    int pass;
};

struct sim_scenario {
    const char *name;
    void (*run)(uint64_t seed, struct sim_result *res);
};

/* The scenario table, terminated by a NULL name. */
extern const struct sim_scenario sim_scenarios[];

/* ---- sim_refclock.c: a GPS receiver with PPS, and its scenarios ---- */

/* Figures of a scenario's result line (sim_scenarios.c): text appended
 * to res->text; a figure out of its bound clears res->pass and is marked
 * with '!'. */
void sim_add(struct sim_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Microseconds (v and bound in s) at or below bound. */
void sim_fig_us(struct sim_result *res, const char *name, double v, double bound);
/* Seconds at or below bound. */
void sim_fig_s(struct sim_result *res, const char *name, double v, double bound);
/* A frequency error (ppm) whose magnitude stays within bound. */
void sim_fig_ppm(struct sim_result *res, const char *name, double v, double bound);
/* A count in [lo, hi]. */
void sim_fig_n(struct sim_result *res, const char *name, long v, long lo, long hi);
void sim_refclock_gps_pps(uint64_t seed, struct sim_result *res);
void sim_refclock_pps_unlocked(uint64_t seed, struct sim_result *res);
void sim_refclock_leap(uint64_t seed, struct sim_result *res);

/* ---- sim_selftest.c ---- */

/* Check the simulator's own parts (queue order, oscillator integration,
 * path statistics, a server answering through a path). */
void sim_selftest(uint64_t seed, struct sim_result *res);

#endif
