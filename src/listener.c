/* SPDX-License-Identifier: ISC */
#include "listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "maxima.h"
#include "mem.h"
#include "netio.h"
#include "ntp_wire.h"
#include "sched.h"

/* Datagrams handled per wake-up and socket before the loop looks at other
 * work again, so a flood on one socket cannot starve timers or signals. */
#define LISTENER_BATCH 64
#define LISTENER_MAX_SOCKS MAXIMA_SERVER_SOCKS
/* About 20000 queued requests: a burst waits instead of being dropped. */
#define LISTENER_RCVBUF (4 << 20)

/* One server socket and what it was opened for, so that a reload can take
 * it over when the new config asks for the same. */
struct listener_sock {
    int fd;
    int family;
    int any; /* bound to the wildcard address */
    struct netaddr addr;
    uint16_t port;
    char device[16];
    int adopted; /* taken over from the listener this one replaces */
};

struct listener {
    struct listener_sock socks[LISTENER_MAX_SOCKS];
    unsigned n;
    struct server *srv;
    struct clock *clk;
    unsigned batch; /* datagrams per recvmmsg; 1: recvmsg/sendmsg */
    /* batch buffers: requests in, replies out (a reply is never longer) */
    struct netio_msg msg[NETIO_BATCH_MAX];
    uint8_t in[NETIO_BATCH_MAX][NTP_MAX_PACKET];
    uint8_t out[NETIO_BATCH_MAX][NTP_MAX_PACKET];
};

/* The server's verdict on one received datagram; the reply goes to reply. */
static enum server_verdict listener_handle(struct listener *l, const struct netio_msg *m,
                                           uint8_t *reply, size_t *rlen)
{
    struct timespec rx;

    *rlen = 0;
    if (m->len == 0) {
        if (m->peer.family == AF_INET || m->peer.family == AF_INET6)
            server_count_unusable(l->srv, &m->peer, m->truncated);
        return SERVER_DROP;
    }
    if (m->have_ts)
        clock_from_kernel(l->clk, &m->rx_kernel, &rx);
    else
        clock_now(l->clk, &rx);
    return server_handle(l->srv, m->buf, m->len, &m->peer, &rx, sched_wake_ns(), reply,
                         NTP_MAX_PACKET, rlen);
}

/* Transmit time as late as possible, and the MAC (if any) over it.
 * Returns 0 if the reply is ready to go. */
static int listener_finish(struct listener *l, enum server_verdict v, uint8_t *reply,
                           size_t rlen)
{
    struct timespec tx;

    if (v == SERVER_DROP)
        return -1;
    int stamp = v == SERVER_REPLY || v == SERVER_REPLY_NTS;
    if (stamp)
        clock_now(l->clk, &tx);
    return server_finish(l->srv, v, reply, rlen, stamp ? &tx : NULL);
}

