/*
 * Unit tests for lib/rules: the demo rule set of issue 4 (the same rules as
 * db/demo/0002_mail_rules.sql) applied to the sample alerts of
 * ../shared/samples (subject and body as lib/mail decodes them, written out
 * by hand), then bad patterns, runaway patterns, the sender allowlist, each
 * fallback and the corners of keyword matching.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules.h"

#define SENDER "anshin-hot@city.takasaki.example.jp"
#define PREFIX "【高崎市安心ほっとメール】"
#define RULER  "━━━━━━━━━━━━━━━━━━━━"
#define FOOTER                                                                                     \
	RULER "\n"                                                                                 \
	      "このメールは送信専用です。返信はできません。\n"               \
	      "配信内容の変更・配信停止はこちらから\n"                           \
	      "https://anshin.city.takasaki.example.jp/m/settings\n"                               \
	      "高崎市安心ほっとメール\n" RULER "\n"
#define LINK	    "詳しくは高崎市ホームページをご覧ください。\nhttps://www.city.takasaki.example.jp/"
#define HOLD_REASON "キーワードが見つからないため承認待ちにしました"

/* --- the demo rule set ------------------------------------------------------ */

static const struct rule_value category_values[] = {
	{"防犯", "crime_prevention", false},  {"交通安全", "traffic_safety", false},
	{"防災", "disaster", false},	      {"火災", "fire", false},
	{"イベント", "event", false},	      {"講座開催", "course", false},
	{"子育て支援", "childcare", false},   {"健康づくり", "health", false},
	{"広報高崎", "koho_takasaki", false}, {"その他", "other", false},
};

static const struct rule_value region_values[] = {
	{"旧高崎", "kyu_takasaki", false}, {"倉渕", "kurabuchi", false}, {"榛名", "haruna", false},
	{"新町", "shinmachi", false},	   {"吉井", "yoshii", false},	 {"群馬", "gunma", false},
	{"箕郷", "misato", false},	   {"全域", NULL, true},
};

#define NVAL(a) (sizeof(a) / sizeof((a)[0]))

/* Indexes into demo[], for tests that change one rule. */
enum { D_SENDER, D_FOOTER, D_CATEGORY, D_REGION, D_LINK, D_FALLBACK, D_COUNT };

static const struct rule_def demo[D_COUNT] = {
	[D_SENDER] = {.id = 1,
		      .kind = RULE_SENDER_ALLOW,
		      .enabled = true,
		      .name = "安心ほっとメールの送信元",
		      .pattern = "anshin-hot@city\\.takasaki\\.example\\.jp"},
	[D_FOOTER] = {.id = 2,
		      .kind = RULE_STRIP,
		      .enabled = true,
		      .name = "フッター（送信専用・配信停止の案内）",
		      .part = RULE_PART_BODY,
		      .pattern = "━{10,}\\n[\\s\\S]*?━{10,}\\n?"},
	[D_CATEGORY] = {.id = 3,
			.kind = RULE_KEYWORD,
			.enabled = true,
			.name = "種別",
			.part = RULE_PART_BODY,
			.pattern = "【種別】(.+)",
			.item_key = "category",
			.values = category_values,
			.nvalues = NVAL(category_values)},
	[D_REGION] = {.id = 4,
		      .kind = RULE_KEYWORD,
		      .enabled = true,
		      .name = "地区",
		      .part = RULE_PART_BODY,
		      .pattern = "【地区】(.+)",
		      .item_key = "region",
		      .values = region_values,
		      .nvalues = NVAL(region_values)},
	[D_LINK] = {.id = 5,
		    .kind = RULE_APPEND,
		    .enabled = true,
		    .name = "市のホームページ",
		    .part = RULE_PART_BODY,
		    .text = LINK,
		    .placement = RULE_TAIL},
	[D_FALLBACK] = {.id = 6,
			.kind = RULE_FALLBACK,
			.enabled = true,
			.name = "キーワードなし",
			.fallback = FALLBACK_HOLD},
};

/* --- helpers ------------------------------------------------------------------ */

static struct rule_set *compile_ok(const struct rule_def *defs, size_t n)
{
	char err[300];
	struct rule_set *rs = rules_compile(defs, n, err, sizeof(err));

	if (rs == NULL)
		fail_msg("rules_compile: %s", err);
	return rs;
}

static struct rules_result *apply(const struct rule_set *rs, const char *subject, const char *body,
				  const char *header_from, const char *envelope_from)
{
	struct mail_alert a;
	struct rules_result *r = NULL;

	memset(&a, 0, sizeof(a));
	a.subject = (char *)(uintptr_t)subject; /* rules_apply() only reads it */
	a.body = (char *)(uintptr_t)body;
	a.header_from = (char *)(uintptr_t)header_from;
	assert_int_equal(rules_apply(rs, &a, envelope_from, &r), HL_OK);
	assert_non_null(r);
	assert_non_null(r->text);
	assert_non_null(r->trace);
	return r;
}

