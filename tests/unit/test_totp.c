/* Unit tests for lib/totp: RFC 6238 appendix B vectors, the ± one step
 * window, replay refusal, base32 (RFC 4648 vectors), the otpauth URI and
 * sealing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "totp.h"

static const unsigned char key20[] = "12345678901234567890";
static const unsigned char key32[] = "12345678901234567890123456789012";
static const unsigned char key64[] =
	"1234567890123456789012345678901234567890123456789012345678901234";

/* RFC 6238 appendix B: time, then the SHA1, SHA256 and SHA512 codes. */
static const struct {
	long long t;
	long sha1, sha256, sha512;
} vectors[] = {
	{59, 94287082, 46119246, 90693936},	    {1111111109, 7081804, 68084774, 25091201},
	{1111111111, 14050471, 67062674, 99943326}, {1234567890, 89005924, 91819424, 93441116},
	{2000000000, 69279037, 90698825, 38618901}, {20000000000LL, 65353130, 77737706, 47863826},
};

static void rfc6238_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		uint64_t step = totp_step(vectors[i].t);
		assert_int_equal(totp_code_at(key20, 20, TOTP_SHA1, step, 8), vectors[i].sha1);
		assert_int_equal(totp_code_at(key32, 32, TOTP_SHA256, step, 8), vectors[i].sha256);
		assert_int_equal(totp_code_at(key64, 64, TOTP_SHA512, step, 8), vectors[i].sha512);
		/* 6 digits, as the apps show: the low 6 digits of the same value. */
		assert_int_equal(totp_code_at(key20, 20, TOTP_SHA1, step, 6),
				 vectors[i].sha1 % 1000000);
	}
	assert_int_equal(totp_code_at(key20, 20, TOTP_SHA1, 1, 5), -1);
	assert_int_equal(totp_code_at(key20, 20, TOTP_SHA1, 1, 9), -1);
}

static void window_and_replay(void **state)
{
	long long m = -1;

	(void)state;
	/* 1111111109 is step 37037036, code 081804. */
	assert_true(totp_verify(key20, "081804", 1111111109, -1, &m));
	assert_int_equal(m, 37037036);
	/* One step late or early is still accepted ... */
	assert_true(totp_verify(key20, "081804", 1111111109 + 30, -1, &m));
	assert_true(totp_verify(key20, "081804", 1111111109 - 30, -1, &m));
	assert_int_equal(m, 37037036);
	/* ... two steps are not. */
	assert_false(totp_verify(key20, "081804", 1111111109 + 60, -1, &m));
	assert_false(totp_verify(key20, "081804", 1111111109 - 60, -1, &m));
	/* Replay: the step already used, or an older one, is refused. */
	assert_false(totp_verify(key20, "081804", 1111111109, 37037036, &m));
	assert_false(totp_verify(key20, "081804", 1111111109, 37037037, &m));
	assert_true(totp_verify(key20, "081804", 1111111109, 37037035, &m));
	/* Wrong code, wrong shapes. */
	assert_false(totp_verify(key20, "081805", 1111111109, -1, &m));
	assert_false(totp_verify(key20, "81804", 1111111109, -1, &m));
	assert_false(totp_verify(key20, "0818040", 1111111109, -1, &m));
	assert_false(totp_verify(key20, "08180a", 1111111109, -1, &m));
	assert_false(totp_verify(key20, "", 1111111109, -1, &m));
	assert_false(totp_verify(key20, "-81804", 1111111109, -1, &m));
}

static void base32(void **state)
{
	char out[64];

	(void)state;
	assert_true(totp_base32((const unsigned char *)"foobar", 6, out, sizeof(out)));
	assert_string_equal(out, "MZXW6YTBOI");
	assert_true(totp_base32((const unsigned char *)"f", 1, out, sizeof(out)));
	assert_string_equal(out, "MY");
	assert_true(totp_base32(key20, 20, out, sizeof(out)));
	assert_string_equal(out, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	assert_false(totp_base32(key20, 20, out, 32)); /* no room for the NUL */
	assert_true(totp_base32(key20, 20, out, 33));
}

static void uri(void **state)
{
	char out[256];

	(void)state;
	assert_true(totp_uri(key20, "高崎市 hotline", "tamura", out, sizeof(out)));
	assert_string_equal(out, "otpauth://totp/%E9%AB%98%E5%B4%8E%E5%B8%82%20hotline:tamura"
				 "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
				 "&issuer=%E9%AB%98%E5%B4%8E%E5%B8%82%20hotline"
				 "&algorithm=SHA1&digits=6&period=30");
	assert_false(totp_uri(key20, "hotline", "tamura", out, 40));
}

static void secret_and_seal(void **state)
{
	unsigned char a[TOTP_SECRET_SIZE], b[TOTP_SECRET_SIZE], back[TOTP_SECRET_SIZE];
	unsigned char key[TOTP_KEY_SIZE], other[TOTP_KEY_SIZE], sealed[TOTP_SEALED_SIZE];

	(void)state;
	memset(key, 7, sizeof(key));
	memset(other, 8, sizeof(other));
	assert_int_equal(totp_secret_new(a), 0);
	assert_int_equal(totp_secret_new(b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(totp_seal(key, a, sealed), 0);
	assert_memory_not_equal(sealed + 12, a, sizeof(a));
	assert_int_equal(totp_open(key, sealed, sizeof(sealed), back), 0);
	assert_memory_equal(a, back, sizeof(a));
	assert_int_equal(totp_open(other, sealed, sizeof(sealed), back), -1);
	sealed[20] ^= 1;
	assert_int_equal(totp_open(key, sealed, sizeof(sealed), back), -1);
	assert_int_equal(totp_open(key, sealed, sizeof(sealed) - 1, back), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc6238_vectors), cmocka_unit_test(window_and_replay),
		cmocka_unit_test(base32),	   cmocka_unit_test(uri),
		cmocka_unit_test(secret_and_seal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
