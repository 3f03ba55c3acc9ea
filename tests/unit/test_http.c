/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"
#include "http.h"
#include "sched.h"

#define OK_REQ "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9123\r\nUser-Agent: t/1\r\n\r\n"

static int parse(const char *s)
{
    return http_parse_request(s, strlen(s));
}

static void test_parse_ok(void **state)
{
    (void)state;
    assert_int_equal(parse(OK_REQ), 200);
    assert_int_equal(parse("GET /metrics HTTP/1.0\r\n\r\n"), 200);
    assert_int_equal(parse("GET /metrics?name[]=x&y HTTP/1.1\r\n\r\n"), 200);
    assert_int_equal(parse("GET /metrics? HTTP/1.1\r\n\r\n"), 200);
    /* bare LF line ends, alone and mixed with CRLF */
    assert_int_equal(parse("GET /metrics HTTP/1.1\nHost: a\n\n"), 200);
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: a\n\r\n"), 200);
    assert_int_equal(parse("GET /metrics HTTP/1.1\nHost: a\r\n\n"), 200);
    /* empty header value, tabs and obs-text in values */
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\nX-A:\r\nX-B:\tv\t\r\nX-C: \xc3\xa9\r\n\r\n"),
                     200);
    /* bytes after the end of the headers do not matter */
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\n\r\n\x01garbage"), 200);
}

