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
#include "nts_client.h"
#include "nts_ke_worker.h"
#include "resolve.h"
#include "sched.h"
#include "source.h"
#include "sysio.h"

#define UP_MAX_SOURCES MAXIMA_SOURCES
#define UP_MAX_CONF MAXIMA_SERVER_LINES
/* Polls without any answer before an address counts as retired. */
#define UP_RETIRE_POLLS 8
#define UP_RESOLVE_RETRY 60.0
/* Room for an NTS request or reply: header, UID, a cookie and seven
 * placeholders of up to 256 bytes each, the authenticator. */
#define UP_PKT_MAX 2400

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
    /* NTS (nts set): addr/port above are the NTP server the key exchange
     * named (until the first one: the KE server's address and the
     * configured port); ke_addr is the KE server's address. */
    struct nts_client *nts;
    struct netaddr ke_addr;
    int ke_inflight;        /* an exchange is running on its thread */
    int ntp_resolving;      /* resolving the NTP server the KE named */
    unsigned ke_fail_total; /* failed exchanges, all told */
    double last_ke;         /* monotonic s of the last good exchange; 0: none */
    char ke_err[160];       /* why the last exchange failed ("" if it did not) */
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
    if (us->nts) {
        nts_ke_worker_cancel(us);
        resolve_cancel(us);
        nts_client_free(us->nts);
        us->nts = NULL;
    }
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

static void up_readable(int fd, void *arg);
static int up_open(struct upstream *up, const struct netaddr *a, uint16_t port, uint32_t *own_id);

static double up_mono(void)
{
    return (double)sched_mono_ns() / 1e9;
}

/* NTS: poll again after delay seconds (a key exchange ended, or the next
 * one may start then). */
static void up_nts_rearm(struct up_src *us, double delay)
{
    double poll = source_poll_delay(us->src);

    sched_cancel_timer(us->timer);
    us->timer = sched_add_timer(delay < poll ? delay : poll, up_poll, us);
}

/* Send to a:port from now on; a socket of the other family if need be. */
static int up_set_peer(struct up_src *us, const struct netaddr *a, uint16_t port)
{
    if (a->family != us->addr.family) {
        uint32_t own_id;
        int fd = up_open(us->up, a, port, &own_id);
        if (fd < 0)
            return -1;
        if (sched_add_fd(fd, up_readable, us) < 0) {
            netio_close(fd);
            return -1;
        }
        sched_remove_fd(us->fd);
        netio_close(us->fd);
        us->fd = fd;
        sync_set_source_own_id(us->up->sy, us->sync_idx, own_id);
    }
    us->addr = *a;
    us->port = port;
    return 0;
}

/* The NTP server named by the key exchange resolved (to its first
 * address): NTS polls go there. */
static void up_ntp_resolved(void *arg, const struct netaddr *addrs, int n)
{
    struct up_src *us = arg;

    us->ntp_resolving = 0;
    if (n == 0 || up_set_peer(us, &addrs[0], us->port) < 0) {
        log_warnx("%s: the NTP server named by the NTS key exchange does not resolve", us->name);
        nts_client_ke_failed(us->nts, up_mono());
        us->ke_fail_total++;
        snprintf(us->ke_err, sizeof(us->ke_err), "NTP server name does not resolve");
        return;
    }
    up_nts_rearm(us, 0.1);
}

/* NTP server and port of a good exchange: the server record (an address,
 * the KE server's own name, or a name to resolve) and the port record,
 * else the KE server's address and the configured port. */
static void up_nts_peer(struct up_src *us, const struct nts_ke_response *resp)
{
    uint16_t port = resp->port ? resp->port : us->uc->cs.port;
    struct netaddr a = us->ke_addr;

    if (resp->server[0] && strcasecmp(resp->server, us->uc->cs.host) != 0 &&
        addr_parse(resp->server, &a) < 0) {
        us->port = port;
        us->ntp_resolving = resolve_start(resp->server, up_ntp_resolved, us) == 0;
        return;
    }
    if (up_set_peer(us, &a, port) < 0)
        log_warnx("%s: no socket for the NTP server of the key exchange", us->name);
}

