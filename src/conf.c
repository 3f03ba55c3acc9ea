/* SPDX-License-Identifier: ISC */
#include "conf.h"
#include "conf_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "maxima.h"
#include "mem.h"

/* A line holds at most CONF_LINE_MAX characters before its newline. */
#define CONF_LINE_MAX 1024
/* Arguments after the directive name; no directive takes more. */
#define CONF_ARGS_MAX 32
/* After this many errors the rest of the file is not worth reading. */
#define CONF_ERRORS_MAX 100
#define CONF_BINDADDRS_MAX MAXIMA_BINDADDRS

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))



/* One row of the directive table. parse gets the arguments after the
 * directive name; their count is already within min_args..max_args. */
struct directive {
    const char *name;
    void (*parse)(struct conf_parser *p, int argc, char **argv);
    int min_args, max_args;
    int repeat; /* may appear more than once */
    const char *usage;
};



void conf_err(struct conf_parser *p, const char *fmt, ...)
{
    va_list ap;

    p->nerr++;
    if (!p->errs || p->nerr > CONF_ERRORS_MAX)
        return;
    fprintf(p->errs, "%s:%u: ", p->name, p->line);
    va_start(ap, fmt);
    vfprintf(p->errs, fmt, ap);
    va_end(ap);
    fputc('\n', p->errs);
    if (p->nerr == CONF_ERRORS_MAX)
        fprintf(p->errs, "%s:%u: too many errors, giving up\n", p->name, p->line);
}

/* "a, b or c" into buf, for messages listing what was expected. */
static const char *join_words(const char *const *words, size_t n, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        int r = snprintf(buf + len, size - len, "%s%s", sep, words[i]);
        if (r < 0)
            break;
        len += (size_t)r;
    }
    return buf;
}

/* Parse a whole decimal integer within min..max into *out. Returns 0, or -1
 * after reporting; what names the value in the message. */
