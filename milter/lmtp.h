/*
 * lmtp — the LMTP protocol (RFC 2033) as a push/next state machine, with no
 * I/O, for hotline-lmtpd.
 *
 * The caller pushes whatever bytes arrived (lmtp_push), then calls
 * lmtp_next until it asks for more input.  lmtp_next parses pipelined
 * commands in order and stops at each complete message (LMTP_MESSAGE): the
 * caller stores it and reports one outcome per recipient with
 * lmtp_message_done, which queues LMTP's per-recipient replies.  Replies
 * accumulate in an output buffer the caller writes out (lmtp_output) before
 * it waits for input, which is what PIPELINING needs.
 *
 * Offered extensions: PIPELINING, ENHANCEDSTATUSCODES, 8BITMIME, SIZE.
 * Every limit is enforced here and answered with the reply RFC 5321 names.
 * HL_OK / HL_TEMPFAIL / HL_PERMFAIL map to 250 / 451 / 554 in exactly one
 * place, lmtp_message_done().
 */
#ifndef HL_LMTP_H
#define HL_LMTP_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

struct lmtp_params {
	const char *hostname; /* in the greeting and the LHLO reply */
	size_t max_message;   /* bytes of message data (announced as SIZE) */
	size_t max_rcpts;     /* recipients per transaction */
};

struct lmtp_message {
	const char *sender;	  /* MAIL FROM address, "" for the null sender */
	const char *const *rcpts; /* RCPT TO addresses, in order */
	size_t nrcpts;
	const char *data; /* the message as received, dots unstuffed, CRLF */
	size_t len;
};

enum lmtp_event {
	LMTP_NEED_INPUT, /* write lmtp_output(), then push more bytes */
	LMTP_MESSAGE,	 /* a message is complete: store it, then lmtp_message_done() */
	LMTP_CLOSE,	 /* write lmtp_output(), then close the connection */
};

struct lmtp_session;

/* A new session; the 220 greeting is already in the output.  NULL when out
 * of memory.  p's strings are copied. */
struct lmtp_session *lmtp_new(const struct lmtp_params *p);
void lmtp_free(struct lmtp_session *s);

/* Append received bytes.  -1 when out of memory. */
int lmtp_push(struct lmtp_session *s, const char *buf, size_t len);

/* Parse what was pushed; msg is filled for LMTP_MESSAGE and stays valid
 * until lmtp_message_done(). */
enum lmtp_event lmtp_next(struct lmtp_session *s, struct lmtp_message *msg);

/* One outcome per recipient of the message just returned, with a reason
 * for the reply text (one line, may be NULL).  Queues the replies and
 * resets the transaction. */
void lmtp_message_done(struct lmtp_session *s, const enum hl_status *outcomes,
		       const char *const *reasons);

/* Pending output, and its removal once written. */
const char *lmtp_output(const struct lmtp_session *s, size_t *len);
void lmtp_output_consumed(struct lmtp_session *s, size_t n);

/* Tell the peer we are going away (shutdown, fatal error): queues a 421
 * reply; the caller writes it and closes. */
void lmtp_shutdown(struct lmtp_session *s, const char *reason);

#endif
