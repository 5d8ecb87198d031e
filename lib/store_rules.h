/*
 * store_rules — reading the staff-edited mail rules (mail_rules and their
 * keyword value tables) into the definitions rules_compile() takes.
 *
 * Only enabled rules are read, in position order.  The result owns every
 * string the definitions point at; free it with store_rules_free() after
 * compiling.
 */
#ifndef HL_STORE_RULES_H
#define HL_STORE_RULES_H

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

#endif
