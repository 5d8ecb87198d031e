/*
 * liff — the resident pages and their API; see liff.h.
 *
 * Everything arriving here comes from the internet.  The ID token is
 * checked for its shape and size before it is sent to LINE; the PUT body is
 * bounded in size and nesting before JSON parsing (settings_parse(), the
 * one place that reads it) and every item and value in it is checked
 * against the item list read from the database for this request.
 */
#include "liff.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db.h"
#include "dbpool.h"
#include "jsonlimit.h"
#include "line.h"
#include "log.h"
#include "static.h"
#include "store_prefs.h"
#include "str.h"

/* A LINE ID token is about 1 KB; a bigger "token" is refused before it
 * costs a request to LINE. */
#define LIFF_TOKEN_MAX 4096
/* A PUT body: every current item with all its values fits many times over
 * in 16 KB; more is someone trying to make us parse megabytes. */
#define LIFF_BODY_MAX ((size_t)16 * 1024)
/* {"settings":{"item":["value"]}} is 3 deep; deeper is not ours, and stops
 * a "[[[[…" body from costing recursion in the parser. */
#define LIFF_JSON_DEPTH 4
/* Children's birthdates per date item: a family with more writes to the
 * city; it also bounds what one resident can store. */
#define LIFF_DATES_MAX 10
/* Reasons listed in one 400 answer; the rest are summarised. */
#define LIFF_REASONS_MAX 20
/* Verified tokens remembered (direct-mapped by digest) and for how long. */
#define LIFF_CACHE_SLOTS   256
#define LIFF_CACHE_SECONDS 60
/* A LINE user id: U and 32 hex digits. */
#define LINE_UID_SIZE 34

#define LIFF_ISSUER "https://access.line.me"
#define JSON_TYPE   "application/json; charset=utf-8"

/* No inline script or style, scripts from us and LINE's CDN (the LIFF SDK
 * loads its in-app extensions from there), API calls to us and LINE.  Must
 * fit HTTPD_HEADER_VALUE_MAX; frame-ancestors is X-Frame-Options below. */
#define LIFF_CSP                                                                                   \
	"default-src 'self'; script-src 'self' https://*.line-scdn.net; connect-src 'self' "       \
	"https://*.line.me https://*.line-scdn.net; base-uri 'none'"

/* The page's files (liff_dir, read by lib/static): without one of them
 * the page cannot work, so its path answers 503 rather than 404. */
static const char *const page_paths[] = {
	"/liff/", "/liff/index.html", "/liff/app.js", "/liff/style.css", "/liff/sdk.js",
};

struct token_slot {
	unsigned char digest[SHA256_DIGEST_LENGTH];
	char sub[LINE_UID_SIZE];
	time_t until;
};

struct liff {
	const struct hl_config *cfg;
	struct static_dir *pages; /* NULL when liff_dir could not be read */

	/* One LINE Login client per HTTP thread (a client is used by one
	 * thread), made on its first verify and freed when the thread ends,
	 * so verifies run in parallel. */
	pthread_key_t client_key;
	bool have_key;
	struct line_client_options client_opts;

	pthread_mutex_t cache_lock;
	struct token_slot cache[LIFF_CACHE_SLOTS];
};

static void client_free(void *lc)
{
	line_client_free(lc);
}

struct liff *liff_new(const struct hl_config *cfg, char *err, size_t errlen)
{
	struct line_client_options o = {
		.base_url = cfg->line.api_base_url,
		.token = NULL, /* verify needs none, and the webhook holds none */
		.ca_file = cfg->line.ca_file,
		.timeout_ms = (long)cfg->line.request_timeout_ms,
		.max_connections = 1,
	};
	struct line_client *probe;
	struct liff *l = calloc(1, sizeof(*l));
	char why[512];

