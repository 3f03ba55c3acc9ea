/* SPDX-License-Identifier: ISC */
/* Unit tests for sync.c: real sources polling real servers in process, on
 * a fake time base the test moves by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "clock_virtual.h"
#include "leapfile.h"
#include "ntp_wire.h"
#include "server.h"
#include "source.h"
#include "sync.h"
#include "timefmt.h"

#define NSRV 3

static struct timespec fake_now = {1800000000, 0};

static void fake_read(void *ctx, struct timespec *out)
{
    (void)ctx;
    *out = fake_now;
}

static int64_t fake_mono = 1000000000;

/* Time passes: both clocks move. */
static void advance(double s)
{
    timefmt_timespec_add(&fake_now, s);
    fake_mono += (int64_t)(s * 1e9);
}

static int64_t mono(void)
{
    return fake_mono;
}

struct upstream_fake {
    struct clock *clk;
    struct acl *acl;
    struct ratelimit *rl;
    struct server *srv;
    struct source *src;
    int alive;
    double slow; /* extra delay on the way back, s */
};

struct world {
    struct clock *clk; /* ours */
    struct server *our_srv;
    struct acl *acl;
    struct ratelimit *rl;
    struct sync *sy;
    struct upstream_fake up[NSRV];
};

static void world_init_orphan(struct world *w, const double *offsets, int local_stratum,
                              double local_delay, int orphan)
{
    struct ratelimit_params rp = {.enabled = 0};
    struct sync_params sp;
    struct source_params srcp = {.minpoll = 4, .maxpoll = 6, .iburst = 1};

    memset(w, 0, sizeof(*w));
    w->clk = clock_virtual_create_on(fake_read, NULL, 0.0, 0.0);
    w->acl = acl_create();
    w->rl = ratelimit_create(&rp, 1);
    w->our_srv = server_create(w->acl, w->rl, -20);
    sync_params_default(&sp);
    sp.select.min_sources = 1;
    sp.disc.makestep_threshold = 0.1;
    sp.disc.makestep_limit = -1;
    sp.local_stratum = local_stratum;
    sp.local_delay = local_delay;
    sp.local_orphan = orphan;
    w->sy = sync_create(&sp, w->clk, w->our_srv, 0.0);
    for (int i = 0; i < NSRV && offsets; i++) {
        struct upstream_fake *u = &w->up[i];
        struct server_ref ref = {.synced = 1, .stratum = 1, .refid = 0x47505300};
        u->clk = clock_virtual_create_on(fake_read, NULL, offsets[i], 0.0);
        u->acl = acl_create();
        acl_add(u->acl, "all", 1);
        u->rl = ratelimit_create(&rp, 2);
        u->srv = server_create(u->acl, u->rl, -20);
        server_set_ref(u->srv, &ref);
        u->src = source_create(&srcp, 100 + (uint64_t)i);
        u->alive = 1;
        char name[16];
        snprintf(name, sizeof(name), "up%d", i);
        assert_true(sync_add_source(w->sy, u->src, name, 0x7f000001u + (uint32_t)i) >= 0);
    }
}

static void world_init(struct world *w, const double *offsets, int local_stratum,
                       double local_delay)
{
    world_init_orphan(w, offsets, local_stratum, local_delay, 0);
}

/* What upstream i advertises: stratum and refid. */
static void set_upstream_ref(struct world *w, int i, int stratum, uint32_t refid)
{
    struct server_ref ref = {.synced = 1, .stratum = stratum, .refid = refid};
    server_set_ref(w->up[i].srv, &ref);
}

/* The system state now. */
static void state_now(struct world *w, struct sync_state *st)
{
    struct timespec now;
    clock_now(w->clk, &now);
    sync_get_state(w->sy, &now, st);
}

static enum select_status status_of(struct world *w, int i)
{
    struct sync_source_info si;
    struct timespec now;
    clock_now(w->clk, &now);
    sync_get_source(w->sy, i, &now, &si);
    return si.status;
}

static void world_free(struct world *w)
{
    sync_destroy(w->sy);
    for (int i = 0; i < NSRV; i++) {
        struct upstream_fake *u = &w->up[i];
        if (!u->src)
            continue;
        source_destroy(u->src);
        server_destroy(u->srv);
        ratelimit_destroy(u->rl);
        acl_destroy(u->acl);
        clock_destroy(u->clk);
    }
    server_destroy(w->our_srv);
    ratelimit_destroy(w->rl);
    acl_destroy(w->acl);
    clock_destroy(w->clk);
}

