/* SPDX-License-Identifier: ISC */
/* source: one upstream's client side. A real source_make_request goes out,
 * arbitrary datagrams come back through source_process_reply; the input may
 * make them echo our random transmit timestamp (else the fuzzer could never
 * get past the origin check), give them plausible times, and step or reset
 * the clock between exchanges. Asserts that
 *   - anything not echoing the one outstanding transmit timestamp, not a
 *     server-mode v1-4 packet, or a second answer to the same request, is
 *     SOURCE_BOGUS (the off-path spoofing defence);
 *   - a DENY/RSTR kiss stops requests for good;
 *   - the counters add up, the poll stays within [minpoll, maxpoll], and the
 *     estimate and filter samples hold finite, non-negative numbers;
 *   - SOURCE_SAMPLE leaves at least one sample in the filter;
 *   - with a key, requests carry a MAC that verifies, and a reply without a
 *     valid MAC by that key is SOURCE_BOGUS, kiss codes included (the input
 *     may have the harness sign a reply, as the fuzzer cannot).
 * Input: 5 set-up bytes, then records [op][delay16][len16][len bytes]. */
#include "fuzz.h"

#include <math.h>

#include "auth.h"
#include "keys.h"
#include "ntp_wire.h"
#include "source.h"
#include "timefmt.h"

#define MAX_OPS 48
#define NKEYS 3

static const char key_file[] = "1 AES128 HEX:7EA62AE64D190114D46D5A082F948EC1\n"
                               "2 SHA1 HEX:1F2E3D4C5B6A798897A6B5C4D3E2F10112233445\n"
                               "3 MD5 ASCII:correcthorsebatterystaple\n";
static struct keys *keys;

struct world {
    struct source *src;
    struct source_params p;
    const struct auth_key *key; /* NULL: no authentication */
    struct timespec now;
    uint64_t xmt; /* outstanding transmit timestamp, 0 if none */
    int denied;
    uint64_t calls, bogus, sent;
};

static void world_init(struct world *w, struct fuzz_in *in)
{
    uint8_t a = fuzz_u8(in), b = fuzz_u8(in), k = fuzz_u8(in);
    uint16_t base = fuzz_u16(in);

    memset(w, 0, sizeof(*w));
    w->p.minpoll = (a & 15) - 4;
    w->p.maxpoll = w->p.minpoll + (b & 7);
    w->p.iburst = a >> 7;
    w->p.prefer = (a >> 6) & 1;
    w->p.noselect = (a >> 5) & 1;
    w->src = source_create(&w->p, 0x5eed0000u | b);
    w->key = keys_find(keys, k % (NKEYS + 1));
    if (w->key)
        source_set_key(w->src, w->key);
    /* Any time from 2001 to beyond the 2036 NTP era rollover. */
    w->now = (struct timespec){1000000000 + (time_t)base * 65536, 0};
}

