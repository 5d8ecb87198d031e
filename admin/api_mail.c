/*
 * api_mail — the mail bridge in hotline-admin: the rules editor, the rule
 * test panel and the inbound mail log (docs/api.md, "Mail bridge").
 *
 *   GET  /api/mail-rules         管理者: the whole rule set, editable form
 *   PUT  /api/mail-rules         管理者: replace it (validated, one transaction)
 *   POST /api/mail-rules/test    any: what the bridge would make of a mail
 *   GET  /api/mails              any: the inbound mail log
 *   GET  /api/mails/{id}         any: one mail, decoded body and rule trace
 *   GET  /api/mails/{id}/raw     any: the original bytes, as a download
 *
 * The editor validates a rule set with the compiler the ingest uses
 * (rules_compile()), each rule on its own first so that the answer names
 * the rule and the field; the ingest daemons read the rule definitions at
 * every mail and recompile when they changed (lib/ingest.c), so a saved
 * set is used from the next mail on.  The test panel runs lib/rules_preview
 * like `hotlinectl rules test`.
 *
 * Reading the rules is for 管理者 only, like changing them: the sender
 * allowlist is part of them, and knowing which sender addresses the bridge
 * trusts helps whoever would forge an alert.  A 一般職員 may still try a
 * mail in the test panel (against the saved rules, or a form of their own)
 * and read the mail log, which holds what residents were sent anyway.
 */
#include "api_mail.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mail.h"
#include "rules.h"
#include "rules_preview.h"
#include "store_mail.h"
#include "store_rules.h"
#include "store_segments.h"
#include "str.h"
#include "utf8.h"

/* Rules in one set, keywords in one rule: far beyond any city's needs;
 * they bound the work one request can ask for. */
#define RULES_MAX	    500
#define RULE_VALUES_MAX	    2000
#define RULE_NAME_MAX_CHARS 200	 /* mail_rules.name */
#define RULE_TEXT_MAX_CHARS 5000 /* mail_rules.text */
#define RULE_PATTERN_MAX    4096 /* mail_rules.pattern, PCRE2's limit in rules.c */
#define KEYWORD_MAX_CHARS   200	 /* mail_rule_values.keyword */

/* The test panel takes a pasted mail inside a JSON body.  The daemon
 * refuses bodies over 1 MiB before buffering them; a pasted mail over
 * TEST_RAW_MAX (an alert is a few KiB) is refused with 413. */
#define TEST_BODY_MAX (1024 * 1024)
#define TEST_RAW_MAX  (512 * 1024)

#define LIST_DEFAULT	50
#define LIST_MAX	200
#define QUERY_MAX_BYTES 200

/* --- small helpers --- */

struct form_error {
	char msg[700];
	char field[32];
	long index; /* the rule's index in the form, or -1 */
};

/* Record why rule i (0-based; its name, may be NULL) is refused. */
static bool __attribute__((format(printf, 5, 6)))
bad(struct form_error *e, long i, const char *name, const char *field, const char *fmt, ...)
{
	char why[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (i < 0)
		str_msg(e->msg, sizeof(e->msg), "%s", why);
	else if (name != NULL && name[0] != '\0')
		str_msg(e->msg, sizeof(e->msg), "ルール %ld（%s）: %s", i + 1, name, why);
	else
		str_msg(e->msg, sizeof(e->msg), "ルール %ld: %s", i + 1, why);
	str_msg(e->field, sizeof(e->field), "%s", field);
	e->index = i;
	return false;
}

static void reply_invalid(struct api_call *c, const struct form_error *e)
{
	json_t *v = json_pack("{s:s, s:s, s:s}", "error", "invalid", "message", e->msg, "field",
			      e->field);

	if (v != NULL && e->index >= 0)
		json_object_set_new(v, "index", json_integer(e->index));
	api_reply_json(c, 400, v);
}

/* The database's one-line error without libpq's "ERROR:  " prefix. */
static const char *db_reason(struct db *db)
{
	const char *e = db_error(db), *p = strstr(e, "ERROR:");

	if (p == NULL)
		return e;
	p += 6;
	while (*p == ' ')
		p++;
	return p;
}

/* --- the rule form --- */

struct form {
	struct rule_def *defs;
	struct rule_value **values; /* per rule */
	char **targets;		    /* per rule: fallback_target as JSON text */
	size_t n;
};

static void form_free(struct form *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		if (f->values != NULL)
			free(f->values[i]);
		if (f->targets != NULL)
			free(f->targets[i]);
	}
	free(f->defs);
	free(f->values);
	free(f->targets);
	memset(f, 0, sizeof(*f));
}

static const json_t *find_by_key(const json_t *arr, const char *key)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		const char *k = json_string_value(json_object_get(v, "key"));

		if (k != NULL && strcmp(k, key) == 0)
			return v;
	}
	return NULL;
}