/* One poll of source i over a 1 ms symmetric path. */
static void poll_one(struct world *w, int i)
{
    struct upstream_fake *u = &w->up[i];
    uint8_t req[NTP_MAX_PACKET], rep[NTP_MAX_PACKET];
    struct timespec t1, rx, tx, t4;
    struct netaddr us;
    size_t rlen;

    addr_parse("127.0.0.1", &us);
    clock_now(w->clk, &t1);
    size_t len = source_make_request(u->src, &t1, req, sizeof(req));
    assert_int_equal(len, NTP_HEADER_LEN);
    if (!u->alive)
        return;
    advance(0.0005);
    clock_now(u->clk, &rx);
    if (server_handle(u->srv, req, len, &us, &rx, mono(), rep, sizeof(rep), &rlen) !=
        SERVER_REPLY)
        return;
    clock_now(u->clk, &tx);
    server_stamp_tx(rep, rlen, &tx);
    advance(0.0005 + u->slow);
    clock_now(w->clk, &t4);
    if (source_process_reply(u->src, rep, rlen, &t4) == SOURCE_SAMPLE)
        sync_update(w->sy, &t4, mono());
}

/* Poll every source n times, 2 s apart, ticking sync every second. */
static void run_rounds(struct world *w, int n)
{
    struct timespec now;
    for (int r = 0; r < n; r++) {
        for (int i = 0; i < NSRV; i++)
            if (w->up[i].src)
                poll_one(w, i);
        for (int k = 0; k < 2; k++) {
            advance(1.0);
            clock_now(w->clk, &now);
            sync_tick(w->sy, &now, mono());
        }
    }
}

static void test_falseticker_never_steps_clock(void **state)
{
    (void)state;
    /* The liar is polled first: without the startup wait it would be the
     * only candidate and step the clock by a second. */
    const double offs[NSRV] = {1.0, 0.0, 0.0};
    struct world w;
    struct sync_state st;
    struct sync_source_info si;
    struct timespec now;

    world_init(&w, offs, 0, 0);
    clock_now(w.clk, &now);
    sync_tick(w.sy, &now, mono());
    poll_one(&w, 0);
    state_now(&w, &st);
    assert_int_equal(st.synced, 0);
    run_rounds(&w, 6);
    state_now(&w, &st);
    assert_int_equal(st.synced, 1);
    assert_int_equal(st.disc.steps, 0);
    assert_int_equal(st.stratum, 2);
    assert_true(st.system_peer == 1 || st.system_peer == 2);
    sync_get_source(w.sy, 0, &now, &si);
    assert_int_equal(si.status, SELECT_FALSETICKER);
    assert_true(fabs(clock_virtual_error(w.clk)) < 0.001);
    world_free(&w);
}

static void test_steps_to_majority(void **state)
{
    (void)state;
    const double offs[NSRV] = {0.0, 0.0, 0.0};
    struct world w;
    struct sync_state st;

    world_init(&w, offs, 0, 0);
    clock_step(w.clk, 0.5); /* we start half a second ahead */
    run_rounds(&w, 6);
    state_now(&w, &st);
    assert_int_equal(st.synced, 1);
    assert_int_equal(st.disc.steps, 1);
    assert_true(fabs(st.disc.last_step + 0.5) < 0.002);
    assert_true(fabs(clock_virtual_error(w.clk)) < 0.001);
    /* what the server advertises follows */
    const struct server_ref *ref = server_get_ref(w.our_srv);
    assert_int_equal(ref->synced, 1);
    assert_int_equal(ref->stratum, 2);
    assert_true(ref->refid >= 0x7f000001u && ref->refid <= 0x7f000003u);
    world_free(&w);
}

