/*
 * metrics — the pusher's counters, rendered in Prometheus' text format
 * (version 0.0.4) for GET /metrics.
 *
 * The fan-out loop adds to them and the HTTP thread reads them, so every
 * field is a C11 atomic; one struct per process, owned by main().
 */
#ifndef HL_PUSHER_METRICS_H
#define HL_PUSHER_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>

struct metrics {
	atomic_llong deliveries_started;
	atomic_llong deliveries_held;
	atomic_llong deliveries_failed_to_plan;
	atomic_llong batches_planned;
	atomic_llong recipients_planned;
	atomic_llong requests_accepted;
	atomic_llong requests_retried;
	atomic_llong requests_rejected;
	atomic_llong requests_quota;
	atomic_llong requests_no_answer;
	atomic_llong requests_rate_limited;
	atomic_llong recipients_accepted;
	atomic_llong recipients_failed;
	atomic_llong broadcasts;
	atomic_llong replies_sent;
	atomic_llong replies_failed;
	atomic_llong broadcast_fallbacks;
	atomic_llong db_errors;
	atomic_llong in_flight;
	atomic_llong request_ms_sum;
	atomic_llong request_ms_bucket[8]; /* <= 10, 25, 50, 100, 250, 500, 1000, 5000 ms */
	atomic_llong request_count;
};

void metrics_init(struct metrics *m);

/* Count one answered or failed LINE request that took ms. */
void metrics_request(struct metrics *m, double ms);

/* The text for /metrics, malloc'd (the caller frees); database_up is the
 * health of the HTTP thread's own connection.  NULL when out of memory. */
char *metrics_render(struct metrics *m, bool database_up);

#endif
