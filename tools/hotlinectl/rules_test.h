/*
 * rules_test — `hotlinectl rules test MAIL_FILE [--from SENDER]`: what the
 * mail bridge would make of a mail with the rules now in the database,
 * without storing or sending anything: the decoded subject, the rule trace,
 * the LINE messages and the target filter.  The admin UI's test panel shows
 * the same thing.
 */
#ifndef HL_RULES_TEST_H
#define HL_RULES_TEST_H

#include <stdio.h>

#include "db.h"

/* Print the preview of the mail in path to out; 0, or -1 with the reason
 * on stderr. */
int rules_test(struct db *db, const char *path, const char *envelope_from, FILE *out);

#endif
