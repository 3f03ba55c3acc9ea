/* SPDX-License-Identifier: ISC */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"

/* capget/capset through glibc's own wrappers (version 3: two 32-bit words
 * per set), never a raw syscall(): time simulators that wrap libc see these
 * calls as what they are. glibc exports both but no header declares them.
 * Three bit masks are all tempusd needs, which is not worth a dependency on
 * libcap. */
extern int capget(cap_user_header_t hdrp, cap_user_data_t datap);
extern int capset(cap_user_header_t hdrp, cap_user_data_t datap);
struct privdrop_caps {
    uint64_t eff, prm, inh;
};

static int caps_get(struct privdrop_caps *c)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

    memset(d, 0, sizeof(d));
    if (capget(&h, d) < 0)
        return -1;
    c->eff = d[0].effective | (uint64_t)d[1].effective << 32;
    c->prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
    c->inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
    return 0;
}

static int caps_set(const struct privdrop_caps *c)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {
        {(uint32_t)c->eff, (uint32_t)c->prm, (uint32_t)c->inh},
        {(uint32_t)(c->eff >> 32), (uint32_t)(c->prm >> 32), (uint32_t)(c->inh >> 32)},
    };
    return capset(&h, d);
}

static uint64_t caps_mask(unsigned keep)
{
    uint64_t m = 0;
    if (keep & PRIVDROP_SYS_TIME)
        m |= UINT64_C(1) << CAP_SYS_TIME;
    if (keep & PRIVDROP_NET_BIND)
        m |= UINT64_C(1) << CAP_NET_BIND_SERVICE;
    return m;
}

static const char *caps_names(uint64_t m)
{
    if (m == (UINT64_C(1) << CAP_SYS_TIME | UINT64_C(1) << CAP_NET_BIND_SERVICE))
        return "cap_sys_time,cap_net_bind_service";
    if (m == UINT64_C(1) << CAP_SYS_TIME)
        return "cap_sys_time";
    if (m == UINT64_C(1) << CAP_NET_BIND_SERVICE)
        return "cap_net_bind_service";
    return "none";
}

/* The bounding set limits what an execve could ever gain. Shrinking it
 * needs CAP_SETPCAP; an unprivileged start cannot, and loses nothing by it:
 * tempusd never executes anything, and no_new_privs holds as well. */
static void privdrop_bounding(uint64_t keep, int may)
{
    for (int cap = 0; cap < 64; cap++) {
        int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (r < 0)
            break; /* EINVAL: past the last capability this kernel knows */
        if (r == 0 || (keep >> cap & 1))
            continue;
        if (!may) {
            log_debug("no CAP_SETPCAP: bounding set left as it is");
            return;
        }
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
            fatal("cannot drop capability %d from the bounding set", cap);
    }
}

int privdrop_check_user(const struct conf *conf, FILE *errs)
{
    if (!conf->user)
        return 0;
    errno = 0;
    struct passwd *pw = getpwnam(conf->user);
    if (!pw)
        fprintf(errs, "%s:%u: user %s: %s\n", conf->path, conf->user_line, conf->user,
                errno ? strerror(errno) : "no such user");
    else if (pw->pw_uid == 0)
        fprintf(errs, "%s:%u: user %s has uid 0: name an unprivileged user\n", conf->path,
                conf->user_line, conf->user);
    return pw && pw->pw_uid != 0 ? 0 : -1;
}

static void privdrop_lookup(const char *user, uid_t *uid, gid_t *gid)
{
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (!pw && errno)
        fatal("user %s: cannot look it up", user);
    if (!pw)
        fatalx("user %s: no such user", user);
    if (pw->pw_uid == 0)
        fatalx("user %s has uid 0: name an unprivileged user", user);
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
}

/* KEEPCAPS keeps the permitted set across the uid change; the kernel
 * clears the effective set, which caps_set then fills with what is kept. */
static void privdrop_switch(const char *user, uid_t uid, gid_t gid)
{
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        fatal("prctl(PR_SET_KEEPCAPS)");
    if (setgroups(1, &gid) < 0)
        fatal("user %s: setgroups(%lu)", user, (unsigned long)gid);
    if (setresgid(gid, gid, gid) < 0)
        fatal("user %s: setresgid(%lu)", user, (unsigned long)gid);
    if (setresuid(uid, uid, uid) < 0)
        fatal("user %s: setresuid(%lu)", user, (unsigned long)uid);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        fatal("prctl(PR_SET_KEEPCAPS)");
}

/* Trust nothing: read back what the kernel now holds. An empty inheritable
 * set also proves the ambient set empty (ambient is a subset of it). */
