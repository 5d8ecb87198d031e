/*
 * api_audit — the audit log for 管理者: search, CSV export and chain
 * verification; see api_audit.h and docs/api.md ("Audit log").
 *
 * The CSV is for Excel on a city PC: UTF-8 with a BOM (without it Excel
 * reads Shift_JIS), CRLF line ends, RFC 4180 quoting, and a cell that
 * starts with = + - @ (or a tab or CR) gets a leading ' so that Excel
 * shows it as text instead of running it as a formula: actors of failed
 * sign-ins and labels are chosen by whoever typed them.  The export
 * itself is audited (audit.export) before anything is sent; if that row
 * cannot be written, nothing is exported.
 */
#include "api_audit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_audit.h"
#include "str.h"

#define AUDIT_LIMIT_DEFAULT 50
#define AUDIT_LIMIT_MAX	    200
/* Rows in one CSV export: about 30 MB; a longer period is split. */
#define AUDIT_CSV_MAX 100000

/* A strict YYYY-MM-DD that is a real day. */
static bool date_ok(const char *s)
{
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	long long y, m, d;
	char part[5];

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	memcpy(part, s, 4);
	part[4] = '\0';
	if (!str_to_ll(part, 1900, 9999, &y))
		return false;
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	return m != 2 || d < 29 || (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
}

static bool action_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 100 || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '.'))
			return false;
	return true;
}

/* The filters of ?actor=&action=&from=&to=; false after a 400. */
static bool read_filter(struct api_call *c, struct audit_filter *f)
{
	const char *v;

	*f = (struct audit_filter){0};
	v = httpd_query(c->req, "actor");
	if (v != NULL && v[0] != '\0') {
		if (strlen(v) > 200) {
			api_invalid(c, "actor", "職員のログイン名が長すぎます。");
			return false;
		}
		f->actor = v;
	}
	v = httpd_query(c->req, "action");
	if (v != NULL && v[0] != '\0') {
		if (!action_ok(v)) {
			api_invalid(c, "action",
				    "操作は staff や delivery.send のように英小文字と . で指定して"
				    "ください。");
			return false;
		}
		f->action = v;
	}
	v = httpd_query(c->req, "from");
	if (v != NULL && v[0] != '\0') {
		if (!date_ok(v)) {
			api_invalid(c, "from", "開始日は 2026-11-25 の形式で指定してください。");
			return false;
		}
		f->from = v;
	}
	v = httpd_query(c->req, "to");
	if (v != NULL && v[0] != '\0') {
		if (!date_ok(v)) {
			api_invalid(c, "to", "終了日は 2026-11-25 の形式で指定してください。");
			return false;
		}
		f->to = v;
	}
	if (f->from != NULL && f->to != NULL && strcmp(f->from, f->to) > 0) {
		api_invalid(c, "to", "終了日は開始日と同じか、それより後にしてください。");
		return false;
	}
	return true;
}

/* The filters as they were used, for audit.export's detail. */
static json_t *filter_json(const struct audit_filter *f)
{
	json_t *o = json_object();

	if (f->actor != NULL)
		json_object_set_new(o, "actor", json_string(f->actor));
	if (f->action != NULL)
		json_object_set_new(o, "action", json_string(f->action));
	if (f->from != NULL)
		json_object_set_new(o, "from", json_string(f->from));
	if (f->to != NULL)
		json_object_set_new(o, "to", json_string(f->to));
	return o;
}

/* --- search ------------------------------------------------------------------- */

static bool add_item(void *ctx, const struct audit_row *r)
{
	json_t *detail = json_loads(r->detail, 0, NULL);

	return json_array_append_new((json_t *)ctx,
				     json_pack("{s:I, s:s, s:s, s:s, s:s?, s:o, s:s?}", "id",
					       (json_int_t)r->id, "at", r->at, "actor", r->actor,
					       "action", r->action, "target", r->target, "detail",
					       detail != NULL ? detail : json_object(), "ip",
					       r->ip)) == 0;
}

static void do_search(struct api_call *c)
{
	struct audit_filter f;
	long long limit, before, rows;
	json_t *items, *next = json_null();
	enum hl_status st;

	if (!read_filter(c, &f) ||
	    !api_query_int(c, "limit", 1, AUDIT_LIMIT_MAX, AUDIT_LIMIT_DEFAULT, &limit) ||
	    !api_query_int(c, "before", 1, INT64_MAX, 0, &before))
		return;
	f.before = before;
	f.limit = limit + 1;
	items = json_array();
	st = store_audit_search(c->db, &f, add_item, items, &rows);
	if (st != HL_OK) {
		json_decref(items);
		api_db_failed(c, st);
		return;
	}
	if (rows > limit) {
		json_array_remove(items, (size_t)limit);
		next = json_incref(json_object_get(json_array_get(items, (size_t)limit - 1), "id"));
	}
	api_reply_json(c, 200, json_pack("{s:o, s:o}", "items", items, "next", next));
}

