/* SPDX-License-Identifier: ISC */
/* A GPS receiver with a PPS output, for the whole-daemon simulator. At
 * every true second (the world's tick) the PPS edge is stamped by the
 * simulated kernel's CLOCK_REALTIME with a little interrupt jitter and
 * kept for PPS_FETCH, which the daemon's refclock PPS driver makes through
 * its ops seam (refclock_pps_set_ops) on /dev/simppsN; and, unless the
 * receiver is silent, the NMEA time of that second (late by a bias, with
 * jitter) goes to the daemon's `refclock SOCK` socket as gpsd would send
 * it, stamped by the same clock. So `lock`, edge numbering, the filter and
 * the discipline run as in the daemon. */
#include <errno.h>
#include <fcntl.h>
#include <linux/pps.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "refclock_drv.h"
#include "sim.h"

#define US 1e-6
#define HOUR 3600.0

struct sim_gps {
    int nmea;           /* send SOCK samples */
    double nmea_bias;   /* NMEA time read this late, s */
    double nmea_jitter; /* sd, s */
    double pps_jitter;  /* sd of the kernel's stamp of the edge, s */
    int leap;           /* announced (1 insert, 2 delete) until SIM_MIDNIGHT */
    struct sim_rng rng;
    int fd;
    char path[96]; /* w->dir (64) and the name */
    char extra[512]; /* the daemon's refclock lines (w->ccfg.extra) */
    long long edge_sec;
    long edge_nsec;
    unsigned seq;
    int mode;
    unsigned sent;
};

/* The PPS ops have no context: the one receiver of the running world. */
static struct sim_gps *gps_cur;

