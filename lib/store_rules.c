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
