/*
 * store_prefs — residents' 受信設定; see store_prefs.h.
 *
 * Arrays go to PostgreSQL as one text parameter each ("{1,2,3}", cast to
 * bigint[] or date[]), so a save is a fixed number of statements whatever
 * the number of items: every value is still a parameter, never SQL text.
 */
#include "store_prefs.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

static char *dup_field(const PGresult *res, int row, int col)
{
	return strdup(PQgetvalue(res, row, col));
}

static bool kind_parse(const char *s, enum prefs_kind *k)
{
	if (strcmp(s, "single") == 0)
		*k = PREFS_SINGLE;
	else if (strcmp(s, "multi") == 0)
		*k = PREFS_MULTI;
	else if (strcmp(s, "date") == 0)
		*k = PREFS_DATE;
	else
		return false;
	return true;
}

void prefs_free(struct prefs *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nitems; i++) {
		struct prefs_item *it = &p->items[i];

		for (size_t v = 0; v < it->nvalues; v++) {
			free(it->values[v].key);
			free(it->values[v].label);
		}
		free(it->values);
		free(it->dates);
		free(it->key);
		free(it->label);
		free(it->description);
	}
	free(p->items);
	free(p);
}

/* Run a statement with text parameters; the result, or NULL with *st set. */
static PGresult *query(struct db *db, const char *sql, int n, const char *const *params,
		       enum hl_status *st)
{
	PGresult *res;

	*st = db_query(db, sql, n, params, &res);
	return res;
}

/* The index of the item with this id at or after *pos (rows come in item
 * order, so the walk is linear); false when there is none. */
static bool item_at(const struct prefs *p, const char *id_text, size_t *pos)
{
	long long id;

	if (!str_to_ll(id_text, 1, INT64_MAX, &id))
		return false;
	while (*pos < p->nitems && p->items[*pos].id != id)
		(*pos)++;
	return *pos < p->nitems;
}

static enum hl_status load_items(struct db *db, struct prefs *p)
{
	enum hl_status st;
	PGresult *res;
	int n;

	res = query(db,
		    "SELECT id, key, label, description, kind, match_when_unset"
		    "  FROM segment_items WHERE retired_at IS NULL ORDER BY position, id",
		    0, NULL, &st);
	if (res == NULL)
		return st;
	n = PQntuples(res);
	p->items = calloc(n > 0 ? (size_t)n : 1, sizeof(*p->items));
	if (p->items == NULL)
		goto oom;
	for (int r = 0; r < n; r++) {
		struct prefs_item *it = &p->items[r];

		p->nitems++;
		if (!str_to_ll(PQgetvalue(res, r, 0), 1, INT64_MAX, &it->id) ||
		    !kind_parse(PQgetvalue(res, r, 4), &it->kind)) {
			db_set_error(db, "unexpected segment item row");
			st = HL_PERMFAIL;
			goto done;
		}
		it->key = dup_field(res, r, 1);
		it->label = dup_field(res, r, 2);
		it->description = dup_field(res, r, 3);
		it->match_when_unset = PQgetvalue(res, r, 5)[0] == 't';
		if (it->key == NULL || it->label == NULL || it->description == NULL)
			goto oom;
	}
	st = HL_OK;
	goto done;
oom:
	db_set_error(db, "out of memory");
	st = HL_TEMPFAIL;
done:
	PQclear(res);
	return st;
}

static enum hl_status load_values(struct db *db, struct prefs *p, const char *resident_id)
{
	const char *params[1] = {resident_id};
	enum hl_status st;
	PGresult *res;
	size_t pos = 0;
	int n;

	res = query(db,
		    "SELECT v.item_id, v.id, v.key, v.label, c.value_id IS NOT NULL"
		    "  FROM segment_values v JOIN segment_items i ON i.id = v.item_id"
		    "  LEFT JOIN resident_choices c ON c.value_id = v.id AND c.resident_id = $1"
		    " WHERE v.retired_at IS NULL AND i.retired_at IS NULL"
		    " ORDER BY i.position, i.id, v.position, v.id",
		    1, params, &st);
	if (res == NULL)
		return st;
	n = PQntuples(res);
	/* First pass: how many values each item has. */
	for (int r = 0; r < n; r++) {
		if (!item_at(p, PQgetvalue(res, r, 0), &pos))
			goto bad;
		p->items[pos].nvalues++;
	}
	for (size_t i = 0; i < p->nitems; i++) {
		if (p->items[i].nvalues == 0)
			continue;
		p->items[i].values = calloc(p->items[i].nvalues, sizeof(struct prefs_value));
		if (p->items[i].values == NULL)
			goto oom;
		p->items[i].nvalues = 0;
	}
	pos = 0;
	for (int r = 0; r < n; r++) {
		struct prefs_value *v;

		if (!item_at(p, PQgetvalue(res, r, 0), &pos))
			goto bad;
		v = &p->items[pos].values[p->items[pos].nvalues++];
		if (!str_to_ll(PQgetvalue(res, r, 1), 1, INT64_MAX, &v->id))
			goto bad;
		v->key = dup_field(res, r, 2);
		v->label = dup_field(res, r, 3);
		v->chosen = PQgetvalue(res, r, 4)[0] == 't';
		if (v->key == NULL || v->label == NULL)
			goto oom;
	}
	st = HL_OK;
	goto done;
bad:
	db_set_error(db, "unexpected segment value row");
	st = HL_PERMFAIL;
	goto done;
oom:
	db_set_error(db, "out of memory");
	st = HL_TEMPFAIL;
done:
	PQclear(res);
	return st;
}

