/* SPDX-License-Identifier: ISC */
#include "nts_ke.h"

#include <string.h>

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int nts_ke_record_next(const uint8_t *msg, size_t len, size_t *off, struct nts_ke_record *rec)
{
    if (*off == len)
        return 0;
    if (*off > len || len - *off < NTS_KE_HDR_LEN)
        return -1;
    const uint8_t *p = msg + *off;
    uint16_t word = get_be16(p);
    size_t blen = get_be16(p + 2);
    if (blen > len - *off - NTS_KE_HDR_LEN)
        return -1;
    rec->critical = (word & NTS_KE_CRITICAL) != 0;
    rec->type = (uint16_t)(word & ~NTS_KE_CRITICAL);
    rec->body = p + NTS_KE_HDR_LEN;
    rec->body_len = blen;
    *off += NTS_KE_HDR_LEN + blen;
    return 1;
}

int nts_ke_record_put(uint8_t *buf, size_t cap, size_t *off, uint16_t type, int critical,
                      const uint8_t *body, size_t body_len)
{
    if (body_len > 0xffff || type & NTS_KE_CRITICAL || *off > cap ||
        cap - *off < NTS_KE_HDR_LEN + body_len)
        return -1;
    uint8_t *p = buf + *off;
    put_be16(p, (uint16_t)(type | (critical ? NTS_KE_CRITICAL : 0)));
    put_be16(p + 2, (uint16_t)body_len);
    if (body_len > 0)
        memcpy(p + NTS_KE_HDR_LEN, body, body_len);
    *off += NTS_KE_HDR_LEN + body_len;
    return 0;
}

long nts_ke_message_length(const uint8_t *buf, size_t len)
{
    size_t off = 0;
    struct nts_ke_record rec;

    while (nts_ke_record_next(buf, len, &off, &rec) == 1) {
        if (off > NTS_KE_MSG_MAX)
            return -1;
        if (rec.type == NTS_KE_REC_END)
            return rec.body_len == 0 ? (long)off : -1;
    }
    /* An incomplete record: wait for more unless the limit is already
     * passed. */
    return len >= NTS_KE_MSG_MAX ? -1 : 0;
}

/* A list of 16-bit values as a record body. */
static int put_u16_list(uint8_t *buf, size_t cap, size_t *off, uint16_t type,
                        const uint16_t *vals, unsigned n)
{
    uint8_t body[2 * NTS_KE_AEADS_MAX];

    if (n > NTS_KE_AEADS_MAX)
        return -1;
    for (unsigned i = 0; i < n; i++)
        put_be16(body + 2 * (size_t)i, vals[i]);
    return nts_ke_record_put(buf, cap, off, type, 1, body, 2 * (size_t)n);
}

/* Server name and port records, each only when set. */
static int put_server_port(uint8_t *buf, size_t cap, size_t *off, const char *server,
                           uint16_t port)
{
    if (server && *server) {
        size_t n = strlen(server);
        if (n > NTS_KE_SERVER_MAX ||
            nts_ke_record_put(buf, cap, off, NTS_KE_REC_SERVER, 0, (const uint8_t *)server, n) < 0)
            return -1;
    }
    if (port != 0) {
        uint8_t b[2];
        put_be16(b, port);
        if (nts_ke_record_put(buf, cap, off, NTS_KE_REC_PORT, 0, b, 2) < 0)
            return -1;
    }
    return 0;
}

size_t nts_ke_build_request(const uint16_t *aeads, unsigned n_aeads, const char *server,
                            uint16_t port, uint8_t *buf, size_t cap)
{
    const uint16_t proto = NTS_NEXT_PROTO_NTPV4;
    size_t off = 0;

    if (n_aeads == 0 ||
        put_u16_list(buf, cap, &off, NTS_KE_REC_NEXT_PROTO, &proto, 1) < 0 ||
        put_u16_list(buf, cap, &off, NTS_KE_REC_AEAD, aeads, n_aeads) < 0 ||
        put_server_port(buf, cap, &off, server, port) < 0 ||
        nts_ke_record_put(buf, cap, &off, NTS_KE_REC_END, 1, NULL, 0) < 0)
        return 0;
    return off;
}

