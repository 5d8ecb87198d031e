/*
 * api_staff — staff accounts, departments, roles, segment scope and the
 * own password; see api_staff.h and docs/api.md ("Staff accounts").
 *
 * Everything but GET /api/departments and POST /api/me/password is for
 * 管理者 only, so a 一般職員 can never touch a role or a scope, their own
 * included.  A 管理者 cannot demote or disable themself, and the last
 * enabled 管理者 cannot be demoted or disabled by anyone: the other
 * 管理者 rows are locked while this is checked, so two 管理者 demoting
 * each other at the same moment cannot both succeed.  A 管理者 changes
 * their own password through /api/me/password (which asks for the current
 * one), never through a reset, so a hijacked session alone cannot take
 * the account over.  Disabling an account or resetting its password ends
 * its sessions at once.
 */
#include "api_staff.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "password.h"
#include "store_staff.h"
#include "str.h"

#define NAME_MAX_CHARS	 100
#define SCOPE_MAX_VALUES 10000

/* The login folded to lower case into out; false after a 400. */
static bool read_login(struct api_call *c, json_t *body, char out[65])
{
	const char *v = api_field(body, "login");
	size_t n = v != NULL ? strlen(v) : 0;
	bool ok = n >= 3 && n <= 64;

	for (size_t i = 0; ok && i < n; i++) {
		char ch = v[i] >= 'A' && v[i] <= 'Z' ? (char)(v[i] - 'A' + 'a') : v[i];

		ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		     (i > 0 && (ch == '.' || ch == '_' || ch == '@' || ch == '-'));
		out[i] = ch;
	}
	if (!ok) {
		api_invalid(c, "login",
			    "ログイン名は英数字で始まり、英数字と . _ @ - だけの3〜64文字にして"
			    "ください。");
		return false;
	}
	out[n] = '\0';
	return true;
}

/* "admin" or "staff": *role -1 when absent. */
static bool read_role(struct api_call *c, json_t *body, bool required, int *role)
{
	json_t *v = json_object_get(body, "role");
	const char *s = json_string_value(v);

	*role = -1;
	if (v == NULL && !required)
		return true;
	if (s != NULL && strcmp(s, "admin") == 0) {
		*role = STAFF_ROLE_ADMIN;
	} else if (s != NULL && strcmp(s, "staff") == 0) {
		*role = STAFF_ROLE_STAFF;
	} else {
		api_invalid(c, "role",
			    "役割は admin（管理者）か staff（一般職員）で指定してください。");
		return false;
	}
	return true;
}

/* The department: NULL when absent, "" for none (null or ""). */
static bool read_department(struct api_call *c, json_t *body, const char **out)
{
	json_t *v = json_object_get(body, "department");

	*out = NULL;
	if (v == NULL)
		return true;
	if (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
		*out = "";
		return true;
	}
	return api_text(c, body, "department", "所属（課）", NAME_MAX_CHARS, false, false, out);
}

/* A new password in member name: NULL when absent; hashed into hash. */
static bool read_password(struct api_call *c, json_t *body, const char *name, bool required,
			  char hash[PASSWORD_HASH_SIZE], const char **out)
{
	json_t *v = json_object_get(body, name);
	const char *pw = json_string_value(v), *weak;

	*out = NULL;
	if (v == NULL && !required)
		return true;
	if (pw == NULL || strlen(pw) != json_string_length(v)) {
		api_invalid(c, name, "パスワードを入力してください。");
		return false;
	}
	weak = password_weakness(pw);
	if (weak != NULL) {
		api_invalid(c, name, weak);
		return false;
	}
	if (password_hash(pw, hash) != 0) {
		api_reply_error(c, 500, "internal", "パスワードを保存できませんでした。");
		return false;
	}
	*out = hash;
	return true;
}

