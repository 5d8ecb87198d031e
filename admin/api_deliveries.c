/*
 * api_deliveries — the composer and the history; see api_deliveries.h and
 * docs/api.md ("Deliveries").
 *
 * A draft from the composer is checked field by field (400 "invalid"
 * naming the field, in Japanese), its LINE messages are built here with
 * lib/message (the browser never sends LINE JSON), and its audience is
 * checked against the author's scope by the database's
 * staff_target_allowed(): the same function a trigger applies to every
 * staff delivery, so the API's 403 and the database agree.  Each change of
 * state is written with its audit row in one transaction: a delivery is
 * never sent, cancelled or approved unaudited.
 */
#include "api_deliveries.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "message.h"
#include "store_deliveries.h"
#include "str.h"
#include "utf8.h"

/* Limits of a draft, in characters (code points).  The title is the
 * history's label (deliveries.title holds 200); the body bounds what
 * message_build() is asked to split (5 messages of 5,000 UTF-16 units hold
 * at most 25,000, and a longer text would only be cut); a button label
 * longer than a phone shows is refused rather than shortened unseen. */
#define DRAFT_TITLE_MAX	     200
#define DRAFT_BODY_MAX	     20000
#define DRAFT_LINK_LABEL_MAX 40

/* History paging. */
#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX	   200

struct draft {
	const char *title, *body, *link_url, *link_label, *category, *send_at;
	enum message_style style;
	bool everyone;
	char *target;	      /* JSON object text, or NULL */
	char *category_label; /* from the database, or NULL */
	char *messages;	      /* JSON array text from message_build() */
	bool truncated;
};

/* What parse_draft() requires beyond a well-formed message. */
#define DRAFT_AUDIENCE 0x1u /* everyone or a target (a real send) */

static void draft_free(struct draft *d)
{
	free(d->target);
	free(d->category_label);
	free(d->messages);
	memset(d, 0, sizeof(*d));
}

/* Member name of o as an optional string: *out NULL when absent or null;
 * false (after a 400) when it is something else or longer than max. */
