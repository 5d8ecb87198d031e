/*
 * api — what every hotline-admin endpoint module shares: the signed-in
 * call, JSON replies and errors, the request body, path parameters and the
 * audit log.
 *
 * api_auth.c owns the gate (session, CSRF, second factor).  A request that
 * passes it reaches api_route() with a struct api_call whose staff member
 * is signed in with MFA; each endpoint module (api_deliveries.c,
 * api_segments.c, ...) offers one `bool api_X_handle(struct api_call *)`
 * that answers the paths it owns and returns false for the others.
 *
 * Replies are JSON; errors are {"error": code, "message": Japanese text
 * for staff} (docs/api.md).  Handlers run on httpd's single thread with
 * the daemon's one database connection.
 */
#ifndef HL_ADMIN_API_H
#define HL_ADMIN_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "db.h"
#include "httpd.h"
#include "status.h"
#include "store_staff.h"

/* Bodies of ordinary API requests (deliveries, rules, segments); the
 * daemon refuses anything over ADMIN_MAX_BODY before it is buffered. */
#define API_BODY_MAX (256 * 1024)

struct api_call {
	const struct httpd_request *req;
	struct httpd_reply *reply;
	struct db *db;
	const struct hl_config *cfg;
	const char *method, *path;
	const char *ip;	   /* the client's address, or NULL when unknown */
	const char *agent; /* User-Agent, or NULL */
	/* The signed-in member of staff (MFA passed).  NULL only inside
	 * api_auth.c before sign-in. */
	const struct staff_account *staff;
};

/* The client's address: the peer's, or behind this host's TLS proxy (a
 * loopback peer, with [admin] forwarded_for on) the last X-Forwarded-For
 * entry.  False when unknown (a Unix socket, a malformed header). */
bool api_client_addr(const struct hl_config *cfg, const struct httpd_request *req, char *out,
		     size_t size);

/* Reply with v (taken: decref'd), serialised compactly. */
void api_reply_json(struct api_call *c, int status, json_t *v);
/* {"error": code, "message": msg}. */
void api_reply_error(struct api_call *c, int status, const char *code, const char *msg);
/* 503 unavailable after a database failure (logged). */
void api_reply_tempfail(struct api_call *c);
/* 403 forbidden: the account's role or scope does not allow this. */
void api_reply_forbidden(struct api_call *c, const char *msg);

/* The request body as a JSON object (at most max bytes), or NULL after a
 * 400/413 reply. */
json_t *api_body_object(struct api_call *c, size_t max);

/* A string member, or NULL when absent or not a string. */
const char *api_field(json_t *o, const char *name);

/* True when the method is method and the path is exactly path. */
bool api_is(const struct api_call *c, const char *method, const char *path);
/* True when the method is method and the path is prefix followed by a
 * positive decimal id and then exactly suffix ("" for none):
 * api_id(c, "POST", "/api/deliveries/", "/cancel", &id). */
bool api_id(const struct api_call *c, const char *method, const char *prefix, const char *suffix,
	    long long *id);

/* True for 管理者. */
bool api_is_admin(const struct api_call *c);

/* Record a staff action in the audit log, as the signed-in staff member
 * (or actor_id/actor when staff is NULL): action "delivery.send",
 * target "delivery:12" or NULL, detail taken (decref'd; NULL = {}).
 * False when it could not be written (logged): callers that must not act
 * unaudited check it. */
bool api_audit(struct api_call *c, const char *action, const char *target, json_t *detail);
bool api_audit_as(struct api_call *c, long long actor_id, const char *actor, const char *action,
		  const char *target, json_t *detail);

/* --- request checking ---------------------------------------------------
 * Each helper answers 400 invalid naming the field (or 503/500 after a
 * database failure) and returns false, so a handler just returns when a
 * helper says no. */

/* 400 {"error":"invalid","message":msg,"field":field}. */
void api_invalid(struct api_call *c, const char *field, const char *msg);

/* 403 for a 一般職員 on a 管理者-only endpoint; false when it answered. */
bool api_need_admin(struct api_call *c);

/* After a store verb failed: 503 for HL_TEMPFAIL, 500 otherwise (both
 * logged without personal data). */
void api_db_failed(struct api_call *c, enum hl_status st);

/* Reply with JSON text made by a store (taken). */
void api_reply_text(struct api_call *c, int status, char *json);

/* BEGIN / COMMIT on c->db; false after answering 503 (COMMIT rolls back). */
bool api_begin(struct api_call *c);
bool api_commit(struct api_call *c);

/* A text member: absent (or null) gives *out NULL unless required; else it
 * must be a string of 1..max characters (0..max when allow_empty) of valid
 * UTF-8 without control characters, and not blank. */
bool api_text(struct api_call *c, json_t *body, const char *name, const char *what, size_t max,
	      bool required, bool allow_empty, const char **out);

/* A boolean member: *out -1 when absent, else 0 or 1. */
bool api_bool(struct api_call *c, json_t *body, const char *name, const char *what, int *out);

/* An integer member in [min, max]: *has false when absent. */
bool api_int(struct api_call *c, json_t *body, const char *name, const char *what, long long min,
	     long long max, bool *has, long long *out);

/* ?name= as an integer in [min, max], def when absent. */
bool api_query_int(struct api_call *c, const char *name, long long min, long long max,
		   long long def, long long *out);

/* The members whose values differ between two JSON objects, as
 * {"before":{...},"after":{...}} (a new reference). */
json_t *api_changes(json_t *before, json_t *after);

/* Every endpoint after the gate: tries each module in turn and answers
 * 404 not_found when none owns the path (admin/api_route.c). */
void api_route(struct api_call *c);

#endif
