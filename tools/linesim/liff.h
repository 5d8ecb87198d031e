/*
 * liff — LINE Login ID tokens for simulated residents, as LIFF gets them.
 *
 * One struct liff holds an ES256 (P-256) signing key made at liff_new() and
 * its key id.  liff_issue_token() signs a compact JWS whose claims are what
 * LINE puts in a LIFF ID token; liff_route() serves the two LINE Login
 * endpoints a server uses to check one:
 *
 *   GET  /oauth2/v2.1/certs   the JWK set {"keys":[{"kty":"EC","crv":"P-256",…}]}
 *   POST /oauth2/v2.1/verify  form id_token, client_id[, nonce][, user_id]
 *                             → the claims, or 400 {"error":"invalid_request",
 *                               "error_description":"IdToken expired."} etc.
 *
 * The struct owns its key; strings returned by liff_issue_token() and the
 * reply JSON of liff_verify_form()/liff_certs_json() are malloc'd and the
 * caller's.  Errors: NULL, or an HTTP status with LINE's error JSON.
 * Not thread-safe; the simulator runs one request at a time.
 */
#ifndef HL_LINESIM_LIFF_H
#define HL_LINESIM_LIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "httpd.h"

struct liff;

/* Generates a P-256 key and its kid.  login_channel_id is copied (≤ 64 bytes). */
struct liff *liff_new(const char *login_channel_id);
void liff_free(struct liff *l);

/* A malloc'd compact JWS valid for an hour; nonce may be NULL.  NULL on error. */
char *liff_issue_token(struct liff *l, const char *user_id, const char *nonce);
/* The same with exp = now + ttl_seconds (negative for an already expired token). */
char *liff_issue_token_ttl(struct liff *l, const char *user_id, const char *nonce,
			   long ttl_seconds);

/* GET certs, POST verify; false (reply untouched) for any other path. */
bool liff_route(struct liff *l, const struct httpd_request *req, struct httpd_reply *reply);

/* The pure parts liff_route() calls, for tests.  Each returns an HTTP
 * status and sets *reply_json to a malloc'd body (NULL only on 500). */
int liff_certs_json(struct liff *l, char **reply_json);
int liff_verify_form(struct liff *l, const char *form, size_t len, char **reply_json);

#endif
