/* SPDX-License-Identifier: ISC */
/* nts_ke: arbitrary bytes as an NTS-KE message, through
 * nts_ke_message_length, nts_ke_parse_response (a client that offered AEAD
 * 15, and one that offered 30 and 15) and nts_ke_parse_request. Asserts that
 *   - a status is one of the documented ones, and an accepted message is
 *     exactly one whole message (nts_ke_message_length says so too);
 *   - an accepted response names an offered AEAD, holds 1..8 cookies of
 *     4..256 bytes in multiples of 4, a printable server name, and built
 *     again from what was parsed it parses to the same values;
 *   - an accepted request lists 1..16 algorithms, and a request built from
 *     them parses to the same list, server and port;
 *   - a refused message leaves no cookies or algorithms behind. */
#include "fuzz.h"

#include "nts_ke.h"

static void check_status(int st)
{
    FUZZ_CHECK(st <= NTS_KE_OK && st >= NTS_KE_E_DUPLICATE);
    FUZZ_CHECK(strcmp(nts_ke_status_str(st), "unknown status") != 0);
}

static void check_response(const struct nts_ke_response *r, const uint16_t *offer, unsigned n)
{
    static struct nts_ke_response again;
    static uint8_t buf[NTS_KE_MSG_MAX];
    const uint8_t *cookies[NTS_COOKIES_MAX];
    size_t lens[NTS_COOKIES_MAX];
    int offered = 0;

    for (unsigned i = 0; i < n; i++)
        offered |= offer[i] == r->aead;
    FUZZ_CHECK(offered);
    FUZZ_CHECK(r->n_cookies >= 1 && r->n_cookies <= NTS_COOKIES_MAX);
    for (unsigned i = 0; i < r->n_cookies; i++) {
        FUZZ_CHECK(r->cookie_len[i] >= 4 && r->cookie_len[i] <= NTS_COOKIE_MAX);
        FUZZ_CHECK(r->cookie_len[i] % 4 == 0);
        cookies[i] = r->cookies[i];
        lens[i] = r->cookie_len[i];
    }
    for (const char *c = r->server; *c; c++)
        FUZZ_CHECK(*c > 0x20 && *c < 0x7f);
    struct nts_ke_reply rep = {.aead = r->aead, .n_cookies = r->n_cookies, .cookies = cookies,
                               .cookie_len = lens, .server = r->server, .port = r->port};
    size_t len = nts_ke_build_response(&rep, buf, sizeof(buf));
    FUZZ_CHECK(len > 0);
    FUZZ_CHECK(nts_ke_parse_response(buf, len, offer, n, &again) == NTS_KE_OK);
    FUZZ_CHECK(again.aead == r->aead && again.n_cookies == r->n_cookies);
    FUZZ_CHECK(again.port == r->port && strcmp(again.server, r->server) == 0);
    for (unsigned i = 0; i < r->n_cookies; i++) {
        FUZZ_CHECK(again.cookie_len[i] == r->cookie_len[i]);
        FUZZ_CHECK(memcmp(again.cookies[i], r->cookies[i], r->cookie_len[i]) == 0);
    }
}

static void check_request(const struct nts_ke_request *q)
{
    static uint8_t buf[NTS_KE_MSG_MAX];
    struct nts_ke_request again;

    FUZZ_CHECK(q->n_aeads >= 1 && q->n_aeads <= NTS_KE_AEADS_MAX);
    size_t len = nts_ke_build_request(q->aeads, q->n_aeads, q->server, q->port, buf, sizeof(buf));
    FUZZ_CHECK(len > 0);
    FUZZ_CHECK(nts_ke_parse_request(buf, len, &again) == NTS_KE_OK);
    FUZZ_CHECK(again.n_aeads == q->n_aeads && again.port == q->port);
    FUZZ_CHECK(memcmp(again.aeads, q->aeads, q->n_aeads * sizeof(q->aeads[0])) == 0);
    FUZZ_CHECK(strcmp(again.server, q->server) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t offer1[] = {NTS_AEAD_AES_SIV_CMAC_256};
    static const uint16_t offer2[] = {NTS_AEAD_AES_128_GCM_SIV, NTS_AEAD_AES_SIV_CMAC_256};
    static struct nts_ke_response r;
    struct nts_ke_request q;
    uint8_t *msg = fuzz_dup(data, size);

    long whole = nts_ke_message_length(msg, size);
    FUZZ_CHECK(whole >= -1 && whole <= (long)size);
    int st = nts_ke_parse_response(msg, size, offer1, 1, &r);
    check_status(st);
    if (st == NTS_KE_OK) {
        FUZZ_CHECK(whole == (long)size);
        check_response(&r, offer1, 1);
    } else {
        FUZZ_CHECK(r.n_cookies == 0 && r.aead == 0);
    }
    st = nts_ke_parse_response(msg, size, offer2, 2, &r);
    check_status(st);
    if (st == NTS_KE_OK)
        check_response(&r, offer2, 2);
    st = nts_ke_parse_request(msg, size, &q);
    check_status(st);
    if (st == NTS_KE_OK) {
        FUZZ_CHECK(whole == (long)size);
        check_request(&q);
    } else {
        FUZZ_CHECK(q.n_aeads == 0);
        uint16_t code = nts_ke_error_for(st);
        FUZZ_CHECK(code == NTS_KE_ERROR_BAD_REQUEST || code == NTS_KE_ERROR_UNRECOGNIZED_CRITICAL);
    }
    free(msg);
    return 0;
}
