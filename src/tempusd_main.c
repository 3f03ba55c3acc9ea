/* SPDX-License-Identifier: ISC */
/* tempusd: start the modules in order, run the loop, shut down. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "acl.h"
#include "clock.h"
#include "conf.h"
#include "listener.h"
#include "log.h"
#include "ntp_wire.h"
#include "ratelimit.h"
#include "sched.h"
#include "server.h"
#include "version.h"

/* How often the local reference is refreshed: clients see a recent
 * reference time, as from a source polled every 16 s. */
#define LOCAL_REF_INTERVAL 16.0

struct daemon {
    struct conf *conf;
    struct clock *clk;
    struct acl *acl;
    struct ratelimit *rl;
    struct server *srv;
    struct listener *lis;
    int foreground;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: tempusd [-d] [-n] [-f FILE]\n"
                 "  -f FILE  configuration file (default " TEMPUS_DEFAULT_CONF ")\n"
                 "  -n       check the configuration and exit (0: valid, 1: errors)\n"
                 "  -d       stay in the foreground and log to stderr\n"
                 "  -h       show this help\n"
                 "  -V       show the version\n");
}

static uint64_t random_seed(void)
{
    uint64_t seed;
    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
        fatal("getrandom");
    return seed;
}

static struct acl *build_acl(const struct conf *conf)
{
    struct acl *acl = acl_create();
    for (unsigned i = 0; i < conf->n_acl; i++)
        if (acl_add(acl, conf->acl[i].spec, conf->acl[i].allow) < 0)
            fatalx("%s:%u: bad subnet '%s'", conf->path, conf->acl[i].line, conf->acl[i].spec);
    return acl;
}

static struct clock *build_clock(const struct conf *conf)
{
    if (conf->clock == CONF_CLOCK_VIRTUAL)
        return clock_virtual_create(conf->clock_offset, conf->clock_freq_ppm);
    return clock_system_create();
}

/* With `local stratum N` the local clock is the reference; without it, and
 * until upstream sources exist, we advertise that we are unsynchronised. */
static void refresh_local_ref(void *arg)
{
    struct daemon *d = arg;
    struct server_ref ref = {0};

    if (d->conf->local_stratum > 0) {
        ref.synced = 1;
        ref.leap = NTP_LEAP_NONE;
        ref.stratum = d->conf->local_stratum;
        ref.refid = ntp_wire_refid_ascii("LOCL");
        clock_now(d->clk, &ref.ref_time);
        sched_add_timer(LOCAL_REF_INTERVAL, refresh_local_ref, d);
    }
    server_set_ref(d->srv, &ref);
}

static void abuse_summary(void *arg)
{
    struct daemon *d = arg;
    server_log_abuse(d->srv);
    sched_add_timer(d->conf->abuselog_interval, abuse_summary, d);
}

static void on_quit(int signo, void *arg)
{
    (void)arg;
    log_info("signal %d: shutting down", signo);
    sched_quit();
}

static void on_usr1(int signo, void *arg)
{
    struct daemon *d = arg;
    (void)signo;
    server_log_stats(d->srv);
}

static void on_hup(int signo, void *arg)
{
    (void)signo, (void)arg;
    log_warnx("SIGHUP: configuration reload is not implemented yet; ignored");
}

static void write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        fatal("pidfile %s", path);
    fprintf(f, "%ld\n", (long)getpid());
    if (fclose(f) != 0)
        fatal("pidfile %s", path);
}

static void daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0)
        fatal("fork");
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        fatal("setsid");
    if (chdir("/") < 0)
        fatal("chdir /");
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0)
        fatal("/dev/null");
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO)
        close(fd);
}

static void daemon_start(struct daemon *d)
{
    struct conf *conf = d->conf;

    log_set(d->foreground ? LOG_TO_STDERR : conf->log_target, conf->log_level);
    d->clk = build_clock(conf);
    d->acl = build_acl(conf);
    d->rl = ratelimit_create(&conf->ratelimit, random_seed());
    d->srv = server_create(d->acl, d->rl, clock_precision(d->clk));
    sched_init();
    d->lis = listener_open(conf, d->srv, d->clk);
    if (!d->lis)
        fatalx("cannot serve: no socket open");
    refresh_local_ref(d);
    if (conf->abuselog_interval)
        sched_add_timer(conf->abuselog_interval, abuse_summary, d);
    sched_on_signal(SIGTERM, on_quit, d);
    sched_on_signal(SIGINT, on_quit, d);
    sched_on_signal(SIGHUP, on_hup, d);
    sched_on_signal(SIGUSR1, on_usr1, d);
    signal(SIGPIPE, SIG_IGN);
    log_info("tempusd %s serving on port %u with %u socket(s), clock %s, precision 2^%d s",
             TEMPUS_VERSION, conf->port, listener_count(d->lis), clock_name(d->clk),
             clock_precision(d->clk));
}

static void daemon_stop(struct daemon *d)
{
    server_log_abuse(d->srv);
    server_log_stats(d->srv);
    listener_close(d->lis);
    sched_fini();
    server_destroy(d->srv);
    ratelimit_destroy(d->rl);
    acl_destroy(d->acl);
    clock_destroy(d->clk);
    if (d->conf->pidfile)
        unlink(d->conf->pidfile);
    conf_free(d->conf);
    log_info("stopped");
    log_fini();
}

int main(int argc, char **argv)
{
    struct daemon d = {0};
    const char *path = TEMPUS_DEFAULT_CONF;
    int check = 0, opt;

    log_init("tempusd", LOG_TO_STDERR, LOG_LVL_INFO);
    while ((opt = getopt(argc, argv, "f:ndhV")) != -1) {
        switch (opt) {
        case 'f': path = optarg; break;
        case 'n': check = 1; break;
        case 'd': d.foreground = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("tempusd %s\n", TEMPUS_VERSION); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 1;
    }
    d.conf = conf_load(path, stderr);
    if (!d.conf)
        return 1;
    if (check) {
        printf("%s: configuration OK\n", path);
        conf_free(d.conf);
        return 0;
    }
    /* Sockets open before the fork, so bind errors reach the terminal. */
    daemon_start(&d);
    if (!d.foreground)
        daemonize();
    if (d.conf->pidfile)
        write_pidfile(d.conf->pidfile);
    int rc = sched_run();
    daemon_stop(&d);
    return rc == 0 ? 0 : 1;
}
