/*
 * migrate — `hotlinectl migrate`: apply db/migrations/NNNN_name.sql in
 * order, each in one transaction, recording what was applied.
 *
 * Re-running is a no-op.  A file changed after it was applied is an error
 * (write a new migration instead).  A failing file is rolled back whole and
 * reported as FILE:LINE: the server's message.
 */
#ifndef HL_MIGRATE_H
#define HL_MIGRATE_H

#include <stdbool.h>

#include "db.h"

/* Apply pending migrations from dir (or only list them when status_only).
 * Prints progress to stdout and errors to stderr; 0 or -1. */
int migrate_run(struct db *db, const char *dir, bool status_only);

#endif
