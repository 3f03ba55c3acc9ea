/* SPDX-License-Identifier: ISC */
/* Directives for upstream sources and the clock discipline. */
#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "addr.h"
#include "conf_impl.h"
#include "maxima.h"
#include "mem.h"
#include "smear.h"
#include "source.h"

#define CONF_SERVERS_MAX MAXIMA_SERVER_LINES

/* A host name or numeric address: letters, digits, '-', '.', ':' only, so
 * nothing odd reaches the resolver or the logs. */
static int conf_host_ok(const char *h)
{
    size_t n = strlen(h);
    return n > 0 && n < 256 && h[0] != '-' &&
           strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.:") == n;
}

static int conf_poll_opt(struct conf_parser *p, const char *what, const char *v, int *out)
{
    long x;
    if (conf_long(p, what, v, -4, 17, &x) < 0)
        return -1;
    *out = (int)x;
    return 0;
}

/* nts [ntsport N]: at[0] is nts, at[1] ntsport. NTS and a symmetric key
 * are two ways to authenticate the same source: one or the other. */
static int conf_parse_nts_opts(struct conf_parser *p, const char *what, char **argv, const int *at,
                               struct conf_server *s)
{
    long v;

    s->nts = at[0] >= 0;
    if (at[1] >= 0 && !s->nts) {
        conf_err(p, "%s: ntsport without nts", what);
        return -1;
    }
    if (at[1] >= 0) {
        if (conf_long(p, "ntsport", argv[1 + at[1]], 1, 65535, &v) < 0)
            return -1;
        s->ntsport = (uint16_t)v;
    }
    if (s->nts && s->key) {
        conf_err(p, "%s: nts and key exclude each other (one way to authenticate a source)", what);
        return -1;
    }
    return 0;
}

/* Options shared by server and pool; pool adds maxsources. */
static void conf_parse_upstream(struct conf_parser *p, int argc, char **argv, int pool)
{
    static const struct conf_opt opts[] = {
        {"port", 1},     {"iburst", 0}, {"minpoll", 1}, {"maxpoll", 1}, {"prefer", 0},
        {"noselect", 0}, {"key", 1},    {"nts", 0},     {"ntsport", 1}, {"maxsources", 1}};
    const char *what = pool ? "pool" : "server";
    struct conf *c = p->conf;
    struct conf_server s = {.port = 123,
                            .pool = pool,
                            .maxsources = pool ? 4 : 1,
                            .minpoll = SOURCE_MINPOLL_DEFAULT,
                            .maxpoll = SOURCE_MAXPOLL_DEFAULT,
                            .ntsport = CONF_NTSPORT_DEFAULT,
                            .line = p->line};
    int at[10];
    long v;

    if (!conf_host_ok(argv[0])) {
        conf_err(p, "%s: '%s' is not a host name or address", what, argv[0]);
        return;
    }
    snprintf(s.host, sizeof(s.host), "%s", argv[0]);
    if (conf_opts(p, what, opts, pool ? 10 : 9, argc - 1, argv + 1, at) < 0)
        return;
    if (at[0] >= 0) {
        if (conf_long(p, "port", argv[1 + at[0]], 1, 65535, &v) < 0)
            return;
        s.port = (uint16_t)v;
    }
    s.iburst = at[1] >= 0;
    s.prefer = at[4] >= 0;
    s.noselect = at[5] >= 0;
    if ((at[2] >= 0 && conf_poll_opt(p, "minpoll", argv[1 + at[2]], &s.minpoll) < 0) ||
        (at[3] >= 0 && conf_poll_opt(p, "maxpoll", argv[1 + at[3]], &s.maxpoll) < 0))
        return;
    if (s.maxpoll < s.minpoll) {
        conf_err(p, "%s: maxpoll %d is below minpoll %d", what, s.maxpoll, s.minpoll);
        return;
    }
    if (at[6] >= 0) {
        if (conf_u32(p, "key", argv[1 + at[6]], 1, &s.key) < 0)
            return;
    }
    if (conf_parse_nts_opts(p, what, argv, at + 7, &s) < 0)
        return;
    if (pool && at[9] >= 0) {
        if (conf_long(p, "maxsources", argv[1 + at[9]], 1, 16, &v) < 0)
            return;
        s.maxsources = (int)v;
    }
    if (c->n_servers == CONF_SERVERS_MAX) {
        conf_err(p, "%s: too many sources (at most %d)", what, CONF_SERVERS_MAX);
        return;
    }
    c->servers = mem_append(c->servers, c->n_servers, sizeof(*c->servers));
    c->servers[c->n_servers++] = s;
}

