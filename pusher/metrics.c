/*
 * metrics — the pusher's counters; see metrics.h.
 */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#include "str.h"

static const double bucket_le[8] = {10, 25, 50, 100, 250, 500, 1000, 5000};

void metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
}

void metrics_request(struct metrics *m, double ms)
{
	int i;

	if (ms < 0)
		ms = 0;
	atomic_fetch_add(&m->request_count, 1);
	atomic_fetch_add(&m->request_ms_sum, (long long)ms);
	for (i = 0; i < 8; i++)
		if (ms <= bucket_le[i])
			atomic_fetch_add(&m->request_ms_bucket[i], 1);
}

#define COUNTER(name, help, field)                                                                 \
	str_appendf(out, cap, &len,                                                                \
		    "# HELP " name " " help "\n# TYPE " name " counter\n" name " %lld\n",          \
		    (long long)atomic_load(&m->field))

char *metrics_render(struct metrics *m, bool database_up)
{
	size_t cap = 8192, len = 0;
	char *out = malloc(cap);
	bool ok = true;
	int i;

	if (out == NULL)
		return NULL;
	out[0] = '\0';
	ok &= str_appendf(out, cap, &len,
			  "# HELP hotline_database_up Whether PostgreSQL answers.\n"
			  "# TYPE hotline_database_up gauge\nhotline_database_up %d\n",
			  database_up ? 1 : 0);
	ok &= COUNTER("hotline_pusher_deliveries_started_total", "Deliveries started.",
		      deliveries_started);
	ok &= COUNTER("hotline_pusher_deliveries_held_total",
		      "Deliveries held (LINE's monthly quota).", deliveries_held);
	ok &= COUNTER("hotline_pusher_deliveries_unresolvable_total",
		      "Deliveries failed because their target could not be resolved.",
		      deliveries_failed_to_plan);
	ok &= COUNTER("hotline_pusher_batches_planned_total", "Multicast batches planned.",
		      batches_planned);
	ok &= COUNTER("hotline_pusher_recipients_planned_total",
		      "Residents put in planned batches.", recipients_planned);
	ok &= COUNTER("hotline_pusher_broadcasts_total", "Broadcast requests sent.", broadcasts);
	ok &= COUNTER("hotline_pusher_replies_sent_total",
		      "Answers to residents sent (reply, or push when the token expired).",
		      replies_sent);
	ok &= COUNTER("hotline_pusher_replies_failed_total", "Answers to residents that failed.",
		      replies_failed);
	ok &= COUNTER("hotline_pusher_broadcast_fallbacks_total",
		      "Broadcasts replaced by multicast (LINE's hourly limit).",
		      broadcast_fallbacks);
	ok &= str_appendf(out, cap, &len,
			  "# HELP hotline_pusher_requests_total LINE requests by outcome.\n"
			  "# TYPE hotline_pusher_requests_total counter\n"
			  "hotline_pusher_requests_total{outcome=\"accepted\"} %lld\n"
			  "hotline_pusher_requests_total{outcome=\"retry\"} %lld\n"
			  "hotline_pusher_requests_total{outcome=\"rejected\"} %lld\n"
			  "hotline_pusher_requests_total{outcome=\"quota\"} %lld\n",
			  (long long)atomic_load(&m->requests_accepted),
			  (long long)atomic_load(&m->requests_retried),
			  (long long)atomic_load(&m->requests_rejected),
			  (long long)atomic_load(&m->requests_quota));
	ok &= COUNTER("hotline_pusher_requests_no_answer_total",
		      "LINE requests without an HTTP answer (timeout, refused, reset).",
		      requests_no_answer);
	ok &= COUNTER("hotline_pusher_requests_rate_limited_total", "429 answers (rate limit).",
		      requests_rate_limited);
	ok &= COUNTER("hotline_pusher_recipients_accepted_total",
		      "Residents in requests LINE accepted.", recipients_accepted);
	ok &= COUNTER("hotline_pusher_recipients_failed_total",
		      "Residents in requests that failed for good.", recipients_failed);
	ok &= COUNTER("hotline_pusher_database_errors_total",
		      "Database operations that failed (retried).", db_errors);
	ok &= str_appendf(out, cap, &len,
			  "# HELP hotline_pusher_in_flight LINE requests in flight.\n"
			  "# TYPE hotline_pusher_in_flight gauge\nhotline_pusher_in_flight %lld\n",
			  (long long)atomic_load(&m->in_flight));
	ok &= str_appendf(out, cap, &len,
			  "# HELP hotline_pusher_request_duration_milliseconds LINE request time.\n"
			  "# TYPE hotline_pusher_request_duration_milliseconds histogram\n");
	for (i = 0; i < 8; i++)
		ok &= str_appendf(out, cap, &len,
				  "hotline_pusher_request_duration_milliseconds_bucket{le=\"%g\"} "
				  "%lld\n",
				  bucket_le[i], (long long)atomic_load(&m->request_ms_bucket[i]));
	ok &= str_appendf(out, cap, &len,
			  "hotline_pusher_request_duration_milliseconds_bucket{le=\"+Inf\"} %lld\n"
			  "hotline_pusher_request_duration_milliseconds_sum %lld\n"
			  "hotline_pusher_request_duration_milliseconds_count %lld\n",
			  (long long)atomic_load(&m->request_count),
			  (long long)atomic_load(&m->request_ms_sum),
			  (long long)atomic_load(&m->request_count));
	if (!ok) {
		free(out);
		return NULL;
	}
	return out;
}
