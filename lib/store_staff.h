/*
 * store_staff — staff accounts in PostgreSQL.
 *
 * Every change to an account is written together with its audit_log row
 * in one statement, so there is never an account change without its trace.
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

#endif
