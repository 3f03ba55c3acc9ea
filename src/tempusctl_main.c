/* SPDX-License-Identifier: ISC */
/* tempusctl: ask tempusd over its control socket and print the answer. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "audit_net.h"
#include "conf.h"
#include "ctl_proto.h"
#include "ctl_render.h"
#include "firewall_live.h"
#include "lint.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "version.h"

/* The whole exchange (connect, request, reply) must finish in this time. */
#define TCTL_TIMEOUT_MS 5000
/* Rendered output may be larger than the reply (JSON escapes). */
#define TCTL_MAX_OUTPUT ((size_t)16 * CTL_MAX_REPLY)
#define TCTL_CLIENTS_DEFAULT 20
#define TCTL_CLIENTS_MAX 100000

struct tctl {
    const char *socket;
    const char *config; /* -f CONFIG, or NULL */
    int json;
    char err[512]; /* why the last query failed */
};

/* A reply: the payload (which the records point into) and its records. */
struct tctl_reply {
    enum ctl_type type;
    char *payload;
    struct ctl_record *recs;
    size_t n;
};

static void tctl_usage(FILE *out)
{
    fprintf(out,
            "usage: tempusctl [-s SOCKET | -f CONFIG] [--json] COMMAND [ARGS]\n"
            "  -s SOCKET  control socket (default " CTL_DEFAULT_SOCKET ")\n"
            "  -f CONFIG  take the socket from this configuration file\n"
            "  --json     print JSON instead of tables\n"
            "commands:\n"
            "  tracking                  the system clock and its reference\n"
            "  sources [-v]              upstream sources (-v: explain the columns)\n"
            "  sourcestats               drift and noise of each source\n"
            "  authdata                  how each source is authenticated (NTS, key)\n"
            "  clients [N]               the N busiest clients (default %d)\n"
            "  serverstats               server counters per address family\n"
            "  check [--warn-offset S] [--crit-offset S] [--min-sources N]\n"
            "        [--max-stratum N] [--orphan|--local|--holdover ok|warning|critical]\n"
            "                            health check for monitoring (exit 0-3)\n"
            "  reload                    reload the configuration\n"
            "  waitsync [--timeout S] [--max-offset S] [--interval S]\n"
            "                            wait until synchronised (exit 0; 1 on timeout)\n"
            "  metrics                   Prometheus metrics\n"
            "  lint [--ignore CODE]... [FILE]\n"
            "                            audit FILE, or the running daemon (exit 0-3)\n"
            "  audit [--count N] [--interval S] [--timeout S] [--outlier S]\n"
            "        [--crit-outlier S] [--expect-refid REFID]... [--probe-control]\n"
            "        HOST[:PORT]|[ADDR]:PORT|@FILE...\n"
            "                            ask each server over NTP, judge the fleet (exit 0-3)\n"
            "  firewall [--check] [FILE] nftables ruleset FILE implies; --check: compare\n"
            "                            it with the live table (exit 0-3)\n",
            TCTL_CLIENTS_DEFAULT);
}

static int64_t tctl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events or the deadline passes: 1 ready,
 * 0 timed out, -1 error. */
static int tctl_wait(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - tctl_now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? -1 : r > 0;
    }
}

static int tctl_connect_wait(int fd, int64_t deadline)
{
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    int r = tctl_wait(fd, POLLOUT, deadline);

    if (r <= 0) {
        if (r == 0)
            errno = ETIMEDOUT;
        return -1;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        return -1;
    errno = soerr;
    return soerr ? -1 : 0;
}

/* Connect to the socket at path without blocking past the deadline. */
static int tctl_connect(struct tctl *t, int64_t deadline)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    if (strlen(t->socket) >= sizeof(sa.sun_path)) {
        snprintf(t->err, sizeof(t->err), "socket path too long: %s", t->socket);
        return -1;
    }
    memcpy(sa.sun_path, t->socket, strlen(t->socket) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(t->err, sizeof(t->err), "socket: %s", strerror(errno));
        return -1;
    }
    for (;;) {
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return fd;
        if (errno == EINTR)
            continue;
        if (errno == EINPROGRESS && tctl_connect_wait(fd, deadline) == 0)
            return fd;
        /* a full listen queue: the daemon is busy, try again shortly */
        if (errno == EAGAIN && tctl_now_ms() + 50 < deadline) {
            poll(NULL, 0, 50);
            continue;
        }
        break;
    }
    int e = errno == EAGAIN ? ETIMEDOUT : errno;
    snprintf(t->err, sizeof(t->err), "cannot connect to %s: %s%s", t->socket, strerror(e),
             e == ENOENT || e == ECONNREFUSED ? " (is tempusd running?)" : "");
    close(fd);
    return -1;
}

