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

/* --- search (hotline-admin's 監査ログ) ------------------------------------ */

/* Filters; NULL / 0 = not filtered. */
struct audit_filter {
	const char *actor;  /* exact actor text (the staff login) */
	const char *action; /* action prefix: "staff" or "staff.login" */
	const char *from;   /* YYYY-MM-DD: from 00:00 of that day, Japan time */
	const char *to;	    /* YYYY-MM-DD: up to the end of that day, Japan time */
	long long before;   /* only ids below this */
	long long limit;    /* at most this many rows; 0: no limit */
};

/* One row as found; the strings live until fn returns. */
struct audit_row {
	long long id;
	const char *at;	    /* ISO 8601 in Japan time: 2026-11-25T09:00:00+09:00 */
	const char *actor;  /* text */
	const char *action; /* dotted name */
	const char *target; /* or NULL */
	const char *detail; /* JSON object text */
	const char *ip;	    /* or NULL */
};

/* fn returns false to stop early (then the search returns HL_PERMFAIL with
 * db_error() "stopped"). */
typedef bool (*audit_row_fn)(void *ctx, const struct audit_row *r);

/* Rows matching f, newest (highest id) first, passed to fn one by one;
 * *rows says how many.  A bad date is HL_PERMFAIL (the caller validates
 * the format first). */
enum hl_status store_audit_search(struct db *db, const struct audit_filter *f, audit_row_fn fn,
				  void *ctx, long long *rows);

/* audit_verify() and the number of rows, in one snapshot. */
enum hl_status store_audit_verify_rows(struct db *db, bool *intact, long long *first_bad,
				       long long *rows);

#endif
