/* Unit tests for lib/message: the text style's splitting (sentences, emoji
 * sequences, URLs, LINE's exact limits, the 5-message cap), the alert card
 * (its JSON shape, altText, colours, links) and what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "message.h"
#include "textsplit.h"
#include "utf8.h"

#define FAMILY                                                                                     \
	"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7" /* 👨‍👩‍👧 */
#define THUMB_TONE "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"				   /* 👍🏽 */
#define FLAG_JP	   "\xf0\x9f\x87\xaf\xf0\x9f\x87\xb5"				   /* 🇯🇵 */
#define KEYCAP_1   "1\xef\xb8\x8f\xe2\x83\xa3"					   /* 1️⃣ */
#define HEART_VS16 "\xe2\x9d\xa4\xef\xb8\x8f"					   /* ❤️ */
#define GRIN	   "\xf0\x9f\x98\x80"						   /* 😀 */
#define NOTICE	   MESSAGE_TRUNCATED_NOTICE

/* count copies of unit, then tail; malloc'd. */
static char *repeat(const char *head, const char *unit, size_t count, const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
	char *s = malloc(hl + ul * count + tl + 1);

	assert_non_null(s);
	memcpy(s, head, hl);
	for (i = 0; i < count; i++)
		memcpy(s + hl + i * ul, unit, ul);
	memcpy(s + hl + ul * count, tail, tl + 1);
	return s;
}

static size_t units(const char *s)
{
	return textsplit_utf16_units(s);
}

/* The built array, parsed back; fails the test when the build failed. */
static json_t *build(const struct message_alert *a, enum message_style st, unsigned flags,
		     bool *truncated)
{
	char err[300] = "";
	char *out = message_build(a, st, flags, truncated, err, sizeof(err));
	json_t *arr;

	if (out == NULL)
		print_message("# error: %s\n", err);
	assert_non_null(out);
	arr = json_loads(out, 0, NULL);
	free(out);
	assert_non_null(arr);
	assert_true(json_is_array(arr));
	assert_true(json_array_size(arr) >= 1 && json_array_size(arr) <= MESSAGE_MAX_MESSAGES);
	return arr;
}

static const char *text_of(const json_t *arr, size_t i)
{
	const json_t *m = json_array_get(arr, i);

	assert_string_equal(json_string_value(json_object_get(m, "type")), "text");
	return json_string_value(json_object_get(m, "text"));
}

static bool is_extender(uint32_t c)
{
	return (c >= 0x0300 && c <= 0x036f) || c == 0x200d || (c >= 0x20d0 && c <= 0x20ff) ||
	       (c >= 0xfe00 && c <= 0xfe0f) || (c >= 0x1f3fb && c <= 0x1f3ff) ||
	       (c >= 0xe0020 && c <= 0xe007f);
}

static bool is_regional(uint32_t c)
{
	return c >= 0x1f1e6 && c <= 0x1f1ff;
}

/* Code points of s (valid UTF-8 asserted); *n set. */
static uint32_t *cps_of(const char *s, size_t *n)
{
	size_t len = strlen(s), pos = 0, k;
	uint32_t *c = malloc((len + 1) * sizeof(*c));

	assert_non_null(c);
	*n = 0;
	while (pos < len) {
		k = utf8_decode((const unsigned char *)s + pos, len - pos, &c[*n]);
		assert_true(k > 0);
		pos += k;
		(*n)++;
	}
	return c;
}

/* The pieces of an array of text messages, concatenated, must give back
 * whole (no white space in the input, so nothing is trimmed), every piece
 * valid UTF-8 within LINE's limit, and no piece may start inside a
 * grapheme: not with an extender, not after a ZWJ, not in the middle of a
 * flag. */
