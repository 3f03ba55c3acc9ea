/* SPDX-License-Identifier: ISC */
/* Unit tests for nts_tls.c over real TCP on 127.0.0.1, with throwaway
 * self-signed certificates made here (IP subjectAltName 127.0.0.1): the
 * client and the server side of this module agree on a key exchange, the
 * keys inside the server's cookies are the ones the client exported, and
 * a whole NTS NTP exchange works with them. Refused: another name, an
 * unknown CA, TLS 1.2, a client without ALPN ntske/1; a silent server
 * times out on time; a closed port fails to connect. */
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "nts_test.h"

#include "nts_ef.h"
#include "nts_tls.h"
#include "ntp_wire.h"

static char dir[] = "/tmp/tempus-nts-tls.XXXXXX";
static char cert[128], key[128], other_cert[128], other_key[128];
static struct nts_cookie_ring ring;

static int setup(void **state)
{
    uint8_t k[32];

    (void)state;
    if (nts_aead_init() < 0 || !mkdtemp(dir))
        return -1;
    snprintf(cert, sizeof(cert), "%s/server.crt", dir);
    snprintf(key, sizeof(key), "%s/server.key", dir);
    snprintf(other_cert, sizeof(other_cert), "%s/other.crt", dir);
    snprintf(other_key, sizeof(other_key), "%s/other.key", dir);
    nts_test_make_cert(cert, key, "IP:127.0.0.1,DNS:ntp.test");
    nts_test_make_cert(other_cert, other_key, "IP:127.0.0.1");
    memset(k, 0x3c, sizeof(k));
    return nts_cookie_rotate(&ring, 1, k);
}

static int teardown(void **state)
{
    (void)state;
    unlink(cert);
    unlink(key);
    unlink(other_cert);
    unlink(other_key);
    rmdir(dir);
    nts_aead_fini();
    return 0;
}

static void server_start(struct nts_test_server *s, int silent)
{
    nts_test_server_start(s, cert, key, &ring, "127.0.0.1", silent);
}

static int exchange(const struct nts_test_server *s, const char *name, const char *ca, int ms,
                    struct nts_ke_result *out, char *err, size_t errlen)
{
    return nts_tls_client_exchange(name, (const struct sockaddr *)&s->addr, sizeof(s->addr), ca,
                                   ms, out, err, errlen);
}

/* One NTS NTP exchange in memory with the cookie and keys of a KE. */
static void ntp_exchange(const struct nts_ke_result *ke)
{
    uint8_t q[1024], uid[NTS_UID_LEN] = {9}, nonce[NTS_NONCE_LEN] = {8};
    struct ntp_header h = {.version = 4, .mode = 3};
    struct nts_ef_client_req cr = {uid, ke->resp.cookies[0], ke->resp.cookie_len[0], 0, ke->c2s,
                                   nonce};
    struct nts_ef_server_req sr;

    size_t n = nts_ef_client_request(q, ntp_wire_encode_header(&h, q, sizeof(q)), sizeof(q), &cr);
    assert_true(n > 0);
    assert_int_equal(nts_ef_server_request(q, n, &ring, &sr), NTS_EF_OK);
    assert_memory_equal(sr.keys.s2c, ke->s2c, NTS_AEAD_KEY_LEN);
}

static void test_exchange(void **state)
{
    (void)state;
    static struct nts_ke_result r;
    struct nts_cookie_data d;
    struct nts_test_server s;
    char err[256];

    server_start(&s, 0);
    int st = exchange(&s, "127.0.0.1", cert, 3000, &r, err, sizeof(err));
    if (st != NTS_KE_OK)
        fail_msg("exchange: %d %s", st, err);
    assert_int_equal(nts_test_server_end(&s), NTS_KE_OK);
    assert_int_equal(r.resp.aead, NTS_AEAD_AES_SIV_CMAC_256);
    assert_int_equal(r.resp.n_cookies, NTS_COOKIES_MAX);
    assert_string_equal(r.resp.server, "127.0.0.1");
    assert_int_equal(r.resp.port, NTS_TEST_NTP_PORT);
    assert_true(memcmp(r.c2s, r.s2c, NTS_AEAD_KEY_LEN) != 0);
    for (unsigned i = 0; i < r.resp.n_cookies; i++) {
        assert_int_equal(r.resp.cookie_len[i], NTS_COOKIE_LEN);
        assert_int_equal(nts_cookie_open(&ring, r.resp.cookies[i], NTS_COOKIE_LEN, &d), 0);
        /* The server exported the same keys as the client. */
        assert_memory_equal(d.c2s, r.c2s, NTS_AEAD_KEY_LEN);
        assert_memory_equal(d.s2c, r.s2c, NTS_AEAD_KEY_LEN);
    }
    assert_true(memcmp(r.resp.cookies[0], r.resp.cookies[1], NTS_COOKIE_LEN) != 0);
    ntp_exchange(&r);

    /* Each exchange has keys of its own; the DNS name works too. */
    uint8_t first[NTS_AEAD_KEY_LEN];
    memcpy(first, r.c2s, sizeof(first));
    server_start(&s, 0);
    assert_int_equal(exchange(&s, "ntp.test", cert, 3000, &r, err, sizeof(err)), NTS_KE_OK);
    assert_int_equal(nts_test_server_end(&s), NTS_KE_OK);
    assert_true(memcmp(first, r.c2s, sizeof(first)) != 0);
}

