/* Unit tests for lib/signature: X-Line-Signature verification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "signature.h"

/* RFC 4231 test case 2 (HMAC-SHA256, key "Jefe"), base64 of its MAC
 * 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843. */
#define RFC_KEY	 "Jefe"
#define RFC_DATA "what do ya want for nothing?"
#define RFC_SIG	 "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="

/* A webhook body as linesim and LINE send it, signed with openssl:
 *   printf %s "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64 */
#define SECRET "8f0b3c2e1d4a5b6c7d8e9f0a1b2c3d4e"
#define BODY                                                                                       \
	"{\"destination\":\"U0123456789abcdef0123456789abcdef\",\"events\":[{\"type\":\"follow\"," \
	"\"webhookEventId\":\"01JDQ6Y8F3T5V1X9Z2B4C6D8EA\",\"deliveryContext\":{\"isRedelivery\":" \
	"false},\"timestamp\":1764028800000,\"source\":{\"type\":\"user\",\"userId\":"             \
	"\"U4af4980629a1b2c3d4e5f60718293a4b\"},\"replyToken\":\"r1\",\"mode\":\"active\"}]}"
#define SIG_FROM_OPENSSL "k/y1HSrDN1RY4oChQdTZtilOS5AzdpSpqhdZI1gZuoY="

static void rfc4231_vector(void **state)
{
	char out[SIGNATURE_B64_LEN + 1];

	(void)state;
	assert_true(signature_sign(RFC_KEY, RFC_DATA, strlen(RFC_DATA), out, sizeof(out)));
	assert_string_equal(out, RFC_SIG);
	assert_int_equal(signature_verify(RFC_KEY, RFC_DATA, strlen(RFC_DATA), RFC_SIG), SIG_OK);
}

static void table(void **state)
{
	char good[SIGNATURE_B64_LEN + 1], flipped[SIGNATURE_B64_LEN + 1];
	char tampered[] = BODY;
	struct {
		const char *name, *secret, *body, *header;
		enum sig_result want;
	} cases[] = {
		{"valid", SECRET, BODY, good, SIG_OK},
		{"missing", SECRET, BODY, NULL, SIG_MISSING},
		{"empty", SECRET, BODY, "", SIG_MISSING},
		{"wrong secret", "8f0b3c2e1d4a5b6c7d8e9f0a1b2c3d4f", BODY, good, SIG_MISMATCH},
		{"tampered body", SECRET, tampered, good, SIG_MISMATCH},
		{"one bit of the MAC", SECRET, BODY, flipped, SIG_MISMATCH},
		{"not base64", SECRET, BODY,
		 "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!=", SIG_MALFORMED},
		{"short", SECRET, BODY, "W9zBRr9gdU5qBCQ=", SIG_MALFORMED},
		{"no padding", SECRET, BODY, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM",
		 SIG_MALFORMED},
		{"trailing space", SECRET, BODY,
		 "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM= ", SIG_MALFORMED},
		{"hex instead", SECRET, BODY,
		 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", SIG_MALFORMED},
		/* The same 32 bytes with the two unused bits set: a second spelling. */
		{"non-canonical base64", RFC_KEY, RFC_DATA,
		 "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEP=", SIG_MALFORMED},
		{"no secret", "", BODY, good, SIG_NO_SECRET},
		{"RFC 4231 data, LINE body", RFC_KEY, BODY, RFC_SIG, SIG_MISMATCH},
	};
	size_t i;

	(void)state;
	assert_true(signature_sign(SECRET, BODY, strlen(BODY), good, sizeof(good)));
	memcpy(flipped, good, sizeof(flipped));
	flipped[0] = flipped[0] == 'A' ? 'B' : 'A';
	/* "follow" -> "fellow": same length, one byte changed. */
	strstr(tampered, "follow")[1] = 'e';
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum sig_result r = signature_verify(cases[i].secret, cases[i].body,
						     strlen(cases[i].body), cases[i].header);

		if (r != cases[i].want)
			fail_msg("%s: got %s, want %s", cases[i].name, signature_reason(r),
				 signature_reason(cases[i].want));
	}
}

static void openssl_cli_agrees(void **state)
{
	char out[SIGNATURE_B64_LEN + 1];

	(void)state;
	/* printf %s "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64 */
	assert_true(signature_sign(SECRET, BODY, strlen(BODY), out, sizeof(out)));
	assert_string_equal(out, SIG_FROM_OPENSSL);
}

static void sign_needs_room(void **state)
{
	char out[SIGNATURE_B64_LEN];

	(void)state;
	assert_false(signature_sign(SECRET, BODY, strlen(BODY), out, sizeof(out)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc4231_vector),
		cmocka_unit_test(table),
		cmocka_unit_test(openssl_cli_agrees),
		cmocka_unit_test(sign_needs_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
