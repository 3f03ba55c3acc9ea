/* SPDX-License-Identifier: ISC */
#include "http.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "maxima.h"
#include "mem.h"
#include "sched.h"

#define HTTP_MAX_REQUEST 8192 /* request line and headers */
#define HTTP_MAX_TARGET 2048  /* request target: longer is 414 */
#define HTTP_MAX_METHOD 16
#define HTTP_MAX_CONNS MAXIMA_HTTP_CONNECTIONS
#define HTTP_DEADLINE 5.0 /* seconds from accept to the last byte written */
#define HTTP_RETRY 0.02   /* seconds between write attempts on a full socket */
#define HTTP_ACCEPT_BATCH 32
#define HTTP_PAUSE 1.0 /* seconds off after accept ran out of descriptors */
#define HTTP_MAX_RESPONSE (CTL_MAX_REPLY + 1024)

/* Writing: a response goes at once into a send buffer sized for it (up to
 * the kernel's wmem_max); what does not fit is retried from a short timer
 * until it is out or the deadline closes the connection. Once the request
 * is complete the descriptor leaves the poll set: one request per
 * connection, nothing more is read. Waiting for POLLOUT instead would keep
 * the descriptor polled for input too, and a client that half-closes after
 * its request stays readable: the loop would spin until the deadline. */
struct http_conn {
    struct http_server *srv;
    int fd;
    uint64_t deadline, retry; /* timer ids, 0 if none */
    size_t len;
    struct ctl_buf out; /* response once the request is complete */
    size_t off;         /* bytes of out already written */
    char buf[HTTP_MAX_REQUEST];
};

struct http_server {
    int fd;
    uint16_t port;
    const struct acl *acl;
    http_metrics_fn fn;
    void *arg;
    uint64_t pause;
    double deadline; /* seconds per connection (HTTP_DEADLINE) */
    struct http_conn *conns[HTTP_MAX_CONNS];
};

/* Request parser states: the request line, then header lines. */
enum http_state {
    HTTP_S_METHOD,
    HTTP_S_TARGET,
    HTTP_S_VERSION,
    HTTP_S_LINE_CR, /* CR seen, LF must follow */
    HTTP_S_LINE_START,
    HTTP_S_NAME,
    HTTP_S_VALUE,
    HTTP_S_END_CR,
};

/* tchar of RFC 9110 5.6.2. */
static int http_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Where the request line and header grammar goes next on byte c; -1 for a
 * byte that cannot come here. pos counts bytes of the current element. */
static int http_step(enum http_state st, unsigned char c, size_t pos)
{
    switch (st) {
    case HTTP_S_METHOD:
        if (c >= 'A' && c <= 'Z' && pos < HTTP_MAX_METHOD)
            return HTTP_S_METHOD;
        return c == ' ' && pos > 0 ? HTTP_S_TARGET : -1;
    case HTTP_S_TARGET:
        if (c > 0x20 && c < 0x7f)
            return HTTP_S_TARGET;
        return c == ' ' && pos > 0 ? HTTP_S_VERSION : -1;
    case HTTP_S_VERSION:
        if (pos < 7)
            return c == (unsigned char)"HTTP/1."[pos] ? HTTP_S_VERSION : -1;
        if (pos == 7)
            return c >= '0' && c <= '9' ? HTTP_S_VERSION : -1;
        return c == '\r' ? HTTP_S_LINE_CR : c == '\n' ? HTTP_S_LINE_START : -1;
    case HTTP_S_LINE_CR:
        return c == '\n' ? HTTP_S_LINE_START : -1;
    case HTTP_S_LINE_START:
        /* a leading space would be an obsolete line folding: refused */
        if (c == '\r')
            return HTTP_S_END_CR;
        return http_tchar(c) ? HTTP_S_NAME : -1;
    case HTTP_S_NAME:
        if (http_tchar(c))
            return HTTP_S_NAME;
        return c == ':' ? HTTP_S_VALUE : -1;
    case HTTP_S_VALUE:
        if (c == '\t' || (c >= 0x20 && c != 0x7f))
            return HTTP_S_VALUE;
        return c == '\r' ? HTTP_S_LINE_CR : c == '\n' ? HTTP_S_LINE_START : -1;
    case HTTP_S_END_CR:
        return -1; /* the caller ends the request on LF */
    }
    return -1;
}

