/*
 * status — the three outcomes of anything that handles a resident's alert.
 *
 * HL_TEMPFAIL means "try again later, nothing was lost" (a dead database, a
 * full disk, LINE answering 5xx); HL_PERMFAIL means "this will never work"
 * (malformed input, a refused request).  Each protocol maps them in exactly
 * one place: LMTP 250/451/554, milter continue/tempfail/reject, HTTP
 * 2xx/503/4xx.
 */
#ifndef HL_STATUS_H
#define HL_STATUS_H

enum hl_status {
	HL_OK = 0,
	HL_TEMPFAIL,
	HL_PERMFAIL,
};

/* "ok", "tempfail" or "permfail", for logs. */
const char *hl_status_name(enum hl_status st);

/* The HTTP status code for st: 200, 503 or 400. */
int hl_status_http(enum hl_status st);

#endif
