/* SPDX-License-Identifier: ISC */
/* Unit tests for privdrop.c. Each drop runs in a forked child, which checks
 * what the kernel reports (getresuid, /proc/self/status, what a bind to a
 * low port may do) and exits 0 if all is as it should be, or
 * with the number of the first failed check. The drops need root: CI runs
 * as root, and without it these tests fail loudly instead of skipping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "privdrop.h"

#define CAP_BIT_NET_BIND_SERVICE (1ULL << 10)
#define CAP_BIT_SYS_TIME (1ULL << 25)

static void need_root(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "\n*** test_privdrop: dropping privileges needs root; run the unit "
                        "tests as root (CI does). FAILING, not skipping. ***\n\n");
        fail_msg("test_privdrop must run as root");
    }
}

/* One "Name:\tVALUE" field of /proc/self/status as a number (base 16 for
 * the capability sets, 10 otherwise); ~0 if absent. */
static unsigned long long status_field(const char *name, int base)
{
    char line[256];
    unsigned long long v = ~0ULL;
    size_t n = strlen(name);
    FILE *f = fopen("/proc/self/status", "r");

    if (!f)
        return v;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, name, n) == 0 && line[n] == ':')
            v = strtoull(line + n + 1, NULL, base);
    fclose(f);
    return v;
}

/* Bind a UDP socket to a port below 1024 on loopback: 0 if allowed, else
 * errno. Several ports are tried in case one is taken. */
static int bind_low_port(void)
{
    int err = 0;
    for (uint16_t port = 1023; port > 1000; port--) {
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in sin = {.sin_family = AF_INET,
                                  .sin_port = htons(port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int r = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
        err = r < 0 ? errno : 0;
        close(fd);
        if (err != EADDRINUSE)
            return err;
    }
    return err;
}

/* CAP_SYS_TIME is checked through the capability sets only: no test may
 * call clock_adjtime with an adjusting mode on the real clock, even one the
 * kernel would reject. */

struct expect {
    const char *user; /* NULL: stays root */
    unsigned keep;
    unsigned long long caps;
};

/* Runs in the child after the drop: 0, or the number of the failed check. */
static int check_dropped(const struct expect *e)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg, groups[4];
    uid_t uid = 0;
    gid_t gid = 0;

    if (e->user) {
        struct passwd *pw = getpwnam(e->user);
        if (!pw)
            return 2;
        uid = pw->pw_uid;
        gid = pw->pw_gid;
    }
    if (getresuid(&ru, &eu, &su) < 0 || ru != uid || eu != uid || su != uid)
        return 3;
    if (getresgid(&rg, &eg, &sg) < 0 || rg != gid || eg != gid || sg != gid)
        return 4;
    if (e->user && (getgroups(4, groups) != 1 || groups[0] != gid))
        return 5;
    if (status_field("CapEff", 16) != e->caps || status_field("CapPrm", 16) != e->caps)
        return 6;
    if (status_field("CapInh", 16) != 0 || status_field("CapAmb", 16) != 0)
        return 7;
    if (status_field("CapBnd", 16) != e->caps)
        return 8;
    if (status_field("NoNewPrivs", 10) != 1)
        return 9;
    if (bind_low_port() != (e->caps & CAP_BIT_NET_BIND_SERVICE ? 0 : EACCES))
        return 11;
    if (e->user && (setuid(0) == 0 || seteuid(0) == 0))
        return 12;
    return 0;
}

/* Fork, drop as e says, check; returns the child's wait status. */
static int run_drop(const struct expect *e)
{
    int status;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        privdrop_to(e->user, e->keep);
        _exit(check_dropped(e));
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void assert_child_ok(int status)
{
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("child: %s %d (exit code = number of the failed check)",
                 WIFEXITED(status) ? "exit" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static void test_nobody_keeps_sys_time(void **state)
{
    (void)state;
    need_root();
    struct expect e = {"nobody", PRIVDROP_SYS_TIME, CAP_BIT_SYS_TIME};
    assert_child_ok(run_drop(&e));
}

static void test_nobody_keeps_nothing(void **state)
{
    (void)state;
    need_root();
    struct expect e = {"nobody", 0, 0};
    assert_child_ok(run_drop(&e));
}

static void test_nobody_keeps_net_bind(void **state)
{
    (void)state;
    need_root();
    struct expect e = {"nobody", PRIVDROP_NET_BIND, CAP_BIT_NET_BIND_SERVICE};
    assert_child_ok(run_drop(&e));
}

static void test_nobody_keeps_both(void **state)
{
    (void)state;
    need_root();
    struct expect e = {"nobody", PRIVDROP_SYS_TIME | PRIVDROP_NET_BIND,
                       CAP_BIT_SYS_TIME | CAP_BIT_NET_BIND_SERVICE};
    assert_child_ok(run_drop(&e));
}

/* No user: still root, but only with the capabilities asked for. */
static void test_root_without_user(void **state)
{
    (void)state;
    need_root();
    struct expect e = {NULL, 0, 0};
    assert_child_ok(run_drop(&e));
}

/* A user that does not exist is fatal: exit status 1, no drop half-done. */
static void test_unknown_user_is_fatal(void **state)
{
    (void)state;
    struct expect e = {"tempus-no-such-user", 0, 0};
    int status = run_drop(&e);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
}

static void test_root_user_is_fatal(void **state)
{
    (void)state;
    struct expect e = {"root", 0, 0};
    int status = run_drop(&e);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
}

static void test_needs(void **state)
{
    (void)state;
    struct conf *c = conf_defaults();

    c->clock = CONF_CLOCK_SYSTEM;
    c->port = 123;
    assert_int_equal(privdrop_needs(c), PRIVDROP_SYS_TIME | PRIVDROP_NET_BIND);
    c->clock = CONF_CLOCK_VIRTUAL;
    assert_int_equal(privdrop_needs(c), PRIVDROP_NET_BIND);
    c->port = 11123;
    assert_int_equal(privdrop_needs(c), 0);
    c->port = 0;
    assert_int_equal(privdrop_needs(c), 0);
    snprintf(c->metrics_addr, sizeof(c->metrics_addr), "127.0.0.1");
    c->metrics_port = 80;
    assert_int_equal(privdrop_needs(c), PRIVDROP_NET_BIND);
    c->metrics_port = 9123;
    assert_int_equal(privdrop_needs(c), 0);
    conf_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nobody_keeps_sys_time), cmocka_unit_test(test_nobody_keeps_nothing),
        cmocka_unit_test(test_nobody_keeps_net_bind), cmocka_unit_test(test_nobody_keeps_both),
        cmocka_unit_test(test_root_without_user),     cmocka_unit_test(test_unknown_user_is_fatal),
        cmocka_unit_test(test_root_user_is_fatal),    cmocka_unit_test(test_needs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
