/* SPDX-License-Identifier: ISC */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "sched.h"

struct ctl_conn {
    struct ctl_server *cs;
    int fd; /* -1: free */
    uint64_t deadline;
    uint8_t in[CTL_HEADER_LEN + CTL_MAX_REQUEST];
    size_t in_len;
    struct ctl_buf out; /* header + payload once answered */
    size_t out_off;
    int answered;
};

struct ctl_server {
    int fd;
    char *path;
    ctl_command_fn fn;
    void *arg;
    struct ctl_conn conns[CTL_MAX_CONNECTIONS];
};

static void ctl_close(struct ctl_conn *c)
{
    if (c->fd < 0)
        return;
    sched_cancel_timer(c->deadline);
    sched_remove_fd(c->fd);
    close(c->fd);
    ctl_buf_free(&c->out);
    c->fd = -1;
}

static void ctl_expired(void *arg)
{
    struct ctl_conn *c = arg;
    c->deadline = 0;
    log_debug("control connection timed out");
    ctl_close(c);
}

/* Split the request line in place at spaces. */
static int ctl_split(char *line, char **argv)
{
    int argc = 0;
    char *save = NULL;
    /* strtok_r: the resolver threads share the process (strtok keeps static
     * state). */
    for (char *t = strtok_r(line, " ", &save); t && argc < CTL_MAX_ARGS;
         t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    return argc;
}

static void ctl_answer(struct ctl_conn *c, size_t plen)
{
    char line[CTL_MAX_REQUEST + 1];
    char *argv[CTL_MAX_ARGS];
    struct ctl_buf body;
    int error = 0;

    memcpy(line, c->in + CTL_HEADER_LEN, plen);
    line[plen] = '\0';
    ctl_buf_init(&body, CTL_MAX_REPLY);
    int argc = ctl_split(line, argv);
    if (argc == 0) {
        error = 1;
        ctl_rec_begin(&body, "result");
        ctl_rec_int(&body, "ok", 0);
        ctl_rec_str(&body, "message", "empty request");
        ctl_rec_end(&body);
    } else {
        c->cs->fn(c->cs->arg, argc, argv, &body, &error);
    }
    if (body.overflow) {
        ctl_buf_free(&body);
        ctl_buf_init(&body, CTL_MAX_REPLY);
        ctl_rec_begin(&body, "result");
        ctl_rec_int(&body, "ok", 0);
        ctl_rec_str(&body, "message", "reply too large");
        ctl_rec_end(&body);
        error = 1;
    }
    uint8_t hdr[CTL_HEADER_LEN];
    ctl_header_encode(hdr, error ? CTL_REPLY_ERROR : CTL_REPLY, (uint32_t)body.len);
    ctl_buf_init(&c->out, CTL_HEADER_LEN + CTL_MAX_REPLY);
    ctl_buf_append(&c->out, hdr, sizeof(hdr));
    ctl_buf_append(&c->out, body.data, body.len);
    ctl_buf_free(&body);
    c->answered = 1;
}

/* Returns 0 to keep going, -1 when the connection should close. */
static int ctl_flush(struct ctl_conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            sched_want_write(c->fd, 1);
            return 0;
        }
        if (n <= 0)
            return -1;
        c->out_off += (size_t)n;
    }
    return -1; /* all written: one request per connection */
}

/* Read what has arrived; answer once a whole, valid request is in. */
static int ctl_read(struct ctl_conn *c)
{
    enum ctl_type type;
    uint32_t plen = 0;

    ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n <= 0)
        return -1;
    c->in_len += (size_t)n;
    if (c->in_len < CTL_HEADER_LEN)
        return 0;
    if (ctl_header_decode(c->in, CTL_MAX_REQUEST, &type, &plen) < 0 || type != CTL_REQUEST) {
        log_debug("control: malformed request header");
        return -1;
    }
    if (c->in_len > CTL_HEADER_LEN + plen)
        return -1; /* more than one request: not this protocol */
    if (c->in_len < CTL_HEADER_LEN + plen)
        return 0;
    if (!ctl_request_valid((const char *)c->in + CTL_HEADER_LEN, plen)) {
        log_debug("control: malformed request line");
        return -1;
    }
    ctl_answer(c, plen);
    return ctl_flush(c);
}

