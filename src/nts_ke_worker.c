/* SPDX-License-Identifier: ISC */
#include "nts_ke_worker.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "sched.h"

/* One exchange: filled by the loop, run and answered by its thread, read
 * back and freed by the loop. The thread writes only the job's id to the
 * pipe (atomic), never the result itself, and then leaves the job alone. */
struct ke_job {
    uint64_t id;
    SSL_CTX *ctx; /* a reference of the job's own */
    char name[256];
    struct sockaddr_storage sa;
    socklen_t salen;
    int status;
    struct nts_ke_result res;
    char err[256];
};

struct ke_pending {
    uint64_t id;
    struct ke_job *job;  /* NULL: free slot */
    nts_ke_worker_fn fn; /* NULL: cancelled, the answer is dropped */
    void *arg;
};

static SSL_CTX *ke_ctx;
static int ke_pipe[2] = {-1, -1};
static struct ke_pending ke_pending[NTS_KE_WORKER_MAX];
static uint64_t ke_next_id = 1;

int nts_ke_worker_needed(const struct conf *conf)
{
    for (unsigned i = 0; i < conf->n_servers; i++)
        if (conf->servers[i].nts)
            return 1;
    return 0;
}

/* The trust store of conf, or NULL with a file:line message in msg. */
static SSL_CTX *ke_load(const struct conf *conf, char *msg, size_t size)
{
    char err[512];
    void *ctx = nts_tls_client_new((const char *const *)conf->ntstrustedcerts,
                                   conf->n_ntstrustedcerts, err, sizeof(err));
    if (!ctx && conf->n_ntstrustedcerts)
        snprintf(msg, size, "%s:%u: ntstrustedcerts: %s", conf->path, conf->ntstrustedcerts_line,
                 err);
    else if (!ctx)
        snprintf(msg, size, "%s: NTS: %s", conf->path, err);
    return ctx;
}

int nts_ke_worker_check(const struct conf *conf, FILE *errs)
{
    char msg[1024];

    if (!nts_ke_worker_needed(conf) && conf->n_ntstrustedcerts == 0)
        return 0;
    SSL_CTX *ctx = ke_load(conf, msg, sizeof(msg));
    if (!ctx) {
        if (errs)
            fprintf(errs, "%s\n", msg);
        return -1;
    }
    SSL_CTX_free(ctx);
    return 0;
}

static void ke_readable(int fd, void *arg)
{
    uint64_t id;

    (void)arg;
    while (read(fd, &id, sizeof(id)) == (ssize_t)sizeof(id)) {
        for (int i = 0; i < NTS_KE_WORKER_MAX; i++) {
            if (!ke_pending[i].job || ke_pending[i].id != id)
                continue;
            struct ke_pending p = ke_pending[i];
            struct ke_job *job = p.job;
            ke_pending[i].job = NULL;
            if (p.fn)
                p.fn(p.arg, job->status, job->status == NTS_KE_OK ? &job->res : NULL, job->err);
            OPENSSL_cleanse(&job->res, sizeof(job->res));
            free(job);
            break;
        }
    }
}

void nts_ke_worker_init(const struct conf *conf)
{
    char msg[1024];

    if (nts_ke_worker_needed(conf) || conf->n_ntstrustedcerts) {
        if (!(ke_ctx = ke_load(conf, msg, sizeof(msg))))
            fatalx("%s", msg);
        /* The cipher is fetched now: OpenSSL may read its configuration
         * and load a provider, which the sandbox would not allow later. */
        if (nts_aead_init() < 0)
            fatalx("NTS: AEAD_AES_SIV_CMAC_256 is not available in this OpenSSL");
    }
    if (pipe2(ke_pipe, O_CLOEXEC) < 0)
        fatal("pipe");
    fcntl(ke_pipe[0], F_SETFL, fcntl(ke_pipe[0], F_GETFL) | O_NONBLOCK);
    memset(ke_pending, 0, sizeof(ke_pending));
    if (sched_add_fd(ke_pipe[0], ke_readable, NULL) < 0)
        fatalx("NTS-KE: event loop full");
}

