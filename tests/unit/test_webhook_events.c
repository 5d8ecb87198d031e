/* Unit tests for webhook/events (the webhook body parser and its limits)
 * and the worker's pure parts (keyword replies, greeting). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events.h"
#include "jsonlimit.h"
#include "str.h"
#include "worker.h"

#define UID "U4af4980629a1b2c3d4e5f60718293a4b"
#define EV(extra)                                                                                  \
	"{\"type\":\"follow\",\"webhookEventId\":\"01JDQ6Y8F3T5V1X9Z2B4C6D8EA\","                  \
	"\"deliveryContext\":{\"isRedelivery\":false},\"timestamp\":1764028800000,"                \
	"\"source\":{\"type\":\"user\",\"userId\":\"" UID "\"},\"replyToken\":\"r1\","             \
	"\"mode\":\"active\"" extra "}"
#define BODY(events)                                                                               \
	"{\"destination\":\"U0123456789abcdef0123456789abcdef\",\"events\":[" events "]}"

static void good_events(void **state)
{
	const char *body =
		BODY(EV("") ",{\"type\":\"message\",\"webhookEventId\":\"E2\",\"timestamp\":5,"
			    "\"deliveryContext\":{\"isRedelivery\":true},"
			    "\"source\":{\"type\":\"user\",\"userId\":\"" UID "\"},"
			    "\"replyToken\":\"abc\",\"message\":{\"type\":\"text\",\"id\":\"1\","
			    "\"text\":\"受信設定\"}},"
			    "{\"type\":\"join\",\"webhookEventId\":\"E3\",\"timestamp\":6,"
			    "\"source\":{\"type\":\"group\",\"groupId\":\"C1\"}}");
	struct wh_batch *b;
	char err[256];

	(void)state;
	assert_int_equal(events_parse(body, strlen(body), 10, &b, err, sizeof(err)), HL_OK);
	assert_int_equal(b->n, 3);
	assert_string_equal(b->events[0].id, "01JDQ6Y8F3T5V1X9Z2B4C6D8EA");
	assert_string_equal(b->events[0].type, "follow");
	assert_string_equal(b->events[0].user_id, UID);
	assert_int_equal(b->events[0].timestamp_ms, 1764028800000LL);
	assert_false(b->events[0].redelivery);
	assert_string_equal(b->events[0].reply_token, "r1");
	assert_non_null(
		strstr(b->events[0].body, "\"webhookEventId\":\"01JDQ6Y8F3T5V1X9Z2B4C6D8EA\""));
	assert_true(b->events[1].redelivery);
	assert_string_equal(b->events[1].message_type, "text");
	assert_string_equal(b->events[1].text, "受信設定");
	assert_string_equal(b->events[2].user_id, ""); /* a group: no resident */
	wh_batch_free(b);
}

static void empty_events_is_a_url_check(void **state)
{
	const char *body = BODY("");
	struct wh_batch *b;
	char err[256];

	(void)state;
	assert_int_equal(events_parse(body, strlen(body), 10, &b, err, sizeof(err)), HL_OK);
	assert_int_equal(b->n, 0);
	wh_batch_free(b);
}

/* '{"events":[' + depth-2 brackets + closers + ']}': depth levels. */
static char *nest(size_t depth)
{
	size_t i, n = depth - 2, k = 0;
	char *s = malloc(2 * n + 32);

	assert_non_null(s);
	memcpy(s, "{\"events\":[", 11);
	k = 11;
	for (i = 0; i < n; i++)
		s[k++] = '[';
	for (i = 0; i < n; i++)
		s[k++] = ']';
	memcpy(s + k, "]}", 3);
	return s;
}

static void depth_is_checked_before_parsing(void **state)
{
	struct wh_batch *b = NULL;
	char err[256], *deep = nest(WH_MAX_DEPTH + 1), *ok = nest(WH_MAX_DEPTH);

	(void)state;
	assert_true(json_nesting_ok(ok, strlen(ok), WH_MAX_DEPTH));
	assert_int_equal(events_parse(deep, strlen(deep), 10, &b, err, sizeof(err)), HL_PERMFAIL);
	assert_string_equal(err, "JSON nested deeper than 16 levels");
	/* Within the limit the depth is fine; the inner arrays are not events. */
	assert_int_equal(events_parse(ok, strlen(ok), 10, &b, err, sizeof(err)), HL_PERMFAIL);
	assert_string_equal(err, "events[0] not an object");
	/* Brackets inside strings do not count; escaped quotes do not end them. */
	assert_true(json_nesting_ok("{\"a\":\"[[[[\\\"[[[\"}", 17, 1));
	free(deep);
	free(ok);
}

