/*
 * mail_send — an LMTP client for one mail; see mail_send.h.
 *
 * The conversation is the plain one of RFC 2033, one command at a time
 * (this is a tool for a person, not a load generator): greeting, LHLO,
 * MAIL FROM with SIZE= (and BODY=8BITMIME when the mail has 8-bit bytes and
 * the receiver offers it), one RCPT TO per recipient, DATA, the message,
 * then one reply per accepted recipient, QUIT.
 *
 * Limits, and what each stops:
 *  - SEND_MAX_BYTES: the file is read whole; a wrong path (a disk image)
 *    fails at once instead of filling memory.  It is above the largest
 *    [lmtp] max_message_bytes, so the receiver's own 552 is what a user sees;
 *  - REPLY_LINE_MAX / REPLY_LINES_MAX: a peer that is not an LMTP server
 *    (or a hostile one) cannot make us buffer without bound;
 *  - timeouts on every read and write: a receiver that hangs does not hang
 *    the tool for ever.
 */
#include "mail_send.h"

#include <errno.h>
#include <stdint.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "file.h"
#include "mail.h"
#include "str.h"

#define SEND_MAX_BYTES	  (128u * 1024 * 1024)
#define REPLY_LINE_MAX	  2048
#define REPLY_LINES_MAX	  100
#define DATA_DONE_TIMEOUT 600
#define ADDR_TEXT_MAX	  300

struct conn {
	int fd;
	char in[8192];
	size_t in_len, in_off;
	const char *addr;
};

struct reply {
	int code;		       /* 0 when none was read */
	char text[REPLY_LINE_MAX + 1]; /* the last line, without CRLF */
	bool size, eightbit;	       /* LHLO: SIZE and 8BITMIME offered */
};

static void set_timeout(int fd, unsigned seconds)
{
	struct timeval tv = {.tv_sec = (time_t)seconds, .tv_usec = 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Connect to addr; the fd, or -1 with the reason on stderr.  A wildcard
 * listen address (0.0.0.0, [::]) means the loopback one. */
static int connect_addr(const char *addr)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[ADDR_TEXT_MAX];
	const char *colon, *h = addr;
	size_t hlen;
	int fd = -1, e, saved = 0;

	if (strncmp(addr, "unix:", 5) == 0) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (!str_copy(sun.sun_path, addr + 5, sizeof(sun.sun_path))) {
			fprintf(stderr, "hotlinectl: %s: socket path too long\n", addr);
			return -1;
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
			saved = errno;
			goto refused;
		}
		return fd;
	}
	colon = strrchr(addr, ':');
	if (colon == NULL || colon[1] == '\0') {
		fprintf(stderr,
			"hotlinectl: %s: not an address (IP:PORT, [IPv6]:PORT or unix:/path)\n",
			addr);
		return -1;
	}
	if (*h == '[') {
		h++;
		if (colon == h || colon[-1] != ']') {
			fprintf(stderr, "hotlinectl: %s: not an address\n", addr);
			return -1;
		}
		hlen = (size_t)(colon - h - 1);
	} else {
		hlen = (size_t)(colon - h);
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		fprintf(stderr, "hotlinectl: %s: not an address\n", addr);
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (strcmp(host, "0.0.0.0") == 0)
		str_msg(host, sizeof(host), "127.0.0.1");
	else if (strcmp(host, "::") == 0)
		str_msg(host, sizeof(host), "::1");
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	e = getaddrinfo(host, colon + 1, &hints, &res);
	if (e != 0) {
		fprintf(stderr, "hotlinectl: %s: %s\n", addr, gai_strerror(e));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		return fd;
refused:
	if (fd >= 0)
		close(fd);
	fprintf(stderr,
		"hotlinectl: cannot connect to hotline-lmtpd at %s: %s\n"
		"hotlinectl: is hotline-lmtpd running and listening there? (the [lmtp] listen key, "
		"or --lmtp ADDR)\n",
		addr, strerror(saved));
	return -1;
}

static bool write_all(struct conn *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "hotlinectl: writing to %s: %s\n", c->addr,
				w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
					? "timed out"
					: strerror(errno));
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* One line without its CRLF into line (size REPLY_LINE_MAX + 1); false on
 * EOF, error, timeout or an overlong line, said on stderr. */
static bool read_line(struct conn *c, char *line)
{
	size_t n = 0;

	for (;;) {
		if (c->in_off == c->in_len) {
			ssize_t r = recv(c->fd, c->in, sizeof(c->in), 0);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				if (r == 0)
					fprintf(stderr, "hotlinectl: %s closed the connection\n",
						c->addr);
				else
					fprintf(stderr, "hotlinectl: reading from %s: %s\n",
						c->addr,
						errno == EAGAIN || errno == EWOULDBLOCK
							? "no answer in time"
							: strerror(errno));
				return false;
			}
			c->in_len = (size_t)r;
			c->in_off = 0;
		}
		while (c->in_off < c->in_len) {
			char ch = c->in[c->in_off++];

			if (ch == '\n') {
				if (n > 0 && line[n - 1] == '\r')
					n--;
				line[n] = '\0';
				return true;
			}
			if (n == REPLY_LINE_MAX) {
				fprintf(stderr, "hotlinectl: %s: reply line too long\n", c->addr);
				return false;
			}
			line[n++] = ch;
		}
	}
}

/* One (possibly multi-line) reply; false with the reason on stderr. */
static bool read_reply(struct conn *c, struct reply *r)
{
	char line[REPLY_LINE_MAX + 1];
	int lines;

	r->code = 0;
	r->text[0] = '\0';
	for (lines = 0; lines < REPLY_LINES_MAX; lines++) {
		if (!read_line(c, line))
			return false;
		if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
		    line[1] > '9' || line[2] < '0' || line[2] > '9' ||
		    (line[3] != '\0' && line[3] != ' ' && line[3] != '-')) {
			fprintf(stderr, "hotlinectl: %s does not speak LMTP: \"%.80s\"\n", c->addr,
				line);
			return false;
		}
		if (line[3] == '-' || lines > 0) {
			const char *kw = line + 4;

			if (strncmp(kw, "SIZE", 4) == 0 && (kw[4] == '\0' || kw[4] == ' '))
				r->size = true;
			else if (strcmp(kw, "8BITMIME") == 0)
				r->eightbit = true;
		}
		if (line[3] != '-') {
			r->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
			memcpy(r->text, line, strlen(line) + 1);
			return true;
		}
	}
	fprintf(stderr, "hotlinectl: %s: reply of more than %d lines\n", c->addr, REPLY_LINES_MAX);
	return false;
}

