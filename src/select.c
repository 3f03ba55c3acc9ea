/* SPDX-License-Identifier: ISC */
#include "select.h"

#include <math.h>
#include <string.h>

#include "ntp_wire.h"

/* The low end (-1), middle (0) or high end (+1) of a correctness interval.
 * Sorting by (edge, type) puts lows before midpoints before highs at equal
 * edges, so intervals that merely touch still count as overlapping. */
struct sel_edge {
    double edge;
    int type;
};

/* Scratch space for one round, on the stack of select_run. */
struct sel_work {
    const struct select_candidate *cand;
    struct select_result *res;
    struct sel_edge edge[3 * SELECT_MAX_SOURCES];
    int nedge;
    int nfit;                     /* candidates that take part in the vote */
    int fit[SELECT_MAX_SOURCES];  /* their indices */
    int list[SELECT_MAX_SOURCES]; /* truechimers, later survivors, best first */
    int nlist;
};

void select_params_default(struct select_params *p)
{
    p->min_sources = SELECT_MIN_SOURCES_DEFAULT;
    p->min_survivors = SELECT_MIN_SURVIVORS_DEFAULT;
    p->max_distance = SELECT_MAX_DISTANCE_DEFAULT;
}

/* Negative delays happen with asymmetric paths and negative dispersion or
 * jitter would be a caller bug; neither may shrink the interval. NaN is kept
 * so that such a candidate ends up too distant. */
static double sel_nonneg(double x)
{
    return x < 0 ? 0 : x;
}

double select_root_distance(const struct select_candidate *c)
{
    double delay = sel_nonneg(c->root_delay) + c->delay;

    if (delay < SELECT_MINDISP)
        delay = SELECT_MINDISP;
    return delay / 2 + sel_nonneg(c->root_dispersion) + sel_nonneg(c->dispersion) +
           sel_nonneg(c->jitter);
}

static enum select_status sel_screen_one(const struct select_candidate *c, double dist,
                                         double max_distance)
{
    if (!c->reachable)
        return SELECT_UNREACHABLE;
    if (c->noselect)
        return SELECT_NOSELECT;
    if (c->leap < NTP_LEAP_NONE || c->leap >= NTP_LEAP_UNSYNC || c->stratum < 1 || c->stratum > 15)
        return SELECT_UNSYNCED;
    /* Written so that NaN distances and offsets fail the test. */
    if (!(dist <= max_distance) || !isfinite(c->offset))
        return SELECT_TOO_DISTANT;
    return SELECT_TOO_FEW; /* fit; the vote decides the final status */
}

static int sel_edge_before(const struct sel_edge *a, const struct sel_edge *b)
{
    return a->edge < b->edge || (a->edge == b->edge && a->type < b->type);
}

/* Insertion sort: at most 192 entries, and it needs no memory of its own. */
static void sel_sort_edges(struct sel_edge *e, int n)
{
    for (int i = 1; i < n; i++) {
        struct sel_edge x = e[i];
        int j = i;

        for (; j > 0 && sel_edge_before(&x, &e[j - 1]); j--)
            e[j] = e[j - 1];
        e[j] = x;
    }
}

static void sel_push_edge(struct sel_work *w, double edge, int type)
{
    w->edge[w->nedge].edge = edge;
    w->edge[w->nedge].type = type;
    w->nedge++;
}

/* Classify every candidate, keep the fit ones and lay out their intervals. */
static void sel_screen(struct sel_work *w, size_t n, double max_distance)
{
    for (size_t i = 0; i < n; i++) {
        const struct select_candidate *c = &w->cand[i];
        double dist = select_root_distance(c);

        w->res->distance[i] = dist;
        w->res->status[i] = sel_screen_one(c, dist, max_distance);
        if (w->res->status[i] != SELECT_TOO_FEW)
            continue;
        w->fit[w->nfit++] = (int)i;
        sel_push_edge(w, c->offset - dist, -1);
        sel_push_edge(w, c->offset, 0);
        sel_push_edge(w, c->offset + dist, +1);
    }
    sel_sort_edges(w->edge, w->nedge);
}

/* Index of the lowest edge covered by at least need intervals, or -1.
 * Midpoints passed on the way are added to *mids. */
static int sel_scan_up(const struct sel_work *w, int need, int *mids)
{
    int c = 0;

    for (int i = 0; i < w->nedge; i++) {
        if (w->edge[i].type == 0) {
            (*mids)++;
            continue;
        }
        c -= w->edge[i].type;
        if (c >= need)
            return i;
    }
    return -1;
}

/* Same from the top: the highest edge covered by at least need intervals. */
static int sel_scan_down(const struct sel_work *w, int need, int *mids)
{
    int c = 0;

    for (int i = w->nedge - 1; i >= 0; i--) {
        if (w->edge[i].type == 0) {
            (*mids)++;
            continue;
        }
        c += w->edge[i].type;
        if (c >= need)
            return i;
    }
    return -1;
}

