/* SPDX-License-Identifier: ISC */
/* Unit tests for the config parser. Run from the repository root: the golden
 * files are read from tests/conf/. TEMPUS_SEED=N repeats a randomized run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#include "conf_test.h"

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    int ch;

    assert_non_null(f);
    assert_non_null(out);
    while ((ch = getc(f)) != EOF)
        putc(ch, out);
    fclose(out);
    fclose(f);
    return buf;
}

static void check_defaults(const struct conf *c)
{
    assert_int_equal(c->port, 123);
    assert_int_equal(c->port_line, 0);
    assert_int_equal(c->n_bindaddrs, 0);
    assert_null(c->bindaddrs);
    assert_string_equal(c->binddevice, "");
    assert_int_equal(c->n_acl, 0);
    assert_int_equal(c->ratelimit.enabled, 1);
    assert_int_equal(c->ratelimit.interval, 3);
    assert_int_equal(c->ratelimit.burst, 8);
    assert_int_equal(c->ratelimit.leak, 2);
    assert_int_equal(c->ratelimit.kod, 0);
    assert_int_equal(c->ratelimit.memory_limit, 524288);
    assert_int_equal(c->ratelimit_line, 0);
    assert_int_equal(c->clientloglimit_line, 0);
    assert_int_equal(c->local_stratum, 0);
    assert_int_equal(c->local_line, 0);
    assert_int_equal(c->clock, CONF_CLOCK_SYSTEM);
    assert_true(c->clock_offset == 0.0);
    assert_true(c->clock_freq_ppm == 0.0);
    assert_int_equal(c->clock_line, 0);
    assert_null(c->pidfile);
    assert_null(c->user);
    assert_int_equal(c->user_line, 0);
    assert_int_equal(c->log_target, LOG_TO_SYSLOG);
    assert_int_equal(c->log_level, LOG_LVL_INFO);
    assert_int_equal(c->abuselog_interval, 60);
    assert_int_equal(c->abuselog_line, 0);
}

static void test_defaults(void **state)
{
    (void)state;
    struct conf *c = conf_defaults();
    check_defaults(c);
    assert_null(c->path);
    conf_free(c);

    c = parse_ok("");
    check_defaults(c);
    assert_string_equal(c->path, "t.conf");
    conf_free(c);

    c = parse_ok("\n\n   \n\t\n# comment\n; comment\n! comment\n");
    check_defaults(c);
    conf_free(c);
    conf_free(NULL);
}

/* Every directive is found: this also checks that the table is sorted,
 * since the lookup is a binary search. */
static void test_every_directive_known(void **state)
{
    static const char *const lines[] = {
        "abuselog 1",     "allow all", "bindaddress ::1", "binddevice lo", "clientloglimit 4096",
        "clock system",   "deny all",  "local stratum 1", "log stderr",    "loglevel debug",
        "pidfile /x.pid", "port 1",    "ratelimit",       "user nobody",
        "bindacqaddress 127.0.0.1", "serverbatch 1", "server a.example", "pool p.example",
        "minsources 1", "makestep 1 1", "maxchange 1", "maxdistance 1", "maxslewrate 1",
        "driftfile /d", "keyfile /k", "keyfile /k\ntrustedkeys 1", "metrics 127.0.0.1:9123",
        "metricsallow all", "controlsocket /s", "seccomp on", "readiness sync",
        "ntstrustedcerts /", "server a.example nts ntsport 4460",
    };
    (void)state;
    for (size_t i = 0; i < NELEM(lines); i++)
        conf_free(parse_ok(lines[i]));
    parse_bad("zzz 1\n", "t.conf:1: unknown directive 'zzz'\n");
    parse_bad("aaa\n", "t.conf:1: unknown directive 'aaa'\n");
    parse_bad("loglevels info\n", "t.conf:1: unknown directive 'loglevels'\n");
}

/* Boundaries of every numeric range: the limits pass, one past fails. */
static void test_ranges(void **state)
{
    static const struct {
        const char *text, *err; /* err NULL: must parse */
    } cases[] = {
        {"port 0", NULL},
        {"port 65535", NULL},
        {"port -1", "port: -1 is out of range (0..65535)"},
        {"port 65536", "port: 65536 is out of range (0..65535)"},
        {"port +80", NULL},
        {"port 0080", NULL},
        {"port 9223372036854775808", "port: 9223372036854775808 is out of range (0..65535)"},
        {"port 1.0", "port: '1.0' is not an integer"},
        {"port -", "port: '-' is not an integer"},
        {"port +", "port: '+' is not an integer"},
        {"port 0x7b", "port: '0x7b' is not an integer"},
        {"port --1", "port: '--1' is not an integer"},
        {"abuselog 0", NULL},
        {"abuselog 86400", NULL},
        {"abuselog -1", "abuselog: -1 is out of range (0..86400)"},
        {"abuselog 86401", "abuselog: 86401 is out of range (0..86400)"},
        {"clientloglimit 4096", NULL},
        {"clientloglimit 1073741824", NULL},
        {"clientloglimit 4095", "clientloglimit: 4095 is out of range (4096..1073741824)"},
        {"clientloglimit 1073741825",
         "clientloglimit: 1073741825 is out of range (4096..1073741824)"},
        {"local stratum 1", NULL},
        {"local stratum 15", NULL},
        {"local stratum 0", "local stratum: 0 is out of range (1..15)"},
        {"local stratum 16", "local stratum: 16 is out of range (1..15)"},
        {"ratelimit interval -4", NULL},
        {"ratelimit interval 12", NULL},
        {"ratelimit interval -5", "ratelimit interval: -5 is out of range (-4..12)"},
        {"ratelimit interval 13", "ratelimit interval: 13 is out of range (-4..12)"},
        {"ratelimit burst 1", NULL},
        {"ratelimit burst 255", NULL},
        {"ratelimit burst 0", "ratelimit burst: 0 is out of range (1..255)"},
        {"ratelimit burst 256", "ratelimit burst: 256 is out of range (1..255)"},
        {"ratelimit leak 0", NULL},
        {"ratelimit leak 4", NULL},
        {"ratelimit leak -1", "ratelimit leak: -1 is out of range (0..4)"},
        {"ratelimit leak 5", "ratelimit leak: 5 is out of range (0..4)"},
        {"clock virtual offset -1e9", NULL},
        {"clock virtual offset 1000000000", NULL},
        {"clock virtual offset 1e-400", NULL},
        {"clock virtual offset -1000000000.001",
         "clock virtual offset: -1000000000.001 is out of range (-1000000000..1000000000)"},
        {"clock virtual offset 1e10",
         "clock virtual offset: 1e10 is out of range (-1000000000..1000000000)"},
        {"clock virtual freq -100000", NULL},
        {"clock virtual freq 1e5", NULL},
        {"clock virtual freq 100000.001",
         "clock virtual freq: 100000.001 is out of range (-100000..100000)"},
        {"clock virtual freq -1e400",
         "clock virtual freq: -1e400 is out of range (-100000..100000)"},
        {"clock virtual freq 0x10", "clock virtual freq: '0x10' is not a number"},
        {"clock virtual freq infinity", "clock virtual freq: 'infinity' is not a number"},
        {"clock virtual freq -nan", "clock virtual freq: '-nan' is not a number"},
        {"clock virtual freq .", "clock virtual freq: '.' is not a number"},
        {"clock virtual freq 1e", "clock virtual freq: '1e' is not a number"},
        {"clock virtual freq 1..2", "clock virtual freq: '1..2' is not a number"},
    };
    (void)state;
    for (size_t i = 0; i < NELEM(cases); i++) {
        char want[256];
        if (!cases[i].err) {
            conf_free(parse_ok(cases[i].text));
            continue;
        }
        snprintf(want, sizeof(want), "t.conf:1: %s\n", cases[i].err);
        parse_bad(cases[i].text, want);
    }
}

