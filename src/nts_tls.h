/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_NTS_TLS_H
#define TEMPUS_NTS_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "nts_aead.h"
#include "nts_cookie.h"
#include "nts_ke.h"

/* NTS-KE over TLS (RFC 8915 section 4): TLS 1.3 only, ALPN "ntske/1",
 * keys from the TLS exporter. Both sides are blocking calls with one
 * overall deadline (the socket is non-blocking underneath and every wait
 * is a poll bounded by what is left of it), meant to run before the
 * sandbox or in a worker of their own, never in the NTP loop. */

/* Failures of the transport, below the NTS-KE statuses of nts_ke.h. */
enum nts_tls_status {
    NTS_TLS_E_CONNECT = -20,   /* socket or TCP connection */
    NTS_TLS_E_TIMEOUT = -21,   /* the deadline passed */
    NTS_TLS_E_HANDSHAKE = -22, /* TLS handshake, certificate or name check */
    NTS_TLS_E_ALPN = -23,      /* the peer did not agree on ntske/1 */
    NTS_TLS_E_IO = -24,        /* reading or writing the messages */
    NTS_TLS_E_EXPORT = -25,    /* the key exporter failed */
    NTS_TLS_E_SETUP = -26,     /* certificates, keys or library set-up */
};

/* What a client takes away from a key exchange. */
struct nts_ke_result {
    struct nts_ke_response resp; /* cookies, AEAD, server and port negotiated */
    uint8_t c2s[NTS_AEAD_KEY_LEN];
    uint8_t s2c[NTS_AEAD_KEY_LEN];
};

/* Run a key exchange with the NTS-KE server at sa: connect, handshake
 * with certificate verification against ca (a PEM file or a hashed
 * directory; NULL for the system store) and the name checked (an IP
 * literal is checked against IP subjectAltNames, anything else as a DNS
 * name and also sent as SNI), send a request offering AEAD 15, check the
 * response (nts_ke_parse_response) and export the keys. Everything within
 * timeout_ms. Returns NTS_KE_OK with *out filled, or an nts_ke or nts_tls
 * status with a one-line reason in err (errlen bytes). */
int nts_tls_client_exchange(const char *name, const struct sockaddr *sa, socklen_t salen,
                            const char *ca, int timeout_ms, struct nts_ke_result *out, char *err,
                            size_t errlen);

/* A client's TLS set-up made once (before privileges are dropped and the
 * sandbox is on): TLS 1.3 only, ALPN ntske/1, peer verification against
 * the n trust locations in ca, each a PEM file or a directory whose every
 * file is read now (not looked up later by hash), or the system store
 * when n is 0. Returns an SSL_CTX * (as void *), or NULL with the reason
 * in err. Free with nts_tls_client_free. */
void *nts_tls_client_new(const char *const *ca, unsigned n, char *err, size_t errlen);
void nts_tls_client_free(void *ctx);
/* nts_tls_client_exchange with a context from nts_tls_client_new: no file
 * is read. Safe to call from one thread per ctx at a time or several (the
 * context is only read). */
int nts_tls_client_run(void *ctx, const char *name, const struct sockaddr *sa, socklen_t salen,
                       int timeout_ms, struct nts_ke_result *out, char *err, size_t errlen);

/* The C2S and S2C keys of a finished TLS 1.3 session (SSL *, as void * so
 * that this header needs no OpenSSL): 32 bytes each. Returns 0 or -1. */
int nts_tls_export_keys(void *ssl, uint16_t aead, uint8_t c2s[NTS_AEAD_KEY_LEN],
                        uint8_t s2c[NTS_AEAD_KEY_LEN]);

/* A server's TLS set-up: certificate chain and key (PEM files), TLS 1.3
 * only, ALPN ntske/1 required. Returns an SSL_CTX * (as void *), or NULL
 * with the reason in err. Free with nts_tls_server_free. */
void *nts_tls_server_new(const char *cert, const char *key, char *err, size_t errlen);
void nts_tls_server_free(void *ctx);
/* Another reference to ctx (each one freed by nts_tls_server_free), so a
 * session can go on with it after its owner replaced it. NULL on failure. */
void *nts_tls_server_ref(void *ctx);
/* Serve one NTS-KE connection on the accepted socket fd (which the caller
 * closes): handshake, read one request, answer with next protocol NTPv4,
 * AEAD 15, 8 cookies made with ring (the session's exported keys inside),
 * and the server and port records when ntp_server / ntp_port are set (NULL
 * / 0 for none); a bad request gets an Error record. All within
 * timeout_ms. Returns NTS_KE_OK, or the status of what failed. */
int nts_tls_serve(void *ctx, int fd, int timeout_ms, const struct nts_cookie_ring *ring,
                  const char *ntp_server, uint16_t ntp_port);

#endif