static int tctl_send_all(int fd, const uint8_t *p, size_t n, int64_t deadline)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            int r = tctl_wait(fd, POLLOUT, deadline);
            if (r <= 0) {
                errno = r == 0 ? ETIMEDOUT : errno;
                return -1;
            }
            continue;
        }
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read exactly n bytes: 0, or -1 (errno set; 0 for an early end). */
static int tctl_recv_all(int fd, uint8_t *p, size_t n, int64_t deadline)
{
    while (n > 0) {
        int r = tctl_wait(fd, POLLIN, deadline);
        if (r <= 0) {
            errno = r == 0 ? ETIMEDOUT : errno;
            return -1;
        }
        ssize_t got = recv(fd, p, n, 0);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue;
        if (got <= 0) {
            if (got == 0)
                errno = 0;
            return -1;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

static int tctl_recv_error(struct tctl *t, const char *what)
{
    snprintf(t->err, sizeof(t->err), "%s from %s: %s", what, t->socket,
             errno ? strerror(errno) : "connection closed early");
    return -1;
}

/* Upper bound of the records in a payload: each ends with a blank line. */
static size_t tctl_count_records(const char *p, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i + 1 < len; i++)
        n += p[i] == '\n' && p[i + 1] == '\n';
    return n;
}

/* Send one request, read and parse the reply. 0 with *rep filled (free
 * with tctl_reply_free), or -1 with t->err set. */
static int tctl_query(struct tctl *t, const char *request, struct tctl_reply *rep)
{
    int64_t deadline = tctl_now_ms() + TCTL_TIMEOUT_MS;
    uint8_t hdr[CTL_HEADER_LEN];
    size_t rlen = strlen(request);
    uint32_t len;

    memset(rep, 0, sizeof(*rep));
    if (!ctl_request_valid(request, rlen)) {
        snprintf(t->err, sizeof(t->err), "invalid request '%s'", request);
        return -1;
    }
    int fd = tctl_connect(t, deadline);
    if (fd < 0)
        return -1;
    uint8_t *frame = mem_alloc(CTL_HEADER_LEN + rlen);
    ctl_header_encode(frame, CTL_REQUEST, (uint32_t)rlen);
    memcpy(frame + CTL_HEADER_LEN, request, rlen);
    int r = tctl_send_all(fd, frame, CTL_HEADER_LEN + rlen, deadline);
    free(frame);
    if (r < 0) {
        close(fd);
        return tctl_recv_error(t, "cannot send the request");
    }
    if (tctl_recv_all(fd, hdr, sizeof(hdr), deadline) < 0) {
        close(fd);
        return tctl_recv_error(t, "no reply");
    }
    if (ctl_header_decode(hdr, CTL_MAX_REPLY, &rep->type, &len) < 0 || rep->type == CTL_REQUEST) {
        close(fd);
        snprintf(t->err, sizeof(t->err), "malformed reply header from %s", t->socket);
        return -1;
    }
    rep->payload = mem_alloc((size_t)len + 1);
    r = tctl_recv_all(fd, (uint8_t *)rep->payload, len, deadline);
    close(fd);
    if (r < 0)
        return tctl_recv_error(t, "incomplete reply");
    size_t max = tctl_count_records(rep->payload, len);
    rep->recs = mem_calloc(max ? max : 1, sizeof(*rep->recs));
    int n = ctl_records_parse(rep->payload, len, rep->recs, max);
    if (n < 0) {
        snprintf(t->err, sizeof(t->err), "malformed reply from %s", t->socket);
        return -1;
    }
    rep->n = (size_t)n;
    return 0;
}

static void tctl_reply_free(struct tctl_reply *rep)
{
    free(rep->payload);
    free(rep->recs);
    memset(rep, 0, sizeof(*rep));
}

/* The message of the first result record, for an error reply. */
static const char *tctl_reply_message(const struct tctl_reply *rep)
{
    for (size_t i = 0; i < rep->n; i++)
        if (strcmp(rep->recs[i].kind, "result") == 0) {
            const char *m = ctl_rec_get(&rep->recs[i], "message");
            if (m && *m)
                return m;
        }
    return "request failed";
}

/* Query and complain on the way: 0 with a CTL_REPLY in *rep, else 1 (the
 * exit status) with everything printed and freed. */
static int tctl_fetch(struct tctl *t, const char *request, struct tctl_reply *rep)
{
    if (tctl_query(t, request, rep) < 0) {
        fprintf(stderr, "tempusctl: %s\n", t->err);
        tctl_reply_free(rep);
        return 1;
    }
    if (rep->type == CTL_REPLY_ERROR) {
        fprintf(stderr, "tempusctl: %s\n", tctl_reply_message(rep));
        tctl_reply_free(rep);
        return 1;
    }
    return 0;
}

/* Write out to f; 0, or 1 when it could not be written. */
static int tctl_emit(struct ctl_buf *out, FILE *f)
{
    int rc = 0;
    if (out->overflow) {
        fprintf(stderr, "tempusctl: output too large\n");
        rc = 1;
    } else if (fwrite(out->data, 1, out->len, f) != out->len || fflush(f) != 0) {
        fprintf(stderr, "tempusctl: write error: %s\n", strerror(errno));
        rc = 1;
    }
    ctl_buf_free(out);
    return rc;
}

/* Common end of the table commands: JSON or the table made by fn. */
static int tctl_show(struct tctl *t, const char *command, struct tctl_reply *rep,
                     void (*fn)(const struct ctl_record *, size_t, struct ctl_buf *))
{
    struct ctl_buf out;
    int rc = 0;

    ctl_buf_init(&out, TCTL_MAX_OUTPUT);
    if (t->json)
        rc = ctl_render_json(command, rep->recs, rep->n, &out) < 0;
    else
        fn(rep->recs, rep->n, &out);
    if (rc) {
        fprintf(stderr, "tempusctl: no %s record in the reply\n", command);
        ctl_buf_free(&out);
    } else {
        rc = tctl_emit(&out, stdout);
    }
    tctl_reply_free(rep);
    return rc;
}

/* Flags common to every command after its name: --json only. Returns the
 * index of the first other argument, having rejected unknown options. */
static int tctl_no_args(struct tctl *t, const char *cmd, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            t->json = 1;
            continue;
        }
        fprintf(stderr, "tempusctl: %s: unexpected argument '%s'\n", cmd, argv[i]);
        return -1;
    }
    return 0;
}

