/* SPDX-License-Identifier: ISC */
/* Unit tests for the deployment audit. Run from the repository root: the
 * golden files are read from tests/lint/, the key files copied from
 * tests/lint/keys/ into a temporary directory (world.keys with mode 0644,
 * the others 0600) that replaces @KEYDIR@ in the golden files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "conf.h"
#include "ctl_proto.h"
#include "lint.h"
#include "log.h"

static char keydir[] = "/tmp/tempus-lint-XXXXXX";

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    int ch;

    if (!f)
        fail_msg("cannot open %s: run from the repository root", path);
    assert_non_null(out);
    while ((ch = getc(f)) != EOF)
        putc(ch, out);
    fclose(out);
    fclose(f);
    return buf;
}

/* s with every @KEYDIR@ replaced by keydir (caller frees). */
static char *subst(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    const char *p;

    assert_non_null(out);
    while ((p = strstr(s, "@KEYDIR@"))) {
        assert_int_equal(fwrite(s, 1, (size_t)(p - s), out), p - s);
        fputs(keydir, out);
        s = p + 8;
    }
    fputs(s, out);
    fclose(out);
    return buf;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

/* keydir: a copy of every tests/lint/keys/ file. */
static int setup_keys(void **state)
{
    glob_t g;
    (void)state;

    log_init("test_lint", LOG_TO_STDERR, LOG_LVL_ERR);
    if (!mkdtemp(keydir) || glob("tests/lint/keys/*", 0, NULL, &g) != 0)
        return -1;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *text = read_file(g.gl_pathv[i]), dst[256];
        const char *base = strrchr(g.gl_pathv[i], '/') + 1;
        snprintf(dst, sizeof(dst), "%s/%s", keydir, base);
        write_file(dst, text, strncmp(base, "world", 5) == 0 ? 0644 : 0600);
        free(text);
    }
    globfree(&g);
    return 0;
}

static int teardown_keys(void **state)
{
    glob_t g;
    char pat[64];
    (void)state;

    snprintf(pat, sizeof(pat), "%s/*", keydir);
    if (glob(pat, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++)
            unlink(g.gl_pathv[i]);
        globfree(&g);
    }
    rmdir(keydir);
    return 0;
}

/* Lint config text (@KEYDIR@ replaced) into r, which the caller frees. */
static void lint_text(const char *text, struct lint_report *r)
{
    char *t = subst(text);
    struct conf *c = conf_parse_string("t.conf", t, stderr);

    if (!c)
        fail_msg("does not parse:\n%s", t);
    lint_report_init(r, "t.conf");
    lint_conf(c, r);
    conf_free(c);
    free(t);
}

/* Findings with code, severity sev (-1: any) on line (-1: any). */
static unsigned count(const struct lint_report *r, const char *code, int sev, int line)
{
    unsigned n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += strcmp(r->f[i].code, code) == 0 && (sev < 0 || (int)r->f[i].severity == sev) &&
             (line < 0 || (int)r->f[i].line == line);
    return n;
}

/* text must give exactly one finding with code, of sev, on line, and no
 * other finding apart from those in `also` (space separated codes). */
static void expect_only(const char *text, const char *code, int sev, int line, const char *also)
{
    struct lint_report r;

    lint_text(text, &r);
    if (code && count(&r, code, sev, line) != 1)
        fail_msg("want one %s (severity %d, line %d) from:\n%s", code, sev, line, text);
    for (size_t i = 0; i < r.n; i++) {
        const char *c = r.f[i].code;
        const char *hit = also ? strstr(also, c) : NULL;
        int listed = hit && (hit[strlen(c)] == ' ' || hit[strlen(c)] == '\0');
        if ((!code || strcmp(c, code) != 0) && !listed)
            fail_msg("unexpected %s: %s\nfrom:\n%s", c, r.f[i].message, text);
    }
    lint_report_free(&r);
}

/* A server that lints clean, for variations. */
#define SERVER_OK                                                                                  \
    "bindaddress 10.1.2.3\n"                                                                       \
    "allow 10.1.2.0/24\n"                                                                          \
    "driftfile /var/lib/tempus/drift\n"
#define FOUR "server a.example\nserver b.example\nserver c.example\nserver d.example\n"

static void test_clean(void **state)
{
    (void)state;
    expect_only(SERVER_OK FOUR, NULL, 0, 0, NULL);
    expect_only(SERVER_OK "pool pool.example\n", NULL, 0, 0, NULL);
    /* dual stack, one subnet per family, a deny inside */
    expect_only("bindaddress 10.1.2.3\nbindaddress fd00::3\nallow 10.1.2.0/24\n"
                "allow fd00::/64\ndeny 10.1.2.7\nallow 10.1.2.9\n"
                "driftfile /d\n" FOUR,
                NULL, 0, 0, NULL);
    /* a client: no allow rule, so nothing about serving */
    expect_only("ratelimit off\nmakestep 1 -1\ndriftfile /d\n" FOUR, NULL, 0, 0, NULL);
    /* port 0: not serving, whatever the rules */
    expect_only("port 0\nallow all\nratelimit off\ndriftfile /d\n" FOUR, NULL, 0, 0, NULL);
    /* only deny rules: not serving */
    expect_only("deny 10.0.0.0/8\ndriftfile /d\n" FOUR, NULL, 0, 0, NULL);
}

