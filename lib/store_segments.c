/*
 * store_segments — segment items and values, counts, test receivers; see
 * store_segments.h.
 *
 * Constraint violations are expected outcomes here (two staff members
 * adding the same key, un-retiring a value whose label was reused), so
 * they are told apart by SQLSTATE and constraint name instead of being
 * reported as failures: 23505 on segment_values_label_uniq is a taken
 * label, any other 23505 a taken key, 23514 from refuse_key_change() a
 * permanent key, any other 23514 an invalid value.
 */
#include "store_segments.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

/* Times as staff read them: ISO 8601 in Japan time with its offset. */
#define JST(col) "to_char(" col " AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+09:00\"')"

#define ITEM_JSONB                                                                                 \
	"jsonb_build_object('id', i.id, 'key', i.key, 'label', i.label, 'description',"            \
	" i.description, 'kind', i.kind, 'match_when_unset', i.match_when_unset, 'position',"      \
	" i.position, 'retired', i.retired_at IS NOT NULL)"
#define VALUE_JSONB                                                                                \
	"jsonb_build_object('id', v.id, 'item_id', v.item_id, 'key', v.key, 'label', v.label,"     \
	" 'position', v.position, 'retired', v.retired_at IS NOT NULL)"
#define RESIDENT_JSON                                                                              \
	"json_build_object('id', r.id, 'status', r.status, 'followed_at', " JST(                   \
		"r.followed_at") ", 'is_tester', r.is_tester)"

/* Run sql; constraint violations become *outcome (HL_OK, no result), other
 * failures the status.  On HL_OK with SEG_DONE, *out is the result. */
static enum hl_status exec(struct db *db, const char *sql, int n, const char *const *params,
			   PGresult **out, enum seg_outcome *outcome)
{
	PGconn *conn = db_conn(db);
	PGresult *res;
	enum hl_status st;

	*out = NULL;
	*outcome = SEG_DONE;
	if (conn == NULL)
		return HL_TEMPFAIL;
	res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	st = db_result_status(db, res);
	if (st == HL_PERMFAIL) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		if (state != NULL && strcmp(state, "23505") == 0) {
			*outcome = cons != NULL && strcmp(cons, "segment_values_label_uniq") == 0
					   ? SEG_LABEL_TAKEN
					   : SEG_KEY_TAKEN;
			st = HL_OK;
		} else if (state != NULL && strcmp(state, "23514") == 0) {
			*outcome = msg != NULL && strstr(msg, "is permanent") != NULL
					   ? SEG_KEY_PERMANENT
					   : SEG_INVALID;
			st = HL_OK;
		}
	}
	if (st == HL_OK && *outcome == SEG_DONE)
		*out = res;
	else
		PQclear(res);
	return st;
}

/* The first column of the first row, copied; SEG_NOT_FOUND without rows. */
static enum hl_status one_text(struct db *db, const char *sql, int n, const char *const *params,
			       char **text, enum seg_outcome *outcome)
{
	PGresult *res;
	enum hl_status st = exec(db, sql, n, params, &res, outcome);

	*text = NULL;
	if (res == NULL)
		return st;
	if (PQntuples(res) == 0) {
		*outcome = SEG_NOT_FOUND;
	} else {
		*text = strdup(PQgetvalue(res, 0, 0));
		if (*text == NULL) {
			db_set_error(db, "out of memory");
			st = HL_PERMFAIL;
		}
	}
	PQclear(res);
	return st;
}

enum hl_status store_segments_target_label(struct db *db, const char *target, char **label)
{
	const char *params[1] = {target};
	enum seg_outcome outcome;

	/* target_label() (migration 0013) never raises and is what the
	 * delivery history shows, so the mail test panel says the same. */
	return one_text(db, "SELECT coalesce(target_label($1::jsonb), '全員')", 1, params, label,
			&outcome);
}

