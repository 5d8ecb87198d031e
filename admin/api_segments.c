/*
 * api_segments — segment items and values, their counts, and test
 * receivers; see api_segments.h and docs/api.md ("Segments").
 *
 * Anyone signed in reads the tree (the composer needs it); only 管理者
 * change it.  Keys are permanent (a trigger refuses a change), so a PATCH
 * naming "key" or "kind" is refused up front with a message saying what
 * to do instead.  Each change runs in one transaction with its audit row.
 * Labels are stored verbatim: the UI escapes them, so "<script>" is just
 * a label.
 */
#include "api_segments.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_segments.h"
#include "str.h"
#include "utf8.h"

#define SEG_LABEL_MAX	    100	 /* characters, as the schema's CHECK */
#define SEG_DESCRIPTION_MAX 1000 /* characters; the 受信設定 page shows it */
#define SEG_POSITION_MAX    1000000
#define LIST_LIMIT_DEFAULT  50
#define LIST_LIMIT_MAX	    200

/* --- segments ------------------------------------------------------------- */

static bool key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n < 1 || n > 63 || k[0] < 'a' || k[0] > 'z')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return false;
	return true;
}

static bool check_key(struct api_call *c, json_t *body, const char **key)
{
	*key = api_field(body, "key");
	if (*key == NULL || !key_ok(*key)) {
		api_invalid(
			c, "key",
			"キーは英小文字で始まり、英小文字・数字・_ だけの63文字以内にしてください"
			"（例: region, kyu_takasaki）。キーは後から変更できません。");
		return false;
	}
	return true;
}

/* Answer a refused change (the transaction is already rolled back). */
static void reply_outcome(struct api_call *c, enum seg_outcome o, bool value)
{
	switch (o) {
	case SEG_NOT_FOUND:
		api_reply_error(c, 404, "not_found",
				value ? "指定された値が見つかりません。"
				      : "指定されたセグメント項目が見つかりません。");
		break;
	case SEG_KEY_TAKEN:
		api_reply_error(
			c, 409, "conflict",
			value ? "このキーの値はこの項目に既にあります（廃止した値も含みます）。"
				"別のキーにしてください。"
			      : "このキーの項目は既にあります（廃止した項目も含みます）。"
				"別のキーにしてください。");
		break;
	case SEG_LABEL_TAKEN:
		api_reply_error(c, 409, "conflict",
				"同じ表示名の値がこの項目に既にあります。別の表示名にするか、"
				"もう一方の値を廃止してください。");
		break;
	case SEG_DATE_ITEM:
		api_reply_error(c, 409, "conflict",
				"日付の項目（生年月日など）には選択肢の値を追加できません。");
		break;
	case SEG_KEY_PERMANENT:
		api_invalid(c, "key", "キーは変更できません。表示名を変更してください。");
		break;
	case SEG_INVALID:
	case SEG_DONE:
		api_invalid(c, "label", "入力内容を確認してください。");
		break;
	}
}

static void do_list(struct api_call *c)
{
	const char *all = httpd_query(c->req, "include_retired");
	bool include = all != NULL && (strcmp(all, "1") == 0 || strcmp(all, "true") == 0);
	char *json = NULL;
	enum hl_status st;

	st = store_segments_list(c->db, include, api_is_admin(c) ? 0 : c->staff->id, &json);
	if (st != HL_OK) {
		api_db_failed(c, st);
		return;
	}
	api_reply_text(c, 200, json);
}

/* Commit a change whose store verb said *outcome, with its audit row;
 * answer status with result (taken). */
static void finish(struct api_call *c, enum hl_status st, enum seg_outcome o, bool value,
		   const char *action, const char *target, json_t *detail, int status,
		   json_t *result)
{
	if (st != HL_OK || o != SEG_DONE) {
		db_rollback(c->db);
		json_decref(detail);
		json_decref(result);
		if (st != HL_OK)
			api_db_failed(c, st);
		else
			reply_outcome(c, o, value);
		return;
	}
	if (!api_audit(c, action, target, detail)) {
		db_rollback(c->db);
		json_decref(result);
		api_reply_tempfail(c);
		return;
	}
	if (!api_commit(c)) {
		json_decref(result);
		return;
	}
	api_reply_json(c, status, result);
}

