/* SPDX-License-Identifier: ISC */
/* Unit tests for the fleet audit's pure part: targets, refids, answers
 * (offset and delay from known timestamps, kiss-o'-death, foreign
 * packets), the fleet verdict and both renderings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "ntp_wire.h"

static void test_targets(void **state)
{
    struct audit_server s;
    (void)state;

    assert_int_equal(audit_parse_target("ntp1.example.net", &s), 0);
    assert_string_equal(s.host, "ntp1.example.net");
    assert_int_equal(s.port, 123);
    assert_int_equal(audit_parse_target("192.0.2.1:4123", &s), 0);
    assert_string_equal(s.host, "192.0.2.1");
    assert_int_equal(s.port, 4123);
    assert_string_equal(s.name, "192.0.2.1:4123");
    assert_int_equal(audit_parse_target("[2001:db8::1]:1123", &s), 0);
    assert_string_equal(s.host, "2001:db8::1");
    assert_int_equal(s.port, 1123);
    assert_int_equal(audit_parse_target("[2001:db8::1]", &s), 0);
    assert_int_equal(s.port, 123);
    assert_int_equal(audit_parse_target("2001:db8::1", &s), 0); /* bare IPv6: no port */
    assert_string_equal(s.host, "2001:db8::1");
    assert_int_equal(s.port, 123);
    static const char *const bad[] = {"", "host:", "host:0", "host:65536", "host:12x", "[::1",
                                      "[]:123", "[::1]123", "[::1]:", "a b", "x;rm", ":123"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (audit_parse_target(bad[i], &s) != -1)
            fail_msg("accepted target '%s'", bad[i]);
    char longname[400];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(audit_parse_target(longname, &s), -1);
}

static void test_refids(void **state)
{
    uint32_t r;
    struct netaddr a;
    (void)state;

    assert_int_equal(audit_parse_refid("192.0.2.1", &r), 0);
    assert_int_equal(r, 0xc0000201u);
    assert_int_equal(audit_parse_refid("GPS", &r), 0);
    assert_int_equal(r, ntp_wire_refid_ascii("GPS"));
    assert_int_equal(audit_parse_refid("2001:db8::1", &r), 0);
    assert_int_equal(addr_parse("2001:db8::1", &a), 0);
    assert_int_equal(r, addr_refid(&a));
    assert_int_not_equal(r, 0x20010db8u); /* the MD5 refid, not the first bytes */
    assert_int_equal(audit_parse_refid("TOOLONG", &r), -1);
    assert_int_equal(audit_parse_refid("", &r), -1);
    assert_int_equal(audit_parse_refid("A B", &r), -1);
}

/* A reply to cookie: the server received at rx and sent at tx (seconds
 * after t1's NTP time). */
static size_t reply(uint8_t *buf, uint64_t cookie, const struct timespec *t1, double rx, double tx,
                    int stratum, uint32_t refid)
{
    struct timespec a = *t1, b = *t1;
    timefmt_timespec_add(&a, rx);
    timefmt_timespec_add(&b, tx);
    struct ntp_header h = {.leap = 0, .version = 4, .mode = NTP_MODE_SERVER, .stratum = (uint8_t)stratum,
                           .refid = refid, .root_delay = timefmt_short_from_double(0.002),
                           .root_dispersion = timefmt_short_from_double(0.001), .org_ts = cookie,
                           .rx_ts = timefmt_ts_from_timespec(&a), .tx_ts = timefmt_ts_from_timespec(&b)};
    return ntp_wire_encode_header(&h, buf, 48);
}

