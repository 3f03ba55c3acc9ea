/* SPDX-License-Identifier: ISC */
/* tempusd: parse options, start the service, run the loop, shut down. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "mem.h"
#include "sched.h"
#include "service.h"
#include "version.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: tempusd [-d] [-n] [-f FILE]\n"
                 "  -f FILE  configuration file (default " TEMPUS_DEFAULT_CONF ")\n"
                 "  -n       check the configuration and exit (0: valid, 1: errors)\n"
                 "  -d       stay in the foreground and log to stderr\n"
                 "  -h       show this help\n"
                 "  -V       show the version\n");
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
        printf("%s: configuration OK\n", path);
        conf_free(conf);
        return 0;
    }
    /* Sockets open before the fork so that errors reach the terminal; the
     * resolver threads start after it, since fork keeps only one thread. */
    /* A copy: reload replaces (and frees) the config this came from. */
    char *pidfile = conf->pidfile ? mem_strdup(conf->pidfile) : NULL;
    struct service *sv = service_open(conf, foreground);
    if (!foreground)
        daemonize();
    if (pidfile)
        write_pidfile(pidfile);
    service_start(sv);
    int rc = sched_run();
    if (pidfile)
        unlink(pidfile);
    free(pidfile);
    service_close(sv);
    log_fini();
    return rc == 0 ? 0 : 1;
}
