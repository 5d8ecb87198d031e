/*
 * store_push — the pusher's SQL; see store_push.h.  The recipient
 * resolution and the chunked planning live in SQL functions of
 * db/migrations/0009_fanout.sql and 0012_fanout_speed.sql (target_sql,
 * target_driver_sql, delivery_plan_chunk).
 */
#include "store_push.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

/* The advisory lock class of planning ("hlpl"); the key is the delivery id
 * modulo 2^31 (two deliveries 2^31 apart merely take turns). */
#define PLAN_LOCK_CLASS "1752985708"

static long long get_ll(const PGresult *res, int row, int col)
{
	long long v = 0;

	if (PQgetisnull(res, row, col) ||
	    !str_to_ll(PQgetvalue(res, row, col), INT64_MIN, INT64_MAX, &v))
		return 0;
	return v;
}

static bool get_bool(const PGresult *res, int row, int col)
{
	return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

enum hl_status store_push_listen(struct db *db)
{
	return db_exec(db, "LISTEN hotline_delivery");
}

enum hl_status store_push_start_due(struct db *db, bool may_broadcast, int broadcasts_per_hour,
				    long long quota_left, int plan_batches,
				    struct push_started *out, bool *found)
{
	PGresult *res = NULL;
	enum hl_status st;
	char id[24];
	bool everyone, is_test;

	memset(out, 0, sizeof(*out));
	out->audience = -1;
	*found = false;
	if ((st = db_exec(db, "BEGIN")) != HL_OK)
		return st;
	st = db_query(
		db,
		"SELECT id, everyone, is_test, source FROM deliveries"
		" WHERE status IN ('queued', 'scheduled') AND (send_at IS NULL OR send_at <= now())"
		" ORDER BY send_at NULLS FIRST, id FOR UPDATE SKIP LOCKED LIMIT 1",
		0, NULL, &res);
	if (st != HL_OK)
		goto rollback;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return db_exec(db, "COMMIT");
	}
	out->id = get_ll(res, 0, 0);
	everyone = get_bool(res, 0, 1);
	is_test = get_bool(res, 0, 2);
	if (!str_copy(out->source, PQgetvalue(res, 0, 3), sizeof(out->source)))
		out->source[0] = '\0';
	PQclear(res);
	res = NULL;
	str_msg(id, sizeof(id), "%lld", out->id);

	if (quota_left >= 0) {
		const char *p[1] = {id};

		if ((st = db_query(db, "SELECT delivery_audience_count($1::bigint)", 1, p, &res)) !=
		    HL_OK)
			goto rollback;
		out->audience = get_ll(res, 0, 0);
		PQclear(res);
		res = NULL;
		if (out->audience > quota_left) {
			char reason[300];
			const char *hp[2] = {id, reason};

			str_msg(reason, sizeof(reason),
				"LINEの今月の送信可能数が足りないため保留しました"
				"（送信対象 %lld 人、今月の残り %lld 通）。"
				"上限を確認してから送信し直してください。",
				out->audience, quota_left);
			st = db_query(db,
				      "UPDATE deliveries SET status = 'held', hold_reason = $2"
				      " WHERE id = $1::bigint",
				      2, hp, NULL);
			if (st != HL_OK)
				goto rollback;
			out->held = true;
			*found = true;
			return db_exec(db, "COMMIT");
		}
	}

	if (everyone && !is_test && may_broadcast) {
		char limit[16];
		const char *p[1] = {limit};

		/* LINE allows 60 broadcasts an hour; one in flight counts. */
		str_msg(limit, sizeof(limit), "%d", broadcasts_per_hour);
		st = db_query(db,
			      "SELECT count(*) < $1::integer FROM delivery_batches"
			      " WHERE method = 'broadcast' AND (status = 'sending'"
			      " OR (status = 'sent' AND sent_at > now() - interval '1 hour'))",
			      1, p, &res);
		if (st != HL_OK)
			goto rollback;
		out->broadcast = get_bool(res, 0, 0);
		PQclear(res);
		res = NULL;
	}
	if (out->broadcast) {
		const char *p[1] = {id};

		st = db_query(
			db,
			"INSERT INTO delivery_batches (delivery_id, batch_no, method, recipients)"
			" VALUES ($1::bigint, 0, 'broadcast', 0)",
			1, p, NULL);
		if (st != HL_OK)
			goto rollback;
		st = db_query(db,
			      "UPDATE deliveries SET status = 'sending', started_at = now(),"
			      " send_method = 'broadcast', planned_at = now(),"
			      " targeted = (SELECT count(*) FROM residents WHERE status = 'active')"
			      " WHERE id = $1::bigint",
			      1, p, NULL);
	} else {
		const char *p[1] = {id};
		char nb[16];
		const char *pp[2] = {id, nb};

		st = db_query(db,
			      "UPDATE deliveries SET status = 'sending', started_at = now(),"
			      " send_method = 'multicast' WHERE id = $1::bigint",
			      1, p, NULL);
		if (st != HL_OK)
			goto rollback;
		/* Plan the first chunk in the same transaction, so that a
		 * small delivery (most alerts) is ready to send at commit.
		 * A target that cannot be resolved is left to the planner,
		 * which fails the delivery with the reason. */
		str_msg(nb, sizeof(nb), "%d", plan_batches);
		if ((st = db_exec(db, "SAVEPOINT plan")) != HL_OK)
			goto rollback;
		st = db_query(db,
			      "SELECT batches, recipients, complete"
			      " FROM delivery_plan_chunk($1::bigint, $2::integer)",
			      2, pp, &res);
		if (st == HL_OK) {
			out->planned_batches = (int)get_ll(res, 0, 0);
			out->planned_recipients = (int)get_ll(res, 0, 1);
			out->planned_complete = get_bool(res, 0, 2);
			PQclear(res);
			res = NULL;
		} else if (st == HL_PERMFAIL) {
			st = db_exec(db, "ROLLBACK TO SAVEPOINT plan");
		}
	}
	if (st != HL_OK)
		goto rollback;
	*found = true;
	return db_exec(db, "COMMIT");
rollback:
	PQclear(res);
	db_rollback(db);
	return st;
}