/* A self-signed certificate in keydir valid until now + secs. */
static void write_cert(const char *name, long secs)
{
    char path[256];
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    assert_non_null(pk);
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), secs);
    X509_set_pubkey(x, pk);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"lint.test", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
    snprintf(path, sizeof(path), "%s/%s", keydir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509(f, x), 1);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(pk);
}

#define NTS_WITH(crt) "port 0\ndriftfile /d\n" FOUR "ntsservercert @KEYDIR@/" crt "\n" \
                      "ntsserverkey @KEYDIR@/nts.key\n"

/* The NTS certificate's dates against now: 10 days left is a warning, a
 * year is nothing, an hour ago an error; the key's group bit a warning. */
static void test_nts_cert_dates(void **state)
{
    struct lint_report r;
    char key[256];
    (void)state;

    write_cert("soon.crt", 10 * 86400 + 3600);
    write_cert("year.crt", 365 * 86400L);
    write_cert("gone.crt", -3600);
    expect_only(NTS_WITH("soon.crt"), "nts-cert-expiry", LINT_WARNING, 7, NULL);
    lint_text(NTS_WITH("soon.crt"), &r);
    assert_non_null(strstr(r.f[0].message, "expires in 10 day(s)"));
    lint_report_free(&r);
    expect_only(NTS_WITH("year.crt"), NULL, 0, 0, NULL);
    expect_only(NTS_WITH("gone.crt"), "nts-cert-expiry", LINT_ERROR, 7, NULL);
    snprintf(key, sizeof(key), "%s/nts.key", keydir);
    assert_int_equal(chmod(key, 0640), 0);
    expect_only(NTS_WITH("year.crt"), "nts-key-perms", LINT_WARNING, 8, NULL);
    assert_int_equal(chmod(key, 0600), 0);
}

static void test_loopback_only(void **state)
{
    (void)state;
    /* open rules on loopback only reach local processes */
    expect_only("bindaddress 127.0.0.1\nbindaddress ::1\nallow all\nratelimit off\n"
                "driftfile /d\n" FOUR,
                NULL, 0, 0, NULL);
    expect_only("binddevice lo\nallow 0.0.0.0/1\ndriftfile /d\n" FOUR, NULL, 0, 0, NULL);
    /* one public address among them: exposed */
    expect_only("bindaddress 127.0.0.1\nbindaddress 192.0.2.1\nallow all\ndriftfile /d\n" FOUR,
                "allow-all", LINT_ERROR, 3, NULL);
}

static void test_source_counts(void **state)
{
    (void)state;
    expect_only("port 0\ndriftfile /d\n", "no-sources", LINT_ERROR, 0, NULL);
    expect_only(SERVER_OK "local stratum 8\n", "no-sources", LINT_WARNING, 0, NULL);
    expect_only(SERVER_OK "server a.example noselect\n", "no-sources", LINT_ERROR, 0, NULL);
    expect_only(SERVER_OK "server a.example\n", "single-source", LINT_ERROR, 4, NULL);
    expect_only(SERVER_OK "pool p.example maxsources 1\n", "single-source", LINT_ERROR, 4, NULL);
    expect_only("driftfile /d\nserver a.example iburst\n", "single-server", LINT_WARNING, 2, NULL);
    expect_only("driftfile /d\npool p.example maxsources 1\n", "single-source", LINT_WARNING, 2,
                NULL);
    expect_only(SERVER_OK "server a.example\nserver b.example\n", "few-sources", LINT_WARNING, 0,
                NULL);
    /* a client of two or three internal servers: the standard design */
    expect_only("driftfile /d\nserver a.example\nserver b.example\n", NULL, 0, 0, NULL);
    expect_only("port 0\ndriftfile /d\nserver a\nserver b\nserver c\n", NULL, 0, 0, NULL);
    /* a primary server: local stratum 1, its clock disciplined outside */
    expect_only(SERVER_OK "local stratum 1\n", NULL, 0, 0, NULL);
    expect_only(SERVER_OK "local stratum 1 orphan\n", "no-sources", LINT_WARNING, 0, NULL);
    expect_only(SERVER_OK "server a.example\nserver b.example\nserver c.example\n", "few-sources",
                LINT_INFO, 0, NULL);
    expect_only(SERVER_OK "server a.example\npool p.example maxsources 2\n", "few-sources",
                LINT_INFO, 0, NULL);
    /* a different port is a different source */
    expect_only(SERVER_OK "server a.example\nserver a.example port 124\n"
                          "server b.example\nserver c.example\n",
                NULL, 0, 0, NULL);
    expect_only(SERVER_OK FOUR "server B.EXAMPLE iburst\n", "duplicate-source", LINT_WARNING, 8,
                NULL);
    expect_only(SERVER_OK "server a.example\nserver a.example\n", "duplicate-source", LINT_WARNING,
                5, "single-source");
    expect_only(SERVER_OK FOUR "minsources 4\n", NULL, 0, 0, NULL);
    expect_only(SERVER_OK FOUR "minsources 5\n", "minsources-too-high", LINT_ERROR, 8, NULL);
    expect_only(SERVER_OK "pool p.example\nserver a.example noselect\nminsources 5\n",
                "minsources-too-high", LINT_ERROR, 6, NULL);
}

