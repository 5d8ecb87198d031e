/*
 * api_deliveries — hotline-admin endpoints for deliveries: composer, preview, count, test-send, send, schedule, cancel, approve, history.
 * See docs/api.md for paths, bodies and permissions.
 */
#ifndef HL_ADMIN_API_DELIVERIES_H
#define HL_ADMIN_API_DELIVERIES_H

#include <stdbool.h>

#include "api.h"

/* Answer c when its path belongs to this module; false otherwise. */
bool api_deliveries_handle(struct api_call *c);

#endif
