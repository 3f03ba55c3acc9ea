/* SPDX-License-Identifier: ISC */
#include "nts_ke_server.h"

#include <netinet/in.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "nts_tls.h"

#define WORKERS_MAX 64
#define QUEUE_MAX 1024
#define ACCEPT_POLL_MS 200 /* how soon the acceptor notices a stop */

/* A connection's source address, compared as bytes. */
struct peer {
    int used;
    int family;
    uint8_t a[16];
};

struct conn {
    int fd;
    struct peer peer;
};

struct nts_ke_server;

struct worker_arg {
    struct nts_ke_server *s;
    unsigned id;
};

struct nts_ke_server {
    struct nts_ke_server_conf conf;
    pthread_mutex_t m;
    pthread_cond_t cv;
    int stop;
    struct nts_cookie_ring ring;
    struct conn *queue; /* ring buffer of conf.queue entries */
    unsigned head, count;
    struct peer active[WORKERS_MAX]; /* per worker, while it serves */
    struct nts_ke_server_stats stats;
    pthread_t acceptor;
    pthread_t workers[WORKERS_MAX];
    struct worker_arg args[WORKERS_MAX];
    unsigned started;
};

static struct peer peer_of(const struct sockaddr_storage *ss)
{
    struct peer p = {.used = 1, .family = ss->ss_family};