static const char *jlabel(const json_t *o)
{
	const char *l = json_string_value(json_object_get(o, "label"));

	return l != NULL ? l : "?";
}

/* A string member: *out NULL when absent or null; false when of another type. */
static bool opt_string(json_t *o, const char *name, const char **out)
{
	json_t *v = json_object_get(o, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_string(v))
		return false;
	*out = json_string_value(v);
	return true;
}

static bool parse_values(struct form *f, size_t i, json_t *rule, const json_t *item,
			 const json_t *items, struct form_error *e)
{
	struct rule_def *d = &f->defs[i];
	json_t *vals = json_object_get(rule, "values"), *v;
	const json_t *values_of_item = json_object_get(item, "values");
	size_t k, j;

	if (vals == NULL || json_is_null(vals))
		return true;
	if (!json_is_array(vals))
		return bad(e, (long)i, d->name, "values",
			   "キーワードの対応表（values）は配列で指定してください。");
	if (json_array_size(vals) > RULE_VALUES_MAX)
		return bad(e, (long)i, d->name, "values", "キーワードは %d 個までです。",
			   RULE_VALUES_MAX);
	f->values[i] = calloc(json_array_size(vals) + 1, sizeof(struct rule_value));
	if (f->values[i] == NULL)
		return bad(e, -1, NULL, "rules", "メモリが不足しています。");
	json_array_foreach(vals, k, v)
	{
		struct rule_value *rv = &f->values[i][k];
		const char *kw = NULL, *val = NULL;
		json_t *every = json_object_get(v, "everyone");

		if (!json_is_object(v) || !opt_string(v, "keyword", &kw) ||
		    !opt_string(v, "value", &val))
			return bad(e, (long)i, d->name, "values",
				   "キーワード %zu 番目の形式が正しくありません。", k + 1);
		if (every != NULL && !json_is_null(every) && !json_is_boolean(every))
			return bad(e, (long)i, d->name, "values",
				   "キーワード %zu 番目の everyone は true か false "
				   "で指定してください。",
				   k + 1);
		if (kw == NULL || kw[strspn(kw, " \t\r\n")] == '\0' ||
		    utf8_chars(kw) > KEYWORD_MAX_CHARS)
			return bad(e, (long)i, d->name, "values",
				   "キーワード %zu 番目の文字（keyword）を 1〜%d "
				   "文字で入力してください。",
				   k + 1, KEYWORD_MAX_CHARS);
		rv->keyword = kw;
		rv->everyone = json_is_true(every);
		if (rv->everyone && val != NULL)
			return bad(e, (long)i, d->name, "values",
				   "キーワード「%s」: "
				   "全域（everyone）と値（value）は同時に指定できません。",
				   kw);
		if (!rv->everyone) {
			const json_t *other;
			size_t x;
			json_t *it;

			if (val == NULL)
				return bad(
					e, (long)i, d->name, "values",
					"キーワード「%s」の対応する値（value）を選んでください。",
					kw);
			if (find_by_key(values_of_item, val) == NULL) {
				json_array_foreach(items, x, it)
				{
					other = find_by_key(json_object_get(it, "values"), val);
					if (other != NULL && it != item)
						return bad(
							e, (long)i, d->name, "values",
							"キーワード「%s」の値「%s」は項目「%s」の値"
							"で、この規則の項目「%"
							"s」の値ではありません。",
							kw, jlabel(other), jlabel(it),
							jlabel(item));
				}
				return bad(e, (long)i, d->name, "values",
					   "キーワード「%s」の値「%s」は項目「%s」にありません。",
					   kw, val, jlabel(item));
			}
			rv->value_key = val;
		}
		for (j = 0; j < k; j++) {
			const struct rule_value *p = &f->values[i][j];

			if (strcmp(p->keyword, rv->keyword) == 0 && p->everyone == rv->everyone &&
			    (rv->everyone || strcmp(p->value_key, rv->value_key) == 0))
				return bad(e, (long)i, d->name, "values",
					   "キーワード「%s」の同じ対応が 2 回あります。", kw);
		}
	}
	d->values = f->values[i];
	d->nvalues = json_array_size(vals);
	return true;
}

