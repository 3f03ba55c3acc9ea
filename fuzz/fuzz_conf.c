/* SPDX-License-Identifier: ISC */
/* conf: arbitrary text through conf_parse_string. Asserts that a config is
 * returned exactly when no error was reported, that every error line has the
 * "name:line: " form and carries no control character (they quote the
 * offending text, which must not smuggle terminal escapes into a log), that
 * parsing without an error stream gives the same verdict, and that an
 * accepted config holds only values inside the documented ranges (each
 * address and ACL rule parses again, strings are terminated in their
 * arrays, poll and counts within bounds). */
#include "fuzz.h"

#include <math.h>

#include "acl.h"
#include "addr.h"
#include "conf.h"
#include "smear.h"

#define NAME "fuzz.conf"
/* Far more than the parser's cap of 100 error lines, each quoting at most
 * one 1024-byte line twice, can fill. */
#define ERRBUF (1024 * 1024)

static char errbuf[ERRBUF];

/* Each line "fuzz.conf:N: message" (or "fuzz.conf: message" for read
 * errors), printable bytes only. */
static void check_errors(const char *text, size_t len)
{
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) /* cut by the fixed-size stream: only at the very end */
            nl = end;
        FUZZ_CHECK((size_t)(nl - p) > sizeof(NAME));
        FUZZ_CHECK(memcmp(p, NAME ":", sizeof(NAME)) == 0);
        for (const char *c = p; c < nl; c++)
            FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
        p = nl + 1;
    }
}

static void check_rules(const struct conf_acl_rule *r, unsigned n)
{
    struct acl *acl = acl_create();
    for (unsigned i = 0; i < n; i++) {
        FUZZ_CHECK(memchr(r[i].spec, '\0', sizeof(r[i].spec)) != NULL);
        FUZZ_CHECK(acl_add(acl, r[i].spec, r[i].allow) == 0);
        FUZZ_CHECK(r[i].line > 0);
    }
    acl_destroy(acl);
}

static void check_servers(const struct conf *c)
{
    for (unsigned i = 0; i < c->n_servers; i++) {
        const struct conf_server *s = &c->servers[i];
        size_t hl = strnlen(s->host, sizeof(s->host));
        FUZZ_CHECK(hl > 0 && hl < sizeof(s->host));
        FUZZ_CHECK(s->port > 0);
        FUZZ_CHECK(s->minpoll >= -4 && s->minpoll <= s->maxpoll && s->maxpoll <= 17);
        FUZZ_CHECK(s->pool ? s->maxsources >= 1 && s->maxsources <= 16 : s->maxsources == 1);
        FUZZ_CHECK(s->line > 0);
    }
}

static void check_conf(const struct conf *c)
{
    struct netaddr a;

    FUZZ_CHECK(c->path && strcmp(c->path, NAME) == 0);
    for (unsigned i = 0; i < c->n_bindaddrs; i++) {
        FUZZ_CHECK(memchr(c->bindaddrs[i].addr, '\0', sizeof(c->bindaddrs[i].addr)) != NULL);
        FUZZ_CHECK(addr_parse(c->bindaddrs[i].addr, &a) == 0);
    }
    FUZZ_CHECK(c->n_bindaddrs <= 16);
    FUZZ_CHECK(memchr(c->binddevice, '\0', sizeof(c->binddevice)) != NULL);
    FUZZ_CHECK(memchr(c->metrics_addr, '\0', sizeof(c->metrics_addr)) != NULL);
    if (c->metrics_addr[0]) {
        FUZZ_CHECK(addr_parse(c->metrics_addr, &a) == 0);
        FUZZ_CHECK(c->metrics_port > 0);
    }
    check_rules(c->acl, c->n_acl);
    check_rules(c->metricsallow, c->n_metricsallow);
    check_servers(c);

    const struct ratelimit_params *rl = &c->ratelimit;
    FUZZ_CHECK(rl->interval >= -4 && rl->interval <= 12);
    FUZZ_CHECK(rl->burst >= 1 && rl->burst <= 255);
    FUZZ_CHECK(rl->leak >= 0 && rl->leak <= 4);
    FUZZ_CHECK(rl->memory_limit >= 4096);
    FUZZ_CHECK(c->local_stratum >= 0 && c->local_stratum <= 15);
    FUZZ_CHECK(isfinite(c->local_delay) && c->local_delay >= 0.0);
    FUZZ_CHECK(c->minsources >= 1 && c->minsources <= 16);
    FUZZ_CHECK(isfinite(c->makestep_threshold) && c->makestep_threshold >= 0.0);
    FUZZ_CHECK(c->makestep_limit >= -1);
    FUZZ_CHECK(isfinite(c->maxchange) && c->maxchange >= 0.0);
    FUZZ_CHECK(c->maxslewrate >= 1.0 && c->maxslewrate <= 1e5);
    FUZZ_CHECK(c->maxdistance > 0.0 && c->maxdistance <= 16.0);
    FUZZ_CHECK(isfinite(c->clock_offset) && isfinite(c->clock_freq_ppm));
    FUZZ_CHECK(c->log_level >= LOG_LVL_ERR && c->log_level <= LOG_LVL_DEBUG);
    FUZZ_CHECK(c->seccomp == 0 || c->seccomp == 1);
    FUZZ_CHECK(c->abuselog_interval <= 86400);
    FUZZ_CHECK(!c->pidfile || c->pidfile[0] == '/');
    FUZZ_CHECK(!c->driftfile || c->driftfile[0] == '/');
    FUZZ_CHECK(!c->leapfile || c->leapfile[0] == '/');
    FUZZ_CHECK(!c->leapsectz || !strstr(c->leapsectz, ".."));
    /* leapsmear: off, or a window in range over a clock that takes the
     * leap at one instant */
    FUZZ_CHECK(c->leapsmear == 0.0 || (c->leapsmear >= SMEAR_WINDOW_MIN &&
                                       c->leapsmear <= SMEAR_WINDOW_MAX &&
                                       (c->leapmode == CONF_LEAP_SYSTEM ||
                                        c->leapmode == CONF_LEAP_STEP)));
    FUZZ_CHECK(!c->keyfile || c->keyfile[0] == '/');
    FUZZ_CHECK(!c->controlsocket ||
               (c->controlsocket[0] == '/' && strlen(c->controlsocket) <= 100));
    for (unsigned i = 0; i < c->n_trustedkeys; i++) {
        FUZZ_CHECK(c->trustedkeys[i] != 0);
        for (unsigned j = 0; j < i; j++)
            FUZZ_CHECK(c->trustedkeys[i] != c->trustedkeys[j]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    FUZZ_CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';

    /* An in-memory stream: the messages are checked, nothing is written. */
    FILE *errs = fmemopen(errbuf, sizeof(errbuf), "w");
    FUZZ_CHECK(errs != NULL);
    setvbuf(errs, NULL, _IONBF, 0);
    struct conf *c = conf_parse_string(NAME, text, errs);
    long n = ftell(errs);
    fclose(errs);
    FUZZ_CHECK(n >= 0 && (size_t)n < sizeof(errbuf));
    FUZZ_CHECK((c == NULL) == (n > 0));
    check_errors(errbuf, (size_t)n);
    if (c)
        check_conf(c);

    struct conf *again = conf_parse_string(NAME, text, NULL);
    FUZZ_CHECK((again == NULL) == (c == NULL));
    conf_free(again);
    conf_free(c);
    free(text);
    return 0;
}
