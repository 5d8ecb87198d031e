/*
 * lmtp — the LMTP state machine; see lmtp.h for the interface.
 *
 * Limits, and what each stops:
 *  - CMD_LINE_MAX: a command line longer than RFC 5321's 512 bytes (we
 *    allow some slack for long addresses) is refused, so a peer cannot
 *    make us buffer an endless line before the first CRLF;
 *  - DATA_LINE_MAX: a message line is at most 998 bytes by RFC 5322; we
 *    accept far more (broken mailers exist) but not without bound;
 *  - max_message: data beyond it is read and discarded, then refused with
 *    552 for every recipient, so an oversized mail costs no memory;
 *  - max_rcpts: 452 beyond it (RFC 5321 asks for at least 100);
 *  - ERRORS_MAX: a peer that keeps sending junk is disconnected with 421.
 */
#include "lmtp.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

#define CMD_LINE_MAX  2048
#define DATA_LINE_MAX 65536
#define ADDR_MAX      256
#define ERRORS_MAX    20
#define REASON_MAX    200

struct buf {
	char *p;
	size_t len, cap;
};

enum phase {
	PH_COMMAND, /* reading commands */
	PH_DATA,    /* reading message lines */
	PH_WAIT,    /* a message was handed out; waiting for lmtp_message_done */
	PH_CLOSED,  /* QUIT or too many errors: nothing more is read */
};

struct lmtp_session {
	char *hostname;
	size_t max_message, max_rcpts;
	struct buf in, out, data;
	size_t in_off;
	enum phase phase;
	bool lhlo_done;
	bool skipping; /* discarding the rest of an overlong line */
	bool data_too_big, data_line_too_long;
	char *sender; /* NULL: no MAIL yet */
	char **rcpts;
	size_t nrcpts;
	unsigned errors;
};

static bool buf_add(struct buf *b, const char *p, size_t n)
{
	if (n > SIZE_MAX - b->len - 1)
		return false;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *grown;

		while (cap < b->len + n + 1) {
			if (cap > SIZE_MAX / 2)
				return false;
			cap *= 2;
		}
		grown = realloc(b->p, cap);
		if (grown == NULL)
			return false;
		b->p = grown;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return true;
}

static void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Queue one reply line; out of memory leaves the reply unsent, and the
 * peer times out, which is the best left to do. */
static void reply(struct lmtp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reply(struct lmtp_session *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)(sizeof(line) - 3);
	memcpy(line + n, "\r\n", 3);
	(void)buf_add(&s->out, line, (size_t)n + 2);
}

static void reset_transaction(struct lmtp_session *s)
{
	size_t i;

	free(s->sender);
	s->sender = NULL;
	for (i = 0; i < s->nrcpts; i++)
		free(s->rcpts[i]);
	free(s->rcpts);
	s->rcpts = NULL;
	s->nrcpts = 0;
	buf_free(&s->data);
	s->data_too_big = s->data_line_too_long = false;
}

struct lmtp_session *lmtp_new(const struct lmtp_params *p)
{
	struct lmtp_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->hostname = strdup(p->hostname != NULL ? p->hostname : "localhost");
	if (s->hostname == NULL) {
		free(s);
		return NULL;
	}
	s->max_message = p->max_message;
	s->max_rcpts = p->max_rcpts > 0 ? p->max_rcpts : 100;
	reply(s, "220 %s LMTP hotline ready", s->hostname);
	return s;
}

void lmtp_free(struct lmtp_session *s)
{
	if (s == NULL)
		return;
	reset_transaction(s);
	buf_free(&s->in);
	buf_free(&s->out);
	free(s->hostname);
	free(s);
}

int lmtp_push(struct lmtp_session *s, const char *buf, size_t len)
{
	/* Drop what was parsed already before growing the buffer. */
	if (s->in_off > 0) {
		memmove(s->in.p, s->in.p + s->in_off, s->in.len - s->in_off);
		s->in.len -= s->in_off;
		s->in_off = 0;
		if (s->in.p != NULL)
			s->in.p[s->in.len] = '\0';
	}
	return buf_add(&s->in, buf, len) ? 0 : -1;
}

const char *lmtp_output(const struct lmtp_session *s, size_t *len)
{
	*len = s->out.len;
	return s->out.p != NULL ? s->out.p : "";
}

void lmtp_output_consumed(struct lmtp_session *s, size_t n)
{
	if (n >= s->out.len) {
		s->out.len = 0;
		return;
	}
	memmove(s->out.p, s->out.p + n, s->out.len - n);
	s->out.len -= n;
}

