/* SPDX-License-Identifier: ISC */
/* Directives of the NTS-KE and NTS server (RFC 8915): certificate and key,
 * the KE port and workers, the server record, cookie-key rotation and the
 * shared keys file, and what happens to plain requests. */
#include <stdlib.h>
#include <string.h>

#include "conf_impl.h"
#include "mem.h"

#define CONF_NTS_PORT_DEFAULT 4460
#define CONF_NTS_WORKERS_DEFAULT 2
#define CONF_NTS_WORKERS_MAX 64
/* chrony's default: a week. */
#define CONF_NTS_ROTATE_DEFAULT 604800
#define CONF_NTS_ROTATE_MAX (10L * 365 * 86400)

void conf_nts_defaults(struct conf *c)
{
    c->ntss.port = CONF_NTS_PORT_DEFAULT;
    c->ntss.workers = CONF_NTS_WORKERS_DEFAULT;
    c->ntss.rotate = CONF_NTS_ROTATE_DEFAULT;
    c->ntss.plain = CONF_NTSPLAIN_SERVE;
}

void conf_nts_free(struct conf *c)
{
    free(c->ntss.cert);
    free(c->ntss.key);
    free(c->ntss.keysfile);
}

/* An absolute path into *dst (replacing what was there); 0 or -1. */
static int conf_nts_path(struct conf_parser *p, const char *what, const char *s, char **dst,
                         unsigned *line)
{
    if (s[0] != '/' || strlen(s) > 4095) {
        conf_err(p, "%s: '%s' is not an absolute path", what, s);
        return -1;
    }
    free(*dst);
    *dst = mem_strdup(s);
    *line = p->line;
    return 0;
}

void conf_parse_ntsservercert(struct conf_parser *p, int argc, char **argv)
{
    (void)argc;
    conf_nts_path(p, "ntsservercert", argv[0], &p->conf->ntss.cert, &p->conf->ntss.cert_line);
}

void conf_parse_ntsserverkey(struct conf_parser *p, int argc, char **argv)
{
    (void)argc;
    conf_nts_path(p, "ntsserverkey", argv[0], &p->conf->ntss.key, &p->conf->ntss.key_line);
}

void conf_parse_ntskeysfile(struct conf_parser *p, int argc, char **argv)
{
    (void)argc;
    conf_nts_path(p, "ntskeysfile", argv[0], &p->conf->ntss.keysfile,
                  &p->conf->ntss.keysfile_line);
}

void conf_parse_ntsport(struct conf_parser *p, int argc, char **argv)
{
    long v;

    (void)argc;
    if (conf_long(p, "ntsport", argv[0], 1, 65535, &v) < 0)
        return;
    p->conf->ntss.port = (uint16_t)v;
    p->conf->ntss.port_line = p->line;
}

/* The name clients are to use for NTP (RFC 8915 4.1.7): a host name or an
 * address in ASCII, at most 255 bytes, no spaces or control characters. */
void conf_parse_ntsntpserver(struct conf_parser *p, int argc, char **argv)
{
    const char *s = argv[0];
    size_t n = strlen(s);

    (void)argc;
    if (n == 0 || n >= sizeof(p->conf->ntss.ntp_server)) {
        conf_err(p, "ntsntpserver: '%s' is not a name of 1..255 bytes", s);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch >= 0x7f) {
            conf_err(p, "ntsntpserver: '%s' is not an ASCII host name or address", s);
            return;
        }
    }
    memcpy(p->conf->ntss.ntp_server, s, n + 1);
    p->conf->ntss.ntp_server_line = p->line;
}

void conf_parse_ntsworkers(struct conf_parser *p, int argc, char **argv)
{
    long v;

    (void)argc;
    if (conf_long(p, "ntsworkers", argv[0], 1, CONF_NTS_WORKERS_MAX, &v) < 0)
        return;
    p->conf->ntss.workers = (unsigned)v;
    p->conf->ntss.workers_line = p->line;
}

void conf_parse_ntsrotate(struct conf_parser *p, int argc, char **argv)
{
    long v;

    (void)argc;
    if (conf_long(p, "ntsrotate", argv[0], 0, CONF_NTS_ROTATE_MAX, &v) < 0)
        return;
    p->conf->ntss.rotate = (unsigned)v;
    p->conf->ntss.rotate_line = p->line;
}

void conf_parse_ntsplain(struct conf_parser *p, int argc, char **argv)
{
    static const char *const vals[] = {"serve", "drop", "nak"};
    (void)argc;
    int v = conf_word(p, "ntsplain", argv[0], vals, 3);
    if (v < 0)
        return;
    p->conf->ntss.plain = (enum conf_ntsplain)v;
    p->conf->ntss.plain_line = p->line;
}

/* Report at line (restoring the parser's). */
static void conf_nts_err_at(struct conf_parser *p, unsigned line, const char *msg)
{
    unsigned keep = p->line;
    p->line = line;
    conf_err(p, "%s", msg);
    p->line = keep;
}

void conf_nts_finish(struct conf_parser *p)
{
    const struct conf_ntss *n = &p->conf->ntss;
    const struct {
        unsigned line;
        const char *name;
    } opts[] = {
        {n->port_line, "ntsport"},         {n->ntp_server_line, "ntsntpserver"},
        {n->workers_line, "ntsworkers"},   {n->rotate_line, "ntsrotate"},
        {n->keysfile_line, "ntskeysfile"}, {n->plain_line, "ntsplain"},
    };
    char msg[160];

    if (n->cert && !n->key)
        conf_nts_err_at(p, n->cert_line, "ntsservercert: no ntsserverkey names its private key");
    if (n->key && !n->cert)
        conf_nts_err_at(p, n->key_line, "ntsserverkey: no ntsservercert names its certificate");
    if (n->cert || n->key)
        return;
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        if (!opts[i].line)
            continue;
        snprintf(msg, sizeof(msg), "%s: no NTS server without ntsservercert and ntsserverkey",
                 opts[i].name);
        conf_nts_err_at(p, opts[i].line, msg);
    }
}
