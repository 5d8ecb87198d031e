/*
 * ratelimit — the pusher's per-endpoint token buckets, a sliding window
 * (see rate_window) and retry back-off.
 *
 * Pure code: no I/O, no clock, no randomness of its own.  The caller passes
 * the monotonic time in milliseconds and, for jitter, a random 32-bit value,
 * so the unit tests drive time and chance by hand.
 *
 * A bucket holds up to `burst` tokens and gains `rate` tokens every
 * `period_ms` (kept in integer units, no drift).  rate_take() consumes one
 * token or says how long to wait for it.  After a 429, rate_penalise()
 * empties the bucket and blocks it for the wait the caller chose (Retry-After
 * or its back-off), so every request to that endpoint slows down, not only
 * the one that was refused.
 *
 * LINE counts per-second limits in fixed one-second windows and hourly ones
 * in sliding windows; a token bucket allows at most burst + rate tokens in
 * any one period, so set rate + burst <= LINE's limit to never be refused
 * (e.g. multicast 190/s with a burst of 10), or accept a rare 429, which
 * rate_penalise() and backoff_ms() absorb.
 *
 * The struct is public so that it can be embedded; touch it only through
 * these functions.  Not thread-safe (one per pusher loop).
 */
#ifndef HL_RATELIMIT_H
#define HL_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* LINE's published defaults (requests per period). */
#define RATE_MULTICAST_PER_S 200
#define RATE_PUSH_PER_S	     2000
#define RATE_BROADCAST_PER_H 60

/* A Retry-After beyond this is taken as this: a hostile or broken header
 * must not park the pusher for days. */
#define RATE_RETRY_AFTER_MAX_S 3600

struct rate_bucket {
	long long credit;     /* tokens × period_ms */
	long long capacity;   /* burst × period_ms */
	long long last_ms;    /* credit counted up to here */
	long long blocked_ms; /* nothing before this (rate_penalise) */
	long rate;	      /* tokens per period */
	long period_ms;
};

/* rate tokens every period_ms (both >= 1), at most burst (>= 1) at once;
 * the bucket starts full at now_ms.  false on a bad argument. */
bool rate_init(struct rate_bucket *b, long rate, long period_ms, long burst, long long now_ms)
	__attribute__((warn_unused_result));
/* 0 when a token was taken (the request may go now), else the ms to wait
 * before asking again (>= 1); nothing is taken then. */
long rate_take(struct rate_bucket *b, long long now_ms);
/* The same answer without taking a token (e.g. "may I broadcast now, or
 * fall back to multicast?"). */
long rate_peek(const struct rate_bucket *b, long long now_ms);
/* After a 429: empty the bucket and give nothing before now_ms + wait_ms
 * (an earlier block that ends later is kept). */
void rate_penalise(struct rate_bucket *b, long long now_ms, long wait_ms);

/*
 * A sliding window: at most `limit` takes in any span of window_ms.  LINE
 * counts multicast's 200 a second in fixed one-second windows, which a
 * token bucket alone can only respect by keeping rate + burst under the
 * limit: after a stall (the planner behind, a 429's block) the bucket has
 * burst tokens while LINE would take a whole window's worth.  Used with
 * the bucket (capacity raised to the window's limit), the window lets a
 * stall's unused capacity go at once without ever putting more than limit
 * requests in any window_ms, hence in any of LINE's windows.
 */
#define RATE_WINDOW_MAX 1000
struct rate_window {
	long long times[RATE_WINDOW_MAX]; /* the last n takes, oldest at head */
	int head, n;
	int limit;
	long window_ms;
};

/* limit in 1..RATE_WINDOW_MAX, window_ms >= 1; false on a bad argument. */
bool rate_window_init(struct rate_window *w, int limit, long window_ms)
	__attribute__((warn_unused_result));
/* 0 when a take would be allowed now, else the ms to wait (>= 1). */
long rate_window_peek(const struct rate_window *w, long long now_ms);
/* 0 and the take recorded, or the ms to wait (nothing recorded).  now_ms
 * never goes back (a monotonic clock). */
long rate_window_take(struct rate_window *w, long long now_ms);

/* Delay before retry number `attempt` (1 = the first retry): exponential
 * base_ms × 2^(attempt-1) capped at max_ms, with full jitter drawn from rnd
 * over [base_ms, cap]; when retry_after_s >= 0 (LINE's Retry-After,
 * clamped to RATE_RETRY_AFTER_MAX_S) the result is never below it, even
 * beyond max_ms, plus up to base_ms of jitter so that refused requests do
 * not all come back in the same millisecond.  base_ms >= 1, max_ms >=
 * base_ms (else they are raised to fit). */
long backoff_ms(int attempt, long base_ms, long max_ms, long retry_after_s, uint32_t rnd);

#endif