static int tctl_cmd_tracking(struct tctl *t, int argc, char **argv)
{
    struct tctl_reply rep;

    if (tctl_no_args(t, argv[0], argc, argv) < 0)
        return 1;
    if (tctl_fetch(t, "tracking", &rep))
        return 1;
    for (size_t i = 0; i < rep.n; i++)
        if (strcmp(rep.recs[i].kind, "tracking") == 0)
            return tctl_show(t, "tracking", &rep, ctl_render_tracking);
    fprintf(stderr, "tempusctl: no tracking record in the reply\n");
    tctl_reply_free(&rep);
    return 1;
}

static void tctl_sources_plain(const struct ctl_record *recs, size_t n, struct ctl_buf *out)
{
    ctl_render_sources(recs, n, 0, out);
}

static void tctl_sources_verbose(const struct ctl_record *recs, size_t n, struct ctl_buf *out)
{
    ctl_render_sources(recs, n, 1, out);
}

static int tctl_cmd_sources(struct tctl *t, int argc, char **argv)
{
    struct tctl_reply rep;
    int verbose = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else if (strcmp(argv[i], "--json") == 0) {
            t->json = 1;
        } else {
            fprintf(stderr, "tempusctl: sources: unexpected argument '%s'\n", argv[i]);
            return 1;
        }
    }
    if (tctl_fetch(t, "sources", &rep))
        return 1;
    return tctl_show(t, "sources", &rep, verbose ? tctl_sources_verbose : tctl_sources_plain);
}

