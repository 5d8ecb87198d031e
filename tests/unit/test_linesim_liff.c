/* Unit tests for tools/linesim/liff: ID tokens verify with the published
 * JWK as any relying party would check them, and /oauth2/v2.1/verify
 * answers LINE's error texts, also for hostile tokens and forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "../../tools/linesim/liff.h"
#include "str.h"

#define CHANNEL "1657000001"
#define USER	"U0123456789abcdef0123456789abcdef"

static int setup(void **state)
{
	*state = liff_new(CHANNEL);
	return *state != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	liff_free(*state);
	return 0;
}

/* base64url (no padding) through OpenSSL's plain base64 decoder, so the
 * test does not share the module's own decoder. */
static size_t b64url_decode(const char *in, size_t n, unsigned char *out, size_t size)
{
	char buf[4096];
	unsigned char tmp[4096];
	size_t i, m = 0;
	int len;

	assert_true(n + 4 < sizeof(buf));
	for (i = 0; i < n; i++)
		buf[m++] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	while (m % 4 != 0)
		buf[m++] = '=';
	len = EVP_DecodeBlock(tmp, (const unsigned char *)buf, (int)m);
	assert_true(len >= 0);
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (n % 4 == 2)
		len -= 2;
	else if (n % 4 == 3)
		len -= 1;
	assert_true((size_t)len <= size);
	memcpy(out, tmp, (size_t)len);
	return (size_t)len;
}

static json_t *b64_json(const char *in, size_t n)
{
	unsigned char buf[2048];
	size_t len = b64url_decode(in, n, buf, sizeof(buf));
	json_t *j = json_loadb((const char *)buf, len, 0, NULL);

	assert_non_null(j);
	return j;
}

/* The public key rebuilt from the JWK's x and y, as a relying party does. */
static EVP_PKEY *key_from_jwk(json_t *jwk)
{
	unsigned char point[65];
	const char *x = json_string_value(json_object_get(jwk, "x"));
	const char *y = json_string_value(json_object_get(jwk, "y"));
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *key = NULL;

	assert_non_null(x);
	assert_non_null(y);
	point[0] = 0x04;
	assert_int_equal(b64url_decode(x, strlen(x), point + 1, 32), 32);
	assert_int_equal(b64url_decode(y, strlen(y), point + 33, 32), 32);
	assert_int_equal(
		OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
							  sizeof(point)),
			 1);
	params = OSSL_PARAM_BLD_to_param(bld);
	assert_non_null(params);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* Verifies a raw R || S ES256 signature (JWS) with OpenSSL, which wants DER. */
static bool es256_ok(EVP_PKEY *key, const char *msg, size_t n, const unsigned char sig[64])
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
	unsigned char *der = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int der_len;
	bool ok;

	assert_int_equal(ECDSA_SIG_set0(es, r, s), 1);
	der_len = i2d_ECDSA_SIG(es, &der);
	assert_true(der_len > 0);
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key), 1);
	ok = EVP_DigestVerify(md, der, (size_t)der_len, (const unsigned char *)msg, n) == 1;
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	return ok;
}

static void token_verifies_with_published_jwk(void **state)
{
	struct liff *l = *state;
	char *token = liff_issue_token(l, USER, "n-123"), *certs = NULL;
	const char *dot1, *dot2;
	unsigned char sig[64];
	json_t *set, *jwk, *header, *claims;
	EVP_PKEY *key;
	time_t now = time(NULL);

	assert_non_null(token);
	assert_int_equal(liff_certs_json(l, &certs), 200);
	set = json_loads(certs, 0, NULL);
	assert_non_null(set);
	assert_int_equal(json_array_size(json_object_get(set, "keys")), 1);
	jwk = json_array_get(json_object_get(set, "keys"), 0);
	assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "EC");
	assert_string_equal(json_string_value(json_object_get(jwk, "crv")), "P-256");
	assert_string_equal(json_string_value(json_object_get(jwk, "alg")), "ES256");
	assert_string_equal(json_string_value(json_object_get(jwk, "use")), "sig");

	dot1 = strchr(token, '.');
	assert_non_null(dot1);
	dot2 = strchr(dot1 + 1, '.');
	assert_non_null(dot2);
	assert_null(strchr(dot2 + 1, '.'));
	header = b64_json(token, (size_t)(dot1 - token));
	assert_string_equal(json_string_value(json_object_get(header, "alg")), "ES256");
	assert_string_equal(json_string_value(json_object_get(header, "typ")), "JWT");
	assert_string_equal(json_string_value(json_object_get(header, "kid")),
			    json_string_value(json_object_get(jwk, "kid")));
	claims = b64_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	assert_string_equal(json_string_value(json_object_get(claims, "iss")),
			    "https://access.line.me");
	assert_string_equal(json_string_value(json_object_get(claims, "sub")), USER);
	assert_string_equal(json_string_value(json_object_get(claims, "aud")), CHANNEL);
	assert_string_equal(json_string_value(json_object_get(claims, "nonce")), "n-123");
	assert_string_equal(json_string_value(json_array_get(json_object_get(claims, "amr"), 0)),
			    "linesso");
	assert_true(json_integer_value(json_object_get(claims, "iat")) <= now + 1);
	assert_true(json_integer_value(json_object_get(claims, "exp")) >= now + 3599);
	assert_true(json_integer_value(json_object_get(claims, "exp")) <= now + 3601);

	/* JWS ES256 signatures are the raw 64 bytes R || S, not DER. */
	assert_int_equal(b64url_decode(dot2 + 1, strlen(dot2 + 1), sig, sizeof(sig)), 64);
	key = key_from_jwk(jwk);
	assert_true(es256_ok(key, token, (size_t)(dot2 - token), sig));
	sig[10] ^= 1;
	assert_false(es256_ok(key, token, (size_t)(dot2 - token), sig));

	EVP_PKEY_free(key);
	json_decref(claims);
	json_decref(header);
	json_decref(set);
	free(certs);
	free(token);
}

