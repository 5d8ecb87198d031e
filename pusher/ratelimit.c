/*
 * ratelimit — token buckets and back-off for the pusher; see ratelimit.h.
 *
 * Credit is kept in tokens × period_ms, so that refilling is an integer
 * product elapsed_ms × rate with no rounding drift over hours, and one
 * token costs period_ms.  Every product is checked against the room left in
 * the bucket first, so a huge gap in time (a laptop resumed, a test jumping
 * a day) cannot overflow.
 */
#include "ratelimit.h"

#include <limits.h>
#include <stddef.h>

bool rate_init(struct rate_bucket *b, long rate, long period_ms, long burst, long long now_ms)
{
	if (b == NULL || rate < 1 || period_ms < 1 || burst < 1 ||
	    burst > (LLONG_MAX - period_ms) / period_ms)
		return false;
	b->rate = rate;
	b->period_ms = period_ms;
	b->capacity = (long long)burst * period_ms;
	b->credit = b->capacity;
	b->last_ms = now_ms;
	b->blocked_ms = now_ms;
	return true;
}

/* Credit at max(now, last), and that instant in *at.  A full bucket keeps
 * less than one token's worth (and less than one ms of refill) beyond its
 * capacity: waits are whole milliseconds rounded up, and without this
 * slack the fraction a caller arrives late would be lost each time, so a
 * burst of 1 at 3/s would run at 2.99/s. */
static long long credit_at(const struct rate_bucket *b, long long now_ms, long long *at)
{
	long long c = b->credit;
	long long limit = b->capacity + (b->rate < b->period_ms ? b->rate : b->period_ms) - 1;

	if (now_ms > b->last_ms) {
		long long elapsed = now_ms - b->last_ms;
		long long room = limit - c;

		if (room > 0)
			c = elapsed > room / b->rate ? limit : c + elapsed * b->rate;
		*at = now_ms;
	} else {
		*at = b->last_ms;
	}
	return c;
}

static long clamp_long(long long v)
{
	return v > LONG_MAX ? LONG_MAX : v < 0 ? 0 : (long)v;
}

long rate_peek(const struct rate_bucket *b, long long now_ms)
{
	long long at, c, missing, wait;

	if (now_ms < b->blocked_ms)
		return clamp_long(b->blocked_ms - now_ms);
	c = credit_at(b, now_ms, &at);
	if (c >= b->period_ms)
		return clamp_long(at - now_ms); /* 0 unless credit starts later */
	missing = b->period_ms - c;
	wait = (at - now_ms) + (missing + b->rate - 1) / b->rate;
	return wait < 1 ? 1 : clamp_long(wait);
}

long rate_take(struct rate_bucket *b, long long now_ms)
{
	long long at, c;
	long wait = rate_peek(b, now_ms);

	if (wait != 0)
		return wait;
	c = credit_at(b, now_ms, &at);
	b->credit = c - b->period_ms;
	b->last_ms = at;
	return 0;
}

void rate_penalise(struct rate_bucket *b, long long now_ms, long wait_ms)
{
	long long until = now_ms + (wait_ms > 0 ? wait_ms : 0);

	if (until > b->blocked_ms)
		b->blocked_ms = until;
	/* One token when the block ends (the refused request goes first),
	 * then the ordinary rate. */
	b->credit = b->period_ms;
	if (b->blocked_ms > b->last_ms)
		b->last_ms = b->blocked_ms;
}

bool rate_window_init(struct rate_window *w, int limit, long window_ms)
{
	if (w == NULL || limit < 1 || limit > RATE_WINDOW_MAX || window_ms < 1)
		return false;
	w->head = 0;
	w->n = 0;
	w->limit = limit;
	w->window_ms = window_ms;
	return true;
}

long rate_window_peek(const struct rate_window *w, long long now_ms)
{
	long long until;

	if (w->n < w->limit)
		return 0;
	/* Full: the oldest take leaves the window at until. */
	until = w->times[w->head] + w->window_ms;
	return until <= now_ms ? 0 : clamp_long(until - now_ms);
}

long rate_window_take(struct rate_window *w, long long now_ms)
{
	long wait = rate_window_peek(w, now_ms);

	if (wait != 0)
		return wait;
	if (w->n == w->limit) {
		w->head = (w->head + 1) % RATE_WINDOW_MAX;
		w->n--;
	}
	w->times[(w->head + w->n) % RATE_WINDOW_MAX] = now_ms;
	w->n++;
	return 0;
}

long backoff_ms(int attempt, long base_ms, long max_ms, long retry_after_s, uint32_t rnd)
{
	unsigned long long cap, span, delay;
	int i;

	if (base_ms < 1)
		base_ms = 1;
	if (max_ms < base_ms)
		max_ms = base_ms;
	if (attempt < 1)
		attempt = 1;
	cap = (unsigned long long)base_ms;
	for (i = 1; i < attempt && cap < (unsigned long long)max_ms; i++)
		cap *= 2; /* cap < max_ms <= LONG_MAX: no overflow */
	if (cap > (unsigned long long)max_ms)
		cap = (unsigned long long)max_ms;
	span = cap - (unsigned long long)base_ms + 1;
	delay = (unsigned long long)base_ms + rnd % span;
	if (retry_after_s >= 0) {
		uint32_t r2 = (rnd >> 16) | (rnd << 16);
		unsigned long long ra = retry_after_s > RATE_RETRY_AFTER_MAX_S
						? RATE_RETRY_AFTER_MAX_S
						: (unsigned long long)retry_after_s;

		ra = ra * 1000 + r2 % ((unsigned long long)base_ms + 1);
		if (ra > delay)
			delay = ra;
	}
	return delay > LONG_MAX ? LONG_MAX : (long)delay;
}
