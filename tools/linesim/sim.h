/*
 * sim — the state of the simulated LINE Platform: one channel, its
 * residents (follow state and inbox), reply tokens, retry keys, rate limits,
 * the message quota, faults to inject, and the logs the control API shows
 * (API requests, webhook attempts, counters).
 *
 * One mutex guards everything: every function below except sim_new/sim_free
 * and the pure helpers (sim_uid_parse, sim_uid_format, sim_now_ms) must be
 * called between sim_lock() and sim_unlock().  Handlers keep the lock for
 * O(request) work only and drop it around network I/O (webhook delivery)
 * and injected latency.
 *
 * Residents are stored compactly for benches of a million: 16 raw bytes of
 * id and a few flags in one array (creation order, which followers/ids
 * pages over) with an open-addressing index; inboxes are allocated on the
 * first delivery and hold at most inbox_max deliveries each.  A delivery
 * (the messages of one API request) is shared by all its recipients.
 *
 * Errors: functions that allocate return -1 or NULL when memory runs out.
 */
#ifndef LINESIM_SIM_H
#define LINESIM_SIM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_UID_BYTES	 16
#define SIM_UID_SIZE	 34 /* "U" + 32 hex + NUL */
#define SIM_REQID_SIZE	 37 /* UUID text + NUL */
#define SIM_TOKEN_SIZE	 33 /* reply tokens: 32 hex + NUL */
#define SIM_EVENTID_SIZE 27 /* ULID: 26 Crockford base32 + NUL */
#define SIM_MSGID_SIZE	 24

/* LINE documents that a reply token must be used within one minute. */
#define SIM_REPLY_TOKEN_TTL_MS (60 * 1000)
/* Retry keys are remembered for 24 hours (LINE's window). */
#define SIM_RETRY_KEY_TTL_MS (24LL * 3600 * 1000)

struct sim_channel {
	char channel_id[16];
	char channel_secret[33];
	char access_token[176];
	char login_channel_id[16];
	char bot_user_id[SIM_UID_SIZE];
	char webhook_url[512];
};

struct sim_opts {
	uint64_t seed; /* 0: from /dev/urandom */
	bool rate_limits;
	int inbox_max;	    /* deliveries kept per resident; 0 keeps none */
	long long quota;    /* monthly messages; -1 for "none" (no limit) */
	size_t log_max;	    /* API requests kept for /sim/requests */
	size_t webhook_max; /* webhook attempts kept for /sim/webhooks */
};

enum sim_rate {
	SIM_RATE_DEFAULT,	 /* 2,000 requests/s: push, reply and most others */
	SIM_RATE_MULTICAST,	 /* 200 requests/s */
	SIM_RATE_BROADCAST,	 /* 60 requests/hour */
	SIM_RATE_NARROWCAST,	 /* 60 requests/hour */
	SIM_RATE_RICHMENU_CD,	 /* rich menu create and delete: 100 requests/hour */
	SIM_RATE_RICHMENU_BATCH, /* 3 requests/hour */
	SIM_RATE_COUNT
};

struct sim;
struct sim_delivery;

/* The channel's credentials are generated from the seed; set fields of
 * *override (non-empty strings) replace them.  NULL when out of memory. */
struct sim *sim_new(const struct sim_opts *opts, const struct sim_channel *override);
void sim_free(struct sim *s);

void sim_lock(struct sim *s);
void sim_unlock(struct sim *s);

/* Forget residents, inboxes, logs, counters, faults, retry keys, reply
 * tokens, rate windows and quota usage; the channel stays. */
void sim_reset(struct sim *s);

struct sim_channel *sim_channel(struct sim *s);
const struct sim_opts *sim_opts(const struct sim *s);
void sim_set_rate_limits(struct sim *s, bool on);

/* --- identifiers (pure, or drawing from the seeded generator) --- */
int64_t sim_now_ms(void);
/* Exactly ^U[0-9a-f]{32}$, as LINE user ids are. */
bool sim_uid_parse(const char *text, uint8_t out[SIM_UID_BYTES])
	__attribute__((warn_unused_result));
void sim_uid_format(const uint8_t id[SIM_UID_BYTES], char out[SIM_UID_SIZE]);
void sim_request_id(struct sim *s, char out[SIM_REQID_SIZE]);
void sim_message_id(struct sim *s, char out[SIM_MSGID_SIZE]);
void sim_event_id(struct sim *s, char out[SIM_EVENTID_SIZE]);
void sim_random_hex(struct sim *s, char *out, size_t nhex); /* out holds nhex + 1 */
uint64_t sim_random(struct sim *s);

