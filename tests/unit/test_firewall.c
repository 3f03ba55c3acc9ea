/* SPDX-License-Identifier: ISC */
/* Unit tests for the nftables ruleset generator and the comparison behind
 * `tempusctl firewall --check`. Run from the repository root: the golden
 * files tests/firewall/NAME.conf give exactly tests/firewall/NAME.nft
 * (`nft -c` checks them in tests/system/270-firewall). The randomized test
 * prints its seed; TEMPUS_SEED=N repeats it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acl.h"
#include "addr.h"
#include "conf.h"
#include "firewall.h"
#include "firewall_json.h"
#include "log.h"

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    int ch;

    if (!f)
        fail_msg("cannot open %s: run from the repository root", path);
    assert_non_null(out);
    while ((ch = getc(f)) != EOF)
        putc(ch, out);
    fclose(out);
    fclose(f);
    return buf;
}

/* The ruleset for config text (caller frees). */
static char *render(const char *text)
{
    struct conf *c = conf_parse_string("t.conf", text, stderr);
    struct ctl_buf out;

    if (!c)
        fail_msg("config does not parse:\n%s", text);
    ctl_buf_init(&out, 1 << 20);
    firewall_render(c, "t.conf", &out);
    ctl_buf_append(&out, "", 1);
    conf_free(c);
    return out.data;
}

/* Every tests/firewall/NAME.conf renders exactly as NAME.nft, and the
 * cases the issue asks for are among them. */
static void test_golden(void **state)
{
    static const char *const need[] = {"v4-only", "v6-only", "dual-stack", "allow-all",
                                       "deny-carveouts", "bind"};
    glob_t g;
    int failed = 0;
    (void)state;

    if (glob("tests/firewall/*.conf", 0, NULL, &g) != 0)
        fail_msg("no tests/firewall/*.conf: run from the repository root");
    for (size_t k = 0; k < sizeof(need) / sizeof(need[0]); k++) {
        char want[128];
        int found = 0;
        snprintf(want, sizeof(want), "tests/firewall/%s.conf", need[k]);
        for (size_t i = 0; i < g.gl_pathc; i++)
            found |= strcmp(g.gl_pathv[i], want) == 0;
        if (!found)
            fail_msg("no golden file %s", want);
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        char nft[512];
        struct ctl_buf out;
        struct conf *c = conf_load(path, stderr);
        if (!c)
            fail_msg("%s does not parse", path);
        snprintf(nft, sizeof(nft), "%.*s.nft", (int)(strlen(path) - 5), path);
        char *want = read_file(nft);
        ctl_buf_init(&out, 1 << 20);
        firewall_render(c, path, &out);
        ctl_buf_append(&out, "", 1);
        if (strcmp(out.data, want) != 0) {
            print_error("%s:\n--- want:\n%s--- got:\n%s", path, want, out.data);
            failed++;
        }
        ctl_buf_free(&out);
        free(want);
        conf_free(c);
    }
    globfree(&g);
    assert_int_equal(failed, 0);
}

/* IPv4 and IPv6 are treated alike: each is served or says it is closed. */
static void test_parity(void **state)
{
    (void)state;
    char *s = render("allow 10.0.0.0/8\n");
    assert_non_null(strstr(s, "# IPv4: the most specific rule wins"));
    assert_non_null(strstr(s, "# IPv6: closed: no allow rule"));
    assert_null(strstr(s, "ip6 saddr"));
    free(s);

    s = render("allow 2001:db8::/32\ndeny 10.0.0.0/8\n");
    assert_non_null(strstr(s, "# IPv4: closed: no allow rule"));
    assert_null(strstr(s, "ip saddr 10.0.0.0/8")); /* a closed family has no rules */
    assert_non_null(strstr(s, "ip6 saddr 2001:db8::/32 accept"));
    free(s);

    /* nothing allowed: both closed, and the chain still ends in a drop */
    s = render("port 123\n");
    assert_non_null(strstr(s, "# IPv4: closed"));
    assert_non_null(strstr(s, "# IPv6: closed"));
    assert_non_null(strstr(s, "\t\tjump ntp_refuse\n\t}\n"));
    free(s);

    /* bound to an IPv6 address only: IPv4 closed although allowed */
    s = render("bindaddress 2001:db8::1\nallow all\n");
    assert_non_null(strstr(s, "# IPv4: closed: tempusd listens on no address"));
    assert_non_null(strstr(s, "ip6 daddr != { 2001:db8::1 } jump ntp_refuse"));
    assert_non_null(strstr(s, "meta nfproto ipv6 accept"));
    assert_null(strstr(s, "meta nfproto ipv4 accept"));
    free(s);
}

