/*
 * control — linesim's control API under /sim/ (issue 3): the channel, the
 * simulated residents and what they do, what they received, the request
 * and webhook logs, counters, faults and reset.  Tests and benches rely on
 * these shapes exactly; docs/linesim.md documents them.
 *
 * Residents' actions become webhook events built here under the sim lock
 * (each with its reply token registered), then sent without the lock so
 * the bot under test can call the Messaging API (reply, profile) while its
 * webhook is being answered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "log.h"
#include "simhttp.h"
#include "str.h"

/* Residents created by one POST /sim/users: a million in one call is the
 * bench's size; more would hold the lock for too long. */
#define USERS_PER_CALL_MAX 1000000
/* Events per webhook request when many residents follow at once: LINE
 * batches events too, and one request per resident would take N round trips. */
#define FOLLOW_BATCH 100
/* Longest a control call waits for the bot's reply to an event. */
#define WAIT_REPLY_MAX_MS 10000

static bool is_method(const struct httpd_request *req, const char *m)
{
	return strcmp(httpd_method(req), m) == 0;
}

static void bad(struct httpd_reply *reply, int status, const char *msg)
{
	reply_line_error(reply, status, msg, NULL);
}

static json_t *channel_json(struct sim *s)
{
	const struct sim_channel *ch = sim_channel(s);

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "channelId", ch->channel_id,
			 "channelSecret", ch->channel_secret, "channelAccessToken",
			 ch->access_token, "loginChannelId", ch->login_channel_id, "webhookUrl",
			 ch->webhook_url, "botUserId", ch->bot_user_id);
}

/* What a webhook needs, copied so it can be sent without the lock. */
struct target {
	char url[512];
	char secret[33];
	char destination[SIM_UID_SIZE];
};

static void target_of(struct sim *s, struct target *t)
{
	const struct sim_channel *ch = sim_channel(s);

	str_msg(t->url, sizeof(t->url), "%s", ch->webhook_url);
	str_msg(t->secret, sizeof(t->secret), "%s", ch->channel_secret);
	str_msg(t->destination, sizeof(t->destination), "%s", ch->bot_user_id);
}

/* The fields every event has; a reply token when token is not NULL. */
static json_t *event_base(struct sim *s, const char *type, long idx, char *token)
{
	char eid[SIM_EVENTID_SIZE], uid[SIM_UID_SIZE];
	json_t *e;

	sim_event_id(s, eid);
	sim_user_id(s, idx, uid);
	e = json_pack("{s:s, s:s, s:{s:b}, s:I, s:{s:s, s:s}, s:s}", "type", type, "webhookEventId",
		      eid, "deliveryContext", "isRedelivery", 0, "timestamp",
		      (json_int_t)sim_now_ms(), "source", "type", "user", "userId", uid, "mode",
		      "active");
	if (e != NULL && token != NULL) {
		sim_reply_token_new(s, idx, token);
		json_object_set_new(e, "replyToken", json_string(token));
	}
	return e;
}

static json_t *follow_event(struct sim *s, long idx, char *token)
{
	json_t *e = event_base(s, "follow", idx, token);

	json_object_set_new(e, "follow",
			    json_pack("{s:b}", "isUnblocked", sim_user_was_blocked(s, idx)));
	return e;
}

static json_t *message_content(struct sim *s, const char *type)
{
	char id[SIM_MSGID_SIZE], qt[65];

	sim_message_id(s, id);
	sim_random_hex(s, qt, 64);
	if (strcmp(type, "location") == 0)
		return json_pack("{s:s, s:s}", "type", type, "id", id);
	return json_pack("{s:s, s:s, s:s}", "type", type, "id", id, "quoteToken", qt);
}

static json_t *postback_event(struct sim *s, long idx, const char *data, json_t *params,
			      char *token)
{
	json_t *e = event_base(s, "postback", idx, token);
	json_t *pb = json_pack("{s:s}", "data", data);

	if (params != NULL && pb != NULL)
		json_object_set_new(pb, "params", params);
	else
		json_decref(params);
	json_object_set_new(e, "postback", pb);
	return e;
}

/* ----------------------------------------------------------------- users */

