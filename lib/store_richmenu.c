/*
 * store_richmenu — rich menu sets; see store_richmenu.h.
 */
#include "store_richmenu.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

static enum hl_status run(struct db *db, const char *sql, int n, const char *const *params,
			  const int *lengths, const int *formats, PGresult **keep)
{
	PGconn *conn = db_conn(db);
	PGresult *res;
	enum hl_status st;

	if (keep != NULL)
		*keep = NULL;
	if (conn == NULL)
		return HL_TEMPFAIL;
	res = PQexecParams(conn, sql, n, NULL, params, lengths, formats, 0);
	st = db_result_status(db, res);
	if (st == HL_OK && keep != NULL)
		*keep = res;
	else
		PQclear(res);
	return st;
}

enum hl_status store_richmenu_live(struct db *db, const char *set, struct store_richmenu_set *out)
{
	const char *params[1] = {set};
	PGresult *res;
	enum hl_status st;
	int i, n;

	memset(out, 0, sizeof(*out));
	st = run(db,
		 "SELECT tab_no, title, line_richmenu_id, alias,"
		 "       to_char(published_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI:SS')"
		 " FROM richmenus WHERE set_name = $1 AND status = 'live' ORDER BY tab_no",
		 1, params, NULL, NULL, &res);
	if (st != HL_OK)
		return st;
	n = PQntuples(res);
	for (i = 0; i < n && i < STORE_RICHMENU_TABS_MAX; i++) {
		struct store_richmenu_live_tab *t = &out->tabs[i];
		long long no = 0;

		if (!str_to_ll(PQgetvalue(res, i, 0), 1, STORE_RICHMENU_TABS_MAX, &no) ||
		    !str_copy(t->title, PQgetvalue(res, i, 1), sizeof(t->title)) ||
		    !str_copy(t->line_richmenu_id, PQgetvalue(res, i, 2),
			      sizeof(t->line_richmenu_id)) ||
		    !str_copy(t->alias, PQgetvalue(res, i, 3), sizeof(t->alias)) ||
		    !str_copy(t->published_at, PQgetvalue(res, i, 4), sizeof(t->published_at))) {
			db_set_error(db, "unexpected richmenus row");
			PQclear(res);
			return HL_PERMFAIL;
		}
		t->tab_no = (int)no;
	}
	out->n = (size_t)i;
	PQclear(res);
	return HL_OK;
}

enum hl_status store_richmenu_replace_live(struct db *db, const struct store_richmenu_tab *t)
{
	char tab[8];
	const char *retire[2] = {t->set_name, tab};
	const char *params[9];
	int lengths[9] = {0}, formats[9] = {0};
	enum hl_status st;

	if (!str_printf(tab, sizeof(tab), "%d", t->tab_no))
		return HL_PERMFAIL;
	st = run(db,
		 "UPDATE richmenus SET status = 'retired'"
		 " WHERE set_name = $1 AND tab_no = $2::smallint AND status = 'live'",
		 2, retire, NULL, NULL, NULL);
	if (st != HL_OK)
		return st;
	if (t->image_len > 1048576) {
		db_set_error(db, "rich menu image over 1 MB");
		return HL_PERMFAIL;
	}
	params[0] = t->set_name;
	params[1] = tab;
	params[2] = t->title;
	params[3] = t->chat_bar_text;
	params[4] = t->layout_json;
	params[5] = (const char *)t->image;
	lengths[5] = (int)t->image_len;
	formats[5] = 1; /* binary: bytea as is */
	params[6] = t->line_richmenu_id;
	params[7] = t->alias;
	params[8] = "image/png";
	return run(db,
		   "INSERT INTO richmenus (set_name, tab_no, status, title, chat_bar_text, layout,"
		   " image, image_type, line_richmenu_id, alias, published_at)"
		   " VALUES ($1, $2::smallint, 'live', $3, $4, $5::jsonb, $6::bytea, $9, $7, $8,"
		   " now())",
		   9, params, lengths, formats, NULL);
}

enum hl_status store_richmenu_retire_tabs_from(struct db *db, const char *set, int tab_no)
{
	char tab[8];
	const char *params[2] = {set, tab};

	if (!str_printf(tab, sizeof(tab), "%d", tab_no))
		return HL_PERMFAIL;
	return run(db,
		   "UPDATE richmenus SET status = 'retired'"
		   " WHERE set_name = $1 AND tab_no >= $2::smallint AND status = 'live'",
		   2, params, NULL, NULL, NULL);
}

enum hl_status store_richmenu_active_set(struct db *db, char *out, size_t size)
{
	PGresult *res;
	enum hl_status st;

	st = run(db,
		 "SELECT coalesce((SELECT value #>> '{}' FROM settings"
		 " WHERE key = 'richmenu.active_set'), 'normal')",
		 0, NULL, NULL, NULL, &res);
	if (st != HL_OK)
		return st;
	if (PQntuples(res) != 1 || !str_copy(out, PQgetvalue(res, 0, 0), size)) {
		db_set_error(db, "unexpected richmenu.active_set");
		st = HL_PERMFAIL;
	}
	PQclear(res);
	return st;
}

enum hl_status store_richmenu_set_active(struct db *db, const char *set)
{
	const char *params[1] = {set};

	return run(db,
		   "INSERT INTO settings (key, value, description)"
		   " VALUES ('richmenu.active_set', to_jsonb($1::text),"
		   " 'Rich menu set shown to residents: \"normal\" or \"disaster\" (spec 4(1) 6).')"
		   " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_by = NULL",
		   1, params, NULL, NULL, NULL);
}

enum hl_status store_richmenu_audit(struct db *db, const char *action, const char *target,
				    const char *detail_json, bool *written)
{
	const char *params[3] = {action, target, detail_json != NULL ? detail_json : "{}"};
	PGresult *res;
	enum hl_status st;

	*written = false;
	st = run(db,
		 "INSERT INTO audit_log (actor, action, target, detail)"
		 " SELECT 'hotlinectl', $1, $2, $3::jsonb"
		 " WHERE has_table_privilege('audit_log', 'INSERT')",
		 3, params, NULL, NULL, &res);
	if (st == HL_OK) {
		*written = strcmp(PQcmdTuples(res), "1") == 0;
		PQclear(res);
	}
	return st;
}