/* json_dumps() of j with sorted keys, "null" for NULL; the caller frees. */
static char *dump(const json_t *j)
{
	char *s = j != NULL ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY)
			    : strdup("null");

	assert_non_null(s);
	return s;
}

static void assert_json(const json_t *j, const char *want)
{
	char *got = dump(j);

	assert_string_equal(got, want);
	free(got);
}

/* The trace without its timings, which vary from run to run. */
static void assert_trace(const struct rules_result *r, const char *want)
{
	json_t *copy = json_deep_copy(r->trace), *entry;
	size_t i;

	assert_non_null(copy);
	json_array_foreach(copy, i, entry)
	{
		assert_true(json_is_integer(json_object_get(entry, "us")) ||
			    json_object_get(entry, "disabled") != NULL);
		json_object_del(entry, "us");
	}
	assert_json(copy, want);
	json_decref(copy);
}

static void assert_result(const struct rules_result *r, enum rules_action action, const char *text,
			  const char *target, const char *reason)
{
	assert_string_equal(rules_action_name(r->action), rules_action_name(action));
	if (text != NULL)
		assert_string_equal(r->text, text);
	assert_json(r->target, target);
	if (reason == NULL)
		assert_null(r->reason);
	else
		assert_string_equal(r->reason, reason);
}

/* --- the samples through the demo rules ------------------------------------------- */

struct sample_case {
	const char *name;
	const char *subject, *body;
	enum rules_action action;
	const char *text;
	const char *target;
	const char *reason;
};