static int tctl_cmd_sourcestats(struct tctl *t, int argc, char **argv)
{
    struct tctl_reply rep;

    if (tctl_no_args(t, argv[0], argc, argv) < 0 || tctl_fetch(t, "sourcestats", &rep))
        return 1;
    return tctl_show(t, "sourcestats", &rep, ctl_render_sourcestats);
}

static int tctl_cmd_authdata(struct tctl *t, int argc, char **argv)
{
    struct tctl_reply rep;

    if (tctl_no_args(t, argv[0], argc, argv) < 0 || tctl_fetch(t, "authdata", &rep))
        return 1;
    return tctl_show(t, "authdata", &rep, ctl_render_authdata);
}

static int tctl_cmd_serverstats(struct tctl *t, int argc, char **argv)
{
    struct tctl_reply rep;

    if (tctl_no_args(t, argv[0], argc, argv) < 0 || tctl_fetch(t, "serverstats", &rep))
        return 1;
    return tctl_show(t, "serverstats", &rep, ctl_render_serverstats);
}

/* A decimal integer in [lo, hi], all of s. */
static int tctl_parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int tctl_cmd_clients(struct tctl *t, int argc, char **argv)
{
    struct tctl_reply rep;
    long max = TCTL_CLIENTS_DEFAULT;
    int have_n = 0;
    char request[64];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            t->json = 1;
        } else if (!have_n && tctl_parse_int(argv[i], 1, TCTL_CLIENTS_MAX, &max) == 0) {
            have_n = 1;
        } else {
            fprintf(stderr, "tempusctl: clients: expected a count from 1 to %d, not '%s'\n",
                    TCTL_CLIENTS_MAX, argv[i]);
            return 1;
        }
    }
    snprintf(request, sizeof(request), "clients %ld", max);
    if (tctl_fetch(t, request, &rep))
        return 1;
    rep.n = ctl_render_top_clients(rep.recs, rep.n, (size_t)max);
    return tctl_show(t, "clients", &rep, ctl_render_clients);
}

static int tctl_cmd_reload(struct tctl *t, int argc, char **argv)
{
    struct tctl_reply rep;
    struct ctl_buf out;

    if (tctl_no_args(t, argv[0], argc, argv) < 0)
        return 1;
    if (tctl_query(t, "reload", &rep) < 0) {
        fprintf(stderr, "tempusctl: %s\n", t->err);
        tctl_reply_free(&rep);
        return 1;
    }
    ctl_buf_init(&out, TCTL_MAX_OUTPUT);
    int ok = ctl_render_reload(rep.recs, rep.n, &out);
    if (t->json) {
        ctl_buf_free(&out);
        ctl_buf_init(&out, TCTL_MAX_OUTPUT);
        ctl_render_json("reload", rep.recs, rep.n, &out);
    }
    tctl_reply_free(&rep);
    int rc = tctl_emit(&out, ok || t->json ? stdout : stderr);
    return ok && !rc ? 0 : 1;
}

static int tctl_cmd_metrics(struct tctl *t, int argc, char **argv)
{
    struct tctl_reply rep;
    struct ctl_buf out;

    if (argc > 1) {
        fprintf(stderr, "tempusctl: metrics: unexpected argument '%s'\n", argv[1]);
        return 1;
    }
    if (t->json) {
        fprintf(stderr, "tempusctl: metrics has no JSON form\n");
        return 1;
    }
    if (tctl_fetch(t, "status", &rep))
        return 1;
    ctl_buf_init(&out, TCTL_MAX_OUTPUT);
    metrics_render(rep.recs, rep.n, &out);
    tctl_reply_free(&rep);
    return tctl_emit(&out, stdout);
}

/* The state an --orphan, --local or --holdover option sets; NULL for
 * another option. */
static enum ctl_render_status *tctl_check_level(struct ctl_render_check *c, const char *opt)
{
    if (strcmp(opt, "--orphan") == 0)
        return &c->on_orphan;
    if (strcmp(opt, "--local") == 0)
        return &c->on_local;
    return strcmp(opt, "--holdover") == 0 ? &c->on_holdover : NULL;
}

