/* SPDX-License-Identifier: ISC */
#include "nts_client.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct nts_client {
    struct nts_client_info info;
    uint8_t c2s[NTS_AEAD_KEY_LEN], s2c[NTS_AEAD_KEY_LEN];
    /* The jar: oldest first. */
    uint16_t len[NTS_COOKIES_MAX];
    uint8_t jar[NTS_COOKIES_MAX][NTS_COOKIE_MAX];
    int outstanding;
    /* A NAK came for the outstanding request and no authenticated reply
     * yet: the keys go at the next request (RFC 8915 section 5.7). */
    int nak_pending;
    uint8_t uid[NTS_UID_LEN];
};

struct nts_client *nts_client_new(void)
{
    return mem_zalloc(sizeof(struct nts_client));
}

static void drop_keys(struct nts_client *c)
{
    OPENSSL_cleanse(c->c2s, sizeof(c->c2s));
    OPENSSL_cleanse(c->s2c, sizeof(c->s2c));
    OPENSSL_cleanse(c->jar, sizeof(c->jar));
    c->info.have_keys = 0;
    c->info.cookies = 0;
    c->info.aead = 0;
    c->outstanding = 0;
    c->nak_pending = 0;
}

void nts_client_free(struct nts_client *c)
{
    if (!c)
        return;
    drop_keys(c);
    free(c);
}

static void jar_add(struct nts_client *c, const uint8_t *cookie, size_t len)
{
    if (c->info.cookies >= NTS_COOKIES_MAX || len == 0 || len > NTS_COOKIE_MAX)
        return;
    memcpy(c->jar[c->info.cookies], cookie, len);
    c->len[c->info.cookies++] = (uint16_t)len;
}

void nts_client_ke_done(struct nts_client *c, const struct nts_ke_result *ke, double now)
{
    drop_keys(c);
    memcpy(c->c2s, ke->c2s, sizeof(c->c2s));
    memcpy(c->s2c, ke->s2c, sizeof(c->s2c));
    for (unsigned i = 0; i < ke->resp.n_cookies && i < NTS_COOKIES_MAX; i++)
        jar_add(c, ke->resp.cookies[i], ke->resp.cookie_len[i]);
    c->info.have_keys = 1;
    c->info.aead = ke->resp.aead;
    c->info.kes++;
    c->info.ke_failures = 0;
    c->info.next_ke = now;
}

void nts_client_ke_failed(struct nts_client *c, double now)
{
    double wait = NTS_CLIENT_BACKOFF_MIN;

    for (unsigned i = 0; i < c->info.ke_failures && wait < NTS_CLIENT_BACKOFF_MAX; i++)
        wait *= 2;
    if (wait > NTS_CLIENT_BACKOFF_MAX)
        wait = NTS_CLIENT_BACKOFF_MAX;
    c->info.ke_failures++;
    c->info.next_ke = now + wait;
}

int nts_client_need_ke(const struct nts_client *c, double now)
{
    return (!c->info.have_keys || c->info.cookies == 0 || c->nak_pending) && now >= c->info.next_ke;
}

size_t nts_client_request(struct nts_client *c, uint8_t *pkt, size_t len, size_t cap,
                          const uint8_t uid[NTS_UID_LEN], const uint8_t nonce[NTS_NONCE_LEN])
{
    uint8_t cookie[NTS_COOKIE_MAX];

    /* The NAKed request got no authenticated reply before this poll: the
     * server no longer takes our cookies. */
    if (c->nak_pending)
        drop_keys(c);
    if (!c->info.have_keys || c->info.cookies == 0)
        return 0;
    size_t clen = c->len[0];
    memcpy(cookie, c->jar[0], clen);
    /* Spent whether or not an answer comes: a cookie is used once. */
    c->info.cookies--;
    memmove(c->jar[0], c->jar[1], sizeof(c->jar[0]) * c->info.cookies);
    memmove(c->len, c->len + 1, sizeof(c->len[0]) * c->info.cookies);
    struct nts_ef_client_req req = {uid, cookie, clen, NTS_COOKIES_MAX - 1 - c->info.cookies,
                                    c->c2s, nonce};
    size_t n = nts_ef_client_request(pkt, len, cap, &req);
    c->outstanding = n > 0;
    memcpy(c->uid, uid, NTS_UID_LEN);
    return n;
}

int nts_client_reply(struct nts_client *c, const uint8_t *pkt, size_t len)
{
    struct nts_ef_cookies got;

    if (!c->outstanding || !c->info.have_keys) {
        c->info.replies_bad++;
        return NTS_EF_E_UID;
    }
    int st = nts_ef_client_reply(pkt, len, c->uid, c->s2c, &got);
    if (st == NTS_EF_OK) {
        c->outstanding = 0;
        c->nak_pending = 0;
        c->info.replies_ok++;
        for (unsigned i = 0; i < got.n; i++)
            jar_add(c, got.cookie[i], got.len[i]);
        OPENSSL_cleanse(&got, sizeof(got));
    } else if (st == NTS_EF_NAK) {
        /* Unauthenticated: anyone who saw the request can send one. The
         * request stays outstanding, so that the genuine reply is still
         * taken; only none by the next request drops the keys. */
        c->info.naks++;
        c->nak_pending = 1;
    } else {
        c->info.replies_bad++;
    }
    return st;
}

void nts_client_get_info(const struct nts_client *c, struct nts_client_info *out)
{
    *out = c->info;
}
