/* SPDX-License-Identifier: ISC */
#include "firewall_live.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "ctl_proto.h"
#include "ctl_render.h"
#include "firewall.h"
#include "firewall_json.h"
#include "version.h"

#define FWL_OUTPUT_MAX ((size_t)4 << 20)
#define FWL_TIMEOUT_MS 20000

/* An nft run: what it printed and how it ended. */
struct fwl_run {
    struct ctl_buf out, err;
    int status; /* exit status; 126 could not unshare, 127 could not exec */
};

/* The child side: optionally a network namespace of its own, pipes as
 * stdin/stdout/stderr, nft on the PATH or in the sbin directories. */
static void fwl_child(char *const argv[], int newnet, int in, int out, int err)
{
    char path[4096];
    const char *old = getenv("PATH");

    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(126);
    if (newnet && unshare(CLONE_NEWNET) < 0) {
        dprintf(2, "cannot make a scratch network namespace: %s\n", strerror(errno));
        _exit(126);
    }
    snprintf(path, sizeof(path), "%s%s/usr/sbin:/sbin", old ? old : "", old ? ":" : "");
    setenv("PATH", path, 1);
    execvp(argv[0], argv);
    dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Feed input, collect stdout and stderr until both close. */
static void fwl_pump(int in, int out, int err, const char *input, struct fwl_run *r, pid_t pid)
{
    size_t sent = 0, len = input ? strlen(input) : 0;
    struct pollfd p[3] = {{.fd = out, .events = POLLIN}, {.fd = err, .events = POLLIN},
                          {.fd = len ? in : -1, .events = POLLOUT}};
    if (!len)
        close(in);
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        char buf[4096];
        int n = poll(p, 3, FWL_TIMEOUT_MS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            kill(pid, SIGKILL);
            ctl_buf_printf(&r->err, "nft did not finish within %d s\n", FWL_TIMEOUT_MS / 1000);
            break;
        }
        if (p[2].fd >= 0 && p[2].revents) {
            ssize_t w = write(in, input + sent, len - sent);
            sent += w > 0 ? (size_t)w : 0;
            if (w < 0 || sent == len) {
                close(in);
                p[2].fd = -1;
            }
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !p[i].revents)
                continue;
            ssize_t got = read(p[i].fd, buf, sizeof(buf));
            if (got > 0)
                ctl_buf_append(i ? &r->err : &r->out, buf, (size_t)got);
            else if (got == 0 || errno != EINTR) {
                close(p[i].fd);
                p[i].fd = -1;
            }
        }
    }
    for (int i = 0; i < 3; i++)
        if (p[i].fd >= 0)
            close(p[i].fd);
}

/* Run argv with input on its stdin; 0 with r filled (free both buffers),
 * or -1 when no process could be started (r->err says why). */
static int fwl_exec(char *const argv[], int newnet, const char *input, struct fwl_run *r)
{
    int in[2], out[2], err[2];

    ctl_buf_init(&r->out, FWL_OUTPUT_MAX);
    ctl_buf_init(&r->err, (size_t)64 * 1024);
    r->status = -1;
    if (pipe2(in, O_CLOEXEC) < 0)
        goto fail;
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
        close(in[0]);
        close(in[1]);
        goto fail;
    }
    signal(SIGPIPE, SIG_IGN);
    pid_t pid = fork();
    if (pid == 0)
        fwl_child(argv, newnet, in[0], out[1], err[1]);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (pid < 0) {
        close(in[1]);
        close(out[0]);
        close(err[0]);
        goto fail;
    }
    fwl_pump(in[1], out[0], err[0], input, r, pid);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    ctl_buf_append(&r->out, "", 1);
    ctl_buf_append(&r->err, "", 1);
    return 0;
fail:
    ctl_buf_printf(&r->err, "cannot start nft: %s", strerror(errno));
    ctl_buf_append(&r->err, "", 1);
    return -1;
}

static void fwl_run_free(struct fwl_run *r)
{
    ctl_buf_free(&r->out);
    ctl_buf_free(&r->err);
}

/* The first line of an nft error message, for a one-line verdict. */
static const char *fwl_first_line(struct fwl_run *r)
{
    char *nl = r->err.data ? strchr(r->err.data, '\n') : NULL;
    if (nl)
        *nl = '\0';
    return r->err.data && *r->err.data ? r->err.data : "no message";
}

/* The verdict, human or JSON; returns status. */
static int fwl_verdict(int json, enum ctl_render_status status, const char *file, const char *msg,
                       const struct ctl_buf *diff)
{
    static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

    if (!json) {
        printf("TEMPUS %s: firewall: %s\n%s", names[status], msg, diff ? diff->data : "");
        return (int)status;
    }
    struct ctl_buf out;
    ctl_buf_init(&out, FWL_OUTPUT_MAX);
    ctl_buf_printf(&out, "{\"status\":\"%s\",\"file\":", names[status]);
    ctl_render_json_string(&out, file);
    ctl_buf_printf(&out, ",\"message\":");
    ctl_render_json_string(&out, msg);
    ctl_buf_printf(&out, ",\"differences\":[");
    for (const char *p = diff ? diff->data : ""; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *line = strndup(p, n);
        ctl_buf_printf(&out, "%s", p == diff->data ? "" : ",");
        ctl_render_json_string(&out, line ? line : "");
        free(line);
        p += n + (nl != NULL);
    }
    ctl_buf_printf(&out, "]}\n");
    int rc = fwrite(out.data, 1, out.len, stdout) == out.len ? (int)status : CTL_RENDER_UNKNOWN;
    ctl_buf_free(&out);
    return rc;
}

/* List table inet tempus as JSON, in this namespace or (with ruleset) in a
 * scratch one after loading ruleset. 0 with *l filled, 1 the table is not
 * loaded, -1 error (msg says why). */
