/*
 * textsplit — cutting a long text into LINE text messages; see textsplit.h.
 *
 * The text is decoded once into code points with, for each boundary between
 * two of them, a level: 0 where a cut is forbidden (inside a character as a
 * reader sees it, or inside a URL), then 1 paragraph break, 2 sentence end,
 * 3 line end (mail is often wrapped mid-sentence, so a 。 is the better
 * cut), 4 comma or space, 5 anywhere else.  Each message is then the
 * longest run that fits, ending at the best level that still leaves the
 * message at least half full.  Greedy is enough here: LINE's 5 × 5000 is far
 * more than an alert, and the cut points only need to be sensible.
 *
 * Grapheme clusters are approximated with the rules that matter for Japanese
 * alerts and emoji (not the whole of UAX #29): a combining mark, variation
 * selector, emoji modifier, tag or ZWJ stays with what precedes it, the
 * character after a ZWJ stays with it, regional indicators pair into flags,
 * and CR LF stays whole.
 */
#include "textsplit.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"
#include "utf8.h"

enum {
	CUT_NEVER = 0,
	CUT_PARAGRAPH = 1,
	CUT_SENTENCE = 2,
	CUT_LINE = 3,
	CUT_PHRASE = 4,
	CUT_ANY = 5,
	/* Inside a URL but between two characters: cut only when a URL
	 * longer than a whole message must be (TEXTSPLIT_CUT_LONG_URLS). */
	CUT_URL = 6,
};

size_t textsplit_utf16_units(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k, units = 0;
	uint32_t cp;

	while (n > 0) {
		k = utf8_decode(p, n, &cp);
		if (k == 0)
			return (size_t)-1;
		units += cp >= 0x10000 ? 2 : 1;
		p += k;
		n -= k;
	}
	return units;
}

/* UTF-16 units of s but ASCII white space; invalid bytes count 1 (decode()
 * reports them). */
static size_t visible_units(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t units = 0;

	for (; *p != '\0'; p++) {
		if ((*p & 0xc0) == 0x80 || *p == ' ' || (*p >= '\t' && *p <= '\r'))
			continue; /* continuation bytes are counted with their lead */
		units += *p >= 0xf0 ? 2 : 1;
	}
	return units;
}

/* Characters that belong to the one before them. */
static const struct {
	uint32_t lo, hi;
} extenders[] = {
	{0x0300, 0x036f},   /* combining diacritical marks */
	{0x1ab0, 0x1aff},   /* combining marks, extended */
	{0x1dc0, 0x1dff},   /* combining marks, supplement */
	{0x200d, 0x200d},   /* ZERO WIDTH JOINER */
	{0x20d0, 0x20ff},   /* combining marks for symbols, incl. the keycap U+20E3 */
	{0x3099, 0x309a},   /* combining kana voiced sound marks */
	{0xfe00, 0xfe0f},   /* variation selectors (VS16 makes an emoji) */
	{0xfe20, 0xfe2f},   /* combining half marks */
	{0x1f3fb, 0x1f3ff}, /* emoji skin tone modifiers */
	{0xe0020, 0xe007f}, /* tags (subdivision flags such as England) */
	{0xe0100, 0xe01ef}, /* ideographic variation selectors */
};

static bool is_extender(uint32_t c)
{
	size_t i;

	for (i = 0; i < sizeof(extenders) / sizeof(extenders[0]); i++)
		if (c >= extenders[i].lo && c <= extenders[i].hi)
			return true;
	return false;
}

static bool is_regional(uint32_t c)
{
	return c >= 0x1f1e6 && c <= 0x1f1ff;
}

static bool is_space(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
	       c == 0x3000;
}

/* Where a URL ends: white space, or the brackets and punctuation Japanese
 * text puts right after one. */
static bool ends_url(uint32_t c)
{
	return is_space(c) || c == '<' || c == '>' || c == '"' || c == 0x300c || c == 0x300d ||
	       c == 0x300e || c == 0x300f || c == 0x3010 || c == 0x3011 || c == 0xff08 ||
	       c == 0xff09 || c == 0x3001 || c == 0x3002;
}

static bool is_sentence_end(uint32_t c)
{
	return c == 0x3002 /* 。 */ || c == 0xff01 /* ！ */ || c == 0xff1f /* ？ */;
}

/* ASCII ! and ? end a sentence when white space or a non-ASCII character
 * follows ("注意!次の", "Really? Yes"), not inside a word such as "a?b". */
static bool is_ascii_sentence_end(uint32_t c, uint32_t next)
{
	return (c == '!' || c == '?') && (is_space(next) || next >= 0x80);
}