static void test_parse_statuses(void **state)
{
    (void)state;
    assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n"), 404);
    assert_int_equal(parse("GET /metricsx HTTP/1.1\r\n\r\n"), 404);
    assert_int_equal(parse("GET /metrics/ HTTP/1.1\r\n\r\n"), 404);
    assert_int_equal(parse("GET /foo?/metrics HTTP/1.1\r\n\r\n"), 404);
    assert_int_equal(parse("GET http://h/metrics HTTP/1.1\r\n\r\n"), 404);
    assert_int_equal(parse("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), 405);
    assert_int_equal(parse("HEAD /metrics HTTP/1.1\r\n\r\n"), 405);
    assert_int_equal(parse("GETX /metrics?a HTTP/1.1\r\n\r\n"), 405);
    /* a wrong path wins over a wrong method: there is nothing there */
    assert_int_equal(parse("POST /x HTTP/1.1\r\n\r\n"), 404);
}

static void test_parse_garbage(void **state)
{
    static const char *const bad[] = {
        "get /metrics HTTP/1.1\r\n\r\n",  /* methods are case-sensitive */
        "GET  /metrics HTTP/1.1\r\n\r\n", /* two spaces */
        " GET /metrics HTTP/1.1\r\n\r\n", /* leading space */
        "GET /metrics HTTP/2.0\r\n\r\n",  /* not HTTP/1.x */
        "GET /metrics http/1.1\r\n\r\n",
        "GET /metrics HTTP/1.1 \r\n\r\n", /* trailing space */
        "GET /metrics HTTP/1.11\r\n\r\n",
        "GET /metrics\r\n\r\n",                             /* HTTP/0.9 */
        "GET /metrics HTTP/1.1\rX\n\r\n",                   /* CR not followed by LF */
        "GET /metrics HTTP/1.1\r\n\rX",                     /* same at the end */
        "GET /metrics HTTP/1.1\r\nHost\r\n\r\n",            /* no colon */
        "GET /metrics HTTP/1.1\r\n: v\r\n\r\n",             /* empty name */
        "GET /metrics HTTP/1.1\r\nHost : v\r\n\r\n",        /* space before colon */
        "GET /metrics HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", /* obs-fold */
        "GET /metrics HTTP/1.1\r\nA: b\x01\r\n\r\n",        /* control character */
        "GET /metrics HTTP/1.1\r\nA: b\x7f\r\n\r\n",
        "GET /met\x7frics HTTP/1.1\r\n\r\n",
        "ABCDEFGHIJKLMNOPQ /metrics HTTP/1.1\r\n\r\n", /* 17-letter method */
        "\x16\x03\x01\x02\x00",                        /* a TLS ClientHello */
        "\n",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (parse(bad[i]) != 400)
            fail_msg("bad[%zu] gave %d, not 400", i, parse(bad[i]));
    /* NUL bytes (invisible to strlen) */
    assert_int_equal(http_parse_request("GET /me\0rics HTTP/1.1\r\n\r\n", 25), 400);
    assert_int_equal(http_parse_request("\0", 1), 400);
    /* garbage is refused at the first bad byte, without waiting for more */
    assert_int_equal(http_parse_request("\x16", 1), 400);
    assert_int_equal(http_parse_request("GET /metrics HTTQ", 17), 400);
}

static void test_parse_incremental(void **state)
{
    static const char *const reqs[] = {OK_REQ, "GET /metrics HTTP/1.0\n\n",
                                       "GET /metrics?a=b HTTP/1.1\r\nA: b\n\r\n"};
    (void)state;
    for (size_t r = 0; r < sizeof(reqs) / sizeof(reqs[0]); r++) {
        size_t len = strlen(reqs[r]);
        for (size_t i = 0; i < len; i++)
            if (http_parse_request(reqs[r], i) != 0)
                fail_msg("request %zu: prefix of %zu bytes gave %d", r, i,
                         http_parse_request(reqs[r], i));
        assert_int_equal(http_parse_request(reqs[r], len), 200);
    }
    assert_int_equal(http_parse_request("", 0), 0);
    assert_int_equal(parse("GET /nope HTTP/1.1\r\nHost: a\r\n"), 0);
    assert_int_equal(parse("POST /metrics HTTP/1.1\r\n\r"), 0);
}

/* buf: "GET " + target of tlen bytes + rest */
static char *make_target(size_t tlen, const char *rest)
{
    char *b = malloc(tlen + strlen(rest) + 16);
    memcpy(b, "GET /metrics?", 13);
    memset(b + 13, 'a', tlen - 9);
    memcpy(b + 4 + tlen, rest, strlen(rest) + 1);
    return b;
}

static void test_parse_oversize(void **state)
{
    (void)state;
    char *b = make_target(2048, " HTTP/1.1\r\n\r\n");
    assert_int_equal(parse(b), 200);
    free(b);
    b = make_target(2049, " HTTP/1.1\r\n\r\n");
    assert_int_equal(parse(b), 414);
    free(b);
    /* 414 as soon as the target is too long, before the line ends */
    b = make_target(2049, "");
    assert_int_equal(parse(b), 414);
    free(b);

    /* headers: a complete request of exactly 8192 bytes is served, one
     * byte more is 431, and so is 8192 bytes without the end */
    static char big[9000];
    const char *head = "GET /metrics HTTP/1.1\r\nX: ";
    size_t h = strlen(head);
    memcpy(big, head, h);
    memset(big + h, 'v', 8192 - h - 4);
    memcpy(big + 8192 - 4, "\r\n\r\n", 4);
    assert_int_equal(http_parse_request(big, 8192), 200);
    assert_int_equal(http_parse_request(big, 8191), 0);
    memset(big + h, 'v', 8193 - h - 4);
    memcpy(big + 8193 - 4, "\r\n\r\n", 4);
    assert_int_equal(http_parse_request(big, 8192), 431);
    assert_int_equal(http_parse_request(big, 8193), 431);
    /* a huge line of header names without a colon */
    memset(big, 0, sizeof(big));
    strcpy(big, "GET /metrics HTTP/1.1\r\n");
    memset(big + strlen(big), 'N', sizeof(big) - 1 - strlen(big));
    assert_int_equal(http_parse_request(big, sizeof(big) - 1), 431);
    /* many small headers */
    size_t n = 0;
    n += (size_t)sprintf(big, "GET /metrics HTTP/1.1\r\n");
    while (n + 8 < sizeof(big))
        n += (size_t)sprintf(big + n, "A: b\r\n");
    assert_int_equal(http_parse_request(big, n), 431);
}

/* ---- the real server on the loop, with a forked client ---- */

struct client_result {
    char buf[1 << 21];
    size_t len;
};

static struct client_result result;
static int metrics_calls;
static size_t metrics_size;

static void fill_metrics(void *arg, struct ctl_buf *out)
{
    metrics_calls++;
    if (metrics_size) {
        for (size_t i = 0; out->len < metrics_size; i++)
            ctl_buf_printf(out, "m %zu\n", i % 10);
        return;
    }
    ctl_buf_printf(out, "%s 1\n", (const char *)arg);
}

static int client_connect(uint16_t port, const char *src)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct timeval tv = {.tv_sec = 8};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (src) {
        struct sockaddr_in me = {.sin_family = AF_INET};
        inet_pton(AF_INET, src, &me.sin_addr);
        if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0)
            _exit(3);
    }
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        _exit(4);
    return fd;
}

/* Everything the server sends until it closes (or 8 s pass). */
static size_t client_read(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;
    while (len < cap && (n = recv(fd, buf + len, cap - len, 0)) > 0)
        len += (size_t)n;
    return len;
}

/* One request on a new connection; the response (or "" if closed) goes to
 * the pipe, prefixed by its length. */
static void client_exchange(int out, uint16_t port, const char *src, const char *req, size_t rlen)
{
    static char buf[1 << 21];
    int fd = client_connect(port, src);
    if (send(fd, req, rlen, MSG_NOSIGNAL) < 0) {
        /* refused connections may be reset: report an empty response */
    }
    size_t len = client_read(fd, buf, sizeof(buf));
    close(fd);
    dprintf(out, "%zu\n", len);
    if (write(out, buf, len) < 0)
        _exit(5);
}

static void collect(int fd, void *arg)
{
    (void)arg;
    ssize_t n = read(fd, result.buf + result.len, sizeof(result.buf) - result.len);
    if (n > 0) {
        result.len += (size_t)n;
        return;
    }
    sched_remove_fd(fd);
    sched_quit();
}

static void give_up(void *arg)
{
    (void)arg;
    sched_quit();
}

typedef void (*client_fn)(int out, uint16_t port);

/* Run the server with acl until the child client is done (bounded). */
static void run_server(struct http_server *h, client_fn client, double limit)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        client(p[1], http_port(h));
        _exit(0);
    }
    close(p[1]);
    result.len = 0;
    sched_add_fd(p[0], collect, NULL);
    uint64_t t = sched_add_timer(limit, give_up, NULL);
    sched_run();
    sched_cancel_timer(t);
    close(p[0]);
    int status;
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* The next response from result, starting at *off. */
static const char *next_response(size_t *off, size_t *len)
{
    char *end;
    *len = strtoul(result.buf + *off, &end, 10);
    assert_true(end < result.buf + result.len && *end == '\n');
    const char *r = end + 1;
    *off = (size_t)(r - result.buf) + *len;
    assert_true(*off <= result.len);
    return r;
}

