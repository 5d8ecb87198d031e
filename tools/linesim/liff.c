/*
 * liff — LINE Login ID tokens for simulated residents; see liff.h.
 *
 * A token is a compact JWS: base64url(header) "." base64url(claims) "."
 * base64url(R || S), the signature being ES256 over the first two parts as
 * JWS (RFC 7515, RFC 7518 §3.4) wants it: the raw 32-byte big-endian R and
 * S, not OpenSSL's DER.  Verification is what LINE's /oauth2/v2.1/verify
 * does: signature and key id first ("Invalid IdToken."), then issuer,
 * expiry, audience, nonce and subject, each with LINE's error text.
 *
 * Everything arriving at verify is hostile: the form and the token are
 * bounded before anything is decoded, and every decoded part is bounded
 * again before JSON sees it.
 */
#include "liff.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "str.h"

#define LIFF_ISSUER "https://access.line.me"
/* LINE's channel ids are 10 digits; room for a staging id of another form. */
#define LIFF_CHANNEL_MAX 64
/* Hex of 16 bytes of SHA-256 of the public key: stable for one key. */
#define LIFF_KID_SIZE 33
/* A LINE ID token is about 1 KB; bigger ones are refused before decoding
 * so a client cannot make us base64-decode and parse megabytes. */
#define LIFF_TOKEN_MAX 4096
/* The whole verify form: a token plus three short fields. */
#define LIFF_FORM_MAX 8192
/* Fields in the form; stops a body of a thousand "&&&" costing anything. */
#define LIFF_FORM_FIELDS 16
/* user_id, nonce and client_id are short; a longer one is not LINE's. */
#define LIFF_FIELD_MAX 256
/* A P-256 coordinate, and the raw ES256 signature. */
#define P256_LEN      32
#define ES256_SIG_LEN 64

struct liff {
	EVP_PKEY *key;
	char channel[LIFF_CHANNEL_MAX];
	char kid[LIFF_KID_SIZE];
	char x[48]; /* base64url of the public point's coordinates */
	char y[48];
};

static const char b64url_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding into out (size bytes, NUL-terminated). */
static bool b64url_encode(const unsigned char *in, size_t n, char *out, size_t size)
{
	size_t o = 0, i;

	if (n > (SIZE_MAX - 3) / 4 * 3 || (n + 2) / 3 * 4 + 1 > size)
		return false;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url_chars[v >> 18 & 63];
		out[o++] = b64url_chars[v >> 12 & 63];
		out[o++] = b64url_chars[v >> 6 & 63];
		out[o++] = b64url_chars[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64url_chars[v >> 18 & 63];
		out[o++] = b64url_chars[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url_chars[v >> 18 & 63];
		out[o++] = b64url_chars[v >> 12 & 63];
		out[o++] = b64url_chars[v >> 6 & 63];
	}
	out[o] = '\0';
	return true;
}

static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Strict base64url without padding (JWS, RFC 7515 §2): any other byte, a
 * length that cannot be base64 or non-zero trailing bits is an error. */
static bool b64url_decode(const char *in, size_t n, unsigned char *out, size_t size,
			  size_t *out_len)
{
	uint32_t acc = 0;
	size_t o = 0, i;
	int bits = 0;

	/* Every 4 characters are 3 bytes, a tail of 2 or 3 is 1 or 2. */
	if (n % 4 == 1 || n / 4 * 3 + (n % 4 != 0 ? n % 4 - 1 : 0) > size)
		return false;
	for (i = 0; i < n; i++) {
		int v = b64url_value((unsigned char)in[i]);
		if (v < 0)
			return false;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	if ((acc & ((1u << bits) - 1)) != 0)
		return false;
	*out_len = o;
	return true;
}

static bool coordinates(EVP_PKEY *key, unsigned char point[1 + 2 * P256_LEN])
{
	size_t len = 0;

	if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * P256_LEN,
					    &len) != 1)
		return false;
	/* Uncompressed form 04 || X || Y is what JWK's x and y are cut from. */
	return len == 1 + 2 * P256_LEN && point[0] == 0x04;
}

struct liff *liff_new(const char *login_channel_id)
{
	unsigned char point[1 + 2 * P256_LEN], digest[SHA256_DIGEST_LENGTH];
	struct liff *l;

