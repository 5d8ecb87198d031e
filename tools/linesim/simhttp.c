/*
 * simhttp — JSON helpers for linesim's handlers; see simhttp.h.
 */
#include "simhttp.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "str.h"

#define JSON_TYPE "application/json"

void reply_json(struct httpd_reply *reply, int status, json_t *v)
{
	char *s = v != NULL ? json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;

	json_decref(v);
	if (s == NULL) {
		httpd_reply_static(reply, 500, JSON_TYPE, "{\"message\":\"out of memory\"}");
		return;
	}
	httpd_reply_owned(reply, status, JSON_TYPE, s, strlen(s));
}

void reply_line_error(struct httpd_reply *reply, int status, const char *message, json_t *details)
{
	json_t *o = json_pack("{s:s}", "message", message);

	if (o != NULL && details != NULL && json_array_size(details) > 0)
		json_object_set(o, "details", details);
	json_decref(details);
	reply_json(reply, status, o);
}

void reply_header(struct httpd_reply *reply, const char *name, const char *value)
{
	if (!httpd_reply_header(reply, name, value))
		log_error("response header dropped", "name=%s", name);
}

/* Depth of nesting, giving up past the limit so the walk stays bounded. */
static bool depth_ok(const json_t *v, int depth)
{
	size_t i;
	const char *k;
	const json_t *c;

	if (depth > SIMHTTP_JSON_DEPTH_MAX)
		return false;
	if (json_is_array(v)) {
		json_array_foreach(v, i, c)
		{
			if (!depth_ok(c, depth + 1))
				return false;
		}
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)(uintptr_t)v, k, c)
		{
			if (!depth_ok(c, depth + 1))
				return false;
		}
	}
	return true;
}

json_t *body_json(const struct httpd_request *req, char *err, size_t errlen)
{
	size_t len;
	const char *body = httpd_body(req, &len);
	json_error_t jerr;
	json_t *v;

	if (len == 0) {
		str_msg(err, errlen, "The request body is empty");
		return NULL;
	}
	v = json_loadb(body, len, 0, &jerr);
	if (v == NULL) {
		/* Say which kind of bad body it is: all three used to read
		 * "syntax error", which sent a client hunting for a typo. */
		if (json_error_code(&jerr) == json_error_stack_overflow)
			str_msg(err, errlen, "The request body is nested too deeply");
		else if (json_error_code(&jerr) == json_error_invalid_utf8)
			str_msg(err, errlen, "The request body is not valid UTF-8");
		else if (json_error_code(&jerr) == json_error_null_character)
			str_msg(err, errlen, "The request body has a NUL character");
		else
			str_msg(err, errlen,
				"The request body has a syntax error (line: %d, column: %d)",
				jerr.line, jerr.column);
		return NULL;
	}
	if (!depth_ok(v, 1)) {
		json_decref(v);
		str_msg(err, errlen, "The request body is nested too deeply");
		return NULL;
	}
	return v;
}