static void test_holdover_then_local(void **state)
{
    (void)state;
    const double offs[NSRV] = {0.0, 0.0, 0.0};
    struct world w;
    struct timespec now;

    world_init(&w, offs, 7, 60.0);
    run_rounds(&w, 6);
    double disp0 = server_get_ref(w.our_srv)->root_dispersion;
    for (int i = 0; i < NSRV; i++)
        w.up[i].alive = 0;
    /* Holdover: still stratum 2, dispersion growing 15 us per second. */
    run_rounds(&w, 5);
    const struct server_ref *ref = server_get_ref(w.our_srv);
    assert_int_equal(ref->stratum, 2);
    assert_true(ref->root_dispersion > disp0 + 9 * SOURCE_PHI);
    /* After 8 unanswered polls the sources are unreachable; 60 s later the
     * local reference takes over, not before. */
    run_rounds(&w, 6);
    assert_int_equal(server_get_ref(w.our_srv)->stratum, 2);
    run_rounds(&w, 40);
    ref = server_get_ref(w.our_srv);
    assert_int_equal(ref->stratum, 7);
    assert_int_equal(ref->refid, ntp_wire_refid_ascii("LOCL"));
    clock_now(w.clk, &now);
    struct sync_state st;
    sync_get_state(w.sy, &now, &st);
    assert_int_equal(st.local, 1);
    assert_int_equal(st.leap, NTP_LEAP_NONE);
    world_free(&w);
}

static void test_local_only(void **state)
{
    (void)state;
    struct world w;
    struct timespec now;

    world_init(&w, NULL, 9, 3600.0);
    clock_now(w.clk, &now);
    assert_int_equal(server_get_ref(w.our_srv)->synced, 0);
    sync_tick(w.sy, &now, mono());
    /* no source at all: the local reference at once, whatever the delay */
    assert_int_equal(server_get_ref(w.our_srv)->stratum, 9);
    assert_int_equal(server_get_ref(w.our_srv)->synced, 1);
    world_free(&w);
}

static void test_unsynchronised_without_local(void **state)
{
    (void)state;
    const double offs[NSRV] = {0.0, 5.0, -5.0}; /* no two agree */
    struct world w;
    struct sync_state st;

    world_init(&w, offs, 0, 0);
    run_rounds(&w, 8);
    state_now(&w, &st);
    assert_int_equal(st.synced, 0);
    assert_int_equal(st.outcome, SELECT_RES_NO_MAJORITY);
    assert_int_equal(server_get_ref(w.our_srv)->synced, 0);
    assert_int_equal(st.disc.steps, 0);
    world_free(&w);
}

static void test_jump_detected(void **state)
{
    (void)state;
    const double offs[NSRV] = {0.0, 0.0, 0.0};
    struct world w;
    struct timespec now;
    struct sync_state st;

    world_init(&w, offs, 0, 0);
    run_rounds(&w, 6);
    /* Our clock jumps 10 s against true time and the monotonic clock (a VM
     * restored from a snapshot, someone setting the time). */
    clock_step(w.clk, 10.0);
    advance(1.0);
    clock_now(w.clk, &now);
    sync_tick(w.sy, &now, mono());
    sync_get_state(w.sy, &now, &st);
    assert_int_equal(st.synced, 0);
    /* the sources burst again and the clock is stepped back to true time */
    run_rounds(&w, 8);
    state_now(&w, &st);
    assert_int_equal(st.synced, 1);
    assert_true(fabs(st.disc.last_step + 10.0) < 0.01);
    assert_true(fabs(clock_virtual_error(w.clk)) < 0.001);
    world_free(&w);
}

/* A source whose refid is our own id is synchronised to us: never
 * followed, shown as a loop, while the others are used as usual. */
static void test_loop_rejected(void **state)
{
    (void)state;
    const double offs[NSRV] = {0.0, 0.0, 0.0};
    struct world w;
    struct sync_state st;

    world_init(&w, offs, 0, 0);
    for (int i = 0; i < NSRV; i++)
        sync_set_source_own_id(w.sy, i, 0x0a000005u);
    set_upstream_ref(&w, 0, 2, 0x0a000005u); /* up0 follows us */
    run_rounds(&w, 6);
    state_now(&w, &st);
    assert_int_equal(st.synced, 1);
    assert_true(st.system_peer == 1 || st.system_peer == 2);
    assert_int_equal(status_of(&w, 0), SELECT_LOOP);
    assert_string_equal(select_status_name(SELECT_LOOP), "loop");
    /* the same refid from a stratum 1 source is an ASCII code, not us */
    set_upstream_ref(&w, 0, 1, 0x0a000005u);
    run_rounds(&w, 4);
    assert_true(status_of(&w, 0) >= SELECT_CANDIDATE);
    world_free(&w);
}

/* Orphan mode: three peers serving their own clocks at our local stratum
 * 10. We follow the one peer whose id is smaller than ours; the others are
 * held back. The peer with the smallest id of all follows no one and
 * serves its own clock after the delay. */
