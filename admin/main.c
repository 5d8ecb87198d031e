/*
 * hotline-admin — the staff server: accounts, deliveries, segments, mail
 * rules and the audit log, in Japanese, for the city's internal network.
 *
 * It holds no LINE secret and connects as hotline_admin, which may append
 * to the audit log but never change it.  Today it serves GET /healthz; the
 * API and UI arrive with their issue.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "health.h"
#include "httpd.h"
#include "log.h"

#define PROG "hotline-admin"

/* Largest request body the staff API accepts (forms, rule edits). */
#define ADMIN_MAX_BODY (1024 * 1024)

static void route(void *ctx, const struct httpd_request *req, struct httpd_reply *reply)
{
	struct db *db = ctx;

	if (strcmp(httpd_path(req), "/healthz") == 0 && strcmp(httpd_method(req), "GET") == 0) {
		health_reply(db, reply);
		return;
	}
	httpd_reply_static(reply, 404, "text/plain; charset=utf-8", "not found\n");
}

int main(int argc, char **argv)
{
	struct hl_config *cfg;
	struct httpd *http;
	struct db *db;
	char err[512];
	bool check_only;
	int sfd, sig;

	cfg = daemon_init(PROG, "Staff administration server.", argc, argv, &check_only);
	if (check_only) {
		printf("%s: configuration ok\n", PROG);
		config_free(cfg);
		return 0;
	}
	sfd = daemon_signals();
	db = daemon_db(PROG, cfg, cfg->admin.db_user);
	http = httpd_start(cfg->admin.listen, ADMIN_MAX_BODY, route, db, err, sizeof(err));
	if (http == NULL)
		log_fatal("cannot start", "error=\"%s\"", err);
	log_info("listening", "addr=%s role=%s", cfg->admin.listen, cfg->admin.db_user);
	sig = daemon_wait_for_stop(sfd);
	log_info("stopping", "signal=%d", sig);
	httpd_stop(http);
	db_free(db);
	config_free(cfg);
	return 0;
}
