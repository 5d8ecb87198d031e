/*
 * status — names and the HTTP mapping of enum hl_status.
 */
#include "status.h"

const char *hl_status_name(enum hl_status st)
{
	switch (st) {
	case HL_OK:
		return "ok";
	case HL_TEMPFAIL:
		return "tempfail";
	case HL_PERMFAIL:
		return "permfail";
	}
	return "unknown";
}

int hl_status_http(enum hl_status st)
{
	switch (st) {
	case HL_OK:
		return 200;
	case HL_TEMPFAIL:
		return 503;
	case HL_PERMFAIL:
		return 400;
	}
	return 500;
}
