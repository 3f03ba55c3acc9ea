/* SPDX-License-Identifier: ISC */
/* Directives for the control socket and the metrics endpoint. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf_impl.h"
#include "mem.h"

void conf_parse_controlsocket(struct conf_parser *p, int argc, char **argv)
{
    (void)argc;
    if (argv[0][0] != '/' || strlen(argv[0]) > 100) {
        conf_err(p, "controlsocket: '%s' is not an absolute path of at most 100 bytes", argv[0]);
        return;
    }
    free(p->conf->controlsocket);
    p->conf->controlsocket = mem_strdup(argv[0]);
    p->conf->controlsocket_line = p->line;
}

void conf_parse_controlgroup(struct conf_parser *p, int argc, char **argv)
{
    const char *g = argv[0];
    (void)argc;
    if (strlen(g) > 32 || g[0] == '-' || strpbrk(g, "/: ")) {
        conf_err(p, "controlgroup: '%s' is not a valid group name", g);
        return;
    }
    free(p->conf->controlgroup);
    p->conf->controlgroup = mem_strdup(g);
    p->conf->controlgroup_line = p->line;
}

/* ADDR:PORT with IPv6 written [ADDR]:PORT. */
void conf_parse_metrics(struct conf_parser *p, int argc, char **argv)
{
    char host[64];
    const char *s = argv[0], *colon, *hs = s;
    size_t hl;
    long port;
    struct netaddr a;

    (void)argc;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        colon = close && close[1] == ':' ? close + 1 : NULL;
        hs = s + 1;
        hl = close ? (size_t)(close - hs) : 0;
    } else {
        colon = strrchr(s, ':');
        hl = colon ? (size_t)(colon - s) : 0;
    }
    if (!colon || hl == 0 || hl >= sizeof(host)) {
        conf_err(p, "metrics: '%s' is not ADDR:PORT (IPv6: [ADDR]:PORT)", s);
        return;
    }
    memcpy(host, hs, hl);
    host[hl] = '\0';
    if (addr_parse(host, &a) < 0) {
        conf_err(p, "metrics: '%s' is not a numeric address", host);
        return;
    }
    if (conf_long(p, "metrics port", colon + 1, 1, 65535, &port) < 0)
        return;
    snprintf(p->conf->metrics_addr, sizeof(p->conf->metrics_addr), "%s", host);
    p->conf->metrics_port = (uint16_t)port;
    p->conf->metrics_line = p->line;
}

void conf_parse_metricsallow(struct conf_parser *p, int argc, char **argv)
{
    (void)argc;
    conf_acl_rule_add(p, "metricsallow", argv[0], 1, &p->conf->metricsallow,
                      &p->conf->n_metricsallow);
}

void conf_parse_keyfile(struct conf_parser *p, int argc, char **argv)
{
    (void)argc;
    if (argv[0][0] != '/') {
        conf_err(p, "keyfile: '%s' is not an absolute path", argv[0]);
        return;
    }
    free(p->conf->keyfile);
    p->conf->keyfile = mem_strdup(argv[0]);
    p->conf->keyfile_line = p->line;
}

/* trustedkeys ID [ID ...]: ids 1..2^32-1, each at most once. */
void conf_parse_trustedkeys(struct conf_parser *p, int argc, char **argv)
{
    struct conf *c = p->conf;
    uint32_t v;

    for (int i = 0; i < argc; i++) {
        if (conf_u32(p, "trustedkeys", argv[i], 1, &v) < 0)
            return;
        for (unsigned k = 0; k < c->n_trustedkeys; k++) {
            if (c->trustedkeys[k] == v) {
                conf_err(p, "trustedkeys: key %lu listed twice", (unsigned long)v);
                return;
            }
        }
        c->trustedkeys = mem_append(c->trustedkeys, c->n_trustedkeys, sizeof(uint32_t));
        c->trustedkeys[c->n_trustedkeys++] = v;
    }
    c->trustedkeys_line = p->line;
}

void conf_parse_readiness(struct conf_parser *p, int argc, char **argv)
{
    static const char *const vals[] = {"start", "sync"};
    (void)argc;
    int v = conf_word(p, "readiness", argv[0], vals, 2);
    if (v < 0)
        return;
    p->conf->ready_at_sync = v;
    p->conf->readiness_line = p->line;
}

void conf_parse_seccomp(struct conf_parser *p, int argc, char **argv)
{
    static const char *const vals[] = {"off", "on"};
    (void)argc;
    int v = conf_word(p, "seccomp", argv[0], vals, 2);
    if (v < 0)
        return;
    p->conf->seccomp = v;
    p->conf->seccomp_line = p->line;
}

/* Checks across directives, after the whole file: a key id in use needs a
 * keyfile directive (whether each id is in the file is checked when the
 * file is read: by the daemon and tempusd -n through service_check, not by
 * the parser or lint). Reported in line order. */
void conf_ctl_finish(struct conf_parser *p)
{
    const struct conf *c = p->conf;
    unsigned line = p->line;
    int trusted_due = c->n_trustedkeys > 0;

    if (c->keyfile)
        return;
    for (unsigned i = 0; i <= c->n_servers; i++) {
        const struct conf_server *s = i < c->n_servers ? &c->servers[i] : NULL;
        if (trusted_due && (!s || s->line > c->trustedkeys_line)) {
            p->line = c->trustedkeys_line;
            conf_err(p, "trustedkeys: no keyfile directive says where the keys are");
            trusted_due = 0;
        }
        if (s && s->key) {
            p->line = s->line;
            conf_err(p, "key %u: no keyfile directive says where the keys are", s->key);
        }
    }
    p->line = line;
}