static bool opt_string(struct api_call *c, json_t *o, const char *name, size_t max,
		       const char *what, const char **out)
{
	json_t *v = json_object_get(o, name);
	char msg[300];

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_string(v)) {
		str_msg(msg, sizeof(msg), "%sは文字列で指定してください。", what);
		api_invalid(c, name, msg);
		return false;
	}
	if (utf8_chars(json_string_value(v)) > max) {
		str_msg(msg, sizeof(msg), "%sが長すぎます（%zu文字まで）。", what, max);
		api_invalid(c, name, msg);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

/* everyone and target of o, checked; false after a reply. */
static bool parse_audience(struct api_call *c, json_t *o, bool *everyone, char **target)
{
	json_t *e = json_object_get(o, "everyone"), *t = json_object_get(o, "target");
	char *problem = NULL;
	enum hl_status st;

	*everyone = false;
	*target = NULL;
	if (e != NULL && !json_is_null(e) && !json_is_boolean(e)) {
		api_invalid(c, "everyone", "everyone は true か false で指定してください。");
		return false;
	}
	*everyone = json_is_true(e);
	if (*everyone || t == NULL || json_is_null(t))
		return true; /* everyone: a target sent along is ignored */
	if (!json_is_object(t)) {
		api_invalid(c, "target", "配信先の条件はオブジェクトで指定してください。");
		return false;
	}
	*target = json_dumps(t, JSON_COMPACT);
	if (*target == NULL) {
		api_reply_error(c, 500, "internal", "内部エラーが発生しました。");
		return false;
	}
	st = store_deliveries_target_problem(c->db, *target, &problem);
	if (st != HL_OK || problem != NULL) {
		if (st != HL_OK)
			api_db_failed(c, st);
		else
			api_invalid(c, "target", problem);
		free(problem);
		free(*target);
		*target = NULL;
		return false;
	}
	return true;
}

/* The composer's draft in o, checked, with its messages built; false after
 * a reply (400, 503).  d is to be draft_free()d either way. */
static bool parse_draft(struct api_call *c, json_t *o, unsigned flags, struct draft *d)
{
	const char *style = NULL;
	char err[300], msg[400], *problem = NULL;
	enum hl_status st;

	memset(d, 0, sizeof(*d));
	if (!opt_string(c, o, "title", DRAFT_TITLE_MAX, "タイトル", &d->title) ||
	    !opt_string(c, o, "body", DRAFT_BODY_MAX, "本文", &d->body) ||
	    !opt_string(c, o, "style", 10, "表示形式", &style) ||
	    !opt_string(c, o, "category", 100, "カテゴリー", &d->category) ||
	    !opt_string(c, o, "link_url", MESSAGE_URI_MAX_CHARS, "リンク", &d->link_url) ||
	    !opt_string(c, o, "link_label", DRAFT_LINK_LABEL_MAX, "リンクの表示名",
			&d->link_label) ||
	    !opt_string(c, o, "send_at", 64, "配信日時", &d->send_at))
		return false;
	if ((d->title == NULL || d->title[0] == '\0') && (d->body == NULL || d->body[0] == '\0')) {
		api_invalid(c, "body", "タイトルか本文を入力してください。");
		return false;
	}
	if (style == NULL || strcmp(style, "text") == 0) {
		d->style = MESSAGE_TEXT;
	} else if (strcmp(style, "card") == 0) {
		d->style = MESSAGE_CARD;
	} else {
		api_invalid(c, "style",
			    "表示形式は text（文章）か card（カード）で指定してください。");
		return false;
	}
	if (d->category != NULL && d->category[0] != '\0') {
		st = store_deliveries_category_label(c->db, d->category, &d->category_label);
		if (st != HL_OK) {
			api_db_failed(c, st);
			return false;
		}
		if (d->category_label == NULL) {
			api_invalid(c, "category",
				    "そのカテゴリーはありません。一覧から選んでください。");
			return false;
		}
	} else {
		d->category = NULL;
	}
	if (d->link_url != NULL && d->link_url[0] == '\0')
		d->link_url = NULL;
	if (d->link_url != NULL && !message_link_ok(d->link_url, err, sizeof(err))) {
		api_invalid(c, "link_url",
			    "リンクは https:// で始まる正しい URL "
			    "を指定してください（空白や全角文字は使えません）。");
		return false;
	}
	if (!parse_audience(c, o, &d->everyone, &d->target))
		return false;
	if ((flags & DRAFT_AUDIENCE) != 0 && !d->everyone && d->target == NULL) {
		api_invalid(c, "target",
			    "配信先（全員またはセグメントの条件）を指定してください。");
		return false;
	}
	if (d->send_at != NULL && d->send_at[0] == '\0')
		d->send_at = NULL;
	if (d->send_at != NULL) {
		st = store_deliveries_send_at_problem(c->db, d->send_at, &problem);
		if (st != HL_OK || problem != NULL) {
			if (st != HL_OK)
				api_db_failed(c, st);
			else
				api_invalid(c, "send_at", problem);
			free(problem);
			return false;
		}
	}
	d->messages = message_build(
		&(struct message_alert){
			.title = d->title,
			.category_key = d->category,
			.category_label = d->category_label,
			.body = d->body,
			.link_url = d->link_url,
			.link_label = d->link_label,
		},
		d->style, 0, &d->truncated, err, sizeof(err));
	if (d->messages == NULL) {
		str_msg(msg, sizeof(msg), "メッセージを作成できませんでした（%s）。", err);
		api_invalid(c, "body", msg);
		return false;
	}
	return true;
}

/* Parse JSON text from the store into a value; NULL after a 500. */
static json_t *parsed(struct api_call *c, const char *text)
{
	json_t *v = text != NULL ? json_loads(text, 0, NULL) : NULL;

	if (v == NULL)
		api_reply_error(c, 500, "internal", "内部エラーが発生しました。");
	return v;
}

static json_t *body_of(struct api_call *c)
{
	return api_body_object(c, API_BODY_MAX);
}

/* POST /api/deliveries/preview */
static void preview(struct api_call *c)
{
	json_t *o = body_of(c), *msgs;
	struct draft d;
	long long n = 0;
	enum hl_status st = HL_OK;

	if (o == NULL)
		return;
	if (!parse_draft(c, o, 0, &d))
		goto out;
	if (d.everyone || d.target != NULL)
		st = store_deliveries_count(c->db, d.everyone, d.target, false, &n);
	if (st != HL_OK) {
		api_db_failed(c, st);
		goto out;
	}
	if ((msgs = parsed(c, d.messages)) != NULL)
		api_reply_json(c, 200,
			       json_pack("{s:o, s:b, s:I}", "messages", msgs, "truncated",
					 d.truncated, "count", (json_int_t)n));
out:
	draft_free(&d);
	json_decref(o);
}

/* POST /api/deliveries/count */
static void count(struct api_call *c)
{
	json_t *o = body_of(c);
	bool everyone;
	char *target = NULL;
	long long n = 0;
	enum hl_status st = HL_OK;

	if (o == NULL)
		return;
	if (parse_audience(c, o, &everyone, &target)) {
		if (everyone || target != NULL)
			st = store_deliveries_count(c->db, everyone, target, false, &n);
		if (st != HL_OK)
			api_db_failed(c, st);
		else
			api_reply_json(c, 200, json_pack("{s:I}", "count", (json_int_t)n));
	}
	free(target);
	json_decref(o);
}

/* Store a delivery and its audit row in one transaction, and answer 201
 * {"delivery": ...}. */
static void create(struct api_call *c, const struct delivery_new *nd, const char *action,
		   long long audience)
{
	char *text = NULL, target[40];
	json_t *dv = NULL, *detail;
	enum hl_status st;

	st = store_deliveries_begin(c->db);
	if (st == HL_OK)
		st = store_deliveries_create(c->db, nd, &text);
	if (st != HL_OK) {
		db_rollback(c->db);
		api_db_failed(c, st);
		goto out;
	}
	if ((dv = parsed(c, text)) == NULL) {
		db_rollback(c->db);
		goto out;
	}
	if (!str_printf(target, sizeof(target), "delivery:%lld",
			(long long)json_integer_value(json_object_get(dv, "id"))))
		target[0] = '\0';
	detail = json_pack("{s:s, s:s, s:b, s:b, s:I}", "title", nd->title, "status", nd->status,
			   "everyone", nd->everyone, "is_test", nd->is_test, "recipients_now",
			   (json_int_t)audience);
	if (detail != NULL) {
		json_object_set(detail, "target", json_object_get(dv, "target"));
		json_object_set(detail, "send_at", json_object_get(dv, "send_at"));
	}
	if (!api_audit(c, action, target, detail)) {
		db_rollback(c->db);
		api_reply_tempfail(c);
		goto out;
	}
	st = store_deliveries_commit(c->db);
	if (st != HL_OK) {
		db_rollback(c->db);
		api_db_failed(c, st);
		goto out;
	}
	log_info("delivery created", "delivery=%s action=%s staff=%lld status=%s", target + 9,
		 action, nd->created_by, nd->status);
	api_reply_json(c, 201, json_pack("{s:O}", "delivery", dv));
out:
	json_decref(dv);
	free(text);
}

/* POST /api/deliveries/test */
static void test_send(struct api_call *c)
{
	json_t *o = body_of(c);
	struct draft d;
	long long n = 0;
	enum hl_status st;

	if (o == NULL)
		return;
	if (!parse_draft(c, o, 0, &d))
		goto out;
	if (d.truncated) {
		api_invalid(
			c, "body",
			"本文が長すぎて LINE のメッセージ5通に収まりません。短くしてください。");
		goto out;
	}
	st = store_deliveries_count(c->db, false, NULL, true, &n);
	if (st != HL_OK) {
		api_db_failed(c, st);
		goto out;
	}
	if (n == 0) {
		api_reply_error(c, 409, "conflict",
				"テスト受信者が登録されていません。管理者にテスト受信者の登録を依頼"
				"してください。");
		goto out;
	}
	create(c,
	       &(struct delivery_new){
		       .title = d.title != NULL ? d.title : "",
		       .messages = d.messages,
		       /* Never stored as everyone: a test must not look like a
			* broadcast to anything reading the row. */
		       .everyone = false,
		       .target = d.target,
		       .is_test = true,
		       .status = "queued",
		       .created_by = c->staff->id,
	       },
	       "delivery.test_send", n);
out:
	draft_free(&d);
	json_decref(o);
}

/* POST /api/deliveries */
static void submit(struct api_call *c)
{
	json_t *o = body_of(c);
	struct draft d;
	char *problem = NULL;
	bool approval = false;
	const char *status, *action;
	long long n = 0;
	enum hl_status st;

	if (o == NULL)
		return;
	if (!parse_draft(c, o, DRAFT_AUDIENCE, &d))
		goto out;
	if (d.truncated) {
		api_invalid(
			c, "body",
			"本文が長すぎて LINE のメッセージ5通に収まりません。短くしてください。");
		goto out;
	}
	st = store_deliveries_scope_problem(c->db, c->staff->id, d.everyone, d.target, &problem);
	if (st == HL_OK)
		st = store_deliveries_approval_required(c->db, &approval);
	if (st == HL_OK)
		st = store_deliveries_count(c->db, d.everyone, d.target, false, &n);
	if (st != HL_OK) {
		api_db_failed(c, st);
		goto out;
	}
	if (problem != NULL) {
		api_reply_forbidden(c, problem);
		goto out;
	}
	if (approval) {
		status = "pending_approval";
		action = "delivery.submit";
	} else if (d.send_at != NULL) {
		status = "scheduled";
		action = "delivery.schedule";
	} else {
		status = "queued";
		action = "delivery.send";
	}
	create(c,
	       &(struct delivery_new){
		       .title = d.title != NULL ? d.title : "",
		       .messages = d.messages,
		       .everyone = d.everyone,
		       .target = d.target,
		       .is_test = false,
		       .status = status,
		       .send_at = d.send_at,
		       .created_by = c->staff->id,
	       },
	       action, n);
out:
	free(problem);
	draft_free(&d);
	json_decref(o);
}

/* One delivery as parsed JSON, or NULL after a 404/5xx reply. */
static json_t *load(struct api_call *c, long long id, bool messages)
{
	char *text = NULL;
	json_t *v = NULL;
	enum hl_status st = store_deliveries_get(c->db, id, messages, &text);

	if (st != HL_OK)
		api_db_failed(c, st);
	else if (text == NULL)
		api_reply_error(c, 404, "not_found", "その配信は見つかりません。");
	else
		v = parsed(c, text);
	free(text);
	return v;
}

static long long author_of(json_t *dv)
{
	return (long long)json_integer_value(
		json_object_get(json_object_get(dv, "created_by"), "id"));
}

/* Apply a state change (cancel or approve) and its audit row in one
 * transaction; 409 when the delivery was no longer in a state for it. */
static void change(struct api_call *c, long long id, const char *action, const char *conflict,
		   enum hl_status (*fn)(struct db *, long long, long long, char **))
{
	char *text = NULL, target[40];
	json_t *dv = NULL;
	enum hl_status st;

	if (!str_printf(target, sizeof(target), "delivery:%lld", id))
		return;
	st = store_deliveries_begin(c->db);
	if (st == HL_OK)
		st = fn(c->db, id, c->staff->id, &text);
	if (st != HL_OK) {
		db_rollback(c->db);
		api_db_failed(c, st);
		goto out;
	}
	if (text == NULL) {
		db_rollback(c->db);
		api_reply_error(c, 409, "conflict", conflict);
		goto out;
	}
	if ((dv = parsed(c, text)) == NULL) {
		db_rollback(c->db);
		goto out;
	}
	if (!api_audit(c, action, target,
		       json_pack("{s:O, s:O}", "status", json_object_get(dv, "status"), "title",
				 json_object_get(dv, "title")))) {
		db_rollback(c->db);
		api_reply_tempfail(c);
		goto out;
	}
	st = store_deliveries_commit(c->db);
	if (st != HL_OK) {
		db_rollback(c->db);
		api_db_failed(c, st);
		goto out;
	}
	log_info("delivery changed", "delivery=%lld action=%s staff=%lld", id, action,
		 c->staff->id);
	api_reply_json(c, 200, json_pack("{s:O}", "delivery", dv));
out:
	json_decref(dv);
	free(text);
}

#define NOT_CANCELLABLE "この配信はすでに送信が始まったか終わっているため、取り消せません。"

/* POST /api/deliveries/{id}/cancel */
static void cancel(struct api_call *c, long long id)
{
	json_t *dv = load(c, id, false);

	if (dv == NULL)
		return;
	if (!api_is_admin(c) && author_of(dv) != c->staff->id)
		api_reply_forbidden(c, "取り消せるのは自分が作成した配信だけです。");
	else
		change(c, id, "delivery.cancel", NOT_CANCELLABLE, store_deliveries_cancel);
	json_decref(dv);
}

/* POST /api/deliveries/{id}/approve */
static void approve(struct api_call *c, long long id)
{
	json_t *dv = load(c, id, false), *t;
	char *target = NULL, *problem = NULL;
	enum hl_status st;

	if (dv == NULL)
		return;
	if (strcmp(json_string_value(json_object_get(dv, "status")) != NULL
			   ? json_string_value(json_object_get(dv, "status"))
			   : "",
		   "pending_approval") != 0) {
		api_reply_error(c, 409, "conflict", "この配信は承認待ちではありません。");
		goto out;
	}
	if (author_of(dv) == c->staff->id) {
		api_reply_forbidden(
			c,
			"自分が作成した配信は承認できません。別の職員に承認を依頼してください。");
		goto out;
	}
	t = json_object_get(dv, "target");
	if (json_is_object(t) && (target = json_dumps(t, JSON_COMPACT)) == NULL) {
		api_reply_error(c, 500, "internal", "内部エラーが発生しました。");
		goto out;
	}
	st = store_deliveries_scope_problem(c->db, c->staff->id,
					    json_is_true(json_object_get(dv, "everyone")), target,
					    &problem);
	if (st != HL_OK)
		api_db_failed(c, st);
	else if (problem != NULL)
		api_reply_forbidden(c, problem);
	else
		change(c, id, "delivery.approve", "この配信は承認待ちではありません。",
		       store_deliveries_approve);
out:
	free(problem);
	free(target);
	json_decref(dv);
}

/* GET /api/deliveries/{id} */
static void show(struct api_call *c, long long id)
{
	json_t *dv = load(c, id, true);

	if (dv != NULL)
		api_reply_json(c, 200, dv);
}

static bool one_of(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

/* GET /api/deliveries */
static void list(struct api_call *c)
{
	static const char *const statuses[] = {
		"draft", "pending_approval", "scheduled", "queued", "sending",
		"done",	 "failed",	     "cancelled", "held",   NULL};
	static const char *const sources[] = {"mail", "staff", "reminder", "system", NULL};
	const char *status = httpd_query(c->req, "status"), *source = httpd_query(c->req, "source");
	const char *ls = httpd_query(c->req, "limit"), *bs = httpd_query(c->req, "before");
	long long limit = LIST_LIMIT_DEFAULT, before = 0;
	char *text = NULL;
	json_t *items = NULL, *next = json_null();
	size_t n;
	enum hl_status st;

	if (status != NULL && status[0] == '\0')
		status = NULL;
	if (source != NULL && source[0] == '\0')
		source = NULL;
	if (status != NULL && !one_of(status, statuses)) {
		api_invalid(c, "status", "status の値が正しくありません。");
		return;
	}
	if (source != NULL && !one_of(source, sources)) {
		api_invalid(
			c, "source",
			"source は mail, staff, reminder, system のいずれかで指定してください。");
		return;
	}
	if (ls != NULL && !str_to_ll(ls, 1, LIST_LIMIT_MAX, &limit)) {
		api_invalid(c, "limit", "limit は 1 から 200 までの数で指定してください。");
		return;
	}
	if (bs != NULL && !str_to_ll(bs, 1, INT64_MAX, &before)) {
		api_invalid(c, "before", "before は配信の番号で指定してください。");
		return;
	}
	/* One more than asked tells whether there is a next page. */
	st = store_deliveries_list(c->db, status, source, before, limit + 1, &text);
	if (st != HL_OK) {
		api_db_failed(c, st);
		return;
	}
	if ((items = parsed(c, text)) == NULL || !json_is_array(items)) {
		free(text);
		if (items != NULL) {
			json_decref(items);
			api_reply_error(c, 500, "internal", "内部エラーが発生しました。");
		}
		return;
	}
	free(text);
	n = json_array_size(items);
	if (n > (size_t)limit) {
		json_array_remove(items, n - 1);
		next = json_object_get(json_array_get(items, n - 2), "id");
		json_incref(next);
	}
	api_reply_json(c, 200, json_pack("{s:o, s:o}", "items", items, "next", next));
}

/* GET/PUT /api/settings/approval */
static void approval_setting(struct api_call *c, bool put)
{
	json_t *o, *v;
	bool before = false, after;
	enum hl_status st;

	if (!put) {
		st = store_deliveries_approval_required(c->db, &before);
		if (st != HL_OK)
			api_db_failed(c, st);
		else
			api_reply_json(c, 200, json_pack("{s:b}", "required", before));
		return;
	}
	if (!api_is_admin(c)) {
		api_reply_forbidden(c, "承認の設定を変えられるのは管理者だけです。");
		return;
	}
	if ((o = body_of(c)) == NULL)
		return;
	v = json_object_get(o, "required");
	if (!json_is_boolean(v)) {
		api_invalid(c, "required", "required は true か false で指定してください。");
		json_decref(o);
		return;
	}
	after = json_is_true(v);
	json_decref(o);
	st = store_deliveries_begin(c->db);
	if (st == HL_OK)
		st = store_deliveries_approval_required(c->db, &before);
	if (st == HL_OK)
		st = store_deliveries_set_approval_required(c->db, after, c->staff->id);
	if (st != HL_OK) {
		db_rollback(c->db);
		api_db_failed(c, st);
		return;
	}
	if (!api_audit(c, "settings.change", "setting:delivery.require_approval",
		       json_pack("{s:s, s:b, s:b}", "key", "delivery.require_approval", "from",
				 before, "to", after))) {
		db_rollback(c->db);
		api_reply_tempfail(c);
		return;
	}
	st = store_deliveries_commit(c->db);
	if (st != HL_OK) {
		db_rollback(c->db);
		api_db_failed(c, st);
		return;
	}
	api_reply_json(c, 200, json_pack("{s:b}", "required", after));
}

bool api_deliveries_handle(struct api_call *c)
{
	long long id;

	if (strncmp(c->path, "/api/deliveries", 15) != 0 &&
	    strcmp(c->path, "/api/settings/approval") != 0)
		return false;
	if (api_is(c, "POST", "/api/deliveries/preview"))
		preview(c);
	else if (api_is(c, "POST", "/api/deliveries/count"))
		count(c);
	else if (api_is(c, "POST", "/api/deliveries/test"))
		test_send(c);
	else if (api_is(c, "POST", "/api/deliveries"))
		submit(c);
	else if (api_is(c, "GET", "/api/deliveries"))
		list(c);
	else if (api_id(c, "GET", "/api/deliveries/", "", &id))
		show(c, id);
	else if (api_id(c, "POST", "/api/deliveries/", "/cancel", &id))
		cancel(c, id);
	else if (api_id(c, "POST", "/api/deliveries/", "/approve", &id))
		approve(c, id);
	else if (api_is(c, "GET", "/api/settings/approval"))
		approval_setting(c, false);
	else if (api_is(c, "PUT", "/api/settings/approval"))
		approval_setting(c, true);
	else if (strcmp(c->path, "/api/deliveries") == 0 ||
		 strcmp(c->path, "/api/settings/approval") == 0)
		api_reply_error(c, 405, "method_not_allowed", "この操作はできません。");
	else
		return false;
	return true;
}
