/*
 * db — libpq connection ownership and failure classification; see db.h.
 */
#include "db.h"

#include <libpq-fe.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

struct db {
	PGconn *conn;
	char *conninfo, *user, *app_name;
	char timeout[24], options[64];
	char err[512];
	unsigned long generation; /* connections made so far */
};

static void set_err_line(struct db *db, const char *msg)
{
	size_t i, n = 0;

	/* libpq messages span lines; logs and protocol replies want one. */
	for (i = 0; msg[i] != '\0' && n + 1 < sizeof(db->err); i++) {
		char c = msg[i];

		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		db->err[n++] = c;
	}
	while (n > 0 && db->err[n - 1] == ' ')
		n--;
	db->err[n] = '\0';
}

void db_set_error(struct db *db, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	set_err_line(db, buf);
}

struct db *db_new(const struct db_params *p)
{
	struct db *db;

	db = calloc(1, sizeof(*db));
	if (db == NULL)
		return NULL;
	db->conninfo = strdup(p->conninfo);
	db->user = strdup(p->user != NULL ? p->user : "");
	db->app_name = strdup(p->app_name != NULL ? p->app_name : "hotline");
	if (db->conninfo == NULL || db->user == NULL || db->app_name == NULL ||
	    !str_printf(db->timeout, sizeof(db->timeout), "%lld", p->connect_timeout_s) ||
	    !str_printf(db->options, sizeof(db->options), "-c statement_timeout=%lld",
			p->statement_timeout_ms)) {
		db_free(db);
		return NULL;
	}
	return db;
}

static bool connect_now(struct db *db)
{
	const char *keys[6], *vals[6];
	int n = 0;

	if (db->conn != NULL) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	/* dbname comes first and is expanded; later keys override it. */
	keys[n] = "dbname";
	vals[n++] = db->conninfo;
	if (*db->user != '\0') {
		keys[n] = "user";
		vals[n++] = db->user;
	}
	keys[n] = "application_name";
	vals[n++] = db->app_name;
	keys[n] = "connect_timeout";
	vals[n++] = db->timeout;
	keys[n] = "options";
	vals[n++] = db->options;
	keys[n] = NULL;
	vals[n] = NULL;

	db->conn = PQconnectdbParams(keys, vals, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		char why[sizeof(db->err)];

		set_err_line(db, db->conn != NULL ? PQerrorMessage(db->conn) : "out of memory");
		memcpy(why, db->err, sizeof(why));
		db_set_error(db, "cannot connect to PostgreSQL%s%s: %s", *db->user ? " as " : "",
			     db->user, why);
		return false;
	}
	/* Every daemon works in the city's zone whatever the server's default. */
	PQclear(PQexec(db->conn, "SET TIME ZONE 'Asia/Tokyo'"));
	db->generation++;
	return true;
}

struct db *db_open(const struct db_params *p, char *err, size_t errlen)
{
	struct db *db = db_new(p);

	if (db == NULL) {
		str_msg(err, errlen, "out of memory");
		return NULL;
	}
	if (!connect_now(db)) {
		str_msg(err, errlen, "%s", db->err);
		db_free(db);
		return NULL;
	}
	return db;
}

void db_free(struct db *db)
{
	if (db == NULL)
		return;
	if (db->conn != NULL)
		PQfinish(db->conn);
	free(db->conninfo);
	free(db->user);
	free(db->app_name);
	free(db);
}

struct pg_conn *db_conn(struct db *db)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return db->conn;
	return connect_now(db) ? db->conn : NULL;
}

enum hl_status db_result_status(struct db *db, const struct pg_result *res)
{
	const char *state;
	ExecStatusType st;

	if (res == NULL) {
		set_err_line(db, db->conn != NULL ? PQerrorMessage(db->conn) : "no connection");
		return HL_TEMPFAIL;
	}
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return HL_OK;
	set_err_line(db, PQresultErrorMessage(res));
	if (PQstatus(db->conn) != CONNECTION_OK)
		return HL_TEMPFAIL;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state == NULL)
		return HL_TEMPFAIL;
	/* 08 connection, 53 insufficient resources (disk full, too many
	 * connections), 57 operator intervention (shutdown, cancel), 40
	 * serialization failure or deadlock, 58 system error (I/O): all pass
	 * or can be waited out, so the caller must keep the work and retry. */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	    strncmp(state, "57", 2) == 0 || strncmp(state, "40", 2) == 0 ||
	    strncmp(state, "58", 2) == 0)
		return HL_TEMPFAIL;
	return HL_PERMFAIL;
}

enum hl_status db_ping(struct db *db)
{
	PGconn *conn = db_conn(db);
	PGresult *res;
	enum hl_status st;

	if (conn == NULL)
		return HL_TEMPFAIL;
	res = PQexec(conn, "SELECT 1");
	st = db_result_status(db, res);
	PQclear(res);
	return st;
}

const char *db_error(const struct db *db)
{
	return db->err;
}

void db_rollback(struct db *db)
{
	char first[sizeof(db->err)];

	if (db->conn == NULL)
		return;
	memcpy(first, db->err, sizeof(first));
	PQclear(PQexec(db->conn, "ROLLBACK"));
	memcpy(db->err, first, sizeof(first));
}

enum hl_status db_query(struct db *db, const char *sql, int n, const char *const *params,
			struct pg_result **res)
{
	PGconn *conn = db_conn(db);
	PGresult *r;
	enum hl_status st;

	if (res != NULL)
		*res = NULL;
	if (conn == NULL)
		return HL_TEMPFAIL;
	r = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	st = db_result_status(db, r);
	if (st == HL_OK && res != NULL)
		*res = r;
	else
		PQclear(r);
	return st;
}

enum hl_status db_exec(struct db *db, const char *sql)
{
	PGconn *conn = db_conn(db);
	PGresult *res;
	enum hl_status st;

	if (conn == NULL)
		return HL_TEMPFAIL;
	res = PQexec(conn, sql);
	st = db_result_status(db, res);
	PQclear(res);
	return st;
}

bool db_connection_lost(const struct db *db)
{
	return db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK;
}

int db_socket(const struct db *db)
{
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return -1;
	return PQsocket(db->conn);
}

int db_notifications(struct db *db)
{
	PGnotify *n;
	int count = 0;

	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return -1;
	if (PQconsumeInput(db->conn) == 0) {
		set_err_line(db, PQerrorMessage(db->conn));
		return -1;
	}
	while ((n = PQnotifies(db->conn)) != NULL) {
		count++;
		PQfreemem(n);
	}
	return count;
}

unsigned long db_generation(const struct db *db)
{
	return db->generation;
}