static enum hl_status load_dates(struct db *db, struct prefs *p, const char *resident_id)
{
	const char *params[1] = {resident_id};
	enum hl_status st;
	PGresult *res;
	size_t pos = 0;
	int n;

	res = query(db,
		    "SELECT d.item_id, to_char(d.value, 'YYYY-MM-DD')"
		    "  FROM resident_dates d JOIN segment_items i ON i.id = d.item_id"
		    " WHERE d.resident_id = $1 AND i.retired_at IS NULL"
		    " ORDER BY i.position, i.id, d.value, d.id",
		    1, params, &st);
	if (res == NULL)
		return st;
	n = PQntuples(res);
	for (int r = 0; r < n; r++) {
		if (!item_at(p, PQgetvalue(res, r, 0), &pos))
			goto bad;
		p->items[pos].ndates++;
	}
	for (size_t i = 0; i < p->nitems; i++) {
		if (p->items[i].ndates == 0)
			continue;
		p->items[i].dates = calloc(p->items[i].ndates, PREFS_DATE_SIZE);
		if (p->items[i].dates == NULL) {
			db_set_error(db, "out of memory");
			st = HL_TEMPFAIL;
			goto done;
		}
		p->items[i].ndates = 0;
	}
	pos = 0;
	for (int r = 0; r < n; r++) {
		struct prefs_item *it;

		if (!item_at(p, PQgetvalue(res, r, 0), &pos))
			goto bad;
		it = &p->items[pos];
		if (!str_copy(it->dates[it->ndates++], PQgetvalue(res, r, 1), PREFS_DATE_SIZE))
			goto bad;
	}
	st = HL_OK;
	goto done;
bad:
	db_set_error(db, "unexpected resident date row");
	st = HL_PERMFAIL;
done:
	PQclear(res);
	return st;
}

