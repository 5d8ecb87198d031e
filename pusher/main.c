/*
 * hotline-pusher — fans queued deliveries out to residents through the
 * LINE Messaging API.
 *
 * It holds only the channel access token and connects as hotline_pusher,
 * which reads targeting data and writes delivery state, nothing else.
 * Today it checks its configuration and token and serves /healthz and
 * /metrics on a local port; the fan-out arrives with its issue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "health.h"
#include "httpd.h"
#include "log.h"
#include "str.h"

#define PROG "hotline-pusher"

static void route(void *ctx, const struct httpd_request *req, struct httpd_reply *reply)
{
	struct db *db = ctx;
	const char *path = httpd_path(req);

	if (strcmp(httpd_method(req), "GET") != 0) {
		httpd_reply_static(reply, 405, "text/plain; charset=utf-8", "method not allowed\n");
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		health_reply(db, reply);
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		/* Prometheus text format, version 0.0.4. */
		httpd_reply_static(
			reply, 200, "text/plain; version=0.0.4",
			db_ping(db) == HL_OK
				? "# HELP hotline_database_up Whether PostgreSQL answers.\n"
				  "# TYPE hotline_database_up gauge\n"
				  "hotline_database_up 1\n"
				: "# HELP hotline_database_up Whether PostgreSQL answers.\n"
				  "# TYPE hotline_database_up gauge\n"
				  "hotline_database_up 0\n");
		return;
	}
	httpd_reply_static(reply, 404, "text/plain; charset=utf-8", "not found\n");
}

/* Metrics requests are bodiless GETs. */
#define PUSHER_MAX_BODY 1024

int main(int argc, char **argv)
{
	struct hl_config *cfg;
	struct httpd *http;
	struct db *db;
	char *token;
	char err[512];
	bool check_only;
	int sfd, sig;

	cfg = daemon_init(PROG, "LINE fan-out worker.", argc, argv, &check_only);
	token = daemon_secret(PROG, cfg, HL_SECRET_LINE_CHANNEL_TOKEN);
	if (check_only) {
		printf("%s: configuration ok\n", PROG);
		goto done;
	}
	sfd = daemon_signals();
	db = daemon_db(PROG, cfg, cfg->pusher.db_user);
	http = httpd_start(cfg->pusher.metrics_listen, PUSHER_MAX_BODY, route, db, err,
			   sizeof(err));
	if (http == NULL)
		log_fatal("cannot start", "error=\"%s\"", err);
	log_info("listening", "addr=%s role=%s line_api=%s", cfg->pusher.metrics_listen,
		 cfg->pusher.db_user, cfg->line.api_base_url);
	sig = daemon_wait_for_stop(sfd);
	log_info("stopping", "signal=%d", sig);
	httpd_stop(http);
	db_free(db);
done:
	str_wipe(token, strlen(token));
	free(token);
	config_free(cfg);
	return 0;
}
