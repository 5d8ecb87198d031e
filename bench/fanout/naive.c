/*
 * naive — the fan-out loop many small systems run, for bench/fanout to set
 * beside hotline-pusher: one push request per resident, one after the
 * other, over one kept-alive connection, through the project's own LINE
 * client (lib/line.h), so that the difference is the method, not the HTTP
 * stack.
 *
 *   naive BASE_URL < user-ids      (token in HOTLINE_LINE_CHANNEL_TOKEN)
 *
 * Reads LINE user ids, one a line, sends each a push with one text message
 * and waits for the answer before the next.  Prints "requests N",
 * "accepted N", "seconds S" and "per_second R" on stdout.  No retry key and
 * no retries: the loop being measured has none.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "line.h"
#include "str.h"

struct outcome {
	bool done;
	int status;
};

static void on_answer(void *arg, const struct line_result *r)
{
	struct outcome *o = arg;

	o->done = true;
	o->status = r->http_status;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct line_client_options lo = {
		.timeout_ms = 10000,
		.max_connections = 1,
	};
	struct line_client *lc = NULL;
	const char *token = getenv("HOTLINE_LINE_CHANNEL_TOKEN");
	char err[256], line[128], body[256];
	long requests = 0, accepted = 0, other = 0;
	double t0, t1;
	int rc = 1;

	if (argc != 2 || token == NULL) {
		fprintf(stderr, "usage: HOTLINE_LINE_CHANNEL_TOKEN=... naive BASE_URL < ids\n");
		return 2;
	}
	lo.base_url = argv[1];
	lo.token = token;
	lc = line_client_new(&lo, err, sizeof(err));
	if (lc == NULL) {
		fprintf(stderr, "naive: %s\n", err);
		return 1;
	}
	t0 = now_s();
	while (fgets(line, sizeof(line), stdin) != NULL) {
		struct outcome o = {false, 0};
		size_t n = 0;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (!str_appendf(body, sizeof(body), &n,
				 "{\"to\":\"%s\",\"messages\":[{\"type\":\"text\","
				 "\"text\":\"【高崎市】ベンチマーク\"}]}",
				 line)) {
			fprintf(stderr, "naive: user id too long\n");
			goto done;
		}
		if (line_client_post(lc, "/v2/bot/message/push", body, n, NULL, on_answer, &o) !=
		    0) {
			fprintf(stderr, "naive: cannot queue a request\n");
			goto done;
		}
		while (!o.done)
			if (line_client_run(lc, 1000, -1, NULL) != 0) {
				fprintf(stderr, "naive: curl multi failed\n");
				goto done;
			}
		requests++;
		if (o.status == 200)
			accepted++;
		else
			other++;
	}
	t1 = now_s();
	printf("requests %ld\naccepted %ld\nother %ld\nseconds %.3f\nper_second %.0f\n", requests,
	       accepted, other, t1 - t0, t1 > t0 ? (double)requests / (t1 - t0) : 0.0);
	rc = 0;
done:
	line_client_free(lc);
	return rc;
}
