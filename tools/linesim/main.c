/*
 * linesim — a local LINE Platform for tests, benchmarks, the demo and a
 * city's staging sandbox (issue 3; docs/linesim.md is its manual).
 *
 *   linesim [-l ADDR] [--webhook-url URL] [--no-rate-limits] [--seed N] ...
 *
 * It serves LINE's Messaging API paths (api_message.c, and the rich menu
 * and LIFF modules when built in) with LINE's headers, status codes and
 * error JSON, sends signed webhooks for simulated residents
 * (webhook_out.c), and exposes a control API under /sim/ (control.c).
 * This file only wires them: flags, the router (faults, authentication,
 * request id and request log around every API call) and a clean stop on
 * SIGTERM.
 *
 * The channel's credentials are generated at start (deterministic with
 * --seed) unless given by the environment (LINESIM_CHANNEL_SECRET,
 * LINESIM_CHANNEL_TOKEN — secrets stay out of argv); they are printed on
 * stdout as one JSON line for scripts.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "daemon.h"
#include "httpd.h"
#include "log.h"
#include "simhttp.h"
#include "str.h"
#include "www.h"

#define PROG "linesim"
#ifndef HL_VERSION
#define HL_VERSION "dev"
#endif

/* Request bodies: a rich menu image is at most 1 MB; 2 MB leaves room. */
#define MAX_BODY (2 * 1024 * 1024)
/* A body over MAX_BODY is refused before it is read, in LINE's error shape
 * (every LINE error is {"message": ...}; clients parse it). */
#define TOO_LARGE_JSON "{\"message\":\"The request body is too large (at most 2 MB)\"}"

#define AUTH_MISSING                                                                               \
	"Authorization header required. Must follow the scheme, 'Authorization: Bearer <ACCESS "   \
	"TOKEN>'"
#define AUTH_FAILED                                                                                \
	"Authentication failed. Confirm that the access token in the authorization header is "     \
	"valid."

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s [options]\n"
		"A local LINE Platform simulator (Messaging API, webhooks, LIFF, control API).\n\n"
		"  -l ADDR                 listen address (default 127.0.0.1:8900)\n"
		"  --webhook-url URL       the channel's webhook URL (or LINESIM_WEBHOOK_URL)\n"
		"  --no-rate-limits        serve without LINE's rate limits (benchmarks)\n"
		"  --seed N                deterministic ids and credentials\n"
		"  --channel-id ID         (or LINESIM_CHANNEL_ID)\n"
		"  --login-channel-id ID   LIFF token audience (or LINESIM_LOGIN_CHANNEL_ID)\n"
		"  --threads N             HTTP worker threads (default 4)\n"
		"  --inbox-max N           deliveries kept per resident (default 100, 0 = none)\n"
		"  --quota N               monthly message quota (default: none)\n"
		"  --webhook-retries N     redeliveries after a failed webhook (default 3)\n"
		"  --webhook-backoff-ms N  first redelivery delay, doubling (default 200)\n"
		"  --webhook-timeout-ms N  per webhook attempt (default 5000)\n"
		"  --log-level LEVEL       debug, info, warn or error (default info)\n"
		"  --www DIR               the phone view's files (default tools/linesim/www when\n"
		"                          it exists; --www '' turns the view off)\n"
		"  -V, -h                  version, help\n"
		"Environment: LINESIM_CHANNEL_SECRET, LINESIM_CHANNEL_TOKEN.\n",
		PROG);
}

static const char *path_of(const struct httpd_request *req)
{
	return httpd_path(req);
}

static bool bearer_ok(struct sim *s, const char *auth, struct httpd_reply *reply)
{
	const char *want = sim_channel(s)->access_token;
	size_t n = strlen(want);
	unsigned char diff = 0;

	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0) {
		reply_line_error(reply, 401, AUTH_MISSING, NULL);
		return false;
	}
	auth += 7;
	if (strlen(auth) != n) {
		reply_line_error(reply, 401, AUTH_FAILED, NULL);
		return false;
	}
	for (size_t i = 0; i < n; i++) /* constant time: it is a bearer token */
		diff |= (unsigned char)(auth[i] ^ want[i]);
	if (diff != 0) {
		reply_line_error(reply, 401, AUTH_FAILED, NULL);
		return false;
	}
	return true;
}