/* Drops are logged under a rate limit, once per family, then counted. */
static void test_refuse_logged(void **state)
{
    (void)state;
    char *s = render("allow all\nserver 192.0.2.1\n");
    const char *v4 = strstr(s, "meta nfproto ipv4 limit rate 10/second burst 20 packets log prefix "
                               "\"tempus-refused-v4: \" level info\n");
    const char *v6 = strstr(s, "log prefix \"tempus-refused-v6: \"");
    assert_non_null(v4);
    assert_non_null(v6);
    assert_non_null(strstr(v6, "counter drop"));
    assert_non_null(strstr(s, "log prefix \"tempus-unsolicited: \""));
    assert_non_null(strstr(s, "ip saddr { 192.0.2.1 } ct state established accept"));
    /* only numeric upstreams: no reply from an unknown address */
    assert_null(strstr(s, "\t\tct state established accept"));
    free(s);
}

/* The first ntp_server rule (after the daddr/iifname lines) matching a as
 * nft would take it: 1 accept, 0 refuse. */
static int nft_decide(const char *ruleset, const struct netaddr *a)
{
    const char *p = strstr(ruleset, "chain ntp_server {");
    const char *kw = a->family == AF_INET ? "ip saddr " : "ip6 saddr ";
    const char *any = a->family == AF_INET ? "meta nfproto ipv4 " : "meta nfproto ipv6 ";

    assert_non_null(p);
    while ((p = strchr(p, '\n')) && strncmp(++p, "\t}", 2) != 0) {
        const char *q = p + strspn(p, "\t"), *verdict;
        char spec[80];
        struct netsubnet net;
        if (strncmp(q, any, strlen(any)) == 0) {
            verdict = q + strlen(any);
        } else if (strncmp(q, kw, strlen(kw)) == 0) {
            q += strlen(kw);
            size_t n = strcspn(q, " ");
            assert_true(n < sizeof(spec));
            memcpy(spec, q, n);
            spec[n] = '\0';
            assert_int_equal(addr_parse_subnet(spec, &net), 0);
            if (!addr_in_subnet(a, &net))
                continue;
            verdict = q + n + 1;
        } else {
            continue;
        }
        return strncmp(verdict, "accept", 6) == 0;
    }
    return 0;
}

static void random_addr(struct netaddr *a, int v6, const uint8_t *base)
{
    a->family = v6 ? AF_INET6 : AF_INET;
    memcpy(a->bytes, base, 16);
    /* near the base so that nested rules are hit often */
    for (int i = v6 ? 4 : 1; i < (v6 ? 16 : 4); i++)
        if (rand() % 3 == 0)
            a->bytes[i] = (uint8_t)(rand() % 4);
}