static void assert_graphemes_whole(const json_t *arr, const char *whole)
{
	size_t i, off = 0, n, m, k, ri;
	uint32_t *all = NULL, *piece;

	for (i = 0; i < json_array_size(arr); i++) {
		const char *t = text_of(arr, i);
		size_t len = strlen(t);

		assert_true(units(t) != (size_t)-1);
		assert_true(units(t) <= MESSAGE_TEXT_MAX_UNITS);
		assert_memory_equal(whole + off, t, len);
		if (off > 0) {
			/* The code points before the cut, to look at the boundary. */
			char *before = strndup(whole, off);

			assert_non_null(before);
			all = cps_of(before, &n);
			piece = cps_of(t, &m);
			assert_true(m > 0);
			assert_false(is_extender(piece[0]));
			assert_true(all[n - 1] != 0x200d);
			for (ri = 0, k = n; k > 0 && is_regional(all[k - 1]); k--)
				ri++;
			assert_true(ri % 2 == 0 || !is_regional(piece[0]));
			free(piece);
			free(all);
			free(before);
		}
		off += len;
	}
	assert_int_equal(off, strlen(whole));
}

/* --- the text style ------------------------------------------------------- */

static void long_japanese_at_sentences(void **state)
{
	struct message_alert a = {.title = "【お知らせ】長い本文"};
	char *body = repeat("", "高崎市からのお知らせです。", 1000, "");
	json_t *arr;
	bool cut = true;
	size_t i, total = 0;

	(void)state;
	a.body = body;
	arr = build(&a, MESSAGE_TEXT, 0, &cut);
	assert_false(cut);
	assert_int_equal(json_array_size(arr), 3);
	assert_memory_equal(text_of(arr, 0), "【お知らせ】長い本文\n高崎市",
			    strlen("【お知らせ】長い本文\n高崎市"));
	for (i = 0; i < 3; i++) {
		const char *t = text_of(arr, i);
		size_t len = strlen(t);

		assert_true(units(t) <= MESSAGE_TEXT_MAX_UNITS);
		assert_memory_equal(t + len - strlen("。"), "。", strlen("。"));
		total += units(t);
	}
	/* Nothing lost: the title, its line end, the body. */
	assert_int_equal(total, units(a.title) + 1 + units(body));
	json_decref(arr);
	free(body);
}

/* ASCII ! and ? end sentences too. */
static void ascii_sentence_ends(void **state)
{
	struct message_alert a = {0};
	char *body = repeat("", "Watch out! ", 600, "");
	json_t *arr;

	(void)state;
	a.body = body;
	arr = build(&a, MESSAGE_TEXT, 0, NULL);
	assert_int_equal(json_array_size(arr), 2);
	assert_int_equal(text_of(arr, 0)[strlen(text_of(arr, 0)) - 1], '!');
	json_decref(arr);
	free(body);
}

/* Each sequence placed at every offset around the 5,000-unit boundary. */
static void graphemes_never_cut(void **state)
{
	static const char *const seqs[] = {FAMILY,	    THUMB_TONE,	     FLAG_JP,
					   KEYCAP_1,	    HEART_VS16,	     GRIN,
					   FLAG_JP FLAG_JP, "か\xe3\x82\x99"};
	size_t s, pad;

	(void)state;
	for (s = 0; s < sizeof(seqs) / sizeof(seqs[0]); s++) {
		for (pad = 4985; pad <= 5001; pad++) {
			struct message_alert a = {0};
			char *body = repeat("", "あ", pad, "");
			char *full;
			json_t *arr;

			full = repeat(body, seqs[s], 10, "い");
			a.body = full;
			arr = build(&a, MESSAGE_TEXT, 0, NULL);
			assert_int_equal(json_array_size(arr), 2);
			assert_graphemes_whole(arr, full);
			json_decref(arr);
			free(full);
			free(body);
		}
	}
}