enum hl_status store_push_plan(struct db *db, int min_batches, int max_batches,
			       struct push_planned *out, bool *found)
{
	PGresult *res = NULL;
	enum hl_status st;
	char id[24], nb[16], mb[16];
	const char *p[3] = {id, nb, mb};

	memset(out, 0, sizeof(*out));
	*found = false;
	if ((st = db_exec(db, "BEGIN")) != HL_OK)
		return st;
	/* The right to plan a delivery is a transaction-level advisory lock
	 * on its id, not a lock on its row: the row is updated by every
	 * recorded answer (accepted, sent_requests), and a planning chunk
	 * holding it for its whole transaction would stall the send loop's
	 * recording, and so its sending, for as long.  delivery_plan_chunk
	 * updates the row only at the end of the chunk. */
	st = db_query(db,
		      "SELECT id FROM deliveries WHERE status = 'sending' AND planned_at IS NULL"
		      " AND pg_try_advisory_xact_lock(" PLAN_LOCK_CLASS
		      ", (id % 2147483648)::integer)"
		      " ORDER BY id LIMIT 1",
		      0, NULL, &res);
	if (st != HL_OK)
		goto rollback;
	if (PQntuples(res) == 0) {
		PQclear(res);
		res = NULL;
		/* Skipped deliveries are not "nothing to plan": another
		 * pusher plans them.  Say so, so that the caller looks
		 * again. */
		st = db_query(db,
			      "SELECT EXISTS (SELECT 1 FROM deliveries WHERE status = 'sending'"
			      " AND planned_at IS NULL)",
			      0, NULL, &res);
		if (st != HL_OK)
			goto rollback;
		out->pending = get_bool(res, 0, 0);
		PQclear(res);
		return db_exec(db, "COMMIT");
	}
	out->delivery_id = get_ll(res, 0, 0);
	PQclear(res);
	res = NULL;
	*found = true;
	str_msg(id, sizeof(id), "%lld", out->delivery_id);
	str_msg(nb, sizeof(nb), "%d", min_batches);
	str_msg(mb, sizeof(mb), "%d", max_batches < min_batches ? min_batches : max_batches);
	/* As many batches as the delivery has so far (so chunks double), at
	 * least min and at most max: the first chunks stay small, so that
	 * the first requests leave early, and a large audience is planned
	 * in few large transactions. */
	st = db_query(
		db,
		"SELECT batches, recipients, complete"
		" FROM delivery_plan_chunk($1::bigint, least($3::integer, greatest($2::integer,"
		" (SELECT coalesce(max(b.batch_no) + 1, 0) FROM delivery_batches b"
		"   WHERE b.delivery_id = $1::bigint))))",
		3, p, &res);
	if (st == HL_PERMFAIL) {
		/* A target that cannot be resolved (an unknown item, a broken
		 * filter) fails the delivery with the reason instead of
		 * stopping every other one behind it. */
		char why[512];
		const char *fp[2] = {id, why};

		str_msg(why, sizeof(why), "配信対象を決められませんでした: %s", db_error(db));
		db_rollback(db);
		out->failed = true;
		return db_query(db,
				"UPDATE deliveries SET status = 'failed', error = $2,"
				" finished_at = now() WHERE id = $1::bigint AND status = 'sending'",
				2, fp, NULL);
	}
	if (st != HL_OK)
		goto rollback;
	out->batches = (int)get_ll(res, 0, 0);
	out->recipients = (int)get_ll(res, 0, 1);
	out->complete = get_bool(res, 0, 2);
	PQclear(res);
	res = NULL;
	/* Wake the send loops (delivered at commit) to claim the new batches. */
	if (out->batches > 0 &&
	    (st = db_exec(db, "SELECT pg_notify('hotline_delivery', 'planned')")) != HL_OK)
		goto rollback;
	return db_exec(db, "COMMIT");
rollback:
	PQclear(res);
	db_rollback(db);
	return st;
}

