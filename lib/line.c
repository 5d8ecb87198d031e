/*
 * line — the LINE Messaging API client on libcurl's multi interface; see
 * line.h for the contract.
 *
 * Each queued request is one easy handle in one multi handle.  The multi
 * handle keeps at most max_connections connections to the host, reused
 * (keep-alive), and multiplexes HTTP/2 streams over them when TLS+ALPN
 * offers h2 (CURLOPT_PIPEWAIT makes a new request wait for an existing
 * connection's stream rather than open another connection).  Requests
 * beyond what the connections can carry wait inside libcurl; their
 * timeout_ms runs from line_client_post().
 *
 * Limits, each against what it stops:
 * - a response body over LINE_BODY_MAX ends the transfer (a broken or
 *   hostile peer cannot make the pusher grow without bound);
 * - response headers are looked at only when they fit HEADER_MAX; ids are
 *   kept only when they fit their field and are printable ASCII (a header
 *   cannot smuggle control characters into logs);
 * - request paths, retry keys and the token must be printable ASCII without
 *   spaces (no header or request-line injection);
 * - only http and https, no redirects (the token is never sent elsewhere).
 *
 * The headers are one curl_slist chain built once per client from arrays in
 * the client (Authorization last, shared by every request); a request with
 * a retry key puts its own node in front of that chain, so the token exists
 * in exactly one buffer of ours, wiped on free.
 */
#include "line.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "str.h"
#include "utf8.h"

#ifndef HL_VERSION
#define HL_VERSION "dev"
#endif

#define BASE_URL_MAX	512
#define PATH_MAX_LEN	1024
#define TOKEN_MAX	4096
#define RETRY_KEY_MAX	64
#define HEADER_MAX	8192 /* a longer response header line is ignored */
#define CONNECTIONS_MAX 256
#define SPARE_MAX	64  /* easy handles kept for reuse */
#define SNIPPET_MAX	200 /* bytes of a non-LINE error body shown in error */
#define CTYPE_MAX	128 /* a request's Content-Type value */
#define QUOTA_MESSAGE	"You have reached your monthly limit"

/* What one transfer collects, for the queued and the blocking calls alike. */
struct xfer {
	char *resp;
	size_t resp_len, resp_cap;
	bool resp_over;
	char errbuf[CURL_ERROR_SIZE];
	struct line_result res;
};

struct req {
	struct line_client *lc;
	CURL *easy;
	line_done_fn done;
	void *arg;
	char *body;
	struct curl_slist key_node;
	char key_hdr[RETRY_KEY_MAX + 20];
	struct xfer x;
	struct req *prev, *next;
};

