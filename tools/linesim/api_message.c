/*
 * api_message — the Messaging API as LINE documents it (messaging-api.yml):
 * push, multicast, broadcast, narrowcast and its progress, reply, the
 * loading animation, profiles, follower ids, quota, bot info and the
 * webhook endpoint settings.
 *
 * Each handler runs with the sim lock held and does work proportional to
 * its request (broadcast and narrowcast to the followers).  Checks come in
 * LINE's order: rate limit, retry key, body, quota; an accepted send
 * remembers its retry key so a repeat within 24 hours is answered 409 and
 * delivers nothing twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "log.h"
#include "msgcheck.h"
#include "simhttp.h"
#include "str.h"

#define MESSAGES_MAX	       5
#define MULTICAST_MAX	       500
#define FOLLOWERS_PAGE_DEFAULT 300
#define FOLLOWERS_PAGE_MAX     1000

#define RATE_MSG  "The API rate limit has been exceeded. Try again later."
#define QUOTA_MSG "You have reached your monthly limit."

static bool is_method(const struct httpd_request *req, const char *m)
{
	return strcmp(httpd_method(req), m) == 0;
}

static bool rate_ok(struct app *a, enum sim_rate which, struct httpd_reply *reply)
{
	if (sim_rate_allow(a->sim, which))
		return true;
	/* LINE sends no Retry-After: clients back off on their own. */
	reply_line_error(reply, 429, RATE_MSG, NULL);
	return false;
}