void push_batch_clear(struct push_batch *b)
{
	free(b->messages);
	free(b->to);
	memset(b, 0, sizeof(*b));
}

static int count_ids(const char *list)
{
	int n = 1;

	if (list == NULL || *list == '\0')
		return 0;
	for (; *list != '\0'; list++)
		if (*list == ',')
			n++;
	return n;
}

enum hl_status store_push_claim(struct db *db, bool broadcast, int max, int lease_s,
				struct push_batch *out, int *n)
{
	PGresult *res = NULL;
	enum hl_status st;
	char smax[16], slease[16];
	const char *p[3] = {broadcast ? "true" : "false", smax, slease};
	int i, rows;

	*n = 0;
	str_msg(smax, sizeof(smax), "%d", max);
	str_msg(slease, sizeof(slease), "%d", lease_s);
	st = db_query(
		db,
		"WITH due AS ("
		" SELECT b.delivery_id, b.batch_no FROM delivery_batches b"
		" JOIN deliveries d ON d.id = b.delivery_id AND d.status = 'sending'"
		" WHERE b.status IN ('pending', 'sending') AND b.next_attempt_at <= now()"
		" AND (b.method = 'broadcast') = $1::boolean"
		" ORDER BY b.next_attempt_at, b.delivery_id, b.batch_no"
		" FOR UPDATE OF b SKIP LOCKED LIMIT $2::integer)"
		" UPDATE delivery_batches b SET status = 'sending', attempts = b.attempts + 1,"
		" next_attempt_at = now() + make_interval(secs => $3::integer)"
		" FROM due WHERE b.delivery_id = due.delivery_id AND b.batch_no = due.batch_no"
		" RETURNING b.delivery_id, b.batch_no, b.method = 'broadcast', b.attempts,"
		" b.retry_key, extract(epoch FROM now() - b.created_at),"
		" (SELECT d.messages::text FROM deliveries d WHERE d.id = b.delivery_id),"
		/* A batch of consecutive ids (its range is as long as it is:
		    * the ids are strictly increasing, a CHECK) is its range:
		    * one range scan, no join.  A dense batch (its range under
		    * twice its size): a range scan merged with the ids
		    * (batch_line_user_ids, 0012).  A sparse one: an index probe
		    * per id.  The order of "to" does not matter to LINE. */
		" CASE WHEN b.last_resident_id - b.first_resident_id + 1 = b.recipients"
		" THEN (SELECT string_agg(r.line_user_id, ',') FROM residents r"
		"  WHERE r.id BETWEEN b.first_resident_id AND b.last_resident_id"
		"  AND r.status = 'active')"
		" WHEN b.last_resident_id - b.first_resident_id < 2 * b.recipients"
		" THEN batch_line_user_ids(b.recipient_ids, b.first_resident_id,"
		"  b.last_resident_id)"
		" ELSE (SELECT string_agg(r.line_user_id, ',')"
		"  FROM unnest(b.recipient_ids) AS u(id) JOIN residents r ON r.id = u.id"
		"  WHERE r.id BETWEEN b.first_resident_id AND b.last_resident_id"
		"  AND r.status = 'active') END",
		3, p, &res);
	if (st != HL_OK)
		return st;
	rows = PQntuples(res);
	for (i = 0; i < rows && i < max; i++) {
		struct push_batch *b = &out[i];

		memset(b, 0, sizeof(*b));
		b->delivery_id = get_ll(res, i, 0);
		b->batch_no = (int)get_ll(res, i, 1);
		b->broadcast = get_bool(res, i, 2);
		b->attempts = (int)get_ll(res, i, 3);
		b->age_s = strtod(PQgetvalue(res, i, 5), NULL);
		b->messages = strdup(PQgetvalue(res, i, 6));
		if (!PQgetisnull(res, i, 7))
			b->to = strdup(PQgetvalue(res, i, 7));
		b->recipients = count_ids(b->to);
		if (!str_copy(b->retry_key, PQgetvalue(res, i, 4), sizeof(b->retry_key)) ||
		    b->messages == NULL || (!PQgetisnull(res, i, 7) && b->to == NULL)) {
			/* Out of memory: the lease runs out and the batch is
			 * claimed again; nothing is lost. */
			push_batch_clear(b);
			db_set_error(db, "out of memory reading claimed batches");
			st = HL_TEMPFAIL;
			break;
		}
	}
	*n = i;
	PQclear(res);
	return st;
}

