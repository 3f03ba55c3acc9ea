/* SPDX-License-Identifier: ISC */
/* Unit tests for driftfile.c: format, validation and atomic replacement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/wait.h>

#include <cmocka.h>

#include "driftfile.h"

struct fixture {
    char dir[64];
    char path[128]; /* dir/drift */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/tempus-drift-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/drift", f->dir);
    *state = f;
    return 0;
}

/* Remove dir and what is in it, one level of subdirectories deep. */
static void remove_tree(const char *dir) /* NOLINT(misc-no-recursion): the test's own dirs */
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[512];

    if (!d)
        return;
    chmod(dir, 0755);
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (unlink(p) < 0)
            remove_tree(p);
    }
    closedir(d);
    rmdir(dir);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    remove_tree(f->dir);
    free(f);
    return 0;
}

static void put(const char *path, const char *content, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(content, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static size_t get(const char *path, char *buf, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(buf, 1, cap - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return n;
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    double ppm = 0, skew = 0;
    char buf[256];
    struct stat st;

    assert_int_equal(driftfile_write(f->path, 12.345678, 0.5), 0);
    get(f->path, buf, sizeof(buf));
    assert_string_equal(buf, "12.345678 0.500000\n");
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(driftfile_read(f->path, &ppm, &skew), 0);
    assert_true(fabs(ppm - 12.345678) < 1e-9);
    assert_true(fabs(skew - 0.5) < 1e-9);

    /* replacing leaves exactly one file behind */
    assert_int_equal(driftfile_write(f->path, -499.25, 0.001), 0);
    assert_int_equal(driftfile_read(f->path, &ppm, &skew), 0);
    assert_true(fabs(ppm + 499.25) < 1e-9);
    assert_true(fabs(skew - 0.001) < 1e-9);
    assert_int_equal(entries(f->dir), 1);

    /* a relative path works too (temporary file in the same directory) */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(f->dir), 0);
    assert_int_equal(driftfile_write("drift", 1.5, 2.5), 0);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(driftfile_read(f->path, &ppm, &skew), 0);
    assert_true(ppm == 1.5 && skew == 2.5);
    assert_int_equal(entries(f->dir), 1);
}

static void test_missing(void **state)
{
    struct fixture *f = *state;
    double ppm = 7, skew = 8;

    assert_int_equal(driftfile_read(f->path, &ppm, &skew), -1);
    assert_true(ppm == 7 && skew == 8);
    /* a directory is not a drift file either */
    assert_int_equal(driftfile_read(f->dir, &ppm, &skew), -1);
    assert_true(ppm == 7 && skew == 8);
}

static void test_accepted_forms(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *text;
        double ppm, skew;
    } ok[] = {
        {"1.5 0.25", 1.5, 0.25}, {"  -3.25\t0.125 \r\n", -3.25, 0.125},
        {"1e2 1", 100, 1},       {"500 500\n", 500, 500},
        {"-500 0\n\n", -500, 0}, {"0 0", 0, 0},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        double ppm = -1, skew = -1;
        put(f->path, ok[i].text, strlen(ok[i].text));
        assert_int_equal(driftfile_read(f->path, &ppm, &skew), 0);
        assert_true(ppm == ok[i].ppm && skew == ok[i].skew);
    }
}

static void test_corrupt(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {
        "",        "\n",    "abc",    "1.5",   "1.5 ",     "1.5 2 x", "1.5x 2",
        "1.5,2",   "1.5-2", "1.5\n2", "nan 1", "1 nan",    "inf 1",   "1 -inf",
        "1e999 1", "1 2 3", "0x",     "- 1",   "1 2\n3\n", "# 1 2",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        double ppm = 7, skew = 8;
        put(f->path, bad[i], strlen(bad[i]));
        assert_int_equal(driftfile_read(f->path, &ppm, &skew), -1);
        assert_true(ppm == 7 && skew == 8);
    }

    /* a NUL hiding trailing garbage */
    double ppm = 7, skew = 8;
    put(f->path, "1.5 2\0garbage", 13);
    assert_int_equal(driftfile_read(f->path, &ppm, &skew), -1);
    /* too long to be a drift file, even if it starts like one */
    char big[400];
    memset(big, ' ', sizeof(big));
    memcpy(big, "1.5 2", 5);
    put(f->path, big, sizeof(big));
    assert_int_equal(driftfile_read(f->path, &ppm, &skew), -1);
    assert_true(ppm == 7 && skew == 8);
}

static void test_absurd(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {"600 1", "-500.001 1", "1 -0.5", "1 501", "1e6 0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        double ppm = 7, skew = 8;
        put(f->path, bad[i], strlen(bad[i]));
        assert_int_equal(driftfile_read(f->path, &ppm, &skew), -1);
        assert_true(ppm == 7 && skew == 8);
    }

    /* and what would not be read back is not written */
    char buf[64];
    assert_int_equal(driftfile_write(f->path, 10.0, 1.0), 0);
    assert_int_equal(driftfile_write(f->path, 501.0, 1.0), -1);
    assert_int_equal(driftfile_write(f->path, 1.0, -1.0), -1);
    assert_int_equal(driftfile_write(f->path, NAN, 1.0), -1);
    assert_int_equal(driftfile_write(f->path, 1.0, INFINITY), -1);
    get(f->path, buf, sizeof(buf));
    assert_string_equal(buf, "10.000000 1.000000\n");
}

static void test_failed_write_no_target(void **state)
{
    struct fixture *f = *state;
    char path[256];
    struct stat st;

    snprintf(path, sizeof(path), "%s/nonexistent/drift", f->dir);
    assert_int_equal(driftfile_write(path, 1.0, 1.0), -1);
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(entries(f->dir), 0);
}

static void test_failed_rename_cleans_up(void **state)
{
    struct fixture *f = *state;
    char inner[256];
    struct stat st;

    /* the target is a non-empty directory: the temporary file gets written
     * but cannot be renamed over it, and must not stay behind */
    assert_int_equal(mkdir(f->path, 0755), 0);
    snprintf(inner, sizeof(inner), "%s/keep", f->path);
    put(inner, "x", 1);
    assert_int_equal(driftfile_write(f->path, 1.0, 1.0), -1);
    assert_int_equal(stat(f->path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(entries(f->dir), 1);
    assert_int_equal(entries(f->path), 1);
}

/* The failing write, done by a user the directory's mode applies to: as
 * root (CI), a child that has become nobody does it. Returns 0 when that
 * write failed as it must. */
static int failing_write(const char *path)
{
    if (geteuid() != 0)
        return driftfile_write(path, 4.0, 0.5) == -1 ? 0 : 1;
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(2);
        _exit(driftfile_write(path, 4.0, 0.5) == -1 ? 0 : 1);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return 3;
    return WEXITSTATUS(st);
}

static void test_readonly_dir_keeps_old(void **state)
{
    struct fixture *f = *state;
    double ppm = 0, skew = 0;

    assert_int_equal(driftfile_write(f->path, 3.0, 0.5), 0);
    assert_int_equal(chmod(f->dir, 0555), 0);
    assert_int_equal(failing_write(f->path), 0);
    assert_int_equal(chmod(f->dir, 0755), 0);
    assert_int_equal(driftfile_read(f->path, &ppm, &skew), 0);
    assert_true(ppm == 3.0 && skew == 0.5);
    assert_int_equal(entries(f->dir), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accepted_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absurd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_no_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_rename_cleans_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly_dir_keeps_old, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
