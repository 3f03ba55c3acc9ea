/* SPDX-License-Identifier: ISC */
/* Unit tests for nts_ke_worker.c: the trust store read from a file or a
 * directory (and refused, file:line, when it holds no certificate); a key
 * exchange with a real TLS server on 127.0.0.1 run on the worker's thread
 * while the event loop (sched) keeps running, its result delivered in the
 * loop; an untrusted server refused; a cancelled exchange never calls
 * back; what a reload may not change. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "nts_test.h"

#include "conf.h"
#include "nts_ke_worker.h"
#include "sched.h"

static char dir[] = "/tmp/tempus-nts-ke-worker.XXXXXX";
static char cadir[160], cert[128], key[128], other[128], other_key[128], junk[128];
static struct nts_cookie_ring ring;

static int setup(void **state)
{
    uint8_t k[32];
    char link[200];

    (void)state;
    if (nts_aead_init() < 0 || !mkdtemp(dir))
        return -1;
    snprintf(cert, sizeof(cert), "%s/server.crt", dir);
    snprintf(key, sizeof(key), "%s/server.key", dir);
    snprintf(other, sizeof(other), "%s/other.crt", dir);
    snprintf(other_key, sizeof(other_key), "%s/other.key", dir);
    snprintf(junk, sizeof(junk), "%s/junk.pem", dir);
    snprintf(cadir, sizeof(cadir), "%s/cas", dir);
    nts_test_make_cert(cert, key, "IP:127.0.0.1");
    nts_test_make_cert(other, other_key, "IP:127.0.0.1");
    FILE *f = fopen(junk, "w");
    if (!f || fputs("not a certificate\n", f) < 0 || fclose(f) != 0)
        return -1;
    /* A directory holding the server's certificate under any name, and
     * a file that is not one. */
    snprintf(link, sizeof(link), "%s/anything.pem", cadir);
    if (mkdir(cadir, 0700) < 0 || symlink(cert, link) < 0)
        return -1;
    snprintf(link, sizeof(link), "%s/README", cadir);
    if (symlink(junk, link) < 0)
        return -1;
    memset(k, 0x5a, sizeof(k));
    return nts_cookie_rotate(&ring, 7, k);
}

static int teardown(void **state)
{
    char p[200];

    (void)state;
    snprintf(p, sizeof(p), "%s/anything.pem", cadir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/README", cadir);
    unlink(p);
    rmdir(cadir);
    unlink(cert);
    unlink(key);
    unlink(other);
    unlink(other_key);
    unlink(junk);
    rmdir(dir);
    nts_aead_fini();
    return 0;
}

static struct conf *conf_with(const char *trust, int nts)
{
    char text[512];
    int n = snprintf(text, sizeof(text), "server 127.0.0.1%s\n", nts ? " nts" : "");
    if (trust)
        snprintf(text + n, sizeof(text) - (size_t)n, "ntstrustedcerts %s\n", trust);
    struct conf *c = conf_parse_string("t.conf", text, stderr);
    assert_non_null(c);
    return c;
}

/* nts_ke_worker_check's verdict and message for a config. */
static int check(const char *trust, int nts, char *msg, size_t size)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    struct conf *c = conf_with(trust, nts);

    int rc = nts_ke_worker_check(c, f);
    fclose(f);
    snprintf(msg, size, "%s", text);
    free(text);
    conf_free(c);
    return rc;
}

static void test_check(void **state)
{
    char msg[1024];

    (void)state;
    assert_int_equal(check(cert, 1, msg, sizeof(msg)), 0);
    assert_string_equal(msg, "");
    assert_int_equal(check(cadir, 1, msg, sizeof(msg)), 0);
    assert_int_equal(check(NULL, 0, msg, sizeof(msg)), 0);
    assert_int_equal(check(NULL, 1, msg, sizeof(msg)), 0); /* the system store */
    assert_int_equal(check(junk, 1, msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, "t.conf:2: ntstrustedcerts: "));
    assert_non_null(strstr(msg, "junk.pem: no certificate loaded"));
    /* Without an NTS source a bad store is still refused: it is read. */
    assert_int_equal(check(junk, 0, msg, sizeof(msg)), -1);
    assert_int_equal(check(dir, 1, msg, sizeof(msg)), 0); /* holds server.crt */
}

static void server_start(struct nts_test_server *s)
{
    nts_test_server_start(s, cert, key, &ring, NULL, 0);
}

struct answer {
    int calls, status, ticks;
    unsigned cookies;
    uint16_t aead, port;
    char err[256];
};

static void on_ke(void *arg, int status, const struct nts_ke_result *r, const char *err)
{
    struct answer *a = arg;
    a->calls++;
    a->status = status;
    snprintf(a->err, sizeof(a->err), "%s", err);
    if (r) {
        a->cookies = r->resp.n_cookies;
        a->aead = r->resp.aead;
        a->port = r->resp.port;
    }
    sched_quit();
}

