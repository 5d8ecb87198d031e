/*
 * config — the table of every hotline configuration key.
 *
 * To add a key: add the field to struct hl_config, a row here, and the key
 * with its default and a comment to etc/hotline.conf.example (a unit test
 * fails when the example misses a key or shows a different default).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
/* In the order of enum hl_milter_on_error. */
static const char *const milter_on_error[] = {"tempfail", "accept", NULL};
/* In the order of enum hl_imap_tls and enum hl_imap_after_fetch. */
static const char *const imap_tls[] = {"implicit", "starttls", NULL};
static const char *const imap_after_fetch[] = {"seen", "move", "delete", NULL};

#define OFF(field) offsetof(struct hl_config, field)

static const struct conf_key config_table[] = {
	{"log", "level", CONF_ENUM, "info", 0, 0, log_levels, OFF(log.level)},

	{"database", "conninfo", CONF_STR, "dbname=hotline", 0, 1024, NULL, OFF(database.conninfo)},
	{"database", "owner_user", CONF_STR, "", 0, 63, NULL, OFF(database.owner_user)},
	{"database", "connect_timeout", CONF_INT, "5", 1, 300, NULL, OFF(database.connect_timeout)},
	{"database", "statement_timeout_ms", CONF_INT, "30000", 0, 3600000, NULL,
	 OFF(database.statement_timeout_ms)},
	{"database", "migrations_dir", CONF_STR, "/usr/share/hotline/migrations", 1, 1024, NULL,
	 OFF(database.migrations_dir)},

	{"line", "api_base_url", CONF_URL, "https://api.line.me", 0, 0, NULL,
	 OFF(line.api_base_url)},
	{"line", "data_api_base_url", CONF_URL, "https://api-data.line.me", 0, 0, NULL,
	 OFF(line.data_api_base_url)},
	{"line", "channel_secret_file", CONF_STR, "", 0, 1024, NULL, OFF(line.channel_secret_file)},
	{"line", "channel_token_file", CONF_STR, "", 0, 1024, NULL, OFF(line.channel_token_file)},
	{"line", "login_channel_id", CONF_STR, "", 0, 32, NULL, OFF(line.login_channel_id)},
	{"line", "liff_id", CONF_STR, "", 0, 64, NULL, OFF(line.liff_id)},
	{"line", "request_timeout_ms", CONF_INT, "10000", 100, 120000, NULL,
	 OFF(line.request_timeout_ms)},
	{"line", "ca_file", CONF_STR, "", 0, 1024, NULL, OFF(line.ca_file)},

	{"webhook", "listen", CONF_ADDR, "127.0.0.1:8080", 0, 0, NULL, OFF(webhook.listen)},
	{"webhook", "db_user", CONF_STR, "hotline_webhook", 1, 63, NULL, OFF(webhook.db_user)},
	{"webhook", "max_body_bytes", CONF_INT, "1048576", 1024, 16777216, NULL,
	 OFF(webhook.max_body_bytes)},
	/* Empty: replies name the 受信設定 page without a link. */
	{"webhook", "settings_url", CONF_STR, "", 0, 1024, NULL, OFF(webhook.settings_url)},
	{"webhook", "threads", CONF_INT, "4", 1, 64, NULL, OFF(webhook.threads)},
	{"webhook", "max_events", CONF_INT, "1000", 1, 10000, NULL, OFF(webhook.max_events)},
	{"webhook", "retry_base_ms", CONF_INT, "1000", 10, 600000, NULL,
	 OFF(webhook.retry_base_ms)},
	{"webhook", "retry_max_ms", CONF_INT, "300000", 100, 86400000, NULL,
	 OFF(webhook.retry_max_ms)},
	{"webhook", "max_attempts", CONF_INT, "10", 1, 100, NULL, OFF(webhook.max_attempts)},
	{"webhook", "liff_dir", CONF_STR, "/usr/share/hotline/www/liff", 1, 1024, NULL,
	 OFF(webhook.liff_dir)},

	{"admin", "listen", CONF_ADDR, "127.0.0.1:8081", 0, 0, NULL, OFF(admin.listen)},
	{"admin", "db_user", CONF_STR, "hotline_admin", 1, 63, NULL, OFF(admin.db_user)},
	{"admin", "cookie_secure", CONF_BOOL, "yes", 0, 0, NULL, OFF(admin.cookie_secure)},
	{"admin", "forwarded_for", CONF_BOOL, "no", 0, 0, NULL, OFF(admin.forwarded_for)},
	{"admin", "allow_from", CONF_STR, "", 0, 4096, NULL, OFF(admin.allow_from)},
	{"admin", "session_idle_timeout", CONF_INT, "1800", 1, 86400, NULL,
	 OFF(admin.session_idle_timeout)},
	{"admin", "session_max_age", CONF_INT, "43200", 60, 604800, NULL,
	 OFF(admin.session_max_age)},
	{"admin", "lockout_threshold", CONF_INT, "5", 1, 100, NULL, OFF(admin.lockout_threshold)},
	{"admin", "lockout_base_seconds", CONF_INT, "60", 1, 86400, NULL,
	 OFF(admin.lockout_base_seconds)},
	{"admin", "lockout_max_seconds", CONF_INT, "3600", 1, 604800, NULL,
	 OFF(admin.lockout_max_seconds)},
	{"admin", "ip_lockout_threshold", CONF_INT, "20", 1, 100000, NULL,
	 OFF(admin.ip_lockout_threshold)},
	{"admin", "totp_key_file", CONF_STR, "", 0, 1024, NULL, OFF(admin.totp_key_file)},
	{"admin", "www_dir", CONF_STR, "/usr/share/hotline/www/admin", 1, 1024, NULL,
	 OFF(admin.www_dir)},

	{"pusher", "metrics_listen", CONF_ADDR, "127.0.0.1:9101", 0, 0, NULL,
	 OFF(pusher.metrics_listen)},
	{"pusher", "db_user", CONF_STR, "hotline_pusher", 1, 63, NULL, OFF(pusher.db_user)},
	{"pusher", "max_in_flight", CONF_INT, "32", 1, 512, NULL, OFF(pusher.max_in_flight)},
	{"pusher", "connections", CONF_INT, "8", 1, 64, NULL, OFF(pusher.connections)},
	{"pusher", "multicast_per_second", CONF_INT, "190", 0, 100000, NULL,
	 OFF(pusher.multicast_per_second)},
	{"pusher", "multicast_burst", CONF_INT, "10", 1, 100000, NULL, OFF(pusher.multicast_burst)},
	{"pusher", "broadcasts_per_hour", CONF_INT, "60", 0, 1000, NULL,
	 OFF(pusher.broadcasts_per_hour)},
	{"pusher", "plan_chunk_batches", CONF_INT, "20", 1, 1000, NULL,
	 OFF(pusher.plan_chunk_batches)},
	{"pusher", "retry_base_ms", CONF_INT, "1000", 10, 600000, NULL, OFF(pusher.retry_base_ms)},
	{"pusher", "retry_max_ms", CONF_INT, "60000", 100, 3600000, NULL, OFF(pusher.retry_max_ms)},
	{"pusher", "give_up_hours", CONF_INT, "12", 1, 23, NULL, OFF(pusher.give_up_hours)},

	{"lmtp", "listen", CONF_ADDR, "127.0.0.1:2424", 0, 0, NULL, OFF(lmtp.listen)},
	{"lmtp", "db_user", CONF_STR, "hotline_ingest", 1, 63, NULL, OFF(lmtp.db_user)},
	{"lmtp", "hostname", CONF_STR, "", 0, 253, NULL, OFF(lmtp.hostname)},
	{"lmtp", "max_message_bytes", CONF_INT, "26214400", 65536, 104857600, NULL,
	 OFF(lmtp.max_message_bytes)},
	{"lmtp", "max_connections", CONF_INT, "64", 1, 1024, NULL, OFF(lmtp.max_connections)},
	{"lmtp", "timeout_seconds", CONF_INT, "300", 10, 3600, NULL, OFF(lmtp.timeout_seconds)},

	{"milter", "listen", CONF_ADDR, "127.0.0.1:8891", 0, 0, NULL, OFF(milter.listen)},
	{"milter", "db_user", CONF_STR, "hotline_ingest", 1, 63, NULL, OFF(milter.db_user)},
	{"milter", "on_error", CONF_ENUM, "tempfail", 0, 0, milter_on_error, OFF(milter.on_error)},
	/* The lists are parsed and checked by hotline-milter (milter/match.c). */
	{"milter", "match_senders", CONF_STR, "", 0, 1024, NULL, OFF(milter.match_senders)},
	{"milter", "match_recipients", CONF_STR, "", 0, 1024, NULL, OFF(milter.match_recipients)},
	{"milter", "max_message_bytes", CONF_INT, "26214400", 65536, 104857600, NULL,
	 OFF(milter.max_message_bytes)},
	{"milter", "timeout_seconds", CONF_INT, "300", 10, 3600, NULL, OFF(milter.timeout_seconds)},

	/* hotline-imapd checks at start that host, user and move_to are set
	 * when they are needed (milter/imapd.c). */
	{"imap", "enabled", CONF_BOOL, "no", 0, 0, NULL, OFF(imap.enabled)},
	{"imap", "host", CONF_STR, "", 0, 253, NULL, OFF(imap.host)},
	{"imap", "port", CONF_INT, "0", 0, 65535, NULL, OFF(imap.port)},
	{"imap", "tls", CONF_ENUM, "implicit", 0, 0, imap_tls, OFF(imap.tls)},
	{"imap", "ca_file", CONF_STR, "", 0, 1024, NULL, OFF(imap.ca_file)},
	{"imap", "user", CONF_STR, "", 0, 255, NULL, OFF(imap.user)},
	{"imap", "password_file", CONF_STR, "", 0, 1024, NULL, OFF(imap.password_file)},
	{"imap", "mailbox", CONF_STR, "INBOX", 1, 255, NULL, OFF(imap.mailbox)},
	{"imap", "after_fetch", CONF_ENUM, "seen", 0, 0, imap_after_fetch, OFF(imap.after_fetch)},
	{"imap", "move_to", CONF_STR, "", 0, 255, NULL, OFF(imap.move_to)},
	{"imap", "idle", CONF_BOOL, "yes", 0, 0, NULL, OFF(imap.idle)},
	{"imap", "poll_seconds", CONF_INT, "60", 1, 86400, NULL, OFF(imap.poll_seconds)},
	{"imap", "db_user", CONF_STR, "hotline_ingest", 1, 63, NULL, OFF(imap.db_user)},
	{"imap", "max_message_bytes", CONF_INT, "26214400", 65536, 104857600, NULL,
	 OFF(imap.max_message_bytes)},
	{"imap", "timeout_seconds", CONF_INT, "60", 5, 3600, NULL, OFF(imap.timeout_seconds)},
};