static void test_open_families(void **state)
{
    (void)state;
    expect_only("bindaddress 192.0.2.1\nallow all\ndriftfile /d\n" FOUR, "allow-all", LINT_ERROR, 2,
                NULL);
    /* two lines opening the two families: two findings */
    struct lint_report r;
    lint_text("bindaddress 192.0.2.1\nallow 0.0.0.0/0\nallow ::/0\ndriftfile /d\n" FOUR, &r);
    assert_int_equal(count(&r, "allow-all", LINT_ERROR, 2), 1);
    assert_int_equal(count(&r, "allow-all", LINT_ERROR, 3), 1);
    assert_non_null(strstr(r.f[0].message, "IPv4"));
    assert_int_equal(r.n, 2);
    lint_report_free(&r);
    expect_only(SERVER_OK "allow ::/0\n" FOUR, "ipv6-open", LINT_ERROR, 4, NULL);
    expect_only(SERVER_OK "allow 0.0.0.0/0\n" FOUR, "allow-all", LINT_ERROR, 4, NULL);
    expect_only(SERVER_OK "allow 0.0.0.0/0\nallow fd00::/64\n" FOUR, "ipv4-open", LINT_ERROR, 4,
                NULL);
    expect_only("bindaddress 10.1.2.3\nallow fd00::/64\nallow 0.0.0.0/0\ndriftfile /d\n" FOUR,
                "ipv4-open", LINT_ERROR, 3, NULL);
    /* all, then IPv4 narrowed: IPv6 left open */
    expect_only("bindaddress 10.1.2.3\nallow all\ndeny 0.0.0.0/0\nallow 10.1.2.0/24\n"
                "driftfile /d\n" FOUR,
                "ipv6-open", LINT_ERROR, 2, NULL);
    /* a later deny all closes everything again */
    expect_only(SERVER_OK "allow all\ndeny all\n" FOUR, NULL, 0, 0, NULL);
    /* a deny inside an open family does not restrict it */
    expect_only("bindaddress 10.1.2.3\nallow all\ndeny 10.0.0.0/8\ndriftfile /d\n" FOUR,
                "allow-all", LINT_ERROR, 2, NULL);
}

static void test_wide_rules(void **state)
{
    (void)state;
    expect_only("bindaddress 10.1.2.3\nallow 8.0.0.0/8\ndriftfile /d\n" FOUR, "allow-wide",
                LINT_WARNING, 2, NULL);
    expect_only("bindaddress 10.1.2.3\nallow 0.0.0.0/1\ndriftfile /d\n" FOUR, "allow-wide",
                LINT_WARNING, 2, NULL);
    expect_only("bindaddress 10.1.2.3\nallow 2000::/3\ndriftfile /d\n" FOUR, "allow-wide",
                LINT_WARNING, 2, NULL);
    /* private space and an organisation's /32 or /16 are not wide */
    expect_only("bindaddress 10.1.2.3\nallow 10.0.0.0/8\nallow 172.16.0.0/12\n"
                "allow 192.168.0.0/16\nallow 100.64.0.0/10\nallow fd00::/8\n"
                "allow 2001:db8::/32\nallow 198.51.0.0/16\ndriftfile /d\n" FOUR,
                NULL, 0, 0, NULL);
}

static void test_listen_all(void **state)
{
    (void)state;
    /* one /24 on every interface: the rules do the work */
    expect_only("allow 10.1.2.0/24\nallow 10.1.2.7\ndriftfile /d\n" FOUR, NULL, 0, 0, NULL);
    expect_only("allow fd00:1::/64\ndriftfile /d\n" FOUR, NULL, 0, 0, NULL);
    expect_only("allow 10.1.2.0/24\nallow 10.1.3.1\ndriftfile /d\n" FOUR, "listen-all",
                LINT_WARNING, 0, NULL);
    expect_only("allow 10.1.2.0/23\ndriftfile /d\n" FOUR, "listen-all", LINT_WARNING, 0, NULL);
    expect_only("allow fd00:1::/63\ndriftfile /d\n" FOUR, "listen-all", LINT_WARNING, 0, NULL);
    expect_only("binddevice eth1\nallow 10.1.0.0/16\ndriftfile /d\n" FOUR, NULL, 0, 0, NULL);
    expect_only("allow all\ndriftfile /d\n" FOUR, "listen-all", LINT_WARNING, 0, "allow-all");
}

static void test_ratelimit_off(void **state)
{
    (void)state;
    expect_only(SERVER_OK "ratelimit off\n" FOUR, NULL, 0, 0, NULL);
    expect_only("bindaddress 10.1.2.3\nallow 10.1.0.0/16\nratelimit off\ndriftfile /d\n" FOUR,
                "ratelimit-off", LINT_WARNING, 3, NULL);
    expect_only("bindaddress 10.1.2.3\nallow 8.0.0.0/8\nratelimit off\ndriftfile /d\n" FOUR,
                "ratelimit-off", LINT_ERROR, 3, "allow-wide");
    expect_only("bindaddress 10.1.2.3\nallow all\nratelimit off\ndriftfile /d\n" FOUR,
                "ratelimit-off", LINT_ERROR, 3, "allow-all");
}

static void test_clock(void **state)
{
    (void)state;
    expect_only(SERVER_OK "makestep 1 -1\n" FOUR, "makestep-forever", LINT_WARNING, 4, NULL);
    expect_only(SERVER_OK "makestep 1 3\n" FOUR, NULL, 0, 0, NULL);
    expect_only("makestep 1 -1\ndriftfile /d\n" FOUR, NULL, 0, 0, NULL);
    expect_only("bindaddress 10.1.2.3\nallow 10.1.2.0/24\n" FOUR, "no-driftfile", LINT_WARNING, 0,
                NULL);
    expect_only("port 0\n" FOUR, "no-driftfile", LINT_INFO, 0, NULL);
}

