/* SPDX-License-Identifier: ISC */
/* Shared by the NTS unit tests: write a throwaway certificate and its key
 * (PEM) and free both; a one-connection NTS-KE server on 127.0.0.1 in a
 * thread of its own. Include after cmocka.h and OpenSSL's pem.h. */
#ifndef TEMPUS_NTS_TEST_H
#define TEMPUS_NTS_TEST_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "nts_tls.h"

static inline void nts_test_write_pem(X509 *x, EVP_PKEY *pk, const char *crt, const char *key)
{
    FILE *f = fopen(crt, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509(f, x), 1);
    assert_int_equal(fclose(f), 0);
    f = fopen(key, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL), 1);
    assert_int_equal(fclose(f), 0);
    X509_free(x);
    EVP_PKEY_free(pk);
}

static inline void nts_test_add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    assert_non_null(e);
    assert_int_equal(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
}

/* A self-signed P-256 certificate that is its own CA, valid from an hour
 * ago for a day, with the subjectAltName san ("IP:127.0.0.1,DNS:x"),
 * written to crt and its key to key. Serials differ within a test run. */
static inline void nts_test_make_cert(const char *crt, const char *key, const char *san)
{
    static long serial = 1;
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    assert_non_null(pk);
    assert_non_null(x);
    assert_int_equal(X509_set_version(x, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
    assert_int_equal(X509_set_pubkey(x, pk), 1);
    X509_NAME *nm = X509_get_subject_name(x);
    assert_int_equal(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
                                                (const unsigned char *)"tempus test", -1, -1, 0),
                     1);
    assert_int_equal(X509_set_issuer_name(x, nm), 1);
    nts_test_add_ext(x, NID_basic_constraints, "critical,CA:TRUE");
    nts_test_add_ext(x, NID_subject_alt_name, san);
    assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
    nts_test_write_pem(x, pk, crt, key);
}

/* The port record a test server sends. */
#define NTS_TEST_NTP_PORT 11123

/* One connection served on an ephemeral port of 127.0.0.1: the key
 * exchange (nts_tls_serve, 3 s) or, when silent, nothing at all until the
 * client gives up. status is the exchange's result (0 for a silent server
 * whose client closed, 98/99 for a read or accept failure). */
struct nts_test_server {
    int lfd, status, silent;
    const char *ntp_server; /* server record; NULL for none */
    const struct nts_cookie_ring *ring;
    struct sockaddr_in addr;
    void *ctx;
    pthread_t tid;
};

static inline void *nts_test_serve_one(void *arg)
{
    struct nts_test_server *s = arg;
    int fd = accept(s->lfd, NULL, NULL);

    if (fd < 0) {
        s->status = 99;
        return NULL;
    }
    if (s->silent) {
        char buf[512];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0) /* until the client gives up */
            ;
        s->status = n == 0 ? 0 : 98;
    } else {
        s->status = nts_tls_serve(s->ctx, fd, 3000, s->ring, s->ntp_server, NTS_TEST_NTP_PORT);
    }
    close(fd);
    return NULL;
}

static inline void nts_test_server_start(struct nts_test_server *s, const char *crt,
                                         const char *key, const struct nts_cookie_ring *ring,
                                         const char *ntp_server, int silent)
{
    char err[256];
    socklen_t sl = sizeof(s->addr);

    memset(s, 0, sizeof(*s));
    s->silent = silent;
    s->ntp_server = ntp_server;
    s->ring = ring;
    s->ctx = nts_tls_server_new(crt, key, err, sizeof(err));
    assert_non_null(s->ctx);
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->lfd >= 0);
    s->addr.sin_family = AF_INET;
    s->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&s->addr, sizeof(s->addr)), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&s->addr, &sl), 0);
    assert_int_equal(listen(s->lfd, 4), 0);
    assert_int_equal(pthread_create(&s->tid, NULL, nts_test_serve_one, s), 0);
}

/* Wait for the connection to end; its status. */
static inline int nts_test_server_end(struct nts_test_server *s)
{
    assert_int_equal(pthread_join(s->tid, NULL), 0);
    close(s->lfd);
    nts_tls_server_free(s->ctx);
    return s->status;
}

#endif
