/*
 * simhttp — JSON requests and replies for linesim's handlers, and LINE's
 * error shape {"message": ..., "details": [{"message", "property"}]}.
 *
 * Request bodies are parsed in this one place with named limits (size by
 * httpd's max_body, nesting depth here).
 */
#ifndef LINESIM_SIMHTTP_H
#define LINESIM_SIMHTTP_H

#include <jansson.h>
#include <stddef.h>

#include "httpd.h"

/* Deepest JSON nesting accepted: a flex bubble needs about ten levels; a
 * body nested thousands deep is an attack on recursive consumers. */
#define SIMHTTP_JSON_DEPTH_MAX 64

/* Reply with v serialised (v is stolen; NULL means out of memory → 500). */
void reply_json(struct httpd_reply *reply, int status, json_t *v);
/* LINE's error JSON; details (stolen) may be NULL or empty (then omitted). */
void reply_line_error(struct httpd_reply *reply, int status, const char *message, json_t *details);
/* Add a response header; a full header table is a bug, logged. */
void reply_header(struct httpd_reply *reply, const char *name, const char *value);

/* The request body as a JSON value, or NULL with err set (empty body,
 * syntax error, nesting over the limit). */
json_t *body_json(const struct httpd_request *req, char *err, size_t errlen);

#endif
