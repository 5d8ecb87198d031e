/*
 * liff — the pages residents open inside LINE (LIFF), under /liff/:
 * the 受信設定 page (segment registration) and its JSON API.
 *
 *   GET /liff/, /liff/app.js, /liff/style.css, /liff/sdk.js
 *                           static files from [webhook] liff_dir, read once
 *                           at start (sdk.js is @line/liff bundled by make)
 *   GET /liff/api/config    {"liffId"}: what liff.init() needs
 *   GET /liff/api/settings  every current segment item and value, with the
 *                           resident's choices and dates
 *   PUT /liff/api/settings  {"settings":{"item_key":["value_key"|"YYYY-MM-DD",…],…}}
 *                           replaces them all (an item left out is cleared)
 *
 * Who the resident is comes only from the LIFF ID token the page sends
 * (Authorization: Bearer), verified with LINE Login's
 * POST {line.api_base_url}/oauth2/v2.1/verify for client_id
 * {line.login_channel_id}; its "sub" is the LINE user id.  Nothing the page
 * says about a user id is trusted.  Verified tokens are remembered for a
 * minute at most (a bounded table of their SHA-256), never past their
 * expiry.  The resident must be a friend (residents.status active).
 *
 * Every /liff/ answer carries a Content-Security-Policy without inline
 * script, Referrer-Policy: no-referrer and X-Frame-Options: DENY (httpd adds
 * nosniff and Cache-Control: no-store).  Errors are JSON
 * {"error": code, "message": Japanese text for the page, "reasons": […]}.
 *
 * Thread-safety: called from the webhook's HTTP threads.  Database work
 * borrows a connection from the webhook's pool for the request; each
 * thread has its own LINE Login client (freed when the thread ends), and
 * the token cache is shared under a lock.  The configuration must outlive
 * the handle.
 */
#ifndef HL_WEBHOOK_LIFF_H
#define HL_WEBHOOK_LIFF_H

#include <stddef.h>

#include "config.h"
#include "dbpool.h"
#include "httpd.h"

struct liff;

/* A handle: the page files read from [webhook] liff_dir and the options of
 * the LINE Login clients (checked by making one).  Missing page files are logged and answered 503, so the webhook
 * itself still starts.  NULL with err when out of memory or the LINE
 * client cannot be made. */
struct liff *liff_new(const struct hl_config *cfg, char *err, size_t errlen);
void liff_free(struct liff *l);

/* Answer a request whose path starts with "/liff/"; with l NULL (liff_new()
 * failed at start-up) the answer is 503. */
void liff_handle(struct liff *l, struct dbpool *pool, const struct httpd_request *req,
		 struct httpd_reply *reply);

#endif
