/*
 * store_webhook — SQL of webhook_events; see store_webhook.h.
 */
#include "store_webhook.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

/* A PostgreSQL array literal of n elements, each from item(i): NULL for a
 * NULL element, otherwise quoted with " and \ escaped.  NULL when out of
 * memory or too large. */
static char *array_literal(size_t n,
			   const char *(*item)(const struct store_webhook_event *, size_t, char *,
					       size_t),
			   const struct store_webhook_event *ev)
{
	size_t i, len = 3, k = 0;
	char tmp[32], *out;

	for (i = 0; i < n; i++) {
		const char *s = item(ev, i, tmp, sizeof(tmp));
		size_t l = s != NULL ? strlen(s) : 4;

		if (l > (SIZE_MAX - len) / 2 - 4)
			return NULL;
		len += 2 * l + 3;
	}
	if ((out = malloc(len)) == NULL)
		return NULL;
	out[k++] = '{';
	for (i = 0; i < n; i++) {
		const char *c, *s = item(ev, i, tmp, sizeof(tmp));

		if (i > 0)
			out[k++] = ',';
		if (s == NULL) {
			memcpy(out + k, "NULL", 4);
			k += 4;
			continue;
		}
		out[k++] = '"';
		for (c = s; *c != '\0'; c++) {
			if (*c == '"' || *c == '\\')
				out[k++] = '\\';
			out[k++] = *c;
		}
		out[k++] = '"';
	}
	out[k++] = '}';
	out[k] = '\0';
	return out;
}

static const char *item_id(const struct store_webhook_event *ev, size_t i, char *t, size_t n)
{
	(void)t, (void)n;
	return ev[i].id;
}
static const char *item_type(const struct store_webhook_event *ev, size_t i, char *t, size_t n)
{
	(void)t, (void)n;
	return ev[i].type;
}
static const char *item_user(const struct store_webhook_event *ev, size_t i, char *t, size_t n)
{
	(void)t, (void)n;
	return ev[i].user_id;
}
static const char *item_ts(const struct store_webhook_event *ev, size_t i, char *t, size_t n)
{
	str_msg(t, n, "%lld", ev[i].timestamp_ms);
	return t;
}
static const char *item_redelivery(const struct store_webhook_event *ev, size_t i, char *t,
				   size_t n)
{
	(void)t, (void)n;
	return ev[i].redelivery ? "t" : "f";
}
static const char *item_body(const struct store_webhook_event *ev, size_t i, char *t, size_t n)
{
	(void)t, (void)n;
	return ev[i].body;
}

enum hl_status store_webhook_insert(struct db *db, const struct store_webhook_event *ev, size_t n,
				    size_t *stored)
{
	const char *(*items[6])(const struct store_webhook_event *, size_t, char *, size_t) = {
		item_id, item_type, item_user, item_ts, item_redelivery, item_body};
	char *params[6] = {NULL};
	enum hl_status st = HL_TEMPFAIL;
	PGresult *res = NULL;
	PGconn *conn;
	long long count;
	int i, attempt;

	*stored = 0;
	if (n == 0)
		return HL_OK;
	for (i = 0; i < 6; i++)
		if ((params[i] = array_literal(n, items[i], ev)) == NULL) {
			db_set_error(db, "out of memory");
			goto done;
		}
	/* One statement is one transaction: all the request's events or none.
	 * A connection found dead (the server restarted since the last
	 * request) is re-opened and the statement tried once more. */
	for (attempt = 0; attempt < 2; attempt++) {
		if ((conn = db_conn(db)) == NULL) {
			st = HL_TEMPFAIL;
			goto done;
		}
		PQclear(res);
		res = PQexecParams(
			conn,
			"INSERT INTO webhook_events (webhook_event_id, type, line_user_id, "
			"event_time,"
			" is_redelivery, body)"
			" SELECT i, t, u, to_timestamp(ts / 1000.0), r, b::jsonb"
			" FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[],"
			" $5::boolean[], $6::text[]) WITH ORDINALITY AS x(i, t, u, ts, r, b, n)"
			" ORDER BY n"
			" ON CONFLICT (webhook_event_id) DO NOTHING",
			6, NULL, (const char *const *)params, NULL, NULL, 0);
		st = db_result_status(db, res);
		if (st != HL_TEMPFAIL || !db_connection_lost(db))
			break;
	}
	if (st == HL_OK) {
		if (str_to_ll(PQcmdTuples(res), 0, (long long)n, &count))
			*stored = (size_t)count;
	}
done:
	PQclear(res);
	for (i = 0; i < 6; i++)
		free(params[i]);
	return st;
}

