/* SPDX-License-Identifier: ISC */
/* The lint findings that read the files a configuration names: the key
 * file (stat and keys), the NTS trust store, the leap second lists, the
 * NTS server's certificate, key and keys file. Nothing is written. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "addr.h"
#include "keys.h"
#include "leapfile.h"
#include "lint_impl.h"
#include "mem.h"
#include "nts_ke_worker.h"
#include "tzleap.h"

#define LINT_IDS_LISTED 6 /* key ids named in one message */
#define LINT_CERT_DAYS 30 /* an NTS certificate expiring sooner is a finding */

/* "1, 2, 7" or "1, 2, 7, ... (9 in all)". */
static void lint_ids(char *buf, size_t size, const uint32_t *ids, unsigned total)
{
    size_t len = 0;
    unsigned shown = total < LINT_IDS_LISTED ? total : LINT_IDS_LISTED;

    buf[0] = '\0';
    for (unsigned i = 0; i < shown && len < size; i++)
        len +=
            (size_t)snprintf(buf + len, size - len, "%s%lu", i ? ", " : "", (unsigned long)ids[i]);
    if (total > shown && len < size)
        snprintf(buf + len, size - len, ", ... (%u in all)", total);
}

/* stat the key file: there, a regular file, not open to other users (which
 * keys_load refuses). 0 if its keys can be read next, else -1 (finding). */