/* A server name: 1..NTS_KE_SERVER_MAX printable ASCII bytes (a DNS name or
 * an address in text), copied as a C string. */
static int take_server(const struct nts_ke_record *rec, char *out)
{
    if (out[0] != '\0')
        return NTS_KE_E_DUPLICATE;
    if (rec->body_len == 0 || rec->body_len > NTS_KE_SERVER_MAX)
        return NTS_KE_E_BAD_RECORD;
    for (size_t i = 0; i < rec->body_len; i++)
        if (rec->body[i] <= 0x20 || rec->body[i] >= 0x7f)
            return NTS_KE_E_BAD_RECORD;
    memcpy(out, rec->body, rec->body_len);
    out[rec->body_len] = '\0';
    return NTS_KE_OK;
}

static int take_port(const struct nts_ke_record *rec, uint16_t *port, int *seen)
{
    if (*seen)
        return NTS_KE_E_DUPLICATE;
    if (rec->body_len != 2)
        return NTS_KE_E_BAD_RECORD;
    *port = get_be16(rec->body);
    *seen = 1;
    return NTS_KE_OK;
}

/* Parser state shared by the request and response checks. */
struct ke_seen {
    int next_proto, aead, port, end;
};

/* The next protocol record of a response: critical, exactly NTPv4. */
static int resp_next_proto(const struct nts_ke_record *rec, struct ke_seen *seen)
{
    if (seen->next_proto++)
        return NTS_KE_E_NEXT_PROTO;
    if (!rec->critical || rec->body_len != 2 || get_be16(rec->body) != NTS_NEXT_PROTO_NTPV4)
        return NTS_KE_E_NEXT_PROTO;
    return NTS_KE_OK;
}

static int resp_aead(const struct nts_ke_record *rec, const uint16_t *aeads, unsigned n_aeads,
                     struct ke_seen *seen, struct nts_ke_response *out)
{
    if (seen->aead++ || rec->body_len != 2)
        return NTS_KE_E_AEAD;
    uint16_t a = get_be16(rec->body);
    for (unsigned i = 0; i < n_aeads; i++) {
        if (aeads[i] == a) {
            out->aead = a;
            return NTS_KE_OK;
        }
    }
    return NTS_KE_E_AEAD;
}

/* Cookies past the first NTS_COOKIES_MAX are checked and dropped. */
static int resp_cookie(const struct nts_ke_record *rec, struct nts_ke_response *out)
{
    if (rec->body_len < 4 || rec->body_len > NTS_COOKIE_MAX || rec->body_len % 4 != 0)
        return NTS_KE_E_BAD_RECORD;
    if (out->n_cookies < NTS_COOKIES_MAX) {
        memcpy(out->cookies[out->n_cookies], rec->body, rec->body_len);
        out->cookie_len[out->n_cookies++] = (uint16_t)rec->body_len;
    }
    return NTS_KE_OK;
}

/* Error and Warning records carry one 16-bit code. */
static int resp_code(const struct nts_ke_record *rec, uint16_t *code, int status)
{
    if (rec->body_len != 2)
        return NTS_KE_E_BAD_RECORD;
    *code = get_be16(rec->body);
    return status;
}

static int resp_record(const struct nts_ke_record *rec, const uint16_t *aeads, unsigned n_aeads,
                       struct ke_seen *seen, struct nts_ke_response *out)
{
    switch (rec->type) {
    case NTS_KE_REC_END:
        seen->end = 1;
        return rec->body_len == 0 ? NTS_KE_OK : NTS_KE_E_BAD_RECORD;
    case NTS_KE_REC_NEXT_PROTO:
        return resp_next_proto(rec, seen);
    case NTS_KE_REC_ERROR:
        return resp_code(rec, &out->error_code, NTS_KE_E_SERVER_ERROR);
    case NTS_KE_REC_WARNING:
        return resp_code(rec, &out->warning_code, NTS_KE_E_WARNING);
    case NTS_KE_REC_AEAD:
        return resp_aead(rec, aeads, n_aeads, seen, out);
    case NTS_KE_REC_COOKIE:
        return resp_cookie(rec, out);
    case NTS_KE_REC_SERVER:
        return take_server(rec, out->server);
    case NTS_KE_REC_PORT:
        return take_port(rec, &out->port, &seen->port);
    default:
        return rec->critical ? NTS_KE_E_CRITICAL : NTS_KE_OK;
    }
}

