/* SPDX-License-Identifier: ISC */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static enum log_target log_target = LOG_TO_STDERR;
static enum log_level log_level = LOG_LVL_INFO;
static const char *log_ident = "tempus";
static int log_syslog_open;
static int log_journal; /* stderr goes to journald: prefix <priority> */
static int log_stamps;  /* stderr lines start with an RFC 3339 UTC time */

void log_init(const char *ident, enum log_target target, enum log_level level)
{
    const char *js = getenv("JOURNAL_STREAM");
    log_ident = ident;
    /* systemd sets JOURNAL_STREAM when stderr is connected to the journal;
     * a "<N>" prefix then carries each line's priority. */
    log_journal = js && js[0];
    log_set(target, level);
}

void log_set(enum log_target target, enum log_level level)
{
    log_level = level;
    log_target = target;
    if (target == LOG_TO_SYSLOG && !log_syslog_open) {
        openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
        log_syslog_open = 1;
    }
}

void log_set_timestamps(int on)
{
    log_stamps = on;
}

size_t log_format_time(const struct timespec *ts, char *buf, size_t size)
{
    struct tm tm;
    char whole[32];

    if (!gmtime_r(&ts->tv_sec, &tm) || !strftime(whole, sizeof(whole), "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    int n = snprintf(buf, size, "%s.%03ldZ", whole, ts->tv_nsec / 1000000);
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* The time of this machine's clock (not a virtual clock's): what other
 * logs on the host are stamped with. */
static void log_stamp(void)
{
    struct timespec ts;
    char buf[40];

    if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && log_format_time(&ts, buf, sizeof(buf)))
        fprintf(stderr, "%s ", buf);
}

void log_fini(void)
{
    if (log_syslog_open)
        closelog();
    log_syslog_open = 0;
}

__attribute__((format(printf, 3, 0))) static void log_emit(enum log_level lvl, int with_errno,
                                                         const char *fmt, va_list ap)
{
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};
    static const char *const tag[] = {"error", "warning", "notice", "info", "debug"};
    char msg[1024];
    int saved = errno;

    if (lvl > log_level)
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (log_target == LOG_TO_SYSLOG) {
        if (with_errno)
            syslog(prio[lvl], "%s: %s", msg, strerror(saved));
        else
            syslog(prio[lvl], "%s", msg);
        return;
    }
    /* journald stamps each line itself. */
    if (log_journal)
        fprintf(stderr, "<%d>", prio[lvl]);
    else if (log_stamps)
        log_stamp();
    if (with_errno)
        fprintf(stderr, "%s: %s: %s: %s\n", log_ident, tag[lvl], msg, strerror(saved));
    else
        fprintf(stderr, "%s: %s: %s\n", log_ident, tag[lvl], msg);
}

#define LOG_FN(name, lvl, with_errno)                                                              \
    void name(const char *fmt, ...)                                                                \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_emit(lvl, with_errno, fmt, ap);                                                        \
        va_end(ap);                                                                                \
    }

LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_notice, LOG_LVL_NOTICE, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_debug, LOG_LVL_DEBUG, 0)

void fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_emit(LOG_LVL_ERR, 1, fmt, ap);
    va_end(ap);
    exit(1);
}

void fatalx(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_emit(LOG_LVL_ERR, 0, fmt, ap);
    va_end(ap);
    exit(1);
}
