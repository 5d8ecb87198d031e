/*
 * pusher — the fan-out loop; see pusher.h.
 *
 * A batch moves through a slot: READY (claimed and leased in the database,
 * waiting for a rate-limit token), SENDING (a LINE request in flight), DONE
 * (answered; the result waits to be recorded).  Results are recorded in one
 * transaction per loop turn, so the database sees a few hundred commits a
 * second at full speed, not one per request.  A slot is freed only once its
 * result is committed: if the database is down, the answers wait in memory
 * and the slots left apply back-pressure (nothing new is claimed).
 */
#include "pusher.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "daemon.h"
#include "line.h"
#include "log.h"
#include "planner.h"
#include "ratelimit.h"
#include "store_push.h"
#include "str.h"

/* Deliveries started per loop turn: a burst of mail alerts starts quickly,
 * but one turn never spends long away from the transfers. */
#define START_PER_TURN 8
/* The longest wait with nothing due: NOTIFY and the timers wake the loop
 * earlier; this only bounds how long a missed wake-up could last. */
#define IDLE_WAIT_MS 30000
/* After a database error, wait before the next try (doubling up to MAX). */
#define DB_RETRY_MS	1000
#define DB_RETRY_MAX_MS 10000
/* A claimed batch that would wait longer than this for a rate token is
 * given back (rescheduled) rather than kept under lease. */
#define READY_WAIT_MAX_MS 2000
/* Replies in flight at once (answers to residents: few, and urgent). */
#define REPLY_SLOTS 16
/* A reply token is valid for about a minute after the event; past this
 * age the reply is pushed instead. */
#define REPLY_TOKEN_TTL_S 50
/* LINE's monthly quota is read again after this long. */
#define QUOTA_REFRESH_MS 60000
/* LINE's per-second limits count requests arriving in fixed one-second
 * windows; the pusher's sliding window is this long, so that network
 * jitter of up to 50 ms cannot put one window's worth plus one into one of
 * LINE's windows. */
#define MULTICAST_WINDOW_MS 1050

enum slot_state { SLOT_FREE, SLOT_READY, SLOT_SENDING, SLOT_DONE };

struct slot {
	struct pusher *p;
	enum slot_state state;
	struct push_batch b;
	struct push_result r;
	char request_id[64];
	char error[640];
};

enum reply_state { REPLY_FREE, REPLY_SENDING, REPLY_DONE };

struct reply_slot {
	struct pusher *p;
	enum reply_state state;
	bool via_reply;
	struct push_reply r;
	struct push_reply_result res;
	char request_id[64];
	char error[640];
};