struct line_client {
	CURLM *multi;
	CURL *sync_easy;
	char base[BASE_URL_MAX];
	long timeout_ms;
	int max_connections;
	char ca_file[1024]; /* "" = the system's CAs */
	char *auth_hdr;
	size_t auth_size;
	char ctype_hdr[32];
	char expect_hdr[8];
	struct curl_slist n_ctype, n_expect, n_auth;
	struct req *head;
	int in_flight;
	CURL *spare[SPARE_MAX];
	int nspare;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Printable ASCII without spaces, 1..max-1 bytes. */
static bool plain_token(const char *s, size_t max)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n] != '\0'; n++)
		if (n + 1 >= max || (unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
			return false;
	return n > 0;
}

struct line_client *line_client_new(const struct line_client_options *o, char *err, size_t errlen)
{
	struct line_client *lc = NULL;
	size_t n;
	long conns;

	if (o == NULL || o->base_url == NULL ||
	    (strncmp(o->base_url, "https://", 8) != 0 && strncmp(o->base_url, "http://", 7) != 0) ||
	    !plain_token(o->base_url, BASE_URL_MAX)) {
		str_msg(err, errlen,
			"LINE base URL must be an http:// or https:// URL of at most %d bytes",
			BASE_URL_MAX - 1);
		return NULL;
	}
	/* NULL or "": a client of unauthenticated endpoints only. */
	if (o->token != NULL && o->token[0] != '\0' && !plain_token(o->token, TOKEN_MAX)) {
		str_msg(err, errlen,
			"LINE channel access token must be 1 to %d printable characters",
			TOKEN_MAX - 1);
		return NULL;
	}
	if (o->timeout_ms < 1) {
		str_msg(err, errlen, "LINE timeout must be at least 1 ms");
		return NULL;
	}
	if (o->max_connections < 1 || o->max_connections > CONNECTIONS_MAX) {
		str_msg(err, errlen, "LINE connections must be between 1 and %d", CONNECTIONS_MAX);
		return NULL;
	}
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		str_msg(err, errlen, "curl_global_init: %s", curl_easy_strerror(global_rc));
		return NULL;
	}
	lc = calloc(1, sizeof(*lc));
	if (lc == NULL)
		goto nomem;
	if (!str_copy(lc->base, o->base_url, sizeof(lc->base)))
		goto nomem;
	n = strlen(lc->base);
	while (n > 0 && lc->base[n - 1] == '/')
		lc->base[--n] = '\0';
	lc->timeout_ms = o->timeout_ms;
	lc->max_connections = o->max_connections;
	if (o->ca_file != NULL && !str_copy(lc->ca_file, o->ca_file, sizeof(lc->ca_file))) {
		str_msg(err, errlen, "LINE CA file path is too long");
		line_client_free(lc);
		return NULL;
	}

	if (o->token != NULL && o->token[0] != '\0') {
		lc->auth_size = strlen(o->token) + sizeof("Authorization: Bearer ");
		lc->auth_hdr = malloc(lc->auth_size);
		if (lc->auth_hdr == NULL)
			goto nomem;
		if (!str_printf(lc->auth_hdr, lc->auth_size, "Authorization: Bearer %s", o->token))
			goto nomem;
	}
	/* No "Expect: 100-continue" round trip before big HTTP/1.1 bodies. */
	if (!str_copy(lc->ctype_hdr, "Content-Type: application/json", sizeof(lc->ctype_hdr)) ||
	    !str_copy(lc->expect_hdr, "Expect:", sizeof(lc->expect_hdr)))
		goto nomem;
	lc->n_auth.data = lc->auth_hdr;
	lc->n_auth.next = NULL;
	lc->n_expect.data = lc->expect_hdr;
	lc->n_expect.next = lc->auth_hdr != NULL ? &lc->n_auth : NULL;
	lc->n_ctype.data = lc->ctype_hdr;
	lc->n_ctype.next = &lc->n_expect;

	lc->multi = curl_multi_init();
	if (lc->multi == NULL)
		goto nomem;
	conns = o->max_connections;
	if (curl_multi_setopt(lc->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX) != CURLM_OK ||
	    curl_multi_setopt(lc->multi, CURLMOPT_MAX_HOST_CONNECTIONS, conns) != CURLM_OK ||
	    curl_multi_setopt(lc->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, conns) != CURLM_OK ||
	    curl_multi_setopt(lc->multi, CURLMOPT_MAXCONNECTS, conns) != CURLM_OK) {
		str_msg(err, errlen, "curl_multi_setopt failed");
		line_client_free(lc);
		return NULL;
	}
	return lc;

nomem:
	str_msg(err, errlen, "out of memory");
	line_client_free(lc);
	return NULL;
}

static void req_free(struct req *r)
{
	free(r->body);
	free(r->x.resp);
	free(r);
}

void line_client_free(struct line_client *lc)
{
	struct req *r, *next;
	int i;

	if (lc == NULL)
		return;
	for (r = lc->head; r != NULL; r = next) {
		next = r->next;
		curl_multi_remove_handle(lc->multi, r->easy);
		curl_easy_cleanup(r->easy);
		req_free(r);
	}
	for (i = 0; i < lc->nspare; i++)
		curl_easy_cleanup(lc->spare[i]);
	if (lc->sync_easy != NULL)
		curl_easy_cleanup(lc->sync_easy);
	if (lc->multi != NULL)
		curl_multi_cleanup(lc->multi);
	if (lc->auth_hdr != NULL) {
		str_wipe(lc->auth_hdr, lc->auth_size);
		free(lc->auth_hdr);
	}
	free(lc);
}