/* Random allow/deny sets: the ruleset decides every address as acl_check. */
static void test_same_as_acl(void **state)
{
    static const uint8_t base4[16] = {10, 0, 0, 0}, base6[16] = {0x20, 0x01, 0x0d, 0xb8};
    const char *env = getenv("TEMPUS_SEED");
    unsigned seed = env && *env ? (unsigned)strtoul(env, NULL, 10) : 1u; /* fixed, printed */
    (void)state;

    printf("test_same_as_acl: seed %u (TEMPUS_SEED=%u repeats it)\n", seed, seed);
    srand(seed);
    for (int round = 0; round < 200; round++) {
        char text[4096] = "", buf[ADDR_STRLEN];
        struct acl *acl = acl_create();
        size_t len = 0;
        for (int i = 0, n = 1 + rand() % 8; i < n; i++) {
            struct netaddr a;
            int v6 = rand() % 2, allow = rand() % 2;
            int prefix = v6 ? 32 + rand() % 97 : 8 + rand() % 25;
            char spec[80];
            random_addr(&a, v6, v6 ? base6 : base4);
            snprintf(spec, sizeof(spec), "%s/%d", addr_format(&a, buf, sizeof(buf)), prefix);
            if (rand() % 16 == 0)
                snprintf(spec, sizeof(spec), "all");
            assert_int_equal(acl_add(acl, spec, allow), 0);
            len += (size_t)snprintf(text + len, sizeof(text) - len, "%s %s\n",
                                    allow ? "allow" : "deny", spec);
        }
        char *s = render(text);
        for (int k = 0; k < 200; k++) {
            struct netaddr a;
            int v6 = rand() % 2;
            random_addr(&a, v6, v6 ? base6 : base4);
            if (nft_decide(s, &a) != acl_check(acl, &a))
                fail_msg("seed %u: %s: acl says %d\n%s\n%s", seed, addr_format(&a, buf, sizeof(buf)),
                         acl_check(acl, &a), text, s);
        }
        free(s);
        acl_destroy(acl);
    }
}

/* Two listings of one ruleset: other handles, counters, spacing. */
static const char listing_a[] =
    "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", \"json_schema_version\": 1}},"
    " {\"table\": {\"family\": \"inet\", \"name\": \"tempus\", \"handle\": 4}},"
    " {\"chain\": {\"family\": \"inet\", \"table\": \"tempus\", \"name\": \"input\", \"handle\": 1}},"
    " {\"rule\": {\"chain\": \"input\", \"handle\": 5, \"expr\": [{\"match\": {\"op\": \"==\","
    " \"left\": {\"payload\": {\"protocol\": \"udp\", \"field\": \"dport\"}}, \"right\": 123}},"
    " {\"jump\": {\"target\": \"ntp_server\"}}]}},"
    " {\"rule\": {\"chain\": \"ntp_refuse\", \"handle\": 9, \"expr\": [{\"counter\":"
    " {\"packets\": 17, \"bytes\": 1292}}, {\"drop\": null}]}}]}\n";
static const char listing_b[] =
    "{\"nftables\":[{\"metainfo\":{\"version\":\"1.0.6\",\"json_schema_version\":1}},"
    "{\"table\":{\"family\":\"inet\",\"name\":\"tempus\",\"handle\":77}},"
    "{\"chain\":{\"family\":\"inet\",\"table\":\"tempus\",\"name\":\"input\",\"handle\":2}},"
    "{\"rule\":{\"chain\":\"input\",\"handle\":8,\"expr\":[{\"match\":{\"op\":\"==\","
    "\"left\":{\"payload\":{\"protocol\":\"udp\",\"field\":\"dport\"}},\"right\":123}},"
    "{\"jump\":{\"target\":\"ntp_server\"}}]}},"
    "{\"rule\":{\"chain\":\"ntp_refuse\",\"handle\":3,\"expr\":[{\"counter\":"
    "{\"packets\":0,\"bytes\":0}},{\"drop\":null}]}}]}";

static void parse_ok(const char *text, struct fwjson_list *l)
{
    if (fwjson_parse(text, strlen(text), l) != 0)
        fail_msg("does not parse: %s", text);
}

