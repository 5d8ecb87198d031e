/*
 * api_audit — see api_audit.h.
 */
#include "api_audit.h"

bool api_audit_handle(struct api_call *c)
{
	(void)c;
	return false;
}
