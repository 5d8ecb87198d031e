/*
 * api — shared pieces of hotline-admin's endpoint modules; see api.h.
 */
#include "api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_audit.h"
#include "str.h"

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
