/* SPDX-License-Identifier: ISC */
/* Unit tests for the NTS server's directives (conf_nts.c) and its keys
 * file (nts_server_read_keys). */
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
#include "nts_server.h"

#include "conf_test.h"

#define CERT "ntsservercert /etc/tempus/nts.crt\nntsserverkey /etc/tempus/nts.key\n"

static void test_defaults(void **state)
{
    (void)state;
    struct conf *c = parse_ok("");
    assert_null(c->ntss.cert);
    assert_null(c->ntss.key);
    assert_int_equal(c->ntss.port, 4460);
    assert_int_equal(c->ntss.workers, 2);
    assert_int_equal(c->ntss.rotate, 604800);
    assert_null(c->ntss.keysfile);
    assert_int_equal(c->ntss.plain, CONF_NTSPLAIN_SERVE);
    assert_string_equal(c->ntss.ntp_server, "");
    conf_free(c);
}

static void test_every_directive(void **state)
{
    (void)state;
    struct conf *c = parse_ok(CERT "ntsport 14460\nntsntpserver ntp.example.net\nntsworkers 8\n"
                                   "ntsrotate 0\nntskeysfile /var/lib/tempus/ntskeys\n"
                                   "ntsplain nak\n");
    assert_string_equal(c->ntss.cert, "/etc/tempus/nts.crt");
    assert_int_equal(c->ntss.cert_line, 1);
    assert_string_equal(c->ntss.key, "/etc/tempus/nts.key");
    assert_int_equal(c->ntss.key_line, 2);
    assert_int_equal(c->ntss.port, 14460);
    assert_int_equal(c->ntss.port_line, 3);
    assert_string_equal(c->ntss.ntp_server, "ntp.example.net");
    assert_int_equal(c->ntss.workers, 8);
    assert_int_equal(c->ntss.rotate, 0);
    assert_string_equal(c->ntss.keysfile, "/var/lib/tempus/ntskeys");
    assert_int_equal(c->ntss.plain, CONF_NTSPLAIN_NAK);
    assert_int_equal(c->ntss.plain_line, 8);
    conf_free(c);
    c = parse_ok(CERT "ntsplain drop\nntsrotate 3600\n");
    assert_int_equal(c->ntss.plain, CONF_NTSPLAIN_DROP);
    assert_int_equal(c->ntss.rotate, 3600);
    conf_free(c);
}

static void test_errors(void **state)
{
    (void)state;
    parse_bad("ntsservercert relative.crt\nntsserverkey /k\n",
              "t.conf:1: ntsservercert: 'relative.crt' is not an absolute path\n");
    parse_bad(CERT "ntsport 0\n", "t.conf:3: ntsport: 0 is out of range (1..65535)\n");
    parse_bad(CERT "ntsport 65536\n", "t.conf:3: ntsport: 65536 is out of range (1..65535)\n");
    parse_bad(CERT "ntsworkers 0\n", "t.conf:3: ntsworkers: 0 is out of range (1..64)\n");
    parse_bad(CERT "ntsworkers 65\n", "t.conf:3: ntsworkers: 65 is out of range (1..64)\n");
    parse_bad(CERT "ntsrotate -1\n",
              "t.conf:3: ntsrotate: -1 is out of range (0..315360000)\n");
    parse_bad(CERT "ntsplain maybe\n",
              "t.conf:3: ntsplain: unknown value 'maybe' (expected serve, drop or nak)\n");
    parse_bad(CERT "ntsntpserver a\x01" "b\n", "t.conf:3: control character 0x01 in line\n");
    parse_bad(CERT "ntsntpserver ntp.é.net\n",
              "t.conf:3: ntsntpserver: 'ntp.é.net' is not an ASCII host name or address\n");
    parse_bad(CERT "ntskeysfile keys\n", "t.conf:3: ntskeysfile: 'keys' is not an absolute path\n");
    /* half a server, or options without one: errors at their lines */
    parse_bad("allow all\nntsservercert /c\n",
              "t.conf:2: ntsservercert: no ntsserverkey names its private key\n");
    parse_bad("ntsserverkey /k\n", "t.conf:1: ntsserverkey: no ntsservercert names its certificate\n");
    parse_bad("ntsport 1234\nntsplain drop\n",
              "t.conf:1: ntsport: no NTS server without ntsservercert and ntsserverkey\n"
              "t.conf:2: ntsplain: no NTS server without ntsservercert and ntsserverkey\n");
    parse_bad(CERT "ntsport 1\nntsport 2\n", "t.conf:4: ntsport: already set at line 3\n");
}

/* The keys file: current key first, comments, one or two keys. */
static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/test_conf_nts.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void keys_bad(const char *text, const char *want_suffix)
{
    char *path = write_tmp(text), *err = NULL;
    size_t len = 0;
    struct nts_cookie_ring ring;
    FILE *f = open_memstream(&err, &len);
    assert_int_equal(nts_server_read_keys(path, f, &ring), -1);
    fclose(f);
    char want[512];
    snprintf(want, sizeof(want), "%s%s\n", path, want_suffix);
    assert_string_equal(err, want);
    assert_int_equal(ring.keys[0].id, 0);
    unlink(path);
    free(path);
    free(err);
}

#define HEX1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX2 "FFEEDDCCBBAA99887766554433221100ffeeddccbbaa99887766554433221100"

static void test_keys_file(void **state)
{
    (void)state;
    struct nts_cookie_ring ring;
    char *path = write_tmp("# tempus NTS keys\n\n7 " HEX1 "\n  6\t" HEX2 "  \n");
    assert_int_equal(nts_server_read_keys(path, stderr, &ring), 0);
    assert_int_equal(ring.keys[0].id, 7);
    assert_int_equal(ring.keys[0].key[0], 0x00);
    assert_int_equal(ring.keys[0].key[31], 0x1f);
    assert_int_equal(ring.keys[1].id, 6);
    assert_int_equal(ring.keys[1].key[0], 0xff);
    unlink(path);
    free(path);
    path = write_tmp("4294967295 " HEX1);
    assert_int_equal(nts_server_read_keys(path, stderr, &ring), 0);
    assert_int_equal(ring.keys[0].id, 4294967295u);
    assert_int_equal(ring.keys[1].id, 0);
    unlink(path);
    free(path);

    keys_bad("", ": no key in the file");
    keys_bad("# nothing\n", ": no key in the file");
    keys_bad("0 " HEX1 "\n", ":1: the key id is not a number in 1..4294967295");
    keys_bad("4294967296 " HEX1 "\n", ":1: the key id is not a number in 1..4294967295");
    keys_bad("-1 " HEX1 "\n", ":1: the key id is not a number in 1..4294967295");
    keys_bad("1 " HEX1 "00\n", ":1: the key is not 64 hex digits");
    keys_bad("1 " HEX1 "\n2 0g" HEX1 "\n", ":2: the key is not 64 hex digits");
    keys_bad("1\n", ":1: not ID HEX");
    keys_bad("1 " HEX1 " extra\n", ":1: not ID HEX");
    keys_bad("1 " HEX1 "\n1 " HEX2 "\n", ":2: the same key id twice");
    keys_bad("1 " HEX1 "\n2 " HEX2 "\n3 " HEX1 "\n",
             ":3: more than two keys (the current one and the previous one)");
    keys_bad("x", ":1: not ID HEX");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_directive),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_keys_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
