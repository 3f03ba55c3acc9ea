/* SPDX-License-Identifier: ISC */
/* gpsplay: plays gpsd for the refclock system tests. A simulated receiver
 * whose true time is this machine's CLOCK_REALTIME (a tempusd with `clock
 * virtual` runs off it, so it must find its way back to it) hands a sample
 * to tempusd every interval, the way gpsd does:
 *
 *   gpsplay [--sock PATH] [--shm UNIT] [--seconds S] [--interval S]
 *           [--offset S] [--noise S] [--outage START:LEN] [--leap 0|1|2|3]
 *           [--pulse] [--seed N]
 *
 *   --sock PATH   send chrony-style SOCK samples to the datagram socket
 *   --shm UNIT    write the SHM segment of key 0x4e545030 + UNIT (mode 1:
 *                 count, fields, count, then valid, as gpsd does)
 *   --offset S    the receiver reports true time + S (a constant error)
 *   --noise S     Gaussian noise of S s RMS on each sample
 *   --outage A:L  send nothing from second A for L seconds
 *   --leap N      the leap indicator each sample carries (1: a leap second
 *                 will be inserted; 3: no fix)
 *   --pulse       SOCK samples are pulses: only the fraction of a second
 *
 * Prints one line per second sent ("sent N") and a final tally. Exit status
 * 0 if every sample went out. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "refclock_drv.h"
#include "timefmt.h"

struct opts {
    const char *sock;
    int shm_unit;
    double seconds, interval, offset, noise, outage_at, outage_len;
    int leap, pulse;
    uint64_t seed;
};

static uint64_t rng_state;

static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return ((double)(rng_state >> 11) + 0.5) * 0x1p-53;
}

/* Box-Muller: one standard normal deviate. */
static double gauss(void)
{
    return sqrt(-2.0 * log(uniform())) * cos(2.0 * M_PI * uniform());
}

/* A whole decimal number (or any number with real) into *out: 0, or -1. */
static int num(const char *s, double *out, int real)
{
    char *end;
    errno = 0;
    *out = real ? strtod(s, &end) : (double)strtol(s, &end, 10);
    return errno == 0 && end != s && *end == '\0' && isfinite(*out) ? 0 : -1;
}

/* --outage A:L */
static int outage(const char *v, struct opts *o)
{
    char a[64];
    const char *colon = strchr(v, ':');
    if (!colon || (size_t)(colon - v) >= sizeof(a))
        return -1;
    memcpy(a, v, (size_t)(colon - v));
    a[colon - v] = '\0';
    return num(a, &o->outage_at, 1) < 0 || num(colon + 1, &o->outage_len, 1) < 0 ? -1 : 0;
}

static int option(const char *a, const char *v, struct opts *o)
{
    double x = 0.0;
    int bad = 0;

    if (strcmp(a, "--sock") == 0)
        o->sock = v;
    else if (strcmp(a, "--outage") == 0)
        return outage(v, o);
    else if (strcmp(a, "--shm") == 0 || strcmp(a, "--leap") == 0 || strcmp(a, "--seed") == 0) {
        bad = num(v, &x, 0);
        if (a[2] == 's' && a[3] == 'h')
            o->shm_unit = (int)x;
        else if (a[2] == 'l')
            o->leap = (int)x;
        else
            o->seed = (uint64_t)x;
    } else {
        bad = num(v, &x, 1);
        if (strcmp(a, "--seconds") == 0)
            o->seconds = x;
        else if (strcmp(a, "--interval") == 0)
            o->interval = x;
        else if (strcmp(a, "--offset") == 0)
            o->offset = x;
        else if (strcmp(a, "--noise") == 0)
            o->noise = x;
        else
            bad = 1;
    }
    return bad ? -1 : 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.shm_unit = -1, .seconds = 60, .interval = 1.0, .seed = 1};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--pulse") == 0) {
            o->pulse = 1;
            continue;
        }
        if (i + 1 >= argc || option(argv[i], argv[i + 1], o) < 0)
            return -1;
        i++;
    }
    if ((!o->sock && o->shm_unit < 0) || o->interval <= 0.0 || o->leap < 0 || o->leap > 3 ||
        o->shm_unit > 255)
        return -1;
    return 0;
}