/* The portable path: one recvmsg and one sendmsg per request. */
static void listener_readable_single(struct listener *l, int fd)
{
    uint8_t buf[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    struct netio_msg m = {.buf = buf, .cap = sizeof(buf)};
    size_t rlen = 0;

    for (int i = 0; i < LISTENER_BATCH; i++) {
        if (netio_recv(fd, &m) <= 0)
            return;
        enum server_verdict v = listener_handle(l, &m, reply, &rlen);
        if (listener_finish(l, v, reply, rlen) == 0)
            netio_send(fd, &m, reply, rlen);
    }
}

/* One recvmmsg of up to l->batch requests, one sendmmsg of the replies;
 * each reply is stamped and signed just before the send. Returns how many
 * requests came, or -1 when the kernel has no recvmmsg. */
static int listener_batch_once(struct listener *l, int fd)
{
    enum server_verdict v[NETIO_BATCH_MAX];
    size_t rlen[NETIO_BATCH_MAX];
    struct netio_out out[NETIO_BATCH_MAX];
    unsigned nout = 0;
    int k = netio_recv_batch(fd, l->msg, l->batch);

    if (k < 0)
        return errno == ENOSYS ? -1 : 0;
    for (int i = 0; i < k; i++)
        v[i] = listener_handle(l, &l->msg[i], l->out[i], &rlen[i]);
    for (int i = 0; i < k; i++)
        if (listener_finish(l, v[i], l->out[i], rlen[i]) == 0)
            out[nout++] = (struct netio_out){&l->msg[i], l->out[i], rlen[i]};
    if (nout && netio_send_batch(fd, out, nout) < 0)
        for (unsigned i = 0; i < nout; i++)
            netio_send(fd, out[i].to, out[i].buf, out[i].len);
    return k;
}

static void listener_readable(int fd, void *arg)
{
    struct listener *l = arg;

    for (unsigned done = 0; l->batch > 1 && done < LISTENER_BATCH;) {
        int k = listener_batch_once(l, fd);
        if (k < 0) {
            log_warnx("no recvmmsg here: serving with recvmsg/sendmsg (serverbatch 1)");
            l->batch = 1;
            break;
        }
        if ((unsigned)k < l->batch)
            return;
        done += (unsigned)k;
    }
    if (l->batch == 1)
        listener_readable_single(l, fd);
}

static int listener_same(const struct listener_sock *a, const struct listener_sock *b)
{
    return a->family == b->family && a->any == b->any && a->port == b->port &&
           !strcmp(a->device, b->device) && (a->any || addr_equal(&a->addr, &b->addr));
}

/* "path:line: " or "path: " for a message about a directive. */
static void listener_where(FILE *errs, const struct conf *conf, unsigned line)
{
    if (line)
        fprintf(errs, "%s:%u: ", conf->path, line);
    else
        fprintf(errs, "%s: ", conf->path);
}

/* One socket, taken over from old when it has the same one, else opened.
 * Returns 0, or -1 with errno set (EADDRINUSE: the address is held, maybe
 * by old's sockets for another address). */
static int listener_add(struct listener *l, int family, const struct netaddr *addr,
                        const struct conf *conf, const struct listener *old)
{
    struct listener_sock *k = &l->socks[l->n];

    if (l->n == LISTENER_MAX_SOCKS) {
        errno = ENOSPC;
        return -1;
    }
    memset(k, 0, sizeof(*k));
    k->family = family;
    k->any = addr == NULL;
    if (addr)
        k->addr = *addr;
    k->port = conf->port;
    memcpy(k->device, conf->binddevice, sizeof(k->device));
    for (unsigned i = 0; old && i < old->n; i++) {
        if (listener_same(&old->socks[i], k)) {
            k->fd = old->socks[i].fd;
            k->adopted = 1;
            l->n++;
            return 0;
        }
    }
    k->fd = netio_open_udp(family, addr, conf->port, conf->binddevice);
    if (k->fd < 0)
        return -1;
    int rcvbuf = netio_set_rcvbuf(k->fd, LISTENER_RCVBUF);
    log_debug("listening on fd %d (%s, receive buffer %d bytes)", k->fd, netio_ts_kind(k->fd),
              rcvbuf);
    l->n++;
    return 0;
}

/* Every bindaddress must be bound; errors name its line. */
static int listener_add_bound(struct listener *l, const struct conf *conf,
                              const struct listener *old, FILE *errs)
{
    int bad = 0, conflict = 0;

    for (unsigned i = 0; i < conf->n_bindaddrs; i++) {
        struct netaddr a;
        if (addr_parse(conf->bindaddrs[i].addr, &a) < 0 ||
            listener_add(l, a.family, &a, conf, old) == 0)
            continue;
        int e = errno;
        conflict |= e == EADDRINUSE;
        if (errs) {
            listener_where(errs, conf, conf->bindaddrs[i].line);
            fprintf(errs, "bindaddress %s: cannot serve on port %u: %s\n",
                    conf->bindaddrs[i].addr, conf->port, strerror(e));
        }
        bad = 1;
    }
    errno = conflict ? EADDRINUSE : EINVAL;
    return bad ? -1 : 0;
}

/* Without bindaddress: any IPv4 address must work; IPv6 may be missing. */
static int listener_add_any(struct listener *l, const struct conf *conf,
                            const struct listener *old, FILE *errs)
{
    if (listener_add(l, AF_INET, NULL, conf, old) < 0) {
        int e = errno;
        if (errs) {
            listener_where(errs, conf, conf->port_line);
            fprintf(errs, "cannot serve IPv4 on port %u: %s\n", conf->port, strerror(e));
        }
        errno = e;
        return -1;
    }
    if (listener_add(l, AF_INET6, NULL, conf, old) < 0)
        log_warnx("not serving IPv6: no IPv6 socket could be opened");
    return 0;
}

struct listener *listener_prepare(const struct conf *conf, struct server *srv, struct clock *clk,
                                  const struct listener *old, FILE *errs)
{
    struct listener *l = mem_zalloc(sizeof(*l));
    int rc;

    l->srv = srv;
    l->clk = clk;
    listener_set_batch(l, conf->serverbatch);
    for (unsigned i = 0; i < NETIO_BATCH_MAX; i++)
        l->msg[i] = (struct netio_msg){.buf = l->in[i], .cap = sizeof(l->in[i])};
    if (conf->port == 0)
        return l;
    rc = conf->n_bindaddrs ? listener_add_bound(l, conf, old, errs)
                           : listener_add_any(l, conf, old, errs);
    if (rc < 0) {
        int e = errno;
        listener_abort(l);
        errno = e;
        return NULL;
    }
    return l;
}

void listener_commit(struct listener *l, struct listener *old)
{
    for (unsigned i = 0; old && i < old->n; i++) {
        int kept = 0;
        sched_remove_fd(old->socks[i].fd);
        for (unsigned j = 0; j < l->n; j++)
            kept |= l->socks[j].adopted && l->socks[j].fd == old->socks[i].fd;
        if (!kept)
            netio_close(old->socks[i].fd);
    }
    free(old);
    for (unsigned i = 0; i < l->n; i++) {
        /* The table has room for every socket of two listeners (maxima.h). */
        if (sched_add_fd(l->socks[i].fd, listener_readable, l) < 0)
            fatalx("event loop full: cannot watch server socket %d", l->socks[i].fd);
        l->socks[i].adopted = 0;
    }
}

void listener_abort(struct listener *l)
{
    if (!l)
        return;
    for (unsigned i = 0; i < l->n; i++)
        if (!l->socks[i].adopted)
            netio_close(l->socks[i].fd);
    free(l);
}

void listener_close(struct listener *l)
{
    if (!l)
        return;
    for (unsigned i = 0; i < l->n; i++) {
        sched_remove_fd(l->socks[i].fd);
        netio_close(l->socks[i].fd);
    }
    free(l);
}

void listener_set_batch(struct listener *l, unsigned batch)
{
    l->batch = batch < 1 ? 1 : batch > NETIO_BATCH_MAX ? NETIO_BATCH_MAX : batch;
}

unsigned listener_count(const struct listener *l)
{
    return l->n;
}
