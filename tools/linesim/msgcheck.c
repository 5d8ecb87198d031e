/*
 * msgcheck — message object validation; see msgcheck.h.
 *
 * Limits are LINE's documented ones (Messaging API reference, "Message
 * objects").  Messages are LINE's (Java bean validation) wording, so a
 * client that matches on them behaves as it will in production.
 */
#include "msgcheck.h"

#include <stdbool.h>
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
/* LINE refuses a bubble over 30 KB and a carousel over 50 KB of JSON. */
#define FLEX_BUBBLE_BYTES_MAX	(30 * 1024)
#define FLEX_CAROUSEL_BYTES_MAX (50 * 1024)

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

static void need_number(struct ctx *c, const json_t *o, const char *base, const char *name)
{
	char prop[160];
	const json_t *v = json_object_get(o, name);

	subprop(prop, sizeof(prop), base, name);
	if (v == NULL)
		err(c, "May not be empty", prop);
	else if (!json_is_number(v))
		err(c, "Must be a number", prop);
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
	char prop[160];
	const json_t *contents = json_object_get(m, "contents");
	const char *type;
	size_t bytes;

	need_string(c, m, base, "altText", FLEX_ALT_MAX);
	subprop(prop, sizeof(prop), base, "contents");
	if (!json_is_object(contents)) {
		err(c, "May not be empty", prop);
		return;
	}
	type = json_string_value(json_object_get(contents, "type"));
	bytes = json_dumpb(contents, NULL, 0, JSON_COMPACT);
	if (type != NULL && strcmp(type, "bubble") == 0) {
		if (bytes > FLEX_BUBBLE_BYTES_MAX)
			err(c, "Size of a bubble must be at most 30 KB", prop);
	} else if (type != NULL && strcmp(type, "carousel") == 0) {
		need_array(c, contents, prop, "contents", 1, FLEX_CAROUSEL_MAX);
		if (bytes > FLEX_CAROUSEL_BYTES_MAX)
			err(c, "Size of a carousel must be at most 50 KB", prop);
	} else {
		subprop(prop, sizeof(prop), prop, "type");
		err(c, "Must be one of the following values: [bubble, carousel]", prop);
	}
}

static void check_template(struct ctx *c, const json_t *m, const char *base)
{
	char prop[160];
	const json_t *t = json_object_get(m, "template");
	const char *type;

	need_string(c, m, base, "altText", TEMPLATE_ALT_MAX);
	subprop(prop, sizeof(prop), base, "template");
	if (!json_is_object(t)) {
		err(c, "May not be empty", prop);
		return;
	}
	type = json_string_value(json_object_get(t, "type"));
	if (type == NULL) {
		subprop(prop, sizeof(prop), prop, "type");
		err(c, "May not be empty", prop);
	} else if (strcmp(type, "buttons") == 0) {
		/* 160 characters, or 60 with an image or a title. */
		bool small = json_object_get(t, "thumbnailImageUrl") != NULL ||
			     json_object_get(t, "title") != NULL;

		need_string(c, t, prop, "text", small ? 60 : 160);
		need_array(c, t, prop, "actions", 1, 4);
	} else if (strcmp(type, "confirm") == 0) {
		need_string(c, t, prop, "text", 240);
		need_array(c, t, prop, "actions", 2, 2);
	} else if (strcmp(type, "carousel") == 0 || strcmp(type, "image_carousel") == 0) {
		need_array(c, t, prop, "columns", 1, TEMPLATE_COLUMNS_MAX);
	} else {
		subprop(prop, sizeof(prop), prop, "type");
		err(c,
		    "Must be one of the following values: [buttons, confirm, carousel, "
		    "image_carousel]",
		    prop);
	}
}

static void check_imagemap(struct ctx *c, const json_t *m, const char *base)
{
	char prop[160];
	const json_t *bs = json_object_get(m, "baseSize");

	need_url(c, m, base, "baseUrl");
	need_string(c, m, base, "altText", FLEX_ALT_MAX);
	subprop(prop, sizeof(prop), base, "baseSize");
	if (!json_is_object(bs)) {
		err(c, "May not be empty", prop);
	} else {
		/* LINE renders imagemaps on a 1040-pixel-wide base. */
		if (json_integer_value(json_object_get(bs, "width")) != 1040) {
			subprop(prop, sizeof(prop), prop, "width");
			err(c, "Must be 1040", prop);
		}
		if (!json_is_integer(json_object_get(bs, "height")) ||
		    json_integer_value(json_object_get(bs, "height")) <= 0) {
			subprop(prop, sizeof(prop), base, "baseSize.height");
			err(c, "Must be a positive integer", prop);
		}
	}
	need_array(c, m, base, "actions", 0, IMAGEMAP_ACTIONS_MAX);
}

static void check_common(struct ctx *c, const json_t *m, const char *base)
{
	char prop[160];
	const json_t *qr = json_object_get(m, "quickReply");
	const json_t *sender = json_object_get(m, "sender");

	if (qr != NULL) {
		subprop(prop, sizeof(prop), base, "quickReply");
		if (!json_is_object(qr))
			err(c, "Must be an object", prop);
		else
			need_array(c, qr, prop, "items", 1, QUICK_REPLY_MAX);
	}
	if (sender != NULL) {
		subprop(prop, sizeof(prop), base, "sender");
		if (!json_is_object(sender)) {
			err(c, "Must be an object", prop);
		} else {
			const json_t *name = json_object_get(sender, "name");

			if (name != NULL)
				need_string(c, sender, prop, "name", SENDER_NAME_MAX);
			if (json_object_get(sender, "iconUrl") != NULL)
				need_url(c, sender, prop, "iconUrl");
		}
	}
}

static void check_one(struct ctx *c, const json_t *m, const char *base)
{
	char prop[160];
	const char *type;

	if (!json_is_object(m)) {
		err(c, "Must be an object", base);
		return;
	}
	subprop(prop, sizeof(prop), base, "type");
	type = json_string_value(json_object_get(m, "type"));
	if (type == NULL) {
		err(c, "May not be empty", prop);
		return;
	}
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
		need_number(c, m, base, "duration");
	} else if (strcmp(type, "location") == 0) {
		need_string(c, m, base, "title", LOCATION_FIELD_MAX);
		need_string(c, m, base, "address", LOCATION_FIELD_MAX);
		need_number(c, m, base, "latitude");
		need_number(c, m, base, "longitude");
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