static const struct sample_case samples[] = {
	{"01 防犯 倉渕", PREFIX "不審者情報（倉渕地域）",
	 "【種別】防犯\n【地区】倉渕\n\n"
	 "本日１１月２０日（木）午後３時３０分ごろ、倉渕町三ノ倉地内の路上で、下校中の児童が見知ら"
	 "ぬ男"
	 "から声をかけられる事案が発生しました。\n"
	 "男は５０歳くらい、黒っぽい上着を着用。\n"
	 "不審な人物を見かけたら、すぐに１１０番通報してください。\n\n"
	 "問い合わせ：高崎市 防災安全課 027-321-1352\n\n" FOOTER,
	 RULES_SEND,
	 PREFIX
	 "不審者情報（倉渕地域）\n\n"
	 "【種別】防犯\n【地区】倉渕\n\n"
	 "本日１１月２０日（木）午後３時３０分ごろ、倉渕町三ノ倉地内の路上で、下校中の児童が見知ら"
	 "ぬ男から声をかけられる事案が発生しました。\n"
	 "男は５０歳くらい、黒っぽい上着を着用。\n"
	 "不審な人物を見かけたら、すぐに１１０番通報してください。\n\n"
	 "問い合わせ：高崎市 防災安全課 027-321-1352\n\n" LINK,
	 "{\"all\":[{\"any\":[\"crime_prevention\"],\"item\":\"category\"},"
	 "{\"any\":[\"kurabuchi\"],\"item\":\"region\"}]}",
	 NULL},
	/* 全域: the region is unrestricted, the category still applies. */
	{"02 防災 全域", PREFIX "大雨警報（土砂災害）発表",
	 "【種別】防災\n【地区】全域\n\n"
	 "11月21日 05時12分 気象庁発表\n"
	 "高崎市に大雨警報（土砂災害）が発表されました。\n"
	 "土砂災害警戒区域にお住まいの方は、今後の情報に注意し、早めの避難を心がけてください。\n"
	 "避難所の開設状況は市ホームページでお知らせします。\n"
	 "https://www.city.takasaki.example.jp/bosai/\n\n" FOOTER,
	 RULES_SEND,
	 PREFIX
	 "大雨警報（土砂災害）発表\n\n"
	 "【種別】防災\n【地区】全域\n\n"
	 "11月21日 05時12分 気象庁発表\n"
	 "高崎市に大雨警報（土砂災害）が発表されました。\n"
	 "土砂災害警戒区域にお住まいの方は、今後の情報に注意し、早めの避難を心がけてください。\n"
	 "避難所の開設状況は市ホームページでお知らせします。\n"
	 "https://www.city.takasaki.example.jp/bosai/\n\n" LINK,
	 "{\"all\":[{\"any\":[\"disaster\"],\"item\":\"category\"}]}", NULL},
	{"03 火災 榛名", PREFIX "火災発生情報（榛名地域）",
	 "【種別】火災\n【地区】榛名\n\n"
	 "11月22日 14時05分ごろ、榛名山町付近で建物火災が発生しました。\n"
	 "付近を通行の際は消防車両に注意してください。\n\n" FOOTER,
	 RULES_SEND,
	 PREFIX "火災発生情報（榛名地域）\n\n"
		"【種別】火災\n【地区】榛名\n\n"
		"11月22日 14時05分ごろ、榛名山町付近で建物火災が発生しました。\n"
		"付近を通行の際は消防車両に注意してください。\n\n" LINK,
	 "{\"all\":[{\"any\":[\"fire\"],\"item\":\"category\"},"
	 "{\"any\":[\"haruna\"],\"item\":\"region\"}]}",
	 NULL},
	{"04 イベント 新町", PREFIX "新町地域 歳末特別警戒のお知らせ",
	 "【種別】イベント\n【地区】新町\n\n"
	 "12月20日（土）から12月30日（火）まで、新町地域で歳末特別警戒を実施します。\n"
	 "期間中、消防団車両による巡回広報を行います。ご協力をお願いします。\n\n" FOOTER,
	 RULES_SEND, NULL,
	 "{\"all\":[{\"any\":[\"event\"],\"item\":\"category\"},"
	 "{\"any\":[\"shinmachi\"],\"item\":\"region\"}]}",
	 NULL},
	{"05 子育て支援 吉井", PREFIX "吉井地域 子育て広場 臨時休館",
	 "【種別】子育て支援\n【地区】吉井\n\n"
	 "施設点検のため、１２月３日（水）は吉井子育て広場を臨時休館します。\n"
	 "ご不便をおかけしますが、ご理解をお願いします。\n\n" FOOTER,
	 RULES_SEND, NULL,
	 "{\"all\":[{\"any\":[\"childcare\"],\"item\":\"category\"},"
	 "{\"any\":[\"yoshii\"],\"item\":\"region\"}]}",
	 NULL},
	/* 群馬、箕郷: two regions from one capture, ORed. */
	{"06 交通安全 群馬、箕郷", PREFIX "交通事故多発のお知らせ（群馬・箕郷地域）",
	 "【種別】交通安全\n【地区】群馬、箕郷\n\n"
	 "夕暮れ時の歩行者事故が増えています。\n"
	 "外出の際は明るい服装や反射材を身につけましょう。\n\n" FOOTER,
	 RULES_SEND,
	 PREFIX "交通事故多発のお知らせ（群馬・箕郷地域）\n\n"
		"【種別】交通安全\n【地区】群馬、箕郷\n\n"
		"夕暮れ時の歩行者事故が増えています。\n"
		"外出の際は明るい服装や反射材を身につけましょう。\n\n" LINK,
	 "{\"all\":[{\"any\":[\"traffic_safety\"],\"item\":\"category\"},"
	 "{\"any\":[\"gunma\",\"misato\"],\"item\":\"region\"}]}",
	 NULL},
	{"no keyword: the demo holds", PREFIX "システムメンテナンスのお知らせ",
	 "12月1日 2時から4時まで配信を停止します。\n\n" FOOTER, RULES_HOLD,
	 PREFIX "システムメンテナンスのお知らせ\n\n"
		"12月1日 2時から4時まで配信を停止します。\n\n" LINK,
	 "null", HOLD_REASON},
	/* Both items said 全域-like everyone: no target at all. */
	{"only unknown category, 全域", PREFIX "お知らせ", "【種別】不明な種別\n【地区】全域\n本文",
	 RULES_SEND, PREFIX "お知らせ\n\n【種別】不明な種別\n【地区】全域\n本文\n\n" LINK, "null",
	 NULL},
};

static void demo_samples(void **state)
{
	struct rule_set *rs = compile_ok(demo, D_COUNT);
	struct rules_result *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample_case *c = &samples[i];

		print_message("# %s\n", c->name);
		r = apply(rs, c->subject, c->body, SENDER, SENDER);
		assert_result(r, c->action, c->text, c->target, c->reason);
		rules_result_free(r);
	}
	rules_free(rs);
}