struct pusher {
	const struct hl_config *cfg;
	struct db *db;
	struct line_client *line;
	struct metrics *m;
	struct rate_bucket multicast, broadcast;
	struct rate_window multicast_window;
	bool multicast_limited, multicast_windowed;
	unsigned long listen_gen;
	bool check_starts;
	struct slot *slots;
	int nslots;
	struct push_batch *claimed;
	struct push_result *results;
	long long quota_left; /* -1: unlimited or unknown */
	long long quota_checked_ms;
	long long db_retry_at_ms;
	long db_retry_ms;
	bool db_down_logged;
	int lease_s;
	int send_cap; /* requests posted at once (see pusher_new) */
	struct planner *planner;
	uint64_t rng;
	struct reply_slot replies[REPLY_SLOTS];
	struct push_reply reply_claimed[REPLY_SLOTS];
	struct push_reply_result reply_results[REPLY_SLOTS];
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t next_random(struct pusher *p)
{
	/* xorshift64*: jitter only, not security. */
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return (uint32_t)((p->rng * 2685821657736338717ULL) >> 32);
}

struct pusher *pusher_new(const struct hl_config *cfg, struct db *db, struct db *plan_db,
			  const char *token, struct metrics *m, char *err, size_t errlen)
{
	struct line_client_options lo = {
		.base_url = cfg->line.api_base_url,
		.token = token,
		.timeout_ms = (long)cfg->line.request_timeout_ms,
		.max_connections = (int)cfg->pusher.connections,
		.ca_file = cfg->line.ca_file,
	};
	struct pusher *p = calloc(1, sizeof(*p));
	long long now = mono_ms();

	if (p == NULL) {
		str_msg(err, errlen, "out of memory");
		return NULL;
	}
	p->cfg = cfg;
	p->db = db;
	p->m = m;
	p->nslots = (int)cfg->pusher.max_in_flight;
	p->slots = calloc((size_t)p->nslots, sizeof(*p->slots));
	p->claimed = calloc((size_t)p->nslots, sizeof(*p->claimed));
	p->results = calloc((size_t)p->nslots, sizeof(*p->results));
	if (p->slots == NULL || p->claimed == NULL || p->results == NULL) {
		str_msg(err, errlen, "out of memory");
		goto fail;
	}
	p->multicast_limited = cfg->pusher.multicast_per_second > 0;
	/* rate a second, and at most rate + burst in any window: the bucket
	 * may then hold a whole window's worth, which goes at once after a
	 * stall (see ratelimit.h).  Beyond RATE_WINDOW_MAX a second, the
	 * bucket alone (burst tokens). */
	p->multicast_windowed =
		p->multicast_limited &&
		cfg->pusher.multicast_per_second + cfg->pusher.multicast_burst <= RATE_WINDOW_MAX;
	if ((p->multicast_windowed && !rate_window_init(&p->multicast_window,
							(int)(cfg->pusher.multicast_per_second +
							      cfg->pusher.multicast_burst),
							MULTICAST_WINDOW_MS)) ||
	    (p->multicast_limited &&
	     !rate_init(&p->multicast, (long)cfg->pusher.multicast_per_second, 1000,
			(long)(p->multicast_windowed ? cfg->pusher.multicast_per_second +
							       cfg->pusher.multicast_burst
						     : cfg->pusher.multicast_burst),
			now)) ||
	    !rate_init(
		    &p->broadcast,
		    cfg->pusher.broadcasts_per_hour > 0 ? (long)cfg->pusher.broadcasts_per_hour : 1,
		    3600 * 1000L,
		    cfg->pusher.broadcasts_per_hour > 0 ? (long)cfg->pusher.broadcasts_per_hour : 1,
		    now)) {
		str_msg(err, errlen, "bad rate limits");
		goto fail;
	}
	p->line = line_client_new(&lo, err, errlen);
	if (p->line == NULL)
		goto fail;
	p->planner = planner_start(plan_db, (int)cfg->pusher.plan_chunk_batches, m, err, errlen);
	plan_db = NULL; /* the planner owns it now, even when it failed */
	if (p->planner == NULL)
		goto fail;
	/* Resume planning a crash interrupted. */
	planner_kick(p->planner);
	/* The lease covers the request timeout and the short wait for a
	 * rate token before it is sent. */
	p->lease_s =
		(int)((cfg->line.request_timeout_ms + 999) / 1000) + READY_WAIT_MAX_MS / 1000 + 1;
	/* Over plain http (linesim) there is no HTTP/2: each request needs a
	 * connection of its own, and one waiting in the client's queue would
	 * spend its timeout there.  Over https, HTTP/2 multiplexes up to
	 * max_in_flight streams over the connections. */
	p->send_cap = p->nslots;
	if (strncmp(cfg->line.api_base_url, "http://", 7) == 0 &&
	    cfg->pusher.connections < cfg->pusher.max_in_flight)
		p->send_cap = (int)cfg->pusher.connections;
	p->quota_left = -1;
	p->quota_checked_ms = now - QUOTA_REFRESH_MS;
	p->check_starts = true;
	p->db_retry_ms = DB_RETRY_MS;
	if (getrandom(&p->rng, sizeof(p->rng), 0) != (ssize_t)sizeof(p->rng) || p->rng == 0)
		p->rng = (uint64_t)now | 1;
	return p;
fail:
	db_free(plan_db);
	pusher_free(p);
	return NULL;
}

void pusher_free(struct pusher *p)
{
	int i;

	if (p == NULL)
		return;
	planner_stop(p->planner);
	line_client_free(p->line);
	if (p->slots != NULL)
		for (i = 0; i < p->nslots; i++)
			push_batch_clear(&p->slots[i].b);
	for (i = 0; i < REPLY_SLOTS; i++)
		push_reply_clear(&p->replies[i].r);
	free(p->slots);
	free(p->claimed);
	free(p->results);
	free(p);
}

/* ---------------------------------------------------------- the database */

static void db_failed(struct pusher *p, const char *what)
{
	atomic_fetch_add(&p->m->db_errors, 1);
	if (!p->db_down_logged)
		log_warn("database error, will retry", "during=%s error=\"%s\"", what,
			 db_error(p->db));
	p->db_down_logged = true;
	p->db_retry_at_ms = mono_ms() + p->db_retry_ms;
	p->db_retry_ms =
		p->db_retry_ms * 2 > DB_RETRY_MAX_MS ? DB_RETRY_MAX_MS : p->db_retry_ms * 2;
}

static void db_worked(struct pusher *p)
{
	if (p->db_down_logged)
		log_info("database back", "after=retry");
	p->db_down_logged = false;
	p->db_retry_ms = DB_RETRY_MS;
}

/* LINE's monthly quota: the messages left this month, or -1 when there is
 * no limit or it cannot be read (an alert is not held for a failing
 * statistics call; LINE itself still refuses past the limit). */
static void refresh_quota(struct pusher *p, long long now)
{
	struct line_result r;
	char *body = NULL;
	json_t *j = NULL;
	long long limit, used;

	if (now - p->quota_checked_ms < QUOTA_REFRESH_MS)
		return;
	p->quota_checked_ms = now;
	p->quota_left = -1;
	if (line_client_get_sync(p->line, "/v2/bot/message/quota", &r, &body) != 0)
		goto unknown;
	j = json_loadb(body, strlen(body), 0, NULL);
	if (j == NULL || !json_is_string(json_object_get(j, "type")))
		goto unknown;
	if (strcmp(json_string_value(json_object_get(j, "type")), "limited") != 0)
		goto done;
	limit = json_integer_value(json_object_get(j, "value"));
	json_decref(j);
	j = NULL;
	free(body);
	body = NULL;
	if (line_client_get_sync(p->line, "/v2/bot/message/quota/consumption", &r, &body) != 0)
		goto unknown;
	j = json_loadb(body, strlen(body), 0, NULL);
	if (j == NULL || !json_is_integer(json_object_get(j, "totalUsage")))
		goto unknown;
	used = json_integer_value(json_object_get(j, "totalUsage"));
	p->quota_left = limit > used ? limit - used : 0;
	log_info("monthly quota", "limit=%lld used=%lld left=%lld", limit, used, p->quota_left);
	goto done;
unknown:
	log_warn("cannot read LINE's monthly quota; sending without the check",
		 "status=%d error=\"%s\"", r.http_status, r.error);
done:
	json_decref(j);
	free(body);
}

static bool start_due(struct pusher *p)
{
	struct push_started s;
	bool found, any = false;
	enum hl_status st;
	int i;

	for (i = 0; i < START_PER_TURN; i++) {
		st = store_push_start_due(p->db,
					  p->cfg->pusher.broadcasts_per_hour > 0 &&
						  rate_peek(&p->broadcast, mono_ms()) == 0,
					  (int)p->cfg->pusher.broadcasts_per_hour, p->quota_left,
					  (int)p->cfg->pusher.plan_chunk_batches, &s, &found);
		if (st != HL_OK) {
			db_failed(p, "start");
			return any;
		}
		if (!found) {
			p->check_starts = false;
			return any;
		}
		any = true;
		if (s.held) {
			atomic_fetch_add(&p->m->deliveries_held, 1);
			log_warn("delivery held: over LINE's monthly quota",
				 "delivery=%lld audience=%lld quota_left=%lld", s.id, s.audience,
				 p->quota_left);
			continue;
		}
		atomic_fetch_add(&p->m->deliveries_started, 1);
		atomic_fetch_add(&p->m->batches_planned, s.planned_batches);
		atomic_fetch_add(&p->m->recipients_planned, s.planned_recipients);
		log_info("delivery started", "delivery=%lld source=%s method=%s", s.id, s.source,
			 s.broadcast ? "broadcast" : "multicast");
		if (s.planned_complete) {
			if (store_push_finish(p->db, s.id) != HL_OK)
				db_failed(p, "finish");
		} else if (!s.broadcast) {
			planner_kick(p->planner);
		}
	}
	return any;
}

static int free_slots(const struct pusher *p)
{
	int i, n = 0;

	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].state == SLOT_FREE)
			n++;
	return n;
}