int conf_u32(struct conf_parser *p, const char *what, const char *s, uint32_t min, uint32_t *out)
{
    const char *digits = s + (s[0] == '+');
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(digits, &end, 10);
    if (s[0] != '-' && (*digits < '0' || *digits > '9' || *end != '\0')) {
        conf_err(p, "%s: '%s' is not an integer", what, s);
        return -1;
    }
    if (s[0] == '-' || errno == ERANGE || v < min || v > UINT32_MAX) {
        conf_err(p, "%s: %s is out of range (%lu..%lu)", what, s, (unsigned long)min,
                 (unsigned long)UINT32_MAX);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

int conf_long(struct conf_parser *p, const char *what, const char *s, long min, long max,
                     long *out)
{
    const char *digits = s + (s[0] == '-' || s[0] == '+');
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (*digits < '0' || *digits > '9' || *end != '\0') {
        conf_err(p, "%s: '%s' is not an integer", what, s);
        return -1;
    }
    if (errno == ERANGE || v < min || v > max) {
        conf_err(p, "%s: %s is out of range (%ld..%ld)", what, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* Parse a whole decimal number (no hex, nan or inf) within min..max. */
int conf_double(struct conf_parser *p, const char *what, const char *s, double min, double max,
                       double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (s[strspn(s, "0123456789+-.eE")] != '\0' || end == s || *end != '\0') {
        conf_err(p, "%s: '%s' is not a number", what, s);
        return -1;
    }
    /* ERANGE on underflow only means "very close to zero": accept that. */
    if ((errno == ERANGE && (v > 1.0 || v < -1.0)) || v < min || v > max) {
        conf_err(p, "%s: %s is out of range (%.15g..%.15g)", what, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* Index of s in words, or -1 after reporting. */
int conf_word(struct conf_parser *p, const char *what, const char *s, const char *const *words,
                     size_t n)
{
    char list[256];

    for (size_t i = 0; i < n; i++)
        if (strcmp(s, words[i]) == 0)
            return (int)i;
    conf_err(p, "%s: unknown value '%s' (expected %s)", what, s,
             join_words(words, n, list, sizeof(list)));
    return -1;
}

/* Match argv against opts. at[i] becomes the argv index of the value of
 * opts[i] (of its name if it takes no value), or -1 if absent. Returns 0, or
 * -1 after reporting the first problem. */
int conf_opts(struct conf_parser *p, const char *what, const struct conf_opt *opts, size_t n,
                     int argc, char **argv, int *at)
{
    const char *names[CONF_ARGS_MAX];
    char list[256];
    size_t k;

    for (k = 0; k < n; k++) {
        at[k] = -1;
        names[k] = opts[k].name;
    }
    for (int i = 0; i < argc; i++) {
        for (k = 0; k < n && strcmp(argv[i], opts[k].name) != 0; k++)
            ;
        if (k == n) {
            conf_err(p, "%s: unknown option '%s' (expected %s)", what, argv[i],
                     join_words(names, n, list, sizeof(list)));
            return -1;
        }
        if (at[k] >= 0) {
            conf_err(p, "%s: option '%s' given twice", what, argv[i]);
            return -1;
        }
        if (opts[k].takes_value && ++i == argc) {
            conf_err(p, "%s: option '%s' needs a value", what, argv[i - 1]);
            return -1;
        }
        at[k] = i;
    }
    return 0;
}

static void parse_abuselog(struct conf_parser *p, int argc, char **argv)
{
    long v;

    (void)argc;
    if (conf_long(p, "abuselog", argv[0], 0, 86400, &v) < 0)
        return;
    p->conf->abuselog_interval = (unsigned)v;
    p->conf->abuselog_line = p->line;
}

/* allow and deny: one rule, "all", ADDR or ADDR/PREFIX. */
void conf_acl_rule_add(struct conf_parser *p, const char *what, const char *spec, int allow,
                       struct conf_acl_rule **list, unsigned *n)
{
    struct conf_acl_rule *r;
    struct netsubnet sn;

    if (strlen(spec) >= sizeof(r->spec) ||
        (strcmp(spec, "all") != 0 && addr_parse_subnet(spec, &sn) < 0)) {
        conf_err(p, "%s: '%s' is not 'all', an address or ADDR/PREFIX", what, spec);
        return;
    }
    *list = mem_append(*list, *n, sizeof(**list));
    r = &(*list)[(*n)++];
    memset(r, 0, sizeof(*r));
    memcpy(r->spec, spec, strlen(spec) + 1);
    r->allow = allow;
    r->line = p->line;
}

static void parse_allow(struct conf_parser *p, int argc, char **argv)
{
    /* Deny by default: a bare allow must not silently open the server. */
    if (argc == 0) {
        conf_err(p, "allow: missing argument (write 'allow all' to serve every client)");
        return;
    }
    conf_acl_rule_add(p, "allow", argv[0], 1, &p->conf->acl, &p->conf->n_acl);
}

static void parse_deny(struct conf_parser *p, int argc, char **argv)
{
    (void)argc;
    conf_acl_rule_add(p, "deny", argv[0], 0, &p->conf->acl, &p->conf->n_acl);
}

static void parse_bindaddress(struct conf_parser *p, int argc, char **argv)
{
    struct conf *c = p->conf;
    struct conf_bindaddr *b;
    struct netaddr a, old;

    (void)argc;
    if (strlen(argv[0]) >= sizeof(b->addr) || addr_parse(argv[0], &a) < 0) {
        conf_err(p, "bindaddress: '%s' is not a numeric IPv4 or IPv6 address", argv[0]);
        return;
    }
    for (unsigned i = 0; i < c->n_bindaddrs; i++) {
        if (addr_parse(c->bindaddrs[i].addr, &old) == 0 && addr_equal(&a, &old)) {
            conf_err(p, "bindaddress: %s already given at line %u", argv[0], c->bindaddrs[i].line);
            return;
        }
    }
    if (c->n_bindaddrs >= CONF_BINDADDRS_MAX) {
        conf_err(p, "bindaddress: too many addresses (at most %d)", CONF_BINDADDRS_MAX);
        return;
    }
    c->bindaddrs = mem_append(c->bindaddrs, c->n_bindaddrs, sizeof(*c->bindaddrs));
    b = &c->bindaddrs[c->n_bindaddrs++];
    memset(b, 0, sizeof(*b));
    memcpy(b->addr, argv[0], strlen(argv[0]) + 1);
    b->line = p->line;
}

/* The kernel's rules for interface names: 1..15 bytes, no '/', ':' or
 * whitespace, and not "." or "..". */
static void parse_binddevice(struct conf_parser *p, int argc, char **argv)
{
    const char *s = argv[0];
    size_t len = strlen(s);

    (void)argc;
    if (len == 0 || len >= sizeof(p->conf->binddevice) || strpbrk(s, "/: \t\r\v\f") ||
        strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
        conf_err(p,
                 "binddevice: '%s' is not an interface name (1..15 characters, "
                 "no '/', ':' or whitespace)",
                 s);
        return;
    }
    memcpy(p->conf->binddevice, s, len + 1);
    p->conf->binddevice_line = p->line;
}

static void parse_clientloglimit(struct conf_parser *p, int argc, char **argv)
{
    long v;

    (void)argc;
    if (conf_long(p, "clientloglimit", argv[0], 4096, 1073741824L, &v) < 0)
        return;
    p->conf->ratelimit.memory_limit = (size_t)v;
    p->conf->clientloglimit_line = p->line;
}

static void parse_clock(struct conf_parser *p, int argc, char **argv)
{
    static const char *const kinds[] = {"system", "virtual"};
    static const struct conf_opt opts[] = {{"offset", 1}, {"freq", 1}};
    struct conf *c = p->conf;
    int kind, at[NELEM(opts)], bad = 0;

    if ((kind = conf_word(p, "clock", argv[0], kinds, NELEM(kinds))) < 0)
        return;
    if (kind == 0 && argc > 1) {
        conf_err(p, "clock: options are only for 'clock virtual'");
        return;
    }
    if (conf_opts(p, "clock virtual", opts, NELEM(opts), argc - 1, argv + 1, at) < 0)
        return;
    if (at[0] >= 0)
        bad |= conf_double(p, "clock virtual offset", argv[1 + at[0]], -1e9, 1e9, &c->clock_offset);
    if (at[1] >= 0)
        bad |= conf_double(p, "clock virtual freq", argv[1 + at[1]], -1e5, 1e5, &c->clock_freq_ppm);
    if (bad)
        return;
    c->clock = kind == 0 ? CONF_CLOCK_SYSTEM : CONF_CLOCK_VIRTUAL;
    c->clock_line = p->line;
}

/* local stratum N [delay SECONDS] [orphan] */
static void parse_local(struct conf_parser *p, int argc, char **argv)
{
    static const struct conf_opt opts[] = {{"delay", 1}, {"orphan", 0}};
    int at[2];
    long v;
    double delay = 0.0;

    if (strcmp(argv[0], "stratum") != 0) {
        conf_err(p, "local: unknown option '%s' (usage: local stratum N [delay SECONDS] "
                    "[orphan])",
                 argv[0]);
        return;
    }
    if (conf_long(p, "local stratum", argv[1], 1, 15, &v) < 0 ||
        conf_opts(p, "local", opts, 2, argc - 2, argv + 2, at) < 0)
        return;
    if (at[0] >= 0 && conf_double(p, "local delay", argv[2 + at[0]], 0.0, 1e7, &delay) < 0)
        return;
    p->conf->local_stratum = (int)v;
    p->conf->local_delay = delay;
    p->conf->local_orphan = at[1] >= 0;
    p->conf->local_line = p->line;
}

static void parse_log(struct conf_parser *p, int argc, char **argv)
{
    static const char *const targets[] = {"stderr", "syslog"};
    int i;

    (void)argc;
    if ((i = conf_word(p, "log", argv[0], targets, NELEM(targets))) < 0)
        return;
    p->conf->log_target = i == 0 ? LOG_TO_STDERR : LOG_TO_SYSLOG;
    p->conf->log_line = p->line;
}

static void parse_loglevel(struct conf_parser *p, int argc, char **argv)
{
    /* Same order as enum log_level. */
    static const char *const levels[] = {"error", "warning", "notice", "info", "debug"};
    int i;

    (void)argc;
    if ((i = conf_word(p, "loglevel", argv[0], levels, NELEM(levels))) < 0)
        return;
    p->conf->log_level = (enum log_level)(LOG_LVL_ERR + i);
    p->conf->loglevel_line = p->line;
}

/* The daemon changes directory to /, so a relative path would mislead. */
static void parse_pidfile(struct conf_parser *p, int argc, char **argv)
{
    (void)argc;
    if (argv[0][0] != '/') {
        conf_err(p, "pidfile: '%s' is not an absolute path", argv[0]);
        return;
    }
    free(p->conf->pidfile);
    p->conf->pidfile = mem_strdup(argv[0]);
    p->conf->pidfile_line = p->line;
}

static void parse_port(struct conf_parser *p, int argc, char **argv)
{
    long v;

    (void)argc;
    if (conf_long(p, "port", argv[0], 0, 65535, &v) < 0)
        return;
    p->conf->port = (uint16_t)v;
    p->conf->port_line = p->line;
}

static void parse_serverbatch(struct conf_parser *p, int argc, char **argv)
{
    long v;

    (void)argc;
    if (conf_long(p, "serverbatch", argv[0], 1, 64, &v) < 0)
        return;
    p->conf->serverbatch = (unsigned)v;
    p->conf->serverbatch_line = p->line;
}

static void parse_ratelimit(struct conf_parser *p, int argc, char **argv)
{
    static const struct conf_opt opts[] = {{"interval", 1}, {"burst", 1}, {"leak", 1}, {"kod", 0}};
    struct ratelimit_params rl = p->conf->ratelimit;
    int at[NELEM(opts)], bad = 0;
    long v[3];

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "off") == 0 && argc > 1) {
            conf_err(p, "ratelimit: 'off' cannot be combined with other options");
            return;
        }
    }
    if (argc == 1 && strcmp(argv[0], "off") == 0) {
        p->conf->ratelimit.enabled = 0;
        p->conf->ratelimit_line = p->line;
        return;
    }
    if (conf_opts(p, "ratelimit", opts, NELEM(opts), argc, argv, at) < 0)
        return;
    v[0] = rl.interval, v[1] = rl.burst, v[2] = rl.leak;
    if (at[0] >= 0)
        bad |= conf_long(p, "ratelimit interval", argv[at[0]], -4, 12, &v[0]);
    if (at[1] >= 0)
        bad |= conf_long(p, "ratelimit burst", argv[at[1]], 1, 255, &v[1]);
    if (at[2] >= 0)
        bad |= conf_long(p, "ratelimit leak", argv[at[2]], 0, 4, &v[2]);
    if (bad)
        return;
    rl.enabled = 1;
    rl.interval = (int)v[0];
    rl.burst = (int)v[1];
    rl.leak = (int)v[2];
    rl.kod = at[3] >= 0;
    p->conf->ratelimit = rl;
    p->conf->ratelimit_line = p->line;
}

/* Checked against the passwd database only when privileges are dropped;
 * here just reject what no sane user name looks like. */
static void parse_user(struct conf_parser *p, int argc, char **argv)
{
    const char *s = argv[0];

    (void)argc;
    if (strlen(s) > 32 || s[0] == '-' || strpbrk(s, "/:")) {
        conf_err(p, "user: '%s' is not a valid user name", s);
        return;
    }
    free(p->conf->user);
    p->conf->user = mem_strdup(s);
    p->conf->user_line = p->line;
}

/* Sorted by name (strcmp order) for bsearch; new directives are new rows.
 * max_args must not exceed CONF_ARGS_MAX. */
static const struct directive directives[] = {
    {"abuselog", parse_abuselog, 1, 1, 0, "abuselog SECONDS"},
    {"allow", parse_allow, 0, 1, 1, "allow all|ADDR|ADDR/PREFIX"},
    {"bindacqaddress", conf_parse_bindacqaddress, 1, 1, 1, "bindacqaddress ADDR"},
    {"bindaddress", parse_bindaddress, 1, 1, 1, "bindaddress ADDR"},
    {"binddevice", parse_binddevice, 1, 1, 0, "binddevice IFNAME"},
    {"clientloglimit", parse_clientloglimit, 1, 1, 0, "clientloglimit BYTES"},
    {"clock", parse_clock, 1, 5, 0, "clock system|virtual [offset SECONDS] [freq PPM]"},
    {"controlgroup", conf_parse_controlgroup, 1, 1, 0, "controlgroup NAME"},
    {"controlsocket", conf_parse_controlsocket, 1, 1, 0, "controlsocket PATH"},
    {"deny", parse_deny, 1, 1, 1, "deny all|ADDR|ADDR/PREFIX"},
    {"driftfile", conf_parse_driftfile, 1, 1, 0, "driftfile PATH"},
    {"keyfile", conf_parse_keyfile, 1, 1, 0, "keyfile PATH"},
    {"leapfile", conf_parse_leapfile, 1, 1, 0, "leapfile PATH"},
    {"leapmode", conf_parse_leapmode, 1, 1, 0, "leapmode system|step|slew|ignore"},
    {"leapsectz", conf_parse_leapsectz, 1, 1, 0, "leapsectz ZONE"},
    {"leapsmear", conf_parse_leapsmear, 0, 1, 0, "leapsmear [WINDOW]"},
    {"local", parse_local, 2, 5, 0, "local stratum N [delay SECONDS] [orphan]"},
    {"log", parse_log, 1, 1, 0, "log stderr|syslog"},
    {"loglevel", parse_loglevel, 1, 1, 0, "loglevel error|warning|notice|info|debug"},
    {"makestep", conf_parse_makestep, 2, 2, 0, "makestep THRESHOLD LIMIT"},
    {"maxchange", conf_parse_maxchange, 1, 1, 0, "maxchange SECONDS"},
    {"maxdistance", conf_parse_maxdistance, 1, 1, 0, "maxdistance SECONDS"},
    {"maxslewrate", conf_parse_maxslewrate, 1, 1, 0, "maxslewrate PPM"},
    {"metrics", conf_parse_metrics, 1, 1, 0, "metrics ADDR:PORT"},
    {"metricsallow", conf_parse_metricsallow, 1, 1, 1, "metricsallow all|ADDR|ADDR/PREFIX"},
    {"minsources", conf_parse_minsources, 1, 1, 0, "minsources N"},
    {"ntskeysfile", conf_parse_ntskeysfile, 1, 1, 0, "ntskeysfile PATH"},
    {"ntsntpserver", conf_parse_ntsntpserver, 1, 1, 0, "ntsntpserver NAME"},
    {"ntsplain", conf_parse_ntsplain, 1, 1, 0, "ntsplain serve|drop|nak"},
    {"ntsport", conf_parse_ntsport, 1, 1, 0, "ntsport N"},
    {"ntsrotate", conf_parse_ntsrotate, 1, 1, 0, "ntsrotate SECONDS"},
    {"ntsservercert", conf_parse_ntsservercert, 1, 1, 0, "ntsservercert PATH"},
    {"ntsserverkey", conf_parse_ntsserverkey, 1, 1, 0, "ntsserverkey PATH"},
    {"ntstrustedcerts", conf_parse_ntstrustedcerts, 1, 1, 1, "ntstrustedcerts FILE|DIR"},
    {"ntsworkers", conf_parse_ntsworkers, 1, 1, 0, "ntsworkers N"},
    {"pidfile", parse_pidfile, 1, 1, 0, "pidfile PATH"},
    {"pool", conf_parse_pool, 1, 17, 1,
     "pool NAME [port N] [iburst] [minpoll N] [maxpoll N] [prefer] [noselect] [key ID] "
     "[maxsources N] [nts [ntsport N]]"},
    {"port", parse_port, 1, 1, 0, "port N"},
    {"ratelimit", parse_ratelimit, 0, 7, 0,
     "ratelimit [interval N] [burst N] [leak N] [kod] | ratelimit off"},
    {"readiness", conf_parse_readiness, 1, 1, 0, "readiness start|sync"},
    {"refclock", conf_parse_refclock, 2, 24, 1,
     "refclock SHM N|SOCK PATH|PPS DEVICE [refid ID] [poll N] [precision S] [offset S] "
     "[delay S] [stratum N] [prefer] [noselect] [lock ID] [clear] [perm MODE]"},
    {"seccomp", conf_parse_seccomp, 1, 1, 0, "seccomp on|off"},
    {"server", conf_parse_server, 1, 15, 1,
     "server HOST [port N] [iburst] [minpoll N] [maxpoll N] [prefer] [noselect] [key ID] "
     "[nts [ntsport N]]"},
    {"serverbatch", parse_serverbatch, 1, 1, 0, "serverbatch N"},
    {"trustedkeys", conf_parse_trustedkeys, 1, 16, 1, "trustedkeys ID [ID ...]"},
    {"user", parse_user, 1, 1, 0, "user NAME"},
};

_Static_assert(NELEM(directives) <= CONF_DIRECTIVES_MAX, "raise CONF_DIRECTIVES_MAX");

static int directive_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct directive *)elem)->name);
}

/* Split line at whitespace into tok (room for max); a token starting with
 * '#', ';' or '!' begins a comment. Returns the number of tokens, which may
 * exceed max (only max are stored). */
static int tokenize(char *line, char **tok, int max)
{
    static const char ws[] = " \t\r\v\f";
    int n = 0;

    for (char *s = line + strspn(line, ws); *s; s += strspn(s, ws)) {
        if (*s == '#' || *s == ';' || *s == '!')
            break;
        if (n < max)
            tok[n] = s;
        n++;
        s += strcspn(s, ws);
        if (*s)
            *s++ = '\0';
    }
    return n;
}

/* Keep the line's words for conf_diff. */
static void record_line(struct conf *c, unsigned line, char *const *tok, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += strlen(tok[i]) + 1;
    char *text = mem_zalloc(len), *at = text;
    for (int i = 0; i < n; i++)
        at += sprintf(at, i ? " %s" : "%s", tok[i]);
    c->lines = mem_realloc(c->lines, c->n_lines + 1, sizeof(*c->lines));
    c->lines[c->n_lines++] = (struct conf_line){.line = line, .text = text};
}

static void parse_line(struct conf_parser *p, char *line)
{
    char *tok[CONF_ARGS_MAX + 1];
    const struct directive *d;
    int n = tokenize(line, tok, (int)NELEM(tok)), argc = n - 1;

    if (n == 0)
        return;
    record_line(p->conf, p->line, tok, n < (int)NELEM(tok) ? n : (int)NELEM(tok));
    d = bsearch(tok[0], directives, NELEM(directives), sizeof(directives[0]), directive_cmp);
    if (!d) {
        conf_err(p, "unknown directive '%s'", tok[0]);
        return;
    }
    if (argc < d->min_args) {
        conf_err(p, "%s: missing argument (usage: %s)", d->name, d->usage);
        return;
    }
    if (argc > d->max_args) {
        conf_err(p, "%s: too many arguments (usage: %s)", d->name, d->usage);
        return;
    }
    unsigned *seen = &p->seen[d - directives];
    /* Parse a repeated line anyway so that its own errors show up too. */
    if (*seen && !d->repeat)
        conf_err(p, "%s: already set at line %u", d->name, *seen);
    if (!*seen)
        *seen = p->line;
    d->parse(p, argc, tok + 1);
}

/* Input is a FILE or a string. */
struct reader {
    FILE *fp;
    size_t left; /* bytes fp may still give (CONF_FILE_MAX in all) */
    int err;     /* errno of a read error on fp, else 0 */
    const char *text;
    size_t pos;
};

static int reader_getc(struct reader *r)
{
    int c;

    if (r->fp) {
        /* A file that grows past the cap while it is read ends there. */
        if (r->left == 0) {
            r->err = r->err ? r->err : EFBIG;
            return EOF;
        }
        errno = 0;
        if ((c = getc(r->fp)) == EOF && ferror(r->fp) && !r->err)
            r->err = errno ? errno : EIO;
        r->left--;
        return c;
    }
    if (r->text[r->pos] == '\0')
        return EOF;
    return (unsigned char)r->text[r->pos++];
}

/* Read one line without its newline into buf (CONF_LINE_MAX + 1 bytes); a
 * longer line is cut and *too_long set. Returns the number of bytes stored
 * (NUL bytes included), or -1 at the end of the input. */
static long read_line(struct reader *r, char *buf, int *too_long)
{
    size_t n = 0;
    int c;

    *too_long = 0;
    while ((c = reader_getc(r)) != EOF && c != '\n') {
        if (n < CONF_LINE_MAX)
            buf[n++] = (char)c;
        else
            *too_long = 1;
    }
    buf[n] = '\0';
    if (c == EOF && n == 0)
        return -1;
    return (long)n;
}

/* Reject control characters (NUL included) so that messages, which quote
 * the offending text, never carry terminal escapes. */
static int check_chars(struct conf_parser *p, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)buf[i];
        int space = ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
        if ((ch < 0x20 && !space) || ch == 0x7f) {
            conf_err(p, "control character 0x%02x in line", ch);
            return -1;
        }
    }
    return 0;
}