/* One rule of the form into f->defs[i]. */
static bool parse_rule(struct api_call *c, struct form *f, size_t i, json_t *rule,
		       const json_t *items, struct form_error *e)
{
	static const char *const kinds[] = {"strip", "append", "keyword", "sender_allow",
					    "fallback"};
	static const enum rule_kind kind_vals[] = {RULE_STRIP, RULE_APPEND, RULE_KEYWORD,
						   RULE_SENDER_ALLOW, RULE_FALLBACK};
	struct rule_def *d = &f->defs[i];
	const char *kind = NULL, *part = NULL, *placement = NULL, *item_key = NULL, *action = NULL;
	json_t *id = json_object_get(rule, "id"), *en = json_object_get(rule, "enabled");
	json_t *target;
	size_t k;
	bool found = false;

	if (!json_is_object(rule))
		return bad(e, (long)i, NULL, "rules", "ルールの形式が正しくありません。");
	if (!opt_string(rule, "name", &d->name))
		return bad(e, (long)i, NULL, "name", "名前（name）は文字列で指定してください。");
	if (d->name != NULL && utf8_chars(d->name) > RULE_NAME_MAX_CHARS)
		return bad(e, (long)i, NULL, "name", "名前（name）は %d 文字までです。",
			   RULE_NAME_MAX_CHARS);
	if (id != NULL && !json_is_null(id)) {
		if (!json_is_integer(id) || json_integer_value(id) <= 0)
			return bad(e, (long)i, d->name, "id", "id が正しくありません。");
		d->id = (long long)json_integer_value(id);
	}
	if (en != NULL && !json_is_null(en) && !json_is_boolean(en))
		return bad(e, (long)i, d->name, "enabled",
			   "有効（enabled）は true か false で指定してください。");
	d->enabled = en == NULL || json_is_null(en) || json_is_true(en);

	if (!opt_string(rule, "kind", &kind) || kind == NULL)
		kind = "";
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		if (strcmp(kind, kinds[k]) == 0) {
			d->kind = kind_vals[k];
			found = true;
		}
	}
	if (!found)
		return bad(
			e, (long)i, d->name, "kind",
			"種類（kind）は strip（削除）、append（追加）、keyword（キーワード）、"
			"sender_allow（差出人の許可）、fallback（該当なしの扱い）のいずれかです。");

	if (d->kind == RULE_STRIP || d->kind == RULE_APPEND || d->kind == RULE_KEYWORD) {
		if (!opt_string(rule, "part", &part) || part == NULL ||
		    (strcmp(part, "subject") != 0 && strcmp(part, "body") != 0))
			return bad(
				e, (long)i, d->name, "part",
				"対象（part）は subject（件名）か body（本文）を選んでください。");
		d->part = strcmp(part, "subject") == 0 ? RULE_PART_SUBJECT : RULE_PART_BODY;
	}
	if (d->kind == RULE_STRIP || d->kind == RULE_KEYWORD || d->kind == RULE_SENDER_ALLOW) {
		if (!opt_string(rule, "pattern", &d->pattern) || d->pattern == NULL ||
		    d->pattern[0] == '\0')
			return bad(e, (long)i, d->name, "pattern",
				   "パターン（pattern）を入力してください。");
		if (strlen(d->pattern) > RULE_PATTERN_MAX)
			return bad(e, (long)i, d->name, "pattern",
				   "パターン（pattern）は %d バイトまでです。", RULE_PATTERN_MAX);
	}
	if (d->kind == RULE_APPEND) {
		if (!opt_string(rule, "text", &d->text) || d->text == NULL || d->text[0] == '\0')
			return bad(e, (long)i, d->name, "text",
				   "追加する文（text）を入力してください。");
		if (utf8_chars(d->text) > RULE_TEXT_MAX_CHARS)
			return bad(e, (long)i, d->name, "text",
				   "追加する文（text）は %d 文字までです。", RULE_TEXT_MAX_CHARS);
		if (!opt_string(rule, "placement", &placement) || placement == NULL ||
		    (strcmp(placement, "head") != 0 && strcmp(placement, "tail") != 0))
			return bad(
				e, (long)i, d->name, "placement",
				"追加する位置（placement）は head（先頭）か tail（末尾）を選んでく"
				"ださい。");
		d->placement = strcmp(placement, "head") == 0 ? RULE_HEAD : RULE_TAIL;
	}
	if (d->kind == RULE_KEYWORD) {
		const json_t *item;
		const char *ikind;

		if (!opt_string(rule, "item", &item_key) || item_key == NULL)
			return bad(e, (long)i, d->name, "item",
				   "キーワードを対応させる項目（item）を選んでください。");
		item = find_by_key(items, item_key);
		if (item == NULL)
			return bad(e, (long)i, d->name, "item", "項目「%s」はありません。",
				   item_key);
		ikind = json_string_value(json_object_get(item, "kind"));
		if (ikind != NULL && strcmp(ikind, "date") == 0)
			return bad(e, (long)i, d->name, "item",
				   "項目「%s」は日付の項目のため、キーワードを対応させられません。",
				   jlabel(item));
		d->item_key = item_key;
		if (!parse_values(f, i, rule, item, items, e))
			return false;
	}
	if (d->kind == RULE_FALLBACK) {
		if (!opt_string(rule, "fallback_action", &action) || action == NULL ||
		    (strcmp(action, "everyone") != 0 && strcmp(action, "segment") != 0 &&
		     strcmp(action, "hold") != 0))
			return bad(e, (long)i, d->name, "fallback_action",
				   "該当なしの扱い（fallback_action）は everyone（全員に配信）、"
				   "segment（決まった配信先）、hold（承認待ち）のいずれかです。");
		d->fallback = strcmp(action, "everyone") == 0  ? FALLBACK_EVERYONE
			      : strcmp(action, "segment") == 0 ? FALLBACK_SEGMENT
							       : FALLBACK_HOLD;
		if (d->fallback == FALLBACK_SEGMENT) {
			enum hl_status st;

			target = json_object_get(rule, "fallback_target");
			if (!json_is_object(target))
				return bad(e, (long)i, d->name, "fallback_target",
					   "配信先（fallback_target）を指定してください。");
			f->targets[i] = json_dumps(target, JSON_COMPACT | JSON_SORT_KEYS);
			if (f->targets[i] == NULL)
				return bad(e, -1, NULL, "rules", "メモリが不足しています。");
			st = store_rules_check_target(c->db, f->targets[i]);
			if (st == HL_TEMPFAIL) {
				e->index = -2; /* the database, not the form */
				return false;
			}
			if (st != HL_OK)
				return bad(e, (long)i, d->name, "fallback_target",
					   "配信先（fallback_target）が正しくありません: %s",
					   db_reason(c->db));
			d->fallback_target = f->targets[i];
		}
	}
	return true;
}

