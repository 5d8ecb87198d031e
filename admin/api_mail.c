/*
 * api_mail — see api_mail.h.
 */
#include "api_mail.h"

bool api_mail_handle(struct api_call *c)
{
	(void)c;
	return false;
}
