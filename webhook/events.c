/*
 * events — LINE webhook bodies; see events.h.
 */
#include "events.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonlimit.h"
#include "str.h"

static bool all_of(const char *s, const char *set)
{
	return *s != '\0' && strspn(s, set) == strlen(s);
}

#define ALPHA	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGITS	"0123456789"
#define HEXLOW	"0123456789abcdef"
#define ID_SET	ALPHA DIGITS "-_"
#define TOK_SET ALPHA DIGITS "-_.~+/="

static bool is_user_id(const char *s)
{
	return strlen(s) == WH_USER_ID_LEN && s[0] == 'U' && all_of(s + 1, HEXLOW);
}

/* Copy an optional string member into dst (size bytes, NUL-free, within
 * set when set is not NULL).  Absent: dst = "" and true. */
static bool opt_str(json_t *obj, const char *key, char *dst, size_t size, const char *set)
{
	json_t *v = json_object_get(obj, key);
	const char *s;

	dst[0] = '\0';
	if (v == NULL)
		return true;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= size)
		return false;
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || (set != NULL && !all_of(s, set)))
		return false;
	return str_copy(dst, s, size);
}

/* An optional string member as a malloc'd copy (NULL when absent). */
static bool opt_dup(json_t *obj, const char *key, size_t max, char **out, bool *oom)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL)
		return true;
	if (!json_is_string(v) || json_string_length(v) > max)
		return false;
	if ((*out = strdup(json_string_value(v))) == NULL) {
		*oom = true;
		return false;
	}
	return true;
}

void wh_event_clear(struct wh_event *ev)
{
	if (ev == NULL)
		return;
	free(ev->text);
	free(ev->postback_data);
	free(ev->body);
	memset(ev, 0, sizeof(*ev));
}

/* Check one event object and fill ev; the reason (without the
 * "events[i]." prefix) in err. */
static enum hl_status parse_event(json_t *e, struct wh_event *ev, bool keep_body, char *err,
				  size_t errlen)
{
	json_t *v, *src, *msg;
	bool oom = false;

	memset(ev, 0, sizeof(*ev));
	if (!json_is_object(e)) {
		str_msg(err, errlen, "not an object");
		return HL_PERMFAIL;
	}
	if (!opt_str(e, "type", ev->type, sizeof(ev->type), ALPHA) || ev->type[0] == '\0') {
		str_msg(err, errlen, "type: missing or not 1-%d letters", WH_TYPE_MAX);
		return HL_PERMFAIL;
	}
	if (!opt_str(e, "webhookEventId", ev->id, sizeof(ev->id), ID_SET) || ev->id[0] == '\0') {
		str_msg(err, errlen, "webhookEventId: missing or not 1-%d of [0-9A-Za-z_-]",
			WH_EVENT_ID_MAX);
		return HL_PERMFAIL;
	}
	v = json_object_get(e, "timestamp");
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 253402300799999LL) {
		str_msg(err, errlen, "timestamp: missing or not milliseconds since 1970");
		return HL_PERMFAIL;
	}
	ev->timestamp_ms = json_integer_value(v);
	v = json_object_get(json_object_get(e, "deliveryContext"), "isRedelivery");
	if (v != NULL && !json_is_boolean(v)) {
		str_msg(err, errlen, "deliveryContext.isRedelivery: not a boolean");
		return HL_PERMFAIL;
	}
	ev->redelivery = json_is_true(v);
	src = json_object_get(e, "source");
	if (src != NULL && !json_is_object(src)) {
		str_msg(err, errlen, "source: not an object");
		return HL_PERMFAIL;
	}
	if (json_is_object(src) && json_is_string(json_object_get(src, "type")) &&
	    strcmp(json_string_value(json_object_get(src, "type")), "user") == 0) {
		if (!opt_str(src, "userId", ev->user_id, sizeof(ev->user_id), NULL) ||
		    !is_user_id(ev->user_id)) {
			str_msg(err, errlen, "source.userId: missing or not U + 32 hex digits");
			return HL_PERMFAIL;
		}
	}
	if (!opt_str(e, "replyToken", ev->reply_token, sizeof(ev->reply_token), TOK_SET)) {
		str_msg(err, errlen, "replyToken: not 1-%d of [0-9A-Za-z_.~+/=-]",
			WH_REPLY_TOKEN_MAX);
		return HL_PERMFAIL;
	}
	v = json_object_get(json_object_get(e, "follow"), "isUnblocked");
	ev->unblocked = json_is_true(v);
	msg = json_object_get(e, "message");
	if (strcmp(ev->type, "message") == 0) {
		if (!json_is_object(msg) ||
		    !opt_str(msg, "type", ev->message_type, sizeof(ev->message_type), ALPHA) ||
		    ev->message_type[0] == '\0') {
			str_msg(err, errlen, "message.type: missing or not 1-%d letters",
				WH_MESSAGE_TYPE_MAX);
			return HL_PERMFAIL;
		}
		if (!opt_dup(msg, "text", WH_TEXT_MAX, &ev->text, &oom))
			goto bad_text;
	}
	if (strcmp(ev->type, "postback") == 0 &&
	    !opt_dup(json_object_get(e, "postback"), "data", WH_POSTBACK_DATA_MAX,
		     &ev->postback_data, &oom))
		goto bad_data;
	if (keep_body && (ev->body = json_dumps(e, JSON_COMPACT)) == NULL) {
		oom = true;
		goto bad_text;
	}
	return HL_OK;