static void test_port_and_lines(void **state)
{
    (void)state;
    struct conf *c = parse_ok("# first\n\nport 4123\n");
    assert_int_equal(c->port, 4123);
    assert_int_equal(c->port_line, 3);
    conf_free(c);

    c = parse_ok("port 0\nabuselog 0\nclientloglimit 8192\n");
    assert_int_equal(c->port, 0);
    assert_int_equal(c->abuselog_interval, 0);
    assert_int_equal(c->abuselog_line, 2);
    assert_int_equal(c->ratelimit.memory_limit, 8192);
    assert_int_equal(c->clientloglimit_line, 3);
    /* clientloglimit alone leaves the limiter as it was. */
    assert_int_equal(c->ratelimit.enabled, 1);
    assert_int_equal(c->ratelimit_line, 0);
    conf_free(c);
}

static void test_bindaddress(void **state)
{
    char text[2048];
    size_t len = 0;
    (void)state;

    struct conf *c = parse_ok("bindaddress 192.0.2.1\nbindaddress 2001:db8::1\n");
    assert_int_equal(c->n_bindaddrs, 2);
    assert_string_equal(c->bindaddrs[0].addr, "192.0.2.1");
    assert_int_equal(c->bindaddrs[0].line, 1);
    assert_string_equal(c->bindaddrs[1].addr, "2001:db8::1");
    assert_int_equal(c->bindaddrs[1].line, 2);
    conf_free(c);

    for (int i = 1; i <= 16; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "bindaddress 2001:db8::%x\n", i);
    c = parse_ok(text);
    assert_int_equal(c->n_bindaddrs, 16);
    assert_string_equal(c->bindaddrs[15].addr, "2001:db8::10");
    conf_free(c);
    snprintf(text + len, sizeof(text) - len, "bindaddress 192.0.2.99\n");
    parse_bad(text, "t.conf:17: bindaddress: too many addresses (at most 16)\n");

    parse_bad("bindaddress 192.0.2.1\nbindaddress ::ffff:192.0.2.1\n",
              "t.conf:2: bindaddress: ::ffff:192.0.2.1 already given at line 1\n");
    parse_bad("bindaddress 2001:db8::1\nbindaddress 2001:DB8:0::1\n",
              "t.conf:2: bindaddress: 2001:DB8:0::1 already given at line 1\n");
    parse_bad("bindaddress ntp.example.com\n",
              "t.conf:1: bindaddress: 'ntp.example.com' is not a numeric IPv4 or IPv6 address\n");
    parse_bad("bindaddress "
              "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001\n",
              "t.conf:1: bindaddress: "
              "'0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001' "
              "is not a numeric IPv4 or IPv6 address\n");
    parse_bad("bindaddress all\n",
              "t.conf:1: bindaddress: 'all' is not a numeric IPv4 or IPv6 address\n");
}

static void test_binddevice(void **state)
{
    static const char *const good[] = {"lo", "eth0", "enp0s31f6", "wg-office.1", "abcdefghijklmno"};
    static const char *const bad[] = {"abcdefghijklmnop", "a/b", "a:b", ".", ".."};
    char text[128], want[256];
    (void)state;

    for (size_t i = 0; i < NELEM(good); i++) {
        snprintf(text, sizeof(text), "\nbinddevice %s\n", good[i]);
        struct conf *c = parse_ok(text);
        assert_string_equal(c->binddevice, good[i]);
        assert_int_equal(c->binddevice_line, 2);
        conf_free(c);
    }
    for (size_t i = 0; i < NELEM(bad); i++) {
        snprintf(text, sizeof(text), "binddevice %s\n", bad[i]);
        snprintf(want, sizeof(want),
                 "t.conf:1: binddevice: '%s' is not an interface name (1..15 characters, no "
                 "'/', ':' or whitespace)\n",
                 bad[i]);
        parse_bad(text, want);
    }
}

static void test_acl(void **state)
{
    (void)state;
    struct conf *c = parse_ok("deny all\n"
                              "allow 192.0.2.0/24\n"
                              "# comment\n"
                              "deny 192.0.2.7\n"
                              "allow 2001:db8::/32\n"
                              "allow all\n"
                              "allow 192.0.2.1/24\n");
    static const struct {
        const char *spec;
        int allow;
        unsigned line;
    } want[] = {{"all", 0, 1},           {"192.0.2.0/24", 1, 2}, {"192.0.2.7", 0, 4},
                {"2001:db8::/32", 1, 5}, {"all", 1, 6},          {"192.0.2.1/24", 1, 7}};
    assert_int_equal(c->n_acl, NELEM(want));
    for (size_t i = 0; i < NELEM(want); i++) {
        assert_string_equal(c->acl[i].spec, want[i].spec);
        assert_int_equal(c->acl[i].allow, want[i].allow);
        assert_int_equal(c->acl[i].line, want[i].line);
    }
    conf_free(c);

    parse_bad("allow\n",
              "t.conf:1: allow: missing argument (write 'allow all' to serve every client)\n");
    parse_bad("deny\n", "t.conf:1: deny: missing argument (usage: deny all|ADDR|ADDR/PREFIX)\n");
    parse_bad("allow 192.0.2.0/24 192.0.2.1\n",
              "t.conf:1: allow: too many arguments (usage: allow all|ADDR|ADDR/PREFIX)\n");
    parse_bad("allow 192.0.2.0/33\n",
              "t.conf:1: allow: '192.0.2.0/33' is not 'all', an address or ADDR/PREFIX\n");
    parse_bad("deny *\n", "t.conf:1: deny: '*' is not 'all', an address or ADDR/PREFIX\n");
    parse_bad("allow 192.0.2.0/000000000000000000000000000000000000000000000000000000000000024\n",
              "t.conf:1: allow: "
              "'192.0.2.0/000000000000000000000000000000000000000000000000000000000000024' "
              "is not 'all', an address or ADDR/PREFIX\n");
}

