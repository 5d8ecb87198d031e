/*
 * mail — decoding one alert mail into UTF-8 text; see mail.h for the contract.
 *
 * How a mail is read, in order:
 *
 *  1. Cheap checks on the raw bytes before anything is allocated: the size
 *     limit, "is this a mail at all" (the first line must be a header field),
 *     and a count-min sketch of the lines that start with "--" (see below).
 *  2. GMime parses the bytes from memory.  A header callback counts header
 *     fields and their length, and estimates the number of MIME parts from
 *     each multipart's boundary; the moment a limit is passed the input
 *     stream is cut short, so GMime stops reading instead of building
 *     millions of objects (measured with GMime 3.2.13: a 25 MiB header flood
 *     costs 1.6 GB and 8 s, a 25 MiB part flood 4.9 GB and 29 s).
 *  3. The parsed tree is walked once: exact depth and part counts, and the
 *     text parts that may carry the body (attachments and non-text skipped).
 *  4. The body and the Subject are converted to UTF-8 here, not by GMime:
 *     GMime converts with iconv under the declared name and writes '?' for
 *     every byte it cannot convert, and glibc's ISO-2022-JP knows neither
 *     the NEC row 13 (①, ㈱) nor the IBM extensions, so the alerts' most
 *     common extensions came out as "?".  glibc has no CP50220/CP50221
 *     either (`iconv -l`), so ISO-2022-JP is turned into CP932 bytes by hand
 *     (JIS X 0208 → Shift_JIS is arithmetic) and converted with glibc's
 *     "CP932"; Shift_JIS goes through "CP932" and EUC-JP through
 *     "EUC-JP-MS", which both know the extensions and map 0x8160/0xA1C1 to
 *     U+FF5E ～ as Windows does.  Bytes that cannot be converted become
 *     U+FFFD; decoding never fails because of them.
 *  5. The text is normalised: LF line ends, no control characters but \n and
 *     \t, trailing white space trimmed (the full-width space U+3000 is text,
 *     not white space, and is kept), at most two blank lines in a row, no
 *     blank lines at either end, no final newline.
 *
 * GLib aborts the process when it cannot allocate, so HL_TEMPFAIL is only
 * returned when our own malloc() fails.
 */
#include "mail.h"

#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>
#include <openssl/evp.h>

#include "str.h"
#include "utf8.h"

/* Defaults and why each limit exists. */
/* A 2 GB "mail" or a decompression-bomb-sized attachment: nothing bigger is
 * read at all.  25 MiB is well above Postfix's default message_size_limit
 * (10 MB). */
#define DEF_MAX_BYTES (25u * 1024 * 1024)
/* A header flood: millions of tiny header fields make GMime allocate a list
 * entry each (1.6 GB for 25 MiB).  Counted over the whole mail, parts too. */
#define DEF_MAX_HEADERS 1000u
/* One giant folded header field fed to the RFC 2047 decoder and the logs. */
#define DEF_MAX_HEADER_LINE (64u * 1024)
/* Recursion bombs: multiparts or message/rfc822 nested thousands deep to
 * exhaust the stack of whoever walks the tree. */
#define DEF_MAX_MIME_DEPTH 16u
/* A part flood: "--b\r\n\r\n" repeated makes one MIME part per 7 bytes. */
#define DEF_MAX_PARTS 256u
/* A body too big for any alert, which the rules engine would chew through
 * and the queue would store: an alert is a few kilobytes. */
#define DEF_MAX_TEXT_BYTES (1024u * 1024)

/* Width of each row of the boundary sketch; two rows make a false estimate
 * need a collision in both. */
#define SKETCH_WIDTH 4096u
/* The longest Message-ID kept; longer ones are treated as bogus (the
 * dedupe key is stored in an indexed column). */
#define MAX_MSGID 250u
/* The longest charset name of an encoded-word; longer ones make no
 * encoded-word (IANA's longest name has 45 bytes). */
#define MAX_CHARSET_NAME 64
/* The longest encoded text of one encoded-word looked for (RFC 2047 says
 * 75 bytes in all; broken senders write longer ones, but a bound keeps a
 * header full of unterminated "=?" from costing quadratic time). */
#define MAX_EWORD_TEXT 4096

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */

void mail_limits_default(struct mail_limits *lim)
{
	lim->max_bytes = DEF_MAX_BYTES;
	lim->max_headers = DEF_MAX_HEADERS;
	lim->max_header_line = DEF_MAX_HEADER_LINE;
	lim->max_mime_depth = DEF_MAX_MIME_DEPTH;
	lim->max_parts = DEF_MAX_PARTS;
	lim->max_text_bytes = DEF_MAX_TEXT_BYTES;
}

void mail_alert_free(struct mail_alert *a)
{
	if (a == NULL)
		return;
	free(a->message_id);
	free(a->dedupe_key);
	free(a->header_from);
	free(a->subject);
	free(a->body);
	free(a->charset);
	free(a);
}

/* --- GMime set-up --- */

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;
static GMimeParserOptions *parser_opts;

/*
 * g_mime_init() sets up GLib's type system, GMime's charset tables and its
 * default options through a plain, non-atomic counter: two threads calling
 * it at once (a daemon decoding on several threads) could both run
 * the set-up.  pthread_once makes it exactly once per process; nothing ever
 * calls g_mime_shutdown(), the process ends first.
 */