/* --- residents --- */
/* Index of a new resident with a fresh random id, following; -1 on ENOMEM. */
long sim_user_create(struct sim *s);
/* Index of the resident with this id, created (following) when absent. */
long sim_user_ensure(struct sim *s, const uint8_t id[SIM_UID_BYTES], bool *created);
long sim_user_find(const struct sim *s, const uint8_t id[SIM_UID_BYTES]);
size_t sim_user_count(const struct sim *s);
size_t sim_follower_count(const struct sim *s);
void sim_user_id(const struct sim *s, long idx, char out[SIM_UID_SIZE]);
bool sim_user_following(const struct sim *s, long idx);
void sim_user_set_following(struct sim *s, long idx, bool following);
/* Whether the resident has ever blocked the account (for follow.isUnblocked). */
bool sim_user_was_blocked(const struct sim *s, long idx);
/* A scratch mark for de-duplicating one request's recipients: true when
 * the resident was not marked yet.  Unmark before dropping the lock. */
bool sim_user_mark(struct sim *s, long idx);
void sim_user_unmark(struct sim *s, long idx);

/* --- deliveries and inboxes --- */
/* Takes ownership of messages (a JSON array).  Refcount starts at 1: the
 * caller releases its reference with sim_delivery_unref(). */
struct sim_delivery *sim_delivery_new(const char *endpoint, const char *request_id,
				      json_t *messages);
void sim_delivery_unref(struct sim_delivery *d);
/* Add d to a resident's inbox (keeps a reference) and count the
 * recipient-delivery; -1 on ENOMEM. */
int sim_deliver(struct sim *s, long idx, struct sim_delivery *d);
/* [{"endpoint","requestId","timestamp","message"}...], oldest first. */
json_t *sim_inbox_json(const struct sim *s, long idx);

/* --- reply tokens --- */
void sim_reply_token_new(struct sim *s, long idx, char out[SIM_TOKEN_SIZE]);
/* Marks the token used; its resident's index, or -1 when unknown, expired
 * or already used. */
long sim_reply_token_use(struct sim *s, const char *token);
void sim_reply_token_attach(struct sim *s, const char *token, struct sim_delivery *d);
/* The messages replied with this token, or NULL while none. */
json_t *sim_reply_token_replies(const struct sim *s, const char *token);

/* --- retry keys --- */
/* true with the accepted request's id when key was accepted in the last 24 h. */
bool sim_retry_seen(struct sim *s, const char *key, char accepted[SIM_REQID_SIZE]);
int sim_retry_remember(struct sim *s, const char *key, const char *request_id);

/* --- rate limits and quota --- */
bool sim_rate_allow(struct sim *s, enum sim_rate which);
/* false when sending n more messages would pass the monthly quota. */
bool sim_quota_allows(const struct sim *s, long long n);
void sim_quota_consume(struct sim *s, long long n);
long long sim_quota_limit(const struct sim *s);
long long sim_quota_usage(const struct sim *s);
void sim_set_quota(struct sim *s, long long limit);

/* --- narrowcast progress --- */
int sim_narrowcast_record(struct sim *s, const char *request_id, long long target,
			  long long success);
json_t *sim_narrowcast_progress(const struct sim *s, const char *request_id);

/* --- faults --- */
/* accepted: the request is handled (delivered, its retry key kept) and
 * only then answered with status, as when LINE accepted a request but the
 * answer was lost; the case retry keys exist for. */
int sim_fault_set(struct sim *s, const char *path, int status, double ratio, int latency_ms,
		  bool accepted);
void sim_faults_clear(struct sim *s);
/* The fault for this path, if any: *status 0 when only latency applies
 * (or the ratio roll said no). */
bool sim_fault_for(struct sim *s, const char *path, int *status, int *latency_ms, bool *accepted);
json_t *sim_faults_json(const struct sim *s);

/* --- logs and counters --- */
void sim_log_request(struct sim *s, const char *method, const char *path, const char *endpoint,
		     int status, const char *retry_key, long recipients, const char *request_id);
json_t *sim_requests_json(const struct sim *s, uint64_t since);
/* Webhook attempts; body and signature are copied. */
void sim_log_webhook(struct sim *s, const char *url, int status, const char *error, int attempt,
		     bool redelivery, const char *body, const char *signature);
json_t *sim_webhooks_json(const struct sim *s, uint64_t since);
json_t *sim_stats_json(const struct sim *s);
/* Recipients reached by an endpoint ("push", "multicast", ...) on a
 * yyyyMMdd date in Japan time, for LINE's delivery statistics. */
long long sim_sent_on(const struct sim *s, const char *endpoint, const char *date);

#endif
