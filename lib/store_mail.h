/*
 * store_mail — the mail bridge's queue: one transaction stores the raw
 * mail, what was decoded from it and the delivery it became, and the
 * database's trigger NOTIFYs the pusher.  A mail already accepted (same
 * dedupe key) is acknowledged and stored no second time.
 */
#ifndef HL_STORE_MAIL_H
#define HL_STORE_MAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "status.h"

/* A step the caller runs inside the mail's transaction, after the mail was
 * stored or found to be a duplicate and before COMMIT (hotline-imapd records
 * the mailbox UID it took there, so that the mail and the fetch position
 * commit together).  Anything but HL_OK rolls the whole mail back and is
 * returned as the outcome. */
typedef enum hl_status (*store_mail_txn_fn)(struct db *db, void *arg);

enum mail_disposition {
	MAIL_QUEUE,  /* a delivery, status queued */
	MAIL_HOLD,   /* a delivery, status held for staff approval */
	MAIL_IGNORE, /* kept for audit only: the sender is not allowed */
	MAIL_FAILED, /* kept for audit only: it could not be decoded */
};

struct mail_record {
	const char *via;	   /* "lmtp", "milter" or "imap" */
	const char *source_ref;	   /* e.g. the IMAP UID; NULL when none */
	const char *dedupe_key;	   /* mail_alert's, or "sha256:" of raw when undecodable */
	const char *message_id;	   /* NULL when none */
	const char *envelope_from; /* "" for the null sender */
	const char *const *envelope_to;
	size_t nto;
	const char *header_from, *subject, *body; /* NULL when undecodable */
	const char *raw;
	size_t raw_len;
	enum mail_disposition disposition;
	const char *error;	/* MAIL_FAILED: why */
	const char *trace_json; /* rules' trace (JSON array) or NULL */
	/* The delivery, for MAIL_QUEUE and MAIL_HOLD: */
	const char *title;
	const char *messages_json; /* LINE message objects (JSON array, 1-5) */
	const char *target_json;   /* target filter, or NULL for everyone */
	const char *hold_reason;   /* MAIL_HOLD */
	store_mail_txn_fn in_txn;  /* NULL when none */
	void *in_txn_arg;
};

/* Store r.  *duplicate is set (and nothing stored) when a mail with the
 * same dedupe key was accepted before; ids are 0 when not created.
 * HL_TEMPFAIL when the database is unreachable or busy: nothing was
 * stored, the caller must answer "try again". */
enum hl_status store_mail_ingest(struct db *db, const struct mail_record *r, long long *mail_id,
				 long long *delivery_id, bool *duplicate);

#endif
