/* SPDX-License-Identifier: ISC */
#include "nts_tls.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const unsigned char alpn_wire[] = "\x07ntske/1";
#define ALPN_WIRE_LEN (sizeof(alpn_wire) - 1)

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* OpenSSL's reason for the last failure, for err messages. */
static const char *ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "no reason given";
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for ev or the deadline passes; 0 or -1. */
static int wait_fd(int fd, short ev, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = ev};
        int r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

/* Run one OpenSSL call (handshake, read, write) to completion, waiting
 * on the socket as it asks; returns its result, or 0 with *timed_out set
 * when the deadline passes. */
static int ssl_step(SSL *ssl, int fd, long long deadline, int *timed_out,
                    int (*op)(SSL *, void *, int), void *buf, int len)
{
    *timed_out = 0;
    for (;;) {
        ERR_clear_error();
        int r = op(ssl, buf, len);
        if (r > 0)
            return r;
        int e = SSL_get_error(ssl, r);
        short ev;
        if (e == SSL_ERROR_WANT_READ)
            ev = POLLIN;
        else if (e == SSL_ERROR_WANT_WRITE)
            ev = POLLOUT;
        else
            return r;
        if (wait_fd(fd, ev, deadline) < 0) {
            *timed_out = 1;
            return 0;
        }
    }
}

static int op_handshake(SSL *ssl, void *buf, int len)
{
    (void)buf;
    (void)len;
    return SSL_do_handshake(ssl);
}

static int op_read(SSL *ssl, void *buf, int len)
{
    return SSL_read(ssl, buf, len);
}

static int op_write(SSL *ssl, void *buf, int len)
{
    return SSL_write(ssl, buf, len);
}

/* Read one whole NTS-KE message into buf (cap bytes); its length, or a
 * status. */
static long read_message(SSL *ssl, int fd, long long deadline, uint8_t *buf, size_t cap)
{
    size_t have = 0;
    int to;

    for (;;) {
        long whole = nts_ke_message_length(buf, have);
        if (whole > 0)
            return whole;
        if (whole < 0 || have == cap)
            return NTS_KE_E_MALFORMED;
        int n = ssl_step(ssl, fd, deadline, &to, op_read, buf + have, (int)(cap - have));
        if (to)
            return NTS_TLS_E_TIMEOUT;
        if (n <= 0)
            return have ? NTS_KE_E_TRUNCATED : NTS_TLS_E_IO;
        have += (size_t)n;
    }
}

int nts_tls_export_keys(void *ssl, uint16_t aead, uint8_t c2s[NTS_AEAD_KEY_LEN],
                        uint8_t s2c[NTS_AEAD_KEY_LEN])
{
    static const char label[] = NTS_EXPORTER_LABEL;
    uint8_t ctx_c2s[5], ctx_s2c[5];

    nts_aead_exporter_context(aead, NTS_DIR_C2S, ctx_c2s);
    nts_aead_exporter_context(aead, NTS_DIR_S2C, ctx_s2c);
    if (SSL_version(ssl) != TLS1_3_VERSION ||
        SSL_export_keying_material(ssl, c2s, NTS_AEAD_KEY_LEN, label, sizeof(label) - 1, ctx_c2s,
                                   sizeof(ctx_c2s), 1) != 1 ||
        SSL_export_keying_material(ssl, s2c, NTS_AEAD_KEY_LEN, label, sizeof(label) - 1, ctx_s2c,
                                   sizeof(ctx_s2c), 1) != 1) {
        OPENSSL_cleanse(c2s, NTS_AEAD_KEY_LEN);
        OPENSSL_cleanse(s2c, NTS_AEAD_KEY_LEN);
        return -1;
    }
    return 0;
}

/* A non-blocking TCP connection to sa within the deadline; fd or -1. */
static int connect_to(const struct sockaddr *sa, socklen_t salen, long long deadline)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int soerr = 0;
    socklen_t sl = sizeof(soerr);

    if (fd < 0)
        return -1;
    if (connect(fd, sa, salen) == 0)
        return fd;
    if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) < 0)
        soerr = ETIMEDOUT;
    else if (errno != EINPROGRESS || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        soerr = errno;
    if (soerr == 0)
        return fd;
    close(fd);
    errno = soerr;
    return -1;
}

