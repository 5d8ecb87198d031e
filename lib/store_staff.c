/*
 * store_staff — staff accounts; see store_staff.h.
 */
#include "store_staff.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "password.h"
#include "str.h"

static const char *role_name(enum staff_role role)
{
	return role == STAFF_ROLE_ADMIN ? "admin" : "staff";
}

enum hl_status store_staff_create(struct db *db, const struct staff_new *s, const char *actor,
				  long long *id)
{
	PGconn *conn = db_conn(db);
	const char *params[6] = {s->login,	     s->display_name,  s->department,
				 role_name(s->role), s->password_hash, actor};
	PGresult *res;
	enum hl_status st;

	if (conn == NULL)
		return HL_TEMPFAIL;
	/* One statement: the account and its audit row exist together or not
	 * at all. */
	res = PQexecParams(
		conn,
		"WITH d AS ("
		" INSERT INTO departments (name) SELECT $3::text WHERE $3::text <> ''"
		" ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id),"
		" s AS ("
		" INSERT INTO staff (login, display_name, department_id, role, password_hash)"
		" VALUES ($1, $2, (SELECT id FROM d), $4, $5) RETURNING id, login, role)"
		" INSERT INTO audit_log (actor, action, target, detail)"
		" SELECT $6, 'staff.create', 'staff:' || s.id,"
		"        jsonb_build_object('login', s.login, 'role', s.role)"
		" FROM s RETURNING (SELECT id FROM s)",
		6, NULL, params, NULL, NULL, 0);
	st = db_result_status(db, res);
	if (st == HL_OK) {
		if (PQntuples(res) != 1 || !str_to_ll(PQgetvalue(res, 0, 0), 1, INT64_MAX, id)) {
			db_set_error(db, "unexpected reply to staff insert");
			st = HL_PERMFAIL;
		}
	}
	PQclear(res);
	return st;
}

bool store_staff_exists(struct db *db, const char *login)
{
	PGconn *conn = db_conn(db);
	const char *params[1] = {login};
	PGresult *res;
	bool exists;

	if (conn == NULL)
		return false;
	res = PQexecParams(conn, "SELECT 1 FROM staff WHERE login = $1", 1, NULL, params, NULL,
			   NULL, 0);
	exists = db_result_status(db, res) == HL_OK && PQntuples(res) == 1;
	PQclear(res);
	return exists;
}

/* --- sign-in ---------------------------------------------------------------- */

/* Run a statement with text parameters; the result is the caller's. */
static PGresult *run(struct db *db, const char *sql, int n, const char *const *params,
		     enum hl_status *st)
{
	PGresult *res;

	*st = db_query(db, sql, n, params, &res);
	return res;
}

#define ACCOUNT_COLUMNS                                                                            \
	"SELECT s.id, s.login, s.display_name, coalesce(d.name, ''), s.role, s.password_hash,"     \
	" coalesce(encode(s.totp_secret, 'hex'), ''), s.totp_enabled,"                             \
	" coalesce(s.totp_last_step, -1), s.failed_logins,"                                        \
	" coalesce(greatest(ceil(extract(epoch FROM s.locked_until - now())), 0), 0)::bigint,"     \
	" s.disabled_at IS NOT NULL"                                                               \
	" FROM staff s LEFT JOIN departments d ON d.id = s.department_id "

