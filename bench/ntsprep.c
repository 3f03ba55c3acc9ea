/* SPDX-License-Identifier: ISC */
/*
 * ntsprep: the NTS part of the benchmark, done before the timed run so
 * that loadgen spends no cryptography of its own while it measures.
 *
 * 1. One NTS-KE with the server (TLS 1.3, the CA given, name 127.0.0.1),
 *    as a client does: keys and 8 cookies, the NTP port from the port
 *    record (or -p).
 * 2. Warm-up: polls with 7 placeholders, each reply verified
 *    (nts_ef_client_reply) and its cookies kept, until the pool holds -c
 *    cookies: cookies are reused the way a client reuses what the replies
 *    bring, only many clients' worth (the server keeps no state per
 *    cookie, so its work per request is the same).
 * 3. -n authenticated requests of one cookie each (a full jar: no
 *    placeholders), request i with transmit timestamp seq_encode(key, i)
 *    as loadgen makes them, written to FILE for `loadgen -f FILE`.
 *
 * File: "NTSPREP1" | key (4 x u32, host order) | count (u64) | length
 * (u64) | count requests of length bytes.
 * Prints "ntsprep: ke ok port=P cookies=C requests=N len=L verified=V".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "seqcode.h"

#include "ntp_wire.h"
#include "nts_aead.h"
#include "nts_ef.h"
#include "nts_tls.h"

#define POOL_MAX 4096
#define WARM_TRIES 4096

struct pool {
    unsigned n;
    uint8_t cookie[POOL_MAX][NTS_COOKIE_MAX];
    uint16_t len[POOL_MAX];
};

static void die(const char *what)
{
    fprintf(stderr, "ntsprep: %s\n", what);
    exit(2);
}

/* A request with cookie c and n placeholders; returns its length. */
static size_t build(const struct nts_ke_result *ke, const uint8_t *c, size_t clen, unsigned n,
                    uint64_t tx, uint8_t uid[NTS_UID_LEN], uint8_t *out, size_t cap)
{
    struct ntp_header h = {.version = 4, .mode = 3, .poll = 6, .precision = -20, .tx_ts = tx};
    uint8_t nonce[NTS_NONCE_LEN];
    if (RAND_bytes(uid, NTS_UID_LEN) != 1 || RAND_bytes(nonce, sizeof(nonce)) != 1)
        die("RAND_bytes");
    struct nts_ef_client_req q = {.uid = uid, .cookie = c, .cookie_len = clen,
                                  .n_placeholders = n, .c2s = ke->c2s, .nonce = nonce};
    return nts_ef_client_request(out, ntp_wire_encode_header(&h, out, cap), cap, &q);
}

/* Send one request and verify its reply; cookies go to the pool. */
static int poll_once(int fd, const struct nts_ke_result *ke, const uint8_t *c, size_t clen,
                     unsigned n, struct pool *p)
{
    uint8_t q[1500], r[1500], uid[NTS_UID_LEN];
    struct nts_ef_cookies got;
    uint64_t tx;

    if (RAND_bytes((uint8_t *)&tx, sizeof(tx)) != 1)
        die("RAND_bytes");
    size_t qlen = build(ke, c, clen, n, tx, uid, q, sizeof(q));
    if (qlen == 0 || send(fd, q, qlen, 0) != (ssize_t)qlen)
        return -1;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    ssize_t k = poll(&pfd, 1, 1000) == 1 ? recv(fd, r, sizeof(r), 0) : -1;
    if (k < NTP_HEADER_LEN || nts_ef_client_reply(r, (size_t)k, uid, ke->s2c, &got) != NTS_EF_OK)
        return -1;
    for (unsigned i = 0; i < got.n && p->n < POOL_MAX; i++) {
        memcpy(p->cookie[p->n], got.cookie[i], got.len[i]);
        p->len[p->n++] = got.len[i];
    }
    return 0;
}

static int ntp_socket(uint16_t port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(0x7f000001u);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("NTP socket");
    return fd;
}