static void test_keyfile(void **state)
{
    char path[128], text[512];
    (void)state;

    expect_only("port 0\ndriftfile /d\n" FOUR "keyfile @KEYDIR@/aes.keys\ntrustedkeys 1 2 10\n",
                NULL, 0, 0, NULL);
    expect_only("port 0\ndriftfile /d\n" FOUR "keyfile @KEYDIR@/nope\n", "keyfile-missing",
                LINT_WARNING, 7, NULL);
    expect_only("port 0\ndriftfile /d\n" FOUR "keyfile @KEYDIR@\n", "keyfile-unreadable",
                LINT_WARNING, 7, NULL);
    expect_only("port 0\ndriftfile /d\n" FOUR "keyfile @KEYDIR@/world.keys\n", "keyfile-perms",
                LINT_ERROR, 7, NULL);
    /* writable by all, even if not readable */
    snprintf(path, sizeof(path), "%s/ww.keys", keydir);
    write_file(path, "1 AES128 HEX:7EA62AE64D190114D46D5A082F948EC1\n", 0602);
    snprintf(text, sizeof(text), "port 0\ndriftfile /d\n" FOUR "keyfile %s\n", path);
    expect_only(text, "keyfile-perms", LINT_ERROR, 7, NULL);
    struct lint_report r;
    lint_text(text, &r);
    assert_non_null(strstr(r.f[0].message, "writable by every user (mode 0602)"));
    lint_report_free(&r);
    unlink(path);
    /* group-readable is the daemon's group: fine */
    snprintf(path, sizeof(path), "%s/grp.keys", keydir);
    write_file(path, "1 AES128 HEX:7EA62AE64D190114D46D5A082F948EC1\n", 0640);
    snprintf(text, sizeof(text), "port 0\ndriftfile /d\n" FOUR "keyfile %s\n", path);
    expect_only(text, NULL, 0, 0, NULL);
    unlink(path);
    expect_only("port 0\ndriftfile /d\n" FOUR "keyfile @KEYDIR@/bad.keys\n", "keyfile-invalid",
                LINT_ERROR, 7, NULL);
}

/* More keys than a message lists: the count says how many. */
static void test_key_types(void **state)
{
    char path[128], text[512], keys[2048] = "";
    struct lint_report r;
    (void)state;

    expect_only("port 0\ndriftfile /d\n" FOUR "keyfile @KEYDIR@/md5.keys\n", "key-md5",
                LINT_WARNING, 7, NULL);
    expect_only("port 0\ndriftfile /d\n" FOUR "keyfile @KEYDIR@/short.keys\n", "key-short",
                LINT_ERROR, 7, NULL);
    for (int i = 1; i <= 9; i++)
        snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), "%d MD5 ASCII:abc%d\n", i, i);
    snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), "%s",
             "20 SHA256 HEX:00112233445566778899AABBCCDDEEFF\n"); /* 16 bytes: long enough */
    snprintf(path, sizeof(path), "%s/many.keys", keydir);
    write_file(path, keys, 0600);
    snprintf(text, sizeof(text), "port 0\ndriftfile /d\n" FOUR "keyfile %s\n", path);
    lint_text(text, &r);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.f[0].code, "key-md5");
    assert_string_equal(r.f[0].message,
                        "MD5 keys in the key file: 1, 2, 3, 4, 5, 6, ... (9 in all)");
    assert_string_equal(r.f[1].code, "key-short");
    lint_report_free(&r);
    unlink(path);
}

static void test_key_uses(void **state)
{
    struct lint_report r;
    (void)state;

    lint_text("port 0\ndriftfile /d\nserver a.example key 1\nserver b.example key 7\n"
              "server c.example\nserver d.example\nkeyfile @KEYDIR@/aes.keys\n"
              "trustedkeys 10 9 8\n",
              &r);
    assert_int_equal(r.n, 3);
    assert_int_equal(count(&r, "key-unknown", LINT_ERROR, 4), 1);
    assert_int_equal(count(&r, "key-unknown", LINT_ERROR, 8), 2);
    assert_string_equal(r.f[0].message, "key 7 is not in the key file");
    assert_string_equal(r.f[2].message, "trusted key 8 is not in the key file");
    lint_report_free(&r);
    /* without a keyfile directive the parser already refuses the ids */
    struct conf *c = conf_parse_string("t.conf", "server a.example key 3\ntrustedkeys 4\n", NULL);
    assert_null(c);
    /* a missing key file: its ids are unknown, not wrong */
    expect_only("port 0\ndriftfile /d\nserver a.example key 3\nserver b.example\n"
                "server c.example\nserver d.example\nkeyfile /nonexistent/k\n",
                "keyfile-missing", LINT_WARNING, 7, NULL);
}

