/*
 * ingest — decode → rules → enqueue, shared by every way mail comes in;
 * see ingest.h for the outcomes.
 */
#include "ingest.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rules.h"
#include "rules_preview.h"
#include "store_mail.h"
#include "store_rules.h"
#include "str.h"
#include "textsplit.h"

/* deliveries.title is at most 200 characters. */
#define TITLE_MAX_CHARS 200

/* "sha256:<hex>" of the raw bytes: the dedupe key of an undecodable mail. */
static bool raw_key(const char *raw, size_t len, char *out, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (size < 8 + 64 + 1 || EVP_Digest(raw, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		return false;
	memcpy(out, "sha256:", 7);
	return str_hex(md, mdlen, out + 7, size - 7);
}

/* The first TITLE_MAX_CHARS characters of s, cut between characters. */
static void make_title(const char *s, char *out, size_t size)
{
	size_t i = 0, chars = 0;

	while (s[i] != '\0' && chars < TITLE_MAX_CHARS) {
		size_t n = 1;

		while ((s[i + n] & 0xc0) == 0x80)
			n++;
		if (i + n >= size)
			break;
		i += n;
		chars++;
	}
	memcpy(out, s, i);
	out[i] = '\0';
}

/* LINE text messages for text (lib/rules_preview: the test panel and
 * `hotlinectl rules test` show the same): at most five; *cut is set when
 * the text needed more (the caller then holds the delivery for staff). */
static char *messages_json(const char *text, bool *cut)
{
	char err[200];
	json_t *arr = rules_preview_messages(text, cut, err, sizeof(err));
	char *out = arr != NULL ? json_dumps(arr, JSON_COMPACT) : NULL;

	json_decref(arr);
	return out;
}

/*
 * The compiled rule set is kept between mails: PCRE2's JIT compilation is
 * the dearest step of an alert, and the rules change a few times a year.
 * Each mail still reads the rule definitions (two small queries, so a
 * staff edit takes effect at the next mail), fingerprints them, and
 * compiles only when the fingerprint changed.  A set in use by one thread
 * stays alive, by reference count, while another installs a newer one.
 */
struct compiled {
	struct rule_set *rs;
	unsigned char fp[32];
	unsigned refs;
};

struct ingest {
	struct mail_limits limits;
	pthread_mutex_t lock;
	struct compiled *current; /* holds one reference */
};

struct ingest *ingest_new(const struct mail_limits *lim)
{
	struct ingest *ing = calloc(1, sizeof(*ing));

	if (ing == NULL)
		return NULL;
	if (lim != NULL)
		ing->limits = *lim;
	else
		mail_limits_default(&ing->limits);
	pthread_mutex_init(&ing->lock, NULL);
	return ing;
}

static void compiled_put(struct ingest *ing, struct compiled *c)
{
	bool last;

	if (c == NULL)
		return;
	pthread_mutex_lock(&ing->lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&ing->lock);
	if (last) {
		rules_free(c->rs);
		free(c);
	}
}

void ingest_free(struct ingest *ing)
{
	if (ing == NULL)
		return;
	compiled_put(ing, ing->current);
	pthread_mutex_destroy(&ing->lock);
	free(ing);
}

/* Feed a length-prefixed field, so that ("ab","c") and ("a","bc") differ. */
static void fp_field(EVP_MD_CTX *md, const char *s)
{
	size_t n = s != NULL ? strlen(s) + 1 : 0;

	EVP_DigestUpdate(md, &n, sizeof(n));
	if (s != NULL)
		EVP_DigestUpdate(md, s, n);
}

static bool fingerprint(const struct rule_defs *defs, unsigned char fp[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len = 0;
	size_t i, k;
	bool ok;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return false;
	}
	for (i = 0; i < defs->n; i++) {
		const struct rule_def *d = &defs->defs[i];
		int nums[6] = {(int)d->kind,	  d->enabled,	    (int)d->part,
			       (int)d->placement, (int)d->fallback, (int)d->nvalues};

		EVP_DigestUpdate(md, &d->id, sizeof(d->id));
		EVP_DigestUpdate(md, nums, sizeof(nums));
		fp_field(md, d->name);
		fp_field(md, d->pattern);
		fp_field(md, d->text);
		fp_field(md, d->item_key);
		fp_field(md, d->fallback_target);
		for (k = 0; k < d->nvalues; k++) {
			fp_field(md, d->values[k].keyword);
			fp_field(md, d->values[k].value_key);
			EVP_DigestUpdate(md, &d->values[k].everyone, sizeof(d->values[k].everyone));
		}
	}
	ok = EVP_DigestFinal_ex(md, fp, &len) == 1 && len == 32;
	EVP_MD_CTX_free(md);
	return ok;
}

/* The compiled set for defs, with a reference for the caller; NULL with err
 * when the rules do not compile (or memory ran out). */
static struct compiled *compiled_get(struct ingest *ing, const struct rule_defs *defs, char *err,
				     size_t errlen)
{
	unsigned char fp[32];
	struct compiled *c = NULL, *old = NULL;

	if (!fingerprint(defs, fp)) {
		str_msg(err, errlen, "cannot fingerprint the rules");
		return NULL;
	}
	pthread_mutex_lock(&ing->lock);
	if (ing->current != NULL && memcmp(ing->current->fp, fp, sizeof(fp)) == 0) {
		c = ing->current;
		c->refs++;
	}
	pthread_mutex_unlock(&ing->lock);
	if (c != NULL)
		return c;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		str_msg(err, errlen, "out of memory");
		return NULL;
	}
	c->rs = rules_compile(defs->defs, defs->n, err, errlen);
	if (c->rs == NULL) {
		free(c);
		return NULL;
	}
	memcpy(c->fp, fp, sizeof(fp));
	c->refs = 2; /* the cache's and the caller's */
	pthread_mutex_lock(&ing->lock);
	old = ing->current;
	ing->current = c;
	pthread_mutex_unlock(&ing->lock);
	compiled_put(ing, old);
	log_info("mail rules compiled", "rules=%zu", defs->n);
	return c;
}

static enum hl_status ingest_once(struct ingest *ing, struct db *db,
				  const struct ingest_request *rq, struct ingest_outcome *out)
{
	struct mail_alert *alert = NULL;
	struct rule_defs *defs = NULL;
	struct compiled *compiled = NULL;
	struct rules_result *res = NULL;
	struct mail_record rec;
	char err[256], key[80], title[TITLE_MAX_CHARS * 4 + 1], hold[512];
	char *msgs = NULL, *target = NULL, *trace = NULL, qerr[300];
	enum hl_status st, result = HL_TEMPFAIL;
	bool cut = false;

	memset(out, 0, sizeof(*out));
	memset(&rec, 0, sizeof(rec));
	rec.via = rq->via;
	rec.source_ref = rq->source_ref;
	rec.envelope_from = rq->envelope_from;
	rec.envelope_to = rq->rcpts;
	rec.nto = rq->nrcpts;
	rec.raw = rq->raw;
	rec.raw_len = rq->len;
	rec.in_txn = rq->in_txn;
	rec.in_txn_arg = rq->in_txn_arg;

	st = mail_decode(rq->raw, rq->len, &ing->limits, &alert, err, sizeof(err));
	if (st == HL_TEMPFAIL) {
		str_msg(out->reason, sizeof(out->reason), "out of memory, try again later");
		return HL_TEMPFAIL;
	}
	if (st == HL_PERMFAIL) {
		/* Kept for audit, then refused for good. */
		if (!raw_key(rq->raw, rq->len, key, sizeof(key))) {
			str_msg(out->reason, sizeof(out->reason),
				"cannot hash the mail, try again later");
			return HL_TEMPFAIL;
		}
		rec.dedupe_key = key;
		rec.disposition = MAIL_FAILED;
		rec.error = err;
		result = HL_PERMFAIL;
		str_msg(out->reason, sizeof(out->reason), "not accepted: %s", err);
		goto store;
	}
	rec.dedupe_key = alert->dedupe_key;
	rec.message_id = alert->message_id;
	rec.header_from = alert->header_from;
	rec.subject = alert->subject;
	rec.body = alert->body;

	if ((st = store_rules_load(db, &defs)) != HL_OK) {
		log_warn("cannot read the mail rules", "error=%s",
			 log_quote(db_error(db), qerr, sizeof(qerr)));
		str_msg(out->reason, sizeof(out->reason),
			"cannot read the mail rules: database unavailable, try again later");
		result = HL_TEMPFAIL;
		goto done;
	}
	compiled = compiled_get(ing, defs, err, sizeof(err));
	if (compiled == NULL) {
		/* A stored rule that no longer compiles must not lose the alert:
		 * queue it held, with the reason, for staff to look at. */
		log_error("mail rules do not compile", "error=\"%s\"", err);
		str_msg(hold, sizeof(hold), "メールルールにエラーがあるため承認待ちにしました: %s",
			err);
		rec.disposition = MAIL_HOLD;
		rec.hold_reason = hold;
		{
			/* The alert as it came, for staff to edit before sending. */
			char *plain = str_dup_printf("%s\n\n%s", alert->subject, alert->body);

			msgs = plain != NULL ? messages_json(plain, &cut) : NULL;
			free(plain);
		}
	} else {
		if ((st = rules_apply(compiled->rs, alert, rq->envelope_from, &res)) != HL_OK) {
			str_msg(out->reason, sizeof(out->reason), "out of memory, try again later");
			result = HL_TEMPFAIL;
			goto done;
		}
		trace = res->trace != NULL ? json_dumps(res->trace, JSON_COMPACT) : NULL;
		rec.trace_json = trace;
		if (res->action == RULES_REFUSE) {
			rec.disposition = MAIL_IGNORE;
			result = HL_PERMFAIL;
			str_msg(out->reason, sizeof(out->reason),
				"sender not allowed by the mail rules");
			goto store;
		}
		rec.disposition = res->action == RULES_HOLD ? MAIL_HOLD : MAIL_QUEUE;
		rec.hold_reason = res->reason;
		if (res->target != NULL)
			target = json_dumps(res->target, JSON_COMPACT | JSON_SORT_KEYS);
		rec.target_json = target;
		msgs = messages_json(res->text, &cut);
	}
	if (msgs == NULL) {
		/* An empty alert (no subject, no body) cannot become a message. */
		rec.disposition = MAIL_IGNORE;
		result = HL_PERMFAIL;
		str_msg(out->reason, sizeof(out->reason), "the mail has no text to send");
		goto store;
	}
	if (cut) {
		str_msg(hold, sizeof(hold),
			"本文が LINE の上限（5 通 × 5000 文字）を超えるため、先頭 5 "
			"通分で承認待ちにしました");
		rec.disposition = MAIL_HOLD;
		rec.hold_reason = hold;
	}
	make_title(alert->subject, title, sizeof(title));
	rec.title = title;
	rec.messages_json = msgs;
	result = HL_OK;
store:
	st = store_mail_ingest(db, &rec, &out->mail_id, &out->delivery_id, &out->duplicate);
	if (st != HL_OK) {
		log_warn("cannot store the mail", "error=%s",
			 log_quote(db_error(db), qerr, sizeof(qerr)));
		str_msg(out->reason, sizeof(out->reason), "cannot store the mail: %s",
			st == HL_TEMPFAIL ? "database unavailable, try again later"
					  : "database refused it, try again later");
		/* Whatever the mail, a storage failure is ours: Postfix keeps it. */
		result = HL_TEMPFAIL;
		goto done;
	}
	if (out->duplicate) {
		str_msg(out->reason, sizeof(out->reason), "already accepted");
		result = HL_OK;
	} else if (result == HL_OK) {
		str_msg(out->reason, sizeof(out->reason), "%s as delivery %lld",
			rec.disposition == MAIL_HOLD ? "held for approval" : "queued",
			out->delivery_id);
	}
done:
	free(msgs);
	free(target);
	free(trace);
	rules_result_free(res);
	compiled_put(ing, compiled);
	store_rules_free(defs);
	mail_alert_free(alert);
	return result;
}

enum hl_status ingest_mail(struct ingest *ing, struct db *db, const struct ingest_request *rq,
			   struct ingest_outcome *out)
{
	enum hl_status st = ingest_once(ing, db, rq, out);

	/* A pooled connection cut by a database restart fails once; Postfix
	 * would then wait minutes to retry.  Reconnect and try again at once:
	 * dedupe makes a repeat harmless if the first commit did happen. */
	if (st == HL_TEMPFAIL && db_connection_lost(db)) {
		log_info("database connection lost, retrying once", NULL);
		st = ingest_once(ing, db, rq, out);
	}
	return st;
}