	if (l == NULL) {
		str_msg(err, errlen, "out of memory");
		return NULL;
	}
	l->cfg = cfg;
	l->client_opts = o;
	pthread_mutex_init(&l->cache_lock, NULL);
	/* A client made now says at once whether the options are usable. */
	probe = line_client_new(&o, err, errlen);
	if (probe == NULL)
		goto fail;
	line_client_free(probe);
	if (pthread_key_create(&l->client_key, client_free) != 0) {
		str_msg(err, errlen, "cannot create a thread key");
		goto fail;
	}
	l->have_key = true;
	l->pages = static_new(cfg->webhook.liff_dir, "/liff/", why, sizeof(why));
	for (size_t i = 0; i < sizeof(page_paths) / sizeof(page_paths[0]); i++) {
		char q[600];

		if (l->pages == NULL) {
			log_warn("liff pages missing, answered 503", "error=%s",
				 log_quote(why, q, sizeof(q)));
			break;
		}
		if (!static_has(l->pages, page_paths[i]))
			log_warn("liff page missing, answered 503", "path=%s", page_paths[i]);
	}
	if (cfg->line.login_channel_id[0] == '\0')
		log_warn("liff: [line] login_channel_id is not set, the settings API answers 503",
			 NULL);
	return l;
fail:
	liff_free(l);
	return NULL;
}

void liff_free(struct liff *l)
{
	if (l == NULL)
		return;
	/* Threads still running keep their clients until they end. */
	if (l->have_key)
		pthread_key_delete(l->client_key);
	static_free(l->pages);
	pthread_mutex_destroy(&l->cache_lock);
	OPENSSL_cleanse(l->cache, sizeof(l->cache));
	free(l);
}

/* ------------------------------------------------------------ replies */

static void security_headers(struct httpd_reply *reply)
{
	/* Every header fits (constants checked by the first request in the
	 * tests); a failure would mean HTTPD_REPLY_HEADERS_MAX shrank. */
	if (!httpd_reply_header(reply, "Content-Security-Policy", LIFF_CSP) ||
	    !httpd_reply_header(reply, "Referrer-Policy", "no-referrer") ||
	    !httpd_reply_header(reply, "X-Frame-Options", "DENY"))
		log_error("liff: security headers do not fit the reply", NULL);
}

/* Reply with a JSON value (stolen). */
static void reply_json(struct httpd_reply *reply, int status, json_t *v)
{
	char *text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;

	json_decref(v);
	if (text == NULL) {
		httpd_reply_static(
			reply, 500, JSON_TYPE,
			"{\"error\":\"internal\",\"message\":\"内部エラーが発生しました。\"}");
		return;
	}
	httpd_reply_owned(reply, status, JSON_TYPE, text, strlen(text));
}

/* {"error": code, "message": msg[, "reasons": reasons (stolen)]} */
static void reply_error(struct httpd_reply *reply, int status, const char *code, const char *msg,
			json_t *reasons)
{
	json_t *e = json_pack("{s:s, s:s}", "error", code, "message", msg);

	if (e != NULL && reasons != NULL)
		json_object_set(e, "reasons", reasons);
	json_decref(reasons);
	if (status == 401 && !httpd_reply_header(reply, "WWW-Authenticate", "Bearer"))
		log_error("liff: WWW-Authenticate does not fit the reply", NULL);
	reply_json(reply, status, e);
}

static void reply_unavailable(struct httpd_reply *reply)
{
	reply_error(reply, 503, "unavailable",
		    "ただいま利用できません。しばらくしてからもう一度お試しください。", NULL);
}

/* ------------------------------------------------------------ identity */

enum auth {
	AUTH_OK,
	AUTH_MISSING, /* no Bearer token */
	AUTH_INVALID, /* forged, garbled, other channel, not LINE's */
	AUTH_EXPIRED,
	AUTH_UNAVAILABLE, /* LINE did not answer, or we are not configured */
};

/* The bearer token of the request, or NULL when absent or not a JWS's
 * shape (base64url parts, two dots, at most LIFF_TOKEN_MAX). */
static const char *bearer_token(const struct httpd_request *req, enum auth *why)
{
	const char *h = httpd_header(req, "Authorization"), *t;
	size_t n, dots = 0;

	*why = AUTH_MISSING;
	/* The scheme is case-insensitive (RFC 9110 §11.1). */
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	t = h + 7;
	while (*t == ' ')
		t++;
	*why = AUTH_INVALID;
	for (n = 0; t[n] != '\0'; n++) {
		unsigned char c = (unsigned char)t[n];

		if (n >= LIFF_TOKEN_MAX)
			return NULL;
		if (c == '.')
			dots++;
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			   (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return NULL;
	}
	if (n == 0)
		*why = AUTH_MISSING;
	return n > 0 && dots == 2 ? t : NULL;
}

static bool line_uid_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] != 'U')
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (i > 32 || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 33;
}

