/* Unit tests for pusher/ratelimit: token buckets and back-off, time and
 * chance driven by hand. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ratelimit.h"

static void init_refuses_bad_arguments(void **state)
{
	struct rate_bucket b;

	(void)state;
	assert_false(rate_init(&b, 0, 1000, 1, 0));
	assert_false(rate_init(&b, 1, 0, 1, 0));
	assert_false(rate_init(&b, 1, 1000, 0, 0));
	assert_false(rate_init(&b, 1, 1000, -5, 0));
	assert_false(rate_init(&b, 1, LONG_MAX, LONG_MAX, 0));
	assert_false(rate_init(NULL, 1, 1000, 1, 0));
	assert_true(rate_init(&b, 200, 1000, 200, 0));
}

/* A full bucket gives its burst at once, then one token per period/rate. */
static void burst_then_steady_rate(void **state)
{
	struct rate_bucket b;
	int i;

	(void)state;
	assert_true(rate_init(&b, 200, 1000, 10, 5000));
	for (i = 0; i < 10; i++)
		assert_int_equal(rate_take(&b, 5000), 0);
	/* 200/s: the next token in 5 ms. */
	assert_int_equal(rate_take(&b, 5000), 5);
	assert_int_equal(rate_take(&b, 5003), 2);
	assert_int_equal(rate_take(&b, 5005), 0);
	assert_int_equal(rate_take(&b, 5005), 5);
	/* A refused take consumes nothing: still 5 ms later. */
	assert_int_equal(rate_take(&b, 5010), 0);
}

/* Over a long run the bucket allows exactly rate per period (plus burst),
 * with no drift from rounding. */
static void long_run_has_no_drift(void **state)
{
	struct rate_bucket b;
	long long now = 0;
	long taken = 0;

	(void)state;
	assert_true(rate_init(&b, 3, 1000, 1, 0)); /* 3/s: 333.3 ms apart */
	while (now <= 60000) {
		long w = rate_take(&b, now);

		if (w == 0) {
			taken++;
			continue;
		}
		assert_true(w >= 1);
		now += w;
	}
	/* 1 at t=0 plus 3 per second for 60 s. */
	assert_int_equal(taken, 1 + 180);
}

/* Idle time refills only up to the burst. */
static void idle_refills_up_to_burst(void **state)
{
	struct rate_bucket b;
	int i;

	(void)state;
	assert_true(rate_init(&b, 2000, 1000, 50, 0));
	for (i = 0; i < 50; i++)
		assert_int_equal(rate_take(&b, 0), 0);
	assert_true(rate_take(&b, 0) > 0);
	/* A day later (and a jump that would overflow a naive product). */
	for (i = 0; i < 50; i++)
		assert_int_equal(rate_take(&b, 86400000LL), 0);
	assert_int_equal(rate_take(&b, 86400000LL), 1);
	for (i = 0; i < 50; i++)
		assert_int_equal(rate_take(&b, LLONG_MAX / 2), 0);
	assert_int_equal(rate_take(&b, LLONG_MAX / 2), 1);
}

/* LINE's broadcast limit: 60 per hour. */
static void hourly_limit(void **state)
{
	struct rate_bucket b;

	(void)state;
	assert_true(rate_init(&b, RATE_BROADCAST_PER_H, 3600000, 1, 0));
	assert_int_equal(rate_peek(&b, 0), 0);
	assert_int_equal(rate_take(&b, 0), 0);
	assert_int_equal(rate_peek(&b, 0), 60000);
	assert_int_equal(rate_take(&b, 0), 60000);
	assert_int_equal(rate_take(&b, 59999), 1);
	assert_int_equal(rate_take(&b, 60000), 0);
}

/* peek answers like take but takes nothing. */
static void peek_takes_nothing(void **state)
{
	struct rate_bucket b;

	(void)state;
	assert_true(rate_init(&b, 1, 1000, 1, 0));
	assert_int_equal(rate_peek(&b, 0), 0);
	assert_int_equal(rate_peek(&b, 0), 0);
	assert_int_equal(rate_take(&b, 0), 0);
	assert_int_equal(rate_peek(&b, 0), 1000);
	assert_int_equal(rate_peek(&b, 400), 600);
}

