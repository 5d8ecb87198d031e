/*
 * www — the phone view's files served from memory; see www.h.
 */
#include "www.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

/* A page bigger than this is not the phone view. */
#define WWW_FILE_MAX (1024 * 1024)

static const struct {
	const char *url;
	const char *file;
	const char *type;
} files[] = {
	{"/", "index.html", "text/html; charset=utf-8"},
	{"/phone.css", "phone.css", "text/css; charset=utf-8"},
	{"/phone.js", "phone.js", "text/javascript; charset=utf-8"},
};
#define NFILES (sizeof(files) / sizeof(files[0]))

struct www {
	char *data[NFILES];
	size_t len[NFILES];
};

static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;

	if (f == NULL) {
		str_msg(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(WWW_FILE_MAX + 1);
	if (buf == NULL) {
		str_msg(err, errlen, "out of memory");
		goto done;
	}
	n = fread(buf, 1, WWW_FILE_MAX + 1, f);
	if (ferror(f) || n > WWW_FILE_MAX) {
		str_msg(err, errlen, "%s: %s", path, ferror(f) ? "read error" : "larger than 1 MB");
		free(buf);
		buf = NULL;
		goto done;
	}
	buf[n] = '\0';
	*len = n;
done:
	fclose(f);
	return buf;
}

struct www *www_load(const char *dir, char *err, size_t errlen)
{
	struct www *w = calloc(1, sizeof(*w));
	char path[4096];

	if (w == NULL) {
		str_msg(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < NFILES; i++) {
		if (!str_printf(path, sizeof(path), "%s/%s", dir, files[i].file)) {
			str_msg(err, errlen, "%s: path too long", dir);
			goto fail;
		}
		w->data[i] = slurp(path, &w->len[i], err, errlen);
		if (w->data[i] == NULL)
			goto fail;
	}
	return w;
fail:
	www_free(w);
	return NULL;
}

void www_free(struct www *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < NFILES; i++)
		free(w->data[i]);
	free(w);
}

bool www_route(const struct www *w, const struct httpd_request *req, struct httpd_reply *reply)
{
	const char *p = httpd_path(req);

	if (w == NULL || strcmp(httpd_method(req), "GET") != 0)
		return false;
	for (size_t i = 0; i < NFILES; i++) {
		if (strcmp(p, files[i].url) == 0) {
			/* The copy lives as long as the server: a static reply. */
			httpd_reply_static(reply, 200, files[i].type, w->data[i]);
			reply->body_len = w->len[i];
			return true;
		}
	}
	return false;
}