static void on_timeout(void *arg)
{
    (void)arg;
    sched_quit();
}

/* The loop goes on while the exchange runs: a 10 ms timer keeps firing. */
static void on_tick(void *arg)
{
    struct answer *a = arg;
    a->ticks++;
    sched_add_timer(0.01, on_tick, a);
}

/* Run the loop until an answer or secs seconds. */
static void run_loop(struct answer *a, double secs)
{
    uint64_t t = sched_add_timer(secs, on_timeout, NULL);
    sched_run();
    sched_cancel_timer(t);
    (void)a;
}

static void exchange_with(const char *trust, struct answer *a, int *server_status)
{
    struct nts_test_server s;
    struct netaddr na;

    struct conf *c = conf_with(trust, 1);
    sched_init();
    nts_ke_worker_init(c);
    server_start(&s);
    assert_int_equal(addr_parse("127.0.0.1", &na), 0);
    memset(a, 0, sizeof(*a));
    sched_add_timer(0.01, on_tick, a);
    assert_int_equal(nts_ke_worker_start("127.0.0.1", &na, ntohs(s.addr.sin_port), on_ke, a), 0);
    run_loop(a, 10.0);
    *server_status = nts_test_server_end(&s);
    nts_ke_worker_fini();
    sched_fini();
    conf_free(c);
}

static void test_exchange_in_loop(void **state)
{
    struct answer a;
    int st;

    (void)state;
    exchange_with(cert, &a, &st);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, NTS_KE_OK);
    assert_int_equal(a.cookies, 8);
    assert_int_equal(a.aead, NTS_AEAD_AES_SIV_CMAC_256);
    assert_int_equal(a.port, NTS_TEST_NTP_PORT);
    assert_int_equal(st, NTS_KE_OK);
    assert_true(a.ticks >= 1); /* the loop ran while the exchange did */

    exchange_with(cadir, &a, &st); /* the store read from a directory */
    assert_int_equal(a.status, NTS_KE_OK);
    assert_int_equal(a.cookies, 8);

    exchange_with(other, &a, &st); /* another CA: refused */
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, NTS_TLS_E_HANDSHAKE);
    assert_non_null(strstr(a.err, "certificate verify failed"));
    assert_int_not_equal(st, NTS_KE_OK);
}

static void test_cancel(void **state)
{
    struct nts_test_server s;
    struct netaddr na;
    struct answer a;

    (void)state;
    struct conf *c = conf_with(cert, 1);
    sched_init();
    nts_ke_worker_init(c);
    server_start(&s);
    assert_int_equal(addr_parse("127.0.0.1", &na), 0);
    memset(&a, 0, sizeof(a));
    assert_int_equal(nts_ke_worker_start("127.0.0.1", &na, ntohs(s.addr.sin_port), on_ke, &a), 0);
    nts_ke_worker_cancel(&a);
    assert_int_equal(nts_test_server_end(&s), NTS_KE_OK); /* the exchange itself ran */
    run_loop(&a, 0.5);                            /* its answer is read and dropped */
    assert_int_equal(a.calls, 0);
    nts_ke_worker_fini();
    sched_fini();
    conf_free(c);
}

/* Without a trust store (no NTS source at start) nothing starts. */
static void test_no_store(void **state)
{
    struct netaddr na;
    struct answer a = {0};

    (void)state;
    struct conf *c = conf_with(NULL, 0);
    sched_init();
    nts_ke_worker_init(c);
    assert_int_equal(addr_parse("127.0.0.1", &na), 0);
    assert_int_equal(nts_ke_worker_start("127.0.0.1", &na, 4460, on_ke, &a), -1);
    assert_int_equal(a.calls, 0);
    nts_ke_worker_fini();
    sched_fini();
    conf_free(c);
}

static void test_reload_check(void **state)
{
    char *text = NULL;
    size_t len = 0;

    (void)state;
    struct conf *plain = conf_with(NULL, 0), *nts = conf_with(cert, 1), *nts2 = conf_with(cadir, 1);
    sched_init();
    nts_ke_worker_init(plain); /* no store */
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(nts_ke_worker_reload_check(plain, plain, f), 0);
    assert_int_equal(nts_ke_worker_reload_check(nts, nts2, f), -1);
    fclose(f);
    assert_non_null(strstr(text, "t.conf:2: ntstrustedcerts cannot change on reload"));
    free(text);
    struct conf *nts_sys = conf_with(NULL, 1);
    f = open_memstream(&text, &len);
    assert_int_equal(nts_ke_worker_reload_check(plain, nts_sys, f), -1);
    fclose(f);
    assert_non_null(strstr(text, "t.conf:1: the first NTS source needs the trust store"));
    free(text);
    nts_ke_worker_fini();
    sched_fini();
    conf_free(plain);
    conf_free(nts);
    conf_free(nts2);
    conf_free(nts_sys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_exchange_in_loop),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_no_store),
        cmocka_unit_test(test_reload_check),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
