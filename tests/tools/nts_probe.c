/* SPDX-License-Identifier: ISC */
/* nts_probe: the NTS modules (nts_tls, nts_ef, nts_cookie) driven from the
 * command line against real peers on loopback, for the interop system
 * tests until tempusd itself speaks NTS.
 *
 *   nts_probe client --ke ADDR:PORT --name NAME --ca FILE [--polls N]
 *                    [--ntp-port P] [--tamper] [--drop K]
 *     key exchange, then N NTS NTP polls of the negotiated server and port
 *     (one cookie per poll, placeholders to refill to 8); with --tamper
 *     a copy of each reply with one bit flipped must fail the check;
 *     --drop K throws K cookies of the key exchange away first.
 *   nts_probe serve --cert FILE --key FILE --ke-port K --ntp-port P
 *                   --seconds S [--rotate-after N]
 *     an NTS-KE server (one connection at a time) and an NTS NTP server on
 *     127.0.0.1 for S seconds; the cookie key rotates twice after N
 *     answered NTP requests, so that old cookies get NTS NAKs.
 *   nts_probe bench [--polls N]
 *     the server's NTS work per request N times on one thread, and its rate.
 * Output: one line per event (see the system tests for what they read).
 * Exit status 0 when everything asked for worked. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "log.h"
#include "nts_client.h"
#include "nts_ef.h"
#include "nts_tls.h"
#include "ntp_wire.h"
#include "timefmt.h"

struct opts {
    const char *ke, *name, *ca, *cert, *key;
    int polls, ntp_port, ke_port, seconds, tamper, rotate_after, drop;
};

/* A whole decimal number in 0..65535*1000, or -1. */
static int num(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno == 0 && end != s && *end == '\0' && v >= 0 && v <= 65535000 ? (int)v : -1;
}

