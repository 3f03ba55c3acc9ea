/* SPDX-License-Identifier: ISC */
/* The refclock directive: reference clocks read by the daemon itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_impl.h"
#include "maxima.h"
#include "mem.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum {
    OPT_REFID,
    OPT_POLL,
    OPT_PRECISION,
    OPT_OFFSET,
    OPT_DELAY,
    OPT_STRATUM,
    OPT_PREFER,
    OPT_NOSELECT,
    OPT_LOCK,
    OPT_CLEAR,
    OPT_PERM,
    OPT_N
};

static const struct conf_opt rc_opts[OPT_N] = {
    {"refid", 1},  {"poll", 1},     {"precision", 1}, {"offset", 1}, {"delay", 1}, {"stratum", 1},
    {"prefer", 0}, {"noselect", 0}, {"lock", 1},      {"clear", 0},  {"perm", 1}};

int conf_refclock_same(const struct conf_refclock *a, const struct conf_refclock *b)
{
    return a->driver == b->driver && strcmp(a->path, b->path) == 0 && a->unit == b->unit &&
           a->perm == b->perm && strcmp(a->refid, b->refid) == 0 && a->poll == b->poll &&
           a->precision == b->precision && a->offset == b->offset && a->delay == b->delay &&
           a->stratum == b->stratum && a->prefer == b->prefer && a->noselect == b->noselect &&
           strcmp(a->lock, b->lock) == 0 && a->clear == b->clear;
}

/* A reference id: 1 to 4 printable ASCII characters, no space. */
static int rc_refid(struct conf_parser *p, const char *what, const char *s, char out[5])
{
    size_t n = strlen(s);

    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            n = 0;
    if (n < 1 || n > 4) {
        conf_err(p, "refclock: %s '%s' is not 1 to 4 printable characters", what, s);
        return -1;
    }
    memcpy(out, s, n + 1);
    return 0;
}

/* The driver and its argument: SHM N, SOCK PATH (absolute), PPS DEVICE. */
static int rc_driver(struct conf_parser *p, char **argv, struct conf_refclock *rc)
{
    static const char *const drivers[] = {"SHM", "SOCK", "PPS"};
    long v;
    int d = conf_word(p, "refclock", argv[0], drivers, NELEM(drivers));

    if (d < 0)
        return -1;
    rc->driver = (enum conf_refclock_driver)d;
    if (rc->driver == CONF_REFCLOCK_SHM) {
        if (conf_long(p, "refclock SHM unit", argv[1], 0, 255, &v) < 0)
            return -1;
        rc->unit = (int)v;
        rc->perm = rc->unit < 2 ? 0600 : 0666;
        memcpy(rc->refid, "SHM", 3);
        rc->refid[3] = (char)('0' + rc->unit % 10);
        rc->refid[4] = '\0';
        return 0;
    }
    if (argv[1][0] != '/' || strlen(argv[1]) >= sizeof(rc->path)) {
        conf_err(p, "refclock %s: '%s' is not an absolute path of at most %zu bytes", argv[0],
                 argv[1], sizeof(rc->path) - 1);
        return -1;
    }
    snprintf(rc->path, sizeof(rc->path), "%s", argv[1]);
    if (rc->driver == CONF_REFCLOCK_SOCK) {
        snprintf(rc->refid, sizeof(rc->refid), "SOCK");
    } else {
        size_t n = strlen(rc->path);
        char last = rc->path[n - 1];
        snprintf(rc->refid, sizeof(rc->refid), "PPS%c", last >= '0' && last <= '9' ? last : '0');
    }
    return 0;
}

