/*
 * store_audit — the append-only, hash-chained audit log (audit_log).
 *
 * Rows are only ever appended; the database's insert trigger assigns the
 * id, the time and the chain hashes (db/migrations/0002), so a caller
 * supplies who, what, to what and from where, nothing else.  detail must
 * be a JSON object without passwords, secrets, codes or session ids.
 * Errors are enum hl_status with db_error() saying why.
 */
#ifndef HL_STORE_AUDIT_H
#define HL_STORE_AUDIT_H

#include <stdbool.h>

#include "db.h"
#include "status.h"

struct audit_entry {
	long long actor_staff_id; /* 0: none (hotlinectl, system, unknown login) */
	const char *actor;	  /* login, "hotlinectl", "system"... (1-200 bytes) */
	const char *action;	  /* dotted name: staff.login, staff.login_failed... */
	const char *target;	  /* "<kind>:<id>" or NULL */
	const char *detail;	  /* JSON object text, or NULL for {} */
	const char *ip;		  /* client address as text, or NULL */
	const char *user_agent;	  /* or NULL; cut to 512 bytes of printable ASCII */
};

/* Append one row. */
enum hl_status store_audit_append(struct db *db, const struct audit_entry *e);

/* Recompute the chain with audit_verify(): *intact true, or false with
 * *first_bad the first broken id. */
enum hl_status store_audit_verify(struct db *db, bool *intact, long long *first_bad);

/* What store_audit_recompute() found. */
struct audit_check {
	long long rows;	     /* rows read */
	long long first_bad; /* 0: intact; else the first broken id */
	const char *why;     /* what is wrong with it (a constant), or NULL */
};

/* Recompute the chain here, independently of the database's functions:
 * the canonical text of docs/schema.md ("Audit chain") and SHA-256 in
 * OpenSSL, row by row in id order, then the chain head.  Reads in batches,
 * so the log may be of any length. */
enum hl_status store_audit_recompute(struct db *db, struct audit_check *out);

#endif