static void check_state(const struct world *w)
{
    struct source_estimate e;
    struct source_sample_view v[SOURCE_FILTER_LEN];
    const struct source_params *p = source_params(w->src);

    source_get_estimate(w->src, &w->now, &e);
    FUZZ_CHECK(e.poll >= p->minpoll && e.poll <= p->maxpoll);
    FUZZ_CHECK(p->minpoll >= SOURCE_POLL_MIN && p->maxpoll <= SOURCE_POLL_MAX);
    FUZZ_CHECK(e.nsamples >= 0 && e.nsamples <= SOURCE_FILTER_LEN);
    FUZZ_CHECK(e.valid == (e.nsamples > 0));
    FUZZ_CHECK(e.reachable == ((e.reach & SOURCE_REACH_MASK) != 0)); /* the one definition */
    FUZZ_CHECK(e.denied == w->denied);
    FUZZ_CHECK(e.sent == w->sent);
    FUZZ_CHECK(e.bogus == w->bogus && e.received + e.bogus == w->calls);
    FUZZ_CHECK(e.kods <= e.received);
    FUZZ_CHECK(e.auth_failed <= e.bogus && (w->key || e.auth_failed == 0));
    FUZZ_CHECK(!w->denied || e.nsamples == 0);
    if (e.valid) {
        FUZZ_CHECK(isfinite(e.offset) && isfinite(e.jitter) && isfinite(e.dispersion));
        FUZZ_CHECK(e.delay > 0.0 && isfinite(e.delay));
        FUZZ_CHECK(e.jitter > 0.0 && e.dispersion > 0.0 && e.age >= 0.0);
    }
    int n = source_get_samples(w->src, &w->now, v, SOURCE_FILTER_LEN);
    FUZZ_CHECK(n == e.nsamples);
    for (int i = 0; i < n; i++) {
        FUZZ_CHECK(isfinite(v[i].offset) && v[i].delay > 0.0 && isfinite(v[i].delay));
        FUZZ_CHECK(v[i].age >= 0.0 && v[i].dispersion > 0.0 && isfinite(v[i].dispersion));
    }
    double d = source_poll_delay(w->src);
    FUZZ_CHECK(isfinite(d) && d > 0.0);
}