static enum hl_status read_account(struct db *db, PGresult *res, struct staff_account *a,
				   bool *found)
{
	const char *hex;
	size_t n;

	*found = false;
	if (PQntuples(res) == 0)
		return HL_OK;
	memset(a, 0, sizeof(*a));
	hex = PQgetvalue(res, 0, 6);
	n = strlen(hex);
	if (!str_to_ll(PQgetvalue(res, 0, 0), 1, INT64_MAX, &a->id) ||
	    !str_copy(a->login, PQgetvalue(res, 0, 1), sizeof(a->login)) ||
	    !str_copy(a->display_name, PQgetvalue(res, 0, 2), sizeof(a->display_name)) ||
	    !str_copy(a->department, PQgetvalue(res, 0, 3), sizeof(a->department)) ||
	    !str_copy(a->password_hash, PQgetvalue(res, 0, 5), sizeof(a->password_hash)) ||
	    n % 2 != 0 || n / 2 > sizeof(a->totp_sealed) ||
	    !str_to_ll(PQgetvalue(res, 0, 8), -1, INT64_MAX, &a->totp_last_step) ||
	    !str_to_ll(PQgetvalue(res, 0, 9), 0, INT64_MAX, &a->failed_logins) ||
	    !str_to_ll(PQgetvalue(res, 0, 10), 0, INT64_MAX, &a->locked_for)) {
		db_set_error(db, "unexpected staff row");
		return HL_PERMFAIL;
	}
	if (!str_unhex(hex, a->totp_sealed, n / 2)) {
		db_set_error(db, "unexpected staff row");
		return HL_PERMFAIL;
	}
	a->totp_sealed_len = n / 2;
	a->role = strcmp(PQgetvalue(res, 0, 4), "admin") == 0 ? STAFF_ROLE_ADMIN : STAFF_ROLE_STAFF;
	a->totp_enabled = PQgetvalue(res, 0, 7)[0] == 't';
	a->disabled = PQgetvalue(res, 0, 11)[0] == 't';
	*found = true;
	return HL_OK;
}

enum hl_status store_staff_by_login(struct db *db, const char *login, struct staff_account *out,
				    bool *found)
{
	const char *params[1] = {login};
	enum hl_status st;
	PGresult *res = run(db, ACCOUNT_COLUMNS "WHERE s.login = $1", 1, params, &st);

	*found = false;
	if (res == NULL)
		return st;
	st = read_account(db, res, out, found);
	PQclear(res);
	return st;
}

enum hl_status store_staff_by_id(struct db *db, long long id, struct staff_account *out,
				 bool *found)
{
	char ids[24];
	const char *params[1] = {ids};
	enum hl_status st;
	PGresult *res;

	*found = false;
	if (!str_printf(ids, sizeof(ids), "%lld", id))
		return HL_PERMFAIL;
	res = run(db, ACCOUNT_COLUMNS "WHERE s.id = $1::bigint", 1, params, &st);
	if (res == NULL)
		return st;
	st = read_account(db, res, out, found);
	PQclear(res);
	return st;
}

enum hl_status store_staff_login_failed(struct db *db, long long id, long long threshold,
					long long base, long long max, long long *locked_for)
{
	char p[4][24];
	const char *params[4] = {p[0], p[1], p[2], p[3]};
	enum hl_status st;
	PGresult *res;

	*locked_for = 0;
	if (!str_printf(p[0], sizeof(p[0]), "%lld", id) ||
	    !str_printf(p[1], sizeof(p[1]), "%lld", threshold) ||
	    !str_printf(p[2], sizeof(p[2]), "%lld", base) ||
	    !str_printf(p[3], sizeof(p[3]), "%lld", max))
		return HL_PERMFAIL;
	/* The exponent is capped so that the doubling cannot overflow. */
	res = run(db,
		  "UPDATE staff SET failed_logins = failed_logins + 1,"
		  " locked_until = CASE WHEN failed_logins + 1 >= $2::bigint"
		  "  THEN now() + make_interval(secs => least($4::bigint,"
		  "   $3::bigint * power(2, least(failed_logins + 1 - $2::bigint, 30))))"
		  "  ELSE locked_until END"
		  " WHERE id = $1::bigint"
		  " RETURNING coalesce(greatest(ceil(extract(epoch FROM locked_until - now())), 0),"
		  " 0)::bigint",
		  4, params, &st);
	if (res == NULL)
		return st;
	if (PQntuples(res) == 1 && !str_to_ll(PQgetvalue(res, 0, 0), 0, INT64_MAX, locked_for))
		*locked_for = 0;
	PQclear(res);
	return HL_OK;
}

