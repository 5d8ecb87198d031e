/*
 * planner — the pusher's planning thread; see planner.h.
 */
#include "planner.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "store_push.h"
#include "str.h"

/* After a database error, wait before the next try (doubling up to MAX). */
#define RETRY_MS     1000
#define RETRY_MAX_MS 10000
/* A delivery still unplanned but locked (another pusher plans it, or an
 * answer is being recorded): look again after this long. */
#define PENDING_RETRY_MS 50
/* The largest chunk (batches of 500) after the first ones: 100,000
 * residents a transaction, ~0.1 s of planning on the bench's machine, so
 * the send loop is never long without new batches (see store_push_plan). */
#define CHUNK_MAX_BATCHES 200

struct planner {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool kicked, stopping;
	struct db *db;
	struct metrics *m;
	int chunk_batches;
};

/* Wait until kicked or stopping, or until ms have passed (ms < 0: no
 * limit).  Returns false when stopping. */
static bool wait_for_kick(struct planner *pl, long ms)
{
	struct timespec until;
	bool go;

	clock_gettime(CLOCK_REALTIME, &until);
	if (ms >= 0) {
		until.tv_sec += ms / 1000;
		until.tv_nsec += (ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&pl->lock);
	while (!pl->kicked && !pl->stopping) {
		if (ms < 0)
			pthread_cond_wait(&pl->wake, &pl->lock);
		else if (pthread_cond_timedwait(&pl->wake, &pl->lock, &until) == ETIMEDOUT)
			break;
	}
	pl->kicked = false;
	go = !pl->stopping;
	pthread_mutex_unlock(&pl->lock);
	return go;
}

static bool stopping(struct planner *pl)
{
	bool s;

	pthread_mutex_lock(&pl->lock);
	s = pl->stopping;
	pthread_mutex_unlock(&pl->lock);
	return s;
}

static void *run(void *arg)
{
	struct planner *pl = arg;
	struct push_planned res;
	long retry_ms = -1, next_retry = RETRY_MS;
	bool found, down = false;

	while (wait_for_kick(pl, retry_ms)) {
		retry_ms = -1;
		/* Plan until there is nothing left (or we are told to stop). */
		while (!stopping(pl)) {
			if (store_push_plan(pl->db, pl->chunk_batches, CHUNK_MAX_BATCHES, &res,
					    &found) != HL_OK) {
				atomic_fetch_add(&pl->m->db_errors, 1);
				if (!down)
					log_warn("database error, will retry",
						 "during=plan error=\"%s\"", db_error(pl->db));
				down = true;
				retry_ms = next_retry;
				next_retry = next_retry * 2 > RETRY_MAX_MS ? RETRY_MAX_MS
									   : next_retry * 2;
				break;
			}
			if (down)
				log_info("database back", "during=plan");
			down = false;
			next_retry = RETRY_MS;
			if (!found) {
				/* Locked by someone else for now: look again
				 * shortly, until it is planned. */
				if (res.pending)
					retry_ms = PENDING_RETRY_MS;
				break;
			}
			if (res.failed) {
				atomic_fetch_add(&pl->m->deliveries_failed_to_plan, 1);
				log_error("delivery failed: its target cannot be resolved",
					  "delivery=%lld error=\"%s\"", res.delivery_id,
					  db_error(pl->db));
				continue;
			}
			atomic_fetch_add(&pl->m->batches_planned, res.batches);
			atomic_fetch_add(&pl->m->recipients_planned, res.recipients);
			log_debug("planned", "delivery=%lld batches=%d recipients=%d complete=%d",
				  res.delivery_id, res.batches, res.recipients, res.complete);
			if (res.complete && store_push_finish(pl->db, res.delivery_id) != HL_OK)
				log_warn("cannot finish a delivery; the send loop will",
					 "delivery=%lld error=\"%s\"", res.delivery_id,
					 db_error(pl->db));
		}
	}
	return NULL;
}

struct planner *planner_start(struct db *db, int chunk_batches, struct metrics *m, char *err,
			      size_t errlen)
{
	struct planner *pl = calloc(1, sizeof(*pl));

	if (pl == NULL) {
		str_msg(err, errlen, "out of memory");
		db_free(db);
		return NULL;
	}
	pl->db = db;
	pl->m = m;
	pl->chunk_batches = chunk_batches;
	pthread_mutex_init(&pl->lock, NULL);
	pthread_cond_init(&pl->wake, NULL);
	if (pthread_create(&pl->thread, NULL, run, pl) != 0) {
		str_msg(err, errlen, "cannot start the planning thread");
		pthread_cond_destroy(&pl->wake);
		pthread_mutex_destroy(&pl->lock);
		db_free(db);
		free(pl);
		return NULL;
	}
	return pl;
}

void planner_kick(struct planner *pl)
{
	pthread_mutex_lock(&pl->lock);
	pl->kicked = true;
	pthread_cond_signal(&pl->wake);
	pthread_mutex_unlock(&pl->lock);
}

void planner_stop(struct planner *pl)
{
	if (pl == NULL)
		return;
	pthread_mutex_lock(&pl->lock);
	pl->stopping = true;
	pthread_cond_signal(&pl->wake);
	pthread_mutex_unlock(&pl->lock);
	pthread_join(pl->thread, NULL);
	pthread_cond_destroy(&pl->wake);
	pthread_mutex_destroy(&pl->lock);
	db_free(pl->db);
	free(pl);
}