static struct slot *take_slot(struct pusher *p)
{
	int i;

	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].state == SLOT_FREE)
			return &p->slots[i];
	return NULL;
}

static bool claim(struct pusher *p, bool broadcast, int max)
{
	int i, n = 0;

	if (max <= 0)
		return false;
	if (store_push_claim(p->db, broadcast, max, p->lease_s, p->claimed, &n) != HL_OK) {
		db_failed(p, "claim");
		/* Rows read before the failure are leased; keep them. */
	}
	for (i = 0; i < n; i++) {
		struct slot *s = take_slot(p);

		if (s == NULL) { /* cannot happen: max <= free slots */
			push_batch_clear(&p->claimed[i]);
			continue;
		}
		s->state = SLOT_READY;
		s->b = p->claimed[i];
		memset(&p->claimed[i], 0, sizeof(p->claimed[i]));
	}
	return n > 0;
}

/* Record every answered batch in one transaction and free their slots. */
static bool record_done(struct pusher *p)
{
	size_t n = 0;
	int i;

	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].state == SLOT_DONE)
			p->results[n++] = p->slots[i].r;
	if (n == 0)
		return false;
	if (store_push_record(p->db, p->results, n) != HL_OK) {
		db_failed(p, "record");
		return false;
	}
	/* A broadcast refused by LINE's hourly limit is now to be planned as
	 * multicast batches. */
	for (i = 0; i < (int)n; i++)
		if (p->results[i].outcome == PUSH_TO_MULTICAST)
			planner_kick(p->planner);
	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].state == SLOT_DONE) {
			push_batch_clear(&p->slots[i].b);
			p->slots[i].state = SLOT_FREE;
		}
	return true;
}