static void refusals(void **state)
{
	static const struct {
		const char *name, *body, *err;
	} cases[] = {
		{"not JSON", "{\"events\":[", NULL},
		{"not an object", "[]", "body: not a JSON object"},
		{"no events", "{\"destination\":\"x\"}", "events: missing or not an array"},
		{"events not an array", "{\"events\":{}}", "events: missing or not an array"},
		{"too many", BODY(EV("") "," EV("") "," EV("") "," EV("")),
		 "events: 4 events, at most 3 per request"},
		{"duplicate keys", "{\"events\":[],\"events\":[]}", NULL},
		{"NUL", "{\"events\":[],\"x\":\"a\\u0000b\"}", NULL},
		{"destination", "{\"destination\":1,\"events\":[]}",
		 "destination: not a string of at most 64 bytes"},
		{"no type", BODY("{\"webhookEventId\":\"E\",\"timestamp\":1}"),
		 "events[0] type: missing or not 1-40 letters"},
		{"type with digits",
		 BODY("{\"type\":\"f0llow\",\"webhookEventId\":\"E\",\"timestamp\":1}"),
		 "events[0] type: missing or not 1-40 letters"},
		{"no id", BODY("{\"type\":\"follow\",\"timestamp\":1}"),
		 "events[0] webhookEventId: missing or not 1-64 of [0-9A-Za-z_-]"},
		{"id with a quote",
		 BODY("{\"type\":\"follow\",\"webhookEventId\":\"E'\",\"timestamp\":1}"),
		 "events[0] webhookEventId: missing or not 1-64 of [0-9A-Za-z_-]"},
		{"id too long",
		 BODY("{\"type\":\"follow\",\"webhookEventId\":"
		      "\"01234567890123456789012345678901234567890"
		      "1234567890123456789012345\",\"timestamp\":1}"),
		 "events[0] webhookEventId: missing or not 1-64 of [0-9A-Za-z_-]"},
		{"no timestamp", BODY("{\"type\":\"follow\",\"webhookEventId\":\"E\"}"),
		 "events[0] timestamp: missing or not milliseconds since 1970"},
		{"negative timestamp",
		 BODY("{\"type\":\"follow\",\"webhookEventId\":\"E\",\"timestamp\":-1}"),
		 "events[0] timestamp: missing or not milliseconds since 1970"},
		{"bad user id",
		 BODY("{\"type\":\"follow\",\"webhookEventId\":\"E\",\"timestamp\":1,"
		      "\"source\":{\"type\":\"user\",\"userId\":\"U123\"}}"),
		 "events[0] source.userId: missing or not U + 32 hex digits"},
		{"upper-case user id",
		 BODY("{\"type\":\"follow\",\"webhookEventId\":\"E\",\"timestamp\":1,"
		      "\"source\":{\"type\":\"user\",\"userId\":"
		      "\"U4AF4980629A1B2C3D4E5F60718293A4B\"}}"),
		 "events[0] source.userId: missing or not U + 32 hex digits"},
		{"redelivery not boolean",
		 BODY("{\"type\":\"follow\",\"webhookEventId\":\"E\",\"timestamp\":1,"
		      "\"deliveryContext\":{\"isRedelivery\":\"no\"}}"),
		 "events[0] deliveryContext.isRedelivery: not a boolean"},
		{"reply token with a space",
		 BODY("{\"type\":\"follow\",\"webhookEventId\":\"E\",\"timestamp\":1,"
		      "\"replyToken\":\"a b\"}"),
		 "events[0] replyToken: not 1-200 of [0-9A-Za-z_.~+/=-]"},
		{"message without type",
		 BODY("{\"type\":\"message\",\"webhookEventId\":\"E\",\"timestamp\":1,\"message\":{"
		      "}}"),
		 "events[0] message.type: missing or not 1-16 letters"},
		{"text not a string",
		 BODY("{\"type\":\"message\",\"webhookEventId\":\"E\",\"timestamp\":1,"
		      "\"message\":{\"type\":\"text\",\"text\":5}}"),
		 "events[0] message.text: not a string of at most 20000 bytes"},
		{"postback data not a string",
		 BODY("{\"type\":\"postback\",\"webhookEventId\":\"E\",\"timestamp\":1,"
		      "\"postback\":{\"data\":[]}}"),
		 "events[0] postback.data: not a string of at most 1200 bytes"},
		{"second event bad", BODY(EV("") ",5"), "events[1] not an object"},
	};
	struct wh_batch *b;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum hl_status st;

		b = (struct wh_batch *)1;
		err[0] = '\0';
		st = events_parse(cases[i].body, strlen(cases[i].body), 3, &b, err, sizeof(err));
		if (st != HL_PERMFAIL || b != NULL)
			fail_msg("%s: accepted", cases[i].name);
		if (cases[i].err != NULL && strcmp(err, cases[i].err) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name, err, cases[i].err);
		if (cases[i].err == NULL && strncmp(err, "not JSON: ", 10) != 0)
			fail_msg("%s: got \"%s\", want a JSON error", cases[i].name, err);
	}
}