static void do_item_create(struct api_call *c)
{
	json_t *body = api_body_object(c, API_BODY_MAX);
	struct seg_item_new it = {0};
	const char *desc = NULL;
	char *json = NULL, target[48];
	enum seg_outcome o = SEG_DONE;
	enum hl_status st;
	int mwu;
	json_t *item;

	if (body == NULL)
		return;
	if (!check_key(c, body, &it.key) ||
	    !api_text(c, body, "label", "表示名", SEG_LABEL_MAX, true, false, &it.label) ||
	    !api_text(c, body, "description", "説明", SEG_DESCRIPTION_MAX, false, true, &desc) ||
	    !api_bool(c, body, "match_when_unset", "未設定の住民も対象にするか", &mwu))
		goto out;
	it.kind = api_field(body, "kind");
	if (it.kind == NULL || (strcmp(it.kind, "single") != 0 && strcmp(it.kind, "multi") != 0 &&
				strcmp(it.kind, "date") != 0)) {
		api_invalid(c, "kind",
			    "種類は single（ひとつ選ぶ）、multi（いくつでも選ぶ）、date（日付）の"
			    "いずれかにしてください。");
		goto out;
	}
	it.description = desc != NULL ? desc : "";
	it.match_when_unset = mwu == 1;
	if (!api_begin(c))
		goto out;
	st = store_segments_item_create(c->db, &it, &json, &o);
	item = json != NULL ? json_loads(json, 0, NULL) : NULL;
	if (st == HL_OK && o == SEG_DONE && item == NULL) {
		db_set_error(c->db, "unreadable item JSON");
		st = HL_PERMFAIL;
	}
	if (!str_printf(target, sizeof(target), "segment_item:%lld",
			(long long)json_integer_value(json_object_get(item, "id"))))
		target[0] = '\0';
	finish(c, st, o, false, "segment.item_create", target,
	       json_pack("{s:s, s:s, s:s, s:b}", "key", it.key, "label", it.label, "kind", it.kind,
			 "match_when_unset", it.match_when_unset),
	       201, item);
out:
	free(json);
	json_decref(body);
}

/* Read the PATCH members shared by items and values. */
static bool read_change(struct api_call *c, json_t *body, bool item, struct seg_change *ch)
{
	int retired;
	bool has;

	*ch = (struct seg_change){.retired = -1};
	if (json_object_get(body, "key") != NULL) {
		api_invalid(
			c, "key",
			"キーは変更できません。表示名を変更するか、廃止して新しく作ってください。");
		return false;
	}
	if (json_object_get(body, "kind") != NULL || json_object_get(body, "item_id") != NULL) {
		api_invalid(c, json_object_get(body, "kind") != NULL ? "kind" : "item_id",
			    item ? "項目の種類は変更できません。新しい項目を作ってください。"
				 : "値を別の項目へ移すことはできません。");
		return false;
	}
	if (!api_text(c, body, "label", "表示名", SEG_LABEL_MAX, false, false, &ch->label) ||
	    (item && !api_text(c, body, "description", "説明", SEG_DESCRIPTION_MAX, false, true,
			       &ch->description)) ||
	    !api_int(c, body, "position", "表示順", -SEG_POSITION_MAX, SEG_POSITION_MAX, &has,
		     &ch->position) ||
	    !api_bool(c, body, "retired", "廃止", &retired))
		return false;
	ch->has_position = has;
	ch->retired = retired;
	if (ch->label == NULL && ch->description == NULL && !has && retired < 0) {
		api_reply_error(c, 400, "bad_request",
				"変更する内容がありません（label, position, retired"
				"のいずれかを指定してください）。");
		return false;
	}
	return true;
}

static void do_update(struct api_call *c, long long id, bool value)
{
	json_t *body = api_body_object(c, API_BODY_MAX);
	struct seg_change ch;
	char *before = NULL, *after = NULL, target[48];
	enum seg_outcome o = SEG_DONE;
	enum hl_status st;
	json_t *b = NULL, *a = NULL, *detail = NULL;

	if (body == NULL)
		return;
	if (!read_change(c, body, !value, &ch) || !api_begin(c))
		goto out;
	st = value ? store_segments_value_update(c->db, id, &ch, &before, &after, &o)
		   : store_segments_item_update(c->db, id, &ch, &before, &after, &o);
	if (st == HL_OK && o == SEG_DONE) {
		b = json_loads(before, 0, NULL);
		a = json_loads(after, 0, NULL);
		if (b == NULL || a == NULL) {
			db_set_error(c->db, "unreadable segment JSON");
			st = HL_PERMFAIL;
		} else {
			detail = api_changes(b, a);
			json_object_set(detail, "key", json_object_get(a, "key"));
		}
	}
	if (!str_printf(target, sizeof(target), "%s:%lld", value ? "segment_value" : "segment_item",
			id))
		target[0] = '\0';
	finish(c, st, o, value, value ? "segment.value_update" : "segment.item_update", target,
	       detail, 200, json_incref(a));
out:
	json_decref(a);
	json_decref(b);
	free(before);
	free(after);
	json_decref(body);
}