/* The form (a JSON array of rules) into defs, every check but the
 * patterns'; known_ids (NULL: any id) are the ids the stored set has. */
static bool parse_form(struct api_call *c, json_t *rules, const json_t *items,
		       const json_t *known_ids, struct form *f, struct form_error *e)
{
	size_t i, j, n;
	long fallback = -1;

	memset(f, 0, sizeof(*f));
	e->index = -1;
	if (!json_is_array(rules))
		return bad(e, -1, NULL, "rules", "ルール（rules）は配列で指定してください。");
	n = json_array_size(rules);
	if (n > RULES_MAX)
		return bad(e, -1, NULL, "rules", "ルールは %d 個までです。", RULES_MAX);
	f->defs = calloc(n + 1, sizeof(*f->defs));
	f->values = calloc(n + 1, sizeof(*f->values));
	f->targets = calloc(n + 1, sizeof(*f->targets));
	f->n = n;
	if (f->defs == NULL || f->values == NULL || f->targets == NULL)
		return bad(e, -1, NULL, "rules", "メモリが不足しています。");
	for (i = 0; i < n; i++) {
		struct rule_def *d = &f->defs[i];

		if (!parse_rule(c, f, i, json_array_get(rules, i), items, e))
			return false;
		if (d->id > 0) {
			bool known = known_ids == NULL;
			size_t k;
			json_t *v;

			json_array_foreach(known_ids, k, v)
			{
				if (json_integer_value(v) == d->id)
					known = true;
			}
			if (!known)
				return bad(
					e, (long)i, d->name, "id",
					"このルールは他の職員が削除しました。画面を読み込み直して"
					"ください。");
			for (j = 0; j < i; j++)
				if (f->defs[j].id == d->id)
					return bad(e, (long)i, d->name, "id",
						   "ルール %zu と同じ id です。", j + 1);
		}
		if (d->kind == RULE_FALLBACK && d->enabled) {
			if (fallback >= 0)
				return bad(e, (long)i, d->name, "enabled",
					   "該当なしの扱い（fallback）の有効なルールはルール %ld と"
					   "この 2 つあります。1 つにしてください。",
					   fallback + 1);
			fallback = (long)i;
		}
	}
	return true;
}

/* rules_compile()'s reason for one rule, in Japanese with the field. */
static bool compile_each(const struct form *f, struct form_error *e)
{
	char err[600], prefix[300];
	size_t i, plen;
	struct rule_set *rs;

	for (i = 0; i < f->n; i++) {
		/* Disabled rules too: a pattern that does not compile is refused
		 * on save, whether or not the rule is on now. */
		struct rule_def one = f->defs[i];
		const char *why, *p;
		unsigned long off;

		one.enabled = true;
		rs = rules_compile(&one, 1, err, sizeof(err));
		if (rs != NULL) {
			rules_free(rs);
			continue;
		}
		str_msg(prefix, sizeof(prefix), "rule %lld (%s): ", one.id,
			one.name != NULL ? one.name : "");
		plen = strlen(prefix);
		why = strncmp(err, prefix, plen) == 0 ? err + plen : err;
		if (sscanf(why, "pattern error at offset %lu:", &off) == 1 &&
		    (p = strstr(why, ": ")) != NULL)
			return bad(e, (long)i, one.name, "pattern",
				   "パターン（pattern）に誤りがあります（%lu バイト目付近）: %s",
				   off, p + 2);
		return bad(e, (long)i, one.name, "kind", "このルールは使えません: %s", why);
	}
	/* The whole set, as the ingest will compile it. */
	rs = rules_compile(f->defs, f->n, err, sizeof(err));
	if (rs == NULL)
		return bad(e, -1, NULL, "rules", "ルールを組み立てられません: %s", err);
	rules_free(rs);
	return true;
}

