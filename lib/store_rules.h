/*
 * store_rules — reading the staff-edited mail rules (mail_rules and their
 * keyword value tables) into the definitions rules_compile() takes, and
 * the admin's editor: the whole rule set as JSON, the segment items it can
 * point at, and replacing the set in one transaction.
 *
 * store_rules_load() reads only enabled rules, in position order.  Its
 * result owns every string the definitions point at; free it with
 * store_rules_free() after compiling.  JSON results are new references
 * owned by the caller.  Errors: HL_TEMPFAIL when the database is
 * unreachable or busy, HL_PERMFAIL when it refused the statement (the
 * reason in db_error()).
 */
#ifndef HL_STORE_RULES_H
#define HL_STORE_RULES_H

#include <jansson.h>
#include <stddef.h>

#include "db.h"
#include "rules.h"
#include "status.h"

struct rule_defs {
	struct rule_def *defs;
	size_t n;
	void *storage; /* what defs point into; private */
};

/* Load the enabled rules.  HL_TEMPFAIL when the database is unreachable. */
enum hl_status store_rules_load(struct db *db, struct rule_defs **out);
void store_rules_free(struct rule_defs *r);

/* Every rule, disabled ones too, in position order, as the editor shows
 * them: [{"id","position","name","kind","enabled","part","pattern","text",
 * "placement","item" (segment item key),"values":[{"keyword","value"
 * (segment value key or null),"everyone"}],"fallback_action",
 * "fallback_target","updated_at"}]; fields a kind does not use are null. */
enum hl_status store_rules_form(struct db *db, json_t **out);

/* The segment items a rule can name, retired ones too, in display order:
 * [{"id","key","label","kind","retired","values":[{"id","key","label",
 * "retired"}]}]. */
enum hl_status store_rules_items(struct db *db, json_t **out);

/* Check a target filter (JSON text) the way deliveries use it
 * (target_sql()): HL_PERMFAIL with the database's reason in db_error()
 * when it names unknown items or values or has the wrong shape. */
enum hl_status store_rules_check_target(struct db *db, const char *target_json);

/* Replace the whole rule set by defs (in order; positions become 10, 20,
 * ...) in one transaction, as staff_id: a def with id > 0 updates that rule
 * (so that stored traces keep naming it), id 0 makes a new rule, rules not
 * in defs are deleted.  Keyword values name their item and value by key
 * (item_key, value_key).  in_txn (NULL for none) runs before COMMIT, e.g.
 * to write the audit row with the change; anything but HL_OK from it rolls
 * everything back and is returned.  The caller has validated defs
 * (rules_compile() and the keys); HL_PERMFAIL when the database still
 * refuses, e.g. an id that no longer exists. */
typedef enum hl_status (*store_rules_txn_fn)(struct db *db, void *arg);
enum hl_status store_rules_replace(struct db *db, const struct rule_def *defs, size_t n,
				   long long staff_id, store_rules_txn_fn in_txn, void *arg);

#endif
