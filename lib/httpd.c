/*
 * httpd — libmicrohttpd wrapper; see httpd.h.
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "str.h"

struct httpd {
	struct MHD_Daemon *mhd;
	httpd_fn fn;
	void *ctx;
	size_t max_body;
	const char *too_large_type; /* the 413's content type and body */
	const char *too_large_body;
	int fd;
	char *unix_path;
};

struct httpd_request {
	struct MHD_Connection *conn;
	const char *method;
	const char *path;
	char *body;
	size_t len;
	size_t cap; /* allocated for body, without the NUL */
	bool too_large;
};

/* Seconds a client may stay silent; stops slow-loris connections. */
#define HTTPD_CONNECTION_TIMEOUT 30
/* Concurrent connections; the internal thread serves them in turn. */
#define HTTPD_CONNECTION_LIMIT 512

const char *httpd_method(const struct httpd_request *req)
{
	return req->method;
}

const char *httpd_path(const struct httpd_request *req)
{
	return req->path;
}

const char *httpd_header(const struct httpd_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *httpd_query(const struct httpd_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool httpd_remote_addr(const struct httpd_request *req, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return false;
	sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		return inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
				 out, (socklen_t)size) != NULL;
	if (sa->sa_family == AF_INET6)
		return inet_ntop(AF_INET6,
				 &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
				 (socklen_t)size) != NULL;
	if (sa->sa_family == AF_UNIX)
		return str_copy(out, "unix", size);
	return false;
}

bool httpd_reply_header(struct httpd_reply *reply, const char *name, const char *value)
{
	struct httpd_header *hd;

	if (reply->nheaders < 0 || reply->nheaders >= HTTPD_REPLY_HEADERS_MAX)
		return false;
	/* A CR or LF would let a value smuggle a header of its own. */
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return false;
	hd = &reply->headers[reply->nheaders];
	if (!str_copy(hd->name, name, sizeof(hd->name)) ||
	    !str_copy(hd->value, value, sizeof(hd->value)))
		return false;
	reply->nheaders++;
	return true;
}

const char *httpd_body(const struct httpd_request *req, size_t *len)
{
	*len = req->len;
	return req->body != NULL ? req->body : "";
}

void httpd_reply_static(struct httpd_reply *reply, int status, const char *content_type,
			const char *body)
{
	if (reply->body_owned)
		free(reply->body);
	reply->status = status;
	reply->content_type = content_type;
	reply->body = (char *)(uintptr_t)body; /* never written: body_owned is false */
	reply->body_len = strlen(body);
	reply->body_owned = false;
}

void httpd_reply_owned(struct httpd_reply *reply, int status, const char *content_type, char *body,
		       size_t len)
{
	if (reply->body_owned)
		free(reply->body);
	reply->status = status;
	reply->content_type = content_type;
	reply->body = body;
	reply->body_len = len;
	reply->body_owned = true;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct httpd_reply *reply)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(reply->body_len, reply->body,
					       reply->body_owned ? MHD_RESPMEM_MUST_FREE
								 : MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		if (reply->body_owned)
			free(reply->body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply->content_type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	for (int i = 0; i < reply->nheaders && i < HTTPD_REPLY_HEADERS_MAX; i++)
		MHD_add_response_header(resp, reply->headers[i].name, reply->headers[i].value);
	rc = MHD_queue_response(conn, (unsigned)reply->status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct httpd *h = cls;
	struct httpd_request *req = *con_cls;
	struct httpd_reply reply = {.status = 500, .content_type = "text/plain; charset=utf-8"};

	(void)version;
	if (req == NULL) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		long long announced;

		req = calloc(1, sizeof(*req));
		if (req == NULL)
			return MHD_NO;
		req->conn = conn;
		req->method = method;
		req->path = url;
		/* Refuse an announced oversize body before reading any of it. */
		if (cl != NULL && (!str_to_ll(cl, 0, (long long)h->max_body, &announced)))
			req->too_large = true;
		/* Allocate an announced body once rather than growing it per chunk;
		 * a client that announces and stalls holds only untouched (virtual)
		 * pages, and the connection timeout ends it. */
		else if (cl != NULL && announced > 0) {
			req->body = malloc((size_t)announced + 1);
			if (req->body == NULL) {
				free(req);
				return MHD_NO;
			}
			req->body[0] = '\0';
			req->cap = (size_t)announced;
		}
		*con_cls = req;
		/* Answer an announced oversize body now: waiting for the body would
		 * read (and drop) all of it, or hang until the connection timeout
		 * when the client sends less than it announced. */
		if (req->too_large) {
			httpd_reply_static(&reply, 413, h->too_large_type, h->too_large_body);
			return send_reply(conn, &reply);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		if (!req->too_large && req->len + n <= h->max_body) {
			if (req->len + n > req->cap) {
				char *grown = realloc(req->body, req->len + n + 1);

				if (grown == NULL)
					return MHD_NO;
				req->body = grown;
				req->cap = req->len + n;
			}
			memcpy(req->body + req->len, upload_data, n);
			req->len += n;
			req->body[req->len] = '\0';
		} else {
			req->too_large = true;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->too_large) {
		httpd_reply_static(&reply, 413, h->too_large_type, h->too_large_body);
		return send_reply(conn, &reply);
	}
	h->fn(h->ctx, req, &reply);
	if (reply.body == NULL)
		httpd_reply_static(&reply, reply.status, reply.content_type, "");
	return send_reply(conn, &reply);
}

/* URIs and query arguments are decoded as libmicrohttpd does ("%HH"),
 * except "%00": a decoded NUL would silently cut the C string a handler
 * sees ("/v2/bot/profile/<id>%00junk" read as the profile of <id>,
 * "limit=5%00x" as 5), so it stays as the three characters and fails
 * whatever check follows. */
static int hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *w = s;

	(void)cls;
	(void)conn;
	for (const char *r = s; *r != '\0'; r++) {
		int hi = r[0] == '%' ? hexdigit(r[1]) : -1, lo = hi >= 0 ? hexdigit(r[2]) : -1;

		if (lo >= 0 && (hi | lo) != 0) {
			*w++ = (char)(hi << 4 | lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct httpd_request *req = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (req != NULL) {
		free(req->body);
		free(req);
		*con_cls = NULL;
	}
}

struct httpd *httpd_start(const char *listen_addr, size_t max_body, httpd_fn fn, void *ctx,
			  char *err, size_t errlen)
{
	return httpd_start_threads(listen_addr, max_body, 1, fn, ctx, err, errlen);
}

struct httpd *httpd_start_threads(const char *listen_addr, size_t max_body, unsigned threads,
				  httpd_fn fn, void *ctx, char *err, size_t errlen)
{
	struct httpd_opts o = {.threads = threads};

	return httpd_start_opts(listen_addr, max_body, &o, fn, ctx, err, errlen);
}

struct httpd *httpd_start_opts(const char *listen_addr, size_t max_body,
			       const struct httpd_opts *opts, httpd_fn fn, void *ctx, char *err,
			       size_t errlen)
{
	struct httpd *h;
	unsigned threads = opts->threads;

	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		str_msg(err, errlen, "out of memory");
		return NULL;
	}
	h->fn = fn;
	h->ctx = ctx;
	h->max_body = max_body;
	h->too_large_type = "text/plain; charset=utf-8";
	h->too_large_body = "request body too large\n";
	if (opts->too_large_type != NULL && opts->too_large_body != NULL) {
		h->too_large_type = opts->too_large_type;
		h->too_large_body = opts->too_large_body;
	}
	h->fd = listen_open(listen_addr, 128, 0660, &h->unix_path, err, errlen);
	if (h->fd < 0)
		goto fail;
	if (threads > 1)
		h->mhd = MHD_start_daemon(
			MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, on_request,
			h, MHD_OPTION_LISTEN_SOCKET, h->fd, MHD_OPTION_NOTIFY_COMPLETED,
			on_completed, h, MHD_OPTION_CONNECTION_TIMEOUT,
			(unsigned)HTTPD_CONNECTION_TIMEOUT, MHD_OPTION_CONNECTION_LIMIT,
			(unsigned)HTTPD_CONNECTION_LIMIT, MHD_OPTION_UNESCAPE_CALLBACK, unescape,
			NULL, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_END);
	else
		h->mhd = MHD_start_daemon(
			MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, on_request,
			h, MHD_OPTION_LISTEN_SOCKET, h->fd, MHD_OPTION_NOTIFY_COMPLETED,
			on_completed, h, MHD_OPTION_CONNECTION_TIMEOUT,
			(unsigned)HTTPD_CONNECTION_TIMEOUT, MHD_OPTION_CONNECTION_LIMIT,
			(unsigned)HTTPD_CONNECTION_LIMIT, MHD_OPTION_UNESCAPE_CALLBACK, unescape,
			NULL, MHD_OPTION_END);
	if (h->mhd == NULL) {
		str_msg(err, errlen, "cannot start the HTTP server on %s", listen_addr);
		goto fail;
	}
	h->fd = -1; /* MHD_stop_daemon() closes the listening socket */
	return h;
fail:
	httpd_stop(h);
	return NULL;
}

void httpd_stop(struct httpd *h)
{
	if (h == NULL)
		return;
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd);
	if (h->fd >= 0)
		close(h->fd);
	if (h->unix_path != NULL) {
		unlink(h->unix_path);
		free(h->unix_path);
	}
	free(h);
}