/* --- GET and PUT /api/mail-rules --- */

static void get_rules(struct api_call *c)
{
	json_t *rules = NULL, *items = NULL;
	enum hl_status st;

	if ((st = store_rules_form(c->db, &rules)) != HL_OK ||
	    (st = store_rules_items(c->db, &items)) != HL_OK) {
		json_decref(rules);
		api_db_failed(c, st);
		return;
	}
	api_reply_json(c, 200, json_pack("{s:o, s:o}", "rules", rules, "items", items));
}

/* One line of the audit's summary of a rule (id is taken). */
static json_t *rule_summary(json_t *id, const char *kind, const char *name, bool enabled)
{
	return json_pack("{s:o, s:s, s:s, s:b}", "id", id != NULL ? id : json_null(), "kind",
			 kind != NULL ? kind : "", "name", name != NULL ? name : "", "enabled",
			 enabled);
}

/* A def in the shape of store_rules_form()'s rules, without id, position
 * and updated_at: what the audit compares to tell a changed rule. */
static json_t *def_to_json(const struct rule_def *d)
{
	bool has_part = d->kind == RULE_STRIP || d->kind == RULE_APPEND || d->kind == RULE_KEYWORD;
	bool pat = d->kind == RULE_STRIP || d->kind == RULE_KEYWORD || d->kind == RULE_SENDER_ALLOW;
	json_t *o, *vals = NULL, *target = NULL;
	size_t k;

	if (d->kind == RULE_KEYWORD) {
		vals = json_array();
		for (k = 0; vals != NULL && k < d->nvalues; k++)
			json_array_append_new(vals, json_pack("{s:s, s:s?, s:b}", "keyword",
							      d->values[k].keyword, "value",
							      d->values[k].value_key, "everyone",
							      d->values[k].everyone));
	}
	if (d->kind == RULE_FALLBACK && d->fallback == FALLBACK_SEGMENT &&
	    d->fallback_target != NULL)
		target = json_loads(d->fallback_target, 0, NULL);
	o = json_pack("{s:s, s:s, s:b, s:s?, s:s?, s:s?, s:s?, s:s?, s:o?, s:s?, s:o?}", "kind",
		      rules_kind_name(d->kind), "name", d->name != NULL ? d->name : "", "enabled",
		      d->enabled, "part",
		      has_part ? (d->part == RULE_PART_SUBJECT ? "subject" : "body") : NULL,
		      "pattern", pat ? d->pattern : NULL, "text",
		      d->kind == RULE_APPEND ? d->text : NULL, "placement",
		      d->kind == RULE_APPEND ? (d->placement == RULE_HEAD ? "head" : "tail") : NULL,
		      "item", d->kind == RULE_KEYWORD ? d->item_key : NULL, "values", vals,
		      "fallback_action",
		      d->kind == RULE_FALLBACK ? (d->fallback == FALLBACK_EVERYONE  ? "everyone"
						  : d->fallback == FALLBACK_SEGMENT ? "segment"
										    : "hold")
					       : NULL,
		      "fallback_target", target);
	return o;
}

/* Whether a stored rule (the form's shape) says what now says. */
static bool same_rule(json_t *stored, const json_t *now)
{
	const char *key;
	json_t *v;

	json_object_foreach(stored, key, v)
	{
		json_t *w;

		if (strcmp(key, "id") == 0 || strcmp(key, "position") == 0 ||
		    strcmp(key, "updated_at") == 0)
			continue;
		w = json_object_get(now, key);
		if (json_is_null(v) ? !(w == NULL || json_is_null(w)) : !json_equal(v, w))
			return false;
	}
	return true;
}

struct put_audit {
	struct api_call *c;
	json_t *detail; /* taken by the audit */
};

static enum hl_status audit_in_txn(struct db *db, void *arg)
{
	struct put_audit *a = arg;
	json_t *d = a->detail;

	(void)db;
	a->detail = NULL;
	return api_audit(a->c, "mail_rule.change", "mail_rules", d) ? HL_OK : HL_TEMPFAIL;
}

