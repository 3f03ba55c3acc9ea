/* SPDX-License-Identifier: ISC */
#include "netio.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/net_tstamp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "sysio.h"

#define NETIO_CMSG_SPACE 256

static int netio_set(int fd, int level, int opt, int val)
{
    return sysio_setsockopt(fd, level, opt, &val, sizeof(val));
}

/* Prefer SO_TIMESTAMPING (software receive stamps); fall back to
 * SO_TIMESTAMPNS, then to microsecond SO_TIMESTAMP (some sandboxed kernels
 * have only that); with none, netio_recv reports have_ts = 0. */
static void netio_enable_timestamps(int fd)
{
    int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
    if (netio_set(fd, SOL_SOCKET, SO_TIMESTAMPING, flags) == 0)
        return;
    if (netio_set(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1) == 0)
        return;
    if (netio_set(fd, SOL_SOCKET, SO_TIMESTAMP, 1) == 0)
        return;
    log_warnx("no kernel receive timestamps; using clock reads after recvmsg");
}

int netio_source_addr(const struct netaddr *peer, uint16_t port, struct netaddr *out)
{
    struct sockaddr_storage ss;
    socklen_t sl = addr_to_sockaddr(peer, port, &ss);
    uint16_t local_port;
    int fd = sysio_socket(peer->family, SOCK_DGRAM, 0), rc = -1;

    if (fd < 0)
        return -1;
    if (sysio_connect(fd, (struct sockaddr *)&ss, sl) == 0) {
        sl = sizeof(ss);
        if (sysio_getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
            rc = addr_from_sockaddr((struct sockaddr *)&ss, out, &local_port);
    }
    sysio_close(fd);
    return rc < 0 ? -1 : 0;
}

int netio_set_rcvbuf(int fd, int bytes)
{
    int got = 0;
    socklen_t l = sizeof(got);

    if (netio_set(fd, SOL_SOCKET, SO_RCVBUFFORCE, bytes) < 0)
        netio_set(fd, SOL_SOCKET, SO_RCVBUF, bytes);
    sysio_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &l);
    return got;
}

const char *netio_ts_kind(int fd)
{
    int v = 0;
    socklen_t l = sizeof(v);
    if (sysio_getsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &v, &l) == 0 && v)
        return "SO_TIMESTAMPING";
    l = sizeof(v);
    if (sysio_getsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &v, &l) == 0 && v)
        return "SO_TIMESTAMPNS";
    l = sizeof(v);
    if (sysio_getsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &v, &l) == 0 && v)
        return "SO_TIMESTAMP";
    return "none";
}

static int netio_enable_pktinfo(int fd, int family)
{
    int r = family == AF_INET6 ? netio_set(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
                               : netio_set(fd, IPPROTO_IP, IP_PKTINFO, 1);
    if (r < 0)
        log_warn("setsockopt(PKTINFO)");
    return r;
}

static int netio_bind(int fd, int family, const struct netaddr *addr, uint16_t port)
{
    struct sockaddr_storage ss;
    struct netaddr any = {.family = (uint8_t)family};
    socklen_t sl = addr_to_sockaddr(addr ? addr : &any, port, &ss);
    char buf[ADDR_STRLEN];

    if (sysio_bind(fd, (struct sockaddr *)&ss, sl) == 0)
        return 0;
    int e = errno; /* callers tell EADDRINUSE from the rest */
    log_warn("bind %s port %u", addr_format(addr ? addr : &any, buf, sizeof(buf)), port);
    errno = e;
    return -1;
}

int netio_open_udp(int family, const struct netaddr *addr, uint16_t port, const char *device)
{
    int fd = sysio_socket(family, SOCK_DGRAM, 0);
    if (fd < 0) {
        log_warn("socket(%s)", family == AF_INET ? "IPv4" : "IPv6");
        return -1;
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        log_warn("fcntl");
        goto fail;
    }
    if (family == AF_INET6 && netio_set(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) < 0) {
        log_warn("setsockopt(IPV6_V6ONLY)");
        goto fail;
    }
    /* Only a wildcard socket needs to learn (and reply from) the address a
     * datagram was sent to; a socket bound to one address replies from it,
     * and skipping the control message saves the kernel a route lookup on
     * every reply. */
    if (!addr && netio_enable_pktinfo(fd, family) < 0)
        goto fail;
    if (device && device[0] &&
        sysio_setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, (socklen_t)strlen(device)) < 0) {
        log_warn("binddevice %s", device);
        goto fail;
    }
    netio_enable_timestamps(fd);
    if (netio_bind(fd, family, addr, port) < 0)
        goto fail;
    return fd;
fail:;
    int e = errno;
    sysio_close(fd);
    errno = e;
    return -1;
}

