/*
 * store_mail — the mail bridge's queue: one transaction stores the raw
 * mail, what was decoded from it and the delivery it became, and the
 * database's trigger NOTIFYs the pusher.  A mail already accepted (same
 * dedupe key) is acknowledged and stored no second time.
 */
#ifndef HL_STORE_MAIL_H
#define HL_STORE_MAIL_H

#include <jansson.h>
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

/* --- the admin's inbound mail log (read only) --- */

struct mail_log_filter {
	const char *status; /* a mails.status, or NULL for any */
	const char *q;	    /* text the subject contains (no wildcards), or NULL */
	long long before;   /* only ids below this; 0 for the newest */
	int limit;	    /* 1..200 */
};

/* The newest mails matching f, as JSON objects {"id","received_at","via",
 * "from","envelope_from","subject","status","error","delivery_id",
 * "delivery_status","raw_size"} (times ISO 8601 in Japan time); *next is the
 * id to pass as before for the next page, or 0 when there is none. */
enum hl_status store_mail_list(struct db *db, const struct mail_log_filter *f, json_t **items,
			       long long *next);

/* One mail as in the list plus "message_id","source_ref","envelope_to",
 * "decoded_body","rule_trace" (each entry with the rule's current "name",
 * null when it was deleted since) and "delivery" ({"id","status",
 * "hold_reason","everyone","target","title","messages"} or null).  *out is
 * NULL when there is no such mail. */
enum hl_status store_mail_get(struct db *db, long long id, json_t **out);

/* The mail's raw bytes as received (*raw malloc'd, caller frees); *raw is
 * NULL when there is no such mail. */
enum hl_status store_mail_raw(struct db *db, long long id, char **raw, size_t *len);

#endif