static void test_ratelimit(void **state)
{
    (void)state;
    struct conf *c = parse_ok("\nratelimit kod leak 1 burst 32 interval -2\n");
    assert_int_equal(c->ratelimit.enabled, 1);
    assert_int_equal(c->ratelimit.interval, -2);
    assert_int_equal(c->ratelimit.burst, 32);
    assert_int_equal(c->ratelimit.leak, 1);
    assert_int_equal(c->ratelimit.kod, 1);
    assert_int_equal(c->ratelimit.memory_limit, 524288);
    assert_int_equal(c->ratelimit_line, 2);
    conf_free(c);

    /* Options not given keep their defaults. */
    c = parse_ok("ratelimit burst 2\n");
    assert_int_equal(c->ratelimit.interval, 3);
    assert_int_equal(c->ratelimit.burst, 2);
    assert_int_equal(c->ratelimit.leak, 2);
    assert_int_equal(c->ratelimit.kod, 0);
    conf_free(c);

    c = parse_ok("ratelimit off\nclientloglimit 65536\n");
    assert_int_equal(c->ratelimit.enabled, 0);
    assert_int_equal(c->ratelimit.memory_limit, 65536);
    assert_int_equal(c->ratelimit_line, 1);
    conf_free(c);

    c = parse_ok("ratelimit\n");
    assert_int_equal(c->ratelimit.enabled, 1);
    assert_int_equal(c->ratelimit.burst, 8);
    conf_free(c);

    parse_bad("ratelimit off off\n",
              "t.conf:1: ratelimit: 'off' cannot be combined with other options\n");
    parse_bad("ratelimit burst off\n",
              "t.conf:1: ratelimit: 'off' cannot be combined with other options\n");
    parse_bad("ratelimit kod kod\n", "t.conf:1: ratelimit: option 'kod' given twice\n");
    parse_bad("ratelimit burst\n", "t.conf:1: ratelimit: option 'burst' needs a value\n");
    parse_bad("ratelimit on\n",
              "t.conf:1: ratelimit: unknown option 'on' (expected interval, burst, leak or kod)\n");
    parse_bad("ratelimit interval 1 burst 2 leak 3 kod x\n",
              "t.conf:1: ratelimit: too many arguments (usage: ratelimit [interval N] [burst N] "
              "[leak N] [kod] | ratelimit off)\n");
    parse_bad("ratelimit burst 0 leak 9\n",
              "t.conf:1: ratelimit burst: 0 is out of range (1..255)\n"
              "t.conf:1: ratelimit leak: 9 is out of range (0..4)\n");
}

static void test_local_and_clock(void **state)
{
    (void)state;
    struct conf *c = parse_ok("local stratum 7\nclock virtual offset -2.5 freq 31.25\n");
    assert_int_equal(c->local_stratum, 7);
    assert_int_equal(c->local_line, 1);
    assert_int_equal(c->clock, CONF_CLOCK_VIRTUAL);
    assert_true(c->clock_offset == -2.5);
    assert_true(c->clock_freq_ppm == 31.25);
    assert_int_equal(c->clock_line, 2);
    assert_int_equal(c->local_orphan, 0);
    conf_free(c);
    /* the options in either order; orphan mode */
    c = parse_ok("local stratum 10 orphan delay 30\nbindacqaddress ::1\n"
                 "bindacqaddress 127.0.0.2\n");
    assert_int_equal(c->local_stratum, 10);
    assert_true(c->local_delay == 30.0);
    assert_int_equal(c->local_orphan, 1);
    assert_string_equal(c->acqaddr[0].addr, "127.0.0.2");
    assert_int_equal(c->acqaddr[0].line, 3);
    assert_string_equal(c->acqaddr[1].addr, "::1");
    conf_free(c);

    c = parse_ok("clock virtual\n");
    assert_int_equal(c->clock, CONF_CLOCK_VIRTUAL);
    assert_true(c->clock_offset == 0.0 && c->clock_freq_ppm == 0.0);
    conf_free(c);

    c = parse_ok("clock system\n");
    assert_int_equal(c->clock, CONF_CLOCK_SYSTEM);
    assert_int_equal(c->clock_line, 1);
    conf_free(c);

    parse_bad("local\n", "t.conf:1: local: missing argument (usage: local stratum N [delay SECONDS] [orphan])\n");
    parse_bad("local 10 stratum\n",
              "t.conf:1: local: unknown option '10' (usage: local stratum N [delay SECONDS] [orphan])\n");
    parse_bad("clock system freq 1\n", "t.conf:1: clock: options are only for 'clock virtual'\n");
    parse_bad("clock virtual freq 1 offset\n",
              "t.conf:1: clock virtual: option 'offset' needs a value\n");
    parse_bad("clock virtual phase 1\n",
              "t.conf:1: clock virtual: unknown option 'phase' (expected offset or freq)\n");
    parse_bad("clock kernel\n",
              "t.conf:1: clock: unknown value 'kernel' (expected system or virtual)\n");
}

static void test_files_user_log(void **state)
{
    (void)state;
    struct conf *c = parse_ok("pidfile /run/tempusd.pid\nuser _tempus\nlog stderr\n"
                              "loglevel warning\n");
    assert_string_equal(c->pidfile, "/run/tempusd.pid");
    assert_int_equal(c->pidfile_line, 1);
    assert_string_equal(c->user, "_tempus");
    assert_int_equal(c->user_line, 2);
    assert_int_equal(c->log_target, LOG_TO_STDERR);
    assert_int_equal(c->log_line, 3);
    assert_int_equal(c->log_level, LOG_LVL_WARN);
    assert_int_equal(c->loglevel_line, 4);
    conf_free(c);

    static const struct {
        const char *word;
        enum log_level level;
    } levels[] = {{"error", LOG_LVL_ERR},
                  {"warning", LOG_LVL_WARN},
                  {"notice", LOG_LVL_NOTICE},
                  {"info", LOG_LVL_INFO},
                  {"debug", LOG_LVL_DEBUG}};
    for (size_t i = 0; i < NELEM(levels); i++) {
        char text[64];
        snprintf(text, sizeof(text), "loglevel %s\nlog syslog\n", levels[i].word);
        c = parse_ok(text);
        assert_int_equal(c->log_level, levels[i].level);
        assert_int_equal(c->log_target, LOG_TO_SYSLOG);
        conf_free(c);
    }
    parse_bad("pidfile run/tempusd.pid\n",
              "t.conf:1: pidfile: 'run/tempusd.pid' is not an absolute path\n");
    parse_bad("user root:root\n", "t.conf:1: user: 'root:root' is not a valid user name\n");
    parse_bad("log console\n",
              "t.conf:1: log: unknown value 'console' (expected stderr or syslog)\n");
    parse_bad("loglevel err\n", "t.conf:1: loglevel: unknown value 'err' (expected error, "
                                "warning, notice, info or debug)\n");
}

/* Repeating a single-valued directive is an error, and the repeated line is
 * still checked on its own. */