	if (login_channel_id == NULL || login_channel_id[0] == '\0')
		return NULL;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	if (!str_copy(l->channel, login_channel_id, sizeof(l->channel)))
		goto fail;
	l->key = EVP_EC_gen("P-256");
	if (l->key == NULL || !coordinates(l->key, point))
		goto fail;
	if (!b64url_encode(point + 1, P256_LEN, l->x, sizeof(l->x)) ||
	    !b64url_encode(point + 1 + P256_LEN, P256_LEN, l->y, sizeof(l->y)))
		goto fail;
	SHA256(point, sizeof(point), digest);
	if (!str_hex(digest, (LIFF_KID_SIZE - 1) / 2, l->kid, sizeof(l->kid)))
		goto fail;
	return l;
fail:
	liff_free(l);
	return NULL;
}

void liff_free(struct liff *l)
{
	if (l == NULL)
		return;
	EVP_PKEY_free(l->key);
	free(l);
}

/* ES256 over msg as raw R || S. */
static bool sign_es256(EVP_PKEY *key, const char *msg, size_t n, unsigned char sig[ES256_SIG_LEN])
{
	unsigned char der[128];
	const unsigned char *p = der;
	size_t der_len = sizeof(der);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *es = NULL;
	const BIGNUM *r, *s;
	bool ok = false;

	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, der, &der_len, (const unsigned char *)msg, n) != 1)
		goto fail;
	es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (es == NULL)
		goto fail;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, sig, P256_LEN) != P256_LEN ||
	    BN_bn2binpad(s, sig + P256_LEN, P256_LEN) != P256_LEN)
		goto fail;
	ok = true;
fail:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return ok;
}

static bool verify_es256(EVP_PKEY *key, const char *msg, size_t n,
			 const unsigned char sig[ES256_SIG_LEN])
{
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	int der_len;
	bool ok = false;

	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, P256_LEN, NULL);
	s = BN_bin2bn(sig + P256_LEN, P256_LEN, NULL);
	if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1)
		goto fail;
	r = s = NULL; /* owned by es now */
	der_len = i2d_ECDSA_SIG(es, &der);
	if (der_len <= 0)
		goto fail;
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) != 1)
		goto fail;
	ok = EVP_DigestVerify(md, der, (size_t)der_len, (const unsigned char *)msg, n) == 1;
fail:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return ok;
}

/* base64url of a JSON object's compact form, appended to a growing buffer. */
static bool append_b64_json(json_t *obj, char *out, size_t size, size_t *len)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	bool ok;

	if (text == NULL)
		return false;
	ok = *len < size &&
	     b64url_encode((const unsigned char *)text, strlen(text), out + *len, size - *len);
	free(text);
	if (ok)
		*len += strlen(out + *len);
	return ok;
}

char *liff_issue_token_ttl(struct liff *l, const char *user_id, const char *nonce, long ttl_seconds)
{
	char *token = NULL;
	json_t *header = NULL, *claims = NULL;
	unsigned char sig[ES256_SIG_LEN];
	size_t len = 0;
	time_t now = time(NULL);

	if (l == NULL || user_id == NULL || user_id[0] == '\0' ||
	    strlen(user_id) > LIFF_FIELD_MAX || (nonce != NULL && strlen(nonce) > LIFF_FIELD_MAX))
		return NULL;
	header = json_pack("{s:s, s:s, s:s}", "alg", "ES256", "typ", "JWT", "kid", l->kid);
	claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:[s]}", "iss", LIFF_ISSUER, "sub", user_id,
			   "aud", l->channel, "exp", (json_int_t)now + ttl_seconds, "iat",
			   (json_int_t)now, "amr", "linesso");
	if (header == NULL || claims == NULL)
		goto fail;
	if (nonce != NULL && json_object_set_new(claims, "nonce", json_string(nonce)) != 0)
		goto fail;
	token = malloc(LIFF_TOKEN_MAX);
	if (token == NULL)
		goto fail;
	if (!append_b64_json(header, token, LIFF_TOKEN_MAX, &len) || len + 1 >= LIFF_TOKEN_MAX)
		goto fail;
	token[len++] = '.';
	if (!append_b64_json(claims, token, LIFF_TOKEN_MAX, &len) ||
	    !sign_es256(l->key, token, len, sig) || len + 1 >= LIFF_TOKEN_MAX)
		goto fail;
	token[len++] = '.';
	if (!b64url_encode(sig, sizeof(sig), token + len, LIFF_TOKEN_MAX - len))
		goto fail;
	json_decref(header);
	json_decref(claims);
	return token;
fail:
	free(token);
	json_decref(header);
	json_decref(claims);
	return NULL;
}

char *liff_issue_token(struct liff *l, const char *user_id, const char *nonce)
{
	/* LINE's ID tokens from LIFF are valid for an hour. */
	return liff_issue_token_ttl(l, user_id, nonce, 3600);
}