static void no_nonce_claim_without_nonce(void **state)
{
	char *token = liff_issue_token(*state, USER, NULL);
	const char *dot1 = strchr(token, '.'), *dot2 = strchr(dot1 + 1, '.');
	json_t *claims = b64_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));

	assert_null(json_object_get(claims, "nonce"));
	json_decref(claims);
	free(token);
	assert_null(liff_issue_token(*state, "", NULL));
	assert_null(liff_issue_token(*state, NULL, NULL));
}

/* A token whose claims part was replaced, signature kept. */
static char *tampered(const char *token)
{
	const char *dot1 = strchr(token, '.'), *dot2 = strchr(dot1 + 1, '.');
	/* {"iss":"https://access.line.me","sub":"Uevil","aud":"1657000001","exp":9999999999} */
	const char *evil =
		"eyJpc3MiOiJodHRwczovL2FjY2Vzcy5saW5lLm1lIiwic3ViIjoiVWV2aWwiLCJhdWQiOiIx"
		"NjU3MDAwMDAxIiwiZXhwIjo5OTk5OTk5OTk5fQ";

	return str_dup_printf("%.*s.%s%s", (int)(dot1 - token), token, evil, dot2);
}

static void verify_cases(void **state)
{
	enum { VALID, EXPIRED, TAMPERED };
	static const struct {
		const char *name;
		int kind;
		const char *extra; /* form fields after id_token */
		int status;
		const char *want; /* error_description, or NULL for claims */
	} cases[] = {
		{"valid", VALID, "&client_id=" CHANNEL, 200, NULL},
		{"valid with nonce", VALID, "&client_id=" CHANNEL "&nonce=n-1", 200, NULL},
		{"valid with user_id", VALID, "&client_id=" CHANNEL "&user_id=" USER, 200, NULL},
		{"expired", EXPIRED, "&client_id=" CHANNEL, 400, "IdToken expired."},
		{"wrong audience", VALID, "&client_id=1657000002", 400,
		 "Invalid IdToken Audience."},
		{"wrong nonce", VALID, "&client_id=" CHANNEL "&nonce=other", 400,
		 "Invalid IdToken Nonce."},
		{"wrong subject", VALID,
		 "&client_id=" CHANNEL "&user_id=Uffffffffffffffffffffffffffffffff", 400,
		 "Invalid IdToken Subject Identifier."},
		{"tampered payload", TAMPERED, "&client_id=" CHANNEL, 400, "Invalid IdToken."},
		{"no client_id", VALID, "", 400, "client_id is required."},
		{"duplicate client_id", VALID, "&client_id=" CHANNEL "&client_id=" CHANNEL, 400,
		 "Duplicate parameter."},
		{"bad escape", VALID, "&client_id=%zz", 400, "Invalid request body."},
		{"encoded NUL", VALID, "&client_id=" CHANNEL "%00x", 400, "Invalid request body."},
		{"escaped client_id", VALID, "&client_id=%31657000001", 200, NULL},
		{"empty pairs and unknown fields", VALID, "&&scope=openid&client_id=" CHANNEL "&",
		 200, NULL},
	};
	struct liff *l = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *token, *form, *reply = NULL;
		json_t *r;
		int status;

		token = cases[i].kind == EXPIRED ? liff_issue_token_ttl(l, USER, "n-1", -10)
						 : liff_issue_token(l, USER, "n-1");
		assert_non_null(token);
		if (cases[i].kind == TAMPERED) {
			char *t = tampered(token);
			free(token);
			token = t;
		}
		form = str_dup_printf("id_token=%s%s", token, cases[i].extra);
		status = liff_verify_form(l, form, strlen(form), &reply);
		print_message("# %s: %d %s\n", cases[i].name, status, reply);
		assert_int_equal(status, cases[i].status);
		assert_non_null(reply);
		r = json_loads(reply, 0, NULL);
		assert_non_null(r);
		if (cases[i].want == NULL) {
			assert_string_equal(json_string_value(json_object_get(r, "sub")), USER);
			assert_string_equal(json_string_value(json_object_get(r, "aud")), CHANNEL);
			assert_string_equal(json_string_value(json_object_get(r, "iss")),
					    "https://access.line.me");
		} else {
			assert_string_equal(json_string_value(json_object_get(r, "error")),
					    "invalid_request");
			assert_string_equal(
				json_string_value(json_object_get(r, "error_description")),
				cases[i].want);
		}
		json_decref(r);
		free(reply);
		free(form);
		free(token);
	}
}

