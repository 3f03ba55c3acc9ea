/* SPDX-License-Identifier: ISC */
#include "upstream.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "maxima.h"
#include "mem.h"
#include "netio.h"
#include "ntp_wire.h"
#include "resolve.h"
#include "sched.h"
#include "source.h"

#define UP_MAX_SOURCES MAXIMA_SOURCES
#define UP_MAX_CONF MAXIMA_SERVER_LINES
/* Polls without any answer before an address counts as retired. */
#define UP_RETIRE_POLLS 8
#define UP_RESOLVE_RETRY 60.0

struct upstream;

/* One `server` or `pool` line and what became of it. */
struct up_conf {
    int used;
    struct upstream *up;
    struct conf_server cs;
    int numeric;    /* host is an address: never resolved again */
    int members;    /* sources it currently has */
    int resolving;
    uint64_t retry_timer;
};

struct up_src {
    struct upstream *up;
    struct up_conf *uc;
    struct source *src; /* NULL: free slot */
    int sync_idx;
    int fd;
    struct netaddr addr;
    uint16_t port;
    uint64_t timer;
    int auth_warned; /* told the operator that replies fail authentication */
    char name[256 + ADDR_STRLEN + 16]; /* "host (addr:port)" */
};

struct upstream {
    struct sync *sy;
    struct clock *clk;
    const struct keys *keys;
    uint64_t seed;
    struct up_conf confs[UP_MAX_CONF];
    int nconf;
    struct up_src srcs[UP_MAX_SOURCES];
    uint64_t tick_timer, slew_timer;
    unsigned resets; /* sync's count when the poll timers were last armed */
    struct netaddr acq[2]; /* bindacqaddress: [0] IPv4, [1] IPv6; family 0: none */
};

static void up_poll(void *arg);
static void up_arm_slew(struct upstream *up);
static void up_rearm(struct upstream *up, const struct timespec *now);
static void up_resolve(struct up_conf *uc);

