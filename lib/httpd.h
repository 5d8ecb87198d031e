/*
 * httpd — a small HTTP server on libmicrohttpd for hotline's daemons.
 *
 * By default one internal thread runs every request, one at a time, so a
 * handler may use its daemon's single database connection without locks.
 * httpd_start_threads() runs a pool instead; its handler must then lock
 * whatever it shares.  The handler sees the method, the path, the query
 * arguments, the headers it asks for and the whole request body (refused
 * with 413 beyond max_body bytes before it is buffered), and fills a reply.
 * Paths and query arguments arrive %-decoded, except "%00", which is left
 * as it is so that a NUL cannot cut a string short.
 * Every reply carries nosniff and no-store headers, plus up to
 * HTTPD_REPLY_HEADERS_MAX headers the handler adds (copied into the reply).
 */
#ifndef HL_HTTPD_H
#define HL_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

struct httpd;
struct httpd_request;

/* Extra response headers a handler may add; names and values longer than
 * these are refused, not cut. */
#define HTTPD_REPLY_HEADERS_MAX 8
#define HTTPD_HEADER_NAME_MAX	64
#define HTTPD_HEADER_VALUE_MAX	160

struct httpd_header {
	char name[HTTPD_HEADER_NAME_MAX];
	char value[HTTPD_HEADER_VALUE_MAX];
};

struct httpd_reply {
	int status;
	const char *content_type;
	char *body; /* owned by the reply when body_owned */
	size_t body_len;
	bool body_owned;
	struct httpd_header headers[HTTPD_REPLY_HEADERS_MAX];
	int nheaders;
};

typedef void (*httpd_fn)(void *ctx, const struct httpd_request *req, struct httpd_reply *reply);

/* Listen on "IP:PORT", "[IPv6]:PORT" or "unix:/path".  NULL with err. */
struct httpd *httpd_start(const char *listen, size_t max_body, httpd_fn fn, void *ctx, char *err,
			  size_t errlen);
/* The same with a pool of threads (1 means the single internal thread):
 * fn then runs concurrently and must be thread-safe. */
struct httpd *httpd_start_threads(const char *listen, size_t max_body, unsigned threads,
				  httpd_fn fn, void *ctx, char *err, size_t errlen);

/* What httpd_start_opts() takes beyond the address and the body limit. */
struct httpd_opts {
	unsigned threads; /* as httpd_start_threads(); 0 or 1: the internal thread */
	/* The 413 that refuses a body over max_body: its content type and body
	 * (constants, not copied), for daemons whose clients expect their own
	 * error format.  NULL: "request body too large" as plain text. */
	const char *too_large_type;
	const char *too_large_body;
};
struct httpd *httpd_start_opts(const char *listen, size_t max_body, const struct httpd_opts *opts,
			       httpd_fn fn, void *ctx, char *err, size_t errlen);
void httpd_stop(struct httpd *h);

const char *httpd_method(const struct httpd_request *req);
const char *httpd_path(const struct httpd_request *req);
/* A request header, or NULL. */
const char *httpd_header(const struct httpd_request *req, const char *name);
/* A decoded query-string argument, or NULL; "" for "?name" without '='. */
const char *httpd_query(const struct httpd_request *req, const char *name);
const char *httpd_body(const struct httpd_request *req, size_t *len);
/* The peer's address as text ("127.0.0.1", "::1", "unix"); false when it
 * is unknown or does not fit. */
bool httpd_remote_addr(const struct httpd_request *req, char *out, size_t size)
	__attribute__((warn_unused_result));

/* Reply with a constant body (not copied). */
void httpd_reply_static(struct httpd_reply *reply, int status, const char *content_type,
			const char *body);

/* Reply with a body the reply takes ownership of (freed after sending). */
void httpd_reply_owned(struct httpd_reply *reply, int status, const char *content_type, char *body,
		       size_t len);

/* Add a response header (copied); false when the reply already holds
 * HTTPD_REPLY_HEADERS_MAX headers or name/value do not fit, or hold CR/LF. */
bool httpd_reply_header(struct httpd_reply *reply, const char *name, const char *value)
	__attribute__((warn_unused_result));

#endif
