/* Unit tests for lib/password: PBKDF2-HMAC-SHA256, checked against an
 * independent implementation (Python's hashlib), and hostile stored forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "password.h"

/* hashlib.pbkdf2_hmac('sha256', b'correct horse battery staple',
 *                     b'0123456789abcdef', 100000, 32) */
static const char known[] = "pbkdf2-sha256$100000$MDEyMzQ1Njc4OWFiY2RlZg==$"
			    "CQEF03iMraucElCfobodRqkaFY16F3mxFDIvP9WoJcs=";

static void verifies_known_vector(void **state)
{
	(void)state;
	assert_true(password_verify("correct horse battery staple", known));
	assert_false(password_verify("correct horse battery stapl", known));
	assert_false(password_verify("", known));
	assert_true(password_needs_rehash(known));
}

static void hash_round_trip(void **state)
{
	char a[PASSWORD_HASH_SIZE], b[PASSWORD_HASH_SIZE];

	(void)state;
	assert_int_equal(password_hash_iter("とても長い合言葉 2026", PASSWORD_ITERATIONS_MIN, a),
			 0);
	assert_int_equal(password_hash_iter("とても長い合言葉 2026", PASSWORD_ITERATIONS_MIN, b),
			 0);
	assert_string_not_equal(a, b); /* random salt */
	assert_true(password_verify("とても長い合言葉 2026", a));
	assert_false(password_verify("とても長い合言葉 2025", a));
	assert_non_null(strstr(a, "pbkdf2-sha256$100000$"));
}

static void refuses_malformed_stored_forms(void **state)
{
	static const char *const bad[] = {
		"",
		"plain-text-password",
		"pbkdf2-sha256$",
		"pbkdf2-sha256$1$MDEyMzQ1Njc4OWFiY2RlZg==$"
		"CQEF03iMraucElCfobodRqkaFY16F3mxFDIvP9WoJcs=",
		"pbkdf2-sha256$99999999999$MDEyMzQ1Njc4OWFiY2RlZg==$"
		"CQEF03iMraucElCfobodRqkaFY16F3mxFDIvP9WoJcs=",
		"pbkdf2-sha256$100000$MDEy$CQEF03iMraucElCfobodRqkaFY16F3mxFDIvP9WoJcs=",
		"pbkdf2-sha256$100000$MDEyMzQ1Njc4OWFiY2RlZg==$",
		"pbkdf2-sha256$100000$MDEyMzQ1Njc4OWFiY2RlZg==$!!!!",
		"pbkdf2-sha1$100000$MDEyMzQ1Njc4OWFiY2RlZg==$"
		"CQEF03iMraucElCfobodRqkaFY16F3mxFDIvP9WoJcs=",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(password_verify("correct horse battery staple", bad[i]));
}

static void weakness_rules(void **state)
{
	(void)state;
	assert_non_null(password_weakness("short"));
	assert_non_null(password_weakness("aaaaaaaaaaaaaaaa"));
	assert_null(password_weakness("tamura-kouhou-2026"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verifies_known_vector),
		cmocka_unit_test(hash_round_trip),
		cmocka_unit_test(refuses_malformed_stored_forms),
		cmocka_unit_test(weakness_rules),
	};

	return cmocka_run_group_tests_name("password", tests, NULL, NULL);
}
