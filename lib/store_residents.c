/*
 * store_residents — residents' follow state and their replies; see
 * store_residents.h.
 */
#include "store_residents.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <string.h>

#include "str.h"

enum hl_status store_residents_follow(struct db *db, const char *line_user_id, long long ts_ms,
				      long long *id, bool *known)
{
	char ts[24];
	const char *params[2] = {line_user_id, ts};
	PGresult *res;
	enum hl_status st;

	*id = 0;
	*known = false;
	str_msg(ts, sizeof(ts), "%lld", ts_ms);
	/* xmax is non-zero on the row an ON CONFLICT ... DO UPDATE updated. */
	st = db_query(db,
		      "INSERT INTO residents (line_user_id, followed_at)"
		      " VALUES ($1, to_timestamp($2::bigint / 1000.0))"
		      " ON CONFLICT (line_user_id) DO UPDATE SET status = 'active',"
		      " followed_at = EXCLUDED.followed_at"
		      " RETURNING id, xmax <> 0",
		      2, params, &res);
	if (st != HL_OK)
		return st;
	if (PQntuples(res) != 1 || !str_to_ll(PQgetvalue(res, 0, 0), 1, INT64_MAX, id)) {
		db_set_error(db, "unexpected reply to the resident upsert");
		PQclear(res);
		return HL_PERMFAIL;
	}
	*known = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	return HL_OK;
}

enum hl_status store_residents_unfollow(struct db *db, const char *line_user_id, long long ts_ms,
					bool *known)
{
	char ts[24];
	const char *params[2] = {line_user_id, ts};
	PGresult *res;
	enum hl_status st;

	*known = false;
	str_msg(ts, sizeof(ts), "%lld", ts_ms);
	st = db_query(db,
		      "UPDATE residents SET status = 'blocked',"
		      " blocked_at = to_timestamp($2::bigint / 1000.0) WHERE line_user_id = $1",
		      2, params, &res);
	if (st != HL_OK)
		return st;
	*known = strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	return HL_OK;
}

enum hl_status store_residents_find_or_add(struct db *db, const char *line_user_id, long long *id)
{
	const char *params[1] = {line_user_id};
	PGresult *res;
	enum hl_status st;

	*id = 0;
	st = db_query(db,
		      "WITH added AS (INSERT INTO residents (line_user_id) VALUES ($1)"
		      " ON CONFLICT (line_user_id) DO NOTHING RETURNING id)"
		      " SELECT id FROM added UNION ALL"
		      " SELECT id FROM residents WHERE line_user_id = $1",
		      1, params, &res);
	if (st != HL_OK)
		return st;
	if (PQntuples(res) < 1 || !str_to_ll(PQgetvalue(res, 0, 0), 1, INT64_MAX, id)) {
		db_set_error(db, "unexpected reply to the resident lookup");
		PQclear(res);
		return HL_PERMFAIL;
	}
	PQclear(res);
	return HL_OK;
}

enum hl_status store_residents_queue_reply(struct db *db, long long resident_id,
					   const char *reply_token, const char *messages_json)
{
	char rid[24];
	const char *params[3] = {rid, reply_token, messages_json};
	PGresult *res;
	enum hl_status st;

	str_msg(rid, sizeof(rid), "%lld", resident_id);
	st = db_query(db,
		      "INSERT INTO line_replies (resident_id, reply_token, messages, source)"
		      " VALUES ($1::bigint, $2, $3::jsonb, 'webhook')",
		      3, params, &res);
	if (st == HL_OK)
		PQclear(res);
	return st;
}
