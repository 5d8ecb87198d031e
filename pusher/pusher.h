/*
 * pusher — the fan-out loop: start due deliveries, plan their recipient
 * snapshots, send batches to LINE within its rate limits, record answers.
 *
 * One thread, one loop, no sleep-polling: it waits on the PostgreSQL
 * socket (NOTIFY hotline_delivery), the LINE transfers and the signal fd,
 * with a timeout set by the next thing due (a scheduled delivery, a retry,
 * a rate-limit token).  The database holds all the state (store_push.h),
 * so the loop can be killed at any point and a new one resumes; several
 * can run at once.
 */
#ifndef HL_PUSHER_H
#define HL_PUSHER_H

#include "config.h"
#include "db.h"
#include "metrics.h"

struct pusher;

/* The pusher owns neither cfg, db nor m; it takes plan_db (the planning
 * thread's connection, see planner.h); token is copied.  NULL with err. */
struct pusher *pusher_new(const struct hl_config *cfg, struct db *db, struct db *plan_db,
			  const char *token, struct metrics *m, char *err, size_t errlen);
void pusher_free(struct pusher *p);

/* Run until a stop signal arrives on sfd (the daemon's signalfd); returns
 * the signal number.  In-flight requests are given up to the request
 * timeout to finish and be recorded before it returns. */
int pusher_run(struct pusher *p, int sfd);

#endif
