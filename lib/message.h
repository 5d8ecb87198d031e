/*
 * message — the LINE message objects of one delivery.
 *
 * An alert (title, category, body, optional link) becomes the JSON array of
 * 1–5 LINE message objects that is stored in deliveries.messages and sent by
 * the pusher as is.  Two styles:
 *
 *   MESSAGE_TEXT  the title as the first line, then the body and the link,
 *                 split by lib/textsplit into text messages of at most
 *                 5,000 UTF-16 units each.
 *   MESSAGE_CARD  one Flex bubble (category label on the category colour,
 *                 the title in bold, the body, a link button) with altText;
 *                 a body too long for a card continues in text messages.
 *
 * What does not fit in 5 messages is cut at a safe point and the last
 * message ends with MESSAGE_TRUNCATED_NOTICE; *truncated tells the caller,
 * which should log it.  Nothing is ever cut inside a character as a reader
 * sees it or inside a URL (see textsplit.h).
 *
 * No I/O, no global state.  message_build() returns a malloc'd compact JSON
 * string the caller frees, or NULL with why in err (English, for
 * developers): a missing title and body, text that is not UTF-8, a link
 * that is not a plain https URL, out of memory.
 */
#ifndef HL_MESSAGE_H
#define HL_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

/* LINE's limits, and ours for a card. */
#define MESSAGE_MAX_MESSAGES	 5
#define MESSAGE_TEXT_MAX_UNITS	 5000
#define MESSAGE_ALT_MAX_UNITS	 1500
#define MESSAGE_BUBBLE_MAX_BYTES (30 * 1024)
#define MESSAGE_URI_MAX_CHARS	 1000
/* Body text a card carries before the rest follows as text messages: a
 * bubble stays readable on a phone, and far under 30 KB. */
#define MESSAGE_CARD_BODY_MAX_UNITS  2000
#define MESSAGE_CARD_TITLE_MAX_UNITS 200
#define MESSAGE_CARD_LABEL_MAX_UNITS 40
/* A button label; longer ones are shortened with "…". */
#define MESSAGE_LABEL_MAX_UNITS 20

#define MESSAGE_TRUNCATED_NOTICE   "（続きは市のホームページをご覧ください）"
#define MESSAGE_DEFAULT_LINK_LABEL "詳しく見る"

struct message_alert {
	const char *title;	    /* may be NULL or empty */
	const char *category_key;   /* segment value key, e.g. "disaster"; NULL: "other" */
	const char *category_label; /* shown in the card header; NULL: the table's label */
	const char *body;	    /* may be NULL or empty when there is a title */
	const char *link_url;	    /* NULL or empty: no link */
	const char *link_label;	    /* NULL or empty: MESSAGE_DEFAULT_LINK_LABEL */
};

enum message_style {
	MESSAGE_TEXT,
	MESSAGE_CARD,
};

/* Flags for message_build(). */
/* A link that is refused (not https, malformed) is left out instead of
 * failing the build. */
#define MESSAGE_DROP_BAD_LINK 0x1u

/* The JSON array of message objects for a, or NULL with err set.
 * *truncated (may be NULL) is set when text was left out. */
char *message_build(const struct message_alert *a, enum message_style style, unsigned flags,
		    bool *truncated, char *err, size_t errlen);

/* The header colour ("#RRGGBB") and default label of a category key; an
 * unknown or NULL key gives those of "other". */
const char *message_category_colour(const char *key);
const char *message_category_label(const char *key);

/* Whether url is a link LINE opens safely: https, a host, printable ASCII
 * only, at most MESSAGE_URI_MAX_CHARS.  false with why in err. */
bool message_link_ok(const char *url, char *err, size_t errlen);

#endif
