/* SPDX-License-Identifier: ISC */
/* server_nts: server.c's NTS path (RFC 8915) through server_handle and
 * server_finish, with an NTS server configured (a cookie ring, a policy
 * for plain requests). The request is either the fuzzer's bytes as they
 * come, or a genuine NTS request (made with a cookie of the server's ring,
 * with 0..7 placeholders) edited by the fuzzer: bytes XORed, or cut short.
 * Asserts:
 *   - no amplification: a reply is never longer than its request;
 *   - an answer with NTS (SERVER_REPLY_NTS) only for a genuine request
 *     left unchanged by the edits: the fuzzer cannot forge a cookie or an
 *     authenticator; its finished reply verifies with the client's own
 *     check (nts_ef_client_reply) and brings 1 + placeholders cookies;
 *   - every genuine request left unchanged is answered with NTS;
 *   - an NTS NAK is stratum 0 with refid NTSN;
 *   - a plain answer is a bare 48-byte header, and none comes under
 *     ntsplain drop or nak.
 * Input: [mode][placeholders][policy] then, for edits, [pos16][xor8]...
 * or, with mode bit 1, a cut length [len16]. Mode bit 0: raw bytes. */
#include "fuzz.h"

#include <netinet/in.h>
#include <time.h>

#include "acl.h"
#include "ntp_wire.h"
#include "nts_aead.h"
#include "nts_cookie.h"
#include "nts_ef.h"
#include "ratelimit.h"
#include "server.h"

static struct nts_cookie_ring ring;
static struct nts_cookie_data keys;
static uint8_t cookie[NTS_COOKIE_LEN];
static const uint8_t uid[NTS_UID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
static uint64_t rnd_state = 1;

/* Nonces for the server: any bytes do; a fixed sequence keeps runs
 * reproducible. */
static int fuzz_rand(void *buf, size_t len)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (uint8_t)(rnd_state >> 56);
    }
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    uint8_t key[NTS_AEAD_KEY_LEN], nonce[NTS_COOKIE_NONCE_LEN] = {9};
    (void)argc;
    (void)argv;
    log_init("fuzz", LOG_TO_STDERR, LOG_LVL_ERR);
    FUZZ_CHECK(nts_aead_init() == 0);
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(0x40 + i);
    FUZZ_CHECK(nts_cookie_rotate(&ring, 7, key) == 0);
    keys.aead = NTS_AEAD_AES_SIV_CMAC_256;
    for (size_t i = 0; i < NTS_AEAD_KEY_LEN; i++) {
        keys.c2s[i] = (uint8_t)(0x10 + i);
        keys.s2c[i] = (uint8_t)(0x90 + i);
    }
    FUZZ_CHECK(nts_cookie_make(&ring, &keys, nonce, cookie, sizeof(cookie)) == NTS_COOKIE_LEN);
    return 0;
}

/* A genuine request with n placeholders; returns its length. */
static size_t genuine(unsigned n, uint8_t *buf, size_t cap)
{
    struct ntp_header h = {.version = 4, .mode = 3, .poll = 6, .tx_ts = 0x0102030405060708ull};
    uint8_t nonce[NTS_NONCE_LEN] = {7, 7, 7};
    struct nts_ef_client_req q = {.uid = uid, .cookie = cookie, .cookie_len = NTS_COOKIE_LEN,
                                  .n_placeholders = n, .c2s = keys.c2s, .nonce = nonce};
    size_t len = nts_ef_client_request(buf, ntp_wire_encode_header(&h, buf, cap), cap, &q);
    FUZZ_CHECK(len > NTP_HEADER_LEN);
    return len;
}

/* The request the input asks for in req; *pristine: a genuine one left
 * as it was. Returns its length. */
static size_t make_request(const uint8_t *data, size_t size, uint8_t *req, size_t cap,
                           unsigned n, int *pristine, int *raw)
{
    uint8_t mode = data[0];

    *raw = mode & 1;
    *pristine = 0;
    if (*raw) {
        size_t len = size - 3 < cap ? size - 3 : cap;
        memcpy(req, data + 3, len);
        return len;
    }
    size_t len = genuine(n, req, cap);
    uint8_t orig[NTP_MAX_PACKET];
    memcpy(orig, req, len);
    size_t olen = len;
    if (mode & 2) {
        if (size >= 5) {
            size_t cut = (size_t)data[3] << 8 | data[4];
            len = cut < len ? cut : len;
        }
    } else {
        for (size_t i = 3; i + 3 <= size; i += 3)
            req[((size_t)data[i] << 8 | data[i + 1]) % len] ^= data[i + 2];
    }
    *pristine = len == olen && memcmp(req, orig, len) == 0;
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t req[NTP_MAX_PACKET], reply[NTP_MAX_PACKET];
    struct ratelimit_params rp = {.enabled = 0};
    struct timespec rx = {1800000000, 0}, tx = {1800000000, 1000};
    struct netaddr from;
    size_t rlen = 0;
    int pristine, raw;

    if (size < 3)
        return 0;
    unsigned n = data[1] % NTS_COOKIES_MAX;
    enum server_ntsplain policy = (enum server_ntsplain)(data[2] % 3);
    size_t len = make_request(data, size, req, sizeof(req), n, &pristine, &raw);

    struct acl *acl = acl_create();
    FUZZ_CHECK(acl_add(acl, "all", 1) == 0);
    struct ratelimit *rl = ratelimit_create(&rp, 1);
    struct server *srv = server_create(acl, rl, -20);
    struct server_ref ref = {.synced = 1, .stratum = 2, .ref_time = {1799999990, 0}};
    server_set_ref(srv, &ref);
    server_set_nts(srv, &ring, policy, fuzz_rand);
    FUZZ_CHECK(addr_parse("192.0.2.1", &from) == 0);

    enum server_verdict v =
        server_handle(srv, req, len, &from, &rx, 1000000000, reply, sizeof(reply), &rlen);
    FUZZ_CHECK(v == SERVER_DROP ? rlen == 0 : rlen > 0 && rlen <= len);
    FUZZ_CHECK((v == SERVER_REPLY_NTS) == (!raw && pristine));
    if (v != SERVER_DROP)
        FUZZ_CHECK(server_finish(srv, v, reply, rlen, &tx) == 0);
    if (v == SERVER_REPLY_NTS) {
        struct nts_ef_cookies got;
        FUZZ_CHECK(nts_ef_client_reply(reply, rlen, uid, keys.s2c, &got) == NTS_EF_OK);
        FUZZ_CHECK(got.n == 1 + n);
    }
    if (v == SERVER_REPLY_NTSN)
        FUZZ_CHECK(reply[1] == 0 && memcmp(reply + 12, "NTSN", 4) == 0);
    if (v == SERVER_REPLY)
        FUZZ_CHECK(rlen == NTP_HEADER_LEN && policy == SERVER_PLAIN_SERVE);
    server_destroy(srv);
    ratelimit_destroy(rl);
    acl_destroy(acl);
    return 0;
}