static uint64_t up_next_seed(struct upstream *up)
{
    /* splitmix64 step: distinct, well-mixed seeds for each source */
    uint64_t z = (up->seed += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void up_remove(struct up_src *us)
{
    sched_cancel_timer(us->timer);
    sched_remove_fd(us->fd);
    netio_close(us->fd);
    sync_remove_source(us->up->sy, us->sync_idx);
    source_destroy(us->src);
    us->src = NULL;
    us->uc->members--;
}

/* Once per source, say why its replies are thrown away if it is about the
 * key: the operator most likely has a different key from the server's. */
static void up_log_bogus(struct up_src *us, const struct timespec *now)
{
    struct source_estimate est;

    source_get_estimate(us->src, now, &est);
    if (est.auth_failed > 0 && !us->auth_warned) {
        log_warnx("%s: reply without a valid MAC by key %u ignored (is the key the same on "
                  "both sides?)",
                  us->name, us->uc->cs.key);
        us->auth_warned = 1;
        return;
    }
    log_debug("%s: reply ignored", us->name);
}

static void up_handle_reply(struct up_src *us, struct netio_msg *m)
{
    struct upstream *up = us->up;
    struct timespec t4, now;

    if (m->len == 0 || !addr_equal(&m->peer, &us->addr) || m->peer_port != us->port)
        return; /* not from our server: ignore without a word */
    if (m->have_ts)
        clock_from_kernel(up->clk, &m->rx_kernel, &t4);
    else
        clock_now(up->clk, &t4);
    switch (source_process_reply(us->src, m->buf, m->len, &t4)) {
    case SOURCE_SAMPLE:
        clock_now(up->clk, &now);
        sync_update(up->sy, &now, sched_mono_ns());
        up_arm_slew(up);
        up_rearm(up, &now);
        break;
    case SOURCE_KOD_RATE:
        log_notice("%s asks us to poll less often (RATE)", us->name);
        break;
    case SOURCE_KOD_DENY:
        log_warnx("%s refuses to serve us (DENY/RSTR): source disabled", us->name);
        sched_cancel_timer(us->timer);
        break;
    case SOURCE_UNSYNCED:
        log_debug("%s is not synchronised", us->name);
        break;
    case SOURCE_BOGUS:
        up_log_bogus(us, &t4);
        break;
    }
}

static void up_readable(int fd, void *arg)
{
    struct up_src *us = arg;
    uint8_t buf[NTP_MAX_PACKET];
    struct netio_msg m = {.buf = buf, .cap = sizeof(buf)};

    for (int i = 0; i < 16 && us->src; i++) {
        if (netio_recv(fd, &m) <= 0)
            return;
        up_handle_reply(us, &m);
    }
}

static int up_in_use(const struct upstream *up, const struct netaddr *a, uint16_t port)
{
    for (int i = 0; i < UP_MAX_SOURCES; i++)
        if (up->srcs[i].src && up->srcs[i].port == port && addr_equal(&up->srcs[i].addr, a))
            return 1;
    return 0;
}

static struct up_src *up_free_slot(struct upstream *up)
{
    for (int i = 0; i < UP_MAX_SOURCES; i++)
        if (!up->srcs[i].src)
            return &up->srcs[i];
    return NULL;
}

/* A socket for requests to a:port, from the bindacqaddress of its family
 * if one is set; *own_id is our reference id as that source sees us (the
 * address we send from), 0 if it cannot be known: also when the kernel
 * picks a loopback address, shared by every daemon on the host, so that
 * it names none of them (bindacqaddress says the address is ours). */
static int up_open(struct upstream *up, const struct netaddr *a, uint16_t port, uint32_t *own_id)
{
    const struct netaddr *bind = &up->acq[a->family == AF_INET6];
    struct netaddr from;
    int fd = netio_open_udp(a->family, bind->family ? bind : NULL, 0, NULL);

    *own_id = 0;
    if (bind->family)
        *own_id = addr_refid(bind);
    else if (netio_source_addr(a, port, &from) == 0 && !addr_is_loopback(&from))
        *own_id = addr_refid(&from);
    return fd;
}

static void up_add(struct up_conf *uc, const struct netaddr *a)
{
    struct upstream *up = uc->up;
    struct up_src *us = up_free_slot(up);
    char abuf[ADDR_STRLEN], where[ADDR_STRLEN + 8];
    struct source_params sp = {.minpoll = uc->cs.minpoll, .maxpoll = uc->cs.maxpoll,
                               .iburst = uc->cs.iburst, .prefer = uc->cs.prefer,
                               .noselect = uc->cs.noselect};

    const struct auth_key *key = uc->cs.key ? keys_find(up->keys, uc->cs.key) : NULL;

    if (!us) {
        log_warnx("too many sources: %s not added", uc->cs.host);
        return;
    }
    if (uc->cs.key && !key) {
        /* The config check at start and reload rules this out; never fall
         * back to unauthenticated time. */
        log_warnx("key %u is not in the key file: %s not added", uc->cs.key, uc->cs.host);
        return;
    }
    uint32_t own_id;
    int fd = up_open(up, a, uc->cs.port, &own_id);
    if (fd < 0)
        return;
    memset(us, 0, sizeof(*us));
    us->up = up;
    us->uc = uc;
    us->fd = fd;
    us->addr = *a;
    us->port = uc->cs.port;
    addr_format(a, abuf, sizeof(abuf));
    if (us->port != 123)
        snprintf(where, sizeof(where), a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", abuf,
                 us->port);
    else
        snprintf(where, sizeof(where), "%s", abuf);
    if (uc->numeric)
        snprintf(us->name, sizeof(us->name), "%s", where);
    else
        snprintf(us->name, sizeof(us->name), "%s (%s)", uc->cs.host, where);
    us->src = source_create(&sp, up_next_seed(up));
    source_set_key(us->src, key);
    us->sync_idx = sync_add_source(up->sy, us->src, us->name, addr_refid(a));
    sync_set_source_own_id(up->sy, us->sync_idx, own_id);
    if (us->sync_idx < 0 || sched_add_fd(fd, up_readable, us) < 0) {
        log_warnx("no room for source %s", us->name);
        if (us->sync_idx >= 0)
            sync_remove_source(up->sy, us->sync_idx);
        source_destroy(us->src);
        us->src = NULL;
        netio_close(fd);
        return;
    }
    uc->members++;
    /* A small random delay spreads the first polls of many sources. */
    us->timer = sched_add_timer((double)(up_next_seed(up) % 1000) / 1000.0, up_poll, us);
    if (key)
        log_info("source %s added (port %u, key %u %s)", us->name, us->port, key->id,
                 auth_type_name(key->type));
    else
        log_info("source %s added (port %u)", us->name, us->port);
}

/* An address that has not answered for UP_RETIRE_POLLS polls is dropped;
 * a name is resolved again to find its current addresses. */
static int up_retire_if_dead(struct up_src *us)
{
    struct source_estimate est;
    struct timespec now;

    if (us->uc->numeric)
        return 0;
    clock_now(us->up->clk, &now);
    source_get_estimate(us->src, &now, &est);
    if (est.reach != 0 || est.sent < UP_RETIRE_POLLS)
        return 0;
    log_notice("%s has not answered %llu polls: dropping it and resolving %s again", us->name,
               (unsigned long long)est.sent, us->uc->cs.host);
    struct up_conf *uc = us->uc;
    up_remove(us);
    up_resolve(uc);
    return 1;
}

static void up_poll(void *arg)
{
    struct up_src *us = arg;
    uint8_t buf[NTP_HEADER_LEN + NTP_MAC_MAX_LEN];
    struct timespec t1;
    struct netio_msg m = {.peer = us->addr, .peer_port = us->port};

    us->timer = 0;
    if (up_retire_if_dead(us))
        return;
    clock_now(us->up->clk, &t1);
    size_t len = source_make_request(us->src, &t1, buf, sizeof(buf));
    if (len == 0)
        return; /* denied by the server: stop polling */
    netio_send(us->fd, &m, buf, len);
    us->timer = sched_add_timer(source_poll_delay(us->src), up_poll, us);
}

static void up_retry(void *arg)
{
    struct up_conf *uc = arg;
    uc->retry_timer = 0;
    up_resolve(uc);
}

static void up_resolved(void *arg, const struct netaddr *addrs, int n)
{
    struct up_conf *uc = arg;
    int want = uc->cs.pool ? uc->cs.maxsources : 1;

    uc->resolving = 0;
    for (int i = 0; i < n && uc->members < want; i++)
        if (!up_in_use(uc->up, &addrs[i], uc->cs.port))
            up_add(uc, &addrs[i]);
    if (uc->members < want) {
        if (n == 0)
            log_warnx("%s does not resolve; trying again in %.0f s", uc->cs.host,
                      UP_RESOLVE_RETRY);
        uc->retry_timer = sched_add_timer(UP_RESOLVE_RETRY, up_retry, uc);
    }
}

static void up_resolve(struct up_conf *uc)
{
    if (uc->resolving || uc->retry_timer)
        return;
    uc->resolving = 1;
    if (resolve_start(uc->cs.host, up_resolved, uc) < 0) {
        uc->resolving = 0;
        uc->retry_timer = sched_add_timer(UP_RESOLVE_RETRY, up_retry, uc);
    }
}

/* A slew's end is a timer armed the moment the slew starts (after every
 * update of the clock), so it ends on time whatever else the loop does;
 * the backend accounts any lateness as applied. */
static void up_slew_timer(void *arg);

static void up_arm_slew(struct upstream *up)
{
    double next = clock_tick(up->clk);

    sched_cancel_timer(up->slew_timer);
    up->slew_timer = next >= 0.0 ? sched_add_timer(next, up_slew_timer, up) : 0;
}

static void up_slew_timer(void *arg)
{
    struct upstream *up = arg;
    up->slew_timer = 0;
    up_arm_slew(up);
}

/* After a step or a jump every source flushed its samples and starts a new
 * burst: poll again within a second or two instead of after the old
 * interval, which may be many minutes. */
static void up_rearm(struct upstream *up, const struct timespec *now)
{
    struct sync_state st;
    sync_get_state(up->sy, now, &st);
    if (st.resets == up->resets)
        return;
    up->resets = st.resets;
    for (int i = 0; i < UP_MAX_SOURCES; i++) {
        struct up_src *us = &up->srcs[i];
        if (!us->src || !us->timer)
            continue;
        sched_cancel_timer(us->timer);
        us->timer = sched_add_timer(0.5 + (double)(up_next_seed(up) % 1000) / 1000.0, up_poll, us);
    }
}

void upstream_clock_updated(struct upstream *up, const struct timespec *now)
{
    up_arm_slew(up);
    up_rearm(up, now);
}

/* Once a second: holdover, local fallback and jump checks in sync.c. */
static void up_tick(void *arg)
{
    struct upstream *up = arg;
    struct timespec now;

    clock_now(up->clk, &now);
    sync_tick(up->sy, &now, sched_mono_ns());
    up_arm_slew(up);
    up_rearm(up, &now);
    up->tick_timer = sched_add_timer(1.0, up_tick, up);
}

static void up_conf_add(struct upstream *up, const struct conf_server *cs)
{
    struct up_conf *uc = NULL;
    struct netaddr a;

    for (int i = 0; i < UP_MAX_CONF && !uc; i++)
        if (!up->confs[i].used)
            uc = &up->confs[i];
    if (!uc) {
        log_warnx("too many server/pool lines: %s ignored", cs->host);
        return;
    }
    memset(uc, 0, sizeof(*uc));
    uc->used = 1;
    uc->up = up;
    uc->cs = *cs;
    if (uc - up->confs >= up->nconf)
        up->nconf = (int)(uc - up->confs) + 1;
    uc->numeric = addr_parse(uc->cs.host, &a) == 0;
    if (uc->numeric)
        up_add(uc, &a);
    else
        up_resolve(uc);
}

static void up_conf_remove(struct up_conf *uc)
{
    for (int i = 0; i < UP_MAX_SOURCES; i++)
        if (uc->up->srcs[i].src && uc->up->srcs[i].uc == uc)
            up_remove(&uc->up->srcs[i]);
    resolve_cancel(uc);
    sched_cancel_timer(uc->retry_timer);
    log_info("%s %s removed", uc->cs.pool ? "pool" : "server", uc->cs.host);
    uc->used = 0;
}

/* Same line in both configs, ignoring where in the file it stands. Field by
 * field: memcmp would also compare padding and the bytes after host's NUL. */
static int up_conf_same(const struct conf_server *a, const struct conf_server *b)
{
    return strcmp(a->host, b->host) == 0 && a->port == b->port && a->pool == b->pool &&
           a->maxsources == b->maxsources && a->iburst == b->iburst && a->prefer == b->prefer &&
           a->noselect == b->noselect && a->minpoll == b->minpoll && a->maxpoll == b->maxpoll &&
           a->key == b->key;
}

/* Sources that stay take the new store's copy of their key. */
static void up_refresh_keys(struct upstream *up)
{
    for (int i = 0; i < UP_MAX_SOURCES; i++) {
        struct up_src *us = &up->srcs[i];
        if (us->src && us->uc->cs.key) {
            source_set_key(us->src, keys_find(up->keys, us->uc->cs.key));
            us->auth_warned = 0;
        }
    }
}

void upstream_reconfigure(struct upstream *up, const struct conf *conf, const struct keys *keys)
{
    unsigned char kept[UP_MAX_CONF] = {0}, taken[UP_MAX_CONF] = {0};

    for (int i = 0; i < up->nconf; i++) {
        for (unsigned j = 0; up->confs[i].used && j < conf->n_servers && j < UP_MAX_CONF; j++) {
            const struct conf_server *cs = &conf->servers[j];
            if (!taken[j] && up_conf_same(&up->confs[i].cs, cs) &&
                (!cs->key || keys_find(keys, cs->key))) {
                kept[i] = taken[j] = 1;
                up->confs[i].cs.line = conf->servers[j].line;
                break;
            }
        }
    }
    for (int i = 0; i < up->nconf; i++)
        if (up->confs[i].used && !kept[i])
            up_conf_remove(&up->confs[i]);
    up->keys = keys;
    up_refresh_keys(up);
    for (unsigned j = 0; j < conf->n_servers && j < UP_MAX_CONF; j++)
        if (!taken[j])
            up_conf_add(up, &conf->servers[j]);
}

struct upstream *upstream_create(const struct conf *conf, const struct keys *keys, struct sync *sy,
                                 struct clock *clk, uint64_t seed)
{
    struct upstream *up = mem_zalloc(sizeof(*up));
    up->keys = keys;
    up->sy = sy;
    up->clk = clk;
    up->seed = seed;
    for (int f = 0; f < 2; f++)
        if (conf->acqaddr[f].addr[0] && addr_parse(conf->acqaddr[f].addr, &up->acq[f]) < 0)
            up->acq[f].family = 0; /* validated by the parser */
    for (unsigned i = 0; i < conf->n_servers; i++)
        up_conf_add(up, &conf->servers[i]);
    up_tick(up);
    return up;
}

int upstream_pending(const struct upstream *up, struct upstream_pending *out, int max)
{
    int n = 0;
    for (int i = 0; up && i < up->nconf && n < max; i++) {
        const struct up_conf *uc = &up->confs[i];
        if (!uc->used || uc->numeric || uc->members > 0)
            continue;
        out[n++] = (struct upstream_pending){.host = uc->cs.host, .port = uc->cs.port,
                                             .pool = uc->cs.pool, .failed = !uc->resolving,
                                             .line = uc->cs.line};
    }
    return n;
}

void upstream_destroy(struct upstream *up)
{
    if (!up)
        return;
    for (int i = 0; i < UP_MAX_SOURCES; i++)
        if (up->srcs[i].src)
            up_remove(&up->srcs[i]);
    for (int i = 0; i < up->nconf; i++) {
        if (!up->confs[i].used)
            continue;
        resolve_cancel(&up->confs[i]);
        sched_cancel_timer(up->confs[i].retry_timer);
    }
    sched_cancel_timer(up->tick_timer);
    sched_cancel_timer(up->slew_timer);
    free(up);
}
