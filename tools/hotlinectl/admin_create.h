/*
 * admin_create — `hotlinectl admin create`: the first 管理者 account.
 *
 * The password comes from `in`: asked twice without echo when it is a
 * terminal, else its first line.  It is checked (password_weakness()),
 * hashed with PBKDF2 and never printed or logged.  The account must enrol
 * TOTP at its first sign-in.  The creation is written to the audit log.
 */
#ifndef HL_ADMIN_CREATE_H
#define HL_ADMIN_CREATE_H

#include <stdio.h>

#include "db.h"

struct admin_create_args {
	const char *login;
	const char *display_name;
	const char *department;
};

/* 0, or -1 with the reason printed to stderr. */
int admin_create(struct db *db, const struct admin_create_args *a, FILE *in);

#endif
