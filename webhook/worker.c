/*
 * worker — webhook events to residents and replies; see worker.h.
 */
#include "worker.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "log.h"
#include "store_residents.h"
#include "store_webhook.h"
#include "str.h"

/* While the database is unreachable the thread waits this long, doubling. */
#define DB_RETRY_MIN_MS 500
#define DB_RETRY_MAX_MS 30000
/* A due event that another worker holds locked: look again after this. */
#define LOCKED_WAIT_MS 1000
/* Events handled in one transaction (at most one per resident). */
#define CLAIM_BATCH 64
/* Without any pending event: wake up anyway (belt and braces for a kick
 * lost to a bug; costs one query a minute). */
#define IDLE_WAIT_MS 60000

struct worker {
	struct db *db;
	char *settings_url;
	long long retry_base_ms, retry_max_ms, max_attempts;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool kicked, stopping, started;
};

typedef enum hl_status (*handler_fn)(struct worker *w, const struct wh_event *ev, char *err,
				     size_t errlen);

/* --- replies ----------------------------------------------------------------- */

/* [{"type":"text","text":text}] as a malloc'd string. */
static char *text_messages(const char *text)
{
	json_t *m = json_pack("[{s:s, s:s}]", "type", "text", "text", text);
	char *out = m != NULL ? json_dumps(m, JSON_COMPACT) : NULL;

	json_decref(m);
	return out;
}

char *worker_greeting(const char *settings_url)
{
	char *text, *out;

	if (settings_url != NULL && *settings_url != '\0')
		text = str_dup_printf(
			"友だち追加ありがとうございます。\n"
			"このアカウントでは、防犯・防災などの市からのお知らせをお届けします。\n\n"
			"受け取る地域や情報の種類は「受信設定」で選べます"
			"（設定するまでは、すべての情報が届きます）。\n"
			"受信設定はこちら:\n%s",
			settings_url);
	else
		text = str_dup_printf(
			"友だち追加ありがとうございます。\n"
			"このアカウントでは、防犯・防災などの市からのお知らせをお届けします。\n\n"
			"受け取る地域や情報の種類は、メニューの「受信設定」で選べます"
			"（設定するまでは、すべての情報が届きます）。");
	if (text == NULL)
		return NULL;
	out = text_messages(text);
	free(text);
	return out;
}

enum keyword { KW_SETTINGS, KW_HELP };

/* Exact matches after trimming spaces (ASCII and the ideographic space). */
static const struct {
	const char *word;
	enum keyword kw;
} keywords[] = {
	{"受信設定", KW_SETTINGS}, {"設定", KW_SETTINGS}, {"せってい", KW_SETTINGS},
	{"ヘルプ", KW_HELP},	   {"help", KW_HELP},	  {"使い方", KW_HELP},
	{"つかいかた", KW_HELP},
};