static enum hl_status record_one(struct db *db, const struct push_result *r)
{
	char did[24], bno[16], status[16], count[16], retry[32];
	const char *error = r->error != NULL ? r->error : "";
	const char *reqid = r->request_id != NULL ? r->request_id : "";
	PGresult *res;
	enum hl_status st;
	bool mine;

	str_msg(did, sizeof(did), "%lld", r->delivery_id);
	str_msg(bno, sizeof(bno), "%d", r->batch_no);
	str_msg(status, sizeof(status), "%d", r->http_status);
	str_msg(count, sizeof(count), "%d", r->recipients);
	str_msg(retry, sizeof(retry), "%ld", r->retry_ms);

	switch (r->outcome) {
	case PUSH_SENT: {
		const char *p[4] = {did, bno, status, reqid};

		st = db_query(
			db,
			"UPDATE delivery_batches SET status = 'sent', sent_at = now(),"
			" http_status = nullif($3::integer, 0), line_request_id = nullif($4, ''),"
			" error = NULL WHERE delivery_id = $1::bigint AND batch_no = $2::integer"
			" AND status = 'sending' RETURNING method = 'broadcast'",
			4, p, &res);
		break;
	}
	case PUSH_RETRY: {
		const char *p[5] = {did, bno, status, error, retry};

		return db_query(
			db,
			"UPDATE delivery_batches SET http_status = nullif($3::integer, 0),"
			" error = nullif($4, ''),"
			" next_attempt_at = now() + make_interval(secs => $5::bigint / 1000.0)"
			" WHERE delivery_id = $1::bigint AND batch_no = $2::integer"
			" AND status = 'sending'",
			5, p, NULL);
	}
	case PUSH_FAILED:
	case PUSH_EMPTY:
	case PUSH_TO_MULTICAST: {
		const char *p[4] = {did, bno, status, error};

		st = db_query(
			db,
			r->outcome == PUSH_FAILED
				? "UPDATE delivery_batches SET status = 'failed',"
				  " http_status = nullif($3::integer, 0), error = nullif($4, '')"
				  " WHERE delivery_id = $1::bigint AND batch_no = $2::integer"
				  " AND status = 'sending' RETURNING false"
				: "UPDATE delivery_batches SET status = 'skipped',"
				  " http_status = nullif($3::integer, 0), error = nullif($4, '')"
				  " WHERE delivery_id = $1::bigint AND batch_no = $2::integer"
				  " AND status = 'sending' RETURNING false",
			4, p, &res);
		break;
	}
	case PUSH_HOLD: {
		const char *p[2] = {did, bno};
		const char *hp[2] = {did, error[0] != '\0' ? error : "LINEへの送信を保留しました"};

		/* The batch goes back to pending, unsent; the delivery waits
		 * for staff with the pusher's reason. */
		st = db_query(
			db,
			"UPDATE delivery_batches SET status = 'pending', next_attempt_at = now()"
			" WHERE delivery_id = $1::bigint AND batch_no = $2::integer"
			" AND status = 'sending'",
			2, p, NULL);
		if (st != HL_OK)
			return st;
		return db_query(db,
				"UPDATE deliveries SET status = 'held', hold_reason = $2"
				" WHERE id = $1::bigint AND status = 'sending'",
				2, hp, NULL);
	}
	default:
		db_set_error(db, "unknown outcome %d", (int)r->outcome);
		return HL_PERMFAIL;
	}
	if (st != HL_OK)
		return st;
	/* No row: the lease ran out and another pusher took the batch over;
	 * its answer counts, not ours. */
	mine = PQntuples(res) == 1;
	PQclear(res);
	if (!mine)
		return HL_OK;
	if (r->outcome == PUSH_SENT) {
		const char *p[2] = {did, count};

		return db_query(db,
				"UPDATE deliveries SET sent_requests = sent_requests + 1,"
				" accepted = least(targeted, accepted + CASE send_method"
				" WHEN 'broadcast' THEN targeted ELSE $2::integer END)"
				" WHERE id = $1::bigint",
				2, p, NULL);
	}
	if (r->outcome == PUSH_FAILED) {
		const char *p[2] = {did, count};

		return db_query(db,
				"UPDATE deliveries SET failed = least(targeted - accepted,"
				" failed + $2::integer) WHERE id = $1::bigint",
				2, p, NULL);
	}
	if (r->outcome == PUSH_TO_MULTICAST) {
		const char *p[1] = {did};

		/* Plan it again, as multicast batches over the residents. */
		return db_query(db,
				"UPDATE deliveries SET send_method = 'multicast', targeted = 0,"
				" planned_at = NULL, planned_through = NULL WHERE id = $1::bigint"
				" AND status = 'sending'",
				1, p, NULL);
	}
	return HL_OK;
}

