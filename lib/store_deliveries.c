/*
 * store_deliveries — staff deliveries in PostgreSQL; see store_deliveries.h.
 * The rules (scope, target checks, labels, the JSON form) live in SQL
 * functions of db/migrations/0013_admin_deliveries.sql; this module only
 * calls them with parameters.
 */
#include "store_deliveries.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

/* Run sql and hand back the first column of its only row (malloc'd; NULL
 * when SQL NULL or no row). */
static enum hl_status one_text(struct db *db, const char *sql, int n, const char *const *params,
			       char **out)
{
	PGresult *res = NULL;
	enum hl_status st;

	*out = NULL;
	st = db_query(db, sql, n, params, &res);
	if (st != HL_OK)
		return st;
	if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0)) {
		*out = strdup(PQgetvalue(res, 0, 0));
		if (*out == NULL) {
			db_set_error(db, "out of memory");
			st = HL_TEMPFAIL;
		}
	}
	PQclear(res);
	return st;
}

enum hl_status store_deliveries_target_problem(struct db *db, const char *target, char **problem)
{
	const char *p[1] = {target};

	return one_text(db, "SELECT target_problem($1::jsonb)", 1, p, problem);
}

enum hl_status store_deliveries_scope_problem(struct db *db, long long staff, bool everyone,
					      const char *target, char **problem)
{
	char id[24];
	const char *p[3] = {id, target, everyone ? "true" : "false"};

	*problem = NULL;
	if (!str_printf(id, sizeof(id), "%lld", staff))
		return HL_PERMFAIL;
	return one_text(db, "SELECT staff_target_allowed($1::bigint, $2::jsonb, $3::boolean)", 3, p,
			problem);
}

enum hl_status store_deliveries_send_at_problem(struct db *db, const char *send_at, char **problem)
{
	const char *p[1] = {send_at};

	return one_text(db, "SELECT delivery_send_at_problem($1)", 1, p, problem);
}

enum hl_status store_deliveries_category_label(struct db *db, const char *key, char **label)
{
	const char *p[1] = {key};

	return one_text(
		db,
		"SELECT v.label FROM segment_values v JOIN segment_items i ON i.id = v.item_id"
		" WHERE i.key = 'category' AND v.key = $1",
		1, p, label);
}

enum hl_status store_deliveries_count(struct db *db, bool everyone, const char *target, bool test,
				      long long *count)
{
	const char *p[3] = {everyone ? "true" : "false", target, test ? "true" : "false"};
	char *text = NULL;
	enum hl_status st;

	*count = 0;
	st = one_text(db, "SELECT delivery_draft_count($1::boolean, $2::jsonb, $3::boolean)", 3, p,
		      &text);
	if (st == HL_OK && (text == NULL || !str_to_ll(text, 0, INT64_MAX, count))) {
		db_set_error(db, "unexpected answer from delivery_draft_count()");
		st = HL_PERMFAIL;
	}
	free(text);
	return st;
}

enum hl_status store_deliveries_approval_required(struct db *db, bool *required)
{
	char *text = NULL;
	enum hl_status st;

	*required = false;
	st = one_text(db,
		      "SELECT value::text FROM settings WHERE key = 'delivery.require_approval'", 0,
		      NULL, &text);
	if (st == HL_OK)
		*required = text != NULL && strcmp(text, "true") == 0;
	free(text);
	return st;
}

enum hl_status store_deliveries_set_approval_required(struct db *db, bool required, long long staff)
{
	char id[24];
	const char *p[2] = {required ? "true" : "false", id};

	if (!str_printf(id, sizeof(id), "%lld", staff))
		return HL_PERMFAIL;
	return db_query(db,
			"INSERT INTO settings (key, value, description, updated_by)"
			" VALUES ('delivery.require_approval', $1::jsonb,"
			" 'When true, a staff delivery needs a second staff member''s approval"
			" before it is sent.', $2::bigint)"
			" ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value,"
			" updated_by = EXCLUDED.updated_by",
			2, p, NULL);
}

enum hl_status store_deliveries_begin(struct db *db)
{
	return db_exec(db, "BEGIN");
}

enum hl_status store_deliveries_commit(struct db *db)
{
	return db_exec(db, "COMMIT");
}