/* ---------------------------------------------------------------- replies */

static bool any_reply_busy(const struct pusher *p)
{
	int i;

	for (i = 0; i < REPLY_SLOTS; i++)
		if (p->replies[i].state == REPLY_DONE)
			return true;
	return false;
}

static void reply_done(struct reply_slot *s, enum push_outcome o, long retry_ms,
		       const char *request_id, const char *error)
{
	s->state = REPLY_DONE;
	s->res.id = s->r.id;
	s->res.outcome = o;
	s->res.method = s->via_reply ? "reply" : "push";
	s->res.retry_ms = retry_ms;
	str_msg(s->request_id, sizeof(s->request_id), "%s", request_id != NULL ? request_id : "");
	str_msg(s->error, sizeof(s->error), "%s", error != NULL ? error : "");
	s->res.request_id = s->request_id;
	s->res.error = s->error;
}

static void on_reply_answer(void *arg, const struct line_result *r)
{
	struct reply_slot *s = arg;
	struct pusher *p = s->p;
	enum line_outcome o = line_classify(r);

	atomic_fetch_sub(&p->m->in_flight, 1);
	metrics_request(p->m, r->elapsed_ms);
	switch (o) {
	case LINE_ACCEPTED:
		atomic_fetch_add(&p->m->replies_sent, 1);
		reply_done(s, PUSH_SENT, 0,
			   r->accepted_request_id[0] != '\0' ? r->accepted_request_id
							     : r->request_id,
			   "");
		return;
	case LINE_REJECTED:
		if (s->via_reply && r->http_status == 400) {
			if (s->r.attempts > 1) {
				/* The token is single-use and an earlier attempt
				 * with it got no answer: LINE took that one. */
				atomic_fetch_add(&p->m->replies_sent, 1);
				reply_done(s, PUSH_SENT, 0, r->request_id,
					   "reply token already used: delivered by the earlier "
					   "attempt");
				return;
			}
			/* Expired or refused token: push instead, now. */
			reply_done(s, PUSH_RETRY, 0, r->request_id, r->error);
			s->res.method = "push";
			return;
		}
		/* fall through */
	case LINE_QUOTA:
		atomic_fetch_add(&p->m->replies_failed, 1);
		log_warn("LINE refused a reply", "reply=%lld status=%d error=\"%s\"", s->r.id,
			 r->http_status, r->error);
		reply_done(s, PUSH_FAILED, 0, r->request_id, r->error);
		return;
	case LINE_RETRY:
		break;
	}
	reply_done(s, PUSH_RETRY,
		   backoff_ms(s->r.attempts, (long)p->cfg->pusher.retry_base_ms,
			      (long)p->cfg->pusher.retry_max_ms, r->retry_after_s, next_random(p)),
		   r->request_id, r->error);
}

static bool token_ok(const char *t)
{
	size_t n = 0;

	for (; *t != '\0'; t++, n++)
		if (!((*t >= '0' && *t <= '9') || (*t >= 'a' && *t <= 'z') ||
		      (*t >= 'A' && *t <= 'Z') || *t == '-' || *t == '_'))
			return false;
	return n > 0 && n <= 200;
}

