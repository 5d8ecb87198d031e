/*
 * api_route — hands a request that passed the gate to the endpoint module
 * owning its path; see api.h.  One line per module.
 */
#include "api.h"

void api_route(struct api_call *c)
{
	api_reply_error(c, 404, "not_found", "見つかりません。");
}
