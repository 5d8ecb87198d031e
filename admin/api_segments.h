/*
 * api_segments — hotline-admin endpoints for segment items and values, counts, residents' totals and test receivers.
 * See docs/api.md for paths, bodies and permissions.
 */
#ifndef HL_ADMIN_API_SEGMENTS_H
#define HL_ADMIN_API_SEGMENTS_H

#include <stdbool.h>

#include "api.h"

/* Answer c when its path belongs to this module; false otherwise. */
bool api_segments_handle(struct api_call *c);

#endif