static void fault_reply(struct httpd_reply *reply, int status)
{
	if (status == 429)
		reply_line_error(reply, 429,
				 "The API rate limit has been exceeded. Try again later.", NULL);
	else if (status >= 500)
		reply_line_error(reply, status, "Internal server error (injected by linesim)",
				 NULL);
	else
		reply_line_error(reply, status, "Error injected by linesim", NULL);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* The rich menu module asks for its hourly buckets (create/delete 100,
 * batch 3); called with the sim lock held, inside richmenu_route(). */
static bool richmenu_limiter(void *ctx, const char *bucket)
{
	struct app *a = ctx;

	if (strcmp(bucket, "richmenu_create_delete") == 0)
		return sim_rate_allow(a->sim, SIM_RATE_RICHMENU_CD);
	if (strcmp(bucket, "richmenu_batch") == 0)
		return sim_rate_allow(a->sim, SIM_RATE_RICHMENU_BATCH);
	return sim_rate_allow(a->sim, SIM_RATE_DEFAULT);
}

static void api(struct app *a, const struct httpd_request *req, struct httpd_reply *reply)
{
	struct call call = {.endpoint = "other"};
	int fstatus = 0, latency = 0;
	bool faulty, after = false;

	/* Parse message bodies before taking the lock: it is the costliest part
	 * of a multicast, and other requests can proceed meanwhile. */
	if (strcmp(httpd_method(req), "POST") == 0 &&
	    strncmp(path_of(req), "/v2/bot/message/", 16) == 0) {
		call.parsed = true;
		call.body = body_json(req, call.body_err, sizeof(call.body_err));
	}
	sim_lock(a->sim);
	sim_request_id(a->sim, call.request_id);
	faulty = sim_fault_for(a->sim, path_of(req), &fstatus, &latency, &after);
	sim_unlock(a->sim);
	if (faulty && latency > 0)
		sleep_ms(latency);

	sim_lock(a->sim);
	if (faulty && fstatus != 0 && !after) {
		call.endpoint = "fault";
		fault_reply(reply, fstatus);
	} else if (!bearer_ok(a->sim, httpd_header(req, "Authorization"), reply)) {
		call.endpoint = "auth";
	} else if (api_message_route(a, req, reply, &call)) {
		/* answered */
	} else if (strncmp(path_of(req), "/v2/bot/richmenu", 16) == 0 ||
		   strncmp(path_of(req), "/v2/bot/user/", 13) == 0) {
		call.endpoint = "richmenu";
		if (!sim_rate_allow(a->sim, SIM_RATE_DEFAULT))
			reply_line_error(reply, 429,
					 "The API rate limit has been exceeded. Try again later.",
					 NULL);
		else if (!richmenu_route(a->richmenu, req, reply))
			reply_line_error(reply, 404, "Not found", NULL);
	} else {
		reply_line_error(reply, 404, "Not found", NULL);
	}
	if (faulty && fstatus != 0 && after) {
		/* Handled, retry key kept, then the answer is "lost". */
		reply->nheaders = 0;
		fault_reply(reply, fstatus);
	}
	/* LINE puts a request id on every answer; clients log it for support. */
	reply_header(reply, "x-line-request-id", call.request_id);
	sim_log_request(a->sim, httpd_method(req), path_of(req), call.endpoint, reply->status,
			httpd_header(req, "X-Line-Retry-Key"), call.recipients, call.request_id);
	/* Under the lock: deliveries share parts of the body. */
	json_decref(call.body);
	sim_unlock(a->sim);
}

static void route(void *ctx, const struct httpd_request *req, struct httpd_reply *reply)
{
	struct app *a = ctx;
	const char *p = path_of(req);

	if (strncmp(p, "/sim/", 5) == 0) {
		control_route(a, req, reply);
	} else if (strncmp(p, "/v2/", 4) == 0) {
		api(a, req, reply);
	} else if (strncmp(p, "/oauth2/", 8) == 0) {
		sim_lock(a->sim);
		if (!liff_route(a->liff, req, reply))
			reply_line_error(reply, 404, "Not found", NULL);
		sim_log_request(a->sim, httpd_method(req), p, "liff", reply->status, NULL, 0, NULL);
		sim_unlock(a->sim);
	} else if (strcmp(p, "/healthz") == 0) {
		httpd_reply_static(reply, 200, "application/json", "{\"status\":\"ok\"}");
	} else {
		if (!www_route(a->www, req, reply))
			reply_line_error(reply, 404, "Not found", NULL);
	}
}

struct flags {
	const char *listen;
	const char *www;
	bool www_given;
	struct sim_opts sim;
	struct sim_channel ch;
	struct webhook_out_opts wh;
	unsigned threads;
	enum log_level level;
};

static long long num_arg(const char *name, const char *v, long long min, long long max)
{
	long long n;

	if (!str_to_ll(v, min, max, &n)) {
		fprintf(stderr, "%s: %s: expected an integer between %lld and %lld, got '%s'\n",
			PROG, name, min, max, v);
		exit(2);
	}
	return n;
}

static void str_arg(const char *name, char *dst, size_t size, const char *v)
{
	if (v != NULL && !str_copy(dst, v, size)) {
		fprintf(stderr, "%s: %s: too long (at most %zu bytes)\n", PROG, name, size - 1);
		exit(2);
	}
}

static void parse_flags(int argc, char **argv, struct flags *f)
{
	enum {
		O_WEBHOOK = 256,
		O_NORATE,
		O_SEED,
		O_CHID,
		O_LOGIN,
		O_THREADS,
		O_INBOX,
		O_QUOTA,
		O_RETRIES,
		O_BACKOFF,
		O_TIMEOUT,
		O_LEVEL,
		O_WWW
	};
	static const struct option opts[] = {
		{"webhook-url", required_argument, NULL, O_WEBHOOK},
		{"no-rate-limits", no_argument, NULL, O_NORATE},
		{"seed", required_argument, NULL, O_SEED},
		{"channel-id", required_argument, NULL, O_CHID},
		{"login-channel-id", required_argument, NULL, O_LOGIN},
		{"threads", required_argument, NULL, O_THREADS},
		{"inbox-max", required_argument, NULL, O_INBOX},
		{"quota", required_argument, NULL, O_QUOTA},
		{"webhook-retries", required_argument, NULL, O_RETRIES},
		{"webhook-backoff-ms", required_argument, NULL, O_BACKOFF},
		{"webhook-timeout-ms", required_argument, NULL, O_TIMEOUT},
		{"log-level", required_argument, NULL, O_LEVEL},
		{"www", required_argument, NULL, O_WWW},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(f, 0, sizeof(*f));
	f->listen = "127.0.0.1:8900";
	f->www = "tools/linesim/www";
	f->sim.rate_limits = true;
	f->sim.inbox_max = 100;
	f->sim.quota = -1;
	f->sim.log_max = 10000;
	f->sim.webhook_max = 1000;
	f->wh.retries = 3;
	f->wh.backoff_ms = 200;
	f->wh.timeout_ms = 5000;
	f->threads = 4;
	f->level = LOG_LEVEL_INFO;
	str_arg("LINESIM_WEBHOOK_URL", f->ch.webhook_url, sizeof(f->ch.webhook_url),
		getenv("LINESIM_WEBHOOK_URL"));
	str_arg("LINESIM_CHANNEL_ID", f->ch.channel_id, sizeof(f->ch.channel_id),
		getenv("LINESIM_CHANNEL_ID"));
	str_arg("LINESIM_LOGIN_CHANNEL_ID", f->ch.login_channel_id, sizeof(f->ch.login_channel_id),
		getenv("LINESIM_LOGIN_CHANNEL_ID"));
	str_arg("LINESIM_CHANNEL_SECRET", f->ch.channel_secret, sizeof(f->ch.channel_secret),
		getenv("LINESIM_CHANNEL_SECRET"));
	str_arg("LINESIM_CHANNEL_TOKEN", f->ch.access_token, sizeof(f->ch.access_token),
		getenv("LINESIM_CHANNEL_TOKEN"));
	while ((c = getopt_long(argc, argv, "l:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			f->listen = optarg;
			break;
		case O_WEBHOOK:
			str_arg("--webhook-url", f->ch.webhook_url, sizeof(f->ch.webhook_url),
				optarg);
			break;
		case O_NORATE:
			f->sim.rate_limits = false;
			break;
		case O_SEED:
			f->sim.seed = (uint64_t)num_arg("--seed", optarg, 1, INT64_MAX);
			break;
		case O_CHID:
			str_arg("--channel-id", f->ch.channel_id, sizeof(f->ch.channel_id), optarg);
			break;
		case O_LOGIN:
			str_arg("--login-channel-id", f->ch.login_channel_id,
				sizeof(f->ch.login_channel_id), optarg);
			break;
		case O_THREADS:
			f->threads = (unsigned)num_arg("--threads", optarg, 1, 64);
			break;
		case O_INBOX:
			f->sim.inbox_max = (int)num_arg("--inbox-max", optarg, 0, 100000);
			break;
		case O_QUOTA:
			f->sim.quota = num_arg("--quota", optarg, 0, INT64_MAX);
			break;
		case O_RETRIES:
			f->wh.retries = (int)num_arg("--webhook-retries", optarg, 0, 10);
			break;
		case O_BACKOFF:
			f->wh.backoff_ms = (int)num_arg("--webhook-backoff-ms", optarg, 0, 60000);
			break;
		case O_TIMEOUT:
			f->wh.timeout_ms = (int)num_arg("--webhook-timeout-ms", optarg, 100, 60000);
			break;
		case O_LEVEL:
			if (!log_parse_level(optarg, &f->level)) {
				fprintf(stderr, "%s: --log-level: unknown level '%s'\n", PROG,
					optarg);
				exit(2);
			}
			break;
		case O_WWW:
			f->www = optarg;
			f->www_given = true;
			break;
		case 'V':
			printf("%s %s\n", PROG, HL_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", PROG, argv[optind]);
		usage(stderr);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct flags f;
	struct app a = {0};
	struct httpd *http;
	json_t *info;
	char err[512], *line;
	int sfd, sig;

	parse_flags(argc, argv, &f);
	log_open(PROG, f.level, NULL);
	sfd = daemon_signals();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		log_fatal("cannot initialise libcurl", "%s", "");
	a.sim = sim_new(&f.sim, &f.ch);
	a.wh = webhook_out_new(&f.wh);
	if (a.sim == NULL || a.wh == NULL)
		log_fatal("out of memory", "%s", "");
	a.liff = liff_new(sim_channel(a.sim)->login_channel_id);
	if (a.liff == NULL)
		log_fatal("cannot set up LIFF keys", "%s", "");
	a.richmenu = richmenu_store_new();
	if (a.richmenu == NULL)
		log_fatal("out of memory", "%s", "");
	richmenu_set_limiter(a.richmenu, richmenu_limiter, &a);
	/* The phone view is optional by default (linesim may run outside the
	 * tree); asked for by --www, it must load. */
	if (f.www[0] != '\0') {
		a.www = www_load(f.www, err, sizeof(err));
		if (a.www == NULL && f.www_given)
			log_fatal("cannot load the phone view", "error=\"%s\"", err);
		if (a.www == NULL)
			log_info("phone view off", "reason=\"%s\"", err);
	}
	http = httpd_start_opts(f.listen, MAX_BODY,
				&(struct httpd_opts){.threads = f.threads,
						     .too_large_type = "application/json",
						     .too_large_body = TOO_LARGE_JSON},
				route, &a, err, sizeof(err));
	if (http == NULL)
		log_fatal("cannot start", "error=\"%s\"", err);

	/* One JSON line on stdout: what LINE's developer console would show. */
	sim_lock(a.sim);
	info = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "listen", f.listen, "channelId",
		sim_channel(a.sim)->channel_id, "channelSecret", sim_channel(a.sim)->channel_secret,
		"channelAccessToken", sim_channel(a.sim)->access_token, "loginChannelId",
		sim_channel(a.sim)->login_channel_id, "webhookUrl", sim_channel(a.sim)->webhook_url,
		"botUserId", sim_channel(a.sim)->bot_user_id);
	sim_unlock(a.sim);
	line = info ? json_dumps(info, JSON_COMPACT) : NULL;
	if (line != NULL) {
		printf("%s\n", line);
		fflush(stdout);
	}
	free(line);
	json_decref(info);
	log_info("listening", "addr=%s rate_limits=%d threads=%u", f.listen, f.sim.rate_limits,
		 f.threads);

	sig = daemon_wait_for_stop(sfd);
	log_info("stopping", "signal=%d", sig);
	httpd_stop(http);
	richmenu_store_free(a.richmenu);
	liff_free(a.liff);
	free(a.echo_body);
	www_free(a.www);
	webhook_out_free(a.wh);
	sim_free(a.sim);
	curl_global_cleanup();
	return 0;
}
