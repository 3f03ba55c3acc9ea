/* SPDX-License-Identifier: ISC */
/*
 * loadgen: open-loop NTP client load generator for loopback benchmarks.
 *
 * Sends NTPv4 client-mode requests at a fixed rate, paced in short ticks
 * (100 us by default) and batched with sendmmsg() over several connected
 * sockets, and matches the replies (recvmmsg()) to the requests by their
 * origin timestamp. Each
 * request's transmit timestamp is a keyed 64-bit permutation of its sequence
 * number: unique, unpredictable without the per-run key, and decodable, so a
 * reply is matched in O(1) with one bit of state per request instead of an
 * ever-growing table of outstanding requests.
 *
 * Prints one line:
 *   sent=N received=N matched=N loss_pct=X rate=R achieved_rate=R
 *   late=N dup=N unmatched=N skipped=N stall_ms=X
 * (one line on stdout; it is wrapped here only for width). late: answered
 * after 200 ms; skipped: requests not sent because loadgen fell behind;
 * stall_ms: the longest time loadgen itself did not run while sending.
 *
 * -f FILE sends NTS requests made beforehand by bench/ntsprep (a key
 * exchange with the server, cookies from verified replies) instead of
 * plain 48-byte ones: request i of the file carries the transmit time of
 * sequence number i under the file's key, so matching is the same; a
 * reply counts only if it is longer than a header and not a kiss (an NTS
 * NAK is stratum 0).
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "seqcode.h"

#define NTP_LEN 48
#define BATCH 64
#define RXBUF 1500
#define TICK_US_DEFAULT 100       /* pacing interval */
#define WINDOW_NS 200000000LL     /* a reply later than this counts as late */
#define MAX_BACKLOG_NS 10000000LL /* behind by more than this: skip, don't burst */
#define MAX_SECONDS 60.0
#define MAX_RATE 10000000.0
#define MAX_SOCKS 253
#define SOCK_BUF (4 * 1024 * 1024)

struct opts {
    const char *server;
    unsigned port;
    double rate;
    double seconds;
    int64_t tick_ns;
    int nsock;
    int multi_addr;
    int quiet;
    const char *file; /* NTS requests from bench/ntsprep, or NULL */
};

/* When each pacing tick started and the first sequence number it sent. */
struct ticklog {
    uint64_t *first_seq;
    int64_t *when;
    size_t n, cap;
};

struct counters {
    uint64_t sent, received, matched, late, dup, unmatched, skipped;
    uint64_t send_errors;
    int64_t max_gap; /* longest gap between two passes of the send loop */
};

struct gen {
    struct opts o;
    int fds[MAX_SOCKS];
    uint32_t key[4];
    uint8_t *answered; /* bitmap indexed by sequence number */
    uint64_t max_seq;
    int64_t start;
    struct ticklog ticks;
    struct counters c;
    unsigned rr;
    uint8_t *reqs; /* -f: the file's requests */
    size_t req_len;
    uint64_t nreqs;
    uint8_t txbuf[BATCH][NTP_LEN];
    struct iovec txiov[BATCH];
    struct mmsghdr txmsg[BATCH];
    uint8_t rxbuf[BATCH][RXBUF];
    struct iovec rxiov[BATCH];
    struct mmsghdr rxmsg[BATCH];
};

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void diex(const char *what)
{
    fprintf(stderr, "loadgen: %s\n", what);
    exit(2);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen [-s 127.0.0.1|::1] [-p port] [-r req/s] [-t seconds]\n"
            "               [-i interval_us] [-n sockets] [-m] [-q] [-f nts_requests]\n"
            "  -i  pacing interval: every interval, send what is due (default %d us)\n"
            "  -m  bind socket i to 127.0.0.(i+2) instead of a distinct port\n"
            "  -f  send the NTS requests of a bench/ntsprep file\n",
            TICK_US_DEFAULT);
    exit(2);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static double parse_num(const char *s, double lo, double hi, const char *name)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi)) {
        fprintf(stderr, "loadgen: %s must be a number in [%g, %g]\n", name, lo, hi);
        exit(2);
    }
    return v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    int ch;

    *o = (struct opts){"127.0.0.1", 123, 1000.0, 2.0, TICK_US_DEFAULT * 1000LL, 1, 0, 0, NULL};
    while ((ch = getopt(argc, argv, "s:p:r:t:i:n:f:mqh")) != -1) {
        switch (ch) {
        case 'f':
            o->file = optarg;
            break;
        case 's':
            o->server = optarg;
            break;
        case 'p':
            o->port = (unsigned)parse_num(optarg, 1, 65535, "port");
            break;
        case 'r':
            o->rate = parse_num(optarg, 1, MAX_RATE, "rate");
            break;
        case 't':
            o->seconds = parse_num(optarg, 0.01, MAX_SECONDS, "duration");
            break;
        case 'i':
            o->tick_ns = (int64_t)parse_num(optarg, 10, 100000, "interval") * 1000;
            break;
        case 'n':
            o->nsock = (int)parse_num(optarg, 1, MAX_SOCKS, "socket count");
            break;
        case 'm':
            o->multi_addr = 1;
            break;
        case 'q':
            o->quiet = 1;
            break;
        default:
            usage();
        }
    }
    if (optind != argc)
        usage();
}

