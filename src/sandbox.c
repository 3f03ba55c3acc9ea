/* SPDX-License-Identifier: ISC */
#include "sandbox.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/pps.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <ucontext.h>
#include <unistd.h>

#include "log.h"

/* Every call tempusd makes once it runs, found with strace -f through its
 * workloads (serving v4/v6, upstreams by address and by name over DNS on
 * UDP and TCP and /etc/hosts, authenticated polls, every control command,
 * reload good and bad with new sockets, metrics scrapes, SIGHUP, SIGUSR1,
 * SIGSTOP/SIGCONT, sd_notify, syslog, the drift file, SIGTERM) with glibc
 * 2.36 on x86_64, and checked against the code. Each group names its
 * users. A call nobody makes does not belong here; a feature that needs a
 * new one adds it to its group, or the system tests die with SIGSYS (the
 * kernel log names the call: "audit: type=1326 ... syscall=N"). */
static const int sandbox_calls[] = {
    /* Event loop (sched.c): waiting, signal pipe, log lines to stderr.
     * A poll stopped by SIGSTOP, a debugger or the cgroup freezer goes on
     * through restart_syscall when the process continues. clock_gettime
     * is normally answered by the vDSO; the system call is its fallback on
     * clock sources the vDSO cannot read. */
    SCMP_SYS(poll),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(clock_gettime),
    /* Sockets: NTP (netio.c: upstream sockets, new server sockets on
     * reload), control (ctl.c), metrics (http.c), sd_notify, syslog,
     * getaddrinfo (nscd probe, DNS, netlink for address sorting, source
     * address selection), and the NTS-KE client's TCP connection and TLS
     * on its thread (nts_ke_worker.c: socket, connect, poll, getsockopt,
     * read, write; tests/system/330-nts-client-chrony). socket() itself is
     * restricted below. */
    SCMP_SYS(bind),
    SCMP_SYS(listen),
    SCMP_SYS(accept4),
    SCMP_SYS(connect),
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockopt),
    SCMP_SYS(getsockname),
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvfrom),
    SCMP_SYS(sendto),
    /* The server's batches (serverbatch > 1: listener.c through netio.c);
     * sendmmsg is also getaddrinfo's, below. */
    SCMP_SYS(recvmmsg),
    SCMP_SYS(fcntl),
    SCMP_SYS(close),
    /* getaddrinfo in the resolver threads: A and AAAA queries sent
     * together (and the server's reply batches), a DNS answer too long for
     * UDP fetched over TCP, and the host name read to complete the
     * resolv.conf defaults. */
    SCMP_SYS(sendmmsg),
    SCMP_SYS(writev),
    SCMP_SYS(uname),
    /* Resolver threads (resolve.c): pthread_create and a thread's end.
     * clone() is restricted below and clone3 answered with ENOSYS. */
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(futex),
    SCMP_SYS(madvise),
    SCMP_SYS(exit),
    /* Memory: malloc, thread stacks and their guard pages, OpenSSL.
     * realloc of a block past the mmap threshold (128 KiB: a big config
     * list, a long control reply) moves it with mremap. glibc's qsort asks
     * sysconf(_SC_PHYS_PAGES), that is sysinfo, for arrays of 1 KiB or more
     * (getaddrinfo sorts its answers with it); tempus's own big arrays use
     * sort_heap, which asks nothing. */
    SCMP_SYS(brk),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mprotect),
    SCMP_SYS(mremap),
    SCMP_SYS(sysinfo),
    /* Files: reload reads the config and key file (keys.c checks the key
     * file with fstat); NSS and OpenSSL read /etc and their config; the
     * drift file is written to a temporary name, synced and renamed
     * (driftfile.c); at exit the pid file and control socket go. */
    SCMP_SYS(openat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(lseek),
    SCMP_SYS(fsync),
    SCMP_SYS(fchmod),
    SCMP_SYS(rename),
    SCMP_SYS(unlink),
    /* Seeds for a new rate-limit table or upstream (service.c); syslog's
     * LOG_PID. */
    SCMP_SYS(getrandom),
    SCMP_SYS(getpid),
    /* refclock SHM: the segments attached before the drop are read as
     * plain memory (no call); at exit they are detached. */
    SCMP_SYS(shmdt),
    /* Shutdown: handlers reset (sched_fini), the process exits. */
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(exit_group),
};

/* socket(2) for these families only: never a raw or packet socket. */
static const int sandbox_families[] = {AF_UNIX, AF_INET, AF_INET6};

/* A comparison of argument arg (written out: SCMP_A0() and friends leave
 * fields to zero, which -Wmissing-field-initializers rejects). */
