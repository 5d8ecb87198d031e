/*
 * line — the LINE Messaging API client (libcurl multi; the only module that
 * includes curl/curl.h).
 *
 * One client talks to one base URL ("https://api.line.me" in production,
 * linesim elsewhere) with one channel access token, over a small pool of
 * kept-alive connections: HTTP/2 with multiplexing where TLS+ALPN offers it,
 * HTTP/1.1 otherwise.  TLS verification is always on; there is no option to
 * turn it off.  Requests are queued with line_client_post()/_get() and
 * driven by line_client_run(), which also waits on one extra descriptor (the
 * PostgreSQL socket), so a daemon needs one loop and one thread.
 *
 * Ownership: the options' strings are copied (the token is wiped on free);
 * a request body is copied; the result passed to a callback, and its body,
 * are valid only during the callback.  A client is used by one thread.
 *
 * Errors: constructors return NULL with err filled; queueing returns -1
 * (bad argument, out of memory) and then never calls the callback; every
 * queued request's callback is called exactly once from line_client_run(),
 * with the outcome in struct line_result (classify it with line_classify()).
 *
 * Neither the token nor request or response bodies (they carry LINE user
 * ids) are ever logged.
 *
 * Global state: line_client_new() calls curl_global_init() once per process
 * (pthread_once); curl_global_cleanup() is never called.
 */
#ifndef HL_LINE_H
#define HL_LINE_H

#include <stdbool.h>
#include <stddef.h>

/* A response body larger than this is an error, never buffered whole. */
#define LINE_BODY_MAX ((size_t)1 << 20)
/* A request body larger than this is refused before it is queued: LINE
 * refuses bodies over 2 MB. */
#define LINE_REQUEST_MAX ((size_t)2 << 20)

struct line_client;

struct line_client_options {
	/* "https://api.line.me" or linesim "http://127.0.0.1:8900" (no trailing slash needed) */
	const char *base_url;
	/* channel access token; copied; wiped on free.  NULL or "" for a client of
	 * unauthenticated endpoints only (LINE Login's /oauth2/v2.1/verify): then
	 * line_client_post()/_get()/_get_sync() refuse, and so does
	 * line_client_request_sync() with with_token. */
	const char *token;
	/* per request, connection included (and time queued for a connection) */
	long timeout_ms;
	/* parallel connections to the host (keep-alive, reused) */
	int max_connections;
	/* PEM file of the CAs to trust instead of the system's (a city's staging
	 * proxy, the tests' own CA); NULL or "" = the system store.  It narrows
	 * what is trusted: verification itself is never turned off. */
	const char *ca_file;
};

struct line_client *line_client_new(const struct line_client_options *o, char *err, size_t errlen);
/* NULL ok; aborts in-flight requests without calling their callbacks.  Not
 * from inside a callback. */
void line_client_free(struct line_client *lc);

struct line_result {
	/* 0 = no HTTP answer: connect failure, timeout, reset */
	int http_status;
	/* x-line-request-id, "" if none */
	char request_id[64];
	/* x-line-accepted-request-id (409 for a used retry key) */
	char accepted_request_id[64];
	/* Retry-After seconds, -1 when absent */
	long retry_after_s;
	/* LINE's {"message","details"} flattened, or curl's error text; "" on 2xx */
	char error[512];
	/* response body (valid only during the callback), NUL-terminated; NULL
	 * when the transfer failed or the body was over LINE_BODY_MAX */
	const char *body;
	size_t body_len;
	double elapsed_ms;
};
/* A 2xx whose body was over LINE_BODY_MAX keeps its status (LINE did accept
 * the request) with body NULL and error saying why. */

enum line_outcome {
	/* 2xx, or 409 carrying x-line-accepted-request-id: the retry key was already accepted */
	LINE_ACCEPTED,
	/* no answer, 429 (rate limit), 5xx: same request, same retry key, later */
	LINE_RETRY,
	/* 429 "You have reached your monthly limit." : hold, don't hammer */
	LINE_QUOTA,
	/* any other 4xx: retrying won't help; keep r->error */
	LINE_REJECTED,
};
enum line_outcome line_classify(const struct line_result *r);
/* "accepted", "retry", "quota", "rejected" (for logs and metrics). */
const char *line_outcome_name(enum line_outcome o);

typedef void (*line_done_fn)(void *arg, const struct line_result *r);
/* Queue a POST of a JSON body (copied) to path (e.g. "/v2/bot/message/multicast"), with
 * X-Line-Retry-Key when retry_key != NULL. done is called exactly once from line_client_run().
 * 0 / -1 (err: bad path or key, body over LINE_REQUEST_MAX, out of memory).  A callback
 * may queue new requests; it must not free the client or call line_client_run(). */
int line_client_post(struct line_client *lc, const char *path, const char *json, size_t len,
		     const char *retry_key, line_done_fn done, void *arg);
int line_client_get(struct line_client *lc, const char *path, line_done_fn done, void *arg);
/* Requests queued whose callback has not been called yet. */
int line_client_in_flight(const struct line_client *lc);
/* Drive transfers: wait at most timeout_ms for progress on the transfers OR on extra_fd (the
 * PostgreSQL socket, -1 for none; *extra_ready set when it is readable), then call the done
 * callbacks of finished requests. Returns 0, or -1 on a curl multi failure. Uses curl_multi_poll
 * (curl_waitfd for extra_fd).  extra_ready may be NULL when extra_fd is -1. */
int line_client_run(struct line_client *lc, int timeout_ms, int extra_fd, bool *extra_ready);
/* Blocking convenience for small calls (quota, followers...): runs its own transfer on its own
 * kept-alive connection, without driving the queued requests.  0 when LINE answered 2xx with
 * a body within LINE_BODY_MAX, -1 otherwise; out is filled either way (out->body is *body_out
 * when asked for, else NULL). */
int line_client_get_sync(struct line_client *lc, const char *path, struct line_result *out,
			 char **body_out /* malloc'd, NUL-terminated, caller frees; may be NULL */);

/* A blocking request with any method ("GET", "POST", "PUT", "DELETE") and an optional body
 * (NULL/0 for none) to path (relative to the client's base URL, starting with "/") or to an
 * absolute "https://" or "http://" URL (LINE's data API host, api-data.line.me, for rich menu
 * images).  content_type NULL sends none.  The Authorization: Bearer header is sent only when
 * with_token is true.  Same result conventions as line_client_get_sync().  A POST without a
 * body sends an empty one (Content-Length: 0), as LINE's body-less POSTs want; a GET may not
 * have a body.  Errors before sending (bad method, path or URL, content type, a body over
 * LINE_REQUEST_MAX, with_token on a client without a token) give -1 with status 0 and the
 * reason in out->error.  Uses the same kept-alive connection as line_client_get_sync(). */
int line_client_request_sync(struct line_client *lc, const char *method, const char *path_or_url,
			     const char *content_type, const void *body, size_t len,
			     bool with_token, struct line_result *out, char **body_out);

/* LINE's error body {"message":"...","details":[{"message":"...","property":"..."}]} as
 * "message (property: message; ...)", control characters as spaces, cut at a UTF-8 boundary
 * with "..." when it does not fit; a body that is not LINE's shape gives "HTTP <status>"
 * followed by its first bytes.  out is always NUL-terminated (size > 0). */
void line_error_flatten(int http_status, const char *body, size_t len, char *out, size_t size);

#endif
