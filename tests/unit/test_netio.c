/* SPDX-License-Identifier: ISC */
/* Unit tests for netio.c over real UDP sockets on 127.0.0.1: the single
 * and batched calls, what they fill in, and a refused datagram in the
 * middle of a batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "netio.h"

struct pair {
    int a, b;            /* two sockets on 127.0.0.1 */
    uint16_t pa, pb;     /* their ports */
    struct netaddr lo;
};

static uint16_t port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    struct netaddr a;
    uint16_t port = 0;

    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
    assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, &a, &port), 0);
    return port;
}

static void pair_open(struct pair *p)
{
    assert_int_equal(addr_parse("127.0.0.1", &p->lo), 0);
    p->a = netio_open_udp(AF_INET, &p->lo, 0, NULL);
    p->b = netio_open_udp(AF_INET, &p->lo, 0, NULL);
    assert_true(p->a >= 0 && p->b >= 0);
    p->pa = port_of(p->a);
    p->pb = port_of(p->b);
}

/* The batched calls need recvmmsg/sendmmsg; a kernel or sandbox without
 * them (the daemon then falls back to one call per datagram, which
 * tests/system/220-portable-path runs) cannot run these tests: say so. */
static void need_mmsg(struct pair *p)
{
    struct mmsghdr none;
    if (recvmmsg(p->b, &none, 0, MSG_DONTWAIT, NULL) < 0 && errno == ENOSYS) {
        fprintf(stderr, "NOT RUN: this kernel has no recvmmsg; the batched calls cannot be "
                        "tested here\n");
        skip();
    }
}

static void pair_close(struct pair *p)
{
    close(p->a);
    close(p->b);
}

static void wait_readable(int fd)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 2000), 1);
}

/* a sends n datagrams to b: datagram i is i + 10 bytes of the value i. */
static void send_n(struct pair *p, unsigned n)
{
    uint8_t buf[64];
    struct netio_msg to = {.peer = p->lo, .peer_port = p->pb};

    for (unsigned i = 0; i < n; i++) {
        memset(buf, (int)i, sizeof(buf));
        assert_int_equal(netio_send(p->a, &to, buf, i + 10), 0);
    }
}

static void test_recv_batch(void **state)
{
    struct pair p;
    uint8_t bufs[8][64];
    struct netio_msg m[8];
    (void)state;

    pair_open(&p);
    need_mmsg(&p);
    for (int i = 0; i < 8; i++)
        m[i] = (struct netio_msg){.buf = bufs[i], .cap = sizeof(bufs[i])};
    assert_int_equal(netio_recv_batch(p.b, m, 8), 0); /* nothing waits */
    send_n(&p, 5);
    wait_readable(p.b);
    assert_int_equal(netio_recv_batch(p.b, m, 8), 5);
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(m[i].len, i + 10);
        assert_int_equal(m[i].buf[0], i);
        assert_int_equal(m[i].buf[m[i].len - 1], i);
        assert_true(addr_equal(&m[i].peer, &p.lo));
        assert_int_equal(m[i].peer_port, p.pa);
    }
    /* the kernel stamps them in order, as it stamps single datagrams */
    for (unsigned i = 1; i < 5 && m[0].have_ts; i++)
        assert_true(m[i].have_ts &&
                    (m[i].rx_kernel.tv_sec > m[i - 1].rx_kernel.tv_sec ||
                     (m[i].rx_kernel.tv_sec == m[i - 1].rx_kernel.tv_sec &&
                      m[i].rx_kernel.tv_nsec >= m[i - 1].rx_kernel.tv_nsec)));
    /* at most n at a time */
    send_n(&p, 3);
    wait_readable(p.b);
    assert_int_equal(netio_recv_batch(p.b, m, 2), 2);
    assert_int_equal(netio_recv_batch(p.b, m, 2), 1);
    assert_int_equal(m[0].len, 12);
    pair_close(&p);
}

/* Replies in one batch reach their peers; one the kernel refuses (port 0)
 * is dropped and the rest still go. */
static void test_send_batch(void **state)
{
    struct pair p;
    uint8_t data[4][16], in[64];
    struct netio_msg to[4], got = {.buf = in, .cap = sizeof(in)};
    struct netio_out out[4];
    (void)state;

    pair_open(&p);
    need_mmsg(&p);
    for (unsigned i = 0; i < 4; i++) {
        memset(data[i], 'a' + (int)i, sizeof(data[i]));
        to[i] = (struct netio_msg){.peer = p.lo, .peer_port = i == 1 ? 0 : p.pa};
        out[i] = (struct netio_out){&to[i], data[i], 8 + i};
    }
    assert_int_equal(netio_send_batch(p.b, out, 4), 3);
    for (unsigned i = 0; i < 4; i++) {
        if (i == 1)
            continue;
        wait_readable(p.a);
        assert_int_equal(netio_recv(p.a, &got), 1);
        assert_int_equal(got.len, 8 + i);
        assert_int_equal(got.buf[0], 'a' + (int)i);
        assert_int_equal(got.peer_port, p.pb);
    }
    assert_int_equal(netio_recv(p.a, &got), 0);
    pair_close(&p);
}

/* A datagram longer than the buffer is reported empty, in either call. */
static void test_truncated(void **state)
{
    struct pair p;
    uint8_t small[8], big[64] = {0};
    struct netio_msg to, m = {.buf = small, .cap = sizeof(small)};
    (void)state;

    pair_open(&p);
    to = (struct netio_msg){.peer = p.lo, .peer_port = p.pb};
    assert_int_equal(netio_send(p.a, &to, big, sizeof(big)), 0);
    assert_int_equal(netio_send(p.a, &to, big, sizeof(big)), 0);
    wait_readable(p.b);
    assert_int_equal(netio_recv(p.b, &m), 1);
    assert_int_equal(m.len, 0);
    need_mmsg(&p);
    wait_readable(p.b);
    assert_int_equal(netio_recv_batch(p.b, &m, 1), 1);
    assert_int_equal(m.len, 0);
    pair_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recv_batch),
        cmocka_unit_test(test_send_batch),
        cmocka_unit_test(test_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
