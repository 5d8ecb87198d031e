/*
 * hotline-imapd — for cities that cannot change Postfix: fetches the
 * alerts from one IMAP mailbox (milter/imap_fetch, libetpan over OpenSSL)
 * and hands each one to the same core as hotline-lmtpd and hotline-milter
 * (lib/ingest), with via = 'imap' and source_ref = mailbox/UIDVALIDITY/UID.
 *
 * Exactly once: the mailbox's UIDVALIDITY and the highest UID taken live in
 * imap_state and are written in the transaction that stores the mail (the
 * ingest request's in_txn step, lib/store_imap), so a restart at any point,
 * kill -9 included, starts right after the last committed mail.  When the
 * UIDVALIDITY changes the mailbox is read again from UID 1, and the core's
 * Message-ID de-duplication keeps what was stored before from coming twice.
 *
 * Each round: list the UIDs above the last one taken, fetch each mail with
 * BODY.PEEK[] (so \Seen is not set early), store it, then mark it \Seen,
 * move it or delete it ([imap] after_fetch).  A mail refused for good (not
 * a mail, sender not allowed: kept for audit as failed/ignored) counts as
 * taken and gets the same treatment, so it never loops; a mail over
 * [imap] max_message_bytes is not downloaded, is flagged \Flagged and left
 * where it is, and the position moves past it.  When the database is
 * unreachable the mail stays on the server untouched and the round is
 * retried with back-off.  Between rounds: IDLE when the server offers it
 * (and [imap] idle is on), else a sleep of poll_seconds and a NOOP.  A lost
 * connection, a refused login or an untrusted certificate is logged and
 * retried with back-off (1 s doubling to 5 min).
 *
 * SIGTERM/SIGINT: the mail being stored is finished, then the daemon exits
 * 0, also from IDLE or a network wait.  Connects as hotline_ingest; holds
 * the IMAP password and no LINE secret.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "imap_fetch.h"
#include "ingest.h"
#include "log.h"
#include "mail.h"
#include "store_imap.h"
#include "str.h"

#define PROG "hotline-imapd"
/* Reconnection back-off: 1 s, doubling, at most this. */
#define BACKOFF_MAX_SECONDS 300
/* Database retry back-off while connected to IMAP: at most this. */
#define DB_RETRY_MAX_SECONDS 60
/* RFC 2177: servers may drop an IDLE after 30 minutes; re-issue before. */
#define IDLE_REFRESH_SECONDS (25 * 60)

struct fetcher {
	const struct hl_config *cfg;
	struct ingest *ingest;
	struct db *db;
	int sfd;
	char account[600]; /* user@host, the imap_state key */
	bool stop;
};

enum round { ROUND_OK, ROUND_DB, ROUND_IMAP };

/* Read the pending signals; true when the daemon must stop. */
static bool take_signals(struct fetcher *f)
{
	int sig;

	while ((sig = daemon_read_signal(f->sfd)) != 0) {
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("stopping", "signal=%d", sig);
			f->stop = true;
		} else if (sig == SIGHUP) {
			log_info("SIGHUP ignored", "hint=\"restart to reload the configuration\"");
		}
	}
	return f->stop;
}

/* Sleep seconds unless a signal comes; true when the daemon must stop. */
static bool sleep_or_stop(struct fetcher *f, long seconds)
{
	struct pollfd pfd = {f->sfd, POLLIN, 0};
	int n;

	do
		n = poll(&pfd, 1, (int)(seconds * 1000));
	while (n < 0 && errno == EINTR);
	return n > 0 && take_signals(f);
}

static bool stop_pending(struct fetcher *f)
{
	return sleep_or_stop(f, 0);
}

static enum hl_status advance_in_txn(struct db *db, void *arg)
{
	return store_imap_advance(db, arg);
}

static const char *after_fetch_name(int a)
{
	return a == HL_IMAP_AFTER_MOVE ? "move" : a == HL_IMAP_AFTER_DELETE ? "delete" : "seen";
}

/* [imap] after_fetch for a stored mail. */
static int after_fetch(struct fetcher *f, struct imap_client *c, uint32_t uid, char *err,
		       size_t errlen)
{
	switch (f->cfg->imap.after_fetch) {
	case HL_IMAP_AFTER_MOVE:
		return imap_move(c, uid, f->cfg->imap.move_to, err, errlen);
	case HL_IMAP_AFTER_DELETE:
		return imap_delete(c, uid, err, errlen);
	default:
		return imap_mark_seen(c, uid, err, errlen);
	}
}

/*
 * The after-fetch step of mail taken before but still unmarked: a crash or
 * a lost connection between the commit and the mark leaves such a mail at
 * or below the recorded position, where no round looks again.  Done once
 * per connection; mail flagged \Flagged (too large, or flagged by staff)
 * is left alone.  False when the connection failed.
 */