enum hl_status store_prefs_load(struct db *db, const char *line_user_id, struct prefs **out)
{
	const char *params[1] = {line_user_id};
	struct prefs *p = NULL;
	PGresult *res = NULL;
	const char *rid = NULL;
	char rid_text[24] = "";
	enum hl_status st;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		db_set_error(db, "out of memory");
		return HL_TEMPFAIL;
	}
	/* One snapshot: the values and the choices come from the same moment
	 * as the items, even while staff edit them. */
	if ((st = db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")) != HL_OK)
		goto fail;
	res = query(db,
		    "SELECT to_char(current_date, 'YYYY-MM-DD'), r.id, r.status,"
		    "       COALESCE(to_json(r.settings_saved_at) #>> '{}', '')"
		    "  FROM (SELECT 1) AS one LEFT JOIN residents r ON r.line_user_id = $1",
		    1, params, &st);
	if (res == NULL)
		goto rollback;
	if (PQntuples(res) != 1 || !str_copy(p->today, PQgetvalue(res, 0, 0), sizeof(p->today)) ||
	    !str_copy(p->saved_at, PQgetvalue(res, 0, 3), sizeof(p->saved_at))) {
		db_set_error(db, "unexpected resident row");
		st = HL_PERMFAIL;
		goto rollback;
	}
	if (PQgetisnull(res, 0, 1)) {
		p->resident = PREFS_RESIDENT_UNKNOWN;
	} else if (strcmp(PQgetvalue(res, 0, 2), "active") != 0) {
		p->resident = PREFS_RESIDENT_BLOCKED;
	} else {
		p->resident = PREFS_RESIDENT_ACTIVE;
		if (!str_copy(rid_text, PQgetvalue(res, 0, 1), sizeof(rid_text))) {
			db_set_error(db, "unexpected resident id");
			st = HL_PERMFAIL;
			goto rollback;
		}
		rid = rid_text;
	}
	PQclear(res);
	res = NULL;
	/* A resident who is not active gets the item list without anyone's
	 * settings (rid NULL matches no row). */
	if ((st = load_items(db, p)) != HL_OK || (st = load_values(db, p, rid)) != HL_OK ||
	    (rid != NULL && (st = load_dates(db, p, rid)) != HL_OK))
		goto rollback;
	if ((st = db_exec(db, "COMMIT")) != HL_OK)
		goto fail;
	*out = p;
	return HL_OK;
rollback:
	PQclear(res);
	db_rollback(db);
fail:
	prefs_free(p);
	return st;
}

/* "{1,2,3}" for a bigint[] parameter; malloc'd, NULL when out of memory. */
static char *id_array(const long long *ids, size_t n)
{
	size_t size, len = 0;
	char *s;

	if (n > (SIZE_MAX - 3) / 21)
		return NULL;
	size = n * 21 + 3; /* 20 digits and a comma each, the braces, the NUL */
	s = malloc(size);
	if (s == NULL)
		return NULL;
	s[0] = '\0';
	if (!str_appendf(s, size, &len, "{"))
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (!str_appendf(s, size, &len, "%s%lld", i > 0 ? "," : "", ids[i]))
			goto fail;
	if (!str_appendf(s, size, &len, "}"))
		goto fail;
	return s;
fail:
	free(s);
	return NULL;
}

/* "{2019-04-01,...}" for a date[] parameter; the dates are already checked
 * to be YYYY-MM-DD (no quoting needed). */
static char *date_array(const char (*dates)[PREFS_DATE_SIZE], size_t n)
{
	size_t size, len = 0;
	char *s;

	if (n > (SIZE_MAX - 3) / PREFS_DATE_SIZE)
		return NULL;
	size = n * PREFS_DATE_SIZE + 3;
	s = malloc(size);
	if (s == NULL)
		return NULL;
	s[0] = '\0';
	if (!str_appendf(s, size, &len, "{"))
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (!str_appendf(s, size, &len, "%s%s", i > 0 ? "," : "", dates[i]))
			goto fail;
	if (!str_appendf(s, size, &len, "}"))
		goto fail;
	return s;
fail:
	free(s);
	return NULL;
}

/* A statement whose result is not needed. */
static enum hl_status run(struct db *db, const char *sql, int n, const char *const *params)
{
	enum hl_status st;
	PGresult *res = query(db, sql, n, params, &st);

	PQclear(res);
	return st;
}

enum hl_status store_prefs_save(struct db *db, const char *line_user_id,
				const struct prefs_change *c, enum prefs_resident *resident)
{
	char *values = NULL, *date_items = NULL, *dates = NULL;
	const char *params[3];
	char rid[24];
	PGresult *res = NULL;
	enum hl_status st;

	*resident = PREFS_RESIDENT_UNKNOWN;
	values = id_array(c->value_ids, c->nvalues);
	date_items = id_array(c->date_item_ids, c->ndates);
	dates = date_array(c->dates, c->ndates);
	if (values == NULL || date_items == NULL || dates == NULL) {
		db_set_error(db, "out of memory");
		st = HL_TEMPFAIL;
		goto done;
	}
	if ((st = db_exec(db, "BEGIN")) != HL_OK)
		goto done;
	/* The resident's row is locked, so two saves from two phones do not
	 * interleave their deletes and inserts. */
	params[0] = line_user_id;
	res = query(db, "SELECT id, status FROM residents WHERE line_user_id = $1 FOR UPDATE", 1,
		    params, &st);
	if (res == NULL)
		goto rollback;
	if (PQntuples(res) == 1) {
		*resident = strcmp(PQgetvalue(res, 0, 1), "active") == 0 ? PREFS_RESIDENT_ACTIVE
									 : PREFS_RESIDENT_BLOCKED;
		if (!str_copy(rid, PQgetvalue(res, 0, 0), sizeof(rid))) {
			db_set_error(db, "unexpected resident id");
			st = HL_PERMFAIL;
			goto rollback;
		}
	}
	PQclear(res);
	res = NULL;
	if (*resident != PREFS_RESIDENT_ACTIVE) {
		st = db_exec(db, "ROLLBACK");
		goto done;
	}
	params[0] = rid;
	params[1] = values;
	/* Choices of current values of current items go; a retired value is
	 * kept, unless its single item gets a new value now. */
	st = run(db,
		 "DELETE FROM resident_choices c USING segment_values v, segment_items i"
		 " WHERE c.resident_id = $1 AND v.id = c.value_id AND i.id = c.item_id"
		 "   AND i.retired_at IS NULL"
		 "   AND (v.retired_at IS NULL OR (i.kind = 'single' AND i.id IN"
		 "        (SELECT item_id FROM segment_values WHERE id = ANY ($2::bigint[]))))",
		 2, params);
	if (st != HL_OK)
		goto rollback;
	st = run(db,
		 "INSERT INTO resident_choices (resident_id, value_id)"
		 " SELECT $1, unnest($2::bigint[])",
		 2, params);
	if (st != HL_OK)
		goto rollback;
	st = run(db,
		 "DELETE FROM resident_dates d USING segment_items i"
		 " WHERE d.resident_id = $1 AND i.id = d.item_id AND i.retired_at IS NULL",
		 1, params);
	if (st != HL_OK)
		goto rollback;
	params[1] = date_items;
	params[2] = dates;
	st = run(db,
		 "INSERT INTO resident_dates (resident_id, item_id, value)"
		 " SELECT $1, t.item_id, t.value"
		 "   FROM unnest($2::bigint[], $3::date[]) AS t (item_id, value)",
		 3, params);
	if (st != HL_OK)
		goto rollback;
	st = run(db, "UPDATE residents SET settings_saved_at = now() WHERE id = $1", 1, params);
	if (st != HL_OK)
		goto rollback;
	st = db_exec(db, "COMMIT");
	goto done;
rollback:
	PQclear(res);
	db_rollback(db);
done:
	free(values);
	free(date_items);
	free(dates);
	return st;
}