static void usage(void)
{
    fprintf(stderr, "usage: ntsprep -k KE_PORT -a CA_FILE -o FILE [-p NTP_PORT] [-n requests]"
                    " [-c pool_cookies]\n");
    exit(2);
}

/* Returns the requests' length. */
static size_t write_file(const char *path, const struct nts_ke_result *ke, const struct pool *p,
                         unsigned long count)
{
    uint32_t key[4];
    uint8_t q[1500], uid[NTS_UID_LEN];
    FILE *f = fopen(path, "wb");
    size_t len = 0;

    if (!f || getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
        die("cannot write the request file");
    for (unsigned long i = 0; i < count; i++) {
        unsigned c = (unsigned)(i % p->n);
        size_t n = build(ke, p->cookie[c], p->len[c], 0, seq_encode(key, i), uid, q, sizeof(q));
        if (n == 0 || (len && n != len))
            die("requests of different lengths");
        if (i == 0) {
            uint64_t hdr[2] = {count, n};
            len = n;
            if (fwrite("NTSPREP1", 8, 1, f) != 1 || fwrite(key, sizeof(key), 1, f) != 1 ||
                fwrite(hdr, sizeof(hdr), 1, f) != 1)
                die("write");
        }
        if (fwrite(q, n, 1, f) != 1)
            die("write");
    }
    if (fclose(f) != 0)
        die("write");
    return len;
}

int main(int argc, char **argv)
{
    static struct nts_ke_result ke;
    static struct pool pool;
    const char *ca = NULL, *out = NULL;
    unsigned long count = 100000, want = 512;
    long ke_port = 0, ntp_port = 0;
    char err[256];
    int ch;

    while ((ch = getopt(argc, argv, "k:a:o:p:n:c:")) != -1) {
        if (ch == 'k')
            ke_port = strtol(optarg, NULL, 10);
        else if (ch == 'a')
            ca = optarg;
        else if (ch == 'o')
            out = optarg;
        else if (ch == 'p')
            ntp_port = strtol(optarg, NULL, 10);
        else if (ch == 'n')
            count = strtoul(optarg, NULL, 10);
        else if (ch == 'c')
            want = strtoul(optarg, NULL, 10);
        else
            usage();
    }
    if (!ca || !out || ke_port < 1 || ke_port > 65535 || ntp_port < 0 || ntp_port > 65535 ||
        count < 1 || count > 20000000 || want < 8 || want > POOL_MAX)
        usage();
    if (nts_aead_init() < 0)
        die("no AES-SIV-CMAC-256");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)ke_port)};
    sa.sin_addr.s_addr = htonl(0x7f000001u); /* loopback only */
    int st = nts_tls_client_exchange("127.0.0.1", (struct sockaddr *)&sa, sizeof(sa), ca, 5000,
                                     &ke, err, sizeof(err));
    if (st != NTS_KE_OK) {
        fprintf(stderr, "ntsprep: key exchange failed (%d): %s\n", st, err);
        return 1;
    }
    uint16_t port = (uint16_t)(ntp_port ? ntp_port : ke.resp.port ? ke.resp.port : 123);
    int fd = ntp_socket(port);
    unsigned verified = 0;
    /* The KE's cookies first, then the pool's, each asking for 7 more. */
    for (unsigned i = 0; i < WARM_TRIES && pool.n < want; i++) {
        int first = i < ke.resp.n_cookies;
        if (!first && pool.n == 0)
            break;
        const uint8_t *c = first ? ke.resp.cookies[i] : pool.cookie[i % pool.n];
        size_t clen = first ? ke.resp.cookie_len[i] : pool.len[i % pool.n];
        verified += poll_once(fd, &ke, c, clen, NTS_COOKIES_MAX - 1, &pool) == 0;
    }
    close(fd);
    if (pool.n < 8)
        die("the server's replies did not verify or brought no cookies");
    size_t len = write_file(out, &ke, &pool, count);
    printf("ntsprep: ke ok port=%u cookies=%u requests=%lu len=%zu verified=%u\n", port, pool.n,
           count, len, verified);
    return 0;
}
