/* SPDX-License-Identifier: ISC */
#include "nts_ef.h"

#include <openssl/crypto.h>
#include <string.h>

#include "ntp_wire.h"

#define EF_HDR 4
#define AUTH_FIXED 4 /* nonce length and ciphertext length */
#define STRATUM_OFF 1
#define REFID_OFF 12

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/* Append the authenticator at *off: the AD is pkt[0..*off). */
static int put_auth(uint8_t *pkt, size_t *off, size_t cap, const uint8_t *key,
                    const uint8_t nonce[NTS_NONCE_LEN], const uint8_t *plain, size_t plain_len)
{
    size_t ct_len = NTS_AEAD_TAG_LEN + plain_len;
    size_t flen = EF_HDR + AUTH_FIXED + NTS_NONCE_LEN + pad4(ct_len);

    if (*off > cap || flen > cap - *off || flen > 0xfffc)
        return -1;
    uint8_t *p = pkt + *off;
    const struct nts_aead_ad ad[] = {{pkt, *off}, {nonce, NTS_NONCE_LEN}};
    uint8_t *ct = p + EF_HDR + AUTH_FIXED + NTS_NONCE_LEN;
    memset(p, 0, flen);
    if (nts_aead_seal(key, ad, 2, plain, plain_len, ct, ct_len) != ct_len)
        return -1;
    put_be16(p, NTS_EF_AUTH);
    put_be16(p + 2, flen);
    put_be16(p + 4, NTS_NONCE_LEN);
    put_be16(p + 6, ct_len);
    memcpy(p + EF_HDR + AUTH_FIXED, nonce, NTS_NONCE_LEN);
    *off += flen;
    return 0;
}

size_t nts_ef_client_request(uint8_t *pkt, size_t len, size_t cap,
                             const struct nts_ef_client_req *req)
{
    static const uint8_t zeros[NTS_COOKIE_MAX];
    size_t off = len;

    if (len < NTP_HEADER_LEN || req->cookie_len < 4 || req->cookie_len > NTS_COOKIE_MAX ||
        req->cookie_len % 4 != 0 || req->n_placeholders >= NTS_COOKIES_MAX)
        return 0;
    if (ntp_wire_ext_append(pkt, cap, &off, NTS_EF_UID, req->uid, NTS_UID_LEN) < 0 ||
        ntp_wire_ext_append(pkt, cap, &off, NTS_EF_COOKIE, req->cookie, req->cookie_len) < 0)
        return 0;
    for (unsigned i = 0; i < req->n_placeholders; i++)
        if (ntp_wire_ext_append(pkt, cap, &off, NTS_EF_PLACEHOLDER, zeros, req->cookie_len) < 0)
            return 0;
    if (put_auth(pkt, &off, cap, req->c2s, req->nonce, NULL, 0) < 0)
        return 0;
    return off;
}

/* The authenticator's nonce and ciphertext inside its field's value. */
struct auth_view {
    const uint8_t *nonce, *ct;
    size_t nonce_len, ct_len;
};

static int parse_auth(const struct ntp_ext *ext, struct auth_view *a)
{
    if (ext->value_len < AUTH_FIXED)
        return -1;
    a->nonce_len = get_be16(ext->value);
    a->ct_len = get_be16(ext->value + 2);
    size_t room = ext->value_len - AUTH_FIXED;
    if (a->nonce_len == 0 || pad4(a->nonce_len) > room ||
        a->ct_len < NTS_AEAD_TAG_LEN || pad4(a->ct_len) > room - pad4(a->nonce_len))
        return -1;
    a->nonce = ext->value + AUTH_FIXED;
    a->ct = a->nonce + pad4(a->nonce_len);
    return 0;
}

/* Every NTS field of a packet, located: the walk shared by both sides. */
struct nts_fields {
    struct ntp_header hdr;
    struct ntp_ext uid, cookie, auth;
    unsigned n_uid, n_cookie, n_auth, n_placeholders;
    size_t ph_len; /* body length of the first placeholder */
    int ph_mixed;  /* placeholders of different lengths */
    size_t auth_off;     /* where the authenticator starts: the AD's length */
    struct auth_view av;
};