/* Percent-encode s for a form value into out; false when it does not fit. */
static bool form_escape(const char *s, char *out, size_t size, size_t *len)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';

		if (!(plain ? str_appendf(out, size, len, "%c", c)
			    : str_appendf(out, size, len, "%%%02X", c)))
			return false;
	}
	return true;
}

/* This thread's LINE Login client, or NULL (logged) when it cannot be made. */
static struct line_client *thread_client(struct liff *l)
{
	struct line_client *lc = pthread_getspecific(l->client_key);
	char err[256];

	if (lc != NULL)
		return lc;
	lc = line_client_new(&l->client_opts, err, sizeof(err));
	if (lc == NULL) {
		log_error("liff: cannot make a LINE Login client", "error=\"%s\"", err);
		return NULL;
	}
	if (pthread_setspecific(l->client_key, lc) != 0) {
		line_client_free(lc);
		return NULL;
	}
	return lc;
}

/* Ask LINE.  On AUTH_OK, sub and *exp are set. */
static enum auth verify_with_line(struct liff *l, const char *token, char sub[LINE_UID_SIZE],
				  long long *exp)
{
	const char *channel = l->cfg->line.login_channel_id;
	char form[LIFF_TOKEN_MAX * 3 + 256];
	struct line_result res;
	char *body = NULL;
	json_t *claims = NULL;
	const char *iss, *aud, *s, *desc = NULL;
	json_int_t e;
	size_t len = 0;
	enum auth a = AUTH_INVALID;
	char q[300];
	int rc;

	struct line_client *lc = thread_client(l);

	if (lc == NULL)
		return AUTH_UNAVAILABLE;
	form[0] = '\0';
	if (!str_appendf(form, sizeof(form), &len, "id_token=") ||
	    !form_escape(token, form, sizeof(form), &len) ||
	    !str_appendf(form, sizeof(form), &len, "&client_id=") ||
	    !form_escape(channel, form, sizeof(form), &len))
		return AUTH_INVALID;
	rc = line_client_request_sync(lc, "POST", "/oauth2/v2.1/verify",
				      "application/x-www-form-urlencoded", form, len, false, &res,
				      &body);
	if (rc != 0 && res.http_status != 400) {
		log_error("liff: LINE Login verify failed", "status=%d error=%s", res.http_status,
			  log_quote(res.error, q, sizeof(q)));
		a = AUTH_UNAVAILABLE;
		goto done;
	}
	claims = body != NULL ? json_loads(body, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (rc != 0) {
		/* 400 {"error":"invalid_request","error_description":"IdToken expired."} */
		if (claims != NULL &&
		    json_unpack(claims, "{s:s}", "error_description", &desc) == 0 &&
		    strcmp(desc, "IdToken expired.") == 0)
			a = AUTH_EXPIRED;
		log_info("liff: ID token refused by LINE", "reason=%s",
			 log_quote(desc != NULL ? desc : "?", q, sizeof(q)));
		goto done;
	}
	/* LINE checked the signature, issuer, expiry and audience; checking
	 * them again costs nothing and guards against a misdirected base URL. */
	if (claims == NULL ||
	    json_unpack(claims, "{s:s, s:s, s:s, s:I}", "iss", &iss, "aud", &aud, "sub", &s, "exp",
			&e) != 0 ||
	    strcmp(iss, LIFF_ISSUER) != 0 || strcmp(aud, channel) != 0 || !line_uid_ok(s)) {
		log_warn("liff: unexpected verify answer", NULL);
		goto done;
	}
	if (e <= (json_int_t)time(NULL)) {
		a = AUTH_EXPIRED;
		goto done;
	}
	if (!str_copy(sub, s, LINE_UID_SIZE))
		goto done;
	*exp = (long long)e;
	a = AUTH_OK;
done:
	json_decref(claims);
	free(body);
	return a;
}

/* Who sent the request: the verified token's subject in uid. */
static enum auth authenticate(struct liff *l, const struct httpd_request *req,
			      char uid[LINE_UID_SIZE])
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	const char *token;
	struct token_slot *slot;
	enum auth a;
	long long exp = 0;
	time_t now = time(NULL);

	token = bearer_token(req, &a);
	if (token == NULL)
		return a;
	if (l->cfg->line.login_channel_id[0] == '\0')
		return AUTH_UNAVAILABLE;
	SHA256((const unsigned char *)token, strlen(token), digest);
	slot = &l->cache[(digest[0] << 8 | digest[1]) % LIFF_CACHE_SLOTS];
	pthread_mutex_lock(&l->cache_lock);
	if (slot->until > now && CRYPTO_memcmp(slot->digest, digest, sizeof(digest)) == 0) {
		memcpy(uid, slot->sub, LINE_UID_SIZE);
		pthread_mutex_unlock(&l->cache_lock);
		return AUTH_OK;
	}
	pthread_mutex_unlock(&l->cache_lock);
	/* Outside the lock: other residents are not kept waiting on LINE. */
	a = verify_with_line(l, token, uid, &exp);
	if (a == AUTH_OK) {
		pthread_mutex_lock(&l->cache_lock);
		memcpy(slot->digest, digest, sizeof(digest));
		memcpy(slot->sub, uid, LINE_UID_SIZE);
		slot->until = exp < (long long)now + LIFF_CACHE_SECONDS ? (time_t)exp
									: now + LIFF_CACHE_SECONDS;
		pthread_mutex_unlock(&l->cache_lock);
	}
	return a;
}