/* Line 0 first, then by line, the order found within a line. */
static void test_order_and_format(void **state)
{
    struct lint_report r;
    struct ctl_buf out;
    (void)state;

    lint_text("allow all\nserver a.example\nserver a.example\nratelimit off\n", &r);
    for (size_t i = 1; i < r.n; i++)
        assert_true(r.f[i - 1].line <= r.f[i].line);
    assert_int_equal(r.f[0].line, 0);
    assert_int_equal(lint_exit_status(&r), 2);
    ctl_buf_init(&out, 1 << 16);
    lint_format(&r, &out);
    ctl_buf_append(&out, "", 1);
    assert_true(strncmp(out.data, "t.conf: warning: [listen-all] ", 30) == 0);
    assert_non_null(strstr(out.data, "\nt.conf:1: error: [allow-all] every IPv4 and IPv6 "
                                     "address may use this server (fix: allow only"));
    ctl_buf_free(&out);
    assert_int_equal(lint_drop(&r, "allow-all"), 1);
    assert_int_equal(lint_drop(&r, "allow-all"), 0);
    lint_drop(&r, "single-source");
    lint_drop(&r, "ratelimit-off");
    assert_int_equal(lint_exit_status(&r), 1);
    lint_drop(&r, "listen-all");
    lint_drop(&r, "duplicate-source");
    assert_int_equal(lint_exit_status(&r), 1); /* no-driftfile on a server */
    lint_drop(&r, "no-driftfile");
    assert_int_equal(r.n, 0);
    assert_int_equal(lint_exit_status(&r), 0);
    lint_report_free(&r);
    lint_text(SERVER_OK "server a\nserver b\nserver c\n", &r);
    assert_int_equal(lint_exit_status(&r), 0); /* info only */
    assert_int_equal(r.n, 1);
    lint_report_free(&r);
}

static void test_json(void **state)
{
    struct lint_report reps[2];
    struct ctl_buf out;
    (void)state;

    lint_report_init(&reps[0], "a\"b.conf");
    lint_report_init(&reps[1], "/run/x.sock");
    ctl_buf_init(&out, 1 << 16);
    lint_format_json(reps, 2, &out);
    ctl_buf_append(&out, "", 1);
    assert_string_equal(out.data, "{\"findings\":[]}\n");
    ctl_buf_free(&out);
    lint_report_free(&reps[0]);
    lint_text("bindaddress 10.1.2.3\nallow 10.1.2.0/24\nserver a\nserver b\nserver c\n", &reps[0]);
    reps[0].file = "a\"b.conf";
    ctl_buf_init(&out, 1 << 16);
    lint_format_json(reps, 2, &out);
    ctl_buf_append(&out, "", 1);
    assert_string_equal(out.data,
                        "{\"findings\":[{\"file\":\"a\\\"b.conf\",\"line\":0,\"severity\":"
                        "\"info\",\"code\":\"few-sources\",\"message\":\"only 3 upstream "
                        "sources: a wrong one is outvoted, but not while another is "
                        "unreachable\",\"fix\":\"use at least 4 independent sources, server "
                        "lines or a pool, so that one wrong source is outvoted even with "
                        "another one down\"},{\"file\":\"a\\\"b.conf\",\"line\":0,\"severity\":"
                        "\"warning\",\"code\":\"no-driftfile\",\"message\":\"no driftfile: after "
                        "every restart the frequency is learnt again, with larger offsets "
                        "meanwhile\",\"fix\":\"add driftfile /var/lib/tempus/drift\"}]}\n");
    ctl_buf_free(&out);
    lint_report_free(&reps[0]);
    lint_report_free(&reps[1]);
}

static void add_source(struct ctl_buf *b, const char *name, const char *state, int reach,
                       long long sent, long long received)
{
    ctl_rec_begin(b, "source");
    ctl_rec_str(b, "name", name);
    ctl_rec_str(b, "state", state);
    ctl_rec_int(b, "reach", reach);
    ctl_rec_int(b, "reachable", reach != 0);
    ctl_rec_int(b, "sent", sent);
    ctl_rec_int(b, "received", received);
    ctl_rec_end(b);
}

static void add_tracking(struct ctl_buf *b, long long peer_changes, long long steps)
{
    ctl_rec_begin(b, "tracking");
    ctl_rec_int(b, "synced", 1);
    if (peer_changes >= 0)
        ctl_rec_int(b, "peer_changes", peer_changes);
    ctl_rec_int(b, "steps", steps);
    ctl_rec_double(b, "last_step", -0.25);
    ctl_rec_end(b);
}

static void add_serverstats(struct ctl_buf *b, const char *family, long long rx, long long denied)
{
    ctl_rec_begin(b, "serverstats");
    ctl_rec_str(b, "family", family);
    ctl_rec_int(b, "received", rx);
    ctl_rec_int(b, "answered", rx - denied);
    ctl_rec_int(b, "denied", denied);
    ctl_rec_end(b);
}

static void add_recent(struct ctl_buf *b, double window, long long peer_changes, long long rx4,
                       long long denied4)
{
    ctl_rec_begin(b, "recent");
    ctl_rec_double(b, "uptime", 86400);
    ctl_rec_double(b, "window", window);
    ctl_rec_int(b, "received_ipv4", rx4);
    ctl_rec_int(b, "denied_ipv4", denied4);
    ctl_rec_int(b, "received_ipv6", 0);
    ctl_rec_int(b, "denied_ipv6", 0);
    ctl_rec_int(b, "peer_changes", peer_changes);
    ctl_rec_int(b, "steps", 0);
    ctl_rec_end(b);
}

/* Parse b's records and lint them into r (b freed). */
static void lint_records(struct ctl_buf *b, struct lint_report *r)
{
    struct ctl_record recs[16];
    int n = ctl_records_parse(b->data, b->len, recs, 16);

    assert_true(n >= 0);
    lint_report_init(r, "/run/t.sock");
    lint_live(recs, (size_t)n, r);
    ctl_buf_free(b);
}

