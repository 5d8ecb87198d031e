/*
 * store_deliveries — the staff side of deliveries: drafts checked against
 * the database (targets, scope, send times, categories), the live count,
 * creating, cancelling and approving deliveries, and the history.
 *
 * Deliveries come back as JSON text built by the database's
 * delivery_json() (db/migrations/0013): the caller parses it and owns the
 * malloc'd string.  The scope rule of a 一般職員 is the SQL function
 * staff_target_allowed(), which a trigger also enforces on every staff
 * delivery, so the rule holds whatever the client.  "Problems" are
 * Japanese sentences for staff (malloc'd, NULL when there is none).
 * Errors are enum hl_status with db_error() saying why; a lost database is
 * HL_TEMPFAIL.
 */
#ifndef HL_STORE_DELIVERIES_H
#define HL_STORE_DELIVERIES_H

#include <stdbool.h>

#include "db.h"
#include "status.h"

/* What is wrong with a target filter (JSON object text), or *problem NULL. */
enum hl_status store_deliveries_target_problem(struct db *db, const char *target, char **problem);

/* Why staff account staff may not send to (everyone, target), or *problem
 * NULL when it may (staff_target_allowed()). */
enum hl_status store_deliveries_scope_problem(struct db *db, long long staff, bool everyone,
					      const char *target, char **problem);

/* What is wrong with a requested send time (ISO 8601 with an offset, in
 * the future, at most a year ahead), or *problem NULL. */
enum hl_status store_deliveries_send_at_problem(struct db *db, const char *send_at, char **problem);

/* The Japanese label of a category value key (segment item "category");
 * *label NULL when there is no such value. */
enum hl_status store_deliveries_category_label(struct db *db, const char *key, char **label);

/* Active residents the audience reaches now: testers when test, all when
 * everyone, else the target (which must be valid: check it first). */
enum hl_status store_deliveries_count(struct db *db, bool everyone, const char *target, bool test,
				      long long *count);

/* Setting delivery.require_approval. */
enum hl_status store_deliveries_approval_required(struct db *db, bool *required);
enum hl_status store_deliveries_set_approval_required(struct db *db, bool required,
						      long long staff);

/* Transactions around a change and its audit row. */
enum hl_status store_deliveries_begin(struct db *db);
enum hl_status store_deliveries_commit(struct db *db);

struct delivery_new {
	const char *title;    /* may be "" */
	const char *messages; /* JSON array text from message_build() */
	bool everyone;
	const char *target; /* JSON object text or NULL */
	bool is_test;
	const char *status;  /* queued, scheduled or pending_approval */
	const char *send_at; /* checked ISO 8601 text or NULL */
	long long created_by;
};

/* Insert a staff delivery; *json its delivery_json() with messages. */
enum hl_status store_deliveries_create(struct db *db, const struct delivery_new *d, char **json);

/* One delivery (with its messages when messages), *json NULL when there is
 * no such delivery. */
enum hl_status store_deliveries_get(struct db *db, long long id, bool messages, char **json);

/* Cancel a delivery that has not started (queued, scheduled,
 * pending_approval or held), as staff; *json NULL when it is in no state
 * to be cancelled (or does not exist). */
enum hl_status store_deliveries_cancel(struct db *db, long long id, long long staff, char **json);

/* Approve a pending_approval delivery as staff (never its author): it
 * becomes scheduled when send_at is in the future, else queued.  *json
 * NULL when it was not pending approval. */
enum hl_status store_deliveries_approve(struct db *db, long long id, long long staff, char **json);

/* A page of the history, newest first: a JSON array text of at most limit
 * deliveries with id < before (0: from the newest), filtered by status and
 * source when not NULL. */
enum hl_status store_deliveries_list(struct db *db, const char *status, const char *source,
				     long long before, long long limit, char **json);

#endif