/* scope: an array of value ids; *values NULL when absent (malloc'd). */
static bool read_scope(struct api_call *c, json_t *body, long long **values, size_t *n)
{
	json_t *v = json_object_get(body, "scope"), *e;
	size_t i;

	*values = NULL;
	*n = 0;
	if (v == NULL)
		return true;
	if (!json_is_array(v) || json_array_size(v) > SCOPE_MAX_VALUES)
		goto bad;
	*values = malloc((json_array_size(v) + 1) * sizeof(**values));
	if (*values == NULL) {
		api_reply_error(c, 500, "internal", "内部エラーが発生しました。");
		return false;
	}
	json_array_foreach(v, i, e)
	{
		if (!json_is_integer(e) || json_integer_value(e) < 1)
			goto bad;
		(*values)[i] = json_integer_value(e);
	}
	*n = json_array_size(v);
	return true;
bad:
	free(*values);
	*values = NULL;
	api_invalid(c, "scope", "対象範囲はセグメントの値の id の配列で指定してください。");
	return false;
}

/* The account as the API shows it (a new reference), or NULL. */
static json_t *account_json(struct api_call *c, long long id, enum hl_status *st)
{
	char *text = NULL;
	json_t *arr, *one;

	*st = store_staff_list_json(c->db, id, &text);
	if (*st != HL_OK)
		return NULL;
	arr = json_loads(text, 0, NULL);
	free(text);
	one = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	if (one == NULL) {
		db_set_error(c->db, "staff account %lld not readable", id);
		*st = HL_PERMFAIL;
	}
	return one;
}

static void reply_staff_outcome(struct api_call *c, enum staff_outcome o)
{
	switch (o) {
	case STAFF_NOT_FOUND:
		api_reply_error(c, 404, "not_found", "指定された職員アカウントが見つかりません。");
		break;
	case STAFF_LOGIN_TAKEN:
		api_reply_error(
			c, 409, "conflict",
			"このログイン名は既に使われています（無効にしたアカウントも含みます）。");
		break;
	case STAFF_BAD_SCOPE:
		api_invalid(c, "scope", "対象範囲に存在しないセグメントの値が含まれています。");
		break;
	case STAFF_INVALID:
	case STAFF_DONE:
		api_invalid(c, "display_name", "入力内容を確認してください。");
		break;
	}
}

static void do_list(struct api_call *c)
{
	char *json = NULL;
	enum hl_status st = store_staff_list_json(c->db, 0, &json);
	json_t *items;

	if (st != HL_OK) {
		api_db_failed(c, st);
		return;
	}
	items = json_loads(json, 0, NULL);
	free(json);
	api_reply_json(c, 200, json_pack("{s:o, s:n}", "items", items, "next"));
}

static void do_departments(struct api_call *c)
{
	char *json = NULL;
	enum hl_status st = store_staff_departments_json(c->db, &json);
	json_t *items;

	if (st != HL_OK) {
		api_db_failed(c, st);
		return;
	}
	items = json_loads(json, 0, NULL);
	free(json);
	api_reply_json(c, 200, json_pack("{s:o, s:n}", "items", items, "next"));
}

/* Roll back and answer: a failure (st) or a refused change (o). */
static void give_up(struct api_call *c, enum hl_status st, enum staff_outcome o)
{
	db_rollback(c->db);
	if (st != HL_OK)
		api_db_failed(c, st);
	else
		reply_staff_outcome(c, o);
}