static void send_reply(struct pusher *p, struct reply_slot *s)
{
	char *body;
	size_t cap, len = 0;

	s->p = p;
	if (s->r.line_user_id[0] == '\0') {
		s->via_reply = false;
		reply_done(s, PUSH_FAILED, 0, "", "the resident blocked the account");
		return;
	}
	s->via_reply = s->r.reply_token != NULL && token_ok(s->r.reply_token) &&
		       !s->r.pushed_before && s->r.age_s < REPLY_TOKEN_TTL_S;
	cap = strlen(s->r.messages) + 300;
	body = malloc(cap);
	if (body == NULL) {
		reply_done(s, PUSH_RETRY, 1000, "", "out of memory");
		return;
	}
	body[0] = '\0';
	if (!(s->via_reply ? str_appendf(body, cap, &len, "{\"replyToken\":\"%s\",\"messages\":%s}",
					 s->r.reply_token, s->r.messages)
			   : str_appendf(body, cap, &len, "{\"to\":\"%s\",\"messages\":%s}",
					 s->r.line_user_id, s->r.messages)) ||
	    line_client_post(p->line,
			     s->via_reply ? "/v2/bot/message/reply" : "/v2/bot/message/push", body,
			     len, s->via_reply ? NULL : s->r.retry_key, on_reply_answer, s) != 0) {
		reply_done(s, PUSH_FAILED, 0, "", "リクエストを組み立てられませんでした");
	} else {
		s->state = REPLY_SENDING;
		atomic_fetch_add(&p->m->in_flight, 1);
	}
	free(body);
}

/* Record answered replies in one transaction and free their slots. */
static bool replies_record(struct pusher *p)
{
	size_t n = 0;
	int i;

	for (i = 0; i < REPLY_SLOTS; i++)
		if (p->replies[i].state == REPLY_DONE)
			p->reply_results[n++] = p->replies[i].res;
	if (n > 0) {
		if (store_push_record_replies(p->db, p->reply_results, n) != HL_OK) {
			db_failed(p, "record replies");
			return false;
		}
		for (i = 0; i < REPLY_SLOTS; i++)
			if (p->replies[i].state == REPLY_DONE) {
				push_reply_clear(&p->replies[i].r);
				p->replies[i].state = REPLY_FREE;
			}
		return true;
	}
	return false;
}

static bool replies_turn(struct pusher *p)
{
	int i, k = 0, got = 0, free_n = 0;
	bool progress = replies_record(p);

	if (p->db_retry_at_ms > mono_ms())
		return progress;
	for (i = 0; i < REPLY_SLOTS; i++)
		if (p->replies[i].state == REPLY_FREE)
			free_n++;
	if (free_n == 0)
		return progress;
	if (store_push_claim_replies(p->db, free_n, p->lease_s, p->reply_claimed, &got) != HL_OK)
		db_failed(p, "claim replies");
	for (i = 0; i < REPLY_SLOTS && k < got; i++) {
		struct reply_slot *s = &p->replies[i];

		if (s->state != REPLY_FREE)
			continue;
		s->r = p->reply_claimed[k];
		memset(&p->reply_claimed[k], 0, sizeof(p->reply_claimed[k]));
		k++;
		send_reply(p, s);
		progress = true;
	}
	return progress;
}

/* One turn of database work; true when something moved. */
static bool db_turn(struct pusher *p, long long now)
{
	bool progress = false;
	int free_n;

	if (now < p->db_retry_at_ms)
		return false;
	progress |= record_done(p);
	if (now < p->db_retry_at_ms)
		return progress;
	if (db_generation(p->db) != p->listen_gen || db_socket(p->db) < 0) {
		if (store_push_listen(p->db) != HL_OK) {
			db_failed(p, "listen");
			return progress;
		}
		p->listen_gen = db_generation(p->db);
		p->check_starts = true; /* notifications may have been missed */
	}
	if (db_notifications(p->db) > 0)
		p->check_starts = true;
	if (p->check_starts || any_reply_busy(p))
		progress |= replies_turn(p);
	if (p->check_starts) {
		refresh_quota(p, now);
		progress |= start_due(p);
	}
	if (now < p->db_retry_at_ms)
		return progress;
	/* No more batches than can be sent at once (send_cap): over plain
	 * http (linesim) that is fewer than the slots, and a batch claimed
	 * beyond it could wait past its lease on a busy machine and be
	 * claimed again (sent twice; LINE's 409 would tell). */
	free_n = free_slots(p);
	if (free_n > p->send_cap - (p->nslots - free_n))
		free_n = p->send_cap - (p->nslots - free_n);
	progress |= claim(p, false, free_n);
	free_n = free_slots(p);
	if (free_n > 0 && p->cfg->pusher.broadcasts_per_hour > 0 &&
	    rate_peek(&p->broadcast, now) == 0)
		progress |= claim(p, true, 1);
	if (progress || now < p->db_retry_at_ms)
		return progress;
	db_worked(p);
	return false;
}

