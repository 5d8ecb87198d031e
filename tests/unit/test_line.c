/*
 * Tests for lib/line, the LINE Messaging API client, against the real LINE
 * simulator: the test starts $HL_BIN/linesim --seed 1 on a free loopback
 * port, reads the channel token from the JSON line it prints, and checks
 * what the client reports against what linesim's control API (spoken to
 * over a raw socket here, independently of the client) says happened.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "line.h"
#include "str.h"
#include "utf8.h"

#define MULTICAST "/v2/bot/message/multicast"

struct sim {
	pid_t pid;
	int port;
	char base[64];
	char token[256];
	char users[4][40];
};

static struct sim S;

/* many_requests_few_connections: the most sockets seen open while answers
 * came in (connections are closed down to the cache size afterwards). */
static bool track_sockets;
static int max_sockets;
static int count_sockets(void);

/* --- the simulator -------------------------------------------------------- */

static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int connect_port(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* One control-API call over a fresh connection, with its own HTTP code:
 * the status, and the JSON answer in *out (NULL when not JSON). */
static int sim_call(const char *method, const char *path, const char *body, json_t **out)
{
	char head[1024];
	size_t blen = body != NULL ? strlen(body) : 0, len = 0, cap = 65536;
	char *buf = malloc(cap);
	const char *p;
	int fd, status = -1;
	ssize_t n;

	if (out != NULL)
		*out = NULL;
	assert_non_null(buf);
	fd = connect_port(S.port);
	assert_true(fd >= 0);
	assert_true(str_printf(head, sizeof(head),
			       "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
			       "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			       method, path, blen));
	assert_int_equal(write(fd, head, strlen(head)), (ssize_t)strlen(head));
	if (blen > 0)
		assert_int_equal(write(fd, body, blen), (ssize_t)blen);
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	close(fd);
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		status = -1;
	p = strstr(buf, "\r\n\r\n");
	if (out != NULL && p != NULL)
		*out = json_loads(p + 4, 0, NULL);
	free(buf);
	return status;
}

static void sim_ok(const char *method, const char *path, const char *body)
{
	int status = sim_call(method, path, body, NULL);

	if (status != 200)
		fail_msg("%s %s: status %d", method, path, status);
}

static bool start_linesim(const char *bin)
{
	int pfd[2];
	char addr[32], line[4096];
	FILE *f;
	json_t *j;
	bool ok = false;

	S.port = free_port();
	if (S.port <= 0 || pipe(pfd) != 0)
		return false;
	if (!str_printf(addr, sizeof(addr), "127.0.0.1:%d", S.port))
		return false;
	S.pid = fork();
	if (S.pid < 0)
		return false;
	if (S.pid == 0) {
		/* Not left behind if this test crashes. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() == 1)
			_exit(127);
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execl(bin, "linesim", "--seed", "1", "-l", addr, "--www", "", "--log-level", "warn",
		      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (f == NULL)
		return false;
	if (fgets(line, sizeof(line), f) != NULL && (j = json_loads(line, 0, NULL)) != NULL) {
		const char *tok = json_string_value(json_object_get(j, "channelAccessToken"));

		ok = tok != NULL && str_copy(S.token, tok, sizeof(S.token)) &&
		     str_printf(S.base, sizeof(S.base), "http://127.0.0.1:%d", S.port);
		json_decref(j);
	}
	fclose(f);
	if (!ok) {
		kill(S.pid, SIGTERM);
		waitpid(S.pid, NULL, 0);
		S.pid = 0;
	}
	return ok;
}

static int setup(void **state)
{
	const char *dir = getenv("HL_BIN");
	char bin[1024];
	json_t *j = NULL, *ids;
	size_t i;
	int attempt;

	(void)state;
	if (dir == NULL || dir[0] == '\0')
		dir = "build/release/bin";
	if (!str_printf(bin, sizeof(bin), "%s/linesim", dir) || access(bin, X_OK) != 0) {
		fprintf(stderr, "no linesim at %s (set HL_BIN)\n", bin);
		return -1;
	}
	/* The free port may be taken between our probe and linesim's bind. */
	for (attempt = 0; attempt < 5 && !start_linesim(bin); attempt++)
		;
	if (S.pid <= 0) {
		fprintf(stderr, "linesim did not start\n");
		return -1;
	}
	if (sim_call("POST", "/sim/users", "{\"count\":4}", &j) != 200 || j == NULL)
		return -1;
	ids = json_object_get(j, "userIds");
	for (i = 0; i < 4; i++) {
		const char *u = json_string_value(json_array_get(ids, i));

		if (u == NULL || u[0] != 'U' || !str_copy(S.users[i], u, sizeof(S.users[i])))
			return -1;
	}
	json_decref(j);
	return 0;
}

static int teardown(void **state)
{
	int st = -1;

	(void)state;
	if (S.pid > 0) {
		kill(S.pid, SIGTERM);
		waitpid(S.pid, &st, 0);
	}
	/* linesim stops cleanly on SIGTERM. */
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* --- client helpers --------------------------------------------------------- */

struct got {
	int calls;
	struct line_result r;
	char body[4096];
};

static void on_done(void *arg, const struct line_result *r)
{
	struct got *g = arg;

	g->calls++;
	if (track_sockets) {
		int n = count_sockets();

		max_sockets = n > max_sockets ? n : max_sockets;
	}
	g->r = *r;
	g->r.body = NULL;
	g->body[0] = '\0';
	if (r->body != NULL) {
		size_t n = r->body_len < sizeof(g->body) - 1 ? r->body_len : sizeof(g->body) - 1;

		assert_int_equal(r->body[r->body_len], '\0');
		memcpy(g->body, r->body, n);
		g->body[n] = '\0';
	}
}

static struct line_client *client(const char *base, const char *token, long timeout_ms, int conns)
{
	struct line_client_options o = {base, token, timeout_ms, conns, NULL};
	char err[256] = "";
	struct line_client *lc = line_client_new(&o, err, sizeof(err));

	if (lc == NULL)
		fail_msg("line_client_new: %s", err);
	return lc;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run until nothing is in flight (bounded, so a lost callback fails the
 * test instead of hanging it). */
static void drain(struct line_client *lc)
{
	double until = now_s() + 60;

	while (line_client_in_flight(lc) > 0) {
		assert_int_equal(line_client_run(lc, 1000, -1, NULL), 0);
		if (now_s() > until)
			fail_msg("requests still in flight after 60 s: %d",
				 line_client_in_flight(lc));
	}
}

static void text_multicast(char *out, size_t size, const char *to1, const char *to2,
			   const char *text)
{
	if (to2 != NULL)
		assert_true(str_printf(out, size,
				       "{\"to\":[\"%s\",\"%s\"],\"messages\":[{\"type\":\"text\","
				       "\"text\":\"%s\"}]}",
				       to1, to2, text));
	else
		assert_true(str_printf(out, size,
				       "{\"to\":[\"%s\"],\"messages\":[{\"type\":\"text\","
				       "\"text\":\"%s\"}]}",
				       to1, text));
}

/* One request, waited for. */
static void post1(struct line_client *lc, const char *path, const char *json, const char *key,
		  struct got *g)
{
	memset(g, 0, sizeof(*g));
	assert_int_equal(line_client_post(lc, path, json, strlen(json), key, on_done, g), 0);
	assert_int_equal(line_client_in_flight(lc), 1);
	drain(lc);
	assert_int_equal(g->calls, 1);
}

/* How many deliveries in the resident's inbox carry this request id. */
static int inbox_count(const char *user, const char *request_id)
{
	char path[128];
	json_t *j = NULL, *m;
	size_t i;
	int n = 0;

	assert_true(str_printf(path, sizeof(path), "/sim/users/%s/inbox", user));
	assert_int_equal(sim_call("GET", path, NULL, &j), 200);
	assert_non_null(j);
	json_array_foreach(json_object_get(j, "messages"), i, m)
	{
		const char *rid = json_string_value(json_object_get(m, "requestId"));

		if (rid != NULL && strcmp(rid, request_id) == 0)
			n++;
	}
	json_decref(j);
	return n;
}

static void key_n(char *out, size_t size, unsigned n)
{
	assert_true(str_printf(out, size, "6f1c2a3b-4d5e-4f60-8a7b-%012x", n));
}

/* --- tests ---------------------------------------------------------------- */

/* Multicast accepted and delivered; the same retry key again is a 409
 * naming the first request, which counts as accepted, and nothing is
 * delivered twice. */
static void multicast_then_same_retry_key(void **state)
{
	struct line_client *lc = client(S.base, S.token, 5000, 2);
	char body[512], first[64];
	struct got g;

	(void)state;
	text_multicast(body, sizeof(body), S.users[0], S.users[1], "テスト配信 1");
	post1(lc, MULTICAST, body, "0b6c4a52-9a1e-4c53-8c57-1f6a3f0e2d10", &g);
	assert_int_equal(g.r.http_status, 200);
	assert_int_equal(line_classify(&g.r), LINE_ACCEPTED);
	assert_string_equal(g.r.error, "");
	assert_int_equal(strlen(g.r.request_id), 36);
	assert_string_equal(g.r.accepted_request_id, "");
	assert_int_equal(g.r.retry_after_s, -1);
	assert_string_equal(g.body, "{}");
	assert_true(g.r.elapsed_ms > 0);
	assert_int_equal(inbox_count(S.users[0], g.r.request_id), 1);
	assert_int_equal(inbox_count(S.users[1], g.r.request_id), 1);
	assert_int_equal(inbox_count(S.users[2], g.r.request_id), 0);
	assert_true(str_copy(first, g.r.request_id, sizeof(first)));

	post1(lc, MULTICAST, body, "0b6c4a52-9a1e-4c53-8c57-1f6a3f0e2d10", &g);
	assert_int_equal(g.r.http_status, 409);
	assert_string_equal(g.r.accepted_request_id, first);
	assert_string_not_equal(g.r.request_id, first);
	assert_int_equal(line_classify(&g.r), LINE_ACCEPTED);
	assert_string_equal(g.r.error, "The retry key is already accepted");
	assert_int_equal(inbox_count(S.users[0], first), 1);
	assert_int_equal(inbox_count(S.users[0], g.r.request_id), 0);
	line_client_free(lc);
}

/* LINE accepted the request but its answer was lost (an injected 500 after
 * handling): retry, and the retry with the same key is a 409 = delivered
 * once. */
static void lost_answer_then_retry_delivers_once(void **state)
{
	struct line_client *lc = client(S.base, S.token, 5000, 2);
	const char *key = "2d0f8a51-77c3-4b1e-9e0a-5b8c6d4e3f21";
	char body[512], first[64];
	struct got g;

	(void)state;
	sim_ok("POST", "/sim/faults",
	       "{\"path\":\"" MULTICAST "\",\"status\":500,\"accepted\":true}");
	text_multicast(body, sizeof(body), S.users[2], NULL, "応答が失われる配信");
	post1(lc, MULTICAST, body, key, &g);
	assert_int_equal(g.r.http_status, 500);
	assert_int_equal(line_classify(&g.r), LINE_RETRY);
	assert_string_equal(g.r.error, "Internal server error (injected by linesim)");
	assert_true(str_copy(first, g.r.request_id, sizeof(first)));
	assert_int_equal(inbox_count(S.users[2], first), 1);
	sim_ok("DELETE", "/sim/faults", NULL);

	post1(lc, MULTICAST, body, key, &g);
	assert_int_equal(g.r.http_status, 409);
	assert_string_equal(g.r.accepted_request_id, first);
	assert_int_equal(line_classify(&g.r), LINE_ACCEPTED);
	assert_int_equal(inbox_count(S.users[2], first), 1);
	line_client_free(lc);
}

static void wrong_token_rejected(void **state)
{
	struct line_client *lc = client(S.base, "not-the-channel-token", 5000, 1);
	char body[512];
	struct got g;

	(void)state;
	text_multicast(body, sizeof(body), S.users[0], NULL, "x");
	post1(lc, MULTICAST, body, NULL, &g);
	assert_int_equal(g.r.http_status, 401);
	assert_int_equal(line_classify(&g.r), LINE_REJECTED);
	assert_string_equal(g.r.error,
			    "Authentication failed. Confirm that the access token in the "
			    "authorization header is valid.");
	assert_int_equal(strlen(g.r.request_id), 36);
	line_client_free(lc);
}

/* LINE's validation error, flattened with the property. */
static void validation_error_flattened(void **state)
{
	struct line_client *lc = client(S.base, S.token, 5000, 1);
	char *text = malloc(5002), *body = malloc(6000);
	struct got g;

	(void)state;
	assert_non_null(text);
	assert_non_null(body);
	memset(text, 'a', 5001);
	text[5001] = '\0';
	text_multicast(body, 6000, S.users[0], NULL, text);
	post1(lc, MULTICAST, body, "5e0c3b7a-1a2b-4c3d-8e4f-000000000400", &g);
	assert_int_equal(g.r.http_status, 400);
	assert_int_equal(line_classify(&g.r), LINE_REJECTED);
	assert_string_equal(g.r.error, "The request body has 1 error(s) (messages[0].text: Length "
				       "must be between 0 and 5000)");
	/* A refused request does not use up its key. */
	text_multicast(body, 6000, S.users[0], NULL, "ok");
	post1(lc, MULTICAST, body, "5e0c3b7a-1a2b-4c3d-8e4f-000000000400", &g);
	assert_int_equal(g.r.http_status, 200);
	free(text);
	free(body);
	line_client_free(lc);
}

static void server_error_is_retry(void **state)
{
	struct line_client *lc = client(S.base, S.token, 5000, 1);
	char body[512];
	struct got g;

	(void)state;
	sim_ok("POST", "/sim/faults", "{\"path\":\"" MULTICAST "\",\"status\":503}");
	text_multicast(body, sizeof(body), S.users[0], NULL, "x");
	post1(lc, MULTICAST, body, "9a8b7c6d-5e4f-4a3b-8c2d-1e0f00000500", &g);
	sim_ok("DELETE", "/sim/faults", NULL);
	assert_int_equal(g.r.http_status, 503);
	assert_int_equal(line_classify(&g.r), LINE_RETRY);
	assert_string_equal(g.r.error, "Internal server error (injected by linesim)");
	/* The key was not used up: the retry goes through. */
	post1(lc, MULTICAST, body, "9a8b7c6d-5e4f-4a3b-8c2d-1e0f00000500", &g);
	assert_int_equal(g.r.http_status, 200);
	line_client_free(lc);
}

/* LINE's real multicast limit (200/s in one-second windows): a burst of 450
 * requests crosses it whatever the timing, since it spans at most a few
 * windows; repeated a few times in case a slow machine spreads it out. */
static void rate_limit_is_retry(void **state)
{
	struct line_client *lc = client(S.base, S.token, 10000, 8);
	static struct got g[450];
	char body[512];
	int round, i, limited = 0;

	(void)state;
	text_multicast(body, sizeof(body), S.users[3], NULL, "r");
	for (round = 0; round < 5 && limited == 0; round++) {
		memset(g, 0, sizeof(g));
		for (i = 0; i < 450; i++)
			assert_int_equal(line_client_post(lc, MULTICAST, body, strlen(body), NULL,
							  on_done, &g[i]),
					 0);
		drain(lc);
		for (i = 0; i < 450; i++) {
			assert_int_equal(g[i].calls, 1);
			if (g[i].r.http_status == 429) {
				limited++;
				assert_int_equal(line_classify(&g[i].r), LINE_RETRY);
				assert_string_equal(
					g[i].r.error,
					"The API rate limit has been exceeded. Try again later.");
				assert_int_equal(g[i].r.retry_after_s, -1);
			} else {
				assert_int_equal(g[i].r.http_status, 200);
			}
		}
	}
	assert_true(limited > 0);
	/* The remaining tests do not want to wait for the window. */
	sim_ok("PUT", "/sim/channel", "{\"rateLimits\":false}");
	line_client_free(lc);
}

static void monthly_quota(void **state)
{
	struct line_client *lc = client(S.base, S.token, 5000, 1);
	char body[512];
	struct got g;

	(void)state;
	sim_ok("PUT", "/sim/channel", "{\"quota\":1}");
	text_multicast(body, sizeof(body), S.users[0], S.users[1], "q");
	post1(lc, MULTICAST, body, "3c2b1a09-8f7e-4d6c-9b5a-000000000429", &g);
	sim_ok("PUT", "/sim/channel", "{\"quota\":null}");
	assert_int_equal(g.r.http_status, 429);
	assert_string_equal(g.r.error, "You have reached your monthly limit.");
	assert_int_equal(line_classify(&g.r), LINE_QUOTA);
	line_client_free(lc);
}

static void timeout_is_status_0(void **state)
{
	struct line_client *lc = client(S.base, S.token, 300, 1);
	char body[512];
	struct got g;

	(void)state;
	sim_ok("POST", "/sim/faults", "{\"path\":\"" MULTICAST "\",\"latency_ms\":1500}");
	text_multicast(body, sizeof(body), S.users[0], NULL, "slow");
	post1(lc, MULTICAST, body, "7f6e5d4c-3b2a-4190-8f7e-000000000300", &g);
	sim_ok("DELETE", "/sim/faults", NULL);
	assert_int_equal(g.r.http_status, 0);
	assert_int_equal(line_classify(&g.r), LINE_RETRY);
	assert_non_null(strstr(g.r.error, "Timeout was reached"));
	assert_non_null(strstr(g.r.error, "timed out after"));
	assert_string_equal(g.r.request_id, "");
	line_client_free(lc);
}

static void connection_refused_is_status_0(void **state)
{
	char base[64];
	struct line_client *lc;
	struct line_result r;
	struct got g;

	(void)state;
	assert_true(str_printf(base, sizeof(base), "http://127.0.0.1:%d/", free_port()));
	lc = client(base, S.token, 2000, 1);
	post1(lc, MULTICAST, "{}", NULL, &g);
	assert_int_equal(g.r.http_status, 0);
	assert_int_equal(line_classify(&g.r), LINE_RETRY);
	assert_non_null(strstr(g.r.error, "Couldn't connect"));
	assert_int_equal(line_client_get_sync(lc, "/v2/bot/info", &r, NULL), -1);
	assert_int_equal(r.http_status, 0);
	assert_non_null(strstr(r.error, "Couldn't connect"));
	line_client_free(lc);
}

/* A fake peer on loopback: answers each connection with the next canned
 * response, keeping the request it read, to see what goes over the wire
 * and to send what linesim never does. */
struct peer {
	int lfd, port, n;
	const char *resp[4];
	size_t resp_len[4];
	char req[4][4096];
	pthread_t th;
};

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	int i;

	for (i = 0; i < p->n; i++) {
		int c = accept(p->lfd, NULL, NULL);
		size_t len = 0, off = 0;
		long clen = 0;
		char *end = NULL, *cl;
		ssize_t k;

		if (c < 0)
			break;
		while (len < sizeof(p->req[i]) - 1) {
			k = read(c, p->req[i] + len, sizeof(p->req[i]) - 1 - len);
			if (k <= 0)
				break;
			len += (size_t)k;
			p->req[i][len] = '\0';
			end = strstr(p->req[i], "\r\n\r\n");
			if (end == NULL)
				continue;
			cl = strstr(p->req[i], "Content-Length: ");
			clen = cl != NULL && cl < end ? strtol(cl + 16, NULL, 10) : 0;
			if ((size_t)(end + 4 - p->req[i]) + (size_t)clen <= len)
				break;
		}
		while (off < p->resp_len[i] &&
		       (k = write(c, p->resp[i] + off, p->resp_len[i] - off)) > 0)
			off += (size_t)k;
		close(c);
	}
	return NULL;
}

static void peer_start(struct peer *p)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(p->lfd >= 0);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(p->lfd, 4), 0);
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&a, &alen), 0);
	p->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&p->th, NULL, peer_main, p), 0);
}

