/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_CONF_H
#define TEMPUS_CONF_H

#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "ratelimit.h"

/* Parsed tempus.conf. The parser checks syntax and ranges only; it opens no
 * socket and resolves no name. Every directive records the line it came
 * from (0 = default) so later checks can point at it. */

enum conf_clock { CONF_CLOCK_SYSTEM, CONF_CLOCK_VIRTUAL };
/* What the local clock does at a leap second (leapmode). */
enum conf_leapmode { CONF_LEAP_SYSTEM, CONF_LEAP_STEP, CONF_LEAP_SLEW, CONF_LEAP_IGNORE };

struct conf_acl_rule {
    char spec[64]; /* "all", ADDR or ADDR/PREFIX, validated */
    int allow;     /* 1 allow, 0 deny */
    unsigned line;
};

struct conf_bindaddr {
    char addr[64]; /* numeric IPv4/IPv6 address, validated */
    unsigned line;
};

/* One directive as the file had it: its words joined by single spaces,
 * comments dropped. What a reload compares (conf_diff). */
struct conf_line {
    unsigned line;
    char *text;
};

/* An upstream: `server HOST ...` or `pool NAME ...`. A new field must be
 * compared in up_conf_same (upstream.c), which decides what a reload keeps. */
struct conf_server {
    char host[256];  /* name or numeric address, resolved by the daemon */
    uint16_t port;   /* default 123 */
    int pool;        /* 1: pool NAME (several addresses), 0: one server */
    int maxsources;  /* pool: addresses kept, 1..16 (default 4) */
    int iburst, prefer, noselect;
    int minpoll, maxpoll; /* log2 s */
    uint32_t key;         /* symmetric key id to authenticate with; 0 = none */
    int nts;              /* 1: NTS (RFC 8915): key exchange with host, then NTS polls */
    uint16_t ntsport;     /* NTS-KE port, default 4460 */
    unsigned line;
};

#define CONF_NTSPORT_DEFAULT 4460
#define CONF_NTSTRUSTED_MAX 16
/* A reference clock: `refclock SHM N`, `refclock SOCK PATH` or
 * `refclock PPS DEVICE` with chrony-like options (conf_refclock.c). A new
 * field must be compared in conf_refclock_same, which decides whether a
 * reload is refused. */
enum conf_refclock_driver { CONF_REFCLOCK_SHM, CONF_REFCLOCK_SOCK, CONF_REFCLOCK_PPS };
#define CONF_REFCLOCK_PATH_MAX 108 /* sun_path, the longest of the two */
struct conf_refclock {
    enum conf_refclock_driver driver;
    char path[CONF_REFCLOCK_PATH_MAX]; /* SOCK: socket; PPS: device; SHM: "" */
    int unit;          /* SHM: segment key 0x4e545030 + unit, 0..255 */
    int perm;          /* SHM: mode of a segment we create (0600 units 0-1, else 0666) */
    char refid[5];     /* ASCII, NUL-terminated; unique among refclocks */
    int poll;          /* log2 s between samples into the filter */
    double precision;  /* s, part of every sample's dispersion */
    double offset;     /* s, added to every sample */
    double delay;      /* s, the sample's delay */
    int stratum;       /* 0..15: we serve stratum + 1 */
    int prefer, noselect;
    char lock[5];      /* PPS: refid of the refclock numbering the seconds ("" none) */
    int clear;         /* PPS: the clear edge, not the assert edge */
    unsigned line;
};
/* The same refclock in both configs (a reload keeps it); 1 if so. */
int conf_refclock_same(const struct conf_refclock *a, const struct conf_refclock *b);

/* Requests a server socket takes per call unless serverbatch says: 1, the
 * portable recvmsg/sendmsg path (batches measured no cheaper on loopback,
 * see bench/README.md). */
#define CONF_SERVERBATCH_DEFAULT 1

/* What an NTS server does with a request that is neither NTS nor signed
 * with a trusted symmetric key (ntsplain). */
enum conf_ntsplain { CONF_NTSPLAIN_SERVE, CONF_NTSPLAIN_DROP, CONF_NTSPLAIN_NAK };

/* The NTS-KE and NTS server (conf_nts.c). It serves when cert and key are
 * both set; the other fields have defaults. */
struct conf_ntss {
    char *cert, *key;      /* PEM files: ntsservercert, ntsserverkey */
    unsigned cert_line, key_line;
    uint16_t port;         /* ntsport: NTS-KE listening port (4460) */
    unsigned port_line;
    char ntp_server[256];  /* ntsntpserver: server record ("" = none) */
    unsigned ntp_server_line;
    unsigned workers;      /* ntsworkers: KE worker threads (2) */
    unsigned workers_line;
    unsigned rotate;       /* ntsrotate: seconds between key rotations, 0 = never */
    unsigned rotate_line;
    char *keysfile;        /* ntskeysfile: shared cookie keys, NULL = our own */
    unsigned keysfile_line;
    enum conf_ntsplain plain; /* ntsplain (serve) */
    unsigned plain_line;
};

struct conf {
    char *path; /* file the config was read from */

    uint16_t port; /* server port, default 123; 0 disables serving */
    unsigned port_line;
    unsigned serverbatch; /* requests per recvmmsg, 1..64; 1: recvmsg/sendmsg */
    unsigned serverbatch_line;
    struct conf_bindaddr *bindaddrs; /* empty: listen on all addresses */
    unsigned n_bindaddrs;
    char binddevice[16]; /* "" = any interface */
    unsigned binddevice_line;

