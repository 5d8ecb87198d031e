/*
 * api_deliveries — see api_deliveries.h.
 */
#include "api_deliveries.h"

bool api_deliveries_handle(struct api_call *c)
{
	(void)c;
	return false;
}
