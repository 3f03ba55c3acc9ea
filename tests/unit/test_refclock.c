/* SPDX-License-Identifier: ISC */
/* Unit tests for the refclock directive (conf_refclock.c), the SHM reader,
 * the SOCK decoder, the PPS driver over a fake device (refclock_pps.c's
 * ops seam), edge numbering, and refclock.c in the event loop: a PPS
 * locked to a SOCK clock is used, a PPS without its lock source is not. */
#include <errno.h>
#include <linux/pps.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "conf.h"
#include "ntp_wire.h"
#include "refclock.h"
#include "refclock_drv.h"
#include "sched.h"
#include "sync.h"

#include "conf_test.h"

static void test_parse(void **state)
{
    (void)state;
    struct conf *c = parse_ok("refclock SHM 0\n"
                              "refclock SOCK /run/gps.sock refid GPS poll 2 offset 0.1 "
                              "delay 0.2 precision 1e-3 stratum 1 prefer noselect\n"
                              "refclock PPS /dev/pps1 lock GPS clear\n"
                              "refclock SHM 3 perm 0640 refid NMEA\n");
    assert_int_equal(c->n_refclocks, 4);
    const struct conf_refclock *r = &c->refclocks[0];
    assert_int_equal(r->driver, CONF_REFCLOCK_SHM);
    assert_int_equal(r->unit, 0);
    assert_int_equal(r->perm, 0600);
    assert_string_equal(r->refid, "SHM0");
    assert_int_equal(r->poll, 4);
    assert_true(r->precision == 1e-6 && r->delay == 1e-9 && r->offset == 0.0);
    r = &c->refclocks[1];
    assert_int_equal(r->driver, CONF_REFCLOCK_SOCK);
    assert_string_equal(r->path, "/run/gps.sock");
    assert_string_equal(r->refid, "GPS");
    assert_int_equal(r->poll, 2);
    assert_true(r->offset == 0.1 && r->delay == 0.2 && r->precision == 1e-3);
    assert_int_equal(r->stratum, 1);
    assert_true(r->prefer && r->noselect);
    r = &c->refclocks[2];
    assert_int_equal(r->driver, CONF_REFCLOCK_PPS);
    assert_string_equal(r->refid, "PPS1");
    assert_string_equal(r->lock, "GPS");
    assert_true(r->clear);
    assert_int_equal(r->line, 3);
    r = &c->refclocks[3];
    assert_int_equal(r->perm, 0640);
    assert_string_equal(r->refid, "NMEA");
    assert_true(conf_refclock_same(&c->refclocks[1], &c->refclocks[1]));
    assert_false(conf_refclock_same(&c->refclocks[0], &c->refclocks[3]));
    conf_free(c);
    c = parse_ok("refclock SHM 2\n");
    assert_int_equal(c->refclocks[0].perm, 0666);
    conf_free(c);
}

static void test_parse_errors(void **state)
{
    (void)state;
    parse_bad("refclock GPS 0\n",
              "t.conf:1: refclock: unknown value 'GPS' (expected SHM, SOCK or PPS)\n");
    parse_bad("refclock SHM 256\n", "t.conf:1: refclock SHM unit: 256 is out of range (0..255)\n");
    parse_bad("refclock SOCK gps.sock\n",
              "t.conf:1: refclock SOCK: 'gps.sock' is not an absolute path of at most 107 "
              "bytes\n");
    parse_bad("refclock SHM 2 lock GPS\n",
              "t.conf:1: refclock SHM: 'lock' is only for PPS and SOCK\n");
    parse_bad("refclock SOCK /a clear\n", "t.conf:1: refclock SOCK: 'clear' is only for PPS\n");
    parse_bad("refclock SHM 2 refid G\nrefclock SOCK /a refid S lock G\n"
              "refclock PPS /dev/pps0 lock S\n",
              "t.conf:3: refclock PPS: lock S names no SHM or SOCK (without a lock of its own) "
              "refclock\n");
    parse_bad("refclock PPS /dev/pps0 perm 0600\n",
              "t.conf:1: refclock PPS: 'perm' is only for SHM\n");
    parse_bad("refclock SHM 2 perm 0777\n",
              "t.conf:1: refclock SHM: perm '0777' is not an octal mode of at most 0666\n");
    parse_bad("refclock SHM 2 refid TOOLONG\n",
              "t.conf:1: refclock: refid 'TOOLONG' is not 1 to 4 printable characters\n");
    parse_bad("refclock SHM 2 poll 13\n", "t.conf:1: refclock poll: 13 is out of range (0..12)\n");
    parse_bad("refclock SHM 2\nrefclock SHM 12\n",
              "t.conf:2: refclock: refid SHM2 is already used at line 1 (give this one a refid "
              "of its own)\n");
    parse_bad("refclock SHM 2\nrefclock SHM 2 refid X\n",
              "t.conf:2: refclock: the same clock as at line 1\n");
    parse_bad("refclock PPS /dev/pps0 lock GPS\n",
              "t.conf:1: refclock PPS: lock GPS names no refclock\n");
    parse_bad("refclock PPS /dev/pps0 lock PPS0\n",
              "t.conf:1: refclock: a refclock cannot lock to itself (lock PPS0)\n");
    parse_bad("refclock PPS /dev/pps0\nrefclock PPS /dev/pps1 lock PPS0\n",
              "t.conf:2: refclock PPS: lock PPS0 names no SHM or SOCK (without a lock of its "
              "own) refclock\n");
}