/* The complete request: method at buf, target after it. */
static int http_route(const char *buf, size_t mlen, size_t tlen)
{
    const char *t = buf + mlen + 1;
    static const char path[] = "/metrics";
    size_t plen = sizeof(path) - 1;

    if (tlen < plen || memcmp(t, path, plen) != 0 || (tlen > plen && t[plen] != '?'))
        return 404;
    return mlen == 3 && memcmp(buf, "GET", 3) == 0 ? 200 : 405;
}

int http_parse_request(const char *buf, size_t len)
{
    enum http_state st = HTTP_S_METHOD;
    size_t pos = 0, mlen = 0, tlen = 0;

    for (size_t i = 0; i < len && i < HTTP_MAX_REQUEST; i++) {
        unsigned char c = (unsigned char)buf[i];
        if ((st == HTTP_S_LINE_START && c == '\n') || (st == HTTP_S_END_CR && c == '\n'))
            return http_route(buf, mlen, tlen);
        int next = http_step(st, c, pos);
        if (next < 0)
            return 400;
        if (st == HTTP_S_METHOD)
            mlen = next == HTTP_S_METHOD ? pos + 1 : mlen;
        else if (st == HTTP_S_TARGET)
            tlen = next == HTTP_S_TARGET ? pos + 1 : tlen;
        pos = (int)st == next ? pos + 1 : 0;
        if (tlen > HTTP_MAX_TARGET)
            return 414;
        st = (enum http_state)next;
    }
    return len >= HTTP_MAX_REQUEST ? 431 : 0;
}

static const char *http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    default:
        return "Internal Server Error";
    }
}

/* The whole response for status into out. */
static void http_respond(struct http_server *h, int status, struct ctl_buf *out)
{
    struct ctl_buf body;

    ctl_buf_init(&body, CTL_MAX_REPLY);
    if (status == 200) {
        h->fn(h->arg, &body);
        if (body.overflow) {
            log_warnx("metrics: response larger than %u bytes", CTL_MAX_REPLY);
            status = 500;
            ctl_buf_free(&body);
            ctl_buf_init(&body, CTL_MAX_REPLY);
        }
    }
    if (status != 200)
        ctl_buf_printf(&body, "%s\n", http_reason(status));
    ctl_buf_init(out, HTTP_MAX_RESPONSE);
    ctl_buf_printf(out, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
    ctl_buf_printf(out, "Content-Type: text/plain; %scharset=utf-8\r\n",
                   status == 200 ? "version=0.0.4; " : "");
    ctl_buf_printf(out, "Content-Length: %zu\r\n", body.len);
    if (status == 405)
        ctl_buf_printf(out, "Allow: GET\r\n");
    ctl_buf_printf(out, "Connection: close\r\n\r\n");
    ctl_buf_append(out, body.data, body.len);
    ctl_buf_free(&body);
}

static void http_close(struct http_conn *c)
{
    struct http_server *h = c->srv;

    for (unsigned i = 0; i < HTTP_MAX_CONNS; i++)
        if (h->conns[i] == c)
            h->conns[i] = NULL;
    sched_remove_fd(c->fd);
    close(c->fd);
    if (c->deadline)
        sched_cancel_timer(c->deadline);
    if (c->retry)
        sched_cancel_timer(c->retry);
    if (c->out.data)
        ctl_buf_free(&c->out);
    free(c);
}

static void http_deadline(void *arg)
{
    struct http_conn *c = arg;

    c->deadline = 0;
    log_debug("metrics: connection timed out");
    http_close(c);
}

/* Write what the socket takes; closes the connection when all is out or the
 * peer is gone, else tries again shortly. */
static void http_flush(void *arg)
{
    struct http_conn *c = arg;

    c->retry = 0;
    while (c->off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->off, c->out.len - c->off, MSG_NOSIGNAL);
        if (n > 0) {
            c->off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->retry = sched_add_timer(HTTP_RETRY, http_flush, c);
            return;
        }
        break;
    }
    http_close(c);
}

static void http_start_response(struct http_conn *c, int status)
{
    sched_remove_fd(c->fd);
    http_respond(c->srv, status, &c->out);
    /* Room for the whole response if the kernel allows it (wmem_max caps);
     * out.len is at most HTTP_MAX_RESPONSE. */
    int sz = (int)c->out.len;
    if (sz > 65536)
        setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    http_flush(c);
}

static void http_readable(int fd, void *arg)
{
    struct http_conn *c = arg;
    ssize_t n = recv(fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        http_close(c);
        return;
    }
    c->len += (size_t)n;
    int status = http_parse_request(c->buf, c->len);
    if (status != 0)
        http_start_response(c, status);
}