static int note_field(const struct ntp_ext *ext, size_t at, struct nts_fields *f)
{
    if (f->n_auth)
        return -1; /* nothing may follow the authenticator */
    switch (ext->type) {
    case NTS_EF_UID:
        f->uid = *ext;
        f->n_uid++;
        break;
    case NTS_EF_COOKIE:
        f->cookie = *ext;
        f->n_cookie++;
        break;
    case NTS_EF_PLACEHOLDER:
        if (f->n_placeholders++ == 0)
            f->ph_len = ext->value_len;
        f->ph_mixed |= ext->value_len != f->ph_len;
        break;
    case NTS_EF_AUTH:
        f->auth = *ext;
        f->auth_off = at;
        f->n_auth++;
        return parse_auth(ext, &f->av);
    default:
        break; /* other fields pass through, inside the AD */
    }
    return 0;
}

static int find_fields(const uint8_t *pkt, size_t len, struct nts_fields *f)
{
    struct ntp_packet_info info;
    struct ntp_ext ext;
    size_t off;
    int r;

    memset(f, 0, sizeof(*f));
    if (ntp_wire_parse(pkt, len, &info) < 0 || info.hdr.version != 4 || info.mac_len != 0)
        return -1;
    f->hdr = info.hdr;
    off = info.ext_off;
    for (size_t at = off; (r = ntp_wire_ext_next(pkt, &info, &off, &ext)) == 1; at = off)
        if (note_field(&ext, at, f) < 0)
            return -1;
    return r < 0 || f->n_uid != 1 ? -1 : 0;
}

/* Cookie fields inside the decrypted part; other fields are skipped. */
static int take_cookies(const uint8_t *plain, size_t len, struct nts_ef_cookies *out)
{
    size_t off = 0;

    while (off < len) {
        if (len - off < NTP_EXT_MIN_LEN)
            return -1;
        size_t flen = get_be16(plain + off + 2);
        if (flen < NTP_EXT_MIN_LEN || flen % 4 != 0 || flen > len - off)
            return -1;
        size_t clen = flen - EF_HDR;
        if (get_be16(plain + off) == NTS_EF_COOKIE && clen <= NTS_COOKIE_MAX &&
            out->n < NTS_COOKIES_MAX) {
            memcpy(out->cookie[out->n], plain + off + EF_HDR, clen);
            out->len[out->n++] = (uint16_t)clen;
        }
        off += flen;
    }
    return 0;
}

static int open_auth(const uint8_t *pkt, const struct nts_fields *f, const uint8_t *key,
                     uint8_t *plain, size_t cap)
{
    const struct nts_aead_ad ad[] = {{pkt, f->auth_off}, {f->av.nonce, f->av.nonce_len}};
    return (int)nts_aead_open(key, ad, 2, f->av.ct, f->av.ct_len, plain, cap);
}

int nts_ef_client_reply(const uint8_t *pkt, size_t len, const uint8_t uid[NTS_UID_LEN],
                        const uint8_t s2c[NTS_AEAD_KEY_LEN], struct nts_ef_cookies *out)
{
    struct nts_fields f;
    uint8_t plain[NTS_EF_PLAIN_MAX];

    memset(out, 0, sizeof(*out));
    if (find_fields(pkt, len, &f) < 0)
        return NTS_EF_E_MALFORMED;
    if (f.uid.value_len != NTS_UID_LEN || CRYPTO_memcmp(f.uid.value, uid, NTS_UID_LEN) != 0)
        return NTS_EF_E_UID;
    if (f.n_auth == 0)
        return f.hdr.stratum == 0 && f.hdr.refid == NTS_NAK_REFID ? NTS_EF_NAK
                                                                   : NTS_EF_E_MALFORMED;
    if (f.av.ct_len - NTS_AEAD_TAG_LEN > sizeof(plain))
        return NTS_EF_E_MALFORMED;
    int n = open_auth(pkt, &f, s2c, plain, sizeof(plain));
    if (n < 0)
        return NTS_EF_E_AUTH;
    if (take_cookies(plain, (size_t)n, out) < 0) {
        memset(out, 0, sizeof(*out));
        return NTS_EF_E_MALFORMED;
    }
    return NTS_EF_OK;
}

