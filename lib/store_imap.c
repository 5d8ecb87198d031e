/*
 * store_imap — SQL of hotline-imapd's fetch position; see store_imap.h.
 */
#include "store_imap.h"

#include <libpq-fe.h>
#include <stdlib.h>

#include "str.h"

enum hl_status store_imap_get(struct db *db, const char *account, const char *mailbox,
			      uint32_t *uidvalidity, uint32_t *last_uid, bool *found)
{
	PGconn *conn = db_conn(db);
	const char *params[2] = {account, mailbox};
	PGresult *res;
	enum hl_status st;
	long long v = 0, u = 0;

	*uidvalidity = *last_uid = 0;
	*found = false;
	if (conn == NULL)
		return HL_TEMPFAIL;
	res = PQexecParams(conn,
			   "SELECT uidvalidity, last_uid FROM imap_state"
			   " WHERE account = $1 AND mailbox = $2",
			   2, NULL, params, NULL, NULL, 0);
	if ((st = db_result_status(db, res)) != HL_OK)
		goto done;
	if (PQntuples(res) == 0)
		goto done;
	if (PQntuples(res) != 1 || !str_to_ll(PQgetvalue(res, 0, 0), 1, UINT32_MAX, &v) ||
	    !str_to_ll(PQgetvalue(res, 0, 1), 0, UINT32_MAX, &u)) {
		db_set_error(db, "unexpected reply to the imap_state query");
		st = HL_PERMFAIL;
		goto done;
	}
	*uidvalidity = (uint32_t)v;
	*last_uid = (uint32_t)u;
	*found = true;
done:
	PQclear(res);
	return st;
}

enum hl_status store_imap_advance(struct db *db, const struct imap_position *p)
{
	PGconn *conn = db_conn(db);
	char v[16], u[16];
	const char *params[4] = {p->account, p->mailbox, v, u};
	PGresult *res;
	enum hl_status st;

	if (conn == NULL)
		return HL_TEMPFAIL;
	str_msg(v, sizeof(v), "%lu", (unsigned long)p->uidvalidity);
	str_msg(u, sizeof(u), "%lu", (unsigned long)p->last_uid);
	res = PQexecParams(conn,
			   "INSERT INTO imap_state (account, mailbox, uidvalidity, last_uid)"
			   " VALUES ($1, $2, $3::bigint, $4::bigint)"
			   " ON CONFLICT (account, mailbox) DO UPDATE"
			   " SET uidvalidity = EXCLUDED.uidvalidity, last_uid = EXCLUDED.last_uid"
			   " WHERE imap_state.uidvalidity <> EXCLUDED.uidvalidity"
			   " OR imap_state.last_uid < EXCLUDED.last_uid",
			   4, NULL, params, NULL, NULL, 0);
	st = db_result_status(db, res);
	PQclear(res);
	return st;
}
