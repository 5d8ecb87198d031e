/*
 * db — one PostgreSQL connection, opened as a daemon's own role.
 *
 * This is the base of the store_* modules: it owns the libpq connection and
 * classifies failures.  Only store modules include libpq-fe.h; everything
 * else sees struct db and enum hl_status.  A lost connection or a server
 * that is starting, shutting down or out of resources is HL_TEMPFAIL (the
 * caller answers "try later" and nothing is lost); a refused statement is
 * HL_PERMFAIL.
 *
 * Not thread-safe: one struct db per thread.
 */
#ifndef HL_DB_H
#define HL_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

struct db;
struct pg_conn;	  /* PGconn, for store modules */
struct pg_result; /* PGresult, for store modules */

struct db_params {
	const char *conninfo; /* libpq conninfo or URI: "dbname=hotline host=..." */
	const char *user;     /* role to connect as; NULL or "" keeps conninfo's */
	const char *app_name; /* application_name shown in pg_stat_activity */
	long long connect_timeout_s;
	long long statement_timeout_ms; /* 0: none */
};

/* A handle that connects on first use, so a daemon starts (and says it is
 * unhealthy) while the database is down, instead of crash-looping.  The
 * params are copied.  NULL only when out of memory. */
struct db *db_new(const struct db_params *p);

/* db_new() and connect now: for tools that cannot do anything without the
 * database.  NULL with err set; err never holds a password. */
struct db *db_open(const struct db_params *p, char *err, size_t errlen);

void db_free(struct db *db);

/* The connection, (re)connecting if there is none or it was lost.  NULL
 * when the server is unreachable (then db_error() says why). */
struct pg_conn *db_conn(struct db *db);

/* True when the connection was lost (the next db_conn() reconnects). */
bool db_connection_lost(const struct db *db);

/* A quick round trip ("SELECT 1") for health checks. */
enum hl_status db_ping(struct db *db);

/* Classify a finished statement: HL_OK for a command or tuples result. */
enum hl_status db_result_status(struct db *db, const struct pg_result *res);

/* Run a statement with text parameters ($1...).  On HL_OK, *res (when res
 * is not NULL) is the result, which the caller clears; otherwise *res is
 * NULL and db_error() says why.  The one place store modules call libpq's
 * PQexecParams() for text parameters. */
enum hl_status db_query(struct db *db, const char *sql, int n, const char *const *params,
			struct pg_result **res);

/* Run a statement without parameters whose result is not needed
 * (BEGIN, COMMIT, SET ...). */
enum hl_status db_exec(struct db *db, const char *sql);

/* ROLLBACK the open transaction, keeping in db_error() the error that made
 * the caller give up (the rollback's own outcome is not news). */
void db_rollback(struct db *db);

/* The last error, one line, for logs and replies. */
const char *db_error(const struct db *db);

/* Record an error text (store modules use it for their own checks). */
void db_set_error(struct db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The connection's socket, for poll(); -1 when not connected. */
int db_socket(const struct db *db);

/* Read what the server sent and count the NOTIFYs that arrived (they are
 * consumed; the payloads are not kept).  -1 when the connection is lost. */
int db_notifications(struct db *db);

/* How many connections have been made: when it changes, the session state
 * (LISTEN) is gone and must be set up again. */
unsigned long db_generation(const struct db *db);

#endif
