/* SPDX-License-Identifier: ISC */
#include "nts_server.h"

#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "keys.h"
#include "log.h"
#include "mem.h"
#include "nts_aead.h"
#include "nts_ke_server.h"
#include "nts_tls.h"
#include "sched.h"
#include "sysio.h"

#define NTS_SERVER_QUEUE 64
#define NTS_SERVER_TIMEOUT_MS 3000 /* one KE session, handshake to last byte */
#define NTS_SERVER_BACKLOG 64
#define NTS_KEYS_FILE_MAX 65536

struct nts_server {
    void *tls;     /* SSL_CTX */
    int listen_fd[NTS_KE_SERVER_LISTEN_MAX]; /* until the KE server takes them */
    unsigned nlisten;
    struct nts_ke_server *ke;
    struct server *srv;
    struct nts_cookie_ring ring;
    struct nts_cookie_ring staged; /* a reload's keys (valid: have_staged) */
    int have_staged;
    void *staged_tls; /* a reload's certificate and key, NULL: none */
    char *keysfile; /* NULL: our own keys */
    unsigned rotate;
    enum server_ntsplain plain;
    char ntp_server[256];
    uint16_t ntp_port;
    unsigned workers;
    uint64_t timer;
    unsigned long rotations;
};

/* Per-packet nonces (server.c): OpenSSL's DRBG, seeded from getrandom. */
static int nts_server_rand(void *buf, size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

/* One "ID HEX" line into k; 0, or -1 with the reason in why. */
static int nts_server_key_line(char *line, struct nts_cookie_key *k, const char **why)
{
    char *save = NULL, *id = strtok_r(line, " \t\r", &save), *hex = strtok_r(NULL, " \t\r", &save);
    char *end;

    if (!id || !hex || strtok_r(NULL, " \t\r", &save)) {
        *why = "not ID HEX";
        return -1;
    }
    errno = 0;
    unsigned long long v = strtoull(id, &end, 10);
    if (*end || id[0] == '-' || errno || v == 0 || v > 0xffffffffull) {
        *why = "the key id is not a number in 1..4294967295";
        return -1;
    }
    if (strlen(hex) != 2 * (size_t)NTS_AEAD_KEY_LEN) {
        *why = "the key is not 64 hex digits";
        return -1;
    }
    for (size_t i = 0; i < NTS_AEAD_KEY_LEN; i++) {
        int b = keys_hex_byte(hex + 2 * i);
        if (b < 0) {
            *why = "the key is not 64 hex digits";
            return -1;
        }
        k->key[i] = (uint8_t)b;
    }
    k->id = (uint32_t)v;
    return 0;
}

/* The file's text, NUL-terminated (at most NTS_KEYS_FILE_MAX bytes). */
static char *nts_server_slurp(const char *path, FILE *errs)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        fprintf(errs, "%s: cannot read: %s\n", path, strerror(errno));
        return NULL;
    }
    char *text = mem_zalloc(NTS_KEYS_FILE_MAX + 1);
    size_t n = fread(text, 1, NTS_KEYS_FILE_MAX + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n > NTS_KEYS_FILE_MAX) {
        fprintf(errs, "%s: %s\n", path, bad ? "read error" : "larger than 64 KiB");
        OPENSSL_cleanse(text, NTS_KEYS_FILE_MAX + 1);
        free(text);
        return NULL;
    }
    return text;
}

int nts_server_read_keys(const char *path, FILE *errs, struct nts_cookie_ring *ring)
{
    char *text = nts_server_slurp(path, errs);
    unsigned n = 0, lineno = 0, bad = 0;

    if (!text)
        return -1;
    memset(ring, 0, sizeof(*ring));
    for (char *p = text, *nl; p && *p && !bad; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        p += strspn(p, " \t\r");
        if (*p == '#' || *p == '\0')
            continue;
        const char *why = NULL;
        struct nts_cookie_key k = {0};
        if (n == NTS_COOKIE_RING)
            why = "more than two keys (the current one and the previous one)";
        else if (nts_server_key_line(p, &k, &why) == 0 && n == 1 && k.id == ring->keys[0].id)
            why = "the same key id twice";
        if (why) {
            fprintf(errs, "%s:%u: %s\n", path, lineno, why);
            bad = 1;
        } else {
            ring->keys[n++] = k;
        }
        OPENSSL_cleanse(&k, sizeof(k));
    }
    OPENSSL_cleanse(text, NTS_KEYS_FILE_MAX + 1);
    free(text);
    if (!bad && n == 0) {
        fprintf(errs, "%s: no key in the file\n", path);
        bad = 1;
    }
    if (bad)
        nts_cookie_ring_clear(ring);
    return bad ? -1 : 0;
}