int liff_certs_json(struct liff *l, char **reply_json)
{
	json_t *set;

	set = json_pack("{s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:s}]}", "keys", "kty", "EC", "alg",
			"ES256", "use", "sig", "kid", l->kid, "crv", "P-256", "x", l->x, "y", l->y);
	*reply_json = set != NULL ? json_dumps(set, JSON_COMPACT) : NULL;
	json_decref(set);
	return *reply_json != NULL ? 200 : 500;
}

static int error_reply(const char *description, char **reply_json)
{
	json_t *e = json_pack("{s:s, s:s}", "error", "invalid_request", "error_description",
			      description);

	*reply_json = e != NULL ? json_dumps(e, JSON_COMPACT) : NULL;
	json_decref(e);
	return *reply_json != NULL ? 400 : 500;
}

/* The verify form's fields, decoded; each NULL when absent. */
struct verify_form {
	char *id_token, *client_id, *nonce, *user_id;
};

static void form_clear(struct verify_form *f)
{
	free(f->id_token);
	free(f->client_id);
	free(f->nonce);
	free(f->user_id);
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* application/x-www-form-urlencoded value: '+' is a space, %XX a byte.  A
 * bad escape or an encoded NUL (which would cut the C string and let two
 * different tokens compare equal) is an error. */
static char *form_decode(const char *s, size_t n, size_t max)
{
	char *out;
	size_t i, o = 0;

	if (n > max * 3)
		return NULL;
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			int hi, lo;
			if (n - i < 3)
				goto fail;
			hi = hex_value((unsigned char)s[i + 1]);
			lo = hex_value((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto fail;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '\0') {
			goto fail;
		} else {
			out[o++] = s[i];
		}
	}
	if (o > max)
		goto fail;
	out[o] = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

/* Parses the form into f; on error returns false with *why set. */
static bool form_parse(const char *form, size_t len, struct verify_form *f, const char **why)
{
	static const struct {
		const char *name;
		size_t offset, max;
	} fields[] = {
		{"id_token", offsetof(struct verify_form, id_token), LIFF_TOKEN_MAX},
		{"client_id", offsetof(struct verify_form, client_id), LIFF_CHANNEL_MAX},
		{"nonce", offsetof(struct verify_form, nonce), LIFF_FIELD_MAX},
		{"user_id", offsetof(struct verify_form, user_id), LIFF_FIELD_MAX},
	};
	size_t pos = 0, count = 0, i;

	*why = "Invalid request body.";
	if (len > LIFF_FORM_MAX)
		return false;
	while (pos < len) {
		const char *pair = form + pos, *amp, *eq;
		size_t pair_len, name_len;

		amp = memchr(pair, '&', len - pos);
		pair_len = amp != NULL ? (size_t)(amp - pair) : len - pos;
		pos += pair_len + (amp != NULL);
		if (pair_len == 0)
			continue;
		if (++count > LIFF_FORM_FIELDS)
			return false;
		eq = memchr(pair, '=', pair_len);
		name_len = eq != NULL ? (size_t)(eq - pair) : pair_len;
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			char **slot = (char **)((char *)f + fields[i].offset);
			const char *value = eq != NULL ? eq + 1 : pair + pair_len;
			size_t value_len = pair_len - name_len - (eq != NULL);

			if (strlen(fields[i].name) != name_len ||
			    memcmp(fields[i].name, pair, name_len) != 0)
				continue;
			if (*slot != NULL) {
				*why = "Duplicate parameter.";
				return false;
			}
			*slot = form_decode(value, value_len, fields[i].max);
			if (*slot == NULL) {
				/* An oversized or garbled token is simply not one. */
				*why = i == 0 ? "Invalid IdToken." : "Invalid request body.";
				return false;
			}
			break;
		}
	}
	return true;
}

/* The token's claims when its form, key id and signature are right. */
static json_t *token_claims(struct liff *l, const char *token)
{
	unsigned char *part = NULL;
	unsigned char sig[ES256_SIG_LEN];
	const char *dot1, *dot2;
	size_t n = strlen(token), part_len, sig_len;
	json_t *header = NULL, *claims = NULL;
	const char *alg, *kid;

	if (n > LIFF_TOKEN_MAX)
		return NULL;
	dot1 = strchr(token, '.');
	dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
	if (dot2 == NULL || strchr(dot2 + 1, '.') != NULL)
		return NULL;
	part = malloc(n);
	if (part == NULL)
		return NULL;
	if (!b64url_decode(token, (size_t)(dot1 - token), part, n, &part_len))
		goto fail;
	header = json_loadb((const char *)part, part_len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(header) || json_unpack(header, "{s:s, s:s}", "alg", &alg, "kid", &kid))
		goto fail;
	/* Only our algorithm and key: "none" or HS256 with the public key as a
	 * secret are the classic JWT forgeries. */
	if (strcmp(alg, "ES256") != 0 || strcmp(kid, l->kid) != 0)
		goto fail;
	if (!b64url_decode(dot2 + 1, strlen(dot2 + 1), sig, sizeof(sig), &sig_len) ||
	    sig_len != ES256_SIG_LEN)
		goto fail;
	if (!verify_es256(l->key, token, (size_t)(dot2 - token), sig))
		goto fail;
	if (!b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), part, n, &part_len))
		goto fail;
	claims = json_loadb((const char *)part, part_len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(claims)) {
		json_decref(claims);
		claims = NULL;
	}