/* ------------------------------------------------------------- LINE side */

static void finish_slot(struct slot *s, enum push_outcome o, int http_status, long retry_ms,
			const char *request_id, const char *error)
{
	s->state = SLOT_DONE;
	s->r.delivery_id = s->b.delivery_id;
	s->r.batch_no = s->b.batch_no;
	s->r.outcome = o;
	s->r.recipients = s->b.recipients;
	s->r.http_status = http_status;
	s->r.retry_ms = retry_ms;
	str_msg(s->request_id, sizeof(s->request_id), "%s", request_id != NULL ? request_id : "");
	str_msg(s->error, sizeof(s->error), "%s", error != NULL ? error : "");
	s->r.request_id = s->request_id;
	s->r.error = s->error;
}

static void on_answer(void *arg, const struct line_result *r)
{
	struct slot *s = arg;
	struct pusher *p = s->p;
	const struct hl_config *cfg = p->cfg;
	enum line_outcome o = line_classify(r);
	long retry;
	char why[600];

	atomic_fetch_sub(&p->m->in_flight, 1);
	metrics_request(p->m, r->elapsed_ms);
	if (r->http_status == 0)
		atomic_fetch_add(&p->m->requests_no_answer, 1);
	switch (o) {
	case LINE_ACCEPTED:
		atomic_fetch_add(&p->m->requests_accepted, 1);
		atomic_fetch_add(&p->m->recipients_accepted, s->b.recipients);
		if (s->b.broadcast)
			atomic_fetch_add(&p->m->broadcasts, 1);
		finish_slot(s, PUSH_SENT, r->http_status, 0,
			    r->accepted_request_id[0] != '\0' ? r->accepted_request_id
							      : r->request_id,
			    "");
		return;
	case LINE_QUOTA:
		atomic_fetch_add(&p->m->requests_quota, 1);
		p->quota_checked_ms = mono_ms() - QUOTA_REFRESH_MS; /* read it again */
		str_msg(why, sizeof(why),
			"LINEの今月の送信上限に達したため、送信の途中で保留しました（%s）。"
			"未送信の分は、上限を確認してから再開できます。",
			r->error);
		finish_slot(s, PUSH_HOLD, r->http_status, 0, r->request_id, why);
		return;
	case LINE_REJECTED:
		if (r->http_status == 401 || r->http_status == 403) {
			/* The channel access token is wrong, expired or
			 * revoked: every batch would fail the same way, so
			 * hold the delivery (nothing is lost) rather than
			 * fail it, and say what to fix. */
			atomic_fetch_add(&p->m->requests_rejected, 1);
			log_error("LINE refused the channel access token; delivery held",
				  "delivery=%lld status=%d error=\"%s\"", s->b.delivery_id,
				  r->http_status, r->error);
			str_msg(why, sizeof(why),
				"LINEがチャネルアクセストークンを受け付けませんでした（HTTP %d: "
				"%s）。"
				"トークンを確認してから送信し直してください。",
				r->http_status, r->error);
			finish_slot(s, PUSH_HOLD, r->http_status, 0, r->request_id, why);
			return;
		}
		atomic_fetch_add(&p->m->requests_rejected, 1);
		atomic_fetch_add(&p->m->recipients_failed, s->b.recipients);
		log_warn("LINE refused a batch", "delivery=%lld batch=%d status=%d error=\"%s\"",
			 s->b.delivery_id, s->b.batch_no, r->http_status, r->error);
		finish_slot(s, PUSH_FAILED, r->http_status, 0, r->request_id, r->error);
		return;
	case LINE_RETRY:
		break;
	}
	atomic_fetch_add(&p->m->requests_retried, 1);
	if (r->http_status == 429) {
		atomic_fetch_add(&p->m->requests_rate_limited, 1);
		if (s->b.broadcast) {
			/* Over LINE's hourly broadcast limit (whoever else
			 * used it): reach everyone by multicast now rather
			 * than wait for the hour to pass. */
			atomic_fetch_add(&p->m->broadcast_fallbacks, 1);
			rate_penalise(&p->broadcast, mono_ms(), 3600 * 1000L);
			log_warn("broadcast refused by LINE's rate limit; sending by multicast",
				 "delivery=%lld", s->b.delivery_id);
			finish_slot(s, PUSH_TO_MULTICAST, r->http_status, 0, r->request_id,
				    r->error);
			return;
		}
	}
	retry = backoff_ms(s->b.attempts, (long)cfg->pusher.retry_base_ms,
			   (long)cfg->pusher.retry_max_ms, r->retry_after_s, next_random(p));
	if (r->http_status == 429 && p->multicast_limited)
		rate_penalise(&p->multicast, mono_ms(), retry);
	if (s->b.age_s + (double)retry / 1000.0 > (double)cfg->pusher.give_up_hours * 3600.0) {
		str_msg(why, sizeof(why), "%d回試みても送れませんでした（最後の応答: %s）",
			s->b.attempts, r->error[0] != '\0' ? r->error : "なし");
		atomic_fetch_add(&p->m->recipients_failed, s->b.recipients);
		finish_slot(s, PUSH_FAILED, r->http_status, 0, r->request_id, why);
		return;
	}
	log_info("LINE request will be retried",
		 "delivery=%lld batch=%d attempt=%d status=%d retry_ms=%ld error=\"%s\"",
		 s->b.delivery_id, s->b.batch_no, s->b.attempts, r->http_status, retry, r->error);
	finish_slot(s, PUSH_RETRY, r->http_status, retry, r->request_id, r->error);
}

