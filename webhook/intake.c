/*
 * intake — group commit of webhook events; see intake.h.
 */
#include "intake.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

struct intake_req {
	const struct store_webhook_event *ev;
	size_t n;
	enum hl_status st;
	char err[200];
	bool done;
	/* Signalled when done: each waiting request has its own, so that a
	 * commit wakes only the requests it carried (a shared one woke every
	 * waiting HTTP thread after each commit, most of them to sleep again). */
	pthread_cond_t cond;
	struct intake_req *next;
};

struct intake {
	struct db *db;
	size_t max_events;
	intake_stored_fn fn;
	void *arg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct intake_req *head, **tail;
	bool stopping;
	struct store_webhook_event *rows; /* the committer's batch buffer */
};

/* Store reqs[0..n) in one statement; the outcome into each. */
static void commit(struct intake *in, struct intake_req **reqs, size_t n)
{
	size_t i, total = 0, stored = 0;
	enum hl_status st;

	for (i = 0; i < n; i++) {
		memcpy(in->rows + total, reqs[i]->ev, reqs[i]->n * sizeof(*in->rows));
		total += reqs[i]->n;
	}
	st = store_webhook_insert(in->db, in->rows, total, &stored);
	if (st == HL_PERMFAIL && n > 1) {
		/* One request's events refused: do not fail the others. */
		for (i = 0; i < n; i++)
			commit(in, reqs + i, 1);
		return;
	}
	for (i = 0; i < n; i++) {
		reqs[i]->st = st;
		if (st != HL_OK)
			str_msg(reqs[i]->err, sizeof(reqs[i]->err), "%s", db_error(in->db));
	}
	if (stored > 0 && in->fn != NULL)
		in->fn(in->arg);
}

static void *run(void *arg)
{
	struct intake *in = arg;
	struct intake_req **batch;
	size_t cap = 64;

	if ((batch = malloc(cap * sizeof(*batch))) == NULL)
		cap = 0;
	pthread_mutex_lock(&in->lock);
	for (;;) {
		size_t n = 0, events = 0, i;

		while (in->head == NULL && !in->stopping)
			pthread_cond_wait(&in->work, &in->lock);
		if (in->head == NULL && in->stopping)
			break;
		/* Take what is waiting, up to max_events (at least one request). */
		while (in->head != NULL && n < cap &&
		       (n == 0 || events + in->head->n <= in->max_events)) {
			batch[n++] = in->head;
			events += in->head->n;
			if ((in->head = in->head->next) == NULL)
				in->tail = &in->head;
		}
		if (n == 0) { /* no memory for a batch: refuse, do not spin */
			in->head->st = HL_TEMPFAIL;
			str_msg(in->head->err, sizeof(in->head->err), "out of memory");
			in->head->done = true;
			pthread_cond_signal(&in->head->cond);
			if ((in->head = in->head->next) == NULL)
				in->tail = &in->head;
			continue;
		}
		pthread_mutex_unlock(&in->lock);
		commit(in, batch, n);
		pthread_mutex_lock(&in->lock);
		for (i = 0; i < n; i++) {
			batch[i]->done = true;
			pthread_cond_signal(&batch[i]->cond);
		}
	}
	pthread_mutex_unlock(&in->lock);
	free(batch);
	return NULL;
}

struct intake *intake_start(struct db *db, size_t max_events, intake_stored_fn fn, void *arg)
{
	struct intake *in = calloc(1, sizeof(*in));

	if (in == NULL || max_events == 0 ||
	    (in->rows = calloc(max_events, sizeof(*in->rows))) == NULL)
		goto fail;
	in->db = db;
	in->max_events = max_events;
	in->fn = fn;
	in->arg = arg;
	in->tail = &in->head;
	pthread_mutex_init(&in->lock, NULL);
	pthread_cond_init(&in->work, NULL);
	if (pthread_create(&in->thread, NULL, run, in) != 0) {
		pthread_cond_destroy(&in->work);
		pthread_mutex_destroy(&in->lock);
		goto fail;
	}
	return in;
fail:
	if (in != NULL)
		free(in->rows);
	free(in);
	db_free(db);
	return NULL;
}

enum hl_status intake_store(struct intake *in, const struct store_webhook_event *ev, size_t n,
			    char *err, size_t errlen)
{
	struct intake_req r = {.ev = ev, .n = n, .st = HL_TEMPFAIL};

	if (n > in->max_events) {
		str_msg(err, errlen, "too many events for one statement");
		return HL_PERMFAIL;
	}
	pthread_mutex_lock(&in->lock);
	if (in->stopping) {
		pthread_mutex_unlock(&in->lock);
		str_msg(err, errlen, "shutting down");
		return HL_TEMPFAIL;
	}
	pthread_cond_init(&r.cond, NULL);
	*in->tail = &r;
	in->tail = &r.next;
	pthread_cond_signal(&in->work);
	while (!r.done)
		pthread_cond_wait(&r.cond, &in->lock);
	pthread_mutex_unlock(&in->lock);
	pthread_cond_destroy(&r.cond);
	if (r.st != HL_OK)
		str_msg(err, errlen, "%s", r.err);
	return r.st;
}

void intake_stop(struct intake *in)
{
	if (in == NULL)
		return;
	pthread_mutex_lock(&in->lock);
	in->stopping = true;
	pthread_cond_signal(&in->work);
	pthread_mutex_unlock(&in->lock);
	pthread_join(in->thread, NULL);
	pthread_cond_destroy(&in->work);
	pthread_mutex_destroy(&in->lock);
	db_free(in->db);
	free(in->rows);
	free(in);
}