/* Send one command line, "VERB" + arg + tail (arg and tail may be ""),
 * with CRLF, and read its reply. */
static bool command(struct conn *c, struct reply *r, const char *verb, const char *arg,
		    const char *tail)
{
	char line[REPLY_LINE_MAX];

	if (!str_printf(line, sizeof(line), "%s%s%s\r\n", verb, arg, tail)) {
		fprintf(stderr, "hotlinectl: command too long: %.60s…\n", line);
		return false;
	}
	return write_all(c, line, strlen(line)) && read_reply(c, r);
}

/* The sysexits code a reply's class calls for. */
static int code_exit(int code)
{
	if (code >= 200 && code < 400)
		return 0;
	return code >= 500 ? EX_DATAERR : EX_TEMPFAIL;
}

/* The worse of two outcomes: a refusal outweighs a "try later", which
 * outweighs success. */
static int worse(int a, int b)
{
	if (a == EX_DATAERR || b == EX_DATAERR)
		return EX_DATAERR;
	return a != 0 ? a : b;
}

/* An envelope address goes into a command line as <addr>: nothing in it
 * may end the line or the brackets. */
static bool addr_ok(const char *addr)
{
	return strlen(addr) < ADDR_TEXT_MAX && strpbrk(addr, "<>\r\n \t") == NULL;
}

/* Plain words for one recipient's outcome. */
static void say(FILE *out, const char *rcpt, const struct reply *r)
{
	const char *what = r->code / 100 == 2	? "accepted"
			   : r->code / 100 == 4 ? "not accepted now, try again later"
						: "refused, it will never be accepted";

	fprintf(out, "%s: %s (%s)\n", rcpt, what, r->text);
}

/* The message as it goes on the wire: CRLF lines, a dot doubled at the
 * start of a line, a final CRLF if the file had no final line end, then
 * ".".  NULL when out of memory. */
static char *wire_data(const char *raw, size_t len, size_t *out_len)
{
	size_t lines = 1, i, n = 0;
	char *p;
	bool bol = true;

	for (i = 0; i < len; i++)
		lines += raw[i] == '\n';
	/* Each line grows by at most 2 bytes ("." and "\r"), plus CRLF.CRLF. */
	if (lines > (SIZE_MAX - len - 8) / 3)
		return NULL;
	p = malloc(len + lines * 3 + 8);
	if (p == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		char ch = raw[i];

		if (bol && ch == '.')
			p[n++] = '.';
		bol = false;
		if (ch == '\n') {
			if (n == 0 || p[n - 1] != '\r')
				p[n++] = '\r';
			bol = true;
		}
		p[n++] = ch;
	}
	if (!bol) {
		p[n++] = '\r';
		p[n++] = '\n';
	}
	memcpy(p + n, ".\r\n", 3);
	n += 3;
	*out_len = n;
	return p;
}