/* Walk a whole message through one record handler; End must come last. */
static int walk_records(const uint8_t *msg, size_t len, struct ke_seen *seen,
                        int (*handle)(const struct nts_ke_record *, struct ke_seen *, void *),
                        void *arg)
{
    size_t off = 0;
    struct nts_ke_record rec;

    if (len > NTS_KE_MSG_MAX)
        return NTS_KE_E_MALFORMED;
    while (!seen->end && nts_ke_record_next(msg, len, &off, &rec) == 1) {
        int st = handle(&rec, seen, arg);
        if (st != NTS_KE_OK)
            return st;
    }
    if (!seen->end)
        return off == len ? NTS_KE_E_TRUNCATED : NTS_KE_E_MALFORMED;
    return off == len ? NTS_KE_OK : NTS_KE_E_MALFORMED;
}

struct resp_ctx {
    const uint16_t *aeads;
    unsigned n_aeads;
    struct nts_ke_response *out;
};

static int resp_handle(const struct nts_ke_record *rec, struct ke_seen *seen, void *arg)
{
    struct resp_ctx *c = arg;
    return resp_record(rec, c->aeads, c->n_aeads, seen, c->out);
}

int nts_ke_parse_response(const uint8_t *msg, size_t len, const uint16_t *aeads, unsigned n_aeads,
                          struct nts_ke_response *out)
{
    struct ke_seen seen = {0};
    struct resp_ctx c = {aeads, n_aeads, out};

    memset(out, 0, sizeof(*out));
    int st = walk_records(msg, len, &seen, resp_handle, &c);
    if (st == NTS_KE_OK && !seen.next_proto)
        st = NTS_KE_E_NEXT_PROTO;
    else if (st == NTS_KE_OK && !seen.aead)
        st = NTS_KE_E_AEAD;
    else if (st == NTS_KE_OK && out->n_cookies == 0)
        st = NTS_KE_E_NO_COOKIES;
    if (st != NTS_KE_OK) {
        uint16_t err = out->error_code, warn = out->warning_code;
        memset(out, 0, sizeof(*out));
        out->error_code = err;
        out->warning_code = warn;
    }
    return st;
}

/* A request's next protocol list must hold NTPv4; others may be listed. */
static int req_next_proto(const struct nts_ke_record *rec, struct ke_seen *seen)
{
    int ntp = 0;

    if (seen->next_proto++ || !rec->critical || rec->body_len == 0 || rec->body_len % 2 != 0)
        return NTS_KE_E_NEXT_PROTO;
    for (size_t i = 0; i < rec->body_len; i += 2)
        ntp |= get_be16(rec->body + i) == NTS_NEXT_PROTO_NTPV4;
    return ntp ? NTS_KE_OK : NTS_KE_E_NEXT_PROTO;
}

static int req_aead(const struct nts_ke_record *rec, struct ke_seen *seen,
                    struct nts_ke_request *out)
{
    if (seen->aead++ || rec->body_len == 0 || rec->body_len % 2 != 0)
        return NTS_KE_E_AEAD;
    for (size_t i = 0; i < rec->body_len && out->n_aeads < NTS_KE_AEADS_MAX; i += 2)
        out->aeads[out->n_aeads++] = get_be16(rec->body + i);
    return NTS_KE_OK;
}