static void wire_headers_both_ways(void **state)
{
	static const char r429[] =
		"HTTP/1.1 429 Too Many Requests\r\nX-LINE-REQUEST-ID: abc-123\r\n"
		"x-line-accepted-request-id: \x01"
		"bad\r\nRETRY-AFTER: 7\r\n"
		"Content-Type: application/json\r\nContent-Length: 68\r\nConnection: close\r\n\r\n"
		"{\"message\":\"The API rate limit has been exceeded. Try again later.\"}";
	static const char r100[] = "HTTP/1.1 100 Continue\r\nx-line-request-id: interim\r\n\r\n"
				   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n"
				   "\r\n{}";
	static const char big_head[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
	size_t big_len = sizeof(big_head) - 1 + 1536 * 1024;
	char *big = malloc(big_len), dated[256], base[64], date[64];
	struct peer p;
	struct line_client *lc;
	struct got g;
	time_t t = time(NULL) + 120;
	struct tm tm;

	(void)state;
	assert_non_null(big);
	memcpy(big, big_head, sizeof(big_head) - 1);
	memset(big + sizeof(big_head) - 1, 'x', big_len - (sizeof(big_head) - 1));
	gmtime_r(&t, &tm);
	assert_true(strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0);
	assert_true(str_printf(dated, sizeof(dated),
			       "HTTP/1.1 503 Service Unavailable\r\nRetry-After: %s\r\n"
			       "Content-Length: 0\r\nConnection: close\r\n\r\n",
			       date));
	memset(&p, 0, sizeof(p));
	p.resp[0] = r429;
	p.resp_len[0] = sizeof(r429) - 1;
	p.resp[1] = dated;
	p.resp_len[1] = strlen(dated);
	p.resp[2] = r100;
	p.resp_len[2] = sizeof(r100) - 1;
	p.resp[3] = big;
	p.resp_len[3] = big_len;
	p.n = 4;
	peer_start(&p);
	assert_true(str_printf(base, sizeof(base), "http://127.0.0.1:%d", p.port));
	lc = client(base, "T0ken.with-chars_~+/=", 5000, 1);

	post1(lc, "/v2/bot/message/push", "{\"to\":\"U0\"}", "0b6c4a52-9a1e-4c53-8c57-1f6a3f0e2d10",
	      &g);
	assert_non_null(strstr(p.req[0], "POST /v2/bot/message/push HTTP/1.1\r\n"));
	assert_non_null(strstr(p.req[0], "\r\nAuthorization: Bearer T0ken.with-chars_~+/=\r\n"));
	assert_non_null(strstr(p.req[0], "\r\nUser-Agent: hotline/"));
	assert_non_null(strstr(p.req[0], "\r\nContent-Type: application/json\r\n"));
	assert_non_null(
		strstr(p.req[0], "\r\nX-Line-Retry-Key: 0b6c4a52-9a1e-4c53-8c57-1f6a3f0e2d10\r\n"));
	assert_null(strstr(p.req[0], "Expect:"));
	assert_non_null(strstr(p.req[0], "\r\n\r\n{\"to\":\"U0\"}"));
	assert_int_equal(g.r.http_status, 429);
	assert_string_equal(g.r.request_id, "abc-123");
	assert_string_equal(g.r.accepted_request_id, ""); /* a control character: dropped */
	assert_int_equal(g.r.retry_after_s, 7);
	assert_int_equal(line_classify(&g.r), LINE_RETRY);

	post1(lc, MULTICAST, "{}", NULL, &g);
	assert_null(strstr(p.req[1], "X-Line-Retry-Key"));
	assert_int_equal(g.r.http_status, 503);
	assert_string_equal(g.r.error, "HTTP 503");
	/* An HTTP date two minutes ahead (give or take the test's own run). */
	assert_true(g.r.retry_after_s >= 100 && g.r.retry_after_s <= 120);

	/* Headers of an interim response do not leak into the final one. */
	memset(&g, 0, sizeof(g));
	assert_int_equal(line_client_get(lc, "/v2/bot/info", on_done, &g), 0);
	drain(lc);
	assert_non_null(strstr(p.req[2], "GET /v2/bot/info HTTP/1.1\r\n"));
	assert_null(strstr(p.req[2], "Content-Type"));
	assert_int_equal(g.r.http_status, 200);
	assert_string_equal(g.r.request_id, "");
	assert_string_equal(g.body, "{}");

	/* No Content-Length: the cap applies while reading. */
	memset(&g, 0, sizeof(g));
	assert_int_equal(line_client_get(lc, "/v2/bot/followers/ids", on_done, &g), 0);
	drain(lc);
	assert_int_equal(g.r.http_status, 200);
	assert_string_equal(g.r.error, "response body larger than 1048576 bytes (HTTP 200)");
	assert_string_equal(g.body, "");

	assert_int_equal(pthread_join(p.th, NULL), 0);
	close(p.lfd);
	free(big);
	line_client_free(lc);
}

static int count_sockets(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char p[300], l[64];
		ssize_t k;

		if (e->d_name[0] == '.' || !str_printf(p, sizeof(p), "/proc/self/fd/%s", e->d_name))
			continue;
		k = readlink(p, l, sizeof(l) - 1);
		if (k > 0) {
			l[k] = '\0';
			n += strncmp(l, "socket:", 7) == 0;
		}
	}
	closedir(d);
	return n;
}

