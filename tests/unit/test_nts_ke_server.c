/* SPDX-License-Identifier: ISC */
/* Unit tests for nts_ke_server.c over loopback with a throwaway
 * certificate: a slowloris of idle connections from 127.0.0.2 is shed past
 * its per-address share and a client from 127.0.0.1 still completes its
 * key exchange at once; a full pool and queue shed new connections; a
 * rotated ring is used by the next session; stop returns with sessions
 * still open. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "nts_test.h"

#include "nts_ke_server.h"
#include "nts_tls.h"

static char dir[] = "/tmp/tempus-nts-kesrv.XXXXXX";
static char cert[128], key[128];
static void *tls;

static int setup(void **state)
{
    char err[256];

    (void)state;
    if (nts_aead_init() < 0 || !mkdtemp(dir))
        return -1;
    snprintf(cert, sizeof(cert), "%s/c.crt", dir);
    snprintf(key, sizeof(key), "%s/c.key", dir);
    nts_test_make_cert(cert, key, "IP:127.0.0.1");
    tls = nts_tls_server_new(cert, key, err, sizeof(err));
    return tls ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nts_tls_server_free(tls);
    unlink(cert);
    unlink(key);
    rmdir(dir);
    nts_aead_fini();
    return 0;
}

static int listener(struct sockaddr_in *sa)
{
    socklen_t sl = sizeof(*sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)sa, sizeof(*sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)sa, &sl), 0);
    assert_int_equal(listen(fd, 64), 0);
    return fd;
}

/* An idle TCP connection from the given loopback source address. */
static int idle_from(const char *src, const struct sockaddr_in *to)
{
    struct sockaddr_in me = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    assert_int_equal(inet_pton(AF_INET, src, &me.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
    assert_int_equal(connect(fd, (const struct sockaddr *)to, sizeof(*to)), 0);
    return fd;
}

static double since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void ring_with(struct nts_cookie_ring *r, uint32_t id, uint8_t fill)
{
    uint8_t k[32];
    memset(k, fill, sizeof(k));
    assert_int_equal(nts_cookie_rotate(r, id, k), 0);
}

static int exchange(const struct sockaddr_in *sa, struct nts_ke_result *out)
{
    char err[256];
    int st = nts_tls_client_exchange("127.0.0.1", (const struct sockaddr *)sa, sizeof(*sa), cert,
                                     3000, out, err, sizeof(err));
    if (st != NTS_KE_OK)
        print_message("exchange: %d %s\n", st, err);
    return st;
}

static void test_slowloris(void **state)
{
    (void)state;
    static struct nts_ke_result r;
    struct nts_cookie_ring ring = {0}, newer;
    struct nts_cookie_data d;
    struct nts_ke_server_stats st;
    struct sockaddr_in sa;
    struct timespec t0;
    int idle[20];

    ring_with(&ring, 1, 0x11);
    struct nts_ke_server_conf conf = {.listen_fd = {listener(&sa)}, .nlisten = 1, .tls = tls,
                                      .workers = 4, .queue = 8, .per_address = 2,
                                      .timeout_ms = 4000};
    struct nts_ke_server *s = nts_ke_server_start(&conf, &ring);
    assert_non_null(s);
    for (int i = 0; i < 20; i++)
        idle[i] = idle_from("127.0.0.2", &sa);
    usleep(300000);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(exchange(&sa, &r), NTS_KE_OK);
    /* Far less than the 4 s the idle sessions may hold their workers. */
    assert_true(since(&t0) < 2.0);
    assert_int_equal(r.resp.n_cookies, 8);
    assert_int_equal(nts_cookie_open(&ring, r.resp.cookies[0], r.resp.cookie_len[0], &d), 0);
    assert_memory_equal(d.s2c, r.s2c, 32);
    /* The worker counts the session after the client has its answer. */
    for (int i = 0; i < 200; i++) {
        nts_ke_server_get_stats(s, &st);
        if (st.served >= 1)
            break;
        usleep(10000);
    }
    assert_int_equal(st.shed_address, 18);
    assert_int_equal(st.accepted, 3);
    assert_int_equal(st.served, 1);

    /* After a rotation new sessions use the new key, the old one opens
     * what it made before. */
    newer = ring;
    ring_with(&newer, 2, 0x22);
    nts_ke_server_set_ring(s, &newer);
    assert_int_equal(exchange(&sa, &r), NTS_KE_OK);
    assert_int_equal(r.resp.cookies[0][3], 2);
    assert_int_equal(nts_cookie_open(&ring, r.resp.cookies[0], r.resp.cookie_len[0], &d), -1);
    assert_int_equal(nts_cookie_open(&newer, r.resp.cookies[0], r.resp.cookie_len[0], &d), 0);

    /* Stop returns while the idle sessions still wait on their deadline. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nts_ke_server_stop(s);
    assert_true(since(&t0) < 5.0);
    for (int i = 0; i < 20; i++)
        close(idle[i]);
}

/* One acceptor for several listening sockets (one per bindaddress):
 * a key exchange through each of them, every socket closed at stop. */
static void test_listeners(void **state)
{
    (void)state;
    static struct nts_ke_result r;
    struct nts_cookie_ring ring = {0};
    struct nts_ke_server_stats st;
    struct sockaddr_in sa[3];
    struct nts_ke_server_conf conf = {.tls = tls, .workers = 2, .queue = 4, .per_address = 2,
                                      .timeout_ms = 3000};

    ring_with(&ring, 1, 0x11);
    for (int i = 0; i < 3; i++)
        conf.listen_fd[conf.nlisten++] = listener(&sa[i]);
    struct nts_ke_server *s = nts_ke_server_start(&conf, &ring);
    assert_non_null(s);
    for (int i = 2; i >= 0; i--)
        assert_int_equal(exchange(&sa[i], &r), NTS_KE_OK);
    for (int i = 0; i < 200; i++) {
        nts_ke_server_get_stats(s, &st);
        if (st.served >= 3)
            break;
        usleep(10000);
    }
    assert_int_equal(st.served, 3);
    nts_ke_server_stop(s);
    for (int i = 0; i < 3; i++)
        assert_int_equal(fcntl(conf.listen_fd[i], F_GETFD), -1); /* closed */
    /* none, or more than the maximum, is refused */
    conf.nlisten = 0;
    assert_null(nts_ke_server_start(&conf, &ring));
    conf.nlisten = NTS_KE_SERVER_LISTEN_MAX + 1;
    assert_null(nts_ke_server_start(&conf, &ring));
}

static void test_busy(void **state)
{
    (void)state;
    struct nts_cookie_ring ring = {0};
    struct nts_ke_server_stats st;
    struct sockaddr_in sa;
    int idle[4];

    ring_with(&ring, 1, 0x33);
    struct nts_ke_server_conf conf = {.listen_fd = {listener(&sa)}, .nlisten = 1, .tls = tls, .workers = 1,
                                      .queue = 1, .per_address = 10, .timeout_ms = 1000};
    struct nts_ke_server *s = nts_ke_server_start(&conf, &ring);
    assert_non_null(s);
    idle[0] = idle_from("127.0.0.3", &sa);
    /* Let the worker take the first before the others come. */
    for (int i = 0; i < 100; i++) {
        nts_ke_server_get_stats(s, &st);
        if (st.accepted == 1)
            break;
        usleep(10000);
    }
    usleep(100000);
    for (int i = 1; i < 4; i++) {
        idle[i] = idle_from("127.0.0.3", &sa);
        usleep(50000);
    }
    /* The acceptor judges each connection in its own time. */
    for (int i = 0; i < 200; i++) {
        nts_ke_server_get_stats(s, &st);
        if (st.accepted + st.shed_busy + st.shed_address >= 4)
            break;
        usleep(10000);
    }
    /* One served (idle until its deadline), one queued, two shed. */
    assert_int_equal(st.accepted, 2);
    assert_int_equal(st.shed_busy, 2);
    assert_int_equal(st.shed_address, 0);
    usleep(1300000);
    nts_ke_server_get_stats(s, &st);
    assert_true(st.failed >= 1); /* the first timed out */
    nts_ke_server_stop(s);
    for (int i = 0; i < 4; i++)
        close(idle[i]);

    struct nts_ke_server_conf bad = conf;
    bad.workers = 0;
    assert_null(nts_ke_server_start(&bad, &ring));
    bad = conf;
    bad.per_address = 0;
    assert_null(nts_ke_server_start(&bad, &ring));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slowloris),
        cmocka_unit_test(test_listeners),
        cmocka_unit_test(test_busy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
