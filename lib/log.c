/*
 * log — logfmt lines to stderr; see log.h for the format and the rules.
 */
#include "log.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "str.h"

/* Set once by log_open() from the parsed configuration. */
static struct {
	const char *prog;
	enum log_level min;
	FILE *out;
	bool journald;
} log_cfg = {"hotline", LOG_LEVEL_INFO, NULL, false};

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_open(const char *prog, enum log_level min, FILE *out)
{
	const char *js = getenv("JOURNAL_STREAM");

	log_cfg.prog = prog;
	log_cfg.min = min;
	log_cfg.out = out;
	log_cfg.journald = out == NULL && js != NULL && *js != '\0';
}

void log_set_level(enum log_level min)
{
	log_cfg.min = min;
}

bool log_parse_level(const char *name, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

/* Escape what would break the one-line format; returns bytes written. */
static size_t escape_into(char *dst, size_t size, const char *src, bool quote_marks)
{
	size_t n = 0;

	for (; *src != '\0'; src++) {
		unsigned char c = (unsigned char)*src;
		char esc[5];
		size_t k;

		if (c == '\n')
			memcpy(esc, "\\n", 3);
		else if (c == '\r')
			memcpy(esc, "\\r", 3);
		else if (c == '\t')
			memcpy(esc, "\\t", 3);
		else if (quote_marks && (c == '"' || c == '\\')) {
			esc[0] = '\\';
			esc[1] = (char)c;
			esc[2] = '\0';
		} else if (c < 0x20 || c == 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", c);
		else {
			esc[0] = (char)c;
			esc[1] = '\0';
		}
		k = strlen(esc);
		if (n + k >= size)
			break;
		memcpy(dst + n, esc, k);
		n += k;
	}
	if (size > 0)
		dst[n] = '\0';
	return n;
}

static bool needs_quotes(const char *s)
{
	if (*s == '\0')
		return true;
	for (; *s != '\0'; s++)
		if (*s == ' ' || *s == '=' || *s == '"' || (unsigned char)*s < 0x20)
			return true;
	return false;
}

const char *log_quote(const char *s, char *buf, size_t size)
{
	size_t n;

	if (size < 6) {
		if (size > 0)
			buf[0] = '\0';
		return buf;
	}
	buf[0] = '"';
	/* Leave room for "..." and the closing quote. */
	n = escape_into(buf + 1, size - 5, s, true);
	if (s[0] != '\0' && n + 1 >= size - 5 && strlen(s) > n) {
		memcpy(buf + 1 + n, "...", 3);
		n += 3;
	}
	buf[1 + n] = '"';
	buf[2 + n] = '\0';
	return buf;
}

static void format_ts(char *buf, size_t size)
{
	struct timeval tv;
	struct tm tm;
	char date[32], zone[8];

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	/* %z gives +0900; RFC 3339 wants +09:00. */
	if (!str_printf(buf, size, "%s.%03ld%.3s:%s", date, (long)(tv.tv_usec / 1000), zone,
			zone + 3))
		buf[0] = '\0';
}

static void vlog(const char *level, int prio, const char *msg, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX + 2], pairs[LOG_LINE_MAX], raw[LOG_LINE_MAX];
	char qmsg[256], ts[48];
	size_t len = 0;
	bool cut = false;
	int n;

	if (log_cfg.journald) {
		if (!str_appendf(line, sizeof(line), &len, "<%d>", prio))
			return;
	} else {
		format_ts(ts, sizeof(ts));
		if (!str_appendf(line, sizeof(line), &len, "ts=%s ", ts))
			return;
	}
	if (needs_quotes(msg))
		log_quote(msg, qmsg, sizeof(qmsg));
	else
		escape_into(qmsg, sizeof(qmsg), msg, false);
	if (!str_appendf(line, sizeof(line), &len, "level=%s prog=%s msg=%s", level, log_cfg.prog,
			 qmsg))
		cut = true;

	if (!cut && fmt != NULL && *fmt != '\0') {
		n = vsnprintf(raw, sizeof(raw), fmt, ap);
		if (n < 0)
			raw[0] = '\0';
		else if ((size_t)n >= sizeof(raw))
			cut = true;
		escape_into(pairs, sizeof(pairs), raw, false);
		if (!str_appendf(line, sizeof(line) - 16, &len, " %s", pairs))
			cut = true;
	}
	if (cut) {
		/* The " truncated=1\n" suffix always fits: 16 bytes were kept. */
		len = strlen(line);
		if (len > LOG_LINE_MAX - 16)
			len = LOG_LINE_MAX - 16;
		memcpy(line + len, " truncated=1", 13);
		len += 12;
	}
	line[len++] = '\n';
	/* One write(2) per line keeps lines whole when daemons share a pipe. */
	if (write(fileno(log_cfg.out != NULL ? log_cfg.out : stderr), line, len) < 0) {
		/* Nowhere left to report it. */
	}
}

#define LOG_BODY(minlevel, name, prio)                                                             \
	do {                                                                                       \
		va_list ap;                                                                        \
		if (log_cfg.min > (minlevel))                                                      \
			return;                                                                    \
		va_start(ap, fmt);                                                                 \
		vlog(name, prio, msg, fmt, ap);                                                    \
		va_end(ap);                                                                        \
	} while (0)

void log_debug(const char *msg, const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, "debug", LOG_DEBUG);
}

void log_info(const char *msg, const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, "info", LOG_INFO);
}

void log_warn(const char *msg, const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, "warn", LOG_WARNING);
}

void log_error(const char *msg, const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, "error", LOG_ERR);
}

void log_fatal(const char *msg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", LOG_CRIT, msg, fmt, ap);
	va_end(ap);
	exit(1);
}

void log_panic(const char *msg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("panic", LOG_ALERT, msg, fmt, ap);
	va_end(ap);
	abort();
}

const char *log_uid(const char *line_user_id, char out[LOG_UID_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	memcpy(out, "u:?", 4);
	if (line_user_id == NULL ||
	    EVP_Digest(line_user_id, strlen(line_user_id), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    !str_hex(md, 6, out + 2, LOG_UID_SIZE - 2))
		memcpy(out, "u:?", 4);
	return out;
}
