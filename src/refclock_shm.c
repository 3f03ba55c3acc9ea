/* SPDX-License-Identifier: ISC */
/* refclock SHM: the shared-memory segment that gpsd and other programs
 * write for NTP daemons (key 0x4e545030 + unit). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "log.h"
#include "mem.h"
#include "ntp_wire.h"
#include "refclock_drv.h"

/* The writer's fields are read once each, between fences, so that a mode 1
 * writer that changes count meanwhile is noticed. */
static void shm_copy(volatile struct refclock_shm_time *seg, struct refclock_shm_time *c)
{
    c->clock_sec = seg->clock_sec;
    c->clock_usec = seg->clock_usec;
    c->clock_nsec = seg->clock_nsec;
    c->receive_sec = seg->receive_sec;
    c->receive_usec = seg->receive_usec;
    c->receive_nsec = seg->receive_nsec;
    c->leap = seg->leap;
}

/* Nanoseconds of a time: the nsec field where the writer filled it in (it
 * agrees with usec), else usec. -1 if out of range. */
static long shm_nsec(int usec, unsigned nsec)
{
    if (usec < 0 || usec > 999999)
        return -1;
    if (nsec <= 999999999u && nsec / 1000u == (unsigned)usec)
        return (long)nsec;
    return (long)usec * 1000;
}

int refclock_shm_take(volatile struct refclock_shm_time *seg, struct refclock_reading *out)
{
    struct refclock_shm_time c;
    int mode = seg->mode;

    if (!seg->valid)
        return 0;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    int count = seg->count;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    shm_copy(seg, &c);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    int torn = mode == 1 && seg->count != count;
    seg->valid = 0;
    if (mode != 0 && mode != 1)
        return -1;
    if (torn)
        return -1;
    long cn = shm_nsec(c.clock_usec, c.clock_nsec), rn = shm_nsec(c.receive_usec, c.receive_nsec);
    if (cn < 0 || rn < 0 || c.leap < 0 || c.leap > 3)
        return -1;
    /* Differences of whole seconds first: time_t values near each other
     * lose nothing, whatever their size. */
    out->sys = (struct timespec){.tv_sec = c.receive_sec, .tv_nsec = rn};
    out->offset = (double)(c.clock_sec - c.receive_sec) + (double)(cn - rn) * 1e-9;
    out->leap = c.leap;
    out->pulse = 0;
    return 1;
}

volatile struct refclock_shm_time *refclock_shm_attach(int key, int perm, const char *where,
                                                       FILE *errs)
{
    int id = shmget((key_t)key, sizeof(struct refclock_shm_time), IPC_CREAT | perm);
    void *p;

    if (id < 0) {
        fprintf(errs, "%s: refclock SHM: cannot get segment 0x%08x: %s\n", where, (unsigned)key,
                strerror(errno));
        return NULL;
    }
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_segsz < sizeof(struct refclock_shm_time)) {
        fprintf(errs, "%s: refclock SHM: segment 0x%08x is too small (%zu bytes)\n", where,
                (unsigned)key, (size_t)ds.shm_segsz);
        return NULL;
    }
    if ((p = shmat(id, NULL, 0)) == (void *)-1) {
        fprintf(errs, "%s: refclock SHM: cannot attach segment 0x%08x: %s\n", where, (unsigned)key,
                strerror(errno));
        return NULL;
    }
    return p;
}

void refclock_shm_detach(volatile struct refclock_shm_time *seg)
{
    if (seg)
        shmdt((const void *)seg);
}

static int shm_open_rc(const struct conf_refclock *cf, const char *where, FILE *errs, void **state)
{
    volatile struct refclock_shm_time *seg =
        refclock_shm_attach(REFCLOCK_SHM_KEY + cf->unit, cf->perm, where, errs);
    *state = (void *)seg;
    return seg ? 0 : -1;
}

static int shm_fd(void *state)
{
    (void)state;
    return -1;
}

static int shm_read(void *state, struct refclock_reading *out, int max, uint64_t *bad)
{
    int n = max > 0 ? refclock_shm_take(state, out) : 0;
    if (n < 0)
        ++*bad;
    return n < 0 ? 0 : n;
}

static void shm_close(void *state)
{
    refclock_shm_detach(state);
}

const struct refclock_driver refclock_shm_driver = {"SHM", shm_open_rc, shm_fd, shm_read,
                                                    shm_close};
