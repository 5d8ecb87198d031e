/*
 * rules_preview — the mail rules' dry run; see rules_preview.h.
 *
 * The decisions after rules_apply() follow lib/ingest.c step for step:
 * a refused sender stops there; a text that gives no message is not
 * queued; a text longer than LINE's five messages is held with its first
 * five.  When ingest changes, change this file with it.
 */
#include "rules_preview.h"

#include <stdlib.h>
#include <string.h>

#include "str.h"
#include "textsplit.h"

/* As lib/ingest.c: the text is split into up to this many parts so that
 * staff see that (and where) it was cut; the first five are kept. */
#define PREVIEW_SPLIT_MAX 100

#define REASON_CUT                                                                                 \
	"本文が LINE の上限（5 通 × 5000 文字）を超えるため、先頭 5 通分で承認待ちにしました"
#define REASON_EMPTY "配信する本文がないため配信しません"

enum hl_status rules_preview_decode(const char *raw, size_t len, struct mail_alert **out, char *err,
				    size_t errlen)
{
	return mail_decode(raw, len, NULL, out, err, errlen);
}

const char *rules_outcome_name(enum rules_outcome o)
{
	switch (o) {
	case PREVIEW_SEND:
		return "send";
	case PREVIEW_HOLD:
		return "hold";
	case PREVIEW_REFUSE:
		return "refuse";
	case PREVIEW_IGNORE:
		return "ignore";
	}
	return "unknown";
}

const char *rules_outcome_label(enum rules_outcome o)
{
	switch (o) {
	case PREVIEW_SEND:
		return "配信 (queued)";
	case PREVIEW_HOLD:
		return "承認待ち (held)";
	case PREVIEW_REFUSE:
		return "配信しない (sender refused)";
	case PREVIEW_IGNORE:
		return "配信しない (no text)";
	}
	return "?";
}

json_t *rules_preview_messages(const char *text, bool *cut, char *err, size_t errlen)
{
	char **parts = NULL;
	size_t n = 0, i;
	json_t *arr = NULL;

	*cut = false;
	if (errlen > 0)
		err[0] = '\0';
	if (textsplit_err(text, TEXTSPLIT_LINE_MAX_UNITS, PREVIEW_SPLIT_MAX, &parts, &n, err,
			  errlen) < 0 ||
	    n == 0)
		goto done;
	arr = json_array();
	if (arr == NULL)
		goto done;
	*cut = n > TEXTSPLIT_LINE_MAX_MESSAGES;
	for (i = 0; i < n && i < TEXTSPLIT_LINE_MAX_MESSAGES; i++) {
		if (json_array_append_new(
			    arr, json_pack("{s:s, s:s}", "type", "text", "text", parts[i])) != 0) {
			json_decref(arr);
			arr = NULL;
			goto done;
		}
	}
done:
	textsplit_free(parts, n);
	return arr;
}

void rules_preview_free(struct rules_preview *p)
{
	if (p == NULL)
		return;
	free(p->envelope_from);
	rules_result_free(p->res);
	textsplit_free(p->parts, p->nparts);
	json_decref(p->messages);
	free(p->reason_owned);
	free(p);
}

enum hl_status rules_preview_run(const struct rule_set *rs, const struct mail_alert *alert,
				 const char *envelope_from, struct rules_preview **out)
{
	struct rules_preview *p;
	json_t *m;
	size_t i;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return HL_TEMPFAIL;
	if (envelope_from == NULL)
		envelope_from = alert->header_from != NULL ? alert->header_from : "";
	p->envelope_from = strdup(envelope_from);
	if (p->envelope_from == NULL || rules_apply(rs, alert, p->envelope_from, &p->res) != HL_OK)
		goto nomem;

	if (p->res->action == RULES_REFUSE) {
		p->outcome = PREVIEW_REFUSE;
		p->reason = p->res->reason;
		*out = p;
		return HL_OK;
	}
	p->outcome = p->res->action == RULES_HOLD ? PREVIEW_HOLD : PREVIEW_SEND;
	p->reason = p->res->reason;
	p->messages = rules_preview_messages(p->res->text, &p->cut, p->split_error,
					     sizeof(p->split_error));
	if (p->messages == NULL) {
		/* ingest stores such a mail as ignored, without a delivery */
		p->outcome = PREVIEW_IGNORE;
		p->reason_owned = p->split_error[0] != '\0'
					  ? str_dup_printf("%s: %s", REASON_EMPTY, p->split_error)
					  : strdup(REASON_EMPTY);
		if (p->reason_owned == NULL)
			goto nomem;
		p->reason = p->reason_owned;
		*out = p;
		return HL_OK;
	}
	if (p->cut) {
		p->outcome = PREVIEW_HOLD;
		p->reason = REASON_CUT;
	}
	p->nparts = json_array_size(p->messages);
	p->parts = calloc(p->nparts + 1, sizeof(*p->parts));
	if (p->parts == NULL)
		goto nomem;
	json_array_foreach(p->messages, i, m)
	{
		p->parts[i] = strdup(json_string_value(json_object_get(m, "text")));
		if (p->parts[i] == NULL)
			goto nomem;
	}
	*out = p;
	return HL_OK;
nomem:
	rules_preview_free(p);
	return HL_TEMPFAIL;
}