static void long_text_is_refused(void **state)
{
	size_t n = WH_TEXT_MAX + 1, k;
	const char *head = BODY("{\"type\":\"message\",\"webhookEventId\":\"E\",\"timestamp\":1,"
				"\"message\":{\"type\":\"text\",\"text\":\"");
	char *body = malloc(strlen(head) + n + 16), err[256];
	struct wh_batch *b;

	(void)state;
	assert_non_null(body);
	/* BODY() ends with "]}": cut it off and add the long text. */
	k = strlen(head) - 2;
	memcpy(body, head, k);
	memset(body + k, 'a', n);
	k += n;
	memcpy(body + k, "\"}}]}", 6);
	assert_int_equal(events_parse(body, strlen(body), 3, &b, err, sizeof(err)), HL_PERMFAIL);
	assert_string_equal(err, "events[0] message.text: not a string of at most 20000 bytes");
	/* One byte less is accepted. */
	memmove(body + k - 1, body + k, 6);
	assert_int_equal(events_parse(body, strlen(body), 3, &b, err, sizeof(err)), HL_OK);
	assert_int_equal(strlen(b->events[0].text), WH_TEXT_MAX);
	wh_batch_free(b);
	free(body);
}

static void stored_event_round_trip(void **state)
{
	struct wh_event ev;
	char err[256];

	(void)state;
	assert_int_equal(
		events_parse_one(EV(",\"follow\":{\"isUnblocked\":true}"), &ev, err, sizeof(err)),
		HL_OK);
	assert_string_equal(ev.type, "follow");
	assert_string_equal(ev.user_id, UID);
	assert_true(ev.unblocked);
	assert_null(ev.body);
	wh_event_clear(&ev);
	assert_int_equal(events_parse_one("{\"type\":1}", &ev, err, sizeof(err)), HL_PERMFAIL);
	assert_string_equal(err, "type: missing or not 1-40 letters");
}

static void keywords(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* substring of the reply, NULL: no reply */
	} cases[] = {
		{"受信設定", "https://liff.line.me/123-abc"},
		{"  設定\n", "https://liff.line.me/123-abc"},
		{"\xe3\x80\x80受信設定\xe3\x80\x80", "https://liff.line.me/123-abc"},
		{"HELP", "安心ほっとメール"},
		{"ヘルプ", "安心ほっとメール"},
		{"受信設定を変えたい", NULL},
		{"こんにちは", NULL},
		{"", NULL},
		{"   ", NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = worker_keyword_reply(cases[i].text, "https://liff.line.me/123-abc");

		if (cases[i].want == NULL && r != NULL)
			fail_msg("\"%s\": unexpected reply %s", cases[i].text, r);
		if (cases[i].want != NULL && (r == NULL || strstr(r, cases[i].want) == NULL))
			fail_msg("\"%s\": got %s", cases[i].text, r != NULL ? r : "(none)");
		if (r != NULL && strncmp(r, "[{\"type\":\"text\",\"text\":", 22) != 0)
			fail_msg("\"%s\": not a LINE text message: %s", cases[i].text, r);
		free(r);
	}
}

static void greeting(void **state)
{
	char *g = worker_greeting("https://liff.line.me/123-abc"), *h = worker_greeting("");

	(void)state;
	assert_non_null(strstr(g, "受信設定"));
	assert_non_null(strstr(g, "https://liff.line.me/123-abc"));
	assert_non_null(strstr(h, "受信設定"));
	assert_null(strstr(h, "https://"));
	free(g);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_events),
		cmocka_unit_test(empty_events_is_a_url_check),
		cmocka_unit_test(depth_is_checked_before_parsing),
		cmocka_unit_test(refusals),
		cmocka_unit_test(long_text_is_refused),
		cmocka_unit_test(stored_event_round_trip),
		cmocka_unit_test(keywords),
		cmocka_unit_test(greeting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