static struct scmp_arg_cmp sandbox_cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a,
                                       scmp_datum_t b)
{
    struct scmp_arg_cmp c = {.arg = arg, .op = op, .datum_a = a, .datum_b = b};
    return c;
}

/* Returns 1 if the rule was added, 0 if this architecture has no such
 * call (the list names each architecture's variant: newfstatat on x86_64,
 * fstatat64 on i386). */
static int sandbox_rule(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned n_args,
                        const struct scmp_arg_cmp *args)
{
    int rc = seccomp_rule_add_exact_array(ctx, action, nr, n_args, args);
    if (rc == -EDOM)
        return 0;
    if (rc < 0) {
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        errno = -rc;
        fatal("seccomp: cannot add a rule for %s", name ? name : "a system call");
    }
    return 1;
}

/* The calls allowed only with some arguments; returns how many calls. */
static int sandbox_restricted(scmp_filter_ctx ctx)
{
    for (size_t i = 0; i < sizeof(sandbox_families) / sizeof(sandbox_families[0]); i++) {
        struct scmp_arg_cmp a = sandbox_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)sandbox_families[i], 0);
        sandbox_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &a);
    }
    /* getaddrinfo sorts several answers by the interfaces' addresses,
     * which it reads from a NETLINK_ROUTE socket. */
    struct scmp_arg_cmp nl[2] = {sandbox_cmp(0, SCMP_CMP_EQ, AF_NETLINK, 0),
                                 sandbox_cmp(2, SCMP_CMP_EQ, NETLINK_ROUTE, 0)};
    sandbox_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2, nl);
    /* glibc's DNS client asks how many bytes wait on its socket. */
    struct scmp_arg_cmp io = sandbox_cmp(1, SCMP_CMP_EQ, FIONREAD, 0);
    sandbox_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, &io);
    /* refclock PPS: the newest edge, fetched twice a second without
     * waiting (refclock_pps.c); the capabilities and the mode were set
     * before the drop, so no other PPS ioctl is needed. */
    struct scmp_arg_cmp pps = sandbox_cmp(1, SCMP_CMP_EQ, PPS_FETCH, 0);
    sandbox_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, &pps);
    /* Threads, never a new process: clone() only with CLONE_THREAD. The
     * flags of clone3 sit in memory a filter cannot read, so it fails
     * with ENOSYS and glibc's pthread_create falls back to clone(). */
    struct scmp_arg_cmp th = sandbox_cmp(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
    sandbox_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, &th);
    sandbox_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);
    return 3;
}

/* The test mode's record: names looked up before the filter is on (the
 * handler may not allocate), numbers of the calls trapped. */
#define SANDBOX_NAMES 512
#define SANDBOX_TRAPS 64
static char sandbox_names[SANDBOX_NAMES][32];
static int sandbox_traps[SANDBOX_TRAPS];
static atomic_uint sandbox_ntraps;

static void sandbox_load_names(void)
{
    for (int nr = 0; nr < SANDBOX_NAMES; nr++) {
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        if (name && strlen(name) < sizeof(sandbox_names[nr]))
            memcpy(sandbox_names[nr], name, strlen(name) + 1);
        free(name);
    }
}

/* The trapped call returns ret instead (ABI-specific: the return
 * register in the saved context). Elsewhere the process ends as the real
 * filter would end it. */
static void sandbox_set_return(void *uc, long ret)
{
#if defined(__x86_64__)
    ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RAX] = ret;
#elif defined(__i386__)
    ((ucontext_t *)uc)->uc_mcontext.gregs[REG_EAX] = (int)ret;
#elif defined(__aarch64__)
    ((ucontext_t *)uc)->uc_mcontext.regs[0] = (unsigned long long)ret;
#else
    (void)uc;
    (void)ret;
    _exit(128 + SIGSYS);
#endif
}

/* "seccomp trap: system call NAME (NR) is not allowed" with write(2)
 * alone: this runs in a signal handler. */
static void sandbox_say(int nr)
{
    char buf[128], num[16];
    size_t len = 0, k = 0;
    const char *name = nr >= 0 && nr < SANDBOX_NAMES && sandbox_names[nr][0]
                           ? sandbox_names[nr] : "?";
    unsigned v = nr < 0 ? 0u : (unsigned)nr;
    const char *parts[] = {"tempusd: seccomp trap: system call ", name, " (", NULL,
                           ") is not allowed; it failed with ENOSYS\n"};

    do
        num[sizeof(num) - 1 - k++] = (char)('0' + v % 10);
    while ((v /= 10) && k < sizeof(num) - 1);
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        const char *p = parts[i] ? parts[i] : num + sizeof(num) - k;
        size_t n = parts[i] ? strlen(p) : k;
        if (len + n > sizeof(buf))
            break;
        memcpy(buf + len, p, n);
        len += n;
    }
    ssize_t rc = write(STDERR_FILENO, buf, len);
    (void)rc;
}

