/* SPDX-License-Identifier: ISC */
#include "driftfile.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"

/* A drift file is two numbers on a line; anything longer is not one. */
#define DRIFTFILE_MAX_LEN 128

static int in_range(double ppm, double skew_ppm)
{
    return isfinite(ppm) && isfinite(skew_ppm) && fabs(ppm) <= DRIFTFILE_MAX_PPM &&
           skew_ppm >= 0.0 && skew_ppm <= DRIFTFILE_MAX_PPM;
}

/* One finite number at *p (strtod skips leading white space); *p moves past it. */
static int parse_number(const char **p, double *out)
{
    char *end;

    errno = 0;
    double v = strtod(*p, &end);
    if (end == *p || errno == ERANGE || !isfinite(v))
        return -1;
    *p = end;
    *out = v;
    return 0;
}

/* "FREQ SKEW" with blanks between, white space only after. */
static int parse_line(const char *s, double *ppm, double *skew_ppm)
{
    const char *p = s;

    if (parse_number(&p, ppm) < 0 || (*p != ' ' && *p != '\t'))
        return -1;
    if (parse_number(&p, skew_ppm) < 0)
        return -1;
    p += strspn(p, " \t\r\n");
    return *p == '\0' ? 0 : -1;
}

/* Up to cap bytes of path into buf, NUL-terminated; returns the length, or
 * -1 with errno set (EFBIG if the file is longer than cap - 1). */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t len = 0;

    if (fd < 0)
        return -1;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == cap) {
            close(fd);
            errno = EFBIG;
            return -1;
        }
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

int driftfile_read(const char *path, double *ppm, double *skew_ppm)
{
    char buf[DRIFTFILE_MAX_LEN + 1];
    double f, s;
    ssize_t len = read_small(path, buf, sizeof(buf) - 1);

    if (len < 0) {
        if (errno == ENOENT)
            log_debug("drift file %s does not exist yet", path);
        else
            log_warn("drift file %s", path);
        return -1;
    }
    /* A NUL inside would hide what follows it from the parser. */
    if (memchr(buf, '\0', (size_t)len) != NULL || parse_line(buf, &f, &s) < 0) {
        log_warnx("drift file %s: not \"FREQ SKEW\" in ppm: ignored", path);
        return -1;
    }
    if (!in_range(f, s)) {
        log_warnx("drift file %s: %.3f ppm (skew %.3f) out of range: ignored", path, f, s);
        return -1;
    }
    *ppm = f;
    *skew_ppm = s;
    return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Make the rename durable. Best effort: the new content is in place either
 * way, and some file systems refuse fsync on a directory. */
static void sync_dir(const char *path)
{
    char *dir = mem_strdup(path);
    char *slash = strrchr(dir, '/');
    const char *name = ".";

    if (slash == dir)
        name = "/";
    else if (slash) {
        *slash = '\0';
        name = dir;
    }
    int fd = open(name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) < 0)
            log_debug("fsync of %s: %s", name, strerror(errno));
        close(fd);
    }
    free(dir);
}

/* Write line into a new temporary file next to path and rename it over
 * path. Returns 0, or -1 with errno set and the temporary file removed. */
static int replace_file(const char *path, const char *line, size_t len)
{
    size_t plen = strlen(path);
    char *tmp = mem_alloc(plen + sizeof(".XXXXXX"));
    int fd, saved;

    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".XXXXXX", sizeof(".XXXXXX"));
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        saved = errno;
        free(tmp);
        errno = saved;
        return -1;
    }
    if (fchmod(fd, 0644) < 0 || write_all(fd, line, len) < 0 || fsync(fd) < 0) {
        saved = errno;
        close(fd);
        goto fail;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        saved = errno;
        goto fail;
    }
    free(tmp);
    return 0;
fail:
    unlink(tmp);
    free(tmp);
    errno = saved;
    return -1;
}

int driftfile_write(const char *path, double ppm, double skew_ppm)
{
    char line[64];

    /* Never write what driftfile_read would refuse. */
    if (!in_range(ppm, skew_ppm)) {
        log_warnx("drift file %s not written: %g ppm (skew %g) out of range", path, ppm, skew_ppm);
        return -1;
    }
    int len = snprintf(line, sizeof(line), "%.6f %.6f\n", ppm, skew_ppm);
    if (replace_file(path, line, (size_t)len) < 0) {
        log_warn("cannot write drift file %s", path);
        return -1;
    }
    sync_dir(path);
    return 0;
}