static bool is_uuid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i] != '\0'; i++) {
		char c = s[i];

		if (shape[i] == '-' ? c != '-'
				    : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
					(c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* The retry key check for sends that take one; false when answered. */
static bool retry_ok(struct app *a, const struct httpd_request *req, struct httpd_reply *reply,
		     const char **key_out)
{
	const char *key = httpd_header(req, "X-Line-Retry-Key");
	char accepted[SIM_REQID_SIZE];

	*key_out = NULL;
	if (key == NULL)
		return true;
	if (!is_uuid(key)) {
		reply_line_error(reply, 400,
				 "The value for the 'X-Line-Retry-Key' header is invalid", NULL);
		return false;
	}
	if (sim_retry_seen(a->sim, key, accepted)) {
		reply_header(reply, "x-line-accepted-request-id", accepted);
		reply_line_error(reply, 409, "The retry key is already accepted", NULL);
		return false;
	}
	*key_out = key;
	return true;
}

static void accepted(struct app *a, const char *key, const struct call *call)
{
	if (key != NULL && sim_retry_remember(a->sim, key, call->request_id) < 0)
		log_error("cannot remember a retry key", "request_id=%s", call->request_id);
}

/* Parse the body as an object and check its messages; false when answered. */
/* The body, parsed by the router before it took the lock when it could. */
static json_t *call_body(struct call *call, const struct httpd_request *req, char *err,
			 size_t errlen)
{
	if (!call->parsed)
		return body_json(req, err, errlen);
	if (call->body == NULL) {
		str_msg(err, errlen, "%s", call->body_err);
		return NULL;
	}
	return json_incref(call->body);
}

static bool send_body(struct call *call, const struct httpd_request *req, struct httpd_reply *reply,
		      json_t **out, json_t *details)
{
	char err[160];
	json_t *b = call_body(call, req, err, sizeof(err));

	*out = NULL;
	if (b == NULL || !json_is_object(b)) {
		json_decref(b);
		reply_line_error(reply, 400, b == NULL ? err : "The request body must be an object",
				 NULL);
		return false;
	}
	msgcheck_messages(json_object_get(b, "messages"), MESSAGES_MAX, "messages", details);
	*out = b;
	return true;
}

static void reply_details(struct httpd_reply *reply, json_t *details)
{
	char msg[64];

	str_msg(msg, sizeof(msg), "The request body has %zu error(s)", json_array_size(details));
	reply_line_error(reply, 400, msg, details);
}

/* {"sentMessages":[{"id","quoteToken"?}...]} for push and reply. */
static json_t *sent_messages(struct app *a, const json_t *messages)
{
	json_t *arr = json_array();
	size_t i;
	const json_t *m;

	json_array_foreach(messages, i, m)
	{
		const char *type = json_string_value(json_object_get(m, "type"));
		char id[SIM_MSGID_SIZE], qt[65];
		json_t *o;

		sim_message_id(a->sim, id);
		o = json_pack("{s:s}", "id", id);
		/* Quotable message types get a quote token, as LINE gives them. */
		if (o != NULL && type != NULL &&
		    (strcmp(type, "text") == 0 || strcmp(type, "sticker") == 0 ||
		     strcmp(type, "image") == 0 || strcmp(type, "video") == 0)) {
			sim_random_hex(a->sim, qt, 64);
			json_object_set_new(o, "quoteToken", json_string(qt));
		}
		json_array_append_new(arr, o);
	}
	return json_pack("{s:o}", "sentMessages", arr);
}

static struct sim_delivery *new_delivery(const char *endpoint, const struct call *call,
					 json_t *body)
{
	return sim_delivery_new(endpoint, call->request_id,
				json_incref(json_object_get(body, "messages")));
}

/* ---------------------------------------------------------------- push */

static void push(struct app *a, const struct httpd_request *req, struct httpd_reply *reply,
		 struct call *call)
{
	json_t *details = json_array(), *b = NULL;
	const char *key, *to;
	uint8_t uid[SIM_UID_BYTES];
	struct sim_delivery *d = NULL;
	long idx;

	call->endpoint = "push";
	if (!rate_ok(a, SIM_RATE_DEFAULT, reply) || !retry_ok(a, req, reply, &key) ||
	    !send_body(call, req, reply, &b, details))
		goto done;
	to = json_string_value(json_object_get(b, "to"));
	if (to == NULL && json_object_get(b, "to") != NULL &&
	    !json_is_null(json_object_get(b, "to")))
		msgcheck_detail(details, "Must be a string", "to"); /* e.g. an array of ids */
	else if (to == NULL)
		msgcheck_detail(details, "May not be empty", "to");
	else if (!sim_uid_parse(to, uid))
		msgcheck_detail(details, "Invalid user ID", "to");
	if (json_array_size(details) > 0) {
		reply_details(reply, details);
		details = NULL;
		goto done;
	}
	idx = sim_user_find(a->sim, uid);
	if (idx < 0) {
		reply_line_error(reply, 400, "Failed to send messages", NULL);
		goto done;
	}
	if (!sim_quota_allows(a->sim, 1)) {
		reply_line_error(reply, 429, QUOTA_MSG, NULL);
		goto done;
	}
	/* A resident who blocked the account gets nothing; LINE still says 200. */
	if (sim_user_following(a->sim, idx)) {
		d = new_delivery("push", call, b);
		if (d == NULL || sim_deliver(a->sim, idx, d) < 0) {
			reply_line_error(reply, 500, "out of memory", NULL);
			goto done;
		}
		sim_quota_consume(a->sim, 1);
		call->recipients = 1;
	}
	accepted(a, key, call);
	reply_json(reply, 200, sent_messages(a, json_object_get(b, "messages")));
done:
	sim_delivery_unref(d);
	json_decref(details);
	json_decref(b);
}

/* ----------------------------------------------------------- multicast */

static void multicast(struct app *a, const struct httpd_request *req, struct httpd_reply *reply,
		      struct call *call)
{
	json_t *details = json_array(), *b = NULL;
	const json_t *to, *t;
	const char *key;
	struct sim_delivery *d = NULL;
	long *targets = NULL;
	size_t i, n = 0;

	call->endpoint = "multicast";
	if (!rate_ok(a, SIM_RATE_MULTICAST, reply) || !retry_ok(a, req, reply, &key) ||
	    !send_body(call, req, reply, &b, details))
		goto done;
	to = json_object_get(b, "to");
	if (to == NULL || !json_is_array(to)) {
		msgcheck_detail(details, to == NULL ? "May not be empty" : "Must be an array",
				"to");
	} else if (json_array_size(to) < 1 || json_array_size(to) > MULTICAST_MAX) {
		msgcheck_detail(details, "Size must be between 1 and 500", "to");
	} else {
		targets = calloc(json_array_size(to), sizeof(*targets));
		if (targets == NULL) {
			reply_line_error(reply, 500, "out of memory", NULL);
			goto done;
		}
		json_array_foreach(to, i, t)
		{
			uint8_t uid[SIM_UID_BYTES];
			char prop[32];
			long idx;

			if (!sim_uid_parse(json_string_value(t), uid)) {
				str_msg(prop, sizeof(prop), "to[%zu]", i);
				msgcheck_detail(details, "Invalid user ID", prop);
				continue;
			}
			/* Unknown residents and those who blocked are skipped
			 * silently, as LINE does; a repeated id gets one copy. */
			idx = sim_user_find(a->sim, uid);
			if (idx < 0 || !sim_user_following(a->sim, idx))
				continue;
			if (sim_user_mark(a->sim, idx))
				targets[n++] = idx;
		}
		for (i = 0; i < n; i++)
			sim_user_unmark(a->sim, targets[i]);
	}
	if (json_array_size(details) > 0) {
		reply_details(reply, details);
		details = NULL;
		goto done;
	}
	if (!sim_quota_allows(a->sim, (long long)n)) {
		reply_line_error(reply, 429, QUOTA_MSG, NULL);
		goto done;
	}
	d = new_delivery("multicast", call, b);
	if (d == NULL) {
		reply_line_error(reply, 500, "out of memory", NULL);
		goto done;
	}
	for (i = 0; i < n; i++)
		if (sim_deliver(a->sim, targets[i], d) < 0)
			log_error("inbox full: out of memory", "request_id=%s", call->request_id);
	sim_quota_consume(a->sim, (long long)n);
	call->recipients = (long)n;
	accepted(a, key, call);
	reply_json(reply, 200, json_object());
done:
	free(targets);
	sim_delivery_unref(d);
	json_decref(details);
	json_decref(b);
}

/* --------------------------------------------------- broadcast, narrowcast */

/* Deliver to every follower, at most max (-1 for all); the count. */
static long to_followers(struct app *a, struct sim_delivery *d, long long max)
{
	long n = 0;
	size_t users = sim_user_count(a->sim);

	for (size_t i = 0; i < users && (max < 0 || n < max); i++) {
		if (!sim_user_following(a->sim, (long)i))
			continue;
		if (sim_deliver(a->sim, (long)i, d) < 0)
			break;
		n++;
	}
	return n;
}

static void broadcast(struct app *a, const struct httpd_request *req, struct httpd_reply *reply,
		      struct call *call, bool narrow)
{
	json_t *details = json_array(), *b = NULL;
	const char *key;
	struct sim_delivery *d = NULL;
	long long max = -1;
	long long followers;

	call->endpoint = narrow ? "narrowcast" : "broadcast";
	if (!rate_ok(a, narrow ? SIM_RATE_NARROWCAST : SIM_RATE_BROADCAST, reply) ||
	    !retry_ok(a, req, reply, &key) || !send_body(call, req, reply, &b, details))
		goto done;
	if (narrow) {
		const json_t *limit = json_object_get(b, "limit");
		const json_t *lmax = json_object_get(limit, "max");

		if (lmax != NULL) {
			if (!json_is_integer(lmax) || json_integer_value(lmax) < 1)
				msgcheck_detail(details, "Must be greater than or equal to 1",
						"limit.max");
			else
				max = json_integer_value(lmax);
		}
	}
	if (json_array_size(details) > 0) {
		reply_details(reply, details);
		details = NULL;
		goto done;
	}
	followers = (long long)sim_follower_count(a->sim);
	if (max >= 0 && max < followers)
		followers = max;
	if (!sim_quota_allows(a->sim, followers)) {
		reply_line_error(reply, 429, QUOTA_MSG, NULL);
		goto done;
	}
	d = new_delivery(call->endpoint, call, b);
	if (d == NULL) {
		reply_line_error(reply, 500, "out of memory", NULL);
		goto done;
	}
	call->recipients = to_followers(a, d, max);
	sim_quota_consume(a->sim, call->recipients);
	accepted(a, key, call);
	if (narrow) {
		if (sim_narrowcast_record(a->sim, call->request_id, followers, call->recipients) <
		    0)
			log_error("cannot record a narrowcast", "request_id=%s", call->request_id);
		reply_json(reply, 202, json_object());
	} else {
		reply_json(reply, 200, json_object());
	}
done:
	sim_delivery_unref(d);
	json_decref(details);
	json_decref(b);
}

static void narrowcast_progress(struct app *a, const struct httpd_request *req,
				struct httpd_reply *reply, struct call *call)
{
	const char *id = httpd_query(req, "requestId");
	json_t *p;

	call->endpoint = "narrowcast_progress";
	if (!rate_ok(a, SIM_RATE_DEFAULT, reply))
		return;
	if (id == NULL || id[0] == '\0') {
		json_t *details = json_array();

		msgcheck_detail(details, "May not be empty", "requestId");
		reply_line_error(reply, 400, "The request has 1 error(s)", details);
		return;
	}
	p = sim_narrowcast_progress(a->sim, id);
	if (p == NULL) {
		reply_line_error(reply, 404, "Not found", NULL);
		return;
	}
	reply_json(reply, 200, p);
}

/* --------------------------------------------------------------- reply */

static void reply_message(struct app *a, const struct httpd_request *req, struct httpd_reply *reply,
			  struct call *call)
{
	json_t *details = json_array(), *b = NULL;
	const char *token;
	struct sim_delivery *d = NULL;
	long idx;

	call->endpoint = "reply";
	if (!rate_ok(a, SIM_RATE_DEFAULT, reply) || !send_body(call, req, reply, &b, details))
		goto done;
	token = json_string_value(json_object_get(b, "replyToken"));
	if (token == NULL || token[0] == '\0')
		msgcheck_detail(details, "May not be empty", "replyToken");
	if (json_array_size(details) > 0) {
		reply_details(reply, details);
		details = NULL;
		goto done;
	}
	/* Single use, one minute: a second use or a late one is refused. */
	idx = sim_reply_token_use(a->sim, token);
	if (idx < 0) {
		reply_line_error(reply, 400, "Invalid reply token", NULL);
		goto done;
	}
	d = new_delivery("reply", call, b);
	if (d == NULL) {
		reply_line_error(reply, 500, "out of memory", NULL);
		goto done;
	}
	sim_reply_token_attach(a->sim, token, d);
	if (sim_user_following(a->sim, idx)) {
		if (sim_deliver(a->sim, idx, d) < 0)
			log_error("inbox full: out of memory", "request_id=%s", call->request_id);
		call->recipients = 1;
	}
	reply_json(reply, 200, sent_messages(a, json_object_get(b, "messages")));
done:
	sim_delivery_unref(d);
	json_decref(details);
	json_decref(b);
}

/* ------------------------------------------------------------- loading */

static void loading(struct app *a, const struct httpd_request *req, struct httpd_reply *reply,
		    struct call *call)
{
	char err[160];
	json_t *b, *details = json_array();
	const json_t *secs;
	uint8_t uid[SIM_UID_BYTES];
	long idx = -1;

	call->endpoint = "loading";
	if (!rate_ok(a, SIM_RATE_DEFAULT, reply)) {
		json_decref(details);
		return;
	}
	b = call_body(call, req, err, sizeof(err));
	if (b == NULL) {
		json_decref(details);
		reply_line_error(reply, 400, err, NULL);
		return;
	}
	if (!sim_uid_parse(json_string_value(json_object_get(b, "chatId")), uid))
		msgcheck_detail(details, "Invalid chat ID", "chatId");
	else
		idx = sim_user_find(a->sim, uid);
	secs = json_object_get(b, "loadingSeconds");
	if (secs != NULL && (!json_is_integer(secs) || json_integer_value(secs) < 5 ||
			     json_integer_value(secs) > 60 || json_integer_value(secs) % 5 != 0))
		msgcheck_detail(details, "Must be a multiple of 5 between 5 and 60",
				"loadingSeconds");
	if (json_array_size(details) == 0 && idx < 0)
		msgcheck_detail(details, "Not found", "chatId");
	if (json_array_size(details) > 0)
		reply_details(reply, details);
	else {
		json_decref(details);
		call->recipients = 1;
		reply_json(reply, 202, json_object());
	}
	json_decref(b);
}

/* ------------------------------------------------- profile and followers */

static void profile(struct app *a, const char *user, struct httpd_reply *reply, struct call *call)
{
	uint8_t uid[SIM_UID_BYTES];
	char name[48];
	long idx;

	call->endpoint = "profile";
	if (!rate_ok(a, SIM_RATE_DEFAULT, reply))
		return;
	if (!sim_uid_parse(user, uid) || (idx = sim_user_find(a->sim, uid)) < 0 ||
	    !sim_user_following(a->sim, idx)) {
		reply_line_error(reply, 404, "Not found", NULL);
		return;
	}
	/* A display name that says which resident it is, in the city's language. */
	str_msg(name, sizeof(name), "住民%ld", idx + 1);
	reply_json(reply, 200,
		   json_pack("{s:s, s:s, s:s}", "displayName", name, "userId", user, "language",
			     "ja"));
}

static void followers(struct app *a, const struct httpd_request *req, struct httpd_reply *reply,
		      struct call *call)
{
	const char *ls = httpd_query(req, "limit"), *start = httpd_query(req, "start");
	long long limit = FOLLOWERS_PAGE_DEFAULT, from = 0;
	size_t users = sim_user_count(a->sim), i;
	json_t *ids, *out;

	call->endpoint = "followers_ids";
	if (!rate_ok(a, SIM_RATE_DEFAULT, reply))
		return;
	if (ls != NULL && !str_to_ll(ls, 1, FOLLOWERS_PAGE_MAX, &limit)) {
		json_t *details = json_array();

		msgcheck_detail(details, "Must be between 1 and 1000", "limit");
		reply_line_error(reply, 400, "The request has 1 error(s)", details);
		return;
	}
	/* The continuation token is the next index, opaque to clients. */
	if (start != NULL &&
	    (start[0] != 'n' || !str_to_ll(start + 1, 0, (long long)users, &from))) {
		reply_line_error(reply, 400, "Invalid start token", NULL);
		return;
	}
	ids = json_array();
	for (i = (size_t)from; i < users && (long long)json_array_size(ids) < limit; i++) {
		char id[SIM_UID_SIZE];

		if (!sim_user_following(a->sim, (long)i))
			continue;
		sim_user_id(a->sim, (long)i, id);
		json_array_append_new(ids, json_string(id));
	}
	out = json_pack("{s:o}", "userIds", ids);
	for (; i < users; i++)
		if (sim_user_following(a->sim, (long)i)) {
			char next[32];

			str_msg(next, sizeof(next), "n%zu", i);
			json_object_set_new(out, "next", json_string(next));
			break;
		}
	reply_json(reply, 200, out);
}

/* ------------------------------------------------ quota, bot, webhook */

static void quota(struct app *a, struct httpd_reply *reply, struct call *call, bool consumption)
{
	call->endpoint = consumption ? "quota_consumption" : "quota";
	if (!rate_ok(a, SIM_RATE_DEFAULT, reply))
		return;
	if (consumption)
		reply_json(reply, 200,
			   json_pack("{s:I}", "totalUsage", (json_int_t)sim_quota_usage(a->sim)));
	else if (sim_quota_limit(a->sim) < 0)
		reply_json(reply, 200, json_pack("{s:s}", "type", "none"));
	else
		reply_json(reply, 200,
			   json_pack("{s:s, s:I}", "type", "limited", "value",
				     (json_int_t)sim_quota_limit(a->sim)));
}

static void bot_info(struct app *a, struct httpd_reply *reply, struct call *call)
{
	call->endpoint = "bot_info";
	if (!rate_ok(a, SIM_RATE_DEFAULT, reply))
		return;
	reply_json(reply, 200,
		   json_pack("{s:s, s:s, s:s, s:s, s:s}", "userId",
			     sim_channel(a->sim)->bot_user_id, "basicId", "@linesim", "displayName",
			     "linesim", "chatMode", "bot", "markAsReadMode", "auto"));
}

static void webhook_endpoint(struct app *a, const struct httpd_request *req,
			     struct httpd_reply *reply, struct call *call)
{
	struct sim_channel *ch = sim_channel(a->sim);

	call->endpoint = "webhook_endpoint";
	if (!rate_ok(a, SIM_RATE_DEFAULT, reply))
		return;
	if (is_method(req, "PUT")) {
		char err[160];
		json_t *b = call_body(call, req, err, sizeof(err));
		const char *url = json_string_value(json_object_get(b, "endpoint"));

		if (url == NULL || strncmp(url, "https://", 8) != 0 ||
		    !str_copy(ch->webhook_url, url, sizeof(ch->webhook_url))) {
			json_t *details = json_array();

			msgcheck_detail(details, "Must be a valid HTTPS URL", "endpoint");
			json_decref(b);
			reply_line_error(reply, 400, "The request body has 1 error(s)", details);
			return;
		}
		json_decref(b);
		reply_json(reply, 200, json_object());
		return;
	}
	reply_json(reply, 200,
		   json_pack("{s:s, s:b}", "endpoint", ch->webhook_url, "active",
			     ch->webhook_url[0] != '\0'));
}

/* GET /v2/bot/message/delivery/{push,multicast,broadcast,reply}?date=yyyyMMdd:
 * what the endpoint reached that day (Japan time).  LINE computes these
 * overnight; here they are ready at once. */
static void delivery_stats(struct app *a, const struct httpd_request *req,
			   struct httpd_reply *reply, struct call *call, const char *endpoint)
{
	const char *date = httpd_query(req, "date");
	long long d;

	call->endpoint = "delivery_stats";
	if (!rate_ok(a, SIM_RATE_DEFAULT, reply))
		return;
	if (date == NULL || strlen(date) != 8 || !str_to_ll(date, 20000101, 29991231, &d)) {
		json_t *details = json_array();

		msgcheck_detail(details, "Must be a date in yyyyMMdd format (UTC+9)", "date");
		reply_line_error(reply, 400, "The request has 1 error(s)", details);
		return;
	}
	reply_json(reply, 200,
		   json_pack("{s:s, s:I}", "status", "ready", "success",
			     (json_int_t)sim_sent_on(a->sim, endpoint, date)));
}

/* POST /v2/bot/message/validate/{push,reply,multicast,narrowcast,broadcast}:
 * the messages are checked as a send would check them; nothing is sent. */
static void validate(struct app *a, const struct httpd_request *req, struct httpd_reply *reply,
		     struct call *call)
{
	json_t *details = json_array(), *b = NULL;

	call->endpoint = "validate";
	if (!rate_ok(a, SIM_RATE_DEFAULT, reply) || !send_body(call, req, reply, &b, details)) {
		json_decref(details);
		return;
	}
	if (json_array_size(details) > 0)
		reply_details(reply, details);
	else {
		json_decref(details);
		reply_json(reply, 200, json_object());
	}
	json_decref(b);
}

bool api_message_route(struct app *a, const struct httpd_request *req, struct httpd_reply *reply,
		       struct call *call)
{
	const char *p = httpd_path(req);

	if (is_method(req, "POST")) {
		if (strcmp(p, "/v2/bot/message/push") == 0)
			push(a, req, reply, call);
		else if (strcmp(p, "/v2/bot/message/multicast") == 0)
			multicast(a, req, reply, call);
		else if (strcmp(p, "/v2/bot/message/broadcast") == 0)
			broadcast(a, req, reply, call, false);
		else if (strcmp(p, "/v2/bot/message/narrowcast") == 0)
			broadcast(a, req, reply, call, true);
		else if (strcmp(p, "/v2/bot/message/reply") == 0)
			reply_message(a, req, reply, call);
		else if (strcmp(p, "/v2/bot/chat/loading/start") == 0)
			loading(a, req, reply, call);
		else if (strcmp(p, "/v2/bot/message/validate/push") == 0 ||
			 strcmp(p, "/v2/bot/message/validate/reply") == 0 ||
			 strcmp(p, "/v2/bot/message/validate/multicast") == 0 ||
			 strcmp(p, "/v2/bot/message/validate/narrowcast") == 0 ||
			 strcmp(p, "/v2/bot/message/validate/broadcast") == 0)
			validate(a, req, reply, call);
		else
			return false;
		return true;
	}
	if (is_method(req, "GET")) {
		if (strncmp(p, "/v2/bot/profile/", 16) == 0)
			profile(a, p + 16, reply, call);
		else if (strcmp(p, "/v2/bot/followers/ids") == 0)
			followers(a, req, reply, call);
		else if (strcmp(p, "/v2/bot/message/progress/narrowcast") == 0)
			narrowcast_progress(a, req, reply, call);
		else if (strcmp(p, "/v2/bot/message/quota") == 0)
			quota(a, reply, call, false);
		else if (strcmp(p, "/v2/bot/message/quota/consumption") == 0)
			quota(a, reply, call, true);
		else if (strcmp(p, "/v2/bot/info") == 0)
			bot_info(a, reply, call);
		else if (strcmp(p, "/v2/bot/message/delivery/push") == 0)
			delivery_stats(a, req, reply, call, "push");
		else if (strcmp(p, "/v2/bot/message/delivery/multicast") == 0)
			delivery_stats(a, req, reply, call, "multicast");
		else if (strcmp(p, "/v2/bot/message/delivery/broadcast") == 0)
			delivery_stats(a, req, reply, call, "broadcast");
		else if (strcmp(p, "/v2/bot/message/delivery/reply") == 0)
			delivery_stats(a, req, reply, call, "reply");
		else if (strcmp(p, "/v2/bot/channel/webhook/endpoint") == 0)
			webhook_endpoint(a, req, reply, call);
		else
			return false;
		return true;
	}
	if (is_method(req, "PUT") && strcmp(p, "/v2/bot/channel/webhook/endpoint") == 0) {
		webhook_endpoint(a, req, reply, call);
		return true;
	}
	return false;
}