/* Append a PostgreSQL array element: a number, or a quoted text with " and
 * \ escaped.  false when it does not fit. */
static bool array_add(char *buf, size_t cap, size_t *len, bool first, const char *text, bool quote)
{
	const char *c;

	if (!str_appendf(buf, cap, len, "%s%s", first ? "" : ",", quote ? "\"" : ""))
		return false;
	for (c = text; *c != '\0'; c++) {
		if (*len + 3 >= cap)
			return false;
		if (quote && (*c == '"' || *c == '\\'))
			buf[(*len)++] = '\\';
		buf[(*len)++] = *c;
	}
	buf[*len] = '\0';
	return str_appendf(buf, cap, len, "%s", quote ? "\"" : "");
}

/* Record every PUSH_SENT result with one statement (the common case at
 * full speed: hundreds a second). */
static enum hl_status record_sent(struct db *db, const struct push_result *r, size_t n)
{
	size_t i, k = 0, cap = n * 90 + 16, lens[5] = {0};
	char *arr[5] = {NULL};
	const char *p[5];
	enum hl_status st = HL_TEMPFAIL;
	bool ok = true;
	int j;

	for (j = 0; j < 5; j++) {
		arr[j] = malloc(cap);
		if (arr[j] == NULL)
			goto done;
		arr[j][0] = '{';
		arr[j][1] = '\0';
		lens[j] = 1;
	}
	for (i = 0; i < n && ok; i++) {
		char did[24], bno[16], http[16], cnt[16];

		if (r[i].outcome != PUSH_SENT)
			continue;
		str_msg(did, sizeof(did), "%lld", r[i].delivery_id);
		str_msg(bno, sizeof(bno), "%d", r[i].batch_no);
		str_msg(http, sizeof(http), "%d", r[i].http_status);
		str_msg(cnt, sizeof(cnt), "%d", r[i].recipients);
		ok = array_add(arr[0], cap, &lens[0], k == 0, did, false) &&
		     array_add(arr[1], cap, &lens[1], k == 0, bno, false) &&
		     array_add(arr[2], cap, &lens[2], k == 0, http, false) &&
		     array_add(arr[3], cap, &lens[3], k == 0,
			       r[i].request_id != NULL ? r[i].request_id : "", true) &&
		     array_add(arr[4], cap, &lens[4], k == 0, cnt, false);
		k++;
	}
	for (j = 0; j < 5 && ok; j++)
		ok = str_appendf(arr[j], cap, &lens[j], "}");
	if (!ok) {
		db_set_error(db, "result arrays too long");
		st = HL_PERMFAIL;
		goto done;
	}
	st = HL_OK;
	if (k == 0)
		goto done;
	for (j = 0; j < 5; j++)
		p[j] = arr[j];
	st = db_query(
		db,
		"WITH r AS (SELECT * FROM unnest($1::bigint[], $2::integer[], $3::integer[],"
		" $4::text[], $5::integer[]) AS r(did, bno, http, reqid, n)),"
		" upd AS (UPDATE delivery_batches b SET status = 'sent', sent_at = now(),"
		" http_status = nullif(r.http, 0), line_request_id = nullif(r.reqid, ''), error = "
		"NULL"
		" FROM r WHERE b.delivery_id = r.did AND b.batch_no = r.bno AND b.status = "
		"'sending'"
		" RETURNING b.delivery_id, r.n)"
		" UPDATE deliveries d SET sent_requests = d.sent_requests + c.k,"
		" accepted = least(d.targeted, d.accepted + CASE d.send_method"
		" WHEN 'broadcast' THEN d.targeted ELSE c.n END)"
		" FROM (SELECT delivery_id, count(*)::integer AS k, sum(n)::integer AS n FROM upd"
		" GROUP BY delivery_id) c WHERE d.id = c.delivery_id",
		5, p, NULL);
done:
	for (j = 0; j < 5; j++)
		free(arr[j]);
	return st;
}

