/*
 * api_audit — hotline-admin endpoints for the audit log: search, CSV export, chain verification.
 * See docs/api.md for paths, bodies and permissions.
 */
#ifndef HL_ADMIN_API_AUDIT_H
#define HL_ADMIN_API_AUDIT_H

#include <stdbool.h>

#include "api.h"

/* Answer c when its path belongs to this module; false otherwise. */
bool api_audit_handle(struct api_call *c);

#endif
