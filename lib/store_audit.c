/*
 * store_audit — appending to and verifying the audit log; see store_audit.h.
 */
#include "store_audit.h"

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

#include "str.h"

/* The User-Agent is attacker-chosen text: keep printable ASCII only (the
 * column is UTF-8 text of at most 512 bytes). */
static void clean_agent(const char *in, char out[513])
{
	size_t n = 0;

	for (; in != NULL && *in != '\0' && n < 512; in++)
		out[n++] = (*in >= ' ' && *in <= '~') ? *in : '?';
	out[n] = '\0';
}

enum hl_status store_audit_append(struct db *db, const struct audit_entry *e)
{
	PGconn *conn = db_conn(db);
	char staff[24], agent[513];
	const char *params[7];
	PGresult *res;
	enum hl_status st;

	if (conn == NULL)
		return HL_TEMPFAIL;
	if (!str_printf(staff, sizeof(staff), "%lld", e->actor_staff_id))
		return HL_PERMFAIL;
	clean_agent(e->user_agent, agent);
	params[0] = e->actor_staff_id > 0 ? staff : NULL;
	params[1] = e->actor;
	params[2] = e->action;
	params[3] = e->target;
	params[4] = e->detail != NULL ? e->detail : "{}";
	params[5] = e->ip;
	params[6] = e->user_agent != NULL ? agent : NULL;
	res = PQexecParams(
		conn,
		"INSERT INTO audit_log (actor_staff_id, actor, action, target, detail, ip,"
		" user_agent) VALUES ($1::bigint, $2, $3, $4, $5::jsonb, $6::inet, $7)",
		7, NULL, params, NULL, NULL, 0);
	st = db_result_status(db, res);
	PQclear(res);
	return st;
}

enum hl_status store_audit_verify(struct db *db, bool *intact, long long *first_bad)
{
	PGconn *conn = db_conn(db);
	PGresult *res;
	enum hl_status st;

	if (conn == NULL)
		return HL_TEMPFAIL;
	res = PQexec(conn, "SELECT audit_verify()");
	st = db_result_status(db, res);
	if (st == HL_OK) {
		if (PQntuples(res) != 1) {
			db_set_error(db, "unexpected reply to audit_verify()");
			st = HL_PERMFAIL;
		} else if (PQgetisnull(res, 0, 0)) {
			*intact = true;
			*first_bad = 0;
		} else {
			*intact = false;
			if (!str_to_ll(PQgetvalue(res, 0, 0), 0, INT64_MAX, first_bad))
				*first_bad = 0;
		}
	}
	PQclear(res);
	return st;
}

/* Batch size of the recomputation: bounds memory, not the log. */
#define AUDIT_BATCH 5000
#define STR_(x)	    #x
#define XSTR(x)	    STR_(x)

static const char *const field_names[] = {
	"id", "at", "actor_staff_id", "actor", "action", "target", "detail", "ip", "user_agent"};

static bool from_hex(const char *hex, unsigned char out[32])
{
	if (strlen(hex) != 64)
		return false;
	for (size_t i = 0; i < 32; i++) {
		unsigned v = 0;

		for (size_t j = 0; j < 2; j++) {
			char ch = hex[2 * i + j];

			v <<= 4;
			if (ch >= '0' && ch <= '9')
				v |= (unsigned)(ch - '0');
			else if (ch >= 'a' && ch <= 'f')
				v |= (unsigned)(ch - 'a' + 10);
			else
				return false;
		}
		out[i] = (unsigned char)v;
	}
	return true;
}