/* Many requests over few kept-alive connections: each callback exactly
 * once, each request answered, no more connections than allowed. */
static void many_requests_few_connections(void **state)
{
	enum { N = 64, CONNS = 3 };
	struct line_client *lc = client(S.base, S.token, 10000, CONNS);
	static struct got g[N];
	char body[512], key[64];
	int base_sockets = count_sockets(), i, j;

	(void)state;
	memset(g, 0, sizeof(g));
	text_multicast(body, sizeof(body), S.users[3], NULL, "並行");
	for (i = 0; i < N; i++) {
		key_n(key, sizeof(key), 0x1000u + (unsigned)i);
		if (i % 4 == 3)
			assert_int_equal(line_client_get(lc, "/v2/bot/info", on_done, &g[i]), 0);
		else
			assert_int_equal(line_client_post(lc, MULTICAST, body, strlen(body), key,
							  on_done, &g[i]),
					 0);
	}
	assert_int_equal(line_client_in_flight(lc), N);
	max_sockets = 0;
	track_sockets = true;
	drain(lc);
	track_sockets = false;
	assert_true(max_sockets - base_sockets <= CONNS);
	for (i = 0; i < N; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].r.http_status, 200);
		if (i % 4 == 3)
			assert_non_null(strstr(g[i].body, "\"basicId\""));
		for (j = 0; j < i; j++)
			assert_string_not_equal(g[i].r.request_id, g[j].r.request_id);
	}
	assert_true(count_sockets() - base_sockets <= CONNS);
	assert_true(count_sockets() - base_sockets >= 1); /* kept alive */
	/* A second wave reuses them. */
	for (i = 0; i < N; i++)
		assert_int_equal(line_client_get(lc, "/v2/bot/info", on_done, &g[i]), 0);
	drain(lc);
	for (i = 0; i < N; i++)
		assert_int_equal(g[i].calls, 2);
	assert_true(count_sockets() - base_sockets <= CONNS);
	line_client_free(lc);
}

