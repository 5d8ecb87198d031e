/*
 * msgcheck — message object validation; see msgcheck.h.
 *
 * Limits are LINE's documented ones (Messaging API reference, "Message
 * objects").  Messages are LINE's (Java bean validation) wording, so a
 * client that matches on them behaves as it will in production.
 */
#include "msgcheck.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "str.h"

#define TEXT_MAX	     5000
#define FLEX_ALT_MAX	     1500
#define TEMPLATE_ALT_MAX     400
#define URL_MAX		     2000
#define QUICK_REPLY_MAX	     13
#define SENDER_NAME_MAX	     20
#define LOCATION_FIELD_MAX   100
#define FLEX_CAROUSEL_MAX    12
#define TEMPLATE_COLUMNS_MAX 10
#define IMAGEMAP_ACTIONS_MAX 50
#define BUTTONS_ACTIONS_MAX  4
#define COLUMN_ACTIONS_MAX   3
/* LINE refuses a bubble over 30 KB and a carousel over 50 KB of JSON. */
#define FLEX_BUBBLE_BYTES_MAX	(30 * 1024)
#define FLEX_CAROUSEL_BYTES_MAX (50 * 1024)
/* Deepest flex contents walked: sizing a container serialises it, which
 * recurses once per level, so a value nested without bound (built by a
 * direct caller or a fuzzer; HTTP bodies stop at SIMHTTP_JSON_DEPTH_MAX)
 * could exhaust the stack.  A real bubble needs about ten levels. */
#define FLEX_DEPTH_MAX 64
#define FLEX_DEPTH_MSG "Must be nested at most 64 levels deep"

#define TYPES_MSG                                                                                  \
	"Must be one of the following values: [text, image, video, audio, location, sticker, "     \
	"template, imagemap, flex]"

void msgcheck_detail(json_t *details, const char *msg, const char *prop)
{
	json_array_append_new(details, json_pack("{s:s, s:s}", "message", msg, "property", prop));
}

size_t msgcheck_utf16_len(const char *utf8)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)utf8; *p != '\0'; p++) {
		if ((*p & 0xc0) == 0x80)
			continue;	   /* continuation byte */
		n += (*p >= 0xf0) ? 2 : 1; /* 4-byte sequences are surrogate pairs */
	}
	return n;
}

struct ctx {
	json_t *details;
	size_t errors;
};

static void err(struct ctx *c, const char *msg, const char *prop)
{
	msgcheck_detail(c->details, msg, prop);
	c->errors++;
}

static void subprop(char *out, size_t size, const char *base, const char *name)
{
	str_msg(out, size, "%s.%s", base, name);
}

/* A required string of at most max UTF-16 units (min 1). */
static const char *need_string(struct ctx *c, const json_t *o, const char *base, const char *name,
			       size_t max)
{
	char prop[160], msg[80];
	const json_t *v = json_object_get(o, name);

	subprop(prop, sizeof(prop), base, name);
	if (v == NULL || json_is_null(v)) {
		err(c, "May not be empty", prop);
		return NULL;
	}
	if (!json_is_string(v)) {
		err(c, "Must be a string", prop);
		return NULL;
	}
	if (json_string_length(v) == 0) {
		err(c, "May not be empty", prop);
		return NULL;
	}
	if (max > 0 && msgcheck_utf16_len(json_string_value(v)) > max) {
		str_msg(msg, sizeof(msg), "Length must be between 0 and %zu", max);
		err(c, msg, prop);
		return NULL;
	}
	return json_string_value(v);
}

static void need_url(struct ctx *c, const json_t *o, const char *base, const char *name)
{
	char prop[160];
	const char *u = need_string(c, o, base, name, URL_MAX);

	if (u == NULL)
		return;
	subprop(prop, sizeof(prop), base, name);
	/* LINE fetches media over HTTPS only. */
	if (strncmp(u, "https://", 8) != 0)
		err(c, "Must be a valid HTTPS URL", prop);
}

/* A required number; integer when the spec says integer (audio duration). */
static void need_number(struct ctx *c, const json_t *o, const char *base, const char *name,
			bool integer)
{
	char prop[160];
	const json_t *v = json_object_get(o, name);

	subprop(prop, sizeof(prop), base, name);
	/* null is "not given", as for strings (was "Must be a number"). */
	if (v == NULL || json_is_null(v))
		err(c, "May not be empty", prop);
	else if (integer && !json_is_integer(v))
		err(c, "Must be an integer", prop);
	else if (!json_is_number(v))
		err(c, "Must be a number", prop);
}

