/*
 * api_route — hands a request that passed the gate to the endpoint module
 * owning its path; see api.h.  One line per module.
 */
#include "api.h"
#include "api_audit.h"
#include "api_deliveries.h"
#include "api_mail.h"
#include "api_segments.h"
#include "api_staff.h"

void api_route(struct api_call *c)
{
	if (api_deliveries_handle(c) || api_segments_handle(c) || api_staff_handle(c) ||
	    api_audit_handle(c) || api_mail_handle(c))
		return;
	api_reply_error(c, 404, "not_found", "見つかりません。");
}