/* A response body over LINE_BODY_MAX is an error, not a bigger buffer: a
 * resident's inbox in linesim grown past 1 MiB, read through the client. */
static void oversized_body_is_bounded(void **state)
{
	struct line_client *lc = client(S.base, S.token, 10000, 2);
	size_t tlen = 5000 * 3, i, len = 0, cap = 5 * (tlen + 64) + 256;
	char *text = malloc(tlen + 1), *body = malloc(cap), *out = NULL, *dump, path[128];
	struct line_result r;
	struct got g;
	json_t *j = NULL;

	(void)state;
	assert_non_null(text);
	assert_non_null(body);
	for (i = 0; i < 5000; i++)
		memcpy(text + 3 * i, "あ", 3);
	text[tlen] = '\0';
	assert_true(str_appendf(body, cap, &len, "{\"to\":[\"%s\"],\"messages\":[", S.users[3]));
	for (i = 0; i < 5; i++)
		assert_true(str_appendf(body, cap, &len, "%s{\"type\":\"text\",\"text\":\"%s\"}",
					i ? "," : "", text));
	assert_true(str_appendf(body, cap, &len, "]}"));
	for (i = 0; i < 20; i++)
		assert_int_equal(line_client_post(lc, MULTICAST, body, len, NULL, on_done, &g), 0);
	memset(&g, 0, sizeof(g));
	drain(lc);
	assert_int_equal(g.calls, 20);
	assert_int_equal(g.r.http_status, 200);

	/* The inbox is indeed bigger than the cap (read without the client). */
	assert_true(str_printf(path, sizeof(path), "/sim/users/%s/inbox", S.users[3]));
	assert_int_equal(sim_call("GET", path, NULL, &j), 200);
	dump = json_dumps(j, JSON_COMPACT);
	assert_non_null(dump);
	assert_true(strlen(dump) > LINE_BODY_MAX);
	free(dump);
	json_decref(j);

	memset(&g, 0, sizeof(g));
	assert_int_equal(line_client_get(lc, path, on_done, &g), 0);
	drain(lc);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.r.http_status, 200);
	assert_string_equal(g.r.error, "response body larger than 1048576 bytes (HTTP 200)");
	assert_string_equal(g.body, "");

	assert_int_equal(line_client_get_sync(lc, path, &r, &out), -1);
	assert_null(out);
	assert_null(r.body);
	assert_string_equal(r.error, "response body larger than 1048576 bytes (HTTP 200)");

	/* A small one through the same call works. */
	assert_int_equal(line_client_get_sync(lc, "/v2/bot/info", &r, &out), 0);
	assert_non_null(out);
	assert_ptr_equal(r.body, out);
	assert_int_equal(r.body_len, strlen(out));
	assert_non_null(strstr(out, "\"basicId\":\"@linesim\""));
	free(out);
	/* A 4xx: -1, with LINE's error and its body. */
	assert_int_equal(line_client_get_sync(lc, "/v2/bot/nowhere", &r, &out), -1);
	assert_int_equal(r.http_status, 404);
	assert_string_equal(r.error, "Not found");
	assert_non_null(out);
	free(out);
	free(text);
	free(body);
	line_client_free(lc);
}