enum hl_status store_staff_ip_failed(struct db *db, const char *ip, long long threshold,
				     long long base, long long max, long long *locked_for)
{
	char p[3][24];
	const char *params[4] = {ip, p[0], p[1], p[2]};
	enum hl_status st;
	PGresult *res;

	*locked_for = 0;
	if (!str_printf(p[0], sizeof(p[0]), "%lld", threshold) ||
	    !str_printf(p[1], sizeof(p[1]), "%lld", base) ||
	    !str_printf(p[2], sizeof(p[2]), "%lld", max))
		return HL_PERMFAIL;
	res = run(db,
		  "INSERT INTO staff_login_failures AS f (ip, failures) VALUES ($1::inet, 1)"
		  " ON CONFLICT (ip) DO UPDATE SET failures = CASE"
		  "  WHEN f.last_failed_at < now() - make_interval(secs => $2::bigint) THEN 1"
		  "  ELSE f.failures + 1 END, last_failed_at = now()"
		  " RETURNING failures",
		  2, (const char *const[]){ip, p[2]}, &st);
	if (res == NULL)
		return st;
	PQclear(res);
	/* A second statement, as the new count is not visible to the first. */
	res = run(db,
		  "UPDATE staff_login_failures SET locked_until = now() + make_interval(secs =>"
		  " least($4::bigint, $3::bigint * power(2, least(failures - $2::bigint, 30))))"
		  " WHERE ip = $1::inet AND failures >= $2::bigint"
		  " RETURNING ceil(extract(epoch FROM locked_until - now()))::bigint",
		  4, params, &st);
	if (res == NULL)
		return st;
	if (PQntuples(res) == 1 && !str_to_ll(PQgetvalue(res, 0, 0), 0, INT64_MAX, locked_for))
		*locked_for = 0;
	PQclear(res);
	return HL_OK;
}

enum hl_status store_staff_ip_locked(struct db *db, const char *ip, long long *locked_for)
{
	const char *params[1] = {ip};
	enum hl_status st;
	PGresult *res;

	*locked_for = 0;
	res = run(db,
		  "SELECT greatest(ceil(extract(epoch FROM locked_until - now())), 0)::bigint"
		  " FROM staff_login_failures WHERE ip = $1::inet AND locked_until > now()",
		  1, params, &st);
	if (res == NULL)
		return st;
	if (PQntuples(res) == 1 && !str_to_ll(PQgetvalue(res, 0, 0), 0, INT64_MAX, locked_for))
		*locked_for = 0;
	PQclear(res);
	return HL_OK;
}

enum hl_status store_staff_login_ok(struct db *db, long long id)
{
	char ids[24];
	const char *params[1] = {ids};
	enum hl_status st;
	PGresult *res;

	if (!str_printf(ids, sizeof(ids), "%lld", id))
		return HL_PERMFAIL;
	res = run(db,
		  "UPDATE staff SET failed_logins = 0, locked_until = NULL, last_login_at = now()"
		  " WHERE id = $1::bigint",
		  1, params, &st);
	PQclear(res);
	return st;
}

enum hl_status store_staff_totp_begin(struct db *db, long long id, const unsigned char *sealed,
				      size_t len)
{
	char ids[24], hex[2 * STAFF_TOTP_SEALED_MAX + 1];
	const char *params[2] = {ids, hex};
	enum hl_status st;
	PGresult *res;

	if (!str_printf(ids, sizeof(ids), "%lld", id) || len > STAFF_TOTP_SEALED_MAX ||
	    !str_hex(sealed, len, hex, sizeof(hex)))
		return HL_PERMFAIL;
	res = run(db,
		  "UPDATE staff SET totp_secret = decode($2, 'hex'), totp_last_step = NULL"
		  " WHERE id = $1::bigint AND NOT totp_enabled RETURNING 1",
		  2, params, &st);
	if (res == NULL)
		return st;
	if (PQntuples(res) != 1) {
		db_set_error(db, "account has already enrolled TOTP");
		st = HL_PERMFAIL;
	}
	PQclear(res);
	return st;
}

enum hl_status store_staff_totp_use(struct db *db, long long id, long long step, bool *accepted)
{
	char p[2][24];
	const char *params[2] = {p[0], p[1]};
	enum hl_status st;
	PGresult *res;

	*accepted = false;
	if (!str_printf(p[0], sizeof(p[0]), "%lld", id) ||
	    !str_printf(p[1], sizeof(p[1]), "%lld", step))
		return HL_PERMFAIL;
	/* Compare and set in one statement: of two requests with the same
	 * code, only one moves the step. */
	res = run(db,
		  "UPDATE staff SET totp_last_step = $2::bigint WHERE id = $1::bigint"
		  " AND (totp_last_step IS NULL OR totp_last_step < $2::bigint) RETURNING 1",
		  2, params, &st);
	if (res == NULL)
		return st;
	*accepted = PQntuples(res) == 1;
	PQclear(res);
	return HL_OK;
}

