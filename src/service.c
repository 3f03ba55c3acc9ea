/* SPDX-License-Identifier: ISC */
#include "service.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "acl.h"
#include "auth.h"
#include "clock.h"
#include "ctl.h"
#include "history.h"
#include "driftfile.h"
#include "http.h"
#include "keys.h"
#include "nts_ke_worker.h"
#include "leapfile.h"
#include "listener.h"
#include "log.h"
#include "maxima.h"
#include "mem.h"
#include "metrics.h"
#include "notify.h"
#include "nts_server.h"
#include "privdrop.h"
#include "ratelimit.h"
#include "report.h"
#include "resolve.h"
#include "sched.h"
#include "server.h"
#include "sync.h"
#include "tzleap.h"
#include "refclock.h"
#include "upstream.h"
#include "version.h"
#include "sysio.h"

/* The sources' table is the selection's (sync.h), sized in maxima.h. */
_Static_assert(SYNC_MAX_SOURCES == MAXIMA_SOURCES + MAXIMA_REFCLOCKS, "maxima.h: sources");

#define SERVICE_DRIFT_INTERVAL 3600.0
#define SERVICE_CLIENTS_DEFAULT 20
/* Recent counters: a snapshot a minute, an hour's worth kept. */
#define SERVICE_RECENT_STEP 60.0
#define SERVICE_RECENT_WINDOW 3600.0
enum { SERVICE_RX4, SERVICE_DEN4, SERVICE_RX6, SERVICE_DEN6, SERVICE_PEERS, SERVICE_STEPS,
       SERVICE_NRECENT };

struct service {
    struct conf *conf;
    int foreground;
    struct clock *clk;
    struct acl *acl;
    struct ratelimit *rl;
    struct keys *keys; /* NULL: no keyfile */
    struct leap_table *leaps; /* NULL: no leapfile */
    struct leap_table *leaps_tz; /* NULL: no leapsectz */
    struct server *srv;
    struct listener *lis;
    struct sync *sy;
    struct upstream *up;
    struct refclock_set *rc; /* opened before the privilege drop */
    struct ctl_server *ctl;
    struct acl *metrics_acl;
    struct http_server *http;
    struct nts_server *nts; /* NULL: no NTS server */
    uint64_t abuse_timer, drift_timer, recent_timer, ready_timer;
    int ready; /* READY=1 sent */
    struct history *recent;
    double started; /* monotonic seconds */
};