/* Any garbage in id_token is a 400, never a crash or a 200. */
static void malformed_tokens(void **state)
{
	struct liff *l = *state;
	char *valid = liff_issue_token(l, USER, NULL);
	const char *dot2 = strrchr(valid, '.');
	char *huge = malloc(100001), *cases[16];
	size_t i, n = 0;

	assert_non_null(huge);
	memset(huge, 'A', 100000);
	huge[100000] = '\0';
	huge[30] = huge[60] = '.';
	cases[n++] = strdup("");
	cases[n++] = strdup("nodots");
	cases[n++] = strdup("one.dot");
	cases[n++] = strdup("a.b.c.d");
	cases[n++] = strdup("...");
	cases[n++] = strdup("!!!.###.$$$");
	cases[n++] = str_dup_printf("%s", huge);
	/* alg "none", no signature: the classic forgery. */
	cases[n++] = str_dup_printf("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.");
	/* the right header and claims, a signature of 63 bytes */
	cases[n++] = str_dup_printf("%.*s.%.84s", (int)(dot2 - valid), valid, dot2 + 1);
	/* a base64url length that cannot be (4n + 1) */
	cases[n++] = str_dup_printf("%.*s.%sA", (int)(dot2 - valid), valid, dot2 + 1);
	/* header not JSON: "hello" */
	cases[n++] = str_dup_printf("aGVsbG8%s", strchr(valid, '.'));
	/* padding is not base64url */
	cases[n++] = str_dup_printf("%.*s=", (int)strlen(valid), valid);
	for (i = 0; i < n; i++) {
		char *form = str_dup_printf("id_token=%s&client_id=%s", cases[i], CHANNEL),
		     *reply = NULL;
		int status = liff_verify_form(l, form, strlen(form), &reply);

		print_message("# case %zu: %d %s\n", i, status, reply);
		assert_int_equal(status, 400);
		assert_non_null(reply);
		assert_non_null(strstr(reply, "\"invalid_request\""));
		free(reply);
		free(form);
		free(cases[i]);
	}
	free(huge);
	free(valid);
}

static void hostile_forms(void **state)
{
	static const char *const forms[] = {
		"",
		"=",
		"&&&&",
		"id_token",
		"id_token=",
		"client_id=" CHANNEL,
		"%",
		"id_token=%4",
		"a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11&l=12&m=13&n=14&o=15&p=16&q=17",
	};
	struct liff *l = *state;
	char *big = malloc(20000), *reply = NULL;
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		assert_int_equal(liff_verify_form(l, forms[i], strlen(forms[i]), &reply), 400);
		assert_non_null(reply);
		free(reply);
		reply = NULL;
	}
	/* Not NUL-terminated and over the form limit. */
	memset(big, 'x', 20000);
	assert_int_equal(liff_verify_form(l, big, 20000, &reply), 400);
	free(reply);
	free(big);
}

static void new_refuses_bad_channel(void **state)
{
	char long_id[100];

	(void)state;
	memset(long_id, '1', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_null(liff_new(""));
	assert_null(liff_new(NULL));
	assert_null(liff_new(long_id));
	liff_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(token_verifies_with_published_jwk, setup, teardown),
		cmocka_unit_test_setup_teardown(no_nonce_claim_without_nonce, setup, teardown),
		cmocka_unit_test_setup_teardown(verify_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(hostile_forms, setup, teardown),
		cmocka_unit_test(new_refuses_bad_channel),
	};

	return cmocka_run_group_tests_name("linesim_liff", tests, NULL, NULL);
}