static int req_handle(const struct nts_ke_record *rec, struct ke_seen *seen, void *arg)
{
    struct nts_ke_request *out = arg;

    switch (rec->type) {
    case NTS_KE_REC_END:
        seen->end = 1;
        return rec->body_len == 0 ? NTS_KE_OK : NTS_KE_E_BAD_RECORD;
    case NTS_KE_REC_NEXT_PROTO:
        return req_next_proto(rec, seen);
    case NTS_KE_REC_AEAD:
        return req_aead(rec, seen, out);
    case NTS_KE_REC_ERROR:
    case NTS_KE_REC_WARNING:
    case NTS_KE_REC_COOKIE:
        return NTS_KE_E_BAD_RECORD;
    case NTS_KE_REC_SERVER:
        return take_server(rec, out->server);
    case NTS_KE_REC_PORT:
        return take_port(rec, &out->port, &seen->port);
    default:
        return rec->critical ? NTS_KE_E_CRITICAL : NTS_KE_OK;
    }
}

int nts_ke_parse_request(const uint8_t *msg, size_t len, struct nts_ke_request *out)
{
    struct ke_seen seen = {0};

    memset(out, 0, sizeof(*out));
    int st = walk_records(msg, len, &seen, req_handle, out);
    if (st == NTS_KE_OK && !seen.next_proto)
        st = NTS_KE_E_NEXT_PROTO;
    else if (st == NTS_KE_OK && !seen.aead)
        st = NTS_KE_E_AEAD;
    if (st != NTS_KE_OK)
        memset(out, 0, sizeof(*out));
    return st;
}

uint16_t nts_ke_error_for(int status)
{
    return status == NTS_KE_E_CRITICAL ? NTS_KE_ERROR_UNRECOGNIZED_CRITICAL
                                       : NTS_KE_ERROR_BAD_REQUEST;
}

uint16_t nts_ke_choose_aead(const struct nts_ke_request *req, const uint16_t *supported,
                            unsigned n)
{
    for (unsigned i = 0; i < req->n_aeads && i < NTS_KE_AEADS_MAX; i++)
        for (unsigned j = 0; j < n; j++)
            if (req->aeads[i] == supported[j])
                return req->aeads[i];
    return NTS_KE_AEAD_NONE;
}

size_t nts_ke_build_response(const struct nts_ke_reply *rep, uint8_t *buf, size_t cap)
{
    const uint16_t proto = NTS_NEXT_PROTO_NTPV4;
    size_t off = 0;

    if (put_u16_list(buf, cap, &off, NTS_KE_REC_NEXT_PROTO, &proto, 1) < 0 ||
        put_u16_list(buf, cap, &off, NTS_KE_REC_AEAD, &rep->aead,
                     rep->aead == NTS_KE_AEAD_NONE ? 0 : 1) < 0)
        return 0;
    for (unsigned i = 0; i < rep->n_cookies; i++) {
        if (rep->cookie_len[i] == 0 || rep->cookie_len[i] > NTS_COOKIE_MAX ||
            nts_ke_record_put(buf, cap, &off, NTS_KE_REC_COOKIE, 0, rep->cookies[i],
                              rep->cookie_len[i]) < 0)
            return 0;
    }
    if (put_server_port(buf, cap, &off, rep->server, rep->port) < 0 ||
        nts_ke_record_put(buf, cap, &off, NTS_KE_REC_END, 1, NULL, 0) < 0)
        return 0;
    return off;
}

size_t nts_ke_build_error(uint16_t code, uint8_t *buf, size_t cap)
{
    uint8_t body[2];
    size_t off = 0;

    put_be16(body, code);
    if (nts_ke_record_put(buf, cap, &off, NTS_KE_REC_ERROR, 1, body, 2) < 0 ||
        nts_ke_record_put(buf, cap, &off, NTS_KE_REC_END, 1, NULL, 0) < 0)
        return 0;
    return off;
}

const char *nts_ke_status_str(int status)
{
    static const char *const names[] = {
        "ok",
        "malformed record",
        "no end of message",
        "unknown critical record",
        "error record from server",
        "warning record from server",
        "bad next protocol negotiation",
        "no acceptable AEAD algorithm",
        "no cookies",
        "record of the wrong shape",
        "duplicate record",
    };
    size_t n = sizeof(names) / sizeof(names[0]);

    if (status > 0 || status <= -(int)n)
        return "unknown status";
    return names[-status];
}
