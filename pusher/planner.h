/*
 * planner — plans the recipient snapshots of sending deliveries in a
 * thread of its own, with its own database connection.
 *
 * Planning a large segment is the pusher's heaviest database work (a walk
 * over the residents and an INSERT of the batches, chunk after chunk);
 * done in the send loop it would stall the LINE requests in flight and
 * waste rate-limit time.  Here the loop only kicks the planner when a
 * delivery starts (and once at start-up, to resume after a crash); the
 * planner plans until nothing is left to plan, and each committed chunk
 * NOTIFYs hotline_delivery, which wakes the loop to claim the new batches.
 * It waits on a condition variable in between: no polling.
 */
#ifndef HL_PUSHER_PLANNER_H
#define HL_PUSHER_PLANNER_H

#include <stddef.h>

#include "db.h"
#include "metrics.h"

struct planner;

/* Start the thread; it takes ownership of db.  NULL with err. */
struct planner *planner_start(struct db *db, int chunk_batches, struct metrics *m, char *err,
			      size_t errlen);

/* There may be something to plan. */
void planner_kick(struct planner *pl);

/* Stop after the chunk in progress, join, free.  NULL is a no-op. */
void planner_stop(struct planner *pl);

#endif
