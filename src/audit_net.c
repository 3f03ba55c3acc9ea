/* SPDX-License-Identifier: ISC */
#include "audit_net.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "audit.h"
#include "mem.h"

#define AUDIT_OUTPUT_MAX ((size_t)1 << 20)

struct audit_run {
    struct audit_server *s;
    size_t n;
    struct audit_params p;
    long count;
    double interval, timeout;
    int json, probe;
};

/* Every target of an @FILE: one per line, '#' starts a comment. */
static int audit_read_file(struct audit_run *r, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    unsigned lineno = 0;

    if (!f) {
        printf("TEMPUS UNKNOWN: audit: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        char *hash = strchr(line, '#'), *tok, *save = NULL;
        lineno++;
        if (hash)
            *hash = '\0';
        for (tok = strtok_r(line, " \t\r\n", &save); tok;
             tok = strtok_r(NULL, " \t\r\n", &save)) {
            if (r->n == AUDIT_MAX_SERVERS || audit_parse_target(tok, &r->s[r->n]) < 0) {
                printf("TEMPUS UNKNOWN: audit: %s:%u: bad target '%s'\n", path, lineno, tok);
                fclose(f);
                return -1;
            }
            r->n++;
        }
    }
    fclose(f);
    return 0;
}

/* A number in [lo, hi], all of s. */
static int audit_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = s ? strtod(s, &end) : NAN;
    if (!s || end == s || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int audit_option(struct audit_run *r, const char *opt, const char *val)
{
    double d;
    if (strcmp(opt, "--count") == 0 && audit_num(val, 1, 16, &d) == 0)
        r->count = (long)d;
    else if (strcmp(opt, "--interval") == 0 && audit_num(val, 0.5, 60, &d) == 0)
        r->interval = d;
    else if (strcmp(opt, "--timeout") == 0 && audit_num(val, 0.1, 10, &d) == 0)
        r->timeout = d;
    else if (strcmp(opt, "--outlier") == 0 && audit_num(val, 0, 1e6, &d) == 0)
        r->p.outlier = d;
    else if (strcmp(opt, "--crit-outlier") == 0 && audit_num(val, 0, 1e6, &d) == 0)
        r->p.crit_outlier = d;
    else if (strcmp(opt, "--expect-refid") == 0 && val && r->p.n_expect < AUDIT_MAX_EXPECT &&
             audit_parse_refid(val, &r->p.expect[r->p.n_expect]) == 0)
        r->p.n_expect++;
    else
        return -1;
    return 0;
}

static int audit_args(struct audit_run *r, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            r->json = 1;
        } else if (strcmp(a, "--probe-control") == 0) {
            r->probe = 1;
        } else if (strncmp(a, "--", 2) == 0) {
            if (audit_option(r, a, i + 1 < argc ? argv[i + 1] : NULL) < 0) {
                printf("TEMPUS UNKNOWN: audit: bad option '%s%s%s'\n", a, i + 1 < argc ? " " : "",
                       i + 1 < argc ? argv[i + 1] : "");
                return -1;
            }
            i++;
        } else if (a[0] == '@') {
            if (audit_read_file(r, a + 1) < 0)
                return -1;
        } else if (r->n == AUDIT_MAX_SERVERS || audit_parse_target(a, &r->s[r->n++]) < 0) {
            printf("TEMPUS UNKNOWN: audit: bad target '%s' (HOST[:PORT], [ADDR]:PORT or @FILE)\n", a);
            return -1;
        }
    }
    if (r->n == 0) {
        printf("TEMPUS UNKNOWN: audit: no server given\n");
        return -1;
    }
    return 0;
}

/* A socket connected to the server's first address, or -1 (left unresolved
 * or unreachable, which the report shows). */
static int audit_open(struct audit_server *s)
{
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV}, *res = NULL;
    char port[8];

    snprintf(port, sizeof(port), "%u", s->port);
    if (getaddrinfo(s->host, port, &hints, &res) != 0 || !res)
        return -1;
    int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    addr_from_sockaddr(res->ai_addr, &s->addr, NULL);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static double audit_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One round: a request to every server still asked, then answers until
 * the timeout; the first answer to this round's request ends a server's
 * wait, a kiss-o'-death sets stopped[i]. */