/* The extra descriptor (PostgreSQL's socket in the pusher) wakes the loop
 * and is reported, with and without transfers. */
static void extra_fd_readiness(void **state)
{
	struct line_client *lc = client(S.base, S.token, 5000, 1);
	int p[2];
	bool ready = true, seen = false;
	struct got g;
	char c = 'x';
	double until;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(line_client_run(lc, 0, p[0], &ready), 0);
	assert_false(ready);
	assert_int_equal(write(p[1], &c, 1), 1);
	assert_int_equal(line_client_run(lc, 10000, p[0], &ready), 0);
	assert_true(ready);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(line_client_run(lc, 0, p[0], &ready), 0);
	assert_false(ready);

	/* With a request in flight: both the answer and the pipe come through. */
	memset(&g, 0, sizeof(g));
	assert_int_equal(line_client_get(lc, "/v2/bot/info", on_done, &g), 0);
	assert_int_equal(write(p[1], &c, 1), 1);
	until = now_s() + 30;
	while ((g.calls == 0 || !seen) && now_s() < until) {
		assert_int_equal(line_client_run(lc, 1000, p[0], &ready), 0);
		if (ready) {
			seen = true;
			assert_int_equal(read(p[0], &c, 1), 1);
		}
	}
	assert_true(seen);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.r.http_status, 200);
	/* -1: no descriptor, NULL flag allowed. */
	assert_int_equal(line_client_run(lc, 0, -1, NULL), 0);
	close(p[0]);
	close(p[1]);
	line_client_free(lc);
}

