/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_NTS_KE_H
#define TEMPUS_NTS_KE_H

#include <stddef.h>
#include <stdint.h>

/* NTS Key Establishment messages (RFC 8915 section 4): records of a
 * critical bit, a 15-bit type and a 16-bit body length, ending with an
 * End of Message record. Pure code: no I/O, no TLS, no allocation. Every
 * length comes off the caller's buffer and is checked before use. The TLS
 * session that carries these messages lives elsewhere. */

#define NTS_KE_PORT 4460
#define NTS_KE_ALPN "ntske/1"
#define NTS_KE_CRITICAL 0x8000u
#define NTS_KE_HDR_LEN 4
/* Largest message either side accepts: 8 cookies of NTS_COOKIE_MAX plus
 * every other record with room to spare. */
#define NTS_KE_MSG_MAX 16384

/* Record types (RFC 8915 section 7.6). */
enum nts_ke_rec_type {
    NTS_KE_REC_END = 0,
    NTS_KE_REC_NEXT_PROTO = 1,
    NTS_KE_REC_ERROR = 2,
    NTS_KE_REC_WARNING = 3,
    NTS_KE_REC_AEAD = 4,
    NTS_KE_REC_COOKIE = 5,
    NTS_KE_REC_SERVER = 6,
    NTS_KE_REC_PORT = 7,
};

/* Error codes of the Error record (RFC 8915 section 7.7). */
enum nts_ke_error_code {
    NTS_KE_ERROR_UNRECOGNIZED_CRITICAL = 0,
    NTS_KE_ERROR_BAD_REQUEST = 1,
    NTS_KE_ERROR_INTERNAL = 2,
};

#define NTS_NEXT_PROTO_NTPV4 0
#define NTS_AEAD_AES_SIV_CMAC_256 15 /* the one every server must have */
#define NTS_AEAD_AES_128_GCM_SIV 30
#define NTS_COOKIES_MAX 8      /* cookies a client keeps, and a server sends */
#define NTS_COOKIE_MAX 256     /* bytes of one cookie we accept */
#define NTS_KE_AEADS_MAX 16    /* algorithms of a request we look at */
#define NTS_KE_SERVER_MAX 255  /* bytes of a server negotiation name */

/* Why a message was refused; NTS_KE_OK is 0, every failure negative. */
enum nts_ke_status {
    NTS_KE_OK = 0,
    NTS_KE_E_MALFORMED = -1,     /* a length runs past the message, or bytes after End */
    NTS_KE_E_TRUNCATED = -2,     /* no End of Message record */
    NTS_KE_E_CRITICAL = -3,      /* an unknown record with the critical bit */
    NTS_KE_E_SERVER_ERROR = -4,  /* the server sent an Error record */
    NTS_KE_E_WARNING = -5,       /* the server sent a Warning record */
    NTS_KE_E_NEXT_PROTO = -6,    /* not exactly one critical next protocol NTPv4 */
    NTS_KE_E_AEAD = -7,          /* no AEAD record, or not one we offered */
    NTS_KE_E_NO_COOKIES = -8,    /* no usable cookie */
    NTS_KE_E_BAD_RECORD = -9,    /* a known record with a body of the wrong shape */
    NTS_KE_E_DUPLICATE = -10,    /* a record that may appear once appeared twice */
};

/* One record; body points into the caller's buffer. */
struct nts_ke_record {
    uint16_t type; /* without the critical bit */
    int critical;  /* 1 if the critical bit was set */
    const uint8_t *body;
    size_t body_len;
};

/* What a client learns from a successful response. */
struct nts_ke_response {
    uint16_t aead;
    unsigned n_cookies;
    uint16_t cookie_len[NTS_COOKIES_MAX];
    uint8_t cookies[NTS_COOKIES_MAX][NTS_COOKIE_MAX];
    char server[NTS_KE_SERVER_MAX + 1]; /* "" when the server sent none */
    uint16_t port;                      /* 0 when the server sent none */
    uint16_t error_code;                /* valid for NTS_KE_E_SERVER_ERROR */
    uint16_t warning_code;              /* valid for NTS_KE_E_WARNING */
};

