/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"

static struct netaddr parse_ok(const char *s)
{
    struct netaddr a;
    assert_int_equal(addr_parse(s, &a), 0);
    return a;
}

static const char *fmt(const struct netaddr *a, char *buf)
{
    return addr_format(a, buf, ADDR_STRLEN);
}

static void subnet_is(const char *spec, int family, const char *want_addr, unsigned want_prefix)
{
    struct netsubnet n;
    char buf[ADDR_STRLEN];

    assert_int_equal(addr_parse_subnet(spec, &n), 0);
    assert_int_equal(n.addr.family, family);
    assert_string_equal(fmt(&n.addr, buf), want_addr);
    assert_int_equal(n.prefix, want_prefix);
}

static int in_subnet(const char *addr, const char *subnet)
{
    struct netaddr a = parse_ok(addr);
    struct netsubnet n;
    assert_int_equal(addr_parse_subnet(subnet, &n), 0);
    return addr_in_subnet(&a, &n);
}

static void test_parse_v4(void **state)
{
    (void)state;
    char buf[ADDR_STRLEN];
    struct netaddr a = parse_ok("192.0.2.1");

    assert_int_equal(a.family, AF_INET);
    assert_memory_equal(a.bytes, "\xc0\x00\x02\x01", 4);
    assert_int_equal(addr_len(&a), 4);
    assert_string_equal(fmt(&a, buf), "192.0.2.1");
    a = parse_ok("0.0.0.0");
    assert_string_equal(fmt(&a, buf), "0.0.0.0");
    a = parse_ok("255.255.255.255");
    assert_string_equal(fmt(&a, buf), "255.255.255.255");
}

static void test_parse_v6(void **state)
{
    (void)state;
    char buf[ADDR_STRLEN];
    struct netaddr a = parse_ok("2001:DB8:0:0:0:0:0:1");

    assert_int_equal(a.family, AF_INET6);
    assert_int_equal(addr_len(&a), 16);
    assert_int_equal(a.bytes[0], 0x20);
    assert_int_equal(a.bytes[1], 0x01);
    assert_int_equal(a.bytes[2], 0x0d);
    assert_int_equal(a.bytes[3], 0xb8);
    assert_int_equal(a.bytes[15], 1);
    assert_string_equal(fmt(&a, buf), "2001:db8::1");
    a = parse_ok("::");
    assert_int_equal(a.family, AF_INET6);
    assert_string_equal(fmt(&a, buf), "::");
    /* IPv4-compatible (not mapped) stays IPv6. */
    a = parse_ok("::1.2.3.4");
    assert_int_equal(a.family, AF_INET6);
}

static void test_parse_mapped(void **state)
{
    (void)state;
    char buf[ADDR_STRLEN];
    struct netaddr a = parse_ok("::ffff:10.1.2.3");
    struct netaddr b = parse_ok("10.1.2.3");

    assert_int_equal(a.family, AF_INET);
    assert_string_equal(fmt(&a, buf), "10.1.2.3");
    assert_true(addr_equal(&a, &b));
    /* Unused bytes are cleared, so whole-struct comparisons also agree. */
    assert_memory_equal(&a, &b, sizeof(a));
    a = parse_ok("::FFFF:a01:203");
    assert_true(addr_equal(&a, &b));
}

static void test_loopback(void **state)
{
    static const char *const yes[] = {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.2"};
    static const char *const no[] = {"128.0.0.1", "10.0.0.1", "::2", "::", "fe80::1", "0.0.0.0"};
    struct netaddr a;
    (void)state;

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        assert_int_equal(addr_parse(yes[i], &a), 0);
        assert_true(addr_is_loopback(&a));
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        assert_int_equal(addr_parse(no[i], &a), 0);
        assert_false(addr_is_loopback(&a));
    }
}

static void test_parse_bad(void **state)
{
    (void)state;
    static const char *bad[] = {"",          "1.2.3",      "1.2.3.4.5",   "abc",
                                "1.2.3.256", "::1::2",     "1.2.3.4 ",    " 1.2.3.4",
                                "1.2.3.4/8", "fe80::1%lo", "2001:db8::g", "localhost"};
    struct netaddr a;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (addr_parse(bad[i], &a) == 0)
            fail_msg("addr_parse accepted \"%s\"", bad[i]);
    }
}

