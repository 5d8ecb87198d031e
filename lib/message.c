/*
 * message — the LINE message objects of one delivery; see message.h and
 * docs/messages.md.
 *
 * Every cut goes through textsplit_prefix(), so the text style, the card's
 * body, its title, its altText and its button label are all cut at the same
 * safe points: never inside a character as a reader sees it, never inside a
 * URL unless the URL alone is longer than the room it must fit in.
 */
#include "message.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"
#include "textsplit.h"

#define ELLIPSIS       "…"
#define ELLIPSIS_UNITS 1
#define WHITE	       "#FFFFFF"

/* The city's categories, keyed by their segment value keys.  Each colour
 * carries white text (the header label and the primary button) at a WCAG
 * AA contrast of at least 4.5:1; tests/unit/test_message.c checks it. */
static const struct category {
	const char *key, *label, *colour;
} categories[] = {
	{"crime_prevention", "防犯", "#283593"},   /* indigo */
	{"traffic_safety", "交通安全", "#00695C"}, /* teal */
	{"disaster", "防災", "#C62828"},	   /* red */
	{"fire", "火災", "#BF360C"},		   /* deep orange */
	{"event", "イベント", "#6A1B9A"},	   /* purple */
	{"course", "講座開催", "#1565C0"},	   /* blue */
	{"childcare", "子育て支援", "#AD1457"},	   /* pink */
	{"health", "健康づくり", "#2E7D32"},	   /* green */
	{"koho_takasaki", "広報高崎", "#5D4037"},  /* brown */
	{"other", "その他", "#455A64"},		   /* blue grey: also the fallback */
};
#define N_CATEGORIES (sizeof(categories) / sizeof(categories[0]))

static const struct category *category_of(const char *key)
{
	size_t i;

	if (key != NULL)
		for (i = 0; i < N_CATEGORIES; i++)
			if (strcmp(categories[i].key, key) == 0)
				return &categories[i];
	return &categories[N_CATEGORIES - 1];
}

const char *message_category_colour(const char *key)
{
	return category_of(key)->colour;
}

const char *message_category_label(const char *key)
{
	return category_of(key)->label;
}

static bool is_empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* Nothing but ASCII white space (which every split drops). */
static bool is_blank(const char *s)
{
	if (s == NULL)
		return true;
	for (; *s != '\0'; s++)
		if (*s != ' ' && !(*s >= '\t' && *s <= '\r'))
			return false;
	return true;
}

bool message_link_ok(const char *url, char *err, size_t errlen)
{
	static const char bad_chars[] = "\"<>\\^`{|}";
	const char *host, *p;
	size_t len, i;
	bool port = false;

	if (url == NULL || url[0] == '\0') {
		str_msg(err, errlen, "link URL is empty");
		return false;
	}
	len = strlen(url);
	if (len > MESSAGE_URI_MAX_CHARS) {
		str_msg(err, errlen, "link URL is %zu characters long, LINE allows at most %d", len,
			MESSAGE_URI_MAX_CHARS);
		return false;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c <= 0x20 || c >= 0x7f || strchr(bad_chars, c) != NULL) {
			str_msg(err, errlen,
				"link URL has a space, control, non-ASCII or unsafe character at "
				"byte %zu (percent-encode it)",
				i + 1);
			return false;
		}
	}
	for (i = 0; i < 8; i++)
		if ((url[i] | 0x20) != "https://"[i])
			break;
	if (i < 8) {
		if (len >= 7 && (url[0] | 0x20) == 'h' && (url[1] | 0x20) == 't' &&
		    (url[2] | 0x20) == 't' && (url[3] | 0x20) == 'p' &&
		    strncmp(url + 4, "://", 3) == 0)
			str_msg(err, errlen, "link URL must use https, not http");
		else
			str_msg(err, errlen,
				"link URL must start with https:// (got another scheme "
				"or no scheme)");
		return false;
	}
	host = url + 8;
	/* user@host shows the reader one site and opens another. */
	for (p = host; *p != '\0' && *p != '/' && *p != '?' && *p != '#'; p++) {
		if (*p == '@') {
			str_msg(err, errlen,
				"link URL has user information (...@) before its host");
			return false;
		}
	}
	for (p = host; *p != '\0' && *p != '/' && *p != '?' && *p != '#'; p++) {
		if (*p == ':') {
			port = true;
			continue;
		}
		if (port ? !(*p >= '0' && *p <= '9')
			 : !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '.' || *p == '-')) {
			str_msg(err, errlen, "link URL host is malformed at byte %zu",
				(size_t)(p - url) + 1);
			return false;
		}
	}
	if (p == host || host[0] == '.' || host[0] == '-' || host[0] == ':' ||
	    (port && p[-1] == ':')) {
		str_msg(err, errlen, "link URL has no valid host");
		return false;
	}
	return true;
}