static void test_shm(void **state)
{
    (void)state;
    FILE *errs = fopen("/dev/null", "w");
    volatile struct refclock_shm_time *seg = refclock_shm_attach(IPC_PRIVATE, 0600, "t", errs);
    struct refclock_reading r;

    assert_non_null(seg);
    assert_int_equal(refclock_shm_take(seg, &r), 0); /* nothing valid yet */
    seg->mode = 0;
    seg->clock_sec = 1000000010;
    seg->clock_usec = 250000;
    seg->receive_sec = 1000000000;
    seg->receive_usec = 0;
    seg->leap = NTP_LEAP_ADD;
    seg->valid = 1;
    assert_int_equal(refclock_shm_take(seg, &r), 1);
    assert_int_equal(seg->valid, 0); /* taken */
    assert_true(fabs(r.offset - 10.25) < 1e-12);
    assert_int_equal(r.sys.tv_sec, 1000000000);
    assert_int_equal(r.leap, NTP_LEAP_ADD);
    assert_int_equal(r.pulse, 0);
    assert_int_equal(refclock_shm_take(seg, &r), 0); /* not twice */
    /* mode 1 with nanoseconds that agree with the microseconds */
    seg->mode = 1;
    seg->count = 4;
    seg->clock_sec = 1000000000;
    seg->clock_usec = 1;
    seg->clock_nsec = 1500;
    seg->receive_usec = 2;
    seg->receive_nsec = 2000;
    seg->leap = 0;
    seg->valid = 1;
    assert_int_equal(refclock_shm_take(seg, &r), 1);
    assert_true(fabs(r.offset + 500e-9) < 1e-12);
    /* nanoseconds that do not agree are ignored */
    seg->clock_nsec = 999999;
    seg->valid = 1;
    assert_int_equal(refclock_shm_take(seg, &r), 1);
    assert_true(fabs(r.offset + 1e-6) < 1e-12);
    /* nonsense: unknown mode, microseconds and leap out of range */
    seg->mode = 2;
    seg->valid = 1;
    assert_int_equal(refclock_shm_take(seg, &r), -1);
    assert_int_equal(seg->valid, 0);
    seg->mode = 0;
    seg->clock_usec = 1000000;
    seg->valid = 1;
    assert_int_equal(refclock_shm_take(seg, &r), -1);
    seg->clock_usec = 0;
    seg->leap = 4;
    seg->valid = 1;
    assert_int_equal(refclock_shm_take(seg, &r), -1);
    refclock_shm_detach(seg);
    fclose(errs);
}

