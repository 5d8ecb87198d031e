/*
 * mail_send — `hotlinectl mail send FILE`: hand one mail file to
 * hotline-lmtpd over LMTP, as Postfix would, and say what became of it.
 *
 * The file may have bare LF or CRLF line ends and need not end with a line
 * end; it goes out as CRLF lines, dot-stuffed, so the receiver stores the
 * file's lines byte for byte (with CRLF).  Each recipient's reply is
 * printed in plain words on the output stream; problems on the way (no
 * receiver, a protocol error) go to stderr.
 *
 * The result is a sysexits code, as sendmail's: 0 when every recipient got
 * 250, EX_TEMPFAIL (75) when one got 4xx or the receiver could not be
 * reached (try again later), EX_DATAERR (65) when one got 5xx (it will never
 * be accepted), EX_NOINPUT (66) when the file cannot be read, EX_USAGE (64)
 * when there is no sender or an address cannot go into a command line.
 */
#ifndef HL_MAIL_SEND_H
#define HL_MAIL_SEND_H

#include <stddef.h>
#include <stdio.h>

struct mail_send_args {
	const char *addr;      /* "IP:PORT", "[IPv6]:PORT" or "unix:/path" */
	const char *path;      /* the mail file */
	const char *from;      /* envelope sender; NULL: the mail's From address */
	const char *const *to; /* envelope recipients (at least one) */
	size_t nto;
	unsigned timeout_seconds; /* per read or write; the final reply gets 600 s */
};

/* Send the mail; the sysexits code above. */
int mail_send(const struct mail_send_args *a, FILE *out);

#endif
