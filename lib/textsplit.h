/*
 * textsplit — cutting a long UTF-8 text into LINE text messages.
 *
 * LINE limits a text message to 5000 characters counted in UTF-16 code units
 * (an emoji outside the BMP counts 2) and a request to 5 messages.  A text is
 * cut where a reader would least notice: after a paragraph break, else after
 * 。！？ (or ASCII ! ? before a space or a non-ASCII character), else at a
 * line end, else after 、，, or a space, else between any two characters;
 * never inside a UTF-8 sequence, a user-perceived character (a
 * base with variation selectors, combining marks, skin tones, emoji ZWJ
 * sequences, flags, keycaps, tag sequences) or a URL (http:// or https:// up
 * to white space or a closing bracket), which LINE would no longer open.  A
 * break point is preferred only when it keeps the message at least half
 * full, so that one early 。 does not turn a text into many tiny messages.
 * White space at the edges of each message is dropped.
 *
 * No I/O, no global state.  The parts are owned by the caller and freed with
 * textsplit_free().  Errors: -1 with a Japanese reason for staff (the
 * caller holds the delivery) when the text needs more than max_messages, a
 * URL or a single character does not fit in max_units, the input is not
 * valid UTF-8, or memory runs out.
 */
#ifndef HL_TEXTSPLIT_H
#define HL_TEXTSPLIT_H

#include <stddef.h>

/* LINE's limits for text messages. */
#define TEXTSPLIT_LINE_MAX_UNITS    5000
#define TEXTSPLIT_LINE_MAX_MESSAGES 5

/* Split text into at most max_messages parts of at most max_units UTF-16
 * code units each.  0 with *parts (an array of *nparts strings) set; a text
 * that is empty or only white space gives no parts.  -1 on failure, with
 * *parts NULL and *nparts 0. */
int textsplit(const char *text, size_t max_units, size_t max_messages, char ***parts,
	      size_t *nparts);

/* The same, with why it failed in err (Japanese, for staff; err may be NULL). */
int textsplit_err(const char *text, size_t max_units, size_t max_messages, char ***parts,
		  size_t *nparts, char *err, size_t errlen);

/* Flags for textsplit_prefix(). */
/* A URL longer than max_units is cut between two of its characters (never
 * inside one) instead of failing: the only case where a URL is cut. */
#define TEXTSPLIT_CUT_LONG_URLS 0x1u

/* Like textsplit_err(), but a text that needs more than max_messages is
 * not an error: the first max_messages parts are returned and *rest is the
 * byte offset in text where what was left out begins (strlen(text) when
 * everything fit; the rest starts at a cut point, its leading white space
 * skipped).  The whole text is decoded, so memory is O(strlen(text)). */
int textsplit_prefix(const char *text, size_t max_units, size_t max_messages, unsigned flags,
		     char ***parts, size_t *nparts, size_t *rest, char *err, size_t errlen);

/* Length of s in UTF-16 code units, as LINE counts; (size_t)-1 when s is
 * not valid UTF-8. */
size_t textsplit_utf16_units(const char *s);

/* Free what textsplit() returned; (NULL, 0) is a no-op. */
void textsplit_free(char **parts, size_t nparts);

#endif
