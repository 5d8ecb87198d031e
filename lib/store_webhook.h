/*
 * store_webhook — SQL of LINE webhook events (webhook_events): the request
 * path stores a request's events, the worker claims them one at a time in
 * per-resident order and marks them done, retried or failed.
 *
 * Every function returns HL_OK, HL_TEMPFAIL (the database is unreachable or
 * busy: try later, nothing was lost) or HL_PERMFAIL (the statement was
 * refused), with the reason in db_error().  One struct db per thread.
 */
#ifndef HL_STORE_WEBHOOK_H
#define HL_STORE_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "status.h"

/* One event as the request path checked it (webhook/events.c). */
struct store_webhook_event {
	const char *id;	     /* webhookEventId */
	const char *type;    /* follow, message, ... */
	const char *user_id; /* source.userId of a user source, or NULL */
	long long timestamp_ms;
	bool redelivery;
	const char *body; /* the event object as JSON text */
};

/* Store n events in one statement (all or none), in the given order.  A
 * webhookEventId already stored is skipped (LINE's redelivery); *stored
 * says how many rows were new. */
enum hl_status store_webhook_insert(struct db *db, const struct store_webhook_event *ev, size_t n,
				    size_t *stored);

/* A claimed event: the caller owns body (free()). */
struct store_webhook_claim {
	long long id;
	long long attempts; /* attempts before this one */
	char *body;
};

/* Open a transaction and lock up to max events that are due and have no
 * earlier pending event of the same resident (events of one resident are
 * handled in event order: an earlier one waiting for a retry holds the
 * later ones back, and a batch holds at most one event per resident), in
 * c[0..*n).  *n 0: nothing to do now, the transaction is closed and
 * *wait_ms is how long until a pending event falls due (-1: none pending).
 * Otherwise the transaction stays open for the handlers' statements, each
 * event under store_webhook_savepoint(), and ends with
 * store_webhook_commit() or store_webhook_abort().  The worker's commits
 * do not wait for the disk (see the .c).  The caller frees each c[i].body. */
enum hl_status store_webhook_claim(struct db *db, size_t max, struct store_webhook_claim *c,
				   size_t *n, long long *wait_ms);

/* SAVEPOINT before an event's handler; store_webhook_rollback_to() undoes
 * the handler's statements (and clears an error state) without losing the
 * other events' work. */
enum hl_status store_webhook_savepoint(struct db *db);
enum hl_status store_webhook_rollback_to(struct db *db);

/* In the claim's transaction: the event is done. */
enum hl_status store_webhook_done(struct db *db, long long id);

/* In the claim's transaction, after store_webhook_rollback_to(): count the
 * attempt, keep the error (one line, no personal data) and either set the
 * next attempt delay_ms from now or, when give_up, mark the event failed. */
enum hl_status store_webhook_retry(struct db *db, long long id, const char *error,
				   long long delay_ms, bool give_up);

/* COMMIT, or ROLLBACK, the claim's transaction. */
enum hl_status store_webhook_commit(struct db *db);
void store_webhook_abort(struct db *db);

#endif
