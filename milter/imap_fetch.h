/*
 * imap_fetch — hotline-imapd's IMAP client: the only file that includes
 * libetpan's headers (milter/imap_fetch.c).
 *
 * One struct imap_client is one connection to one mailbox: imap_open()
 * connects, secures the connection (implicit TLS or STARTTLS, always with
 * the server's certificate verified against [imap] ca_file or the system's
 * trust store, and its name checked against the configured host), logs in
 * and selects the mailbox.  Then the caller lists the mail after a UID,
 * fetches each one without setting \Seen (BODY.PEEK[]), and once it is
 * stored marks, moves or deletes it; between rounds it waits with IDLE or
 * sleeps.
 *
 * Every network wait is bounded by params.timeout_seconds and also ends when
 * params.stop_fd becomes readable (the daemon's signalfd): the call then
 * fails and imap_stopped() is true, so SIGTERM is noticed at once, even in
 * the middle of a fetch or while idling.
 *
 * Errors: int functions return 0 or -1 with a one-line reason in err (the
 * server's own text when it refused something); the caller drops the
 * client and reconnects later.  Nothing here ever logs or returns the
 * password or a mail's content.
 */
#ifndef HL_IMAP_FETCH_H
#define HL_IMAP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imap_client;

struct imap_params {
	const char *host;
	unsigned port;
	bool starttls;	     /* false: TLS from the first byte */
	const char *ca_file; /* "" or NULL: the system's trust store */
	const char *user;
	const char *password;
	const char *mailbox;
	long timeout_seconds;
	int stop_fd; /* readable = stop now; -1 for none */
};

/* What imap_open() got to, for the log and the daemon's back-off. */
enum imap_phase {
	IMAP_PHASE_CONNECT, /* TCP, greeting */
	IMAP_PHASE_TLS,	    /* handshake or certificate */
	IMAP_PHASE_LOGIN,   /* the server refused the user or password */
	IMAP_PHASE_SELECT,  /* the mailbox */
	IMAP_PHASE_READY,
};

struct imap_message {
	uint32_t uid;
	uint32_t size; /* RFC822.SIZE as the server reports it */
};

/* A client for p (strings are copied).  NULL when out of memory. */
struct imap_client *imap_client_new(const struct imap_params *p);

/* Logs out politely when connected (bounded by the timeout), then frees. */
void imap_client_free(struct imap_client *c);

/* Connect, secure, log in, select.  On failure *phase says which step
 * failed.  *uidvalidity is the selected mailbox's UIDVALIDITY. */
int imap_open(struct imap_client *c, uint32_t *uidvalidity, enum imap_phase *phase, char *err,
	      size_t errlen);

/* True when the last failure came from params.stop_fd. */
bool imap_stopped(const struct imap_client *c);

/* True when the server offers IDLE (RFC 2177). */
bool imap_can_idle(struct imap_client *c);

/* True when the server reported a message count (new mail) since the last
 * imap_list_after() began: list again before waiting. */
bool imap_new_mail_reported(const struct imap_client *c);

/* The messages whose UID is above last_uid, in ascending UID order, as a
 * malloc'd array the caller frees (*out NULL when there are none). */
int imap_list_after(struct imap_client *c, uint32_t last_uid, struct imap_message **out, size_t *n,
		    char *err, size_t errlen);

/* The whole message uid, without setting \Seen; *raw is malloc'd (NUL
 * terminated after *len bytes) and the caller frees it.  A message that is
 * gone (expunged meanwhile) is an error. */
int imap_fetch(struct imap_client *c, uint32_t uid, char **raw, size_t *len, char *err,
	       size_t errlen);

/* The UIDs from 1 to last_uid still in the mailbox, not \Flagged and, when
 * unseen_only, not \Seen, ascending, as a malloc'd array (*out NULL when
 * none): mail taken before whose after-fetch step was cut short by a crash
 * or a lost connection between the commit and the mark. */
int imap_search_taken(struct imap_client *c, uint32_t last_uid, bool unseen_only, uint32_t **out,
		      size_t *n, char *err, size_t errlen);

/* What is done with a stored message. */
int imap_mark_seen(struct imap_client *c, uint32_t uid, char *err, size_t errlen);
int imap_mark_flagged(struct imap_client *c, uint32_t uid, char *err, size_t errlen);
/* MOVE (RFC 6851) when offered, else COPY, \Deleted and UID EXPUNGE
 * (UIDPLUS) or EXPUNGE. */
int imap_move(struct imap_client *c, uint32_t uid, const char *to, char *err, size_t errlen);
/* \Deleted, then UID EXPUNGE (UIDPLUS) or EXPUNGE. */
int imap_delete(struct imap_client *c, uint32_t uid, char *err, size_t errlen);

/* Wait up to seconds for the mailbox to change: with IDLE when idle is
 * true (the caller checked imap_can_idle()), else by sleeping and then
 * sending NOOP.  *activity is set when the server reported something. */
int imap_wait(struct imap_client *c, bool idle, long seconds, bool *activity, char *err,
	      size_t errlen);

/* The envelope sender the receiving mail server recorded in the
 * Return-Path: header of raw, as an addr-spec in out ("" for <> or when
 * there is none).  False when it does not fit in size. */
bool imap_return_path(const char *raw, size_t len, char *out, size_t size)
	__attribute__((warn_unused_result));

#endif
