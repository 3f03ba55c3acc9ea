/* SPDX-License-Identifier: ISC */
/* Unit tests for sandbox.c. Each filter is loaded in a forked child (it
 * cannot be undone); the parent asserts how the child ended: SIGSYS for a
 * call off the list, exit 0 after a round of calls tempusd makes while it
 * runs, through the modules that make them where they can run alone
 * (netio.c, driftfile.c) and getaddrinfo in a thread as resolve.c runs it.
 * Children leave with _exit, so that no exit handler makes calls of its
 * own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "addr.h"
#include "conf.h"
#include "ctl_proto.h"
#include "driftfile.h"
#include "keys.h"
#include "mem.h"
#include "netio.h"
#include "ratelimit.h"
#include "report.h"
#include "sandbox.h"

/* A sanitizer's runtime makes calls of its own (gettid, sigaltstack at
 * _exit) that tempusd does not, so in SAN=1 builds a confined child can
 * only be shown to die: the tests that it survives need the plain build
 * (make unit), which CI runs as well. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static void skip_if_sanitized(void)
{
    if (SANITIZED) {
        fprintf(stderr, "sanitizer build: a confined child cannot survive its runtime; "
                        "the plain build checks this\n");
        skip();
    }
}

/* Fork; the child installs the filter with flags, runs fn and leaves with
 * fn's result. Returns the child's wait status. */
static int run_confined(unsigned flags, int (*fn)(void))
{
    int status;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        if (sandbox_install(flags) <= 0)
            _exit(100);
        _exit(fn());
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void assert_killed_by_sigsys(int status)
{
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
        fail_msg("child was not killed by SIGSYS: %s %d", WIFEXITED(status) ? "exit" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static void assert_exit_ok(int status)
{
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("child: %s %d (exit code = number of the failed step)",
                 WIFEXITED(status) ? "exit" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static int call_ptrace(void)
{
    syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL);
    return 0; /* reached only if the call was allowed */
}

static int call_execve(void)
{
    char *argv[] = {"true", NULL};
    execve("/bin/true", argv, NULL);
    return 0;
}

/* socket() is on the list for some families only. */
static int call_packet_socket(void)
{
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd >= 0)
        close(fd);
    return 0;
}

/* A read-only clock_adjtime: off the list unless the clock is adjusted. */
static int call_adjtime_read(void)
{
    struct timex tx = {.modes = 0};
    return clock_adjtime(CLOCK_REALTIME, &tx) < 0 ? 1 : 0;
}

/* fork() is clone() without CLONE_THREAD: threads only. */
static int call_fork(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    return 0;
}

static void *thread_ptrace(void *arg)
{
    (void)arg;
    call_ptrace();
    return NULL;
}

/* A forbidden call in a thread kills the whole process, not the thread. */
static int call_in_thread(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, thread_ptrace, NULL) != 0)
        return 1;
    pthread_join(t, NULL);
    return 0;
}

static void test_ptrace_kills(void **state)
{
    (void)state;
    assert_killed_by_sigsys(run_confined(0, call_ptrace));
}

static void test_execve_kills(void **state)
{
    (void)state;
    assert_killed_by_sigsys(run_confined(0, call_execve));
}

static void test_packet_socket_kills(void **state)
{
    (void)state;
    assert_killed_by_sigsys(run_confined(0, call_packet_socket));
}

static void test_fork_kills(void **state)
{
    (void)state;
    assert_killed_by_sigsys(run_confined(0, call_fork));
}

static void test_thread_kills_process(void **state)
{
    (void)state;
    assert_killed_by_sigsys(run_confined(0, call_in_thread));
}

static void test_clock_adjtime_only_for_system_clock(void **state)
{
    (void)state;
    assert_killed_by_sigsys(run_confined(0, call_adjtime_read));
    skip_if_sanitized();
    assert_exit_ok(run_confined(SANDBOX_CLOCK_ADJUST, call_adjtime_read));
}

/* The test mode: the forbidden call fails with ENOSYS instead of killing,
 * is recorded by number and named on stderr (the child's stderr is a pipe
 * the parent reads). */
static int call_trapped(void)
{
    int nrs[4];
    long rc = syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL);
    if (rc != -1 || errno != ENOSYS)
        return 1;
    syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL); /* a repeat is not listed again */
    if (sandbox_trapped(nrs, 4) != 1 || nrs[0] != SYS_ptrace)
        return 2;
    return 0;
}

static void test_trap_mode_names_the_call(void **state)
{
    int fds[2], status;
    char buf[512] = "", want[64];
    (void)state;
    skip_if_sanitized();
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (dup2(fds[1], STDERR_FILENO) < 0 || sandbox_install(SANDBOX_TRAP) <= 0)
            _exit(100);
        _exit(call_trapped());
    }
    close(fds[1]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    buf[n > 0 ? n : 0] = '\0';
    assert_exit_ok(status);
    snprintf(want, sizeof(want), "system call ptrace (%d) is not allowed", SYS_ptrace);
    if (!strstr(buf, want))
        fail_msg("stderr of the trapped child: '%s', wanted '%s'", buf, want);
    assert_null(strstr(strstr(buf, want) + 1, want));
}