    struct conf_acl_rule *acl; /* in file order */
    unsigned n_acl;

    struct ratelimit_params ratelimit; /* enabled by default, see conf.c */
    unsigned ratelimit_line;
    unsigned clientloglimit_line; /* sets ratelimit.memory_limit */

    int local_stratum; /* 0: no local reference; 1..15 */
    double local_delay; /* seconds without a source before serving local */
    int local_orphan;   /* orphan mode: peers at local_stratum elect one */
    unsigned local_line;
    /* bindacqaddress: source address of requests to upstreams, [0] IPv4,
     * [1] IPv6; an empty addr lets the kernel choose. */
    struct conf_bindaddr acqaddr[2];

    struct conf_server *servers; /* upstreams, in file order */
    unsigned n_servers;
    struct conf_refclock *refclocks; /* in file order */
    unsigned n_refclocks;
    int minsources; /* agreeing sources needed to touch the clock (1) */
    unsigned minsources_line;
    double makestep_threshold; /* s; 0 = never step (default) */
    int makestep_limit;        /* first N updates; -1 = always */
    unsigned makestep_line;
    double maxchange; /* s; 0 = no limit (default) */
    unsigned maxchange_line;
    double maxslewrate; /* ppm (20000) */
    unsigned maxslewrate_line;
    double maxdistance; /* s (1.5) */
    unsigned maxdistance_line;
    char *driftfile; /* NULL: none */
    unsigned driftfile_line;
    char *leapfile; /* leap-seconds.list, NULL: none */
    unsigned leapfile_line;
    enum conf_leapmode leapmode; /* system (default) */
    unsigned leapmode_line;
    char *leapsectz; /* a TZif zone with leap records (right/UTC), NULL: none */
    unsigned leapsectz_line;
    double leapsmear; /* smear window served to clients, s; 0: no smear */
    unsigned leapsmear_line;

    enum conf_clock clock;
    double clock_offset;   /* virtual clock: initial offset, seconds */
    double clock_freq_ppm; /* virtual clock: initial frequency error */
    unsigned clock_line;

    char *controlsocket; /* control socket path (NULL: default) */
    unsigned controlsocket_line;
    char *controlgroup; /* group that may use the control socket (NULL: root's) */
    unsigned controlgroup_line;
    char metrics_addr[64]; /* "" = no Prometheus endpoint */
    uint16_t metrics_port;
    unsigned metrics_line;
    struct conf_acl_rule *metricsallow; /* who may scrape, in file order */
    unsigned n_metricsallow;

    char *keyfile; /* symmetric keys (chrony's format); NULL: none */
    unsigned keyfile_line;
    uint32_t *trustedkeys; /* key ids a client may authenticate with */
    unsigned n_trustedkeys;
    unsigned trustedkeys_line;
    char **ntstrustedcerts; /* CA files or directories for NTS-KE; none: system store */
    unsigned n_ntstrustedcerts;
    unsigned ntstrustedcerts_line; /* the first */
    int seccomp; /* 1 (default): confine the daemon with a syscall filter */
    unsigned seccomp_line;
    int ready_at_sync; /* readiness sync: sd_notify READY=1 at the first sync */
    unsigned readiness_line;

    char *pidfile; /* NULL: none; else an absolute path */
    unsigned pidfile_line;
    char *user; /* NULL: keep the starting user (hardening issue) */
    unsigned user_line;

    enum log_target log_target;
    unsigned log_line;
    enum log_level log_level;
    unsigned loglevel_line;
    unsigned abuselog_interval; /* seconds between abuse summaries; 0 = off */
    unsigned abuselog_line;

    struct conf_ntss ntss; /* NTS-KE and NTS server (conf_nts.c) */

    struct conf_line *lines; /* every directive line, in file order */
    unsigned n_lines;
};

/* A config with every default set (no file). Never NULL. */
struct conf *conf_defaults(void);
/* The largest config file read (bytes). */
#define CONF_FILE_MAX (4 << 20)
#define CONF_FILE_MAX_TEXT "4 MiB"
/* Parse path, which must be a regular file of at most CONF_FILE_MAX bytes
 * (a FIFO, device or directory is refused without blocking or reading:
 * "path: refusing to read it: a FIFO"). All errors are written to errs as
 * "path:line: message", one per line; returns NULL if there was any error,
 * else the config. */
struct conf *conf_load(const char *path, FILE *errs);
/* Parse config text held in memory (name is used in messages). Same
 * contract as conf_load. */
struct conf *conf_parse_string(const char *name, const char *text, FILE *errs);
void conf_free(struct conf *conf);

/* What a reload changes, line by line. A directive line of new that old
 * has word for word is unchanged; one that replaces a single line of the
 * same directive (and, for repeated directives such as server or allow,
 * the same first argument) is altered; the rest are added or removed. */
enum conf_change { CONF_ADDED, CONF_REMOVED, CONF_ALTERED };
/* Called once per change: was is NULL for CONF_ADDED, now for
 * CONF_REMOVED. */
typedef void (*conf_diff_fn)(void *arg, enum conf_change kind, const struct conf_line *was,
                             const struct conf_line *now);
/* Report every change from old to new through fn: altered and added lines
 * in new's order, then removed lines in old's. Returns the number. */
unsigned conf_diff(const struct conf *old, const struct conf *new, conf_diff_fn fn, void *arg);

#endif