/* An optional https URL of at most URL_MAX characters. */
static void opt_url(struct ctx *c, const json_t *o, const char *base, const char *name)
{
	if (json_object_get(o, name) != NULL)
		need_url(c, o, base, name);
}

/* A required object, such as an action (whose fields are not checked:
 * LINE's action types are many and hotline sends few). */
static void need_object(struct ctx *c, const json_t *o, const char *base, const char *name)
{
	char prop[160];
	const json_t *v = json_object_get(o, name);

	subprop(prop, sizeof(prop), base, name);
	if (v == NULL || json_is_null(v))
		err(c, "May not be empty", prop);
	else if (!json_is_object(v))
		err(c, "Must be an object", prop);
}

/* False when v nests deeper than max levels; the walk stops there. */
static bool depth_within(const json_t *v, int max)
{
	size_t i;
	const char *k;
	const json_t *e;

	if (max <= 0)
		return false;
	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
		{
			if (!depth_within(e, max - 1))
				return false;
		}
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)(uintptr_t)v, k, e)
		{
			if (!depth_within(e, max - 1))
				return false;
		}
	}
	return true;
}

static const json_t *need_array(struct ctx *c, const json_t *o, const char *base, const char *name,
				size_t min, size_t max)
{
	char prop[160], msg[80];
	const json_t *v = json_object_get(o, name);

	subprop(prop, sizeof(prop), base, name);
	if (v == NULL || !json_is_array(v)) {
		err(c, v == NULL ? "May not be empty" : "Must be an array", prop);
		return NULL;
	}
	if (json_array_size(v) < min || json_array_size(v) > max) {
		str_msg(msg, sizeof(msg), "Size must be between %zu and %zu", min, max);
		err(c, msg, prop);
		return NULL;
	}
	return v;
}

static void check_flex(struct ctx *c, const json_t *m, const char *base)
{
	char prop[160], sub[192];
	const json_t *contents = json_object_get(m, "contents");
	const char *type;
	size_t bytes;

	need_string(c, m, base, "altText", FLEX_ALT_MAX);
	subprop(prop, sizeof(prop), base, "contents");
	if (!json_is_object(contents)) {
		err(c,
		    contents == NULL || json_is_null(contents) ? "May not be empty"
							       : "Must be an object",
		    prop);
		return;
	}
	if (!depth_within(contents, FLEX_DEPTH_MAX)) {
		err(c, FLEX_DEPTH_MSG, prop);
		return;
	}
	type = json_string_value(json_object_get(contents, "type"));
	bytes = json_dumpb(contents, NULL, 0, JSON_COMPACT);
	if (type != NULL && strcmp(type, "bubble") == 0) {
		if (bytes > FLEX_BUBBLE_BYTES_MAX)
			err(c, "Size of a bubble must be at most 30 KB", prop);
	} else if (type != NULL && strcmp(type, "carousel") == 0) {
		const json_t *bubbles =
			need_array(c, contents, prop, "contents", 1, FLEX_CAROUSEL_MAX);
		const json_t *bubble;
		size_t i;

		/* A carousel holds bubbles only (FlexCarousel.contents). */
		json_array_foreach(bubbles, i, bubble)
		{
			const char *bt = json_string_value(json_object_get(bubble, "type"));

			str_msg(sub, sizeof(sub), "%s.contents[%zu].type", prop, i);
			if (bt == NULL || strcmp(bt, "bubble") != 0)
				err(c, "Must be one of the following values: [bubble]", sub);
		}
		if (bytes > FLEX_CAROUSEL_BYTES_MAX)
			err(c, "Size of a carousel must be at most 50 KB", prop);
	} else {
		/* A separate buffer: formatting prop into itself is undefined. */
		subprop(sub, sizeof(sub), prop, "type");
		err(c, "Must be one of the following values: [bubble, carousel]", sub);
	}
}

/* Carousel columns: text (120, or 60 with an image or a title) and 1-3
 * actions; image carousel columns: an https image and one action. */
static void check_columns(struct ctx *c, const json_t *cols, const char *prop, bool image)
{
	char col[192];
	const json_t *col_v;
	size_t i;

	json_array_foreach(cols, i, col_v)
	{
		str_msg(col, sizeof(col), "%s.columns[%zu]", prop, i);
		if (!json_is_object(col_v)) {
			err(c, "Must be an object", col);
			continue;
		}
		if (image) {
			need_url(c, col_v, col, "imageUrl");
			need_object(c, col_v, col, "action");
		} else {
			bool small = json_object_get(col_v, "thumbnailImageUrl") != NULL ||
				     json_object_get(col_v, "title") != NULL;

			opt_url(c, col_v, col, "thumbnailImageUrl");
			need_string(c, col_v, col, "text", small ? 60 : 120);
			need_array(c, col_v, col, "actions", 1, COLUMN_ACTIONS_MAX);
		}
	}
}