static void test_duplicates(void **state)
{
    (void)state;
    parse_bad("port 1\nport 1\n", "t.conf:2: port: already set at line 1\n");
    parse_bad("port 1\n\nport x\n",
              "t.conf:3: port: already set at line 1\nt.conf:3: port: 'x' is not an integer\n");
    parse_bad("user a\npidfile /p\nuser b\npidfile /q\n",
              "t.conf:3: user: already set at line 1\nt.conf:4: pidfile: already set at line 2\n");
    /* A line with the wrong number of arguments does not count as set. */
    parse_bad("port\nport 5\n", "t.conf:1: port: missing argument (usage: port N)\n");
    struct conf *c = parse_ok("allow all\nallow all\ndeny all\ndeny all\n");
    assert_int_equal(c->n_acl, 4);
    conf_free(c);
}

static void test_tokenizer(void **state)
{
    (void)state;
    struct conf *c = parse_ok("  port\t\t 99  # trailing\r\n"
                              "\tallow\v192.0.2.0/24\f; trailing\r\n"
                              "user u ! trailing\n"
                              "#port 1\n"
                              ";port 2\n"
                              "!port 3\n"
                              "loglevel debug");
    assert_int_equal(c->port, 99);
    assert_int_equal(c->n_acl, 1);
    assert_string_equal(c->acl[0].spec, "192.0.2.0/24");
    assert_int_equal(c->acl[0].line, 2);
    assert_string_equal(c->user, "u");
    assert_int_equal(c->log_level, LOG_LVL_DEBUG);
    assert_int_equal(c->loglevel_line, 7);
    conf_free(c);

    parse_bad("port 1#2\n", "t.conf:1: port: '1#2' is not an integer\n");
    parse_bad("\x01\n", "t.conf:1: control character 0x01 in line\n");
    parse_bad("# \x1b[2J\n", "t.conf:1: control character 0x1b in line\n");
    parse_bad("port 1\x7f\n", "t.conf:1: control character 0x7f in line\n");
    /* UTF-8 is not a control character; in a comment it is fine. */
    c = parse_ok("# Zeitserver f\xc3\xbcr das B\xc3\xbcro\n");
    conf_free(c);
}

static void test_line_length(void **state)
{
    char line[1100];
    (void)state;

    /* 1024 characters pass (a comment padded out), 1025 do not. */
    memset(line, 'x', sizeof(line));
    memcpy(line, "port 7 #", 8);
    line[1024] = '\n';
    line[1025] = '\0';
    struct conf *c = parse_ok(line);
    assert_int_equal(c->port, 7);
    conf_free(c);

    line[1024] = 'x';
    line[1025] = '\n';
    line[1026] = '\0';
    parse_bad(line, "t.conf:1: line too long (more than 1024 characters)\n");

    /* Parsing goes on after the long line, with the right line numbers. */
    char *text = NULL;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    fprintf(f, "port 1\n%s%sport 2\nabuselog x\n", line, line);
    fclose(f);
    parse_bad(text, "t.conf:2: line too long (more than 1024 characters)\n"
                    "t.conf:3: line too long (more than 1024 characters)\n"
                    "t.conf:4: port: already set at line 1\n"
                    "t.conf:5: abuselog: 'x' is not an integer\n");
    free(text);
}

static void test_error_limit(void **state)
{
    char *text = NULL, *err;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    (void)state;

    for (int i = 0; i < 250; i++)
        fprintf(f, "nonsense %d\n", i);
    fclose(f);
    assert_null(parse(text, &err));
    unsigned lines = 0;
    for (char *s = err; *s; s++)
        lines += *s == '\n';
    assert_int_equal(lines, 101);
    assert_non_null(strstr(err, "t.conf:100: unknown directive 'nonsense'\n"
                                "t.conf:100: too many errors, giving up\n"));
    assert_null(strstr(err, "t.conf:101:"));
    free(err);
    free(text);
}

static void test_load_errors(void **state)
{
    char *err;
    size_t len;
    char path[] = "/tmp/test_conf_XXXXXX";
    (void)state;

    FILE *f = open_memstream(&err, &len);
    assert_null(conf_load("tests/conf/does-not-exist.conf", f));
    fclose(f);
    assert_string_equal(err, "tests/conf/does-not-exist.conf: cannot open: No such file or "
                             "directory\n");
    free(err);

    f = open_memstream(&err, &len);
    assert_null(conf_load("/", f));
    fclose(f);
    assert_string_equal(err, "/: refusing to read it: a directory\n");
    free(err);

    /* A NUL byte in a file is refused, the line after it still parsed. */
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "port 1\nuser a\0b\nport x\n", 23), 23);
    close(fd);
    f = open_memstream(&err, &len);
    assert_null(conf_load(path, f));
    fclose(f);
    char want[256];
    snprintf(want, sizeof(want),
             "%s:2: control character 0x00 in line\n%s:3: port: already set at line 1\n"
             "%s:3: port: 'x' is not an integer\n",
             path, path, path);
    assert_string_equal(err, want);
    free(err);

    /* errs may be NULL: the result alone says whether the file is good. */
    assert_null(conf_load(path, NULL));
    assert_null(conf_parse_string("x", "port x\n", NULL));
    unlink(path);
}

/* conf_load's message for path, with the alarm as a bound: a FIFO used
 * to block open() for ever, /dev/zero to be read until memory ran out. */
static char *load_message(const char *path)
{
    char *err;
    size_t len;
    FILE *f = open_memstream(&err, &len);
    alarm(10);
    assert_null(conf_load(path, f));
    alarm(0);
    fclose(f);
    return err;
}

static void test_load_refuses_special_files(void **state)
{
    char dir[] = "/tmp/test_conf_XXXXXX", p[300], want[400];
    char *err;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof(p), "%s/fifo.conf", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    err = load_message(p);
    snprintf(want, sizeof(want), "%s: refusing to read it: a FIFO\n", p);
    assert_string_equal(err, want);
    free(err);
    unlink(p);

    snprintf(p, sizeof(p), "%s/zero.conf", dir);
    assert_int_equal(symlink("/dev/zero", p), 0);
    err = load_message(p);
    snprintf(want, sizeof(want), "%s: refusing to read it: a character device\n", p);
    assert_string_equal(err, want);
    free(err);
    unlink(p);

    /* A sparse file one byte over the cap: refused before it is read. */
    snprintf(p, sizeof(p), "%s/big.conf", dir);
    int fd = open(p, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, CONF_FILE_MAX + 1), 0);
    close(fd);
    err = load_message(p);
    snprintf(want, sizeof(want), "%s: refusing to read it: larger than %s\n", p,
             CONF_FILE_MAX_TEXT);
    assert_string_equal(err, want);
    free(err);
    unlink(p);
    rmdir(dir);
}

/* Every tests/conf/bad-NN.conf gives exactly bad-NN.out. */
static void test_golden_bad(void **state)
{
    glob_t g;
    int failed = 0;
    (void)state;

    if (glob("tests/conf/bad-*.conf", 0, NULL, &g) != 0)
        fail_msg("no tests/conf/bad-*.conf found: run from the repository root");
    assert_true(g.gl_pathc >= 12);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *conf_path = g.gl_pathv[i];
        char out_path[512], *got;
        size_t len;
        snprintf(out_path, sizeof(out_path), "%.*s.out", (int)(strlen(conf_path) - 5), conf_path);
        char *want = read_file(out_path);
        FILE *f = open_memstream(&got, &len);
        struct conf *c = conf_load(conf_path, f);
        fclose(f);
        if (c || strcmp(got, want) != 0) {
            print_error("%s: %s\n--- want:\n%s--- got:\n%s", conf_path,
                        c ? "accepted" : "wrong messages", want, got);
            failed++;
        }
        /* A golden file must fail for its own reasons, not for missing data. */
        if (want[0] == '\0')
            failed++;
        conf_free(c);
        free(want);
        free(got);
    }
    globfree(&g);
    assert_int_equal(failed, 0);
}

