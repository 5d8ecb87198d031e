/*
 * events — LINE's webhook body, parsed and checked in one place.
 *
 * The request path calls events_parse() on a body whose signature has
 * already been verified: it checks the nesting depth on the raw bytes
 * before jansson builds anything, then the shape and the limits below, and
 * returns one struct wh_event per event with the columns webhook_events
 * needs and the event object re-serialised as compact JSON (the row's
 * body).  The worker calls events_parse_one() on a stored body to get the
 * fields its handlers need.  Pure: bytes in, structs out, no I/O.
 *
 * Errors: HL_PERMFAIL with a one-line reason naming the field and the limit
 * ("events[2].webhookEventId: missing or not 1-64 of [0-9A-Za-z_-]"), or
 * HL_TEMPFAIL when out of memory.
 */
#ifndef HL_EVENTS_H
#define HL_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

/* Limits, each with the attack or accident it stops.
 *
 * Depth: jansson parses recursively; LINE's deepest event (a text message
 * with mentions: body/events/event/message/mention/mentionees/item) is 7
 * levels, so 16 leaves room for new fields while refusing "[[[[…" bombs
 * that would cost stack and time before any check could run. */
#define WH_MAX_DEPTH 16
/* Events per request: LINE publishes no maximum and batches a few events;
 * linesim sends up to 100.  The default [webhook] max_events (1000) bounds
 * the rows one request can write in one transaction; the body size limit
 * bounds the bytes. */
#define WH_EVENTS_DEFAULT 1000
/* webhookEventId is a 26-character ULID; the column allows 64. */
#define WH_EVENT_ID_MAX 64
/* Event type: [a-zA-Z]{1,40}, as the column's CHECK. */
#define WH_TYPE_MAX 40
/* A LINE user id: U + 32 hex digits. */
#define WH_USER_ID_LEN 33
/* replyToken: the column allows 200 (LINE's are 32). */
#define WH_REPLY_TOKEN_MAX 200
/* message.type (text, image, video, audio, file, location, sticker). */
#define WH_MESSAGE_TYPE_MAX 16
/* message.text: LINE allows 5,000 characters, at most 4 bytes each. */
#define WH_TEXT_MAX 20000
/* postback.data: LINE allows 300 characters. */
#define WH_POSTBACK_DATA_MAX 1200
/* destination: the bot's user id (33); a little room. */
#define WH_DESTINATION_MAX 64

struct wh_event {
	char id[WH_EVENT_ID_MAX + 1];
	char type[WH_TYPE_MAX + 1];
	char user_id[WH_USER_ID_LEN + 1]; /* "" unless source.type is "user" */
	long long timestamp_ms;
	bool redelivery;			    /* deliveryContext.isRedelivery */
	char reply_token[WH_REPLY_TOKEN_MAX + 1];   /* "" when none */
	char message_type[WH_MESSAGE_TYPE_MAX + 1]; /* "" unless type is message */
	bool unblocked;				    /* follow.isUnblocked */
	char *text;				    /* message.text, NUL-free, or NULL; owned */
	char *postback_data;			    /* postback.data or NULL; owned */
	char *body;				    /* the event object as compact JSON; owned */
};

struct wh_batch {
	size_t n;
	struct wh_event *events;
};

/* Parse a webhook body.  On HL_OK *out holds the events (n may be 0: LINE
 * sends an empty array to check the URL); free with wh_batch_free(). */
enum hl_status events_parse(const char *body, size_t len, size_t max_events, struct wh_batch **out,
			    char *err, size_t errlen);
void wh_batch_free(struct wh_batch *b);

/* Parse one stored event object (webhook_events.body) into *ev, which the
 * caller releases with wh_event_clear(). */
enum hl_status events_parse_one(const char *json, struct wh_event *ev, char *err, size_t errlen);
void wh_event_clear(struct wh_event *ev);

#endif