static void test_sock_decode(void **state)
{
    (void)state;
    unsigned char buf[128];
    struct timespec sys = {1700000000, 123456000};
    struct refclock_reading r;
    size_t n = refclock_sock_encode(&sys, -0.001, 0, NTP_LEAP_DEL, buf);

    assert_int_equal(n, refclock_sock_size());
    assert_int_equal(refclock_sock_decode(buf, n, &r), 0);
    assert_int_equal(r.sys.tv_sec, 1700000000);
    assert_int_equal(r.sys.tv_nsec, 123456000);
    assert_true(r.offset == -0.001);
    assert_int_equal(r.leap, NTP_LEAP_DEL);
    assert_int_equal(r.pulse, 0);
    assert_int_equal(refclock_sock_decode(buf, n - 1, &r), -1); /* short */
    assert_int_equal(refclock_sock_decode(buf, n + 1, &r), -1); /* long */
    for (size_t i = n - sizeof(int); i < n; i++) {              /* the magic */
        buf[i] ^= 0x20;
        assert_int_equal(refclock_sock_decode(buf, n, &r), -1);
        buf[i] ^= 0x20;
    }
    n = refclock_sock_encode(&sys, 0.0, 1, 4, buf); /* leap out of range */
    assert_int_equal(refclock_sock_decode(buf, n, &r), -1);
    n = refclock_sock_encode(&sys, NAN, 1, 0, buf);
    assert_int_equal(refclock_sock_decode(buf, n, &r), -1);
    n = refclock_sock_encode(&sys, 0.25, 1, 0, buf);
    assert_int_equal(refclock_sock_decode(buf, n, &r), 0);
    assert_int_equal(r.pulse, 1);
}

static void test_edge_offset(void **state)
{
    (void)state;
    double out;

    assert_int_equal(refclock_edge_offset(-0.25, 0.0, &out), 0);
    assert_true(fabs(out + 0.25) < 1e-12);
    assert_int_equal(refclock_edge_offset(0.2, -2.9, &out), 0); /* whole seconds from ref */
    assert_true(fabs(out + 2.8) < 1e-12);
    assert_int_equal(refclock_edge_offset(0.7, 0.0, &out), 0);
    assert_true(fabs(out + 0.3) < 1e-12);
    assert_int_equal(refclock_edge_offset(0.5, 0.0, &out), -1); /* which second: a guess */
    assert_int_equal(refclock_edge_offset(0.45, 0.0, &out), -1);
    assert_int_equal(refclock_edge_offset(NAN, 0.0, &out), -1);
}

/* A fake /dev/pps0: assert edges at the current CLOCK_REALTIME second plus
 * fake_phase, numbered by the second. */
static int fake_caps = PPS_CAPTUREASSERT | PPS_CAPTURECLEAR | PPS_TSFMT_TSPEC | PPS_CANWAIT;
static int fake_mode;
static double fake_phase = 0.25;
static unsigned fake_fetches;