static bool catch_up(struct fetcher *f, struct imap_client *c, uint32_t uidvalidity)
{
	uint32_t v = 0, last = 0, *uids = NULL;
	char err[512], q[600];
	bool found = false, ok = true;
	size_t n = 0, i;

	if (store_imap_get(f->db, f->account, f->cfg->imap.mailbox, &v, &last, &found) != HL_OK ||
	    !found || v != uidvalidity || last == 0)
		return true; /* nothing known to catch up on (or next time) */
	if (imap_search_taken(c, last, f->cfg->imap.after_fetch == HL_IMAP_AFTER_SEEN, &uids, &n,
			      err, sizeof(err)) < 0) {
		if (!imap_stopped(c))
			log_warn("IMAP command failed", "error=%s", log_quote(err, q, sizeof(q)));
		return false;
	}
	for (i = 0; i < n && ok; i++) {
		if (after_fetch(f, c, uids[i], err, sizeof(err)) < 0) {
			if (!imap_stopped(c))
				log_warn("IMAP command failed", "uid=%lu error=%s",
					 (unsigned long)uids[i], log_quote(err, q, sizeof(q)));
			ok = false;
		}
	}
	if (n > 0 && ok)
		log_info("after-fetch step caught up for mail stored before",
			 "count=%zu after_fetch=%s", n, after_fetch_name(f->cfg->imap.after_fetch));
	free(uids);
	return ok;
}

/* A mail too large to fetch: recorded as taken, flagged, left in place. */
static enum round skip_large(struct fetcher *f, struct imap_client *c,
			     const struct imap_position *pos, unsigned long size)
{
	char err[512], q[600];
	enum hl_status st;

	log_warn("mail too large: left on the server, flagged",
		 "uid=%lu size=%lu max_message_bytes=%lld", (unsigned long)pos->last_uid, size,
		 f->cfg->imap.max_message_bytes);
	st = store_imap_advance(f->db, pos);
	if (st != HL_OK) {
		log_warn("cannot record the IMAP position", "uid=%lu error=%s",
			 (unsigned long)pos->last_uid, log_quote(db_error(f->db), q, sizeof(q)));
		return ROUND_DB;
	}
	if (imap_mark_flagged(c, pos->last_uid, err, sizeof(err)) < 0) {
		log_warn("IMAP command failed", "error=%s", log_quote(err, q, sizeof(q)));
		return ROUND_IMAP;
	}
	return ROUND_OK;
}

static enum round take_one(struct fetcher *f, struct imap_client *c, uint32_t uidvalidity,
			   const struct imap_message *m)
{
	const struct hl_config *cfg = f->cfg;
	struct imap_position pos = {f->account, cfg->imap.mailbox, uidvalidity, m->uid};
	struct ingest_outcome out;
	struct ingest_request rq;
	char err[512], q[600], from[512], ref[400];
	char *raw = NULL;
	size_t len = 0;
	enum hl_status st;

	if ((long long)m->size > cfg->imap.max_message_bytes)
		return skip_large(f, c, &pos, m->size);
	if (imap_fetch(c, m->uid, &raw, &len, err, sizeof(err)) < 0) {
		if (!imap_stopped(c))
			log_warn("IMAP command failed", "uid=%lu error=%s", (unsigned long)m->uid,
				 log_quote(err, q, sizeof(q)));
		return ROUND_IMAP;
	}
	if ((long long)len > cfg->imap.max_message_bytes) {
		free(raw);
		return skip_large(f, c, &pos, len);
	}
	if (!imap_return_path(raw, len, from, sizeof(from)))
		from[0] = '\0';
	str_msg(ref, sizeof(ref), "%s/%lu/%lu", cfg->imap.mailbox, (unsigned long)uidvalidity,
		(unsigned long)m->uid);
	memset(&rq, 0, sizeof(rq));
	rq.via = "imap";
	rq.source_ref = ref;
	rq.envelope_from = from;
	rq.raw = raw;
	rq.len = len;
	rq.in_txn = advance_in_txn;
	rq.in_txn_arg = &pos;
	memset(&out, 0, sizeof(out));
	st = ingest_mail(f->ingest, f->db, &rq, &out);
	free(raw);
	if (st == HL_TEMPFAIL) {
		log_warn("mail deferred: left on the server, retried later", "uid=%lu reason=%s",
			 (unsigned long)m->uid, log_quote(out.reason, q, sizeof(q)));
		return ROUND_DB;
	}
	if (st == HL_OK)
		log_info("mail accepted",
			 "uid=%lu mail_id=%lld delivery_id=%lld duplicate=%s size=%zu",
			 (unsigned long)m->uid, out.mail_id, out.delivery_id,
			 out.duplicate ? "yes" : "no", len);
	else
		log_warn("mail refused: kept for audit, not sent", "uid=%lu mail_id=%lld reason=%s",
			 (unsigned long)m->uid, out.mail_id, log_quote(out.reason, q, sizeof(q)));

	if (after_fetch(f, c, m->uid, err, sizeof(err)) < 0) {
		/* Stored already: the position is past it, so it is not taken
		 * again; only the mark is missing on the server. */
		if (!imap_stopped(c))
			log_warn("IMAP command failed after the mail was stored",
				 "uid=%lu after_fetch=%s error=%s", (unsigned long)m->uid,
				 after_fetch_name(cfg->imap.after_fetch),
				 log_quote(err, q, sizeof(q)));
		return ROUND_IMAP;
	}
	return ROUND_OK;
}