static void demo_trace(void **state)
{
	struct rule_set *rs = compile_ok(demo, D_COUNT);
	struct rules_result *r;

	(void)state;
	r = apply(rs, samples[5].subject, samples[5].body, SENDER, SENDER);
	assert_trace(r,
		     "[{\"kind\":\"sender_allow\",\"matched\":true,\"rule\":1},"
		     "{\"kind\":\"strip\",\"matched\":true,\"removed\":1,\"rule\":2},"
		     "{\"captures\":[\"交通安全\"],\"kind\":\"keyword\",\"matched\":true,"
		     "\"rule\":3,\"unknown\":[],\"values\":[\"traffic_safety\"]},"
		     "{\"captures\":[\"群馬、箕郷\"],\"kind\":\"keyword\",\"matched\":true,"
		     "\"rule\":4,\"unknown\":[],\"values\":[\"gunma\",\"misato\"]},"
		     "{\"kind\":\"append\",\"matched\":true,\"rule\":5},"
		     "{\"action\":\"hold\",\"kind\":\"fallback\",\"matched\":false,\"rule\":6}]");
	rules_result_free(r);

	/* The fallback used, and 全域 noted. */
	r = apply(rs, "件名", "【地区】全域\n本文", SENDER, SENDER);
	assert_result(r, RULES_SEND, "件名\n\n【地区】全域\n本文\n\n" LINK, "null", NULL);
	assert_trace(r,
		     "[{\"kind\":\"sender_allow\",\"matched\":true,\"rule\":1},"
		     "{\"kind\":\"strip\",\"matched\":false,\"removed\":0,\"rule\":2},"
		     "{\"captures\":[],\"kind\":\"keyword\",\"matched\":false,"
		     "\"rule\":3,\"unknown\":[],\"values\":[]},"
		     "{\"captures\":[\"全域\"],\"everyone\":true,\"kind\":\"keyword\","
		     "\"matched\":true,\"rule\":4,\"unknown\":[],\"values\":[]},"
		     "{\"kind\":\"append\",\"matched\":true,\"rule\":5},"
		     "{\"action\":\"hold\",\"kind\":\"fallback\",\"matched\":false,\"rule\":6}]");
	rules_result_free(r);

	r = apply(rs, "件名", "本文", SENDER, SENDER);
	assert_result(r, RULES_HOLD, "件名\n\n本文\n\n" LINK, "null", HOLD_REASON);
	assert_json(json_object_get(json_array_get(r->trace, 5), "matched"), "true");
	rules_result_free(r);
	rules_free(rs);
}

/* --- patterns ------------------------------------------------------------------------ */

static void bad_patterns(void **state)
{
	static const struct {
		const char *pattern;
		const char *err;
	} cases[] = {
		{"(abc", "pattern error at offset 4: missing closing parenthesis"},
		{"地区：(.+", "pattern error at offset 12: missing closing parenthesis"},
		{"[a", "pattern error at offset 2: missing terminating ] for character class"},
		{"a{2,1}", "pattern error at offset 5: numbers out of order in {} quantifier"},
		{"*a", "pattern error at offset 0: quantifier does not follow a repeatable item"},
		{"(?<n>a)(?<n>b)",
		 "pattern error at offset 12: two named subpatterns have the same name "
		 "(PCRE2_DUPNAMES not set)"},
		{"a\\C", "pattern error at offset 3: using \\C is disabled by the application"},
		{"", "pattern error at offset 0: empty pattern"},
	};
	struct rule_def def = demo[D_REGION];
	struct rule_set *rs;
	char err[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("# %s\n", cases[i].pattern);
		assert_false(rules_check_pattern(cases[i].pattern, err, sizeof(err)));
		assert_string_equal(err, cases[i].err);
	}
	assert_true(rules_check_pattern("【地区】(.+)", err, sizeof(err)));

	/* rules_compile() names the rule. */
	def.id = 12;
	def.pattern = "地区：(.+";
	rs = rules_compile(&def, 1, err, sizeof(err));
	assert_null(rs);
	assert_string_equal(err, "rule 12 (地区): pattern error at offset 12: missing closing "
				 "parenthesis");

	/* A disabled rule is not compiled, so its error stops nothing. */
	def.enabled = false;
	rs = compile_ok(&def, 1);
	rules_free(rs);
	rules_free(NULL);
}

static char *runaway_body(void)
{
	static const char head[] = "【地区】倉渕\n";
	size_t n = 5000, hl = sizeof(head) - 1;
	char *s = malloc(hl + n + 2);

	assert_non_null(s);
	memcpy(s, head, hl);
	memset(s + hl, 'a', n);
	s[hl + n] = '!';
	s[hl + n + 1] = '\0';
	return s;
}

/* (a+)+$ on 5000 a's is exponential: the match limit stops it, the rule
 * counts as not matched, and the others still work. */