static void audit_round(struct audit_run *r, const int *fd, int *stopped)
{
    uint64_t *cookie = mem_calloc(r->n, sizeof(*cookie));
    struct timespec *t1 = mem_calloc(r->n, sizeof(*t1));
    struct pollfd *p = mem_calloc(r->n, sizeof(*p));

    for (size_t i = 0; i < r->n; i++) {
        uint8_t req[48];
        p[i].fd = -1;
        if (fd[i] < 0 || stopped[i])
            continue;
        while (getrandom(&cookie[i], sizeof(cookie[i]), 0) != sizeof(cookie[i]) || !cookie[i])
            ;
        audit_request(req, cookie[i]);
        clock_gettime(CLOCK_REALTIME, &t1[i]);
        if (send(fd[i], req, sizeof(req), 0) == (ssize_t)sizeof(req)) {
            r->s[i].sent++;
            p[i] = (struct pollfd){.fd = fd[i], .events = POLLIN};
        }
    }
    double end = audit_now() + r->timeout;
    for (double left; (left = end - audit_now()) > 0;) {
        if (poll(p, r->n, (int)(left * 1000) + 1) <= 0)
            continue;
        for (size_t i = 0; i < r->n; i++) {
            uint8_t buf[1500];
            struct timespec t4;
            if (p[i].fd < 0 || !p[i].revents)
                continue;
            ssize_t got = recv(fd[i], buf, sizeof(buf), 0);
            clock_gettime(CLOCK_REALTIME, &t4);
            if (got < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            int a = got > 0 ? audit_answer(&r->s[i], buf, (size_t)got, cookie[i], &t1[i], &t4) : 1;
            if (a >= 0)
                p[i].fd = -1; /* answered (or refused: ICMP) this round */
            stopped[i] |= a == 0; /* a kiss-o'-death: ask no more */
        }
    }
    free(cookie);
    free(t1);
    free(p);
}

/* --probe-control: one packet of the given mode to every server that has
 * a socket, then every datagram of that mode back within the timeout is
 * counted into mode6_bytes or mode7_bytes. */
static void audit_probe(struct audit_run *r, const int *fd, int mode)
{
    struct pollfd *p = mem_calloc(r->n, sizeof(*p));
    uint8_t req[AUDIT_PROBE_LEN];
    size_t len = mode == 6 ? audit_probe_mode6(req) : audit_probe_mode7(req);

    for (size_t i = 0; i < r->n; i++) {
        p[i].fd = -1;
        if (fd[i] >= 0 && send(fd[i], req, len, 0) == (ssize_t)len) {
            r->s[i].probed = 1;
            p[i] = (struct pollfd){.fd = fd[i], .events = POLLIN};
        }
    }
    double end = audit_now() + r->timeout;
    for (double left; (left = end - audit_now()) > 0;) {
        if (poll(p, r->n, (int)(left * 1000) + 1) <= 0)
            continue;
        for (size_t i = 0; i < r->n; i++) {
            uint8_t buf[2048];
            if (p[i].fd < 0 || !p[i].revents)
                continue;
            ssize_t got = recv(fd[i], buf, sizeof(buf), 0);
            if (got < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (got < 0) {
                p[i].fd = -1;
                continue;
            }
            if (audit_packet_mode(buf, (size_t)got) == mode)
                *(mode == 6 ? &r->s[i].mode6_bytes : &r->s[i].mode7_bytes) += (size_t)got;
        }
    }
    free(p);
}

static void audit_query_all(struct audit_run *r)
{
    int *fd = mem_calloc(r->n, sizeof(*fd)), *stopped = mem_calloc(r->n, sizeof(*stopped));

    for (size_t i = 0; i < r->n; i++)
        fd[i] = audit_open(&r->s[i]);
    for (long round = 0; round < r->count; round++) {
        double start = audit_now();
        audit_round(r, fd, stopped);
        /* at most one request per server per interval */
        double left = start + r->interval - audit_now();
        if (round + 1 < r->count && left > 0)
            poll(NULL, 0, (int)(left * 1000));
    }
    if (r->probe) {
        audit_probe(r, fd, 6);
        audit_probe(r, fd, 7);
    }
    for (size_t i = 0; i < r->n; i++)
        if (fd[i] >= 0)
            close(fd[i]);
    free(fd);
    free(stopped);
}

int audit_command(int argc, char **argv, int json)
{
    struct audit_run r = {.count = 4, .interval = 2, .timeout = 1, .json = json};
    struct ctl_buf out;

    audit_params_defaults(&r.p);
    r.s = mem_calloc(AUDIT_MAX_SERVERS, sizeof(*r.s));
    if (audit_args(&r, argc, argv) < 0) {
        free(r.s);
        return 3;
    }
    if (r.timeout > r.interval)
        r.timeout = r.interval;
    audit_query_all(&r);
    int status = audit_evaluate(r.s, r.n, &r.p);
    ctl_buf_init(&out, AUDIT_OUTPUT_MAX);
    if (r.json)
        audit_render_json(r.s, r.n, status, &out);
    else
        audit_render_table(r.s, r.n, status, &out);
    free(r.s);
    if (out.overflow || fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
        status = 3;
    ctl_buf_free(&out);
    return status;
}