static int pps_open(const char *path, int flags)
{
    (void)flags;
    if (strncmp(path, "/dev/simpps", 11) != 0) {
        errno = ENOENT;
        return -1;
    }
    return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static int pps_ioctl(int fd, unsigned long req, void *arg)
{
    struct sim_gps *g = gps_cur;
    (void)fd;
    if (req == PPS_GETCAP) {
        *(int *)arg = PPS_CAPTUREBOTH | PPS_TSFMT_TSPEC | PPS_CANWAIT;
    } else if (req == PPS_GETPARAMS) {
        memset(arg, 0, sizeof(struct pps_kparams));
        ((struct pps_kparams *)arg)->mode = g->mode;
    } else if (req == PPS_SETPARAMS) {
        g->mode = ((struct pps_kparams *)arg)->mode;
    } else if (req == PPS_FETCH) {
        struct pps_fdata *f = arg;
        memset(&f->info, 0, sizeof(f->info));
        f->info.assert_sequence = g->seq;
        f->info.assert_tu.sec = g->edge_sec;
        f->info.assert_tu.nsec = (int)g->edge_nsec;
    } else {
        errno = ENOTTY;
        return -1;
    }
    return 0;
}

static const struct refclock_pps_ops sim_pps_ops = {pps_open, pps_ioctl, close};

/* A time relative to SIM_T0 as an absolute timespec, truncated to us as a
 * struct timeval would be; *trunc gets what was kept, relative. */
static struct timespec abs_us(double rel, double *trunc)
{
    double whole = floor(rel), us = floor((rel - whole) * 1e6);
    *trunc = whole + us * 1e-6;
    return (struct timespec){.tv_sec = (time_t)(SIM_T0 + whole), .tv_nsec = (long)us * 1000};
}

static void gps_tick(struct sim_world *w, void *arg)
{
    struct sim_gps *g = arg;
    double real = sim_kernel_real(w); /* the second's edge, on our clock */
    double stamp = real + g->pps_jitter * sim_rng_gauss(&g->rng);
    double whole = floor(stamp);

    g->edge_sec = (long long)SIM_T0 + (long long)whole;
    g->edge_nsec = (long)((stamp - whole) * 1e9);
    g->seq++;
    if (!g->nmea)
        return;
    double tv_rel;
    struct timespec tv = abs_us(real, &tv_rel);
    /* The receiver names the second of UTC (which repeats or skips one
     * with a leap second) at w->now, read late by the bias. */
    double utc = sim_world_utc(w, w->now);
    double off = utc - tv_rel - g->nmea_bias + g->nmea_jitter * sim_rng_gauss(&g->rng);
    unsigned char buf[128];
    size_t n = refclock_sock_encode(&tv, off, 0, w->now < SIM_MIDNIGHT ? g->leap : 0, buf);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", g->path);
    if (sendto(g->fd, buf, n, 0, (struct sockaddr *)&sun, sizeof(sun)) == (ssize_t)n)
        g->sent++;
}

/* A receiver for w; the daemon's config lines for it go into extra. */
static struct sim_gps *gps_create(struct sim_world *w, int nmea, uint64_t seed)
{
    struct sim_gps *g = calloc(1, sizeof(*g));
    if (!g)
        abort();
    g->nmea = nmea;
    g->nmea_bias = 0.050;
    g->nmea_jitter = 0.005;
    g->pps_jitter = 1 * US;
    sim_rng_seed(&g->rng, seed, 0x505053);
    snprintf(g->path, sizeof(g->path), "%s/gps.sock", w->dir);
    g->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    gps_cur = g;
    refclock_pps_set_ops(&sim_pps_ops);
    w->on_tick = gps_tick;
    w->tick_arg = g;
    return g;
}

static void gps_destroy(struct sim_gps *g)
{
    refclock_pps_set_ops(NULL);
    gps_cur = NULL;
    close(g->fd);
    free(g);
}

/* A world whose clock starts 0.3 s off and 15 ppm fast (makestep 0.1 s)
 * with a receiver (NMEA sent or not) and the daemon's refclock lines: GPS
 * on SOCK (noselect: it only numbers seconds), a PPS locked to it with
 * pps_opts, then more lines. */
static struct sim_world *gps_world(uint64_t seed, int nmea, const char *pps_opts,
                                   const char *more, struct sim_gps **gp)
{
    struct sim_client_cfg c;

    sim_client_defaults(&c);
    c.offset = 0.3;
    c.ppm = 15.0;
    c.makestep_threshold = 0.1;
    struct sim_world *w = sim_world_create(&c, seed);
    struct sim_gps *g = gps_create(w, nmea, seed);
    snprintf(g->extra, sizeof(g->extra),
             "refclock SOCK %s refid GPS poll 2 noselect\n"
             "refclock PPS /dev/simpps0 refid PPS lock GPS poll 2%s%s",
             g->path, pps_opts, more);
    w->ccfg.extra = g->extra;
    *gp = g;
    return w;
}

static void source_info(struct sim_world *w, int i, struct sync_source_info *si)
{
    struct timespec now;
    sim_world_client_now(w, &now);
    sync_get_source(w->sync, i, &now, si);
}

/* GPS (SOCK, noselect: 50 ms late with 5 ms jitter, as NMEA is) numbers
 * the seconds of a PPS (1 us jitter) that disciplines the clock, started
 * 0.3 s off and 15 ppm fast: stepped once, then within a few us. */
void sim_refclock_gps_pps(uint64_t seed, struct sim_result *res)
{
    struct sync_state st;
    struct timespec now;
    struct sim_gps *g;

    struct sim_world *w = gps_world(seed, 1, " prefer", "", &g);
    int late = sim_world_window(w, 1 * HOUR, 6 * HOUR, 10 * US);
    sim_world_start(w);
    sim_world_run(w, 6 * HOUR);
    sim_world_client_now(w, &now);
    sync_get_state(w->sync, &now, &st);
    struct sync_source_info pps;
    source_info(w, 1, &pps);
    sim_fig_us(res, "rms1-6h", sim_window_rms(&w->win[late]), 2 * US);
    sim_fig_us(res, "max1-6h", w->win[late].maxabs, 8 * US);
    sim_fig_n(res, "steps", st.disc.steps, 1, 1);
    sim_fig_n(res, "peer_is_pps", st.synced && st.system_peer == 1, 1, 1);
    sim_fig_n(res, "stratum", st.stratum, 1, 1);
    sim_add(res, "nmea=%u", g->sent);
    sim_world_destroy(w);
    gps_destroy(g);
}

/* The same PPS with its lock refclock silent (gpsd sends nothing), and a
 * second PPS without lock: neither may discipline the clock, which runs
 * free (its 15 ppm and 0.3 s stay: not stepped, never synchronised). */
void sim_refclock_pps_unlocked(uint64_t seed, struct sim_result *res)
{
    struct sync_state st;
    struct timespec now;
    struct sim_gps *g;

    struct sim_world *w =
        gps_world(seed, 0, "", "\nrefclock PPS /dev/simpps1 refid PPS1 poll 2", &g);
    sim_world_start(w);
    sim_world_run(w, 1 * HOUR);
    sim_world_client_now(w, &now);
    sync_get_state(w->sync, &now, &st);
    struct sync_source_info locked, lone;
    source_info(w, 1, &locked);
    source_info(w, 2, &lone);
    sim_fig_n(res, "synced", st.synced, 0, 0);
    sim_fig_n(res, "steps", st.disc.steps, 0, 0);
    sim_fig_n(res, "pps_samples", (long)(locked.est.received + lone.est.received), 0, 0);
    sim_fig_n(res, "edges", (long)g->seq, 3000, 1000000);
    /* free-running: 0.3 s plus 15 ppm of an hour, within 10 ms */
    double free_run = 0.3 + 15e-6 * HOUR;
    int ok = fabs(w->err - free_run) < 0.01;
    sim_add(res, "error=%.4fs(~%.4f)%s", w->err, free_run, ok ? "" : "!");
    res->pass &= ok;
    sim_world_destroy(w);
    gps_destroy(g);
}

/* The receiver announces a leap second (as gpsd passes on the navigation
 * message's) on its day, and UTC inserts it at midnight: the leap is the
 * refclock's (tracking's leap source), the kernel inserts it once
 * (leapmode system), and the clock keeps within microseconds of UTC
 * after it. */
void sim_refclock_leap(uint64_t seed, struct sim_result *res)
{
    struct sync_state st;
    struct timespec now;
    struct sim_gps *g;

    struct sim_world *w = gps_world(seed, 1, " prefer", "", &g);
    w->utc_leap = 1;
    g->leap = 1;
    int after = sim_world_window(w, SIM_MIDNIGHT + 60.0, SIM_MIDNIGHT + HOUR, 10 * US);
    sim_world_start(w);
    sim_world_run(w, SIM_MIDNIGHT - HOUR);
    sim_world_client_now(w, &now);
    sync_get_state(w->sync, &now, &st);
    int from_gps = st.leap_pending == 1 && strcmp(st.leap_source, "refclock") == 0;
    sim_add(res, "source=%s ", st.leap_source);
    sim_fig_n(res, "pending", from_gps, 1, 1);
    sim_world_run(w, SIM_MIDNIGHT + HOUR);
    sim_world_client_now(w, &now);
    sync_get_state(w->sync, &now, &st);
    sim_fig_n(res, "kernel_leaps", (long)w->k.leaps, 1, 1);
    sim_fig_n(res, "steps", st.disc.steps, 1, 1);
    sim_fig_us(res, "max_after", w->win[after].maxabs, 20 * US);
    sim_fig_n(res, "peer_is_pps", st.synced && st.system_peer == 1, 1, 1);
    sim_world_destroy(w);
    gps_destroy(g);
}
