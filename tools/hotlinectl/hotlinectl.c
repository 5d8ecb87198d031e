/*
 * hotlinectl — the operator's tool.
 *
 *   hotlinectl [-c FILE] migrate [--status]
 *   hotlinectl [-c FILE] admin create LOGIN [--name NAME] [--department DEPT]
 *   hotlinectl [-c FILE] audit verify
 *   hotlinectl [-c FILE] rules test MAIL_FILE [--from SENDER]
 *   hotlinectl [-c FILE] mail send MAIL_FILE [--lmtp ADDR] [--from SENDER] [--to RCPT]...
 *   hotlinectl [-c FILE] richmenu render|validate|publish|switch|status ...
 *   hotlinectl [-c FILE] check-config
 *   hotlinectl version | help
 *
 * It connects as the database owner ([database] owner_user, or libpq's
 * default), never as a daemon's role, and reports in plain text for a
 * person at a terminal: errors to stderr, exit status 1 (2 for usage).
 * Later issues add backup, restore, export, audit verify, rules test, mail
 * send and richmenu.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin_create.h"
#include "audit.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "mail_send.h"
#include "migrate.h"
#include "richmenu.h"
#include "rules_test.h"

#ifndef HL_VERSION
#define HL_VERSION "dev"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: hotlinectl [-c FILE] COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  migrate [--status]        apply pending database migrations (or list them)\n"
		"  admin create LOGIN [--name NAME] [--department DEPT]\n"
		"                            create a 管理者 account; the password is read from\n"
		"                            standard input (asked twice on a terminal)\n"
		"  audit verify              recompute the audit log's hash chain; exit 1 if\n"
		"                            a row was altered or removed\n"
		"  rules test MAIL_FILE [--from SENDER]\n"
		"                            show what the mail rules make of a mail (text,\n"
		"                            target, trace) without storing or sending it;\n"
		"                            SENDER defaults to the mail's From address\n"
		"  mail send MAIL_FILE [--lmtp ADDR] [--from SENDER] [--to RCPT]...\n"
		"                            hand a mail file to hotline-lmtpd by LMTP (ADDR\n"
		"                            defaults to [lmtp] listen; SENDER to the mail's\n"
		"                            From address; RCPT, repeatable, to\n"
		"                            hotlinectl@localhost) and print each recipient's\n"
		"                            reply; exit 0 accepted, 75 try again later (4xx,\n"
		"                            or no receiver), 65 refused (5xx)\n"
		"  richmenu render LAYOUT [--tab N] [--png OUT] [--svg OUT]\n"
		"  richmenu validate LAYOUT  draw or check a rich menu layout (no LINE)\n"
		"  richmenu publish LAYOUT   upload a rich menu set to LINE\n"
		"  richmenu switch normal|disaster\n"
		"                            show that set to every resident\n"
		"  richmenu status           the rich menu sets and which is shown\n"
		"  check-config              check the configuration file and exit\n"
		"  version                   print the version\n"
		"\n"
		"  -c FILE  configuration file (default: $HOTLINE_CONFIG or %s)\n",
		HL_CONFIG_DEFAULT_PATH);
}

static struct db *open_owner_db(const struct hl_config *cfg)
{
	struct db_params p = {
		.conninfo = cfg->database.conninfo,
		.user = cfg->database.owner_user,
		.app_name = "hotlinectl",
		.connect_timeout_s = cfg->database.connect_timeout,
		/* Migrations may rewrite large tables: no statement timeout. */
		.statement_timeout_ms = 0,
	};
	char err[512];
	struct db *db = db_open(&p, err, sizeof(err));

	if (db == NULL)
		fprintf(stderr, "hotlinectl: %s\n", err);
	return db;
}

static int cmd_migrate(struct hl_config *cfg, int argc, char **argv)
{
	bool status_only = false;
	struct db *db;
	int rc;

	if (argc == 2 && strcmp(argv[1], "--status") == 0)
		status_only = true;
	else if (argc != 1) {
		usage(stderr);
		return 2;
	}
	db = open_owner_db(cfg);
	if (db == NULL)
		return 1;
	rc = migrate_run(db, cfg->database.migrations_dir, status_only);
	db_free(db);
	return rc == 0 ? 0 : 1;
}