static int parse_addr(const char *s, int port_default, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : strlen(s);

    if (n >= sizeof(host))
        return -1;
    memcpy(host, s, n);
    host[n] = '\0';
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    int port = colon ? num(colon + 1) : port_default;
    sa->sin_port = htons((uint16_t)port);
    return port > 0 && port < 65536 && inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static ntp_ts_t now_ts(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return timefmt_ts_from_timespec(&ts);
}

/* A copy of the reply with one random bit flipped must fail the check
 * (the reply itself is then checked as usual). */
static int tamper_check(const uint8_t *r, size_t n, const uint8_t *uid,
                        const struct nts_ke_result *ke)
{
    static struct nts_ef_cookies got;
    uint8_t copy[1500], pick[3];

    if (n > sizeof(copy) || RAND_bytes(pick, sizeof(pick)) != 1)
        return -1;
    memcpy(copy, r, n);
    size_t at = ((size_t)pick[0] << 8 | pick[1]) % n;
    copy[at] ^= (uint8_t)(1u << (pick[2] % 8));
    int st = nts_ef_client_reply(copy, n, uid, ke->s2c, &got);
    printf("tamper: %s byte=%zu status=%d\n", st < 0 ? "rejected" : "ACCEPTED", at, st);
    return st < 0 ? 0 : -1;
}

/* One poll through nts_client: returns 0 when an authenticated reply
 * came back. */
static int poll_once(int fd, struct nts_client *c, const struct nts_ke_result *ke, int tamper)
{
    uint8_t q[1500], r[1500], uid[NTS_UID_LEN], nonce[NTS_NONCE_LEN];
    struct ntp_header h = {.version = 4, .mode = 3, .poll = 6};
    struct nts_client_info before, after;

    if (RAND_bytes(uid, sizeof(uid)) != 1 || RAND_bytes(nonce, sizeof(nonce)) != 1)
        return -1;
    h.tx_ts = now_ts();
    size_t qlen = nts_client_request(c, q, ntp_wire_encode_header(&h, q, sizeof(q)), sizeof(q),
                                     uid, nonce);
    if (qlen == 0 || send(fd, q, qlen, 0) != (ssize_t)qlen) {
        printf("ntp: FAIL %s\n", qlen ? "send" : "no cookies or keys");
        return -1;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ssize_t n = poll(&p, 1, 2000) == 1 ? recv(fd, r, sizeof(r), 0) : -1;
    ntp_ts_t t4 = now_ts();
    struct ntp_header rh;
    if (n < NTP_HEADER_LEN || ntp_wire_decode_header(r, (size_t)n, &rh) < 0 ||
        rh.org_ts != h.tx_ts) {
        printf("ntp: FAIL no reply to this request (%zd bytes)\n", n);
        return -1;
    }
    if (tamper && tamper_check(r, (size_t)n, uid, ke) < 0)
        return -1;
    nts_client_get_info(c, &before);
    int st = nts_client_reply(c, r, (size_t)n);
    nts_client_get_info(c, &after);
    if (st != NTS_EF_OK) {
        printf("ntp: %s status=%d bytes=%zd request=%zu\n", st == NTS_EF_NAK ? "NAK" : "REJECTED",
               st, n, qlen);
        return -1;
    }
    double off = (timefmt_ts_diff(rh.rx_ts, h.tx_ts) + timefmt_ts_diff(rh.tx_ts, t4)) / 2;
    printf("ntp: ok stratum=%u bytes=%zd request=%zu cookies_back=%u jar=%u offset=%.6f\n",
           rh.stratum, n, qlen, after.cookies - before.cookies, after.cookies, off);
    return 0;
}

static int run_client(const struct opts *o)
{
    static struct nts_ke_result ke;
    struct sockaddr_in sa;
    char err[256];
    int failed = 0;

    if (!o->ke || !o->name || parse_addr(o->ke, NTS_KE_PORT, &sa) < 0)
        return 2;
    int st = nts_tls_client_exchange(o->name, (struct sockaddr *)&sa, sizeof(sa), o->ca, 5000, &ke,
                                     err, sizeof(err));
    if (st != NTS_KE_OK) {
        printf("ke: FAIL status=%d %s\n", st, err);
        return 1;
    }
    printf("ke: ok aead=%u cookies=%u cookie_len=%u server=%s port=%u\n", ke.resp.aead,
           ke.resp.n_cookies, ke.resp.cookie_len[0], ke.resp.server[0] ? ke.resp.server : "-",
           ke.resp.port);
    struct nts_client *c = nts_client_new();
    /* --drop: cookies lost as if their replies never came back. */
    unsigned drop = (unsigned)o->drop;
    ke.resp.n_cookies = ke.resp.n_cookies > drop ? ke.resp.n_cookies - drop : 0;
    nts_client_ke_done(c, &ke, 0);
    sa.sin_port = htons((uint16_t)(o->ntp_port ? o->ntp_port : ke.resp.port ? ke.resp.port : 123));
    if (ke.resp.server[0] && inet_pton(AF_INET, ke.resp.server, &sa.sin_addr) != 1)
        return 1;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return 1;
    for (int i = 0; i < o->polls; i++) {
        failed += poll_once(fd, c, &ke, o->tamper) < 0;
        usleep(100000);
    }
    close(fd);
    nts_client_free(c);
    printf("client: polls=%d failed=%d\n", o->polls, failed);
    return failed != 0;
}

/* The NTP server part: answer one datagram, if it is an NTS request. */
static void serve_ntp(int fd, struct nts_cookie_ring *ring, unsigned *ok, unsigned *naks,
                      unsigned *bad)
{
    uint8_t q[1500], r[1500], nonce[NTS_NONCE_LEN], fresh[NTS_COOKIES_MAX][NTS_COOKIE_LEN],
        cn[NTS_COOKIE_NONCE_LEN];
    const uint8_t *cp[NTS_COOKIES_MAX];
    size_t lens[NTS_COOKIES_MAX];
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    struct nts_ef_server_req sr;
    struct ntp_header qh;

    ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
    ntp_ts_t rx = now_ts();
    if (n < NTP_HEADER_LEN || ntp_wire_decode_header(q, (size_t)n, &qh) < 0)
        return;
    int st = nts_ef_server_request(q, (size_t)n, ring, &sr);
    struct ntp_header h = {.version = 4, .mode = 4, .stratum = 1, .poll = qh.poll,
                           .precision = -20, .refid = ntp_wire_refid_ascii("NTSP"),
                           .ref_ts = rx, .org_ts = qh.tx_ts, .rx_ts = rx};
    size_t len = 0;
    if (st == NTS_EF_OK) {
        unsigned k = 1 + sr.n_placeholders;
        for (unsigned i = 0; i < k; i++) {
            if (RAND_bytes(cn, sizeof(cn)) != 1 ||
                nts_cookie_make(ring, &sr.keys, cn, fresh[i], NTS_COOKIE_LEN) == 0)
                return;
            cp[i] = fresh[i];
            lens[i] = NTS_COOKIE_LEN;
        }
        h.tx_ts = now_ts();
        if (RAND_bytes(nonce, sizeof(nonce)) != 1)
            return;
        len = nts_ef_server_reply(r, ntp_wire_encode_header(&h, r, sizeof(r)), sizeof(r), &sr, cp,
                                  lens, k, nonce);
        *ok += len > 0;
    } else if (st == NTS_EF_E_COOKIE || st == NTS_EF_E_AUTH) {
        h.tx_ts = now_ts();
        len = nts_ef_nak(r, ntp_wire_encode_header(&h, r, sizeof(r)), sizeof(r), sr.uid,
                         sr.uid_len);
        *naks += len > 0;
    } else {
        (*bad)++;
    }
    if (len > 0 && sendto(fd, r, len, 0, (struct sockaddr *)&from, fl) < 0)
        (*bad)++;
}

static int listen_on(int type, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1;
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        (type == SOCK_STREAM && listen(fd, 16) < 0)) {
        perror("nts_probe: listen");
        exit(1);
    }
    return fd;
}

static void rotate(struct nts_cookie_ring *ring, uint32_t id)
{
    uint8_t k[NTS_AEAD_KEY_LEN];
    if (RAND_bytes(k, sizeof(k)) != 1 || nts_cookie_rotate(ring, id, k) < 0)
        exit(1);
}

static int run_server(const struct opts *o)
{
    static struct nts_cookie_ring ring;
    unsigned ke_ok = 0, ke_bad = 0, ok = 0, naks = 0, bad = 0, rotated = 0;
    char err[256];

    void *ctx = nts_tls_server_new(o->cert, o->key, err, sizeof(err));
    if (!ctx || o->ke_port <= 0 || o->ntp_port <= 0) {
        printf("serve: FAIL %s\n", ctx ? "ports" : err);
        return 2;
    }
    rotate(&ring, 1);
    int kfd = listen_on(SOCK_STREAM, o->ke_port), ufd = listen_on(SOCK_DGRAM, o->ntp_port);
    printf("serve: listening ke=%d ntp=%d\n", o->ke_port, o->ntp_port);
    fflush(stdout);
    time_t end = time(NULL) + o->seconds;
    while (time(NULL) < end) {
        struct pollfd p[2] = {{.fd = kfd, .events = POLLIN}, {.fd = ufd, .events = POLLIN}};
        if (poll(p, 2, 200) <= 0)
            continue;
        if (p[0].revents & POLLIN) {
            int fd = accept(kfd, NULL, NULL);
            if (fd >= 0) {
                int st = nts_tls_serve(ctx, fd, 3000, &ring, NULL, (uint16_t)o->ntp_port);
                st == NTS_KE_OK ? ke_ok++ : ke_bad++;
                printf("serve: ke status=%d\n", st);
                close(fd);
            }
        }
        if (p[1].revents & POLLIN)
            serve_ntp(ufd, &ring, &ok, &naks, &bad);
        if (o->rotate_after > 0 && !rotated && ok >= (unsigned)o->rotate_after) {
            rotate(&ring, 2);
            rotate(&ring, 3);
            rotated = 1;
            printf("serve: rotated the cookie key twice\n");
        }
        fflush(stdout);
    }
    printf("served: ke=%u ke_failed=%u ntp_ok=%u nak=%u bad=%u\n", ke_ok, ke_bad, ok, naks, bad);
    nts_tls_server_free(ctx);
    nts_cookie_ring_clear(&ring);
    close(kfd);
    close(ufd);
    return 0;
}

/* bench: the server's NTS work per request (check, one fresh cookie,
 * authenticated reply) and the client's check of the reply, in a loop on
 * one thread, for an idea of the CPU cost of NTS. */
static int run_bench(const struct opts *o)
{
    static struct nts_cookie_ring ring;
    static struct nts_ef_cookies got;
    struct nts_cookie_data d = {.aead = NTS_AEAD_AES_SIV_CMAC_256};
    uint8_t q[1500], r[1500], ck[NTS_COOKIE_LEN], fresh[NTS_COOKIE_LEN], uid[32] = {1},
        nonce[16] = {2};
    const uint8_t *cp[1] = {fresh};
    size_t lens[1] = {NTS_COOKIE_LEN};
    struct nts_ef_server_req sr;
    struct ntp_header h = {.version = 4, .mode = 3};
    int n = o->polls > 0 ? o->polls : 100000;

    rotate(&ring, 1);
    if (nts_cookie_make(&ring, &d, nonce, ck, sizeof(ck)) == 0)
        return 1;
    struct nts_ef_client_req cr = {uid, ck, sizeof(ck), 0, d.c2s, nonce};
    size_t ql = nts_ef_client_request(q, ntp_wire_encode_header(&h, q, sizeof(q)), sizeof(q), &cr);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        h.mode = 4;
        if (nts_ef_server_request(q, ql, &ring, &sr) != NTS_EF_OK ||
            nts_cookie_make(&ring, &sr.keys, nonce, fresh, sizeof(fresh)) == 0 ||
            nts_ef_server_reply(r, ntp_wire_encode_header(&h, r, sizeof(r)), sizeof(r), &sr, cp,
                                lens, 1, nonce) == 0)
            return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    size_t rl = nts_ef_server_reply(r, ntp_wire_encode_header(&h, r, sizeof(r)), sizeof(r), &sr,
                                    cp, lens, 1, nonce);
    if (nts_ef_client_reply(r, rl, uid, d.s2c, &got) != NTS_EF_OK)
        return 1;
    printf("bench: %d server NTS replies in %.3f s: %.0f/s, %.2f us each (one thread)\n", n,
           secs, n / secs, secs / n * 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.polls = 4};

    setvbuf(stdout, NULL, _IOLBF, 0);
    log_init("nts_probe", LOG_TO_STDERR, LOG_LVL_WARN);
    if (argc < 2 || nts_aead_init() < 0)
        return 2;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--tamper") == 0) {
            o.tamper = 1;
            continue;
        }
        if (!v)
            return 2;
        i++;
        if (strcmp(a, "--ke") == 0)
            o.ke = v;
        else if (strcmp(a, "--name") == 0)
            o.name = v;
        else if (strcmp(a, "--ca") == 0)
            o.ca = v;
        else if (strcmp(a, "--cert") == 0)
            o.cert = v;
        else if (strcmp(a, "--key") == 0)
            o.key = v;
        else if (strcmp(a, "--polls") == 0)
            o.polls = num(v);
        else if (strcmp(a, "--ntp-port") == 0)
            o.ntp_port = num(v);
        else if (strcmp(a, "--ke-port") == 0)
            o.ke_port = num(v);
        else if (strcmp(a, "--seconds") == 0)
            o.seconds = num(v);
        else if (strcmp(a, "--rotate-after") == 0)
            o.rotate_after = num(v);
        else if (strcmp(a, "--drop") == 0)
            o.drop = num(v);
        else
            return 2;
    }
    if (strcmp(argv[1], "client") == 0)
        return run_client(&o);
    if (strcmp(argv[1], "serve") == 0)
        return run_server(&o);
    if (strcmp(argv[1], "bench") == 0)
        return run_bench(&o);
    return 2;
}