static struct conf *parse_input(const char *name, struct reader *r, FILE *errs)
{
    struct conf_parser p = {.conf = conf_defaults(), .name = name, .errs = errs};
    char buf[CONF_LINE_MAX + 1];
    int too_long;
    long len;

    free(p.conf->path);
    p.conf->path = mem_strdup(name);
    while (p.nerr < CONF_ERRORS_MAX && (len = read_line(r, buf, &too_long)) >= 0) {
        p.line++;
        if (too_long)
            conf_err(&p, "line too long (more than %d characters)", CONF_LINE_MAX);
        else if (check_chars(&p, buf, (size_t)len) == 0)
            parse_line(&p, buf);
    }
    if (!p.nerr && !r->err) {
        conf_ctl_finish(&p);
        conf_leap_finish(&p);
        conf_nts_finish(&p);
        conf_refclock_finish(&p);
    }
    if (r->err) {
        p.nerr++;
        if (errs)
            fprintf(errs, "%s: cannot read: %s\n", name, strerror(r->err));
    }
    if (p.nerr) {
        conf_free(p.conf);
        return NULL;
    }
    return p.conf;
}

struct conf *conf_defaults(void)
{
    struct conf *c = mem_zalloc(sizeof(*c));

    c->path = NULL;
    c->port = 123;
    c->serverbatch = CONF_SERVERBATCH_DEFAULT;
    c->ratelimit.enabled = 1;
    c->ratelimit.interval = 3;
    c->ratelimit.burst = 8;
    c->ratelimit.leak = 2;
    c->ratelimit.kod = 0;
    c->ratelimit.memory_limit = 524288;
    c->local_stratum = 0;
    c->clock = CONF_CLOCK_SYSTEM;
    c->log_target = LOG_TO_SYSLOG;
    c->log_level = LOG_LVL_INFO;
    c->abuselog_interval = 60;
    c->minsources = 1;
    c->seccomp = 1;
    c->maxslewrate = 20000.0;
    c->maxdistance = 1.5;
    conf_nts_defaults(c);
    return c;
}