/* The client's TLS context: 1.3 only, peer verification against ca. */
static SSL_CTX *client_ctx(const char *ca)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (!ctx)
        return NULL;
    int ok = SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1 &&
             SSL_CTX_set_alpn_protos(ctx, alpn_wire, ALPN_WIRE_LEN) == 0;
    if (ok && ca)
        ok = SSL_CTX_load_verify_locations(ctx, ca, NULL) == 1 ||
             SSL_CTX_load_verify_locations(ctx, NULL, ca) == 1;
    else if (ok)
        ok = SSL_CTX_set_default_verify_paths(ctx) == 1;
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

/* The name the certificate must carry: an IP literal or a DNS name. */
static int set_peer_name(SSL *ssl, const char *name)
{
    unsigned char ip[16];

    if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 ? 0 : -1;
    return SSL_set_tlsext_host_name(ssl, name) == 1 && SSL_set1_host(ssl, name) == 1 ? 0 : -1;
}

/* After a handshake: did the server pick ntske/1? */
static int alpn_agreed(const SSL *ssl)
{
    const unsigned char *p = NULL;
    unsigned int n = 0;

    SSL_get0_alpn_selected(ssl, &p, &n);
    return n == ALPN_WIRE_LEN - 1 && memcmp(p, alpn_wire + 1, n) == 0;
}

/* Handshake, request, response, keys over a connected ssl. */
static int client_session(SSL *ssl, int fd, long long deadline, struct nts_ke_result *out,
                          char *err, size_t errlen)
{
    static const uint16_t offer[] = {NTS_AEAD_AES_SIV_CMAC_256};
    uint8_t req[64], resp[NTS_KE_MSG_MAX];
    int to;

    if (ssl_step(ssl, fd, deadline, &to, op_handshake, NULL, 0) != 1) {
        set_err(err, errlen, "TLS handshake: %s", to ? "timed out" : ssl_reason());
        return to ? NTS_TLS_E_TIMEOUT : NTS_TLS_E_HANDSHAKE;
    }
    if (!alpn_agreed(ssl)) {
        set_err(err, errlen, "the server did not agree on ALPN ntske/1");
        return NTS_TLS_E_ALPN;
    }
    size_t qlen = nts_ke_build_request(offer, 1, NULL, 0, req, sizeof(req));
    if (ssl_step(ssl, fd, deadline, &to, op_write, req, (int)qlen) != (int)qlen) {
        set_err(err, errlen, "sending the request: %s", to ? "timed out" : ssl_reason());
        return to ? NTS_TLS_E_TIMEOUT : NTS_TLS_E_IO;
    }
    long len = read_message(ssl, fd, deadline, resp, sizeof(resp));
    if (len < 0) {
        set_err(err, errlen, "reading the response: %s",
                len == NTS_TLS_E_TIMEOUT ? "timed out" : nts_ke_status_str((int)len));
        return (int)len;
    }
    int st = nts_ke_parse_response(resp, (size_t)len, offer, 1, &out->resp);
    if (st != NTS_KE_OK) {
        set_err(err, errlen, "response refused: %s (error %u, warning %u)", nts_ke_status_str(st),
                out->resp.error_code, out->resp.warning_code);
        return st;
    }
    if (nts_tls_export_keys(ssl, out->resp.aead, out->c2s, out->s2c) < 0) {
        set_err(err, errlen, "TLS key export failed");
        return NTS_TLS_E_EXPORT;
    }
    return NTS_KE_OK;
}

/* Every file in dir (certificates found by name, not through the hashed
 * lookup, which would open files at verification time, after the
 * privilege drop): how many loaded, or -1 if dir cannot be read. */
static int load_dir(X509_STORE *store, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        if (e->d_name[0] == '.' ||
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) ||
            stat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        n += X509_STORE_load_file(store, path) == 1;
    }
    closedir(d);
    ERR_clear_error();
    return n;
}

