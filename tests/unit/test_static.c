/* Unit tests for lib/static: which files of a directory are served under
 * which URL paths (names, extensions, depth, index.html aliases, symlinks),
 * that nothing outside the listed files is reachable by path, content
 * types, and the errors of a directory that cannot be read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "static.h"
#include "str.h"

static char top[256];

static void put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	assert_true(str_printf(path, sizeof(path), "%s/%s", top, rel));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void dir(const char *rel)
{
	char path[512];

	assert_true(str_printf(path, sizeof(path), "%s/%s", top, rel));
	assert_int_equal(mkdir(path, 0700), 0);
}

/* A page directory with what a real one holds and what it must not serve. */
static int setup(void **state)
{
	char link[512], outside[512];

	(void)state;
	assert_true(str_printf(top, sizeof(top), "%s/hl-static-XXXXXX",
			       getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"));
	assert_non_null(mkdtemp(top));
	put("index.html", "<!doctype html>");
	put("app.js", "export {};");
	put("style.css", "body{}");
	put("logo.png", "\x89PNG\r\n\x1a\n\0\0");
	put(".env", "SECRET=1");	      /* hidden */
	put("notes.md", "# not a page file"); /* unknown extension */
	put("x y.js", "space in name");
	dir("img");
	put("img/icon.svg", "<svg/>");
	put("img/index.html", "img index");
	dir("a");
	dir("a/b");
	dir("a/b/c");
	dir("a/b/c/d");
	put("a/b/c/deep.js", "3 levels");
	put("a/b/c/d/deeper.js", "4 levels");
	/* A symlink to a file outside: followed at start-up only, under its
	 * own name inside the tree. */
	assert_true(str_printf(outside, sizeof(outside), "%s.outside.js", top));
	{
		FILE *f = fopen(outside, "w");

		assert_non_null(f);
		fputs("outside", f);
		fclose(f);
	}
	assert_true(str_printf(link, sizeof(link), "%s/linked.js", top));
	assert_int_equal(symlink(outside, link), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	assert_true(str_printf(cmd, sizeof(cmd), "rm -rf '%s' '%s.outside.js'", top, top));
	return system(cmd) == 0 ? 0 : -1;
}

static void serves_listed_files_only(void **state)
{
	char err[256];
	struct static_dir *s;
	static const char *const yes[] = {
		"/ui/",
		"/ui/index.html",
		"/ui/app.js",
		"/ui/style.css",
		"/ui/logo.png",
		"/ui/img/",
		"/ui/img/icon.svg",
		"/ui/img/index.html",
		"/ui/a/b/c/deep.js",
		"/ui/linked.js",
	};
	static const char *const no[] = {
		"/ui",
		"/",
		"/index.html",
		"/ui/.env",
		"/ui/notes.md",
		"/ui/x y.js",
		"/ui/a/b/c/d/deeper.js",
		"/ui/../ui/app.js",
		"/ui/./app.js",
		"/ui//app.js",
		"/ui/img/../app.js",
		"/ui/%2e%2e/etc/passwd",
		"/ui/APP.JS",
		"/ui/app.js/",
		"/ui/a/",
	};

	(void)state;
	s = static_new(top, "/ui/", err, sizeof(err));
	assert_non_null(s);
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!static_has(s, yes[i]))
			fail_msg("not served: %s", yes[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (static_has(s, no[i]))
			fail_msg("served: %s", no[i]);
	}
	/* 8 files (index.html ×2, app, style, logo, icon, deep, linked) and
	 * the two directory aliases. */
	assert_int_equal(static_count(s), 10);
	static_free(s);
	static_free(NULL);
}

static void content_types(void **state)
{
	(void)state;
	assert_string_equal(static_content_type("index.html"), "text/html; charset=utf-8");
	assert_string_equal(static_content_type("app.js"), "text/javascript; charset=utf-8");
	assert_string_equal(static_content_type("mod.mjs"), "text/javascript; charset=utf-8");
	assert_string_equal(static_content_type("style.css"), "text/css; charset=utf-8");
	assert_string_equal(static_content_type("icon.svg"), "image/svg+xml");
	assert_string_equal(static_content_type("logo.png"), "image/png");
	assert_null(static_content_type("notes.md"));
	assert_null(static_content_type("js"));
	assert_null(static_content_type(".js"));
	assert_null(static_content_type("app.js.bak"));
}

static void errors(void **state)
{
	char err[256], missing[300];

	(void)state;
	assert_true(str_printf(missing, sizeof(missing), "%s/no-such-dir", top));
	assert_null(static_new(missing, "/", err, sizeof(err)));
	assert_non_null(strstr(err, "no-such-dir: cannot open"));
	assert_null(static_new(top, "ui/", err, sizeof(err)));
	assert_string_equal(err, "bad URL prefix");
	assert_null(static_new(top, "/ui", err, sizeof(err)));
	assert_string_equal(err, "bad URL prefix");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(serves_listed_files_only),
		cmocka_unit_test(content_types),
		cmocka_unit_test(errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