static void put_rules(struct api_call *c)
{
	json_t *body = NULL, *before = NULL, *items = NULL, *ids = NULL, *after = NULL;
	json_t *sum_before = NULL, *sum_after = NULL, *removed = NULL, *changed = NULL, *r;
	struct form f = {0};
	struct form_error e = {.index = -1};
	struct put_audit audit = {c, NULL};
	enum hl_status st;
	size_t i, k;

	if (!api_is_admin(c)) {
		api_reply_forbidden(c, "メールルールを変更できるのは管理者だけです。");
		return;
	}
	body = api_body_object(c, API_BODY_MAX);
	if (body == NULL)
		return;
	if ((st = store_rules_form(c->db, &before)) != HL_OK ||
	    (st = store_rules_items(c->db, &items)) != HL_OK) {
		api_db_failed(c, st);
		goto done;
	}
	ids = json_array();
	sum_before = json_array();
	sum_after = json_array();
	removed = json_array();
	changed = json_array();
	if (ids == NULL || sum_before == NULL || sum_after == NULL || removed == NULL ||
	    changed == NULL)
		goto nomem;
	json_array_foreach(before, i, r)
	{
		json_array_append(ids, json_object_get(r, "id"));
		json_array_append_new(sum_before,
				      rule_summary(json_incref(json_object_get(r, "id")),
						   api_field(r, "kind"), api_field(r, "name"),
						   json_is_true(json_object_get(r, "enabled"))));
	}
	if (!parse_form(c, json_object_get(body, "rules"), items, ids, &f, &e) ||
	    !compile_each(&f, &e)) {
		if (e.index == -2)
			api_reply_tempfail(c);
		else
			reply_invalid(c, &e);
		goto done;
	}
	/* The summary: what was there, what will be, which rules went and
	 * which kept rules changed (as the editor showed them). */
	for (i = 0; i < f.n; i++) {
		const struct rule_def *d = &f.defs[i];

		json_array_append_new(sum_after,
				      rule_summary(d->id > 0 ? json_integer(d->id) : json_null(),
						   rules_kind_name(d->kind), d->name, d->enabled));
	}
	json_array_foreach(before, i, r)
	{
		long long id = (long long)json_integer_value(json_object_get(r, "id"));
		bool kept = false;

		for (k = 0; k < f.n; k++) {
			json_t *now;

			if (f.defs[k].id != id)
				continue;
			kept = true;
			now = def_to_json(&f.defs[k]);
			if (now == NULL)
				goto nomem;
			if (!same_rule(r, now))
				json_array_append_new(changed, json_integer(id));
			json_decref(now);
		}
		if (!kept)
			json_array_append_new(removed, json_integer(id));
	}
	audit.detail =
		json_pack("{s:O, s:O, s:O, s:O, s:I}", "before", sum_before, "after", sum_after,
			  "removed", removed, "changed", changed, "rules", (json_int_t)f.n);
	if (audit.detail == NULL)
		goto nomem;
	st = store_rules_replace(c->db, f.defs, f.n, c->staff->id, audit_in_txn, &audit);
	if (st != HL_OK) {
		if (st == HL_PERMFAIL) {
			char q[600];

			log_warn("mail rules not saved", "error=%s",
				 log_quote(db_error(c->db), q, sizeof(q)));
			api_reply_error(
				c, 409, "conflict",
				"ルールを保存できませんでした。画面を読み込み直してからもう一度"
				"お試しください。");
		} else {
			api_reply_tempfail(c);
		}
		goto done;
	}
	log_info("mail rules changed", "staff=%lld rules=%zu", c->staff->id, f.n);
	if ((st = store_rules_form(c->db, &after)) != HL_OK) {
		api_db_failed(c, st);
		goto done;
	}
	api_reply_json(c, 200, json_pack("{s:o, s:O}", "rules", after, "items", items));
	goto done;
nomem:
	api_reply_error(c, 500, "internal", "内部エラーが発生しました。");
done:
	json_decref(audit.detail);
	form_free(&f);
	json_decref(body);
	json_decref(before);
	json_decref(items);
	json_decref(ids);
	json_decref(sum_before);
	json_decref(sum_after);
	json_decref(removed);
	json_decref(changed);
}

/* --- POST /api/mail-rules/test --- */

