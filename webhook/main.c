/*
 * hotline-webhook — the resident-facing server: LINE's webhook and the
 * pages residents open inside LINE.
 *
 * It faces the internet, so it holds only the channel secret (to verify
 * X-Line-Signature) and connects as hotline_webhook, a role that cannot
 * read staff accounts or mail, and it never holds the access token: replies
 * are queued in the database for hotline-pusher.
 *
 *   POST /webhook   verify the signature on the raw body (before parsing
 *                   anything), parse and check the events (events.c),
 *                   store them in one statement, answer 200, and wake the
 *                   worker (worker.c), which handles them afterwards.
 *                   401/400 bad signature or body, 413 too large (httpd),
 *                   503 database unreachable (LINE redelivers).
 *   GET /healthz    200 when the database answers, 503 otherwise.
 *
 * The HTTP threads hand events to the intake (intake.c), whose one
 * connection stores all the requests waiting at once (group commit); the
 * worker has its own connection; /healthz and /liff/ borrow one from a
 * pool (dbpool.c).  See docs/webhook.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "dbpool.h"
#include "events.h"
#include "health.h"
#include "httpd.h"
#include "intake.h"
#include "liff.h"
#include "log.h"
#include "signature.h"
#include "status.h"
#include "store_webhook.h"
#include "str.h"
#include "worker.h"

#define PROG "hotline-webhook"

struct webhook {
	const struct hl_config *cfg;
	struct dbpool *pool;
	struct worker *worker;
	struct intake *intake;
	struct liff *liff; /* NULL: the resident pages answer 503 */
	char *channel_secret;
};

static void refuse(struct httpd_reply *reply, int status, const char *why)
{
	char *body = str_dup_printf("%s\n", why);

	if (body == NULL)
		httpd_reply_static(reply, 500, "text/plain; charset=utf-8", "out of memory\n");
	else
		httpd_reply_owned(reply, status, "text/plain; charset=utf-8", body, strlen(body));
}

static void on_webhook(struct webhook *w, const struct httpd_request *req,
		       struct httpd_reply *reply)
{
	struct store_webhook_event *rows = NULL;
	struct wh_batch *batch = NULL;
	const char *body, *sig;
	enum sig_result sr;
	enum hl_status st;
	size_t len, i;
	char err[256], q[300], peer[64];

	if (!httpd_remote_addr(req, peer, sizeof(peer)))
		str_msg(peer, sizeof(peer), "unknown");
	if (strcmp(httpd_method(req), "POST") != 0) {
		refuse(reply, 405, "POST only");
		return;
	}
	body = httpd_body(req, &len);
	sig = httpd_header(req, "X-Line-Signature");
	/* Nothing of the body is looked at before this. */
	sr = signature_verify(w->channel_secret, body, len, sig);
	if (sr != SIG_OK) {
		log_warn("webhook refused", "peer=%s reason=\"%s\" bytes=%zu", peer,
			 signature_reason(sr), len);
		refuse(reply,
		       sr == SIG_MISSING      ? 400
		       : sr == SIG_CRYPTO_ERR ? 500
					      : 401,
		       signature_reason(sr));
		return;
	}
	st = events_parse(body, len, (size_t)w->cfg->webhook.max_events, &batch, err, sizeof(err));
	if (st != HL_OK) {
		log_warn("webhook body refused", "peer=%s reason=%s bytes=%zu", peer,
			 log_quote(err, q, sizeof(q)), len);
		refuse(reply, st == HL_PERMFAIL ? 400 : 500, err);
		return;
	}
	if (batch->n > 0) {
		if ((rows = calloc(batch->n, sizeof(*rows))) == NULL) {
			refuse(reply, 503, "out of memory");
			goto done;
		}
		for (i = 0; i < batch->n; i++) {
			const struct wh_event *e = &batch->events[i];

			rows[i] = (struct store_webhook_event){
				e->id,		 e->type,	e->user_id[0] ? e->user_id : NULL,
				e->timestamp_ms, e->redelivery, e->body};
		}
		st = intake_store(w->intake, rows, batch->n, err, sizeof(err));
		if (st != HL_OK) {
			log_error("cannot store webhook events", "events=%zu status=%s error=%s",
				  batch->n, hl_status_name(st), log_quote(err, q, sizeof(q)));
			/* 503: LINE redelivers (when redelivery is on); a 400 would
			 * drop events the database refused, which is a bug of ours. */
			refuse(reply, st == HL_TEMPFAIL ? 503 : hl_status_http(st),
			       st == HL_TEMPFAIL ? "database unavailable, try later"
						 : "events refused by the database");
			goto done;
		}
		for (i = 0; i < batch->n; i++) {
			char uid[LOG_UID_SIZE];

			log_debug("event stored", "type=%s uid=%s redelivery=%s", rows[i].type,
				  rows[i].user_id != NULL ? log_uid(rows[i].user_id, uid) : "-",
				  rows[i].redelivery ? "yes" : "no");
		}
	}
	httpd_reply_static(reply, 200, "application/json", "{}");
done:
	free(rows);
	wh_batch_free(batch);
}