static void urls_never_cut(void **state)
{
	static const char url[] = "https://www.city.takasaki.gunma.jp/page/12345.html?a=1&b=2#top";
	size_t pad, i;

	(void)state;
	for (pad = 4950; pad <= 5000; pad += 5) {
		struct message_alert a = {0};
		char *head = repeat("", "あ", pad, " ");
		char *full = repeat(head, url, 1, " 詳細はリンク先へ");
		json_t *arr;
		size_t found = 0;

		a.body = full;
		arr = build(&a, MESSAGE_TEXT, 0, NULL);
		for (i = 0; i < json_array_size(arr); i++) {
			const char *t = text_of(arr, i);

			assert_true(units(t) <= MESSAGE_TEXT_MAX_UNITS);
			if (strstr(t, url) != NULL)
				found++;
			/* No piece holds a piece of the URL without all of it. */
			else
				assert_null(strstr(t, "https://"));
		}
		assert_int_equal(found, 1);
		json_decref(arr);
		free(full);
		free(head);
	}
}

/* A URL longer than a whole message is the one thing cut, between
 * characters. */
static void url_longer_than_a_message(void **state)
{
	struct message_alert a = {0};
	char *full = repeat("https://ex.jp/", "a", 6000, "");
	json_t *arr;

	(void)state;
	a.body = full;
	arr = build(&a, MESSAGE_TEXT, 0, NULL);
	assert_int_equal(json_array_size(arr), 2);
	assert_int_equal(units(text_of(arr, 0)), MESSAGE_TEXT_MAX_UNITS);
	assert_graphemes_whole(arr, full);
	json_decref(arr);
	free(full);
}

static void exact_limits(void **state)
{
	static const struct {
		const char *title, *unit;
		size_t count;
		size_t messages;
		bool truncated;
	} cases[] = {
		{NULL, "あ", 5000, 1, false},
		{NULL, "あ", 5001, 2, false},
		{NULL, GRIN, 2500, 1, false}, /* 2,500 emoji are 5,000 units */
		{NULL, GRIN, 2501, 2, false},
		{"T", "あ", 4998, 1, false}, /* "T\n" + 4,998 = 5,000 */
		{"T", "あ", 4999, 2, false},
		{NULL, "あ", 25000, 5, false}, /* 5 × 5,000: the most a delivery holds */
		{NULL, "あ", 25001, 5, true},
		{NULL, "あ", 100000, 5, true},
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct message_alert a = {.title = cases[i].title};
		char *body = repeat("", cases[i].unit, cases[i].count, "");
		bool cut = !cases[i].truncated;
		json_t *arr;

		print_message("# %zu × %s\n", cases[i].count, cases[i].unit);
		a.body = body;
		arr = build(&a, MESSAGE_TEXT, 0, &cut);
		assert_int_equal(json_array_size(arr), cases[i].messages);
		assert_int_equal(cut, cases[i].truncated);
		for (j = 0; j < json_array_size(arr); j++)
			assert_true(units(text_of(arr, j)) <= MESSAGE_TEXT_MAX_UNITS);
		if (cases[i].truncated) {
			const char *last = text_of(arr, json_array_size(arr) - 1);

			assert_string_equal(last + strlen(last) - strlen(NOTICE), NOTICE);
		} else {
			assert_null(strstr(text_of(arr, json_array_size(arr) - 1), NOTICE));
		}
		json_decref(arr);
		free(body);
	}
}

/* Truncated text keeps its link: it follows the notice. */
static void truncation_keeps_the_link(void **state)
{
	struct message_alert a = {.title = "長いお知らせ",
				  .link_url = "https://ex.jp/more",
				  .link_label = "続きを読む"};
	char *body = repeat("", "お知らせです。", 5000, "");
	json_t *arr;
	bool cut = false;
	const char *last;

	(void)state;
	a.body = body;
	arr = build(&a, MESSAGE_TEXT, 0, &cut);
	assert_true(cut);
	assert_int_equal(json_array_size(arr), 5);
	last = text_of(arr, 4);
	assert_true(units(last) <= MESSAGE_TEXT_MAX_UNITS);
	assert_non_null(strstr(last, "。\n" NOTICE "\n続きを読む\nhttps://ex.jp/more"));
	json_decref(arr);
	free(body);

	/* A short text carries its link at the end. */
	a.body = "本日は晴れです。";
	arr = build(&a, MESSAGE_TEXT, 0, &cut);
	assert_false(cut);
	assert_string_equal(text_of(arr, 0),
			    "長いお知らせ\n本日は晴れです。\n\n続きを読む\nhttps://ex.jp/more");
	json_decref(arr);
}

