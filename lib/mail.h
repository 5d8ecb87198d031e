/*
 * mail — decoding one alert mail (RFC 5322 + MIME) into UTF-8 text.
 *
 * The only place hotline parses mail.  It takes the raw bytes as received
 * and returns a struct mail_alert, with no I/O: LMTP, the milter, the IMAP
 * fetcher, `hotlinectl rules test` and the fuzzer all call it the same way.
 * GMime does the MIME work; this module adds the Japanese charset details
 * (ISO-2022-JP with the CP50220 extensions ①・㈱・～, Shift_JIS/CP932,
 * EUC-JP), broken and split RFC 2047 encoded-words, HTML-only mail turned
 * into readable text, and the normalisation of line ends and white space.
 *
 * Errors: HL_PERMFAIL with a one-line reason in err for mail that can never
 * be decoded (not a mail, over a limit); HL_TEMPFAIL only when out of memory.
 * Everything in the result is owned by it and freed by mail_alert_free().
 * Bytes that are no character in the declared (or guessed) charset become
 * U+FFFD: bad encoding never fails a mail.
 *
 * Thread-safe: GMime is initialised once per process on the first call.
 */
#ifndef HL_MAIL_H
#define HL_MAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

/* Limits, each named after the attack it stops (see mail.c for why). */
struct mail_limits {
	size_t max_bytes;	/* whole message; a zip bomb or a 2 GB mail */
	size_t max_headers;	/* header fields in the whole mail; a header flood */
	size_t max_header_line; /* one (unfolded) header field, bytes */
	size_t max_mime_depth;	/* nested multiparts; recursion bombs */
	size_t max_parts;	/* MIME parts in all */
	size_t max_text_bytes;	/* decoded body text kept */
};

/* The defaults: 25 MiB, 1000 headers, 64 KiB per field, depth 16, 256
 * parts, 1 MiB of text. */
void mail_limits_default(struct mail_limits *lim);

struct mail_alert {
	char *message_id;  /* without <>, or NULL when missing/invalid */
	char *dedupe_key;  /* "mid:<message_id>" or "sha256:<hex of raw>" */
	char *header_from; /* the From address (addr-spec only), or NULL */
	char *subject;	   /* decoded, one line, white space collapsed; "" if none */
	char *body;	   /* LF line ends, lines right-trimmed, no blank ends or final \n */
	long long date;	   /* Date: as Unix seconds, or 0 when missing/invalid */
	bool from_html;	   /* body was converted from text/html */
	char *charset;	   /* charset the body was declared in (lower case), or NULL */
};

/* Decode raw (len bytes; need not be NUL-terminated).  On success *out is a
 * new alert.  lim NULL means the defaults. */
enum hl_status mail_decode(const char *raw, size_t len, const struct mail_limits *lim,
			   struct mail_alert **out, char *err, size_t errlen);

void mail_alert_free(struct mail_alert *a);

#endif