int nts_ef_server_request(const uint8_t *pkt, size_t len, const struct nts_cookie_ring *ring,
                          struct nts_ef_server_req *out)
{
    struct nts_fields f;
    uint8_t plain[NTS_EF_PLAIN_MAX];

    memset(out, 0, sizeof(*out));
    if (find_fields(pkt, len, &f) < 0 || f.uid.value_len < NTS_UID_LEN || f.n_cookie != 1 ||
        f.n_auth != 1 || f.ph_mixed || (f.n_placeholders && f.ph_len != f.cookie.value_len) || f.av.nonce_len < NTS_NONCE_LEN ||
        f.av.ct_len - NTS_AEAD_TAG_LEN > sizeof(plain))
        return NTS_EF_E_MALFORMED;
    out->uid = f.uid.value;
    out->uid_len = f.uid.value_len;
    out->req_len = len;
    out->cookie = f.cookie.value;
    out->cookie_len = f.cookie.value_len;
    out->n_placeholders =
        f.n_placeholders < NTS_COOKIES_MAX - 1 ? f.n_placeholders : NTS_COOKIES_MAX - 1;
    if (nts_cookie_open(ring, f.cookie.value, f.cookie.value_len, &out->keys) < 0 ||
        out->keys.aead != NTS_AEAD_AES_SIV_CMAC_256)
        return NTS_EF_E_COOKIE;
    if (open_auth(pkt, &f, out->keys.c2s, plain, sizeof(plain)) < 0)
        return NTS_EF_E_AUTH;
    return NTS_EF_OK;
}

/* The authenticator at *off with the plaintext where its ciphertext goes
 * (after a zero tag), for nts_ef_server_seal to encrypt in place. */
static int put_auth_open(uint8_t *pkt, size_t *off, size_t cap,
                         const uint8_t nonce[NTS_NONCE_LEN], const uint8_t *plain,
                         size_t plain_len)
{
    size_t ct_len = NTS_AEAD_TAG_LEN + plain_len;
    size_t flen = EF_HDR + AUTH_FIXED + NTS_NONCE_LEN + pad4(ct_len);

    if (*off > cap || flen > cap - *off || flen > 0xfffc)
        return -1;
    uint8_t *p = pkt + *off;
    memset(p, 0, flen);
    put_be16(p, NTS_EF_AUTH);
    put_be16(p + 2, flen);
    put_be16(p + 4, NTS_NONCE_LEN);
    put_be16(p + 6, ct_len);
    memcpy(p + EF_HDR + AUTH_FIXED, nonce, NTS_NONCE_LEN);
    if (plain_len)
        memcpy(p + EF_HDR + AUTH_FIXED + NTS_NONCE_LEN + NTS_AEAD_TAG_LEN, plain, plain_len);
    *off += flen;
    return 0;
}

