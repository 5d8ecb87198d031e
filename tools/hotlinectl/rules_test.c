/*
 * rules_test — previewing the mail rules on one mail; see rules_test.h.
 */
#include "rules_test.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "mail.h"
#include "rules.h"
#include "store_rules.h"
#include "str.h"
#include "textsplit.h"

/* A preview reads at most what hotline-lmtpd would accept by default. */
#define PREVIEW_MAX_BYTES (25 * 1024 * 1024)

static const char *action_label(enum rules_action a)
{
	switch (a) {
	case RULES_SEND:
		return "配信 (queued)";
	case RULES_HOLD:
		return "承認待ち (held)";
	case RULES_REFUSE:
		return "配信しない (sender refused)";
	}
	return "?";
}

int rules_test(struct db *db, const char *path, const char *envelope_from, FILE *out)
{
	struct mail_alert *alert = NULL;
	struct rule_defs *defs = NULL;
	struct rule_set *rs = NULL;
	struct rules_result *res = NULL;
	char err[512], **parts = NULL, *json = NULL;
	size_t len = 0, nparts = 0, i;
	char *raw;
	int rc = -1;

	raw = file_read(path, PREVIEW_MAX_BYTES, &len, err, sizeof(err));
	if (raw == NULL) {
		fprintf(stderr, "hotlinectl: %s\n", err);
		return -1;
	}
	if (mail_decode(raw, len, NULL, &alert, err, sizeof(err)) != HL_OK) {
		fprintf(stderr, "hotlinectl: %s: %s\n", path, err);
		goto done;
	}
	if (store_rules_load(db, &defs) != HL_OK) {
		fprintf(stderr, "hotlinectl: cannot read the mail rules: %s\n", db_error(db));
		goto done;
	}
	rs = rules_compile(defs->defs, defs->n, err, sizeof(err));
	if (rs == NULL) {
		fprintf(stderr, "hotlinectl: the mail rules do not compile: %s\n", err);
		goto done;
	}
	if (envelope_from == NULL)
		envelope_from = alert->header_from != NULL ? alert->header_from : "";
	if (rules_apply(rs, alert, envelope_from, &res) != HL_OK) {
		fprintf(stderr, "hotlinectl: out of memory\n");
		goto done;
	}
	fprintf(out, "件名: %s\n差出人 (envelope): %s\n結果: %s\n", alert->subject,
		*envelope_from ? envelope_from : "<>", action_label(res->action));
	if (res->reason != NULL)
		fprintf(out, "理由: %s\n", res->reason);
	json = res->target != NULL ? json_dumps(res->target, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	fprintf(out, "配信先: %s\n", json != NULL ? json : "全員 (everyone)");
	free(json);
	json = res->trace != NULL ? json_dumps(res->trace, JSON_COMPACT) : NULL;
	fprintf(out, "ルールの記録: %s\n", json != NULL ? json : "[]");
	if (res->action != RULES_REFUSE && res->text != NULL && *res->text != '\0') {
		if (textsplit_err(res->text, TEXTSPLIT_LINE_MAX_UNITS, TEXTSPLIT_LINE_MAX_MESSAGES,
				  &parts, &nparts, err, sizeof(err)) < 0) {
			fprintf(out, "LINE メッセージ: 作成できません (%s)\n", err);
		} else {
			for (i = 0; i < nparts; i++)
				fprintf(out, "--- LINE メッセージ %zu/%zu ---\n%s\n", i + 1, nparts,
					parts[i]);
		}
	}
	rc = 0;
done:
	textsplit_free(parts, nparts);
	free(json);
	rules_result_free(res);
	rules_free(rs);
	store_rules_free(defs);
	mail_alert_free(alert);
	free(raw);
	return rc;
}