static void check_good01(const struct conf *c)
{
    check_defaults(c);
}

static void check_good02(const struct conf *c)
{
    assert_int_equal(c->port, 123);
    assert_int_equal(c->port_line, 3);
    assert_int_equal(c->n_bindaddrs, 2);
    assert_string_equal(c->bindaddrs[0].addr, "192.0.2.10");
    assert_string_equal(c->bindaddrs[1].addr, "2001:db8::10");
    assert_int_equal(c->n_acl, 3);
    assert_string_equal(c->acl[0].spec, "192.0.2.0/24");
    assert_int_equal(c->acl[0].allow, 1);
    assert_string_equal(c->acl[1].spec, "2001:db8::/32");
    assert_string_equal(c->acl[2].spec, "192.0.2.128/25");
    assert_int_equal(c->acl[2].allow, 0);
    assert_int_equal(c->acl[2].line, 10);
    assert_int_equal(c->ratelimit.enabled, 1);
    assert_int_equal(c->ratelimit.interval, 2);
    assert_int_equal(c->ratelimit.burst, 16);
    assert_int_equal(c->ratelimit.leak, 3);
    assert_int_equal(c->ratelimit.kod, 1);
    assert_int_equal(c->ratelimit.memory_limit, 1048576);
    assert_int_equal(c->local_stratum, 10);
    assert_int_equal(c->clock, CONF_CLOCK_SYSTEM);
    assert_string_equal(c->pidfile, "/run/tempusd.pid");
    assert_string_equal(c->user, "_tempus");
    assert_int_equal(c->user_line, 17);
    assert_int_equal(c->log_target, LOG_TO_SYSLOG);
    assert_int_equal(c->log_level, LOG_LVL_NOTICE);
    assert_int_equal(c->abuselog_interval, 300);
}

static void check_good03(const struct conf *c)
{
    assert_int_equal(c->port, 1123);
    assert_string_equal(c->binddevice, "eth0");
    assert_int_equal(c->binddevice_line, 4);
    assert_int_equal(c->n_acl, 2);
    assert_string_equal(c->acl[0].spec, "all");
    assert_string_equal(c->acl[1].spec, "2001:db8:1::/48");
    assert_int_equal(c->acl[1].allow, 0);
    assert_int_equal(c->ratelimit.interval, -1);
    assert_int_equal(c->ratelimit.burst, 8);
    assert_int_equal(c->ratelimit.leak, 0);
    assert_int_equal(c->ratelimit.kod, 1);
    assert_int_equal(c->ratelimit.memory_limit, 4096);
    assert_int_equal(c->local_stratum, 3);
    assert_int_equal(c->clock, CONF_CLOCK_VIRTUAL);
    assert_true(c->clock_offset == 0.25);
    assert_true(c->clock_freq_ppm == -12.5);
    assert_string_equal(c->pidfile, "/var/run/tempus/tempusd.pid");
    assert_string_equal(c->user, "ntp");
    assert_int_equal(c->log_target, LOG_TO_STDERR);
    assert_int_equal(c->log_level, LOG_LVL_DEBUG);
    assert_int_equal(c->abuselog_interval, 0);
    assert_int_equal(c->abuselog_line, 15);
}

static void check_good04(const struct conf *c)
{
    assert_int_equal(c->port, 65535);
    assert_int_equal(c->ratelimit.burst, 255);
    assert_int_equal(c->ratelimit.interval, 12);
    assert_int_equal(c->ratelimit.leak, 4);
    assert_int_equal(c->ratelimit.kod, 0);
    assert_int_equal(c->ratelimit.memory_limit, 1073741824);
    assert_int_equal(c->local_stratum, 15);
    assert_true(c->clock_offset == -1e9);
    assert_true(c->clock_freq_ppm == 100000);
    assert_int_equal(c->abuselog_interval, 86400);
    assert_string_equal(c->binddevice, "abcdefghijklmno");
    assert_string_equal(c->user, "abcdefghijklmnopqrstuvwxyz012345");
}

static void check_good05(const struct conf *c)
{
    assert_int_equal(c->port, 0);
    assert_int_equal(c->ratelimit.enabled, 0);
    assert_int_equal(c->clock, CONF_CLOCK_SYSTEM);
    assert_int_equal(c->clock_line, 5);
    assert_int_equal(c->local_stratum, 1);
    assert_int_equal(c->n_bindaddrs, 16);
    assert_string_equal(c->bindaddrs[0].addr, "192.0.2.1");
    assert_string_equal(c->bindaddrs[15].addr, "2001:db8::8");
    assert_int_equal(c->bindaddrs[15].line, 22);
    assert_int_equal(c->n_acl, 4);
    assert_string_equal(c->acl[0].spec, "all");
    assert_int_equal(c->acl[0].allow, 0);
    assert_string_equal(c->acl[2].spec, "::ffff:192.0.2.0/120");
    assert_int_equal(c->log_level, LOG_LVL_ERR);
}

static void check_good06(const struct conf *c)
{
    assert_int_equal(c->port, 0);
    assert_int_equal(c->ratelimit.interval, -4);
    assert_int_equal(c->ratelimit.burst, 1);
    assert_int_equal(c->ratelimit.leak, 0);
    assert_int_equal(c->ratelimit.memory_limit, 4096);
    assert_int_equal(c->clock, CONF_CLOCK_VIRTUAL);
    assert_true(c->clock_offset == -0.000001);
    assert_true(c->clock_freq_ppm == -100000);
    assert_int_equal(c->local_stratum, 1);
    assert_int_equal(c->abuselog_interval, 0);
    assert_int_equal(c->log_level, LOG_LVL_WARN);
    assert_string_equal(c->binddevice, "a");
    assert_int_equal(c->n_acl, 2);
    assert_string_equal(c->acl[1].spec, "::/0");
}

static const struct {
    const char *path;
    void (*check)(const struct conf *c);
} good_files[] = {
    {"tests/conf/good-01.conf", check_good01}, {"tests/conf/good-02.conf", check_good02},
    {"tests/conf/good-03.conf", check_good03}, {"tests/conf/good-04.conf", check_good04},
    {"tests/conf/good-05.conf", check_good05}, {"tests/conf/good-06.conf", check_good06},
};