/* --- the card ------------------------------------------------------------- */

static const json_t *path(const json_t *v, const char *const *keys)
{
	for (; *keys != NULL; keys++) {
		char *end;
		unsigned long idx = strtoul(*keys, &end, 10);

		v = *end == '\0' ? json_array_get(v, idx) : json_object_get(v, *keys);
		assert_non_null(v);
	}
	return v;
}

#define STR_AT(v, ...) json_string_value(path((v), (const char *const[]){__VA_ARGS__, NULL}))

static void card_shape(void **state)
{
	struct message_alert a = {.title = "【火災】火災発生のお知らせ",
				  .category_key = "fire",
				  .body = "本日10時ごろ、○○町で火災が発生しました。",
				  .link_url = "https://www.city.takasaki.gunma.jp/fire",
				  .link_label = "詳細"};
	json_t *arr;
	bool cut = true;
	const json_t *body;

	(void)state;
	arr = build(&a, MESSAGE_CARD, 0, &cut);
	assert_false(cut);
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(STR_AT(arr, "0", "type"), "flex");
	assert_string_equal(STR_AT(arr, "0", "altText"),
			    "【火災】火災発生のお知らせ\n本日10時ごろ、○○町で火災が発生しました。");
	assert_string_equal(STR_AT(arr, "0", "contents", "type"), "bubble");
	assert_string_equal(STR_AT(arr, "0", "contents", "header", "type"), "box");
	assert_string_equal(STR_AT(arr, "0", "contents", "header", "backgroundColor"),
			    message_category_colour("fire"));
	assert_string_equal(STR_AT(arr, "0", "contents", "header", "contents", "0", "text"),
			    "火災");
	assert_string_equal(STR_AT(arr, "0", "contents", "header", "contents", "0", "color"),
			    "#FFFFFF");
	assert_string_equal(STR_AT(arr, "0", "contents", "body", "contents", "0", "text"), a.title);
	assert_string_equal(STR_AT(arr, "0", "contents", "body", "contents", "0", "weight"),
			    "bold");
	assert_string_equal(STR_AT(arr, "0", "contents", "body", "contents", "1", "text"), a.body);
	body = path(arr, (const char *const[]){"0", "contents", "body", "contents", "1", NULL});
	assert_true(json_is_true(json_object_get(body, "wrap")));
	assert_string_equal(STR_AT(arr, "0", "contents", "footer", "contents", "0", "type"),
			    "button");
	assert_string_equal(
		STR_AT(arr, "0", "contents", "footer", "contents", "0", "action", "type"), "uri");
	assert_string_equal(
		STR_AT(arr, "0", "contents", "footer", "contents", "0", "action", "uri"),
		a.link_url);
	assert_string_equal(
		STR_AT(arr, "0", "contents", "footer", "contents", "0", "action", "label"), "詳細");
	json_decref(arr);

	/* A staff label wins over the table's; no link, no footer; no body,
	 * the title alone. */
	a.category_label = "火災情報";
	a.link_url = NULL;
	a.body = NULL;
	arr = build(&a, MESSAGE_CARD, 0, NULL);
	assert_string_equal(STR_AT(arr, "0", "contents", "header", "contents", "0", "text"),
			    "火災情報");
	assert_null(json_object_get(json_object_get(json_array_get(arr, 0), "contents"), "footer"));
	assert_int_equal(json_array_size(path(arr, (const char *const[]){"0", "contents", "body",
									 "contents", NULL})),
			 1);
	assert_string_equal(STR_AT(arr, "0", "altText"), a.title);
	json_decref(arr);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && memcmp(s + n - t, tail, t) == 0;
}

/* A long body: altText and the card's text are cut with "…", the rest
 * follows as text messages, and beyond 5 messages the notice. */
