/*
 * store_schema — the schema_migrations bookkeeping behind `hotlinectl
 * migrate`.  Each migration runs in its own transaction together with the
 * row that records it, so a migration is either applied and recorded or
 * neither; concurrent runs serialise on an advisory lock.
 */
#ifndef HL_STORE_SCHEMA_H
#define HL_STORE_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "status.h"

/* Create schema_migrations if missing. */
enum hl_status store_schema_init(struct db *db);

/* The checksum recorded for version into out (empty when not applied). */
enum hl_status store_schema_applied(struct db *db, int version, char *out, size_t outlen);

/* Run sql and record (version, name, checksum) in one transaction.  On
 * failure nothing stays, and *err_offset is the 1-based character offset of
 * the error in sql when the server reported one (else 0). */
enum hl_status store_schema_apply(struct db *db, int version, const char *name,
				  const char *checksum, const char *sql, long *err_offset,
				  bool *already);

#endif