static void catastrophic_pattern(void **state)
{
	struct rule_def defs[3] = {demo[D_REGION], demo[D_CATEGORY], demo[D_FOOTER]};
	struct rule_set *rs;
	struct rules_result *r;
	char *body = runaway_body();
	json_t *e;

	(void)state;
	defs[1].pattern = "(a+)+$";
	defs[2].pattern = "(a|aa)+$";
	rs = compile_ok(defs, 3);
	r = apply(rs, "件名", body, SENDER, SENDER);
	assert_result(r, RULES_SEND, NULL,
		      "{\"all\":[{\"any\":[\"kurabuchi\"],\"item\":\"region\"}]}", NULL);
	e = json_array_get(r->trace, 1);
	assert_json(json_object_get(e, "error"), "\"match limit exceeded\"");
	assert_json(json_object_get(e, "matched"), "false");
	assert_true(json_is_integer(json_object_get(e, "us")));
	/* The strip gave up too, leaving the body as it was. */
	e = json_array_get(r->trace, 2);
	assert_non_null(json_object_get(e, "error"));
	assert_json(json_object_get(e, "matched"), "false");
	assert_int_equal(strlen(r->text), strlen("件名\n\n") + strlen(body));
	rules_result_free(r);
	rules_free(rs);
	free(body);
}

/* A pattern that can match the empty string ends, and strips what it should. */
static void empty_matches(void **state)
{
	struct rule_def defs[2] = {demo[D_FOOTER], demo[D_REGION]};
	struct rule_set *rs;
	struct rules_result *r;

	(void)state;
	defs[0].pattern = "x*";
	defs[1].pattern = "【地区】(?:(倉渕)|榛名)";
	rs = compile_ok(defs, 2);
	r = apply(rs, "", "axxbx\n【地区】榛名\n【地区】倉渕", SENDER, SENDER);
	assert_result(r, RULES_SEND, "ab\n【地区】榛名\n【地区】倉渕",
		      "{\"all\":[{\"any\":[\"kurabuchi\"],\"item\":\"region\"}]}", NULL);
	/* Empty matches remove nothing and are not counted. */
	assert_json(json_object_get(json_array_get(r->trace, 0), "removed"), "2");
	assert_json(json_object_get(json_array_get(r->trace, 1), "captures"), "[\"倉渕\"]");
	rules_result_free(r);
	rules_free(rs);
}

/* --- sender allowlist ------------------------------------------------------------------ */

static void sender_allowlist(void **state)
{
	static const struct {
		const char *header_from, *envelope;
		enum rules_action action;
		const char *reason;
	} cases[] = {
		{SENDER, SENDER, RULES_SEND, NULL},
		/* Only the envelope sender counts: a header From is easy to forge. */
		{SENDER, "bounce@relay.example.jp", RULES_REFUSE,
		 "送信元 bounce@relay.example.jp は許可された差出人ではないため配信しません"},
		{"evil@example.com", "ANSHIN-HOT@CITY.TAKASAKI.EXAMPLE.JP", RULES_SEND, NULL},
		{NULL, SENDER, RULES_SEND, NULL},
		{SENDER, "", RULES_REFUSE, "送信元 <> は許可された差出人ではないため配信しません"},
		{"evil@example.com", "evil@example.com", RULES_REFUSE,
		 "送信元 evil@example.com は許可された差出人ではないため配信しません"},
		/* The whole address must match, not a part of it. */
		{SENDER ".attacker.example", "x" SENDER, RULES_REFUSE,
		 "送信元 x" SENDER " は許可された差出人ではないため配信しません"},
		{NULL, "", RULES_REFUSE, "送信元 <> は許可された差出人ではないため配信しません"},
		/* The reason is stored: a sender that is not UTF-8 is made so. */
		{NULL, "\xff@example.com", RULES_REFUSE,
		 "送信元 \xef\xbf\xbd@example.com は許可された差出人ではないため配信しません"},
	};
	struct rule_set *rs = compile_ok(demo, D_COUNT);
	struct rules_result *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("# %zu\n", i);
		r = apply(rs, samples[0].subject, samples[0].body, cases[i].header_from,
			  cases[i].envelope);
		assert_int_equal(r->action, cases[i].action);
		if (cases[i].reason == NULL)
			assert_null(r->reason);
		else
			assert_memory_equal(r->reason, cases[i].reason,
					    strlen(cases[i].reason) + 1);
		if (r->action == RULES_REFUSE)
			assert_null(r->target);
		rules_result_free(r);
	}
	rules_free(rs);
}

/* Any one of several sender rules will do; none at all allows everyone. */
static void sender_rules_combine(void **state)
{
	struct rule_def defs[2] = {demo[D_SENDER], demo[D_SENDER]};
	struct rule_set *rs;
	struct rules_result *r;

	(void)state;
	defs[1].id = 7;
	defs[1].pattern = "[^@]+@bosai\\.example\\.jp";
	rs = compile_ok(defs, 2);
	r = apply(rs, "件名", "本文", NULL, "alert@bosai.example.jp");
	assert_int_equal(r->action, RULES_HOLD);
	assert_json(json_object_get(json_array_get(r->trace, 1), "matched"), "true");
	rules_result_free(r);
	rules_free(rs);

	rs = compile_ok(&demo[D_REGION], 1);
	r = apply(rs, "件名", "【地区】榛名", NULL, "anyone@example.com");
	assert_int_equal(r->action, RULES_SEND);
	rules_result_free(r);
	rules_free(rs);
}

