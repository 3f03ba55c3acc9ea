/* SPDX-License-Identifier: ISC */
/* Unit tests for the upstream and discipline directives (conf_upstream.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

#include "conf_test.h"

static void test_defaults(void **state)
{
    (void)state;
    struct conf *c = parse_ok("");
    assert_int_equal(c->n_servers, 0);
    assert_int_equal(c->minsources, 1);
    assert_true(c->makestep_threshold == 0.0);
    assert_true(c->maxchange == 0.0);
    assert_true(c->maxslewrate == 20000.0);
    assert_true(c->maxdistance == 1.5);
    assert_null(c->driftfile);
    assert_true(c->local_delay == 0.0);
    conf_free(c);
}

static void test_server_options(void **state)
{
    (void)state;
    struct conf *c = parse_ok("server 127.0.0.1 port 11123 iburst minpoll 2 maxpoll 4 prefer\n"
                              "server ntp1.example.internal noselect\n"
                              "pool pool.example.internal maxsources 3 iburst\n");
    assert_int_equal(c->n_servers, 3);
    const struct conf_server *s = &c->servers[0];
    assert_string_equal(s->host, "127.0.0.1");
    assert_int_equal(s->port, 11123);
    assert_true(s->iburst && s->prefer && !s->noselect && !s->pool);
    assert_int_equal(s->minpoll, 2);
    assert_int_equal(s->maxpoll, 4);
    assert_int_equal(s->line, 1);
    s = &c->servers[1];
    assert_int_equal(s->port, 123);
    assert_int_equal(s->minpoll, 6);
    assert_int_equal(s->maxpoll, 8);
    assert_true(s->noselect && !s->iburst);
    s = &c->servers[2];
    assert_true(s->pool && s->iburst);
    assert_int_equal(s->maxsources, 3);
    assert_int_equal(s->line, 3);
    conf_free(c);
}

static void test_server_errors(void **state)
{
    (void)state;
    parse_bad("server\n", "t.conf:1: server: missing argument (usage: server HOST [port N] "
                          "[iburst] [minpoll N] [maxpoll N] [prefer] [noselect] [key ID] "
                          "[nts [ntsport N]])\n");
    parse_bad("server a;b\n", "t.conf:1: server: 'a;b' is not a host name or address\n");
    parse_bad("server x$y\n", "t.conf:1: server: 'x$y' is not a host name or address\n");
    parse_bad("server -x\n", "t.conf:1: server: '-x' is not a host name or address\n");
    parse_bad("server h port 0\n", "t.conf:1: port: 0 is out of range (1..65535)\n");
    parse_bad("server h minpoll 18\n", "t.conf:1: minpoll: 18 is out of range (-4..17)\n");
    parse_bad("server h minpoll 8 maxpoll 6\n",
              "t.conf:1: server: maxpoll 6 is below minpoll 8\n");
    parse_bad("server h maxsources 2\n",
              "t.conf:1: server: unknown option 'maxsources' (expected port, iburst, minpoll, "
              "maxpoll, prefer, noselect, key, nts or ntsport)\n");
    parse_bad("server h key 0\n", "t.conf:1: key: 0 is out of range (1..4294967295)\n");
    parse_bad("server h iburst iburst\n", "t.conf:1: server: option 'iburst' given twice\n");
    parse_bad("pool p maxsources 17\n", "t.conf:1: maxsources: 17 is out of range (1..16)\n");
    parse_bad("server h port\n", "t.conf:1: server: option 'port' needs a value\n");
}

/* nts [ntsport N] on server and pool; ntstrustedcerts FILE|DIR. */
static void test_nts_options(void **state)
{
    char dir[] = "/tmp/tempus-conf-nts.XXXXXX", file[64], text[512];
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/ca.pem", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(text, sizeof(text),
             "server time.example.internal nts iburst\n"
             "server 127.0.0.1 nts ntsport 14460 port 11123\n"
             "pool pool.example.internal nts maxsources 2\n"
             "server 127.0.0.2\n"
             "ntstrustedcerts %s\n"
             "ntstrustedcerts %s\n",
             file, dir);
    struct conf *c = parse_ok(text);
    assert_int_equal(c->n_servers, 4);
    assert_true(c->servers[0].nts && c->servers[0].iburst);
    assert_int_equal(c->servers[0].ntsport, 4460);
    assert_int_equal(c->servers[0].port, 123);
    assert_true(c->servers[1].nts);
    assert_int_equal(c->servers[1].ntsport, 14460);
    assert_int_equal(c->servers[1].port, 11123);
    assert_true(c->servers[2].nts && c->servers[2].pool);
    assert_int_equal(c->servers[2].maxsources, 2);
    assert_false(c->servers[3].nts);
    assert_int_equal(c->n_ntstrustedcerts, 2);
    assert_string_equal(c->ntstrustedcerts[0], file);
    assert_string_equal(c->ntstrustedcerts[1], dir);
    assert_int_equal(c->ntstrustedcerts_line, 5);
    conf_free(c);

    parse_bad("server h ntsport 4460\n", "t.conf:1: server: ntsport without nts\n");
    parse_bad("server h nts ntsport 0\n", "t.conf:1: ntsport: 0 is out of range (1..65535)\n");
    parse_bad("server h nts ntsport 65536\n",
              "t.conf:1: ntsport: 65536 is out of range (1..65535)\n");
    parse_bad("server h nts nts\n", "t.conf:1: server: option 'nts' given twice\n");
    parse_bad("server h nts key 1\n",
              "t.conf:1: server: nts and key exclude each other (one way to authenticate a "
              "source)\n");
    parse_bad("pool p nts key 1\n",
              "t.conf:1: pool: nts and key exclude each other (one way to authenticate a "
              "source)\n");
    parse_bad("ntstrustedcerts ca.pem\n",
              "t.conf:1: ntstrustedcerts: 'ca.pem' is not an absolute path\n");
    parse_bad("ntstrustedcerts /nonexistent/tempus/ca.pem\n",
              "t.conf:1: ntstrustedcerts: '/nonexistent/tempus/ca.pem' is not a file or "
              "directory that can be read\n");
    parse_bad("ntstrustedcerts /dev/null\n",
              "t.conf:1: ntstrustedcerts: '/dev/null' is not a file or directory that can be "
              "read\n");
    assert_int_equal(unlink(file), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* Key ids span 1..2^32-1 whatever the size of long: on ILP32 (the -m32
 * build) main took 4294967295L as a long and refused every key id. */
static void test_key_ids_full_range(void **state)
{
    (void)state;
    struct conf *c = parse_ok("keyfile /k\ntrustedkeys 1 4294967295 +7\n"
                              "server h key 4294967295\n");
    assert_int_equal(c->n_trustedkeys, 3);
    assert_true(c->trustedkeys[1] == 4294967295u);
    assert_int_equal(c->trustedkeys[2], 7);
    assert_true(c->servers[0].key == 4294967295u);
    conf_free(c);
    parse_bad("keyfile /k\ntrustedkeys 4294967296\n",
              "t.conf:2: trustedkeys: 4294967296 is out of range (1..4294967295)\n");
    parse_bad("keyfile /k\ntrustedkeys -1\n",
              "t.conf:2: trustedkeys: -1 is out of range (1..4294967295)\n");
    parse_bad("keyfile /k\ntrustedkeys 18446744073709551617\n",
              "t.conf:2: trustedkeys: 18446744073709551617 is out of range (1..4294967295)\n");
    parse_bad("keyfile /k\ntrustedkeys 5x\n", "t.conf:2: trustedkeys: '5x' is not an integer\n");
    parse_bad("keyfile /k\ntrustedkeys 9 9\n", "t.conf:2: trustedkeys: key 9 listed twice\n");
}

static void test_too_many_servers(void **state)
{
    (void)state;
    char text[2048] = "";
    for (int i = 0; i < 33; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "server 127.0.0.%d\n", i + 1);
    parse_bad(text, "t.conf:33: server: too many sources (at most 32)\n");
}

static void test_discipline_directives(void **state)
{
    (void)state;
    struct conf *c = parse_ok("minsources 2\nmakestep 0.5 -1\nmaxchange 1000\n"
                              "maxslewrate 83333\nmaxdistance 3\ndriftfile /var/lib/tempus/drift\n"
                              "local stratum 10 delay 3600\n"
                              "leapfile /usr/share/zoneinfo/leap-seconds.list\nleapmode slew\n");
    assert_string_equal(c->leapfile, "/usr/share/zoneinfo/leap-seconds.list");
    assert_int_equal(c->leapfile_line, 8);
    assert_int_equal(c->leapmode, CONF_LEAP_SLEW);
    assert_int_equal(c->leapmode_line, 9);
    assert_int_equal(c->minsources, 2);
    assert_int_equal(c->minsources_line, 1);
    assert_true(c->makestep_threshold == 0.5);
    assert_int_equal(c->makestep_limit, -1);
    assert_true(c->maxchange == 1000.0);
    assert_true(c->maxslewrate == 83333.0);
    assert_true(c->maxdistance == 3.0);
    assert_string_equal(c->driftfile, "/var/lib/tempus/drift");
    assert_int_equal(c->driftfile_line, 6);
    assert_int_equal(c->local_stratum, 10);
    assert_true(c->local_delay == 3600.0);
    conf_free(c);
}

static void test_leap_directives(void **state)
{
    (void)state;
    struct conf *c = parse_ok("leapsectz right/UTC\nleapsmear\n");
    assert_string_equal(c->leapsectz, "right/UTC");
    assert_int_equal(c->leapsectz_line, 1);
    assert_true(c->leapsmear == 86400.0);
    assert_int_equal(c->leapsmear_line, 2);
    conf_free(c);
    c = parse_ok("leapsectz /usr/share/zoneinfo/right/UTC\nleapsmear 3600\nleapmode step\n");
    assert_string_equal(c->leapsectz, "/usr/share/zoneinfo/right/UTC");
    assert_true(c->leapsmear == 3600.0);
    conf_free(c);
    c = parse_ok("leapmode slew\n");
    assert_true(c->leapsmear == 0.0); /* never the default */
    assert_null(c->leapsectz);
    conf_free(c);
    parse_bad("leapsectz ../../etc/passwd\n", "t.conf:1: leapsectz: '../../etc/passwd' is not a "
                                                "zone name (such as right/UTC) or an absolute path\n");
    parse_bad("leapsmear 599\n", "t.conf:1: leapsmear window: 599 is out of range (600..86400)\n");
    parse_bad("leapsmear 86401\n",
              "t.conf:1: leapsmear window: 86401 is out of range (600..86400)\n");
    parse_bad("leapsmear 1 2\n", "t.conf:1: leapsmear: too many arguments (usage: leapsmear [WINDOW])\n");
    parse_bad("leapsmear\nleapmode slew\n",
              "t.conf:1: leapsmear: needs leapmode system or step (the served smear is computed "
              "from a clock that takes the leap second at one instant)\n");
    parse_bad("leapmode ignore\nleapsmear 7200\n",
              "t.conf:2: leapsmear: needs leapmode system or step (the served smear is computed "
              "from a clock that takes the leap second at one instant)\n");
}

static void test_discipline_errors(void **state)
{
    (void)state;
    parse_bad("minsources 0\n", "t.conf:1: minsources: 0 is out of range (1..16)\n");
    parse_bad("makestep 1\n",
              "t.conf:1: makestep: missing argument (usage: makestep THRESHOLD LIMIT)\n");
    parse_bad("makestep -1 3\n", "t.conf:1: makestep threshold: -1 is out of range (0..1000000000)\n");
    parse_bad("makestep 1 -2\n", "t.conf:1: makestep limit: -2 is out of range (-1..1000000)\n");
    parse_bad("maxslewrate 0\n", "t.conf:1: maxslewrate: 0 is out of range (1..100000)\n");
    parse_bad("maxdistance 20\n", "t.conf:1: maxdistance: 20 is out of range (0.001..16)\n");
    parse_bad("driftfile drift\n", "t.conf:1: driftfile: 'drift' is not an absolute path\n");
    parse_bad("leapfile leap-seconds.list\n",
              "t.conf:1: leapfile: 'leap-seconds.list' is not an absolute path\n");
    parse_bad("leapmode smear\n", "t.conf:1: leapmode: unknown value 'smear' (expected system, step, slew or ignore)\n");
    parse_bad("driftfile /a\ndriftfile /b\n", "t.conf:2: driftfile: already set at line 1\n");
    parse_bad("local stratum 10 delay\n", "t.conf:1: local: option 'delay' needs a value\n");
    parse_bad("local stratum 10 wait 5\n",
              "t.conf:1: local: unknown option 'wait' (expected delay or orphan)\n");
    parse_bad("local stratum 10 orphan orphan\n", "t.conf:1: local: option 'orphan' given twice\n");
    parse_bad("bindacqaddress 127.0.0.1\nbindacqaddress 127.0.0.2\n",
              "t.conf:2: bindacqaddress: an IPv4 address was already given at line 1\n");
    parse_bad("bindacqaddress eth0\n",
              "t.conf:1: bindacqaddress: 'eth0' is not a numeric IPv4 or IPv6 address\n");
    parse_bad("local stratum 10 delay -5\n",
              "t.conf:1: local delay: -5 is out of range (0..10000000)\n");
}

static void test_auth_and_seccomp(void **state)
{
    (void)state;
    struct conf *c = parse_ok("keyfile /etc/tempus/keys\ntrustedkeys 1 7\ntrustedkeys 9\n"
                              "server 192.0.2.1 key 7 iburst\nseccomp off\n");
    assert_string_equal(c->keyfile, "/etc/tempus/keys");
    assert_int_equal(c->n_trustedkeys, 3);
    assert_int_equal(c->trustedkeys[0], 1);
    assert_int_equal(c->trustedkeys[2], 9);
    assert_int_equal(c->servers[0].key, 7);
    assert_int_equal(c->seccomp, 0);
    conf_free(c);
    c = parse_ok("");
    assert_int_equal(c->seccomp, 1);
    assert_null(c->keyfile);
    conf_free(c);
    parse_bad("keyfile keys\n", "t.conf:1: keyfile: 'keys' is not an absolute path\n");
    parse_bad("trustedkeys 1 1\n", "t.conf:1: trustedkeys: key 1 listed twice\n");
    parse_bad("trustedkeys x\n", "t.conf:1: trustedkeys: 'x' is not an integer\n");
    parse_bad("seccomp maybe\n",
              "t.conf:1: seccomp: unknown value 'maybe' (expected off or on)\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_server_options),
        cmocka_unit_test(test_server_errors),
        cmocka_unit_test(test_nts_options),
        cmocka_unit_test(test_key_ids_full_range),
        cmocka_unit_test(test_too_many_servers),
        cmocka_unit_test(test_discipline_directives),
        cmocka_unit_test(test_discipline_errors),
        cmocka_unit_test(test_leap_directives),
        cmocka_unit_test(test_auth_and_seccomp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