static void gmime_setup(void)
{
	g_mime_init();
	parser_opts = g_mime_parser_options_new();
	/* Alerts come from whatever software the city's vendor runs: accept
	 * unquoted parameters, encoded-words inside words and addresses
	 * without a domain rather than losing the alert. */
	g_mime_parser_options_set_rfc2047_compliance_mode(parser_opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(parser_opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(parser_opts,
							    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_allow_addresses_without_domain(parser_opts, TRUE);
}

/* --- charset conversion --- */

static void append_replacement(GString *out)
{
	g_string_append_len(out, REPLACEMENT, 3);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	uint32_t cp;

	return utf8_decode(s, n, &cp);
}

/* Append UTF-8 text, each invalid byte replaced by U+FFFD; returns how many
 * bytes were invalid. */
static size_t append_utf8(GString *out, const char *in, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, bad = 0, k;

	while (i < len) {
		k = utf8_seq_len(s + i, len - i);
		if (k == 0) {
			append_replacement(out);
			bad++;
			i++;
			continue;
		}
		g_string_append_len(out, in + i, (gssize)k);
		i += k;
	}
	return bad;
}

/* Convert len bytes to UTF-8 with cd, each byte iconv refuses replaced by
 * U+FFFD; returns the number of replaced bytes. */
static long iconv_run(GString *out, iconv_t cd, const char *in, size_t len)
{
	char buf[4096];
	char *inp = (char *)(uintptr_t)in; /* iconv's prototype lacks const */
	size_t inleft = len, outleft, r;
	char *outp;
	long bad = 0;

	(void)iconv(cd, NULL, NULL, NULL, NULL); /* initial state */
	for (;;) {
		outp = buf;
		outleft = sizeof(buf);
		if (inleft > 0)
			r = iconv(cd, &inp, &inleft, &outp, &outleft);
		else
			r = iconv(cd, NULL, NULL, &outp, &outleft); /* shift state back */
		/* iconv writes whole characters only, but not always valid
		 * ones: glibc passes UTF-8 for code points over U+10FFFF */
		(void)append_utf8(out, buf, sizeof(buf) - outleft);
		if (r != (size_t)-1) {
			if (inleft == 0 && outp == buf)
				break;
			continue;
		}
		if (errno == E2BIG)
			continue;
		/* EILSEQ: a byte that is no character; EINVAL: a sequence cut
		 * off at the end.  Either way one replacement, then go on. */
		append_replacement(out);
		bad++;
		if (errno == EINVAL || inleft == 0) {
			inleft = 0;
			continue;
		}
		inp++;
		inleft--;
	}
	return bad;
}

/* The same for a charset named cs; -1 when iconv does not know it (out
 * untouched). */
static long iconv_append(GString *out, const char *cs, const char *in, size_t len)
{
	iconv_t cd = iconv_open("UTF-8", cs);
	long bad;

	if (cd == (iconv_t)-1)
		return -1;
	bad = iconv_run(out, cd, in, len);
	iconv_close(cd);
	return bad;
}

/*
 * The two converters the Japanese charsets need, opened once per mail: the
 * ISO-2022-JP reader converts character by character where modes change,
 * and an iconv_open() for each would let a mail of JIS X 0212 pairs cost
 * millions of them.
 */
struct conv {
	iconv_t cp932;
	iconv_t eucjp;
};

static long conv_append(GString *out, struct conv *cv, bool eucjp, const char *in, size_t len)
{
	iconv_t *slot = eucjp ? &cv->eucjp : &cv->cp932;

	if (*slot == (iconv_t)-1)
		*slot = iconv_open("UTF-8", eucjp ? "EUC-JP-MS" : "CP932");
	if (*slot == (iconv_t)-1) {
		/* a glibc without its gconv modules: say something was here */
		append_replacement(out);
		return (long)len;
	}
	return iconv_run(out, *slot, in, len);
}

static void conv_close(struct conv *cv)
{
	if (cv->cp932 != (iconv_t)-1)
		iconv_close(cv->cp932);
	if (cv->eucjp != (iconv_t)-1)
		iconv_close(cv->eucjp);
}

/*
 * ISO-2022-JP read as Microsoft's CP50221 does: JIS X 0208 with the NEC and
 * IBM extension rows, JIS X 0201 katakana by ESC ( I or SO/SI, JIS X 0212
 * by ESC $ ( D.  The two-byte characters are turned into CP932 bytes and
 * converted by glibc's CP932 (the NEC rows 13 and 89-92 are where CP932
 * keeps ①, ㈱, ⅰ…).  Lenient: line ends do not reset the mode, unknown
 * escapes are dropped, and bytes that fit no mode become U+FFFD.
 */
enum jis_mode { JIS_ASCII, JIS_KANA, JIS_X0208, JIS_X0212 };

static void sjis_flush(GString *out, struct conv *cv, GString *sjis)
{
	if (sjis->len > 0) {
		(void)conv_append(out, cv, false, sjis->str, sjis->len);
		g_string_truncate(sjis, 0);
	}
}

static void jis_append(GString *out, struct conv *cv, const char *in, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	GString *sjis = g_string_sized_new(len);
	enum jis_mode mode = JIS_ASCII;
	bool shifted = false; /* SO: katakana until SI */
	size_t i = 0;
	unsigned c, j1, j2, s1, s2;
	char pair[3];

	while (i < len) {
		c = s[i];
		if (c == 0x1B) {
			if (i + 2 < len && s[i + 1] == '(' &&
			    (s[i + 2] == 'B' || s[i + 2] == 'J' || s[i + 2] == 'H')) {
				mode = JIS_ASCII;
				i += 3;
			} else if (i + 2 < len && s[i + 1] == '(' && s[i + 2] == 'I') {
				mode = JIS_KANA;
				i += 3;
			} else if (i + 2 < len && s[i + 1] == '$' &&
				   (s[i + 2] == 'B' || s[i + 2] == '@')) {
				mode = JIS_X0208;
				i += 3;
			} else if (i + 3 < len && s[i + 1] == '$' && s[i + 2] == '(' &&
				   (s[i + 3] == 'D')) {
				mode = JIS_X0212;
				i += 4;
			} else if (i + 3 < len && s[i + 1] == '$' && s[i + 2] == '(' &&
				   (s[i + 3] == 'B' || s[i + 3] == '@')) {
				mode = JIS_X0208;
				i += 4;
			} else if (i + 5 < len && s[i + 1] == '&' && s[i + 2] == '@' &&
				   s[i + 3] == 0x1B && s[i + 4] == '$' && s[i + 5] == 'B') {
				mode = JIS_X0208; /* JIS X 0208-1990 announcer */
				i += 6;
			} else {
				i++; /* an escape we do not know: drop ESC */
			}
			continue;
		}
		if (c == 0x0E || c == 0x0F) {
			shifted = c == 0x0E;
			i++;
			continue;
		}
		if (c >= 0x80) {
			sjis_flush(out, cv, sjis);
			append_replacement(out);
			i++;
			continue;
		}
		if (c < 0x21 || c == 0x7F) {
			/* controls, space and line ends are ASCII in every mode */
			g_string_append_c(sjis, (char)c);
			i++;
			continue;
		}
		if (shifted || mode == JIS_KANA) {
			if (c <= 0x5F)
				g_string_append_c(sjis, (char)(c | 0x80));
			else {
				sjis_flush(out, cv, sjis);
				append_replacement(out);
			}
			i++;
			continue;
		}
		if (mode == JIS_ASCII) {
			g_string_append_c(sjis, (char)c);
			i++;
			continue;
		}
		if (i + 1 >= len || s[i + 1] < 0x21 || s[i + 1] > 0x7E) {
			/* half a character: the second byte is missing */
			sjis_flush(out, cv, sjis);
			append_replacement(out);
			i++;
			continue;
		}
		j1 = c;
		j2 = s[i + 1];
		i += 2;
		if (mode == JIS_X0212) {
			sjis_flush(out, cv, sjis);
			pair[0] = (char)0x8F;
			pair[1] = (char)(j1 | 0x80);
			pair[2] = (char)(j2 | 0x80);
			(void)conv_append(out, cv, true, pair, 3);
			continue;
		}
		s1 = ((j1 + 1) >> 1) + (j1 <= 0x5E ? 0x70 : 0xB0);
		if (j1 & 1)
			s2 = j2 + (j2 < 0x60 ? 0x1F : 0x20);
		else
			s2 = j2 + 0x7E;
		g_string_append_c(sjis, (char)s1);
		g_string_append_c(sjis, (char)s2);
	}
	sjis_flush(out, cv, sjis);
	g_string_free(sjis, TRUE);
}

static bool has_8bit(const char *in, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)in[i] >= 0x80)
			return true;
	return false;
}

static bool has_jis_escape(const char *in, size_t len)
{
	size_t i;

	for (i = 0; i + 2 < len; i++)
		if (in[i] == 0x1B && (in[i + 1] == '$' || in[i + 1] == '('))
			return true;
	return false;
}

/* How Japanese a decoded text looks: kana, kanji and full-width forms
 * score; half-width katakana and private-use characters (what EUC-JP read
 * as Shift_JIS, or the reverse, mostly turns into) count against. */
static long japanese_score(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	long score = 0;
	size_t i = 0, k;
	unsigned u;

	while (i < n) {
		k = utf8_seq_len(p + i, n - i);
		if (k == 0) {
			i++;
			continue;
		}
		if (k == 1)
			u = p[i];
		else if (k == 2)
			u = (p[i] & 0x1Fu) << 6 | (p[i + 1] & 0x3Fu);
		else if (k == 3)
			u = (p[i] & 0x0Fu) << 12 | (p[i + 1] & 0x3Fu) << 6 | (p[i + 2] & 0x3Fu);
		else
			u = 0x10000; /* outside every range below */
		i += k;
		if ((u >= 0x3040 && u <= 0x30FF) || (u >= 0x4E00 && u <= 0x9FFF) ||
		    (u >= 0x3000 && u <= 0x303F) || (u >= 0xFF01 && u <= 0xFF5E))
			score += 2;
		else if ((u >= 0xFF61 && u <= 0xFF9F) || (u >= 0xE000 && u <= 0xF8FF) ||
			 u == 0xFFFD)
			score -= 3;
	}
	return score;
}

/* No usable label: 7-bit with escapes is ISO-2022-JP, valid UTF-8 is
 * UTF-8, else whichever of CP932 and EUC-JP-MS decodes with fewer errors
 * and reads more like Japanese. */
static void guess_append(GString *out, struct conv *cv, const char *in, size_t len)
{
	GString *a, *b;
	long bad_a, bad_b, sa, sb;
	size_t i;

	if (!has_8bit(in, len)) {
		if (has_jis_escape(in, len))
			jis_append(out, cv, in, len);
		else
			g_string_append_len(out, in, (gssize)len);
		return;
	}
	for (i = 0; i < len;) {
		size_t k = utf8_seq_len((const unsigned char *)in + i, len - i);
		if (k == 0)
			break;
		i += k;
	}
	if (i == len) {
		g_string_append_len(out, in, (gssize)len);
		return;
	}
	a = g_string_new(NULL);
	b = g_string_new(NULL);
	bad_a = conv_append(a, cv, false, in, len);
	bad_b = conv_append(b, cv, true, in, len);
	sa = japanese_score(a->str, a->len) - 8 * bad_a;
	sb = japanese_score(b->str, b->len) - 8 * bad_b;
	if (sb > sa)
		g_string_append_len(out, b->str, (gssize)b->len);
	else
		g_string_append_len(out, a->str, (gssize)a->len);
	g_string_free(a, TRUE);
	g_string_free(b, TRUE);
}

static bool label_in(const char *label, const char *const *names)
{
	for (; *names != NULL; names++)
		if (str_eq_nocase(label, *names))
			return true;
	return false;
}

static const char *const jis_names[] = {
	"iso-2022-jp", "csiso2022jp", "iso2022jp", "iso-2022-jp-ms", "cp50220", "cp50221",
	"cp50222",     "jis",	      "x-jis",	   "iso-2022-jp-1",  NULL,
};
static const char *const sjis_names[] = {
	"shift_jis",   "shift-jis",    "sjis",		 "x-sjis",     "ms_kanji", "csshiftjis",
	"windows-31j", "cp932",	       "ms932",		 "x-ms-cp932", "ibm-943",  "sjis-win",
	"sjis-open",   "x-sjis-cp932", "shift_jis-2004", NULL,
};
static const char *const eucjp_names[] = {
	"euc-jp",   "eucjp",   "x-euc-jp",  "cseucpkdfmtjapanese", "euc-jp-ms",
	"eucjp-ms", "cp51932", "eucjp-win", "eucjp-open",	   NULL,
};
static const char *const utf8_names[] = {"utf-8", "utf8", "unicode-1-1-utf-8", NULL};
static const char *const guess_names[] = {
	"us-ascii", "ascii", "unknown-8bit", "x-unknown", "unknown", "x-user-defined", "8bit", NULL,
};

/* Append len bytes declared as charset (NULL: not declared) as UTF-8. */
static void charset_append(GString *out, struct conv *cv, const char *charset, const char *in,
			   size_t len)
{
	if (charset == NULL || charset[0] == '\0' || label_in(charset, guess_names)) {
		guess_append(out, cv, in, len);
	} else if (label_in(charset, jis_names)) {
		/* ISO-2022-JP is 7-bit: 8-bit bytes mean the label is wrong */
		if (has_8bit(in, len))
			guess_append(out, cv, in, len);
		else
			jis_append(out, cv, in, len);
	} else if (label_in(charset, sjis_names)) {
		(void)conv_append(out, cv, false, in, len);
	} else if (label_in(charset, eucjp_names)) {
		(void)conv_append(out, cv, true, in, len);
	} else if (label_in(charset, utf8_names)) {
		(void)append_utf8(out, in, len);
	} else if (iconv_append(out, charset, in, len) < 0 &&
		   iconv_append(out, g_mime_charset_iconv_name(charset), in, len) < 0) {
		guess_append(out, cv, in, len);
	}
}

/* --- RFC 2047 --- */

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Base64 text of one or more adjacent encoded-words: '=' ends a quantum
 * and the next word starts afresh, so words split at a quantum boundary
 * and words whose base64 itself was split both decode; other characters
 * (bad base64) are skipped. */
static void b64_decode_append(GString *out, const char *in, size_t len)
{
	uint32_t acc = 0;
	int bits = 0, v;
	size_t i;

	for (i = 0; i < len; i++) {
		if (in[i] == '=') {
			acc = 0;
			bits = 0;
			continue;
		}
		v = b64_value((unsigned char)in[i]);
		if (v < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			g_string_append_c(out, (char)((acc >> bits) & 0xFF));
		}
	}
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void q_decode_append(GString *out, const char *in, size_t len)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (in[i] == '_') {
			g_string_append_c(out, ' ');
		} else if (in[i] == '=' && i + 2 < len &&
			   (hi = hex_value((unsigned char)in[i + 1])) >= 0 &&
			   (lo = hex_value((unsigned char)in[i + 2])) >= 0) {
			g_string_append_c(out, (char)(hi << 4 | lo));
			i += 2;
		} else {
			g_string_append_c(out, in[i]);
		}
	}
}