/* Work the daemon does after the filter is on, at sizes past glibc's
 * thresholds: a `clients` reply over thousands of clients (a sort of far
 * more than 1 KiB: glibc's qsort would ask sysinfo), a key file of
 * hundreds of keys (sorted when loaded on reload), a config list grown
 * past 128 KiB (realloc of an mmapped block: mremap), a reply buffer of
 * 1 MiB. Each step that fails returns its number. */
static char big_keyfile[64];

static int big_workload(void)
{
    struct ratelimit_params rp = {.enabled = 1, .interval = 3, .burst = 8,
                                  .memory_limit = 1 << 20};
    struct ratelimit *rl = ratelimit_create(&rp, 42);
    struct ctl_buf b;
    struct keys *ks;

    for (unsigned i = 0; i < 5000; i++) {
        struct netaddr a = {.family = AF_INET, .bytes = {10, (uint8_t)(i >> 16),
                                                         (uint8_t)(i >> 8), (uint8_t)i}};
        for (unsigned k = 0; k <= i % 3; k++)
            ratelimit_charge(rl, &a, (int64_t)i * 1000);
    }
    if (ratelimit_count(rl) < 1000)
        return 1;
    ctl_buf_init(&b, CTL_MAX_REPLY);
    report_clients(&b, rl, 1000000000, 100000);
    if (b.len < 100000 || !strstr(b.data, "requests"))
        return 2;
    ctl_buf_free(&b);
    ratelimit_destroy(rl);
    if (keys_load(big_keyfile, stderr, &ks) < 0 || keys_count(ks) != 600)
        return 3;
    keys_destroy(ks);
    char (*list)[64] = NULL;
    for (size_t i = 0; i < 8000; i++) {
        list = mem_append(list, i, sizeof(*list));
        memset(list[i], (int)(i & 0x7f), sizeof(*list));
    }
    if (list[7999][0] != (char)(7999 & 0x7f))
        return 4;
    free(list);
    return 0;
}

static void test_big_workloads_survive(void **state)
{
    (void)state;
    skip_if_sanitized();
    snprintf(big_keyfile, sizeof(big_keyfile), "/tmp/tempus-sandbox-keys-XXXXXX");
    int fd = mkstemp(big_keyfile);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    /* Written in descending order, so the sort has work to do. */
    for (unsigned id = 600; id >= 1; id--)
        fprintf(f, "%u AES128 HEX:%08x%08x%08x%08x\n", id, id, id, id, id);
    fclose(f);
    int status = run_confined(0, big_workload);
    unlink(big_keyfile);
    assert_exit_ok(status);
}

/* Whether this kernel stamps datagrams on loopback, as learnt by the
 * parent without a filter: a confined child must do as well, and where the
 * kernel gives no stamps (netio then reads the clock after recvmsg) the
 * round trip is checked without them. */
static int kernel_stamps = 1;
/* Likewise whether it has recvmmsg and sendmmsg (the listener falls back
 * to recvmsg/sendmsg where it has not). */
static int kernel_mmsg = 1;

static int udp_fail(int code, const char *what)
{
    fprintf(stderr, "udp round trip: %s: %s\n", what, strerror(errno));
    return code;
}

/* A UDP exchange on loopback through netio.c, as the server does it.
 * Returns 0, or the step that failed (20-26), saying why on stderr. */
static int udp_round_trip(void)
{
    struct netaddr lo;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    uint8_t out[48] = {0x23}, in[64];
    struct netio_msg m = {.buf = in, .cap = sizeof(in)};
    uint16_t port = 0;

    if (addr_parse("127.0.0.1", &lo) < 0)
        return udp_fail(20, "addr_parse");
    int fd = netio_open_udp(AF_INET, &lo, 0, NULL);
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
        addr_from_sockaddr((struct sockaddr *)&ss, &m.peer, &port) < 0)
        return udp_fail(21, "open and bind 127.0.0.1");
    m.peer_port = port;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (netio_send(fd, &m, out, sizeof(out)) < 0)
        return udp_fail(22, "send to itself");
    if (poll(&p, 1, 2000) != 1)
        return udp_fail(23, "nothing came back in 2 s");
    if (netio_recv(fd, &m) != 1 || m.len != sizeof(out))
        return udp_fail(24, "receive");
    if (kernel_stamps && !m.have_ts)
        return udp_fail(25, "no kernel receive stamp");
    kernel_stamps = m.have_ts;
    /* the server's batches: recvmmsg and sendmmsg */
    struct netio_out o = {&m, out, sizeof(out)};
    if (kernel_mmsg && netio_send_batch(fd, &o, 1) < 0 && errno == ENOSYS) {
        kernel_mmsg = 0;
        return close(fd);
    }
    if (kernel_mmsg && (poll(&p, 1, 2000) != 1 || netio_recv_batch(fd, &m, 1) != 1 ||
                        m.len != sizeof(out)))
        return udp_fail(26, "batched send and receive");
    return close(fd);
}