static enum hl_status finish(struct db *db, const char *ids)
{
	const char *p[1] = {ids};

	return db_query(
		db,
		"UPDATE deliveries d SET finished_at = now(),"
		" status = CASE WHEN d.accepted = 0 AND d.failed > 0 THEN 'failed' ELSE 'done' END,"
		" error = CASE WHEN d.accepted = 0 AND d.failed > 0 THEN"
		"  (SELECT 'LINEが配信を受け付けませんでした: ' || coalesce(b.error, '')"
		"     FROM delivery_batches b WHERE b.delivery_id = d.id AND b.status = 'failed'"
		"    ORDER BY b.batch_no LIMIT 1) ELSE d.error END"
		" WHERE d.id = ANY ($1::bigint[]) AND d.status = 'sending' AND d.planned_at IS NOT "
		"NULL"
		" AND NOT EXISTS (SELECT 1 FROM delivery_batches b WHERE b.delivery_id = d.id"
		" AND b.status IN ('pending', 'sending'))",
		1, p, NULL);
}

enum hl_status store_push_record(struct db *db, const struct push_result *r, size_t n)
{
	enum hl_status st;
	char *ids = NULL;
	size_t i, len = 0, cap;

	if (n == 0)
		return HL_OK;
	if (n > SIZE_MAX / 24 - 4)
		return HL_PERMFAIL;
	cap = n * 24 + 4;
	ids = malloc(cap);
	if (ids == NULL) {
		db_set_error(db, "out of memory");
		return HL_TEMPFAIL;
	}
	ids[len++] = '{';
	ids[len] = '\0';
	for (i = 0; i < n; i++)
		if (!str_appendf(ids, cap, &len, "%s%lld", i > 0 ? "," : "", r[i].delivery_id))
			break;
	if (!str_appendf(ids, cap, &len, "}")) {
		free(ids);
		db_set_error(db, "delivery id list too long");
		return HL_PERMFAIL;
	}
	if ((st = db_exec(db, "BEGIN")) != HL_OK)
		goto done;
	/* No wait for the WAL flush: an answer lost in a crash is sent again
	 * with its retry key, and LINE's 409 records it then.  (The plan,
	 * which fixes the keys, is committed synchronously.) */
	if ((st = db_exec(db, "SET LOCAL synchronous_commit = off")) != HL_OK)
		goto rollback;
	if ((st = record_sent(db, r, n)) != HL_OK)
		goto rollback;
	for (i = 0; i < n; i++)
		if (r[i].outcome != PUSH_SENT && (st = record_one(db, &r[i])) != HL_OK)
			goto rollback;
	if ((st = finish(db, ids)) != HL_OK)
		goto rollback;
	st = db_exec(db, "COMMIT");
	goto done;
rollback:
	db_rollback(db);
done:
	free(ids);
	return st;
}

