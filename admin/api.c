/*
 * api — shared pieces of hotline-admin's endpoint modules; see api.h.
 */
#include "api.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_audit.h"
#include "str.h"
#include "utf8.h"

/* The client's address: the peer's, or behind this host's TLS proxy (a
 * loopback peer, with forwarded_for on) the last X-Forwarded-For entry,
 * the one the proxy itself appended (earlier ones are the client's word).
 * False when unknown (a Unix socket, or a malformed header). */
bool api_client_addr(const struct hl_config *cfg, const struct httpd_request *req, char *out,
		     size_t size)
{
	const char *xff, *last;
	unsigned char bin[sizeof(struct in6_addr)];

	if (!httpd_remote_addr(req, out, size) || strcmp(out, "unix") == 0)
		return false;
	if (!cfg->admin.forwarded_for || (strcmp(out, "127.0.0.1") != 0 && strcmp(out, "::1") != 0))
		return true;
	xff = httpd_header(req, "X-Forwarded-For");
	if (xff == NULL)
		return true;
	last = strrchr(xff, ',');
	last = last != NULL ? last + 1 : xff;
	while (*last == ' ')
		last++;
	if (!str_copy(out, last, size))
		return false;
	str_trim(out);
	return inet_pton(AF_INET, out, bin) == 1 || inet_pton(AF_INET6, out, bin) == 1;
}

void api_reply_json(struct api_call *c, int status, json_t *v)
{
	char *text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;

	json_decref(v);
	if (text == NULL) {
		httpd_reply_static(
			c->reply, 500, "application/json",
			"{\"error\":\"internal\",\"message\":\"内部エラーが発生しました。\"}");
		return;
	}
	httpd_reply_owned(c->reply, status, "application/json; charset=utf-8", text, strlen(text));
}