/* Load one trust location into ctx: a PEM file or a directory. 0 or -1. */
static int load_trust(SSL_CTX *ctx, const char *ca, char *err, size_t errlen)
{
    struct stat st;

    if (stat(ca, &st) < 0) {
        set_err(err, errlen, "%s: %s", ca, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        int n = load_dir(SSL_CTX_get_cert_store(ctx), ca);
        if (n <= 0) {
            set_err(err, errlen, "%s: %s", ca,
                    n < 0 ? strerror(errno) : "no certificate in this directory");
            return -1;
        }
        return 0;
    }
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        set_err(err, errlen, "%s: no certificate loaded (%s)", ca, ssl_reason());
        return -1;
    }
    return 0;
}

void *nts_tls_client_new(const char *const *ca, unsigned n, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    set_err(err, errlen, "ok");
    if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_alpn_protos(ctx, alpn_wire, ALPN_WIRE_LEN) != 0) {
        set_err(err, errlen, "TLS set-up: %s", ssl_reason());
        SSL_CTX_free(ctx);
        return NULL;
    }
    for (unsigned i = 0; i < n; i++) {
        if (load_trust(ctx, ca[i], err, errlen) < 0) {
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    if (n == 0 && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        set_err(err, errlen, "the system trust store: %s", ssl_reason());
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

void nts_tls_client_free(void *ctx)
{
    SSL_CTX_free(ctx);
}

int nts_tls_client_run(void *vctx, const char *name, const struct sockaddr *sa, socklen_t salen,
                       int timeout_ms, struct nts_ke_result *out, char *err, size_t errlen)
{
    long long deadline = now_ms() + timeout_ms;
    int st = NTS_TLS_E_SETUP;

    memset(out, 0, sizeof(*out));
    set_err(err, errlen, "ok");
    int fd = connect_to(sa, salen, deadline);
    if (fd < 0) {
        set_err(err, errlen, "connect: %s", strerror(errno));
        return NTS_TLS_E_CONNECT;
    }
    SSL *ssl = SSL_new(vctx);
    if (ssl && SSL_set_fd(ssl, fd) == 1 && set_peer_name(ssl, name) == 0 &&
        (SSL_set_connect_state(ssl), 1))
        st = client_session(ssl, fd, deadline, out, err, errlen);
    else
        set_err(err, errlen, "TLS session set-up for %s: %s", name, ssl_reason());
    if (ssl && st == NTS_KE_OK)
        SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    if (st != NTS_KE_OK)
        OPENSSL_cleanse(out, sizeof(*out));
    return st;
}

int nts_tls_client_exchange(const char *name, const struct sockaddr *sa, socklen_t salen,
                            const char *ca, int timeout_ms, struct nts_ke_result *out, char *err,
                            size_t errlen)
{
    SSL_CTX *ctx = client_ctx(ca);

    if (!ctx) {
        memset(out, 0, sizeof(*out));
        set_err(err, errlen, "TLS set-up (trust store %s): %s", ca ? ca : "default", ssl_reason());
        return NTS_TLS_E_SETUP;
    }
    int st = nts_tls_client_run(ctx, name, sa, salen, timeout_ms, out, err, errlen);
    SSL_CTX_free(ctx);
    return st;
}

/* ALPN on the server: ntske/1 or the handshake fails (RFC 8915 4). */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    for (unsigned int i = 0; i < inlen;) {
        unsigned int n = in[i];
        if (n > inlen - i - 1)
            break;
        if (n == ALPN_WIRE_LEN - 1 && memcmp(in + i + 1, alpn_wire + 1, n) == 0) {
            *out = in + i + 1;
            *outlen = (unsigned char)n;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + n;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

void *nts_tls_server_new(const char *cert, const char *key, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (!ctx) {
        set_err(err, errlen, "TLS set-up: %s", ssl_reason());
        return NULL;
    }
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        set_err(err, errlen, "certificate %s or key %s: %s", cert, key, ssl_reason());
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    /* NTS-KE sessions are one request each: no tickets to keep. */
    SSL_CTX_set_num_tickets(ctx, 0);
    return ctx;
}

void nts_tls_server_free(void *ctx)
{
    SSL_CTX_free(ctx);
}

void *nts_tls_server_ref(void *ctx)
{
    return ctx && SSL_CTX_up_ref(ctx) == 1 ? ctx : NULL;
}

/* NTS_COOKIES_MAX fresh cookies for the session's keys. */
static int make_cookies(const struct nts_cookie_ring *ring, const struct nts_cookie_data *d,
                        uint8_t cookies[][NTS_COOKIE_LEN])
{
    uint8_t nonce[NTS_COOKIE_NONCE_LEN];

    for (int i = 0; i < NTS_COOKIES_MAX; i++)
        if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
            nts_cookie_make(ring, d, nonce, cookies[i], NTS_COOKIE_LEN) != NTS_COOKIE_LEN)
            return -1;
    return 0;
}

/* The answer to a parsed request: cookies, or an empty AEAD record when
 * the client offered nothing we have. */
static size_t answer(SSL *ssl, const struct nts_ke_request *q, const struct nts_cookie_ring *ring,
                     const char *ntp_server, uint16_t ntp_port, uint8_t *buf, size_t cap)
{
    static const uint16_t ours[] = {NTS_AEAD_AES_SIV_CMAC_256};
    uint8_t cookies[NTS_COOKIES_MAX][NTS_COOKIE_LEN];
    const uint8_t *cp[NTS_COOKIES_MAX];
    size_t lens[NTS_COOKIES_MAX];
    struct nts_cookie_data d = {.aead = nts_ke_choose_aead(q, ours, 1)};
    struct nts_ke_reply rep = {.aead = d.aead, .server = ntp_server, .port = ntp_port,
                               .cookies = cp, .cookie_len = lens};

    if (d.aead != NTS_KE_AEAD_NONE) {
        if (nts_tls_export_keys(ssl, d.aead, d.c2s, d.s2c) < 0 ||
            make_cookies(ring, &d, cookies) < 0) {
            OPENSSL_cleanse(&d, sizeof(d));
            return nts_ke_build_error(NTS_KE_ERROR_INTERNAL, buf, cap);
        }
        rep.n_cookies = NTS_COOKIES_MAX;
        for (int i = 0; i < NTS_COOKIES_MAX; i++) {
            cp[i] = cookies[i];
            lens[i] = NTS_COOKIE_LEN;
        }
    }
    size_t n = nts_ke_build_response(&rep, buf, cap);
    OPENSSL_cleanse(&d, sizeof(d));
    return n;
}

int nts_tls_serve(void *ctx, int fd, int timeout_ms, const struct nts_cookie_ring *ring,
                  const char *ntp_server, uint16_t ntp_port)
{
    long long deadline = now_ms() + timeout_ms;
    uint8_t req[NTS_KE_MSG_MAX], resp[2048];
    struct nts_ke_request q;
    int to, st;
    long len = NTS_TLS_E_SETUP;

    int fl = fcntl(fd, F_GETFL);
    SSL *ssl = SSL_new(ctx);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || !ssl || SSL_set_fd(ssl, fd) != 1)
        goto out;
    SSL_set_accept_state(ssl);
    len = NTS_TLS_E_HANDSHAKE;
    if (ssl_step(ssl, fd, deadline, &to, op_handshake, NULL, 0) != 1)
        goto out;
    len = read_message(ssl, fd, deadline, req, sizeof(req));
    if (len < 0)
        goto out;
    st = nts_ke_parse_request(req, (size_t)len, &q);
    size_t n = st == NTS_KE_OK ? answer(ssl, &q, ring, ntp_server, ntp_port, resp, sizeof(resp))
                               : nts_ke_build_error(nts_ke_error_for(st), resp, sizeof(resp));
    len = st;
    if (n == 0 || ssl_step(ssl, fd, deadline, &to, op_write, resp, (int)n) != (int)n)
        len = to ? NTS_TLS_E_TIMEOUT : NTS_TLS_E_IO;
    else
        SSL_shutdown(ssl);
out:
    SSL_free(ssl);
    return (int)len;
}