/* --- results ------------------------------------------------------------ */

enum line_outcome line_classify(const struct line_result *r)
{
	int s = r->http_status;

	if (s >= 200 && s <= 299)
		return LINE_ACCEPTED;
	if (s == 409 && r->accepted_request_id[0] != '\0')
		return LINE_ACCEPTED;
	if (s == 0 || (s >= 500 && s <= 599))
		return LINE_RETRY;
	if (s == 429)
		return strncmp(r->error, QUOTA_MESSAGE, strlen(QUOTA_MESSAGE)) == 0 ? LINE_QUOTA
										    : LINE_RETRY;
	/* Other 4xx, and 1xx/3xx that LINE never sends (a misconfigured URL). */
	return LINE_REJECTED;
}

const char *line_outcome_name(enum line_outcome o)
{
	switch (o) {
	case LINE_ACCEPTED:
		return "accepted";
	case LINE_RETRY:
		return "retry";
	case LINE_QUOTA:
		return "quota";
	case LINE_REJECTED:
		return "rejected";
	}
	return "unknown";
}

/* A bounded writer of text: whole UTF-8 characters only, control
 * characters as spaces, invalid bytes as '?', "..." when cut. */
struct out {
	char *buf;
	size_t size, len;
	bool cut;
};

static void out_put(struct out *o, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n && !o->cut) {
		uint32_t cp;
		size_t c = utf8_decode(p + i, n - i, &cp);
		const char *src = s + i;
		char one;

		if (c == 0) {
			one = '?';
			src = &one;
			c = 1;
			i++;
		} else if (cp < 0x20 || cp == 0x7f) {
			one = ' ';
			src = &one;
			i += c;
			c = 1;
		} else {
			i += c;
		}
		if (o->len + c >= o->size) {
			o->cut = true;
			break;
		}
		memcpy(o->buf + o->len, src, c);
		o->len += c;
	}
}

static void out_str(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

static void out_end(struct out *o)
{
	if (o->cut && o->size >= 4) {
		/* Back off whole characters until "..." fits. */
		while (o->len > 0 && o->len + 3 >= o->size) {
			o->len--;
			while (o->len > 0 && ((unsigned char)o->buf[o->len] & 0xC0) == 0x80)
				o->len--;
		}
		memcpy(o->buf + o->len, "...", 3);
		o->len += 3;
	}
	o->buf[o->len] = '\0';
}

void line_error_flatten(int http_status, const char *body, size_t len, char *out, size_t size)
{
	struct out o = {out, size, 0, false};
	json_t *root = NULL, *msg, *details;
	char head[32];

	if (size == 0)
		return;
	if (body != NULL && len > 0)
		root = json_loadb(body, len, 0, NULL);
	msg = json_is_object(root) ? json_object_get(root, "message") : NULL;
	if (json_is_string(msg)) {
		size_t i, shown = 0;
		json_t *d;

		out_str(&o, json_string_value(msg));
		details = json_object_get(root, "details");
		json_array_foreach(details, i, d)
		{
			json_t *dm = json_object_get(d, "message");
			json_t *dp = json_object_get(d, "property");

			if (!json_is_string(dm))
				continue;
			out_str(&o, shown++ == 0 ? " (" : "; ");
			if (json_is_string(dp)) {
				out_str(&o, json_string_value(dp));
				out_str(&o, ": ");
			}
			out_str(&o, json_string_value(dm));
		}
		if (shown > 0)
			out_str(&o, ")");
	} else {
		str_msg(head, sizeof(head), "HTTP %d", http_status);
		out_str(&o, head);
		if (body != NULL && len > 0) {
			size_t i;

			out_str(&o, ": ");
			/* Bytes of an unknown body: ASCII only. */
			for (i = 0; i < len && i < SNIPPET_MAX; i++) {
				unsigned char c = (unsigned char)body[i];
				char ch = c >= 0x80 ? '?' : (char)c;

				out_put(&o, &ch, 1);
			}
			if (len > SNIPPET_MAX)
				o.cut = true;
		}
	}
	json_decref(root);
	out_end(&o);
}

/* --- transfers ---------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	if (n > LINE_BODY_MAX - x->resp_len) {
		x->resp_over = true;
		return 0; /* CURLE_WRITE_ERROR ends the transfer */
	}
	if (x->resp_len + n + 1 > x->resp_cap) {
		size_t cap = x->resp_cap == 0 ? 1024 : x->resp_cap;
		char *p;

		while (cap < x->resp_len + n + 1)
			cap *= 2;
		if (cap > LINE_BODY_MAX + 1)
			cap = LINE_BODY_MAX + 1;
		p = realloc(x->resp, cap);
		if (p == NULL)
			return 0;
		x->resp = p;
		x->resp_cap = cap;
	}
	memcpy(x->resp + x->resp_len, data, n);
	x->resp_len += n;
	x->resp[x->resp_len] = '\0';
	return n;
}