/* A fresh key from getrandom (through sysio) made the current one. */
static int nts_server_new_key(struct nts_cookie_ring *ring)
{
    uint8_t key[NTS_AEAD_KEY_LEN];
    uint32_t id = 0;

    while (id == 0 || id == ring->keys[0].id || id == ring->keys[1].id)
        if (sysio_getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
            return -1;
    if (sysio_getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
        return -1;
    int rc = nts_cookie_rotate(ring, id, key);
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

/* One listening socket on the numeric address addr; IPv6 with IPv4
 * mapped too when dual. -1 with errno. */
static int nts_server_listen_on(const char *addr, uint16_t port, int dual)
{
    struct netaddr a;
    struct sockaddr_storage ss;
    int one = 1, v6only = !dual;

    if (addr_parse(addr, &a) < 0) {
        errno = EINVAL;
        return -1;
    }
    socklen_t sl = addr_to_sockaddr(&a, port, &ss);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, NTS_SERVER_BACKLOG) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* The listening sockets into ns: one per bindaddress, as NTP has them, or
 * one for every address (IPv6 with IPv4 mapped, IPv4 alone where there is
 * no IPv6). 0, or -1 with errno and *line the line that failed (none
 * left open). */
static int nts_server_listen(const struct conf *conf, struct nts_server *ns, unsigned *line)
{
    uint16_t port = conf->ntss.port;
    int fd;

    *line = conf->ntss.port_line ? conf->ntss.port_line : conf->ntss.cert_line;
    if (!conf->n_bindaddrs) {
        fd = nts_server_listen_on("::", port, 1);
        if (fd < 0 && errno == EAFNOSUPPORT)
            fd = nts_server_listen_on("0.0.0.0", port, 0);
        if (fd < 0)
            return -1;
        ns->listen_fd[ns->nlisten++] = fd;
        return 0;
    }
    for (unsigned i = 0; i < conf->n_bindaddrs && i < NTS_KE_SERVER_LISTEN_MAX; i++) {
        fd = nts_server_listen_on(conf->bindaddrs[i].addr, port, 0);
        if (fd < 0) {
            int e = errno;
            *line = conf->bindaddrs[i].line;
            while (ns->nlisten)
                close(ns->listen_fd[--ns->nlisten]);
            errno = e;
            return -1;
        }
        ns->listen_fd[ns->nlisten++] = fd;
    }
    return 0;
}

/* The TLS context conf names; NULL with file:line on errs. */
static void *nts_server_tls(const struct conf *conf, FILE *errs)
{
    char err[256] = "";
    void *ctx = nts_tls_server_new(conf->ntss.cert, conf->ntss.key, err, sizeof(err));
    if (!ctx)
        fprintf(errs, "%s:%u: ntsservercert %s / ntsserverkey %s: %s\n", conf->path,
                conf->ntss.cert_line, conf->ntss.cert, conf->ntss.key, err);
    return ctx;
}

static int nts_server_first_keys(const struct conf *conf, FILE *errs,
                                 struct nts_cookie_ring *ring)
{
    memset(ring, 0, sizeof(*ring));
    if (!conf->ntss.keysfile)
        return nts_server_new_key(ring);
    if (nts_server_read_keys(conf->ntss.keysfile, errs, ring) == 0)
        return 0;
    fprintf(errs, "%s:%u: ntskeysfile %s is unusable\n", conf->path, conf->ntss.keysfile_line,
            conf->ntss.keysfile);
    return -1;
}

int nts_server_check(const struct conf *conf, FILE *errs)
{
    struct nts_cookie_ring ring;
    int bad = 0;

    if (!conf->ntss.cert || !conf->ntss.key)
        return 0;
    if (nts_aead_init() < 0) {
        fprintf(errs, "%s:%u: no NTS: AES-SIV-CMAC-256 unavailable or failing its self-test\n",
                conf->path, conf->ntss.cert_line);
        return -1;
    }
    void *ctx = nts_server_tls(conf, errs);
    bad |= !ctx;
    nts_tls_server_free(ctx);
    if (conf->ntss.keysfile) {
        bad |= nts_server_first_keys(conf, errs, &ring) < 0;
        nts_cookie_ring_clear(&ring);
    }
    return bad ? -1 : 0;
}

struct nts_server *nts_server_open(const struct conf *conf)
{
    if (!conf->ntss.cert || !conf->ntss.key)
        return NULL;
    struct nts_server *ns = mem_zalloc(sizeof(*ns));
    if (nts_aead_init() < 0)
        fatalx("%s:%u: no NTS: AES-SIV-CMAC-256 unavailable or failing its self-test",
               conf->path, conf->ntss.cert_line);
    if (!(ns->tls = nts_server_tls(conf, stderr)) ||
        nts_server_first_keys(conf, stderr, &ns->ring) < 0)
        fatalx("%s: configuration refused: see the errors above", conf->path);
    unsigned line;
    if (nts_server_listen(conf, ns, &line) < 0)
        fatal("%s:%u: cannot listen for NTS-KE on port %u", conf->path, line, conf->ntss.port);
    ns->keysfile = conf->ntss.keysfile ? mem_strdup(conf->ntss.keysfile) : NULL;
    ns->rotate = conf->ntss.rotate;
    ns->plain = (enum server_ntsplain)conf->ntss.plain;
    memcpy(ns->ntp_server, conf->ntss.ntp_server, sizeof(ns->ntp_server));
    ns->ntp_port = conf->port != 123 ? conf->port : 0;
    ns->workers = conf->ntss.workers;
    log_info("NTS-KE on port %u with %u worker(s), cookie keys %s", conf->ntss.port,
             ns->workers, ns->keysfile ? ns->keysfile : "of our own");
    return ns;
}

/* New keys in force: the NTP server's and the KE threads'. */
static void nts_server_push(struct nts_server *ns)
{
    server_set_nts(ns->srv, &ns->ring, ns->plain, nts_server_rand);
    if (ns->ke)
        nts_ke_server_set_ring(ns->ke, &ns->ring);
}

static void nts_server_rotate_timer(void *arg);

static void nts_server_arm(struct nts_server *ns)
{
    sched_cancel_timer(ns->timer);
    ns->timer = ns->rotate ? sched_add_timer(ns->rotate, nts_server_rotate_timer, ns) : 0;
}

/* Our own keys: a new one. A keys file: read again (its writer rotates). */
static void nts_server_rotate_timer(void *arg)
{
    struct nts_server *ns = arg;
    struct nts_cookie_ring ring = ns->ring;
    int rc;

    ns->timer = 0;
    if (ns->keysfile) {
        char *text = NULL;
        size_t len = 0;
        FILE *errs = open_memstream(&text, &len);
        if (!errs)
            fatal("open_memstream");
        rc = nts_server_read_keys(ns->keysfile, errs, &ring);
        fclose(errs);
        if (rc < 0)
            log_warnx("nts: keeping the cookie keys: %s", text ? text : "");
        free(text);
    } else {
        rc = nts_server_new_key(&ring);
        if (rc < 0)
            log_warnx("nts: no new cookie key (getrandom failed): keeping the current one");
    }
    if (rc == 0 && ring.keys[0].id != ns->ring.keys[0].id) {
        ns->ring = ring;
        ns->rotations++;
        nts_server_push(ns);
        log_info("nts: cookie key %u in use", ns->ring.keys[0].id);
    }
    nts_cookie_ring_clear(&ring);
    nts_server_arm(ns);
}

void nts_server_start(struct nts_server *ns, struct server *srv)
{
    if (!ns)
        return;
    struct nts_ke_server_conf kc = {
        .nlisten = ns->nlisten,
        .tls = ns->tls,
        .workers = ns->workers,
        .queue = NTS_SERVER_QUEUE,
        .per_address = ns->workers > 1 ? ns->workers / 2 : 1,
        .timeout_ms = NTS_SERVER_TIMEOUT_MS,
        .ntp_server = ns->ntp_server[0] ? ns->ntp_server : NULL,
        .ntp_port = ns->ntp_port,
    };
    memcpy(kc.listen_fd, ns->listen_fd, sizeof(kc.listen_fd));
    ns->srv = srv;
    ns->ke = nts_ke_server_start(&kc, &ns->ring);
    if (!ns->ke)
        fatalx("cannot start the NTS-KE server");
    ns->nlisten = 0; /* the KE server's now */
    nts_server_push(ns);
    nts_server_arm(ns);
}

void nts_server_close(struct nts_server *ns)
{
    if (!ns)
        return;
    sched_cancel_timer(ns->timer);
    nts_ke_server_stop(ns->ke);
    while (ns->nlisten)
        close(ns->listen_fd[--ns->nlisten]);
    nts_tls_server_free(ns->tls);
    nts_tls_server_free(ns->staged_tls);
    nts_cookie_ring_clear(&ns->ring);
    nts_cookie_ring_clear(&ns->staged);
    free(ns->keysfile);
    free(ns);
}

/* What cannot change while the KE server runs. */
static int nts_server_fixed(const struct conf *oc, const struct conf *nc, FILE *errs)
{
    const struct conf_ntss *o = &oc->ntss, *n = &nc->ntss;
    int bad = 0;
#define NTS_REFUSE(cond, line, what)                                                               \
    do {                                                                                           \
        if (cond) {                                                                                \
            fprintf(errs, "%s:%u: %s cannot change on reload; restart tempusd\n", nc->path,       \
                    line, what);                                                                   \
            bad = 1;                                                                               \
        }                                                                                          \
    } while (0)
    int on_o = o->cert && o->key, on_n = n->cert && n->key;
    NTS_REFUSE(on_o != on_n, n->cert_line ? n->cert_line : o->cert_line, "the NTS server");
    if (!on_o || !on_n)
        return bad ? -1 : 0;
    NTS_REFUSE(o->port != n->port, n->port_line ? n->port_line : o->port_line, "ntsport");
    NTS_REFUSE(o->workers != n->workers, n->workers_line ? n->workers_line : o->workers_line,
               "ntsworkers");
    NTS_REFUSE(strcmp(o->ntp_server, n->ntp_server) != 0,
               n->ntp_server_line ? n->ntp_server_line : o->ntp_server_line, "ntsntpserver");
    NTS_REFUSE(oc->port != nc->port, nc->port_line ? nc->port_line : oc->port_line,
               "port (sent in the NTS-KE port record)");
#undef NTS_REFUSE
    return bad ? -1 : 0;
}

int nts_server_reload_prepare(struct nts_server *ns, const struct conf *oc, const struct conf *nc,
                              FILE *errs)
{
    if (nts_server_fixed(oc, nc, errs) < 0)
        return -1;
    if (!ns)
        return 0;
    /* The certificate and key are read again: a renewed certificate is
     * served from the reload on (the files must be readable by `user`). */
    if (!(ns->staged_tls = nts_server_tls(nc, errs)))
        return -1;
    if (!nc->ntss.keysfile)
        return 0;
    if (nts_server_first_keys(nc, errs, &ns->staged) < 0)
        return -1;
    ns->have_staged = 1;
    return 0;
}

void nts_server_reload_commit(struct nts_server *ns, const struct conf *nc)
{
    if (!ns)
        return;
    free(ns->keysfile);
    ns->keysfile = nc->ntss.keysfile ? mem_strdup(nc->ntss.keysfile) : NULL;
    ns->plain = (enum server_ntsplain)nc->ntss.plain;
    if (ns->have_staged && ns->staged.keys[0].id != ns->ring.keys[0].id) {
        ns->ring = ns->staged;
        ns->rotations++;
        log_info("nts: cookie key %u in use (%s)", ns->ring.keys[0].id, ns->keysfile);
    }
    nts_cookie_ring_clear(&ns->staged);
    ns->have_staged = 0;
    if (ns->staged_tls) {
        if (ns->ke)
            nts_ke_server_set_tls(ns->ke, ns->staged_tls);
        nts_tls_server_free(ns->tls);
        ns->tls = ns->staged_tls;
        ns->staged_tls = NULL;
    }
    nts_server_push(ns);
    if (ns->rotate != nc->ntss.rotate) {
        ns->rotate = nc->ntss.rotate;
        nts_server_arm(ns);
    }
}

void nts_server_reload_abort(struct nts_server *ns)
{
    if (!ns)
        return;
    nts_cookie_ring_clear(&ns->staged);
    ns->have_staged = 0;
    nts_tls_server_free(ns->staged_tls);
    ns->staged_tls = NULL;
}

void nts_server_report(struct ctl_buf *b, struct nts_server *ns)
{
    struct nts_ke_server_stats st = {0};

    if (!ns)
        return;
    if (ns->ke)
        nts_ke_server_get_stats(ns->ke, &st);
    ctl_rec_begin(b, "ntsserver");
    ctl_rec_int(b, "ke_accepted", (long long)st.accepted);
    ctl_rec_int(b, "ke_shed", (long long)st.shed_busy + (long long)st.shed_address);
    ctl_rec_int(b, "ke_shed_address", (long long)st.shed_address);
    ctl_rec_int(b, "ke_served", (long long)st.served);
    ctl_rec_int(b, "ke_failed", (long long)st.failed);
    ctl_rec_int(b, "workers", (long long)ns->workers);
    ctl_rec_int(b, "key_id", (long long)ns->ring.keys[0].id);
    ctl_rec_int(b, "rotations", (long long)ns->rotations);
    ctl_rec_end(b);
}