/* sha256(prev || canonical text of row i of res); false on OpenSSL failure. */
static bool row_hash(const PGresult *res, int i, const unsigned char prev[32],
		     unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len = 0;
	bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
		  EVP_DigestUpdate(md, prev, 32) == 1 &&
		  EVP_DigestUpdate(md, "hotline-audit-v1\n", 17) == 1;

	for (int f = 0; ok && f < 9; f++) {
		char head[96];

		if (PQgetisnull(res, i, f))
			ok = str_printf(head, sizeof(head), "%s=-\n", field_names[f]);
		else
			ok = str_printf(head, sizeof(head), "%s=%d:", field_names[f],
					PQgetlength(res, i, f));
		ok = ok && EVP_DigestUpdate(md, head, strlen(head)) == 1;
		if (ok && !PQgetisnull(res, i, f))
			ok = EVP_DigestUpdate(md, PQgetvalue(res, i, f),
					      (size_t)PQgetlength(res, i, f)) == 1 &&
			     EVP_DigestUpdate(md, "\n", 1) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(md, out, &len) == 1 && len == 32;
	EVP_MD_CTX_free(md);
	return ok;
}

enum hl_status store_audit_recompute(struct db *db, struct audit_check *out)
{
	PGconn *conn = db_conn(db);
	unsigned char prev[32] = {0}, hash[32], stored_prev[32], stored[32];
	long long expect = 1, id;
	char after[24];
	const char *params[1] = {after};
	PGresult *res;
	enum hl_status st;

	memset(out, 0, sizeof(*out));
	if (conn == NULL)
		return HL_TEMPFAIL;
	/* One snapshot for the rows and the head. */
	st = db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	if (st != HL_OK)
		return st;
	for (;;) {
		int n;

		if (!str_printf(after, sizeof(after), "%lld", expect - 1)) {
			st = HL_PERMFAIL;
			goto fail;
		}
		res = PQexecParams(conn,
				   "SELECT id, ((extract(epoch FROM at) * 1000000)::bigint)::text,"
				   " actor_staff_id, actor, action, target, detail, ip, user_agent,"
				   " encode(prev_hash, 'hex'), encode(hash, 'hex')"
				   " FROM audit_log WHERE id > $1::bigint ORDER BY id LIMIT " XSTR(
					   AUDIT_BATCH),
				   1, NULL, params, NULL, NULL, 0);
		st = db_result_status(db, res);
		if (st != HL_OK) {
			PQclear(res);
			goto fail;
		}
		n = PQntuples(res);
		for (int i = 0; i < n && out->first_bad == 0; i++) {
			if (!str_to_ll(PQgetvalue(res, i, 0), 1, INT64_MAX, &id) || id != expect) {
				out->first_bad = expect;
				out->why = "missing row (a gap in the ids)";
				break;
			}
			if (!from_hex(PQgetvalue(res, i, 9), stored_prev) ||
			    !from_hex(PQgetvalue(res, i, 10), stored) ||
			    memcmp(stored_prev, prev, 32) != 0) {
				out->first_bad = id;
				out->why = "prev_hash is not the previous row's hash";
				break;
			}
			if (!row_hash(res, i, prev, hash)) {
				PQclear(res);
				db_set_error(db, "SHA-256 failed (OpenSSL)");
				st = HL_PERMFAIL;
				goto fail;
			}
			if (memcmp(hash, stored, 32) != 0) {
				out->first_bad = id;
				out->why = "hash does not match the row's contents";
				break;
			}
			memcpy(prev, hash, 32);
			expect++;
			out->rows++;
		}
		PQclear(res);
		if (out->first_bad != 0 || n < AUDIT_BATCH)
			break;
	}
	if (out->first_bad == 0) {
		long long last;

		res = PQexec(conn,
			     "SELECT last_id, encode(last_hash, 'hex') FROM audit_chain_head");
		st = db_result_status(db, res);
		if (st != HL_OK || PQntuples(res) != 1 ||
		    !str_to_ll(PQgetvalue(res, 0, 0), 0, INT64_MAX, &last) ||
		    !from_hex(PQgetvalue(res, 0, 1), stored)) {
			if (st == HL_OK) {
				db_set_error(db, "unexpected audit_chain_head");
				st = HL_PERMFAIL;
			}
			PQclear(res);
			goto fail;
		}
		PQclear(res);
		if (last != expect - 1) {
			out->first_bad = expect;
			out->why = "rows removed at the end (the chain head is ahead)";
		} else if (memcmp(stored, prev, 32) != 0) {
			out->first_bad = expect - 1;
			out->why = "the chain head's hash differs from the last row's";
		}
	}
	return db_exec(db, "COMMIT");
fail:
	db_rollback(db);
	return st;
}

/* --- search ------------------------------------------------------------------ */

enum hl_status store_audit_search(struct db *db, const struct audit_filter *f, audit_row_fn fn,
				  void *ctx, long long *rows)
{
	char before[24], limit[24];
	const char *params[6] = {f->actor, f->action, f->from, f->to, before, limit};
	PGresult *res;
	enum hl_status st;
	int n;

	*rows = 0;
	if (!str_printf(before, sizeof(before), "%lld", f->before > 0 ? f->before : 0) ||
	    !str_printf(limit, sizeof(limit), "%lld", f->limit > 0 ? f->limit : 0))
		return HL_PERMFAIL;
	/* Day bounds are Japan time whatever the session's time zone; the
	 * action prefix is compared with starts_with(), so '%' and '_' in it
	 * are plain characters. */
	st = db_query(
		db,
		"SELECT id, to_char(at AT TIME ZONE 'Asia/Tokyo',"
		"  'YYYY-MM-DD\"T\"HH24:MI:SS\"+09:00\"'),"
		" actor, action, target, detail::text, host(ip)"
		" FROM audit_log"
		" WHERE ($1::text IS NULL OR actor = $1::text)"
		" AND ($2::text IS NULL OR starts_with(action, $2::text))"
		" AND ($3::date IS NULL OR at >= $3::date::timestamp AT TIME ZONE 'Asia/Tokyo')"
		" AND ($4::date IS NULL"
		"  OR at < ($4::date + 1)::timestamp AT TIME ZONE 'Asia/Tokyo')"
		" AND ($5::bigint = 0 OR id < $5::bigint)"
		" ORDER BY id DESC"
		" LIMIT CASE WHEN $6::bigint > 0 THEN $6::bigint END",
		6, params, &res);
	if (st != HL_OK)
		return st;
	n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		struct audit_row r = {
			.at = PQgetvalue(res, i, 1),
			.actor = PQgetvalue(res, i, 2),
			.action = PQgetvalue(res, i, 3),
			.target = PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4),
			.detail = PQgetvalue(res, i, 5),
			.ip = PQgetisnull(res, i, 6) ? NULL : PQgetvalue(res, i, 6),
		};

		if (!str_to_ll(PQgetvalue(res, i, 0), 1, INT64_MAX, &r.id)) {
			db_set_error(db, "unexpected audit row");
			st = HL_PERMFAIL;
			break;
		}
		if (!fn(ctx, &r)) {
			db_set_error(db, "stopped");
			st = HL_PERMFAIL;
			break;
		}
		(*rows)++;
	}
	PQclear(res);
	return st;
}

enum hl_status store_audit_verify_rows(struct db *db, bool *intact, long long *first_bad,
				       long long *rows)
{
	PGresult *res;
	enum hl_status st = db_query(db, "SELECT audit_verify(), (SELECT count(*) FROM audit_log)",
				     0, NULL, &res);

	*intact = false;
	*first_bad = 0;
	*rows = 0;
	if (st != HL_OK)
		return st;
	if (PQntuples(res) != 1 || !str_to_ll(PQgetvalue(res, 0, 1), 0, INT64_MAX, rows)) {
		db_set_error(db, "unexpected reply to audit_verify()");
		st = HL_PERMFAIL;
	} else if (PQgetisnull(res, 0, 0)) {
		*intact = true;
	} else if (!str_to_ll(PQgetvalue(res, 0, 0), 0, INT64_MAX, first_bad)) {
		*first_bad = 0;
	}
	PQclear(res);
	return st;
}