struct eword {
	const char *start, *end;   /* the whole =?…?= */
	const char *cs, *cs_end;   /* charset (RFC 2231 language cut off) */
	const char *txt, *txt_end; /* encoded text */
	char enc;		   /* 'B' or 'Q' */
};

/* Is there an encoded-word at p?  Lenient: the charset may be empty, the
 * text may hold anything but '?' and white space. */
static bool eword_at(const char *p, const char *end, struct eword *w)
{
	const char *q;

	if (end - p < 6 || p[0] != '=' || p[1] != '?')
		return false;
	w->start = p;
	w->cs = p + 2;
	for (q = w->cs; q < end && *q != '?'; q++)
		if (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n' ||
		    q - w->cs >= MAX_CHARSET_NAME)
			return false;
	if (q + 3 >= end)
		return false;
	w->cs_end = memchr(w->cs, '*', (size_t)(q - w->cs));
	if (w->cs_end == NULL)
		w->cs_end = q;
	w->enc = (char)(q[1] & ~0x20);
	if ((w->enc != 'B' && w->enc != 'Q') || q[2] != '?')
		return false;
	w->txt = q + 3;
	for (q = w->txt; q + 1 < end; q++) {
		if (q - w->txt > MAX_EWORD_TEXT)
			return false;
		if (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
			return false;
		if (q[0] == '?' && q[1] == '=')
			break;
	}
	if (q + 1 >= end)
		return false;
	w->txt_end = q;
	w->end = q + 2;
	return true;
}

static bool is_lwsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Decode a raw header value: encoded-words, raw 8-bit text (guessed), and
 * plain ASCII.  Adjacent encoded-words in the same charset are joined
 * before conversion, so a multibyte character split across two words (or
 * an ISO-2022-JP escape state carried from one word to the next) decodes
 * whole; white space between encoded-words is dropped (RFC 2047 6.2).
 */
static void header_decode(GString *out, struct conv *cv, const char *val, size_t len)
{
	const char *p = val, *end = val + len, *q, *plain;
	struct eword w, next;
	GString *bytes = g_string_new(NULL), *b64 = g_string_new(NULL);
	char cs[MAX_CHARSET_NAME + 1];
	size_t cslen;

	plain = p;
	while (p < end) {
		if (!eword_at(p, end, &w)) {
			p++;
			continue;
		}
		if (p > plain)
			charset_append(out, cv, NULL, plain, (size_t)(p - plain));
		cslen = (size_t)(w.cs_end - w.cs);
		memcpy(cs, w.cs, cslen);
		cs[cslen] = '\0';
		g_string_truncate(bytes, 0);
		for (;;) {
			if (w.enc == 'B') {
				g_string_append_len(b64, w.txt, w.txt_end - w.txt);
			} else {
				b64_decode_append(bytes, b64->str, b64->len);
				g_string_truncate(b64, 0);
				q_decode_append(bytes, w.txt, (size_t)(w.txt_end - w.txt));
			}
			p = w.end;
			for (q = p; q < end && is_lwsp(*q); q++)
				;
			if (!eword_at(q, end, &next) || (size_t)(next.cs_end - next.cs) != cslen ||
			    g_ascii_strncasecmp(next.cs, cs, cslen) != 0)
				break;
			w = next;
		}
		b64_decode_append(bytes, b64->str, b64->len);
		g_string_truncate(b64, 0);
		charset_append(out, cv, cs, bytes->str, bytes->len);
		/* white space between this word and a following word in
		 * another charset is dropped too */
		for (q = p; q < end && is_lwsp(*q); q++)
			;
		if (q < end && eword_at(q, end, &next))
			p = q;
		plain = p;
	}
	if (end > plain)
		charset_append(out, cv, NULL, plain, (size_t)(end - plain));
	g_string_free(bytes, TRUE);
	g_string_free(b64, TRUE);
}

/* --- text normalisation --- */

/* Is the character at s (valid UTF-8) a control character to drop?  C0 but
 * \t and \n, DEL, C1, and the byte-order mark. */
static size_t control_len(const unsigned char *s, size_t n)
{
	if (s[0] < 0x20 && s[0] != '\t' && s[0] != '\n')
		return 1;
	if (s[0] == 0x7F)
		return 1;
	if (n >= 2 && s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F)
		return 2;
	if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
		return 3;
	return 0;
}

/* The body rules of mail.h.  in is valid UTF-8. */
static char *normalise_body(const char *in, size_t len)
{
	GString *out = g_string_sized_new(len + 1), *line = g_string_new(NULL);
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, k, blank = 0;

	while (i <= len) {
		if (i == len || s[i] == '\n' || s[i] == '\r') {
			while (line->len > 0 && (line->str[line->len - 1] == ' ' ||
						 line->str[line->len - 1] == '\t'))
				g_string_truncate(line, line->len - 1);
			if (line->len == 0) {
				if (out->len > 0)
					blank++;
			} else {
				/* the blank lines before a text line, at most two */
				if (out->len > 0) {
					g_string_append_c(out, '\n');
					for (k = 0; k < blank && k < 2; k++)
						g_string_append_c(out, '\n');
				}
				g_string_append_len(out, line->str, (gssize)line->len);
				g_string_truncate(line, 0);
				blank = 0;
			}
			if (i == len)
				break;
			if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
				i++;
			i++;
			continue;
		}
		k = control_len(s + i, len - i);
		if (k > 0) {
			i += k;
			continue;
		}
		g_string_append_c(line, (char)s[i]);
		i++;
	}
	g_string_free(line, TRUE);
	return g_string_free(out, FALSE);
}

/* One line: every run of ASCII white space becomes one space, controls
 * go, both ends trimmed. */
static char *one_line(const char *in, size_t len)
{
	GString *out = g_string_sized_new(len + 1);
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, k;
	bool space = false;

	while (i < len) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
			space = out->len > 0;
			i++;
			continue;
		}
		k = control_len(s + i, len - i);
		if (k > 0) {
			i += k;
			continue;
		}
		if (space)
			g_string_append_c(out, ' ');
		space = false;
		g_string_append_c(out, (char)s[i]);
		i++;
	}
	return g_string_free(out, FALSE);
}

