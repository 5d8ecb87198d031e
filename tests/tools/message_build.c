/*
 * message_build — a test driver for lib/message: builds the messages of one
 * alert and prints the JSON array on stdout, for tests/integration/message.sh
 * to send to the simulator's validation endpoint.
 *
 *   message_build [--card] [--drop-bad-link] [--title T] [--category KEY]
 *                 [--category-label L] [--link URL] [--link-label L]
 *                 [--body TEXT | --body-file FILE] [--repeat N]
 *
 * --repeat N uses N copies of the body (long texts without long arguments).
 * Exit 0 with the JSON on stdout and "messages=N" (with " truncated" when
 * text was left out) on stderr,
 * 1 with message_build()'s error on stderr, 2 on bad usage.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "message.h"
#include "str.h"

/* A body file in a test is small; a larger one is a mistake. */
#define BODY_FILE_MAX (4 * 1024 * 1024)

static int usage(void)
{
	fputs("usage: message_build [--card] [--drop-bad-link] [--title T] [--category KEY] "
	      "[--category-label L] [--link URL] [--link-label L] [--body TEXT | --body-file FILE] "
	      "[--repeat N]\n",
	      stderr);
	return 2;
}

static char *read_body(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	buf = malloc(BODY_FILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, BODY_FILE_MAX + 1, f);
	fclose(f);
	if (n > BODY_FILE_MAX) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	struct message_alert a = {0};
	enum message_style style = MESSAGE_TEXT;
	unsigned flags = 0;
	long long repeat = 1, i;
	char *body = NULL, *json, err[300];
	const char *body_arg = NULL;
	bool truncated = false;
	json_t *parsed;
	int k, rc = 1;

	for (k = 1; k < argc; k++) {
		const char *o = argv[k];

		if (strcmp(o, "--card") == 0) {
			style = MESSAGE_CARD;
			continue;
		}
		if (strcmp(o, "--drop-bad-link") == 0) {
			flags |= MESSAGE_DROP_BAD_LINK;
			continue;
		}
		if (k + 1 >= argc)
			return usage();
		if (strcmp(o, "--title") == 0)
			a.title = argv[++k];
		else if (strcmp(o, "--category") == 0)
			a.category_key = argv[++k];
		else if (strcmp(o, "--category-label") == 0)
			a.category_label = argv[++k];
		else if (strcmp(o, "--link") == 0)
			a.link_url = argv[++k];
		else if (strcmp(o, "--link-label") == 0)
			a.link_label = argv[++k];
		else if (strcmp(o, "--body") == 0)
			body_arg = argv[++k];
		else if (strcmp(o, "--body-file") == 0) {
			free(body);
			body = read_body(argv[++k]);
			if (body == NULL) {
				fprintf(stderr, "message_build: cannot read %s\n", argv[k]);
				return 2;
			}
		} else if (strcmp(o, "--repeat") == 0) {
			if (!str_to_ll(argv[++k], 1, 100000, &repeat))
				return usage();
		} else {
			return usage();
		}
	}
	if (body == NULL && body_arg != NULL && (body = strdup(body_arg)) == NULL)
		return 1;
	if (body != NULL && repeat > 1) {
		size_t len = strlen(body);
		char *many = malloc(len * (size_t)repeat + 1);

		if (many == NULL)
			goto done;
		for (i = 0; i < repeat; i++)
			memcpy(many + len * (size_t)i, body, len);
		many[len * (size_t)repeat] = '\0';
		free(body);
		body = many;
	}
	a.body = body;
	json = message_build(&a, style, flags, &truncated, err, sizeof(err));
	if (json == NULL) {
		fprintf(stderr, "message_build: %s\n", err);
		goto done;
	}
	puts(json);
	parsed = json_loads(json, 0, NULL);
	fprintf(stderr, "messages=%zu%s\n", json_array_size(parsed), truncated ? " truncated" : "");
	json_decref(parsed);
	free(json);
	rc = 0;
done:
	free(body);
	return rc;
}
