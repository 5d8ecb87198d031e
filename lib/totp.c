/*
 * totp — RFC 6238 codes, base32 secrets, otpauth URIs; see totp.h.
 */
#include "totp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

#include "str.h"

long totp_code_at(const unsigned char *key, size_t keylen, enum totp_hash hash, uint64_t step,
		  unsigned digits)
{
	const EVP_MD *md = hash == TOTP_SHA256	 ? EVP_sha256()
			   : hash == TOTP_SHA512 ? EVP_sha512()
						 : EVP_sha1();
	unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0, off;
	unsigned long bin, mod = 1;

	if (digits < 6 || digits > 8 || keylen > 1024)
		return -1;
	for (int i = 7; i >= 0; i--) {
		msg[i] = (unsigned char)(step & 0xff);
		step >>= 8;
	}
	if (HMAC(md, key, (int)keylen, msg, sizeof(msg), mac, &maclen) == NULL || maclen < 20)
		return -1;
	/* Dynamic truncation (RFC 4226 5.3). */
	off = mac[maclen - 1] & 0x0f;
	bin = ((unsigned long)(mac[off] & 0x7f) << 24) | ((unsigned long)mac[off + 1] << 16) |
	      ((unsigned long)mac[off + 2] << 8) | (unsigned long)mac[off + 3];
	for (unsigned i = 0; i < digits; i++)
		mod *= 10;
	return (long)(bin % mod);
}

uint64_t totp_step(long long t)
{
	return t < 0 ? 0 : (uint64_t)t / TOTP_STEP_SECONDS;
}

bool totp_verify(const unsigned char secret[TOTP_SECRET_SIZE], const char *code, long long now,
		 long long last_step, long long *matched)
{
	long want = 0;
	uint64_t step = totp_step(now);
	bool found = false;

	if (strlen(code) != TOTP_DIGITS)
		return false;
	for (size_t i = 0; i < TOTP_DIGITS; i++) {
		if (code[i] < '0' || code[i] > '9')
			return false;
		want = want * 10 + (code[i] - '0');
	}
	/* Every step of the window is computed, whatever matches, so the time
	 * taken does not tell which one did. */
	for (long long d = -TOTP_WINDOW; d <= TOTP_WINDOW; d++) {
		long long s = (long long)step + d;
		long got;

		if (s < 0)
			continue;
		got = totp_code_at(secret, TOTP_SECRET_SIZE, TOTP_SHA1, (uint64_t)s, TOTP_DIGITS);
		if (got >= 0 && got == want && s > last_step && !found) {
			*matched = s;
			found = true;
		}
	}
	return found;
}

int totp_secret_new(unsigned char secret[TOTP_SECRET_SIZE])
{
	return RAND_bytes(secret, TOTP_SECRET_SIZE) == 1 ? 0 : -1;
}

bool totp_base32(const unsigned char *in, size_t n, char *out, size_t size)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	size_t o = 0;
	unsigned buf = 0;
	int bits = 0;

	if (n > (SIZE_MAX - 5) / 8 || (n * 8 + 4) / 5 + 1 > size)
		return false;
	for (size_t i = 0; i < n; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = alphabet[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(buf << (5 - bits)) & 31];
	out[o] = '\0';
	return true;
}

/* %-encode s (RFC 3986 unreserved kept) onto out. */
static bool append_encoded(char *out, size_t size, size_t *len, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
			     *p == '~';
		if (!(plain ? str_appendf(out, size, len, "%c", *p)
			    : str_appendf(out, size, len, "%%%02X", *p)))
			return false;
	}
	return true;
}

bool totp_uri(const unsigned char secret[TOTP_SECRET_SIZE], const char *issuer, const char *account,
	      char *out, size_t size)
{
	char b32[TOTP_BASE32_SIZE];
	size_t len = 0;
	bool ok;

	if (size == 0 || !totp_base32(secret, TOTP_SECRET_SIZE, b32, sizeof(b32)))
		return false;
	out[0] = '\0';
	ok = str_appendf(out, size, &len, "otpauth://totp/") &&
	     append_encoded(out, size, &len, issuer) && str_appendf(out, size, &len, ":") &&
	     append_encoded(out, size, &len, account) &&
	     str_appendf(out, size, &len, "?secret=%s&issuer=", b32) &&
	     append_encoded(out, size, &len, issuer) &&
	     str_appendf(out, size, &len, "&algorithm=SHA1&digits=%d&period=%d", TOTP_DIGITS,
			 TOTP_STEP_SECONDS);
	str_wipe(b32, sizeof(b32));
	return ok;
}

int totp_seal(const unsigned char key[TOTP_KEY_SIZE], const unsigned char secret[TOTP_SECRET_SIZE],
	      unsigned char out[TOTP_SEALED_SIZE])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, rc = -1;

	if (ctx == NULL || RAND_bytes(out, 12) != 1)
		goto fail;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, out) != 1 ||
	    EVP_EncryptUpdate(ctx, out + 12, &n, secret, TOTP_SECRET_SIZE) != 1 ||
	    n != TOTP_SECRET_SIZE || EVP_EncryptFinal_ex(ctx, out + 12 + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out + 12 + TOTP_SECRET_SIZE) != 1)
		goto fail;
	rc = 0;
fail:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int totp_open(const unsigned char key[TOTP_KEY_SIZE], const unsigned char *sealed, size_t len,
	      unsigned char secret[TOTP_SECRET_SIZE])
{
	EVP_CIPHER_CTX *ctx;
	unsigned char tag[16];
	int n = 0, rc = -1;

	if (len != TOTP_SEALED_SIZE)
		return -1;
	ctx = EVP_CIPHER_CTX_new();
	memcpy(tag, sealed + 12 + TOTP_SECRET_SIZE, sizeof(tag));
	if (ctx == NULL || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, sealed) != 1 ||
	    EVP_DecryptUpdate(ctx, secret, &n, sealed + 12, TOTP_SECRET_SIZE) != 1 ||
	    n != TOTP_SECRET_SIZE || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1 ||
	    EVP_DecryptFinal_ex(ctx, secret + n, &n) != 1) {
		OPENSSL_cleanse(secret, TOTP_SECRET_SIZE);
		goto fail;
	}
	rc = 0;
fail:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}