/* The drift file's write (temporary file, fsync, rename) and read. */
static char drift_dir[64];

static int drift_round_trip(void)
{
    char path[96];
    double ppm = 0.0, skew = 0.0;

    snprintf(path, sizeof(path), "%s/drift", drift_dir);
    if (driftfile_write(path, 12.5, 0.25) < 0 || driftfile_read(path, &ppm, &skew) < 0 ||
        ppm != 12.5 || skew != 0.25)
        return -1;
    return unlink(path);
}

static void *thread_resolve(void *arg)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
    struct addrinfo *res = NULL;
    int *rc = arg;

    *rc = getaddrinfo("localhost", NULL, &hints, &res);
    if (*rc == 0)
        freeaddrinfo(res);
    return NULL;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int signo)
{
    got_signal = signo;
}

static int allowed_calls(void)
{
    struct timespec ts;
    struct sigaction sa = {.sa_handler = on_signal};
    pthread_t t;
    int rc = -1;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        return 1;
    int udp = udp_round_trip();
    if (udp != 0)
        return udp;
    if (drift_round_trip() < 0)
        return 3;
    if (pthread_create(&t, NULL, thread_resolve, &rc) != 0 || pthread_join(t, NULL) != 0)
        return 4;
    if (rc != 0)
        return 5;
    char *volatile big = malloc(1 << 20); /* mmap and munmap */
    if (!big)
        return 6;
    big[0] = 1;
    free(big);
    /* Delivery (rt_sigreturn) is covered by tests/system, which signals
     * the confined daemon from outside. */
    if (sigaction(SIGUSR1, &sa, NULL) < 0)
        return 7;
    return 0;
}

static void test_allowed_calls_survive(void **state)
{
    (void)state;
    skip_if_sanitized();
    kernel_stamps = 0;
    kernel_mmsg = 1;
    int plain = udp_round_trip();
    if (plain != 0)
        fail_msg("without any filter, the loopback round trip fails at step %d: "
                 "this machine cannot run the check",
                 plain);
    if (!kernel_stamps)
        fprintf(stderr, "NOTE: this kernel gives no receive stamps on loopback; "
                        "the confined round trip is checked without them\n");
    if (!kernel_mmsg)
        fprintf(stderr, "NOTE: this kernel has no sendmmsg; the confined round trip is "
                        "checked without batches\n");
    snprintf(drift_dir, sizeof(drift_dir), "/tmp/tempus-sandbox-XXXXXX");
    assert_non_null(mkdtemp(drift_dir));
    int status = run_confined(0, allowed_calls);
    rmdir(drift_dir);
    assert_exit_ok(status);
}

/* A poll stopped by SIGSTOP goes on through restart_syscall after
 * SIGCONT (also after a debugger or the cgroup freezer let go). */
static void test_stop_and_continue_survive(void **state)
{
    int ready[2], status;
    char c;
    (void)state;
    skip_if_sanitized();
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (sandbox_install(0) <= 0)
            _exit(100);
        if (write(ready[1], "r", 1) != 1)
            _exit(101);
        poll(NULL, 0, 500);
        _exit(0);
    }
    assert_int_equal(read(ready[0], &c, 1), 1);
    usleep(100000); /* into the poll */
    assert_int_equal(kill(pid, SIGSTOP), 0);
    usleep(50000);
    assert_int_equal(kill(pid, SIGCONT), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(ready[0]);
    close(ready[1]);
    assert_exit_ok(status);
}

static int seccomp_mode(void)
{
    char line[128];
    int mode = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "Seccomp:", 8) == 0)
            mode = (int)strtol(line + 8, NULL, 10);
    fclose(f);
    return mode;
}

/* sandbox_apply follows the config: mode 2 (filter) by default, 0 when off. */
static void test_apply_follows_config(void **state)
{
    (void)state;
    skip_if_sanitized();
    for (int on = 0; on <= 1; on++) {
        int status;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            struct conf *c = conf_defaults();
            c->seccomp = on;
            c->clock = CONF_CLOCK_VIRTUAL;
            sandbox_apply(c);
            _exit(seccomp_mode() == (on ? 2 : 0) ? 0 : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_exit_ok(status);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ptrace_kills),
        cmocka_unit_test(test_execve_kills),
        cmocka_unit_test(test_packet_socket_kills),
        cmocka_unit_test(test_fork_kills),
        cmocka_unit_test(test_thread_kills_process),
        cmocka_unit_test(test_clock_adjtime_only_for_system_clock),
        cmocka_unit_test(test_allowed_calls_survive),
        cmocka_unit_test(test_stop_and_continue_survive),
        cmocka_unit_test(test_apply_follows_config),
        cmocka_unit_test(test_trap_mode_names_the_call),
        cmocka_unit_test(test_big_workloads_survive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
