/*
 * api_mail — hotline-admin endpoints for the mail bridge: rules editor, rule test panel, inbound mail log.
 * See docs/api.md for paths, bodies and permissions.
 */
#ifndef HL_ADMIN_API_MAIL_H
#define HL_ADMIN_API_MAIL_H

#include <stdbool.h>

#include "api.h"

/* Answer c when its path belongs to this module; false otherwise. */
bool api_mail_handle(struct api_call *c);

#endif
