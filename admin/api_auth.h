/*
 * api_auth — hotline-admin's JSON API for signing in: password, TOTP second
 * factor, recovery codes, sessions, CSRF, lockout and enrolment.
 *
 *   POST /api/login            {login, password}
 *   POST /api/login/totp       {code}  (a TOTP code or a recovery code)
 *   POST /api/logout
 *   GET  /api/me
 *   POST /api/me/totp/begin
 *   POST /api/me/totp/confirm  {code}
 *
 * Every other /api/ path passes the same gate (a session; the CSRF header
 * on anything but GET/HEAD; a second factor enrolled and passed) before it
 * is routed, so endpoints added later inherit it: today they answer 404.
 * Sessions live in staff_sessions (hashes only); the cookie is hl_session.
 * Replies are JSON, errors {"error": code, "message": Japanese text}.
 *
 * The module owns neither the database handle nor the config; both must
 * outlive it.  Handlers run on httpd's single internal thread.
 */
#ifndef HL_ADMIN_API_AUTH_H
#define HL_ADMIN_API_AUTH_H

#include "config.h"
#include "db.h"
#include "httpd.h"

struct api_auth;

/* totp_key: 32 bytes sealing TOTP secrets (copied), or NULL when none is
 * configured (enrolment then answers 503; sign-in of enrolled accounts
 * too).  NULL when out of memory. */
struct api_auth *api_auth_new(struct db *db, const struct hl_config *cfg,
			      const unsigned char *totp_key);
void api_auth_free(struct api_auth *a);

/* Answer a request whose path starts with /api/. */
void api_auth_handle(struct api_auth *a, const struct httpd_request *req,
		     struct httpd_reply *reply);

/* The security headers every answer of hotline-admin carries (CSP,
 * frame-ancestors, X-Frame-Options, Referrer-Policy); httpd adds nosniff
 * and no-store itself. */
void api_security_headers(struct httpd_reply *reply);

#endif