/* Only loopback destinations are accepted: this tool must never load a real network. */
static socklen_t server_addr(const struct opts *o, struct sockaddr_storage *ss)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, o->server, &sin->sin_addr) == 1) {
        if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
            diex("server must be a loopback address (127.0.0.0/8 or ::1)");
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)o->port);
        return sizeof(*sin);
    }
    if (inet_pton(AF_INET6, o->server, &sin6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
            diex("server must be a loopback address (127.0.0.0/8 or ::1)");
        if (o->multi_addr)
            diex("-m needs an IPv4 server: ::1 is the only IPv6 loopback address");
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)o->port);
        return sizeof(*sin6);
    }
    diex("cannot parse server address");
    return 0;
}

static void set_bufsize(int fd, int opt_force, int opt)
{
    int size = SOCK_BUF;

    /* The FORCE variants pass rmem_max/wmem_max when running as root. */
    if (setsockopt(fd, SOL_SOCKET, opt_force, &size, sizeof(size)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size));
}

static int open_socket(const struct opts *o, int i, const struct sockaddr_storage *srv,
                       socklen_t srvlen)
{
    struct sockaddr_storage local;
    int fd;

    fd = socket(srv->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    set_bufsize(fd, SO_RCVBUFFORCE, SO_RCVBUF);
    set_bufsize(fd, SO_SNDBUFFORCE, SO_SNDBUF);
    memset(&local, 0, sizeof(local));
    local.ss_family = srv->ss_family;
    if (srv->ss_family == AF_INET6) {
        ((struct sockaddr_in6 *)&local)->sin6_addr = in6addr_loopback;
    } else {
        uint32_t a = o->multi_addr ? 0x7f000002u + (uint32_t)i : 0x7f000001u;
        ((struct sockaddr_in *)&local)->sin_addr.s_addr = htonl(a);
    }
    if (bind(fd, (struct sockaddr *)&local, srvlen) < 0)
        die("bind");
    if (connect(fd, (const struct sockaddr *)srv, srvlen) < 0)
        die("connect");
    return fd;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);

    if (p == NULL)
        diex("out of memory");
    return p;
}

/* -f: the whole file in memory, its key in place of a random one. */
static void load_requests(struct gen *g)
{
    FILE *f = fopen(g->o.file, "rb");
    char magic[8];
    uint64_t hdr[2];

    if (!f)
        die(g->o.file);
    if (fread(magic, 8, 1, f) != 1 || memcmp(magic, "NTSPREP1", 8) != 0 ||
        fread(g->key, sizeof(g->key), 1, f) != 1 || fread(hdr, sizeof(hdr), 1, f) != 1 ||
        hdr[0] == 0 || hdr[0] > 20000000 || hdr[1] <= NTP_LEN || hdr[1] > 1500)
        diex("not a bench/ntsprep file");
    g->nreqs = hdr[0];
    g->req_len = (size_t)hdr[1];
    g->reqs = xcalloc(g->nreqs, g->req_len);
    if (fread(g->reqs, g->req_len, g->nreqs, f) != g->nreqs)
        diex("the request file is cut short");
    fclose(f);
}