/* --- HTML to text --- */

struct entity {
	const char *name;
	unsigned cp;
};

static const struct entity entities[] = {
	{"amp", '&'},	   {"lt", '<'},	      {"gt", '>'},	  {"quot", '"'},
	{"apos", '\''},	   {"nbsp", ' '},     {"copy", 0xA9},	  {"reg", 0xAE},
	{"yen", 0xA5},	   {"times", 0xD7},   {"divide", 0xF7},	  {"middot", 0xB7},
	{"laquo", 0xAB},   {"raquo", 0xBB},   {"hellip", 0x2026}, {"mdash", 0x2014},
	{"ndash", 0x2013}, {"bull", 0x2022},  {"rarr", 0x2192},	  {"larr", 0x2190},
	{"uarr", 0x2191},  {"darr", 0x2193},  {"trade", 0x2122},  {"lsquo", 0x2018},
	{"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D},  {"deg", 0xB0},
	{"plusmn", 0xB1},  {"sect", 0xA7},    {"para", 0xB6},	  {"ensp", ' '},
	{"emsp", ' '},	   {"thinsp", ' '},   {"euro", 0x20AC},	  {"pound", 0xA3},
	{"cent", 0xA2},	   {"shy", 0xAD},     {"zwj", 0x200D},	  {"zwnj", 0x200C},
};

static void append_cp(GString *out, unsigned cp)
{
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		append_replacement(out);
	else
		g_string_append_unichar(out, (gunichar)cp);
}

/* Decode the entity at s[0] == '&'; returns the bytes consumed, 0 when it
 * is no entity (the '&' is then text). */
static size_t entity_decode(GString *out, const char *s, size_t n)
{
	size_t i, k;
	unsigned long cp = 0;
	bool hex;

	if (n >= 3 && s[1] == '#') {
		hex = s[2] == 'x' || s[2] == 'X';
		i = hex ? 3 : 2;
		k = i;
		while (i < n && i - k < 8 &&
		       (hex ? g_ascii_isxdigit(s[i]) : g_ascii_isdigit(s[i]))) {
			cp = cp * (hex ? 16 : 10) +
			     (unsigned long)(hex ? g_ascii_xdigit_value(s[i]) : s[i] - '0');
			i++;
		}
		if (i == k || (i < n && g_ascii_isxdigit(s[i])))
			return 0;
		append_cp(out, cp > 0x10FFFF ? 0 : (unsigned)cp);
		return i < n && s[i] == ';' ? i + 1 : i;
	}
	for (i = 1; i < n && i < 12 && g_ascii_isalnum(s[i]); i++)
		;
	if (i >= n || s[i] != ';')
		return 0;
	for (k = 0; k < sizeof(entities) / sizeof(entities[0]); k++) {
		if (strlen(entities[k].name) == i - 1 &&
		    memcmp(entities[k].name, s + 1, i - 1) == 0) {
			append_cp(out, entities[k].cp);
			return i + 1;
		}
	}
	return 0;
}

static void entities_append(GString *out, const char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if (s[i] == '&' && (k = entity_decode(out, s + i, n - i)) > 0) {
			i += k;
			continue;
		}
		g_string_append_c(out, s[i]);
		i++;
	}
}