static void privdrop_verify(int switched, uid_t uid, gid_t gid, uint64_t want)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    struct privdrop_caps c;

    if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
        fatal("getresuid");
    if (switched && (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid))
        fatalx("privilege drop: uid/gid did not change as asked");
    if (switched && (setuid(0) == 0 || seteuid(0) == 0))
        fatalx("privilege drop: root could be regained");
    if (caps_get(&c) < 0)
        fatal("capget");
    if (c.eff != want || c.prm != want || c.inh != 0)
        fatalx("privilege drop: capabilities are %#llx/%#llx, not %#llx", (unsigned long long)c.eff,
               (unsigned long long)c.prm, (unsigned long long)want);
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
        fatalx("privilege drop: no_new_privs is not set");
}

/* Who the caller (holding now) becomes: *switched when root changes user. */
static void privdrop_target(const char *user, const struct privdrop_caps *now, uid_t *uid,
                            gid_t *gid, int *switched)
{
    const uint64_t setid = UINT64_C(1) << CAP_SETUID | UINT64_C(1) << CAP_SETGID;
    uid_t want_uid;
    gid_t want_gid;

    *uid = getuid();
    *gid = getgid();
    *switched = 0;
    if (!user) {
        if (geteuid() == 0)
            log_warnx("running as root: set `user` in the configuration to run unprivileged");
        return;
    }
    privdrop_lookup(user, &want_uid, &want_gid);
    if (geteuid() != 0) {
        if (want_uid != getuid() || want_uid != geteuid())
            fatalx("user %s: tempusd must be started as root to become another user", user);
        return;
    }
    if ((now->eff & setid) != setid)
        fatalx("user %s: becoming another user needs CAP_SETUID and CAP_SETGID, which were "
               "taken away (a service manager's capability bounding set?)",
               user);
    *uid = want_uid;
    *gid = want_gid;
    *switched = 1;
}

void privdrop_to(const char *user, unsigned keep)
{
    uint64_t want = caps_mask(keep);
    struct privdrop_caps now;
    uid_t uid;
    gid_t gid;
    int switched;

    if (caps_get(&now) < 0)
        fatal("capget");
    privdrop_target(user, &now, &uid, &gid, &switched);
    if (want & ~now.prm)
        log_warnx("capabilities %s are not available to keep: %s", caps_names(want & ~now.prm),
                  (want & ~now.prm) >> CAP_SYS_TIME & 1 ? "the clock cannot be adjusted"
                                                        : "a privileged port cannot bind again");
    want &= now.prm;
    privdrop_bounding(want, (int)(now.eff >> CAP_SETPCAP & 1));
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        fatal("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
    if (switched)
        privdrop_switch(user, uid, gid);
    struct privdrop_caps next = {want, want, 0};
    if (caps_set(&next) < 0)
        fatal("capset");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fatal("prctl(PR_SET_NO_NEW_PRIVS)");
    privdrop_verify(switched, uid, gid, want);
    log_info("running as uid %lu gid %lu%s%s, capabilities: %s", (unsigned long)uid,
             (unsigned long)gid, user ? " user " : "", user ? user : "", caps_names(want));
}

unsigned privdrop_needs(const struct conf *conf)
{
    unsigned keep = 0;
    if (conf->clock == CONF_CLOCK_SYSTEM)
        keep |= PRIVDROP_SYS_TIME;
    /* Reload may close and reopen the server sockets (new bindaddress) or
     * the metrics endpoint: the same privileged port must bind again. */
    if ((conf->port > 0 && conf->port < 1024) ||
        (conf->metrics_addr[0] && conf->metrics_port > 0 && conf->metrics_port < 1024))
        keep |= PRIVDROP_NET_BIND;
    return keep;
}

/* The directory of path ("." if it has no '/'), as a new string. */
static char *privdrop_dirname(const char *path)
{
    char *dir = mem_strdup(path);
    char *slash = strrchr(dir, '/');
    if (!slash) {
        free(dir);
        dir = mem_strdup(".");
    } else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    return dir;
}

void privdrop_apply(const struct conf *conf)
{
    privdrop_to(conf->user, privdrop_needs(conf));
    if (conf->path && access(conf->path, R_OK) < 0)
        log_warn("%s: not readable any more: reload will fail", conf->path);
    if (conf->keyfile && access(conf->keyfile, R_OK) < 0)
        log_warn("key file %s: not readable any more: reload will fail", conf->keyfile);
    if (conf->driftfile) {
        /* The drift file is replaced by a new file renamed over it. */
        char *dir = privdrop_dirname(conf->driftfile);
        if (access(dir, W_OK | X_OK) < 0)
            log_warn("drift file %s: cannot create files in %s: the drift will not be saved",
                     conf->driftfile, dir);
        free(dir);
    }
}
