/*
 * worker — hotline-webhook's background thread: it takes the stored
 * webhook events in per-resident order and runs each type's handler
 * (follow, unfollow, text keywords; stubs for postback, location and
 * image that the chatbot, reservations and maps replace later).
 *
 * Each event is handled in one transaction with its "done" mark, so a
 * handler's database work happens once even across crashes.  A handler that
 * fails is retried with exponential back-off (retry_base_ms doubling to
 * retry_max_ms) and marked failed after max_attempts; it never delays
 * LINE's acknowledgement, which the request path sends once the event is
 * stored.  The request path wakes the thread with worker_kick() (a
 * condition variable: no polling); otherwise it sleeps until the next retry
 * falls due.
 */
#ifndef HL_WORKER_H
#define HL_WORKER_H

#include "db.h"

struct worker;

struct worker_opts {
	const char *settings_url; /* copied; "" for none */
	long long retry_base_ms;
	long long retry_max_ms;
	long long max_attempts;
};

/* Start the thread; it takes ownership of db (its own connection) even on
 * failure.  NULL with err. */
struct worker *worker_start(struct db *db, const struct worker_opts *opts, char *err,
			    size_t errlen);

/* New events were stored: look now.  Thread-safe, never blocks for long. */
void worker_kick(struct worker *w);

/* Stop after the event in hand, join the thread, free everything.  Events
 * not handled yet stay pending in the database. */
void worker_stop(struct worker *w);

/* The reply to a text message: a JSON array of LINE messages, malloc'd, or
 * NULL when the text is no keyword.  Pure; exposed for tests. */
char *worker_keyword_reply(const char *text, const char *settings_url);

/* The greeting sent on follow, as a JSON array of LINE messages. */
char *worker_greeting(const char *settings_url);

#endif