static void sandbox_on_sigsys(int sig, siginfo_t *si, void *uc)
{
    int saved = errno, nr = si->si_syscall, seen = 0;
    unsigned n = atomic_load(&sandbox_ntraps);

    (void)sig;
    for (unsigned i = 0; i < n && i < SANDBOX_TRAPS; i++)
        seen |= sandbox_traps[i] == nr;
    if (!seen) {
        unsigned slot = atomic_fetch_add(&sandbox_ntraps, 1);
        if (slot < SANDBOX_TRAPS)
            sandbox_traps[slot] = nr;
        sandbox_say(nr);
    }
    sandbox_set_return(uc, -ENOSYS);
    errno = saved;
}

unsigned sandbox_trapped(int *nrs, unsigned max)
{
    unsigned n = atomic_load(&sandbox_ntraps);
    if (n > SANDBOX_TRAPS)
        n = SANDBOX_TRAPS;
    for (unsigned i = 0; i < n && i < max; i++)
        nrs[i] = sandbox_traps[i];
    return n;
}

static void sandbox_trap_init(void)
{
    struct sigaction sa;

    sandbox_load_names();
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = sandbox_on_sigsys;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) < 0)
        fatal("seccomp: cannot install the SIGSYS handler of the test mode");
}

/* The filter without loading it; *count is the number of calls allowed. */
static scmp_filter_ctx sandbox_build(unsigned flags, int *count)
{
    scmp_filter_ctx ctx =
        seccomp_init(flags & SANDBOX_TRAP ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
    int n = 0;

    if (!ctx)
        fatalx("seccomp: cannot create a filter");
    /* Loading fails rather than leave any thread unfiltered. */
    if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0)
        fatalx("seccomp: cannot ask for thread synchronisation");
    for (size_t i = 0; i < sizeof(sandbox_calls) / sizeof(sandbox_calls[0]); i++)
        n += sandbox_rule(ctx, SCMP_ACT_ALLOW, sandbox_calls[i], 0, NULL);
    n += sandbox_restricted(ctx);
    /* clock system: frequency, slew, step and status (clock_system.c). */
    if (flags & SANDBOX_CLOCK_ADJUST) {
        sandbox_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clock_adjtime), 0, NULL);
        n++;
    }
    *count = n;
    return ctx;
}

int sandbox_install(unsigned flags)
{
    int count, rc;

    /* Level 3: the kernel knows SECCOMP_RET_KILL_PROCESS (Linux 4.14). */
    if (seccomp_api_get() < 3) {
        log_warnx("seccomp: this kernel cannot kill a process on a forbidden call");
        return -1;
    }
    if (flags & SANDBOX_TRAP)
        sandbox_trap_init();
    scmp_filter_ctx ctx = sandbox_build(flags, &count);
    rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc == -EINVAL || rc == -ENOSYS) {
        log_warnx("seccomp: this kernel refuses the filter");
        return -1;
    }
    if (rc < 0) {
        errno = -rc;
        fatal("seccomp: cannot load the filter");
    }
    return count;
}

void sandbox_apply(const struct conf *conf)
{
    if (!conf->seccomp) {
        log_info("seccomp off: system calls are not filtered");
        return;
    }
    const char *trap = getenv("TEMPUS_SECCOMP_TRAP");
    unsigned flags = conf->clock == CONF_CLOCK_SYSTEM ? SANDBOX_CLOCK_ADJUST : 0;
    if (trap && !strcmp(trap, "1"))
        flags |= SANDBOX_TRAP;
    int n = sandbox_install(flags);
    if (n < 0 && conf->seccomp_line)
        fatalx("%s:%u: seccomp on, but this system cannot filter system calls", conf->path,
               conf->seccomp_line);
    if (n < 0)
        log_warnx("running without a system call filter (seccomp unavailable)");
    else if (flags & SANDBOX_TRAP)
        log_info("seccomp filter in test mode (TEMPUS_SECCOMP_TRAP=1): %d system calls "
                 "allowed, any other fails with ENOSYS and is logged",
                 n);
    else
        log_info("seccomp filter active: %d system calls allowed, any other kills tempusd", n);
}
