/*
 * hotline-admin — the staff server: accounts, deliveries, segments, mail
 * rules and the audit log, in Japanese, for the city's internal network.
 *
 * It holds no LINE secret and connects as hotline_admin, which may append
 * to the audit log but never change it.  It serves GET /healthz and the
 * JSON API under /api/ (api_auth.h: sign-in, sessions, TOTP) and, for every
 * other path, the staff UI: the static files of [admin] www_dir (index.html,
 * CSS, ES modules; docs/admin-ui.md), read once at start-up (static.h).
 * Every answer carries the security headers.  One internal HTTP thread runs
 * every request with the daemon's single database connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allow.h"
#include "api.h"
#include "api_auth.h"
#include "config.h"
#include "daemon.h"
#include "db.h"
#include "health.h"
#include "httpd.h"
#include "log.h"
#include "static.h"
#include "str.h"
#include "totp.h"

#define PROG "hotline-admin"

/* Largest request body the staff API accepts (forms, rule edits). */
#define ADMIN_MAX_BODY (1024 * 1024)

struct admin {
	const struct hl_config *cfg;
	struct allow *allow; /* [admin] allow_from */
	struct db *db;
	struct api_auth *api;
	struct static_dir *ui; /* NULL when www_dir could not be read (logged) */
};

static void route(void *ctx, const struct httpd_request *req, struct httpd_reply *reply)
{
	struct admin *ad = ctx;
	const char *path = httpd_path(req);

	api_security_headers(reply);
	if (strcmp(path, "/healthz") == 0 && strcmp(httpd_method(req), "GET") == 0) {
		health_reply(ad->db, reply);
		return;
	}
	if (!allow_everyone(ad->allow)) {
		char ip[64];

		if (!api_client_addr(ad->cfg, req, ip, sizeof(ip)) || !allow_match(ad->allow, ip)) {
			log_warn("request from an address outside [admin] allow_from refused",
				 "path=%s", strncmp(path, "/api/", 5) == 0 ? path : "(ui)");
			if (strncmp(path, "/api/", 5) == 0)
				httpd_reply_static(
					reply, 403, "application/json; charset=utf-8",
					"{\"error\":\"address_not_allowed\",\"message\":\"この"
					"ネットワークからは管理画面を利用できません。庁内ネットワー"
					"クから"
					"接続してください。\"}");
			else
				httpd_reply_static(
					reply, 403, "text/plain; charset=utf-8",
					"このネットワークからは管理画面を利用できません。"
					"庁内ネットワークから接続してください。\n");
			return;
		}
	}
	if (strncmp(path, "/api/", 5) == 0)
		api_auth_handle(ad->api, req, reply);
	else if (static_reply(ad->ui, req, reply))
		return;
	else if (ad->ui == NULL)
		httpd_reply_static(reply, 503, "text/plain; charset=utf-8",
				   "管理画面のファイルを読み込めませんでした。[admin] www_dir "
				   "を確認してください。\n");
	else
		httpd_reply_static(reply, 404, "text/plain; charset=utf-8", "not found\n");
}

/* The key sealing TOTP secrets: 64 hex digits from $HOTLINE_ADMIN_TOTP_KEY
 * or [admin] totp_key_file.  Optional, so that a server without it still
 * starts (and answers /healthz); enrolment then says it is unavailable. */
static bool load_totp_key(const struct hl_config *cfg, unsigned char key[TOTP_KEY_SIZE])
{
	char err[512];
	char *hex = config_secret(cfg, HL_SECRET_ADMIN_TOTP_KEY, err, sizeof(err));
	bool ok = hex != NULL && strlen(hex) == 2 * TOTP_KEY_SIZE;

	ok = ok && str_unhex(hex, key, TOTP_KEY_SIZE);
	if (hex == NULL)
		log_warn("no TOTP sealing key: staff cannot enrol or use TOTP", "reason=\"%s\"",
			 err);
	else if (!ok)
		log_warn("TOTP sealing key ignored: expected 64 hex digits", NULL);
	if (hex != NULL) {
		str_wipe(hex, strlen(hex));
		free(hex);
	}
	return ok;
}

int main(int argc, char **argv)
{
	struct hl_config *cfg;
	struct httpd *http;
	struct admin ad;
	unsigned char key[TOTP_KEY_SIZE];
	bool have_key;
	char err[512], q[600];
	bool check_only;
	int sfd, sig;

	cfg = daemon_init(PROG, "Staff administration server.", argc, argv, &check_only);
	memset(&ad, 0, sizeof(ad));
	ad.cfg = cfg;
	ad.allow = allow_new(cfg->admin.allow_from, err, sizeof(err));
	if (ad.allow == NULL) {
		fprintf(stderr, "%s: [admin] allow_from: %s\n", PROG, err);
		config_free(cfg);
		return DAEMON_EXIT_CONFIG;
	}
	if (check_only) {
		printf("%s: configuration ok\n", PROG);
		allow_free(ad.allow);
		config_free(cfg);
		return 0;
	}
	if (!allow_everyone(ad.allow))
		log_info("only the addresses of [admin] allow_from may use the staff server",
			 "allow_from=%s", log_quote(cfg->admin.allow_from, q, sizeof(q)));
	sfd = daemon_signals();
	have_key = load_totp_key(cfg, key);
	ad.db = daemon_db(PROG, cfg, cfg->admin.db_user);
	ad.api = api_auth_new(ad.db, cfg, have_key ? key : NULL);
	str_wipe(key, sizeof(key));
	if (ad.api == NULL)
		log_fatal("out of memory", NULL);
	/* Without its files the API still serves (and /healthz says so). */
	ad.ui = static_new(cfg->admin.www_dir, "/", err, sizeof(err));
	if (ad.ui == NULL)
		log_warn("staff UI not served", "error=%s", log_quote(err, q, sizeof(q)));
	else
		log_info("staff UI loaded", "dir=%s files=%zu",
			 log_quote(cfg->admin.www_dir, q, sizeof(q)), static_count(ad.ui));
	http = httpd_start(cfg->admin.listen, ADMIN_MAX_BODY, route, &ad, err, sizeof(err));
	if (http == NULL)
		log_fatal("cannot start", "error=\"%s\"", err);
	log_info("listening", "addr=%s role=%s", cfg->admin.listen, cfg->admin.db_user);
	sig = daemon_wait_for_stop(sfd);
	log_info("stopping", "signal=%d", sig);
	httpd_stop(http);
	api_auth_free(ad.api);
	static_free(ad.ui);
	allow_free(ad.allow);
	db_free(ad.db);
	config_free(cfg);
	return 0;
}