void netio_close(int fd)
{
    if (fd >= 0)
        sysio_close(fd);
}

static void netio_parse_cmsg(struct msghdr *mh, struct netio_msg *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof(ts)); /* ts[0]: software stamp */
            if (ts.tv_sec || ts.tv_nsec) {
                m->rx_kernel = ts;
                m->have_ts = 1;
            }
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
                   c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
            memcpy(&m->rx_kernel, CMSG_DATA(c), sizeof(struct timespec));
            m->have_ts = 1;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMP &&
                   c->cmsg_len >= CMSG_LEN(sizeof(struct timeval))) {
            struct timeval tv;
            memcpy(&tv, CMSG_DATA(c), sizeof(tv));
            m->rx_kernel.tv_sec = tv.tv_sec;
            m->rx_kernel.tv_nsec = tv.tv_usec * 1000L;
            m->have_ts = 1;
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
                   c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            m->local.family = AF_INET;
            memcpy(m->local.bytes, &pi.ipi_addr, 4);
            m->ifindex = pi.ipi_ifindex;
            m->have_local = 1;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
                   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            m->local.family = AF_INET6;
            memcpy(m->local.bytes, &pi.ipi6_addr, 16);
            m->ifindex = (int)pi.ipi6_ifindex;
            m->have_local = 1;
        }
    }
}

/* Space for one datagram's control messages, aligned for cmsghdr. */
union netio_cbuf {
    char buf[NETIO_CMSG_SPACE];
    struct cmsghdr align;
};

/* The message header to receive one datagram into m. */
static void netio_prep_in(struct msghdr *mh, struct iovec *iov, struct sockaddr_storage *ss,
                          union netio_cbuf *cb, struct netio_msg *m)
{
    *iov = (struct iovec){m->buf, m->cap};
    *mh = (struct msghdr){.msg_name = ss, .msg_namelen = sizeof(*ss), .msg_iov = iov,
                          .msg_iovlen = 1, .msg_control = cb->buf,
                          .msg_controllen = sizeof(cb->buf)};
}

/* Fill m from a received message of n bytes. */
static void netio_took(struct msghdr *mh, size_t n, struct netio_msg *m)
{
    m->len = n;
    m->have_ts = m->have_local = 0;
    m->ifindex = 0;
    /* A truncated datagram was longer than any NTP packet we accept. */
    m->truncated = (mh->msg_flags & MSG_TRUNC) != 0;
    if (m->truncated)
        m->len = 0;
    if (addr_from_sockaddr((struct sockaddr *)mh->msg_name, &m->peer, &m->peer_port) < 0) {
        m->peer.family = 0; /* from nowhere we can name: counted nowhere */
        m->len = 0;
    }
    netio_parse_cmsg(mh, m);
}

int netio_recv(int fd, struct netio_msg *m)
{
    struct sockaddr_storage ss;
    union netio_cbuf cb;
    struct iovec iov;
    struct msghdr mh;

    netio_prep_in(&mh, &iov, &ss, &cb, m);
    ssize_t n = sysio_recvmsg(fd, &mh, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0;
        log_debug("recvmsg: %s", strerror(errno));
        return -1;
    }
    netio_took(&mh, (size_t)n, m);
    return 1;
}

/* Ask the kernel to send from the address the request arrived on, so a
 * multi-homed server answers from the address the client asked. */
