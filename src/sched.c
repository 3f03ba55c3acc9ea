/* SPDX-License-Identifier: ISC */
#include "sched.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "maxima.h"
#include "mem.h"
#include "sysio.h"

#define SCHED_MAX_FDS MAXIMA_SCHED_FDS
#define SCHED_MAX_SIGNALS 8

struct sched_fd {
    int fd;
    int want_write;
    sched_fd_fn fn;
    void *arg;
};

struct sched_timer {
    uint64_t id;
    int64_t due_ns;
    sched_timer_fn fn;
    void *arg;
};

struct sched_sig {
    int signo;
    sched_signal_fn fn;
    void *arg;
};

static struct sched_fd fds[SCHED_MAX_FDS];
static unsigned n_fds;
static struct sched_timer *timers;
static unsigned n_timers, cap_timers;
static uint64_t next_timer_id = 1;
static struct sched_sig sigs[SCHED_MAX_SIGNALS];
static unsigned n_sigs;
static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t quit_flag;
static int64_t wake_ns;

int64_t sched_mono_ns(void)
{
    struct timespec ts;
    sysio_clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t sched_wake_ns(void)
{
    return wake_ns;
}

static void sched_signal_handler(int signo)
{
    int saved = errno;
    unsigned char b = (unsigned char)signo;
    if (write(sig_pipe[1], &b, 1) < 0) {
        /* The pipe is full: signals are already pending, nothing is lost. */
    }
    errno = saved;
}

static void sched_signal_read(int fd, void *arg)
{
    unsigned char buf[32];
    ssize_t n;
    (void)arg;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++)
            for (unsigned s = 0; s < n_sigs; s++)
                if (sigs[s].signo == buf[i])
                    sigs[s].fn(buf[i], sigs[s].arg);
    }
}

void sched_init(void)
{
    n_fds = n_timers = n_sigs = 0;
    quit_flag = 0;
    if (pipe(sig_pipe) < 0)
        fatal("pipe");
    for (int i = 0; i < 2; i++) {
        fcntl(sig_pipe[i], F_SETFL, fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    sched_add_fd(sig_pipe[0], sched_signal_read, NULL);
    wake_ns = sched_mono_ns();
}

void sched_fini(void)
{
    for (unsigned s = 0; s < n_sigs; s++)
        signal(sigs[s].signo, SIG_DFL);
    for (int i = 0; i < 2; i++)
        if (sig_pipe[i] >= 0)
            close(sig_pipe[i]);
    sig_pipe[0] = sig_pipe[1] = -1;
    free(timers);
    timers = NULL;
    n_fds = n_timers = cap_timers = n_sigs = 0;
}

int sched_add_fd(int fd, sched_fd_fn fn, void *arg)
{
    if (n_fds == SCHED_MAX_FDS)
        return -1;
    fds[n_fds++] = (struct sched_fd){fd, 0, fn, arg};
    return 0;
}

void sched_want_write(int fd, int on)
{
    for (unsigned i = 0; i < n_fds; i++)
        if (fds[i].fd == fd)
            fds[i].want_write = on;
}

void sched_remove_fd(int fd)
{
    for (unsigned i = 0; i < n_fds; i++) {
        if (fds[i].fd == fd) {
            /* Mark now, compact after dispatch, so a running scan stays valid. */
            fds[i].fd = -1;
            fds[i].fn = NULL;
        }
    }
}

static void sched_compact_fds(void)
{
    unsigned j = 0;
    for (unsigned i = 0; i < n_fds; i++)
        if (fds[i].fd >= 0)
            fds[j++] = fds[i];
    n_fds = j;
}

uint64_t sched_add_timer(double delay, sched_timer_fn fn, void *arg)
{
    if (n_timers == cap_timers) {
        cap_timers = cap_timers ? cap_timers * 2 : 16;
        timers = mem_realloc(timers, cap_timers, sizeof(*timers));
    }
    if (!(delay >= 0.0)) /* negative, or NaN: no cast of NaN to an integer */
        delay = 0.0;
    if (delay > 1e6)
        delay = 1e6;
    int64_t due = sched_mono_ns() + (int64_t)(delay * 1e9);
    timers[n_timers++] = (struct sched_timer){next_timer_id, due, fn, arg};
    return next_timer_id++;
}

void sched_cancel_timer(uint64_t id)
{
    for (unsigned i = 0; i < n_timers; i++) {
        if (timers[i].id == id) {
            timers[i] = timers[--n_timers];
            return;
        }
    }
}

void sched_on_signal(int signo, sched_signal_fn fn, void *arg)
{
    struct sigaction sa;

    if (n_sigs == SCHED_MAX_SIGNALS)
        fatalx("too many signal handlers");
    sigs[n_sigs++] = (struct sched_sig){signo, fn, arg};
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sched_signal_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(signo, &sa, NULL) < 0)
        fatal("sigaction");
}

void sched_quit(void)
{
    quit_flag = 1;
}

/* Fire every due timer; a callback may add or cancel timers meanwhile, so
 * rescan from the start after each one. Returns ms until the next timer. */
static int sched_run_timers(void)
{
    for (;;) {
        int64_t now = sched_mono_ns(), next = INT64_MAX;
        unsigned due = n_timers;
        for (unsigned i = 0; i < n_timers; i++) {
            if (timers[i].due_ns <= now && (due == n_timers || timers[i].due_ns < timers[due].due_ns))
                due = i;
            if (timers[i].due_ns < next)
                next = timers[i].due_ns;
        }
        if (due == n_timers) {
            if (next == INT64_MAX)
                return -1;
            int64_t ms = (next - now + 999999) / 1000000;
            return ms > 60000 ? 60000 : (int)ms;
        }
        struct sched_timer t = timers[due];
        timers[due] = timers[--n_timers];
        t.fn(t.arg);
    }
}

int sched_run(void)
{
    struct pollfd pfd[SCHED_MAX_FDS];

    quit_flag = 0; /* a loop run again after sched_quit (the simulator's) */
    while (!quit_flag) {
        int timeout = sched_run_timers();
        if (quit_flag)
            break;
        sched_compact_fds();
        unsigned n = n_fds;
        for (unsigned i = 0; i < n; i++)
            pfd[i] = (struct pollfd){.fd = fds[i].fd,
                                     .events = POLLIN | (fds[i].want_write ? POLLOUT : 0)};
        int r = sysio_poll(pfd, n, timeout);
        wake_ns = sched_mono_ns();
        if (r < 0) {
            if (errno == EINTR)
                continue;
            log_warn("poll");
            return -1;
        }
        for (unsigned i = 0; i < n && r > 0; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLOUT | POLLERR | POLLHUP)))
                continue;
            r--;
            if (fds[i].fd == pfd[i].fd && fds[i].fn)
                fds[i].fn(fds[i].fd, fds[i].arg);
        }
    }
    return 0;
}
