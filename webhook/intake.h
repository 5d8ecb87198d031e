/*
 * intake — group commit of webhook events: the HTTP threads hand their
 * request's events to one committer thread, which stores everything that
 * is waiting in one INSERT (one transaction, one WAL flush) and then
 * releases every waiting request with its outcome.
 *
 * Why: each acknowledgement must wait for a durable commit, and a commit
 * costs a disk flush (about 1.5 ms on the development VM).  One flush per
 * request caps a server at roughly 1/flush requests per connection; one
 * flush for all the requests that arrived during the previous flush keeps
 * latency near two flushes while throughput grows with the load.  A batch
 * the database refuses (a permanent error) is retried request by request,
 * so one bad request cannot fail the others.
 */
#ifndef HL_INTAKE_H
#define HL_INTAKE_H

#include <stddef.h>

#include "db.h"
#include "status.h"
#include "store_webhook.h"

struct intake;

/* Called by the committer after it stored at least one new event. */
typedef void (*intake_stored_fn)(void *arg);

/* Start the committer with its own connection (owned, even on failure);
 * at most max_events events go into one statement.  NULL when out of
 * memory or the thread cannot start. */
struct intake *intake_start(struct db *db, size_t max_events, intake_stored_fn fn, void *arg);

/* Store n events (the pointers must stay valid until it returns) and wait
 * until they are committed: HL_OK, or HL_TEMPFAIL / HL_PERMFAIL with the
 * database's reason in err.  Thread-safe. */
enum hl_status intake_store(struct intake *in, const struct store_webhook_event *ev, size_t n,
			    char *err, size_t errlen);

/* Finish the requests in hand, stop the thread, free everything. */
void intake_stop(struct intake *in);

#endif