static uint64_t service_seed(void)
{
    uint64_t seed;
    if (sysio_getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
        fatal("getrandom");
    return seed;
}

/* NULL with the offending rule reported to errs when a rule is bad (the
 * parser has validated them, so this is a safety net). */
static struct acl *service_acl(const struct conf_acl_rule *rules, unsigned n, FILE *errs,
                               const char *path)
{
    struct acl *acl = acl_create();
    for (unsigned i = 0; i < n; i++) {
        if (acl_add(acl, rules[i].spec, rules[i].allow) < 0) {
            if (errs)
                fprintf(errs, "%s:%u: bad subnet '%s'\n", path, rules[i].line, rules[i].spec);
            acl_destroy(acl);
            return NULL;
        }
    }
    return acl;
}

/* Every key the config names must be in the key file (the parser has
 * already refused key ids used without a keyfile directive). */
static int service_check_key_refs(const struct conf *conf, const struct keys *keys, FILE *errs)
{
    int bad = 0;

    if (!conf->keyfile)
        return 0;
    for (unsigned i = 0; i < conf->n_servers; i++) {
        uint32_t id = conf->servers[i].key;
        if (id && !keys_find(keys, id)) {
            fprintf(errs, "%s:%u: key %u is not in %s\n", conf->path, conf->servers[i].line, id,
                    conf->keyfile);
            bad = 1;
        }
    }
    for (unsigned i = 0; i < conf->n_trustedkeys; i++) {
        if (!keys_find(keys, conf->trustedkeys[i])) {
            fprintf(errs, "%s:%u: trusted key %u is not in %s\n", conf->path,
                    conf->trustedkeys_line, conf->trustedkeys[i], conf->keyfile);
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

/* The key store conf asks for (NULL without a keyfile), checked against
 * the key ids the config uses. Errors go to errs; returns 0 or -1. */
static int service_keys(const struct conf *conf, FILE *errs, struct keys **out)
{
    *out = NULL;
    if (conf->keyfile && auth_selftest() < 0) {
        fprintf(errs, "%s:%u: no authentication possible: crypto self-test failed\n", conf->path,
                conf->keyfile_line);
        return -1;
    }
    if (conf->keyfile && keys_load(conf->keyfile, errs, out) < 0)
        return -1;
    if (service_check_key_refs(conf, *out, errs) < 0) {
        keys_destroy(*out);
        *out = NULL;
        return -1;
    }
    if (conf->keyfile)
        log_info("%u key(s) from %s", keys_count(*out), conf->keyfile);
    return 0;
}

/* Everything the daemon builds from conf before it opens a socket and can
 * refuse: access rules, the key file and the key ids the config uses, the
 * `user` to become. Both service_open and tempusd -n (service_check) go
 * through here, so that -n passes exactly what the daemon accepts. On
 * failure every reason is on errs (file:line), nothing is left allocated
 * and -1 is returned. */
static int service_prepare(const struct conf *conf, FILE *errs, struct acl **acl,
                           struct acl **metrics_acl, struct keys **keys)
{
    *acl = service_acl(conf->acl, conf->n_acl, errs, conf->path);
    *metrics_acl = service_acl(conf->metricsallow, conf->n_metricsallow, errs, conf->path);
    int bad = !*acl || !*metrics_acl;
    bad |= service_keys(conf, errs, keys) < 0;
    bad |= privdrop_check_user(conf, errs) < 0;
    if (!bad)
        return 0;
    acl_destroy(*acl);
    acl_destroy(*metrics_acl);
    keys_destroy(*keys);
    *acl = *metrics_acl = NULL;
    *keys = NULL;
    return -1;
}

static int service_leaps(const struct conf *conf, struct clock *clk, FILE *errs,
                         struct leap_table **out);
static int service_leaps_tz(const struct conf *conf, FILE *errs, struct leap_table **out);

int service_check(const struct conf *conf, FILE *errs)
{
    struct acl *acl, *metrics_acl;
    struct keys *keys;

    struct leap_table *leaps;

    if (service_prepare(conf, errs, &acl, &metrics_acl, &keys) < 0)
        return -1;
    acl_destroy(acl);
    acl_destroy(metrics_acl);
    keys_destroy(keys);
    if (service_leaps(conf, NULL, errs, &leaps) < 0)
        return -1;
    leapfile_free(leaps);
    if (service_leaps_tz(conf, errs, &leaps) < 0)
        return -1;
    leapfile_free(leaps);
    int bad = nts_ke_worker_check(conf, errs) < 0;
    bad |= nts_server_check(conf, errs) < 0;
    return bad ? -1 : 0;
}

static void service_sync_params(const struct conf *conf, struct sync_params *p)
{
    sync_params_default(p);
    p->select.min_sources = conf->minsources;
    p->select.max_distance = conf->maxdistance;
    p->disc.makestep_threshold = conf->makestep_threshold;
    p->disc.makestep_limit = conf->makestep_limit;
    p->disc.maxchange = conf->maxchange;
    p->disc.max_slew_ppm = conf->maxslewrate;
    p->local_stratum = conf->local_stratum;
    p->local_delay = conf->local_delay;
    p->local_orphan = conf->local_orphan;
    p->leapmode = (enum sync_leapmode)conf->leapmode; /* same order */
    p->smear_window = conf->leapsmear;
}

/* The leap second list conf names (NULL without a leapfile directive).
 * Errors go to errs; returns 0 or -1. An expired list is only a warning:
 * the sources' vote still counts. */
static int service_leaps(const struct conf *conf, struct clock *clk, FILE *errs,
                         struct leap_table **out)
{
    *out = NULL;
    if (!conf->leapfile)
        return 0;
    if (leapfile_load(conf->leapfile, errs, out) < 0) {
        fprintf(errs, "%s:%u: leapfile %s is unusable\n", conf->path, conf->leapfile_line,
                conf->leapfile);
        return -1;
    }
    struct timespec now;
    if (clk)
        clock_now(clk, &now);
    if (clk && leapfile_expiry(*out) < now.tv_sec)
        log_warnx("%s has expired: leap seconds come from the sources' vote only",
                  conf->leapfile);
    log_info("%d leap second entries from %s", leapfile_count(*out), conf->leapfile);
    return 0;
}

/* The leap records of the zone leapsectz names (NULL without one). */
static int service_leaps_tz(const struct conf *conf, FILE *errs, struct leap_table **out)
{
    *out = NULL;
    if (!conf->leapsectz)
        return 0;
    if (tzleap_load(conf->leapsectz, errs, out) < 0) {
        fprintf(errs, "%s:%u: leapsectz %s is unusable\n", conf->path, conf->leapsectz_line,
                conf->leapsectz);
        return -1;
    }
    log_info("%d leap second entries from the zone %s", leapfile_count(*out), conf->leapsectz);
    return 0;
}

static double service_initial_freq(const struct conf *conf)
{
    double ppm = 0.0, skew;
    if (!conf->driftfile)
        return 0.0;
    if (driftfile_read(conf->driftfile, &ppm, &skew) < 0) {
        log_info("no usable drift file %s: starting from 0 ppm", conf->driftfile);
        return 0.0;
    }
    log_info("frequency %.3f ppm from %s", ppm, conf->driftfile);
    return ppm;
}

static void service_save_drift(struct service *sv)
{
    int settled = 0;
    struct discipline *d = sync_discipline(sv->sy);
    double ppm = discipline_drift(d, &settled);
    struct discipline_state st;

    if (!sv->conf->driftfile || !settled)
        return;
    discipline_get_state(d, &st);
    driftfile_write(sv->conf->driftfile, ppm, st.freq_err_ppm);
}

static void service_drift_timer(void *arg)
{
    struct service *sv = arg;
    service_save_drift(sv);
    sv->drift_timer = sched_add_timer(SERVICE_DRIFT_INTERVAL, service_drift_timer, sv);
}

static void service_abuse_timer(void *arg)
{
    struct service *sv = arg;
    server_log_abuse(sv->srv);
    sv->abuse_timer = sv->conf->abuselog_interval
                          ? sched_add_timer(sv->conf->abuselog_interval, service_abuse_timer, sv)
                          : 0;
}

static double service_mono(void)
{
    return (double)sched_mono_ns() / 1e9;
}

static void service_counters(const struct service *sv, uint64_t v[SERVICE_NRECENT])
{
    struct server_stats st;
    struct sync_state sy;
    struct timespec now;

    server_get_stats(sv->srv, &st);
    clock_now(sv->clk, &now);
    sync_get_state(sv->sy, &now, &sy);
    v[SERVICE_RX4] = st.received[SERVER_V4];
    v[SERVICE_DEN4] = st.denied[SERVER_V4];
    v[SERVICE_RX6] = st.received[SERVER_V6];
    v[SERVICE_DEN6] = st.denied[SERVER_V6];
    v[SERVICE_PEERS] = sy.peer_changes;
    v[SERVICE_STEPS] = sy.disc.steps;
}

static void service_recent_timer(void *arg)
{
    struct service *sv = arg;
    uint64_t v[SERVICE_NRECENT];

    service_counters(sv, v);
    history_record(sv->recent, service_mono(), v);
    sv->recent_timer = sched_add_timer(SERVICE_RECENT_STEP, service_recent_timer, sv);
}

static void service_recent(const struct service *sv, struct ctl_buf *out)
{
    uint64_t cur[SERVICE_NRECENT], d[SERVICE_NRECENT];
    struct report_recent r = {0};
    double now = service_mono();

    service_counters(sv, cur);
    history_delta(sv->recent, now, cur, SERVICE_RECENT_WINDOW, d, &r.window);
    r.uptime = now - sv->started;
    r.received[SERVER_V4] = d[SERVICE_RX4];
    r.denied[SERVER_V4] = d[SERVICE_DEN4];
    r.received[SERVER_V6] = d[SERVICE_RX6];
    r.denied[SERVER_V6] = d[SERVICE_DEN6];
    r.peer_changes = d[SERVICE_PEERS];
    r.steps = d[SERVICE_STEPS];
    report_recent(out, &r);
}

/* Every record the daemon can give: what `status` returns, and the metrics. */
static void service_status(struct service *sv, struct ctl_buf *out)
{
    struct timespec now;
    clock_now(sv->clk, &now);
    report_tracking(out, sv->sy, sv->clk, &now);
    report_sources(out, sv->sy, &now);
    report_pending(out, sv->up);
    report_sourcestats(out, sv->sy, &now);
    report_authdata(out, sv->up);
    refclock_report(sv->rc, out);
    report_serverstats(out, sv->srv, sv->rl);
    nts_server_report(out, sv->nts);
    service_recent(sv, out);
}

static void service_result(struct ctl_buf *out, int ok, const char *msg)
{
    ctl_rec_begin(out, "result");
    ctl_rec_int(out, "ok", ok);
    ctl_rec_str(out, "message", msg);
    ctl_rec_end(out);
}

static unsigned service_clients_arg(int argc, char **argv)
{
    char *end;
    unsigned long n = argc > 1 ? strtoul(argv[1], &end, 10) : SERVICE_CLIENTS_DEFAULT;
    if (argc > 1 && (*end || argv[1][0] == '-'))
        return 0;
    return n > 100000 ? 100000 : (unsigned)n;
}

static void service_command(void *arg, int argc, char **argv, struct ctl_buf *out, int *error)
{
    struct service *sv = arg;
    struct timespec now;
    const char *cmd = argv[0];

    clock_now(sv->clk, &now);
    if (!strcmp(cmd, "tracking") && argc == 1)
        report_tracking(out, sv->sy, sv->clk, &now);
    else if (!strcmp(cmd, "sources") && argc == 1) {
        report_sources(out, sv->sy, &now);
        report_pending(out, sv->up);
        report_authdata(out, sv->up);
    }
    else if (!strcmp(cmd, "authdata") && argc == 1)
        report_authdata(out, sv->up);
    else if (!strcmp(cmd, "sourcestats") && argc == 1)
        report_sourcestats(out, sv->sy, &now);
    else if (!strcmp(cmd, "serverstats") && argc == 1) {
        report_serverstats(out, sv->srv, sv->rl);
        nts_server_report(out, sv->nts);
        service_recent(sv, out);
    }
    else if (!strcmp(cmd, "clients") && argc <= 2 && service_clients_arg(argc, argv))
        report_clients(out, sv->rl, sched_mono_ns(), service_clients_arg(argc, argv));
    else if (!strcmp(cmd, "status") && argc == 1)
        service_status(sv, out);
    else if (!strcmp(cmd, "reload") && argc == 1)
        *error = service_reload(sv, out) < 0;
    else {
        service_result(out, 0, "unknown command or bad arguments");
        *error = 1;
    }
}

static void service_metrics(void *arg, struct ctl_buf *out)
{
    struct service *sv = arg;
    struct ctl_buf recs;
    struct ctl_record *r = mem_calloc(1024, sizeof(*r));

    ctl_buf_init(&recs, CTL_MAX_REPLY);
    service_status(sv, &recs);
    int n = ctl_records_parse(recs.data, recs.len, r, 1024);
    if (n >= 0)
        metrics_render(r, (size_t)n, out);
    ctl_buf_free(&recs);
    free(r);
}

/* The server sockets at start: any that cannot be opened is fatal, each
 * named by its line. */
static struct listener *service_listener(struct service *sv, const struct conf *conf)
{
    char *text = NULL;
    size_t len = 0;
    FILE *errs = open_memstream(&text, &len);

    if (!errs)
        fatal("open_memstream");
    struct listener *l = listener_prepare(conf, sv->srv, sv->clk, NULL, errs);
    fclose(errs);
    if (!l) {
        if (len && text[len - 1] == '\n')
            text[len - 1] = '\0';
        fatalx("%s", text && text[0] ? text : "cannot serve: no socket open");
    }
    free(text);
    listener_commit(l, NULL);
    return l;
}

static struct http_server *service_http(struct service *sv, const struct conf *conf,
                                        struct acl *acl)
{
    struct netaddr a;
    if (!conf->metrics_addr[0])
        return NULL;
    if (addr_parse(conf->metrics_addr, &a) < 0)
        return NULL;
    return http_create(&a, conf->metrics_port, acl, service_metrics, sv);
}

/* The default socket lives in /run/tempus: create that directory if it is
 * missing (root-only), so a default install works without setup. */
static struct ctl_server *service_ctl(struct service *sv, const struct conf *conf)
{
    const char *path = conf->controlsocket ? conf->controlsocket : CTL_DEFAULT_SOCKET;
    if (!conf->controlsocket && mkdir("/run/tempus", 0755) < 0 && errno != EEXIST) {
        log_warn("no control socket: mkdir /run/tempus");
        return NULL;
    }
    struct ctl_server *c = ctl_create(path, conf->controlgroup, service_command, sv);
    if (!c && conf->controlsocket)
        fatalx("cannot create control socket %s", path);
    if (!c)
        log_warnx("running without a control socket");
    return c;
}

static void service_on_quit(int signo, void *arg)
{
    (void)arg;
    log_info("signal %d: shutting down", signo);
    sched_quit();
}

static void service_on_usr1(int signo, void *arg)
{
    struct service *sv = arg;
    (void)signo;
    server_log_stats(sv->srv);
}

static void service_on_hup(int signo, void *arg)
{
    struct ctl_buf out;
    (void)signo;
    ctl_buf_init(&out, CTL_MAX_REPLY);
    service_reload(arg, &out); /* errors are logged by service_reload */
    ctl_buf_free(&out);
}

struct service *service_open(struct conf *conf, int foreground)
{
    struct service *sv = mem_zalloc(sizeof(*sv));
    struct sync_params sp;

    sv->conf = conf;
    sv->foreground = foreground;
    log_set(foreground ? LOG_TO_STDERR : conf->log_target, conf->log_level);
    sv->clk = conf->clock == CONF_CLOCK_VIRTUAL
                  ? clock_virtual_create(conf->clock_offset, conf->clock_freq_ppm)
                  : clock_system_create();
    if (service_prepare(conf, stderr, &sv->acl, &sv->metrics_acl, &sv->keys) < 0)
        fatalx("%s: configuration refused: see the errors above", conf->path);
    if (service_leaps(conf, sv->clk, stderr, &sv->leaps) < 0 ||
        service_leaps_tz(conf, stderr, &sv->leaps_tz) < 0)
        fatalx("%s: configuration refused: see the errors above", conf->path);
    sv->rl = ratelimit_create(&conf->ratelimit, service_seed());
    sv->srv = server_create(sv->acl, sv->rl, clock_precision(sv->clk));
    server_set_auth(sv->srv, sv->keys, conf->trustedkeys, conf->n_trustedkeys);
    sv->nts = nts_server_open(conf); /* certificate, key and KE socket: before privdrop */
    sched_init();
    resolve_init();
    nts_ke_worker_init(conf);
    sv->lis = service_listener(sv, conf);
    service_sync_params(conf, &sp);
    sv->sy = sync_create(&sp, sv->clk, sv->srv, service_initial_freq(conf));
    sync_set_leaps(sv->sy, sv->leaps);
    sync_set_leaps_tz(sv->sy, sv->leaps_tz);
    if (!(sv->rc = refclock_open(conf, stderr)))
        fatalx("%s: a refclock cannot be opened: see the errors above", conf->path);
    sv->ctl = service_ctl(sv, conf);
    if (conf->metrics_addr[0] && !(sv->http = service_http(sv, conf, sv->metrics_acl)))
        fatalx("cannot open the metrics endpoint %s port %u", conf->metrics_addr,
               conf->metrics_port);
    sched_on_signal(SIGTERM, service_on_quit, sv);
    sched_on_signal(SIGINT, service_on_quit, sv);
    sched_on_signal(SIGHUP, service_on_hup, sv);
    sched_on_signal(SIGUSR1, service_on_usr1, sv);
    signal(SIGPIPE, SIG_IGN);
    return sv;
}

static void service_ready(struct service *sv, const char *why)
{
    sv->ready = 1;
    notify_send("READY=1");
    log_info("ready: %s", why);
}

/* readiness sync: READY=1 once the clock is synchronised or the local
 * reference is served (chronyc waitsync's condition, in the daemon). */
static void service_ready_timer(void *arg)
{
    struct service *sv = arg;
    struct sync_state st;
    struct timespec now;

    sv->ready_timer = 0;
    clock_now(sv->clk, &now);
    sync_get_state(sv->sy, &now, &st);
    if (st.synced || st.local)
        service_ready(sv, st.synced ? "synchronised" : "serving the local reference");
    else
        sv->ready_timer = sched_add_timer(1.0, service_ready_timer, sv);
}

static void service_refclock_update(void *arg, const struct timespec *now)
{
    struct service *sv = arg;
    upstream_clock_updated(sv->up, now);
}

void service_start(struct service *sv)
{
    struct conf *conf = sv->conf;

    sv->up = upstream_create(conf, sv->keys, sv->sy, sv->clk, service_seed());
    nts_server_start(sv->nts, sv->srv); /* KE threads under the sandbox */
    refclock_start(sv->rc, sv->sy, sv->clk, service_refclock_update, sv);
    sv->drift_timer = sched_add_timer(SERVICE_DRIFT_INTERVAL, service_drift_timer, sv);
    sv->recent = history_create((unsigned)(SERVICE_RECENT_WINDOW / SERVICE_RECENT_STEP) + 1,
                                SERVICE_NRECENT);
    sv->started = service_mono();
    service_recent_timer(sv); /* the first snapshot: the counters at start */
    if (conf->abuselog_interval)
        sv->abuse_timer = sched_add_timer(conf->abuselog_interval, service_abuse_timer, sv);
    log_info("tempusd %s serving on port %u with %u socket(s), %u upstream(s), clock %s, "
             "precision 2^%d s",
             TEMPUS_VERSION, conf->port, listener_count(sv->lis), conf->n_servers,
             clock_name(sv->clk), clock_precision(sv->clk));
    if (conf->ready_at_sync)
        service_ready_timer(sv);
    else
        service_ready(sv, "serving");
}

void service_close(struct service *sv)
{
    notify_send("STOPPING=1");
    sched_cancel_timer(sv->ready_timer);
    server_log_abuse(sv->srv);
    server_log_stats(sv->srv);
    service_save_drift(sv);
    refclock_close(sv->rc);
    upstream_destroy(sv->up);
    nts_server_close(sv->nts);
    history_destroy(sv->recent);
    http_destroy(sv->http);
    ctl_destroy(sv->ctl);
    sync_destroy(sv->sy);
    listener_close(sv->lis);
    resolve_fini();
    nts_ke_worker_fini();
    sched_fini();
    server_destroy(sv->srv);
    keys_destroy(sv->keys);
    leapfile_free(sv->leaps);
    leapfile_free(sv->leaps_tz);
    ratelimit_destroy(sv->rl);
    acl_destroy(sv->acl);
    acl_destroy(sv->metrics_acl);
    clock_destroy(sv->clk);
    conf_free(sv->conf);
    free(sv);
    log_info("stopped");
}

struct sync *service_sync(struct service *sv)
{
    return sv->sy;
}

static int service_str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* What a running daemon cannot take over: report it like a config error. */
static int service_reload_refuse(const struct conf *o, const struct conf *n, FILE *errs)
{
    int bad = 0;
/* A directive removed from the file is reported at its old line. */
#define REFUSE(cond, line, what)                                                                   \
    do {                                                                                           \
        if (cond) {                                                                                \
            fprintf(errs, "%s:%u: %s cannot change on reload; restart tempusd\n", n->path,        \
                    line, what);                                                                   \
            bad = 1;                                                                               \
        }                                                                                          \
    } while (0)
#define LINE(field) (n->field ? n->field : o->field)
    REFUSE(o->clock != n->clock || o->clock_offset != n->clock_offset ||
               o->clock_freq_ppm != n->clock_freq_ppm,
           LINE(clock_line), "clock");
    REFUSE(!service_str_eq(o->user, n->user), LINE(user_line), "user");
    REFUSE(o->seccomp != n->seccomp, LINE(seccomp_line), "seccomp");
    REFUSE(!service_str_eq(o->pidfile, n->pidfile), LINE(pidfile_line), "pidfile");
    for (unsigned i = 0; i < o->n_refclocks || i < n->n_refclocks; i++)
        REFUSE(i >= o->n_refclocks || i >= n->n_refclocks ||
                   !conf_refclock_same(&o->refclocks[i], &n->refclocks[i]),
               i < n->n_refclocks ? n->refclocks[i].line : o->refclocks[i].line, "refclock");
    for (int f = 0; f < 2; f++)
        REFUSE(strcmp(o->acqaddr[f].addr, n->acqaddr[f].addr) != 0,
               n->acqaddr[f].line ? n->acqaddr[f].line : o->acqaddr[f].line, "bindacqaddress");
    REFUSE(!service_str_eq(o->controlsocket, n->controlsocket) ||
               !service_str_eq(o->controlgroup, n->controlgroup),
           n->controlsocket_line ? n->controlsocket_line : n->controlgroup_line,
           "controlsocket/controlgroup");
#undef LINE
#undef REFUSE
    bad |= nts_ke_worker_reload_check(o, n, errs) < 0;
    return bad ? -1 : 0;
}

static int service_same_sockets(const struct conf *o, const struct conf *n)
{
    if (o->port != n->port || strcmp(o->binddevice, n->binddevice) != 0 ||
        o->n_bindaddrs != n->n_bindaddrs)
        return 0;
    for (unsigned i = 0; i < o->n_bindaddrs; i++)
        if (strcmp(o->bindaddrs[i].addr, n->bindaddrs[i].addr) != 0)
            return 0;
    return 1;
}

static void service_reject(struct ctl_buf *out, const char *errtext)
{
    char *copy = mem_strdup(errtext), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        log_warnx("reload: %s", line);
        ctl_rec_begin(out, "error");
        ctl_rec_str(out, "message", line);
        ctl_rec_end(out);
    }
    free(copy);
    log_warnx("reload rejected: the running configuration is kept");
    service_result(out, 0, "configuration rejected; the running configuration is kept");
}

/* New pieces for the new config, built and bound before anything is
 * swapped, so that a failure leaves every running service as it was. */
struct service_next {
    struct acl *acl, *metrics_acl;
    struct keys *keys;          /* the key file read again (NULL: none) */
    struct leap_table *leaps;   /* the leap file read again (NULL: none) */
    struct leap_table *leaps_tz; /* the leapsectz zone read again (NULL: none) */
    struct ratelimit *rl;       /* NULL: keep the current table */
    struct listener *lis;       /* NULL: keep the current sockets */
    struct http_server *http;
    int http_changed;
    /* The new sockets needed an address an old one held, so the old ones
     * were closed first; a rollback opens them again. */
    int old_lis_closed, old_http_closed;
};

/* Undo a reload that will not be applied: free what was built, reopen what
 * had to be closed to build it. */
static void service_rollback(struct service *sv, struct service_next *nx)
{
    listener_abort(nx->lis);
    http_destroy(nx->http);
    if (nx->old_lis_closed) {
        sv->lis = listener_prepare(sv->conf, sv->srv, sv->clk, NULL, NULL);
        if (!sv->lis)
            fatalx("reload: lost the server sockets and could not reopen them");
        listener_commit(sv->lis, NULL);
    }
    if (nx->old_http_closed && !(sv->http = service_http(sv, sv->conf, sv->metrics_acl)))
        log_warnx("reload: the metrics endpoint could not be reopened");
    acl_destroy(nx->acl);
    acl_destroy(nx->metrics_acl);
    keys_destroy(nx->keys);
    leapfile_free(nx->leaps);
    leapfile_free(nx->leaps_tz);
    ratelimit_destroy(nx->rl);
    nts_server_reload_abort(sv->nts);
}

/* New server sockets while the old ones still serve (those for the same
 * address are taken over). Only when an old socket holds an address the
 * new config needs (the wildcard and then one address on the same port)
 * do the old ones close first. */
static int service_next_listener(struct service *sv, const struct conf *nc,
                                 struct service_next *nx, FILE *errs)
{
    char *text = NULL;
    size_t len = 0;
    FILE *tmp = open_memstream(&text, &len);

    if (!tmp)
        fatal("open_memstream");
    nx->lis = listener_prepare(nc, sv->srv, sv->clk, sv->lis, tmp);
    int e = errno;
    fclose(tmp);
    if (!nx->lis && e == EADDRINUSE && sv->lis) {
        log_info("reload: closing the old server sockets first, to bind their address");
        listener_close(sv->lis);
        sv->lis = NULL;
        nx->old_lis_closed = 1;
        nx->lis = listener_prepare(nc, sv->srv, sv->clk, NULL, errs);
    } else if (!nx->lis) {
        fputs(text, errs);
    }
    free(text);
    return nx->lis ? 0 : -1;
}

/* The new metrics endpoint, bound while the old one still serves; only if
 * that fails on the old one's port (another address of it) does the old
 * one close first. */
static int service_next_http(struct service *sv, const struct conf *nc, struct service_next *nx,
                             FILE *errs)
{
    nx->http = service_http(sv, nc, nx->metrics_acl);
    if (!nx->http && sv->http && nc->metrics_port == sv->conf->metrics_port) {
        http_destroy(sv->http);
        sv->http = NULL;
        nx->old_http_closed = 1;
        nx->http = service_http(sv, nc, nx->metrics_acl);
    }
    if (nx->http)
        return 0;
    fprintf(errs, "%s:%u: metrics %s port %u: cannot open the endpoint\n", nc->path,
            nc->metrics_line, nc->metrics_addr, nc->metrics_port);
    return -1;
}

static int service_build_next(struct service *sv, const struct conf *nc, struct service_next *nx,
                              FILE *errs)
{
    const struct conf *oc = sv->conf;

    memset(nx, 0, sizeof(*nx));
    nx->acl = service_acl(nc->acl, nc->n_acl, errs, nc->path);
    nx->metrics_acl = service_acl(nc->metricsallow, nc->n_metricsallow, errs, nc->path);
    if (!nx->acl || !nx->metrics_acl)
        return -1;
    if (service_keys(nc, errs, &nx->keys) < 0)
        return -1;
    if (service_leaps(nc, sv->clk, errs, &nx->leaps) < 0 ||
        service_leaps_tz(nc, errs, &nx->leaps_tz) < 0)
        return -1;
    if (!ratelimit_params_equal(&oc->ratelimit, &nc->ratelimit))
        nx->rl = ratelimit_create(&nc->ratelimit, service_seed());
    if (!service_same_sockets(oc, nc) && service_next_listener(sv, nc, nx, errs) < 0)
        return -1;
    nx->http_changed = strcmp(oc->metrics_addr, nc->metrics_addr) != 0 ||
                       oc->metrics_port != nc->metrics_port;
    if (nx->http_changed && nc->metrics_addr[0] && service_next_http(sv, nc, nx, errs) < 0)
        return -1;
    return nts_server_reload_prepare(sv->nts, oc, nc, errs);
}

static void service_apply(struct service *sv, struct conf *nc, struct service_next *nx)
{
    struct sync_params sp;

    server_set_acl(sv->srv, nx->acl);
    acl_destroy(sv->acl);
    sv->acl = nx->acl;
    if (nx->rl) {
        server_set_ratelimit(sv->srv, nx->rl);
        ratelimit_destroy(sv->rl);
        sv->rl = nx->rl;
    }
    if (nx->lis) {
        listener_commit(nx->lis, sv->lis);
        sv->lis = nx->lis;
    }
    if (nx->http_changed) {
        http_destroy(sv->http);
        sv->http = nx->http;
    } else if (sv->http) {
        http_set_acl(sv->http, nx->metrics_acl);
    }
    acl_destroy(sv->metrics_acl);
    sv->metrics_acl = nx->metrics_acl;
    service_sync_params(nc, &sp);
    sync_set_params(sv->sy, &sp);
    listener_set_batch(sv->lis, nc->serverbatch);
    /* Server and sources move to the new keys before the old ones go. */
    server_set_auth(sv->srv, nx->keys, nc->trustedkeys, nc->n_trustedkeys);
    upstream_reconfigure(sv->up, nc, nx->keys);
    keys_destroy(sv->keys);
    sv->keys = nx->keys;
    sync_set_leaps(sv->sy, nx->leaps);
    leapfile_free(sv->leaps);
    sv->leaps = nx->leaps;
    sync_set_leaps_tz(sv->sy, nx->leaps_tz);
    leapfile_free(sv->leaps_tz);
    sv->leaps_tz = nx->leaps_tz;
    nts_server_reload_commit(sv->nts, nc);
    log_set(sv->foreground ? LOG_TO_STDERR : nc->log_target, nc->log_level);
    sched_cancel_timer(sv->abuse_timer);
    sv->abuse_timer = nc->abuselog_interval
                          ? sched_add_timer(nc->abuselog_interval, service_abuse_timer, sv)
                          : 0;
    conf_free(sv->conf);
    sv->conf = nc;
}

static void service_log_change(void *arg, enum conf_change kind, const struct conf_line *was,
                               const struct conf_line *now)
{
    const char *path = arg;
    if (kind == CONF_ADDED)
        log_info("reload: %s:%u added: %s", path, now->line, now->text);
    else if (kind == CONF_REMOVED)
        log_info("reload: %s removed: %s (was line %u)", path, was->text, was->line);
    else
        log_info("reload: %s:%u changed: %s (was line %u: %s)", path, now->line, now->text,
                 was->line, was->text);
}

/* Change control: what the reload changes, directive by directive (line
 * numbers of a removed line are the old file's). */
static void service_log_changes(const struct conf *oc, const struct conf *nc)
{
    if (conf_diff(oc, nc, service_log_change, nc->path) == 0)
        log_info("reload: no directive changed");
}

int service_reload(struct service *sv, struct ctl_buf *out)
{
    char *errtext = NULL;
    size_t errlen = 0;
    FILE *errs = open_memstream(&errtext, &errlen);
    struct service_next nx = {0};
    int rc = -1;

    if (!errs)
        fatal("open_memstream");
    if (sv->ready) /* before READY=1, systemd still waits for the start */
        notify_send("RELOADING=1");
    log_info("reloading %s", sv->conf->path);
    struct conf *nc = conf_load(sv->conf->path, errs);
    if (nc && service_reload_refuse(sv->conf, nc, errs) == 0 &&
        service_build_next(sv, nc, &nx, errs) == 0) {
        service_log_changes(sv->conf, nc);
        service_apply(sv, nc, &nx);
        nc = NULL;
        rc = 0;
    }
    fclose(errs);
    if (rc == 0) {
        log_info("reload: configuration applied");
        service_result(out, 1, "configuration applied");
    } else {
        service_rollback(sv, &nx);
        conf_free(nc);
        service_reject(out, errtext && errtext[0] ? errtext : "unknown error\n");
    }
    free(errtext);
    if (sv->ready)
        notify_send("READY=1");
    return rc;
}