static void test_orphan_election(void **state)
{
    (void)state;
    const double offs[NSRV] = {0.0, 0.0, 0.0};
    static const uint32_t own[2] = {0x7f000002u, 0x7f000000u};
    struct world w;
    struct sync_state st;

    for (int c = 0; c < 2; c++) {
        world_init_orphan(&w, offs, 10, 30.0, 1);
        for (int i = 0; i < NSRV; i++) {
            set_upstream_ref(&w, i, 10, ntp_wire_refid_ascii("LOCL"));
            sync_set_source_own_id(w.sy, i, own[c]); /* source ids 0x7f000001.. */
        }
        /* up2 follows another peer (a child): never followed, even when up0
         * is not eligible */
        set_upstream_ref(&w, 2, 11, 0x7f000004u);
        run_rounds(&w, 25);
        state_now(&w, &st);
        assert_int_equal(status_of(&w, 1), SELECT_ORPHAN);
        assert_int_equal(status_of(&w, 2), SELECT_ORPHAN);
        if (c == 0) { /* up0 (0x7f000001) is smaller than us: followed */
            assert_int_equal(st.synced, 1);
            assert_int_equal(st.system_peer, 0);
            assert_int_equal(st.stratum, 11);
            assert_int_equal(status_of(&w, 0), SELECT_SELECTED);
        } else { /* we are the smallest: our own clock at stratum 10 */
            assert_int_equal(st.synced, 0);
            assert_int_equal(st.local, 1);
            assert_int_equal(server_get_ref(w.our_srv)->stratum, 10);
            assert_int_equal(status_of(&w, 0), SELECT_ORPHAN);
        }
        world_free(&w);
    }
}

/* Orphan peers never outvote real time: with a stratum 1 source reachable
 * it is followed and the peers are held back; without orphan mode a
 * stratum 10 source is an ordinary source. */
static void test_orphan_real_time_first(void **state)
{
    (void)state;
    const double offs[NSRV] = {0.0, 0.0, 0.0};
    struct world w;
    struct sync_state st;

    for (int orphan = 1; orphan >= 0; orphan--) {
        world_init_orphan(&w, offs, 10, 30.0, orphan);
        for (int i = 0; i < NSRV; i++)
            sync_set_source_own_id(w.sy, i, 0x7f000009u);
        set_upstream_ref(&w, 0, 10, ntp_wire_refid_ascii("LOCL"));
        set_upstream_ref(&w, 1, 11, 0x7f000001u); /* follows up0 */
        run_rounds(&w, 8);
        state_now(&w, &st);
        assert_int_equal(st.synced, 1);
        if (orphan) {
            assert_int_equal(st.system_peer, 2);
            assert_int_equal(st.stratum, 2);
            assert_int_equal(status_of(&w, 0), SELECT_ORPHAN);
            assert_int_equal(status_of(&w, 1), SELECT_ORPHAN);
        } else {
            assert_true(status_of(&w, 0) >= SELECT_CANDIDATE);
        }
        world_free(&w);
    }
}

/* A source's samples from while it was a falseticker never reach the
 * discipline, and no survivor but the system peer steps the clock: here
 * up2 runs 0.3 s ahead, then steps its own clock to true time and
 * survives, its filter still holding the old samples (in the field: a
 * peer serving its own clock before it synchronised). */
static void test_old_falseticker_samples_never_step(void **state)
{
    (void)state;
    const double offs[NSRV] = {0.0, 0.0, 0.3};
    struct world w;
    struct sync_state st;

    world_init(&w, offs, 0, 0);
    run_rounds(&w, 4);
    assert_int_equal(status_of(&w, 2), SELECT_FALSETICKER);
    clock_step(w.up[2].clk, -0.3);
    run_rounds(&w, 2);
    state_now(&w, &st);
    assert_int_equal(st.synced, 1);
    assert_true(status_of(&w, 2) >= SELECT_COMBINED);
    assert_int_equal(st.disc.steps, 0);
    assert_true(fabs(clock_virtual_error(w.clk)) < 0.001);
    world_free(&w);
}

/* Only the system peer steps the clock: a survivor whose low-delay pick
 * still agrees, while its newer samples over a slower path say 0.3 s, is
 * combined but never makes the step. */