void lmtp_shutdown(struct lmtp_session *s, const char *reason)
{
	reply(s, "421 4.3.2 %s closing connection: %.*s", s->hostname, REASON_MAX,
	      reason != NULL ? reason : "service shutting down");
	s->phase = PH_CLOSED;
}

static bool error_reply(struct lmtp_session *s)
{
	if (++s->errors < ERRORS_MAX)
		return false;
	reply(s, "421 4.7.0 %s too many errors, closing connection", s->hostname);
	s->phase = PH_CLOSED;
	return true;
}

/* Case-insensitive prefix test on a command line. */
static bool starts_with(const char *line, const char *prefix)
{
	size_t n = strlen(prefix), i;

	for (i = 0; i < n; i++) {
		char c = line[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c != prefix[i])
			return false;
	}
	return true;
}

/* Parse "<addr>" at *p; on success *p points after '>'.  The address must
 * be printable ASCII without spaces (RFC 5321 paths, SMTPUTF8 not offered). */
static bool parse_path(const char **p, char *addr, size_t size)
{
	const char *q = *p, *end;
	size_t n;

	while (*q == ' ')
		q++;
	if (*q != '<')
		return false;
	end = strchr(q + 1, '>');
	if (end == NULL)
		return false;
	n = (size_t)(end - q - 1);
	if (n >= size)
		return false;
	for (const char *c = q + 1; c < end; c++)
		if (*c <= ' ' || *c > '~' || *c == '<')
			return false;
	memcpy(addr, q + 1, n);
	addr[n] = '\0';
	*p = end + 1;
	return true;
}

static void cmd_mail(struct lmtp_session *s, const char *args)
{
	char addr[ADDR_MAX + 1];
	const char *p = args;

	if (!s->lhlo_done) {
		reply(s, "503 5.5.1 send LHLO first");
		(void)error_reply(s);
		return;
	}
	if (s->sender != NULL) {
		reply(s, "503 5.5.1 nested MAIL command");
		(void)error_reply(s);
		return;
	}
	if (!starts_with(p, "FROM:") || (p += 5, !parse_path(&p, addr, sizeof(addr)))) {
		reply(s, "501 5.5.4 syntax: MAIL FROM:<address>");
		(void)error_reply(s);
		return;
	}
	/* ESMTP parameters: SIZE and BODY are ours; anything else is refused. */
	while (*p == ' ') {
		char param[64];
		const char *end;
		size_t n;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, ' ');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n >= sizeof(param)) {
			reply(s, "501 5.5.4 parameter too long");
			(void)error_reply(s);
			return;
		}
		memcpy(param, p, n);
		param[n] = '\0';
		p += n;
		if (starts_with(param, "SIZE=")) {
			long long size;

			if (!str_to_ll(param + 5, 0, INT64_MAX, &size)) {
				reply(s, "501 5.5.4 SIZE wants a number of bytes");
				(void)error_reply(s);
				return;
			}
			if ((unsigned long long)size > s->max_message) {
				reply(s,
				      "552 5.3.4 message size %lld exceeds the limit of %zu bytes",
				      size, s->max_message);
				(void)error_reply(s);
				return;
			}
		} else if (!(str_eq_nocase(param, "BODY=8BITMIME") ||
			     str_eq_nocase(param, "BODY=7BIT"))) {
			reply(s, "555 5.5.4 unsupported parameter %s", param);
			(void)error_reply(s);
			return;
		}
	}
	if (*p != '\0') {
		reply(s, "501 5.5.4 syntax: MAIL FROM:<address> [SIZE=n] [BODY=8BITMIME]");
		(void)error_reply(s);
		return;
	}
	s->sender = strdup(addr);
	if (s->sender == NULL) {
		reply(s, "451 4.3.0 out of memory");
		return;
	}
	reply(s, "250 2.1.0 sender ok");
}