static void gen_init(struct gen *g)
{
    struct sockaddr_storage srv;
    socklen_t srvlen = server_addr(&g->o, &srv);

    for (int i = 0; i < g->o.nsock; i++)
        g->fds[i] = open_socket(&g->o, i, &srv, srvlen);
    if (g->o.file)
        load_requests(g);
    else if (getrandom(g->key, sizeof(g->key), 0) != (ssize_t)sizeof(g->key))
        die("getrandom");
    /* Catch-up is bounded, so no run sends more than rate * duration plus one tick. */
    g->max_seq = (uint64_t)(g->o.rate * (g->o.seconds + 0.01)) + BATCH + 1;
    if (g->o.file && g->max_seq > g->nreqs)
        diex("the request file holds fewer requests than rate x seconds: make more");
    g->answered = xcalloc(g->max_seq / 8 + 1, 1);
    g->ticks.cap = (size_t)(g->o.seconds * 1e9 / (double)g->o.tick_ns) + 2;
    g->ticks.first_seq = xcalloc(g->ticks.cap, sizeof(uint64_t));
    g->ticks.when = xcalloc(g->ticks.cap, sizeof(int64_t));
    for (int i = 0; i < BATCH; i++) {
        memset(g->txbuf[i], 0, NTP_LEN);
        g->txbuf[i][0] = (0 << 6) | (4 << 3) | 3; /* LI 0, version 4, mode 3 (client) */
        g->txbuf[i][2] = 6;                       /* poll 2^6 s */
        g->txbuf[i][3] = 0xec;                    /* precision ~ 2^-20 s */
        g->txiov[i] = (struct iovec){g->txbuf[i], NTP_LEN};
        g->txmsg[i].msg_hdr = (struct msghdr){.msg_iov = &g->txiov[i], .msg_iovlen = 1};
        g->rxiov[i] = (struct iovec){g->rxbuf[i], RXBUF};
        g->rxmsg[i].msg_hdr = (struct msghdr){.msg_iov = &g->rxiov[i], .msg_iovlen = 1};
    }
}

/* Sends up to n requests on the next socket in turn; returns how many went out. */
static unsigned send_batch(struct gen *g, unsigned n)
{
    int fd = g->fds[g->rr++ % (unsigned)g->o.nsock];
    int r;

    for (unsigned i = 0; i < n; i++) {
        if (g->reqs)
            g->txiov[i] = (struct iovec){g->reqs + (g->c.sent + i) * g->req_len, g->req_len};
        else
            put_be64(g->txbuf[i] + 40, seq_encode(g->key, g->c.sent + i));
    }
    for (int tries = 0; tries < 2; tries++) {
        r = sendmmsg(fd, g->txmsg, n, 0);
        if (r >= 0)
            return (unsigned)r;
        /* A connected socket reports an earlier ICMP error once; then retry. */
        if (errno != ECONNREFUSED && errno != EINTR)
            break;
    }
    g->c.send_errors++;
    return 0;
}

/* Sends what the schedule says is due at time now. */
static void send_due(struct gen *g, int64_t now)
{
    double target = (double)(now - g->start) * g->o.rate / 1e9;
    uint64_t want = (uint64_t)target;
    uint64_t done = g->c.sent + g->c.skipped;
    uint64_t backlog = (uint64_t)(g->o.rate * MAX_BACKLOG_NS / 1e9) + 1;
    uint64_t due;

    if (want <= done)
        return;
    due = want - done;
    if (due > backlog) {
        /* Open loop: if we fell behind, drop the backlog rather than burst it. */
        g->c.skipped += due - backlog;
        due = backlog;
    }
    if (g->c.sent + due > g->max_seq)
        due = g->max_seq - g->c.sent;
    if (g->ticks.n < g->ticks.cap) {
        g->ticks.first_seq[g->ticks.n] = g->c.sent;
        g->ticks.when[g->ticks.n++] = now;
    }
    while (due > 0) {
        unsigned n = due > BATCH ? BATCH : (unsigned)due;
        unsigned k = send_batch(g, n);

        g->c.sent += k;
        due -= k;
        if (k < n) {
            g->c.skipped += due;
            break;
        }
    }
}

/* Time the tick that sent sequence number seq started. */
static int64_t sent_at(const struct ticklog *t, uint64_t seq)
{
    size_t lo = 0, hi = t->n;

    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->first_seq[mid] <= seq)
            lo = mid;
        else
            hi = mid;
    }
    return t->n > 0 ? t->when[lo] : 0;
}