/* --- fallbacks ------------------------------------------------------------------------- */

static void fallbacks(void **state)
{
	static const struct {
		const char *name;
		bool present;
		enum rule_fallback fallback;
		const char *target_json;
		enum rules_action action;
		const char *target;
		const char *reason;
	} cases[] = {
		{"hold", true, FALLBACK_HOLD, NULL, RULES_HOLD, "null", HOLD_REASON},
		{"everyone", true, FALLBACK_EVERYONE, NULL, RULES_SEND, "null", NULL},
		{"segment", true, FALLBACK_SEGMENT,
		 "{\"all\":[{\"item\":\"category\",\"any\":[\"other\"]}]}", RULES_SEND,
		 "{\"all\":[{\"any\":[\"other\"],\"item\":\"category\"}]}", NULL},
		{"segment, bad JSON", true, FALLBACK_SEGMENT, "{\"all\":[", RULES_HOLD, "null",
		 "フォールバックの配信先のJSONが不正なため承認待ちにしました（1行8列: ']' "
		 "expected near end of file）"},
		{"segment, not an object", true, FALLBACK_SEGMENT, "[1]", RULES_HOLD, "null",
		 "フォールバックの配信先がJSONオブジェクトでないため承認待ちにしました"},
		{"none", false, FALLBACK_HOLD, NULL, RULES_HOLD, "null",
		 "キーワードが見つからず、フォールバックの規則もないため承認待ちにしました"},
	};
	struct rule_def defs[D_COUNT];
	struct rule_set *rs;
	struct rules_result *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("# %s\n", cases[i].name);
		memcpy(defs, demo, sizeof(defs));
		defs[D_FALLBACK].fallback = cases[i].fallback;
		defs[D_FALLBACK].fallback_target = cases[i].target_json;
		rs = compile_ok(defs, cases[i].present ? D_COUNT : D_COUNT - 1);
		r = apply(rs, PREFIX "お知らせ", "本文です。\n" FOOTER, SENDER, SENDER);
		assert_result(r, cases[i].action, PREFIX "お知らせ\n\n本文です。\n\n" LINK,
			      cases[i].target, cases[i].reason);
		rules_result_free(r);
		rules_free(rs);
	}

	/* A fallback is not used when a keyword matched. */
	memcpy(defs, demo, sizeof(defs));
	defs[D_FALLBACK].fallback = FALLBACK_EVERYONE;
	rs = compile_ok(defs, D_COUNT);
	r = apply(rs, "件名", "【種別】防犯", SENDER, SENDER);
	assert_result(r, RULES_SEND, NULL,
		      "{\"all\":[{\"any\":[\"crime_prevention\"],\"item\":\"category\"}]}", NULL);
	rules_result_free(r);
	rules_free(rs);

	/* An empty rule set holds everything (and says why). */
	rs = compile_ok(NULL, 0);
	r = apply(rs, "件名", "本文", SENDER, SENDER);
	assert_result(r, RULES_HOLD, "件名\n\n本文", "null",
		      "キーワードが見つからず、フォールバックの規則もないため承認待ちにしました");
	assert_json(r->trace, "[]");
	rules_result_free(r);
	rules_free(rs);
}

/* --- keywords ---------------------------------------------------------------------------- */

static void keywords(void **state)
{
	static const struct {
		const char *name, *body, *target, *unknown;
		enum rules_action action;
	} cases[] = {
		{"unknown region only", "【種別】防犯\n【地区】謎町",
		 "{\"all\":[{\"any\":[\"crime_prevention\"],\"item\":\"category\"}]}", "[\"謎町\"]",
		 RULES_SEND},
		{"known and unknown", "【地区】倉渕、謎町",
		 "{\"all\":[{\"any\":[\"kurabuchi\"],\"item\":\"region\"}]}", "[\"謎町\"]",
		 RULES_SEND},
		{"nothing known: not matched, fallback", "【地区】謎町、不明", "null",
		 "[\"謎町\",\"不明\"]", RULES_HOLD},
		{"several matches are ORed, duplicates once",
		 "【地区】倉渕\n本文\n【地区】榛名\n【地区】倉渕",
		 "{\"all\":[{\"any\":[\"kurabuchi\",\"haruna\"],\"item\":\"region\"}]}", "[]",
		 RULES_SEND},
		{"separators and spaces", "【地区】 倉渕 ・榛名，新町,吉井　、　箕郷 ",
		 "{\"all\":[{\"any\":[\"kurabuchi\",\"haruna\",\"shinmachi\",\"yoshii\",\"misato\"]"
		 ","
		 "\"item\":\"region\"}]}",
		 "[]", RULES_SEND},
		{"全域 wins over regions", "【地区】倉渕、全域", "null", "[]", RULES_SEND},
		{"empty pieces ignored", "【地区】、、倉渕、",
		 "{\"all\":[{\"any\":[\"kurabuchi\"],\"item\":\"region\"}]}", "[]", RULES_SEND},
	};
	struct rule_def defs[2] = {demo[D_REGION], demo[D_CATEGORY]};
	struct rule_set *rs = compile_ok(defs, 2);
	struct rules_result *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("# %s\n", cases[i].name);
		r = apply(rs, "", cases[i].body, NULL, NULL);
		assert_int_equal(r->action, cases[i].action);
		assert_json(r->target, cases[i].target);
		assert_json(json_object_get(json_array_get(r->trace, 0), "unknown"),
			    cases[i].unknown);
		rules_result_free(r);
	}
	rules_free(rs);
}