static int lint_keyfile_stat(const struct conf *c, struct lint_report *r)
{
    struct stat st;

    if (stat(c->keyfile, &st) < 0) {
        int e = errno;
        if (e == ENOENT)
            lint_add(r, LINT_WARNING, c->keyfile_line, L_KEYFILE_MISSING,
                     "correct the path, or create the file with mode 0600",
                     "key file %s does not exist; its keys are not checked", c->keyfile);
        else
            lint_add(r, e == EACCES ? LINT_INFO : LINT_WARNING, c->keyfile_line,
                     L_KEYFILE_UNREADABLE, "run the lint as root to check the key file",
                     "cannot read key file %s: %s", c->keyfile, strerror(e));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        lint_add(r, LINT_WARNING, c->keyfile_line, L_KEYFILE_UNREADABLE,
                 "point keyfile at a regular file", "key file %s is %s", c->keyfile,
                 S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
        return -1;
    }
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        lint_add(r, LINT_ERROR, c->keyfile_line, L_KEYFILE_PERMS,
                 "chmod 0600, or 0640 with the daemon's group",
                 "key file %s is %s by every user (mode %04o): anyone on this host can forge "
                 "authenticated time, and tempusd refuses it",
                 c->keyfile, st.st_mode & S_IWOTH ? "writable" : "readable",
                 (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return 0;
}

/* The key ids in the file, in file order: the first word of each line
 * that is not a comment. keys_load judges the rest. -1 if the file cannot
 * be opened (finding added). */
static int lint_keyfile_ids(const struct conf *c, uint32_t **ids, size_t *n, struct lint_report *r)
{
    FILE *f = fopen(c->keyfile, "r");
    char *line = NULL, *end;
    size_t cap = 0;

    if (!f) {
        int e = errno;
        lint_add(r, e == EACCES ? LINT_INFO : LINT_WARNING, c->keyfile_line, L_KEYFILE_UNREADABLE,
                 e == EACCES ? "run the lint as root to check the keys"
                             : "make it a file the daemon can read",
                 "cannot read key file %s: %s", c->keyfile, strerror(e));
        return -1;
    }
    while (getline(&line, &cap, f) > 0) {
        char *w = line + strspn(line, " \t");
        unsigned long v = strtoul(w, &end, 10);
        if (*w >= '0' && *w <= '9' && end != w && v <= UINT32_MAX) {
            *ids = mem_append(*ids, *n, sizeof(**ids));
            (*ids)[(*n)++] = (uint32_t)v;
        }
    }
    free(line);
    fclose(f);
    return 0;
}

/* Parse the key file as tempusd will: NULL if it refuses it (finding
 * added, with the parser's first complaint). */
static struct keys *lint_keyfile_load(const struct conf *c, struct lint_report *r)
{
    struct keys *ks = NULL;
    char *errs = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&errs, &len);

    if (!f)
        return NULL;
    int rc = keys_load(c->keyfile, f, &ks);
    fclose(f);
    if (rc < 0) {
        size_t first = strcspn(errs, "\n");
        unsigned more = 0;
        for (const char *p = errs + first; *p; p++)
            more += *p == '\n' && p[1] != '\0';
        lint_add(r, LINT_ERROR, c->keyfile_line, L_KEYFILE_INVALID,
                 "correct the key file: tempusd refuses to start with it", "%.*s%s",
                 (int)(first < 200 ? first : 200), errs, more ? " (and more errors)" : "");
    }
    free(errs);
    return ks;
}

/* MD5 keys and hash keys under LINT_KEY_MIN_BYTES, by id. */
static void lint_key_types(const struct conf *c, const struct keys *ks, const uint32_t *ids,
                           size_t n, struct lint_report *r)
{
    uint32_t md5[LINT_IDS_LISTED], weak[LINT_IDS_LISTED];
    unsigned n_md5 = 0, n_weak = 0;
    char list[96];

    for (size_t i = 0; i < n; i++) {
        const struct auth_key *k = keys_find(ks, ids[i]);
        if (!k)
            continue;
        if (auth_type_weak(k->type) && n_md5++ < LINT_IDS_LISTED)
            md5[n_md5 - 1] = k->id;
        if (!auth_cipher_key_len(k->type) && k->len < LINT_KEY_MIN_BYTES &&
            n_weak++ < LINT_IDS_LISTED)
            weak[n_weak - 1] = k->id;
    }
    if (n_md5) {
        lint_ids(list, sizeof(list), md5, n_md5);
        lint_add(r, LINT_WARNING, c->keyfile_line, L_KEY_MD5,
                 "move both sides to AES128 keys, as RFC 8573 recommends",
                 "MD5 keys in the key file: %s", list);
    }
    if (n_weak) {
        lint_ids(list, sizeof(list), weak, n_weak);
        lint_add(r, LINT_ERROR, c->keyfile_line, L_KEY_SHORT,
                 "use random 128-bit keys: HEX: and 32 hex digits",
                 "keys shorter than %d bytes, guessable from one captured packet: %s",
                 LINT_KEY_MIN_BYTES, list);
    }
}

/* Keys the config uses (server ... key N, trustedkeys) that ks lacks. A
 * key used without any keyfile directive never gets here: the parser
 * refuses it (conf_ctl_finish). */
static void lint_key_uses(const struct conf *c, const struct keys *ks, struct lint_report *r)
{
    const char *fix = "add the key to the key file or correct the id";

    for (unsigned i = 0; i < c->n_servers; i++)
        if (c->servers[i].key && !keys_find(ks, c->servers[i].key))
            lint_add(r, LINT_ERROR, c->servers[i].line, L_KEY_UNKNOWN, fix,
                     "key %lu is not in the key file", (unsigned long)c->servers[i].key);
    for (unsigned i = 0; i < c->n_trustedkeys; i++)
        if (!keys_find(ks, c->trustedkeys[i]))
            lint_add(r, LINT_ERROR, c->trustedkeys_line, L_KEY_UNKNOWN, fix,
                     "trusted key %lu is not in the key file", (unsigned long)c->trustedkeys[i]);
}

void lint_keys(const struct conf *c, struct lint_report *r)
{
    uint32_t *ids = NULL;
    size_t n = 0;

    if (!c->keyfile)
        return;
    if (lint_keyfile_stat(c, r) < 0 || lint_keyfile_ids(c, &ids, &n, r) < 0)
        return;
    struct keys *ks = lint_keyfile_load(c, r);
    if (ks) {
        lint_key_types(c, ks, ids, n, r);
        lint_key_uses(c, ks, r);
    }
    keys_destroy(ks);
    free(ids);
}

/* NTS checks the certificate against the server line's host: an address
 * there needs an IP address subjectAltName, which few certificates carry
 * (public CAs rarely issue them). */
void lint_nts_client(const struct conf *c, struct lint_report *r)
{
    struct netaddr a;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    /* The trust store as tempusd reads it at start (tempusd -n too). */
    if (f && nts_ke_worker_check(c, f) < 0) {
        fclose(f);
        f = NULL;
        const char *msg = strstr(text, ": ntstrustedcerts: ");
        msg = msg ? msg + strlen(": ntstrustedcerts: ") : text;
        text[strcspn(text, "\n")] = '\0';
        lint_add(r, LINT_ERROR, c->ntstrustedcerts_line, L_NTS_TRUST_INVALID,
                 "point ntstrustedcerts at PEM CA certificates",
                 "the NTS trust store cannot be read: %s", msg);
    }
    if (f)
        fclose(f);
    free(text);

    for (unsigned i = 0; i < c->n_servers; i++) {
        const struct conf_server *s = &c->servers[i];
        if (s->nts && addr_parse(s->host, &a) == 0)
            lint_add(r, LINT_WARNING, s->line, L_NTS_IP_LITERAL,
                     "use the server's DNS name, or make sure its certificate holds this address "
                     "as an IP subjectAltName",
                     "nts with the address %s: the key exchange succeeds only if the server's "
                     "certificate names this IP address",
                     s->host);
    }
}

/* One leap second list (a leapfile, or the zone of leapsectz when tz):
 * unusable, expired, or expiring within LEAPFILE_WARN_DAYS of now. */
static void lint_leaplist(int tz, const char *name, unsigned line, time_t now,
                          struct lint_report *r)
{
    const char *what = tz ? "leapsectz" : "leapfile";
    const char *fix = tz ? "update tzdata" : "update tzdata, or fetch the list from the IERS";
    struct leap_table *t = NULL;

    if ((tz ? tzleap_load(name, NULL, &t) : leapfile_load(name, NULL, &t)) < 0) {
        lint_add(r, LINT_ERROR, line, L_LEAPFILE_UNUSABLE, "correct the path, or update tzdata",
                 "%s %s cannot be read, is damaged or has no leap seconds: the daemon "
                 "refuses it",
                 what, name);
        return;
    }
    time_t exp = leapfile_expiry(t);
    leapfile_free(t);
    if (exp == LEAPFILE_NO_EXPIRY)
        return;
    if (exp <= now) {
        struct tm tm;
        char date[16] = "?";
        if (gmtime_r(&exp, &tm))
            strftime(date, sizeof(date), "%Y-%m-%d", &tm);
        lint_add(r, LINT_WARNING, line, L_LEAPFILE_EXPIRED, fix,
                 "%s %s expired on %s: leap seconds come from the sources' vote only", what, name,
                 date);
        return;
    }
    long long days = ((long long)exp - (long long)now) / 86400;
    if (days < LEAPFILE_WARN_DAYS)
        lint_add(r, LINT_WARNING, line, L_LEAPFILE_EXPIRING, fix,
                 "%s %s expires in %lld days: leap seconds then come from the sources' vote only",
                 what, name, days);
}

/* Public services known to smear leap seconds (their operators say so). */
static int lint_smearing(const char *host)
{
    static const char *const names[] = {
        "time.google.com",    "time1.google.com",   "time2.google.com",   "time3.google.com",
        "time4.google.com",   "time.aws.com",       "169.254.169.123",    "fd00:ec2::123",
        "time.facebook.com",  "time1.facebook.com", "time2.facebook.com", "time3.facebook.com",
        "time4.facebook.com", "time5.facebook.com",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(host, names[i]) == 0)
            return 1;
    return 0;
}

/* Smeared and true UTC meeting: smearing and other sources followed
 * together (0.5 s apart around a leap), a smear served of time already
 * smeared upstream, or one served to orphan peers, which follow each
 * other's served time. */
static void lint_smear(const struct conf *c, struct lint_report *r)
{
    unsigned smearing = 0, first = 0;

    for (unsigned i = 0; i < c->n_servers; i++)
        if (lint_smearing(c->servers[i].host) && smearing++ == 0)
            first = i;
    if (smearing && smearing < c->n_servers)
        lint_add(r, LINT_WARNING, c->servers[first].line, L_SMEAR_MIXED,
                 "follow only smearing or only non-smearing sources",
                 "%s smears leap seconds and other sources here do not: around a leap "
                 "second they disagree by up to 0.5 s",
                 c->servers[first].host);
    if (c->leapsmear > 0.0 && smearing)
        lint_add(r, LINT_WARNING, c->leapsmear_line, L_SMEAR_MIXED,
                 "follow non-smearing sources, or drop leapsmear",
                 "leapsmear on time already smeared by %s: clients would see the leap second "
                 "smeared twice",
                 c->servers[first].host);
    if (c->leapsmear > 0.0 && c->local_orphan)
        lint_add(r, LINT_WARNING, c->leapsmear_line, L_SMEAR_MIXED,
                 "drop leapsmear on orphan peers, or orphan mode",
                 "leapsmear with local orphan: the peers follow each other's served, smeared "
                 "time as if it were UTC");
}

void lint_leap(const struct conf *c, time_t now, struct lint_report *r)
{
    if (c->leapfile)
        lint_leaplist(0, c->leapfile, c->leapfile_line, now, r);
    if (c->leapsectz)
        lint_leaplist(1, c->leapsectz, c->leapsectz_line, now, r);
    lint_smear(c, r);
}

/* A secret of the NTS server (its private key, the shared cookie keys)
 * that other users may read. 0 if it could be checked, -1 (finding) if
 * not. */
static int lint_nts_secret(const char *what, const char *path, unsigned line, struct lint_report *r)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        int e = errno;
        lint_add(r, e == EACCES ? LINT_INFO : LINT_WARNING, line, L_NTS_FILE,
                 "correct the path (a regular file, mode 0600)", "%s %s: %s", what, path,
                 strerror(e));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        lint_add(r, LINT_WARNING, line, L_NTS_FILE, "correct the path (a regular file, mode 0600)",
                 "%s %s is not a regular file", what, path);
        return -1;
    }
    if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH))
        lint_add(r, st.st_mode & (S_IROTH | S_IWOTH) ? LINT_ERROR : LINT_WARNING, line,
                 L_NTS_KEY_PERMS, "chmod 0600 (owned by root, or by the daemon's user)",
                 "%s %s is %s (mode %04o): whoever reads it can impersonate this NTS server", what,
                 path,
                 st.st_mode & (S_IROTH | S_IWOTH) ? "open to every user" : "open to its group",
                 (unsigned)(st.st_mode & 07777));
    return 0;
}