static void test_live_sources(void **state)
{
    struct ctl_buf b;
    struct lint_report r;
    (void)state;

    ctl_buf_init(&b, 1 << 16);
    add_tracking(&b, 0, 1);
    add_source(&b, "a.example:123", "selected", 0377, 500, 498);
    add_source(&b, "old.example:123", "unreachable", 0, 500, 0);
    add_source(&b, "flaky.example:123", "unreachable", 0, 500, 300);
    add_source(&b, "new.example:123", "unreachable", 0, 7, 0); /* too early to tell */
    add_source(&b, "deny.example:123", "denied", 0, 500, 10);
    add_source(&b, "ntp1.invalid", "unresolved", 0, 0, 0);
    lint_records(&b, &r);
    assert_int_equal(r.n, 4);
    assert_string_equal(r.f[0].code, "source-unreachable");
    assert_int_equal(r.f[0].severity, LINT_WARNING);
    assert_int_equal(r.f[0].line, 0);
    assert_string_equal(r.f[0].message, "old.example:123 never answered (500 requests sent): a "
                                        "retired server left in the config?");
    assert_string_equal(r.f[1].message, "flaky.example:123 answered none of the last 8 polls "
                                        "(300 of 500 since start)");
    assert_string_equal(r.f[2].code, "source-denied");
    assert_string_equal(r.f[3].code, "source-unresolved");
    assert_int_equal(r.f[3].severity, LINT_WARNING);
    assert_string_equal(r.f[3].message, "ntp1.invalid (line 0) does not resolve: it is no source, "
                                        "and the daemon keeps trying");
    lint_report_free(&r);

    /* only an unresolved name: nothing is reachable, an error */
    ctl_buf_init(&b, 1 << 16);
    add_source(&b, "ntp1.invalid", "unresolved", 0, 0, 0);
    lint_records(&b, &r);
    assert_int_equal(count(&r, "source-unresolved", LINT_ERROR, 0), 1);
    lint_report_free(&r);

    /* none reachable at all: the daemon runs free, an error */
    ctl_buf_init(&b, 1 << 16);
    add_source(&b, "old.example:123", "unreachable", 0, 8, 0);
    add_source(&b, "old2.example:123", "unreachable", 0, 9, 0);
    lint_records(&b, &r);
    assert_int_equal(count(&r, "source-unreachable", LINT_ERROR, 0), 2);
    assert_int_equal(lint_exit_status(&r), 2);
    lint_report_free(&r);
}

static void test_live_tracking(void **state)
{
    struct ctl_buf b;
    struct lint_report r;
    (void)state;

    /* 4 changes in 32 polls: one every 8, flapping; in 33 polls: not */
    for (int polls = 32; polls <= 33; polls++) {
        ctl_buf_init(&b, 1 << 16);
        add_tracking(&b, 4, 0);
        add_source(&b, "a.example:123", "selected", 0377, polls, polls);
        lint_records(&b, &r);
        assert_int_equal(count(&r, "peer-flapping", LINT_WARNING, 0), polls == 32);
        assert_int_equal(r.n, polls == 32);
        lint_report_free(&r);
    }
    /* 3 changes are not enough to judge; an old daemon has no field */
    ctl_buf_init(&b, 1 << 16);
    add_tracking(&b, 3, 0);
    add_source(&b, "a.example:123", "selected", 0377, 4, 4);
    lint_records(&b, &r);
    assert_int_equal(r.n, 0);
    lint_report_free(&r);
    ctl_buf_init(&b, 1 << 16);
    add_tracking(&b, -1, 0);
    lint_records(&b, &r);
    assert_int_equal(r.n, 0);
    lint_report_free(&r);
    /* steps: 3 are what makestep 1 3 may do; 4 is a finding */
    for (int steps = 3; steps <= 4; steps++) {
        ctl_buf_init(&b, 1 << 16);
        add_tracking(&b, 0, steps);
        lint_records(&b, &r);
        assert_int_equal(count(&r, "clock-steps", LINT_WARNING, 0), steps == 4);
        if (steps == 4)
            assert_string_equal(r.f[0].message,
                                "the clock was stepped 4 times since start (last -0.250 s)");
        lint_report_free(&r);
    }
}

static void test_live_denied(void **state)
{
    struct ctl_buf b;
    struct lint_report r;
    (void)state;

    ctl_buf_init(&b, 1 << 16);
    add_serverstats(&b, "ipv4", 1000, 200); /* 20%: a finding */
    add_serverstats(&b, "ipv6", 1000, 199);
    lint_records(&b, &r);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.f[0].code, "denied-traffic");
    assert_string_equal(r.f[0].message,
                        "ipv4: 200 of 1000 requests (20%) were denied by the allow rules");
    lint_report_free(&r);
    ctl_buf_init(&b, 1 << 16);
    add_serverstats(&b, "ipv4", 99, 99); /* too few to judge */
    add_serverstats(&b, "ipv6", 100, 100);
    lint_records(&b, &r);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.f[0].message, "ipv6: 100 of 100"));
    lint_report_free(&r);
}

/* The firewall comparison's counts become one whole-file warning, sorted
 * ahead of the line findings; matching tables give none. */
static void test_firewall_drift(void **state)
{
    struct lint_report r;
    (void)state;

    lint_report_init(&r, "t.conf");
    lint_firewall_drift(&r, 0, 0);
    assert_int_equal(r.n, 0);
    lint_report_init(&r, "t.conf");
    r.f = calloc(4, sizeof(*r.f));
    r.cap = 4;
    r.n = 1;
    r.f[0].line = 7;
    r.f[0].code = "ipv4-open";
    lint_firewall_drift(&r, 2, 1);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.f[0].code, "firewall-drift");
    assert_int_equal(r.f[0].line, 0);
    assert_int_equal(r.f[0].severity, LINT_WARNING);
    assert_non_null(strstr(r.f[0].message, "2 rule(s) missing, 1 unexpected"));
    assert_string_equal(r.f[1].code, "ipv4-open");
    assert_int_equal(lint_exit_status(&r), 1);
    lint_report_free(&r);
}