static void card_long_body(void **state)
{
	static const struct {
		size_t count; /* copies of a 13-character sentence */
		size_t messages;
		bool truncated;
	} cases[] = {
		{100, 1, false},  /* 1,300: fits in the card */
		{200, 2, false},  /* 2,600: the card and one text */
		{1000, 4, false}, /* 13,000: the card and three texts */
		{1650, 5, false}, /* 21,450: the card and four texts */
		{5000, 5, true},  /* 65,000: cut */
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct message_alert a = {.title = "【防災】避難情報", .category_key = "disaster"};
		char *body = repeat("", "高崎市からのお知らせです。", cases[i].count, "");
		const char *alt, *card_text;
		bool cut = !cases[i].truncated;
		json_t *arr;

		print_message("# %zu sentences\n", cases[i].count);
		a.body = body;
		arr = build(&a, MESSAGE_CARD, 0, &cut);
		assert_int_equal(json_array_size(arr), cases[i].messages);
		assert_int_equal(cut, cases[i].truncated);
		alt = STR_AT(arr, "0", "altText");
		assert_true(units(alt) <= MESSAGE_ALT_MAX_UNITS);
		assert_memory_equal(alt, "【防災】避難情報\n", strlen("【防災】避難情報\n"));
		card_text = STR_AT(arr, "0", "contents", "body", "contents", "1", "text");
		assert_true(units(card_text) <= MESSAGE_CARD_BODY_MAX_UNITS);
		if (cases[i].count > 100) {
			assert_true(ends_with(alt, "…"));
			assert_true(ends_with(card_text, "。…"));
		} else {
			assert_string_equal(card_text, body);
		}
		for (j = 1; j < json_array_size(arr); j++)
			assert_true(units(text_of(arr, j)) <= MESSAGE_TEXT_MAX_UNITS);
		if (cases[i].truncated)
			assert_true(ends_with(text_of(arr, 4), "。\n" NOTICE));
		json_decref(arr);
		free(body);
	}
}

/* altText at exactly the limit is kept; one more is cut; an emoji at the
 * edge is not halved. */
static void alt_text_limit(void **state)
{
	struct message_alert a = {0};
	char *body;
	json_t *arr;
	const char *alt;

	(void)state;
	body = repeat("", "あ", MESSAGE_ALT_MAX_UNITS, "");
	a.body = body;
	arr = build(&a, MESSAGE_CARD, 0, NULL);
	assert_string_equal(STR_AT(arr, "0", "altText"), body);
	json_decref(arr);
	free(body);

	body = repeat("", GRIN, 1000, "");
	a.body = body;
	arr = build(&a, MESSAGE_CARD, 0, NULL);
	alt = STR_AT(arr, "0", "altText");
	assert_true(units(alt) <= MESSAGE_ALT_MAX_UNITS);
	assert_true(units(alt) >= MESSAGE_ALT_MAX_UNITS - 2);
	assert_true(ends_with(alt, GRIN "…"));
	json_decref(arr);
	free(body);
}

/* Relative luminance of one sRGB channel, without libm: x^2.4 as x² times
 * the fifth root of x², by Newton's method. */
static double channel(unsigned v)
{
	double c = v / 255.0, a, y = 1.0;
	int i;

	if (c <= 0.03928)
		return c / 12.92;
	c = (c + 0.055) / 1.055;
	a = c * c;
	for (i = 0; i < 60; i++)
		y -= (y * y * y * y * y - a) / (5 * y * y * y * y);
	return a * y;
}

static double contrast_with_white(const char *hex)
{
	unsigned r, g, b;
	double l;

	assert_int_equal(strlen(hex), 7);
	assert_int_equal(sscanf(hex, "#%2x%2x%2x", &r, &g, &b), 3);
	l = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
	return 1.05 / (l + 0.05);
}