static void check_template(struct ctx *c, const json_t *m, const char *base)
{
	char prop[160], sub[192];
	const json_t *t = json_object_get(m, "template");
	const char *type;

	need_string(c, m, base, "altText", TEMPLATE_ALT_MAX);
	subprop(prop, sizeof(prop), base, "template");
	if (!json_is_object(t)) {
		err(c, t == NULL || json_is_null(t) ? "May not be empty" : "Must be an object",
		    prop);
		return;
	}
	type = json_string_value(json_object_get(t, "type"));
	subprop(sub, sizeof(sub), prop, "type");
	if (type == NULL) {
		err(c, "May not be empty", sub);
	} else if (strcmp(type, "buttons") == 0) {
		/* 160 characters, or 60 with an image or a title. */
		bool small = json_object_get(t, "thumbnailImageUrl") != NULL ||
			     json_object_get(t, "title") != NULL;

		opt_url(c, t, prop, "thumbnailImageUrl");
		need_string(c, t, prop, "text", small ? 60 : 160);
		need_array(c, t, prop, "actions", 1, BUTTONS_ACTIONS_MAX);
	} else if (strcmp(type, "confirm") == 0) {
		need_string(c, t, prop, "text", 240);
		need_array(c, t, prop, "actions", 2, 2);
	} else if (strcmp(type, "carousel") == 0 || strcmp(type, "image_carousel") == 0) {
		check_columns(c, need_array(c, t, prop, "columns", 1, TEMPLATE_COLUMNS_MAX), prop,
			      strcmp(type, "image_carousel") == 0);
	} else {
		err(c,
		    "Must be one of the following values: [buttons, confirm, carousel, "
		    "image_carousel]",
		    sub);
	}
}

/* Imagemap actions (ImagemapAction): a type, an area of four integers, and
 * the type's own field. */
static void check_imagemap_actions(struct ctx *c, const json_t *actions, const char *base)
{
	static const char *const area_fields[] = {"x", "y", "width", "height"};
	char act[192], sub[224];
	const json_t *a;
	size_t i;

	json_array_foreach(actions, i, a)
	{
		const json_t *area;
		const char *type;

		str_msg(act, sizeof(act), "%s.actions[%zu]", base, i);
		if (!json_is_object(a)) {
			err(c, "Must be an object", act);
			continue;
		}
		type = json_string_value(json_object_get(a, "type"));
		if (type != NULL && strcmp(type, "uri") == 0) {
			need_string(c, a, act, "linkUri", 1000);
		} else if (type != NULL && strcmp(type, "message") == 0) {
			need_string(c, a, act, "text", 400);
		} else if (type != NULL && strcmp(type, "clipboard") == 0) {
			need_string(c, a, act, "clipboardText", 1000);
		} else {
			subprop(sub, sizeof(sub), act, "type");
			err(c, "Must be one of the following values: [uri, message, clipboard]",
			    sub);
		}
		subprop(sub, sizeof(sub), act, "area");
		area = json_object_get(a, "area");
		if (!json_is_object(area)) {
			err(c,
			    area == NULL || json_is_null(area) ? "May not be empty"
							       : "Must be an object",
			    sub);
			continue;
		}
		for (size_t f = 0; f < sizeof(area_fields) / sizeof(area_fields[0]); f++) {
			const json_t *v = json_object_get(area, area_fields[f]);
			char fp[240];

			subprop(fp, sizeof(fp), sub, area_fields[f]);
			if (v == NULL || json_is_null(v))
				err(c, "May not be empty", fp);
			else if (!json_is_integer(v))
				err(c, "Must be an integer", fp);
		}
	}
}

static void check_imagemap(struct ctx *c, const json_t *m, const char *base)
{
	char prop[160], sub[192];
	const json_t *bs = json_object_get(m, "baseSize");

	need_url(c, m, base, "baseUrl");
	need_string(c, m, base, "altText", FLEX_ALT_MAX);
	subprop(prop, sizeof(prop), base, "baseSize");
	if (!json_is_object(bs)) {
		err(c, bs == NULL || json_is_null(bs) ? "May not be empty" : "Must be an object",
		    prop);
	} else {
		/* LINE renders imagemaps on a 1040-pixel-wide base. */
		if (!json_is_integer(json_object_get(bs, "width")) ||
		    json_integer_value(json_object_get(bs, "width")) != 1040) {
			subprop(sub, sizeof(sub), prop, "width");
			err(c, "Must be 1040", sub);
		}
		if (!json_is_integer(json_object_get(bs, "height")) ||
		    json_integer_value(json_object_get(bs, "height")) <= 0) {
			subprop(sub, sizeof(sub), prop, "height");
			err(c, "Must be a positive integer", sub);
		}
	}
	check_imagemap_actions(c, need_array(c, m, base, "actions", 0, IMAGEMAP_ACTIONS_MAX), base);
}