void conf_parse_server(struct conf_parser *p, int argc, char **argv)
{
    conf_parse_upstream(p, argc, argv, 0);
}

void conf_parse_pool(struct conf_parser *p, int argc, char **argv)
{
    conf_parse_upstream(p, argc, argv, 1);
}

/* bindacqaddress ADDR: one IPv4 and one IPv6 address at most. */
void conf_parse_bindacqaddress(struct conf_parser *p, int argc, char **argv)
{
    struct netaddr a;
    (void)argc;

    if (strlen(argv[0]) >= sizeof(p->conf->acqaddr[0].addr) || addr_parse(argv[0], &a) < 0) {
        conf_err(p, "bindacqaddress: '%s' is not a numeric IPv4 or IPv6 address", argv[0]);
        return;
    }
    struct conf_bindaddr *b = &p->conf->acqaddr[a.family == AF_INET6];
    if (b->addr[0]) {
        conf_err(p, "bindacqaddress: an %s address was already given at line %u",
                 a.family == AF_INET6 ? "IPv6" : "IPv4", b->line);
        return;
    }
    snprintf(b->addr, sizeof(b->addr), "%s", argv[0]);
    b->line = p->line;
}

void conf_parse_minsources(struct conf_parser *p, int argc, char **argv)
{
    long v;
    (void)argc;
    if (conf_long(p, "minsources", argv[0], 1, 16, &v) < 0)
        return;
    p->conf->minsources = (int)v;
    p->conf->minsources_line = p->line;
}

void conf_parse_makestep(struct conf_parser *p, int argc, char **argv)
{
    double t;
    long limit;
    (void)argc;
    if (conf_double(p, "makestep threshold", argv[0], 0.0, 1e9, &t) < 0 ||
        conf_long(p, "makestep limit", argv[1], -1, 1000000, &limit) < 0)
        return;
    p->conf->makestep_threshold = t;
    p->conf->makestep_limit = (int)limit;
    p->conf->makestep_line = p->line;
}

void conf_parse_maxchange(struct conf_parser *p, int argc, char **argv)
{
    double v;
    (void)argc;
    if (conf_double(p, "maxchange", argv[0], 0.0, 1e9, &v) < 0)
        return;
    p->conf->maxchange = v;
    p->conf->maxchange_line = p->line;
}

void conf_parse_maxslewrate(struct conf_parser *p, int argc, char **argv)
{
    double v;
    (void)argc;
    if (conf_double(p, "maxslewrate", argv[0], 1.0, 100000.0, &v) < 0)
        return;
    p->conf->maxslewrate = v;
    p->conf->maxslewrate_line = p->line;
}

void conf_parse_maxdistance(struct conf_parser *p, int argc, char **argv)
{
    double v;
    (void)argc;
    if (conf_double(p, "maxdistance", argv[0], 0.001, 16.0, &v) < 0)
        return;
    p->conf->maxdistance = v;
    p->conf->maxdistance_line = p->line;
}

void conf_parse_driftfile(struct conf_parser *p, int argc, char **argv)
{
    (void)argc;
    if (argv[0][0] != '/') {
        conf_err(p, "driftfile: '%s' is not an absolute path", argv[0]);
        return;
    }
    free(p->conf->driftfile);
    p->conf->driftfile = mem_strdup(argv[0]);
    p->conf->driftfile_line = p->line;
}

