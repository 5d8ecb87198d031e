/*
 * rules_test — previewing the mail rules on one mail; see rules_test.h.
 * The work is lib/rules_preview.c, shared with the admin's test panel:
 * this file reads the file and the rules and prints the result.
 */
#include "rules_test.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "mail.h"
#include "rules.h"
#include "rules_preview.h"
#include "store_rules.h"
#include "str.h"

/* A preview reads at most what hotline-lmtpd would accept by default. */
#define PREVIEW_MAX_BYTES (25 * 1024 * 1024)

int rules_test(struct db *db, const char *path, const char *envelope_from, FILE *out)
{
	struct mail_alert *alert = NULL;
	struct rule_defs *defs = NULL;
	struct rule_set *rs = NULL;
	struct rules_preview *pv = NULL;
	char err[512], *json = NULL;
	size_t len = 0, i;
	char *raw;
	int rc = -1;

	raw = file_read(path, PREVIEW_MAX_BYTES, &len, err, sizeof(err));
	if (raw == NULL) {
		fprintf(stderr, "hotlinectl: %s\n", err);
		return -1;
	}
	if (rules_preview_decode(raw, len, &alert, err, sizeof(err)) != HL_OK) {
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
	if (rules_preview_run(rs, alert, envelope_from, &pv) != HL_OK) {
		fprintf(stderr, "hotlinectl: out of memory\n");
		goto done;
	}
	fprintf(out, "件名: %s\n差出人 (envelope): %s\n結果: %s\n", alert->subject,
		*pv->envelope_from ? pv->envelope_from : "<>", rules_outcome_label(pv->outcome));
	if (pv->reason != NULL)
		fprintf(out, "理由: %s\n", pv->reason);
	json = pv->res->target != NULL ? json_dumps(pv->res->target, JSON_COMPACT | JSON_SORT_KEYS)
				       : NULL;
	fprintf(out, "配信先: %s\n", json != NULL ? json : "全員 (everyone)");
	free(json);
	json = pv->res->trace != NULL ? json_dumps(pv->res->trace, JSON_COMPACT) : NULL;
	fprintf(out, "ルールの記録: %s\n", json != NULL ? json : "[]");
	if (pv->outcome != PREVIEW_REFUSE) {
		if (pv->split_error[0] != '\0')
			fprintf(out, "LINE メッセージ: 作成できません (%s)\n", pv->split_error);
		for (i = 0; i < pv->nparts; i++)
			fprintf(out, "--- LINE メッセージ %zu/%zu ---\n%s\n", i + 1, pv->nparts,
				pv->parts[i]);
	}
	rc = 0;
done:
	free(json);
	rules_preview_free(pv);
	rules_free(rs);
	store_rules_free(defs);
	mail_alert_free(alert);
	free(raw);
	return rc;
}