static bool name_in(const char *name, size_t n, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == n && g_ascii_strncasecmp(*list, name, n) == 0)
			return true;
	return false;
}

/* Elements that end a line, and those that also leave a blank line. */
static const char *const block_tags[] = {
	"div",	  "li",	     "tr",	"dt",	"dd",	  "section",  "article", "header",
	"footer", "nav",     "address", "form", "center", "fieldset", "figure",	 "main",
	"aside",  "caption", "option",	"body", "html",	  NULL,
};
static const char *const para_tags[] = {
	"p",  "h1", "h2",    "h3",	   "h4",  "h5", "h6", "ul",
	"ol", "dl", "table", "blockquote", "pre", "hr", NULL,
};
/* Elements whose content is no text at all. */
static const char *const skip_tags[] = {"script",   "style",	"title",  "head",
					"noscript", "template", "object", NULL};

struct html {
	GString *out;
	bool pre;	   /* inside <pre>: white space as is */
	bool space;	   /* a space is pending */
	size_t link_start; /* where the current link's text began */
	char *href;	   /* the current link's target, or NULL */
};

static void html_newlines(struct html *h, size_t want)
{
	size_t have = 0;

	h->space = false;
	if (h->out->len == 0)
		return;
	while (have < h->out->len && h->out->str[h->out->len - 1 - have] == '\n')
		have++;
	for (; have < want; have++)
		g_string_append_c(h->out, '\n');
}

static void html_text(struct html *h, const char *s, size_t n)
{
	GString *t = g_string_new(NULL);
	size_t i;

	entities_append(t, s, n);
	for (i = 0; i < t->len; i++) {
		char c = t->str[i];
		if (!h->pre && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
			h->space = true;
			continue;
		}
		if (h->space && h->out->len > 0 && h->out->str[h->out->len - 1] != '\n')
			g_string_append_c(h->out, ' ');
		h->space = false;
		g_string_append_c(h->out, c);
	}
	g_string_free(t, TRUE);
}

/* The value of attribute name in a tag's attribute text, entities decoded;
 * NULL when absent.  Caller frees with g_free(). */
static char *html_attr(const char *a, size_t n, const char *name)
{
	size_t i = 0, k, nlen = strlen(name), vs, ve;
	char quote;
	GString *v;

	while (i < n) {
		while (i < n && (is_lwsp(a[i]) || a[i] == '/'))
			i++;
		k = i;
		while (i < n && !is_lwsp(a[i]) && a[i] != '=' && a[i] != '>' && a[i] != '/')
			i++;
		if (i == k) {
			i++;
			continue;
		}
		bool match = i - k == nlen && g_ascii_strncasecmp(a + k, name, nlen) == 0;
		while (i < n && is_lwsp(a[i]))
			i++;
		if (i >= n || a[i] != '=') {
			if (match)
				return g_strdup("");
			continue;
		}
		i++;
		while (i < n && is_lwsp(a[i]))
			i++;
		if (i < n && (a[i] == '"' || a[i] == '\'')) {
			quote = a[i++];
			vs = i;
			while (i < n && a[i] != quote)
				i++;
			ve = i;
			if (i < n)
				i++;
		} else {
			vs = i;
			while (i < n && !is_lwsp(a[i]) && a[i] != '>')
				i++;
			ve = i;
		}
		if (match) {
			v = g_string_new(NULL);
			entities_append(v, a + vs, ve - vs);
			return g_string_free(v, FALSE);
		}
	}
	return NULL;
}

static bool link_worth_showing(const char *href)
{
	return g_ascii_strncasecmp(href, "http://", 7) == 0 ||
	       g_ascii_strncasecmp(href, "https://", 8) == 0 ||
	       g_ascii_strncasecmp(href, "mailto:", 7) == 0 ||
	       g_ascii_strncasecmp(href, "tel:", 4) == 0;
}

/* A link closes: "text (URL)" unless the text already is the URL. */
static void html_link_end(struct html *h)
{
	char *text, *url;
	const char *bare;

	if (h->href == NULL)
		return;
	url = g_strstrip(h->href);
	text = g_strstrip(g_strndup(h->out->str + h->link_start, h->out->len - h->link_start));
	bare = url;
	if (g_ascii_strncasecmp(bare, "mailto:", 7) == 0 ||
	    g_ascii_strncasecmp(bare, "tel:", 4) == 0)
		bare = strchr(bare, ':') + 1;
	if (link_worth_showing(url) && strcmp(text, url) != 0 && strcmp(text, bare) != 0) {
		if (text[0] == '\0') {
			g_string_append(h->out, bare);
		} else {
			g_string_append(h->out, " (");
			g_string_append(h->out, bare);
			g_string_append_c(h->out, ')');
		}
	}
	g_free(text);
	g_free(h->href);
	h->href = NULL;
}

/* Find the end of the element whose content is skipped: "</name". */
static size_t skip_to_close(const char *s, size_t n, size_t i, const char *name, size_t nlen)
{
	for (; i + 2 + nlen <= n; i++)
		if (s[i] == '<' && s[i + 1] == '/' &&
		    g_ascii_strncasecmp(s + i + 2, name, nlen) == 0)
			return i;
	return n;
}

