/*
 * api_segments — see api_segments.h.
 */
#include "api_segments.h"

bool api_segments_handle(struct api_call *c)
{
	(void)c;
	return false;
}