static void create_users(struct app *a, const struct httpd_request *req, struct httpd_reply *reply)
{
	char err[160];
	json_t *b = body_json(req, err, sizeof(err));
	json_t *ids = NULL, *given, *out = NULL, *batch = NULL;
	long long count = 0;
	bool silent;
	struct target t;
	long *created = NULL;
	size_t ncreated = 0, i;
	int requests = 0, failed = 0, last = 0;

	if (b == NULL || !json_is_object(b)) {
		bad(reply, 400, b == NULL ? err : "the body must be an object");
		goto done;
	}
	silent = json_is_true(json_object_get(b, "silent"));
	given = json_object_get(b, "userIds");
	if (given != NULL) {
		if (!json_is_array(given) || json_array_size(given) > USERS_PER_CALL_MAX) {
			bad(reply, 400, "userIds must be an array of at most 1000000 user ids");
			goto done;
		}
		count = (long long)json_array_size(given);
	} else if (!json_is_integer(json_object_get(b, "count")) ||
		   (count = json_integer_value(json_object_get(b, "count"))) < 1 ||
		   count > USERS_PER_CALL_MAX) {
		bad(reply, 400, "count must be an integer between 1 and 1000000");
		goto done;
	}
	ids = json_array();
	created = calloc((size_t)count, sizeof(*created));
	if (ids == NULL || created == NULL) {
		bad(reply, 500, "out of memory");
		goto done;
	}
	sim_lock(a->sim);
	for (i = 0; i < (size_t)count; i++) {
		char uid[SIM_UID_SIZE];
		long idx;

		if (given != NULL) {
			uint8_t raw[SIM_UID_BYTES];
			bool isnew;

			if (!sim_uid_parse(json_string_value(json_array_get(given, i)), raw)) {
				sim_unlock(a->sim);
				bad(reply, 400, "a user id must match ^U[0-9a-f]{32}$");
				goto done;
			}
			idx = sim_user_ensure(a->sim, raw, &isnew);
			if (idx >= 0)
				sim_user_set_following(a->sim, idx, true);
		} else {
			idx = sim_user_create(a->sim);
		}
		if (idx < 0) {
			sim_unlock(a->sim);
			bad(reply, 500, "out of memory");
			goto done;
		}
		created[ncreated++] = idx;
		sim_user_id(a->sim, idx, uid);
		json_array_append_new(ids, json_string(uid));
	}
	target_of(a->sim, &t);
	sim_unlock(a->sim);
	log_info("residents created", "count=%zu silent=%d", ncreated, silent);

	/* Follow events go in batches: N residents cost N/FOLLOW_BATCH requests. */
	for (i = 0; !silent && t.url[0] != '\0' && i < ncreated; i += FOLLOW_BATCH) {
		struct webhook_result res;
		char token[SIM_TOKEN_SIZE];

		batch = json_array();
		sim_lock(a->sim);
		for (size_t j = i; j < ncreated && j < i + FOLLOW_BATCH; j++)
			json_array_append_new(batch, follow_event(a->sim, created[j], token));
		sim_unlock(a->sim);
		webhook_out_deliver(a->wh, a->sim, t.url, t.secret, t.destination, batch, &res);
		json_decref(batch);
		batch = NULL;
		requests++;
		last = res.status;
		if (res.status < 200 || res.status > 299)
			failed++;
	}
	out = json_pack("{s:O, s:{s:i, s:i, s:i}}", "userIds", ids, "webhook", "requests", requests,
			"failed", failed, "lastStatus", last);
	reply_json(reply, 200, out);
done:
	json_decref(batch);
	free(created);
	json_decref(ids);
	json_decref(b);
}

/* The resident named in a path segment; -1 after answering 404. */
static long find_user(struct app *a, const char *uid_text, struct httpd_reply *reply)
{
	uint8_t raw[SIM_UID_BYTES];
	long idx;

	if (!sim_uid_parse(uid_text, raw)) {
		bad(reply, 400, "a user id must match ^U[0-9a-f]{32}$");
		return -1;
	}
	idx = sim_user_find(a->sim, raw);
	if (idx < 0)
		bad(reply, 404, "no such simulated user");
	return idx;
}

