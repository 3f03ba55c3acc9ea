/* SPDX-License-Identifier: ISC */
/* Unit tests for keys.c: the key file format (chrony's), every error with
 * its line, and the file checks (regular file, not readable or writable by
 * other users). Permission bits are checked, not access, so the tests hold
 * when run as root too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"
#include "keys.h"

/* Parse text; returns the store (or NULL) and leaves the error text in
 * *errtext (caller frees). */
static struct keys *parse(const char *text, char **errtext)
{
    size_t len = 0;
    FILE *errs = open_memstream(errtext, &len);
    struct keys *k = NULL;
    assert_non_null(errs);
    int rc = keys_parse_string("k.keys", text, errs, &k);
    fclose(errs);
    assert_int_equal(rc == 0, k != NULL);
    return k;
}

static void expect_key(const struct keys *ks, uint32_t id, enum auth_type type, const void *bytes,
                       size_t len)
{
    const struct auth_key *k = keys_find(ks, id);
    assert_non_null(k);
    assert_int_equal(k->id, id);
    assert_int_equal(k->type, type);
    assert_int_equal(k->len, len);
    assert_memory_equal(k->key, bytes, len);
}

static void test_good_file(void **state)
{
    (void)state;
    char *err = NULL;
    struct keys *ks = parse("# tempus keys\n"
                            "\n"
                            "   ; a chrony-style comment\n"
                            "30 AES128 HEX:7EA62AE64D190114D46D5A082F948EC1\n"
                            "31 aes256 HEX:37ddcbc67bb902bcb8e995977fab4d2b"
                            "5642f5b32ebceee421921d97e5cbfe39\r\n"
                            "\t25 SHA1 HEX:933F62BE1D604E68A81B557F18CFA200483F5B70  \n"
                            "20 MD5 ASCII:crocus\n"
                            "10 tulip\n"
                            "4294967295 SHA3-256 a#b;c!d%e_longer_than_16\n"
                            "7 SHA512 ASCII:HEX:notreallyhex0000",
                            &err);
    assert_string_equal(err, "");
    assert_non_null(ks);
    assert_int_equal(keys_count(ks), 7);
    expect_key(ks, 30, AUTH_AES128,
               "\x7e\xa6\x2a\xe6\x4d\x19\x01\x14\xd4\x6d\x5a\x08\x2f\x94\x8e\xc1", 16);
    expect_key(ks, 31, AUTH_AES256,
               "\x37\xdd\xcb\xc6\x7b\xb9\x02\xbc\xb8\xe9\x95\x97\x7f\xab\x4d\x2b"
               "\x56\x42\xf5\xb3\x2e\xbc\xee\xe4\x21\x92\x1d\x97\xe5\xcb\xfe\x39",
               32);
    expect_key(ks, 25, AUTH_SHA1,
               "\x93\x3f\x62\xbe\x1d\x60\x4e\x68\xa8\x1b\x55\x7f\x18\xcf\xa2\x00\x48\x3f\x5b\x70",
               20);
    expect_key(ks, 20, AUTH_MD5, "crocus", 6);
    expect_key(ks, 10, AUTH_MD5, "tulip", 5);
    expect_key(ks, 4294967295u, AUTH_SHA3_256, "a#b;c!d%e_longer_than_16", 24);
    expect_key(ks, 7, AUTH_SHA512, "HEX:notreallyhex0000", 20);
    assert_null(keys_find(ks, 1));
    assert_null(keys_find(ks, 0));
    assert_null(keys_find(ks, 26));
    keys_destroy(ks);
    free(err);

    /* an empty file is a valid, empty store */
    ks = parse("", &err);
    assert_non_null(ks);
    assert_int_equal(keys_count(ks), 0);
    keys_destroy(ks);
    free(err);
    assert_null(keys_find(NULL, 1));
    assert_int_equal(keys_count(NULL), 0);
    keys_destroy(NULL);
}

