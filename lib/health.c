/*
 * health — the /healthz reply; see health.h.
 */
#include "health.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void health_reply(struct db *db, struct httpd_reply *reply)
{
	json_t *obj;
	char *text;
	bool up = db_ping(db) == HL_OK;

	if (up)
		obj = json_pack("{s:s, s:s}", "status", "ok", "database", "ok");
	else
		obj = json_pack("{s:s, s:s, s:s}", "status", "unavailable", "database", "down",
				"error", db_error(db));
	text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (text == NULL) {
		httpd_reply_static(reply, 500, "text/plain; charset=utf-8", "out of memory\n");
		return;
	}
	if (!up)
		log_warn("health check failed", "error=\"database unreachable\"");
	httpd_reply_owned(reply, up ? 200 : 503, "application/json", text, strlen(text));
}
