/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ntp_wire.h"
#include "select.h"

/* cmocka 1.1 compares floats only; this one keeps double precision. */
#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

/* Candidates are built with delay 0.02 s so that the root distance is
 * 0.01 + dispersion + jitter and easy to state in each test. */
static struct select_candidate cand(int id, double offset, double dist)
{
    struct select_candidate c;

    memset(&c, 0, sizeof(c));
    c.id = id;
    c.offset = offset;
    c.delay = 0.02;
    c.jitter = 0.0001;
    c.dispersion = dist - 0.01 - c.jitter;
    c.stratum = 2;
    c.leap = NTP_LEAP_NONE;
    c.reachable = 1;
    return c;
}

static struct select_params params(int min_sources, int min_survivors)
{
    struct select_params p;

    select_params_default(&p);
    p.min_sources = min_sources;
    p.min_survivors = min_survivors;
    return p;
}

static enum select_outcome run(const struct select_candidate *c, size_t n, int current,
                               struct select_result *res)
{
    struct select_params p;

    select_params_default(&p);
    return select_run(c, n, &p, current, res);
}

static int is_truechimer(enum select_status st)
{
    return st == SELECT_SELECTED || st == SELECT_COMBINED || st == SELECT_CANDIDATE;
}

static int is_survivor(enum select_status st)
{
    return st == SELECT_SELECTED || st == SELECT_COMBINED;
}

static void assert_nothing_selected(const struct select_result *res)
{
    assert_int_equal(res->system_peer, -1);
    assert_int_equal(res->system_peer_id, SELECT_ID_NONE);
    assert_int_equal(res->leap, NTP_LEAP_UNSYNC);
    assert_int_equal(res->nsurvivors, 0);
    assert_true(res->offset == 0 && res->jitter == 0);
}

static void test_root_distance(void **state)
{
    struct select_candidate c = cand(0, 0, 0.05);

    (void)state;
    assert_near(select_root_distance(&c), 0.05, 1e-12);
    c.root_delay = 0.1;
    c.delay = 0.02;
    c.root_dispersion = 0.05;
    c.dispersion = 0.01;
    c.jitter = 0.002;
    assert_near(select_root_distance(&c), 0.06 + 0.05 + 0.01 + 0.002, 1e-12);
    /* Tiny or negative path delays are floored at MINDISP. */
    c.root_delay = 0;
    c.delay = -0.5;
    assert_near(select_root_distance(&c), SELECT_MINDISP / 2 + 0.062, 1e-12);
    c.dispersion = NAN;
    assert_true(isnan(select_root_distance(&c)));
}