/* Take every mail above the recorded position. */
static enum round fetch_round(struct fetcher *f, struct imap_client *c, uint32_t uidvalidity)
{
	const struct hl_config *cfg = f->cfg;
	struct imap_message *msgs = NULL;
	uint32_t v = 0, last = 0;
	char err[512], q[600];
	enum round r = ROUND_OK;
	enum hl_status st;
	bool found = false;
	size_t n = 0, i;

	st = store_imap_get(f->db, f->account, cfg->imap.mailbox, &v, &last, &found);
	/* A connection cut while the daemon idled (a database restart, an
	 * idle timeout) fails once: reconnect at once rather than back off. */
	if (st == HL_TEMPFAIL && db_connection_lost(f->db))
		st = store_imap_get(f->db, f->account, cfg->imap.mailbox, &v, &last, &found);
	if (st != HL_OK) {
		log_warn("cannot read the IMAP position", "error=%s",
			 log_quote(db_error(f->db), q, sizeof(q)));
		return ROUND_DB;
	}
	if (found && v != uidvalidity) {
		log_warn("UIDVALIDITY changed: reading the mailbox again from UID 1 (mail stored "
			 "before is recognised by its Message-ID)",
			 "mailbox=%s old=%lu new=%lu", log_quote(cfg->imap.mailbox, q, sizeof(q)),
			 (unsigned long)v, (unsigned long)uidvalidity);
		last = 0;
	}
	if (imap_list_after(c, last, &msgs, &n, err, sizeof(err)) < 0) {
		if (!imap_stopped(c))
			log_warn("IMAP command failed", "error=%s", log_quote(err, q, sizeof(q)));
		return ROUND_IMAP;
	}
	if (n > 0)
		log_debug("new mail", "count=%zu after_uid=%lu", n, (unsigned long)last);
	for (i = 0; i < n && r == ROUND_OK; i++) {
		if (stop_pending(f))
			break;
		r = take_one(f, c, uidvalidity, &msgs[i]);
	}
	free(msgs);
	return r;
}

/* One connection: open, then rounds and waits until something fails.
 * True when it reached the mailbox (the back-off starts again). */
static bool session(struct fetcher *f, const struct imap_params *p, long backoff)
{
	const struct hl_config *cfg = f->cfg;
	struct imap_client *c = imap_client_new(p);
	static const char *const phases[] = {"connect", "tls", "login", "select", "ready"};
	enum imap_phase phase;
	uint32_t uidvalidity;
	char err[512], q[600];
	long db_wait = 1;
	bool ready = false;

	if (c == NULL)
		log_fatal("out of memory", NULL);
	if (imap_open(c, &uidvalidity, &phase, err, sizeof(err)) < 0) {
		if (!imap_stopped(c))
			log_error("cannot open the IMAP mailbox",
				  "host=%s port=%u phase=%s error=%s retry_in=%ld", p->host,
				  p->port, phases[phase], log_quote(err, q, sizeof(q)), backoff);
		goto done;
	}
	ready = true;
	log_info("mailbox open",
		 "host=%s port=%u tls=%s mailbox=%s uidvalidity=%lu idle=%s after_fetch=%s",
		 p->host, p->port, p->starttls ? "starttls" : "implicit",
		 log_quote(cfg->imap.mailbox, q, sizeof(q)), (unsigned long)uidvalidity,
		 cfg->imap.idle && imap_can_idle(c) ? "yes" : "no",
		 after_fetch_name(cfg->imap.after_fetch));
	if (!catch_up(f, c, uidvalidity))
		goto done;
	for (;;) {
		enum round r = fetch_round(f, c, uidvalidity);
		bool idle, activity;

		if (f->stop || imap_stopped(c) || r == ROUND_IMAP)
			break;
		if (r == ROUND_DB) {
			if (sleep_or_stop(f, db_wait))
				break;
			db_wait = db_wait * 2 > DB_RETRY_MAX_SECONDS ? DB_RETRY_MAX_SECONDS
								     : db_wait * 2;
			continue;
		}
		db_wait = 1;
		/* New mail reported in the answer to some other command is not
		 * reported again by IDLE: list again first. */
		if (imap_new_mail_reported(c))
			continue;
		idle = cfg->imap.idle && imap_can_idle(c);
		log_debug("waiting for mail", "idle=%s", idle ? "yes" : "no");
		if (imap_wait(c, idle, idle ? IDLE_REFRESH_SECONDS : (long)cfg->imap.poll_seconds,
			      &activity, err, sizeof(err)) < 0) {
			if (!imap_stopped(c))
				log_warn("IMAP connection lost", "error=%s",
					 log_quote(err, q, sizeof(q)));
			break;
		}
	}
done:
	imap_client_free(c);
	/* A signal may have cut a network wait short: read it now. */
	(void)take_signals(f);
	return ready;
}