static void category_colours(void **state)
{
	static const struct {
		const char *key, *label, *colour;
	} cases[] = {
		{"crime_prevention", "防犯", "#283593"},  {"traffic_safety", "交通安全", "#00695C"},
		{"disaster", "防災", "#C62828"},	  {"fire", "火災", "#BF360C"},
		{"event", "イベント", "#6A1B9A"},	  {"course", "講座開催", "#1565C0"},
		{"childcare", "子育て支援", "#AD1457"},	  {"health", "健康づくり", "#2E7D32"},
		{"koho_takasaki", "広報高崎", "#5D4037"}, {"other", "その他", "#455A64"},
		{"no_such_key", "その他", "#455A64"},	  {NULL, "その他", "#455A64"},
	};
	size_t i, j;

	(void)state;
	assert_true(contrast_with_white("#FFFFFF") < 1.01);
	assert_true(contrast_with_white("#000000") > 20.9);
	assert_true(contrast_with_white("#767676") >= 4.5); /* the classic AA edge */
	assert_true(contrast_with_white("#777777") < 4.5);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct message_alert a = {.title = "t", .category_key = cases[i].key};
		json_t *arr;

		print_message("# %s\n", cases[i].key != NULL ? cases[i].key : "(null)");
		assert_string_equal(message_category_colour(cases[i].key), cases[i].colour);
		assert_string_equal(message_category_label(cases[i].key), cases[i].label);
		assert_true(contrast_with_white(cases[i].colour) >= 4.5);
		arr = build(&a, MESSAGE_CARD, 0, NULL);
		assert_string_equal(STR_AT(arr, "0", "contents", "header", "backgroundColor"),
				    cases[i].colour);
		assert_string_equal(STR_AT(arr, "0", "contents", "header", "contents", "0", "text"),
				    cases[i].label);
		json_decref(arr);
	}
	/* The ten categories have ten different colours. */
	for (i = 0; i < 10; i++)
		for (j = i + 1; j < 10; j++)
			assert_string_not_equal(cases[i].colour, cases[j].colour);
}

static void links(void **state)
{
	static const struct {
		const char *url;
		const char *error; /* NULL: accepted */
	} cases[] = {
		{"https://www.city.takasaki.gunma.jp/", NULL},
		{"https://ex.jp", NULL},
		{"HTTPS://EX.JP/a?b=c&d=%E3%81%82#top", NULL},
		{"https://ex.jp:8443/x", NULL},
		{"http://www.city.takasaki.gunma.jp/", "link URL must use https, not http"},
		{"HTTP://ex.jp/", "link URL must use https, not http"},
		{"javascript:alert(1)", "link URL must start with https://"},
		{"ftp://ex.jp/", "link URL must start with https://"},
		{"www.city.takasaki.gunma.jp", "link URL must start with https://"},
		{"https://", "link URL has no valid host"},
		{"https:///path", "link URL has no valid host"},
		{"https://ex.jp:/", "link URL has no valid host"},
		{"https://.ex.jp/", "link URL has no valid host"},
		{"https://user:pw@evil.example/", "link URL has user information"},
		{"https://ex.jp:80a/", "link URL host is malformed at byte 17"},
		{"https://ex_jp/", "link URL host is malformed at byte 11"},
		{"https://ex.jp/a b", "unsafe character at byte 16"},
		{"https://ex.jp/\"><script>", "unsafe character at byte 15"},
		{"https://例え.jp/", "non-ASCII or unsafe character at byte 9"},
		{"https://ex.jp/\n", "control, non-ASCII or unsafe character at byte 15"},
	};
	size_t i;
	char err[300];

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct message_alert a = {.title = "t", .body = "b", .link_url = cases[i].url};
		char *out;
		bool ok;

		print_message("# %s\n", cases[i].url);
		err[0] = '\0';
		ok = message_link_ok(cases[i].url, err, sizeof(err));
		assert_int_equal(ok, cases[i].error == NULL);
		out = message_build(&a, MESSAGE_CARD, 0, NULL, err, sizeof(err));
		if (cases[i].error == NULL) {
			assert_non_null(out);
			assert_non_null(strstr(out, "\"footer\""));
		} else {
			assert_null(out);
			assert_non_null(strstr(err, cases[i].error));
			/* The text style refuses it as well. */
			assert_null(message_build(&a, MESSAGE_TEXT, 0, NULL, err, sizeof(err)));
			/* Built without the button only when the caller says so. */
			out = message_build(&a, MESSAGE_CARD, MESSAGE_DROP_BAD_LINK, NULL, err,
					    sizeof(err));
			assert_non_null(out);
			assert_null(strstr(out, "\"footer\""));
			assert_null(strstr(out, cases[i].url));
		}
		free(out);
	}
	/* At most 1,000 characters. */
	{
		char *u = repeat("https://ex.jp/", "a", 1000 - strlen("https://ex.jp/"), "");

		assert_true(message_link_ok(u, err, sizeof(err)));
		free(u);
		u = repeat("https://ex.jp/", "a", 1001 - strlen("https://ex.jp/"), "");
		assert_false(message_link_ok(u, err, sizeof(err)));
		assert_string_equal(err,
				    "link URL is 1001 characters long, LINE allows at most 1000");
		free(u);
	}
}