static struct acl *loopback_acl(void)
{
    struct acl *acl = acl_create();
    assert_int_equal(acl_add(acl, "127.0.0.1", 1), 0);
    return acl;
}

static struct http_server *start(struct acl *acl)
{
    struct netaddr a;
    sched_init();
    assert_int_equal(addr_parse("127.0.0.1", &a), 0);
    metrics_calls = 0;
    struct http_server *h = http_create(&a, 0, acl, fill_metrics, "tempus_up");
    assert_non_null(h);
    assert_true(http_port(h) != 0);
    return h;
}

static void stop(struct http_server *h, struct acl *acl)
{
    http_destroy(h);
    sched_fini();
    acl_destroy(acl);
}

static void client_get(int out, uint16_t port)
{
    client_exchange(out, port, NULL, OK_REQ, strlen(OK_REQ));
}

static void test_server_get(void **state)
{
    (void)state;
    struct acl *acl = loopback_acl();
    struct http_server *h = start(acl);
    run_server(h, client_get, 5);
    size_t off = 0, len;
    const char *r = next_response(&off, &len);
    const char *want = "HTTP/1.1 200 OK\r\n"
                       "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                       "Content-Length: 12\r\n"
                       "Connection: close\r\n"
                       "\r\n"
                       "tempus_up 1\n";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(r, want, len);
    assert_int_equal(metrics_calls, 1);
    stop(h, acl);
}