static bool is_closing(uint32_t c)
{
	return c == 0x300d || c == 0x300f || c == 0xff09 || c == 0x3011 || c == ')';
}

static bool is_phrase_end(uint32_t c)
{
	return c == 0x3001 /* 、 */ || c == 0xff0c /* ， */ || c == ',' || c == ' ' || c == '\t' ||
	       c == 0x3000;
}

static bool ascii_prefix_at(const uint32_t *cps, size_t n, size_t i, const char *lit)
{
	size_t k;
	uint32_t c;

	for (k = 0; lit[k] != '\0'; k++) {
		if (i + k >= n)
			return false;
		c = cps[i + k];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (unsigned char)lit[k])
			return false;
	}
	return true;
}

struct decoded {
	uint32_t *cps;
	size_t *offs;  /* byte offset of each code point; offs[n] = length */
	size_t *units; /* UTF-16 units before each code point; units[n] = total */
	unsigned char *level;
	size_t n;
};

static void decoded_free(struct decoded *d)
{
	free(d->cps);
	free(d->offs);
	free(d->units);
	free(d->level);
}

/* 0, or the 1-based byte position of invalid UTF-8, or (size_t)-1 when out
 * of memory. */
static size_t decode(const char *text, struct decoded *d)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t len = strlen(text), pos = 0, k, n = 0;
	uint32_t cp;

	memset(d, 0, sizeof(*d));
	/* At most one code point per byte, so len + 1 entries suffice. */
	if (len >= SIZE_MAX / sizeof(size_t) - 1)
		return (size_t)-1;
	d->cps = malloc((len + 1) * sizeof(*d->cps));
	d->offs = malloc((len + 1) * sizeof(*d->offs));
	d->units = malloc((len + 1) * sizeof(*d->units));
	d->level = calloc(len + 1, 1);
	if (d->cps == NULL || d->offs == NULL || d->units == NULL || d->level == NULL)
		return (size_t)-1;
	d->units[0] = 0;
	while (pos < len) {
		k = utf8_decode(p + pos, len - pos, &cp);
		if (k == 0)
			return pos + 1;
		d->cps[n] = cp;
		d->offs[n] = pos;
		d->units[n + 1] = d->units[n] + (cp >= 0x10000 ? 2 : 1);
		n++;
		pos += k;
	}
	d->offs[n] = len;
	d->n = n;
	return 0;
}

/* Fill d->level for every boundary i (before code point i), 0 < i < n. */
static void classify(struct decoded *d)
{
	const uint32_t *c = d->cps;
	size_t i, j, n = d->n, ri_run = 0;
	uint32_t prev;

	for (i = 1; i < n; i++) {
		prev = c[i - 1];
		ri_run = is_regional(prev) ? ri_run + 1 : 0;
		if (is_extender(c[i]) || prev == 0x200d || (prev == '\r' && c[i] == '\n') ||
		    (is_regional(prev) && is_regional(c[i]) && ri_run % 2 == 1))
			d->level[i] = CUT_NEVER;
		else if (prev == '\n' && i >= 2 &&
			 (c[i - 2] == '\n' || (i >= 3 && c[i - 2] == '\r' && c[i - 3] == '\n')))
			d->level[i] = CUT_PARAGRAPH;
		else if ((is_sentence_end(prev) && !is_closing(c[i])) ||
			 is_ascii_sentence_end(prev, c[i]) ||
			 (is_closing(prev) && i >= 2 && is_sentence_end(c[i - 2])))
			d->level[i] = CUT_SENTENCE;
		else if (prev == '\n')
			d->level[i] = CUT_LINE;
		else if (is_phrase_end(prev))
			d->level[i] = CUT_PHRASE;
		else
			d->level[i] = CUT_ANY;
	}
	/* URLs last: they override everything inside them. */
	for (i = 0; i < n; i++) {
		if (!ascii_prefix_at(c, n, i, "http://") && !ascii_prefix_at(c, n, i, "https://"))
			continue;
		for (j = i + 1; j < n && !ends_url(c[j]); j++) {
			if (d->level[j] != CUT_NEVER)
				d->level[j] = CUT_URL;
		}
		i = j;
	}
}

/* The boundary to end a message that starts at s, given that everything up
 * to e fits; 0 when there is none.  With cut_urls, a boundary inside a URL
 * is the last resort before giving up. */
static size_t choose_cut(const struct decoded *d, size_t s, size_t e, size_t max_units,
			 bool cut_urls)
{
	size_t half = d->units[s] + max_units / 2, i;
	int want;

	for (want = CUT_PARAGRAPH; want <= CUT_PHRASE; want++) {
		for (i = e; i > s; i--) {
			if (d->level[i] != CUT_NEVER && d->level[i] <= want)
				break;
		}
		if (i > s && d->units[i] >= half)
			return i;
	}
	for (i = e; i > s; i--)
		if (d->level[i] != CUT_NEVER && d->level[i] <= CUT_ANY)
			return i;
	if (cut_urls)
		for (i = e; i > s; i--)
			if (d->level[i] != CUT_NEVER)
				return i;
	return 0;
}