enum hl_status store_staff_totp_enable(struct db *db, long long id, long long step,
				       const char *const *code_hashes, size_t n, bool *accepted)
{
	char p[2][24];
	const char *params[2] = {p[0], p[1]};
	enum hl_status st;
	PGresult *res;

	*accepted = false;
	if (!str_printf(p[0], sizeof(p[0]), "%lld", id) ||
	    !str_printf(p[1], sizeof(p[1]), "%lld", step))
		return HL_PERMFAIL;
	st = db_exec(db, "BEGIN");
	if (st != HL_OK)
		return st;
	res = run(db,
		  "UPDATE staff SET totp_enabled = true, totp_last_step = $2::bigint"
		  " WHERE id = $1::bigint AND totp_secret IS NOT NULL AND NOT totp_enabled"
		  " AND (totp_last_step IS NULL OR totp_last_step < $2::bigint) RETURNING 1",
		  2, params, &st);
	if (res == NULL)
		goto fail;
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback(db);
		return HL_OK;
	}
	PQclear(res);
	res = run(db, "DELETE FROM staff_recovery_codes WHERE staff_id = $1::bigint", 1, params,
		  &st);
	if (res == NULL)
		goto fail;
	PQclear(res);
	for (size_t i = 0; i < n; i++) {
		const char *ins[2] = {p[0], code_hashes[i]};
		res = run(db,
			  "INSERT INTO staff_recovery_codes (staff_id, code_hash) VALUES ($1, $2)",
			  2, ins, &st);
		if (res == NULL)
			goto fail;
		PQclear(res);
	}
	st = db_exec(db, "COMMIT");
	if (st != HL_OK)
		goto fail;
	*accepted = true;
	return HL_OK;
fail:
	db_rollback(db);
	return st;
}

enum hl_status store_staff_recovery_use(struct db *db, long long id, const char *code,
					bool *accepted)
{
	char ids[24];
	const char *params[1] = {ids};
	enum hl_status st;
	PGresult *res;
	const char *match = NULL;

	*accepted = false;
	if (!str_printf(ids, sizeof(ids), "%lld", id))
		return HL_PERMFAIL;
	res = run(db,
		  "SELECT id, code_hash FROM staff_recovery_codes"
		  " WHERE staff_id = $1::bigint AND used_at IS NULL ORDER BY id",
		  1, params, &st);
	if (res == NULL)
		return st;
	/* Every unused code is checked, whichever matches. */
	for (int i = 0; i < PQntuples(res); i++)
		if (password_verify(code, PQgetvalue(res, i, 1)) && match == NULL)
			match = PQgetvalue(res, i, 0);
	if (match != NULL) {
		const char *upd[1] = {match};
		PGresult *r2 = run(db,
				   "UPDATE staff_recovery_codes SET used_at = now()"
				   " WHERE id = $1::bigint AND used_at IS NULL RETURNING 1",
				   1, upd, &st);
		if (r2 != NULL) {
			*accepted = PQntuples(r2) == 1;
			PQclear(r2);
		}
	} else {
		st = HL_OK;
	}
	PQclear(res);
	return st;
}

/* --- sessions --------------------------------------------------------------- */

enum hl_status store_staff_session_create(struct db *db, const unsigned char id_hash[32],
					  long long staff_id, const unsigned char csrf_hash[32],
					  bool mfa, long long max_age, const char *ip,
					  const char *user_agent)
{
	char idh[65], csh[65], sid[24], age[24], agent[513];
	const char *params[7] = {idh, sid, csh, mfa ? "t" : "f", age, ip, NULL};
	enum hl_status st;
	PGresult *res;
	size_t n = 0;

	if (!str_hex(id_hash, 32, idh, sizeof(idh)) || !str_hex(csrf_hash, 32, csh, sizeof(csh)) ||
	    !str_printf(sid, sizeof(sid), "%lld", staff_id) ||
	    !str_printf(age, sizeof(age), "%lld", max_age))
		return HL_PERMFAIL;
	for (const char *c = user_agent; c != NULL && *c != '\0' && n < 512; c++)
		agent[n++] = (*c >= ' ' && *c <= '~') ? *c : '?';
	agent[n] = '\0';
	params[6] = user_agent != NULL ? agent : NULL;
	res = run(
		db,
		"INSERT INTO staff_sessions (id_hash, staff_id, csrf_hash, mfa_at, expires_at, ip,"
		" user_agent) VALUES (decode($1, 'hex'), $2::bigint, decode($3, 'hex'),"
		" CASE WHEN $4::boolean THEN now() END,"
		" now() + make_interval(secs => $5::bigint), $6::inet, $7)",
		7, params, &st);
	PQclear(res);
	return st;
}