static bool name_is(const char *line, size_t n, const char *name)
{
	size_t i, k = strlen(name);

	if (n != k)
		return false;
	for (i = 0; i < k; i++) {
		char a = line[i], b = name[i];

		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

/* Copy an id header's value when it fits and is printable ASCII. */
static void copy_id(char *dst, size_t size, const char *v, size_t n)
{
	size_t i;

	dst[0] = '\0';
	if (n >= size)
		return;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e)
			return;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static long parse_retry_after(const char *v, size_t n)
{
	char tmp[64];
	long long s = 0;
	size_t i;
	time_t t;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	for (i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++)
		if (s < 1000000000LL)
			s = s * 10 + (v[i] - '0');
	if (i == n)
		return s > 1000000000LL ? 1000000000L : (long)s;
	/* An HTTP date. */
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	t = curl_getdate(tmp, NULL);
	if (t == (time_t)-1)
		return -1;
	t -= time(NULL);
	return t < 0 ? 0 : t > 1000000000 ? 1000000000L : (long)t;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb, k, v, e;

	if (n > HEADER_MAX)
		return n;
	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		/* A new response (after a 1xx): forget the previous one's headers. */
		x->res.request_id[0] = '\0';
		x->res.accepted_request_id[0] = '\0';
		x->res.retry_after_s = -1;
		return n;
	}
	for (k = 0; k < n && data[k] != ':'; k++)
		;
	if (k == n)
		return n;
	for (v = k + 1; v < n && (data[v] == ' ' || data[v] == '\t'); v++)
		;
	for (e = n; e > v && (data[e - 1] == '\r' || data[e - 1] == '\n' || data[e - 1] == ' ' ||
			      data[e - 1] == '\t');
	     e--)
		;
	if (name_is(data, k, "x-line-request-id"))
		copy_id(x->res.request_id, sizeof(x->res.request_id), data + v, e - v);
	else if (name_is(data, k, "x-line-accepted-request-id"))
		copy_id(x->res.accepted_request_id, sizeof(x->res.accepted_request_id), data + v,
			e - v);
	else if (name_is(data, k, "retry-after"))
		x->res.retry_after_s = parse_retry_after(data + v, e - v);
	return n;
}

static void xfer_reset(struct xfer *x)
{
	free(x->resp);
	memset(x, 0, sizeof(*x));
	x->res.retry_after_s = -1;
}

/* Set every option of one request on a fresh or reset easy handle: path is
 * relative to the base URL (starts with "/") or an absolute URL; method NULL
 * is GET without a body and POST with one. */
static int setup_easy(struct line_client *lc, CURL *e, struct xfer *x, const char *path,
		      const char *method, struct curl_slist *headers, const char *body, size_t len,
		      void *priv)
{
	char url[BASE_URL_MAX + PATH_MAX_LEN];
	CURLcode c = CURLE_OK;

	if (path[0] == '/') {
		if (!str_printf(url, sizeof(url), "%s%s", lc->base, path))
			return -1;
	} else if (!str_copy(url, path, sizeof(url))) {
		return -1;
	}
#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (c == CURLE_OK)                                                                 \
			c = curl_easy_setopt(e, opt, val);                                         \
	} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	SET(CURLOPT_PIPEWAIT, 1L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (lc->ca_file[0] != '\0')
		SET(CURLOPT_CAINFO, lc->ca_file);
	SET(CURLOPT_TIMEOUT_MS, lc->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, lc->timeout_ms);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_USERAGENT, "hotline/" HL_VERSION);
	SET(CURLOPT_HTTPHEADER, headers);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, x);
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)LINE_BODY_MAX);
	SET(CURLOPT_PRIVATE, priv);
	if (body != NULL) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		SET(CURLOPT_POSTFIELDS, body);
	} else {
		SET(CURLOPT_HTTPGET, 1L);
	}
	/* PUT and DELETE (with or without a body) ride on the above. */
	if (method != NULL && strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		SET(CURLOPT_CUSTOMREQUEST, method);
#undef SET
	return c == CURLE_OK ? 0 : -1;
}