static void up_ke_done(void *arg, int status, const struct nts_ke_result *r, const char *err)
{
    struct up_src *us = arg;
    struct nts_client_info ni;
    double now = up_mono();

    us->ke_inflight = 0;
    if (status != NTS_KE_OK) {
        nts_client_ke_failed(us->nts, now);
        nts_client_get_info(us->nts, &ni);
        us->ke_fail_total++;
        snprintf(us->ke_err, sizeof(us->ke_err), "%s", err);
        log_warnx("%s: NTS key exchange failed: %s; next attempt in %.0f s", us->name, err,
                  ni.next_ke - now);
        up_nts_rearm(us, ni.next_ke - now);
        return;
    }
    nts_client_ke_done(us->nts, r, now);
    us->last_ke = now;
    us->ke_err[0] = '\0';
    up_nts_peer(us, &r->resp);
    char where[ADDR_STRLEN];
    addr_format(&us->addr, where, sizeof(where));
    log_info("%s: NTS key exchange done: AEAD %u, %u cookies, NTP server %s port %u", us->name,
             r->resp.aead, r->resp.n_cookies, us->ntp_resolving ? r->resp.server : where, us->port);
    up_nts_rearm(us, 0.1);
}

static void up_nts_start_ke(struct up_src *us)
{
    if (us->ke_inflight)
        return;
    if (nts_ke_worker_start(us->uc->cs.host, &us->ke_addr, us->uc->cs.ntsport, up_ke_done, us) <
        0) {
        nts_client_ke_failed(us->nts, up_mono());
        us->ke_fail_total++;
        snprintf(us->ke_err, sizeof(us->ke_err), "not started");
        return;
    }
    us->ke_inflight = 1;
}

/* The NTS part of a request of len bytes in buf: the new length, or 0 if
 * none can be sent now (no keys or cookies: a key exchange is started when
 * the backoff allows). Never a request without NTS. */
static size_t up_nts_request(struct up_src *us, uint8_t *buf, size_t len, size_t cap)
{
    uint8_t rnd[NTS_UID_LEN + NTS_NONCE_LEN];
    size_t have = 0;

    if (nts_client_need_ke(us->nts, up_mono()))
        up_nts_start_ke(us);
    if (us->ke_inflight || us->ntp_resolving)
        return 0;
    while (have < sizeof(rnd)) {
        ssize_t n = sysio_getrandom(rnd + have, sizeof(rnd) - have, 0);
        if (n <= 0) {
            log_warn("%s: getrandom", us->name);
            return 0;
        }
        have += (size_t)n;
    }
    return nts_client_request(us->nts, buf, len, cap, rnd, rnd + NTS_UID_LEN);
}

/* Check an NTS reply before anything else looks at it: 0 with *len cut to
 * the header (the fields are checked and the cookies taken), -1 if it is
 * to be dropped (counted by nts_client; a NAK starts a new exchange). */