static int ke_same_list(const struct conf *a, const struct conf *b)
{
    if (a->n_ntstrustedcerts != b->n_ntstrustedcerts)
        return 0;
    for (unsigned i = 0; i < a->n_ntstrustedcerts; i++)
        if (strcmp(a->ntstrustedcerts[i], b->ntstrustedcerts[i]) != 0)
            return 0;
    return 1;
}

int nts_ke_worker_reload_check(const struct conf *old, const struct conf *next, FILE *errs)
{
    unsigned line =
        next->ntstrustedcerts_line ? next->ntstrustedcerts_line : old->ntstrustedcerts_line;

    if (!ke_same_list(old, next)) {
        fprintf(errs, "%s:%u: ntstrustedcerts cannot change on reload; restart tempusd\n",
                next->path, line);
        return -1;
    }
    if (!ke_ctx && nts_ke_worker_needed(next)) {
        for (unsigned i = 0; i < next->n_servers; i++) {
            if (next->servers[i].nts) {
                fprintf(errs,
                        "%s:%u: the first NTS source needs the trust store, read only at "
                        "start; restart tempusd\n",
                        next->path, next->servers[i].line);
                break;
            }
        }
        return -1;
    }
    return 0;
}

void nts_ke_worker_fini(void)
{
    if (ke_pipe[0] >= 0) {
        sched_remove_fd(ke_pipe[0]);
        /* The write end stays open, as in resolve.c: a thread still
         * running may write to it. */
        close(ke_pipe[0]);
        ke_pipe[0] = -1;
    }
    if (ke_ctx)
        nts_aead_fini();
    SSL_CTX_free(ke_ctx); /* threads hold references of their own */
    ke_ctx = NULL;
}

static void *ke_thread(void *p)
{
    struct ke_job *job = p;

    job->status =
        nts_tls_client_run(job->ctx, job->name, (const struct sockaddr *)&job->sa, job->salen,
                           NTS_KE_WORKER_TIMEOUT_MS, &job->res, job->err, sizeof(job->err));
    uint64_t id = job->id;
    SSL_CTX_free(job->ctx);
    job->ctx = NULL;
    /* After this write the loop owns the job again (and may free it). */
    if (write(ke_pipe[1], &id, sizeof(id)) != (ssize_t)sizeof(id)) {
        /* The loop is gone (shutdown): nobody waits for the answer. */
    }
    return NULL;
}

int nts_ke_worker_start(const char *name, const struct netaddr *a, uint16_t port,
                        nts_ke_worker_fn fn, void *arg)
{
    int slot = -1;

    for (int i = 0; i < NTS_KE_WORKER_MAX && slot < 0; i++)
        if (!ke_pending[i].job)
            slot = i;
    if (!ke_ctx || slot < 0 || ke_pipe[0] < 0) {
        log_warnx("NTS-KE with %s not started: %s", name,
                  ke_ctx ? "too many key exchanges in flight" : "no trust store loaded");
        return -1;
    }
    struct ke_job *job = mem_zalloc(sizeof(*job));
    job->id = ke_next_id++;
    snprintf(job->name, sizeof(job->name), "%s", name);
    job->salen = addr_to_sockaddr(a, port, &job->sa);
    SSL_CTX_up_ref(ke_ctx);
    job->ctx = ke_ctx;
    /* Pending before the thread exists: the answer may come at once. */
    ke_pending[slot] = (struct ke_pending){job->id, job, fn, arg};
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int err = pthread_create(&t, &attr, ke_thread, job);
    pthread_attr_destroy(&attr);
    if (err) {
        ke_pending[slot].job = NULL;
        SSL_CTX_free(job->ctx);
        free(job);
        errno = err;
        log_warn("NTS-KE thread for %s", name);
        return -1;
    }
    return 0;
}

void nts_ke_worker_cancel(void *arg)
{
    for (int i = 0; i < NTS_KE_WORKER_MAX; i++) {
        if (ke_pending[i].job && ke_pending[i].arg == arg) {
            ke_pending[i].fn = NULL;
            ke_pending[i].arg = NULL;
        }
    }
}