/* check's options; -1 on a bad one (message printed). */
static int tctl_check_args(int argc, char **argv, struct ctl_render_check *c)
{
    for (int i = 1; i < argc; i += 2) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        long v = 0;
        char *end = NULL;
        double d = val ? strtod(val, &end) : NAN;
        int is_num = val && end != val && !*end && isfinite(d) && d >= 0;

        if (strcmp(opt, "--warn-offset") == 0 && is_num) {
            c->warn_offset = d;
        } else if (strcmp(opt, "--crit-offset") == 0 && is_num) {
            c->crit_offset = d;
        } else if (strcmp(opt, "--min-sources") == 0 && val &&
                   tctl_parse_int(val, 0, 1000, &v) == 0) {
            c->min_sources = (int)v;
        } else if (strcmp(opt, "--max-stratum") == 0 && val &&
                   tctl_parse_int(val, 1, 16, &v) == 0) {
            c->max_stratum = (int)v;
        } else if (!(tctl_check_level(c, opt) && val &&
                     ctl_render_check_level(val, tctl_check_level(c, opt)) == 0)) {
            printf("TEMPUS UNKNOWN: check: bad option '%s%s%s'\n", opt, val ? " " : "",
                   val ? val : "");
            return -1;
        }
    }
    return 0;
}

/* Monitoring plugins read stdout and the exit status, so everything,
 * failures included, is one line there and 0-3. */
static int tctl_cmd_check(struct tctl *t, int argc, char **argv)
{
    struct ctl_render_check c;
    struct tctl_reply rep;
    struct ctl_buf out;

    ctl_render_check_defaults(&c);
    if (t->json) {
        printf("TEMPUS UNKNOWN: check has no JSON form\n");
        return CTL_RENDER_UNKNOWN;
    }
    if (tctl_check_args(argc, argv, &c) < 0)
        return CTL_RENDER_UNKNOWN;
    if (tctl_query(t, "status", &rep) < 0) {
        printf("TEMPUS UNKNOWN: %s\n", t->err);
        tctl_reply_free(&rep);
        return CTL_RENDER_UNKNOWN;
    }
    if (rep.type == CTL_REPLY_ERROR) {
        printf("TEMPUS UNKNOWN: %s\n", tctl_reply_message(&rep));
        tctl_reply_free(&rep);
        return CTL_RENDER_UNKNOWN;
    }
    ctl_buf_init(&out, TCTL_MAX_OUTPUT);
    enum ctl_render_status st = ctl_render_check_eval(rep.recs, rep.n, &c, &out);
    tctl_reply_free(&rep);
    return tctl_emit(&out, stdout) ? CTL_RENDER_UNKNOWN : (int)st;
}

/* waitsync's options: --timeout S (0: wait for ever), --max-offset S
 * (0: any), --interval S between tries. 0, or -1 with a message. */
static int tctl_waitsync_args(int argc, char **argv, double v[3])
{
    static const char *const names[] = {"--timeout", "--max-offset", "--interval"};

    for (int i = 1; i < argc; i += 2) {
        int k = 0;
        while (k < 3 && strcmp(argv[i], names[k]) != 0)
            k++;
        char *end = NULL;
        double d = i + 1 < argc ? strtod(argv[i + 1], &end) : NAN;
        if (k == 3 || !end || end == argv[i + 1] || *end || !isfinite(d) || d < 0 ||
            (k == 2 && d < 0.01)) {
            fprintf(stderr, "tempusctl: waitsync: bad option '%s%s%s'\n", argv[i],
                    i + 1 < argc ? " " : "", i + 1 < argc ? argv[i + 1] : "");
            return -1;
        }
        v[k] = d;
    }
    return 0;
}

/* Ask until the daemon is synchronised (chronyc waitsync): 0 once it is,
 * 1 when the timeout passes first. A daemon that does not answer yet (still
 * starting) is asked again, like one that is not synchronised. */
