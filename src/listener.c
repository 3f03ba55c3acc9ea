/* SPDX-License-Identifier: ISC */
#include "listener.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "netio.h"
#include "ntp_wire.h"
#include "sched.h"

/* Datagrams handled per wake-up and socket before the loop looks at other
 * work again, so a flood on one socket cannot starve timers or signals. */
#define LISTENER_BATCH 64
#define LISTENER_MAX_SOCKS 18
/* About 20000 queued requests: a burst waits instead of being dropped. */
#define LISTENER_RCVBUF (4 << 20)

struct listener {
    int fds[LISTENER_MAX_SOCKS];
    unsigned n;
    struct server *srv;
    struct clock *clk;
};

static void listener_serve_one(struct listener *l, int fd, struct netio_msg *m)
{
    uint8_t reply[NTP_MAX_PACKET];
    struct timespec rx, tx;
    size_t rlen;

    if (m->len == 0)
        return;
    if (m->have_ts)
        clock_from_kernel(l->clk, &m->rx_kernel, &rx);
    else
        clock_now(l->clk, &rx);
    enum server_verdict v = server_handle(l->srv, m->buf, m->len, &m->peer, &rx,
                                          sched_wake_ns(), reply, sizeof(reply), &rlen);
    if (v == SERVER_DROP)
        return;
    /* Transmit time as late as possible, and the MAC (if any) over it. */
    if (v == SERVER_REPLY)
        clock_now(l->clk, &tx);
    if (server_finish(l->srv, v, reply, rlen, v == SERVER_REPLY ? &tx : NULL) < 0)
        return;
    netio_send(fd, m, reply, rlen);
}

static void listener_readable(int fd, void *arg)
{
    struct listener *l = arg;
    uint8_t buf[NTP_MAX_PACKET];
    struct netio_msg m = {.buf = buf, .cap = sizeof(buf)};

    for (int i = 0; i < LISTENER_BATCH; i++) {
        if (netio_recv(fd, &m) <= 0)
            return;
        listener_serve_one(l, fd, &m);
    }
}

static int listener_add(struct listener *l, int family, const struct netaddr *addr,
                        const struct conf *conf)
{
    if (l->n == LISTENER_MAX_SOCKS)
        return -1;
    int fd = netio_open_udp(family, addr, conf->port, conf->binddevice);
    if (fd < 0)
        return -1;
    if (sched_add_fd(fd, listener_readable, l) < 0) {
        close(fd);
        return -1;
    }
    int rcvbuf = netio_set_rcvbuf(fd, LISTENER_RCVBUF);
    log_debug("listening on fd %d (%s, receive buffer %d bytes)", fd, netio_ts_kind(fd), rcvbuf);
    l->fds[l->n++] = fd;
    return 0;
}

struct listener *listener_open(const struct conf *conf, struct server *srv, struct clock *clk)
{
    struct listener *l = mem_zalloc(sizeof(*l));
    l->srv = srv;
    l->clk = clk;
    if (conf->port == 0)
        return l;
    for (unsigned i = 0; i < conf->n_bindaddrs; i++) {
        struct netaddr a;
        if (addr_parse(conf->bindaddrs[i].addr, &a) == 0)
            listener_add(l, a.family, &a, conf);
    }
    if (conf->n_bindaddrs == 0) {
        listener_add(l, AF_INET, NULL, conf);
        if (listener_add(l, AF_INET6, NULL, conf) < 0)
            log_warnx("not serving IPv6: no IPv6 socket could be opened");
    }
    if (l->n == 0) {
        log_warnx("no server socket could be opened on port %u", conf->port);
        free(l);
        return NULL;
    }
    return l;
}

void listener_close(struct listener *l)
{
    if (!l)
        return;
    for (unsigned i = 0; i < l->n; i++) {
        sched_remove_fd(l->fds[i]);
        close(l->fds[i]);
    }
    free(l);
}

unsigned listener_count(const struct listener *l)
{
    return l->n;
}