static void do_create(struct api_call *c)
{
	json_t *body = api_body_object(c, API_BODY_MAX), *acct = NULL;
	char login[65], hash[PASSWORD_HASH_SIZE], target[48];
	struct staff_new s = {.login = login};
	const char *dept = NULL, *pw = NULL;
	long long *scope = NULL, id = 0;
	size_t nscope = 0;
	enum staff_outcome o = STAFF_DONE;
	enum hl_status st;
	int role;

	if (body == NULL)
		return;
	if (!read_login(c, body, login) ||
	    !api_text(c, body, "display_name", "表示名", NAME_MAX_CHARS, true, false,
		      &s.display_name) ||
	    !read_department(c, body, &dept) || !read_role(c, body, true, &role) ||
	    !read_scope(c, body, &scope, &nscope) ||
	    !read_password(c, body, "password", true, hash, &pw))
		goto out;
	s.department = dept != NULL ? dept : "";
	s.role = (enum staff_role)role;
	s.password_hash = pw;
	if (!api_begin(c))
		goto out;
	st = store_staff_insert(c->db, &s, &id, &o);
	if (st == HL_OK && o == STAFF_DONE && scope != NULL)
		st = store_staff_scope_set(c->db, id, scope, nscope, c->staff->id, &o);
	if (st == HL_OK && o == STAFF_DONE)
		acct = account_json(c, id, &st);
	if (st != HL_OK || o != STAFF_DONE) {
		give_up(c, st, o);
		goto out;
	}
	if (!str_printf(target, sizeof(target), "staff:%lld", id))
		target[0] = '\0';
	if (!api_audit(c, "staff.create", target,
		       json_pack("{s:s, s:s, s:O}", "login", login, "role",
				 role == STAFF_ROLE_ADMIN ? "admin" : "staff", "department",
				 json_object_get(acct, "department"))) ||
	    (scope != NULL && !api_audit(c, "staff.scope_change", target,
					 json_pack("{s:s, s:[], s:O}", "login", login, "before",
						   "after", json_object_get(acct, "scope"))))) {
		db_rollback(c->db);
		api_reply_tempfail(c);
		goto out;
	}
	if (api_commit(c))
		api_reply_json(c, 201, json_incref(acct));
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	json_decref(acct);
	free(scope);
	json_decref(body);
}

/* Audit what a PATCH changed, one row per kind of change. */
static bool audit_changes(struct api_call *c, const char *target, json_t *before, json_t *after,
			  bool password)
{
	json_t *ch = api_changes(before, after);
	json_t *b = json_object_get(ch, "before"), *a = json_object_get(ch, "after");
	json_t *login = json_object_get(after, "login");
	bool ok = true;

	if (json_object_get(a, "scope") != NULL)
		ok = api_audit(c, "staff.scope_change", target,
			       json_pack("{s:O, s:O, s:O}", "login", login, "before",
					 json_object_get(b, "scope"), "after",
					 json_object_get(a, "scope")));
	if (ok && json_is_true(json_object_get(a, "disabled"))) {
		ok = api_audit(c, "staff.disable", target, json_pack("{s:O}", "login", login));
		json_object_del(a, "disabled");
		json_object_del(b, "disabled");
	}
	if (ok && password)
		ok = api_audit(c, "staff.password_reset", target,
			       json_pack("{s:O}", "login", login));
	json_object_del(a, "scope");
	json_object_del(b, "scope");
	/* A reset clears the lockout: part of the reset, not news. */
	json_object_del(a, "locked");
	json_object_del(b, "locked");
	if (ok && json_object_size(a) > 0)
		ok = api_audit(
			c, "staff.update", target,
			json_pack("{s:O, s:O, s:O}", "login", login, "before", b, "after", a));
	json_decref(ch);
	return ok;
}

