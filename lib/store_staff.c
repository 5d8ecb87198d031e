/*
 * store_staff — staff accounts; see store_staff.h.
 */
#include "store_staff.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdlib.h>

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
