/* SPDX-License-Identifier: ISC */
/* nts_ef: the NTS extension-field checks and the cookie decoder, both
 * sides. Input layout: one mode byte, then
 *   mode even: the rest is a packet (and a cookie) from the wire, given to
 *     nts_ef_server_request with a fixed key ring, nts_ef_client_reply with
 *     a fixed UID and key, and nts_cookie_open;
 *   mode odd: a placeholder count (byte), 32 UID bytes, 16 nonce bytes,
 *     then edits of 3 bytes each (position 16 bits, xor value): a genuine
 *     request is built, edited, checked by the server; a reply is built,
 *     edited the same way, checked by the client.
 * Asserts that
 *   - statuses are documented ones; outputs are empty on failure;
 *   - nothing from the wire passes as authenticated (forging a 128-bit tag
 *     by chance does not happen) and no random bytes open as a cookie;
 *   - a genuine request passes exactly when no edit changed it, and then
 *     the keys come back from the cookie; the reply is never longer than
 *     the request; a genuine reply passes exactly when unchanged, with the
 *     cookies the server put in. */
#include "fuzz.h"

#include "nts_ef.h"
#include "ntp_wire.h"

#define PKT_MAX 2048

static struct nts_cookie_ring ring;
static struct nts_cookie_data assoc;
static uint8_t cookie[NTS_COOKIE_LEN];
static const uint8_t uid_fixed[NTS_UID_LEN] = {1, 2, 3};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    uint8_t key[NTS_AEAD_KEY_LEN] = {0x42}, cn[NTS_COOKIE_NONCE_LEN] = {0x17};

    (void)argc;
    (void)argv;
    FUZZ_CHECK(nts_aead_init() == 0);
    assoc.aead = NTS_AEAD_AES_SIV_CMAC_256;
    memset(assoc.c2s, 0x11, sizeof(assoc.c2s));
    memset(assoc.s2c, 0x22, sizeof(assoc.s2c));
    FUZZ_CHECK(nts_cookie_rotate(&ring, 77, key) == 0);
    FUZZ_CHECK(nts_cookie_make(&ring, &assoc, cn, cookie, sizeof(cookie)) == NTS_COOKIE_LEN);
    return 0;
}

static void wire_input(const uint8_t *data, size_t size)
{
    static struct nts_ef_cookies got;
    struct nts_ef_server_req req;
    struct nts_cookie_data d;
    uint8_t *pkt = fuzz_dup(data, size);

    int st = nts_ef_server_request(pkt, size, &ring, &req);
    FUZZ_CHECK(st == NTS_EF_E_MALFORMED || st == NTS_EF_E_COOKIE || st == NTS_EF_E_AUTH);
    if (st == NTS_EF_E_MALFORMED)
        FUZZ_CHECK(req.uid == NULL && req.cookie == NULL);
    else
        FUZZ_CHECK(req.uid >= pkt && req.uid + req.uid_len <= pkt + size && req.uid_len >= 32);
    st = nts_ef_client_reply(pkt, size, uid_fixed, assoc.s2c, &got);
    FUZZ_CHECK(st == NTS_EF_NAK || st == NTS_EF_E_MALFORMED || st == NTS_EF_E_UID ||
               st == NTS_EF_E_AUTH);
    FUZZ_CHECK(got.n == 0);
    FUZZ_CHECK(nts_cookie_open(&ring, pkt, size, &d) == -1);
    FUZZ_CHECK(d.aead == 0);
    free(pkt);
}

/* Apply the edits; returns 1 if pkt[0..len) differs afterwards (two
 * edits of one byte may cancel out). */
static int apply_edits(uint8_t *pkt, size_t len, struct fuzz_in in)
{
    static uint8_t before[PKT_MAX];

    FUZZ_CHECK(len <= sizeof(before));
    memcpy(before, pkt, len);
    while (in.n >= 3) {
        size_t pos = fuzz_u16(&in);
        uint8_t x = fuzz_u8(&in);
        if (pos < len)
            pkt[pos] ^= x;
    }
    return memcmp(before, pkt, len) != 0;
}

static size_t make_reply(uint8_t *rep, const struct nts_ef_server_req *req, const uint8_t *nonce,
                         uint8_t fresh[][NTS_COOKIE_LEN])
{
    struct ntp_header h = {.version = 4, .mode = 4, .stratum = 2};
    const uint8_t *cs[NTS_COOKIES_MAX];
    size_t lens[NTS_COOKIES_MAX];
    unsigned n = 1 + req->n_placeholders;

    for (unsigned i = 0; i < n; i++) {
        memset(fresh[i], (int)(0xc0 + i), NTS_COOKIE_LEN);
        cs[i] = fresh[i];
        lens[i] = NTS_COOKIE_LEN;
    }
    return nts_ef_server_reply(rep, ntp_wire_encode_header(&h, rep, PKT_MAX), PKT_MAX, req, cs,
                               lens, n, nonce);
}

static void genuine_input(struct fuzz_in in)
{
    static uint8_t q[PKT_MAX], r[PKT_MAX], fresh[NTS_COOKIES_MAX][NTS_COOKIE_LEN];
    static struct nts_ef_cookies got;
    uint8_t uid[NTS_UID_LEN] = {0}, nonce[NTS_NONCE_LEN] = {0};
    struct nts_ef_server_req req;
    size_t n;

    unsigned ph = fuzz_u8(&in) % NTS_COOKIES_MAX;
    memcpy(uid, fuzz_bytes(&in, NTS_UID_LEN, &n), n);
    memcpy(nonce, fuzz_bytes(&in, NTS_NONCE_LEN, &n), n);
    struct ntp_header h = {.version = 4, .mode = 3};
    struct nts_ef_client_req creq = {uid, cookie, sizeof(cookie), ph, assoc.c2s, nonce};
    size_t qlen = nts_ef_client_request(q, ntp_wire_encode_header(&h, q, PKT_MAX), PKT_MAX, &creq);
    FUZZ_CHECK(qlen == NTP_HEADER_LEN + 36 + (1 + ph) * (4 + NTS_COOKIE_LEN) + 40);

    int changed = apply_edits(q, qlen, in);
    int st = nts_ef_server_request(q, qlen, &ring, &req);
    FUZZ_CHECK((st == NTS_EF_OK) == !changed);
    if (st != NTS_EF_OK)
        return;
    FUZZ_CHECK(req.n_placeholders == ph);
    FUZZ_CHECK(memcmp(req.keys.s2c, assoc.s2c, sizeof(assoc.s2c)) == 0);
    size_t rlen = make_reply(r, &req, nonce, fresh);
    FUZZ_CHECK(rlen > 0 && rlen <= qlen);

    changed = apply_edits(r, rlen, in);
    st = nts_ef_client_reply(r, rlen, uid, assoc.s2c, &got);
    FUZZ_CHECK((st == NTS_EF_OK) == !changed);
    if (st == NTS_EF_OK) {
        FUZZ_CHECK(got.n == 1 + ph);
        for (unsigned i = 0; i < got.n; i++)
            FUZZ_CHECK(got.len[i] == NTS_COOKIE_LEN &&
                       memcmp(got.cookie[i], fresh[i], NTS_COOKIE_LEN) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};

    if (size == 0)
        return 0;
    uint8_t mode = fuzz_u8(&in);
    if (mode % 2 == 0)
        wire_input(in.p, in.n);
    else
        genuine_input(in);
    return 0;
}
