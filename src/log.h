/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_LOG_H
#define TEMPUS_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_NOTICE, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_target { LOG_TO_STDERR, LOG_TO_SYSLOG };

/* Start logging under ident to target; messages above level are discarded. */
void log_init(const char *ident, enum log_target target, enum log_level level);
/* Change target and level of an already initialised log (after config load). */
void log_set(enum log_target target, enum log_level level);
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