void api_reply_error(struct api_call *c, int status, const char *code, const char *msg)
{
	api_reply_json(c, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

void api_reply_tempfail(struct api_call *c)
{
	char q[600];

	log_warn("database unavailable", "error=%s", log_quote(db_error(c->db), q, sizeof(q)));
	api_reply_error(
		c, 503, "unavailable",
		"システムが一時的に利用できません。しばらくしてからもう一度お試しください。");
}

void api_reply_forbidden(struct api_call *c, const char *msg)
{
	api_reply_error(c, 403, "forbidden",
			msg != NULL ? msg : "この操作を行う権限がありません。");
}

json_t *api_body_object(struct api_call *c, size_t max)
{
	size_t len = 0;
	const char *body = httpd_body(c->req, &len);
	json_error_t jerr;
	json_t *v;

	if (len > max) {
		api_reply_error(c, 413, "too_large", "リクエストが大きすぎます。");
		return NULL;
	}
	v = body != NULL ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	if (!json_is_object(v)) {
		json_decref(v);
		api_reply_error(c, 400, "bad_request", "リクエストの形式が正しくありません。");
		return NULL;
	}
	return v;
}

const char *api_field(json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

bool api_is(const struct api_call *c, const char *method, const char *path)
{
	return strcmp(c->method, method) == 0 && strcmp(c->path, path) == 0;
}

bool api_id(const struct api_call *c, const char *method, const char *prefix, const char *suffix,
	    long long *id)
{
	size_t n = strlen(prefix);
	const char *p = c->path + n;
	char *end;
	long long v;

	if (strcmp(c->method, method) != 0 || strncmp(c->path, prefix, n) != 0 || *p < '1' ||
	    *p > '9')
		return false;
	errno = 0;
	v = strtoll(p, &end, 10);
	if (errno != 0 || v <= 0 || strcmp(end, suffix) != 0)
		return false;
	*id = v;
	return true;
}

bool api_is_admin(const struct api_call *c)
{
	return c->staff != NULL && c->staff->role == STAFF_ROLE_ADMIN;
}

bool api_audit_as(struct api_call *c, long long actor_id, const char *actor, const char *action,
		  const char *target, json_t *detail)
{
	char *text = detail != NULL ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char q[600];
	enum hl_status st;

	json_decref(detail);
	st = store_audit_append(c->db, &(struct audit_entry){
					       .actor_staff_id = actor_id,
					       .actor = actor,
					       .action = action,
					       .target = target,
					       .detail = text,
					       .ip = c->ip,
					       .user_agent = c->agent,
				       });
	free(text);
	if (st != HL_OK) {
		log_error("cannot write the audit log", "action=%s staff=%lld error=%s", action,
			  actor_id, log_quote(db_error(c->db), q, sizeof(q)));
		return false;
	}
	return true;
}

bool api_audit(struct api_call *c, const char *action, const char *target, json_t *detail)
{
	if (c->staff == NULL) {
		json_decref(detail);
		return false;
	}
	return api_audit_as(c, c->staff->id, c->staff->login, action, target, detail);
}

/* --- request checking -------------------------------------------------------- */

void api_invalid(struct api_call *c, const char *field, const char *msg)
{
	api_reply_json(
		c, 400,
		json_pack("{s:s, s:s, s:s}", "error", "invalid", "message", msg, "field", field));
}

bool api_need_admin(struct api_call *c)
{
	if (api_is_admin(c))
		return true;
	api_reply_forbidden(c, "この操作は管理者だけが行えます。");
	return false;
}

void api_db_failed(struct api_call *c, enum hl_status st)
{
	char q[600];

	if (st == HL_TEMPFAIL) {
		api_reply_tempfail(c);
		return;
	}
	log_error("database refused a statement", "path=%s error=%s", c->path,
		  log_quote(db_error(c->db), q, sizeof(q)));
	api_reply_error(c, 500, "internal", "内部エラーが発生しました。管理者に連絡してください。");
}

void api_reply_text(struct api_call *c, int status, char *json)
{
	if (json == NULL) {
		api_reply_error(c, 500, "internal", "内部エラーが発生しました。");
		return;
	}
	httpd_reply_owned(c->reply, status, "application/json; charset=utf-8", json, strlen(json));
}

bool api_begin(struct api_call *c)
{
	enum hl_status st = db_exec(c->db, "BEGIN");

	if (st != HL_OK) {
		api_db_failed(c, st);
		return false;
	}
	return true;
}

bool api_commit(struct api_call *c)
{
	enum hl_status st = db_exec(c->db, "COMMIT");

	if (st != HL_OK) {
		db_rollback(c->db);
		api_db_failed(c, HL_TEMPFAIL);
		return false;
	}
	return true;
}

/* Characters of valid UTF-8 text without control characters; -1 when
 * invalid.  *blank true when it holds nothing but spaces. */
static long long text_chars(const char *s, bool *blank)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	long long chars = 0;

	*blank = true;
	while (n > 0) {
		uint32_t cp;
		size_t len = utf8_decode(p, n, &cp);

		if (len == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			return -1;
		if (cp != ' ' && cp != 0x3000)
			*blank = false;
		p += len;
		n -= len;
		chars++;
	}
	return chars;
}

bool api_text(struct api_call *c, json_t *body, const char *name, const char *what, size_t max,
	      bool required, bool allow_empty, const char **out)
{
	json_t *v = json_object_get(body, name);
	char msg[300];
	bool blank;
	long long n;

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return true;
		str_msg(msg, sizeof(msg), "%sを入力してください。", what);
		api_invalid(c, name, msg);
		return false;
	}
	if (!json_is_string(v) || (n = text_chars(json_string_value(v), &blank)) < 0 ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		str_msg(msg, sizeof(msg),
			"%sに使えない文字が含まれています（改行や制御文字は使えません）。", what);
		api_invalid(c, name, msg);
		return false;
	}
	if (n == 0 && allow_empty) {
		*out = json_string_value(v);
		return true;
	}
	if (n == 0 || blank) {
		str_msg(msg, sizeof(msg), "%sを入力してください。", what);
		api_invalid(c, name, msg);
		return false;
	}
	if ((size_t)n > max) {
		str_msg(msg, sizeof(msg), "%sは%zu文字以内にしてください。", what, max);
		api_invalid(c, name, msg);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

bool api_bool(struct api_call *c, json_t *body, const char *name, const char *what, int *out)
{
	json_t *v = json_object_get(body, name);
	char msg[300];

	*out = -1;
	if (v == NULL)
		return true;
	if (!json_is_boolean(v)) {
		str_msg(msg, sizeof(msg), "%sは true か false で指定してください。", what);
		api_invalid(c, name, msg);
		return false;
	}
	*out = json_is_true(v) ? 1 : 0;
	return true;
}

bool api_int(struct api_call *c, json_t *body, const char *name, const char *what, long long min,
	     long long max, bool *has, long long *out)
{
	json_t *v = json_object_get(body, name);
	char msg[300];

	*has = false;
	*out = 0;
	if (v == NULL)
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		str_msg(msg, sizeof(msg), "%sは%lldから%lldまでの整数で指定してください。", what,
			min, max);
		api_invalid(c, name, msg);
		return false;
	}
	*has = true;
	*out = json_integer_value(v);
	return true;
}

bool api_query_int(struct api_call *c, const char *name, long long min, long long max,
		   long long def, long long *out)
{
	const char *v = httpd_query(c->req, name);
	char msg[300];

	*out = def;
	if (v == NULL)
		return true;
	if (!str_to_ll(v, min, max, out)) {
		str_msg(msg, sizeof(msg), "%sは%lldから%lldまでの整数で指定してください。", name,
			min, max);
		api_invalid(c, name, msg);
		return false;
	}
	return true;
}

json_t *api_changes(json_t *before, json_t *after)
{
	json_t *b = json_object(), *a = json_object();
	const char *k;
	json_t *v;

	json_object_foreach(after, k, v)
	{
		json_t *old = json_object_get(before, k);

		if (old == NULL || !json_equal(old, v)) {
			json_object_set(b, k, old != NULL ? old : json_null());
			json_object_set(a, k, v);
		}
	}
	return json_pack("{s:o, s:o}", "before", b, "after", a);
}
