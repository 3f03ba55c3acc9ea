/* SPDX-License-Identifier: ISC */
/* Simulator entry point: run the self-test and every scenario, one line
 * each, then the tally. TEMPUS_SEED picks another run; TEMPUS_SIM_ONLY runs
 * only the scenarios whose name contains it; TEMPUS_SIM_LOG shows the
 * daemon's debug log. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sim.h"

/* The run is deterministic: seed 1 unless TEMPUS_SEED says otherwise
 * ("random" picks one from the time, printed so it can be repeated). */
static uint64_t sim_seed(void)
{
    const char *env = getenv("TEMPUS_SEED");
    if (!env || !*env)
        return 1;
    if (strcmp(env, "random") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec;
    }
    return strtoull(env, NULL, 0);
}

/* A different but reproducible seed per scenario. */
static uint64_t scenario_seed(uint64_t seed, const char *name)
{
    uint64_t h = seed ^ 0xcbf29ce484222325ULL;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
    return h;
}

static void report(const char *name, const struct sim_result *res, int *pass, int *fail)
{
    printf("%-22s %s %s\n", name, res->text, res->pass ? "PASS" : "FAIL");
    fflush(stdout);
    if (res->pass)
        (*pass)++;
    else
        (*fail)++;
}

int main(void)
{
    uint64_t seed = sim_seed();
    const char *only = getenv("TEMPUS_SIM_ONLY");
    int pass = 0, fail = 0;
    struct sim_result res;

    log_init("sim", LOG_TO_STDERR, getenv("TEMPUS_SIM_LOG") ? LOG_LVL_DEBUG : LOG_LVL_ERR);
    printf("sim: seed %" PRIu64 " (set TEMPUS_SEED to repeat)\n", seed);
    if (!only || !*only) {
        memset(&res, 0, sizeof(res));
        res.pass = 1;
        sim_selftest(seed, &res);
        report("selftest", &res, &pass, &fail);
    }
    for (const struct sim_scenario *sc = sim_scenarios; sc->name; sc++) {
        if (only && *only && !strstr(sc->name, only))
            continue;
        memset(&res, 0, sizeof(res));
        res.pass = 1;
        sc->run(scenario_seed(seed, sc->name), &res);
        report(sc->name, &res, &pass, &fail);
    }
    printf("sim: %d passed, %d failed\n", pass, fail);
    log_fini();
    return fail ? 1 : 0;
}