static int tctl_cmd_waitsync(struct tctl *t, int argc, char **argv)
{
    double v[3] = {0, 0, 1}; /* timeout, max offset, interval */
    struct ctl_buf line;
    int64_t start = tctl_now_ms();

    if (tctl_waitsync_args(argc, argv, v) < 0)
        return 1;
    ctl_buf_init(&line, TCTL_MAX_OUTPUT);
    for (;;) {
        struct tctl_reply rep;
        int done = 0;
        line.len = 0;
        if (tctl_query(t, "tracking", &rep) < 0)
            ctl_buf_printf(&line, "%s\n", t->err);
        else if (rep.type == CTL_REPLY_ERROR)
            ctl_buf_printf(&line, "%s\n", tctl_reply_message(&rep));
        else
            done = ctl_render_waitsync(rep.recs, rep.n, v[1], &line);
        tctl_reply_free(&rep);
        double waited = (double)(tctl_now_ms() - start) / 1000.0;
        if (done || (v[0] > 0 && waited >= v[0])) {
            if (!done)
                printf("not synchronised after %.0f s: ", waited);
            return tctl_emit(&line, stdout) || !done;
        }
        double nap = v[0] > 0 && v[0] - waited < v[2] ? v[0] - waited : v[2];
        poll(NULL, 0, (int)(nap * 1000) + 1);
    }
}

/* lint's arguments: --ignore CODE (repeatable, known codes only: drop[i]
 * set for the i-th code), at most one FILE. 0, or -1 with a message. */
static int tctl_lint_args(struct tctl *t, int argc, char **argv, const char **file,
                          unsigned char *drop, size_t ndrop)
{
    for (int i = 1; i < argc; i++) {
        size_t k = 0;
        if (strcmp(argv[i], "--json") == 0) {
            t->json = 1;
        } else if (strcmp(argv[i], "--ignore") == 0 && i + 1 < argc) {
            while (k < ndrop && lint_code_at(k) && strcmp(lint_code_at(k), argv[i + 1]) != 0)
                k++;
            if (k == ndrop || !lint_code_at(k)) {
                fprintf(stderr, "tempusctl: lint: no finding is called '%s'\n", argv[i + 1]);
                return -1;
            }
            drop[k] = 1;
            i++;
        } else if (!*file && argv[i][0] != '-') {
            *file = argv[i];
        } else {
            fprintf(stderr, "tempusctl: lint: unexpected argument '%s'\n", argv[i]);
            return -1;
        }
    }
    return 0;
}

/* The findings about path into r (initialised); -1 if it does not parse
 * (the parser's file:line errors printed). */
static int tctl_lint_file(struct tctl *t, const char *path, struct lint_report *r)
{
    struct conf *conf = conf_load(path, t->json ? stderr : stdout);

    if (!conf)
        return -1;
    lint_report_init(r, path);
    lint_conf(conf, r);
    /* Only a table that is loaded can drift; without nft, the permission
     * to list or a table at all there is no finding. */
    size_t missing, unexpected;
    if (firewall_live_compare(conf, path, &missing, &unexpected) == 1)
        lint_firewall_drift(r, missing, unexpected);
    conf_free(conf);
    return 0;
}

/* The live findings of the daemon at t->socket into r (initialised); -1
 * (printed) if it cannot be asked. */
static int tctl_lint_live(struct tctl *t, struct lint_report *r)
{
    struct tctl_reply rep;

    if (tctl_fetch(t, "status", &rep))
        return -1;
    lint_report_init(r, t->socket);
    lint_live(rep.recs, rep.n, r);
    tctl_reply_free(&rep);
    return 0;
}

/* Drop the ignored findings, print the rest; the worst finding's status,
 * or 3 if the output cannot be written. Frees the reports. */
static int tctl_lint_print(struct tctl *t, struct lint_report *reps, size_t n,
                           const unsigned char *drop, size_t ndrop)
{
    struct ctl_buf out;
    int rc = 0;

    ctl_buf_init(&out, TCTL_MAX_OUTPUT);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < ndrop; k++)
            if (drop[k])
                lint_drop(&reps[i], lint_code_at(k));
        int s = lint_exit_status(&reps[i]);
        rc = s > rc ? s : rc;
        if (!t->json)
            lint_format(&reps[i], &out);
    }
    if (t->json)
        lint_format_json(reps, n, &out);
    for (size_t i = 0; i < n; i++)
        lint_report_free(&reps[i]);
    return tctl_emit(&out, stdout) ? 3 : rc;
}

/* Audit FILE, or without one the running daemon (and the -f config).
 * Exit status: 0 clean or info only, 1 warnings, 2 errors, 3 no verdict
 * (the file does not parse, the daemon cannot be asked, bad arguments). */
