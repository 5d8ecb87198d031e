/*
 * store_staff — staff accounts in PostgreSQL.
 *
 * Every change to an account is written together with its audit_log row
 * in one statement, so there is never an account change without its trace.
 * The sign-in verbs below (failure counts, TOTP steps, sessions) are
 * bookkeeping of the sign-in itself: hotline-admin writes their audit rows
 * (store_audit) as it decides each attempt.
 */
#ifndef HL_STORE_STAFF_H
#define HL_STORE_STAFF_H

#include <stdbool.h>

#include "db.h"
#include "status.h"

enum staff_role {
	STAFF_ROLE_ADMIN, /* 管理者: everything */
	STAFF_ROLE_STAFF, /* 一般職員: limited functions and segments */
};

struct staff_new {
	const char *login;
	const char *display_name;
	const char *department;
	enum staff_role role;
	const char *password_hash; /* password_hash()'s stored form */
};

/* Create an account; actor names who did it in the audit log.  A taken
 * login is HL_PERMFAIL. */
enum hl_status store_staff_create(struct db *db, const struct staff_new *s, const char *actor,
				  long long *id);

/* Whether an account with this login exists (false on error too). */
bool store_staff_exists(struct db *db, const char *login);

/* --- sign-in -------------------------------------------------------------- */

#define STAFF_TOTP_SEALED_MAX 64 /* bytes of staff.totp_secret read back */

/* An account as sign-in needs it. */
struct staff_account {
	long long id;
	char login[65];
	char display_name[401]; /* 100 characters of UTF-8 */
	char department[401];	/* "" when none */
	enum staff_role role;
	char password_hash[256];
	unsigned char totp_sealed[STAFF_TOTP_SEALED_MAX];
	size_t totp_sealed_len; /* 0: no secret stored */
	bool totp_enabled;
	long long totp_last_step; /* -1: none */
	long long failed_logins;
	long long locked_for; /* seconds the lockout still lasts; 0: not locked */
	bool disabled;
};

/* Look an account up by login or by id; *found false when there is none. */
enum hl_status store_staff_by_login(struct db *db, const char *login, struct staff_account *out,
				    bool *found);
enum hl_status store_staff_by_id(struct db *db, long long id, struct staff_account *out,
				 bool *found);

/* Count a failed sign-in.  From the threshold-th consecutive failure on the
 * account is locked for base seconds, doubling with each further failure,
 * at most max seconds; *locked_for says for how long (0: not locked). */
enum hl_status store_staff_login_failed(struct db *db, long long id, long long threshold,
					long long base, long long max, long long *locked_for);

/* The same per client address (staff_login_failures): count a failure, and
 * how long sign-in from ip is still refused (0: not). */
enum hl_status store_staff_ip_failed(struct db *db, const char *ip, long long threshold,
				     long long base, long long max, long long *locked_for);
enum hl_status store_staff_ip_locked(struct db *db, const char *ip, long long *locked_for);

/* A successful sign-in: clear the failure count and lockout. */
enum hl_status store_staff_login_ok(struct db *db, long long id);

/* Store a sealed TOTP secret for an account that has not enrolled yet
 * (replacing an earlier unconfirmed one); HL_PERMFAIL if it has enrolled. */
enum hl_status store_staff_totp_begin(struct db *db, long long id, const unsigned char *sealed,
				      size_t len);

/* Record step as the last accepted TOTP step unless it is not newer than
 * the stored one (a replay, or a concurrent use): *accepted says which. */
enum hl_status store_staff_totp_use(struct db *db, long long id, long long step, bool *accepted);

/* Confirm enrolment: TOTP on, last step recorded, and the recovery codes
 * replaced by n new hashes (password_hash()'s stored form), in one
 * transaction.  *accepted false when step is not newer (a replay). */
enum hl_status store_staff_totp_enable(struct db *db, long long id, long long step,
				       const char *const *code_hashes, size_t n, bool *accepted);