static void test_json_canonical(void **state)
{
    struct fwjson_list a, b;
    struct ctl_buf out;
    size_t miss = 9, extra = 9;
    (void)state;

    parse_ok(listing_a, &a);
    parse_ok(listing_b, &b);
    assert_int_equal(a.n, 4); /* metainfo left out */
    assert_string_equal(a.obj[0], "{\"table\":{\"family\":\"inet\",\"name\":\"tempus\"}}");
    assert_non_null(strstr(a.obj[3], "{\"counter\":{\"packets\":0,\"bytes\":0}}"));
    ctl_buf_init(&out, 1 << 16);
    assert_int_equal(fwjson_diff(&a, &b, &out, &miss, &extra), 0);
    assert_int_equal(out.len, 0);
    assert_int_equal(miss + extra, 0);
    fwjson_free(&b);
    ctl_buf_free(&out);

    /* the port changed: one rule missing, one unexpected, the rest kept */
    char *changed = strdup(listing_b);
    char *p = strstr(changed, "\"right\":123");
    memcpy(p, "\"right\":124", 11);
    parse_ok(changed, &b);
    ctl_buf_init(&out, 1 << 16);
    assert_int_equal(fwjson_diff(&a, &b, &out, &miss, &extra), 2);
    assert_int_equal(miss, 1);
    assert_int_equal(extra, 1);
    ctl_buf_append(&out, "", 1);
    assert_non_null(strstr(out.data, "missing: {\"rule\":{\"chain\":\"input\""));
    assert_non_null(strstr(out.data, "\"right\":123}"));
    assert_non_null(strstr(out.data, "unexpected: {\"rule\":{\"chain\":\"input\""));
    assert_non_null(strstr(out.data, "\"right\":124}"));
    ctl_buf_free(&out);
    fwjson_free(&b);
    free(changed);

    /* an empty live table: everything missing */
    parse_ok("{\"nftables\": []}", &b);
    assert_int_equal(fwjson_diff(&a, &b, NULL, &miss, &extra), 4);
    assert_int_equal(miss, 4);
    fwjson_free(&b);
    fwjson_free(&a);
}

static void test_json_refused(void **state)
{
    static const char *const bad[] = {
        "",
        "[]",
        "{\"nftables\": [}",
        "{\"nftables\": [{\"table\": {\"name\": \"tempus\"}]}",
        "{\"nftables\": [{\"table\": 1}]} trailing",
        "{\"other\": []}",
        "{\"nftables\": [\"unterminated]}",
        "{\"nftables\": [{\"a\": tru}]}",
        "{\"nftables\": [{\"a\": \"\x01\"}]}",
        "{\"nftables\": [{\"a\": \"\\x\"}]}",
        "{\"nftables\": [{\"a\": \"\\u12g4\"}]}",
        "{\"nftables\": [{\"a\": \"\\u12\"}]}",
    };
    struct fwjson_list l;
    char deep[4 * FWJSON_MAX_DEPTH + 64];
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (fwjson_parse(bad[i], strlen(bad[i]), &l) != -1)
            fail_msg("accepted: %s", bad[i]);
        assert_int_equal(l.n, 0);
    }
    /* the escapes JSON has are kept as written */
    static const char esc[] = "{\"nftables\": [{\"a\": \"q\\\"\\\\\\/\\n\\u00e9\"}]}";
    assert_int_equal(fwjson_parse(esc, strlen(esc), &l), 0);
    assert_string_equal(l.obj[0], "{\"a\":\"q\\\"\\\\\\/\\n\\u00e9\"}");
    fwjson_free(&l);
    /* nesting beyond the limit */
    size_t n = (size_t)snprintf(deep, sizeof(deep), "{\"nftables\": [");
    for (int i = 0; i < FWJSON_MAX_DEPTH + 1; i++)
        deep[n++] = '[';
    for (int i = 0; i < FWJSON_MAX_DEPTH + 1; i++)
        deep[n++] = ']';
    memcpy(deep + n, "]}", 3);
    assert_int_equal(fwjson_parse(deep, strlen(deep), &l), -1);
    /* a length that stops short of the end is respected */
    assert_int_equal(fwjson_parse(listing_b, strlen(listing_b) - 2, &l), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),       cmocka_unit_test(test_parity),
        cmocka_unit_test(test_refuse_logged), cmocka_unit_test(test_same_as_acl),
        cmocka_unit_test(test_json_canonical), cmocka_unit_test(test_json_refused),
    };
    log_init("test_firewall", LOG_TO_STDERR, LOG_LVL_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