/* Every good-NN.conf loads without a message and has its expectation. */
static void test_golden_good(void **state)
{
    glob_t g;
    (void)state;

    if (glob("tests/conf/good-*.conf", 0, NULL, &g) != 0)
        fail_msg("no tests/conf/good-*.conf found: run from the repository root");
    assert_int_equal(g.gl_pathc, NELEM(good_files));
    for (size_t i = 0; i < g.gl_pathc; i++)
        assert_string_equal(g.gl_pathv[i], good_files[i].path);
    globfree(&g);

    for (size_t i = 0; i < NELEM(good_files); i++) {
        char *err;
        size_t len;
        FILE *f = open_memstream(&err, &len);
        struct conf *c = conf_load(good_files[i].path, f);
        fclose(f);
        if (!c || err[0])
            print_error("%s:\n%s", good_files[i].path, err);
        assert_non_null(c);
        assert_string_equal(err, "");
        assert_string_equal(c->path, good_files[i].path);
        good_files[i].check(c);
        conf_free(c);
        free(err);
    }
}

/* The example configuration in tempus.conf(5) must stay valid. */
static void test_manpage_example(void **state)
{
    (void)state;
    char *page = read_file("doc/tempus.conf.5");
    char *start = strstr(page, "\n.SH EXAMPLES\n");
    assert_non_null(start);
    start = strstr(start, "\n.nf\n");
    assert_non_null(start);
    start += 5;
    char *end = strstr(start, "\n.fi\n");
    assert_non_null(end);
    end[1] = '\0';
    assert_null(strchr(start, '\\')); /* no roff escapes to undo */
    struct conf *c = parse_ok(start);
    assert_int_equal(c->n_bindaddrs, 2);
    assert_int_equal(c->n_acl, 3);
    assert_int_equal(c->acl[2].allow, 0);
    assert_int_equal(c->ratelimit.kod, 1);
    assert_int_equal(c->local_stratum, 10);
    conf_free(c);
    free(page);
}

/* Randomized tests: xorshift64* so that a seed replays the same run. */
static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned rnd(unsigned n)
{
    return (unsigned)(rng() % n);
}

/* The run's seed, chosen and printed once; each randomized test mixes in
 * its own constant so that it can be replayed alone. */
static uint64_t seed_from_env(uint64_t salt)
{
    static uint64_t seed;
    static int chosen;

    if (!chosen) {
        const char *s = getenv("TEMPUS_SEED");
        seed = s ? strtoull(s, NULL, 0) : 20240601; /* fixed: CI runs repeat */
        fprintf(stderr, "test_conf: seed %llu (set TEMPUS_SEED to repeat)\n",
                (unsigned long long)seed);
        chosen = 1;
    }
    return (seed ^ salt) ? seed ^ salt : 1;
}

/* clang-format off */
static const char *const vocab[] = {
    "port", "bindaddress", "binddevice", "allow", "deny", "ratelimit", "clientloglimit", "local",
    "clock", "pidfile", "user", "log", "loglevel", "abuselog", "interval", "burst", "leak", "kod",
    "off", "stratum", "system", "virtual", "offset", "freq", "all", "stderr", "syslog", "debug",
    "info", "0", "1", "-1", "15", "123", "65535", "65536", "4096", "1e9", "-1e9", "1e400", "nan",
    "0x10", "99999999999999999999", "-4", "255", "192.0.2.1", "2001:db8::1", "192.0.2.0/24",
    "::/0", "::ffff:192.0.2.1", "/run/x.pid", "eth0", "#", "; c", "!", "x", "/", ":", ".5",
};
/* clang-format on */

/* Append one random token: a word from vocab or random bytes. */
static void random_token(FILE *f)
{
    if (rnd(4) != 0) {
        fputs(vocab[rnd(NELEM(vocab))], f);
        return;
    }
    unsigned n = rnd(12);
    for (unsigned i = 0; i < n; i++) {
        int ch = 1 + (int)rnd(255);
        if (ch == '\n') /* lines are the caller's business */
            ch = 'n';
        putc(ch, f);
    }
}

static char *random_text(unsigned *nlines)
{
    static const char *const ws[] = {" ", "\t", "  ", " \r", "\v"};
    char *text = NULL;
    size_t len;
    FILE *f = open_memstream(&text, &len);

    *nlines = rnd(12);
    for (unsigned l = 0; l < *nlines; l++) {
        if (rnd(40) == 0) {
            unsigned n = 1000 + rnd(60);
            for (unsigned i = 0; i < n; i++)
                putc('a' + (int)rnd(26), f);
        }
        for (unsigned t = rnd(9); t > 0; t--) {
            random_token(f);
            fputs(ws[rnd(NELEM(ws))], f);
        }
        if (l + 1 < *nlines || rnd(2))
            putc('\n', f);
    }
    fclose(f);
    return text;
}

/* What must hold for any accepted config. */
static void check_invariants(const struct conf *c)
{
    struct netsubnet sn;
    struct netaddr a;

    assert_true(c->n_bindaddrs <= 16);
    for (unsigned i = 0; i < c->n_bindaddrs; i++)
        assert_int_equal(addr_parse(c->bindaddrs[i].addr, &a), 0);
    for (unsigned i = 0; i < c->n_acl; i++)
        assert_true(strcmp(c->acl[i].spec, "all") == 0 ||
                    addr_parse_subnet(c->acl[i].spec, &sn) == 0);
    assert_true(strlen(c->binddevice) <= 15);
    assert_true(c->ratelimit.interval >= -4 && c->ratelimit.interval <= 12);
    assert_true(c->ratelimit.burst >= 1 && c->ratelimit.burst <= 255);
    assert_true(c->ratelimit.leak >= 0 && c->ratelimit.leak <= 4);
    assert_true(c->ratelimit.memory_limit >= 4096 && c->ratelimit.memory_limit <= 1073741824);
    assert_true(c->local_stratum >= 0 && c->local_stratum <= 15);
    assert_true(c->clock_offset >= -1e9 && c->clock_offset <= 1e9);
    assert_true(c->clock_freq_ppm >= -1e5 && c->clock_freq_ppm <= 1e5);
    assert_true(c->abuselog_interval <= 86400);
    assert_true(!c->pidfile || c->pidfile[0] == '/');
}

/* Each message is one "t.conf:LINE: text" line with LINE in the input. */
static void check_messages(const char *err, unsigned nlines)
{
    for (const char *s = err; *s;) {
        const char *nl = strchr(s, '\n');
        char *end;
        assert_non_null(nl);
        assert_memory_equal(s, "t.conf:", 7);
        unsigned long line = strtoul(s + 7, &end, 10);
        assert_true(line >= 1 && line <= nlines + 1);
        assert_memory_equal(end, ": ", 2);
        for (const char *p = s; p < nl; p++)
            assert_false((unsigned char)*p < 0x20 && *p != '\t');
        s = nl + 1;
    }
}

static void test_random_garbage(void **state)
{
    unsigned accepted = 0, rejected = 0;
    (void)state;

    rng_state = seed_from_env(0);
    for (int iter = 0; iter < 20000; iter++) {
        unsigned nlines;
        char *err, *text = random_text(&nlines);
        struct conf *c = parse(text, &err);
        if ((c == NULL) != (err[0] != '\0'))
            print_error("result and messages disagree for:\n%s\n---\n%s", text, err);
        assert_true((c == NULL) == (err[0] != '\0'));
        check_messages(err, nlines);
        if (c) {
            check_invariants(c);
            accepted++;
        } else {
            rejected++;
        }
        conf_free(c);
        free(err);
        free(text);
    }
    print_message("random garbage: %u accepted, %u rejected\n", accepted, rejected);
    assert_true(accepted > 0 && rejected > 0);
}