/* With 10 minutes or more of recent history, flapping and denied traffic
 * are judged on it, not on the totals since start. */
static void test_live_recent(void **state)
{
    struct ctl_buf b;
    struct lint_report r;
    (void)state;

    /* the totals say flapping (40 changes in 32 polls); the last hour is calm */
    ctl_buf_init(&b, 1 << 16);
    add_tracking(&b, 40, 0);
    add_source(&b, "a.example:123", "selected", 0377, 32, 32);
    add_recent(&b, 3600, 3, 0, 0);
    lint_records(&b, &r);
    assert_int_equal(r.n, 0);
    lint_report_free(&r);
    /* calm totals over a long life, 4 changes in the last hour: flapping now */
    ctl_buf_init(&b, 1 << 16);
    add_tracking(&b, 4, 0);
    add_source(&b, "a.example:123", "selected", 0377, 5000, 5000);
    add_recent(&b, 3600, 4, 0, 0);
    lint_records(&b, &r);
    assert_int_equal(count(&r, "peer-flapping", LINT_WARNING, 0), 1);
    assert_string_equal(r.f[0].message, "the system peer changed 4 times in the last 60 minutes: "
                                        "the sources disagree or are noisy");
    lint_report_free(&r);
    /* under 10 minutes of history: the totals are judged */
    ctl_buf_init(&b, 1 << 16);
    add_tracking(&b, 4, 0);
    add_source(&b, "a.example:123", "selected", 0377, 32, 32);
    add_recent(&b, 540, 0, 0, 0);
    lint_records(&b, &r);
    assert_int_equal(count(&r, "peer-flapping", LINT_WARNING, 0), 1);
    lint_report_free(&r);
    /* an old scan in the totals, quiet now; then a spike now under quiet totals */
    ctl_buf_init(&b, 1 << 16);
    add_serverstats(&b, "ipv4", 100000, 50000);
    add_recent(&b, 3600, 0, 1000, 10);
    lint_records(&b, &r);
    assert_int_equal(r.n, 0);
    lint_report_free(&r);
    ctl_buf_init(&b, 1 << 16);
    add_serverstats(&b, "ipv4", 1000000, 300);
    add_recent(&b, 1800, 0, 1000, 300);
    lint_records(&b, &r);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.f[0].message, "ipv4: 300 of 1000 requests (30%) in the last 30 minutes "
                                        "were denied by the allow rules");
    lint_report_free(&r);
}


/* Leap second lists: expired (on its date), expiring within 28 days (as
 * of a given now), unusable; a zone without expiry is fine. */