static void handle_reply(struct gen *g, const uint8_t *p, size_t len, int64_t now)
{
    uint64_t seq;

    g->c.received++;
    /* Mode 4 (server), version 4, a plausible length, and one of our origins. */
    if (len < NTP_LEN || (p[0] & 7) != 4 || ((p[0] >> 3) & 7) != 4 ||
        (g->reqs && (len <= NTP_LEN || p[1] == 0))) {
        g->c.unmatched++;
        return;
    }
    seq = seq_decode(g->key, get_be64(p + 24));
    if (seq >= g->c.sent) {
        g->c.unmatched++;
        return;
    }
    if (g->answered[seq / 8] & (1u << (seq % 8))) {
        g->c.dup++;
        return;
    }
    g->answered[seq / 8] |= (uint8_t)(1u << (seq % 8));
    if (now - sent_at(&g->ticks, seq) > WINDOW_NS)
        g->c.late++;
    else
        g->c.matched++;
}

static void drain_socket(struct gen *g, int fd)
{
    /* Bounded: a socket holds far fewer than 1024 batches of replies. */
    for (int rounds = 0; rounds < 1024; rounds++) {
        int r = recvmmsg(fd, g->rxmsg, BATCH, MSG_DONTWAIT, NULL);
        int64_t now = now_ns();

        if (r < 0) {
            if (errno == EINTR || errno == ECONNREFUSED)
                continue;
            return;
        }
        for (int i = 0; i < r; i++)
            handle_reply(g, g->rxbuf[i], g->rxmsg[i].msg_len, now);
        if (r < BATCH)
            return;
    }
}

/* Waits until deadline at most, reading every socket that has replies. */
static void poll_and_drain(struct gen *g, struct pollfd *pfd, int64_t deadline)
{
    int64_t wait = deadline - now_ns();
    struct timespec ts;

    if (wait < 0)
        wait = 0;
    ts.tv_sec = (time_t)(wait / 1000000000LL);
    ts.tv_nsec = (long)(wait % 1000000000LL);
    if (ppoll(pfd, (nfds_t)g->o.nsock, &ts, NULL) <= 0)
        return;
    for (int i = 0; i < g->o.nsock; i++)
        if (pfd[i].revents & (POLLIN | POLLERR))
            drain_socket(g, g->fds[i]);
}

static void run(struct gen *g)
{
    struct pollfd pfd[MAX_SOCKS];
    int64_t next, end_send, end_wait;

    for (int i = 0; i < g->o.nsock; i++)
        pfd[i] = (struct pollfd){.fd = g->fds[i], .events = POLLIN};
    g->start = now_ns();
    next = g->start;
    end_send = g->start + (int64_t)(g->o.seconds * 1e9);
    end_wait = end_send + WINDOW_NS;
    for (int64_t now = g->start, prev = g->start; now < end_send; prev = now, now = now_ns()) {
        if (now - prev > g->c.max_gap)
            g->c.max_gap = now - prev;
        if (now >= next) {
            send_due(g, now);
            next += g->o.tick_ns;
            if (next <= now)
                next = now + g->o.tick_ns;
        }
        poll_and_drain(g, pfd, next < end_send ? next : end_send);
    }
    /* Stragglers: replies to the last requests get the same window as all others. */
    for (int64_t now = now_ns(); now < end_wait; now = now_ns())
        poll_and_drain(g, pfd, end_wait);
}

static void report(const struct gen *g)
{
    const struct counters *c = &g->c;
    double loss = c->sent ? 100.0 * (double)(c->sent - c->matched) / (double)c->sent : 100.0;

    printf("sent=%llu received=%llu matched=%llu loss_pct=%.3f rate=%.0f achieved_rate=%.0f "
           "late=%llu dup=%llu unmatched=%llu skipped=%llu stall_ms=%.1f\n",
           (unsigned long long)c->sent, (unsigned long long)c->received,
           (unsigned long long)c->matched, loss, g->o.rate, (double)c->sent / g->o.seconds,
           (unsigned long long)c->late, (unsigned long long)c->dup,
           (unsigned long long)c->unmatched, (unsigned long long)c->skipped,
           (double)c->max_gap / 1e6);
    if (!g->o.quiet && c->send_errors > 0)
        fprintf(stderr, "loadgen: %llu sendmmsg calls failed\n",
                (unsigned long long)c->send_errors);
}

int main(int argc, char **argv)
{
    static struct gen g;

    parse_args(argc, argv, &g.o);
    gen_init(&g);
    if (!g.o.quiet)
        fprintf(stderr, "loadgen: %s port %u, %.0f req/s for %.2f s over %d %s\n", g.o.server,
                g.o.port, g.o.rate, g.o.seconds, g.o.nsock,
                g.o.multi_addr ? "source addresses" : "source ports");
    run(&g);
    report(&g);
    return 0;
}