int mail_send(const struct mail_send_args *a, FILE *out)
{
	struct conn c = {.fd = -1, .addr = a->addr};
	struct reply r = {0};
	struct mail_alert *alert = NULL;
	char err[512], hostname[256], mailcmd[128], *raw = NULL, *data = NULL, *from_buf = NULL;
	const char *from = a->from;
	size_t len = 0, dlen = 0, i, accepted = 0;
	bool *ok = NULL, eight = false;
	int rc = EX_TEMPFAIL, worst = 0;

	raw = file_read(a->path, SEND_MAX_BYTES, &len, err, sizeof(err));
	if (raw == NULL) {
		fprintf(stderr, "hotlinectl: %s\n", err);
		return EX_NOINPUT;
	}
	if (from == NULL) {
		if (mail_decode(raw, len, NULL, &alert, err, sizeof(err)) != HL_OK ||
		    alert->header_from == NULL) {
			fprintf(stderr,
				"hotlinectl: %s: no From address in the mail to use as the sender; "
				"give --from SENDER\n",
				a->path);
			rc = EX_USAGE;
			goto done;
		}
		from_buf = strdup(alert->header_from);
		if (from_buf == NULL) {
			fprintf(stderr, "hotlinectl: out of memory\n");
			rc = EX_OSERR;
			goto done;
		}
		from = from_buf;
	}
	for (i = 0; i < a->nto; i++) {
		if (!addr_ok(a->to[i])) {
			fprintf(stderr, "hotlinectl: not a recipient address: %.80s\n", a->to[i]);
			rc = EX_USAGE;
			goto done;
		}
	}
	if (!addr_ok(from)) {
		fprintf(stderr, "hotlinectl: not a sender address: %.80s\n", from);
		rc = EX_USAGE;
		goto done;
	}
	for (i = 0; i < len; i++)
		eight |= (unsigned char)raw[i] >= 0x80;
	data = wire_data(raw, len, &dlen);
	ok = calloc(a->nto, sizeof(*ok));
	if (data == NULL || ok == NULL) {
		fprintf(stderr, "hotlinectl: out of memory\n");
		rc = EX_OSERR;
		goto done;
	}

	c.fd = connect_addr(a->addr);
	if (c.fd < 0)
		goto done; /* EX_TEMPFAIL: the receiver may come back */
	set_timeout(c.fd, a->timeout_seconds);
	if (!read_reply(&c, &r))
		goto done;
	if (r.code != 220) {
		fprintf(stderr, "hotlinectl: %s did not greet: %s\n", a->addr, r.text);
		rc = code_exit(r.code) == EX_DATAERR ? EX_DATAERR : EX_TEMPFAIL;
		goto done;
	}
	if (gethostname(hostname, sizeof(hostname)) != 0 || hostname[0] == '\0')
		str_msg(hostname, sizeof(hostname), "localhost");
	hostname[sizeof(hostname) - 1] = '\0';
	if (!command(&c, &r, "LHLO ", hostname, ""))
		goto done;
	if (r.code != 250) {
		fprintf(stderr, "hotlinectl: %s refused LHLO: %s\n", a->addr, r.text);
		rc = code_exit(r.code);
		goto done;
	}
	if (!str_copy(mailcmd, ">", sizeof(mailcmd)))
		goto done;
	if (r.size && !str_appendf(mailcmd, sizeof(mailcmd), &(size_t){1}, " SIZE=%zu", dlen))
		goto done;
	if (eight && r.eightbit &&
	    !str_appendf(mailcmd, sizeof(mailcmd), &(size_t){strlen(mailcmd)}, " BODY=8BITMIME"))
		goto done;
	if (!command(&c, &r, "MAIL FROM:<", from, mailcmd))
		goto done;
	if (r.code != 250) {
		fprintf(out, "MAIL FROM:<%s>: %s (%s)\n", from,
			r.code >= 500 ? "refused, the mail will never be accepted"
				      : "not accepted now, try again later",
			r.text);
		rc = code_exit(r.code);
		goto quit;
	}
	for (i = 0; i < a->nto; i++) {
		if (!command(&c, &r, "RCPT TO:<", a->to[i], ">"))
			goto done;
		if (r.code == 250) {
			ok[i] = true;
			accepted++;
		} else {
			say(out, a->to[i], &r);
			worst = worse(worst, code_exit(r.code));
		}
	}
	if (accepted == 0) {
		rc = worst;
		goto quit;
	}
	if (!command(&c, &r, "DATA", "", ""))
		goto done;
	if (r.code != 354) {
		fprintf(out, "DATA: %s (%s)\n",
			r.code >= 500 ? "refused" : "not accepted now, try again later", r.text);
		rc = r.code >= 200 && r.code < 400 ? EX_PROTOCOL : code_exit(r.code);
		goto quit;
	}
	if (!write_all(&c, data, dlen))
		goto done;
	/* hotline answers only once the mail is committed: give it the time
	 * Postfix's lmtp_data_done_timeout gives it. */
	set_timeout(c.fd, DATA_DONE_TIMEOUT);
	for (i = 0; i < a->nto; i++) {
		if (!ok[i])
			continue;
		if (!read_reply(&c, &r))
			goto done;
		say(out, a->to[i], &r);
		worst = worse(worst, code_exit(r.code));
	}
	set_timeout(c.fd, a->timeout_seconds);
	rc = worst;
quit:
	/* The outcome is known; a failed QUIT changes nothing. */
	(void)(write_all(&c, "QUIT\r\n", 6) && read_reply(&c, &r));
done:
	if (c.fd >= 0)
		close(c.fd);
	free(ok);
	free(data);
	free(from_buf);
	mail_alert_free(alert);
	free(raw);
	return rc;
}