/* What a server learns from a request. */
struct nts_ke_request {
    unsigned n_aeads;
    uint16_t aeads[NTS_KE_AEADS_MAX]; /* in the client's order */
    char server[NTS_KE_SERVER_MAX + 1];
    uint16_t port;
};

/* What a server puts in its response. */
struct nts_ke_reply {
    uint16_t aead;  /* the algorithm chosen; 0xffff sends an empty AEAD record */
    unsigned n_cookies;
    const uint8_t *const *cookies; /* n_cookies of them */
    const size_t *cookie_len;
    const char *server; /* NULL or "" for none */
    uint16_t port;      /* 0 for none */
};

#define NTS_KE_AEAD_NONE 0xffffu

/* Read the record at *off of msg[0..len); returns 1 and advances *off, 0
 * if *off == len, or -1 if the header or body would pass len. */
int nts_ke_record_next(const uint8_t *msg, size_t len, size_t *off, struct nts_ke_record *rec);
/* Append one record at *off of buf (cap bytes); returns 0, or -1 (buf
 * unchanged) if it does not fit or body_len > 65535. */
int nts_ke_record_put(uint8_t *buf, size_t cap, size_t *off, uint16_t type, int critical,
                      const uint8_t *body, size_t body_len);
/* Length of the first whole message in buf[0..len) (up to and including
 * End of Message); 0 if more bytes are needed, -1 if the bytes cannot be a
 * message (an End record with a body, or longer than NTS_KE_MSG_MAX). The
 * parsers below refuse messages longer than NTS_KE_MSG_MAX too. */
long nts_ke_message_length(const uint8_t *buf, size_t len);

/* A client request: next protocol NTPv4 (critical), the AEAD algorithms
 * in order of preference (critical), optional server and port hints (port
 * 0 for none), End. Returns its length, or 0 if it does not fit cap or the
 * arguments are out of range. */
size_t nts_ke_build_request(const uint16_t *aeads, unsigned n_aeads, const char *server,
                            uint16_t port, uint8_t *buf, size_t cap);
/* Check a server's response under RFC 8915's rules for a client that
 * offered aeads[0..n_aeads): exactly one critical next protocol record
 * holding only NTPv4, exactly one AEAD record naming one offered
 * algorithm, 1 or more cookies of 4..NTS_COOKIE_MAX bytes, a multiple of
 * 4 (the first NTS_COOKIES_MAX kept), at most one server and one port
 * record, no Error or Warning, no unknown critical record, End last and
 * nothing after it. Returns NTS_KE_OK with *out filled, or a status (*out
 * then holds the error or warning code, the rest zero). */
int nts_ke_parse_response(const uint8_t *msg, size_t len, const uint16_t *aeads, unsigned n_aeads,
                          struct nts_ke_response *out);
/* Check a client's request: exactly one critical next protocol record
 * listing NTPv4 (other protocols may follow it), exactly one AEAD record
 * with 1 or more algorithms, at most one server and one port record, no
 * Error, Warning or cookie record, no unknown critical record, End last.
 * Returns NTS_KE_OK with *out filled, or a status; the error code to
 * answer with is nts_ke_error_for(status). */
int nts_ke_parse_request(const uint8_t *msg, size_t len, struct nts_ke_request *out);
/* The Error record code a server sends back for a request status. */
uint16_t nts_ke_error_for(int status);
/* The first algorithm of the request that supported[0..n) also has, or
 * NTS_KE_AEAD_NONE. */
uint16_t nts_ke_choose_aead(const struct nts_ke_request *req, const uint16_t *supported,
                            unsigned n);
/* A server response: next protocol NTPv4, AEAD, the cookies, server and
 * port when set, End. Returns its length, or 0 if it does not fit cap or a
 * cookie is empty or longer than NTS_COOKIE_MAX. */
size_t nts_ke_build_response(const struct nts_ke_reply *rep, uint8_t *buf, size_t cap);
/* A server's error response: one critical Error record with code, then
 * End. Returns its length, or 0 if cap is too small. */
size_t nts_ke_build_error(uint16_t code, uint8_t *buf, size_t cap);
/* A short description of a status ("no cookies", ...); never NULL. */
const char *nts_ke_status_str(int status);

#endif