static void cmd_rcpt(struct lmtp_session *s, const char *args)
{
	char addr[ADDR_MAX + 1];
	const char *p = args;
	char **grown, *copy;

	if (s->sender == NULL) {
		reply(s, "503 5.5.1 need MAIL before RCPT");
		(void)error_reply(s);
		return;
	}
	if (!starts_with(p, "TO:") || (p += 3, !parse_path(&p, addr, sizeof(addr))) || *p != '\0') {
		reply(s, "501 5.5.4 syntax: RCPT TO:<address>");
		(void)error_reply(s);
		return;
	}
	if (addr[0] == '\0') {
		reply(s, "501 5.1.3 empty recipient address");
		(void)error_reply(s);
		return;
	}
	if (s->nrcpts >= s->max_rcpts) {
		reply(s, "452 4.5.3 too many recipients (at most %zu)", s->max_rcpts);
		return;
	}
	grown = realloc(s->rcpts, (s->nrcpts + 1) * sizeof(*s->rcpts));
	if (grown == NULL) {
		reply(s, "451 4.3.0 out of memory");
		return;
	}
	s->rcpts = grown;
	copy = strdup(addr);
	if (copy == NULL) {
		reply(s, "451 4.3.0 out of memory");
		return;
	}
	s->rcpts[s->nrcpts++] = copy;
	reply(s, "250 2.1.5 recipient ok");
}

static void command(struct lmtp_session *s, const char *line)
{
	const char *sp = strchr(line, ' ');
	const char *args = sp != NULL ? sp + 1 : "";
	size_t vlen = sp != NULL ? (size_t)(sp - line) : strlen(line);
	char verb[8];

	if (vlen == 0 || vlen >= sizeof(verb)) {
		reply(s, "500 5.5.2 command not recognized");
		(void)error_reply(s);
		return;
	}
	memcpy(verb, line, vlen);
	verb[vlen] = '\0';

	if (str_eq_nocase(verb, "LHLO")) {
		if (*args == '\0') {
			reply(s, "501 5.5.4 syntax: LHLO hostname");
			(void)error_reply(s);
			return;
		}
		reset_transaction(s);
		s->lhlo_done = true;
		reply(s, "250-%s", s->hostname);
		reply(s, "250-PIPELINING");
		reply(s, "250-ENHANCEDSTATUSCODES");
		reply(s, "250-8BITMIME");
		reply(s, "250 SIZE %zu", s->max_message);
	} else if (str_eq_nocase(verb, "HELO") || str_eq_nocase(verb, "EHLO")) {
		reply(s, "500 5.5.1 this is LMTP: use LHLO");
		(void)error_reply(s);
	} else if (str_eq_nocase(verb, "MAIL")) {
		cmd_mail(s, args);
	} else if (str_eq_nocase(verb, "RCPT")) {
		cmd_rcpt(s, args);
	} else if (str_eq_nocase(verb, "DATA")) {
		if (*args != '\0') {
			reply(s, "501 5.5.4 DATA takes no argument");
			(void)error_reply(s);
		} else if (s->nrcpts == 0) {
			reply(s, "503 5.5.1 no valid recipients");
			(void)error_reply(s);
		} else {
			s->phase = PH_DATA;
			reply(s, "354 send the message, ending with a line holding only a dot");
		}
	} else if (str_eq_nocase(verb, "RSET")) {
		reset_transaction(s);
		reply(s, "250 2.0.0 ok");
	} else if (str_eq_nocase(verb, "NOOP")) {
		reply(s, "250 2.0.0 ok");
	} else if (str_eq_nocase(verb, "VRFY")) {
		reply(s, "252 2.5.2 cannot verify, but will accept and attempt delivery");
	} else if (str_eq_nocase(verb, "HELP")) {
		reply(s, "214 2.0.0 commands: LHLO MAIL RCPT DATA RSET NOOP VRFY QUIT");
	} else if (str_eq_nocase(verb, "QUIT")) {
		reply(s, "221 2.0.0 %s closing connection", s->hostname);
		s->phase = PH_CLOSED;
	} else {
		reply(s, "500 5.5.2 command not recognized");
		(void)error_reply(s);
	}
}

/* Every recipient gets the same reply: the message was refused whole. */
static void refuse_all(struct lmtp_session *s, const char *code, const char *text)
{
	size_t i;

	for (i = 0; i < s->nrcpts; i++)
		reply(s, "%s <%s> %s", code, s->rcpts[i], text);
	reset_transaction(s);
	s->phase = PH_COMMAND;
}

/* One data line without its line end; false at the terminating dot. */
static bool data_line(struct lmtp_session *s, const char *line, size_t n)
{
	if (n == 1 && line[0] == '.')
		return false;
	if (n > 0 && line[0] == '.') { /* dot-stuffing, RFC 5321 4.5.2 */
		line++;
		n--;
	}
	if (s->data_too_big)
		return true;
	if (s->data.len + n + 2 > s->max_message) {
		s->data_too_big = true;
		buf_free(&s->data);
		return true;
	}
	if (!buf_add(&s->data, line, n) || !buf_add(&s->data, "\r\n", 2)) {
		/* Treat like an oversized mail: refuse it, keep the session. */
		s->data_too_big = true;
		buf_free(&s->data);
	}
	return true;
}