/* The request body: {"to":["U…",…],"messages":[…]} or, for a broadcast,
 * {"messages":[…]}.  The ids come from the database, which only holds ids
 * matching ^U[0-9a-f]{32}$, and the messages are stored JSON, so nothing
 * needs escaping. */
static char *request_body(const struct push_batch *b, size_t *len)
{
	size_t tolen = b->to != NULL ? strlen(b->to) : 0;
	size_t mlen = strlen(b->messages);
	size_t cap, n = 0;
	char *out;
	const char *c;

	if (tolen > SIZE_MAX / 4 || mlen > SIZE_MAX / 4)
		return NULL;
	/* Each id gains two quotes; a comma stays a comma. */
	cap = 32 + tolen + 2 * ((size_t)b->recipients + 1) + mlen;
	out = malloc(cap);
	if (out == NULL)
		return NULL;
	out[0] = '\0';
	if (b->broadcast) {
		if (!str_appendf(out, cap, &n, "{\"messages\":%s}", b->messages))
			goto fail;
	} else {
		if (!str_appendf(out, cap, &n, "{\"to\":[\""))
			goto fail;
		for (c = b->to; *c != '\0'; c++) {
			if (n + 4 >= cap)
				goto fail;
			if (*c == ',') {
				memcpy(out + n, "\",\"", 3);
				n += 3;
			} else {
				out[n++] = *c;
			}
		}
		out[n] = '\0';
		if (!str_appendf(out, cap, &n, "\"],\"messages\":%s}", b->messages))
			goto fail;
	}
	*len = n;
	return out;
fail:
	free(out);
	return NULL;
}

/* A multicast token: 0 when one was taken, else the ms to wait. */
static long multicast_take(struct pusher *p, long long now)
{
	long w = rate_peek(&p->multicast, now);

	if (p->multicast_windowed) {
		long ww = rate_window_peek(&p->multicast_window, now);

		if (ww > w)
			w = ww;
	}
	if (w > 0)
		return w;
	w = rate_take(&p->multicast, now);
	if (w == 0 && p->multicast_windowed)
		w = rate_window_take(&p->multicast_window, now);
	return w;
}

/* Send READY batches that have a rate token; *wait_ms is the time until
 * the next token when one had to wait. */
static bool send_ready(struct pusher *p, long long now, long *wait_ms)
{
	bool progress = false;
	int i;

	for (i = 0; i < p->nslots; i++) {
		struct slot *s = &p->slots[i];
		char *body;
		size_t len = 0;
		long w = 0;

		if (s->state != SLOT_READY)
			continue;
		if (line_client_in_flight(p->line) >= p->send_cap)
			break;
		s->p = p;
		if (!s->b.broadcast && s->b.recipients == 0) {
			finish_slot(s, PUSH_EMPTY, 0, 0, "",
				    "送信時に有効な受信者がいませんでした");
			progress = true;
			continue;
		}
		if (s->b.broadcast)
			w = rate_take(&p->broadcast, now);
		else if (p->multicast_limited)
			w = multicast_take(p, now);
		if (w > 0) {
			if (w > READY_WAIT_MAX_MS) {
				/* Give it back rather than keep it leased. */
				finish_slot(s, PUSH_RETRY, 0, w, "", "rate limit");
				progress = true;
				continue;
			}
			if (*wait_ms < 0 || w < *wait_ms)
				*wait_ms = w;
			continue;
		}
		body = request_body(&s->b, &len);
		if (body == NULL) {
			finish_slot(s, PUSH_RETRY, 0, 1000, "", "out of memory building a request");
			continue;
		}
		if (line_client_post(p->line,
				     s->b.broadcast ? "/v2/bot/message/broadcast"
						    : "/v2/bot/message/multicast",
				     body, len, s->b.retry_key, on_answer, s) != 0) {
			/* Over LINE's 2 MB, or a bad retry key: will never go. */
			finish_slot(s, PUSH_FAILED, 0, 0, "",
				    "リクエストを組み立てられませんでした");
		} else {
			s->state = SLOT_SENDING;
			atomic_fetch_add(&p->m->in_flight, 1);
		}
		free(body);
		progress = true;
	}
	return progress;
}