static void test_combined_survivor_never_steps(void **state)
{
    (void)state;
    const double offs[NSRV] = {0.0, 0.0, 0.0};
    struct world w;
    struct sync_state st;

    world_init(&w, offs, 0, 0);
    run_rounds(&w, 4);
    int peer = (state_now(&w, &st), st.system_peer);
    int other = peer == 0 ? 1 : 0;
    clock_step(w.up[other].clk, 0.3);
    w.up[other].slow = 0.02;
    run_rounds(&w, 3);
    state_now(&w, &st);
    assert_int_equal(st.system_peer, peer);
    assert_int_equal(status_of(&w, other), SELECT_COMBINED);
    assert_int_equal(st.disc.steps, 0);
    assert_true(fabs(clock_virtual_error(w.clk)) < 0.001);
    world_free(&w);
}


/* leapsmear through sync: a leap second known from a leapsectz table on
 * the last day of June 2027, a local stratum 5 server smearing it noon to
 * noon: the served offset follows the smear, the leap is announced to the
 * server (which hides it), a reload keeps the window of the smear begun,
 * and one without leapsmear ends it. */
static void test_smear_plumbing(void **state)
{
    const time_t midnight = 1814400000; /* 2027-07-01 00:00 UTC */
    const time_t when[2] = {63072000, midnight};
    const int tai[2] = {37, 38};
    struct ratelimit_params rp = {.enabled = 0};
    struct sync_params sp;
    struct sync_state st;
    struct timespec now;
    (void)state;

    fake_now = (struct timespec){midnight - 43200 - 10, 0}; /* 11:59:50 */
    struct clock *clk = clock_virtual_create_on(fake_read, NULL, 0.0, 0.0);
    struct acl *acl = acl_create();
    struct ratelimit *rl = ratelimit_create(&rp, 1);
    struct server *srv = server_create(acl, rl, -20);
    struct leap_table *t = leapfile_build(when, tai, 2, LEAPFILE_NO_EXPIRY);
    assert_non_null(t);
    sync_params_default(&sp);
    sp.local_stratum = 5;
    sp.smear_window = 86400.0;
    struct sync *sy = sync_create(&sp, clk, srv, 0.0);
    sync_set_leaps_tz(sy, t);

    clock_now(clk, &now);
    sync_tick(sy, &now, mono());
    sync_get_state(sy, &now, &st);
    assert_int_equal(st.leap_pending, 1);
    assert_string_equal(st.leap_source, "leapsectz");
    assert_int_equal(server_get_ref(srv)->leap, NTP_LEAP_ADD);
    assert_true(st.smear_offset == 0.0); /* the window opens at noon */
    assert_true(st.leaplist_expiry == 0); /* right/UTC-like: no expiry */

    advance(3610.0); /* 13:00 */
    clock_now(clk, &now);
    sync_tick(sy, &now, mono());
    sync_get_state(sy, &now, &st);
    assert_true(fabs(st.smear_offset + 3600.0 / 86401.0) < 1e-6);

    sp.smear_window = 3600.0; /* the smear begun keeps its window */
    sync_set_params(sy, &sp);
    advance(1.0);
    clock_now(clk, &now);
    sync_tick(sy, &now, mono());
    sync_get_state(sy, &now, &st);
    assert_true(fabs(st.smear_offset + 3601.0 / 86401.0) < 1e-6);

    sp.smear_window = 0.0; /* leapsmear removed: the smear ends */
    sync_set_params(sy, &sp);
    advance(1.0);
    clock_now(clk, &now);
    sync_tick(sy, &now, mono());
    sync_get_state(sy, &now, &st);
    assert_true(st.smear_offset == 0.0);
    assert_int_equal(st.leap_pending, 1);

    sync_destroy(sy);
    leapfile_free(t);
    server_destroy(srv);
    ratelimit_destroy(rl);
    acl_destroy(acl);
    clock_destroy(clk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_falseticker_never_steps_clock),
        cmocka_unit_test(test_steps_to_majority),
        cmocka_unit_test(test_holdover_then_local),
        cmocka_unit_test(test_local_only),
        cmocka_unit_test(test_unsynchronised_without_local),
        cmocka_unit_test(test_jump_detected),
        cmocka_unit_test(test_loop_rejected),
        cmocka_unit_test(test_orphan_election),
        cmocka_unit_test(test_orphan_real_time_first),
        cmocka_unit_test(test_old_falseticker_samples_never_step),
        cmocka_unit_test(test_combined_survivor_never_steps),
        cmocka_unit_test(test_smear_plumbing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
