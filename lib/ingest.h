/*
 * ingest — the mail bridge's one core: decode → rules → enqueue.
 *
 * hotline-lmtpd, hotline-milter and hotline-imapd all hand each mail to
 * ingest_mail(), so the three ways in behave identically; `hotlinectl
 * rules test` and the admin's test panel run the same rules and message
 * steps without the enqueue (lib/rules_preview.h).
 *
 * Outcomes: HL_OK when the mail is stored (queued, held for approval, or
 * already accepted before); HL_TEMPFAIL when it must be offered again later
 * (the database is unreachable or busy, out of memory): nothing was
 * stored; HL_PERMFAIL when it will never be accepted (not a mail, too
 * large, the sender is not allowed).  The reason is one line for the
 * protocol reply and the log, never the mail's content.
 */
#ifndef HL_INGEST_H
#define HL_INGEST_H

#include <stddef.h>

#include "db.h"
#include "mail.h"
#include "status.h"
#include "store_mail.h"

struct ingest;

struct ingest_request {
	const char *via;	   /* "lmtp", "milter" or "imap" */
	const char *source_ref;	   /* e.g. IMAP UID; NULL when none */
	const char *envelope_from; /* "" for the null sender */
	const char *const *rcpts;
	size_t nrcpts;
	const char *raw;
	size_t len;
	/* Run in the transaction that stores the mail, also when it is a
	 * duplicate or refused for good (kept for audit); see store_mail.h.
	 * NULL when none. */
	store_mail_txn_fn in_txn;
	void *in_txn_arg;
};

struct ingest_outcome {
	char reason[256];
	long long mail_id;     /* 0 when nothing was stored */
	long long delivery_id; /* 0 when no delivery was made */
	bool duplicate;	       /* accepted before: nothing new stored */
};

/* The state a daemon keeps across mails: its decoding limits and the
 * compiled rule set (shared by its threads).  NULL when out of memory. */
struct ingest *ingest_new(const struct mail_limits *lim);
void ingest_free(struct ingest *ing);

/* Thread-safe: each thread passes its own db. */
enum hl_status ingest_mail(struct ingest *ing, struct db *db, const struct ingest_request *rq,
			   struct ingest_outcome *out);

#endif
