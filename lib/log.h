/*
 * log — one line per event, logfmt style, to stderr (journald reads it).
 *
 *   ts=2026-11-25T15:04:05.123+09:00 level=info prog=hotline-webhook msg="event stored" event_id=01H...
 *
 * Callers pass a constant message and an optional printf format of
 * key=value pairs.  Control characters in the formatted pairs are escaped so
 * an event is always one line, whatever a hostile value holds.  Under
 * journald (JOURNAL_STREAM set) the timestamp is left to the journal and the
 * line starts with a <N> syslog priority instead.
 *
 * Privacy: never log a raw LINE user id (use log_uid()), a mail body, a
 * message text or any other personal data at info level or above.
 *
 * The logger's settings are process-wide and set once at start-up from the
 * parsed configuration; nothing else in hotline is global.
 */
#ifndef HL_LOG_H
#define HL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum log_level {
	LOG_LEVEL_DEBUG = 0,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

/* Longest line written; longer events are cut and end with "truncated=1". */
#define LOG_LINE_MAX 2048

/* Size of the buffer log_uid() fills: "u:" + 12 hex digits + NUL. */
#define LOG_UID_SIZE 15

/* prog is kept by pointer and must outlive the process' logging (a string
 * literal or argv[0]).  out NULL means stderr. */
void log_open(const char *prog, enum log_level min, FILE *out);
void log_set_level(enum log_level min);
bool log_parse_level(const char *name, enum log_level *out);

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

void log_debug(const char *msg, const char *fmt, ...) LOG_FMT(2, 3);
void log_info(const char *msg, const char *fmt, ...) LOG_FMT(2, 3);
void log_warn(const char *msg, const char *fmt, ...) LOG_FMT(2, 3);
void log_error(const char *msg, const char *fmt, ...) LOG_FMT(2, 3);
/* Cannot go on (bad config, no memory at start): logs and exits 1. */
_Noreturn void log_fatal(const char *msg, const char *fmt, ...) LOG_FMT(2, 3);
/* A bug: logs and aborts, so a core dump shows where. */
_Noreturn void log_panic(const char *msg, const char *fmt, ...) LOG_FMT(2, 3);

/* A stable pseudonym for a LINE user id, "u:" + 12 hex digits of its
 * SHA-256, so lines about one resident can be correlated without the id. */
const char *log_uid(const char *line_user_id, char out[LOG_UID_SIZE]);

/* s as a double-quoted logfmt value with \" \\ and control characters
 * escaped, cut with "..." when it does not fit in size.  Returns buf. */
const char *log_quote(const char *s, char *buf, size_t size);

#endif