/* A long button label is shortened within LINE's limit. */
static void link_label(void **state)
{
	struct message_alert a = {.title = "t",
				  .link_url = "https://ex.jp/",
				  .link_label = "市のホームページで詳しい情報をご覧ください"};
	json_t *arr;
	const char *label;

	(void)state;
	arr = build(&a, MESSAGE_CARD, 0, NULL);
	label = STR_AT(arr, "0", "contents", "footer", "contents", "0", "action", "label");
	assert_true(units(label) <= MESSAGE_LABEL_MAX_UNITS);
	assert_string_equal(label, "市のホームページで詳しい情報をご覧くだ…");
	json_decref(arr);
	a.link_label = NULL;
	arr = build(&a, MESSAGE_CARD, 0, NULL);
	assert_string_equal(
		STR_AT(arr, "0", "contents", "footer", "contents", "0", "action", "label"),
		MESSAGE_DEFAULT_LINK_LABEL);
	json_decref(arr);
}

static void refused(void **state)
{
	static const struct {
		struct message_alert a;
		const char *error;
	} cases[] = {
		{{.title = NULL, .body = NULL}, "the alert has neither a title nor a body"},
		{{.title = "", .body = ""}, "the alert has neither a title nor a body"},
		{{.title = " \n", .body = "\t\r\n "}, "the alert has neither a title nor a body"},
		{{.title = "t", .body = "あ\xff"}, "the body is not valid UTF-8"},
		{{.title = "\xe3\x81", .body = "b"}, "the title is not valid UTF-8"},
		{{.title = "t", .category_label = "\xc0\xaf"},
		 "the category label is not valid UTF-8"},
		{{.title = "t", .link_url = "https://ex.jp/", .link_label = "\xed\xa0\x80"},
		 "the link label is not valid UTF-8"},
	};
	size_t i;
	int st;
	char err[300];
	bool cut;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (st = MESSAGE_TEXT; st <= MESSAGE_CARD; st++) {
			cut = true;
			err[0] = '\0';
			assert_null(message_build(&cases[i].a, (enum message_style)st, 0, &cut, err,
						  sizeof(err)));
			assert_string_equal(err, cases[i].error);
			assert_false(cut);
		}
	}
	assert_null(message_build(NULL, MESSAGE_TEXT, 0, NULL, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(long_japanese_at_sentences),
		cmocka_unit_test(ascii_sentence_ends),
		cmocka_unit_test(graphemes_never_cut),
		cmocka_unit_test(urls_never_cut),
		cmocka_unit_test(url_longer_than_a_message),
		cmocka_unit_test(exact_limits),
		cmocka_unit_test(truncation_keeps_the_link),
		cmocka_unit_test(card_shape),
		cmocka_unit_test(card_long_body),
		cmocka_unit_test(alt_text_limit),
		cmocka_unit_test(category_colours),
		cmocka_unit_test(links),
		cmocka_unit_test(link_label),
		cmocka_unit_test(refused),
	};

	return cmocka_run_group_tests_name("message", tests, NULL, NULL);
}
