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

#include <stdbool.h>
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
		char *liff_id;
		long long request_timeout_ms;
		char *ca_file;
	} line;
	struct {
		char *listen;
		char *db_user;
		long long max_body_bytes;
		char *settings_url;
		long long threads;
		long long max_events;
		long long retry_base_ms;
		long long retry_max_ms;
		long long max_attempts;
		char *liff_dir;
	} webhook;
	struct {
		char *listen;
		char *db_user;
		bool cookie_secure;
		bool forwarded_for;
		char *allow_from; /* "" = every address (admin/allow.h) */
		long long session_idle_timeout;
		long long session_max_age;
		long long lockout_threshold;
		long long lockout_base_seconds;
		long long lockout_max_seconds;
		long long ip_lockout_threshold;
		char *totp_key_file;
		char *www_dir;
	} admin;
	struct {
		char *metrics_listen;
		char *db_user;
		long long max_in_flight;
		long long connections;
		long long multicast_per_second;
		long long multicast_burst;
		long long broadcasts_per_hour;
		long long plan_chunk_batches;
		long long retry_base_ms;
		long long retry_max_ms;
		long long give_up_hours;
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
	struct {
		bool enabled;
		char *host;
		long long port; /* 0: 993 for implicit TLS, 143 for STARTTLS */
		int tls;	/* enum hl_imap_tls */
		char *ca_file;
		char *user;
		char *password_file;
		char *mailbox;
		int after_fetch; /* enum hl_imap_after_fetch */
		char *move_to;
		bool idle;
		long long poll_seconds;
		char *db_user;
		long long max_message_bytes;
		long long timeout_seconds;
	} imap;
};

/* [imap] tls: how the connection to the IMAP server is secured. */
enum hl_imap_tls {
	HL_IMAP_TLS_IMPLICIT = 0, /* TLS from the first byte (imaps, port 993) */
	HL_IMAP_TLS_STARTTLS,	  /* STARTTLS on the IMAP port (143) */
};

/* [imap] after_fetch: what is done on the server with a mail once stored. */
enum hl_imap_after_fetch {
	HL_IMAP_AFTER_SEEN = 0, /* flag it \Seen, leave it where it is */
	HL_IMAP_AFTER_MOVE,	/* move it to [imap] move_to */
	HL_IMAP_AFTER_DELETE,	/* delete and expunge it */
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
	HL_SECRET_IMAP_PASSWORD,       /* imapd: logs in to the IMAP server */
	HL_SECRET_ADMIN_TOTP_KEY,      /* admin: seals staff TOTP secrets */
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