/* Fill x->res from a finished transfer. */
static void xfer_finish(struct xfer *x, CURL *e, CURLcode code)
{
	struct line_result *r = &x->res;
	long status = 0;
	curl_off_t us = 0;
	bool over = x->resp_over || code == CURLE_FILESIZE_EXCEEDED;

	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
		r->elapsed_ms = (double)us / 1000.0;
	r->body = NULL;
	r->body_len = 0;
	r->error[0] = '\0';
	if (over && status > 0) {
		r->http_status = (int)status;
		str_msg(r->error, sizeof(r->error),
			"response body larger than %zu bytes (HTTP %ld)", (size_t)LINE_BODY_MAX,
			status);
		return;
	}
	if (code != CURLE_OK || status <= 0) {
		r->http_status = 0;
		if (x->errbuf[0] != '\0')
			str_msg(r->error, sizeof(r->error), "%s: %s", curl_easy_strerror(code),
				x->errbuf);
		else
			str_msg(r->error, sizeof(r->error), "%s", curl_easy_strerror(code));
		return;
	}
	r->http_status = (int)status;
	r->body = x->resp != NULL ? x->resp : "";
	r->body_len = x->resp_len;
	if (status < 200 || status > 299)
		line_error_flatten(r->http_status, r->body, r->body_len, r->error,
				   sizeof(r->error));
}

static CURL *easy_get(struct line_client *lc)
{
	if (lc->nspare > 0) {
		CURL *e = lc->spare[--lc->nspare];

		curl_easy_reset(e);
		return e;
	}
	return curl_easy_init();
}

static void easy_put(struct line_client *lc, CURL *e)
{
	if (lc->nspare < SPARE_MAX)
		lc->spare[lc->nspare++] = e;
	else
		curl_easy_cleanup(e);
}

static bool path_ok(const char *path)
{
	return path != NULL && path[0] == '/' && plain_token(path, PATH_MAX_LEN);
}