static void reply_auth(struct httpd_reply *reply, enum auth a)
{
	switch (a) {
	case AUTH_MISSING:
		reply_error(reply, 401, "token_missing",
			    "本人確認ができませんでした。LINEアプリからページを開いてください。",
			    NULL);
		break;
	case AUTH_EXPIRED:
		reply_error(
			reply, 401, "token_expired",
			"本人確認の有効期限が切れました。ページを閉じて、もう一度開いてください。",
			NULL);
		break;
	case AUTH_UNAVAILABLE:
		reply_unavailable(reply);
		break;
	case AUTH_OK:
	case AUTH_INVALID:
		reply_error(reply, 401, "token_invalid",
			    "本人確認に失敗しました。LINEアプリからページを開き直してください。",
			    NULL);
		break;
	}
}

/* ------------------------------------------------------------ settings */

static const char *kind_name(enum prefs_kind k)
{
	return k == PREFS_SINGLE ? "single" : k == PREFS_MULTI ? "multi" : "date";
}

static json_t *settings_json(const struct prefs *p)
{
	json_t *root, *items;

	root = json_pack("{s:s, s:i, s:o}", "today", p->today, "maxDates", LIFF_DATES_MAX,
			 "savedAt",
			 p->saved_at[0] != '\0' ? json_string(p->saved_at) : json_null());
	items = json_array();
	if (root == NULL || items == NULL || json_object_set_new(root, "items", items) != 0) {
		json_decref(root);
		return NULL;
	}
	for (size_t i = 0; i < p->nitems; i++) {
		const struct prefs_item *it = &p->items[i];
		json_t *o, *list;

		o = json_pack("{s:s, s:s, s:s, s:s, s:b}", "key", it->key, "label", it->label,
			      "description", it->description, "kind", kind_name(it->kind),
			      "matchWhenUnset", it->match_when_unset);
		list = json_array();
		if (o == NULL || list == NULL || json_array_append_new(items, o) != 0 ||
		    json_object_set_new(o, it->kind == PREFS_DATE ? "dates" : "values", list) !=
			    0) {
			json_decref(root);
			return NULL;
		}
		if (it->kind == PREFS_DATE) {
			for (size_t d = 0; d < it->ndates; d++)
				if (json_array_append_new(list, json_string(it->dates[d])) != 0)
					goto fail;
		} else {
			for (size_t v = 0; v < it->nvalues; v++)
				if (json_array_append_new(list,
							  json_pack("{s:s, s:s, s:b}", "key",
								    it->values[v].key, "label",
								    it->values[v].label, "chosen",
								    it->values[v].chosen)) != 0)
					goto fail;
		}
	}
	return root;
fail:
	json_decref(root);
	return NULL;
}

