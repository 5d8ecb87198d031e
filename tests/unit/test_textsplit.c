/* Unit tests for lib/textsplit: LINE's UTF-16 count, where texts are cut,
 * and what is never cut (characters as seen, emoji sequences, URLs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "textsplit.h"

#define FAMILY                                                                                     \
	"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7" /* 👨‍👩‍👧 */
#define THUMB_TONE   "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"				   /* 👍🏽 */
#define FLAG_JP	     "\xf0\x9f\x87\xaf\xf0\x9f\x87\xb5"				   /* 🇯🇵 */
#define FLAG_US	     "\xf0\x9f\x87\xba\xf0\x9f\x87\xb8"				   /* 🇺🇸 */
#define KEYCAP_1     "1\xef\xb8\x8f\xe2\x83\xa3"				   /* 1️⃣ */
#define HEART_VS16   "\xe2\x9d\xa4\xef\xb8\x8f"					   /* ❤️ */
#define GRIN_	     "\xf0\x9f\x98\x80"						   /* 😀 */
#define GA_COMBINING "\xe3\x81\x8b\xe3\x82\x99" /* か + combining voiced mark */

static void utf16_units_as_line_counts(void **state)
{
	static const struct {
		const char *s;
		size_t units;
	} cases[] = {
		{"", 0},
		{"abc", 3},
		{"あいう", 3},
		{"\xf0\x9f\x98\x80", 2}, /* 😀, outside the BMP: a surrogate pair */
		{THUMB_TONE, 4},
		{FAMILY, 8},
		{FLAG_JP, 4},
		{KEYCAP_1, 3},
		{"ｱ①～", 3},
		{"\xff", (size_t)-1},		  /* not UTF-8 */
		{"\xc0\xaf", (size_t)-1},	  /* overlong '/' */
		{"\xed\xa0\x80", (size_t)-1},	  /* a UTF-16 surrogate in UTF-8 */
		{"\xf4\x90\x80\x80", (size_t)-1}, /* past U+10FFFF */
		{"\xe3\x81", (size_t)-1},	  /* cut short */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(textsplit_utf16_units(cases[i].s), cases[i].units);
}

struct split_case {
	const char *name;
	const char *text;
	size_t max_units, max_messages;
	int rc;
	const char *parts[6]; /* NULL-terminated */
	const char *reason;   /* when rc is -1 */
};

static const struct split_case split_cases[] = {
	{"fits whole", "こんにちは。", 10, 5, 0, {"こんにちは。"}, NULL},
	{"exactly the limit", "あいうえお", 5, 5, 0, {"あいうえお"}, NULL},
	{"empty gives nothing", "", 10, 5, 0, {NULL}, NULL},
	{"white space gives nothing", " \n\n\t ", 10, 5, 0, {NULL}, NULL},
	{"edges trimmed", "\n\n本文です。\n\n", 10, 5, 0, {"本文です。"}, NULL},
	/* 一二三四五。六七 | 八九十一二三: the paragraph break wins over 。 */
	{"paragraph break first",
	 "一二三四五。六七\n\n八九十一二三",
	 12,
	 5,
	 0,
	 {"一二三四五。六七", "八九十一二三"},
	 NULL},
	/* The paragraph break is too early (under half of 12), the 。 is not. */
	{"sentence when paragraph too early",
	 "あ\n\nいうえおかきく。けこさしす",
	 12,
	 5,
	 0,
	 {"あ\n\nいうえおかきく。", "けこさしす"},
	 NULL},
	{"line end is a sentence break",
	 "一行目の文章\n二行目の文章です",
	 10,
	 5,
	 0,
	 {"一行目の文章", "二行目の文章です"},
	 NULL},
	{"after 」 that follows 。, not between",
	 "彼は「はい。」と言った",
	 8,
	 5,
	 0,
	 {"彼は「はい。」", "と言った"},
	 NULL},
	{"comma when no sentence end",
	 "あいうえお、かきくけこさしすせそ",
	 10,
	 5,
	 0,
	 {"あいうえお、", "かきくけこさしすせそ"},
	 NULL},
	{"space is a phrase break", "abcdef ghijkl", 10, 5, 0, {"abcdef", "ghijkl"}, NULL},
	{"anywhere when nothing better",
	 "あいうえおかきくけこさ",
	 5,
	 5,
	 0,
	 {"あいうえお", "かきくけこ", "さ"},
	 NULL},
	{"skin tone stays with its emoji",
	 "ab" THUMB_TONE "cd",
	 4,
	 5,
	 0,
	 {"ab", THUMB_TONE, "cd"},
	 NULL},
	{"ZWJ family stays whole", "x" FAMILY "y", 8, 5, 0, {"x", FAMILY, "y"}, NULL},
	{"flags pair up", FLAG_JP FLAG_US, 6, 5, 0, {FLAG_JP, FLAG_US}, NULL},
	{"keycap stays whole", "ab" KEYCAP_1, 3, 5, 0, {"ab", KEYCAP_1}, NULL},
	{"variation selector stays", "abc" HEART_VS16, 3, 5, 0, {"abc", HEART_VS16}, NULL},
	{"combining mark stays", "あい" GA_COMBINING, 2, 5, 0, {"あい", GA_COMBINING}, NULL},
	{"surrogate pair never halved",
	 "あ\xf0\x9f\x98\x80",
	 2,
	 5,
	 0,
	 {"あ", "\xf0\x9f\x98\x80"},
	 NULL},
	{"URL kept whole",
	 "お知らせ https://ex.jp/a/b/c 詳細",
	 22,
	 5,
	 0,
	 {"お知らせ", "https://ex.jp/a/b/c 詳細"},
	 NULL},
	/* The URL ends at 」: the cut after 」 is allowed. */
	{"URL ends at a closing bracket",
	 "「https://ex.jp/x」をご覧ください",
	 17,
	 5,
	 0,
	 {"「https://ex.jp/x」", "をご覧ください"},
	 NULL},
	{"URL scheme is case-insensitive",
	 "見てHTTPS://EX.JP/ABCDEFG",
	 12,
	 5,
	 -1,
	 {NULL},
	 "12文字を超えて区切れないURLまたは文字があり、LINEのメッセージに分けられません"},
	{"URL longer than a message",
	 "https://example.jp/0123456789",
	 20,
	 5,
	 -1,
	 {NULL},
	 "20文字を超えて区切れないURLまたは文字があり、LINEのメッセージに分けられません"},
	{"one character longer than a message",
	 "\xf0\x9f\x98\x80",
	 1,
	 5,
	 -1,
	 {NULL},
	 "1文字を超えて区切れないURLまたは文字があり、LINEのメッセージに分けられません"},
	{"too many messages",
	 "あいうえおかきくけこ",
	 3,
	 3,
	 -1,
	 {NULL},
	 "本文が長すぎてLINEのメッセージ3通（各3文字）に収まりません"},
	/* Fits by count, but not once cut at the spaces. */
	{"too many after cutting",
	 "ab cd ef",
	 4,
	 2,
	 -1,
	 {NULL},
	 "本文が長すぎてLINEのメッセージ2通（各4文字）に収まりません"},
	/* Mail wrapped mid-sentence: the 。 wins over the later line end. */
	{"sentence end before a line end",
	 "あいうえお。かき\nくけこさしす",
	 10,
	 5,
	 0,
	 {"あいうえお。", "かき\nくけこさしす"},
	 NULL},
	{"CRLF paragraph break",
	 "一二三\r\n\r\n四五六七。八九十",
	 12,
	 5,
	 0,
	 {"一二三", "四五六七。八九十"},
	 NULL},
	{"ASCII ! ends a sentence", "Fire! Leave now", 10, 5, 0, {"Fire!", "Leave now"}, NULL},
	{"ASCII ? before Japanese",
	 "大丈夫?はいそうです",
	 6,
	 5,
	 0,
	 {"大丈夫?", "はいそうです"},
	 NULL},
	{"ASCII ? inside a word is not a sentence end",
	 "ab?cdefgh",
	 4,
	 5,
	 0,
	 {"ab?c", "defg", "h"},
	 NULL},
	{"invalid UTF-8",
	 "あ\xff",
	 10,
	 5,
	 -1,
	 {NULL},
	 "本文が正しいUTF-8ではありません（4バイト目）"},
	{"zero limit", "あ", 0, 5, -1, {NULL}, "メッセージの上限が0です"},
};

static void split_table(void **state)
{
	size_t i, j, n;
	char **parts;
	char err[300];
	int rc;

	(void)state;
	for (i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
		const struct split_case *c = &split_cases[i];

		print_message("# %s\n", c->name);
		err[0] = '\0';
		rc = textsplit_err(c->text, c->max_units, c->max_messages, &parts, &n, err,
				   sizeof(err));
		assert_int_equal(rc, c->rc);
		if (rc != 0) {
			assert_null(parts);
			assert_int_equal(n, 0);
			assert_string_equal(err, c->reason);
			continue;
		}
		for (j = 0; c->parts[j] != NULL; j++) {
			assert_true(j < n);
			assert_string_equal(parts[j], c->parts[j]);
			assert_true(textsplit_utf16_units(parts[j]) <= c->max_units);
		}
		assert_int_equal(n, j);
		textsplit_free(parts, n);
	}
}

/* A text of count copies of unit. */
static char *repeat(const char *unit, size_t count, const char *tail)
{
	size_t ul = strlen(unit), tl = strlen(tail), i;
	char *s = malloc(ul * count + tl + 1);

	assert_non_null(s);
	for (i = 0; i < count; i++)
		memcpy(s + i * ul, unit, ul);
	memcpy(s + ul * count, tail, tl + 1);
	return s;
}

static void line_limits(void **state)
{
	char **parts;
	size_t n;
	char *s;

	(void)state;
	/* 5000 あ fit in one message; one more spills into a second. */
	s = repeat("あ", 5000, "");
	assert_int_equal(
		textsplit(s, TEXTSPLIT_LINE_MAX_UNITS, TEXTSPLIT_LINE_MAX_MESSAGES, &parts, &n), 0);
	assert_int_equal(n, 1);
	textsplit_free(parts, n);
	free(s);

	s = repeat("あ", 5000, "い");
	assert_int_equal(textsplit(s, 5000, 5, &parts, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(textsplit_utf16_units(parts[0]), 5000);
	assert_string_equal(parts[1], "い");
	textsplit_free(parts, n);
	free(s);

	/* 4999 units and an emoji (2 units) make 5001: the emoji moves whole. */
	s = repeat("あ", 4999, "\xf0\x9f\x98\x80");
	assert_int_equal(textsplit(s, 5000, 5, &parts, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(textsplit_utf16_units(parts[0]), 4999);
	assert_string_equal(parts[1], "\xf0\x9f\x98\x80");
	textsplit_free(parts, n);
	free(s);

	/* 2500 emoji are 5000 units. */
	s = repeat("\xf0\x9f\x98\x80", 2500, "");
	assert_int_equal(textsplit(s, 5000, 5, &parts, &n), 0);
	assert_int_equal(n, 1);
	textsplit_free(parts, n);
	free(s);

	/* 5 × 5000 is the most a delivery can hold. */
	s = repeat("あ", 25000, "");
	assert_int_equal(textsplit(s, 5000, 5, &parts, &n), 0);
	assert_int_equal(n, 5);
	textsplit_free(parts, n);
	free(s);
	s = repeat("あ", 25001, "");
	assert_int_equal(textsplit(s, 5000, 5, &parts, &n), -1);
	assert_null(parts);
	free(s);
}

/* Long sentences: every cut falls after a 。 and nothing is lost. */
static void sentences_rejoin(void **state)
{
	char **parts;
	size_t n, i, total = 0;
	char *s;

	(void)state;
	s = repeat("高崎市からのお知らせです。", 1000, "");
	assert_int_equal(textsplit(s, 5000, 5, &parts, &n), 0);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		size_t len = strlen(parts[i]);

		assert_true(len >= 3);
		assert_memory_equal(parts[i] + len - 3, "。", 3);
		assert_memory_equal(s + total, parts[i], len);
		total += len;
	}
	assert_int_equal(total, strlen(s));
	textsplit_free(parts, n);
	free(s);
	textsplit_free(NULL, 0);
}

struct prefix_case {
	const char *name;
	const char *text;
	size_t max_units, max_messages;
	unsigned flags;
	int rc;
	const char *parts[4]; /* NULL-terminated */
	const char *rest;     /* what was left out; "" when nothing */
};

static const struct prefix_case prefix_cases[] = {
	{"all fits", "あいう。えお", 10, 2, 0, 0, {"あいう。えお"}, ""},
	{"empty", "  ", 10, 2, 0, 0, {NULL}, ""},
	{"rest after the last message",
	 "一。二。三。四。",
	 2,
	 2,
	 0,
	 0,
	 {"一。", "二。"},
	 "三。四。"},
	{"rest skips white space", "ab cd  ef", 2, 2, 0, 0, {"ab", "cd"}, "ef"},
	{"trailing white space is not a rest", "ab cd  ", 2, 2, 0, 0, {"ab", "cd"}, ""},
	{"rest never starts inside an emoji", "ab" FAMILY "c", 3, 1, 0, 0, {"ab"}, FAMILY "c"},
	{"a long URL fails without the flag", "https://ex.jp/abcdef", 8, 5, 0, -1, {NULL}, ""},
	{"a long URL is cut with the flag",
	 "https://ex.jp/abcdef",
	 8,
	 5,
	 TEXTSPLIT_CUT_LONG_URLS,
	 0,
	 {"https://", "ex.jp/ab", "cdef"},
	 ""},
	{"the flag still cuts a short URL whole",
	 "見て https://ex.jp/ab です",
	 16,
	 5,
	 TEXTSPLIT_CUT_LONG_URLS,
	 0,
	 {"見て", "https://ex.jp/ab", "です"},
	 ""},
	{"a cut URL never halves an emoji after it",
	 "https://ex.jp/" GRIN_ "x",
	 15,
	 5,
	 TEXTSPLIT_CUT_LONG_URLS,
	 0,
	 {"https://ex.jp/", GRIN_ "x"},
	 ""},
	{"invalid UTF-8", "\xff", 8, 5, 0, -1, {NULL}, ""},
};

static void prefix_table(void **state)
{
	size_t i, j, n, rest;
	char **parts;
	char err[300];
	int rc;

	(void)state;
	for (i = 0; i < sizeof(prefix_cases) / sizeof(prefix_cases[0]); i++) {
		const struct prefix_case *c = &prefix_cases[i];

		print_message("# %s\n", c->name);
		rc = textsplit_prefix(c->text, c->max_units, c->max_messages, c->flags, &parts, &n,
				      &rest, err, sizeof(err));
		assert_int_equal(rc, c->rc);
		if (rc != 0) {
			assert_null(parts);
			continue;
		}
		for (j = 0; c->parts[j] != NULL; j++) {
			assert_true(j < n);
			assert_string_equal(parts[j], c->parts[j]);
			assert_true(textsplit_utf16_units(parts[j]) <= c->max_units);
		}
		assert_int_equal(n, j);
		assert_string_equal(c->text + rest, c->rest);
		textsplit_free(parts, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(utf16_units_as_line_counts),
		cmocka_unit_test(split_table),
		cmocka_unit_test(line_limits),
		cmocka_unit_test(sentences_rejoin),
		cmocka_unit_test(prefix_table),
	};

	return cmocka_run_group_tests_name("textsplit", tests, NULL, NULL);
}