static int http_slot(struct http_server *h)
{
    for (int i = 0; i < HTTP_MAX_CONNS; i++)
        if (!h->conns[i])
            return i;
    return -1;
}

/* Take over an accepted descriptor, or close it at once. */
static void http_admit(struct http_server *h, int fd, const struct sockaddr_storage *ss)
{
    struct netaddr peer = {0};
    char ab[ADDR_STRLEN];
    int slot = http_slot(h);

    if (addr_from_sockaddr((const struct sockaddr *)ss, &peer, NULL) != 0 || !h->acl ||
        !acl_check(h->acl, &peer)) {
        if (peer.family == AF_INET || peer.family == AF_INET6)
            log_debug("metrics: refused %s: not allowed", addr_format(&peer, ab, sizeof(ab)));
        close(fd);
        return;
    }
    if (slot < 0) {
        log_debug("metrics: refused %s: %d connections open", addr_format(&peer, ab, sizeof(ab)),
                  HTTP_MAX_CONNS);
        close(fd);
        return;
    }
    struct http_conn *c = mem_zalloc(sizeof(*c));
    c->srv = h;
    c->fd = fd;
    if (sched_add_fd(fd, http_readable, c) < 0) {
        log_warnx("metrics: event loop full, connection refused");
        close(fd);
        free(c);
        return;
    }
    c->deadline = sched_add_timer(h->deadline, http_deadline, c);
    h->conns[slot] = c;
}

static void http_accept(int fd, void *arg);

static void http_resume(void *arg)
{
    struct http_server *h = arg;

    h->pause = 0;
    if (sched_add_fd(h->fd, http_accept, h) < 0)
        h->pause = sched_add_timer(HTTP_PAUSE, http_resume, h);
}

static void http_accept(int fd, void *arg)
{
    struct http_server *h = arg;

    for (int i = 0; i < HTTP_ACCEPT_BATCH; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        memset(&ss, 0, sizeof(ss));
        int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd >= 0) {
            http_admit(h, cfd, &ss);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* The listener would stay readable and spin: look away a while. */
            log_warn("metrics: accept");
            sched_remove_fd(fd);
            h->pause = sched_add_timer(HTTP_PAUSE, http_resume, h);
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
            log_warn("metrics: accept");
        }
        return;
    }
}

static int http_listen(const struct netaddr *addr, uint16_t port)
{
    struct sockaddr_storage ss;
    struct netaddr any = {.family = AF_INET};
    char ab[ADDR_STRLEN];
    int one = 1;

    if (!addr)
        addr = &any;
    socklen_t sl = addr_to_sockaddr(addr, port, &ss);
    int fd = socket(addr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_warn("metrics: socket");
        return -1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, HTTP_MAX_CONNS) < 0) {
        log_warn("metrics: cannot listen on %s port %u", addr_format(addr, ab, sizeof(ab)), port);
        close(fd);
        return -1;
    }
    return fd;
}

struct http_server *http_create(const struct netaddr *addr, uint16_t port, const struct acl *acl,
                                http_metrics_fn fn, void *arg)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd = http_listen(addr, port);

    if (fd < 0)
        return NULL;
    struct http_server *h = mem_zalloc(sizeof(*h));
    h->fd = fd;
    h->port = port;
    h->acl = acl;
    h->fn = fn;
    h->arg = arg;
    h->deadline = HTTP_DEADLINE;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        addr_from_sockaddr((struct sockaddr *)&ss, &(struct netaddr){0}, &h->port);
    if (sched_add_fd(fd, http_accept, h) < 0) {
        log_warnx("metrics: event loop full");
        close(fd);
        free(h);
        return NULL;
    }
    return h;
}

void http_destroy(struct http_server *h)
{
    if (!h)
        return;
    for (unsigned i = 0; i < HTTP_MAX_CONNS; i++)
        if (h->conns[i])
            http_close(h->conns[i]);
    if (h->pause)
        sched_cancel_timer(h->pause);
    else
        sched_remove_fd(h->fd);
    close(h->fd);
    free(h);
}

void http_set_deadline(struct http_server *h, double seconds)
{
    h->deadline = seconds;
}

double http_get_deadline(const struct http_server *h)
{
    return h->deadline;
}

void http_set_acl(struct http_server *h, const struct acl *acl)
{
    h->acl = acl;
}

uint16_t http_port(const struct http_server *h)
{
    return h->port;
}
