/*
 * signature — LINE's webhook signature: X-Line-Signature is
 * base64(HMAC-SHA256(channel secret, raw request body)).
 *
 * Pure: bytes in, a verdict out, no I/O and no allocation, so that the
 * webhook checks it before it parses a single byte of the body, and unit
 * tests and the benchmark call it directly.  The secret is used as LINE
 * uses it: the channel secret string's bytes are the HMAC key (it is not
 * hex-decoded).  The comparison of the MACs is constant-time
 * (CRYPTO_memcmp), so response timing tells an attacker nothing about how
 * many bytes of a forged signature were right.
 */
#ifndef HL_SIGNATURE_H
#define HL_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>

/* Length of a signature header: base64 of 32 bytes, with one '='. */
#define SIGNATURE_B64_LEN 44

enum sig_result {
	SIG_OK = 0,
	SIG_MISSING,	/* no header, or an empty one */
	SIG_MALFORMED,	/* not 44 characters of padded standard base64 */
	SIG_MISMATCH,	/* well-formed, but not the body's HMAC with this secret */
	SIG_NO_SECRET,	/* the secret is empty: refuse everything */
	SIG_CRYPTO_ERR, /* OpenSSL failed (out of memory) */
};

/* Check header (NUL-terminated, may be NULL) against body[0..len). */
enum sig_result signature_verify(const char *secret, const void *body, size_t len,
				 const char *header) __attribute__((warn_unused_result));

/* The signature of body as base64 into out (at least SIGNATURE_B64_LEN + 1
 * bytes), for tests, benchmarks and tools; false when out is too small or
 * OpenSSL fails. */
bool signature_sign(const char *secret, const void *body, size_t len, char *out, size_t size)
	__attribute__((warn_unused_result));

/* A short English reason for logs and the 4xx body ("signature mismatch"). */
const char *signature_reason(enum sig_result r);

#endif