enum hl_status store_push_finish(struct db *db, long long delivery_id)
{
	char ids[32];

	str_msg(ids, sizeof(ids), "{%lld}", delivery_id);
	return finish(db, ids);
}

enum hl_status store_push_next_due_ms(struct db *db, long long *ms)
{
	PGresult *res;
	enum hl_status st;

	*ms = -1;
	st = db_query(
		db,
		"SELECT ceil(extract(epoch FROM least("
		" (SELECT min(send_at) FROM deliveries WHERE status = 'scheduled'),"
		" (SELECT min(b.next_attempt_at) FROM delivery_batches b"
		"   JOIN deliveries d ON d.id = b.delivery_id AND d.status = 'sending'"
		"  WHERE b.status IN ('pending', 'sending')),"
		" (SELECT now() FROM deliveries WHERE status = 'queued' LIMIT 1),"
		" (SELECT min(next_attempt_at) FROM line_replies"
		"   WHERE status IN ('pending', 'sending'))) - clock_timestamp()) * 1000)::bigint",
		0, NULL, &res);
	if (st != HL_OK)
		return st;
	if (!PQgetisnull(res, 0, 0)) {
		*ms = get_ll(res, 0, 0);
		if (*ms < 0)
			*ms = 0;
	}
	PQclear(res);
	return HL_OK;
}

void push_reply_clear(struct push_reply *r)
{
	free(r->reply_token);
	free(r->messages);
	memset(r, 0, sizeof(*r));
}