static size_t netio_src_cmsg(const struct netio_msg *m, char *buf, size_t cap)
{
    struct msghdr mh = {.msg_control = buf, .msg_controllen = cap};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

    memset(buf, 0, cap);
    if (m->local.family == AF_INET) {
        struct in_pktinfo pi = {0};
        memcpy(&pi.ipi_spec_dst, m->local.bytes, 4);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        return CMSG_SPACE(sizeof(pi));
    }
    struct in6_pktinfo pi6 = {0};
    memcpy(&pi6.ipi6_addr, m->local.bytes, 16);
    pi6.ipi6_ifindex = (unsigned)m->ifindex;
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(pi6));
    memcpy(CMSG_DATA(c), &pi6, sizeof(pi6));
    return CMSG_SPACE(sizeof(pi6));
}

/* The message header to send out's datagram. */
static void netio_prep_out(struct msghdr *mh, struct iovec *iov, struct sockaddr_storage *ss,
                           union netio_cbuf *cb, const struct netio_out *out)
{
    const struct netio_msg *m = out->to;

    *iov = (struct iovec){(void *)out->buf, out->len};
    *mh = (struct msghdr){.msg_name = ss, .msg_iov = iov, .msg_iovlen = 1};
    mh->msg_namelen = addr_to_sockaddr(&m->peer, m->peer_port, ss);
    if (m->have_local && m->local.family == m->peer.family) {
        mh->msg_control = cb->buf;
        mh->msg_controllen = netio_src_cmsg(m, cb->buf, sizeof(cb->buf));
    }
}

int netio_send(int fd, const struct netio_msg *m, const uint8_t *buf, size_t len)
{
    struct sockaddr_storage ss;
    union netio_cbuf cb;
    struct iovec iov;
    struct msghdr mh;
    struct netio_out out = {m, buf, len};

    netio_prep_out(&mh, &iov, &ss, &cb, &out);
    if (sysio_sendmsg(fd, &mh, 0) < 0) {
        log_debug("sendmsg: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int netio_recv_batch(int fd, struct netio_msg *m, unsigned n)
{
    struct mmsghdr mm[NETIO_BATCH_MAX];
    struct iovec iov[NETIO_BATCH_MAX];
    struct sockaddr_storage ss[NETIO_BATCH_MAX];
    union netio_cbuf cb[NETIO_BATCH_MAX];

    n = n > NETIO_BATCH_MAX ? NETIO_BATCH_MAX : n;
    for (unsigned i = 0; i < n; i++) {
        netio_prep_in(&mm[i].msg_hdr, &iov[i], &ss[i], &cb[i], &m[i]);
        mm[i].msg_len = 0;
    }
    int got = sysio_recvmmsg(fd, mm, n, MSG_DONTWAIT, NULL);
    if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0;
        log_debug("recvmmsg: %s", strerror(errno));
        return -1;
    }
    for (int i = 0; i < got; i++)
        netio_took(&mm[i].msg_hdr, mm[i].msg_len, &m[i]);
    return got;
}

int netio_send_batch(int fd, const struct netio_out *out, unsigned n)
{
    struct mmsghdr mm[NETIO_BATCH_MAX];
    struct iovec iov[NETIO_BATCH_MAX];
    struct sockaddr_storage ss[NETIO_BATCH_MAX];
    union netio_cbuf cb[NETIO_BATCH_MAX];
    unsigned done = 0, sent = 0;

    n = n > NETIO_BATCH_MAX ? NETIO_BATCH_MAX : n;
    for (unsigned i = 0; i < n; i++) {
        netio_prep_out(&mm[i].msg_hdr, &iov[i], &ss[i], &cb[i], &out[i]);
        mm[i].msg_len = 0;
    }
    while (done < n) {
        int k = sysio_sendmmsg(fd, mm + done, n - done, 0);
        if (k < 0 && done == 0 && errno == ENOSYS)
            return -1;
        if (k <= 0) { /* the datagram at done was refused: drop it */
            log_debug("sendmmsg: %s", strerror(errno));
            done++;
            continue;
        }
        done += (unsigned)k;
        sent += (unsigned)k;
    }
    return (int)sent;
}