enum hl_status store_staff_session_touch(struct db *db, const unsigned char id_hash[32],
					 long long idle_timeout, struct staff_session *out,
					 bool *found)
{
	char idh[65], idle[24];
	const char *params[2] = {idh, idle};
	enum hl_status st;
	PGresult *res;

	*found = false;
	if (!str_hex(id_hash, 32, idh, sizeof(idh)) ||
	    !str_printf(idle, sizeof(idle), "%lld", idle_timeout))
		return HL_PERMFAIL;
	res = run(db,
		  "UPDATE staff_sessions ss SET last_seen_at = now() FROM staff s"
		  " WHERE ss.id_hash = decode($1, 'hex') AND s.id = ss.staff_id"
		  " AND s.disabled_at IS NULL AND ss.expires_at > now()"
		  " AND ss.last_seen_at > now() - make_interval(secs => $2::bigint)"
		  " RETURNING ss.staff_id, ss.mfa_at IS NOT NULL",
		  2, params, &st);
	if (res == NULL)
		return st;
	if (PQntuples(res) == 1 && str_to_ll(PQgetvalue(res, 0, 0), 1, INT64_MAX, &out->staff_id)) {
		out->mfa = PQgetvalue(res, 0, 1)[0] == 't';
		*found = true;
	}
	PQclear(res);
	return HL_OK;
}

static enum hl_status session_by_hash(struct db *db, const char *sql,
				      const unsigned char id_hash[32])
{
	char idh[65];
	const char *params[1] = {idh};
	enum hl_status st;
	PGresult *res;

	if (!str_hex(id_hash, 32, idh, sizeof(idh)))
		return HL_PERMFAIL;
	res = run(db, sql, 1, params, &st);
	PQclear(res);
	return st;
}

enum hl_status store_staff_session_mfa(struct db *db, const unsigned char id_hash[32])
{
	return session_by_hash(
		db, "UPDATE staff_sessions SET mfa_at = now() WHERE id_hash = decode($1, 'hex')",
		id_hash);
}

enum hl_status store_staff_session_delete(struct db *db, const unsigned char id_hash[32])
{
	return session_by_hash(db, "DELETE FROM staff_sessions WHERE id_hash = decode($1, 'hex')",
			       id_hash);
}

enum hl_status store_staff_session_expire(struct db *db, long long idle_timeout)
{
	char idle[24];
	const char *params[1] = {idle};
	enum hl_status st;
	PGresult *res;

	if (!str_printf(idle, sizeof(idle), "%lld", idle_timeout))
		return HL_PERMFAIL;
	res = run(db,
		  "DELETE FROM staff_sessions WHERE expires_at <= now()"
		  " OR last_seen_at <= now() - make_interval(secs => $1::bigint)",
		  1, params, &st);
	PQclear(res);
	return st;
}

/* --- administration --------------------------------------------------------- */

/* Run sql; a unique, foreign-key or check violation becomes *outcome
 * (HL_OK, no result). */
static enum hl_status exec_outcome(struct db *db, const char *sql, int n, const char *const *params,
				   PGresult **out, enum staff_outcome *outcome)
{
	PGconn *conn = db_conn(db);
	PGresult *res;
	enum hl_status st;

	*out = NULL;
	*outcome = STAFF_DONE;
	if (conn == NULL)
		return HL_TEMPFAIL;
	res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	st = db_result_status(db, res);
	if (st == HL_PERMFAIL) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (state != NULL && strcmp(state, "23505") == 0) {
			*outcome = STAFF_LOGIN_TAKEN;
			st = HL_OK;
		} else if (state != NULL && strcmp(state, "23503") == 0) {
			*outcome = STAFF_BAD_SCOPE;
			st = HL_OK;
		} else if (state != NULL && strcmp(state, "23514") == 0) {
			*outcome = STAFF_INVALID;
			st = HL_OK;
		}
	}
	if (st == HL_OK && *outcome == STAFF_DONE)
		*out = res;
	else
		PQclear(res);
	return st;
}

