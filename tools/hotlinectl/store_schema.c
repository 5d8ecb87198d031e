/*
 * store_schema — SQL for migration bookkeeping; see store_schema.h.
 */
#include "store_schema.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

/* Any constant shared by every hotlinectl; "hotline" in ASCII. */
#define MIGRATE_LOCK_KEY "7526752315813306981"

enum hl_status store_schema_init(struct db *db)
{
	return db_exec(
		db, "SET client_min_messages = warning;"
		    "CREATE TABLE IF NOT EXISTS schema_migrations ("
		    " version integer PRIMARY KEY,"
		    " name text NOT NULL,"
		    " checksum text NOT NULL,"
		    " applied_at timestamptz NOT NULL DEFAULT now(),"
		    " applied_by text NOT NULL DEFAULT current_user);"
		    "COMMENT ON TABLE schema_migrations IS"
		    " 'Migrations applied by hotlinectl migrate: one row per db/migrations file.';"
		    "RESET client_min_messages");
}

enum hl_status store_schema_applied(struct db *db, int version, char *out, size_t outlen)
{
	PGconn *conn = db_conn(db);
	PGresult *res;
	char v[16];
	const char *params[1] = {v};
	enum hl_status st;

	out[0] = '\0';
	if (conn == NULL)
		return HL_TEMPFAIL;
	str_msg(v, sizeof(v), "%d", version); /* always fits */
	res = PQexecParams(conn, "SELECT checksum FROM schema_migrations WHERE version = $1", 1,
			   NULL, params, NULL, NULL, 0);
	st = db_result_status(db, res);
	if (st == HL_OK && PQntuples(res) == 1 && !str_copy(out, PQgetvalue(res, 0, 0), outlen)) {
		db_set_error(db, "recorded checksum too long");
		st = HL_PERMFAIL;
	}
	PQclear(res);
	return st;
}

enum hl_status store_schema_apply(struct db *db, int version, const char *name,
				  const char *checksum, const char *sql, long *err_offset,
				  bool *already)
{
	PGconn *conn = db_conn(db);
	PGresult *res = NULL;
	char v[16];
	const char *params[3] = {v, name, checksum};
	enum hl_status st = HL_TEMPFAIL;

	*err_offset = 0;
	*already = false;
	if (conn == NULL)
		return HL_TEMPFAIL;
	str_msg(v, sizeof(v), "%d", version); /* always fits */
	if ((st = db_exec(db, "BEGIN")) != HL_OK)
		return st;
	if ((st = db_exec(db, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")")) != HL_OK)
		goto fail;
	/* Another run may have applied it while we waited for the lock. */
	res = PQexecParams(conn, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, NULL,
			   params, NULL, NULL, 0);
	if ((st = db_result_status(db, res)) != HL_OK)
		goto fail;
	if (PQntuples(res) == 1) {
		*already = true;
		PQclear(res);
		return db_exec(db, "ROLLBACK");
	}
	PQclear(res);

	/* The file's statements run inside our transaction block. */
	res = PQexec(conn, sql);
	if ((st = db_result_status(db, res)) != HL_OK) {
		const char *pos =
			res != NULL ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;

		if (pos != NULL)
			*err_offset = strtol(pos, NULL, 10);
		goto fail;
	}
	PQclear(res);
	res = PQexecParams(
		conn, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
		3, NULL, params, NULL, NULL, 0);
	if ((st = db_result_status(db, res)) != HL_OK)
		goto fail;
	PQclear(res);
	return db_exec(db, "COMMIT");
fail:
	PQclear(res);
	db_rollback(db);
	return st;
}
