/* SPDX-License-Identifier: ISC */
/* keys: arbitrary text through keys_parse_string (the key file parser).
 * Asserts that
 *   - it returns 0 with a store, or -1 with *out NULL, and that -1 comes
 *     exactly when error lines were written, each "fuzz.keys:N: ..." with no
 *     control character; without an error stream the verdict is the same;
 *   - an accepted store holds one key per line that is neither blank nor a
 *     comment, keys_find finds each by its id (and nothing for id 0), and
 *     every key has a known type, 1..AUTH_KEY_MAX bytes, and the exact
 *     length a cipher type needs;
 *   - a packet signed with a parsed key verifies with it, and no longer does
 *     once a bit of the packet or the digest flips. */
#include "fuzz.h"

#include "auth.h"
#include "keys.h"
#include "ntp_wire.h"

#define NAME "fuzz.keys"
#define ERRBUF (256 * 1024) /* the parser prints at most 50 lines of ~2 KB */
#define SIGN_MAX 4          /* keys per input put through sign/verify */

static char errbuf[ERRBUF];

static void check_errors(const char *text, size_t len)
{
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        FUZZ_CHECK((size_t)(nl - p) > sizeof(NAME));
        FUZZ_CHECK(memcmp(p, NAME ":", sizeof(NAME)) == 0);
        for (const char *c = p; c < nl; c++)
            FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
        p = nl + 1;
    }
}

/* Lines that must each have become a key: not blank, not a comment. */
static unsigned key_lines(const char *text)
{
    unsigned n = 0;

    for (const char *s = text; *s;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s), i = 0;
        while (i < len && strchr(" \t\r\v\f", s[i]))
            i++;
        if (i < len && !strchr("#;!%", s[i]))
            n++;
        s += len + (nl != NULL);
    }
    return n;
}

static void check_sign(const struct auth_key *k)
{
    uint8_t pkt[NTP_HEADER_LEN + AUTH_KEYID_LEN + AUTH_DIGEST_MAX];
    size_t dlen = auth_digest_len(k->type);

    FUZZ_CHECK(dlen == 16 || dlen == 20);
    for (size_t i = 0; i < NTP_HEADER_LEN; i++)
        pkt[i] = (uint8_t)(i * 37 + k->id);
    size_t n = auth_sign(k, pkt, NTP_HEADER_LEN, sizeof(pkt));
    FUZZ_CHECK(n == NTP_HEADER_LEN + AUTH_KEYID_LEN + dlen);
    FUZZ_CHECK(auth_verify(k, pkt, NTP_HEADER_LEN, n - NTP_HEADER_LEN) == 1);
    pkt[k->id % NTP_HEADER_LEN] ^= 0x10;
    FUZZ_CHECK(auth_verify(k, pkt, NTP_HEADER_LEN, n - NTP_HEADER_LEN) == 0);
    pkt[k->id % NTP_HEADER_LEN] ^= 0x10;
    pkt[n - 1] ^= 0x01;
    FUZZ_CHECK(auth_verify(k, pkt, NTP_HEADER_LEN, n - NTP_HEADER_LEN) == 0);
}

/* Ids of the keys, read back off the text the way the file gives them:
 * the first token of each key line. */
static void check_store(const struct keys *ks, const char *text)
{
    unsigned found = 0, signed_n = 0;

    FUZZ_CHECK(keys_count(ks) == key_lines(text));
    FUZZ_CHECK(keys_find(ks, 0) == NULL);
    for (const char *s = text; *s;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        const char *t = s + strspn(s, " \t\r\v\f");
        if (t < s + len && !strchr("#;!%", *t)) {
            uint32_t id = (uint32_t)strtoul(t, NULL, 10);
            const struct auth_key *k = keys_find(ks, id);
            FUZZ_CHECK(k != NULL && k->id == id);
            FUZZ_CHECK(k->type < AUTH_NTYPES);
            FUZZ_CHECK(k->len >= 1 && k->len <= AUTH_KEY_MAX);
            size_t need = auth_cipher_key_len(k->type);
            FUZZ_CHECK(need == 0 || k->len == need);
            if (signed_n++ < SIGN_MAX)
                check_sign(k);
            found++;
        }
        s += len + (nl != NULL);
    }
    FUZZ_CHECK(found == keys_count(ks));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    /* Not NULL to start with, so a failure that forgets *out shows. */
    struct keys *ks = (struct keys *)&ks, *again = (struct keys *)&again;

    FUZZ_CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    FILE *errs = fmemopen(errbuf, sizeof(errbuf), "w");
    FUZZ_CHECK(errs != NULL);
    setvbuf(errs, NULL, _IONBF, 0);
    int r = keys_parse_string(NAME, text, errs, &ks);
    long n = ftell(errs);
    fclose(errs);
    FUZZ_CHECK(n >= 0 && (size_t)n < sizeof(errbuf));
    FUZZ_CHECK(r == 0 || r == -1);
    FUZZ_CHECK((r == 0) == (ks != NULL));
    FUZZ_CHECK((r < 0) == (n > 0));
    check_errors(errbuf, (size_t)n);
    if (ks)
        check_store(ks, text);

    FUZZ_CHECK(keys_parse_string(NAME, text, NULL, &again) == r);
    FUZZ_CHECK((again == NULL) == (ks == NULL));
    keys_destroy(again);
    keys_destroy(ks);
    free(text);
    return 0;
}
