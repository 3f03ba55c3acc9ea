/* SPDX-License-Identifier: ISC */
/* The simulated kernel under the whole daemon: every call the daemon makes
 * through sysio (the clocks, clock_adjtime, poll, its UDP sockets,
 * getrandom) lands here. Time moves only inside poll(), to the next timer
 * the daemon asked for or the next datagram for it, whichever is first, as
 * a real kernel would wake it; nothing sleeps. */
#include <errno.h>
#include <fcntl.h>
#include <linux/net_tstamp.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched.h"
#include "sim.h"
#include "sysio.h"
#include "timefmt.h"

/* The one world whose kernel is installed (sysio calls carry no context). */
static struct sim_world *cur;

static double k_rate(const struct sim_kclock *k)
{
    return (double)k->tick / 10000.0 + (double)k->freq / 65536.0 * 1e-6;
}

/* Oscillator time elapsed since the last re-base. */
static double k_osc_elapsed(struct sim_world *w)
{
    return (w->now - w->k.tb) + (sim_osc_phase(&w->osc, w->now, 0) - w->k.pb);
}

double sim_kernel_real(struct sim_world *w)
{
    return w->k.real_b + k_osc_elapsed(w) * k_rate(&w->k);
}

double sim_kernel_mono(struct sim_world *w)
{
    return w->k.mono_b + k_osc_elapsed(w) * k_rate(&w->k);
}

void sim_kernel_rebase(struct sim_world *w)
{
    double e = k_osc_elapsed(w) * k_rate(&w->k);
    w->k.real_b += e;
    w->k.mono_b += e;
    w->k.tb = w->now;
    w->k.pb = sim_osc_phase(&w->osc, w->now, 0);
}

static void k_ts(double rel, struct timespec *out)
{
    *out = (struct timespec){(time_t)SIM_T0, 0};
    timefmt_timespec_add(out, rel);
}

static int k_gettime(clockid_t id, struct timespec *out)
{
    if (id == CLOCK_REALTIME) {
        k_ts(sim_kernel_real(cur), out);
        return 0;
    }
    if (id == CLOCK_MONOTONIC) {
        double m = sim_kernel_mono(cur);
        out->tv_sec = (time_t)floor(m);
        out->tv_nsec = (long)((m - floor(m)) * 1e9);
        return 0;
    }
    fprintf(stderr, "sim: clock_gettime(%d) is not simulated\n", (int)id);
    abort();
}

#define K_MODES                                                                                    \
    (ADJ_FREQUENCY | ADJ_TICK | ADJ_SETOFFSET | ADJ_NANO | ADJ_MICRO | ADJ_STATUS | ADJ_MAXERROR |  \
     ADJ_ESTERROR)
#define K_MAXFREQ (500L << 16)

/* Linux's validation: a bad tick or an unnormalised offset is EINVAL and
 * changes nothing. */
static int k_adj_valid(const struct timex *tx)
{
    if ((tx->modes & ADJ_TICK) && (tx->tick < 9000 || tx->tick > 11000))
        return 0;
    if (tx->modes & ADJ_SETOFFSET) {
        long lim = (tx->modes & ADJ_NANO) ? 1000000000L : 1000000L;
        if (tx->time.tv_usec < 0 || tx->time.tv_usec >= lim)
            return 0;
    }
    return 1;
}

static void k_adj_apply(struct sim_kclock *k, const struct timex *tx)
{
    if (tx->modes & ADJ_SETOFFSET) {
        double frac = (double)tx->time.tv_usec * ((tx->modes & ADJ_NANO) ? 1e-9 : 1e-6);
        double step = (double)tx->time.tv_sec + frac;
        k->real_b += step;
        k->steps++;
        if (step > k->max_step)
            k->max_step = step;
    }
    if (tx->modes & ADJ_FREQUENCY)
        k->freq = tx->freq > K_MAXFREQ ? K_MAXFREQ : tx->freq < -K_MAXFREQ ? -K_MAXFREQ : tx->freq;
    if (tx->modes & ADJ_TICK)
        k->tick = tx->tick;
    if (tx->modes & ADJ_STATUS)
        k->status = tx->status;
    if (tx->modes & ADJ_MAXERROR)
        k->maxerror = tx->maxerror;
    if (tx->modes & ADJ_ESTERROR)
        k->esterror = tx->esterror;
}