/* "a FIFO", "a directory"...: what a file that is not regular is. */
static const char *conf_file_kind(mode_t m)
{
    return S_ISDIR(m)    ? "a directory"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "not a regular file";
}

/* Open path for reading only if it is a regular file of at most
 * CONF_FILE_MAX bytes. O_NONBLOCK: opening a FIFO must neither block the
 * daemon nor `tempusd -n`; a device (/dev/zero) is refused before any read
 * or ioctl. Returns the stream, or NULL with the reason written to errs. */
static FILE *conf_open(const char *path, FILE *errs)
{
    struct stat st;
    const char *why = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0) {
        if (errs)
            fprintf(errs, "%s: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0)
        why = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = conf_file_kind(st.st_mode);
    else if (st.st_size > CONF_FILE_MAX)
        why = "larger than " CONF_FILE_MAX_TEXT;
    FILE *fp = why ? NULL : fdopen(fd, "r");
    if (!fp) {
        if (errs)
            fprintf(errs, "%s: refusing to read it: %s\n", path,
                    why ? why : strerror(errno));
        close(fd);
    }
    return fp;
}

struct conf *conf_load(const char *path, FILE *errs)
{
    struct reader r = {.left = CONF_FILE_MAX};
    struct conf *c;

    if (!(r.fp = conf_open(path, errs)))
        return NULL;
    c = parse_input(path, &r, errs);
    fclose(r.fp);
    return c;
}

struct conf *conf_parse_string(const char *name, const char *text, FILE *errs)
{
    struct reader r = {.text = text};

    return parse_input(name, &r, errs);
}

void conf_free(struct conf *conf)
{
    if (!conf)
        return;
    free(conf->path);
    conf_nts_free(conf);
    free(conf->bindaddrs);
    free(conf->acl);
    free(conf->pidfile);
    free(conf->user);
    free(conf->servers);
    free(conf->refclocks);
    free(conf->keyfile);
    free(conf->trustedkeys);
    for (unsigned i = 0; i < conf->n_ntstrustedcerts; i++)
        free(conf->ntstrustedcerts[i]);
    free(conf->ntstrustedcerts);
    free(conf->controlsocket);
    free(conf->controlgroup);
    free(conf->metricsallow);
    free(conf->driftfile);
    free(conf->leapfile);
    free(conf->leapsectz);
    for (unsigned i = 0; i < conf->n_lines; i++)
        free(conf->lines[i].text);
    free(conf->lines);
    free(conf);
}
