/*
 * hotline-webhook — the resident-facing server: LINE's webhook and the
 * pages residents open inside LINE.
 *
 * It faces the internet, so it holds only the channel secret (to verify
 * X-Line-Signature) and connects as hotline_webhook, a role that cannot
 * read staff accounts or mail.  Today it serves GET /healthz; webhook
 * events and the 受信設定 page arrive with their issue.
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

#define PROG "hotline-webhook"

struct webhook {
	struct db *db;
	char *channel_secret;
};

static void route(void *ctx, const struct httpd_request *req, struct httpd_reply *reply)
{
	struct webhook *w = ctx;

	if (strcmp(httpd_path(req), "/healthz") == 0 && strcmp(httpd_method(req), "GET") == 0) {
		health_reply(w->db, reply);
		return;
	}
	httpd_reply_static(reply, 404, "text/plain; charset=utf-8", "not found\n");
}

int main(int argc, char **argv)
{
	struct webhook w = {NULL, NULL};
	struct hl_config *cfg;
	struct httpd *http;
	char err[512];
	bool check_only;
	int sfd, sig;

	cfg = daemon_init(PROG, "LINE webhook and resident pages.", argc, argv, &check_only);
	w.channel_secret = daemon_secret(PROG, cfg, HL_SECRET_LINE_CHANNEL_SECRET);
	if (check_only) {
		printf("%s: configuration ok\n", PROG);
		goto done;
	}
	sfd = daemon_signals();
	w.db = daemon_db(PROG, cfg, cfg->webhook.db_user);
	http = httpd_start(cfg->webhook.listen, (size_t)cfg->webhook.max_body_bytes, route, &w, err,
			   sizeof(err));
	if (http == NULL)
		log_fatal("cannot start", "error=\"%s\"", err);
	log_info("listening", "addr=%s role=%s", cfg->webhook.listen, cfg->webhook.db_user);
	sig = daemon_wait_for_stop(sfd);
	log_info("stopping", "signal=%d", sig);
	httpd_stop(http);
	db_free(w.db);
done:
	str_wipe(w.channel_secret, strlen(w.channel_secret));
	free(w.channel_secret);
	config_free(cfg);
	return 0;
}