/* Golden: every bad line reported with its number, nothing kept. */
static void test_errors(void **state)
{
    (void)state;
    char *err = NULL;
    char longline[2100];
    memset(longline, 'a', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    char text[4096];
    snprintf(text, sizeof(text),
             "1 AES128 HEX:00112233445566778899aabbccddeeff\n" /* good */
             "0 SHA1 HEX:00\n"
             "4294967296 SHA1 HEX:00\n"
             "-3 SHA1 HEX:00\n"
             "12x SHA1 HEX:00\n"
             "5\n"
             "6 AES128\n"
             "7 BLAKE2 HEX:00\n"
             "8 AES128 HEX:0011\n"
             "9 AES256 HEX:00112233445566778899aabbccddeeff\n"
             "10 SHA1 HEX:123\n"
             "11 SHA1 HEX:zz\n"
             "12 SHA1 HEX:\n"
             "13 SHA1 ASCII:\n"
             "14 SHA1 HEX:00 extra\n"
             "1 SHA1 HEX:00112233445566778899aabbccddeeff\n"
             "15 SHA1 bad\001char\n"
             "%s\n",
             longline);
    struct keys *ks = parse(text, &err);
    assert_null(ks);
    assert_string_equal(
        err, "k.keys:2: key id 0 is reserved (ids are 1 to 4294967295)\n"
             "k.keys:3: key id '4294967296' is not a number from 1 to 4294967295\n"
             "k.keys:4: key id '-3' is not a number from 1 to 4294967295\n"
             "k.keys:5: key id '12x' is not a number from 1 to 4294967295\n"
             "k.keys:6: expected 'ID TYPE KEY' (or 'ID KEY' for MD5)\n"
             "k.keys:7: key 6: type AES128 but no key\n"
             "k.keys:8: key 7: unknown type 'BLAKE2' (AES128 AES256 SHA1 SHA256 SHA384 SHA512 "
             "SHA3-224 SHA3-256 SHA3-384 SHA3-512 MD5)\n"
             "k.keys:9: key 8: an AES128 key is 16 bytes (32 hex digits), not 2\n"
             "k.keys:10: key 9: an AES256 key is 32 bytes (64 hex digits), not 16\n"
             "k.keys:11: key 10: HEX key needs an even number of digits, 2 to 256\n"
             "k.keys:12: key 11: 'zz' is not a hex digit pair\n"
             "k.keys:13: key 12: HEX key needs an even number of digits, 2 to 256\n"
             "k.keys:14: key 13: ASCII key must be 1 to 128 characters\n"
             "k.keys:15: expected 'ID TYPE KEY' (or 'ID KEY' for MD5)\n"
             "k.keys:17: control character in line\n"
             "k.keys:18: line too long (more than 2047 characters)\n"
             "k.keys:16: key 1 defined twice (first on line 1)\n");
    free(err);
}

static char *write_file(const char *text, mode_t mode)
{
    char *path = strdup("/tmp/test_keys.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return path;
}

static int load(const char *path, char **errtext, struct keys **ks)
{
    size_t len = 0;
    FILE *errs = open_memstream(errtext, &len);
    assert_non_null(errs);
    int rc = keys_load(path, errs, ks);
    fclose(errs);
    assert_int_equal(rc == 0, *ks != NULL);
    return rc;
}

static void test_file_modes(void **state)
{
    (void)state;
    const char *text = "1 AES128 HEX:00112233445566778899aabbccddeeff\n";
    static const struct {
        mode_t mode;
        int ok;
    } cases[] = {
        {0600, 1}, {0400, 1}, {0640, 1}, {0660, 1}, {0644, 0}, {0604, 0}, {0602, 0}, {0666, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = write_file(text, cases[i].mode), *err = NULL, want[256];
        struct keys *ks = NULL;
        int rc = load(path, &err, &ks);
        if (cases[i].ok) {
            assert_int_equal(rc, 0);
            assert_string_equal(err, "");
            expect_key(ks, 1, AUTH_AES128,
                       "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16);
        } else {
            assert_int_equal(rc, -1);
            snprintf(want, sizeof(want),
                     "%s: readable or writable by other users (mode %04o): refusing to use "
                     "it; chmod o-rwx it\n",
                     path, (unsigned)cases[i].mode);
            assert_string_equal(err, want);
        }
        keys_destroy(ks);
        free(err);
        unlink(path);
        free(path);
    }
}

static void test_file_errors(void **state)
{
    (void)state;
    char *err = NULL, want[256];
    struct keys *ks = NULL;

    assert_int_equal(load("/nonexistent/tempus.keys", &err, &ks), -1);
    assert_string_equal(err, "/nonexistent/tempus.keys: cannot open: No such file or directory\n");
    free(err);

    char dir[] = "/tmp/test_keys_dir.XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(load(dir, &err, &ks), -1);
    snprintf(want, sizeof(want), "%s: not a regular file\n", dir);
    assert_string_equal(err, want);
    free(err);
    rmdir(dir);

    /* errors in a file carry its path and line */
    char *path =
        write_file("1 AES128 HEX:00\n2 SHA1 HEX:0011223344556677889900112233445566778899\n", 0600);
    assert_int_equal(load(path, &err, &ks), -1);
    snprintf(want, sizeof(want), "%s:1: key 1: an AES128 key is 16 bytes (32 hex digits), not 1\n",
             path);
    assert_string_equal(err, want);
    free(err);
    unlink(path);
    free(path);

    /* a NUL byte cannot hide the rest of the file */
    path = write_file("", 0600);
    static const char nul_text[] = "1 SHA1 abc\0"
                                   "2 SHA1 def\n";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(nul_text, 1, sizeof(nul_text) - 1, f), sizeof(nul_text) - 1);
    fclose(f);
    assert_int_equal(load(path, &err, &ks), -1);
    snprintf(want, sizeof(want), "%s: NUL byte in file\n", path);
    assert_string_equal(err, want);
    free(err);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_file_modes),
        cmocka_unit_test(test_file_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