static GString *html_to_text(const char *s, size_t n)
{
	struct html h = {.out = g_string_sized_new(n / 2 + 1)};
	size_t i = 0, text_start = 0, k, nlen, tag_end;
	const char *name;
	bool closing;
	char *v;

	while (i < n) {
		if (s[i] != '<') {
			i++;
			continue;
		}
		html_text(&h, s + text_start, i - text_start);
		if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
			const char *e = g_strstr_len(s + i + 4, (gssize)(n - i - 4), "-->");
			i = e != NULL ? (size_t)(e - s) + 3 : n;
			text_start = i;
			continue;
		}
		k = i + 1;
		closing = k < n && s[k] == '/';
		if (closing)
			k++;
		name = s + k;
		while (k < n && (g_ascii_isalnum(s[k]) || s[k] == '-' || s[k] == ':'))
			k++;
		nlen = (size_t)(s + k - name);
		if (nlen == 0 && !(k < n && (s[k] == '!' || s[k] == '?'))) {
			/* "<" that starts no tag is text */
			text_start = i;
			i++;
			continue;
		}
		/* the tag ends at the first '>' outside quotes */
		{
			char q = 0;
			for (tag_end = k; tag_end < n; tag_end++) {
				if (q != 0) {
					if (s[tag_end] == q)
						q = 0;
				} else if (s[tag_end] == '"' || s[tag_end] == '\'') {
					q = s[tag_end];
				} else if (s[tag_end] == '>') {
					break;
				}
			}
		}
		i = tag_end < n ? tag_end + 1 : n;
		text_start = i;
		if (nlen == 0)
			continue; /* <!DOCTYPE>, <?xml?> */
		if (!closing && name_in(name, nlen, skip_tags)) {
			i = skip_to_close(s, n, i, name, nlen);
			if (i < n) {
				const char *gt = memchr(s + i, '>', n - i);
				i = gt != NULL ? (size_t)(gt - s) + 1 : n;
			}
			text_start = i;
			continue;
		}
		if (name_in(name, nlen, (const char *const[]){"br", NULL})) {
			g_string_append_c(h.out, '\n');
			h.space = false;
		} else if (name_in(name, nlen, para_tags)) {
			html_newlines(&h, 2);
			if (name_in(name, nlen, (const char *const[]){"pre", NULL}))
				h.pre = !closing;
		} else if (name_in(name, nlen, block_tags)) {
			html_newlines(&h, 1);
			if (!closing && name_in(name, nlen, (const char *const[]){"li", NULL}))
				g_string_append(h.out, "・");
		} else if (name_in(name, nlen, (const char *const[]){"td", "th", NULL})) {
			if (!closing)
				h.space = true;
		} else if (name_in(name, nlen, (const char *const[]){"a", NULL})) {
			if (closing) {
				html_link_end(&h);
			} else {
				html_link_end(&h);
				h.href = html_attr(name + nlen,
						   (size_t)(s + tag_end - (name + nlen)), "href");
				if (h.space && h.out->len > 0 && h.out->str[h.out->len - 1] != '\n')
					g_string_append_c(h.out, ' ');
				h.space = false;
				h.link_start = h.out->len;
			}
		} else if (!closing && name_in(name, nlen, (const char *const[]){"img", NULL})) {
			v = html_attr(name + nlen, (size_t)(s + tag_end - (name + nlen)), "alt");
			if (v != NULL)
				html_text(&h, v, strlen(v));
			g_free(v);
		}
	}
	html_text(&h, s + text_start, n - text_start);
	html_link_end(&h);
	return h.out;
}

/* The charset an HTML document declares in a <meta>, or NULL. */
static char *html_meta_charset(const char *s, size_t n)
{
	size_t lim = n < 4096 ? n : 4096, i, k;
	const char *p;

	for (i = 0; i + 8 < lim; i++) {
		if (g_ascii_strncasecmp(s + i, "charset=", 8) != 0)
			continue;
		p = s + i + 8;
		if (p < s + lim && (*p == '"' || *p == '\''))
			p++;
		for (k = 0; p + k < s + lim && k < 40 &&
			    (g_ascii_isalnum(p[k]) || p[k] == '-' || p[k] == '_' || p[k] == '.' ||
			     p[k] == ':');
		     k++)
			;
		if (k > 0)
			return g_ascii_strdown(p, (gssize)k);
	}
	return NULL;
}

/* --- limits while GMime parses --- */

/*
 * A count-min sketch of the lines that start with "--", keyed by the rest
 * of the line: for a boundary B the sketch gives an upper bound on the
 * lines "--B", that is on the parts a multipart with that boundary will
 * have, in fixed memory and one pass.  The header callback learns each
 * boundary exactly as GMime will use it (from GMime's own Content-Type
 * parser), so the part count is known before GMime builds the parts.
 */
struct sketch {
	uint32_t row[2][SKETCH_WIDTH];
};

static uint32_t sketch_hash(const char *s, size_t n, uint64_t seed)
{
	uint64_t h = 1469598103934665603ull ^ seed;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	h ^= h >> 29;
	return (uint32_t)(h % SKETCH_WIDTH);
}

#define SEED0 0x9E3779B97F4A7C15ull
#define SEED1 0xC2B2AE3D27D4EB4Full

static void sketch_add(struct sketch *sk, const char *s, size_t n)
{
	uint32_t *a = &sk->row[0][sketch_hash(s, n, SEED0)];
	uint32_t *b = &sk->row[1][sketch_hash(s, n, SEED1)];

	if (*a < UINT32_MAX)
		(*a)++;
	if (*b < UINT32_MAX)
		(*b)++;
}

static uint32_t sketch_count(const struct sketch *sk, const char *s, size_t n)
{
	uint32_t a = sk->row[0][sketch_hash(s, n, SEED0)];
	uint32_t b = sk->row[1][sketch_hash(s, n, SEED1)];

	return a < b ? a : b;
}

static void sketch_fill(struct sketch *sk, const char *raw, size_t len)
{
	size_t i = 0, e;
	const char *nl;

	while (i < len) {
		nl = memchr(raw + i, '\n', len - i);
		e = nl != NULL ? (size_t)(nl - raw) : len;
		if (e - i >= 2 && raw[i] == '-' && raw[i + 1] == '-') {
			size_t t = e;
			while (t > i + 2 && is_lwsp(raw[t - 1]))
				t--;
			sketch_add(sk, raw + i + 2, t - (i + 2));
		}
		i = e + 1;
	}
}

struct dec {
	const struct mail_limits *lim;
	GMimeStream *stream;
	struct sketch *sk;
	size_t headers;
	size_t parts_estimate;
	bool failed;
	char *err;
	size_t errlen;
};

/* Stop GMime reading: the stream ends where it is now. */
static void parse_stop(struct dec *d)
{
	d->failed = true;
	g_mime_stream_set_bounds(d->stream, d->stream->bound_start, d->stream->position);
}

/* A header name fit for an error message. */
static void printable_name(char *dst, size_t size, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < size && name[i] != '\0'; i++)
		dst[i] = name[i] > 0x20 && name[i] < 0x7F ? name[i] : '?';
	dst[i] = '\0';
}