static int k_adjtime(clockid_t id, struct timex *tx)
{
    struct sim_kclock *k = &cur->k;

    if (id != CLOCK_REALTIME || (tx->modes & ~(unsigned)K_MODES)) {
        fprintf(stderr, "sim: clock_adjtime(%d, modes %#x) is not simulated\n", (int)id,
                tx->modes);
        abort();
    }
    if (!k_adj_valid(tx)) {
        errno = EINVAL;
        return -1;
    }
    if (tx->modes & ~(unsigned)(ADJ_NANO | ADJ_MICRO)) {
        int had = k->status & (STA_INS | STA_DEL);
        sim_kernel_rebase(cur);
        k_adj_apply(k, tx);
        k->adjusts++;
        if ((k->status & (STA_INS | STA_DEL)) != had)
            sim_world_kernel_leap(cur);
    }
    tx->freq = k->freq;
    tx->tick = k->tick;
    tx->status = k->status;
    tx->maxerror = k->maxerror;
    tx->esterror = k->esterror;
    return (k->status & STA_UNSYNC) ? TIME_ERROR : TIME_OK;
}

static struct sim_sock *k_sock(int fd)
{
    for (int i = 0; i < SIM_MAX_SOCKS; i++)
        if (cur->socks[i].fd == fd && fd >= 0)
            return &cur->socks[i];
    return NULL;
}

static int k_socket(int domain, int type, int protocol)
{
    if ((domain != AF_INET && domain != AF_INET6) || (type & 0xf) != SOCK_DGRAM)
        return socket(domain, type, protocol);
    for (int i = 0; i < SIM_MAX_SOCKS; i++) {
        struct sim_sock *s = &cur->socks[i];
        if (s->fd >= 0)
            continue;
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd < 0)
            return -1;
        memset(s, 0, sizeof(*s));
        s->fd = fd;
        s->family = domain;
        return fd;
    }
    errno = EMFILE;
    return -1;
}

static int k_close(int fd)
{
    struct sim_sock *s = k_sock(fd);
    if (s)
        s->fd = -1;
    return close(fd);
}

static uint16_t k_port_of(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)sa)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
}

static int k_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    struct sim_sock *s = k_sock(fd);
    (void)len;
    if (!s)
        return bind(fd, sa, len);
    s->port = k_port_of(sa);
    if (s->port == 0)
        s->port = cur->next_port++;
    return 0;
}

static int k_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    struct sim_sock *s = k_sock(fd);
    if (!s)
        return connect(fd, sa, len);
    if (s->port == 0)
        s->port = cur->next_port++;
    return 0;
}

/* The host's own address: 127.0.0.1 (or ::1), and the socket's port. */
static int k_getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
    struct sim_sock *s = k_sock(fd);
    struct sockaddr_storage ss;
    socklen_t need;

    if (!s)
        return getsockname(fd, sa, len);
    memset(&ss, 0, sizeof(ss));
    if (s->family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(s->port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        need = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(s->port);
        in6->sin6_addr = in6addr_loopback;
        need = sizeof(*in6);
    }
    memcpy(sa, &ss, *len < need ? *len : need);
    *len = need;
    return 0;
}

static int k_setsockopt(int fd, int level, int opt, const void *val, socklen_t len)
{
    struct sim_sock *s = k_sock(fd);
    if (!s)
        return setsockopt(fd, level, opt, val, len);
    if (level == SOL_SOCKET && opt == SO_TIMESTAMPING && len >= sizeof(int))
        memcpy(&s->ts_flags, val, sizeof(int));
    return 0;
}

static int k_getsockopt(int fd, int level, int opt, void *val, socklen_t *len)
{
    struct sim_sock *s = k_sock(fd);
    int v = 0;

    if (!s)
        return getsockopt(fd, level, opt, val, len);
    if (level == SOL_SOCKET && opt == SO_TIMESTAMPING)
        v = s->ts_flags;
    else if (level == SOL_SOCKET && opt == SO_RCVBUF)
        v = 212992;
    if (*len >= sizeof(int))
        memcpy(val, &v, sizeof(int));
    *len = sizeof(int);
    return 0;
}

