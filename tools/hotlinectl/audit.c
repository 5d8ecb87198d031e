/*
 * audit — `hotlinectl audit verify`; see audit.h.
 */
#include "audit.h"

#include <stdbool.h>

#include "store_audit.h"

int audit_verify_cmd(struct db *db, FILE *out)
{
	struct audit_check check;
	bool intact = false;
	long long first_bad = 0;

	if (store_audit_recompute(db, &check) != HL_OK ||
	    store_audit_verify(db, &intact, &first_bad) != HL_OK) {
		fprintf(stderr, "hotlinectl: cannot read the audit log: %s\n", db_error(db));
		return 1;
	}
	if (check.first_bad != 0) {
		fprintf(out, "audit log BROKEN at id %lld: %s\n", check.first_bad, check.why);
		return 1;
	}
	if (!intact) {
		/* Our recomputation passes but the database's does not: its
		 * function or the canonical text changed. */
		fprintf(out,
			"audit log BROKEN: audit_verify() reports id %lld, the recomputation "
			"does not\n",
			first_bad);
		return 1;
	}
	fprintf(out, "audit log intact: %lld rows\n", check.rows);
	return 0;
}