/* One keyword may map to several values; full-width letters fold to ASCII;
 * two rules on one item are ORed. */
static void keyword_tables(void **state)
{
	static const struct rule_value area_values[] = {{"北部", "kurabuchi", false},
							{"北部", "haruna", false},
							{"Ａ地区", "yoshii", false}};
	struct rule_def defs[2] = {demo[D_REGION], demo[D_REGION]};
	struct rule_set *rs;
	struct rules_result *r;

	(void)state;
	defs[0].values = area_values;
	defs[0].nvalues = NVAL(area_values);
	defs[1].id = 9;
	defs[1].part = RULE_PART_SUBJECT;
	defs[1].pattern = "（(.+?)地域）";
	rs = compile_ok(defs, 2);
	r = apply(rs, "お知らせ（箕郷地域）", "【地区】北部、A地区", NULL, NULL);
	assert_result(r, RULES_SEND, NULL,
		      "{\"all\":[{\"any\":[\"kurabuchi\",\"haruna\",\"yoshii\",\"misato\"],"
		      "\"item\":\"region\"}]}",
		      NULL);
	rules_result_free(r);
	rules_free(rs);
}

/* A rule on the subject sees only the subject; strip and append work there. */
static void subject_rules(void **state)
{
	const struct rule_def defs[] = {
		{.id = 1,
		 .kind = RULE_STRIP,
		 .enabled = true,
		 .part = RULE_PART_SUBJECT,
		 .pattern = "^【高崎市安心ほっとメール】"},
		{.id = 2,
		 .kind = RULE_APPEND,
		 .enabled = true,
		 .part = RULE_PART_SUBJECT,
		 .text = "■",
		 .placement = RULE_HEAD},
		{.id = 3,
		 .kind = RULE_KEYWORD,
		 .enabled = true,
		 .part = RULE_PART_SUBJECT,
		 .pattern = "（(.+?)地域）",
		 .item_key = "region",
		 .values = region_values,
		 .nvalues = NVAL(region_values)},
		{.id = 4,
		 .kind = RULE_APPEND,
		 .enabled = true,
		 .part = RULE_PART_BODY,
		 .text = "【市からのお知らせ】",
		 .placement = RULE_HEAD},
	};
	struct rule_set *rs = compile_ok(defs, NVAL(defs));
	struct rules_result *r;

	(void)state;
	r = apply(rs, PREFIX "不審者情報（倉渕地域）", "本文（榛名地域）です。", NULL, NULL);
	assert_result(r, RULES_SEND,
		      "■不審者情報（倉渕地域）\n\n【市からのお知らせ】\n\n本文（榛名地域）です。",
		      "{\"all\":[{\"any\":[\"kurabuchi\"],\"item\":\"region\"}]}", NULL);
	rules_result_free(r);

	/* The keyword only in the body: the subject rule does not see it. */
	r = apply(rs, "不審者情報", "本文（榛名地域）です。", NULL, NULL);
	assert_result(r, RULES_HOLD, NULL, "null",
		      "キーワードが見つからず、フォールバックの規則もないため承認待ちにしました");
	rules_result_free(r);
	rules_free(rs);
}

/* Rules run in order: a keyword rule after the strip no longer sees what
 * was stripped; a disabled rule does nothing. */