/* --- CSV ------------------------------------------------------------------------ */

struct csv {
	char *buf;
	size_t len, size;
	bool failed;
};

static void csv_put(struct csv *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (n > SIZE_MAX / 2 - o->len) {
		o->failed = true;
		return;
	}
	if (o->len + n + 1 > o->size) {
		size_t size = o->size > 0 ? o->size : 65536;
		char *p;

		while (size < o->len + n + 1)
			size *= 2;
		p = realloc(o->buf, size);
		if (p == NULL) {
			o->failed = true;
			return;
		}
		o->buf = p;
		o->size = size;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* One cell: the formula guard, then quoted when it holds , " CR or LF. */
static void csv_cell(struct csv *o, const char *s, bool last)
{
	const char *p;
	bool quote;

	if (s == NULL)
		s = "";
	quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		csv_put(o, "\"", 1);
	if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
	    s[0] == '\r')
		csv_put(o, "'", 1);
	/* Each " doubled: copy up to and including it, then one more. */
	while ((p = strchr(s, '"')) != NULL) {
		csv_put(o, s, (size_t)(p - s) + 1);
		csv_put(o, "\"", 1);
		s = p + 1;
	}
	csv_put(o, s, strlen(s));
	if (quote)
		csv_put(o, "\"", 1);
	csv_put(o, last ? "\r\n" : ",", last ? 2 : 1);
}

static bool add_line(void *ctx, const struct audit_row *r)
{
	struct csv *o = ctx;

	csv_cell(o, r->at, false);
	csv_cell(o, r->actor, false);
	csv_cell(o, r->action, false);
	csv_cell(o, r->target, false);
	csv_cell(o, r->detail, false);
	csv_cell(o, r->ip, true);
	return !o->failed;
}

static void do_csv(struct api_call *c)
{
	struct csv o = {0};
	struct audit_filter f;
	long long rows;
	enum hl_status st;
	char name[80], stamp[16];
	time_t now = time(NULL) + 9 * 3600; /* Japan has no summer time */
	struct tm tm;
	json_t *detail;

	if (!read_filter(c, &f))
		return;
	f.limit = AUDIT_CSV_MAX + 1;
	csv_put(&o, "\xEF\xBB\xBF", 3);
	csv_put(&o, "日時,職員,操作,対象,詳細,IPアドレス\r\n",
		strlen("日時,職員,操作,対象,詳細,IPアドレス\r\n"));
	st = store_audit_search(c->db, &f, add_line, &o, &rows);
	if (st != HL_OK || o.failed) {
		free(o.buf);
		if (o.failed)
			api_reply_error(c, 500, "internal", "CSV を作成できませんでした。");
		else
			api_db_failed(c, st);
		return;
	}
	if (rows > AUDIT_CSV_MAX) {
		free(o.buf);
		api_reply_error(
			c, 413, "too_large",
			"件数が多すぎます（10万件まで）。期間を絞ってから出力してください。");
		return;
	}
	detail = filter_json(&f);
	json_object_set_new(detail, "rows", json_integer(rows));
	json_object_set_new(detail, "format", json_string("csv"));
	if (!api_audit(c, "audit.export", NULL, detail)) {
		free(o.buf);
		api_reply_tempfail(c);
		return;
	}
	if (gmtime_r(&now, &tm) == NULL || strftime(stamp, sizeof(stamp), "%Y%m%d", &tm) == 0 ||
	    !str_printf(name, sizeof(name), "attachment; filename=\"audit-%s.csv\"", stamp) ||
	    !httpd_reply_header(c->reply, "Content-Disposition", name)) {
		free(o.buf);
		api_reply_error(c, 500, "internal", "CSV を作成できませんでした。");
		return;
	}
	httpd_reply_owned(c->reply, 200, "text/csv; charset=utf-8", o.buf, o.len);
}

/* --- verification ------------------------------------------------------------------ */

static void do_verify(struct api_call *c)
{
	bool intact = false;
	long long first_bad = 0, rows = 0;
	enum hl_status st = store_audit_verify_rows(c->db, &intact, &first_bad, &rows);

	if (st != HL_OK) {
		api_db_failed(c, st);
		return;
	}
	api_reply_json(c, 200,
		       json_pack("{s:b, s:I, s:o}", "ok", intact, "rows", (json_int_t)rows,
				 "broken_at",
				 intact ? json_null() : json_integer((json_int_t)first_bad)));
}

bool api_audit_handle(struct api_call *c)
{
	if (api_is(c, "GET", "/api/audit")) {
		if (api_need_admin(c))
			do_search(c);
	} else if (api_is(c, "GET", "/api/audit.csv")) {
		if (api_need_admin(c))
			do_csv(c);
	} else if (api_is(c, "GET", "/api/audit/verify")) {
		if (api_need_admin(c))
			do_verify(c);
	} else {
		return false;
	}
	return true;
}