int sim_kernel_deliver(struct sim_world *w, uint16_t dst_port, const uint8_t *from, uint16_t port,
                       const uint8_t *buf, size_t len)
{
    for (int i = 0; i < SIM_MAX_SOCKS; i++) {
        struct sim_sock *s = &w->socks[i];
        if (s->fd < 0 || s->port != dst_port || s->family != AF_INET)
            continue;
        if (s->n == SIM_SOCK_QUEUE)
            return -1; /* receive buffer full: dropped, as a kernel would */
        struct sim_dgram *d = &s->q[(s->head + s->n++) % SIM_SOCK_QUEUE];
        d->len = len < sizeof(d->buf) ? len : sizeof(d->buf);
        memcpy(d->buf, buf, d->len);
        memcpy(d->from, from, 16);
        d->from_port = port;
        d->family = AF_INET;
        k_ts(sim_kernel_real(w), &d->rx);
        return 0;
    }
    return -1;
}

/* A software receive stamp, as SO_TIMESTAMPING gives it (three stamps,
 * the first the software one), if the socket asked for it. */
static void k_cmsg(const struct sim_sock *s, const struct sim_dgram *d, struct msghdr *mh)
{
    size_t need = CMSG_SPACE(3 * sizeof(struct timespec));
    if (!(s->ts_flags & SOF_TIMESTAMPING_RX_SOFTWARE) || !mh->msg_control) {
        mh->msg_controllen = 0;
        return;
    }
    if (mh->msg_controllen < need) {
        mh->msg_controllen = 0;
        mh->msg_flags |= MSG_CTRUNC;
        return;
    }
    struct cmsghdr *c = CMSG_FIRSTHDR(mh);
    struct timespec ts[3] = {d->rx, {0, 0}, {0, 0}};
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_TIMESTAMPING;
    c->cmsg_len = CMSG_LEN(sizeof(ts));
    memcpy(CMSG_DATA(c), ts, sizeof(ts));
    mh->msg_controllen = need;
}

static ssize_t k_recvmsg(int fd, struct msghdr *mh, int flags)
{
    struct sim_sock *s = k_sock(fd);
    if (!s)
        return recvmsg(fd, mh, flags);
    if (s->n == 0) {
        errno = EAGAIN;
        return -1;
    }
    const struct sim_dgram *d = &s->q[s->head];
    s->head = (s->head + 1) % SIM_SOCK_QUEUE;
    s->n--;
    mh->msg_flags = 0;
    size_t cap = mh->msg_iovlen ? mh->msg_iov[0].iov_len : 0;
    size_t n = d->len < cap ? d->len : cap;
    if (n)
        memcpy(mh->msg_iov[0].iov_base, d->buf, n);
    if (d->len > cap)
        mh->msg_flags |= MSG_TRUNC;
    if (mh->msg_name) {
        struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(d->from_port)};
        memcpy(&in.sin_addr, d->from, 4);
        memcpy(mh->msg_name, &in, sizeof(in));
        mh->msg_namelen = sizeof(in);
    }
    k_cmsg(s, d, mh);
    return (ssize_t)n;
}

static ssize_t k_sendmsg(int fd, const struct msghdr *mh, int flags)
{
    struct sim_sock *s = k_sock(fd);
    uint8_t to[16] = {0}, buf[SIM_PKT_MAX];
    size_t len = 0;

    if (!s)
        return sendmsg(fd, mh, flags);
    if (!mh->msg_name || ((const struct sockaddr *)mh->msg_name)->sa_family != AF_INET) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    const struct sockaddr_in *in = mh->msg_name;
    memcpy(to, &in->sin_addr, 4);
    for (size_t i = 0; i < mh->msg_iovlen; i++) {
        size_t k = mh->msg_iov[i].iov_len;
        if (len + k > sizeof(buf)) {
            errno = EMSGSIZE;
            return -1;
        }
        memcpy(buf + len, mh->msg_iov[i].iov_base, k);
        len += k;
    }
    if (s->port == 0)
        s->port = cur->next_port++;
    sim_world_route(cur, s->port, to, ntohs(in->sin_port), buf, len);
    return (ssize_t)len;
}