static void order_and_disabled(void **state)
{
	struct rule_def defs[3] = {demo[D_FOOTER], demo[D_REGION], demo[D_LINK]};
	struct rule_set *rs;
	struct rules_result *r;
	const char *body = "本文\n" RULER "\n【地区】倉渕\n" RULER "\n";

	(void)state;
	rs = compile_ok(defs, 3);
	r = apply(rs, "", body, NULL, NULL);
	assert_result(r, RULES_HOLD, "本文\n\n" LINK, "null",
		      "キーワードが見つからず、フォールバックの規則もないため承認待ちにしました");
	rules_result_free(r);
	rules_free(rs);

	defs[0].enabled = false;
	defs[2].enabled = false;
	rs = compile_ok(defs, 3);
	r = apply(rs, "", body, NULL, NULL);
	assert_result(r, RULES_SEND, "本文\n" RULER "\n【地区】倉渕\n" RULER,
		      "{\"all\":[{\"any\":[\"kurabuchi\"],\"item\":\"region\"}]}", NULL);
	assert_trace(r, "[{\"disabled\":true,\"kind\":\"strip\",\"matched\":false,\"rule\":2},"
			"{\"captures\":[\"倉渕\"],\"kind\":\"keyword\",\"matched\":true,\"rule\":4,"
			"\"unknown\":[],\"values\":[\"kurabuchi\"]},"
			"{\"disabled\":true,\"kind\":\"append\",\"matched\":false,\"rule\":5}]");
	rules_result_free(r);
	rules_free(rs);
}

/* --- the LINE text ------------------------------------------------------------------------ */

static void text_shape(void **state)
{
	static const struct {
		const char *subject, *body, *text;
	} cases[] = {
		{"件名", "本文", "件名\n\n本文"},
		{"", "本文だけ", "本文だけ"},
		{"件名だけ", "", "件名だけ"},
		{"  件名  ", "\n\n本文\n", "件名\n\n本文"},
		{"件名", "一\n\n\n\n二\n\n\n三", "件名\n\n一\n\n二\n\n三"},
		{"件名", "行末の空白   \n \t \n\n次の行", "件名\n\n行末の空白\n\n次の行"},
		{"件名", "\r\n本文\r\n", "件名\n\n本文"},
		{"　字下げ", "　字下げの本文", "　字下げ\n\n　字下げの本文"},
		{"壊れた\xff", "本文\xe3\x81",
		 "壊れた\xef\xbf\xbd\n\n本文\xef\xbf\xbd\xef\xbf\xbd"},
	};
	struct rule_set *rs = compile_ok(&demo[D_REGION], 1);
	struct rules_result *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("# %zu\n", i);
		r = apply(rs, cases[i].subject, cases[i].body, NULL, NULL);
		assert_string_equal(r->text, cases[i].text);
		rules_result_free(r);
	}
	/* Nothing left to send: held, whatever the fallback. */
	r = apply(rs, " ", "\n\n", NULL, NULL);
	assert_result(r, RULES_HOLD, "", "null", "配信する本文が空のため承認待ちにしました");
	rules_result_free(r);
	rules_free(rs);
}

/* Definitions the database would refuse are refused here too. */
static void bad_definitions(void **state)
{
	struct rule_def def;
	char err[300];

	(void)state;
	def = demo[D_LINK];
	def.text = NULL;
	assert_null(rules_compile(&def, 1, err, sizeof(err)));
	assert_string_equal(err, "rule 5 (市のホームページ): append text missing or not UTF-8");
	def = demo[D_REGION];
	def.item_key = NULL;
	assert_null(rules_compile(&def, 1, err, sizeof(err)));
	assert_string_equal(err, "rule 4 (地区): keyword rule without a segment item");
	def = demo[D_REGION];
	def.part = (enum rule_part)7;
	assert_null(rules_compile(&def, 1, err, sizeof(err)));
	assert_string_equal(err, "rule 4 (地区): unknown part 7");
	def = demo[D_FALLBACK];
	def.fallback = FALLBACK_SEGMENT;
	assert_null(rules_compile(&def, 1, err, sizeof(err)));
	assert_string_equal(err, "rule 6 (キーワードなし): fallback segment without a target");
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(rules_action_name(RULES_SEND), "send");
	assert_string_equal(rules_action_name(RULES_HOLD), "hold");
	assert_string_equal(rules_action_name(RULES_REFUSE), "refuse");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(demo_samples),
		cmocka_unit_test(demo_trace),
		cmocka_unit_test(bad_patterns),
		cmocka_unit_test(catastrophic_pattern),
		cmocka_unit_test(empty_matches),
		cmocka_unit_test(sender_allowlist),
		cmocka_unit_test(sender_rules_combine),
		cmocka_unit_test(fallbacks),
		cmocka_unit_test(keywords),
		cmocka_unit_test(keyword_tables),
		cmocka_unit_test(subject_rules),
		cmocka_unit_test(order_and_disabled),
		cmocka_unit_test(text_shape),
		cmocka_unit_test(bad_definitions),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
