/*
 * httpd — a small HTTP server on libmicrohttpd for hotline's daemons.
 *
 * One internal thread runs every request, one at a time, so a handler may
 * use its daemon's single database connection without locks.  The handler
 * sees the method, the path, the headers it asks for and the whole request
 * body (refused with 413 beyond max_body bytes before it is buffered), and
 * fills a reply.  Every reply carries nosniff and no-store headers.
 */
#ifndef HL_HTTPD_H
#define HL_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

struct httpd;
struct httpd_request;

struct httpd_reply {
	int status;
	const char *content_type;
	char *body; /* owned by the reply when body_owned */
	size_t body_len;
	bool body_owned;
};

typedef void (*httpd_fn)(void *ctx, const struct httpd_request *req, struct httpd_reply *reply);

/* Listen on "IP:PORT", "[IPv6]:PORT" or "unix:/path".  NULL with err. */
struct httpd *httpd_start(const char *listen, size_t max_body, httpd_fn fn, void *ctx, char *err,
			  size_t errlen);
void httpd_stop(struct httpd *h);

const char *httpd_method(const struct httpd_request *req);
const char *httpd_path(const struct httpd_request *req);
/* A request header, or NULL. */
const char *httpd_header(const struct httpd_request *req, const char *name);
const char *httpd_body(const struct httpd_request *req, size_t *len);

/* Reply with a constant body (not copied). */
void httpd_reply_static(struct httpd_reply *reply, int status, const char *content_type,
			const char *body);

/* Reply with a body the reply takes ownership of (freed after sending). */
void httpd_reply_owned(struct httpd_reply *reply, int status, const char *content_type, char *body,
		       size_t len);

#endif
