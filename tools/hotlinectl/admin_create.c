/*
 * admin_create — creating a 管理者 from the command line; see admin_create.h.
 */
#include "admin_create.h"

#include <stdbool.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "password.h"
#include "store_staff.h"
#include "str.h"

/* Read one line without its newline; false on EOF, error or overlong. */
static bool read_line(FILE *in, char *buf, size_t size)
{
	size_t n;

	if (fgets(buf, (int)size, in) == NULL)
		return false;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (!feof(in))
		return false; /* longer than the buffer */
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return true;
}

/* Prompt on the terminal with echo off. */
static bool ask_hidden(FILE *in, const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	bool ok;

	fputs(prompt, stderr);
	fflush(stderr);
	if (tcgetattr(fileno(in), &old) != 0)
		return false;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(in), TCSAFLUSH, &quiet);
	ok = read_line(in, buf, size);
	tcsetattr(fileno(in), TCSAFLUSH, &old);
	fputc('\n', stderr);
	return ok;
}

static bool valid_login(const char *s)
{
	size_t n = strlen(s);

	if (n < 3 || n > 64)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '_' || *s == '-'))
			return false;
	return true;
}

int admin_create(struct db *db, const struct admin_create_args *a, FILE *in)
{
	char pw[PASSWORD_MAX_LENGTH + 2], again[PASSWORD_MAX_LENGTH + 2];
	char hash[PASSWORD_HASH_SIZE];
	const char *weak;
	long long id = 0;
	enum hl_status st;
	int rc = -1;

	pw[0] = again[0] = '\0';
	if (!valid_login(a->login)) {
		fprintf(stderr,
			"hotlinectl: login '%s' is not valid: use 3-64 characters of "
			"a-z, 0-9, '.', '_' and '-'\n",
			a->login);
		return -1;
	}
	if (strlen(a->display_name) > 100 || strlen(a->department) > 100) {
		fprintf(stderr, "hotlinectl: --name and --department take at most 100 bytes\n");
		return -1;
	}
	if (isatty(fileno(in))) {
		if (!ask_hidden(in, "パスワード: ", pw, sizeof(pw)) ||
		    !ask_hidden(in, "パスワード（確認）: ", again, sizeof(again))) {
			fprintf(stderr, "hotlinectl: no password was entered\n");
			goto done;
		}
		if (strcmp(pw, again) != 0) {
			fprintf(stderr, "hotlinectl: the two passwords differ\n");
			goto done;
		}
	} else if (!read_line(in, pw, sizeof(pw))) {
		fprintf(stderr,
			"hotlinectl: expected the password on the first line of standard "
			"input (at most %d bytes)\n",
			PASSWORD_MAX_LENGTH);
		goto done;
	}
	weak = password_weakness(pw);
	if (weak != NULL) {
		fprintf(stderr, "hotlinectl: %s\n", weak);
		goto done;
	}
	if (password_hash(pw, hash) != 0) {
		fprintf(stderr, "hotlinectl: cannot hash the password (OpenSSL failure)\n");
		goto done;
	}
	st = store_staff_create(db,
				&(struct staff_new){.login = a->login,
						    .display_name = a->display_name,
						    .department = a->department,
						    .role = STAFF_ROLE_ADMIN,
						    .password_hash = hash},
				"hotlinectl", &id);
	if (st == HL_PERMFAIL && store_staff_exists(db, a->login)) {
		fprintf(stderr, "hotlinectl: an account named '%s' already exists\n", a->login);
		goto done;
	}
	if (st != HL_OK) {
		fprintf(stderr, "hotlinectl: cannot create the account: %s\n", db_error(db));
		goto done;
	}
	printf("管理者アカウント '%s' を作成しました (id %lld)。初回ログイン時に二要素認証 (TOTP) "
	       "の登録が必要です。\n",
	       a->login, id);
	rc = 0;
done:
	str_wipe(pw, sizeof(pw));
	str_wipe(again, sizeof(again));
	str_wipe(hash, sizeof(hash));
	return rc;
}
