/*
 * password — PBKDF2-HMAC-SHA256 hashing and verification; see password.h.
 */
#include "password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "str.h"

#define SALT_LEN 16
#define KEY_LEN	 32
#define PREFIX	 "pbkdf2-sha256$"

/* Standard base64 of n bytes (no newlines); false if out is too small. */
static bool b64_encode(const unsigned char *in, size_t n, char *out, size_t size)
{
	if (size < 4 * ((n + 2) / 3) + 1)
		return false;
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return true;
}

/* Decode exactly want bytes of base64. */
static bool b64_decode(const char *in, size_t inlen, unsigned char *out, size_t want)
{
	unsigned char buf[64];
	int n;

	if (inlen == 0 || inlen % 4 != 0 || inlen / 4 * 3 > sizeof(buf))
		return false;
	n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)inlen);
	if (n < 0)
		return false;
	/* EVP_DecodeBlock counts padding as zero bytes. */
	if (in[inlen - 1] == '=')
		n--;
	if (in[inlen - 2] == '=')
		n--;
	if ((size_t)n != want)
		return false;
	memcpy(out, buf, want);
	return true;
}

static bool derive(const char *password, const unsigned char *salt, unsigned iterations,
		   unsigned char key[KEY_LEN])
{
	return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, SALT_LEN, (int)iterations,
				 EVP_sha256(), KEY_LEN, key) == 1;
}

int password_hash_iter(const char *password, unsigned iterations, char out[PASSWORD_HASH_SIZE])
{
	unsigned char salt[SALT_LEN], key[KEY_LEN];
	char salt64[32], key64[48];
	int rc = -1;

	out[0] = '\0';
	if (strlen(password) > PASSWORD_MAX_LENGTH || iterations == 0)
		goto fail;
	if (RAND_bytes(salt, sizeof(salt)) != 1 || !derive(password, salt, iterations, key))
		goto fail;
	if (!b64_encode(salt, sizeof(salt), salt64, sizeof(salt64)) ||
	    !b64_encode(key, sizeof(key), key64, sizeof(key64)) ||
	    !str_printf(out, PASSWORD_HASH_SIZE, PREFIX "%u$%s$%s", iterations, salt64, key64))
		goto fail;
	rc = 0;
fail:
	str_wipe(key, sizeof(key));
	return rc;
}

int password_hash(const char *password, char out[PASSWORD_HASH_SIZE])
{
	return password_hash_iter(password, PASSWORD_ITERATIONS, out);
}

/* Split a stored hash; false when it is not exactly our format. */
static bool parse_stored(const char *stored, unsigned *iterations, unsigned char salt[SALT_LEN],
			 unsigned char key[KEY_LEN])
{
	const char *p, *d1, *d2;
	char num[16];
	long long it;

	if (strncmp(stored, PREFIX, strlen(PREFIX)) != 0)
		return false;
	p = stored + strlen(PREFIX);
	d1 = strchr(p, '$');
	if (d1 == NULL || (size_t)(d1 - p) >= sizeof(num))
		return false;
	memcpy(num, p, (size_t)(d1 - p));
	num[d1 - p] = '\0';
	if (!str_to_ll(num, PASSWORD_ITERATIONS_MIN, PASSWORD_ITERATIONS_MAX, &it))
		return false;
	d2 = strchr(d1 + 1, '$');
	if (d2 == NULL)
		return false;
	if (!b64_decode(d1 + 1, (size_t)(d2 - d1 - 1), salt, SALT_LEN) ||
	    !b64_decode(d2 + 1, strlen(d2 + 1), key, KEY_LEN))
		return false;
	*iterations = (unsigned)it;
	return true;
}

bool password_verify(const char *password, const char *stored)
{
	unsigned char salt[SALT_LEN], want[KEY_LEN], got[KEY_LEN];
	unsigned iterations;
	bool match = false;

	if (strlen(password) > PASSWORD_MAX_LENGTH ||
	    !parse_stored(stored, &iterations, salt, want))
		return false;
	if (derive(password, salt, iterations, got))
		match = CRYPTO_memcmp(got, want, KEY_LEN) == 0;
	str_wipe(got, sizeof(got));
	return match;
}

bool password_needs_rehash(const char *stored)
{
	unsigned char salt[SALT_LEN], key[KEY_LEN];
	unsigned iterations;

	return !parse_stored(stored, &iterations, salt, key) || iterations < PASSWORD_ITERATIONS;
}

const char *password_weakness(const char *password)
{
	size_t n = strlen(password), i;
	bool all_same = true;

	if (n < PASSWORD_MIN_LENGTH)
		return "パスワードは12文字以上にしてください。";
	if (n > PASSWORD_MAX_LENGTH)
		return "パスワードが長すぎます（1024バイトまで）。";
	for (i = 1; i < n; i++)
		if (password[i] != password[0])
			all_same = false;
	if (all_same)
		return "同じ文字だけのパスワードは使えません。";
	return NULL;
}
