/*
 * api_staff — see api_staff.h.
 */
#include "api_staff.h"

bool api_staff_handle(struct api_call *c)
{
	(void)c;
	return false;
}
