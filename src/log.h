/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_LOG_H
#define TEMPUS_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <time.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_NOTICE, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_target { LOG_TO_STDERR, LOG_TO_SYSLOG };

/* Start logging under ident to target; messages above level are discarded. */
void log_init(const char *ident, enum log_target target, enum log_level level);
/* Change target and level of an already initialised log (after config load). */
void log_set(enum log_target target, enum log_level level);
/* on: every line to stderr starts with the time in RFC 3339 UTC
 * (2026-01-31T12:00:00.123Z), except under journald (JOURNAL_STREAM),
 * which stamps lines itself. Off at start. */
void log_set_timestamps(int on);
/* ts as RFC 3339 UTC with milliseconds into buf; its length, 0 if it does
 * not fit (size 25 is enough). */
size_t log_format_time(const struct timespec *ts, char *buf, size_t size);
/* Close syslog if it was opened. */
void log_fini(void);

/* log_warn appends strerror(errno); log_warnx does not. Same for fatal/fatalx,
 * which exit(1) after logging. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