static int tctl_cmd_lint(struct tctl *t, int argc, char **argv)
{
    unsigned char drop[64] = {0};
    const char *file = NULL;
    struct lint_report reps[2];
    size_t n = 0;

    if (tctl_lint_args(t, argc, argv, &file, drop, sizeof(drop)) < 0)
        return 3;
    /* the key file parser warns about what the findings say anyway */
    log_set(LOG_TO_STDERR, LOG_LVL_ERR);
    if ((file || t->config) && tctl_lint_file(t, file ? file : t->config, &reps[n++]) < 0)
        return 3;
    if (!file && tctl_lint_live(t, &reps[n++]) < 0) {
        if (n > 1)
            lint_report_free(&reps[0]);
        return 3;
    }
    return tctl_lint_print(t, reps, n, drop, sizeof(drop));
}

static int tctl_cmd_audit(struct tctl *t, int argc, char **argv)
{
    return audit_command(argc, argv, t->json);
}

static int tctl_cmd_firewall(struct tctl *t, int argc, char **argv)
{
    return firewall_live_command(argc, argv, t->config, t->json);
}

static const struct tctl_command {
    const char *name;
    int (*fn)(struct tctl *t, int argc, char **argv);
} tctl_commands[] = {
    {"audit", tctl_cmd_audit},
    {"authdata", tctl_cmd_authdata},
    {"check", tctl_cmd_check},
    {"clients", tctl_cmd_clients},
    {"firewall", tctl_cmd_firewall},
    {"lint", tctl_cmd_lint},
    {"metrics", tctl_cmd_metrics},
    {"reload", tctl_cmd_reload},
    {"serverstats", tctl_cmd_serverstats},
    {"sources", tctl_cmd_sources},
    {"sourcestats", tctl_cmd_sourcestats},
    {"tracking", tctl_cmd_tracking},
    {"waitsync", tctl_cmd_waitsync},
};

/* The socket named in a configuration file, or the default. */
static char *tctl_socket_from_conf(const char *path)
{
    struct conf *conf = conf_load(path, stderr);
    if (!conf)
        return NULL;
    char *s = mem_strdup(conf->controlsocket ? conf->controlsocket : CTL_DEFAULT_SOCKET);
    conf_free(conf);
    return s;
}

/* A failure before any query: check reports it the monitoring way; check
 * and lint keep 1 and 2 for what they found. */
static int tctl_fail(const char *cmd, const char *msg, const char *arg)
{
    if (strcmp(cmd, "check") == 0) {
        printf("TEMPUS UNKNOWN: %s%s\n", msg, arg);
        return CTL_RENDER_UNKNOWN;
    }
    fprintf(stderr, "tempusctl: %s%s\n", msg, arg);
    return strcmp(cmd, "lint") == 0 ? 3 : 1;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct tctl t = {.socket = NULL};
    const char *config = NULL;
    char *owned = NULL;
    int c;

    log_init("tempusctl", LOG_TO_STDERR, LOG_LVL_WARN);
    while ((c = getopt_long(argc, argv, "+s:f:jhV", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            t.socket = optarg;
            break;
        case 'f':
            config = optarg;
            break;
        case 'j':
            t.json = 1;
            break;
        case 'h':
            tctl_usage(stdout);
            return 0;
        case 'V':
            printf("tempusctl " TEMPUS_VERSION "\n");
            return 0;
        default:
            tctl_usage(stderr);
            return 1;
        }
    }
    const struct tctl_command *cmd = NULL;
    for (size_t i = 0; optind < argc && i < sizeof(tctl_commands) / sizeof(tctl_commands[0]); i++)
        if (strcmp(argv[optind], tctl_commands[i].name) == 0)
            cmd = &tctl_commands[i];
    if (!cmd) {
        if (optind >= argc)
            fprintf(stderr, "tempusctl: no command given\n");
        else
            fprintf(stderr, "tempusctl: unknown command '%s'\n", argv[optind]);
        tctl_usage(stderr);
        return 1;
    }
    if (t.socket && config)
        return tctl_fail(cmd->name, "-s and -f exclude each other", "");
    if (config && !(t.socket = owned = tctl_socket_from_conf(config)))
        return tctl_fail(cmd->name, "cannot use the configuration ", config);
    if (!t.socket)
        t.socket = CTL_DEFAULT_SOCKET;
    t.config = config;
    int rc = cmd->fn(&t, argc - optind, argv + optind);
    free(owned);
    return rc;
}