static void test_subnet_parse(void **state)
{
    (void)state;
    subnet_is("10.1.2.3/8", AF_INET, "10.0.0.0", 8);
    subnet_is("10.255.255.255/13", AF_INET, "10.248.0.0", 13);
    subnet_is("10.1.2.3", AF_INET, "10.1.2.3", 32);
    subnet_is("10.1.2.3/32", AF_INET, "10.1.2.3", 32);
    subnet_is("10.1.2.3/0", AF_INET, "0.0.0.0", 0);
    subnet_is("2001:db8:ffff::1/32", AF_INET6, "2001:db8::", 32);
    subnet_is("2001:db8::ffff:ffff:ffff:ffff/65", AF_INET6, "2001:db8:0:0:8000::", 65);
    subnet_is("::1", AF_INET6, "::1", 128);
    subnet_is("::1/127", AF_INET6, "::", 127);
    subnet_is("ffff::/0", AF_INET6, "::", 0);
}

/* A mapped subnet is written against the IPv6 form: /104 covers a v4 /8. */
static void test_subnet_mapped(void **state)
{
    (void)state;
    struct netsubnet n;

    subnet_is("::ffff:10.1.2.3", AF_INET, "10.1.2.3", 32);
    subnet_is("::ffff:10.1.2.3/128", AF_INET, "10.1.2.3", 32);
    subnet_is("::ffff:10.1.2.3/104", AF_INET, "10.0.0.0", 8);
    subnet_is("::ffff:10.1.2.3/96", AF_INET, "0.0.0.0", 0);
    assert_int_equal(addr_parse_subnet("::ffff:10.1.2.3/95", &n), -1);
    assert_int_equal(addr_parse_subnet("::ffff:10.1.2.3/24", &n), -1);
    assert_int_equal(addr_parse_subnet("::ffff:10.1.2.3/129", &n), -1);
}

static void test_subnet_bad(void **state)
{
    (void)state;
    static const char *bad[] = {
        "1.2.3.4/33",  "1.2.3",      "::1/129",    "",
        "/8",          "1.2.3.4/",   "1.2.3.4/-1", "1.2.3.4/ 8",
        "abc",         "1.2.3.4/+8", "1.2.3.4/8 ", "1.2.3.4/8/8",
        "1.2.3.4/0x8", "1.2.3.4//8", "abc/8",      "1.2.3.4/99999999999999999999999"};
    struct netsubnet n;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (addr_parse_subnet(bad[i], &n) == 0)
            fail_msg("addr_parse_subnet accepted \"%s\"", bad[i]);
    }
}

static void test_in_subnet_edges(void **state)
{
    (void)state;
    assert_true(in_subnet("1.2.3.4", "0.0.0.0/0"));
    assert_true(in_subnet("255.255.255.255", "0.0.0.0/0"));
    assert_false(in_subnet("::1", "0.0.0.0/0")); /* families never mix */
    assert_false(in_subnet("1.2.3.4", "::/0"));
    assert_true(in_subnet("::ffff:1.2.3.4", "0.0.0.0/0"));
    assert_true(in_subnet("1.2.3.4", "1.2.3.4/32"));
    assert_false(in_subnet("1.2.3.5", "1.2.3.4/32"));
    assert_true(in_subnet("1.2.3.4", "1.2.3.4"));
    assert_true(in_subnet("2001:db8::1", "::/0"));
    assert_true(in_subnet("2001:db8::1", "2001:db8::1/128"));
    assert_false(in_subnet("2001:db8::2", "2001:db8::1/128"));
    assert_true(in_subnet("2001:db8::0", "2001:db8::1/127"));
    assert_true(in_subnet("2001:db8::1", "2001:db8::/127"));
    assert_false(in_subnet("2001:db8::2", "2001:db8::/127"));
}

/* Prefixes that end inside a byte check exactly the leading bits. */
static void test_in_subnet_unaligned(void **state)
{
    (void)state;
    /* 10.248.0.0/13 spans 10.248.0.0 - 10.255.255.255 */
    assert_true(in_subnet("10.248.0.0", "10.248.0.0/13"));
    assert_true(in_subnet("10.255.255.255", "10.248.0.0/13"));
    assert_false(in_subnet("10.247.255.255", "10.248.0.0/13"));
    assert_false(in_subnet("11.248.0.0", "10.248.0.0/13"));
    /* 2001:db8::/65: bit 64 (top of byte 8) must be 0 */
    assert_true(in_subnet("2001:db8::7fff:ffff:ffff:ffff", "2001:db8::/65"));
    assert_false(in_subnet("2001:db8::8000:0:0:0", "2001:db8::/65"));
    assert_false(in_subnet("2001:db8:0:1::", "2001:db8::/65"));
    assert_true(in_subnet("2001:db8::8000:0:0:1", "2001:db8::8000:0:0:0/65"));
    assert_true(in_subnet("128.0.0.0", "128.0.0.0/1"));
    assert_false(in_subnet("127.255.255.255", "128.0.0.0/1"));
}