enum hl_status store_push_claim_replies(struct db *db, int max, int lease_s, struct push_reply *out,
					int *n)
{
	PGresult *res = NULL;
	enum hl_status st;
	char smax[16], slease[16];
	const char *p[2] = {smax, slease};
	int i, rows;

	*n = 0;
	str_msg(smax, sizeof(smax), "%d", max);
	str_msg(slease, sizeof(slease), "%d", lease_s);
	st = db_query(db,
		      "WITH due AS (SELECT id FROM line_replies"
		      " WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()"
		      " ORDER BY next_attempt_at, id FOR UPDATE SKIP LOCKED LIMIT $1::integer)"
		      " UPDATE line_replies l SET status = 'sending', attempts = l.attempts + 1,"
		      " next_attempt_at = now() + make_interval(secs => $2::integer)"
		      " FROM due WHERE l.id = due.id"
		      " RETURNING l.id, l.attempts, extract(epoch FROM now() - l.created_at),"
		      " l.reply_token, l.messages::text, l.retry_key,"
		      " (SELECT r.line_user_id FROM residents r WHERE r.id = l.resident_id"
		      "  AND r.status = 'active'), coalesce(l.method, '')",
		      2, p, &res);
	if (st != HL_OK)
		return st;
	rows = PQntuples(res);
	for (i = 0; i < rows && i < max; i++) {
		struct push_reply *r = &out[i];

		memset(r, 0, sizeof(*r));
		r->id = get_ll(res, i, 0);
		r->attempts = (int)get_ll(res, i, 1);
		r->age_s = strtod(PQgetvalue(res, i, 2), NULL);
		if (!PQgetisnull(res, i, 3))
			r->reply_token = strdup(PQgetvalue(res, i, 3));
		r->messages = strdup(PQgetvalue(res, i, 4));
		r->pushed_before = strcmp(PQgetvalue(res, i, 7), "push") == 0;
		if (!str_copy(r->retry_key, PQgetvalue(res, i, 5), sizeof(r->retry_key)) ||
		    !str_copy(r->line_user_id, PQgetvalue(res, i, 6), sizeof(r->line_user_id)) ||
		    r->messages == NULL || (!PQgetisnull(res, i, 3) && r->reply_token == NULL)) {
			push_reply_clear(r);
			db_set_error(db, "out of memory reading claimed replies");
			st = HL_TEMPFAIL;
			break;
		}
	}
	*n = i;
	PQclear(res);
	return st;
}

enum hl_status store_push_record_replies(struct db *db, const struct push_reply_result *r, size_t n)
{
	enum hl_status st;
	size_t i;

	if (n == 0)
		return HL_OK;
	if ((st = db_exec(db, "BEGIN")) != HL_OK)
		return st;
	for (i = 0; i < n; i++) {
		char id[24], retry[32];
		const char *reqid = r[i].request_id != NULL ? r[i].request_id : "";
		const char *error = r[i].error != NULL ? r[i].error : "";

		str_msg(id, sizeof(id), "%lld", r[i].id);
		str_msg(retry, sizeof(retry), "%ld", r[i].retry_ms);
		if (r[i].outcome == PUSH_RETRY) {
			const char *p[4] = {id, r[i].method, error, retry};

			st = db_query(db,
				      "UPDATE line_replies SET method = $2, error = nullif($3, ''),"
				      " next_attempt_at = now() + make_interval(secs => $4::bigint"
				      " / 1000.0) WHERE id = $1::bigint AND status = 'sending'",
				      4, p, NULL);
		} else {
			const char *p[4] = {id, r[i].method, reqid, error};

			st = db_query(
				db,
				r[i].outcome == PUSH_SENT
					? "UPDATE line_replies SET status = 'sent', sent_at = "
					  "now(),"
					  " method = $2, line_request_id = nullif($3, ''),"
					  " error = nullif($4, '') WHERE id = $1::bigint"
					  " AND status = 'sending'"
					: "UPDATE line_replies SET status = 'failed', method = $2,"
					  " line_request_id = nullif($3, ''), error = nullif($4, "
					  "'')"
					  " WHERE id = $1::bigint AND status = 'sending'",
				4, p, NULL);
		}
		if (st != HL_OK) {
			db_rollback(db);
			return st;
		}
	}
	return db_exec(db, "COMMIT");
}