static int cmd_admin(struct hl_config *cfg, int argc, char **argv)
{
	struct admin_create_args a = {NULL, NULL, ""};
	struct db *db;
	int i, rc;

	if (argc < 3 || strcmp(argv[1], "create") != 0) {
		usage(stderr);
		return 2;
	}
	a.login = argv[2];
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			a.display_name = argv[++i];
		else if (strcmp(argv[i], "--department") == 0 && i + 1 < argc)
			a.department = argv[++i];
		else {
			fprintf(stderr, "hotlinectl: admin create: unexpected argument '%s'\n",
				argv[i]);
			return 2;
		}
	}
	if (a.display_name == NULL)
		a.display_name = a.login;
	db = open_owner_db(cfg);
	if (db == NULL)
		return 1;
	rc = admin_create(db, &a, stdin);
	db_free(db);
	return rc == 0 ? 0 : 1;
}

static int cmd_audit(struct hl_config *cfg, int argc, char **argv)
{
	struct db *db;
	int rc;

	if (argc != 2 || strcmp(argv[1], "verify") != 0) {
		usage(stderr);
		return 2;
	}
	db = open_owner_db(cfg);
	if (db == NULL)
		return 1;
	rc = audit_verify_cmd(db, stdout);
	db_free(db);
	return rc;
}

static int cmd_rules(struct hl_config *cfg, int argc, char **argv)
{
	const char *from = NULL;
	struct db *db;
	int rc;

	if (argc == 5 && strcmp(argv[3], "--from") == 0)
		from = argv[4];
	else if (argc != 3) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "test") != 0) {
		usage(stderr);
		return 2;
	}
	db = open_owner_db(cfg);
	if (db == NULL)
		return 1;
	rc = rules_test(db, argv[2], from, stdout);
	db_free(db);
	return rc == 0 ? 0 : 1;
}

/* `mail send`: exits with mail_send()'s sysexits code, 2 on bad usage. */
static int cmd_mail(struct hl_config *cfg, int argc, char **argv)
{
	struct mail_send_args a = {
		.addr = cfg->lmtp.listen,
		.timeout_seconds = 60,
	};
	const char **to;
	int i, rc;

	if (argc < 3 || strcmp(argv[1], "send") != 0) {
		usage(stderr);
		return 2;
	}
	to = calloc((size_t)argc, sizeof(*to));
	if (to == NULL) {
		fprintf(stderr, "hotlinectl: out of memory\n");
		return 1;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--lmtp") == 0 && i + 1 < argc)
			a.addr = argv[++i];
		else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
			a.from = argv[++i];
		else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			to[a.nto++] = argv[++i];
		else if (a.path == NULL && argv[i][0] != '-')
			a.path = argv[i];
		else {
			fprintf(stderr, "hotlinectl: mail send: unexpected argument '%s'\n",
				argv[i]);
			free(to);
			return 2;
		}
	}
	if (a.path == NULL) {
		usage(stderr);
		free(to);
		return 2;
	}
	if (a.nto == 0)
		to[a.nto++] = "hotlinectl@localhost";
	a.to = to;
	rc = mail_send(&a, stdout);
	free(to);
	return rc;
}

int main(int argc, char **argv)
{
	const char *conf_arg = NULL;
	struct hl_config *cfg;
	char err[1024];
	int opt, rc;

	while ((opt = getopt(argc, argv, "+c:h")) != -1) {
		switch (opt) {
		case 'c':
			conf_arg = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[0], "help") == 0) {
		usage(stdout);
		return 0;
	}
	/* richmenu loads the configuration itself: render and validate need none. */
	if (strcmp(argv[0], "richmenu") == 0)
		return richmenu_main(conf_arg, argc, argv);
	if (strcmp(argv[0], "version") == 0) {
		printf("hotlinectl %s\n", HL_VERSION);
		return 0;
	}
	cfg = config_load(config_path(conf_arg), err, sizeof(err));
	if (cfg == NULL) {
		fprintf(stderr, "hotlinectl: %s\n", err);
		return 1;
	}
	log_open("hotlinectl", (enum log_level)cfg->log.level, NULL);
	if (strcmp(argv[0], "check-config") == 0) {
		printf("%s: configuration ok\n", config_path(conf_arg));
		rc = 0;
	} else if (strcmp(argv[0], "migrate") == 0) {
		rc = cmd_migrate(cfg, argc, argv);
	} else if (strcmp(argv[0], "admin") == 0) {
		rc = cmd_admin(cfg, argc, argv);
	} else if (strcmp(argv[0], "audit") == 0) {
		rc = cmd_audit(cfg, argc, argv);
	} else if (strcmp(argv[0], "rules") == 0) {
		rc = cmd_rules(cfg, argc, argv);
	} else if (strcmp(argv[0], "mail") == 0) {
		rc = cmd_mail(cfg, argc, argv);
	} else {
		fprintf(stderr, "hotlinectl: unknown command '%s'\n", argv[0]);
		usage(stderr);
		rc = 2;
	}
	config_free(cfg);
	return rc;
}