static int fake_open(const char *path, int flags)
{
    (void)flags;
    if (strncmp(path, "/dev/fakepps", 12) != 0) {
        errno = ENOENT;
        return -1;
    }
    return dup(2);
}

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
    (void)fd;
    if (req == PPS_GETCAP) {
        *(int *)arg = fake_caps;
    } else if (req == PPS_GETPARAMS) {
        struct pps_kparams *kp = arg;
        memset(kp, 0, sizeof(*kp));
        kp->api_version = PPS_API_VERS;
        kp->mode = fake_mode;
    } else if (req == PPS_SETPARAMS) {
        fake_mode = ((struct pps_kparams *)arg)->mode;
    } else if (req == PPS_FETCH) {
        struct pps_fdata *fd_ = arg;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        if ((double)now.tv_nsec * 1e-9 < fake_phase)
            now.tv_sec--;
        fd_->info.assert_sequence = (unsigned)now.tv_sec;
        fd_->info.assert_tu.sec = now.tv_sec;
        fd_->info.assert_tu.nsec = (int)(fake_phase * 1e9);
        fake_fetches++;
    } else {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

static const struct refclock_pps_ops fake_ops = {fake_open, fake_ioctl, close};

/* Open the refclocks of text, the errors into *err (caller frees). */
static struct refclock_set *open_text(const char *text, char **err)
{
    size_t len;
    struct conf *c = parse_ok(text);
    FILE *f = open_memstream(err, &len);
    struct refclock_set *set = refclock_open(c, f);
    fclose(f);
    conf_free(c);
    return set;
}

static void test_pps_open(void **state)
{
    (void)state;
    char *err;

    refclock_pps_set_ops(&fake_ops);
    assert_null(open_text("refclock PPS /dev/nopps\n", &err));
    assert_non_null(strstr(err, "t.conf:1: refclock PPS: cannot open /dev/nopps: "));
    free(err);
    fake_caps = PPS_CAPTUREASSERT | PPS_TSFMT_TSPEC;
    assert_null(open_text("refclock SHM 9 poll 0\nrefclock PPS /dev/fakepps0 clear\n", &err));
    assert_string_equal(err, "t.conf:2: refclock PPS: /dev/fakepps0 cannot capture the clear "
                             "edge (capabilities 0x1001)\n");
    free(err);
    struct refclock_set *set = open_text("refclock PPS /dev/fakepps0\n", &err);
    assert_non_null(set);
    assert_string_equal(err, "");
    assert_int_equal(fake_mode & (PPS_CAPTUREBOTH | PPS_TSFMT_TSPEC),
                     PPS_CAPTUREASSERT | PPS_TSFMT_TSPEC);
    free(err);
    refclock_close(set);
    fake_caps = PPS_CAPTUREBOTH | PPS_TSFMT_TSPEC;
    refclock_pps_set_ops(NULL);
}

static void stop_loop(void *arg)
{
    (void)arg;
    sched_quit();
}

/* The daemon's path: a SOCK clock fed from here, a PPS locked to it, and a
 * PPS without a lock while nothing is synchronised. */
static void test_lock_in_loop(void **state)
{
    (void)state;
    char path[64], *err, text[512];
    snprintf(path, sizeof(path), "/tmp/tempus-test-refclock-%d.sock", (int)getpid());
    snprintf(text, sizeof(text),
             "refclock SOCK %s poll 0 refid GPS noselect\n"
             "refclock PPS /dev/fakepps0 poll 0 lock GPS\n"
             "refclock PPS /dev/fakepps1 poll 0 noselect\n",
             path);
    refclock_pps_set_ops(&fake_ops);
    sched_init();
    struct refclock_set *set = open_text(text, &err);
    assert_non_null(set);
    free(err);
    struct clock *clk = clock_virtual_create(0.0, 0.0);
    struct sync_params sp;
    sync_params_default(&sp);
    struct sync *sy = sync_create(&sp, clk, NULL, 0.0);
    refclock_start(set, sy, clk, NULL, NULL);

    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    unsigned char buf[128];
    for (int i = 0; i < 7; i++) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        /* the receiver's time: ours plus 3 ms, a leap second announced */
        size_t n = refclock_sock_encode(&now, 0.003, 0, NTP_LEAP_ADD, buf);
        assert_int_equal(sendto(fd, buf, n, 0, (struct sockaddr *)&sun, sizeof(sun)), (ssize_t)n);
        assert_int_equal(sendto(fd, "junk", 4, 0, (struct sockaddr *)&sun, sizeof(sun)), 4);
        sched_add_timer(0.5, stop_loop, NULL);
        sched_run();
    }
    struct refclock_info gps, locked, lone;
    assert_int_equal(refclock_get_info(set, 0, &gps), 0);
    assert_int_equal(refclock_get_info(set, 1, &locked), 0);
    assert_int_equal(refclock_get_info(set, 2, &lone), 0);
    assert_int_equal(refclock_get_info(set, 3, &lone) + 1, 0);
    assert_int_equal(refclock_get_info(set, 2, &lone), 0);
    assert_true(gps.readings >= 6 && gps.bad >= 1);
    assert_true(gps.samples >= 2);
    assert_true(locked.readings >= 2 && locked.samples >= 1);
    assert_int_equal(lone.samples, 0); /* nothing synchronised: its seconds unknown */
    assert_true(lone.unlocked >= 2);

    /* The locked PPS's sample: the edge phase, numbered by GPS's second. */
    struct timespec now;
    struct sync_source_info si;
    clock_now(clk, &now);
    sync_get_source(sy, locked.sync_index, &now, &si);
    assert_true(si.est.valid);
    assert_true(fabs(si.est.offset + fake_phase) < 0.01);
    assert_int_equal(si.est.stratum, 0);
    assert_int_equal(si.est.leap, NTP_LEAP_ADD); /* the lock's announcement */
    assert_true(si.est.reachable);
    sync_get_source(sy, lone.sync_index, &now, &si);
    assert_false(si.est.valid);

    close(fd);
    refclock_close(set);
    assert_int_equal(access(path, F_OK), -1); /* the socket is gone */
    sync_destroy(sy);
    clock_destroy(clk);
    sched_fini();
    refclock_pps_set_ops(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_shm),          cmocka_unit_test(test_sock_decode),
        cmocka_unit_test(test_edge_offset),  cmocka_unit_test(test_pps_open),
        cmocka_unit_test(test_lock_in_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