static void test_leap_lists(void **state)
{
    struct lint_report r;
    char text[512];
    const time_t expiry = 1577491200; /* 2019-12-28, expired-leap.list's */
    (void)state;

    snprintf(text, sizeof(text), SERVER_OK FOUR "leapfile %s/expired-leap.list\n", keydir);
    struct conf *c = conf_parse_string("t.conf", text, stderr);
    assert_non_null(c);
    lint_report_init(&r, "t.conf");
    lint_conf_at(c, expiry - 10 * 86400L - 5, &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(count(&r, "leapfile-expiring", LINT_WARNING, 8), 1);
    assert_non_null(strstr(r.f[0].message, "expired-leap.list expires in 10 days:"));
    lint_report_free(&r);
    lint_report_init(&r, "t.conf");
    lint_conf_at(c, expiry - 28 * 86400L - 5, &r); /* 28 days and more: nothing */
    assert_int_equal(r.n, 0);
    lint_report_free(&r);
    lint_report_init(&r, "t.conf");
    lint_conf_at(c, expiry, &r);
    assert_int_equal(count(&r, "leapfile-expired", LINT_WARNING, 8), 1);
    assert_non_null(strstr(r.f[0].message, "expired on 2019-12-28:"));
    lint_report_free(&r);
    conf_free(c);

    /* right/UTC carries no expiry: clean; a missing list: an error */
    expect_only(SERVER_OK FOUR "leapsectz right/UTC\n", NULL, 0, 0, NULL);
    expect_only(SERVER_OK FOUR "leapsectz right/Nowhere\n", "leapfile-unusable", LINT_ERROR, 8,
                NULL);
    expect_only(SERVER_OK FOUR "leapfile /nonexistent/leap-seconds.list\n", "leapfile-unusable",
                LINT_ERROR, 8, NULL);
}

/* Smeared time meeting true UTC: one finding per way it happens. */
static void test_smear_mixed(void **state)
{
    (void)state;
    /* only non-smearing sources, or only smearing ones: nothing */
    expect_only(SERVER_OK FOUR "leapsmear\n", NULL, 0, 0, NULL);
    expect_only(SERVER_OK "server time1.google.com\nserver time2.google.com\n"
                          "server time3.google.com\nserver time4.google.com\n",
                NULL, 0, 0, NULL);
    /* a smearing source among others (any case) */
    expect_only(SERVER_OK "server a.example\nserver b.example\nserver c.example\n"
                          "server Time.AWS.com\n",
                "smear-mixed", LINT_WARNING, 7, NULL);
    /* leapsmear over a smearing source: twice smeared */
    expect_only(SERVER_OK "server time1.google.com\nserver time2.google.com\n"
                          "server time3.google.com\nserver time4.google.com\nleapsmear 3600\n",
                "smear-mixed", LINT_WARNING, 8, NULL);
    /* leapsmear on orphan peers */
    expect_only(SERVER_OK FOUR "local stratum 10 orphan\nleapsmear\n", "smear-mixed",
                LINT_WARNING, 9, NULL);
}

/* Every code is documented in doc/tempusctl.8 and known to the table. */
static void test_codes_documented(void **state)
{
    char *man = read_file("doc/tempusctl.8");
    size_t i = 0;
    (void)state;

    for (; lint_code_at(i); i++) {
        char want[64] = ".B ";
        size_t len = 3;
        for (const char *c = lint_code_at(i); *c && len < sizeof(want) - 3; c++) {
            if (*c == '-')
                want[len++] = '\\'; /* troff writes a hyphen as \- */
            want[len++] = *c;
        }
        want[len++] = '\n';
        want[len] = '\0';
        if (!strstr(man, want))
            fail_msg("doc/tempusctl.8 does not document %s", lint_code_at(i));
    }
    assert_true(i >= 20);
    assert_string_equal(lint_severity_name(LINT_INFO), "info");
    assert_string_equal(lint_severity_name(LINT_WARNING), "warning");
    assert_string_equal(lint_severity_name(LINT_ERROR), "error");
    free(man);
}

/* One golden file: lint it; 0 if the output is the .out file. */
static int golden_one(const char *conf_path, char *seen, size_t seen_size)
{
    char out_path[512];
    struct lint_report r;
    struct ctl_buf out;

    snprintf(out_path, sizeof(out_path), "%.*s.out", (int)(strlen(conf_path) - 5), conf_path);
    const char *base = strrchr(conf_path, '/');
    int clean = strncmp(base ? base + 1 : conf_path, "clean", 5) == 0;
    char *text = read_file(conf_path), *t = subst(text);
    char *raw = clean ? NULL : read_file(out_path);
    char *want = subst(raw ? raw : "");
    struct conf *c = conf_parse_string(conf_path, t, stderr);
    if (!c)
        fail_msg("%s does not parse", conf_path);
    lint_report_init(&r, conf_path);
    lint_conf(c, &r);
    ctl_buf_init(&out, 1 << 20);
    lint_format(&r, &out);
    ctl_buf_append(&out, "", 1);
    int bad = strcmp(out.data, want) != 0 || (!clean && r.n == 0);
    if (bad)
        print_error("%s:\n--- want:\n%s--- got:\n%s", conf_path, want, out.data);
    for (size_t i = 0; i < r.n; i++) {
        size_t len = strlen(seen);
        snprintf(seen + len, seen_size - len, " %s ", r.f[i].code);
    }
    ctl_buf_free(&out);
    lint_report_free(&r);
    conf_free(c);
    free(want);
    free(raw);
    free(text);
    free(t);
    return bad;
}

/* Every tests/lint/bad-NN.conf gives exactly bad-NN.out; clean*.conf give
 * nothing; every finding about a file shows up in some golden file. */
static void test_golden(void **state)
{
    /* live findings, and leapfile-expiring, which depends on today's date
     * (test_leap_lists shows it) */
    static const char *const live[] = {"source-unreachable", "source-denied",
                                       "source-unresolved",  "peer-flapping",
                                       "clock-steps",        "denied-traffic",
                                       "firewall-drift",
                                       "leapfile-expiring"};
    static char seen[1 << 16];
    glob_t g;
    int failed = 0;
    (void)state;

    if (glob("tests/lint/*.conf", 0, NULL, &g) != 0)
        fail_msg("no tests/lint/*.conf found: run from the repository root");
    assert_true(g.gl_pathc >= 20);
    for (size_t i = 0; i < g.gl_pathc; i++)
        failed += golden_one(g.gl_pathv[i], seen, sizeof(seen));
    globfree(&g);
    assert_int_equal(failed, 0);
    for (size_t i = 0; lint_code_at(i); i++) {
        char want[64];
        int is_live = 0;
        for (size_t k = 0; k < sizeof(live) / sizeof(live[0]); k++)
            is_live |= strcmp(live[k], lint_code_at(i)) == 0;
        snprintf(want, sizeof(want), " %s ", lint_code_at(i));
        if (!is_live && !strstr(seen, want))
            fail_msg("no golden file shows %s", lint_code_at(i));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean),
        cmocka_unit_test(test_nts_cert_dates),
        cmocka_unit_test(test_loopback_only),
        cmocka_unit_test(test_source_counts),
        cmocka_unit_test(test_open_families),
        cmocka_unit_test(test_wide_rules),
        cmocka_unit_test(test_listen_all),
        cmocka_unit_test(test_ratelimit_off),
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_keyfile),
        cmocka_unit_test(test_key_types),
        cmocka_unit_test(test_key_uses),
        cmocka_unit_test(test_order_and_format),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_live_sources),
        cmocka_unit_test(test_firewall_drift),
        cmocka_unit_test(test_leap_lists),
        cmocka_unit_test(test_smear_mixed),
        cmocka_unit_test(test_live_tracking),
        cmocka_unit_test(test_live_denied),
        cmocka_unit_test(test_live_recent),
        cmocka_unit_test(test_codes_documented),
        cmocka_unit_test(test_golden),
    };
    return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