/* --------------------------------------------------------------- the loop */

static int wait_idle(struct pusher *p, int sfd, int timeout_ms)
{
	struct pollfd fds[2];
	int n = 0;

	fds[n].fd = sfd;
	fds[n++].events = POLLIN;
	if (db_socket(p->db) >= 0) {
		fds[n].fd = db_socket(p->db);
		fds[n++].events = POLLIN;
	}
	if (poll(fds, (nfds_t)n, timeout_ms) < 0 && errno != EINTR)
		return -1;
	return 0;
}

static bool any_slot(const struct pusher *p, enum slot_state st)
{
	int i;

	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].state == st)
			return true;
	return false;
}

int pusher_run(struct pusher *p, int sfd)
{
	int sig = 0, i;
	long long deadline;

	for (;;) {
		long long now, due = -1;
		long rate_wait = -1;
		bool progress;
		int timeout;

		sig = daemon_read_signal(sfd);
		if (sig > 0)
			break;
		now = mono_ms();
		progress = db_turn(p, now);
		progress |= send_ready(p, now, &rate_wait);
		if (any_slot(p, SLOT_DONE) && now >= p->db_retry_at_ms)
			progress = true;

		if (progress) {
			timeout = 0;
		} else {
			timeout = IDLE_WAIT_MS;
			if (now < p->db_retry_at_ms) {
				timeout = (int)(p->db_retry_at_ms - now);
			} else if (store_push_next_due_ms(p->db, &due) != HL_OK) {
				db_failed(p, "next due");
				timeout = DB_RETRY_MS;
			} else if (due >= 0) {
				/* A due thing this turn could not take (another
				 * pusher holds it): look again shortly. */
				timeout = due < 20 ? 20
						   : (due > IDLE_WAIT_MS ? IDLE_WAIT_MS : (int)due);
				if (due <= 20)
					p->check_starts = true;
			}
			if (rate_wait >= 0 && rate_wait < timeout)
				timeout = (int)rate_wait;
			/* A query of this turn may have read a NOTIFY into
			 * libpq's queue: the socket is then quiet, and
			 * sleeping would miss it until the timeout. */
			if (db_notifications(p->db) > 0) {
				p->check_starts = true;
				timeout = 0;
			}
		}
		if (line_client_in_flight(p->line) > 0) {
			bool db_ready = false;

			/* The signal fd is checked each turn; in-flight
			 * requests keep the turns short. */
			if (line_client_run(p->line, timeout > 100 ? 100 : timeout,
					    db_socket(p->db), &db_ready) != 0)
				log_error("LINE transfers failed", "what=curl_multi");
		} else if (timeout > 0 && wait_idle(p, sfd, timeout) != 0) {
			log_error("poll failed", "error=\"%s\"", strerror(errno));
		}
		if (!progress && due >= 0 && due <= timeout)
			p->check_starts = true;
	}

	/* Stopping: nothing new; let the requests in flight finish (bounded
	 * by the request timeout) and record them, and give back what was
	 * claimed but not sent. */
	deadline = mono_ms() + p->cfg->line.request_timeout_ms + 1000;
	while (line_client_in_flight(p->line) > 0 && mono_ms() < deadline)
		if (line_client_run(p->line, 100, -1, NULL) != 0)
			break;
	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].state == SLOT_READY)
			finish_slot(&p->slots[i], PUSH_RETRY, 0, 0, "", "pusher stopping");
	p->db_retry_at_ms = 0;
	if (!replies_record(p) && any_reply_busy(p))
		log_warn("reply answers not recorded at stop", "error=\"%s\"", db_error(p->db));
	if (any_slot(p, SLOT_DONE) && !record_done(p))
		log_warn("answers not recorded at stop; the batches will be resent with their "
			 "retry keys",
			 "error=\"%s\"", db_error(p->db));
	return sig;
}