/* SHM perm MODE: octal, at most 0666, never executable. */
static int rc_perm(struct conf_parser *p, const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 8);

    if (s[0] < '0' || s[0] > '7' || *end || v < 0 || v > 0666 || (v & 0111)) {
        conf_err(p, "refclock SHM: perm '%s' is not an octal mode of at most 0666", s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* The keyword options, each with its range. */
static int rc_options(struct conf_parser *p, char **argv, const int *at, struct conf_refclock *rc)
{
    long v;
    int bad = 0;

    if (at[OPT_REFID] >= 0)
        bad |= rc_refid(p, "refid", argv[at[OPT_REFID]], rc->refid);
    if (at[OPT_POLL] >= 0 && !(bad |= conf_long(p, "refclock poll", argv[at[OPT_POLL]], 0, 12, &v)))
        rc->poll = (int)v;
    if (at[OPT_PRECISION] >= 0)
        bad |= conf_double(p, "refclock precision", argv[at[OPT_PRECISION]], 1e-9, 1.0,
                           &rc->precision);
    if (at[OPT_OFFSET] >= 0)
        bad |= conf_double(p, "refclock offset", argv[at[OPT_OFFSET]], -1.0, 1.0, &rc->offset);
    if (at[OPT_DELAY] >= 0)
        bad |= conf_double(p, "refclock delay", argv[at[OPT_DELAY]], 1e-9, 1.0, &rc->delay);
    if (at[OPT_STRATUM] >= 0 &&
        !(bad |= conf_long(p, "refclock stratum", argv[at[OPT_STRATUM]], 0, 14, &v)))
        rc->stratum = (int)v;
    rc->prefer = at[OPT_PREFER] >= 0;
    rc->noselect = at[OPT_NOSELECT] >= 0;
    if (at[OPT_LOCK] >= 0)
        bad |= rc_refid(p, "lock", argv[at[OPT_LOCK]], rc->lock);
    rc->clear = at[OPT_CLEAR] >= 0;
    if (at[OPT_PERM] >= 0)
        bad |= rc_perm(p, argv[at[OPT_PERM]], &rc->perm);
    return bad ? -1 : 0;
}

/* Options that only one driver takes. */
static int rc_driver_only(struct conf_parser *p, const int *at, const struct conf_refclock *rc)
{
    static const char *const names[] = {"SHM", "SOCK", "PPS"};
    const char *d = names[rc->driver];

    /* lock numbers the seconds of edges: a PPS's, or the pulse samples
     * gpsd may send to a SOCK. */
    if (rc->driver == CONF_REFCLOCK_SHM && at[OPT_LOCK] >= 0) {
        conf_err(p, "refclock SHM: 'lock' is only for PPS and SOCK");
        return -1;
    }
    if (rc->driver != CONF_REFCLOCK_PPS && at[OPT_CLEAR] >= 0) {
        conf_err(p, "refclock %s: 'clear' is only for PPS", d);
        return -1;
    }
    if (rc->driver != CONF_REFCLOCK_SHM && at[OPT_PERM] >= 0) {
        conf_err(p, "refclock %s: 'perm' is only for SHM", d);
        return -1;
    }
    return 0;
}

/* Refids name refclocks for `lock`: two with one name are an error. */
static int rc_unique(struct conf_parser *p, const struct conf_refclock *rc)
{
    const struct conf *c = p->conf;

    for (unsigned i = 0; i < c->n_refclocks; i++) {
        const struct conf_refclock *o = &c->refclocks[i];
        if (strcmp(o->refid, rc->refid) == 0) {
            conf_err(p,
                     "refclock: refid %s is already used at line %u (give this one a "
                     "refid of its own)",
                     rc->refid, o->line);
            return -1;
        }
        if (rc->driver == o->driver && rc->unit == o->unit && strcmp(rc->path, o->path) == 0) {
            conf_err(p, "refclock: the same clock as at line %u", o->line);
            return -1;
        }
    }
    return 0;
}

void conf_parse_refclock(struct conf_parser *p, int argc, char **argv)
{
    struct conf *c = p->conf;
    struct conf_refclock rc = {.poll = 4, .precision = 1e-6, .delay = 1e-9, .line = p->line};
    int at[OPT_N];

    if (rc_driver(p, argv, &rc) < 0 ||
        conf_opts(p, "refclock", rc_opts, OPT_N, argc - 2, argv + 2, at) < 0)
        return;
    for (int i = 0; i < OPT_N; i++)
        at[i] += at[i] >= 0 ? 2 : 0; /* indexes into argv */
    if (rc_driver_only(p, at, &rc) < 0 || rc_options(p, argv, at, &rc) < 0)
        return;
    if (rc.lock[0] && strcmp(rc.lock, rc.refid) == 0) {
        conf_err(p, "refclock: a refclock cannot lock to itself (lock %s)", rc.lock);
        return;
    }
    if (rc_unique(p, &rc) < 0)
        return;
    if (c->n_refclocks == MAXIMA_REFCLOCKS) {
        conf_err(p, "refclock: too many (at most %d)", MAXIMA_REFCLOCKS);
        return;
    }
    c->refclocks = mem_realloc(c->refclocks, c->n_refclocks + 1, sizeof(*c->refclocks));
    c->refclocks[c->n_refclocks++] = rc;
}

void conf_refclock_finish(struct conf_parser *p)
{
    static const char *const names[] = {"SHM", "SOCK", "PPS"};
    const struct conf *c = p->conf;

    /* The lock must tell whole seconds itself: not a PPS, not locked. */
    for (unsigned i = 0; i < c->n_refclocks; i++) {
        const struct conf_refclock *rc = &c->refclocks[i];
        unsigned j;
        if (!rc->lock[0])
            continue;
        for (j = 0; j < c->n_refclocks && strcmp(c->refclocks[j].refid, rc->lock) != 0; j++)
            ;
        if (j == c->n_refclocks || c->refclocks[j].driver == CONF_REFCLOCK_PPS ||
            c->refclocks[j].lock[0]) {
            p->line = rc->line;
            conf_err(p, "refclock %s: lock %s names no %srefclock", names[rc->driver], rc->lock,
                     j == c->n_refclocks ? "" : "SHM or SOCK (without a lock of its own) ");
        }
    }
}