fail:
	json_decref(header);
	free(part);
	return claims;
}

int liff_verify_form(struct liff *l, const char *form, size_t len, char **reply_json)
{
	struct verify_form f = {0};
	const char *why, *iss, *aud, *sub, *nonce = NULL;
	json_t *claims = NULL;
	json_int_t exp;
	int status;

	*reply_json = NULL;
	if (!form_parse(form, len, &f, &why)) {
		status = error_reply(why, reply_json);
		goto done;
	}
	if (f.id_token == NULL || f.client_id == NULL) {
		status = error_reply(f.id_token == NULL ? "id_token is required."
							: "client_id is required.",
				     reply_json);
		goto done;
	}
	claims = token_claims(l, f.id_token);
	if (claims == NULL || json_unpack(claims, "{s:s, s:s, s:s, s:I, s?s}", "iss", &iss, "sub",
					  &sub, "aud", &aud, "exp", &exp, "nonce", &nonce) != 0) {
		status = error_reply("Invalid IdToken.", reply_json);
		goto done;
	}
	if (strcmp(iss, LIFF_ISSUER) != 0)
		status = error_reply("Invalid IdToken Issuer.", reply_json);
	else if (exp <= (json_int_t)time(NULL))
		status = error_reply("IdToken expired.", reply_json);
	else if (strcmp(aud, f.client_id) != 0)
		status = error_reply("Invalid IdToken Audience.", reply_json);
	else if (f.nonce != NULL && (nonce == NULL || strcmp(nonce, f.nonce) != 0))
		status = error_reply("Invalid IdToken Nonce.", reply_json);
	else if (f.user_id != NULL && strcmp(sub, f.user_id) != 0)
		status = error_reply("Invalid IdToken Subject Identifier.", reply_json);
	else {
		*reply_json = json_dumps(claims, JSON_COMPACT);
		status = *reply_json != NULL ? 200 : 500;
	}
done:
	json_decref(claims);
	form_clear(&f);
	return status;
}

static bool is_form(const char *content_type)
{
	static const char form[] = "application/x-www-form-urlencoded";
	size_t n = sizeof(form) - 1;

	return content_type != NULL && strncasecmp(content_type, form, n) == 0 &&
	       (content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ');
}

bool liff_route(struct liff *l, const struct httpd_request *req, struct httpd_reply *reply)
{
	const char *path = httpd_path(req), *method = httpd_method(req);
	char *json = NULL;
	int status;

	if (strcmp(path, "/oauth2/v2.1/certs") == 0) {
		if (strcmp(method, "GET") != 0) {
			(void)error_reply("Method not allowed.", &json);
			status = 405;
		} else {
			status = liff_certs_json(l, &json);
		}
	} else if (strcmp(path, "/oauth2/v2.1/verify") == 0) {
		const char *body;
		size_t len;

		if (strcmp(method, "POST") != 0) {
			(void)error_reply("Method not allowed.", &json);
			status = 405;
		} else if (!is_form(httpd_header(req, "Content-Type"))) {
			status = error_reply("Content-Type must be "
					     "application/x-www-form-urlencoded.",
					     &json);
		} else {
			body = httpd_body(req, &len);
			status = liff_verify_form(l, body != NULL ? body : "",
						  body != NULL ? len : 0, &json);
		}
	} else {
		return false;
	}
	if (json == NULL)
		httpd_reply_static(reply, 500, "application/json", "{\"error\":\"server_error\"}");
	else
		httpd_reply_owned(reply, status, "application/json", json, strlen(json));
	return true;
}