static void do_value_create(struct api_call *c, long long item_id)
{
	json_t *body = api_body_object(c, API_BODY_MAX);
	const char *key, *label;
	char *json = NULL, target[48];
	enum seg_outcome o = SEG_DONE;
	enum hl_status st;
	json_t *value;

	if (body == NULL)
		return;
	if (!check_key(c, body, &key) ||
	    !api_text(c, body, "label", "表示名", SEG_LABEL_MAX, true, false, &label) ||
	    !api_begin(c))
		goto out;
	st = store_segments_value_create(c->db, item_id, key, label, &json, &o);
	value = json != NULL ? json_loads(json, 0, NULL) : NULL;
	if (st == HL_OK && o == SEG_DONE && value == NULL) {
		db_set_error(c->db, "unreadable value JSON");
		st = HL_PERMFAIL;
	}
	if (!str_printf(target, sizeof(target), "segment_value:%lld",
			(long long)json_integer_value(json_object_get(value, "id"))))
		target[0] = '\0';
	/* SEG_NOT_FOUND here is the item. */
	finish(c, st, o, o != SEG_NOT_FOUND, "segment.value_create", target,
	       json_pack("{s:I, s:s, s:s}", "item_id", (json_int_t)item_id, "key", key, "label",
			 label),
	       201, value);
out:
	free(json);
	json_decref(body);
}

/* --- test receivers ----------------------------------------------------------- */

static void do_testers(struct api_call *c)
{
	const char *all = httpd_query(c->req, "all");
	long long limit, before;
	char *json = NULL;
	json_t *items, *next = json_null();
	enum hl_status st;

	if (!api_query_int(c, "limit", 1, LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT, &limit) ||
	    !api_query_int(c, "before", 1, INT64_MAX, 0, &before))
		return;
	st = store_segments_testers(c->db, all != NULL && strcmp(all, "1") == 0, before, limit,
				    &json);
	if (st != HL_OK) {
		api_db_failed(c, st);
		return;
	}
	items = json_loads(json, 0, NULL);
	free(json);
	if (!json_is_array(items)) {
		json_decref(items);
		api_reply_error(c, 500, "internal", "内部エラーが発生しました。");
		return;
	}
	if ((long long)json_array_size(items) > limit) {
		json_array_remove(items, (size_t)limit);
		next = json_incref(json_object_get(json_array_get(items, (size_t)limit - 1), "id"));
	}
	api_reply_json(c, 200, json_pack("{s:o, s:o}", "items", items, "next", next));
}

static void do_tester_set(struct api_call *c, long long id)
{
	json_t *body = api_body_object(c, API_BODY_MAX);
	char *json = NULL, target[48];
	enum seg_outcome o = SEG_DONE;
	enum hl_status st;
	json_t *res = NULL;
	bool was = false;
	int on;

	if (body == NULL)
		return;
	if (!api_bool(c, body, "is_tester", "テスト受信者", &on))
		goto out;
	if (on < 0) {
		api_invalid(c, "is_tester", "is_tester を true か false で指定してください。");
		goto out;
	}
	if (!api_begin(c))
		goto out;
	st = store_segments_tester_set(c->db, id, on == 1, &json, &was, &o);
	if (st == HL_OK && o == SEG_DONE && (res = json_loads(json, 0, NULL)) == NULL) {
		db_set_error(c->db, "unreadable resident JSON");
		st = HL_PERMFAIL;
	}
	if (o == SEG_NOT_FOUND) {
		db_rollback(c->db);
		api_reply_error(c, 404, "not_found", "指定された住民が見つかりません。");
		goto out;
	}
	if (!str_printf(target, sizeof(target), "resident:%lld", id))
		target[0] = '\0';
	finish(c, st, o, false, "resident.tester", target,
	       json_pack("{s:b, s:b}", "before", was, "after", on == 1), 200, res);
out:
	free(json);
	json_decref(body);
}

bool api_segments_handle(struct api_call *c)
{
	long long id;

	if (api_is(c, "GET", "/api/segments")) {
		do_list(c);
	} else if (api_is(c, "POST", "/api/segments/items")) {
		if (api_need_admin(c))
			do_item_create(c);
	} else if (api_id(c, "PATCH", "/api/segments/items/", "", &id)) {
		if (api_need_admin(c))
			do_update(c, id, false);
	} else if (api_id(c, "POST", "/api/segments/items/", "/values", &id)) {
		if (api_need_admin(c))
			do_value_create(c, id);
	} else if (api_id(c, "PATCH", "/api/segments/values/", "", &id)) {
		if (api_need_admin(c))
			do_update(c, id, true);
	} else if (api_is(c, "GET", "/api/residents/testers")) {
		if (api_need_admin(c))
			do_testers(c);
	} else if (api_id(c, "PATCH", "/api/residents/", "", &id)) {
		if (api_need_admin(c))
			do_tester_set(c, id);
	} else {
		return false;
	}
	return true;
}