bad_text:
	if (oom)
		goto oom;
	str_msg(err, errlen, "message.text: not a string of at most %d bytes", WH_TEXT_MAX);
	wh_event_clear(ev);
	return HL_PERMFAIL;
bad_data:
	if (oom)
		goto oom;
	str_msg(err, errlen, "postback.data: not a string of at most %d bytes",
		WH_POSTBACK_DATA_MAX);
	wh_event_clear(ev);
	return HL_PERMFAIL;
oom:
	str_msg(err, errlen, "out of memory");
	wh_event_clear(ev);
	return HL_TEMPFAIL;
}

static json_t *load(const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;

	if (!json_nesting_ok(text, len, WH_MAX_DEPTH)) {
		str_msg(err, errlen, "JSON nested deeper than %d levels", WH_MAX_DEPTH);
		return NULL;
	}
	/* Duplicate keys would let two readers see two different events. */
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		str_msg(err, errlen, "not JSON: %s (line %d, column %d)", jerr.text, jerr.line,
			jerr.column);
	return root;
}

void wh_batch_free(struct wh_batch *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		wh_event_clear(&b->events[i]);
	free(b->events);
	free(b);
}

enum hl_status events_parse(const char *body, size_t len, size_t max_events, struct wh_batch **out,
			    char *err, size_t errlen)
{
	enum hl_status st = HL_PERMFAIL;
	struct wh_batch *b = NULL;
	json_t *root, *events, *dest;
	char why[160];
	size_t i, n;

	*out = NULL;
	if ((root = load(body, len, err, errlen)) == NULL)
		return HL_PERMFAIL;
	if (!json_is_object(root)) {
		str_msg(err, errlen, "body: not a JSON object");
		goto fail;
	}
	dest = json_object_get(root, "destination");
	if (dest != NULL &&
	    (!json_is_string(dest) || json_string_length(dest) > WH_DESTINATION_MAX)) {
		str_msg(err, errlen, "destination: not a string of at most %d bytes",
			WH_DESTINATION_MAX);
		goto fail;
	}
	events = json_object_get(root, "events");
	if (!json_is_array(events)) {
		str_msg(err, errlen, "events: missing or not an array");
		goto fail;
	}
	n = json_array_size(events);
	if (n > max_events) {
		str_msg(err, errlen, "events: %zu events, at most %zu per request", n, max_events);
		goto fail;
	}
	st = HL_TEMPFAIL;
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (n > 0 && (b->events = calloc(n, sizeof(*b->events))) == NULL)) {
		str_msg(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if ((st = parse_event(json_array_get(events, i), &b->events[i], true, why,
				      sizeof(why))) != HL_OK) {
			str_msg(err, errlen, "events[%zu] %s", i, why);
			goto fail;
		}
		b->n = i + 1;
	}
	json_decref(root);
	*out = b;
	return HL_OK;
fail:
	wh_batch_free(b);
	json_decref(root);
	return st;
}

enum hl_status events_parse_one(const char *json, struct wh_event *ev, char *err, size_t errlen)
{
	enum hl_status st;
	json_t *e;

	memset(ev, 0, sizeof(*ev));
	if ((e = load(json, strlen(json), err, errlen)) == NULL)
		return HL_PERMFAIL;
	st = parse_event(e, ev, false, err, errlen);
	json_decref(e);
	return st;
}