static enum hl_status json_text(struct db *db, const char *sql, int n, const char *const *params,
				char **json)
{
	PGresult *res;
	enum hl_status st = db_query(db, sql, n, params, &res);

	*json = NULL;
	if (st != HL_OK)
		return st;
	if (PQntuples(res) != 1 || (*json = strdup(PQgetvalue(res, 0, 0))) == NULL) {
		db_set_error(db, "unexpected reply to a staff list");
		st = HL_PERMFAIL;
	}
	PQclear(res);
	return st;
}

enum hl_status store_staff_list_json(struct db *db, long long id, char **json)
{
	char ids[24];
	const char *params[1] = {ids};

	if (!str_printf(ids, sizeof(ids), "%lld", id > 0 ? id : 0))
		return HL_PERMFAIL;
	/* The scope is a correlated subquery: still one round trip. */
	return json_text(db,
			 "SELECT coalesce(json_agg(json_build_object('id', s.id, 'login', s.login,"
			 " 'display_name', s.display_name, 'department', d.name, 'role', s.role,"
			 " 'mfa_enrolled', s.totp_enabled, 'disabled', s.disabled_at IS NOT NULL,"
			 " 'locked', coalesce(s.locked_until > now(), false),"
			 " 'last_login_at', to_char(s.last_login_at AT TIME ZONE 'Asia/Tokyo',"
			 "   'YYYY-MM-DD\"T\"HH24:MI:SS\"+09:00\"'),"
			 " 'scope', coalesce((SELECT json_agg(sc.value_id ORDER BY sc.value_id)"
			 "   FROM staff_segment_scope sc WHERE sc.staff_id = s.id), '[]'::json))"
			 " ORDER BY d.name NULLS FIRST, s.login), '[]')::text"
			 " FROM staff s LEFT JOIN departments d ON d.id = s.department_id"
			 " WHERE $1::bigint = 0 OR s.id = $1::bigint",
			 1, params, json);
}

enum hl_status store_staff_departments_json(struct db *db, char **json)
{
	return json_text(db,
			 "SELECT coalesce(json_agg(json_build_object('id', id, 'name', name)"
			 " ORDER BY name), '[]')::text FROM departments WHERE retired_at IS NULL",
			 0, NULL, json);
}

/* The department named $N: created when new, none for ''. */
#define DEPARTMENT_CTE(n)                                                                          \
	"WITH d AS (INSERT INTO departments (name) SELECT $" n "::text"                            \
	" WHERE $" n "::text <> ''"                                                                \
	" ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name, retired_at = NULL"                \
	" RETURNING id) "

enum hl_status store_staff_insert(struct db *db, const struct staff_new *s, long long *id,
				  enum staff_outcome *outcome)
{
	const char *params[5] = {s->login, s->display_name, s->department, role_name(s->role),
				 s->password_hash};
	PGresult *res;
	enum hl_status st;

	*id = 0;
	st = exec_outcome(db,
			  DEPARTMENT_CTE("3") "INSERT INTO staff (login, display_name,"
					      " department_id, role, password_hash)"
					      " VALUES ($1, $2, (SELECT id FROM d), $4, $5)"
					      " RETURNING id",
			  5, params, &res, outcome);
	if (res == NULL)
		return st;
	if (PQntuples(res) != 1 || !str_to_ll(PQgetvalue(res, 0, 0), 1, INT64_MAX, id)) {
		db_set_error(db, "unexpected reply to staff insert");
		st = HL_PERMFAIL;
	}
	PQclear(res);
	return st;
}

enum hl_status store_staff_update(struct db *db, long long id, const struct staff_change *ch,
				  enum staff_outcome *outcome)
{
	char ids[24];
	const char *params[6] = {ids,
				 ch->display_name,
				 ch->department,
				 ch->role < 0 ? NULL : role_name((enum staff_role)ch->role),
				 ch->disabled < 0 ? NULL
				 : ch->disabled	  ? "t"
						  : "f",
				 ch->password_hash};
	PGresult *res;
	enum hl_status st;