static void test_refused_names(void **state)
{
    (void)state;
    static struct nts_ke_result r;
    struct nts_test_server s;
    char err[256];

    server_start(&s, 0);
    assert_int_equal(exchange(&s, "127.0.0.2", cert, 3000, &r, err, sizeof(err)),
                     NTS_TLS_E_HANDSHAKE);
    assert_non_null(strstr(err, "handshake"));
    assert_int_equal(nts_test_server_end(&s), NTS_TLS_E_HANDSHAKE);
    assert_int_equal(r.resp.n_cookies, 0);
    server_start(&s, 0);
    assert_int_equal(exchange(&s, "other.test", cert, 3000, &r, err, sizeof(err)),
                     NTS_TLS_E_HANDSHAKE);
    assert_int_equal(nts_test_server_end(&s), NTS_TLS_E_HANDSHAKE);
    /* Right name, but signed by a CA we do not trust. */
    server_start(&s, 0);
    assert_int_equal(exchange(&s, "127.0.0.1", other_cert, 3000, &r, err, sizeof(err)),
                     NTS_TLS_E_HANDSHAKE);
    assert_int_equal(nts_test_server_end(&s), NTS_TLS_E_HANDSHAKE);
}

/* A plain OpenSSL client that the server must refuse. */
static int raw_client(const struct nts_test_server *s, int max_version, int alpn)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(ctx);
    if (max_version)
        assert_int_equal(SSL_CTX_set_max_proto_version(ctx, max_version), 1);
    if (alpn)
        assert_int_equal(SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x08http/1.1", 9),
                         0);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(fd, (const struct sockaddr *)&s->addr, sizeof(s->addr)), 0);
    SSL *ssl = SSL_new(ctx);
    assert_int_equal(SSL_set_fd(ssl, fd), 1);
    int r = SSL_connect(ssl);
    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(ctx);
    return r;
}

static void test_refused_clients(void **state)
{
    (void)state;
    struct nts_test_server s;

    server_start(&s, 0);
    assert_true(raw_client(&s, TLS1_2_VERSION, 0) <= 0);
    assert_int_equal(nts_test_server_end(&s), NTS_TLS_E_HANDSHAKE);
    server_start(&s, 0);
    assert_true(raw_client(&s, 0, 1) <= 0);
    assert_int_equal(nts_test_server_end(&s), NTS_TLS_E_HANDSHAKE);
}

static void test_timeout_and_refused(void **state)
{
    (void)state;
    static struct nts_ke_result r;
    struct nts_test_server s;
    struct timespec t0, t1;
    char err[256];

    server_start(&s, 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(exchange(&s, "127.0.0.1", cert, 300, &r, err, sizeof(err)),
                     NTS_TLS_E_TIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs >= 0.29 && secs < 2.0);
    assert_non_null(strstr(err, "timed out"));
    assert_int_equal(nts_test_server_end(&s), 0);
    /* Nobody listens any more on that port. */
    assert_int_equal(exchange(&s, "127.0.0.1", cert, 1000, &r, err, sizeof(err)),
                     NTS_TLS_E_CONNECT);
    assert_non_null(strstr(err, "connect"));
    char e2[256];
    assert_null(nts_tls_server_new("/nonexistent.crt", key, e2, sizeof(e2)));
    assert_non_null(strstr(e2, "/nonexistent.crt"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exchange),
        cmocka_unit_test(test_refused_names),
        cmocka_unit_test(test_refused_clients),
        cmocka_unit_test(test_timeout_and_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