/* After a 429 the whole endpoint waits, then one request goes, then the
 * ordinary rate resumes (no burst right after a refusal). */
static void penalise_blocks_then_one_token(void **state)
{
	struct rate_bucket b;

	(void)state;
	assert_true(rate_init(&b, 200, 1000, 20, 0));
	assert_int_equal(rate_take(&b, 0), 0);
	rate_penalise(&b, 100, 2000);
	assert_int_equal(rate_take(&b, 100), 2000);
	assert_int_equal(rate_take(&b, 2099), 1);
	assert_int_equal(rate_take(&b, 2100), 0);
	assert_int_equal(rate_take(&b, 2100), 5);
	assert_int_equal(rate_take(&b, 2105), 0);
	/* A shorter penalty does not shorten a longer one. */
	rate_penalise(&b, 3000, 10000);
	rate_penalise(&b, 3001, 10);
	assert_int_equal(rate_take(&b, 3011), 9989);
	assert_int_equal(rate_take(&b, 13000), 0);
	/* A zero or negative wait: no block, but the bucket is emptied to one. */
	rate_penalise(&b, 20000, -5);
	assert_int_equal(rate_take(&b, 20000), 0);
	assert_int_equal(rate_take(&b, 20000), 5);
}

struct backoff_case {
	int attempt;
	long base, max, retry_after;
	uint32_t rnd;
	long want;
};

static void backoff_table(void **state)
{
	static const struct backoff_case cases[] = {
		/* rnd 0: the low end, base. */
		{1, 100, 60000, -1, 0, 100},
		{5, 100, 60000, -1, 0, 100},
		/* rnd at the top of each attempt's range: the cap doubles. */
		{1, 100, 60000, -1, 0, 100},
		{2, 100, 60000, -1, 100, 200},
		{3, 100, 60000, -1, 300, 400},
		{4, 100, 60000, -1, 700, 800},
		/* The cap is max_ms, for any attempt, even absurd ones. */
		{11, 100, 60000, -1, 59900, 60000},
		{1000, 100, 60000, -1, 59900, 60000},
		{INT_MAX, 100, 60000, -1, UINT32_MAX, 100 + UINT32_MAX % 59901},
		/* Retry-After wins over a shorter back-off, even past max_ms. */
		{1, 100, 60000, 5, 0, 5000},
		{1, 100, 1000, 30, 0, 30000},
		/* ... and over nothing longer: a long back-off stays. */
		{11, 100, 60000, 1, 59900, 60000},
		/* Retry-After: 0 still waits base_ms at least. */
		{1, 100, 60000, 0, 0, 100},
		/* A hostile Retry-After is clamped to an hour. */
		{1, 100, 60000, 999999999L, 0, RATE_RETRY_AFTER_MAX_S * 1000L},
		/* Nonsense arguments are raised to fit. */
		{0, 0, 0, -1, 12345, 1},
		{-3, 50, 10, -1, 7, 50},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct backoff_case *c = &cases[i];

		print_message("case %zu\n", i);
		assert_int_equal(backoff_ms(c->attempt, c->base, c->max, c->retry_after, c->rnd),
				 c->want);
	}
}

/* Over all of chance: never below base or Retry-After, never above the cap
 * (or Retry-After plus base of jitter), and jitter actually spreads. */
static void backoff_bounds_and_spread(void **state)
{
	int attempt;

	(void)state;
	for (attempt = 1; attempt <= 20; attempt++) {
		long cap = 250L << (attempt - 1 > 10 ? 10 : attempt - 1);
		long lo = LONG_MAX, hi = 0;
		uint32_t rnd = 2463534242u;
		int i;

		if (cap > 30000)
			cap = 30000;
		for (i = 0; i < 2000; i++) {
			long d, r;

			rnd ^= rnd << 13;
			rnd ^= rnd >> 17;
			rnd ^= rnd << 5;
			d = backoff_ms(attempt, 250, 30000, -1, rnd);
			assert_true(d >= 250 && d <= cap);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
			r = backoff_ms(attempt, 250, 30000, 2, rnd);
			assert_true(r >= 2000 && r <= (cap > 2250 ? cap : 2250));
		}
		if (cap > 250)
			assert_true(hi - lo > (cap - 250) / 2);
	}
}