enum hl_status store_segments_list(struct db *db, bool include_retired, long long scope_staff_id,
				   char **json)
{
	char staff[24];
	const char *params[2] = {include_retired ? "t" : "f", staff};
	enum seg_outcome outcome;
	enum hl_status st;

	*json = NULL;
	if (!str_printf(staff, sizeof(staff), "%lld", scope_staff_id > 0 ? scope_staff_id : 0))
		return HL_PERMFAIL;
	/* Counts are of active residents: blocked ones are never targeted.
	 * All choices per value (the value index alone) minus those of the
	 * few blocked residents is about twice as fast as joining every
	 * choice to its resident.  MATERIALIZED: each count is looked up
	 * once per value, and an inlined CTE would recount every choice for
	 * each of them.  Item-level counts only for date items, which have
	 * no values (a distinct count over every choice would cost more than
	 * all the rest). */
	st = one_text(
		db,
		"WITH cnt AS MATERIALIZED ("
		" SELECT a.value_id, a.n - coalesce(b.n, 0) AS n"
		" FROM (SELECT value_id, count(*) AS n FROM resident_choices GROUP BY value_id) a"
		" LEFT JOIN (SELECT c.value_id, count(*) AS n FROM resident_choices c"
		"  JOIN residents r ON r.id = c.resident_id WHERE r.status <> 'active'"
		"  GROUP BY c.value_id) b USING (value_id)),"
		" icnt AS MATERIALIZED ("
		" SELECT d.item_id, count(DISTINCT d.resident_id) AS n FROM resident_dates d"
		" JOIN residents r ON r.id = d.resident_id AND r.status = 'active'"
		" GROUP BY d.item_id),"
		" scope AS MATERIALIZED (SELECT value_id FROM staff_segment_scope WHERE staff_id = "
		"$2::bigint)"
		" SELECT json_build_object("
		" 'items', coalesce((SELECT json_agg(" ITEM_JSONB
		" || CASE WHEN i.kind = 'date' THEN jsonb_build_object('residents',"
		"     coalesce((SELECT n FROM icnt WHERE icnt.item_id = i.id), 0))"
		"    ELSE '{}'::jsonb END"
		" || jsonb_build_object('values', coalesce((SELECT jsonb_agg(" VALUE_JSONB
		"     || jsonb_build_object('residents', coalesce((SELECT n FROM cnt"
		"         WHERE cnt.value_id = v.id), 0))"
		"     || CASE WHEN $2::bigint > 0 THEN jsonb_build_object('in_scope',"
		"         v.id IN (SELECT value_id FROM scope)) ELSE '{}'::jsonb END"
		"     ORDER BY v.position, v.id)"
		"    FROM segment_values v WHERE v.item_id = i.id"
		"    AND ($1::boolean OR v.retired_at IS NULL)), '[]'::jsonb))"
		"  ORDER BY i.position, i.id)"
		"  FROM segment_items i WHERE $1::boolean OR i.retired_at IS NULL), '[]'::json),"
		" 'residents', (SELECT json_build_object("
		"  'active', count(*) FILTER (WHERE status = 'active'),"
		"  'blocked', count(*) FILTER (WHERE status = 'blocked'),"
		"  'testers', count(*) FILTER (WHERE status = 'active' AND is_tester))"
		"  FROM residents))::text",
		2, params, json, &outcome);
	if (st == HL_OK && *json == NULL) {
		db_set_error(db, "unexpected reply to the segment list");
		st = HL_PERMFAIL;
	}
	return st;
}

enum hl_status store_segments_item_create(struct db *db, const struct seg_item_new *it, char **json,
					  enum seg_outcome *outcome)
{
	const char *params[5] = {it->key, it->label, it->description, it->kind,
				 it->match_when_unset ? "t" : "f"};

	return one_text(db,
			"INSERT INTO segment_items AS i (key, label, description, kind,"
			" match_when_unset, position) VALUES ($1, $2, $3, $4, $5::boolean,"
			" (SELECT coalesce(max(position), 0) + 10 FROM segment_items))"
			" RETURNING (" ITEM_JSONB ")::text",
			5, params, json, outcome);
}

/* Shared by items and values: lock and read, change, read again.  The
 * update's parameters are $1 id, $2 label, $3 position, $4 retired and,
 * for items, $5 description. */
static enum hl_status update_row(struct db *db, const char *select_sql, const char *update_sql,
				 int nparams, long long id, const struct seg_change *ch,
				 char **before, char **after, enum seg_outcome *outcome)
{
	char ids[24], pos[24];
	const char *params[5];
	enum hl_status st;

	*before = *after = NULL;
	if (!str_printf(ids, sizeof(ids), "%lld", id) ||
	    !str_printf(pos, sizeof(pos), "%lld", ch->position))
		return HL_PERMFAIL;
	params[0] = ids;
	st = one_text(db, select_sql, 1, params, before, outcome);
	if (st != HL_OK || *outcome != SEG_DONE)
		return st;
	params[1] = ch->label;
	params[2] = ch->has_position ? pos : NULL;
	params[3] = ch->retired < 0 ? NULL : ch->retired ? "t" : "f";
	params[4] = ch->description;
	st = one_text(db, update_sql, nparams, params, after, outcome);
	if (st != HL_OK || *outcome != SEG_DONE) {
		free(*before);
		*before = NULL;
	}
	return st;
}

#define SET_LABEL_POSITION_RETIRED                                                                 \
	" label = coalesce($2, label), position = coalesce($3::integer, position),"                \
	" retired_at = CASE WHEN $4::boolean IS NULL THEN retired_at"                              \
	"  WHEN $4::boolean THEN coalesce(retired_at, now()) END"

