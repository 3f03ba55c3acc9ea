/* SPDX-License-Identifier: ISC */
#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "sched.h"

#define RESOLVE_MAX_PENDING 64

/* What a thread writes back: a fixed-size record (< PIPE_BUF, so the write
 * is atomic), checked field by field when the loop reads it. */
struct resolve_answer {
    uint64_t id;
    int n;
    struct netaddr addrs[RESOLVE_MAX_ADDRS];
};

struct resolve_job {
    uint64_t id;
    char name[256];
};

struct resolve_pending {
    uint64_t id; /* 0: free */
    resolve_fn fn;
    void *arg;
};

static int resolve_pipe[2] = {-1, -1};
static struct resolve_pending pending[RESOLVE_MAX_PENDING];
static uint64_t resolve_next_id = 1;

_Static_assert(sizeof(struct resolve_answer) <= 512, "answer must be written atomically");

static void *resolve_thread(void *p)
{
    struct resolve_job *job = p;
    struct resolve_answer ans = {.id = job->id};
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
    struct addrinfo *res = NULL;

    if (getaddrinfo(job->name, NULL, &hints, &res) == 0) {
        for (struct addrinfo *ai = res; ai && ans.n < RESOLVE_MAX_ADDRS; ai = ai->ai_next)
            if (addr_from_sockaddr(ai->ai_addr, &ans.addrs[ans.n], NULL) == 0)
                ans.n++;
        freeaddrinfo(res);
    }
    if (write(resolve_pipe[1], &ans, sizeof(ans)) != (ssize_t)sizeof(ans)) {
        /* The loop is gone (shutdown): nobody is waiting for the answer. */
    }
    free(job);
    return NULL;
}

static void resolve_readable(int fd, void *arg)
{
    struct resolve_answer ans;
    (void)arg;
    while (read(fd, &ans, sizeof(ans)) == (ssize_t)sizeof(ans)) {
        if (ans.n < 0 || ans.n > RESOLVE_MAX_ADDRS)
            continue;
        for (int i = 0; i < RESOLVE_MAX_PENDING; i++) {
            if (pending[i].id == ans.id) {
                struct resolve_pending p = pending[i];
                pending[i].id = 0;
                p.fn(p.arg, ans.addrs, ans.n);
                break;
            }
        }
    }
}

void resolve_init(void)
{
    if (pipe(resolve_pipe) < 0)
        fatal("pipe");
    for (int i = 0; i < 2; i++)
        fcntl(resolve_pipe[i], F_SETFD, FD_CLOEXEC);
    fcntl(resolve_pipe[0], F_SETFL, fcntl(resolve_pipe[0], F_GETFL) | O_NONBLOCK);
    memset(pending, 0, sizeof(pending));
    if (sched_add_fd(resolve_pipe[0], resolve_readable, NULL) < 0)
        fatalx("resolver: event loop full");
}

void resolve_fini(void)
{
    if (resolve_pipe[0] < 0)
        return;
    sched_remove_fd(resolve_pipe[0]);
    /* The write end stays open: a thread still resolving may write to it,
     * and closing it under the thread could hand the fd number to another
     * file. The process is about to exit. */
    close(resolve_pipe[0]);
    resolve_pipe[0] = -1;
}

int resolve_start(const char *name, resolve_fn fn, void *arg)
{
    int slot = -1;
    for (int i = 0; i < RESOLVE_MAX_PENDING && slot < 0; i++)
        if (pending[i].id == 0)
            slot = i;
    if (slot < 0) {
        log_warnx("resolver: too many lookups pending for %s", name);
        return -1;
    }
    struct resolve_job *job = mem_zalloc(sizeof(*job));
    job->id = resolve_next_id++;
    snprintf(job->name, sizeof(job->name), "%s", name);

    /* Pending before the thread exists: a quick answer (a hosts-file hit)
     * can reach the pipe before pthread_create even returns. */
    pending[slot] = (struct resolve_pending){job->id, fn, arg};
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int err = pthread_create(&t, &attr, resolve_thread, job);
    pthread_attr_destroy(&attr);
    if (err) {
        pending[slot].id = 0;
        errno = err;
        log_warn("resolver thread for %s", name);
        free(job);
        return -1;
    }
    return 0;
}

void resolve_cancel(void *arg)
{
    for (int i = 0; i < RESOLVE_MAX_PENDING; i++)
        if (pending[i].id && pending[i].arg == arg)
            pending[i].id = 0;
}
