/*
 * hotline-pusher — fans queued deliveries out to residents through the
 * LINE Messaging API.
 *
 * It holds only the channel access token and connects as hotline_pusher,
 * which reads targeting data and writes delivery state, nothing else.  The
 * fan-out loop (pusher.c) runs in the main thread with its own database
 * connection; /healthz and /metrics are served from libmicrohttpd's thread
 * with a second connection (struct db is not thread-safe).
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
#include "metrics.h"
#include "pusher.h"
#include "str.h"

#define PROG "hotline-pusher"

struct http_ctx {
	struct db *db;
	struct metrics *m;
};

static void route(void *arg, const struct httpd_request *req, struct httpd_reply *reply)
{
	struct http_ctx *ctx = arg;
	const char *path = httpd_path(req);
	char *text;

	if (strcmp(httpd_method(req), "GET") != 0) {
		httpd_reply_static(reply, 405, "text/plain; charset=utf-8", "method not allowed\n");
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		health_reply(ctx->db, reply);
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		text = metrics_render(ctx->m, db_ping(ctx->db) == HL_OK);
		if (text == NULL) {
			httpd_reply_static(reply, 503, "text/plain; charset=utf-8",
					   "out of memory\n");
			return;
		}
		/* Prometheus text format, version 0.0.4. */
		httpd_reply_owned(reply, 200, "text/plain; version=0.0.4", text, strlen(text));
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
	struct http_ctx ctx;
	struct metrics metrics;
	struct pusher *pusher;
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
	metrics_init(&metrics);
	db = daemon_db(PROG, cfg, cfg->pusher.db_user);
	ctx.db = daemon_db(PROG, cfg, cfg->pusher.db_user);
	ctx.m = &metrics;
	pusher = pusher_new(cfg, db, daemon_db(PROG, cfg, cfg->pusher.db_user), token, &metrics,
			    err, sizeof(err));
	if (pusher == NULL)
		log_fatal("cannot start", "error=\"%s\"", err);
	http = httpd_start(cfg->pusher.metrics_listen, PUSHER_MAX_BODY, route, &ctx, err,
			   sizeof(err));
	if (http == NULL)
		log_fatal("cannot start", "error=\"%s\"", err);
	log_info("listening",
		 "addr=%s role=%s line_api=%s max_in_flight=%lld multicast_per_second=%lld",
		 cfg->pusher.metrics_listen, cfg->pusher.db_user, cfg->line.api_base_url,
		 cfg->pusher.max_in_flight, cfg->pusher.multicast_per_second);
	sig = pusher_run(pusher, sfd);
	log_info("stopping", "signal=%d", sig);
	httpd_stop(http);
	pusher_free(pusher);
	db_free(ctx.db);
	db_free(db);
done:
	str_wipe(token, strlen(token));
	free(token);
	config_free(cfg);
	return 0;
}
