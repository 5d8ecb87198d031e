/*
 * api_staff — hotline-admin endpoints for staff accounts, departments, roles and segment scope, own password.
 * See docs/api.md for paths, bodies and permissions.
 */
#ifndef HL_ADMIN_API_STAFF_H
#define HL_ADMIN_API_STAFF_H

#include <stdbool.h>

#include "api.h"

/* Answer c when its path belongs to this module; false otherwise. */
bool api_staff_handle(struct api_call *c);

#endif