static void check_common(struct ctx *c, const json_t *m, const char *base)
{
	char prop[160], item[192];
	const json_t *qr = json_object_get(m, "quickReply");
	const json_t *sender = json_object_get(m, "sender");

	if (qr != NULL) {
		subprop(prop, sizeof(prop), base, "quickReply");
		if (!json_is_object(qr)) {
			err(c, "Must be an object", prop);
		} else {
			const json_t *items = need_array(c, qr, prop, "items", 1, QUICK_REPLY_MAX);
			const json_t *it;
			size_t i;

			/* Each button is {"type":"action","action":{...},"imageUrl"?}. */
			json_array_foreach(items, i, it)
			{
				str_msg(item, sizeof(item), "%s.items[%zu]", prop, i);
				if (!json_is_object(it)) {
					err(c, "Must be an object", item);
					continue;
				}
				need_object(c, it, item, "action");
				opt_url(c, it, item, "imageUrl");
			}
		}
	}
	if (sender != NULL) {
		subprop(prop, sizeof(prop), base, "sender");
		if (!json_is_object(sender)) {
			err(c, "Must be an object", prop);
		} else {
			const json_t *name = json_object_get(sender, "name");

			if (name != NULL)
				need_string(c, sender, prop, "name", SENDER_NAME_MAX);
			opt_url(c, sender, prop, "iconUrl");
		}
	}
}

static void check_one(struct ctx *c, const json_t *m, const char *base)
{
	char prop[160];
	const json_t *tv;
	const char *type;

	if (!json_is_object(m)) {
		err(c, "Must be an object", base);
		return;
	}
	subprop(prop, sizeof(prop), base, "type");
	tv = json_object_get(m, "type");
	if (tv == NULL || json_is_null(tv)) {
		err(c, "May not be empty", prop);
		return;
	}
	/* Say why: a number is not a missing type (both were "May not be empty"). */
	if (!json_is_string(tv)) {
		err(c, "Must be a string", prop);
		return;
	}
	type = json_string_value(tv);
	if (strcmp(type, "text") == 0) {
		need_string(c, m, base, "text", TEXT_MAX);
	} else if (strcmp(type, "sticker") == 0) {
		need_string(c, m, base, "packageId", 0);
		need_string(c, m, base, "stickerId", 0);
	} else if (strcmp(type, "image") == 0 || strcmp(type, "video") == 0) {
		need_url(c, m, base, "originalContentUrl");
		need_url(c, m, base, "previewImageUrl");
	} else if (strcmp(type, "audio") == 0) {
		need_url(c, m, base, "originalContentUrl");
		/* Milliseconds, an integer in the spec (AudioMessage.duration). */
		need_number(c, m, base, "duration", true);
	} else if (strcmp(type, "location") == 0) {
		need_string(c, m, base, "title", LOCATION_FIELD_MAX);
		need_string(c, m, base, "address", LOCATION_FIELD_MAX);
		need_number(c, m, base, "latitude", false);
		need_number(c, m, base, "longitude", false);
	} else if (strcmp(type, "flex") == 0) {
		check_flex(c, m, base);
	} else if (strcmp(type, "template") == 0) {
		check_template(c, m, base);
	} else if (strcmp(type, "imagemap") == 0) {
		check_imagemap(c, m, base);
	} else {
		err(c, TYPES_MSG, prop);
		return;
	}
	check_common(c, m, base);
}

size_t msgcheck_messages(const json_t *messages, size_t max, const char *prop, json_t *details)
{
	struct ctx c = {details, 0};
	char msg[80], base[64];
	size_t i;
	const json_t *m;

	if (messages == NULL || json_is_null(messages)) {
		err(&c, "May not be empty", prop);
		return c.errors;
	}
	if (!json_is_array(messages)) {
		err(&c, "Must be an array", prop);
		return c.errors;
	}
	if (json_array_size(messages) < 1 || json_array_size(messages) > max) {
		str_msg(msg, sizeof(msg), "Size must be between 1 and %zu", max);
		err(&c, msg, prop);
		return c.errors;
	}
	json_array_foreach(messages, i, m)
	{
		str_msg(base, sizeof(base), "%s[%zu]", prop, i);
		check_one(&c, m, base);
	}
	return c.errors;
}
