/*
 * store_rules — SQL for the mail rules; see store_rules.h.
 */
#include "store_rules.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

/* What the definitions point into: both results, kept until freed. */
struct storage {
	PGresult *rules, *values;
	struct rule_value *values_arr;
};

static bool parse_kind(const char *s, enum rule_kind *k)
{
	static const struct {
		const char *name;
		enum rule_kind kind;
	} kinds[] = {
		{"strip", RULE_STRIP},	     {"append", RULE_APPEND},
		{"keyword", RULE_KEYWORD},   {"sender_allow", RULE_SENDER_ALLOW},
		{"fallback", RULE_FALLBACK},
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(s, kinds[i].name) == 0) {
			*k = kinds[i].kind;
			return true;
		}
	}
	return false;
}

static const char *field(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

void store_rules_free(struct rule_defs *r)
{
	struct storage *s;

	if (r == NULL)
		return;
	s = r->storage;
	if (s != NULL) {
		PQclear(s->rules);
		PQclear(s->values);
		free(s->values_arr);
		free(s);
	}
	free(r->defs);
	free(r);
}

enum hl_status store_rules_load(struct db *db, struct rule_defs **out)
{
	PGconn *conn = db_conn(db);
	struct rule_defs *r = NULL;
	struct storage *s = NULL;
	enum hl_status st = HL_TEMPFAIL;
	int nrules, nvalues, i, v = 0;

	*out = NULL;
	if (conn == NULL)
		return HL_TEMPFAIL;
	r = calloc(1, sizeof(*r));
	s = calloc(1, sizeof(*s));
	if (r == NULL || s == NULL) {
		free(r);
		free(s);
		db_set_error(db, "out of memory");
		return HL_TEMPFAIL;
	}
	r->storage = s;
	/* One snapshot for both queries, so a rule and its values agree. */
	if ((st = db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")) != HL_OK)
		goto fail;
	s->rules = PQexec(conn,
			  "SELECT r.id, r.kind, r.name, r.part, r.pattern, r.text, r.placement,"
			  " i.key, r.fallback_action, r.fallback_target::text"
			  " FROM mail_rules r LEFT JOIN segment_items i ON i.id = r.target_item_id"
			  " WHERE r.enabled ORDER BY r.position");
	if ((st = db_result_status(db, s->rules)) != HL_OK)
		goto rollback;
	s->values = PQexec(conn, "SELECT v.rule_id, v.keyword, sv.key, v.everyone"
				 " FROM mail_rule_values v JOIN mail_rules r ON r.id = v.rule_id"
				 " LEFT JOIN segment_values sv ON sv.id = v.value_id"
				 " WHERE r.enabled ORDER BY r.position, v.id");
	if ((st = db_result_status(db, s->values)) != HL_OK)
		goto rollback;
	if ((st = db_exec(db, "COMMIT")) != HL_OK)
		goto fail;

	nrules = PQntuples(s->rules);
	nvalues = PQntuples(s->values);
	r->defs = calloc((size_t)nrules + 1, sizeof(*r->defs));
	s->values_arr = calloc((size_t)nvalues + 1, sizeof(*s->values_arr));
	if (r->defs == NULL || s->values_arr == NULL) {
		db_set_error(db, "out of memory");
		st = HL_TEMPFAIL;
		goto fail;
	}
	for (i = 0; i < nvalues; i++) {
		s->values_arr[i].keyword = PQgetvalue(s->values, i, 1);
		s->values_arr[i].value_key = field(s->values, i, 2);
		s->values_arr[i].everyone = strcmp(PQgetvalue(s->values, i, 3), "t") == 0;
	}
	for (i = 0; i < nrules; i++) {
		struct rule_def *d = &r->defs[i];
		const char *part = field(s->rules, i, 3), *placement = field(s->rules, i, 6);
		const char *fallback = field(s->rules, i, 8);
		const char *id = PQgetvalue(s->rules, i, 0);

		if (!str_to_ll(id, 1, INT64_MAX, &d->id) ||
		    !parse_kind(PQgetvalue(s->rules, i, 1), &d->kind)) {
			db_set_error(db, "mail_rules row %s: unexpected id or kind", id);
			st = HL_PERMFAIL;
			goto fail;
		}
		d->enabled = true;
		d->name = PQgetvalue(s->rules, i, 2);
		d->part = part != NULL && strcmp(part, "subject") == 0 ? RULE_PART_SUBJECT
								       : RULE_PART_BODY;
		d->pattern = field(s->rules, i, 4);
		d->text = field(s->rules, i, 5);
		d->placement =
			placement != NULL && strcmp(placement, "head") == 0 ? RULE_HEAD : RULE_TAIL;
		d->item_key = field(s->rules, i, 7);
		d->fallback = fallback == NULL			  ? FALLBACK_HOLD
			      : strcmp(fallback, "everyone") == 0 ? FALLBACK_EVERYONE
			      : strcmp(fallback, "segment") == 0  ? FALLBACK_SEGMENT
								  : FALLBACK_HOLD;
		d->fallback_target = field(s->rules, i, 9);
		/* Values come in rule order: this rule's are the next run. */
		d->values = &s->values_arr[v];
		while (v < nvalues && strcmp(PQgetvalue(s->values, v, 0), id) == 0) {
			d->nvalues++;
			v++;
		}
	}
	r->n = (size_t)nrules;
	*out = r;
	return HL_OK;
rollback:
	db_rollback(db);
fail:
	store_rules_free(r);
	return st;
}

/* --- the admin's editor --- */

/* One JSON value computed by the server (a single text cell), parsed. */
static enum hl_status json_query(struct db *db, const char *sql, int n, const char *const *params,
				 json_t **out)
{
	PGresult *res = NULL;
	json_error_t jerr;
	enum hl_status st;

	*out = NULL;
	if ((st = db_query(db, sql, n, params, &res)) != HL_OK)
		return st;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		db_set_error(db, "unexpected reply");
		return HL_PERMFAIL;
	}
	*out = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
	PQclear(res);
	if (*out == NULL) {
		db_set_error(db, "cannot parse the database's JSON: %s", jerr.text);
		return HL_TEMPFAIL;
	}
	return HL_OK;
}

enum hl_status store_rules_form(struct db *db, json_t **out)
{
	return json_query(
		db,
		"SELECT coalesce(jsonb_agg(jsonb_build_object("
		" 'id', r.id, 'position', r.position, 'name', r.name, 'kind', r.kind,"
		" 'enabled', r.enabled, 'part', r.part, 'pattern', r.pattern, 'text', r.text,"
		" 'placement', r.placement, 'item', i.key,"
		" 'values', CASE WHEN r.kind = 'keyword' THEN coalesce((SELECT jsonb_agg("
		"   jsonb_build_object('keyword', v.keyword, 'value', sv.key, 'everyone', "
		"v.everyone)"
		"   ORDER BY v.id) FROM mail_rule_values v"
		"   LEFT JOIN segment_values sv ON sv.id = v.value_id WHERE v.rule_id = r.id),"
		"  '[]'::jsonb) END,"
		" 'fallback_action', r.fallback_action, 'fallback_target', r.fallback_target,"
		" 'updated_at', to_char(r.updated_at, 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM'))"
		" ORDER BY r.position, r.id), '[]'::jsonb)::text"
		" FROM mail_rules r LEFT JOIN segment_items i ON i.id = r.target_item_id",
		0, NULL, out);
}

enum hl_status store_rules_items(struct db *db, json_t **out)
{
	return json_query(
		db,
		"SELECT coalesce(jsonb_agg(jsonb_build_object("
		" 'id', i.id, 'key', i.key, 'label', i.label, 'kind', i.kind,"
		" 'retired', i.retired_at IS NOT NULL,"
		" 'values', coalesce((SELECT jsonb_agg(jsonb_build_object('id', v.id, 'key', v.key,"
		"   'label', v.label, 'retired', v.retired_at IS NOT NULL) ORDER BY v.position, "
		"v.id)"
		"   FROM segment_values v WHERE v.item_id = i.id), '[]'::jsonb))"
		" ORDER BY i.position, i.id), '[]'::jsonb)::text FROM segment_items i",
		0, NULL, out);
}

enum hl_status store_rules_check_target(struct db *db, const char *target_json)
{
	const char *params[1] = {target_json};

	return db_query(db, "SELECT target_sql($1::jsonb)", 1, params, NULL);
}

/* Store one rule (update or insert) and its keyword values. */
static enum hl_status replace_one(struct db *db, const struct rule_def *d, size_t index,
				  const char *staff)
{
	bool pat = d->kind == RULE_STRIP || d->kind == RULE_KEYWORD || d->kind == RULE_SENDER_ALLOW;
	bool has_part = d->kind == RULE_STRIP || d->kind == RULE_APPEND || d->kind == RULE_KEYWORD;
	char id[24], pos[24];
	const char *params[13];
	PGresult *res = NULL;
	enum hl_status st;
	size_t k;

	str_msg(id, sizeof(id), "%lld", d->id);
	if (index > 100000000) {
		db_set_error(db, "too many rules");
		return HL_PERMFAIL;
	}
	str_msg(pos, sizeof(pos), "%zu", (index + 1) * 10);
	params[0] = id;
	params[1] = rules_kind_name(d->kind);
	params[2] = pos;
	params[3] = d->enabled ? "true" : "false";
	params[4] = d->name != NULL ? d->name : "";
	params[5] = has_part ? (d->part == RULE_PART_SUBJECT ? "subject" : "body") : NULL;
	params[6] = pat ? d->pattern : NULL;
	params[7] = d->kind == RULE_APPEND ? d->text : NULL;
	params[8] = d->kind == RULE_APPEND ? (d->placement == RULE_HEAD ? "head" : "tail") : NULL;
	params[9] = d->kind == RULE_KEYWORD ? d->item_key : NULL;
	params[10] = d->kind == RULE_FALLBACK ? rules_fallback_name(d->fallback) : NULL;
	params[11] = d->kind == RULE_FALLBACK && d->fallback == FALLBACK_SEGMENT
			     ? d->fallback_target
			     : NULL;
	params[12] = staff;
	st = db_query(
		db,
		d->id > 0 ? "UPDATE mail_rules SET kind = $2, position = $3::integer,"
			    " enabled = $4::boolean, name = $5, part = $6, pattern = $7, text = $8,"
			    " placement = $9,"
			    " target_item_id = (SELECT id FROM segment_items WHERE key = $10),"
			    " fallback_action = $11, fallback_target = $12::jsonb,"
			    " updated_by = $13::bigint WHERE id = $1::bigint RETURNING id"
			  : "INSERT INTO mail_rules (kind, position, enabled, name, part, pattern,"
			    " text, placement, target_item_id, fallback_action, fallback_target,"
			    " updated_by) SELECT $2, $3::integer, $4::boolean, $5, $6, $7, $8, $9,"
			    " (SELECT id FROM segment_items WHERE key = $10), $11, $12::jsonb,"
			    " $13::bigint WHERE $1::bigint = 0 RETURNING id",
		13, params, &res);
	if (st != HL_OK)
		return st;
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_set_error(db, "mail rule %lld does not exist", d->id);
		return HL_PERMFAIL;
	}
	str_msg(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (d->kind != RULE_KEYWORD)
		return HL_OK;
	for (k = 0; k < d->nvalues; k++) {
		const struct rule_value *v = &d->values[k];
		const char *vp[5] = {id, d->item_key, v->keyword, v->everyone ? NULL : v->value_key,
				     v->everyone ? "true" : "false"};

		st = db_query(db,
			      "INSERT INTO mail_rule_values (rule_id, item_id, keyword, value_id,"
			      " everyone) SELECT $1::bigint, i.id, $3, sv.id, $5::boolean"
			      " FROM segment_items i LEFT JOIN segment_values sv"
			      " ON sv.item_id = i.id AND sv.key = $4 WHERE i.key = $2 RETURNING id",
			      5, vp, &res);
		if (st != HL_OK)
			return st;
		if (PQntuples(res) != 1) {
			PQclear(res);
			db_set_error(db, "segment item %s does not exist", d->item_key);
			return HL_PERMFAIL;
		}
		PQclear(res);
	}
	return HL_OK;
}

enum hl_status store_rules_replace(struct db *db, const struct rule_def *defs, size_t n,
				   long long staff_id, store_rules_txn_fn in_txn, void *arg)
{
	char staff[24], *keep = NULL;
	size_t i, len = 0, cap;
	enum hl_status st;
	const char *params[1];

	str_msg(staff, sizeof(staff), "%lld", staff_id);
	/* The ids kept, as a bigint[] literal. */
	if (n > SIZE_MAX / 24 - 2) {
		db_set_error(db, "too many rules");
		return HL_PERMFAIL;
	}
	cap = n * 24 + 3;
	keep = malloc(cap);
	if (keep == NULL) {
		db_set_error(db, "out of memory");
		return HL_TEMPFAIL;
	}
	keep[0] = '\0';
	if (!str_appendf(keep, cap, &len, "{"))
		goto toolong;
	for (i = 0; i < n; i++)
		if (defs[i].id > 0 &&
		    !str_appendf(keep, cap, &len, "%s%lld", len > 1 ? "," : "", defs[i].id))
			goto toolong;
	if (!str_appendf(keep, cap, &len, "}"))
		goto toolong;
	params[0] = keep;

	if ((st = db_exec(db, "BEGIN")) != HL_OK)
		goto done;
	/* One editor at a time; the ingest's readers are not blocked (they
	 * see the old set until COMMIT). */
	if ((st = db_exec(db, "LOCK TABLE mail_rules IN SHARE ROW EXCLUSIVE MODE")) != HL_OK ||
	    (st = db_exec(db, "DELETE FROM mail_rule_values")) != HL_OK ||
	    (st = db_query(db, "DELETE FROM mail_rules WHERE NOT (id = ANY ($1::bigint[]))", 1,
			   params, NULL)) != HL_OK ||
	    /* At most one enabled fallback holds after every statement (a plain
	     * unique index): switch them off, each rule below sets its own. */
	    (st = db_exec(db, "UPDATE mail_rules SET enabled = false"
			      " WHERE kind = 'fallback' AND enabled")) != HL_OK)
		goto rollback;
	for (i = 0; i < n; i++)
		if ((st = replace_one(db, &defs[i], i, staff)) != HL_OK)
			goto rollback;
	if (in_txn != NULL && (st = in_txn(db, arg)) != HL_OK)
		goto rollback;
	st = db_exec(db, "COMMIT");
	goto done;
toolong:
	free(keep);
	db_set_error(db, "too many rules");
	return HL_PERMFAIL;
rollback:
	db_rollback(db);
done:
	free(keep);
	return st;
}