/* Random valid configs: directives in random order with random values in
 * range, random spacing and comments; the parse must give what was written. */
enum kind {
    K_PORT,
    K_BINDDEVICE,
    K_RATELIMIT,
    K_CLIENTLOGLIMIT,
    K_LOCAL,
    K_CLOCK,
    K_PIDFILE,
    K_USER,
    K_LOG,
    K_LOGLEVEL,
    K_ABUSELOG,
    K_NSINGLE,
    K_ALLOW = K_NSINGLE,
    K_DENY,
    K_BINDADDRESS
};

struct expect {
    struct conf c; /* scalar fields and *_line; pointers unused */
    struct conf_acl_rule acl[12];
    struct conf_bindaddr bind[16];
    char pidfile[32], user[32];
};

static const char *sep(void)
{
    static const char *const ws[] = {" ", "  ", "\t", " \t "};
    return ws[rnd(NELEM(ws))];
}

static long rnd_range(long lo, long hi)
{
    return lo + (long)rnd((unsigned)(hi - lo + 1));
}

static double rnd_double(double max)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%.17g", ((double)(rng() >> 11) / 9007199254740992.0 * 2 - 1) * max);
    return strtod(buf, NULL);
}

static void emit_ratelimit(FILE *f, struct expect *e)
{
    static const char *const names[] = {"interval", "burst", "leak", "kod"};
    static const long lo[] = {-4, 1, 0}, hi[] = {12, 255, 4};
    int order[] = {0, 1, 2, 3};
    struct ratelimit_params *rl = &e->c.ratelimit;

    fputs("ratelimit", f);
    if (rnd(4) == 0) {
        fprintf(f, "%soff", sep());
        rl->enabled = 0;
        return;
    }
    for (int i = 3; i > 0; i--) {
        int j = (int)rnd((unsigned)i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int i = 0; i < 4; i++) {
        int o = order[i];
        if (rnd(2))
            continue;
        fprintf(f, "%s%s", sep(), names[o]);
        if (o == 3) {
            rl->kod = 1;
            continue;
        }
        long v = rnd_range(lo[o], hi[o]);
        fprintf(f, "%s%ld", sep(), v);
        *(o == 0 ? &rl->interval : o == 1 ? &rl->burst : &rl->leak) = (int)v;
    }
}

static void emit_clock(FILE *f, struct expect *e)
{
    if (rnd(3) == 0) {
        fprintf(f, "clock%ssystem", sep());
        e->c.clock = CONF_CLOCK_SYSTEM;
        return;
    }
    fprintf(f, "clock%svirtual", sep());
    e->c.clock = CONF_CLOCK_VIRTUAL;
    int first = (int)rnd(2);
    for (int i = 0; i < 2; i++) {
        int o = i ^ first;
        if (rnd(3) == 0)
            continue;
        double v = rnd_double(o == 0 ? 1e9 : 1e5);
        fprintf(f, "%s%s%s%.17g", sep(), o == 0 ? "offset" : "freq", sep(), v);
        *(o == 0 ? &e->c.clock_offset : &e->c.clock_freq_ppm) = v;
    }
}

static void emit_single(FILE *f, enum kind k, unsigned line, struct expect *e)
{
    static const char *const levels[] = {"error", "warning", "notice", "info", "debug"};
    struct conf *c = &e->c;
    long v;

    switch (k) {
    case K_PORT:
        fprintf(f, "port%s%ld", sep(), v = rnd_range(0, 65535));
        c->port = (uint16_t)v, c->port_line = line;
        break;
    case K_BINDDEVICE:
        snprintf(c->binddevice, sizeof(c->binddevice), "if%u", rnd(100000));
        fprintf(f, "binddevice%s%s", sep(), c->binddevice);
        c->binddevice_line = line;
        break;
    case K_RATELIMIT:
        emit_ratelimit(f, e);
        c->ratelimit_line = line;
        break;
    case K_CLIENTLOGLIMIT:
        fprintf(f, "clientloglimit%s%ld", sep(), v = rnd_range(4096, 1073741824L));
        c->ratelimit.memory_limit = (size_t)v, c->clientloglimit_line = line;
        break;
    case K_LOCAL:
        fprintf(f, "local%sstratum%s%ld", sep(), sep(), v = rnd_range(1, 15));
        c->local_stratum = (int)v, c->local_line = line;
        break;
    case K_CLOCK:
        emit_clock(f, e);
        c->clock_line = line;
        break;
    case K_PIDFILE:
        snprintf(e->pidfile, sizeof(e->pidfile), "/run/t%u.pid", rnd(1000));
        fprintf(f, "pidfile%s%s", sep(), e->pidfile);
        c->pidfile_line = line;
        break;
    case K_USER:
        snprintf(e->user, sizeof(e->user), "_u%u", rnd(1000));
        fprintf(f, "user%s%s", sep(), e->user);
        c->user_line = line;
        break;
    case K_LOG:
        c->log_target = rnd(2) ? LOG_TO_STDERR : LOG_TO_SYSLOG;
        fprintf(f, "log%s%s", sep(), c->log_target == LOG_TO_STDERR ? "stderr" : "syslog");
        c->log_line = line;
        break;
    case K_LOGLEVEL:
        v = rnd_range(0, 4);
        fprintf(f, "loglevel%s%s", sep(), levels[v]);
        c->log_level = (enum log_level)v, c->loglevel_line = line;
        break;
    case K_ABUSELOG:
        fprintf(f, "abuselog%s%ld", sep(), v = rnd_range(0, 86400));
        c->abuselog_interval = (unsigned)v, c->abuselog_line = line;
        break;
    default:
        fail();
    }
}

static void emit_multi(FILE *f, enum kind k, unsigned line, unsigned id, struct expect *e)
{
    if (k == K_BINDADDRESS) {
        struct conf_bindaddr *b = &e->bind[e->c.n_bindaddrs++];
        if (id % 2)
            snprintf(b->addr, sizeof(b->addr), "192.0.2.%u", id);
        else
            snprintf(b->addr, sizeof(b->addr), "2001:db8::%x", id);
        b->line = line;
        fprintf(f, "bindaddress%s%s", sep(), b->addr);
        return;
    }
    struct conf_acl_rule *r = &e->acl[e->c.n_acl++];
    unsigned form = rnd(4);
    if (form == 0)
        snprintf(r->spec, sizeof(r->spec), "all");
    else if (form == 1)
        snprintf(r->spec, sizeof(r->spec), "192.0.2.%u/%u", rnd(256), 24 + rnd(9));
    else if (form == 2)
        snprintf(r->spec, sizeof(r->spec), "2001:db8:%x::/%u", rnd(65536), rnd(129));
    else
        snprintf(r->spec, sizeof(r->spec), "198.51.100.%u", rnd(256));
    r->allow = k == K_ALLOW;
    r->line = line;
    fprintf(f, "%s%s%s", k == K_ALLOW ? "allow" : "deny", sep(), r->spec);
}

/* Kinds of the lines to write, shuffled; returns how many. */
static unsigned random_kinds(enum kind *kinds)
{
    unsigned n = 0, nacl = rnd(13), nbind = rnd(17);

    for (int k = 0; k < K_NSINGLE; k++)
        if (rnd(2))
            kinds[n++] = (enum kind)k;
    for (unsigned i = 0; i < nacl; i++)
        kinds[n++] = rnd(2) ? K_ALLOW : K_DENY;
    for (unsigned i = 0; i < nbind; i++)
        kinds[n++] = K_BINDADDRESS;
    for (unsigned i = n; i > 1; i--) {
        unsigned j = rnd(i);
        enum kind t = kinds[i - 1];
        kinds[i - 1] = kinds[j];
        kinds[j] = t;
    }
    return n;
}

static char *random_valid(struct expect *e)
{
    static const char *const comments[] = {"# c", "; c", "! c", "#", "#port 1 # x"};
    enum kind kinds[K_NSINGLE + 12 + 16];
    unsigned n = random_kinds(kinds), line = 0, ids[40], nid = 0;
    char *text = NULL;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    struct conf *d = conf_defaults();

    memset(e, 0, sizeof(*e));
    e->c = *d;
    conf_free(d);
    for (unsigned i = 0; i < 40; i++)
        ids[i] = i + 1;
    for (unsigned i = 0; i < n; i++) {
        while (rnd(4) == 0) {
            fprintf(f, "%s%s\n", rnd(2) ? "" : sep(), rnd(2) ? comments[rnd(NELEM(comments))] : "");
            line++;
        }
        if (rnd(3) == 0)
            fputs(sep(), f);
        line++;
        if (kinds[i] < K_NSINGLE) {
            emit_single(f, kinds[i], line, e);
        } else {
            unsigned j = nid + rnd(40 - nid), id = ids[j];
            ids[j] = ids[nid];
            ids[nid++] = id; /* distinct ids give distinct addresses */
            emit_multi(f, kinds[i], line, id, e);
        }
        if (rnd(3) == 0)
            fprintf(f, "%s%s", sep(), comments[rnd(NELEM(comments))]);
        fputs(rnd(8) ? "\n" : "\r\n", f);
    }
    fclose(f);
    return text;
}

static void check_expect(const struct conf *c, const struct expect *e)
{
    const struct conf *w = &e->c;

    assert_int_equal(c->port, w->port);
    assert_int_equal(c->port_line, w->port_line);
    assert_string_equal(c->binddevice, w->binddevice);
    assert_int_equal(c->binddevice_line, w->binddevice_line);
    assert_memory_equal(&c->ratelimit, &w->ratelimit, sizeof(c->ratelimit));
    assert_int_equal(c->ratelimit_line, w->ratelimit_line);
    assert_int_equal(c->clientloglimit_line, w->clientloglimit_line);
    assert_int_equal(c->local_stratum, w->local_stratum);
    assert_int_equal(c->local_line, w->local_line);
    assert_int_equal(c->clock, w->clock);
    assert_true(c->clock_offset == w->clock_offset);
    assert_true(c->clock_freq_ppm == w->clock_freq_ppm);
    assert_int_equal(c->clock_line, w->clock_line);
    assert_string_equal(c->pidfile ? c->pidfile : "", e->pidfile);
    assert_int_equal(c->pidfile_line, w->pidfile_line);
    assert_string_equal(c->user ? c->user : "", e->user);
    assert_int_equal(c->user_line, w->user_line);
    assert_int_equal(c->log_target, w->log_target);
    assert_int_equal(c->log_line, w->log_line);
    assert_int_equal(c->log_level, w->log_level);
    assert_int_equal(c->loglevel_line, w->loglevel_line);
    assert_int_equal(c->abuselog_interval, w->abuselog_interval);
    assert_int_equal(c->abuselog_line, w->abuselog_line);
    assert_int_equal(c->n_acl, w->n_acl);
    for (unsigned i = 0; i < c->n_acl; i++) {
        assert_string_equal(c->acl[i].spec, e->acl[i].spec);
        assert_int_equal(c->acl[i].allow, e->acl[i].allow);
        assert_int_equal(c->acl[i].line, e->acl[i].line);
    }
    assert_int_equal(c->n_bindaddrs, w->n_bindaddrs);
    for (unsigned i = 0; i < c->n_bindaddrs; i++) {
        assert_string_equal(c->bindaddrs[i].addr, e->bind[i].addr);
        assert_int_equal(c->bindaddrs[i].line, e->bind[i].line);
    }
}

static void test_random_valid(void **state)
{
    struct expect e;
    (void)state;

    rng_state = seed_from_env(0x5bd1e995);
    for (int iter = 0; iter < 5000; iter++) {
        char *err, *text = random_valid(&e);
        struct conf *c = parse(text, &err);
        if (!c || err[0])
            print_error("valid config refused:\n%s\n---\n%s", text, err);
        assert_non_null(c);
        check_expect(c, &e);
        check_invariants(c);
        conf_free(c);
        free(err);
        free(text);
    }
}

/* Random bytes, NUL included, through conf_load. */
static void test_random_files(void **state)
{
    char path[] = "/tmp/test_conf_XXXXXX";
    unsigned char buf[512] = {0};
    (void)state;

    rng_state = seed_from_env(0x9e3779b9);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (int iter = 0; iter < 500; iter++) {
        size_t n = rnd(sizeof(buf));
        for (size_t i = 0; i < n; i++)
            buf[i] = rnd(4) ? (unsigned char)("port 1\nallow all\n#;x"[rnd(21)])
                            : (unsigned char)rnd(256);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, n, f), n);
        fclose(f);
        char *err;
        size_t len;
        FILE *errs = open_memstream(&err, &len);
        struct conf *c = conf_load(path, errs);
        fclose(errs);
        assert_true((c == NULL) == (err[0] != '\0'));
        if (c)
            check_invariants(c);
        conf_free(c);
        free(err);
    }
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_directive_known),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_port_and_lines),
        cmocka_unit_test(test_bindaddress),
        cmocka_unit_test(test_binddevice),
        cmocka_unit_test(test_acl),
        cmocka_unit_test(test_ratelimit),
        cmocka_unit_test(test_local_and_clock),
        cmocka_unit_test(test_files_user_log),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_tokenizer),
        cmocka_unit_test(test_line_length),
        cmocka_unit_test(test_error_limit),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_refuses_special_files),
        cmocka_unit_test(test_golden_bad),
        cmocka_unit_test(test_golden_good),
        cmocka_unit_test(test_manpage_example),
        cmocka_unit_test(test_random_garbage),
        cmocka_unit_test(test_random_valid),
        cmocka_unit_test(test_random_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