static void test_three_agree(void **state)
{
    struct select_candidate c[3] = {cand(10, 0.001, 0.02), cand(11, 0.003, 0.04),
                                    cand(12, -0.002, 0.05)};
    struct select_result res;
    double w[3] = {1 / 0.02, 1 / 0.04, 1 / 0.05}, sw = 0, so = 0, ss = 0, sj = 0, theta;

    (void)state;
    assert_int_equal(run(c, 3, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.outcome, SELECT_RES_OK);
    assert_int_equal(res.ntruechimers, 3);
    assert_int_equal(res.nsurvivors, 3);
    assert_int_equal(res.system_peer, 0);
    assert_int_equal(res.system_peer_id, 10);
    assert_int_equal(res.status[0], SELECT_SELECTED);
    assert_int_equal(res.status[1], SELECT_COMBINED);
    assert_int_equal(res.status[2], SELECT_COMBINED);
    assert_near(res.peer_distance, 0.02, 1e-12);
    assert_int_equal(res.leap, NTP_LEAP_NONE);
    for (int i = 0; i < 3; i++) {
        sw += w[i];
        so += w[i] * c[i].offset;
    }
    theta = so / sw;
    for (int i = 0; i < 3; i++) {
        ss += w[i] * (c[i].offset - theta) * (c[i].offset - theta);
        sj += w[i] * c[i].jitter * c[i].jitter;
    }
    assert_near(res.offset, theta, 1e-15);
    assert_near(res.jitter, sqrt((ss + sj) / sw), 1e-15);
    /* The intersection is where all three intervals overlap. */
    assert_near(res.low, 0.001 - 0.02, 1e-12);
    assert_near(res.high, 0.001 + 0.02, 1e-12);
}

static void test_single_source(void **state)
{
    struct select_candidate c = cand(3, 0.25, 0.1);
    struct select_result res;

    (void)state;
    c.jitter = 0.004;
    assert_int_equal(run(&c, 1, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.status[0], SELECT_SELECTED);
    assert_near(res.offset, 0.25, 1e-15);
    assert_near(res.jitter, 0.004, 1e-15);
}

/* honest sources near 0 with distance 0.05, liars from 1 s up; colluding
 * liars share one offset. */
static void check_liars(int honest, int liars, int collude)
{
    struct select_candidate c[16];
    struct select_result res;
    int n = honest + liars;

    for (int i = 0; i < n; i++) {
        int liar = i % 2 == 1 && i / 2 < liars; /* interleave liars with honest ones */
        double off = liar ? 1.0 + (collude ? 0 : 0.5 * i) : 0.002 * (i % 3) - 0.002;

        c[i] = cand(100 + i, off, 0.05);
    }
    assert_int_equal(run(c, (size_t)n, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.ntruechimers, honest);
    for (int i = 0; i < n; i++) {
        if (c[i].offset >= 1.0)
            assert_int_equal(res.status[i], SELECT_FALSETICKER);
        else
            assert_true(is_truechimer(res.status[i]));
    }
    assert_true(fabs(res.offset) <= 0.002 + 1e-12);
    assert_true(res.low <= 0 && res.high >= 0);
}

static void test_one_liar(void **state)
{
    (void)state;
    check_liars(2, 1, 0);
    check_liars(3, 1, 0);
    check_liars(4, 1, 0);
}

static void test_two_liars_of_five(void **state)
{
    (void)state;
    check_liars(3, 2, 0);
    check_liars(3, 2, 1);
}

static void test_three_liars_of_seven(void **state)
{
    (void)state;
    check_liars(4, 3, 0);
    check_liars(4, 3, 1);
}

static void check_no_majority(const struct select_candidate *c, size_t n)
{
    struct select_result res;

    assert_int_equal(run(c, n, SELECT_ID_NONE, &res), SELECT_RES_NO_MAJORITY);
    assert_int_equal(res.ntruechimers, 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(res.status[i], SELECT_TOO_FEW);
    assert_nothing_selected(&res);
}

static void test_two_liars_of_four(void **state)
{
    struct select_candidate c[4] = {cand(1, 0.001, 0.05), cand(2, 3.0, 0.05), cand(3, -0.001, 0.05),
                                    cand(4, -2.0, 0.05)};

    (void)state;
    check_no_majority(c, 4);
    c[3].offset = 3.01; /* colluding liars are no better */
    check_no_majority(c, 4);
}

static void test_disjoint_groups(void **state)
{
    struct select_candidate c[6] = {cand(1, 0.0, 0.05),  cand(2, 0.5, 0.05),   cand(3, 0.01, 0.05),
                                    cand(4, 0.51, 0.05), cand(5, -0.01, 0.05), cand(6, 0.49, 0.05)};

    (void)state;
    check_no_majority(c, 4);
    check_no_majority(c, 6);
    check_no_majority(c, 2);
}

static void test_midpoint_rule(void **state)
{
    /* The wide interval contains the intersection, but its midpoint does
     * not lie in it: RFC 5905 calls that a falseticker. */
    struct select_candidate c[4] = {cand(1, 0, 0.01), cand(2, 0.001, 0.01), cand(3, -0.001, 0.01),
                                    cand(4, 0.05, 0.1)};
    struct select_result res;

    (void)state;
    assert_int_equal(run(c, 4, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.status[3], SELECT_FALSETICKER);
    assert_int_equal(res.ntruechimers, 3);
}

static void test_noselect(void **state)
{
    struct select_candidate c[4] = {cand(1, 0.001, 0.05), cand(2, 0.002, 0.03), cand(3, 0.0, 0.04),
                                    cand(4, 0.001, 0.011)};
    struct select_result res;

    (void)state;
    c[3].noselect = 1; /* best of all, but noselect */
    c[3].prefer = 1;
    assert_int_equal(run(c, 4, 4, &res), SELECT_RES_OK);
    assert_int_equal(res.status[3], SELECT_NOSELECT);
    assert_int_equal(res.system_peer_id, 2);
    assert_int_equal(res.ntruechimers, 3);
    /* noselect sources do not vote either: two of them cannot outvote one. */
    c[0].noselect = c[1].noselect = 1;
    c[0].offset = c[1].offset = 5.0;
    assert_int_equal(run(c, 3, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.system_peer, 2);
    c[2].noselect = 1;
    assert_int_equal(run(c, 3, SELECT_ID_NONE, &res), SELECT_RES_NO_CANDIDATES);
    assert_int_equal(res.status[2], SELECT_NOSELECT);
    assert_nothing_selected(&res);
}

static void test_unreachable(void **state)
{
    struct select_candidate c[4] = {cand(1, 0.001, 0.05), cand(2, 7.0, 0.02), cand(3, -0.001, 0.05),
                                    cand(4, 7.0, 0.02)};
    struct select_result res;

    (void)state;
    check_no_majority(c, 4);
    c[1].reachable = c[3].reachable = 0;
    assert_int_equal(run(c, 4, 2, &res), SELECT_RES_OK);
    assert_int_equal(res.status[1], SELECT_UNREACHABLE);
    assert_int_equal(res.status[3], SELECT_UNREACHABLE);
    assert_int_equal(res.ntruechimers, 2);
    assert_int_equal(res.system_peer_id, 1);
    /* Unreachable wins over noselect in the display. */
    c[1].noselect = 1;
    assert_int_equal(run(c, 4, 2, &res), SELECT_RES_OK);
    assert_int_equal(res.status[1], SELECT_UNREACHABLE);
}

static void test_too_distant(void **state)
{
    struct select_candidate c[4] = {cand(1, 0.001, 0.05), cand(2, 0.0, 2.0), cand(3, -0.001, 0.05),
                                    cand(4, 0.0, 1.4)};
    struct select_params p = params(1, 3);
    struct select_result res;

    (void)state;
    assert_int_equal(select_run(c, 4, &p, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.status[1], SELECT_TOO_DISTANT);
    assert_near(res.distance[1], 2.0, 1e-12);
    assert_true(is_truechimer(res.status[3]));
    /* Exactly at the limit is fine, just above is not. */
    p.max_distance = res.distance[3];
    assert_int_equal(select_run(c, 4, &p, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_true(is_truechimer(res.status[3]));
    p.max_distance = nextafter(res.distance[3], 0);
    assert_int_equal(select_run(c, 4, &p, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.status[3], SELECT_TOO_DISTANT);
    p.max_distance = 0.04;
    assert_int_equal(select_run(c, 4, &p, SELECT_ID_NONE, &res), SELECT_RES_NO_CANDIDATES);
    for (int i = 0; i < 4; i++)
        assert_int_equal(res.status[i], SELECT_TOO_DISTANT);
    assert_nothing_selected(&res);
    c[0].offset = NAN;
    c[2].offset = INFINITY;
    assert_int_equal(run(c, 4, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.status[0], SELECT_TOO_DISTANT);
    assert_int_equal(res.status[2], SELECT_TOO_DISTANT);
    assert_int_equal(res.system_peer, 3);
}

static void test_unsynced(void **state)
{
    struct select_candidate c[4] = {cand(1, 0.0, 0.05), cand(2, 0.0, 0.02), cand(3, 0.0, 0.02),
                                    cand(4, 0.0, 0.02)};
    struct select_result res;

    (void)state;
    c[1].leap = NTP_LEAP_UNSYNC;
    c[2].stratum = 0;
    c[3].stratum = 16;
    assert_int_equal(run(c, 4, SELECT_ID_NONE, &res), SELECT_RES_OK);
    for (int i = 1; i < 4; i++)
        assert_int_equal(res.status[i], SELECT_UNSYNCED);
    assert_int_equal(res.system_peer, 0);
}

static void test_prefer(void **state)
{
    struct select_candidate c[4] = {cand(1, 0.001, 0.02), cand(2, 0.002, 0.03), cand(3, 0.0, 0.04),
                                    cand(4, 2.0, 0.01)};
    struct select_result res;

    (void)state;
    c[2].prefer = 1; /* worst-ranked survivor */
    assert_int_equal(run(c, 4, 1, &res), SELECT_RES_OK);
    assert_int_equal(res.system_peer_id, 3);
    assert_int_equal(res.status[2], SELECT_SELECTED);
    assert_int_equal(res.status[0], SELECT_COMBINED);
    assert_near(res.peer_distance, 0.04, 1e-12);
    /* A preferred falseticker is still a falseticker. */
    c[2].prefer = 0;
    c[3].prefer = 1;
    assert_int_equal(run(c, 4, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.status[3], SELECT_FALSETICKER);
    assert_int_equal(res.system_peer_id, 1);
}

static void test_sticky(void **state)
{
    struct select_candidate c[4] = {cand(1, 0.001, 0.02), cand(2, 0.002, 0.03), cand(3, 0.0, 0.04),
                                    cand(4, 2.0, 0.01)};
    struct select_result res;

    (void)state;
    assert_int_equal(run(c, 4, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.system_peer_id, 1);
    assert_int_equal(run(c, 4, 3, &res), SELECT_RES_OK);
    assert_int_equal(res.system_peer_id, 3);
    assert_int_equal(res.status[0], SELECT_COMBINED);
    /* The current peer turned falseticker: the best survivor takes over. */
    assert_int_equal(run(c, 4, 4, &res), SELECT_RES_OK);
    assert_int_equal(res.system_peer_id, 1);
    /* An unknown id is no current peer. */
    assert_int_equal(run(c, 4, 99, &res), SELECT_RES_OK);
    assert_int_equal(res.system_peer_id, 1);
    /* prefer beats stickiness. */
    c[1].prefer = 1;
    assert_int_equal(run(c, 4, 3, &res), SELECT_RES_OK);
    assert_int_equal(res.system_peer_id, 2);
    /* A survivor of a lower stratum beats stickiness too: a server that
     * followed a peer while its upstream was away goes back to it. */
    c[1].prefer = 0;
    c[2].stratum = 1;
    assert_int_equal(run(c, 4, 1, &res), SELECT_RES_OK);
    assert_int_equal(res.system_peer_id, 3);
    assert_int_equal(run(c, 4, 3, &res), SELECT_RES_OK);
    assert_int_equal(res.system_peer_id, 3);
}

static void test_min_sources(void **state)
{
    struct select_candidate c[3] = {cand(1, 0.001, 0.02), cand(2, 0.002, 0.03), cand(3, 4.0, 0.04)};
    struct select_params p = params(3, 3);
    struct select_result res;

    (void)state;
    assert_int_equal(select_run(c, 3, &p, 1, &res), SELECT_RES_TOO_FEW);
    assert_int_equal(res.status[0], SELECT_TOO_FEW);
    assert_int_equal(res.status[1], SELECT_TOO_FEW);
    assert_int_equal(res.status[2], SELECT_FALSETICKER);
    assert_int_equal(res.ntruechimers, 2);
    assert_true(res.low < 0.001 && res.high > 0.002);
    assert_nothing_selected(&res);
    assert_int_equal(select_run(c, 2, &p, 1, &res), SELECT_RES_TOO_FEW);
    assert_int_equal(res.status[1], SELECT_TOO_FEW);
    p.min_sources = 2;
    assert_int_equal(select_run(c, 3, &p, 1, &res), SELECT_RES_OK);
    assert_int_equal(res.status[0], SELECT_SELECTED);
}

static void check_leap(const int *leaps, int n, int want)
{
    struct select_candidate c[8];
    struct select_result res;

    for (int i = 0; i < n; i++) {
        c[i] = cand(i, 0.0001 * i, 0.05);
        c[i].leap = leaps[i];
    }
    assert_int_equal(
        select_run(c, (size_t)n, &(struct select_params){1, 8, 1.5}, SELECT_ID_NONE, &res),
        SELECT_RES_OK);
    assert_int_equal(res.nsurvivors, n);
    assert_int_equal(res.leap, want);
}

static void test_leap_majority(void **state)
{
    static const int ins2of3[] = {1, 1, 0}, del3[] = {2, 2, 2}, tie[] = {1, 1, 0, 0},
                     split[] = {1, 2, 0}, one[] = {1}, minority[] = {0, 0, 1, 1, 1, 0, 0};
    struct select_candidate c[5] = {cand(1, 0.0, 0.05), cand(2, 0.001, 0.05), cand(3, -0.001, 0.05),
                                    cand(4, 3.0, 0.05), cand(5, 3.0, 0.05)};
    struct select_result res;

    (void)state;
    check_leap(ins2of3, 3, NTP_LEAP_ADD);
    check_leap(del3, 3, NTP_LEAP_DEL);
    check_leap(tie, 4, NTP_LEAP_NONE);
    check_leap(split, 3, NTP_LEAP_NONE);
    check_leap(one, 1, NTP_LEAP_ADD);
    check_leap(minority, 7, NTP_LEAP_NONE);
    /* Only survivors vote: two falsetickers cannot add a leap second. */
    c[2].leap = c[3].leap = c[4].leap = NTP_LEAP_ADD;
    assert_int_equal(run(c, 5, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.leap, NTP_LEAP_NONE);
}

/* Five truechimers with wide intervals: one sits 30 ms off the others. */
static void clustering_set(struct select_candidate *c, double jitter)
{
    static const double off[5] = {0.0, 0.001, -0.001, 0.0005, 0.03};

    for (int i = 0; i < 5; i++) {
        c[i] = cand(i + 1, off[i], 0.05 + jitter);
        c[i].jitter = jitter;
    }
}

static void test_clustering(void **state)
{
    struct select_candidate c[5];
    struct select_result res;
    struct select_params p = params(1, 3);

    (void)state;
    clustering_set(c, 0.0001);
    assert_int_equal(select_run(c, 5, &p, 5, &res), SELECT_RES_OK);
    assert_int_equal(res.ntruechimers, 5);
    assert_int_equal(res.nsurvivors, 3);
    assert_int_equal(res.status[4], SELECT_CANDIDATE); /* the outlier goes first */
    assert_int_equal(res.status[2], SELECT_CANDIDATE); /* then the furthest of the rest */
    assert_true(is_survivor(res.status[0]) && is_survivor(res.status[1]) &&
                is_survivor(res.status[3]));
    assert_true(res.offset > 0 && res.offset < 0.001);
    /* Down to one survivor when allowed. */
    p.min_survivors = 1;
    assert_int_equal(select_run(c, 5, &p, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.nsurvivors, 1);
    /* Peer jitter above the selection jitter: nothing to gain, nothing dropped. */
    clustering_set(c, 0.05);
    assert_int_equal(select_run(c, 5, &p, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.nsurvivors, 5);
    /* A preferred source can be clustered away; then it is not the peer. */
    clustering_set(c, 0.0001);
    c[4].prefer = 1;
    p.min_survivors = 3;
    assert_int_equal(select_run(c, 5, &p, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.status[4], SELECT_CANDIDATE);
    assert_int_not_equal(res.system_peer, 4);
}

static void test_clustering_ties(void **state)
{
    /* Offsets 0, 1/1024, 2/1024: the outer two have the same selection
     * jitter, and the worse-ranked one goes. */
    struct select_candidate c[3] = {cand(1, 0.0, 0.02), cand(2, 1 / 1024.0, 0.03),
                                    cand(3, 2 / 1024.0, 0.04)};
    struct select_params p = params(1, 2);
    struct select_result res;

    (void)state;
    assert_int_equal(select_run(c, 3, &p, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.status[2], SELECT_CANDIDATE);
    assert_int_equal(res.status[0], SELECT_SELECTED);
    c[0] = cand(1, 0.0, 0.04);
    c[2] = cand(3, 2 / 1024.0, 0.02);
    assert_int_equal(select_run(c, 3, &p, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.status[0], SELECT_CANDIDATE);
    assert_int_equal(res.status[2], SELECT_SELECTED);
    /* Identical sources without jitter: dropping one gains nothing. */
    for (int i = 0; i < 3; i++) {
        c[i] = cand(i, 0.001, 0.05);
        c[i].jitter = 0;
    }
    p.min_survivors = 1;
    assert_int_equal(select_run(c, 3, &p, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.nsurvivors, 3);
    assert_true(res.jitter == 0);
}

static void test_touching(void **state)
{
    /* Exactly representable edges. Two intervals that share one point are
     * no majority (RFC 5905 wants l < u); a third bridging them makes all
     * three truechimers, touching ends counted as overlap. */
    struct select_candidate c[3] = {cand(1, 0.0, 1 / 64.0), cand(2, 1 / 32.0, 1 / 64.0),
                                    cand(3, 1 / 64.0, 1 / 64.0)};
    struct select_result res;

    (void)state;
    for (int i = 0; i < 3; i++) {
        c[i].delay = 2 / 64.0;
        c[i].dispersion = c[i].jitter = 0;
    }
    assert_int_equal(run(c, 2, SELECT_ID_NONE, &res), SELECT_RES_NO_MAJORITY);
    assert_int_equal(run(c, 3, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.ntruechimers, 3);
    assert_true(res.low == 0 && res.high == 1 / 32.0);
}

static void test_stratum_rank(void **state)
{
    struct select_candidate c[3] = {cand(1, 0.0, 0.02), cand(2, 0.001, 0.2), cand(3, 0.001, 0.03)};
    struct select_result res;

    (void)state;
    c[1].stratum = 1;
    assert_int_equal(run(c, 3, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.system_peer_id, 2);
    /* Equal stratum and distance: the lower id ranks first, whatever the order. */
    c[0] = cand(9, 0.0, 0.02);
    c[1] = cand(4, 0.001, 0.02);
    assert_int_equal(run(c, 3, SELECT_ID_NONE, &res), SELECT_RES_OK);
    assert_int_equal(res.system_peer_id, 4);
}

static void test_bad_args(void **state)
{
    struct select_candidate c[SELECT_MAX_SOURCES + 1];
    struct select_params p = params(1, 3);
    struct select_result res;

    (void)state;
    for (int i = 0; i <= SELECT_MAX_SOURCES; i++)
        c[i] = cand(i, 0.0001 * i, 0.05);
    assert_int_equal(select_run(c, SELECT_MAX_SOURCES + 1, &p, 0, &res), SELECT_RES_BADARG);
    assert_nothing_selected(&res);
    assert_int_equal(select_run(c, SELECT_MAX_SOURCES, &p, 0, &res), SELECT_RES_OK);
    assert_int_equal(res.ntruechimers, SELECT_MAX_SOURCES);
    assert_int_equal(res.nsurvivors, 3);
    assert_int_equal(select_run(c, 3, NULL, 0, &res), SELECT_RES_BADARG);
    assert_int_equal(select_run(NULL, 3, &p, 0, &res), SELECT_RES_BADARG);
    assert_int_equal(select_run(NULL, 0, &p, 0, &res), SELECT_RES_NO_CANDIDATES);
    p.min_sources = 0;
    assert_int_equal(select_run(c, 3, &p, 0, &res), SELECT_RES_BADARG);
    p = params(1, 0);
    assert_int_equal(select_run(c, 3, &p, 0, &res), SELECT_RES_BADARG);
    p = params(1, 3);
    p.max_distance = NAN;
    assert_int_equal(select_run(c, 3, &p, 0, &res), SELECT_RES_BADARG);
}

static void test_names(void **state)
{
    (void)state;
    for (int i = 0; i < SELECT_NSTATUS; i++) {
        assert_string_not_equal(select_status_name((enum select_status)i), "?");
        for (int j = 0; j < i; j++)
            assert_string_not_equal(select_status_name((enum select_status)i),
                                    select_status_name((enum select_status)j));
    }
    assert_string_equal(select_status_name(SELECT_FALSETICKER), "falseticker");
    assert_string_equal(select_status_name(SELECT_NSTATUS), "?");
    assert_string_equal(select_outcome_name(SELECT_RES_NO_MAJORITY), "no majority");
    assert_string_equal(select_outcome_name((enum select_outcome)42), "?");
}

/* ---- randomized properties ---- */

static uint64_t seed;

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static double rng_range(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * rng_unit(s);
}

static int rng_int(uint64_t *s, int n)
{
    return (int)(rng_next(s) % (uint64_t)n);
}

#define CHECK(cond, iter)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            print_error("seed %" PRIu64 " iteration %d: %s\n", seed, (iter), #cond);               \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* A source of given root distance whose split into components is random. */
static struct select_candidate rand_cand(uint64_t *s, int id, double offset, double dist)
{
    struct select_candidate c = cand(id, offset, dist);
    double rest = dist - 0.005;

    c.delay = 0.0;
    c.jitter = rest * rng_range(s, 0, 0.3);
    c.root_dispersion = rest * rng_range(s, 0, 0.3);
    c.dispersion = rest - c.jitter - c.root_dispersion;
    c.stratum = 1 + rng_int(s, 3);
    c.prefer = rng_int(s, 10) == 0;
    c.leap = rng_int(s, 8) == 0 ? NTP_LEAP_ADD : NTP_LEAP_NONE;
    return c;
}

/* Sources that never take part, with wild offsets. */
static struct select_candidate rand_unfit(uint64_t *s, int id)
{
    struct select_candidate c = rand_cand(s, id, rng_range(s, -100, 100), 0.05);

    switch (rng_int(s, 4)) {
    case 0:
        c.reachable = 0;
        break;
    case 1:
        c.noselect = 1;
        break;
    case 2:
        c.leap = NTP_LEAP_UNSYNC;
        break;
    default:
        c.dispersion = 5.0;
        break;
    }
    return c;
}

/* Liar: far from every honest interval (those stay within +-0.25 s). */
static double rand_lie(uint64_t *s, double shared)
{
    if (shared != 0)
        return shared;
    return (rng_int(s, 2) ? 1 : -1) * rng_range(s, 1.0, 100.0);
}

static void shuffle(uint64_t *s, struct select_candidate *c, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = rng_int(s, i + 1);
        struct select_candidate t = c[i];

        c[i] = c[j];
        c[j] = t;
    }
}

static int find_id(const struct select_candidate *c, int n, int id)
{
    for (int i = 0; i < n; i++)
        if (c[i].id == id)
            return i;
    return -1;
}

/* The same set in another order must give the same result, bit for bit. */
static void check_order_independent(uint64_t *s, const struct select_candidate *c, int n,
                                    const struct select_params *p, int current,
                                    const struct select_result *a, int iter)
{
    struct select_candidate sh[SELECT_MAX_SOURCES];
    struct select_result b;

    memcpy(sh, c, (size_t)n * sizeof(*c));
    shuffle(s, sh, n);
    CHECK(select_run(sh, (size_t)n, p, current, &b) == a->outcome, iter);
    for (int i = 0; i < n; i++)
        CHECK(b.status[find_id(sh, n, c[i].id)] == a->status[i], iter);
    CHECK(b.system_peer_id == a->system_peer_id, iter);
    CHECK(b.offset == a->offset && b.jitter == a->jitter, iter);
    CHECK(b.low == a->low && b.high == a->high, iter);
    CHECK(b.leap == a->leap && b.ntruechimers == a->ntruechimers, iter);
    CHECK(b.nsurvivors == a->nsurvivors, iter);
}

/* Statuses and counts agree with each other in any successful result. */
static void check_consistent(const struct select_result *r, int n, int iter)
{
    int sel = 0, surv = 0, tc = 0;

    for (int i = 0; i < n; i++) {
        sel += r->status[i] == SELECT_SELECTED;
        surv += is_survivor(r->status[i]);
        tc += is_truechimer(r->status[i]);
    }
    CHECK(sel == 1, iter);
    CHECK(r->system_peer >= 0 && r->status[r->system_peer] == SELECT_SELECTED, iter);
    CHECK(surv == r->nsurvivors && tc == r->ntruechimers, iter);
    CHECK(r->offset >= r->low && r->offset <= r->high, iter);
}

static int rand_set(uint64_t *s, struct select_candidate *c, int *honest, int *nh, int tight)
{
    int h = 1 + rng_int(s, 20), l = rng_int(s, h), u = rng_int(s, 4), n = 0;
    double shared = rng_int(s, 3) == 0 ? rand_lie(s, 0) : 0;

    for (int k = 0; k < h + l + u; k++) {
        int id = 1000 + 7 * k;

        if (k < h) {
            /* Tight: errors within +-E and distances >= 2E, so every honest
             * interval holds every honest offset. Loose: only |error| <= dist. */
            double dist = tight ? rng_range(s, 0.02, 0.1) : rng_range(s, 0.006, 0.1);
            double err = tight ? rng_range(s, -0.01, 0.01) : rng_range(s, -dist, dist);

            c[n++] = rand_cand(s, id, err, dist);
        } else if (k < h + l) {
            c[n++] = rand_cand(s, id, rand_lie(s, shared), rng_range(s, 0.006, 0.5));
        } else {
            c[n++] = rand_unfit(s, id);
        }
    }
    *nh = h;
    shuffle(s, c, n);
    /* 1 honest, 0 liar, -1 never fit; ids tell them apart after the shuffle. */
    for (int i = 0; i < n; i++)
        honest[i] = c[i].id < 1000 + 7 * h ? 1 : (c[i].id < 1000 + 7 * (h + l) ? 0 : -1);
    assert_true(n >= 1); /* h >= 1 honest ones */
    return n;
}

static void random_round(uint64_t *s, int tight, int iter)
{
    struct select_candidate c[SELECT_MAX_SOURCES];
    int honest[SELECT_MAX_SOURCES], nh, n = rand_set(s, c, honest, &nh, tight);
    struct select_params p = params(1, 1 + rng_int(s, 4));
    int current = rng_int(s, 2) ? c[rng_int(s, n)].id : SELECT_ID_NONE;
    struct select_result r;
    double maxdist = 0;

    select_run(c, (size_t)n, &p, current, &r);
    if (tight)
        CHECK(r.outcome == SELECT_RES_OK && r.ntruechimers == nh, iter);
    for (int i = 0; i < n; i++) {
        if (honest[i] == 0 && r.outcome == SELECT_RES_OK)
            CHECK(r.status[i] == SELECT_FALSETICKER, iter);
        if (honest[i] == 1 && tight)
            CHECK(is_truechimer(r.status[i]), iter);
        if (honest[i] == -1)
            CHECK(r.status[i] <= SELECT_TOO_DISTANT, iter);
        if (tight && is_truechimer(r.status[i]))
            CHECK(fabs(r.offset - c[i].offset) <= r.distance[i], iter);
        if (is_survivor(r.status[i]) && r.distance[i] > maxdist)
            maxdist = r.distance[i];
    }
    if (r.outcome == SELECT_RES_OK) {
        check_consistent(&r, n, iter);
        /* The true offset 0 is in every honest interval, hence in [low, high]. */
        CHECK(r.low <= 0 && r.high >= 0 && fabs(r.offset) <= maxdist, iter);
    } else {
        CHECK(r.system_peer == -1 && r.ntruechimers == 0, iter);
    }
    check_order_independent(s, c, n, &p, current, &r, iter);
}

static void test_random_tight(void **state)
{
    uint64_t s = seed ^ 0x7469676874u;

    (void)state;
    for (int iter = 0; iter < 10000; iter++)
        random_round(&s, 1, iter);
}

static void test_random_loose(void **state)
{
    uint64_t s = seed ^ 0x6c6f6f7365u;

    (void)state;
    for (int iter = 0; iter < 10000; iter++)
        random_round(&s, 0, iter);
}

/* Oracle straight from the RFC 5905 11.2.1 text, by counting coverage at
 * each endpoint instead of sweeping: 1 and [lo, hi] if a clique exists. */
static int oracle_intersect(const double *off, const double *dist, int m, double *lo, double *hi)
{
    for (int f = 0; 2 * f < m; f++) {
        double l = INFINITY, u = -INFINITY;
        int d = 0;

        for (int i = 0; i < m; i++) {
            int cl = 0, cu = 0;

            for (int j = 0; j < m; j++) {
                cl += off[j] - dist[j] <= off[i] - dist[i] && off[i] - dist[i] <= off[j] + dist[j];
                cu += off[j] - dist[j] <= off[i] + dist[i] && off[i] + dist[i] <= off[j] + dist[j];
            }
            if (cl >= m - f && off[i] - dist[i] < l)
                l = off[i] - dist[i];
            if (cu >= m - f && off[i] + dist[i] > u)
                u = off[i] + dist[i];
        }
        for (int i = 0; i < m; i++)
            d += off[i] < l || off[i] > u;
        if (l < u && d <= f) {
            *lo = l;
            *hi = u;
            return 1;
        }
    }
    return 0;
}

static void test_random_oracle(void **state)
{
    uint64_t s = seed ^ 0x6f7261636c65u;

    (void)state;
    for (int iter = 0; iter < 20000; iter++) {
        struct select_candidate c[12];
        double off[12], dist[12], lo = 0, hi = 0;
        int m = 1 + rng_int(&s, 12), ok;
        struct select_result r;

        /* Clumps on a grid of 1/128 s, all sums exact, so that intervals
         * touch and endpoints tie; some random widths as well. */
        for (int i = 0; i < m; i++) {
            off[i] = (rng_int(&s, 6) + 2 * rng_int(&s, 2) * rng_int(&s, 3)) / 128.0;
            dist[i] = rng_int(&s, 4) ? (1 + rng_int(&s, 4)) / 128.0 : rng_range(&s, 0.006, 0.03);
            c[i] = cand(i, off[i], dist[i]);
            c[i].delay = 2 * dist[i];
            c[i].dispersion = c[i].jitter = 0;
            CHECK(select_root_distance(&c[i]) == dist[i], iter);
        }
        ok = oracle_intersect(off, dist, m, &lo, &hi);
        select_run(c, (size_t)m, &(struct select_params){1, 3, 1.5}, SELECT_ID_NONE, &r);
        CHECK(ok == (r.outcome == SELECT_RES_OK), iter);
        if (!ok)
            continue;
        CHECK(r.low == lo && r.high == hi, iter);
        for (int i = 0; i < m; i++)
            CHECK(is_truechimer(r.status[i]) == (off[i] >= lo && off[i] <= hi), iter);
        CHECK(2 * r.ntruechimers > m, iter);
    }
}

static void setup_seed(void)
{
    const char *env = getenv("TEMPUS_SEED");

    seed = env && *env ? strtoull(env, NULL, 0) : 20240601; /* fixed: CI runs repeat */
    printf("test_select: seed %" PRIu64 " (set TEMPUS_SEED to repeat)\n", seed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_distance),
        cmocka_unit_test(test_three_agree),
        cmocka_unit_test(test_single_source),
        cmocka_unit_test(test_one_liar),
        cmocka_unit_test(test_two_liars_of_five),
        cmocka_unit_test(test_three_liars_of_seven),
        cmocka_unit_test(test_two_liars_of_four),
        cmocka_unit_test(test_disjoint_groups),
        cmocka_unit_test(test_midpoint_rule),
        cmocka_unit_test(test_noselect),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_too_distant),
        cmocka_unit_test(test_unsynced),
        cmocka_unit_test(test_prefer),
        cmocka_unit_test(test_sticky),
        cmocka_unit_test(test_min_sources),
        cmocka_unit_test(test_leap_majority),
        cmocka_unit_test(test_clustering),
        cmocka_unit_test(test_clustering_ties),
        cmocka_unit_test(test_touching),
        cmocka_unit_test(test_stratum_rank),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_random_tight),
        cmocka_unit_test(test_random_loose),
        cmocka_unit_test(test_random_oracle),
    };

    setup_seed();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
