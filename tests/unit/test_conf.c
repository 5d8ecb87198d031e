/* Unit tests for lib/conf and lib/config: every bad input is refused with
 * FILE:LINE and the reason, and the example file documents every key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "str.h"

static void defaults_without_file_content(void **state)
{
	char err[512];
	struct hl_config *cfg = config_load_string("", "t.conf", err, sizeof(err));

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(cfg->log.level, LOG_LEVEL_INFO);
	assert_string_equal(cfg->webhook.listen, "127.0.0.1:8080");
	assert_string_equal(cfg->admin.listen, "127.0.0.1:8081");
	assert_string_equal(cfg->database.conninfo, "dbname=hotline");
	assert_int_equal(cfg->database.connect_timeout, 5);
	assert_string_equal(cfg->line.api_base_url, "https://api.line.me");
	config_free(cfg);
}

static void values_override_defaults(void **state)
{
	char err[512];
	struct hl_config *cfg =
		config_load_string("; comment\n"
				   "[log]\nlevel = debug\n"
				   "[webhook]\nlisten = [::1]:9000 ; inline comment\n"
				   "max_body_bytes=2048\n"
				   "[line]\napi_base_url = http://127.0.0.1:8900\n"
				   "[admin]\nlisten = unix:/run/hotline/admin.sock\n",
				   "t.conf", err, sizeof(err));

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(cfg->log.level, LOG_LEVEL_DEBUG);
	assert_string_equal(cfg->webhook.listen, "[::1]:9000");
	assert_int_equal(cfg->webhook.max_body_bytes, 2048);
	assert_string_equal(cfg->line.api_base_url, "http://127.0.0.1:8900");
	assert_string_equal(cfg->admin.listen, "unix:/run/hotline/admin.sock");
	config_free(cfg);
}

/* Each bad file and the exact error it must produce. */
static const struct {
	const char *text;
	const char *want;
} bad_files[] = {
	{"[log]\nlevel = loud\n",
	 "t.conf:2: [log] level: expected one of debug, info, warn, error, got 'loud'"},
	{"[log]\nlevl = info\n", "t.conf:2: unknown key 'levl' in [log]"},
	{"\n\n[nosuch]\nx = 1\n", "t.conf:4: unknown key 'x' in [nosuch]"},
	{"level = info\n", "t.conf:1: 'level' is outside any [section]"},
	{"[database]\nconnect_timeout = 0\n",
	 "t.conf:2: [database] connect_timeout: expected a whole number from 1 to 300, got '0'"},
	{"[database]\nconnect_timeout = 5s\n",
	 "t.conf:2: [database] connect_timeout: expected a whole number from 1 to 300, got '5s'"},
	{"[webhook]\nlisten = localhost:8080\n",
	 "t.conf:2: [webhook] listen: expected IP:PORT (e.g. 127.0.0.1:8080), [IPv6]:PORT or "
	 "unix:/path"},
	{"[webhook]\nlisten = 127.0.0.1:70000\n",
	 "t.conf:2: [webhook] listen: expected IP:PORT (e.g. 127.0.0.1:8080), [IPv6]:PORT or "
	 "unix:/path"},
	{"[line]\napi_base_url = ftp://x\n",
	 "t.conf:2: [line] api_base_url: expected an http:// or https:// URL"},
	{"[line]\napi_base_url = https://api.line.me/\n",
	 "t.conf:2: [line] api_base_url: expected a URL with a host and no trailing '/' (e.g. "
	 "https://api.line.me)"},
	{"[log]\nlevel = info\n[log]\nlevel = warn\n",
	 "t.conf:4: [log] level is set twice (first on line 2)"},
	{"[log]\nthis line has no equals sign\n",
	 "t.conf:2: syntax error: expected '[section]' or 'key = value'"},
	{"[log\n", "t.conf:1: syntax error: expected '[section]' or 'key = value'"},
	{"[log]\nlevel = info\n  continued\n",
	 "t.conf:3: syntax error: expected '[section]' or 'key = value'"},
};

static void bad_values_name_file_and_line(void **state)
{
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		struct hl_config *cfg =
			config_load_string(bad_files[i].text, "t.conf", err, sizeof(err));

		assert_null(cfg);
		assert_string_equal(err, bad_files[i].want);
	}
}

static void overlong_line_is_refused(void **state)
{
	char text[600], err[512];
	size_t len = 0;

	(void)state;
	assert_true(str_appendf(text, sizeof(text), &len, "[database]\nconninfo = "));
	while (len < 300)
		text[len++] = 'x';
	text[len++] = '\n';
	text[len] = '\0';
	assert_null(config_load_string(text, "t.conf", err, sizeof(err)));
	assert_string_equal(err, "t.conf:2: line is longer than 196 bytes");
}