static int queue(struct line_client *lc, const char *path, const char *json, size_t len,
		 const char *retry_key, line_done_fn done, void *arg)
{
	struct req *r = NULL;
	struct curl_slist *headers;

	if (lc == NULL || done == NULL || !path_ok(path)) {
		log_warn("LINE request refused", "reason=\"%s\"", "bad path or callback");
		return -1;
	}
	if (lc->auth_hdr == NULL) {
		log_warn("LINE request refused", "reason=\"%s\"", "client without a token");
		return -1;
	}
	if (retry_key != NULL && !plain_token(retry_key, RETRY_KEY_MAX + 1)) {
		log_warn("LINE request refused", "reason=\"%s\"", "bad retry key");
		return -1;
	}
	if (json != NULL && len > LINE_REQUEST_MAX) {
		log_warn("LINE request refused", "reason=\"%s\" bytes=%zu", "body too large", len);
		return -1;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		goto fail;
	xfer_reset(&r->x);
	r->lc = lc;
	r->done = done;
	r->arg = arg;
	if (json != NULL) {
		/* One more byte so that an empty body is a valid pointer. */
		r->body = malloc(len + 1);
		if (r->body == NULL)
			goto fail;
		memcpy(r->body, json, len);
		r->body[len] = '\0';
		headers = &lc->n_ctype;
		if (retry_key != NULL) {
			if (!str_printf(r->key_hdr, sizeof(r->key_hdr), "X-Line-Retry-Key: %s",
					retry_key))
				goto fail;
			r->key_node.data = r->key_hdr;
			r->key_node.next = &lc->n_ctype;
			headers = &r->key_node;
		}
	} else {
		headers = &lc->n_auth;
	}
	r->easy = easy_get(lc);
	if (r->easy == NULL)
		goto fail;
	if (setup_easy(lc, r->easy, &r->x, path, NULL, headers, r->body, len, r) != 0)
		goto fail;
	if (curl_multi_add_handle(lc->multi, r->easy) != CURLM_OK)
		goto fail;
	r->next = lc->head;
	if (lc->head != NULL)
		lc->head->prev = r;
	lc->head = r;
	lc->in_flight++;
	return 0;

fail:
	log_warn("LINE request refused", "reason=\"%s\"", "out of memory or curl setup failed");
	if (r != NULL) {
		if (r->easy != NULL)
			curl_easy_cleanup(r->easy);
		req_free(r);
	}
	return -1;
}

int line_client_post(struct line_client *lc, const char *path, const char *json, size_t len,
		     const char *retry_key, line_done_fn done, void *arg)
{
	if (json == NULL)
		return -1;
	return queue(lc, path, json, len, retry_key, done, arg);
}

int line_client_get(struct line_client *lc, const char *path, line_done_fn done, void *arg)
{
	return queue(lc, path, NULL, 0, NULL, done, arg);
}

int line_client_in_flight(const struct line_client *lc)
{
	return lc == NULL ? 0 : lc->in_flight;
}

int line_client_run(struct line_client *lc, int timeout_ms, int extra_fd, bool *extra_ready)
{
	struct curl_waitfd wfd;
	unsigned nfd = 0;
	CURLMcode mc;
	CURLMsg *m;
	int running, left;

	if (extra_ready != NULL)
		*extra_ready = false;
	if (extra_fd >= 0) {
		wfd.fd = extra_fd;
		wfd.events = CURL_WAIT_POLLIN;
		wfd.revents = 0;
		nfd = 1;
	}
	mc = curl_multi_poll(lc->multi, nfd > 0 ? &wfd : NULL, nfd, timeout_ms < 0 ? 0 : timeout_ms,
			     NULL);
	if (mc != CURLM_OK) {
		log_error("curl_multi_poll failed", "error=\"%s\"", curl_multi_strerror(mc));
		return -1;
	}
	if (nfd > 0 && extra_ready != NULL)
		*extra_ready = (wfd.revents & CURL_WAIT_POLLIN) != 0;
	mc = curl_multi_perform(lc->multi, &running);
	if (mc != CURLM_OK) {
		log_error("curl_multi_perform failed", "error=\"%s\"", curl_multi_strerror(mc));
		return -1;
	}
	while ((m = curl_multi_info_read(lc->multi, &left)) != NULL) {
		void *p = NULL;
		struct req *r;
		CURL *e = m->easy_handle;
		CURLcode code = m->data.result;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, &p);
		curl_multi_remove_handle(lc->multi, e);
		if (p == NULL)
			log_panic("LINE transfer without its request", NULL);
		r = p;
		xfer_finish(&r->x, e, code);
		if (r->prev != NULL)
			r->prev->next = r->next;
		else
			lc->head = r->next;
		if (r->next != NULL)
			r->next->prev = r->prev;
		lc->in_flight--;
		/* The handle goes back to the pool before the callback, which
		 * may queue the next request on it. */
		r->easy = NULL;
		easy_put(lc, e);
		r->done(r->arg, &r->x.res);
		req_free(r);
	}
	return 0;
}

/* An absolute http(s) URL, or a path of ours. */
static bool target_ok(const char *t)
{
	if (t == NULL)
		return false;
	if (t[0] == '/')
		return path_ok(t);
	return (strncmp(t, "https://", 8) == 0 || strncmp(t, "http://", 7) == 0) &&
	       plain_token(t, BASE_URL_MAX + PATH_MAX_LEN);
}

/* A header value: printable ASCII, spaces allowed (";  charset=..."). */
static bool header_value_ok(const char *v, size_t max)
{
	size_t n;

	for (n = 0; v[n] != '\0'; n++)
		if (n + 1 >= max || (unsigned char)v[n] < 0x20 || (unsigned char)v[n] >= 0x7f)
			return false;
	return n > 0;
}