enum hl_status store_deliveries_create(struct db *db, const struct delivery_new *d, char **json)
{
	char by[24];
	const char *p[8] = {d->title,
			    d->messages,
			    d->everyone ? "true" : "false",
			    d->target,
			    d->is_test ? "true" : "false",
			    d->status,
			    d->send_at,
			    by};
	enum hl_status st;

	*json = NULL;
	if (!str_printf(by, sizeof(by), "%lld", d->created_by))
		return HL_PERMFAIL;
	st = one_text(db,
		      "INSERT INTO deliveries (source, title, messages, everyone, target, is_test,"
		      " status, send_at, created_by)"
		      " VALUES ('staff', $1, $2::jsonb, $3::boolean, $4::jsonb, $5::boolean, $6,"
		      " $7::timestamptz, $8::bigint)"
		      " RETURNING delivery_json(deliveries, true)::text",
		      8, p, json);
	if (st == HL_OK && *json == NULL) {
		db_set_error(db, "INSERT INTO deliveries returned nothing");
		st = HL_PERMFAIL;
	}
	return st;
}

enum hl_status store_deliveries_get(struct db *db, long long id, bool messages, char **json)
{
	char idt[24];
	const char *p[2] = {idt, messages ? "true" : "false"};

	*json = NULL;
	if (!str_printf(idt, sizeof(idt), "%lld", id))
		return HL_PERMFAIL;
	return one_text(db,
			"SELECT delivery_json(d, $2::boolean)::text FROM deliveries d"
			" WHERE d.id = $1::bigint",
			2, p, json);
}

enum hl_status store_deliveries_cancel(struct db *db, long long id, long long staff, char **json)
{
	char idt[24], by[24];
	const char *p[2] = {idt, by};

	*json = NULL;
	if (!str_printf(idt, sizeof(idt), "%lld", id) || !str_printf(by, sizeof(by), "%lld", staff))
		return HL_PERMFAIL;
	/* The pusher takes a due delivery with FOR UPDATE and marks it
	 * sending in the same transaction: this UPDATE waits for that and
	 * then finds it no longer cancellable. */
	return one_text(db,
			"UPDATE deliveries SET status = 'cancelled', cancelled_by = $2::bigint,"
			" cancelled_at = now()"
			" WHERE id = $1::bigint AND started_at IS NULL"
			" AND status IN ('queued', 'scheduled', 'pending_approval', 'held')"
			" RETURNING delivery_json(deliveries, false)::text",
			2, p, json);
}

enum hl_status store_deliveries_approve(struct db *db, long long id, long long staff, char **json)
{
	char idt[24], by[24];
	const char *p[2] = {idt, by};

	*json = NULL;
	if (!str_printf(idt, sizeof(idt), "%lld", id) || !str_printf(by, sizeof(by), "%lld", staff))
		return HL_PERMFAIL;
	return one_text(db,
			"UPDATE deliveries SET approved_by = $2::bigint, approved_at = now(),"
			" status = CASE WHEN send_at > now() THEN 'scheduled' ELSE 'queued' END"
			" WHERE id = $1::bigint AND status = 'pending_approval'"
			" AND created_by IS DISTINCT FROM $2::bigint"
			" RETURNING delivery_json(deliveries, false)::text",
			2, p, json);
}

enum hl_status store_deliveries_list(struct db *db, const char *status, const char *source,
				     long long before, long long limit, char **json)
{
	char b[24], l[24];
	const char *p[4] = {status, source, b, l};
	enum hl_status st;

	*json = NULL;
	if (!str_printf(b, sizeof(b), "%lld", before > 0 ? before : INT64_MAX) ||
	    !str_printf(l, sizeof(l), "%lld", limit))
		return HL_PERMFAIL;
	st = one_text(
		db,
		"SELECT coalesce(jsonb_agg(delivery_json(x.d) ORDER BY x.id DESC), '[]')::text"
		" FROM (SELECT d, d.id FROM deliveries d"
		" WHERE ($1::text IS NULL OR d.status = $1) AND ($2::text IS NULL OR d.source = $2)"
		" AND d.id < $3::bigint ORDER BY d.id DESC LIMIT $4::bigint) AS x",
		4, p, json);
	if (st == HL_OK && *json == NULL) {
		db_set_error(db, "the history query returned nothing");
		st = HL_PERMFAIL;
	}
	return st;
}