static void on_header(GMimeParser *parser, const char *name, const char *value, gint64 offset,
		      gpointer user_data)
{
	struct dec *d = user_data;
	size_t flen;
	char pname[41];
	GMimeContentType *ct;
	const char *b, *p;
	size_t blen;

	(void)parser;
	(void)offset;
	if (d->failed)
		return;
	if (++d->headers > d->lim->max_headers) {
		str_msg(d->err, d->errlen, "mail has more than %zu header fields",
			d->lim->max_headers);
		parse_stop(d);
		return;
	}
	/* unfolded: the line breaks of folding do not count */
	flen = strlen(name) + 1;
	for (p = value; p != NULL && *p != '\0'; p++)
		if (*p != '\r' && *p != '\n')
			flen++;
	if (flen > d->lim->max_header_line) {
		printable_name(pname, sizeof(pname), name);
		str_msg(d->err, d->errlen, "header field %s is %zu bytes, over the %zu-byte limit",
			pname, flen, d->lim->max_header_line);
		parse_stop(d);
		return;
	}
	if (value == NULL || g_ascii_strcasecmp(name, "Content-Type") != 0)
		return;
	ct = g_mime_content_type_parse(parser_opts, value);
	if (ct == NULL)
		return;
	if (g_mime_content_type_is_type(ct, "multipart", "*")) {
		b = g_mime_content_type_get_parameter(ct, "boundary");
		if (b != NULL) {
			/* GMime takes "--B" followed by white space as the
			 * boundary too: the sketch's keys are stripped alike */
			blen = strlen(b);
			while (blen > 0 && is_lwsp(b[blen - 1]))
				blen--;
			d->parts_estimate += sketch_count(d->sk, b, blen);
		}
	} else if (g_mime_content_type_is_type(ct, "message", "*")) {
		d->parts_estimate++;
	}
	g_object_unref(ct);
	if (d->parts_estimate > d->lim->max_parts) {
		str_msg(d->err, d->errlen, "mail has more than %zu MIME parts", d->lim->max_parts);
		parse_stop(d);
	}
}

/* --- walking the tree --- */

struct pick {
	GMimeObject *plain[16];
	size_t nplain;
	GMimeObject *html[16];
	size_t nhtml;
	size_t parts;
};

static int walk(struct dec *d, struct pick *pk, GMimeObject *obj, size_t depth, bool inner)
{
	GMimeContentType *ct;
	GMimeContentDisposition *disp;
	GMimeMessage *m;
	int i, n;

	if (depth > d->lim->max_mime_depth) {
		str_msg(d->err, d->errlen, "MIME parts are nested more than %zu deep",
			d->lim->max_mime_depth);
		return -1;
	}
	if (++pk->parts > d->lim->max_parts) {
		str_msg(d->err, d->errlen, "mail has more than %zu MIME parts", d->lim->max_parts);
		return -1;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		n = g_mime_multipart_get_count((GMimeMultipart *)obj);
		for (i = 0; i < n; i++)
			if (walk(d, pk, g_mime_multipart_get_part((GMimeMultipart *)obj, i),
				 depth + 1, inner) < 0)
				return -1;
		return 0;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		/* a forwarded mail: counted, but its text is not the alert */
		m = g_mime_message_part_get_message((GMimeMessagePart *)obj);
		if (m != NULL && g_mime_message_get_mime_part(m) != NULL)
			return walk(d, pk, g_mime_message_get_mime_part(m), depth + 1, true);
		return 0;
	}
	if (!GMIME_IS_PART(obj) || inner)
		return 0;
	disp = g_mime_object_get_content_disposition(obj);
	if (disp != NULL && g_mime_content_disposition_is_attachment(disp))
		return 0;
	ct = g_mime_object_get_content_type(obj);
	if (ct == NULL)
		return 0;
	if (g_mime_content_type_is_type(ct, "text", "plain")) {
		if (pk->nplain < sizeof(pk->plain) / sizeof(pk->plain[0]))
			pk->plain[pk->nplain++] = obj;
	} else if (g_mime_content_type_is_type(ct, "text", "html")) {
		if (pk->nhtml < sizeof(pk->html) / sizeof(pk->html[0]))
			pk->html[pk->nhtml++] = obj;
	}
	return 0;
}

/* The part's content with its transfer encoding undone. */
static GByteArray *part_bytes(GMimeObject *obj)
{
	GMimeDataWrapper *w = g_mime_part_get_content((GMimePart *)obj);
	GByteArray *ba = g_byte_array_new();
	GMimeStream *mem;

	if (w == NULL)
		return ba;
	mem = g_mime_stream_mem_new_with_byte_array(ba);
	g_mime_stream_mem_set_owner((GMimeStreamMem *)mem, FALSE);
	(void)g_mime_data_wrapper_write_to_stream(w, mem);
	g_object_unref(mem);
	return ba;
}

/* A charset label in lower case, anything but printable ASCII made '?'
 * (it ends up in logs and the database). */
static char *lower_dup(const char *s)
{
	char *r, *p;

	if (s == NULL || s[0] == '\0')
		return NULL;
	r = g_ascii_strdown(s, -1);
	for (p = r; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7F)
			*p = '?';
	return r;
}

/* Decode one candidate into normalised UTF-8 (g_free) and its charset. */
static char *part_text(struct conv *cv, GMimeObject *obj, bool html, char **charset)
{
	GByteArray *ba = part_bytes(obj);
	GString *u = g_string_new(NULL);
	char *cs = lower_dup(g_mime_object_get_content_type_parameter(obj, "charset"));
	GString *text;
	char *norm;

	if (html && cs == NULL)
		cs = html_meta_charset((const char *)ba->data, ba->len);
	charset_append(u, cv, cs, (const char *)ba->data, ba->len);
	g_byte_array_free(ba, TRUE);
	if (html) {
		text = html_to_text(u->str, u->len);
		norm = normalise_body(text->str, text->len);
		g_string_free(text, TRUE);
	} else {
		norm = normalise_body(u->str, u->len);
	}
	g_string_free(u, TRUE);
	*charset = cs;
	return norm;
}

/* --- the rest of the header --- */

/* Message-ID without <>, or NULL when missing or bogus: one msg-id of
 * printable ASCII with an '@' inside, at most MAX_MSGID bytes. */
static char *parse_message_id(const char *raw)
{
	const char *p, *s, *e, *at;
	size_t n, i;

	if (raw == NULL)
		return NULL;
	for (p = raw; is_lwsp(*p); p++)
		;
	if (*p == '<') {
		s = p + 1;
		e = strchr(s, '>');
		if (e == NULL)
			return NULL;
		for (p = e + 1; is_lwsp(*p); p++)
			;
		if (*p != '\0' && *p != '(')
			return NULL; /* something after the id */
	} else {
		s = p;
		for (e = s; *e != '\0' && !is_lwsp(*e); e++)
			;
		for (p = e; is_lwsp(*p); p++)
			;
		if (*p != '\0')
			return NULL;
	}
	n = (size_t)(e - s);
	if (n == 0 || n > MAX_MSGID)
		return NULL;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7F || s[i] == '<' ||
		    s[i] == '>')
			return NULL;
	at = memchr(s, '@', n);
	if (at == NULL || at == s || at == e - 1)
		return NULL;
	return strndup(s, n);
}

static const char *header_raw(GMimeObject *obj, const char *name)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	GMimeHeader *h;

	if (hl == NULL)
		return NULL;
	h = g_mime_header_list_get_header(hl, name);
	return h != NULL ? g_mime_header_get_raw_value(h) : NULL;
}

static char *from_addr(GMimeMessage *msg)
{
	InternetAddressList *l = g_mime_message_get_from(msg);
	InternetAddress *a;
	const char *addr;
	GString *u;
	char *r;

	if (l == NULL || internet_address_list_length(l) < 1)
		return NULL;
	a = internet_address_list_get_address(l, 0);
	if (INTERNET_ADDRESS_IS_GROUP(a)) {
		l = internet_address_group_get_members((InternetAddressGroup *)a);
		if (l == NULL || internet_address_list_length(l) < 1)
			return NULL;
		a = internet_address_list_get_address(l, 0);
	}
	if (!INTERNET_ADDRESS_IS_MAILBOX(a))
		return NULL;
	addr = internet_address_mailbox_get_addr((InternetAddressMailbox *)a);
	if (addr == NULL || addr[0] == '\0')
		return NULL;
	u = g_string_new(NULL);
	(void)append_utf8(u, addr, strlen(addr));
	r = one_line(u->str, u->len);
	g_string_free(u, TRUE);
	if (r[0] == '\0') {
		g_free(r);
		return NULL;
	}
	return r;
}