static void test_answers(void **state)
{
    struct audit_server s;
    struct timespec t1 = {.tv_sec = 1800000000, .tv_nsec = 0}, t4 = t1;
    uint8_t buf[48];
    (void)state;

    memset(&s, 0, sizeof(s));
    /* 10 ms each way, the server 0.5 s ahead, 1 ms inside the server */
    timefmt_timespec_add(&t4, 0.021);
    size_t n = reply(buf, 42, &t1, 0.510, 0.511, 2, 0xc0000201u);
    assert_int_equal(audit_answer(&s, buf, n, 42, &t1, &t4), 1);
    assert_int_equal(s.answers, 1);
    assert_true(fabs(s.offset - 0.5) < 1e-6);
    assert_true(fabs(s.delay - 0.020) < 1e-6);
    assert_int_equal(s.stratum, 2);
    assert_true(fabs(s.root_delay - 0.002) < 1e-4);
    /* a slower answer does not replace the better one */
    struct timespec t4b = t1;
    timefmt_timespec_add(&t4b, 0.2);
    n = reply(buf, 43, &t1, 0.7, 0.7, 3, 1);
    assert_int_equal(audit_answer(&s, buf, n, 43, &t1, &t4b), 1);
    assert_int_equal(s.answers, 2);
    assert_int_equal(s.stratum, 2);
    /* not an answer to our request: other cookie, short, client mode */
    n = reply(buf, 44, &t1, 0.5, 0.5, 2, 1);
    assert_int_equal(audit_answer(&s, buf, n, 45, &t1, &t4), -1);
    assert_int_equal(audit_answer(&s, buf, 47, 44, &t1, &t4), -1);
    buf[0] = (uint8_t)((buf[0] & ~7) | NTP_MODE_CLIENT);
    assert_int_equal(audit_answer(&s, buf, n, 44, &t1, &t4), -1);
    assert_int_equal(s.answers, 2);
    /* a kiss-o'-death */
    n = reply(buf, 46, &t1, 0.5, 0.5, 0, ntp_wire_refid_ascii("RATE"));
    assert_int_equal(audit_answer(&s, buf, n, 46, &t1, &t4), 0);
    assert_string_equal(s.kod, "RATE");
    assert_int_equal(s.answers, 2);
    /* stratum 0, refid 0, leap 3: an unsynchronised server, no kiss */
    struct audit_server u;
    struct audit_params p;
    memset(&u, 0, sizeof(u));
    n = reply(buf, 47, &t1, 0.5, 0.5, 0, 0);
    buf[0] |= 0xc0;
    assert_int_equal(audit_answer(&u, buf, n, 47, &t1, &t4), 1);
    assert_string_equal(u.kod, "");
    assert_int_equal(u.leap, 3);
    audit_params_defaults(&p);
    assert_int_equal(audit_evaluate(&u, 1, &p), 2);
    assert_int_equal(u.flags, AUDIT_UNSYNCED);
    char rb[16];
    assert_string_equal(audit_refid_text(&u, rb, sizeof(rb)), "-");
}

/* A usable server: stratum 2 following refid, at offset. */
static void server(struct audit_server *s, const char *addr, double offset, uint32_t refid)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", addr);
    assert_int_equal(addr_parse(addr, &s->addr), 0);
    s->answers = s->sent = 1;
    s->stratum = 2;
    s->offset = offset;
    s->refid = refid;
}

static void test_fleet(void **state)
{
    struct audit_server f[6];
    struct audit_params p;
    (void)state;

    audit_params_defaults(&p);
    server(&f[0], "192.0.2.1", 0.001, 0xc6336401u); /* 198.51.100.1 */
    server(&f[1], "192.0.2.2", 0.002, 0xc6336401u);
    server(&f[2], "192.0.2.3", -0.001, 0xc0000201u); /* follows 192.0.2.1 (its pair) */
    assert_int_equal(audit_evaluate(f, 3, &p), 0);
    assert_true(fabs(f[1].vs_median - 0.001) < 1e-9);
    assert_int_equal(f[0].lone + f[1].lone + f[2].lone, 0);

    /* the one following an upstream no other server knows */
    server(&f[3], "192.0.2.4", 0.0, 0xcb007101u);
    assert_int_equal(audit_evaluate(f, 4, &p), 0);
    assert_int_equal(f[3].lone, 1);
    /* ... flagged once the expected upstreams are named */
    assert_int_equal(audit_parse_refid("198.51.100.1", &p.expect[0]), 0);
    p.n_expect = 1;
    assert_int_equal(audit_evaluate(f, 4, &p), 1);
    assert_int_equal(f[3].flags, AUDIT_REFID);
    assert_int_equal(f[2].flags, 0); /* following a fleet member is fine */
    p.n_expect = 0;

    /* an outlier: warning beyond 0.1 s, critical beyond 1 s */
    server(&f[4], "192.0.2.5", 0.5, 0xc6336401u);
    assert_int_equal(audit_evaluate(f, 5, &p), 1);
    assert_int_equal(f[4].flags, AUDIT_OUTLIER);
    f[4].offset = 2.0;
    assert_int_equal(audit_evaluate(f, 5, &p), 2);
    assert_int_equal(f[4].flags, AUDIT_OUTLIER | AUDIT_OUTLIER_CRIT);
    assert_int_equal(f[0].flags, 0);

    /* unreachable and unsynchronised are critical and leave the median */
    f[4].answers = 0;
    assert_int_equal(audit_evaluate(f, 5, &p), 2);
    assert_int_equal(f[4].flags, AUDIT_UNREACHABLE);
    server(&f[5], "192.0.2.6", 30.0, 0);
    f[5].leap = 3;
    f[5].stratum = 16;
    assert_int_equal(audit_evaluate(f, 6, &p), 2);
    assert_int_equal(f[5].flags, AUDIT_UNSYNCED);
    assert_int_equal(f[0].flags, 0);

    /* fewer than three usable servers: no median, no outlier */
    f[1].offset = 5.0;
    assert_int_equal(audit_evaluate(f, 2, &p), 0);
    assert_true(f[1].vs_median == 0);

    /* a RATE kiss is a warning, DENY critical */
    f[4].answers = 0;
    snprintf(f[4].kod, sizeof(f[4].kod), "RATE");
    assert_int_equal(audit_evaluate(&f[4], 1, &p), 1);
    assert_int_equal(f[4].flags, AUDIT_KOD_RATE);
    snprintf(f[4].kod, sizeof(f[4].kod), "DENY");
    assert_int_equal(audit_evaluate(&f[4], 1, &p), 2);
    assert_int_equal(f[4].flags, AUDIT_KOD_DENY);
}