size_t nts_ef_server_reply_open(uint8_t *pkt, size_t len, size_t cap,
                                const struct nts_ef_server_req *req,
                                const uint8_t *const *cookies, const size_t *cookie_len,
                                unsigned n, const uint8_t nonce[NTS_NONCE_LEN], size_t *auth_off)
{
    uint8_t plain[NTS_COOKIES_MAX * (EF_HDR + NTS_COOKIE_MAX)];
    size_t off = len, plen = 0;

    if (len < NTP_HEADER_LEN || n > 1 + req->n_placeholders || n > NTS_COOKIES_MAX ||
        req->uid_len < NTS_UID_LEN)
        return 0;
    /* Room for cookies: what the request's length leaves after the header,
     * the UID and an authenticator with a 16-byte nonce around them. */
    size_t fixed = len + EF_HDR + pad4(req->uid_len) + EF_HDR + AUTH_FIXED + NTS_NONCE_LEN +
                   NTS_AEAD_TAG_LEN;
    if (req->req_len < fixed)
        return 0;
    size_t room = req->req_len - fixed;
    if (cap < room + fixed)
        room = cap > fixed ? cap - fixed : 0;
    for (unsigned i = 0; i < n; i++) {
        if (cookie_len[i] < 4 || cookie_len[i] > NTS_COOKIE_MAX || cookie_len[i] % 4 != 0)
            return 0;
        size_t flen = EF_HDR + cookie_len[i];
        if (flen < NTP_EXT_MIN_LEN)
            flen = NTP_EXT_MIN_LEN;
        if (plen + flen > room)
            break; /* the rest would make the reply longer than the request */
        if (ntp_wire_ext_append(plain, sizeof(plain), &plen, NTS_EF_COOKIE, cookies[i],
                                cookie_len[i]) < 0)
            return 0;
    }
    if (ntp_wire_ext_append(pkt, cap, &off, NTS_EF_UID, req->uid, req->uid_len) < 0)
        return 0;
    *auth_off = off;
    if (put_auth_open(pkt, &off, cap, nonce, plen ? plain : NULL, plen) < 0)
        return 0;
    return off;
}

int nts_ef_server_seal(uint8_t *pkt, size_t len, size_t auth_off,
                       const uint8_t s2c[NTS_AEAD_KEY_LEN])
{
    uint8_t plain[NTS_COOKIES_MAX * (EF_HDR + NTS_COOKIE_MAX)];

    if (auth_off < NTP_HEADER_LEN || auth_off > len || len - auth_off < EF_HDR + AUTH_FIXED)
        return -1;
    uint8_t *p = pkt + auth_off;
    size_t flen = get_be16(p + 2), nonce_len = get_be16(p + 4), ct_len = get_be16(p + 6);
    if (get_be16(p) != NTS_EF_AUTH || flen != len - auth_off || nonce_len != NTS_NONCE_LEN ||
        ct_len < NTS_AEAD_TAG_LEN || ct_len - NTS_AEAD_TAG_LEN > sizeof(plain) ||
        EF_HDR + AUTH_FIXED + NTS_NONCE_LEN + pad4(ct_len) != flen)
        return -1;
    uint8_t *nonce = p + EF_HDR + AUTH_FIXED, *ct = nonce + NTS_NONCE_LEN;
    size_t plen = ct_len - NTS_AEAD_TAG_LEN;
    memcpy(plain, ct + NTS_AEAD_TAG_LEN, plen);
    const struct nts_aead_ad ad[] = {{pkt, auth_off}, {nonce, NTS_NONCE_LEN}};
    size_t n = nts_aead_seal(s2c, ad, 2, plen ? plain : NULL, plen, ct, ct_len);
    OPENSSL_cleanse(plain, plen);
    return n == ct_len ? 0 : -1;
}

size_t nts_ef_server_reply(uint8_t *pkt, size_t len, size_t cap, const struct nts_ef_server_req *req,
                           const uint8_t *const *cookies, const size_t *cookie_len, unsigned n,
                           const uint8_t nonce[NTS_NONCE_LEN])
{
    size_t auth_off = 0;
    size_t off = nts_ef_server_reply_open(pkt, len, cap, req, cookies, cookie_len, n, nonce,
                                          &auth_off);
    if (off == 0 || nts_ef_server_seal(pkt, off, auth_off, req->keys.s2c) < 0)
        return 0;
    return off;
}

size_t nts_ef_nak(uint8_t *pkt, size_t len, size_t cap, const uint8_t *uid, size_t uid_len)
{
    size_t off = len;

    if (len < NTP_HEADER_LEN || uid == NULL || uid_len == 0)
        return 0;
    pkt[STRATUM_OFF] = 0;
    pkt[REFID_OFF] = 'N';
    pkt[REFID_OFF + 1] = 'T';
    pkt[REFID_OFF + 2] = 'S';
    pkt[REFID_OFF + 3] = 'N';
    if (ntp_wire_ext_append(pkt, cap, &off, NTS_EF_UID, uid, uid_len) < 0)
        return 0;
    return off;
}