/* text within max_units (at least 2), cut at a safe point with "…" when it
 * is longer; malloc'd, NULL when out of memory or text is not UTF-8. */
static char *shorten(const char *text, size_t max_units)
{
	char **parts = NULL, *out;
	size_t n = 0, rest = 0, u = textsplit_utf16_units(text);

	if (u == (size_t)-1)
		return NULL;
	if (u <= max_units)
		return strdup(text);
	if (textsplit_prefix(text, max_units - ELLIPSIS_UNITS, 1, TEXTSPLIT_CUT_LONG_URLS, &parts,
			     &n, &rest, NULL, 0) < 0)
		return NULL;
	out = str_dup_printf("%s" ELLIPSIS, n > 0 ? parts[0] : "");
	textsplit_free(parts, n);
	return out;
}

/* Append a text message; false when out of memory. */
static bool append_text(json_t *arr, const char *text)
{
	json_t *m = json_pack("{s:s, s:s}", "type", "text", "text", text);

	return m != NULL && json_array_append_new(arr, m) == 0;
}

/* Append text as at most max_msgs text messages.  When it does not fit
 * (or force_tail), the last message is cut shorter and ends with "\n" tail,
 * and *truncated is set.  -1 with err on failure. */
static int append_texts(json_t *arr, const char *text, size_t max_msgs, const char *tail,
			bool force_tail, bool *truncated, char *err, size_t errlen)
{
	char **parts = NULL, **last = NULL, *msg = NULL;
	size_t n = 0, nlast = 0, rest = 0, i, len = strlen(text), tail_units;
	int rc = -1;

	if (textsplit_prefix(text, MESSAGE_TEXT_MAX_UNITS, max_msgs, TEXTSPLIT_CUT_LONG_URLS,
			     &parts, &n, &rest, err, errlen) < 0)
		return -1;
	if (rest < len || force_tail) {
		/* Too long: one message fewer, then the last cut to leave room
		 * for the tail. */
		*truncated = true;
		textsplit_free(parts, n);
		parts = NULL;
		n = 0;
		tail_units = textsplit_utf16_units(tail) + 1;
		if (max_msgs == 0 || tail_units >= MESSAGE_TEXT_MAX_UNITS) {
			str_msg(err, errlen, "no room for the truncation notice");
			return -1;
		}
		if (textsplit_prefix(text, MESSAGE_TEXT_MAX_UNITS, max_msgs - 1,
				     TEXTSPLIT_CUT_LONG_URLS, &parts, &n, &rest, err, errlen) < 0)
			return -1;
		if (textsplit_prefix(text + rest, MESSAGE_TEXT_MAX_UNITS - tail_units, 1,
				     TEXTSPLIT_CUT_LONG_URLS, &last, &nlast, &rest, err,
				     errlen) < 0)
			goto fail;
		msg = nlast > 0 ? str_dup_printf("%s\n%s", last[0], tail) : strdup(tail);
		if (msg == NULL)
			goto nomem;
	}
	for (i = 0; i < n; i++)
		if (!append_text(arr, parts[i]))
			goto nomem;
	if (msg != NULL && !append_text(arr, msg))
		goto nomem;
	rc = 0;
	goto done;
nomem:
	str_msg(err, errlen, "out of memory");
fail:
done:
	free(msg);
	textsplit_free(last, nlast);
	textsplit_free(parts, n);
	return rc;
}

/* a sep b, or whichever of a and b is not blank. */
static char *join(const char *a, const char *sep, const char *b)
{
	if (is_blank(a))
		return strdup(is_blank(b) ? "" : b);
	if (is_blank(b))
		return strdup(a);
	return str_dup_printf("%s%s%s", a, sep, b);
}