static void inbox(struct app *a, const char *uid_text, struct httpd_reply *reply)
{
	long idx;

	sim_lock(a->sim);
	idx = find_user(a, uid_text, reply);
	if (idx >= 0)
		reply_json(reply, 200,
			   json_pack("{s:s, s:b, s:o}", "userId", uid_text, "following",
				     sim_user_following(a->sim, idx), "messages",
				     sim_inbox_json(a->sim, idx)));
	sim_unlock(a->sim);
}

static void user_richmenu(struct app *a, const char *uid_text, struct httpd_reply *reply)
{
	sim_lock(a->sim);
	if (find_user(a, uid_text, reply) >= 0) {
		const char *id = richmenu_of_user(a->richmenu, uid_text);
		const char *alias = richmenu_alias_of_user(a->richmenu, uid_text);

		reply_json(reply, 200,
			   json_pack("{s:s, s:o, s:o}", "userId", uid_text, "richMenuId",
				     id != NULL ? json_string(id) : json_null(), "richMenuAliasId",
				     alias != NULL ? json_string(alias) : json_null()));
	}
	sim_unlock(a->sim);
}

static void liff_token(struct app *a, const char *uid_text, const struct httpd_request *req,
		       struct httpd_reply *reply)
{
	char err[160];
	size_t len;
	json_t *b = NULL, *ttl;
	const char *nonce = NULL;
	long ttl_seconds = 3600;

	(void)httpd_body(req, &len);
	if (len > 0) {
		b = body_json(req, err, sizeof(err));
		if (b == NULL) {
			bad(reply, 400, err);
			return;
		}
		nonce = json_string_value(json_object_get(b, "nonce"));
		/* Tests of expiry: a negative lifetime gives a token that has
		 * already expired. */
		ttl = json_object_get(b, "ttlSeconds");
		if (ttl != NULL) {
			if (!json_is_integer(ttl) || json_integer_value(ttl) < -86400 ||
			    json_integer_value(ttl) > 86400) {
				bad(reply, 400,
				    "ttlSeconds must be an integer from -86400 to 86400");
				json_decref(b);
				return;
			}
			ttl_seconds = (long)json_integer_value(ttl);
		}
	}
	sim_lock(a->sim);
	if (find_user(a, uid_text, reply) >= 0) {
		char *tok = liff_issue_token_ttl(a->liff, uid_text, nonce, ttl_seconds);

		if (tok == NULL)
			bad(reply, 500, "cannot issue an ID token");
		else
			reply_json(reply, 200, json_pack("{s:s}", "idToken", tok));
		free(tok);
	}
	sim_unlock(a->sim);
	json_decref(b);
}

/* ---------------------------------------------------------------- events */

/* Build the event a resident's action makes, under the lock.  NULL with
 * *status/err set when the action is refused; *none when the action sends
 * nothing (a uri area). */