int line_client_request_sync(struct line_client *lc, const char *method, const char *path_or_url,
			     const char *content_type, const void *body, size_t len,
			     bool with_token, struct line_result *out, char **body_out)
{
	struct xfer x;
	struct curl_slist n_ctype, n_expect, *headers = NULL;
	char ctype[CTYPE_MAX + 16];
	const char *err = NULL;
	bool has_body, is_post;
	CURLcode code;
	int rc = -1;

	memset(&x, 0, sizeof(x));
	xfer_reset(&x);
	if (body_out != NULL)
		*body_out = NULL;
	*out = x.res;
	if (lc == NULL || method == NULL ||
	    (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 &&
	     strcmp(method, "PUT") != 0 && strcmp(method, "DELETE") != 0))
		err = "bad request method";
	else if (!target_ok(path_or_url))
		err = "bad request path or URL";
	else if (content_type != NULL && !header_value_ok(content_type, CTYPE_MAX))
		err = "bad content type";
	else if (body == NULL && len > 0)
		err = "request body missing";
	else if (len > LINE_REQUEST_MAX)
		err = "request body too large";
	else if (with_token && lc->auth_hdr == NULL)
		err = "client without a channel access token";
	else if (strcmp(method, "GET") == 0 && body != NULL)
		err = "GET with a body";
	if (err != NULL) {
		str_msg(out->error, sizeof(out->error), "%s", err);
		return -1;
	}
	is_post = strcmp(method, "POST") == 0;
	/* POST always sends a body, an empty one when none is given (LINE wants
	 * Content-Length: 0); PUT and DELETE only when given one. */
	has_body = body != NULL || is_post;

	/* Headers, last first: the client's token node ends the chain. */
	headers = with_token ? &lc->n_auth : NULL;
	if (has_body) {
		/* No "Expect: 100-continue" round trip before big bodies. */
		n_expect.data = lc->expect_hdr;
		n_expect.next = headers;
		headers = &n_expect;
		/* "Content-Type:" with nothing removes curl's form default. */
		if (!str_printf(ctype, sizeof(ctype), "Content-Type:%s%s",
				content_type != NULL ? " " : "",
				content_type != NULL ? content_type : ""))
			goto setup_failed;
		n_ctype.data = ctype;
		n_ctype.next = headers;
		headers = &n_ctype;
	}
	if (lc->sync_easy == NULL)
		lc->sync_easy = curl_easy_init();
	else
		curl_easy_reset(lc->sync_easy); /* keeps its kept-alive connection */
	if (lc->sync_easy == NULL ||
	    setup_easy(lc, lc->sync_easy, &x, path_or_url, method, headers,
		       has_body ? (body != NULL ? (const char *)body : "") : NULL, len, NULL) != 0)
		goto setup_failed;
	code = curl_easy_perform(lc->sync_easy);
	xfer_finish(&x, lc->sync_easy, code);
	*out = x.res;
	out->body = NULL;
	if (x.res.body != NULL && body_out != NULL) {
		if (x.resp == NULL)
			x.resp = calloc(1, 1);
		*body_out = x.resp;
		out->body = x.resp;
		x.resp = NULL;
	}
	if (out->http_status >= 200 && out->http_status <= 299 && out->error[0] == '\0')
		rc = 0;
	free(x.resp);
	return rc;

setup_failed:
	str_msg(out->error, sizeof(out->error), "out of memory or curl setup failed");
	free(x.resp);
	return -1;
}

int line_client_get_sync(struct line_client *lc, const char *path, struct line_result *out,
			 char **body_out)
{
	if (lc == NULL || !path_ok(path)) {
		struct xfer x;

		memset(&x, 0, sizeof(x));
		xfer_reset(&x);
		*out = x.res;
		if (body_out != NULL)
			*body_out = NULL;
		str_msg(out->error, sizeof(out->error), "bad request path");
		return -1;
	}
	return line_client_request_sync(lc, "GET", path, NULL, NULL, 0, true, out, body_out);
}