#define NKEYS (sizeof(config_table) / sizeof(config_table[0]))

const struct conf_key *config_keys(size_t *n)
{
	*n = NKEYS;
	return config_table;
}

const char *config_path(const char *arg)
{
	const char *env = getenv("HOTLINE_CONFIG");

	if (arg != NULL && *arg != '\0')
		return arg;
	if (env != NULL && *env != '\0')
		return env;
	return HL_CONFIG_DEFAULT_PATH;
}

static struct hl_config *load(const char *path, const char *text, char *err, size_t errlen)
{
	struct hl_config *cfg;
	int rc;

	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		str_msg(err, errlen, "out of memory");
		return NULL;
	}
	if (text != NULL)
		rc = conf_load_string(config_table, NKEYS, cfg, text, path, err, errlen);
	else
		rc = conf_load(config_table, NKEYS, cfg, path, err, errlen);
	if (rc < 0) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct hl_config *config_load(const char *path, char *err, size_t errlen)
{
	return load(path, NULL, err, errlen);
}

struct hl_config *config_load_string(const char *text, const char *name, char *err, size_t errlen)
{
	return load(name, text, err, errlen);
}

void config_free(struct hl_config *cfg)
{
	if (cfg == NULL)
		return;
	conf_clear(config_table, NKEYS, cfg);
	free(cfg);
}