static void client_statuses(int out, uint16_t port)
{
    static const char *const reqs[] = {"GET /x HTTP/1.1\r\n\r\n", "HEAD /metrics HTTP/1.1\r\n\r\n",
                                       "\x16\x03\x01 hello", "GET /metrics HTTP/1.1\r\n"};
    for (size_t i = 0; i < 3; i++)
        client_exchange(out, port, NULL, reqs[i], strlen(reqs[i]));
    /* 431: a request that never ends within 8 KiB */
    static char big[8300];
    size_t n = (size_t)sprintf(big, "%s", reqs[3]);
    while (n + 6 < sizeof(big))
        n += (size_t)sprintf(big + n, "A: b\r\n");
    client_exchange(out, port, NULL, big, n);
}

static void expect_status(size_t *off, const char *line, const char *body)
{
    size_t len;
    const char *r = next_response(off, &len);
    char want[256];
    snprintf(want, sizeof(want), "%s\r\nContent-Type: text/plain; charset=utf-8\r\n", line);
    if (len < strlen(want) || memcmp(r, want, strlen(want)) != 0)
        fail_msg("expected \"%s\", got \"%.*s\"", line, (int)len, r);
    assert_true(len > strlen(body));
    assert_memory_equal(r + len - strlen(body), body, strlen(body));
}

static void test_server_statuses(void **state)
{
    (void)state;
    struct acl *acl = loopback_acl();
    struct http_server *h = start(acl);
    run_server(h, client_statuses, 10);
    size_t off = 0;
    expect_status(&off, "HTTP/1.1 404 Not Found", "\r\n\r\nNot Found\n");
    expect_status(&off, "HTTP/1.1 405 Method Not Allowed",
                  "Allow: GET\r\nConnection: close\r\n\r\nMethod Not Allowed\n");
    expect_status(&off, "HTTP/1.1 400 Bad Request",
                  "Content-Length: 12\r\nConnection: "
                  "close\r\n\r\nBad Request\n");
    expect_status(&off, "HTTP/1.1 431 Request Header Fields Too Large", "Too Large\n");
    assert_int_equal(off, result.len);
    assert_int_equal(metrics_calls, 0);
    stop(h, acl);
}

static void client_bytewise(int out, uint16_t port)
{
    static char buf[4096];
    int fd = client_connect(port, NULL);
    for (const char *p = OK_REQ; *p; p++) {
        if (send(fd, p, 1, MSG_NOSIGNAL) != 1)
            _exit(6);
        usleep(2000);
    }
    size_t len = client_read(fd, buf, sizeof(buf));
    dprintf(out, "%zu\n", len);
    if (write(out, buf, len) < 0)
        _exit(5);
}

static void test_server_bytewise(void **state)
{
    (void)state;
    struct acl *acl = loopback_acl();
    struct http_server *h = start(acl);
    run_server(h, client_bytewise, 5);
    size_t off = 0, len;
    const char *r = next_response(&off, &len);
    assert_true(len > 17);
    assert_memory_equal(r, "HTTP/1.1 200 OK\r\n", 17);
    assert_memory_equal(r + len - 12, "tempus_up 1\n", 12);
    stop(h, acl);
}

static void client_acl(int out, uint16_t port)
{
    client_exchange(out, port, "127.0.0.1", OK_REQ, strlen(OK_REQ));
    client_exchange(out, port, "127.0.0.2", OK_REQ, strlen(OK_REQ));
}