/* Freeing the client aborts what is in flight without calling back. */
static void free_aborts_without_callbacks(void **state)
{
	struct line_client *lc = client(S.base, S.token, 5000, 2);
	struct got g[3];
	char body[512];
	int i;

	(void)state;
	memset(g, 0, sizeof(g));
	sim_ok("POST", "/sim/faults", "{\"path\":\"/v2/bot/info\",\"latency_ms\":1000}");
	text_multicast(body, sizeof(body), S.users[0], NULL, "abort");
	assert_int_equal(line_client_get(lc, "/v2/bot/info", on_done, &g[0]), 0);
	assert_int_equal(line_client_get(lc, "/v2/bot/info", on_done, &g[1]), 0);
	assert_int_equal(line_client_post(lc, MULTICAST, body, strlen(body), NULL, on_done, &g[2]),
			 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(line_client_run(lc, 20, -1, NULL), 0);
	line_client_free(lc);
	sim_ok("DELETE", "/sim/faults", NULL);
	assert_int_equal(g[0].calls, 0);
	assert_int_equal(g[1].calls, 0);
	line_client_free(NULL);
}

static void bad_arguments(void **state)
{
	struct line_client_options o = {"ftp://example.com", "tok", 1000, 2, NULL};
	char err[256], *big;
	struct line_client *lc;
	struct got g;

	(void)state;
	assert_null(line_client_new(&o, err, sizeof(err)));
	assert_string_equal(
		err, "LINE base URL must be an http:// or https:// URL of at most 511 bytes");
	o.base_url = "https://api.line.me";
	o.token = "with space";
	assert_null(line_client_new(&o, err, sizeof(err)));
	assert_string_equal(err,
			    "LINE channel access token must be 1 to 4095 printable characters");
	o.token = "tok\r\nX-Evil: 1";
	assert_null(line_client_new(&o, err, sizeof(err)));
	o.token = "tok";
	o.timeout_ms = 0;
	assert_null(line_client_new(&o, err, sizeof(err)));
	assert_string_equal(err, "LINE timeout must be at least 1 ms");
	o.timeout_ms = 1000;
	o.max_connections = 0;
	assert_null(line_client_new(&o, err, sizeof(err)));
	assert_string_equal(err, "LINE connections must be between 1 and 256");

	lc = client(S.base, S.token, 1000, 1);
	memset(&g, 0, sizeof(g));
	assert_int_equal(line_client_post(lc, "v2/no-slash", "{}", 2, NULL, on_done, &g), -1);
	assert_int_equal(line_client_post(lc, "/v2/a b", "{}", 2, NULL, on_done, &g), -1);
	assert_int_equal(line_client_post(lc, "/v2/x\r\nX-Evil: 1", "{}", 2, NULL, on_done, &g),
			 -1);
	assert_int_equal(line_client_post(lc, MULTICAST, "{}", 2, "key\r\nX-Evil: 1", on_done, &g),
			 -1);
	assert_int_equal(line_client_post(lc, MULTICAST, "{}", 2, "", on_done, &g), -1);
	assert_int_equal(line_client_post(lc, MULTICAST, NULL, 0, NULL, on_done, &g), -1);
	assert_int_equal(line_client_post(lc, MULTICAST, "{}", 2, NULL, NULL, &g), -1);
	big = calloc(1, LINE_REQUEST_MAX + 1);
	assert_non_null(big);
	assert_int_equal(
		line_client_post(lc, MULTICAST, big, LINE_REQUEST_MAX + 1, NULL, on_done, &g), -1);
	free(big);
	assert_int_equal(line_client_in_flight(lc), 0);
	assert_int_equal(line_client_run(lc, 0, -1, NULL), 0);
	assert_int_equal(g.calls, 0);
	line_client_free(lc);
}

struct classify_case {
	int status;
	const char *accepted;
	const char *error;
	enum line_outcome want;
};

static void classify_table(void **state)
{
	static const struct classify_case cases[] = {
		{200, "", "", LINE_ACCEPTED},
		{202, "", "", LINE_ACCEPTED},
		{409, "8e6b0f2c-1111-4222-8333-444455556666", "The retry key is already accepted",
		 LINE_ACCEPTED},
		{409, "", "Conflict", LINE_REJECTED},
		{0, "", "Timeout was reached", LINE_RETRY},
		{500, "", "", LINE_RETRY},
		{502, "", "HTTP 502: <html>", LINE_RETRY},
		{503, "", "", LINE_RETRY},
		{429, "", "The API rate limit has been exceeded. Try again later.", LINE_RETRY},
		{429, "", "You have reached your monthly limit.", LINE_QUOTA},
		{400, "", "The request body has 1 error(s)", LINE_REJECTED},
		{401, "", "Authentication failed.", LINE_REJECTED},
		{403, "", "", LINE_REJECTED},
		{404, "", "Not found", LINE_REJECTED},
		{413, "", "", LINE_REJECTED},
		{302, "", "HTTP 302", LINE_REJECTED},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct line_result r;

		memset(&r, 0, sizeof(r));
		r.http_status = cases[i].status;
		assert_true(str_copy(r.accepted_request_id, cases[i].accepted,
				     sizeof(r.accepted_request_id)));
		assert_true(str_copy(r.error, cases[i].error, sizeof(r.error)));
		print_message("case %zu: %d %s\n", i, r.http_status, r.error);
		assert_int_equal(line_classify(&r), cases[i].want);
	}
	assert_string_equal(line_outcome_name(LINE_QUOTA), "quota");
	assert_string_equal(line_outcome_name(LINE_ACCEPTED), "accepted");
}

static bool valid_utf8(const char *s)
{
	size_t n = strlen(s), i = 0;

	while (i < n) {
		uint32_t cp;
		size_t k = utf8_decode((const unsigned char *)s + i, n - i, &cp);

		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

static void flatten(void **state)
{
	char out[512], small[16], body[4096];
	size_t i, len = 0;
	const char *b;

	(void)state;
	b = "{\"message\":\"The request body has 2 error(s)\",\"details\":["
	    "{\"message\":\"Length must be between 0 and 5000\",\"property\":\"messages[0].text\"},"
	    "{\"message\":\"Size must be between 1 and 500\",\"property\":\"to\"}]}";
	line_error_flatten(400, b, strlen(b), out, sizeof(out));
	assert_string_equal(out, "The request body has 2 error(s) (messages[0].text: Length must "
				 "be between 0 and 5000; to: Size must be between 1 and 500)");
	/* A detail without property; details that are not objects skipped. */
	b = "{\"message\":\"m\",\"details\":[{\"message\":\"d\"},3,{\"property\":\"p\"}]}";
	line_error_flatten(400, b, strlen(b), out, sizeof(out));
	assert_string_equal(out, "m (d)");
	b = "{\"message\":\"Not found\"}";
	line_error_flatten(404, b, strlen(b), out, sizeof(out));
	assert_string_equal(out, "Not found");
	/* Control characters become spaces: one log line, whatever LINE says. */
	b = "{\"message\":\"a\\nb\\u001bc\"}";
	line_error_flatten(400, b, strlen(b), out, sizeof(out));
	assert_string_equal(out, "a b c");
	/* Not LINE's shape: the status and the first bytes, ASCII only. */
	b = "<html>\r\n<h1>Bad Gateway</h1>\xe3\x81\x82</html>";
	line_error_flatten(502, b, strlen(b), out, sizeof(out));
	assert_string_equal(out, "HTTP 502: <html>  <h1>Bad Gateway</h1>\?\?\?</html>");
	line_error_flatten(503, NULL, 0, out, sizeof(out));
	assert_string_equal(out, "HTTP 503");
	b = "{\"details\":[]}";
	line_error_flatten(500, b, strlen(b), out, sizeof(out));
	assert_string_equal(out, "HTTP 500: {\"details\":[]}");
	/* Cut at a character boundary, with "...". */
	assert_true(str_appendf(body, sizeof(body), &len, "{\"message\":\""));
	for (i = 0; i < 400; i++)
		assert_true(str_appendf(body, sizeof(body), &len, "あ"));
	assert_true(str_appendf(body, sizeof(body), &len, "\"}"));
	line_error_flatten(400, body, len, out, sizeof(out));
	assert_true(strlen(out) <= sizeof(out) - 1);
	assert_true(strlen(out) >= sizeof(out) - 6);
	assert_true(valid_utf8(out));
	assert_memory_equal(out + strlen(out) - 3, "...", 3);
	assert_memory_equal(out, "あああ", 9);
	for (i = 0; i < 3; i++) {
		line_error_flatten(400, body, len, small, sizeof(small) - i);
		assert_true(valid_utf8(small));
		assert_memory_equal(small + strlen(small) - 3, "...", 3);
	}
	line_error_flatten(400, body, len, small, sizeof(small));
	assert_string_equal(small, "ああああ...");
	line_error_flatten(400, body, len, small, 2);
	assert_string_equal(small, "");
	/* A long unknown body is cut too. */
	memset(body, 'x', 3000);
	line_error_flatten(502, body, 3000, out, sizeof(out));
	assert_int_equal(strlen(out), strlen("HTTP 502: ") + 200 + 3);
}

/* --- line_client_request_sync ---------------------------------------------- */

/* A PNG as far as LINE reads it: the signature and the IHDR chunk. */
static size_t fake_png(unsigned char *p, unsigned w, unsigned h)
{
	static const unsigned char head[16] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
					       0,    0,	  0,   13,  'I',  'H',	'D',  'R'};
	size_t i;

	memcpy(p, head, sizeof(head));
	p[16] = (unsigned char)(w >> 24);
	p[17] = (unsigned char)(w >> 16);
	p[18] = (unsigned char)(w >> 8);
	p[19] = (unsigned char)w;
	p[20] = (unsigned char)(h >> 24);
	p[21] = (unsigned char)(h >> 16);
	p[22] = (unsigned char)(h >> 8);
	p[23] = (unsigned char)h;
	/* bit depth 8, colour type 2, then CRC and filler: bytes 0..255 */
	p[24] = 8;
	p[25] = 2;
	for (i = 26; i < 64; i++)
		p[i] = (unsigned char)(i * 7);
	p[40] = 0; /* a NUL inside, to check the binary round trip */
	return 64;
}

/* One blocking request; the status, and the body (freed by the caller). */
static int req_sync(struct line_client *lc, const char *method, const char *target,
		    const char *ctype, const void *body, size_t len, bool with_token, char **out)
{
	struct line_result r;
	int rc =
		line_client_request_sync(lc, method, target, ctype, body, len, with_token, &r, out);

	assert_int_equal(rc, r.http_status >= 200 && r.http_status <= 299 ? 0 : -1);
	if (out != NULL && r.http_status > 0)
		assert_non_null(*out);
	return r.http_status;
}

/* POST JSON, an image upload to an absolute (data API) URL, a body-less POST,
 * PUT and DELETE against linesim's rich menu and webhook endpoint APIs. */
static void request_sync_methods(void **state)
{
	static const char menu[] =
		"{\"size\":{\"width\":2500,\"height\":843},\"selected\":false,\"name\":\"t\","
		"\"chatBarText\":\"メニュー\",\"areas\":[{\"bounds\":{\"x\":0,\"y\":0,\"width\":"
		"2500,"
		"\"height\":843},\"action\":{\"type\":\"message\",\"text\":\"hi\"}}]}";
	static const char hook[] = "{\"endpoint\":\"https://hotline.example.jp/callback\"}";
	struct line_client *lc = client(S.base, S.token, 5000, 1);
	unsigned char png[64];
	size_t png_len = fake_png(png, 2500, 843);
	char *body = NULL, id[64], path[160], url[256];
	struct line_result r;
	json_t *j;

	(void)state;
	/* POST JSON: the menu is created. */
	assert_int_equal(req_sync(lc, "POST", "/v2/bot/richmenu", "application/json", menu,
				  strlen(menu), true, &body),
			 200);
	j = json_loads(body, 0, NULL);
	assert_non_null(j);
	assert_true(str_copy(id, json_string_value(json_object_get(j, "richMenuId")), sizeof(id)));
	json_decref(j);
	free(body);

	/* The image, to the data API's absolute URL, as image/png. */
	assert_true(str_printf(url, sizeof(url), "%s/v2/bot/richmenu/%s/content", S.base, id));
	assert_int_equal(req_sync(lc, "POST", url, "image/gif", png, png_len, true, NULL), 415);
	assert_int_equal(req_sync(lc, "POST", url, NULL, png, png_len, true, NULL), 415);
	assert_int_equal(req_sync(lc, "POST", url, "image/png", png, png_len, true, NULL), 200);
	assert_int_equal(req_sync(lc, "POST", url, "image/png", png, png_len, true, &body), 400);
	assert_non_null(strstr(body, "already been uploaded"));
	free(body);
	/* Read back byte for byte, NUL included. */
	assert_int_equal(req_sync(lc, "GET", url, NULL, NULL, 0, true, &body), 200);
	assert_int_equal(line_client_request_sync(lc, "GET", url, NULL, NULL, 0, true, &r, NULL),
			 0);
	assert_int_equal(r.body_len, png_len);
	assert_memory_equal(body, png, png_len);
	free(body);

	/* A POST without a body: the default rich menu. */
	assert_true(str_printf(path, sizeof(path), "/v2/bot/user/all/richmenu/%s", id));
	assert_int_equal(req_sync(lc, "POST", path, NULL, NULL, 0, true, NULL), 200);
	assert_int_equal(
		req_sync(lc, "GET", "/v2/bot/user/all/richmenu", NULL, NULL, 0, true, &body), 200);
	assert_non_null(strstr(body, id));
	free(body);

	/* PUT with a JSON body. */
	assert_int_equal(req_sync(lc, "PUT", "/v2/bot/channel/webhook/endpoint", "application/json",
				  hook, strlen(hook), true, NULL),
			 200);
	assert_int_equal(
		req_sync(lc, "GET", "/v2/bot/channel/webhook/endpoint", NULL, NULL, 0, true, &body),
		200);
	assert_non_null(strstr(body, "https://hotline.example.jp/callback"));
	free(body);
	assert_int_equal(req_sync(lc, "PUT", "/v2/bot/channel/webhook/endpoint", "application/json",
				  "{\"endpoint\":\"http://x\"}", 23, true, &body),
			 400);
	free(body);

	/* DELETE: the menu is gone, and so is the default. */
	assert_true(str_printf(path, sizeof(path), "/v2/bot/richmenu/%s", id));
	assert_int_equal(req_sync(lc, "DELETE", path, NULL, NULL, 0, true, NULL), 200);
	assert_int_equal(req_sync(lc, "GET", path, NULL, NULL, 0, true, NULL), 404);
	assert_int_equal(req_sync(lc, "DELETE", path, NULL, NULL, 0, true, NULL), 404);
	assert_int_equal(
		req_sync(lc, "GET", "/v2/bot/user/all/richmenu", NULL, NULL, 0, true, NULL), 404);

	/* Without the token: linesim asks for the header. */
	assert_int_equal(
		line_client_request_sync(lc, "GET", "/v2/bot/info", NULL, NULL, 0, false, &r, NULL),
		-1);
	assert_int_equal(r.http_status, 401);
	assert_non_null(strstr(r.error, "Authorization header required"));
	line_client_free(lc);
}

/* A client without a token: unauthenticated calls only. */
static void request_sync_no_token(void **state)
{
	const char *tokens[2] = {NULL, ""};
	struct line_client *lc;
	struct line_result r;
	struct got g;
	char *body = NULL;
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		lc = client(S.base, tokens[i], 5000, 1);
		assert_int_equal(line_client_request_sync(lc, "GET", "/v2/bot/info", NULL, NULL, 0,
							  true, &r, &body),
				 -1);
		assert_int_equal(r.http_status, 0);
		assert_string_equal(r.error, "client without a channel access token");
		assert_null(body);
		assert_int_equal(line_client_get_sync(lc, "/v2/bot/info", &r, NULL), -1);
		assert_int_equal(r.http_status, 0);
		assert_int_equal(line_client_post(lc, MULTICAST, "{}", 2, NULL, on_done, &g), -1);
		assert_int_equal(line_client_get(lc, "/v2/bot/info", on_done, &g), -1);
		/* Unauthenticated: answered (linesim's LINE Login certs). */
		assert_int_equal(
			req_sync(lc, "GET", "/oauth2/v2.1/certs", NULL, NULL, 0, false, &body),
			200);
		assert_non_null(strstr(body, "keys"));
		free(body);
		body = NULL;
		assert_int_equal(req_sync(lc, "GET", "/v2/bot/info", NULL, NULL, 0, false, NULL),
				 401);
		line_client_free(lc);
	}
}

/* What goes over the wire: the method, Content-Type only as given, the
 * token only when asked for; and the arguments refused before sending. */
static void request_sync_wire(void **state)
{
	static const char ok[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
	struct peer p;
	struct line_client *lc;
	struct line_result r;
	char base[64], url[128], *big;

	(void)state;
	memset(&p, 0, sizeof(p));
	for (p.n = 0; p.n < 4; p.n++) {
		p.resp[p.n] = ok;
		p.resp_len[p.n] = sizeof(ok) - 1;
	}
	peer_start(&p);
	assert_true(str_printf(base, sizeof(base), "http://127.0.0.1:%d", p.port));
	lc = client("http://127.0.0.1:1", "T0k", 5000, 1);

	assert_true(str_printf(url, sizeof(url), "%s/sim/channel", base));
	assert_int_equal(
		line_client_request_sync(lc, "PUT", url, NULL, "{\"a\":1}", 7, false, &r, NULL), 0);
	assert_non_null(strstr(p.req[0], "PUT /sim/channel HTTP/1.1\r\n"));
	assert_null(strstr(p.req[0], "Content-Type"));
	assert_null(strstr(p.req[0], "Authorization"));
	assert_null(strstr(p.req[0], "Expect:"));
	assert_non_null(strstr(p.req[0], "\r\nContent-Length: 7\r\n"));
	assert_non_null(strstr(p.req[0], "\r\n\r\n{\"a\":1}"));

	assert_true(str_printf(url, sizeof(url), "%s/v2/bot/richmenu/x/content", base));
	assert_int_equal(line_client_request_sync(lc, "POST", url, "image/png", "\x89PNG", 4, true,
						  &r, NULL),
			 0);
	assert_non_null(strstr(p.req[1], "POST /v2/bot/richmenu/x/content HTTP/1.1\r\n"));
	assert_non_null(strstr(p.req[1], "\r\nContent-Type: image/png\r\n"));
	assert_non_null(strstr(p.req[1], "\r\nAuthorization: Bearer T0k\r\n"));

	assert_true(str_printf(url, sizeof(url), "%s/v2/bot/richmenu/x", base));
	assert_int_equal(line_client_request_sync(lc, "DELETE", url, NULL, NULL, 0, true, &r, NULL),
			 0);
	assert_non_null(strstr(p.req[2], "DELETE /v2/bot/richmenu/x HTTP/1.1\r\n"));
	assert_non_null(strstr(p.req[2], "\r\nAuthorization: Bearer T0k\r\n"));
	assert_null(strstr(p.req[2], "Content-Type"));

	assert_true(str_printf(url, sizeof(url), "%s/v2/bot/user/all/richmenu/x", base));
	assert_int_equal(line_client_request_sync(lc, "POST", url, NULL, NULL, 0, true, &r, NULL),
			 0);
	assert_non_null(strstr(p.req[3], "POST /v2/bot/user/all/richmenu/x HTTP/1.1\r\n"));
	assert_non_null(strstr(p.req[3], "\r\nContent-Length: 0\r\n"));
	assert_null(strstr(p.req[3], "Content-Type"));
	assert_int_equal(pthread_join(p.th, NULL), 0);
	close(p.lfd);

	/* Refused before anything is sent. */
	assert_int_equal(
		line_client_request_sync(lc, "PATCH", "/v2/x", NULL, NULL, 0, true, &r, NULL), -1);
	assert_string_equal(r.error, "bad request method");
	assert_int_equal(
		line_client_request_sync(lc, "get", "/v2/x", NULL, NULL, 0, true, &r, NULL), -1);
	assert_int_equal(
		line_client_request_sync(lc, "GET", "ftp://h/x", NULL, NULL, 0, true, &r, NULL),
		-1);
	assert_string_equal(r.error, "bad request path or URL");
	assert_int_equal(line_client_request_sync(lc, "GET", "v2/x", NULL, NULL, 0, true, &r, NULL),
			 -1);
	assert_int_equal(
		line_client_request_sync(lc, "GET", "http://h/a b", NULL, NULL, 0, true, &r, NULL),
		-1);
	assert_int_equal(line_client_request_sync(lc, "POST", "/v2/x", "image/png\r\nX-Evil: 1",
						  "x", 1, true, &r, NULL),
			 -1);
	assert_string_equal(r.error, "bad content type");
	assert_int_equal(line_client_request_sync(lc, "GET", "/v2/x", NULL, "x", 1, true, &r, NULL),
			 -1);
	assert_int_equal(
		line_client_request_sync(lc, "POST", "/v2/x", NULL, NULL, 3, true, &r, NULL), -1);
	big = calloc(1, LINE_REQUEST_MAX + 1);
	assert_non_null(big);
	assert_int_equal(line_client_request_sync(lc, "POST", "/v2/x", "image/png", big,
						  LINE_REQUEST_MAX + 1, true, &r, NULL),
			 -1);
	assert_string_equal(r.error, "request body too large");
	free(big);
	assert_int_equal(
		line_client_request_sync(NULL, "GET", "/v2/x", NULL, NULL, 0, true, &r, NULL), -1);
	line_client_free(lc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(classify_table),
		cmocka_unit_test(flatten),
		cmocka_unit_test(bad_arguments),
		cmocka_unit_test(multicast_then_same_retry_key),
		cmocka_unit_test(lost_answer_then_retry_delivers_once),
		cmocka_unit_test(wrong_token_rejected),
		cmocka_unit_test(validation_error_flattened),
		cmocka_unit_test(server_error_is_retry),
		cmocka_unit_test(rate_limit_is_retry),
		cmocka_unit_test(monthly_quota),
		cmocka_unit_test(timeout_is_status_0),
		cmocka_unit_test(connection_refused_is_status_0),
		cmocka_unit_test(many_requests_few_connections),
		cmocka_unit_test(oversized_body_is_bounded),
		cmocka_unit_test(extra_fd_readiness),
		cmocka_unit_test(free_aborts_without_callbacks),
		cmocka_unit_test(wire_headers_both_ways),
		cmocka_unit_test(request_sync_methods),
		cmocka_unit_test(request_sync_no_token),
		cmocka_unit_test(request_sync_wire),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
