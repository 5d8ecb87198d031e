/*
 * rules_preview — what the mail bridge would make of one mail, without
 * storing or sending anything: the decoded alert, the rules' result and
 * trace, the LINE messages, and the outcome ingest would record (send,
 * hold, refuse, ignore).
 *
 * The one implementation behind `hotlinectl rules test` and the admin's
 * test panel (POST /api/mail-rules/test), so that both show staff exactly
 * what lib/ingest.c does with the same mail and rules: the same decoder
 * (mail_decode with the default limits), the same rules_apply(), the same
 * split into at most TEXTSPLIT_LINE_MAX_MESSAGES text messages, and the same
 * decisions after it (an empty text is not sent; a text longer than five
 * messages is held with its first five).
 *
 * No I/O: callers compile the rule set (from the database with store_rules,
 * or from an unsaved form) and pass the decoded alert.  A preview owns what
 * it holds; free it with rules_preview_free().
 */
#ifndef HL_RULES_PREVIEW_H
#define HL_RULES_PREVIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "mail.h"
#include "rules.h"
#include "status.h"

/* What ingest would do with the mail (mails.status in brackets). */
enum rules_outcome {
	PREVIEW_SEND,	/* a queued delivery (queued) */
	PREVIEW_HOLD,	/* a delivery held for staff approval (held) */
	PREVIEW_REFUSE, /* the sender is not allowed: no delivery (ignored) */
	PREVIEW_IGNORE, /* nothing to send: no delivery (ignored) */
};

struct rules_preview {
	enum rules_outcome outcome;
	char *envelope_from;	  /* the sender the rules saw; "" for <> */
	struct rules_result *res; /* the rules' own result (text, target, trace) */
	const char *reason;	  /* why HOLD, REFUSE or IGNORE (Japanese); NULL for SEND */
	char **parts;		  /* the LINE texts, at most TEXTSPLIT_LINE_MAX_MESSAGES */
	size_t nparts;
	bool cut;	       /* the text needed more messages than LINE takes */
	char split_error[256]; /* why the text could not be split, or "" */
	json_t *messages;      /* [{"type":"text","text":…}], as a delivery stores them */
	char *reason_owned;    /* private */
};

/* Decode raw as every way in does (default limits).  HL_PERMFAIL with the
 * decoder's one-line reason in err for what is not a mail; HL_TEMPFAIL when
 * out of memory. */
enum hl_status rules_preview_decode(const char *raw, size_t len, struct mail_alert **out, char *err,
				    size_t errlen);

/* Run rs over alert.  envelope_from NULL means the header From (or <> when
 * there is none), as `hotlinectl rules test` assumes.  HL_OK with *out set;
 * HL_TEMPFAIL only when out of memory. */
enum hl_status rules_preview_run(const struct rule_set *rs, const struct mail_alert *alert,
				 const char *envelope_from, struct rules_preview **out);

void rules_preview_free(struct rules_preview *p);

/* The LINE text messages ingest makes of text: a JSON array of at most
 * TEXTSPLIT_LINE_MAX_MESSAGES {"type":"text","text":…} objects, *cut set
 * when the text needed more.  NULL when the text is empty or cannot be
 * split (err then says why, in Japanese; "" when it was empty). */
json_t *rules_preview_messages(const char *text, bool *cut, char *err, size_t errlen);

/* "send", "hold", "refuse" or "ignore" (the API's names). */
const char *rules_outcome_name(enum rules_outcome o);
/* The Japanese label `hotlinectl rules test` prints ("配信 (queued)", …). */
const char *rules_outcome_label(enum rules_outcome o);

#endif