static void test_server_acl(void **state)
{
    (void)state;
    struct acl *acl = acl_create();
    assert_int_equal(acl_add(acl, "127.0.0.0/8", 1), 0);
    assert_int_equal(acl_add(acl, "127.0.0.1", 0), 0);
    struct http_server *h = start(acl);
    run_server(h, client_acl, 5);
    size_t off = 0, len;
    next_response(&off, &len);
    assert_int_equal(len, 0); /* 127.0.0.1 denied: closed without a byte */
    const char *r = next_response(&off, &len);
    assert_true(len > 17);
    assert_memory_equal(r, "HTTP/1.1 200 OK\r\n", 17);
    assert_int_equal(metrics_calls, 1);

    http_destroy(h);
    sched_fini();

    /* a reload to an empty list denies everyone, NULL too (one loop run
     * each: sched_quit holds until sched_init) */
    struct acl *none = acl_create();
    for (int i = 0; i < 2; i++) {
        h = start(acl);
        http_set_acl(h, i ? NULL : none);
        run_server(h, client_get, 5);
        off = 0;
        next_response(&off, &len);
        assert_int_equal(len, 0);
        assert_int_equal(metrics_calls, 0);
        http_destroy(h);
        sched_fini();
    }
    acl_destroy(none);
    acl_destroy(acl);
}

/* 16 idle connections fill the server; a 17th is closed at once; the
 * first of the 16 is still served. */
static void client_limit(int out, uint16_t port)
{
    static char buf[4096];
    int fds[16];
    for (int i = 0; i < 16; i++)
        fds[i] = client_connect(port, NULL);
    usleep(200000);
    int extra = client_connect(port, NULL);
    dprintf(out, "%zu\n", client_read(extra, buf, sizeof(buf)));
    close(extra);
    if (send(fds[0], OK_REQ, strlen(OK_REQ), MSG_NOSIGNAL) < 0)
        _exit(6);
    size_t len = client_read(fds[0], buf, sizeof(buf));
    dprintf(out, "%zu\n", len);
    if (write(out, buf, len) < 0)
        _exit(5);
    for (int i = 1; i < 16; i++)
        close(fds[i]);
    /* the slots are free again */
    client_get(out, port);
}

static void test_server_conn_limit(void **state)
{
    (void)state;
    struct acl *acl = loopback_acl();
    struct http_server *h = start(acl);
    run_server(h, client_limit, 6);
    size_t off = 0, len;
    next_response(&off, &len);
    assert_int_equal(len, 0);
    const char *r = next_response(&off, &len);
    assert_true(len > 17);
    assert_memory_equal(r, "HTTP/1.1 200 OK\r\n", 17);
    r = next_response(&off, &len);
    assert_true(len > 17);
    assert_memory_equal(r, "HTTP/1.1 200 OK\r\n", 17);
    assert_int_equal(metrics_calls, 2);
    stop(h, acl);
}

/* An idle connection is closed at the deadline, not before: 5 s by
 * default, shortened here to 0.4 s so that the suite does not wait. */
static void client_idle(int out, uint16_t port)
{
    static char buf[64];
    struct timespec a, b;
    int fd = client_connect(port, NULL);
    if (send(fd, "GET /metr", 9, MSG_NOSIGNAL) != 9)
        _exit(6);
    clock_gettime(CLOCK_MONOTONIC, &a);
    size_t len = client_read(fd, buf, sizeof(buf));
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
    dprintf(out, "%zu %.3f\n", len, secs);
}

static void test_server_deadline(void **state)
{
    (void)state;
    struct acl *acl = loopback_acl();
    struct http_server *h = start(acl);
    assert_true(http_get_deadline(h) == 5.0);
    http_set_deadline(h, 0.4);
    run_server(h, client_idle, 9);
    char *end;
    unsigned long len = strtoul(result.buf, &end, 10);
    double secs = strtod(end, &end);
    assert_int_equal(*end, '\n');
    assert_int_equal(len, 0);
    if (secs < 0.35 || secs > 1.5)
        fail_msg("idle connection closed after %.3f s, expected 0.4 s", secs);
    stop(h, acl);
}