static int fwl_list(const char *ruleset, struct fwjson_list *l, char *msg, size_t msgsize)
{
    static char *const live[] = {"nft", "-j", "list", "table", "inet", FIREWALL_TABLE, NULL};
    static char *const scratch[] = {
        "sh", "-c", "nft -f /dev/stdin && exec nft -j list table inet " FIREWALL_TABLE, NULL};
    struct fwl_run r;
    int rc = -1;

    if (fwl_exec(ruleset ? scratch : live, ruleset != NULL, ruleset, &r) < 0) {
        snprintf(msg, msgsize, "%s", fwl_first_line(&r));
    } else if (r.status != 0 && !ruleset && strstr(r.err.data, "No such file or directory")) {
        rc = 1;
    } else if (r.status != 0) {
        snprintf(msg, msgsize, "%s: nft exit %d: %s", ruleset ? "expected ruleset" : "live table",
                 r.status, fwl_first_line(&r));
    } else if (r.out.overflow || fwjson_parse(r.out.data, r.out.len - 1, l) < 0) {
        snprintf(msg, msgsize, "%s: nft printed no listing this can read",
                 ruleset ? "expected ruleset" : "live table");
    } else {
        rc = 0;
    }
    fwl_run_free(&r);
    return rc;
}

/* --check: the live table against the one the config implies. */
static int fwl_check(const char *file, const char *ruleset, int json)
{
    struct fwjson_list want, got;
    char msg[1024];
    struct ctl_buf diff;
    size_t miss = 0, extra = 0;

    if (fwl_list(ruleset, &want, msg, sizeof(msg)) != 0)
        return fwl_verdict(json, CTL_RENDER_UNKNOWN, file, msg, NULL);
    int rc = fwl_list(NULL, &got, msg, sizeof(msg));
    if (rc != 0) {
        fwjson_free(&want);
        if (rc < 0)
            return fwl_verdict(json, CTL_RENDER_UNKNOWN, file, msg, NULL);
        snprintf(msg, sizeof(msg), "table inet %s is not loaded (load: tempusctl firewall %s > F; nft -f F)",
                 FIREWALL_TABLE, file);
        return fwl_verdict(json, CTL_RENDER_CRITICAL, file, msg, NULL);
    }
    ctl_buf_init(&diff, FWL_OUTPUT_MAX);
    size_t n = fwjson_diff(&want, &got, &diff, &miss, &extra);
    ctl_buf_append(&diff, "", 1);
    if (n == 0)
        snprintf(msg, sizeof(msg), "table inet %s matches %s (%zu objects)", FIREWALL_TABLE, file,
                 want.n);
    else
        snprintf(msg, sizeof(msg), "table inet %s differs from %s: %zu missing, %zu unexpected",
                 FIREWALL_TABLE, file, miss, extra);
    rc = fwl_verdict(json, n ? CTL_RENDER_CRITICAL : CTL_RENDER_OK, file, msg, &diff);
    ctl_buf_free(&diff);
    fwjson_free(&want);
    fwjson_free(&got);
    return rc;
}

int firewall_live_compare(const struct conf *conf, const char *file, size_t *missing,
                          size_t *unexpected)
{
    struct fwjson_list want, got;
    struct ctl_buf rules, diff;
    char msg[256];
    int rc;

    *missing = *unexpected = 0;
    rc = fwl_list(NULL, &got, msg, sizeof(msg));
    if (rc != 0)
        return rc > 0 ? 2 : -1;
    ctl_buf_init(&rules, FWL_OUTPUT_MAX);
    firewall_render(conf, file, &rules);
    ctl_buf_append(&rules, "", 1);
    rc = rules.overflow ? -1 : fwl_list(rules.data, &want, msg, sizeof(msg));
    ctl_buf_free(&rules);
    if (rc != 0) {
        fwjson_free(&got);
        return -1;
    }
    ctl_buf_init(&diff, FWL_OUTPUT_MAX);
    rc = fwjson_diff(&want, &got, &diff, missing, unexpected) ? 1 : 0;
    ctl_buf_free(&diff);
    fwjson_free(&want);
    fwjson_free(&got);
    return rc;
}

int firewall_live_command(int argc, char **argv, const char *config, int json)
{
    const char *file = NULL;
    int check = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0) {
            check = 1;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (!file && argv[i][0] != '-') {
            file = argv[i];
        } else {
            fprintf(stderr, "tempusctl: firewall: unexpected argument '%s'\n", argv[i]);
            return check ? CTL_RENDER_UNKNOWN : 1;
        }
    }
    if (json && !check) {
        fprintf(stderr, "tempusctl: firewall: the ruleset has no JSON form (--check has)\n");
        return 1;
    }
    file = file ? file : config ? config : TEMPUS_DEFAULT_CONF;
    struct conf *conf = conf_load(file, stderr);
    if (!conf)
        return check ? fwl_verdict(json, CTL_RENDER_UNKNOWN, file, "the config does not parse", NULL)
                     : 1;
    struct ctl_buf out;
    ctl_buf_init(&out, FWL_OUTPUT_MAX);
    firewall_render(conf, file, &out);
    conf_free(conf);
    ctl_buf_append(&out, "", 1);
    int rc = 0;
    if (out.overflow) {
        fprintf(stderr, "tempusctl: firewall: ruleset too large\n");
        rc = check ? CTL_RENDER_UNKNOWN : 1;
    } else if (check) {
        rc = fwl_check(file, out.data, json);
    } else if (fputs(out.data, stdout) < 0 || fflush(stdout) != 0) {
        fprintf(stderr, "tempusctl: firewall: write error: %s\n", strerror(errno));
        rc = 1;
    }
    ctl_buf_free(&out);
    return rc;
}