static char *build_text(const struct message_alert *a, const char *link_label, bool with_link,
			bool *truncated, char *err, size_t errlen)
{
	json_t *arr = json_array();
	char *main_text = NULL, *link = NULL, *full = NULL, *tail = NULL, *out = NULL;
	char **parts = NULL;
	size_t n = 0, rest = 0;

	main_text = join(a->title, "\n", a->body);
	link = with_link ? str_dup_printf("%s\n%s", link_label, a->link_url) : strdup("");
	full = join(main_text, "\n\n", link);
	tail = join(MESSAGE_TRUNCATED_NOTICE, "\n", link);
	if (arr == NULL || main_text == NULL || link == NULL || full == NULL || tail == NULL) {
		str_msg(err, errlen, "out of memory");
		goto fail;
	}
	/* The link goes last; when the text is too long it follows the notice
	 * instead of being lost with the end of the body. */
	if (textsplit_prefix(full, MESSAGE_TEXT_MAX_UNITS, MESSAGE_MAX_MESSAGES,
			     TEXTSPLIT_CUT_LONG_URLS, &parts, &n, &rest, err, errlen) < 0)
		goto fail;
	if (rest == strlen(full)) {
		if (append_texts(arr, full, MESSAGE_MAX_MESSAGES, tail, false, truncated, err,
				 errlen) < 0)
			goto fail;
	} else if (append_texts(arr, main_text, MESSAGE_MAX_MESSAGES, tail, true, truncated, err,
				errlen) < 0) {
		goto fail;
	}
	out = json_dumps(arr, JSON_COMPACT);
	if (out == NULL)
		str_msg(err, errlen, "out of memory");
fail:
	textsplit_free(parts, n);
	free(tail);
	free(full);
	free(link);
	free(main_text);
	json_decref(arr);
	return out;
}

static json_t *flex_text(const char *text, const char *weight, const char *size, const char *colour)
{
	json_t *t = json_pack("{s:s, s:s, s:b, s:s}", "type", "text", "text", text, "wrap", 1,
			      "size", size);

	if (t == NULL)
		return NULL;
	if ((weight != NULL && json_object_set_new(t, "weight", json_string(weight)) < 0) ||
	    (colour != NULL && json_object_set_new(t, "color", json_string(colour)) < 0)) {
		json_decref(t);
		return NULL;
	}
	return t;
}