enum hl_status store_segments_item_update(struct db *db, long long id, const struct seg_change *ch,
					  char **before, char **after, enum seg_outcome *outcome)
{
	return update_row(db,
			  "SELECT (" ITEM_JSONB ")::text FROM segment_items i"
			  " WHERE i.id = $1::bigint FOR UPDATE",
			  "UPDATE segment_items i SET" SET_LABEL_POSITION_RETIRED
			  ", description = coalesce($5, description)"
			  " WHERE i.id = $1::bigint RETURNING (" ITEM_JSONB ")::text",
			  5, id, ch, before, after, outcome);
}

enum hl_status store_segments_value_update(struct db *db, long long id, const struct seg_change *ch,
					   char **before, char **after, enum seg_outcome *outcome)
{
	return update_row(db,
			  "SELECT (" VALUE_JSONB ")::text FROM segment_values v"
			  " WHERE v.id = $1::bigint FOR UPDATE",
			  "UPDATE segment_values v SET" SET_LABEL_POSITION_RETIRED
			  " WHERE v.id = $1::bigint RETURNING (" VALUE_JSONB ")::text",
			  4, id, ch, before, after, outcome);
}

enum hl_status store_segments_value_create(struct db *db, long long item_id, const char *key,
					   const char *label, char **json,
					   enum seg_outcome *outcome)
{
	char ids[24];
	const char *params[3] = {ids, key, label};
	char *kind = NULL;
	enum hl_status st;

	*json = NULL;
	if (!str_printf(ids, sizeof(ids), "%lld", item_id))
		return HL_PERMFAIL;
	/* FOR SHARE: the item cannot change kind under the new value. */
	st = one_text(db, "SELECT kind FROM segment_items WHERE id = $1::bigint FOR SHARE", 1,
		      params, &kind, outcome);
	if (st != HL_OK || *outcome != SEG_DONE)
		return st;
	if (strcmp(kind, "date") == 0) {
		free(kind);
		*outcome = SEG_DATE_ITEM;
		return HL_OK;
	}
	free(kind);
	return one_text(db,
			"INSERT INTO segment_values AS v (item_id, key, label, position)"
			" VALUES ($1::bigint, $2, $3, (SELECT coalesce(max(position), 0) + 10"
			" FROM segment_values WHERE item_id = $1::bigint))"
			" RETURNING (" VALUE_JSONB ")::text",
			3, params, json, outcome);
}

enum hl_status store_segments_testers(struct db *db, bool all, long long before, long long limit,
				      char **json)
{
	char b[24], l[24];
	const char *params[3] = {all ? "t" : "f", b, l};
	enum seg_outcome outcome;

	*json = NULL;
	if (!str_printf(b, sizeof(b), "%lld", before) ||
	    !str_printf(l, sizeof(l), "%lld", limit + 1))
		return HL_PERMFAIL;
	return one_text(db,
			"SELECT coalesce(json_agg(" RESIDENT_JSON
			" ORDER BY r.id DESC), '[]')::text"
			" FROM (SELECT id, status, followed_at, is_tester FROM residents"
			"  WHERE ($1::boolean OR is_tester)"
			"  AND ($2::bigint = 0 OR id < $2::bigint)"
			"  ORDER BY id DESC LIMIT $3::bigint) r",
			3, params, json, &outcome);
}

enum hl_status store_segments_tester_set(struct db *db, long long resident_id, bool on, char **json,
					 bool *was, enum seg_outcome *outcome)
{
	char ids[24];
	const char *params[2] = {ids, on ? "t" : "f"};
	PGresult *res;
	enum hl_status st;

	*json = NULL;
	*was = false;
	if (!str_printf(ids, sizeof(ids), "%lld", resident_id))
		return HL_PERMFAIL;
	/* The CTE reads the row as it was before the UPDATE. */
	st = exec(db,
		  "WITH o AS (SELECT is_tester FROM residents WHERE id = $1::bigint)"
		  " UPDATE residents r SET is_tester = $2::boolean WHERE r.id = $1::bigint"
		  " RETURNING (SELECT is_tester FROM o), (" RESIDENT_JSON ")::text",
		  2, params, &res, outcome);
	if (res == NULL)
		return st;
	if (PQntuples(res) == 0) {
		*outcome = SEG_NOT_FOUND;
	} else {
		*was = PQgetvalue(res, 0, 0)[0] == 't';
		*json = strdup(PQgetvalue(res, 0, 1));
		if (*json == NULL) {
			db_set_error(db, "out of memory");
			st = HL_PERMFAIL;
		}
	}
	PQclear(res);
	return st;
}