static void kick(void *worker)
{
	worker_kick(worker);
}

static void route(void *ctx, const struct httpd_request *req, struct httpd_reply *reply)
{
	struct webhook *w = ctx;
	const char *path = httpd_path(req);

	if (strcmp(path, "/webhook") == 0) {
		on_webhook(w, req, reply);
		return;
	}
	if (strcmp(path, "/healthz") == 0 && strcmp(httpd_method(req), "GET") == 0) {
		struct db *db = dbpool_get(w->pool);

		health_reply(db, reply);
		dbpool_put(w->pool, db);
		return;
	}
	if (strncmp(path, "/liff/", 6) == 0) {
		liff_handle(w->liff, w->pool, req, reply);
		return;
	}
	httpd_reply_static(reply, 404, "text/plain; charset=utf-8", "not found\n");
}

int main(int argc, char **argv)
{
	struct webhook w = {NULL, NULL, NULL, NULL, NULL, NULL};
	struct hl_config *cfg;
	struct httpd *http;
	struct httpd_opts hopts = {0};
	struct worker_opts wopts;
	struct db_params dbp;
	char err[512];
	bool check_only;
	int sfd, sig;

	cfg = daemon_init(PROG, "LINE webhook and resident pages.", argc, argv, &check_only);
	w.cfg = cfg;
	w.channel_secret = daemon_secret(PROG, cfg, HL_SECRET_LINE_CHANNEL_SECRET);
	if (cfg->webhook.settings_url[0] != '\0' &&
	    strncmp(cfg->webhook.settings_url, "https://", 8) != 0 &&
	    strncmp(cfg->webhook.settings_url, "http://", 7) != 0) {
		fprintf(stderr, "%s: [webhook] settings_url: expected an http(s):// URL\n", PROG);
		exit(DAEMON_EXIT_CONFIG);
	}
	if (check_only) {
		printf("%s: configuration ok\n", PROG);
		goto done;
	}
	sfd = daemon_signals();
	dbp = (struct db_params){
		.conninfo = cfg->database.conninfo,
		.user = cfg->webhook.db_user,
		.app_name = PROG,
		.connect_timeout_s = cfg->database.connect_timeout,
		.statement_timeout_ms = cfg->database.statement_timeout_ms,
	};
	w.pool = dbpool_new(&dbp, (size_t)cfg->webhook.threads);
	if (w.pool == NULL)
		log_fatal("out of memory", NULL);
	wopts = (struct worker_opts){cfg->webhook.settings_url, cfg->webhook.retry_base_ms,
				     cfg->webhook.retry_max_ms, cfg->webhook.max_attempts};
	w.worker =
		worker_start(daemon_db(PROG, cfg, cfg->webhook.db_user), &wopts, err, sizeof(err));
	if (w.worker == NULL)
		log_fatal("cannot start the worker", "error=\"%s\"", err);
	w.intake = intake_start(daemon_db(PROG, cfg, cfg->webhook.db_user),
				(size_t)cfg->webhook.max_events, kick, w.worker);
	if (w.intake == NULL)
		log_fatal("cannot start the intake", NULL);
	w.liff = liff_new(cfg, err, sizeof(err));
	if (w.liff == NULL)
		log_error("cannot start the resident pages; they answer 503", "error=\"%s\"", err);
	hopts.threads = (unsigned)cfg->webhook.threads;
	http = httpd_start_opts(cfg->webhook.listen, (size_t)cfg->webhook.max_body_bytes, &hopts,
				route, &w, err, sizeof(err));
	if (http == NULL)
		log_fatal("cannot start", "error=\"%s\"", err);
	log_info("listening", "addr=%s role=%s", cfg->webhook.listen, cfg->webhook.db_user);
	sig = daemon_wait_for_stop(sfd);
	log_info("stopping", "signal=%d", sig);
	httpd_stop(http);
	intake_stop(w.intake);
	worker_stop(w.worker);
	liff_free(w.liff);
	dbpool_free(w.pool);
done:
	str_wipe(w.channel_secret, strlen(w.channel_secret));
	free(w.channel_secret);
	config_free(cfg);
	return 0;
}