static char *build_card(const struct message_alert *a, const char *link_label, bool with_link,
			bool *truncated, char *err, size_t errlen)
{
	const struct category *cat = category_of(a->category_key);
	const char *label = is_blank(a->category_label) ? cat->label : a->category_label;
	const char *body = is_blank(a->body) ? "" : a->body;
	json_t *arr = json_array(), *bubble = NULL, *contents, *msg;
	char *title = NULL, *alt_src = NULL, *alt = NULL, *card_body = NULL, *button = NULL;
	char *header = NULL;
	char *out = NULL, **parts = NULL;
	size_t n = 0, rest = strlen(body);

	if (arr == NULL)
		goto nomem;
	/* The body: all of it, or its start with "…" and the rest as text. */
	if (textsplit_utf16_units(body) > MESSAGE_CARD_BODY_MAX_UNITS) {
		if (textsplit_prefix(body, MESSAGE_CARD_BODY_MAX_UNITS - ELLIPSIS_UNITS, 1,
				     TEXTSPLIT_CUT_LONG_URLS, &parts, &n, &rest, err, errlen) < 0)
			goto fail;
		card_body = str_dup_printf("%s" ELLIPSIS, n > 0 ? parts[0] : "");
	} else {
		card_body = strdup(body);
	}
	title = is_blank(a->title) ? strdup("") : shorten(a->title, MESSAGE_CARD_TITLE_MAX_UNITS);
	alt_src = join(a->title, "\n", body);
	alt = alt_src != NULL ? shorten(alt_src, MESSAGE_ALT_MAX_UNITS) : NULL;
	button = with_link ? shorten(link_label, MESSAGE_LABEL_MAX_UNITS) : strdup("");
	header = shorten(label, MESSAGE_CARD_LABEL_MAX_UNITS);
	if (card_body == NULL || title == NULL || alt == NULL || button == NULL || header == NULL)
		goto nomem;

	contents = json_array();
	if (contents == NULL)
		goto nomem;
	if (title[0] != '\0')
		json_array_append_new(contents, flex_text(title, "bold", "lg", NULL));
	if (card_body[0] != '\0')
		json_array_append_new(contents, flex_text(card_body, NULL, "md", NULL));
	bubble = json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:[o]}, s:{s:s, s:s, s:s, s:o}}", "type",
			   "bubble", "header", "type", "box", "layout", "vertical",
			   "backgroundColor", cat->colour, "paddingAll", "12px", "contents",
			   flex_text(header, "bold", "sm", WHITE), "body", "type", "box", "layout",
			   "vertical", "spacing", "md", "contents", contents);
	if (bubble == NULL || json_array_size(contents) == 0)
		goto nomem;
	if (with_link) {
		json_t *footer =
			json_pack("{s:s, s:s, s:[{s:s, s:s, s:s, s:{s:s, s:s, s:s}}]}", "type",
				  "box", "layout", "vertical", "contents", "type", "button",
				  "style", "primary", "color", cat->colour, "action", "type", "uri",
				  "label", button, "uri", a->link_url);

		if (footer == NULL || json_object_set_new(bubble, "footer", footer) < 0)
			goto nomem;
	}
	if (json_dumpb(bubble, NULL, 0, JSON_COMPACT) > MESSAGE_BUBBLE_MAX_BYTES) {
		str_msg(err, errlen, "the card is over LINE's %d bytes for a bubble",
			MESSAGE_BUBBLE_MAX_BYTES);
		goto fail;
	}
	msg = json_pack("{s:s, s:s, s:O}", "type", "flex", "altText", alt, "contents", bubble);
	if (msg == NULL || json_array_append_new(arr, msg) < 0)
		goto nomem;
	if (body[rest] != '\0' &&
	    append_texts(arr, body + rest, MESSAGE_MAX_MESSAGES - 1, MESSAGE_TRUNCATED_NOTICE,
			 false, truncated, err, errlen) < 0)
		goto fail;
	out = json_dumps(arr, JSON_COMPACT);
	if (out == NULL)
		goto nomem;
	goto done;
nomem:
	str_msg(err, errlen, "out of memory");
fail:
done:
	textsplit_free(parts, n);
	free(header);
	free(button);
	free(alt);
	free(alt_src);
	free(title);
	free(card_body);
	json_decref(bubble);
	json_decref(arr);
	return out;
}

char *message_build(const struct message_alert *a, enum message_style style, unsigned flags,
		    bool *truncated, char *err, size_t errlen)
{
	static const char *const names[] = {"title", "category label", "body", "link label"};
	const char *fields[4];
	const char *link_label;
	bool with_link = false, cut = false;
	char why[200], dummy[1];
	char *out;
	size_t i;

	if (err == NULL) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (truncated != NULL)
		*truncated = false;
	if (a == NULL || (is_blank(a->title) && is_blank(a->body))) {
		str_msg(err, errlen, "the alert has neither a title nor a body");
		return NULL;
	}
	fields[0] = a->title;
	fields[1] = a->category_label;
	fields[2] = a->body;
	fields[3] = a->link_label;
	for (i = 0; i < 4; i++) {
		if (fields[i] != NULL && textsplit_utf16_units(fields[i]) == (size_t)-1) {
			str_msg(err, errlen, "the %s is not valid UTF-8", names[i]);
			return NULL;
		}
	}
	if (!is_empty(a->link_url)) {
		if (message_link_ok(a->link_url, why, sizeof(why))) {
			with_link = true;
		} else if (!(flags & MESSAGE_DROP_BAD_LINK)) {
			str_msg(err, errlen, "%s", why);
			return NULL;
		}
	}
	link_label = is_blank(a->link_label) ? MESSAGE_DEFAULT_LINK_LABEL : a->link_label;
	if (style == MESSAGE_CARD)
		out = build_card(a, link_label, with_link, &cut, err, errlen);
	else
		out = build_text(a, link_label, with_link, &cut, err, errlen);
	if (out != NULL && truncated != NULL)
		*truncated = cut;
	return out;
}