/* Longest secret accepted; LINE's long-lived channel tokens are ~172 bytes. */
#define SECRET_MAX 4096

static const struct {
	const char *what;
	const char *env;
	const char *key;
} secret_sources[] = {
	[HL_SECRET_LINE_CHANNEL_SECRET] = {"the LINE channel secret", "HOTLINE_LINE_CHANNEL_SECRET",
					   "[line] channel_secret_file"},
	[HL_SECRET_LINE_CHANNEL_TOKEN] = {"the LINE channel access token",
					  "HOTLINE_LINE_CHANNEL_TOKEN",
					  "[line] channel_token_file"},
	[HL_SECRET_IMAP_PASSWORD] = {"the IMAP password", "HOTLINE_IMAP_PASSWORD",
				     "[imap] password_file"},
	[HL_SECRET_ADMIN_TOTP_KEY] = {"the TOTP sealing key", "HOTLINE_ADMIN_TOTP_KEY",
				      "[admin] totp_key_file"},
};

static const char *secret_file(const struct hl_config *cfg, enum hl_secret which)
{
	switch (which) {
	case HL_SECRET_LINE_CHANNEL_SECRET:
		return cfg->line.channel_secret_file;
	case HL_SECRET_LINE_CHANNEL_TOKEN:
		return cfg->line.channel_token_file;
	case HL_SECRET_IMAP_PASSWORD:
		return cfg->imap.password_file;
	case HL_SECRET_ADMIN_TOTP_KEY:
		return cfg->admin.totp_key_file;
	}
	return "";
}