/* Load the item list for uid; replies itself and returns NULL
 * unless the resident is an active friend. */
static struct prefs *load_for(struct db *db, const char *uid, struct httpd_reply *reply)
{
	struct prefs *p = NULL;
	enum hl_status st;

	st = store_prefs_load(db, uid, &p);
	if (st != HL_OK) {
		char q[300];
		log_error("liff: cannot load settings", "error=%s",
			  log_quote(db_error(db), q, sizeof(q)));
		reply_unavailable(reply);
		return NULL;
	}
	if (p->resident != PREFS_RESIDENT_ACTIVE) {
		char u[LOG_UID_SIZE];
		log_info("liff: not a friend", "uid=%s resident=%s", log_uid(uid, u),
			 p->resident == PREFS_RESIDENT_BLOCKED ? "blocked" : "unknown");
		reply_error(reply, 403, "not_friend", "友だち追加してからご利用ください", NULL);
		prefs_free(p);
		return NULL;
	}
	return p;
}

/* The one reader of a PUT body: bounded, shallow, UTF-8 JSON without
 * duplicate keys, exactly {"settings": {…}}.  The settings object (a new
 * reference) or NULL with *status, *code and *msg set. */
static json_t *settings_parse(const struct httpd_request *req, int *status, const char **code,
			      const char **msg)
{
	const char *ct = httpd_header(req, "Content-Type"), *body;
	json_t *root, *settings;
	size_t len;

	*status = 400;
	*code = "bad_body";
	*msg = "送信内容の形式が正しくありません。";
	if (ct == NULL || strncmp(ct, "application/json", 16) != 0 ||
	    (ct[16] != '\0' && ct[16] != ';')) {
		*status = 415;
		*code = "bad_content_type";
		return NULL;
	}
	body = httpd_body(req, &len);
	if (body == NULL || len == 0)
		return NULL;
	if (len > LIFF_BODY_MAX) {
		*status = 413;
		*code = "too_large";
		*msg = "送信内容が大きすぎます。";
		return NULL;
	}
	if (!json_nesting_ok(body, len, LIFF_JSON_DEPTH))
		return NULL;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root) || json_object_size(root) != 1 ||
	    !json_is_object(settings = json_object_get(root, "settings"))) {
		json_decref(root);
		return NULL;
	}
	json_incref(settings);
	json_decref(root);
	return settings;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Strictly YYYY-MM-DD and a day that exists. */
static bool date_ok(const char *s)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (m < 1 || m > 12 || d < 1)
		return false;
	return d <= mdays[m - 1] + (m == 2 && is_leap(y));
}

/* What a valid body becomes, before it is saved. */
struct draft {
	long long *values;
	size_t nvalues;
	long long *date_items;
	char (*dates)[PREFS_DATE_SIZE];
	size_t ndates;
	json_t *reasons;
	size_t nreasons;
};

static void draft_clear(struct draft *d)
{
	free(d->values);
	free(d->date_items);
	free(d->dates);
	json_decref(d->reasons);
}