void conf_parse_leapfile(struct conf_parser *p, int argc, char **argv)
{
    (void)argc;
    if (argv[0][0] != '/') {
        conf_err(p, "leapfile: '%s' is not an absolute path", argv[0]);
        return;
    }
    free(p->conf->leapfile);
    p->conf->leapfile = mem_strdup(argv[0]);
    p->conf->leapfile_line = p->line;
}

void conf_parse_leapmode(struct conf_parser *p, int argc, char **argv)
{
    /* Same order as enum conf_leapmode. */
    static const char *const modes[] = {"system", "step", "slew", "ignore"};
    int i;

    (void)argc;
    if ((i = conf_word(p, "leapmode", argv[0], modes, sizeof(modes) / sizeof(modes[0]))) < 0)
        return;
    p->conf->leapmode = (enum conf_leapmode)i;
    p->conf->leapmode_line = p->line;
}

/* ntstrustedcerts FILE|DIR: an absolute path to a PEM file of CA
 * certificates or a directory of them, read at start (before privileges
 * are dropped); each line adds one. */
void conf_parse_ntstrustedcerts(struct conf_parser *p, int argc, char **argv)
{
    struct conf *c = p->conf;
    struct stat st;

    (void)argc;
    if (argv[0][0] != '/') {
        conf_err(p, "ntstrustedcerts: '%s' is not an absolute path", argv[0]);
        return;
    }
    if (stat(argv[0], &st) < 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
        conf_err(p, "ntstrustedcerts: '%s' is not a file or directory that can be read", argv[0]);
        return;
    }
    if (c->n_ntstrustedcerts == CONF_NTSTRUSTED_MAX) {
        conf_err(p, "ntstrustedcerts: too many (at most %d)", CONF_NTSTRUSTED_MAX);
        return;
    }
    if (c->n_ntstrustedcerts == 0)
        c->ntstrustedcerts_line = p->line;
    c->ntstrustedcerts = mem_append(c->ntstrustedcerts, c->n_ntstrustedcerts, sizeof(char *));
    c->ntstrustedcerts[c->n_ntstrustedcerts++] = mem_strdup(argv[0]);
}

/* A zone of the tz database with leap second records: a name under
 * /usr/share/zoneinfo (right/UTC) or an absolute path. No "..": a name
 * never leaves the zoneinfo tree. */
void conf_parse_leapsectz(struct conf_parser *p, int argc, char **argv)
{
    const char *z = argv[0];

    (void)argc;
    if (strstr(z, "..") || strlen(z) > 200 || (z[0] != '/' && !isalnum((unsigned char)z[0]))) {
        conf_err(p, "leapsectz: '%s' is not a zone name (such as right/UTC) or an absolute path",
                 z);
        return;
    }
    free(p->conf->leapsectz);
    p->conf->leapsectz = mem_strdup(z);
    p->conf->leapsectz_line = p->line;
}

void conf_parse_leapsmear(struct conf_parser *p, int argc, char **argv)
{
    double w = SMEAR_WINDOW_DEFAULT;

    if (argc > 0 &&
        conf_double(p, "leapsmear window", argv[0], SMEAR_WINDOW_MIN, SMEAR_WINDOW_MAX, &w) < 0)
        return;
    p->conf->leapsmear = w;
    p->conf->leapsmear_line = p->line;
}

void conf_leap_finish(struct conf_parser *p)
{
    const struct conf *c = p->conf;
    unsigned line = p->line;

    if (c->leapsmear > 0.0 && (c->leapmode == CONF_LEAP_SLEW || c->leapmode == CONF_LEAP_IGNORE)) {
        p->line = c->leapsmear_line;
        conf_err(p, "leapsmear: needs leapmode system or step (the served smear is computed "
                    "from a clock that takes the leap second at one instant)");
    }
    p->line = line;
}
