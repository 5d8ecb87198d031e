/*
 * config — hotline's configuration: every key any daemon reads, with its
 * default and bounds, in one table (config.c), and the secrets.
 *
 * All daemons read the same INI file, so each one checks the whole file:
 * a typo in any section stops every daemon with FILE:LINE rather than being
 * silently ignored by the daemons that do not use it.  The struct is plain
 * data, filled once at start-up and read-only afterwards; it is the only
 * global state a daemon has.
 *
 * Secrets never live in the shared file: each comes from an environment
 * variable or from a file named in the config (a systemd credential), so
 * each daemon holds only its own.
 */
#ifndef HL_CONFIG_H
#define HL_CONFIG_H

#include <stddef.h>

#include "conf.h"

#define HL_CONFIG_DEFAULT_PATH "/etc/hotline/hotline.conf"

struct hl_config {
	struct {
		int level; /* enum log_level */
	} log;
	struct {
		char *conninfo;
		char *owner_user;
		long long connect_timeout;
		long long statement_timeout_ms;
		char *migrations_dir;
	} database;
	struct {
		char *api_base_url;
		char *data_api_base_url;
		char *channel_secret_file;
		char *channel_token_file;
		char *login_channel_id;
		long long request_timeout_ms;
	} line;
	struct {
		char *listen;
		char *db_user;
		long long max_body_bytes;
	} webhook;
	struct {
		char *listen;
		char *db_user;
	} admin;
	struct {
		char *metrics_listen;
		char *db_user;
	} pusher;
	struct {
		char *listen;
		char *db_user;
		char *hostname;
		long long max_message_bytes;
		long long max_connections;
		long long timeout_seconds;
	} lmtp;
	struct {
		char *listen;
		char *db_user;
		int on_error; /* enum hl_milter_on_error */
		char *match_senders;
		char *match_recipients;
		long long max_message_bytes;
		long long timeout_seconds;
	} milter;
};

/* [milter] on_error: what Postfix is told when an alert copy failed for a
 * reason that passes (the database is down). */
enum hl_milter_on_error {
	HL_MILTER_TEMPFAIL = 0, /* 4xx: Postfix retries, the alert is not lost */
	HL_MILTER_ACCEPT,	/* the mail flows on, the copy is missed (logged) */
};

enum hl_secret {
	HL_SECRET_LINE_CHANNEL_SECRET, /* webhook: verifies X-Line-Signature */
	HL_SECRET_LINE_CHANNEL_TOKEN,  /* pusher and rich menus: calls LINE */
};

/* The path to read: arg if given, else $HOTLINE_CONFIG, else the default. */
const char *config_path(const char *arg);

/* Load path; NULL with "FILE:LINE: what is wrong" in err. */
struct hl_config *config_load(const char *path, char *err, size_t errlen);

/* Load from memory (tests); name stands for the file in messages. */
struct hl_config *config_load_string(const char *text, const char *name, char *err, size_t errlen);

void config_free(struct hl_config *cfg);

/* The key table, for the check that every key is documented. */
const struct conf_key *config_keys(size_t *n);

/* A secret as a malloc'd string the caller wipes (str_wipe) and frees.
 * NULL with err saying which variable or key to set, or what is wrong with
 * the value found. */
char *config_secret(const struct hl_config *cfg, enum hl_secret which, char *err, size_t errlen);

#endif