int main(int argc, char **argv)
{
	struct fetcher f;
	struct hl_config *cfg;
	struct imap_params p;
	struct mail_limits lim;
	char *password;
	bool check_only;
	long backoff = 1;

	cfg = daemon_init(PROG, "IMAP fetcher for the city's alert mail.", argc, argv, &check_only);
	if (!cfg->imap.enabled) {
		if (check_only)
			printf("%s: configuration ok ([imap] enabled = no: nothing to fetch)\n",
			       PROG);
		else
			log_info("IMAP fetching is off: nothing to do",
				 "hint=\"set [imap] enabled = yes, host and user\"");
		config_free(cfg);
		return 0;
	}
	{
		const char *missing =
			*cfg->imap.host == '\0'	  ? "[imap] host"
			: *cfg->imap.user == '\0' ? "[imap] user"
			: cfg->imap.after_fetch == HL_IMAP_AFTER_MOVE && *cfg->imap.move_to == '\0'
				? "[imap] move_to (after_fetch = move)"
				: NULL;

		if (missing != NULL) {
			fprintf(stderr, "%s: %s is not set\n", PROG, missing);
			return DAEMON_EXIT_CONFIG;
		}
		if (*cfg->imap.ca_file != '\0' && access(cfg->imap.ca_file, R_OK) != 0) {
			fprintf(stderr, "%s: cannot read [imap] ca_file %s: %s\n", PROG,
				cfg->imap.ca_file, strerror(errno));
			return DAEMON_EXIT_CONFIG;
		}
	}
	password = daemon_secret(PROG, cfg, HL_SECRET_IMAP_PASSWORD);
	if (check_only) {
		printf("%s: configuration ok\n", PROG);
		str_wipe(password, strlen(password));
		free(password);
		config_free(cfg);
		return 0;
	}

	memset(&f, 0, sizeof(f));
	f.cfg = cfg;
	f.sfd = daemon_signals();
	mail_limits_default(&lim);
	lim.max_bytes = (size_t)cfg->imap.max_message_bytes;
	f.ingest = ingest_new(&lim);
	if (f.ingest == NULL)
		log_fatal("out of memory", NULL);
	f.db = daemon_db(PROG, cfg, cfg->imap.db_user);
	str_msg(f.account, sizeof(f.account), "%s@%s", cfg->imap.user, cfg->imap.host);

	memset(&p, 0, sizeof(p));
	p.host = cfg->imap.host;
	p.starttls = cfg->imap.tls == HL_IMAP_TLS_STARTTLS;
	p.port = cfg->imap.port != 0 ? (unsigned)cfg->imap.port : p.starttls ? 143 : 993;
	p.ca_file = cfg->imap.ca_file;
	p.user = cfg->imap.user;
	p.password = password;
	p.mailbox = cfg->imap.mailbox;
	p.timeout_seconds = (long)cfg->imap.timeout_seconds;
	p.stop_fd = f.sfd;
	log_info("starting", "host=%s port=%u mailbox=%s role=%s", p.host, p.port, p.mailbox,
		 cfg->imap.db_user);

	while (!f.stop) {
		/* A connection that reached the mailbox and was lost comes back
		 * after 1 s; failures in a row wait twice as long each time. */
		if (session(&f, &p, backoff))
			backoff = 1;
		if (f.stop || sleep_or_stop(&f, backoff))
			break;
		backoff = backoff * 2 > BACKOFF_MAX_SECONDS ? BACKOFF_MAX_SECONDS : backoff * 2;
	}
	db_free(f.db);
	ingest_free(f.ingest);
	str_wipe(password, strlen(password));
	free(password);
	close(f.sfd);
	config_free(cfg);
	return 0;
}