enum hl_status store_webhook_claim(struct db *db, size_t max, struct store_webhook_claim *c,
				   size_t *n, long long *wait_ms)
{
	PGconn *conn = db_conn(db);
	PGresult *res = NULL;
	enum hl_status st;
	char smax[24];
	const char *params[1] = {smax};
	int i, rows;

	*n = 0;
	*wait_ms = -1;
	if (conn == NULL)
		return HL_TEMPFAIL;
	str_msg(smax, sizeof(smax), "%zu", max);
	/* The worker's commits need not wait for the disk: if PostgreSQL
	 * crashes before flushing one, the "done" marks and the handlers' work
	 * are lost together and those events are simply handled again.  Only
	 * the request path's insert must be durable before LINE hears 200. */
	if ((st = db_exec(db, "BEGIN; SET LOCAL synchronous_commit TO off")) != HL_OK)
		return st;
	/* "Earlier" is event order: LINE's timestamp, then arrival.  The
	 * pending index keeps this cheap however many events are done. */
	res = PQexecParams(conn,
			   "SELECT e.id, e.attempts, e.body::text FROM webhook_events e"
			   " WHERE e.status = 'pending' AND e.next_attempt_at <= now()"
			   " AND NOT EXISTS (SELECT 1 FROM webhook_events p"
			   "  WHERE p.line_user_id = e.line_user_id AND p.status = 'pending'"
			   "  AND (p.event_time, p.id) < (e.event_time, e.id))"
			   " ORDER BY e.next_attempt_at, e.id LIMIT $1::integer"
			   " FOR UPDATE OF e SKIP LOCKED",
			   1, NULL, params, NULL, NULL, 0);
	if ((st = db_result_status(db, res)) != HL_OK)
		goto rollback;
	rows = PQntuples(res);
	for (i = 0; i < rows && (size_t)i < max; i++) {
		if (!str_to_ll(PQgetvalue(res, i, 0), 1, INT64_MAX, &c[i].id) ||
		    !str_to_ll(PQgetvalue(res, i, 1), 0, INT32_MAX, &c[i].attempts) ||
		    (c[i].body = strdup(PQgetvalue(res, i, 2))) == NULL) {
			db_set_error(db, "unexpected reply to the event claim");
			st = HL_TEMPFAIL;
			goto rollback;
		}
		*n = (size_t)i + 1;
	}
	PQclear(res);
	if (*n > 0)
		return HL_OK;
	/* Nothing due: how long until the first resident's next event is.  A
	 * later event of a resident whose earlier one waits does not count. */
	res = PQexec(
		conn,
		"SELECT ceil(extract(epoch FROM min(e.next_attempt_at) - now()) * 1000)::bigint"
		" FROM webhook_events e WHERE e.status = 'pending'"
		" AND NOT EXISTS (SELECT 1 FROM webhook_events p"
		"  WHERE p.line_user_id = e.line_user_id AND p.status = 'pending'"
		"  AND (p.event_time, p.id) < (e.event_time, e.id))");
	if ((st = db_result_status(db, res)) != HL_OK)
		goto rollback;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
	    (!str_to_ll(PQgetvalue(res, 0, 0), INT64_MIN, INT64_MAX, wait_ms) || *wait_ms < 0))
		*wait_ms = 0;
	PQclear(res);
	return db_exec(db, "COMMIT");
rollback:
	PQclear(res);
	for (i = 0; (size_t)i < *n; i++) {
		free(c[i].body);
		c[i].body = NULL;
	}
	*n = 0;
	db_rollback(db);
	return st;
}

enum hl_status store_webhook_savepoint(struct db *db)
{
	return db_exec(db, "SAVEPOINT event");
}

enum hl_status store_webhook_rollback_to(struct db *db)
{
	return db_exec(db, "ROLLBACK TO SAVEPOINT event");
}

enum hl_status store_webhook_done(struct db *db, long long id)
{
	PGconn *conn = db_conn(db);
	PGresult *res;
	enum hl_status st;
	char sid[24];
	const char *params[1] = {sid};

	if (conn == NULL)
		return HL_TEMPFAIL;
	str_msg(sid, sizeof(sid), "%lld", id);
	res = PQexecParams(conn,
			   "UPDATE webhook_events SET status = 'done', attempts = attempts + 1,"
			   " processed_at = now(), error = NULL WHERE id = $1::bigint",
			   1, NULL, params, NULL, NULL, 0);
	st = db_result_status(db, res);
	PQclear(res);
	return st;
}

enum hl_status store_webhook_commit(struct db *db)
{
	return db_exec(db, "COMMIT");
}

void store_webhook_abort(struct db *db)
{
	db_rollback(db);
}

enum hl_status store_webhook_retry(struct db *db, long long id, const char *error,
				   long long delay_ms, bool give_up)
{
	PGconn *conn = db_conn(db);
	PGresult *res;
	enum hl_status st;
	char sid[24], sdelay[24];
	const char *params[4] = {sid, error, sdelay, give_up ? "t" : "f"};

	if (conn == NULL)
		return HL_TEMPFAIL;
	str_msg(sid, sizeof(sid), "%lld", id);
	str_msg(sdelay, sizeof(sdelay), "%lld", delay_ms);
	res = PQexecParams(
		conn,
		"UPDATE webhook_events SET attempts = attempts + 1, error = left($2, 500),"
		" next_attempt_at = now() + make_interval(secs => $3::bigint / 1000.0),"
		" status = CASE WHEN $4::boolean THEN 'failed' ELSE 'pending' END,"
		" processed_at = CASE WHEN $4::boolean THEN now() END"
		" WHERE id = $1::bigint AND status = 'pending'",
		4, NULL, params, NULL, NULL, 0);
	st = db_result_status(db, res);
	PQclear(res);
	return st;
}