    if (ss->ss_family == AF_INET)
        memcpy(p.a, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    else if (ss->ss_family == AF_INET6)
        memcpy(p.a, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
    return p;
}

static int same_peer(const struct peer *x, const struct peer *y)
{
    return x->used && y->used && x->family == y->family && memcmp(x->a, y->a, sizeof(x->a)) == 0;
}

/* Connections p holds, queued or being served; called with the lock. */
static unsigned held_by(const struct nts_ke_server *s, const struct peer *p)
{
    unsigned n = 0;

    for (unsigned i = 0; i < s->count; i++)
        n += same_peer(&s->queue[(s->head + i) % s->conf.queue].peer, p);
    for (unsigned i = 0; i < s->conf.workers; i++)
        n += same_peer(&s->active[i], p);
    return n;
}

/* Queue a new connection or shed it. */
static void admit(struct nts_ke_server *s, int fd, const struct sockaddr_storage *ss)
{
    struct peer p = peer_of(ss);
    int shed = 0;

    pthread_mutex_lock(&s->m);
    if (held_by(s, &p) >= s->conf.per_address) {
        s->stats.shed_address++;
        shed = 1;
    } else if (s->count == s->conf.queue) {
        s->stats.shed_busy++;
        shed = 1;
    } else {
        struct conn *c = &s->queue[(s->head + s->count++) % s->conf.queue];
        c->fd = fd;
        c->peer = p;
        s->stats.accepted++;
        pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&s->m);
    if (shed)
        close(fd);
}

static int stopping(struct nts_ke_server *s)
{
    pthread_mutex_lock(&s->m);
    int stop = s->stop;
    pthread_mutex_unlock(&s->m);
    return stop;
}

static void *accept_loop(void *arg)
{
    struct nts_ke_server *s = arg;

    struct pollfd p[NTS_KE_SERVER_LISTEN_MAX];

    for (unsigned i = 0; i < s->conf.nlisten; i++)
        p[i] = (struct pollfd){.fd = s->conf.listen_fd[i], .events = POLLIN};
    while (!stopping(s)) {
        if (poll(p, s->conf.nlisten, ACCEPT_POLL_MS) <= 0)
            continue;
        for (unsigned i = 0; i < s->conf.nlisten; i++) {
            if (!(p[i].revents & POLLIN))
                continue;
            struct sockaddr_storage ss = {0};
            socklen_t sl = sizeof(ss);
            int fd = accept4(p[i].fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
            if (fd >= 0)
                admit(s, fd, &ss);
        }
    }
    return NULL;
}

static void *work_loop(void *arg)
{
    const struct worker_arg *wa = arg;
    struct nts_ke_server *s = wa->s;
    struct nts_cookie_ring ring;

    for (;;) {
        pthread_mutex_lock(&s->m);
        while (!s->stop && s->count == 0)
            pthread_cond_wait(&s->cv, &s->m);
        if (s->stop) {
            pthread_mutex_unlock(&s->m);
            return NULL;
        }
        struct conn c = s->queue[s->head];
        s->head = (s->head + 1) % s->conf.queue;
        s->count--;
        s->active[wa->id] = c.peer;
        ring = s->ring;
        void *tls = nts_tls_server_ref(s->conf.tls); /* set_tls may replace it meanwhile */
        pthread_mutex_unlock(&s->m);

        int st = tls ? nts_tls_serve(tls, c.fd, s->conf.timeout_ms, &ring, s->conf.ntp_server,
                                     s->conf.ntp_port)
                     : NTS_TLS_E_SETUP;
        nts_tls_server_free(tls);
        close(c.fd);
        nts_cookie_ring_clear(&ring);

        pthread_mutex_lock(&s->m);
        s->active[wa->id].used = 0;
        if (st == NTS_KE_OK)
            s->stats.served++;
        else
            s->stats.failed++;
        pthread_mutex_unlock(&s->m);
    }
}

static int conf_ok(const struct nts_ke_server_conf *c)
{
    if (c->nlisten < 1 || c->nlisten > NTS_KE_SERVER_LISTEN_MAX)
        return 0;
    for (unsigned i = 0; i < c->nlisten; i++)
        if (c->listen_fd[i] < 0)
            return 0;
    return c->tls && c->workers >= 1 && c->workers <= WORKERS_MAX &&
           c->queue >= 1 && c->queue <= QUEUE_MAX && c->per_address >= 1 && c->timeout_ms > 0;
}

struct nts_ke_server *nts_ke_server_start(const struct nts_ke_server_conf *conf,
                                          const struct nts_cookie_ring *ring)
{
    if (!conf_ok(conf))
        return NULL;
    struct nts_ke_server *s = mem_zalloc(sizeof(*s));
    s->conf = *conf;
    s->ring = *ring;
    s->queue = mem_calloc(conf->queue, sizeof(*s->queue));
    pthread_mutex_init(&s->m, NULL);
    pthread_cond_init(&s->cv, NULL);
    for (unsigned i = 0; i < conf->workers; i++) {
        s->args[i].s = s;
        s->args[i].id = i;
        if (pthread_create(&s->workers[i], NULL, work_loop, &s->args[i]) != 0)
            break;
        s->started++;
    }
    if (s->started < conf->workers || pthread_create(&s->acceptor, NULL, accept_loop, s) != 0) {
        log_warnx("nts: cannot start the NTS-KE server threads");
        s->conf.workers = s->started;
        pthread_mutex_lock(&s->m);
        s->stop = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->m);
        for (unsigned i = 0; i < s->started; i++)
            pthread_join(s->workers[i], NULL);
        free(s->queue);
        nts_cookie_ring_clear(&s->ring);
        free(s);
        return NULL;
    }
    return s;
}

void nts_ke_server_set_tls(struct nts_ke_server *s, void *tls)
{
    pthread_mutex_lock(&s->m);
    s->conf.tls = tls;
    pthread_mutex_unlock(&s->m);
}

void nts_ke_server_set_ring(struct nts_ke_server *s, const struct nts_cookie_ring *ring)
{
    pthread_mutex_lock(&s->m);
    s->ring = *ring;
    pthread_mutex_unlock(&s->m);
}

void nts_ke_server_get_stats(struct nts_ke_server *s, struct nts_ke_server_stats *out)
{
    pthread_mutex_lock(&s->m);
    *out = s->stats;
    pthread_mutex_unlock(&s->m);
}

void nts_ke_server_stop(struct nts_ke_server *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->m);
    s->stop = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->m);
    pthread_join(s->acceptor, NULL);
    for (unsigned i = 0; i < s->started; i++)
        pthread_join(s->workers[i], NULL);
    for (unsigned i = 0; i < s->count; i++)
        close(s->queue[(s->head + i) % s->conf.queue].fd);
    for (unsigned i = 0; i < s->conf.nlisten; i++)
        close(s->conf.listen_fd[i]);
    pthread_mutex_destroy(&s->m);
    pthread_cond_destroy(&s->cv);
    free(s->queue);
    nts_cookie_ring_clear(&s->ring);
    free(s);
}