/* The receiver's time for a reading at sys. */
static double reading(const struct opts *o)
{
    return o->offset + (o->noise > 0.0 ? o->noise * gauss() : 0.0);
}

static void write_shm(volatile struct refclock_shm_time *seg, const struct timespec *sys,
                      double off, int leap)
{
    struct timespec ref = *sys;
    timefmt_timespec_add(&ref, off);
    seg->mode = 1;
    seg->valid = 0;
    seg->count++;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    seg->clock_sec = ref.tv_sec;
    seg->clock_usec = (int)(ref.tv_nsec / 1000);
    seg->clock_nsec = (unsigned)ref.tv_nsec;
    seg->receive_sec = sys->tv_sec;
    seg->receive_usec = (int)(sys->tv_nsec / 1000);
    seg->receive_nsec = (unsigned)sys->tv_nsec;
    seg->leap = leap;
    seg->precision = -20;
    seg->nsamples = 3;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    seg->count++;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    seg->valid = 1;
}

static int send_sock(int fd, const char *path, const struct timespec *sys, double off,
                     const struct opts *o)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    unsigned char buf[128];
    size_t n;

    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    struct timespec tv = *sys;
    if (o->pulse) {
        /* A pulse is stamped at the edge, when the receiver's time is a
         * whole second; its offset is known only modulo a second. */
        double ref_frac = fmod((double)sys->tv_nsec * 1e-9 + off + 1e6, 1.0);
        timefmt_timespec_add(&tv, -ref_frac);
        off -= round(off);
    }
    n = refclock_sock_encode(&tv, off, o->pulse, o->leap, buf);
    return sendto(fd, buf, n, 0, (struct sockaddr *)&sun, sizeof(sun)) == (ssize_t)n ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct opts o;
    volatile struct refclock_shm_time *seg = NULL;
    int fd = -1;
    unsigned long sent = 0, failed = 0;

    if (parse(argc, argv, &o) < 0) {
        fprintf(stderr, "usage: gpsplay [--sock PATH] [--shm UNIT] [--seconds S] [--interval S] "
                        "[--offset S] [--noise S] [--outage A:L] [--leap N] [--pulse] "
                        "[--seed N]\n");
        return 2;
    }
    rng_state = o.seed * 0x9e3779b97f4a7c15ULL + 1;
    if (o.shm_unit >= 0) {
        seg = refclock_shm_attach(REFCLOCK_SHM_KEY + o.shm_unit, 0666, "gpsplay", stderr);
        if (!seg)
            return 1;
    }
    if (o.sock && (fd = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0) {
        perror("gpsplay: socket");
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (long k = 0; (double)k * o.interval < o.seconds; k++) {
        double t = (double)k * o.interval;
        struct timespec sys;
        clock_gettime(CLOCK_REALTIME, &sys);
        int out = t >= o.outage_at && t < o.outage_at + o.outage_len && o.outage_len > 0;
        if (!out) {
            double off = reading(&o);
            if (seg)
                write_shm(seg, &sys, off, o.leap);
            if (fd >= 0 && send_sock(fd, o.sock, &sys, off, &o) < 0) {
                failed++;
                fprintf(stderr, "gpsplay: send to %s: %s\n", o.sock, strerror(errno));
            }
            printf("sent %lu\n", ++sent);
        }
        struct timespec d = {.tv_sec = (time_t)o.interval,
                             .tv_nsec = (long)(fmod(o.interval, 1.0) * 1e9)};
        nanosleep(&d, NULL);
    }
    printf("gpsplay: %lu samples sent, %lu failed\n", sent, failed);
    refclock_shm_detach(seg);
    if (fd >= 0)
        close(fd);
    return failed ? 1 : 0;
}