/* RFC 5905 11.2.1: assume f = 0, 1, ... falsetickers while f < m/2. [l, u]
 * spans the points inside at least m - f intervals; it is accepted when at
 * most f midpoints lie outside it, so more than half of the candidates have
 * their midpoint inside. Returns 1 and sets res->low/high on success. */
static int sel_intersect(struct sel_work *w)
{
    int m = w->nfit;

    for (int f = 0; 2 * f < m; f++) {
        int mids = 0;
        int lo = sel_scan_up(w, m - f, &mids);
        int hi = sel_scan_down(w, m - f, &mids);

        if (lo < 0 || hi < 0 || mids > f)
            continue;
        if (w->edge[lo].edge < w->edge[hi].edge) {
            w->res->low = w->edge[lo].edge;
            w->res->high = w->edge[hi].edge;
            return 1;
        }
    }
    return 0;
}

/* Survivor order: lower stratum first (RFC 5905 merit stratum * MAXDIST +
 * lambda, which is the same for distances below MAXDIST), then shorter root
 * distance, then id so that the order never depends on the input order. */
static int sel_ranks_before(const struct sel_work *w, int a, int b)
{
    const struct select_candidate *ca = &w->cand[a], *cb = &w->cand[b];
    double da = w->res->distance[a], db = w->res->distance[b];

    if (ca->stratum != cb->stratum)
        return ca->stratum < cb->stratum;
    if (da != db)
        return da < db;
    return ca->id < cb->id;
}

/* Truechimers are the fit candidates with their midpoint in [low, high]. */
static void sel_truechimers(struct sel_work *w)
{
    struct select_result *res = w->res;

    for (int k = 0; k < w->nfit; k++) {
        int i = w->fit[k], j = w->nlist;
        double off = w->cand[i].offset;

        if (off < res->low || off > res->high) {
            res->status[i] = SELECT_FALSETICKER;
            continue;
        }
        for (; j > 0 && sel_ranks_before(w, i, w->list[j - 1]); j--)
            w->list[j] = w->list[j - 1];
        w->list[j] = i;
        w->nlist++;
    }
    res->ntruechimers = w->nlist;
}

/* RMS offset difference between survivor k and the other survivors. */
static double sel_selection_jitter(const struct sel_work *w, int k)
{
    double theta = w->cand[w->list[k]].offset, sum = 0;

    for (int j = 0; j < w->nlist; j++) {
        double d = theta - w->cand[w->list[j]].offset;

        sum += d * d;
    }
    return w->nlist > 1 ? sqrt(sum / (w->nlist - 1)) : 0;
}

/* RFC 5905 11.2.2: drop the survivor with the largest selection jitter while
 * more than min_survivors remain and that jitter exceeds the smallest peer
 * jitter (below it, dropping cannot make the rest more consistent). Ties go
 * against the worse-ranked survivor. */
static void sel_cluster(struct sel_work *w, int min_survivors)
{
    while (w->nlist > min_survivors) {
        double psi_max = -1, psi_min = INFINITY;
        int worst = 0;

        for (int k = 0; k < w->nlist; k++) {
            double psi = sel_selection_jitter(w, k);
            double jit = sel_nonneg(w->cand[w->list[k]].jitter);

            if (psi >= psi_max) {
                psi_max = psi;
                worst = k;
            }
            if (jit < psi_min)
                psi_min = jit;
        }
        if (!(psi_max > psi_min))
            break;
        w->res->status[w->list[worst]] = SELECT_CANDIDATE;
        memmove(&w->list[worst], &w->list[worst + 1],
                (size_t)(w->nlist - worst - 1) * sizeof(w->list[0]));
        w->nlist--;
    }
}

/* System peer: the best-ranked prefer survivor, else the current system peer
 * if it survived at the best survivor's stratum (no clock hopping between
 * equally good sources, but a path through a lower stratum wins, as in the
 * RFC 5905 reference code), else the best-ranked survivor. */
static int sel_choose_peer(const struct sel_work *w, int current_id)
{
    for (int k = 0; k < w->nlist; k++)
        if (w->cand[w->list[k]].prefer)
            return w->list[k];
    if (current_id != SELECT_ID_NONE)
        for (int k = 0; k < w->nlist; k++)
            if (w->cand[w->list[k]].id == current_id &&
                w->cand[w->list[k]].stratum == w->cand[w->list[0]].stratum)
                return w->list[k];
    return w->list[0];
}

/* RFC 5905 11.2.3: weights 1/root distance. The jitter is
 * sqrt(PSI_s^2 + PSI_p^2) with PSI_s the weighted RMS of the survivors'
 * offsets around the combined offset and PSI_p the weighted RMS of their
 * peer jitters; with one survivor it is that survivor's jitter. Sums run in
 * rank order so the bits do not depend on the input order. */
