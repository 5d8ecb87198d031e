/*
 * store_mail — SQL of the mail queue; see store_mail.h.
 */
#include "store_mail.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

/* A PostgreSQL text[] literal: {"a","b"} with " and \ escaped.  NULL when
 * out of memory. */
static char *text_array(const char *const *items, size_t n)
{
	size_t i, len = 3, k = 0;
	char *out;

	for (i = 0; i < n; i++) {
		size_t l = strlen(items[i]);

		if (l > (SIZE_MAX - len) / 2 - 4)
			return NULL;
		len += 2 * l + 3;
	}
	out = malloc(len);
	if (out == NULL)
		return NULL;
	out[k++] = '{';
	for (i = 0; i < n; i++) {
		const char *c;

		if (i > 0)
			out[k++] = ',';
		out[k++] = '"';
		for (c = items[i]; *c != '\0'; c++) {
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

static const char *disposition_status(enum mail_disposition d)
{
	switch (d) {
	case MAIL_QUEUE:
		return "queued";
	case MAIL_HOLD:
		return "held";
	case MAIL_IGNORE:
		return "ignored";
	case MAIL_FAILED:
		return "failed";
	}
	return "failed";
}

static bool read_id(PGresult *res, long long *id)
{
	return PQntuples(res) == 1 && str_to_ll(PQgetvalue(res, 0, 0), 1, INT64_MAX, id);
}

enum hl_status store_mail_ingest(struct db *db, const struct mail_record *r, long long *mail_id,
				 long long *delivery_id, bool *duplicate)
{
	PGconn *conn = db_conn(db);
	PGresult *res = NULL;
	char *to = NULL;
	enum hl_status st = HL_TEMPFAIL;
	bool has_delivery = r->disposition == MAIL_QUEUE || r->disposition == MAIL_HOLD;

	*mail_id = *delivery_id = 0;
	*duplicate = false;
	if (conn == NULL)
		return HL_TEMPFAIL;
	if (r->raw_len > INT32_MAX) {
		db_set_error(db, "mail too large to store");
		return HL_PERMFAIL;
	}
	to = text_array(r->envelope_to, r->nto);
	if (to == NULL) {
		db_set_error(db, "out of memory");
		return HL_TEMPFAIL;
	}
	if ((st = db_exec(db, "BEGIN")) != HL_OK)
		goto done;
	{
		/* Inserted as 'received': the status that needs a delivery is set
		 * below, once the delivery exists. */
		const char *params[11] = {r->via,	  r->source_ref,    r->dedupe_key,
					  r->message_id,  r->envelope_from, to,
					  r->header_from, r->subject,	    r->body,
					  r->raw,	  r->error};
		int lengths[11] = {0}, formats[11] = {0};

		lengths[9] = (int)r->raw_len;
		formats[9] = 1; /* raw bytes as binary: no escaping of 25 MB */
		res = PQexecParams(
			conn,
			"INSERT INTO mails (via, source_ref, dedupe_key, message_id,"
			" envelope_from, envelope_to, header_from, subject, body, raw, error)"
			" VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8, $9, $10::bytea, $11)"
			" ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
			11, NULL, params, lengths, formats, 0);
	}
	if ((st = db_result_status(db, res)) != HL_OK)
		goto rollback;
	if (PQntuples(res) == 0) {
		*duplicate = true;
		PQclear(res);
		res = NULL;
		goto commit;
	}
	if (!read_id(res, mail_id)) {
		db_set_error(db, "unexpected reply to the mail insert");
		st = HL_PERMFAIL;
		goto rollback;
	}
	PQclear(res);
	res = NULL;

	if (has_delivery) {
		const char *everyone =
			r->disposition == MAIL_QUEUE && r->target_json == NULL ? "true" : "false";
		const char *params[6] = {r->title != NULL ? r->title : "",
					 r->messages_json,
					 everyone,
					 r->target_json,
					 disposition_status(r->disposition),
					 r->hold_reason};

		res = PQexecParams(
			conn,
			"INSERT INTO deliveries (source, title, messages, everyone, target, status,"
			" hold_reason) VALUES ('mail', $1, $2::jsonb, $3::boolean, $4::jsonb, $5, "
			"$6)"
			" RETURNING id",
			6, NULL, params, NULL, NULL, 0);
		if ((st = db_result_status(db, res)) != HL_OK)
			goto rollback;
		if (!read_id(res, delivery_id)) {
			db_set_error(db, "unexpected reply to the delivery insert");
			st = HL_PERMFAIL;
			goto rollback;
		}
		PQclear(res);
		res = NULL;
	}
	{
		char mid[24], did[24];
		const char *params[4] = {mid, disposition_status(r->disposition),
					 has_delivery ? did : NULL, r->trace_json};

		str_msg(mid, sizeof(mid), "%lld", *mail_id);
		str_msg(did, sizeof(did), "%lld", *delivery_id);
		res = PQexecParams(conn,
				   "UPDATE mails SET status = $2, delivery_id = $3::bigint,"
				   " rule_trace = $4::jsonb WHERE id = $1::bigint",
				   4, NULL, params, NULL, NULL, 0);
		if ((st = db_result_status(db, res)) != HL_OK)
			goto rollback;
		PQclear(res);
		res = NULL;
	}
commit:
	if (r->in_txn != NULL && (st = r->in_txn(db, r->in_txn_arg)) != HL_OK)
		goto rollback;
	st = db_exec(db, "COMMIT");
	goto done;
rollback:
	PQclear(res);
	res = NULL;
	db_rollback(db);
	*mail_id = *delivery_id = 0;
done:
	PQclear(res);
	free(to);
	return st;
}

/* --- the admin's mail log --- */

/* The columns of a list item, over mails m LEFT JOIN deliveries d; times
 * in ISO 8601 with the session's offset (the database's zone, Asia/Tokyo). */
#define MAIL_ITEM_JSON                                                                             \
	"jsonb_build_object('id', m.id,"                                                           \
	" 'received_at', to_char(m.received_at, 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM'),"              \
	" 'via', m.via, 'from', m.header_from, 'envelope_from', m.envelope_from,"                  \
	" 'subject', m.subject, 'status', m.status, 'error', m.error,"                             \
	" 'delivery_id', m.delivery_id, 'delivery_status', d.status,"                              \
	" 'raw_size', m.raw_size)"

static enum hl_status one_json(struct db *db, const char *sql, int n, const char *const *params,
			       json_t **out)
{
	PGresult *res = NULL;
	json_error_t jerr;
	enum hl_status st;

	*out = NULL;
	if ((st = db_query(db, sql, n, params, &res)) != HL_OK)
		return st;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		*out = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
		if (*out == NULL) {
			db_set_error(db, "cannot parse the database's JSON: %s", jerr.text);
			st = HL_TEMPFAIL;
		}
	}
	PQclear(res);
	return st;
}

enum hl_status store_mail_list(struct db *db, const struct mail_log_filter *f, json_t **items,
			       long long *next)
{
	char before[24], limit[24];
	const char *params[4] = {f->status, f->q, f->before > 0 ? before : NULL, limit};
	json_t *last;
	enum hl_status st;
	size_t n;

	*next = 0;
	str_msg(before, sizeof(before), "%lld", f->before);
	/* One more than asked: whether there is a next page. */
	str_msg(limit, sizeof(limit), "%d", f->limit + 1);
	st = one_json(db,
		      "SELECT coalesce(jsonb_agg(x ORDER BY id DESC), '[]'::jsonb)::text FROM ("
		      "SELECT m.id, " MAIL_ITEM_JSON " AS x"
		      " FROM mails m LEFT JOIN deliveries d ON d.id = m.delivery_id"
		      " WHERE ($1::text IS NULL OR m.status = $1)"
		      " AND ($2::text IS NULL OR m.subject ILIKE '%' || replace(replace(replace("
		      "  $2, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')"
		      " AND ($3::bigint IS NULL OR m.id < $3::bigint)"
		      " ORDER BY m.id DESC LIMIT $4::integer) s",
		      4, params, items);
	if (st != HL_OK)
		return st;
	n = json_array_size(*items);
	if (f->limit >= 0 && n > (size_t)f->limit) {
		json_array_remove(*items, n - 1);
		last = json_array_get(*items, n - 2);
		*next = (long long)json_integer_value(json_object_get(last, "id"));
	}
	return HL_OK;
}

enum hl_status store_mail_get(struct db *db, long long id, json_t **out)
{
	char sid[24];
	const char *params[1] = {sid};

	str_msg(sid, sizeof(sid), "%lld", id);
	return one_json(
		db,
		"SELECT (" MAIL_ITEM_JSON " || jsonb_build_object("
		" 'message_id', m.message_id, 'source_ref', m.source_ref,"
		" 'envelope_to', to_jsonb(m.envelope_to), 'decoded_body', m.body,"
		" 'rule_trace', (SELECT jsonb_agg(e || jsonb_build_object('name', r.name)"
		"   ORDER BY o) FROM jsonb_array_elements(CASE WHEN jsonb_typeof(m.rule_trace) ="
		"   'array' THEN m.rule_trace ELSE '[]'::jsonb END) WITH ORDINALITY AS t (e, o)"
		"   LEFT JOIN mail_rules r ON r.id = CASE WHEN jsonb_typeof(e -> 'rule') = 'number'"
		"   THEN (e ->> 'rule')::numeric::bigint END),"
		" 'delivery', CASE WHEN d.id IS NULL THEN NULL ELSE jsonb_build_object("
		"  'id', d.id, 'status', d.status, 'hold_reason', d.hold_reason,"
		"  'everyone', d.everyone, 'target', d.target, 'title', d.title,"
		"  'messages', d.messages) END))::text"
		" FROM mails m LEFT JOIN deliveries d ON d.id = m.delivery_id WHERE m.id = "
		"$1::bigint",
		1, params, out);
}

enum hl_status store_mail_raw(struct db *db, long long id, char **raw, size_t *len)
{
	PGconn *conn = db_conn(db);
	PGresult *res;
	char sid[24];
	const char *params[1] = {sid};
	enum hl_status st;
	size_t n;

	*raw = NULL;
	*len = 0;
	if (conn == NULL)
		return HL_TEMPFAIL;
	str_msg(sid, sizeof(sid), "%lld", id);
	/* Binary result: the bytes as they are, without bytea's hex text. */
	res = PQexecParams(conn, "SELECT raw FROM mails WHERE id = $1::bigint", 1, NULL, params,
			   NULL, NULL, 1);
	if ((st = db_result_status(db, res)) != HL_OK)
		goto done;
	if (PQntuples(res) == 1) {
		n = (size_t)PQgetlength(res, 0, 0);
		*raw = malloc(n + 1);
		if (*raw == NULL) {
			db_set_error(db, "out of memory");
			st = HL_TEMPFAIL;
			goto done;
		}
		memcpy(*raw, PQgetvalue(res, 0, 0), n);
		(*raw)[n] = '\0';
		*len = n;
	}
done:
	PQclear(res);
	return st;
}