static int up_nts_reply(struct up_src *us, const uint8_t *buf, size_t *len)
{
    int st = nts_client_reply(us->nts, buf, *len);

    if (st == NTS_EF_OK) {
        *len = NTP_HEADER_LEN;
        return 0;
    }
    if (st == NTS_EF_NAK) {
        /* The exchange waits for the next poll: an authenticated reply to
         * the same request may still come and cancel the NAK (a NAK is not
         * authenticated). */
        log_notice("%s: NTS NAK: a new key exchange at the next poll unless an authenticated "
                   "reply comes first",
                   us->name);
        return -1;
    }
    log_debug("%s: NTS reply refused (status %d)", us->name, st);
    return -1;
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
    size_t len = m->len;
    if (us->nts && up_nts_reply(us, m->buf, &len) < 0)
        return;
    switch (source_process_reply(us->src, m->buf, len, &t4)) {
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
    uint8_t buf[UP_PKT_MAX];
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
    if (uc->cs.nts) {
        us->nts = nts_client_new();
        us->ke_addr = *a;
    }
    us->sync_idx = sync_add_source(up->sy, us->src, us->name, addr_refid(a));
    sync_set_source_own_id(up->sy, us->sync_idx, own_id);
    if (us->sync_idx < 0 || sched_add_fd(fd, up_readable, us) < 0) {
        log_warnx("no room for source %s", us->name);
        if (us->sync_idx >= 0)
            sync_remove_source(up->sy, us->sync_idx);
        source_destroy(us->src);
        us->src = NULL;
        nts_client_free(us->nts);
        us->nts = NULL;
        netio_close(fd);
        return;
    }
    uc->members++;
    if (us->nts)
        up_nts_start_ke(us);
    /* A small random delay spreads the first polls of many sources. */
    us->timer = sched_add_timer((double)(up_next_seed(up) % 1000) / 1000.0, up_poll, us);
    if (key)
        log_info("source %s added (port %u, key %u %s)", us->name, us->port, key->id,
                 auth_type_name(key->type));
    else if (us->nts)
        log_info("source %s added (NTS, key exchange on port %u)", us->name, uc->cs.ntsport);
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
    uint8_t buf[UP_PKT_MAX];
    struct timespec t1;

    us->timer = 0;
    if (up_retire_if_dead(us))
        return;
    clock_now(us->up->clk, &t1);
    size_t len = source_make_request(us->src, &t1, buf, sizeof(buf));
    if (len == 0)
        return; /* denied by the server: stop polling */
    /* An NTS source without keys or cookies sends nothing: the poll counts
     * as lost (the reachability register ages) until a key exchange works. */
    if (us->nts && (len = up_nts_request(us, buf, len, sizeof(buf))) == 0) {
        struct nts_client_info ni;
        nts_client_get_info(us->nts, &ni);
        double poll = source_poll_delay(us->src), wait = ni.next_ke - up_mono();
        /* In flight: its end polls at once. Backing off: try when it ends. */
        if (us->ke_inflight || us->ntp_resolving || wait > poll)
            wait = poll;
        us->timer = sched_add_timer(wait > 1.0 ? wait : 1.0, up_poll, us);
        return;
    }
    struct netio_msg m = {.peer = us->addr, .peer_port = us->port};
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
           a->key == b->key && a->nts == b->nts && a->ntsport == b->ntsport;
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

static void up_auth_one(const struct up_src *us, double now, struct upstream_auth *a)
{
    const struct auth_key *key = us->uc->cs.key ? keys_find(us->up->keys, us->uc->cs.key) : NULL;
    struct nts_client_info ni;

    memset(a, 0, sizeof(*a));
    a->sync_idx = us->sync_idx;
    a->name = us->name;
    a->key = us->uc->cs.key;
    a->key_type = key ? auth_type_name(key->type) : NULL;
    a->key_bits = key ? (unsigned)key->len * 8 : 0;
    a->last_ke_age = -1.0;
    a->ke_error = "";
    if (!us->nts)
        return;
    nts_client_get_info(us->nts, &ni);
    a->nts = 1;
    a->have_keys = ni.have_keys;
    a->cookies = ni.cookies;
    a->kes = ni.kes;
    a->ke_failures = us->ke_fail_total;
    a->ke_failing = ni.ke_failures;
    a->naks = ni.naks;
    a->replies_ok = ni.replies_ok;
    a->replies_bad = ni.replies_bad;
    a->aead = ni.aead;
    a->key_bits = ni.have_keys ? NTS_AEAD_KEY_LEN * 8 : 0;
    a->ke_inflight = us->ke_inflight;
    a->last_ke_age = us->last_ke > 0 ? now - us->last_ke : -1.0;
    a->next_ke_in = ni.next_ke > now ? ni.next_ke - now : 0.0;
    a->ke_error = us->ke_err;
}

int upstream_auth(const struct upstream *up, struct upstream_auth *out, int max)
{
    double now = up_mono();
    int n = 0;

    for (int i = 0; up && i < UP_MAX_SOURCES && n < max; i++)
        if (up->srcs[i].src)
            up_auth_one(&up->srcs[i], now, &out[n++]);
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