static void missing_file_is_named(void **state)
{
	char err[512];

	(void)state;
	assert_null(config_load("/nonexistent/hotline.conf", err, sizeof(err)));
	assert_string_equal(err,
			    "/nonexistent/hotline.conf: cannot open: No such file or directory");
}

/* Find "key = value" (possibly commented out with '#') in section. */
static const char *example_value(const char *text, const char *section, const char *key, char *buf,
				 size_t size)
{
	char want_section[80], line[256];
	const char *p = text;
	bool in_section = false;

	assert_true(str_printf(want_section, sizeof(want_section), "[%s]", section));
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char *s;

		assert_true(n < sizeof(line));
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl != NULL);
		if (line[0] == '[') {
			in_section = strcmp(line, want_section) == 0;
			continue;
		}
		if (!in_section)
			continue;
		s = line;
		if (strncmp(s, "# ", 2) == 0)
			s += 2;
		if (strncmp(s, key, strlen(key)) == 0 && strncmp(s + strlen(key), " =", 2) == 0) {
			s += strlen(key) + 2;
			if (*s == ' ')
				s++;
			assert_true(str_copy(buf, s, size));
			return buf;
		}
	}
	return NULL;
}

static void example_documents_every_key(void **state)
{
	const char *top = getenv("HL_TOP");
	char path[1024], err[512], value[256];
	struct hl_config *cfg;
	const struct conf_key *keys;
	char *text;
	size_t n, i, len;
	FILE *fp;

	(void)state;
	assert_true(str_printf(path, sizeof(path), "%s/etc/hotline.conf.example",
			       top != NULL ? top : "."));
	/* The example itself must load. */
	cfg = config_load(path, err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	config_free(cfg);

	fp = fopen(path, "r");
	assert_non_null(fp);
	text = malloc(65536);
	assert_non_null(text);
	len = fread(text, 1, 65535, fp);
	text[len] = '\0';
	fclose(fp);
	keys = config_keys(&n);
	for (i = 0; i < n; i++) {
		if (example_value(text, keys[i].section, keys[i].name, value, sizeof(value)) ==
		    NULL)
			fail_msg("[%s] %s is missing from %s", keys[i].section, keys[i].name, path);
		if (strcmp(value, keys[i].def) != 0)
			fail_msg("[%s] %s: the example shows '%s', the default is '%s'",
				 keys[i].section, keys[i].name, value, keys[i].def);
	}
	free(text);
}

static void secrets_come_from_env_or_file(void **state)
{
	char err[512], path[] = "/tmp/hl-secret-XXXXXX";
	struct hl_config *cfg;
	char *s, conf[256];
	FILE *fp;
	int fd;

	(void)state;
	unsetenv("HOTLINE_LINE_CHANNEL_SECRET");
	cfg = config_load_string("", "t.conf", err, sizeof(err));
	assert_non_null(cfg);
	assert_null(config_secret(cfg, HL_SECRET_LINE_CHANNEL_SECRET, err, sizeof(err)));
	assert_string_equal(err, "the LINE channel secret is not set: set the environment variable "
				 "HOTLINE_LINE_CHANNEL_SECRET or [line] channel_secret_file");
	setenv("HOTLINE_LINE_CHANNEL_SECRET", "0123456789abcdef0123456789abcdef", 1);
	s = config_secret(cfg, HL_SECRET_LINE_CHANNEL_SECRET, err, sizeof(err));
	assert_non_null(s);
	assert_string_equal(s, "0123456789abcdef0123456789abcdef");
	free(s);
	setenv("HOTLINE_LINE_CHANNEL_SECRET", "two words", 1);
	assert_null(config_secret(cfg, HL_SECRET_LINE_CHANNEL_SECRET, err, sizeof(err)));
	unsetenv("HOTLINE_LINE_CHANNEL_SECRET");
	config_free(cfg);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs("token-from-file\n", fp);
	fclose(fp);
	assert_true(str_printf(conf, sizeof(conf), "[line]\nchannel_token_file = %s\n", path));
	unsetenv("HOTLINE_LINE_CHANNEL_TOKEN");
	cfg = config_load_string(conf, "t.conf", err, sizeof(err));
	assert_non_null(cfg);
	s = config_secret(cfg, HL_SECRET_LINE_CHANNEL_TOKEN, err, sizeof(err));
	assert_non_null(s);
	assert_string_equal(s, "token-from-file");
	free(s);
	unlink(path);
	assert_null(config_secret(cfg, HL_SECRET_LINE_CHANNEL_TOKEN, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open"));
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_without_file_content),
		cmocka_unit_test(values_override_defaults),
		cmocka_unit_test(bad_values_name_file_and_line),
		cmocka_unit_test(overlong_line_is_refused),
		cmocka_unit_test(missing_file_is_named),
		cmocka_unit_test(example_documents_every_key),
		cmocka_unit_test(secrets_come_from_env_or_file),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