/* Use a recovery code: the first unused code of the account whose hash
 * matches code is marked used; *accepted says whether one did. */
enum hl_status store_staff_recovery_use(struct db *db, long long id, const char *code,
					bool *accepted);

/* --- sessions ---------------------------------------------------------------
 * Only SHA-256 hashes of the session id and of its CSRF token are stored. */

struct staff_session {
	long long staff_id;
	bool mfa; /* a second factor was accepted in this session */
};

enum hl_status store_staff_session_create(struct db *db, const unsigned char id_hash[32],
					  long long staff_id, const unsigned char csrf_hash[32],
					  bool mfa, long long max_age, const char *ip,
					  const char *user_agent);

/* The live session with this id hash, its last use moved to now; *found
 * false when there is none or it is past the idle or absolute timeout or
 * its account is disabled. */
enum hl_status store_staff_session_touch(struct db *db, const unsigned char id_hash[32],
					 long long idle_timeout, struct staff_session *out,
					 bool *found);

/* Mark the session as having passed the second factor. */
enum hl_status store_staff_session_mfa(struct db *db, const unsigned char id_hash[32]);

/* End a session (no error when it does not exist). */
enum hl_status store_staff_session_delete(struct db *db, const unsigned char id_hash[32]);

/* Delete sessions past their idle or absolute timeout. */
enum hl_status store_staff_session_expire(struct db *db, long long idle_timeout);

/* --- administration (hotline-admin's 職員管理) ----------------------------
 * These verbs write no audit row themselves: hotline-admin runs them in a
 * transaction together with its own audit rows (with the client address),
 * so the change and its trace still commit together. */

/* Accounts as a JSON array (malloc'd), one statement for any number of
 * accounts: [{"id","login","display_name","department" (or null),"role":
 * "admin|staff","mfa_enrolled","disabled","locked","last_login_at" (ISO
 * 8601 in Japan time, or null),"scope":[value ids]}], ordered by
 * department then login.  Only account id when id > 0 ("[]" when none). */
enum hl_status store_staff_list_json(struct db *db, long long id, char **json);

/* Current departments as a JSON array [{"id","name"}] by name. */
enum hl_status store_staff_departments_json(struct db *db, char **json);

enum staff_outcome {
	STAFF_DONE,
	STAFF_NOT_FOUND,
	STAFF_LOGIN_TAKEN,
	STAFF_BAD_SCOPE, /* a scope value id that does not exist */
	STAFF_INVALID	 /* a CHECK constraint refused it (the caller validates first) */
};

/* Create an account (department created when new, "" for none). */
enum hl_status store_staff_insert(struct db *db, const struct staff_new *s, long long *id,
				  enum staff_outcome *outcome);

/* A partial change: NULL / -1 = unchanged. */
struct staff_change {
	const char *display_name;
	const char *department; /* "" = none; a new name creates the department */
	int role;		/* -1 or enum staff_role */
	int disabled;		/* -1, 0 (enable), 1 (disable) */
	const char *password_hash;
};

/* Change an account.  A new password also clears the failure count and
 * lockout.  Sessions are not touched: see store_staff_sessions_end(). */
enum hl_status store_staff_update(struct db *db, long long id, const struct staff_change *ch,
				  enum staff_outcome *outcome);

/* How many other accounts are enabled 管理者, locking them until the end
 * of the transaction (so two admins cannot demote each other at once). */
enum hl_status store_staff_other_admins(struct db *db, long long id, long long *n);

/* Replace an account's scope (staff_segment_scope) by values[0..n). */
enum hl_status store_staff_scope_set(struct db *db, long long id, const long long *values, size_t n,
				     long long granted_by, enum staff_outcome *outcome);

/* Delete every session of an account (disabled, password reset). */
enum hl_status store_staff_sessions_end(struct db *db, long long id);

#endif
