/*
 * app — what linesim's handlers share: the simulator state, the webhook
 * sender, and the LIFF and rich menu modules.
 *
 * Neither liff nor richmenu is thread-safe: handlers call them only with
 * the sim lock held, which also serialises the rich menu module's
 * rate-limit hook.
 */
#ifndef LINESIM_APP_H
#define LINESIM_APP_H

#include <stdbool.h>

#include "httpd.h"
#include "sim.h"
#include "webhook_out.h"

#include "liff.h"
#include "richmenu.h"

struct liff;
struct richmenu_store;
struct www;

struct app {
	struct sim *sim;
	struct webhook_out *wh;
	struct liff *liff;		 /* NULL when not built in */
	struct richmenu_store *richmenu; /* NULL when not built in */
	struct www *www;		 /* the phone view; NULL when off */
	/* The last request /sim/echo received (body and X-Line-Signature), for
	 * tests that check webhook signatures; guarded by the sim lock. */
	char *echo_body;
	size_t echo_len;
	char echo_sig[64];
};

/* What a Messaging API handler tells the router for the request log. */
struct call {
	const char *endpoint; /* a stable label for /sim/stats, e.g. "push" */
	long recipients;
	char request_id[SIM_REQID_SIZE];
	/* The JSON body when the router parsed it outside the lock (parsed):
	 * body is NULL then with body_err saying why. */
	bool parsed;
	json_t *body;
	char body_err[160];
};

/* The Messaging API paths this module serves; false when path is not one
 * of them.  Called with the sim lock held, after authentication. */
bool api_message_route(struct app *a, const struct httpd_request *req, struct httpd_reply *reply,
		       struct call *call);

/* /sim/... control paths; takes and drops the sim lock itself (it sends
 * webhooks without it). */
void control_route(struct app *a, const struct httpd_request *req, struct httpd_reply *reply);

#endif
