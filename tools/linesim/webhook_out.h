/*
 * webhook_out — the LINE Platform's side of the webhook: POST
 * {"destination", "events"} to the channel's webhook URL, signed with
 * X-Line-Signature = base64(HMAC-SHA256(channel secret, body)).
 *
 * A non-2xx answer, a timeout or a refused connection is redelivered (when
 * retries > 0) after backoff_ms, doubling each time, with every event's
 * deliveryContext.isRedelivery set to true, as LINE does when redelivery
 * is enabled.  Every attempt is recorded in the sim's webhook log (taking
 * the sim lock briefly); the sending itself runs without it.
 *
 * The only linesim module that includes curl/curl.h.
 */
#ifndef LINESIM_WEBHOOK_OUT_H
#define LINESIM_WEBHOOK_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct sim;
struct webhook_out;

struct webhook_out_opts {
	int retries;	/* redeliveries after the first attempt */
	int backoff_ms; /* wait before the first redelivery; doubles */
	int timeout_ms; /* per attempt, connection included */
};

struct webhook_result {
	int status;   /* last HTTP status; 0 when nothing answered */
	int attempts; /* 0 when no webhook URL is set */
	char error[128];
};

#define WEBHOOK_SIGNATURE_SIZE 45 /* base64 of 32 bytes + NUL */

/* curl_global_init() must have run.  NULL when out of memory. */
struct webhook_out *webhook_out_new(const struct webhook_out_opts *opts);
void webhook_out_free(struct webhook_out *w);

/* Deliver events (a JSON array, modified: isRedelivery on retries) to url.
 * Call without the sim lock.  Thread-safe. */
void webhook_out_deliver(struct webhook_out *w, struct sim *s, const char *url, const char *secret,
			 const char *destination, json_t *events, struct webhook_result *res);

/* base64(HMAC-SHA256(secret, body)); false on an OpenSSL failure. */
bool webhook_sign(const char *secret, const char *body, size_t len,
		  char out[WEBHOOK_SIGNATURE_SIZE]) __attribute__((warn_unused_result));

#endif