/* --- mail_decode --- */

/* Is the line at s a header field ("Name:" with a printable name)? */
static bool is_header_line(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ':')
			return i > 0;
		if (c == ' ' || c == '\t') {
			/* "Name :" is tolerated, "some words:" is not */
			while (i < n && (s[i] == ' ' || s[i] == '\t'))
				i++;
			return i > 0 && i < n && s[i] == ':' && s[0] != ' ' && s[0] != '\t';
		}
		if (c <= 0x20 || c >= 0x7F)
			return false;
	}
	return false;
}

/* A g_malloc'd string as a malloc'd one (the alert is freed with free()). */
static bool take(char **dst, char *gstr)
{
	if (gstr == NULL) {
		*dst = NULL;
		return true;
	}
	*dst = strdup(gstr);
	g_free(gstr);
	return *dst != NULL;
}

static enum hl_status out_of_memory(char *err, size_t errlen)
{
	str_msg(err, errlen, "out of memory");
	return HL_TEMPFAIL;
}

static bool sha256_key(const char *raw, size_t len, char **out)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char hex[65];

	if (EVP_Digest(raw, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != sizeof(md))
		return false;
	if (!str_hex(md, sizeof(md), hex, sizeof(hex)))
		return false;
	*out = str_dup_printf("sha256:%s", hex);
	return *out != NULL;
}

enum hl_status mail_decode(const char *raw, size_t len, const struct mail_limits *lim,
			   struct mail_alert **out, char *err, size_t errlen)
{
	enum hl_status st = HL_PERMFAIL;
	struct mail_limits deflim;
	struct dec d = {0};
	struct pick pk = {0};
	struct conv cv = {(iconv_t)-1, (iconv_t)-1};
	struct mail_alert *a = NULL;
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *msg = NULL;
	GMimeObject *root;
	GDateTime *dt;
	GString *subj = NULL;
	const char *start = raw, *nl, *v;
	char *text = NULL, *cs = NULL, *cand;
	size_t skip = 0, i, firstlen;
	bool ok;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (lim == NULL) {
		mail_limits_default(&deflim);
		lim = &deflim;
	}
	if (len > lim->max_bytes) {
		str_msg(err, errlen, "mail is %zu bytes, over the %zu-byte limit", len,
			lim->max_bytes);
		goto fail;
	}
	if (len == 0) {
		str_msg(err, errlen, "not a mail: empty input");
		goto fail;
	}
	/* An mbox "From " line before the header is tolerated. */
	if (len > 5 && memcmp(raw, "From ", 5) == 0) {
		nl = memchr(raw, '\n', len);
		skip = nl != NULL ? (size_t)(nl - raw) + 1 : len;
		start = raw + skip;
	}
	nl = memchr(start, '\n', len - skip);
	firstlen = nl != NULL ? (size_t)(nl - start) : len - skip;
	if (!is_header_line(start, firstlen)) {
		str_msg(err, errlen, "not a mail: no header fields");
		goto fail;
	}

	pthread_once(&gmime_once, gmime_setup);
	d.lim = lim;
	d.err = err;
	d.errlen = errlen;
	d.sk = calloc(1, sizeof(*d.sk));
	a = calloc(1, sizeof(*a));
	if (d.sk == NULL || a == NULL) {
		st = out_of_memory(err, errlen);
		goto fail;
	}
	sketch_fill(d.sk, start, len - skip);

	/* The mem stream holds a copy of the bytes; with persist_stream the
	 * parts' contents stay in it as substreams instead of being copied
	 * again, so a 20 MB attachment costs nothing more. */
	d.stream = stream = g_mime_stream_mem_new_with_buffer(start, len - skip);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_persist_stream(parser, TRUE);
	g_mime_parser_set_header_regex(parser, ".*", on_header, &d);
	msg = g_mime_parser_construct_message(parser, parser_opts);
	if (d.failed)
		goto fail;
	if (msg == NULL) {
		str_msg(err, errlen, "not a mail: no header fields");
		goto fail;
	}
	root = g_mime_message_get_mime_part(msg);
	if (root != NULL && walk(&d, &pk, root, 1, false) < 0)
		goto fail;

	/* Message-ID and the de-duplication key */
	a->message_id = parse_message_id(header_raw((GMimeObject *)msg, "Message-ID"));
	if (a->message_id != NULL)
		a->dedupe_key = str_dup_printf("mid:%s", a->message_id);
	else if (!sha256_key(raw, len, &a->dedupe_key))
		a->dedupe_key = NULL;
	if (a->dedupe_key == NULL) {
		st = out_of_memory(err, errlen);
		goto fail;
	}

	/* Subject: one line */
	subj = g_string_new(NULL);
	v = header_raw((GMimeObject *)msg, "Subject");
	if (v != NULL)
		header_decode(subj, &cv, v, strlen(v));
	if (!take(&a->subject, one_line(subj->str, subj->len)) ||
	    !take(&a->header_from, from_addr(msg))) {
		st = out_of_memory(err, errlen);
		goto fail;
	}
	dt = g_mime_message_get_date(msg);
	a->date = dt != NULL ? (long long)g_date_time_to_unix(dt) : 0;

	/* Body: the first text/plain with text in it, else the first HTML,
	 * else an empty text/plain, else nothing. */
	for (i = 0; i < pk.nplain && text == NULL; i++) {
		cand = part_text(&cv, pk.plain[i], false, &cs);
		if (cand[0] != '\0' || (i + 1 == pk.nplain && pk.nhtml == 0)) {
			text = cand;
			break;
		}
		g_free(cand);
		g_free(cs);
		cs = NULL;
	}
	if (text == NULL && pk.nhtml > 0) {
		text = part_text(&cv, pk.html[0], true, &cs);
		a->from_html = true;
	}
	if (text == NULL)
		text = g_strdup("");
	if (strlen(text) > lim->max_text_bytes) {
		str_msg(err, errlen, "body text is %zu bytes, over the %zu-byte limit",
			strlen(text), lim->max_text_bytes);
		goto fail;
	}
	ok = take(&a->body, text);
	ok = take(&a->charset, cs) && ok;
	text = NULL; /* take() freed both */
	cs = NULL;
	if (!ok) {
		st = out_of_memory(err, errlen);
		goto fail;
	}

	st = HL_OK;
	*out = a;
	a = NULL;
fail:
	g_free(text);
	g_free(cs);
	if (subj != NULL)
		g_string_free(subj, TRUE);
	if (msg != NULL)
		g_object_unref(msg);
	if (parser != NULL)
		g_object_unref(parser);
	if (stream != NULL)
		g_object_unref(stream);
	conv_close(&cv);
	free(d.sk);
	mail_alert_free(a);
	return st;
}
