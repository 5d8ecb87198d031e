/*
 * sim — the simulated platform's state; see sim.h.
 */
#include "sim.h"

#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "str.h"

/* Flags of a resident. */
#define U_FOLLOWING 0x1u
#define U_BLOCKED   0x2u /* has blocked the account at least once */
#define U_MARK	    0x4u /* scratch, see sim_user_mark() */

struct inbox {
	uint32_t n, cap;
	struct sim_delivery **d;
};

/* 32 bytes a resident: a million fit in 32 MB plus an 8 MB index. */
struct user {
	uint8_t id[SIM_UID_BYTES];
	uint32_t flags;
	struct inbox *inbox;
};

struct sim_delivery {
	int refs;
	char endpoint[16];
	char request_id[SIM_REQID_SIZE];
	int64_t ts;
	json_t *messages;
};

struct reply_token {
	long idx;
	int64_t expires;
	bool used;
	struct sim_delivery *d;
};

struct retry_entry {
	int64_t expires;
	char request_id[SIM_REQID_SIZE];
};

struct narrowcast {
	int64_t accepted;
	long long target, success;
};

struct fault {
	char path[256];
	int status;
	double ratio;
	int latency_ms;
	bool accepted;
};
#define FAULTS_MAX 32

struct logent {
	uint64_t seq;
	int64_t ts;
	char method[8];
	char path[160];
	char endpoint[48];
	int status;
	char retry_key[40];
	long recipients;
	char request_id[SIM_REQID_SIZE];
};

struct webent {
	uint64_t seq;
	int64_t ts;
	char url[256];
	int status;
	char error[128];
	int attempt;
	bool redelivery;
	char *body;
	char signature[48];
};

/* Hour-window limits keep every timestamp in the window (at most the
 * limit, 100), so the 61st broadcast in any 60 minutes is refused, not just
 * the 61st in a clock hour. */
#define RATE_WINDOW_MAX 100
struct rate {
	int per_second; /* 0 when hourly */
	int per_hour;
	int64_t sec; /* the current second, for per-second limits */
	int count;
	int64_t times[RATE_WINDOW_MAX];
	int head, n;
};

struct sim {
	pthread_mutex_t mu;
	struct sim_opts opts;
	struct sim_channel ch;
	uint64_t rng;

	struct user *users;
	size_t nusers, capusers, nfollowers;
	uint32_t *index; /* open addressing: user index + 1, 0 empty */
	size_t index_cap;

	GHashTable *reply_tokens; /* char* → struct reply_token* */
	GHashTable *retry_keys;	  /* char* → struct retry_entry* */
	GHashTable *narrowcasts;  /* char* → struct narrowcast* */
	GHashTable *stats;	  /* "endpoint status" → counter (boxed in pointer) */
	GHashTable *sent;	  /* "endpoint YYYYMMDD" (Japan time) → recipients */
	int64_t next_sweep;

	struct fault faults[FAULTS_MAX];
	int nfaults;

	struct logent *log;
	uint64_t log_seq;
	struct webent *web;
	uint64_t web_seq;

	struct rate rates[SIM_RATE_COUNT];
	long long quota, usage;
	uint64_t deliveries, requests;
};

/* ------------------------------------------------------------------ ids */

int64_t sim_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* splitmix64: tiny, fast and deterministic under --seed; these ids need
 * to look like LINE's, not to resist an attacker. */
uint64_t sim_random(struct sim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void random_bytes(struct sim *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t r = sim_random(s);

		for (size_t j = 0; j < 8 && i + j < n; j++)
			out[i + j] = (uint8_t)(r >> (8 * j));
	}
}

void sim_random_hex(struct sim *s, char *out, size_t nhex)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < nhex; i++)
		out[i] = hex[sim_random(s) & 15];
	out[nhex] = '\0';
}

/* Hex digit values plus one, 0 for anything else (upper case included:
 * LINE ids are lower case); a table because a multicast parses 500 ids. */