/* The window: limit takes at once, then each waits for the oldest to leave. */
static void window_limit_then_oldest_leaves(void **state)
{
	struct rate_window w;

	(void)state;
	assert_false(rate_window_init(&w, 0, 1000));
	assert_false(rate_window_init(&w, RATE_WINDOW_MAX + 1, 1000));
	assert_false(rate_window_init(&w, 3, 0));
	assert_false(rate_window_init(NULL, 3, 1000));
	assert_true(rate_window_init(&w, 3, 1000));
	assert_int_equal(rate_window_take(&w, 100), 0);
	assert_int_equal(rate_window_take(&w, 100), 0);
	assert_int_equal(rate_window_take(&w, 400), 0);
	assert_int_equal(rate_window_peek(&w, 400), 700);
	assert_int_equal(rate_window_take(&w, 1099), 1); /* nothing recorded */
	assert_int_equal(rate_window_take(&w, 1100), 0); /* the first two (at 100) left */
	assert_int_equal(rate_window_take(&w, 1100), 0);
	assert_int_equal(rate_window_take(&w, 1100), 300); /* the one at 400 is still in */
}

/* A greedy sender behind the pusher's pair (bucket of 190/s holding 200,
 * window of 200 in 1050 ms), with stalls of every length: never more than
 * 200 requests in any of LINE's fixed one-second windows, nor in any
 * sliding second; and after a stall the capacity left is used at once. */
static void window_with_bucket_never_exceeds_line(void **state)
{
	struct rate_bucket b;
	struct rate_window w;
	static long long sent[20000];
	size_t n = 0, i, j;
	long long t = 0, end = 60000;
	uint32_t x = 12345;
	int burst_after_stall = 0;

	(void)state;
	assert_true(rate_init(&b, 190, 1000, 200, 0));
	assert_true(rate_window_init(&w, 200, 1050));
	while (t < end && n < sizeof(sent) / sizeof(sent[0])) {
		long wb = rate_peek(&b, t), ww = rate_window_peek(&w, t);

		if (wb == 0 && ww == 0) {
			assert_int_equal(rate_take(&b, t), 0);
			assert_int_equal(rate_window_take(&w, t), 0);
			sent[n++] = t;
			/* Now and then the sender stalls (planner behind). */
			x = x * 1103515245u + 12345u;
			if ((x >> 16) % 500 == 0) {
				size_t before = n;
				long long resume = t + 200 + (long long)((x >> 8) % 3000);

				t = resume;
				while (rate_peek(&b, t) == 0 && rate_window_peek(&w, t) == 0) {
					assert_int_equal(rate_take(&b, t), 0);
					assert_int_equal(rate_window_take(&w, t), 0);
					sent[n++] = t;
				}
				if (n - before > 10)
					burst_after_stall++;
			}
			continue;
		}
		t += wb > ww ? wb : ww;
	}
	assert_true(n > 5000);
	assert_true(burst_after_stall > 0);
	for (i = 0, j = 0; i < n; i++) {
		/* Sliding: the takes in [sent[i] - 999, sent[i]]. */
		while (sent[j] < sent[i] - 999)
			j++;
		assert_true(i - j + 1 <= 200);
	}
	for (i = 0; i < n;) {
		long long second = sent[i] / 1000;
		size_t k = i;

		while (k < n && sent[k] / 1000 == second)
			k++;
		assert_true(k - i <= 200);
		i = k;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_refuses_bad_arguments),
		cmocka_unit_test(burst_then_steady_rate),
		cmocka_unit_test(long_run_has_no_drift),
		cmocka_unit_test(idle_refills_up_to_burst),
		cmocka_unit_test(hourly_limit),
		cmocka_unit_test(peek_takes_nothing),
		cmocka_unit_test(penalise_blocks_then_one_token),
		cmocka_unit_test(backoff_table),
		cmocka_unit_test(backoff_bounds_and_spread),
		cmocka_unit_test(window_limit_then_oldest_leaves),
		cmocka_unit_test(window_with_bucket_never_exceeds_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