static void ctl_conn_event(int fd, void *arg)
{
    struct ctl_conn *c = arg;
    (void)fd;
    if ((c->answered ? ctl_flush(c) : ctl_read(c)) < 0)
        ctl_close(c);
}

static void ctl_accept(int fd, void *arg)
{
    struct ctl_server *cs = arg;
    int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    struct ctl_conn *c = NULL;

    if (cfd < 0)
        return;
    for (int i = 0; i < CTL_MAX_CONNECTIONS && !c; i++)
        if (cs->conns[i].fd < 0)
            c = &cs->conns[i];
    if (!c || sched_add_fd(cfd, ctl_conn_event, c) < 0) {
        log_debug("control: too many connections");
        close(cfd);
        return;
    }
    c->cs = cs;
    c->fd = cfd;
    c->in_len = c->out_off = 0;
    c->answered = 0;
    memset(&c->out, 0, sizeof(c->out));
    c->deadline = sched_add_timer(CTL_DEADLINE, ctl_expired, c);
}

/* Remove a leftover socket from an earlier run, never any other file, and
 * never the socket of a daemon that is still running (it answers). */
static int ctl_unlink_stale(const struct sockaddr_un *sun)
{
    struct stat st;
    if (lstat(sun->sun_path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISSOCK(st.st_mode)) {
        log_warnx("control socket %s: exists and is not a socket", sun->sun_path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0) {
        close(fd);
        log_warnx("control socket %s: another tempusd is running", sun->sun_path);
        return -1;
    }
    if (fd >= 0)
        close(fd);
    return unlink(sun->sun_path);
}

static int ctl_set_group(const char *path, const char *group)
{
    struct group *gr = getgrnam(group);
    if (!gr) {
        log_warnx("control socket: no group '%s'", group);
        return -1;
    }
    if (chown(path, (uid_t)-1, gr->gr_gid) < 0) {
        log_warn("chown %s", path);
        return -1;
    }
    return 0;
}

static int ctl_listen(const char *path, const char *group)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};

    if (strlen(path) >= sizeof(sun.sun_path)) {
        log_warnx("control socket path too long: %s", path);
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if (ctl_unlink_stale(&sun) < 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_warn("control socket");
        return -1;
    }
    /* Created 0600 under the umask, then opened to the group: never a
     * moment when others could connect. */
    mode_t old = umask(0177);
    int r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    if (r < 0 || chmod(path, 0660) < 0 || (group && ctl_set_group(path, group) < 0) ||
        listen(fd, CTL_MAX_CONNECTIONS) < 0) {
        log_warn("control socket %s", path);
        close(fd);
        return -1;
    }
    return fd;
}

struct ctl_server *ctl_create(const char *path, const char *group, ctl_command_fn fn, void *arg)
{
    int fd = ctl_listen(path, group);
    if (fd < 0)
        return NULL;
    struct ctl_server *cs = mem_zalloc(sizeof(*cs));
    cs->fd = fd;
    cs->path = mem_strdup(path);
    cs->fn = fn;
    cs->arg = arg;
    for (int i = 0; i < CTL_MAX_CONNECTIONS; i++)
        cs->conns[i].fd = -1;
    if (sched_add_fd(fd, ctl_accept, cs) < 0) {
        log_warnx("control socket: event loop full");
        ctl_destroy(cs);
        return NULL;
    }
    return cs;
}

void ctl_destroy(struct ctl_server *cs)
{
    if (!cs)
        return;
    for (int i = 0; i < CTL_MAX_CONNECTIONS; i++)
        ctl_close(&cs->conns[i]);
    sched_remove_fd(cs->fd);
    close(cs->fd);
    unlink(cs->path);
    free(cs->path);
    free(cs);
}