/* The NTS certificate's end of validity against now. */
static void lint_nts_cert(const struct conf *c, struct lint_report *r)
{
    FILE *f = fopen(c->ntss.cert, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    int days = 0, secs = 0;

    if (f)
        fclose(f);
    if (!x) {
        lint_add(r, LINT_WARNING, c->ntss.cert_line, L_NTS_FILE,
                 "point ntsservercert at a PEM certificate chain", "ntsservercert %s: %s",
                 c->ntss.cert, f ? "no PEM certificate in it" : strerror(errno));
        return;
    }
    if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) != 1)
        days = -1;
    if (days < 0 || secs < 0)
        lint_add(r, LINT_ERROR, c->ntss.cert_line, L_NTS_CERT_EXPIRY,
                 "renew the certificate, then tempusctl reload",
                 "NTS certificate %s has expired: clients refuse the key exchange", c->ntss.cert);
    else if (days < LINT_CERT_DAYS)
        lint_add(r, LINT_WARNING, c->ntss.cert_line, L_NTS_CERT_EXPIRY,
                 "renew the certificate, then tempusctl reload",
                 "NTS certificate %s expires in %d day(s)", c->ntss.cert, days);
    X509_free(x);
}

void lint_nts_server(const struct conf *c, struct lint_report *r)
{
    if (!c->ntss.cert || !c->ntss.key)
        return;
    lint_nts_cert(c, r);
    lint_nts_secret("ntsserverkey", c->ntss.key, c->ntss.key_line, r);
    if (c->ntss.keysfile)
        lint_nts_secret("ntskeysfile", c->ntss.keysfile, c->ntss.keysfile_line, r);
}