static void send_request(struct world *w)
{
    uint8_t req[NTP_HEADER_LEN + NTP_MAC_MAX_LEN];
    size_t n = source_make_request(w->src, &w->now, req, sizeof(req));

    if (w->denied) {
        FUZZ_CHECK(n == 0);
        return;
    }
    if (w->key) {
        FUZZ_CHECK(n == NTP_HEADER_LEN + AUTH_KEYID_LEN + auth_digest_len(w->key->type));
        FUZZ_CHECK(auth_verify(w->key, req, NTP_HEADER_LEN, n - NTP_HEADER_LEN) == 1);
    } else {
        FUZZ_CHECK(n == NTP_HEADER_LEN);
    }
    FUZZ_CHECK((req[0] & 7) == NTP_MODE_CLIENT && ((req[0] >> 3) & 7) == 4);
    w->xmt = fuzz_be64(req + 40);
    FUZZ_CHECK(w->xmt != 0);
    w->sent++;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Shape the datagram as op asks: echo our transmit timestamp, make it a
 * server-mode v4 packet, and give it receive/transmit times near ours. */
static void shape_reply(const struct world *w, uint8_t op, uint16_t delay_us, uint8_t *buf,
                        size_t len)
{
    if (len < NTP_HEADER_LEN)
        return;
    if (op & 0x04)
        put_be64(buf + 24, w->xmt);
    if (op & 0x08)
        buf[0] = (uint8_t)((buf[0] & 0xc0) | 4 << 3 | NTP_MODE_SERVER);
    if (op & 0x10) {
        struct timespec t2 = w->now, t3;
        /* a server offset of -64..+63 ms, a one-way delay of delay_us */
        timefmt_timespec_add(&t2,
                             (double)(int)(buf[4] & 0x7f) * 1e-3 - 0.064 + (double)delay_us * 1e-6);
        t3 = t2;
        timefmt_timespec_add(&t3, (double)(buf[5] & 0x0f) * 1e-4);
        put_be64(buf + 32, timefmt_ts_from_timespec(&t2));
        put_be64(buf + 40, timefmt_ts_from_timespec(&t3));
    }
}

/* The datagram, shaped and, if op asks and we have a key, signed over its
 * first 48 bytes (bit 0x80) or all of it (0x80 with 0x02 of byte 6). */
static uint8_t *make_reply(const struct world *w, uint8_t op, uint16_t delay_us, const uint8_t *raw,
                           size_t *len)
{
    uint8_t *buf = fuzz_alloc(*len + AUTH_KEYID_LEN + AUTH_DIGEST_MAX);

    memcpy(buf, raw, *len);
    shape_reply(w, op, delay_us, buf, *len);
    if (w->key && op & 0x80 && *len >= NTP_HEADER_LEN) {
        size_t at = buf[6] & 2 ? *len : NTP_HEADER_LEN;
        *len = auth_sign(w->key, buf, at, at + AUTH_KEYID_LEN + AUTH_DIGEST_MAX);
        FUZZ_CHECK(*len > at);
    }
    uint8_t *exact = fuzz_dup(buf, *len); /* exactly sized for ASan */
    free(buf);
    return exact;
}

/* Whether a reply carries a valid MAC by our key (always, without one). */
static int reply_authentic(const struct world *w, const uint8_t *buf, size_t len)
{
    struct ntp_packet_info info;

    if (!w->key)
        return 1;
    return ntp_wire_parse(buf, len, &info) == 0 && info.mac_len > 0 &&
           auth_verify(w->key, buf, info.mac_off, info.mac_len);
}

static void receive(struct world *w, uint8_t op, uint16_t delay_us, const uint8_t *raw, size_t len)
{
    uint8_t *buf = make_reply(w, op, delay_us, raw, &len);
    struct timespec t4 = w->now;

    /* Round trip of twice the one-way delay; op 0x20 makes it run
     * backwards, which a sane reply cannot come with. */
    timefmt_timespec_add(&t4, (op & 0x20 ? -1.0 : 2.0) * (double)delay_us * 1e-6);

    int ours = len >= NTP_HEADER_LEN && w->xmt != 0 && fuzz_be64(buf + 24) == w->xmt;
    unsigned mode = len ? buf[0] & 7u : 0, version = len ? (buf[0] >> 3) & 7u : 0;
    int plausible = mode == NTP_MODE_SERVER && version >= 1 && version <= 4;
    enum source_reply r = source_process_reply(w->src, buf, len, &t4);

    w->calls++;
    FUZZ_CHECK(r >= SOURCE_SAMPLE && r <= SOURCE_KOD_DENY);
    if (!ours || !plausible || !reply_authentic(w, buf, len))
        FUZZ_CHECK(r == SOURCE_BOGUS);
    if (r == SOURCE_BOGUS) {
        w->bogus++;
    } else {
        w->xmt = 0; /* answered: a replay of it is bogus from now on */
        FUZZ_CHECK(source_process_reply(w->src, buf, len, &t4) == SOURCE_BOGUS);
        w->calls++;
        w->bogus++;
    }
    if (r == SOURCE_KOD_DENY)
        w->denied = 1;
    if (r == SOURCE_SAMPLE) {
        struct source_estimate e;
        source_get_estimate(w->src, &t4, &e);
        FUZZ_CHECK(e.valid && e.nsamples > 0);
    }
    free(buf);
    w->now = t4;
}

/* One step; returns 0 when the input has run out. */
static int one_op(struct world *w, struct fuzz_in *in)
{
    uint8_t op = fuzz_u8(in);
    uint16_t delay_us = fuzz_u16(in);
    size_t want = fuzz_u16(in) % (NTP_MAX_PACKET + 1), len;
    const uint8_t *raw = fuzz_bytes(in, want, &len);

    switch (op & 3) {
    case 0: /* a new poll, then its answer */
        send_request(w);
        break;
    case 1: /* another datagram for the same poll */
        break;
    case 2:
        source_reset(w->src);
        break;
    case 3: { /* a step of up to +-0.5 s, as the discipline makes */
        double step = ((double)delay_us - 32768.0) / 65536.0;
        source_clock_stepped(w->src, step);
        timefmt_timespec_add(&w->now, step);
        break;
    }
    }
    receive(w, op, delay_us, raw, len);
    check_state(w);
    /* Time passes until the next poll. */
    timefmt_timespec_add(&w->now, op & 0x40 ? source_poll_delay(w->src) : 1.0);
    return in->n > 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    keys = fuzz_load_keys(key_file, NKEYS);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    struct world w;

    world_init(&w, &in);
    check_state(&w);
    for (int i = 0; i < MAX_OPS && one_op(&w, &in); i++)
        ;
    source_destroy(w.src);
    return 0;
}
