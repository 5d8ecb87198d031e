/*
 * signature — X-Line-Signature verification; see signature.h.
 *
 * The header is decoded (strict base64, exactly 32 bytes) rather than our
 * MAC encoded and compared as text: a decoder that accepts only one
 * spelling of each MAC means there is exactly one accepted header per body,
 * and the raw comparison is a fixed 32 bytes.
 */
#include "signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#define MAC_LEN 32

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode the 44-character padded base64 of 32 bytes; false on anything
 * else, including non-zero bits in the last character's padding position
 * (a second spelling of the same bytes). */
static bool decode_mac(const char *s, unsigned char out[MAC_LEN])
{
	unsigned acc = 0;
	int bits = 0, v;
	size_t i, k = 0;

	if (strlen(s) != SIGNATURE_B64_LEN || s[SIGNATURE_B64_LEN - 1] != '=')
		return false;
	for (i = 0; i < SIGNATURE_B64_LEN - 1; i++) {
		if ((v = b64_value(s[i])) < 0)
			return false;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* 43 characters = 258 bits: 32 bytes and 2 bits that must be zero. */
	return k == MAC_LEN && acc == 0;
}

static bool mac(const char *secret, const void *body, size_t len, unsigned char out[MAC_LEN])
{
	unsigned int outlen = 0;

	if (HMAC(EVP_sha256(), secret, (int)strlen(secret), body, len, out, &outlen) == NULL)
		return false;
	return outlen == MAC_LEN;
}

enum sig_result signature_verify(const char *secret, const void *body, size_t len,
				 const char *header)
{
	unsigned char want[MAC_LEN], got[MAC_LEN];
	enum sig_result r;

	if (secret == NULL || *secret == '\0')
		return SIG_NO_SECRET;
	if (header == NULL || *header == '\0')
		return SIG_MISSING;
	if (!decode_mac(header, got))
		return SIG_MALFORMED;
	if (!mac(secret, body, len, want))
		return SIG_CRYPTO_ERR;
	r = CRYPTO_memcmp(want, got, MAC_LEN) == 0 ? SIG_OK : SIG_MISMATCH;
	OPENSSL_cleanse(want, sizeof(want));
	return r;
}

bool signature_sign(const char *secret, const void *body, size_t len, char *out, size_t size)
{
	unsigned char m[MAC_LEN];
	size_t i, k = 0;

	if (size < SIGNATURE_B64_LEN + 1 || secret == NULL || !mac(secret, body, len, m))
		return false;
	for (i = 0; i + 3 <= MAC_LEN; i += 3) {
		unsigned v = (unsigned)m[i] << 16 | (unsigned)m[i + 1] << 8 | m[i + 2];

		out[k++] = b64[v >> 18];
		out[k++] = b64[(v >> 12) & 63];
		out[k++] = b64[(v >> 6) & 63];
		out[k++] = b64[v & 63];
	}
	{
		/* 32 = 30 + 2: the last two bytes give three characters and '='. */
		unsigned v = (unsigned)m[30] << 16 | (unsigned)m[31] << 8;

		out[k++] = b64[v >> 18];
		out[k++] = b64[(v >> 12) & 63];
		out[k++] = b64[(v >> 6) & 63];
		out[k++] = '=';
	}
	out[k] = '\0';
	return true;
}

const char *signature_reason(enum sig_result r)
{
	switch (r) {
	case SIG_OK:
		return "ok";
	case SIG_MISSING:
		return "missing X-Line-Signature";
	case SIG_MALFORMED:
		return "X-Line-Signature is not base64 of 32 bytes";
	case SIG_MISMATCH:
		return "signature mismatch";
	case SIG_NO_SECRET:
		return "no channel secret";
	case SIG_CRYPTO_ERR:
		return "cannot compute the signature";
	}
	return "unknown";
}