enum lmtp_event lmtp_next(struct lmtp_session *s, struct lmtp_message *msg)
{
	for (;;) {
		const char *start, *nl;
		size_t avail, n;

		if (s->phase == PH_CLOSED)
			return LMTP_CLOSE;
		if (s->phase == PH_WAIT) {
			msg->sender = s->sender;
			msg->rcpts = (const char *const *)s->rcpts;
			msg->nrcpts = s->nrcpts;
			msg->data = s->data.p != NULL ? s->data.p : "";
			msg->len = s->data.len;
			return LMTP_MESSAGE;
		}
		start = s->in.p + s->in_off;
		avail = s->in.len - s->in_off;
		nl = avail > 0 ? memchr(start, '\n', avail) : NULL;
		if (nl == NULL) {
			size_t limit = s->phase == PH_DATA ? DATA_LINE_MAX : CMD_LINE_MAX;

			if (avail > limit) {
				/* Overlong: forget it now, finish it at its newline. */
				if (!s->skipping) {
					if (s->phase == PH_DATA)
						s->data_line_too_long = true;
					else
						reply(s,
						      "500 5.5.2 line too long (at most %d bytes)",
						      CMD_LINE_MAX);
				}
				s->skipping = true;
				s->in_off = s->in.len;
			}
			return LMTP_NEED_INPUT;
		}
		n = (size_t)(nl - start);
		s->in_off += n + 1;
		if (s->skipping) {
			/* The end of an overlong line, already answered. */
			s->skipping = false;
			if (s->phase == PH_COMMAND)
				(void)error_reply(s);
			continue;
		}
		if (n > 0 && start[n - 1] == '\r')
			n--;
		if (s->phase == PH_DATA) {
			if (n > DATA_LINE_MAX)
				s->data_line_too_long = true;
			if (data_line(s, start, n))
				continue;
			/* The terminating dot. */
			if (s->data_too_big) {
				char text[96];

				str_msg(text, sizeof(text),
					"message exceeds the limit of %zu bytes", s->max_message);
				refuse_all(s, "552 5.3.4", text);
				continue;
			}
			if (s->data_line_too_long) {
				refuse_all(s, "554 5.6.0", "message has a line over 65536 bytes");
				continue;
			}
			s->phase = PH_WAIT;
			continue;
		}
		{
			char line[CMD_LINE_MAX + 1];

			if (n > CMD_LINE_MAX) {
				reply(s, "500 5.5.2 line too long (at most %d bytes)",
				      CMD_LINE_MAX);
				(void)error_reply(s);
				continue;
			}
			memcpy(line, start, n);
			line[n] = '\0';
			if (memchr(line, '\0', n) != NULL) {
				reply(s, "500 5.5.2 NUL byte in command");
				(void)error_reply(s);
				continue;
			}
			command(s, line);
		}
	}
}

/* One line of text for a reply: no CR/LF, bounded. */
static void clean_reason(const char *in, const char *def, char *out, size_t size)
{
	size_t i, n = 0;

	if (in == NULL || *in == '\0')
		in = def;
	for (i = 0; in[i] != '\0' && n + 1 < size; i++)
		out[n++] = (in[i] == '\r' || in[i] == '\n') ? ' ' : in[i];
	out[n] = '\0';
}

void lmtp_message_done(struct lmtp_session *s, const enum hl_status *outcomes,
		       const char *const *reasons)
{
	size_t i;

	if (s->phase != PH_WAIT)
		return;
	for (i = 0; i < s->nrcpts; i++) {
		char why[REASON_MAX + 1];
		const char *r = reasons != NULL ? reasons[i] : NULL;

		/* The one place hl_status becomes an LMTP reply. */
		switch (outcomes[i]) {
		case HL_OK:
			clean_reason(r, "delivered", why, sizeof(why));
			reply(s, "250 2.0.0 <%s> %s", s->rcpts[i], why);
			break;
		case HL_TEMPFAIL:
			clean_reason(r, "temporary failure, try again later", why, sizeof(why));
			reply(s, "451 4.3.0 <%s> %s", s->rcpts[i], why);
			break;
		case HL_PERMFAIL:
			clean_reason(r, "refused", why, sizeof(why));
			reply(s, "554 5.6.0 <%s> %s", s->rcpts[i], why);
			break;
		}
	}
	reset_transaction(s);
	s->phase = PH_COMMAND;
}