static json_t *iso_time(long long t)
{
	/* Japan has no daylight saving time: UTC+9 all year. */
	time_t jst = (time_t)(t + 9 * 3600);
	struct tm tm;
	char buf[40];

	if (t <= 0 || gmtime_r(&jst, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S+09:00", &tm) == 0)
		return json_null();
	return json_string(buf);
}

static void test_rules(struct api_call *c)
{
	json_t *body = NULL, *items = NULL, *out = NULL, *trace, *entry, *form_rules, *msgs;
	struct rule_defs *stored = NULL;
	struct rule_set *rs = NULL;
	struct mail_alert *alert = NULL;
	struct rules_preview *pv = NULL;
	struct form f = {0};
	struct form_error e = {.index = -1};
	const struct rule_def *defs;
	const char *raw, *from = NULL;
	char err[600], *label = NULL;
	enum hl_status st;
	size_t i, ndefs;
	bool everyone;

	body = api_body_object(c, TEST_BODY_MAX);
	if (body == NULL)
		return;
	raw = api_field(body, "raw");
	if (raw == NULL || raw[0] == '\0') {
		e.index = -1;
		bad(&e, -1, NULL, "raw",
		    "確認するメールを（ヘッダーから本文まで）貼り付けてください。");
		reply_invalid(c, &e);
		goto done;
	}
	if (json_string_length(json_object_get(body, "raw")) > TEST_RAW_MAX) {
		api_reply_error(c, 413, "too_large",
				"貼り付けたメールが大きすぎます（512 KiB まで）。");
		goto done;
	}
	if (!opt_string(body, "from", &from)) {
		bad(&e, -1, NULL, "from", "差出人（from）は文字列で指定してください。");
		reply_invalid(c, &e);
		goto done;
	}
	if ((st = store_rules_items(c->db, &items)) != HL_OK) {
		api_db_failed(c, st);
		goto done;
	}
	form_rules = json_object_get(body, "rules");
	if (form_rules != NULL && !json_is_null(form_rules)) {
		/* The unsaved form, checked as PUT checks it. */
		if (!parse_form(c, form_rules, items, NULL, &f, &e) || !compile_each(&f, &e)) {
			if (e.index == -2)
				api_reply_tempfail(c);
			else
				reply_invalid(c, &e);
			goto done;
		}
		defs = f.defs;
		ndefs = f.n;
	} else {
		if ((st = store_rules_load(c->db, &stored)) != HL_OK) {
			api_db_failed(c, st);
			goto done;
		}
		defs = stored->defs;
		ndefs = stored->n;
	}
	rs = rules_compile(defs, ndefs, err, sizeof(err));
	if (rs == NULL) {
		char msg[800];

		/* Only stored rules get here (the form was compiled above): the
		 * ingest holds every alert until they are fixed. */
		str_msg(msg, sizeof(msg),
			"保存されているメールルールにエラーがあります（届いた警報は承認待ちになり"
			"ます）: %s",
			err);
		api_reply_error(c, 409, "conflict", msg);
		goto done;
	}
	st = rules_preview_decode(raw, strlen(raw), &alert, err, sizeof(err));
	if (st != HL_OK) {
		if (st == HL_TEMPFAIL) {
			api_reply_error(c, 500, "internal", "内部エラーが発生しました。");
		} else {
			bad(&e, -1, NULL, "raw", "メールとして読み取れません: %s", err);
			reply_invalid(c, &e);
		}
		goto done;
	}
	if (rules_preview_run(rs, alert, from, &pv) != HL_OK) {
		api_reply_error(c, 500, "internal", "内部エラーが発生しました。");
		goto done;
	}
	/* The trace has one entry per rule, in order: name them. */
	trace = pv->res->trace;
	json_array_foreach(trace, i, entry)
	{
		if (i >= ndefs)
			break;
		json_object_set_new(entry, "name",
				    json_string(defs[i].name != NULL ? defs[i].name : ""));
		if (f.defs != NULL)
			json_object_set_new(entry, "index", json_integer((json_int_t)i));
	}
	everyone = pv->outcome == PREVIEW_SEND && pv->res->target == NULL;
	if (pv->outcome == PREVIEW_REFUSE || pv->outcome == PREVIEW_IGNORE)
		label = strdup("配信しません");
	else if (pv->outcome == PREVIEW_HOLD && pv->res->target == NULL)
		label = strdup("未定（承認するときに選びます）");
	else if (pv->res->target == NULL)
		label = strdup("全員");
	else {
		char *t = json_dumps(pv->res->target, JSON_COMPACT);

		st = t != NULL ? store_segments_target_label(c->db, t, &label) : HL_PERMFAIL;
		free(t);
		if (st != HL_OK) {
			api_reply_tempfail(c);
			goto done;
		}
	}
	msgs = pv->messages != NULL && pv->outcome != PREVIEW_REFUSE ? json_incref(pv->messages)
								     : json_array();
	out = json_pack(
		"{s:{s:s?, s:s?, s:o, s:s?, s:s?, s:s?, s:b}, s:s, s:s, s:s, s:s, s:o, s:b, s:b,"
		" s:O?, s:s?, s:O, s:b, s:s?}",
		"decoded", "from", alert->header_from, "subject", alert->subject, "date",
		iso_time(alert->date), "body", alert->body, "message_id", alert->message_id,
		"charset", alert->charset, "from_html", alert->from_html, "envelope_from",
		pv->envelope_from, "result", rules_outcome_name(pv->outcome), "result_label",
		rules_outcome_label(pv->outcome), "text",
		pv->outcome == PREVIEW_REFUSE ? "" : pv->res->text, "messages", msgs, "truncated",
		pv->cut, "everyone", everyone, "target",
		pv->outcome == PREVIEW_REFUSE || pv->outcome == PREVIEW_IGNORE ? NULL
									       : pv->res->target,
		"target_label", label, "trace", trace, "held", pv->outcome == PREVIEW_HOLD,
		"hold_reason", pv->reason);
	if (out == NULL) {
		api_reply_error(c, 500, "internal", "内部エラーが発生しました。");
		goto done;
	}
	api_reply_json(c, 200, out);
done:
	free(label);
	rules_preview_free(pv);
	mail_alert_free(alert);
	rules_free(rs);
	store_rules_free(stored);
	form_free(&f);
	json_decref(items);
	json_decref(body);
}

/* --- the mail log --- */

static bool query_int(struct api_call *c, const char *name, long long min, long long max,
		      long long *out)
{
	const char *v = httpd_query(c->req, name);
	struct form_error e = {.index = -1};

	if (v == NULL)
		return true;
	if (str_to_ll(v, min, max, out))
		return true;
	bad(&e, -1, NULL, name, "%s は %lld から %lld までの数で指定してください。", name, min,
	    max);
	reply_invalid(c, &e);
	return false;
}

static void list_mails(struct api_call *c)
{
	static const char *const statuses[] = {"received", "queued", "held", "ignored", "failed"};
	struct mail_log_filter f = {.limit = LIST_DEFAULT};
	struct form_error e = {.index = -1};
	long long limit = LIST_DEFAULT, next = 0;
	json_t *items = NULL;
	enum hl_status st;
	size_t i;

	f.status = httpd_query(c->req, "status");
	if (f.status != NULL && f.status[0] == '\0')
		f.status = NULL;
	if (f.status != NULL) {
		bool ok = false;

		for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
			ok = ok || strcmp(f.status, statuses[i]) == 0;
		if (!ok) {
			bad(&e, -1, NULL, "status",
			    "status は received, queued, held, ignored, failed のいずれかです。");
			reply_invalid(c, &e);
			return;
		}
	}
	f.q = httpd_query(c->req, "q");
	if (f.q != NULL && f.q[0] == '\0')
		f.q = NULL;
	if (f.q != NULL && strlen(f.q) > QUERY_MAX_BYTES) {
		bad(&e, -1, NULL, "q", "検索する文字が長すぎます。");
		reply_invalid(c, &e);
		return;
	}
	if (!query_int(c, "limit", 1, LIST_MAX, &limit) ||
	    !query_int(c, "before", 1, INT64_MAX, &f.before))
		return;
	f.limit = (int)limit;
	if ((st = store_mail_list(c->db, &f, &items, &next)) != HL_OK) {
		api_db_failed(c, st);
		return;
	}
	api_reply_json(c, 200,
		       json_pack("{s:o, s:o}", "items", items, "next",
				 next > 0 ? json_integer(next) : json_null()));
}

static void get_mail(struct api_call *c, long long id)
{
	json_t *m = NULL;
	enum hl_status st = store_mail_get(c->db, id, &m);

	if (st != HL_OK) {
		api_db_failed(c, st);
		return;
	}
	if (m == NULL) {
		api_reply_error(c, 404, "not_found", "そのメールは見つかりません。");
		return;
	}
	api_reply_json(c, 200, m);
}

static void get_raw(struct api_call *c, long long id)
{
	char *raw = NULL, target[40], disp[80];
	size_t len = 0;
	enum hl_status st = store_mail_raw(c->db, id, &raw, &len);

	if (st != HL_OK) {
		api_db_failed(c, st);
		return;
	}
	if (raw == NULL) {
		api_reply_error(c, 404, "not_found", "そのメールは見つかりません。");
		return;
	}
	str_msg(target, sizeof(target), "mail:%lld", id);
	/* Who read an original is on record before it leaves. */
	if (!api_audit(c, "mail.view_raw", target, json_pack("{s:I}", "bytes", (json_int_t)len))) {
		free(raw);
		api_reply_tempfail(c);
		return;
	}
	str_msg(disp, sizeof(disp), "attachment; filename=\"mail-%lld.eml\"", id);
	/* A download, never a page: text/plain, attachment, and httpd's
	 * nosniff, so that a mail's HTML cannot run in the admin's origin. */
	if (!httpd_reply_header(c->reply, "Content-Disposition", disp)) {
		free(raw);
		api_reply_error(c, 500, "internal", "内部エラーが発生しました。");
		return;
	}
	httpd_reply_owned(c->reply, 200, "text/plain; charset=utf-8", raw, len);
}

bool api_mail_handle(struct api_call *c)
{
	long long id;

	if (strncmp(c->path, "/api/mail", 9) != 0)
		return false;
	if (api_is(c, "GET", "/api/mail-rules")) {
		if (!api_is_admin(c))
			api_reply_forbidden(c, "メールルールを見られるのは管理者だけです。");
		else
			get_rules(c);
	} else if (api_is(c, "PUT", "/api/mail-rules")) {
		put_rules(c);
	} else if (api_is(c, "POST", "/api/mail-rules/test")) {
		test_rules(c);
	} else if (api_is(c, "GET", "/api/mails")) {
		list_mails(c);
	} else if (api_id(c, "GET", "/api/mails/", "", &id)) {
		get_mail(c, id);
	} else if (api_id(c, "GET", "/api/mails/", "/raw", &id)) {
		get_raw(c, id);
	} else {
		return false;
	}
	return true;
}