static int k_recvmmsg(int fd, struct mmsghdr *mm, unsigned n, int flags, struct timespec *tmo)
{
    unsigned got = 0;
    (void)tmo;
    if (!k_sock(fd))
        return recvmmsg(fd, mm, n, flags, tmo);
    for (; got < n; got++) {
        ssize_t r = k_recvmsg(fd, &mm[got].msg_hdr, flags);
        if (r < 0)
            break;
        mm[got].msg_len = (unsigned)r;
    }
    if (got == 0) {
        errno = EAGAIN;
        return -1;
    }
    return (int)got;
}

static int k_sendmmsg(int fd, struct mmsghdr *mm, unsigned n, int flags)
{
    if (!k_sock(fd))
        return sendmmsg(fd, mm, n, flags);
    for (unsigned i = 0; i < n; i++) {
        ssize_t r = k_sendmsg(fd, &mm[i].msg_hdr, flags);
        if (r < 0)
            return i ? (int)i : -1;
        mm[i].msg_len = (unsigned)r;
    }
    return (int)n;
}

static ssize_t k_getrandom(void *buf, size_t len, unsigned flags)
{
    uint8_t *b = buf;
    (void)flags;
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)sim_rng_next(&cur->rand);
    return (ssize_t)len;
}

/* Ready descriptors: simulated sockets with datagrams, and real ones
 * (the signal pipe, the control socket) asked without waiting. */
static int k_ready(struct pollfd *fds, nfds_t n)
{
    struct pollfd real[64];
    nfds_t nr = 0, map[64];
    int ready = 0;

    for (nfds_t i = 0; i < n; i++) {
        struct sim_sock *s = k_sock(fds[i].fd);
        fds[i].revents = 0;
        if (s) {
            if (s->n > 0 && (fds[i].events & POLLIN))
                fds[i].revents = POLLIN;
            if (fds[i].events & POLLOUT)
                fds[i].revents |= POLLOUT;
            ready += fds[i].revents != 0;
        } else if (nr < 64) {
            real[nr] = fds[i];
            map[nr++] = i;
        }
    }
    if (nr && poll(real, nr, 0) > 0) {
        for (nfds_t j = 0; j < nr; j++) {
            fds[map[j]].revents = real[j].revents;
            ready += real[j].revents != 0;
        }
    }
    return ready;
}

/* True time at which CLOCK_MONOTONIC reads at least m. */
static double k_true_at_mono(struct sim_world *w, double m)
{
    double rate = k_rate(&w->k) * (1.0 + sim_osc_freq(&w->osc) * 1e-6);
    double t = w->now + (m - sim_kernel_mono(w)) / rate;
    return t + 2e-9;
}

/* Wait as the kernel would: until a descriptor is ready, the timeout ends
 * or (the simulator's own stop) the stretch being run is over. */
static int k_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
    struct sim_world *w = cur;
    int r = k_ready(fds, n);

    if (r > 0 || timeout_ms == 0)
        return r;
    double until = w->run_until;
    if (timeout_ms > 0)
        until = fmin(until, k_true_at_mono(w, sim_kernel_mono(w) + timeout_ms * 1e-3));
    if (until >= w->pause_from && until < w->pause_to)
        until = fmin(w->pause_to, w->run_until); /* a paused VM wakes on resume */
    if (sim_world_advance(w, until))
        return k_ready(fds, n);
    if (until >= w->run_until)
        sched_quit();
    return 0;
}

static const struct sysio_ops sim_ops = {
    .clock_gettime = k_gettime,
    .clock_adjtime = k_adjtime,
    .poll = k_poll,
    .socket = k_socket,
    .close = k_close,
    .bind = k_bind,
    .connect = k_connect,
    .getsockname = k_getsockname,
    .setsockopt = k_setsockopt,
    .getsockopt = k_getsockopt,
    .recvmsg = k_recvmsg,
    .sendmsg = k_sendmsg,
    .recvmmsg = k_recvmmsg,
    .sendmmsg = k_sendmmsg,
    .getrandom = k_getrandom,
};

void sim_kernel_install(struct sim_world *w)
{
    cur = w;
    sysio_set(w ? &sim_ops : NULL);
}