static bool is_ascii_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

void textsplit_free(char **parts, size_t nparts)
{
	size_t i;

	if (parts == NULL)
		return;
	for (i = 0; i < nparts; i++)
		free(parts[i]);
	free(parts);
}

/* The splitter behind textsplit_err() and textsplit_prefix(): rest NULL
 * fails when the text needs more than max_messages, else *rest is set to
 * where the text left out begins. */
static int split(const char *text, size_t max_units, size_t max_messages, unsigned flags,
		 char ***parts, size_t *nparts, size_t *rest, char *err, size_t errlen)
{
	struct decoded d;
	char **out = NULL, **grown;
	size_t nout = 0, s, e, cut, bad, from, to;
	char dummy[1];

	if (err == NULL) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	*parts = NULL;
	*nparts = 0;
	if (max_units == 0 || max_messages == 0) {
		str_msg(err, errlen, "メッセージの上限が0です");
		return -1;
	}
	/* Every character but the white space between messages must land in
	 * some message: when those alone are too many, say so before
	 * allocating for a text that can only fail (a 1 MiB body). */
	if (rest == NULL && max_units <= SIZE_MAX / max_messages &&
	    visible_units(text) > max_units * max_messages) {
		str_msg(err, errlen,
			"本文が長すぎてLINEのメッセージ%zu通（各%zu文字）に収まりません",
			max_messages, max_units);
		return -1;
	}
	bad = decode(text, &d);
	if (bad == (size_t)-1)
		goto nomem;
	if (bad != 0) {
		str_msg(err, errlen, "本文が正しいUTF-8ではありません（%zuバイト目）", bad);
		goto fail;
	}
	classify(&d);

	s = 0;
	for (;;) {
		/* White space between messages is dropped, so it is not counted. */
		while (s < d.n && d.cps[s] < 0x80 && is_ascii_space((char)d.cps[s]))
			s++;
		if (s == d.n)
			break;
		if (nout == max_messages && rest != NULL) {
			*rest = d.offs[s];
			break;
		}
		if (nout == max_messages) {
			str_msg(err, errlen,
				"本文が長すぎてLINEのメッセージ%zu通（各%zu文字）に収まりません",
				max_messages, max_units);
			goto fail;
		}
		/* e: the furthest boundary that keeps the message within max_units. */
		e = s;
		while (e < d.n && d.units[e + 1] - d.units[s] <= max_units)
			e++;
		if (e == d.n) {
			cut = d.n;
		} else {
			cut = choose_cut(&d, s, e, max_units,
					 (flags & TEXTSPLIT_CUT_LONG_URLS) != 0);
			if (cut == 0) {
				str_msg(err, errlen,
					"%zu文字を超えて区切れないURLまたは文字があり、LINEのメッセ"
					"ージに分けられません",
					max_units);
				goto fail;
			}
		}
		from = d.offs[s];
		to = d.offs[cut];
		while (to > from && is_ascii_space(text[to - 1]))
			to--;
		grown = realloc(out, (nout + 1) * sizeof(*out));
		if (grown == NULL)
			goto nomem;
		out = grown;
		out[nout] = strndup(text + from, to - from);
		if (out[nout] == NULL)
			goto nomem;
		nout++;
		s = cut;
	}
	if (rest != NULL && s == d.n)
		*rest = strlen(text);
	decoded_free(&d);
	*parts = out;
	*nparts = nout;
	return 0;

nomem:
	str_msg(err, errlen, "メモリが足りません");
fail:
	decoded_free(&d);
	textsplit_free(out, nout);
	return -1;
}

int textsplit_err(const char *text, size_t max_units, size_t max_messages, char ***parts,
		  size_t *nparts, char *err, size_t errlen)
{
	return split(text, max_units, max_messages, 0, parts, nparts, NULL, err, errlen);
}

int textsplit_prefix(const char *text, size_t max_units, size_t max_messages, unsigned flags,
		     char ***parts, size_t *nparts, size_t *rest, char *err, size_t errlen)
{
	*rest = 0;
	return split(text, max_units, max_messages, flags, parts, nparts, rest, err, errlen);
}

int textsplit(const char *text, size_t max_units, size_t max_messages, char ***parts,
	      size_t *nparts)
{
	return textsplit_err(text, max_units, max_messages, parts, nparts, NULL, 0);
}