static void reason(struct draft *d, const char *item, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reason(struct draft *d, const char *item, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (d->nreasons++ >= LIFF_REASONS_MAX)
		return;
	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	json_array_append_new(d->reasons, json_pack("{s:s, s:s}", "item", item, "message", msg));
}

static const struct prefs_item *item_by_key(const struct prefs *p, const char *key)
{
	for (size_t i = 0; i < p->nitems; i++)
		if (strcmp(p->items[i].key, key) == 0)
			return &p->items[i];
	return NULL;
}

/* A text for a message: an over-long or odd key from the page is not
 * repeated back at length. */
static const char *shown(const char *s)
{
	return strlen(s) <= 64 ? s : "(長すぎる値)";
}

static void check_choices(const struct prefs_item *it, json_t *list, struct draft *d)
{
	size_t first = d->nvalues, idx;
	json_t *v;

	json_array_foreach(list, idx, v)
	{
		const char *key = json_string_value(v);
		const struct prefs_value *pv = NULL;
		bool dup = false;

		if (key == NULL) {
			reason(d, it->key, "「%s」の値の形式が正しくありません。", it->label);
			continue;
		}
		for (size_t i = 0; i < it->nvalues && pv == NULL; i++)
			if (strcmp(it->values[i].key, key) == 0)
				pv = &it->values[i];
		if (pv == NULL) {
			reason(d, it->key, "「%s」に「%s」という選択肢はありません。", it->label,
			       shown(key));
			continue;
		}
		for (size_t i = first; i < d->nvalues; i++)
			dup = dup || d->values[i] == pv->id;
		if (dup) {
			reason(d, it->key, "「%s」で同じ選択肢が重複しています。", it->label);
			continue;
		}
		d->values[d->nvalues++] = pv->id;
	}
	if (it->kind == PREFS_SINGLE && json_array_size(list) > 1)
		reason(d, it->key, "「%s」は1つだけ選んでください。", it->label);
}

static void check_dates(const struct prefs *p, const struct prefs_item *it, json_t *list,
			struct draft *d)
{
	size_t idx;
	json_t *v;

	if (json_array_size(list) > LIFF_DATES_MAX) {
		reason(d, it->key, "「%s」は%d件まで登録できます。", it->label, LIFF_DATES_MAX);
		return;
	}
	json_array_foreach(list, idx, v)
	{
		const char *s = json_string_value(v);

		if (s == NULL || !date_ok(s)) {
			reason(d, it->key, "「%s」の日付「%s」が正しくありません。", it->label,
			       s != NULL ? shown(s) : "");
		} else if (strcmp(s, "1900-01-01") < 0) {
			reason(d, it->key, "「%s」に1900年より前の日付は登録できません。",
			       it->label);
		} else if (strcmp(s, p->today) > 0) {
			reason(d, it->key, "「%s」に未来の日付（%s）は登録できません。", it->label,
			       s);
		} else {
			d->date_items[d->ndates] = it->id;
			memcpy(d->dates[d->ndates], s, PREFS_DATE_SIZE);
			d->ndates++;
		}
	}
}

/* Check settings against the item list into d; false when out of memory. */
static bool settings_check(const struct prefs *p, json_t *settings, struct draft *d)
{
	size_t total = 0;
	const char *key;
	json_t *list;

	d->reasons = json_array();
	json_object_foreach(settings, key, list)
	{
		if (json_is_array(list))
			total += json_array_size(list);
	}
	/* The body is at most LIFF_BODY_MAX, so total is small. */
	d->values = calloc(total + 1, sizeof(*d->values));
	d->date_items = calloc(total + 1, sizeof(*d->date_items));
	d->dates = calloc(total + 1, sizeof(*d->dates));
	if (d->reasons == NULL || d->values == NULL || d->date_items == NULL || d->dates == NULL)
		return false;
	json_object_foreach(settings, key, list)
	{
		const struct prefs_item *it = item_by_key(p, key);

		if (it == NULL)
			reason(d, shown(key), "「%s」という項目はありません。", shown(key));
		else if (!json_is_array(list))
			reason(d, it->key, "「%s」の値の形式が正しくありません。", it->label);
		else if (it->kind == PREFS_DATE)
			check_dates(p, it, list, d);
		else
			check_choices(it, list, d);
	}
	if (d->nreasons > LIFF_REASONS_MAX)
		reason(d, "", "ほかに%zu件の問題があります。", d->nreasons - LIFF_REASONS_MAX);
	return true;
}

static void get_settings(struct db *db, const char *uid, struct httpd_reply *reply)
{
	struct prefs *p = load_for(db, uid, reply);

	if (p == NULL)
		return;
	reply_json(reply, 200, settings_json(p));
	prefs_free(p);
}

static void put_settings(struct db *db, const char *uid, const struct httpd_request *req,
			 struct httpd_reply *reply)
{
	struct draft d = {0};
	struct prefs *p = NULL;
	struct prefs_change c;
	enum prefs_resident who;
	enum hl_status st;
	json_t *settings, *out;
	const char *code, *msg;
	char u[LOG_UID_SIZE], q[300];
	int status;

	settings = settings_parse(req, &status, &code, &msg);
	if (settings == NULL) {
		reply_error(reply, status, code, msg, NULL);
		return;
	}
	p = load_for(db, uid, reply);
	if (p == NULL)
		goto done;
	if (!settings_check(p, settings, &d)) {
		reply_unavailable(reply);
		goto done;
	}
	if (d.nreasons > 0) {
		reply_error(reply, 400, "invalid", "入力内容を確認してください。", d.reasons);
		d.reasons = NULL;
		goto done;
	}
	c = (struct prefs_change){d.values, d.nvalues, d.date_items,
				  (const char(*)[PREFS_DATE_SIZE])d.dates, d.ndates};
	st = store_prefs_save(db, uid, &c, &who);
	if (st != HL_OK)
		log_error("liff: cannot save settings", "uid=%s error=%s", log_uid(uid, u),
			  log_quote(db_error(db), q, sizeof(q)));
	if (st == HL_PERMFAIL) {
		/* Staff retired a value or changed an item since the page loaded. */
		reply_error(reply, 409, "changed",
			    "設定項目が更新されました。ページを開き直してから、もう一度保存してくだ"
			    "さい。",
			    NULL);
		goto done;
	}
	if (st != HL_OK) {
		reply_unavailable(reply);
		goto done;
	}
	if (who != PREFS_RESIDENT_ACTIVE) {
		reply_error(reply, 403, "not_friend", "友だち追加してからご利用ください", NULL);
		goto done;
	}
	log_info("liff: settings saved", "uid=%s values=%zu dates=%zu", log_uid(uid, u), d.nvalues,
		 d.ndates);
	prefs_free(p);
	p = load_for(db, uid, reply);
	if (p == NULL)
		goto done;
	out = settings_json(p);
	if (out != NULL)
		json_object_set_new(out, "saved", json_true());
	reply_json(reply, 200, out);
done:
	prefs_free(p);
	draft_clear(&d);
	json_decref(settings);
}

/* ------------------------------------------------------------ routing */

static void method_not_allowed(struct httpd_reply *reply, const char *allow)
{
	if (!httpd_reply_header(reply, "Allow", allow))
		log_error("liff: Allow does not fit the reply", NULL);
	reply_error(reply, 405, "method", "この操作はできません。", NULL);
}

void liff_handle(struct liff *l, struct dbpool *pool, const struct httpd_request *req,
		 struct httpd_reply *reply)
{
	const char *path = httpd_path(req), *method = httpd_method(req);
	bool get = strcmp(method, "GET") == 0;

	security_headers(reply);
	if (l == NULL) { /* liff_new() failed at start-up (logged then) */
		reply_unavailable(reply);
		return;
	}
	if (strcmp(path, "/liff/api/settings") == 0) {
		char uid[LINE_UID_SIZE];
		bool put = strcmp(method, "PUT") == 0;
		struct db *db;
		enum auth a;

		if (!get && !put) {
			method_not_allowed(reply, "GET, PUT");
			return;
		}
		a = authenticate(l, req, uid);
		if (a != AUTH_OK) {
			reply_auth(reply, a);
			return;
		}
		db = dbpool_get(pool);
		if (get)
			get_settings(db, uid, reply);
		else
			put_settings(db, uid, req, reply);
		dbpool_put(pool, db);
		return;
	}
	if (strcmp(path, "/liff/api/config") == 0) {
		if (!get)
			method_not_allowed(reply, "GET");
		else
			reply_json(reply, 200, json_pack("{s:s}", "liffId", l->cfg->line.liff_id));
		return;
	}
	if (strncmp(path, "/liff/api/", 10) != 0 && static_reply(l->pages, req, reply))
		return;
	for (size_t i = 0; i < sizeof(page_paths) / sizeof(page_paths[0]); i++) {
		if (strcmp(path, page_paths[i]) != 0)
			continue;
		if (!get)
			method_not_allowed(reply, "GET");
		else
			httpd_reply_static(reply, 503, "text/plain; charset=utf-8",
					   "受信設定ページを準備中です。\n");
		return;
	}
	if (strncmp(path, "/liff/api/", 10) == 0)
		reply_error(reply, 404, "not_found", "見つかりません。", NULL);
	else
		httpd_reply_static(reply, 404, "text/plain; charset=utf-8", "not found\n");
}