/* A hand-built subnet with host bits set or an oversized prefix still
 * answers sanely (and, under ASan, without reading out of bounds). */
static void test_in_subnet_handbuilt(void **state)
{
    (void)state;
    struct netaddr a = parse_ok("10.1.2.3");
    struct netsubnet n;

    memset(&n, 0, sizeof(n));
    n.addr = parse_ok("10.1.2.77");
    n.prefix = 26; /* host bits of .77 set, 10.1.2.64/26 meant */
    assert_false(addr_in_subnet(&a, &n));
    a = parse_ok("10.1.2.65");
    assert_true(addr_in_subnet(&a, &n));
    n.prefix = 200;
    assert_false(addr_in_subnet(&a, &n));
    n.addr = a;
    assert_true(addr_in_subnet(&a, &n));
}

static void test_equal(void **state)
{
    (void)state;
    struct netaddr a = parse_ok("10.0.0.1"), b = parse_ok("10.0.0.1"), c = parse_ok("10.0.0.2");
    struct netaddr d = parse_ok("::a00:1"); /* same leading bytes, other family */

    assert_true(addr_equal(&a, &b));
    assert_false(addr_equal(&a, &c));
    assert_false(addr_equal(&a, &d));
    d = parse_ok("a00:1::");
    assert_false(addr_equal(&a, &d));
}

static void test_sockaddr_v4(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    struct netaddr a = parse_ok("192.0.2.7"), back;
    uint16_t port = 0;

    socklen_t len = addr_to_sockaddr(&a, 123, &ss);
    assert_int_equal(len, sizeof(struct sockaddr_in));
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
    assert_int_equal(sin->sin_family, AF_INET);
    assert_int_equal(ntohs(sin->sin_port), 123);
    assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xc0000207u);
    assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, &back, &port), 0);
    assert_int_equal(port, 123);
    assert_true(addr_equal(&a, &back));
    assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, &back, NULL), 0);
}

static void test_sockaddr_v6(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    struct netaddr a = parse_ok("2001:db8::123"), back;
    uint16_t port = 0;

    socklen_t len = addr_to_sockaddr(&a, 65535, &ss);
    assert_int_equal(len, sizeof(struct sockaddr_in6));
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
    assert_int_equal(sin6->sin6_family, AF_INET6);
    assert_int_equal(ntohs(sin6->sin6_port), 65535);
    assert_memory_equal(sin6->sin6_addr.s6_addr, a.bytes, 16);
    assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, &back, &port), 0);
    assert_int_equal(port, 65535);
    assert_true(addr_equal(&a, &back));
}

/* What a dual-stack socket reports for an IPv4 client. */
static void test_sockaddr_mapped(void **state)
{
    (void)state;
    struct sockaddr_in6 sin6;
    struct netaddr back;
    uint16_t port = 0;
    char buf[ADDR_STRLEN];

    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(4242);
    assert_int_equal(inet_pton(AF_INET6, "::ffff:198.51.100.9", &sin6.sin6_addr), 1);
    assert_int_equal(addr_from_sockaddr((struct sockaddr *)&sin6, &back, &port), 0);
    assert_int_equal(back.family, AF_INET);
    assert_int_equal(port, 4242);
    assert_string_equal(fmt(&back, buf), "198.51.100.9");
    struct netaddr want = parse_ok("198.51.100.9");
    assert_memory_equal(&back, &want, sizeof(back));
}

static void test_sockaddr_other_family(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    struct netaddr back;

    memset(&ss, 0, sizeof(ss));
    ss.ss_family = AF_UNIX;
    assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, &back, NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_v4),
        cmocka_unit_test(test_parse_v6),
        cmocka_unit_test(test_parse_mapped),
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_subnet_parse),
        cmocka_unit_test(test_subnet_mapped),
        cmocka_unit_test(test_subnet_bad),
        cmocka_unit_test(test_in_subnet_edges),
        cmocka_unit_test(test_in_subnet_unaligned),
        cmocka_unit_test(test_in_subnet_handbuilt),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_sockaddr_v4),
        cmocka_unit_test(test_sockaddr_v6),
        cmocka_unit_test(test_sockaddr_mapped),
        cmocka_unit_test(test_sockaddr_other_family),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
