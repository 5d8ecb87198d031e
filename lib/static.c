/*
 * static — page files served from memory; see static.h.
 *
 * The directory is walked once and every file kept in a table sorted by
 * URL path; a request is a binary search in that table.  The limits bound
 * what a wrong directory (a home, "/", a log directory) can make the
 * daemon read at start-up: it fails with a message instead.
 */
#include "static.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file.h"
#include "log.h"
#include "str.h"

/* One file: the LIFF SDK bundle is ~130 KB, a page's image a few hundred. */
#define STATIC_FILE_MAX ((size_t)4 << 20)
/* Files in one directory tree, and their total size. */
#define STATIC_FILES_MAX 512
#define STATIC_TOTAL_MAX ((size_t)32 << 20)
/* A URL path of a file (prefix included). */
#define STATIC_PATH_MAX 512

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{".html", "text/html; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"},
	{".mjs", "text/javascript; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	{".json", "application/json; charset=utf-8"},
	{".txt", "text/plain; charset=utf-8"},
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".jpg", "image/jpeg"},
	{".ico", "image/vnd.microsoft.icon"},
	{".woff2", "font/woff2"},
	{".webmanifest", "application/manifest+json"},
};

struct static_file {
	char *path; /* URL path */
	const char *type;
	char *data; /* NUL-terminated copy; len bytes */
	size_t len;
	bool owner; /* data is freed with this entry (an index alias is not) */
};

struct static_dir {
	struct static_file *files;
	size_t n, cap;
	size_t total;
};

const char *static_content_type(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);

		if (n > e && strcmp(name + n - e, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

/* A name we serve: [A-Za-z0-9._-], not starting with a dot (no hidden
 * files, no "." or ".."), so that a URL path never needs escaping. */
static bool name_ok(const char *name)
{
	if (name[0] == '\0' || name[0] == '.')
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		char c = *p;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int add(struct static_dir *s, const char *url, const char *type, char *data, size_t len,
	       bool owner, char *err, size_t errlen)
{
	struct static_file *f;

	if (s->n >= STATIC_FILES_MAX) {
		str_msg(err, errlen, "more than %d files", STATIC_FILES_MAX);
		return -1;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap == 0 ? 16 : s->cap * 2;
		struct static_file *grown = realloc(s->files, cap * sizeof(*grown));

		if (grown == NULL) {
			str_msg(err, errlen, "out of memory");
			return -1;
		}
		s->files = grown;
		s->cap = cap;
	}
	f = &s->files[s->n];
	f->path = strdup(url);
	if (f->path == NULL) {
		str_msg(err, errlen, "out of memory");
		return -1;
	}
	f->type = type;
	f->data = data;
	f->len = len;
	f->owner = owner;
	s->n++;
	return 0;
}

/* Read directory dir (URL path url, ending in '/') at the given depth. */
static int walk(struct static_dir *s, const char *dir, const char *url, int depth, char *err,
		size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1100], sub[STATIC_PATH_MAX];
	int rc = -1;

	if (d == NULL) {
		str_msg(err, errlen, "%s: cannot open: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		const char *type;
		char *data;
		size_t len;

		if (!name_ok(e->d_name))
			continue;
		if (!str_printf(path, sizeof(path), "%s/%s", dir, e->d_name) ||
		    !str_printf(sub, sizeof(sub), "%s%s", url, e->d_name)) {
			str_msg(err, errlen, "%s/%s: path too long", dir, e->d_name);
			goto done;
		}
		if (stat(path, &st) != 0) {
			str_msg(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
			goto done;
		}
		if (S_ISDIR(st.st_mode)) {
			if (depth >= STATIC_DEPTH_MAX)
				continue;
			if (!str_printf(sub, sizeof(sub), "%s%s/", url, e->d_name)) {
				str_msg(err, errlen, "%s: path too long", path);
				goto done;
			}
			if (walk(s, path, sub, depth + 1, err, errlen) != 0)
				goto done;
			continue;
		}
		type = static_content_type(e->d_name);
		if (!S_ISREG(st.st_mode) || type == NULL)
			continue;
		data = file_read(path, STATIC_FILE_MAX, &len, err, errlen);
		if (data == NULL)
			goto done;
		if (len > STATIC_TOTAL_MAX - s->total) {
			free(data);
			str_msg(err, errlen, "%s: the files add up to more than %zu bytes", dir,
				STATIC_TOTAL_MAX);
			goto done;
		}
		s->total += len;
		if (add(s, sub, type, data, len, true, err, errlen) != 0) {
			free(data);
			goto done;
		}
	}
	rc = 0;
done:
	closedir(d);
	return rc;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct static_file *)a)->path, ((const struct static_file *)b)->path);
}

static const struct static_file *find(const struct static_dir *s, const char *path)
{
	struct static_file key = {.path = (char *)(uintptr_t)path};

	if (s == NULL || s->n == 0)
		return NULL;
	return bsearch(&key, s->files, s->n, sizeof(*s->files), by_path);
}

struct static_dir *static_new(const char *dir, const char *prefix, char *err, size_t errlen)
{
	struct static_dir *s;
	size_t plen = strlen(prefix), n;

	if (plen == 0 || prefix[0] != '/' || prefix[plen - 1] != '/' ||
	    plen >= STATIC_PATH_MAX / 2) {
		str_msg(err, errlen, "bad URL prefix");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		str_msg(err, errlen, "out of memory");
		return NULL;
	}
	if (walk(s, dir, prefix, 0, err, errlen) != 0)
		goto fail;
	/* A directory's index.html also answers the directory's own path
	 * ("/liff/", "/"): an alias sharing the data. */
	n = s->n;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(s->files[i].path);
		char url[STATIC_PATH_MAX];

		if (l < 11 || strcmp(s->files[i].path + l - 11, "/index.html") != 0)
			continue;
		if (!str_copy(url, s->files[i].path, sizeof(url)))
			continue; /* cannot happen: it was built in such a buffer */
		url[l - 10] = '\0';
		if (add(s, url, s->files[i].type, s->files[i].data, s->files[i].len, false, err,
			errlen) != 0)
			goto fail;
	}
	if (s->n > 1)
		qsort(s->files, s->n, sizeof(*s->files), by_path);
	return s;
fail:
	static_free(s);
	return NULL;
}

void static_free(struct static_dir *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->files[i].path);
		if (s->files[i].owner)
			free(s->files[i].data);
	}
	free(s->files);
	free(s);
}

size_t static_count(const struct static_dir *s)
{
	return s != NULL ? s->n : 0;
}

bool static_has(const struct static_dir *s, const char *path)
{
	return find(s, path) != NULL;
}

bool static_reply(const struct static_dir *s, const struct httpd_request *req,
		  struct httpd_reply *reply)
{
	const struct static_file *f = find(s, httpd_path(req));
	const char *method = httpd_method(req);

	if (f == NULL)
		return false;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		if (!httpd_reply_header(reply, "Allow", "GET, HEAD"))
			log_error("static: Allow does not fit the reply", NULL);
		httpd_reply_static(reply, 405, "text/plain; charset=utf-8", "method not allowed\n");
		return true;
	}
	/* The copy lives as long as the handle: a static reply. */
	httpd_reply_static(reply, 200, f->type, f->data);
	reply->body_len = f->len;
	return true;
}