	if (!str_printf(ids, sizeof(ids), "%lld", id))
		return HL_PERMFAIL;
	st = exec_outcome(
		db,
		DEPARTMENT_CTE(
			"3") "UPDATE staff SET display_name = coalesce($2, display_name),"
			     " department_id = CASE WHEN $3::text IS NULL THEN department_id"
			     "  ELSE (SELECT id FROM d) END,"
			     " role = coalesce($4, role),"
			     " disabled_at = CASE WHEN $5::boolean IS NULL THEN disabled_at"
			     "  WHEN $5::boolean THEN coalesce(disabled_at, now()) END,"
			     " password_hash = coalesce($6, password_hash),"
			     " password_changed_at = CASE WHEN $6::text IS NULL"
			     "  THEN password_changed_at ELSE now() END,"
			     " failed_logins = CASE WHEN $6::text IS NULL THEN failed_logins"
			     "  ELSE 0 END,"
			     " locked_until = CASE WHEN $6::text IS NULL THEN locked_until END"
			     " WHERE id = $1::bigint RETURNING 1",
		6, params, &res, outcome);
	if (res == NULL)
		return st;
	if (PQntuples(res) == 0)
		*outcome = STAFF_NOT_FOUND;
	PQclear(res);
	return st;
}

enum hl_status store_staff_other_admins(struct db *db, long long id, long long *n)
{
	char ids[24];
	const char *params[1] = {ids};
	enum hl_status st;
	PGresult *res;

	*n = 0;
	if (!str_printf(ids, sizeof(ids), "%lld", id))
		return HL_PERMFAIL;
	res = run(db,
		  "SELECT count(*) FROM (SELECT id FROM staff WHERE role = 'admin'"
		  " AND disabled_at IS NULL AND id <> $1::bigint FOR UPDATE) a",
		  1, params, &st);
	if (res == NULL)
		return st;
	if (PQntuples(res) != 1 || !str_to_ll(PQgetvalue(res, 0, 0), 0, INT64_MAX, n)) {
		db_set_error(db, "unexpected reply to the admin count");
		st = HL_PERMFAIL;
	}
	PQclear(res);
	return st;
}

enum hl_status store_staff_scope_set(struct db *db, long long id, const long long *values, size_t n,
				     long long granted_by, enum staff_outcome *outcome)
{
	char ids[24], by[24];
	size_t size = 3 + n * 21, len = 0;
	char *arr = malloc(size);
	const char *params[3] = {ids, arr, by};
	PGresult *res;
	enum hl_status st = HL_PERMFAIL;

	*outcome = STAFF_DONE;
	if (arr == NULL || !str_printf(ids, sizeof(ids), "%lld", id) ||
	    !str_printf(by, sizeof(by), "%lld", granted_by) || !str_appendf(arr, size, &len, "{"))
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (!str_appendf(arr, size, &len, "%s%lld", i > 0 ? "," : "", values[i]))
			goto fail;
	if (!str_appendf(arr, size, &len, "}"))
		goto fail;
	st = exec_outcome(db,
			  "DELETE FROM staff_segment_scope WHERE staff_id = $1::bigint"
			  " AND value_id <> ALL ($2::bigint[])",
			  2, params, &res, outcome);
	if (res == NULL)
		goto fail;
	PQclear(res);
	st = exec_outcome(db,
			  "INSERT INTO staff_segment_scope (staff_id, value_id, granted_by)"
			  " SELECT $1::bigint, v, $3::bigint FROM unnest($2::bigint[]) v"
			  " ON CONFLICT DO NOTHING",
			  3, params, &res, outcome);
	PQclear(res);
fail:
	free(arr);
	return st;
}

enum hl_status store_staff_sessions_end(struct db *db, long long id)
{
	char ids[24];
	const char *params[1] = {ids};
	enum hl_status st;

	if (!str_printf(ids, sizeof(ids), "%lld", id))
		return HL_PERMFAIL;
	PQclear(run(db, "DELETE FROM staff_sessions WHERE staff_id = $1::bigint", 1, params, &st));
	return st;
}