static void do_update(struct api_call *c, long long id)
{
	json_t *body = api_body_object(c, API_BODY_MAX), *before = NULL, *after = NULL;
	char hash[PASSWORD_HASH_SIZE], target[48];
	struct staff_change ch = {.role = -1, .disabled = -1};
	struct staff_account *t = NULL;
	long long *scope = NULL, others;
	size_t nscope = 0;
	enum staff_outcome o = STAFF_DONE;
	enum hl_status st;
	bool self = c->staff->id == id, found = false, demote, disable;

	if (body == NULL)
		return;
	if (json_object_get(body, "login") != NULL) {
		api_invalid(c, "login", "ログイン名は変更できません。");
		goto out;
	}
	if (!api_text(c, body, "display_name", "表示名", NAME_MAX_CHARS, false, false,
		      &ch.display_name) ||
	    !read_department(c, body, &ch.department) || !read_role(c, body, false, &ch.role) ||
	    !api_bool(c, body, "disabled", "無効化", &ch.disabled) ||
	    !read_scope(c, body, &scope, &nscope))
		goto out;
	if (self && json_object_get(body, "password") != NULL) {
		api_invalid(c, "password",
			    "自分のパスワードは「パスワード変更」（現在のパスワードの入力が必要）"
			    "から変更してください。");
		goto out;
	}
	if (!read_password(c, body, "password", false, hash, &ch.password_hash))
		goto out;
	if (ch.display_name == NULL && ch.department == NULL && ch.role < 0 && ch.disabled < 0 &&
	    scope == NULL && json_object_get(body, "scope") == NULL && ch.password_hash == NULL) {
		api_reply_error(c, 400, "bad_request", "変更する内容がありません。");
		goto out;
	}
	t = malloc(sizeof(*t));
	if (t == NULL) {
		api_reply_error(c, 500, "internal", "内部エラーが発生しました。");
		goto out;
	}
	if (!api_begin(c))
		goto out;
	st = store_staff_by_id(c->db, id, t, &found);
	if (st == HL_OK && !found)
		o = STAFF_NOT_FOUND;
	if (st == HL_OK && found)
		before = account_json(c, id, &st);
	if (st != HL_OK || o != STAFF_DONE) {
		give_up(c, st, o);
		goto out;
	}
	demote = ch.role == STAFF_ROLE_STAFF && t->role == STAFF_ROLE_ADMIN;
	disable = ch.disabled == 1 && !t->disabled;
	if ((demote || disable) && t->role == STAFF_ROLE_ADMIN && !t->disabled) {
		st = store_staff_other_admins(c->db, id, &others);
		if (st != HL_OK) {
			give_up(c, st, o);
			goto out;
		}
		if (others == 0) {
			db_rollback(c->db);
			api_reply_error(c, 409, "conflict",
					"最後の管理者は一般職員に変更したり無効にしたりできません。"
					"先に別の管理者を作ってください。");
			goto out;
		}
	}
	if ((demote || disable) && self) {
		db_rollback(c->db);
		api_reply_error(c, 409, "conflict",
				demote ? "自分自身を一般職員に変更することはできません。"
					 "別の管理者に依頼してください。"
				       : "自分自身を無効にすることはできません。"
					 "別の管理者に依頼してください。");
		goto out;
	}
	st = store_staff_update(c->db, id, &ch, &o);
	if (st == HL_OK && o == STAFF_DONE && json_object_get(body, "scope") != NULL)
		st = store_staff_scope_set(c->db, id, scope, nscope, c->staff->id, &o);
	if (st == HL_OK && o == STAFF_DONE && (disable || ch.password_hash != NULL))
		st = store_staff_sessions_end(c->db, id);
	if (st == HL_OK && o == STAFF_DONE)
		after = account_json(c, id, &st);
	if (st != HL_OK || o != STAFF_DONE) {
		give_up(c, st, o);
		goto out;
	}
	if (!str_printf(target, sizeof(target), "staff:%lld", id))
		target[0] = '\0';
	if (!audit_changes(c, target, before, after, ch.password_hash != NULL)) {
		db_rollback(c->db);
		api_reply_tempfail(c);
		goto out;
	}
	if (api_commit(c)) {
		log_info("staff account changed", "staff=%lld by=%lld", id, c->staff->id);
		api_reply_json(c, 200, json_incref(after));
	}
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	if (t != NULL)
		OPENSSL_cleanse(t, sizeof(*t));
	free(t);
	json_decref(before);
	json_decref(after);
	free(scope);
	json_decref(body);
}