/* Read a secret file: one line, trailing newline dropped. */
static char *read_secret_file(const char *path, char *err, size_t errlen)
{
	FILE *fp;
	char *buf = NULL;
	size_t n;

	fp = fopen(path, "r");
	if (fp == NULL) {
		str_msg(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(SECRET_MAX + 2);
	if (buf == NULL) {
		str_msg(err, errlen, "out of memory");
		goto fail;
	}
	n = fread(buf, 1, SECRET_MAX + 1, fp);
	if (ferror(fp) || n > SECRET_MAX) {
		str_msg(err, errlen, "%s: unreadable or longer than %d bytes", path, SECRET_MAX);
		goto fail;
	}
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	fclose(fp);
	return buf;
fail:
	if (buf != NULL) {
		str_wipe(buf, SECRET_MAX + 2);
		free(buf);
	}
	fclose(fp);
	return NULL;
}

static bool printable_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

char *config_secret(const struct hl_config *cfg, enum hl_secret which, char *err, size_t errlen)
{
	const char *env = getenv(secret_sources[which].env);
	const char *file = secret_file(cfg, which);
	char *value = NULL;
	char why[256];

	if (env != NULL && *env != '\0') {
		if (strlen(env) > SECRET_MAX || !printable_token(env)) {
			str_msg(err, errlen,
				"%s in %s is not a single token of printable ASCII of at most %d "
				"bytes",
				secret_sources[which].what, secret_sources[which].env, SECRET_MAX);
			return NULL;
		}
		value = strdup(env);
		if (value == NULL)
			str_msg(err, errlen, "out of memory");
		return value;
	}
	if (*file == '\0') {
		str_msg(err, errlen, "%s is not set: set the environment variable %s or %s",
			secret_sources[which].what, secret_sources[which].env,
			secret_sources[which].key);
		return NULL;
	}
	value = read_secret_file(file, why, sizeof(why));
	if (value == NULL) {
		str_msg(err, errlen, "%s (%s): %s", secret_sources[which].what,
			secret_sources[which].key, why);
		return NULL;
	}
	if (!printable_token(value)) {
		str_msg(err, errlen, "%s in %s is empty or not a single token of printable ASCII",
			secret_sources[which].what, file);
		str_wipe(value, strlen(value));
		free(value);
		return NULL;
	}
	return value;
}
