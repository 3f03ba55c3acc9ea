/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_CONF_IMPL_H
#define TEMPUS_CONF_IMPL_H

/* Private to conf.c and the files that add directive groups to its table
 * (conf_upstream.c): the parser state and the value helpers. */

#include <stddef.h>
#include <stdio.h>

#include "conf.h"

#define CONF_DIRECTIVES_MAX 64

struct conf_parser {
    struct conf *conf;
    const char *name; /* file name for messages */
    FILE *errs;       /* may be NULL: errors are only counted */
    unsigned line;
    unsigned nerr;
    unsigned seen[CONF_DIRECTIVES_MAX]; /* first line of each directive */
};

/* A keyword option of a directive: NAME or NAME VALUE, each at most once. */
struct conf_opt {
    const char *name;
    int takes_value;
};

/* Report an error at the current line (counted; printed up to the cap). */
void conf_err(struct conf_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whole decimal integer within min..max; 0, or -1 after reporting. */
/* An integer in min..UINT32_MAX (key ids) into *out, whatever the size of
 * long (32 bits on ILP32); 0, or -1 with the error reported. */
int conf_u32(struct conf_parser *p, const char *what, const char *s, uint32_t min, uint32_t *out);
int conf_long(struct conf_parser *p, const char *what, const char *s, long min, long max,
              long *out);
/* Whole decimal number within min..max; 0, or -1 after reporting. */
int conf_double(struct conf_parser *p, const char *what, const char *s, double min, double max,
                double *out);
/* Index of s in words, or -1 after reporting. */
int conf_word(struct conf_parser *p, const char *what, const char *s, const char *const *words,
              size_t n);
/* Match keyword options; at[i] = argv index of opts[i]'s value (or name),
 * -1 if absent. 0, or -1 after reporting. */
int conf_opts(struct conf_parser *p, const char *what, const struct conf_opt *opts, size_t n,
              int argc, char **argv, int *at);

/* Validate spec ("all", ADDR or ADDR/PREFIX) and append it to *list. */
void conf_acl_rule_add(struct conf_parser *p, const char *what, const char *spec, int allow,
                       struct conf_acl_rule **list, unsigned *n);

/* Directive parsers living in conf_upstream.c. */
void conf_parse_server(struct conf_parser *p, int argc, char **argv);
void conf_parse_pool(struct conf_parser *p, int argc, char **argv);
void conf_parse_bindacqaddress(struct conf_parser *p, int argc, char **argv);
void conf_parse_minsources(struct conf_parser *p, int argc, char **argv);
void conf_parse_makestep(struct conf_parser *p, int argc, char **argv);
void conf_parse_maxchange(struct conf_parser *p, int argc, char **argv);
void conf_parse_maxslewrate(struct conf_parser *p, int argc, char **argv);
void conf_parse_maxdistance(struct conf_parser *p, int argc, char **argv);
void conf_parse_driftfile(struct conf_parser *p, int argc, char **argv);
void conf_parse_leapfile(struct conf_parser *p, int argc, char **argv);
void conf_parse_leapmode(struct conf_parser *p, int argc, char **argv);
void conf_parse_ntstrustedcerts(struct conf_parser *p, int argc, char **argv);
void conf_parse_leapsectz(struct conf_parser *p, int argc, char **argv);
void conf_parse_leapsmear(struct conf_parser *p, int argc, char **argv);
/* After the last line: leapsmear needs a leapmode that takes the leap at
 * a known instant (system or step). */
void conf_leap_finish(struct conf_parser *p);

/* Directive parser living in conf_refclock.c, and its check after the
 * last line (every `lock` names a refclock). */
void conf_parse_refclock(struct conf_parser *p, int argc, char **argv);
void conf_refclock_finish(struct conf_parser *p);

/* Directive parsers living in conf_ctl.c. */
void conf_parse_controlsocket(struct conf_parser *p, int argc, char **argv);
void conf_parse_controlgroup(struct conf_parser *p, int argc, char **argv);
void conf_parse_metrics(struct conf_parser *p, int argc, char **argv);
void conf_parse_metricsallow(struct conf_parser *p, int argc, char **argv);
void conf_parse_keyfile(struct conf_parser *p, int argc, char **argv);
void conf_parse_trustedkeys(struct conf_parser *p, int argc, char **argv);
/* After the last line: key ids in use without a keyfile are errors. */
void conf_ctl_finish(struct conf_parser *p);
void conf_parse_seccomp(struct conf_parser *p, int argc, char **argv);
void conf_parse_readiness(struct conf_parser *p, int argc, char **argv);

/* Directive parsers living in conf_nts.c (the NTS server). */
void conf_parse_ntsservercert(struct conf_parser *p, int argc, char **argv);
void conf_parse_ntsserverkey(struct conf_parser *p, int argc, char **argv);
void conf_parse_ntsport(struct conf_parser *p, int argc, char **argv);
void conf_parse_ntsntpserver(struct conf_parser *p, int argc, char **argv);
void conf_parse_ntsworkers(struct conf_parser *p, int argc, char **argv);
void conf_parse_ntsrotate(struct conf_parser *p, int argc, char **argv);
void conf_parse_ntskeysfile(struct conf_parser *p, int argc, char **argv);
void conf_parse_ntsplain(struct conf_parser *p, int argc, char **argv);
/* Defaults of the NTS server's fields, and the checks across them after
 * the last line (a certificate without its key, options without either). */
void conf_nts_defaults(struct conf *c);
void conf_nts_finish(struct conf_parser *p);
void conf_nts_free(struct conf *c);

#endif