static json_t *build_event(struct app *a, long idx, const char *uid_text, const json_t *b,
			   char *token, int *status, const char **err, bool *none)
{
	struct sim *s = a->sim;
	const char *type = json_string_value(json_object_get(b, "type"));
	json_t *e = NULL, *m;

	*none = false;
	*status = 400;
	token[0] = '\0';
	if (type == NULL) {
		*err = "type is required";
		return NULL;
	}
	if (strcmp(type, "follow") == 0) {
		sim_user_set_following(s, idx, true);
		return follow_event(s, idx, token);
	}
	if (strcmp(type, "unfollow") == 0) {
		sim_user_set_following(s, idx, false);
		return event_base(s, "unfollow", idx, NULL); /* no reply token */
	}
	if (!sim_user_following(s, idx)) {
		*status = 409;
		*err = "the resident has blocked the account; send a follow event first";
		return NULL;
	}
	if (strcmp(type, "message") == 0 || strcmp(type, "text") == 0) {
		const char *text = json_string_value(json_object_get(b, "text"));

		if (text == NULL || text[0] == '\0') {
			*err = "text is required";
			return NULL;
		}
		m = message_content(s, "text");
		json_object_set_new(m, "text", json_string(text));
	} else if (strcmp(type, "sticker") == 0) {
		const char *pkg = json_string_value(json_object_get(b, "packageId"));
		const char *stk = json_string_value(json_object_get(b, "stickerId"));

		m = message_content(s, "sticker");
		json_object_set_new(m, "packageId", json_string(pkg ? pkg : "446"));
		json_object_set_new(m, "stickerId", json_string(stk ? stk : "1988"));
		json_object_set_new(m, "stickerResourceType", json_string("STATIC"));
	} else if (strcmp(type, "image") == 0) {
		m = message_content(s, "image");
		json_object_set_new(m, "contentProvider", json_pack("{s:s}", "type", "line"));
	} else if (strcmp(type, "location") == 0) {
		const json_t *lat = json_object_get(b, "latitude");
		const json_t *lon = json_object_get(b, "longitude");
		const char *title = json_string_value(json_object_get(b, "title"));
		const char *addr = json_string_value(json_object_get(b, "address"));

		if (!json_is_number(lat) || !json_is_number(lon) || json_number_value(lat) < -90 ||
		    json_number_value(lat) > 90 || json_number_value(lon) < -180 ||
		    json_number_value(lon) > 180) {
			*err = "latitude and longitude must be numbers in range";
			return NULL;
		}
		m = message_content(s, "location");
		if (title != NULL)
			json_object_set_new(m, "title", json_string(title));
		if (addr != NULL)
			json_object_set_new(m, "address", json_string(addr));
		json_object_set_new(m, "latitude", json_real(json_number_value(lat)));
		json_object_set_new(m, "longitude", json_real(json_number_value(lon)));
	} else if (strcmp(type, "postback") == 0) {
		const char *data = json_string_value(json_object_get(b, "data"));
		const json_t *params = json_object_get(b, "params");

		if (data == NULL) {
			*err = "data is required";
			return NULL;
		}
		return postback_event(s, idx, data, params ? json_deep_copy(params) : NULL, token);
	} else if (strcmp(type, "richmenu_tap") == 0) {
		const json_t *x = json_object_get(b, "x"), *y = json_object_get(b, "y");
		json_t *action = NULL;
		const char *at, *data;

		if (!json_is_integer(x) || !json_is_integer(y)) {
			*err = "x and y must be integers";
			return NULL;
		}
		if (!richmenu_area_at(a->richmenu, uid_text, (int)json_integer_value(x),
				      (int)json_integer_value(y), &action) ||
		    action == NULL) {
			*status = 404;
			*err = "the resident's rich menu has no area there (or no rich menu)";
			return NULL;
		}
		at = json_string_value(json_object_get(action, "type"));
		data = json_string_value(json_object_get(action, "data"));
		if (at != NULL && strcmp(at, "postback") == 0) {
			e = postback_event(s, idx, data ? data : "", NULL, token);
		} else if (at != NULL && strcmp(at, "message") == 0) {
			const char *text = json_string_value(json_object_get(action, "text"));

			m = message_content(s, "text");
			json_object_set_new(m, "text", json_string(text ? text : ""));
			e = event_base(s, "message", idx, token);
			json_object_set_new(e, "message", m);
		} else if (at != NULL && strcmp(at, "richmenuswitch") == 0) {
			const char *alias =
				json_string_value(json_object_get(action, "richMenuAliasId"));
			bool switched = alias != NULL &&
					richmenu_switch_alias(a->richmenu, uid_text, alias);

			e = postback_event(
				s, idx, data ? data : "",
				json_pack("{s:s, s:s}", "newRichMenuAliasId", alias ? alias : "",
					  "status",
					  switched ? "SUCCESS" : "RICHMENU_ALIAS_ID_NOTFOUND"),
				token);
		} else {
			*none = true; /* uri and others open something on the phone */
		}
		json_decref(action);
		*status = 200;
		return e;
	} else {
		*err = "type must be one of follow, unfollow, message, sticker, image, location, "
		       "postback, richmenu_tap";
		return NULL;
	}
	e = event_base(s, "message", idx, token);
	json_object_set_new(e, "message", m);
	return e;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void user_event(struct app *a, const char *uid_text, const struct httpd_request *req,
		       struct httpd_reply *reply)
{
	char err[160], token[SIM_TOKEN_SIZE] = "", lid[LOG_UID_SIZE];
	json_t *b = body_json(req, err, sizeof(err)), *e = NULL, *events = NULL, *replies = NULL;
	const char *why = NULL, *type;
	struct webhook_result res = {0, 0, ""};
	struct target t;
	int status = 400;
	long long wait = 0;
	bool none = false;
	long idx;

	if (b == NULL || !json_is_object(b)) {
		bad(reply, 400, b == NULL ? err : "the body must be an object");
		goto done;
	}
	type = json_string_value(json_object_get(b, "type"));
	if (json_is_integer(json_object_get(b, "waitReplyMs")))
		wait = json_integer_value(json_object_get(b, "waitReplyMs"));
	if (wait < 0 || wait > WAIT_REPLY_MAX_MS) {
		bad(reply, 400, "waitReplyMs must be between 0 and 10000");
		goto done;
	}
	sim_lock(a->sim);
	idx = find_user(a, uid_text, reply);
	if (idx < 0 && type != NULL && strcmp(type, "follow") == 0) {
		/* A new resident may arrive by following: create them. */
		uint8_t raw[SIM_UID_BYTES];
		bool isnew;

		if (sim_uid_parse(uid_text, raw))
			idx = sim_user_ensure(a->sim, raw, &isnew);
	}
	if (idx >= 0)
		e = build_event(a, idx, uid_text, b, token, &status, &why, &none);
	target_of(a->sim, &t);
	sim_unlock(a->sim);
	if (idx < 0)
		goto done; /* answered by find_user */
	if (e == NULL && !none) {
		bad(reply, status, why ? why : "out of memory");
		goto done;
	}
	log_info("resident event", "user=%s type=%s", log_uid(uid_text, lid), type);
	if (e != NULL) {
		events = json_array();
		json_array_append(events, e);
		webhook_out_deliver(a->wh, a->sim, t.url, t.secret, t.destination, events, &res);
	}
	/* The bot may reply after answering its webhook: poll for it a while. */
	for (long long waited = 0; token[0] != '\0'; waited += 10) {
		sim_lock(a->sim);
		replies = sim_reply_token_replies(a->sim, token);
		sim_unlock(a->sim);
		if (replies != NULL || waited >= wait)
			break;
		sleep_ms(10);
	}
	reply_json(reply, 200,
		   json_pack("{s:i, s:i, s:o, s:o, s:o, s:o}", "webhookStatus", res.status,
			     "attempts", res.attempts, "error",
			     res.error[0] ? json_string(res.error) : json_null(), "replyToken",
			     token[0] ? json_string(token) : json_null(), "event",
			     e ? json_incref(e) : json_null(), "replies",
			     replies ? replies : json_array()));
done:
	json_decref(events);
	json_decref(e);
	json_decref(b);
}

/* ----------------------------------------------------- channel and admin */

static void put_channel(struct app *a, const struct httpd_request *req, struct httpd_reply *reply)
{
	char err[160];
	json_t *b = body_json(req, err, sizeof(err));
	const json_t *url, *quota, *rl;

	if (b == NULL || !json_is_object(b)) {
		bad(reply, 400, b == NULL ? err : "the body must be an object");
		goto done;
	}
	url = json_object_get(b, "webhookUrl");
	quota = json_object_get(b, "quota");
	rl = json_object_get(b, "rateLimits");
	if ((url != NULL && !json_is_string(url)) ||
	    (quota != NULL && !json_is_integer(quota) && !json_is_null(quota)) ||
	    (rl != NULL && !json_is_boolean(rl))) {
		bad(reply, 400,
		    "webhookUrl must be a string, quota an integer or null, "
		    "rateLimits a boolean");
		goto done;
	}
	if (url != NULL && json_string_length(url) > 0 &&
	    strncmp(json_string_value(url), "http://", 7) != 0 &&
	    strncmp(json_string_value(url), "https://", 8) != 0) {
		bad(reply, 400, "webhookUrl must be an http or https URL");
		goto done;
	}
	sim_lock(a->sim);
	if (url != NULL && !str_copy(sim_channel(a->sim)->webhook_url, json_string_value(url),
				     sizeof(sim_channel(a->sim)->webhook_url))) {
		sim_channel(a->sim)->webhook_url[0] = '\0';
		sim_unlock(a->sim);
		bad(reply, 400, "webhookUrl is too long");
		goto done;
	}
	if (quota != NULL)
		sim_set_quota(a->sim, json_is_null(quota) ? -1 : json_integer_value(quota));
	if (rl != NULL)
		sim_set_rate_limits(a->sim, json_is_true(rl));
	reply_json(reply, 200, channel_json(a->sim));
	sim_unlock(a->sim);
	log_info("channel changed", "webhook_set=%d", url != NULL);
done:
	json_decref(b);
}

static void post_fault(struct app *a, const struct httpd_request *req, struct httpd_reply *reply)
{
	char err[160];
	json_t *b = body_json(req, err, sizeof(err));
	const char *path = json_string_value(json_object_get(b, "path"));
	const json_t *st = json_object_get(b, "status"), *ra = json_object_get(b, "ratio");
	const json_t *lat = json_object_get(b, "latency_ms");
	const json_t *acc = json_object_get(b, "accepted");
	long long status = 0, latency = 0;
	double ratio = 1.0;

	if (b == NULL) {
		bad(reply, 400, err);
		return;
	}
	if (st != NULL) {
		status = json_is_integer(st) ? json_integer_value(st) : -1;
	}
	if (ra != NULL)
		ratio = json_is_number(ra) ? json_number_value(ra) : -1;
	if (lat != NULL)
		latency = json_is_integer(lat) ? json_integer_value(lat) : -1;
	if (path == NULL || path[0] != '/' || (status != 0 && (status < 100 || status > 599)) ||
	    ratio < 0 || ratio > 1 || latency < 0 || latency > 60000 ||
	    (status == 0 && latency == 0) || (acc != NULL && !json_is_boolean(acc))) {
		json_decref(b);
		bad(reply, 400,
		    "a fault needs a path starting with /, a status 100-599 and/or "
		    "latency_ms 0-60000, a ratio 0-1 and accepted a boolean");
		return;
	}
	sim_lock(a->sim);
	if (sim_fault_set(a->sim, path, (int)status, ratio, (int)latency, json_is_true(acc)) < 0)
		bad(reply, 400, "too many faults (32) or the path is too long");
	else
		reply_json(reply, 200, json_pack("{s:o}", "faults", sim_faults_json(a->sim)));
	sim_unlock(a->sim);
	json_decref(b);
}

static uint64_t since_arg(const struct httpd_request *req)
{
	const char *v = httpd_query(req, "since");
	long long n = 0;

	if (v == NULL || !str_to_ll(v, 0, INT64_MAX, &n))
		return 0;
	return (uint64_t)n;
}

static void reset(struct app *a, struct httpd_reply *reply)
{
	sim_lock(a->sim);
	sim_reset(a->sim);
	richmenu_store_reset(a->richmenu);
	sim_unlock(a->sim);
	log_info("reset", "%s", "");
	reply_json(reply, 200, json_object());
}

/* /sim/echo answers anything with 200 (or ?status=N), so a test can point
 * the webhook at linesim itself; GET /sim/echo/last gives back the last body
 * byte for byte with its signature in X-Line-Signature. */
static void echo_last(struct app *a, struct httpd_reply *reply)
{
	char *copy;

	sim_lock(a->sim);
	copy = malloc(a->echo_len + 1);
	if (copy != NULL) {
		if (a->echo_len > 0)
			memcpy(copy, a->echo_body, a->echo_len);
		copy[a->echo_len] = '\0';
		httpd_reply_owned(reply, 200, "application/json", copy, a->echo_len);
		reply_header(reply, "X-Line-Signature", a->echo_sig);
	} else {
		bad(reply, 500, "out of memory");
	}
	sim_unlock(a->sim);
}

static void echo(struct app *a, const struct httpd_request *req, struct httpd_reply *reply)
{
	size_t len;
	const char *body = httpd_body(req, &len);
	const char *sig = httpd_header(req, "X-Line-Signature");
	char *copy = malloc(len + 1);

	const char *st = httpd_query(req, "status");
	long long status = 200;

	if (st != NULL && !str_to_ll(st, 100, 599, &status))
		status = 400;
	sim_lock(a->sim);
	if (copy != NULL) {
		memcpy(copy, body, len);
		copy[len] = '\0';
		free(a->echo_body);
		a->echo_body = copy;
		a->echo_len = len;
	}
	str_msg(a->echo_sig, sizeof(a->echo_sig), "%s", sig ? sig : "");
	sim_unlock(a->sim);
	reply_json(reply, (int)status, json_object());
}

void control_route(struct app *a, const struct httpd_request *req, struct httpd_reply *reply)
{
	const char *p = httpd_path(req);
	char uid[SIM_UID_SIZE + 1];
	const char *rest;

	if (strcmp(p, "/sim/echo/last") == 0 && is_method(req, "GET")) {
		echo_last(a, reply);
	} else if (strcmp(p, "/sim/echo") == 0) {
		echo(a, req, reply);
	} else if (strcmp(p, "/sim/channel") == 0 && is_method(req, "GET")) {
		sim_lock(a->sim);
		reply_json(reply, 200, channel_json(a->sim));
		sim_unlock(a->sim);
	} else if (strcmp(p, "/sim/channel") == 0 && is_method(req, "PUT")) {
		put_channel(a, req, reply);
	} else if (strcmp(p, "/sim/users") == 0 && is_method(req, "POST")) {
		create_users(a, req, reply);
	} else if (strncmp(p, "/sim/users/", 11) == 0 && (rest = strchr(p + 11, '/')) != NULL &&
		   (size_t)(rest - (p + 11)) < sizeof(uid)) {
		memcpy(uid, p + 11, (size_t)(rest - (p + 11)));
		uid[rest - (p + 11)] = '\0';
		if (strcmp(rest, "/events") == 0 && is_method(req, "POST"))
			user_event(a, uid, req, reply);
		else if (strcmp(rest, "/inbox") == 0 && is_method(req, "GET"))
			inbox(a, uid, reply);
		else if (strcmp(rest, "/richmenu") == 0 && is_method(req, "GET"))
			user_richmenu(a, uid, reply);
		else if (strcmp(rest, "/liff-token") == 0 && is_method(req, "POST"))
			liff_token(a, uid, req, reply);
		else
			bad(reply, 404, "not found");
	} else if (strcmp(p, "/sim/requests") == 0 && is_method(req, "GET")) {
		sim_lock(a->sim);
		reply_json(
			reply, 200,
			json_pack("{s:o}", "requests", sim_requests_json(a->sim, since_arg(req))));
		sim_unlock(a->sim);
	} else if (strcmp(p, "/sim/webhooks") == 0 && is_method(req, "GET")) {
		sim_lock(a->sim);
		reply_json(
			reply, 200,
			json_pack("{s:o}", "webhooks", sim_webhooks_json(a->sim, since_arg(req))));
		sim_unlock(a->sim);
	} else if (strcmp(p, "/sim/stats") == 0 && is_method(req, "GET")) {
		sim_lock(a->sim);
		reply_json(reply, 200, sim_stats_json(a->sim));
		sim_unlock(a->sim);
	} else if (strcmp(p, "/sim/faults") == 0 && is_method(req, "POST")) {
		post_fault(a, req, reply);
	} else if (strcmp(p, "/sim/faults") == 0 && is_method(req, "DELETE")) {
		sim_lock(a->sim);
		sim_faults_clear(a->sim);
		sim_unlock(a->sim);
		reply_json(reply, 200, json_pack("{s:[]}", "faults"));
	} else if (strcmp(p, "/sim/faults") == 0 && is_method(req, "GET")) {
		sim_lock(a->sim);
		reply_json(reply, 200, json_pack("{s:o}", "faults", sim_faults_json(a->sim)));
		sim_unlock(a->sim);
	} else if (strcmp(p, "/sim/reset") == 0 && is_method(req, "POST")) {
		reset(a, reply);
	} else {
		bad(reply, 404, "not found");
	}
}