static void reply_locked(struct api_call *c, long long seconds)
{
	char retry[24];

	if (str_printf(retry, sizeof(retry), "%lld", seconds) &&
	    !httpd_reply_header(c->reply, "Retry-After", retry))
		log_warn("cannot add Retry-After", "staff=%lld", c->staff->id);
	api_reply_json(
		c, 429,
		json_pack("{s:s, s:s, s:I}", "error", "locked", "message",
			  "パスワードの誤りが続いたため、このアカウントは一時的にロックされて"
			  "います。しばらくしてからもう一度お試しください。",
			  "retry_after", (json_int_t)seconds));
}

/* A wrong current password counts as a failed sign-in: a session alone
 * (one left open, or stolen) must not be a way to guess the password.
 * It is audited like one, and locks the account the same way. */
static void wrong_current(struct api_call *c)
{
	const struct hl_config *cfg = c->cfg;
	char target[48];
	long long locked = 0;
	enum hl_status st;

	log_warn("own password change refused", "staff=%lld reason=current", c->staff->id);
	st = store_staff_login_failed(c->db, c->staff->id, cfg->admin.lockout_threshold,
				      cfg->admin.lockout_base_seconds,
				      cfg->admin.lockout_max_seconds, &locked);
	if (!str_printf(target, sizeof(target), "staff:%lld", c->staff->id))
		target[0] = '\0';
	if (st != HL_OK || !api_audit(c, "staff.password_change_failed", target,
				      json_pack("{s:I}", "locked_for", (json_int_t)locked))) {
		api_db_failed(c, st != HL_OK ? st : HL_TEMPFAIL);
		return;
	}
	api_invalid(c, "current", "現在のパスワードが正しくありません。");
}

static void do_own_password(struct api_call *c)
{
	json_t *body = api_body_object(c, API_BODY_MAX);
	char hash[PASSWORD_HASH_SIZE], target[48];
	struct staff_change ch = {.role = -1, .disabled = -1};
	const char *current, *fresh;
	enum staff_outcome o = STAFF_DONE;
	enum hl_status st;

	hash[0] = '\0';
	if (body == NULL)
		return;
	current = api_field(body, "current");
	fresh = api_field(body, "new");
	if (c->staff->locked_for > 0) {
		reply_locked(c, c->staff->locked_for);
		goto out;
	}
	if (current == NULL || !password_verify(current, c->staff->password_hash)) {
		wrong_current(c);
		goto out;
	}
	if (fresh != NULL && strcmp(fresh, current) == 0) {
		api_invalid(c, "new", "新しいパスワードは現在のものと別にしてください。");
		goto out;
	}
	if (!read_password(c, body, "new", true, hash, &ch.password_hash) || !api_begin(c))
		goto out;
	st = store_staff_update(c->db, c->staff->id, &ch, &o);
	if (st != HL_OK || o != STAFF_DONE) {
		give_up(c, st, o);
		goto out;
	}
	if (!str_printf(target, sizeof(target), "staff:%lld", c->staff->id))
		target[0] = '\0';
	if (!api_audit(c, "staff.password_change", target, NULL)) {
		db_rollback(c->db);
		api_reply_tempfail(c);
		goto out;
	}
	if (api_commit(c))
		api_reply_json(c, 200, json_pack("{s:s}", "status", "ok"));
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	json_decref(body);
}

bool api_staff_handle(struct api_call *c)
{
	long long id;

	if (api_is(c, "GET", "/api/departments")) {
		do_departments(c);
	} else if (api_is(c, "POST", "/api/me/password")) {
		do_own_password(c);
	} else if (api_is(c, "GET", "/api/staff")) {
		if (api_need_admin(c))
			do_list(c);
	} else if (api_is(c, "POST", "/api/staff")) {
		if (api_need_admin(c))
			do_create(c);
	} else if (api_id(c, "PATCH", "/api/staff/", "", &id)) {
		if (api_need_admin(c))
			do_update(c, id);
	} else {
		return false;
	}
	return true;
}