/* A response far larger than a socket buffer, read slowly, arrives whole. */
static void client_slow(int out, uint16_t port)
{
    static char buf[1 << 21];
    int fd = client_connect(port, NULL);
    if (send(fd, OK_REQ, strlen(OK_REQ), MSG_NOSIGNAL) < 0)
        _exit(6);
    usleep(300000); /* the server's socket buffer fills up meanwhile */
    size_t len = client_read(fd, buf, sizeof(buf));
    dprintf(out, "%zu\n", len);
    if (write(out, buf, len) < 0)
        _exit(5);
}

static void test_server_large(void **state)
{
    (void)state;
    struct acl *acl = loopback_acl();
    struct http_server *h = start(acl);
    metrics_size = 1000000;
    run_server(h, client_slow, 9);
    metrics_size = 0;
    size_t off = 0, len;
    const char *r = next_response(&off, &len);
    const char *body = strstr(r, "\r\n\r\n");
    assert_non_null(body);
    body += 4;
    unsigned long clen = 0;
    const char *cl = strstr(r, "Content-Length: ");
    assert_non_null(cl);
    clen = strtoul(cl + 16, NULL, 10);
    assert_true(clen >= 1000000);
    assert_int_equal((size_t)(r + len - body), clen);
    assert_memory_equal(body, "m 0\nm 1\n", 8);
    assert_memory_equal(r + len - 4, "m ", 2);
    stop(h, acl);
}

static void client_get6(int out, uint16_t port)
{
    static char buf[4096];
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    struct timeval tv = {.tv_sec = 8};
    int fd = socket(AF_INET6, SOCK_STREAM, 0);

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    inet_pton(AF_INET6, "::1", &sa.sin6_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        send(fd, OK_REQ, strlen(OK_REQ), MSG_NOSIGNAL) < 0)
        _exit(4);
    size_t len = client_read(fd, buf, sizeof(buf));
    dprintf(out, "%zu\n", len);
    if (write(out, buf, len) < 0)
        _exit(5);
}

static void test_server_ipv6(void **state)
{
    (void)state;
    struct netaddr a;
    struct acl *acl = acl_create();
    assert_int_equal(acl_add(acl, "::1", 1), 0);
    sched_init();
    assert_int_equal(addr_parse("::1", &a), 0);
    metrics_calls = 0;
    struct http_server *h = http_create(&a, 0, acl, fill_metrics, "tempus_up");
    if (!h) {
        /* no IPv6 on this machine (a container without ::1) */
        sched_fini();
        acl_destroy(acl);
        skip();
    }
    run_server(h, client_get6, 5);
    size_t off = 0, len;
    const char *r = next_response(&off, &len);
    assert_true(len > 17);
    assert_memory_equal(r, "HTTP/1.1 200 OK\r\n", 17);
    assert_memory_equal(r + len - 12, "tempus_up 1\n", 12);
    stop(h, acl);
}

static void test_bad_listen(void **state)
{
    (void)state;
    struct netaddr a;
    sched_init();
    /* 192.0.2.1 is not on this machine: bind fails, NULL comes back */
    assert_int_equal(addr_parse("192.0.2.1", &a), 0);
    assert_null(http_create(&a, 0, NULL, fill_metrics, NULL));
    sched_fini();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),        cmocka_unit_test(test_parse_statuses),
        cmocka_unit_test(test_parse_garbage),   cmocka_unit_test(test_parse_incremental),
        cmocka_unit_test(test_parse_oversize),  cmocka_unit_test(test_server_get),
        cmocka_unit_test(test_server_statuses), cmocka_unit_test(test_server_bytewise),
        cmocka_unit_test(test_server_acl),      cmocka_unit_test(test_server_conn_limit),
        cmocka_unit_test(test_server_deadline), cmocka_unit_test(test_server_large),
        cmocka_unit_test(test_server_ipv6),     cmocka_unit_test(test_bad_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
