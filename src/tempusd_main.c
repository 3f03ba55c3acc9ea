/* SPDX-License-Identifier: ISC */
/* tempusd: parse options, start the service, run the loop, shut down. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "ctl_proto.h"
#include "lint.h"
#include "log.h"
#include "mem.h"
#include "privdrop.h"
#include "sandbox.h"
#include "sched.h"
#include "service.h"
#include "version.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: tempusd [-d] [-n] [-f FILE]\n"
                 "  -f FILE  configuration file (default " TEMPUS_DEFAULT_CONF ")\n"
                 "  -n       check the configuration, audit it, exit (0: valid, 1: errors)\n"
                 "  -d       stay in the foreground and log to stderr\n"
                 "  -h       show this help\n"
                 "  -V       show the version\n");
}

/* -n: what the daemon would refuse (service_check, the path service_open
 * takes) fails it with the reasons as file:line (1). A valid config: say
 * so, then print what the deployment audit finds (tempusctl lint's
 * findings). Advice only: the exit status stays 0, since the service unit
 * runs -n before every start and a deliberate choice such as a public
 * server's `allow all` must not keep the daemon down; a gate that should
 * fail on findings runs `tempusctl lint`. Output that cannot be written
 * does fail it (1). */
static int check_config(const char *path, const struct conf *conf)
{
    struct lint_report r;
    struct ctl_buf out;
    int rc = 0;

    log_set(LOG_TO_STDERR, LOG_LVL_ERR); /* the key parser's warnings are findings too */
    if (service_check(conf, stderr) < 0)
        return 1;
    printf("%s: configuration OK\n", path);
    lint_report_init(&r, path);
    lint_conf(conf, &r);
    ctl_buf_init(&out, CTL_MAX_REPLY);
    lint_format(&r, &out);
    if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
        log_warn("-n: writing the report");
        rc = 1;
    }
    ctl_buf_free(&out);
    lint_report_free(&r);
    return rc;
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
    if (dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
        dup2(fd, STDERR_FILENO) < 0)
        fatal("dup2 /dev/null");
    if (fd > STDERR_FILENO)
        close(fd);
}

int main(int argc, char **argv)
{
    const char *path = TEMPUS_DEFAULT_CONF;
    int check = 0, foreground = 0, opt;

    log_init("tempusd", LOG_TO_STDERR, LOG_LVL_INFO);
    while ((opt = getopt(argc, argv, "f:ndhV")) != -1) {
        switch (opt) {
        case 'f': path = optarg; break;
        case 'n': check = 1; break;
        case 'd': foreground = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("tempusd %s\n", TEMPUS_VERSION); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 1;
    }
    struct conf *conf = conf_load(path, stderr);
    if (!conf)
        return 1;
    if (check) {
        int rc = check_config(path, conf);
        conf_free(conf);
        return rc;
    }
    log_set_timestamps(1); /* the daemon's log lines, in the foreground or not */
    /* Sockets open before the fork so that errors reach the terminal; the
     * resolver threads start after it, since fork keeps only one thread. */
    /* A copy: reload replaces (and frees) the config this came from. */
    char *pidfile = conf->pidfile ? mem_strdup(conf->pidfile) : NULL;
    struct service *sv = service_open(conf, foreground);
    if (!foreground)
        daemonize();
    if (pidfile)
        write_pidfile(pidfile);
    /* Everything privileged is open: drop to `user`, then confine before
     * service_start so that every resolver thread inherits the filter. The
     * config is still the one service_open took (no reload has run yet). */
    privdrop_apply(conf);
    sandbox_apply(conf);
    service_start(sv);
    int rc = sched_run();
    if (pidfile)
        unlink(pidfile);
    free(pidfile);
    service_close(sv);
    log_fini();
    return rc == 0 ? 0 : 1;
}