static void test_render(void **state)
{
    struct audit_server f[4];
    struct audit_params p;
    struct ctl_buf out;
    (void)state;

    audit_params_defaults(&p);
    server(&f[0], "192.0.2.1", 0.001, 0xc6336401u);
    server(&f[1], "192.0.2.2", 0.002, 0xc6336401u);
    server(&f[2], "192.0.2.3", 0.5, 0xc6336401u);
    memset(&f[3], 0, sizeof(f[3]));
    assert_int_equal(audit_parse_target("[2001:db8::9]:1123", &f[3]), 0);
    int st = audit_evaluate(f, 4, &p);
    assert_int_equal(st, 2);
    ctl_buf_init(&out, 1 << 16);
    audit_render_table(f, 4, st, &out);
    ctl_buf_append(&out, "", 1);
    const char *first = "TEMPUS CRITICAL: audit: 4 servers, 3 answered, median offset +2ms, "
                        "1 unreachable, 1 outlier\nSERVER ";
    if (strncmp(out.data, first, strlen(first)) != 0)
        fail_msg("table:\n%s", out.data);
    assert_non_null(strstr(out.data, "\n192.0.2.3 "));
    assert_non_null(strstr(out.data, "198.51.100.1"));
    assert_non_null(strstr(out.data, " outlier\n"));
    assert_non_null(strstr(out.data, "[2001:db8::9]:1123"));
    ctl_buf_free(&out);
    ctl_buf_init(&out, 1 << 16);
    audit_render_json(f, 4, st, &out);
    ctl_buf_append(&out, "", 1);
    first = "{\"status\":\"CRITICAL\",\"median_offset\":0.002000000,\"servers\":[";
    if (strncmp(out.data, first, strlen(first)) != 0)
        fail_msg("json:\n%s", out.data);
    assert_non_null(strstr(out.data, "\"offset_vs_median\":0.498000000"));
    assert_non_null(strstr(out.data, "\"reachable\":false,\"kod\":\"\",\"flags\":[\"unreachable\"]}"));
    ctl_buf_free(&out);
}

/* The probes of --probe-control, and what answering them means. */
static void test_probes(void **state)
{
    uint8_t b[AUDIT_PROBE_LEN];
    struct audit_server f;
    struct audit_params p;
    (void)state;

    assert_int_equal(audit_probe_mode6(b), 12);
    assert_int_equal(b[0], 0x16); /* version 2, mode 6 */
    assert_int_equal(b[1], 1);    /* read status */
    assert_int_equal(audit_packet_mode(b, 12), 6);
    assert_int_equal(audit_probe_mode7(b), 48);
    assert_int_equal(b[0], 0x17);
    assert_int_equal(b[2], 3);
    assert_int_equal(b[3], 42); /* MON_GETLIST_1 */
    assert_int_equal(audit_packet_mode(b, 48), 7);
    assert_int_equal(audit_packet_mode(b, 0), -1);

    audit_params_defaults(&p);
    server(&f, "192.0.2.1", 0, 1);
    f.probed = 1;
    assert_int_equal(audit_evaluate(&f, 1, &p), 0);
    f.mode6_bytes = 468;
    assert_int_equal(audit_evaluate(&f, 1, &p), 1);
    assert_int_equal(f.flags, AUDIT_MODE6);
    f.mode7_bytes = 4400;
    assert_int_equal(audit_evaluate(&f, 1, &p), 2);
    assert_int_equal(f.flags, AUDIT_MODE6 | AUDIT_MODE7);
    struct ctl_buf out;
    ctl_buf_init(&out, 1 << 16);
    audit_render_json(&f, 1, 2, &out);
    ctl_buf_append(&out, "", 1);
    assert_non_null(strstr(out.data, "\"mode6_bytes\":468,\"mode7_bytes\":4400,"));
    assert_non_null(strstr(out.data, "\"flags\":[\"mode6\",\"mode7\"]"));
    ctl_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_targets), cmocka_unit_test(test_refids), cmocka_unit_test(test_answers),
        cmocka_unit_test(test_fleet),   cmocka_unit_test(test_render), cmocka_unit_test(test_probes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