static const unsigned char hexval_table[256] = {
	['0'] = 1,  ['1'] = 2,	['2'] = 3,  ['3'] = 4,	['4'] = 5,  ['5'] = 6,
	['6'] = 7,  ['7'] = 8,	['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static int hexval(char c)
{
	return (int)hexval_table[(unsigned char)c] - 1;
}

bool sim_uid_parse(const char *text, uint8_t out[SIM_UID_BYTES])
{
	if (text == NULL || text[0] != 'U' || strlen(text) != 1 + 2 * SIM_UID_BYTES)
		return false;
	for (int i = 0; i < SIM_UID_BYTES; i++) {
		int hi = hexval(text[1 + 2 * i]), lo = hexval(text[2 + 2 * i]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

void sim_uid_format(const uint8_t id[SIM_UID_BYTES], char out[SIM_UID_SIZE])
{
	out[0] = 'U';
	if (!str_hex(id, SIM_UID_BYTES, out + 1, SIM_UID_SIZE - 1))
		out[1] = '\0'; /* cannot happen: the sizes are constants */
}

void sim_request_id(struct sim *s, char out[SIM_REQID_SIZE])
{
	uint8_t b[16];
	char hex[33];

	random_bytes(s, b, sizeof(b));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	if (!str_hex(b, sizeof(b), hex, sizeof(hex)) ||
	    !str_printf(out, SIM_REQID_SIZE, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
			hex + 16, hex + 20))
		out[0] = '\0';
}

void sim_message_id(struct sim *s, char out[SIM_MSGID_SIZE])
{
	/* LINE's message ids are 18-digit decimal strings. */
	uint64_t r = sim_random(s) % 900000000000000000ULL + 100000000000000000ULL;

	if (!str_printf(out, SIM_MSGID_SIZE, "%llu", (unsigned long long)r))
		out[0] = '\0';
}

void sim_event_id(struct sim *s, char out[SIM_EVENTID_SIZE])
{
	static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	uint64_t t = (uint64_t)sim_now_ms();

	/* ULID: 48-bit time in 10 characters, then 80 random bits in 16. */
	for (int i = 9; i >= 0; i--) {
		out[i] = b32[t & 31];
		t >>= 5;
	}
	for (int i = 10; i < 26; i++)
		out[i] = b32[sim_random(s) & 31];
	out[26] = '\0';
}

/* ------------------------------------------------------------ lifecycle */

static void rates_init(struct sim *s)
{
	static const int per_second[SIM_RATE_COUNT] = {2000, 200, 0, 0, 0, 0};
	static const int per_hour[SIM_RATE_COUNT] = {0, 0, 60, 60, 100, 3};

	memset(s->rates, 0, sizeof(s->rates));
	for (int i = 0; i < SIM_RATE_COUNT; i++) {
		s->rates[i].per_second = per_second[i];
		s->rates[i].per_hour = per_hour[i];
	}
}

static void free_reply_token(gpointer p)
{
	struct reply_token *t = p;

	if (t->d != NULL)
		sim_delivery_unref(t->d);
	free(t);
}

static bool tables_new(struct sim *s)
{
	s->reply_tokens = g_hash_table_new_full(g_str_hash, g_str_equal, free, free_reply_token);
	s->retry_keys = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
	s->narrowcasts = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
	s->stats = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	s->sent = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	return s->reply_tokens != NULL && s->retry_keys != NULL && s->narrowcasts != NULL &&
	       s->stats != NULL && s->sent != NULL;
}

static void tables_free(struct sim *s)
{
	if (s->reply_tokens != NULL)
		g_hash_table_destroy(s->reply_tokens);
	if (s->retry_keys != NULL)
		g_hash_table_destroy(s->retry_keys);
	if (s->narrowcasts != NULL)
		g_hash_table_destroy(s->narrowcasts);
	if (s->stats != NULL)
		g_hash_table_destroy(s->stats);
	if (s->sent != NULL)
		g_hash_table_destroy(s->sent);
	s->sent = NULL;
	s->reply_tokens = s->retry_keys = s->narrowcasts = s->stats = NULL;
}

static void inbox_free(struct inbox *ib)
{
	if (ib == NULL)
		return;
	for (uint32_t i = 0; i < ib->n; i++)
		sim_delivery_unref(ib->d[i]);
	free(ib->d);
	free(ib);
}

static void users_free(struct sim *s)
{
	for (size_t i = 0; i < s->nusers; i++)
		inbox_free(s->users[i].inbox);
	free(s->users);
	free(s->index);
	s->users = NULL;
	s->index = NULL;
	s->nusers = s->capusers = s->index_cap = s->nfollowers = 0;
}

static void logs_clear(struct sim *s)
{
	if (s->web != NULL)
		for (size_t i = 0; i < s->opts.webhook_max; i++) {
			free(s->web[i].body);
			s->web[i].body = NULL;
			s->web[i].seq = 0;
		}
	if (s->log != NULL)
		memset(s->log, 0, s->opts.log_max * sizeof(*s->log));
	s->log_seq = s->web_seq = 0;
}

static uint64_t seed_from_urandom(void)
{
	uint64_t v = (uint64_t)sim_now_ms() ^ ((uint64_t)getpid() << 32);
	FILE *f = fopen("/dev/urandom", "rb");

	if (f != NULL) {
		if (fread(&v, sizeof(v), 1, f) != 1)
			v ^= (uint64_t)mono_ms();
		fclose(f);
	}
	return v;
}

static void set_or(char *dst, size_t size, const char *over, const char *dflt)
{
	const char *v = over != NULL && over[0] != '\0' ? over : dflt;

	if (!str_copy(dst, v, size))
		str_msg(dst, size, "%s", dflt);
}

struct sim *sim_new(const struct sim_opts *opts, const struct sim_channel *over)
{
	struct sim *s = calloc(1, sizeof(*s));
	char tmp[176];
	uint8_t bot[SIM_UID_BYTES];

	if (s == NULL)
		return NULL;
	pthread_mutex_init(&s->mu, NULL);
	s->opts = *opts;
	if (s->opts.log_max == 0)
		s->opts.log_max = 1;
	if (s->opts.webhook_max == 0)
		s->opts.webhook_max = 1;
	s->rng = opts->seed != 0 ? opts->seed : seed_from_urandom();
	s->quota = opts->quota;
	rates_init(s);
	if (!tables_new(s))
		goto fail;
	s->log = calloc(s->opts.log_max, sizeof(*s->log));
	s->web = calloc(s->opts.webhook_max, sizeof(*s->web));
	if (s->log == NULL || s->web == NULL)
		goto fail;

	/* What LINE's console shows: a 10-digit channel id, a 32-hex secret, a
	 * long opaque token, and the bot's own user id (webhook destination). */
	str_msg(tmp, sizeof(tmp), "%010llu",
		(unsigned long long)(sim_random(s) % 9000000000ULL + 1000000000ULL));
	set_or(s->ch.channel_id, sizeof(s->ch.channel_id), over ? over->channel_id : NULL, tmp);
	sim_random_hex(s, tmp, 32);
	set_or(s->ch.channel_secret, sizeof(s->ch.channel_secret),
	       over ? over->channel_secret : NULL, tmp);
	sim_random_hex(s, tmp, 160);
	set_or(s->ch.access_token, sizeof(s->ch.access_token), over ? over->access_token : NULL,
	       tmp);
	str_msg(tmp, sizeof(tmp), "%010llu",
		(unsigned long long)(sim_random(s) % 9000000000ULL + 1000000000ULL));
	set_or(s->ch.login_channel_id, sizeof(s->ch.login_channel_id),
	       over ? over->login_channel_id : NULL, tmp);
	random_bytes(s, bot, sizeof(bot));
	sim_uid_format(bot, s->ch.bot_user_id);
	set_or(s->ch.webhook_url, sizeof(s->ch.webhook_url), over ? over->webhook_url : NULL, "");
	return s;
fail:
	sim_free(s);
	return NULL;
}

void sim_free(struct sim *s)
{
	if (s == NULL)
		return;
	users_free(s);
	tables_free(s);
	logs_clear(s);
	free(s->log);
	free(s->web);
	str_wipe(&s->ch, sizeof(s->ch));
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void sim_lock(struct sim *s)
{
	pthread_mutex_lock(&s->mu);
}

void sim_unlock(struct sim *s)
{
	pthread_mutex_unlock(&s->mu);
}

void sim_reset(struct sim *s)
{
	users_free(s);
	tables_free(s);
	if (!tables_new(s))
		abort(); /* glib aborts on ENOMEM itself; nothing to recover */
	logs_clear(s);
	s->nfaults = 0;
	rates_init(s);
	s->usage = 0;
	s->deliveries = s->requests = 0;
}

struct sim_channel *sim_channel(struct sim *s)
{
	return &s->ch;
}

const struct sim_opts *sim_opts(const struct sim *s)
{
	return &s->opts;
}

void sim_set_rate_limits(struct sim *s, bool on)
{
	s->opts.rate_limits = on;
}

/* ------------------------------------------------------------ residents */

static size_t uid_hash(const uint8_t id[SIM_UID_BYTES])
{
	uint64_t h;

	/* Ids are random, but a caller may pick its own: mix anyway. */
	memcpy(&h, id, sizeof(h));
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h;
}

static bool index_grow(struct sim *s)
{
	size_t cap = s->index_cap ? s->index_cap * 2 : 1024;
	uint32_t *ix;

	if (cap > ((size_t)1 << 31))
		return false;
	ix = calloc(cap, sizeof(*ix));
	if (ix == NULL)
		return false;
	for (size_t i = 0; i < s->nusers; i++) {
		size_t p = uid_hash(s->users[i].id) & (cap - 1);

		while (ix[p] != 0)
			p = (p + 1) & (cap - 1);
		ix[p] = (uint32_t)(i + 1);
	}
	free(s->index);
	s->index = ix;
	s->index_cap = cap;
	return true;
}

long sim_user_find(const struct sim *s, const uint8_t id[SIM_UID_BYTES])
{
	size_t p;

	if (s->index_cap == 0)
		return -1;
	p = uid_hash(id) & (s->index_cap - 1);
	while (s->index[p] != 0) {
		const struct user *u = &s->users[s->index[p] - 1];

		if (memcmp(u->id, id, SIM_UID_BYTES) == 0)
			return (long)s->index[p] - 1;
		p = (p + 1) & (s->index_cap - 1);
	}
	return -1;
}

static long user_insert(struct sim *s, const uint8_t id[SIM_UID_BYTES])
{
	size_t p;

	/* Keep the load factor at most 1/2 so probes stay short. */
	if ((s->nusers + 1) * 2 > s->index_cap && !index_grow(s))
		return -1;
	if (s->nusers == s->capusers) {
		size_t cap = s->capusers ? s->capusers * 2 : 1024;
		struct user *u;

		if (cap > UINT32_MAX - 1)
			return -1;
		u = realloc(s->users, cap * sizeof(*u));
		if (u == NULL)
			return -1;
		s->users = u;
		s->capusers = cap;
	}
	memcpy(s->users[s->nusers].id, id, SIM_UID_BYTES);
	s->users[s->nusers].flags = U_FOLLOWING;
	s->users[s->nusers].inbox = NULL;
	p = uid_hash(id) & (s->index_cap - 1);
	while (s->index[p] != 0)
		p = (p + 1) & (s->index_cap - 1);
	s->index[p] = (uint32_t)(s->nusers + 1);
	s->nfollowers++;
	return (long)s->nusers++;
}

long sim_user_create(struct sim *s)
{
	uint8_t id[SIM_UID_BYTES];

	do
		random_bytes(s, id, sizeof(id));
	while (sim_user_find(s, id) >= 0);
	return user_insert(s, id);
}

long sim_user_ensure(struct sim *s, const uint8_t id[SIM_UID_BYTES], bool *created)
{
	long idx = sim_user_find(s, id);

	*created = idx < 0;
	return idx >= 0 ? idx : user_insert(s, id);
}

size_t sim_user_count(const struct sim *s)
{
	return s->nusers;
}

size_t sim_follower_count(const struct sim *s)
{
	return s->nfollowers;
}

void sim_user_id(const struct sim *s, long idx, char out[SIM_UID_SIZE])
{
	sim_uid_format(s->users[idx].id, out);
}

bool sim_user_following(const struct sim *s, long idx)
{
	return (s->users[idx].flags & U_FOLLOWING) != 0;
}

bool sim_user_was_blocked(const struct sim *s, long idx)
{
	return (s->users[idx].flags & U_BLOCKED) != 0;
}

bool sim_user_mark(struct sim *s, long idx)
{
	if (s->users[idx].flags & U_MARK)
		return false;
	s->users[idx].flags |= U_MARK;
	return true;
}

void sim_user_unmark(struct sim *s, long idx)
{
	s->users[idx].flags &= ~U_MARK;
}

void sim_user_set_following(struct sim *s, long idx, bool following)
{
	struct user *u = &s->users[idx];

	if (following && !(u->flags & U_FOLLOWING)) {
		u->flags |= U_FOLLOWING;
		s->nfollowers++;
	} else if (!following && (u->flags & U_FOLLOWING)) {
		u->flags = (u->flags & ~U_FOLLOWING) | U_BLOCKED;
		s->nfollowers--;
	}
}

/* ----------------------------------------------------------- deliveries */

struct sim_delivery *sim_delivery_new(const char *endpoint, const char *request_id,
				      json_t *messages)
{
	struct sim_delivery *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		json_decref(messages);
		return NULL;
	}
	d->refs = 1;
	str_msg(d->endpoint, sizeof(d->endpoint), "%s", endpoint);
	str_msg(d->request_id, sizeof(d->request_id), "%s", request_id);
	d->ts = sim_now_ms();
	d->messages = messages;
	return d;
}

void sim_delivery_unref(struct sim_delivery *d)
{
	if (d == NULL || --d->refs > 0)
		return;
	json_decref(d->messages);
	free(d);
}

int sim_deliver(struct sim *s, long idx, struct sim_delivery *d)
{
	struct user *u = &s->users[idx];
	struct inbox *ib = u->inbox;

	s->deliveries++;
	if (s->opts.inbox_max <= 0)
		return 0;
	if (ib == NULL) {
		ib = calloc(1, sizeof(*ib));
		if (ib == NULL)
			return -1;
		u->inbox = ib;
	}
	if (ib->n == (uint32_t)s->opts.inbox_max) {
		/* Full: the oldest delivery goes, as a bounded phone history. */
		sim_delivery_unref(ib->d[0]);
		memmove(ib->d, ib->d + 1, (ib->n - 1) * sizeof(*ib->d));
		ib->n--;
	}
	if (ib->n == ib->cap) {
		uint32_t cap = ib->cap ? ib->cap * 2 : 4;
		struct sim_delivery **nd;

		if (cap > (uint32_t)s->opts.inbox_max)
			cap = (uint32_t)s->opts.inbox_max;
		nd = realloc(ib->d, cap * sizeof(*nd));
		if (nd == NULL)
			return -1;
		ib->d = nd;
		ib->cap = cap;
	}
	d->refs++;
	ib->d[ib->n++] = d;
	return 0;
}

json_t *sim_inbox_json(const struct sim *s, long idx)
{
	const struct inbox *ib = s->users[idx].inbox;
	json_t *out = json_array();

	if (out == NULL || ib == NULL)
		return out;
	for (uint32_t i = 0; i < ib->n; i++) {
		const struct sim_delivery *d = ib->d[i];
		size_t j;
		json_t *m;

		json_array_foreach(d->messages, j, m)
		{
			json_array_append_new(out, json_pack("{s:s, s:s, s:I, s:O}", "endpoint",
							     d->endpoint, "requestId",
							     d->request_id, "timestamp",
							     (json_int_t)d->ts, "message", m));
		}
	}
	return out;
}

/* --------------------------------------------------- tokens and retry keys */

/* Drop expired reply tokens and retry keys at most once a second, so a
 * long bench does not grow these tables without bound. */
static gboolean expired_token(gpointer k, gpointer v, gpointer now)
{
	(void)k;
	return ((struct reply_token *)v)->expires < *(int64_t *)now;
}

static gboolean expired_retry(gpointer k, gpointer v, gpointer now)
{
	(void)k;
	return ((struct retry_entry *)v)->expires < *(int64_t *)now;
}

static void sweep(struct sim *s)
{
	int64_t now = sim_now_ms();
	/* Used tokens stay a minute longer so the control API can show the replies. */
	int64_t token_cut = now - SIM_REPLY_TOKEN_TTL_MS;

	if (now < s->next_sweep)
		return;
	s->next_sweep = now + 1000;
	g_hash_table_foreach_remove(s->reply_tokens, expired_token, &token_cut);
	g_hash_table_foreach_remove(s->retry_keys, expired_retry, &now);
}

void sim_reply_token_new(struct sim *s, long idx, char out[SIM_TOKEN_SIZE])
{
	struct reply_token *t = calloc(1, sizeof(*t));
	char *key;

	sim_random_hex(s, out, SIM_TOKEN_SIZE - 1);
	key = strdup(out);
	if (t == NULL || key == NULL) {
		free(t);
		free(key);
		return; /* the token will simply be unknown */
	}
	sweep(s);
	t->idx = idx;
	t->expires = sim_now_ms() + SIM_REPLY_TOKEN_TTL_MS;
	g_hash_table_replace(s->reply_tokens, key, t);
}

long sim_reply_token_use(struct sim *s, const char *token)
{
	struct reply_token *t = g_hash_table_lookup(s->reply_tokens, token);

	if (t == NULL || t->used || t->expires < sim_now_ms())
		return -1;
	t->used = true;
	return t->idx;
}

void sim_reply_token_attach(struct sim *s, const char *token, struct sim_delivery *d)
{
	struct reply_token *t = g_hash_table_lookup(s->reply_tokens, token);

	if (t == NULL || t->d != NULL)
		return;
	d->refs++;
	t->d = d;
}

json_t *sim_reply_token_replies(const struct sim *s, const char *token)
{
	const struct reply_token *t = g_hash_table_lookup(s->reply_tokens, token);

	if (t == NULL || t->d == NULL)
		return NULL;
	return json_deep_copy(t->d->messages);
}

bool sim_retry_seen(struct sim *s, const char *key, char accepted[SIM_REQID_SIZE])
{
	const struct retry_entry *e;

	sweep(s);
	e = g_hash_table_lookup(s->retry_keys, key);
	if (e == NULL || e->expires < sim_now_ms())
		return false;
	str_msg(accepted, SIM_REQID_SIZE, "%s", e->request_id);
	return true;
}

int sim_retry_remember(struct sim *s, const char *key, const char *request_id)
{
	struct retry_entry *e = calloc(1, sizeof(*e));
	char *k = strdup(key);

	if (e == NULL || k == NULL) {
		free(e);
		free(k);
		return -1;
	}
	e->expires = sim_now_ms() + SIM_RETRY_KEY_TTL_MS;
	str_msg(e->request_id, sizeof(e->request_id), "%s", request_id);
	g_hash_table_replace(s->retry_keys, k, e);
	return 0;
}

/* ------------------------------------------------------ rates and quota */

bool sim_rate_allow(struct sim *s, enum sim_rate which)
{
	struct rate *r = &s->rates[which];
	int64_t now = mono_ms();

	if (!s->opts.rate_limits)
		return true;
	if (r->per_second > 0) {
		if (now / 1000 != r->sec) {
			r->sec = now / 1000;
			r->count = 0;
		}
		if (r->count >= r->per_second)
			return false;
		r->count++;
		return true;
	}
	while (r->n > 0 && r->times[r->head] <= now - 3600 * 1000) {
		r->head = (r->head + 1) % RATE_WINDOW_MAX;
		r->n--;
	}
	if (r->n >= r->per_hour)
		return false;
	r->times[(r->head + r->n) % RATE_WINDOW_MAX] = now;
	r->n++;
	return true;
}

bool sim_quota_allows(const struct sim *s, long long n)
{
	return s->quota < 0 || s->usage + n <= s->quota;
}

void sim_quota_consume(struct sim *s, long long n)
{
	s->usage += n;
}

long long sim_quota_limit(const struct sim *s)
{
	return s->quota;
}

long long sim_quota_usage(const struct sim *s)
{
	return s->usage;
}

void sim_set_quota(struct sim *s, long long limit)
{
	s->quota = limit;
}

/* ---------------------------------------------------------- narrowcast */

/* Progress records kept: older narrowcasts are forgotten past this. */
#define NARROWCAST_MAX 10000

int sim_narrowcast_record(struct sim *s, const char *request_id, long long target,
			  long long success)
{
	struct narrowcast *n;
	char *k;

	if (g_hash_table_size(s->narrowcasts) >= NARROWCAST_MAX)
		g_hash_table_remove_all(s->narrowcasts);
	n = calloc(1, sizeof(*n));
	k = strdup(request_id);
	if (n == NULL || k == NULL) {
		free(n);
		free(k);
		return -1;
	}
	n->accepted = sim_now_ms();
	n->target = target;
	n->success = success;
	g_hash_table_replace(s->narrowcasts, k, n);
	return 0;
}

static void iso_time(int64_t ms, char *out, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	str_msg(out, size, "%s.%03dZ", base, (int)(ms % 1000));
}

json_t *sim_narrowcast_progress(const struct sim *s, const char *request_id)
{
	const struct narrowcast *n = g_hash_table_lookup(s->narrowcasts, request_id);
	char at[40];

	if (n == NULL)
		return NULL;
	iso_time(n->accepted, at, sizeof(at));
	/* Delivery here is synchronous, so a known narrowcast has succeeded. */
	return json_pack("{s:s, s:I, s:I, s:I, s:s, s:s}", "phase", "succeeded", "successCount",
			 (json_int_t)n->success, "failureCount",
			 (json_int_t)(n->target - n->success), "targetCount", (json_int_t)n->target,
			 "acceptedTime", at, "completedTime", at);
}

/* --------------------------------------------------------------- faults */

int sim_fault_set(struct sim *s, const char *path, int status, double ratio, int latency_ms,
		  bool accepted)
{
	struct fault *f = NULL;

	for (int i = 0; i < s->nfaults; i++)
		if (strcmp(s->faults[i].path, path) == 0)
			f = &s->faults[i];
	if (f == NULL) {
		if (s->nfaults == FAULTS_MAX)
			return -1;
		f = &s->faults[s->nfaults++];
	}
	if (!str_copy(f->path, path, sizeof(f->path))) {
		s->nfaults--;
		return -1;
	}
	f->status = status;
	f->ratio = ratio;
	f->latency_ms = latency_ms;
	f->accepted = accepted;
	return 0;
}

void sim_faults_clear(struct sim *s)
{
	s->nfaults = 0;
}

bool sim_fault_for(struct sim *s, const char *path, int *status, int *latency_ms, bool *accepted)
{
	for (int i = 0; i < s->nfaults; i++) {
		const struct fault *f = &s->faults[i];
		size_t n = strlen(f->path);

		/* A fault's path matches itself and what lies below it. */
		if (strncmp(path, f->path, n) != 0 ||
		    (path[n] != '\0' && path[n] != '/' && f->path[n - 1] != '/'))
			continue;
		*latency_ms = f->latency_ms;
		*accepted = f->accepted;
		*status = 0;
		if (f->status != 0 && (double)(sim_random(s) >> 11) / 9007199254740992.0 < f->ratio)
			*status = f->status;
		return true;
	}
	return false;
}

json_t *sim_faults_json(const struct sim *s)
{
	json_t *a = json_array();

	for (int i = 0; a != NULL && i < s->nfaults; i++)
		json_array_append_new(a, json_pack("{s:s, s:i, s:f, s:i, s:b}", "path",
						   s->faults[i].path, "status", s->faults[i].status,
						   "ratio", s->faults[i].ratio, "latency_ms",
						   s->faults[i].latency_ms, "accepted",
						   s->faults[i].accepted));
	return a;
}

/* ---------------------------------------------------------------- logs */

static void count(struct sim *s, const char *endpoint, int status)
{
	char key[96];
	gpointer old;

	str_msg(key, sizeof(key), "%s %d", endpoint, status);
	old = g_hash_table_lookup(s->stats, key);
	if (old != NULL) {
		g_hash_table_insert(s->stats, strdup(key), (gpointer)((uintptr_t)old + 1));
		return;
	}
	if (g_hash_table_size(s->stats) < 4096) /* bounded: endpoints × statuses */
		g_hash_table_insert(s->stats, strdup(key), (gpointer)(uintptr_t)1);
}

/* The date LINE's delivery statistics use: yyyyMMdd in Japan (UTC+9). */
static void jst_date(int64_t ms, char out[16])
{
	time_t t = (time_t)(ms / 1000) + 9 * 3600;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y%m%d", &tm);
}

static void count_sent(struct sim *s, const char *endpoint, long n)
{
	char key[64], date[16];
	gpointer old;

	jst_date(sim_now_ms(), date);
	str_msg(key, sizeof(key), "%s %s", endpoint, date);
	old = g_hash_table_lookup(s->sent, key);
	if (old != NULL || g_hash_table_size(s->sent) < 4096)
		g_hash_table_insert(s->sent, strdup(key),
				    (gpointer)((uintptr_t)old + (uintptr_t)n));
}

long long sim_sent_on(const struct sim *s, const char *endpoint, const char *date)
{
	char key[64];

	str_msg(key, sizeof(key), "%s %s", endpoint, date);
	return (long long)(uintptr_t)g_hash_table_lookup(s->sent, key);
}

/* Length of the valid UTF-8 sequence at p (jansson's rules: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p)
{
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Copy request text (a path, a method, a header) into a log entry as valid
 * UTF-8: a byte that does not start a valid sequence, or a character cut by
 * the entry's size, becomes '?'.  Without this, json_string() refuses the
 * text and the request vanished from GET /sim/requests (a path with %ff, a
 * Latin-1 retry key, a long Japanese path cut mid-character). */
static void log_text(char *dst, size_t size, const char *src)
{
	str_msg(dst, size, "%s", src != NULL ? src : "");
	for (unsigned char *p = (unsigned char *)dst; *p != '\0';) {
		size_t n = utf8_seq(p);

		if (n == 0) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

void sim_log_request(struct sim *s, const char *method, const char *path, const char *endpoint,
		     int status, const char *retry_key, long recipients, const char *request_id)
{
	struct logent *e = &s->log[(s->log_seq + 1) % s->opts.log_max];

	if (status >= 200 && status < 300 && recipients > 0)
		count_sent(s, endpoint, recipients);
	s->requests++;
	count(s, endpoint, status);
	memset(e, 0, sizeof(*e));
	e->seq = ++s->log_seq;
	e->ts = sim_now_ms();
	log_text(e->method, sizeof(e->method), method);
	log_text(e->path, sizeof(e->path), path);
	str_msg(e->endpoint, sizeof(e->endpoint), "%s", endpoint);
	e->status = status;
	log_text(e->retry_key, sizeof(e->retry_key), retry_key);
	e->recipients = recipients;
	str_msg(e->request_id, sizeof(e->request_id), "%s", request_id ? request_id : "");
}

json_t *sim_requests_json(const struct sim *s, uint64_t since)
{
	json_t *a = json_array();
	uint64_t first = s->log_seq > s->opts.log_max ? s->log_seq - s->opts.log_max + 1 : 1;

	if (since + 1 > first)
		first = since + 1;
	for (uint64_t q = first; a != NULL && q <= s->log_seq; q++) {
		const struct logent *e = &s->log[q % s->opts.log_max];
		json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:i, s:I}", "seq",
				      (json_int_t)e->seq, "timestamp", (json_int_t)e->ts, "method",
				      e->method, "path", e->path, "endpoint", e->endpoint, "status",
				      e->status, "recipients", (json_int_t)e->recipients);

		if (o == NULL)
			continue;
		json_object_set_new(o, "retryKey",
				    e->retry_key[0] ? json_string(e->retry_key) : json_null());
		json_object_set_new(o, "requestId",
				    e->request_id[0] ? json_string(e->request_id) : json_null());
		json_array_append_new(a, o);
	}
	return a;
}

/* Webhook bodies kept per attempt: enough for a batch of follow events. */
#define WEBHOOK_BODY_KEEP (256 * 1024)

void sim_log_webhook(struct sim *s, const char *url, int status, const char *error, int attempt,
		     bool redelivery, const char *body, const char *signature)
{
	struct webent *e = &s->web[(s->web_seq + 1) % s->opts.webhook_max];

	free(e->body);
	memset(e, 0, sizeof(*e));
	e->seq = ++s->web_seq;
	e->ts = sim_now_ms();
	log_text(e->url, sizeof(e->url), url); /* may be cut mid-character */
	e->status = status;
	str_msg(e->error, sizeof(e->error), "%s", error ? error : "");
	e->attempt = attempt;
	e->redelivery = redelivery;
	e->body = strlen(body) <= WEBHOOK_BODY_KEEP ? strdup(body) : NULL;
	str_msg(e->signature, sizeof(e->signature), "%s", signature);
	count(s, "webhook", status);
}

json_t *sim_webhooks_json(const struct sim *s, uint64_t since)
{
	json_t *a = json_array();
	uint64_t first =
		s->web_seq > s->opts.webhook_max ? s->web_seq - s->opts.webhook_max + 1 : 1;

	if (since + 1 > first)
		first = since + 1;
	for (uint64_t q = first; a != NULL && q <= s->web_seq; q++) {
		const struct webent *e = &s->web[q % s->opts.webhook_max];
		json_t *o = json_pack("{s:I, s:I, s:s, s:i, s:i, s:b, s:s}", "seq",
				      (json_int_t)e->seq, "timestamp", (json_int_t)e->ts, "url",
				      e->url, "status", e->status, "attempt", e->attempt,
				      "isRedelivery", e->redelivery, "signature", e->signature);

		if (o == NULL)
			continue;
		json_object_set_new(o, "error", e->error[0] ? json_string(e->error) : json_null());
		json_object_set_new(o, "body", e->body ? json_string(e->body) : json_null());
		json_array_append_new(a, o);
	}
	return a;
}

json_t *sim_stats_json(const struct sim *s)
{
	json_t *by = json_object();
	GHashTableIter it;
	gpointer k, v;

	if (by == NULL)
		return NULL;
	g_hash_table_iter_init(&it, s->stats);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		char ep[96];
		const char *sp = strrchr(k, ' ');
		json_t *o;

		if (sp == NULL || !str_copy(ep, k, sizeof(ep)))
			continue;
		ep[sp - (const char *)k] = '\0';
		o = json_object_get(by, ep);
		if (o == NULL) {
			o = json_object();
			json_object_set_new(by, ep, o);
		}
		json_object_set_new(o, sp + 1, json_integer((json_int_t)(uintptr_t)v));
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}", "requests", (json_int_t)s->requests,
			 "deliveries", (json_int_t)s->deliveries, "users", (json_int_t)s->nusers,
			 "followers", (json_int_t)s->nfollowers, "quotaUsage", (json_int_t)s->usage,
			 "byEndpoint", by);
}
