/*
 * webhook_out — signed webhook delivery with redelivery; see webhook_out.h.
 */
#include "webhook_out.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sim.h"
#include "str.h"

/* Answers are read and thrown away; past this a receiver is misbehaving. */
#define ANSWER_MAX (64 * 1024)

struct webhook_out {
	struct webhook_out_opts opts;
};

struct webhook_out *webhook_out_new(const struct webhook_out_opts *opts)
{
	struct webhook_out *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->opts = *opts;
	return w;
}

void webhook_out_free(struct webhook_out *w)
{
	free(w);
}

bool webhook_sign(const char *secret, const char *body, size_t len,
		  char out[WEBHOOK_SIGNATURE_SIZE])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac,
		 &maclen) == NULL ||
	    maclen != 32)
		return false;
	return EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen) == 44;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	size_t *got = ud;

	(void)p;
	*got += size * n;
	return *got > ANSWER_MAX ? 0 : size * n;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

static void mark_redelivery(json_t *events)
{
	size_t i;
	json_t *e;

	json_array_foreach(events, i, e)
	{
		json_object_set_new(e, "deliveryContext", json_pack("{s:b}", "isRedelivery", 1));
	}
}

/* One POST; the HTTP status, or 0 with err. */
static int post_once(const struct webhook_out *w, const char *url, const char *body,
		     const char *sig, char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char sighdr[WEBHOOK_SIGNATURE_SIZE + 32];
	size_t got = 0;
	long code = 0;
	CURLcode rc;

	if (c == NULL) {
		str_msg(err, errlen, "out of memory");
		return 0;
	}
	str_msg(sighdr, sizeof(sighdr), "X-Line-Signature: %s", sig);
	h = curl_slist_append(h, "Content-Type: application/json; charset=utf-8");
	h = curl_slist_append(h, sighdr);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_USERAGENT, "LineBotWebhook/2.0");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)w->opts.timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* several threads send */
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code == 0)
		str_msg(err, errlen, "%s", curl_easy_strerror(rc));
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return (int)code;
}

void webhook_out_deliver(struct webhook_out *w, struct sim *s, const char *url, const char *secret,
			 const char *destination, json_t *events, struct webhook_result *res)
{
	int backoff = w->opts.backoff_ms;

	memset(res, 0, sizeof(*res));
	if (url == NULL || url[0] == '\0') {
		str_msg(res->error, sizeof(res->error), "no webhook URL is set");
		return;
	}
	for (int attempt = 1; attempt <= 1 + w->opts.retries; attempt++) {
		json_t *payload =
			json_pack("{s:s, s:O}", "destination", destination, "events", events);
		char *body = payload ? json_dumps(payload, JSON_COMPACT | JSON_REAL_PRECISION(15))
				     : NULL;
		char sig[WEBHOOK_SIGNATURE_SIZE] = "";

		json_decref(payload);
		if (body == NULL || !webhook_sign(secret, body, strlen(body), sig)) {
			free(body);
			str_msg(res->error, sizeof(res->error), "cannot build the webhook body");
			return;
		}
		res->error[0] = '\0';
		res->status = post_once(w, url, body, sig, res->error, sizeof(res->error));
		res->attempts = attempt;
		sim_lock(s);
		sim_log_webhook(s, url, res->status, res->error, attempt, attempt > 1, body, sig);
		sim_unlock(s);
		free(body);
		log_debug("webhook sent", "attempt=%d status=%d", attempt, res->status);
		if (res->status >= 200 && res->status < 300)
			return;
		if (res->status != 0)
			str_msg(res->error, sizeof(res->error), "the webhook answered %d",
				res->status);
		if (attempt <= w->opts.retries) {
			sleep_ms(backoff);
			backoff = backoff > 60000 ? backoff : backoff * 2;
			mark_redelivery(events);
		}
	}
	{
		char q[160];

		log_warn("webhook not delivered", "attempts=%d status=%d error=%s", res->attempts,
			 res->status, log_quote(res->error, q, sizeof(q)));
	}
}
