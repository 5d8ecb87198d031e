/*
 * store_push — the pusher's SQL: starting due deliveries, planning their
 * recipient snapshot in chunks, claiming batches to send, and recording
 * what LINE answered.
 *
 * Exactly once rests on the order of things: a batch (with its fixed retry
 * key and recipient snapshot) is committed before it is sent; a claimed
 * batch carries a lease (next_attempt_at in the future), so another pusher
 * does not send it while this one is waiting for LINE, and takes it over
 * with the same retry key once the lease ran out; an answer is recorded in
 * one transaction with the delivery's counters.  Several pushers share the
 * work through FOR UPDATE SKIP LOCKED.
 *
 * Every function returns HL_OK, HL_TEMPFAIL (the database is unreachable
 * or busy: try again, nothing was lost) or HL_PERMFAIL (a bug or a broken
 * row: db_error() says what), and leaves no transaction open.
 */
#ifndef HL_STORE_PUSH_H
#define HL_STORE_PUSH_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "status.h"

/* LISTEN for new and rescheduled deliveries (repeat after a reconnect). */
enum hl_status store_push_listen(struct db *db);

/* A delivery that was due and has just been started. */
struct push_started {
	long long id;
	bool broadcast;	     /* one broadcast batch was planned */
	bool held;	     /* held instead of started (the quota) */
	long long audience;  /* active residents in its audience (-1: not counted) */
	char source[16];     /* mail, staff, reminder, system */
	int planned_batches; /* multicast: the first chunk, planned in the same transaction */
	int planned_recipients;
	bool planned_complete;
};

/*
 * Start the next due delivery (queued, or scheduled with send_at passed):
 * mark it sending.  When it is for everyone (not a test), may_broadcast is
 * true and fewer than broadcasts_per_hour broadcasts were sent in the last
 * hour, plan it as one broadcast batch; otherwise it is planned later as
 * multicast batches (store_push_plan).  When quota_left >= 0 (LINE's
 * monthly quota is limited) and the audience is larger, hold it with the
 * reason instead.  A multicast delivery gets its first chunk of up to
 * plan_batches batches planned in the same transaction.  *found is false
 * when nothing is due.
 */
enum hl_status store_push_start_due(struct db *db, bool may_broadcast, int broadcasts_per_hour,
				    long long quota_left, int plan_batches,
				    struct push_started *out, bool *found);

/* What one planning step did. */
struct push_planned {
	long long delivery_id;
	int batches;	/* batches written */
	int recipients; /* residents in them */
	bool complete;	/* the snapshot is complete */
	bool failed;	/* its target could not be resolved: the delivery failed */
	bool pending;	/* none found, but some delivery is locked while still unplanned */
};

/* Plan the next chunk of one delivery that is sending and not fully
 * planned, and that no other pusher is planning: as many batches as the
 * delivery already has (chunks double), at least min_batches and at most
 * max_batches.  NOTIFY hotline_delivery with it when it wrote batches.
 * *found is false when there is none. */
enum hl_status store_push_plan(struct db *db, int min_batches, int max_batches,
			       struct push_planned *out, bool *found);

/* A batch claimed for sending. */
struct push_batch {
	long long delivery_id;
	int batch_no;
	bool broadcast;
	int attempts;	    /* including this one */
	int recipients;	    /* user ids in to (0 for a broadcast) */
	char retry_key[40]; /* uuid */
	char *messages;	    /* the delivery's messages JSON array */
	char *to;	    /* comma-separated LINE user ids (active now); NULL for a broadcast */
	double age_s;	    /* seconds since the batch was planned */
};

void push_batch_clear(struct push_batch *b);

/*
 * Claim up to max due batches of sending deliveries (broadcast ones when
 * broadcast is true, else multicast), leasing each for lease_s seconds.
 * Fills out[0..*n); the caller push_batch_clear()s each.
 */
enum hl_status store_push_claim(struct db *db, bool broadcast, int max, int lease_s,
				struct push_batch *out, int *n);

enum push_outcome {
	PUSH_SENT,	   /* LINE accepted it (or had: 409 with the accepted id) */
	PUSH_RETRY,	   /* try again after retry_ms */
	PUSH_FAILED,	   /* refused for good; error kept */
	PUSH_EMPTY,	   /* nobody left to send to (all blocked since planning) */
	PUSH_TO_MULTICAST, /* broadcast refused by the hourly limit: replan as multicast */
	PUSH_HOLD,	   /* the monthly quota is used up: hold the delivery */
};

/* LINE's answer to one batch, to record. */
struct push_result {
	long long delivery_id;
	int batch_no;
	enum push_outcome outcome;
	int recipients;	 /* residents the request went to (sent or failed) */
	int http_status; /* 0 = no answer */
	long retry_ms;
	const char *request_id; /* x-line-request-id / x-line-accepted-request-id */
	const char *error;	/* LINE's error, or why; "" for none */
};

/* Record results in one transaction, then finish every delivery whose
 * batches are all done (done, or failed when nothing was accepted). */
enum hl_status store_push_record(struct db *db, const struct push_result *r, size_t n);

/* Finish a delivery that is fully planned and has no batch left to send
 * (one planned to nobody).  Harmless when it does not apply. */
enum hl_status store_push_finish(struct db *db, long long delivery_id);

/* A reply to one resident (line_replies), claimed for sending. */
struct push_reply {
	long long id;
	int attempts;	       /* including this one */
	double age_s;	       /* since it was queued (a reply token lives about a minute) */
	char *reply_token;     /* NULL when there is none */
	char *messages;	       /* JSON array */
	char line_user_id[40]; /* "" when the resident blocked the account since */
	char retry_key[40];    /* for a push */
	bool pushed_before;    /* an earlier attempt chose push (the token was refused) */
};

void push_reply_clear(struct push_reply *r);

/* Claim up to max due replies, leasing each for lease_s seconds. */
enum hl_status store_push_claim_replies(struct db *db, int max, int lease_s, struct push_reply *out,
					int *n);

/* What became of a reply. */
struct push_reply_result {
	long long id;
	enum push_outcome outcome; /* PUSH_SENT, PUSH_RETRY or PUSH_FAILED */
	const char *method;	   /* "reply" or "push" */
	long retry_ms;
	const char *request_id;
	const char *error;
};

/* Record reply results in one transaction. */
enum hl_status store_push_record_replies(struct db *db, const struct push_reply_result *r,
					 size_t n);

/* Milliseconds until the next scheduled delivery or batch retry is due
 * (0 when one is due now, -1 when there is none); replies count too.
 * Planning is not counted: the planner wakes the loops by NOTIFY. */
enum hl_status store_push_next_due_ms(struct db *db, long long *ms);

#endif