static void sel_combine(const struct sel_work *w)
{
    struct select_result *res = w->res;
    double sw = 0, so = 0, ss = 0, sj = 0;

    for (int k = 0; k < w->nlist; k++) {
        int i = w->list[k];
        double wt = 1 / res->distance[i];

        sw += wt;
        so += wt * w->cand[i].offset;
    }
    res->offset = so / sw;
    for (int k = 0; k < w->nlist; k++) {
        int i = w->list[k];
        double wt = 1 / res->distance[i];
        double d = w->cand[i].offset - res->offset;
        double j = sel_nonneg(w->cand[i].jitter);

        ss += wt * d * d;
        sj += wt * j * j;
    }
    res->jitter = sqrt((ss + sj) / sw);
}

/* A leap is announced only if more than half of the survivors announce it:
 * a wrong leap costs a whole second, a missed one is corrected afterwards. */
static int sel_leap(const struct sel_work *w)
{
    int votes[NTP_LEAP_UNSYNC] = {0};

    for (int k = 0; k < w->nlist; k++)
        votes[w->cand[w->list[k]].leap]++;
    if (2 * votes[NTP_LEAP_ADD] > w->nlist)
        return NTP_LEAP_ADD;
    if (2 * votes[NTP_LEAP_DEL] > w->nlist)
        return NTP_LEAP_DEL;
    return NTP_LEAP_NONE;
}

static void sel_reset(struct select_result *res)
{
    memset(res, 0, sizeof(*res));
    res->outcome = SELECT_RES_BADARG;
    res->system_peer = -1;
    res->system_peer_id = SELECT_ID_NONE;
    res->leap = NTP_LEAP_UNSYNC;
}

static int sel_params_ok(const struct select_params *p)
{
    return p != NULL && p->min_sources >= 1 && p->min_survivors >= 1 && p->max_distance > 0;
}

static void sel_mark(struct select_result *res, const int *idx, int n, enum select_status st)
{
    for (int k = 0; k < n; k++)
        res->status[idx[k]] = st;
}

/* After a successful vote: cluster, choose the peer, combine. */
static void sel_finish(struct sel_work *w, const struct select_params *params, int current_id)
{
    struct select_result *res = w->res;
    int peer;

    sel_mark(res, w->list, w->nlist, SELECT_COMBINED);
    sel_cluster(w, params->min_survivors);
    peer = sel_choose_peer(w, current_id);
    res->status[peer] = SELECT_SELECTED;
    res->system_peer = peer;
    res->system_peer_id = w->cand[peer].id;
    res->peer_distance = res->distance[peer];
    res->nsurvivors = w->nlist;
    sel_combine(w);
    res->leap = sel_leap(w);
}

enum select_outcome select_run(const struct select_candidate *cand, size_t n,
                               const struct select_params *params, int current_id,
                               struct select_result *res)
{
    struct sel_work w;

    sel_reset(res);
    if (!sel_params_ok(params) || n > SELECT_MAX_SOURCES || (n > 0 && cand == NULL))
        return res->outcome;
    w.cand = cand;
    w.res = res;
    w.nedge = w.nfit = w.nlist = 0;
    sel_screen(&w, n, params->max_distance);
    if (w.nfit == 0)
        return res->outcome = SELECT_RES_NO_CANDIDATES;
    /* Without a clique the fit candidates keep SELECT_TOO_FEW from screening. */
    if (!sel_intersect(&w))
        return res->outcome = SELECT_RES_NO_MAJORITY;
    sel_truechimers(&w);
    if (w.nlist < params->min_sources) {
        sel_mark(res, w.list, w.nlist, SELECT_TOO_FEW);
        return res->outcome = SELECT_RES_TOO_FEW;
    }
    sel_finish(&w, params, current_id);
    return res->outcome = SELECT_RES_OK;
}

const char *select_status_name(enum select_status st)
{
    static const char *const names[SELECT_NSTATUS] = {
        [SELECT_UNREACHABLE] = "unreachable", [SELECT_NOSELECT] = "noselect",
        [SELECT_LOOP] = "loop",               [SELECT_ORPHAN] = "orphan",
        [SELECT_UNSYNCED] = "unsynced",       [SELECT_TOO_DISTANT] = "too distant",
        [SELECT_FALSETICKER] = "falseticker", [SELECT_TOO_FEW] = "too few",
        [SELECT_CANDIDATE] = "candidate",     [SELECT_COMBINED] = "combined",
        [SELECT_SELECTED] = "selected",
    };

    if ((int)st < 0 || st >= SELECT_NSTATUS)
        return "?";
    return names[st];
}

const char *select_outcome_name(enum select_outcome oc)
{
    switch (oc) {
    case SELECT_RES_OK:
        return "ok";
    case SELECT_RES_NO_CANDIDATES:
        return "no candidates";
    case SELECT_RES_NO_MAJORITY:
        return "no majority";
    case SELECT_RES_TOO_FEW:
        return "too few";
    case SELECT_RES_BADARG:
        return "bad arguments";
    }
    return "?";
}