/* text without leading and trailing spaces: start and length. */
static const char *trim(const char *s, size_t *len)
{
	static const char ideo[] = "\xe3\x80\x80"; /* U+3000 */
	size_t n = strlen(s);

	for (;;) {
		if (n > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
			s++, n--;
		else if (n >= 3 && memcmp(s, ideo, 3) == 0)
			s += 3, n -= 3;
		else
			break;
	}
	for (;;) {
		if (n > 0 &&
		    (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
			n--;
		else if (n >= 3 && memcmp(s + n - 3, ideo, 3) == 0)
			n -= 3;
		else
			break;
	}
	*len = n;
	return s;
}

static bool word_is(const char *s, size_t n, const char *word)
{
	size_t i;

	if (strlen(word) != n)
		return false;
	for (i = 0; i < n; i++) {
		char a = s[i], b = word[i];

		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

char *worker_keyword_reply(const char *text, const char *settings_url)
{
	bool link = settings_url != NULL && *settings_url != '\0';
	char *msg = NULL, *out;
	const char *s;
	size_t i, n;

	if (text == NULL)
		return NULL;
	s = trim(text, &n);
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (word_is(s, n, keywords[i].word))
			break;
	if (i == sizeof(keywords) / sizeof(keywords[0]))
		return NULL;
	switch (keywords[i].kw) {
	case KW_SETTINGS:
		msg = link ? str_dup_printf("受け取る地域や情報の種類は、受信設定で変更できます。\n"
					    "受信設定はこちら:\n%s",
					    settings_url)
			   : str_dup_printf("受け取る地域や情報の種類は、メニューの「受信設定」"
					    "で変更できます。");
		break;
	case KW_HELP:
		msg = str_dup_printf(
			"このアカウントでは、防犯・防災・イベントなど市からのお知らせ"
			"（安心ほっとメール）をお届けします。\n"
			"「受信設定」と送ると、受け取る地域や情報の種類を選ぶページをご案内"
			"します。");
		break;
	}
	if (msg == NULL)
		return NULL;
	out = text_messages(msg);
	free(msg);
	return out;
}

/* --- handlers ------------------------------------------------------------------ */

static enum hl_status queue(struct worker *w, long long resident, const struct wh_event *ev,
			    char *messages, char *err, size_t errlen)
{
	enum hl_status st;

	if (messages == NULL) {
		str_msg(err, errlen, "out of memory");
		return HL_TEMPFAIL;
	}
	st = store_residents_queue_reply(w->db, resident,
					 ev->reply_token[0] ? ev->reply_token : NULL, messages);
	free(messages);
	if (st != HL_OK)
		str_msg(err, errlen, "queueing the reply: %s", db_error(w->db));
	return st;
}

static enum hl_status on_follow(struct worker *w, const struct wh_event *ev, char *err,
				size_t errlen)
{
	long long id;
	bool known;
	enum hl_status st;
	char uid[LOG_UID_SIZE];

	st = store_residents_follow(w->db, ev->user_id, ev->timestamp_ms, &id, &known);
	if (st != HL_OK) {
		str_msg(err, errlen, "storing the follow: %s", db_error(w->db));
		return st;
	}
	log_info("resident follows", "uid=%s again=%s", log_uid(ev->user_id, uid),
		 known ? "yes" : "no");
	return queue(w, id, ev, worker_greeting(w->settings_url), err, errlen);
}

static enum hl_status on_unfollow(struct worker *w, const struct wh_event *ev, char *err,
				  size_t errlen)
{
	bool known;
	enum hl_status st;
	char uid[LOG_UID_SIZE];

	st = store_residents_unfollow(w->db, ev->user_id, ev->timestamp_ms, &known);
	if (st != HL_OK) {
		str_msg(err, errlen, "storing the unfollow: %s", db_error(w->db));
		return st;
	}
	log_info("resident blocked the account", "uid=%s known=%s", log_uid(ev->user_id, uid),
		 known ? "yes" : "no");
	return HL_OK;
}

static enum hl_status on_text(struct worker *w, const struct wh_event *ev, char *err, size_t errlen)
{
	char *reply = worker_keyword_reply(ev->text, w->settings_url);
	long long id;
	enum hl_status st;

	if (reply == NULL || ev->reply_token[0] == '\0') {
		/* No keyword: the chatbot answers here once it exists. */
		free(reply);
		return HL_OK;
	}
	if ((st = store_residents_find_or_add(w->db, ev->user_id, &id)) != HL_OK) {
		free(reply);
		str_msg(err, errlen, "finding the resident: %s", db_error(w->db));
		return st;
	}
	return queue(w, id, ev, reply, err, errlen);
}

/* Stubs: the reservations, chatbot and maps issues plug in here. */
static enum hl_status on_stub(struct worker *w, const struct wh_event *ev, char *err, size_t errlen)
{
	char uid[LOG_UID_SIZE];

	(void)w, (void)err, (void)errlen;
	log_info("event not handled yet", "type=%s message_type=%s uid=%s", ev->type,
		 ev->message_type[0] ? ev->message_type : "-", log_uid(ev->user_id, uid));
	return HL_OK;
}

/* Which handler takes which event: the first row whose type (and
 * message.type, when given) match.  Events that need a resident are only
 * routed when the source is a user. */
static const struct route {
	const char *type;
	const char *message_type; /* NULL: any */
	handler_fn fn;
} routes[] = {
	{"follow", NULL, on_follow},	  {"unfollow", NULL, on_unfollow},
	{"message", "text", on_text},	  {"message", "image", on_stub},
	{"message", "location", on_stub}, {"postback", NULL, on_stub},
};

static handler_fn route_for(const struct wh_event *ev)
{
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(routes[i].type, ev->type) == 0 &&
		    (routes[i].message_type == NULL ||
		     strcmp(routes[i].message_type, ev->message_type) == 0))
			return routes[i].fn;
	return NULL;
}

/* --- the thread ----------------------------------------------------------------- */

static long long backoff_ms(const struct worker *w, long long attempts)
{
	long long d = w->retry_base_ms;

	while (--attempts > 0 && d < w->retry_max_ms)
		d *= 2;
	return d < w->retry_max_ms ? d : w->retry_max_ms;
}

/* Handle one claimed event inside the batch's transaction, under a
 * savepoint: a handler's failure is undone and recorded (retry or failed)
 * without touching the other events of the batch.  HL_TEMPFAIL only when
 * the transaction itself is lost (the database went away): the caller
 * abandons the batch, whose events stay pending. */
static enum hl_status handle(struct worker *w, const struct store_webhook_claim *c)
{
	struct wh_event ev;
	enum hl_status st;
	handler_fn fn = NULL;
	char err[256] = "", uid[LOG_UID_SIZE], q[300];
	long long attempt = c->attempts + 1, delay;
	bool give_up;

	if (store_webhook_savepoint(w->db) != HL_OK)
		return HL_TEMPFAIL;
	st = events_parse_one(c->body, &ev, err, sizeof(err));
	if (st == HL_OK && (fn = route_for(&ev)) != NULL && ev.user_id[0] == '\0') {
		log_info("event without a user source skipped", "id=%lld type=%s", c->id, ev.type);
		fn = NULL;
	} else if (st == HL_OK && fn == NULL)
		log_info("event type not handled", "id=%lld type=%s", c->id, ev.type);
	if (st == HL_OK && fn != NULL)
		st = fn(w, &ev, err, sizeof(err));
	if (st == HL_OK && (st = store_webhook_done(w->db, c->id)) == HL_OK) {
		log_debug("event done", "id=%lld type=%s uid=%s attempt=%lld", c->id, ev.type,
			  log_uid(ev.user_id, uid), attempt);
		wh_event_clear(&ev);
		return HL_OK;
	}
	if (err[0] == '\0')
		str_msg(err, sizeof(err), "%s", db_error(w->db));
	if (db_connection_lost(w->db) || store_webhook_rollback_to(w->db) != HL_OK) {
		wh_event_clear(&ev);
		return HL_TEMPFAIL;
	}
	give_up = st == HL_PERMFAIL || attempt >= w->max_attempts;
	delay = backoff_ms(w, attempt);
	if (give_up)
		log_error("event failed", "id=%lld type=%s uid=%s attempts=%lld error=%s", c->id,
			  ev.type, log_uid(ev.user_id, uid), attempt, log_quote(err, q, sizeof(q)));
	else
		log_warn("event will be retried",
			 "id=%lld type=%s uid=%s attempts=%lld in_ms=%lld error=%s", c->id, ev.type,
			 log_uid(ev.user_id, uid), attempt, delay, log_quote(err, q, sizeof(q)));
	wh_event_clear(&ev);
	return store_webhook_retry(w->db, c->id, err, delay, give_up) == HL_OK ? HL_OK
									       : HL_TEMPFAIL;
}

static void wait_for(struct worker *w, long long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while (!w->kicked && !w->stopping)
		if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT)
			break;
	w->kicked = false;
	pthread_mutex_unlock(&w->lock);
}

static bool stopping(struct worker *w)
{
	bool s;

	pthread_mutex_lock(&w->lock);
	s = w->stopping;
	pthread_mutex_unlock(&w->lock);
	return s;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	long long db_wait = DB_RETRY_MIN_MS;

	while (!stopping(w)) {
		struct store_webhook_claim c[CLAIM_BATCH];
		long long wait_ms;
		size_t n, i;
		enum hl_status st;

		/* Clear the kick before looking, so that a kick that comes while
		 * we look is not lost. */
		pthread_mutex_lock(&w->lock);
		w->kicked = false;
		pthread_mutex_unlock(&w->lock);
		st = store_webhook_claim(w->db, CLAIM_BATCH, c, &n, &wait_ms);
		if (st == HL_OK && n > 0) {
			for (i = 0; i < n; i++) {
				if (st == HL_OK)
					st = handle(w, &c[i]);
				free(c[i].body);
			}
			if (st == HL_OK)
				st = store_webhook_commit(w->db);
			else
				store_webhook_abort(w->db);
			if (st == HL_OK) {
				db_wait = DB_RETRY_MIN_MS;
				continue;
			}
		}
		if (st != HL_OK) {
			char q[300];

			log_warn("worker cannot use the database", "error=%s retry_ms=%lld",
				 log_quote(db_error(w->db), q, sizeof(q)), db_wait);
			wait_for(w, db_wait);
			db_wait = db_wait * 2 < DB_RETRY_MAX_MS ? db_wait * 2 : DB_RETRY_MAX_MS;
			continue;
		}
		db_wait = DB_RETRY_MIN_MS;
		if (wait_ms < 0 || wait_ms > IDLE_WAIT_MS)
			wait_ms = IDLE_WAIT_MS;
		else if (wait_ms == 0)
			wait_ms = LOCKED_WAIT_MS;
		wait_for(w, wait_ms);
	}
	return NULL;
}

struct worker *worker_start(struct db *db, const struct worker_opts *opts, char *err, size_t errlen)
{
	struct worker *w = calloc(1, sizeof(*w));

	if (w == NULL || (w->settings_url = strdup(opts->settings_url)) == NULL) {
		str_msg(err, errlen, "out of memory");
		goto fail;
	}
	w->db = db;
	w->retry_base_ms = opts->retry_base_ms;
	w->retry_max_ms = opts->retry_max_ms;
	w->max_attempts = opts->max_attempts;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		str_msg(err, errlen, "cannot start the worker thread");
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		goto fail;
	}
	w->started = true;
	return w;
fail:
	if (w != NULL)
		free(w->settings_url);
	free(w);
	db_free(db);
	return NULL;
}

void worker_kick(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->kicked = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void worker_stop(struct worker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	db_free(w->db);
	free(w->settings_url);
	free(w);
}
